"""Single-path one-shot search (SPOS): a supernet trained one random path at a time, then ranked.

The choice weights of a DARTS search do not rank the architectures of this space as
retraining does (``docs/quality.md`` §1: Kendall's tau +0.02 against retrained
validation on MOSI), and the weights of a DARTS supernet are co-adapted to the
mixture, not to any one network. SPOS (Guo et al., "Single Path One-Shot Neural
Architecture Search with Uniform Sampling") separates the two steps:

1. **Supernet training.** Every training step samples one architecture uniformly
   (NNI's :class:`~nni.nas.strategy.RandomOneShot` path sampling) and steps the
   weights of that path only, with the weights optimizer of the strategy YAML.
   There are no architecture weights. Each epoch is validated on a fixed *panel* of
   ``options.panel`` architectures (drawn once from the run seed): their predictions
   are pooled into one validation figure, which early stopping and the best epoch
   use as for DARTS.
2. **Ranking.** ``options.candidates`` architectures are drawn uniformly from the run
   seed (:func:`~rmnas_nni.baselines.random_architecture`; with ``search.exclude_zero``
   / ``search.exclude_identity`` a draw holding a ``zero`` operation / an ``identity``
   mixer is drawn again), each is evaluated on the validation split with the
   supernet's weights, and the best by ``select_metric`` is exported (``arch.json``;
   the whole ranking in ``search/candidates.csv``). With ``options.ranking:
   evolution`` the same number of candidates comes from SPOS's evolutionary search
   instead (:func:`evolve_single_paths`): later candidates are mutations and
   crossovers of the best scored so far. With ``options.supernets`` K > 1, K supernets
   are trained from K seeds (the run's, then ``seed + 1000 k``) and each candidate is
   scored by the mean of its validation metrics under them (a ranking less tied to
   one supernet's training noise, at K times the supernet training). With ``options.folds``
   K, the K further supernets are trained each without one of K folds of the training split
   and score the candidates on that fold: a candidate's metrics are then the mean over the
   validation split and the K folds, every training sample held out once (a ranking on
   about 6.5 times the samples of the 11 validation videos at MOSI's dialogue level).

``arch_probs.json`` then holds, per choice, how often each candidate appears among the
best-ranked tenth of the candidates: a distribution that is uniform when the ranking
prefers nothing, and which ``choice_summary`` measures like DARTS's softmax weights.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from nni.nas.oneshot.pytorch.sampling import RandomSamplingLightningModule
from nni.nas.strategy import RandomOneShot

from .baselines import choice_table, draw_choices, random_architecture, random_seed
from .derivation import avoids
from .metrics import metric_direction
from .registry import STRATEGIES
from .rundir import atomic_write_text
from .search_strategy import rng_states, seed_epoch, set_rng_states
from .trainer import evaluate

__all__ = ['RMNASSposModule', 'RMNASSpos', 'draw_candidates', 'rank_single_paths', 'evolve_single_paths',
           'ranking_probs', 'holds_excluded']

#: the offsets of the candidate and panel draws' generator indices (``random_arch`` uses its
#: own indices from 0: the three sets of draws are independent)
CANDIDATE_OFFSET = 10_000
PANEL_OFFSET = 20_000
#: the generator index of the evolutionary search's draws (:func:`evolve_single_paths`)
EVOLUTION_OFFSET = 30_000


def holds_excluded(arch: Dict[str, Any], excluded: Sequence[str], mutables: Dict[str, Any]) -> bool:
    """Whether ``arch`` chooses a candidate that :func:`~rmnas_nni.derivation.derive_architecture` would
    replace when it excludes ``excluded`` (``zero`` operations, ``identity`` mixers)."""
    return any(avoids(v, [str(c) for c in mutables[label].values], excluded) for label, v in arch.items())


def draw_candidates(space, seed: int, n: int, offset: int, excluded: Sequence[str] = (),
                    keep: Optional[Callable[[Dict[str, Any]], bool]] = None) -> List[Dict[str, Any]]:
    """``n`` distinct architectures drawn uniformly from ``space`` (none holding an ``excluded`` candidate, each
    one that ``keep`` accepts), fewer if ``100 n + 1000`` draws do not find them."""
    mutables = space.simplify()
    out: List[Dict[str, Any]] = []
    seen = set()
    index = 0
    while len(out) < n and index < 100 * n + 1000:
        arch = random_architecture(space, random_seed(seed, offset + index))
        index += 1
        key = json.dumps(arch, sort_keys=True)
        if key in seen or holds_excluded(arch, excluded, mutables) or (keep is not None and not keep(arch)):
            continue
        seen.add(key)
        out.append(arch)
    return out


def set_path(oneshot, arch: Dict[str, Any]) -> None:
    """Point every path-sampling module of the supernet at ``arch``'s choices."""
    memo: Dict[str, Any] = {}
    for module in oneshot.supernet_modules():
        memo.update(module.resample(memo={**arch, **memo}))


class RMNASSposModule(RandomSamplingLightningModule):
    """NNI's random path sampling, with RMNAS's weight step, seeding and panel validation."""

    #: no architecture weights are learned: the per-epoch choice-weight records
    #: (``search/choices.csv``, the NNI intermediate results' ``choice_*`` keys) are left out
    has_choice_weights = False

    def __init__(self, training_module, *, seed: int = 0, gradient_clip_val: Optional[float] = None,
                 panel: Sequence[Dict[str, Any]] = ()):
        super().__init__(training_module)
        self.seed = seed
        self.gradient_clip_val = gradient_clip_val
        self.panel = list(panel)
        self.ranked_probs: Optional[Dict[str, Dict[str, float]]] = None
        self.ranked_arch: Optional[Dict[str, Any]] = None
        self._sampled: Dict[str, Any] = {}
        self._choices: Optional[List[Tuple[str, List[Any], bool]]] = None

    def resample(self) -> Dict[str, Any]:
        """A path drawn uniformly, from numpy's global generator.

        **(decision)** NNI's path sampling draws from a fresh, unseeded ``RandomState``,
        so two searches of the same seed would train different paths. Here the draw
        comes from numpy's generator, which :func:`seed_epoch` seeds at every epoch and
        checkpoints keep, so a search is reproducible and resumes exactly.
        """
        if self._choices is None:
            self._choices = choice_table(self.model)
        arch = draw_choices(self._choices, np.random.randint)
        set_path(self, arch)
        self._sampled = arch
        return arch

    def export(self) -> Dict[str, Any]:
        """The best-ranked architecture once :func:`rank_single_paths` has run, else the path sampled last."""
        return dict(self.ranked_arch if self.ranked_arch is not None else self._sampled)

    @property
    def automatic_optimization(self) -> bool:
        return False

    def on_train_epoch_start(self):
        seed_epoch(self.seed, self.trainer.current_epoch)
        return super().on_train_epoch_start()

    def training_step(self, batch, batch_idx):
        """One uniformly sampled path, one weight step on it (clipped as in the DARTS search)."""
        self.resample()
        loss = self.training_module.training_step(batch, batch_idx)
        loss = loss['loss'] if isinstance(loss, dict) else loss
        self.advance_optimization(loss, batch_idx, self.gradient_clip_val)
        self.advance_lr_schedulers(batch_idx)
        return loss

    def on_validation_epoch_start(self):
        return self.training_module.on_validation_epoch_start()

    def validation_step(self, batch, batch_idx):
        """The batch through every panel architecture; their predictions are pooled."""
        state = np.random.get_state()
        for arch in self.panel or [None]:
            if arch is None:
                self.resample()
            else:
                set_path(self, arch)
            self.training_module.validation_step(batch, batch_idx)
        np.random.set_state(state)

    def on_validation_epoch_end(self):
        return self.training_module.on_validation_epoch_end()

    def export_probs(self):
        """Before the ranking: uniform (nothing is learned per choice); after: :func:`ranking_probs`."""
        if self.ranked_probs is not None:
            return self.ranked_probs
        mutables = self.model.simplify()
        return {label: {str(v): 1.0 / len(m.values) for v in m.values} for label, m in mutables.items()}

    def on_save_checkpoint(self, checkpoint: Dict[str, Any]) -> None:
        checkpoint['rng_states'] = rng_states()

    def on_load_checkpoint(self, checkpoint: Dict[str, Any]) -> None:
        if checkpoint.get('rng_states'):
            set_rng_states(checkpoint['rng_states'])


def score_single_paths(oneshot, archs: Sequence[Dict[str, Any]], loader, *, task: str, metric_kind: str
                       ) -> List[Tuple[Dict[str, Any], Dict[str, float]]]:
    """Each of ``archs`` evaluated on ``loader`` with the supernet's weights, in the order given.

    ``oneshot`` may be a list of supernets of the same space (``options.supernets``,
    ``options.folds``): each metric is then the mean of the architecture's metrics under each
    of them, each supernet scored on ``loader``, or on its own loader when ``loader`` is a
    list of one loader per supernet (``options.folds``: a supernet's held-out fold).
    """
    oneshots = list(oneshot) if isinstance(oneshot, (list, tuple)) else [oneshot]
    loaders = list(loader) if isinstance(loader, (list, tuple)) else [loader] * len(oneshots)
    if len(loaders) != len(oneshots):
        raise ValueError(f'{len(oneshots)} supernets and {len(loaders)} loaders')
    scored = []
    for arch in archs:
        per = []
        for net, net_loader in zip(oneshots, loaders):
            set_path(net, arch)
            per.append(evaluate(net.model, net_loader, task, metric_kind))
        scored.append((arch, per[0] if len(per) == 1 else
                       {name: float(np.mean([m[name] for m in per])) for name in per[0]}))
    return scored


def best_first(scored: Sequence[Tuple[Dict[str, Any], Dict[str, float]]], select_metric: str
               ) -> List[Tuple[Dict[str, Any], Dict[str, float]]]:
    """``scored`` sorted best first by ``select_metric`` (a non-finite score last; ties keep their order)."""
    sign = 1.0 if metric_direction(select_metric) == 'min' else -1.0

    def key(i):
        v = float(scored[i][1][select_metric])
        return (sign * v if np.isfinite(v) else np.inf, i)

    return [scored[i] for i in sorted(range(len(scored)), key=key)]


def rank_single_paths(oneshot, archs: Sequence[Dict[str, Any]], loader, *, task: str, metric_kind: str,
                      select_metric: str) -> List[Tuple[Dict[str, Any], Dict[str, float]]]:
    """Each of ``archs`` evaluated on ``loader`` with the supernet's weights (or the mean over a list
    of supernets: :func:`score_single_paths`); best first by ``select_metric``."""
    return best_first(score_single_paths(oneshot, archs, loader, task=task, metric_kind=metric_kind),
                      select_metric)


def evolve_single_paths(oneshot, space, seed: int, n: int, loader, *, task: str, metric_kind: str,
                        select_metric: str, excluded: Sequence[str] = (), mutation: float = 0.1,
                        printer=None) -> List[Tuple[Dict[str, Any], Dict[str, float]]]:
    """SPOS's evolutionary search for the candidates (Guo et al., section 3.3), at the budget of the
    random ranking: ``n`` distinct architectures scored with the supernet's weights, best first.

    **(decisions; the paper's figures are for ImageNet and 1000 evaluations)** The first
    population is the first ``P = max(2, n // 5)`` architectures of the random ranking's
    draws (:func:`draw_candidates`). Each generation then adds ``P`` children until
    ``n`` are scored: half by mutation (a parent with each choice redrawn uniformly with
    probability ``mutation``), half by crossover (each choice from one of two parents).
    Parents are drawn uniformly among the best ``max(1, P // 2)`` scored so far. A child
    scored before, or holding an ``excluded`` candidate, is made again (50 tries, then a
    uniform draw). All draws come from the run seed's own generator.
    """
    mutables = space.simplify()
    choices = choice_table(space)
    rng = np.random.default_rng(random_seed(seed, EVOLUTION_OFFSET))
    population = max(2, n // 5)
    first = draw_candidates(space, seed, min(n, population), CANDIDATE_OFFSET, excluded)
    scored = score_single_paths(oneshot, first, loader, task=task, metric_kind=metric_kind)
    seen = {json.dumps(a, sort_keys=True) for a in first}

    def child(parents: List[Dict[str, Any]], crossover: bool) -> Optional[Dict[str, Any]]:
        for attempt in range(60):
            if attempt >= 50:
                arch = draw_choices(choices, rng.integers)
            elif crossover:
                a, b = (parents[int(i)] for i in rng.integers(len(parents), size=2))
                arch = {label: (a if rng.random() < 0.5 else b)[label] for label, _, _ in choices}
            else:
                arch = dict(parents[int(rng.integers(len(parents)))])
                for choice in choices:
                    if rng.random() < mutation:
                        arch.update(draw_choices([choice], rng.integers))
            key = json.dumps(arch, sort_keys=True)
            if key not in seen and not holds_excluded(arch, excluded, mutables):
                seen.add(key)
                return arch
        return None

    generation = 0
    while len(scored) < n:
        generation += 1
        parents = [a for a, _ in best_first(scored, select_metric)[:max(1, population // 2)]]
        size = min(population, n - len(scored))
        children = [c for c in (child(parents, crossover=i >= size // 2) for i in range(size)) if c is not None]
        if not children:        # the space holds no further allowed architecture
            break
        scored += score_single_paths(oneshot, children, loader, task=task, metric_kind=metric_kind)
        if printer is not None:
            best = best_first(scored, select_metric)[0][1][select_metric]
            printer(f'search: evolution generation {generation}, {len(scored)} architectures scored, '
                    f'best val {select_metric} {best:.4f}')
    return best_first(scored, select_metric)


def ranking_probs(space, ranked: Sequence[Tuple[Dict[str, Any], Dict[str, float]]], share: float = 0.1
                  ) -> Dict[str, Dict[str, float]]:
    """Per choice, the share of each candidate among the best ``share`` of the ranking (at least one)."""
    top = [arch for arch, _ in ranked[:max(1, int(round(share * len(ranked))))]]
    out: Dict[str, Dict[str, float]] = {}
    for label, mutable in space.simplify().items():
        counts = {str(v): 0.0 for v in mutable.values}
        for arch in top:
            v = arch[label]
            counts[str(v[0] if isinstance(v, list) else v)] += 1.0
        out[label] = {k: c / len(top) for k, c in counts.items()}
    return out


def write_ranking(path: Path, ranked: Sequence[Tuple[Dict[str, Any], Dict[str, float]]], select_metric: str) -> None:
    """``search/candidates.csv``: rank, the validation metrics with the supernet's weights (with
    ``options.folds``, their mean over validation and the held-out folds), the architecture."""
    names = list(ranked[0][1]) if ranked else [select_metric]
    lines = ['rank,' + ','.join(f'val_{n}' for n in names) + ',arch']
    for i, (arch, metrics) in enumerate(ranked, start=1):
        arch_text = json.dumps(arch, sort_keys=True).replace('"', '""')
        lines.append(f'{i},' + ','.join(f'{float(metrics[n]):.6g}' for n in names) + f',"{arch_text}"')
    atomic_write_text(path, '\n'.join(lines) + '\n')


class RMNASSpos(RandomOneShot):
    """NNI ``RandomOneShot`` (uniform path sampling) with RMNAS's seeding, clipping and panel validation."""

    def __init__(self, *, seed: int = 0, gradient_clip_val: Optional[float] = None, panel_size: int = 8):
        super().__init__()
        self.seed = seed
        self.gradient_clip_val = gradient_clip_val
        self.panel_size = panel_size

    def configure_oneshot_module(self, training_module):
        space = training_module.model
        panel = draw_candidates(space, self.seed, self.panel_size, PANEL_OFFSET)
        return RMNASSposModule(training_module, seed=self.seed, gradient_clip_val=self.gradient_clip_val,
                               panel=panel)


STRATEGIES.register('spos', lambda opts, common: RMNASSpos(
    seed=common['seed'], gradient_clip_val=common['gradient_clip_val'], panel_size=opts.panel),
    ranks_single_paths=True)
