"""The GPU benchmark must never require CUDA: without a device it says so and exits 0; its dry run works on the CPU.

(The benchmarks' timings are printed by the scripts in bench/, never asserted here.)
"""
import json
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
    rows = json.loads((tmp_path / 'r.json').read_text())['rows']
    seen = {(r['what'].split()[0], r['bf16']) for r in rows}
    assert seen == {('search', False), ('search', True), ('retrain', False), ('retrain', True)}
    for r in rows:
        assert 'error' not in r, r
        assert r['steps'] == 3 and r['epoch_s'] > 0 and r['final_loss'] == r['final_loss']   # finite loss
