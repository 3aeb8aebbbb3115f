"""Data: readers for the layouts researchers have, the embedded default, missing-modality protocols.

``load_data`` reads what a run config's ``data`` section names (formats in
:mod:`rmnas_nni.data.readers`); ``prepare_data`` then applies the configured
missing-modality protocol (:mod:`rmnas_nni.data.missing`) and returns the masks.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from ..errors import DataError
from ..config import DataConfig, check_data_options
from . import readers
from .dataset import MultimodalData, Split, collate, make_loader
from .missing import TrainingMaskRedraw, apply_missing, check_protocol_rate, resolve_protocol
from .synthetic import make_synthetic

__all__ = ['MultimodalData', 'Split', 'collate', 'make_loader', 'load_data', 'prepare_data', 'apply_missing']


def load_data(data_cfg: DataConfig) -> MultimodalData:
    """Read the dataset a run config's ``data`` section names, keeping its ``modalities``."""
    fmt = data_cfg.format
    if fmt == 'synthetic':
        options = check_data_options('synthetic', data_cfg.options)
        data = make_synthetic(data_cfg.level, data_cfg.task, data_cfg.seed, **options)
    else:
        data = readers.read(fmt, data_cfg)
    return select_modalities(data, data_cfg.modalities, data_cfg.path or data.name)


def select_modalities(data: MultimodalData, modalities, source: str) -> MultimodalData:
    """Keep only the configured modalities, in the configured order."""
    available = data.modalities
    for m in modalities:
        if m not in available:
            raise DataError(f"{source}: key '{m}': modality not in the data (available: {', '.join(available)})")
    splits = {name: Split({m: s.features[m] for m in modalities}, {m: s.lengths[m] for m in modalities},
                          s.labels, s.ids) for name, s in data.splits.items()}
    return data.with_splits(splits)


def prepare_data(data_cfg: DataConfig) -> Tuple[MultimodalData, Dict[str, Dict[str, np.ndarray]]]:
    """Load the data and apply the configured missing-modality protocol; returns ``(data, masks)``."""
    data = load_data(data_cfg)
    missing = data_cfg.missing
    rate = missing.rate
    protocol = resolve_protocol(missing.protocol, data.level)
    check_protocol_rate(rate, protocol, 'data.missing.rate')
    seeds = {str(k): int(v) for k, v in missing.seeds.items()}
    extra = data.extra
    # precomputed contextual text vectors: no position is protected, [CLS]/[SEP] included
    # (rmnas_nni.data.missing); the token ids keep theirs
    masked, masks = apply_missing(data, rate, protocol, seeds, text_token_ids=extra.get('text_ids'))
    if missing.redraw_train:
        masked.extra = dict(masked.extra, train_redraw=TrainingMaskRedraw(data, rate, protocol, seeds))
    return masked, masks
