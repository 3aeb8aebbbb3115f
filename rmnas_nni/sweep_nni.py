"""Sweeps through NNI: every cell of a robustness sweep as one trial of an NNI experiment.

``rmnas sweep ... --nni`` runs the same cells as a local sweep (:mod:`rmnas_nni.sweep`),
but as an NNI experiment: a ``GridSearch`` over ``variant`` x ``rate`` x ``seed``, one
trial per cell, on any NNI training service (local by default; remote over SSH,
Kubernetes and the others through ``--nni-config FILE``). The sweep directory,
its checks, skipping of finished cells and the table, Markdown and plots are the
local sweep's; only running the cells differs:

* ``SWEEP/experiment.yml`` is the NNI experiment (``nnictl create --config`` takes
  it as it is). Its trial command runs :func:`main` of this module, which carries
  the sweep's base config (compressed) and the sweep directory's path.
* A trial runs its cell exactly as a local sweep does
  (:func:`rmnas_nni.pipeline.run` with the cell's config), reporting every search
  and retrain epoch's validation metric as an intermediate result and a final
  result naming the cell (``variant``, ``rate``, ``seed``; ``default`` is the
  validation ``select_metric`` as in :mod:`rmnas_nni.nni_trial`).
* Where the trial sees the sweep directory (the local service; shared storage
  mounted at the same path elsewhere) it writes the cell into
  ``SWEEP/cells/<variant>/r<rate>-s<seed>/``, and a finished cell found there is
  reported again instead of being rerun. Elsewhere the cell goes to ``cell/`` in
  the trial's own directory, beside ``sweep_cell.json``; copy those trial
  directories back and ``rmnas sweep --resume SWEEP --collect DIR`` puts the cells
  where the table builder reads them.

The driver starts the experiment with NNI's Python API on ``--port``, prints a
line whenever a trial ends, stops the experiment when every trial has ended (or
on Ctrl-C), and returns each cell's outcome to :func:`rmnas_nni.sweep.run_sweep`,
which builds the table.
"""
from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import yaml

from .config import PROJECT_ROOT, RunConfig, dump_yaml, load_yaml, run_config
from .errors import ConfigError, RMNASError
from .metrics import metric_direction
from .nni_report import (TrialReporter, check_port, final_result, finish_trial, own_parameters, search_epoch_reporter,
                         trial_main, under_nni)
from .rundir import atomic_write_json, atomic_write_text, format_duration
from .sweep import SweepCell, _cell_dir, cell_config

__all__ = ['OWN_KEYS', 'experiment_config', 'nni_cell_runner', 'collect_cells', 'main']

#: experiment keys the sweep sets itself; an ``--nni-config`` file may set any other
OWN_KEYS = ('searchSpace', 'searchSpaceFile', 'trialCommand', 'tuner', 'assessor', 'advisor', 'maxTrialNumber')
CELL_MARKER = 'sweep_cell.json'
ENDED = ('SUCCEEDED', 'FAILED', 'USER_CANCELED', 'SYS_CANCELED', 'EARLY_STOPPED')
TRIAL_PROG = 'rmnas sweep trial'      # how a trial names itself in its one-line errors


def _encode(base: RunConfig) -> str:
    return base64.urlsafe_b64encode(gzip.compress(dump_yaml(base).encode('utf-8'), mtime=0)).decode('ascii')


def _decode(text: str) -> RunConfig:
    values = yaml.safe_load(gzip.decompress(base64.urlsafe_b64decode(text.encode('ascii'))).decode('utf-8'))
    return run_config(values, "the sweep's base config (--base)")


def experiment_config(base: RunConfig, cells: Sequence[SweepCell], sweep_dir: Path, *, nni_config: Optional[str] = None,
                      concurrency: int = 1) -> Dict[str, Any]:
    """The NNI experiment (a dict, NNI's experiment-file keys) that runs ``cells`` of the sweep.

    ``nni_config`` is a YAML file of NNI experiment keys (``trainingService``,
    ``nniManagerIp``, ``trialGpuNumber``, ``trialConcurrency``,
    ``experimentWorkingDirectory``, ...) laid over the defaults: local training
    service, ``trialConcurrency`` = ``concurrency``, NNI's files in ``SWEEP/nni``.

    Raises
    ------
    ConfigError
        The file is not a mapping, or sets a key the sweep sets itself (:data:`OWN_KEYS`).
    """
    user: Dict[str, Any] = {}
    if nni_config is not None:
        user = load_yaml(nni_config) or {}
        if not isinstance(user, dict):
            raise ConfigError(f'{nni_config}: an NNI experiment file is a mapping of keys (trainingService, ...)')
        for key in OWN_KEYS:
            if key in user:
                raise ConfigError(f"{nni_config}: key '{key}': rmnas sweep --nni sets it (a GridSearch over the "
                                  f"sweep's cells); remove it")
        for key in ('trialCodeDirectory', 'experimentWorkingDirectory'):     # relative to the file, as nnictl reads it
            if isinstance(user.get(key), str) and not Path(user[key]).expanduser().is_absolute():
                user[key] = str((Path(nni_config).resolve().parent / user[key]).resolve())
    platform = (user.get('trainingService') or {}).get('platform', 'local') \
        if isinstance(user.get('trainingService'), dict) else 'local'
    sweep_dir = Path(sweep_dir).resolve()
    values = {'variant': list(dict.fromkeys(c.variant for c in cells)),
              'rate': list(dict.fromkeys(c.rate for c in cells)),
              'seed': list(dict.fromkeys(c.seed for c in cells))}
    n_trials = len(values['variant']) * len(values['rate']) * len(values['seed'])
    python = shlex.quote(sys.executable) if platform == 'local' else 'python'
    exp: Dict[str, Any] = {
        'experimentName': f"sweep-{base.name}",
        'searchSpace': {k: {'_type': 'choice', '_value': v} for k, v in values.items()},
        'trialCommand': f'{python} -m rmnas_nni.sweep_nni --sweep {shlex.quote(str(sweep_dir))} '
                        f'--base {_encode(base)}',
        'trialCodeDirectory': str(PROJECT_ROOT),
        'trialConcurrency': int(concurrency),
        'maxTrialNumber': n_trials,
        'tuner': {'name': 'GridSearch'},
        'trainingService': {'platform': 'local'},
    }
    if platform == 'local':
        exp['experimentWorkingDirectory'] = str(sweep_dir / 'nni')
    exp.update(user)
    for key in OWN_KEYS:
        if key not in user and key in exp:
            exp[key] = exp.pop(key)           # the sweep's own keys last: easy to find in the file
    return exp


def _cell_of(job) -> Optional[tuple]:
    """``(variant, rate, seed)`` a trial ran, from the manager's record."""
    try:
        params = job.hyperParameters[-1].parameters
        return params['variant'], float(params['rate']), int(params['seed'])
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None


def _run_experiment(path: Path, port: int, cells: Sequence[SweepCell], sweep_dir: Path,
                    printer: Callable[[str], None]) -> Dict[str, Dict]:
    """Start the experiment of ``path``, wait for every trial, stop it; each cell's outcome."""
    from nni.experiment import Experiment, ExperimentConfig     # deferred: NNI takes seconds to import

    config = ExperimentConfig.load(str(path))
    exp = Experiment(config)
    t0 = time.perf_counter()
    seen: Dict[str, str] = {}
    jobs: List[Any] = []
    interrupted = False
    try:
        try:
            exp.start(port)
        except Exception as exc:        # NNI raises plain exceptions (a port in use, a bad trainingService)
            raise RMNASError(f'{path}: the NNI experiment did not start: {exc}') from exc
        printer(f'sweep: NNI experiment {exp.id}: {len(cells)} cell(s) as trials, {config.trial_concurrency} at a '
                f'time, on the {config.training_service.platform} training service; web UI http://127.0.0.1:{port} '
                f'(the NNI manager listens on every interface, without authentication, until the sweep ends)')
        while True:
            status = exp.get_status()
            jobs = exp.list_trial_jobs()
            for job in jobs:
                if job.status in ENDED and seen.get(job.trialJobId) != job.status:
                    seen[job.trialJobId] = job.status
                    cell = _cell_of(job)
                    name = f'{cell[0]} r={cell[1]:g} seed={cell[2]}' if cell else '?'
                    printer(f'sweep: NNI trial {job.trialJobId} ({name}): {job.status.lower()}; '
                            f'{len(seen)}/{config.max_trial_number} trials ended, elapsed '
                            f'{format_duration(time.perf_counter() - t0)}')
            if status in ('DONE', 'STOPPED', 'ERROR') or len(seen) >= config.max_trial_number:
                break
            time.sleep(3)
        if status == 'ERROR':
            printer(f'sweep: NNI experiment {exp.id} ended in error; its logs: '
                    f'{Path(config.experiment_working_directory) / exp.id / "log"}')
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        exp.stop()
        if interrupted:
            printer(f'sweep: interrupted; NNI experiment {exp.id} stopped, {len(seen)}/{config.max_trial_number} '
                    f'trials had ended')
    by_cell = {c: j for j in jobs for c in [_cell_of(j)] if c is not None}
    outcomes: Dict[str, Dict] = {}
    for cell in cells:
        metrics = cell.path / 'metrics.json'
        job = by_cell.get((cell.variant, cell.rate, cell.seed))
        if metrics.is_file():
            outcomes[cell.name] = {'summary': json.loads(metrics.read_text())}
            if job is not None and (job.startTime or 0) > 0 and (job.endTime or 0) > job.startTime:
                outcomes[cell.name]['seconds'] = (job.endTime - job.startTime) / 1000.0
        elif job is None:
            outcomes[cell.name] = {'failed': f'no NNI trial ran it (experiment {exp.id})'}
        elif job.status == 'SUCCEEDED':
            outcomes[cell.name] = {'failed': f'NNI trial {job.trialJobId} left it in its own trial directory '
                                             f'({job.logPath}); copy that back and pass it to '
                                             f'rmnas sweep --resume {sweep_dir} --collect DIR'}
        else:
            stderr = f'{job.logPath}/trial.stderr'
            why = _last_error_line(stderr)
            outcomes[cell.name] = {'failed': f'NNI trial {job.trialJobId} {job.status.lower()}'
                                             + (f': {why}' if why else '') + f'; its log: {stderr}'}
    return outcomes


def _last_error_line(stderr: str) -> Optional[str]:
    """The last line a failed trial wrote to its ``trial.stderr`` (its one-line error, or a
    traceback's last line), when this machine can read it (the local training service)."""
    try:
        lines = [line.strip() for line in Path(stderr).read_text(errors='replace').splitlines() if line.strip()]
    except OSError:
        return None
    if not lines:
        return None
    prefix = f'{TRIAL_PROG}: error: '
    return lines[-1][len(prefix):] if lines[-1].startswith(prefix) else lines[-1]


def nni_cell_runner(*, nni_config: Optional[str] = None, port: int = 8081, concurrency: int = 1,
                    write_only: bool = False):
    """The ``cell_runner`` of :func:`rmnas_nni.sweep.run_sweep` that runs the cells as an NNI experiment.

    It writes ``SWEEP/experiment.yml``; with ``write_only`` it stops there (the cells
    are left to ``nnictl create --config SWEEP/experiment.yml``), else it runs the
    experiment on ``port`` and returns every cell's outcome.
    """
    if not write_only:
        check_port(port)

    def runner(base: RunConfig, cells: Sequence[SweepCell], sweep_dir: Path,
               printer: Callable[[str], None]) -> Optional[Dict[str, Dict]]:
        exp = experiment_config(base, cells, sweep_dir, nni_config=nni_config, concurrency=concurrency)
        path = atomic_write_text(Path(sweep_dir) / 'experiment.yml',
                                 '# NNI experiment of this sweep, written by rmnas sweep --nni: one trial per cell.\n'
                                 '#   nnictl create --config experiment.yml --port PORT\n'
                                 '# then `rmnas sweep --resume SWEEP --table-only` builds the table.\n'
                                 + yaml.safe_dump(exp, sort_keys=False, width=1 << 20))
        if write_only:
            printer(f'sweep: NNI experiment written to {path} ({exp["maxTrialNumber"]} trials); run it with '
                    f'`nnictl create --config {path} --port PORT`, then `rmnas sweep --resume {sweep_dir} '
                    f'--table-only` (add --collect DIR for trials that ran elsewhere)')
            return None
        return _run_experiment(path, port, cells, Path(sweep_dir), printer)

    return runner


def collect_cells(sweep_dir: Path, roots: Sequence[str], cells: Sequence[SweepCell],
                  printer: Callable[[str], None] = print) -> int:
    """Copy the cells that NNI trials left in their own trial directories (copied under ``roots``)
    into ``SWEEP/cells``; a cell already finished there is kept. Returns the number copied."""
    wanted = {(c.variant, f'{c.rate:g}', c.seed): c for c in cells}
    copied = 0
    for root in roots:
        if not Path(root).is_dir():
            raise ConfigError(f'--collect {root}: not a directory')
        for marker in sorted(Path(root).rglob(CELL_MARKER)):
            info = json.loads(marker.read_text())
            cell = wanted.get((info.get('variant'), f"{float(info.get('rate', -1)):g}", info.get('seed')))
            source = marker.parent / 'cell'
            if cell is None or not (source / 'metrics.json').is_file() or (cell.path / 'metrics.json').is_file():
                continue
            if cell.path.exists():
                shutil.rmtree(cell.path)
            shutil.copytree(source, cell.path)
            printer(f'sweep: collected {cell.name} from {source}')
            copied += 1
    return copied


# --------------------------------------------------------------------------- the trial

def run_trial(args) -> int:
    from .pipeline import prepare_data, run, select_metric_of     # deferred: the pipeline loads torch

    base = _decode(args.base)
    in_nni = under_nni()
    params = own_parameters() if in_nni else json.loads(args.params or '{}')
    try:
        variant, rate, seed = str(params['variant']), float(params['rate']), int(params['seed'])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f'NNI parameters {params!r}: expected variant, rate and seed') from None
    cfg = cell_config(base, variant, rate, seed)
    sweep_dir = Path(args.sweep)
    own_dir = Path(os.environ.get('NNI_OUTPUT_DIR') or sweep_dir / 'trials' / f'{variant}-r{rate:g}-s{seed}')
    if (sweep_dir / 'sweep.yaml').is_file():
        path = _cell_dir(sweep_dir, variant, rate, seed)
    else:
        own_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(own_dir / CELL_MARKER, {'variant': variant, 'rate': rate, 'seed': seed})
        path = own_dir / 'cell'
    data = prepare_data(cfg)
    _, select = select_metric_of(cfg, data[0])
    mode = metric_direction(select)
    reporter = TrialReporter(select, in_nni)
    if (path / 'metrics.json').is_file():
        print(f'sweep cell {variant} r={rate:g} seed={seed}: already finished in {path}; reporting it')
        summary = json.loads((path / 'metrics.json').read_text())
        summary['arch'] = json.loads((path / 'arch.json').read_text())
    else:
        started = (path / 'config.yaml').is_file()
        summary = run(cfg, path, resume=started, overwrite=not started, quiet=args.quiet, data=data,
                      search_callbacks=[search_epoch_reporter(reporter)],
                      on_epoch=lambda epoch, val: reporter.intermediate('retrain', epoch, val[select]))
    probs = json.loads((path / 'arch_probs.json').read_text()) if (path / 'arch_probs.json').is_file() else None
    result = final_result(summary, summary['arch'], probs, reporter.best_epoch('search', mode))
    result.update(variant=variant, rate=rate, seed=seed)
    own_dir.mkdir(parents=True, exist_ok=True)
    finish_trial(own_dir, reporter, result, mode, cell=str(path))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='python -m rmnas_nni.sweep_nni',
                                description='One cell of rmnas sweep --nni (the trial command of SWEEP/experiment.yml).')
    p.add_argument('--sweep', required=True, help='the sweep directory (cells go there when this machine sees it)')
    p.add_argument('--base', required=True, help="the sweep's base config, as rmnas sweep --nni encodes it")
    p.add_argument('--params', help='outside NNI: {"variant": ..., "rate": ..., "seed": ...} as JSON')
    p.add_argument('--quiet', '-q', action='store_true', help='no per-epoch lines')
    return p


def main(argv: Optional[List[str]] = None) -> int:
    return trial_main(run_trial, build_parser().parse_args(argv), TRIAL_PROG)


if __name__ == '__main__':
    sys.exit(main())
