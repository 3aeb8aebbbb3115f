import json

import pytest
import torch
from nni.nas.space import model_context
from nni.nas.strategy import DARTS

from conftest import LENS, MODS, TINY, random_batch
from rmnas_nni.weight_transfer import transfer_supernet_weights
from rmnas_nni.derivation import KeptMean, derive_architecture
from rmnas_nni.errors import ArchitectureError
from rmnas_nni.pipeline import check_architecture
from rmnas_nni.space import RMNASSpace


def make_space(**kw):
    return RMNASSpace(MODS, LENS, level='sentence', out_dim=1, **dict(TINY, **kw))


ARCH = {'text/block0/mixer': 'attention', 'text/block1/mixer': 'pool',
        'fusion/cell0/input0': [3], 'fusion/cell0/step0/op': 'sum',
        'fusion/cell0/input1/cand2': 'zero', 'fusion/cell0/input1/cand3': 'identity',
        'fusion/cell1/step1/op': 'concat_fc'}
PROBS = {'text/block0/mixer': {'attention': 0.45, 'random_mixing': 0.2, 'pool': 0.19, 'identity': 0.16},
         'text/block1/mixer': {'attention': 0.1, 'random_mixing': 0.15, 'pool': 0.6, 'identity': 0.15},
         'fusion/cell0/input0': {'0': 0.3, '1': 0.1, '2': 0.25, '3': 0.35},
         'fusion/cell0/step0/op': {'zero': 0.19, 'sum': 0.21, 'attention': 0.2, 'linear_glu': 0.2,
                                   'concat_fc': 0.2},
         'fusion/cell0/input1/cand2': {'identity': 0.3, 'zero': 0.7},
         'fusion/cell0/input1/cand3': {'identity': 0.55, 'zero': 0.45},
         'fusion/cell1/step1/op': {'zero': 0.15, 'sum': 0.18, 'attention': 0.19, 'linear_glu': 0.19,
                                   'concat_fc': 0.29}}


def test_argmax_is_nni_export_unchanged():
    assert derive_architecture(ARCH, PROBS, 'argmax') == ARCH
    assert derive_architecture(ARCH, PROBS) == ARCH


def test_threshold_keeps_exactly_the_choices_at_or_above_it():
    got = derive_architecture(ARCH, PROBS, 'threshold', 0.2)
    assert got['text/block0/mixer'] == ['attention', 'random_mixing']          # 0.45, 0.2; not 0.19
    assert got['text/block1/mixer'] == 'pool'                                  # one kept: a plain name
    assert got['fusion/cell0/step0/op'] == ['sum', 'attention', 'linear_glu', 'concat_fc']
    assert got['fusion/cell0/input0'] == [3]                                   # InputChoice: argmax
    assert got['fusion/cell0/input1/cand2'] == 'identity'                      # identity weight 0.3 >= 0.2
    assert got['fusion/cell0/input1/cand3'] == 'identity'
    assert got['fusion/cell1/step1/op'] == 'concat_fc'
    higher = derive_architecture(ARCH, PROBS, 'threshold', 0.4)
    assert higher['text/block0/mixer'] == 'attention' and higher['fusion/cell0/input1/cand2'] == 'zero'
    # nothing reaches the threshold: the argmax is kept
    assert higher['fusion/cell0/step0/op'] == 'sum' and higher['fusion/cell1/step1/op'] == 'concat_fc'
    assert ARCH['text/block0/mixer'] == 'attention'                           # input left alone
    with pytest.raises(ValueError, match='unknown derivation'):
        derive_architecture(ARCH, PROBS, 'top2')


def _default_arch(space):
    return {k: ([list(v.values)[0]] if hasattr(v, 'n_chosen') else list(v.values)[0])
            for k, v in space.simplify().items()}


def test_fixed_network_with_two_kept_mixers_averages_them():
    torch.manual_seed(0)
    space = make_space()
    arch = _default_arch(space)
    arch['text/block0/mixer'] = ['attention', 'pool']
    arch['fusion/cell0/step0/op'] = ['sum', 'concat_fc']
    check_architecture(arch, space)
    json.loads(json.dumps(arch))
    with model_context(arch):
        fixed = make_space()
    fixed.eval()
    mixer = fixed.encoders['text'].blocks[0].mixer
    assert isinstance(mixer, KeptMean) and mixer.names == ['attention', 'pool']
    x = torch.randn(2, 5, 16)
    mask = torch.ones(2, 5, dtype=torch.bool)
    bias = torch.zeros(2, 4, 5, 5)
    expected = (mixer.attention(x, bias, mask) + mixer.pool(x, bias, mask)) / 2
    torch.testing.assert_close(mixer(x, bias, mask), expected)
    assert not torch.allclose(mixer(x, bias, mask), mixer.attention(x, bias, mask))
    op = fixed.fusion.cells[0].steps[0].op
    a, b = torch.randn(3, 16), torch.randn(3, 16)
    torch.testing.assert_close(op(a, b), ((a + b) + op.concat_fc(a, b)) / 2)
    inputs, masks = random_batch('sentence')
    assert torch.isfinite(fixed(inputs, masks)['fused']).all()


def test_check_architecture_lists():
    space = make_space(fusion_input_selection='gates')
    arch = _default_arch(space)
    check_architecture(dict(arch, **{'text/block0/mixer': ['pool', 'identity']}), space)
    for bad in (['pool'], ['pool', 'pool'], ['pool', 'conv']):
        with pytest.raises(ArchitectureError, match='text/block0/mixer'):
            check_architecture(dict(arch, **{'text/block0/mixer': bad}), space)
    with pytest.raises(ArchitectureError, match='cand0'):
        check_architecture(dict(arch, **{'fusion/cell0/input0/cand0': ['identity', 'zero']}), space)


@pytest.mark.parametrize('gates', [False, True])
def test_supernet_weights_transfer_into_kept_candidates(gates):
    """A fixed network keeping two candidates equals the supernet with those two at weight 1/2 each."""
    torch.manual_seed(0)
    kw = {'fusion_input_selection': 'gates'} if gates else {}
    space = make_space(**kw)
    supernet = DARTS().mutate_model(space)
    with torch.no_grad():
        for p in supernet.parameters():
            p.add_(0.05 * torch.randn_like(p))
    arch = _default_arch(space)
    arch['text/block1/mixer'] = ['attention', 'random_mixing']
    arch['fusion/cell1/step0/op'] = ['linear_glu', 'concat_fc']
    if gates:
        arch['fusion/cell0/input1/cand4'] = 'zero'
    with torch.no_grad():
        for _, m in supernet.named_modules():
            if not hasattr(m, '_arch_alpha'):
                continue
            value = arch[m.label]
            keep = value if isinstance(value, list) and not hasattr(m, 'n_chosen') else None
            m._arch_alpha.fill_(-1e4)
            if keep is not None:
                for name in keep:
                    m._arch_alpha[list(m.names).index(name)] = 0.0
            else:
                m._arch_alpha[value[0] if isinstance(value, list) else list(m.names).index(value)] = 1e4
    torch.manual_seed(1)
    with model_context(arch):
        fixed = make_space(**kw)
    transfer_supernet_weights(supernet, fixed, arch)
    supernet.eval()
    fixed.eval()
    inputs, masks = random_batch('sentence')
    with torch.no_grad():
        torch.testing.assert_close(fixed(inputs, masks)['fused'], supernet(inputs, masks)['fused'],
                                   rtol=1e-5, atol=1e-5)


def test_architecture_text_and_figure_with_gates_and_kept_lists(tmp_path):
    from rmnas_nni.figures import architecture_text, describe_architecture, draw_architecture
    from rmnas_nni.config import RunConfig
    cfg = RunConfig.build({'data': {'modalities': ['text', 'audio']},
                           'space': {'encoder': {'n_blocks': 1, 'mixers': ['attention', 'pool']},
                                     'lst': {'enabled': True},
                                     'fusion': {'n_cells': 2, 'n_steps': 1, 'ops': ['sum', 'concat_fc'],
                                                'input_selection': 'gates'}}})
    arch = {'text/block0/mixer': ['attention', 'pool'], 'audio/block0/mixer': 'pool',
            'fusion/cell0/input0/cand0': 'identity', 'fusion/cell0/input0/cand1': 'identity',
            'fusion/cell0/input1/cand0': 'zero', 'fusion/cell0/input1/cand1': 'zero',
            'fusion/cell0/step0/input0': [0], 'fusion/cell0/step0/input1': [1], 'fusion/cell0/step0/op': 'sum',
            'fusion/cell1/input0/cand0': 'zero', 'fusion/cell1/input0/cand1': 'identity',
            'fusion/cell1/input0/cand2': 'identity', 'fusion/cell1/input1/cand0': 'identity',
            'fusion/cell1/input1/cand1': 'zero', 'fusion/cell1/input1/cand2': 'zero',
            'fusion/cell1/step0/input0': [1], 'fusion/cell1/step0/input1': [0],
            'fusion/cell1/step0/op': ['sum', 'concat_fc']}
    probs = {'text/block0/mixer': {'attention': 0.55, 'pool': 0.45},
             'fusion/cell0/input0/cand0': {'identity': 0.8, 'zero': 0.2},
             'fusion/cell0/input0/cand1': {'identity': 0.6, 'zero': 0.4},
             'fusion/cell0/input1/cand1': {'identity': 0.3, 'zero': 0.7}}
    desc = describe_architecture(arch, probs, cfg)
    c0 = desc['cells'][0]['inputs']
    assert c0[0]['chosen'] == 'text/block0 + audio/block0' and c0[0]['kept'] == [('text/block0', 0.8),
                                                                                 ('audio/block0', 0.6)]
    assert c0[1]['chosen'] == 'none' and c0[1]['others'] == [('audio/block0', 0.3)]
    assert desc['cells'][1]['inputs'][0]['chosen'] == 'audio/block0 + cell0'
    text = architecture_text(desc)
    assert 'attention 0.55 + pool 0.45' in text and 'text/block0 0.80 + audio/block0 0.60' in text
    assert 'none (zero)  (audio/block0 0.30)' in text and 'sum + concat_fc' in text
    path = draw_architecture(desc, tmp_path / 'a.png')
    assert path.is_file() and path.stat().st_size > 5000
    bad = dict(arch, **{'fusion/cell0/input0/cand1': 'maybe'})
    with pytest.raises(ArchitectureError, match='cand1'):
        describe_architecture(bad, probs, cfg)


def test_config_keys_are_checked():
    from rmnas_nni.config import load_run_config
    from rmnas_nni.errors import ConfigError
    cfg = load_run_config(None)
    assert cfg.search.derive == 'argmax' and cfg.search.derive_threshold == 0.2
    assert cfg.space.fusion.input_selection == 'one_of_n'
    for overrides, key in (({'search': {'derive': 'top2'}}, 'search.derive'),
                           ({'search': {'derive_threshold': 0}}, 'search.derive_threshold'),
                           ({'space': {'fusion': {'input_selection': 'all'}}}, 'fusion.input_selection')):
        with pytest.raises(ConfigError, match=key.replace('.', r'\.')):
            load_run_config(None, overrides)


def test_exclude_zero_takes_the_strongest_other_operation_and_leaves_gates():
    from rmnas_nni.derivation import derive_architecture
    arch = {'fusion/cell0/step0/op': 'zero', 'fusion/cell0/step1/op': 'sum', 'text/block0/mixer': 'identity',
            'fusion/cell0/input0/cand1': 'zero'}
    probs = {'fusion/cell0/step0/op': {'zero': 0.5, 'sum': 0.1, 'attention': 0.3, 'concat_fc': 0.1},
             'fusion/cell0/step1/op': {'zero': 0.3, 'sum': 0.7},
             'text/block0/mixer': {'attention': 0.2, 'identity': 0.8},
             'fusion/cell0/input0/cand1': {'identity': 0.1, 'zero': 0.9}}
    assert derive_architecture(arch, probs) == arch
    out = derive_architecture(arch, probs, exclude_zero=True)
    assert out == {**arch, 'fusion/cell0/step0/op': 'attention'}
    out = derive_architecture(arch, probs, 'threshold', 0.25, exclude_zero=True)
    assert out['fusion/cell0/step0/op'] == 'attention' and out['fusion/cell0/step1/op'] == 'sum'
    assert out['fusion/cell0/input0/cand1'] == 'zero'


def test_exclude_identity_takes_the_strongest_other_mixer_and_leaves_gates():
    from rmnas_nni.derivation import derive_architecture
    arch = {'text/block0/mixer': 'identity', 'audio/block0/mixer': 'pool', 'fusion/cell0/input0/cand0': 'identity',
            'fusion/cell0/step0/op': 'zero'}
    probs = {'text/block0/mixer': {'attention': 0.2, 'pool': 0.3, 'identity': 0.5},
             'audio/block0/mixer': {'pool': 0.6, 'identity': 0.4},
             'fusion/cell0/input0/cand0': {'identity': 0.9, 'zero': 0.1},
             'fusion/cell0/step0/op': {'zero': 0.6, 'sum': 0.4}}
    out = derive_architecture(arch, probs, exclude_identity=True)
    assert out == {**arch, 'text/block0/mixer': 'pool'}                       # gates and zero untouched
    both = derive_architecture(arch, probs, exclude_zero=True, exclude_identity=True)
    assert both == {**arch, 'text/block0/mixer': 'pool', 'fusion/cell0/step0/op': 'sum'}
    kept = derive_architecture(arch, probs, 'threshold', 0.25, exclude_identity=True)
    assert kept['text/block0/mixer'] == 'pool' and kept['audio/block0/mixer'] == 'pool'
    only = derive_architecture({'m/block0/mixer': 'identity'}, {'m/block0/mixer': {'identity': 1.0}},
                               exclude_identity=True)
    assert only == {'m/block0/mixer': 'identity'}                              # nothing else to take
