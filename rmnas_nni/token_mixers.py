"""RMNAS token mixers (the candidate set ``O_t`` of the searched block).

Every mixer has one signature, ``forward(x, bias, mask) -> same shape as x``:

* ``x``: ``(B, N+1, d)`` normalised tokens, global token at index 0;
* ``bias``: additive attention bias broadcastable to ``(B, H, N+1, N+1)``, the LST
  of the modality (or only the key-padding bias when LST is switched off);
  padded keys are ``-inf``;
* ``mask``: ``(B, N+1)`` bool, True on real tokens (the global token is real).

The block adds the residual, so a mixer returns only its update, and the block
does not care which mixer it holds.

| name | computation |
|---|---|
| ``attention`` | multi-head attention ``softmax(QK^T/sqrt(d_h) + LST_h) V`` + output projection |
| ``random_mixing`` | ``softmax(RM + LST_h) x_h`` per head group of channels; ``RM`` random, frozen at init |
| ``pool`` | average of the 3-token window over real feature tokens, minus the input; global token 0 |
| ``identity`` | ``x`` |

The paper's ``random`` mixer is named ``random_mixing`` here: NNI's ``LayerChoice``
turns candidate names into attributes, and ``random`` is already a method of every
NNI mutable. Configs may still say ``random``; :func:`canonical_mixer_name` maps it.
"""
from __future__ import annotations

from typing import Dict, Iterable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .registry import MIXERS

__all__ = ['Attention', 'RandomMixer', 'PoolMixer', 'IdentityMixer', 'TOKEN_MIXERS', 'canonical_mixer_name',
           'make_token_mixers']


@MIXERS.register('attention')
class Attention(nn.Module):
    """Multi-head self-attention whose logits carry the LST bias."""

    def __init__(self, d_model: int, n_heads: int, **_):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f'd_model ({d_model}) must be divisible by n_heads ({n_heads})')
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


@MIXERS.register('random_mixing', aliases=('random',))
class RandomMixer(nn.Module):
    """Random token mixing: a fixed random ``(N_max+1)^2`` matrix plus the LST bias.

    ``RM`` is drawn from a standard normal at construction and registered as a
    buffer (saved with the weights, never trained). It is sliced to the batch's
    token count. Channels are split into ``n_heads`` groups, group ``h`` mixed with
    ``softmax(RM + LST_h)``. No projection.
    """

    def __init__(self, d_model: int, n_heads: int, max_tokens: int, **_):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f'd_model ({d_model}) must be divisible by n_heads ({n_heads})')
        self.n_heads = n_heads
        self.register_buffer('random_matrix', torch.randn(max_tokens, max_tokens))

    def forward(self, x: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        if n > self.random_matrix.shape[0]:
            raise ValueError(f'sequence of {n} tokens is longer than the random mixer was built for '
                             f'({self.random_matrix.shape[0]}); raise max_len of the data')
        weights = torch.softmax(self.random_matrix[:n, :n].to(x.dtype) + bias, dim=-1)   # (B, H, n, n)
        groups = x.view(b, n, self.n_heads, d // self.n_heads).transpose(1, 2)            # (B, H, n, d_h)
        return (weights @ groups).transpose(1, 2).reshape(b, n, d)


@MIXERS.register('pool')
class PoolMixer(nn.Module):
    """Average pooling over a window of 3 feature tokens, minus the input.

    Padded tokens are excluded from the average (``count_include_pad=False``
    extended to sequence padding); the global token's output is 0.
    """

    def __init__(self, **_):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        feats = x[:, 1:]
        weight = mask[:, 1:].unsqueeze(-1).to(x.dtype)                          # (B, N, 1)
        window = lambda t: F.avg_pool1d(t.transpose(1, 2), 3, stride=1, padding=1,
                                        count_include_pad=True).transpose(1, 2) * 3
        total = window(feats * weight)
        count = window(weight).clamp_min(1.0)
        pooled = (total / count - feats) * weight
        return torch.cat([torch.zeros_like(x[:, :1]), pooled], dim=1)


@MIXERS.register('identity')
class IdentityMixer(nn.Module):
    """Returns its input: the block becomes ``LN(F) + F`` followed by the FFN."""

    def __init__(self, **_):
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x


# The registry of token mixers (name -> class), filled by the decorators above;
# configs and the space read it. ``random`` is an alias of ``random_mixing``.
TOKEN_MIXERS = MIXERS


def canonical_mixer_name(name: str) -> str:
    """The candidate name used in labels and exported architectures (``random`` -> ``random_mixing``)."""
    return MIXERS.canonical(name)


def make_token_mixers(names: Iterable[str], d_model: int, n_heads: int, max_tokens: int) -> Dict[str, nn.Module]:
    """Instantiate the named candidates (``{name: module}``, the form ``LayerChoice`` takes)."""
    out = {}
    for name in map(canonical_mixer_name, names):
        if name not in TOKEN_MIXERS:
            raise ValueError(f'unknown token mixer {name!r}; known: {sorted(TOKEN_MIXERS)}')
        out[name] = TOKEN_MIXERS[name](d_model=d_model, n_heads=n_heads, max_tokens=max_tokens)
    return out
