"""Two validation-only policies over a finished sweep of searched, hand-designed and random architectures.

Read from a sweep with the variants ``full`` (the searched network), ``hand_designed``
and ``random_arch`` on the same rates, seeds and masks (``rmnas sweep ... --variants
full hand_designed random_arch``); nothing is searched or trained again.

* **Validation fallback.** Per cell (rate, seed), the network with the better
  validation ``select_metric`` of the cells (the metric retraining selected its epoch
  on; MAE for MOSI) is kept: among {searched, hand-designed}, and among {searched,
  hand-designed, the 3 random architectures} (each random candidate's validation
  figures are in the ``random_arch`` cell's ``metrics.json``). Ties go to the first
  named (the searched network). Only validation figures reach the choice.
* **Ensemble.** The retrained networks of a cell (searched + hand-designed, and
  + the random architecture the ``random_arch`` cell kept on validation) are loaded
  as ``rmnas evaluate`` loads a run (:func:`rmnas_nni.pipeline.load_retrained`), their
  predictions on the cell's validation and test splits (the cell's masks, redrawn from
  its config and checked against its ``masks.npz``) are averaged with equal weights
  and scored by :func:`rmnas_nni.metrics.compute_metrics`. Nothing is chosen. A
  control row, hand-designed + random without the searched network, tells whether
  the searched network is a better member than a random one.

The test metrics of every row are aggregated as the sweep's own table is (AUILC per
seed, then mean ± std over seeds), with paired AUILC differences of each policy
minus the searched network and minus the hand-designed one (same seeds and masks).

    python bench/validation_policies.py --sweep runs/mid_sweep --out docs/results/mosi_mid_nas_baselines \
        --baseline GCNet=docs/results/mosi_nas_baselines/gcnet_peers.csv

Writes ``validation_policies.csv`` (the long-form test table, as ``table.csv``),
``validation_policies_cells.csv`` (every cell of every row: validation and test
metrics, what the fallback chose) and ``validation_policies.md``. Cost: per cell,
three networks loaded (masks redrawn and checked) and run on the validation and test
splits, on CPU: about 35 s for the 24 cells of the mid-sized MOSI sweep on one core.
An ensemble costs its members' inference and parameters together (2-3 networks).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEARCHED, HAND, RANDOM = 'RMNAS', 'hand_designed', 'random_arch'
FOLDERS = {SEARCHED: 'full', HAND: 'hand_designed', RANDOM: 'random_arch'}
FALLBACK2 = 'fallback (RMNAS or hand)'
FALLBACK5 = 'fallback (of 5)'
ENSEMBLE2 = 'ensemble (RMNAS + hand)'
ENSEMBLE3 = 'ensemble (RMNAS + hand + random)'
CONTROL = 'ensemble (hand + random)'      # control: an ensemble of two without the searched network
POLICIES = (FALLBACK2, FALLBACK5, ENSEMBLE2, ENSEMBLE3, CONTROL)


def choose_by_validation(valid: Mapping[str, float], select: str) -> str:
    """The name whose validation ``select`` value is best (lowest for MAE); the first on a tie.

    ``valid`` maps each candidate to its validation value alone, so nothing else can
    reach the choice; a non-finite value counts as the worst.
    """
    from rmnas_nni.metrics import metric_direction
    lower = metric_direction(select) == 'min'
    best, best_score = None, None
    for name, value in valid.items():
        score = float(value) if np.isfinite(value) else (np.inf if lower else -np.inf)
        score = score if lower else -score
        if best is None or score < best_score:
            best, best_score = name, score
    if best is None:
        raise ValueError('no candidate to choose from')
    return best


def fallback(candidates: Mapping[str, Mapping[str, Mapping[str, float]]], select: str):
    """``(chosen name, its record)`` among ``{name: {'valid': {...}, 'test': {...}}}``, on validation only."""
    name = choose_by_validation({k: c['valid'][select] for k, c in candidates.items()}, select)
    return name, candidates[name]


def ensemble_metrics(preds: Sequence[np.ndarray], label: np.ndarray, kind: str,
                     task: str = 'regression') -> Dict[str, float]:
    """The metrics of the equal-weight mean of several networks' outputs for the same entries: regression
    values, or classification logits (then the argmax), as :class:`~rmnas_nni.trainer.SeedEnsemble` predicts."""
    from rmnas_nni.metrics import compute_metrics
    mean = np.mean(np.stack([np.asarray(p, dtype=np.float64) for p in preds]), axis=0)
    return compute_metrics(mean.argmax(-1) if task == 'classification' else mean, label, kind)


def check_reloaded(where, outputs, kind: str, task: str, recorded: Mapping, select: str) -> None:
    """Stop unless ``outputs`` (``{split: ([each member's outputs], label)}``, a reloaded run) score
    ``select`` on validation and test as ``recorded`` (the run's ``metrics.json``) says."""
    for split in ('valid', 'test'):
        again = ensemble_metrics(outputs[split][0], outputs[split][1], kind, task)[select]
        if not np.isclose(again, recorded[split][select], rtol=1e-5, atol=1e-6):
            raise SystemExit(f'{where}: {split} {select} {again} reloaded, {recorded[split][select]} in '
                             f'metrics.json')


def check_same_masks(masks: Sequence[Mapping[str, np.ndarray]], what: str) -> None:
    """Stop with ``what`` unless every one of ``masks`` (``{name: mask}``, from ``masks.npz``) is the first."""
    if any(set(m) != set(masks[0]) or any(not np.array_equal(m[k], masks[0][k]) for k in m) for m in masks):
        raise SystemExit(what)


def raw_outputs(model, loader):
    """``(fused head outputs, labels)`` over the real entries of a loader: regression values, or
    classification logits."""
    import torch
    preds, labels = [], []
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for batch in loader:
            mask = batch['label_mask']
            preds.append(model(batch['inputs'], batch['masks'])['fused'][mask].float().numpy())
            labels.append(batch['label'][mask].numpy())
    model.train(was_training)
    return np.concatenate(preds), np.concatenate(labels)


def _cell_dirs(sweep: Path):
    """``{(rate, seed): {variant: dir}}`` for the cells every variant finished."""
    cells: Dict = {}
    for variant, folder in FOLDERS.items():
        for path in sorted(sweep.glob(f'cells/{folder}/r*-s*/metrics.json')):
            rate, seed = path.parent.name[1:].split('-s')
            cells.setdefault((float(rate), int(seed)), {})[variant] = path.parent
    return {k: v for k, v in sorted(cells.items()) if len(v) == len(FOLDERS)}


def load_checked(run_dir: Path):
    """A finished run's retrained model on CPU (:func:`rmnas_nni.pipeline.load_retrained`), its masks redrawn
    from its config and checked against its ``masks.npz``: ``(cfg, data, model, metric kind, saved masks)``."""
    import torch
    from rmnas_nni.pipeline import load_retrained, prepare_data
    torch.set_num_threads(1)
    cfg, data, model, kind = load_retrained(run_dir)
    saved = np.load(run_dir / 'masks.npz')
    _, masks = prepare_data(cfg)
    for split, by_mod in masks.items():
        for m, mask in by_mod.items():
            if not np.array_equal(saved[f'{split}/{m}'], mask):
                raise SystemExit(f'{run_dir}: the masks drawn from its config differ from masks.npz ({split}/{m})')
    return cfg, data, model, kind, saved


def _predictions(run_dir: Path, splits=('valid', 'test')):
    """``{split: (outputs, label)}`` of a run's retrained network (:func:`raw_outputs`), its metric kind, its
    masks as drawn from its config, and its task."""
    from rmnas_nni.data import make_loader
    cfg, data, model, kind, saved = load_checked(run_dir)
    out = {}
    for split in splits:
        loader = make_loader(data.splits[split], data.level, cfg.retrain.batch_size, shuffle=False)
        out[split] = raw_outputs(model, loader)
    return out, kind, saved, data.task


def collect(sweep: Path, printer=print) -> List[Dict]:
    """One record per (row, rate, seed): ``variant, rate, seed, chosen``, ``valid_<m>`` and ``<m>`` (test)."""
    rows: List[Dict] = []
    selects = set()
    for (rate, seed), dirs in _cell_dirs(sweep).items():
        metrics = {v: json.loads((d / 'metrics.json').read_text()) for v, d in dirs.items()}
        selects |= {m['select_metric'] for m in metrics.values()}
        if len(selects) != 1:
            raise SystemExit(f'the cells selected on different metrics ({sorted(selects)}); no common rule')
        select = next(iter(selects))

        def add(variant, rec, chosen=''):
            rows.append({'variant': variant, 'rate': rate, 'seed': seed, 'chosen': chosen,
                         **{f'valid_{k}': v for k, v in rec['valid'].items()}, **rec['test']})

        for v in (SEARCHED, HAND, RANDOM):
            add(v, metrics[v], chosen=str(metrics[v].get('chosen', '')) if v == RANDOM else '')
        add(f'{RANDOM} (median)', {'valid': {k: np.nan for k in metrics[RANDOM]['valid']},
                                   'test': metrics[RANDOM]['test_median']})
        two = {SEARCHED: metrics[SEARCHED], HAND: metrics[HAND]}
        name, rec = fallback(two, select)
        add(FALLBACK2, rec, name)
        five = dict(two)
        five.update({f'random{c["index"]}': c for c in metrics[RANDOM]['candidates']})
        name, rec = fallback(five, select)
        add(FALLBACK5, rec, name)
        # ensembles: predictions of the saved networks on the cell's masks
        preds, kind, masks = {}, None, []
        for v in (SEARCHED, HAND, RANDOM):
            preds[v], kind, saved, task = _predictions(dirs[v])
            masks.append({k: saved[k] for k in saved.files})
            check_reloaded(dirs[v], {split: ([out], label) for split, (out, label) in preds[v].items()}, kind, task,
                           metrics[v], select)
        check_same_masks(masks, f'r={rate:g} seed {seed}: the variants ran on different masks')
        for name, members in ((ENSEMBLE2, (SEARCHED, HAND)), (ENSEMBLE3, (SEARCHED, HAND, RANDOM)),
                              (CONTROL, (HAND, RANDOM))):
            rec = {}
            for split in ('valid', 'test'):
                label = preds[members[0]][split][1]
                if any(not np.array_equal(preds[v][split][1], label) for v in members):
                    raise SystemExit(f'r={rate:g} seed {seed}: the {split} labels differ between variants')
                rec[split] = ensemble_metrics([preds[v][split][0] for v in members], label, kind, task)
            add(name, rec, ' + '.join(members))
        printer(f'r={rate:g} seed {seed}: ' + ', '.join(
            f"{r['variant']} {r['waf']:.2f}" for r in rows if r['rate'] == rate and r['seed'] == seed))
    return rows


def paired_auilc(results, a: str, b: str, metric: str = 'waf') -> List[float]:
    """Per seed (with every rate in both): AUILC of ``a`` minus AUILC of ``b``."""
    from rmnas_nni.metrics import auilc
    out = []
    for seed in sorted(set(results[results['variant'] == a]['seed']) & set(results[results['variant'] == b]['seed'])):
        x = results[(results['variant'] == a) & (results['seed'] == seed)].sort_values('rate')
        y = results[(results['variant'] == b) & (results['seed'] == seed)].sort_values('rate')
        if list(x['rate']) != list(y['rate']) or x['rate'].iloc[0] != 0.0:
            continue
        out.append(auilc(x['rate'], x[metric]) - auilc(y['rate'], y[metric]))
    return out


def _pm(values: Sequence[float], fmt: str = '+.2f') -> str:
    return (f'{np.mean(values):{fmt}} ± {np.std(values, ddof=1):.2f}' if len(values) > 1
            else f'{np.mean(values):{fmt}}')


def report(cells, table, sweep: str) -> str:
    """The Markdown of the results: test table, paired differences, validation beside test, choices."""
    from rmnas_nni.sweep import summary_frame
    import pandas as pd
    variants = list(dict.fromkeys(table['variant']))
    rates = sorted(r for r in set(table['rate'].dropna()))
    wide = []
    for v in variants:
        sub = table[table['variant'] == v]
        row = {'variant': v}
        for r in rates:
            m = sub[(sub['stat'] == 'mean') & (sub['rate'] == r)]['waf'].iloc[0]
            s = sub[(sub['stat'] == 'std') & (sub['rate'] == r)]['waf'].iloc[0]
            row[f'r = {r:g}'] = f'{m:.2f}' + ('' if pd.isna(s) else f' ± {s:.2f}')
        m = sub[sub['stat'] == 'AUILC']['waf'].iloc[0]
        s = sub[sub['stat'] == 'AUILC std']['waf'].iloc[0]
        row['AUILC'] = f'{m:.2f}' + ('' if pd.isna(s) else f' ± {s:.2f}')
        wide.append(row)
    paired = []
    for a, b in [(p, ref) for ref in (SEARCHED, HAND) for p in POLICIES] + [(ENSEMBLE2, CONTROL)]:
        d = paired_auilc(cells, a, b)
        paired.append({'row': a, 'minus': b, 'seeds': len(d), 'mean ± std': _pm(d),
                       'per seed': ', '.join(f'{x:+.2f}' for x in d)})
    tried = []
    for v in [SEARCHED, HAND, RANDOM, *POLICIES]:
        sub = cells[cells['variant'] == v]
        auc = table[(table['variant'] == v) & (table['stat'].isin(['AUILC', 'AUILC std']))]['waf'].tolist()
        tried.append({'configuration': v, 'cells': len(sub), 'val WAF': f"{sub['valid_waf'].mean():.2f}",
                      'val MAE': f"{sub['valid_mae'].mean():.4f}", 'test WAF': f"{sub['waf'].mean():.2f}",
                      'test MAE': f"{sub['mae'].mean():.4f}", 'test WAF AUILC': f'{auc[0]:.2f} ± {auc[1]:.2f}'})
    counts = []
    for p in (FALLBACK2, FALLBACK5):
        chosen = cells[cells['variant'] == p]['chosen']
        counts.append({'policy': p, **{k: int(n) for k, n in chosen.value_counts().sort_index().items()}})
    counts = pd.DataFrame(counts).fillna(0)
    for c in counts.columns[1:]:
        counts[c] = counts[c].astype(int)
    return markdown_report(
        f'Validation-only policies over {sweep} (bench/validation_policies.py); test metrics, '
        'mean ± std over seeds; AUILC per seed, then mean ± std.',
        summary_frame(table), 'Test WAF per rate:', pd.DataFrame(wide),
        'Paired test WAF AUILC differences, row minus the other (same seeds and masks):', pd.DataFrame(paired),
        'Validation (what chooses; for a fallback the validation figure of the network it kept, '
        'so it is flattered by the choice) beside test, mean over the cells:', pd.DataFrame(tried),
        'What the fallbacks kept (cells):', counts)


def markdown_report(*parts) -> str:
    """A report in Markdown: ``parts`` in order, a string as a paragraph, anything else as a table
    (:func:`rmnas_nni.sweep.markdown_table` of a DataFrame), a blank line between two, a newline at the end."""
    from rmnas_nni.sweep import markdown_table
    return '\n\n'.join(p if isinstance(p, str) else markdown_table(p) for p in parts) + '\n'


def main(argv=None):
    args, rows = read_sweep(__doc__, 'sweep directory with cells/{full,hand_designed,random_arch}', collect,
                            f'no cell finished by all of {", ".join(FOLDERS.values())}', argv, _baseline_option)
    import pandas as pd
    from rmnas_nni.sweep import load_baseline
    baselines = {}
    for spec in args.baseline:
        name, _, path = spec.partition('=')
        baselines[name] = load_baseline(name, path)
    write_tables(pd.DataFrame(rows), args.out, 'validation_policies', lambda c, t: report(c, t, args.sweep.name),
                 baselines)


def _baseline_option(p: argparse.ArgumentParser) -> None:
    p.add_argument('--baseline', action='append', default=[], metavar='NAME=CSV',
                   help="another model's per-rate test metrics (as rmnas sweep --baseline)")


def read_sweep(doc: str, sweep_help: str, collect, nothing: str, argv=None, options=None, pass_args: bool = False):
    """The command line of a script that reads a finished sweep, and its rows: ``--sweep DIR --out DIR`` (then
    what ``options(parser)`` adds) parsed from ``argv``, the libraries quieted, ``rows = collect(args.sweep)``
    (``collect(args.sweep, args)`` with ``pass_args``, so that the options reach it);
    returns ``(args, rows)``, or exits with ``<sweep>: <nothing>`` when there is no row."""
    p = argparse.ArgumentParser(description=doc.split('\n')[0])
    p.add_argument('--sweep', type=Path, required=True, help=sweep_help)
    p.add_argument('--out', type=Path, required=True)
    if options is not None:
        options(p)
    args = p.parse_args(argv)
    from rmnas_nni.pipeline import quiet_libraries
    quiet_libraries()
    rows = collect(args.sweep, args) if pass_args else collect(args.sweep)
    if not rows:
        raise SystemExit(f'{args.sweep}: {nothing}')
    return args, rows


def write_tables(cells, out: Path, stem: str, report_of, baselines=None) -> str:
    """Aggregate per-cell rows (``variant, rate, seed``, test metrics, ``valid_<m>``) as a sweep's table is
    (AUILC per seed, then mean ± std; ``baselines`` rows after them) and write ``<stem>.csv`` (the long-form
    test table), ``<stem>_cells.csv`` (the rows) and ``<stem>.md`` (``report_of(cells, table)``, also printed)."""
    from rmnas_nni.sweep import aggregate, with_baselines
    metrics = [c for c in cells.columns if c not in ('variant', 'rate', 'seed', 'chosen') and not c.startswith('valid_')]
    results = cells[['variant', 'rate', 'seed', *metrics]]
    table = aggregate(with_baselines(results, baselines), sorted(set(results['rate'])))
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f'{stem}.csv', index=False)
    cells.to_csv(out / f'{stem}_cells.csv', index=False)
    text = report_of(cells, table)
    (out / f'{stem}.md').write_text(text)
    print(text)
    return text

if __name__ == '__main__':
    main()
