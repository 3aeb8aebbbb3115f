"""The two missing-modality protocols against RMNAS section 7 (EMT-DLFR sentence level, GCNet dialogue level)."""
import numpy as np
import pytest

from rmnas_nni.data.dataset import MultimodalData, Split
from rmnas_nni.data.missing import (SENTENCE_SEEDS, UNK_ID, apply_missing, dialogue_keep_matrix,
                                    dialogue_keep_matrix_per_modality, sentence_token_mask)
from rmnas_nni.errors import ConfigError

SHAPES = {'text': (30, 6), 'audio': (40, 5), 'vision': (25, 4)}


def sentence_data(n=300, seed=0, same_shape_splits=True):
    rng = np.random.default_rng(seed)
    splits = {}
    for k, s in enumerate(('train', 'valid', 'test')):
        size = n if same_shape_splits else n + 7 * k
        feats, lens = {}, {}
        for m, (t, d) in SHAPES.items():
            lens[m] = rng.integers(3, t + 1, size)
            x = rng.standard_normal((size, t, d)).astype(np.float32) + 5.0
            x[np.arange(t)[None] >= lens[m][:, None]] = 0.0
            feats[m] = x
        splits[s] = Split(feats, lens, rng.uniform(-3, 3, size).astype(np.float32), np.arange(size).astype(str))
    return MultimodalData(splits, 'sentence', 'regression')


def dialogue_data(n=120, t=20, seed=0, mods=('text', 'audio', 'vision')):
    rng = np.random.default_rng(seed)
    splits = {}
    for s in ('train', 'valid', 'test'):
        lens = rng.integers(4, t + 1, n)
        feats = {}
        for k, m in enumerate(mods):
            x = rng.standard_normal((n, t, 3 + k)).astype(np.float32) + 5.0
            x[np.arange(t)[None] >= lens[:, None]] = 0.0
            feats[m] = x
        splits[s] = Split(feats, {m: lens.copy() for m in mods}, np.zeros((n, t), np.float32), np.arange(n).astype(str))
    return MultimodalData(splits, 'dialogue', 'regression')


def real(lengths, width):
    return np.arange(width)[None] < np.asarray(lengths)[:, None]


def emt_dlfr_mask(lengths, width, rate, seed, text=False):
    """EMT-DLFR's draw as its data loader writes it (np.random.seed, uniform > r, times the input mask)."""
    input_mask = real(lengths, width).astype(int)
    np.random.seed(seed)
    missing_mask = (np.random.uniform(size=input_mask.shape) > rate) * input_mask
    if text:
        input_len = np.argmin(input_mask, axis=1)
        for i, inst in enumerate(missing_mask):
            inst[0] = inst[input_len[i] - 1] = 1
    return missing_mask.astype(bool)


# ------------------------------------------------------------------------------------------ sentence

@pytest.mark.parametrize('rate', [0.1, 0.3, 0.5, 0.7, 0.9])
def test_sentence_drop_rate_per_token(rate):
    data = sentence_data()
    out, masks = apply_missing(data, rate, 'sentence')
    for s, split in data.splits.items():
        for m in SHAPES:
            r = real(split.lengths[m], SHAPES[m][0])
            dropped = 1.0 - masks[s][m][r].mean()
            assert abs(dropped - rate) < 0.02, (s, m, dropped)
            assert not masks[s][m][~r].any()                   # padding is never "kept"


def test_sentence_mask_is_emt_dlfr_draw_with_fixed_seeds():
    data = sentence_data(same_shape_splits=False)
    _, masks = apply_missing(data, 0.4, 'sentence', keep_text_ends=True)
    assert SENTENCE_SEEDS == {'text': 111, 'audio': 1111, 'vision': 11111}
    for s, split in data.splits.items():
        for m in SHAPES:
            want = emt_dlfr_mask(split.lengths[m], SHAPES[m][0], 0.4, SENTENCE_SEEDS[m], text=m == 'text')
            np.testing.assert_array_equal(masks[s][m], want)


def test_sentence_same_seed_same_mask_other_seed_other_mask():
    data = sentence_data()
    _, a = apply_missing(data, 0.3, 'sentence')
    _, b = apply_missing(data, 0.3, 'sentence')
    _, c = apply_missing(data, 0.3, 'sentence', seeds={'audio': 7})
    for m in SHAPES:
        np.testing.assert_array_equal(a['test'][m], b['test'][m])
    assert not np.array_equal(a['test']['audio'], c['test']['audio'])
    np.testing.assert_array_equal(a['test']['text'], c['test']['text'])
    # one seed per modality for every split: splits of equal shape get the same draw
    raw = np.random.RandomState(1111).uniform(size=(300, 40)) > 0.3
    for s in ('train', 'valid', 'test'):
        np.testing.assert_array_equal(a[s]['audio'], raw & real(data.splits[s].lengths['audio'], 40))


def test_sentence_features_zeroed_kept_and_padding_untouched():
    data = sentence_data()
    out, masks = apply_missing(data, 0.5, 'sentence')
    for s in data.splits:
        for m in SHAPES:
            before, after, keep = data.splits[s].features[m], out.splits[s].features[m], masks[s][m]
            assert (after[~keep] == 0).all()
            np.testing.assert_array_equal(after[keep], before[keep])
            pad = ~real(data.splits[s].lengths[m], SHAPES[m][0])
            assert (after[pad] == before[pad]).all()
    assert (data.splits['train'].features['audio'] != 0).any(axis=-1).sum() > 0     # input not modified in place
    np.testing.assert_array_equal(out.splits['test'].lengths['text'], data.splits['test'].lengths['text'])


def test_sentence_cls_sep_never_dropped_and_unk_ids():
    data = sentence_data()
    rng = np.random.default_rng(3)
    ids = {}
    for s, split in data.splits.items():
        lens = split.lengths['text']
        x = rng.integers(1000, 30000, (len(lens), 30))
        x[:, 0] = 101
        x[np.arange(len(lens)), lens - 1] = 102
        x[~real(lens, 30)] = 0
        ids[s] = x
    for rate in (0.5, 1.0):
        out, masks = apply_missing(data, rate, 'sentence', keep_text_ends=True, text_token_ids=ids)
        for s, split in data.splits.items():
            lens = split.lengths['text']
            rows = np.arange(len(lens))
            keep, masked = masks[s]['text'], masks[s]['text_ids']
            assert keep[:, 0].all() and keep[rows, lens - 1].all()
            assert (masked[:, 0] == 101).all() and (masked[rows, lens - 1] == 102).all()
            r = real(lens, 30)
            assert (masked[r & ~keep] == UNK_ID).all()
            assert (masked[r & keep] == ids[s][r & keep]).all()
            assert (masked[~r] == 0).all()                                   # padding untouched
            if rate == 1.0:
                inner = r.copy()
                inner[:, 0] = False
                inner[rows, lens - 1] = False
                assert not keep[inner].any()
            assert (out.splits[s].features['text'][r & ~keep] == 0).all()
            if rate == 1.0:                                  # audio and vision have no protected tokens
                assert not masks[s]['audio'].any() and not masks[s]['vision'].any()


def test_sentence_per_modality_rates():
    data = sentence_data()
    rates = {'text': 0.0, 'audio': 0.5, 'vision': 0.9}
    _, masks = apply_missing(data, rates, 'sentence')
    for m, r in rates.items():
        split = data.splits['train']
        dropped = 1.0 - masks['train'][m][real(split.lengths[m], SHAPES[m][0])].mean()
        assert abs(dropped - r) < 0.02, (m, dropped)
    _, partial = apply_missing(data, {'audio': 0.5}, 'sentence')
    assert partial['train']['text'][real(data.splits['train'].lengths['text'], 30)].all()


def test_sentence_rate_zero_keeps_everything():
    data = sentence_data(n=50)
    out, masks = apply_missing(data, 0.0, 'sentence')
    for m in SHAPES:
        np.testing.assert_array_equal(masks['train'][m], real(data.splits['train'].lengths[m], SHAPES[m][0]))
        np.testing.assert_array_equal(out.splits['train'].features[m], data.splits['train'].features[m])


def test_token_mask_accepts_float_lengths():
    a = sentence_token_mask(np.array([3.0, 5.0]), 6, 0.5, 1, keep_ends=True)
    b = sentence_token_mask(np.array([3, 5]), 6, 0.5, 1, keep_ends=True)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------------------ dialogue

@pytest.mark.parametrize('rate', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
def test_dialogue_kept_fraction_and_one_modality_kept(rate):
    keep = dialogue_keep_matrix(3000, 3, rate, np.random.default_rng(0))
    assert keep.shape == (3000, 3) and keep.dtype == bool
    assert keep.any(axis=1).all()
    if 1 - rate <= 1 / 3:
        assert (keep.sum(axis=1) == 1).all()
        assert abs(keep.mean() - 1 / 3) < 1e-9
    else:
        assert abs(keep.mean() - (1 - rate)) < 0.005
    # every modality is dropped about equally often
    assert np.ptp(keep.mean(axis=0)) < 0.05


def test_dialogue_rate_zero_two_and_one_modality():
    rng = np.random.default_rng(0)
    assert dialogue_keep_matrix(10, 3, 0.0, rng).all()
    two = dialogue_keep_matrix(2000, 2, 0.3, rng)
    assert two.any(axis=1).all() and abs(two.mean() - 0.7) < 0.005
    assert (dialogue_keep_matrix(100, 2, 0.5, rng).sum(axis=1) == 1).all()        # 1 - r <= 1/M: exactly one
    assert dialogue_keep_matrix(10, 1, 0.7, rng).all()                             # a single modality is kept
    assert dialogue_keep_matrix(0, 3, 0.3, rng).shape == (0, 3)


def test_dialogue_apply_masks_utterances_and_keeps_padding():
    data = dialogue_data()
    out, masks = apply_missing(data, 0.4, 'dialogue')
    for s, split in data.splits.items():
        r = real(split.lengths['text'], 20)
        stacked = np.stack([masks[s][m] for m in ('text', 'audio', 'vision')], -1)
        assert stacked[r].any(axis=1).all()                  # at least one modality per real utterance
        assert not stacked[~r].any()
        assert abs(stacked[r].mean() - 0.6) < 0.01
        for m in ('text', 'audio', 'vision'):
            keep = masks[s][m]
            after, before = out.splits[s].features[m], split.features[m]
            assert (after[~keep] == 0).all()
            np.testing.assert_array_equal(after[keep], before[keep])
        np.testing.assert_array_equal(out.splits[s].labels, split.labels)


def test_dialogue_same_seed_same_mask():
    data = dialogue_data()
    _, a = apply_missing(data, 0.5, 'dialogue')
    _, b = apply_missing(data, 0.5, 'dialogue')
    _, c = apply_missing(data, 0.5, 'dialogue', seeds={'dialogue': 3})
    for m in ('text', 'audio', 'vision'):
        np.testing.assert_array_equal(a['test'][m], b['test'][m])
    assert any(not np.array_equal(a['test'][m], c['test'][m]) for m in ('text', 'audio', 'vision'))


def test_dialogue_per_modality_rates():
    data = dialogue_data(n=400)
    rates = {'text': 0.1, 'audio': 0.5, 'vision': 0.7}
    _, masks = apply_missing(data, rates, 'dialogue')
    split = data.splits['train']
    r = real(split.lengths['text'], 20)
    stacked = np.stack([masks['train'][m][r] for m in rates], -1)
    assert stacked.any(axis=1).all()
    # kept with probability 1 - r_m, plus the rescue of utterances left with nothing (< 0.1 * 0.5 * 0.7)
    for k, (m, rate) in enumerate(rates.items()):
        assert (1 - rate) - 0.02 < stacked[:, k].mean() < (1 - rate) + 0.035 + 0.02, (m, stacked[:, k].mean())
    keep = dialogue_keep_matrix_per_modality(5000, np.array([1.0, 1.0]), np.random.default_rng(0))
    assert (keep.sum(axis=1) == 1).all()


def test_dialogue_protocol_on_sentence_level_data_drops_whole_modalities():
    data = sentence_data(n=500, same_shape_splits=False)
    out, masks = apply_missing(data, 0.5, 'dialogue')
    for s, split in data.splits.items():
        per_sample = np.stack([masks[s][m].any(axis=1) for m in SHAPES], -1)
        assert per_sample.any(axis=1).all()
        for m in SHAPES:
            r = real(split.lengths[m], SHAPES[m][0])
            keep_m = masks[s][m]
            # all real frames of a modality are kept or dropped together
            np.testing.assert_array_equal(keep_m, r & keep_m.any(axis=1, keepdims=True))
            assert (out.splits[s].features[m][r & ~keep_m] == 0).all()
        assert abs(per_sample.mean() - 0.5) < 0.01


def test_dialogue_rate_above_limit_is_refused(tmp_path):
    from rmnas_nni.data import prepare_data
    from rmnas_nni.config import DataConfig
    cfg = DataConfig.build({'format': 'synthetic', 'level': 'dialogue', 'task': 'regression', 'seed': 0,
                            'options': {}, 'modalities': ['text', 'audio', 'vision'],
                            'missing': {'rate': 0.8, 'protocol': 'auto', 'seeds': {}}})
    with pytest.raises(ConfigError, match='data.missing.rate: the dialogue-level protocol takes rates up to 0.7'):
        prepare_data(cfg)


def test_training_masks_redrawn_each_epoch_valid_and_test_fixed():
    from rmnas_nni.data import make_loader, prepare_data
    from rmnas_nni.config import load_run_config
    cfg = load_run_config(None, {'data': {'level': 'dialogue', 'missing': {'rate': 0.5, 'redraw_train': True}}})
    data, masks = prepare_data(cfg.data)
    redraw = data.extra['train_redraw']
    loader = make_loader(data.splits['train'], data.level, 8, shuffle=True, seed=0, redraw=redraw)
    split = loader.dataset.split

    def kept(feats):
        return np.abs(feats).sum(-1) > 0

    lengths = split.lengths['text']
    real = np.arange(split.features['text'].shape[1])[None] < lengths[:, None]
    seen = []
    for epoch in (0, 1, 1, 2):
        loader.sampler.set_epoch(epoch)
        keep = np.stack([kept(split.features[m])[real] for m in data.modalities], 1)
        assert keep.any(1).all()                                     # at least one modality per utterance
        assert abs(1 - keep.mean() - 0.5) < 0.05                     # the protocol's rate, every epoch
        seen.append(keep)
    assert np.array_equal(seen[1], seen[2])                          # same epoch, same draw (resume)
    assert not np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[1], seen[3])
    # the split the loader masks is its own: the data's train split keeps the load-time masks
    for m in data.modalities:
        assert np.array_equal(kept(data.splits['train'].features[m]), masks['train'][m])
    fixed, _ = prepare_data(cfg.data)
    for name in ('valid', 'test'):
        for m in data.modalities:
            assert np.array_equal(fixed.splits[name].features[m], data.splits[name].features[m])
