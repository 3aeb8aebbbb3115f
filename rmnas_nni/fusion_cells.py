"""BM-NAS fusion over multi-level features (RMNAS section 5).

The candidates ("multi-level information") are the global-token outputs of every
block of every modality (dialogue level: the token outputs, fused per utterance),
each projected to the fusion width ``c``.

* ``n_cells`` Cells. Cell ``i`` has two input slots ``fusion/cell{i}/input0`` and
  ``input1`` over all modality-level candidates plus the outputs of Cells ``< i``.
  How a slot selects (``input_selection``):

  - ``one_of_n``: an NNI ``InputChoice`` (one input, sum reduction); DARTS relaxes
    it as one softmax over the N candidates, and a derived slot takes exactly one.
  - ``gates`` (the paper's eq. 13): every candidate ``k`` has its own 2-way
    ``LayerChoice`` ``fusion/cell{i}/input{s}/cand{k}`` between ``identity`` and
    ``zero`` (:class:`GatedInputs`), and the slot is the sum of the gated
    candidates. DARTS relaxes each gate as a softmax over the pair, i.e. the two
    columns of eq. 13's beta in R^{N_c x 2}; a derived slot sums every candidate
    whose gate is ``identity``. **(decision)** A derived slot whose gates are all
    ``zero`` takes nothing and gives a zero vector; the Cell still runs (its
    steps see zeros, its residual adds zero).
* Each Cell has ``n_steps`` Cell-Steps. Step ``j`` picks two inputs
  (``fusion/cell{i}/step{j}/input0``, ``input1``) among the Cell's two inputs and its
  earlier steps (always one-of-N ``InputChoice``\ s: eq. 13 gates the Cell inputs), and applies one operation ``fusion/cell{i}/step{j}/op``, a
  ``LayerChoice`` over :data:`STEP_OPERATIONS`.
* A Cell's output is its steps' outputs, concatenated and projected back to ``c``,
  plus its first input, then LayerNorm. The fused vector concatenates all Cells.

Every operation maps ``(x, y) -> z`` of width ``c`` over any leading shape, and acts
on each token separately, so padded utterances cannot leak into real ones.
"""
from __future__ import annotations

from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from nni.mutable import label_scope
from nni.nas.nn.pytorch import InputChoice, LayerChoice

from .derivation import GATE_VALUES, layer_choice
from .registry import FUSION_OPS

__all__ = ['Zero', 'Sum', 'ChunkAttention', 'LinearGLU', 'ConcatFC', 'STEP_OPERATIONS', 'INPUT_SELECTIONS',
           'GatedInputs', 'CellStep', 'Cell', 'BMFusion']

INPUT_SELECTIONS = ('one_of_n', 'gates')


@FUSION_OPS.register('zero')
class Zero(nn.Module):
    """``z = 0``."""

    def __init__(self, width: int = 0, **_):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


@FUSION_OPS.register('sum')
class Sum(nn.Module):
    """``z = x + y``."""

    def __init__(self, width: int = 0, **_):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


@FUSION_OPS.register('attention')
class ChunkAttention(nn.Module):
    """Scaled dot-product attention of ``x`` over ``y``, no projections, then LayerNorm.

    **(decision)** BM-NAS attends over the tokens of a feature map; a fusion input
    here is one ``c``-vector, for which attention over a single token is the identity
    on ``y``. The vector is therefore read as ``chunks`` tokens of width ``c/chunks``
    (queries from ``x``, keys and values from ``y``): still parameter-free and light.
    """

    def __init__(self, width: int, chunks: int = 8, **_):
        super().__init__()
        if width % chunks:
            raise ValueError(f'fusion width ({width}) must be divisible by attention_chunks ({chunks})')
        self.chunks = chunks
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        q = x.reshape(-1, self.chunks, shape[-1] // self.chunks)
        kv = y.reshape(-1, self.chunks, shape[-1] // self.chunks)
        z = F.scaled_dot_product_attention(q, kv, kv)
        return self.norm(z.reshape(shape))


@FUSION_OPS.register('linear_glu')
class LinearGLU(nn.Module):
    """``z = GLU(Linear(2c -> 2c)([x; y]))``."""

    def __init__(self, width: int, **_):
        super().__init__()
        self.linear = nn.Linear(2 * width, 2 * width)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.glu(self.linear(torch.cat([x, y], dim=-1)), dim=-1)


@FUSION_OPS.register('concat_fc')
class ConcatFC(nn.Module):
    """``z = ReLU(Linear(2c -> c)([x; y]))``."""

    def __init__(self, width: int, **_):
        super().__init__()
        self.linear = nn.Linear(2 * width, width)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.relu(self.linear(torch.cat([x, y], dim=-1)))


# The registry of fusion step operations (name -> class), filled by the decorators above.
STEP_OPERATIONS = FUSION_OPS


def _input_slot(n_candidates: int, label: str) -> nn.Module:
    """One searched input (NNI ``InputChoice``), or a plain pick when there is nothing to choose."""
    if n_candidates == 1:
        return _FirstInput()
    return InputChoice(n_candidates, n_chosen=1, reduction='sum', label=label)


class _FirstInput(nn.Module):
    def forward(self, candidates: List[torch.Tensor]) -> torch.Tensor:
        return candidates[0]


class _GateZero(nn.Module):
    """The ``zero`` side of an input gate."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


class GatedInputs(nn.Module):
    """Eq. 13: every candidate gated between identity and zero, the gated candidates summed.

    Built inside the Cell's label scope; the gates are labelled
    ``{label}/cand{k}`` (``fusion/cell0/input1/cand3``), each an NNI ``LayerChoice``
    over ``identity`` / ``zero``. In the supernet the gate is DARTS's mixture
    ``w_identity * x + w_zero * 0``; in a fixed network it is ``nn.Identity`` or
    :class:`_GateZero`, and zero gates are skipped. No gate open: a zero vector.
    """

    def __init__(self, n_candidates: int, label: str):
        super().__init__()
        gates = []
        with label_scope(label):
            for k in range(n_candidates):
                gates.append(LayerChoice({GATE_VALUES[0]: nn.Identity(), GATE_VALUES[1]: _GateZero()},
                                         label=f'cand{k}'))
        self.gates = nn.ModuleList(gates)

    def forward(self, candidates: List[torch.Tensor]) -> torch.Tensor:
        total = None
        for gate, x in zip(self.gates, candidates):
            if isinstance(gate, _GateZero):
                continue
            y = gate(x)
            total = y if total is None else total + y
        return torch.zeros_like(candidates[0]) if total is None else total


class CellStep(nn.Module):
    """One Cell-Step: two searched inputs and a searched operation."""

    def __init__(self, n_inputs: int, width: int, operations: Sequence[str], attention_chunks: int = 8):
        super().__init__()
        self.input0 = _input_slot(n_inputs, 'input0')
        self.input1 = _input_slot(n_inputs, 'input1')
        ops = {}
        for name in operations:
            if name not in STEP_OPERATIONS:
                raise ValueError(f'unknown fusion operation {name!r}; known: {sorted(STEP_OPERATIONS)}')
            ops[name] = STEP_OPERATIONS[name](width=width, chunks=attention_chunks)
        self.op = layer_choice(ops, label='op') if len(ops) > 1 else next(iter(ops.values()))

    def forward(self, states: List[torch.Tensor]) -> torch.Tensor:
        return self.op(self.input0(states), self.input1(states))


class Cell(nn.Module):
    """A BM-NAS Cell over ``n_candidates`` inputs, with ``n_steps`` Cell-Steps."""

    def __init__(self, n_candidates: int, width: int, n_steps: int, operations: Sequence[str],
                 attention_chunks: int = 8, input_selection: str = 'one_of_n'):
        super().__init__()
        if input_selection not in INPUT_SELECTIONS:
            raise ValueError(f'unknown input_selection {input_selection!r}; known: {", ".join(INPUT_SELECTIONS)}')
        if input_selection == 'gates':
            self.input0 = GatedInputs(n_candidates, 'input0')
            self.input1 = GatedInputs(n_candidates, 'input1')
        else:
            self.input0 = _input_slot(n_candidates, 'input0')
            self.input1 = _input_slot(n_candidates, 'input1')
        self.steps = nn.ModuleList()
        for j in range(n_steps):
            with label_scope(f'step{j}'):
                self.steps.append(CellStep(2 + j, width, operations=operations, attention_chunks=attention_chunks))
        self.out = nn.Linear(n_steps * width, width)
        self.norm = nn.LayerNorm(width)

    def forward(self, candidates: List[torch.Tensor]) -> torch.Tensor:
        first = self.input0(candidates)
        states = [first, self.input1(candidates)]
        for step in self.steps:
            states.append(step(states))
        return self.norm(self.out(torch.cat(states[2:], dim=-1)) + first)


class BMFusion(nn.Module):
    """Projection of the multi-level features and the stack of searched Cells.

    Built inside the caller's label scope (the space opens ``fusion``), so the
    labels read ``fusion/cell0/input1``, ``fusion/cell1/step0/op``.

    Parameters
    ----------
    n_candidates
        Number of modality-level features (modalities x blocks).
    in_dim
        Their width ``d``.
    width
        Fusion width ``c``.
    input_selection
        ``one_of_n`` (an ``InputChoice`` per Cell input) or ``gates`` (eq. 13, :class:`GatedInputs`).
    """

    def __init__(self, n_candidates: int, in_dim: int, width: int, n_cells: int, n_steps: int,
                 operations: Sequence[str], attention_chunks: int = 8, input_selection: str = 'one_of_n'):
        super().__init__()
        self.proj = nn.ModuleList(
            nn.Sequential(nn.Linear(in_dim, width), nn.LayerNorm(width)) for _ in range(n_candidates))
        self.cells = nn.ModuleList()
        for i in range(n_cells):
            with label_scope(f'cell{i}'):
                self.cells.append(Cell(n_candidates + i, width, n_steps=n_steps, operations=operations,
                                       attention_chunks=attention_chunks, input_selection=input_selection))
        self.out_dim = n_cells * width

    def forward(self, features: List[torch.Tensor]) -> torch.Tensor:
        candidates = [proj(f) for proj, f in zip(self.proj, features)]
        outputs: List[torch.Tensor] = []
        for cell in self.cells:
            outputs.append(cell(candidates + outputs))
        return torch.cat(outputs, dim=-1)
