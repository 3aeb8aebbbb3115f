"""Precomputed BERT vectors at missing rate 1.0 must not leak the sentence.

The label is written only into the [CLS] vector of an MMSA pickle; every other
vector (text, audio, vision) is noise. At ``data.missing.rate: 1.0`` every text
vector is dropped, so a network can do no better than a constant. Keeping the
[CLS] vector (as the token-id protocol keeps the [CLS] id) let a network read the
label off it (test MAE 0.05 against the constant's 1.52: `python bench/text_leak.py`).
"""
import pickle

import numpy as np

from rmnas_nni.pipeline import load_config, run

MICRO_SPACE = """\
encoder: {d_model: 16, n_blocks: 1, n_heads: 2, ffn_ratio: 2, dropout: 0.0, mixers: [attention]}
lst: {kernel_size: 3, maxdis: 4}
fusion: {width: 16, n_cells: 1, n_steps: 1, attention_chunks: 2}
"""


def leaky_split(n, rng, L=8, D=6):
    labels = rng.uniform(-3, 3, n).astype(np.float32)
    lengths = rng.integers(4, L + 1, n)
    real = (np.arange(L)[None] < lengths[:, None]).astype(np.float32)
    ids = np.where(real > 0, rng.integers(1000, 2000, (n, L)), 0)
    ids[:, 0] = 101
    ids[np.arange(n), lengths - 1] = 102
    text = rng.standard_normal((n, L, D)).astype(np.float32)
    text[:, 0, :] = labels[:, None]                        # the label, in the [CLS] vector only
    part = {'text': text * real[..., None], 'text_bert': np.stack([ids, real, np.zeros_like(real)], 1),
            'regression_labels': labels}
    for m, (t, d) in {'audio': (10, 5), 'vision': (9, 4)}.items():
        lens = rng.integers(1, t + 1, n)
        x = rng.standard_normal((n, t, d)).astype(np.float32)
        x[np.arange(t)[None] >= lens[:, None]] = 0.0
        part[m], part[f'{m}_lengths'] = x, lens
    return part


def test_label_in_cls_vector_does_not_leak_at_rate_one(tmp_path):
    rng = np.random.default_rng(0)
    obj = {s: leaky_split(n, rng) for s, n in (('train', 160), ('valid', 48), ('test', 64))}
    (tmp_path / 'leak.pkl').write_bytes(pickle.dumps(obj, protocol=4))
    (tmp_path / 'micro.yml').write_text(MICRO_SPACE)
    cfg = load_config(None, {
        'threads': 1, 'device': 'cpu', 'search_space': str(tmp_path / 'micro.yml'),
        'data': {'format': 'mmsa', 'path': str(tmp_path / 'leak.pkl'), 'missing': {'rate': 1.0}},
        'search': {'method': 'hand_designed'},
        'retrain': {'epochs': 25, 'patience': 25, 'batch_size': 16, 'lr': 3e-3}})
    summary = run(cfg, tmp_path / 'run', quiet=True)
    constant = float(np.mean(np.abs(obj['test']['regression_labels'] - obj['train']['regression_labels'].mean())))
    assert constant > 1.2
    # no better than the constant predictor by a clear margin (with [CLS] kept: 0.05 against 1.52)
    assert summary['test']['mae'] > 0.8 * constant, (summary['test']['mae'], constant)
    assert 'NOT comparable' in (tmp_path / 'run' / 'log.txt').read_text()
