import json

import numpy as np
import pytest
import torch

from conftest import ROOT
from rmnas_nni.config import load_strategy_config
from rmnas_nni.data import make_loader
from rmnas_nni.data.synthetic import make_synthetic
from rmnas_nni.pipeline import build_fixed_model, check_architecture, load_config, search
from rmnas_nni.search_strategy import RMNASTrainingModule, build_strategy
from rmnas_nni.space import RMNASSpace

SMALL = {'encoder': {'d_model': 16, 'n_blocks': 1, 'n_heads': 2, 'ffn_ratio': 2},
         'fusion': {'width': 8, 'n_cells': 1, 'n_steps': 2, 'attention_chunks': 2}}


def small_data(level='sentence'):
    sizes = {'train': 64, 'valid': 32, 'test': 32} if level == 'sentence' else {'train': 16, 'valid': 8, 'test': 8}
    return make_synthetic(level, sizes=sizes)


def oneshot_for(strategy_file, data):
    cfg = load_strategy_config(ROOT / 'strategies' / strategy_file)
    strategy = build_strategy(cfg, seed=0)
    space = RMNASSpace(data.dims, data.max_lengths, level=data.level, d_model=16, n_blocks=1, n_heads=2,
                       ffn_ratio=2, fusion_width=8, n_cells=1, attention_chunks=2)
    supernet = strategy.mutate_model(space)
    training = RMNASTrainingModule(data.task, 'mosi', 'mae', cfg.weights_optimizer)
    training.set_model(supernet)
    return cfg, strategy.configure_oneshot_module(training), supernet


@pytest.mark.parametrize('strategy_file', ['darts.yml', 'gumbel_darts.yml'])
def test_architecture_step_is_sgd_at_configured_lr(strategy_file):
    data = small_data()
    cfg, oneshot, supernet = oneshot_for(strategy_file, data)
    opt = oneshot.configure_architecture_optimizers()
    assert isinstance(opt, torch.optim.SGD)
    assert opt.param_groups[0]['lr'] == cfg.architecture_optimizer.lr == 5.0
    alphas = oneshot.arch_parameters()
    assert len(alphas) == len(RMNASSpace(data.dims, data.max_lengths, d_model=16, n_blocks=1, n_heads=2,
                                         ffn_ratio=2, fusion_width=8, n_cells=1, attention_chunks=2).simplify())
    # weights optimizer (AdamW) must not hold the architecture parameters
    weight_opt = oneshot.postprocess_weight_optimizers(oneshot.training_module.configure_optimizers())
    assert isinstance(weight_opt, torch.optim.AdamW)
    held = {id(p) for g in weight_opt.param_groups for p in g['params']}
    assert not any(id(a) in held for a in alphas)
    torch.manual_seed(0)
    batch = next(iter(make_loader(data.splits['valid'], data.level, 16, shuffle=False)))
    before = [a.detach().clone() for a in alphas]
    opt.zero_grad()
    from rmnas_nni.losses import rmnas_loss
    rmnas_loss(supernet(batch['inputs'], batch['masks']), batch, data.task).backward()
    grads = [a.grad.detach().clone() for a in alphas]
    opt.step()
    moved = 0
    for a, b, g in zip(alphas, before, grads):
        torch.testing.assert_close(a.detach(), b - 5.0 * g)
        moved += int(not torch.equal(a.detach(), b))
    assert moved > len(alphas) // 2


def test_search_moves_weights_and_exports_nni_format(tmp_path):
    cfg = load_config(None, {'search': {'epochs': 2, 'batch_size': 16}})
    cfg.space.encoder.update(SMALL['encoder'])
    cfg.space.fusion.update(SMALL['fusion'])
    cfg.strategy_config.options.log_prob_every_n_step = 2
    data = small_data()
    result = search(cfg, data, tmp_path, printer=lambda s: None)
    arch = json.loads((tmp_path / 'arch.json').read_text())
    probs = json.loads((tmp_path / 'arch_probs.json').read_text())
    assert arch == result.arch and set(arch) == set(probs)
    for label, dist in probs.items():
        assert abs(sum(dist.values()) - 1) < 1e-5
    # SGD lr 5 for 2 epochs moves the weights well away from uniform
    spread = max(max(d.values()) - min(d.values()) for d in probs.values())
    assert spread > 0.05
    # argmax of the weights is what was exported
    for label, dist in probs.items():
        best = max(dist, key=dist.get)
        assert (arch[label] == [int(best)]) if isinstance(arch[label], list) else (arch[label] == best)
    space = RMNASSpace(data.dims, data.max_lengths, **{'d_model': 16, 'n_blocks': 1, 'n_heads': 2, 'ffn_ratio': 2,
                                                       'fusion_width': 8, 'n_cells': 1, 'attention_chunks': 2})
    check_architecture(arch, space)
    fixed = build_fixed_model(cfg, data, arch)
    batch = next(iter(make_loader(data.splits['test'], data.level, 8, shuffle=False)))
    assert fixed(batch['inputs'], batch['masks'])['fused'].shape == (8,)
    assert (tmp_path / 'search' / 'checkpoints' / 'last.ckpt').is_file()
    assert result.best_epoch in (1, 2)
    # best.ckpt: the weights of the best epoch only; last.ckpt: everything a resume needs
    best = torch.load(tmp_path / 'search' / 'checkpoints' / 'best.ckpt', weights_only=False)
    last = torch.load(tmp_path / 'search' / 'checkpoints' / 'last.ckpt', weights_only=False)
    assert best['epoch'] + 1 == result.best_epoch and 'state_dict' in best and 'optimizer_states' not in best
    assert last['epoch'] == 1 and len(last['optimizer_states']) == 2 and 'rng_states' in last
    # metrics.csv: the choice weights every 2nd step (4 steps an epoch: steps 0, 2, 4, 6), one validation per epoch
    import pandas as pd
    log = pd.read_csv(tmp_path / 'search' / 'metrics.csv')
    prob_cols = [c for c in log.columns if c.startswith('prob/')]
    assert {c.rsplit('/', 1)[0][len('prob/'):] for c in prob_cols} == set(probs)
    rows = log.dropna(subset=prob_cols)
    assert rows['step'].tolist() == [0, 2, 4, 6] and rows['epoch'].tolist() == [0, 0, 1, 1]
    for label in probs:
        cols = [c for c in prob_cols if c.rsplit('/', 1)[0] == f'prob/{label}']
        np.testing.assert_allclose(rows[cols].sum(axis=1), 1.0, atol=1e-5)
    assert log.dropna(subset=['val_select'])['epoch'].tolist() == [0, 1]


@pytest.mark.filterwarnings('ignore:.*treespec')
@pytest.mark.parametrize('strategy_file', ['darts.yml', 'gumbel_darts.yml'])
def test_architecture_step_without_weight_gradients_matches_nni_step(tmp_path, monkeypatch, strategy_file):
    """The project's DARTS step (no weight gradients in the architecture step) searches as NNI's own step does."""
    from nni.nas.oneshot.pytorch.differentiable import DartsLightningModule
    from rmnas_nni.search_strategy import ArchitectureOptimizerMixin, run_search, seed_epoch
    data = small_data()
    cfg = load_strategy_config(ROOT / 'strategies' / strategy_file)

    def search(out, spy=None):
        seed_epoch(0, -1)
        space = RMNASSpace(data.dims, data.max_lengths, level=data.level, d_model=16, n_blocks=1, n_heads=2,
                           ffn_ratio=2, fusion_width=8, n_cells=1, attention_chunks=2)
        loaders = [make_loader(data.splits[s], data.level, 16, shuffle=sh, seed=k)
                   for s, sh, k in (('train', True, 0), ('valid', True, 1), ('valid', False, 0))]
        if spy is not None:
            spy.space = space                                # the strategy makes the supernet in place
        return run_search(space, *loaders, task=data.task, metric_kind='mosi', select_metric='mae',
                          strategy_cfg=cfg, epochs=1, patience=8, seed=0, out_dir=out, device='cpu',
                          printer=lambda s: None)

    class Spy:
        """Records, at every backward, whether any weight (not an architecture parameter) wants a gradient."""
        space = None
        calls = []
        backward = torch.Tensor.backward

        def __call__(self, loss, *args, **kwargs):
            self.calls.append(any(p.requires_grad for n, p in self.space.named_parameters() if '_arch_' not in n))
            return Spy.backward(loss, *args, **kwargs)

    spy = Spy()
    with monkeypatch.context() as m:
        m.setattr(torch.Tensor, 'backward', lambda loss, *a, **k: spy(loss, *a, **k))
        result = search(tmp_path / 'ours', spy)
    assert len(spy.calls) == 8                                                     # 4 batches: arch, weight
    assert spy.calls[0::2] == [False] * 4 and spy.calls[1::2] == [True] * 4
    with monkeypatch.context() as m:
        m.setattr(ArchitectureOptimizerMixin, 'training_step', DartsLightningModule.training_step)
        reference = search(tmp_path / 'nni')
    assert result.arch == reference.arch
    mine, theirs = result.supernet.state_dict(), reference.supernet.state_dict()
    assert set(mine) == set(theirs)
    for key in mine:
        if '_arch_' in key:       # SGD on the same gradients, up to float32 rounding of sums taken in another order
            torch.testing.assert_close(mine[key], theirs[key], rtol=0, atol=1e-6, msg=key)
        elif mine[key].is_floating_point():
            # AdamW moves a weight by about lr (5e-4) a step whatever its gradient's size, so a gradient
            # that is zero up to rounding may move it either way: 4 steps, at most 4 lr apart
            torch.testing.assert_close(mine[key], theirs[key], rtol=0, atol=4 * 5e-4 + 1e-6, msg=key)


@pytest.mark.parametrize('derive', ['argmax', 'threshold'])
def test_gated_fusion_search_runs_end_to_end(tmp_path, derive):
    """fusion.input_selection: gates (eq. 13) through search, export, derivation, retrain and the no-retrain path."""
    from rmnas_nni.pipeline import evaluate_search_weights
    from rmnas_nni.derivation import derive_architecture
    from rmnas_nni.pipeline import run
    cfg = load_config(None, {'search': {'epochs': 2, 'batch_size': 16, 'derive': derive},
                             'retrain': {'epochs': 1, 'batch_size': 16},
                             'space': {'fusion': {'input_selection': 'gates'}}})
    cfg.space.encoder.update(SMALL['encoder'])
    cfg.space.fusion.update(SMALL['fusion'])
    data = small_data()
    summary = run(cfg, tmp_path / 'run', data=(data, {}), quiet=True)
    arch = json.loads((tmp_path / 'run' / 'arch.json').read_text())
    probs = json.loads((tmp_path / 'run' / 'arch_probs.json').read_text())
    gates = [label for label in arch if '/cand' in label]
    assert len(gates) == 2 * 3 and set(arch[g] for g in gates) <= {'identity', 'zero'}    # N_c = 3 x 1 block
    assert all(set(probs[g]) == {'identity', 'zero'} for g in gates)
    argmax = {label: ([int(max(d, key=d.get))] if isinstance(arch[label], list) and
                      all(isinstance(v, int) for v in arch[label]) else max(d, key=d.get))
              for label, d in probs.items()}
    assert arch == derive_architecture(argmax, probs, derive, 0.2, exclude_zero=cfg.search.exclude_zero)
    if derive == 'threshold':
        kept = [v for v in arch.values() if isinstance(v, list) and isinstance(v[0], str)]
        assert kept and all(all(probs[l][n] >= 0.2 for n in v) for l, v in arch.items()
                            if isinstance(v, list) and isinstance(v[0], str))
    space = RMNASSpace(data.dims, data.max_lengths, fusion_input_selection='gates',
                       **{'d_model': 16, 'n_blocks': 1, 'n_heads': 2, 'ffn_ratio': 2, 'fusion_width': 8, 'n_cells': 1,
                          'attention_chunks': 2})
    check_architecture(arch, space)
    assert np.isfinite(summary['test']['mae'])
    assert (tmp_path / 'run' / 'architecture.png').is_file()
    nr = evaluate_search_weights(cfg, data, arch, tmp_path / 'run', printer=lambda s: None)
    assert np.isfinite(nr['test']['mae'])


def test_every_strategy_name_the_schema_accepts_builds_and_others_are_one_line(tmp_path):
    """Each name the strategy schema accepts builds an NNI strategy; any other is refused
    with one line naming the file and key, exit 2, and no run directory is written."""
    from conftest import run_cli
    from rmnas_nni.config import STRATEGY_SCHEMA, load_strategy_config
    from rmnas_nni.search_strategy import build_strategy
    accepted = [o for o in ('darts', 'gumbel_darts', 'spos', 'random_oneshot', 'enas', 'proxyless')
                if STRATEGY_SCHEMA['strategy'].check(o) is None]
    assert accepted == ['darts', 'gumbel_darts', 'spos']
    for name in accepted:
        path = tmp_path / f'{name}.yml'
        path.write_text(f'strategy: {name}\n')
        assert build_strategy(load_strategy_config(path)) is not None
    bad = tmp_path / 'random_oneshot.yml'
    bad.write_text('strategy: random_oneshot\n')
    r = run_cli('run', '--set', f'strategy={bad}', '--out', tmp_path / 'run')
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and 'random_oneshot' in r.stderr and "'strategy'" in r.stderr
    assert not (tmp_path / 'run').exists()


def test_warm_up_epochs_are_never_exported(tmp_path):
    """With options.warmup_epochs, the architecture does not move during the warm-up, and the exported
    epoch is one after it even when a warm-up epoch validates best."""
    from rmnas_nni.search_strategy import run_search, seed_epoch
    data = small_data()
    cfg = load_strategy_config(ROOT / 'strategies' / 'darts.yml', {'options': {'warmup_epochs': 2}})
    seed_epoch(0, -1)
    space = RMNASSpace(data.dims, data.max_lengths, level=data.level, d_model=16, n_blocks=1, n_heads=2,
                       ffn_ratio=2, fusion_width=8, n_cells=1, attention_chunks=2)
    loaders = [make_loader(data.splits[s], data.level, 16, shuffle=sh, seed=k)
               for s, sh, k in (('train', True, 0), ('valid', True, 1), ('valid', False, 0))]
    lines = []
    result = run_search(space, *loaders, task=data.task, metric_kind='mosi', select_metric='mae',
                        strategy_cfg=cfg, epochs=4, patience=8, seed=0, out_dir=tmp_path, device='cpu',
                        printer=lines.append)
    assert result.best_epoch in (3, 4)
    import pandas as pd
    choices = pd.read_csv(tmp_path / 'choices.csv').set_index(['label', 'candidate'])
    weights = {e: choices[choices['epoch'] == e]['weight'] for e in (1, 2, 3)}
    assert np.allclose(weights[1], weights[2], atol=1e-6)        # the architecture waits for the warm-up
    assert not np.allclose(weights[2], weights[3], atol=1e-4)    # then it moves
    assert sum('warm-up (weights only' in line for line in lines) == 2


def test_train_half_steps_the_architecture_on_half_the_training_split(tmp_path, monkeypatch):
    import rmnas_nni.pipeline as pipeline
    from rmnas_nni.errors import ConfigError
    cfg = load_config(None, {'search': {'epochs': 2, 'batch_size': 4, 'arch_data': 'train_half'}})
    cfg.space.encoder.update(SMALL['encoder'])
    cfg.space.fusion.update(SMALL['fusion'])
    data = small_data('dialogue')
    seen = {}

    def recording(space, train_loader, arch_loader, val_loader, **kwargs):
        seen.update(train=train_loader.dataset.split, arch=arch_loader.dataset.split, val=val_loader.dataset.split)
        return pipeline_run_search(space, train_loader, arch_loader, val_loader, **kwargs)

    pipeline_run_search = pipeline.run_search
    monkeypatch.setattr(pipeline, 'run_search', recording)
    search(cfg, data, tmp_path, printer=lambda s: None)
    train = data.splits['train']
    assert len(set(train.ids.tolist())) == len(train)
    weight_ids, arch_ids = set(seen['train'].ids.tolist()), set(seen['arch'].ids.tolist())
    assert weight_ids and arch_ids and not weight_ids & arch_ids
    assert weight_ids | arch_ids == set(train.ids.tolist())
    assert len(weight_ids) - len(arch_ids) in (0, 1)
    assert seen['val'] is data.splits['valid']
    # the halves are those of the seed, the same in every run
    a, b = pipeline.train_halves(len(train), cfg.seed)
    assert set(train.ids[a].tolist()) == weight_ids and set(train.ids[b].tolist()) == arch_ids
    # architecture steps happened: the choice weights left uniform
    probs = json.loads((tmp_path / 'arch_probs.json').read_text())
    assert max(max(d.values()) - min(d.values()) for d in probs.values()) > 0.05
    with pytest.raises(ConfigError, match="search.arch_data") as err:
        load_config(None, {'search': {'arch_data': 'test'}})
    assert '\n' not in str(err.value)


def test_train_half_redraws_each_half_from_the_epochs_training_masks():
    from rmnas_nni.config import load_run_config
    from rmnas_nni.data import prepare_data
    from rmnas_nni.pipeline import _RowsRedraw, train_halves
    cfg = load_run_config(None, {'data': {'level': 'dialogue', 'missing': {'rate': 0.5, 'redraw_train': True}}})
    data, _ = prepare_data(cfg.data)
    redraw, train = data.extra['train_redraw'], data.splits['train']
    for rows in train_halves(len(train), 3):
        loader = make_loader(train.subset(rows), data.level, 4, shuffle=True, seed=0, redraw=_RowsRedraw(redraw, rows))
        for epoch in (0, 2):
            loader.sampler.set_epoch(epoch)
            whole = redraw.split(epoch)
            for m in data.modalities:
                assert np.array_equal(loader.dataset.split.features[m], whole.features[m][rows])
