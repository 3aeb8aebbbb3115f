"""The GPU benchmark must never require CUDA: without a device it says so and exits 0; its dry run works on the CPU.

(The benchmarks' timings are printed by the scripts in bench/, never asserted here.)
"""
import json
import math
import os
import subprocess
import sys

import pytest
import torch

from conftest import ROOT

SCRIPT = ROOT / 'bench' / 'gpu_paper_size.py'


def run(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA device is present')
def test_gpu_benchmark_without_cuda_says_so_and_exits_0(tmp_path):
    out = run('--json', tmp_path / 'r.json')
    assert out.returncode == 0, out.stderr
    assert 'no CUDA device' in out.stdout
    assert not (tmp_path / 'r.json').exists()


def test_gpu_benchmark_dry_run_on_cpu(tmp_path):
    out = run('--dry-run', '--skip-project', '--threads', 1, '--json', tmp_path / 'r.json')
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / 'r.json').read_text())
    rows, check = data['rows'], data['check']
    for r in rows:
        assert 'error' not in r and 'skipped' not in r, r
    assert {r['part'] for r in rows} == {'peak', 'steps', 'jobs'}
    steps = [r for r in rows if r['part'] == 'steps']
    seen = {(r['what'].split()[0], r['bf16']) for r in steps}
    assert seen == {('search', False), ('search', True), ('retrain', False), ('retrain', True)}
    peaks = {r['precision']: r['flops_per_s'] for r in rows if r['part'] == 'peak'}
    assert set(peaks) == {'fp32', 'bf16'} and all(v > 0 for v in peaks.values())
    assert check['published_peak'] is None                      # the CPU has no entry: measured peak only
    flops = {}
    for r in steps:
        assert r['steps'] == 3 and r['epoch_s'] > 0 and math.isfinite(r['final_loss'])
        assert r['flops_per_step'] > 0 and r['flops_by_op']
        flops.setdefault(r['what'], set()).add(r['flops_per_step'])
        mfu = r['flops_per_step'] / r['step_s'] / peaks[r['precision']]
        assert r['mfu_vs_measured'] == pytest.approx(mfu) and math.isfinite(mfu) and mfu > 0
        assert r['mfu_vs_table'] is None
        if r['precision'] == 'fp32':        # a tiny network's whole step cannot beat a 256 x 256 fp32 matmul
            assert mfu <= 1
    # the FLOPs of a step do not depend on the precision; the supernet's search step counts more than retrain
    assert all(len(v) == 1 for v in flops.values())
    assert flops['search epoch (plain loop)'].pop() > flops['retrain epoch (plain loop)'].pop()
    assert len(check['mfu']) == 4 and len(check['paper_cell']) == 2
    for cell in check['paper_cell']:
        assert cell['steps_per_epoch'] == 3 and cell['cell_s'] > 0
    jobs = [r for r in rows if r['part'] == 'jobs']
    assert [r['jobs'] for r in jobs] == [1, 2]
    for r in jobs:
        assert r['workers_ok'] == r['jobs'] and r['cells_per_hour'] > 0 and r['saturated']
        assert all(w['search_step_s'] > 0 and w['retrain_step_s'] > 0 for w in r['workers'])
    assert check['skipped'] == [] and check['elapsed_s'] < check['budget_s']


def test_gpu_benchmark_budget_skips_and_records(tmp_path):
    out = run('--dry-run', '--budget-s', 0, '--threads', 1, '--json', tmp_path / 'r.json')
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / 'r.json').read_text())
    assert data['rows'] and all(r['skipped'].startswith('budget:') for r in data['rows'])
    assert {r['part'] for r in data['rows']} == {'peak', 'steps', 'jobs', 'project'}
    assert len(data['check']['skipped']) == len(data['rows']) == 2 + 4 + 2 + 3
    assert data['check']['mfu'] == [] and data['check']['jobs'] == []


def test_gpu_benchmark_published_peak_table():
    sys.path.insert(0, str(ROOT / 'bench'))
    from gpu_paper_size import PEAK_TFLOPS, table_peak
    names = {'NVIDIA H100 80GB HBM3': 'H100 SXM', 'NVIDIA H100 PCIe': 'H100 PCIe', 'NVIDIA H100 NVL': 'H100 NVL',
             'NVIDIA H200': 'H200 SXM', 'NVIDIA H200 NVL': 'H200 NVL', 'NVIDIA A100-SXM4-80GB': 'A100',
             'NVIDIA A100 80GB PCIe': 'A100', 'NVIDIA L40S': 'L40S', 'NVIDIA L4': 'L4', 'NVIDIA A10': 'A10'}
    for name, label in names.items():
        got = table_peak(name)
        assert got and got[0] == label, (name, got)
        assert got[1]['fp32'] < got[1]['tf32'] < got[1]['bf16']           # dense tensor-core figures above fp32
    for unknown in ('NVIDIA A10G', 'NVIDIA GH200 480GB', 'Tesla V100-SXM2-16GB', '', 'cpu'):
        assert table_peak(unknown) is None, unknown
    assert table_peak('NVIDIA H200')[1]['bf16'] == 989.5e12 and len(PEAK_TFLOPS) == 9


def _cell(folder, rate, seed, valid_mae, test_mae, supernet_mae=None):
    cell = folder / 'cells' / 'full' / f'r{rate}-s{seed}'
    (cell / 'search').mkdir(parents=True)
    (cell / 'metrics.json').write_text(json.dumps({'valid': {'waf': 70.0, 'mae': valid_mae},
                                                   'test': {'waf': 75.0, 'mae': test_mae}}))
    (cell / 'arch.json').write_text(json.dumps({'text/block0/mixer': 'identity', 'fusion/cell0/step0/op': 'sum'}))
    if supernet_mae is not None:
        (cell / 'search' / 'candidates.csv').write_text(
            f'rank,val_mae,val_waf,arch\n1,{supernet_mae},70,"{{}}"\n2,{supernet_mae + 1},60,"{{}}"\n')


def _paired_cells(a, b, out):
    """bench/paired_cells.py A minus B into ``out``: its stdout, and ``{quantity: 'mean ± std'}`` of its table."""
    run = subprocess.run([sys.executable, str(ROOT / 'bench' / 'paired_cells.py'), '--out', out, f'A={a}', f'B={b}'],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    rows = {line.split('|')[1].strip(): line.split('|')[2].strip() for line in run.stdout.splitlines()
            if line.startswith('| ') and 'quantity' not in line}
    return run.stdout, rows


def test_paired_cells_adds_the_supernet_score_of_the_exported_candidate_only_when_both_sweeps_ranked(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    for seed in (0, 1):
        _cell(a, 0.5, seed, 1.0 + seed, 0.9, supernet_mae=0.5)
        _cell(b, 0.5, seed, 1.5, 0.8, supernet_mae=0.75 + seed)
    _, rows = _paired_cells(a, b, tmp_path / 'o')
    assert rows["val MAE with the supernet's weights (exported candidate)"] == '-0.7500 ± 0.7071'
    assert rows['val MAE'] == '+0.0000 ± 0.7071' and rows['test MAE'] == '+0.1000 ± 0.0000'
    (b / 'cells' / 'full' / 'r0.5-s1' / 'search' / 'candidates.csv').unlink()
    stdout, _ = _paired_cells(a, b, tmp_path / 'o2')
    assert 'supernet' not in stdout and 'val MAE' in stdout


def test_paired_cells_of_classification_sweeps_pair_waf_alone(tmp_path):
    """Classification cells have no MAE: the MAE rows are left out, not a KeyError."""
    a, b = tmp_path / 'a', tmp_path / 'b'
    for folder, wafs in ((a, (60.0, 64.0)), (b, (58.0, 61.0))):
        for seed, waf in enumerate(wafs):
            _cell(folder, 0.7, seed, 1.0, 1.0)
            path = folder / 'cells' / 'full' / f'r0.7-s{seed}' / 'metrics.json'
            path.write_text(json.dumps({'valid': {'waf': waf, 'acc': 50.0}, 'test': {'waf': waf + 1, 'acc': 50.0}}))
    _, rows = _paired_cells(a, b, tmp_path / 'o')
    assert rows == {'val WAF': '+2.50 ± 0.71', 'test WAF': '+2.50 ± 0.71'}


def test_the_tried_table_adds_the_retrainings_epochs_only_when_asked(tmp_path):
    a = tmp_path / 'a'
    for seed, (best, run) in enumerate(((4, 14), (7, 17))):
        _cell(a, 0.5, seed, 1.0, 0.9)
        path = a / 'cells' / 'full' / f'r0.5-s{seed}' / 'metrics.json'
        path.write_text(json.dumps({**json.loads(path.read_text()), 'best_epoch': best, 'epochs_run': run}))
    script = [sys.executable, str(ROOT / 'bench' / 'tried_table.py')]
    plain = subprocess.run(script + [f'A={a}:full'], capture_output=True, text=True, cwd=ROOT)
    asked = subprocess.run(script + ['--retrain-epochs', f'A={a}:full'], capture_output=True, text=True, cwd=ROOT)
    assert plain.returncode == 0 and asked.returncode == 0, plain.stderr + asked.stderr
    header, rule, row = asked.stdout.splitlines()
    assert header.endswith('| retrained: kept epoch | retrained: epochs run |')
    assert rule.count('|') == header.count('|') == row.count('|')
    assert row.endswith('| 5.5 | 15.5 |') and row.startswith('| A | 2 | 70.00 | 1.0000 | 75.00 | 0.9000 |')
    assert plain.stdout.splitlines()[2] + ' 5.5 | 15.5 |' == row
    assert 'kept epoch' not in plain.stdout


def test_the_tried_table_adds_the_share_reading_every_modality_only_when_asked(tmp_path):
    """--modalities: the share of cells whose exported architecture's prediction reads every modality, from each
    cell's config and arch.json (one of two here)."""
    from rmnas_nni.baselines import random_architecture
    from rmnas_nni.config import dump_yaml
    from rmnas_nni.data import load_data
    from rmnas_nni.figures import describe_architecture, fused_modalities
    from rmnas_nni.pipeline import build_space, load_config
    cfg = load_config(None, {'data': {'options': {'sizes': {'train': 16, 'valid': 8, 'test': 8}}}})
    space = build_space(cfg, load_data(cfg.data))
    draws = [random_architecture(space, s) for s in range(200)]
    reads = [fused_modalities(describe_architecture(d, {}, cfg)) == list(cfg.data.modalities) for d in draws]
    a = tmp_path / 'a'
    for seed, arch in enumerate((draws[reads.index(True)], draws[reads.index(False)])):
        _cell(a, 0.5, seed, 1.0, 0.9)
        cell = a / 'cells' / 'full' / f'r0.5-s{seed}'
        (cell / 'arch.json').write_text(json.dumps(arch))
        (cell / 'config.yaml').write_text(dump_yaml(cfg))
    script = [sys.executable, str(ROOT / 'bench' / 'tried_table.py')]
    plain = subprocess.run(script + [f'A={a}:full'], capture_output=True, text=True, cwd=ROOT)
    asked = subprocess.run(script + ['--modalities', f'A={a}:full'], capture_output=True, text=True, cwd=ROOT)
    assert plain.returncode == 0 and asked.returncode == 0, plain.stderr + asked.stderr
    header, rule, row = asked.stdout.splitlines()
    assert header.endswith('| reads every modality |') and rule.count('|') == header.count('|') == row.count('|')
    assert row == plain.stdout.splitlines()[2] + ' 50% |'
    assert 'every modality' not in plain.stdout
