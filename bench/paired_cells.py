"""Two sweeps of the same cells, paired: every cell's validation and test figures, and the per-seed differences.

Each argument is ``NAME=DIR[:VARIANT]`` (a sweep directory; its ``cells/<variant>/``
cells, ``full`` unless named); the second configuration is the reference. Writes
``cells.csv`` (one row per configuration and cell: validation WAF / MAE of the
retrained network at its selected epoch, what chooses; test WAF / MAE, reported;
the derived architecture's ``identity`` mixers and ``zero`` operations) and
``paired.md`` (first minus second, per seed the mean over the cells' rates, then
mean ± std over seeds; and how many cells derived another architecture, and in how
many of those the first configuration has the lower validation MAE). When both are
SPOS sweeps (``search/candidates.csv`` in every cell), ``paired.md`` adds the exported
candidate's validation MAE with the supernet's weights, the figure the ranking chose
by. Reads only the cells' ``metrics.json``, ``arch.json`` and ``candidates.csv``: a
second or so.

    python bench/paired_cells.py --out docs/results/mosi_exclude_identity \\
        exclude_identity=runs/exclude_identity defaults=runs/arch_valid
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
from pathlib import Path
from typing import Dict, List, Tuple

FIELDS = ('configuration', 'rate', 'seed', 'valid_waf', 'valid_mae', 'waf', 'mae', 'identity_mixers', 'zero_ops')


def cells(name: str, folder: Path, variant: str) -> Dict[Tuple[float, int], Dict]:
    """``{(rate, seed): row}`` of a sweep's cells."""
    out = {}
    for path in sorted(folder.glob(f'cells/{variant}/r*-s*/metrics.json')):
        rate, seed = path.parent.name[1:].split('-s')
        m = json.loads(path.read_text())
        arch = json.loads((path.parent / 'arch.json').read_text())
        out[(float(rate), int(seed))] = {
            'configuration': name, 'rate': float(rate), 'seed': int(seed),
            'valid_waf': m['valid']['waf'], 'valid_mae': m['valid'].get('mae', float('nan')),
            'waf': m['test']['waf'], 'mae': m['test'].get('mae', float('nan')),     # no MAE: classification
            'identity_mixers': sum(k.endswith('/mixer') and v == 'identity' for k, v in arch.items()),
            'zero_ops': sum(k.endswith('/op') and v == 'zero' for k, v in arch.items()),
            '_arch': arch}
        ranking = path.parent / 'search' / 'candidates.csv'
        if ranking.is_file():
            with open(ranking, newline='') as fh:
                top = next(csv.DictReader(fh), {})
            if 'val_mae' in top:
                out[(float(rate), int(seed))]['supernet_valid_mae'] = float(top['val_mae'])
    return out


def has_mae(a: Dict, b: Dict) -> bool:
    """Whether every cell of both sweeps has an MAE (regression); classification cells have none."""
    return all(math.isfinite(c[k][q]) for c in (a, b) for k in c for q in ('valid_mae', 'mae'))


def paired(a: Dict, b: Dict) -> List[Tuple[str, float, float, List[float]]]:
    """``(quantity, mean, std, per seed)`` of a minus b over the cells both hold."""
    keys = sorted(set(a) & set(b))
    seeds = sorted({s for _, s in keys})
    out = []
    mae = has_mae(a, b)
    quantities = ['valid_waf', 'valid_mae', 'waf', 'mae'] if mae else ['valid_waf', 'waf']
    if all('supernet_valid_mae' in c[k] for c in (a, b) for k in keys):
        quantities.insert(2 if mae else 1, 'supernet_valid_mae')
    for q in quantities:
        per = [statistics.mean(a[k][q] - b[k][q] for k in keys if k[1] == s) for s in seeds]
        out.append((q, statistics.mean(per), statistics.stdev(per) if len(per) > 1 else 0.0, per))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', type=Path, required=True, help='folder for cells.csv and paired.md')
    p.add_argument('sweeps', nargs=2, metavar='NAME=DIR[:VARIANT]')
    args = p.parse_args(argv)
    got = []
    for item in args.sweeps:
        name, rest = item.split('=', 1)
        folder, _, variant = rest.partition(':')
        got.append((name, cells(name, Path(folder), variant or 'full')))
    (na, a), (nb, b) = got
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / 'cells.csv', 'w', newline='') as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction='ignore')
        w.writeheader()
        for rows in (a, b):
            w.writerows(rows[k] for k in sorted(rows, key=lambda k: (k[1], k[0])))
    keys = sorted(set(a) & set(b))
    changed = [k for k in keys if a[k]['_arch'] != b[k]['_arch']]
    if has_mae(a, b):
        better = sum(a[k]['valid_mae'] < b[k]['valid_mae'] for k in changed)
        which = 'the lower validation MAE'
    else:
        better = sum(a[k]['valid_waf'] > b[k]['valid_waf'] for k in changed)
        which = 'the higher validation WAF'
    names = {'valid_waf': 'val WAF', 'valid_mae': 'val MAE', 'waf': 'test WAF', 'mae': 'test MAE',
             'supernet_valid_mae': "val MAE with the supernet's weights (exported candidate)"}
    lines = [f'{na} minus {nb}: {len(keys)} cells, per seed the mean over its rates, then mean ± std over seeds.', '',
             '| quantity | mean ± std | per seed |', '|---|---|---|']
    for q, mean, sd, per in paired(a, b):
        fmt = '{:+.4f}' if 'mae' in q else '{:+.2f}'
        lines.append(f'| {names[q]} | {fmt.format(mean)} ± {fmt.format(sd)[1:]} | '
                     + ', '.join(fmt.format(v) for v in per) + ' |')
    lines += ['', f'Cells that derived another architecture: {len(changed)} of {len(keys)}; '
                  f'{na} has {which} in {better} of them.', '']
    (args.out / 'paired.md').write_text('\n'.join(lines))
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
