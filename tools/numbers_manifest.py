"""Where every checked number of README.md and docs/ comes from (read by tools/check_numbers.py).

``RESULTS``: the commands, each with what it costs, whether it is long (run only with
``--all``) and the folder of the repo that holds the same files (then the documents
are compared with that folder when the command does not run). ``ENTRIES``: one per
document block, naming the results it reads and how a table row is rebuilt from them.

Determinism: the CPU runs are compared exactly (to the decimals the document prints).
That holds for the same torch thread count (``threads``), the same machine or CPU kind
and the same torch build; with another thread count the numbers differ (README,
"Reproducibility"). Timings are compared within a relative tolerance, since the same
machine gives 10-40 % different seconds from one run to the next.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from check_numbers import Entry, Result, md_tables, numbers, text_table

METRICS = {'acc2': 'Acc-2', 'waf': 'WAF', 'mae': 'MAE', 'corr': 'Corr', 'acc': 'Acc'}
# the sentence-level metric set (rmnas_nni.metrics.DISPLAY_NAMES), as sweep.md prints it
METRICS.update({'acc7': 'Acc-7', 'acc5': 'Acc-5', 'acc3': 'Acc-3', 'acc2_has0': 'Acc-2 (has0)', 'f1_has0': 'F1 (has0)',
                'acc2_non0': 'Acc-2 (non0)', 'f1_non0': 'F1 (non0)', 'f1': 'F1'})
MOSI = 'rmnas sweep -c examples/mosi_dialogue.yml --seeds 0 1 2 --set threads=1 --quiet'
PEERS = Path(__file__).resolve().parents[1] / 'docs' / 'peers.md'
GCNET_CSV = 'docs/results/mosi_nas_baselines/gcnet_peers.csv'
# the baselines of docs/quality.md ran before search.min_epochs had its default of 10
# and before search.exclude_zero existed (then: false); their sweep.yaml says so
OLD_BASELINES = '--set search.random_k=3 --set search.min_epochs=0 --set search.exclude_zero=false'

# ----------------------------------------------------------------------------- commands

RESULTS = [
    Result('quickstart', 'rmnas run --set threads=1 --quiet --out {out}',
           'about 70 s on one core'),
    Result('quickstart_threads2', 'rmnas run --set threads=2 --quiet --out {out}',
           'about 70 s with 2 free cores; 15 minutes when another job holds one of them', long=True),
    Result('sweep_example',
           'rmnas sweep -c examples/quickstart.yml --rates 0 0.5 1.0 --seeds 0 1 --variants full no_lst '
           '--set search.epochs=4 --set retrain.epochs=15 --set threads=1 --quiet --out {out}',
           'about 8 minutes on one core'),
    # The sweep of docs/benchmarks.md section 6, with the defaults of 2026-11-26 (selection
    # on validation WAF, no minimum epochs, zero operations allowed at derivation).
    Result('mosi_sweep',
           'rmnas sweep -c examples/mosi_dialogue.yml --rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 '
           '--seeds 0 1 2 --variants full no_lst --set threads=1 --set select_metric=waf '
           '--set search.min_epochs=0 --set retrain.min_epochs=0 --set search.exclude_zero=false '
           '--quiet --out {out}',
           '48 runs, about 25 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_dialogue_sweep'),
    Result('mosi_sweep_paper_space',
           'rmnas sweep -c examples/mosi_dialogue.yml --set search_space=rmnas --set threads=2 '
           '--rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 --seeds 0 --variants full --set select_metric=waf '
           '--set search.min_epochs=0 --set retrain.min_epochs=0 --set search.exclude_zero=false '
           '--quiet --out {out}',
           '8 runs of the paper-sized space, about 60 minutes on 2 cores (threads=2, as measured); '
           'reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_dialogue_sweep_paper_space'),
    Result('mosi_nas_baselines',
           f'{MOSI} --variants full --out {{out}}/best_nozero && '
           f'{MOSI} --variants hand_designed random_arch {OLD_BASELINES} --out {{out}}/final_baselines && '
           f'{MOSI} --variants random_search {OLD_BASELINES} --out {{out}}/final_rsearch && '
           'python bench/merge_sweeps.py --out {out} RMNAS={out}/best_nozero:full {out}/final_baselines '
           'random_search={out}/final_rsearch:random_search '
           f'--baseline GCNet={GCNET_CSV} --paired waf',
           '4 x 24 runs, about 2 hours on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_nas_baselines'),
    Result('mosi_lst_ablation',
           f'{MOSI} --variants full --out {{out}}/best_nozero && '
           f'{MOSI} --variants no_lst --out {{out}}/no_lst && '
           'python bench/merge_sweeps.py --out {out} RMNAS={out}/best_nozero:full {out}/no_lst',
           '2 x 24 runs, about 50 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_lst_ablation'),
    Result('selection_rules',
           'mkdir -p {out} && '
           'python bench/selection_rules.py --epochs 60 --set retrain.lr=1e-3 --set threads=1 --out {out}/lr1e-3.json && '
           'python bench/selection_rules.py --analyse {out}/lr1e-3.json > {out}/lr1e-3.md && '
           'python bench/selection_rules.py --epochs 60 --set retrain.lr=5e-4 --set threads=1 --out {out}/lr5e-4.json && '
           'python bench/selection_rules.py --analyse {out}/lr5e-4.json > {out}/lr5e-4.md',
           '2 x 9 runs of 60 epochs, about 30 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/selection_rules'),
    Result('tried_screening',
           f'{MOSI} --rates 0.2 0.6 --variants full --set retrain.min_epochs=10 --set select_metric=waf '
           '--set search.min_epochs=0 --set search.exclude_zero=false --out {out}/A && '
           f'{MOSI} --rates 0.2 0.6 --variants full --set retrain.min_epochs=10 --set select_metric=mae '
           '--set search.exclude_zero=false --out {out}/B && '
           'python bench/tried_table.py "A: export best, select WAF (as landed)={out}/A" '
           '"B: export best, select MAE, search.min_epochs 10={out}/B" > {out}/tried.md',
           '2 x 6 runs, about 10 minutes on one core; reads data/cmu-mosi-utterances', long=True),
    Result('tried_24_cells',
           f'{MOSI} --variants full --set search.exclude_zero=false --out {{out}}/best && '
           f'{MOSI} --variants full --out {{out}}/best_nozero && '
           f'{MOSI} --variants full --set search.export=final --set search.min_epochs=0 '
           '--set search.exclude_zero=false --out {out}/final && '
           f'{MOSI} --variants full --set search.export=final --set search.min_epochs=0 --out {{out}}/final_nozero && '
           f'{MOSI} --variants hand_designed random_arch {OLD_BASELINES} --out {{out}}/baselines && '
           f'{MOSI} --variants random_search {OLD_BASELINES} --out {{out}}/rsearch && '
           'python bench/tried_table.py "export best, argmax={out}/best" '
           '"export best, exclude_zero (chosen)={out}/best_nozero" '
           '"export final (20 epochs), argmax={out}/final" "export final, exclude_zero={out}/final_nozero" '
           '"hand_designed (no search)={out}/baselines:hand_designed" '
           '"random_arch (best of 3 on validation)={out}/baselines:random_arch" '
           '"random_search (3 draws, search budget)={out}/rsearch:random_search" > {out}/tried.md',
           '6 x 24 runs, about 3 hours on one core; reads data/cmu-mosi-utterances', long=True),
    Result('mosi_3class',
           'rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 --variants full '
           '--set threads=1 --set search.exclude_zero=false --quiet --out {out}/full && '
           'rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 '
           '--variants hand_designed random_arch --set threads=1 --set search.random_k=3 --set search.min_epochs=0 '
           '--set search.exclude_zero=false --quiet --out {out}/baselines && '
           'python bench/merge_sweeps.py --out {out} RMNAS={out}/full:full {out}/baselines',
           '18 runs, about 20 minutes on one core; reads data/cmu-mosi-utterances', long=True),
    Result('fusion_gates',
           'for sel in one_of_n gates; do for der in argmax threshold; do '
           'rmnas sweep -c examples/mosi_dialogue.yml --rates 0.5 --seeds 0 1 2 --set threads=1 '
           '--set space.fusion.input_selection=$sel --set search.derive=$der --set select_metric=waf '
           '--set search.min_epochs=0 --set retrain.min_epochs=0 --set search.exclude_zero=false '
           '--quiet --out {out}/$sel-$der || exit 1; done; done',
           '12 runs, about 15 minutes on one core; reads data/cmu-mosi-utterances', long=True),
    Result('mosi_mid_nas_baselines',
           f'{MOSI} --variants full hand_designed random_arch --set search_space=mid --set search.random_k=3 '
           '--out {out}/mid_sweep && '
           'python bench/merge_sweeps.py --out {out} RMNAS={out}/mid_sweep:full {out}/mid_sweep:hand_designed '
           f'{{out}}/mid_sweep:random_arch --paired waf --baseline GCNet={GCNET_CSV}',
           '3 x 24 runs of the mid-sized space, about 85 minutes on one core; reads data/cmu-mosi-utterances',
           long=True, committed='docs/results/mosi_mid_nas_baselines'),
    Result('warmup_24_cells',
           f'{MOSI} --variants full --out {{out}}/best_nozero && '
           f'{MOSI} --variants full --set strategy_config.options.warmup_epochs=5 --out {{out}}/warmup5 && '
           'python bench/tried_table.py "export best, exclude_zero (defaults)={out}/best_nozero:full" '
           '"defaults + 5 warm-up epochs (options.warmup_epochs 5)={out}/warmup5:full" > {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} defaults={out}/best_nozero:full warmup5={out}/warmup5:full '
           '--paired waf',
           '2 x 24 runs, about 40 minutes on one core; reads data/cmu-mosi-utterances', long=True),
    Result('sweep_jobs', 'python bench/sweep_jobs.py --jobs-list 1 2 --rates 0 0.3 0.5 0.7 --seeds 0 '
           '--json {out}/sweep_jobs.json',
           '2 x 4 MOSI cells, about 5 minutes (timings: compared within 30 %)', long=True, committed='bench/results'),
    Result('pom_sentence_sweep',
           'python bench/pom_peers.py --rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0 --seeds 0 1 2 --out {out}/peers && '
           'rmnas sweep -c examples/pom_sentence.yml --rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0 --seeds 0 1 2 '
           '--variants full no_lst hand_designed --set threads=1 --baseline ridge={out}/peers/ridge.csv '
           '--baseline late_fusion={out}/peers/late_fusion.csv --quiet --out {out}',
           '99 runs and the two peers, about 75 minutes on one core; reads data/pom', long=True,
           committed='docs/results/pom_sentence_sweep'),
    Result('param_count', 'python bench/param_count.py --json {out}/param_count.json',
           'about 20 s', committed='bench/results'),
    Result('bench', 'OUT={out} bench/all',
           'about 21 minutes on one core (timings: compared within 30 %)', long=True,
           committed='bench/results'),
    Result('mosi_mid_validation_policies',
           f'{MOSI} --variants full hand_designed random_arch --set search_space=mid --set search.random_k=3 '
           '--out {out}/mid_sweep && '
           f'python bench/validation_policies.py --sweep {{out}}/mid_sweep --out {{out}} --baseline GCNet={GCNET_CSV}',
           '3 x 24 runs of the mid-sized space (about 85 minutes on one core), then about 35 s of evaluation; '
           'reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_mid_nas_baselines'),
]

# ----------------------------------------------------------------------------- reading results


def rate_label(r: float) -> str:
    return f'{r:g}'


def _f(v: str) -> Optional[float]:
    if v is None or v == '':
        return None
    x = float(v)
    return None if math.isnan(x) else x


class Sweep:
    """A sweep's (or merged table's) long-form CSV: ``variant, rate, seed, stat`` and metrics."""

    def __init__(self, path: Path):
        with open(path, newline='') as fh:
            self.rows = list(csv.DictReader(fh))
        self.metrics = [c for c in self.rows[0] if c not in ('variant', 'rate', 'seed', 'stat')]
        self.variants = list(dict.fromkeys(r['variant'] for r in self.rows))

    def get(self, variant, stat, metric, rate=None, seed=None) -> Optional[float]:
        for r in self.rows:
            if (r['variant'] == variant and r['stat'] == stat
                    and (rate is None or (r['rate'] != '' and abs(float(r['rate']) - rate) < 1e-9))
                    and (seed is None or r['seed'] == str(seed))):
                return _f(r[metric])
        return None

    def rates(self, variant) -> List[float]:
        return sorted({float(r['rate']) for r in self.rows if r['variant'] == variant and r['stat'] == 'value'})

    def seeds(self, variant, rate=None) -> List[str]:
        return sorted({r['seed'] for r in self.rows if r['variant'] == variant and r['stat'] == 'value'
                       and (rate is None or abs(float(r['rate']) - rate) < 1e-9)})

    def mean_std(self, variant, metric, stat, rate=None):
        """(mean, std) as sweep.md prints it; the mean alone for one seed or no std."""
        m = self.get(variant, stat, metric, rate=rate)
        s = self.get(variant, {'mean': 'std'}.get(stat, stat + ' std'), metric, rate=rate)
        if m is None:
            return None
        return m if s is None or len(self.seeds(variant)) < 2 else (m, s)

    def seed_auilc(self, variant, metric, seed) -> float:
        rates = self.rates(variant)
        v = [self.get(variant, 'value', metric, rate=r, seed=seed) for r in rates]
        return sum((rates[i + 1] - rates[i]) * (v[i] + v[i + 1]) / 2 for i in range(len(rates) - 1))


def sweep_md_rows(path: Path, cells: bool = True) -> Dict[Tuple[str, ...], Dict[str, object]]:
    """What sweep.md (``cells``: with its table of every cell) or merge_sweeps's table.md
    print, rebuilt from the CSV."""
    s = Sweep(path)
    out: Dict[Tuple[str, ...], Dict[str, object]] = {}
    for v in s.variants:
        for r in s.rates(v):
            out[(v, rate_label(r))] = dict({'seeds': len(s.seeds(v, r))},
                                           **{METRICS[m]: s.mean_std(v, m, 'mean', rate=r) for m in s.metrics})
            for seed in (s.seeds(v, r) if cells else ()):
                out[(v, rate_label(r), seed)] = {METRICS[m]: s.get(v, 'value', m, rate=r, seed=seed)
                                                 for m in s.metrics}
        for stat in ('AUILC', 'mean over rates'):
            if any(s.get(v, stat, m) is not None for m in s.metrics):
                out[(v, stat)] = {METRICS[m]: s.mean_std(v, m, stat) for m in s.metrics}
    return out


def paired(s: Sweep, ref: str, other: str, metric: str) -> Tuple[float, float, List[float]]:
    seeds = s.seeds(ref)
    d = [s.seed_auilc(ref, metric, x) - s.seed_auilc(other, metric, x) for x in seeds]
    mean = sum(d) / len(d)
    std = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1))
    return mean, std, d


def paired_rows(path: Path, ref: str = 'RMNAS', metric: str = 'waf'):
    s = Sweep(path)
    out = {}
    for v in s.variants:
        if v == ref or len(s.seeds(v)) < 2:
            continue
        mean, std, d = paired(s, ref, v, metric)
        out[(v,)] = {'seeds': len(d), f'paired {metric} AUILC difference (mean ± std)': (mean, std), 'per seed': d}
    return out


def md_rows(text: str, keys) -> Dict[Tuple[str, ...], Dict[str, object]]:
    """The numbers of every cell of the Markdown tables of a text, keyed by the key columns."""
    out = {}
    for header, rows in md_tables(text):
        idx = [header.index(k) for k in keys if k in header]
        if not idx:
            continue
        for row in rows:
            out.setdefault(tuple(row[i] for i in idx), {}).update(
                {h: [n.value for n in numbers(c)] or None for n_, (h, c) in enumerate(zip(header, row))
                 if n_ not in idx})
    return out


def peers() -> Dict[Tuple[str, ...], Dict[str, object]]:
    """The peers' table of docs/peers.md (measured by the peers' own code, outside this repo)."""
    return md_rows(PEERS.read_text(), ('model',))


def gcnet_waf() -> Dict[float, float]:
    with open(Path(__file__).resolve().parents[1] / GCNET_CSV, newline='') as fh:
        return {float(r['rate']): float(r['waf']) for r in csv.DictReader(fh)}


# ----------------------------------------------------------------------------- sources of the blocks

def src_quickstart(ctx):
    return {k: {c: [n.value for n in v] for c, v in row.items()}
            for k, row in text_table(ctx.stdout('quickstart'), ('valid (best epoch)', 'test')).items()}


def _floats(d, out=None) -> List[float]:
    out = [] if out is None else out
    for v in (d.values() if isinstance(d, dict) else d):
        if isinstance(v, (dict, list)):
            _floats(v, out)
        elif isinstance(v, float):
            out.append(v)
    return out


def src_readme_threads(ctx):
    """README, Reproducibility: the quick start with 1 and with 2 torch threads."""
    one, two = ctx.path('quickstart'), ctx.path('quickstart_threads2')
    mae = [json.loads((d / 'metrics.json').read_text())['test']['mae'] for d in (one, two)]
    probs = [_floats(json.loads((d / 'arch_probs.json').read_text())) for d in (one, two)]
    return [mae[0], 'threads=1', mae[1], 'threads=2', max(abs(a - b) for a, b in zip(*probs))]


def src_sweep_example(ctx):
    return md_rows((ctx.path('sweep_example') / 'sweep.md').read_text(), ('variant', 'rate', 'seed'))


def src_results_sweep(name):
    return lambda ctx: sweep_md_rows(ctx.path(name) / 'sweep.csv')


def src_results_table(name):
    def f(ctx):
        out = sweep_md_rows(ctx.path(name) / 'table.csv', cells=False)
        out.update(paired_rows(ctx.path(name) / 'table.csv'))
        return out
    return f


AUILC_COLS = {'Acc-2 AUILC': 'acc2', 'WAF AUILC': 'waf', 'MAE AUILC ↓': 'mae', 'Corr AUILC': 'corr'}


def _bench6_row(s: Sweep, v: str):
    row = {'seeds': len(s.seeds(v)),
           'Acc-2 r=0': s.mean_std(v, 'acc2', 'mean', rate=0.0),
           'Acc-2 r=0.7': s.mean_std(v, 'acc2', 'mean', rate=0.7),
           'Acc-2 mean': s.mean_std(v, 'acc2', 'mean over rates')}
    row.update({c: s.mean_std(v, m, 'AUILC') for c, m in AUILC_COLS.items()})
    return row


def src_bench6_main(ctx):
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    out = {('RMNAS (full)',): _bench6_row(s, 'full'), ('RMNAS without LST',): _bench6_row(s, 'no_lst')}
    out.update(peers())
    return out


def src_bench6_waf(ctx):
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    g = gcnet_waf()
    rates = s.rates('full')
    full = {rate_label(r): s.get('full', 'mean', 'waf', rate=r) for r in rates}
    nolst = {rate_label(r): s.get('no_lst', 'mean', 'waf', rate=r) for r in rates}
    gc = {rate_label(r): g[r] for r in rates}
    return {('RMNAS (full)',): full, ('without LST',): nolst, ('GCNet',): gc,
            ('full − GCNet',): {k: full[k] - gc[k] for k in full},
            ('without LST − GCNet',): {k: nolst[k] - gc[k] for k in nolst}}


def src_bench6_paper(ctx):
    p = Sweep(ctx.path('mosi_sweep_paper_space') / 'sweep.csv')
    c = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    out = {}
    for s, space in ((p, 'paper space'), (c, 'CPU-sized space')):
        for m in ('acc2', 'waf'):
            row = {rate_label(r): s.get('full', 'value', m, rate=r, seed='0') for r in s.rates('full')}
            row['AUILC'] = s.seed_auilc('full', m, '0')
            out[(f'{METRICS[m]}, {space}, seed 0',)] = row
    return out


def src_bench_goals(ctx):
    d = ctx.path('bench')
    g = {name: json.loads((d / f'{name}.json').read_text())['goals']
         for name in ('lst_cost', 'nni_overhead', 'search_vs_retrain', 'roofline')}
    sc = json.loads((d / 'scaling.json').read_text())['rows']
    k = {r['model']: r['exponent_time'] for r in sc if 'exponent_time' in r and r.get('batch') == 8}
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    p = Sweep(ctx.path('mosi_sweep_paper_space') / 'sweep.csv')
    row = lambda x: {'measured': x['value'], 'goal': x['goal']}   # noqa: E731
    full_acc, full_waf = s.mean_std('full', 'acc2', 'AUILC'), s.mean_std('full', 'waf', 'AUILC')
    peer = peers()
    above = sum(1 for v in peer.values() if v['Acc-2 AUILC'][0] < full_acc[0] and v['WAF AUILC'][0] < full_waf[0])
    return {
        ('1', 'Algorithm 1 loop / vectorised sentiment trends, N = 256, batch 8'): row(g['lst_cost'][0]),
        ('1', 'Algorithm 1 loop / whole LST.forward, N = 256, batch 8'): row(g['lst_cost'][1]),
        ('1', "LST's share of one supernet forward, MOSI-sized inputs"): row(g['lst_cost'][2]),
        ('2', 'NNI DARTS search epoch / hand-written first-order bilevel epoch'): row(g['nni_overhead'][0]),
        ('3', 'supernet weight step / fixed all-attention step, paper dims, batch 8'): row(g['search_vs_retrain'][0]),
        ('3', 'supernet search step (architecture + weight) / fixed step'): row(g['search_vs_retrain'][1]),
        ('4', 'fixed-network step FLOP/s / fp32 matmul FLOP/s'): row(g['roofline'][0]),
        ('5', 'time exponent in N (fixed / supernet, batch 8)'): {'measured': [k['fixed'], k['supernet']]},
        ('6', 'RMNAS AUILC of Acc-2 / WAF on real MOSI vs the best peer (GCNet 51.89 / 52.00)'): {
            'measured': [*full_acc, *full_waf, len(s.seeds('full')), len(p.seeds('full')),
                         p.get('full', 'AUILC', 'acc2'), p.get('full', 'AUILC', 'waf')],
            'met': [above, len(peer)]},
    }


def src_readme_mosi(ctx):
    """README, "Real CMU-MOSI, dialogue level": the paragraph after the commands."""
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    p = Sweep(ctx.path('mosi_sweep_paper_space') / 'sweep.csv')
    peer = peers()
    acc, waf = s.mean_std('full', 'acc2', 'AUILC'), s.mean_std('full', 'waf', 'AUILC')
    gc = peer[('GCNet (TPAMI 2023)',)]
    others = [v for k, v in peer.items() if k != ('GCNet (TPAMI 2023)',)]
    margins = [acc[0] - v['Acc-2 AUILC'][0] for v in others] + [waf[0] - v['WAF AUILC'][0] for v in others]
    rates = s.rates('full')
    return [rates[0], rates[-1], len(s.seeds('full')), *acc, *waf, gc['Acc-2 AUILC'][0], gc['WAF AUILC'][0],
            min(margins), max(margins), s.get('no_lst', 'AUILC', 'acc2'), s.get('no_lst', 'AUILC', 'waf'),
            'minutes per run: wall time, not compared', 'minutes per run: wall time, not compared',
            p.get('full', 'AUILC', 'acc2'), p.get('full', 'AUILC', 'waf'), 'a section number']


def src_bench_nni_overhead(ctx):
    d = json.loads((ctx.path('bench') / 'nni_overhead.json').read_text())
    m = next(r for r in d['rows'] if r.get('rep') == 'median')
    return {('hand-written bilevel loop',): {'seconds per epoch (median)': m['hand_epoch_s'],
                                             'ratio to hand-written': 1},
            ("NNI + Lightning (the project's path)",): {'seconds per epoch (median)': m['nni_epoch_s'],
                                                       'ratio to hand-written': [m['ratio'], m['ratio_cpu']]},
            ('the whole run_search call (Trainer set-up, export)',): {
                'seconds per epoch (median)': m['nni_call_s'], 'ratio to hand-written': m['ratio_call']},
            ('NNI with its own log_probs (one self.log per choice value)',): {
                'seconds per epoch (median)': m['nni_stock_log_epoch_s'],
                'ratio to hand-written': m['ratio_stock_log']}}


def src_bench_search_vs_retrain(ctx):
    rows = json.loads((ctx.path('bench') / 'search_vs_retrain.json').read_text())['rows']
    t = next(r for r in rows if r['measure'] == 'time')
    mem = {r['model']: r for r in rows if r['measure'] == 'memory'}
    gib = 1 / 1024
    tensors = 'tensors of one step alive at once (+ weights and AdamW state)'
    return {
        ('fixed all-attention network (weight step)',): {
            'parameters': t['fixed_params'] / 1e6, 'seconds per step': t['fixed_step_median_s'], 'ratio': 1,
            'peak RSS': mem['fixed']['peak_rss_mb'] * gib,
            tensors: [mem['fixed']['peak_live_tensor_mb'] * gib, mem['fixed']['weights_and_adamw_state_mb'] * gib]},
        ('supernet, weight step',): {
            'parameters': t['supernet_params'] / 1e6, 'seconds per step': t['supernet_weight_step_median_s'],
            'ratio': t['ratio_weight_step'], 'peak RSS': mem['supernet']['peak_rss_mb'] * gib,
            tensors: [mem['supernet']['peak_live_tensor_mb'] * gib,
                      mem['supernet']['weights_and_adamw_state_mb'] * gib]},
        ('supernet, search step (architecture + weight)',): {
            'seconds per step': t['supernet_search_step_median_s'], 'ratio': t['ratio_search_step']},
        ("the same with NNI's own architecture step",): {
            'seconds per step': t['supernet_search_step_nni_arch_step_median_s'],
            'ratio': t['ratio_search_step_nni_arch_step']},
    }


def src_bench_scaling(ctx):
    rows = json.loads((ctx.path('bench') / 'scaling.json').read_text())['rows']
    out = {}
    for r in rows:
        if 'exponent_time' in r and r.get('batch') is not None:
            step = next(x for x in rows if x.get('model') == r['model'] and x.get('batch') == r['batch']
                        and x.get('scale') == 1.0)
            out[(r['model'], str(r['batch']))] = {
                'time k': r['exponent_time'], 'peak live tensors k': r['exponent_live_tensor_memory'],
                'step at N = 500': step['step_s'], 'live tensors at N = 500': step['peak_live_tensor_mb']}
    return out


def src_bench_sweep_jobs(ctx):
    rows = json.loads((ctx.path('sweep_jobs') / 'sweep_jobs.json').read_text())['rows']
    return {(str(r['jobs']),): {'cells': r['cells'], 'seconds': r['seconds'], 'cells/hour': r['cells_per_hour'],
                                'speed-up': r['speedup'], 'load before': r['load_before']} for r in rows}


def src_readme_param_count(ctx):
    """README, "Parameter count of the paper's space": the MOSI sizes, then the three counts."""
    r = json.loads((ctx.path('param_count') / 'param_count.json').read_text())
    return [768, 50, 5, 375, 20, 500, r['supernet_parameters'], r['fixed_attention_parameters'],
            r['random_mixing_buffer_values'], "the paper's figure, not compared",
            round(63.8 - r['supernet_parameters'] / 1e6)]


def src_bench_lst(ctx):
    d = json.loads((ctx.path('bench') / 'lst_cost.json').read_text())
    out = {}
    for r in d['rows']:
        if 'vectorised_trends_s' not in r:
            continue
        loop = r['loop_full_s'] if r.get('loop_source') == 'full' else r['loop_estimate_s']
        out[(str(r['n']),)] = {
            'vectorised trends': r['vectorised_trends_s'] * 1e3, 'whole LST.forward': r['lst_forward_s'] * 1e3,
            'Algorithm 1': loop if loop >= 0.1 else loop * 1e3,
            'loop / trends': r['ratio_loop_over_trends'], 'loop / LST.forward': r['ratio_loop_over_lst_forward'],
            'LST peak memory / its output (previous version)': [r['lst_forward_peak_over_output'],
                                                                r['previous_lst_forward_peak_over_output']]}
    return out


def src_quality_main(ctx, name='mosi_nas_baselines', names=None):
    s = Sweep(ctx.path(name) / 'table.csv')

    def row(sw, v):
        r = {c: sw.mean_std(v, m, 'AUILC') for c, m in AUILC_COLS.items()}
        r['WAF r = 0'] = sw.mean_std(v, 'waf', 'mean', rate=0.0)
        r['WAF r = 0.7'] = sw.mean_std(v, 'waf', 'mean', rate=0.7)
        return r
    out = {(label,): row(s, v) for label, v in names.items()}
    return out


def src_quality_nas(ctx):
    out = src_quality_main(ctx, 'mosi_nas_baselines', {
        'RMNAS (searched, tiny space)': 'RMNAS', 'hand-designed network (no search)': 'hand_designed',
        'random_arch: best of 3 on validation': 'random_arch', 'random_arch: median of 3': 'random_arch (median)',
        "random_search (3 draws at the search's budget)": 'random_search'})
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    landed = {c: s.mean_std('full', m, 'AUILC') for c, m in AUILC_COLS.items()}
    landed['WAF r = 0'] = s.mean_std('full', 'waf', 'mean', rate=0.0)
    landed['WAF r = 0.7'] = s.mean_std('full', 'waf', 'mean', rate=0.7)
    out[('RMNAS as landed before (WAF selection, docs/results/mosi_dialogue_sweep)',)] = landed
    peer, g = peers(), gcnet_waf()
    for label, model in (('GCNet (peers.md)', 'GCNet (TPAMI 2023)'),
                         ('Ridge on concatenated features (peers.md)', 'Ridge on concatenated features'),
                         ('TFN (MMSA, peers.md)', 'TFN (MMSA)'), ('LF-DNN (MMSA, peers.md)', 'LF-DNN (MMSA)')):
        out[(label,)] = {c: peer[(model,)][c] for c in AUILC_COLS}
    out[('GCNet (peers.md)',)].update({'WAF r = 0': g[0.0], 'WAF r = 0.7': g[0.7]})
    return out


PAIRED_OTHERS = (('hand-designed', 'hand_designed'), ('random_arch, best of 3', 'random_arch'),
                 ('random_arch, median', 'random_arch (median)'))


def src_paired(name, others=PAIRED_OTHERS):
    """A "RMNAS minus the other" table: paired WAF AUILC differences read from a merged ``table.csv``."""
    def f(ctx):
        s = Sweep(ctx.path(name) / 'table.csv')
        out = {}
        for label, v in others:
            mean, std, d = paired(s, 'RMNAS', v, 'waf')
            out[(label,)] = {'mean ± std': (mean, std), 'per seed (0, 1, 2)': d}
        return out
    return f


def src_quality_lst(ctx):
    return src_quality_main(ctx, 'mosi_lst_ablation', {'RMNAS (with LST)': 'RMNAS',
                                                       'without LST (no_lst)': 'no_lst'})


def src_quality_rules(ctx):
    d = ctx.path('selection_rules')
    cols = ('cross-fold val WAF', 'cross-fold val MAE', 'mean epoch kept', 'test WAF', 'test MAE')
    out = {}
    for label, (lr, sel, pat, mn) in {
            'lr 1e-3, select WAF, patience 8 (as landed)': ('1e-3', 'waf', '8', '0'),
            'lr 1e-3, select MAE, patience 8, min epochs 10': ('1e-3', 'mae', '8', '10'),
            'lr 1e-3, select MAE, no early stop (best of 60)': ('1e-3', 'mae', 'none', '0'),
            'lr 5e-4, select WAF, patience 8': ('5e-4', 'waf', '8', '0'),
            'lr 5e-4, select MAE, patience 8, min epochs 10': ('5e-4', 'mae', '8', '10')}.items():
        rows = md_rows((d / f'lr{lr}.md').read_text(), ('select on', 'patience', 'min epochs'))
        out[(label,)] = {c: rows[(sel, pat, mn)][c] for c in cols}
    return out


def src_quality_tried(name):
    return lambda ctx: md_rows((ctx.path(name) / 'tried.md').read_text(), ('configuration',))


def src_quality_mid(ctx):
    return src_quality_main(ctx, 'mosi_mid_nas_baselines', {
        'RMNAS (searched, mid space)': 'RMNAS', 'hand-designed network (no search)': 'hand_designed',
        'random_arch: best of 3 on validation': 'random_arch', 'random_arch: median of 3': 'random_arch (median)'})


def src_quality_warmup(ctx):
    out = md_rows((ctx.path('warmup_24_cells') / 'tried.md').read_text(), ('configuration',))
    s = Sweep(ctx.path('warmup_24_cells') / 'table.csv')
    for label, v in (('export best, exclude_zero (defaults)', 'defaults'),
                     ('defaults + 5 warm-up epochs (options.warmup_epochs 5)', 'warmup5')):
        out[(label,)]['test WAF AUILC'] = s.mean_std(v, 'waf', 'AUILC')
    return out


def src_quality_3class(ctx):
    s = Sweep(ctx.path('mosi_3class') / 'table.csv')
    out = {}
    for label, v in (('RMNAS', 'RMNAS'), ('hand-designed', 'hand_designed'),
                     ('random_arch, best of 3', 'random_arch'), ('random_arch, median', 'random_arch (median)')):
        out[(label,)] = {f'{METRICS[m]} r = {rate_label(r)}': s.mean_std(v, m, 'mean', rate=r)
                         for m in ('acc', 'waf') for r in (0.0, 0.7)}
    return out


def _mean_std(v: List[float]):
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return m, sd


def src_fusion_gates(ctx):
    """docs/results/fusion_gates_derivation.md: both tables, from the cells of the four sweeps."""
    import re
    out = {}
    for sel in ('one_of_n', 'gates'):
        for der in ('argmax', 'threshold'):
            cells = sorted((ctx.path('fusion_gates') / f'{sel}-{der}' / 'cells' / 'full').glob('r0.5-s*'))
            ms = [json.loads((c / 'metrics.json').read_text()) for c in cells]
            archs = [json.loads((c / 'arch.json').read_text()) for c in cells]
            taken, multi = [], []
            for a in archs:
                slots: Dict[str, int] = {}
                for k, v in a.items():
                    g = re.match(r'(fusion/cell\d+/input\d+)(/cand\d+)?$', k)
                    if g and g.group(2):
                        slots[g.group(1)] = slots.get(g.group(1), 0) + (v == 'identity' or (
                            isinstance(v, list) and 'identity' in v))
                    elif g:
                        slots[g.group(1)] = len(v) if isinstance(v, list) else 1
                taken.append(sum(slots.values()) / len(slots))
                multi.append(sum(1 for k, v in a.items() if k.endswith(('/mixer', '/op'))
                                 and isinstance(v, list) and len(v) > 1))
            row = {'valid WAF': _mean_std([m['valid']['waf'] for m in ms]),
                   'test WAF': _mean_std([m['test']['waf'] for m in ms]),
                   'test Acc-2': _mean_std([m['test']['acc2'] for m in ms]),
                   'test MAE': _mean_std([m['test']['mae'] for m in ms])}
            for col, v in (('Cell inputs taken', taken), ('choices keeping > 1', multi)):
                m, sd = _mean_std(v)
                row[col] = m if sd == 0 else (m, sd)
            row.update({f'seed {i}': m['valid']['waf'] for i, m in enumerate(ms)})
            out[(sel, der)] = row
    return out


def src_fusion_gates_default(ctx):
    """Its default row's test columns are the stored sweep's r = 0.5 cells (the options off change nothing)."""
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    return {('one_of_n', 'argmax'): {'test WAF': s.mean_std('full', 'waf', 'mean', rate=0.5),
                                     'test Acc-2': s.mean_std('full', 'acc2', 'mean', rate=0.5),
                                     'test MAE': s.mean_std('full', 'mae', 'mean', rate=0.5)}}


POLICIES = 'mosi_mid_validation_policies'


def src_quality_mid_policies(ctx):
    """docs/quality.md, validation-only policies: the AUILC table, from validation_policies.csv."""
    s = Sweep(ctx.path(POLICIES) / 'validation_policies.csv')
    out = {}
    for v in s.variants:
        r = {c: s.mean_std(v, m, 'AUILC') for c, m in AUILC_COLS.items()}
        r['WAF r = 0'] = s.mean_std(v, 'waf', 'mean', rate=0.0)
        r['WAF r = 0.7'] = s.mean_std(v, 'waf', 'mean', rate=0.7)
        out[(v,)] = r
    return out


def src_quality_mid_policies_waf(ctx):
    """Test WAF per rate of every row but the random median (in the AUILC table only)."""
    s = Sweep(ctx.path(POLICIES) / 'validation_policies.csv')
    return {(v,): {f'r = {rate_label(r)}': s.mean_std(v, 'waf', 'mean', rate=r) for r in s.rates(v)}
            for v in s.variants if v != 'random_arch (median)'}


POLICY_PAIRS = ([(p, ref) for ref in ('RMNAS', 'hand_designed') for p in (
    'fallback (RMNAS or hand)', 'fallback (of 5)', 'ensemble (RMNAS + hand)', 'ensemble (RMNAS + hand + random)',
    'ensemble (hand + random)')] + [('ensemble (RMNAS + hand)', 'ensemble (hand + random)')])


def src_quality_mid_policies_paired(ctx):
    s = Sweep(ctx.path(POLICIES) / 'validation_policies.csv')
    out = {}
    for a, b in POLICY_PAIRS:
        mean, std, d = paired(s, a, b, 'waf')
        out[(a, b)] = {'mean ± std': (mean, std), 'per seed (0, 1, 2)': d}
    return out


def src_quality_mid_policies_tried(ctx):
    """Validation beside test, mean over the cells of validation_policies_cells.csv."""
    s = Sweep(ctx.path(POLICIES) / 'validation_policies.csv')
    with open(ctx.path(POLICIES) / 'validation_policies_cells.csv', newline='') as fh:
        cells = list(csv.DictReader(fh))
    out = {}
    for v in ('RMNAS', 'hand_designed', 'random_arch', 'fallback (RMNAS or hand)', 'fallback (of 5)',
              'ensemble (RMNAS + hand)', 'ensemble (RMNAS + hand + random)', 'ensemble (hand + random)'):
        rows = [c for c in cells if c['variant'] == v]
        mean = {k: sum(float(c[k]) for c in rows) / len(rows) for k in ('valid_waf', 'valid_mae', 'waf', 'mae')}
        out[(v,)] = {'cells': len(rows), 'val WAF': mean['valid_waf'], 'val MAE': mean['valid_mae'],
                     'test WAF': mean['waf'], 'test MAE': mean['mae'],
                     'test WAF AUILC': s.mean_std(v, 'waf', 'AUILC')}
    return out


# ----------------------------------------------------------------------------- entries

SEARCH_COLS = ('exported epoch', 'entropy at export', 'chosen weight')
REDERIVED = ('the document\'s exclude_zero rows re-derived the searches of the row above and retrained '
             'the changed cells with rmnas retrain, which records no search: its search columns average '
             'the copied cells only; a fresh sweep records every search')

ENTRIES = [
    Entry('readme-quickstart', 'README.md', 'readme-quickstart', ('quickstart',), src_quickstart,
          parse='text', row_labels=('valid (best epoch)', 'test'), complete=True),
    Entry('readme-threads', 'README.md', 'readme-threads', ('quickstart', 'quickstart_threads2'),
          src_readme_threads, parse='prose'),
    Entry('readme-sweep-example', 'README.md', 'readme-sweep-example', ('sweep_example',), src_sweep_example,
          keys=('variant', 'rate')),
    Entry('readme-param-count', 'README.md', 'readme-param-count', ('param_count',), src_readme_param_count,
          parse='prose'),
    Entry('readme-mosi', 'README.md', 'readme-mosi', ('mosi_sweep', 'mosi_sweep_paper_space'), src_readme_mosi,
          parse='prose', note='peers: docs/peers.md; two wall times (6-9 minutes) are not compared'),
    Entry('results-mosi-dialogue-sweep', 'docs/results/mosi_dialogue_sweep/sweep.md', None, ('mosi_sweep',),
          src_results_sweep('mosi_sweep'), complete=True),
    Entry('results-pom-sentence-sweep', 'docs/results/pom_sentence_sweep/sweep.md', None, ('pom_sentence_sweep',),
          src_results_sweep('pom_sentence_sweep'), complete=True),
    Entry('results-mosi-paper-space', 'docs/results/mosi_dialogue_sweep_paper_space/sweep.md', None,
          ('mosi_sweep_paper_space',), src_results_sweep('mosi_sweep_paper_space'), complete=True),
    Entry('results-mosi-nas-baselines', 'docs/results/mosi_nas_baselines/table.md', None, ('mosi_nas_baselines',),
          src_results_table('mosi_nas_baselines'), keys=('variant', 'rate', 'seed', 'RMNAS minus'), complete=True),
    Entry('results-mosi-lst-ablation', 'docs/results/mosi_lst_ablation/table.md', None, ('mosi_lst_ablation',),
          src_results_table('mosi_lst_ablation'), keys=('variant', 'rate', 'seed', 'RMNAS minus'), complete=True),
    Entry('results-fusion-gates', 'docs/results/fusion_gates_derivation.md', 'fusion-gates', ('fusion_gates',),
          src_fusion_gates, keys=('input selection', 'derivation'), complete=True,
          note='the two architecture columns are computed from each cell\'s arch.json; the original '
               'cells were not kept, so that reading is checked only by a rerun'),
    Entry('results-fusion-gates-default', 'docs/results/fusion_gates_derivation.md', 'fusion-gates',
          ('mosi_sweep',), src_fusion_gates_default, keys=('input selection', 'derivation'),
          skip_rows={(k,): 'only with --all (results-fusion-gates)' for k in ('gates',)} | {
              ('one_of_n', 'threshold'): 'only with --all (results-fusion-gates)'},
          skip_cols={c: 'only with --all (results-fusion-gates)' for c in (
              'valid WAF', 'Cell inputs taken', 'choices keeping > 1', 'seed 0', 'seed 1', 'seed 2')}),
    Entry('results-selection-rules-lr1e-3', 'docs/results/selection_rules/lr1e-3.md', None, ('selection_rules',),
          lambda ctx: md_rows((ctx.path('selection_rules') / 'lr1e-3.md').read_text(),
                              ('select on', 'patience', 'min epochs')),
          keys=('select on', 'patience', 'min epochs'), complete=True, regenerated_only=True),
    Entry('results-selection-rules-lr5e-4', 'docs/results/selection_rules/lr5e-4.md', None, ('selection_rules',),
          lambda ctx: md_rows((ctx.path('selection_rules') / 'lr5e-4.md').read_text(),
                              ('select on', 'patience', 'min epochs')),
          keys=('select on', 'patience', 'min epochs'), complete=True, regenerated_only=True),
    Entry('benchmarks-goals', 'docs/benchmarks.md', 'benchmarks-goals',
          ('bench', 'mosi_sweep', 'mosi_sweep_paper_space'), src_bench_goals, tolerance=0.3, keys=('#', 'figure'),
          skip_rows={('7', 'GPU, paper size'): 'not measured (no GPU lent yet)'},
          note='rows 1-5 are timings (30 % when regenerated); row 6 comes from the MOSI sweeps and '
               'docs/peers.md'),
    Entry('benchmarks-lst-cost', 'docs/benchmarks.md', 'benchmarks-lst-cost', ('bench',), src_bench_lst,
          tolerance=0.3, keys=('N',), complete=True),
    Entry('benchmarks-nni-overhead', 'docs/benchmarks.md', 'benchmarks-nni-overhead', ('bench',),
          src_bench_nni_overhead, tolerance=0.3, keys=('',), complete=True),
    Entry('benchmarks-search-vs-retrain', 'docs/benchmarks.md', 'benchmarks-search-vs-retrain', ('bench',),
          src_bench_search_vs_retrain, tolerance=0.3, keys=('',), complete=True),
    Entry('benchmarks-scaling', 'docs/benchmarks.md', 'benchmarks-scaling', ('bench',), src_bench_scaling,
          tolerance=0.3, keys=('model', 'batch'), complete=True),
    Entry('benchmarks-sweep-jobs', 'docs/benchmarks.md', 'benchmarks-sweep-jobs', ('sweep_jobs',),
          src_bench_sweep_jobs, tolerance=0.3, keys=('jobs',), complete=True),
    Entry('benchmarks-mosi', 'docs/benchmarks.md', 'benchmarks-mosi', ('mosi_sweep',), src_bench6_main,
          keys=('model',), note='peer rows: docs/peers.md, measured by the peers\' own code'),
    Entry('benchmarks-mosi-waf', 'docs/benchmarks.md', 'benchmarks-mosi-waf', ('mosi_sweep',), src_bench6_waf,
          keys=('r',), note=f'GCNet row: {GCNET_CSV} (from docs/peers.md)', complete=True),
    Entry('benchmarks-mosi-paper-space', 'docs/benchmarks.md', 'benchmarks-mosi-paper-space',
          ('mosi_sweep_paper_space', 'mosi_sweep'), src_bench6_paper, keys=('r',), complete=True),
    Entry('quality-selection-rules', 'docs/quality.md', 'quality-selection-rules', ('selection_rules',),
          src_quality_rules, keys=('setting',), complete=True),
    Entry('quality-tried-screening', 'docs/quality.md', 'quality-tried-screening', ('tried_screening',),
          src_quality_tried('tried_screening'), keys=('configuration',), complete=True),
    Entry('quality-tried-24-cells', 'docs/quality.md', 'quality-tried-24-cells', ('tried_24_cells',),
          src_quality_tried('tried_24_cells'), keys=('configuration',), complete=True,
          skip_cells={(('export best, exclude_zero (chosen)',), c): REDERIVED for c in SEARCH_COLS} | {
              (('export final, exclude_zero',), c): REDERIVED for c in SEARCH_COLS}),
    Entry('quality-nas-baselines', 'docs/quality.md', 'quality-nas-baselines', ('mosi_nas_baselines', 'mosi_sweep'),
          src_quality_nas, keys=('model',), note='peer rows: docs/peers.md'),
    Entry('quality-nas-paired', 'docs/quality.md', 'quality-nas-paired', ('mosi_nas_baselines',),
          src_paired('mosi_nas_baselines', PAIRED_OTHERS + (('random_search', 'random_search'),)), keys=('other',), complete=True),
    Entry('results-mosi-mid-nas-baselines', 'docs/results/mosi_mid_nas_baselines/table.md', None,
          ('mosi_mid_nas_baselines',), src_results_table('mosi_mid_nas_baselines'),
          keys=('variant', 'rate', 'seed', 'RMNAS minus'), complete=True),
    Entry('quality-mid', 'docs/quality.md', 'quality-mid', ('mosi_mid_nas_baselines',), src_quality_mid,
          keys=('model',), complete=True),
    Entry('quality-mid-paired', 'docs/quality.md', 'quality-mid-paired', ('mosi_mid_nas_baselines',),
          src_paired('mosi_mid_nas_baselines'), keys=('other',), complete=True),
    Entry('quality-warmup', 'docs/quality.md', 'quality-warmup', ('warmup_24_cells',), src_quality_warmup,
          keys=('configuration',), complete=True,
          skip_cells={(('export best, exclude_zero (defaults)',), c): REDERIVED for c in SEARCH_COLS}),
    Entry('quality-3class', 'docs/quality.md', 'quality-3class', ('mosi_3class',), src_quality_3class,
          keys=('variant',), complete=True),
    Entry('quality-lst', 'docs/quality.md', 'quality-lst', ('mosi_lst_ablation',), src_quality_lst,
          keys=('variant',), complete=True),
    Entry('quality-mid-policies', 'docs/quality.md', 'quality-mid-policies', (POLICIES,), src_quality_mid_policies,
          keys=('variant',), complete=True, note=f'GCNet row: {GCNET_CSV} (from docs/peers.md)'),
    Entry('quality-mid-policies-waf', 'docs/quality.md', 'quality-mid-policies-waf', (POLICIES,),
          src_quality_mid_policies_waf, keys=('variant',), complete=True),
    Entry('quality-mid-policies-paired', 'docs/quality.md', 'quality-mid-policies-paired', (POLICIES,),
          src_quality_mid_policies_paired, keys=('row', 'minus'), complete=True),
    Entry('quality-mid-policies-tried', 'docs/quality.md', 'quality-mid-policies-tried', (POLICIES,),
          src_quality_mid_policies_tried, keys=('configuration',), complete=True),
]

# entries that read docs/peers.md (the peers' own measurements)
PEER_ENTRIES = {'benchmarks-goals', 'benchmarks-mosi', 'quality-nas-baselines', 'readme-mosi'}
