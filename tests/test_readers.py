"""Readers: each format written here in small files and read back; every validation error."""
import pickle
from pathlib import Path

import numpy as np
import pytest

from rmnas_nni.config import DataConfig
from rmnas_nni.data import load_data, prepare_data
from rmnas_nni.data.readers import check_options
from rmnas_nni.errors import ConfigError, DataError
from rmnas_nni.metrics import metric_kind

MODS = ('text', 'audio', 'vision')
DIMS = {'text': 6, 'audio': 5, 'vision': 4}


def data_cfg(fmt, path, level='sentence', task='regression', modalities=MODS, rate=0.0, **options):
    """A data section; ``normalize: none`` unless given, so values read back exactly as written."""
    options = {'normalize': 'none', **options}
    return DataConfig.build({'format': fmt, 'path': str(path), 'level': level, 'task': task,
                             'modalities': list(modalities), 'seed': 0, 'options': options,
                             'missing': {'rate': rate, 'protocol': 'auto', 'seeds': {}}})


def expect(cfg, *fragments, error=DataError):
    with pytest.raises(error) as info:
        load_data(cfg)
    msg = str(info.value)
    assert '\n' not in msg, msg
    for f in fragments:
        assert str(f) in msg, (f, msg)
    return msg


# ------------------------------------------------------------------------------------------------ MMSA

def mmsa_split(n, rng, aligned=False, scale=3.0, L=8, T={'audio': 12, 'vision': 10}):
    tl = rng.integers(3, L + 1, n)
    tl[0] = L                                                    # one text without padding
    mask = (np.arange(L)[None] < tl[:, None]).astype(np.float32)
    ids = np.where(mask > 0, rng.integers(1000, 2000, (n, L)), 0)
    ids[:, 0] = 101
    ids[np.arange(n), tl - 1] = 102
    part = {'text': (rng.standard_normal((n, L, DIMS['text'])) * mask[..., None]).astype(np.float32),
            'text_bert': np.stack([ids, mask, np.zeros_like(mask)], 1).astype(np.float32),
            'regression_labels': rng.uniform(-scale, scale, n).astype(np.float32),
            'classification_labels': rng.integers(0, 3, n).astype(np.float32),
            'id': np.array([f'clip{i}' for i in range(n)], dtype=object),
            'raw_text': np.array(['words'] * n, dtype=object)}
    for m in ('audio', 'vision'):
        t = L if aligned else T[m]
        lens = tl.copy() if aligned else rng.integers(1, t + 1, n)
        x = rng.standard_normal((n, t, DIMS[m])).astype(np.float32) + 3.0   # never exactly zero
        x[np.arange(t)[None] >= lens[:, None]] = 0.0
        part[m] = x
        if not aligned:
            part[f'{m}_lengths'] = lens.tolist() if m == 'vision' else lens
    if not aligned:
        part['audio'][0, 0, 1] = -np.inf                         # MOSI's audio has some -inf
    return part


def mmsa_obj(sizes=(6, 3, 4), seed=0, **kw):
    rng = np.random.default_rng(seed)
    return {s: mmsa_split(n, rng, **kw) for s, n in zip(('train', 'valid', 'test'), sizes)}


def write_pickle(path, obj, protocol=4):
    Path(path).write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


def test_mmsa_unaligned_read_back(tmp_path):
    obj = mmsa_obj()
    path = write_pickle(tmp_path / 'unaligned_50.pkl', obj)
    data = load_data(data_cfg('mmsa', path))
    assert data.level == 'sentence' and data.task == 'regression' and data.label_scale == 3.0
    assert data.dims == DIMS and data.max_lengths == {'text': 8, 'audio': 12, 'vision': 10}
    assert [len(data.splits[s]) for s in ('train', 'valid', 'test')] == [6, 3, 4]
    tr, raw = data.splits['train'], obj['train']
    np.testing.assert_array_equal(tr.lengths['audio'], raw['audio_lengths'])
    np.testing.assert_array_equal(tr.lengths['vision'], raw['vision_lengths'])
    np.testing.assert_array_equal(tr.lengths['text'], raw['text_bert'][:, 1].sum(1))
    assert tr.features['audio'][0, 0, 1] == 0.0 and np.isfinite(tr.features['audio']).all()
    np.testing.assert_allclose(tr.features['audio'][1], raw['audio'][1])
    np.testing.assert_allclose(tr.labels, raw['regression_labels'])
    assert list(tr.ids) == [f'clip{i}' for i in range(6)]
    assert data.extra['text_is_bert'] is True and data.extra['neg_inf_set_to_zero'] == 3
    np.testing.assert_array_equal(data.extra['text_ids']['test'], obj['test']['text_bert'][:, 0])
    assert metric_kind(data.task, data.level, data.label_scale) == 'mosi'


def test_mmsa_aligned_lengths_from_trailing_zero_frames(tmp_path):
    obj = mmsa_obj(aligned=True)
    obj['train']['audio'][2, :, :] = 0.0                        # an all-zero sequence keeps one frame
    path = write_pickle(tmp_path / 'aligned_50.pkl', obj)
    data = load_data(data_cfg('mmsa', path))
    tr = data.splits['train']
    tl = obj['train']['text_bert'][:, 1].sum(1).astype(int)
    np.testing.assert_array_equal(tr.lengths['vision'], tl)
    assert tr.lengths['audio'][2] == 1 and tr.lengths['audio'][1] == tl[1]
    assert data.max_lengths == {'text': 8, 'audio': 8, 'vision': 8}


def test_mmsa_sims_labels_give_label_scale_one(tmp_path):
    path = write_pickle(tmp_path / 'unaligned_39.pkl', mmsa_obj(scale=1.0))
    data = load_data(data_cfg('mmsa', path))
    assert data.label_scale == 1.0 and metric_kind(data.task, data.level, data.label_scale) == 'sims'
    assert load_data(data_cfg('mmsa', path, label_scale=3)).label_scale == 3.0


def test_mmsa_classification_and_label_key(tmp_path):
    path = write_pickle(tmp_path / 'm.pkl', mmsa_obj())
    data = load_data(data_cfg('mmsa', path, task='classification'))
    assert data.n_classes == 3 and data.splits['train'].labels.dtype == np.int64
    assert load_data(data_cfg('mmsa', path, task='classification', n_classes=5)).n_classes == 5
    obj = mmsa_obj()
    for part in obj.values():
        part['regression_labels_T'] = part['regression_labels'] / 3
    path = write_pickle(tmp_path / 'sims.pkl', obj)
    data = load_data(data_cfg('mmsa', path, label_key='regression_labels_T'))
    assert data.label_scale == 1.0


def test_mmsa_any_subset_of_modalities(tmp_path):
    obj = mmsa_obj()
    for part in obj.values():
        del part['text'], part['text_bert'], part['vision']
    path = write_pickle(tmp_path / 'audio_only.pkl', obj)
    data = load_data(data_cfg('mmsa', path, modalities=['audio']))
    assert data.modalities == ['audio'] and 'text_ids' not in data.extra
    obj = mmsa_obj()
    for part in obj.values():
        part['acoustic'] = part.pop('audio')
        part['acoustic_lengths'] = part.pop('audio_lengths')
    path = write_pickle(tmp_path / 'renamed.pkl', obj)
    data = load_data(data_cfg('mmsa', path, modalities=['vision', 'audio'], features={'audio': 'acoustic'}))
    assert data.modalities == ['vision', 'audio'] and data.dims['audio'] == 5


def test_mmsa_sentence_protocol_masks_token_ids(tmp_path):
    path = write_pickle(tmp_path / 'm.pkl', mmsa_obj(sizes=(40, 5, 5)))
    cfg = data_cfg('mmsa', path, rate=0.5)
    raw, _ = prepare_data(data_cfg('mmsa', path, rate=0.0))
    data, masks = prepare_data(cfg)
    ids = masks['train']['text_ids']
    orig = raw.extra['text_ids']['train']
    lengths = raw.splits['train'].lengths['text']
    rows = np.arange(len(lengths))
    assert (ids[:, 0] == 101).all() and (ids[rows, lengths - 1] == 102).all()
    real = np.arange(ids.shape[1])[None] < lengths[:, None]
    ends = np.zeros_like(real)
    ends[:, 0] = ends[rows, lengths - 1] = True
    dropped = real & ~masks['train']['text']
    assert (dropped & ends).any()                       # BERT vectors: [CLS]/[SEP] are dropped like any token
    assert (ids[dropped & ~ends] == 100).all()          # the ids keep [CLS]/[SEP], BERT would run on them
    assert (ids[~(dropped & ~ends)] == orig[~(dropped & ~ends)]).all()
    assert (data.splits['train'].features['text'][dropped] == 0).all()


def test_mmsa_bert_vectors_all_dropped_at_rate_one(tmp_path):
    path = write_pickle(tmp_path / 'm.pkl', mmsa_obj(sizes=(10, 5, 5)))
    data, masks = prepare_data(data_cfg('mmsa', path, rate=1.0))
    for s, split in data.splits.items():
        assert not masks[s]['text'].any() and (split.features['text'] == 0).all()
        ids, lengths = masks[s]['text_ids'], split.lengths['text']
        assert (ids[:, 0] == 101).all() and (ids[np.arange(len(ids)), lengths - 1] == 102).all()
    assert 'NOT comparable' in data.summary() and len(data.summary().splitlines()) == 2
    del_text, _ = prepare_data(data_cfg('mmsa', path, modalities=['audio', 'vision']))
    assert len(del_text.summary().splitlines()) == 1


# ----------------------------------------------------------------------------------------------- GCNet

def gcnet_layout(root, kind='iemocap', seed=0):
    """GCNet label pickle and three feature folders; returns (pickle path, facts to check)."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    if kind == 'iemocap':
        vids = [f'Ses0{s}{g}_impro0{k}' for s in range(1, 6) for g in 'FM' for k in (1, 2)]
    else:
        vids = [f'video{i:02d}' for i in range(10)]
    video_ids, labels, speakers, sentences = {}, {}, {}, {}
    for v in vids:
        n = int(rng.integers(2, 6))
        video_ids[v] = [f'{v}_{j:03d}' for j in range(n)]
        labels[v] = (rng.integers(0, 4, n).tolist() if kind == 'iemocap'
                     else np.round(rng.uniform(-3, 3, n), 1).tolist())
        speakers[v] = list(rng.choice(['M', 'F'], n)) if kind == 'iemocap' else [''] * n
        sentences[v] = ['hello'] * n
    if kind == 'iemocap':
        train = [v for v in vids if v[4] != '5']
        obj = [video_ids, labels, speakers, sentences, train, [v for v in vids if v[4] == '5']]
    else:
        obj = [video_ids, labels, speakers, sentences, vids[:6], vids[6:8], vids[8:]]
    path = write_pickle(root / f'{kind}_features_raw.pkl', obj, protocol=2)
    facts = {'faces': {}}
    for folder in ('deberta-UTT', 'wav2vec-UTT', 'manet_UTT'):
        (root / 'features' / folder).mkdir(parents=True)
    empty = video_ids[vids[0]][1]
    for v in vids:
        for u in video_ids[v]:
            np.save(root / 'features' / 'deberta-UTT' / f'{u}.npy', rng.standard_normal((1, 6)).astype(np.float32))
            np.save(root / 'features' / 'wav2vec-UTT' / f'{u}.npy', rng.standard_normal((3, 5)).astype(np.float32))
            face_dir = root / 'features' / 'manet_UTT' / u
            face_dir.mkdir()
            if u == empty:
                continue
            faces = rng.standard_normal((int(rng.integers(1, 4)), 4)).astype(np.float32)
            for k, f in enumerate(faces):
                np.save(face_dir / f'face{k}.npy', f)
            facts['faces'][u] = faces.mean(0)
    facts.update(obj=obj, empty=empty, vids=vids)
    return path, facts


GCNET_FEATURES = {'text': 'deberta-UTT', 'audio': 'wav2vec-UTT', 'vision': 'manet_UTT'}


def gcnet_cfg(path, **kw):
    options = dict(features=GCNET_FEATURES, feature_root='features')
    options.update(kw.pop('options', {}))
    return data_cfg('gcnet', path, level=kw.pop('level', 'dialogue'), **kw, **options)


def test_gcnet_iemocap_leave_one_session_out(tmp_path):
    path, facts = gcnet_layout(tmp_path)
    data = load_data(gcnet_cfg(path, task='classification', options={'fold': 2}))
    assert data.level == 'dialogue' and data.n_classes == 4 and data.extra['folds'] == 5
    test_ids = list(data.splits['test'].ids)
    assert test_ids and all(v[4] == '2' for v in test_ids)
    train_pool = sorted(v for v in facts['vids'] if v[4] != '2')
    assert list(data.splits['valid'].ids) == train_pool[::5]
    assert sorted(data.splits['train'].ids) == [v for i, v in enumerate(train_pool) if i % 5]
    assert data.dims == {'text': 6, 'audio': 5, 'vision': 4}
    video_ids, labels, speakers = facts['obj'][:3]
    for s, sp in data.splits.items():
        for i, v in enumerate(sp.ids):
            n = len(video_ids[v])
            assert sp.lengths['text'][i] == n and sp.lengths['vision'][i] == n
            np.testing.assert_array_equal(sp.labels[i, :n], labels[v])
            assert list(data.extra['speakers'][s][i, :n]) == speakers[v]
            assert list(data.extra['utterance_ids'][s][i, :n]) == video_ids[v]
            for j, u in enumerate(video_ids[v]):
                audio = np.load(tmp_path / 'features' / 'wav2vec-UTT' / f'{u}.npy').mean(0)
                np.testing.assert_allclose(sp.features['audio'][i, j], audio, rtol=1e-6)
                if u == facts['empty']:
                    assert (sp.features['vision'][i, j] == 0).all()
                else:
                    np.testing.assert_allclose(sp.features['vision'][i, j], facts['faces'][u], rtol=1e-5)
    assert data.extra['empty_feature_folders'] == 1


def test_gcnet_file_splits_and_mosi_valvids(tmp_path):
    path, facts = gcnet_layout(tmp_path)
    data = load_data(gcnet_cfg(path, task='classification'))
    assert all(v[4] == '5' for v in data.splits['test'].ids)
    assert len(data.splits['valid']) == 4 and len(data.splits['train']) == 12    # 16 train dialogues, i % 5 == 0
    mosi_root = tmp_path / 'mosi'
    mosi_root.mkdir()
    path, facts = gcnet_layout(mosi_root, kind='mosi')
    data = load_data(gcnet_cfg(path))
    assert list(data.splits['valid'].ids) == facts['obj'][5]
    assert data.task == 'regression' and data.label_scale == 3.0
    with pytest.raises(ConfigError, match='data.options.valid_from'):
        load_data(gcnet_cfg(path, options={'valid_from': 'train'}))
    flat = load_data(gcnet_cfg(path, level='sentence'))
    assert flat.level == 'sentence' and flat.max_lengths == {'text': 1, 'audio': 1, 'vision': 1}
    assert len(flat.splits['test']) == sum(len(facts['obj'][0][v]) for v in facts['obj'][6])


def test_gcnet_errors(tmp_path):
    path, facts = gcnet_layout(tmp_path)
    u = facts['obj'][0][facts['vids'][3]][0]
    npy = tmp_path / 'features' / 'deberta-UTT' / f'{u}.npy'
    saved = np.load(npy)
    npy.unlink()
    expect(gcnet_cfg(path, task='classification'), f'{u}.npy', 'file not found')
    np.save(npy, saved)
    expect(gcnet_cfg(path, task='classification', options={'features': {'text': 'nowhere'}}),
           'nowhere', "modality 'text'")
    obj = list(facts['obj'])
    obj[1] = dict(obj[1], **{facts['vids'][0]: [0]})
    write_pickle(path, obj)
    expect(gcnet_cfg(path, task='classification'), str(path), f"videoLabels['{facts['vids'][0]}']", '1 labels')
    write_pickle(path, {'videoIDs': {}})
    expect(gcnet_cfg(path), str(path), 'top level', 'expected a list')
    obj = list(facts['obj'])
    obj[4] = obj[4] + ['Nope']
    write_pickle(path, obj)
    expect(gcnet_cfg(path), str(path), "videoIDs['Nope']")


def test_gcnet_width_differs_between_utterances(tmp_path):
    path, facts = gcnet_layout(tmp_path)
    u = facts['obj'][0][facts['vids'][5]][1]
    np.save(tmp_path / 'features' / 'deberta-UTT' / f'{u}.npy', np.zeros(7, np.float32))
    expect(gcnet_cfg(path, task='classification'), 'deberta-UTT', u, 'width 7')


# ----------------------------------------------------------------------------------------------- table

def table_columns(seed=0, n_train=6, n_test=7, valid=0):
    rng = np.random.default_rng(seed)
    rows = []
    groups = [('train', n_train), ('test', n_test), ('valid', valid)]
    for split, count in groups:
        for d in range(count):
            for p in range(int(rng.integers(2, 6))):
                rows.append((f'{split[:2]}{d:02d}', p + 1, split))
    order = rng.permutation(len(rows))                           # rows in no particular order
    rows = [rows[i] for i in order]
    n = len(rows)
    cols = {'video_id': np.array([r[0] for r in rows]), 'clip_index': np.array([r[1] for r in rows]),
            'split': np.array([r[2] for r in rows]), 'label': np.round(rng.uniform(-3, 3, n), 1).astype(np.float32),
            'utterance_id': np.array([f'{r[0]}_{r[1]}' for r in rows]), 'speaker': np.array(['A'] * n),
            'transcript': np.array(['SOME WORDS'] * n)}
    feats = {m: rng.standard_normal((n, d)).astype(np.float32) * 2 + 1 for m, d in DIMS.items()}
    return cols, feats


def write_npz(path, cols, feats):
    np.savez(path, **cols, **feats)
    return path


def check_table(data, cols, feats, valid_rule=True):
    assert data.level == 'dialogue' and data.dims == DIMS
    uid_to_row = {u: i for i, u in enumerate(cols['utterance_id'])}
    for s, sp in data.splits.items():
        assert list(sp.ids) == sorted(sp.ids)
        for i, d in enumerate(sp.ids):
            rows = np.nonzero(cols['video_id'] == d)[0]
            rows = rows[np.argsort(cols['clip_index'][rows])]
            n = len(rows)
            assert sp.lengths['audio'][i] == n and (sp.labels[i, n:] == 0).all()
            np.testing.assert_allclose(sp.labels[i, :n], cols['label'][rows])
            for m in DIMS:
                np.testing.assert_allclose(sp.features[m][i, :n], feats[m][rows])
                assert (sp.features[m][i, n:] == 0).all()
            assert [uid_to_row[u] for u in data.extra['utterance_ids'][s][i, :n]] == list(rows)


def test_table_npz_honest_valid_rule(tmp_path):
    cols, feats = table_columns()
    path = write_npz(tmp_path / 'utt.npz', cols, feats)
    data = load_data(data_cfg('table', path, level='dialogue'))
    check_table(data, cols, feats)
    test_ids = sorted(set(cols['video_id'][cols['split'] == 'test']))
    assert list(data.splits['valid'].ids) == [d for i, d in enumerate(test_ids) if i % 3 == 0]
    assert list(data.splits['test'].ids) == [d for i, d in enumerate(test_ids) if i % 3]
    assert 'i % 3 == 0' in data.name and data.label_scale == 3.0
    data = load_data(data_cfg('table', path, level='dialogue', valid_from='train', valid_every=2))
    train_ids = sorted(set(cols['video_id'][cols['split'] == 'train']))
    assert list(data.splits['valid'].ids) == train_ids[::2]


def test_table_valid_rows_from_file_and_csv(tmp_path):
    import pandas as pd
    cols, feats = table_columns(valid=3)
    cols['split'] = np.where(cols['split'] == 'valid', 'dev', cols['split'])
    table = pd.DataFrame({'dialogue_id': cols['video_id'], 'position': cols['clip_index'], 'split': cols['split'],
                          'label': cols['label'], 'utterance_id': cols['utterance_id']})
    table.to_csv(tmp_path / 'utt.csv', index=False)
    np.savez(tmp_path / 'utt.npz', **feats)
    data = load_data(data_cfg('table', tmp_path / 'utt.csv', level='dialogue'))
    check_table(data, cols, feats)
    assert sorted(data.splits['valid'].ids) == sorted(set(cols['video_id'][cols['split'] == 'dev']))
    table.to_csv(tmp_path / 'utt.tsv', index=False, sep='\t')
    np.savez(tmp_path / 'feats.npz', **{f'{m}_feat': v for m, v in feats.items()})
    data = load_data(data_cfg('table', tmp_path / 'utt.tsv', level='dialogue', feature_file='feats.npz',
                              features={m: f'{m}_feat' for m in DIMS}))
    check_table(data, cols, feats)
    with pytest.raises(ConfigError, match='valid_from'):
        load_data(data_cfg('table', tmp_path / 'utt.csv', level='dialogue', valid_from='test'))


def test_table_zscore_uses_training_real_tokens(tmp_path):
    cols, feats = table_columns()
    path = write_npz(tmp_path / 'utt.npz', cols, feats)
    data = load_data(data_cfg('table', path, level='dialogue', normalize='zscore'))
    raw = load_data(data_cfg('table', path, level='dialogue'))
    for m in DIMS:
        tr = data.splits['train']
        real = np.arange(tr.features[m].shape[1])[None] < tr.lengths[m][:, None]
        np.testing.assert_allclose(tr.features[m][real].mean(0), 0, atol=1e-5)
        np.testing.assert_allclose(tr.features[m][real].std(0), 1, atol=1e-4)
        te, rte = data.splits['test'], raw.splits['test']
        real_te = np.arange(te.features[m].shape[1])[None] < te.lengths[m][:, None]
        assert (te.features[m][~real_te] == 0).all()
        rtr = raw.splits['train'].features[m][real]
        np.testing.assert_allclose(te.features[m][real_te], (rte.features[m][real_te] - rtr.mean(0)) / rtr.std(0),
                                   rtol=1e-4, atol=1e-4)


def test_table_as_sentences_and_classification(tmp_path):
    cols, feats = table_columns()
    cols['label'] = np.random.default_rng(1).integers(0, 2, len(cols['label']))
    path = write_npz(tmp_path / 'utt.npz', cols, feats)
    data = load_data(data_cfg('table', path, level='sentence', task='classification', modalities=['audio']))
    assert data.level == 'sentence' and data.n_classes == 2 and data.modalities == ['audio']
    assert sum(len(s) for s in data.splits.values()) == len(cols['label'])
    assert data.splits['train'].features['audio'].shape[1:] == (1, 5)


# ------------------------------------------------------------------------------------------ options

def test_unknown_and_wrong_options(tmp_path):
    with pytest.raises(ConfigError, match=r"data\.options\.dialog_column': unknown option for format 'table'"):
        check_options('table', {'dialog_column': 'x'}, 'run.yml')
    with pytest.raises(ConfigError, match=r"data\.options\.valid_every"):
        check_options('table', {'valid_every': 1}, 'run.yml')
    with pytest.raises(ConfigError, match=r"data\.options\.fold"):
        check_options('gcnet', {'fold': 6}, 'run.yml')
    with pytest.raises(ConfigError, match=r"data\.options\.normalize"):
        check_options('mmsa', {'normalize': 'minmax'}, 'run.yml')
    with pytest.raises(ConfigError, match=r"data\.options\.features\.audio"):
        check_options('mmsa', {'features': {'audio': 3}}, 'run.yml')
    assert check_options('mmsa', {})['normalize'] == 'zscore'
    path = write_pickle(tmp_path / 'm.pkl', mmsa_obj())
    with pytest.raises(ConfigError, match=r"data\.options\.valid_from"):
        load_data(data_cfg('mmsa', path, valid_from='test'))
    with pytest.raises(ConfigError, match=r"data\.level"):
        load_data(data_cfg('mmsa', path, level='dialogue'))


def test_run_config_checks_options_and_data_path(tmp_path):
    from rmnas_nni.config import load_run_config
    (tmp_path / 'data').mkdir()
    path = write_pickle(tmp_path / 'data' / 'm.pkl', mmsa_obj())
    cfg_file = tmp_path / 'run.yml'
    cfg_file.write_text('data:\n  format: mmsa\n  path: data/m.pkl\n  options: {normalize: zscore}\n')
    cfg = load_run_config(cfg_file)
    assert cfg.data.path == str(path.resolve()) and cfg.data.options['label_scale'] == 'auto'
    cfg_file.write_text('data:\n  format: mmsa\n  path: data/m.pkl\n  options: {normalise: zscore}\n')
    with pytest.raises(ConfigError, match=r"run\.yml: key 'data\.options\.normalise'"):
        load_run_config(cfg_file)
    cfg_file.write_text('data:\n  format: mmsa\n  path: data/absent.pkl\n')
    with pytest.raises(ConfigError, match=r"run\.yml: key 'data\.path': file not found: data/absent\.pkl"):
        load_run_config(cfg_file)
    cfg_file.write_text('data:\n  format: mmsa\n  path: data/m.pkl\n  missing: {seeds: {txt: 1}}\n')
    with pytest.raises(ConfigError, match=r"data\.missing\.seeds\.txt"):
        load_run_config(cfg_file)


# ---------------------------------------------------------------------------------- validation errors

@pytest.fixture
def mmsa(tmp_path):
    """``(obj, write)``: a valid MMSA dict and a function writing it, returning the load config."""
    obj = mmsa_obj()
    path = tmp_path / 'mosi.pkl'

    def write(o=None, **kw):
        write_pickle(path, obj if o is None else o)
        return data_cfg('mmsa', path, **kw)
    return obj, write, path


def test_error_missing_split(mmsa):
    obj, write, path = mmsa
    del obj['valid']
    expect(write(), path, "key 'valid'", 'missing split')


def test_error_missing_modality_key(mmsa):
    obj, write, path = mmsa
    del obj['test']['vision']
    expect(write(), path, "key 'test.vision'", "missing modality 'vision'")


def test_error_sample_counts_differ(mmsa):
    obj, write, path = mmsa
    obj['train']['regression_labels'] = obj['train']['regression_labels'][:-1]
    expect(write(), path, "key 'train.regression_labels'", '5 labels for 6 samples')
    obj, write, path = mmsa
    obj['train']['regression_labels'] = np.zeros(6, np.float32)
    obj['train']['vision'] = obj['train']['vision'][:4]
    expect(write(), path, "key 'train.vision'", '4 samples')


def test_error_widths_differ_across_splits(mmsa):
    obj, write, path = mmsa
    obj['valid']['audio'] = np.ones((3, 12, 7), np.float32)
    expect(write(), path, "key 'valid.audio'", 'width 7 differs from 5')


@pytest.mark.parametrize('bad', [np.nan, np.inf])
def test_error_nan_or_inf_left_after_cleaning(mmsa, bad):
    obj, write, path = mmsa
    obj['test']['vision'][2, 0, 0] = bad
    expect(write(), path, "key 'test.vision'", 'NaN or infinite', 'row 2')


def test_error_string_features(mmsa):
    obj, write, path = mmsa
    obj['train']['audio'] = obj['train']['audio'].astype(str)
    expect(write(), path, "key 'train.audio'", 'strings')


def test_error_lengths_beyond_array(mmsa):
    obj, write, path = mmsa
    obj['valid']['audio_lengths'] = np.array([3, 13, 2])
    expect(write(), path, "key 'valid.audio_lengths'", 'length 13 in row 1 is beyond the array')
    obj['valid']['audio_lengths'] = np.array([3, 2])
    expect(write(), path, "key 'valid.audio_lengths'", '2 lengths for 3 samples')


def test_error_empty_split(mmsa):
    obj, write, path = mmsa
    obj['test'] = {k: v[:0] for k, v in obj['test'].items()}
    expect(write(), path, "key 'test.regression_labels'", 'test split is empty')


def test_error_wrong_label_type_for_task(mmsa):
    obj, write, path = mmsa
    expect(write(task='classification', label_key='regression_labels'), path, "key 'train.regression_labels'",
           'not a class index')
    obj['valid']['regression_labels'] = np.array(['pos', 'neg', 'pos'])
    expect(write(), path, "key 'valid.regression_labels'", 'labels are strings')


def test_error_labels_out_of_range(mmsa):
    obj, write, path = mmsa
    obj['test']['regression_labels'][1] = 4.5
    expect(write(), path, "key 'test.regression_labels'", 'label 4.5 is out of range')
    obj['test']['regression_labels'][1] = 2.0
    expect(write(label_scale=1), path, "key 'train.regression_labels'", 'out of range', '[-1, 1]')
    obj['train']['classification_labels'][0] = -1
    expect(write(task='classification'), path, "key 'train.classification_labels'", 'out of range')
    obj['train']['classification_labels'][0] = 7
    expect(write(task='classification', n_classes=3), path, 'label 7 is out of range')


def test_error_wrong_top_level_type(mmsa):
    obj, write, path = mmsa
    expect(write([obj['train']]), path, 'top level', 'expected a dict')
    obj['train'] = [1, 2]
    expect(write(), path, "key 'train'", 'expected a dict of arrays')


def test_error_text_bert_mask_not_left_aligned(mmsa):
    obj, write, path = mmsa
    obj['train']['text_bert'][0, 1, 2] = 0
    expect(write(), path, "key 'train.text_bert'", 'ones followed by zeros')


def test_error_truncated_pickle(mmsa):
    obj, write, path = mmsa
    cfg = write()
    path.write_bytes(path.read_bytes()[:-50])
    expect(cfg, path, 'not a valid pickle', 'truncated')


class _Marker:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os
        return (os.system, (f'touch {self.marker}',))


def test_error_malicious_pickle(mmsa, tmp_path):
    obj, write, path = mmsa
    marker = tmp_path / 'pwned'
    obj['train']['audio'] = _Marker(marker)
    expect(write(), path, 'refused to load', 'system')
    assert not marker.exists()


def test_error_missing_file(tmp_path):
    for fmt in ('mmsa', 'gcnet', 'table'):
        expect(data_cfg(fmt, tmp_path / 'absent.pkl', level='sentence'), tmp_path / 'absent.pkl', 'file not found')


def test_error_table_object_array_and_string_features(tmp_path):
    cols, feats = table_columns()
    path = tmp_path / 'utt.npz'
    write_npz(path, dict(cols, speaker=np.array(list(cols['speaker']), dtype=object)), feats)
    expect(data_cfg('table', path, level='dialogue'), path, "key 'speaker'", 'object array')
    write_npz(path, cols, dict(feats, text=feats['text'].astype(str)))
    expect(data_cfg('table', path, level='dialogue'), path, "key 'text'", 'strings')


def test_error_table_rows_and_structure(tmp_path):
    cols, feats = table_columns()
    path = tmp_path / 'utt.npz'
    write_npz(path, cols, dict(feats, audio=feats['audio'][:-2]))
    expect(data_cfg('table', path, level='dialogue'), path, "key 'audio'", 'rows but', 'labels')
    write_npz(path, {k: v for k, v in cols.items() if k != 'video_id'}, feats)
    expect(data_cfg('table', path, level='dialogue'), path, "key 'dialogue_id'", 'missing')
    mixed = dict(cols, split=cols['split'].copy())
    first = cols['video_id'][0]
    mixed['split'][np.nonzero(cols['video_id'] == first)[0][0]] = 'test' if cols['split'][0] == 'train' else 'train'
    write_npz(path, mixed, feats)
    expect(data_cfg('table', path, level='dialogue'), path, "key 'split'", 'several splits')
    dup = dict(cols, clip_index=cols['clip_index'].copy())
    rows = np.nonzero(cols['video_id'] == first)[0]
    dup['clip_index'][rows[1]] = dup['clip_index'][rows[0]]
    write_npz(path, dup, feats)
    expect(data_cfg('table', path, level='dialogue'), path, "key 'clip_index'", 'appears twice')
    only_train = {k: v[cols['split'] == 'train'] for k, v in cols.items()}
    write_npz(path, only_train, {m: v[cols['split'] == 'train'] for m, v in feats.items()})
    expect(data_cfg('table', path, level='dialogue'), path, "key 'split'", 'split is empty')
    write_npz(path, dict(cols, label=np.array(['pos'] * len(cols['label']))), feats)
    expect(data_cfg('table', path, level='dialogue'), path, "key 'label'", 'strings')
    path.write_bytes(path.read_bytes()[:200])
    expect(data_cfg('table', path, level='dialogue'), path, 'not a valid .npz')


# ----------------------------------------------------------------------------------------------- CLI

def _bad_inputs(tmp_path, case):
    """Write a run config and a bad data file for ``case``; returns the config path."""
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    fmt, name, options = 'mmsa', 'mosi.pkl', ''
    if case == 'missing_file':
        name = 'absent.pkl'
    elif case == 'malicious':
        obj = mmsa_obj()
        obj['train']['audio'] = _Marker(tmp_path / 'pwned')
        write_pickle(data_dir / name, obj)
    elif case == 'truncated':
        write_pickle(data_dir / name, mmsa_obj())
        (data_dir / name).write_bytes((data_dir / name).read_bytes()[:-100])
    elif case == 'unknown_option':
        write_pickle(data_dir / name, mmsa_obj())
        options = '  options: {normalise: zscore}\n'
    elif case == 'table_strings':
        fmt, name = 'table', 'utt.npz'
        cols, feats = table_columns()
        write_npz(data_dir / name, cols, dict(feats, audio=feats['audio'].astype(str)))
    level = 'dialogue' if fmt == 'table' else 'sentence'
    cfg = tmp_path / 'run.yml'
    cfg.write_text(f'name: bad\ndata:\n  format: {fmt}\n  level: {level}\n  path: data/{name}\n{options}')
    return cfg


@pytest.mark.parametrize('case, fragments', [
    ('missing_file', ["key 'data.path'", 'file not found']),
    ('malicious', ['mosi.pkl', 'refused to load']),
    ('truncated', ['mosi.pkl', 'not a valid pickle']),
    ('unknown_option', ["key 'data.options.normalise'", 'unknown option']),
    ('table_strings', ['utt.npz', "key 'audio'", 'strings']),
])
def test_cli_bad_data_exits_2_with_one_line_and_writes_nothing(tmp_path, case, fragments):
    from conftest import run_cli
    cfg = _bad_inputs(tmp_path, case)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob('*'))
    r = run_cli('run', '-c', cfg, '--out', tmp_path / 'run', cwd=tmp_path, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('rmnas: error: '), r.stderr
    assert 'Traceback' not in r.stderr and 'Traceback' not in r.stdout
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob('*')) == before    # no run directory, no file
    assert not (tmp_path / 'pwned').exists()


def test_cli_runs_a_small_table_end_to_end(tmp_path):
    from conftest import run_cli
    import json
    cols, feats = table_columns(n_train=8, n_test=6)
    write_npz(tmp_path / 'utt.npz', cols, feats)
    cfg = tmp_path / 'run.yml'
    cfg.write_text('name: table\ndata:\n  format: table\n  level: dialogue\n  path: utt.npz\n'
                   '  options: {normalize: zscore}\n  missing: {rate: 0.3}\n'
                   'search: {epochs: 1, batch_size: 4}\nretrain: {epochs: 2, batch_size: 4}\n')
    r = run_cli('run', '-c', cfg, '--out', tmp_path / 'run', timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert {'acc2', 'waf', 'mae', 'corr'} <= set(metrics['test'])
    masks = np.load(tmp_path / 'run' / 'masks.npz')
    assert {'train/text', 'valid/audio', 'test/vision'} <= set(masks.files)
    assert 'valid: test dialogues at sorted positions i % 3 == 0' in r.stdout


def test_zscore_by_default_and_a_warning_for_raw_scales_without_it(tmp_path):
    obj = mmsa_obj(sizes=(20, 5, 5))
    for part in obj.values():
        part['audio'] = part['audio'] * 300.0                  # raw audio up to about a thousand
    path = write_pickle(tmp_path / 'raw.pkl', obj)
    cfg = data_cfg('mmsa', path)
    del cfg.options['normalize']                              # the default
    data = load_data(cfg)
    tr = data.splits['train']
    for m in MODS:
        real = np.arange(tr.features[m].shape[1])[None] < tr.lengths[m][:, None]
        np.testing.assert_allclose(tr.features[m][real].mean(0), 0, atol=1e-4)
    assert 'WARNING' not in data.summary()
    raw = load_data(data_cfg('mmsa', path, normalize='none'))
    warning = [line for line in raw.summary().splitlines() if 'WARNING' in line]
    assert len(warning) == 1 and 'normalize' in warning[0] and 'audio' in warning[0] and 'text' in warning[0]
    same_scale = load_data(data_cfg('mmsa', write_pickle(tmp_path / 'ok.pkl', mmsa_obj()), normalize='none'))
    assert 'WARNING' not in same_scale.summary()

def test_table_label_bins_make_classes_from_continuous_labels(tmp_path):
    cols, feats = table_columns()
    path = write_npz(tmp_path / 'utt.npz', cols, feats)
    data = load_data(data_cfg('table', path, level='dialogue', task='classification', label_bins=[-0.5, 0.5]))
    assert data.n_classes == 3
    row_of = {u: i for i, u in enumerate(cols['utterance_id'])}
    for s, sp in data.splits.items():
        for i in range(len(sp)):
            n = sp.lengths['audio'][i]
            raw = cols['label'][[row_of[u] for u in data.extra['utterance_ids'][s][i, :n]]]
            assert list(sp.labels[i, :n]) == list(np.where(raw < -0.5, 0, np.where(raw < 0.5, 1, 2)))
    with pytest.raises(ConfigError, match=r"data\.options\.label_bins"):
        check_options('table', {'label_bins': [0.5, -0.5]}, 'run.yml')
    with pytest.raises(ConfigError, match=r"data\.options\.label_bins': only with data\.task: classification"):
        load_data(data_cfg('table', path, level='sentence', label_bins=[0.0]))
