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
   one final result (:func:`final_result`).

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
from typing import Any, Callable, Dict, List, Optional, Tuple

from .config import parse_overrides
from .errors import ConfigError, RMNASError

__all__ = ['PARAMETERS', 'map_parameters', 'trial_config', 'architecture_summary', 'final_result',
           'TrialReporter', 'search_epoch_reporter', 'manager_api', 'adopt_created_parameters', 'own_parameters',
           'main']

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
    from .config import RUN_SCHEMA, SPACE_SCHEMA, STRATEGY_SCHEMA
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
    from .config import _deep_merge, validate
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
                 ) -> Dict[str, Any]:
    """The resolved run config of one trial: the config file, then ``overrides``, then NNI's parameters.

    Raises
    ------
    ConfigError
        A bad parameter, an inconsistent result (e.g. ``d_model`` not divisible by
        ``n_heads``), or a config that does not retrain (the final result is the
        retrained network's).
    """
    from .config import _deep_merge, check_space, check_strategy, validate, SPACE_SCHEMA, STRATEGY_SCHEMA
    from .pipeline import load_config
    mapped = map_parameters(params)
    cfg = load_config(config, _deep_merge(overrides or {}, mapped['run']))
    if mapped['space']:
        source = f"{cfg['search_space']} with NNI parameters {sorted(_flat_keys(mapped['space']))}"
        cfg['space'] = check_space(validate(_deep_merge(cfg['space'], mapped['space']), SPACE_SCHEMA, source), source)
    if mapped['strategy']:
        source = f"{cfg['strategy']} with NNI parameters {sorted(_flat_keys(mapped['strategy']))}"
        cfg['strategy_config'] = check_strategy(
            validate(_deep_merge(cfg['strategy_config'], mapped['strategy']), STRATEGY_SCHEMA, source), source)
    if not cfg['retrain']['enabled']:
        raise ConfigError(f"{config or '<defaults>'}: key 'retrain.enabled': an NNI trial retrains the architecture "
                          f"it found (its final result is the retrained network's); set it to true")
    if cfg['device'] == 'cuda':
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


def architecture_summary(arch: Dict[str, Any], probs: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    """A few numbers that describe an exported architecture, for the web UI's tables and charts.

    * ``mixer_weight_<modality>``: softmax weight of the chosen token mixer, averaged
      over that modality's blocks (near 1: the search was sure);
    * ``blocks_<mixer>``: how many blocks (all modalities) chose each mixer;
    * ``fusion_op_weight``: weight of the chosen operation, averaged over the Cell-Steps;
    * ``fusion_zero_steps``: Cell-Steps whose chosen operation is ``zero``.
    """
    out: Dict[str, float] = {}
    weights: Dict[str, List[float]] = {}
    counts: Dict[str, int] = {}
    op_weights: List[float] = []
    zero_steps = 0
    for label, choice in arch.items():
        dist = probs.get(label, {})
        if label.endswith('/mixer'):
            modality = label.split('/', 1)[0]
            weights.setdefault(modality, []).append(float(dist.get(str(choice), float('nan'))))
            for name in dist:
                counts.setdefault(name, 0)
            counts[str(choice)] = counts.get(str(choice), 0) + 1
        elif label.startswith('fusion/') and label.endswith('/op'):
            op_weights.append(float(dist.get(str(choice), float('nan'))))
            zero_steps += int(choice == 'zero')
    for modality, ws in weights.items():
        out[f'mixer_weight_{modality}'] = sum(ws) / len(ws)
    for name, n in counts.items():
        out[f'blocks_{name}'] = float(n)
    if op_weights:
        out['fusion_op_weight'] = sum(op_weights) / len(op_weights)
        out['fusion_zero_steps'] = float(zero_steps)
    return out


def _finite(metrics: Dict[str, Any]) -> Dict[str, float]:
    """Only finite numbers: NNI's web UI parses metrics as JSON, which has no NaN."""
    out = {}
    for k, v in metrics.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if math.isfinite(float(v)):
            out[k] = float(v)
    return out


def final_result(summary: Dict[str, Any], arch: Dict[str, Any], probs: Optional[Dict[str, Dict[str, float]]],
                 search_best_epoch: Optional[int] = None, sign: float = 1.0) -> Dict[str, float]:
    """The final result a trial reports.

    ``default`` is ``sign`` times the validation ``select_metric`` of the retrained
    network at its best epoch (``sign`` -1 turns a lower-is-better metric into one
    to maximise); then ``valid_<metric>`` and ``test_<metric>`` for every metric,
    ``parameters`` (fixed network), ``retrain_best_epoch``, ``search_best_epoch``,
    and :func:`architecture_summary` (without choice weights, ``probs=None``: only the
    counts). Non-finite values are left out.
    """
    select = summary['select_metric']
    default = float(summary['valid'][select])
    if not math.isfinite(default):
        raise RMNASError(f'retrain: validation {select} is {default}; nothing to report')
    out: Dict[str, Any] = {'default': sign * default}
    out.update({f'valid_{k}': v for k, v in summary['valid'].items()})
    out.update({f'test_{k}': v for k, v in summary['test'].items()})
    out['parameters'] = summary.get('parameters')
    out['retrain_best_epoch'] = summary.get('best_epoch')
    if search_best_epoch is not None:
        out['search_best_epoch'] = search_best_epoch
    out.update(architecture_summary(arch, probs or {}))
    return _finite(out)


class TrialReporter:
    """Sends a trial's results to NNI (or only prints them when running outside NNI).

    Intermediate results are ``{'default': sign * value, '<stage>_epoch': epoch}``
    with stage ``search`` or ``retrain``; the x axis of the web UI's curve is their
    order. ``history`` keeps the plain values.
    """

    def __init__(self, select_metric: str, under_nni: bool, printer: Callable[[str], None] = print,
                 sign: float = 1.0):
        self.select_metric = select_metric
        self.under_nni = under_nni
        self.printer = printer
        self.sign = sign
        self.history: List[Tuple[str, int, float]] = []

    def intermediate(self, stage: str, epoch: int, value: float) -> None:
        value = float(value)
        self.history.append((stage, epoch, value))
        if not math.isfinite(value):
            self.printer(f'nni: {stage} epoch {epoch}: validation {self.select_metric} is {value}; not reported')
            return
        result = {'default': self.sign * value, f'{stage}_epoch': int(epoch)}
        if self.under_nni:
            import nni
            nni.report_intermediate_result(result)
        self.printer(f'nni: intermediate result {json.dumps(result)}')

    def final(self, result: Dict[str, float]) -> None:
        if self.under_nni:
            import nni
            nni.report_final_result(result)
        self.printer(f'nni: final result {json.dumps(result)}')

    def best_epoch(self, stage: str, mode: str) -> Optional[int]:
        values = [(e, v) for s, e, v in self.history if s == stage and math.isfinite(v)]
        if not values:
            return None
        pick = min if mode == 'min' else max
        return pick(values, key=lambda ev: ev[1])[0]


def search_epoch_reporter(reporter: TrialReporter):
    """A Lightning callback reporting the search's per-epoch validation metric."""
    from pytorch_lightning.callbacks import Callback

    class SearchEpochReporter(Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            value = trainer.callback_metrics.get('val_select')
            if value is not None and not trainer.sanity_checking:
                reporter.intermediate('search', trainer.current_epoch + 1, float(value))

    return SearchEpochReporter()


def manager_api() -> Optional[str]:
    """Base URL of the NNI manager's REST API as seen from this trial, or None.

    The local training service gives the trial an HTTP command channel on the
    manager itself (``http://localhost:PORT/env/...``). A remote worker's trial talks
    to a trial keeper on the worker instead; the keeper's ``launcher_config.json``,
    beside the trial directories, names the manager's channel (``ws://IP:PORT/...``,
    ``nniManagerIp`` and the experiment's port), whose host and port serve the API too.
    """
    import re
    url = os.environ.get('NNI_TRIAL_COMMAND_CHANNEL', '')
    match = re.match(r'^http://([^/]+)/(?:(.+)/)?env/', url)
    if match and os.environ.get('NNI_PLATFORM') == 'local':
        host, prefix = match.group(1), match.group(2)
        return f'http://{host}/' + (f'{prefix}/' if prefix else '') + 'api/v1/nni'
    out = os.environ.get('NNI_OUTPUT_DIR')
    if not out:
        return None
    env_dir = Path(out).resolve().parent.parent
    for launcher in sorted(env_dir.glob('trial_keeper*/launcher_config.json'), reverse=True):
        try:
            channel = json.loads(launcher.read_text()).get('managerCommandChannel', '')
        except (OSError, ValueError):
            continue
        match = re.match(r'^wss?://([^/]+)/', channel)
        if match:
            return f'http://{match.group(1)}/api/v1/nni'
    return None


def adopt_created_parameters(printer: Callable[[str], None] = print) -> Any:
    """The parameters this trial was created for, after ``nni.get_next_parameter()``.

    NNI 3.0's training services queue the parameters the tuner (or NAS strategy)
    generates and hand the head of the queue to whichever trial asks first, so with
    ``trialConcurrency`` > 1 two trials that start together can swap them
    (microsoft/nni issues #5693, #5726): the web UI then shows each trial with the
    other's parameters, and the TPE tuner crashes with a ``KeyError`` when the first
    of them ends (#5689, #5798), because it drops the parameter id the trial was
    created for while the other trial still runs with it.

    **(decision)** After ``nni.get_next_parameter()`` (which must be called: it takes
    one entry off the queue), the trial asks the NNI manager's REST API
    (:func:`manager_api`) which parameters it was created for, and adopts them and
    their parameter id for everything it reports. Every trial then runs, shows and
    reports the same parameters. Where the manager cannot be asked, the received
    parameters are kept and a line says so. Training services that hand each
    trial its own parameter file (the Kubernetes ones, reuse mode) have no queue
    and need no check.
    """
    import urllib.request

    import nni
    import nni.trial
    record = nni.trial._params
    if record is None:
        return None
    received = record.get('parameters')
    if not os.environ.get('NNI_TRIAL_COMMAND_CHANNEL'):
        return received           # a file-based channel (Kubernetes, reuse mode): each trial has its own parameters
    api = manager_api()
    if api is None:
        printer(f'nni: cannot reach the NNI manager to check the parameters received '
                f'(channel {os.environ.get("NNI_TRIAL_COMMAND_CHANNEL") or "unset"}); using them')
        return received
    url = f'{api}/trial-jobs/{nni.get_trial_id()}'
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            job = json.loads(resp.read().decode('utf-8'))
        own = nni.load((job.get('hyperParameters') or [])[-1])
        own_id, own_params = own['parameter_id'], own['parameters']
    except Exception as exc:  # the check is a workaround; never let it fail the trial
        printer(f'nni: cannot read this trial\'s record from {url} ({exc.__class__.__name__}); '
                f'using the parameters received')
        return received
    if own_id != record.get('parameter_id'):
        printer(f"nni: received the parameters of parameter id {record.get('parameter_id')}, but this trial was "
                f"created for parameter id {own_id} (NNI 3.0 hands queued parameters to whichever trial asks "
                f"first); using parameter id {own_id}")
        nni.trial._params = own
    return own_params


def own_parameters(printer: Callable[[str], None] = print) -> Any:
    """``nni.get_next_parameter()``, then :func:`adopt_created_parameters`."""
    import nni
    received = nni.get_next_parameter()
    if received is None:
        return None
    return adopt_created_parameters(printer)


def _under_nni() -> bool:
    return bool(os.environ.get('NNI_PLATFORM')) and bool(os.environ.get('NNI_TRIAL_JOB_ID'))


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
    from .rundir import default_run_dir
    return (Path(args.out) if args.out else default_run_dir('nni-trial')), False


def run_trial(args) -> int:
    from .pipeline import prepare_data, run, select_metric_of
    from .metrics import metric_direction
    from .rundir import atomic_write_json

    under_nni = _under_nni()
    if under_nni:
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
    run_dir, adopt = _trial_dir(args, under_nni)
    reporter = TrialReporter(select, under_nni)
    summary = run(cfg, run_dir, data=(data, masks), quiet=args.quiet, adopt=adopt,
                  search_callbacks=[search_epoch_reporter(reporter)],
                  on_epoch=lambda epoch, val: reporter.intermediate('retrain', epoch, val[select]))
    run_dir = Path(summary['run_dir'])
    probs = json.loads((run_dir / 'arch_probs.json').read_text())
    result = final_result(summary, summary['arch'], probs, reporter.best_epoch('search', mode))
    figures = sorted((run_dir / 'figures').glob('*.png'))                  # drawn by run()
    atomic_write_json(run_dir / 'nni_parameters.json', params or {})
    record = {'select_metric': select, 'direction': mode, 'final': result, 'intermediate': reporter.history}
    if under_nni:
        import nni
        import nni.trial
        record.update(experiment_id=nni.get_experiment_id(), trial_id=nni.get_trial_id(),
                      parameter_id=(nni.trial._params or {}).get('parameter_id'))
    atomic_write_json(run_dir / 'nni_result.json', record)
    reporter.final(result)
    print(f'trial directory: {run_dir}\n  architecture: {run_dir / "arch.json"}\n  weights: {run_dir / "model.pt"}'
          + ''.join(f'\n  figure: {f}' for f in figures))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from .pipeline import quiet_libraries
        quiet_libraries()
        return run_trial(args)
    except RMNASError as exc:
        print(f'rmnas nni-trial: error: {exc}', file=sys.stderr)
        return exc.exit_code


if __name__ == '__main__':
    sys.exit(main())
