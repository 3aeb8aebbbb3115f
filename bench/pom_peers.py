"""Two peer models on the sweep's own data and masks, for ``rmnas sweep --baseline``.

For every missing rate and seed, the data is loaded through the project's
:func:`rmnas_nni.pipeline.prepare_data` with the run config (default:
``examples/pom_sentence.yml``) at that rate, so the features, the z-scoring, the
splits and the missing-modality masks are exactly those of the sweep's cells.
Two peers are fitted on the training split, chosen on the validation split only,
and scored on the test split with the project's metric set for the data:

``ridge``
    Ridge regression, closed form (numpy), on per-modality time averages of the
    *kept* real tokens (a zero vector when none is kept) plus each modality's kept
    fraction, concatenated over modalities, with an intercept that is not
    penalised. The penalty alpha is chosen on validation MAE from a fixed grid
    (10^-3 .. 10^4). Deterministic: every seed gives the same numbers.
``late_fusion``
    One small MLP per modality (input: the same per-modality mean of kept tokens and
    kept fraction; hidden 64, ReLU, dropout 0.1, output 1); the prediction is the
    average of the modality predictions. Adam (lr 1e-3, weight decay 1e-4), batch 32,
    up to 200 epochs, L1 loss, early stopping on validation MAE with patience 20; the
    weights of the best validation epoch are tested. Seeded by the sweep seed
    (torch and the shuffling).

Writes one CSV per peer (``rate, seed`` and the metric keys), the format of
``rmnas sweep --baseline NAME=CSV``, and ``constant.json``: the test metrics of
predicting the training labels' mean (the reference the results README quotes)::

    PYTHONPATH=. python bench/pom_peers.py --rates 0 0.2 0.4 0.6 0.8 1.0 --seeds 0 1 2 \\
        --out docs/results/pom_sentence_sweep/peers
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from rmnas_nni.metrics import compute_metrics, metric_kind  # noqa: E402
from rmnas_nni.pipeline import load_config, prepare_data  # noqa: E402

ALPHAS = [10.0 ** k for k in range(-3, 5)]


def pooled(data, masks) -> Dict[str, Dict[str, np.ndarray]]:
    """``{split: {modality: (N, d + 1)}}``: mean of the kept real tokens and the kept fraction."""
    out = {}
    for s, split in data.splits.items():
        out[s] = {}
        for m in data.modalities:
            x = split.features[m].astype(np.float64)
            lengths = np.asarray(split.lengths[m])
            real = np.arange(x.shape[1])[None, :] < lengths[:, None]
            keep = masks[s][m] & real
            n = keep.sum(axis=1)
            mean = (x * keep[:, :, None]).sum(axis=1) / np.maximum(n, 1)[:, None]
            frac = n / np.maximum(lengths, 1)
            out[s][m] = np.concatenate([mean, frac[:, None]], axis=1)
    return out


def ridge(feats, labels, kind):
    """Closed-form ridge, alpha chosen on validation MAE; returns (test metrics, alpha)."""
    X = {s: np.concatenate(list(feats[s].values()), axis=1) for s in feats}
    mu, sd = X['train'].mean(0), X['train'].std(0)
    sd[sd < 1e-8] = 1.0
    X = {s: (v - mu) / sd for s, v in X.items()}
    y = labels['train']
    ym = y.mean()
    best = None
    for a in ALPHAS:
        w = np.linalg.solve(X['train'].T @ X['train'] + a * np.eye(X['train'].shape[1]), X['train'].T @ (y - ym))
        val = float(np.mean(np.abs(X['valid'] @ w + ym - labels['valid'])))
        if best is None or val < best[0]:
            best = (val, a, w)
    _, a, w = best
    return compute_metrics(X['test'] @ w + ym, labels['test'], kind), a


class LateFusion(torch.nn.Module):
    def __init__(self, dims: List[int], hidden: int = 64, dropout: float = 0.1):
        super().__init__()
        self.heads = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                torch.nn.Linear(hidden, 1)) for d in dims)

    def forward(self, xs):
        return torch.stack([h(x).squeeze(-1) for h, x in zip(self.heads, xs)], 0).mean(0)


def late_fusion(feats, labels, kind, seed, epochs=200, patience=20, batch=32):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mods = list(feats['train'])
    t = {s: [torch.tensor(feats[s][m], dtype=torch.float32) for m in mods] for s in feats}
    y = {s: torch.tensor(labels[s], dtype=torch.float32) for s in labels}
    model = LateFusion([feats['train'][m].shape[1] for m in mods])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    n = len(y['train'])
    best, best_state, since = None, None, 0
    for _ in range(epochs):
        model.train()
        order = rng.permutation(n)
        for i in range(0, n, batch):
            idx = torch.as_tensor(order[i:i + batch])
            loss = torch.nn.functional.l1_loss(model([x[idx] for x in t['train']]), y['train'][idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = float(torch.mean(torch.abs(model(t['valid']) - y['valid'])))
        if best is None or val < best - 1e-6:
            best, since = val, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            since += 1
            if since >= patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        pred = model(t['test']).numpy()
    return compute_metrics(pred, labels['test'], kind)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', '-c', default='examples/pom_sentence.yml')
    p.add_argument('--rates', type=float, nargs='+', default=[round(0.1 * k, 1) for k in range(11)])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--out', type=Path, required=True, help='folder for ridge.csv and late_fusion.csv')
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = {'ridge': [], 'late_fusion': []}
    start, constant = time.time(), None
    for r in args.rates:
        cfg = load_config(args.config, {'data': {'missing': {'rate': float(r)}}})
        data, masks = prepare_data(cfg)
        kind = metric_kind(data.task, data.level, data.label_scale)
        feats = pooled(data, masks)
        labels = {s: sp.labels.astype(np.float64).ravel() for s, sp in data.splits.items()}
        ridge_metrics, alpha = ridge(feats, labels, kind)
        if constant is None:                    # the labels do not depend on the rate
            pred = np.full(len(labels['test']), labels['train'].mean())
            constant = {'predictor': 'the mean of the training labels',
                        **{k: float(v) for k, v in compute_metrics(pred, labels['test'], kind).items()}}
        for seed in args.seeds:
            rows['ridge'].append({'rate': r, 'seed': seed, **ridge_metrics})
            m = late_fusion(feats, labels, kind, seed)
            rows['late_fusion'].append({'rate': r, 'seed': seed, **m})
            print(f"r={r:g} seed={seed}: ridge MAE {ridge_metrics['mae']:.4f} (alpha {alpha:g}), "
                  f"late_fusion MAE {m['mae']:.4f}  [{time.time() - start:.0f}s]", flush=True)
    for name, rs in rows.items():
        path = args.out / f'{name}.csv'
        with path.open('w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=list(rs[0]))
            w.writeheader()
            for row in rs:
                w.writerow({k: (f'{v:.6g}' if isinstance(v, float) else v) for k, v in row.items()})
        print(f'{path}: {len(rs)} rows')
    (args.out / 'constant.json').write_text(json.dumps(constant, indent=2) + '\n')


if __name__ == '__main__':
    main()
