#!/usr/bin/env python
"""NNI overhead: one DARTS search epoch through NNI + Lightning against a hand-written bilevel loop.

Both sides search the same supernet (the run config's space, made a DARTS supernet by
``RMNASDarts.mutate_model`` from the same seed) on the same data with the same
batch order and the same threads:

* **NNI**: :func:`rmnas_nni.search_strategy.run_search`, exactly as ``rmnas search`` runs it
  (``RMNASDarts`` one-shot module under a Lightning ``Trainer``, ``CombinedLoader`` over
  the train and architecture loaders, validation every epoch, checkpoints, CSV
  logger, progress line), one epoch, into a temporary directory.
* **Hand-written**: per step, an architecture step on the next validation batch
  (SGD over the architecture parameters; the weights do not require gradients
  during it, as in the project's ``training_step``), then a weight step on the next train
  batch (AdamW over the weights, gradient clipping as configured), the shorter
  loader cycled as Lightning's ``max_size_cycle`` does, the global RNG seeded per
  epoch as the module does; then one validation pass computing the metrics.

Repetitions rotate the order (NNI, hand, hand, NNI, ...), each on a freshly built
supernet. ``--stock-log-probs`` adds a third variant, the NNI path with NNI's own
``log_probs`` (one Lightning ``self.log`` per choice value, what the project used
before its ``log_probs`` override), to show that change side by side.
Reported: ``nni_epoch`` (Lightning's epoch, from ``on_train_epoch_start`` to
``on_train_end``: steps, validation, checkpoints, logging), ``nni_call`` (the whole
``run_search`` call, with Trainer set-up and export) and ``hand_epoch``; the ratio
is the median of the per-repetition ratios ``nni_epoch / hand_epoch`` (goal <= 1.10).
The same ratio in the process's CPU time (``time.process_time``) is reported beside
it: with one thread it counts the work done and not the waiting for a core that
other jobs on a shared machine cause, so it is the steadier of the two.
After each pair the two supernets' architecture parameters are compared (the two
loops must do the same work: ``max_arch_diff``).

``--profile`` adds one NNI epoch under cProfile and prints where the time outside
the model's forward/backward/optimizer goes.

    python bench/nni_overhead.py [--config examples/quickstart.yml] [--threads 2] [--json ...]
"""
from __future__ import annotations

import gc
import itertools
import tempfile
import time
from pathlib import Path

import _common as C
import numpy as np
import torch
from pytorch_lightning.callbacks import Callback


class EpochTimer(Callback):
    """Wall time of the (single) training epoch, validation and end-of-epoch hooks included."""

    def __init__(self):
        self.t0 = self.t1 = self.c0 = self.c1 = None

    def on_train_epoch_start(self, trainer, pl_module):
        if self.t0 is None:
            self.t0, self.c0 = time.perf_counter(), time.process_time()

    def on_train_end(self, trainer, pl_module):
        self.t1, self.c1 = time.perf_counter(), time.process_time()


def arch_tensor(supernet) -> torch.Tensor:
    """All architecture parameters of a DARTS supernet, flattened in module order."""
    from nni.nas.oneshot.pytorch.supermodule.base import BaseSuperNetModule
    parts = []
    for m in supernet.modules():
        if isinstance(m, BaseSuperNetModule) and hasattr(m, 'arch_parameters'):
            parts += [p.detach().flatten() for p in m.arch_parameters()]
    return torch.cat(parts) if parts else torch.zeros(0)


class Bench:
    def __init__(self, cfg, smoke: bool):
        from rmnas_nni.data import make_loader
        from rmnas_nni.pipeline import prepare_data, select_metric_of
        self.cfg = cfg
        self.data, _ = prepare_data(cfg)
        if smoke:
            splits = {k: v.subset(np.arange(min(len(v), 24))) for k, v in self.data.splits.items()}
            self.data = self.data.with_splits(splits)
        self.kind, self.select = select_metric_of(cfg, self.data)
        s, seed = cfg.search, cfg.seed
        sp = self.data.splits
        self.loaders = lambda: (make_loader(sp['train'], self.data.level, s.batch_size, shuffle=True, seed=seed),
                                make_loader(sp['valid'], self.data.level, s.batch_size, shuffle=True, seed=seed + 1),
                                make_loader(sp['valid'], self.data.level, s.batch_size, shuffle=False))

    def space(self):
        from rmnas_nni.pipeline import build_space
        from rmnas_nni.search_strategy import seed_epoch
        seed_epoch(self.cfg.seed, -1)                       # as pipeline.search does before building the space
        return build_space(self.cfg, self.data)

    # -- NNI -------------------------------------------------------------------------------------------------
    def nni(self, profile: bool = False, stock_log_probs: bool = False):
        from rmnas_nni.search_strategy import ArchitectureOptimizerMixin, run_search
        if stock_log_probs:                 # NNI's own log_probs: one Lightning self.log per choice value
            from nni.nas.oneshot.pytorch.base_lightning import BaseOneShotLightningModule
            ours = ArchitectureOptimizerMixin.log_probs
            ArchitectureOptimizerMixin.log_probs = BaseOneShotLightningModule.log_probs
            try:
                return self.nni(profile)
            finally:
                ArchitectureOptimizerMixin.log_probs = ours
        space = self.space()
        train, arch, val = self.loaders()
        timer = EpochTimer()
        with tempfile.TemporaryDirectory(prefix='rmnas-bench-') as tmp:
            prof = None
            if profile:
                import cProfile
                prof = cProfile.Profile()
                prof.enable()
            t0 = time.perf_counter()
            result = run_search(space, train, arch, val, task=self.data.task, metric_kind=self.kind,
                                select_metric=self.select, strategy_cfg=self.cfg.strategy_config, epochs=1,
                                patience=self.cfg.search.patience, seed=self.cfg.seed, out_dir=Path(tmp),
                                device='cpu', printer=lambda s: None, callbacks=[timer])
            t_call = time.perf_counter() - t0
            if prof is not None:
                prof.disable()
        return {'epoch': timer.t1 - timer.t0, 'cpu': timer.c1 - timer.c0, 'call': t_call,
                'arch': arch_tensor(result.supernet),
                'val': result.val_metrics, 'profile': prof}

    # -- hand-written ----------------------------------------------------------------------------------------
    def hand(self):
        from rmnas_nni.losses import rmnas_loss
        from rmnas_nni.metrics import compute_metrics
        from rmnas_nni.search_strategy import (RMNASTrainingModule, batch_predictions, build_optimizer, build_strategy,
                                      seed_epoch)
        cfg, seed, task = self.cfg, self.cfg.seed, self.data.task
        space = self.space()
        train, arch_loader, val = self.loaders()
        t_setup = time.perf_counter()
        seed_epoch(seed, 0)                                    # as run_search does before mutating
        strategy = build_strategy(cfg.strategy_config, seed)
        supernet = strategy.mutate_model(space)
        # the architecture parameters exactly as NNI's DARTS module collects them
        training = RMNASTrainingModule(task, self.kind, self.select, cfg.strategy_config.weights_optimizer)
        training.set_model(supernet)
        arch_params = strategy.configure_oneshot_module(training).arch_parameters()
        arch_ids = {id(p) for p in arch_params}
        weights = [p for p in supernet.parameters() if id(p) not in arch_ids]
        w_opt = build_optimizer(weights, cfg.strategy_config.weights_optimizer)
        a_opt = build_optimizer(arch_params, cfg.strategy_config.architecture_optimizer)
        clip = cfg.strategy_config.options.gradient_clip_val
        warmup = cfg.strategy_config.options.warmup_epochs
        t_setup = time.perf_counter() - t_setup

        t0, c0 = time.perf_counter(), time.process_time()
        epoch = 0
        seed_epoch(seed, epoch)
        for loader in (train, arch_loader):
            loader.sampler.set_epoch(epoch)
        n_steps = max(len(train), len(arch_loader))
        t_it = itertools.chain.from_iterable(itertools.repeat(train))        # re-iterated when exhausted
        a_it = itertools.chain.from_iterable(itertools.repeat(arch_loader))
        supernet.train()
        for _ in range(n_steps):
            tb, ab = next(t_it), next(a_it)
            if epoch >= warmup:
                a_opt.zero_grad(set_to_none=True)
                for p in weights:                  # the architecture step computes no weight gradients
                    p.requires_grad_(False)
                loss = rmnas_loss(supernet(ab['inputs'], ab['masks']), ab, task)
                loss.backward()
                for p in weights:
                    p.requires_grad_(True)
                a_opt.step()
            w_opt.zero_grad(set_to_none=True)
            loss = rmnas_loss(supernet(tb['inputs'], tb['masks']), tb, task)
            if not torch.isfinite(loss):
                raise RuntimeError('non-finite loss')
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(weights, clip)
            w_opt.step()
        supernet.eval()
        preds = []
        with torch.no_grad():
            for b in val:
                preds.append(batch_predictions(supernet(b['inputs'], b['masks']), b, task))
        metrics = compute_metrics(np.concatenate([p for p, _ in preds]), np.concatenate([y for _, y in preds]),
                                  self.kind)
        t_epoch, c_epoch = time.perf_counter() - t0, time.process_time() - c0
        return {'epoch': t_epoch, 'cpu': c_epoch, 'setup': t_setup, 'arch': arch_tensor(supernet), 'val': metrics,
                'steps': n_steps}


class Breakdown:
    """Wall time inside named pieces of an epoch (wrappers with ``perf_counter``; much lighter than cProfile).

    Compute: the supernet's ``forward`` (training and validation), ``Tensor.backward``,
    optimizer steps (global step hooks) and gradient clipping. Framework pieces: Lightning's
    ``self.log``, the choice-weight logging, NNI's ``resample``, checkpoint saves, and
    the rest of the epoch ("other": loops, hooks, data fetching, collation).
    """

    def __init__(self):
        self.t = {}
        self.patches = []
        self.depth = 0

    def _add(self, key, dt):
        self.t[key] = self.t.get(key, 0.0) + dt

    def wrap(self, owner, name, key):
        orig = getattr(owner, name)
        bd = self

        def wrapper(*args, **kwargs):
            if bd.depth:                      # count the outermost piece only
                return orig(*args, **kwargs)
            bd.depth += 1
            t0 = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                bd._add(key, time.perf_counter() - t0)
                bd.depth -= 1
        setattr(owner, name, wrapper)
        self.patches.append((owner, name, orig))

    def __enter__(self):
        from nni.nas.oneshot.pytorch.base_lightning import BaseOneShotLightningModule
        from pytorch_lightning import LightningModule as PLModule
        from pytorch_lightning.callbacks import ModelCheckpoint
        from rmnas_nni.search_strategy import ArchitectureOptimizerMixin
        from rmnas_nni.space import RMNASSpace
        self.wrap(RMNASSpace, 'forward', 'compute: supernet forward')
        self.wrap(torch.Tensor, 'backward', 'compute: backward')
        self.wrap(torch.nn.utils, 'clip_grad_norm_', 'compute: gradient clipping')
        self.wrap(PLModule, 'log', 'framework: Lightning self.log')
        self.wrap(ArchitectureOptimizerMixin, 'log_probs', 'framework: choice-weight logging')
        self.wrap(BaseOneShotLightningModule, 'resample', 'framework: NNI resample')
        self.wrap(ModelCheckpoint, '_save_checkpoint', 'framework: checkpoint saves')
        from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
        self._opt_t0 = None

        def pre(opt, args, kwargs):
            self._opt_t0 = time.perf_counter()

        def post(opt, args, kwargs):
            if self._opt_t0 is not None:
                self._add('compute: optimizer steps', time.perf_counter() - self._opt_t0)
                self._opt_t0 = None
        self.hooks = [register_optimizer_step_pre_hook(pre), register_optimizer_step_post_hook(post)]
        return self

    def __exit__(self, *exc):
        for owner, name, orig in reversed(self.patches):
            setattr(owner, name, orig)
        for h in self.hooks:
            h.remove()
        return False


def breakdown(bench, res, reps: int = 3) -> None:
    """Median over ``reps`` alternating pairs of where each epoch's time goes."""
    rows = {'nni': [], 'hand': []}
    for r in range(reps):
        for kind in (('nni', 'hand') if r % 2 == 0 else ('hand', 'nni')):
            gc.collect()
            with Breakdown() as bd:
                out = getattr(bench, kind)()
            pieces = dict(bd.t)
            pieces['other'] = out['epoch'] - sum(pieces.values())
            pieces['epoch'] = out['epoch']
            rows[kind].append(pieces)
    keys = sorted({k for side in rows.values() for p in side for k in p}, key=lambda k: (k == 'epoch', k == 'other', k))
    print('where an epoch goes (median seconds of %d repetitions; the wrappers themselves add a little):' % reps)
    print(f"  {'piece':36s} {'NNI':>8s} {'hand':>8s} {'NNI - hand':>11s}")
    table = []
    for k in keys:
        a = C.median([p.get(k, 0.0) for p in rows['nni']])
        b = C.median([p.get(k, 0.0) for p in rows['hand']])
        table.append({'piece': k, 'nni_s': a, 'hand_s': b, 'difference_s': a - b})
        print(f'  {k:36s} {a:8.3f} {b:8.3f} {a - b:+11.3f}')
    res.row(breakdown=table)


def print_profile(prof, top: int = 25) -> list:
    """Functions of Lightning / NNI / rmnas (not torch kernels) by cumulative time, excluding the model itself."""
    import pstats
    st = pstats.Stats(prof)
    rows = []
    for (file, line, func), (cc, nc, tt, ct, callers) in st.stats.items():
        rows.append((ct, tt, nc, f'{Path(file).name}:{line}({func})', file))
    total = max(r[0] for r in rows)
    keep = [r for r in rows if any(k in r[4] for k in ('pytorch_lightning', 'lightning_fabric', 'nni', 'rmnas_nni',
                                                        'torch/optim', 'torch/utils/data', 'torch/serialization',
                                                        'clip_grad'))]
    keep.sort(key=lambda r: -r[0])
    print(f'profile of one NNI search epoch (cumulative seconds, of {total:.2f}s):')
    out = []
    for ct, tt, nc, name, _ in keep[:top]:
        print(f'  {ct:8.3f}s cum  {tt:8.3f}s own  {nc:7d} calls  {name}')
        out.append({'function': name, 'cumulative_s': round(ct, 4), 'own_s': round(tt, 4), 'calls': nc})
    return out


def main(argv=None):
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument('--config', default='examples/quickstart.yml',
                   help='run config (a relative path that is not found here is taken from the project root)')
    p.add_argument('--profile', action='store_true', help='profile one more NNI epoch with cProfile')
    p.add_argument('--breakdown', action='store_true',
                   help='time the pieces of each side (forward, backward, optimizer, logging, checkpoints, other)')
    p.add_argument('--stock-log-probs', action='store_true',
                   help="also time the NNI path with NNI's own log_probs (one self.log per choice value)")
    args = p.parse_args(argv)
    C.setup(args.threads)
    from rmnas_nni.pipeline import load_config
    config = Path(args.config)
    if not config.is_absolute() and not config.exists():
        config = C.ROOT / config
    cfg = load_config(config, {'threads': args.threads})
    res = C.Results('nni_overhead', args)
    reps = args.reps or (1 if args.smoke else 7)
    bench = Bench(cfg, args.smoke)
    print(f'NNI overhead: {args.config}, {bench.data.summary()}, space {cfg.search_space}, '
          f'batch {cfg.search.batch_size}, threads {args.threads}, {reps} alternating repetitions', flush=True)
    variants = {'nni': bench.nni, 'hand': bench.hand}
    if args.stock_log_probs:
        variants['nni_stock_log'] = lambda: bench.nni(stock_log_probs=True)
    for fn in variants.values():                              # warm-up (imports, allocator, first Trainer)
        fn()
    names = list(variants)
    times = {n: [] for n in names}
    cpus = {n: [] for n in names}
    calls = {n: [] for n in names}
    diffs = []
    t_start = time.perf_counter()
    for r in range(reps):
        order = names[r % len(names):] + names[:r % len(names)]
        if r % 2:
            order = order[::-1]
        out = {}
        for k in order:
            gc.collect()                      # neither side pays for the other's garbage
            out[k] = variants[k]()
        for k in names:
            times[k].append(out[k]['epoch'])
            cpus[k].append(out[k]['cpu'])
            calls[k].append(out[k].get('call', out[k]['epoch']))
        diff = float((out['nni']['arch'] - out['hand']['arch']).abs().max()) if out['nni']['arch'].numel() else 0.0
        diffs.append(diff)
        row = dict(rep=r, order='/'.join(order), nni_epoch_s=times['nni'][-1], nni_call_s=calls['nni'][-1],
                   hand_epoch_s=times['hand'][-1], ratio=times['nni'][-1] / times['hand'][-1],
                   nni_cpu_s=cpus['nni'][-1], hand_cpu_s=cpus['hand'][-1], ratio_cpu=cpus['nni'][-1] / cpus['hand'][-1],
                   steps=out['hand']['steps'], max_arch_diff=diff,
                   nni_val=out['nni']['val'].get(bench.select), hand_val=out['hand']['val'].get(bench.select))
        extra = ''
        if 'nni_stock_log' in out:
            row.update(nni_stock_log_epoch_s=times['nni_stock_log'][-1],
                       ratio_stock_log=times['nni_stock_log'][-1] / times['hand'][-1])
            extra = f", NNI with NNI's log_probs {times['nni_stock_log'][-1]:.3f}s"
        res.row(**row)
        el = time.perf_counter() - t_start
        print(f"  repetition {r + 1}/{reps}: NNI epoch {times['nni'][-1]:.3f}s (whole call {calls['nni'][-1]:.3f}s), "
              f"hand-written {times['hand'][-1]:.3f}s{extra}; ratio {row['ratio']:.3f} "
              f"(CPU time {row['ratio_cpu']:.3f}); "
              f'architecture parameters differ by at most {diff:.2e}; elapsed {el:.0f}s', flush=True)
    nni_e, nni_c, hand_e = times['nni'], calls['nni'], times['hand']
    ratio = C.paired_ratio(nni_e, hand_e)
    ratio_call = C.paired_ratio(nni_c, hand_e)
    ratio_cpu = C.paired_ratio(cpus['nni'], cpus['hand'])
    print(f'median: NNI epoch {C.median(nni_e):.3f}s, whole run_search call {C.median(nni_c):.3f}s, '
          f'hand-written epoch {C.median(hand_e):.3f}s ({res.rows[-1]["steps"]} bilevel steps + validation)')
    print(f'ratio NNI epoch / hand-written epoch: {ratio:.3f} (whole call incl. Trainer set-up and export: '
          f'{ratio_call:.3f}); in CPU time of the process: {ratio_cpu:.3f}')
    summary = dict(rep='median', nni_epoch_s=C.median(nni_e), nni_call_s=C.median(nni_c),
                   hand_epoch_s=C.median(hand_e), ratio=ratio, ratio_call=ratio_call, ratio_cpu=ratio_cpu,
                   nni_cpu_s=C.median(cpus['nni']), hand_cpu_s=C.median(cpus['hand']), max_arch_diff=max(diffs))
    if args.stock_log_probs:
        r_stock = C.paired_ratio(times['nni_stock_log'], hand_e)
        summary.update(nni_stock_log_epoch_s=C.median(times['nni_stock_log']), ratio_stock_log=r_stock)
        print(f"with NNI's own log_probs (one self.log per choice value): {C.median(times['nni_stock_log']):.3f}s, "
              f'ratio {r_stock:.3f}')
    res.row(**summary)
    res.goal('NNI search epoch / hand-written bilevel epoch', ratio, '<=', 1.10, '')
    res.goal('NNI search epoch / hand-written bilevel epoch, in process CPU time', ratio_cpu, '<=', 1.10, '')
    if args.breakdown:
        breakdown(bench, res, reps=1 if args.smoke else 3)
    if args.profile:
        prof = bench.nni(profile=True)['profile']
        res.row(profile=print_profile(prof))
    res.write(args.json, args.csv)


if __name__ == '__main__':
    main()
