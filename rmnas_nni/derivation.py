"""Deriving the fixed architecture from a search (RMNAS section 6), and the modules it may need.

NNI's export is the argmax of every choice (``{label: choice}``). The paper's
Figure 4 says instead that "operations with alpha, beta, gamma less than 0.2 after
softmax are considered discarded", so a derived network may keep several
candidates of one choice. :func:`derive_architecture` offers both:

* ``argmax`` (the default): NNI's export, unchanged.
* ``threshold``: every candidate whose softmax weight is ``>= threshold``
  (default 0.2) is kept.

  - A ``LayerChoice`` (token mixer, fusion step operation) keeping two or more
    candidates is exported as the **list** of their names, in the order of the
    candidate set: ``"text/block0/mixer": ["attention", "pool"]``. One kept
    candidate is exported as its name, as NNI does.
  - **(decision)** The fixed network combines the kept candidates by their
    **plain mean** (:class:`KeptMean`): the architecture JSON holds names only,
    so the network is rebuilt from it alone, with no search weights carried over.
  - A fusion input gate (``fusion/cell{i}/input{s}/cand{k}``, values
    ``identity`` / ``zero``, see :mod:`rmnas_nni.fusion_cells`) is ``identity``
    when its identity weight is ``>= threshold``, else ``zero``: the threshold
    applies to each gate's identity weight, so a slot keeps every candidate that
    passes it.
  - **(decision)** An ``InputChoice`` (the one-of-N input slots and the Cell-Step
    inputs) keeps its argmax: such a slot takes exactly one input by definition.
  - **(decision)** If no candidate of a ``LayerChoice`` reaches the threshold,
    the argmax is kept.

The exported JSON is therefore NNI's format or, with ``threshold``, a superset of
it (a list value for a ``LayerChoice``). It is rebuilt with NNI's
``model_context(arch)`` (what :func:`~rmnas_nni.pipeline.build_fixed_model` does):
the space's choices are created by :func:`layer_choice`, which builds a
:class:`KeptMean` of the listed candidates where the architecture holds a list,
and NNI's own ``LayerChoice`` everywhere else. ``ModelSpace.freeze`` accepts only
single choices.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

import torch.nn as nn
from nni.mutable.utils import auto_label
from nni.nas.nn.pytorch import LayerChoice
from nni.nas.space import current_model

__all__ = ['DERIVATIONS', 'DEFAULT_THRESHOLD', 'GATE_VALUES', 'KeptMean', 'layer_choice', 'is_gate', 'avoids',
           'derive_architecture']

DERIVATIONS = ('argmax', 'threshold')
DEFAULT_THRESHOLD = 0.2
GATE_VALUES = ('identity', 'zero')


class KeptMean(nn.Module):
    """The plain mean of the kept candidates' outputs; children are named by the candidates.

    The names are those of the candidates in NNI's supernet (``...mixer.attention.qkv``),
    so the supernet's weights load into it without renaming.
    """

    def __init__(self, candidates: Mapping[str, nn.Module]):
        super().__init__()
        if not candidates:
            raise ValueError('KeptMean needs at least one candidate')
        self.names: List[str] = list(candidates)
        for name, module in candidates.items():
            self.add_module(name, module)

    def forward(self, *args, **kwargs):
        outs = [self._modules[name](*args, **kwargs) for name in self.names]
        total = outs[0]
        for out in outs[1:]:
            total = total + out
        return total / len(outs)

    def extra_repr(self) -> str:
        return f'mean of {self.names}'


def layer_choice(candidates: Dict[str, nn.Module], label: str) -> nn.Module:
    """NNI ``LayerChoice(candidates, label=label)``, or a :class:`KeptMean` in a fixed architecture holding a list.

    Only inside ``model_context(arch)`` where ``arch[full label]`` is a list of
    candidate names does this differ from NNI's ``LayerChoice`` (which then returns
    the chosen candidate itself).
    """
    arch = current_model()
    if arch is not None:
        full = str(auto_label(label))
        value = arch.get(full)
        if isinstance(value, (list, tuple)):
            unknown = [v for v in value if v not in candidates]
            if not value or unknown or len(set(value)) != len(value):
                raise ValueError(f'{full}: invalid list of kept candidates {list(value)!r} '
                                 f'(choices: {", ".join(candidates)})')
            if len(value) == 1:
                return candidates[value[0]]
            return KeptMean({name: candidates[name] for name in candidates if name in value})
    return LayerChoice(candidates, label=label)


def is_gate(values) -> bool:
    """Whether a choice's values are those of a fusion input gate (``identity`` / ``zero``)."""
    return sorted(map(str, values)) == sorted(GATE_VALUES)


def avoids(value: Any, candidates, excluded) -> bool:
    """Whether a derivation that excludes ``excluded`` must replace ``value`` of a choice among ``candidates``.

    Only an operation or a mixer is replaced (not an input choice's list, nor an eq. 13
    gate, whose ``zero`` closes an input), and only when some other candidate is left.
    """
    return (not isinstance(value, (list, tuple)) and value in excluded and not is_gate(candidates)
            and any(n not in excluded for n in candidates))


def derive_architecture(arch: Dict[str, Any], probs: Dict[str, Dict[str, float]], method: str = 'argmax',
                        threshold: float = DEFAULT_THRESHOLD, exclude_zero: bool = False,
                        exclude_identity: bool = False) -> Dict[str, Any]:
    """The derived architecture from NNI's ``export()`` (``arch``) and ``export_probs()`` (``probs``).

    See the module docstring for the rules. ``argmax`` returns a copy of ``arch``.
    With ``exclude_zero`` (DARTS's own derivation rule: "zero operations are
    excluded"), a choice that also offers other candidates never derives to
    ``zero``: argmax keeps the strongest other candidate, threshold drops ``zero``
    from the kept ones (falling back to the strongest other). Eq. 13's input gates
    are not operations and keep their ``zero``. ``exclude_identity`` does the same
    for the ``identity`` token mixer (the parameter-free skip that DARTS drifts to;
    P-DARTS limits skip connections for that reason).
    """
    if method not in DERIVATIONS:
        raise ValueError(f'unknown derivation {method!r} (known: {", ".join(DERIVATIONS)})')
    out = {label: (list(v) if isinstance(v, (list, tuple)) else v) for label, v in arch.items()}
    excluded = ({'zero'} if exclude_zero else set()) | ({'identity'} if exclude_identity else set())
    for label, value in arch.items():
        dist = probs.get(label)
        if dist and avoids(value, dist, excluded):
            out[label] = max((n for n in dist if n not in excluded), key=lambda n: float(dist[n]))
    if method == 'argmax':
        return out
    for label, value in arch.items():
        dist: Optional[Dict[str, float]] = probs.get(label)
        if not dist or isinstance(value, (list, tuple)):        # InputChoice: argmax kept
            continue
        if is_gate(dist):
            out[label] = 'identity' if float(dist['identity']) >= threshold else 'zero'
            continue
        kept = [str(name) for name, w in dist.items() if float(w) >= threshold
                and not (name in excluded and any(n not in excluded for n in dist))]
        if not kept:
            continue                                              # fall back to the argmax
        out[label] = kept[0] if len(kept) == 1 else kept
    return out
