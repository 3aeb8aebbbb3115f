"""Shared helpers of the benchmark scripts: machine record, interleaved timing, goals, result files.

Every benchmark sets its torch thread count explicitly (``--threads``, default 1), measures the quantities it compares side by side in the same
process, alternating their order on each repetition, and reports medians. The
machine record (date, CPU, cores, threads, BLAS, load average at start and end)
goes with every result file, so a figure can always be traced to its conditions.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:                      # the checkout's package wins over any installed copy
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

__all__ = ['ROOT', 'base_parser', 'setup', 'machine', 'blas_name', 'interleaved', 'median', 'Results',
           'synthetic_batch', 'paper_space_kwargs', 'MOSI_DIMS', 'MOSI_LENGTHS']

#: MOSI unaligned feature widths and sequence lengths (MMSA's unaligned_50.pkl).
MOSI_DIMS = {'text': 768, 'audio': 5, 'vision': 20}
MOSI_LENGTHS = {'text': 50, 'audio': 375, 'vision': 500}


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--threads', type=int, default=1,
                   help='torch intra-op threads (default 1: on a machine whose cores are shared with other jobs, '
                        'more threads than free cores make OpenMP spin and the timings meaningless)')
    p.add_argument('--reps', type=int, default=None, help='timed repetitions of each measurement (median reported)')
    p.add_argument('--json', type=Path, default=None, help='write the results as JSON here')
    p.add_argument('--csv', type=Path, default=None, help='write the result rows as CSV here')
    p.add_argument('--smoke', action='store_true',
                   help='tiny sizes, one repetition: checks that the script runs, measures nothing meaningful')
    return p


def setup(threads: int) -> None:
    """Fix the thread count (and quiet NNI / Lightning)."""
    torch.set_num_threads(int(threads))
    os.environ.setdefault('PYTHONWARNINGS', 'ignore')
    from rmnas_nni.pipeline import quiet_libraries
    quiet_libraries()


def blas_name() -> str:
    """The BLAS torch was built with, from ``torch.__config__.show()``."""
    text = torch.__config__.show()
    for line in text.splitlines():
        line = line.strip(' -')
        if 'Math Kernel Library' in line or 'OpenBLAS' in line or line.startswith('BLAS'):
            return line
    info = [x for x in text.replace(',', '\n').splitlines() if 'BLAS_INFO' in x]
    return info[0].strip() if info else 'unknown'


def _cpu_model() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def _load() -> List[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> Dict[str, Any]:
    """Date, CPU, cores, threads, BLAS, library versions and the current load average."""
    import numpy
    rec = {'date': _dt.datetime.now().astimezone().isoformat(timespec='seconds'),
           'host_cpu': _cpu_model(), 'nproc': os.cpu_count(), 'torch_threads': torch.get_num_threads(),
           'torch': torch.__version__, 'numpy': numpy.__version__, 'python': platform.python_version(),
           'blas': blas_name(), 'cpu_capability': torch.backends.cpu.get_cpu_capability(),
           'load_avg_1_5_15': _load(), 'cuda': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    return rec


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def interleaved(fns: Dict[str, Callable[[], Any]], reps: int, warmup: int = 1,
                sync: Optional[Callable[[], None]] = None, progress: Optional[str] = None) -> Dict[str, List[float]]:
    """Time each callable ``reps`` times, alternating which runs first (A B, B A, A B, ...).

    Returns ``{name: [seconds per repetition]}``. ``warmup`` untimed calls of each come first.
    """
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    times: Dict[str, List[float]] = {n: [] for n in names}
    t_start = time.perf_counter()
    for r in range(reps):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            if sync:
                sync()
            t0 = time.perf_counter()
            fns[n]()
            if sync:
                sync()
            times[n].append(time.perf_counter() - t0)
        if progress:
            el = time.perf_counter() - t_start
            print(f'  {progress}: repetition {r + 1}/{reps}, elapsed {el:.0f}s, '
                  f'about {el / (r + 1) * (reps - r - 1):.0f}s left', flush=True)
    return times


def paired_ratio(num: Sequence[float], den: Sequence[float]) -> float:
    """Median of the per-repetition ratios ``num[i] / den[i]`` (robust to slow drifts of the load)."""
    return median([a / b for a, b in zip(num, den)])


def paper_space_kwargs(**overrides) -> Dict[str, Any]:
    """:class:`~rmnas_nni.space.RMNASSpace` keyword arguments of ``search_spaces/rmnas.yml`` (the paper's space)."""
    from rmnas_nni.config import load_space_config, space_kwargs
    kw = space_kwargs(load_space_config(str(ROOT / 'search_spaces' / 'rmnas.yml')))
    kw.update(overrides)
    return kw


def synthetic_batch(dims: Dict[str, int], lengths: Dict[str, int], batch: int, seed: int = 0,
                    device: str = 'cpu', dtype=torch.float32) -> Dict[str, Any]:
    """A sentence-level batch of random features with every token real (the longest case)."""
    g = torch.Generator().manual_seed(seed)
    inputs = {m: torch.randn(batch, lengths[m], d, generator=g).to(device=device, dtype=dtype)
              for m, d in dims.items()}
    masks = {m: torch.ones(batch, lengths[m], dtype=torch.bool, device=device) for m in dims}
    label = (torch.rand(batch, generator=g) * 6 - 3).to(device)
    return {'inputs': inputs, 'masks': masks, 'label': label,
            'label_mask': torch.ones(batch, dtype=torch.bool, device=device),
            'index': torch.arange(batch, device=device)}


def fmt_goal(value: float, op: str, goal: float) -> str:
    met = value >= goal if op == '>=' else value <= goal
    return f"goal {op} {goal:g}: {'met' if met else 'NOT met'}"


class Results:
    """Collects result rows and goals, prints them, writes JSON / CSV."""

    def __init__(self, benchmark: str, args: Optional[argparse.Namespace] = None, command: Optional[str] = None):
        self.benchmark = benchmark
        self.args = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()} if args else {}
        self.command = command or ' '.join(['python'] + [str(a) for a in sys.argv])
        self.machine_start = machine()
        self.rows: List[Dict[str, Any]] = []
        self.goals: List[Dict[str, Any]] = []
        self.notes: List[str] = []
        self.t0 = time.perf_counter()

    def row(self, **values) -> Dict[str, Any]:
        self.rows.append(values)
        return values

    def goal(self, name: str, value: float, op: str, target: float, unit: str = '') -> bool:
        met = bool(value >= target if op == '>=' else value <= target)
        self.goals.append({'name': name, 'value': float(value), 'op': op, 'goal': float(target), 'unit': unit,
                           'met': met})
        print(f'GOAL {name}: {value:.4g}{unit} ({op} {target:g}{unit}): {"met" if met else "NOT met"}', flush=True)
        return met

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f'note: {text}', flush=True)

    def payload(self) -> Dict[str, Any]:
        end = machine()
        return {'benchmark': self.benchmark, 'command': self.command, 'args': self.args,
                'smoke': bool(self.args.get('smoke')), 'machine': self.machine_start,
                'load_avg_at_end': end['load_avg_1_5_15'], 'wall_seconds': round(time.perf_counter() - self.t0, 1),
                'goals': self.goals, 'rows': self.rows, 'notes': self.notes}

    def write(self, json_path: Optional[Path] = None, csv_path: Optional[Path] = None) -> Dict[str, Any]:
        from rmnas_nni.rundir import atomic_write_json, atomic_write_text
        payload = self.payload()
        m = payload['machine']
        print(f"machine: {m['host_cpu']}, nproc {m['nproc']}, torch threads {m['torch_threads']}, "
              f"{m['blas']}; load average {m['load_avg_1_5_15']} at start, {payload['load_avg_at_end']} at end; "
              f"{payload['wall_seconds']}s", flush=True)
        if json_path:
            Path(json_path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(Path(json_path), payload)
            print(f'results -> {json_path}')
        if csv_path:
            import pandas as pd
            Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(Path(csv_path), pd.DataFrame(self.rows).to_csv(index=False))
            print(f'rows -> {csv_path}')
        return payload
