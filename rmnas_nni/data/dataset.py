"""In-memory multimodal data, as every reader produces it, and batching.

A :class:`MultimodalData` holds the ``train`` / ``valid`` / ``test`` splits of one
dataset. Each :class:`Split` stores, per modality, a zero-padded float array
``(S, T_m, D_m)`` with the real lengths ``(S,)``; sequences are left-aligned.

* sentence level: a sample is an utterance, ``labels`` is ``(S,)``;
* dialogue level: a sample is a dialogue whose tokens are utterances, every
  modality has the same length per dialogue, ``labels`` is ``(S, T)`` and only the
  first ``length`` entries of a row are real.

A batch is a dict of tensors: ``inputs`` and ``masks`` (``{modality: tensor}``),
``label`` and ``label_mask`` (True where a label is real), ``index`` (sample rows).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ['Split', 'MultimodalData', 'SplitDataset', 'EpochShuffleSampler', 'collate', 'make_loader']

SPLITS = ('train', 'valid', 'test')


@dataclasses.dataclass
class Split:
    """One split: padded features, real lengths and labels per sample."""

    features: Dict[str, np.ndarray]
    lengths: Dict[str, np.ndarray]
    labels: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, rows: np.ndarray) -> 'Split':
        return Split({m: f[rows] for m, f in self.features.items()},
                     {m: n[rows] for m, n in self.lengths.items()},
                     self.labels[rows], self.ids[rows])


@dataclasses.dataclass
class MultimodalData:
    """A dataset ready for RMNAS.

    Attributes
    ----------
    splits
        ``{'train': Split, 'valid': Split, 'test': Split}``.
    level
        ``'sentence'`` or ``'dialogue'``.
    task
        ``'regression'`` or ``'classification'``.
    n_classes
        Number of classes (classification), else None.
    label_scale
        Regression label range: 3.0 for labels in [-3, 3] (MOSI/MOSEI), 1.0 for [-1, 1] (CH-SIMS).
    name
        A short description of the source, for logs and result tables.
    extra
        Reader-specific extras: ``text_is_bert`` (the text features are precomputed
        BERT vectors; see :meth:`notes`), ``text_ids`` (``{split: (S, T) token ids}``), ``folds`` ...
    """

    splits: Dict[str, Split]
    level: str
    task: str
    n_classes: Optional[int] = None
    label_scale: float = 3.0
    name: str = ''
    extra: Dict = dataclasses.field(default_factory=dict)

    def with_splits(self, splits: Dict[str, Split]) -> 'MultimodalData':
        """The same dataset description over other splits."""
        return dataclasses.replace(self, splits=splits)

    @property
    def modalities(self) -> List[str]:
        return list(self.splits['train'].features)

    @property
    def dims(self) -> Dict[str, int]:
        return {m: int(f.shape[-1]) for m, f in self.splits['train'].features.items()}

    @property
    def max_lengths(self) -> Dict[str, int]:
        return {m: max(max(int(s.features[m].shape[1]), 1) for s in self.splits.values()) for m in self.modalities}

    @property
    def out_dim(self) -> int:
        return 1 if self.task == 'regression' else int(self.n_classes)

    def summary(self, missing_rate=None) -> str:
        """One line describing the data (and the missing rate), then one line per note (:meth:`notes`)."""
        sizes = ', '.join(f'{k} {len(v)}' for k, v in self.splits.items())
        mods = ', '.join(f'{m} {self.dims[m]}-d x{self.max_lengths[m]}' for m in self.modalities)
        rate = f'; missing rate {missing_rate}' if missing_rate is not None else ''
        return '\n'.join([f'{self.name or "data"}: {self.level} level {self.task}; {sizes}; {mods}{rate}']
                         + [f'  note: {n}' for n in self.notes()])

    def notes(self) -> List[str]:
        """What a reader of the results must know about this data (printed under the summary)."""
        out = list(self.extra.get('notes', []))
        if self.extra.get('text_is_bert') and 'text' in self.modalities:
            out.append('text is precomputed BERT vectors: the missing rate zeroes that fraction of them, '
                       '[CLS]/[SEP] included, but each kept vector was computed from the whole sentence and '
                       'still carries information about the dropped tokens; results are NOT comparable with '
                       "EMT-DLFR's, which re-runs BERT on [UNK]-masked token ids")
        return out


class SplitDataset(Dataset):
    """Index dataset over a :class:`Split` (collation does the work)."""

    def __init__(self, split: Split, level: str):
        self.split = split
        self.level = level

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int) -> int:
        return i


def collate(split: Split, level: str, rows: Sequence[int]) -> Dict:
    """Batch of ``rows``: trims padding to the longest real length in the batch."""
    rows = np.asarray(rows)
    inputs, masks = {}, {}
    for m, feats in split.features.items():
        lengths = split.lengths[m][rows]
        width = max(int(lengths.max()), 1)
        inputs[m] = torch.from_numpy(np.ascontiguousarray(feats[rows, :width], dtype=np.float32))
        masks[m] = torch.from_numpy(np.arange(width)[None, :] < lengths[:, None])
    labels = split.labels[rows]
    if level == 'dialogue':
        first = next(iter(split.lengths))
        width = inputs[first].shape[1]
        labels = labels[:, :width]
        label_mask = masks[first].clone()
    else:
        label_mask = torch.ones(len(rows), dtype=torch.bool)
    label = torch.from_numpy(np.ascontiguousarray(labels))
    label = label.float() if label.is_floating_point() else label.long()
    return {'inputs': inputs, 'masks': masks, 'label': label, 'label_mask': label_mask,
            'index': torch.from_numpy(rows.astype(np.int64))}


class EpochShuffleSampler(Sampler):
    """Shuffles with a permutation that depends only on ``(seed, epoch)``.

    Lightning calls :meth:`set_epoch` before each epoch; the thin trainer does too.
    A run resumed at an epoch boundary therefore sees exactly the batches an
    uninterrupted run would have seen.
    """

    def __init__(self, n: int, seed: int, on_epoch: Optional[Callable[[int], None]] = None):
        self.n = n
        self.seed = seed
        self.epoch = 0
        self.on_epoch = on_epoch
        if on_epoch is not None:
            on_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        if self.on_epoch is not None:
            self.on_epoch(self.epoch)

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n


def make_loader(split: Split, level: str, batch_size: int, shuffle: bool, seed: int = 0,
                redraw=None) -> DataLoader:
    """DataLoader over a split; shuffling is reproducible per epoch (see :class:`EpochShuffleSampler`).

    ``redraw`` (a :class:`~rmnas_nni.data.missing.TrainingMaskRedraw`) re-masks the
    split at the start of every epoch; it needs ``shuffle``.
    """
    if redraw is not None:
        split = Split(dict(split.features), split.lengths, split.labels, split.ids)
    dataset = SplitDataset(split, level)
    on_epoch = functools.partial(redraw.apply, split) if redraw is not None else None
    sampler = EpochShuffleSampler(len(dataset), seed, on_epoch) if shuffle else None
    # A private generator: creating an iterator must not draw from the global RNG, or
    # the dropout masks after a resume would depend on when Lightning built its iterators.
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=False,
                      collate_fn=functools.partial(collate, split, level), num_workers=0,
                      generator=torch.Generator().manual_seed(seed))
