import pytest
import torch

from rmnas_nni.fusion_cells import STEP_OPERATIONS, ChunkAttention, ConcatFC, LinearGLU, Sum, Zero


@pytest.mark.parametrize('name', list(STEP_OPERATIONS))
@pytest.mark.parametrize('shape', [(4, 16), (3, 5, 16)])
def test_every_step_op_keeps_shape(name, shape):
    op = STEP_OPERATIONS[name](width=16, chunks=4)
    x, y = torch.randn(*shape), torch.randn(*shape)
    z = op(x, y)
    assert z.shape == shape
    assert torch.isfinite(z).all()


def test_simple_ops_by_hand():
    x, y = torch.ones(2, 4), 2 * torch.ones(2, 4)
    assert torch.equal(Zero()(x, y), torch.zeros(2, 4))
    assert torch.equal(Sum()(x, y), 3 * torch.ones(2, 4))
    fc = ConcatFC(4)
    assert (fc(x, y) >= 0).all()
    glu = LinearGLU(4)
    a, b = glu.linear(torch.cat([x, y], -1)).chunk(2, -1)
    torch.testing.assert_close(glu(x, y), a * torch.sigmoid(b))


def test_chunk_attention_is_per_token_and_attends_over_y():
    att = ChunkAttention(8, chunks=2)
    x = torch.randn(3, 8)
    y = torch.randn(3, 8)
    z = att(x, y)
    y2 = y.clone()
    y2[1] += 5 * torch.randn(8)
    z2 = att(x, y2)
    torch.testing.assert_close(z[0], z2[0])          # other rows unaffected
    assert not torch.allclose(z[1], z2[1])


# --------------------------------------------------------------------------- eq. 13: gated inputs

def _gated_space(level='sentence'):
    from conftest import LENS, MODS, TINY
    from rmnas_nni.space import RMNASSpace
    return RMNASSpace(MODS, LENS, level=level, out_dim=1, fusion_input_selection='gates', **TINY)


def test_gated_slot_has_an_identity_zero_pair_per_candidate():
    """Eq. 13: beta in R^{N_c x 2} per Cell input, relaxed by DARTS as one softmax per candidate."""
    from nni.nas.strategy import DARTS
    space = _gated_space()
    mutables = space.simplify()
    n_c = [6, 7]                                                    # 3 modalities x 2 blocks (+ cell 0)
    for i, n in enumerate(n_c):
        for s in (0, 1):
            gates = [l for l in mutables if l.startswith(f'fusion/cell{i}/input{s}/')]
            assert gates == [f'fusion/cell{i}/input{s}/cand{k}' for k in range(n)]
            assert all(list(mutables[g].values) == ['identity', 'zero'] for g in gates)
        assert f'fusion/cell{i}/input0' not in mutables
    assert list(mutables['fusion/cell0/step1/input0'].values) == [0, 1, 2]     # step inputs stay one-of-N
    supernet = DARTS().mutate_model(space)
    alphas = {m.label: m._arch_alpha for _, m in supernet.named_modules()
              if hasattr(m, '_arch_alpha') and '/input0/cand' in str(getattr(m, 'label', ''))}
    for i, n in enumerate(n_c):
        slot = torch.stack([a for l, a in alphas.items() if l.startswith(f'fusion/cell{i}/input0/')])
        assert slot.shape == (n, 2)
    # the supernet's slot is sum_k softmax(beta_k)[identity] * candidate_k
    gated = supernet.fusion.cells[0].input0
    with torch.no_grad():
        for k, gate in enumerate(gated.gates):
            gate._arch_alpha.copy_(torch.tensor([0.3 * k, -0.2 * k]))
    cands = [torch.randn(2, 16) for _ in range(6)]
    expected = sum(torch.softmax(torch.tensor([0.3 * k, -0.2 * k]), 0)[0] * c for k, c in enumerate(cands))
    torch.testing.assert_close(gated(cands), expected)


def _gated_arch(space, open_gates):
    arch = {}
    for label, m in space.simplify().items():
        values = list(m.values)
        if values == ['identity', 'zero']:
            arch[label] = 'identity' if label in open_gates else 'zero'
        else:
            arch[label] = [values[0]] if hasattr(m, 'n_chosen') else values[0]
    return arch


def test_fixed_gated_slot_sums_the_open_candidates():
    from nni.nas.space import model_context
    space = _gated_space()
    arch = _gated_arch(space, {'fusion/cell0/input0/cand1', 'fusion/cell0/input0/cand4',
                               'fusion/cell0/input1/cand2', 'fusion/cell1/input0/cand6',
                               'fusion/cell1/input1/cand0'})
    with model_context(arch):
        fixed = _gated_space()
    cell = fixed.fusion.cells[0]
    cands = [torch.randn(3, 16) for _ in range(6)]
    torch.testing.assert_close(cell.input0(cands), cands[1] + cands[4])
    torch.testing.assert_close(cell.input1(cands), cands[2])
    assert not torch.allclose(cell.input0(cands), cands[1])
    # a slot with no open gate gives a zero vector; the network still runs
    arch_none = dict(arch)
    for k in range(6):
        arch_none[f'fusion/cell0/input0/cand{k}'] = 'zero'
    with model_context(arch_none):
        closed = _gated_space()
    assert torch.equal(closed.fusion.cells[0].input0(cands), torch.zeros(3, 16))
    from conftest import random_batch
    inputs, masks = random_batch('sentence')
    assert torch.isfinite(closed(inputs, masks)['fused']).all()
    assert torch.isfinite(fixed(inputs, masks)['fused']).all()
