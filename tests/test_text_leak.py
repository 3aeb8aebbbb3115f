"""Precomputed BERT vectors at missing rate 1.0 must not leak the sentence.

The label is written only into the [CLS] vector of an MMSA pickle; every other
vector (text, audio, vision) is noise. At ``data.missing.rate: 1.0`` every text
vector is dropped, so a network can do no better than a constant. Keeping the
[CLS] vector (as the token-id protocol keeps the [CLS] id) let a network read the
label off it (test MAE 0.05 against the constant's 1.52: `python bench/text_leak.py`).
"""
import sys

import numpy as np

from conftest import ROOT

sys.path.insert(0, str(ROOT / 'bench'))
from text_leak import leaky_data, run_once  # noqa: E402  (bench/text_leak.py: the data and the run)


def test_label_in_cls_vector_does_not_leak_at_rate_one(tmp_path):
    obj = leaky_data(0)
    mae = run_once(tmp_path, obj, keep_cls=False)
    constant = float(np.mean(np.abs(obj['test']['regression_labels'] - obj['train']['regression_labels'].mean())))
    assert constant > 1.2
    # no better than the constant predictor by a clear margin (with [CLS] kept: 0.05 against 1.52)
    assert mae > 0.8 * constant, (mae, constant)
    assert 'NOT comparable' in (tmp_path / 'run' / 'log.txt').read_text()
