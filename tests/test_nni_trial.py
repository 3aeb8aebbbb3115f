"""The NNI trial's pieces without the NNI manager: parameter mapping, results, the parameter check."""
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import yaml

from conftest import ROOT
from rmnas_nni.errors import ConfigError
from rmnas_nni.metrics import metric_direction
from rmnas_nni.nni_trial import (PARAMETERS, TrialReporter, architecture_summary, final_result, map_parameters,
                                 own_parameters, trial_config)


def test_named_and_dotted_parameters_reach_their_config_keys():
    cfg = trial_config(None, {'missing_rate': 0.4, 'seed': 7, 'd_model': 16.0, 'maxdis': 3, 'arch_lr': 2.5,
                              'weights_lr': 1e-3, 'retrain_lr': 2e-3, 'batch_size': 16, 'search.epochs': 2,
                              'space.fusion.width': 24, 'strategy.options.warmup_epochs': 1})
    assert cfg.data.missing.rate == 0.4 and cfg.seed == 7
    assert cfg.space.encoder.d_model == 16 and isinstance(cfg.space.encoder.d_model, int)
    assert cfg.space.lst.maxdis == 3 and cfg.space.fusion.width == 24
    assert cfg.strategy_config.architecture_optimizer.lr == 2.5
    assert cfg.strategy_config.architecture_optimizer.type == 'SGD'      # untouched keys stay
    assert cfg.strategy_config.weights_optimizer.lr == 1e-3
    assert cfg.strategy_config.options.warmup_epochs == 1
    assert cfg.retrain.lr == 2e-3
    assert cfg.search.batch_size == cfg.retrain.batch_size == 16
    assert cfg.search.epochs == 2


def test_parameters_override_the_config_file_and_sets():
    path = ROOT / 'examples' / 'nni_trial_tiny.yml'
    cfg = trial_config(path, {'search_epochs': 1}, {'search': {'epochs': 9}, 'retrain': {'epochs': 2}})
    assert cfg.search.epochs == 1 and cfg.retrain.epochs == 2
    assert cfg.data.missing.rate == yaml.safe_load(path.read_text())['data']['missing']['rate']


@pytest.mark.parametrize('params, message', [
    ({'d_model': 0}, "NNI parameter 'd_model': key 'encoder.d_model': must be > 0"),
    ({'d_model': 32.5}, "NNI parameter 'd_model': key 'encoder.d_model': expected an integer"),
    ({'missing_rate': 1.5}, "NNI parameter 'missing_rate': key 'data.missing.rate'"),
    ({'maxdis': 'far'}, "NNI parameter 'maxdis': key 'lst.maxdis': expected an integer"),
    ({'arch_lr': float('nan')}, "NNI parameter 'arch_lr': key 'architecture_optimizer.lr': must be finite"),
    ({'learning_rate': 0.1}, "NNI parameter 'learning_rate': unknown parameter"),
    ({'search.epoch': 3}, "NNI parameter 'search.epoch': key 'search.epoch' is not a config key"),
    ({'space.encoder': 3}, "key 'encoder' is a section"),
    ({'d_model': 30}, "key 'encoder.n_heads': must divide encoder.d_model"),
    ([1, 2], 'expected a mapping'),
])
def test_bad_parameters_are_one_line_errors_naming_parameter_and_key(params, message):
    with pytest.raises(ConfigError) as err:
        trial_config(None, params)
    assert message in str(err.value) and '\n' not in str(err.value)


def test_every_named_parameter_maps_onto_a_schema_key():
    for name in PARAMETERS:
        mapped = map_parameters({name: 0 if name in ('dropout', 'missing_rate', 'seed') else 1})
        assert any(mapped.values()), name


def test_trial_refuses_a_config_without_retrain():
    with pytest.raises(ConfigError, match="retrain.enabled"):
        trial_config(None, {}, {'retrain': {'enabled': False}})


ARCH = {'text/block0/mixer': 'attention', 'text/block1/mixer': 'pool', 'audio/block0/mixer': 'attention',
        'fusion/cell0/input0': [1], 'fusion/cell0/step0/op': 'zero', 'fusion/cell0/step1/op': 'sum'}
PROBS = {'text/block0/mixer': {'attention': 0.7, 'pool': 0.3}, 'text/block1/mixer': {'attention': 0.4, 'pool': 0.6},
         'audio/block0/mixer': {'attention': 0.9, 'pool': 0.1}, 'fusion/cell0/input0': {'0': 0.2, '1': 0.8},
         'fusion/cell0/step0/op': {'zero': 0.5, 'sum': 0.5}, 'fusion/cell0/step1/op': {'zero': 0.1, 'sum': 0.9}}


def test_architecture_summary_reads_the_chosen_weights():
    s = architecture_summary(ARCH, PROBS)
    assert s['mixer_weight_text'] == pytest.approx(0.65) and s['mixer_weight_audio'] == pytest.approx(0.9)
    assert s['blocks_attention'] == 2 and s['blocks_pool'] == 1
    assert s['fusion_op_weight'] == pytest.approx(0.7) and s['fusion_zero_steps'] == 1


def test_final_result_has_default_metrics_no_nan_and_the_architecture():
    summary = {'select_metric': 'mae', 'valid': {'mae': 0.5, 'corr': 0.7, 'acc2_non0': float('nan')},
               'test': {'mae': 0.6, 'corr': 0.65, 'acc7': 30.0}, 'parameters': 1000, 'best_epoch': 4}
    r = final_result(summary, ARCH, PROBS, search_best_epoch=2)
    assert r['default'] == 0.5 == r['valid_mae']
    assert r['test_mae'] == 0.6 and r['test_acc7'] == 30.0 and r['search_best_epoch'] == 2
    assert 'valid_acc2_non0' not in r
    # numbers are finite; the one string is the architecture, arch.json as JSON
    assert [k for k, v in r.items() if not isinstance(v, float)] == ['arch']
    assert all(math.isfinite(v) for k, v in r.items() if k != 'arch')
    assert json.loads(r['arch']) == ARCH and list(json.loads(r['arch'])) == list(ARCH)
    json.dumps(r, allow_nan=False)


def test_reporter_outside_nni_prints_and_remembers_the_best_epoch():
    lines = []
    rep = TrialReporter('mae', under_nni=False, printer=lines.append)
    for e, v in enumerate([0.9, 0.5, 0.7], 1):
        rep.intermediate('search', e, v)
    rep.intermediate('retrain', 1, float('nan'))
    assert rep.best_epoch('search', 'min') == 2 and rep.best_epoch('search', 'max') == 1
    assert json.loads(lines[0].split('intermediate result ', 1)[1]) == {'default': 0.9, 'search_epoch': 1}
    assert 'not reported' in lines[-1]


def test_search_epochs_report_how_far_the_choice_weights_are_from_uniform():
    """Each search epoch's intermediate result carries the spread of the choice weights (entropy, TV, top weight)."""
    from types import SimpleNamespace
    from rmnas_nni.nni_report import search_epoch_reporter
    lines = []
    rep = TrialReporter('mae', under_nni=False, printer=lines.append, sign=-1.0)
    module = SimpleNamespace(export_probs=lambda: {'text/block0/mixer': {'attention': 0.5, 'pool': 0.5},
                                                   'fusion/cell0/step0/op': {'sum': 0.9, 'zero': 0.1}})
    trainer = SimpleNamespace(callback_metrics={'val_select': 0.8}, sanity_checking=False, current_epoch=2)
    search_epoch_reporter(rep).on_train_epoch_end(trainer, module)
    got = json.loads(lines[0].split('intermediate result ', 1)[1])
    assert got['default'] == -0.8 and got['search_epoch'] == 3
    assert got['choice_mixer_entropy'] == pytest.approx(1.0) and got['choice_mixer_tv_from_uniform'] == pytest.approx(0.0)
    assert got['choice_op_top_weight'] == pytest.approx(0.9) and got['choice_op_tv_from_uniform'] == pytest.approx(0.4)
    assert got['choice_entropy'] == pytest.approx((1.0 + 0.4690) / 2, abs=1e-3)


@pytest.mark.parametrize('name', ['rmnas_experiment.yml', 'rmnas_experiment_tiny.yml', 'rmnas_experiment_remote.yml'])
def test_experiment_files_optimise_in_the_direction_of_the_trials_metric(name):
    """The tuner's optimize_mode must match the direction of the run config's select_metric."""
    from nni.experiment.config import ExperimentConfig
    path = ROOT / 'examples' / name
    exp = yaml.safe_load(path.read_text())
    command = exp['trialCommand'].split()
    assert command[:3] == ['python', '-m', 'rmnas_nni.nni_trial']
    run_cfg = yaml.safe_load((ROOT / command[command.index('--config') + 1]).read_text())
    mode = exp['tuner']['classArgs']['optimize_mode']
    assert {'minimize': 'min', 'maximize': 'max'}[mode] == metric_direction(run_cfg['select_metric'])
    for name in exp['searchSpace']:
        map_parameters({name: exp['searchSpace'][name]['_value'][0]})       # every searched name is known
    if exp['trainingService']['platform'] == 'local':
        ExperimentConfig.load(path).canonical_copy()                          # NNI accepts the file


class _Manager(BaseHTTPRequestHandler):
    record = {'parameter_id': 5, 'parameter_source': 'algorithm', 'parameters': {'d_model': 16}, 'parameter_index': 0}

    def do_GET(self):
        assert self.path == '/api/v1/nni/trial-jobs/TRIAL'
        body = json.dumps({'trialJobId': 'TRIAL', 'hyperParameters': [json.dumps(self.record)]}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_trial_uses_the_parameters_it_was_created_for(monkeypatch):
    """NNI 3.0 may hand a trial another trial's parameters; the trial asks the manager for its own."""
    import nni
    import nni.trial
    server = HTTPServer(('127.0.0.1', 0), _Manager)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        def swapped():
            nni.trial._params = {'parameter_id': 6, 'parameters': {'d_model': 32}}
            return nni.trial._params['parameters']
        monkeypatch.setattr(nni, 'get_next_parameter', swapped)
        monkeypatch.setattr(nni, 'get_trial_id', lambda: 'TRIAL')
        monkeypatch.setattr(nni.trial, '_params', None)
        monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', f'http://127.0.0.1:{server.server_port}/env/local-env/TRIAL')
        monkeypatch.setenv('NNI_PLATFORM', 'local')
        monkeypatch.delenv('NNI_OUTPUT_DIR', raising=False)
        lines = []
        assert own_parameters(lines.append) == {'d_model': 16}
        assert nni.trial._params['parameter_id'] == 5 and 'parameter id 5' in lines[0]
        # without a reachable manager the received parameters are kept
        monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', 'ws://somewhere/env/x')
        assert own_parameters(lines.append) == {'d_model': 32} and 'cannot reach' in lines[-1]
    finally:
        server.shutdown()
        server.server_close()


def test_manager_api_local_channel_and_remote_worker(tmp_path, monkeypatch):
    from rmnas_nni.nni_trial import manager_api
    monkeypatch.setenv('NNI_PLATFORM', 'local')
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', 'http://localhost:8080/env/local-env/abc')
    assert manager_api() == 'http://localhost:8080/api/v1/nni'
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', 'http://localhost:8080/prefix/env/local-env/abc')
    assert manager_api() == 'http://localhost:8080/prefix/api/v1/nni'
    # a remote worker: the trial keeper's launcher config beside the trial directories names the manager
    env_dir = tmp_path / 'nni-experiments' / 'exp' / 'environments' / 'remote-worker1'
    (env_dir / 'trials' / 'abc').mkdir(parents=True)
    (env_dir / 'trial_keeper').mkdir()
    (env_dir / 'trial_keeper' / 'launcher_config.json').write_text(
        json.dumps({'managerCommandChannel': 'ws://10.0.0.1:8080/platform/remote/1'}))
    monkeypatch.setenv('NNI_PLATFORM', 'remote')
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', 'http://localhost:40123/env/remote-worker1/abc')
    monkeypatch.setenv('NNI_OUTPUT_DIR', str(env_dir / 'trials' / 'abc'))
    assert manager_api() == 'http://10.0.0.1:8080/api/v1/nni'
    monkeypatch.delenv('NNI_OUTPUT_DIR')
    assert manager_api() is None


def _job(tid, status, final=None):
    job = {'trialJobId': tid, 'status': status, 'logPath': f'/exp/trials/{tid}'}
    if final is not None:       # as NNI stores it: a JSON string of the JSON string the trial sent
        job['finalMetricData'] = [{'type': 'FINAL', 'data': json.dumps(json.dumps(final))}]
    return job


class _Experiment(BaseHTTPRequestHandler):
    """A stand-in NNI manager: an experiment profile, trial records and trial files."""
    profile = {}
    jobs = []
    files = {}

    def do_GET(self):
        api = self.path[len('/api/v1/nni/'):]
        if api == 'experiment':
            body = json.dumps(self.profile)
        elif api == 'trial-jobs':
            body = json.dumps(self.jobs)
        elif api in self.files:
            body = self.files[api]
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_nni_best_picks_the_best_trial_and_its_architecture(tmp_path, monkeypatch, capsys):
    """rmnas nni-best: the best finished trial in the tuner's direction, its directory and architecture."""
    from rmnas_nni.cli import main
    from rmnas_nni.nni_report import architecture_text, best_trial
    other = dict(ARCH, **{'text/block0/mixer': 'pool'})
    _Experiment.profile = {'id': 'EXP', 'params': {'experimentType': 'hpo',
                                                   'tuner': {'classArgs': {'optimize_mode': 'minimize'}}}}
    _Experiment.jobs = [_job('A', 'SUCCEEDED', {'default': 0.7, 'arch': architecture_text(other)}),
                        _job('B', 'SUCCEEDED', {'default': 0.4, 'arch': architecture_text(ARCH)}),
                        _job('C', 'FAILED'), _job('D', 'RUNNING'),
                        _job('E', 'SUCCEEDED', {'default': 0.9})]                # no arch: read from its directory
    _Experiment.files = {'trial-file/E/arch.json': json.dumps(other)}
    server = HTTPServer(('127.0.0.1', 0), _Experiment)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    try:
        best = best_trial(port)
        assert (best['trial'], best['default'], best['mode'], best['ranked']) == ('B', 0.4, 'minimize', 3)
        assert best['arch'] == ARCH and best['trial_dir'] == '/exp/trials/B'
        best = best_trial(port, 'maximize')
        assert best['trial'] == 'E' and best['arch'] == other
        out = tmp_path / 'best.json'
        assert main(['nni-best', '--port', str(port), '--out', str(out)]) == 0
        printed = capsys.readouterr().out
        assert 'trial B' in printed and '/exp/trials/B' in printed and str(out) in printed
        assert json.loads(out.read_text()) == ARCH
        assert main(['nni-best', '--port', str(port), '--json']) == 0
        assert json.loads(capsys.readouterr().out)['arch'] == ARCH
        # a multi-trial NAS experiment has no tuner: its strategies maximise
        _Experiment.profile = {'id': 'EXP', 'params': {'experimentType': 'nas'}}
        assert best_trial(port)['trial'] == 'E'
        # a grid search names no direction
        _Experiment.profile = {'id': 'EXP', 'params': {'experimentType': 'hpo', 'tuner': {'name': 'GridSearch'}}}
        with pytest.raises(ConfigError, match='--mode'):
            best_trial(port)
    finally:
        server.shutdown()
        server.server_close()
    # nothing listening: one line naming the port
    assert main(['nni-best', '--port', str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f'--port {port}' in err[0]
