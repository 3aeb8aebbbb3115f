"""Run directories and atomic output files.

Every result file is written to a temporary file in the same folder and renamed
into place, so a crash never leaves a half-written file. A run directory is never
reused unless asked (``overwrite``) or resumed (``resume``).

Layout of a run::

    RUN/
      config.yaml          the resolved run config (with search space and strategy)
      environment.json     versions (python, torch, nni, lightning, rmnas-nni), seed, data checksum
      masks.npz            the missing-modality masks used (per split and modality)
      log.txt              everything the run printed
      search/              checkpoints/{last,best}.ckpt, metrics.csv (Lightning's CSV log)
      arch.json            exported architecture, NNI's {label: choice}
      arch_probs.json      softmax weight of every choice
      architecture.png     the architecture drawn like the paper's Figure 4 (rmnas run, rmnas figure)
      retrain/             last.pt (every epoch), best.pt, history.csv
      model.pt             retrained weights
      metrics.json         test (and validation) metrics; written last, it marks a finished run
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from .config import RunConfig, load_yaml, run_config
from .errors import ConfigError, RunDirError
from .version import __version__

__all__ = ['atomic_write_bytes', 'atomic_write_text', 'atomic_write_json', 'atomic_torch_save',
           'prepare_run_dir', 'default_run_dir', 'environment_record', 'file_checksum', 'Tee']


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: os.PathLike | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)                 # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: os.PathLike | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode('utf-8'))


def atomic_write_json(path: os.PathLike | str, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + '\n')


def _json_default(obj: Any):
    import numpy as np
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f'not JSON serialisable: {type(obj).__name__}')


def atomic_torch_save(obj: Any, path: os.PathLike | str) -> Path:
    import torch
    buf = io.BytesIO()
    torch.save(obj, buf)
    return atomic_write_bytes(path, buf.getvalue())


def default_run_dir(name: str) -> Path:
    return Path('runs') / f'{name}-{time.strftime("%Y%m%d-%H%M%S")}'


def prepare_run_dir(path: os.PathLike | str, overwrite: bool = False, resume: bool = False,
                    adopt: bool = False) -> Path:
    """Create (or, with ``resume``, reopen) a run directory.

    With ``adopt``, an existing directory that is not yet a run (no ``config.yaml``)
    is used as it is, keeping what it holds: an NNI trial directory already has the
    trial's ``trial.stdout`` and ``trial.stderr`` when the trial starts.

    Raises
    ------
    RunDirError
        The directory exists and neither ``overwrite`` nor ``resume`` was asked, or
        ``resume`` names a directory that is not a run, or ``adopt`` one that is.
    """
    path = Path(path)
    if resume:
        if not (path / 'config.yaml').is_file():
            raise RunDirError(f'{path}: not a run directory to resume (no config.yaml)')
        remove_stale_temporaries(path)
        return path
    if adopt:
        if (path / 'config.yaml').exists():
            raise RunDirError(f'{path}: already holds a run (config.yaml exists)')
        path.mkdir(parents=True, exist_ok=True)
        return path
    if path.exists() and any(path.iterdir()):
        if not overwrite:
            raise RunDirError(f'{path}: run directory exists; choose another --out, or pass --overwrite '
                              f'(or --resume {path} to continue it)')
        remove_output_dir(path, 'config.yaml', 'run')
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_stale_temporaries(path: Path) -> None:
    """Delete the temporary files of atomic writes that a killed process left under ``path``.

    Every atomic write goes through a hidden ``.<name>.<random>.tmp`` beside its target
    (:func:`atomic_write_bytes`); a process killed between writing it and renaming it
    leaves it behind, and nothing else reads it.
    """
    for tmp in path.rglob('.*.tmp'):
        if tmp.is_file():
            tmp.unlink()


def remove_output_dir(path: Path, marker: str, what: str) -> None:
    """Delete a directory for ``--overwrite``, but only one that rmnas wrote (it holds ``marker``)."""
    if not (path / marker).is_file():
        raise RunDirError(f'{path}: --overwrite only replaces a {what} directory written by rmnas '
                          f'(no {marker} in it); choose another --out')
    shutil.rmtree(path)


def file_checksum(path: os.PathLike | str, algorithm: str = 'sha256') -> str:
    h = hashlib.new(algorithm)
    p = Path(path)
    files = sorted(q for q in p.rglob('*') if q.is_file()) if p.is_dir() else [p]
    for q in files:
        if p.is_dir():
            h.update(str(q.relative_to(p)).encode())
        with open(q, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
    return f'{algorithm}:{h.hexdigest()}'


def environment_record(seed: int, data_source: Optional[str], data_checksum: Optional[str]) -> Dict[str, Any]:
    """Versions and provenance recorded with a run."""
    import nni
    import numpy
    import pytorch_lightning
    import torch

    return {
        'rmnas_nni': __version__, 'python': sys.version.split()[0], 'platform': platform.platform(),
        'torch': torch.__version__, 'nni': nni.__version__, 'pytorch_lightning': pytorch_lightning.__version__,
        'numpy': numpy.__version__, 'cuda': torch.version.cuda if torch.cuda.is_available() else None,
        'torch_threads': torch.get_num_threads(), 'seed': seed, 'data': data_source, 'data_checksum': data_checksum,
        'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'),
    }


class Tee:
    """A printer that writes each line to the terminal and appends it to ``log.txt``."""

    def __init__(self, log_path: Optional[os.PathLike | str] = None, quiet: bool = False,
                 echo: Callable[[str], None] = print):
        self.log_path = Path(log_path) if log_path else None
        self.quiet = quiet
        self.echo = echo

    def __call__(self, line: str) -> None:
        if not self.quiet:
            self.echo(line)
            sys.stdout.flush()
        if self.log_path is not None:
            with open(self.log_path, 'a') as f:
                f.write(line + '\n')


def load_run(run_dir: os.PathLike | str) -> RunConfig:
    """The resolved config a run was started with."""
    path = Path(run_dir) / 'config.yaml'
    if not path.is_file():
        raise ConfigError(f'{path}: file not found (not a run directory)')
    return run_config(load_yaml(path), str(path))


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: how progress lines print a time."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f'{seconds}s'
    if seconds < 3600:
        return f'{seconds // 60}m{seconds % 60:02d}s'
    return f'{seconds // 3600}h{seconds % 3600 // 60:02d}m'
