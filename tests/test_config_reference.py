"""docs/configuration.md is generated from the config schemas and cannot drift from them."""
import subprocess
import sys

import numpy as np

from conftest import ROOT
from rmnas_nni.config import (KEY_DOCS, RUN_SCHEMA, SPACE_SCHEMA, STRATEGY_SCHEMA, _flat_fields,
                              reference_markdown, reference_table)

SCHEMAS = {'run': RUN_SCHEMA, 'space': SPACE_SCHEMA, 'strategy': STRATEGY_SCHEMA}


def test_committed_reference_equals_the_generated_one():
    committed = (ROOT / 'docs' / 'configuration.md').read_text()
    assert committed == reference_markdown(), \
        'docs/configuration.md is stale: python -m rmnas_nni.config --reference > docs/configuration.md'


def test_the_command_prints_the_reference():
    r = subprocess.run([sys.executable, '-m', 'rmnas_nni.config', '--reference'], cwd=ROOT, capture_output=True,
                       text=True, env={'PYTHONPATH': str(ROOT), 'PATH': '/usr/bin:/bin', 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout == reference_markdown()


def test_every_key_is_in_the_reference_with_a_description():
    text = reference_markdown()
    for section, schema in SCHEMAS.items():
        keys = [k for k, _ in _flat_fields(schema)]
        assert set(KEY_DOCS[section]) == set(keys), section          # no key undescribed, no stale description
        table = reference_table(section, schema)
        assert table in text
        for key, field in _flat_fields(schema):
            row = next(line for line in table.splitlines() if line.startswith(f'| `{key}` |'))
            assert row.endswith(f" | {KEY_DOCS[section][key].replace('|', chr(92) + '|')} |")
    assert '| `retrain.lr` | number | `0.0005` | > 0 |' in text
    assert "| `device` | string | `auto` | one of `auto`, `cpu`, `cuda` |" in text
    assert (ROOT / 'README.md').read_text().count('docs/configuration.md') >= 1


def test_masks_npz_holds_what_the_reference_says(tmp_path):
    """One boolean array per split/modality, True where kept, False where dropped and on padding."""
    from rmnas_nni.data import load_data
    from rmnas_nni.pipeline import load_config, prepare_data, start_run
    cfg = load_config(None, {'data': {'missing': {'rate': 0.5},
                                      'options': {'sizes': {'train': 40, 'valid': 20, 'test': 20}}}})
    data, masks = prepare_data(cfg)
    run_dir, _ = start_run(cfg, data, masks, tmp_path / 'run', quiet=True)
    stored = np.load(run_dir / 'masks.npz')
    unmasked = load_data(cfg.data)
    assert sorted(stored.files) == sorted(f'{s}/{m}' for s in unmasked.splits for m in unmasked.modalities)
    for key in stored.files:
        split, m = key.split('/')
        keep = stored[key]
        lengths = np.asarray(unmasked.splits[split].lengths[m])
        real = np.arange(keep.shape[1])[None, :] < lengths[:, None]
        assert keep.dtype == bool and keep.shape == real.shape
        assert not (keep & ~real).any()                       # padding is never "kept"
        kept = keep[real].mean()
        assert 0.3 < kept < 0.7, (key, kept)                 # about 1 - rate of the real tokens
        # a dropped token is a zero vector in the data the run trains on
        feats = data.splits[split].features[m]
        assert np.all(feats[real & ~keep] == 0)
