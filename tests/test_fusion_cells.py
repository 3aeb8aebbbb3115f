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
