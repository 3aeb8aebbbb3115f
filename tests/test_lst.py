import math

import pytest
import torch

from rmnas_nni.lst import LST, key_padding_bias, sentiment_trends, sentiment_trends_reference


@pytest.mark.parametrize('n', [1, 2, 5, 17])
def test_fast_trends_equal_algorithm_1(n):
    ast = torch.randn(3, 4, n, dtype=torch.float64)
    fast = sentiment_trends(ast)
    ref = sentiment_trends_reference(ast)
    assert fast.shape == (3, 4, n, n)
    torch.testing.assert_close(fast, ref)


def test_trends_by_hand():
    # AST = [ignored, 1, 3, 5]: ST[0][2] = mean(1, 3) = 2, ST[1][3] = mean(3, 5) = 4, ST[0][3] = 3
    ast = torch.tensor([[[9.0, 1.0, 3.0, 5.0]]])
    st = sentiment_trends(ast)[0, 0]
    assert st[0, 2] == 2.0 and st[2, 0] == 2.0
    assert st[1, 3] == 4.0 and st[0, 3] == 3.0 and st[2, 3] == 5.0
    assert torch.all(st.diagonal() == 0)


def test_lst_matches_reference_with_distance_and_global_token():
    torch.manual_seed(0)
    lst = LST(in_dim=6, n_heads=2, kernel_size=3, maxdis=2)
    x = torch.randn(2, 7, 6)
    mask = torch.ones(2, 7, dtype=torch.bool)
    bias = lst(x, mask)
    assert bias.shape == (2, 2, 8, 8)
    ast = lst.st_encoder(x.transpose(1, 2))
    st = sentiment_trends_reference(ast)
    g = lst.dis_encoder(torch.tensor([-1.0]))
    for i in range(7):
        for j in range(7):
            d = abs(i - j)
            if d > 2:
                assert torch.all(torch.isneginf(bias[:, :, i + 1, j + 1]))
            else:
                expect = st[:, :, i, j] + lst.dis_encoder(torch.tensor([float(d)]))
                torch.testing.assert_close(bias[:, :, i + 1, j + 1], expect)
    # the global token's row and column use DisEncoder(-1), with no trend term, for every pair
    for k in range(8):
        torch.testing.assert_close(bias[:, :, 0, k], g.expand(2, 2))
        torch.testing.assert_close(bias[:, :, k, 0], g.expand(2, 2))


def test_padded_keys_are_masked_and_rows_stay_finite():
    lst = LST(in_dim=4, n_heads=2, kernel_size=7, maxdis=8)
    x = torch.randn(2, 6, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    bias = lst(x, mask)
    assert torch.all(torch.isneginf(bias[0, :, :, 4:]))
    assert torch.all(torch.isfinite(bias[:, :, :, 0]))                  # every row keeps the global token
    assert not torch.isnan(torch.softmax(bias, -1)).any()


def test_padding_values_do_not_change_real_entries():
    torch.manual_seed(1)
    lst = LST(in_dim=4, n_heads=2, kernel_size=7, maxdis=3)
    x = torch.randn(1, 9, 4)
    mask = torch.arange(9)[None] < 5
    a = lst(x, mask)
    y = x.clone()
    y[:, 5:] = 1e3 * torch.randn(1, 4, 4)
    b = lst(y, mask)
    torch.testing.assert_close(a[..., :6, :6], b[..., :6, :6])
    # and it equals the LST of the unpadded sequence
    c = lst(x[:, :5], torch.ones(1, 5, dtype=torch.bool))
    torch.testing.assert_close(a[..., :6, :6], c)


def test_key_padding_bias():
    bias = key_padding_bias(torch.tensor([[True, True, False]]))
    assert bias.shape == (1, 1, 1, 3)
    assert bias[0, 0, 0, 0] == 0 and math.isinf(bias[0, 0, 0, 2].item())
