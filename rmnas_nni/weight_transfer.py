"""The supernet's weights carried into the derived network (the ``no_retrain`` variant).

**No retraining.** In NNI's DARTS supernet a ``LayerChoice`` keeps every candidate
as a child named by the candidate (``...blocks.0.mixer.attention.qkv.weight``) next
to its architecture logits (``..._arch_alpha``); in the fixed network the chosen
candidate *is* the module (``...blocks.0.mixer.qkv.weight``). :func:`transfer_supernet_weights`
renames the chosen candidate's entries, drops the others and the logits, and loads
the result strictly, so a weight left over or missing is an error. Frozen buffers
(the random-mixing matrices) travel with the weights. A choice that keeps several
candidates (a threshold derivation) is a :class:`~rmnas_nni.derivation.KeptMean`
whose children carry the candidates' names, so their entries keep their names.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

import torch

from .errors import RunDirError
from .nni_compat import SUPERNET_STATE_PREFIX, is_arch_logit, is_choice_module

__all__ = ['transfer_supernet_weights', 'supernet_state_from_checkpoint']


def transfer_supernet_weights(supernet: torch.nn.Module, fixed: torch.nn.Module, arch: Dict[str, Any]
                              ) -> torch.nn.Module:
    """Load the supernet's weights of the candidates chosen in ``arch`` into the fixed network.

    Raises
    ------
    RuntimeError
        (from ``load_state_dict``) when the renamed weights do not match the fixed
        network exactly.
    """
    chosen: Dict[str, str] = {}
    for name, module in supernet.named_modules():
        if is_choice_module(module):
            label = module.label
            if label not in arch:
                raise KeyError(f'architecture has no choice for {label!r}')
            value = arch[label]
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            chosen[name + '.' if name else ''] = [str(v) for v in value] if isinstance(value, list) else str(value)
    state = {}
    for key, value in supernet.state_dict().items():
        if is_arch_logit(key):
            continue
        prefix = max((p for p in chosen if key.startswith(p)), key=len, default=None)
        if prefix is not None:
            candidate, _, rest = key[len(prefix):].partition('.')
            if isinstance(chosen[prefix], list):              # kept candidates (KeptMean): names unchanged
                if candidate not in chosen[prefix]:
                    continue
            elif candidate != chosen[prefix]:
                continue
            else:
                key = prefix + rest
        state[key] = value.detach().cpu().clone()
    fixed.load_state_dict(state, strict=True)
    return fixed


def supernet_state_from_checkpoint(path: os.PathLike | str) -> Dict[str, torch.Tensor]:
    """The supernet's ``state_dict`` from a search checkpoint (NNI's one-shot Lightning module)."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f'{path}: search checkpoint not found')
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    prefix = SUPERNET_STATE_PREFIX
    state = {k[len(prefix):]: v for k, v in ckpt['state_dict'].items() if k.startswith(prefix)}
    if not state:
        raise RunDirError(f'{path}: not a search checkpoint written by rmnas (no supernet weights)')
    return state
