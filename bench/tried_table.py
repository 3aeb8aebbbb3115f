"""The "configurations tried" table: validation beside test, per configuration, over sweep cells.

Each argument is ``NAME=DIR[:VARIANT]`` (a sweep directory, or a folder of run
directories under ``cells/<variant>/``; all variants unless one is named). Per configuration, over its cells: the mean validation
WAF and MAE of the retrained network at its selected epoch (what chooses), the mean
test WAF and MAE (reported, never used to choose), the epoch the search exported,
the normalised entropy and chosen weight of the choice weights at export, and what
the derived architectures hold: the share of fusion step operations that are
``zero`` and of token mixers that are ``identity`` (the parameter-free choices DARTS
is known to collapse onto). Classification runs have no MAE: those columns print ``–``.
With ``--retrain-epochs``, two more columns: the retraining's kept (best) epoch and the
epochs it ran, mean over the cells (for settings of the retraining itself). With
``--modalities``, one more: the share of cells whose exported architecture's
prediction reads every modality of the run's data (:func:`rmnas_nni.figures.fused_modalities`,
from the cell's config and ``arch.json``).

    python bench/tried_table.py final=runs/final_full best=runs/final_best
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))      # the checkout's package (--modalities)


def reads_every_modality(run_dir: Path) -> bool:
    """Whether the prediction of the run's exported architecture reads every modality of its data."""
    from rmnas_nni.pipeline import reads_every_modality as reads
    from rmnas_nni.rundir import load_run
    return reads(load_run(run_dir), json.loads((run_dir / 'arch.json').read_text()))   # the config it ran with


def row(name: str, folder: Path, variant: str = '*', retrain_epochs: bool = False, modalities: bool = False) -> str:
    cells = sorted(folder.glob(f'cells/{variant}/r*-s*/metrics.json'))
    vals = []
    for path in cells:
        m = json.loads(path.read_text())
        arch = json.loads((path.parent / 'arch.json').read_text())
        search = m.get('search') or {}
        ops = [v for k, v in arch.items() if k.endswith('/op')]
        mixers = [v for k, v in arch.items() if k.endswith('/mixer')]
        vals.append([m['valid']['waf'], m['valid'].get('mae'), m['test']['waf'], m['test'].get('mae'),
                     search.get('best_epoch') if search.get('export') == 'best' else search.get('epochs_run'),
                     (search.get('choices') or {}).get('entropy'), (search.get('choices') or {}).get('top_weight'),
                     np.mean([o == 'zero' for o in ops]) if ops else np.nan,
                     np.mean([x == 'identity' for x in mixers]) if mixers else np.nan,
                     m.get('best_epoch'), m.get('epochs_run'),
                     float(reads_every_modality(path.parent)) if modalities else np.nan])
    a = np.array([[np.nan if v is None else v for v in r] for r in vals], dtype=float)
    with np.errstate(all='ignore'):
        import warnings
        warnings.simplefilter('ignore', RuntimeWarning)
        mu = np.nanmean(a, axis=0)
    fmt = lambda v, f: '–' if not np.isfinite(v) else format(v, f)   # noqa: E731
    extra = f' {fmt(mu[9], ".1f")} | {fmt(mu[10], ".1f")} |' if retrain_epochs else ''
    extra += f' {fmt(mu[11], ".0%")} |' if modalities else ''
    return (f'| {name} | {len(a)} | {mu[0]:.2f} | {fmt(mu[1], ".4f")} | {mu[2]:.2f} | {fmt(mu[3], ".4f")} | {fmt(mu[4], ".1f")} '
            f'| {fmt(mu[5], ".3f")} | {fmt(mu[6], ".3f")} | {fmt(mu[7], ".0%")} | {fmt(mu[8], ".0%")} |' + extra)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('configs', nargs='+', help='NAME=DIR[:VARIANT]')
    p.add_argument('--retrain-epochs', action='store_true',
                   help="also the retraining's kept epoch and the epochs it ran")
    p.add_argument('--modalities', action='store_true',
                   help='also the share of cells whose exported architecture reads every modality')
    args = p.parse_args(argv)
    extra = ' retrained: kept epoch | retrained: epochs run |' if args.retrain_epochs else ''
    extra += ' reads every modality |' if args.modalities else ''
    print('| configuration | cells | val WAF | val MAE | test WAF | test MAE | exported epoch | entropy at export '
          '| chosen weight | zero ops | identity mixers |' + extra)
    print('|---|---|---|---|---|---|---|---|---|---|---|' + ('---|---|' if args.retrain_epochs else '')
          + ('---|' if args.modalities else ''))
    for spec in args.configs:
        name, _, rest = spec.partition('=')
        folder, _, variant = rest.partition(':')
        print(row(name, Path(folder), variant or '*', args.retrain_epochs, args.modalities))


if __name__ == '__main__':
    main()
