"""The embedded default dataset: synthetic multimodal sentiment, generated on the fly.

Nothing is downloaded; the same seed gives the same data on every machine.

A latent sentiment drifts smoothly over time,
``s(t) = level + drift * t + wiggle(t)`` for ``t`` in [0, 1], and the label is where
it ends up, ``y = clip(level + drift, -3, 3)``. The three modalities have different
lengths and widths and each carries partial, complementary evidence:

* **text** (16 tokens x 24) sees the ``level`` clearly and the trend barely;
* **audio** (40 frames x 8) sees only ``s(t) - level``: its information is in the
  local trend between adjacent frames (the slope is ``drift``), which is what LST
  encodes;
* **vision** (24 frames x 16) sees ``s(t)`` itself, under heavy noise.

Every modality also has nuisance directions (smooth random curves) and noise, and
real lengths vary per sample (padding follows). Dialogue level: a dialogue is 8-16
utterances, ``t`` runs over utterances, each utterance has one feature vector per
modality and its own label ``y_u = clip(s(t_u), -3, 3)``; text sees ``s`` at each
utterance with noise, audio sees the change from the previous utterance, vision
sees ``s`` with heavy noise, so neighbouring utterances (context) matter.

Classification turns the labels into 3 classes: negative (< -0.5), neutral, positive (> 0.5).
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from ..config import Field
from ..errors import ConfigError
from ..registry import FORMATS
from .dataset import SPLITS, MultimodalData, Split

__all__ = ['make_synthetic', 'SENTENCE_SHAPES', 'DIALOGUE_DIMS']

SENTENCE_SHAPES: Dict[str, Tuple[int, int]] = {'text': (16, 24), 'audio': (40, 8), 'vision': (24, 16)}
DIALOGUE_DIMS: Dict[str, int] = {'text': 24, 'audio': 8, 'vision': 16}
SENTENCE_SIZES = {'train': 480, 'valid': 120, 'test': 200}
DIALOGUE_SIZES = {'train': 96, 'valid': 24, 'test': 40}


def _directions(rng: np.random.Generator, dim: int, k: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((dim, max(dim, k))))
    return q[:, :k].T                                                   # k orthonormal rows of width dim


def _smooth_curves(rng: np.random.Generator, n: int, t: np.ndarray, k: int) -> np.ndarray:
    """``(n, len(t), k)`` smooth random curves (two random sinusoids each)."""
    freq = rng.uniform(0.5, 2.0, size=(n, 1, k, 2))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, k, 2))
    amp = rng.uniform(0.3, 1.0, size=(n, 1, k, 2))
    return (amp * np.sin(2 * np.pi * freq * t[None, :, None, None] + phase)).sum(-1)


def _observe(signal: np.ndarray, directions: np.ndarray, nuisance: np.ndarray, nuisance_dirs: np.ndarray,
             noise: float, rng: np.random.Generator) -> np.ndarray:
    """Embed per-token signals ``(n, T, k)`` and nuisances into a feature space, add noise."""
    x = signal @ directions + nuisance @ nuisance_dirs
    return (x + noise * rng.standard_normal(x.shape)).astype(np.float32)


def _lengths(rng: np.random.Generator, n: int, max_len: int, low: float) -> np.ndarray:
    return rng.integers(int(np.ceil(low * max_len)), max_len + 1, size=n)


def _pad(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    keep = np.arange(x.shape[1])[None, :] < lengths[:, None]
    return (x * keep[..., None]).astype(np.float32)


def _to_classes(y: np.ndarray) -> np.ndarray:
    return np.digitize(y, [-0.5, 0.5]).astype(np.int64)


def _sentence_split(rng: np.random.Generator, n: int, dirs: Dict[str, Tuple[np.ndarray, np.ndarray]]) -> Split:
    level = rng.normal(0.0, 1.0, size=n)
    drift = rng.normal(0.0, 1.2, size=n)
    labels = np.clip(level + drift, -3, 3).astype(np.float32)
    feats, lens = {}, {}
    for m, (t_len, _) in SENTENCE_SHAPES.items():
        t = np.linspace(0.0, 1.0, t_len)
        wiggle = 0.15 * _smooth_curves(rng, n, t, 1)[..., 0]
        trend = drift[:, None] * t[None, :] + wiggle                       # s(t) - level
        if m == 'text':
            signal = np.stack([np.repeat(level[:, None], t_len, 1), 0.2 * trend], -1)
            noise = 1.0
        elif m == 'audio':
            signal = np.stack([3.0 * trend, 3.0 * trend], -1)
            noise = 0.5
        else:
            signal = np.stack([level[:, None] + trend, level[:, None] + trend], -1)
            noise = 4.0
        directions, nuisance_dirs = dirs[m]
        x = _observe(signal, directions, _smooth_curves(rng, n, t, 2), nuisance_dirs, noise, rng)
        lens[m] = _lengths(rng, n, t_len, 0.6)
        feats[m] = _pad(x, lens[m])
    return Split(feats, lens, labels, np.array([f's{i}' for i in range(n)]))


def _dialogue_split(rng: np.random.Generator, n: int, dirs: Dict[str, Tuple[np.ndarray, np.ndarray]],
                    max_utt: int = 16) -> Split:
    lengths = rng.integers(8, max_utt + 1, size=n)
    t = np.linspace(0.0, 1.0, max_utt)
    level = rng.normal(0.0, 1.0, size=(n, 1))
    drift = rng.normal(0.0, 1.5, size=(n, 1))
    s = level + drift * t[None, :] + 0.6 * _smooth_curves(rng, n, t, 1)[..., 0]
    labels = np.clip(s, -3, 3).astype(np.float32)
    delta = np.diff(s, axis=1, prepend=s[:, :1])
    feats = {}
    for m, dim in DIALOGUE_DIMS.items():
        if m == 'text':
            signal, noise = np.stack([s, s], -1), 1.2
        elif m == 'audio':
            signal, noise = np.stack([4.0 * delta, 4.0 * delta], -1), 0.4
        else:
            signal, noise = np.stack([s, s], -1), 2.0
        directions, nuisance_dirs = dirs[m]
        x = _observe(signal, directions, _smooth_curves(rng, n, t, 2), nuisance_dirs, noise, rng)
        feats[m] = _pad(x, lengths)
    labels = labels * (np.arange(max_utt)[None, :] < lengths[:, None])
    return Split(feats, {m: lengths.copy() for m in DIALOGUE_DIMS}, labels, np.array([f'd{i}' for i in range(n)]))


def make_synthetic(level: str = 'sentence', task: str = 'regression', seed: int = 0,
                   sizes: Dict[str, int] | None = None) -> MultimodalData:
    """Generate the embedded dataset.

    Parameters
    ----------
    level
        ``'sentence'`` or ``'dialogue'``.
    task
        ``'regression'`` (labels in [-3, 3]) or ``'classification'`` (3 classes).
    seed
        Data seed; the same seed gives identical arrays.
    sizes
        Samples per split (sentences or dialogues); defaults to a CPU-sized set.
    """
    rng = np.random.default_rng(seed)
    dims = {m: d for m, (_, d) in SENTENCE_SHAPES.items()} if level == 'sentence' else DIALOGUE_DIMS
    dirs = {m: (_directions(rng, d, 2) * 1.5, _directions(rng, d, 2)) for m, d in dims.items()}
    sizes = dict(SENTENCE_SIZES if level == 'sentence' else DIALOGUE_SIZES, **(sizes or {}))
    make = _sentence_split if level == 'sentence' else _dialogue_split
    splits = {name: make(rng, sizes[name], dirs) for name in ('train', 'valid', 'test')}
    if task == 'classification':
        for split in splits.values():
            split.labels = _to_classes(split.labels)
    return MultimodalData(splits, level, task, n_classes=3 if task == 'classification' else None,
                          label_scale=3.0, name=f'synthetic-{level}')


def _check_sizes(options, source: str) -> None:
    for k, v in options['sizes'].items():
        if k not in SPLITS or not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ConfigError(f"{source}: key 'data.options.sizes.{k}': expected a split name "
                              f"({', '.join(SPLITS)}) with a positive integer")


# the embedded dataset is generated, not read: no ``data.path``, no file options
FORMATS.register('synthetic', make_synthetic, level=None, options={'sizes': Field(dict, {})}, check=_check_sizes)
