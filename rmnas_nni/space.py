"""The RMNAS model space: searched token mixers per modality, BM-NAS fusion, heads."""
from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

import torch
import torch.nn as nn
from nni.mutable import CategoricalMultiple, label_scope
from nni.nas.nn.pytorch import ModelSpace

from .encoder import ModalityEncoder
from .fusion_cells import BMFusion, STEP_OPERATIONS
from .token_mixers import TOKEN_MIXERS

__all__ = ['Head', 'RMNASSpace']


class Head(nn.Sequential):
    """Task head: ``LayerNorm -> Linear -> GELU -> Dropout -> Linear``, applied to the last dimension."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, dropout: float = 0.0):
        super().__init__(nn.LayerNorm(in_dim), nn.Linear(in_dim, hidden), nn.GELU(),
                         nn.Dropout(dropout), nn.Linear(hidden, out_dim))


class RMNASSpace(ModelSpace):
    """RMNAS: robust multimodal NAS for sentiment analysis with missing modalities.

    Each modality has its own encoder of ``n_blocks`` RMNAS blocks whose token
    mixers are searched (``{modality}/block{i}/mixer``); the global-token outputs of
    every block (dialogue level: the token outputs) feed a BM-NAS fusion whose
    inputs and operations are searched (``fusion/cell{i}/...``). Besides the fused
    head, every modality has a unimodal head on its last block.

    Parameters
    ----------
    modalities
        ``{name: raw feature width}``, any non-empty set (e.g. text, audio, vision).
    max_lengths
        ``{name: longest sequence}`` in tokens (dialogue level: utterances).
    level
        ``'sentence'`` (one prediction per sample, from global tokens) or
        ``'dialogue'`` (one prediction per utterance token).
    out_dim
        1 for regression, the number of classes for classification.
    d_model, n_blocks, n_heads, ffn_ratio, dropout
        Encoder settings (paper: 448, 6, 8, 4).
    mixers
        Candidate token mixers of every block (see :data:`~rmnas_nni.token_mixers.TOKEN_MIXERS`).
    use_lst, kernel_size, maxdis
        LST switch and settings (paper: on, 7, 8).
    fusion_width, n_cells, n_steps, fusion_ops, attention_chunks
        BM-NAS fusion settings (paper: 240, 2, 2, all five operations).
    fusion_input_selection
        How a Cell input selects among the candidates: ``one_of_n`` (one NNI
        ``InputChoice``) or ``gates`` (the paper's eq. 13: an identity/zero gate per
        candidate, labelled ``fusion/cell{i}/input{s}/cand{k}``, gated candidates summed).
    """

    def __init__(self, modalities: Dict[str, int], max_lengths: Dict[str, int], level: str = 'sentence',
                 out_dim: int = 1, d_model: int = 448, n_blocks: int = 6, n_heads: int = 8, ffn_ratio: int = 4,
                 dropout: float = 0.1, mixers: Sequence[str] = tuple(TOKEN_MIXERS), use_lst: bool = True,
                 kernel_size: int = 7, maxdis: int = 8, fusion_width: int = 240, n_cells: int = 2,
                 n_steps: int = 2, fusion_ops: Sequence[str] = tuple(STEP_OPERATIONS), attention_chunks: int = 8,
                 fusion_input_selection: str = 'one_of_n'):
        super().__init__()
        if not modalities:
            raise ValueError('at least one modality is needed')
        if level not in ('sentence', 'dialogue'):
            raise ValueError(f"level must be 'sentence' or 'dialogue', got {level!r}")
        self.level = level
        self.modalities = list(modalities)
        self.n_blocks = n_blocks
        self.encoders = nn.ModuleDict()
        for name, in_dim in modalities.items():
            with label_scope(name):
                self.encoders[name] = ModalityEncoder(
                    in_dim, max_lengths[name], d_model=d_model, n_blocks=n_blocks, n_heads=n_heads,
                    ffn_ratio=ffn_ratio, dropout=dropout, mixers=list(mixers), use_lst=use_lst,
                    kernel_size=kernel_size, maxdis=maxdis)
        with label_scope('fusion'):
            self.fusion = BMFusion(len(modalities) * n_blocks, d_model, width=fusion_width, n_cells=n_cells,
                                   n_steps=n_steps, operations=list(fusion_ops), attention_chunks=attention_chunks,
                                   input_selection=fusion_input_selection)
        self.head = Head(self.fusion.out_dim, fusion_width, out_dim, dropout)
        self.unimodal_heads = nn.ModuleDict(
            {name: Head(d_model, fusion_width, out_dim, dropout) for name in modalities})

    def candidate_names(self) -> List[str]:
        """Names of the fusion candidates, in the order the input choices index them."""
        return [f'{m}/block{i}' for m in self.modalities for i in range(self.n_blocks)]

    def input_choice_names(self) -> Dict[str, List[str]]:
        """``{label: candidate names}`` of every one-of-N fusion input choice, in the order its indices count.

        A Cell input picks one of :meth:`candidate_names` or an earlier Cell (``cell{k}``);
        a Cell-Step input one of the Cell's inputs (``input0``, ``input1``) or an earlier
        Step (``step{k}``). Gated inputs (``fusion_input_selection='gates'``) are no such choice.
        """
        names: Dict[str, List[str]] = {}
        for i, cell in enumerate(self.fusion.cells):
            for s in (0, 1):
                names[f'fusion/cell{i}/input{s}'] = self.candidate_names() + [f'cell{k}' for k in range(i)]
            for j in range(len(cell.steps)):
                for s in (0, 1):
                    names[f'fusion/cell{i}/step{j}/input{s}'] = ['input0', 'input1'] + [f'step{k}' for k in range(j)]
        mutables = self.simplify()
        return {label: n for label, n in names.items() if isinstance(mutables.get(label), CategoricalMultiple)}

    def forward(self, inputs: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor]) -> Dict:
        """Predict from padded inputs.

        Parameters
        ----------
        inputs
            ``{modality: (B, N_m, D_m)}``; dialogue level: ``N_m`` = utterances, equal for all.
        masks
            ``{modality: (B, N_m)}`` bool, True on real tokens (left-aligned).

        Returns
        -------
        ``{'fused': pred, 'unimodal': {modality: pred}}``; ``pred`` is ``(B,)`` / ``(B, C)``
        at sentence level and ``(B, N)`` / ``(B, N, C)`` at dialogue level (regression / C classes).
        """
        features: List[torch.Tensor] = []
        unimodal = {}
        for name, encoder in self.encoders.items():
            outs = encoder(inputs[name], masks[name])
            reps = [o[:, 0] for o in outs] if self.level == 'sentence' else [o[:, 1:] for o in outs]
            features.extend(reps)
            unimodal[name] = self._squeeze(self.unimodal_heads[name](reps[-1]))
        fused = self._squeeze(self.head(self.fusion(features)))
        return {'fused': fused, 'unimodal': unimodal}

    @staticmethod
    def _squeeze(pred: torch.Tensor) -> torch.Tensor:
        return pred.squeeze(-1) if pred.shape[-1] == 1 else pred
