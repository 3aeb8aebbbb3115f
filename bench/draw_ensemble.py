"""The ensemble of a ``random_arch`` cell's random architectures: the control for an ensemble of the ranking.

``retrain.ensemble_of: ranking`` averages the three best architectures of SPOS's
ranking. Whether the ranking matters, or only that the members differ, is told by
the same ensemble of architectures that nothing ranked: the ``search.random_k``
architectures a ``random_arch`` cell drew uniformly and retrained
(``candidates/arch<k>/``, each a run directory). A cell keeps the weights of its kept
draw only, so each draw is retrained here from its run directory's config and
architecture into ``OUT/draws/<cell>/arch<k>/`` (the same run: its validation and
test metrics must equal those in the draw's ``metrics.json``, or the script stops).
Each is then loaded as ``rmnas evaluate`` loads a run
(:func:`rmnas_nni.pipeline.load_retrained`, its masks redrawn from its config and
checked against its ``masks.npz``); their predictions on the validation and test
splits are averaged with equal weights and scored by
:func:`rmnas_nni.metrics.compute_metrics`. Nothing is chosen. The cell's own rows (the
draw kept on validation, the median of the draws) are printed beside it.

    rmnas sweep -c examples/mosi_dialogue_spos.yml --rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 --seeds 0 1 2 \
        --variants random_arch --set search.random_k=3 --set threads=1 --quiet --out runs/random3
    python bench/draw_ensemble.py --sweep runs/random3 --out docs/results/mosi_spos/ranking_ensemble/draws

Writes ``draw_ensemble.csv`` (the long-form test table, as a sweep's ``table.csv``),
``draw_ensemble_cells.csv`` (validation and test metrics of every row and cell) and
``draw_ensemble.md``. Cost: per cell, the K networks retrained (a finished one is not
trained again) and run on the validation and test splits: about 30 s a cell of the
tiny MOSI space on one core.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

from validation_policies import (_predictions, check_reloaded, check_same_masks, ensemble_metrics,  # noqa: E402
                                 markdown_report, write_tables)

RANDOM = 'random_arch'
MEDIAN = 'random_arch (median)'


def ensemble_name(k: int) -> str:
    return f'random_arch, {k} draws ensembled'


def retrained_draw(draw: Path, work: Path) -> Path:
    """The run directory ``draw`` (a ``random_arch`` candidate) retrained into ``work`` as the cell trained it;
    stops when its validation or test metrics differ from the draw's ``metrics.json``."""
    import shutil
    from rmnas_nni.pipeline import load_architecture, build_space, prepare_data, retrain
    from rmnas_nni.rundir import load_run
    if not (work / 'model.pt').is_file():
        work.mkdir(parents=True, exist_ok=True)
        for name in ('config.yaml', 'environment.json', 'masks.npz', 'arch.json'):
            if (draw / name).is_file():
                shutil.copyfile(draw / name, work / name)
        cfg = load_run(draw)
        data, _ = prepare_data(cfg)
        retrain(cfg, data, load_architecture(draw / 'arch.json', build_space(cfg, data)), work,
                printer=lambda line: None)
    recorded = json.loads((draw / 'metrics.json').read_text())
    again = json.loads((work / 'metrics.json').read_text())
    for split in ('valid', 'test'):
        for k, v in recorded[split].items():
            if not np.isclose(again[split][k], v, rtol=1e-5, atol=1e-6):
                raise SystemExit(f'{draw}: retrained again, {split} {k} {again[split][k]} against {v} in '
                                 f'metrics.json (not the same run)')
    return work


def collect(sweep: Path, out: Path, printer=print) -> List[Dict]:
    """One record per (row, rate, seed): ``variant, rate, seed``, ``valid_<m>`` and ``<m>`` (test)."""
    rows: List[Dict] = []
    for path in sorted(sweep.glob(f'cells/{RANDOM}/r*-s*/metrics.json')):
        rate, seed = path.parent.name[1:].split('-s')
        rate, seed = float(rate), int(seed)
        metrics = json.loads(path.read_text())
        select = metrics['select_metric']
        draws = sorted(path.parent.glob('candidates/arch*/metrics.json'), key=lambda p: int(p.parent.name[4:]))
        if not draws:
            raise SystemExit(f'{path.parent}: no candidates/arch<k>/ (not a random_arch cell)')
        preds, kind, task, masks = [], None, None, []
        for draw in draws:
            work = retrained_draw(draw.parent, out / 'draws' / path.parent.name / draw.parent.name)
            pred, kind, saved, task = _predictions(work)
            masks.append({k: saved[k] for k in saved.files})
            check_reloaded(draw.parent, {split: ([o], label) for split, (o, label) in pred.items()}, kind, task,
                           json.loads(draw.read_text()), select)
            preds.append(pred)
        check_same_masks(masks, f'{path.parent}: the draws ran on different masks')

        def add(variant, rec):
            rows.append({'variant': variant, 'rate': rate, 'seed': seed,
                         **{f'valid_{k}': v for k, v in rec['valid'].items()}, **rec['test']})

        add(ensemble_name(len(draws)), {split: ensemble_metrics([p[split][0] for p in preds], preds[0][split][1],
                                                                kind, task) for split in ('valid', 'test')})
        add(RANDOM, metrics)
        add(MEDIAN, {'valid': {k: np.nan for k in metrics['valid']}, 'test': metrics['test_median']})
        printer(f'r={rate:g} seed {seed}: test {select} ' + ', '.join(
            f"{r['variant']} {r[select]:.4f}" for r in rows if r['rate'] == rate and r['seed'] == seed))
    return rows


def report(cells, table, sweep: str) -> str:
    from rmnas_nni.sweep import summary_frame
    from rmnas_nni.metrics import DISPLAY_NAMES
    names = [m for m in ('waf', 'mae') if m in cells.columns] or [
        c for c in cells.columns if c not in ('variant', 'rate', 'seed') and not c.startswith('valid_')]
    means = cells.groupby('variant', sort=False)[[f'valid_{m}' for m in names] + names].mean().round(4)
    means.columns = ([f'val {DISPLAY_NAMES.get(m, m)}' for m in names]
                     + [f'test {DISPLAY_NAMES.get(m, m)}' for m in names])
    means.insert(0, 'configuration', means.index)
    return markdown_report(
        f'The random architectures of `{sweep}` ({len(set(zip(cells["rate"], cells["seed"])))} cells): their '
        'equal-weight ensemble beside the draw kept on validation and the median draw. Test, mean ± std over seeds '
        'of the per-seed AUILC:', summary_frame(table), 'Mean over the cells (the median has no validation figure):',
        means)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sweep', type=Path, required=True, help='sweep directory with cells/random_arch')
    p.add_argument('--out', type=Path, required=True, help='tables here, the retrained draws in OUT/draws/')
    args = p.parse_args(argv)
    from rmnas_nni.pipeline import quiet_libraries
    quiet_libraries()
    rows = collect(args.sweep, args.out)
    if not rows:
        raise SystemExit(f'{args.sweep}: no finished random_arch cell')
    import pandas as pd
    write_tables(pd.DataFrame(rows), args.out, 'draw_ensemble', lambda c, t: report(c, t, args.sweep.name))


if __name__ == '__main__':
    main()
