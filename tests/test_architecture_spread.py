"""bench/architecture_spread.py: the spread between architectures that read every modality, retrained from
several seeds (the default space on a small embedded synthetic dataset)."""
import json
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from rmnas_nni.config import dump_yaml
from rmnas_nni.pipeline import load_config

sys.path.insert(0, str(ROOT / 'bench'))

import architecture_spread as spread  # noqa: E402


def _cells(test, valid, rates=(0.0, 1.0)):
    """cells of architectures x seeds whose AUILC over ``rates`` (span 1) equals the given value at every rate."""
    rows = []
    for a in range(test.shape[0]):
        for s in range(test.shape[1]):
            for r in rates:
                rows.append({'arch': f'arch{a}', 'seed': s, 'rate': r,
                             'test_waf': test[a, s], 'val_mae': valid[a, s]})
    return pd.DataFrame(rows)


def test_held_out_gains_choose_on_the_other_seeds_and_score_the_held_out_one():
    test = np.array([[70.0, 72.0, 74.0],
                     [71.0, 71.0, 71.0],
                     [60.0, 80.0, 62.0]])
    # held out seed 0: other-seed means 73, 71, 71 -> arch0 (70) minus the median of (70, 71, 60) = 0
    # held out seed 1: means 72, 71, 61 -> arch0 (72) minus median(72, 71, 80) = 0
    # held out seed 2: means 71, 71, 70 -> arch0 on a tie (first) (74) minus median(74, 71, 62) = +3
    assert spread.held_out_gains(test, test, lower_is_better=False) == pytest.approx([0.0, 0.0, 3.0])
    valid = -test                     # a validation that orders the architectures as test does, lower is better
    assert spread.held_out_gains(valid, test, True) == pytest.approx([0.0, 0.0, 3.0])
    # chosen by the same seed's column: the best of each seed minus its median
    assert spread.held_out_gains(valid, test, True, same_seed=True) == pytest.approx([1.0, 8.0, 3.0])
    # arch2's validation alone is good: chosen on the other seeds, it loses 10 on seeds 0 and 2
    valid = -test + np.array([[0.0], [0.0], [-30.0]])
    assert spread.held_out_gains(valid, test, True) == pytest.approx([-10.0, 8.0, -9.0])


def test_analyse_separates_the_architectures_from_the_seed_noise():
    offsets = np.array([0.0, 1.0, 2.0, 3.0])
    # no seed noise: the architectures differ by their offsets alone
    test = 70 + offsets[:, None] + np.zeros((4, 3))
    res = spread.analyse(_cells(test, -test), [0.0, 1.0], [0, 1, 2], ['arch0', 'arch1', 'arch2', 'arch3'])
    assert res['test_seed_std_within_arch'] == pytest.approx(0.0)
    assert res['test_between_arch_std_noise_removed'] == pytest.approx(np.std(offsets, ddof=1))
    assert res['gain_by_test_other_seeds'] == pytest.approx([1.5] * 3)       # 73 minus the median 71.5
    assert res['tau_valid_test_means'] == pytest.approx(1.0)
    # the same noise in every architecture, no offsets: nothing between them once the noise is taken out
    noise = np.array([[0.0, 2.0, -2.0]] * 4) + np.array([[0.1], [0.0], [-0.1], [0.0]]) * np.array([[1, -1, 0]])
    res = spread.analyse(_cells(70 + noise, -70 - noise), [0.0, 1.0], [0, 1, 2],
                         ['arch0', 'arch1', 'arch2', 'arch3'])
    assert res['test_between_arch_std_noise_removed'] == pytest.approx(0.0)
    assert res['test_std_of_arch_means'] == pytest.approx(0.0)
    assert res['test_seed_std_within_arch'] > 1.9


def test_reference_reads_a_variant_per_seed(tmp_path):
    rows = [{'variant': v, 'rate': r, 'seed': s, 'stat': 'value', 'waf': 70 + s + (v == 'B')}
            for v in 'AB' for r in (0.0, 0.5) for s in (0, 1)]
    rows.append({'variant': 'A', 'rate': 0.0, 'seed': -1, 'stat': 'mean', 'waf': 0.0})
    pd.DataFrame(rows).to_csv(tmp_path / 'table.csv', index=False)
    got = spread.reference_auilc(f'x={tmp_path / "table.csv"}:B', [0.0, 0.5], [0, 1])
    assert got == pytest.approx({0: 35.5, 1: 36.0})
    with pytest.raises(SystemExit, match='no seed 2'):
        spread.reference_auilc(f'x={tmp_path / "table.csv"}:B', [0.0, 0.5], [2])


@pytest.fixture(scope='module')
def micro(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('spread')
    cfg = load_config(None, {'threads': 1, 'device': 'cpu',      # the default space: its draws can read every modality
                             'data': {'options': {'sizes': {'train': 32, 'valid': 16, 'test': 16}}},
                             'strategy': 'spos', 'strategy_config': {'options': {'candidates': 6}},
                             'search': {'epochs': 2, 'min_epochs': 0, 'batch_size': 16, 'export': 'final'},
                             'retrain': {'epochs': 2, 'min_epochs': 0, 'batch_size': 16}})
    config = tmp / 'config.yaml'
    config.write_text(dump_yaml(cfg))
    out = tmp / 'spread'
    args = ['-c', str(config), '--archs', '2', '--draw-seed', '3', '--rates', '0', '0.5', '--seeds', '0', '1',
            '--metric', 'acc2_non0', '--out', str(out)]
    assert spread.main(args) == 0
    return cfg, config, out, args


def test_every_architecture_reads_every_modality_and_is_retrained_at_every_cell(micro):
    cfg, _, out, _ = micro
    archs = json.loads((out / 'architectures.json').read_text())
    assert sorted(archs['architectures']) == ['arch0', 'arch1', 'hand']
    assert set(archs['reads'].values()) == {'+'.join(cfg.data.modalities)}
    cells = pd.read_csv(out / 'cells.csv')
    assert len(cells) == 3 * 2 * 2
    assert set(cells['reads']) == {'+'.join(cfg.data.modalities)}
    assert not list(out.glob('runs/*/*/model.pt'))          # weights deleted once scored
    assert (out / 'spread.md').is_file() and (out / 'spread.png').stat().st_size > 5000
    res = json.loads((out / 'spread.json').read_text())
    assert res['archs'] == 2 and len(res['gain_by_valid_same_seed']) == 2


def test_the_hand_designed_network_is_retrained_as_the_sweep_retrains_it(micro, tmp_path):
    from rmnas_nni.sweep import resolve_sweep, run_sweep
    cfg, _, out, _ = micro
    spec = resolve_sweep(cfg, rates=[0.5], seeds=[1], variants=['hand_designed'])
    assert not run_sweep(cfg, spec, tmp_path / 'sweep', quiet=True, printer=lambda s: None).failed
    swept = json.loads((tmp_path / 'sweep' / 'cells' / 'hand_designed' / 'r0.5-s1' / 'metrics.json').read_text())
    ours = json.loads((out / 'runs' / 'hand' / 'r0.5-s1' / 'metrics.json').read_text())
    assert ours['test'] == swept['test'] and ours['valid'] == swept['valid']


def test_a_second_run_retrains_nothing(micro, capsys):
    _, _, out, args = micro
    stamps = {p: p.stat().st_mtime_ns for p in out.glob('runs/*/*/metrics.json')}
    before = (out / 'cells.csv').read_text()
    assert spread.main(args) == 0
    assert {p: p.stat().st_mtime_ns for p in out.glob('runs/*/*/metrics.json')} == stamps
    assert (out / 'cells.csv').read_text() == before


def test_a_run_folder_of_another_config_is_refused(micro, tmp_path):
    _, config, out, args = micro
    before = {p: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(SystemExit, match='config.yaml: retrained with another config'):
        spread.main([*args, '--set', 'retrain.lr=0.5'])
    assert {p: p.read_bytes() for p in out.iterdir() if p.is_file()} == before      # nothing written


def test_pooled_ranking_retrains_one_candidate_for_every_rate_beside_the_sweeps_own(micro, tmp_path):
    """--pooled: per seed, the candidate of a SPOS sweep's rankings with the best validation AUILC over the rates,
    retrained at every rate; the sweep's own networks are set beside it, validation and test, paired by seed."""
    from rmnas_nni.metrics import auilc
    from rmnas_nni.sweep import resolve_sweep, run_sweep
    cfg, config, _, _ = micro
    spec = resolve_sweep(cfg, rates=[0.0, 0.5], seeds=[0, 1], variants=['full'])
    assert not run_sweep(cfg, spec, tmp_path / 'spos', quiet=True, printer=lambda s: None).failed
    out = tmp_path / 'spread'
    assert spread.main(['-c', str(config), '--archs', '2', '--draw-seed', '3', '--rates', '0', '0.5',
                        '--seeds', '0', '1', '--metric', 'acc2_non0', '--out', str(out),
                        '--pooled', f'SPOS={tmp_path / "spos"}:full', '--pooled-top', '2']) == 0
    pooled = json.loads((out / 'architectures.json').read_text())['pooled']
    assert [(c['seed'], c['pooled_rank']) for c in pooled] == [(0, 1), (0, 2), (1, 1), (1, 2)]
    for c in pooled[::2]:                # the best pooled validation MAE of the candidates, by hand
        tables = [pd.read_csv(tmp_path / 'spos' / 'cells' / 'full' / f'r{r:g}-s{c["seed"]}' / 'search' /
                              'candidates.csv').set_index('arch') for r in (0.0, 0.5)]
        pooled = {a: auilc([0.0, 0.5], [t.loc[a, 'val_mae'] for t in tables]) for a in tables[0].index}
        assert json.dumps(c['arch'], sort_keys=True) == json.dumps(json.loads(min(pooled, key=pooled.get)),
                                                                   sort_keys=True)
        assert c['pooled_valid_auilc'] == pytest.approx(min(pooled.values()))
        for r in (0.0, 0.5):
            run = out / 'runs' / 'SPOS_pooled' / f'r{r:g}-s{c["seed"]}'
            assert json.loads((run / 'arch.json').read_text()) == c['arch']
    cells = pd.read_csv(out / 'cells.csv')
    own = cells[cells['arch'] == 'SPOS_per_cell'].set_index(['rate', 'seed'])
    for r in (0.0, 0.5):
        for s in (0, 1):
            m = json.loads((tmp_path / 'spos' / 'cells' / 'full' / f'r{r:g}-s{s}' / 'metrics.json').read_text())
            assert own.loc[(r, s), 'test_acc2_non0'] == pytest.approx(m['test']['acc2_non0'])
    # --pooled-top 2: per seed, the one of the two retrained with the lower validation MAE AUILC, by hand
    auilc_of = lambda name, s, col: auilc([0.0, 0.5], cells[(cells['arch'] == name) & (cells['seed'] == s)]  # noqa
                                          .set_index('rate').loc[[0.0, 0.5], col])
    res = json.loads((out / 'spread.json').read_text())
    for s in (0, 1):
        val = [auilc_of(n, s, 'val_mae') for n in ('SPOS_pooled', 'SPOS_pooled_rank2')]
        pick = ('SPOS_pooled', 'SPOS_pooled_rank2')[int(np.argmin(val))]
        assert auilc_of('SPOS_top2_by_valid', s, 'test_acc2_non0') == pytest.approx(auilc_of(pick, s, 'test_acc2_non0'))
        assert res['chosen_pooled_rank_per_seed']['SPOS'][s] == int(np.argmin(val)) + 1
    assert res['archs'] == 2                            # the compared rows are not among the architectures
    p, c = res['references']['SPOS_pooled'], res['references']['SPOS_per_cell']
    assert len(p['valid_per_seed']) == len(c['test_per_seed']) == 2
    text = (out / 'spread.md').read_text()
    assert 'SPOS_pooled minus SPOS_per_cell' in text and 'SPOS_top2_by_valid minus SPOS_per_cell' in text


def test_a_config_that_cannot_be_read_says_so_in_one_line(tmp_path):
    import subprocess
    out = tmp_path / 'spread'
    p = subprocess.run([sys.executable, str(ROOT / 'bench' / 'architecture_spread.py'), '-c', str(tmp_path / 'no.yml'),
                        '--rates', '0', '0.5', '--seeds', '0', '--out', str(out)],
                       capture_output=True, text=True, env={'PYTHONWARNINGS': 'ignore', 'PATH': '/usr/bin:/bin'})
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith('architecture_spread: ') and 'no.yml' in p.stderr
    assert 'Traceback' not in p.stderr and not out.exists()
