"""Every metric of section 8 against values worked out by hand on small vectors."""
import numpy as np
import pytest

from rmnas_nni.metrics import (auilc, classification_metrics, compute_metrics, default_select_metric,
                               dialogue_regression_metrics, mean_over_rates, metric_direction, metric_kind,
                               regression_metrics, sims_metrics, weighted_f1)

# MOSI-style vectors. Index 2 has y == 0 (dropped by non0); index 3 has p == 0.0
# (positive for has0's p >= 0, negative for non0's p > 0).
P = np.array([2.6, -0.4, 0.0, 1.4, -3.5, 0.6])
Y = np.array([3.0, 0.0, -0.2, 1.6, -2.4, -1.0])


def test_mosi_mae_and_multiclass_accuracies():
    m = regression_metrics(P, Y)
    # |p - y| = 0.4, 0.4, 0.2, 0.2, 1.1, 1.6
    assert m['mae'] == pytest.approx(3.9 / 6)
    # round(clip(+-3)): p -> [3, 0, 0, 1, -3, 1], y -> [3, 0, 0, 2, -2, -1]
    assert m['acc7'] == pytest.approx(100 * 3 / 6)
    # round(clip(+-2)): p -> [2, 0, 0, 1, -2, 1], y -> [2, 0, 0, 2, -2, -1]
    assert m['acc5'] == pytest.approx(100 * 4 / 6)


def test_mosi_has0_and_non0_differ_as_defined():
    m = regression_metrics(P, Y)
    # has0: p >= 0 [T F T T F T] vs y >= 0 [T T F T F F]
    assert m['acc2_has0'] == pytest.approx(100 * 3 / 6)
    # weighted F1: class True F1 = 4/7, class False F1 = 2/5, supports 3 and 3
    assert m['f1_has0'] == pytest.approx(100 * (4 / 7 + 2 / 5) / 2)
    # non0: index 1 (y == 0) dropped; p > 0 [T F T F T] vs y > 0 [T F T F F]
    assert m['acc2_non0'] == pytest.approx(100 * 4 / 5)
    # class True: tp 2 fp 1 fn 0 -> 4/5; class False: tp 2 fp 0 fn 1 -> 4/5
    assert m['f1_non0'] == pytest.approx(80.0)
    # p == 0.0 counts as positive only for has0
    one = regression_metrics(np.array([0.0]), np.array([1.0]))
    assert one['acc2_has0'] == 100.0 and one['acc2_non0'] == 0.0


def test_acc7_rounds_like_numpy_round():
    """``np.round`` (half to even), as the MMSA evaluation does: 2.5 -> 2, -0.5 -> 0."""
    m = regression_metrics(np.array([2.5, -0.5, 3.7]), np.array([2.0, 0.0, 3.0]))
    assert m['acc7'] == 100.0


def test_pearson_correlation():
    # deviations p: -1 0 1, y: -1 1 0 -> cov 1, variances 2 and 2 -> r = 1/2
    assert regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))['corr'] == pytest.approx(0.5)
    # constant predictions: 0 (decision), not NaN
    assert regression_metrics(np.ones(4), np.array([1.0, 2.0, -1.0, 0.5]))['corr'] == 0.0


def test_sims_bin_edges_are_left_open_right_closed():
    y = np.array([-0.1, 0.1, 0.0, -0.7, 0.7, 1.5])       # 1.5 is clipped to 1
    p = np.array([-0.09, 0.1, 0.01, -0.71, 0.71, 0.9])
    m = sims_metrics(p, y)
    # Acc-3 edges [-1.01, -0.1, 0.1, 1.01]: y -> [0 1 1 0 2 2], p -> [1 1 1 0 2 2]
    assert m['acc3'] == pytest.approx(100 * 5 / 6)
    # Acc-5 edges [-1.01, -0.7, -0.1, 0.1, 0.7, 1.01]: y -> [1 2 2 0 3 4], p -> [2 2 2 0 4 4]
    assert m['acc5'] == pytest.approx(100 * 4 / 6)
    # Acc-2 bins {[-1, 0], (0, 1]}: y -> [0 1 0 0 1 1], p -> [0 1 1 0 1 1]
    assert m['acc2'] == pytest.approx(100 * 5 / 6)
    # F1 of the Acc-2 bins: class 0 tp 2 fp 0 fn 1 -> 4/5; class 1 tp 3 fp 1 fn 0 -> 6/7
    assert m['f1'] == pytest.approx(100 * (4 / 5 + 6 / 7) / 2)
    assert m['mae'] == pytest.approx(0.14 / 6)
    # the edges themselves fall into the lower bin
    edges = np.array([-1.0, -0.7, -0.1, 0.0, 0.1, 0.7, 1.0])
    # shifting every prediction a hair to the right moves exactly the inner edges to the next bin:
    # Acc-3 has 2 of them (-0.1, 0.1), Acc-5 has 4 (-0.7, -0.1, 0.1, 0.7), Acc-2 one (0.0)
    for name, n_inner in (('acc3', 2), ('acc5', 4), ('acc2', 1)):
        assert sims_metrics(edges + 1e-6, edges)[name] == pytest.approx(100 * (7 - n_inner) / 7), name
        assert sims_metrics(edges, edges)[name] == 100.0
    assert sims_metrics(np.array([0.0]), np.array([1e-9]))['acc2'] == 0.0


def test_classification_accuracy_and_waf():
    y = np.array([0, 1, 2, 2, 1, 0])
    p = np.array([0, 2, 2, 2, 1, 1])
    m = classification_metrics(p, y)
    assert m['acc'] == pytest.approx(100 * 4 / 6)
    # F1 per class: 0 -> 2/3, 1 -> 2/4, 2 -> 4/5; equal supports
    assert m['waf'] == pytest.approx(100 * (2 / 3 + 1 / 2 + 4 / 5) / 3)
    scores = np.eye(3)[p] + 0.1
    assert classification_metrics(scores, y) == m


def test_weighted_f1_counts_predicted_only_classes_with_zero_weight():
    # class 2 is only predicted: F1 0 with weight 0; class 0: 2/3 (support 2), class 1: 1 (support 1)
    assert weighted_f1(np.array([0, 0, 1]), np.array([0, 2, 1])) == pytest.approx((2 * 2 / 3 + 1) / 3)
    assert np.isnan(weighted_f1(np.array([]), np.array([])))


def test_dialogue_regression_drops_zero_labels():
    p = np.array([0.5, -0.2, 0.3, -1.0])
    y = np.array([1.0, 0.0, -0.5, -2.0])
    m = dialogue_regression_metrics(p, y)
    # non-zero labels: p > 0 [T T F] vs y > 0 [T F F]
    assert m['acc2'] == pytest.approx(100 * 2 / 3)
    # class True: tp 1 fp 1 fn 0 -> 2/3 (support 1); class False: tp 1 fp 0 fn 1 -> 2/3 (support 2)
    assert m['waf'] == pytest.approx(100 * 2 / 3)
    assert m['mae'] == pytest.approx(2.5 / 4)


def test_metric_kind_and_selection():
    assert metric_kind('regression', 'sentence', 3.0) == 'mosi'
    assert metric_kind('regression', 'sentence', 1.0) == 'sims'
    assert metric_kind('regression', 'dialogue', 3.0) == 'dialogue_regression'
    assert metric_kind('classification', 'dialogue') == 'classification'
    assert set(compute_metrics(P, Y, 'mosi')) == set(regression_metrics(P, Y))
    assert default_select_metric('mosi') == 'mae' and metric_direction('mae') == 'min'
    assert default_select_metric('classification') == 'waf' and metric_direction('waf') == 'max'
    assert default_select_metric('dialogue_regression') == 'mae'
    with pytest.raises(KeyError):
        metric_direction('accuracy')


def test_auilc_is_the_trapezoid_from_zero():
    assert auilc([0.0, 0.5, 1.0], [1.0, 0.5, 0.0]) == pytest.approx(0.5)
    # order does not matter; uneven steps: 79 * 0.1 + 74 * 0.2 + 65 * 0.4
    assert auilc([0.7, 0.0, 0.3, 0.1], [60.0, 80.0, 70.0, 78.0]) == pytest.approx(7.9 + 14.8 + 26.0)
    # a constant curve over [0, 0.5] has area half its value (CH-SIMS sweeps stop at 0.5)
    assert auilc([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], [80.0] * 6) == pytest.approx(40.0)
    with pytest.raises(ValueError, match='0.0'):
        auilc([0.1, 0.5], [1.0, 2.0])
    with pytest.raises(ValueError):
        auilc([0.0], [1.0])
    with pytest.raises(ValueError):
        auilc([0.0, 0.5], [1.0])
    with pytest.raises(ValueError, match='twice'):
        auilc([0.0, 0.5, 0.5], [1.0, 2.0, 3.0])


def test_mean_over_rates():
    assert mean_over_rates([1.0, 2.0, 3.0, 6.0]) == pytest.approx(3.0)


def test_labels_in_two_get_acc5_and_acc3_not_acc7():
    """Labels in [-2, 2]: the set follows the range; a seven-class accuracy would equal Acc-5."""
    from rmnas_nni.data.dataset import Split
    from rmnas_nni.data.readers import finalize
    from rmnas_nni.metrics import regression_2_metrics
    p = np.array([1.6, -0.4, 0.6, 2.7, -1.4, 0.2])
    y = np.array([2.0, -0.6, 0.0, 1.5, -2.0, -0.2])
    m = regression_2_metrics(p, y)
    assert 'acc7' not in m and list(m)[:4] == ['mae', 'corr', 'acc5', 'acc3']
    # round(clip(+-2)): p -> [2, -0, 1, 2, -1, 0], y -> [2, -1, 0, 2, -2, -0]: equal at 0, 3, 5
    assert m['acc5'] == pytest.approx(100 * 3 / 6)
    # round(clip(+-1)): p -> [1, -0, 1, 1, -1, 0], y -> [1, -1, 0, 1, -1, -0]: equal at 0, 3, 4, 5
    assert m['acc3'] == pytest.approx(100 * 4 / 6)
    assert m['mae'] == pytest.approx(regression_metrics(p, y)['mae'])
    assert m['acc2_non0'] == pytest.approx(regression_metrics(p, y)['acc2_non0'])

    def data(labels, **options):
        feats = {'audio': np.ones((len(labels), 1, 2), np.float32)}
        split = Split(feats, {'audio': np.ones(len(labels), np.int64)}, np.asarray(labels, np.float32),
                      np.arange(len(labels)).astype(str))
        return finalize({s: split for s in ('train', 'valid', 'test')}, source='f', task='regression',
                        level='sentence', options={'label_scale': 'auto', **options}, name='d',
                        label_keys={s: s for s in ('train', 'valid', 'test')},
                        feature_keys={s: {'audio': 'a'} for s in ('train', 'valid', 'test')})
    two = data(y)
    assert two.label_scale == 2.0 and metric_kind('regression', 'sentence', two.label_scale) == 'regression_2'
    assert data(y / 2).label_scale == 1.0 and data(y * 1.4).label_scale == 3.0
    assert data(y, label_scale=3).label_scale == 3.0
    assert default_select_metric('regression_2') == 'mae'
    assert compute_metrics(p, y, 'regression_2') == m


def test_metrics_key_names_the_set():
    from rmnas_nni.data.synthetic import make_synthetic
    from rmnas_nni.errors import ConfigError
    from rmnas_nni.pipeline import load_config, select_metric_of
    data = make_synthetic('sentence', sizes={'train': 4, 'valid': 4, 'test': 4})
    assert select_metric_of(load_config(None), data) == ('mosi', 'mae')
    assert select_metric_of(load_config(None, {'metrics': 'regression_2'}), data) == ('regression_2', 'mae')
    cfg = load_config(None)
    cfg.metrics = 'classification'
    with pytest.raises(ConfigError, match="key 'metrics'"):
        select_metric_of(cfg, data)
    with pytest.raises(ConfigError, match="key 'metrics'"):          # refused before anything runs
        load_config(None, {'metrics': 'classification'})
    with pytest.raises(ConfigError, match="key 'metrics'"):
        load_config(None, {'metrics': 'acc9'})
