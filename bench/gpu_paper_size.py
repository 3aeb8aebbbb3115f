#!/usr/bin/env python
"""GPU check at paper size, in one bounded run: step times, model FLOP utilisation, cells per hour side by side.

Prepared for a machine with one CUDA GPU; without one it says so and exits with
status 0 (``--dry-run`` runs every part on the CPU at tiny sizes instead). One
call writes ONE JSON with everything: the machine and library versions, each
measurement, or why it was skipped (``--budget-s``) or failed (out of memory).

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
  TF32 is left at PyTorch's default (off for matmuls) unless ``--tf32``; with it,
  the fp32 runs are reported as precision ``tf32``.

Parts, in this order (each skipped, and recorded as skipped, when the time left of
``--budget-s`` is below its estimate; each out-of-memory recorded and the rest goes on):

1. **Peak**: the measured dense matmul rate of the device, ``torch.mm`` of two
   square ``--mm-size`` matrices (8192 on a GPU) in each precision used, best of 3
   timed runs; and the published dense peak from ``PEAK_TFLOPS`` below, looked up by
   ``torch.cuda.get_device_name()`` (an unknown GPU, or the CPU: measured only).
2. **Steps**: one epoch of each of search and retrain, bf16 off and on (after
   ``--warmup`` untimed steps): seconds per epoch and per step, peak memory
   (``torch.cuda.max_memory_allocated`` / ``max_memory_reserved``). **FLOPs**: one
   more untimed step under ``torch.utils.flop_counter.FlopCounterMode`` (forward
   and backward of the architecture step and the weight step; matrix products,
   batched matmuls of attention and convolutions). Not counted: element-wise work
   (softmax, LayerNorm, GELU, dropout, the DARTS mixing sums, masking), gradient
   clipping and the optimizers, and the validation pass; so the FLOP count and the
   MFU are lower bounds. **MFU** = FLOPs per step / seconds per step / peak of the
   precision used, against the measured and the published peak. **Paper cell**:
   100 search + 100 retrain epochs (of 41 steps and a validation pass each)
   estimated from the epoch times; targets at batch 32: search step <= 0.05 s,
   retrain step <= 0.02 s (goals, on a GPU only).
3. **Project paths** (unless ``--skip-project``): one epoch each of
   ``search.run_search`` (NNI + Lightning, ``precision=None`` and ``'bf16-mixed'``)
   and ``trainer.retrain`` (fp32), to show they run on CUDA and what they cost
   beside the plain loops.
4. **Jobs** (``--jobs-list``, default 1 4 8): N worker processes side by side, as
   ``rmnas sweep --jobs N`` runs cells; each builds the data and both models,
   then, started together, runs ``--jobs-steps`` (20) search steps and as many
   retrain steps (bf16 if ``--jobs-bf16``). Cells per hour = sum over workers of
   3600 / (4100 x (search step + retrain step)): a paper cell's 100 x 41 steps of
   each, without validation, start-up and checkpoints. While the timed steps run,
   the parent samples GPU utilisation (``torch.cuda.utilization()``, which needs
   pynvml, else ``nvidia-smi``), device memory in use (``torch.cuda.mem_get_info``:
   every process's), the busy share of the machine's CPUs (``/proc/stat``) and each
   worker's CPU use (``/proc/<pid>/stat``), and names what saturates: GPU memory
   (peak >= 90 %, or an out-of-memory), GPU utilisation (mean >= 90 %), the CPUs
   (mean >= 90 %), or, with the GPU below 90 % and each worker using >= 90 % of a
   core, the workers' host threads (kernel launches bound the steps).
   Last, because it is the only part that stops itself at the budget's end (its
   workers are killed then and the setting recorded as stopped).

    python bench/gpu_paper_size.py      # GPU: one call under 8 minutes -> bench/results/gpu_paper_size.json
    python bench/gpu_paper_size.py --dry-run       # CPU, tiny sizes: checks every part here
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common as C
import numpy as np
import torch

MOSI_SPLITS = {'train': 1284, 'valid': 229, 'test': 686}
PAPER_EPOCHS = 100              # search epochs and retrain epochs of one paper-protocol cell
TARGET_STEP_S = {'search': 0.05, 'retrain': 0.02}

#: Dense (no 2:4 sparsity) peak TFLOP/s by precision, from NVIDIA's published data sheets;
#: the data sheets print the tensor-core figures with sparsity (marked *), the dense figure
#: is half of it. Matched in this order against ``torch.cuda.get_device_name()``.
#:  - H100 / H200: "NVIDIA H100 Tensor Core GPU" data sheet and the "NVIDIA H200 Tensor Core
#:    GPU" data sheet (nvidia.com/en-us/data-center/h100/, /h200/): SXM FP32 67, TF32 989*,
#:    BF16 1,979*; NVL FP32 60, TF32 835*, BF16 1,671*; H100 PCIe FP32 51, TF32 756*,
#:    BF16 1,513* (the Hopper architecture white paper gives SXM5 dense TF32 494.7, BF16 989.4).
#:  - A100 (SXM and PCIe, 40 and 80 GB): "NVIDIA A100 Tensor Core GPU" data sheet:
#:    FP32 19.5, TF32 156 (312*), BF16 312 (624*).
#:  - L40S: "NVIDIA L40S" data sheet: FP32 91.6, TF32 183 (366*), BF16 362.05 (733*).
#:  - L4: "NVIDIA L4 Tensor Core GPU" data sheet: FP32 30.3, TF32 60 (120*), BF16 121 (242*).
#:  - A10: "NVIDIA A10 Tensor Core GPU" data sheet: FP32 31.2, TF32 62.5 (125*), BF16 125 (250*).
#: Only the H100 / H200 SXM figures were checked against NVIDIA's published numbers when this
#: table was written; treat the others as approximate until checked against their data sheet.
#: The boards' clocks (power limits, MIG) can make the reachable figure lower: the measured
#: matmul peak is reported beside it.
PEAK_TFLOPS = [
    (r'\bH200 NVL\b', 'H200 NVL', {'fp32': 60.0, 'tf32': 417.5, 'bf16': 835.5}),
    (r'\bH200\b', 'H200 SXM', {'fp32': 67.0, 'tf32': 494.5, 'bf16': 989.5}),
    (r'\bH100 NVL\b', 'H100 NVL', {'fp32': 60.0, 'tf32': 417.5, 'bf16': 835.5}),
    (r'\bH100 PCIe\b', 'H100 PCIe', {'fp32': 51.0, 'tf32': 378.0, 'bf16': 756.5}),
    (r'\bH100\b', 'H100 SXM', {'fp32': 67.0, 'tf32': 494.5, 'bf16': 989.5}),
    (r'\bA100\b', 'A100', {'fp32': 19.5, 'tf32': 156.0, 'bf16': 312.0}),
    (r'\bL40S\b', 'L40S', {'fp32': 91.6, 'tf32': 183.0, 'bf16': 362.05}),
    (r'\bL4\b', 'L4', {'fp32': 30.3, 'tf32': 60.0, 'bf16': 121.0}),
    (r'\bA10\b', 'A10', {'fp32': 31.2, 'tf32': 62.5, 'bf16': 125.0}),
]


def table_peak(device_name: str):
    """``(label, {precision: FLOP/s})`` of the first ``PEAK_TFLOPS`` entry matching the name, or None."""
    for pattern, label, peaks in PEAK_TFLOPS:
        if re.search(pattern, device_name or ''):
            return label, {k: v * 1e12 for k, v in peaks.items()}
    return None


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


def precision_of(bf16: bool, tf32: bool) -> str:
    return 'bf16' if bf16 else ('tf32' if tf32 else 'fp32')


def matmul_peak(device, dtype, n: int, min_s: float, sync) -> dict:
    """Measured dense matmul FLOP/s: ``torch.mm`` of two n x n matrices, best of 3 runs of >= ``min_s`` each."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    torch.mm(a, b)
    sync()
    rates = []
    for _ in range(3):
        calls, t0 = 0, time.perf_counter()
        while True:
            torch.mm(a, b)
            calls += 1
            if calls % 4 == 0 or device.type == 'cpu':
                sync()
                el = time.perf_counter() - t0
                if el >= min_s:
                    break
        rates.append(2 * n ** 3 * calls / el)
    del a, b
    return {'flops_per_s': max(rates), 'runs_flops_per_s': rates, 'size': n}


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
        self.data = make_data(self.dims, self.lengths, {k: self.sizes[k] for k in ('train', 'valid')})
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

    def trainer(self, kind: str, bf16: bool):
        """``(model, step, train loader, architecture loader, validation loader)`` of ``kind``."""
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

        model.train()
        return model, step, train, arch_loader, val

    def batches(self, train, arch_loader):
        """Endless (train batch, architecture batch) pairs on the device."""
        t_it = itertools.chain.from_iterable(itertools.repeat(train))
        a_it = itertools.chain.from_iterable(itertools.repeat(arch_loader))
        while True:
            yield to_device(next(t_it), self.device), to_device(next(a_it), self.device)

    def epoch(self, kind: str, bf16: bool) -> dict:
        """One epoch of ``kind`` ('search' or 'retrain') after ``--warmup`` untimed steps, and its FLOPs per step."""
        from torch.utils.flop_counter import FlopCounterMode
        model, step, train, arch_loader, val = self.trainer(kind, bf16)
        n_steps = max(len(train), len(arch_loader)) if kind == 'search' else len(train)
        pairs = self.batches(train, arch_loader)
        for _ in range(self.args.warmup):
            step(*next(pairs))
        with FlopCounterMode(display=False) as counter:         # one more untimed step, its FLOPs counted
            step(*next(pairs))
        flops = counter.get_total_flops()
        by_op = {str(k): v for k, v in counter.get_flop_counts().get('Global', {}).items()}
        self.sync()
        self.reset_peak()
        pairs = self.batches(train, arch_loader)               # the timed epoch starts at the loaders' start
        t0 = time.perf_counter()
        for _ in range(n_steps):
            loss = step(*next(pairs))
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
        out = {'what': f'{kind} epoch (plain loop)', 'part': 'steps', 'bf16': bf16,
               'precision': precision_of(bf16, self.args.tf32 and self.device.type == 'cuda'),
               'steps': n_steps, 'epoch_s': t_epoch, 'train_steps_s': t_train, 'step_s': t_train / n_steps,
               'validation_s': t_epoch - t_train, 'final_loss': float(loss.detach()),
               'flops_per_step': flops, 'flops_by_op': by_op, **self.peak()}
        del model, step
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




def worker(args) -> int:
    """One side-by-side worker of the jobs part: build, warm up, then run the timed steps when told to.

    Protocol on stdin / stdout: ``READY <kind>`` -> waits for ``GO``; at the end ``RESULT <json>``.
    """
    C.setup(args.threads)
    if not args.dry_run:
        torch.backends.cuda.matmul.allow_tf32 = bool(args.tf32)
        torch.backends.cudnn.allow_tf32 = bool(args.tf32)
    out = {'pid': os.getpid()}
    try:
        runner = Runner(args)
        for kind in ('search', 'retrain'):
            model, step, train, arch_loader, _ = runner.trainer(kind, args.jobs_bf16)
            pairs = runner.batches(train, arch_loader)
            for _ in range(max(1, args.warmup)):
                step(*next(pairs))
            runner.sync()
            print(f'READY {kind}', flush=True)
            if sys.stdin.readline().strip() != 'GO':
                out['error'] = 'stopped by the parent'
                break
            t0 = time.perf_counter()
            for _ in range(args.jobs_steps):
                step(*next(pairs))
            runner.sync()
            out[f'{kind}_step_s'] = (time.perf_counter() - t0) / args.jobs_steps
            del model, step, pairs
            if runner.device.type == 'cuda':
                torch.cuda.empty_cache()
        out.update(runner.peak())
    except torch.cuda.OutOfMemoryError as exc:
        out['error'] = f'out of memory: {str(exc).splitlines()[0]}'
    except Exception as exc:                                    # noqa: BLE001 - reported to the parent
        out['error'] = f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}'
    print('RESULT ' + json.dumps(out), flush=True)
    return 0


def _cpu_times():
    try:
        with open('/proc/stat') as f:
            vals = [int(x) for x in f.readline().split()[1:]]
        return sum(vals), vals[3] + (vals[4] if len(vals) > 4 else 0)   # total, idle + iowait
    except (OSError, ValueError, IndexError):
        return None


def gpu_utilisation(source: dict) -> float:
    """GPU utilisation in %: ``torch.cuda.utilization()`` (needs pynvml), else ``nvidia-smi``."""
    if source.get('via') != 'nvidia-smi':
        try:
            value = float(torch.cuda.utilization())
            source['via'] = 'torch.cuda.utilization'
            return value
        except Exception:                                       # noqa: BLE001 - try nvidia-smi instead
            source['via'] = 'nvidia-smi'
    index = (os.environ.get('CUDA_VISIBLE_DEVICES') or '0').split(',')[0]
    out = subprocess.run(['nvidia-smi', '--query-gpu=utilization.gpu', '--format=csv,noheader,nounits',
                          '-i', index], capture_output=True, text=True, timeout=5, check=True)
    return float(out.stdout.split()[0])


def _proc_cpu_s(pid: int):
    """CPU seconds (user + system) of one process so far, from ``/proc/<pid>/stat``."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, ValueError, IndexError):
        return None


class Sampler(threading.Thread):
    """Samples GPU utilisation, device memory in use, the CPUs' busy share and each worker's CPU use
    while ``active`` is set."""

    def __init__(self, device, interval: float, pids=()):
        super().__init__(daemon=True)
        self.device, self.interval, self.pids = device, interval, list(pids)
        self.active, self.stop = threading.Event(), threading.Event()
        self.util, self.mem, self.cpu, self.util_error = [], [], [], None
        self.worker_cores = []                      # per sample: mean over workers of CPU seconds per second
        self.source = {}

    def run(self):
        last, t_last = _cpu_times(), time.perf_counter()
        procs_last = [_proc_cpu_s(pid) for pid in self.pids]
        while not self.stop.wait(self.interval):
            now, t_now = _cpu_times(), time.perf_counter()
            procs_now = [_proc_cpu_s(pid) for pid in self.pids]
            if self.active.is_set():
                if now and last and now[0] > last[0]:
                    self.cpu.append(1 - (now[1] - last[1]) / (now[0] - last[0]))
                shares = [(b - a) / (t_now - t_last) for a, b in zip(procs_last, procs_now)
                          if a is not None and b is not None]
                if shares:
                    self.worker_cores.append(sum(shares) / len(shares))
            last, t_last, procs_last = now, t_now, procs_now
            if not self.active.is_set():
                continue
            if self.device.type == 'cuda':
                try:
                    free, total = torch.cuda.mem_get_info()
                    self.mem.append(1 - free / total)
                except Exception:                               # noqa: BLE001
                    pass
                if self.util_error is None:
                    try:
                        self.util.append(gpu_utilisation(self.source))
                    except Exception as exc:                    # noqa: BLE001 - neither pynvml nor nvidia-smi
                        self.util_error = f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}'

    def summary(self) -> dict:
        mean = lambda xs: sum(xs) / len(xs) if xs else None   # noqa: E731
        out = {'samples': len(self.cpu), 'cpu_busy_mean': mean(self.cpu), 'cpu_busy_max': max(self.cpu, default=None),
               'cpus': os.cpu_count(), 'worker_cpu_cores_mean': mean(self.worker_cores)}
        if self.device.type == 'cuda':
            out.update(gpu_util_mean_pct=mean(self.util), gpu_util_max_pct=max(self.util, default=None),
                       gpu_mem_in_use_max=max(self.mem, default=None),
                       gpu_util_source=self.source.get('via'), gpu_util_unavailable=self.util_error)
        else:
            out['gpu'] = 'no CUDA device (dry run): GPU utilisation and memory not sampled'
        return out


def jobs_setting(runner: Runner, n: int, deadline: float) -> dict:
    """``n`` workers side by side; cells per hour from their step times, and what saturates."""
    a = runner.args
    cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', '--threads', str(a.threads),
           '--batch-size', str(a.batch_size), '--warmup', str(a.warmup), '--jobs-steps', str(a.jobs_steps)]
    cmd += ['--dry-run'] * a.dry_run + ['--tf32'] * a.tf32 + ['--jobs-bf16'] * a.jobs_bf16
    logs = [tempfile.TemporaryFile(mode='w+') for _ in range(n)]
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                              env=dict(os.environ, PYTHONWARNINGS='ignore')) for log in logs]
    lines: queue.Queue = queue.Queue()

    def reader(i, p):
        for line in p.stdout:
            lines.put((i, line.strip()))
        lines.put((i, None))

    for i, p in enumerate(procs):
        threading.Thread(target=reader, args=(i, p), daemon=True).start()
    sampler = Sampler(runner.device, 0.25 if a.dry_run else 0.5, [p.pid for p in procs])
    sampler.start()
    results, done, phases, stopped, prev = {}, set(), {}, None, None
    t_start = time.perf_counter()
    try:
        for kind in ('search', 'retrain', None):            # None: wait for the results
            ready = set()
            while len(ready | done) < n:
                left = deadline - time.perf_counter()
                if left <= 0:
                    stopped = f'budget: stopped while waiting for {kind or "the results"}'
                    break
                try:
                    i, line = lines.get(timeout=min(left, 1.0))
                except queue.Empty:
                    continue
                if line is None or line.startswith('RESULT '):
                    if line:
                        results[i] = json.loads(line[len('RESULT '):])
                    done.add(i)
                elif kind and line == f'READY {kind}':
                    ready.add(i)
            sampler.active.clear()
            if prev:                                         # the previous phase's timed window has ended
                phases[prev]['window_s'] = time.perf_counter() - phases[prev]['t0']
            if stopped or kind is None:
                break
            sampler.active.set()
            phases[kind], prev = {'t0': time.perf_counter()}, kind
            for i in ready - done:
                try:
                    procs[i].stdin.write('GO\n')
                    procs[i].stdin.flush()
                except OSError:                                 # it has just ended; its result says why
                    pass
    finally:
        sampler.stop.set()
        for p in procs:
            if p.poll() is None and stopped:                # out of time: no waiting for a worker mid-step
                p.kill()
            elif p.poll() is None:
                try:
                    p.stdin.write('STOP\n')
                    p.stdin.flush()
                except OSError:
                    pass
        end = time.perf_counter() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, end - time.perf_counter()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    steps_epoch = math.ceil(runner.sizes['train'] / a.batch_size)
    workers, errors = [], []
    for i in range(n):
        r = results.get(i)
        if r is None:
            logs[i].seek(0)
            tail = logs[i].read().strip().splitlines()[-1:] or ['no output']
            r = {'error': 'stopped at the end of the budget' if stopped else
                 f'no result (exit status {procs[i].returncode}): {tail[0][:300]}'}
        logs[i].close()
        if 'search_step_s' in r and 'retrain_step_s' in r:
            r['cell_s_estimate'] = PAPER_EPOCHS * steps_epoch * (r['search_step_s'] + r['retrain_step_s'])
        if 'error' in r:
            errors.append(r['error'])
        workers.append(r)
    ok = [w for w in workers if 'cell_s_estimate' in w]
    sat = sampler.summary()
    saturated = []
    if any('out of memory' in e for e in errors):
        saturated.append(f"GPU memory (out of memory in {sum('out of memory' in e for e in errors)} of {n} workers)")
    if sat.get('gpu_mem_in_use_max') is not None and sat['gpu_mem_in_use_max'] >= 0.9:
        saturated.append(f"GPU memory ({100 * sat['gpu_mem_in_use_max']:.0f} % in use)")
    if sat.get('gpu_util_mean_pct') is not None and sat['gpu_util_mean_pct'] >= 90:
        saturated.append(f"GPU utilisation ({sat['gpu_util_mean_pct']:.0f} % mean)")
    if sat.get('cpu_busy_mean') is not None and sat['cpu_busy_mean'] >= 0.9:
        saturated.append(f"CPU ({100 * sat['cpu_busy_mean']:.0f} % of {sat['cpus']} cores busy)")
    gpu_busy = sat.get('gpu_util_mean_pct') is not None and sat['gpu_util_mean_pct'] >= 90
    if runner.device.type == 'cuda' and not gpu_busy and (sat.get('worker_cpu_cores_mean') or 0) >= 0.9:
        saturated.append(f"each worker's host thread ({100 * sat['worker_cpu_cores_mean']:.0f} % of a core "
                         f"per worker while the GPU is below 90 %: kernel launches bound the steps)")
    out = {'what': f'jobs {n}', 'part': 'jobs', 'jobs': n, 'bf16': bool(a.jobs_bf16), 'steps_each': a.jobs_steps,
           'workers_ok': len(ok), 'cells_per_hour': sum(3600 / w['cell_s_estimate'] for w in ok) if ok else None,
           'search_step_s_mean': sum(w['search_step_s'] for w in ok) / len(ok) if ok else None,
           'retrain_step_s_mean': sum(w['retrain_step_s'] for w in ok) / len(ok) if ok else None,
           'window_s': {k: v['window_s'] for k, v in phases.items() if 'window_s' in v},
           'setting_s': time.perf_counter() - t_start, 'saturation': sat,
           'saturated': saturated or ['none visible (all below 90 %)' if sat['samples'] else 'not sampled'],
           'workers': workers}
    if stopped:
        out['stopped'] = stopped
    if errors and not ok:
        out['error'] = errors[0]
    return out


class Budget:
    """Time left of ``--budget-s``; a part whose estimate exceeds it is skipped and recorded so."""

    def __init__(self, total: float, res):
        self.total, self.res, self.t0, self.skipped = float(total), res, time.perf_counter(), []

    def left(self) -> float:
        return self.total - (time.perf_counter() - self.t0)

    def allows(self, label: str, part: str, estimate: float, **extra) -> bool:
        if self.left() >= estimate:
            return True
        why = f'budget: {max(0.0, self.left()):.0f} s left of {self.total:g} s, this part needs about {estimate:.0f} s'
        self.res.row(what=label, part=part, skipped=why, **extra)
        self.skipped.append(label)
        print(f'  {label}: skipped ({why})', flush=True)
        return False


def guarded(res: C.Results, label: str, fn, part: str = '') -> dict:
    t0 = time.perf_counter()
    try:
        out = fn()
    except torch.cuda.OutOfMemoryError as exc:                 # record and go on
        out = {'what': label, 'error': f'out of memory: {str(exc).splitlines()[0]}'}
        torch.cuda.empty_cache()
    except Exception as exc:                                    # noqa: BLE001 - one failure must not end the run
        out = {'what': label, 'error': f'{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}'}
    out.setdefault('part', part)
    out['wall_s'] = round(time.perf_counter() - t0, 2)
    row = res.row(**out)
    shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()
             if k not in ('flops_by_op', 'workers', 'saturation', 'runs_flops_per_s')}
    print(f'  {label}: {shown}', flush=True)
    return row


def device_record(runner: Runner) -> dict:
    rec = {'type': runner.device.type}
    for mod in ('nni', 'pytorch_lightning'):
        try:
            rec[f'{mod}_version'] = __import__(mod).__version__
        except Exception as exc:                                # noqa: BLE001
            rec[f'{mod}_version'] = f'unknown ({type(exc).__name__})'
    if runner.device.type == 'cuda':
        prop = torch.cuda.get_device_properties(0)
        rec.update(name=torch.cuda.get_device_name(0), capability=list(torch.cuda.get_device_capability(0)),
                   total_memory_gib=prop.total_memory / 2 ** 30, multiprocessors=prop.multi_processor_count,
                   cuda_runtime=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                   device_count=torch.cuda.device_count(),
                   visible_devices=os.environ.get('CUDA_VISIBLE_DEVICES'))
    else:
        rec['name'] = f"CPU: {C.machine()['host_cpu']} (dry run)"
    return rec


def add_mfu(row: dict, peaks: dict, table) -> None:
    """Achieved FLOP/s and MFU against the measured and the published peak of the row's precision."""
    if 'flops_per_step' not in row or 'step_s' not in row:
        return
    p = row['precision']
    achieved = row['flops_per_step'] / row['step_s']
    row['achieved_flops_per_s'] = achieved
    measured = peaks.get(p, {}).get('flops_per_s')
    row['mfu_vs_measured'] = achieved / measured if measured else None
    row['mfu_vs_table'] = achieved / table[1][p] if table and p in table[1] else None
    print(f"  {row['what']}, {p}: {row['flops_per_step'] / 1e9:.2f} GFLOP/step, "
          f"{achieved / 1e12:.4f} TFLOP/s; MFU {row['mfu_vs_measured'] if measured else float('nan'):.4f} "
          f"of the measured peak"
          + (f", {row['mfu_vs_table']:.4f} of the published {table[0]} {p} peak" if row['mfu_vs_table'] else ''),
          flush=True)


def main(argv=None):
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument('--dry-run', action='store_true', help='run every part on the CPU at tiny sizes (checks the script)')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--warmup', type=int, default=3, help='untimed steps before each timed epoch')
    p.add_argument('--tf32', action='store_true', help='allow TF32 matmuls (off by default in PyTorch)')
    p.add_argument('--budget-s', type=float, default=420,
                   help='wall seconds for the parts: one whose estimate exceeds the time left is skipped and '
                        'recorded as skipped (default 420, which with start-up and exit keeps a call under 8 minutes)')
    p.add_argument('--mm-size', type=int, default=None, help='matrix size of the measured peak (8192; dry run 256)')
    p.add_argument('--skip-project', action='store_true', help='skip run_search / trainer.retrain epochs')
    p.add_argument('--skip-jobs', action='store_true', help='skip the side-by-side workers')
    p.add_argument('--jobs-list', type=int, nargs='+', default=None, help='workers side by side (1 4 8; dry run 1 2)')
    p.add_argument('--jobs-steps', type=int, default=None, help='timed search and retrain steps of each worker '
                                                                '(20; dry run 2)')
    p.add_argument('--jobs-bf16', action='store_true', help='the workers run with bf16 autocast')
    p.add_argument('--only', choices=['search', 'retrain'], default=None)
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.smoke:
        args.dry_run = True
    if args.dry_run:
        args.batch_size = min(args.batch_size, 4)
        args.warmup = min(args.warmup, 1)
    args.jobs_list = args.jobs_list or ([1, 2] if args.dry_run else [1, 4, 8])
    args.jobs_steps = args.jobs_steps or (2 if args.dry_run else 20)
    args.mm_size = args.mm_size or (256 if args.dry_run else 8192)
    if args.worker:
        return worker(args)
    if not args.dry_run and not torch.cuda.is_available():
        print('gpu_paper_size: no CUDA device here; nothing measured (this benchmark is for a GPU machine; '
              '--dry-run checks the script on the CPU at tiny sizes)')
        return 0
    if args.json is None and not args.dry_run:
        args.json = C.ROOT / 'bench' / 'results' / 'gpu_paper_size.json'
    C.setup(args.threads)
    tf32 = bool(args.tf32) and not args.dry_run
    if not args.dry_run:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    res = CheckResults('gpu_paper_size', args)
    budget = Budget(args.budget_s, res)
    runner = Runner(args)
    dev = device_record(runner)
    table = table_peak(dev['name']) if runner.device.type == 'cuda' else None
    steps_epoch = math.ceil(runner.sizes['train'] / args.batch_size)
    dry = args.dry_run
    print(f"gpu_paper_size: device {runner.device}{' (dry run, tiny sizes)' if dry else ''}: {dev['name']}; "
          f"train {runner.sizes['train']}, valid {runner.sizes['valid']}, batch {args.batch_size} -> "
          f"{steps_epoch} steps per epoch; TF32 {'on' if tf32 else 'off'}; budget {args.budget_s:g} s; "
          f"published peak: {table[0] if table else 'none (measured only)'}", flush=True)
    kinds = [args.only] if args.only else ['search', 'retrain']
    precisions = [precision_of(False, tf32), 'bf16']

    # 1. peak: measured matmul rate per precision
    peaks = {}
    for prec in precisions:
        label = f'peak {prec} matmul {args.mm_size}'
        if budget.allows(label, 'peak', 1 if dry else 10, precision=prec):
            dtype = torch.bfloat16 if prec == 'bf16' else torch.float32
            row = guarded(res, label, lambda d=dtype, pr=prec: {
                'what': label, 'precision': pr,
                **matmul_peak(runner.device, d, args.mm_size, 0.05 if dry else 0.5, runner.sync),
                'table_flops_per_s': table[1].get(pr) if table else None}, part='peak')
            if 'flops_per_s' in row:
                peaks[prec] = row
            runner.reset_peak()

    # 2. steps: one epoch of each kind, bf16 off / on, FLOPs per step, MFU
    epochs = {}
    for kind in kinds:
        for bf16 in (False, True):
            label = f'{kind} epoch, bf16 {"on" if bf16 else "off"}'
            first = epochs.get((kind, False), {})
            est = (2 if dry else 60) if 'wall_s' not in first else first['wall_s']
            if budget.allows(label, 'steps', est, bf16=bf16):
                row = guarded(res, label, lambda k=kind, b=bf16: runner.epoch(k, b), part='steps')
                row.setdefault('bf16', bf16)
                add_mfu(row, peaks, table)
                epochs[(kind, bf16)] = row
    cells = []
    for bf16 in (False, True):
        s, r = epochs.get(('search', bf16), {}), epochs.get(('retrain', bf16), {})
        if 'epoch_s' in s and 'epoch_s' in r:
            cell = PAPER_EPOCHS * (s['epoch_s'] + r['epoch_s'])
            cells.append({'precision': precision_of(bf16, tf32), 'bf16': bf16, 'search_epochs': PAPER_EPOCHS,
                          'retrain_epochs': PAPER_EPOCHS, 'steps_per_epoch': steps_epoch,
                          'cell_s': cell, 'cell_h': cell / 3600,
                          'search_step_s': s['step_s'], 'retrain_step_s': r['step_s'],
                          'search_step_target_s': TARGET_STEP_S['search'],
                          'retrain_step_target_s': TARGET_STEP_S['retrain']})
            print(f"paper cell ({PAPER_EPOCHS} search + {PAPER_EPOCHS} retrain epochs of {steps_epoch} steps), "
                  f"{precision_of(bf16, tf32)}: {cell:.0f} s = {cell / 3600:.2f} h", flush=True)
    if not dry:
        for kind in kinds:
            timed = [(e['step_s'], e['precision']) for (k, _), e in epochs.items() if k == kind and 'step_s' in e]
            if timed:
                best, prec = min(timed)
                res.goal(f'paper-size {kind} step at batch {args.batch_size} (best: {prec})', best, '<=',
                         TARGET_STEP_S[kind], ' s')

    # 3. the project's own paths
    if not args.skip_project:
        s_ep = epochs.get(('search', False), {}).get('epoch_s')
        r_ep = epochs.get(('retrain', False), {}).get('epoch_s')
        if 'search' in kinds:
            for precision in (None, 'bf16-mixed'):
                label = f'run_search epoch, precision {precision or "32-true"}'
                if budget.allows(label, 'project', 2 if dry else 20 + 2 * (s_ep or 20)):
                    guarded(res, label, lambda pr=precision: runner.project_search(pr), part='project')
        if 'retrain' in kinds:
            label = 'trainer.retrain epoch, fp32'
            if budget.allows(label, 'project', 2 if dry else 15 + 2 * (r_ep or 10)):
                guarded(res, label, runner.project_retrain, part='project')

    # 4. jobs (last: the only part with a deadline inside): workers side by side
    jobs = []
    if not args.skip_jobs:
        per_step = sum(e['step_s'] for (k, b), e in epochs.items() if b == args.jobs_bf16 and 'step_s' in e)
        for n in args.jobs_list:
            label = f'jobs {n}'
            est = (5 if dry else 40) + n * args.jobs_steps * (per_step or (0.1 if dry else 1.0))
            if budget.allows(label, 'jobs', est, jobs=n):
                runner.reset_peak()                            # the parent's cached blocks back to the device
                deadline = time.perf_counter() + budget.left()
                jobs.append(guarded(res, label, lambda n=n, d=deadline: jobs_setting(runner, n, d), part='jobs'))
        base = next((j for j in jobs if j.get('cells_per_hour')), None)
        for j in jobs:
            if base and j.get('cells_per_hour'):
                j['speedup_over_first'] = j['cells_per_hour'] / base['cells_per_hour']
                print(f"jobs {j['jobs']}: {j['cells_per_hour']:.2f} cells/hour "
                      f"({j['speedup_over_first']:.2f}x of jobs {base['jobs']}); saturated: {', '.join(j['saturated'])}",
                      flush=True)

    for kind in kinds:
        a, b = epochs.get((kind, False), {}), epochs.get((kind, True), {})
        if 'epoch_s' in a and 'epoch_s' in b:
            print(f"{kind}: {a['epoch_s']:.2f} s/epoch {a['precision']}, {b['epoch_s']:.2f} s/epoch bf16 "
                  f"({a['epoch_s'] / b['epoch_s']:.2f}x)")
    res.check = {
        'budget_s': args.budget_s, 'elapsed_s': budget.total - budget.left(), 'skipped': budget.skipped,
        'device': dev, 'published_peak': {'entry': table[0], 'flops_per_s': table[1]} if table else None,
        'measured_peak_flops_per_s': {k: v['flops_per_s'] for k, v in peaks.items()},
        'mfu': [{k: e.get(k) for k in ('what', 'precision', 'step_s', 'flops_per_step', 'achieved_flops_per_s',
                                       'mfu_vs_measured', 'mfu_vs_table')} for e in epochs.values() if 'step_s' in e],
        'paper_cell': cells,
        'jobs': [{k: j.get(k) for k in ('jobs', 'cells_per_hour', 'speedup_over_first', 'saturated', 'error',
                                        'stopped')} for j in jobs],
        'flops_not_counted': 'element-wise work (softmax, LayerNorm, GELU, dropout, DARTS mixing sums, masking), '
                             'gradient clipping, optimizer steps, the validation pass',
    }
    res.write(args.json, args.csv)
    return 0


class CheckResults(C.Results):
    """:class:`_common.Results` with the check's summary (``check``) in the same JSON."""

    check: dict = {}

    def payload(self):
        return {**super().payload(), 'check': self.check}


if __name__ == '__main__':
    sys.exit(main())
