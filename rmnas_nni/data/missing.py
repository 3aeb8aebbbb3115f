"""The two published missing-modality protocols (RMNAS section 7).

**Sentence level (EMT-DLFR).** Per modality and per token, drop independently
with rate ``r``. The mask of a split is drawn once, at load time, exactly as
EMT-DLFR draws it: ``np.random.seed(seed)`` then ``uniform(size=(S, T)) > r``, times
the real-token mask, with one fixed seed per modality (text 111, audio 1111, vision
11111) used for every split. A dropped audio/vision frame becomes a zero vector; a
dropped text token becomes the [UNK] id 100 when text is token ids, or a zero vector
when text is features. Token ids keep [CLS] (first) and [SEP] (last real) as
EMT-DLFR does, because BERT then runs again on the masked ids.

**(revised)** Precomputed contextual vectors (MMSA's ``text``, BERT outputs) are
masked with the same draw, but no position is protected: BERT computed the [CLS] and
[SEP] vectors from the whole sentence, so keeping them would hand the model the
sentence at any rate (at ``r = 1.0`` a model read the label off the [CLS] vector
alone). Even so, every kept vector was computed from the whole sentence and still
carries information about the dropped tokens: results on such features are not
comparable with EMT-DLFR's, which re-runs BERT on [UNK]-masked ids. The masked ids
(``masks[split]['text_ids']``) are saved with a run for that purpose.

**Dialogue level (GCNet).** Per utterance, a keep-vector over the ``M`` modalities
with at least one modality kept: ``r = 0`` keeps all; if ``1 - r <= 1/M`` exactly one
random modality is kept; otherwise one random modality is kept plus each other one
with probability ``q = (M(1-r) - 1) / (M - 1)``, so the expected kept fraction is
``1 - r``. Like GCNet, the draw is repeated (up to 100 times) until the kept fraction
is within 0.005 of ``1 - r``; the closest draw is used. Dropped modality vectors
become zeros. Rates up to 0.7. **(decision)** Under this protocol sentence-level
data (``data.missing.protocol: dialogue`` with ``data.level: sentence``) treats each
sample as the utterance: a dropped modality loses all its frames.

**Per-modality rates** ``{text: r_t, audio: r_a, vision: r_v}``: sentence level uses
each modality's own rate. Dialogue level **(decision)**: modality ``m`` is kept with
probability ``1 - r_m`` independently; an utterance left with nothing keeps one
modality drawn with probability proportional to ``1 - r_m`` (uniformly if all are 1).

Every mask is a pure function of the config (rates, seeds) and the data, and is
saved with a run (``masks.npz``).

**Re-drawn training masks** (``data.missing.redraw_train``, off by default): the
training split gets a fresh draw of the same protocol at the same rate every epoch,
as GCNet's own code masks each batch anew; validation and test keep the masks drawn
at load time, so what is evaluated is exactly the protocol above. The draw of epoch
``e`` depends only on the seeds and ``e`` (:class:`TrainingMaskRedraw`).
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Tuple, Union

import numpy as np

from ..errors import ConfigError
from .dataset import MultimodalData, Split

__all__ = ['TrainingMaskRedraw', 'SENTENCE_SEEDS', 'UNK_ID', 'sentence_token_mask', 'drop_tokens', 'dialogue_keep_matrix',
           'dialogue_keep_matrix_per_modality', 'apply_missing', 'resolve_rates', 'resolve_seeds', 'DIALOGUE_MAX_RATE',
           'resolve_protocol', 'check_protocol_rate']

SENTENCE_SEEDS = {'text': 111, 'audio': 1111, 'vision': 11111}
UNK_ID = 100
DIALOGUE_MAX_RATE = 0.7
DIALOGUE_SEED = 0
_SPLIT_OFFSET = {'train': 0, 'valid': 1, 'test': 2}


def resolve_protocol(protocol: str, level: str) -> str:
    """The missing-modality protocol a config names: ``auto`` follows the data's level."""
    return level if protocol == 'auto' else protocol


def check_protocol_rate(rate, protocol: str, where: str) -> None:
    """The dialogue-level protocol keeps at least one modality per utterance, so its scalar rate
    is at most :data:`DIALOGUE_MAX_RATE`; raises a one-line :class:`~rmnas_nni.errors.ConfigError`."""
    if protocol == 'dialogue' and not isinstance(rate, dict) and rate > DIALOGUE_MAX_RATE + 1e-9:
        raise ConfigError(f'{where}: the dialogue-level protocol takes rates up to {DIALOGUE_MAX_RATE} '
                          f'(got {rate:g})')


def sentence_token_mask(lengths: np.ndarray, max_len: int, rate: float, seed: int,
                        keep_ends: bool = False) -> np.ndarray:
    """``(S, max_len)`` bool, True where a real token is kept (EMT-DLFR's draw).

    ``keep_ends`` protects the first and the last real token ([CLS] and [SEP]).
    """
    lengths = np.asarray(lengths).astype(np.int64)
    real = np.arange(max_len)[None, :] < lengths[:, None]
    rng = np.random.RandomState(seed)
    keep = (rng.uniform(size=real.shape) > rate) & real
    if keep_ends:
        rows = np.nonzero(lengths > 0)[0]
        keep[rows, 0] = True
        keep[rows, lengths[rows] - 1] = True
    return keep


def _end_tokens(lengths: np.ndarray, max_len: int) -> np.ndarray:
    """``(S, max_len)`` bool, True at the first and the last real token of each row."""
    lengths = np.asarray(lengths).astype(np.int64)
    ends = np.zeros((len(lengths), max_len), dtype=bool)
    rows = np.nonzero(lengths > 0)[0]
    ends[rows, 0] = True
    ends[rows, lengths[rows] - 1] = True
    return ends


def drop_tokens(values: np.ndarray, keep: np.ndarray, lengths: np.ndarray, token_ids: bool = False) -> np.ndarray:
    """Apply a token mask: zero vectors, or [UNK] for dropped real token ids (padding untouched)."""
    if token_ids:
        real = np.arange(values.shape[1])[None, :] < np.asarray(lengths)[:, None]
        out = values.copy()
        out[real & ~keep] = UNK_ID
        return out
    return values * keep[..., None].astype(values.dtype)


def dialogue_keep_matrix(n: int, n_modalities: int, rate: float, rng: np.random.Generator,
                         tolerance: float = 0.005, tries: int = 100) -> np.ndarray:
    """``(n, M)`` 0/1 keep matrix of the GCNet protocol, at least one 1 per row."""
    if n_modalities < 1:
        raise ValueError('at least one modality is needed')
    if rate <= 0.0 or n == 0:
        return np.ones((n, n_modalities), dtype=bool)
    kept_fraction = 1.0 - rate
    base = np.zeros((n, n_modalities), dtype=bool)
    if n_modalities == 1:
        return ~base
    if kept_fraction <= 1.0 / n_modalities:
        base[np.arange(n), rng.integers(0, n_modalities, size=n)] = True
        return base
    q = (n_modalities * kept_fraction - 1.0) / (n_modalities - 1)
    best, best_err = None, np.inf
    for _ in range(tries):
        keep = base.copy()
        keep[np.arange(n), rng.integers(0, n_modalities, size=n)] = True
        keep |= rng.uniform(size=keep.shape) < q
        err = abs(keep.mean() - kept_fraction)
        if err < best_err:
            best, best_err = keep, err
        if err < tolerance:
            break
    return best


def dialogue_keep_matrix_per_modality(n: int, rates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(n, M)`` keep matrix with one rate per modality (see the module docstring)."""
    rates = np.asarray(rates, dtype=np.float64)
    keep = rng.uniform(size=(n, len(rates))) >= rates[None, :]
    empty = np.nonzero(~keep.any(axis=1))[0]
    weights = 1.0 - rates
    p = weights / weights.sum() if weights.sum() > 0 else np.full(len(rates), 1.0 / len(rates))
    keep[empty, rng.choice(len(rates), size=len(empty), p=p)] = True
    return keep


def resolve_rates(rate: Union[float, Mapping[str, float]], modalities) -> Dict[str, float]:
    """``{modality: rate}`` from a scalar or a per-modality mapping (absent modalities: 0)."""
    if isinstance(rate, Mapping):
        return {m: float(rate.get(m, 0.0)) for m in modalities}
    return {m: float(rate) for m in modalities}


def resolve_seeds(seeds: Optional[Mapping[str, int]], protocol: str, modalities) -> Dict[str, int]:
    """The seeds of a draw with the defaults filled in: sentence ``{modality: seed}``, dialogue ``{'dialogue': seed}``."""
    seeds = dict(seeds or {})
    if protocol == 'sentence':
        return {m: int(seeds.get(m, SENTENCE_SEEDS.get(m, int('1' * (k + 3))))) for k, m in enumerate(modalities)}
    return {'dialogue': int(seeds.get('dialogue', DIALOGUE_SEED))}


def apply_missing(data: MultimodalData, rate: Union[float, Mapping[str, float]], protocol: str = 'auto',
                  seeds: Optional[Mapping[str, int]] = None, keep_text_ends: bool = False,
                  text_token_ids: Optional[Dict[str, np.ndarray]] = None
                  ) -> Tuple[MultimodalData, Dict[str, Dict[str, np.ndarray]]]:
    """Drop modalities by the protocol of the data's level; returns the new data and the masks.

    Parameters
    ----------
    rate
        One rate for all modalities, or ``{modality: rate}``.
    protocol
        ``'auto'`` (by ``data.level``), ``'sentence'`` or ``'dialogue'``.
    seeds
        Sentence level: ``{modality: seed}`` (defaults 111 / 1111 / 11111; other
        modalities get 111 * 10^k). Dialogue level: ``{'dialogue': seed}`` (default 0),
        offset by the split (train +0, valid +1, test +2).
    keep_text_ends
        Never drop the first and last real text token ([CLS] / [SEP]) of the text
        features. Only for text that is token ids; never for precomputed contextual
        vectors (module docstring).
    text_token_ids
        ``{split: (S, T) int ids}`` when the text also exists as token ids; they are
        masked with [UNK] by the same draw, [CLS] and [SEP] kept, and returned in the
        masks under ``'text_ids'``.

    Returns
    -------
    ``(data, masks)``; ``masks[split][modality]`` is a bool array, True where kept
    (sentence: ``(S, T_m)`` per token; dialogue: ``(S, T)`` per utterance).
    """
    protocol = resolve_protocol(protocol, data.level)
    mods = data.modalities
    rates = resolve_rates(rate, mods)
    seeds = resolve_seeds(seeds, protocol, mods)
    new_splits, masks = {}, {}
    for split_name, split in data.splits.items():
        feats = dict(split.features)
        split_masks: Dict[str, np.ndarray] = {}
        if protocol == 'sentence':
            for m in mods:
                lengths = split.lengths[m]
                keep = sentence_token_mask(lengths, feats[m].shape[1], rates[m], seeds[m],
                                           keep_ends=keep_text_ends and m == 'text')
                feats[m] = drop_tokens(feats[m], keep, lengths)
                split_masks[m] = keep
                if m == 'text' and text_token_ids is not None and split_name in text_token_ids:
                    keep_ids = keep | _end_tokens(lengths, keep.shape[1])
                    split_masks['text_ids'] = drop_tokens(text_token_ids[split_name], keep_ids, lengths,
                                                          token_ids=True)
        else:
            # the unit that keeps or loses a modality: a real utterance token (dialogue level),
            # or a whole sample (sentence-level data under the dialogue protocol)
            per_token = data.level == 'dialogue'
            if per_token:
                lengths = np.asarray(split.lengths[mods[0]])
                unit = np.arange(feats[mods[0]].shape[1])[None, :] < lengths[:, None]
            else:
                unit = np.ones((len(split), 1), dtype=bool)
            rng = np.random.default_rng(seeds['dialogue'] * 10 + _SPLIT_OFFSET.get(split_name, 3))
            n_real = int(unit.sum())
            values = list(rates.values())
            if len(set(values)) == 1:
                keep_real = dialogue_keep_matrix(n_real, len(mods), values[0], rng)
            else:
                keep_real = dialogue_keep_matrix_per_modality(n_real, np.array(values), rng)
            for k, m in enumerate(mods):
                keep_unit = np.zeros(unit.shape, dtype=bool)
                keep_unit[unit] = keep_real[:, k]
                lengths = np.asarray(split.lengths[m])
                real = np.arange(feats[m].shape[1])[None, :] < lengths[:, None]
                keep = (keep_unit if per_token else keep_unit[:, :1]) & real
                feats[m] = drop_tokens(feats[m], keep, lengths)
                split_masks[m] = keep
        new_splits[split_name] = Split(feats, dict(split.lengths), split.labels, split.ids)
        masks[split_name] = split_masks
    return data.with_splits(new_splits), masks


class TrainingMaskRedraw:
    """Fresh missing-modality masks for the training split at every epoch.

    Parameters
    ----------
    unmasked
        The dataset before any mask (only its ``train`` split is used).
    rate, protocol, seeds, keep_text_ends
        As for :func:`apply_missing`; epoch ``e`` draws with every seed ``s`` replaced
        by ``s * 1000 + 7 + e``, so no epoch repeats the load-time draw.
    """

    def __init__(self, unmasked: MultimodalData, rate, protocol: str = 'auto',
                 seeds: Optional[Mapping[str, int]] = None, keep_text_ends: bool = False):
        self.unmasked = unmasked.with_splits({'train': unmasked.splits['train']})
        self.rate = rate
        self.protocol = protocol
        self.seeds = dict(seeds or {})
        self.keep_text_ends = keep_text_ends

    def split(self, epoch: int) -> Split:
        """The training split masked for ``epoch``."""
        protocol = resolve_protocol(self.protocol, self.unmasked.level)
        base = resolve_seeds(self.seeds, protocol, self.unmasked.modalities)
        seeds = {k: v * 1000 + 7 + int(epoch) for k, v in base.items()}
        data, _ = apply_missing(self.unmasked, self.rate, self.protocol, seeds, self.keep_text_ends)
        return data.splits['train']

    def apply(self, target: Split, epoch: int) -> None:
        """Write the masked features of ``epoch`` into ``target`` (the split a loader reads)."""
        target.features.update(self.split(epoch).features)
