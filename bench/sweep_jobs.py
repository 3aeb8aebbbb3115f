#!/usr/bin/env python
"""Sweep throughput against ``--jobs``: the same small sweep at 1, 2, ... jobs, side by side in one run.

Each setting runs ``rmnas sweep`` from scratch (a fresh output directory) on the
same cells: real CMU-MOSI at dialogue level (``examples/mosi_dialogue.yml``, the
CPU-sized space), ``--rates`` x ``--seeds``, variant ``full``, one torch thread per
cell (``--set threads=1``, so the cells compute the same numbers at every setting).
Reported per setting: wall seconds, cells per hour, and the speed-up over one job;
the test metrics of every cell are compared across settings (they must be equal).
The machine's cores and load average are recorded: on a machine whose cores are
busy with other work, the curve flattens where the free cores run out.

    python bench/sweep_jobs.py [--jobs-list 1 2] [--rates 0 0.3 0.5 0.7] [--seeds 0] [--json ...]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_setting(jobs: int, rates, seeds, out: Path) -> float:
    cmd = [sys.executable, '-m', 'rmnas_nni.cli', 'sweep', '-c', 'examples/mosi_dialogue.yml',
           '--rates', *map(str, rates), '--seeds', *map(str, seeds), '--variants', 'full',
           '--set', 'threads=1', '--jobs', str(jobs), '--out', str(out), '-q']
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f'sweep --jobs {jobs} failed:\n{r.stderr[-2000:]}')
    return time.perf_counter() - t0


def cell_metrics(out: Path):
    return {p.parent.name: json.loads(p.read_text())['test'] for p in sorted((out / 'cells' / 'full').glob('*/metrics.json'))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--jobs-list', nargs='+', type=int, default=[1, 2])
    ap.add_argument('--rates', nargs='+', type=float, default=[0.0, 0.3, 0.5, 0.7])
    ap.add_argument('--seeds', nargs='+', type=int, default=[0])
    ap.add_argument('--json', default=str(ROOT / 'bench' / 'results' / 'sweep_jobs.json'))
    args = ap.parse_args()
    n_cells = len(args.rates) * len(args.seeds)
    rows, metrics = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in args.jobs_list:
            load = os.getloadavg()[0]
            seconds = run_setting(jobs, args.rates, args.seeds, Path(tmp) / f'jobs{jobs}')
            metrics[jobs] = cell_metrics(Path(tmp) / f'jobs{jobs}')
            rows.append({'jobs': jobs, 'cells': n_cells, 'seconds': round(seconds, 1),
                         'cells_per_hour': round(3600 * n_cells / seconds, 1), 'load_before': round(load, 2)})
            print(f'--jobs {jobs}: {n_cells} cells in {seconds:.0f} s ({3600 * n_cells / seconds:.1f} cells/hour)',
                  flush=True)
    base = rows[0]['seconds']
    for row in rows:
        row['speedup'] = round(base / row['seconds'], 2)
    same = all(metrics[j] == metrics[args.jobs_list[0]] for j in args.jobs_list)
    record = {'cores': os.cpu_count(), 'rates': args.rates, 'seeds': args.seeds, 'rows': rows,
              'identical_test_metrics': same}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=1) + '\n')
    print('| jobs | cells | seconds | cells/hour | speed-up | load before |\n|---|---|---|---|---|---|')
    for row in rows:
        print(f"| {row['jobs']} | {row['cells']} | {row['seconds']} | {row['cells_per_hour']} | {row['speedup']} | "
              f"{row['load_before']} |")
    print(f'test metrics identical across settings: {same}')


if __name__ == '__main__':
    main()
