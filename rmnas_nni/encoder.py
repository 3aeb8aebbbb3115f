"""Per-modality encoder (RMNAS section 2): projection, positions, global token, blocks.

    X_m (B, N, D_m) --Linear(D_m, d)--> + sinusoidal PE (eq. 1)
                    --prepend learned global token gt (eq. 2)--> (B, N+1, d)
                    --n_blocks RMNAS blocks, each with its own searched mixer-->

The LST bias (:mod:`rmnas_nni.lst`) is computed once from the raw ``X_m`` and shared
by all blocks. With LST switched off (an ablation) the bias only masks padded keys.
Each mixer is an NNI ``LayerChoice`` labelled ``block{i}/mixer`` inside the caller's
label scope (the space opens one scope per modality, so labels read
``text/block0/mixer``); a single-candidate set is used as a fixed module, with no
label to search. In a fixed architecture that keeps several mixers of a block (a
threshold derivation, :mod:`rmnas_nni.derivation`) the block holds their mean.
"""
from __future__ import annotations

import math
from typing import List, Sequence

import torch
import torch.nn as nn
from nni.mutable import label_scope

from .derivation import layer_choice
from .rmnas_block import RMNASBlock
from .lst import LST, key_padding_bias
from .token_mixers import make_token_mixers

__all__ = ['sinusoidal_positions', 'ModalityEncoder']


def sinusoidal_positions(n: int, d: int) -> torch.Tensor:
    """``(n, d)`` sine/cosine positional encoding (Vaswani et al.)."""
    pos = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(n, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: d // 2])
    return pe


class ModalityEncoder(nn.Module):
    """Encoder of one modality; returns every block's output.

    Parameters
    ----------
    in_dim
        Raw feature width ``D_m``.
    max_len
        Longest sequence (tokens, without the global token) the encoder accepts.
    d_model, n_blocks, n_heads, ffn_ratio, dropout
        Block settings.
    mixers
        Candidate token mixers of every block.
    use_lst, kernel_size, maxdis
        LST settings.
    """

    def __init__(self, in_dim: int, max_len: int, d_model: int, n_blocks: int, n_heads: int,
                 ffn_ratio: int, dropout: float, mixers: Sequence[str],
                 use_lst: bool = True, kernel_size: int = 7, maxdis: int = 8):
        super().__init__()
        self.proj = nn.Linear(in_dim, d_model)
        self.register_buffer('positions', sinusoidal_positions(max_len, d_model), persistent=False)
        self.global_token = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
        self.lst = LST(in_dim, n_heads, kernel_size, maxdis) if use_lst else None
        self.blocks = nn.ModuleList()
        for i in range(n_blocks):
            candidates = make_token_mixers(mixers, d_model, n_heads, max_len + 1)
            if len(candidates) == 1:
                mixer = next(iter(candidates.values()))
            else:
                with label_scope(f'block{i}'):
                    mixer = layer_choice(candidates, label='mixer')
            self.blocks.append(RMNASBlock(d_model, mixer, ffn_ratio=ffn_ratio, dropout=dropout))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> List[torch.Tensor]:
        """``x``: ``(B, N, D_m)``; ``mask``: ``(B, N)`` bool. Returns ``n_blocks`` tensors ``(B, N+1, d)``."""
        b, n, _ = x.shape
        if n > self.positions.shape[0]:
            raise ValueError(f'sequence of {n} tokens is longer than the encoder was built for '
                             f'({self.positions.shape[0]}); raise max_len of the data')
        keep = mask.unsqueeze(-1).to(x.dtype)
        x = x * keep
        h = (self.proj(x) + self.positions[:n]) * keep
        h = torch.cat([self.global_token.expand(b, -1, -1).to(h.dtype), h], dim=1)
        full_mask = torch.cat([mask.new_ones(b, 1), mask], dim=1)
        bias = self.lst(x, mask) if self.lst is not None else key_padding_bias(full_mask, h.dtype)
        outs = []
        for block in self.blocks:
            h = block(h, bias, full_mask)
            outs.append(h)
        return outs
