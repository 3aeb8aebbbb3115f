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
* :func:`fused_features` / :func:`fused_modalities`: which modality-level features
  (and so which modalities) reach the prediction under the exported choices; a
  random draw of the space can leave a modality out entirely.
* :func:`architecture_text` prints that description; :func:`draw_architecture`
  draws it: the mixer grid on the left, the Cells on the right, an arrow from every
  kept input (solid: the exported one, dashed: others of weight >= 0.2), each from
  its own box and labelled with its Cell input and weight
  (:func:`architecture_layout` places them).

Figures are drawn with matplotlib's Agg canvas directly (no pyplot, no backend
switch, so a notebook's backend is left alone) and written atomically as PNG.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .config import RunConfig
from .errors import ArchitectureError, RunDirError
from .rundir import atomic_write_bytes, load_run

__all__ = ['DROP_BELOW', 'save_png', 'plot_metric_vs_rate', 'describe_architecture', 'fused_features',
           'fused_modalities', 'architecture_text',
           'architecture_layout', 'draw_architecture', 'describe_run', 'run_architecture_figure']

DROP_BELOW = 0.2
#: the token mixers through which a block's global token reads the other tokens (sentence-level features)
TOKEN_READING_MIXERS = {'attention', 'random_mixing'}
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


def describe_architecture(arch: Dict[str, Any], probs: Dict[str, Dict[str, float]], cfg: RunConfig,
                          threshold: float = DROP_BELOW, source: str = 'arch.json') -> Dict[str, Any]:
    """The architecture as nested dicts, choices under ``threshold`` dropped (the exported one kept).

    ``cfg`` is the run's resolved config (modalities, blocks, mixers, Cells, Steps, operations).
    """
    modalities = list(cfg.data.modalities)
    enc, fus = cfg.space.encoder, cfg.space.fusion
    n_blocks = int(enc.n_blocks)
    mixers = [str(m) for m in enc.mixers]
    candidates = [f'{m}/block{i}' for m in modalities for i in range(n_blocks)]
    desc: Dict[str, Any] = {'threshold': threshold, 'modalities': modalities, 'n_blocks': n_blocks,
                            'level': cfg.data.level,
                            'lst': bool(cfg.space.lst.enabled), 'mixers': {}, 'cells': []}
    for m in modalities:
        desc['mixers'][m] = [_slot(f'{m}/block{i}/mixer', mixers, arch, probs, threshold, source)
                             for i in range(n_blocks)]
    input_slot = _gated_slot if fus.input_selection == 'gates' else _slot
    for i in range(int(fus.n_cells)):
        names = candidates + [f'cell{k}' for k in range(i)]
        cell = {'name': f'cell{i}',
                'inputs': [input_slot(f'fusion/cell{i}/input{s}', names, arch, probs, threshold, source)
                           for s in (0, 1)],
                'steps': []}
        for j in range(int(fus.n_steps)):
            step_names = ['input0', 'input1'] + [f'step{k}' for k in range(j)]
            cell['steps'].append({
                'name': f'step{j}',
                'op': _slot(f'fusion/cell{i}/step{j}/op', list(fus.ops), arch, probs, threshold, source),
                'inputs': [_slot(f'fusion/cell{i}/step{j}/input{s}', step_names, arch, probs, threshold, source)
                           for s in (0, 1)]})
        desc['cells'].append(cell)
    return desc


def _names(slot: Dict[str, Any]) -> List[str]:
    """The exported names of a slot (several where a threshold derivation or open gates kept several)."""
    return [n for n, _ in slot['kept']]


def fused_features(desc: Dict[str, Any]) -> List[str]:
    """The modality-level features (``text/block1``, ...) that reach the fused prediction under the exported
    choices of :func:`describe_architecture`, in the order of the candidates.

    A Cell's output is its first input (the residual) plus its Steps' outputs; a Step whose operation is
    ``zero`` passes nothing on, any other operation reads both its inputs; a Cell input that names an earlier
    Cell passes on what that Cell does. The prediction reads the Cells' outputs only, so a feature outside
    this list does not move it, whatever its encoder learns. At sentence level a feature is the block's
    global token, which reads the modality's tokens only through an ``attention`` or ``random_mixing`` mixer
    (``pool`` leaves it at zero, ``identity`` as it is): a feature of a block with no such mixer at or before
    it is the same for every input, and is not listed.
    """
    cells: List[set] = []

    def sources(name: str) -> set:
        return cells[int(name[4:])] if name.startswith('cell') and name[4:].isdigit() else {name}

    for cell in desc['cells']:
        # what each state a Step may read carries: the Cell's inputs, then its earlier Steps
        states = {f'input{s}': set().union(*(sources(n) for n in _names(slot))) for s, slot in enumerate(cell['inputs'])}
        reached = set(states['input0'])
        for step in cell['steps']:
            got = set()
            if any(op != 'zero' for op in _names(step['op'])):
                got = set().union(*(states[n] for slot in step['inputs'] for n in _names(slot)))
            states[step['name']] = got
            reached |= got
        cells.append(reached)
    found = set().union(*cells) if cells else set()
    if desc.get('level') == 'sentence':
        for m in desc['modalities']:
            reads = False
            for i, slot in enumerate(desc['mixers'][m]):
                reads = reads or bool(set(_names(slot)) & TOKEN_READING_MIXERS)
                if not reads:
                    found.discard(f'{m}/block{i}')
    return [f'{m}/block{i}' for m in desc['modalities'] for i in range(desc['n_blocks']) if f'{m}/block{i}' in found]


def fused_modalities(desc: Dict[str, Any], features: Optional[List[str]] = None) -> List[str]:
    """The modalities with at least one feature in ``features`` (default: :func:`fused_features`), in the
    config's order."""
    fused = {f.split('/')[0] for f in (fused_features(desc) if features is None else features)}
    return [m for m in desc['modalities'] if m in fused]


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
    features = fused_features(desc)
    lines.append(f"  reaching the prediction: {', '.join(features) or 'no feature'}")
    unused = [m for m in desc['modalities'] if m not in fused_modalities(desc, features)]
    if unused:
        lines.append(f"  NOTE: the prediction does not read {' or '.join(unused)}: no feature of "
                     f"{'it' if len(unused) == 1 else 'them'} reaches the fusion's output")
    return '\n'.join(lines)


# sizes of the architecture figure, in inches (one data unit is one inch)
_BOX_W, _BOX_H, _GAP_X, _GAP_Y = 1.7, 1.0, 0.35, 0.45
_LINE_H, _CELL_W = 0.32, 4.6
_LANE = 0.17                  # vertical pitch of the edges' lanes under a row of blocks
_LABEL_PT = 5.5               # font size of the edge labels
_LABEL_H = 0.13               # height of an edge label (5.5 pt text with its white padding)


def _label_width(text: str) -> float:
    """A generous width of ``text`` at the labels' font size (0.6 em per character, plus padding)."""
    return len(text) * 0.6 * _LABEL_PT / 72 + 0.06


def architecture_layout(desc: Dict[str, Any]) -> Dict[str, Any]:
    """Where :func:`draw_architecture` puts every box, edge and edge label (in inches).

    Returns ``boxes`` ``{name: (x, y, width, height)}`` for every block (``text/block0``)
    and Cell (``cell0``); ``cells`` ``{name: {'input_y': [y of input0, input1],
    'step_y': [...]}}``; ``edges``, one per kept Cell input (the exported one and the
    others weighing >= the threshold), each ``{'cell', 'input', 'source', 'weight',
    'exported', 'points', 'label', 'label_box'}``: ``points`` is the polyline from the
    source's box to the Cell's input, ``label_box`` the label's ``(x0, y0, x1, y1)``;
    and ``xlim``, ``ylim``.

    **(decision)** An edge leaves a block from its bottom side, runs right in its own
    lane in the gap under the block's row (blocks further right take the upper lanes,
    so edges do not cross each other's drops), carries its label on that lane just
    right of the grid, then goes straight to its Cell input. An edge from an earlier
    Cell leaves that Cell's right side and runs down its own lane to the right of
    the Cells into the input. No edge passes through a box other than its own two.
    """
    mods, n_blocks, cells = desc['modalities'], desc['n_blocks'], desc['cells']
    blocks = {f'{m}/block{i}': (r, i) for r, m in enumerate(mods) for i in range(n_blocks)}
    raw = []
    for cell in cells:
        for s, slot in enumerate(cell['inputs']):
            kept = [(n, w, True) for n, w in slot['kept']] + [(n, w, False) for n, w in slot['others']]
            for name, w, exported in kept:
                if name in blocks or any(c['name'] == name for c in cells):
                    label = f"{cell['name']}/in{s}" + (f' {w:.2f}' if w is not None else '')
                    raw.append({'cell': cell['name'], 'input': s, 'source': name, 'weight': w,
                                'exported': exported, 'label': label})
    label_w = max([_label_width(e['label']) for e in raw] + [0.5])

    # rows of blocks, each followed by a gap holding one lane per edge leaving the row
    per_row = {r: [e for e in raw if e['source'] in blocks and blocks[e['source']][0] == r] for r in range(len(mods))}
    boxes: Dict[str, Tuple[float, float, float, float]] = {}
    row_bottom = {}
    y = 0.0
    for r, m in enumerate(mods):
        yb = y - _BOX_H
        for i in range(n_blocks):
            boxes[f'{m}/block{i}'] = (i * (_BOX_W + _GAP_X), yb, _BOX_W, _BOX_H)
        row_bottom[r] = yb
        y = yb - max(_GAP_Y, 0.12 + len(per_row[r]) * _LANE + 0.1)
    grid_bottom = y
    grid_right = n_blocks * (_BOX_W + _GAP_X) - _GAP_X
    label_x0 = grid_right + 0.15
    cx = label_x0 + label_w + 1.2

    # Cells, stacked from the top on the right
    cell_info: Dict[str, Dict[str, Any]] = {}
    y_top = 0.0
    for cell in cells:
        h = (2 + len(cell['steps'])) * _LINE_H + 0.5
        boxes[cell['name']] = (cx, y_top - h, _CELL_W, h)
        cell_info[cell['name']] = {'input_y': [y_top - 0.25 - (s + 1) * _LINE_H for s in range(2)],
                                   'step_y': [y_top - 0.25 - (3 + j) * _LINE_H for j in range(len(cell['steps']))],
                                   'title_y': y_top - 0.25}
        y_top = y_top - h - _GAP_Y
    cells_bottom = y_top

    edges = []
    for r, row_edges in per_row.items():
        # rightmost source (and rightmost start point) takes the uppermost lane
        by_block: Dict[str, List[Dict[str, Any]]] = {}
        for e in row_edges:
            by_block.setdefault(e['source'], []).append(e)
        starts = []
        for name, group in by_block.items():
            x, yb, w, _ = boxes[name]
            for k, e in enumerate(group):
                starts.append((x + w * (k + 1) / (len(group) + 1), e))
        starts.sort(key=lambda t: -t[0])
        for lane, (sx, e) in enumerate(starts):
            sy = row_bottom[r]
            ly = sy - 0.12 - (lane + 0.5) * _LANE
            ty = cell_info[e['cell']]['input_y'][e['input']]
            e['points'] = [(sx, sy), (sx, ly), (label_x0 + label_w, ly), (cx, ty)]
            e['label_xy'] = (label_x0 + label_w / 2, ly)
            e['label_box'] = (label_x0, ly - _LABEL_H / 2, label_x0 + label_w, ly + _LABEL_H / 2)
            edges.append(e)
    cell_edges = [e for e in raw if e['source'] not in blocks]
    right = cx + _CELL_W
    by_source: Dict[str, List[Dict[str, Any]]] = {}
    for e in cell_edges:
        by_source.setdefault(e['source'], []).append(e)
    lane = 0
    for name, group in by_source.items():
        x, y0, w, h = boxes[name]
        for k, e in enumerate(group):
            sy = y0 + h * (k + 1) / (len(group) + 1)
            ty = cell_info[e['cell']]['input_y'][e['input']]
            lx = right + 0.25 + lane * (label_w + 0.3)
            e['points'] = [(right, sy), (lx, sy), (lx, ty), (right, ty)]
            mid = (sy + ty) / 2
            e['label_xy'] = (lx + 0.05 + label_w / 2, mid)
            e['label_box'] = (lx + 0.05, mid - _LABEL_H / 2, lx + 0.05 + label_w, mid + _LABEL_H / 2)
            edges.append(e)
            lane += 1
    width = right + 0.3 + lane * (label_w + 0.3)
    bottom = min(grid_bottom, cells_bottom) - 0.9          # room for the legend
    return {'boxes': boxes, 'cells': cell_info, 'edges': edges, 'xlim': (-1.3, width), 'ylim': (bottom, 0.4)}


def draw_architecture(desc: Dict[str, Any], path: os.PathLike | str, title: Optional[str] = None) -> Path:
    """Draw the description like the paper's Figure 4 and write it as PNG (layout: :func:`architecture_layout`)."""
    from matplotlib.patches import FancyBboxPatch, Patch
    mods, cells = desc['modalities'], desc['cells']
    layout = architecture_layout(desc)
    boxes = layout['boxes']
    (x0, x1), (y0, y1) = layout['xlim'], layout['ylim']
    top = 0.93 if title else 1.0
    fig = _figure(x1 - x0, (y1 - y0) / top)              # one data unit = one inch, as the layout assumes
    ax = fig.add_axes([0, 0, 1, top])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.axis('off')
    if title:
        fig.suptitle(title, fontsize=10)

    for m in mods:
        x, y, bw, bh = boxes[f'{m}/block0']
        ax.text(-0.2, y + bh / 2, m, ha='right', va='center', fontsize=9, fontweight='bold')
        for i, slot in enumerate(desc['mixers'][m]):
            x, y, bw, bh = boxes[f'{m}/block{i}']
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

    for cell in cells:
        x, y, cw, h = boxes[cell['name']]
        info = layout['cells'][cell['name']]
        ax.add_patch(FancyBboxPatch((x, y), cw, h, boxstyle='round,pad=0.02,rounding_size=0.1',
                                    facecolor='#F2F2F2', edgecolor='#444444', linewidth=1.2, zorder=2))
        ax.text(x + 0.15, info['title_y'], cell['name'], ha='left', va='center', fontsize=9, fontweight='bold')
        for s, slot in enumerate(cell['inputs']):
            text = (_fmt_slot(slot, with_others=False) if len(slot['kept']) <= 2
                    else f"sum of {len(slot['kept'])} (arrows)")
            ax.text(x + 0.15, info['input_y'][s], f"input{s}: {text}", ha='left',
                    va='center', fontsize=7, zorder=3)
        for j, step in enumerate(cell['steps']):
            ins = ', '.join(sl['chosen'] for sl in step['inputs'])
            ax.text(x + 0.15, info['step_y'][j], f"{step['name']}: {_fmt_slot(step['op'], with_others=False)}"
                    f"  <- {ins}", ha='left', va='center', fontsize=7, zorder=3)

    for e in layout['edges']:
        colour = '#222222' if e['exported'] else '#888888'
        style = dict(color=colour, linestyle='-' if e['exported'] else '--', linewidth=1.0 if e['exported'] else 0.8)
        pts = e['points']
        xs, ys = zip(*pts[:-1])
        ax.plot(xs, ys, zorder=1, solid_capstyle='butt', **style)
        ax.annotate('', xy=pts[-1], xytext=pts[-2],
                    arrowprops=dict(arrowstyle='->', shrinkA=0, shrinkB=1, **style), zorder=1)
        lx, ly = e['label_xy']
        ax.text(lx, ly, e['label'], fontsize=_LABEL_PT, ha='center', va='center',
                color='#222222' if e['exported'] else '#777777',
                bbox=dict(facecolor='white', edgecolor='none', alpha=0.85, pad=0.5), zorder=3)

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
    desc['missing_rate'] = cfg.data.missing.rate
    return desc


def run_architecture_figure(run_dir: os.PathLike | str, out: Optional[os.PathLike | str] = None,
                            threshold: float = DROP_BELOW) -> Tuple[str, Path]:
    """Text and PNG (default ``RUN/architecture.png``) of a run's architecture."""
    run_dir = Path(run_dir)
    desc = describe_run(run_dir, threshold)
    title = f"{run_dir.name} (missing rate {desc['missing_rate']})"
    path = draw_architecture(desc, Path(out) if out else run_dir / 'architecture.png', title=title)
    return architecture_text(desc, f'architecture of {run_dir}'), path
