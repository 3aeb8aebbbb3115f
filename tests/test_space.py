import json

import pytest
import torch
from nni.nas.space import model_context
from nni.nas.strategy import DARTS

from conftest import LENS, MODS, TINY, random_batch
from rmnas_nni.space import RMNASSpace


def make_space(level, **kw):
    return RMNASSpace(MODS, LENS, level=level, out_dim=1, **dict(TINY, **kw))


def default_arch(space):
    return {k: v.default() for k, v in space.simplify().items()}


def test_labels_read_naturally():
    labels = list(make_space('sentence').simplify())
    assert labels[:2] == ['text/block0/mixer', 'text/block1/mixer']
    for expected in ['audio/block1/mixer', 'vision/block0/mixer', 'fusion/cell0/input0', 'fusion/cell0/input1',
                     'fusion/cell1/step0/op', 'fusion/cell1/step1/input1']:
        assert expected in labels
    assert len(labels) == 3 * 2 + 2 * (2 + 2 * 3)


def test_input_choices_cover_candidates_and_earlier_cells():
    space = make_space('sentence')
    m = space.simplify()
    assert list(m['fusion/cell0/input0'].values) == list(range(6))          # 3 modalities x 2 blocks
    assert list(m['fusion/cell1/input0'].values) == list(range(7))          # + cell 0
    assert list(m['fusion/cell0/step1/input0'].values) == [0, 1, 2]         # two inputs + step 0
    assert space.candidate_names()[:3] == ['text/block0', 'text/block1', 'audio/block0']


def _perturb_padding(inputs, masks):
    out = {}
    for m, x in inputs.items():
        y = x.clone()
        pad = ~masks[m]
        y[pad] = 1e4 * torch.randn(int(pad.sum()), x.shape[-1])
        out[m] = y
    return out


@pytest.mark.parametrize('level', ['sentence', 'dialogue'])
@pytest.mark.parametrize('net', ['supernet', 'fixed', 'random_fixed'])
def test_padding_never_changes_real_outputs(level, net):
    torch.manual_seed(0)
    space = make_space(level)
    if net == 'supernet':
        model = DARTS().mutate_model(space)
    else:
        arch = default_arch(space)
        if net == 'random_fixed':
            arch = {k: ('random_mixing' if k.endswith('mixer') and i % 2 else
                        'pool' if k.endswith('mixer') else v) for i, (k, v) in enumerate(arch.items())}
            arch = {k: ('attention' if k.endswith('/op') else v) for k, v in arch.items()}
        model = space.freeze(arch)
    model.eval()
    inputs, masks = random_batch(level)
    with torch.no_grad():
        a = model(inputs, masks)
        b = model(_perturb_padding(inputs, masks), masks)
    if level == 'sentence':
        torch.testing.assert_close(a['fused'], b['fused'])
        for m in MODS:
            torch.testing.assert_close(a['unimodal'][m], b['unimodal'][m])
    else:
        real = masks['text']
        assert a['fused'].shape == real.shape
        torch.testing.assert_close(a['fused'][real], b['fused'][real])
        for m in MODS:
            torch.testing.assert_close(a['unimodal'][m][real], b['unimodal'][m][real])


@pytest.mark.parametrize('level', ['sentence', 'dialogue'])
def test_sample_alone_equals_sample_in_padded_batch(level):
    torch.manual_seed(0)
    model = DARTS().mutate_model(make_space(level)).eval()
    inputs, masks = random_batch(level)
    with torch.no_grad():
        batch_out = model(inputs, masks)['fused']
        if level == 'sentence':
            lens = {m: int(masks[m][1].sum()) for m in MODS}
            alone = model({m: inputs[m][1:2, :lens[m]] for m in MODS},
                          {m: masks[m][1:2, :lens[m]] for m in MODS})['fused']
            torch.testing.assert_close(alone[0], batch_out[1], rtol=1e-4, atol=1e-5)
        else:
            n = int(masks['text'][1].sum())
            alone = model({m: inputs[m][1:2, :n] for m in MODS}, {m: masks[m][1:2, :n] for m in MODS})['fused']
            torch.testing.assert_close(alone[0], batch_out[1, :n], rtol=1e-4, atol=1e-5)


def test_exported_json_rebuilds_through_nni_and_trains(tmp_path):
    torch.manual_seed(0)
    space = make_space('sentence')
    arch = default_arch(space)
    arch['text/block0/mixer'] = 'pool'
    arch['fusion/cell0/input0'] = [5]
    arch['fusion/cell0/input1'] = [3]
    arch['fusion/cell0/step0/op'] = 'sum'
    arch['fusion/cell1/step0/op'] = 'linear_glu'
    path = tmp_path / 'arch.json'
    path.write_text(json.dumps(arch))
    loaded = json.loads(path.read_text())
    frozen = make_space('sentence').freeze(loaded)
    with model_context(loaded):
        fresh = make_space('sentence')
    for net in (frozen, fresh):
        assert type(net.encoders['text'].blocks[0].mixer).__name__ == 'PoolMixer'
        assert type(net.fusion.cells[1].steps[0].op).__name__ == 'LinearGLU'
        assert net.fusion.cells[0].input1.chosen == [3]
    inputs, masks = random_batch('sentence', batch=3)
    target = torch.tensor([1.0, -2.0, 0.5])
    opt = torch.optim.Adam(fresh.parameters(), lr=1e-2)
    losses = []
    for _ in range(80):
        out = fresh(inputs, masks)
        loss = ((out["fused"] - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_single_candidate_sets_are_not_searched():
    space = make_space('sentence', mixers=['attention'])
    labels = list(space.simplify())
    assert not any(label.endswith('mixer') for label in labels)
    assert any(label.startswith('fusion/') for label in labels)


def test_classification_heads_and_any_modality_subset():
    space = RMNASSpace({'audio': 5}, {'audio': 6}, level='dialogue', out_dim=4, **TINY)
    arch = default_arch(space)
    model = space.freeze(arch)
    x = {'audio': torch.randn(2, 6, 5)}
    mask = {'audio': torch.ones(2, 6, dtype=torch.bool)}
    out = model(x, mask)
    assert out['fused'].shape == (2, 6, 4) and set(out['unimodal']) == {'audio'}


def test_paper_space_parameter_count():
    space = RMNASSpace({'text': 768, 'audio': 5, 'vision': 20}, {'text': 50, 'audio': 375, 'vision': 500})
    n = sum(p.numel() for p in space.parameters())
    # d=448, 6 blocks x 3 modalities of attention+FFN dominate: ~2.41M per block
    assert 45e6 < n < 50e6
