"""The architecture figure's geometry: every fusion edge from its own box, no label over another."""
import itertools

import pytest

from rmnas_nni.config import RunConfig
from rmnas_nni.figures import architecture_layout, describe_architecture, draw_architecture

EPS = 1e-6


def _cfg(modalities=('text', 'audio', 'vision'), n_blocks=3, n_cells=3):
    return RunConfig.build({'data': {'modalities': list(modalities)},
                            'space': {'encoder': {'n_blocks': n_blocks, 'mixers': ['attention', 'pool']},
                                      'lst': {'enabled': True},
                                      'fusion': {'n_cells': n_cells, 'n_steps': 2, 'ops': ['sum', 'concat_fc']}}})


def _busy_architecture():
    """Inputs from first blocks (left of other blocks in their row), several kept choices, Cell-to-Cell inputs."""
    names = [f'{m}/block{i}' for m in ('text', 'audio', 'vision') for i in range(3)]    # candidate order
    arch, probs = {}, {}
    for m in ('text', 'audio', 'vision'):
        for i in range(3):
            arch[f'{m}/block{i}/mixer'] = 'attention'
    picks = {'cell0': ([names.index('text/block0')], {names.index('text/block0'): 0.4,
                                                       names.index('text/block1'): 0.3,
                                                       names.index('audio/block0'): 0.25}),
             'cell1': ([9], {9: 0.45, names.index('vision/block0'): 0.3}),                # 9 = cell0
             'cell2': ([10], {10: 0.35, 9: 0.3, names.index('text/block2'): 0.25})}        # 10 = cell1
    for i in range(3):
        chosen, weights = picks[f'cell{i}']
        arch[f'fusion/cell{i}/input0'] = chosen
        probs[f'fusion/cell{i}/input0'] = {str(k): w for k, w in weights.items()}
        arch[f'fusion/cell{i}/input1'] = [names.index('audio/block0')]
        probs[f'fusion/cell{i}/input1'] = {str(names.index('audio/block0')): 0.5, str(names.index('vision/block1')): 0.5}
        for j in range(2):
            arch[f'fusion/cell{i}/step{j}/op'] = 'sum'
            arch[f'fusion/cell{i}/step{j}/input0'] = [0]
            arch[f'fusion/cell{i}/step{j}/input1'] = [1]
    return describe_architecture(arch, probs, _cfg())


def _on_boundary(point, box):
    x, y = point
    bx, by, w, h = box
    inside = bx - EPS <= x <= bx + w + EPS and by - EPS <= y <= by + h + EPS
    on_edge = min(abs(x - bx), abs(x - bx - w), abs(y - by), abs(y - by - h)) < 1e-6
    return inside and on_edge


def _crosses_interior(p, q, box):
    """Whether segment p-q enters the open rectangle (Liang-Barsky clipping)."""
    bx, by, w, h = box
    x_lo, x_hi, y_lo, y_hi = bx + EPS, bx + w - EPS, by + EPS, by + h - EPS
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, start in ((dx, x_lo, x_hi, p[0]), (dy, y_lo, y_hi, p[1])):
        if abs(d) < 1e-12:
            if not lo < start < hi:
                return False
            continue
        a, b = (lo - start) / d, (hi - start) / d
        a, b = min(a, b), max(a, b)
        t0, t1 = max(t0, a), min(t1, b)
        if t0 >= t1:
            return False
    return t1 - t0 > 1e-9


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_geometry_helpers():
    box = (0.0, 0.0, 1.0, 1.0)
    assert _crosses_interior((-1, 0.5), (2, 0.5), box) and not _crosses_interior((-1, 1.5), (2, 1.5), box)
    assert not _crosses_interior((1, 0.5), (2, 0.5), box)           # leaving from the right side
    assert _on_boundary((1.0, 0.3), box) and not _on_boundary((0.5, 0.5), box)
    assert _overlap((0, 0, 1, 1), (0.5, 0.5, 2, 2)) and not _overlap((0, 0, 1, 1), (1, 0, 2, 1))


@pytest.mark.parametrize('desc', [_busy_architecture()], ids=['busy'])
def test_every_fusion_edge_starts_on_its_own_box_and_labels_are_apart(desc, tmp_path):
    layout = architecture_layout(desc)
    boxes, edges = layout['boxes'], layout['edges']
    # one edge per kept input choice
    expected = sorted((c['name'], s, name) for c in desc['cells'] for s, slot in enumerate(c['inputs'])
                      for name in [slot['chosen']] + [n for n, _ in slot['others']])
    assert sorted((e['cell'], e['input'], e['source']) for e in edges) == expected
    assert any(e['source'] == 'text/block0' for e in edges) and any(e['source'] == 'cell0' for e in edges)
    for e in edges:
        pts = e['points']
        assert _on_boundary(pts[0], boxes[e['source']]), (e['source'], pts[0])
        assert _on_boundary(pts[-1], boxes[e['cell']]), (e['cell'], pts[-1])
        assert pts[-1][1] == pytest.approx(layout['cells'][e['cell']]['input_y'][e['input']])
        for name, box in boxes.items():
            if name in (e['source'], e['cell']):
                continue
            for p, q in zip(pts, pts[1:]):
                assert not _crosses_interior(p, q, box), (e['label'], e['source'], 'passes through', name)
        for p, q in zip(pts[1:-1], pts[2:-1]):       # inner segments stay outside the edge's own boxes too
            for name in (e['source'], e['cell']):
                assert not _crosses_interior(p, q, boxes[name]), (e['label'], name)
    for a, b in itertools.combinations(edges, 2):
        assert not _overlap(a['label_box'], b['label_box']), (a['label'], a['source'], b['label'], b['source'])
    for e in edges:
        for name, (x, y, w, h) in boxes.items():
            assert not _overlap(e['label_box'], (x, y, x + w, y + h)), (e['label'], name)
    path = draw_architecture(desc, tmp_path / 'a.png', title='busy')
    assert path.is_file() and path.stat().st_size > 5000


def test_labels_name_the_cell_input_and_weight():
    layout = architecture_layout(_busy_architecture())
    labels = {(e['cell'], e['input'], e['source']): e['label'] for e in layout['edges']}
    assert labels[('cell0', 0, 'text/block0')] == 'cell0/in0 0.40'
    assert labels[('cell2', 0, 'cell0')] == 'cell2/in0 0.30'
