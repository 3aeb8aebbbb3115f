"""Restricted unpickling: numpy arrays and builtin containers, nothing that can run code.

A pickle can call any importable function while it loads. The feature files of
this field (MMSA's ``Processed/*.pkl``, GCNet's label pickles) only need numpy
arrays, numpy scalars and dtypes, and builtin containers and scalars, so this
unpickler resolves exactly those globals and refuses every other one *before*
anything is called. A refused or damaged file raises a one-line
:class:`~rmnas_nni.errors.DataError` naming the file.

Admitted globals (old ``numpy.core`` names map to ``numpy._core``):

* numpy: ``ndarray``, ``dtype``, ``multiarray._reconstruct``, ``multiarray.scalar``,
  ``numeric._frombuffer`` (protocol 5), and the ``numpy.dtypes`` classes;
* builtins: ``set``, ``frozenset``, ``list``, ``dict``, ``tuple``, ``str``, ``bytes``,
  ``bytearray``, ``int``, ``float``, ``complex``, ``bool``; ``collections.OrderedDict``;
* ``_codecs.encode`` with a Latin-1 encoding only (how protocol 2 stores bytes).

Files written by Python 2 load with ``encoding='latin1'``, as numpy recommends.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
from pathlib import Path
from typing import Any, Union

import numpy as np

from ..errors import DataError, read_input

__all__ = ['load_pickle', 'loads', 'RestrictedUnpickler', 'ALLOWED_GLOBALS']

_BUILTINS = ('set', 'frozenset', 'list', 'dict', 'tuple', 'str', 'bytes', 'bytearray', 'int', 'float',
             'complex', 'bool')


def _latin1_encode(obj: Any, encoding: str = 'utf-8', errors: str = 'strict') -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it, restricted to Latin-1 text."""
    if not isinstance(obj, str) or encoding.replace('-', '').replace('_', '').lower() not in ('latin1', 'iso88591'):
        raise _Refused(f'_codecs.encode with encoding {encoding!r}')
    return obj.encode('latin1', errors='strict')


def _numpy_global(module: str, name: str) -> Any:
    from numpy._core import multiarray, numeric
    table = {('numpy', 'ndarray'): np.ndarray, ('numpy', 'dtype'): np.dtype,
             ('numpy._core.multiarray', '_reconstruct'): multiarray._reconstruct,
             ('numpy._core.multiarray', 'scalar'): multiarray.scalar,
             ('numpy._core.numeric', '_frombuffer'): numeric._frombuffer}
    if (module, name) in table:
        return table[(module, name)]
    if module == 'numpy.dtypes':
        import numpy.dtypes
        value = getattr(numpy.dtypes, name, None)
        if isinstance(value, type) and issubclass(value, np.dtype):
            return value
    return None


def _resolve(module: str, name: str) -> Any:
    """The admitted object for ``module.name``, or None."""
    if module in ('builtins', '__builtin__') and name in _BUILTINS:
        return getattr(__import__('builtins'), name)
    if module == 'collections' and name == 'OrderedDict':
        return collections.OrderedDict
    if module == '_codecs' and name == 'encode':
        return _latin1_encode
    if module == 'numpy.core' or module.startswith('numpy.core.'):
        module = 'numpy._core' + module[len('numpy.core'):]
    if module == 'numpy' or module.startswith('numpy.'):
        return _numpy_global(module, name)
    return None


ALLOWED_GLOBALS = ('numpy arrays, numpy scalars and dtypes, builtin containers and scalars')


class _Refused(pickle.UnpicklingError):
    pass


class RestrictedUnpickler(pickle.Unpickler):
    """:class:`pickle.Unpickler` that resolves only the admitted globals (module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        value = _resolve(module, name)
        if value is None:
            raise _Refused(f'{module}.{name}')
        return value

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused('a persistent id')


def loads(data: bytes, source: str = '<bytes>') -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`; errors name ``source``."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding='latin1').load()
    except _Refused as exc:
        raise DataError(f"{source}: refused to load: the pickle asks for '{exc}', which is not one of "
                        f'{ALLOWED_GLOBALS} (a pickle can run code; nothing was run)') from None
    except MemoryError:
        raise DataError(f'{source}: not a valid pickle (it asks for more memory than is available)') from None
    except Exception as exc:  # truncated or corrupt: EOFError, UnpicklingError, ValueError, TypeError, ...
        detail = str(exc).splitlines()[0][:120] if str(exc) else ''
        raise DataError(f'{source}: not a valid pickle (truncated or corrupt: {exc.__class__.__name__}'
                        f'{": " + detail if detail else ""})') from None


def load_pickle(path: Union[str, os.PathLike]) -> Any:
    """Read a pickle file with the restricted unpickler.

    Raises
    ------
    DataError
        The file is missing or unreadable, refers to anything but numpy data and
        builtin containers, or is truncated or corrupt.
    """
    path = Path(path)
    data = read_input(path, DataError)
    if not data:
        raise DataError(f'{path}: not a valid pickle (the file is empty)')
    return loads(data, str(path))
