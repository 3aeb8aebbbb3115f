#!/usr/bin/env python
"""Gather the goals of every result file in a folder into one Markdown table.

    python bench/summary.py [bench/results]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else Path(__file__).parent / 'results')
    files = sorted(folder.glob('*.json'))
    if not files:
        print(f'{folder}: no result files')
        return 1
    print('| benchmark | figure | measured | goal | met | date | threads | load (1 min) |')
    print('|---|---|---|---|---|---|---|---|')
    for path in files:
        data = json.loads(path.read_text())
        m = data.get('machine', {})
        load = (m.get('load_avg_1_5_15') or ['?'])[0]
        name = data['benchmark'] + (' (smoke: tiny sizes, not a measurement)' if data.get('smoke') else '')
        for g in data.get('goals', []):
            print(f"| {name} | {g['name']} | {g['value']:.3g}{g['unit']} | {g['op']} {g['goal']:g}{g['unit']} "
                  f"| {'yes' if g['met'] else '**no**'} | {m.get('date', '?')[:16]} | {m.get('torch_threads', '?')} "
                  f"| {load} |")
    first = json.loads(files[0].read_text()).get('machine', {})
    print(f"\nmachine: {first.get('host_cpu')}, {first.get('nproc')} cores, torch {first.get('torch')}, "
          f"{first.get('blas')}, CPU capability {first.get('cpu_capability')}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
