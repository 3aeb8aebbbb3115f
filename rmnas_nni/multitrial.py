"""Multi-trial NAS: NNI's sampling strategies over the RMNAS space, one NNI trial per architecture.

For users who prefer sampling architectures to DARTS. NNI's ``NasExperiment``
starts the NNI manager (and its web UI) and its strategy samples fixed
architectures from the same :class:`~rmnas_nni.space.RMNASSpace` the one-shot
search uses: ``random`` (NNI ``Random``) or ``evolution`` (NNI
``RegularizedEvolution``). Every sampled architecture runs as one trial, listed
in the web UI, which

* builds that fixed network through NNI (``model_context(sample)``), trains it
  briefly with the retrain trainer (``retrain`` section of the run config, ``epochs``
  epochs) and evaluates it;
* reports every epoch's validation metric as an intermediate result and a final
  result like the HPO trial's (:func:`rmnas_nni.nni_trial.final_result`);
* writes ``arch.json`` (the sample, NNI's ``{label: choice}``), ``model.pt``,
  ``metrics.json`` and ``figures/`` into its NNI trial directory.

The web UI shows every searched choice: the search space NNI receives names each
fusion input choice's candidates (:func:`web_ui_search_space`; NNI cannot convert an
``InputChoice`` itself), and each trial's parameters carry its sample with fusion
inputs by name (:func:`web_ui_sample`), which the trial table and the hyper-parameter
chart show. There a label reads with dots (:func:`web_ui_label`); ``arch.json`` keeps
NNI's labels and choices.

**(decision)** NNI 3.0's multi-trial strategies always maximise the final
``default``; for a lower-is-better metric (``mae``) the trials report
``default = -mae`` (the plain value is ``valid_mae``).

**(decision)** The trial rebuilds the network from the sample with the run's seed
(:func:`rmnas_nni.pipeline.build_fixed_model`) instead of training the instance NNI
built, so a trial's result is reproducible from its ``arch.json`` alone; both
are the same architecture (their parameter counts are checked to agree).

    >>> from rmnas_nni.multitrial import run_multitrial
    >>> summary = run_multitrial(cfg, strategy='evolution', max_trials=50, port=8081)
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from nni.nas.evaluator import FunctionalEvaluator
from nni.nas.experiment import NasExperiment
from nni.nas.experiment.config import SimplifiedModelFormatConfig
from nni.nas.space import SimplifiedModelSpace

from .config import RunConfig, run_config
from .data import load_data
from .errors import ConfigError
from .metrics import metric_direction
from .nni_compat import WEB_UI_SAMPLE_KEY
from .nni_report import (TrialReporter, adopt_created_parameters, check_port, final_of, final_result, finish_trial,
                         manager_get, under_nni)
from .pipeline import (build_fixed_model, build_space, count_parameters, prepare_data, quiet_libraries, retrain,
                       select_metric_of, start_run)
from .run_plots import plot_run
from .rundir import atomic_write_json, atomic_write_text, default_run_dir, prepare_run_dir

__all__ = ['STRATEGIES', 'build_multitrial_strategy', 'ArchitectureEvaluator', 'evaluate_architecture',
           'web_ui_label', 'web_ui_search_space', 'web_ui_sample', 'ReadableModelSpace', 'MultiTrialExperiment',
           'check_port', 'manager_stopped', 'wait_until_stopped', 'run_multitrial']

STRATEGIES = ('random', 'evolution')


def build_multitrial_strategy(name: str, seed: Optional[int] = None, population_size: int = 20,
                              sample_size: int = 5, mutation_prob: float = 0.05):
    """NNI's ``Random`` or ``RegularizedEvolution`` (deduplicated: no architecture twice)."""
    from nni.nas.strategy import Random, RegularizedEvolution
    if name == 'random':
        return Random(dedup=True, seed=seed)
    if name == 'evolution':
        return RegularizedEvolution(population_size=population_size, sample_size=min(sample_size, population_size),
                                    mutation_prob=mutation_prob, dedup=True, seed=seed)
    raise ConfigError(f"--strategy: unknown multi-trial strategy {name!r} (known: {', '.join(STRATEGIES)})")


class ArchitectureEvaluator(FunctionalEvaluator):
    """NNI's function evaluator, also handing the function the sampled architecture.

    ``function(model, sample, **arguments)``: ``sample`` is the ``{label: choice}``
    dict the strategy drew. Before running, the trial adopts the architecture it
    was created for (:func:`rmnas_nni.nni_report.adopt_created_parameters`: NNI 3.0 may
    hand a trial another trial's architecture when several start together).
    """

    def _execute(self, model):
        if under_nni():
            own = adopt_created_parameters()
            if own is not None and hasattr(own, 'sample'):
                model = own
        return self.function(model.executable_model(), dict(model.sample), **self.arguments)


def web_ui_label(label: str) -> str:
    """A choice's name in the web UI: its label with dots (``fusion.cell0.step1.input0``).

    **(decision)** The web UI titles a trial-table column by the name up to its first
    ``/`` (every fusion choice would read "fusion (space)"), so the names it gets have none.
    """
    return label.replace('/', '.')


def web_ui_search_space(space) -> Dict[str, Dict[str, Any]]:
    """Every searched choice of ``space`` as NNI's legacy search space, which the web UI shows.

    A fusion input choice (NNI ``CategoricalMultiple(n_chosen=1)``, which NNI does not
    convert) becomes a ``choice`` over its candidates' names
    (:meth:`~rmnas_nni.space.RMNASSpace.input_choice_names`). Keys: :func:`web_ui_label`.
    """
    names = space.input_choice_names()
    return {web_ui_label(label): {'_type': 'choice', '_value': list(names[label])} if label in names
            else mutable.as_legacy_dict() for label, mutable in space.simplify().items()}


def web_ui_sample(sample: Dict[str, Any], names: Dict[str, List[str]]) -> Dict[str, Any]:
    """The sample as the web UI shows it: a fusion input by its candidate's name (``[2]`` -> ``'vision/block0'``)."""
    return {web_ui_label(label): names[label][value[0]] if label in names and isinstance(value, list)
            and len(value) == 1 else value for label, value in sample.items()}


class ReadableModelSpace(SimplifiedModelSpace):
    """NNI's simplified model space whose frozen models also carry :func:`web_ui_sample`.

    A trial's parameters are the dumped model; under ``mutation_summary`` the web UI
    finds the flat ``{label: value}`` it shows in the trial table and the
    hyper-parameter chart (what NNI 2's NAS sent). Loading ignores the extra key.
    """

    input_names: Dict[str, List[str]] = {}

    @classmethod
    def from_model(cls, model_space, evaluator=None, **configs):
        model = super().from_model(model_space, evaluator, **configs)
        model.input_names = model_space.input_choice_names()
        return model

    def freeze(self, sample):
        model = super().freeze(sample)
        model.input_names = self.input_names
        return model

    def _dump(self) -> dict:
        attrs = super()._dump()
        if self.sample is not None:
            attrs[WEB_UI_SAMPLE_KEY] = web_ui_sample(self.sample, self.input_names)
        return attrs


class MultiTrialExperiment(NasExperiment):
    """NNI's ``NasExperiment`` sending the web UI every searched choice and readable trial parameters."""

    def executable_model_factory(self, config):
        if isinstance(config, SimplifiedModelFormatConfig):
            return ReadableModelSpace.from_model(self.model_space, self.evaluator)
        return super().executable_model_factory(config)

    def _send_space_to_nni_manager(self) -> None:
        self.update_search_space(web_ui_search_space(self.model_space))


def evaluate_architecture(model, sample: Dict[str, Any], config: Dict[str, Any], epochs: int) -> Dict[str, float]:
    """The body of one multi-trial trial: train the sampled architecture briefly, report, keep its files."""

    quiet_libraries()
    cfg = run_config(config, 'the multi-trial run config')
    cfg.retrain.epochs = int(epochs)
    data, masks = prepare_data(cfg)
    _, select = select_metric_of(cfg, data)
    mode = metric_direction(select)
    sign = 1.0 if mode == 'max' else -1.0
    in_nni = under_nni()
    run_dir = Path(os.environ['NNI_OUTPUT_DIR']) if in_nni and os.environ.get('NNI_OUTPUT_DIR') \
        else default_run_dir('multitrial-trial')
    run_dir, printer = start_run(cfg, data, masks, run_dir, adopt=in_nni)
    atomic_write_json(run_dir / 'arch.json', sample)
    fixed = build_fixed_model(cfg, data, sample)
    if count_parameters(fixed) != count_parameters(model):
        raise RuntimeError(f'the network NNI built ({count_parameters(model)} parameters) and the one rebuilt from '
                           f'its sample ({count_parameters(fixed)}) differ')
    printer(data.summary())
    printer(f'multi-trial: sampled architecture -> {run_dir / "arch.json"}')
    reporter = TrialReporter(select, in_nni, printer=printer, sign=sign)
    summary = retrain(cfg, data, sample, run_dir, printer=printer,
                      on_epoch=lambda epoch, val: reporter.intermediate('retrain', epoch, val[select]))
    result = final_result(summary, sample, None, sign=sign)
    plot_run(run_dir, select)
    finish_trial(run_dir, reporter, result, mode, default_sign=sign)
    return result


def _plain(cfg: RunConfig) -> Dict[str, Any]:
    """The run config as plain JSON types (it travels to every trial inside NNI's parameters)."""
    return json.loads(json.dumps(cfg.to_dict()))


def _trial_rows(exp) -> List[Dict[str, Any]]:
    """One row per trial from the NNI manager: id, status, final result, trial directory."""
    rows = []
    for job in exp.list_trial_jobs():
        row: Dict[str, Any] = {'trial': job.trialJobId, 'status': job.status}
        final = final_of(m.data for m in job.finalMetricData or [])
        if isinstance(final, dict):
            row.update({k: v for k, v in final.items() if not isinstance(v, (dict, list))})
        elif final is not None:
            row['default'] = final
        row['trial_dir'] = getattr(job, 'logPath', None)
        rows.append(row)
    return rows


def run_multitrial(cfg: RunConfig, *, strategy: str = 'random', max_trials: int = 8, concurrency: int = 1,
                   epochs: Optional[int] = None, port: int = 8081, out: Optional[os.PathLike | str] = None,
                   experiment_dir: Optional[os.PathLike | str] = None, trial_gpu_number: Optional[int] = None,
                   seed: Optional[int] = None, population_size: int = 20, sample_size: int = 5,
                   keep_open: bool = False, printer: Callable[[str], None] = print) -> Dict[str, Any]:
    """Sample and train ``max_trials`` architectures of the configured space with an NNI strategy.

    Starts the NNI manager on ``port`` (web UI at ``http://127.0.0.1:PORT``; it
    listens on every interface, without authentication), waits for every trial,
    writes ``trials.csv`` / ``trials.md`` (one row per trial, best first) and the best
    architecture's ``arch.json`` into ``out`` as soon as the search ends, and stops
    the manager. With ``keep_open`` the manager (and the web UI) stays up after
    that until Ctrl-C or until it is stopped from outside (``nnictl stop --port
    PORT``, :func:`wait_until_stopped`); then the function returns.

    ``trial_gpu_number``: GPUs per trial (``None``: every trial sees every GPU and
    ``device: auto`` takes the first; ``0``: CPU only).

    Returns ``{'out', 'experiment_id', 'trials', 'best'}``.
    """
    for name, value, least in (('--trials', max_trials, 1), ('--concurrency', concurrency, 1),
                               ('--epochs', epochs if epochs is not None else 1, 1),
                               ('--population', population_size, 1), ('--sample-size', sample_size, 1)):
        if not isinstance(value, int) or value < least:
            raise ConfigError(f'{name}: must be an integer >= {least} (got {value!r})')
    if strategy == 'evolution' and concurrency > population_size:
        raise ConfigError(f'--concurrency {concurrency}: at most --population ({population_size}) with --strategy '
                          f'evolution (NNI\'s RegularizedEvolution mutates finished trials; with more trials at a '
                          f'time than its population it has none to mutate)')
    if trial_gpu_number is not None and trial_gpu_number < 0:
        raise ConfigError(f'--gpus-per-trial: must be >= 0 (got {trial_gpu_number})')
    check_port(port)
    search_strategy = build_multitrial_strategy(strategy, seed, population_size, sample_size)
    data = load_data(cfg.data)
    space = build_space(cfg, data)
    out = prepare_run_dir(out or default_run_dir(f'{cfg.name}-multitrial'))
    epochs = int(epochs or cfg.retrain.epochs)
    evaluator = ArchitectureEvaluator(evaluate_architecture, config=_plain(cfg), epochs=epochs)
    exp = MultiTrialExperiment(space, evaluator, search_strategy)
    c = exp.config
    c.experiment_name = f'{cfg.name}-multitrial-{strategy}'
    c.max_trial_number = max_trials
    c.trial_concurrency = concurrency
    if experiment_dir is not None:
        c.experiment_working_directory = str(Path(experiment_dir).resolve())
    if trial_gpu_number is not None:
        c.trial_gpu_number = trial_gpu_number
        c.training_service.use_active_gpu = False
    printer(f'multi-trial NAS: NNI {type(search_strategy).__name__} over {len(space.simplify())} choices, '
            f'{max_trials} architectures, {concurrency} at a time, {epochs} epochs each')
    printer(f'web UI: http://127.0.0.1:{port}  (the NNI manager listens on every interface, without '
            f'authentication, until the search ends)')
    t0 = time.perf_counter()
    try:
        exp.run(port=port)
        rows = _trial_rows(exp)
        top = [{'metric': m.metric, 'arch': dict(m.sample)} for m in exp.export_top_models(top_k=max_trials)]
        best = _write_outputs(out, rows, top, time.perf_counter() - t0, printer)
        if keep_open:
            printer(f'search done; the web UI stays at http://127.0.0.1:{port} until Ctrl-C or '
                    f'`nnictl stop --port {port}`')
            try:
                wait_until_stopped(exp, port)
            except KeyboardInterrupt:
                pass
    finally:
        _forget_stopped_manager(exp)
        exp.stop()
    return {'out': str(out), 'experiment_id': exp.id, 'trials': rows, 'best': best}


def _write_outputs(out: Path, rows: List[Dict[str, Any]], top: List[Dict[str, Any]], seconds: float,
                   printer: Callable[[str], None]) -> Optional[Dict[str, Any]]:
    """``trials.csv`` / ``trials.md`` (best first), ``top_architectures.json`` and the best ``arch.json``.

    ``trials.csv`` keeps each trial's ``arch`` (its architecture as one JSON string);
    ``trials.md``, a table to read, leaves it out.
    """
    import pandas as pd
    df = pd.DataFrame(rows)
    if 'default' in df:
        df = df.sort_values('default', ascending=False, na_position='last')
    atomic_write_text(out / 'trials.csv', df.to_csv(index=False))
    md = df.drop(columns=['arch'], errors='ignore')
    atomic_write_text(out / 'trials.md', md.to_markdown(index=False) if _has_tabulate() else md.to_string(index=False))
    atomic_write_json(out / 'top_architectures.json', top)
    best = top[0] if top else None
    if best is not None:
        atomic_write_json(out / 'arch.json', best['arch'])
    printer(f'multi-trial NAS: {len(rows)} trials in {seconds:.0f}s; '
            f'table -> {out / "trials.csv"}' + (f'; best architecture -> {out / "arch.json"}' if best else ''))
    failed = [r for r in rows if r['status'] != 'SUCCEEDED']
    if failed:
        printer(f'multi-trial NAS: {len(failed)} of {len(rows)} trials did not succeed; their trial.stderr is in '
                f'their trial directories (trials.csv, column trial_dir)')
    return best


def manager_stopped(exp, port: int) -> bool:
    """Whether the experiment's NNI manager has stopped or is stopping (``nnictl stop``, the REST API)."""
    import urllib.error
    proc = getattr(exp, '_proc', None)
    if proc is not None and proc.poll() is not None:
        return True
    try:
        status = manager_get(port, 'check-status', timeout=10).get('status')
    except (urllib.error.URLError, OSError, ValueError):
        return True                                     # nothing answers on the port any more
    return status in ('STOPPING', 'STOPPED')


def wait_until_stopped(exp, port: int, poll_s: float = 2.0) -> None:
    """Block until the manager stops from outside (``nnictl stop --port PORT``); Ctrl-C ends it too."""
    while not manager_stopped(exp, port):
        time.sleep(poll_s)
    proc = getattr(exp, '_proc', None)
    if proc is not None:
        import subprocess
        try:
            proc.wait(timeout=30)                       # stopped from outside: it exits by itself
        except subprocess.TimeoutExpired:
            pass


def _forget_stopped_manager(exp) -> None:
    """A manager stopped from outside has exited: ``exp.stop()`` then has no manager left to ask."""
    proc = getattr(exp, '_proc', None)
    if proc is not None and proc.poll() is not None:
        exp._proc = None


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
        return True
    except ImportError:
        return False
