"""Does the supernet rank architectures as retraining does? (weight-sharing rank correlation)

Read from a finished sweep with the variants ``full`` (a one-shot search, its supernet
kept in ``search/checkpoints``), ``hand_designed`` and ``random_arch`` on the same
rates, seeds and masks; nothing is trained. For every cell (rate, seed), five
architectures of the same space have been retrained from scratch: the searched one,
the hand-designed one and the ``random_k`` random draws of the ``random_arch`` cell
(each candidate's ``metrics.json``). The cell's trained supernet scores each of them
two ways, as a one-shot search can:

* ``alpha``: the mean log choice weight of its choices (``arch_probs.json``, the
  weights the search exported; an input choice's weight is that of its candidate);
* ``inherited``: its fixed network with the supernet's weights
  (:func:`rmnas_nni.weight_transfer.transfer_supernet_weights`, as the ``no_retrain``
  variant does), evaluated on the validation split (the cell's ``select_metric``).

Each score is compared, by Kendall's tau over the cell's architectures, with the
retrained networks' validation figure (``retrained val``: what the cell selected
on; with ``retrain.ensemble`` > 1 the ensemble's, and member 0's is added as
``single val``) and with their test figure (reported, chooses nothing). A tau near
0 says that the supernet cannot tell the architectures apart the way training
from scratch does, so a search that trusts it picks at random among them. As a
reference, ``single val`` against ``retrained test`` says how well one retrained
network's validation figure itself ranks them.

    python bench/weight_sharing_rank.py --sweep runs/ens3 --out docs/results/mosi_weight_sharing

With ``retrain.ensemble`` > 1 each architecture was retrained from several seeds, and
the report also sets the spread between the architectures of a cell against the
spread between retraining seeds of one architecture.

Writes ``weight_sharing_cells.csv`` (every architecture of every cell with its
scores), ``weight_sharing_taus.csv`` (per cell) and ``weight_sharing.md`` (mean tau
over cells, per seed, the spreads, and which architecture each score finds best).
"""
from __future__ import annotations

import json
import sys
from itertools import combinations
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

from validation_policies import markdown_report, read_sweep  # noqa: E402


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b of two equally long sequences (ties counted as neither); NaN when undefined."""
    conc = disc = tx = ty = 0
    for i, j in combinations(range(len(x)), 2):
        a, b = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if a == 0 and b == 0:
            continue
        if a == 0:
            tx += 1
        elif b == 0:
            ty += 1
        elif a == b:
            conc += 1
        else:
            disc += 1
    den = np.sqrt((conc + disc + tx) * (conc + disc + ty))
    return float((conc - disc) / den) if den else float('nan')


def alpha_score(arch: Dict, probs: Dict[str, Dict[str, float]]) -> float:
    """Mean log choice weight of an architecture's choices under the exported weights."""
    logs = []
    for label, value in arch.items():
        dist = probs.get(label)
        if dist is None:
            continue
        for v in (value if isinstance(value, list) else [value]):
            logs.append(np.log(max(float(dist[str(v)]), 1e-12)))
    return float(np.mean(logs))


def _cells(sweep: Path):
    found: Dict = {}
    for variant in ('full', 'hand_designed', 'random_arch'):
        for path in sorted(sweep.glob(f'cells/{variant}/r*-s*/metrics.json')):
            rate, seed = path.parent.name[1:].split('-s')
            found.setdefault((float(rate), int(seed)), {})[variant] = path.parent
    return {k: v for k, v in sorted(found.items()) if len(v) == 3}


def collect(sweep: Path, printer=print) -> List[Dict]:
    import torch
    from rmnas_nni.metrics import metric_direction
    from rmnas_nni.pipeline import (build_fixed_model, build_space, load_architecture, load_supernet, prepare_data,
                                    select_metric_of)
    from rmnas_nni.rundir import load_run
    from rmnas_nni.trainer import evaluate
    from rmnas_nni.data import make_loader
    from rmnas_nni.weight_transfer import transfer_supernet_weights
    torch.set_num_threads(1)
    rows: List[Dict] = []
    for (rate, seed), dirs in _cells(sweep).items():
        cfg = load_run(dirs['full'])
        data, masks = prepare_data(cfg)
        for d in dirs.values():
            saved = np.load(d / 'masks.npz')
            if any(not np.array_equal(saved[f'{s}/{m}'], mask) for s, by in masks.items() for m, mask in by.items()):
                raise SystemExit(f'{d}: masks differ from those of {dirs["full"]}')
        kind, select = select_metric_of(cfg, data)
        lower = metric_direction(select) == 'min'
        supernet = load_supernet(cfg, data, dirs['full'])
        space = build_space(cfg, data)
        probs = json.loads((dirs['full'] / 'arch_probs.json').read_text())
        entries = [('searched', dirs['full']), ('hand_designed', dirs['hand_designed'])]
        entries += [(f'random{c.name[4:]}', c) for c in sorted((dirs['random_arch'] / 'candidates').glob('arch*'))]
        loader = make_loader(data.splits['valid'], data.level, cfg.retrain.batch_size, shuffle=False)
        for name, d in entries:
            arch = load_architecture(d / 'arch.json', space)
            m = json.loads((d / 'metrics.json').read_text())
            fixed = build_fixed_model(cfg, data, arch, cfg.seed)
            transfer_supernet_weights(supernet, fixed, arch)
            inherited = evaluate(fixed, loader, data.task, kind, torch.device('cpu'))
            members = m.get('members') or [{'valid': m['valid']}]
            rows.append({'rate': rate, 'seed': seed, 'arch': name, 'select_metric': select,
                         'alpha': alpha_score(arch, probs), 'inherited_val': inherited[select],
                         'retrained_val': m['valid'][select], 'single_val': members[0]['valid'][select],
                         'member_val_std': (float(np.std([x['valid'][select] for x in members], ddof=1))
                                            if len(members) > 1 else float('nan')),
                         'retrained_test': m['test'][select], 'lower_is_better': lower})
        cell = rows[-len(entries):]
        printer(f'r={rate:g} seed {seed}: ' + ', '.join(
            f"{r['arch']} inherited {r['inherited_val']:.3f} retrained {r['retrained_val']:.3f}" for r in cell))
    return rows


PAIRS = [('alpha', 'retrained_val'), ('inherited_val', 'retrained_val'), ('alpha', 'retrained_test'),
         ('inherited_val', 'retrained_test'), ('single_val', 'retrained_test'), ('retrained_val', 'retrained_test')]


def taus(cells) -> List[Dict]:
    """Kendall's tau per cell for every pair of scores, oriented so that +1 means the same order of quality."""
    out = []
    for (rate, seed), sub in cells.groupby(['rate', 'seed']):
        sign = -1.0 if bool(sub['lower_is_better'].iloc[0]) else 1.0
        quality = {c: sign * sub[c].to_numpy() for c in ('inherited_val', 'retrained_val', 'single_val',
                                                         'retrained_test')}
        quality['alpha'] = sub['alpha'].to_numpy()
        rec = {'rate': rate, 'seed': seed}
        for a, b in PAIRS:
            rec[f'{a} ~ {b}'] = kendall_tau(quality[a], quality[b])
        best = sub.iloc[int(np.argmax(quality['retrained_test']))]['arch']
        rec['between architectures'] = float(np.std(sub['retrained_val'], ddof=1))
        ordered = np.sort(quality['retrained_val'])[::-1]
        rec['gap: best minus second best'] = float(ordered[0] - ordered[1])
        rec['within (retraining seeds)'] = float(sub['member_val_std'].mean())
        rec['best by retrained test'] = best
        rec['best by retrained val'] = sub.iloc[int(np.argmax(quality['retrained_val']))]['arch']
        rec['best by inherited val'] = sub.iloc[int(np.argmax(quality['inherited_val']))]['arch']
        out.append(rec)
    return out


def report(cells, per_cell, sweep: str) -> str:
    import pandas as pd
    t = pd.DataFrame(per_cell)
    n_arch = int(cells.groupby(['rate', 'seed']).size().iloc[0])
    rows = []
    for a, b in PAIRS:
        col = f'{a} ~ {b}'
        by_seed = t.groupby('seed')[col].mean()
        rows.append({'scores compared (tau over the architectures of a cell)': f'`{a}` vs `{b}`',
                     'cells': int(t[col].notna().sum()), 'mean tau': f'{t[col].mean():+.3f}',
                     'std': f'{t[col].std(ddof=1):.3f}',
                     'per seed': ', '.join(f'{v:+.3f}' for v in by_seed)})
    spread = []
    for col in ('between architectures', 'gap: best minus second best', 'within (retraining seeds)'):
        spread.append({'spread of the retrained validation figure': col, 'median over cells': f'{t[col].median():.4f}',
                       'mean': f'{t[col].mean():.4f}', 'min': f'{t[col].min():.4f}', 'max': f'{t[col].max():.4f}'})
    counts = []
    for col in ('best by retrained val', 'best by retrained test', 'best by inherited val'):
        vc = t[col].value_counts()
        counts.append({'which architecture is best': col, **{k: int(vc.get(k, 0)) for k in sorted(set(cells['arch']))}})
    counts = pd.DataFrame(counts).fillna(0)
    return markdown_report(
        f'Weight-sharing rank correlation over {sweep} (bench/weight_sharing_rank.py): per cell, '
        f'{n_arch} architectures retrained from scratch (searched, hand-designed, random draws), scored by the '
        f'cell\'s supernet; Kendall tau per cell (+1: the same order of quality), mean over {len(t)} cells.',
        pd.DataFrame(rows),
        'How far apart the architectures are, against retraining noise (cell\'s `select_metric`; between: '
        'std over the architectures of their retrained figure; gap: between the best two of them; within: std over the retraining seeds of one '
        'architecture, averaged over its architectures; NaN without `retrain.ensemble` > 1):',
        pd.DataFrame(spread),
        'The best of the cell\'s architectures by each score (cells):', counts)


def main(argv=None):
    args, rows = read_sweep(__doc__, 'sweep directory with cells/{full,hand_designed,random_arch}', collect,
                            'no cell finished by full, hand_designed and random_arch', argv)
    import pandas as pd
    cells = pd.DataFrame(rows)
    per_cell = taus(cells)
    args.out.mkdir(parents=True, exist_ok=True)
    cells.to_csv(args.out / 'weight_sharing_cells.csv', index=False)
    pd.DataFrame(per_cell).to_csv(args.out / 'weight_sharing_taus.csv', index=False)
    text = report(cells, per_cell, args.sweep.name)
    (args.out / 'weight_sharing.md').write_text(text)
    print(text)


if __name__ == '__main__':
    main()
