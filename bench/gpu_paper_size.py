#!/usr/bin/env python
"""GPU run at paper size: seconds per search epoch and per retrain epoch, peak GPU memory, bf16 autocast off/on.

Prepared for a machine with one CUDA GPU; without one it says so and exits with
status 0 (``--dry-run`` runs the same code on the CPU at tiny sizes instead).

* **Data**: MOSI-sized synthetic inputs through the project's own loaders
  (``make_loader``, ``collate``): 1284 train, 229 valid samples (CMU-MOSI's split
  sizes), text 768-d x 50, audio 5-d x 375, vision 20-d x 500, every token real
  (the longest case), batch 32 (paper). So a **search epoch** is
  ceil(1284 / 32) = 41 DARTS steps (each an architecture step on a validation batch
  and a weight step on a train batch; the 8 validation batches are cycled, as
  Lightning's ``max_size_cycle`` does) plus one validation pass (8 batches), and a
  **retrain epoch** is 41 weight steps of the fixed network plus the same
  validation pass.
* **Models**: the paper's space (``search_spaces/rmnas.yml``: d = 448, 6 blocks,
  8 heads, 4 token mixers, 2 Cells x 2 Steps, c = 240) as NNI's DARTS supernet
  (``strategies/darts.yml``: AdamW 5e-4 for weights, SGD lr 5 for the architecture,
  gradient clipping 5), and the fixed all-attention network
  (``pipeline.attention_architecture``) with AdamW.
* **Precision**: fp32, then ``torch.autocast(dtype=torch.bfloat16)`` around the
  forward and loss (the backward runs outside autocast, as PyTorch recommends).
  TF32 is left at PyTorch's default (off for matmuls) unless ``--tf32``.
* **Measured**: one epoch of each (after ``--warmup`` untimed steps), seconds per
  epoch and per step, ``torch.cuda.max_memory_allocated`` / ``max_memory_reserved``
  (peak since a reset before the epoch). Then, unless ``--skip-project``, the
  project's own paths for one epoch each: ``search.run_search`` (NNI + Lightning,
  ``precision=None`` and ``'bf16-mixed'``) and ``trainer.retrain`` (fp32), to show
  they run on CUDA and what they cost beside the plain loops.
  A measurement that runs out of memory is recorded as such and the rest goes on.

    python bench/gpu_paper_size.py [--json bench/results/gpu_paper_size.json]
    python bench/gpu_paper_size.py --dry-run       # CPU, tiny sizes: checks the script here
"""
from __future__ import annotations

import itertools
import math
import sys
import tempfile
import time
from pathlib import Path

import _common as C
import numpy as np
import torch

MOSI_SPLITS = {'train': 1284, 'valid': 229, 'test': 686}


def make_data(dims, lengths, sizes, seed: int = 0):
    """A :class:`MultimodalData` of random features with every token real."""
    from rmnas_nni.data.dataset import MultimodalData, Split
    rng = np.random.default_rng(seed)
    splits = {}
    for name, n in sizes.items():
        feats = {m: rng.standard_normal((n, lengths[m], d), dtype=np.float32) for m, d in dims.items()}
        lens = {m: np.full(n, lengths[m], dtype=np.int64) for m in dims}
        labels = rng.uniform(-3, 3, size=n).astype(np.float32)
        splits[name] = Split(feats, lens, labels, np.array([f'{name}{i}' for i in range(n)]))
    return MultimodalData(splits, level='sentence', task='regression', label_scale=3.0, name='mosi-sized synthetic')


def to_device(batch, device):
    from rmnas_nni.trainer import to_device as move     # imported late, as every rmnas_nni import here
    return move(batch, device, non_blocking=True)


class Runner:
    def __init__(self, args):
        self.args = args
        self.device = torch.device('cpu' if args.dry_run else 'cuda')
        if args.dry_run:
            self.dims, self.lengths = {'text': 12, 'audio': 5, 'vision': 7}, {'text': 10, 'audio': 20, 'vision': 15}
            self.kw = C.paper_space_kwargs(d_model=32, n_blocks=2, n_heads=4, fusion_width=32, attention_chunks=4)
            self.sizes = {'train': 3 * args.batch_size, 'valid': args.batch_size + 1, 'test': args.batch_size}
        else:
            self.dims, self.lengths, self.kw = C.MOSI_DIMS, C.MOSI_LENGTHS, C.paper_space_kwargs()
            self.sizes = dict(MOSI_SPLITS)
        self.data = make_data(self.dims, self.lengths, self.sizes)
        from rmnas_nni.config import load_strategy_config
        self.scfg = load_strategy_config(str(C.ROOT / 'strategies' / 'darts.yml'))

    def loaders(self):
        from rmnas_nni.data import make_loader
        sp, bs = self.data.splits, self.args.batch_size
        return (make_loader(sp['train'], 'sentence', bs, shuffle=True, seed=0),
                make_loader(sp['valid'], 'sentence', bs, shuffle=True, seed=1),
                make_loader(sp['valid'], 'sentence', bs, shuffle=False))

    def sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize()

    def reset_peak(self):
        if self.device.type == 'cuda':
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()

    def peak(self):
        if self.device.type == 'cuda':
            return {'max_allocated_gib': torch.cuda.max_memory_allocated() / 2 ** 30,
                    'max_reserved_gib': torch.cuda.max_memory_reserved() / 2 ** 30}
        from _memory import peak_rss_mb
        return {'cpu_peak_rss_gib': peak_rss_mb() / 1024}

    def autocast(self, bf16: bool):
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=bf16)

    def build(self, kind: str):
        sys.path.insert(0, str(Path(__file__).parent))
        from search_vs_retrain import build
        model, w_opt, a_opt, weights = build(kind, False, shape=(self.dims, self.lengths, self.kw))
        model.to(self.device)
        # optimizers were built on CPU parameters; .to() moves parameters in place, so they stay valid
        return model, w_opt, a_opt, weights

    def epoch(self, kind: str, bf16: bool) -> dict:
        """One epoch of ``kind`` ('search' or 'retrain'), after ``--warmup`` untimed steps."""
        from rmnas_nni.losses import rmnas_loss
        model, w_opt, a_opt, weights = self.build('supernet' if kind == 'search' else 'fixed')
        train, arch_loader, val = self.loaders()
        clip = self.scfg.options.gradient_clip_val or 5.0

        def loss_of(batch):
            with self.autocast(bf16):
                return rmnas_loss(model(batch['inputs'], batch['masks']), batch, 'regression')

        def step(tb, ab):
            if kind == 'search':
                a_opt.zero_grad(set_to_none=True)
                for p in weights:               # as the project's training_step: no weight gradients here
                    p.requires_grad_(False)
                loss_of(ab).backward()
                for p in weights:
                    p.requires_grad_(True)
                a_opt.step()
            w_opt.zero_grad(set_to_none=True)
            loss = loss_of(tb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(weights, clip)
            w_opt.step()
            return loss

        n_steps = max(len(train), len(arch_loader)) if kind == 'search' else len(train)
        model.train()
        warm_t = iter(train)
        warm_a = itertools.cycle(list(arch_loader)[:1])
        for _ in range(min(self.args.warmup, len(train))):
            step(to_device(next(warm_t), self.device), to_device(next(warm_a), self.device))
        self.sync()
        self.reset_peak()
        t_it = itertools.chain.from_iterable(itertools.repeat(train))
        a_it = itertools.chain.from_iterable(itertools.repeat(arch_loader))
        t0 = time.perf_counter()
        for _ in range(n_steps):
            loss = step(to_device(next(t_it), self.device), to_device(next(a_it), self.device))
        self.sync()
        t_train = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            for b in val:
                b = to_device(b, self.device)
                with self.autocast(bf16):
                    model(b['inputs'], b['masks'])
        self.sync()
        t_epoch = time.perf_counter() - t0
        out = {'what': f'{kind} epoch (plain loop)', 'bf16': bf16, 'steps': n_steps, 'epoch_s': t_epoch,
               'train_steps_s': t_train, 'step_s': t_train / n_steps, 'validation_s': t_epoch - t_train,
               'final_loss': float(loss.detach()), **self.peak()}
        del model, w_opt, a_opt, weights
        return out

    def project_search(self, precision) -> dict:
        from nni_overhead import EpochTimer
        from rmnas_nni.pipeline import quiet_libraries
        from rmnas_nni.search_strategy import run_search, seed_epoch
        from rmnas_nni.space import RMNASSpace
        quiet_libraries()
        seed_epoch(0, -1)
        space = RMNASSpace(self.dims, self.lengths, level='sentence', out_dim=1, **self.kw)
        train, arch_loader, val = self.loaders()
        timer = EpochTimer()
        self.reset_peak()
        with tempfile.TemporaryDirectory(prefix='rmnas-gpu-') as tmp:
            t0 = time.perf_counter()
            run_search(space, train, arch_loader, val, task='regression', metric_kind='mosi', select_metric='mae',
                       strategy_cfg=self.scfg, epochs=1, patience=8, seed=0, out_dir=Path(tmp),
                       device=self.device.type, precision=precision, printer=lambda s: None, callbacks=[timer])
            self.sync()
            call = time.perf_counter() - t0
        return {'what': 'search epoch (run_search: NNI + Lightning)', 'precision': precision or '32-true',
                'bf16': precision == 'bf16-mixed', 'epoch_s': timer.t1 - timer.t0, 'call_s': call, **self.peak()}

    def project_retrain(self) -> dict:
        from nni.nas.space import model_context
        from rmnas_nni.pipeline import attention_architecture
        from rmnas_nni.space import RMNASSpace
        from rmnas_nni.trainer import retrain
        space = RMNASSpace(self.dims, self.lengths, level='sentence', out_dim=1, **self.kw)
        with model_context(attention_architecture(space)):
            model = RMNASSpace(self.dims, self.lengths, level='sentence', out_dim=1, **self.kw)
        del space
        train, _, val = self.loaders()
        self.reset_peak()
        with tempfile.TemporaryDirectory(prefix='rmnas-gpu-') as tmp:
            t0 = time.perf_counter()
            retrain(model, train, val, task='regression', kind='mosi', select_metric='mae', epochs=1, patience=8,
                    lr=5e-4, weight_decay=0.01, grad_clip=1.0, seed=0, out_dir=Path(tmp),
                    device=self.device.type, printer=lambda s: None)
            self.sync()
            call = time.perf_counter() - t0
        return {'what': 'retrain epoch (trainer.retrain, with checkpoints)', 'bf16': False, 'call_s': call,
                **self.peak()}


def guarded(res: C.Results, label: str, fn):
    t0 = time.perf_counter()
    try:
        out = fn()
    except torch.cuda.OutOfMemoryError as exc:                 # record and go on
        out = {'what': label, 'error': f'out of memory: {str(exc).splitlines()[0]}'}
        torch.cuda.empty_cache()
    except Exception as exc:                                    # noqa: BLE001 - one failure must not end the run
        out = {'what': label, 'error': f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}'}
    out['wall_s'] = round(time.perf_counter() - t0, 2)
    res.row(**out)
    shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}
    print(f'  {label}: {shown}', flush=True)
    return out


def main(argv=None):
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument('--dry-run', action='store_true', help='run on the CPU at tiny sizes (checks the script)')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--warmup', type=int, default=3, help='untimed steps before each timed epoch')
    p.add_argument('--tf32', action='store_true', help='allow TF32 matmuls (off by default in PyTorch)')
    p.add_argument('--skip-project', action='store_true', help='skip run_search / trainer.retrain epochs')
    p.add_argument('--only', choices=['search', 'retrain'], default=None)
    args = p.parse_args(argv)
    if args.smoke:
        args.dry_run = True
    if not args.dry_run and not torch.cuda.is_available():
        print('gpu_paper_size: no CUDA device here; nothing measured (this benchmark is for a GPU machine; '
              '--dry-run checks the script on the CPU at tiny sizes)')
        return 0
    if args.dry_run:
        args.batch_size = min(args.batch_size, 4)
        args.warmup = min(args.warmup, 1)
    C.setup(args.threads)
    if not args.dry_run:
        torch.backends.cuda.matmul.allow_tf32 = bool(args.tf32)
        torch.backends.cudnn.allow_tf32 = bool(args.tf32)
    res = C.Results('gpu_paper_size', args)
    runner = Runner(args)
    steps_search = math.ceil(runner.sizes['train'] / args.batch_size)
    print(f"gpu_paper_size: device {runner.device}{' (dry run, tiny sizes)' if args.dry_run else ''}"
          f"{': ' + torch.cuda.get_device_name(0) if runner.device.type == 'cuda' else ''}; "
          f"train {runner.sizes['train']}, valid {runner.sizes['valid']}, batch {args.batch_size} -> "
          f"{steps_search} steps per epoch; TF32 {'on' if args.tf32 else 'off'}", flush=True)
    kinds = [args.only] if args.only else ['search', 'retrain']
    results = {}
    for kind in kinds:
        for bf16 in (False, True):
            results[(kind, bf16)] = guarded(res, f'{kind} epoch, bf16 {"on" if bf16 else "off"}',
                                            lambda k=kind, b=bf16: runner.epoch(k, b))
    if not args.skip_project:
        if 'search' in kinds:
            for precision in (None, 'bf16-mixed'):
                guarded(res, f'run_search epoch, precision {precision or "32-true"}',
                        lambda pr=precision: runner.project_search(pr))
        if 'retrain' in kinds:
            guarded(res, 'trainer.retrain epoch, fp32', runner.project_retrain)
    for kind in kinds:
        a, b = results[(kind, False)], results[(kind, True)]
        if 'epoch_s' in a and 'epoch_s' in b:
            print(f"{kind}: {a['epoch_s']:.2f} s/epoch fp32, {b['epoch_s']:.2f} s/epoch bf16 "
                  f"({a['epoch_s'] / b['epoch_s']:.2f}x)")
    res.write(args.json, args.csv)
    return 0


if __name__ == '__main__':
    sys.exit(main())
