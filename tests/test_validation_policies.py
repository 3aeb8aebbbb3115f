"""bench/validation_policies.py: the fallback chooses on validation only; the ensemble averages predictions."""
import math
import sys

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / 'bench'))

import validation_policies as vp  # noqa: E402


def _cell(valid_mae, test_mae, test_waf):
    return {'valid': {'mae': valid_mae, 'waf': 60.0}, 'test': {'mae': test_mae, 'waf': test_waf}}


def test_fallback_chooses_on_validation_whatever_test_says():
    # validation prefers the hand-designed network; test would prefer the searched one
    cands = {'RMNAS': _cell(1.10, 0.80, 85.0), 'hand_designed': _cell(1.00, 1.20, 60.0)}
    name, rec = vp.fallback(cands, 'mae')
    assert name == 'hand_designed' and rec['test']['waf'] == 60.0
    # any test figures, even absent ones, leave the choice as it was
    for test in ({'mae': 0.0, 'waf': 100.0}, {'mae': math.nan, 'waf': math.nan}, {}):
        other = {k: {'valid': v['valid'], 'test': dict(test)} for k, v in cands.items()}
        assert vp.fallback(other, 'mae')[0] == 'hand_designed'


def test_choose_by_validation_direction_ties_and_nan():
    assert vp.choose_by_validation({'a': 1.0, 'b': 0.9, 'c': 0.95}, 'mae') == 'b'      # lower MAE wins
    assert vp.choose_by_validation({'a': 70.0, 'b': 72.0}, 'waf') == 'b'                # higher WAF wins
    assert vp.choose_by_validation({'a': 1.0, 'b': 1.0}, 'mae') == 'a'                  # tie: the first named
    assert vp.choose_by_validation({'a': math.nan, 'b': 2.0}, 'mae') == 'b'             # NaN is the worst
    assert vp.choose_by_validation({'a': math.nan, 'b': 2.0}, 'waf') == 'b'
    with pytest.raises(ValueError):
        vp.choose_by_validation({}, 'mae')


def test_ensemble_is_the_metric_of_the_mean_prediction():
    from rmnas_nni.metrics import compute_metrics
    label = np.array([1.5, -2.0, 0.5, -0.5, 2.5])
    a = np.array([1.0, -1.0, -0.2, -1.0, 2.0])
    b = np.array([2.0, -3.0, 0.8, 0.2, 3.0])
    got = vp.ensemble_metrics([a, b], label, 'dialogue_regression')
    want = compute_metrics((a + b) / 2, label, 'dialogue_regression')
    assert got == pytest.approx(want)
    assert vp.ensemble_metrics([a], label, 'dialogue_regression') == pytest.approx(
        compute_metrics(a, label, 'dialogue_regression'))


def test_paired_auilc_is_row_minus_other_per_seed():
    import pandas as pd
    rows = [{'variant': v, 'rate': r, 'seed': s, 'waf': base + s + (r if v == 'x' else 0)}
            for v, base in (('x', 70.0), ('y', 69.0)) for s in (0, 1) for r in (0.0, 0.5)]
    d = vp.paired_auilc(pd.DataFrame(rows), 'x', 'y')
    # per seed: 0.5 * ((1 + 1.5) / 2) = 0.625
    assert d == pytest.approx([0.625, 0.625])


def test_classification_ensemble_is_the_argmax_of_the_mean_logits():
    from rmnas_nni.metrics import compute_metrics
    label = np.array([0, 1, 2, 1])
    # member a is sure of the wrong class on entry 0, member b mildly right: the mean logits pick b's class
    a = np.array([[0.0, 3.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    b = np.array([[5.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 2.0, 0.0]])
    got = vp.ensemble_metrics([a, b], label, 'classification', task='classification')
    want = compute_metrics(((a + b) / 2).argmax(-1), label, 'classification')
    assert got == pytest.approx(want)
    assert ((a + b) / 2).argmax(-1).tolist() == [0, 1, 2, 1]        # not the mean of the two argmaxes
