"""The NNI experiments end to end: the real NNI manager started by ``nnictl create``.

Two trials of ``examples/rmnas_experiment_tiny.yml`` run side by side; one trial of
the flagship ``examples/rmnas_experiment.yml`` (shipped GPU settings, shipped CMU-MOSI
table, CPU-sized through the trial's ``--set``) runs on a machine without a GPU.
Each test talks to the manager's REST API on 127.0.0.1 only, checks what the trials
reported and left in their trial directories, stops the experiment and checks that
no process it started is left.

Isolation: ``HOME`` points into ``tmp_path`` (nnictl keeps its list of experiments
in ``~/nni-experiments``), the experiment directory is under ``tmp_path``, the
port is a free one, and every process of the experiment inherits a marker
environment variable by which the test finds (and, failing, ends) exactly its own.
"""
import csv
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


def local_trial_command(command: str) -> str:
    """An experiment file's ``python -m ...`` trial command, run by this test's Python."""
    assert command.startswith('python -m rmnas_nni.nni_trial '), command
    return shlex.quote(sys.executable) + command[len('python'):]


def create_experiment(tmp_path, nni_env, exp):
    """``nnictl create`` for the experiment dict ``exp`` on a free port: ``(port, experiment id, folder)``."""
    env, nnictl, _ = nni_env
    exp.update(trialCodeDirectory=str(ROOT), experimentWorkingDirectory=str(tmp_path / 'experiments'))
    config = tmp_path / 'experiment.yml'
    config.write_text(yaml.safe_dump(exp, sort_keys=False))
    port = free_port()
    r = subprocess.run(nnictl + ['create', '--config', str(config), '--port', str(port)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    exp_id = rest(port, 'experiment')['id']
    exp_dir = tmp_path / 'experiments' / exp_id
    assert exp_dir.is_dir()
    return port, exp_id, exp_dir


def wait_for_trials(port: int, n_trials: int, deadline_s: float = DEADLINE_S):
    """Poll the manager (127.0.0.1) until ``n_trials`` trials have ended, or the experiment has; the trial records."""
    deadline = time.time() + deadline_s
    trials = []
    while time.time() < deadline:
        status = rest(port, 'check-status')['status']
        trials = rest(port, 'trial-jobs')
        finished = [t for t in trials if t['status'] not in ('WAITING', 'RUNNING', 'UNKNOWN')]
        if status in ('DONE', 'ERROR', 'STOPPED') or (len(trials) == n_trials and len(finished) == n_trials):
            return trials
        time.sleep(2)
    pytest.fail(f'experiment not done after {deadline_s}s: {[(t["trialJobId"], t["status"]) for t in trials]}')


def trial_log(t) -> str:
    d = Path(t['logPath'])
    return ''.join((d / f).read_text()[-1500:] for f in ('trial.stderr', 'trial.log') if (d / f).is_file())


def stop_experiment(tmp_path, nni_env, exp_id: str, port: int) -> None:
    """``nnictl stop``, then: no process of the experiment left, nothing listening on its port."""
    env, nnictl, marker = nni_env
    r = subprocess.run(nnictl + ['stop', exp_id], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    deadline = time.time() + 30
    while marked_processes(marker) and time.time() < deadline:
        time.sleep(0.5)
    left = [(p.pid, ' '.join(p.info['cmdline'] or [])[:120]) for p in marked_processes(marker)]
    assert not left, f'processes left behind: {left}'
    with socket.socket() as s:
        assert s.connect_ex(('127.0.0.1', port)) != 0, 'the NNI manager still listens'


def test_tiny_experiment_through_nnictl(tmp_path, nni_env, capsys):
    from rmnas_nni.data import make_loader
    from rmnas_nni.pipeline import build_fixed_model, build_space, load_architecture, load_run, prepare_data
    import torch

    exp = yaml.safe_load((ROOT / 'examples' / 'rmnas_experiment_tiny.yml').read_text())
    exp['trialCommand'] = local_trial_command(exp['trialCommand'])
    exp.update(maxTrialNumber=2, trialConcurrency=2, maxExperimentDuration='10m')
    trial_cfg = yaml.safe_load((ROOT / 'examples' / 'nni_trial_tiny.yml').read_text())
    n_epochs = trial_cfg['search']['epochs'] + trial_cfg['retrain']['epochs']
    port, exp_id, exp_dir = create_experiment(tmp_path, nni_env, exp)
    trials = wait_for_trials(port, 2)

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
        # the final result NNI stores holds the architecture the trial exported
        assert json.loads(result['arch']) == json.loads((trial_dir / 'arch.json').read_text())
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
        assert cfg.space.encoder.d_model == shown['parameters']['d_model']
        assert cfg.space.lst.maxdis == shown['parameters']['maxdis']
        data, _ = prepare_data(cfg)
        arch = load_architecture(trial_dir / 'arch.json', build_space(cfg, data))
        model = build_fixed_model(cfg, data, arch)
        model.load_state_dict(torch.load(trial_dir / 'model.pt', map_location='cpu', weights_only=True))
        model.eval()
        batch = next(iter(make_loader(data.splits['test'], data.level, 4, shuffle=False)))
        with torch.no_grad():
            assert model(batch['inputs'], batch['masks'])['fused'].shape == (4,)

    # nnictl experiment export carries each trial's architecture: a JSON string in JSON, an arch column in CSV
    arch_of = {t['trialJobId']: json.loads((Path(t['logPath']) / 'arch.json').read_text()) for t in trials}
    env, nnictl, _ = nni_env
    for kind in ('json', 'csv'):
        path = tmp_path / f'export.{kind}'
        r = subprocess.run(nnictl + ['experiment', 'export', exp_id, '--type', kind, '--filename', str(path)],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and path.is_file(), r.stdout[-2000:] + r.stderr[-2000:]
        if kind == 'json':
            rows = [dict(json.loads(e['value']), trialJobId=e['trialJobId']) for e in json.loads(path.read_text())]
        else:
            rows = list(csv.DictReader(path.open()))
        assert {row['trialJobId']: json.loads(row['arch']) for row in rows} == arch_of
    # rmnas nni-best: the trial with the lowest validation MAE (the tuner minimises), its directory and architecture
    from rmnas_nni.cli import main
    best_file = tmp_path / 'best_arch.json'
    assert main(['nni-best', '--port', str(port), '--out', str(best_file)]) == 0
    finals = {m['trialJobId']: metric_value(m)['default'] for m in metrics if m['type'] == 'FINAL'}
    best_id = min(finals, key=finals.get)
    assert json.loads(best_file.read_text()) == arch_of[best_id]
    best_dir = next(t['logPath'] for t in trials if t['trialJobId'] == best_id)
    printed = capsys.readouterr().out
    assert f'trial {best_id}, default' in printed and f'trial directory: {best_dir}' in printed

    stop_experiment(tmp_path, nni_env, exp_id, port)


#: what the flagship test changes in examples/rmnas_experiment.yml: only the size of the experiment and of its trial
FLAGSHIP_TRIAL_SETS = ' --set search_space=tiny --set search.epochs=2 --set retrain.epochs=2 --set threads=1'


def test_flagship_experiment_runs_on_the_cpu_with_the_shipped_mosi_table(tmp_path, nni_env):
    """examples/rmnas_experiment.yml as shipped starts on a machine without a GPU and runs a trial on real MOSI.

    Only its size is changed (one trial; the CPU-sized space and two epochs per phase
    through the trial's --set); GPU settings, tuner, search space and the trial's run
    config (examples/nni_trial_mosi.yml, the shipped CMU-MOSI table) are the shipped ones.
    """
    from rmnas_nni.pipeline import load_run
    shipped = yaml.safe_load((ROOT / 'examples' / 'rmnas_experiment.yml').read_text())
    assert 'trialGpuNumber' not in shipped          # GPU scheduling would stop the manager on a machine without one
    assert shipped['trialCommand'] == 'python -m rmnas_nni.nni_trial --config examples/nni_trial_mosi.yml'
    trial_cfg = yaml.safe_load((ROOT / 'examples' / 'nni_trial_mosi.yml').read_text())
    table = (ROOT / 'examples' / trial_cfg['data']['path']).resolve()
    assert table == ROOT / 'data' / 'cmu-mosi-utterances' / 'mosi_utterances.npz' and table.is_file()
    exp = dict(shipped, trialCommand=local_trial_command(shipped['trialCommand']) + FLAGSHIP_TRIAL_SETS,
               maxTrialNumber=1, trialConcurrency=1, maxExperimentDuration='10m')
    port, exp_id, exp_dir = create_experiment(tmp_path, nni_env, exp)
    time.sleep(5)
    assert rest(port, 'check-status')['status'] in ('RUNNING', 'NO_MORE_TRIAL', 'DONE'), \
        'the NNI manager stopped after starting'
    trials = wait_for_trials(port, 1)
    assert len(trials) == 1
    t = trials[0]
    assert t['status'] == 'SUCCEEDED', trial_log(t)
    manager_log = (exp_dir / 'log' / 'nnimanager.log').read_text()
    assert 'Failed to collect GPU info' not in manager_log

    final = [metric_value(m) for m in rest(port, 'metric-data') if m['type'] == 'FINAL']
    assert len(final) == 1
    result = final[0]
    # dialogue level, the honest split: MAE selects, Acc-2 / WAF / MAE / Corr on the 20 test videos
    assert {'default', 'valid_mae', 'test_mae', 'test_acc2', 'test_waf', 'test_corr', 'parameters'} <= set(result)
    assert result['default'] == result['valid_mae']
    assert 0 <= result['test_acc2'] <= 100 and result['test_mae'] > 0
    trial_dir = Path(t['logPath'])
    cfg = load_run(trial_dir)
    assert Path(cfg.data.path).resolve() == table
    assert (cfg.data.format, cfg.data.level) == ('table', 'dialogue')
    assert cfg.data.options['valid_from'] == 'test'
    shown = json.loads(t['hyperParameters'][0])['parameters']
    assert cfg.space.encoder.d_model == shown['d_model']
    for name in ('arch.json', 'model.pt', 'metrics.json', 'nni_result.json'):
        assert (trial_dir / name).is_file(), name

    stop_experiment(tmp_path, nni_env, exp_id, port)
