"""The thin trainer: retrain a fixed architecture from scratch (RMNAS section 6).

    for epoch in 1..max_epochs:
        seed (seed, epoch); one pass over train: loss = L(fused) + sum_m L(unimodal_m)
        AdamW step (gradient norm clipped); validate; keep the best weights
        checkpoint (atomic): weights, optimizer, early-stopping state, RNG, epoch
        stop after `patience` epochs without improvement
    restore the best weights; evaluate on test

A non-finite loss stops training with a :class:`~rmnas_nni.errors.NonFiniteLossError`
naming the epoch and step; the last good checkpoint stays on disk.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from .errors import NonFiniteLossError, RunDirError
from .losses import rmnas_loss
from .metrics import compute_metrics, metric_direction
from .rundir import atomic_torch_save, format_duration
from .search_strategy import batch_predictions, rng_states, seed_epoch, set_rng_states

__all__ = ['predict', 'evaluate', 'retrain', 'device_of', 'to_device', 'SeedEnsemble', 'member_seed']


def member_seed(seed: int, member: int) -> int:
    """The seed of a seed ensemble's member ``member``: member 0 is the run's own seed."""
    return seed + 1000 * member


class SeedEnsemble(torch.nn.Module):
    """Networks of one architecture trained from different seeds; predicts their mean.

    Every head (fused and unimodal) is the mean of the members' outputs: the
    regression value, or the logits for classification.
    """

    def __init__(self, members):
        super().__init__()
        self.members = torch.nn.ModuleList(members)

    def forward(self, inputs, masks) -> Dict:
        outs = [m(inputs, masks) for m in self.members]
        return {'fused': torch.stack([o['fused'] for o in outs]).mean(0),
                'unimodal': {k: torch.stack([o['unimodal'][k] for o in outs]).mean(0) for k in outs[0]['unimodal']}}


def device_of(name: str) -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    if name == 'cuda' or (name == 'auto' and torch.cuda.is_available()):
        return torch.device('cuda')
    return torch.device('cpu')


def to_device(batch: Dict, device: torch.device, non_blocking: bool = False) -> Dict:
    """A (nested) batch dict with every tensor moved to ``device``."""
    if isinstance(batch, dict):
        return {k: to_device(v, device, non_blocking) for k, v in batch.items()}
    return batch.to(device, non_blocking=non_blocking) if isinstance(batch, torch.Tensor) else batch


@torch.no_grad()
def predict(model: torch.nn.Module, loader, task: str, device: Optional[torch.device] = None):
    """``(pred, label)`` over the real entries of every batch (fused head)."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    preds, labels = [], []
    for batch in loader:
        batch = to_device(batch, device)
        p, y = batch_predictions(model(batch['inputs'], batch['masks']), batch, task)
        preds.append(p)
        labels.append(y)
    model.train(was_training)
    return np.concatenate(preds), np.concatenate(labels)


def evaluate(model: torch.nn.Module, loader, task: str, kind: str, device: Optional[torch.device] = None
             ) -> Dict[str, float]:
    """All metrics of ``kind`` on a loader."""
    pred, label = predict(model, loader, task, device)
    return compute_metrics(pred, label, kind)


def _ema_pairs(averaged: Dict[str, torch.Tensor], model: torch.nn.Module
               ) -> List[Tuple[torch.Tensor, torch.Tensor, bool]]:
    """``(averaged tensor, the model's own tensor, floating?)`` for every entry of the model's state dict, in its
    order; the model's parameters and buffers are updated in place (optimizer, ``load_state_dict``), so the
    list is built once and serves every step."""
    return [(averaged[k], v, torch.is_floating_point(v)) for k, v in model.state_dict(keep_vars=True).items()]


@torch.no_grad()
def _ema_step(pairs: List[Tuple[torch.Tensor, torch.Tensor, bool]], decay: float) -> None:
    """averaged <- decay * averaged + (1 - decay) * the model's weights, over :func:`_ema_pairs` (floating
    tensors; others copied)."""
    for avg, v, floating in pairs:
        if floating:
            avg.lerp_(v, 1.0 - decay)
        else:
            avg.copy_(v)


def _better(value: float, best: Optional[float], mode: str) -> bool:
    if best is None or not np.isfinite(best):
        return np.isfinite(value)
    return value < best if mode == 'min' else value > best


def retrain(model: torch.nn.Module, train_loader, val_loader, *, task: str, kind: str, select_metric: str,
            epochs: int, patience: int, lr: float, weight_decay: float, grad_clip: Optional[float], seed: int,
            out_dir: Path, min_epochs: int = 0, resume: bool = False, device: str = 'auto', ema: float = 0.0,
            printer: Callable[[str], None] = print,
            on_epoch: Optional[Callable[[int, Dict[str, float]], None]] = None) -> Dict:
    """Train ``model`` (already built from scratch) with early stopping; returns a summary.

    Early stopping never stops before ``min_epochs`` epochs. The training metrics of
    each epoch (from the predictions of its training steps, dropout on) are kept in
    the history beside the validation metrics.
    ``out_dir`` receives ``last.pt`` (every epoch) and ``best.pt`` (best weights).
    With ``resume``, training continues after the epoch saved in ``last.pt``.
    ``on_epoch(epoch, val_metrics)`` is called after each epoch (NNI reporting).
    ``ema`` > 0: an exponential moving average of the weights (decay ``ema`` per
    step, starting from the initial weights) is what is validated, kept as best and
    returned; training steps on the raw weights as before. 0: no averaging.

    Returns
    -------
    ``{'best_epoch', 'epochs_run', 'best_val': metrics, 'history': [...]}``; the model
    holds the best weights on return.
    """
    out_dir = Path(out_dir)
    dev = device_of(device)
    model.to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    mode = metric_direction(select_metric)
    state = {'epoch': 0, 'best_score': None, 'best_epoch': None, 'bad_epochs': 0, 'history': []}
    last_path, best_path = out_dir / 'last.pt', out_dir / 'best.pt'
    averaged = {k: v.detach().clone() for k, v in model.state_dict().items()} if ema else None
    if resume and last_path.is_file():
        ckpt = torch.load(last_path, map_location=dev, weights_only=False)
        model.load_state_dict(ckpt['model'])
        optimizer.load_state_dict(ckpt['optimizer'])
        if averaged is not None:
            averaged = ckpt['ema']
        state = ckpt['state']
        set_rng_states(ckpt['rng'])
        printer(f'retrain: resumed after epoch {state["epoch"]}')
    elif resume:
        raise RunDirError(f'{last_path}: no retrain checkpoint to resume from')
    pairs = _ema_pairs(averaged, model) if averaged is not None else None

    t0 = time.perf_counter()
    times = []
    while state['epoch'] < epochs and (state['bad_epochs'] < patience or state['epoch'] < min_epochs):
        epoch = state['epoch']
        seed_epoch(seed, epoch)
        if hasattr(train_loader.sampler, 'set_epoch'):
            train_loader.sampler.set_epoch(epoch)
        te = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        seen = []
        for step, batch in enumerate(train_loader):
            batch = to_device(batch, dev)
            outputs = model(batch['inputs'], batch['masks'])
            loss = rmnas_loss(outputs, batch, task)
            seen.append(batch_predictions(outputs, batch, task))
            if not torch.isfinite(loss):
                raise NonFiniteLossError(f'retrain: non-finite loss ({loss.item()}) at epoch {epoch + 1}, '
                                         f'step {step + 1}; last good checkpoint: {last_path}')
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            if averaged is not None:
                _ema_step(pairs, ema)
            total += loss.item() * int(batch['label_mask'].sum())
            count += int(batch['label_mask'].sum())
        if averaged is not None:
            raw = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.load_state_dict(averaged)
        val = evaluate(model, val_loader, task, kind, dev)
        score = float(val[select_metric])
        state['epoch'] = epoch + 1
        fit = compute_metrics(np.concatenate([p for p, _ in seen]), np.concatenate([y for _, y in seen]), kind)
        state['history'].append({'epoch': epoch + 1, 'train_loss': total / max(count, 1),
                                 **{f'train_{k}': v for k, v in fit.items()},
                                 **{f'val_{k}': v for k, v in val.items()}})
        if _better(score, state['best_score'], mode):
            state.update(best_score=score, best_epoch=epoch + 1, bad_epochs=0)
            atomic_torch_save(model.state_dict(), best_path)
        else:
            state['bad_epochs'] += 1
        extra = {}
        if averaged is not None:
            model.load_state_dict(raw)
            extra['ema'] = averaged
        atomic_torch_save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'state': state,
                           'rng': rng_states(), **extra}, last_path)
        times.append(time.perf_counter() - te)
        per = float(np.mean(times))
        printer(f'retrain epoch {epoch + 1}/{epochs}  train loss {total / max(count, 1):.4f} '
                f'{select_metric} {fit[select_metric]:.4f}  '
                f'val {select_metric} {score:.4f} (best {state["best_score"]:.4f} @ {state["best_epoch"]})  '
                f'{per:.1f}s/epoch, elapsed {format_duration(time.perf_counter() - t0)}, '
                f'at most {format_duration(per * (epochs - epoch - 1))} left')
        if on_epoch is not None:
            on_epoch(epoch + 1, val)
    if best_path.is_file():
        model.load_state_dict(torch.load(best_path, map_location=dev, weights_only=True))
    best_val = next((h for h in state['history'] if h['epoch'] == state['best_epoch']), {})
    return {'best_epoch': state['best_epoch'], 'epochs_run': state['epoch'],
            'best_val': {k[4:]: v for k, v in best_val.items() if k.startswith('val_')},
            'history': state['history']}
