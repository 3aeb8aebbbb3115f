"""Readers for the layouts researchers already have, selected by ``data.format``.

====================  ====================================  ==========================
format                module                                file at ``data.path``
====================  ====================================  ==========================
``mmsa``              :mod:`rmnas_nni.data.mmsa`            MMSA ``Processed/*.pkl`` (sentence level)
``gcnet``             :mod:`rmnas_nni.data.gcnet`           GCNet label pickle + per-utterance ``.npy`` folders
``table``             :mod:`rmnas_nni.data.utterance_table` utterance table: ``.npz``, or CSV/TSV/Parquet/JSON + feature ``.npz``
====================  ====================================  ==========================

Every format reads only the modalities the config names (any non-empty subset),
takes widths and lengths from the data, and is checked before anything is
written: a problem raises a one-line :class:`~rmnas_nni.errors.DataError` naming
the file and the key, an unknown or wrong option a
:class:`~rmnas_nni.errors.ConfigError` naming ``data.options.<key>``.

Options shared by every file format (``data.options``):

``normalize``
    ``zscore`` (default) or ``none``. ``zscore``: per feature, subtract the mean and
    divide by the standard deviation of the *training* split's real tokens (a feature
    whose deviation is below 1e-8 is only centred); padding stays zero. Applied when
    the data is read, so before the missing-modality masks (a dropped token is a zero
    vector, the training mean). **(decision)** z-score by default: LST's trend
    convolution reads the raw features, and raw features whose scales differ by
    orders of magnitude (raw audio reaching 255 beside BERT vectors near 1) made a
    run predict a constant with nothing saying why; training statistics only, so
    nothing of the test split leaks. With ``none``, the data summary carries a
    warning when the features' standard deviations differ by a factor of 100 or more
    (:func:`scale_warning`).
``label_scale``
    Regression label range: ``auto`` (default), ``1``, ``2`` or ``3``. **(decision)**
    ``auto`` is the smallest of 1.0 (CH-SIMS, [-1, 1]), 2.0 ([-2, 2], e.g. a
    five-point scale) and 3.0 (MOSI/MOSEI, [-3, 3]) that holds every label of every
    split; a label outside [-3, 3] (or outside an explicit range) is an error. The
    range picks the metric set (:func:`~rmnas_nni.metrics.metric_kind`): Acc-7 and
    Acc-5 for [-3, 3], Acc-5 and Acc-3 for [-2, 2]. Datasets in [-3, 3] have hundreds
    of labels beyond 2, so the data decides unambiguously; a tiny [-3, 3] subset
    whose labels all lie in [-2, 2] needs ``label_scale: 3``.
``label_bins``
    Classification from continuous labels: increasing edges; class ``k`` holds the
    labels in ``[edge_{k-1}, edge_k)`` (``[-0.5, 0.5]``: negative, neutral, positive).
``n_classes``
    Classification: number of classes (default: largest label + 1, at least 2).
    Labels must be integers in ``0 .. n_classes-1`` (integral floats are accepted).

Dialogue-level files (``gcnet``, ``table``) also run at ``data.level: sentence``:
every utterance becomes one sample of length 1 per modality **(decision)**, which
gives the utterance-level baselines of the literature.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import numpy as np

from ..config import DataConfig, Field, at_least, check_data_options, one_of
from ..errors import ConfigError, DataError
from ..registry import FORMATS
from .dataset import SPLITS, MultimodalData, Split

__all__ = ['register_format', 'read', 'check_options', 'numeric_array', 'check_finite', 'check_lengths',
           'finalize', 'zscore', 'scale_warning', 'utterances_as_sentences', 'real_mask', 'carve_valid']

def _label_scale(v):
    return None if v in ('auto', 1, 2, 3, 1.0, 2.0, 3.0) else "must be 'auto', 1, 2 or 3"


def _increasing_numbers(v):
    ok = v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
    return None if ok and all(a < b for a, b in zip(v, v[1:])) else 'must be a non-empty list of increasing numbers'


COMMON_OPTIONS: Dict[str, Field] = {
    'normalize': Field(str, 'zscore', one_of('none', 'zscore')),
    'label_scale': Field((str, int, float), 'auto', _label_scale),
    'n_classes': Field(int, None, at_least(2), nullable=True),
    # classification from continuous labels: class k holds the labels in [edge_{k-1}, edge_k)
    'label_bins': Field(list, None, _increasing_numbers, nullable=True),
}

def register_format(name: str, read_file, level: str, options: Dict[str, Field]) -> None:
    """Register a file format: ``read_file(path, modalities, task, options) -> MultimodalData``
    reading data of ``level`` (``sentence`` or ``dialogue``), with its own ``options``
    (the common ones above are added)."""
    FORMATS.register(name, read_file, level=level, options={**options, **COMMON_OPTIONS})


check_options = check_data_options     # data.options checked against the format's registered options


def read(fmt: str, data_cfg: DataConfig) -> MultimodalData:
    """Read the data a run config's ``data`` section names (its ``modalities`` only)."""
    options = check_options(fmt, data_cfg.options, 'config')
    if not data_cfg.path:
        raise ConfigError(f"key 'data.path': required for format {fmt!r}")
    path = Path(data_cfg.path)
    if not path.exists():
        raise DataError(f'{path}: file not found')
    file_level = FORMATS.info(fmt, 'level')
    level, task = data_cfg.level, data_cfg.task
    if level == 'dialogue' and file_level == 'sentence':
        raise ConfigError(f"key 'data.level': format {fmt!r} holds sentence-level data (one sample per "
                          f"utterance); set data.level: sentence")
    modalities = list(data_cfg.modalities)
    data = FORMATS[fmt](path, modalities, task, options)
    if level == 'sentence' and data.level == 'dialogue':
        data = utterances_as_sentences(data)
    if options['normalize'] == 'zscore':
        data = zscore(data)
    else:
        warning = scale_warning(data)
        if warning:
            data.extra = dict(data.extra, notes=list(data.extra.get('notes', [])) + [warning])
    return data


SCALE_RATIO = 100.0


def _feature_stds(data: MultimodalData) -> Dict[str, np.ndarray]:
    train = data.splits['train']
    out = {}
    for m, f in train.features.items():
        tokens = f[real_mask(train.lengths[m], f.shape[1])].astype(np.float64)
        out[m] = tokens.std(axis=0) if len(tokens) else np.zeros(f.shape[-1])
    return out


def scale_warning(data: MultimodalData) -> Optional[str]:
    """A warning when the standard deviations of the features (training tokens, all modalities;
    constant features left out) differ by a factor of :data:`SCALE_RATIO` or more, else None."""
    stds = {m: v[v > 1e-8] for m, v in _feature_stds(data).items()}
    stds = {m: v for m, v in stds.items() if v.size}
    if not stds:
        return None
    hi = max(stds, key=lambda m: stds[m].max())
    lo = min(stds, key=lambda m: stds[m].min())
    ratio = stds[hi].max() / stds[lo].min()
    if ratio < SCALE_RATIO:
        return None
    return (f'WARNING: data.options.normalize is none and the feature scales differ by a factor of {ratio:.0f} '
            f'(standard deviation up to {stds[hi].max():.3g} in {hi}, down to {stds[lo].min():.3g} in {lo}); '
            f'a network may predict a constant: set data.options.normalize: zscore')


# ----------------------------------------------------------------------------------------------- checks

def numeric_array(value: Any, source: str, key: str, ndim: Optional[int] = None, what: str = 'features'
                  ) -> np.ndarray:
    """``value`` as a float32 array, or a DataError naming ``source`` and ``key``.

    Strings, ragged or object data and a wrong number of dimensions are refused.
    """
    if not isinstance(value, np.ndarray):
        if isinstance(value, (list, tuple)):
            try:
                value = np.asarray(value)
            except ValueError:
                raise DataError(f"{source}: key '{key}': ragged {what} (rows of different lengths)") from None
        else:
            raise DataError(f"{source}: key '{key}': expected an array of {what}, got {type(value).__name__}")
    if value.dtype.kind in 'USa':
        raise DataError(f"{source}: key '{key}': expected numeric {what}, got strings (dtype {value.dtype})")
    if value.dtype.kind == 'O':
        try:
            value = value.astype(np.float32)
        except (ValueError, TypeError):
            raise DataError(f"{source}: key '{key}': expected numeric {what}, got an object array "
                            f"that does not convert to numbers") from None
    elif value.dtype.kind not in 'fiub':
        raise DataError(f"{source}: key '{key}': expected numeric {what}, got dtype {value.dtype}")
    if ndim is not None and value.ndim != ndim:
        raise DataError(f"{source}: key '{key}': expected {ndim} dimensions, got {value.ndim} "
                        f"(shape {tuple(value.shape)})")
    return np.array(value, dtype=np.float32)


def check_finite(values: np.ndarray, source: str, key: str, note: str = '') -> None:
    """DataError if NaN or inf is left in ``values``."""
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.argwhere(bad)[0][0])
        raise DataError(f"{source}: key '{key}': {int(bad.sum())} NaN or infinite values{note} "
                        f"(first in row {first})")


def _one_per_sample(arr: np.ndarray, n: int, source: str, key: str, what: str) -> np.ndarray:
    """``arr`` as one value per sample, ``(n,)`` (an ``(n, 1)`` column is flattened)."""
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{source}: key '{key}': expected one {what} per sample, got shape {tuple(arr.shape)}")
    if len(arr) != n:
        raise DataError(f"{source}: key '{key}': {len(arr)} {what}s for {n} samples")
    return arr


def check_lengths(lengths: Any, n: int, max_len: int, source: str, key: str) -> np.ndarray:
    """Real lengths ``(n,)`` as int64, each in ``0 .. max_len``."""
    arr = lengths if isinstance(lengths, np.ndarray) else np.asarray(lengths)
    if arr.dtype.kind not in 'iuf':
        raise DataError(f"{source}: key '{key}': expected whole-number lengths, got dtype {arr.dtype}")
    arr = _one_per_sample(arr, n, source, key, 'length')
    if arr.dtype.kind == 'f' and (not np.isfinite(arr).all() or (arr != np.round(arr)).any()):
        raise DataError(f"{source}: key '{key}': lengths must be whole numbers")
    arr = arr.astype(np.int64)
    if n and (arr.min() < 0 or arr.max() > max_len):
        row = int(np.argmax((arr < 0) | (arr > max_len)))
        raise DataError(f"{source}: key '{key}': length {int(arr[row])} in row {row} is beyond the array "
                        f"(it has {max_len} steps)")
    return arr


def real_mask(lengths: np.ndarray, width: int) -> np.ndarray:
    """``(S, width)`` bool, True on real tokens."""
    return np.arange(width)[None, :] < np.asarray(lengths)[:, None]


def zero_padding(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Steps beyond the real length set to zero (in place), so that nothing leaks from padding."""
    values[~real_mask(lengths, values.shape[1])] = 0.0
    return values


def _label_values(labels: Any, source: str, key: str, task: str) -> np.ndarray:
    arr = labels if isinstance(labels, np.ndarray) else np.asarray(labels)
    if arr.dtype.kind in 'USa' or (arr.dtype.kind == 'O' and any(isinstance(v, (str, bytes)) for v in arr.ravel())):
        raise DataError(f"{source}: key '{key}': labels are strings; data.task {task} needs "
                        f"{'numbers' if task == 'regression' else 'integer class indices'}")
    if arr.dtype.kind == 'b':
        raise DataError(f"{source}: key '{key}': labels are true/false; data.task {task} needs "
                        f"{'numbers' if task == 'regression' else 'integer class indices 0..K-1'}")
    if arr.dtype.kind == 'O':
        try:
            arr = arr.astype(np.float64)
        except (ValueError, TypeError):
            raise DataError(f"{source}: key '{key}': labels are not numbers") from None
    if arr.dtype.kind not in 'fiu':
        raise DataError(f"{source}: key '{key}': labels of dtype {arr.dtype} are not numbers")
    return arr


def labels_array(labels: Any, n: int, source: str, key: str, task: str) -> np.ndarray:
    """Sentence-level labels ``(n,)`` (an ``(n, 1)`` column is flattened), type-checked for the task."""
    arr = _label_values(labels, source, key, task)
    return _one_per_sample(arr, n, source, key, 'label')


def finalize(splits: Dict[str, Split], *, source: str, task: str, level: str, options: Mapping[str, Any],
             name: str, label_keys: Mapping[str, str], feature_keys: Mapping[str, Mapping[str, str]],
             extra: Optional[Dict] = None) -> MultimodalData:
    """Shared checks of a read dataset and its label conventions.

    Checks: every split non-empty; each modality's width equal across splits;
    labels of the right type and range for ``task`` (see the module docstring for
    ``label_scale`` and ``n_classes``). Labels become float32 (regression) or int64.
    """
    for s in SPLITS:
        if len(splits[s]) == 0:
            raise DataError(f"{source}: key '{label_keys[s]}': the {s} split is empty")
    for m in splits['train'].features:
        width = splits['train'].features[m].shape[-1]
        for s in SPLITS:
            other = splits[s].features[m].shape[-1]
            if other != width:
                raise DataError(f"{source}: key '{feature_keys[s][m]}': feature width {other} differs from "
                                f"{width} in '{feature_keys['train'][m]}'")
    first = next(iter(splits['train'].features))
    real = {s: (real_mask(sp.lengths[first], sp.labels.shape[1]) if level == 'dialogue'
                else np.ones(len(sp), dtype=bool)) for s, sp in splits.items()}
    bins = options.get('label_bins')
    if bins and task != 'classification':
        raise ConfigError("key 'data.options.label_bins': only with data.task: classification")
    values = {s: _label_values(sp.labels, source, label_keys[s], 'regression' if bins else task)
              for s, sp in splits.items()}
    for s, v in values.items():
        bad = ~np.isfinite(v[real[s]].astype(np.float64))
        if bad.any():
            raise DataError(f"{source}: key '{label_keys[s]}': {int(bad.sum())} labels are NaN or infinite")
    if bins:
        values = {s: np.where(real[s], np.digitize(np.where(real[s], v, 0).astype(np.float64), bins), 0)
                  .astype(np.int64) for s, v in values.items()}
    n_classes, label_scale = None, 3.0
    if task == 'classification':
        for s, v in values.items():
            r = v[real[s]]
            if v.dtype.kind == 'f' and (r != np.round(r)).any():
                bad = r[r != np.round(r)][0]
                raise DataError(f"{source}: key '{label_keys[s]}': label {bad:g} is not a class index; "
                                f"data.task classification needs integers 0..K-1 (use data.task: regression "
                                f"for continuous labels)")
            if len(r) and r.min() < 0:
                raise DataError(f"{source}: key '{label_keys[s]}': label {r.min():g} is out of range for "
                                f"classification (class indices start at 0)")
        top = int(max(v[real[s]].max() for s, v in values.items()))
        n_classes = options.get('n_classes') or max(top + 1, 2)
        for s, v in values.items():
            if v[real[s]].max() >= n_classes:
                raise DataError(f"{source}: key '{label_keys[s]}': label {int(v[real[s]].max())} is out of "
                                f"range for data.options.n_classes {n_classes}")
        for s, sp in splits.items():
            sp.labels = np.where(real[s], values[s], 0).astype(np.int64)
    else:
        biggest = max(float(np.abs(v[real[s]]).max()) for s, v in values.items())
        wanted = options.get('label_scale', 'auto')
        if wanted == 'auto':
            label_scale = 1.0 if biggest <= 1.0 + 1e-6 else 2.0 if biggest <= 2.0 + 1e-6 else 3.0
        else:
            label_scale = float(wanted)
        limit = 3.0 if wanted == 'auto' else label_scale
        for s, v in values.items():
            r = np.abs(v[real[s]])
            if r.max() > limit + 1e-6:
                raise DataError(f"{source}: key '{label_keys[s]}': label {v[real[s]][np.argmax(r)]:g} is out of "
                                f"range for regression (expected within [-{limit:g}, {limit:g}])")
        for s, sp in splits.items():
            sp.labels = np.where(real[s], values[s], 0).astype(np.float32)
    return MultimodalData(splits, level, task, n_classes=n_classes, label_scale=label_scale, name=name,
                          extra=dict(extra or {}))


# ---------------------------------------------------------------------------------- shared transforms

def zscore(data: MultimodalData) -> MultimodalData:
    """Per-feature z-score with the training split's real-token statistics; padding stays zero."""
    stats = {}
    train = data.splits['train']
    for m, f in train.features.items():
        real = real_mask(train.lengths[m], f.shape[1])
        tokens = f[real].astype(np.float64)
        mean = tokens.mean(axis=0) if len(tokens) else np.zeros(f.shape[-1])
        std = tokens.std(axis=0) if len(tokens) else np.ones(f.shape[-1])
        std = np.where(std < 1e-8, 1.0, std)
        stats[m] = (mean.astype(np.float32), std.astype(np.float32))
    splits = {}
    for s, sp in data.splits.items():
        feats = {}
        for m, f in sp.features.items():
            mean, std = stats[m]
            out = ((f - mean) / std).astype(np.float32)
            feats[m] = zero_padding(out, sp.lengths[m])
        splits[s] = Split(feats, dict(sp.lengths), sp.labels, sp.ids)
    out = data.with_splits(splits)
    out.extra = dict(data.extra, normalization={m: {'mean': v[0], 'std': v[1]} for m, v in stats.items()})
    return out


def utterances_as_sentences(data: MultimodalData) -> MultimodalData:
    """Dialogue-level data as sentence-level samples: one utterance per sample, one step per modality."""
    splits = {}
    uids = data.extra.get('utterance_ids', {})
    for s, sp in data.splits.items():
        first = next(iter(sp.lengths))
        real = real_mask(sp.lengths[first], sp.labels.shape[1])
        n = int(real.sum())
        feats = {m: f[real][:, None, :].astype(np.float32) for m, f in sp.features.items()}
        lengths = {m: np.ones(n, dtype=np.int64) for m in sp.features}
        if s in uids:
            ids = np.asarray(uids[s])[real]
        else:
            rows, cols = np.nonzero(real)
            ids = np.array([f'{sp.ids[r]}#{c}' for r, c in zip(rows, cols)])
        splits[s] = Split(feats, lengths, sp.labels[real], ids)
    extra = {k: v for k, v in data.extra.items() if k not in ('speakers', 'utterance_ids')}
    out = data.with_splits(splits)
    out.level = 'sentence'
    out.extra = extra
    return out


def carve_valid(pool, every: int):
    """``(rest, valid)``: the ids at sorted positions ``i % every == 0`` become validation."""
    ids = sorted(pool)
    valid = [v for i, v in enumerate(ids) if i % every == 0]
    rest = [v for i, v in enumerate(ids) if i % every != 0]
    return rest, valid
