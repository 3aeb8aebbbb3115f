"""One table and one set of plots from several sweep directories of the same data.

Sweeps run side by side (one process each, e.g. the searched variant and the NAS
baselines) are merged cell by cell: every ``cells/<variant>/r<rate>-s<seed>/metrics.json``
of every sweep, with a variant renamed ``NAME`` where the sweep is given as
``NAME=DIR:VARIANT``. The table is built by the sweep module itself (AUILC per seed,
then mean ± std), so it reads exactly like a ``sweep.md``; a ``random_arch`` cell also
gives its ``(median)`` row. Paired differences (same seeds, same masks) of one
variant against the others are added for the metric of ``--paired``. Where a cell
drew architectures (``random_arch``), ``draws.csv`` lists every
draw with its validation and test metrics, the modalities its prediction reads, and
whether the cell kept it.

    python bench/merge_sweeps.py --out docs/results/mosi_nas_baselines \
        RMNAS=runs/final_best:full runs/final_baselines --paired waf \
        --baseline GCNet=docs/results/mosi_nas_baselines/gcnet_peers.csv
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def finished_cells(specs) -> Iterator[Tuple[str, float, int, Path]]:
    """(variant as merged, rate, seed, cell folder) of every finished cell the ``NAME=DIR:VARIANT`` arguments
    name."""
    for spec in specs:
        name, _, rest = spec.rpartition('=')
        folder, _, only = rest.partition(':')
        for path in sorted(Path(folder).glob('cells/*/r*-s*/metrics.json')):
            variant = path.parent.parent.name
            if only and variant != only:
                continue
            rate, seed = path.parent.name[1:].split('-s')
            yield name or variant, float(rate), int(seed), path.parent


def load_cells(specs):
    """The finished cells of every sweep as :func:`rmnas_nni.sweep.collect_results` reads them."""
    from rmnas_nni.sweep import SweepCell, collect_results
    return collect_results([SweepCell(variant, rate, seed, {}, folder)
                            for variant, rate, seed, folder in finished_cells(specs)])


def draw_rows(specs) -> List[Dict]:
    """Every draw of the sweeps' ``random_arch`` cells (a cell's ``metrics.json`` lists them under
    ``candidates``): variant as merged, rate, seed, draw, whether the cell kept it, its validation and test
    metrics, and the modalities whose features reach its prediction (:func:`rmnas_nni.figures.fused_modalities`,
    from the draw's run folder). Empty when no cell drew architectures."""
    from rmnas_nni.figures import describe_run, fused_modalities
    rows = []
    for variant, rate, seed, folder in finished_cells(specs):
        m = json.loads((folder / 'metrics.json').read_text())
        for c in m.get('candidates', ()):
            fused = fused_modalities(describe_run(folder / 'candidates' / f"arch{c['index']}"))
            rows.append(dict({'variant': variant, 'rate': rate, 'seed': seed, 'draw': c['index'],
                              'kept': c['index'] == m.get('chosen'),
                              'constant_prediction': bool(c.get('constant_prediction')),
                              'fused_modalities': '+'.join(fused)},
                             **{f'valid_{k}': v for k, v in c['valid'].items()},
                             **{f'test_{k}': v for k, v in c['test'].items()}))
    return rows


def spec_name(spec: str, out: Path) -> str:
    """A sweep argument as table.md names it: its folder relative to the output folder or the
    project when it lies inside one of them, else by its name (no absolute path of the machine)."""
    name, eq, rest = spec.rpartition('=')
    folder, colon, only = rest.partition(':')
    p = Path(folder).resolve()
    for base in (out.resolve(), ROOT):
        try:
            p = p.relative_to(base)
            break
        except ValueError:
            pass
    else:
        p = Path(p.name)
    return f'{name}{eq}{p.as_posix()}{colon}{only}'


def paired(results, metric: str, reference: str) -> str:
    """AUILC (or mean over rates) differences of ``reference`` minus each other variant, per seed."""
    from rmnas_nni.metrics import auilc
    lines = [f'| {reference} minus | seeds | paired {metric} AUILC difference (mean ± std) | per seed |',
             '|---|---|---|---|']
    ref = results[results['variant'] == reference]
    for other in dict.fromkeys(results['variant']):
        if other == reference:
            continue
        sub = results[results['variant'] == other]
        diffs = []
        for seed in sorted(set(ref['seed']) & set(sub['seed'])):
            a = ref[ref['seed'] == seed].sort_values('rate')
            b = sub[sub['seed'] == seed].sort_values('rate')
            if list(a['rate']) != list(b['rate']) or a['rate'].iloc[0] != 0.0:
                continue
            diffs.append(auilc(a['rate'], a[metric]) - auilc(b['rate'], b[metric]))
        if diffs:
            lines.append(f'| {other} | {len(diffs)} | {np.mean(diffs):+.2f} ± {np.std(diffs, ddof=1) if len(diffs) > 1 else 0:.2f} '
                         f"| {', '.join(f'{d:+.2f}' for d in diffs)} |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('sweeps', nargs='+', help='DIR, DIR:VARIANT or NAME=DIR:VARIANT')
    p.add_argument('--out', type=Path, required=True)
    p.add_argument('--paired', default='waf', help='metric of the paired differences')
    p.add_argument('--reference', help='variant the paired differences are taken from (default: the first)')
    p.add_argument('--baseline', action='append', default=[], metavar='NAME=CSV',
                   help="another model's per-rate test metrics (as rmnas sweep --baseline)")
    args = p.parse_args(argv)
    from rmnas_nni.sweep import aggregate, load_baseline, markdown_table, summary_frame, with_baselines, write_plots
    results = load_cells(args.sweeps)
    rates = sorted(set(results['rate']))
    baselines = {}
    for spec in args.baseline:
        name, _, path = spec.partition('=')
        baselines[name] = load_baseline(name, path)
    table = aggregate(with_baselines(results, baselines), rates)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / 'table.csv', index=False)
    summary = summary_frame(table)
    reference = args.reference or results['variant'].iloc[0]
    text = (f"Merged from: {', '.join(spec_name(s, args.out) for s in args.sweeps)}\n\n" + markdown_table(summary) + '\n\n'
            + paired(results, args.paired, reference) + '\n')
    (args.out / 'table.md').write_text(text)
    write_plots(table, args.out, title='')
    draws = draw_rows(args.sweeps)
    if draws:
        import pandas as pd
        pd.DataFrame(draws).sort_values(['variant', 'seed', 'rate', 'draw']).to_csv(args.out / 'draws.csv', index=False)
    print(text)


if __name__ == '__main__':
    main()
