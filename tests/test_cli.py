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


def _subparsers():
    import argparse
    from rmnas_nni.cli import build_parser
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, action.choices


def _readme_commands_section():
    from conftest import ROOT
    text = (ROOT / 'README.md').read_text()
    start = text.index('\n## Commands')
    return text[start:text.index('\n## ', start + 1)]


def test_every_option_of_every_command_has_help():
    import argparse
    parser, commands = _subparsers()
    assert set(commands) >= {'run', 'search', 'retrain', 'evaluate', 'space', 'sweep', 'figure', 'multitrial'}
    for name, sub in [('rmnas', parser)] + list(commands.items()):
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.option_strings or action.dest)


def test_readme_option_table_matches_the_parsers():
    """Every shared option the README lists is taken by exactly the commands it names."""
    import re
    _, commands = _subparsers()
    section = _readme_commands_section()
    rows = [line for line in section.splitlines() if line.startswith('| `--')]
    assert rows
    for row in rows:
        flags_col, cmds_col = [c.strip() for c in row.strip('|').split('|')]
        flags = re.findall(r'`(--[a-z-]+)', flags_col)
        listed = {c.strip() for c in cmds_col.split(',')}
        assert flags and listed <= set(commands), row
        for name, sub in commands.items():
            for flag in flags:
                assert (flag in sub._option_string_actions) == (name in listed), (flag, name)
    # what the section says every command takes, every command takes
    for sentence in re.findall(r'[Ee]very command takes[^.]*\.', section):
        for flag in re.findall(r'`(--[a-z-]+)', sentence):
            for name, sub in commands.items():
                assert flag in sub._option_string_actions, (flag, name)


def test_search_and_retrain_take_a_variant():
    from rmnas_nni.cli import _load, build_parser
    for cmd in ('search', 'retrain'):
        cfg = _load(build_parser().parse_args([cmd, '--variant', 'no_lst']))
        assert cfg.space.lst.enabled is False and cfg.name.endswith('-no_lst')


def test_resume_may_change_only_the_machine_settings(tmp_path, capsys):
    from rmnas_nni.cli import _load, build_parser, main
    from rmnas_nni.config import dump_yaml
    from rmnas_nni.pipeline import load_config
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    stored = load_config(None, {'threads': 0, 'search': {'epochs': 1}})
    (run_dir / 'config.yaml').write_text(dump_yaml(stored))
    cfg = _load(build_parser().parse_args(['run', '--resume', str(run_dir), '--set', 'threads=1',
                                           '--set', 'device=cpu']))
    assert cfg.threads == 1 and cfg.device == 'cpu' and cfg.search.epochs == 1
    assert main(['run', '--resume', str(run_dir), '--set', 'search.epochs=3']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'search' in err[0] and 'threads, device' in err[0]
    assert main(['run', '--resume', str(run_dir), '--set', 'threads=-1']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'threads'" in err[0]
    assert not (run_dir / 'log.txt').exists()


@pytest.mark.parametrize('rate', ['1.5', '-0.3', 'nan'])
def test_evaluate_refuses_a_rate_that_run_and_sweep_refuse(tmp_path, capsys, rate):
    from rmnas_nni.cli import main
    from rmnas_nni.config import dump_yaml
    from rmnas_nni.pipeline import load_config
    from rmnas_nni.sweep import resolve_sweep
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    cfg = load_config(None)
    (run_dir / 'config.yaml').write_text(dump_yaml(cfg))
    assert main(['evaluate', '--run', str(run_dir), '--rate', rate]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('rmnas: error: --rate: missing rate') and 'between 0 and 1' in err[0]
    for refuse in (lambda: load_config(None, {'data': {'missing': {'rate': float(rate)}}}),
                   lambda: resolve_sweep(cfg, rates=[float(rate)])):
        with pytest.raises(Exception, match='between 0 and 1'):
            refuse()
    # a valid rate gets past the check (and stops at the missing weights)
    assert main(['evaluate', '--run', str(run_dir), '--rate', '0.5']) == 2
    assert 'model.pt' in capsys.readouterr().err


def test_environment_records_the_threads_the_run_uses(tmp_path):
    import torch
    from rmnas_nni.pipeline import load_config, prepare_data, start_run
    before = torch.get_num_threads()
    want = 2 if before != 2 else 3
    try:
        cfg = load_config(None, {'threads': want, 'data': {'options': {'sizes': {'train': 8, 'valid': 8,
                                                                                   'test': 8}}}})
        data, masks = prepare_data(cfg)
        run_dir, _ = start_run(cfg, data, masks, tmp_path / 'run', quiet=True)
        env = json.loads((run_dir / 'environment.json').read_text())
        assert env['torch_threads'] == want == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
