"""Robustness sweeps: search and retrain at every missing rate, for several seeds and ablation variants.

The paper searches per scenario: at each missing rate the architecture is searched
on data with that rate of missing modalities, retrained and tested. A sweep runs one
**cell** per ``(variant, rate, seed)``, each a complete run directory, and
summarises them in one table: every cell, mean ± std over seeds per rate, and per
variant the **AUILC** (trapezoid over the rates from r = 0, :func:`~rmnas_nni.metrics.auilc`)
and the **mean over rates** of every test metric.

Layout of a sweep directory::

    SWEEP/
      sweep.yaml         the base config (resolved), rates, seeds, variants
      log.txt            the sweep's progress lines
      cells/<variant>/r<rate>-s<seed>/   one run directory per cell (see rmnas_nni.rundir)
      sweep.csv          the table (long form: variant, rate, seed, stat, metrics)
      sweep.md           the same as Markdown: a summary (mean ± std) and every cell
      plots/<metric>.png metric against missing rate, one line per variant, AUILC in the legend

What varies between cells: ``data.missing.rate`` (the rate), ``seed`` (weights
initialisation, shuffling, search) and the variant's config transform
(:mod:`rmnas_nni.ablations`). The data and the missing-modality masks of a rate are
the same for every seed and variant (the protocols draw them from fixed seeds).

**Restarting.** A cell is finished when its ``metrics.json`` exists. Running the same
sweep again into the same directory (or ``rmnas sweep --resume SWEEP``) skips the
finished cells, continues an interrupted cell from its checkpoints, and rebuilds the
table and plots. The sweep may be extended (more rates, seeds or variants) the same
way. A cell whose stored config differs from the one the sweep would run is an
error: nothing is silently mixed. ``device`` and ``threads`` may differ.

A cell whose training diverges (non-finite loss) is reported and left out of the
table; the others go on.

**Through NNI.** ``rmnas sweep --nni`` runs the unfinished cells as the trials of an
NNI experiment (:mod:`rmnas_nni.sweep_nni`, through ``run_sweep(cell_runner=...)``);
everything else here is the same.

**Baselines.** ``rmnas sweep --baseline NAME=CSV`` (:func:`load_baseline`) adds
another model's per-rate test metrics to the table and plots as a variant ``NAME``,
aggregated exactly as the sweep's variants (AUILC per seed, then mean ± std).
"""
from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .ablations import apply_variant, check_variant, expand_variants, variant_label
from .config import MACHINE_KEYS, PROJECT_ROOT, RunConfig, SweepConfig, check_missing_rate, dump_yaml, load_yaml, run_config
from .errors import ConfigError, NonFiniteLossError, RunDirError, read_input
from .figures import plot_metric_vs_rate
from .metrics import DISPLAY_NAMES, auilc, mean_over_rates, metric_functions
from .nni_compat import quiet_libraries
from .rundir import Tee, atomic_write_text, format_duration, remove_output_dir

__all__ = ['PAPER_RATES', 'SweepCell', 'SweepSpec', 'resolve_sweep', 'default_rates', 'plan_cells', 'run_sweep',
           'collect_results', 'aggregate', 'write_markdown', 'write_plots', 'SweepResult', 'load_sweep',
           'load_baseline', 'check_baselines', 'with_baselines']

PAPER_RATES = {
    'sentence': [round(0.1 * i, 1) for i in range(11)],       # MOSI / MOSEI: 0.0 ... 1.0
    'sims': [round(0.1 * i, 1) for i in range(6)],            # CH-SIMS: 0.0 ... 0.5
    'dialogue': [round(0.1 * i, 1) for i in range(8)],        # GCNet protocol: 0.0 ... 0.7
}
IGNORED_KEYS = MACHINE_KEYS
RAW_METRICS = ('mae', 'corr')          # printed with 4 decimals; the others are percentages


@dataclass
class SweepSpec:
    """What a sweep runs: rates (None: the paper's for the protocol), seeds, variants."""
    rates: Optional[List[float]]
    seeds: List[int]
    variants: List[str]


@dataclass
class SweepCell:
    variant: str
    rate: float
    seed: int
    cfg: RunConfig
    path: Path

    @property
    def name(self) -> str:
        return f'{self.variant} r={self.rate:g} seed={self.seed}'


@dataclass
class SweepResult:
    """What a sweep leaves: the table, its files, and what happened to each cell."""
    sweep_dir: Path
    table: Any
    results: Any
    ran: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: Dict[str, str] = field(default_factory=dict)
    files: Dict[str, Path] = field(default_factory=dict)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def resolve_sweep(cfg: RunConfig, rates: Optional[Sequence[float]] = None, seeds: Optional[Sequence[int]] = None,
                  variants: Optional[Sequence[str]] = None, source: str = '<config>') -> SweepSpec:
    """The sweep of a run config's ``sweep`` section, with ``--rates`` / ``--seeds`` / ``--variants`` on top.

    Raises
    ------
    ConfigError
        A rate outside [0, 1] or given twice, a negative or repeated seed, an unknown variant.
    """
    section = cfg.sweep
    where = {'rates': '--rates' if rates is not None else f"{source}: key 'sweep.rates'",
             'seeds': '--seeds' if seeds is not None else f"{source}: key 'sweep.seeds'",
             'variants': '--variants' if variants is not None else f"{source}: key 'sweep.variants'"}
    rates = list(rates) if rates is not None else section.rates
    seeds = list(seeds) if seeds is not None else section.seeds
    variants = list(variants) if variants is not None else list(section.variants or ['full'])
    variants = expand_variants(variants)              # table7 -> its four rows, in the paper's order
    if rates is not None:
        if not rates:
            raise ConfigError(f"{where['rates']}: must not be empty")
        for r in rates:
            check_missing_rate(r, where['rates'])
        rates = [float(r) for r in rates]
        if len({f'{r:g}' for r in rates}) != len(rates):
            raise ConfigError(f"{where['rates']}: a missing rate is given twice")
        rates = sorted(rates)
    if seeds is None:
        seeds = [int(cfg.seed)]
    if not seeds:
        raise ConfigError(f"{where['seeds']}: must not be empty")
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise ConfigError(f"{where['seeds']}: seed {s!r}: must be a non-negative integer")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"{where['seeds']}: a seed is given twice")
    if not variants:
        raise ConfigError(f"{where['variants']}: must not be empty")
    for v in variants:
        check_variant(v, where['variants'])
    if len(set(variants)) != len(variants):
        raise ConfigError(f"{where['variants']}: a variant is given twice")
    return SweepSpec(rates, [int(s) for s in seeds], [str(v) for v in variants])


def default_rates(protocol: str, kind: str) -> List[float]:
    """The paper's sweep: 0.0 ... 1.0 (sentence level), 0.0 ... 0.5 (CH-SIMS), 0.0 ... 0.7 (dialogue)."""
    if protocol == 'dialogue':
        return list(PAPER_RATES['dialogue'])
    return list(PAPER_RATES['sims' if kind == 'sims' else 'sentence'])


def _cell_dir(sweep_dir: Path, variant: str, rate: float, seed: int) -> Path:
    return sweep_dir / 'cells' / variant / f'r{rate:g}-s{seed}'


def cell_config(base: RunConfig, variant: str, rate: float, seed: int) -> RunConfig:
    """The run config of one cell: the base config at ``rate`` and ``seed``, with the variant applied."""
    cfg = apply_variant(base, variant)
    cfg.sweep = SweepConfig()                # a cell is one run; what to sweep belongs to the sweep
    cfg.seed = int(seed)
    cfg.data.missing.rate = float(rate)
    cfg.name = f"{base.name}-{variant}-r{rate:g}-s{seed}"
    return cfg


def plan_cells(base: RunConfig, rates: Sequence[float], spec: SweepSpec, sweep_dir: Path) -> List[SweepCell]:
    """Every cell, rate by rate (so the data of a rate is prepared once), then variant, then seed."""
    return [SweepCell(v, r, s, cell_config(base, v, r, s), _cell_dir(sweep_dir, v, r, s))
            for r in rates for v in spec.variants for s in spec.seeds]


def _normalised(cfg: RunConfig) -> Dict:
    """A config as it reads back from YAML, without the keys that may differ between machines."""
    import yaml
    out = yaml.safe_load(dump_yaml(cfg))
    for key in IGNORED_KEYS:
        out.pop(key, None)
    return out


def _first_difference(a: Any, b: Any, prefix: str = '') -> Optional[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f'{prefix}{key}'
            d = _first_difference(a[key], b[key], f'{prefix}{key}.')
            if d:
                return d
        return None
    return None if a == b else prefix.rstrip('.') or '<top level>'


def _check_same(stored: RunConfig, expected: RunConfig, where: Path, what: str) -> None:
    diff = _first_difference(_normalised(stored), _normalised(expected))
    if diff is not None:
        raise RunDirError(f"{where}: key '{diff}': {what} was run with another config than this sweep asks for; "
                          f'choose another --out, or pass --overwrite to start the sweep again')


def load_sweep(sweep_dir: os.PathLike | str) -> tuple:
    """``(base config, SweepSpec)`` stored in a sweep directory's ``sweep.yaml``."""
    path = Path(sweep_dir) / 'sweep.yaml'
    if not path.is_file():
        raise RunDirError(f'{path}: file not found (not a sweep directory)')
    data = load_yaml(path)
    if not isinstance(data, dict) or not {'config', 'rates', 'seeds', 'variants'} <= set(data):
        raise RunDirError(f'{path}: not a sweep written by rmnas')
    return run_config(data['config'], f'{path} (config)'), SweepSpec(data['rates'], data['seeds'], data['variants'])


def _open_sweep_dir(sweep_dir: Path, base: RunConfig, overwrite: bool, resume: bool) -> bool:
    """Create the sweep directory, or reopen it when it holds the same sweep. Returns True if reopened."""
    if resume:
        if not (sweep_dir / 'sweep.yaml').is_file():
            raise RunDirError(f'{sweep_dir}: not a sweep directory to resume (no sweep.yaml)')
        return True
    if sweep_dir.exists() and any(sweep_dir.iterdir()):
        if overwrite:
            remove_output_dir(sweep_dir, 'sweep.yaml', 'sweep')
        elif (sweep_dir / 'sweep.yaml').is_file():
            stored, _ = load_sweep(sweep_dir)
            _check_same(stored, base, sweep_dir / 'sweep.yaml', 'this sweep directory')
            return True
        else:
            raise RunDirError(f'{sweep_dir}: directory exists and is not a sweep; choose another --out, '
                              f'or pass --overwrite')
    sweep_dir.mkdir(parents=True, exist_ok=True)
    return False


def _visible_gpus(base: RunConfig) -> int:
    """GPUs the ``--jobs`` workers spread over (none when the config asks for the CPU)."""
    if base.device == 'cpu':
        return 0
    import torch                 # deferred: torch takes seconds to import
    return torch.cuda.device_count()


def _release_memory() -> None:
    """Free the finished cell's supernet and trainer before the next cell (GPU memory above all)."""
    import gc
    import torch
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _headline(metrics: Dict[str, float], select: str) -> str:
    keys = [select] + [k for k in ('corr', 'acc2_non0', 'acc2', 'waf', 'acc') if k in metrics and k != select]
    return ', '.join(f'{k} {metrics[k]:.4f}' if k in RAW_METRICS else f'{k} {metrics[k]:.2f}' for k in keys[:3])


PARENT_GONE_EXIT = 4
"""Exit status of a ``--jobs`` worker that ended because the sweep's process was gone (distinct from
the command's own 2, 3 and 130)."""


def _watch_parent(parent_pid: int) -> None:
    """End this worker at once (:data:`PARENT_GONE_EXIT`) when the sweep's process is gone, whatever
    killed it (SIGKILL included): else the worker would finish its cell into the sweep directory and
    then wait forever for the next one. The parent's sentinel (a pipe, or a process handle on Windows)
    signals its end; the parent pid changing (the worker adopted by another process) is checked too."""
    parent = multiprocessing.parent_process()
    while True:
        if parent is not None:
            parent.join(0.5)
            gone = not parent.is_alive()
        else:
            time.sleep(0.5)
            gone = False
        if gone or os.getppid() != parent_pid:
            try:
                os.write(2, f'rmnas sweep: worker {os.getpid()}: the sweep process {parent_pid} is gone; '
                            f'stopping\n'.encode())
            except OSError:
                pass
            os._exit(PARENT_GONE_EXIT)


def _start_worker(slots, n_gpus: int, threads: int) -> None:
    """A ``--jobs`` worker process: its own GPU (round robin over the visible ones, chosen
    before torch is imported) and its share of the CPU threads. It ends by itself when the
    sweep's process is gone (:func:`_watch_parent`)."""
    threading.Thread(target=_watch_parent, args=(os.getppid(),), name='rmnas-watch-parent', daemon=True).start()
    slot = slots.get()
    if n_gpus > 0:
        os.environ['CUDA_VISIBLE_DEVICES'] = str(slot % n_gpus)
    import torch                 # deferred: after CUDA_VISIBLE_DEVICES is set
    if threads > 0:
        torch.set_num_threads(threads)


def _run_cell(cfg: RunConfig, path: Path, resume: bool) -> Dict:
    """One cell in a ``--jobs`` worker: ``{'summary': ...}`` or ``{'failed': message}``.

    The cell's epochs go to its own ``log.txt`` only: several cells print at once."""
    quiet_libraries()            # before NNI is imported: its import-time warnings too
    from .pipeline import prepare_data, run
    try:
        summary = run(cfg, path, resume=resume, overwrite=not resume, quiet=True, data=prepare_data(cfg))
    except NonFiniteLossError as exc:
        return {'failed': str(exc)}
    finally:
        _release_memory()
    return {'summary': {k: summary[k] for k in ('test', 'constant_prediction') if k in summary}}


def _threads_per_job(base: RunConfig, jobs: int) -> int:
    """The config's ``threads``, else the machine's cores shared out between the jobs."""
    if base.threads:
        return 0                 # every cell sets its own (pipeline)
    return max(1, (os.cpu_count() or 1) // jobs)


def run_sweep(base: RunConfig, spec: SweepSpec, sweep_dir: os.PathLike | str, *, overwrite: bool = False,
              resume: bool = False, quiet: bool = False, printer=print,
              baselines: Optional[Dict[str, Any]] = None, jobs: int = 1, cell_runner=None) -> SweepResult:
    """Run every cell not yet finished, then write the table and the plots.

    Parameters
    ----------
    base
        The resolved run config every cell starts from (:func:`~rmnas_nni.pipeline.load_config`).
    spec
        Rates, seeds and variants (:func:`resolve_sweep`).
    sweep_dir
        Where everything goes. An existing sweep of the same base config is continued.
    overwrite
        Delete an existing directory first.
    resume
        ``sweep_dir`` must already hold a sweep (``rmnas sweep --resume``).
    quiet
        Only the sweep's own progress lines, not every epoch of every cell.
    baselines
        ``{name: frame}`` of :func:`load_baseline`: other models' per-rate test
        metrics, added to the table and plots as variants ``name`` (checked against
        the sweep's metrics and rates before any cell runs; not stored in the sweep).
    jobs
        Cells run at once, each in a process of its own, spread over the visible GPUs
        (round robin) or sharing the CPU cores (``threads`` of the config, else the
        cores divided by ``jobs``). A cell gives the same numbers as when run alone
        with the same thread count; the table is written once, at the end.
    cell_runner
        Runs the unfinished cells elsewhere instead of here (``rmnas sweep --nni``,
        :func:`rmnas_nni.sweep_nni.nni_cell_runner`): called as ``cell_runner(base,
        cells, sweep_dir, printer)``, it returns ``{cell name: {'summary': metrics} or
        {'failed': message}}``, or None when it leaves them to run later (the table
        then holds the finished cells).
    """
    from .data.missing import check_protocol_rate, resolve_protocol   # deferred: the data package loads torch
    from .pipeline import prepare_data, run, select_metric_of

    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ConfigError(f'--jobs {jobs}: must be a positive whole number')
    sweep_dir = Path(sweep_dir)
    base = base.copy()
    base.sweep = SweepConfig()                 # the sweep itself is stored beside it
    # validate everything (data included) before touching the directory
    probe_rate = spec.rates[0] if spec.rates else 0.0
    probe_cfg = cell_config(base, spec.variants[0], probe_rate, spec.seeds[0])
    data_at = {probe_rate: prepare_data(probe_cfg)}
    data = data_at[probe_rate][0]
    kind, select = select_metric_of(probe_cfg, data)
    protocol = resolve_protocol(base.data.missing.protocol, data.level)
    rates = spec.rates if spec.rates is not None else default_rates(protocol, kind)
    for r in rates:
        check_protocol_rate(r, protocol, f'rates: {r:g}')
    spec = SweepSpec(list(rates), list(spec.seeds), list(spec.variants))
    baselines = check_baselines(baselines or {}, kind, rates, spec.variants)
    cells = plan_cells(base, rates, spec, sweep_dir)
    reopened = _open_sweep_dir(sweep_dir, base, overwrite, resume)
    atomic_write_text(sweep_dir / 'sweep.yaml', dump_yaml(
        {'rates': spec.rates, 'seeds': spec.seeds, 'variants': spec.variants, 'config': base.to_dict()}))
    printer = Tee(sweep_dir / 'log.txt', echo=printer)

    n = len(cells)
    finished = [(c.path / 'metrics.json').is_file() for c in cells]
    for c, done in zip(cells, finished):
        if done or (c.path / 'config.yaml').is_file():
            from .pipeline import load_run
            _check_same(load_run(c.path), c.cfg, c.path / 'config.yaml', f'cell {c.name}')
    printer(f"sweep: {n} cells = {len(spec.variants)} variant(s) [{', '.join(spec.variants)}] x "
            f"{len(rates)} rate(s) [{', '.join(f'{r:g}' for r in rates)}] x {len(spec.seeds)} seed(s) "
            f"[{', '.join(map(str, spec.seeds))}]; {sum(finished)} already finished"
            + (f'; continuing {sweep_dir}' if reopened else f'; into {sweep_dir}'))
    result = SweepResult(sweep_dir, None, None)
    t0 = time.perf_counter()
    durations: List[float] = []
    todo = n - sum(finished)
    pending = []
    for k, (cell, done) in enumerate(zip(cells, finished), 1):
        if done:
            printer(f'sweep: cell {k}/{n} {cell.name}: already finished, skipped')
            result.skipped.append(cell.name)
        else:
            pending.append((k, cell))

    def finished_cell(k: int, cell: SweepCell, outcome: Dict, dt: float) -> None:
        nonlocal todo
        todo -= 1
        if 'failed' in outcome:
            result.failed[cell.name] = outcome['failed']
            printer(f"sweep: cell {k}/{n} {cell.name}: FAILED: {outcome['failed']}")
            return
        durations.append(dt)
        result.ran.append(cell.name)
        summary = outcome['summary']
        constant = ' (constant prediction: learned nothing)' if summary.get('constant_prediction') else ''
        printer(f"sweep: cell {k}/{n} {cell.name}: done in {format_duration(dt)}; test {_headline(summary['test'], select)}"
                + constant)

    def eta() -> str:
        return (f'about {format_duration(np.mean(durations) * todo / jobs)} left' if durations
                else 'estimate after the first cell')

    if cell_runner is not None:
        outcomes = cell_runner(base, [cell for _, cell in pending], sweep_dir, printer) if pending else {}
        if outcomes is None:
            printer(f'sweep: {len(pending)} cell(s) not finished, left out of the table')
        for k, cell in pending if outcomes is not None else []:
            outcome = outcomes.get(cell.name, {'failed': 'no outcome'})
            finished_cell(k, cell, outcome, float(outcome.get('seconds', 0.0)))
    elif jobs == 1:
        for k, cell in pending:
            printer(f'sweep: cell {k}/{n} {cell.name}: running (elapsed {format_duration(time.perf_counter() - t0)}, '
                    f'{eta()})')
            if cell.rate not in data_at:
                data_at = {cell.rate: prepare_data(cell.cfg)}
            started = (cell.path / 'config.yaml').is_file()
            tc = time.perf_counter()
            try:
                summary = run(cell.cfg, cell.path, resume=started, overwrite=not started, quiet=quiet,
                              data=data_at[cell.rate])
                outcome = {'summary': summary}
            except NonFiniteLossError as exc:
                outcome = {'failed': str(exc)}
            finally:
                _release_memory()
            finished_cell(k, cell, outcome, time.perf_counter() - tc)
    elif pending:
        del data_at
        _release_memory()
        context = multiprocessing.get_context('spawn')
        slots = context.Queue()            # given to the workers as they start: no manager process
        for slot in range(jobs):
            slots.put(slot)
        n_gpus = _visible_gpus(base)
        threads = _threads_per_job(base, jobs)
        printer(f'sweep: {min(jobs, len(pending))} cells at a time, each in its own process'
                + (f', over {n_gpus} GPU(s)' if n_gpus else '')
                + (f', {threads} thread(s) each' if threads else '') + '; every cell logs to its log.txt')
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                                 initargs=(slots, n_gpus, threads)) as pool:
            running = {}
            queue = list(pending)
            while queue or running:
                while queue and len(running) < jobs:
                    k, cell = queue.pop(0)
                    started = (cell.path / 'config.yaml').is_file()
                    printer(f'sweep: cell {k}/{n} {cell.name}: running (elapsed '
                            f'{format_duration(time.perf_counter() - t0)}, {eta()})')
                    running[pool.submit(_run_cell, cell.cfg, cell.path, started)] = (k, cell, time.perf_counter())
                done_now, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done_now:
                    k, cell, tc = running.pop(future)
                    finished_cell(k, cell, future.result(), time.perf_counter() - tc)
        slots.close()
    printer(f'sweep: {n} cells: {len(result.ran)} run, {len(result.skipped)} skipped (already finished), '
            f'{len(result.failed)} failed; {format_duration(time.perf_counter() - t0)}')

    result.results = collect_results(cells)
    if result.results.empty:
        printer('sweep: no finished cell, no table')
        return result
    result.table = aggregate(with_baselines(result.results, baselines), rates)
    result.files = write_outputs(result.table, result.results, sweep_dir, base, spec, baselines)
    printer('\n' + summary_text(result.table))
    printer(f'\nsweep directory: {sweep_dir}\n  table: {result.files["csv"]}\n  markdown: {result.files["md"]}'
            f'\n  plots: {sweep_dir / "plots"} ({len(result.files) - 2} PNG)\n  cells: {sweep_dir / "cells"}')
    if result.failed:
        printer(f"sweep: failed cells (left out of the table): {', '.join(result.failed)}")
    return result


# --------------------------------------------------------------------------- tables

def collect_results(cells: Sequence[SweepCell]):
    """One row per finished cell: ``variant, rate, seed`` and its test metrics.

    A ``random_arch`` cell (several random architectures, the best on validation
    kept) adds a second row, variant ``<variant> (median)``: the median test metrics
    of all its architectures. ``constant`` marks a cell whose network predicts a
    constant (it learned nothing).
    """
    import json
    import pandas as pd
    rows = []
    for c in cells:
        path = c.path / 'metrics.json'
        if path.is_file():
            metrics = json.loads(path.read_text())
            rows.append({'variant': c.variant, 'rate': c.rate, 'seed': c.seed, **metrics['test'],
                         'constant': bool(metrics.get('constant_prediction', False))})
            if 'test_median' in metrics:
                rows.append({'variant': f'{c.variant} (median)', 'rate': c.rate, 'seed': c.seed,
                             **metrics['test_median'],
                             'constant': all(x.get('constant_prediction', False) for x in metrics['candidates'])})
    return pd.DataFrame(rows)


def _metric_key(column: str) -> Optional[str]:
    """A metric's key from a CSV column: the key itself (``acc2_non0``) or its display name (``Acc-2 (non0)``)."""
    c = str(column).strip().lower()
    for key, shown in DISPLAY_NAMES.items():
        if c in (key, shown.lower()):
            return key
    return None


def load_baseline(name: str, path: os.PathLike | str):
    """A user's own model's per-rate test metrics, for ``rmnas sweep --baseline NAME=CSV``.

    The CSV has a ``rate`` column (missing rates in [0, 1]), an optional ``seed``
    column (non-negative integers; without it every row is one run, seed 0) and one
    column per metric, named by key (``mae``, ``acc2_non0``) or as the tables show
    it (``MAE``, ``Acc-2 (non0)``). Every value must be a number; a (rate, seed)
    pair may appear once. Returns the rows as a frame (``variant``, ``rate``,
    ``seed`` and the metrics); :func:`check_baselines` then checks them against the
    sweep.

    Raises
    ------
    ConfigError
        One line naming the file and the column.
    """
    import io
    import pandas as pd
    path = Path(path)
    if not str(name).strip() or any(ch in str(name) for ch in '/\\|'):
        raise ConfigError(f'--baseline {name}={path}: the name must be non-empty, without / \\ or |')
    text = read_input(path, ConfigError, text=True)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f'{path}: not a CSV table ({str(exc).splitlines()[0]})') from None
    columns = [str(c).strip() for c in frame.columns]
    frame.columns = columns
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise ConfigError(f"{path}: column '{dup}': given twice")
    if 'rate' not in columns:
        raise ConfigError(f"{path}: column 'rate': missing (the CSV needs rate, optionally seed, and metric "
                          f"columns)")
    metrics = {}
    for c in columns:
        if c in ('rate', 'seed'):
            continue
        key = _metric_key(c)
        if key is None:
            raise ConfigError(f"{path}: column '{c}': not a metric of rmnas (known: "
                              f"{', '.join(_known_metric_names())})")
        if key in metrics.values():
            raise ConfigError(f"{path}: column '{c}': the metric {key} is given twice")
        metrics[c] = key
    if not metrics:
        raise ConfigError(f"{path}: column 'rate': no metric column beside it")
    if frame.empty:
        raise ConfigError(f"{path}: column 'rate': no rows")

    def numbers(column: str):
        out = []
        for k, v in enumerate(frame[column], 2):           # line 1 is the header
            try:
                x = float(v)
            except ValueError:
                raise ConfigError(f"{path}: column '{column}': line {k}: not a number: {v!r}") from None
            if not math.isfinite(x):
                raise ConfigError(f"{path}: column '{column}': line {k}: not a finite number: {v!r}")
            out.append(x)
        return out

    rows = pd.DataFrame({'variant': str(name), 'rate': numbers('rate')})
    for r in rows['rate']:
        check_missing_rate(r, f"{path}: column 'rate'")
    if 'seed' in columns:
        seeds = numbers('seed')
        if any(x < 0 or x != int(x) for x in seeds):
            raise ConfigError(f"{path}: column 'seed': seeds must be non-negative integers")
        rows['seed'] = [int(x) for x in seeds]
    else:
        rows['seed'] = 0
    for c, key in metrics.items():
        rows[key] = numbers(c)
    if rows.duplicated(['rate', 'seed']).any():
        r, sd = rows[rows.duplicated(['rate', 'seed'])].iloc[0][['rate', 'seed']]
        raise ConfigError(f"{path}: column 'rate': rate {r:g} (seed {sd}) appears twice")
    rows.attrs['source'] = str(path)
    rows.attrs['columns'] = {key: c for c, key in metrics.items()}      # metric key -> the CSV's column name
    return rows


def _known_metric_names() -> List[str]:
    return list(DISPLAY_NAMES)


def check_baselines(baselines: Dict[str, Any], kind: str, rates: Sequence[float],
                    variants: Sequence[str]) -> Dict[str, Any]:
    """Check :func:`load_baseline` frames against the sweep: its metrics, its rates, names apart from its variants."""
    sample = metric_functions(kind)(np.zeros(2), np.zeros(2) if kind == 'classification' else np.array([1.0, -1.0]))
    known = [f'{r:g}' for r in rates]
    for name, frame in baselines.items():
        source = frame.attrs.get('source', name)
        if name in variants:
            raise ConfigError(f'--baseline {name}: the sweep has a variant of that name; choose another')
        for m in _metric_columns(frame):
            if m not in sample:
                raise ConfigError(f"{source}: column '{frame.attrs.get('columns', {}).get(m, m)}': not a metric "
                                  f"of this sweep "
                                  f"(it has: {', '.join(sample)})")
        for r in frame['rate']:
            if f'{r:g}' not in known:
                raise ConfigError(f"{source}: column 'rate': rate {r:g} is not one of the sweep's "
                                  f"({', '.join(known)})")
        frame['rate'] = [float(rates[known.index(f'{r:g}')]) for r in frame['rate']]   # the sweep's own floats
    return baselines


def with_baselines(results, baselines: Optional[Dict[str, Any]]):
    """The sweep's results with the baselines' rows after them (metrics the sweep lacks dropped)."""
    import pandas as pd
    if not baselines:
        return results
    metrics = _metric_columns(results)
    frames = [results] + [frame.reindex(columns=['variant', 'rate', 'seed'] + metrics)
                          for frame in baselines.values()]
    return pd.concat(frames, ignore_index=True)


def _metric_columns(results) -> List[str]:
    return [c for c in results.columns if c not in ('variant', 'rate', 'seed', 'stat', 'constant')]


def aggregate(results, rates: Sequence[float]):
    """The sweep's one table, long form, columns ``variant, rate, seed, stat`` + metrics.

    ``stat`` is ``value`` (a cell), ``mean`` / ``std`` (over seeds, per rate; std with
    ddof 1, empty for one seed), ``AUILC`` / ``AUILC std`` and ``mean over rates`` /
    ``mean over rates std`` (per variant: computed per seed over that seed's curve,
    then mean and std over seeds; a seed missing a rate is left out). AUILC is
    empty when the rates do not include 0.0 or there is only one.
    """
    import pandas as pd
    metrics = _metric_columns(results)
    rates = sorted(float(r) for r in rates)
    rows: List[Dict[str, Any]] = []
    order = list(dict.fromkeys(results['variant']))
    for variant in order:
        sub = results[results['variant'] == variant].sort_values(['rate', 'seed'])
        for rate, group in sub.groupby('rate', sort=True):
            for _, row in group.iterrows():
                rows.append({'variant': variant, 'rate': rate, 'seed': int(row['seed']), 'stat': 'value',
                             **{m: row[m] for m in metrics}})
            rows.append({'variant': variant, 'rate': rate, 'seed': None, 'stat': 'mean',
                         **{m: group[m].mean() for m in metrics}})
            rows.append({'variant': variant, 'rate': rate, 'seed': None, 'stat': 'std',
                         **{m: group[m].std(ddof=1) if len(group) > 1 else math.nan for m in metrics}})
        per_seed_auilc, per_seed_mean = [], []
        can_auilc = len(rates) >= 2 and rates[0] == 0.0
        for seed, curve in sub.groupby('seed'):
            curve = curve.sort_values('rate')
            if [float(r) for r in curve['rate']] != rates:
                continue
            per_seed_mean.append({m: mean_over_rates(curve[m]) for m in metrics})
            if can_auilc:
                per_seed_auilc.append({m: auilc(curve['rate'], curve[m]) for m in metrics})
        for stat, values in (('AUILC', per_seed_auilc), ('mean over rates', per_seed_mean)):
            frame = pd.DataFrame(values, columns=metrics)
            rows.append({'variant': variant, 'rate': None, 'seed': None, 'stat': stat,
                         **{m: frame[m].mean() if len(frame) else math.nan for m in metrics}})
            rows.append({'variant': variant, 'rate': None, 'seed': None, 'stat': f'{stat} std',
                         **{m: frame[m].std(ddof=1) if len(frame) > 1 else math.nan for m in metrics}})
    table = pd.DataFrame(rows, columns=['variant', 'rate', 'seed', 'stat'] + metrics)
    table['seed'] = table['seed'].astype('Int64')
    return table


def _fmt_value(metric: str, v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ''
    return f'{v:.4f}' if metric in RAW_METRICS else f'{v:.2f}'


def _pm(metric: str, mean: float, std: float) -> str:
    text = _fmt_value(metric, mean)
    s = _fmt_value(metric, std)
    return f'{text} ± {s}' if text and s else text


def summary_frame(table):
    """Per variant: one row per rate (mean ± std over seeds), then AUILC and mean over rates."""
    import pandas as pd
    metrics = _metric_columns(table)
    rows = []
    for variant in dict.fromkeys(table['variant']):
        sub = table[table['variant'] == variant]
        means = sub[sub['stat'] == 'mean']
        stds = sub[sub['stat'] == 'std'].set_index('rate')
        n_seeds = sub[sub['stat'] == 'value'].groupby('rate').size()
        for _, row in means.iterrows():
            std = stds.loc[row['rate']]
            rows.append({'variant': variant, 'rate': f"{row['rate']:g}", 'seeds': int(n_seeds[row['rate']]),
                         **{DISPLAY_NAMES.get(m, m): _pm(m, row[m], std[m]) for m in metrics}})
        for stat in ('AUILC', 'mean over rates'):
            mean = sub[sub['stat'] == stat].iloc[0]
            std = sub[sub['stat'] == f'{stat} std'].iloc[0]
            rows.append({'variant': variant, 'rate': stat, 'seeds': '',
                         **{DISPLAY_NAMES.get(m, m): _pm(m, mean[m], std[m]) for m in metrics}})
    return pd.DataFrame(rows)


def cells_frame(table):
    """Every cell, metrics formatted."""
    import pandas as pd
    metrics = _metric_columns(table)
    values = table[table['stat'] == 'value']
    return pd.DataFrame([{'variant': r['variant'], 'rate': f"{r['rate']:g}", 'seed': int(r['seed']),
                          **{DISPLAY_NAMES.get(m, m): _fmt_value(m, r[m]) for m in metrics}}
                         for _, r in values.iterrows()])


def markdown_table(frame) -> str:
    """A DataFrame as a GitHub Markdown table (no extra package needed)."""
    cols = [str(c) for c in frame.columns]
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '|'.join('---' for _ in cols) + '|']
    for _, row in frame.iterrows():
        lines.append('| ' + ' | '.join(str(row[c]) for c in frame.columns) + ' |')
    return '\n'.join(lines)


def variant_legend(variants: Sequence[str]) -> List[str]:
    """``variant: the paper's row`` for every variant that has a name in the paper's tables."""
    return [f'{v}: {variant_label(v)}' for v in variants if variant_label(v) != v]


def summary_text(table) -> str:
    legend = variant_legend(list(dict.fromkeys(table['variant'])))
    return ('test metrics, mean ± std over seeds; AUILC = area under the metric-vs-rate curve from r = 0\n'
            + ''.join(f'  {line}\n' for line in legend) + summary_frame(table).to_string(index=False))


def data_file_name(path: str) -> str:
    """A data file as result files name it: relative to the project when it lies inside it, else by
    its file name (no absolute path of the machine it ran on)."""
    p = Path(path)
    try:
        return p.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return p.name


def _source_name(frame) -> str:
    """A baseline's file as sweep.md names it (:func:`data_file_name`), 'given' when it came from no file."""
    source = frame.attrs.get('source')
    return data_file_name(source) if source else 'given'


def write_markdown(table, base: RunConfig, spec: SweepSpec, baselines: Optional[Dict[str, Any]] = None) -> str:
    data = base.data
    head = (f"# Robustness sweep: {base.name}\n\n"
            f"Data: {data.format}" + (f" ({data_file_name(data.path)})" if data.path else '') +
            f", {data.level} level {data.task}; search space {Path(base.search_space).name}, "
            f"strategy {Path(base.strategy).name}.\n"
            f"Variants: {', '.join(spec.variants)}; missing rates: {', '.join(f'{r:g}' for r in spec.rates)}; "
            f"seeds: {', '.join(map(str, spec.seeds))}.\n"
            + ''.join(f"Baseline {name}: {_source_name(frame)} (its own test metrics, "
                      f"read from the file).\n" for name, frame in (baselines or {}).items())
            + '\n'
            'Test metrics, mean ± std over seeds. AUILC: area under the metric-vs-missing-rate curve '
            '(trapezoid from r = 0); mean over rates: the plain mean of the curve.\n'
            + ''.join(f'\n* {line}' for line in variant_legend(spec.variants))
            + ('\n' if variant_legend(spec.variants) else ''))
    return (head + '\n## Summary\n\n' + markdown_table(summary_frame(table)) + '\n\n## Every cell\n\n'
            + markdown_table(cells_frame(table)) + '\n')


def write_plots(table, sweep_dir: Path, title: str = '') -> Dict[str, Path]:
    """``plots/<metric>.png`` for every metric: one line per variant, ± std band, AUILC in the legend."""
    out = {}
    for m in _metric_columns(table):
        series = []
        for variant in dict.fromkeys(table['variant']):
            sub = table[table['variant'] == variant]
            means = sub[sub['stat'] == 'mean'].sort_values('rate')
            stds = sub[sub['stat'] == 'std'].sort_values('rate')
            a = sub[sub['stat'] == 'AUILC'][m].iloc[0]
            series.append({'label': variant, 'rates': means['rate'].to_numpy(dtype=float),
                           'mean': means[m].to_numpy(dtype=float), 'std': stds[m].to_numpy(dtype=float),
                           'auilc': None if a is None or (isinstance(a, float) and math.isnan(a)) else float(a)})
        name = DISPLAY_NAMES.get(m, m)
        out[m] = plot_metric_vs_rate(series, name, sweep_dir / 'plots' / f'{m}.png',
                                     title=f'{name} vs missing rate' + (f' ({title})' if title else ''))
    return out


def write_outputs(table, results, sweep_dir: Path, base: RunConfig, spec: SweepSpec,
                  baselines: Optional[Dict[str, Any]] = None) -> Dict[str, Path]:
    files = {'csv': atomic_write_text(sweep_dir / 'sweep.csv', table.to_csv(index=False)),
             'md': atomic_write_text(sweep_dir / 'sweep.md', write_markdown(table, base, spec, baselines))}
    files.update({f'plot_{k}': v for k, v in write_plots(table, sweep_dir, base.name).items()})
    return files
