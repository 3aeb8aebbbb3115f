"""Interruption, resume, numerical faults and reproducibility."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import ROOT, run_cli

SMALL = ['--set', 'data.options={sizes: {train: 160, valid: 48, test: 64}}', '--set', 'search.epochs=3',
         '--set', 'retrain.epochs=3', '--set', 'search.batch_size=16', '--set', 'retrain.batch_size=16']


def _start(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    return subprocess.Popen([sys.executable, '-m', 'rmnas_nni.cli', *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kill_after(proc, marker, timeout=600):
    deadline = time.time() + timeout
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return ''.join(seen)
        if time.time() > deadline:
            break
    proc.kill()
    raise AssertionError(f'{marker!r} never printed:\n' + ''.join(seen)[-2000:])


@pytest.mark.parametrize('strategy', [[], ['--set', 'strategy=spos', '--set', 'strategy_config.options.candidates=12']],
                         ids=['darts', 'spos'])
def test_kill_9_then_resume_gives_the_uninterrupted_result(tmp_path, strategy):
    full, cut = tmp_path / 'full', tmp_path / 'cut'
    r = run_cli('run', '--out', full, '--quiet', *SMALL, *strategy)
    assert r.returncode == 0, r.stderr[-2000:]
    _kill_after(_start('run', '--out', cut, *SMALL, *strategy), 'search epoch 2/3')
    assert not (cut / 'arch.json').exists()
    out = _kill_after(_start('run', '--resume', cut), 'retrain epoch 2/3')
    assert 'search epoch 3/3' in out and 'search epoch 1/3' not in out       # continued, not restarted
    r = run_cli('run', '--resume', cut)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'resumed after epoch 2' in r.stdout and 'retrain epoch 3/3' in r.stdout
    assert (full / 'arch.json').read_text() == (cut / 'arch.json').read_text()
    assert (full / 'arch_probs.json').read_text() == (cut / 'arch_probs.json').read_text()
    a = json.loads((full / 'metrics.json').read_text())
    b = json.loads((cut / 'metrics.json').read_text())
    assert a['test'] == b['test'] and a['valid'] == b['valid']
    assert not list(cut.rglob('*.tmp')) and not list(cut.rglob('.*.tmp*'))


def test_kill_9_in_a_further_spos_supernet_then_resume_gives_the_uninterrupted_result(tmp_path):
    """``options.supernets: 2``: killed while the second supernet trains, the resumed run leaves the
    first one as it was, continues the second from its own checkpoint, and ends where an
    uninterrupted run does."""
    spos = ['--set', 'strategy=spos', '--set', 'strategy_config.options.candidates=12',
            '--set', 'strategy_config.options.supernets=2']
    full, cut = tmp_path / 'full', tmp_path / 'cut'
    r = run_cli('run', '--out', full, '--quiet', *SMALL, *spos)
    assert r.returncode == 0, r.stderr[-2000:]
    _kill_after(_start('run', '--out', cut, *SMALL, *spos), 'supernet 2/2 (seed 1000) epoch 2/3')
    assert not (cut / 'arch.json').exists()
    r = run_cli('run', '--resume', cut)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'supernet 2/2 (seed 1000) epoch 3/3' in r.stdout
    assert 'search epoch' not in r.stdout and 'supernet 2/2 (seed 1000) epoch 1/3' not in r.stdout
    for name in ('arch.json', 'search/candidates.csv'):
        assert (full / name).read_text() == (cut / name).read_text()
    a = json.loads((full / 'metrics.json').read_text())
    b = json.loads((cut / 'metrics.json').read_text())
    assert a['test'] == b['test'] and a['valid'] == b['valid']


def test_kill_9_in_a_further_member_of_an_ensemble_of_the_ranking_then_resume_gives_the_uninterrupted_result(
        tmp_path):
    """``retrain.ensemble_of: ranking``: killed while the second member (the second-ranked architecture)
    retrains, the resumed run continues it from its own checkpoint with the same members and ends where an
    uninterrupted run does."""
    sets = ['--set', 'strategy=spos', '--set', 'strategy_config.options.candidates=12',
            '--set', 'retrain.ensemble=2', '--set', 'retrain.ensemble_of=ranking']
    full, cut = tmp_path / 'full', tmp_path / 'cut'
    r = run_cli('run', '--out', full, '--quiet', *SMALL, *sets)
    assert r.returncode == 0, r.stderr[-2000:]
    proc = _start('run', '--out', cut, *SMALL, *sets)
    for line in proc.stdout:                               # the second member's header, then its epoch 2
        if 'retrain 2/2 (seed 1000, member architecture 2)' in line:
            break
    _kill_after(proc, 'retrain epoch 2/3')
    assert not (cut / 'metrics.json').exists()
    r = run_cli('run', '--resume', cut)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'search epoch' not in r.stdout and 'retrain: resumed after epoch 2' in r.stdout
    assert 'retrain epoch 1/3' not in r.stdout
    for name in ('arch.json', 'arch_members.json', 'search/candidates.csv', 'retrain/member1/history.csv'):
        assert (full / name).read_text() == (cut / name).read_text(), name
    a = json.loads((full / 'metrics.json').read_text())
    b = json.loads((cut / 'metrics.json').read_text())
    assert a['test'] == b['test'] and a['valid'] == b['valid'] and b['ensemble_of'] == 'ranking'


def test_same_seed_same_architecture_and_metrics(tmp_path):
    results = []
    for name in ('a', 'b'):
        r = run_cli('run', '--out', tmp_path / name, '--quiet', *SMALL, '--set', 'seed=3')
        assert r.returncode == 0, r.stderr[-2000:]
        results.append(((tmp_path / name / 'arch_probs.json').read_text(),
                        json.loads((tmp_path / name / 'metrics.json').read_text())['test']))
    assert results[0] == results[1]
    env = json.loads((tmp_path / 'a' / 'environment.json').read_text())
    for key in ('torch', 'nni', 'python', 'rmnas_nni', 'seed', 'data_checksum'):
        assert env[key] not in (None, ''), key
    assert env['seed'] == 3 and env['data_checksum'].startswith('sha256:')


def _nan_after(n_calls):
    import rmnas_nni.losses as losses
    original = losses.rmnas_loss
    calls = {'n': 0}

    def faulty(outputs, batch, task):
        calls['n'] += 1
        loss = original(outputs, batch, task)
        return loss * float('nan') if calls['n'] > n_calls else loss
    return faulty


@pytest.mark.parametrize('stage', ['search', 'retrain'])
def test_nan_loss_stops_cleanly_and_keeps_last_good_checkpoint(tmp_path, monkeypatch, capsys, stage):
    from rmnas_nni import cli, search_strategy, trainer
    # 160 train samples / batch 16 = 10 weight steps per epoch (DARTS also takes 3 architecture steps)
    if stage == 'search':
        monkeypatch.setattr(search_strategy, 'rmnas_loss', _nan_after(20 + 4))
    else:
        monkeypatch.setattr(trainer, 'rmnas_loss', _nan_after(13))
    args = ['run', '--out', str(tmp_path / 'r'), *SMALL]
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 3
    lines = [l for l in err.strip().splitlines() if l.startswith('rmnas: error:')]
    assert len(lines) == 1 and 'Traceback' not in err
    if stage == 'search':
        assert 'search: non-finite loss' in lines[0] and 'epoch 2, step' in lines[0]
        ckpt = torch.load(tmp_path / 'r' / 'search' / 'checkpoints' / 'last.ckpt', weights_only=True)
        assert ckpt['epoch'] == 0                                               # epoch 1 kept
        assert not (tmp_path / 'r' / 'arch.json').exists()
    else:
        assert 'retrain: non-finite loss' in lines[0] and 'epoch 2, step 4' in lines[0]
        ckpt = torch.load(tmp_path / 'r' / 'retrain' / 'last.pt', weights_only=False)
        assert ckpt['state']['epoch'] == 1
        assert all(torch.isfinite(v).all() for v in ckpt['model'].values() if v.is_floating_point())
        assert not (tmp_path / 'r' / 'model.pt').exists()


def test_existing_run_directory_is_never_overwritten(tmp_path):
    out = tmp_path / 'r'
    out.mkdir()
    (out / 'keep.txt').write_text('results')
    r = run_cli('run', '--out', out, *SMALL)
    assert r.returncode == 2 and 'run directory exists' in r.stderr and 'Traceback' not in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ['keep.txt']


def test_atomic_writes_leave_ordinary_permissions_and_no_temp_files(tmp_path, monkeypatch):
    import stat
    from rmnas_nni import rundir
    monkeypatch.setattr(rundir, '_UMASK', 0o022)
    path = rundir.atomic_write_json(tmp_path / 'm.json', {'a': 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o644             # not mkstemp's 0600
    assert json.loads(path.read_text()) == {'a': 1}
    assert [p.name for p in tmp_path.iterdir()] == ['m.json']


def test_resume_removes_the_temporaries_of_writes_a_kill_interrupted(tmp_path):
    """A kill between writing an atomic write's temporary file and renaming it leaves the file;
    resuming removes it (planted here at the places a kill can leave one, instead of by chance)."""
    cut = tmp_path / 'cut'
    _kill_after(_start('run', '--out', cut, *SMALL), 'search epoch 2/3')
    stale = [cut / 'search' / 'checkpoints' / '.last.ckpt.k2j4_x.tmp', cut / 'search' / '.choices.csv.ab12cd.tmp',
             cut / '.metrics.json.zz99.tmp']
    for path in stale:
        path.write_bytes(b'half a checkpoint')
    r = run_cli('run', '--resume', cut)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not any(p.exists() for p in stale)
    assert not list(cut.rglob('.*.tmp*'))
