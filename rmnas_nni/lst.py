"""Local sentiment variation trends (LST), RMNAS eq. 3 and Algorithm 1.

LST is an additive attention bias of shape ``(B, H, N+1, N+1)`` computed once per
modality from the raw features (before projection) and shared by every block of
that modality. Index 0 is the global token; indices ``1..N`` are the feature tokens.

* **Sentiment trends (ST).** ``STEncoder = Conv1d(D, H, k, padding=k//2)`` reads
  the raw sequence; its output at position ``p`` (``p = 1..N-1``) is ``AST[p]``, the
  trend between the adjacent nodes ``p-1`` and ``p``. On a chain the shortest path
  between nodes ``i < j`` is ``i, i+1, ..., j``, so
  ``ST[i][j] = ST[j][i] = mean(AST[i+1..j])`` and ``ST[i][i] = 0``. With the prefix
  sum ``C[p] = AST[1] + ... + AST[p]`` (``C[0] = 0``) this is
  ``ST[i][j] = (C[j] - C[i]) / (j - i)`` for every ``i != j``: O(N^2 H), vectorised
  over the batch (:func:`sentiment_trends`). The paper's O(N^3) loop is kept only as
  :func:`sentiment_trends_reference`, for tests and benchmarks.
* **Distance matrix (DM).** ``DisEncoder = Linear(1, H)`` of the node distance
  ``|i - j|``; pairs farther apart than ``maxdis`` get ``-inf`` (no direct
  interaction). Every entry in the global token's row and column is
  ``DisEncoder(-1)``.
* ``LST = ST + DM``; the global token's ST entries are 0 and padded keys get
  ``-inf``. Every row keeps the global token finite, so no softmax row is all
  ``-inf``.

Padding: sequences are left-aligned (real tokens first). The raw features of
padded positions are zeroed before the convolution, which is exactly the
convolution's own zero padding, so a padded sequence gives the same LST on its
real tokens as the unpadded one.

Memory: the bias is the one ``(B, H, N+1, N+1)`` tensor :meth:`LST.forward`
allocates; ST, DM and the padding mask are written into it in place, and autograd
keeps only ``(N+1, N+1)`` constants for the backward pass. (Building DM, adding ST
and masking out of place held three such tensors at once, 3x the output.)
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['LST', 'sentiment_trends', 'sentiment_trends_reference', 'key_padding_bias']


def sentiment_trends(ast: torch.Tensor, global_token: bool = False) -> torch.Tensor:
    """ST matrix from the adjacent trends, with prefix sums.

    Parameters
    ----------
    ast
        ``(B, H, N)`` STEncoder output; position ``p >= 1`` is the trend between
        nodes ``p-1`` and ``p`` (position 0 is ignored).
    global_token
        Add the global token's row and column in front, all 0 (``(B, H, N+1, N+1)``).

    Returns
    -------
    ``(B, H, N, N)`` with ``ST[i][j] = mean(AST[min(i,j)+1 .. max(i,j)])`` and a zero diagonal.
    """
    n = ast.shape[-1]
    prefix = torch.cumsum(F.pad(ast[..., 1:], (1, 0)), dim=-1)          # C[0] = 0, C[p] = sum AST[1..p]
    if global_token:
        prefix = F.pad(prefix, (1, 0))                                   # the global token in front: P[0] = 0
    diff = prefix.unsqueeze(-2) - prefix.unsqueeze(-1)                   # diff[i, j] = C[j] - C[i]
    return diff.div_(_trend_steps(n, ast.device, diff.dtype, global_token=global_token))


def _trend_steps(n: int, device=None, dtype=torch.float32, global_token: bool = False) -> torch.Tensor:
    """Path lengths ``j - i`` that divide ``C[j] - C[i]``: ``(n, n)``, 1 on the diagonal (where the difference is 0).

    With ``global_token`` the result is ``(n+1, n+1)`` with ``inf`` in row and column 0, so
    that the division gives the global token's ST entries, 0.
    """
    pos = torch.arange(n, device=device, dtype=dtype)
    steps = pos.unsqueeze(0) - pos.unsqueeze(1)                          # j - i
    steps = torch.where(steps == 0, torch.ones_like(steps), steps)       # diagonal: diff is 0 there
    if global_token:
        steps = F.pad(steps, (1, 0, 1, 0), value=float('inf'))
    return steps


def sentiment_trends_reference(ast: torch.Tensor) -> torch.Tensor:
    """The paper's Algorithm 1: for every pair, walk its shortest path and average.

    O(N^3) Python loops. Used only to check :func:`sentiment_trends` and in the
    LST benchmark.
    """
    b, h, n = ast.shape
    out = torch.zeros(b, h, n, n, dtype=ast.dtype, device=ast.device)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            lo, hi = min(i, j), max(i, j)
            path = [ast[:, :, p] for p in range(lo + 1, hi + 1)]     # edges (p-1, p) on the chain lo..hi
            total = path[0]
            for edge in path[1:]:
                total = total + edge
            out[:, :, i, j] = total / len(path)
    return out


def key_padding_bias(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``(B, 1, 1, N)`` additive bias: 0 for real keys, ``-inf`` for padded ones."""
    bias = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    bias = bias.masked_fill(~mask, float('-inf'))
    return bias[:, None, None, :]


class LST(nn.Module):
    """Local sentiment variation trends of one modality.

    Parameters
    ----------
    in_dim
        Width ``D`` of the modality's raw features.
    n_heads
        Number of attention heads ``H``: one bias plane per head.
    kernel_size
        Kernel of the STEncoder convolution (paper: 7). Must be odd.
    maxdis
        Largest node distance allowed to interact directly (paper: 8).
    """

    def __init__(self, in_dim: int, n_heads: int, kernel_size: int = 7, maxdis: int = 8):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        self.n_heads = n_heads
        self.maxdis = maxdis
        self.st_encoder = nn.Conv1d(in_dim, n_heads, kernel_size, padding=kernel_size // 2)
        self.dis_encoder = nn.Linear(1, n_heads)

    def distance_matrix(self, n: int, device=None, dtype=torch.float32) -> torch.Tensor:
        """``(H, n+1, n+1)`` distance bias, global token at index 0."""
        pos = torch.arange(n, device=device, dtype=dtype)
        dist = F.pad((pos.unsqueeze(0) - pos.unsqueeze(1)).abs(), (1, 0, 1, 0), value=-1.0)  # (n+1, n+1), -1: global
        dm = self.dis_encoder(dist.unsqueeze(-1)).permute(2, 0, 1)             # (H, n+1, n+1)
        return dm.masked_fill_((dist > self.maxdis).unsqueeze(0), float('-inf'))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """LST bias.

        Parameters
        ----------
        x
            ``(B, N, D)`` raw features.
        mask
            ``(B, N)`` bool, True on real tokens (left-aligned).

        Returns
        -------
        ``(B, H, N+1, N+1)`` bias; the global token is index 0, padded keys are ``-inf``.
        """
        b, n, _ = x.shape
        x = x * mask.unsqueeze(-1).to(x.dtype)
        ast = self.st_encoder(x.transpose(1, 2))                               # (B, H, N)
        bias = sentiment_trends(ast, global_token=True)                       # the one (B, H, N+1, N+1) tensor
        dm = self.distance_matrix(n, x.device, x.dtype)
        bias = bias.add_(dm).to(dm.dtype)                  # + DM; .to: a copy only where autocast lowered DM's dtype
        keys = torch.cat([mask.new_ones(b, 1), mask], dim=1)                   # global token is always real
        return bias.masked_fill_(~keys[:, None, None, :], float('-inf'))
