"""rmnas sweep --nni: the cells of a sweep as trials of a real NNI experiment (local training service).

Isolation as in ``test_nni_experiment``: ``HOME`` under ``tmp_path``, a free port, and
a marker environment variable by which the test finds every process the
experiment started (none may be left once the sweep returns).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

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


def stopped(marker, port):
    """Nothing the experiment started is left, nothing listens on its port."""
    deadline = time.time() + 10
    while marked_processes(marker) and time.time() < deadline:
        time.sleep(0.5)
    assert not marked_processes(marker)
    with socket.socket() as s:
        assert s.connect_ex(('127.0.0.1', port)) != 0


def test_a_failing_trial_is_reported_and_the_other_cells_make_the_table(tmp_path, nni_env):
    """One cell's trial fails (its retraining diverges: exit status 3); as a local sweep does, the
    sweep names it (trial, error, log), builds the table from the others and exits with status 3."""
    env, _, marker = nni_env
    space = tmp_path / 'micro.yml'
    space.write_text(MICRO_SPACE)
    port = free_port()
    args = common(space)
    args[args.index('--variants') + 1:args.index('--variants') + 2] = ['full', 'no_retrain']   # retrains / does not
    args[args.index('--rates') + 1:args.index('--rates') + 3] = ['0']
    r = sweep_cli(env, '--out', tmp_path / 's', '--nni', '--jobs', '2', '--port', port,
                  '--set', 'retrain.lr=1e30', *args)
    assert r.returncode == 3, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'Traceback' not in r.stderr and '2/2 trials ended' in r.stdout
    assert 'no_retrain r=0 seed=0): succeeded' in r.stdout
    failed = [line for line in r.stdout.splitlines() if 'full r=0 seed=0: FAILED: NNI trial ' in line]
    assert len(failed) == 1, r.stdout[-3000:]
    assert ' failed: retrain: non-finite loss' in failed[0]
    log = failed[0].split('; its log: ')[1]
    assert log.endswith('/trial.stderr') and 'retrain: non-finite loss' in open(log).read()
    assert 'sweep: failed cells (left out of the table): full r=0 seed=0' in r.stdout
    stopped(marker, port)
    rows = (tmp_path / 's' / 'sweep.csv').read_text().splitlines()
    assert any(row.startswith('no_retrain,0.0,0,value,') for row in rows)
    assert not any(row.startswith('full,') for row in rows)
    assert (tmp_path / 's' / 'cells' / 'no_retrain' / 'r0-s0' / 'metrics.json').is_file()
    assert not (tmp_path / 's' / 'cells' / 'full' / 'r0-s0' / 'metrics.json').exists()


def test_ctrl_c_stops_the_experiment_and_resume_finishes_the_sweep(tmp_path, nni_env, local_sweep):
    """SIGINT once trials run: one line, status 130, the experiment stopped; --resume --nni then
    finishes the cells and gives the local sweep's table."""
    env, _, marker = nni_env
    local_sweep, space = local_sweep
    port = free_port()
    out = tmp_path / 'nni'
    # the default SIGINT action in the child, as in a terminal: a test run started in the background of a
    # shell without job control inherits SIGINT ignored, and Python then keeps ignoring it
    p = subprocess.Popen([sys.executable, '-m', 'rmnas_nni.cli', 'sweep', '--out', str(out), '--nni', '--jobs', '2',
                          '--port', str(port), *map(str, common(space))], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.time() + 300
        while not list(out.glob('cells/*/*/config.yaml')) and p.poll() is None and time.time() < deadline:
            time.sleep(0.2)                        # until a trial has started its cell
        assert p.poll() is None, p.communicate()
        p.send_signal(signal.SIGINT)
        t0 = time.time()
        stdout, stderr = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert time.time() - t0 < 30 and p.returncode == 130, stdout[-3000:] + stderr[-3000:]
    assert stderr.strip() == f'rmnas: interrupted; continue with rmnas sweep --resume {out} --nni'
    assert 'Traceback' not in stdout and 'sweep: interrupted; NNI experiment ' in stdout
    stopped(marker, port)
    assert not (out / 'sweep.csv').exists()
    unfinished = [c for c in CELLS if not (out / 'cells' / c / 'metrics.json').is_file()]
    again = sweep_cli(env, '--resume', out, '--nni', '--jobs', '2', '--port', port, '-q')
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert again.stdout.count('already finished, skipped') == len(CELLS) - len(unfinished)
    assert not unfinished or f'{len(unfinished)}/{len(unfinished)} trials ended' in again.stdout
    stopped(marker, port)
    assert (out / 'sweep.csv').read_text() == (local_sweep / 'sweep.csv').read_text()


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
