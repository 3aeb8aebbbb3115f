import pytest

from conftest import ROOT
from rmnas_nni.config import load_run_config, load_space_config, validate, Field
from rmnas_nni.errors import ConfigError


def test_defaults_and_shipped_files():
    cfg = load_run_config(None)
    assert cfg.search_space.endswith('search_spaces/tiny.yml')
    assert cfg.strategy_config.architecture_optimizer.to_dict() == {
        'type': 'SGD', 'lr': 5.0, 'weight_decay': 0.0, 'momentum': 0.0, 'betas': [0.9, 0.999]}
    assert cfg.strategy_config.weights_optimizer.type == 'AdamW'
    assert cfg.strategy_config.weights_optimizer.lr == 5e-4


def test_paper_space_is_the_unified_setting():
    space = load_space_config(ROOT / 'search_spaces' / 'rmnas.yml')
    assert space.encoder.to_dict() == {'d_model': 448, 'n_blocks': 6, 'n_heads': 8, 'ffn_ratio': 4, 'dropout': 0.1,
                                'mixers': ['attention', 'random_mixing', 'pool', 'identity']}
    assert space.lst.to_dict() == {'enabled': True, 'kernel_size': 7, 'maxdis': 8}
    assert space.fusion.width == 240 and space.fusion.n_cells == 2 and space.fusion.n_steps == 2


def test_typed_config_reads_back_from_its_yaml_and_refuses_unknown_keys(tmp_path):
    from rmnas_nni.config import RunConfig, SearchConfig, dump_yaml, load_yaml, run_config
    cfg = load_run_config('examples/mosi_dialogue.yml', {'space': {'lst': {'maxdis': 3}}})
    assert isinstance(cfg, RunConfig) and isinstance(cfg.search, SearchConfig)
    (tmp_path / 'config.yaml').write_text(dump_yaml(cfg))
    back = run_config(load_yaml(tmp_path / 'config.yaml'), 'config.yaml')
    assert back == cfg and back.space.lst.maxdis == 3 and back is not cfg
    copy = cfg.copy()
    copy.search.update(epochs=3, patience=2)
    assert (copy.search.epochs, cfg.search.epochs) == (3, 20)
    with pytest.raises(AttributeError, match='no key'):
        copy.search.update(epoch=3)
    stored = cfg.to_dict()
    stored['search']['epoch'] = 3
    with pytest.raises(ConfigError, match="config.yaml: unknown key 'search.epoch'"):
        run_config(stored, 'config.yaml')
    # every key the YAML accepts is a field of the dataclasses, with the same default
    assert RunConfig().search.to_dict() == {k: f.default for k, f in SearchConfig.schema().items()}


def test_space_and_strategy_overrides_from_the_run_config():
    cfg = load_run_config(None, {'space': {'lst': {'maxdis': 3}, 'encoder': {'mixers': ['random', 'pool']}},
                                 'strategy_config': {'architecture_optimizer': {'lr': 2}}})
    assert cfg.space.lst.maxdis == 3
    assert cfg.space.encoder.mixers == ['random_mixing', 'pool']
    assert cfg.space.encoder.d_model == 32                 # the rest of tiny.yml stays
    assert cfg.strategy_config.architecture_optimizer.lr == 2.0
    with pytest.raises(ConfigError, match=r"tiny.yml \(with the run config's overrides\): key 'lst.maxdis'"):
        load_run_config(None, {'space': {'lst': {'maxdis': 0}}})
    with pytest.raises(ConfigError, match=r"unknown key 'encoder.width'"):
        load_run_config(None, {'space': {'encoder': {'width': 3}}})


def test_int_accepted_for_float_and_bool_is_not_int():
    schema = {'lr': Field((int, float), 1.0), 'n': Field(int, 1)}
    assert validate({'lr': 2}, schema, 'f.yml') == {'lr': 2.0, 'n': 1}
    with pytest.raises(ConfigError, match="f.yml: key 'n': expected an integer"):
        validate({'n': True}, schema, 'f.yml')


PAPER_DECISIONS = ('dropout', 'attention_chunks', 'gradient_clip_val', 'warmup_epochs', 'weight_decay', 'betas',
                   'momentum', 'min_epochs', 'export', 'grad_clip', 'normalize', 'redraw_train', 'select_metric',
                   'valid_from', 'valid_every', 'seeds')


@pytest.mark.parametrize('level', ['sentence', 'dialogue'])
def test_paper_configs_state_the_papers_settings(level, tmp_path):
    """examples/paper_{sentence,dialogue}.yml: the paper's stated values; every other value marked as a decision."""
    path = ROOT / 'examples' / f'paper_{level}.yml'
    text = path.read_text()
    import yaml
    raw = yaml.safe_load(text)
    data_path = (path.parent / raw['data']['path'])
    overrides = {} if data_path.exists() else {'data': {'path': str(tmp_path)}}    # the data need not be here
    cfg = load_run_config(path, overrides)
    assert cfg.search_space.endswith('search_spaces/rmnas.yml') and cfg.strategy.endswith('darts.yml')
    enc, lst, fus = cfg.space.encoder, cfg.space.lst, cfg.space.fusion
    assert (enc.d_model, enc.n_blocks, enc.n_heads, enc.ffn_ratio) == (448, 6, 8, 4)
    assert enc.mixers == ['attention', 'random_mixing', 'pool', 'identity']
    assert (lst.enabled, lst.kernel_size, lst.maxdis) == (True, 7, 8)
    assert (fus.width, fus.n_cells, fus.n_steps) == (240, 2, 2)
    w, a = cfg.strategy_config.weights_optimizer, cfg.strategy_config.architecture_optimizer
    assert (w.type, w.lr, a.type, a.lr) == ('AdamW', 5e-4, 'SGD', 5.0)
    assert cfg.strategy_config.strategy == 'darts' and cfg.search.method == 'oneshot'
    for phase in ('search', 'retrain'):
        assert getattr(cfg, phase).epochs == 100 and getattr(cfg, phase).batch_size == 32
        # early stopping 8 is stated for sentence level only: none at dialogue level
        assert getattr(cfg, phase).patience == (8 if level == 'sentence' else getattr(cfg, phase).epochs)
    assert cfg.retrain.lr == 5e-4 and cfg.retrain.weights == 'scratch'
    assert cfg.data.level == level and cfg.data.missing.protocol == level
    assert len(cfg.sweep.seeds) == 3 and cfg.sweep.rates is None
    # every value the paper does not state carries '# decision' on its line
    for line in text.splitlines():
        key = line.split('#')[0].strip().split(':')[0]
        if key in PAPER_DECISIONS:
            assert '# decision' in line, line
    assert sum('# decision' in line for line in text.splitlines()) >= len(PAPER_DECISIONS) - 2


def test_a_value_set_in_python_is_checked_before_a_run_starts(tmp_path):
    from rmnas_nni.pipeline import load_config, prepare_data, start_run
    cfg = load_config(None, {'data': {'options': {'sizes': {'train': 20, 'valid': 10, 'test': 10}}}})
    data, masks = prepare_data(cfg)
    cfg.search.epochs = 0
    with pytest.raises(ConfigError, match="run config: key 'search.epochs': must be > 0"):
        start_run(cfg, data, masks, tmp_path / 'run', quiet=True)
    assert not (tmp_path / 'run').exists()
