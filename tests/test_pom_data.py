"""The shipped POM copy (data/pom/pom_mfn.pkl) read through the project's reader: shapes, splits, labels."""
import hashlib

import numpy as np
import pytest

from rmnas_nni.config import PROJECT_ROOT
from rmnas_nni.data.safe_pickle import load_pickle
from rmnas_nni.metrics import metric_kind
from rmnas_nni.pipeline import load_config, prepare_data

POM = PROJECT_ROOT / 'data' / 'pom' / 'pom_mfn.pkl'
SHA256 = '796944f1665fb74e6c318df68814a3adad389cb9dac078ba597565e85a6acc97'
SIZES = {'train': 600, 'valid': 100, 'test': 203}


def test_shipped_file_is_the_documented_one():
    assert hashlib.sha256(POM.read_bytes()).hexdigest() == SHA256


def test_example_config_reads_the_copy():
    cfg = load_config('examples/pom_sentence.yml')
    data, masks = prepare_data(cfg)
    assert data.level == 'sentence' and data.task == 'regression'
    assert data.modalities == ['audio', 'vision']
    assert data.dims == {'audio': 43, 'vision': 41}
    assert data.label_scale == 3.0 and metric_kind(data.task, data.level, data.label_scale) == 'mosi'
    for s, n in SIZES.items():
        split = data.splits[s]
        assert len(split) == n
        assert split.features['audio'].shape == (n, 20, 43)
        assert split.features['vision'].shape == (n, 20, 41)
        np.testing.assert_array_equal(split.lengths['audio'], split.lengths['vision'])   # aligned
        assert split.lengths['audio'].min() >= 1 and split.lengths['audio'].max() == 20
        y = split.labels.ravel()
        assert y.min() == -3.0 and y.max() == 3.0 and np.all(np.isfinite(y))
        real = np.arange(20)[None, :] < split.lengths['audio'][:, None]
        np.testing.assert_array_equal(masks[s]['audio'], real)        # rate 0: every real token kept


def test_label_is_the_sentiment_column_shifted():
    raw = load_pickle(POM)
    for s, n in SIZES.items():
        part = raw[s]
        assert part['labels_raw'].shape == (n, 17)
        np.testing.assert_allclose(part['regression_labels'], part['labels_raw'][:, 14] - 4.0)
        # padding is at the end: every step beyond the real length is zero
        real = np.arange(20)[None, :] < part['audio_lengths'][:, None]
        assert not part['audio'][~real].any() and not part['vision'][~real].any()


@pytest.mark.parametrize('rate', [0.5, 1.0])
def test_sentence_masks_drop_tokens(rate):
    cfg = load_config('examples/pom_sentence.yml', {'data': {'missing': {'rate': rate}}})
    data, masks = prepare_data(cfg)
    split = data.splits['train']
    real = np.arange(20)[None, :] < split.lengths['audio'][:, None]
    kept = masks['train']['audio'][real].mean()
    assert abs(kept - (1 - rate)) < 0.05
    assert not split.features['audio'][~masks['train']['audio']].any()
