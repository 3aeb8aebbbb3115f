"""The Python API: build the space, search, export, retrain, evaluate — what the CLI runs.

    >>> import rmnas_nni as rn
    >>> cfg = rn.load_config('examples/quickstart.yml')
    >>> data, masks = rn.prepare_data(cfg)
    >>> result = rn.search(cfg, data, 'runs/nb')             # writes runs/nb/arch.json
    >>> summary = rn.retrain(cfg, data, result.arch, 'runs/nb')
    >>> summary['test']['mae']

Each function takes the resolved run config (:func:`load_config`), so a notebook
and ``rmnas run`` do exactly the same thing.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from .baselines import hand_designed_architecture, random_architecture, random_seed
from .config import RunConfig, check_missing_rate, dump_yaml, load_run_config, run_config, space_kwargs
from .data import MultimodalData, make_loader
from .data import prepare_data as _prepare_data
from .derivation import derive_architecture, is_gate
from .errors import ArchitectureError, ConfigError, read_input
from .figures import describe_architecture, fused_modalities, run_architecture_figure
from .metrics import (DISPLAY_NAMES, choice_summary, compute_metrics, constant_prediction, default_select_metric, metric_direction,
                      metric_functions, metric_kind)
from .nni_compat import quiet_libraries
from .run_plots import plot_run
from .rundir import (Tee, atomic_torch_save, atomic_write_bytes, atomic_write_json, atomic_write_text,
                     environment_record, file_checksum, load_run, prepare_run_dir)
from .registry import STRATEGIES
from .search_strategy import build_strategy, run_search, seed_epoch
from .single_path import (CANDIDATE_OFFSET, draw_candidates, evolve_single_paths, rank_single_paths, ranking_probs,
                          score_single_paths, set_path, write_ranking)
from .space import RMNASSpace
from .trainer import SeedEnsemble, device_of, evaluate, member_seed, predict
from .trainer import retrain as train_fixed
from .weight_transfer import supernet_state_from_checkpoint, transfer_supernet_weights

__all__ = ['load_config', 'prepare_data', 'build_space', 'check_architecture', 'load_architecture',
           'build_fixed_model', 'attention_architecture', 'search', 'retrain', 'evaluate_run', 'run', 'select_metric_of', 'start_run',
           'load_run', 'count_parameters', 'load_supernet', 'evaluate_search_weights', 'load_retrained']

Printer = Callable[[str], None]


def load_config(path: Optional[os.PathLike | str] = None, overrides: Optional[Dict[str, Any]] = None) -> RunConfig:
    """Resolved run config (see :mod:`rmnas_nni.config`); ``None`` gives the defaults.

    ``path`` is looked up (:func:`~rmnas_nni.config.find_run_config`) as given (absolute,
    or relative to the working directory), then relative to the project root, then as
    a shipped example by name, so ``load_config('examples/quickstart.yml')`` and
    ``load_config('quickstart')`` work from any folder. ``overrides`` is a nested dict
    merged over the file (``{'search': {'epochs': 5}}``).
    """
    return load_run_config(path, overrides)


def prepare_data(cfg: RunConfig) -> Tuple[MultimodalData, Dict[str, Dict[str, np.ndarray]]]:
    """The configured data with the configured missing modalities, and the masks used."""
    return _prepare_data(cfg.data)


def select_metric_of(cfg: RunConfig, data: MultimodalData) -> Tuple[str, str]:
    """``(metric kind, validation metric)`` for this data and config."""
    kind = cfg.metrics or 'auto'
    if kind == 'auto':
        kind = metric_kind(data.task, data.level, data.label_scale)
    elif (kind == 'classification') != (data.task == 'classification'):
        raise ConfigError(f"key 'metrics': the {kind} metrics do not apply to {data.task} data "
                          f"(use auto, or {'classification' if data.task == 'classification' else 'a regression set'})")
    select = cfg.select_metric or default_select_metric(kind)
    sample = metric_functions(kind)(np.zeros(2), np.array([1.0, -1.0]) if data.task == 'regression' else np.zeros(2))
    if select not in sample:
        raise ConfigError(f"select_metric: {select!r} is not computed for {kind} data "
                          f"(available: {', '.join(sample)})")
    return kind, select


def build_space(cfg: RunConfig, data: MultimodalData):
    """The :class:`~rmnas_nni.space.RMNASSpace` for this data and search space."""
    return RMNASSpace(data.dims, data.max_lengths, level=data.level, out_dim=data.out_dim,
                      **space_kwargs(cfg.space))


def count_parameters(module: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def check_architecture(arch: Any, space, source: str = 'arch.json') -> Dict[str, Any]:
    """Check an architecture against the space: every label known and present, every choice valid.

    Besides NNI's single choices, a ``LayerChoice`` (mixer, step operation) may hold a
    list of two or more distinct candidate names: the kept candidates of a threshold
    derivation (:mod:`rmnas_nni.derivation`). An input gate holds one value.
    """
    if not isinstance(arch, dict):
        raise ArchitectureError(f'{source}: top level: expected a JSON object {{label: choice}}')
    mutables = space.simplify()
    for label in arch:
        if label not in mutables:
            raise ArchitectureError(f"{source}: key '{label}': unknown label for this search space")
    for label, mutable in mutables.items():
        if label not in arch:
            raise ArchitectureError(f"{source}: key '{label}': missing (the search space has this choice)")
        value = arch[label]
        values = list(mutable.values)
        if hasattr(mutable, 'n_chosen'):                      # InputChoice: a list of chosen indices
            ok = (isinstance(value, list) and len(value) == (mutable.n_chosen or len(value))
                  and all(isinstance(v, int) and not isinstance(v, bool) and v in values for v in value))
            if not ok:
                raise ArchitectureError(f"{source}: key '{label}': invalid choice {value!r} "
                                        f"(expected a list of {mutable.n_chosen} index in 0..{len(values) - 1})")
        elif isinstance(value, list) and not is_gate(values):
            if len(value) < 2 or len(set(map(str, value))) != len(value) or any(v not in values for v in value):
                raise ArchitectureError(f"{source}: key '{label}': invalid list of kept choices {value!r} "
                                        f"(expected two or more distinct of: {', '.join(map(str, values))})")
        elif isinstance(value, list) or value not in values:
            raise ArchitectureError(f"{source}: key '{label}': invalid choice {value!r} "
                                    f"(choices: {', '.join(map(str, values))})")
    return dict(arch)


def _architecture_json(path: Path) -> Any:
    """An architecture file's JSON (``arch.json``, ``arch_members.json``); one line when unreadable or not JSON."""
    try:
        return json.loads(read_input(path, ArchitectureError))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArchitectureError(f'{path}: not valid JSON') from None


def load_architecture(path: os.PathLike | str, space) -> Dict[str, Any]:
    """Read an ``arch.json`` and check it against the space."""
    path = Path(path)
    return check_architecture(_architecture_json(path), space, str(path))


def attention_architecture(space) -> Dict[str, Any]:
    """A reference point in the space: attention wherever it is a choice, first candidate elsewhere.

    With gated fusion inputs, each Cell input takes its first candidate alone.
    """
    arch = {}
    for label, mutable in space.simplify().items():
        values = list(mutable.values)
        if hasattr(mutable, 'n_chosen'):
            arch[label] = [values[0]]
        elif is_gate(values):
            arch[label] = 'identity' if label.endswith('/cand0') else 'zero'
        else:
            arch[label] = 'attention' if 'attention' in values else values[0]
    return arch


def build_fixed_model(cfg: RunConfig, data: MultimodalData, arch: Dict[str, Any], seed: Optional[int] = None):
    """The fixed network of ``arch``, freshly initialised from ``seed`` (NNI ``model_context``).

    The caller's random state is left as it was.
    """
    from nni.nas.space import model_context
    with torch.random.fork_rng(devices=[]), model_context(arch):
        torch.manual_seed(cfg.seed if seed is None else seed)
        return RMNASSpace(data.dims, data.max_lengths, level=data.level, out_dim=data.out_dim,
                          **space_kwargs(cfg.space))


def build_retrained_model(cfg: RunConfig, data: MultimodalData, arch: Dict[str, Any],
                          members: Optional[List[Dict[str, Any]]] = None):
    """The retrained model's shape: the fixed network, or a :class:`SeedEnsemble` of
    ``retrain.ensemble`` of them (weights to be loaded): of ``arch``, or of ``members``, one
    architecture per member (``retrain.ensemble_of: ranking``)."""
    k = cfg.retrain.ensemble
    if k == 1:
        return build_fixed_model(cfg, data, arch)
    members = members or [arch] * k
    return SeedEnsemble([build_fixed_model(cfg, data, a, member_seed(cfg.seed, i)) for i, a in enumerate(members)])


#: ``retrain.ensemble_of: ranking``: the members' architectures, member 0 first (``arch.json``)
MEMBERS_FILE = 'arch_members.json'


def ensemble_architectures(cfg: RunConfig, arch: Dict[str, Any], run_dir: Path, printer: Printer = print
                           ) -> List[Dict[str, Any]]:
    """The architecture of each of the ``retrain.ensemble`` members: ``arch`` for all (a seed
    ensemble), or with ``retrain.ensemble_of: ranking`` ``arch`` then the next best distinct
    architectures of the search's ranking (``search/candidates.csv``), written to
    ``arch_members.json``. A run without a ranking (a baseline variant, ``rmnas retrain``)
    ensembles seeds of ``arch`` and says so."""
    k = cfg.retrain.ensemble
    if k == 1 or cfg.retrain.ensemble_of == 'seeds':
        return [arch] * k
    ranking = run_dir / 'search' / 'candidates.csv'
    if not ranking.is_file():
        printer(f'retrain: no ranking ({ranking} not found): the {k} members are seeds of one architecture')
        return [arch] * k
    with open(ranking, newline='') as f:
        ranked = [json.loads(row['arch']) for row in csv.DictReader(f)]
    keys = [json.dumps(a, sort_keys=True) for a in ranked]
    key = json.dumps(arch, sort_keys=True)
    others = [(i, a) for i, a in enumerate(ranked, start=1) if keys[i - 1] != key][:k - 1]
    members = [arch] + [a for _, a in others]
    ranks = [keys.index(key) + 1 if key in keys else None] + [i for i, _ in others]
    printer('retrain: ensemble of the ranking, members\' architectures ranked '
            + ', '.join('-' if r is None else str(r) for r in ranks) + f' in {ranking}')
    if len(members) < k:
        printer(f'retrain: the ranking holds {len(members)} architectures; the other members repeat the first '
                f'from their own seeds')
        members += [arch] * (k - len(members))
    atomic_write_json(run_dir / MEMBERS_FILE, members)
    return members


def _data_checksum(cfg: RunConfig, data: MultimodalData) -> Tuple[str, str]:
    path = cfg.data.path
    if cfg.data.format != 'synthetic' and path and Path(path).exists():
        return str(path), file_checksum(path)
    h = hashlib.sha256()
    for name, split in data.splits.items():
        for m in split.features:
            h.update(np.ascontiguousarray(split.features[m]).tobytes())
        h.update(np.ascontiguousarray(split.labels).tobytes())
    return data.name, f'sha256:{h.hexdigest()}'


def start_run(cfg: RunConfig, data: MultimodalData, masks: Dict, run_dir: os.PathLike | str, *, overwrite: bool = False,
              resume: bool = False, quiet: bool = False, adopt: bool = False) -> Tuple[Path, Printer]:
    """Create the run directory with its config, environment and masks; returns it and a printer.

    ``adopt`` uses an existing directory that is not yet a run (an NNI trial directory).
    Every key of ``cfg`` is checked again first, so a value set in Python
    (``cfg.search.epochs = 0``) is refused as the same value in a file is, before
    anything is written.
    """
    run_config(cfg.to_dict(), 'run config')
    run_dir = prepare_run_dir(run_dir, overwrite=overwrite, resume=resume, adopt=adopt)
    printer = Tee(run_dir / 'log.txt', quiet=quiet)
    _setup_torch(cfg)                      # before environment.json, so it records the threads in use
    if not resume:
        atomic_write_text(run_dir / 'config.yaml', dump_yaml(cfg))
        source, checksum = _data_checksum(cfg, data)
        atomic_write_json(run_dir / 'environment.json', environment_record(cfg.seed, source, checksum))
        flat = {f'{split}/{m}': mask for split, by_mod in masks.items() for m, mask in by_mod.items()}
        buf = io.BytesIO()
        np.savez_compressed(buf, **flat)
        atomic_write_bytes(run_dir / 'masks.npz', buf.getvalue())
    return run_dir, printer


def _ensure_run_dir(cfg: RunConfig, data: MultimodalData, run_dir: os.PathLike | str) -> None:
    """Make ``run_dir`` a run directory (``config.yaml``, ``environment.json``, ``masks.npz``) unless it is one.

    For the Python API: ``rn.search(cfg, data, 'runs/nb')`` leaves the same run
    directory as ``rmnas search``, so ``rmnas evaluate`` and ``rmnas figure`` work on
    it. An existing folder that is not a run is used as it is (its files kept). The
    masks are those of ``cfg`` (:func:`prepare_data`), recorded as the CLI records them.
    """
    if (Path(run_dir) / 'config.yaml').is_file():
        return
    _, masks = prepare_data(cfg)
    start_run(cfg, data, masks, run_dir, quiet=True, adopt=True)


def _start_phase(cfg: RunConfig, data: MultimodalData, run_dir: os.PathLike | str) -> Tuple[Path, str, str]:
    """What search and retraining both do first: the run directory made sure of, torch set up
    (threads), the metric set and the selection metric; returns ``(run_dir, kind, select)``."""
    _ensure_run_dir(cfg, data, run_dir)
    _setup_torch(cfg)
    return (Path(run_dir), *select_metric_of(cfg, data))


def _setup_torch(cfg: RunConfig) -> None:
    quiet_libraries()
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))


def train_halves(n: int, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """``search.arch_data: train_half``: the rows of a training split of ``n`` samples (dialogues
    at dialogue level) cut in two by a permutation drawn from ``seed``; the first half (the larger
    one when ``n`` is odd) trains the weights, the second the architecture weights. Sorted rows."""
    perm = np.random.default_rng(seed).permutation(n)
    cut = (n + 1) // 2
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def train_folds(n: int, k: int, seed: int) -> List[np.ndarray]:
    """``strategy_config.options.folds``: the rows of a training split of ``n`` samples (dialogues at
    dialogue level) cut into ``k`` folds by a permutation drawn from ``seed`` (fold sizes differ by
    at most one); each fold's rows sorted."""
    perm = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(perm, k)]


class _RowsRedraw:
    """A :class:`~rmnas_nni.data.missing.TrainingMaskRedraw` for ``rows`` of the training split."""

    def __init__(self, redraw, rows: np.ndarray):
        self.redraw, self.rows = redraw, rows

    def apply(self, target, epoch: int) -> None:
        target.features.update({m: f[self.rows] for m, f in self.redraw.split(epoch).features.items()})


def search(cfg: RunConfig, data: MultimodalData, run_dir: os.PathLike | str, *, resume: bool = False,
           printer: Printer = print, callbacks=()):
    """Search the architecture; writes ``arch.json`` and ``arch_probs.json`` into ``run_dir``.

    ``arch.json`` is derived from NNI's export as ``search.derive`` says (argmax, or
    every choice weighing >= ``search.derive_threshold``: :mod:`rmnas_nni.derivation`).

    ``search.arch_data`` says what the architecture weights step on: the validation split
    (``valid``), or one half of the training split (``train_half``, :func:`train_halves`; the
    weights then step on the other half). Validation always selects the epoch.

    Returns the :class:`~rmnas_nni.search_strategy.SearchResult`.
    """
    run_dir, kind, select = _start_phase(cfg, data, run_dir)
    s, seed = cfg.search, cfg.seed
    seed_epoch(seed, -1)
    space = build_space(cfg, data)
    n_choices = len(space.simplify())
    printer(f'search: {cfg.strategy_config.strategy} over {n_choices} choices, '
            f'{count_parameters(space) / 1e6:.2f}M supernet parameters, up to {s.epochs} epochs')
    splits = data.splits
    n_folds = cfg.strategy_config.options.folds
    if n_folds > len(splits['train']):        # before anything is trained
        raise ConfigError(f"key 'strategy_config.options.folds': {n_folds} folds of a training split of "
                          f"{len(splits['train'])} samples")
    weight_split, arch_split = splits['train'], splits['valid']
    weight_redraw = arch_redraw = data.extra.get('train_redraw')
    if s.arch_data == 'train_half':
        weight_rows, arch_rows = train_halves(len(splits['train']), seed)
        weight_split, arch_split = splits['train'].subset(weight_rows), splits['train'].subset(arch_rows)
        if weight_redraw is not None:
            weight_redraw, arch_redraw = _RowsRedraw(weight_redraw, weight_rows), _RowsRedraw(arch_redraw, arch_rows)
        printer(f'search: weights on {len(weight_rows)} training samples, architecture weights on the other '
                f'{len(arch_rows)}; validation selects the epoch')
    else:
        arch_redraw = None

    def one_search(space, sseed: int, out_dir: Path, printer: Printer, callbacks,
                   weight_split=weight_split, weight_redraw=weight_redraw):
        return run_search(
            space,
            make_loader(weight_split, data.level, s.batch_size, shuffle=True, seed=sseed, redraw=weight_redraw),
            make_loader(arch_split, data.level, s.batch_size, shuffle=True, seed=sseed + 1, redraw=arch_redraw),
            make_loader(splits['valid'], data.level, s.batch_size, shuffle=False),
            task=data.task, metric_kind=kind, select_metric=select, strategy_cfg=cfg.strategy_config,
            epochs=s.epochs, patience=s.patience, seed=sseed, out_dir=out_dir,
            min_epochs=s.min_epochs, export=s.export, resume=resume,
            device=cfg.device, printer=printer, callbacks=callbacks)

    result = one_search(space, seed, run_dir / 'search', printer, callbacks)
    val_loader = make_loader(splits['valid'], data.level, s.batch_size, shuffle=False)
    if STRATEGIES.info(cfg.strategy_config.strategy, 'ranks_single_paths'):
        oneshots, loaders = [result.oneshot], [val_loader]
        n_supernets = cfg.strategy_config.options.supernets
        for k in range(1, n_supernets):
            # further supernets (options.supernets): the same space and data, their own seed
            # (as a seed ensemble's members: trainer.member_seed), into search/supernet<k>/;
            # only the first reports to NNI
            kseed = member_seed(seed, k)
            seed_epoch(kseed, -1)
            tag = f'search, supernet {k + 1}/{n_supernets} (seed {kseed})'
            extra = one_search(build_space(cfg, data), kseed, run_dir / 'search' / f'supernet{k}',
                               lambda line, tag=tag: printer(line.replace('search', tag, 1)), ())
            oneshots.append(extra.oneshot)
            loaders.append(val_loader)
        if n_folds:
            oneshots, loaders = _fold_supernets(cfg, data, one_search, oneshots, loaders, run_dir, printer)
        _rank_single_paths(cfg, data, result, oneshots, loaders, run_dir, kind, select, printer)
    else:
        result.val_metrics = evaluate(result.supernet, val_loader, data.task, kind)
        result.arch = derive_architecture(result.arch, result.probs, s.derive, s.derive_threshold,
                                          exclude_zero=s.exclude_zero, exclude_identity=s.exclude_identity)
    atomic_write_json(run_dir / 'arch.json', result.arch)
    atomic_write_json(run_dir / 'arch_probs.json', result.probs)
    summary = choice_summary(result.probs)
    atomic_write_json(run_dir / 'search' / 'summary.json',
                      {'best_epoch': result.best_epoch, 'epochs_run': result.epochs_run, 'export': s.export,
                       'choices': summary})
    exported = 'last epoch' if s.export == 'final' else f'best epoch {result.best_epoch}'
    printer(f'search: {result.epochs_run} epochs, exported the {exported}; supernet val {select} '
            f'{result.val_metrics[select]:.4f}; choice weights at export: normalised entropy '
            f'{summary.get("entropy", float("nan")):.3f} (1 = uniform), chosen weight '
            f'{summary.get("top_weight", float("nan")):.3f}; architecture -> {run_dir / "arch.json"}')
    return result


def _fold_supernets(cfg: RunConfig, data: MultimodalData, one_search, oneshots, loaders, run_dir: Path,
                    printer: Printer):
    """``options.folds`` K: the training split cut into K folds (:func:`train_folds`, from the run
    seed); supernet k (k = 1 .. K, seed ``seed + 1000 k``, into ``search/fold<k>/``) trains on the
    training samples outside fold k, its epochs validated and stopped on the validation split as
    the first supernet's are, and scores the candidates on fold k (its load-time masks). Returns
    ``oneshots`` and ``loaders`` with the K supernets and their folds appended."""
    s, seed = cfg.search, cfg.seed
    train = data.splits['train']
    n_folds = cfg.strategy_config.options.folds
    redraw = data.extra.get('train_redraw')
    folds = train_folds(len(train), n_folds, seed)
    oneshots, loaders = list(oneshots), list(loaders)
    for k, held_out in enumerate(folds, start=1):
        rows = np.setdiff1d(np.arange(len(train)), held_out)
        kseed = member_seed(seed, k)
        seed_epoch(kseed, -1)
        tag = f'search, fold {k}/{n_folds} (seed {kseed}, {len(rows)} training samples, {len(held_out)} held out)'
        extra = one_search(build_space(cfg, data), kseed, run_dir / 'search' / f'fold{k}',
                           lambda line, tag=tag: printer(line.replace('search', tag, 1)), (),
                           weight_split=train.subset(rows),
                           weight_redraw=None if redraw is None else _RowsRedraw(redraw, rows))
        oneshots.append(extra.oneshot)
        loaders.append(make_loader(train.subset(held_out), data.level, s.batch_size, shuffle=False))
    return oneshots, loaders


def _rank_single_paths(cfg: RunConfig, data: MultimodalData, result, oneshots, loaders, run_dir: Path,
                       kind: str, select: str, printer: Printer) -> None:
    """SPOS's second step (:mod:`~rmnas_nni.single_path`): ``options.candidates`` architectures drawn
    from the run seed, or found by the evolutionary search (``options.ranking``), with
    ``search.exclude_zero`` / ``exclude_identity`` (and ``options.all_modalities``) respected, ranked
    with the trained supernets' weights (``oneshots``, the first ``result.oneshot``), each on its own
    loader (``loaders``: the validation split, or a held-out training fold with ``options.folds``): each candidate's
    metrics are the mean over them; the best becomes ``result.arch``. ``result.val_metrics``
    are the best candidate's validation metrics (the mean over the supernets scored on validation)."""
    s = cfg.search
    n = cfg.strategy_config.options.candidates
    excluded = (['zero'] if s.exclude_zero else []) + (['identity'] if s.exclude_identity else [])
    if cfg.strategy_config.options.ranking == 'evolution':
        ranked = evolve_single_paths(oneshots, result.supernet, cfg.seed, n, loaders, task=data.task,
                                     metric_kind=kind, select_metric=select, excluded=excluded, printer=printer)
    else:
        keep = (lambda arch: reads_every_modality(cfg, arch)) if cfg.strategy_config.options.all_modalities else None
        archs = draw_candidates(result.supernet, cfg.seed, n, CANDIDATE_OFFSET, excluded, keep)
        if len(archs) < n and keep is not None:
            raise ConfigError(f'strategy_config.options.all_modalities: only {len(archs)} of the space\'s random '
                              f'architectures read every modality, {n} wanted (strategy_config.options.candidates)')
        ranked = rank_single_paths(oneshots, archs, loaders, task=data.task, metric_kind=kind,
                                   select_metric=select)
    write_ranking(run_dir / 'search' / 'candidates.csv', ranked, select)
    result.arch, result.val_metrics = ranked[0]
    n_valid = cfg.strategy_config.options.supernets
    if len(oneshots) > n_valid:         # folds: the exported network's validation figures alone
        result.val_metrics = score_single_paths(oneshots[:n_valid], [result.arch], loaders[0], task=data.task,
                                                metric_kind=kind)[0][1]
    set_path(result.oneshot, result.arch)
    result.oneshot.ranked_arch = result.arch
    result.probs = ranking_probs(result.supernet, ranked)
    result.oneshot.ranked_probs = result.probs
    worst = ranked[-1][1][select]
    weights = ("the supernet's weights" if len(oneshots) == 1 else
               f"{len(oneshots)} supernets' weights (mean)" if len(oneshots) == n_valid else
               f"the supernet on validation and {len(oneshots) - n_valid} on their held-out training folds (mean)")
    scored = 'val' if len(oneshots) == n_valid else 'mean held-out'
    printer(f'search: {len(ranked)} architectures ranked with {weights}, {scored} {select} '
            f'{ranked[0][1][select]:.4f} (best) to {worst:.4f}; ranking -> {run_dir / "search" / "candidates.csv"}')


def retrain(cfg: RunConfig, data: MultimodalData, arch: Dict[str, Any], run_dir: os.PathLike | str, *,
            resume: bool = False, printer: Printer = print, on_epoch=None) -> Dict:
    """Retrain ``arch`` from scratch, evaluate on test; writes ``model.pt`` and ``metrics.json``.

    With ``retrain.ensemble`` K > 1, K networks are trained one after the other (member
    k from seed ``seed + 1000 k``, into ``retrain/`` for k = 0 and ``retrain/member<k>/``
    after), each selecting its own epoch; the model is their mean prediction
    (:class:`~rmnas_nni.trainer.SeedEnsemble`) and its validation metrics are the
    ensemble's. The members share ``arch``, or with ``retrain.ensemble_of: ranking`` take
    the next best architectures of the search's ranking (:func:`ensemble_architectures`).
    ``on_epoch`` hears member 0's epochs.
    """
    run_dir, kind, select = _start_phase(cfg, data, run_dir)
    r, seed = cfg.retrain, cfg.seed
    splits = data.splits
    val_loader = make_loader(splits['valid'], data.level, r.batch_size, shuffle=False)
    test_loader = make_loader(splits['test'], data.level, r.batch_size, shuffle=False)
    members, summaries = [], []
    archs = ensemble_architectures(cfg, arch, run_dir, printer)
    distinct = len({json.dumps(a, sort_keys=True) for a in archs}) > 1
    out_dirs = [run_dir / 'retrain' / (f'member{k}' if k else '') for k in range(r.ensemble)]
    for k, out_dir in enumerate(out_dirs):
        mseed = member_seed(seed, k)
        model = build_fixed_model(cfg, data, archs[k], mseed)
        which = (f' {k + 1}/{r.ensemble} (seed {mseed}' + (f', member architecture {k + 1}' if distinct else '')
                 + ')' if r.ensemble > 1 else '')
        printer(f'retrain{which}: fixed network, {count_parameters(model) / 1e6:.2f}M parameters, '
                f'up to {r.epochs} epochs')
        train_loader = make_loader(splits['train'], data.level, r.batch_size, shuffle=True, seed=mseed,
                                   redraw=data.extra.get('train_redraw'))
        summary = train_fixed(model, train_loader, val_loader, task=data.task, kind=kind, select_metric=select,
                              epochs=r.epochs, patience=r.patience, lr=r.lr, weight_decay=r.weight_decay,
                              grad_clip=r.grad_clip, seed=mseed, out_dir=out_dir,
                              min_epochs=r.min_epochs, resume=resume and (out_dir / 'last.pt').is_file(), ema=r.ema,
                              device=cfg.device, printer=printer, on_epoch=on_epoch if k == 0 else None)
        members.append(model)
        summaries.append(summary)
    summary = summaries[0]
    model = members[0] if r.ensemble == 1 else SeedEnsemble(members)
    valid = summary['best_val'] if r.ensemble == 1 else evaluate(model, val_loader, data.task, kind)
    if r.ensemble > 1:
        printer(f'retrain: ensemble of {r.ensemble}, val {select} {valid[select]:.4f} (members: '
                + ', '.join(f'{s["best_val"][select]:.4f}' for s in summaries) + ')')
    pred, label = predict(model, test_loader, data.task)
    test = compute_metrics(pred, label, kind)
    constant = constant_prediction(pred, label, data.task)
    if constant:
        printer('WARNING: the retrained network predicts a constant on the test set '
                '(it learned nothing from its inputs); its metrics are those of a constant predictor')
    atomic_torch_save(model.state_dict(), run_dir / 'model.pt')
    import pandas as pd
    for out_dir, s in zip(out_dirs, summaries):
        atomic_write_text(out_dir / 'history.csv', pd.DataFrame(s['history']).to_csv(index=False))
    out = {'test': test, 'valid': valid, 'select_metric': select, 'metric_kind': kind,
           'best_epoch': summary['best_epoch'], 'epochs_run': summary['epochs_run'],
           'constant_prediction': constant, 'fused_modalities': _fused_modalities(cfg, archs),
           'missing_rate': cfg.data.missing.rate, 'parameters': count_parameters(model)}
    if r.ensemble > 1:
        out['members'] = [{'seed': member_seed(seed, k), 'best_epoch': s['best_epoch'], 'epochs_run': s['epochs_run'],
                           'valid': s['best_val']} for k, s in enumerate(summaries)]
        out['ensemble_of'] = 'ranking' if distinct else 'seeds'
    atomic_write_json(run_dir / 'metrics.json', out)
    return out


def metrics_table(metrics: Dict[str, Dict[str, float]]):
    """``{split: {metric: value}}`` as a pandas table with the literature's metric names."""
    import pandas as pd
    df = pd.DataFrame(metrics).T
    df.columns = [DISPLAY_NAMES.get(c, c) for c in df.columns]
    return df


#: draws tried for ``search.random_all_modalities`` before the run gives up
MAX_RANDOM_DRAWS = 1000
_AMONG_READING = ' (among those whose prediction reads every modality)'


def random_draws(cfg: RunConfig, space) -> List[Dict[str, Any]]:
    """The run's ``search.random_k`` random architectures: draw ``t`` from seed ``random_seed(seed, t)``,
    t = 0, 1, ...; with ``search.random_all_modalities`` the first ``random_k`` draws whose prediction reads every
    modality (so the draws that do are the same with and without it), else the first ``random_k``."""
    k, out = cfg.search.random_k, []
    for t in range(MAX_RANDOM_DRAWS if cfg.search.random_all_modalities else k):
        arch = random_architecture(space, random_seed(cfg.seed, t))
        if not cfg.search.random_all_modalities or reads_every_modality(cfg, arch):
            out.append(arch)
            if len(out) == k:
                return out
    raise ConfigError(f'search.random_all_modalities: only {len(out)} of {MAX_RANDOM_DRAWS} random architectures '
                      f'of the space read every modality, {k} wanted (search.random_k)')


def random_candidates(cfg: RunConfig, data: MultimodalData, run_dir: Path, *, epochs: Optional[int] = None,
                      resume: bool = False, printer: Printer = print) -> List[Tuple[Dict[str, Any], Dict]]:
    """Train each of the run's ``search.random_k`` random architectures (:func:`random_draws`).

    Each is trained like a retrain (``epochs`` overrides ``retrain.epochs``, without
    early stopping: the random search's short training) into
    ``RUN/candidates/arch<k>/``, a run directory with the run's config and masks; a finished candidate (its ``metrics.json``) is not
    trained again on resume. Returns ``[(arch, retrain summary)]`` in draw order.
    """
    space = build_space(cfg, data)
    k = cfg.search.random_k
    ccfg = copy.deepcopy(cfg)
    if epochs is not None:
        ccfg.retrain.epochs = ccfg.retrain.patience = epochs
        ccfg.retrain.min_epochs = 0
    out = []
    for i, arch in enumerate(random_draws(cfg, space)):
        cdir = run_dir / 'candidates' / f'arch{i}'
        done = cdir / 'metrics.json'
        if resume and done.is_file():
            summary = json.loads(done.read_text())
        else:
            cdir.mkdir(parents=True, exist_ok=True)
            for name in ('config.yaml', 'environment.json', 'masks.npz'):      # a run directory of its own
                if (run_dir / name).is_file() and not (cdir / name).is_file():
                    shutil.copyfile(run_dir / name, cdir / name)
            atomic_write_json(cdir / 'arch.json', arch)
            printer(f'random architecture {i + 1}/{k} ({cdir})')
            summary = retrain(ccfg, data, arch, cdir, resume=resume and (cdir / 'retrain' / 'last.pt').is_file(),
                              printer=printer)
        for name in ('last.pt', 'best.pt'):
            (cdir / 'retrain' / name).unlink(missing_ok=True)
        out.append((arch, summary))
    return out


def _best_candidate(candidates: List[Tuple[Dict[str, Any], Dict]], select: str) -> int:
    scores = [c[1]['valid'].get(select, float('nan')) for c in candidates]
    scores = [s if np.isfinite(s) else (np.inf if metric_direction(select) == 'min' else -np.inf) for s in scores]
    return int(np.argmin(scores) if metric_direction(select) == 'min' else np.argmax(scores))


def architecture_for(cfg: RunConfig, data: MultimodalData, run_dir: Path, *, resume: bool = False,
                     printer: Printer = print, callbacks=()) -> Tuple[Dict[str, Any], Any, Optional[Dict]]:
    """The architecture ``search.method`` gives: ``(arch, supernet or None, finished summary or None)``.

    ``oneshot`` searches (:func:`search`); ``hand_designed`` takes the fixed network of
    :mod:`~rmnas_nni.baselines`; ``random_search`` trains ``random_k`` random
    architectures for ``ceil(3 * search.epochs / random_k)`` epochs each and keeps the
    best on validation (**(decision)** the budget: one supernet epoch costs about 3.4
    epochs of a fixed network of the same space on MOSI, so the random search trains
    about as many network-epochs as the one-shot search; both wall times go into
    ``metrics.json`` as ``search_seconds``); ``random`` retrains every one of them fully
    and returns the summary of the best on validation, with the median of all.
    """
    method = cfg.search.method
    arch_path = run_dir / 'arch.json'
    t0 = time.perf_counter()
    if method == 'oneshot':
        if resume and arch_path.is_file():
            printer(f'search: already finished, using {arch_path}')
            return json.loads(arch_path.read_text()), None, None
        result = search(cfg, data, run_dir, resume=resume, printer=printer, callbacks=callbacks)
        _record_search_time(run_dir, time.perf_counter() - t0)
        return result.arch, result.supernet, None
    if method == 'hand_designed':
        arch = hand_designed_architecture(build_space(cfg, data))
        atomic_write_json(arch_path, arch)
        printer(f'hand-designed architecture (not searched) -> {arch_path}')
        return arch, None, None
    _, select = select_metric_of(cfg, data)
    k = cfg.search.random_k
    if method == 'random_search':
        if resume and arch_path.is_file():
            return json.loads(arch_path.read_text()), None, None
        epochs = math.ceil(3 * cfg.search.epochs / k)
        printer(f'random search: {k} random architectures{_AMONG_READING if cfg.search.random_all_modalities else ""}, '
                f'{epochs} epochs each, the best on validation {select}')
        candidates = random_candidates(cfg, data, run_dir, epochs=epochs, resume=resume, printer=printer)
        best = _best_candidate(candidates, select)
        for i in range(k):
            (run_dir / 'candidates' / f'arch{i}' / 'model.pt').unlink(missing_ok=True)
        atomic_write_json(arch_path, candidates[best][0])
        _record_search_time(run_dir, time.perf_counter() - t0)
        printer(f'random search: architecture {best + 1} kept (val {select} '
                f'{candidates[best][1]["valid"][select]:.4f}) -> {arch_path}')
        return candidates[best][0], None, None
    printer(f'random architectures: {k} drawn from the space'
            f'{_AMONG_READING if cfg.search.random_all_modalities else ""}, each retrained; the best on validation '
            f'{select} kept')
    candidates = random_candidates(cfg, data, run_dir, resume=resume, printer=printer)
    best = _best_candidate(candidates, select)
    arch, summary = candidates[best]
    summary = dict(summary)
    metrics = list(summary['test'])
    summary['candidates'] = [{'index': i, 'valid': c['valid'], 'test': c['test'],
                              'constant_prediction': c.get('constant_prediction', False),
                              'fused_modalities': c.get('fused_modalities')}
                             for i, (_, c) in enumerate(candidates)]
    summary['test_median'] = {m: float(np.median([c['test'][m] for _, c in candidates])) for m in metrics}
    summary['chosen'] = best
    atomic_write_json(arch_path, arch)
    shutil.copyfile(run_dir / 'candidates' / f'arch{best}' / 'model.pt', run_dir / 'model.pt')
    for i in range(k):
        (run_dir / 'candidates' / f'arch{i}' / 'model.pt').unlink(missing_ok=True)
    atomic_write_json(run_dir / 'metrics.json', summary)
    printer(f'random architectures: architecture {best + 1} kept (val {select} {summary["valid"][select]:.4f}); '
            f'median test over the {k}: ' + ', '.join(f'{m} {v:.4f}' for m, v in summary['test_median'].items()))
    return arch, None, summary


def _record_search_time(run_dir: Path, seconds: float) -> None:
    path = run_dir / 'search' / 'summary.json'
    record = json.loads(path.read_text()) if path.is_file() else {}
    record['search_seconds'] = round(seconds, 2)
    atomic_write_json(path, record)


def run(cfg: RunConfig, run_dir: os.PathLike | str, *, resume: bool = False, overwrite: bool = False,
        quiet: bool = False, data=None, on_epoch=None, search_callbacks=(), adopt: bool = False) -> Dict:
    """Search (or the baseline of ``search.method``) -> export -> retrain -> evaluate, all into ``run_dir``.

    ``search_callbacks`` are Lightning callbacks added to the search; ``on_epoch(epoch,
    val_metrics)`` is called after every retrain epoch; ``adopt`` uses an existing
    directory that is not yet a run (an NNI trial directory).
    """
    if data is None:
        data, masks = prepare_data(cfg)
    else:
        data, masks = data
    run_dir, printer = start_run(cfg, data, masks, run_dir, overwrite=overwrite, resume=resume, quiet=quiet,
                                 adopt=adopt)
    printer(data.summary(cfg.data.missing.rate))
    arch_path = run_dir / 'arch.json'
    arch, supernet, summary = architecture_for(cfg, data, run_dir, resume=resume, printer=printer,
                                               callbacks=search_callbacks)
    arch_text, figure = _architecture_figure(run_dir)
    if not cfg.retrain.enabled:
        printer(arch_text)
        return {'arch': arch, 'run_dir': str(run_dir)}
    valid_label = 'valid (best epoch)'
    if summary is None and cfg.retrain.weights == 'supernet':
        summary = evaluate_search_weights(cfg, data, arch, run_dir, supernet=supernet, printer=printer)
        valid_label = 'valid'
    elif summary is None:
        summary = retrain(cfg, data, arch, run_dir, resume=resume and (run_dir / 'retrain' / 'last.pt').is_file(),
                          printer=printer, on_epoch=on_epoch)
    search_summary = run_dir / 'search' / 'summary.json'
    if search_summary.is_file():
        summary['search'] = json.loads(search_summary.read_text())
        atomic_write_json(run_dir / 'metrics.json', {k: v for k, v in summary.items() if k != 'report'})
    plot_run(run_dir, summary['select_metric'])
    table = metrics_table({valid_label: summary['valid'], 'test': summary['test']})
    warning = ('\nWARNING: the network predicts a constant on the test set: it learned nothing from its inputs.'
               if summary.get('constant_prediction') else '')
    report = ('\n' + arch_text + '\n\n' + table.to_string(float_format=lambda v: f'{v:.4f}') + warning
              + f'\n\nrun directory: {run_dir}\n  architecture: {arch_path}'
              + (f' (figure: {figure})' if figure else '') + f'\n  choice weights: {run_dir / "arch_probs.json"}'
              f'\n  weights: {run_dir / "model.pt"}\n  metrics: {run_dir / "metrics.json"}'
              f'\n  curves and choice weights: {run_dir / "figures"}\n  log: {run_dir / "log.txt"}')
    printer(report)
    summary['report'] = report
    summary['run_dir'] = str(run_dir)
    summary['arch'] = arch
    return summary


def _fused_modalities(cfg: RunConfig, archs: List[Dict[str, Any]]) -> List[str]:
    """The modalities whose features reach the prediction of any of ``archs`` (an ensemble's members),
    in the config's order (:func:`~rmnas_nni.figures.fused_modalities`)."""
    found = set()
    for arch in archs:
        found.update(fused_modalities(describe_architecture(arch, {}, cfg)))
    return [m for m in cfg.data.modalities if m in found]


def reads_every_modality(cfg: RunConfig, arch: Dict[str, Any]) -> bool:
    """Whether the prediction of ``arch`` reads every modality of ``cfg``'s data (what
    ``search.random_all_modalities`` and ``strategy_config.options.all_modalities`` keep)."""
    return _fused_modalities(cfg, [arch]) == list(cfg.data.modalities)


def _architecture_figure(run_dir: Path) -> Tuple[str, Path]:
    """The architecture as text (choices under 0.2 dropped), and ``architecture.png`` drawn."""
    return run_architecture_figure(run_dir)


def evaluate_run(run_dir: os.PathLike | str, split: str = 'test', rate=None, *,
                 rate_source: str = 'rate') -> Dict[str, float]:
    """Evaluate a finished run's retrained model, optionally at another missing rate.

    ``rate`` is checked as a run config's ``data.missing.rate`` is (a number or
    ``{modality: number}`` in [0, 1]; at most 0.7 at dialogue level); ``rate_source``
    names it in the error (the CLI's ``--rate``).
    """
    if split not in ('train', 'valid', 'test'):
        raise ConfigError(f'split {split!r}: must be one of train, valid, test')
    cfg, data, model, kind = load_retrained(run_dir, rate, rate_source=rate_source)
    loader = make_loader(data.splits[split], data.level, cfg.retrain.batch_size, shuffle=False)
    return evaluate(model, loader, data.task, kind, torch.device('cpu'))


def load_retrained(run_dir: os.PathLike | str, rate=None, *, rate_source: str = 'rate'):
    """A finished run's retrained network on CPU, as :func:`evaluate_run` loads it.

    Returns ``(cfg, data, model, metric kind)``: the run's config (``rate``, when
    given, replacing its missing rate) and its data with the masks that config draws.
    """
    quiet_libraries()
    if rate is not None:
        check_missing_rate(rate, rate_source)
    cfg = load_run(run_dir)
    if rate is not None:
        cfg.data.missing.rate = rate
    data, _ = prepare_data(cfg)
    kind, _ = select_metric_of(cfg, data)
    weights = Path(run_dir) / 'model.pt'
    if not weights.is_file():
        raise ConfigError(f'{weights}: file not found (the run has not finished retraining)')
    space = build_space(cfg, data)
    arch = load_architecture(Path(run_dir) / 'arch.json', space)
    members_file = Path(run_dir) / MEMBERS_FILE
    members = None
    if cfg.retrain.ensemble > 1 and members_file.is_file():
        members = _architecture_json(members_file)
        if not isinstance(members, list) or len(members) != cfg.retrain.ensemble:
            raise ArchitectureError(f'{members_file}: top level: expected a list of {cfg.retrain.ensemble} '
                                    f'architectures (retrain.ensemble)')
        members = [check_architecture(a, space, f'{members_file} [{i}]') for i, a in enumerate(members)]
    model = build_retrained_model(cfg, data, arch, members)
    model.load_state_dict(torch.load(weights, map_location='cpu', weights_only=True))
    return cfg, data, model, kind


def load_supernet(cfg: RunConfig, data, run_dir: os.PathLike | str) -> torch.nn.Module:
    """The trained supernet of a run, rebuilt with NNI and loaded from ``search/checkpoints/best.ckpt``."""
    ckpt_dir = Path(run_dir) / 'search' / 'checkpoints'
    path = ckpt_dir / 'best.ckpt' if (ckpt_dir / 'best.ckpt').is_file() else ckpt_dir / 'last.ckpt'
    state = supernet_state_from_checkpoint(path)
    supernet = build_strategy(cfg.strategy_config, cfg.seed).mutate_model(build_space(cfg, data))
    supernet.load_state_dict(state, strict=True)
    return supernet




def evaluate_search_weights(cfg: RunConfig, data, arch: Dict[str, Any], run_dir: os.PathLike | str, *,
                            supernet: Optional[torch.nn.Module] = None, printer: Printer = print) -> Dict:
    """The ``no_retrain`` final step: the fixed network with the supernet's weights, evaluated.

    ``supernet`` is the trained supernet (as the search left it, best epoch
    restored); without it, it is loaded from the run's search checkpoint. Writes
    ``model.pt`` (the transferred weights) and ``metrics.json`` like a retrain does.
    """
    run_dir = Path(run_dir)
    kind, select = select_metric_of(cfg, data)
    if supernet is None:
        supernet = load_supernet(cfg, data, run_dir)
    model = build_fixed_model(cfg, data, arch, cfg.seed)
    transfer_supernet_weights(supernet, model, arch)
    printer(f'no retraining: fixed network ({count_parameters(model) / 1e6:.2f}M parameters) '
            f'with the supernet\'s search weights')
    dev = device_of(cfg.device)
    bs = cfg.retrain.batch_size
    valid = evaluate(model.to(dev), make_loader(data.splits['valid'], data.level, bs, shuffle=False),
                     data.task, kind, dev)
    test = evaluate(model, make_loader(data.splits['test'], data.level, bs, shuffle=False), data.task, kind, dev)
    atomic_torch_save({k: v.cpu() for k, v in model.state_dict().items()}, run_dir / 'model.pt')
    best_epoch = None
    best = run_dir / 'search' / 'checkpoints' / 'best.ckpt'
    if best.is_file():
        best_epoch = int(torch.load(best, map_location='cpu', weights_only=False)['epoch']) + 1
    out = {'test': test, 'valid': valid, 'select_metric': select, 'metric_kind': kind,
           'best_epoch': best_epoch, 'epochs_run': 0, 'weights': 'supernet',
           'fused_modalities': _fused_modalities(cfg, [arch]),
           'missing_rate': cfg.data.missing.rate, 'parameters': count_parameters(model)}
    atomic_write_json(run_dir / 'metrics.json', out)
    return out
