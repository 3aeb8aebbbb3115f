"""GCNet's dialogue layout (IEMOCAP, CMU-MOSI, CMU-MOSEI): a label pickle and per-utterance ``.npy`` folders.

``data.path`` is the label pickle, loaded with the restricted unpickler: a list
``[videoIDs, videoLabels, videoSpeakers, videoSentences, trainVids, testVids]``
(IEMOCAP) or with ``valVids`` after ``trainVids`` (CMU-MOSI / CMU-MOSEI).
``videoIDs[dialogue]`` lists the utterance ids in order; labels are class
indices (IEMOCAP) or floats in [-3, 3]; speakers are kept in
``extra['speakers']`` (``{split: (S, T) str}``) and utterance ids in
``extra['utterance_ids']``.

Features: one folder per modality under ``feature_root`` (default: the pickle's
folder), named by ``data.options.features`` (default: the modality's name), e.g.
``{audio: wav2vec-large-c-UTT, text: deberta-large-4-UTT, vision: manet_UTT}``.
An utterance's feature is ``<folder>/<utterance id>.npy``, or a folder
``<folder>/<utterance id>/`` of several ``.npy`` (faces), mean-pooled. As in
GCNet's own reader, a 2-D ``(T, D)`` array is averaged over ``T`` and an
utterance whose face folder is empty gets a zero vector (counted in
``extra['empty_feature_folders']``).

Splits:

* ``fold: k`` (1..5): IEMOCAP leave-one-session-out. Every dialogue listed in the
  pickle is pooled; its session is the 5th character of its id (``Ses03...`` ->
  3); the test split is session ``k``, the others train. ``extra['folds'] = 5``.
* no ``fold``: ``trainVids`` / ``valVids`` / ``testVids`` as in the file.
* ``valid_from`` (**decision**): ``auto`` takes ``valVids`` when the file has them
  (and no ``fold`` is set), else carves the validation dialogues from the
  training ones: sort their ids and take sorted positions ``i % valid_every == 0``
  (``valid_every`` default 5, a fifth). IEMOCAP's files have no validation split
  and GCNet selected epochs on the test session; a slice of the training
  sessions keeps the test session unseen. ``file``, ``train`` and ``test``
  force a source (``test`` carves from the test dialogues instead).

Options (``data.options``): ``features``, ``feature_root``, ``fold``,
``valid_from``, ``valid_every`` and the common ``normalize``, ``label_scale``,
``n_classes``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping

import numpy as np

from ..config import Field, at_least, one_of
from ..errors import ConfigError, DataError
from .dataset import SPLITS, MultimodalData, Split
from .readers import register_format, carve_valid, check_finite, finalize, numeric_array
from .safe_pickle import load_pickle

__all__ = ['OPTIONS', 'LEVEL', 'read', 'utterance_feature', 'session_of']

LEVEL = 'dialogue'
N_FOLDS = 5
OPTIONS = {
    'features': Field(dict, {}),
    'feature_root': Field(str, None, nullable=True),
    'fold': Field(int, None, lambda v: None if 1 <= v <= N_FOLDS else f'must be 1..{N_FOLDS}', nullable=True),
    'valid_from': Field(str, 'auto', one_of('auto', 'file', 'train', 'test')),
    'valid_every': Field(int, 5, at_least(2)),
}
NAMES_6 = ('videoIDs', 'videoLabels', 'videoSpeakers', 'videoSentences', 'trainVids', 'testVids')
NAMES_7 = ('videoIDs', 'videoLabels', 'videoSpeakers', 'videoSentences', 'trainVids', 'valVids', 'testVids')


def session_of(dialogue: str, source: str) -> int:
    """IEMOCAP session of a dialogue id (its 5th character: ``Ses03F_impro01`` -> 3)."""
    if len(dialogue) < 5 or not dialogue[4].isdigit():
        raise DataError(f"{source}: key 'videoIDs[{dialogue!r}]': no session number as 5th character "
                        f"(data.options.fold needs IEMOCAP ids like 'Ses03F_impro01')")
    return int(dialogue[4])


def _load_npy(path: Path, source_key: str) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if 'allow_pickle' in str(exc):
            raise DataError(f'{path}: key {source_key!r}: object array (pickled objects are not loaded)') from None
        raise DataError(f'{path}: not a valid .npy file ({exc.__class__.__name__})') from None
    except (OSError, EOFError) as exc:
        raise DataError(f'{path}: not a valid .npy file ({exc.__class__.__name__})') from None
    arr = numeric_array(arr, str(path), source_key)
    arr = np.squeeze(arr)
    if arr.ndim == 2:
        arr = arr.mean(axis=0)
    if arr.ndim != 1:
        raise DataError(f"{path}: key {source_key!r}: expected a (D,) or (T, D) feature, got shape {arr.shape}")
    return arr


def utterance_feature(folder: Path, uid: str, modality: str):
    """One utterance's vector (``None`` for an empty face folder)."""
    file = folder / f'{uid}.npy'
    if file.is_file():
        return _load_npy(file, uid)
    sub = folder / uid
    if sub.is_dir():
        faces = [_load_npy(f, uid) for f in sorted(sub.glob('*.npy'))]
        if not faces:
            return None
        widths = {len(f) for f in faces}
        if len(widths) != 1:
            raise DataError(f"{sub}: key {uid!r}: face features of different widths {sorted(widths)}")
        return np.mean(faces, axis=0)
    raise DataError(f"{file}: file not found (modality '{modality}', utterance {uid!r}; "
                    f"neither {uid}.npy nor a folder {uid}/ is in {folder})")


def _vid_list(value: Any, source: str, key: str) -> List[str]:
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return sorted(str(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value))
    raise DataError(f"{source}: key '{key}': expected a list of dialogue ids, got {type(value).__name__}")


def _dict(value: Any, source: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise DataError(f"{source}: key '{key}': expected a dict {{dialogue id: list}}, got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _as_list(value: Any) -> list:
    return value.tolist() if isinstance(value, np.ndarray) else list(value)


def _assign_splits(parts: Dict[str, Any], source: str, options: Mapping[str, Any]) -> Dict[str, List[str]]:
    has_val = 'valVids' in parts
    valid_from = options['valid_from']
    fold = options.get('fold')
    if fold is not None:
        pool = sorted(set(parts['trainVids']) | set(parts.get('valVids', [])) | set(parts['testVids']))
        sessions = {v: session_of(v, source) for v in pool}
        test = [v for v in pool if sessions[v] == fold]
        train = [v for v in pool if sessions[v] != fold]
        if not test:
            raise DataError(f"{source}: key 'videoIDs': no dialogue of session {fold} for data.options.fold {fold} "
                            f"(sessions: {', '.join(map(str, sorted(set(sessions.values()))))})")
        if valid_from == 'file':
            raise ConfigError("key 'data.options.valid_from': 'file' cannot be used with data.options.fold "
                              "(a fold defines the splits)")
        valid = []
        source_of_valid = 'test' if valid_from == 'test' else 'train'
    else:
        train, test = list(parts['trainVids']), list(parts['testVids'])
        valid = list(parts.get('valVids', []))
        if valid_from == 'file' and not has_val:
            raise ConfigError(f"key 'data.options.valid_from': 'file' but {source} has no valVids "
                              f"(use auto, train or test)")
        if valid_from in ('train', 'test') and has_val:
            raise ConfigError(f"key 'data.options.valid_from': {valid_from!r} but {source} has valVids "
                              f"(use auto or file)")
        source_of_valid = 'file' if has_val else ('test' if valid_from == 'test' else 'train')
    every = options['valid_every']
    if source_of_valid == 'train':
        train, valid = carve_valid(train, every)
    elif source_of_valid == 'test':
        test, valid = carve_valid(test, every)
    return {'train': sorted(train), 'valid': sorted(valid), 'test': sorted(test)}


def read(path: Path, modalities: List[str], task: str, options: Mapping[str, Any]) -> MultimodalData:
    """Read a GCNet label pickle and its feature folders (module docstring)."""
    source = str(path)
    obj = load_pickle(path)
    if not isinstance(obj, (list, tuple)) or len(obj) not in (6, 7):
        got = f'a {type(obj).__name__} of {len(obj)}' if isinstance(obj, (list, tuple)) else type(obj).__name__
        raise DataError(f'{source}: top level: expected a list [videoIDs, videoLabels, videoSpeakers, '
                        f'videoSentences, trainVids, (valVids,) testVids], got {got}')
    names = NAMES_7 if len(obj) == 7 else NAMES_6
    parts: Dict[str, Any] = {}
    for name, value in zip(names, obj):
        if name.endswith('Vids'):
            parts[name] = _vid_list(value, source, name)
        elif name != 'videoSentences':
            parts[name] = _dict(value, source, name)
    split_vids = _assign_splits(parts, source, options)
    video_ids, video_labels, speakers = parts['videoIDs'], parts['videoLabels'], parts['videoSpeakers']
    for s in SPLITS:
        if not split_vids[s]:
            key = {'train': 'trainVids', 'valid': 'valVids', 'test': 'testVids'}[s]
            raise DataError(f"{source}: key '{key}': the {s} split is empty")
        for v in split_vids[s]:
            if v not in video_ids:
                raise DataError(f"{source}: key 'videoIDs[{v!r}]': missing (the dialogue is listed in a split)")
    root = Path(options['feature_root']) if options.get('feature_root') else path.parent
    if not root.is_absolute():
        root = path.parent / root
    folders = {}
    for m in modalities:
        folder = root / options.get('features', {}).get(m, m)
        if not folder.is_dir():
            raise DataError(f"{folder}: feature folder of modality '{m}' not found "
                            f"(set data.options.features.{m} or data.options.feature_root)")
        folders[m] = folder
    # labels and speakers of every split first (cheap), then the feature files
    tables = {}
    for s in SPLITS:
        vids = split_vids[s]
        utts = [[str(u) for u in _as_list(video_ids[v])] for v in vids]
        lengths = np.array([len(u) for u in utts], dtype=np.int64)
        t = max(int(lengths.max()), 1)
        labels = np.zeros((len(vids), t), dtype=np.float64)
        spk = np.full((len(vids), t), '', dtype=object)
        uid_arr = np.full((len(vids), t), '', dtype=object)
        for i, v in enumerate(vids):
            if v not in video_labels:
                raise DataError(f"{source}: key 'videoLabels[{v!r}]': missing")
            lab = _as_list(video_labels[v])
            if len(lab) != lengths[i]:
                raise DataError(f"{source}: key 'videoLabels[{v!r}]': {len(lab)} labels for {lengths[i]} "
                                f"utterances in videoIDs")
            lab_arr = np.asarray(lab)
            if lab_arr.dtype.kind in 'USaOb':
                raise DataError(f"{source}: key 'videoLabels[{v!r}]': labels must be numbers, "
                                f"got {lab_arr.dtype}")
            labels[i, :lengths[i]] = lab_arr
            if v in speakers:
                sp = [str(x) for x in _as_list(speakers[v])]
                if len(sp) != lengths[i]:
                    raise DataError(f"{source}: key 'videoSpeakers[{v!r}]': {len(sp)} speakers for "
                                    f"{lengths[i]} utterances in videoIDs")
                spk[i, :lengths[i]] = sp
            uid_arr[i, :lengths[i]] = utts[i]
        tables[s] = (vids, utts, lengths, t, labels, spk, uid_arr)
    splits, speaker_arrays, uid_arrays = {}, {}, {}
    empty_folders = 0
    width: Dict[str, int] = {}
    first_uid: Dict[str, str] = {}
    for s in SPLITS:
        vids, utts, lengths, t, labels, spk, uid_arr = tables[s]
        feats = {}
        for m in modalities:
            vectors: Dict[tuple, Any] = {}
            for i, us in enumerate(utts):
                for j, u in enumerate(us):
                    vec = utterance_feature(folders[m], u, m)
                    if vec is None:
                        empty_folders += 1
                    elif m not in width:
                        width[m], first_uid[m] = len(vec), u
                    elif len(vec) != width[m]:
                        raise DataError(f"{folders[m]}: key {u!r}: feature width {len(vec)} differs from "
                                        f"{width[m]} of {first_uid[m]!r}")
                    vectors[(i, j)] = vec
            if m not in width:
                raise DataError(f"{folders[m]}: every face folder of the {s} split is empty")
            arr = np.zeros((len(vids), t, width[m]), dtype=np.float32)
            for (i, j), vec in vectors.items():
                if vec is not None:
                    arr[i, j] = vec
            check_finite(arr, str(folders[m]), f'{s} utterances')
            feats[m] = arr
        splits[s] = Split(feats, {m: lengths.copy() for m in modalities}, labels, np.array(vids))
        speaker_arrays[s] = spk.astype(str)
        uid_arrays[s] = uid_arr.astype(str)
    extra = {'speakers': speaker_arrays, 'utterance_ids': uid_arrays, 'empty_feature_folders': empty_folders}
    fold = options.get('fold')
    if fold is not None:
        extra.update(folds=N_FOLDS, fold=fold)
    name = f'gcnet:{path.name}' + (f' fold {fold}/{N_FOLDS}' if fold is not None else '')
    keys = {s: {m: f'{folders[m].name}/' for m in modalities} for s in SPLITS}
    return finalize(splits, source=source, task=task, level=LEVEL, options=options, name=name,
                    label_keys={s: 'videoLabels' for s in SPLITS}, feature_keys=keys, extra=extra)


register_format('gcnet', read, LEVEL, OPTIONS)
