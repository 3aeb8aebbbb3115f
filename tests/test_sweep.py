"""rmnas sweep on the embedded dataset (2 rates x 2 seeds x 2 variants), its table, plots and restarts."""
import hashlib
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import ROOT, run_cli
from rmnas_nni.cli import main
from rmnas_nni.errors import RunDirError
from rmnas_nni.figures import architecture_text, describe_architecture, draw_architecture
from rmnas_nni.metrics import auilc
from rmnas_nni.sweep import aggregate, load_sweep, run_sweep

MICRO_SPACE = """\
encoder: {d_model: 8, n_blocks: 1, n_heads: 2, ffn_ratio: 1, dropout: 0.0}
lst: {kernel_size: 3, maxdis: 4}
fusion: {width: 8, n_cells: 1, n_steps: 1, attention_chunks: 2}
"""
SIZES = 'data.options={sizes: {train: 48, valid: 24, test: 24}}'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def png_size(path):
    """``(width, height)`` of a PNG, checking its signature and header chunk."""
    raw = path.read_bytes()
    assert raw[:8] == PNG_SIGNATURE, path
    assert raw[12:16] == b'IHDR'
    return struct.unpack('>II', raw[16:24])


def check_png(path):
    assert path.is_file(), path
    w, h = png_size(path)
    assert 300 <= w <= 5000 and 200 <= h <= 5000, (path, w, h)
    assert path.stat().st_size > 5000


def sweep_args(tmp_path, out):
    space = tmp_path / 'micro.yml'
    space.write_text(MICRO_SPACE)
    return ['sweep', '--out', out, '--set', f'search_space={space}', '--set', 'search.epochs=1',
            '--set', 'retrain.epochs=1', '--set', 'search.batch_size=16', '--set', 'retrain.batch_size=16',
            '--set', SIZES, '--rates', '0', '0.5', '--seeds', '0', '1', '--variants', 'full', 'no_lst', '-q']


def cell_files(sweep_dir):
    return {str(p.relative_to(sweep_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((sweep_dir / 'cells').rglob('*')) if p.is_file() and p.name != 'log.txt'}


@pytest.fixture(scope='module')
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('sweep')
    out = tmp / 'sweep'
    r = run_cli(*sweep_args(tmp, out))
    assert r.returncode == 0, r.stderr[-3000:]
    return tmp, out, r


def test_sweep_runs_every_cell_with_progress(swept):
    _, out, r = swept
    for k in range(1, 9):
        assert f'cell {k}/8' in r.stdout
    assert 'estimate after the first cell' in r.stdout and 'left)' in r.stdout and 'elapsed' in r.stdout
    assert '8 run, 0 skipped' in r.stdout
    for variant in ('full', 'no_lst'):
        for rate in ('0', '0.5'):
            for seed in (0, 1):
                cell = out / 'cells' / variant / f'r{rate}-s{seed}'
                assert (cell / 'metrics.json').is_file() and (cell / 'arch.json').is_file()
                check_png(cell / 'architecture.png')
    from rmnas_nni.rundir import load_run
    cfg = load_run(out / 'cells' / 'no_lst' / 'r0.5-s1')
    assert cfg.seed == 1 and cfg.data.missing.rate == 0.5 and cfg.space.lst.enabled is False
    assert load_run(out / 'cells' / 'full' / 'r0-s0').space.lst.enabled is True


def test_sweep_table(swept):
    _, out, r = swept
    table = pd.read_csv(out / 'sweep.csv')
    assert list(table.columns[:4]) == ['variant', 'rate', 'seed', 'stat']
    assert {'mae', 'corr', 'acc2_has0', 'acc2_non0', 'f1_non0'} <= set(table.columns)
    values = table[table['stat'] == 'value']
    assert len(values) == 8
    assert set(map(tuple, values[['variant', 'rate', 'seed']].values.tolist())) == {
        (v, r_, s) for v in ('full', 'no_lst') for r_ in (0.0, 0.5) for s in (0, 1)}
    # the table holds exactly what the cells wrote
    m = json.loads((out / 'cells' / 'no_lst' / 'r0.5-s1' / 'metrics.json').read_text())['test']
    row = values[(values['variant'] == 'no_lst') & (values['rate'] == 0.5) & (values['seed'] == 1)].iloc[0]
    assert row['mae'] == pytest.approx(m['mae']) and row['acc2_non0'] == pytest.approx(m['acc2_non0'])
    for variant in ('full', 'no_lst'):
        sub = table[table['variant'] == variant]
        means = sub[sub['stat'] == 'mean'].sort_values('rate')
        assert len(means) == 2 and len(sub[sub['stat'] == 'std']) == 2
        v = sub[sub['stat'] == 'value']
        assert means['mae'].tolist() == pytest.approx(v.groupby('rate')['mae'].mean().tolist())
        a = sub[sub['stat'] == 'AUILC']['mae'].iloc[0]
        assert a == pytest.approx(auilc([0.0, 0.5], means['mae'].tolist()))
        assert sub[sub['stat'] == 'mean over rates']['corr'].iloc[0] == pytest.approx(means['corr'].mean())
    md = (out / 'sweep.md').read_text()
    assert '| variant | rate | seeds | MAE |' in md and '| no_lst | AUILC |' in md and ' ± ' in md
    assert 'AUILC' in r.stdout and 'mean over rates' in r.stdout


def test_sweep_plots(swept):
    _, out, _ = swept
    table = pd.read_csv(out / 'sweep.csv')
    metrics = [c for c in table.columns if c not in ('variant', 'rate', 'seed', 'stat')]
    for m in metrics:
        check_png(out / 'plots' / f'{m}.png')


def test_sweep_started_again_recomputes_nothing(swept):
    tmp, out, _ = swept
    before = cell_files(out)
    table_before = (out / 'sweep.csv').read_text()
    r = run_cli(*sweep_args(tmp, out))
    assert r.returncode == 0, r.stderr[-3000:]
    assert '0 run, 8 skipped' in r.stdout and r.stdout.count('already finished, skipped') == 8
    assert cell_files(out) == before
    assert (out / 'sweep.csv').read_text() == table_before


def test_interrupted_cell_is_the_only_one_run_again(swept, tmp_path):
    import shutil
    _, out, _ = swept
    copy = tmp_path / 'copy'
    shutil.copytree(out, copy)
    cell = copy / 'cells' / 'full' / 'r0.5-s0'
    for name in ('metrics.json', 'model.pt'):
        (cell / name).unlink()
    shutil.rmtree(cell / 'retrain')
    before = {k: v for k, v in cell_files(copy).items() if not k.startswith('cells/full/r0.5-s0')}
    base, spec = load_sweep(copy)
    lines = []
    result = run_sweep(base, spec, copy, resume=True, quiet=True, printer=lines.append)
    assert result.ran == ['full r=0.5 seed=0'] and len(result.skipped) == 7
    after = cell_files(copy)
    assert {k: v for k, v in after.items() if not k.startswith('cells/full/r0.5-s0')} == before
    assert (cell / 'metrics.json').is_file()
    assert any('search: already finished' in l for l in (cell / 'log.txt').read_text().splitlines())


def test_sweep_with_another_config_is_refused(swept):
    tmp, out, _ = swept
    base, spec = load_sweep(out)
    base.retrain.epochs = 2
    with pytest.raises(RunDirError, match="retrain.epochs"):
        run_sweep(base, spec, out, quiet=True, printer=lambda s: None)


@pytest.mark.parametrize('args, message', [
    (['--rates', '0', '1.5'], 'between 0 and 1'),
    (['--rates', '0', '0'], 'twice'),
    (['--seeds', '0', '0'], 'twice'),
    (['--variants', 'full', 'no_such'], "unknown variant 'no_such'"),
    (['--rates', '0', '0.8', '--set', 'data.level=dialogue'], 'up to 0.7'),
    (['--set', 'sweep.rates=[0, 2]'], "key 'sweep.rates'"),
])
def test_sweep_input_errors_create_nothing(tmp_path, capsys, args, message):
    out = tmp_path / 'never'
    rc = main(['sweep', '--out', str(out), '--set', 'search.epochs=1', *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith('rmnas: error: ') and message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_aggregate_by_hand():
    rows = []
    # variant a: seed 0 curve mae 1, 2, 3 at rates 0, .5, 1; seed 1 curve 3, 4, 5
    for seed, base in ((0, 1.0), (1, 3.0)):
        for k, rate in enumerate((0.0, 0.5, 1.0)):
            rows.append({'variant': 'a', 'rate': rate, 'seed': seed, 'mae': base + k})
    table = aggregate(pd.DataFrame(rows), [0.0, 0.5, 1.0])
    sub = table.set_index('stat')
    means = table[table['stat'] == 'mean']['mae'].tolist()
    assert means == [2.0, 3.0, 4.0]
    assert table[table['stat'] == 'std']['mae'].tolist() == pytest.approx([math.sqrt(2)] * 3)
    # per-seed AUILC: seed 0 -> 2.0, seed 1 -> 4.0; mean 3, std sqrt(2)
    assert sub.loc['AUILC', 'mae'] == pytest.approx(3.0)
    assert sub.loc['AUILC std', 'mae'] == pytest.approx(math.sqrt(2))
    assert sub.loc['mean over rates', 'mae'] == pytest.approx(3.0)
    # without rate 0.0 there is no AUILC, but a mean over rates: seed 0 (2 + 3) / 2, seed 1 (4 + 5) / 2
    t2 = aggregate(pd.DataFrame([r for r in rows if r['rate'] > 0]), [0.5, 1.0]).set_index('stat')
    assert math.isnan(t2.loc['AUILC', 'mae']) and t2.loc['mean over rates', 'mae'] == pytest.approx(3.5)
    # a seed missing a rate (a failed cell) is left out of the per-variant summaries
    t3 = aggregate(pd.DataFrame(rows[:-1]), [0.0, 0.5, 1.0]).set_index('stat')
    assert t3.loc['AUILC', 'mae'] == pytest.approx(2.0) and math.isnan(t3.loc['AUILC std', 'mae'])


def _cfg():
    from rmnas_nni.config import RunConfig
    return RunConfig.build({'data': {'modalities': ['text', 'audio']},
                            'space': {'encoder': {'n_blocks': 2, 'mixers': ['attention', 'pool', 'identity']},
                                      'lst': {'enabled': True},
                                      'fusion': {'n_cells': 2, 'n_steps': 1, 'ops': ['sum', 'concat_fc']}}})


def test_architecture_description_drops_light_choices(tmp_path):
    arch = {'text/block0/mixer': 'pool', 'text/block1/mixer': 'attention', 'audio/block0/mixer': 'identity',
            'audio/block1/mixer': 'attention',
            'fusion/cell0/input0': [3], 'fusion/cell0/input1': [0],
            'fusion/cell0/step0/input0': [0], 'fusion/cell0/step0/input1': [1], 'fusion/cell0/step0/op': 'sum',
            'fusion/cell1/input0': [4], 'fusion/cell1/input1': [1],
            'fusion/cell1/step0/input0': [1], 'fusion/cell1/step0/input1': [0], 'fusion/cell1/step0/op': 'concat_fc'}
    probs = {'text/block0/mixer': {'attention': 0.3, 'pool': 0.5, 'identity': 0.19},
             'fusion/cell0/input0': {'0': 0.15, '1': 0.2, '2': 0.1, '3': 0.55},
             'fusion/cell1/input0': {'0': 0.18, '1': 0.18, '2': 0.18, '3': 0.18, '4': 0.19},
             'fusion/cell0/step0/op': {'sum': 0.7, 'concat_fc': 0.3}}
    desc = describe_architecture(arch, probs, _cfg())
    t0 = desc['mixers']['text'][0]
    assert t0['chosen'] == 'pool' and t0['weight'] == 0.5 and t0['others'] == [('attention', 0.3)]
    c0 = desc['cells'][0]['inputs'][0]
    # candidates in candidate_names() order: text/block0, text/block1, audio/block0, audio/block1
    assert c0['chosen'] == 'audio/block1' and c0['others'] == [('text/block1', 0.2)]
    c1 = desc['cells'][1]['inputs'][0]
    assert c1['chosen'] == 'cell0' and c1['weight'] == 0.19 and c1['others'] == []   # kept although < 0.2
    assert desc['cells'][1]['steps'][0]['inputs'][0]['chosen'] == 'input1'
    text = architecture_text(desc)
    assert 'audio/block1 0.55  (text/block1 0.20)' in text and 'identity 0.19' not in text
    assert 'cell0 0.19' in text
    check_png(draw_architecture(desc, tmp_path / 'a.png', title='test'))
    # fixed choices (no mixer search) read as fixed
    cfg = _cfg()
    cfg.space.encoder.mixers = ['attention']
    no_mixers = {k: v for k, v in arch.items() if not k.endswith('/mixer')}
    assert 'attention (fixed)' in architecture_text(describe_architecture(no_mixers, probs, cfg))


def test_figure_command(swept, capsys):
    _, out, _ = swept
    run_dir = out / 'cells' / 'full' / 'r0-s0'
    target = out.parent / 'fig.png'
    assert main(['figure', '--run', str(run_dir), '--out', str(target)]) == 0
    printed = capsys.readouterr().out
    assert 'token mixers' in printed and 'fusion' in printed and 'cell0' in printed
    check_png(target)
    assert main(['figure', '--run', str(out)]) == 2          # the sweep directory is not a run


def test_help_of_new_commands(capsys):
    from rmnas_nni.cli import build_parser
    for cmd in ('sweep', 'figure'):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args([cmd, '--help'])
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert 'no_retrain' in out and '--rates' in out and '--threshold' in out


def test_space_of_a_variant(capsys):
    assert main(['space', '--variant', 'fusion_only']) == 0
    out = capsys.readouterr().out
    assert 'fusion/cell0/input0' in out and '/mixer' not in out
    assert main(['space', '--variant', 'no_such']) == 2
    assert "unknown variant 'no_such'" in capsys.readouterr().err


def test_a_diverging_cell_is_reported_and_left_out(tmp_path, monkeypatch):
    """The other cells go on; the failed one is named and missing from the table (fake, instant cells)."""
    import rmnas_nni.pipeline as pipeline
    from rmnas_nni.config import dump_yaml
    from rmnas_nni.errors import NonFiniteLossError
    from rmnas_nni.rundir import atomic_write_json, atomic_write_text
    from rmnas_nni.sweep import resolve_sweep

    def fake_run(cfg, run_dir, *, resume=False, overwrite=False, quiet=False, data=None, on_epoch=None):
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / 'config.yaml', dump_yaml(cfg))
        rate, seed = cfg.data.missing.rate, cfg.seed
        if rate == 0.5 and seed == 1:
            raise NonFiniteLossError('retrain: non-finite loss (nan) at epoch 1, step 1')
        test = {'mae': 1.0 + rate + 0.1 * seed, 'corr': 0.5 - rate}
        atomic_write_json(run_dir / 'metrics.json', {'test': test})
        return {'test': test}

    monkeypatch.setattr(pipeline, 'run', fake_run)
    base = pipeline.load_config(None, {'data': {'options': {'sizes': {'train': 8, 'valid': 8, 'test': 8}}}})
    lines = []
    result = run_sweep(base, resolve_sweep(base, [0.0, 0.5], [0, 1], ['full']), tmp_path / 's',
                       quiet=True, printer=lines.append)
    assert list(result.failed) == ['full r=0.5 seed=1'] and len(result.ran) == 3
    assert any('FAILED: retrain: non-finite loss' in l for l in lines)
    values = result.table[result.table['stat'] == 'value']
    assert len(values) == 3
    sub = result.table.set_index('stat')
    # only seed 0 has a complete curve: AUILC of mae 1.0 -> 1.5 over [0, 0.5]
    assert sub.loc['AUILC', 'mae'] == pytest.approx(0.625)
    assert 'about' in '\n'.join(lines)                   # an estimate once a cell has finished


def test_result_files_name_the_data_without_the_machines_absolute_path(tmp_path):
    from rmnas_nni.config import PROJECT_ROOT
    from rmnas_nni.sweep import data_file_name
    inside = PROJECT_ROOT / 'data' / 'cmu-mosi-utterances' / 'mosi_utterances.npz'
    assert data_file_name(str(inside)) == 'data/cmu-mosi-utterances/mosi_utterances.npz'
    assert data_file_name(str(tmp_path / 'mine' / 'utt.npz')) == 'utt.npz'


def test_jobs_run_cells_side_by_side_with_the_same_numbers(tmp_path):
    """--jobs 2 runs two cells at once in processes of their own; with the same thread count each cell
    gives exactly the numbers it gives in a sweep that runs one cell at a time."""
    space = tmp_path / 'micro.yml'
    space.write_text(MICRO_SPACE)
    common = ['--set', f'search_space={space}', '--set', 'search.epochs=1', '--set', 'retrain.epochs=2',
              '--set', 'search.batch_size=16', '--set', 'retrain.batch_size=16', '--set', SIZES,
              '--set', 'threads=1', '--rates', '0', '0.5', '--seeds', '0', '--variants', 'full', '-q']
    one = run_cli('sweep', '--out', str(tmp_path / 'one'), *common)
    two = run_cli('sweep', '--out', str(tmp_path / 'two'), '--jobs', '2', *common)
    assert one.returncode == 0 and two.returncode == 0, (one.stderr[-2000:], two.stderr[-2000:])
    assert '2 cells at a time, each in its own process' in two.stdout
    assert (tmp_path / 'one' / 'sweep.csv').read_text() == (tmp_path / 'two' / 'sweep.csv').read_text()
    for cell in ('full/r0-s0', 'full/r0.5-s0'):
        metrics = [json.loads((tmp_path / d / 'cells' / cell / 'metrics.json').read_text())
                   for d in ('one', 'two')]
        assert metrics[0]['test'] == metrics[1]['test']
    bad = run_cli('sweep', '--out', str(tmp_path / 'three'), '--jobs', '0', *common)
    assert bad.returncode == 2 and 'rmnas: error: --jobs 0: must be a positive whole number' in bad.stderr
    assert not (tmp_path / 'three').exists()


def _process_start(pid):
    """The start time of process ``pid`` (to tell it from a later one given the same pid), or None
    when it is gone or a zombie (dead, waiting to be reaped)."""
    try:
        stat = open(f'/proc/{pid}/stat').read()
    except OSError:
        return None
    fields = stat[stat.rindex(')') + 2:].split()       # after the command name, which may hold spaces
    return None if fields[0] in ('Z', 'X') else fields[19]


def _children(pid):
    """``{pid: start time}`` of the processes whose parent is ``pid``."""
    found = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                stat = open(f'/proc/{entry}/stat').read()
            except OSError:
                continue
            fields = stat[stat.rindex(')') + 2:].split()
            if int(fields[1]) == pid and fields[0] not in ('Z', 'X'):
                found[int(entry)] = fields[19]
    return found


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='reads the process table in /proc')
def test_jobs_workers_end_when_the_sweep_process_is_killed(tmp_path):
    """SIGKILL of a --jobs sweep's own process (no handler runs, its process group is not signalled):
    the workers and every other process it started end within seconds, instead of finishing their
    cells into the sweep directory and then waiting forever."""
    space = tmp_path / 'micro.yml'
    space.write_text(MICRO_SPACE)
    out = tmp_path / 's'
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    with open(tmp_path / 'stdout.txt', 'w') as stdout:
        p = subprocess.Popen([sys.executable, '-m', 'rmnas_nni.cli', 'sweep', '--out', str(out), '--jobs', '2',
                              '--set', f'search_space={space}', '--set', 'search.epochs=3',
                              '--set', 'retrain.epochs=20',
                              '--set', 'search.batch_size=16', '--set', 'retrain.batch_size=16', '--set', SIZES,
                              '--set', 'threads=1', '--rates', '0', '0.5', '--seeds', '0', '--variants', 'full', '-q'],
                             cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.STDOUT)
    children = {}
    try:
        logs = [out / 'cells' / 'full' / cell / 'log.txt' for cell in ('r0-s0', 'r0.5-s0')]
        deadline = time.time() + 120
        while not all(log.is_file() for log in logs):        # both workers are running a cell
            assert p.poll() is None and time.time() < deadline, (tmp_path / 'stdout.txt').read_text()[-3000:]
            time.sleep(0.1)
        children = _children(p.pid)
        assert len(children) >= 2, children                     # the two workers at least
        p.send_signal(signal.SIGKILL)
        p.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_process_start(c) == t for c, t in children.items()):
            time.sleep(0.1)
        left = [c for c, t in children.items() if _process_start(c) == t]
        assert not left, f'still running 10 s after the sweep process was killed: {left}'
    finally:
        p.kill()
        p.wait()
        for c, t in children.items():
            if _process_start(c) == t:
                os.kill(c, signal.SIGKILL)
