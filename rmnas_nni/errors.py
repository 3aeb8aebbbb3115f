"""Errors that are the user's to fix: reported as one line, exit status 2, no traceback."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ['RMNASError', 'ConfigError', 'DataError', 'ArchitectureError', 'RunDirError', 'NonFiniteLossError',
           'read_input']


class RMNASError(Exception):
    """Base of every error the command line reports as one line (exit status 2)."""

    exit_code = 2


class ConfigError(RMNASError):
    """A YAML config is missing, malformed, or has an unknown key, a wrong type or an impossible value."""


class DataError(RMNASError):
    """A data file is missing, malformed or inconsistent; the message names the file and the key."""


class ArchitectureError(RMNASError):
    """An architecture JSON does not fit the search space (unknown or missing label, wrong choice)."""


class RunDirError(RMNASError):
    """A run directory exists (and was not asked to be overwritten or resumed), or cannot be resumed."""


class NonFiniteLossError(RMNASError):
    """Training produced a NaN or infinite loss; the last good checkpoint is kept."""

    exit_code = 3


def read_input(path: os.PathLike | str, error: type[RMNASError], *, text: bool = False) -> str | bytes:
    """Read a user's input file whole; a missing or unreadable one raises ``error`` with a one-line message."""
    path = Path(path)
    try:
        return path.read_text() if text else path.read_bytes()
    except FileNotFoundError:
        raise error(f'{path}: file not found') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f'{path}: cannot read: {exc.__class__.__name__}') from None
