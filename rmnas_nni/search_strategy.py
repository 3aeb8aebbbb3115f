"""Architecture search with NNI's one-shot strategies (RMNAS section 6).

NNI turns the :class:`~rmnas_nni.space.RMNASSpace` into a supernet (its
``LayerChoice`` / ``InputChoice`` become differentiable mixtures owning the
architecture parameters alpha, beta, lambda) and its one-shot Lightning module runs
the bilevel loop: per batch, one architecture step on a validation batch, then one
weight step on a training batch (first-order DARTS).

What is added here:

* **A configurable architecture optimizer.** NNI 3.0's DARTS hard-codes Adam for
  the architecture; the paper uses SGD with lr 5. :class:`ArchitectureOptimizerMixin`
  overrides ``configure_architecture_optimizers`` from the strategy YAML, and the
  strategy subclasses (:class:`RMNASDarts`, :class:`RMNASGumbelDarts`) override
  ``configure_oneshot_module`` to use it.
* **Validation during search**, for early stopping (patience 8) and for keeping
  the best epoch: NNI's DARTS runs no validation loop.
* **Reproducible epochs**: the global RNG is re-seeded from ``(seed, epoch)`` at the
  start of each epoch and loaders shuffle by ``(seed, epoch)``, so a search resumed
  from its per-epoch checkpoint ends exactly as an uninterrupted one.

Export is NNI's own: ``export()`` gives ``{label: choice}`` (the ``arch.json`` that
``RMNASSpace.freeze`` / ``model_context`` accept unchanged) and ``export_probs()`` the
softmax weight of every choice.
"""
from __future__ import annotations

import logging
import math
import random
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np
import pytorch_lightning as pl
import torch
from nni.nas.evaluator.pytorch import LightningModule
from nni.nas.oneshot.pytorch.differentiable import (DartsLightningModule, GumbelDartsLightningModule,
                                                    LinearTemperatureScheduler)
from nni.nas.strategy import DARTS, GumbelDARTS
from pytorch_lightning.callbacks import Callback, EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.plugins.io import TorchCheckpointIO

from .config import OptimizerConfig, StrategyConfig
from .errors import NonFiniteLossError
from .losses import rmnas_loss
from .metrics import choice_summary, compute_metrics, metric_direction, probs_of
from .nni_compat import batches_that_stepped
from .registry import STRATEGIES
from .rundir import atomic_torch_save, atomic_write_text, format_duration

__all__ = ['build_optimizer', 'RMNASTrainingModule', 'ArchitectureOptimizerMixin', 'RMNASDartsModule',
           'RMNASGumbelDartsModule', 'RMNASDarts', 'RMNASGumbelDarts', 'build_strategy', 'run_search',
           'SearchResult', 'batch_predictions', 'seed_epoch', 'choice_summary', 'probs_of', 'ChoiceHistory']

_log = logging.getLogger(__name__)



def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig) -> torch.optim.Optimizer:
    """An optimizer from a strategy YAML section (``type``, ``lr``, ``weight_decay``, ``momentum``, ``betas``)."""
    params = list(params)
    kind = cfg.type
    if kind == 'SGD':
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if kind == 'Adam':
        return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    if kind == 'AdamW':
        return torch.optim.AdamW(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    raise ValueError(f'unknown optimizer {kind!r}')


def seed_epoch(seed: int, epoch: int) -> None:
    """Seed torch, numpy and random from ``(seed, epoch)``."""
    s = (int(seed) * 1_000_003 + int(epoch)) % (2 ** 31)
    torch.manual_seed(s)
    np.random.seed(s)
    random.seed(s)


def rng_states() -> Dict[str, Any]:
    """torch, numpy and random states, as tensors and plain values (loadable with ``weights_only``)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {'torch': torch.get_rng_state(), 'numpy': [name, torch.from_numpy(keys.astype(np.int64)), int(pos),
                                                      int(has_gauss), float(cached)],
            'python': random.getstate()}


def set_rng_states(states: Dict[str, Any]) -> None:
    """Restore what :func:`rng_states` saved."""
    torch.set_rng_state(states['torch'])
    name, keys, pos, has_gauss, cached = states['numpy']
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate(tuple(states['python']) if isinstance(states['python'], list) else states['python'])


def batch_predictions(outputs: Dict, batch: Dict, task: str) -> Tuple[np.ndarray, np.ndarray]:
    """Fused predictions and labels of the real entries of a batch, as numpy arrays."""
    mask = batch['label_mask']
    pred = outputs['fused'][mask].detach().float()
    if task == 'classification':
        pred = pred.argmax(-1)
    return pred.cpu().numpy(), batch['label'][mask].cpu().numpy()


class RMNASTrainingModule(LightningModule):
    """The training recipe NNI's one-shot modules wrap: loss, validation metrics, weight optimizer.

    Parameters
    ----------
    task
        ``'regression'`` or ``'classification'``.
    metric_kind
        Metric set (:func:`~rmnas_nni.metrics.metric_kind`).
    select_metric
        Validation metric logged as ``val_select`` (early stopping, best epoch).
    weights_optimizer
        Optimizer section of the strategy YAML (paper: AdamW, lr 5e-4).

    ``select_from_epoch`` (0-based, default 0): epochs before it log the worst
    ``val_select``, so that neither the best checkpoint nor early stopping takes them.
    **(decision)** With warm-up epochs (``options.warmup_epochs``) the architecture
    has not moved before the first architecture step: exporting such an epoch would
    export the initial, uniform choice weights, so only epochs after the warm-up count.
    """

    def __init__(self, task: str, metric_kind: str, select_metric: str, weights_optimizer: OptimizerConfig):
        super().__init__()
        self.task = task
        self.metric_kind = metric_kind
        self.select_metric = select_metric
        self.weights_optimizer = weights_optimizer
        self._val: List[Tuple[np.ndarray, np.ndarray]] = []
        self.last_val_metrics: Dict[str, float] = {}
        self.select_from_epoch = 0

    def forward(self, batch: Dict) -> Dict:
        return self.model(batch['inputs'], batch['masks'])

    def training_step(self, batch: Dict, batch_idx: int) -> torch.Tensor:
        loss = rmnas_loss(self(batch), batch, self.task)
        if not torch.isfinite(loss):
            raise NonFiniteLossError(f'search: non-finite loss ({loss.item()}) at epoch '
                                     f'{self.trainer.current_epoch + 1}, step {batch_idx + 1}')
        self.log('train_loss', loss, on_step=False, on_epoch=True, batch_size=int(batch['label_mask'].sum()))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: Dict, batch_idx: int) -> None:
        self._val.append(batch_predictions(self(batch), batch, self.task))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        pred = np.concatenate([p for p, _ in self._val])
        label = np.concatenate([y for _, y in self._val])
        metrics = compute_metrics(pred, label, self.metric_kind)
        self.last_val_metrics = metrics
        self.log_dict({f'val_{k}': float(v) for k, v in metrics.items()})
        value = float(metrics[self.select_metric])
        if self.trainer.current_epoch < self.select_from_epoch:
            value = math.inf if metric_direction(self.select_metric) == 'min' else -math.inf
        self.log('val_select', value)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return build_optimizer(self.model.parameters(), self.weights_optimizer)


class ArchitectureOptimizerMixin:
    """Completes an NNI differentiable one-shot module for RMNAS.

    * ``configure_architecture_optimizers`` builds the optimizer the strategy YAML
      names (paper: SGD, lr 5) instead of NNI's hard-coded Adam;
    * validation is delegated to the training module (NNI's DARTS has none);
    * each epoch is seeded from ``(seed, epoch)``; RNG states go into checkpoints;
    * the architecture step computes no weight gradients (:meth:`training_step`);
    * the choice weights go to the loggers in one call (:meth:`log_probs`).
    """

    def __init__(self, *args, arch_optimizer: OptimizerConfig, seed: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.arch_optimizer_cfg = arch_optimizer
        self.seed = seed

    def configure_architecture_optimizers(self):
        params = self.arch_parameters()
        if not params:
            raise ValueError('No architecture parameters found. Nothing to search.')
        return build_optimizer(params, self.arch_optimizer_cfg)

    def validation_step(self, batch, batch_idx):
        return self.training_module.validation_step(batch, batch_idx)

    def on_validation_epoch_start(self):
        return self.training_module.on_validation_epoch_start()

    def on_validation_epoch_end(self):
        return self.training_module.on_validation_epoch_end()

    def on_train_epoch_start(self):
        seed_epoch(self.seed, self.trainer.current_epoch)
        return super().on_train_epoch_start()

    def training_step(self, batch, batch_idx):
        """NNI's first-order DARTS step, with the architecture step's backward kept to the architecture.

        As in NNI 3.0's ``DartsLightningModule.training_step``: an architecture step on
        the validation batch (after the warm-up epochs), then a weight step on the train
        batch, the learning-rate schedulers, and the choice weights logged every
        ``log_prob_every_n_step`` batches.

        **(decision)** NNI's architecture step backpropagates into every weight as well,
        and the weight step's ``zero_grad`` then throws those gradients away. Here the
        weights do not require gradients during the architecture step, so its backward
        skips the weight-gradient products: the architecture gradients are the same up
        to float32 rounding (the tests compare a search with NNI's step), and at paper
        size the architecture step costs half as much, a whole search step 30% less
        (``bench/search_vs_retrain.py --nni-arch-step``).
        """
        arc_optim = self.architecture_optimizers()
        if not isinstance(arc_optim, torch.optim.Optimizer):
            raise TypeError(f'Expect arc_optim to be a single Optimizer, but found: {arc_optim}')
        trn_batch, val_batch = batch['train'], batch['val']
        if self.warmup_epochs == 0 or self.trainer.current_epoch >= self.warmup_epochs:
            self.resample()
            arc_optim.zero_grad()
            arch_ids = {id(p) for p in self.arch_parameters()}
            frozen = [p for p in self.parameters() if p.requires_grad and id(p) not in arch_ids]
            try:
                for p in frozen:
                    p.requires_grad_(False)
                arc_step_loss = self.training_module.training_step(val_batch, 2 * batch_idx)
                if isinstance(arc_step_loss, dict):
                    arc_step_loss = arc_step_loss['loss']
                if self.penalty is not None:
                    arc_step_loss, details = self.penalty(arc_step_loss, self.export_probs())
                    self.log_dict({f'penalty/{k}': v for k, v in details.items()})
                self.manual_backward(arc_step_loss)
            finally:
                for p in frozen:
                    p.requires_grad_(True)
            arc_optim.step()

        self.resample()
        loss_and_metrics = self.training_module.training_step(trn_batch, 2 * batch_idx + 1)
        w_step_loss = loss_and_metrics['loss'] if isinstance(loss_and_metrics, dict) else loss_and_metrics
        self.advance_optimization(w_step_loss, batch_idx, self.gradient_clip_val)
        self.advance_lr_schedulers(batch_idx)
        if batch_idx % self.log_prob_every_n_step == 0:
            self.log_probs(self.export_probs())
        return loss_and_metrics

    def log_probs(self, probs) -> None:
        """Write the choice weights straight to the loggers (``search/metrics.csv``).

        **(decision)** NNI logs them with one Lightning ``self.log`` per choice value,
        which costs about a millisecond each in Lightning's result bookkeeping (a
        hundred values and more every ``log_prob_every_n_step`` steps: 5% of a
        quickstart search epoch, ``bench/nni_overhead.py --stock-log-probs``), and
        Lightning then wrote the last weights again as a CSV row at every step. The
        loggers receive the row NNI's path wrote at the logging step: the
        ``prob/{label}/{value}`` weights and the epoch, at the step Lightning would use.
        """
        loggers = self.trainer.loggers if self._trainer is not None else []
        if not loggers:
            return
        metrics: Dict[str, float] = {f'prob/{label}/{value}': float(weight)
                                     for label, dist in probs.items() for value, weight in dist.items()}
        metrics['epoch'] = self.trainer.current_epoch
        step = batches_that_stepped(self.trainer)
        for logger in loggers:
            logger.log_metrics(metrics, step=step)
            logger.save()

    def on_save_checkpoint(self, checkpoint: Dict[str, Any]) -> None:
        checkpoint['rng_states'] = rng_states()

    def on_load_checkpoint(self, checkpoint: Dict[str, Any]) -> None:
        if checkpoint.get('rng_states'):
            set_rng_states(checkpoint['rng_states'])


class RMNASDartsModule(ArchitectureOptimizerMixin, DartsLightningModule):
    """NNI's first-order DARTS module with RMNAS's architecture optimizer and validation."""


class RMNASGumbelDartsModule(ArchitectureOptimizerMixin, GumbelDartsLightningModule):
    """NNI's GumbelDARTS module with RMNAS's architecture optimizer and validation."""


class RMNASStrategyMixin:
    """What RMNAS adds to an NNI differentiable strategy: the architecture optimizer of
    the strategy YAML (NNI's takes only a learning rate), the seed, and the validation
    loader (NNI's DARTS drops it). ``module_options`` are what its one-shot module takes."""

    def __init__(self, *, arch_optimizer: OptimizerConfig, seed: int = 0, **kwargs):
        super().__init__(arc_learning_rate=arch_optimizer.lr, **kwargs)
        self.arch_optimizer = arch_optimizer
        self.seed = seed

    def val_dataloader(self, train_dataloader_fn, val_dataloader_fn):
        return val_dataloader_fn()

    def module_options(self) -> Dict[str, Any]:
        return dict(arch_optimizer=self.arch_optimizer, seed=self.seed, gradient_clip_val=self.gradient_clip_val,
                    log_prob_every_n_step=self.log_prob_every_n_step, warmup_epochs=self.warmup_epochs,
                    penalty=self.penalty)


class RMNASDarts(RMNASStrategyMixin, DARTS):
    """NNI ``DARTS`` whose architecture optimizer is configurable (paper: SGD, lr 5)."""

    def configure_oneshot_module(self, training_module):
        return RMNASDartsModule(training_module, **self.module_options())


class RMNASGumbelDarts(RMNASStrategyMixin, GumbelDARTS):
    """NNI ``GumbelDARTS`` (temperature annealed) with a configurable architecture optimizer."""

    def configure_oneshot_module(self, training_module):
        initial, final = self.temperature
        return RMNASGumbelDartsModule(training_module, LinearTemperatureScheduler(initial, final),
                                      **self.module_options())


def build_strategy(strategy_cfg: StrategyConfig, seed: int = 0):
    """The NNI strategy a strategy YAML names."""
    opts = strategy_cfg.options
    common = dict(arch_optimizer=strategy_cfg.architecture_optimizer, seed=seed,
                  gradient_clip_val=opts.gradient_clip_val, warmup_epochs=opts.warmup_epochs,
                  log_prob_every_n_step=opts.log_prob_every_n_step)
    return STRATEGIES[strategy_cfg.strategy](opts, common)


# The strategies a strategy YAML may name (``strategy:``): name -> build(options, common
# keyword arguments); config checks the name against this registry.
STRATEGIES.register('darts', lambda opts, common: RMNASDarts(**common))
STRATEGIES.register('gumbel_darts', lambda opts, common: RMNASGumbelDarts(
    temperature=tuple(float(t) for t in opts.temperature), **common))


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint atomically (:func:`~rmnas_nni.rundir.atomic_torch_save`: a
    temporary file, fsync, rename); a resumed run removes what a kill left behind."""

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        atomic_torch_save(checkpoint, path)


class EpochProgress(Callback):
    """One line per epoch: losses, validation metric, time per epoch and what remains."""

    def __init__(self, stage: str, select_metric: str, printer: Callable[[str], None] = print):
        self.stage = stage
        self.select_metric = select_metric
        self.mode = metric_direction(select_metric)
        self.best: Optional[float] = None
        self.printer = printer
        self._t0 = None
        self._epoch_t = None
        self._times: List[float] = []

    def state_dict(self):
        return {'best': self.best}

    def load_state_dict(self, state_dict):
        self.best = state_dict.get('best')

    def on_train_epoch_start(self, trainer, pl_module):
        self._epoch_t = time.perf_counter()
        if self._t0 is None:
            self._t0 = self._epoch_t

    def on_train_epoch_end(self, trainer, pl_module):
        if self._epoch_t is None:
            return
        self._times.append(time.perf_counter() - self._epoch_t)
        m = trainer.callback_metrics
        epoch, total = trainer.current_epoch + 1, trainer.max_epochs
        per = float(np.mean(self._times))
        loss = m.get('train_loss')
        val = m.get('val_select')
        if val is not None and np.isfinite(float(val)):
            v = float(val)
            if self.best is None or (v < self.best if self.mode == 'min' else v > self.best):
                self.best = v
        best = self.best
        parts = [f'{self.stage} epoch {epoch}/{total}']
        if loss is not None:
            parts.append(f'train loss {float(loss):.4f}')
        if val is not None and np.isfinite(float(val)):
            parts.append(f'val {self.select_metric} {float(val):.4f}')
        elif val is not None:
            parts.append('warm-up (weights only; the architecture is not selected here)')
        if best is not None:
            parts.append(f'(best {float(best):.4f})')
        parts.append(f'{per:.1f}s/epoch, elapsed {format_duration(time.perf_counter() - self._t0)}, '
                     f'at most {format_duration(per * (total - epoch))} left')
        self.printer('  '.join(parts))


class ChoiceHistory(Callback):
    """Per search epoch, the softmax weight of every candidate of every choice, with its summary.

    Written to ``search/choices.csv`` (long form: ``epoch, label, candidate, weight``;
    the summary of :func:`choice_summary` as rows with ``label`` ``summary/<name>``)
    after every epoch; kept in the Lightning checkpoint, so a resumed search keeps
    the rows of the epochs before it. Not written for a search without choice weights
    (SPOS: ``has_choice_weights`` False; its ranking is ``search/candidates.csv``).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows: List[Tuple[int, str, str, float]] = []

    def state_dict(self):
        return {'rows': list(self.rows)}

    def load_state_dict(self, state_dict):
        self.rows = [tuple(r) for r in state_dict.get('rows', [])]

    def on_train_epoch_end(self, trainer, pl_module):
        if not getattr(pl_module, 'has_choice_weights', True):      # SPOS: uniform until ranked
            return
        epoch = trainer.current_epoch + 1
        probs = probs_of(pl_module)
        self.rows = [r for r in self.rows if r[0] < epoch]
        for label, dist in probs.items():
            self.rows.extend((epoch, label, cand, w) for cand, w in dist.items())
        self.rows.extend((epoch, f'summary/{k}', '', v) for k, v in choice_summary(probs).items())
        lines = ['epoch,label,candidate,weight'] + [f'{e},{lab},{c},{w:.6g}' for e, lab, c, w in self.rows]
        atomic_write_text(self.path, '\n'.join(lines) + '\n')


class SearchResult:
    """What a search leaves: the exported architecture, the choice weights, the trained supernet."""

    def __init__(self, arch: Dict[str, Any], probs: Dict[str, Dict[str, float]], supernet: torch.nn.Module,
                 oneshot: pl.LightningModule, best_epoch: Optional[int], val_metrics: Dict[str, float],
                 epochs_run: int):
        self.arch = arch
        self.probs = probs
        self.supernet = supernet
        self.oneshot = oneshot
        self.best_epoch = best_epoch
        self.val_metrics = val_metrics
        self.epochs_run = epochs_run


def _trainer_device(device: str) -> Tuple[str, Any]:
    if device == 'cuda' or (device == 'auto' and torch.cuda.is_available()):
        return 'gpu', 1
    return 'cpu', 1


def run_search(space: torch.nn.Module, train_loader, arch_loader, val_loader, *, task: str, metric_kind: str,
               select_metric: str, strategy_cfg: StrategyConfig, epochs: int, patience: int, seed: int,
               out_dir: Path, min_epochs: int = 0, export: str = 'best', resume: bool = False,
               device: str = 'auto', precision: Optional[str] = None,
               printer: Callable[[str], None] = print, callbacks: Iterable[Callback] = ()) -> SearchResult:
    """Search ``space`` with the strategy of ``strategy_cfg``; checkpoints go to ``out_dir``.

    ``train_loader`` feeds weight steps, ``arch_loader`` architecture steps (the
    validation split, shuffled) and ``val_loader`` the per-epoch validation.
    With ``resume``, training continues from ``out_dir/checkpoints/last.ckpt``.
    ``export='best'`` stops early (``patience`` epochs without improvement, never
    before ``min_epochs``) and restores the best validation epoch before export;
    ``export='final'`` runs every epoch and exports the last one (DARTS's schedule).
    """
    seed_epoch(seed, 0)
    strategy = build_strategy(strategy_cfg, seed)
    supernet = strategy.mutate_model(space)
    training = RMNASTrainingModule(task, metric_kind, select_metric, strategy_cfg.weights_optimizer)
    training.set_model(supernet)
    training.select_from_epoch = int(strategy_cfg.options.warmup_epochs or 0)
    oneshot = strategy.configure_oneshot_module(training)
    fit_train = strategy.train_dataloader(lambda: train_loader, lambda: arch_loader)
    fit_val = strategy.val_dataloader(lambda: train_loader, lambda: val_loader)

    mode = metric_direction(select_metric)
    ckpt_dir = Path(out_dir) / 'checkpoints'
    # best.ckpt is only ever read for its weights (the best epoch is restored before export), so it
    # holds no optimizer state: a third of a full checkpoint. last.ckpt is full, for --resume.
    checkpoint = ModelCheckpoint(dirpath=ckpt_dir, filename='best', monitor='val_select', mode=mode,
                                 save_top_k=1, save_weights_only=True, enable_version_counter=False)
    last_checkpoint = ModelCheckpoint(dirpath=ckpt_dir, filename='last', save_top_k=1, enable_version_counter=False)
    early = EarlyStopping(monitor='val_select', mode=mode, patience=patience, check_finite=False)
    stopping = [early] if export == 'best' else []
    history = ChoiceHistory(Path(out_dir) / 'choices.csv')
    accelerator, devices = _trainer_device(device)
    trainer = pl.Trainer(
        max_epochs=epochs, min_epochs=min(min_epochs, epochs), accelerator=accelerator, devices=devices,
        precision=precision,
        callbacks=[checkpoint, last_checkpoint, *stopping, history, EpochProgress('search', select_metric, printer),
                   *callbacks],
        logger=CSVLogger(str(out_dir), name='', version=''), default_root_dir=str(out_dir),
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        plugins=[AtomicCheckpointIO()], log_every_n_steps=1)
    last = ckpt_dir / 'last.ckpt'
    ckpt_path = str(last) if resume and last.is_file() else None
    trainer.fit(oneshot, train_dataloaders=fit_train, val_dataloaders=fit_val, ckpt_path=ckpt_path)

    best_path = checkpoint.best_model_path
    best_epoch = None
    if best_path and Path(best_path).is_file():
        state = torch.load(best_path, map_location='cpu', weights_only=False)
        best_epoch = int(state['epoch']) + 1
        if export == 'best':
            oneshot.load_state_dict(state['state_dict'])
    arch = oneshot.export()
    probs = probs_of(oneshot)
    arch = {label: (list(v) if isinstance(v, (list, tuple)) else v) for label, v in arch.items()}
    return SearchResult(arch, probs, supernet, oneshot, best_epoch, dict(training.last_val_metrics),
                        trainer.current_epoch)
