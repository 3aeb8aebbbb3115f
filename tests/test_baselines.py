"""NAS baselines (random and hand-designed architectures), search diagnostics, training rules."""
import json
from collections import Counter

import numpy as np
import pytest
import torch

from conftest import LENS, MODS, TINY
from rmnas_nni.baselines import hand_designed_architecture, random_architecture, random_seed
from rmnas_nni.metrics import constant_prediction
from rmnas_nni.pipeline import check_architecture, load_config, prepare_data, run
from rmnas_nni.search_strategy import choice_summary
from rmnas_nni.space import RMNASSpace
from rmnas_nni.sweep import collect_results, plan_cells, SweepSpec


@pytest.fixture(scope='module')
def space():
    return RMNASSpace(MODS, LENS, level='sentence', **TINY)


def test_random_architecture_is_valid_deterministic_and_uniform(space):
    a = random_architecture(space, random_seed(0, 0))
    check_architecture(a, space)
    assert a == random_architecture(space, random_seed(0, 0))
    assert a != random_architecture(space, random_seed(0, 1))
    assert random_seed(0, 1) != random_seed(1, 0)
    draws = [random_architecture(space, s) for s in range(600)]
    counts = Counter(d['text/block0/mixer'] for d in draws)
    assert set(counts) == set(space.simplify()['text/block0/mixer'].values)
    assert all(100 <= c <= 200 for c in counts.values()), counts            # 150 expected for 4 mixers
    inputs = Counter(d['fusion/cell1/input0'][0] for d in draws)
    assert len(inputs) == 7                                                 # 6 block outputs + cell 0


def test_hand_designed_architecture(space):
    arch = hand_designed_architecture(space)
    check_architecture(arch, space)
    assert all(v == 'attention' for k, v in arch.items() if k.endswith('/mixer'))
    names = space.candidate_names()
    assert [names[arch['fusion/cell0/input0'][0]], names[arch['fusion/cell0/input1'][0]]] == \
        ['text/block1', 'audio/block1']
    assert names[arch['fusion/cell1/input0'][0]] == 'vision/block1'
    assert arch['fusion/cell1/input1'] == [len(names)]                      # the output of cell 0
    assert arch['fusion/cell0/step0/op'] == 'concat_fc' and arch['fusion/cell0/step1/op'] == 'sum'
    assert arch['fusion/cell0/step1/input0'] == [2]                          # step 0's output


def test_hand_designed_falls_back_when_candidates_are_missing():
    space = RMNASSpace({'text': 12}, {'text': 10}, level='sentence',
                       **{**TINY, 'fusion_ops': ['zero', 'sum'], 'mixers': ['pool', 'identity']})
    arch = hand_designed_architecture(space)
    check_architecture(arch, space)
    assert arch['text/block0/mixer'] == 'pool'
    assert arch['fusion/cell0/step0/op'] == 'sum'


def test_hand_designed_with_gated_inputs_opens_the_same_candidates():
    gated = RMNASSpace(MODS, LENS, level='sentence', **TINY, fusion_input_selection='gates')
    arch = hand_designed_architecture(gated)
    check_architecture(arch, gated)
    plain = hand_designed_architecture(RMNASSpace(MODS, LENS, level='sentence', **TINY))
    for slot in ('fusion/cell0/input0', 'fusion/cell0/input1', 'fusion/cell1/input0', 'fusion/cell1/input1'):
        open_ = [int(k.rsplit('cand', 1)[1]) for k, v in arch.items() if k.startswith(slot + '/') and v == 'identity']
        assert open_ == plain[slot]


def test_constant_prediction():
    y = np.linspace(-3, 3, 50)
    assert constant_prediction(np.full(50, 0.3), y, 'regression')
    assert constant_prediction(0.3 + 1e-4 * np.random.default_rng(0).normal(size=50), y, 'regression')
    assert not constant_prediction(0.5 * y, y, 'regression')
    assert constant_prediction(np.zeros(20, int), np.arange(20) % 3, 'classification')
    assert not constant_prediction(np.arange(20) % 2, np.arange(20) % 3, 'classification')


def test_choice_summary_uniform_and_one_hot():
    uniform = {'a/block0/mixer': {'x': 0.25, 'y': 0.25, 'z': 0.25, 'w': 0.25}}
    one_hot = {'fusion/cell0/input0': {'0': 1.0, '1': 0.0, '2': 0.0}}
    s = choice_summary(uniform)
    assert s['entropy'] == pytest.approx(1.0) and s['tv_from_uniform'] == pytest.approx(0.0)
    assert s['mixer_top_weight'] == pytest.approx(0.25)
    s = choice_summary(one_hot)
    assert s['entropy'] == pytest.approx(0.0, abs=1e-6) and s['tv_from_uniform'] == pytest.approx(2 / 3)
    assert s['input_top_weight'] == pytest.approx(1.0)
    both = choice_summary({**uniform, **one_hot})
    assert both['entropy'] == pytest.approx(0.5, abs=1e-6)


SMALL = {'threads': 1, 'search': {'epochs': 2, 'random_k': 2, 'batch_size': 32},
         'retrain': {'epochs': 3, 'batch_size': 32},
         'data': {'options': {'sizes': {'train': 96, 'valid': 48, 'test': 48}}}}


def test_random_arch_run_keeps_the_best_on_validation_and_the_median(tmp_path):
    cfg = load_config(None, {**SMALL, 'search': {**SMALL['search'], 'method': 'random'}})
    out = run(cfg, tmp_path / 'run', quiet=True)
    metrics = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    cands = metrics['candidates']
    assert len(cands) == 2
    best = int(np.argmin([c['valid']['mae'] for c in cands]))                 # select metric: MAE
    assert metrics['chosen'] == best and metrics['test'] == cands[best]['test']
    for m, v in metrics['test_median'].items():
        assert v == pytest.approx(float(np.median([c['test'][m] for c in cands])))
    arch = json.loads((tmp_path / 'run' / 'arch.json').read_text())
    assert arch == json.loads((tmp_path / 'run' / 'candidates' / f'arch{best}' / 'arch.json').read_text())
    assert out['test'] == metrics['test']
    # the modalities each draw's prediction reads, as its own run recorded them, and in the report
    from rmnas_nni.figures import describe_run, fused_features, fused_modalities
    for k, c in enumerate(cands):
        own = tmp_path / 'run' / 'candidates' / f'arch{k}'
        assert c['fused_modalities'] == json.loads((own / 'metrics.json').read_text())['fused_modalities']
        assert c['fused_modalities'] == fused_modalities(describe_run(own))
    assert metrics['fused_modalities'] == cands[best]['fused_modalities']
    assert f"reaching the prediction: {', '.join(fused_features(describe_run(tmp_path / 'run')))}" in out['report']
    assert not list((tmp_path / 'run' / 'candidates').rglob('*.pt'))       # only the kept model stays
    assert (tmp_path / 'run' / 'model.pt').is_file()
    # a sweep lists the best and the median
    cells = plan_cells(cfg, [0.0], SweepSpec([0.0], [0], ['full']), tmp_path / 'sweep')
    cells[0].path = tmp_path / 'run'
    table = collect_results(cells)
    assert list(table['variant']) == ['full', 'full (median)']


def test_search_final_export_runs_every_epoch_and_records_choice_weights(tmp_path):
    cfg = load_config(None, {**SMALL, 'search': {**SMALL['search'], 'epochs': 3, 'patience': 1,
                                                  'export': 'final'}, 'retrain': {'enabled': False}})
    run(cfg, tmp_path / 'run', quiet=True)
    summary = json.loads((tmp_path / 'run' / 'search' / 'summary.json').read_text())
    assert summary['epochs_run'] == 3 and summary['export'] == 'final'
    probs = json.loads((tmp_path / 'run' / 'arch_probs.json').read_text())
    assert summary['choices'] == pytest.approx(choice_summary(probs))
    import pandas as pd
    rows = pd.read_csv(tmp_path / 'run' / 'search' / 'choices.csv')
    assert sorted(rows['epoch'].unique()) == [1, 2, 3]
    last = rows[rows['epoch'] == 3]
    for label, dist in probs.items():
        got = last[last['label'] == label].set_index('candidate')['weight']
        for cand, w in dist.items():
            assert got[cand] == pytest.approx(w, rel=1e-4)


def test_retrain_min_epochs_overrides_patience(tmp_path):
    from rmnas_nni.data import make_loader
    from rmnas_nni.trainer import retrain
    cfg = load_config(None, SMALL)
    data, _ = prepare_data(cfg)
    model = RMNASSpace(data.dims, data.max_lengths, level='sentence', **TINY)
    from rmnas_nni.baselines import hand_designed_architecture
    from rmnas_nni.pipeline import build_fixed_model
    model = build_fixed_model(cfg, data, hand_designed_architecture(model))
    loader = make_loader(data.splits['train'], 'sentence', 32, shuffle=True)
    val = make_loader(data.splits['valid'], 'sentence', 32, shuffle=False)
    runs = {}
    for min_epochs in (0, 5):
        runs[min_epochs] = retrain(model, loader, val, task='regression', kind='mosi', select_metric='mae',
                                   epochs=8, patience=1, lr=0.0, weight_decay=0.0, grad_clip=None, seed=0,
                                   out_dir=tmp_path / str(min_epochs), min_epochs=min_epochs, printer=lambda s: None)
    assert runs[0]['epochs_run'] == 2                          # lr 0: nothing improves after epoch 1
    assert runs[5]['epochs_run'] == 5
    assert {'train_mae', 'train_corr', 'val_mae'} <= set(runs[5]['history'][0])


def test_seed_ensemble_member_zero_is_the_single_run_and_the_model_predicts_their_mean(tmp_path):
    from rmnas_nni.errors import ConfigError
    from rmnas_nni.pipeline import evaluate_run, load_retrained
    from rmnas_nni.trainer import predict
    from rmnas_nni.data import make_loader
    base = {**SMALL, 'search': {**SMALL['search'], 'method': 'hand_designed'}}
    single = run(load_config(None, base), tmp_path / 'one', quiet=True)
    run(load_config(None, {**base, 'retrain': {**SMALL['retrain'], 'ensemble': 2}}), tmp_path / 'two', quiet=True)
    one_hist = (tmp_path / 'one' / 'retrain' / 'history.csv').read_text()
    assert (tmp_path / 'two' / 'retrain' / 'history.csv').read_text() == one_hist     # member 0 = the single run
    assert (tmp_path / 'two' / 'retrain' / 'member1' / 'history.csv').read_text() != one_hist
    metrics = json.loads((tmp_path / 'two' / 'metrics.json').read_text())
    assert [m['seed'] for m in metrics['members']] == [0, 1000]
    assert metrics['members'][0]['valid'] == single['valid']
    assert metrics['parameters'] == 2 * single['parameters']
    cfg, data, model, kind = load_retrained(tmp_path / 'two')
    loader = make_loader(data.splits['test'], data.level, 32, shuffle=False)
    pred, _ = predict(model, loader, data.task)
    member_preds = [predict(m, loader, data.task)[0] for m in model.members]
    np.testing.assert_allclose(pred, np.mean(member_preds, axis=0), rtol=1e-5, atol=1e-6)
    _, _, first, _ = load_retrained(tmp_path / 'one')
    np.testing.assert_allclose(member_preds[0], predict(first, loader, data.task)[0], rtol=1e-6)
    assert evaluate_run(tmp_path / 'two') == pytest.approx(metrics['test'])
    with pytest.raises(ConfigError, match="retrain.ensemble"):
        load_config(None, {**base, 'retrain': {'ensemble': 2, 'weights': 'supernet'}})


def test_retrain_ema_validates_the_average_and_resumes_exactly(tmp_path):
    from rmnas_nni.data import make_loader
    from rmnas_nni.trainer import evaluate, retrain
    from rmnas_nni.pipeline import build_fixed_model
    cfg = load_config(None, SMALL)
    data, _ = prepare_data(cfg)
    arch = hand_designed_architecture(RMNASSpace(data.dims, data.max_lengths, level='sentence', **TINY))
    loader = make_loader(data.splits['train'], 'sentence', 32, shuffle=True, seed=0)
    val = make_loader(data.splits['valid'], 'sentence', 32, shuffle=False)
    kw = dict(task='regression', kind='mosi', select_metric='mae', patience=50, lr=1e-3, weight_decay=0.0,
              grad_clip=None, seed=0, ema=0.5, printer=lambda s: None)
    straight = build_fixed_model(cfg, data, arch, 0)
    out = retrain(straight, loader, val, epochs=3, out_dir=tmp_path / 'a', **kw)
    last = torch.load(tmp_path / 'a' / 'last.pt', weights_only=False)
    assert set(last) >= {'model', 'ema'}
    assert any(not torch.equal(last['model'][k], last['ema'][k]) for k in last['model'])    # the average is not the raw
    best = out['history'][out['best_epoch'] - 1]
    assert evaluate(straight, val, 'regression', 'mosi')['mae'] == pytest.approx(best['val_mae'])
    # two epochs, then resumed to three: the same weights, average and history
    part = build_fixed_model(cfg, data, arch, 0)
    retrain(part, loader, val, epochs=2, out_dir=tmp_path / 'b', **kw)
    resumed = build_fixed_model(cfg, data, arch, 0)
    again = retrain(resumed, loader, val, epochs=3, out_dir=tmp_path / 'b', resume=True, **kw)
    assert again['history'] == out['history']
    other = torch.load(tmp_path / 'b' / 'last.pt', weights_only=False)
    for k in last['model']:
        assert torch.equal(last['model'][k], other['model'][k]) and torch.equal(last['ema'][k], other['ema'][k])


@pytest.mark.parametrize('level', ['sentence', 'dialogue'])
def test_fused_modalities_are_exactly_those_whose_input_moves_the_fused_prediction(level):
    """fused_modalities reads the exported choices; the network agrees: replacing one modality's input changes
    the fused prediction of a random architecture if and only if that modality is listed (on 40 draws of the
    tiny space, which include networks that leave a modality out), at both levels (at sentence level the
    global tokens read their modality through attention or random mixing only)."""
    from rmnas_nni.data import make_loader
    from rmnas_nni.figures import architecture_text, describe_architecture, fused_modalities
    from rmnas_nni.pipeline import build_fixed_model, build_space
    cfg = load_config(None, {**SMALL, 'data': {**SMALL['data'], 'level': level}})
    data, _ = prepare_data(cfg)
    space = build_space(cfg, data)
    batch = next(iter(make_loader(data.splits['test'], data.level, 16, shuffle=False)))
    generator = torch.Generator().manual_seed(0)
    left_out = Counter()
    for s in range(40):
        arch = random_architecture(space, random_seed(0, s))
        desc = describe_architecture(arch, {}, cfg)
        fused = fused_modalities(desc)
        note = [line for line in architecture_text(desc).splitlines() if line.startswith('  NOTE:')]
        unread = [m for m in cfg.data.modalities if m not in fused]
        assert note == ([f"  NOTE: the prediction does not read {' or '.join(unread)}: no feature of "
                         f"{'it' if len(unread) == 1 else 'them'} reaches the fusion's output"] if unread else [])
        model = build_fixed_model(cfg, data, arch, 0).eval()
        with torch.no_grad():
            base = model(batch['inputs'], batch['masks'])['fused']
            for m in cfg.data.modalities:
                other = dict(batch['inputs'], **{m: torch.randn(batch['inputs'][m].shape, generator=generator)})
                moved = not torch.allclose(model(other, batch['masks'])['fused'], base, atol=1e-6)
                assert moved == (m in fused), (s, m, fused)
                left_out[m] += m not in fused
    assert sum(left_out.values()) > 0          # the draws do include networks that ignore a modality


def test_random_draws_among_architectures_that_read_every_modality():
    """search.random_all_modalities keeps the first random_k draws of the same sequence whose prediction reads
    every modality: the unconstrained draws that do are kept as they are, and no draw that leaves one out."""
    from rmnas_nni.errors import ConfigError
    from rmnas_nni.figures import describe_architecture, fused_modalities
    from rmnas_nni.pipeline import build_space, random_draws
    cfg = load_config(None, {**SMALL, 'search': {**SMALL['search'], 'method': 'random', 'random_k': 12}})
    data, _ = prepare_data(cfg)
    space = build_space(cfg, data)
    plain = random_draws(cfg, space)
    assert plain == [random_architecture(space, random_seed(0, t)) for t in range(12)]
    reads = [fused_modalities(describe_architecture(a, {}, cfg)) == list(cfg.data.modalities) for a in plain]
    assert 0 < sum(reads) < 12                               # the plain draws include networks that leave one out
    cfg.search.random_all_modalities = True
    kept = random_draws(cfg, space)
    assert len(kept) == 12
    assert all(fused_modalities(describe_architecture(a, {}, cfg)) == list(cfg.data.modalities) for a in kept)
    assert kept[:sum(reads)] == [a for a, ok in zip(plain, reads) if ok]
    cfg.search.random_k = 10 ** 4                            # more than the draws tried
    with pytest.raises(ConfigError, match='search.random_all_modalities'):
        random_draws(cfg, space)
