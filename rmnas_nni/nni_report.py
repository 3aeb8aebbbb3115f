"""Results to NNI: what a trial reports, and which parameters it was created for.

Shared by the trials of ``nni_trial`` (search + retrain per tuner parameters) and
``multitrial`` (one sampled architecture per trial); :func:`best_trial` reads
them back from a running NNI manager (``rmnas nni-best``). NNI and Lightning are
imported inside the functions that talk to them: both take seconds to import.
"""
from __future__ import annotations

import json
import math
import os
import re
import socket
import sys
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import ConfigError, RMNASError
from .metrics import choice_summary, probs_of
from .nni_compat import (LAUNCHER_CONFIG_GLOB, quiet_libraries, set_trial_parameters, trial_parameter_id,
                         trial_parameters)
from .rundir import atomic_write_json

__all__ = ['architecture_summary', 'architecture_text', 'final_result', 'TrialReporter', 'search_epoch_reporter',
           'manager_api', 'adopt_created_parameters', 'own_parameters', 'under_nni', 'finish_trial', 'check_port',
           'trial_main', 'final_of', 'manager_get', 'best_trial']


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


def architecture_text(arch: Dict[str, Any]) -> str:
    """``arch.json``'s ``{label: choice}`` as one compact JSON string: the final result's ``arch``."""
    return json.dumps(arch, separators=(',', ':'))


def final_result(summary: Dict[str, Any], arch: Dict[str, Any], probs: Optional[Dict[str, Dict[str, float]]],
                 search_best_epoch: Optional[int] = None, sign: float = 1.0) -> Dict[str, Any]:
    """The final result a trial reports.

    ``default`` is ``sign`` times the validation ``select_metric`` of the retrained
    network at its best epoch (``sign`` -1 turns a lower-is-better metric into one
    to maximise); then ``valid_<metric>`` and ``test_<metric>`` for every metric,
    ``parameters`` (fixed network), ``retrain_best_epoch``, ``search_best_epoch``,
    and :func:`architecture_summary` (without choice weights, ``probs=None``: only the
    counts). Non-finite numbers are left out. Last, ``arch``: the architecture
    itself, ``arch.json`` as one JSON string (:func:`architecture_text`).

    **(decision)** The architecture travels in the final result, as one string, so
    that what NNI stores holds it: ``nnictl experiment export`` (a JSON string in its
    ``value``; an ``arch`` column in CSV), ``nnictl trial ls``, the REST API's
    ``metric-data`` and ``trial-jobs``, and the web UI, whose trial table offers it as
    the column "arch (metric)". The web UI's default metric, its charts of numbers
    and the tuners read only ``default`` and the numbers; a string is one more axis
    of the "Hyper-parameter" chart. One string rather than one key per choice: the
    paper's space has 34 choices, each of which would be a column and an axis.
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
    out = _finite(out)
    out['arch'] = architecture_text(arch)
    return out


class TrialReporter:
    """Sends a trial's results to NNI (or only prints them when running outside NNI).

    Intermediate results are ``{'default': sign * value, '<stage>_epoch': epoch}``
    with stage ``search`` or ``retrain`` (the web UI's curve is their order; the
    key says the phase), plus ``extra``: a search epoch adds how far its choice
    weights are from uniform (``choice_entropy``, ``choice_tv_from_uniform``,
    ``choice_top_weight``, each also per kind: ``choice_mixer_entropy`` ...; see
    :func:`~rmnas_nni.metrics.choice_summary`; not for a search without choice
    weights, such as SPOS). ``history`` keeps the plain values.
    """

    def __init__(self, select_metric: str, under_nni: bool, printer: Callable[[str], None] = print,
                 sign: float = 1.0):
        self.select_metric = select_metric
        self.under_nni = under_nni
        self.printer = printer
        self.sign = sign
        self.history: List[Tuple[str, int, float]] = []

    def intermediate(self, stage: str, epoch: int, value: float, extra: Optional[Dict[str, float]] = None) -> None:
        value = float(value)
        self.history.append((stage, epoch, value))
        if not math.isfinite(value):
            self.printer(f'nni: {stage} epoch {epoch}: validation {self.select_metric} is {value}; not reported')
            return
        result = {'default': self.sign * value, f'{stage}_epoch': int(epoch), **_finite(extra or {})}
        if self.under_nni:
            import nni      # deferred: NNI takes seconds to import
            nni.report_intermediate_result(result)
        self.printer(f'nni: intermediate result {json.dumps(result)}')

    def final(self, result: Dict[str, Any]) -> None:
        if self.under_nni:
            import nni      # deferred: NNI takes seconds to import
            nni.report_final_result(result)
        self.printer(f'nni: final result {json.dumps(result)}')

    def best_epoch(self, stage: str, mode: str) -> Optional[int]:
        values = [(e, v) for s, e, v in self.history if s == stage and math.isfinite(v)]
        if not values:
            return None
        pick = min if mode == 'min' else max
        return pick(values, key=lambda ev: ev[1])[0]


def search_epoch_reporter(reporter: TrialReporter):
    """A Lightning callback reporting the search's per-epoch validation metric and choice weights' spread."""
    from pytorch_lightning.callbacks import Callback     # deferred: Lightning takes seconds to import

    class SearchEpochReporter(Callback):
        def on_train_epoch_end(self, trainer, pl_module):
            value = trainer.callback_metrics.get('val_select')
            if value is not None and not trainer.sanity_checking:
                spread = ({f'choice_{k}': v for k, v in choice_summary(probs_of(pl_module)).items()}
                          if getattr(pl_module, 'has_choice_weights', True) else {})
                reporter.intermediate('search', trainer.current_epoch + 1, float(value), spread)

    return SearchEpochReporter()


def manager_api() -> Optional[str]:
    """Base URL of the NNI manager's REST API as seen from this trial, or None.

    The local training service gives the trial an HTTP command channel on the
    manager itself (``http://localhost:PORT/env/...``). A remote worker's trial talks
    to a trial keeper on the worker instead; the keeper's ``launcher_config.json``,
    beside the trial directories, names the manager's channel (``ws://IP:PORT/...``,
    ``nniManagerIp`` and the experiment's port), whose host and port serve the API too.
    """
    url = os.environ.get('NNI_TRIAL_COMMAND_CHANNEL', '')
    match = re.match(r'^http://([^/]+)/(?:(.+)/)?env/', url)
    if match and os.environ.get('NNI_PLATFORM') == 'local':
        host, prefix = match.group(1), match.group(2)
        return f'http://{host}/' + (f'{prefix}/' if prefix else '') + 'api/v1/nni'
    out = os.environ.get('NNI_OUTPUT_DIR')
    if not out:
        return None
    env_dir = Path(out).resolve().parent.parent
    for launcher in sorted(env_dir.glob(LAUNCHER_CONFIG_GLOB), reverse=True):
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
    import nni      # deferred: NNI takes seconds to import
    record = trial_parameters()
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
        set_trial_parameters(own)
    return own_params


def own_parameters(printer: Callable[[str], None] = print) -> Any:
    """``nni.get_next_parameter()``, then :func:`adopt_created_parameters`."""
    import nni      # deferred: NNI takes seconds to import
    received = nni.get_next_parameter()
    if received is None:
        return None
    return adopt_created_parameters(printer)


def under_nni() -> bool:
    """True inside a trial NNI started."""
    return bool(os.environ.get('NNI_PLATFORM')) and bool(os.environ.get('NNI_TRIAL_JOB_ID'))


def finish_trial(run_dir: Path, reporter: TrialReporter, result: Dict[str, Any], mode: str,
                 **extra: Any) -> None:
    """A trial's ending, the same for every kind of trial: ``nni_result.json`` (the final
    and intermediate results, with NNI's experiment, trial and parameter ids under NNI),
    then the final result sent to NNI."""
    record = {'select_metric': reporter.select_metric, 'direction': mode, **extra, 'final': result,
              'intermediate': reporter.history}
    if reporter.under_nni:
        import nni      # deferred: NNI takes seconds to import
        record.update(experiment_id=nni.get_experiment_id(), trial_id=nni.get_trial_id(),
                      parameter_id=trial_parameter_id())
    atomic_write_json(Path(run_dir) / 'nni_result.json', record)
    reporter.final(result)


def check_port(port: int) -> int:
    """A usable, idle TCP port for the NNI manager (it also needs nothing on ``port + 1`` for remote workers)."""
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f'--port: must be a TCP port number 1..65535 (got {port!r})')
    with socket.socket() as s:
        if s.connect_ex(('127.0.0.1', port)) == 0:
            raise ConfigError(f'--port {port}: something already listens there; choose another port')
    return port


def trial_main(run_trial: Callable[[Any], int], args: Any, prog: str) -> int:
    """A trial command's body: ``run_trial(args)``; an error is one line on stderr and its exit status."""
    try:
        quiet_libraries()
        return run_trial(args)
    except RMNASError as exc:
        print(f'{prog}: error: {exc}', file=sys.stderr)
        return exc.exit_code


def final_of(metric_data) -> Any:
    """The last final result among the ``data`` values of a trial's ``finalMetricData``, decoded (None
    before it has one): the REST API's ``trial-jobs`` records and NNI's ``list_trial_jobs()`` hold the same.

    NNI stores a metric as a JSON string of the JSON string the trial sent.
    """
    final = None
    for data in metric_data:
        value = json.loads(data) if isinstance(data, str) else data
        final = json.loads(value) if isinstance(value, str) else value
    return final


def manager_get(port: int, api: str, raw: bool = False, timeout: float = 20) -> Any:
    """``GET /api/v1/nni/<api>`` of the NNI manager on 127.0.0.1:``port``: the decoded JSON (``raw``: the text)."""
    url = f'http://127.0.0.1:{port}/api/v1/nni/{api}'
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        body = resp.read().decode('utf-8')
    return body if raw else json.loads(body)


def best_trial(port: int, mode: Optional[str] = None) -> Dict[str, Any]:
    """The best finished trial of the experiment whose NNI manager listens on 127.0.0.1:``port``.

    Trials that succeeded with a finite final ``default`` are ranked by it:
    ``mode`` ``minimize`` / ``maximize``, else the tuner's ``optimize_mode``, else
    ``maximize`` for a multi-trial NAS experiment (its strategies maximise), else an
    error asking for one. The architecture is the final result's ``arch``
    (:func:`final_result`); for a trial that reported none, the manager's copy of
    the trial's ``arch.json`` (``trial-file``).

    Returns ``{'experiment', 'mode', 'trial', 'default', 'trial_dir', 'arch', 'final', 'ranked'}``
    (``ranked``: how many trials were compared).
    """
    import urllib.error
    if mode not in (None, 'minimize', 'maximize'):
        raise ConfigError(f'--mode: minimize or maximize (got {mode!r})')
    try:
        profile = manager_get(port, 'experiment')
        jobs = manager_get(port, 'trial-jobs')
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ConfigError(f'--port {port}: no NNI manager answers on 127.0.0.1:{port} ({exc.__class__.__name__}); '
                          f'is the experiment running? (`nnictl view EXPERIMENT_ID --port {port}` opens a stopped '
                          f'one)') from None
    params = profile.get('params') or {}
    if mode is None:
        mode = ((params.get('tuner') or {}).get('classArgs') or {}).get('optimize_mode')
    if mode is None and params.get('experimentType') == 'nas':
        mode = 'maximize'
    if mode not in ('minimize', 'maximize'):
        raise ConfigError(f'experiment {profile.get("id")}: its tuner names no optimize_mode; pass --mode minimize '
                          f'or --mode maximize')
    scored = []
    for job in jobs:
        final = final_of(m.get('data') for m in job.get('finalMetricData') or [])
        value = final.get('default') if isinstance(final, dict) else final
        if job.get('status') == 'SUCCEEDED' and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value):
            scored.append((float(value), job, final))
    if not scored:
        raise ConfigError(f'experiment {profile.get("id")}: no trial has succeeded with a final result yet '
                          f'({len(jobs)} trials)')
    pick = min if mode == 'minimize' else max
    value, job, final = pick(scored, key=lambda s: s[0])
    arch = None
    if isinstance(final, dict) and isinstance(final.get('arch'), str):
        arch = json.loads(final['arch'])
    else:
        try:
            arch = json.loads(manager_get(port, f"trial-file/{job['trialJobId']}/arch.json", raw=True))
        except (urllib.error.URLError, OSError, ValueError):
            arch = None
    return {'experiment': profile.get('id'), 'mode': mode, 'trial': job['trialJobId'], 'default': value,
            'trial_dir': job.get('logPath'), 'arch': arch, 'final': final, 'ranked': len(scored)}
