"""rmnas sweep --nni: the cells of a sweep as trials of a real NNI experiment (local training service).

Isolation as in ``test_nni_experiment``: ``HOME`` under ``tmp_path``, a free port, and
a marker environment variable by which the test finds every process the
experiment started (none may be left once the sweep returns).
"""
import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT
import test_nni_experiment
from test_nni_experiment import free_port, marked_processes
from test_sweep import MICRO_SPACE, SIZES

from rmnas_nni.config import RunConfig
from rmnas_nni.errors import ConfigError
from rmnas_nni.sweep import SweepCell
from rmnas_nni.sweep_nni import experiment_config

nni_env = test_nni_experiment.nni_env          # the fixture: HOME, marker, nnictl stop --all at the end

def sweep_cli(env, *args):
    return subprocess.run([sys.executable, '-m', 'rmnas_nni.cli', 'sweep', *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def common(space):
    return ['--set', f'search_space={space}', '--set', 'search.epochs=1', '--set', 'retrain.epochs=2',
            '--set', 'search.batch_size=16', '--set', 'retrain.batch_size=16', '--set', SIZES,
            '--set', 'threads=1', '--rates', '0', '0.5', '--seeds', '0', '--variants', 'full', '-q']


CELLS = ('full/r0-s0', 'full/r0.5-s0')


@pytest.fixture(scope='module')
def local_sweep(tmp_path_factory):
    """The same two cells swept here, one after the other: ``(sweep directory, search space file)``."""
    tmp = tmp_path_factory.mktemp('local')
    space = tmp / 'micro.yml'
    space.write_text(MICRO_SPACE)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    r = sweep_cli(env, '--out', tmp / 'local', *common(space))
    assert r.returncode == 0, r.stderr[-2000:]
    return tmp / 'local', space


def test_sweep_through_nni_gives_the_local_sweeps_numbers(tmp_path, nni_env, local_sweep):
    env, _, marker = nni_env
    local_sweep, space = local_sweep
    port = free_port()
    nni = sweep_cli(env, '--out', tmp_path / 'nni', '--nni', '--jobs', '2', '--port', port,
                    *common(space))
    assert nni.returncode == 0, nni.stdout[-3000:] + nni.stderr[-3000:]
    assert '2/2 trials ended' in nni.stdout and 'full r=0.5 seed=0): succeeded' in nni.stdout
    # the experiment is stopped: nothing it started is left, nothing listens on its port
    assert not marked_processes(marker)
    with socket.socket() as s:
        assert s.connect_ex(('127.0.0.1', port)) != 0
    # the same table as the local sweep, from the same cell directories
    assert (tmp_path / 'nni' / 'sweep.csv').read_text() == (local_sweep / 'sweep.csv').read_text()
    assert (tmp_path / 'nni' / 'sweep.md').is_file() and (tmp_path / 'nni' / 'plots' / 'mae.png').is_file()
    for cell in CELLS:
        a, b = (json.loads((d / 'cells' / cell / 'metrics.json').read_text()) for d in (local_sweep, tmp_path / 'nni'))
        assert a['test'] == b['test'] and a['valid'] == b['valid']
    # the experiment: a GridSearch over the cells; every trial reported its epochs and named its cell
    exp = yaml.safe_load((tmp_path / 'nni' / 'experiment.yml').read_text())
    assert exp['tuner'] == {'name': 'GridSearch'} and exp['maxTrialNumber'] == 2
    assert exp['searchSpace']['rate'] == {'_type': 'choice', '_value': [0.0, 0.5]}
    records = [json.loads(p.read_text()) for p in (tmp_path / 'nni' / 'nni').rglob('nni_result.json')]
    assert sorted((r['final']['variant'], r['final']['rate'], r['final']['seed']) for r in records) == \
        [('full', 0.0, 0), ('full', 0.5, 0)]
    for r in records:
        assert [s for s, _, _ in r['intermediate']] == ['search', 'retrain', 'retrain']
        assert r['final']['default'] == r['final']['valid_mae']


def test_write_only_then_collect_and_build_the_table(tmp_path, nni_env, local_sweep):
    """--nni-write-only leaves the cells to nnictl; cells that trials left in their own trial
    directories come back with --resume --collect, and --table-only builds the table."""
    env, _, _ = nni_env
    local_sweep, space = local_sweep
    w = sweep_cli(env, '--out', tmp_path / 'w', '--nni-write-only', *common(space))
    assert w.returncode == 0, w.stderr[-2000:]
    assert 'nnictl create --config' in w.stdout and not (tmp_path / 'w' / 'sweep.csv').exists()
    assert '--sweep' in yaml.safe_load((tmp_path / 'w' / 'experiment.yml').read_text())['trialCommand']
    for k, cell in enumerate(CELLS):                       # as a trial elsewhere leaves them
        trial = tmp_path / 'trials' / f'T{k}'
        shutil.copytree(local_sweep / 'cells' / cell, trial / 'cell')
        rate = float(cell.split('/r')[1].split('-')[0])
        (trial / 'sweep_cell.json').write_text(json.dumps({'variant': 'full', 'rate': rate, 'seed': 0}))
    c = sweep_cli(env, '--resume', tmp_path / 'w', '--collect', tmp_path / 'trials', '--table-only', '-q')
    assert c.returncode == 0, c.stderr[-2000:]
    assert c.stdout.count('sweep: collected') == 2
    assert (tmp_path / 'w' / 'sweep.csv').read_text() == (local_sweep / 'sweep.csv').read_text()
    again = sweep_cli(env, '--resume', tmp_path / 'w', '--nni', '-q')      # nothing left: no experiment
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count('already finished, skipped') == 2 and 'NNI experiment' not in again.stdout


def test_experiment_file_for_another_training_service(tmp_path):
    """--nni-config lays NNI keys over the defaults; the keys the sweep sets itself are refused."""
    base = RunConfig(name='x')
    cells = [SweepCell('full', r, s, base, tmp_path / 'c') for r in (0.0, 0.5) for s in (0, 1)]
    remote = tmp_path / 'remote.yml'
    remote.write_text('trainingService: {platform: remote, machineList: [{host: 10.0.0.2, user: a}]}\n'
                      'nniManagerIp: 10.0.0.1\ntrialConcurrency: 4\n')
    exp = experiment_config(base, cells, tmp_path / 'sweep', nni_config=str(remote), concurrency=1)
    assert exp['trainingService']['platform'] == 'remote' and exp['trialConcurrency'] == 4
    assert exp['trialCommand'].startswith('python -m rmnas_nni.sweep_nni --sweep ')
    assert 'experimentWorkingDirectory' not in exp and exp['maxTrialNumber'] == 4
    assert exp['searchSpace']['seed']['_value'] == [0, 1]
    bad = tmp_path / 'bad.yml'
    bad.write_text('tuner: {name: TPE}\n')
    with pytest.raises(ConfigError, match="key 'tuner': rmnas sweep --nni sets it"):
        experiment_config(base, cells, tmp_path / 'sweep', nni_config=str(bad))
