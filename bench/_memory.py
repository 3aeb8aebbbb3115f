"""Memory measurements that work on the CPU, where torch has no allocator statistics.

* :func:`current_rss_mb` / :func:`peak_rss_mb`: the process's resident set size now and
  its high-water mark (``VmRSS`` / ``VmHWM`` of ``/proc/self/status``): what the
  machine really gives the process, allocator slack, interpreter and libraries
  included. Measured in a fresh subprocess per model.
* :class:`LiveTensorBytes`: a ``TorchDispatchMode`` that counts the bytes of every
  tensor storage created inside it while it is alive (weak references), and keeps
  the peak: the exact tensor memory of a computation, independent of the allocator.
* :class:`SavedForBackward`: ``saved_tensors_hooks`` plus a module stack: the bytes
  autograd keeps for the backward pass, attributed to the module that saved them
  (each storage counted once), with the share of ``(..., N+1, N+1)`` tensors.
"""
from __future__ import annotations

import resource
from collections import defaultdict
from typing import Dict, Iterable

import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

__all__ = ['current_rss_mb', 'peak_rss_mb', 'LiveTensorBytes', 'SavedForBackward']


def current_rss_mb() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def peak_rss_mb() -> float:
    """High-water mark of the resident set size of this process image (``VmHWM``).

    ``VmHWM`` belongs to the address space, so it starts afresh in a new process.
    (``getrusage``'s ``ru_maxrss`` does not: Linux carries it over from the parent
    across ``fork`` and ``exec``, so a worker started by a big parent reports the
    parent's peak.) Falls back to ``ru_maxrss`` where ``/proc`` is missing.
    """
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024          # KiB on Linux


class LiveTensorBytes(TorchDispatchMode):
    """Peak bytes of the tensor storages created inside the context and still alive."""

    def __init__(self):
        super().__init__()
        self.live: Dict[int, tuple] = {}
        self.current = 0
        self.peak = 0

    def _sweep(self) -> None:
        for key, (ref, nbytes) in list(self.live.items()):
            if ref.expired():
                del self.live[key]
                self.current -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self._sweep()
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.device.type != 'meta':
                st = t.untyped_storage()
                key = st._cdata
                if key not in self.live:
                    self.live[key] = (StorageWeakRef(st), st.nbytes())
                    self.current += st.nbytes()
        self.peak = max(self.peak, self.current)
        return out


class SavedForBackward:
    """Bytes saved for backward during a forward, by module (class name of the innermost listed ancestor).

    Parameters
    ----------
    model
        The module whose forward is watched.
    square
        Token counts ``N+1`` of the modalities: saved tensors whose two last
        dimensions are both one of them, ``(..., N+1, N+1)``, are counted apart as the
        O(N^2) part.
    groups
        Class names to attribute to (innermost match wins); others go to their own class name.
    """

    def __init__(self, model: torch.nn.Module, square: Iterable[int] = (), groups: Iterable[str] = ()):
        self.model = model
        self.square = set(square)
        self.groups = set(groups)
        self.stack = []
        self.by_module: Dict[str, int] = defaultdict(int)
        self.square_by_module: Dict[str, int] = defaultdict(int)
        self.seen = set()
        self.handles = []

    def _owner(self) -> str:
        for name in reversed(self.stack):
            if name in self.groups:
                return name
        return self.stack[-1] if self.stack else '(outside modules)'

    def _pack(self, t: torch.Tensor):
        st = t.untyped_storage()
        key = st._cdata
        if key not in self.seen and not isinstance(t, torch.nn.Parameter):
            self.seen.add(key)
            owner = self._owner()
            self.by_module[owner] += st.nbytes()
            if t.dim() >= 2 and t.shape[-1] == t.shape[-2] and t.shape[-1] in self.square:
                self.square_by_module[owner] += st.nbytes()
        return t

    def __enter__(self):
        def enter(module, inputs):
            self.stack.append(type(module).__name__)

        def leave(module, inputs, output):
            self.stack.pop()                   # returns None: the output is left alone

        for m in self.model.modules():
            self.handles.append(m.register_forward_pre_hook(enter))
            self.handles.append(m.register_forward_hook(leave))
        self.ctx = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda t: t)
        self.ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self.ctx.__exit__(*exc)
        for h in self.handles:
            h.remove()
        return False

    def table(self):
        total = sum(self.by_module.values())
        rows = [{'module': k, 'saved_mb': v / 2 ** 20, 'share': v / total if total else 0.0,
                 'square_mb': self.square_by_module.get(k, 0) / 2 ** 20}
                for k, v in sorted(self.by_module.items(), key=lambda kv: -kv[1])]
        return rows
