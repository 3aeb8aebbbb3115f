"""Precomputed BERT vectors at missing rate 1.0: does the [CLS] vector leak the label?

The data of ``tests/test_text_leak.py``: an MMSA pickle (160 / 48 / 64 sentences,
seed 0) whose label is written only into the [CLS] vector of the text; every other
vector is noise. At ``data.missing.rate: 1.0`` the project drops every text vector,
[CLS] included, so a network can do no better than a constant. The same run with the
[CLS] and [SEP] vectors kept (``apply_missing(keep_text_ends=True)``, what the
sentence-level masking of precomputed vectors did before it was revised) shows the
leak. Hand-designed micro network, 25 epochs, one thread; a few seconds per run.

    python bench/text_leak.py --json bench/results/text_leak.json
"""
from __future__ import annotations

import argparse
import functools
import json
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MICRO_SPACE = """\
encoder: {d_model: 16, n_blocks: 1, n_heads: 2, ffn_ratio: 2, dropout: 0.0, mixers: [attention]}
lst: {kernel_size: 3, maxdis: 4}
fusion: {width: 16, n_cells: 1, n_steps: 1, attention_chunks: 2}
"""


def leaky_split(n, rng, L=8, D=6):
    """``n`` sentences whose label is in the [CLS] vector of the text only."""
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


def leaky_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    return {s: leaky_split(n, rng) for s, n in (('train', 160), ('valid', 48), ('test', 64))}


def run_once(folder: Path, obj, keep_cls: bool) -> float:
    """Test MAE of the hand-designed micro network at rate 1.0 (``keep_cls``: [CLS]/[SEP] vectors kept)."""
    import rmnas_nni.data as data_mod
    from rmnas_nni.pipeline import load_config, run
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'leak.pkl').write_bytes(pickle.dumps(obj, protocol=4))
    (folder / 'micro.yml').write_text(MICRO_SPACE)
    cfg = load_config(None, {
        'threads': 1, 'device': 'cpu', 'search_space': str(folder / 'micro.yml'),
        'data': {'format': 'mmsa', 'path': str(folder / 'leak.pkl'), 'missing': {'rate': 1.0}},
        'search': {'method': 'hand_designed'},
        'retrain': {'epochs': 25, 'patience': 25, 'batch_size': 16, 'lr': 3e-3}})
    original = data_mod.apply_missing
    if keep_cls:
        data_mod.apply_missing = functools.partial(original, keep_text_ends=True)
    try:
        summary = run(cfg, folder / 'run', quiet=True)
    finally:
        data_mod.apply_missing = original
    return float(summary['test']['mae'])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--json', type=Path, help='write the three figures here')
    args = p.parse_args(argv)
    obj = leaky_data(0)
    constant = float(np.mean(np.abs(obj['test']['regression_labels'] - obj['train']['regression_labels'].mean())))
    with tempfile.TemporaryDirectory(prefix='text_leak-') as tmp:
        dropped = run_once(Path(tmp) / 'dropped', obj, keep_cls=False)
        kept = run_once(Path(tmp) / 'kept', obj, keep_cls=True)
    out = {'benchmark': 'text_leak', 'command': 'python bench/text_leak.py' + (f' --json {args.json}' if args.json else ''),
           'rate': 1.0, 'constant_predictor_test_mae': constant,
           'test_mae_cls_dropped': dropped, 'test_mae_cls_kept': kept}
    print(f'rate 1.0, test MAE: [CLS] vector dropped (the project) {dropped:.2f}, '
          f'[CLS] vector kept {kept:.2f}, constant predictor {constant:.2f}')
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
