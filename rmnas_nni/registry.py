"""The names a config may use, each registered where the thing it names is defined.

A token mixer registers in :mod:`rmnas_nni.token_mixers`, a fusion operation in
:mod:`rmnas_nni.fusion_cells`, a strategy in :mod:`rmnas_nni.search_strategy` (SPOS in :mod:`rmnas_nni.single_path`), a data format
in its reader's module, a variant in :mod:`rmnas_nni.ablations`, a metric in
:mod:`rmnas_nni.metrics`. :mod:`rmnas_nni.config` validates against these
registries and imports none of those modules: a registry loads the module that
holds its built-in entries (its ``home``) the first time it is read, so adding a
mixer, an operation, a format or a strategy touches its own module and a YAML file
(CONTRIBUTING.md shows each).

This module imports nothing of the package; ``importlib`` loads a registry's home
by name, which is the one place a lower layer causes a higher one to be imported
(on purpose: that is what a registry is for).
"""
from __future__ import annotations

import importlib
from typing import Any, Dict, Iterator, List, Tuple

__all__ = ['Registry', 'MIXERS', 'FUSION_OPS', 'STRATEGIES', 'FORMATS', 'VARIANTS', 'VARIANT_GROUPS',
           'METRICS']


class Registry:
    """An ordered table ``name -> entry`` of one kind of thing.

    ``kind`` names the thing in messages (``'token mixer'``); ``homes`` are the
    modules whose import registers the built-in entries, loaded on first read.
    ``aliases`` map other spellings to a registered name (:meth:`canonical`).
    """

    def __init__(self, kind: str, *homes: str):
        self.kind = kind
        self.homes = homes
        self._entries: Dict[str, Any] = {}
        self._info: Dict[str, Dict[str, Any]] = {}
        self._aliases: Dict[str, str] = {}
        self._loaded = False

    # --------------------------------------------------------------- registering
    def register(self, name: str, entry: Any = None, *, aliases: Tuple[str, ...] = (), **info: Any):
        """Register ``entry`` as ``name`` (or, without ``entry``, decorate it).

        ``info`` keeps facts a caller may need without the entry (a description,
        a label). Registering a name twice is an error: two modules would disagree
        on what it means.
        """
        def add(obj):
            if name in self._entries:
                raise ValueError(f'{self.kind} {name!r} is registered twice')
            self._entries[name] = obj
            self._info[name] = dict(info)
            for alias in aliases:
                self._aliases[alias] = name
            return obj
        return add if entry is None else add(entry)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests that register a toy entry clean up with this)."""
        self._load()
        self._entries.pop(name, None)
        self._info.pop(name, None)
        for alias in [a for a, n in self._aliases.items() if n == name]:
            del self._aliases[alias]

    # --------------------------------------------------------------- reading
    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for home in self.homes:
                importlib.import_module(home)

    def names(self) -> List[str]:
        self._load()
        return list(self._entries)

    def canonical(self, name: str) -> str:
        """``name`` with an alias replaced by the registered name it stands for."""
        self._load()
        return self._aliases.get(name, name)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __getitem__(self, name: str) -> Any:
        self._load()
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def items(self) -> List[Tuple[str, Any]]:
        self._load()
        return list(self._entries.items())

    def info(self, name: str, key: str, default: Any = None) -> Any:
        self._load()
        return self._info.get(name, {}).get(key, default)

    def known(self) -> str:
        """The registered names as a message lists them."""
        return ', '.join(self.names())


MIXERS = Registry('token mixer', 'rmnas_nni.token_mixers')
FUSION_OPS = Registry('fusion operation', 'rmnas_nni.fusion_cells')
STRATEGIES = Registry('strategy', 'rmnas_nni.search_strategy', 'rmnas_nni.single_path')
FORMATS = Registry('data format', 'rmnas_nni.data.synthetic', 'rmnas_nni.data.mmsa', 'rmnas_nni.data.gcnet',
                   'rmnas_nni.data.utterance_table')
VARIANTS = Registry('variant', 'rmnas_nni.ablations')
VARIANT_GROUPS = Registry('variant group', 'rmnas_nni.ablations')
METRICS = Registry('metric', 'rmnas_nni.metrics')
