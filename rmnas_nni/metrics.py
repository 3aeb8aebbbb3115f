"""Metrics of RMNAS section 8, and the robustness summaries AUILC and mean over rates.

Metric sets, chosen by :func:`metric_kind` from the dataset:

* ``mosi`` (sentence-level regression, labels in [-3, 3], MOSI/MOSEI):
  ``mae``, ``corr`` (Pearson), ``acc7`` (round(clip(+-3)) equal), ``acc5``
  (round(clip(+-2)) equal), ``acc2_has0`` / ``f1_has0`` ((y >= 0) vs (p >= 0)) and
  ``acc2_non0`` / ``f1_non0`` (drop y == 0, then (y > 0) vs (p > 0));
* ``regression_2`` (sentence-level regression, labels in [-2, 2], e.g. a five-point
  scale): as ``mosi`` with the accuracies of that range, ``acc5`` (round(clip(+-2))
  equal) and ``acc3`` (round(clip(+-1)) equal). **(decision)** With labels in
  [-2, 2] the ``mosi`` set's Acc-7 always equals its Acc-5, so a seven-class
  accuracy would be reported that the labels cannot have;
* ``sims`` (labels in [-1, 1], CH-SIMS): clip to [-1, 1]; ``acc2`` over the bins
  {[-1, 0], (0, 1]}, ``acc3`` with edges [-1.01, -0.1, 0.1, 1.01], ``acc5`` with edges
  [-1.01, -0.7, -0.1, 0.1, 0.7, 1.01], ``f1`` = weighted F1 of the Acc-2 bins, ``mae``, ``corr``;
* ``classification`` (IEMOCAP): ``acc`` and ``waf`` (weighted F1);
* ``dialogue_regression`` (dialogue-level MOSI/MOSEI): ``acc2`` and ``waf`` over
  non-zero labels, ``(p > 0)`` vs ``(y > 0)``; ``mae`` and ``corr`` over all.

Accuracies and F1 are percentages, as papers report them; ``mae`` and ``corr`` are
raw. F1 is sklearn's ``average='weighted'``: per-class F1 weighted by true support.
Rounding for Acc-7 / Acc-5 is ``np.round`` (half to even), as in the MMSA evaluation
the peers report with. CH-SIMS bins are left-open, right-closed ``(e_i, e_{i+1}]``, so
an edge value such as -0.1 falls into the lower bin.

**(decision)** ``corr`` of a constant prediction (or constant labels) is 0, not NaN:
a collapsed model is uncorrelated, and early stopping on ``corr`` keeps working.

The set follows the data's label range (``data.label_scale``, see
:mod:`rmnas_nni.data.readers`), or is named by the run config's ``metrics`` key.

Only real samples are passed in (padding is removed by the caller).
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .registry import METRICS

__all__ = ['weighted_f1', 'regression_metrics', 'regression_2_metrics', 'sims_metrics', 'METRIC_KINDS',
           'classification_metrics', 'dialogue_regression_metrics', 'compute_metrics', 'metric_kind', 'metric_direction',
           'default_select_metric', 'constant_prediction', 'auilc', 'mean_over_rates', 'DISPLAY_NAMES']

DISPLAY_NAMES = {
    'mae': 'MAE', 'corr': 'Corr', 'acc7': 'Acc-7', 'acc5': 'Acc-5', 'acc3': 'Acc-3',
    'acc2_has0': 'Acc-2 (has0)', 'f1_has0': 'F1 (has0)', 'acc2_non0': 'Acc-2 (non0)', 'f1_non0': 'F1 (non0)',
    'acc2': 'Acc-2', 'f1': 'F1', 'acc': 'Acc', 'waf': 'WAF',
}
LOWER_IS_BETTER = {'mae', 'loss'}
for _name, _display in DISPLAY_NAMES.items():     # what select_metric may name
    METRICS.register(_name, _display, direction='min' if _name in LOWER_IS_BETTER else 'max')


def weighted_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Support-weighted F1 over the classes present in ``y_true`` or ``y_pred`` (as a fraction)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.size == 0:
        return float('nan')
    total = 0.0
    for c in np.union1d(y_true, y_pred):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        denom = 2 * tp + fp + fn
        f1 = 2 * tp / denom if denom else 0.0
        total += f1 * np.sum(y_true == c)
    return float(total / y_true.size)


def _corr(p: np.ndarray, y: np.ndarray) -> float:
    if p.size < 2 or np.std(p) == 0 or np.std(y) == 0:
        return 0.0
    return float(np.corrcoef(p, y)[0, 1])


def _acc(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b) * 100) if a.size else float('nan')


def regression_metrics(pred: np.ndarray, label: np.ndarray) -> Dict[str, float]:
    """Sentence-level MOSI/MOSEI metrics (labels in [-3, 3])."""
    p = np.asarray(pred, dtype=np.float64).ravel()
    y = np.asarray(label, dtype=np.float64).ravel()
    non0 = y != 0
    return {
        'mae': float(np.mean(np.abs(p - y))),
        'corr': _corr(p, y),
        'acc7': _acc(np.round(np.clip(p, -3, 3)), np.round(np.clip(y, -3, 3))),
        'acc5': _acc(np.round(np.clip(p, -2, 2)), np.round(np.clip(y, -2, 2))),
        'acc2_has0': _acc(p >= 0, y >= 0),
        'f1_has0': weighted_f1(y >= 0, p >= 0) * 100,
        'acc2_non0': _acc(p[non0] > 0, y[non0] > 0),
        'f1_non0': weighted_f1(y[non0] > 0, p[non0] > 0) * 100,
    }


def regression_2_metrics(pred: np.ndarray, label: np.ndarray) -> Dict[str, float]:
    """Sentence-level regression with labels in [-2, 2]: Acc-5 and Acc-3 instead of Acc-7 and Acc-5."""
    p = np.asarray(pred, dtype=np.float64).ravel()
    y = np.asarray(label, dtype=np.float64).ravel()
    out = regression_metrics(p, y)
    del out['acc7']
    out = {'mae': out.pop('mae'), 'corr': out.pop('corr'), 'acc5': out.pop('acc5'),
           'acc3': _acc(np.round(np.clip(p, -1, 1)), np.round(np.clip(y, -1, 1))), **out}
    return out


def sims_metrics(pred: np.ndarray, label: np.ndarray) -> Dict[str, float]:
    """CH-SIMS metrics (labels in [-1, 1])."""
    p = np.clip(np.asarray(pred, dtype=np.float64).ravel(), -1, 1)
    y = np.clip(np.asarray(label, dtype=np.float64).ravel(), -1, 1)

    def bins(v, edges):
        return np.digitize(v, edges[1:-1], right=True)

    two, three = [-1.01, 0.0, 1.01], [-1.01, -0.1, 0.1, 1.01]
    five = [-1.01, -0.7, -0.1, 0.1, 0.7, 1.01]
    return {
        'mae': float(np.mean(np.abs(p - y))),
        'corr': _corr(p, y),
        'acc2': _acc(bins(p, two), bins(y, two)),
        'acc3': _acc(bins(p, three), bins(y, three)),
        'acc5': _acc(bins(p, five), bins(y, five)),
        'f1': weighted_f1(bins(y, two), bins(p, two)) * 100,
    }


def classification_metrics(pred: np.ndarray, label: np.ndarray) -> Dict[str, float]:
    """Accuracy and weighted F1; ``pred`` holds class indices or ``(n, C)`` scores."""
    pred = np.asarray(pred)
    if pred.ndim == 2:
        pred = pred.argmax(-1)
    label = np.asarray(label).ravel()
    return {'acc': _acc(pred.ravel(), label), 'waf': weighted_f1(label, pred.ravel()) * 100}


def dialogue_regression_metrics(pred: np.ndarray, label: np.ndarray) -> Dict[str, float]:
    """Dialogue-level regression: Acc-2 / WAF over non-zero labels, MAE / Corr over all."""
    p = np.asarray(pred, dtype=np.float64).ravel()
    y = np.asarray(label, dtype=np.float64).ravel()
    non0 = y != 0
    return {
        'acc2': _acc(p[non0] > 0, y[non0] > 0),
        'waf': weighted_f1(y[non0] > 0, p[non0] > 0) * 100,
        'mae': float(np.mean(np.abs(p - y))),
        'corr': _corr(p, y),
    }


_METRIC_FUNCS = {
    'mosi': regression_metrics,
    'regression_2': regression_2_metrics,
    'sims': sims_metrics,
    'classification': classification_metrics,
    'dialogue_regression': dialogue_regression_metrics,
}


METRIC_KINDS = tuple(_METRIC_FUNCS)


def metric_kind(task: str, level: str, label_scale: float = 3.0) -> str:
    """Which metric set applies: ``mosi``, ``regression_2``, ``sims``, ``classification`` or
    ``dialogue_regression`` (sentence-level regression: by the label range ``label_scale``)."""
    if task == 'classification':
        return 'classification'
    if level == 'dialogue':
        return 'dialogue_regression'
    if label_scale <= 1.0:
        return 'sims'
    return 'regression_2' if label_scale <= 2.0 else 'mosi'


def compute_metrics(pred: np.ndarray, label: np.ndarray, kind: str) -> Dict[str, float]:
    """All metrics of ``kind`` (see :func:`metric_kind`)."""
    return _METRIC_FUNCS[kind](pred, label)


def metric_functions(kind: str):
    """The function computing metric set ``kind``: ``f(pred, label) -> {name: value}``."""
    return _METRIC_FUNCS[kind]


def metric_direction(name: str) -> str:
    """``'min'`` or ``'max'``; raises KeyError for an unknown metric name."""
    if name == 'loss':
        return 'min'
    if name not in METRICS:
        raise KeyError(name)
    return METRICS.info(name, 'direction')


def constant_prediction(pred: np.ndarray, label: np.ndarray, task: str) -> bool:
    """True when a network predicts (almost) one value: a single class, or a spread of
    regression predictions below 1% of the labels' standard deviation. Such a run
    learned nothing from its inputs, whatever its metrics say."""
    pred = np.asarray(pred)
    if len(pred) < 2:
        return False
    if task == 'classification':
        return len(np.unique(pred)) == 1
    scale = float(np.std(np.asarray(label, dtype=np.float64))) or 1.0
    return float(np.std(pred.astype(np.float64))) < 0.01 * scale


def default_select_metric(kind: str) -> str:
    """Validation metric for model selection and early stopping.

    **(decision, measured)** Regression selects on MAE, the loss itself, at dialogue
    level too: on real MOSI (11 validation videos) the thresholded WAF jumps by
    several points from one epoch to the next, and an epoch picked on one half of
    the validation videos by MAE scores higher WAF *and* lower MAE on the other half
    than one picked by WAF (``bench/selection_rules.py``, docs/benchmarks.md).
    """
    return {'mosi': 'mae', 'regression_2': 'mae', 'sims': 'mae', 'classification': 'waf', 'dialogue_regression': 'mae'}[kind]


def auilc(rates: Sequence[float], values: Sequence[float]) -> float:
    """Area under the indicator-line curve: trapezoid of ``values`` over ``rates``.

    ``sum_i (p_i + p_{i+1}) / 2 * (r_{i+1} - r_i)``; the rates are sorted first and
    must start at 0.0, as in the paper. The area is not divided by the span of the
    rates: a sweep over [0, 0.5] (CH-SIMS) gives about half the value of one over [0, 1].

    Raises
    ------
    ValueError
        Fewer than two points, counts that differ, a rate given twice, or no rate 0.0.
    """
    r = np.asarray(rates, dtype=np.float64).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    if r.shape != v.shape or r.size < 2:
        raise ValueError('AUILC needs at least two (rate, value) pairs of equal count')
    order = np.argsort(r, kind='stable')
    r, v = r[order], v[order]
    if np.any(np.diff(r) == 0):
        raise ValueError(f'AUILC: a missing rate is given twice ({r[np.nonzero(np.diff(r) == 0)[0][0]]:g})')
    if r[0] != 0.0:
        raise ValueError(f'AUILC starts at missing rate 0.0 (the lowest rate given is {r[0]:g})')
    return float(np.sum((v[1:] + v[:-1]) / 2 * np.diff(r)))


def mean_over_rates(values: Sequence[float]) -> float:
    """Plain mean over missing rates (the paper's dialogue-level summary)."""
    return float(np.mean(np.asarray(values, dtype=np.float64)))


def choice_summary(probs: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    """How far the choice weights are from uniform, averaged over the choices.

    ``entropy``: the entropy of each choice's softmax divided by ``log(n)`` (1 =
    uniform, 0 = one-hot); ``tv_from_uniform``: the total-variation distance from the
    uniform distribution (0 = uniform, ``1 - 1/n`` = one-hot); ``top_weight``: the
    weight of the chosen (argmax) candidate. Each is also given per kind of choice:
    ``mixer``, ``input`` (fusion inputs) and ``op`` (fusion step operations).
    """
    groups: Dict[str, List[Tuple[float, float, float]]] = {'all': [], 'mixer': [], 'input': [], 'op': []}
    for label, dist in probs.items():
        w = np.asarray(list(dist.values()), dtype=np.float64)
        if len(w) < 2:
            continue
        w = w / w.sum()
        ent = float(-(w * np.log(np.clip(w, 1e-12, None))).sum() / math.log(len(w)))
        tv = float(0.5 * np.abs(w - 1.0 / len(w)).sum())
        kind = label.rsplit('/', 1)[-1].rstrip('0123456789')
        entry = (ent, tv, float(w.max()))
        groups['all'].append(entry)
        if kind in groups:
            groups[kind].append(entry)
    out: Dict[str, float] = {}
    for kind, entries in groups.items():
        if not entries:
            continue
        prefix = '' if kind == 'all' else f'{kind}_'
        arr = np.asarray(entries)
        out[f'{prefix}entropy'], out[f'{prefix}tv_from_uniform'], out[f'{prefix}top_weight'] = \
            (float(v) for v in arr.mean(0))
    return out


def probs_of(oneshot) -> Dict[str, Dict[str, float]]:
    """The softmax weight of every choice of a one-shot module, as plain floats."""
    return {str(label): {str(k): float(v) for k, v in dist.items()}
            for label, dist in oneshot.export_probs().items()}
