#!/usr/bin/env python
"""LST cost: the vectorised sentiment trends against the paper's Algorithm 1, and LST's share of a supernet forward.

1. **Vectorised vs Algorithm 1.** ``sentiment_trends`` (prefix sums, O(N^2 H)) and the
   whole ``LST.forward`` (STEncoder, trends, distance matrix, padding) against
   ``sentiment_trends_reference`` (the paper's loop over pairs and paths, O(N^3) Python
   operations), batch 8, H = 8 heads, D = 20 raw features, N in {16, 64, 256, 512}.
   The loop is timed in full for N <= ``--full-max`` (default 256; one repetition at
   N = 256, which takes about a minute). Beyond that it is *estimated*: the loop body
   is run for a uniform random sample of ``--pairs`` ordered pairs ``(i, j)``, ``i != j``
   (the body of ``sentiment_trends_reference``, verbatim, restricted to those pairs),
   and the mean time per pair is multiplied by ``N (N - 1)``. The estimator is
   checked against the full loop at every N where both are run (column
   ``estimate_vs_full``). Goal: at least 100x at N = 256. Beside it, the previous
   ``LST.forward`` (distance matrix repeated over the batch, trends added into a
   slice, mask applied out of place) for time and peak tensor memory (a
   ``TorchDispatchMode`` counting live storages), in multiples of the output.
2. **LST's share of a supernet forward** at MOSI-sized inputs: the paper's space
   (``search_spaces/rmnas.yml``: d = 448, 6 blocks, 8 heads, 4 token mixers, BM-NAS
   fusion) made a DARTS supernet by NNI (``strategies/darts.yml``), batch 8, text
   768-d x 50, audio 5-d x 375, vision 20-d x 500, every token real, training mode
   with autograd recording (as in search). The three modalities' ``LST.forward`` are
   timed on the same inputs, interleaved with the whole forward; share = LST time /
   forward time (medians). Goal: at most 10%.

    python bench/lst_cost.py [--threads 2] [--json bench/results/lst_cost.json]
"""
from __future__ import annotations

import random
import time

import _common as C
import torch

from _previous_lst import previous_lst_forward
from rmnas_nni.lst import LST, sentiment_trends, sentiment_trends_reference


def peak_bytes(fn) -> int:
    from _memory import LiveTensorBytes
    tracker = LiveTensorBytes()
    with tracker:
        out = fn()
    del out
    return tracker.peak


def reference_on_pairs(ast: torch.Tensor, pairs) -> torch.Tensor:
    """The loop body of :func:`sentiment_trends_reference`, run only for ``pairs`` (for the time estimate)."""
    b, h, n = ast.shape
    out = torch.zeros(b, h, n, n, dtype=ast.dtype, device=ast.device)
    for i, j in pairs:
        if i == j:
            continue
        lo, hi = min(i, j), max(i, j)
        path = [ast[:, :, p] for p in range(lo + 1, hi + 1)]
        total = path[0]
        for edge in path[1:]:
            total = total + edge
        out[:, :, i, j] = total / len(path)
    return out


def sample_pairs(n: int, k: int, seed: int = 0):
    rng = random.Random(seed)
    pairs = []
    while len(pairs) < k:
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j:
            pairs.append((i, j))
    return pairs


def time_once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def trends_vs_loop(res: C.Results, sizes, batch: int, heads: int, in_dim: int, full_max: int, n_pairs: int,
                   reps: int) -> None:
    torch.manual_seed(0)
    lst = LST(in_dim, heads, kernel_size=7, maxdis=8)
    for n in sizes:
        x = torch.randn(batch, n, in_dim)
        mask = torch.ones(batch, n, dtype=torch.bool)
        with torch.no_grad():
            ast = lst.st_encoder(x.transpose(1, 2))
            fast = sentiment_trends(ast)
            # correctness on a sample of pairs before timing anything
            pairs = sample_pairs(n, min(n_pairs, n * (n - 1)), seed=n)
            ref = reference_on_pairs(ast, pairs[:200])
            for i, j in pairs[:200]:
                torch.testing.assert_close(fast[:, :, i, j], ref[:, :, i, j], rtol=1e-4, atol=1e-5)
            assert torch.equal(lst(x, mask), previous_lst_forward(lst, x, mask))
            vec_reps = max(reps, 20 if n <= 256 else 10)
            t = C.interleaved({'trends': lambda: sentiment_trends(ast), 'lst_forward': lambda: lst(x, mask),
                               'previous_lst_forward': lambda: previous_lst_forward(lst, x, mask)},
                              reps=vec_reps, warmup=2)
            t_trends, t_lst = C.median(t['trends']), C.median(t['lst_forward'])
            t_prev = C.median(t['previous_lst_forward'])
            out_bytes = batch * heads * (n + 1) ** 2 * 4
            mem_new, mem_prev = peak_bytes(lambda: lst(x, mask)), peak_bytes(lambda: previous_lst_forward(lst, x, mask))
            n_pairs_total = n * (n - 1)
            k = min(n_pairs, n_pairs_total)
            t_sample = time_once(lambda: reference_on_pairs(ast, pairs[:k]))
            estimate = t_sample / k * n_pairs_total
            full = None
            if n <= full_max:
                full_reps = 3 if n <= 64 else 1
                full = C.median([time_once(lambda: sentiment_trends_reference(ast)) for _ in range(full_reps)])
        loop = full if full is not None else estimate
        row = res.row(n=n, batch=batch, heads=heads, in_dim=in_dim, vectorised_trends_s=t_trends,
                      lst_forward_s=t_lst, previous_lst_forward_s=t_prev,
                      lst_forward_peak_over_output=mem_new / out_bytes,
                      previous_lst_forward_peak_over_output=mem_prev / out_bytes, loop_full_s=full, loop_estimate_s=estimate, estimate_pairs=k,
                      estimate_vs_full=(estimate / full if full else None), loop_source='full' if full else 'estimate',
                      ratio_loop_over_trends=loop / t_trends, ratio_loop_over_lst_forward=loop / t_lst)
        print(f"N={n:4d}: vectorised trends {t_trends * 1e3:8.3f} ms, LST.forward {t_lst * 1e3:8.3f} ms, "
              f"Algorithm 1 {loop:9.2f} s ({row['loop_source']}"
              + (f', sampled estimate {estimate:.2f} s = {estimate / full:.2f}x the full time' if full else
                 f', from {k} sampled pairs') + ')'
              f"; ratio {row['ratio_loop_over_trends']:,.0f}x (trends), {row['ratio_loop_over_lst_forward']:,.0f}x "
              f"(whole LST.forward)", flush=True)
        print(f"        LST.forward {t_lst * 1e3:.2f} ms and peak {mem_new / out_bytes:.2f}x its output; the previous "
              f"out-of-place forward {t_prev * 1e3:.2f} ms and {mem_prev / out_bytes:.2f}x", flush=True)
        if n == 256:
            res.goal('Algorithm 1 / vectorised sentiment_trends at N=256', row['ratio_loop_over_trends'], '>=', 100,
                     'x')
            res.goal('Algorithm 1 / whole LST.forward at N=256', row['ratio_loop_over_lst_forward'], '>=', 100, 'x')


def lst_share(res: C.Results, batch: int, reps: int, smoke: bool) -> None:
    from rmnas_nni.config import load_strategy_config
    from rmnas_nni.search_strategy import build_strategy
    from rmnas_nni.space import RMNASSpace
    if smoke:
        dims, lengths = {'text': 12, 'audio': 5, 'vision': 7}, {'text': 10, 'audio': 20, 'vision': 15}
        kw = C.paper_space_kwargs(d_model=32, n_blocks=2, n_heads=4, fusion_width=32, attention_chunks=4)
    else:
        dims, lengths = C.MOSI_DIMS, C.MOSI_LENGTHS
        kw = C.paper_space_kwargs()
    torch.manual_seed(0)
    space = RMNASSpace(dims, lengths, level='sentence', out_dim=1, **kw)
    strategy = build_strategy(load_strategy_config(str(C.ROOT / 'strategies' / 'darts.yml')), seed=0)
    supernet = strategy.mutate_model(space)
    supernet.train()
    batch_data = C.synthetic_batch(dims, lengths, batch)
    inputs, masks = batch_data['inputs'], batch_data['masks']
    n_params = sum(p.numel() for p in supernet.parameters())

    def forward():
        out = supernet(inputs, masks)
        del out

    def lst_only():
        for m, enc in supernet.encoders.items():
            x = inputs[m] * masks[m].unsqueeze(-1).to(inputs[m].dtype)
            enc.lst(x, masks[m])

    t = C.interleaved({'supernet_forward': forward, 'lst_forward_all_modalities': lst_only}, reps=reps, warmup=1,
                      progress='supernet forward vs LST')
    fwd, lst_t = C.median(t['supernet_forward']), C.median(t['lst_forward_all_modalities'])
    share = lst_t / fwd
    res.row(n='mosi', batch=batch, supernet_params=n_params, supernet_forward_s=fwd, lst_forward_s=lst_t,
            lst_share=share, supernet_forward_all=t['supernet_forward'], lst_all=t['lst_forward_all_modalities'])
    print(f'supernet ({n_params / 1e6:.1f}M parameters) forward at MOSI sizes, batch {batch}: {fwd:.3f} s; '
          f'LST of the 3 modalities {lst_t * 1e3:.1f} ms = {100 * share:.2f}% of the forward', flush=True)
    res.goal('LST share of one supernet forward (MOSI sizes)', 100 * share, '<=', 10, '%')


def main(argv=None):
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[16, 64, 256, 512])
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--heads', type=int, default=8)
    p.add_argument('--in-dim', type=int, default=20)
    p.add_argument('--full-max', type=int, default=256, help='largest N whose Algorithm 1 loop is timed in full')
    p.add_argument('--pairs', type=int, default=3000, help='sampled pairs for the Algorithm 1 estimate')
    p.add_argument('--skip-share', action='store_true', help='skip the supernet-forward share')
    p.add_argument('--share-reps', type=int, default=None,
                   help='interleaved repetitions of the paper-sized supernet forward (default 3)')
    args = p.parse_args(argv)
    C.setup(args.threads)
    res = C.Results('lst_cost', args)
    if args.smoke:
        args.sizes, args.full_max, args.pairs = [8, 16], 16, 50
    reps = args.reps or (1 if args.smoke else 5)
    print(f'LST cost: batch {args.batch}, {args.heads} heads, D={args.in_dim}, threads {args.threads}', flush=True)
    trends_vs_loop(res, args.sizes, args.batch, args.heads, args.in_dim, args.full_max, args.pairs, reps)
    if not args.skip_share:
        lst_share(res, args.batch, args.share_reps or (1 if args.smoke else 3), args.smoke)
    res.write(args.json, args.csv)


if __name__ == '__main__':
    main()
