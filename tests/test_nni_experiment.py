"""The tiny NNI experiment end to end: the real NNI manager started by ``nnictl create``.

Two trials of ``examples/rmnas_experiment_tiny.yml`` run side by side; the test
talks to the manager's REST API on 127.0.0.1 only, checks what each trial reported
and left in its trial directory, stops the experiment and checks that no process
it started is left.

Isolation: ``HOME`` points into ``tmp_path`` (nnictl keeps its list of experiments
in ``~/nni-experiments``), the experiment directory is under ``tmp_path``, the
port is a free one, and every process of the experiment inherits a marker
environment variable by which the test finds (and, failing, ends) exactly its own.
"""
import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

MARKER = 'RMNAS_NNI_TEST_EXPERIMENT'
DEADLINE_S = 480


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def rest(port: int, api: str):
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/v1/nni/{api}', timeout=20) as resp:
        return json.loads(resp.read().decode('utf-8'))


def marked_processes(marker: str):
    """Processes whose environment carries ``MARKER=marker`` (the experiment's own)."""
    import psutil
    found = []
    for proc in psutil.process_iter(['pid', 'cmdline']):
        try:
            if proc.pid != os.getpid() and proc.environ().get(MARKER) == marker:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def metric_value(m):
    """NNI stores a metric as a JSON string of the JSON the trial sent."""
    value = json.loads(m['data'])
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture
def nni_env(tmp_path):
    marker = uuid.uuid4().hex
    env = dict(os.environ, HOME=str(tmp_path / 'home'), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED='1',
               OMP_NUM_THREADS='1', PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ.get("PATH", "")}')
    env[MARKER] = marker
    (tmp_path / 'home').mkdir()
    nnictl = [sys.executable, '-m', 'nni.tools.nnictl.nnictl']
    yield env, nnictl, marker
    # teardown: stop whatever this test started, even when it failed half-way
    subprocess.run(nnictl + ['stop', '--all'], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    deadline = time.time() + 30
    while marked_processes(marker) and time.time() < deadline:
        time.sleep(0.5)
    for proc in marked_processes(marker):
        proc.kill()


def test_tiny_experiment_through_nnictl(tmp_path, nni_env):
    from rmnas_nni.data import make_loader
    from rmnas_nni.pipeline import build_fixed_model, build_space, load_architecture, load_run, prepare_data
    import torch

    env, nnictl, marker = nni_env
    exp = yaml.safe_load((ROOT / 'examples' / 'rmnas_experiment_tiny.yml').read_text())
    assert exp['trialCommand'].startswith('python -m rmnas_nni.nni_trial ')
    exp['trialCommand'] = shlex.quote(sys.executable) + exp['trialCommand'][len('python'):]
    exp.update(maxTrialNumber=2, trialConcurrency=2, trialCodeDirectory=str(ROOT),
               experimentWorkingDirectory=str(tmp_path / 'experiments'), maxExperimentDuration='10m')
    trial_cfg = yaml.safe_load((ROOT / 'examples' / 'nni_trial_tiny.yml').read_text())
    n_epochs = trial_cfg['search']['epochs'] + trial_cfg['retrain']['epochs']
    config = tmp_path / 'experiment.yml'
    config.write_text(yaml.safe_dump(exp, sort_keys=False))
    port = free_port()

    r = subprocess.run(nnictl + ['create', '--config', str(config), '--port', str(port)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    experiment = rest(port, 'experiment')
    exp_id = experiment['id']
    exp_dir = tmp_path / 'experiments' / exp_id
    assert exp_dir.is_dir()

    deadline = time.time() + DEADLINE_S
    trials = []
    while time.time() < deadline:
        status = rest(port, 'check-status')['status']
        trials = rest(port, 'trial-jobs')
        finished = [t for t in trials if t['status'] not in ('WAITING', 'RUNNING', 'UNKNOWN')]
        if status in ('DONE', 'ERROR', 'STOPPED') or (len(trials) == 2 and len(finished) == 2):
            break
        time.sleep(2)
    else:
        pytest.fail(f'experiment not done after {DEADLINE_S}s: {[(t["trialJobId"], t["status"]) for t in trials]}')

    def trial_log(t):
        d = Path(t['logPath'])
        return ''.join((d / f).read_text()[-1500:] for f in ('trial.stderr', 'trial.log') if (d / f).is_file())

    assert len(trials) == 2
    for t in trials:
        assert t['status'] == 'SUCCEEDED', trial_log(t)
    assert 'Traceback' not in (exp_dir / 'log' / 'dispatcher.log').read_text()

    metrics = rest(port, 'metric-data')
    for t in trials:
        tid = t['trialJobId']
        trial_dir = Path(t['logPath'])
        assert trial_dir.parent.parent.parent.parent == exp_dir
        mine = [m for m in metrics if m['trialJobId'] == tid]
        inter = [metric_value(m) for m in sorted(mine, key=lambda m: m['sequence']) if m['type'] == 'PERIODICAL']
        final = [metric_value(m) for m in mine if m['type'] == 'FINAL']
        # every epoch reported its validation metric: search epochs, then retrain epochs
        assert len(inter) == n_epochs, inter
        assert [i.get('search_epoch') for i in inter[:trial_cfg['search']['epochs']]] == \
            list(range(1, trial_cfg['search']['epochs'] + 1))
        assert [i.get('retrain_epoch') for i in inter[trial_cfg['search']['epochs']:]] == \
            list(range(1, trial_cfg['retrain']['epochs'] + 1))
        assert all(isinstance(i['default'], float) for i in inter)
        assert len(final) == 1
        result = final[0]
        expected = {'default', 'valid_mae', 'test_mae', 'test_corr', 'test_acc7', 'test_acc2_has0', 'test_f1_non0',
                    'parameters', 'retrain_best_epoch', 'search_best_epoch', 'mixer_weight_text',
                    'mixer_weight_audio', 'mixer_weight_vision', 'fusion_op_weight'}
        assert expected <= set(result), sorted(expected - set(result))
        assert result['default'] == result['valid_mae'] == min(i['default'] for i in inter[trial_cfg['search']['epochs']:])
        # the parameters the web UI shows for the trial are the ones it ran with
        shown = json.loads(t['hyperParameters'][0])
        assert json.loads((trial_dir / 'nni_parameters.json').read_text()) == shown['parameters']
        assert json.loads((trial_dir / 'nni_result.json').read_text())['parameter_id'] == shown['parameter_id']
        assert {m['parameterId'] for m in mine} == {str(shown['parameter_id'])}
        # the trial directory holds the architecture, the weights and the figures
        for name in ('arch.json', 'arch_probs.json', 'model.pt', 'metrics.json', 'figures/curves.png',
                     'figures/choice_weights.png', 'trial.stdout'):
            assert (trial_dir / name).is_file(), name
        cfg = load_run(trial_dir)
        assert cfg['space']['encoder']['d_model'] == shown['parameters']['d_model']
        assert cfg['space']['lst']['maxdis'] == shown['parameters']['maxdis']
        data, _ = prepare_data(cfg)
        arch = load_architecture(trial_dir / 'arch.json', build_space(cfg, data))
        model = build_fixed_model(cfg, data, arch)
        model.load_state_dict(torch.load(trial_dir / 'model.pt', map_location='cpu', weights_only=True))
        model.eval()
        batch = next(iter(make_loader(data.splits['test'], data.level, 4, shuffle=False)))
        with torch.no_grad():
            assert model(batch['inputs'], batch['masks'])['fused'].shape == (4,)

    r = subprocess.run(nnictl + ['stop', exp_id], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    deadline = time.time() + 30
    while marked_processes(marker) and time.time() < deadline:
        time.sleep(0.5)
    left = [(p.pid, ' '.join(p.info['cmdline'] or [])[:120]) for p in marked_processes(marker)]
    assert not left, f'processes left behind: {left}'
    with socket.socket() as s:
        assert s.connect_ex(('127.0.0.1', port)) != 0, 'the NNI manager still listens'
