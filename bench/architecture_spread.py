"""How far apart are the architectures of a space that read every modality? (the most any selection could gain)

A search can only beat random architectures by as much as the architectures of its
space differ. This script measures that spread directly, for the architectures a
search has to choose among once the broken ones are out: it draws ``--archs``
architectures whose prediction reads every modality (:func:`rmnas_nni.pipeline.random_draws`
with ``search.random_all_modalities``, from ``--draw-seed``, the same draws for every
cell), adds the hand-designed network of the space, and retrains each of them
exactly as a sweep's cell retrains (:func:`rmnas_nni.pipeline.retrain`, the config's
``retrain`` settings) at every rate and every seed. The same architecture thus has
several seeds, which separates what the architectures differ in from what retraining
one of them varies by.

Per architecture and seed, the AUILC over the rates of the test ``--metric`` (WAF
by default; higher is better) and of the validation metric retraining selects on
(the run's ``select_metric``, MAE for MOSI); then

* **the spread**: the standard deviation over architectures of their seed-mean test
  AUILC, the mean standard deviation over seeds of one architecture, and the spread
  between architectures that remains once the seed noise of a mean is taken out
  (``sqrt(max(0, var(means) - mean(var over seeds) / seeds))``);
* **what selection could gain, seed held out**: for each seed, the architecture
  chosen on the other seeds, scored on the held-out seed minus the median
  architecture of that seed (paired), mean ± std over the held-out seeds. Chosen by
  test ("by test, other seeds": what a search that knew every architecture's true
  quality could gain, a ceiling; test chooses nothing else here), by validation
  on the other seeds, and by the validation of the held-out seed itself (over every
  rate: what a sweep of that seed could choose on, not what one cell sees);
* Kendall's tau between the architectures' seed-mean validation and test AUILC.

Beside them, optionally, other networks of the same config, rates and seeds, each
set against the median architecture of its seed:

* ``--reference NAME=TABLE.csv:VARIANT``: a variant of a finished sweep's (or
  merged) ``table.csv``, its test figures only;
* ``--pooled NAME=SWEEP:VARIANT``: a finished SPOS sweep. Every cell of a seed ranks
  the same candidates (``search/candidates.csv``); the candidate with the best AUILC
  of its supernet validation over the rates is retrained here at every rate (one
  architecture for every rate, ``NAME_pooled``), beside the sweep's own networks
  (``NAME_per_cell``, validation and test). With ``--pooled-top K`` the K best such
  candidates are retrained and the one with the best retrained validation AUILC is
  kept, per seed (``NAME_topK_by_valid``).

    python bench/architecture_spread.py -c examples/mosi_dialogue.yml --set search_space=mid \\
        --archs 16 --draw-seed 100 --rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 --seeds 0 1 2 3 4 \\
        --jobs 2 --out docs/results/mosi_spos/architecture_spread/mid

A finished retrain (its ``metrics.json``) is not run again, so an interrupted run
continues where it stopped; each retrain's weights are deleted once scored. Writes
``architectures.json`` (the drawn architectures, what each reads, the pooled
candidates), ``cells.csv`` (every retrain: validation and test metrics), ``auilc.csv``
(per architecture and seed), ``spread.json``, ``spread.md`` and ``spread.png``. Cost:
one retrain per (architecture, rate, seed): the 680 of 17 architectures, 8 rates and
5 seeds took about 26 minutes in the mid-sized MOSI space and 15 in the tiny one,
with ``--jobs 2`` on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

from weight_sharing_rank import kendall_tau  # noqa: E402

HAND = 'hand'


def base_config(config: str, sets: Sequence[str]):
    """The run config of ``config`` with ``--set KEY=VALUE`` overrides, as ``rmnas sweep`` reads it."""
    from rmnas_nni.config import load_run_config, parse_overrides
    return load_run_config(config, parse_overrides(list(sets)))


def draw_architectures(cfg, n: int, draw_seed: int) -> Dict[str, Dict]:
    """``n`` architectures reading every modality (drawn from ``draw_seed``) and the hand-designed one."""
    import copy
    from rmnas_nni.baselines import hand_designed_architecture
    from rmnas_nni.data import load_data
    from rmnas_nni.pipeline import build_space, random_draws
    dcfg = copy.deepcopy(cfg)
    dcfg.seed, dcfg.search.random_k, dcfg.search.random_all_modalities = draw_seed, n, True
    space = build_space(dcfg, load_data(dcfg.data))
    archs = {f'arch{i}': a for i, a in enumerate(random_draws(dcfg, space))}
    archs[HAND] = hand_designed_architecture(space)
    return archs


def cell_run_config(config: str, sets: Sequence[str], name: str, rate: float, seed: int):
    """The config of architecture ``name`` at (rate, seed): the sweep cell's, named after the architecture."""
    from rmnas_nni.sweep import cell_config
    cfg = cell_config(base_config(config, sets), 'full', rate, seed)
    cfg.name = f'{cfg.name}-{name}'
    return cfg


def check_finished(cfg, run_dir: Path, arch: Dict) -> None:
    """A finished retrain in ``run_dir`` is reused only if it ran ``arch`` with ``cfg``."""
    from rmnas_nni.config import dump_yaml
    if (run_dir / 'config.yaml').read_text() != dump_yaml(cfg):
        raise SystemExit(f'{run_dir / "config.yaml"}: retrained with another config; give another --out')
    if json.loads((run_dir / 'arch.json').read_text()) != arch:
        raise SystemExit(f'{run_dir / "arch.json"}: another architecture was retrained there; give another --out')


def _retrain_one(config: str, sets: List[str], name: str, arch: Dict, rate: float, seed: int, out: str) -> Dict:
    """Retrain ``arch`` as the sweep cell (rate, seed) of ``config`` would; returns its row."""
    os.environ.setdefault('PYTHONWARNINGS', 'ignore')
    from rmnas_nni.pipeline import prepare_data, quiet_libraries, retrain, start_run
    from rmnas_nni.rundir import atomic_write_json
    quiet_libraries()
    run_dir = Path(out)
    done = run_dir / 'metrics.json'
    cfg = cell_run_config(config, sets, name, rate, seed)
    if done.is_file():
        check_finished(cfg, run_dir, arch)
        m = json.loads(done.read_text())
    else:
        data, masks = prepare_data(cfg)
        run_dir, printer = start_run(cfg, data, masks, run_dir, overwrite=True, quiet=True)
        atomic_write_json(run_dir / 'arch.json', arch)
        m = retrain(cfg, data, arch, run_dir, printer=printer)
    for f in ('model.pt', 'retrain/last.pt', 'retrain/best.pt'):
        (run_dir / f).unlink(missing_ok=True)
    row = {'arch': name, 'rate': rate, 'seed': seed}
    row.update({f'val_{k}': v for k, v in m['valid'].items()})
    row.update({f'test_{k}': v for k, v in m['test'].items()})
    row['select_metric'] = m['select_metric']
    row['reads'] = '+'.join(m.get('fused_modalities', []))
    row['epochs_run'] = m['epochs_run']
    return row


def per_seed_auilc(cells, rates: Sequence[float], metric: str, select: str):
    """``(arch, seed) -> {'test': AUILC of test ``metric``, 'valid': AUILC of validation ``select``}``."""
    from rmnas_nni.metrics import auilc
    out = {}
    for (arch, seed), g in cells.groupby(['arch', 'seed']):
        g = g.set_index('rate').loc[list(rates)]
        out[(arch, seed)] = {'test': auilc(rates, g[f'test_{metric}']), 'valid': auilc(rates, g[f'val_{select}'])}
    return out


def held_out_gains(table: np.ndarray, test: np.ndarray, lower_is_better: bool, same_seed: bool = False) -> List[float]:
    """Per held-out seed s: test[chosen, s] - median_a test[a, s], the architecture chosen by ``table``
    (architectures x seeds) averaged over the other seeds, or by its column s with ``same_seed``."""
    gains = []
    for s in range(test.shape[1]):
        score = table[:, s] if same_seed else np.delete(table, s, axis=1).mean(axis=1)
        pick = int(np.argmin(score) if lower_is_better else np.argmax(score))
        gains.append(float(test[pick, s] - np.median(test[:, s])))
    return gains


def reference_auilc(spec: str, rates: Sequence[float], seeds: Sequence[int], metric: str = 'waf') -> Dict[int, float]:
    """``NAME=TABLE.csv:VARIANT`` (a sweep's or merged ``table.csv``): that variant's test ``metric`` AUILC per seed."""
    import pandas as pd
    from rmnas_nni.metrics import auilc
    path, variant = spec.split('=', 1)[1].rsplit(':', 1)
    t = pd.read_csv(path)
    t = t[(t['variant'] == variant) & (t['stat'] == 'value')]
    out = {}
    for s in seeds:
        g = t[t['seed'] == s].set_index('rate')
        if not all(r in g.index for r in rates):
            raise SystemExit(f'{path}: {variant} has no seed {s} at every rate')
        out[s] = auilc(rates, g.loc[list(rates), metric])
    return out


def pooled_choices(sweep: Path, variant: str, rates: Sequence[float], seed: int, select: str, k: int = 1) -> List[Dict]:
    """The ``k`` candidates of a SPOS sweep's rankings (``search/candidates.csv`` of its cells) with the best AUILC
    over ``rates`` of their supernet validation ``select``, best first: architectures for every rate of ``seed``."""
    import pandas as pd
    from rmnas_nni.metrics import auilc, metric_direction
    scores, ranks = {}, {}
    for r in rates:
        path = sweep / 'cells' / variant / f'r{r:g}-s{seed}' / 'search' / 'candidates.csv'
        if not path.is_file():
            raise SystemExit(f'{path}: missing (--pooled needs a finished SPOS sweep at every rate and seed)')
        t = pd.read_csv(path)
        if ranks and set(t['arch']) != set(next(iter(ranks.values()))):
            raise SystemExit(f'{path}: other candidates than at rate {rates[0]:g}')
        ranks[r] = dict(zip(t['arch'], t['rank']))
        for arch, v in zip(t['arch'], t[f'val_{select}']):
            scores.setdefault(arch, []).append(float(v))
    pooled = {arch: auilc(rates, v) for arch, v in scores.items()}
    best = sorted(pooled, key=pooled.get, reverse=metric_direction(select) == 'max')[:k]     # stable: file order
    return [{'seed': seed, 'pooled_rank': j, 'arch': json.loads(a), 'pooled_valid_auilc': pooled[a],
             'rank_per_rate': [int(ranks[r][a]) for r in rates]} for j, a in enumerate(best, 1)]


def pooled_name(name: str, j: int) -> str:
    """The rows (and run folders) of the ``j``-th pooled candidate of ``--pooled NAME``."""
    return f'{name}_pooled' if j == 1 else f'{name}_pooled_rank{j}'


def chosen_by_validation(cells, rates: Sequence[float], seeds: Sequence[int], names: Sequence[str], select: str,
                         as_name: str):
    """Per seed, the rows of the one of ``names`` with the best validation ``select`` AUILC over ``rates`` (the
    first on a tie), renamed ``as_name``; and the index (1-based) chosen per seed."""
    import pandas as pd
    from rmnas_nni.metrics import auilc, metric_direction
    rows, chosen = [], []
    for s in seeds:
        score = [auilc(rates, cells[(cells['arch'] == n) & (cells['seed'] == s)].set_index('rate')
                       .loc[list(rates), f'val_{select}']) for n in names]
        j = int(np.argmin(score) if metric_direction(select) == 'min' else np.argmax(score))
        pick = cells[(cells['arch'] == names[j]) & (cells['seed'] == s)].copy()
        pick['arch'] = as_name
        rows.append(pick)
        chosen.append(j + 1)
    return pd.concat(rows), chosen


def sweep_rows(sweep: Path, variant: str, name: str, rates: Sequence[float], seeds: Sequence[int]) -> List[Dict]:
    """The cells of a finished sweep as rows of ``cells.csv`` (their own retrained networks)."""
    rows = []
    for s in seeds:
        for r in rates:
            m = json.loads((sweep / 'cells' / variant / f'r{r:g}-s{s}' / 'metrics.json').read_text())
            row = {'arch': name, 'rate': r, 'seed': s}
            row.update({f'val_{k}': v for k, v in m['valid'].items()})
            row.update({f'test_{k}': v for k, v in m['test'].items()})
            row.update({'select_metric': m['select_metric'], 'reads': '+'.join(m.get('fused_modalities', [])),
                        'epochs_run': m['epochs_run']})
            rows.append(row)
    return rows


def analyse(cells, rates: Sequence[float], seeds: Sequence[int], random_names: Sequence[str],
            references: Dict[str, Dict[int, float]] = None, metric: str = 'waf', select: str = 'mae',
            compared: Sequence[str] = ()) -> Dict:
    """The spread of ``random_names`` (test ``metric``, higher is better) and selection by validation ``select``."""
    from rmnas_nni.metrics import metric_direction
    lower = metric_direction(select) == 'min'
    per = per_seed_auilc(cells, rates, metric, select)
    names = list(random_names)
    test = np.array([[per[(a, s)]['test'] for s in seeds] for a in names])
    valid = np.array([[per[(a, s)]['valid'] for s in seeds] for a in names])
    means, var_within = test.mean(axis=1), test.var(axis=1, ddof=1)
    between = float(np.sqrt(max(0.0, means.var(ddof=1) - var_within.mean() / len(seeds))))
    res = {
        'archs': len(names), 'seeds': list(seeds), 'rates': list(rates), 'metric': metric, 'select': select,
        'test_mean_of_archs': float(means.mean()),
        'test_std_of_arch_means': float(means.std(ddof=1)),
        'test_seed_std_within_arch': float(np.sqrt(var_within).mean()),
        'test_between_arch_std_noise_removed': between,
        'best_minus_median_in_sample': float(means.max() - np.median(means)),
        'gain_by_test_other_seeds': held_out_gains(test, test, lower_is_better=False),
        'gain_by_valid_other_seeds': held_out_gains(valid, test, lower_is_better=lower),
        'gain_by_valid_same_seed': held_out_gains(valid, test, lower_is_better=lower, same_seed=True),
        'tau_valid_test_means': kendall_tau(-valid.mean(axis=1) if lower else valid.mean(axis=1), means),
        'per_arch': {a: {'test_mean': float(test[i].mean()), 'test_std': float(test[i].std(ddof=1)),
                         'valid_mean': float(valid[i].mean())} for i, a in enumerate(names)},
    }
    if HAND in {a for a, _ in per}:
        hand = np.array([per[(HAND, s)]['test'] for s in seeds])
        res['hand'] = {'test_mean': float(hand.mean()), 'test_std': float(hand.std(ddof=1)),
                       'valid_mean': float(np.mean([per[(HAND, s)]['valid'] for s in seeds])),
                       'minus_median_per_seed': [float(hand[j] - np.median(test[:, j])) for j in range(len(seeds))]}
    res['references'] = {}
    for name in compared:                  # rows of cells.csv that are not one architecture: their own per seed
        references = {**(references or {}), name: {s: per[(name, s)]['test'] for s in seeds}}
    for name, by_seed in (references or {}).items():
        v = np.array([by_seed[s] for s in seeds])
        res['references'][name] = {'test_mean': float(v.mean()), 'test_std': float(v.std(ddof=1)),
                                   'minus_median_per_seed': [float(v[j] - np.median(test[:, j]))
                                                             for j in range(len(seeds))]}
        if name in compared:
            res['references'][name]['valid_per_seed'] = [per[(name, s)]['valid'] for s in seeds]
            res['references'][name]['valid_mean'] = float(np.mean(res['references'][name]['valid_per_seed']))
            res['references'][name]['test_per_seed'] = [float(x) for x in v]
    return res


def _ms(v: Sequence[float], fmt: str = '{:+.2f}') -> str:
    v = np.asarray(v, dtype=float)
    return (f'{fmt.format(v.mean())} ± {fmt.replace("+", "").format(v.std(ddof=1))}' if v.size > 1
            else fmt.format(v.mean()))


def markdown(res: Dict, archs: Dict[str, Dict], reads: Dict[str, str], header: str) -> str:
    seeds, m, v = res['seeds'], res['metric'].upper(), res['select'].upper()
    lines = [header, '',
             f'{res["archs"]} architectures reading every modality, seeds {", ".join(map(str, seeds))}, '
             f'rates {", ".join(f"{r:g}" for r in res["rates"])}; AUILC of test {m} and of validation {v} per '
             'architecture and seed.', '',
             f'| architecture | reads | test {m} AUILC (mean ± std over seeds) | validation {v} AUILC (mean) |',
             '|---|---|---|---|']
    order = sorted(res['per_arch'], key=lambda a: -res['per_arch'][a]['test_mean'])
    for a in order:
        p = res['per_arch'][a]
        lines.append(f'| {a} | {reads.get(a, "")} | {p["test_mean"]:.2f} ± {p["test_std"]:.2f} | {p["valid_mean"]:.4f} |')
    if 'hand' in res:
        h = res['hand']
        lines.append(f'| hand-designed | {reads.get(HAND, "")} | {h["test_mean"]:.2f} ± {h["test_std"]:.2f} | '
                     f'{h["valid_mean"]:.4f} |')
    for name, r in res['references'].items():
        valid = f'{r["valid_mean"]:.4f}' if 'valid_mean' in r else ''
        lines.append(f'| {name} (not one of the architectures) | | {r["test_mean"]:.2f} ± {r["test_std"]:.2f} | {valid} |')
    lines += ['', f'| figure (test {m} AUILC) | value |', '|---|---|',
              f'| mean over the architectures | {res["test_mean_of_archs"]:.2f} |',
              f'| std of the architectures\' seed means | {res["test_std_of_arch_means"]:.2f} |',
              f'| std over seeds of one architecture (mean over architectures) | {res["test_seed_std_within_arch"]:.2f} |',
              f'| std between architectures, seed noise of the means removed | {res["test_between_arch_std_noise_removed"]:.2f} |',
              f'| best minus median architecture, seed means (in sample, biased upward) | '
              f'{res["best_minus_median_in_sample"]:+.2f} |',
              f'| chosen by test on the other seeds, minus the median, held-out seed (ceiling) | '
              f'{_ms(res["gain_by_test_other_seeds"])} |',
              f'| chosen by validation {v} on the other seeds, minus the median, held-out seed | '
              f'{_ms(res["gain_by_valid_other_seeds"])} |',
              f'| chosen by validation {v} of the same seed, minus the median | {_ms(res["gain_by_valid_same_seed"])} |',
              f'| Kendall tau, seed-mean validation vs test over the architectures | '
              f'{res["tau_valid_test_means"]:+.3f} |']
    if 'hand' in res:
        lines.append(f'| hand-designed minus the median architecture, per seed | '
                     f'{_ms(res["hand"]["minus_median_per_seed"])} |')
    for name, r in res['references'].items():
        lines.append(f'| {name} minus the median architecture, per seed | {_ms(r["minus_median_per_seed"])} |')
    for pooled, per_cell in res.get('pooled_pairs', []):
        p, c = res['references'][pooled], res['references'][per_cell]
        lines.append(f'| {pooled} minus {per_cell}, per seed (paired) | '
                     f'{_ms(np.subtract(p["test_per_seed"], c["test_per_seed"]))} |')
        lines.append(f'| the same, validation {v} AUILC (lower is better for MAE) | '
                     f'{_ms(np.subtract(p["valid_per_seed"], c["valid_per_seed"]), "{:+.4f}")} |')
    lines += ['', 'Per held-out seed (' + ', '.join(map(str, seeds)) + '):',
              '* by test on the other seeds: ' + ', '.join(f'{g:+.2f}' for g in res['gain_by_test_other_seeds']),
              '* by validation on the other seeds: ' + ', '.join(f'{g:+.2f}' for g in res['gain_by_valid_other_seeds']),
              '* by validation of the same seed: ' + ', '.join(f'{g:+.2f}' for g in res['gain_by_valid_same_seed']),
              '', 'The architectures: `architectures.json`; every retrain: `cells.csv`; per seed: `auilc.csv`.']
    return '\n'.join(lines) + '\n'


def plot(res: Dict, path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    order = sorted(res['per_arch'], key=lambda a: -res['per_arch'][a]['test_mean'])
    rows = ([(a, res['per_arch'][a]) for a in order] + ([('hand-designed', res['hand'])] if 'hand' in res else [])
            + list(res['references'].items()))
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.errorbar([r[1]['test_mean'] for r in rows], y, xerr=[r[1]['test_std'] for r in rows], fmt='o', capsize=3)
    ax.axvline(float(np.median([res['per_arch'][a]['test_mean'] for a in order])), color='grey', ls='--', lw=1,
               label='median of the architectures')
    ax.axhline(y[len(order) - 1] - 0.5, color='grey', lw=0.8)          # the architectures above, the others below
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_xlabel(f'test {res["metric"].upper()} AUILC (mean ± std over {len(res["seeds"])} seeds)')
    ax.set_title(f'{res["archs"]} architectures reading every modality (above the line)', fontsize=10)
    ax.legend(loc='lower left', fontsize=8)
    ax.grid(axis='x', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('-c', '--config', required=True)
    p.add_argument('--set', dest='sets', action='append', default=[], metavar='KEY=VALUE')
    p.add_argument('--archs', type=int, default=16, help='random architectures reading every modality')
    p.add_argument('--draw-seed', type=int, default=100, help='seed of the draws (the same for every cell)')
    p.add_argument('--rates', type=float, nargs='+', required=True)
    p.add_argument('--seeds', type=int, nargs='+', required=True)
    p.add_argument('--jobs', type=int, default=1)
    p.add_argument('--out', type=Path, required=True)
    p.add_argument('--reference', action='append', default=[], metavar='NAME=TABLE.csv:VARIANT',
                   help='a variant of a finished sweep on the same config, rates and seeds, set beside the '
                        'architectures (its test --metric AUILC per seed, and minus the median architecture)')
    p.add_argument('--pooled', action='append', default=[], metavar='NAME=SWEEP:VARIANT',
                   help='a finished SPOS sweep on the same config, rates and seeds: per seed, the candidate of its '
                        'rankings with the best validation AUILC over the rates (one architecture for every rate) is '
                        'retrained at every rate, and set beside the sweep\'s own per-cell networks')
    p.add_argument('--pooled-top', type=int, default=1, metavar='K',
                   help='with --pooled: retrain the K best pooled candidates of each seed at every rate and keep the '
                        'one with the best retrained validation AUILC (a row of its own; default 1: the best only)')
    p.add_argument('--metric', default='waf', help='test metric compared (higher is better; default waf)')
    a = p.parse_args(argv)
    for spec in a.reference + a.pooled:
        if '=' not in spec or ':' not in spec.split('=', 1)[1]:
            raise SystemExit(f'--reference / --pooled {spec}: expected NAME=PATH:VARIANT')
    import pandas as pd
    from rmnas_nni.pipeline import quiet_libraries
    from rmnas_nni.rundir import atomic_write_json, atomic_write_text
    from rmnas_nni.figures import fused_modalities, describe_architecture
    quiet_libraries()
    sets = list(a.sets)
    if not any(s.startswith('threads=') for s in sets):
        sets.append('threads=1')
    cfg = base_config(a.config, sets)
    if len(cfg.data.modalities) < 2:
        raise SystemExit('architecture_spread: the config has a single modality')
    archs = draw_architectures(cfg, a.archs, a.draw_seed)
    jobs = [(n, x, r, s) for s in a.seeds for r in a.rates for n, x in archs.items()]
    pooled, given, pairs = [], [], []
    for spec in a.pooled:
        name, (sweep, variant) = spec.split('=', 1)[0], spec.split('=', 1)[1].rsplit(':', 1)
        sweep = Path(sweep)
        select = json.loads((sweep / 'cells' / variant / f'r{a.rates[0]:g}-s{a.seeds[0]}' / 'metrics.json')
                            .read_text())['select_metric']
        for s in a.seeds:
            for choice in pooled_choices(sweep, variant, a.rates, s, select, a.pooled_top):
                pooled.append({'name': name, **choice})
                jobs += [(pooled_name(name, choice['pooled_rank']), choice['arch'], r, s) for r in a.rates]
        given += sweep_rows(sweep, variant, f'{name}_per_cell', a.rates, a.seeds)
        pairs.append((f'{name}_pooled', f'{name}_per_cell'))
        if a.pooled_top > 1:
            pairs.append((f'{name}_top{a.pooled_top}_by_valid', f'{name}_per_cell'))
    for n, x, r, s in jobs:                      # before anything is written
        run_dir = a.out / 'runs' / n / f'r{r:g}-s{s}'
        if (run_dir / 'metrics.json').is_file():
            check_finished(cell_run_config(a.config, sets, n, r, s), run_dir, x)
    a.out.mkdir(parents=True, exist_ok=True)
    reads = {n: '+'.join(fused_modalities(describe_architecture(x, {}, cfg))) for n, x in archs.items()}
    atomic_write_json(a.out / 'architectures.json', {'draw_seed': a.draw_seed, 'config': a.config, 'set': sets,
                                                    'architectures': archs, 'reads': reads, 'pooled': pooled})
    rows = list(given)
    with ProcessPoolExecutor(max_workers=a.jobs) as pool:
        futures = [pool.submit(_retrain_one, a.config, sets, n, x, r, s, str(a.out / 'runs' / n / f'r{r:g}-s{s}'))
                   for n, x, r, s in jobs]
        for i, f in enumerate(as_completed(futures), 1):
            row = f.result()
            rows.append(row)
            print(f'[{i}/{len(jobs)}] {row["arch"]} r={row["rate"]:g} seed {row["seed"]}: '
                  f'val {row["select_metric"]} {row["val_" + row["select_metric"]]:.4f}, '
                  f'test {a.metric} {row.get("test_" + a.metric, float("nan")):.4f}', flush=True)
    cells = pd.DataFrame(rows)
    select = cells['select_metric'].iloc[0]
    chosen = {}
    if a.pooled_top > 1:
        for spec in a.pooled:
            name = spec.split('=', 1)[0]
            top, chosen[name] = chosen_by_validation(cells, a.rates, a.seeds,
                                                     [pooled_name(name, j) for j in range(1, a.pooled_top + 1)],
                                                     select, f'{name}_top{a.pooled_top}_by_valid')
            cells = pd.concat([cells, top])
    cells = cells.sort_values(['arch', 'seed', 'rate']).reset_index(drop=True)
    if f'test_{a.metric}' not in cells:
        raise SystemExit(f'architecture_spread: --metric {a.metric}: the runs report '
                         + ', '.join(c[5:] for c in cells if c.startswith('test_')))
    atomic_write_text(a.out / 'cells.csv', cells.to_csv(index=False))
    per = per_seed_auilc(cells, a.rates, a.metric, select)
    atomic_write_text(a.out / 'auilc.csv', pd.DataFrame(
        [{'arch': k[0], 'seed': k[1], f'test_{a.metric}_auilc': v['test'], f'val_{select}_auilc': v['valid']}
         for k, v in sorted(per.items())]).to_csv(index=False))
    refs = {spec.split('=', 1)[0]: reference_auilc(spec, a.rates, a.seeds, a.metric) for spec in a.reference}
    res = analyse(cells, a.rates, a.seeds, [n for n in archs if n != HAND], refs, a.metric, select,
                  compared=list(dict.fromkeys(n for pair in pairs for n in pair)))
    res['pooled_top'] = a.pooled_top
    res['chosen_pooled_rank_per_seed'] = chosen
    res['pooled_pairs'] = pairs
    res['pooled'] = [{k: v for k, v in p.items() if k != 'arch'} for p in pooled]
    atomic_write_json(a.out / 'spread.json', res)
    text = markdown(res, archs, reads, f'# Architecture spread: {a.config} {" ".join("--set " + s for s in a.sets)}')
    atomic_write_text(a.out / 'spread.md', text)
    plot(res, a.out / 'spread.png')
    print(text)
    return 0


if __name__ == '__main__':
    from rmnas_nni.errors import RMNASError
    try:
        sys.exit(main())
    except RMNASError as e:                 # a bad config or data file: one line, no traceback
        print(f'architecture_spread: {e}', file=sys.stderr)
        sys.exit(2)
