"""rmnas-nni: RMNAS, robust multimodal neural architecture search for sentiment analysis, on Microsoft NNI.

The model space (:class:`~rmnas_nni.space.RMNASSpace`) holds RMNAS's searched token
mixers and BM-NAS's searched fusion as NNI ``LayerChoice`` / ``InputChoice``
mutables; NNI's DARTS searches it (:mod:`rmnas_nni.search_strategy`); the exported
architecture is retrained by a thin trainer (:mod:`rmnas_nni.trainer`).

The notebook API (:mod:`rmnas_nni.pipeline`) is importable from here:
``load_config``, ``prepare_data``, ``build_space``, ``search``, ``retrain``,
``build_fixed_model``, ``load_architecture``, ``evaluate_run``, ``run``.
"""
from .version import __version__

_API = ('load_config', 'prepare_data', 'build_space', 'search', 'retrain', 'build_fixed_model',
        'load_architecture', 'check_architecture', 'evaluate_run', 'run', 'start_run', 'load_run',
        'attention_architecture', 'count_parameters')


def __getattr__(name):
    if name in _API:
        from . import pipeline
        return getattr(pipeline, name)
    if name == 'RMNASSpace':
        from .space import RMNASSpace
        return RMNASSpace
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = list(_API) + ['RMNASSpace', '__version__']
