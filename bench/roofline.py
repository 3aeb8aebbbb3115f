#!/usr/bin/env python
"""Closeness to the machine's limit: achieved FLOP/s of a fixed-network training step / fp32 matmul FLOP/s.

* **Step**: the fixed all-attention network at paper dimensions (as in
  ``bench/search_vs_retrain.py``: d = 448, 6 blocks, 8 heads, MOSI unaligned inputs,
  batch 8): forward, backward, gradient clipping, AdamW.
* **FLOPs**: counted by ``torch.utils.flop_counter.FlopCounterMode`` over one whole
  step (matrix products, convolutions and attention, forward and backward; the
  element-wise work of softmax, LayerNorm, GELU, dropout and AdamW is not counted,
  so the figure is a lower bound of the work done).
* **Machine limit**: fp32 ``torch.mm`` of two square ``--mm-size`` matrices (default
  2048), 2 n^3 FLOPs each, at the same thread count, interleaved with the steps in
  the same process; also reported: the GEMM shapes of the model's largest layers.
* **Where the time goes**: ``torch.profiler`` self CPU time of one step, grouped into
  matrix products, softmax, normalisation, dropout, element-wise, copies/layout and
  the rest.

Ratio = (FLOPs / median step time) / median matmul FLOP/s; goal >= 0.4.

    python bench/roofline.py [--threads 2] [--reps 3] [--json ...]
"""
from __future__ import annotations

from collections import defaultdict

import _common as C
import torch
from torch.utils.flop_counter import FlopCounterMode

from search_vs_retrain import build, make_steps, sizes

GROUPS = [
    ('matrix products', ('aten::mm', 'aten::bmm', 'aten::addmm', 'aten::baddbmm', 'aten::matmul', 'aten::linear',
                         'aten::_scaled_dot_product', 'aten::convolution', 'aten::mkldnn_convolution',
                         'aten::convolution_backward')),
    ('softmax', ('aten::_softmax', 'aten::_softmax_backward_data', 'aten::softmax')),
    ('layer norm', ('aten::native_layer_norm', 'aten::native_layer_norm_backward')),
    ('dropout', ('aten::bernoulli_', 'aten::dropout', 'aten::native_dropout')),
    ('copies / layout', ('aten::copy_', 'aten::cat', 'aten::clone', 'aten::contiguous', 'aten::fill_',
                         'aten::zero_', 'aten::empty', 'aten::repeat', 'aten::index', 'aten::masked_fill')),
    ('element-wise / reductions', ('aten::mul', 'aten::add', 'aten::div', 'aten::sub', 'aten::gelu', 'aten::sum',
                                   'aten::where', 'aten::masked_fill_', 'aten::lerp', 'aten::sqrt', 'aten::addcmul',
                                   'aten::addcdiv', 'aten::abs', 'aten::sign', 'aten::all', 'aten::neg',
                                   'aten::exp', 'aten::norm', 'aten::linalg_vector_norm', 'aten::mean',
                                   'aten::clamp', 'aten::_foreach', 'aten::pow', 'aten::gelu_backward',
                                   'aten::cumsum', 'aten::eq', 'aten::ne', 'aten::gt', 'aten::lt', 'aten::ge')),
]


def group_of(name: str) -> str:
    for group, prefixes in GROUPS:
        if any(name == p or name.startswith(p) for p in prefixes):
            return group
    return 'other'


def profile_step(step) -> dict:
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    totals = defaultdict(float)
    for ev in prof.key_averages():
        if ev.key.startswith('aten::'):
            totals[group_of(ev.key)] += ev.self_cpu_time_total / 1e6
    total = sum(totals.values())
    return {k: {'seconds': v, 'share': v / total} for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def main(argv=None):
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument('--mm-size', type=int, default=2048)
    p.add_argument('--no-profile', action='store_true')
    args = p.parse_args(argv)
    C.setup(args.threads)
    res = C.Results('roofline', args)
    reps = args.reps or (1 if args.smoke else 3)
    dims, lengths, kw = sizes(args.smoke)
    n = 256 if args.smoke else args.mm_size
    batch = C.synthetic_batch(dims, lengths, 8)
    model, w_opt, _, weights = build('fixed', args.smoke)
    step, _ = make_steps(model, w_opt, None, weights, batch)
    step()                                                              # AdamW state allocated, caches warm
    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    by_op = {str(k): v for k, v in counter.get_flop_counts().get('Global', {}).items()}

    a, b = torch.randn(n, n), torch.randn(n, n)
    mm_rounds = max(1, int(2e10 // (2 * n ** 3)))                     # about 20 GFLOP per timed call

    def matmul():
        for _ in range(mm_rounds):
            torch.mm(a, b)

    # the model's own largest GEMM: the FFN's first layer over every vision token of the batch
    d = kw['d_model']
    rows = 8 * (lengths['vision'] + 1)
    x_ffn, w_ffn = torch.randn(rows, d), torch.randn(d, kw['ffn_ratio'] * d)
    ffn_rounds = max(1, int(5e9 // (2 * rows * d * kw['ffn_ratio'] * d)))

    def ffn_gemm():
        for _ in range(ffn_rounds):
            torch.mm(x_ffn, w_ffn)

    print(f'roofline: fixed all-attention network, d={d}, {kw["n_blocks"]} blocks, batch 8, threads {args.threads}; '
          f'{flops / 1e9:.1f} GFLOP per training step (FlopCounterMode); matmul {n}x{n} fp32', flush=True)
    t = C.interleaved({'step': step, 'matmul': matmul, 'ffn_gemm': ffn_gemm}, reps=reps, warmup=1,
                      progress='step / matmul')
    step_s = C.median(t['step'])
    mm_flops = 2 * n ** 3 * mm_rounds / C.median(t['matmul'])
    ffn_flops = 2 * rows * d * kw['ffn_ratio'] * d * ffn_rounds / C.median(t['ffn_gemm'])
    achieved = flops / step_s
    ratio = achieved / mm_flops
    per_rep = [flops / s / (2 * n ** 3 * mm_rounds / m) for s, m in zip(t['step'], t['matmul'])]
    res.row(step_flops=flops, step_s=step_s, achieved_flops_per_s=achieved, matmul_size=n,
            matmul_flops_per_s=mm_flops, ffn_gemm_shape=f'{rows}x{d} @ {d}x{kw["ffn_ratio"] * d}',
            ffn_gemm_flops_per_s=ffn_flops, ratio=ratio, ratio_per_rep=per_rep, step_all_s=t['step'],
            matmul_all_s=t['matmul'], flops_by_op=by_op)
    print(f'step {step_s:.2f} s -> {achieved / 1e9:.1f} GFLOP/s achieved; fp32 matmul {n}x{n}: '
          f'{mm_flops / 1e9:.1f} GFLOP/s; the model\'s FFN GEMM ({rows}x{d} @ {d}x{kw["ffn_ratio"] * d}): '
          f'{ffn_flops / 1e9:.1f} GFLOP/s')
    print(f'ratio achieved / matmul: {ratio:.3f} (per repetition: {", ".join(f"{r:.3f}" for r in per_rep)})')
    res.goal('fixed-network step FLOP/s / fp32 matmul FLOP/s', ratio, '>=', 0.4, '')
    if not args.no_profile:
        groups = profile_step(step)
        res.row(profile=groups)
        print('where the step time goes (torch.profiler self CPU time of aten ops):')
        for k, v in groups.items():
            print(f"  {k:28s} {v['seconds']:7.2f} s  {100 * v['share']:5.1f}%")
    res.write(args.json, args.csv)


if __name__ == '__main__':
    main()
