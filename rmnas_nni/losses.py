"""The RMNAS training loss: the fused prediction plus every unimodal branch.

    L = L(fused) + sum_m L(unimodal_m)

``L`` is L1 for regression and cross-entropy for classification, averaged over the
real labels only (padded utterances never count).
"""
from __future__ import annotations

from typing import Dict

import torch
import torch.nn.functional as F

__all__ = ['task_loss', 'rmnas_loss']


def task_loss(pred: torch.Tensor, label: torch.Tensor, label_mask: torch.Tensor, task: str) -> torch.Tensor:
    """L1 (regression) or cross-entropy (classification) over the entries where ``label_mask`` is True."""
    if task == 'regression':
        return F.l1_loss(pred[label_mask], label[label_mask].to(pred.dtype))
    return F.cross_entropy(pred[label_mask], label[label_mask])


def rmnas_loss(outputs: Dict, batch: Dict, task: str) -> torch.Tensor:
    """Loss of one batch from the model's ``{'fused', 'unimodal'}`` outputs."""
    label, mask = batch['label'], batch['label_mask']
    loss = task_loss(outputs['fused'], label, mask, task)
    for pred in outputs['unimodal'].values():
        loss = loss + task_loss(pred, label, mask, task)
    return loss
