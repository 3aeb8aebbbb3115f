"""Pictures: metric against missing rate, and the searched architecture (the paper's Figure 4).

* :func:`plot_metric_vs_rate` draws one line per variant (mean over seeds, a band of
  one standard deviation), with each variant's AUILC in the legend.
* :func:`describe_architecture` reads an exported architecture (``arch.json``) and
  its choice weights (``arch_probs.json``): per modality and block the token mixer,
  and per fusion Cell its two inputs (named like ``text/block3`` or ``cell0``, the
  order of :meth:`~rmnas_nni.space.RMNASSpace.candidate_names`) and per Cell-Step its
  two inputs and its operation. As in the paper's Figure 4, choices whose weight is
  below 0.2 are dropped. **(decision)** The exported (highest-weight) choice is
  always kept, even under 0.2, so the drawing shows the whole architecture; with 18
  fusion candidates a uniform weight is 0.056.
* :func:`architecture_text` prints that description; :func:`draw_architecture`
  draws it: the mixer grid on the left, the Cells on the right, an arrow from every
  kept input (solid: the exported one, dashed: others of weight >= 0.2).

Figures are drawn with matplotlib's Agg canvas directly (no pyplot, no backend
switch, so a notebook's backend is left alone) and written atomically as PNG.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .errors import ArchitectureError

__all__ = ['DROP_BELOW', 'save_png', 'plot_metric_vs_rate', 'describe_architecture', 'architecture_text',
           'draw_architecture', 'describe_run', 'run_architecture_figure']

DROP_BELOW = 0.2
MIXER_COLOURS = {'attention': '#4C72B0', 'random_mixing': '#DD8452', 'pool': '#55A868', 'identity': '#8C8C8C'}
VARIANT_COLOURS = ['#4C72B0', '#DD8452', '#55A868', '#C44E52', '#8172B3', '#937860', '#DA8BC3', '#8C8C8C']


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path: os.PathLike | str, dpi: int = 120) -> Path:
    """Render ``fig`` as PNG and write it atomically."""
    from .rundir import atomic_write_bytes
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=dpi, bbox_inches='tight')
    return atomic_write_bytes(path, buf.getvalue())


# --------------------------------------------------------------------------- robustness curves

def plot_metric_vs_rate(series: Sequence[Dict[str, Any]], ylabel: str, path: os.PathLike | str,
                        title: Optional[str] = None) -> Path:
    """One line per variant: ``series`` items hold ``label``, ``rates``, ``mean``, ``std`` and ``auilc``.

    ``std`` may hold NaN (one seed): no band is drawn there. ``auilc`` may be None
    (no rate 0.0, or a single rate): the legend then says so.
    """
    import numpy as np
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for k, s in enumerate(series):
        colour = VARIANT_COLOURS[k % len(VARIANT_COLOURS)]
        r = np.asarray(s['rates'], dtype=float)
        m = np.asarray(s['mean'], dtype=float)
        sd = np.nan_to_num(np.asarray(s['std'], dtype=float), nan=0.0)
        a = s.get('auilc')
        label = f"{s['label']} (AUILC {a:.4g})" if a is not None and np.isfinite(a) else f"{s['label']} (no AUILC)"
        ax.plot(r, m, marker='o', color=colour, label=label)
        if np.any(sd > 0):
            ax.fill_between(r, m - sd, m + sd, color=colour, alpha=0.2, linewidth=0)
    ax.set_xlabel('missing rate')
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, title='mean ± std over seeds', title_fontsize=8)
    return save_png(fig, path)


# --------------------------------------------------------------------------- architecture

def _slot(label: str, names: List[str], arch: Dict[str, Any], probs: Dict[str, Dict[str, float]],
          threshold: float, source: str) -> Dict[str, Any]:
    """One choice: the exported name(s) with their weights, and the other names weighing >= ``threshold``.

    ``kept`` lists ``(name, weight)`` of what the architecture takes: one name, or
    several where a threshold derivation kept a list; ``chosen`` is their names
    joined with `` + ``.
    """
    if label not in arch:
        return {'label': label, 'chosen': names[0], 'kept': [(names[0], None)], 'weight': None, 'others': [],
                'searched': False}
    value = arch[label]
    is_input = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if is_input:
        if len(value) != 1 or not 0 <= value[0] < len(names):
            raise ArchitectureError(f"{source}: key '{label}': invalid choice {value!r} "
                                    f'(expected [index] with index in 0..{len(names) - 1})')
        chosen = [names[value[0]]]
    elif isinstance(value, list) and value and all(v in names for v in value):
        chosen = list(value)
    elif not isinstance(value, list) and value in names:
        chosen = [value]
    else:
        raise ArchitectureError(f"{source}: key '{label}': invalid choice {value!r} (choices: {', '.join(names)})")
    weights: Dict[str, float] = {}
    for key, w in (probs.get(label) or {}).items():
        name = names[int(key)] if is_input and str(key).isdigit() and int(key) < len(names) else key
        weights[str(name)] = float(w)
    others = sorted(((n, w) for n, w in weights.items() if n not in chosen and w >= threshold), key=lambda t: -t[1])
    kept = [(n, weights.get(n)) for n in chosen]
    return {'label': label, 'chosen': ' + '.join(chosen), 'kept': kept, 'weight': kept[0][1], 'others': others,
            'searched': True}


def _gated_slot(label: str, names: List[str], arch: Dict[str, Any], probs: Dict[str, Dict[str, float]],
                threshold: float, source: str) -> Dict[str, Any]:
    """A Cell input with eq. 13's gates (``{label}/cand{k}``): the candidates whose gate is open, summed.

    Weights are the gates' identity weights; ``others`` are closed gates whose
    identity weight is still >= ``threshold``. No open gate: ``chosen`` is ``none``.
    """
    kept, others = [], []
    for k, name in enumerate(names):
        gate = f'{label}/cand{k}'
        if gate not in arch:
            raise ArchitectureError(f"{source}: key '{gate}': missing (the search space has this choice)")
        value = arch[gate]
        if value not in ('identity', 'zero'):
            raise ArchitectureError(f"{source}: key '{gate}': invalid choice {value!r} (choices: identity, zero)")
        w = (probs.get(gate) or {}).get('identity')
        w = None if w is None else float(w)
        if value == 'identity':
            kept.append((name, w))
        elif w is not None and w >= threshold:
            others.append((name, w))
    others.sort(key=lambda t: -t[1])
    return {'label': label, 'chosen': ' + '.join(n for n, _ in kept) or 'none', 'kept': kept,
            'weight': kept[0][1] if kept else None, 'others': others, 'searched': True}


def describe_architecture(arch: Dict[str, Any], probs: Dict[str, Dict[str, float]], cfg: Dict,
                          threshold: float = DROP_BELOW, source: str = 'arch.json') -> Dict[str, Any]:
    """The architecture as nested dicts, choices under ``threshold`` dropped (the exported one kept).

    ``cfg`` is the run's resolved config (modalities, blocks, mixers, Cells, Steps, operations).
    """
    modalities = list(cfg['data']['modalities'])
    enc, fus = cfg['space']['encoder'], cfg['space']['fusion']
    n_blocks = int(enc['n_blocks'])
    mixers = [str(m) for m in enc['mixers']]
    candidates = [f'{m}/block{i}' for m in modalities for i in range(n_blocks)]
    desc: Dict[str, Any] = {'threshold': threshold, 'modalities': modalities, 'n_blocks': n_blocks,
                            'lst': bool(cfg['space']['lst']['enabled']), 'mixers': {}, 'cells': []}
    for m in modalities:
        desc['mixers'][m] = [_slot(f'{m}/block{i}/mixer', mixers, arch, probs, threshold, source)
                             for i in range(n_blocks)]
    input_slot = _gated_slot if fus.get('input_selection', 'one_of_n') == 'gates' else _slot
    for i in range(int(fus['n_cells'])):
        names = candidates + [f'cell{k}' for k in range(i)]
        cell = {'name': f'cell{i}',
                'inputs': [input_slot(f'fusion/cell{i}/input{s}', names, arch, probs, threshold, source)
                           for s in (0, 1)],
                'steps': []}
        for j in range(int(fus['n_steps'])):
            step_names = ['input0', 'input1'] + [f'step{k}' for k in range(j)]
            cell['steps'].append({
                'name': f'step{j}',
                'op': _slot(f'fusion/cell{i}/step{j}/op', list(fus['ops']), arch, probs, threshold, source),
                'inputs': [_slot(f'fusion/cell{i}/step{j}/input{s}', step_names, arch, probs, threshold, source)
                           for s in (0, 1)]})
        desc['cells'].append(cell)
    return desc


def _fmt_slot(slot: Dict[str, Any], with_others: bool = True) -> str:
    if not slot['searched']:
        return f"{slot['chosen']} (fixed)"
    text = ' + '.join(n + (f' {w:.2f}' if w is not None else '') for n, w in slot['kept']) or 'none (zero)'
    if with_others and slot['others']:
        text += '  (' + ', '.join(f'{n} {w:.2f}' for n, w in slot['others']) + ')'
    return text


def architecture_text(desc: Dict[str, Any], title: Optional[str] = None) -> str:
    """The description as lines for the terminal."""
    lines = [title or 'architecture',
             f"  (exported choice with its weight; in brackets other choices weighing >= {desc['threshold']:g})",
             '  token mixers' + ('' if desc['lst'] else ' (LST off)')]
    width = max(len(m) for m in desc['modalities'])
    for m in desc['modalities']:
        for i, slot in enumerate(desc['mixers'][m]):
            head = m.ljust(width) if i == 0 else ' ' * width
            lines.append(f'    {head}  block{i}  {_fmt_slot(slot)}')
    lines.append('  fusion')
    for cell in desc['cells']:
        pad = ' ' * len(cell['name'])
        for s, slot in enumerate(cell['inputs']):
            lines.append(f"    {cell['name'] if s == 0 else pad}  input{s}  {_fmt_slot(slot)}")
        for step in cell['steps']:
            lines.append(f"    {pad}  {step['name']}   {_fmt_slot(step['op'])}")
            for arg, slot in zip('xy', step['inputs']):
                lines.append(f"    {pad}             {arg} = {_fmt_slot(slot)}")
    return '\n'.join(lines)


def draw_architecture(desc: Dict[str, Any], path: os.PathLike | str, title: Optional[str] = None) -> Path:
    """Draw the description like the paper's Figure 4 and write it as PNG."""
    from matplotlib.patches import FancyBboxPatch, Patch
    mods, n_blocks, cells = desc['modalities'], desc['n_blocks'], desc['cells']
    bw, bh, gx, gy = 1.7, 1.0, 0.35, 0.45
    line_h = 0.32
    cw = 4.6
    cx = n_blocks * (bw + gx) + 1.6
    grid_h = len(mods) * (bh + gy)
    cell_heights = [(2 + len(c['steps'])) * line_h + 0.5 for c in cells]
    cells_h = sum(cell_heights) + gy * max(len(cells) - 1, 0)
    total_h = max(grid_h, cells_h) + 0.7
    width = cx + cw + 0.4
    fig = _figure(max(6.0, width * 0.95), max(3.0, total_h * 0.95))
    ax = fig.add_axes([0, 0, 1, 0.93 if title else 1])
    ax.set_xlim(-1.3, width)
    ax.set_ylim(-total_h, 0.4)
    ax.axis('off')
    if title:
        fig.suptitle(title, fontsize=10)

    anchors: Dict[str, Tuple[float, float]] = {}
    for r, m in enumerate(mods):
        y = -r * (bh + gy) - bh
        ax.text(-0.2, y + bh / 2, m, ha='right', va='center', fontsize=9, fontweight='bold')
        for i, slot in enumerate(desc['mixers'][m]):
            x = i * (bw + gx)
            w = slot['weight'] if slot['weight'] is not None else 1.0
            colour = MIXER_COLOURS.get(slot['kept'][0][0], '#999999')
            ax.add_patch(FancyBboxPatch((x, y), bw, bh, boxstyle='round,pad=0.02,rounding_size=0.08',
                                        facecolor=_tint(colour, 0.15 + 0.55 * w), edgecolor=colour, linewidth=1.2,
                                        zorder=2))
            head = _fmt_slot(slot, with_others=False).replace(' + ', '\n')      # kept candidates one a line
            n_kept = len(slot['kept'])
            ax.text(x + bw / 2, y + bh - 0.22, f'block{i}', ha='center', va='center', fontsize=6.5, color='#333333')
            ax.text(x + bw / 2, y + bh / 2 - 0.02 - 0.06 * (n_kept > 1), head, ha='center', va='center',
                    fontsize=7.5 if n_kept == 1 else 6.0, fontweight='bold', linespacing=1.0)
            if slot['others']:
                n, wo = slot['others'][0]
                ax.text(x + bw / 2, y + 0.24, f'{n} {wo:.2f}', ha='center', va='center', fontsize=6.5,
                        color='#333333')
            if len(slot['others']) > 1:
                ax.text(x + bw / 2, y + 0.09, ', '.join(f'{n} {wo:.2f}' for n, wo in slot['others'][1:]),
                        ha='center', va='center', fontsize=5.5, color='#555555')
            anchors[f'{m}/block{i}'] = (x + bw, y + bh / 2)

    y_top = 0.0
    for ci, (cell, h) in enumerate(zip(cells, cell_heights)):
        y0 = y_top - h
        ax.add_patch(FancyBboxPatch((cx, y0), cw, h, boxstyle='round,pad=0.02,rounding_size=0.1',
                                    facecolor='#F2F2F2', edgecolor='#444444', linewidth=1.2, zorder=2))
        ax.text(cx + 0.15, y_top - 0.25, cell['name'], ha='left', va='center', fontsize=9, fontweight='bold')
        in_y = []
        for s, slot in enumerate(cell['inputs']):
            yy = y_top - 0.25 - (s + 1) * line_h
            in_y.append(yy)
            text = (_fmt_slot(slot, with_others=False) if len(slot['kept']) <= 2
                    else f"sum of {len(slot['kept'])} (arrows)")
            ax.text(cx + 0.15, yy, f"input{s}: {text}", ha='left', va='center', fontsize=7)
        for j, step in enumerate(cell['steps']):
            yy = y_top - 0.25 - (3 + j) * line_h
            ins = ', '.join(sl['chosen'] for sl in step['inputs'])
            ax.text(cx + 0.15, yy, f"{step['name']}: {_fmt_slot(step['op'], with_others=False)}  <- {ins}",
                    ha='left', va='center', fontsize=7)
        # arrows from every kept input into this cell
        for s, slot in enumerate(cell['inputs']):
            kept = [(n, w, True) for n, w in slot['kept']] + [(n, w, False) for n, w in slot['others']]
            for name, w, exported in kept:
                if name not in anchors:
                    continue
                sx, sy = anchors[name]
                ax.annotate('', xy=(cx, in_y[s]), xytext=(sx, sy),
                            arrowprops=dict(arrowstyle='->', color='#222222' if exported else '#888888',
                                            linestyle='-' if exported else '--', linewidth=1.0 if exported else 0.8,
                                            shrinkA=2, shrinkB=2, connectionstyle='arc3,rad=0.08'), zorder=1)
                if w is not None:
                    t = max(0.5, (cx - 0.8 - sx) / (cx - sx)) if cx > sx else 0.5     # in the gap before the cell
                    mx, my = sx + t * (cx - sx), sy + t * (in_y[s] - sy)
                    ax.text(mx, my, f'in{s} {w:.2f}', fontsize=5.5, ha='center', va='center',
                            color='#222222' if exported else '#777777',
                            bbox=dict(facecolor='white', edgecolor='none', alpha=0.7, pad=0.5), zorder=3)
        anchors[cell['name']] = (cx + cw, y0 + h / 2)
        y_top = y0 - gy
    used = sorted({n for m in mods for slot in desc['mixers'][m] for n, _ in slot['kept']})
    handles = [Patch(facecolor=_tint(MIXER_COLOURS.get(n, '#999999'), 0.6), edgecolor=MIXER_COLOURS.get(n, '#999999'),
                     label=n) for n in used]
    ax.legend(handles=handles, loc='lower left', ncol=len(handles), fontsize=7, frameon=False,
              title=f"token mixer{'' if desc['lst'] else ' (LST off)'}; shade = weight; "
                    f"choices < {desc['threshold']:g} dropped", title_fontsize=7)
    return save_png(fig, path)


def _tint(colour: str, strength: float):
    """``colour`` mixed with white (opaque, so arrows can pass behind boxes)."""
    from matplotlib.colors import to_rgb
    strength = min(max(float(strength), 0.0), 1.0)
    return tuple(1 - strength * (1 - c) for c in to_rgb(colour))


def describe_run(run_dir: os.PathLike | str, threshold: float = DROP_BELOW) -> Dict[str, Any]:
    """:func:`describe_architecture` of a run directory's ``arch.json`` and ``arch_probs.json``.

    The description also holds the run's ``missing_rate``.
    """
    from .errors import RunDirError
    from .pipeline import load_run
    run_dir = Path(run_dir)
    cfg = load_run(run_dir)
    arch_path, probs_path = run_dir / 'arch.json', run_dir / 'arch_probs.json'
    if not arch_path.is_file():
        raise RunDirError(f'{arch_path}: file not found (the run has not finished its search)')
    try:
        arch = json.loads(arch_path.read_text())
        probs = json.loads(probs_path.read_text()) if probs_path.is_file() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArchitectureError(f'{arch_path}: not valid JSON ({exc.__class__.__name__})') from None
    if not isinstance(arch, dict) or not isinstance(probs, dict):
        raise ArchitectureError(f'{arch_path}: top level: expected a JSON object {{label: choice}}')
    desc = describe_architecture(arch, probs, cfg, threshold, str(arch_path))
    desc['missing_rate'] = cfg['data']['missing']['rate']
    return desc


def run_architecture_figure(run_dir: os.PathLike | str, out: Optional[os.PathLike | str] = None,
                            threshold: float = DROP_BELOW) -> Tuple[str, Path]:
    """Text and PNG (default ``RUN/architecture.png``) of a run's architecture."""
    run_dir = Path(run_dir)
    desc = describe_run(run_dir, threshold)
    title = f"{run_dir.name} (missing rate {desc['missing_rate']})"
    path = draw_architecture(desc, Path(out) if out else run_dir / 'architecture.png', title=title)
    return architecture_text(desc, f'architecture of {run_dir}'), path
