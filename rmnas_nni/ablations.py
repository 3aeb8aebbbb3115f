"""The ablation variants of the paper's Table 7, as transforms of a run config.

**Table 7 as printed** is cumulative, LST in every row; ``rmnas sweep --variants
table7`` runs its four rows in order (the decisions are in the comment above
``TABLE7_ROWS``):

| variant | Table 7 row | what changes |
|---|---|---|
| ``t7_no_search`` | no search, no retraining | ``search.method: hand_designed``; ``retrain`` takes the search phase's epochs, batch size, patience, weights-optimizer lr and weight decay, gradient clipping: the network is trained once, as the supernet's weights are |
| ``t7_fusion_search`` | fusion search | ``space.encoder.mixers: [attention]``, ``retrain.weights: supernet`` |
| ``t7_mixer_search`` | + token-mixer search | ``retrain.weights: supernet`` |
| ``t7_full`` | + retraining (RMNAS) | nothing |

Single-factor ablations (each changes one thing of RMNAS; not rows of the printed
table except where it coincides, and ``no_lst`` is not in the paper):

| variant | label | what changes |
|---|---|---|
| ``full`` | RMNAS | nothing |
| ``no_lst`` | w/o LST | ``space.lst.enabled: false``: attention logits carry only the padding mask |
| ``no_mixer_search`` | w/o token-mixer search | ``space.encoder.mixers: [attention]``: attention in every block (LST kept); the fusion is still searched |
| ``no_retrain`` | w/o retraining | ``retrain.weights: supernet``: the fixed network of the exported architecture takes the supernet's search weights and is evaluated without training |
| ``fusion_only`` | fusion search only (BM-NAS) | ``space.encoder.mixers: [attention]`` and ``space.lst.enabled: false``: plain Transformer encoders, only BM-NAS's fusion is searched, then retrained |

NAS baselines, not rows of Table 7 (:mod:`rmnas_nni.baselines`), the same space unsearched:

| variant | what changes |
|---|---|
| ``random_arch`` | ``search.method: random``: ``search.random_k`` uniform draws, each retrained; the best on validation (a sweep also lists their median) |
| ``random_search`` | ``search.method: random_search``: the draws trained briefly at the search's budget, the best on validation retrained |
| ``hand_designed`` | ``search.method: hand_designed``: attention everywhere, the last blocks fused by ``concat_fc`` then ``sum`` |

Variants combine with ``+`` (``no_lst+no_retrain``). Every variant is a pure function
of the config, so a variant's run directory holds the config it ran with and
``rmnas evaluate`` / ``--resume`` need to know nothing about variants.

**(decision)** ``fusion_only`` switches LST off: the paper describes this baseline as
BM-NAS-style fusion search over plain encoders, and LST is part of RMNAS's encoder,
not of a plain one. With LST kept it would equal ``no_mixer_search``.
"""
from __future__ import annotations

import copy
from typing import Callable, Dict, List

from .config import RunConfig, check_variant, expand_variants
from .registry import VARIANT_GROUPS as GROUPS
from .registry import VARIANTS as REGISTERED

__all__ = ['VARIANTS', 'TABLE7_NAMES', 'TABLE7_ROWS', 'VARIANT_GROUPS', 'expand_variants', 'variant_label',
           'variant_names', 'apply_variant', 'check_variant']

def _full(cfg: RunConfig) -> None:
    pass


def _no_lst(cfg: RunConfig) -> None:
    cfg.space.lst.enabled = False


def _no_mixer_search(cfg: RunConfig) -> None:
    cfg.space.encoder.mixers = ['attention']


def _no_retrain(cfg: RunConfig) -> None:
    cfg.retrain.weights = 'supernet'
    cfg.retrain.enabled = True


def _fusion_only(cfg: RunConfig) -> None:
    cfg.space.encoder.mixers = ['attention']
    cfg.space.lst.enabled = False


def _random_arch(cfg: RunConfig) -> None:
    cfg.search.method = 'random'


def _random_search(cfg: RunConfig) -> None:
    cfg.search.method = 'random_search'


def _hand_designed(cfg: RunConfig) -> None:
    cfg.search.method = 'hand_designed'


VARIANTS: Dict[str, Callable[[RunConfig], None]] = {
    'full': _full,
    'no_lst': _no_lst,
    'no_mixer_search': _no_mixer_search,
    'no_retrain': _no_retrain,
    'fusion_only': _fusion_only,
    # NAS baselines (not in Table 7): the same space without a search
    'random_arch': _random_arch,
    'random_search': _random_search,
    'hand_designed': _hand_designed,
}

TABLE7_NAMES = {
    'full': 'RMNAS',
    'no_lst': 'w/o LST',
    'no_mixer_search': 'w/o token-mixer search',
    'no_retrain': 'w/o retraining',
    'fusion_only': 'fusion search only (BM-NAS)',
    'random_arch': 'random architectures (baseline)',
    'random_search': 'random search (baseline)',
    'hand_designed': 'hand-designed network (baseline)',
}


DESCRIPTIONS = {
    'full': 'RMNAS as configured',
    'no_lst': 'w/o LST: attention logits carry no local sentiment trends',
    'no_mixer_search': 'w/o token-mixer search: attention in every block; fusion searched',
    'no_retrain': "w/o retraining: the derived network keeps the supernet's search weights",
    'fusion_only': 'fusion search only (BM-NAS): plain attention encoders without LST',
    'random_arch': 'search.random_k architectures drawn uniformly from the space, each retrained; '
                   'the best on validation, and the median in the sweep table',
    'random_search': 'search.random_k random architectures trained briefly at the search\'s budget; '
                     'the best on validation retrained',
    'hand_designed': 'a fixed network (attention everywhere, last blocks fused by concat_fc + sum); no search',
}


# ------------------------------------------------------------------------------ Table 7 as printed
# The paper's Table 7 is cumulative, LST in every row: no search and no retraining ->
# fusion search -> + token-mixer search -> + retraining (RMNAS). ``--variants table7``
# expands to these four rows, in this order.
#
# (decision) "No search, no retraining": the hand-designed network of
# rmnas_nni.baselines (attention in every block, the last blocks fused by concat_fc and
# sum), trained once with what the search phase gives the weights of the searched rows
# (search.epochs / batch_size / patience / min_epochs, the strategy's weights optimizer
# lr and weight decay, its gradient clipping), and tested as it is. Rows 2 and 3 are
# tested with the supernet's search weights (retrain.weights: supernet), so in rows 1-3
# the weights get the search phase's training only, and row 4 adds the retraining.

def _t7_no_search(cfg: RunConfig) -> None:
    cfg.search.method = 'hand_designed'
    s, r = cfg.search, cfg.retrain
    weights, options = cfg.strategy_config.weights_optimizer, cfg.strategy_config.options
    r.update(enabled=True, weights='scratch', epochs=s.epochs, batch_size=s.batch_size,
             patience=s.patience, min_epochs=s.min_epochs, lr=weights.lr,
             weight_decay=weights.weight_decay, grad_clip=options.gradient_clip_val)


def _t7_fusion_search(cfg: RunConfig) -> None:
    cfg.space.encoder.mixers = ['attention']
    cfg.retrain.update(enabled=True, weights='supernet')


def _t7_mixer_search(cfg: RunConfig) -> None:
    cfg.retrain.update(enabled=True, weights='supernet')


TABLE7_ROWS = {     # variant: (the paper's row, transform, description)
    't7_no_search': ('no search, no retraining', _t7_no_search,
                     "Table 7 row 1: the hand-designed network, trained once at the search phase's budget; "
                     'no search, no retraining'),
    't7_fusion_search': ('fusion search', _t7_fusion_search,
                         "Table 7 row 2: attention in every block, the fusion searched; the supernet's "
                         'search weights, no retraining'),
    't7_mixer_search': ('+ token-mixer search', _t7_mixer_search,
                        "Table 7 row 3: token mixers and fusion searched; the supernet's search weights, "
                        'no retraining'),
    't7_full': ('+ retraining (RMNAS)', _full, 'Table 7 row 4: RMNAS, searched and retrained from scratch'),
}
VARIANTS.update({name: row[1] for name, row in TABLE7_ROWS.items()})
TABLE7_NAMES.update({name: row[0] for name, row in TABLE7_ROWS.items()}, no_lst='w/o LST (not in the paper)')
DESCRIPTIONS.update({name: row[2] for name, row in TABLE7_ROWS.items()},
                    no_lst='w/o LST (not in the paper): attention logits carry no local sentiment trends')
VARIANT_GROUPS = {'table7': list(TABLE7_ROWS)}

for _name, _transform in VARIANTS.items():        # config checks variant names against the registry
    REGISTERED.register(_name, _transform, label=TABLE7_NAMES.get(_name, _name), description=DESCRIPTIONS[_name])
for _name, _members in VARIANT_GROUPS.items():
    GROUPS.register(_name, _members)


def variant_label(name: str) -> str:
    """The paper's name of a variant (``+``-combinations joined with ``; ``), or the variant's own name."""
    return '; '.join(TABLE7_NAMES.get(part, part) for part in name.split('+'))


def variant_names() -> List[str]:
    return list(VARIANTS)


def apply_variant(cfg: RunConfig, name: str) -> RunConfig:
    """A copy of the resolved run config ``cfg`` with variant ``name`` applied."""
    check_variant(name)
    out = copy.deepcopy(cfg)
    for part in name.split('+'):
        VARIANTS[part](out)
    return out
