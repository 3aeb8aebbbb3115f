"""The utterance table (dialogue level): one row per utterance, grouped into dialogues.

Each row has a dialogue id, its position inside the dialogue, a split, a label,
optionally a speaker and an utterance id, and one feature vector per modality.
Two containers:

* ``.npz`` (like ``cmu-mosi-utterances/mosi_utterances.npz``): 1-D arrays for the
  columns and ``(N, D_m)`` arrays for the features, in one file; it is read with
  ``allow_pickle=False``, so object arrays are refused;
* a pandas-readable table (``.csv``, ``.tsv``, ``.parquet``, ``.feather``,
  ``.json``, ``.jsonl``) with the columns, and a feature ``.npz`` beside it
  (``data.options.feature_file``, default: the table's name with ``.npz``) whose
  ``(N, D_m)`` arrays follow the table's row order.

Dialogues are formed by grouping on the dialogue id and ordering by position;
dialogues are sorted by id inside a split. A dialogue must lie in one split and
a position appear once per dialogue.

Splits: the split column holds ``train``, ``valid`` (also ``val``, ``dev``,
``validation``) or ``test``. ``valid_from`` (**decision**): ``auto`` uses the
file's valid rows when there are any, else carves the validation dialogues from
the **test** dialogues: sort the test dialogue ids and take sorted positions
``i % valid_every == 0`` (``valid_every`` default 3). This is the honest
protocol of the CMU-MOSI utterance release, whose text and visual encoders were
fitted on the train videos, so validation on train videos tells model
selection nothing. ``file``, ``train`` and ``test`` force a source.

Options (``data.options``): ``dialogue_column`` (default ``dialogue_id``, else
``video_id``), ``position_column`` (default ``position``, else ``clip_index``),
``split_column`` (``split``), ``label_column`` (``label``), ``speaker_column``
(default ``speaker`` if present), ``id_column`` (default ``utterance_id`` if
present), ``features`` ``{modality: array name}`` (default: the modality's
name), ``feature_file``, ``valid_from``, ``valid_every``, and the common
``normalize``, ``label_scale``, ``n_classes``.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, List, Mapping, Optional

import numpy as np

from ..config import Field, at_least, one_of
from ..errors import ConfigError, DataError
from .dataset import SPLITS, MultimodalData, Split
from .readers import register_format, carve_valid, check_finite, finalize, numeric_array

__all__ = ['OPTIONS', 'LEVEL', 'read', 'TABLE_SUFFIXES']

LEVEL = 'dialogue'
OPTIONS = {
    'dialogue_column': Field(str, None, nullable=True),
    'position_column': Field(str, None, nullable=True),
    'split_column': Field(str, 'split'),
    'label_column': Field(str, 'label'),
    'speaker_column': Field(str, None, nullable=True),
    'id_column': Field(str, None, nullable=True),
    'features': Field(dict, {}),
    'feature_file': Field(str, None, nullable=True),
    'valid_from': Field(str, 'auto', one_of('auto', 'file', 'train', 'test')),
    'valid_every': Field(int, 3, at_least(2)),
}
SPLIT_ALIASES = {'train': 'train', 'valid': 'valid', 'val': 'valid', 'dev': 'valid', 'validation': 'valid',
                 'test': 'test'}
TABLE_SUFFIXES = ('.csv', '.tsv', '.tab', '.txt', '.parquet', '.feather', '.json', '.jsonl')
DEFAULT_COLUMNS = {'dialogue_column': ('dialogue_id', 'video_id'), 'position_column': ('position', 'clip_index'),
                   'speaker_column': ('speaker',), 'id_column': ('utterance_id',)}


class _Npz:
    """Named arrays of an ``.npz``, read one by one with ``allow_pickle=False``."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.z = np.load(path, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise DataError(f'{path}: not a valid .npz file ({exc.__class__.__name__})') from None
        if not hasattr(self.z, 'files'):
            raise DataError(f'{path}: top level: expected an .npz archive of named arrays, got a single array')
        self.names = list(self.z.files)

    def __contains__(self, key: str) -> bool:
        return key in self.names

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.names:
            raise DataError(f"{self.path}: key '{key}': missing (the file has: {', '.join(self.names)})")
        try:
            return self.z[key]
        except ValueError as exc:
            if 'allow_pickle' in str(exc):
                raise DataError(f"{self.path}: key '{key}': object array (pickled objects are not loaded; "
                                f"store text as a fixed-width string array)") from None
            raise DataError(f"{self.path}: key '{key}': cannot read ({exc.__class__.__name__})") from None
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise DataError(f"{self.path}: key '{key}': cannot read ({exc.__class__.__name__}; truncated "
                            f"or corrupt file)") from None


class _Frame:
    """Columns of a pandas-readable table."""

    def __init__(self, path: Path):
        import pandas as pd
        suffix = path.suffix.lower()
        try:
            if suffix in ('.csv', '.txt'):
                df = pd.read_csv(path)
            elif suffix in ('.tsv', '.tab'):
                df = pd.read_csv(path, sep='\t')
            elif suffix == '.parquet':
                df = pd.read_parquet(path)
            elif suffix == '.feather':
                df = pd.read_feather(path)
            elif suffix == '.jsonl':
                df = pd.read_json(path, lines=True)
            else:
                df = pd.read_json(path)
        except ImportError as exc:
            raise DataError(f'{path}: reading {suffix} needs a package that is not installed ({exc.name})') from None
        except Exception as exc:  # pandas raises many kinds for a malformed file
            detail = str(exc).splitlines()[0][:120] if str(exc) else ''
            raise DataError(f'{path}: not a readable {suffix} table ({exc.__class__.__name__}: {detail})') from None
        self.path, self.df = path, df
        self.names = [str(c) for c in df.columns]

    def __contains__(self, key: str) -> bool:
        return key in self.names

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.names:
            raise DataError(f"{self.path}: key '{key}': missing column (the table has: {', '.join(self.names)})")
        col = self.df[key]
        values = col.to_numpy()
        if values.dtype.kind == 'O' or str(col.dtype) in ('string', 'str'):
            if col.isna().any():
                raise DataError(f"{self.path}: key '{key}': {int(col.isna().sum())} empty cells")
            if all(isinstance(v, str) for v in values):
                return values.astype(str)
        return values


def _column(table, options: Mapping[str, Any], option: str, required: bool = True) -> Optional[str]:
    name = options.get(option)
    if name:
        if name not in table:
            raise DataError(f"{table.path}: key '{name}': missing (named by data.options.{option}; "
                            f"the file has: {', '.join(table.names)})")
        return name
    for candidate in DEFAULT_COLUMNS.get(option, ()):
        if candidate in table:
            return candidate
    if required:
        raise DataError(f"{table.path}: key '{DEFAULT_COLUMNS[option][0]}': missing (no column "
                        f"{' or '.join(DEFAULT_COLUMNS[option])}; name it with data.options.{option})")
    return None


def _one_dim(values: np.ndarray, n: int, source: str, key: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1:
        raise DataError(f"{source}: key '{key}': expected one value per row, got shape {tuple(values.shape)}")
    if len(values) != n:
        raise DataError(f"{source}: key '{key}': {len(values)} rows but the table has {n}")
    return values


def _positions(values: np.ndarray, source: str, key: str) -> np.ndarray:
    if values.dtype.kind not in 'iuf' or (values.dtype.kind == 'f' and
                                         (~np.isfinite(values) | (values != np.round(values))).any()):
        raise DataError(f"{source}: key '{key}': positions must be whole numbers, got dtype {values.dtype}")
    return values.astype(np.int64)


def _open(path: Path, options: Mapping[str, Any]):
    """``(table, feature arrays, feature source)``."""
    if path.suffix.lower() == '.npz':
        if options.get('feature_file'):
            raise ConfigError("key 'data.options.feature_file': only for tables other than .npz "
                              "(an .npz table holds its features)")
        table = _Npz(path)
        return table, table
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(f"{path}: unknown table type {path.suffix or '(no suffix)'} "
                        f"(expected .npz or {', '.join(TABLE_SUFFIXES)})")
    table = _Frame(path)
    feature_path = Path(options['feature_file']) if options.get('feature_file') else path.with_suffix('.npz')
    if not feature_path.is_absolute():
        feature_path = path.parent / feature_path
    if not feature_path.is_file():
        raise DataError(f'{feature_path}: file not found (the feature arrays of {path.name}; '
                        f'set data.options.feature_file)')
    return table, _Npz(feature_path)


def read(path: Path, modalities: List[str], task: str, options: Mapping[str, Any]) -> MultimodalData:
    """Read an utterance table (module docstring)."""
    source = str(path)
    table, arrays = _open(path, options)
    dcol = _column(table, options, 'dialogue_column')
    pcol = _column(table, options, 'position_column')
    scol = _column(table, options, 'split_column')
    lcol = _column(table, options, 'label_column')
    spcol = _column(table, options, 'speaker_column', required=False)
    icol = _column(table, options, 'id_column', required=False)
    dialogue = np.asarray(table[dcol])
    n = len(dialogue)
    if dialogue.ndim != 1:
        raise DataError(f"{source}: key '{dcol}': expected one value per row, got shape {dialogue.shape}")
    if n == 0:
        raise DataError(f"{source}: key '{dcol}': the table has no rows")
    dialogue = dialogue.astype(str)
    position = _positions(_one_dim(table[pcol], n, source, pcol), source, pcol)
    split_raw = _one_dim(table[scol], n, source, scol).astype(str)
    split = np.array([SPLIT_ALIASES.get(v.strip().lower(), '') for v in split_raw])
    if (split == '').any():
        row = int(np.argmax(split == ''))
        raise DataError(f"{source}: key '{scol}': unknown split {split_raw[row]!r} in row {row} "
                        f"(expected train, valid or test)")
    labels = _one_dim(table[lcol], n, source, lcol)
    speakers = _one_dim(table[spcol], n, source, spcol).astype(str) if spcol else np.full(n, '')
    uids = _one_dim(table[icol], n, source, icol).astype(str) if icol else None
    feature_source = str(arrays.path)
    feats_flat = {}
    for m in modalities:
        key = options.get('features', {}).get(m, m)
        if key not in arrays:
            raise DataError(f"{feature_source}: key '{key}': missing modality '{m}' (the file has: "
                            f"{', '.join(arrays.names)})")
        values = numeric_array(arrays[key], feature_source, key, 2)
        if len(values) != n:
            raise DataError(f"{feature_source}: key '{key}': {len(values)} rows but '{lcol}' has {n} labels")
        check_finite(values, feature_source, key)
        feats_flat[m] = values
    if uids is None:
        uids = np.array([f'{d}_{p}' for d, p in zip(dialogue, position)])

    # dialogues: sorted by (dialogue id, position); one split each; positions unique
    order = np.lexsort((position, dialogue))
    d_sorted, p_sorted = dialogue[order], position[order]
    dup = (d_sorted[1:] == d_sorted[:-1]) & (p_sorted[1:] == p_sorted[:-1])
    if dup.any():
        i = int(np.argmax(dup))
        raise DataError(f"{source}: key '{pcol}': position {p_sorted[i]} appears twice in dialogue {d_sorted[i]!r}")
    names, starts, counts = np.unique(d_sorted, return_index=True, return_counts=True)
    dialogue_split = {}
    for name, start, count in zip(names, starts, counts):
        kinds = set(split[order[start:start + count]])
        if len(kinds) > 1:
            raise DataError(f"{source}: key '{scol}': dialogue {name!r} has rows in several splits "
                            f"({', '.join(sorted(kinds))})")
        dialogue_split[name] = kinds.pop()
    by_split = {s: sorted(d for d, k in dialogue_split.items() if k == s) for s in SPLITS}
    valid_from = options['valid_from']
    if valid_from == 'file' and not by_split['valid']:
        raise DataError(f"{source}: key '{scol}': no 'valid' rows (data.options.valid_from: file)")
    if valid_from in ('train', 'test') and by_split['valid']:
        raise ConfigError(f"key 'data.options.valid_from': {valid_from!r} but {source} has 'valid' rows "
                          f"(use auto or file)")
    rule = 'from the file'
    if not by_split['valid']:
        carve_from = 'train' if valid_from == 'train' else 'test'
        by_split[carve_from], by_split['valid'] = carve_valid(by_split[carve_from], options['valid_every'])
        rule = f'{carve_from} dialogues at sorted positions i % {options["valid_every"]} == 0'
    for s in SPLITS:
        if not by_split[s]:
            raise DataError(f"{source}: key '{scol}': the {s} split is empty (no {s!r} dialogues)")

    index = {name: order[start:start + count] for name, start, count in zip(names, starts, counts)}
    splits, speaker_arrays, uid_arrays = {}, {}, {}
    for s in SPLITS:
        rows = [index[d] for d in by_split[s]]
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        t = int(lengths.max())
        feats = {m: np.zeros((len(rows), t, v.shape[1]), dtype=np.float32) for m, v in feats_flat.items()}
        lab = np.zeros((len(rows), t), dtype=labels.dtype if labels.dtype.kind in 'fiu' else object)
        spk = np.full((len(rows), t), '', dtype=object)
        uid = np.full((len(rows), t), '', dtype=object)
        for i, r in enumerate(rows):
            for m in feats:
                feats[m][i, :len(r)] = feats_flat[m][r]
            lab[i, :len(r)] = labels[r]
            spk[i, :len(r)] = speakers[r]
            uid[i, :len(r)] = uids[r]
        splits[s] = Split(feats, {m: lengths.copy() for m in feats}, lab, np.array(by_split[s]))
        speaker_arrays[s], uid_arrays[s] = spk.astype(str), uid.astype(str)
    extra = {'speakers': speaker_arrays, 'utterance_ids': uid_arrays, 'valid_rule': rule}
    fkeys = {s: {m: options.get('features', {}).get(m, m) for m in modalities} for s in SPLITS}
    return finalize(splits, source=source, task=task, level=LEVEL, options=options,
                    name=f'table:{path.name} (valid: {rule})', label_keys={s: lcol for s in SPLITS},
                    feature_keys=fkeys, extra=extra)


register_format('table', read, LEVEL, OPTIONS)
