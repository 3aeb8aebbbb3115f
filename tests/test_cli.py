import json

import pytest

from conftest import run_cli


@pytest.mark.parametrize('level', ['sentence', 'dialogue'])
def test_rmnas_run_end_to_end(tmp_path, level):
    out = tmp_path / 'run'
    r = run_cli('run', '--out', out, '--set', f'data.level={level}', '--set', 'search.epochs=2',
                '--set', 'retrain.epochs=3', '--set', 'data.missing.rate=0.2')
    assert r.returncode == 0, r.stderr[-2000:]
    for name in ['config.yaml', 'environment.json', 'masks.npz', 'log.txt', 'arch.json', 'arch_probs.json',
                 'model.pt', 'metrics.json', 'retrain/best.pt', 'retrain/last.pt', 'retrain/history.csv',
                 'search/checkpoints/last.ckpt', 'search/metrics.csv']:
        assert (out / name).is_file(), name
    metrics = json.loads((out / 'metrics.json').read_text())
    keys = {'mae', 'corr', 'acc2_has0', 'f1_non0'} if level == 'sentence' else {'acc2', 'waf', 'mae', 'corr'}
    assert keys <= set(metrics['test'])
    assert 'test' in r.stdout and str(out / 'arch.json') in r.stdout
    assert 'search epoch 2/2' in r.stdout and 'retrain epoch 3/3' in r.stdout
    # evaluate the finished run, also at another missing rate
    r2 = run_cli('evaluate', '--run', out, '--json')
    assert r2.returncode == 0, r2.stderr[-2000:]
    again = json.loads(r2.stdout)
    assert again['mae'] == pytest.approx(metrics['test']['mae'], rel=1e-5)
    r3 = run_cli('evaluate', '--run', out, '--rate', '0.6', '--json')
    assert r3.returncode == 0 and json.loads(r3.stdout)['mae'] != again['mae']


def test_quiet_run_prints_the_result_but_not_the_progress(tmp_path):
    out = tmp_path / 'run'
    r = run_cli('run', '--quiet', '--out', out, '--set', 'search.epochs=1', '--set', 'retrain.epochs=1',
                '--set', 'data.options={sizes: {train: 64, valid: 32, test: 32}}')
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'search epoch' not in r.stdout and 'retrain epoch' not in r.stdout
    test_row = [line for line in r.stdout.splitlines() if line.startswith('test ')]
    assert len(test_row) == 1
    mae = json.loads((out / 'metrics.json').read_text())['test']['mae']
    assert f'{mae:.4f}' in test_row[0]
    assert f'run directory: {out}' in r.stdout and str(out / 'arch.json') in r.stdout
    assert 'search epoch 1/1' in (out / 'log.txt').read_text()      # the progress still goes to the log


def test_help_for_each_command():
    for cmd in ['run', 'search', 'retrain', 'evaluate', 'space', 'multitrial']:
        r = run_cli(cmd, '--help')
        assert r.returncode == 0 and 'usage: rmnas' in r.stdout


def test_search_then_retrain_from_arch(tmp_path):
    r = run_cli('search', '--out', tmp_path / 's', '--set', 'search.epochs=1')
    assert r.returncode == 0, r.stderr[-2000:]
    r = run_cli('retrain', '--arch', tmp_path / 's' / 'arch.json', '--out', tmp_path / 'r',
                '--set', 'retrain.epochs=2')
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((tmp_path / 'r' / 'arch.json').read_text()) == json.loads(
        (tmp_path / 's' / 'arch.json').read_text())
    assert (tmp_path / 'r' / 'metrics.json').is_file()


def test_set_parses_numbers_as_a_shell_user_writes_them():
    from rmnas_nni.cli import _parse_sets
    assert _parse_sets(['retrain.lr=5e-4', 'seed=3', 'name=run-1', 'data.missing.rate={text: 0.5}']) == {
        'retrain': {'lr': 5e-4}, 'seed': 3, 'name': 'run-1', 'data': {'missing': {'rate': {'text': 0.5}}}}
