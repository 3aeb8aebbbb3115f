import pytest
import torch

from rmnas_nni.lst import LST, key_padding_bias
from rmnas_nni.token_mixers import TOKEN_MIXERS, PoolMixer, canonical_mixer_name, make_token_mixers


@pytest.mark.parametrize('name', list(TOKEN_MIXERS))
@pytest.mark.parametrize('lst_on', [True, False])
def test_every_mixer_keeps_shape(name, lst_on):
    torch.manual_seed(0)
    mixer = make_token_mixers([name], d_model=16, n_heads=4, max_tokens=12)[name]
    raw = torch.randn(2, 9, 5)
    mask = torch.tensor([[1] * 9, [1] * 4 + [0] * 5], dtype=torch.bool)
    full = torch.cat([torch.ones(2, 1, dtype=torch.bool), mask], 1)
    bias = LST(5, 4)(raw, mask) if lst_on else key_padding_bias(full)
    x = torch.randn(2, 10, 16)
    out = mixer(x, bias, full)
    assert out.shape == x.shape
    assert torch.isfinite(out).all()


def test_random_alias_and_unknown():
    assert canonical_mixer_name('random') == 'random_mixing'
    assert set(make_token_mixers(['random'], 8, 2, 4)) == {'random_mixing'}
    with pytest.raises(ValueError):
        make_token_mixers(['conv'], 8, 2, 4)


def test_random_matrix_is_frozen_buffer():
    m = make_token_mixers(['random_mixing'], 8, 2, 6)['random_mixing']
    assert 'random_matrix' in dict(m.named_buffers())
    assert all('random_matrix' not in n for n, _ in m.named_parameters())


def test_pool_by_hand():
    # tokens (after the global one) 1, 2, 3, 10(pad); window 3, padding excluded
    x = torch.tensor([[[5.0], [1.0], [2.0], [3.0], [10.0]]])
    mask = torch.tensor([[True, True, True, True, False]])
    out = PoolMixer()(x, None, mask)
    expect = torch.tensor([[[0.0], [1.5 - 1], [2.0 - 2], [2.5 - 3], [0.0]]])
    torch.testing.assert_close(out, expect)


def test_attention_uses_the_bias():
    torch.manual_seed(0)
    att = make_token_mixers(['attention'], 8, 2, 6)['attention']
    x = torch.randn(1, 4, 8)
    mask = torch.ones(1, 4, dtype=torch.bool)
    zero = torch.zeros(1, 2, 4, 4)
    block = zero.clone()
    block[..., 1, 2:] = float('-inf')
    a, b = att(x, zero, mask), att(x, block, mask)
    assert not torch.allclose(a[:, 1], b[:, 1])
    torch.testing.assert_close(a[:, 0], b[:, 0])
