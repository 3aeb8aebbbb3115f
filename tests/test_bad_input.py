"""Bad input is refused cleanly: one line naming the file and the key, exit status 2,
no traceback, and nothing written (no run directory, no output file).

Each case writes its malformed input itself; data-file cases live beside the readers'
tests and are collected here too (see ``DATA_CASES``).
"""
import json
from pathlib import Path

import pytest

from conftest import run_cli


def _yaml(tmp, text, name='bad.yml'):
    p = tmp / name
    p.write_text(text)
    return p


def _with(tmp, key, name, text):
    """A run config whose ``key`` names a second file ``name`` holding ``text``."""
    _yaml(tmp, text, name)
    return ['-c', _yaml(tmp, f'{key}: {name}\n', 'run.yml')]


def _arch(tmp, mutate):
    arch = json.loads((Path(__file__).parent / 'data' / 'tiny_arch.json').read_text())
    mutate(arch)
    p = tmp / 'arch.json'
    p.write_text(json.dumps(arch))
    return p


def _drop(key):
    return lambda a: a.pop(key)


def _set(key, value):
    return lambda a: a.__setitem__(key, value)


# (id, builder(tmp) -> extra CLI args, substrings the error line must contain)
CASES = [
    ('config-missing-file', lambda t: ['-c', t / 'nope.yml'], ['nope.yml', 'file not found']),
    ('config-not-yaml', lambda t: ['-c', _yaml(t, 'seed: [1, 2\n')], ['bad.yml', 'not valid YAML']),
    ('config-top-level-list', lambda t: ['-c', _yaml(t, '- 1\n- 2\n')], ['bad.yml', 'top level']),
    ('config-unknown-key', lambda t: ['-c', _yaml(t, 'search:\n  epoch: 3\n')], ['bad.yml', "'search.epoch'"]),
    ('config-wrong-type', lambda t: ['-c', _yaml(t, 'search:\n  epochs: three\n')], ['bad.yml', "'search.epochs'"]),
    ('config-negative-epochs', lambda t: ['-c', _yaml(t, 'retrain:\n  epochs: -1\n')],
     ['bad.yml', "'retrain.epochs'", '> 0']),
    ('config-bad-level', lambda t: ['-c', _yaml(t, 'data:\n  level: paragraph\n')], ['bad.yml', "'data.level'"]),
    ('config-rate-out-of-range', lambda t: ['-c', _yaml(t, 'data:\n  missing:\n    rate: 1.5\n')],
     ['bad.yml', "'data.missing.rate'"]),
    ('config-rate-unknown-modality', lambda t: ['-c', _yaml(t, 'data:\n  missing:\n    rate: {smell: 0.2}\n')],
     ['bad.yml', "'data.missing.rate.smell'"]),
    ('config-missing-space-file', lambda t: ['-c', _yaml(t, 'search_space: nowhere.yml\n')],
     ['bad.yml', "'search_space'", 'nowhere.yml']),
    ('space-heads-do-not-divide-d', lambda t: _with(t, 'search_space', 'space.yml', 'encoder:\n  d_model: 30\n  n_heads: 4\n'),
     ['space.yml', "'encoder.n_heads'", 'divide']),
    ('space-maxdis-zero', lambda t: _with(t, 'search_space', 'space.yml', 'lst:\n  maxdis: 0\n'),
     ['space.yml', "'lst.maxdis'"]),
    ('space-even-kernel', lambda t: _with(t, 'search_space', 'space.yml', 'lst:\n  kernel_size: 4\n'),
     ['space.yml', "'lst.kernel_size'"]),
    ('space-unknown-mixer', lambda t: _with(t, 'search_space', 'space.yml', 'encoder:\n  mixers: [attention, conv]\n'),
     ['space.yml', "'encoder.mixers'", 'conv']),
    ('strategy-unknown', lambda t: _with(t, 'strategy', 'strat.yml', 'strategy: evolution\n'),
     ['strat.yml', "'strategy'"]),
    ('strategy-bad-arch-lr', lambda t: _with(t, 'strategy', 'strat.yml', 'architecture_optimizer:\n  lr: 0\n'),
     ['strat.yml', "'architecture_optimizer.lr'"]),
    ('set-unknown-key', lambda t: ['--set', 'retrain.learning_rate=0.1'], ["'retrain.learning_rate'"]),
    ('set-not-key-value', lambda t: ['--set', 'retrain.lr'], ['--set retrain.lr', 'KEY=VALUE']),
]

ARCH_CASES = [
    ('arch-unknown-label', _set('audio/block9/mixer', 'pool'), ["'audio/block9/mixer'", 'unknown label']),
    ('arch-missing-label', _drop('text/block0/mixer'), ["'text/block0/mixer'", 'missing']),
    ('arch-wrong-choice', _set('text/block1/mixer', 'convolution'), ["'text/block1/mixer'", 'invalid choice']),
    ('arch-input-out-of-range', _set('fusion/cell0/input0', [17]), ["'fusion/cell0/input0'", 'invalid choice']),
    ('arch-input-not-list', _set('fusion/cell1/input1', 2), ["'fusion/cell1/input1'", 'invalid choice']),
]


class _Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_main(capsys, *args):
    """The CLI in this process (fast); a few cases below also run it as a real process."""
    from rmnas_nni import cli
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return _Result(code, out, err)


def _assert_refused(r, must, out_dir):
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert 'Traceback' not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('rmnas: error: '), r.stderr
    for text in must:
        assert text in lines[0], (text, lines[0])
    assert not out_dir.exists()


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_refused(tmp_path, capsys, case):
    _, build, must = case
    out = tmp_path / 'out'
    r = run_main(capsys, 'run', '--out', out, *build(tmp_path))
    _assert_refused(r, must, out)


@pytest.mark.parametrize('case', ARCH_CASES, ids=[c[0] for c in ARCH_CASES])
def test_bad_architecture_is_refused(tmp_path, capsys, case):
    _, mutate, must = case
    out = tmp_path / 'out'
    arch = _arch(tmp_path, mutate)
    r = run_main(capsys, 'retrain', '--arch', arch, '--out', out)
    _assert_refused(r, must + [str(arch)], out)


def test_architecture_not_json(tmp_path, capsys):
    p = tmp_path / 'arch.json'
    p.write_text('{"text/block0/mixer": ')
    out = tmp_path / 'out'
    _assert_refused(run_main(capsys, 'retrain', '--arch', p, '--out', out), [str(p), 'not valid JSON'], out)


def test_architecture_missing_file(tmp_path, capsys):
    out = tmp_path / 'out'
    _assert_refused(run_main(capsys, 'retrain', '--arch', tmp_path / 'none.json', '--out', out),
                    ['none.json', 'file not found'], out)


@pytest.mark.parametrize('which', ['config', 'arch'])
def test_refusal_in_a_real_process(tmp_path, which):
    """The exit status and the single line, as a shell sees them."""
    out = tmp_path / 'out'
    if which == 'config':
        r = run_cli('run', '--out', out, '-c', _yaml(tmp_path, 'search:\n  epochs: 0\n'))
        must = ['bad.yml', "'search.epochs'"]
    else:
        arch = _arch(tmp_path, _drop('fusion/cell1/step1/op'))
        r = run_cli('retrain', '--arch', arch, '--out', out)
        must = [str(arch), "'fusion/cell1/step1/op'"]
    _assert_refused(r, must, out)


def test_cuda_asked_for_without_cuda(tmp_path, capsys):
    import torch
    if torch.cuda.is_available():
        pytest.skip('this machine has CUDA')
    out = tmp_path / 'out'
    _assert_refused(run_main(capsys, 'run', '--out', out, '-c', _yaml(tmp_path, 'device: cuda\n')),
                    ['bad.yml', "'device'", 'no CUDA device'], out)


def test_multitrial_evolution_refuses_more_trials_at_a_time_than_its_population(tmp_path, capsys):
    out = tmp_path / 'mt'
    _assert_refused(run_main(capsys, 'multitrial', '--strategy', 'evolution', '--population', '2',
                             '--concurrency', '3', '--port', '8097', '--out', out),
                    ['--concurrency 3', '--population (2)'], out)


def test_overwrite_refuses_a_directory_rmnas_did_not_write(tmp_path, capsys):
    out = tmp_path / 'precious'
    out.mkdir()
    (out / 'thesis.tex').write_text('years of work')
    r = run_main(capsys, 'run', '--out', out, '--overwrite', '--set', 'search.epochs=1')
    assert r.returncode == 2 and 'only replaces a run directory written by rmnas' in r.stderr
    assert (out / 'thesis.tex').read_text() == 'years of work'


# --- data files: every malformed MMSA pickle goes through the whole CLI and is refused before anything is written

def _mutations():
    import numpy as np

    def labels_short(o):
        o['train']['regression_labels'] = o['train']['regression_labels'][:-1]

    def width(o):
        o['valid']['audio'] = np.ones((3, 12, 7), np.float32)

    def nan(o):
        o['test']['vision'][2, 0, 0] = np.nan

    def inf(o):
        o['test']['vision'][1, 0, 0] = np.inf

    def strings(o):
        o['train']['audio'] = o['train']['audio'].astype(str)

    def too_long(o):
        o['valid']['audio_lengths'] = np.array([3, 13, 2])

    def empty(o):
        o['test'] = {k: v[:0] for k, v in o['test'].items()}

    def str_labels(o):
        o['valid']['regression_labels'] = np.array(['pos', 'neg', 'pos'])

    def out_of_range(o):
        o['test']['regression_labels'][1] = 4.5

    def split_not_dict(o):
        o['train'] = [1, 2]

    return [
        ('data-missing-split', lambda o: o.pop('valid'), ["key 'valid'", 'missing split']),
        ('data-missing-modality', lambda o: o['test'].pop('vision'), ["key 'test.vision'"]),
        ('data-label-count', labels_short, ["key 'train.regression_labels'", '5 labels for 6 samples']),
        ('data-widths-differ', width, ["key 'valid.audio'", 'width 7 differs from 5']),
        ('data-nan', nan, ["key 'test.vision'", 'NaN or infinite']),
        ('data-inf', inf, ["key 'test.vision'", 'NaN or infinite']),
        ('data-string-features', strings, ["key 'train.audio'", 'strings']),
        ('data-length-beyond-array', too_long, ["key 'valid.audio_lengths'", 'beyond the array']),
        ('data-empty-split', empty, ['test split is empty']),
        ('data-string-labels', str_labels, ["key 'valid.regression_labels'", 'strings']),
        ('data-label-out-of-range', out_of_range, ["key 'test.regression_labels'", 'out of range']),
        ('data-split-not-a-dict', split_not_dict, ["key 'train'", 'expected a dict']),
    ]


DATA_CASES = _mutations()


@pytest.mark.parametrize('case', DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data_file_is_refused(tmp_path, capsys, case):
    from test_readers import mmsa_obj, write_pickle
    _, mutate, must = case
    obj = mmsa_obj()
    mutate(obj)
    data = tmp_path / 'mosi.pkl'
    write_pickle(data, obj)
    cfg = _yaml(tmp_path, f'data:\n  format: mmsa\n  path: {data}\n', 'run.yml')
    out = tmp_path / 'out'
    before = sorted(tmp_path.rglob('*'))
    _assert_refused(run_main(capsys, 'run', '--out', out, '-c', cfg), [str(data)] + must, out)
    assert sorted(tmp_path.rglob('*')) == before

