"""MMSA "Processed" pickles (CMU-MOSI, CMU-MOSEI, CH-SIMS), aligned and unaligned; sentence level.

The file is a dict ``{'train', 'valid', 'test'}``, each split a dict of arrays
(see ``docs/data-formats.md`` A): ``text`` ``(N, L, 768)`` BERT features,
``text_bert`` ``(N, 3, L)`` = [input ids, attention mask, segment ids],
``audio`` ``(N, T_a, d_a)``, ``vision`` ``(N, T_v, d_v)``, ``audio_lengths`` /
``vision_lengths`` ``(N,)`` (unaligned files), ``regression_labels`` ``(N,)``,
``classification_labels``, ``id``. It is loaded with the restricted unpickler
(:mod:`rmnas_nni.data.safe_pickle`).

* Text is used as features. When ``text_bert`` is there, the text's real length
  is the number of ones of its attention mask, ``extra['text_is_bert']`` is True
  and ``extra['text_ids']`` holds the input ids, so the masked ids (dropped tokens as
  [UNK] = 100, [CLS]/[SEP] kept) are saved with a run's masks. The text *vectors*
  are masked with no position protected: BERT computed [CLS]/[SEP] from the whole
  sentence (:mod:`rmnas_nni.data.missing`).
* Audio and vision lengths come from ``<key>_lengths``. **(decision)** Aligned
  files have no length keys: a sequence's real length then runs up to its last
  frame that is not all zeros (these files pad with zeros at the end), at least 1.
* ``-inf`` values (MOSI's audio has some) are set to 0; any NaN or inf left is an
  error. Steps beyond the real length are set to 0.
* Labels: ``regression_labels`` for ``data.task: regression``,
  ``classification_labels`` for classification, or the key named by
  ``data.options.label_key`` (e.g. ``regression_labels_T``). CH-SIMS labels lie in
  [-1, 1] and give ``label_scale = 1.0`` (see :mod:`rmnas_nni.data.readers`).
* Arrays keep their padded length from the file, so EMT-DLFR's masks (drawn over
  the padded ``(N, L)`` grid) are reproduced exactly.

Options (``data.options``): ``features`` ``{modality: key}`` (default: the
modality's name), ``label_key``, and the common ``normalize``, ``label_scale``,
``n_classes``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping

import numpy as np

from ..config import Field
from ..errors import DataError
from .dataset import SPLITS, MultimodalData, Split
from .readers import register_format, check_finite, check_lengths, finalize, labels_array, numeric_array, zero_padding
from .safe_pickle import load_pickle

__all__ = ['OPTIONS', 'LEVEL', 'read', 'trailing_lengths']

LEVEL = 'sentence'
OPTIONS = {
    'features': Field(dict, {}),
    'label_key': Field(str, None, nullable=True),
}
TEXT_BERT_KEY = 'text_bert'


def trailing_lengths(values: np.ndarray) -> np.ndarray:
    """Per sample, the index after the last frame that is not all zeros (at least 1)."""
    nonzero = np.any(values != 0, axis=2)
    last = values.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
    last[~nonzero.any(axis=1)] = 0
    return np.maximum(last, 1).astype(np.int64)


def _text_bert(part: Mapping[str, Any], n: int, width: int, source: str, key: str):
    """``(ids, lengths)`` from a ``text_bert`` array ``(N, 3, L)``."""
    arr = numeric_array(part[TEXT_BERT_KEY], source, key, 3, what='token ids')
    if arr.shape[0] != n:
        raise DataError(f"{source}: key '{key}': {arr.shape[0]} samples but the text features have {n}")
    if arr.shape[1] < 2:
        raise DataError(f"{source}: key '{key}': expected [input_ids, attention_mask, segment_ids] on axis 1, "
                        f"got {arr.shape[1]} rows")
    if arr.shape[2] != width:
        raise DataError(f"{source}: key '{key}': {arr.shape[2]} tokens but the text features have {width} steps")
    check_finite(arr, source, key)
    ids, mask = arr[:, 0], arr[:, 1]
    if (ids != np.round(ids)).any() or ids.min() < 0:
        raise DataError(f"{source}: key '{key}': input ids (row 0) must be non-negative integers")
    if not np.isin(mask, (0, 1)).all():
        raise DataError(f"{source}: key '{key}': the attention mask (row 1) must hold only 0 and 1")
    lengths = mask.sum(axis=1).astype(np.int64)
    if (mask != (np.arange(width)[None, :] < lengths[:, None])).any():
        raise DataError(f"{source}: key '{key}': the attention mask (row 1) must be ones followed by zeros")
    return ids.astype(np.int64), lengths


def read(path: Path, modalities: List[str], task: str, options: Mapping[str, Any]) -> MultimodalData:
    """Read an MMSA pickle (module docstring)."""
    source = str(path)
    obj = load_pickle(path)
    if not isinstance(obj, dict):
        raise DataError(f'{source}: top level: expected a dict with keys train, valid, test, '
                        f'got {type(obj).__name__}')
    label_key = options.get('label_key') or ('regression_labels' if task == 'regression'
                                             else 'classification_labels')
    keys = {m: options.get('features', {}).get(m, m) for m in modalities}
    splits: Dict[str, Split] = {}
    text_ids: Dict[str, np.ndarray] = {}
    feature_keys = {s: {m: f'{s}.{keys[m]}' for m in modalities} for s in SPLITS}
    cleaned = 0
    for s in SPLITS:
        if s not in obj:
            raise DataError(f"{source}: key '{s}': missing split (the file has: {', '.join(map(str, obj)) or 'none'})")
        part = obj[s]
        if not isinstance(part, dict):
            raise DataError(f"{source}: key '{s}': expected a dict of arrays, got {type(part).__name__}")
        if label_key not in part:
            raise DataError(f"{source}: key '{s}.{label_key}': missing (the split has: "
                            f"{', '.join(map(str, part))}; data.options.label_key names another)")
        if np.size(part[label_key]) == 0:
            raise DataError(f"{source}: key '{s}.{label_key}': the {s} split is empty")
        feats, lengths = {}, {}
        n = None
        for m in modalities:
            key = keys[m]
            fkey = f'{s}.{key}'
            if key not in part:
                raise DataError(f"{source}: key '{fkey}': missing modality '{m}' (the split has: "
                                f"{', '.join(map(str, part))})")
            values = numeric_array(part[key], source, fkey, 3)
            if n is None:
                n, n_from = len(values), fkey
            elif len(values) != n:
                raise DataError(f"{source}: key '{fkey}': {len(values)} samples but '{n_from}' has {n}")
            neg_inf = np.isneginf(values)
            cleaned += int(neg_inf.sum())
            values[neg_inf] = 0.0
            check_finite(values, source, fkey, ' left after setting -inf to 0')
            if m == 'text' and TEXT_BERT_KEY in part:
                ids, lens = _text_bert(part, len(values), values.shape[1], source, f'{s}.{TEXT_BERT_KEY}')
                text_ids[s] = ids
            elif f'{key}_lengths' in part:
                lens = check_lengths(part[f'{key}_lengths'], len(values), values.shape[1], source,
                                     f'{s}.{key}_lengths')
            else:
                lens = trailing_lengths(values)
            feats[m] = zero_padding(values, lens)
            lengths[m] = lens
        labels = labels_array(part[label_key], n, source, f'{s}.{label_key}', task)
        ids = np.asarray(part['id']).astype(str).reshape(-1) if 'id' in part else None
        if ids is None or len(ids) != n:
            ids = np.array([f'{s}{i}' for i in range(n)])
        splits[s] = Split(feats, lengths, labels, ids)
    extra: Dict[str, Any] = {'neg_inf_set_to_zero': cleaned}
    if 'text' in modalities:
        have = [s for s in SPLITS if s in text_ids]
        if have and len(have) != len(SPLITS):
            lacking = next(s for s in SPLITS if s not in text_ids)
            raise DataError(f"{source}: key '{lacking}.{TEXT_BERT_KEY}': missing (split '{have[0]}' has it)")
        if have:
            extra['text_is_bert'] = True
            extra['text_ids'] = text_ids
    return finalize(splits, source=source, task=task, level=LEVEL, options=options, name=f'mmsa:{path.name}',
                    label_keys={s: f'{s}.{label_key}' for s in SPLITS}, feature_keys=feature_keys, extra=extra)


register_format('mmsa', read, LEVEL, OPTIONS)
