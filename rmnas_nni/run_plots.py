"""Figures of one run: training curves and the weight of every searched choice.

They are drawn from the files a run leaves (``search/metrics.csv``,
``search/choices.csv``, ``retrain/history.csv``, ``arch_probs.json``), so they can
be drawn for any finished run directory; ``rmnas run`` and every sweep cell draw
them at the end::

    RUN/figures/curves.png          validation metric per epoch, search (supernet) and retrain (fixed
                                    network), and the retrain's training metric beside it
    RUN/figures/choice_weights.png  softmax weight of every candidate at export, mixers per modality and
                                    block, fusion operations per Cell-Step; the chosen one is outlined
    RUN/figures/choice_history.png  per search epoch, how far the choice weights are from uniform
                                    (normalised entropy) and the weight of the leading candidate, per kind

The paper's Figure 4 drops operations whose weight is below 0.2 from its drawing;
the heat maps show every weight and mark that threshold in the colour bar.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Dict, List, Optional

from .metrics import DISPLAY_NAMES
from .rundir import atomic_write_bytes

__all__ = ['plot_curves', 'plot_choice_weights', 'plot_choice_history', 'plot_run']


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=110, bbox_inches='tight')
    _pyplot().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _search_curve(run_dir: Path) -> List[float]:
    """Per-epoch ``val_select`` of the search, from Lightning's CSV log."""
    import pandas as pd
    path = run_dir / 'search' / 'metrics.csv'
    if not path.is_file():
        return []
    df = pd.read_csv(path)
    if 'val_select' not in df or 'epoch' not in df:
        return []
    per_epoch = df.dropna(subset=['val_select']).groupby('epoch')['val_select'].last()
    return [float(v) for v in per_epoch.sort_index().values]


def _retrain_curve(run_dir: Path, select: str, split: str = 'val') -> List[float]:
    import pandas as pd
    path = run_dir / 'retrain' / 'history.csv'
    if not path.is_file():
        return []
    df = pd.read_csv(path)
    col = f'{split}_{select}'
    return [float(v) for v in df[col].values] if col in df else []


def plot_curves(run_dir: os.PathLike | str, select_metric: str, out: Optional[os.PathLike | str] = None
                ) -> Optional[Path]:
    """Validation ``select_metric`` per epoch of the search and of the retrain; None when neither ran."""
    run_dir = Path(run_dir)
    search, retrain = _search_curve(run_dir), _retrain_curve(run_dir, select_metric)
    fit = _retrain_curve(run_dir, select_metric, 'train')
    if not search and not retrain:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    if search:
        ax.plot(range(1, len(search) + 1), search, marker='o', label='search (supernet), validation')
    if retrain:
        ax.plot(range(1, len(retrain) + 1), retrain, marker='s', label='retrain (fixed network), validation')
    if fit:
        ax.plot(range(1, len(fit) + 1), fit, linestyle='--', color='grey', label='retrain, training (dropout on)')
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel('epoch')
    ax.set_ylabel(DISPLAY_NAMES.get(select_metric, select_metric))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(run_dir.name)
    return _save(fig, Path(out) if out else run_dir / 'figures' / 'curves.png')


_INSET = 0.06          # of a cell: the outline of a chosen candidate stays inside its cell


def _heatmap(ax, rows: List[str], cols: List[str], probs: Dict[str, Dict[str, float]], chosen: Dict[str, str],
             title: str):
    import numpy as np
    grid = np.array([[probs[r].get(c, np.nan) for c in cols] for r in rows], dtype=float)
    im = ax.imshow(grid, vmin=0.0, vmax=1.0, cmap='viridis', aspect='auto')
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha='right')
    ax.set_yticks(range(len(rows)), rows)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f'{grid[i, j]:.2f}', ha='center', va='center', fontsize=7,
                        color='black' if grid[i, j] > 0.6 else 'white')
        picked = chosen.get(r)
        for name in (picked if isinstance(picked, list) else [picked]):         # a list: kept candidates
            if name in cols:
                j = cols.index(name)
                # inset by half the line width, so a box in the outer row or column is not clipped
                ax.add_patch(_pyplot().Rectangle((j - 0.5 + _INSET, i - 0.5 + _INSET), 1 - 2 * _INSET,
                                                 1 - 2 * _INSET, fill=False, edgecolor='red', linewidth=1.5))
    ax.set_title(title)
    return im


def plot_choice_weights(run_dir: os.PathLike | str, out: Optional[os.PathLike | str] = None) -> Optional[Path]:
    """Heat maps of the token-mixer and fusion-operation weights in ``arch_probs.json``; None without it."""
    run_dir = Path(run_dir)
    probs_path, arch_path = run_dir / 'arch_probs.json', run_dir / 'arch.json'
    if not probs_path.is_file():
        return None
    probs = json.loads(probs_path.read_text())
    arch = json.loads(arch_path.read_text()) if arch_path.is_file() else {}
    mixers = [k for k in probs if k.endswith('/mixer')]
    ops = [k for k in probs if k.startswith('fusion/') and k.endswith('/op')]
    panels = [(rows, title) for rows, title in ((mixers, 'token mixers'), (ops, 'fusion operations')) if rows]
    if not panels:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6.0 * len(panels), 0.45 * max(len(r) for r, _ in panels) + 1.8),
                             squeeze=False, layout='constrained')
    im = None
    for ax, (rows, title) in zip(axes[0], panels):
        cols = list(dict.fromkeys(c for r in rows for c in probs[r]))
        chosen = {r: ([str(v) for v in arch[r]] if isinstance(arch[r], list) else str(arch[r]))
                  for r in rows if r in arch}
        im = _heatmap(ax, [r.rsplit('/', 1)[0] for r in rows], cols,
                      {r.rsplit('/', 1)[0]: probs[r] for r in rows},
                      {r.rsplit('/', 1)[0]: chosen[r] for r in chosen}, title)
    bar = fig.colorbar(im, ax=list(axes[0]), shrink=0.8)
    bar.set_label('choice weight (softmax)')
    bar.ax.axhline(0.2, color='red', linewidth=1)
    fig.suptitle(f'{run_dir.name}: searched choices (red box: chosen; red line: 0.2)', fontsize=9)
    return _save(fig, Path(out) if out else run_dir / 'figures' / 'choice_weights.png')


def plot_choice_history(run_dir: os.PathLike | str, out: Optional[os.PathLike | str] = None) -> Optional[Path]:
    """Per search epoch, normalised entropy and leading weight per kind of choice (``search/choices.csv``)."""
    import pandas as pd
    run_dir = Path(run_dir)
    path = run_dir / 'search' / 'choices.csv'
    if not path.is_file():
        return None
    df = pd.read_csv(path)
    summary = df[df['label'].str.startswith('summary/')]
    if summary.empty:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.4), layout='constrained')
    kinds = [('', 'all choices'), ('mixer_', 'token mixers'), ('input_', 'fusion inputs'), ('op_', 'step operations')]
    for ax, (stat, title) in zip(axes, (('entropy', 'normalised entropy (1 = uniform)'),
                                        ('top_weight', 'weight of the leading candidate'))):
        for prefix, name in kinds:
            rows = summary[summary['label'] == f'summary/{prefix}{stat}'].sort_values('epoch')
            if not rows.empty:
                ax.plot(rows['epoch'], rows['weight'], marker='.', label=name,
                        linewidth=2.0 if not prefix else 1.0)
        ax.set_xlabel('search epoch')
        ax.set_title(title, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f'{run_dir.name}: choice weights during the search', fontsize=9)
    return _save(fig, Path(out) if out else run_dir / 'figures' / 'choice_history.png')


def plot_run(run_dir: os.PathLike | str, select_metric: str) -> List[Path]:
    """Every figure this module can draw for a run directory; returns the files written."""
    written = [plot_curves(run_dir, select_metric), plot_choice_weights(run_dir), plot_choice_history(run_dir)]
    return [p for p in written if p is not None]
