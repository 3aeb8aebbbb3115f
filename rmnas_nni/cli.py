"""The ``rmnas`` command line.

    rmnas run       search -> export -> retrain -> evaluate (default: embedded dataset, CPU-sized space)
    rmnas search    search and export arch.json / arch_probs.json
    rmnas retrain   retrain an exported architecture from scratch and evaluate it
    rmnas evaluate  evaluate a finished run, optionally at another missing rate
    rmnas space     describe a search space: choices and parameter counts
    rmnas sweep     robustness sweep: every missing rate x seed x ablation variant, AUILC table and plots
    rmnas figure    print and draw a run's architecture (the paper's Figure 4)
    rmnas multitrial  multi-trial NAS: NNI's Random / RegularizedEvolution, one NNI trial per architecture
    rmnas nni-best  the best trial of a running NNI experiment: its directory and architecture

Errors in the user's files or arguments print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from .ablations import DESCRIPTIONS, apply_variant, check_variant
from .config import MACHINE_KEYS, RUN_SCHEMA, RunConfig, load_run_config, parse_overrides, validate
from .errors import ConfigError, RMNASError
from .figures import run_architecture_figure
from .nni_compat import quiet_libraries
from .nni_report import best_trial
from .rundir import atomic_write_json, default_run_dir, load_run
from .sweep import load_baseline, load_sweep, plan_cells, resolve_sweep, run_sweep
from .sweep_nni import collect_cells, nni_cell_runner
from .version import __version__

EPILOG = 'Takes --config FILE (a run config, see examples/) and --set KEY=VALUE overrides.'
# machine settings: not part of a run's identity, so --resume may change them


_parse_sets = parse_overrides      # --set KEY=VALUE items -> nested overrides


def _common(p: argparse.ArgumentParser, out: bool = True, noun: str = 'run',
            quiet_help: str = 'print only the final summary') -> None:
    p.add_argument('--config', '-c', help='run config YAML (default: the embedded dataset with search_spaces/tiny.yml)')
    p.add_argument('--set', dest='sets', action='append', default=[], metavar='KEY=VALUE',
                   help='override a config key, e.g. --set search.epochs=2 (repeatable)')
    if out:
        prefix = '' if noun == 'run' else f'{noun}-'
        p.add_argument('--out', '-o', help=f'{noun} directory (default: runs/{prefix}<name>-<time>)')
        p.add_argument('--overwrite', action='store_true', help=f'replace an existing {noun} directory')
        p.add_argument('--resume', metavar=f'{noun.upper()}_DIR',
                       help=f'continue an interrupted {noun} from its checkpoints (with --resume, --set '
                            f'may change only the machine settings: {", ".join(MACHINE_KEYS)})')
        p.add_argument('--quiet', '-q', action='store_true', help=quiet_help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='rmnas', description='RMNAS on NNI: robust multimodal architecture '
                                     'search for sentiment analysis with missing modalities.',
                                     epilog='run, search, retrain, space, sweep and multitrial take --config FILE '
                                            '(a run config, see examples/) and --set KEY=VALUE overrides; '
                                            'rmnas COMMAND --help lists what each command takes.')
    parser.add_argument('--version', action='version', version=f'rmnas-nni {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True
    p = sub.add_parser('run', help='search, export, retrain and evaluate', epilog=EPILOG,
                       description='Search the architecture with NNI, export it, retrain it from scratch and '
                                   'report test metrics, all into one run directory.')
    _common(p)
    _variant(p)
    p = sub.add_parser('search', help='search and export the architecture', epilog=EPILOG,
                       description='Search with the configured NNI one-shot strategy; writes arch.json '
                                   '(NNI {label: choice}) and arch_probs.json (weight of every choice).')
    _common(p)
    _variant(p)
    p = sub.add_parser('retrain', help='retrain an exported architecture from scratch', epilog=EPILOG,
                       description='Build the fixed network of --arch through NNI, train it with early stopping '
                                   'and evaluate it on the test split.')
    _common(p)
    _variant(p)
    p.add_argument('--arch', required=False, help='architecture JSON exported by a search (required unless --resume)')
    p = sub.add_parser('evaluate', help='evaluate a finished run',
                       description="Evaluate a run's retrained model on a split, optionally at another missing rate.")
    p.add_argument('--run', required=True, help='run directory of a finished run or retrain')
    p.add_argument('--split', default='test', choices=['train', 'valid', 'test'],
                   help='split to evaluate on (default: test)')
    p.add_argument('--rate', type=float, default=None, help='missing rate to evaluate at (default: the run\'s)')
    p.add_argument('--json', action='store_true', help='print JSON instead of a table')
    p = sub.add_parser('space', help='describe a search space', epilog=EPILOG,
                       description='List the searched choices and count parameters of the supernet and of the '
                                   'all-attention fixed network for the configured data.')
    _common(p, out=False)
    _variant(p)
    p = sub.add_parser(
        'sweep', help='robustness sweep over missing rates, seeds and ablation variants', epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Search, retrain and test at every missing rate (the paper searches per scenario), for every '
                    'seed and ablation variant; one run directory per cell.\nWrites SWEEP/sweep.csv and sweep.md '
                    '(every cell, mean ± std over seeds per rate, AUILC and mean over rates per variant) and '
                    'SWEEP/plots/<metric>.png.\nRunning it again into the same --out (or --resume SWEEP) skips '
                    'the finished cells.\n\nvariants (combine with +, e.g. no_lst+no_retrain; table7 = the '
                    'paper\'s Table 7 as printed: t7_no_search t7_fusion_search t7_mixer_search t7_full):\n'
                    + _variant_help())
    _common(p, noun='sweep', quiet_help='hide the per-epoch lines of the cells; the per-cell progress '
                                        'lines and the final summary are still printed')
    p.add_argument('--rates', nargs='+', type=float, metavar='R',
                   help='missing rates (default: sweep.rates of the config, else the paper\'s: 0.0..1.0 sentence '
                        'level, 0.0..0.5 CH-SIMS, 0.0..0.7 dialogue level)')
    p.add_argument('--seeds', nargs='+', type=int, metavar='S',
                   help='seeds (default: sweep.seeds of the config, else the config\'s seed)')
    p.add_argument('--variants', nargs='+', metavar='V',
                   help='ablation variants, or table7 for the four rows of the paper\'s Table 7 '
                        '(default: sweep.variants of the config, else full)')
    p.add_argument('--jobs', '-j', type=int, default=1, metavar='N',
                   help='cells run at once, each in its own process, over the visible GPUs or sharing the CPU '
                        'cores (threads of the config, else cores / N each); same numbers as one at a time '
                        'with the same thread count (default: 1)')
    p.add_argument('--baseline', action='append', default=[], metavar='NAME=CSV',
                   help="another model's per-rate test metrics, shown as variant NAME in sweep.md, sweep.csv "
                        'and the plots, AUILC computed the same way; CSV columns: rate, optionally seed, and '
                        'metric columns (mae, acc2_non0, ... or MAE, Acc-2 (non0), ...) (repeatable)')
    g = p.add_argument_group('through NNI (one NNI trial per cell; the same cell directories, table and plots)')
    g.add_argument('--nni', action='store_true',
                   help='run the unfinished cells as an NNI experiment (GridSearch over variant x rate x seed, '
                        'written to SWEEP/experiment.yml), --jobs trials at a time; waits for it, stops it and '
                        'builds the table')
    g.add_argument('--nni-config', metavar='FILE',
                   help='NNI experiment keys laid over the defaults (local training service): trainingService '
                        '(remote, kubeflow, ...), nniManagerIp, trialGpuNumber, trialConcurrency, ... (implies --nni)')
    g.add_argument('--nni-write-only', action='store_true',
                   help='only write SWEEP/experiment.yml, to run with nnictl create --config yourself (implies --nni)')
    g.add_argument('--port', type=int, default=8081, help='port of the NNI manager and web UI (default: 8081)')
    g.add_argument('--table-only', action='store_true',
                   help='run no cell: build the table and plots from the finished cells (after an experiment '
                        'started with --nni-write-only)')
    g.add_argument('--collect', action='append', default=[], metavar='DIR',
                   help='with --resume: first copy the cells that NNI trials left in their own trial directories '
                        '(copied back under DIR) into the sweep (repeatable)')
    p = sub.add_parser('figure', help="print and draw a run's architecture",
                       description="Print a run's architecture and draw it like the paper's Figure 4: per modality "
                                   'and block the token mixer, per fusion Cell its inputs and operations; choices '
                                   'weighing less than --threshold are dropped (the exported one is always kept).')
    p.add_argument('--run', required=True, help='run directory holding arch.json and arch_probs.json')
    p.add_argument('--out', '-o', help='PNG file (default: RUN/architecture.png)')
    p.add_argument('--threshold', type=float, default=0.2, help='drop choices weighing less (default: 0.2)')
    p = sub.add_parser('multitrial', help='multi-trial NAS: sample architectures with an NNI strategy', epilog=EPILOG,
                       description='Sample fixed architectures of the search space with NNI\'s Random or '
                                   'RegularizedEvolution strategy; each one is an NNI trial (listed in the web UI) '
                                   'that trains it briefly and reports. Starts the NNI manager on --port; it listens '
                                   'on every network interface, without authentication, until the search ends.')
    _common(p, out=False)
    p.add_argument('--out', '-o', help='folder for trials.csv and the best arch.json (default: runs/<name>-multitrial-<time>)')
    p.add_argument('--strategy', default='random', choices=['random', 'evolution'],
                   help='NNI Random or RegularizedEvolution (default: random)')
    p.add_argument('--trials', type=int, default=8, help='architectures to sample and train (default: 8)')
    p.add_argument('--concurrency', type=int, default=1, help='trials at a time (default: 1)')
    p.add_argument('--epochs', type=int, default=None, help='training epochs per architecture (default: retrain.epochs)')
    p.add_argument('--port', type=int, default=8081, help='port of the NNI manager and web UI (default: 8081)')
    p.add_argument('--experiment-dir', help='NNI experiment folder (default: ~/nni-experiments)')
    p.add_argument('--gpus-per-trial', type=int, default=None,
                   help='GPUs per trial (default: every trial sees every GPU; 0: CPU only)')
    p.add_argument('--population', type=int, default=20, help='evolution: population size (default: 20)')
    p.add_argument('--sample-size', type=int, default=5, help='evolution: tournament size (default: 5)')
    p.add_argument('--seed', type=int, default=None, help='seed of the strategy\'s sampling (default: the run seed)')
    p.add_argument('--keep-open', action='store_true',
                   help='after the search (its outputs written), keep the web UI up until Ctrl-C or '
                        '`nnictl stop --port PORT`')
    p = sub.add_parser('nni-best', help='the best trial of a running NNI experiment: its directory and architecture',
                       description='Ask the NNI manager on 127.0.0.1:PORT for its trials and print the best one by '
                                   'the final result\'s default: trial id, trial directory and architecture '
                                   '(NNI {label: choice}, the trial\'s arch.json). Works for experiments of '
                                   'nnictl create, rmnas sweep --nni and rmnas multitrial while their manager runs '
                                   '(nnictl view EXPERIMENT_ID --port PORT opens a stopped one).')
    p.add_argument('--port', type=int, default=8080, help='port of the NNI manager (default: 8080)')
    p.add_argument('--mode', choices=['minimize', 'maximize'],
                   help="which default is best (default: the tuner's optimize_mode; maximize for rmnas multitrial)")
    p.add_argument('--out', '-o', help='also write the architecture to this JSON file (as arch.json, for '
                                       'rmnas retrain --arch)')
    p.add_argument('--json', action='store_true', help='print one JSON object instead of lines')
    return parser


def _variant_help() -> str:
    return '\n'.join(f'  {name:<16} {text}' for name, text in DESCRIPTIONS.items())


def _variant(p: argparse.ArgumentParser) -> None:
    p.add_argument('--variant', default='full', metavar='V',
                   help='ablation variant: full, no_lst, no_mixer_search, no_retrain, fusion_only, the rows of '
                        'the paper\'s Table 7 (t7_no_search, t7_fusion_search, t7_mixer_search, t7_full), ... '
                        '(combine with +; rmnas sweep --help lists them all)')


def _load(args) -> RunConfig:
    if getattr(args, 'resume', None):
        if args.config or getattr(args, 'variant', 'full') != 'full':
            raise ConfigError('--resume continues a run with its own config; do not pass --config or --variant')
        return machine_overrides(load_run(args.resume), _parse_sets(args.sets))
    cfg = load_run_config(args.config, _parse_sets(args.sets))
    variant = getattr(args, 'variant', 'full')
    if variant != 'full':
        cfg = apply_variant(cfg, check_variant(variant, '--variant'))
        cfg.name = f"{cfg.name}-{variant}"
    return cfg


def machine_overrides(cfg: RunConfig, sets: Dict[str, Any]) -> RunConfig:
    """``cfg`` with the machine settings of ``--set`` applied on --resume; any other key is refused.

    ``threads`` and ``device`` say where a run computes, not what it computes, so a
    resumed run (or sweep) may change them; everything else would mix two runs.
    """
    others = [k for k in sets if k not in MACHINE_KEYS]
    if others:
        raise ConfigError(f"--set {others[0]}: --resume continues with the stored config; only the machine "
                          f"settings ({', '.join(MACHINE_KEYS)}) may be changed")
    if not sets:
        return cfg
    checked = validate(sets, {k: RUN_SCHEMA[k] for k in sets}, '--set')
    if checked.get('device') == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise ConfigError("--set device=cuda: no CUDA device is available here (use auto or cpu)")
    return dataclasses.replace(cfg, **checked)


def _run_dir(args, cfg) -> tuple:
    if args.resume:
        return Path(args.resume), True
    return Path(args.out) if args.out else default_run_dir(cfg.name), False


def cmd_run(args) -> int:
    cfg = _load(args)
    from .pipeline import run
    run_dir, resume = _run_dir(args, cfg)
    summary = run(cfg, run_dir, resume=resume, overwrite=args.overwrite, quiet=args.quiet)
    if args.quiet:
        print(summary['report'])    # --quiet hides the progress, not the result
    return 0


def cmd_search(args) -> int:
    cfg = _load(args)
    from .pipeline import prepare_data, search, start_run
    data, masks = prepare_data(cfg)
    run_dir, resume = _run_dir(args, cfg)
    run_dir, printer = start_run(cfg, data, masks, run_dir, overwrite=args.overwrite, resume=resume,
                                 quiet=args.quiet)
    printer(data.summary())
    search(cfg, data, run_dir, resume=resume, printer=printer)
    print(f'architecture: {run_dir / "arch.json"}\nchoice weights: {run_dir / "arch_probs.json"}')
    return 0


def cmd_retrain(args) -> int:
    cfg = _load(args)
    from .pipeline import build_space, load_architecture, metrics_table, prepare_data, retrain, start_run
    data, masks = prepare_data(cfg)
    run_dir, resume = _run_dir(args, cfg)
    if resume:
        arch_file = run_dir / 'arch.json'
    elif args.arch:
        arch_file = Path(args.arch)
    else:
        raise ConfigError('retrain: --arch FILE is required')
    arch = load_architecture(arch_file, build_space(cfg, data))
    run_dir, printer = start_run(cfg, data, masks, run_dir, overwrite=args.overwrite, resume=resume,
                                 quiet=args.quiet)
    if not resume:
        atomic_write_json(run_dir / 'arch.json', arch)
    summary = retrain(cfg, data, arch, run_dir, resume=resume and (run_dir / 'retrain' / 'last.pt').is_file(),
                      printer=printer)
    table = metrics_table({'valid (best epoch)': summary['valid'], 'test': summary['test']})
    print('\n' + table.to_string(float_format=lambda v: f'{v:.4f}'))
    print(f'\nmetrics: {run_dir / "metrics.json"}\nweights: {run_dir / "model.pt"}')
    return 0


def cmd_evaluate(args) -> int:
    from .pipeline import evaluate_run, metrics_table
    metrics = evaluate_run(args.run, args.split, args.rate, rate_source='--rate')
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        label = args.split + (f' (missing rate {args.rate})' if args.rate is not None else '')
        print(metrics_table({label: metrics}).to_string(float_format=lambda v: f'{v:.4f}'))
    return 0


def cmd_space(args) -> int:
    from .pipeline import (attention_architecture, build_fixed_model, build_space, count_parameters,
                           quiet_libraries)
    from .data import load_data
    quiet_libraries()
    cfg = _load(args)
    data = load_data(cfg.data)
    space = build_space(cfg, data)
    mutables = space.simplify()
    print(f'search space {cfg.search_space}')
    print(f'data: {data.summary()}')
    print(f'{len(mutables)} searched choices:')
    for label, m in mutables.items():
        print(f'  {label}: {list(m.values)}')
    print(f'supernet parameters: {count_parameters(space):,}')
    fixed = build_fixed_model(cfg, data, attention_architecture(space))
    print(f'fixed network (attention everywhere, first inputs): {count_parameters(fixed):,} parameters')
    return 0


def cmd_sweep(args) -> int:
    if args.resume:
        if args.config or args.rates or args.seeds or args.variants or args.out:
            raise ConfigError('--resume continues a sweep as it was started; do not pass --config, '
                              '--rates, --seeds, --variants or --out')
        if args.overwrite:
            raise ConfigError('--resume continues a sweep; --overwrite would delete it: pass one of them')
        base, spec = load_sweep(args.resume)
        base = machine_overrides(base, _parse_sets(args.sets))
        sweep_dir, resume = Path(args.resume), True
    else:
        base = load_run_config(args.config, _parse_sets(args.sets))
        spec = resolve_sweep(base, args.rates, args.seeds, args.variants, args.config or '<defaults>')
        sweep_dir, resume = (Path(args.out) if args.out else default_run_dir(f"sweep-{base.name}")), False
    runner = None
    if args.table_only:
        runner = _no_cells
    elif args.nni or args.nni_config or args.nni_write_only:
        runner = nni_cell_runner(nni_config=args.nni_config, port=args.port, concurrency=args.jobs,
                                 write_only=args.nni_write_only)
    if args.collect:
        if not resume:
            raise ConfigError('--collect puts cells into an existing sweep: pass it with --resume SWEEP')
        collect_cells(sweep_dir, args.collect, plan_cells(base, spec.rates, spec, sweep_dir))
    try:
        result = run_sweep(base, spec, sweep_dir, overwrite=args.overwrite, resume=resume, quiet=args.quiet,
                           jobs=args.jobs, cell_runner=runner,
                           baselines=_baselines(args.baseline))
    except KeyboardInterrupt:
        if not (sweep_dir / 'sweep.yaml').is_file():
            print('rmnas: interrupted before the sweep started', file=sys.stderr)
            return 130
        again = f'rmnas sweep --resume {shlex.quote(str(sweep_dir))}'
        if args.nni_config:
            again += f' --nni-config {shlex.quote(args.nni_config)}'
        elif args.nni:
            again += ' --nni'
        print(f'rmnas: interrupted; continue with {again}', file=sys.stderr)
        return 130
    return 3 if result.failed else 0


def _no_cells(base, cells, sweep_dir, printer):
    """``--table-only``: run nothing."""
    return None


def _baselines(items: List[str]) -> Dict[str, Any]:
    """``['ours=ours.csv']`` -> ``{'ours': frame}`` (:func:`rmnas_nni.sweep.load_baseline`)."""
    out: Dict[str, Any] = {}
    for item in items:
        name, sep, path = item.partition('=')
        if not sep or not name.strip() or not path.strip():
            raise ConfigError(f'--baseline {item}: expected NAME=CSV (e.g. --baseline mymodel=mymodel.csv)')
        name = name.strip()
        if name in out:
            raise ConfigError(f'--baseline {item}: the name {name} is given twice')
        out[name] = load_baseline(name, path.strip())
    return out


def cmd_figure(args) -> int:
    if not 0.0 <= args.threshold <= 1.0:
        raise ConfigError(f'--threshold {args.threshold}: must be between 0 and 1')
    text, path = run_architecture_figure(args.run, args.out, args.threshold)
    print(text)
    print(f'\nfigure: {path}')
    return 0


def cmd_multitrial(args) -> int:
    import logging
    from .multitrial import run_multitrial
    cfg = load_config_checked(args)
    logging.getLogger('nni.nas.strategy').setLevel(logging.INFO)
    run_multitrial(cfg, strategy=args.strategy, max_trials=args.trials, concurrency=args.concurrency,
                   epochs=args.epochs, port=args.port, out=args.out, experiment_dir=args.experiment_dir,
                   trial_gpu_number=args.gpus_per_trial, seed=cfg.seed if args.seed is None else args.seed,
                   population_size=args.population, sample_size=args.sample_size, keep_open=args.keep_open)
    return 0


def cmd_nni_best(args) -> int:
    best = best_trial(args.port, args.mode)
    if best['arch'] is None:
        raise ConfigError(f"trial {best['trial']}: neither its final result nor its directory holds an "
                          f"architecture")
    if args.out:
        atomic_write_json(Path(args.out), best['arch'])
    if args.json:
        print(json.dumps({k: v for k, v in best.items() if k != 'final'}, indent=2))
    else:
        print(f"experiment {best['experiment']}: best of {best['ranked']} finished trials ({best['mode']} default): "
              f"trial {best['trial']}, default {best['default']:.6g}")
        print(f"trial directory: {best['trial_dir']}")
        print('architecture: {\n' + ',\n'.join(f'  {json.dumps(k)}: {json.dumps(v)}' for k, v in best['arch'].items())
              + '\n}')
    if args.out:
        print(f'architecture -> {args.out}', file=sys.stderr if args.json else sys.stdout)
    return 0


def load_config_checked(args) -> RunConfig:
    return load_run_config(args.config, _parse_sets(args.sets))


COMMANDS = {'run': cmd_run, 'search': cmd_search, 'retrain': cmd_retrain, 'evaluate': cmd_evaluate,
            'space': cmd_space, 'sweep': cmd_sweep, 'figure': cmd_figure,
            'multitrial': cmd_multitrial, 'nni-best': cmd_nni_best}


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        quiet_libraries()
        return COMMANDS[args.command](args)
    except RMNASError as exc:
        print(f'rmnas: error: {exc}', file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print('rmnas: interrupted; continue with --resume RUN_DIR', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
