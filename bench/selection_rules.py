"""Which retraining rule to trust on a small validation set: measured, on validation only.

Each cell (rate, seed, architecture) is trained for ``--epochs`` epochs without
early stopping; the validation and test predictions of every epoch are kept. A
stopping-and-selection rule (validation metric, patience, minimum epochs) is then
replayed on that history. To score a rule without looking at the test set, the
validation dialogues are split in two folds (even / odd rows): the rule picks its
epoch on one fold and is scored on the other, both ways, averaged ("cross-fold
validation score"). The test score of the rule applied to the whole validation set
is reported beside it, never used to choose.

    python bench/selection_rules.py -c examples/mosi_dialogue.yml --rates 0 0.4 0.7 \
        --seeds 0 1 2 --epochs 60 --out bench/results/selection_rules.json
    python bench/selection_rules.py --analyse bench/results/selection_rules.json
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _history(args, rate: float, seed: int, arch_kind: str, overrides):
    import torch
    import rmnas_nni as rn
    from rmnas_nni import pipeline
    from rmnas_nni.baselines import hand_designed_architecture, random_architecture, random_seed
    from rmnas_nni.data import make_loader
    from rmnas_nni.trainer import predict, retrain
    from rmnas_nni.cli import _parse_sets
    sets = _parse_sets([f'data.missing.rate={rate}', f'seed={seed}', 'threads=1',
                        *(f'{k}={v}' for k, v in overrides.items())])
    cfg = rn.load_config(args.config, sets)
    pipeline.quiet_libraries()
    torch.set_num_threads(1)
    data, _ = rn.prepare_data(cfg)
    space = pipeline.build_space(cfg, data)
    if arch_kind == 'hand':
        arch = hand_designed_architecture(space)
    else:
        arch = random_architecture(space, random_seed(seed, int(arch_kind.split(':')[1])))
    model = pipeline.build_fixed_model(cfg, data, arch, seed)
    kind, _ = pipeline.select_metric_of(cfg, data)
    r = cfg.retrain
    splits = data.splits
    val_loader = make_loader(splits['valid'], data.level, r.batch_size, shuffle=False)
    test_loader = make_loader(splits['test'], data.level, r.batch_size, shuffle=False)
    first = data.modalities[0]
    counts = splits['valid'].lengths[first] if data.level == 'dialogue' else np.ones(len(splits['valid']), int)
    fold = np.repeat(np.arange(len(counts)) % 2, counts)
    val_preds, test_preds = [], []

    def on_epoch(epoch, _val):
        val_preds.append(predict(model, val_loader, data.task)[0].tolist())
        test_preds.append(predict(model, test_loader, data.task)[0].tolist())

    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        out = retrain(model, make_loader(splits['train'], data.level, r.batch_size, shuffle=True, seed=seed),
                      val_loader, task=data.task, kind=kind, select_metric='mae' if data.task == 'regression'
                      else 'waf', epochs=args.epochs, patience=args.epochs + 1, lr=r.lr,
                      weight_decay=r.weight_decay, grad_clip=r.grad_clip, seed=seed, out_dir=Path(tmp),
                      printer=lambda s: None, on_epoch=on_epoch)
    return {'rate': rate, 'seed': seed, 'arch': arch_kind, 'kind': kind, 'overrides': overrides,
            'val_label': predict(model, val_loader, data.task)[1].tolist(),
            'test_label': predict(model, test_loader, data.task)[1].tolist(),
            'fold': fold.tolist(), 'val_pred': val_preds, 'test_pred': test_preds,
            'train_loss': [h['train_loss'] for h in out['history']]}


def _metrics(pred, label, kind):
    from rmnas_nni.metrics import compute_metrics
    return compute_metrics(np.asarray(pred), np.asarray(label), kind)


def replay(scores, mode: str, patience: int, min_epochs: int) -> int:
    """The epoch (0-based) a rule keeps: early stopping with ``patience`` after ``min_epochs``."""
    best, best_i, bad = None, 0, 0
    for i, s in enumerate(scores):
        if best is None or (s < best if mode == 'min' else s > best):
            best, best_i, bad = s, i, 0
        else:
            bad += 1
        if bad >= patience and i + 1 >= min_epochs:
            break
    return best_i


RULES = [dict(metric=m, patience=p, min_epochs=e)
         for m, p, e in itertools.product(('waf', 'mae'), (8, 10, 20, 1000), (0, 10, 20))]


def analyse(path: Path) -> str:
    from rmnas_nni.metrics import metric_direction
    cells = json.loads(path.read_text())
    rows = []
    for rule in RULES:
        cross, test, epochs = [], [], []
        for c in cells:
            kind, fold = c['kind'], np.asarray(c['fold'])
            vl = np.asarray(c['val_label'])
            per_fold = []
            for a in (0, 1):
                sel = [_metrics(np.asarray(p)[fold == a], vl[fold == a], kind)[rule['metric']] for p in c['val_pred']]
                i = replay(sel, metric_direction(rule['metric']), rule['patience'], rule['min_epochs'])
                per_fold.append(_metrics(np.asarray(c['val_pred'][i])[fold != a], vl[fold != a], kind))
            cross.append({k: np.mean([f[k] for f in per_fold]) for k in per_fold[0]})
            full = [_metrics(p, vl, kind)[rule['metric']] for p in c['val_pred']]
            i = replay(full, metric_direction(rule['metric']), rule['patience'], rule['min_epochs'])
            epochs.append(i + 1)
            test.append(_metrics(c['test_pred'][i], c['test_label'], kind))
        rows.append((rule, {k: np.mean([x[k] for x in cross]) for k in cross[0]},
                     {k: np.mean([x[k] for x in test]) for k in test[0]}, float(np.mean(epochs)),
                     float(np.mean([e == 1 for e in epochs]))))
    groups = sorted({(json.dumps(c['overrides'], sort_keys=True), c['arch']) for c in cells})
    lines = [f'{len(cells)} cells ({", ".join(f"{o} {a}" for o, a in groups)}), '
             f'rates {sorted({c["rate"] for c in cells})}, seeds {sorted({c["seed"] for c in cells})}', '',
             '| select on | patience | min epochs | cross-fold val WAF | cross-fold val MAE | mean epoch kept '
             '| epoch-1 picks | test WAF | test MAE |', '|---|---|---|---|---|---|---|---|---|']
    for rule, cv, te, ep, first in sorted(rows, key=lambda r: -r[1]['waf']):
        lines.append(f"| {rule['metric']} | {rule['patience'] if rule['patience'] < 1000 else 'none'} | "
                     f"{rule['min_epochs']} | {cv['waf']:.2f} | {cv['mae']:.4f} | {ep:.1f} | {first:.0%} | "
                     f"{te['waf']:.2f} | {te['mae']:.4f} |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('-c', '--config', default=str(ROOT / 'examples' / 'mosi_dialogue.yml'))
    p.add_argument('--rates', type=float, nargs='+', default=[0.0, 0.4, 0.7])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--archs', nargs='+', default=['hand'], help="'hand' or 'random:K'")
    p.add_argument('--epochs', type=int, default=60)
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE', help='config override')
    p.add_argument('--out', type=Path)
    p.add_argument('--analyse', type=Path, help='print the rule table of a results file')
    args = p.parse_args(argv)
    if args.analyse:
        print(analyse(args.analyse))
        return
    overrides = {}
    for s in args.set:
        k, v = s.split('=', 1)
        overrides[k] = v
    cells = json.loads(args.out.read_text()) if args.out and args.out.is_file() else []
    done = {(c['rate'], c['seed'], c['arch'], json.dumps(c['overrides'], sort_keys=True)) for c in cells}
    for rate, seed, arch in itertools.product(args.rates, args.seeds, args.archs):
        if (rate, seed, arch, json.dumps(overrides, sort_keys=True)) in done:
            continue
        t0 = time.perf_counter()
        cells.append(_history(args, rate, seed, arch, overrides))
        print(f'r={rate} seed={seed} {arch} {overrides}: {time.perf_counter() - t0:.0f}s', flush=True)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(cells))


if __name__ == '__main__':
    main()
