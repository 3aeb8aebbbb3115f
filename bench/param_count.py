#!/usr/bin/env python
"""Parameter counts of the paper's search space (``search_spaces/rmnas.yml``) on MOSI-sized inputs.

Text 768-d x 50 tokens, audio 5-d x 375, vision 20-d x 500, sentence level, one
regression output. Printed and written as JSON: the supernet's parameters (every
candidate), the fixed network with attention in every block, and the values held in
the frozen random-mixing matrices of the supernet (buffers, not parameters).

    python bench/param_count.py [--json bench/results/param_count.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIMS = {'text': 768, 'audio': 5, 'vision': 20}
LENGTHS = {'text': 50, 'audio': 375, 'vision': 500}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--json', default=str(ROOT / 'bench' / 'results' / 'param_count.json'))
    args = ap.parse_args()
    warnings.filterwarnings('ignore')
    from nni.nas.space import model_context
    from rmnas_nni.config import load_space_config, space_kwargs
    from rmnas_nni.pipeline import attention_architecture, count_parameters
    from rmnas_nni.space import RMNASSpace
    from rmnas_nni.token_mixers import RandomMixer
    kw = space_kwargs(load_space_config(ROOT / 'search_spaces' / 'rmnas.yml'))
    space = RMNASSpace(DIMS, LENGTHS, level='sentence', out_dim=1, **kw)
    with model_context(attention_architecture(space)):
        fixed = RMNASSpace(DIMS, LENGTHS, level='sentence', out_dim=1, **kw)
    buffers = sum(b.numel() for m in space.modules() if isinstance(m, RandomMixer) for b in m.buffers())
    record = {'supernet_parameters': count_parameters(space), 'fixed_attention_parameters': count_parameters(fixed),
              'random_mixing_buffer_values': int(buffers)}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=1) + '\n')
    for k, v in record.items():
        print(f'{k}: {v:,}')


if __name__ == '__main__':
    main()
