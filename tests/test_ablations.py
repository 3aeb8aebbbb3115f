"""Table 7 variants: each config transform, and the no-retrain weight transfer from the supernet."""
import copy
import random

import pytest
import torch
from nni.nas.strategy import DARTS

from conftest import LENS, MODS, TINY, random_batch
from rmnas_nni.ablations import apply_variant, check_variant
from rmnas_nni.pipeline import load_supernet
from rmnas_nni.weight_transfer import transfer_supernet_weights
from rmnas_nni.errors import ConfigError
from rmnas_nni.pipeline import build_fixed_model, build_space, load_config, search
from rmnas_nni.space import RMNASSpace


@pytest.fixture(scope='module')
def base_cfg():
    return load_config(None)


def test_full_changes_nothing(base_cfg):
    assert apply_variant(base_cfg, 'full') == base_cfg


def test_no_lst(base_cfg):
    cfg = apply_variant(base_cfg, 'no_lst')
    assert cfg.space.lst.enabled is False
    assert base_cfg.space.lst.enabled is True                     # the input is not modified
    rest = copy.deepcopy(cfg)
    rest.space.lst.enabled = True
    assert rest == base_cfg


def test_no_mixer_search(base_cfg):
    cfg = apply_variant(base_cfg, 'no_mixer_search')
    assert cfg.space.encoder.mixers == ['attention']
    assert cfg.space.lst.enabled is True
    assert cfg.retrain.weights == 'scratch'


def test_no_retrain(base_cfg):
    cfg = apply_variant(base_cfg, 'no_retrain')
    assert cfg.retrain.weights == 'supernet' and cfg.retrain.enabled is True
    assert cfg.space == base_cfg.space


def test_fusion_only(base_cfg):
    cfg = apply_variant(base_cfg, 'fusion_only')
    assert cfg.space.encoder.mixers == ['attention']
    assert cfg.space.lst.enabled is False
    assert cfg.space.fusion == base_cfg.space.fusion
    assert cfg.retrain.weights == 'scratch'


def test_combined_and_unknown_variants(base_cfg):
    cfg = apply_variant(base_cfg, 'no_lst+no_retrain')
    assert cfg.space.lst.enabled is False and cfg.retrain.weights == 'supernet'
    for bad, match in (('no_such', 'unknown variant'), ('full+no_lst', 'does not combine'),
                       ('no_lst+no_lst', 'twice'), ('', 'expected a name')):
        with pytest.raises(ConfigError, match=match):
            check_variant(bad, '--variants')


@pytest.mark.parametrize('variant', ['full', 'no_lst', 'no_mixer_search', 'fusion_only'])
def test_variant_spaces(base_cfg, variant):
    """The transformed config builds the intended space: which choices are searched, whether LST exists."""
    from rmnas_nni.data.synthetic import make_synthetic
    cfg = apply_variant(base_cfg, variant)
    data = make_synthetic('sentence', sizes={'train': 4, 'valid': 4, 'test': 4})
    space = build_space(cfg, data)
    labels = list(space.simplify())
    mixer_labels = [l for l in labels if l.endswith('/mixer')]
    fusion_labels = [l for l in labels if l.startswith('fusion/')]
    assert fusion_labels                                                     # fusion always searched
    searched_mixers = variant in ('full', 'no_lst')
    assert bool(mixer_labels) == searched_mixers
    has_lst = variant in ('full', 'no_mixer_search')
    assert all((enc.lst is not None) == has_lst for enc in space.encoders.values())


def _one_hot(supernet, arch):
    """Make every choice weight one-hot on the architecture's choice (logits +-1e4: exact in float32)."""
    with torch.no_grad():
        for _, m in supernet.named_modules():
            if not hasattr(m, '_arch_alpha') or getattr(m, 'label', None) not in arch:
                continue
            value = arch[m.label]
            index = value[0] if isinstance(value, list) else list(m.names).index(value)
            m._arch_alpha.fill_(-1e4)
            m._arch_alpha[index] = 1e4


def _random_arch(space, seed):
    rng = random.Random(seed)
    arch = {}
    for label, mutable in space.simplify().items():
        values = list(mutable.values)
        arch[label] = [rng.choice(values)] if hasattr(mutable, 'n_chosen') else rng.choice(values)
    return arch


@pytest.mark.parametrize('level', ['sentence', 'dialogue'])
@pytest.mark.parametrize('seed', [0, 1])
def test_transferred_fixed_net_equals_one_hot_supernet(level, seed):
    torch.manual_seed(seed)
    space = RMNASSpace(MODS, LENS, level=level, out_dim=1, **TINY)
    supernet = DARTS().mutate_model(space)
    with torch.no_grad():                               # move every weight away from its initial value
        for p in supernet.parameters():
            p.add_(0.05 * torch.randn_like(p))
    arch = _random_arch(space, seed)
    mixers = {v for k, v in arch.items() if k.endswith('/mixer')}
    assert len(mixers) > 1                              # the draw covers several candidate kinds
    _one_hot(supernet, arch)
    with torch.no_grad():
        from nni.nas.space import model_context
        torch.manual_seed(123)                          # a different initialisation than the supernet's
        with model_context(arch):
            fixed = RMNASSpace(MODS, LENS, level=level, out_dim=1, **TINY)
    transfer_supernet_weights(supernet, fixed, arch)
    supernet.eval()
    fixed.eval()
    inputs, masks = random_batch(level)
    with torch.no_grad():
        expected = supernet(inputs, masks)
        got = fixed(inputs, masks)
    torch.testing.assert_close(got['fused'], expected['fused'], rtol=1e-5, atol=1e-5)
    for m in MODS:
        torch.testing.assert_close(got['unimodal'][m], expected['unimodal'][m], rtol=1e-5, atol=1e-5)
    # the check can fail: the fixed net of another architecture, given the same weights, differs
    other = dict(arch)
    label = next(k for k in arch if k.endswith('/op'))
    other[label] = next(v for v in ('concat_fc', 'linear_glu') if v != arch[label])
    with model_context(other):
        wrong = RMNASSpace(MODS, LENS, level=level, out_dim=1, **TINY)
    transfer_supernet_weights(supernet, wrong, other)
    wrong.eval()
    with torch.no_grad():
        assert not torch.allclose(wrong(inputs, masks)['fused'], expected['fused'], atol=1e-4)


def test_transfer_is_strict():
    """Weights left over or missing are errors, not silently ignored."""
    from nni.nas.space import model_context
    torch.manual_seed(0)
    space = RMNASSpace(MODS, LENS, out_dim=1, **TINY)
    supernet = DARTS().mutate_model(space)
    arch = _random_arch(space, 0)
    with_attention = dict(arch, **{'text/block0/mixer': 'attention'})
    with_identity = dict(arch, **{'text/block0/mixer': 'identity'})
    with model_context(with_attention):
        fixed = RMNASSpace(MODS, LENS, out_dim=1, **TINY)
    with pytest.raises(RuntimeError, match='Missing key.*text.blocks.0.mixer.qkv'):
        transfer_supernet_weights(supernet, fixed, with_identity)
    with model_context(with_identity):
        fixed = RMNASSpace(MODS, LENS, out_dim=1, **TINY)
    with pytest.raises(RuntimeError, match='Unexpected key.*text.blocks.0.mixer.qkv'):
        transfer_supernet_weights(supernet, fixed, with_attention)


def test_supernet_reloaded_from_checkpoint_equals_the_searched_one(tmp_path):
    """``no_retrain`` continued after an interruption uses the same weights as right after the search."""
    from rmnas_nni.data.synthetic import make_synthetic
    cfg = load_config(None, {'search': {'epochs': 1, 'batch_size': 16}})
    cfg.space.encoder.update(d_model=8, n_blocks=1, n_heads=2, ffn_ratio=1)
    cfg.space.fusion.update(width=8, n_cells=1, n_steps=1, attention_chunks=2)
    data = make_synthetic('sentence', sizes={'train': 32, 'valid': 16, 'test': 16})
    result = search(cfg, data, tmp_path, printer=lambda s: None)
    reloaded = load_supernet(cfg, data, tmp_path)
    ref = result.supernet.state_dict()
    got = reloaded.state_dict()
    assert set(got) == set(ref)
    for k in ref:
        torch.testing.assert_close(got[k].cpu(), ref[k].cpu(), msg=k)
    # the two transfers give the same fixed network
    a = transfer_supernet_weights(result.supernet, build_fixed_model(cfg, data, result.arch), result.arch)
    b = transfer_supernet_weights(reloaded, build_fixed_model(cfg, data, result.arch, seed=5), result.arch)
    for k, v in a.state_dict().items():
        torch.testing.assert_close(b.state_dict()[k], v)


def test_no_retrain_run_writes_a_model_that_evaluate_reproduces(tmp_path):
    """``retrain.weights: supernet``: no training; ``model.pt`` holds the transferred search weights."""
    from rmnas_nni.pipeline import evaluate_run, run
    cfg = apply_variant(load_config(None, {'search': {'epochs': 1, 'batch_size': 16},
                                           'data': {'options': {'sizes': {'train': 32, 'valid': 16, 'test': 16}},
                                                    'missing': {'rate': 0.3}}}), 'no_retrain')
    cfg.space.encoder.update(d_model=8, n_blocks=1, n_heads=2, ffn_ratio=1)
    cfg.space.fusion.update(width=8, n_cells=1, n_steps=1, attention_chunks=2)
    summary = run(cfg, tmp_path / 'r', quiet=True)
    assert summary['weights'] == 'supernet' and summary['epochs_run'] == 0
    assert not (tmp_path / 'r' / 'retrain').exists()
    assert (tmp_path / 'r' / 'architecture.png').is_file()
    again = evaluate_run(tmp_path / 'r')
    for k, v in summary['test'].items():
        assert again[k] == pytest.approx(v, rel=1e-5, abs=1e-6), k
    # the model holds the supernet's weights of the chosen candidates, not a fresh initialisation
    saved = torch.load(tmp_path / 'r' / 'model.pt', weights_only=True)
    ckpt = torch.load(tmp_path / 'r' / 'search' / 'checkpoints' / 'best.ckpt', weights_only=False)['state_dict']
    key = 'head.1.weight'
    torch.testing.assert_close(saved[key], ckpt['training_module._model.' + key])


# ------------------------------------------------------------------------------ Table 7 as printed

T7 = ['t7_no_search', 't7_fusion_search', 't7_mixer_search', 't7_full']


def test_table7_expands_to_its_four_rows_in_order(base_cfg):
    from rmnas_nni.sweep import resolve_sweep
    assert resolve_sweep(base_cfg, variants=['table7']).variants == T7
    assert resolve_sweep(base_cfg, variants=['table7', 'no_lst']).variants == T7 + ['no_lst']
    cfg = load_config(None, {'sweep': {'variants': ['table7']}})
    assert resolve_sweep(cfg).variants == T7
    with pytest.raises(ConfigError, match='names several variants'):
        check_variant('table7', '--variant')
    with pytest.raises(ConfigError, match='given twice'):
        resolve_sweep(base_cfg, variants=['table7', 't7_full'])


def test_table7_rows_are_cumulative(base_cfg):
    rows = {v: apply_variant(base_cfg, v) for v in T7}
    assert rows['t7_full'] == base_cfg
    # + retraining: the only difference between rows 3 and 4
    three = copy.deepcopy(rows['t7_mixer_search'])
    assert three.retrain.weights == 'supernet'
    three.retrain.weights = 'scratch'
    assert three == base_cfg
    # + token-mixer search: the only difference between rows 2 and 3
    two = copy.deepcopy(rows['t7_fusion_search'])
    assert two.space.encoder.mixers == ['attention'] and two.space.lst.enabled is True
    two.space.encoder.mixers = base_cfg.space.encoder.mixers
    assert two == rows['t7_mixer_search']
    # no search, no retraining: the hand-designed network, trained once as the search trains weights
    one = rows['t7_no_search']
    s, w = base_cfg.search, base_cfg.strategy_config.weights_optimizer
    assert one.search.method == 'hand_designed' and one.space == base_cfg.space
    assert one.retrain.weights == 'scratch'
    r = one.retrain
    assert (r.epochs, r.batch_size, r.patience, r.min_epochs) == (
        s.epochs, s.batch_size, s.patience, s.min_epochs)
    assert (r.lr, r.weight_decay, r.grad_clip) == (
        w.lr, w.weight_decay, base_cfg.strategy_config.options.gradient_clip_val)
    assert (r.epochs, r.lr) != (base_cfg.retrain.epochs, base_cfg.retrain.lr)


def test_table7_sweep_lists_the_papers_rows_in_order(tmp_path):
    import json
    from rmnas_nni.sweep import resolve_sweep, run_sweep
    from test_sweep import MICRO_SPACE
    space = tmp_path / 'micro.yml'
    space.write_text(MICRO_SPACE)
    cfg = load_config(None, {'threads': 1, 'device': 'cpu', 'search_space': str(space),
                             'data': {'options': {'sizes': {'train': 32, 'valid': 16, 'test': 16}}},
                             'search': {'epochs': 2, 'batch_size': 16},
                             'retrain': {'epochs': 3, 'batch_size': 16}})
    spec = resolve_sweep(cfg, rates=[0.0], variants=['table7', 'no_lst'])
    lines = []
    result = run_sweep(cfg, spec, tmp_path / 'sweep', quiet=True, printer=lines.append)
    assert not result.failed and len(result.ran) == 5
    summary = [line for line in '\n'.join(lines).splitlines() if line.split() and line.split()[0] in T7 + ['no_lst']
               and line.split()[1] in ('0', 'AUILC')]
    assert [line.split()[0] for line in summary if line.split()[1] == '0'] == T7 + ['no_lst']
    text = '\n'.join(lines)
    for v, label in (('t7_no_search', 'no search, no retraining'), ('t7_fusion_search', 'fusion search'),
                     ('t7_mixer_search', '+ token-mixer search'), ('t7_full', '+ retraining (RMNAS)'),
                     ('no_lst', 'w/o LST (not in the paper)')):
        assert f'{v}: {label}' in text and f'* {v}: {label}' in (tmp_path / 'sweep' / 'sweep.md').read_text()
    cells = tmp_path / 'sweep' / 'cells'
    m = {v: json.loads((cells / v / 'r0-s0' / 'metrics.json').read_text()) for v in T7}
    assert m['t7_no_search']['epochs_run'] <= 2 and m['t7_full']['epochs_run'] == 3
    assert m['t7_fusion_search']['weights'] == m['t7_mixer_search']['weights'] == 'supernet'
    assert 'weights' not in m['t7_full']
    arch = json.loads((cells / 't7_fusion_search' / 'r0-s0' / 'arch.json').read_text())
    assert not any(k.endswith('/mixer') for k in arch)                     # only the fusion was searched
    assert any(k.endswith('/mixer') for k in json.loads((cells / 't7_mixer_search' / 'r0-s0' / 'arch.json').read_text()))
