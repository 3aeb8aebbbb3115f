#!/usr/bin/env python
"""Threads on a shared machine: one DARTS search step of the quickstart supernet at 1, 2, ... torch threads.

The step (an architecture step and a weight step of the ``search_spaces/tiny.yml``
supernet on a batch of 32 quickstart-sized samples) runs in a fresh subprocess per
setting, because OpenMP reads ``OMP_WAIT_POLICY`` only at start-up. Settings:
``--threads-list`` thread counts with the default OpenMP wait policy, and the same
counts above 1 with ``OMP_WAIT_POLICY=PASSIVE`` (idle threads sleep instead of
spinning). The settings run in rotating order for ``--rounds`` rounds; each
subprocess reports the median of ``--steps`` steps after one warm-up step. Reported:
seconds per step of each setting (median over rounds) and its ratio to 1 thread.
When other jobs occupy the cores, more threads than free cores make OpenMP's
spinning threads wait on each other; this shows by how much.

    python bench/threads.py [--threads-list 1 2] [--json ...]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import _common as C


def worker(steps: int) -> None:
    import torch
    from rmnas_nni.config import load_space_config, space_kwargs
    from search_vs_retrain import build, make_steps
    C.setup(torch.get_num_threads())                    # the count the parent asked for, via OMP_NUM_THREADS
    kw = space_kwargs(load_space_config(str(C.ROOT / 'search_spaces' / 'tiny.yml')))
    dims, lengths = {'text': 24, 'audio': 8, 'vision': 16}, {'text': 16, 'audio': 40, 'vision': 24}
    batch = C.synthetic_batch(dims, lengths, 32)
    model, w_opt, a_opt, weights = build('supernet', False, shape=(dims, lengths, kw))
    _, search_step = make_steps(model, w_opt, a_opt, weights, batch)
    search_step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        search_step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({'threads': torch.get_num_threads(), 'step_s': C.median(times), 'all_s': times}))


def main(argv=None):
    p = C.base_parser(__doc__.splitlines()[0])
    p.add_argument('--threads-list', type=int, nargs='+', default=[1, os.cpu_count() or 2])
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--worker', action='store_true', help=__import__('argparse').SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.steps)
    C.setup(args.threads)                       # this process only starts the workers
    res = C.Results('threads', args)
    if args.smoke:
        args.rounds, args.steps = 1, 1
    settings = [(n, None) for n in args.threads_list] + [(n, 'PASSIVE') for n in args.threads_list if n > 1]
    out = {s: [] for s in settings}
    print(f'threads: tiny supernet search step at {args.threads_list} threads (default and PASSIVE OpenMP wait), '
          f'{args.rounds} rounds; load average {os.getloadavg()[0]:.2f}', flush=True)
    for r in range(args.rounds):
        order = settings[r % len(settings):] + settings[:r % len(settings)]
        for n, policy in order:
            env = dict(os.environ, OMP_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n), PYTHONWARNINGS='ignore')
            env.pop('OMP_WAIT_POLICY', None)
            if policy:
                env['OMP_WAIT_POLICY'] = policy
            proc = subprocess.run([sys.executable, __file__, '--worker', '--steps', str(args.steps)],
                                  capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                raise SystemExit(f'worker failed:\n{proc.stderr[-2000:]}')
            rec = json.loads(proc.stdout.strip().splitlines()[-1])
            out[(n, policy)].append(rec['step_s'])
            print(f'  round {r + 1}: {n} thread(s){", OMP_WAIT_POLICY=" + policy if policy else ""}: '
                  f'{rec["step_s"]:.3f} s/step', flush=True)
    base = C.median(out[(1, None)]) if (1, None) in out else None
    for (n, policy), v in out.items():
        med = C.median(v)
        res.row(threads=n, omp_wait_policy=policy or 'default', step_s=med, all_rounds_s=v,
                ratio_to_1_thread=(med / base) if base else None)
        print(f'{n} thread(s), OMP_WAIT_POLICY {policy or "default"}: {med:.3f} s/step'
              + (f' ({med / base:.2f}x the 1-thread time)' if base else ''))
    res.write(args.json, args.csv)


if __name__ == '__main__':
    main()
