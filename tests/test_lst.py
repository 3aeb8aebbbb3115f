import math
import sys

import pytest
import torch
from conftest import ROOT

from rmnas_nni.lst import LST, key_padding_bias, sentiment_trends, sentiment_trends_reference

sys.path.insert(0, str(ROOT / 'bench'))
from _previous_lst import previous_lst_forward  # noqa: E402  (the LST forward before the in-place bias)


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


@pytest.mark.parametrize('n, maxdis', [(1, 8), (2, 1), (9, 3), (40, 8), (40, 100)])
def test_in_place_lst_equals_previous_computation(n, maxdis):
    torch.manual_seed(n)
    lst = LST(in_dim=5, n_heads=3, kernel_size=7, maxdis=maxdis)
    x = torch.randn(3, n, 5, requires_grad=True)
    with torch.no_grad():
        full = torch.ones(3, n, dtype=torch.bool)
        assert torch.equal(lst(x, full), previous_lst_forward(lst, x, full))          # float32, bit for bit
    # float64 from here: the gradients are sums over B (N+1)^2 entries, taken in another order
    lst = lst.double()
    x = x.detach().double().requires_grad_()
    lengths = torch.tensor([n, max(n // 2, 1), 1])
    mask = torch.arange(n)[None] < lengths[:, None]
    new, old = lst(x, mask), previous_lst_forward(lst, x, mask)
    assert new.dtype == old.dtype and new.shape == old.shape == (3, 3, n + 1, n + 1)
    assert torch.equal(new, old)                       # bit for bit, -inf where the previous had -inf
    # gradients of the raw features and of both encoders, through a softmax as the mixers use it
    weight = torch.randn(3, 3, n + 1, n + 1, dtype=torch.float64)
    grads = []
    for out in (new, old):
        params = [x, *lst.parameters()]
        grads.append(torch.autograd.grad((torch.softmax(out, -1) * weight).sum(), params))
    for g_new, g_old in zip(*grads):
        torch.testing.assert_close(g_new, g_old)


def test_lst_allocates_one_bias_tensor():
    from torch.multiprocessing.reductions import StorageWeakRef
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class PeakBytes(TorchDispatchMode):
        """Peak bytes of the tensors created inside the context and alive at once."""

        def __init__(self):
            super().__init__()
            self.live, self.current, self.peak = {}, 0, 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for key, (ref, size) in list(self.live.items()):
                if ref.expired():
                    del self.live[key]
                    self.current -= size
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor) and t.untyped_storage()._cdata not in self.live:
                    self.live[t.untyped_storage()._cdata] = (StorageWeakRef(t.untyped_storage()),
                                                             t.untyped_storage().nbytes())
                    self.current += t.untyped_storage().nbytes()
            self.peak = max(self.peak, self.current)
            return out

    lst = LST(in_dim=4, n_heads=4, kernel_size=7, maxdis=8)
    x, mask = torch.randn(16, 120, 4), torch.ones(16, 120, dtype=torch.bool)
    for grad in (False, True):
        with torch.set_grad_enabled(grad):
            tracker = PeakBytes()
            with tracker:
                out = lst(x, mask)
            # the (B, H, N+1, N+1) output and (H, N+1, N+1) things only (the previous forward held 3 outputs)
            assert tracker.peak < 1.25 * out.untyped_storage().nbytes()


def test_in_place_lst_keeps_dtype_and_values_under_autocast():
    torch.manual_seed(3)
    lst = LST(in_dim=5, n_heads=3, kernel_size=7, maxdis=4)
    x = torch.randn(2, 30, 5)
    mask = torch.arange(30)[None] < torch.tensor([[30], [20]])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        new, old = lst(x, mask), previous_lst_forward(lst, x, mask)
    assert new.dtype == old.dtype == torch.bfloat16
    assert torch.equal(new, old)
