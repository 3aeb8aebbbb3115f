"""NNI's ``remote`` training service against an SSH server this test starts on 127.0.0.1.

Opt-in (it needs OpenSSH's ``sshd``, PyPI access for the worker's
``pip install nni --upgrade``, and about two minutes per test)::

    RMNAS_NNI_REMOTE_TEST=1 python -m pytest -q tests/test_nni_remote.py

The test makes a throwaway key pair and host key, starts ``sshd`` on a free port of
127.0.0.1 that accepts only that key and gives the session a ``HOME`` under
``tmp_path``, and a throwaway virtual environment for the "worker" that sees this
interpreter's packages (so the worker's ``pip install nni --upgrade`` cannot touch
the project's environment). It runs ``examples/rmnas_experiment_remote.yml`` with the
machine list pointed there and two tiny trials side by side, checks what each
trial reported and left on the worker, stops the experiment and the SSH server,
and checks that nothing it started is left. A second test runs a two-cell
``rmnas sweep --nni --nni-config`` on the same kind of worker and compares its
``sweep.csv`` with a local sweep's.
"""
import json
import os
import shutil
import site
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from test_nni_experiment import MARKER, free_port, marked_processes, metric_value, rest

SSHD = shutil.which('sshd', path='/usr/sbin:/usr/local/sbin:/usr/bin:' + os.environ.get('PATH', ''))
pytestmark = pytest.mark.skipif(os.environ.get('RMNAS_NNI_REMOTE_TEST') != '1' or SSHD is None,
                                reason='opt-in: set RMNAS_NNI_REMOTE_TEST=1 (needs sshd and PyPI access)')


def _processes_mentioning(text: str):
    import psutil
    found = []
    for proc in psutil.process_iter(['pid', 'cmdline']):
        try:
            if proc.pid != os.getpid() and (text in ' '.join(proc.info['cmdline'] or []) or text in proc.cwd()):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture
def ssh_server(tmp_path):
    d = tmp_path / 'ssh'
    home = tmp_path / 'worker-home'
    d.mkdir(mode=0o700)
    home.mkdir()
    for name in ('key', 'hostkey'):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(d / name), '-C', 'throwaway'],
                       check=True)
    (d / 'authorized_keys').write_text((d / 'key.pub').read_text())
    (d / 'authorized_keys').chmod(0o600)
    port = free_port()
    user = os.environ.get('USER') or __import__('getpass').getuser()
    (d / 'sshd_config').write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d / 'hostkey'}
PidFile {d / 'sshd.pid'}
AuthorizedKeysFile {d / 'authorized_keys'}
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowUsers {user}
SetEnv HOME={home}
Subsystem sftp internal-sftp
""")
    if os.geteuid() == 0:
        Path('/run/sshd').mkdir(exist_ok=True)
    proc = subprocess.Popen([SSHD, '-D', '-f', str(d / 'sshd_config'), '-E', str(d / 'sshd.log')])
    try:
        deadline = time.time() + 15
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(('127.0.0.1', port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail('sshd did not start: ' + (d / 'sshd.log').read_text()[-1000:])
        yield {'port': port, 'user': user, 'key': d / 'key', 'home': home}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        for left in _processes_mentioning(str(home)):
            left.kill()


@pytest.fixture
def worker_python(tmp_path):
    """A virtual environment that sees this interpreter's packages (the worker's pip installs only into it)."""
    venv = tmp_path / 'worker-venv'
    base = getattr(sys, '_base_executable', sys.executable)
    subprocess.run([base, '-m', 'venv', str(venv)], check=True)
    purelib = subprocess.run([str(venv / 'bin' / 'python'), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, 'parent_env.pth').write_text('\n'.join(site.getsitepackages()) + '\n')
    return venv / 'bin'


def test_remote_training_service_over_ssh(tmp_path, ssh_server, worker_python):
    marker = uuid.uuid4().hex
    env = dict(os.environ, HOME=str(tmp_path / 'home'), PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1',
               PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ.get("PATH", "")}')
    env[MARKER] = marker
    (tmp_path / 'home').mkdir()
    nnictl = [sys.executable, '-m', 'nni.tools.nnictl.nnictl']
    exp = yaml.safe_load((ROOT / 'examples' / 'rmnas_experiment_remote.yml').read_text())
    tiny = yaml.safe_load((ROOT / 'examples' / 'rmnas_experiment_tiny.yml').read_text())
    exp.pop('trialGpuNumber', None)
    exp.update(searchSpace=tiny['searchSpace'], maxTrialNumber=2, trialConcurrency=2, maxExperimentDuration='15m',
               nniManagerIp='127.0.0.1', trialCodeDirectory=str(ROOT),
               experimentWorkingDirectory=str(tmp_path / 'experiments'),
               trialCommand='python -m rmnas_nni.nni_trial --config examples/nni_trial_tiny.yml '
                            '--set search.epochs=2 --set retrain.epochs=2')
    exp['trainingService']['machineList'] = [{
        'host': '127.0.0.1', 'port': ssh_server['port'], 'user': ssh_server['user'],
        'sshKeyFile': str(ssh_server['key']), 'pythonPath': str(worker_python)}]
    config = tmp_path / 'experiment.yml'
    config.write_text(yaml.safe_dump(exp, sort_keys=False))
    port = _two_free_ports()
    try:
        r = subprocess.run(nnictl + ['create', '--config', str(config), '--port', str(port)], env=env,
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        deadline = time.time() + 480
        trials = []
        while time.time() < deadline:
            status = rest(port, 'check-status')['status']
            trials = rest(port, 'trial-jobs')
            if status in ('DONE', 'ERROR', 'STOPPED'):
                break
            time.sleep(2)
        else:
            pytest.fail(f'experiment not done: {[(t["trialJobId"], t["status"]) for t in trials]}')
        assert status == 'DONE' and len(trials) == 2
        metrics = rest(port, 'metric-data')
        for t in trials:
            host, path = t['logPath'].split(':', 1)
            assert host == '127.0.0.1'
            trial_dir = Path(path.replace('~', str(ssh_server['home']), 1))
            log = ''.join((trial_dir / f).read_text()[-1500:] for f in ('trial.stderr', 'trial.stdout')
                          if (trial_dir / f).is_file())
            assert t['status'] == 'SUCCEEDED', log
            shown = json.loads(t['hyperParameters'][0])
            record = json.loads((trial_dir / 'nni_result.json').read_text())
            assert record['parameter_id'] == shown['parameter_id'], log
            assert json.loads((trial_dir / 'nni_parameters.json').read_text()) == shown['parameters']
            for name in ('arch.json', 'arch_probs.json', 'model.pt', 'figures/curves.png'):
                assert (trial_dir / name).is_file(), name
            mine = [m for m in metrics if m['trialJobId'] == t['trialJobId']]
            assert sum(m['type'] == 'PERIODICAL' for m in mine) == 4
            final = [metric_value(m) for m in mine if m['type'] == 'FINAL']
            assert len(final) == 1 and final[0]['default'] == final[0]['valid_mae']
        exp_id = rest(port, 'experiment')['id']
        assert 'Traceback' not in (tmp_path / 'experiments' / exp_id / 'log' / 'dispatcher.log').read_text()
    finally:
        subprocess.run(nnictl + ['stop', '--all'], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    _assert_nothing_left(marker, ssh_server)




def _two_free_ports() -> int:
    """A free port whose next one is free too (the remote training service listens on port + 1)."""
    port = free_port()
    while True:
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port + 1)) != 0:
                return port
        port = free_port()

def _assert_nothing_left(marker, ssh_server) -> None:
    """No process of the experiment or of the remote worker left after ``nnictl stop`` (30 s grace)."""
    deadline = time.time() + 30
    while (marked_processes(marker) or _processes_mentioning(str(ssh_server['home']))) and time.time() < deadline:
        time.sleep(0.5)
    left = marked_processes(marker) + _processes_mentioning(str(ssh_server['home']))
    for proc in left:
        proc.kill()
    assert not left, f'processes left behind: {[p.pid for p in left]}'

def test_sweep_through_the_remote_training_service(tmp_path, ssh_server, worker_python):
    """rmnas sweep --nni --nni-config FILE on the remote service: the worker (this machine) sees the sweep
    directory, so its trials write the cells there; the table is a local sweep's."""
    from test_sweep import MICRO_SPACE, SIZES
    marker = uuid.uuid4().hex
    env = dict(os.environ, HOME=str(tmp_path / 'home'), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED='1',
               OMP_NUM_THREADS='1', PATH=f'{Path(sys.executable).parent}{os.pathsep}{os.environ.get("PATH", "")}')
    env[MARKER] = marker
    (tmp_path / 'home').mkdir()
    space = tmp_path / 'micro.yml'
    space.write_text(MICRO_SPACE)
    common = ['--set', f'search_space={space}', '--set', 'search.epochs=1', '--set', 'retrain.epochs=2',
              '--set', 'search.batch_size=16', '--set', 'retrain.batch_size=16', '--set', SIZES,
              '--set', 'threads=1', '--rates', '0', '0.5', '--seeds', '0', '--variants', 'full', '-q']
    workers = tmp_path / 'workers.yml'
    workers.write_text(yaml.safe_dump({
        'nniManagerIp': '127.0.0.1', 'experimentWorkingDirectory': str(tmp_path / 'experiments'),
        'trainingService': {'platform': 'remote', 'machineList': [{
            'host': '127.0.0.1', 'port': ssh_server['port'], 'user': ssh_server['user'],
            'sshKeyFile': str(ssh_server['key']), 'pythonPath': str(worker_python)}]}}))
    port = _two_free_ports()
    cli = [sys.executable, '-m', 'rmnas_nni.cli', 'sweep']
    try:
        local = subprocess.run(cli + ['--out', str(tmp_path / 'local')] + common, env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=600)
        assert local.returncode == 0, local.stderr[-2000:]
        r = subprocess.run(cli + ['--out', str(tmp_path / 'nni'), '--nni-config', str(workers), '--jobs', '2',
                                  '--port', str(port)] + common, env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert 'on the remote training service' in r.stdout and '2/2 trials ended' in r.stdout
        assert (tmp_path / 'nni' / 'sweep.csv').read_text() == (tmp_path / 'local' / 'sweep.csv').read_text()
    finally:
        subprocess.run([sys.executable, '-m', 'nni.tools.nnictl.nnictl', 'stop', '--all'], env=env, cwd=tmp_path,
                       capture_output=True, timeout=120)
    _assert_nothing_left(marker, ssh_server)
