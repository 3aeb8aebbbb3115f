"""Seed ensembles of 1, 2, …, K networks, read from a finished sweep run with ``retrain.ensemble: K``.

Every cell of such a sweep holds K retrained networks of its architecture (member k
from seed ``seed + 1000 k``; member 0 is the network a single run trains, bit for
bit). Their saved weights are loaded as ``rmnas evaluate`` loads the run
(:func:`rmnas_nni.pipeline.load_retrained`, masks redrawn from the cell's config and
checked against its ``masks.npz``), each member predicts the validation and test
splits, and the ensemble of the first k members (equal-weight mean of their outputs;
classification: of their logits, then the argmax) is scored for
k = 1 … K. Nothing is trained again; the K-member row reproduces the cell's own
``metrics.json`` (checked).

    python bench/ensemble_size.py --sweep runs/ens3 --out docs/results/mosi_seed_ensemble

``--best-of`` adds, for k = 2 … K, one network instead of an ensemble: the member among the
first k whose own validation ``select_metric`` is best (ties to the earlier member), row
``<variant> best of <k>``. With ``retrain.ensemble_of: ranking`` that is the policy "retrain
the k best-ranked architectures, keep the best on validation"; with seeds, the best of k
seeds. Its validation figures are the ones it chose on, optimistic by construction, so only
its test figures compare it with the other rows.

Writes ``ensemble_size.csv`` (long-form test table, as ``table.csv``: variant
``<variant> x<k>``), ``ensemble_size_cells.csv`` (validation and test of every cell
and size) and ``ensemble_size.md`` (validation beside test per size, and the paired
test WAF AUILC gain of each size over one network). Cost: one forward pass per
member and split per cell, on CPU.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

from validation_policies import (_pm, check_reloaded, choose_by_validation, ensemble_metrics,  # noqa: E402
                                 load_checked, markdown_report, paired_auilc, raw_outputs, read_sweep, write_tables)


def member_predictions(run_dir: Path, splits=('valid', 'test')):
    """``({split: ([fused output of each member], label)}, metric kind, task)`` of a finished run."""
    from rmnas_nni.data import make_loader
    cfg, data, model, kind, _ = load_checked(run_dir)
    members = list(getattr(model, 'members', [model]))
    out = {}
    for split in splits:
        loader = make_loader(data.splits[split], data.level, cfg.retrain.batch_size, shuffle=False)
        got = [raw_outputs(m, loader) for m in members]
        out[split] = ([p for p, _ in got], got[0][1])
    return out, kind, data.task


def collect(sweep: Path, printer=print, best_of: bool = False) -> List[Dict]:
    """One record per (variant, size, rate, seed): ``valid_<m>`` and ``<m>`` (test); with ``best_of`` also
    one per (variant, k >= 2, rate, seed) for the member of the first k best on validation (``chosen``)."""
    rows: List[Dict] = []
    for path in sorted(sweep.glob('cells/*/r*-s*/metrics.json')):
        run_dir = path.parent
        metrics = json.loads(path.read_text())
        variant = run_dir.parent.name
        rate, seed = run_dir.name[1:].split('-s')
        preds, kind, task = member_predictions(run_dir)
        k_all = len(preds['test'][0])
        select = metrics['select_metric']
        check_reloaded(run_dir, preds, kind, task, metrics, select)
        for k in range(1, k_all + 1):
            rec = {s: ensemble_metrics(preds[s][0][:k], preds[s][1], kind, task) for s in ('valid', 'test')}
            rows.append({'variant': f'{variant} x{k}', 'rate': float(rate), 'seed': int(seed),
                         **{f'valid_{m}': v for m, v in rec['valid'].items()}, **rec['test']})
        printer(f'{variant} r={float(rate):g} seed {seed}: test {select} by size '
                + ', '.join(f"{r[select]:.4f}" for r in rows[-k_all:]))
        if best_of:
            single = [{s: ensemble_metrics([preds[s][0][i]], preds[s][1], kind, task) for s in ('valid', 'test')}
                      for i in range(k_all)]
            for k in range(2, k_all + 1):
                i = choose_by_validation({j: single[j]['valid'][select] for j in range(k)}, select)
                rows.append({'variant': f'{variant} best of {k}', 'rate': float(rate), 'seed': int(seed),
                             'chosen': i, **{f'valid_{m}': v for m, v in single[i]['valid'].items()},
                             **single[i]['test']})
    return rows


def ranked_members(sweep: Path) -> bool:
    """Whether the sweep's ensembles are of the ranking (``retrain.ensemble_of: ranking``, its cells'
    ``metrics.json``) rather than of seeds."""
    return any(json.loads(p.read_text()).get('ensemble_of') == 'ranking'
               for p in sweep.glob('cells/*/r*-s*/metrics.json'))


def report(cells, table, sweep: str, ranking: bool = False) -> str:
    import pandas as pd
    from rmnas_nni.sweep import summary_frame
    from rmnas_nni.metrics import DISPLAY_NAMES
    shown = [m for m in ('waf', 'acc2', 'acc') if m in cells.columns][:1] + (['mae'] if 'mae' in cells.columns else [])
    key = shown[0]
    name = DISPLAY_NAMES.get(key, key)
    tried, paired = [], []
    for v in dict.fromkeys(cells['variant']):
        sub = cells[cells['variant'] == v]
        auc = table[(table['variant'] == v) & (table['stat'].isin(['AUILC', 'AUILC std']))][key].tolist()
        row = {'configuration': v, 'cells': len(sub)}
        for split, prefix in (('val', 'valid_'), ('test', '')):
            for m in shown:
                fmt = '.4f' if m == 'mae' else '.2f'
                row[f'{split} {DISPLAY_NAMES.get(m, m)}'] = f"{sub[prefix + m].mean():{fmt}}"
        row[f'test {name} AUILC'] = f'{auc[0]:.2f} ± {auc[1]:.2f}'
        tried.append(row)
        base = (v.rsplit(' best of ', 1)[0] if ' best of ' in v else v.rsplit(' x', 1)[0]) + ' x1'
        if v != base:
            d = paired_auilc(cells, v, base, key)
            paired.append({'row': v, 'minus': base, 'seeds': len(d), 'mean ± std': _pm(d),
                           'per seed': ', '.join(f'{x:+.2f}' for x in d)})
    return markdown_report(
        ('Ensembles of the first k members (the k best-ranked architectures, retrain.ensemble_of: ranking)'
         if ranking else 'Seed ensembles of the first k members')
        + f' of every cell of {sweep} (bench/ensemble_size.py); '
        'test metrics, mean ± std over seeds; AUILC per seed, then mean ± std.',
        summary_frame(table), 'Validation (what chooses) beside test, mean over the cells'
        + ("; a row 'best of k' is one network, chosen on the validation shown (optimistic by construction):"
           if any(' best of ' in v for v in cells['variant']) else ':'), pd.DataFrame(tried),
        f'Paired test {name} AUILC differences, k members minus one (same seeds and masks):', pd.DataFrame(paired))


def main(argv=None):
    args, rows = read_sweep(__doc__, 'sweep directory run with retrain.ensemble > 1',
                            lambda sweep, a: collect(sweep, best_of=a.best_of), 'no finished cell', argv,
                            options=lambda p: p.add_argument(
                                '--best-of', action='store_true',
                                help='also one network per k: the member of the first k best on validation'),
                            pass_args=True)
    import pandas as pd
    ranking = ranked_members(args.sweep)
    write_tables(pd.DataFrame(rows), args.out, 'ensemble_size', lambda c, t: report(c, t, args.sweep.name, ranking))

if __name__ == '__main__':
    main()
