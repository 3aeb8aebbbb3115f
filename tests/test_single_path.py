"""SPOS (rmnas_nni.single_path): one path per weight step, then candidates ranked with the supernet's weights."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import run_cli
from rmnas_nni.baselines import random_architecture
from rmnas_nni.data import make_loader
from rmnas_nni.data.synthetic import make_synthetic
from rmnas_nni.derivation import is_gate
from rmnas_nni.nni_report import TrialReporter, search_epoch_reporter
from rmnas_nni.pipeline import build_fixed_model, load_config, search, select_metric_of
from rmnas_nni import single_path
from rmnas_nni.single_path import draw_candidates, evolve_single_paths, holds_excluded
from rmnas_nni.space import RMNASSpace
from rmnas_nni.trainer import evaluate
from rmnas_nni.weight_transfer import transfer_supernet_weights

SMALL_ENCODER = {'d_model': 16, 'n_blocks': 1, 'n_heads': 2, 'ffn_ratio': 2}
SMALL_FUSION = {'width': 8, 'n_cells': 1, 'n_steps': 2, 'attention_chunks': 2}


def small_space(data):
    return RMNASSpace(data.dims, data.max_lengths, level=data.level, d_model=16, n_blocks=1, n_heads=2,
                      ffn_ratio=2, fusion_width=8, n_cells=1, attention_chunks=2)


def spos_config(epochs=3, candidates=12, **search):
    cfg = load_config(None, {'search': {'epochs': epochs, 'batch_size': 16, **search}, 'strategy': 'spos'})
    cfg.space.encoder.update(SMALL_ENCODER)
    cfg.space.fusion.update(SMALL_FUSION)
    cfg.strategy_config.options.candidates = candidates
    cfg.strategy_config.options.panel = 3
    return cfg


@pytest.fixture(scope='module')
def spos_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('spos')
    data = make_synthetic('sentence', sizes={'train': 64, 'valid': 32, 'test': 32})
    cfg = spos_config()
    lines = []
    reporter = TrialReporter('mae', under_nni=False, printer=lines.append, sign=-1.0)
    result = search(cfg, data, out, printer=lines.append, callbacks=[search_epoch_reporter(reporter)])
    return cfg, data, out, result, lines


def test_a_spos_search_records_no_per_epoch_choice_weights(spos_run):
    """It learns none: uniform figures per epoch would read as a search that moved nothing."""
    cfg, data, out, result, lines = spos_run
    assert not (out / 'search' / 'choices.csv').exists()
    reported = [json.loads(line.split('intermediate result ', 1)[1]) for line in lines if 'intermediate result' in line]
    assert [r['search_epoch'] for r in reported] == [1, 2, 3]
    assert all(set(r) == {'default', 'search_epoch'} for r in reported)


def test_the_exported_architecture_is_the_best_ranked_and_the_ranking_is_what_the_supernet_scores(spos_run):
    cfg, data, out, result, lines = spos_run
    ranking = pd.read_csv(out / 'search' / 'candidates.csv')
    archs = [json.loads(a) for a in ranking['arch']]
    assert len(archs) == 12 and len({json.dumps(a, sort_keys=True) for a in archs}) == 12
    assert list(ranking['rank']) == list(range(1, 13))
    assert ranking['val_mae'].is_monotonic_increasing and ranking['val_mae'].iloc[-1] > ranking['val_mae'].iloc[0]
    arch = json.loads((out / 'arch.json').read_text())
    assert arch == archs[0] == result.arch
    # each score is the fixed network's, with the supernet's weights of that path carried over
    kind, select = select_metric_of(cfg, data)
    loader = make_loader(data.splits['valid'], data.level, 16, shuffle=False)
    for i in (0, 5, 11):
        fixed = build_fixed_model(cfg, data, archs[i], 0)
        transfer_supernet_weights(result.supernet, fixed, archs[i])
        assert evaluate(fixed, loader, data.task, kind)[select] == pytest.approx(ranking['val_mae'][i], rel=1e-5)
    assert any('12 architectures ranked' in line for line in lines)


def test_choice_weights_are_the_top_tenth_of_the_ranking_and_no_excluded_candidate_is_drawn(spos_run):
    cfg, data, out, result, _ = spos_run
    probs = json.loads((out / 'arch_probs.json').read_text())
    arch = result.arch
    space = small_space(data)
    assert set(probs) == set(space.simplify())
    for label, dist in probs.items():                        # top tenth of 12 = the best one
        value = arch[label][0] if isinstance(arch[label], list) else arch[label]
        assert dist[str(value)] == 1.0 and sum(dist.values()) == 1.0
    mutables = space.simplify()
    for a in pd.read_csv(out / 'search' / 'candidates.csv')['arch']:
        a = json.loads(a)                                    # search.exclude_zero is on by default
        assert all(v != 'zero' for k, v in a.items() if not isinstance(v, list) and not is_gate(mutables[k].values))


def test_a_weight_step_moves_only_the_sampled_path(spos_run):
    cfg, data, out, result, _ = spos_run
    oneshot = result.oneshot
    oneshot.ranked_arch = None
    np.random.seed(3)
    path = oneshot.resample()
    assert oneshot.export() == path
    before = {k: v.detach().clone() for k, v in oneshot.model.named_parameters()}
    opt = torch.optim.SGD(oneshot.model.parameters(), lr=0.1)
    batch = next(iter(make_loader(data.splits['train'], data.level, 16, shuffle=False)))
    from rmnas_nni.losses import rmnas_loss
    opt.zero_grad()
    rmnas_loss(oneshot.model(batch['inputs'], batch['masks']), batch, data.task).backward()
    opt.step()
    changed = {k for k, v in oneshot.model.named_parameters() if not torch.equal(v.detach(), before[k])}
    mixers = {k: v for k, v in path.items() if k.endswith('/mixer')}
    for label, chosen in mixers.items():
        modality, block = label.split('/')[0], label.split('/')[1][len('block'):]
        prefix = f'encoders.{modality}.blocks.{block}.mixer.'
        for name in before:
            if name.startswith(prefix):
                candidate = name[len(prefix):].split('.')[0]
                assert (name in changed) == (candidate == chosen), name
    assert changed


def test_searches_of_one_seed_train_the_same_paths(tmp_path):
    data = make_synthetic('sentence', sizes={'train': 64, 'valid': 32, 'test': 32})
    rankings = []
    for name in ('a', 'b'):
        search(spos_config(epochs=2, candidates=6), data, tmp_path / name, printer=lambda s: None)
        rankings.append((tmp_path / name / 'search' / 'candidates.csv').read_text())
    assert rankings[0] == rankings[1]


def test_candidate_draws_are_distinct_reproducible_and_respect_the_exclusions():
    data = make_synthetic('sentence', sizes={'train': 16, 'valid': 8, 'test': 8})
    space = small_space(data)
    mutables = space.simplify()
    a = draw_candidates(space, 0, 30, 10_000, ['zero', 'identity'])
    assert a == draw_candidates(space, 0, 30, 10_000, ['zero', 'identity'])
    assert a != draw_candidates(space, 1, 30, 10_000, ['zero', 'identity'])
    assert len({json.dumps(x, sort_keys=True) for x in a}) == 30
    assert not any(holds_excluded(x, ['zero', 'identity'], mutables) for x in a)
    draws = [random_architecture(space, s) for s in range(200)]
    assert any(holds_excluded(x, ['zero'], mutables) for x in draws)
    assert any(holds_excluded(x, ['identity'], mutables) for x in draws)


def _objective_scores(monkeypatch, space):
    """Score an architecture by how many of its choices take each choice's first value (higher is better):
    a ranking with structure that an evolutionary search can climb and uniform draws rarely hit."""
    mutables = space.simplify()
    scored = []

    def fake(oneshot, archs, loader, *, task, metric_kind):
        out = []
        for arch in archs:
            hits = sum((v[0] if isinstance(v, list) else v) == list(mutables[k].values)[0] for k, v in arch.items())
            out.append((arch, {'acc2': float(hits)}))
        scored.extend(out)
        return out

    monkeypatch.setattr(single_path, 'score_single_paths', fake)
    return scored


def test_the_evolution_scores_the_budget_once_each_and_climbs_where_uniform_draws_do_not(monkeypatch):
    data = make_synthetic('sentence', sizes={'train': 16, 'valid': 8, 'test': 8})
    space = small_space(data)
    mutables = space.simplify()
    scored = _objective_scores(monkeypatch, space)
    lines = []
    ranked = evolve_single_paths(None, space, 0, 60, None, task='regression', metric_kind='regression',
                                 select_metric='acc2', excluded=['zero'], printer=lines.append)
    keys = [json.dumps(a, sort_keys=True) for a, _ in ranked]
    assert len(ranked) == 60 == len(scored) and len(set(keys)) == 60
    assert [m['acc2'] for _, m in ranked] == sorted((m['acc2'] for _, m in ranked), reverse=True)
    assert not any(holds_excluded(a, ['zero'], mutables) for a, _ in ranked)
    # the first population is the random ranking's first draws; the rest are new
    assert [a for a, _ in scored[:12]] == draw_candidates(space, 0, 12, single_path.CANDIDATE_OFFSET, ['zero'])
    assert len(lines) == 4 and lines[-1].startswith('search: evolution generation 4, 60 architectures scored')
    # same seed, same search; the best it finds beats the best of as many uniform draws
    scored.clear()
    again = evolve_single_paths(None, space, 0, 60, None, task='regression', metric_kind='regression',
                                select_metric='acc2', excluded=['zero'])
    assert [a for a, _ in again] == [a for a, _ in ranked]
    uniform = single_path.score_single_paths(None, draw_candidates(space, 0, 60, single_path.CANDIDATE_OFFSET,
                                                                   ['zero']), None, task='', metric_kind='')
    assert ranked[0][1]['acc2'] > max(m['acc2'] for _, m in uniform)


def test_an_evolution_run_exports_the_best_of_its_candidates(tmp_path):
    data = make_synthetic('sentence', sizes={'train': 64, 'valid': 32, 'test': 32})
    cfg = spos_config(epochs=1, candidates=10)
    cfg.strategy_config.options.ranking = 'evolution'
    lines = []
    result = search(cfg, data, tmp_path, printer=lines.append)
    ranking = pd.read_csv(tmp_path / 'search' / 'candidates.csv')
    assert len(ranking) == 10 and ranking['arch'].nunique() == 10 and ranking['val_mae'].is_monotonic_increasing
    assert json.loads(ranking['arch'][0]) == result.arch == json.loads((tmp_path / 'arch.json').read_text())
    assert any('evolution generation 4, 10 architectures scored' in line for line in lines)


def test_spos_with_a_threshold_derivation_is_one_line(tmp_path):
    r = run_cli('run', '--set', 'strategy=spos', '--set', 'search.derive=threshold', '--out', tmp_path / 'run')
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and "'search.derive'" in r.stderr and 'spos' in r.stderr
    assert not (tmp_path / 'run').exists()


def test_the_spos_example_is_the_mosi_example_with_the_spos_schedule():
    from rmnas_nni.config import load_run_config
    base, spos = load_run_config('examples/mosi_dialogue.yml'), load_run_config('examples/mosi_dialogue_spos.yml')
    assert spos.strategy_config.strategy == 'spos' and spos.strategy_config.weights_optimizer.lr == 1e-3
    assert (spos.search.epochs, spos.search.export) == (10, 'final')
    assert spos.data == base.data and spos.retrain == base.retrain and spos.space == base.space


def ranked_search(out, **options):
    """A SPOS search of 6 candidates with ``strategy_config.options`` set, on small synthetic data, into ``out``:
    ``(cfg, data, result, printed lines, candidates.csv, its architectures)``; the ranking is checked to be best
    first and its first the exported architecture."""
    data = make_synthetic('sentence', sizes={'train': 64, 'valid': 32, 'test': 32})
    cfg = spos_config(epochs=1, candidates=6)
    for key, value in options.items():
        setattr(cfg.strategy_config.options, key, value)
    lines = []
    result = search(cfg, data, out, printer=lines.append)
    ranking = pd.read_csv(out / 'search' / 'candidates.csv')
    archs = [json.loads(a) for a in ranking['arch']]
    assert archs[0] == result.arch and ranking['val_mae'].is_monotonic_increasing
    return cfg, data, result, lines, ranking, archs


def test_several_supernets_rank_by_the_mean_of_their_scores_and_each_is_the_search_of_its_seed(tmp_path):
    """``options.supernets: 2``: the second supernet is what a run of seed 1000 trains on its own, and
    each candidate's score is the mean of its scores under the two."""
    cfg, data, result, lines, ranking, archs = ranked_search(tmp_path / 'two', supernets=2)
    assert (tmp_path / 'two' / 'search' / 'supernet1' / 'metrics.csv').is_file()
    assert any(line.startswith('search, supernet 2/2 (seed 1000) epoch 1/1') for line in lines)
    assert any("6 architectures ranked with 2 supernets' weights (mean)" in line for line in lines)
    alone = []
    for seed in (0, 1000):
        one = spos_config(epochs=1, candidates=6)
        one.seed = seed
        alone.append(search(one, data, tmp_path / f'seed{seed}', printer=lambda line: None).oneshot)
    kind, _ = select_metric_of(cfg, data)
    loader = make_loader(data.splits['valid'], data.level, 16, shuffle=False)
    each = [single_path.score_single_paths(o, archs, loader, task=data.task, metric_kind=kind) for o in alone]
    for i in range(len(archs)):
        mean = (each[0][i][1]['mae'] + each[1][i][1]['mae']) / 2
        assert ranking['val_mae'][i] == pytest.approx(mean, rel=1e-5)
    assert each[0][0][1]['mae'] != pytest.approx(each[1][0][1]['mae'], rel=1e-6)   # two different supernets


def test_several_supernets_for_darts_is_one_line(tmp_path):
    r = run_cli('run', '--set', 'strategy_config.options.supernets=2', '--out', tmp_path / 'run')
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and "'strategy_config.options.supernets'" in r.stderr
    assert not (tmp_path / 'run').exists()


def test_training_folds_cut_the_training_split_into_disjoint_parts_of_near_equal_size():
    from rmnas_nni.pipeline import train_folds
    folds = train_folds(62, 5, seed=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(62))
    assert sorted(len(f) for f in folds) == [12, 12, 12, 13, 13]
    assert all((np.diff(f) > 0).all() for f in folds)
    assert [f.tolist() for f in train_folds(62, 5, seed=3)] == [f.tolist() for f in folds]
    assert [f.tolist() for f in train_folds(62, 5, seed=4)] != [f.tolist() for f in folds]


def test_fold_supernets_train_without_their_fold_and_the_ranking_is_the_mean_over_validation_and_the_folds(tmp_path):
    """``options.folds: 2``: fold supernet k is what a run of seed 1000 k trains on the training samples
    outside fold k; a candidate's score is the mean of the first supernet's on validation and each fold
    supernet's on its held-out fold; the run's validation figures are the validation ones alone."""
    from rmnas_nni.pipeline import train_folds
    cfg, data, result, lines, ranking, archs = ranked_search(tmp_path / 'folds', folds=2)
    assert (tmp_path / 'folds' / 'search' / 'fold2' / 'metrics.csv').is_file()
    assert any(line.startswith('search, fold 2/2 (seed 2000, 32 training samples, 32 held out) epoch 1/1')
               for line in lines)
    assert any('6 architectures ranked with the supernet on validation and 2 on their held-out training folds'
               in line for line in lines)

    kind, _ = select_metric_of(cfg, data)
    train = data.splits['train']
    main = spos_config(epochs=1, candidates=6)
    scores = [single_path.score_single_paths(
        search(main, data, tmp_path / 'main', printer=lambda line: None).oneshot, archs,
        make_loader(data.splits['valid'], data.level, 16, shuffle=False), task=data.task, metric_kind=kind)]
    for k, held_out in enumerate(train_folds(len(train), 2, 0), start=1):
        rows = np.setdiff1d(np.arange(len(train)), held_out)
        alone = spos_config(epochs=1, candidates=6)
        alone.seed = 1000 * k
        sub = data.with_splits({**data.splits, 'train': train.subset(rows)})
        oneshot = search(alone, sub, tmp_path / f'fold{k}', printer=lambda line: None).oneshot
        scores.append(single_path.score_single_paths(
            oneshot, archs, make_loader(train.subset(held_out), data.level, 16, shuffle=False),
            task=data.task, metric_kind=kind))
    for i in range(len(archs)):
        assert ranking['val_mae'][i] == pytest.approx(np.mean([s[i][1]['mae'] for s in scores]), rel=1e-5)
    assert result.val_metrics['mae'] == pytest.approx(scores[0][0][1]['mae'], rel=1e-6)
    assert scores[1][0][1]['mae'] != pytest.approx(scores[2][0][1]['mae'], rel=1e-6)


@pytest.mark.parametrize('sets, key, says', [
    (['strategy_config.options.folds=2'], 'folds', 'ranks no architectures'),
    (['strategy=spos', 'strategy_config.options.folds=1'], 'folds', 'at least 2'),
    (['strategy=spos', 'strategy_config.options.folds=2', 'strategy_config.options.supernets=2'], 'folds',
     'set one of them'),
    (['strategy_config.options.all_modalities=true'], 'all_modalities', 'ranks no candidates'),
    (['strategy=spos', 'strategy_config.options.all_modalities=true', 'strategy_config.options.ranking=evolution'],
     'all_modalities', 'only with'),
])
def test_spos_ranking_options_outside_spos_or_in_a_bad_combination_are_one_line(tmp_path, sets, key, says):
    args = [a for s in sets for a in ('--set', s)]
    r = run_cli('run', *args, '--out', tmp_path / 'run')
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and f"options.{key}'" in r.stderr and says in r.stderr
    assert not (tmp_path / 'run').exists()


def test_an_ensemble_of_the_ranking_retrains_the_next_best_architectures_each_from_its_member_seed(tmp_path):
    """``retrain.ensemble_of: ranking``: member k is the (k+1)-th architecture of candidates.csv, trained
    as a single retraining of it from seed 1000 k would be; the loaded run predicts the members' mean."""
    from rmnas_nni.errors import ArchitectureError
    from rmnas_nni.metrics import compute_metrics
    from rmnas_nni.pipeline import load_retrained, retrain, run
    from rmnas_nni.trainer import predict
    data = make_synthetic('sentence', sizes={'train': 64, 'valid': 32, 'test': 32})
    cfg = spos_config(epochs=1, candidates=6)
    cfg.retrain.epochs, cfg.retrain.min_epochs, cfg.retrain.batch_size = 2, 0, 16
    cfg.retrain.ensemble, cfg.retrain.ensemble_of = 2, 'ranking'
    lines = []
    run(cfg, tmp_path / 'rk', data=(data, {}), quiet=True)
    log = (tmp_path / 'rk' / 'log.txt').read_text()
    assert "retrain: ensemble of the ranking, members' architectures ranked 1, 2" in log
    assert 'retrain 2/2 (seed 1000, member architecture 2)' in log
    ranking = pd.read_csv(tmp_path / 'rk' / 'search' / 'candidates.csv')
    members = json.loads((tmp_path / 'rk' / 'arch_members.json').read_text())
    assert members == [json.loads(a) for a in ranking['arch'][:2]]
    assert members[0] == json.loads((tmp_path / 'rk' / 'arch.json').read_text()) and members[0] != members[1]
    metrics = json.loads((tmp_path / 'rk' / 'metrics.json').read_text())
    assert metrics['ensemble_of'] == 'ranking' and [m['seed'] for m in metrics['members']] == [0, 1000]

    alone = spos_config(epochs=1, candidates=6)
    alone.retrain.epochs, alone.retrain.min_epochs, alone.retrain.batch_size = 2, 0, 16
    alone.seed = 1000
    second = retrain(alone, data, members[1], tmp_path / 'second', printer=lines.append)
    assert second['valid'] == metrics['members'][1]['valid']
    assert (tmp_path / 'second' / 'retrain' / 'history.csv').read_text() == \
        (tmp_path / 'rk' / 'retrain' / 'member1' / 'history.csv').read_text()

    _, _, model, _ = load_retrained(tmp_path / 'rk')
    loader = make_loader(data.splits['test'], data.level, 16, shuffle=False)
    pred, label = predict(model, loader, data.task)
    member_preds = [predict(m, loader, data.task)[0] for m in model.members]
    np.testing.assert_allclose(pred, np.mean(member_preds, axis=0), rtol=1e-5, atol=1e-6)
    kind, _ = select_metric_of(cfg, data)
    assert compute_metrics(pred, label, kind) == pytest.approx(metrics['test'])
    members_file = tmp_path / 'rk' / 'arch_members.json'
    members_file.write_text(json.dumps(members[:1]))
    with pytest.raises(ArchitectureError, match=r"arch_members.json: top level: expected a list of 2 architectures"):
        load_retrained(tmp_path / 'rk')
    members_file.write_text(json.dumps([members[0], {**members[1], 'text/block0/mixer': 'nope'}]))
    with pytest.raises(ArchitectureError, match=r"arch_members.json \[1\]: key 'text/block0/mixer'"):
        load_retrained(tmp_path / 'rk')
    members_file.write_text('[{')
    with pytest.raises(ArchitectureError, match='arch_members.json: not valid JSON'):
        load_retrained(tmp_path / 'rk')

    # no ranking in the run directory (rmnas retrain, a baseline variant): seeds of one architecture, said so
    lines = []
    retrain(cfg, data, members[1], tmp_path / 'plain', printer=lines.append)
    assert any('no ranking' in line and 'seeds of one architecture' in line for line in lines)
    assert not (tmp_path / 'plain' / 'arch_members.json').exists()
    assert json.loads((tmp_path / 'plain' / 'metrics.json').read_text())['ensemble_of'] == 'seeds'


def test_an_ensemble_of_the_ranking_for_darts_and_a_broken_members_file_are_one_line(tmp_path):
    r = run_cli('run', '--set', 'retrain.ensemble=2', '--set', 'retrain.ensemble_of=ranking', '--out', tmp_path / 'run')
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and "'retrain.ensemble_of'" in r.stderr and 'spos' in r.stderr
    assert not (tmp_path / 'run').exists()


def test_more_folds_than_training_samples_is_refused_before_anything_trains(tmp_path):
    from rmnas_nni.errors import ConfigError
    data = make_synthetic('sentence', sizes={'train': 8, 'valid': 8, 'test': 8})
    cfg = spos_config(epochs=1, candidates=2)
    cfg.strategy_config.options.folds = 9
    with pytest.raises(ConfigError, match="'strategy_config.options.folds': 9 folds of a training split of 8"):
        search(cfg, data, tmp_path / 'run', printer=lambda line: None)
    assert not (tmp_path / 'run' / 'search' / 'metrics.csv').exists()


def test_candidates_among_architectures_that_read_every_modality_keep_the_draw_order():
    """draw_candidates(keep=...): the first n draws of the same sequence that keep accepts."""
    from rmnas_nni.figures import describe_architecture, fused_modalities
    from rmnas_nni.pipeline import build_space
    data = make_synthetic('sentence', sizes={'train': 16, 'valid': 8, 'test': 8})
    cfg = load_config(None, {'strategy': 'spos'})     # the default space: its draws can read every modality
    space = build_space(cfg, data)
    every = list(cfg.data.modalities)
    reads_all = lambda a: fused_modalities(describe_architecture(a, {}, cfg)) == every        # noqa: E731
    plain = draw_candidates(space, 0, 60, 10_000)
    assert 0 < sum(map(reads_all, plain)) < 60                  # the plain draws include ones that leave one out
    kept = draw_candidates(space, 0, 12, 10_000, keep=reads_all)
    assert len(kept) == 12 and all(map(reads_all, kept))
    ok = [a for a in plain if reads_all(a)]
    assert len(ok) < 12 and kept[:len(ok)] == ok               # the same sequence, drawn on past the first 60


def test_a_spos_search_among_architectures_that_read_every_modality_ranks_and_exports_only_those(tmp_path):
    from rmnas_nni.figures import describe_architecture, fused_modalities
    data = make_synthetic('sentence', sizes={'train': 64, 'valid': 32, 'test': 32})
    cfg = load_config(None, {'search': {'epochs': 1, 'batch_size': 16}, 'strategy': 'spos',   # the default space
                             'strategy_config': {'options': {'candidates': 8, 'panel': 3, 'all_modalities': True}}})
    result = search(cfg, data, tmp_path, printer=lambda s: None)
    ranking = pd.read_csv(tmp_path / 'search' / 'candidates.csv')
    assert len(ranking) == 8
    every = list(cfg.data.modalities)
    for arch in [json.loads(a) for a in ranking['arch']] + [result.arch]:
        assert fused_modalities(describe_architecture(arch, {}, cfg)) == every

