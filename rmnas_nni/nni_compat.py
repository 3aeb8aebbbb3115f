"""Every private name of NNI and Lightning the project uses, in one place.

Each one was checked against the versions below; ``tests/test_nni_compat.py`` fails
loudly, naming the name, when an upgrade removes or changes one. Nothing else in
the package reaches into NNI's or Lightning's private attributes.

| name | what for | used by |
|---|---|---|
| ``DartsLightningModule.training_step`` (a copy) | the architecture step without weight gradients | :mod:`rmnas_nni.search_strategy` |
| ``trainer.fit_loop.epoch_loop._batches_that_stepped`` | the step Lightning logs a row at | :mod:`rmnas_nni.search_strategy` |
| ``'training_module._model.'`` | the supernet's keys in a search checkpoint | :mod:`rmnas_nni.weight_transfer` |
| ``_arch_alpha`` / ``_arch_beta`` | a DARTS choice's logits in the supernet | :mod:`rmnas_nni.weight_transfer` |
| ``nni.trial._params`` | the parameters NNI handed this trial | :mod:`rmnas_nni.nni_trial`, :mod:`rmnas_nni.multitrial` |
| ``FunctionalEvaluator._execute`` | a multi-trial evaluator that also gets the sample | :mod:`rmnas_nni.multitrial` |
| ``trial_keeper*/launcher_config.json`` | a remote trial's manager address | :mod:`rmnas_nni.nni_trial` |
| ``NasExperiment._send_space_to_nni_manager`` | the search space the web UI shows | :mod:`rmnas_nni.multitrial` |
| ``SimplifiedModelSpace._dump`` | what a trial's parameters hold | :mod:`rmnas_nni.multitrial` |
| ``'mutation_summary'`` | the key of the web UI's flat trial parameters | :mod:`rmnas_nni.multitrial` |

NNI and Lightning are imported inside the functions that need them: both take
seconds to import, and configs, help and one-line errors answer without them.
"""
from __future__ import annotations

import hashlib
import inspect
import logging
import warnings
from typing import Any, Optional

__all__ = ['NNI_CHECKED', 'LIGHTNING_CHECKED', 'DARTS_TRAINING_STEP_SHA1', 'SUPERNET_STATE_PREFIX',
           'ARCH_LOGIT_NAMES', 'LAUNCHER_CONFIG_GLOB', 'WEB_UI_SAMPLE_KEY', 'is_choice_module', 'is_arch_logit',
           'batches_that_stepped',
           'trial_parameters', 'set_trial_parameters', 'trial_parameter_id', 'darts_training_step_digest',
           'quiet_libraries']

NNI_CHECKED = '3.0'
LIGHTNING_CHECKED = '2.6'

# sha1 of the source of NNI 3.0's DartsLightningModule.training_step, which
# rmnas_nni.search_strategy.ArchitectureOptimizerMixin.training_step follows (a changed step is
# to be read and followed again)
DARTS_TRAINING_STEP_SHA1 = 'b5155ce0028fb067f95dd8d9a3444bac719863cf'

# the keys of the supernet in a search checkpoint (NNI's one-shot module holds the
# training module, which holds the model)
SUPERNET_STATE_PREFIX = 'training_module._model.'

# the architecture logits NNI's DARTS adds to a LayerChoice / InputChoice
ARCH_LOGIT_NAMES = ('_arch_alpha', '_arch_beta')

# where a trial keeper on a remote worker writes the manager's address
LAUNCHER_CONFIG_GLOB = 'trial_keeper*/launcher_config.json'

# the web UI shows a trial's parameters[WEB_UI_SAMPLE_KEY] ({label: value}, a legacy
# NNI 2 NAS trial's sample) instead of its parameters, when the key is there
WEB_UI_SAMPLE_KEY = 'mutation_summary'


def is_choice_module(module: Any) -> bool:
    """True for a searched ``LayerChoice`` of a supernet: a DARTS one (it holds architecture logits)
    or a path-sampling one (SPOS), each keeping its candidates as children named by the candidate."""
    from nni.nas.oneshot.pytorch.supermodule.sampling import PathSamplingLayer
    return ((hasattr(module, ARCH_LOGIT_NAMES[0]) or isinstance(module, PathSamplingLayer))
            and getattr(module, 'names', None) is not None and getattr(module, 'label', None) is not None)


def is_arch_logit(state_key: str) -> bool:
    """True for a ``state_dict`` key of architecture logits."""
    return state_key.rsplit('.', 1)[-1] in ARCH_LOGIT_NAMES


def batches_that_stepped(trainer: Any) -> int:
    """The step number Lightning logs a metrics row at."""
    return trainer.fit_loop.epoch_loop._batches_that_stepped


def trial_parameters() -> Optional[dict]:
    """The parameter record NNI handed this trial (``parameter_id``, ``parameters``, ...), or None."""
    import nni.trial      # deferred: NNI takes seconds to import
    return nni.trial._params


def set_trial_parameters(record: dict) -> None:
    """Make ``record`` the trial's parameters (what ``nni.get_next_parameter`` returned)."""
    import nni.trial      # deferred: NNI takes seconds to import
    nni.trial._params = record


def trial_parameter_id() -> Any:
    return (trial_parameters() or {}).get('parameter_id')


def darts_training_step_digest() -> str:
    """sha1 of the source of the installed NNI's ``DartsLightningModule.training_step``."""
    from nni.nas.oneshot.pytorch.differentiable import DartsLightningModule   # deferred: NNI is slow to import
    return hashlib.sha1(inspect.getsource(DartsLightningModule.training_step).encode()).hexdigest()


def quiet_libraries() -> None:
    """Silence NNI's and Lightning's start-up chatter (our progress lines say what matters)."""
    warnings.filterwarnings('ignore', message='.*is found to be not a nn.Module.*')
    warnings.filterwarnings('ignore', category=UserWarning, module='pytorch_lightning')
    warnings.filterwarnings('ignore', category=UserWarning, module='lightning_fabric')
    warnings.filterwarnings('ignore', message='.*does not have many workers.*')
    warnings.filterwarnings('ignore', message='.*The number of training batches.*')
    warnings.filterwarnings('ignore', message='.*treespec.*')
    for name in ('pytorch_lightning', 'lightning.pytorch', 'lightning_fabric', 'lightning', 'nni'):
        logging.getLogger(name).setLevel(logging.ERROR)
