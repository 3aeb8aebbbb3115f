"""bench/ensemble_size.py, bench/weight_sharing_rank.py, bench/draw_ensemble.py and bench/merge_sweeps.py on a
finished micro sweep with retrain.ensemble 2."""
import json
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from test_sweep import MICRO_SPACE
from rmnas_nni.pipeline import load_config

sys.path.insert(0, str(ROOT / 'bench'))

import draw_ensemble  # noqa: E402
import ensemble_size  # noqa: E402
import merge_sweeps  # noqa: E402
import weight_sharing_rank as wsr  # noqa: E402


def test_kendall_tau_by_hand():
    assert wsr.kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert wsr.kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # pairs of (1,3,2): (0,1) +, (0,2) +, (1,2) -  ->  (2 - 1) / 3
    assert wsr.kendall_tau([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    # tau-b with a tie in x: pairs (0,1) tie in x, (0,2) +, (1,2) +  ->  2 / sqrt(2 * 3)
    assert wsr.kendall_tau([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / np.sqrt(6))
    assert np.isnan(wsr.kendall_tau([1, 1], [2, 2]))


def test_alpha_score_reads_operation_and_input_choices():
    probs = {'m': {'attention': 0.5, 'pool': 0.25}, 'in': {'0': 0.8, '1': 0.2}}
    got = wsr.alpha_score({'m': 'pool', 'in': [0]}, probs)
    assert got == pytest.approx((np.log(0.25) + np.log(0.8)) / 2)


@pytest.fixture(scope='module')
def micro_sweep(tmp_path_factory):
    from rmnas_nni.sweep import resolve_sweep, run_sweep
    tmp = tmp_path_factory.mktemp('ens')
    space = tmp / 'micro.yml'
    space.write_text(MICRO_SPACE)
    cfg = load_config(None, {'threads': 1, 'device': 'cpu', 'search_space': str(space),
                             'data': {'options': {'sizes': {'train': 32, 'valid': 16, 'test': 16}}},
                             'search': {'epochs': 2, 'min_epochs': 0, 'batch_size': 16, 'random_k': 2},
                             'retrain': {'epochs': 2, 'min_epochs': 0, 'batch_size': 16, 'ensemble': 2}})
    spec = resolve_sweep(cfg, rates=[0.0, 0.5], variants=['full', 'hand_designed', 'random_arch'])
    result = run_sweep(cfg, spec, tmp / 'sweep', quiet=True, printer=lambda s: None)
    assert not result.failed
    return tmp / 'sweep'


def test_ensemble_size_reproduces_each_cell_and_scores_every_size(micro_sweep, tmp_path):
    ensemble_size.main(['--sweep', str(micro_sweep), '--out', str(tmp_path)])
    cells = pd.read_csv(tmp_path / 'ensemble_size_cells.csv')
    assert sorted(set(cells['variant'])) == ['full x1', 'full x2', 'hand_designed x1', 'hand_designed x2',
                                             'random_arch x1', 'random_arch x2']
    for path in micro_sweep.glob('cells/*/r*-s*/metrics.json'):
        m = json.loads(path.read_text())
        rate = float(path.parent.name[1:].split('-s')[0])
        row = cells[(cells['variant'] == f'{path.parent.parent.name} x2') & (cells['rate'] == rate)].iloc[0]
        assert row['mae'] == pytest.approx(m['test']['mae']) and row['valid_mae'] == pytest.approx(m['valid']['mae'])
        one = cells[(cells['variant'] == f'{path.parent.parent.name} x1') & (cells['rate'] == rate)].iloc[0]
        assert one['valid_mae'] == pytest.approx(m['members'][0]['valid']['mae'])      # member 0 alone
    assert 'k members minus one' in (tmp_path / 'ensemble_size.md').read_text()
    assert (tmp_path / 'ensemble_size.md').read_text().startswith('Seed ensembles of the first k members')
    assert not ensemble_size.ranked_members(micro_sweep)


def test_ensemble_size_best_of_keeps_the_member_best_on_validation(micro_sweep, tmp_path):
    ensemble_size.main(['--sweep', str(micro_sweep), '--out', str(tmp_path), '--best-of'])
    cells = pd.read_csv(tmp_path / 'ensemble_size_cells.csv')
    assert 'full best of 2' in set(cells['variant']) and 'full best of 1' not in set(cells['variant'])
    for path in micro_sweep.glob('cells/*/r*-s*/metrics.json'):
        m = json.loads(path.read_text())
        rate = float(path.parent.name[1:].split('-s')[0])
        variant = path.parent.parent.name
        row = cells[(cells['variant'] == f'{variant} best of 2') & (cells['rate'] == rate)].iloc[0]
        member_mae = [x['valid']['mae'] for x in m['members']]
        chosen = int(row['chosen'])
        assert chosen == int(np.argmin(member_mae))                     # the lower validation MAE of the two
        assert row['valid_mae'] == pytest.approx(member_mae[chosen])
        if chosen == 0:                                                 # member 0 alone is the x1 row
            one = cells[(cells['variant'] == f'{variant} x1') & (cells['rate'] == rate)].iloc[0]
            for col in cells.columns.drop(['variant', 'rate', 'seed', 'chosen']):
                assert row[col] == pytest.approx(one[col]), col
    text = (tmp_path / 'ensemble_size.md').read_text()
    assert 'optimistic by construction' in text and '| full best of 2 | full x1 |' in text


def test_ensemble_size_tells_an_ensemble_of_the_ranking_from_seeds(tmp_path):
    cell = tmp_path / 'cells' / 'full' / 'r0-s0'
    cell.mkdir(parents=True)
    (cell / 'metrics.json').write_text(json.dumps({'ensemble_of': 'seeds'}))
    assert not ensemble_size.ranked_members(tmp_path)
    (cell / 'metrics.json').write_text(json.dumps({'ensemble_of': 'ranking'}))
    assert ensemble_size.ranked_members(tmp_path)


def test_weight_sharing_rank_scores_every_architecture_of_a_cell(micro_sweep, tmp_path):
    wsr.main(['--sweep', str(micro_sweep), '--out', str(tmp_path)])
    cells = pd.read_csv(tmp_path / 'weight_sharing_cells.csv')
    assert len(cells) == 2 * 4                                 # 2 rates x (searched, hand, 2 random)
    assert sorted(set(cells['arch'])) == ['hand_designed', 'random0', 'random1', 'searched']
    full = json.loads((micro_sweep / 'cells' / 'full' / 'r0-s0' / 'metrics.json').read_text())
    row = cells[(cells['arch'] == 'searched') & (cells['rate'] == 0.0)].iloc[0]
    assert row['retrained_val'] == pytest.approx(full['valid']['mae'])
    assert row['single_val'] == pytest.approx(full['members'][0]['valid']['mae'])
    assert np.isfinite(cells['inherited_val']).all() and (cells['alpha'] <= 0).all()
    taus = pd.read_csv(tmp_path / 'weight_sharing_taus.csv')
    assert len(taus) == 2 and taus.filter(like=' ~ ').abs().max().max() <= 1.0
    assert 'within (retraining seeds)' in (tmp_path / 'weight_sharing.md').read_text()


def test_draw_ensemble_averages_the_random_architectures_of_each_cell(micro_sweep, tmp_path):
    """The ensemble row is the metric of the mean prediction of the cell's draws, each retrained as the cell
    trained it and loaded as rmnas evaluate loads a run; the kept and median rows are the cell's own figures."""
    from rmnas_nni.data import make_loader
    from rmnas_nni.metrics import compute_metrics
    from rmnas_nni.pipeline import load_retrained
    from rmnas_nni.trainer import predict
    draw_ensemble.main(['--sweep', str(micro_sweep), '--out', str(tmp_path)])
    cells = pd.read_csv(tmp_path / 'draw_ensemble_cells.csv')
    assert sorted(set(cells['variant'])) == ['random_arch', 'random_arch (median)', 'random_arch, 2 draws ensembled']
    for path in micro_sweep.glob('cells/random_arch/r*-s*/metrics.json'):
        m = json.loads(path.read_text())
        rate = float(path.parent.name[1:].split('-s')[0])
        at = cells[cells['rate'] == rate].set_index('variant')
        assert at.loc['random_arch', 'mae'] == pytest.approx(m['test']['mae'])
        assert at.loc['random_arch (median)', 'mae'] == pytest.approx(m['test_median']['mae'])
        preds = []
        for k in (0, 1):
            again = tmp_path / 'draws' / path.parent.name / f'arch{k}'      # the cell keeps one draw's weights
            assert json.loads((again / 'metrics.json').read_text())['test'] == pytest.approx(
                json.loads((path.parent / 'candidates' / f'arch{k}' / 'metrics.json').read_text())['test'])
            cfg, data, model, kind = load_retrained(again)
            pred, label = predict(model, make_loader(data.splits['test'], data.level, 16, shuffle=False), data.task)
            preds.append(pred)
        want = compute_metrics(np.mean(preds, axis=0), label, kind)
        for metric, value in want.items():
            assert at.loc['random_arch, 2 draws ensembled', metric] == pytest.approx(value, rel=1e-5)
    table = pd.read_csv(tmp_path / 'draw_ensemble.csv')
    assert {'AUILC', 'value'} <= set(table['stat'])
    assert 'median has no validation figure' in (tmp_path / 'draw_ensemble.md').read_text()


def test_merge_sweeps_lists_every_random_draw_with_its_own_metrics(micro_sweep, tmp_path):
    """draws.csv: one row per draw of each random_arch cell, its validation and test metrics those of the draw's
    own run, the kept one the cell's; a merge without drawn architectures writes none."""
    merge_sweeps.main([f'R={micro_sweep}:random_arch', f'{micro_sweep}:hand_designed', '--paired', 'mae',
                       '--out', str(tmp_path / 'm')])
    draws = pd.read_csv(tmp_path / 'm' / 'draws.csv')
    assert set(draws['variant']) == {'R'} and len(draws) == 2 * 2          # 2 rates x 2 draws, seed 0
    for path in micro_sweep.glob('cells/random_arch/r*-s*/metrics.json'):
        m = json.loads(path.read_text())
        rate = float(path.parent.name[1:].split('-s')[0])
        at = draws[draws['rate'] == rate].set_index('draw')
        for k in (0, 1):
            own = json.loads((path.parent / 'candidates' / f'arch{k}' / 'metrics.json').read_text())
            assert at.loc[k, 'test_mae'] == pytest.approx(own['test']['mae'])
            assert at.loc[k, 'valid_mae'] == pytest.approx(own['valid']['mae'])
        assert at['kept'].sum() == 1 and at.loc[m['chosen'], 'kept']
        assert at.loc[m['chosen'], 'test_mae'] == pytest.approx(m['test']['mae'])
    merge_sweeps.main([f'{micro_sweep}:hand_designed', '--paired', 'mae', '--out', str(tmp_path / 'h')])
    assert not (tmp_path / 'h' / 'draws.csv').exists()
