"""Multi-trial NAS through NNI's NasExperiment at a tiny size: the real NNI manager, two sampled architectures."""
import json
import os
import socket
import subprocess
import sys
import time
import uuid

import pandas as pd

from conftest import ROOT
from test_nni_experiment import MARKER, free_port, marked_processes

MICRO_SPACE = """encoder: {d_model: 16, n_blocks: 1, n_heads: 2, ffn_ratio: 2, dropout: 0.0}
lst: {enabled: true, kernel_size: 7, maxdis: 4}
fusion: {width: 8, n_cells: 1, n_steps: 2, attention_chunks: 2}
"""


def end_marked_processes(marker):
    """Wait up to 30 s for the experiment's processes to end; kill and return those still left."""
    deadline = time.time() + 30
    while marked_processes(marker) and time.time() < deadline:
        time.sleep(0.5)
    left = marked_processes(marker)
    for proc in left:
        proc.kill()
    return left


def manager_get(port, what):
    """GET /api/v1/nni/WHAT from the NNI manager (the web UI's REST API)."""
    import urllib.request
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/v1/nni/{what}', timeout=30) as resp:
        return json.loads(resp.read().decode('utf-8'))


def multitrial_command(tmp_path, sizes, *options):
    """``rmnas multitrial`` on the micro space, isolated: (command, environment, marker, port, out)."""
    space = tmp_path / 'micro.yml'
    space.write_text(MICRO_SPACE)
    marker = uuid.uuid4().hex
    env = dict(os.environ, HOME=str(tmp_path / 'home'), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED='1',
               OMP_NUM_THREADS='1')
    env[MARKER] = marker
    (tmp_path / 'home').mkdir()
    port = free_port()
    out = tmp_path / 'out'
    cmd = [sys.executable, '-m', 'rmnas_nni.cli', 'multitrial', '--set', f'search_space={space}',
           '--set', f'data.options={{sizes: {sizes}}}', *options, '--port', str(port), '--out', str(out),
           '--experiment-dir', str(tmp_path / 'experiments')]
    return cmd, env, marker, port, out


def micro_space():
    from rmnas_nni.data.synthetic import make_synthetic
    from rmnas_nni.space import RMNASSpace
    data = make_synthetic('sentence', sizes={'train': 8, 'valid': 4, 'test': 4})
    return RMNASSpace(data.dims, data.max_lengths, level=data.level, d_model=16, n_blocks=1, n_heads=2,
                      ffn_ratio=2, fusion_width=8, n_cells=2, attention_chunks=2)


def test_the_web_ui_gets_every_searched_choice(caplog):
    """The search space NNI's manager receives holds every label of space.simplify(), without NNI's warning."""
    import nni
    from rmnas_nni.multitrial import (ArchitectureEvaluator, MultiTrialExperiment, ReadableModelSpace,
                                      build_multitrial_strategy, evaluate_architecture, web_ui_label)
    space = micro_space()
    exp = MultiTrialExperiment(space, ArchitectureEvaluator(evaluate_architecture, config={}, epochs=1),
                               build_multitrial_strategy('random', seed=0))
    sent = []
    exp.update_search_space = sent.append
    with caplog.at_level('WARNING'):
        exp._send_space_to_nni_manager()
    assert 'Cannot convert' not in caplog.text
    mutables = space.simplify()
    assert list(sent[0]) == [web_ui_label(label) for label in mutables]
    assert not any('/' in name for name in sent[0])                  # the web UI titles columns up to a slash
    for label, mutable in mutables.items():
        legacy = sent[0][web_ui_label(label)]
        assert legacy['_type'] == 'choice' and len(legacy['_value']) == len(mutable.values), label
    assert sent[0]['fusion.cell1.input1']['_value'] == ['text/block0', 'audio/block0', 'vision/block0', 'cell0']
    assert sent[0]['fusion.cell0.step1.input0']['_value'] == ['input0', 'input1', 'step0']

    model = exp.executable_model_factory(exp.config.canonical_copy().model_format)
    assert isinstance(model, ReadableModelSpace)
    frozen = model.freeze({**{label: m.default() for label, m in mutables.items()}, 'fusion/cell1/input0': [3]})
    shown = json.loads(nni.dump(frozen))['mutation_summary']
    assert shown['fusion.cell1.input0'] == 'cell0' and set(shown) == set(sent[0])
    for name, value in shown.items():
        assert value in sent[0][name]['_value'], name


def test_multitrial_random_search_runs_each_architecture_as_a_trial(tmp_path):
    from rmnas_nni.pipeline import build_fixed_model, build_space, load_architecture, load_run, prepare_data
    cmd, env, marker, port, out = multitrial_command(
        tmp_path, '{train: 96, valid: 48, test: 48}', '--strategy', 'random', '--trials', '2', '--concurrency', '2',
        '--epochs', '2')
    try:
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=480)
    finally:
        left = end_marked_processes(marker)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not left, f'processes left behind: {[p.pid for p in left]}'
    with socket.socket() as s:
        assert s.connect_ex(('127.0.0.1', port)) != 0, 'the NNI manager still listens'

    trials = pd.read_csv(out / 'trials.csv')
    assert len(trials) == 2 and (trials['status'] == 'SUCCEEDED').all()
    assert (trials['default'] == -trials['valid_mae']).all()          # NNI's strategies maximise; MAE is negated
    best = json.loads((out / 'arch.json').read_text())
    archs = []
    for trial_dir in trials['trial_dir']:
        cfg = load_run(trial_dir)
        data, _ = prepare_data(cfg)
        arch = load_architecture(os.path.join(trial_dir, 'arch.json'), build_space(cfg, data))
        build_fixed_model(cfg, data, arch)
        archs.append(arch)
        record = json.loads(open(os.path.join(trial_dir, 'nni_result.json')).read())
        assert record['direction'] == 'min' and len(record['intermediate']) == 2
        assert os.path.isfile(os.path.join(trial_dir, 'model.pt'))
        # each row's arch is the trial's architecture (the final result's, as NNI stored it)
        assert json.loads(trials.set_index('trial_dir').loc[trial_dir, 'arch']) == \
            json.loads(open(os.path.join(trial_dir, 'arch.json')).read())
    assert archs[0] != archs[1]                                          # deduplicated sampling
    assert best == archs[0]                                              # the table is sorted best first
    assert 'arch' not in (out / 'trials.md').read_text().splitlines()[0]  # the table to read leaves it out


def test_keep_open_writes_outputs_first_and_ends_on_nnictl_stop(tmp_path):
    """--keep-open: the outputs exist while the web UI stays up, and `nnictl stop --port` ends the command."""
    cmd, env, marker, port, out = multitrial_command(
        tmp_path, '{train: 64, valid: 32, test: 32}', '--set', 'threads=1', '--trials', '1', '--epochs', '1',
        '--keep-open')
    log = open(tmp_path / 'multitrial.log', 'w')
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 300
        while not (out / 'trials.csv').is_file() and proc.poll() is None and time.time() < deadline:
            time.sleep(1)
        assert (out / 'trials.csv').is_file(), (tmp_path / 'multitrial.log').read_text()[-3000:]
        time.sleep(3)
        assert proc.poll() is None, 'keep-open returned before anyone stopped it'
        for name in ('trials.md', 'top_architectures.json', 'arch.json'):
            assert (out / name).is_file(), name
        with socket.socket() as s:
            assert s.connect_ex(('127.0.0.1', port)) == 0, 'the web UI is not up'
        shown_space = manager_get(port, 'experiment')['params']['searchSpace']
        shown_space = json.loads(shown_space) if isinstance(shown_space, str) else shown_space
        assert 'fusion.cell0.step1.input0' in shown_space and len(shown_space) == 11, list(shown_space)
        [job] = manager_get(port, 'trial-jobs')
        shown = json.loads(job['hyperParameters'][0])['parameters']['mutation_summary']
        assert set(shown) == set(shown_space) and all(v in shown_space[k]['_value'] for k, v in shown.items())
        from rmnas_nni.nni_report import best_trial
        best = best_trial(port)                          # a NAS experiment has no tuner: its strategies maximise
        assert (best['mode'], best['trial']) == ('maximize', job['trialJobId'])
        assert best['arch'] == json.loads((out / 'arch.json').read_text())
        r = subprocess.run([sys.executable, '-m', 'nni.tools.nnictl.nnictl', 'stop', '--port', str(port)],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        rc = proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        left = end_marked_processes(marker)
    text = (tmp_path / 'multitrial.log').read_text()
    assert rc == 0, text[-3000:]
    assert 'Traceback' not in text, text[-3000:]
    assert 'Cannot convert' not in text, text[-3000:]
    assert not left, f'processes left behind: {[p.pid for p in left]}'
    with socket.socket() as s:
        assert s.connect_ex(('127.0.0.1', port)) != 0, 'the NNI manager still listens'
    trials = pd.read_csv(out / 'trials.csv')
    assert len(trials) == 1 and trials['status'].tolist() == ['SUCCEEDED']
