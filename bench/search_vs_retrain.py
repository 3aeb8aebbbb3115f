#!/usr/bin/env python
"""Search vs retrain: seconds per training step of the supernet and of the fixed all-attention network.

Paper dimensions (``search_spaces/rmnas.yml``: d = 448, 6 blocks, 8 heads, FFN 4,
2 Cells x 2 Steps, c = 240), MOSI unaligned inputs (text 768-d x 50, audio 5-d x 375,
vision 20-d x 500, every token real), batch 8, regression loss of the project
(fused + unimodal heads), on this CPU.

* **supernet weight step**: forward through NNI's DARTS supernet (every block mixes
  its 4 token mixers, every fusion choice mixes its candidates), backward, gradient
  clipping, AdamW over the weights;
* **supernet search step**: what one DARTS batch costs, i.e. the architecture step
  (forward, backward, SGD over alpha/beta/lambda; the weights do not require
  gradients during it, as in the project's ``training_step``) *plus* the weight
  step; with ``--nni-arch-step`` also NNI's own version, whose architecture
  backward computes every weight gradient as well (and then throws it away);
* **fixed step**: the all-attention network (attention in every block, the first
  candidate of every fusion choice; ``pipeline.attention_architecture``) built by
  NNI's ``model_context``, forward, backward, clipping, AdamW.

Timing: the three steps run in one process, interleaved (order reversed on every
repetition), medians over ``--reps``. Ratios: supernet weight step / fixed step
(goal <= 2.5) and search step / fixed step.

Peak memory: each model runs ``--mem-steps`` weight steps in its own subprocess;
reported are the process's peak resident set size (``VmHWM``, which includes the
Python interpreter, torch, the model and the allocator's slack), the peak minus the
RSS just before the first step, and the peak bytes of tensors created during one
more step and alive at the same time (activations, gradients, temporaries; counted
by a ``TorchDispatchMode``, exact and independent of the allocator), besides the
weights and AdamW state that live throughout.

    python bench/search_vs_retrain.py [--threads 2] [--reps 3] [--json ...]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import _common as C
import torch

from _memory import LiveTensorBytes, current_rss_mb, peak_rss_mb


def sizes(smoke: bool):
    if smoke:
        dims, lengths = {'text': 12, 'audio': 5, 'vision': 7}, {'text': 10, 'audio': 20, 'vision': 15}
        kw = C.paper_space_kwargs(d_model=32, n_blocks=2, n_heads=4, fusion_width=32, attention_chunks=4)
        return dims, lengths, kw
    return C.MOSI_DIMS, C.MOSI_LENGTHS, C.paper_space_kwargs()


def build(kind: str, smoke: bool, seed: int = 0, shape=None):
    """``(model, weight optimizer, arch optimizer or None, weights)`` for 'fixed' or 'supernet'.

    ``shape``: ``(dims, lengths, space kwargs)`` instead of the paper-sized default.
    """
    from nni.nas.space import model_context
    from rmnas_nni.config import load_strategy_config
    from rmnas_nni.pipeline import attention_architecture
    from rmnas_nni.search_strategy import RMNASTrainingModule, build_optimizer, build_strategy
    from rmnas_nni.space import RMNASSpace
    dims, lengths, kw = shape or sizes(smoke)
    scfg = load_strategy_config(str(C.ROOT / 'strategies' / 'darts.yml'))
    torch.manual_seed(seed)
    space = RMNASSpace(dims, lengths, level='sentence', out_dim=1, **kw)
    if kind == 'fixed':
        arch = attention_architecture(space)
        del space
        with model_context(arch):
            torch.manual_seed(seed)
            model = RMNASSpace(dims, lengths, level='sentence', out_dim=1, **kw)
        weights = list(model.parameters())
        return model, build_optimizer(weights, scfg.weights_optimizer), None, weights
    strategy = build_strategy(scfg, seed)
    model = strategy.mutate_model(space)
    training = RMNASTrainingModule('regression', 'mosi', 'mae', scfg.weights_optimizer)
    training.set_model(model)
    arch_params = strategy.configure_oneshot_module(training).arch_parameters()
    ids = {id(p) for p in arch_params}
    weights = [p for p in model.parameters() if id(p) not in ids]
    return (model, build_optimizer(weights, scfg.weights_optimizer),
            build_optimizer(arch_params, scfg.architecture_optimizer), weights)


def make_steps(model, w_opt, a_opt, weights, batch, clip: float = 5.0):
    from rmnas_nni.losses import rmnas_loss
    model.train()

    def weight_step():
        w_opt.zero_grad(set_to_none=True)
        loss = rmnas_loss(model(batch['inputs'], batch['masks']), batch, 'regression')
        loss.backward()
        torch.nn.utils.clip_grad_norm_(weights, clip)
        w_opt.step()

    def arch_step(full_backward: bool):
        a_opt.zero_grad(set_to_none=True)
        if not full_backward:               # as the project's training_step: no weight gradients here
            for p in weights:
                p.requires_grad_(False)
        loss = rmnas_loss(model(batch['inputs'], batch['masks']), batch, 'regression')
        loss.backward()
        for p in weights:
            p.requires_grad_(True)
        a_opt.step()

    def search_step():
        arch_step(False)
        weight_step()

    def search_step_full_backward():
        arch_step(True)
        weight_step()

    search_step.full_backward = search_step_full_backward
    return weight_step, search_step


def worker(kind: str, steps: int, smoke: bool, threads: int) -> None:
    """Subprocess: build one model, run weight steps, print peak memory as JSON."""
    C.setup(threads)
    dims, lengths, _ = sizes(smoke)
    batch = C.synthetic_batch(dims, lengths, 8)
    model, w_opt, a_opt, weights = build(kind, smoke)
    weight_step, _ = make_steps(model, w_opt, a_opt, weights, batch)
    before, peak_before = current_rss_mb(), peak_rss_mb()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        weight_step()
        times.append(time.perf_counter() - t0)
    peak = peak_rss_mb()
    tracker = LiveTensorBytes()           # created inside: activations, gradients, temporaries of one more step
    with tracker:
        weight_step()
    state = sum(p.numel() * p.element_size() for p in model.parameters())
    state += sum(t.numel() * t.element_size() for s in w_opt.state.values() for t in s.values()
                 if isinstance(t, torch.Tensor))
    print(json.dumps({'kind': kind, 'rss_before_steps_mb': before, 'peak_rss_before_steps_mb': peak_before,
                      'peak_rss_mb': peak, 'step_s': times, 'peak_live_tensor_mb': tracker.peak / 2 ** 20,
                      'weights_and_adamw_state_mb': state / 2 ** 20,
                      'params': sum(p.numel() for p in model.parameters())}))


def measure_memory(kind: str, steps: int, smoke: bool, threads: int) -> dict:
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    cmd = [sys.executable, __file__, '--worker', kind, '--mem-steps', str(steps), '--threads', str(threads)]
    if smoke:
        cmd.append('--smoke')
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f'memory worker for {kind} failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument('--worker', choices=['fixed', 'supernet'], help=argparse_hidden())
    p.add_argument('--mem-steps', type=int, default=2, help='weight steps in each memory subprocess')
    p.add_argument('--skip-memory', action='store_true')
    p.add_argument('--nni-arch-step', action='store_true',
                   help="also time the search step with NNI's architecture step (backward into every weight)")
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.mem_steps, args.smoke, args.threads)
    C.setup(args.threads)
    res = C.Results('search_vs_retrain', args)
    reps = args.reps or (1 if args.smoke else 3)
    dims, lengths, kw = sizes(args.smoke)
    print(f"search vs retrain: d={kw['d_model']}, {kw['n_blocks']} blocks, {kw['n_heads']} heads, lengths "
          f"{lengths}, widths {dims}, batch 8, threads {args.threads}, {reps} interleaved repetitions", flush=True)
    batch = C.synthetic_batch(dims, lengths, 8)
    fixed, fw_opt, _, f_weights = build('fixed', args.smoke)
    sup, sw_opt, sa_opt, s_weights = build('supernet', args.smoke)
    fixed_step, _ = make_steps(fixed, fw_opt, None, f_weights, batch)
    sup_weight_step, sup_search_step = make_steps(sup, sw_opt, sa_opt, s_weights, batch)
    n_fixed = sum(p.numel() for p in fixed.parameters())
    n_sup = sum(p.numel() for p in sup.parameters())
    steps = {'fixed_step': fixed_step, 'supernet_weight_step': sup_weight_step,
             'supernet_search_step': sup_search_step}
    if args.nni_arch_step:
        steps['supernet_search_step_nni_arch_step'] = sup_search_step.full_backward
    t = C.interleaved(steps, reps=reps, warmup=1, progress='steps')
    med = {k: C.median(v) for k, v in t.items()}
    r_weight = C.paired_ratio(t['supernet_weight_step'], t['fixed_step'])
    r_search = C.paired_ratio(t['supernet_search_step'], t['fixed_step'])
    r_nni = (C.paired_ratio(t['supernet_search_step_nni_arch_step'], t['fixed_step'])
             if args.nni_arch_step else None)
    res.row(measure='time', fixed_params=n_fixed, supernet_params=n_sup, **{f'{k}_median_s': v for k, v in med.items()},
            **{f'{k}_all_s': v for k, v in t.items()}, ratio_weight_step=r_weight, ratio_search_step=r_search,
            ratio_search_step_nni_arch_step=r_nni)
    print(f"fixed all-attention network ({n_fixed / 1e6:.1f}M parameters): {med['fixed_step']:.2f} s/step; "
          f"supernet ({n_sup / 1e6:.1f}M): weight step {med['supernet_weight_step']:.2f} s, "
          f"search step (architecture + weights) {med['supernet_search_step']:.2f} s")
    print(f'ratio supernet weight step / fixed step: {r_weight:.2f}; search step / fixed step: {r_search:.2f}')
    if r_nni is not None:
        print(f"with NNI's architecture step (backward into every weight as well): "
              f"{med['supernet_search_step_nni_arch_step']:.2f} s, ratio {r_nni:.2f}")
    del fixed, sup, fw_opt, sw_opt, sa_opt, f_weights, s_weights, fixed_step, sup_weight_step, sup_search_step
    res.goal('supernet training step / fixed all-attention step (paper dims, batch 8)', r_weight, '<=', 2.5, 'x')
    res.goal('supernet search step (arch + weight) / fixed step', r_search, '<=', 2.5, 'x')
    if not args.skip_memory:
        for kind in ('fixed', 'supernet'):
            m = measure_memory(kind, args.mem_steps, args.smoke, args.threads)
            res.row(measure='memory', model=kind, peak_rss_mb=m['peak_rss_mb'],
                    rss_before_steps_mb=m['rss_before_steps_mb'],
                    step_increase_mb=m['peak_rss_mb'] - m['rss_before_steps_mb'], params=m['params'],
                    peak_live_tensor_mb=m['peak_live_tensor_mb'],
                    weights_and_adamw_state_mb=m['weights_and_adamw_state_mb'], step_s=m['step_s'])
            print(f"{kind}: peak RSS {m['peak_rss_mb'] / 1024:.2f} GiB (before the first step "
                  f"{m['rss_before_steps_mb'] / 1024:.2f} GiB); tensors of one step alive at once: "
                  f"{m['peak_live_tensor_mb'] / 1024:.2f} GiB at peak, besides "
                  f"{m['weights_and_adamw_state_mb'] / 1024:.2f} GiB of weights and AdamW state", flush=True)
    res.write(args.json, args.csv)


def argparse_hidden():
    import argparse
    return argparse.SUPPRESS


if __name__ == '__main__':
    main()
