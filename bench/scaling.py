#!/usr/bin/env python
"""Scaling: step time and peak memory at sequence lengths N, 2N, 4N and batch 8, 16, 32.

Model: the paper's structure (3 modalities, every token mixer, LST, BM-NAS fusion,
8 heads, FFN ratio 4) at a reduced width, d = 128 and 2 blocks (``--d-model``,
``--blocks``), so that the sequence-length terms are visible and the largest case
fits in memory. Lengths: MOSI's unaligned lengths (text 50, audio 375, vision 500)
times 1/4, 1/2 and 1, so "N" is the vision length 125, 250, 500 (every token real).
Both the fixed all-attention network and the DARTS supernet are measured: weight
steps (forward, backward, clipping, AdamW).

Each (model, N, batch) runs in its own subprocess: one warm-up step, ``--steps``
timed steps (median), then the process's peak RSS (``resource.getrusage``), and the
peak of live tensor bytes during one more step (a ``TorchDispatchMode`` counting
every storage alive, so allocator slack is excluded). The configurations run in an
interleaved order. Fitted: the exponent ``k`` of ``time ~ N^k`` and ``memory ~ N^k``
(least squares on logs over N, 2N, 4N) for each batch size.

Where the memory goes: at the largest N, batch 8, the bytes autograd saves for the
backward pass, by module (``saved_tensors_hooks``), with the O(N^2) part apart, and
the peak tensor memory of ``LST.forward`` alone in multiples of its output.

    python bench/scaling.py [--threads 2] [--json ...]
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import _common as C
import numpy as np
import torch

from _memory import LiveTensorBytes, SavedForBackward, current_rss_mb, peak_rss_mb

SCALES = (0.25, 0.5, 1.0)
GROUPS = ('LST', 'Attention', 'RandomMixer', 'PoolMixer', 'IdentityMixer', 'FFN', 'LayerNorm', 'Head', 'BMFusion',
          'DifferentiableMixedLayer', 'ModalityEncoder')


def shape(scale: float, d_model: int, blocks: int, smoke: bool = False):
    if smoke:
        dims, base = {'text': 12, 'audio': 5, 'vision': 7}, {'text': 8, 'audio': 24, 'vision': 32}
        kw = C.paper_space_kwargs(d_model=16, n_blocks=1, n_heads=4, fusion_width=16, attention_chunks=4)
    else:
        dims, base = C.MOSI_DIMS, C.MOSI_LENGTHS
        kw = C.paper_space_kwargs(d_model=d_model, n_blocks=blocks, fusion_width=64, attention_chunks=8)
    lengths = {m: max(1, int(math.ceil(n * scale))) for m, n in base.items()}
    return dims, lengths, kw


def worker(args) -> None:
    from search_vs_retrain import build, make_steps
    C.setup(args.threads)
    dims, lengths, kw = shape(args.scale, args.d_model, args.blocks, args.smoke)
    batch = C.synthetic_batch(dims, lengths, args.batch)
    model, w_opt, a_opt, weights = build(args.worker, args.smoke, shape=(dims, lengths, kw))
    step, _ = make_steps(model, w_opt, a_opt, weights, batch)
    step()                                                                # warm-up, optimizer state allocated
    before = current_rss_mb()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak = peak_rss_mb()
    tracker = LiveTensorBytes()
    with tracker:
        step()
    print(json.dumps({'model': args.worker, 'scale': args.scale, 'batch': args.batch, 'lengths': lengths,
                      'step_s': times, 'rss_before_mb': before, 'peak_rss_mb': peak,
                      'peak_live_tensor_mb': tracker.peak / 2 ** 20}))


def run_config(model: str, scale: float, batch: int, args) -> dict:
    cmd = [sys.executable, __file__, '--worker', model, '--scale', str(scale), '--batch', str(batch),
           '--threads', str(args.threads), '--steps', str(args.steps), '--d-model', str(args.d_model),
           '--blocks', str(args.blocks)] + (['--smoke'] if args.smoke else [])
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS='ignore'))
    if out.returncode != 0:
        return {'model': model, 'scale': scale, 'batch': batch, 'error': out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit_exponent(ns, ys) -> float:
    ok = [(n, y) for n, y in zip(ns, ys) if y and y > 0]
    if len(ok) < 2:
        return float('nan')
    x, y = np.log([n for n, _ in ok]), np.log([y for _, y in ok])
    return float(np.polyfit(x, y, 1)[0])


def where_memory_goes(res: C.Results, args) -> None:
    """Saved-for-backward bytes by module at the largest N, batch 8, and LST.forward's own peak."""
    from rmnas_nni.losses import rmnas_loss
    from search_vs_retrain import build
    dims, lengths, kw = shape(1.0, args.d_model, args.blocks, args.smoke)
    batch = C.synthetic_batch(dims, lengths, 8)
    n_sq = [n + 1 for n in lengths.values()]
    for kind in ('fixed', 'supernet'):
        model, *_ = build(kind, args.smoke, shape=(dims, lengths, kw))
        model.train()
        with SavedForBackward(model, square=n_sq, groups=GROUPS) as saved:
            loss = rmnas_loss(model(batch['inputs'], batch['masks']), batch, 'regression')
        rows = saved.table()
        total = sum(r['saved_mb'] for r in rows)
        square = sum(r['square_mb'] for r in rows)
        print(f'{kind}: {total:.0f} MiB saved for backward at N={lengths["vision"]}, batch 8; '
              f'{square:.0f} MiB ({100 * square / total:.0f}%) in (.., N+1, N+1) tensors')
        for r in rows[:8]:
            print(f"  {r['module']:26s} {r['saved_mb']:8.1f} MiB  {100 * r['share']:5.1f}%  "
                  f"(N^2 part {r['square_mb']:.1f} MiB)")
        res.row(analysis='saved_for_backward', model=kind, n=lengths['vision'], batch=8, total_mb=total,
                square_mb=square, by_module=rows)
        del loss, model
    # LST.forward alone: peak live tensor bytes / bytes of its output
    from rmnas_nni.lst import LST
    torch.manual_seed(0)
    enc_lst = LST(dims['vision'], kw['n_heads'], kw['kernel_size'], kw['maxdis'])
    x = batch['inputs']['vision']
    mask = batch['masks']['vision']
    from lst_cost import previous_lst_forward
    for grad in (False, True):
        peaks = {}
        for name, fn in (('LST.forward', lambda: enc_lst(x, mask)),
                         ('previous LST.forward', lambda: previous_lst_forward(enc_lst, x, mask))):
            with torch.set_grad_enabled(grad):
                tracker = LiveTensorBytes()
                with tracker:
                    out = fn()
                out_bytes = out.untyped_storage().nbytes()
                del out
            peaks[name] = tracker.peak
            print(f'{name} (vision, N={lengths["vision"]}, batch 8, grad {"on" if grad else "off"}): peak '
                  f'{tracker.peak / 2 ** 20:.0f} MiB of tensors = {tracker.peak / out_bytes:.2f}x its output '
                  f'({out_bytes / 2 ** 20:.0f} MiB, shape (B, H, N+1, N+1))')
        res.row(analysis='lst_forward_peak', grad=grad, n=lengths['vision'], batch=8,
                peak_mb=peaks['LST.forward'] / 2 ** 20, previous_peak_mb=peaks['previous LST.forward'] / 2 ** 20,
                output_mb=out_bytes / 2 ** 20, peak_over_output=peaks['LST.forward'] / out_bytes,
                previous_peak_over_output=peaks['previous LST.forward'] / out_bytes)


def main(argv=None):
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument('--worker', choices=['fixed', 'supernet'], help=__import__('argparse').SUPPRESS)
    p.add_argument('--scale', type=float, default=1.0, help=__import__('argparse').SUPPRESS)
    p.add_argument('--batch', type=int, default=8, help=__import__('argparse').SUPPRESS)
    p.add_argument('--batches', type=int, nargs='+', default=[8, 16, 32])
    p.add_argument('--models', nargs='+', default=['fixed', 'supernet'], choices=['fixed', 'supernet'])
    p.add_argument('--steps', type=int, default=2, help='timed steps per configuration (median)')
    p.add_argument('--d-model', type=int, default=128)
    p.add_argument('--blocks', type=int, default=2)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    C.setup(args.threads)
    res = C.Results('scaling', args)
    if args.smoke:
        args.batches, args.steps = [2, 4], 1
    print(f'scaling: d={args.d_model}, {args.blocks} blocks, lengths x{SCALES}, batches {args.batches}, '
          f'models {args.models}, threads {args.threads}', flush=True)
    configs = [(m, s, b) for b in args.batches for m in args.models for s in SCALES]
    # interleave: alternate the direction of the length sweep
    order = []
    for i, (m, b) in enumerate([(m, b) for b in args.batches for m in args.models]):
        scales = SCALES if i % 2 == 0 else SCALES[::-1]
        order += [(m, s, b) for s in scales]
    assert sorted(order) == sorted(configs)
    results = {}
    t0 = time.perf_counter()
    for k, (m, s, b) in enumerate(order):
        r = run_config(m, s, b, args)
        results[(m, s, b)] = r
        if 'error' in r:
            print(f'  {m} x{s} batch {b}: FAILED {r["error"]}', flush=True)
            res.row(model=m, scale=s, batch=b, error=r['error'])
            continue
        med = C.median(r['step_s'])
        res.row(model=m, scale=s, batch=b, n_vision=r['lengths']['vision'], n_audio=r['lengths']['audio'],
                n_text=r['lengths']['text'], step_s=med, step_all_s=r['step_s'], peak_rss_mb=r['peak_rss_mb'],
                rss_before_mb=r['rss_before_mb'], step_rss_increase_mb=r['peak_rss_mb'] - r['rss_before_mb'],
                peak_live_tensor_mb=r['peak_live_tensor_mb'])
        el = time.perf_counter() - t0
        print(f"  [{k + 1}/{len(order)}] {m:8s} N={r['lengths']['vision']:4d} batch {b:2d}: {med:7.3f} s/step, "
              f"peak RSS {r['peak_rss_mb']:7.0f} MiB, peak live tensors {r['peak_live_tensor_mb']:7.0f} MiB; "
              f"elapsed {el:.0f}s, about {el / (k + 1) * (len(order) - k - 1):.0f}s left", flush=True)
    print('fitted exponents in N (time ~ N^k, memory ~ N^k over N, 2N, 4N):')
    for m in args.models:
        for b in args.batches:
            rows = [results[(m, s, b)] for s in SCALES]
            if any('error' in r for r in rows):
                continue
            ns = [r['lengths']['vision'] for r in rows]
            k_t = fit_exponent(ns, [C.median(r['step_s']) for r in rows])
            k_m = fit_exponent(ns, [r['peak_live_tensor_mb'] for r in rows])
            k_rss = fit_exponent(ns, [r['peak_rss_mb'] - r['rss_before_mb'] for r in rows])
            last = rows[-1]
            print(f'  {m:8s} batch {b:2d}: time k={k_t:.2f}, peak live tensors k={k_m:.2f}, '
                  f'RSS growth of a step k={k_rss:.2f}; at N={ns[-1]}: {C.median(last["step_s"]):.2f} s, '
                  f'{last["peak_live_tensor_mb"]:.0f} MiB live tensors')
            res.row(fit=True, model=m, batch=b, exponent_time=k_t, exponent_live_tensor_memory=k_m,
                    exponent_rss_increase=k_rss)
        bs = args.batches
        rows = [results[(m, 1.0, b)] for b in bs]
        if not any('error' in r for r in rows):
            kb_t = fit_exponent(bs, [C.median(r['step_s']) for r in rows])
            kb_m = fit_exponent(bs, [r['peak_live_tensor_mb'] for r in rows])
            print(f'  {m:8s} at N={rows[-1]["lengths"]["vision"]}: time ~ batch^{kb_t:.2f}, '
                  f'live tensors ~ batch^{kb_m:.2f}')
            res.row(fit=True, model=m, n='4N', exponent_time_batch=kb_t, exponent_live_tensor_memory_batch=kb_m)
    where_memory_goes(res, args)
    res.write(args.json, args.csv)


if __name__ == '__main__':
    main()
