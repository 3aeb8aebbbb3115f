"""Configuration: run, search-space and strategy YAML files, validated against schemas.

Three kinds of file:

* a **run config** (``examples/*.yml``): data, missing rates, which search space and
  strategy files to use, epochs, seed;
* a **search space** (``search_spaces/*.yml``): mixers, blocks, widths, LST, cells;
* a **strategy** (``strategies/*.yml``): which NNI one-shot strategy, its options,
  and the two optimizers.

Each file loads into a typed dataclass (:class:`RunConfig`, :class:`SpaceConfig`,
:class:`StrategyConfig`) whose fields declare every key once: type, default, check
and the line of the configuration reference. Every key is checked: an unknown key,
a wrong type or an impossible value raises a
:class:`~rmnas_nni.errors.ConfigError` naming the file and the dotted key. Paths in a
file are resolved relative to that file; a bare name such as ``tiny`` names a file
shipped in the project's ``search_spaces/`` or ``strategies/`` folder.

A run config may also hold ``space:`` and ``strategy_config:`` sections: they are
merged over the named files before those are checked, so one key of a search space
can be changed without a new file (``--set space.lst.maxdis=4``,
``--set strategy_config.architecture_optimizer.lr=3``).
"""
from __future__ import annotations

import copy
import dataclasses
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml

from .errors import ConfigError, read_input
from .registry import FORMATS, FUSION_OPS, METRICS, MIXERS, STRATEGIES, VARIANT_GROUPS, VARIANTS, Registry

__all__ = ['PROJECT_ROOT', 'check_missing_rate', 'find_run_config', 'load_yaml', 'load_run_config', 'load_space_config', 'load_strategy_config',
           'RunConfig', 'DataConfig', 'MissingConfig', 'SearchConfig', 'RetrainConfig', 'SweepConfig', 'SpaceConfig',
           'EncoderConfig', 'LSTConfig', 'FusionConfig', 'StrategyConfig', 'StrategyOptions', 'OptimizerConfig',
           'Section', 'MACHINE_KEYS', 'run_config', 'space_config', 'strategy_config', 'check_run',
           'check_space', 'check_strategy', 'validate', 'space_kwargs', 'RUN_SCHEMA', 'SPACE_SCHEMA', 'STRATEGY_SCHEMA', 'dump_yaml',
           'KEY_DOCS', 'reference_markdown', 'Field', 'at_least', 'one_of', 'registered', 'check_data_options',
           'check_variant', 'expand_variants', 'parse_overrides']

PROJECT_ROOT = Path(__file__).resolve().parent.parent

MODALITY_NAMES = ('text', 'audio', 'vision')


class Field:
    """One key of a schema: its type(s), default and an optional check returning an error text."""

    def __init__(self, types: Any, default: Any = None, check: Optional[Callable[[Any], Optional[str]]] = None,
                 nullable: bool = False):
        self.types = types if isinstance(types, tuple) else (types,)
        self.default = default
        self.check = check
        self.nullable = nullable


def _described(text: str):
    """Give a check function the text the configuration reference shows for it."""
    def mark(fn):
        fn.text = text
        return fn
    return mark


@_described('> 0')
def _positive(v):
    return None if v > 0 else 'must be > 0'


@_described('>= 0')
def _non_negative(v):
    return None if v >= 0 else 'must be >= 0'


def at_least(n):
    return _described(f'>= {n}')(lambda v: None if v >= n else f'must be >= {n}')


def one_of(*options):
    return _described('one of ' + ', '.join(f'`{o}`' for o in options))(
        lambda v: None if v in options else f'must be one of {", ".join(map(str, options))}')


class registered:
    """A check: the value is a name of ``registry`` (the names read when checked, so a
    registered plugin is accepted)."""

    def __init__(self, registry: Registry):
        self.registry = registry

    @property
    def text(self) -> str:
        return 'one of ' + ', '.join(f'`{o}`' for o in self.registry.names())

    def __call__(self, v):
        return None if v in self.registry else f'must be one of {self.registry.known()}'


_at_least, _one_of = at_least, one_of


@_described('in [0, 1)')
def _below_one(v):
    return None if 0.0 <= v < 1.0 else 'must be in [0, 1)'


@_described('between 0 and 1')
def _probability(v):
    return None if 0.0 <= v <= 1.0 else 'must be between 0 and 1'


@_described('a positive odd number')
def _odd_positive(v):
    return None if v > 0 and v % 2 == 1 else 'must be a positive odd number'


@_described('not empty')
def _non_empty_list(v):
    return None if len(v) > 0 else 'must not be empty'


@_described('between 0 and 1 (each rate of a mapping too)')
def _missing_rate(v):
    if isinstance(v, dict):
        for k, r in v.items():
            if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0.0 <= r <= 1.0:
                return f'rate of {k!r} must be a number between 0 and 1'
        return None
    return _probability(v)


def check_missing_rate(value: Any, where: str) -> Any:
    """A missing rate (a number, or ``{modality: number}``) in [0, 1]; else a one-line :class:`ConfigError`.

    The same check as ``data.missing.rate`` of a run config and ``--rates`` of a sweep;
    ``where`` names the option or key (``--rate``).
    """
    items = value.items() if isinstance(value, dict) else [(None, value)]
    for k, r in items:
        if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0.0 <= r <= 1.0:
            of = f' of {k!r}' if k is not None else ''
            raise ConfigError(f'{where}: missing rate{of} {r!r}: must be a number between 0 and 1')
    return value


@_described('not empty; each between 0 and 1')
def _rate_list(v):
    for r in v:
        if not isinstance(r, (int, float)) or isinstance(r, bool) or not 0.0 <= r <= 1.0:
            return f'missing rate {r!r} must be a number between 0 and 1'
    return None if v else 'must not be empty'


@_described('not empty; each a non-negative integer')
def _seed_list(v):
    for s in v:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            return f'seed {s!r} must be a non-negative integer'
    return None if v else 'must not be empty'


def expand_variants(names) -> List[Any]:
    """``names`` with every group (``table7``) replaced by its variants, in order."""
    out: List[Any] = []
    for name in names:
        out.extend(VARIANT_GROUPS[name] if isinstance(name, str) and name in VARIANT_GROUPS else [name])
    return out


def check_variant(name: Any, source: str = '--variants') -> str:
    """A variant name (``+``-combinations allowed); raises :class:`ConfigError` naming ``source``."""
    known = VARIANTS.known()
    if not isinstance(name, str) or not name:
        raise ConfigError(f'{source}: variant {name!r}: expected a name ({known})')
    if name in VARIANT_GROUPS:
        raise ConfigError(f"{source}: {name!r} names several variants ({', '.join(VARIANT_GROUPS[name])}); "
                          f'give one of them, or sweep them all with rmnas sweep --variants {name}')
    parts = name.split('+')
    for part in parts:
        if part not in VARIANTS:
            raise ConfigError(f'{source}: unknown variant {part!r} (known: {known}; '
                              f'combine with +, e.g. no_lst+no_retrain)')
    if len(parts) > 1 and 'full' in parts:
        raise ConfigError(f"{source}: variant {name!r}: 'full' does not combine with others")
    if len(set(parts)) != len(parts):
        raise ConfigError(f'{source}: variant {name!r}: a part is named twice')
    return name


@_described('not empty; each a variant (below)')
def _variant_list(v):
    for name in expand_variants(v):
        try:
            check_variant(name, 'variant')
        except ConfigError as exc:
            return str(exc).split(': ', 1)[1]
    return None if v else 'must not be empty'


NUMBER = (int, float)


# --------------------------------------------------------------------------- typed config
# Every key is declared once, below: its type, default, check and the line the
# configuration reference prints for it. The dataclasses are what the rest of the
# package reads (``cfg.search.epochs``); the nested ``Field`` mappings derived from
# them (RUN_SCHEMA, SPACE_SCHEMA, STRATEGY_SCHEMA) are what YAML is checked against.

def key(types: Any, default: Any = None, check: Optional[Callable[[Any], Optional[str]]] = None, *,
        nullable: bool = False, doc: str = ''):
    """A config key: a dataclass field carrying its :class:`Field` and its reference line."""
    spec = Field(types, default, check, nullable)
    return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata={'spec': spec, 'doc': doc})


def section(cls: type, **defaults: Any):
    """A nested section; ``defaults`` replace the section's own defaults for this place."""
    return dataclasses.field(default_factory=lambda: cls(**copy.deepcopy(defaults)), metadata={'section': cls})


class Section:
    """Common behaviour of the config dataclasses."""

    def to_dict(self) -> Dict[str, Any]:
        """Plain YAML/JSON types (what ``config.yaml`` and NNI's parameters hold)."""
        return dataclasses.asdict(self)

    def copy(self):
        return copy.deepcopy(self)

    def update(self, values: Optional[Dict[str, Any]] = None, **more: Any):
        """Set several keys of this section at once (unknown names raise ``AttributeError``)."""
        names = {f.name for f in dataclasses.fields(self)}
        for name, value in {**(values or {}), **more}.items():
            if name not in names:
                raise AttributeError(f'{type(self).__name__} has no key {name!r}')
            setattr(self, name, value)
        return self

    @classmethod
    def schema(cls, default: Optional['Section'] = None) -> Dict[str, Any]:
        """The nested ``{key: Field or section}`` mapping of this class, defaults from ``default``."""
        default = default if default is not None else cls()
        out: Dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            value = getattr(default, f.name)
            if 'section' in f.metadata:
                out[f.name] = f.metadata['section'].schema(value)
            elif 'spec' in f.metadata:
                spec = copy.copy(f.metadata['spec'])
                spec.default = copy.deepcopy(value)
                out[f.name] = spec
        return out

    @classmethod
    def docs(cls, prefix: str = '') -> Dict[str, str]:
        """``{dotted key: reference line}``."""
        out: Dict[str, str] = {}
        for f in dataclasses.fields(cls):
            if 'section' in f.metadata:
                out.update(f.metadata['section'].docs(f'{prefix}{f.name}.'))
            elif 'spec' in f.metadata:
                out[f'{prefix}{f.name}'] = f.metadata['doc']
        return out

    @classmethod
    def build(cls, values: Dict[str, Any]):
        """An instance from a mapping already checked against :meth:`schema`."""
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in values:
                continue
            value = values[f.name]
            section_cls = f.metadata.get('section') or f.metadata.get('loaded')
            if section_cls is not None and isinstance(value, dict):
                value = section_cls.build(value)
            kwargs[f.name] = value
        return cls(**kwargs)


# ----------------------------------------------------------------- run config (examples/*.yml)

@dataclasses.dataclass
class MissingConfig(Section):
    rate: Any = key((int, float, dict), 0.0, _missing_rate,
                    doc='missing rate: one number, or `{modality: rate}`; at most 0.7 under the dialogue protocol')
    protocol: str = key(str, 'auto', _one_of('auto', 'sentence', 'dialogue'),
                        doc='`auto` follows `data.level`; `sentence` drops tokens (EMT-DLFR), `dialogue` drops '
                            'whole modalities of an utterance, always keeping one (GCNet)')
    redraw_train: bool = key(bool, False, doc='draw new training masks every epoch; validation and test keep the '
                                              'masks drawn at load time')
    seeds: Dict[str, int] = key(dict, {}, doc='seeds of the masks: `{modality: seed}` at sentence level (default '
                                              'text 111, audio 1111, vision 11111), `{dialogue: seed}` at dialogue '
                                              'level (default 0)')


@dataclasses.dataclass
class DataConfig(Section):
    format: str = key(str, 'synthetic', registered(FORMATS),
                      doc='reader: `synthetic` (the embedded dataset), `mmsa`, `gcnet`, `table` (README, "Your data")')
    path: Optional[str] = key(str, None, nullable=True,
                              doc='data file; relative to this config\'s folder, else the working directory; '
                                  'required unless `synthetic`')
    level: str = key(str, 'sentence', _one_of('sentence', 'dialogue'),
                     doc='`sentence`: one sample per utterance; `dialogue`: one sample per conversation')
    task: str = key(str, 'regression', _one_of('regression', 'classification'),
                    doc='`regression` (sentiment score) or `classification` (classes)')
    modalities: List[str] = key(list, list(MODALITY_NAMES), _non_empty_list,
                                doc='modalities to read: distinct names, any non-empty subset of the file\'s')
    seed: int = key(int, 0, _non_negative, doc='seed of the embedded synthetic dataset')
    options: Dict[str, Any] = key(dict, {}, doc='reader options, checked per format (README, "Your data"): e.g. '
                                                '`sizes` (synthetic), `features`, `normalize`, `label_scale`, '
                                                '`label_bins`, `valid_from`')
    missing: MissingConfig = section(MissingConfig)


@dataclasses.dataclass
class SearchConfig(Section):
    method: str = key(str, 'oneshot', _one_of('oneshot', 'random', 'random_search', 'hand_designed'),
                      doc='`oneshot`: the strategy searches (RMNAS); `random`: `random_k` architectures drawn '
                          'uniformly, each retrained, the best on validation kept; `random_search`: `random_k` drawn, '
                          'each trained briefly (the search\'s budget), the best on validation retrained; '
                          '`hand_designed`: the fixed network of `rmnas_nni.baselines`, not searched')
    random_k: int = key(int, 4, _positive, doc='`random`, `random_search`: how many random architectures')
    random_all_modalities: bool = key(bool, False,
                                      doc='`random`, `random_search`: draw only architectures whose prediction reads '
                                          'every modality (`rmnas_nni.figures.fused_modalities`): the first `random_k` '
                                          'such draws of the same sequence of draws; false: every draw')
    epochs: int = key(int, 10, _positive, doc='search epochs (at most)')
    min_epochs: int = key(int, 10, _non_negative, doc='no early stop of the search before this many epochs')
    batch_size: int = key(int, 32, _positive, doc='batch size of the search (train and validation batches)')
    patience: int = key(int, 8, _positive,
                        doc='stop the search after this many epochs without a better `select_metric`')
    # best, chosen on validation: exporting the final epoch collapses onto zero operations
    # and identity mixers (docs/quality.md)
    export: str = key(str, 'best', _one_of('best', 'final'),
                      doc='`best`: export the choice weights of the best validation epoch; `final`: those of the '
                          'last epoch')
    derive: str = key(str, 'argmax', _one_of('argmax', 'threshold'),
                      doc='`argmax`: NNI\'s export; `threshold`: every choice weighing >= `derive_threshold` kept '
                          '(Figure 4), several kept candidates combined by their mean (`rmnas_nni.derivation`)')
    derive_threshold: float = key(NUMBER, 0.2, _described('in (0, 1]')(
                                      lambda v: None if 0.0 < v <= 1.0 else 'must be in (0, 1]'),
                                  doc='`derive: threshold`: the weight a choice needs to be kept')
    # valid, chosen on validation against train_half (docs/quality.md §3)
    arch_data: str = key(str, 'valid', _one_of('valid', 'train_half'),
                         doc='what the architecture weights step on (`method: oneshot`): `valid`, the validation '
                             'split, which also selects the epoch; `train_half`, DARTS\'s protocol: the training '
                             'split cut in two halves by the seed (by sample: a dialogue at dialogue level), the '
                             'weights on one, the architecture weights on the other, validation only selects; '
                             '`valid` kept: `train_half` scored worse on MOSI validation (docs/quality.md §3)')
    # chosen on validation, docs/quality.md
    exclude_zero: bool = key(bool, True, doc='DARTS\'s derivation rule: a Cell-Step operation is never derived as '
                                             '`zero`; its strongest other operation is taken (gates keep their '
                                             '`zero`)')
    # tried on validation, docs/quality.md section 3
    exclude_identity: bool = key(bool, False, doc='a token mixer is never derived as `identity` (the parameter-free '
                                                  'skip a DARTS search drifts to); its strongest other mixer is '
                                                  'taken')


@dataclasses.dataclass
class RetrainConfig(Section):
    enabled: bool = key(bool, True, doc='`false`: stop after the search (no retraining, no test metrics)')
    epochs: int = key(int, 100, _positive, doc='retrain epochs (at most)')
    batch_size: int = key(int, 32, _positive, doc='batch size of the retraining and of evaluation')
    patience: int = key(int, 8, _positive,
                        doc='stop retraining after this many epochs without a better `select_metric`')
    min_epochs: int = key(int, 10, _non_negative, doc='no early stop of the retraining before this many epochs')
    lr: float = key(NUMBER, 5.0e-4, _positive, doc='AdamW learning rate of the retraining')
    weight_decay: float = key(NUMBER, 0.01, _non_negative, doc='AdamW weight decay of the retraining')
    grad_clip: Optional[float] = key(NUMBER, 1.0, _non_negative, nullable=True,
                                     doc='gradient norm clip of the retraining; null: none')
    ema: float = key(NUMBER, 0.0, _below_one,
                     doc='exponential moving average of the weights, decay per step (e.g. 0.9): the average is '
                         'validated, selected and kept; 0: none (the paper)')
    ensemble: int = key(int, 1, _positive,
                        doc='networks of the architecture retrained from scratch, member k from seed '
                            '`seed + 1000 k` (k = 0 is the single network of `1`); the model is their mean '
                            'prediction (a seed ensemble; classification: mean logits); 1: one network (the paper)')
    ensemble_of: str = key(str, 'seeds', _one_of('seeds', 'ranking'),
                           doc='what the `ensemble` members differ in: `seeds` (one architecture); `ranking` (SPOS: '
                               'member k is the (k+1)-th best architecture of the search\'s ranking, from seed '
                               '`seed + 1000 k`; a run without a ranking ensembles seeds and says so)')
    weights: str = key(str, 'scratch', _one_of('scratch', 'supernet'),
                       doc='`scratch`: train the fixed network from scratch (the paper); `supernet`: no training, '
                           'it takes the supernet\'s search weights (Table 7, w/o retraining)')


@dataclasses.dataclass
class SweepConfig(Section):
    rates: Optional[List[Any]] = key(list, None, _rate_list, nullable=True,
                                     doc='`rmnas sweep` without `--rates`: the missing rates; null: the paper\'s '
                                         'for the protocol')
    seeds: Optional[List[int]] = key(list, None, _seed_list, nullable=True,
                                     doc='`rmnas sweep` without `--seeds`: the seeds; null: `[seed]`')
    variants: List[str] = key(list, ['full'], _variant_list,
                              doc='`rmnas sweep` without `--variants`: the ablation variants')


# ----------------------------------------------------------- search space (search_spaces/*.yml)

@dataclasses.dataclass
class EncoderConfig(Section):
    d_model: int = key(int, 448, _positive, doc='width `d` of every modality\'s tokens')
    n_blocks: int = key(int, 6, _positive, doc='RMNAS blocks per modality (one searched token mixer each)')
    n_heads: int = key(int, 8, _positive, doc='attention heads; must divide `d_model`')
    ffn_ratio: int = key(int, 4, _positive,
                         doc='hidden width of the feed-forward layer, in multiples of `d_model`')
    dropout: float = key(NUMBER, 0.1, _below_one, doc='dropout of the encoders')
    mixers: List[str] = key(list, ['attention', 'random_mixing', 'pool', 'identity'], _non_empty_list,
                            doc='candidate token mixers, each at most once (one of them: no mixer search)')


@dataclasses.dataclass
class LSTConfig(Section):
    enabled: bool = key(bool, True, doc='local sentiment variation trends (LST) in the attention logits')
    kernel_size: int = key(int, 7, _odd_positive, doc='kernel size `k` of the STEncoder')
    maxdis: int = key(int, 8, _at_least(1), doc='largest distance `maxdis` of the DisEncoder')


@dataclasses.dataclass
class FusionConfig(Section):
    width: int = key(int, 240, _positive, doc='width `c` of the fusion vectors')
    n_cells: int = key(int, 2, _positive, doc='fusion Cells')
    n_steps: int = key(int, 2, _positive, doc='Cell-Steps per Cell')
    ops: List[str] = key(list, ['zero', 'sum', 'attention', 'linear_glu', 'concat_fc'], _non_empty_list,
                         doc='candidate Cell-Step operations, each at most once')
    attention_chunks: int = key(int, 8, _positive,
                                doc='the fusion attention reads a `c`-vector as this many chunks; must divide `width`')
    input_selection: str = key(str, 'one_of_n', _one_of('one_of_n', 'gates'),
                               doc='`one_of_n`: each Cell input one candidate (one softmax over them); `gates`: '
                                   'eq. 13, every candidate gated between identity and zero, the open ones summed')


@dataclasses.dataclass
class SpaceConfig(Section):
    encoder: EncoderConfig = section(EncoderConfig)
    lst: LSTConfig = section(LSTConfig)
    fusion: FusionConfig = section(FusionConfig)


# ------------------------------------------------------------------- strategy (strategies/*.yml)

@dataclasses.dataclass
class OptimizerConfig(Section):
    type: str = key(str, 'AdamW', _one_of('AdamW', 'Adam', 'SGD'), doc='optimizer')
    lr: float = key(NUMBER, 5.0e-4, _positive, doc='its learning rate')
    weight_decay: float = key(NUMBER, 0.0, _non_negative, doc='its weight decay')
    momentum: float = key(NUMBER, 0.0, _non_negative, doc='its momentum (SGD)')
    betas: List[float] = key(list, [0.9, 0.999], doc='its betas (Adam, AdamW): two numbers in [0, 1)')


@dataclasses.dataclass
class StrategyOptions(Section):
    gradient_clip_val: Optional[float] = key(NUMBER, None, _positive, nullable=True,
                                             doc='gradient norm clip of the weight steps; null: none')
    warmup_epochs: int = key(int, 0, _non_negative,
                             doc='epochs of weight steps only, before the architecture steps begin')
    log_prob_every_n_step: int = key(int, 10, _positive, doc='log the choice weights every this many batches')
    temperature: List[float] = key(list, [1.0, 0.33],
                                   doc='GumbelDARTS: `[initial, final]` temperature, initial >= final > 0')
    panel: int = key(int, 8, _positive, doc='SPOS: architectures whose pooled predictions validate each search epoch')
    candidates: int = key(int, 100, _positive,
                          doc='SPOS: architectures drawn after the search and ranked on validation with the '
                              'supernet\'s weights; the best is exported')
    ranking: str = key(str, 'random', _one_of('random', 'evolution'),
                       doc='SPOS: how the `candidates` are chosen: `random` (drawn uniformly) or `evolution` '
                           '(mutations and crossovers of the best scored so far, same number scored: '
                           '`rmnas_nni.single_path.evolve_single_paths`)')
    supernets: int = key(int, 1, _positive,
                         doc='SPOS: supernets trained from different seeds (the run\'s, then seed + 1000 k); each '
                             'candidate is ranked by its validation metrics averaged over them')
    folds: int = key(int, 0, _non_negative,
                     doc='SPOS: 0, or K >= 2 folds of the training split\'s samples (dialogues at dialogue level); '
                         'K more supernets, supernet k trained without fold k, score every candidate on their fold; '
                         'a candidate is ranked by its metrics averaged over validation and the K folds')
    all_modalities: bool = key(bool, False,
                               doc='SPOS (`ranking: random`): the `candidates` are drawn only among architectures '
                                   'whose prediction reads every modality (`rmnas_nni.figures.fused_modalities`): '
                                   'the first `candidates` such draws of the same sequence')


@dataclasses.dataclass
class StrategyConfig(Section):
    strategy: str = key(str, 'darts', registered(STRATEGIES),
                        doc='NNI one-shot strategy: `darts` (first order), `gumbel_darts`, or `spos` (single path, uniform '
                            'sampling, then the architectures ranked: `rmnas_nni.single_path`)')
    options: StrategyOptions = section(StrategyOptions)
    weights_optimizer: OptimizerConfig = section(OptimizerConfig, weight_decay=0.01)
    architecture_optimizer: OptimizerConfig = section(OptimizerConfig, type='SGD', lr=5.0)


#: the reference lines of the optimizer keys, by section (one class, two places)
_OPTIMIZER_DOCS = {'weights_optimizer.type': 'optimizer of the supernet\'s weights (train split)',
                   'architecture_optimizer.type': 'optimizer of the architecture weights (validation split)',
                   'architecture_optimizer.lr': 'its learning rate (the paper: SGD 5)'}


@dataclasses.dataclass
class RunConfig(Section):
    """A resolved run config: the run file's keys, plus the loaded search space and strategy."""
    name: str = key(str, 'rmnas', doc='name of the run: the default run directory is `runs/<name>-<time>`')
    seed: int = key(int, 0, _non_negative, doc='seed of the weights\' initialisation, the shuffling and the search')
    device: str = key(str, 'auto', _one_of('auto', 'cpu', 'cuda'),
                      doc='`auto`: a CUDA GPU when one is visible, else the CPU; `cuda` fails when none is. '
                          'A machine setting: `--resume` may change it')
    threads: int = key(int, 0, _non_negative,
                       doc='torch threads; 0: torch\'s default (one per core). Results depend on it; '
                           'recorded in `environment.json`. A machine setting: `--resume` may change it')
    select_metric: Optional[str] = key(str, None, nullable=True,
                                       doc='validation metric that picks the best epoch and stops early (search and '
                                           'retrain); null: `mae` for regression (sentence and dialogue level), `waf` '
                                           'for classification')
    # the metric set: auto (by task, level and label range; rmnas_nni.metrics.metric_kind) or a kind
    metrics: str = key(str, 'auto', _one_of('auto', 'mosi', 'regression_2', 'sims', 'classification',
                                            'dialogue_regression'),
                       doc='metric set: `auto` follows the task, level and label range; or a named set')
    search_space: str = key(str, 'tiny', doc='search-space file: a path (relative to this config) or a shipped name '
                                             '(`tiny`, `rmnas`)')
    strategy: str = key(str, 'darts', doc='strategy file: a path (relative to this config) or a shipped name '
                                          '(`darts`, `gumbel_darts`)')
    data: DataConfig = section(DataConfig)
    search: SearchConfig = section(SearchConfig)
    retrain: RetrainConfig = section(RetrainConfig)
    # rmnas sweep: what to sweep when no --rates / --seeds / --variants are given
    sweep: SweepConfig = section(SweepConfig)
    # loaded from the files named by search_space and strategy (not keys of a run file;
    # a run file's space: / strategy_config: sections are overrides merged over them)
    space: SpaceConfig = dataclasses.field(default_factory=SpaceConfig, metadata={'loaded': SpaceConfig})
    strategy_config: StrategyConfig = dataclasses.field(default_factory=StrategyConfig,
                                                        metadata={'loaded': StrategyConfig})


#: ``threads`` and ``device`` say where a run computes, not what: ``--resume`` may change them
MACHINE_KEYS = ('threads', 'device')

RUN_SCHEMA: Dict[str, Any] = RunConfig.schema()
SPACE_SCHEMA: Dict[str, Any] = SpaceConfig.schema()
STRATEGY_SCHEMA: Dict[str, Any] = StrategyConfig.schema()

# One line per key for the configuration reference (docs/configuration.md, generated by
# ``python -m rmnas_nni.config --reference``), from the dataclasses' fields.
KEY_DOCS: Dict[str, Dict[str, str]] = {
    'run': RunConfig.docs(),
    'space': SpaceConfig.docs(),
    'strategy': {**StrategyConfig.docs(), **_OPTIMIZER_DOCS},
}


def _type_name(types: Tuple[type, ...]) -> str:
    names = {int: 'an integer', float: 'a number', str: 'a string', bool: 'true or false',
             list: 'a list', dict: 'a mapping'}
    return ' or '.join(names.get(t, t.__name__) for t in types)


def _type_ok(value: Any, types: Tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def validate(user: Any, schema: Dict[str, Any], source: str, prefix: str = '') -> Dict[str, Any]:
    """Merge ``user`` over the schema's defaults, checking every key.

    Raises
    ------
    ConfigError
        ``"<source>: key '<dotted.key>': <what is wrong>"``.
    """
    if user is None:
        user = {}
    if not isinstance(user, dict):
        where = f"key '{prefix.rstrip('.')}'" if prefix else 'top level'
        raise ConfigError(f'{source}: {where}: expected a mapping, got {type(user).__name__}')
    unknown = [k for k in user if k not in schema]
    if unknown:
        known = ', '.join(sorted(schema))
        raise ConfigError(f"{source}: unknown key '{prefix}{unknown[0]}' (known here: {known})")
    out: Dict[str, Any] = {}
    for key, spec in schema.items():
        dotted = f'{prefix}{key}'
        if isinstance(spec, dict):
            out[key] = validate(user.get(key), spec, source, dotted + '.')
            continue
        if key not in user:
            out[key] = copy.deepcopy(spec.default)
            continue
        value = user[key]
        if value is None:
            if spec.nullable:
                out[key] = None
                continue
            raise ConfigError(f"{source}: key '{dotted}': must not be empty (expected {_type_name(spec.types)})")
        if not _type_ok(value, spec.types):
            raise ConfigError(f"{source}: key '{dotted}': expected {_type_name(spec.types)}, "
                              f'got {type(value).__name__} {value!r}')
        if float in spec.types and isinstance(value, int) and not isinstance(value, bool) and int not in spec.types:
            value = float(value)
        if spec.check is not None:
            problem = spec.check(value)
            if problem:
                raise ConfigError(f"{source}: key '{dotted}': {problem} (got {value!r})")
        out[key] = value
    return out


def load_yaml(path: os.PathLike | str) -> Any:
    """Read a YAML file; a missing or unreadable file is a :class:`ConfigError`."""
    path = Path(path)
    text = read_input(path, ConfigError, text=True)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = f' at line {mark.line + 1}' if mark is not None else ''
        raise ConfigError(f'{path}: not valid YAML{where}') from None


def resolve_named(value: str, folder: str, base: Optional[Path]) -> Path:
    """A path relative to ``base`` (the referring file's folder), else a shipped file by name."""
    candidates = []
    p = Path(value)
    if p.is_absolute():
        candidates.append(p)
    else:
        if base is not None:
            candidates.append(base / p)
        candidates.append(Path.cwd() / p)
        candidates.append(PROJECT_ROOT / folder / p)
        if p.suffix not in ('.yml', '.yaml'):
            candidates.append(PROJECT_ROOT / folder / f'{value}.yml')
    for c in candidates:
        if c.is_file():
            return c.resolve()
    return candidates[0]


def _with_overrides(raw: Any, overrides: Optional[Dict[str, Any]], source: str) -> Tuple[Any, str]:
    if not overrides:
        return raw, source
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f'{source}: top level: expected a mapping, got {type(raw).__name__}')
    return _deep_merge(raw, overrides), f'{source} (with the run config\'s overrides)'


def load_space_config(path: os.PathLike | str, overrides: Optional[Dict[str, Any]] = None) -> SpaceConfig:
    """Load and check a search-space file, with ``overrides`` (the run config's ``space:``) merged in."""
    return space_config(*_with_overrides(load_yaml(path), overrides, str(path)))


def space_config(values: Any, source: str) -> SpaceConfig:
    """A search space from a mapping (a file's, or a run directory's ``space:``), every key checked."""
    return check_space(SpaceConfig.build(validate(values, SPACE_SCHEMA, source)), source)


def _registered_names(names: List[str], registry: Registry, key: str, what: str, source: str) -> List[str]:
    """``names``, each registered and listed once; else a one-line :class:`ConfigError`."""
    for name in names:
        if name not in registry:
            raise ConfigError(f"{source}: key '{key}': unknown {what} {name!r} (known: {registry.known()})")
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: key '{key}': a{'n' if what[0] in 'aeiou' else ''} {what} is listed twice")
    return list(names)


def check_space(cfg: SpaceConfig, source: str) -> SpaceConfig:
    """Cross-key checks of a validated search space; mixer names made canonical."""
    enc, fus = cfg.encoder, cfg.fusion
    if enc.d_model % enc.n_heads:
        raise ConfigError(f"{source}: key 'encoder.n_heads': must divide encoder.d_model "
                          f"({enc.n_heads} does not divide {enc.d_model})")
    enc.mixers = _registered_names([MIXERS.canonical(str(m)) for m in enc.mixers], MIXERS, 'encoder.mixers',
                                   'mixer', source)
    fus.ops = _registered_names(fus.ops, FUSION_OPS, 'fusion.ops', 'operation', source)
    if 'attention' in fus.ops and fus.width % fus.attention_chunks:
        raise ConfigError(f"{source}: key 'fusion.attention_chunks': must divide fusion.width "
                          f"({fus.attention_chunks} does not divide {fus.width})")
    return cfg


def load_strategy_config(path: os.PathLike | str, overrides: Optional[Dict[str, Any]] = None) -> StrategyConfig:
    """Load and check a strategy file, with ``overrides`` (the run config's ``strategy_config:``) merged in."""
    return strategy_config(*_with_overrides(load_yaml(path), overrides, str(path)))


def strategy_config(values: Any, source: str) -> StrategyConfig:
    """A strategy from a mapping (a file's, or a run directory's ``strategy_config:``), every key checked."""
    return check_strategy(StrategyConfig.build(validate(values, STRATEGY_SCHEMA, source)), source)


def check_strategy(cfg: StrategyConfig, source: str) -> StrategyConfig:
    """Cross-key checks of a validated strategy."""
    temp = cfg.options.temperature
    if len(temp) != 2 or not all(_type_ok(t, NUMBER) for t in temp) or not temp[0] >= temp[1] > 0:
        raise ConfigError(f"{source}: key 'options.temperature': must be [initial, final] with initial >= final > 0")
    for key in ('weights_optimizer', 'architecture_optimizer'):
        betas = getattr(cfg, key).betas
        if len(betas) != 2 or not all(_type_ok(b, NUMBER) and 0 <= b < 1 for b in betas):
            raise ConfigError(f"{source}: key '{key}.betas': must be two numbers in [0, 1)")
    if cfg.options.all_modalities and cfg.options.ranking != 'random':
        raise ConfigError(f"{source}: key 'options.all_modalities': only with 'options.ranking: random'")
    return cfg


def find_run_config(path: os.PathLike | str) -> Path:
    """Where a run config named ``path`` is: the first of

    1. ``path`` as given (absolute, or relative to the working directory);
    2. ``path`` relative to the project root (``examples/quickstart.yml`` from any folder);
    3. a shipped example by name: ``examples/<path>``, or ``examples/<path>.yml`` for a
       bare name (``quickstart``).

    When none exists, ``path`` as given (reading it then reports the file as not found).
    """
    p = Path(path).expanduser()
    candidates = [p]
    if not p.is_absolute():
        candidates += [PROJECT_ROOT / p, PROJECT_ROOT / 'examples' / p]
        if p.suffix not in ('.yml', '.yaml'):
            candidates.append(PROJECT_ROOT / 'examples' / f'{p}.yml')
    for c in candidates:
        if c.is_file():
            return c
    return p


def load_run_config(path: Optional[os.PathLike | str] = None, overrides: Optional[Dict[str, Any]] = None
                    ) -> RunConfig:
    """Load a run config (or the defaults when ``path`` is None) with its space and strategy.

    ``path`` is found by :func:`find_run_config` (as given, else under the project
    root, else a shipped example by name).

    Returns the validated :class:`RunConfig`: ``space`` and ``strategy_config`` hold
    the loaded search-space and strategy files (with the run file's ``space:`` /
    ``strategy_config:`` overrides merged in), ``search_space`` / ``strategy`` and
    ``data.path`` are absolute paths.
    """
    if path is not None:
        found = find_run_config(path)
        if found.is_file() and found != Path(path):
            path = found
    source = str(path) if path is not None else '<defaults>'
    raw = load_yaml(path) if path is not None else {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f'{source}: top level: expected a mapping, got {type(raw).__name__}')
    raw = _deep_merge(raw, overrides or {})
    space_overrides = raw.pop('space', None)
    strategy_overrides = raw.pop('strategy_config', None)
    for key, value in (('space', space_overrides), ('strategy_config', strategy_overrides)):
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"{source}: key '{key}': expected a mapping of overrides, got {type(value).__name__}")
    cfg = RunConfig.build(validate(raw, RUN_SCHEMA, source))
    base = Path(path).resolve().parent if path is not None else None
    for key, folder in (('search_space', 'search_spaces'), ('strategy', 'strategies')):
        resolved = resolve_named(getattr(cfg, key), folder, base)
        if not resolved.is_file():
            raise ConfigError(f"{source}: key '{key}': file not found: {getattr(cfg, key)}")
        setattr(cfg, key, str(resolved))
    data = cfg.data
    if data.format != 'synthetic' and not data.path:
        raise ConfigError(f"{source}: key 'data.path': required for format {data.format!r}")
    if data.path and data.format != 'synthetic':
        data.path = _resolve_data_path(data.path, base, source)
    cfg.space = load_space_config(cfg.search_space, space_overrides)
    cfg.strategy_config = load_strategy_config(cfg.strategy, strategy_overrides)
    return check_run(cfg, source)


def check_run(cfg: RunConfig, source: str, machine: bool = True) -> RunConfig:
    """Cross-key checks of a run config; the data options checked against the format's.

    ``machine``: also check that this machine has what the config asks (a CUDA device);
    not for a stored run, which may be evaluated elsewhere.
    """
    data = cfg.data
    mods = data.modalities
    if len(set(mods)) != len(mods) or not all(isinstance(m, str) and m.isidentifier() for m in mods):
        raise ConfigError(f"{source}: key 'data.modalities': must be distinct names (letters, digits, _)")
    data.options = check_data_options(data.format, data.options, source)
    rate = data.missing.rate
    if isinstance(rate, dict):
        extra = [k for k in rate if k not in mods]
        if extra:
            raise ConfigError(f"{source}: key 'data.missing.rate.{extra[0]}': not one of data.modalities")
    for k, v in data.missing.seeds.items():
        if k not in mods and k != 'dialogue':
            raise ConfigError(f"{source}: key 'data.missing.seeds.{k}': not one of data.modalities or 'dialogue'")
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ConfigError(f"{source}: key 'data.missing.seeds.{k}': expected a non-negative integer, got {v!r}")
    if machine and cfg.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise ConfigError(f"{source}: key 'device': cuda was asked for, but no CUDA device is available here "
                              f"(use auto or cpu)")
    if cfg.metrics != 'auto' and (cfg.metrics == 'classification') != (data.task == 'classification'):
        raise ConfigError(f"{source}: key 'metrics': the {cfg.metrics} metrics do not apply to data.task "
                          f"{data.task}")
    if cfg.retrain.ensemble > 1 and cfg.retrain.weights != 'scratch':
        raise ConfigError(f"{source}: key 'retrain.ensemble': an ensemble is retrained from scratch; "
                          f"retrain.weights is {cfg.retrain.weights!r}")
    if cfg.select_metric is not None and cfg.select_metric not in METRICS:
        raise ConfigError(f"{source}: key 'select_metric': unknown metric {cfg.select_metric!r}")
    strategy = cfg.strategy_config.strategy
    if not STRATEGIES.info(strategy, 'ranks_single_paths') and cfg.strategy_config.options.supernets > 1:
        raise ConfigError(f"{source}: key 'strategy_config.options.supernets': strategy {strategy} trains one "
                          f"supernet; several are for a strategy that ranks single paths (spos)")
    if cfg.retrain.ensemble_of == 'ranking' and not STRATEGIES.info(strategy, 'ranks_single_paths'):
        raise ConfigError(f"{source}: key 'retrain.ensemble_of': strategy {strategy} ranks no architectures; "
                          f"an ensemble of the ranking is for a strategy that ranks single paths (spos)")
    if cfg.strategy_config.options.all_modalities and not STRATEGIES.info(strategy, 'ranks_single_paths'):
        raise ConfigError(f"{source}: key 'strategy_config.options.all_modalities': strategy {strategy} ranks no "
                          f"candidates; it is for a strategy that ranks single paths (spos)")
    folds = cfg.strategy_config.options.folds
    if folds and not STRATEGIES.info(strategy, 'ranks_single_paths'):
        raise ConfigError(f"{source}: key 'strategy_config.options.folds': strategy {strategy} ranks no "
                          f"architectures; folds are for a strategy that ranks single paths (spos)")
    if folds == 1:
        raise ConfigError(f"{source}: key 'strategy_config.options.folds': 0 (none) or at least 2, got 1 "
                          f"(one fold would hold out the whole training split)")
    if folds and cfg.strategy_config.options.supernets > 1:
        raise ConfigError(f"{source}: key 'strategy_config.options.folds': folds and supernets > 1 are two ways "
                          f"of training further supernets; set one of them")
    if STRATEGIES.info(strategy, 'ranks_single_paths') and cfg.search.derive != 'argmax':
        raise ConfigError(f"{source}: key 'search.derive': strategy {strategy} exports the best-ranked "
                          f"architecture; there are no choice weights to threshold (use argmax)")
    return cfg


def run_config(values: Any, source: str) -> RunConfig:
    """A resolved run config from a mapping (a run directory's ``config.yaml``), every key checked.

    Paths are taken as they are (they were resolved when the run started).
    """
    if not isinstance(values, dict) or 'space' not in values or 'strategy_config' not in values:
        raise ConfigError(f'{source}: not a run config written by rmnas')
    run = {k: v for k, v in values.items() if k not in ('space', 'strategy_config')}
    cfg = RunConfig.build(validate(run, RUN_SCHEMA, source))
    cfg.space = space_config(values['space'], f'{source} (space)')
    cfg.strategy_config = strategy_config(values['strategy_config'], f'{source} (strategy_config)')
    return check_run(cfg, source, machine=False)


def check_data_options(fmt: str, options: Optional[Dict[str, Any]], source: str = 'config') -> Dict[str, Any]:
    """``data.options`` checked against the options format ``fmt`` registered, defaults filled in.

    Raises
    ------
    ConfigError
        ``"<source>: key 'data.options.<key>': ..."`` for an unknown key, a wrong type
        or an impossible value.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"{source}: key 'data.format': unknown format {fmt!r} (known: {FORMATS.known()})")
    schema = FORMATS.info(fmt, 'options', {})
    options = dict(options or {})
    for key in options:
        if key not in schema:
            raise ConfigError(f"{source}: key 'data.options.{key}': unknown option for format {fmt!r} "
                              f"(known: {', '.join(sorted(schema)) or 'none'})")
    out = validate(options, schema, source, 'data.options.')
    for m, v in out.get('features', {}).items():
        if not isinstance(v, str):
            raise ConfigError(f"{source}: key 'data.options.features.{m}': expected a string, "
                              f'got {type(v).__name__} {v!r}')
    check = FORMATS.info(fmt, 'check')
    if check is not None:
        check(out, source)
    return out


def _resolve_data_path(value: str, base: Optional[Path], source: str) -> str:
    """``data.path`` made absolute: relative to the config file, else to the working directory."""
    p = Path(value).expanduser()
    candidates = [p] if p.is_absolute() else ([base / p] if base is not None else []) + [Path.cwd() / p]
    for c in candidates:
        if c.exists():
            return str(c.resolve())
    where = f' (looked in {os.path.normpath(candidates[0].parent)}' + (f' and {Path.cwd()})' if len(candidates) > 1 else ')')
    raise ConfigError(f"{source}: key 'data.path': file not found: {value}{where}")


def parse_overrides(items: List[str]) -> Dict[str, Any]:
    """``['search.epochs=2', 'data.missing.rate=0.3']`` -> nested dict."""
    out: Dict[str, Any] = {}
    for item in items or []:
        if '=' not in item:
            raise ConfigError(f"--set {item}: expected KEY=VALUE (e.g. search.epochs=2)")
        key, value = item.split('=', 1)
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f'--set {item}: value is not valid YAML') from None
        if isinstance(parsed, str):
            try:
                parsed = float(parsed)               # YAML 1.1 reads 5e-4 (no dot) as a string
            except ValueError:
                pass
        node = out
        parts = key.strip().split('.')
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f'--set {item}: {p} is set twice')
        node[parts[-1]] = parsed
    return out


def _deep_merge(base: Dict[str, Any], extra: Dict[str, Any]) -> Dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def space_kwargs(space_cfg: SpaceConfig) -> Dict[str, Any]:
    """Keyword arguments of :class:`~rmnas_nni.space.RMNASSpace` from a search-space config."""
    enc, lst, fus = space_cfg.encoder, space_cfg.lst, space_cfg.fusion
    return dict(d_model=enc.d_model, n_blocks=enc.n_blocks, n_heads=enc.n_heads,
                ffn_ratio=enc.ffn_ratio, dropout=enc.dropout, mixers=list(enc.mixers),
                use_lst=lst.enabled, kernel_size=lst.kernel_size, maxdis=lst.maxdis,
                fusion_width=fus.width, n_cells=fus.n_cells, n_steps=fus.n_steps,
                fusion_ops=list(fus.ops), attention_chunks=fus.attention_chunks,
                fusion_input_selection=fus.input_selection)


def dump_yaml(obj: Any) -> str:
    if isinstance(obj, Section):
        obj = obj.to_dict()
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=None)


# --------------------------------------------------------------------------- reference

def _flat_fields(schema: Dict[str, Any], prefix: str = '') -> List[Tuple[str, Field]]:
    out: List[Tuple[str, Field]] = []
    for key, spec in schema.items():
        if isinstance(spec, dict):
            out += _flat_fields(spec, f'{prefix}{key}.')
        else:
            out.append((f'{prefix}{key}', spec))
    return out


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()
    return text[:-4].strip() if text.endswith('\n...') else text


def _short_type(field: Field) -> str:
    names = {int: 'integer', float: 'number', str: 'string', bool: 'boolean', list: 'list', dict: 'mapping'}
    types = [t for t in field.types if not (t is int and float in field.types)]
    return ' or '.join(names.get(t, t.__name__) for t in types) + (' or null' if field.nullable else '')


def _allowed(section: str, key: str, field: Field) -> str:
    """The check of a key as text, with the names a list key accepts."""
    parts = [getattr(field.check, 'text', '')] if field.check is not None else []
    if section == 'space' and key == 'encoder.mixers':
        parts.append('from ' + ', '.join(f'`{m}`' for m in MIXERS.names()))
    elif section == 'space' and key == 'fusion.ops':
        parts.append('from ' + ', '.join(f'`{m}`' for m in FUSION_OPS.names()))
    elif section == 'run' and key == 'select_metric':
        parts.append('a metric the data computes: ' + ', '.join(f'`{m}`' for m in METRICS.names()))
    return '; '.join(p for p in parts if p)


def _cell(text: str) -> str:
    return text.replace('|', '\\|').replace('\n', ' ')


def reference_table(section: str, schema: Dict[str, Any]) -> str:
    """A schema as a Markdown table: key, type, default, allowed values, description."""
    docs = KEY_DOCS[section]
    lines = ['| key | type | default | allowed | description |', '|---|---|---|---|---|']
    for key, field in _flat_fields(schema):
        lines.append(f'| `{key}` | {_short_type(field)} | `{_cell(_yaml_value(field.default))}` | '
                     f'{_cell(_allowed(section, key, field))} | {_cell(docs.get(key, ""))} |')
    return '\n'.join(lines)


def reference_markdown() -> str:
    """``docs/configuration.md``: every key of the three schemas, generated from them."""
    variants = '\n'.join(f'* `{name}`: {VARIANTS.info(name, "description")}' for name in VARIANTS.names())
    return f'''# Configuration reference

Generated from the config dataclasses in `rmnas_nni/config.py` by
`python -m rmnas_nni.config --reference > docs/configuration.md`; a test checks that
this file equals what the command prints. Every key is checked when a file is
loaded: an unknown key, a wrong type or an impossible value is one line naming
the file and the dotted key, exit status 2.

A value of a "number" key may be written as an integer. Paths in a file are
resolved relative to that file; `search_space` and `strategy` also take the name
of a shipped file. `--set KEY=VALUE` overrides any key of a run config
(`--set search.epochs=2`); a run config's `space:` and `strategy_config:`
sections are merged over the named search-space and strategy files
(`--set space.lst.maxdis=4`, `--set strategy_config.architecture_optimizer.lr=3`).

## Run config (`examples/*.yml`)

{reference_table('run', RUN_SCHEMA)}

Variants (`sweep.variants`, `--variant`, `--variants`; combine with `+`, e.g. `no_lst+no_retrain`):

{variants}

## Search space (`search_spaces/*.yml`, or `space:` in a run config)

{reference_table('space', SPACE_SCHEMA)}

## Strategy (`strategies/*.yml`, or `strategy_config:` in a run config)

{reference_table('strategy', STRATEGY_SCHEMA)}

## What a run directory records of the config

* `config.yaml`: the resolved run config, every key above with its value, plus
  `space:` and `strategy_config:` holding the loaded search space and strategy.
* `masks.npz`: the missing-modality masks drawn at load time, one boolean array
  per split and modality under the key `<split>/<modality>` (`train/text`,
  `test/audio`, ...): **True where a token (sentence level) or an utterance's
  modality (dialogue level) is kept**, False where it was dropped and on padding.
  Sentence level: shape `(samples, tokens of the modality)`; dialogue level:
  `(dialogues, utterances)`. When the text is BERT token ids, `<split>/text_ids`
  holds the ids after masking (dropped tokens are the [UNK] id 100). With
  `data.missing.redraw_train`, training uses a new draw every epoch; the file
  holds the load-time draw, which validation and test use.
* `environment.json`: versions, the torch threads in use, seed, data checksum.
'''


if __name__ == '__main__':
    import argparse
    import sys
    parser = argparse.ArgumentParser(prog='python -m rmnas_nni.config',
                                     description='Print the configuration reference (docs/configuration.md).')
    parser.add_argument('--reference', action='store_true', help='print the reference as Markdown')
    args = parser.parse_args()
    if not args.reference:
        parser.print_help()
        sys.exit(2)
    import warnings
    warnings.filterwarnings('ignore', message='.*is found to be not a nn.Module.*')   # NNI on newer torch
    from rmnas_nni.config import reference_markdown as _reference   # the package's module, not __main__
    sys.stdout.write(_reference())
