"""The RMNAS block: a pre-norm Transformer block whose token mixer is searched.

    H  = mixer(LN(F), LST, mask) + F        (eq. 4-5; in the supernet the mixer is
                                             sum_o softmax(alpha)_o * o(...))
    F' = FFN(LN(H)) + H                      (eq. 6; FFN ratio 4, GELU)

The mixer is any module with the token-mixer signature (see
:mod:`rmnas_nni.token_mixers`): a fixed mixer, an NNI ``LayerChoice`` over several,
or the differentiable mixture NNI's DARTS puts in its place. Padded tokens are set
to zero after the block, so they carry nothing from one block to the next.
"""
from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ['FFN', 'RMNASBlock']


class FFN(nn.Module):
    """``Linear(d, r*d) -> GELU -> Dropout -> Linear(r*d, d) -> Dropout``."""

    def __init__(self, d_model: int, ratio: int = 4, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_model, ratio * d_model), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(ratio * d_model, d_model), nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class RMNASBlock(nn.Module):
    """One block; ``mixer`` is the (searched) token mixer."""

    def __init__(self, d_model: int, mixer: nn.Module, ffn_ratio: int = 4, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.mixer = mixer
        self.drop = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.ffn = FFN(d_model, ffn_ratio, dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.mixer(self.norm1(x), bias, mask))
        x = x + self.ffn(self.norm2(x))
        return x * mask.unsqueeze(-1).to(x.dtype)
