"""The Python API from any folder: shipped examples by name, and run directories the CLI can read."""
import json

import pytest

from conftest import run_cli

SMALL = {'search': {'epochs': 1, 'batch_size': 16}, 'retrain': {'epochs': 1, 'batch_size': 16}, 'threads': 1,
         'data': {'options': {'sizes': {'train': 32, 'valid': 16, 'test': 16}}}}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    folder = tmp_path / 'notebooks'
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize('name', ['examples/quickstart.yml', 'quickstart', 'quickstart.yml',
                                  'examples/quickstart_dialogue.yml', 'quickstart_dialogue'])
def test_load_config_finds_shipped_examples_from_another_folder(elsewhere, name):
    import rmnas_nni as rn
    assert not (elsewhere / 'examples').exists()
    cfg = rn.load_config(name)
    want = 'dialogue' if 'dialogue' in name else 'sentence'
    assert cfg.data.level == want


def test_load_config_prefers_the_working_directory_and_reports_a_missing_file(elsewhere):
    import rmnas_nni as rn
    from rmnas_nni.errors import ConfigError
    (elsewhere / 'examples').mkdir()
    (elsewhere / 'examples' / 'quickstart.yml').write_text('seed: 7\n')
    assert rn.load_config('examples/quickstart.yml').seed == 7          # the user's own file first
    with pytest.raises(ConfigError, match='no_such_config'):
        rn.load_config('no_such_config')


def test_api_search_and_retrain_leave_a_run_directory_the_cli_reads(elsewhere):
    import rmnas_nni as rn
    cfg = rn.load_config('examples/quickstart.yml', SMALL)
    data, masks = rn.prepare_data(cfg)
    run_dir = elsewhere / 'runs' / 'nb'
    result = rn.search(cfg, data, run_dir)
    for name in ('config.yaml', 'environment.json', 'masks.npz', 'arch.json'):
        assert (run_dir / name).is_file(), name
    import numpy as np
    stored = np.load(run_dir / 'masks.npz')
    assert set(stored.files) == {f'{s}/{m}' for s, by in masks.items() for m in by}
    for key in stored.files:
        split, m = key.split('/')
        assert np.array_equal(stored[key], masks[split][m])
    assert json.loads((run_dir / 'environment.json').read_text())['torch_threads'] == 1
    summary = rn.retrain(cfg, data, result.arch, run_dir)
    r = run_cli('evaluate', '--run', run_dir, '--json', cwd=elsewhere)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)['mae'] == pytest.approx(summary['test']['mae'], rel=1e-5)
    r = run_cli('figure', '--run', run_dir, cwd=elsewhere)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (run_dir / 'architecture.png').is_file()


def test_api_retrain_alone_into_a_fresh_folder_and_keeps_a_folders_files(elsewhere):
    import rmnas_nni as rn
    cfg = rn.load_config('quickstart', SMALL)
    data, _ = rn.prepare_data(cfg)
    arch = rn.attention_architecture(rn.build_space(cfg, data))
    run_dir = elsewhere / 'mine'
    run_dir.mkdir()
    (run_dir / 'notes.txt').write_text('keep me')
    rn.retrain(cfg, data, arch, run_dir)
    assert (run_dir / 'notes.txt').read_text() == 'keep me'
    assert rn.load_run(run_dir).seed == cfg.seed
    assert (run_dir / 'masks.npz').is_file() and (run_dir / 'metrics.json').is_file()


def test_rn_search_still_searches_after_the_search_module_is_imported(monkeypatch):
    """The search module is not named ``search``, so importing it leaves the API's ``rn.search`` a function."""
    import rmnas_nni as rn
    from rmnas_nni import pipeline
    import rmnas_nni.search_strategy                       # noqa: F401  (what the first rn.search call does)
    from rmnas_nni.search_strategy import run_search      # noqa: F401
    calls = []
    monkeypatch.setattr(pipeline, 'search', lambda *a, **k: calls.append((a, k)) or 'searched')
    assert rn.search('cfg', 'data', 'runs/nb', resume=False) == 'searched'
    assert calls == [(('cfg', 'data', 'runs/nb'), {'resume': False})]
