"""An NNI trial: one RMNAS search + retrain for the parameters NNI's tuner draws.

An NNI experiment file (``examples/rmnas_experiment*.yml``) runs this module as its
trial command::

    trialCommand: python -m rmnas_nni.nni_trial --config examples/nni_trial_tiny.yml

Each trial

1. takes the parameters NNI created it for (:func:`own_parameters`) and maps them
   onto the run config (:data:`PARAMETERS`): e.g. ``missing_rate`` sets
   ``data.missing.rate``, ``d_model`` the search space's ``encoder.d_model``,
   ``arch_lr`` the strategy's ``architecture_optimizer.lr``. A dotted name sets that
   key directly: ``search.epochs`` (run config), ``space.lst.maxdis`` (search space),
   ``strategy.weights_optimizer.lr`` (strategy). Every value is checked against the
   config schemas before anything is written; a bad one is a one-line error naming
   the parameter and the key, and the trial fails with exit status 2;
2. runs search -> export -> retrain -> evaluate (:func:`rmnas_nni.pipeline.run`)
   into its NNI trial directory (``$NNI_OUTPUT_DIR``, beside NNI's ``trial.stdout``):
   ``arch.json``, ``arch_probs.json``, ``model.pt``, ``metrics.json``, ``figures/*.png``,
   ``nni_parameters.json`` and ``nni_result.json``;
3. reports every epoch's validation metric as an NNI intermediate result
   (search epochs through a Lightning callback, then retrain epochs) and at the end
   one final result (:func:`final_result`): the numbers and, as ``arch``, the
   exported architecture, so that NNI's export and web UI hold it
   (``rmnas nni-best`` reads the best trial's back from the manager).

**(decision)** The final ``default`` is the retrained network's *validation* value of
the run's ``select_metric`` (at its best epoch), in the metric's own direction
(``mae``: lower is better, so the tuner's ``optimize_mode`` is ``minimize``). Test
metrics ride along as ``test_*`` keys for reading; a tuner that chose by test
metrics would tune on the test split.

Outside NNI the same command runs one trial by hand (``--params`` gives the
parameters as JSON, ``--out`` the run directory) and prints what it would report.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .config import (RUN_SCHEMA, SPACE_SCHEMA, STRATEGY_SCHEMA, RunConfig, _deep_merge, load_run_config,
                     parse_overrides, space_config, strategy_config, validate)
from .errors import ConfigError
from .metrics import metric_direction
from .nni_report import (TrialReporter, trial_main, adopt_created_parameters, architecture_summary, final_result, finish_trial,
                         manager_api, own_parameters, search_epoch_reporter, under_nni)
from .rundir import atomic_write_json, default_run_dir

__all__ = ['PARAMETERS', 'map_parameters', 'trial_config', 'architecture_summary', 'final_result',
           'TrialReporter', 'search_epoch_reporter', 'manager_api', 'adopt_created_parameters', 'own_parameters',
           'finish_trial', 'under_nni', 'main']

#: NNI parameter name -> the config keys it sets, as ``(section, dotted key)``;
#: section ``run`` is the run config, ``space`` the search space, ``strategy`` the strategy.
PARAMETERS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    'missing_rate': (('run', 'data.missing.rate'),),
    'seed': (('run', 'seed'),),
    'd_model': (('space', 'encoder.d_model'),),
    'n_blocks': (('space', 'encoder.n_blocks'),),
    'n_heads': (('space', 'encoder.n_heads'),),
    'dropout': (('space', 'encoder.dropout'),),
    'maxdis': (('space', 'lst.maxdis'),),
    'kernel_size': (('space', 'lst.kernel_size'),),
    'fusion_width': (('space', 'fusion.width'),),
    'weights_lr': (('strategy', 'weights_optimizer.lr'),),
    'arch_lr': (('strategy', 'architecture_optimizer.lr'),),
    'retrain_lr': (('run', 'retrain.lr'),),
    'batch_size': (('run', 'search.batch_size'), ('run', 'retrain.batch_size')),
    'search_epochs': (('run', 'search.epochs'),),
    'retrain_epochs': (('run', 'retrain.epochs'),),
}

SOURCE = 'NNI parameter'


def _schemas() -> Dict[str, Dict[str, Any]]:
    return {'run': RUN_SCHEMA, 'space': SPACE_SCHEMA, 'strategy': STRATEGY_SCHEMA}


def _targets(name: Any) -> Tuple[Tuple[str, str], ...]:
    if not isinstance(name, str) or not name:
        raise ConfigError(f'{SOURCE} {name!r}: parameter names must be non-empty strings')
    if name in PARAMETERS:
        return PARAMETERS[name]
    if '.' in name:
        head, rest = name.split('.', 1)
        if head in ('space', 'strategy') and rest:
            return ((head, rest),)
        return (('run', name),)
    raise ConfigError(f"{SOURCE} '{name}': unknown parameter (known: {', '.join(PARAMETERS)}; "
                      f"or a dotted config key such as search.epochs, space.lst.maxdis, "
                      f"strategy.weights_optimizer.lr)")


def _field(schema: Dict[str, Any], dotted: str, name: str):
    node: Any = schema
    for part in dotted.split('.'):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{SOURCE} '{name}': key '{dotted}' is not a config key")
        node = node[part]
    return node


def _nest(dotted: str, value: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    node = out
    parts = dotted.split('.')
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return out


def map_parameters(params: Any) -> Dict[str, Dict[str, Any]]:
    """NNI parameters -> ``{'run': {...}, 'space': {...}, 'strategy': {...}}`` nested overrides.

    Every value is checked against its schema on its own, so an error names the
    parameter: ``"NNI parameter 'd_model': key 'encoder.d_model': must be > 0 (got 0)"``.
    Whole numbers that a tuner sends as floats (``quniform`` gives ``32.0``) become
    integers where the key takes an integer.

    Raises
    ------
    ConfigError
        Unknown parameter, wrong type or impossible value.
    """
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ConfigError(f'{SOURCE}s: expected a mapping of parameter names to values, got {type(params).__name__}')
    schemas = _schemas()
    out: Dict[str, Dict[str, Any]] = {'run': {}, 'space': {}, 'strategy': {}}
    for name, value in params.items():
        for section, dotted in _targets(name):
            field = _field(schemas[section], dotted, name)
            if isinstance(field, dict):
                raise ConfigError(f"{SOURCE} '{name}': key '{dotted}' is a section, not a value")
            if (isinstance(value, float) and int in field.types and float not in field.types
                    and math.isfinite(value) and value.is_integer()):
                value = int(value)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{SOURCE} '{name}': key '{dotted}': must be finite (got {value!r})")
            nested = _nest(dotted, value)
            validate(nested, schemas[section], f"{SOURCE} '{name}'")
            out[section] = _deep_merge(out[section], nested)
    return out


def trial_config(config: Optional[os.PathLike | str], params: Any, overrides: Optional[Dict[str, Any]] = None
                 ) -> RunConfig:
    """The resolved run config of one trial: the config file, then ``overrides``, then NNI's parameters.

    Raises
    ------
    ConfigError
        A bad parameter, an inconsistent result (e.g. ``d_model`` not divisible by
        ``n_heads``), or a config that does not retrain (the final result is the
        retrained network's).
    """
    mapped = map_parameters(params)
    cfg = load_run_config(config, _deep_merge(overrides or {}, mapped["run"]))
    if mapped['space']:
        source = f"{cfg.search_space} with NNI parameters {sorted(_flat_keys(mapped['space']))}"
        cfg.space = space_config(_deep_merge(cfg.space.to_dict(), mapped['space']), source)
    if mapped['strategy']:
        source = f"{cfg.strategy} with NNI parameters {sorted(_flat_keys(mapped['strategy']))}"
        cfg.strategy_config = strategy_config(_deep_merge(cfg.strategy_config.to_dict(), mapped['strategy']), source)
    if not cfg.retrain.enabled:
        raise ConfigError(f"{config or '<defaults>'}: key 'retrain.enabled': an NNI trial retrains the architecture "
                          f"it found (its final result is the retrained network's); set it to true")
    if cfg.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise ConfigError(f"{config or '<defaults>'}: key 'device': 'cuda' but this machine has no usable CUDA "
                              f"device (use 'auto' to take a GPU when there is one)")
    return cfg


def _flat_keys(nested: Dict[str, Any], prefix: str = '') -> List[str]:
    keys = []
    for k, v in nested.items():
        keys.extend(_flat_keys(v, f'{prefix}{k}.') if isinstance(v, dict) else [f'{prefix}{k}'])
    return keys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog='python -m rmnas_nni.nni_trial',
        description='One RMNAS search + retrain for the parameters NNI hands the trial; reports every epoch '
                    'and a final result to NNI. Used as the trialCommand of examples/rmnas_experiment*.yml.')
    p.add_argument('--config', '-c', help='run config YAML (default: the embedded dataset with search_spaces/tiny.yml)')
    p.add_argument('--set', dest='sets', action='append', default=[], metavar='KEY=VALUE',
                   help='override a config key before NNI\'s parameters are applied (repeatable)')
    p.add_argument('--params', help='outside NNI: the parameters as a JSON object, e.g. \'{"d_model": 32}\'')
    p.add_argument('--out', '-o', help='outside NNI: the run directory (default: runs/nni-trial-<time>); under NNI: '
                                       'a folder that gets <experiment id>/<trial id>/ per trial instead of the NNI '
                                       'trial directory (e.g. shared storage)')
    p.add_argument('--quiet', '-q', action='store_true', help='print only the results')
    return p


def _trial_dir(args, under_nni: bool) -> Tuple[Path, bool]:
    """``(run directory, adopt)``: the NNI trial directory (adopted, it exists) or a new one."""
    if under_nni:
        import nni
        if args.out:
            return Path(args.out) / nni.get_experiment_id() / nni.get_trial_id(), False
        out = os.environ.get('NNI_OUTPUT_DIR')
        if out:
            return Path(out), True
        return Path('runs') / 'nni' / nni.get_experiment_id() / nni.get_trial_id(), False
    return (Path(args.out) if args.out else default_run_dir('nni-trial')), False


def run_trial(args) -> int:
    from .pipeline import prepare_data, run, select_metric_of

    in_nni = under_nni()
    if in_nni:
        if args.params:
            raise ConfigError('--params is for running outside NNI; under NNI the tuner gives the parameters')
        params = own_parameters()
    else:
        try:
            params = json.loads(args.params) if args.params else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(f'--params: not valid JSON ({exc.msg})') from None
    cfg = trial_config(args.config, params, parse_overrides(args.sets))
    data, masks = prepare_data(cfg)
    _, select = select_metric_of(cfg, data)
    mode = metric_direction(select)
    run_dir, adopt = _trial_dir(args, in_nni)
    reporter = TrialReporter(select, in_nni)
    summary = run(cfg, run_dir, data=(data, masks), quiet=args.quiet, adopt=adopt,
                  search_callbacks=[search_epoch_reporter(reporter)],
                  on_epoch=lambda epoch, val: reporter.intermediate('retrain', epoch, val[select]))
    run_dir = Path(summary['run_dir'])
    probs = json.loads((run_dir / 'arch_probs.json').read_text())
    result = final_result(summary, summary['arch'], probs, reporter.best_epoch('search', mode))
    figures = sorted((run_dir / 'figures').glob('*.png'))                  # drawn by run()
    atomic_write_json(run_dir / 'nni_parameters.json', params or {})
    finish_trial(run_dir, reporter, result, mode)
    print(f'trial directory: {run_dir}\n  architecture: {run_dir / "arch.json"}\n  weights: {run_dir / "model.pt"}'
          + ''.join(f'\n  figure: {f}' for f in figures))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    return trial_main(run_trial, build_parser().parse_args(argv), 'rmnas nni-trial')


if __name__ == '__main__':
    sys.exit(main())
