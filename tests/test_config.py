import pytest

from conftest import ROOT
from rmnas_nni.config import load_run_config, load_space_config, validate, Field, SPACE_SCHEMA
from rmnas_nni.errors import ConfigError


def test_defaults_and_shipped_files():
    cfg = load_run_config(None)
    assert cfg['search_space'].endswith('search_spaces/tiny.yml')
    assert cfg['strategy_config']['architecture_optimizer'] == {
        'type': 'SGD', 'lr': 5.0, 'weight_decay': 0.0, 'momentum': 0.0, 'betas': [0.9, 0.999]}
    assert cfg['strategy_config']['weights_optimizer']['type'] == 'AdamW'
    assert cfg['strategy_config']['weights_optimizer']['lr'] == 5e-4


def test_paper_space_is_the_unified_setting():
    space = load_space_config(ROOT / 'search_spaces' / 'rmnas.yml')
    assert space['encoder'] == {'d_model': 448, 'n_blocks': 6, 'n_heads': 8, 'ffn_ratio': 4, 'dropout': 0.1,
                                'mixers': ['attention', 'random_mixing', 'pool', 'identity']}
    assert space['lst'] == {'enabled': True, 'kernel_size': 7, 'maxdis': 8}
    assert space['fusion']['width'] == 240 and space['fusion']['n_cells'] == 2 and space['fusion']['n_steps'] == 2


def test_space_and_strategy_overrides_from_the_run_config():
    cfg = load_run_config(None, {'space': {'lst': {'maxdis': 3}, 'encoder': {'mixers': ['random', 'pool']}},
                                 'strategy_config': {'architecture_optimizer': {'lr': 2}}})
    assert cfg['space']['lst']['maxdis'] == 3
    assert cfg['space']['encoder']['mixers'] == ['random_mixing', 'pool']
    assert cfg['space']['encoder']['d_model'] == 32                 # the rest of tiny.yml stays
    assert cfg['strategy_config']['architecture_optimizer']['lr'] == 2.0
    with pytest.raises(ConfigError, match=r"tiny.yml \(with the run config's overrides\): key 'lst.maxdis'"):
        load_run_config(None, {'space': {'lst': {'maxdis': 0}}})
    with pytest.raises(ConfigError, match=r"unknown key 'encoder.width'"):
        load_run_config(None, {'space': {'encoder': {'width': 3}}})


def test_int_accepted_for_float_and_bool_is_not_int():
    schema = {'lr': Field((int, float), 1.0), 'n': Field(int, 1)}
    assert validate({'lr': 2}, schema, 'f.yml') == {'lr': 2.0, 'n': 1}
    with pytest.raises(ConfigError, match="f.yml: key 'n': expected an integer"):
        validate({'n': True}, schema, 'f.yml')
