"""NAS baselines: architectures that are not searched, from the same space.

A search is only worth its cost if what it exports beats what the space gives
without searching. Two reference points, both points of the same NNI space and
both retrained exactly like a searched architecture:

* :func:`random_architecture` — every choice drawn uniformly (NNI's ``{label:
  choice}`` form), from its own random generator, so the caller's random state is
  untouched and the ``k``-th draw of a seed is the same everywhere.
* :func:`hand_designed_architecture` — a fixed network a person would write
  without a search: attention in every block, and a fusion that reads the last
  block of each modality (cell 0: the first two modalities; each later cell: the
  next modality and the previous cell), combined by ``concat_fc`` and then summed
  with the cell's first input (``sum``). Where a wanted candidate is missing from
  the configured sets, the first one that is not ``zero`` is taken. With eq. 13's
  gated inputs (``fusion.input_selection: gates``) exactly the same candidate's gate
  is open.

The labels are read from the space (``space.simplify()``), so both work for any
number of modalities, blocks, cells and steps.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np

__all__ = ['random_architecture', 'hand_designed_architecture', 'random_seed', 'choice_table', 'draw_choices']

_CELL_INPUT = re.compile(r'^fusion/cell(\d+)/input(\d+)(?:/cand(\d+))?$')
_STEP_INPUT = re.compile(r'^fusion/cell(\d+)/step(\d+)/input(\d+)$')
_STEP_OP = re.compile(r'^fusion/cell(\d+)/step(\d+)/op$')


def random_seed(seed: int, index: int) -> int:
    """The generator seed of the ``index``-th random architecture of run seed ``seed``."""
    return (int(seed) * 7919 + 104_729 * (int(index) + 1)) % (2 ** 31)


def choice_table(space) -> List[Tuple[str, List[Any], bool]]:
    """``(label, candidates, whether it is an input choice)`` of every choice of ``space``, in its order."""
    return [(label, list(m.values), hasattr(m, 'n_chosen')) for label, m in space.simplify().items()]


def draw_choices(choices: Sequence[Tuple[str, List[Any], bool]], integers: Callable[[int], Any]) -> Dict[str, Any]:
    """One candidate per choice of a :func:`choice_table`: of n candidates the ``integers(n)``-th (an
    input choice's as a one-element list), drawn in the table's order."""
    arch: Dict[str, Any] = {}
    for label, values, is_input in choices:
        pick = values[int(integers(len(values)))]
        arch[label] = [pick] if is_input else pick
    return arch


def random_architecture(space, seed: int) -> Dict[str, Any]:
    """One architecture drawn uniformly from ``space``: every choice independent and uniform."""
    return draw_choices(choice_table(space), np.random.default_rng(seed).integers)


def _prefer(values: Sequence[Any], wanted: str) -> Any:
    if wanted in values:
        return wanted
    return next((v for v in values if v != 'zero'), values[0])


def hand_designed_architecture(space) -> Dict[str, Any]:
    """The fixed hand-designed network of the module docstring, as ``{label: choice}``."""
    mutables = space.simplify()
    modalities: List[str] = list(space.modalities)
    n_blocks = int(space.n_blocks)
    last = [m * n_blocks + n_blocks - 1 for m in range(len(modalities))]   # last block of each modality
    arch: Dict[str, Any] = {}
    for label, mutable in mutables.items():
        values = list(mutable.values)
        cell_input, step_input, step_op = _CELL_INPUT.match(label), _STEP_INPUT.match(label), _STEP_OP.match(label)
        if cell_input:
            cell, slot = int(cell_input[1]), int(cell_input[2])
            n_modality = len(last)
            if cell == 0:
                pick = last[min(slot, n_modality - 1)]
            elif slot == 0:
                pick = last[(cell + 1) % n_modality]
            else:
                pick = n_modality * n_blocks + cell - 1                  # the previous cell's output
            if cell_input[3] is not None:                                # eq. 13 gate of one candidate
                arch[label] = 'identity' if int(cell_input[3]) == pick else 'zero'
            else:
                arch[label] = [pick if pick in values else values[0]]
        elif step_input:
            step, slot = int(step_input[2]), int(step_input[3])
            # step 0 reads the cell's two inputs; step j > 0 reads step j-1 and the cell's first input
            pick = slot if step == 0 else (1 + step if slot == 0 else 0)
            arch[label] = [pick if pick in values else values[0]]
        elif step_op:
            arch[label] = _prefer(values, 'concat_fc' if int(step_op[2]) == 0 else 'sum')
        else:                                                            # a token mixer
            arch[label] = _prefer(values, 'attention')
    return arch
