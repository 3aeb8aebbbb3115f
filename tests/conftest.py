import os
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings('ignore', message='.*is found to be not a nn.Module.*')

import torch  # noqa: E402

torch.set_num_threads(1)

TINY = dict(d_model=16, n_blocks=2, n_heads=4, ffn_ratio=2, dropout=0.0, fusion_width=16, n_cells=2, n_steps=2,
            attention_chunks=4)
MODS = {'text': 12, 'audio': 5, 'vision': 7}
LENS = {'text': 10, 'audio': 20, 'vision': 15}


@pytest.fixture
def tiny_kwargs():
    return dict(TINY)


def random_batch(level: str, batch: int = 3, seed: int = 0, lengths=None):
    """Random padded inputs: sentence level with per-modality lengths, dialogue level with shared ones."""
    g = torch.Generator().manual_seed(seed)
    if level == 'sentence':
        inputs = {m: torch.randn(batch, LENS[m], d, generator=g) for m, d in MODS.items()}
        lengths = lengths or {m: [LENS[m], max(LENS[m] // 2, 1), 1][:batch] for m in MODS}
        masks = {m: torch.arange(LENS[m])[None] < torch.tensor(lengths[m])[:, None] for m in MODS}
    else:
        n = 8
        inputs = {m: torch.randn(batch, n, d, generator=g) for m, d in MODS.items()}
        lens = torch.tensor((lengths or [8, 5, 2])[:batch])
        mask = torch.arange(n)[None] < lens[:, None]
        masks = {m: mask for m in MODS}
    return inputs, masks


def run_cli(*args, cwd=None, timeout=900):
    import subprocess
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, '-m', 'rmnas_nni.cli', *map(str, args)], cwd=cwd or ROOT,
                          capture_output=True, text=True, env=env, timeout=timeout)
