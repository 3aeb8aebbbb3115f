"""Every private NNI / Lightning name of ``rmnas_nni/nni_compat.py`` still means what it did.

An upgrade of NNI or Lightning that removes or changes one fails here, naming it.
"""
import inspect
from pathlib import Path

import nni
import pytest
import pytorch_lightning as pl

from rmnas_nni import nni_compat
from rmnas_nni.config import load_strategy_config
from rmnas_nni.data.synthetic import make_synthetic
from rmnas_nni.search_strategy import RMNASTrainingModule, build_strategy
from rmnas_nni.space import RMNASSpace

ROOT = Path(__file__).resolve().parent.parent


def test_versions_are_those_checked():
    assert nni.__version__.startswith(nni_compat.NNI_CHECKED), (
        f'NNI {nni.__version__}: rmnas_nni/nni_compat.py was checked against {nni_compat.NNI_CHECKED}')
    assert pl.__version__.startswith(nni_compat.LIGHTNING_CHECKED), (
        f'pytorch-lightning {pl.__version__}: rmnas_nni/nni_compat.py was checked against '
        f'{nni_compat.LIGHTNING_CHECKED}')


def test_the_darts_step_followed_is_unchanged():
    assert nni_compat.darts_training_step_digest() == nni_compat.DARTS_TRAINING_STEP_SHA1, (
        "NNI's DartsLightningModule.training_step changed: read it and follow it again in "
        'rmnas_nni.search_strategy.ArchitectureOptimizerMixin.training_step, then update DARTS_TRAINING_STEP_SHA1')


def test_lightning_keeps_the_logging_step_counter():
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    assert nni_compat.batches_that_stepped(trainer) == 0


def test_trial_parameters_round_trip():
    import nni.trial
    assert hasattr(nni.trial, '_params'), 'nni.trial._params is gone'
    before = nni_compat.trial_parameters()
    try:
        nni_compat.set_trial_parameters({'parameter_id': 7, 'parameters': {}})
        assert nni_compat.trial_parameter_id() == 7
    finally:
        nni.trial._params = before


def test_functional_evaluator_executes_through_execute():
    from nni.nas.evaluator import FunctionalEvaluator
    assert list(inspect.signature(FunctionalEvaluator._execute).parameters) == ['self', 'model']


def test_the_remote_trial_keeper_writes_launcher_config():
    scripts = Path(nni.__file__).parent / 'tools' / 'nni_manager_scripts'
    assert 'launcher_config.json' in (scripts / 'launch_trial_keeper.py').read_text()
    assert nni_compat.LAUNCHER_CONFIG_GLOB.endswith('launcher_config.json')


@pytest.mark.parametrize('strategy_file', ['darts.yml', 'gumbel_darts.yml'])
def test_supernet_choices_logits_and_checkpoint_keys(strategy_file):
    data = make_synthetic('sentence', sizes={'train': 8, 'valid': 4, 'test': 4})
    cfg = load_strategy_config(ROOT / 'strategies' / strategy_file)
    space = RMNASSpace(data.dims, data.max_lengths, level=data.level, d_model=16, n_blocks=1, n_heads=2,
                       ffn_ratio=2, fusion_width=8, n_cells=1, attention_chunks=2)
    supernet = build_strategy(cfg, 0).mutate_model(space)
    layer_labels = {label for label in space.simplify() if label.endswith(('/mixer', '/op'))}
    choices = {m.label for m in supernet.modules() if nni_compat.is_choice_module(m)}
    assert layer_labels and choices == layer_labels, 'DARTS layer choices no longer carry _arch_alpha, names, label'
    assert any(nni_compat.is_arch_logit(k) for k in supernet.state_dict())
    training = RMNASTrainingModule(data.task, 'mosi', 'mae', cfg.weights_optimizer)
    training.set_model(supernet)
    oneshot = build_strategy(cfg, 0).configure_oneshot_module(training)
    keys = list(oneshot.state_dict())
    assert keys and all(k.startswith(nni_compat.SUPERNET_STATE_PREFIX) for k in keys), keys[:3]


def test_nas_experiment_sends_its_space_through_send_space_to_nni_manager():
    from nni.nas.experiment import NasExperiment
    assert list(inspect.signature(NasExperiment._send_space_to_nni_manager).parameters) == ['self']
    assert 'self._send_space_to_nni_manager()' in inspect.getsource(NasExperiment._start_engine_and_strategy)
    assert 'self.executable_model_factory(' in inspect.getsource(NasExperiment._start_engine_and_strategy)


def test_a_frozen_simplified_model_space_dumps_through_dump():
    import json
    from rmnas_nni.multitrial import ArchitectureEvaluator, ReadableModelSpace, evaluate_architecture
    data = make_synthetic('sentence', sizes={'train': 8, 'valid': 4, 'test': 4})
    space = RMNASSpace(data.dims, data.max_lengths, level=data.level, d_model=16, n_blocks=1, n_heads=2,
                       ffn_ratio=2, fusion_width=8, n_cells=1, attention_chunks=2)
    evaluator = ArchitectureEvaluator(evaluate_architecture, config={}, epochs=1)
    model = ReadableModelSpace.from_model(space, evaluator).random()
    dumped = json.loads(nni.dump(model))
    assert nni_compat.WEB_UI_SAMPLE_KEY in dumped and dumped['sample'] == json.loads(json.dumps(model.sample))
    loaded = nni.load(nni.dump(model))
    assert type(loaded) is ReadableModelSpace and loaded.sample == model.sample


def test_the_web_ui_reads_the_flat_sample_key_and_titles_columns_up_to_a_slash():
    import nni_node
    bundle = '\n'.join(p.read_text(errors='replace')
                       for p in (Path(nni_node.__path__[0]) / 'static' / 'static' / 'js').glob('main.*.js'))
    assert f'"{nni_compat.WEB_UI_SAMPLE_KEY}"' in bundle, 'the web UI no longer reads mutation_summary'
    assert 'e.split("/",2)[1]+" (space)"' in bundle, (
        'the web UI titles its search-space columns differently: check rmnas_nni.multitrial.web_ui_label')
