"""Adding a token mixer, a fusion operation, a data format or a strategy touches its own
module and a YAML file: each test registers a toy one, the config accepts it by name,
and the space, reader or strategy uses it (CONTRIBUTING.md shows the same four)."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import yaml

from rmnas_nni.config import Field, load_run_config
from rmnas_nni.errors import ConfigError
from rmnas_nni.registry import FORMATS, FUSION_OPS, MIXERS, STRATEGIES


@pytest.fixture
def registered():
    """Registers toys through the test and removes them afterwards."""
    added = []

    def add(registry, name, entry, **info):
        registry.names()                   # the built-in entries first, as in a real run
        registry.register(name, entry, **info)
        added.append((registry, name))
        return entry
    yield add
    for registry, name in added:
        registry.unregister(name)


def test_a_toy_token_mixer(registered):
    class Shift(nn.Module):
        """Each token takes its left neighbour's vector."""

        def __init__(self, **_):
            super().__init__()

        def forward(self, x, bias, mask):
            return torch.roll(x, 1, dims=1) - x

    registered(MIXERS, 'shift', Shift)
    cfg = load_run_config(None, {'space': {'encoder': {'mixers': ['attention', 'shift']}}})
    assert cfg.space.encoder.mixers == ['attention', 'shift']
    from rmnas_nni.pipeline import build_space, prepare_data
    data, _ = prepare_data(cfg)
    assert any(isinstance(m, Shift) for m in build_space(cfg, data).modules())
    with pytest.raises(ConfigError, match="unknown mixer 'twist' .*shift"):
        load_run_config(None, {'space': {'encoder': {'mixers': ['twist']}}})


def test_a_toy_fusion_operation(registered):
    class Maximum(nn.Module):
        def __init__(self, width: int = 0, **_):
            super().__init__()

        def forward(self, x, y):
            return torch.maximum(x, y)

    registered(FUSION_OPS, 'maximum', Maximum)
    cfg = load_run_config(None, {'space': {'fusion': {'ops': ['sum', 'maximum']}}})
    from rmnas_nni.pipeline import build_space, prepare_data
    data, _ = prepare_data(cfg)
    space = build_space(cfg, data)
    assert any(isinstance(m, Maximum) for m in space.modules())


def test_a_toy_data_format(registered, tmp_path):
    from rmnas_nni.data import load_data
    from rmnas_nni.data.readers import register_format
    from rmnas_nni.data.synthetic import make_synthetic

    def read_toy(path, modalities, task, options):
        data = make_synthetic('dialogue', task, int(path.read_text()))
        data.name = f'toy x{options["scale"]}'
        return data

    FORMATS.names()
    register_format('toy', read_toy, 'dialogue', {'scale': Field((int, float), 1.0)})
    try:
        path = tmp_path / 'seed.txt'
        path.write_text('3')
        cfg = load_run_config(None, {'data': {'format': 'toy', 'path': str(path), 'level': 'dialogue',
                                              'options': {'scale': 2}}})
        assert cfg.data.options['scale'] == 2 and cfg.data.options['normalize'] == 'zscore'
        data = load_data(cfg.data)
        assert data.name == 'toy x2' and data.level == 'dialogue'
        with pytest.raises(ConfigError, match=r"data\.options\.zoom': unknown option for format 'toy'"):
            load_run_config(None, {'data': {'format': 'toy', 'path': str(path), 'options': {'zoom': 2}}})
    finally:
        FORMATS.unregister('toy')


def test_a_toy_strategy(registered, tmp_path):
    from rmnas_nni.search_strategy import RMNASDarts, build_strategy

    class SlowArchDarts(RMNASDarts):
        pass

    registered(STRATEGIES, 'slow_darts', lambda opts, common: SlowArchDarts(**common))
    strategy_file = tmp_path / 'slow.yml'
    strategy_file.write_text(yaml.safe_dump({'strategy': 'slow_darts'}))
    cfg = load_run_config(None, {'strategy': str(strategy_file)})
    assert isinstance(build_strategy(cfg.strategy_config, 0), SlowArchDarts)
    strategy_file.write_text(yaml.safe_dump({'strategy': 'enas'}))
    with pytest.raises(ConfigError, match=r"key 'strategy': must be one of darts, gumbel_darts, spos, slow_darts"):
        load_run_config(None, {'strategy': str(strategy_file)})


def test_a_name_registered_twice_is_refused(registered):
    with pytest.raises(ValueError, match="token mixer 'attention' is registered twice"):
        MIXERS.register('attention', nn.Identity)
    assert np.all([name in MIXERS for name in ('attention', 'random_mixing', 'pool', 'identity')])
