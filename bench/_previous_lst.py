"""``LST.forward`` as it was before it built the bias in one tensor in place.

Kept as a second reference: ``bench/lst_cost.py`` times it beside the current forward,
and ``tests/test_lst.py`` checks that both give the same values and gradients.
"""
import torch
import torch.nn.functional as F

from rmnas_nni.lst import LST


def previous_lst_forward(lst: LST, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``LST.forward`` as it was before it built the bias in one tensor in place (for the side-by-side)."""
    b, n, _ = x.shape
    x = x * mask.unsqueeze(-1).to(x.dtype)
    ast = lst.st_encoder(x.transpose(1, 2))
    pos = torch.arange(n, dtype=x.dtype)
    dist = (pos.unsqueeze(0) - pos.unsqueeze(1)).abs()
    dm = lst.dis_encoder(dist.unsqueeze(-1)).permute(2, 0, 1)
    dm = dm.masked_fill((dist > lst.maxdis).unsqueeze(0), float('-inf'))
    g = lst.dis_encoder(torch.full((1,), -1.0, dtype=x.dtype))
    full = g.view(-1, 1, 1).expand(-1, n + 1, n + 1).clone()
    full[:, 1:, 1:] = dm
    bias = full.unsqueeze(0).repeat(b, 1, 1, 1)
    prefix = torch.cumsum(F.pad(ast[..., 1:], (1, 0)), dim=-1)
    pos_t = torch.arange(n, dtype=ast.dtype)
    steps = pos_t.unsqueeze(0) - pos_t.unsqueeze(1)
    steps = torch.where(steps == 0, torch.ones_like(steps), steps)
    bias[:, :, 1:, 1:] += (prefix.unsqueeze(-2) - prefix.unsqueeze(-1)) / steps
    keys = torch.cat([mask.new_ones(b, 1), mask], dim=1)
    return bias.masked_fill(~keys[:, None, None, :], float('-inf'))
