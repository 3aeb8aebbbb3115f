"""The ablation variants of the paper's Table 7, as transforms of a run config.

| variant | Table 7 row | what changes |
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

**No retraining.** In NNI's DARTS supernet a ``LayerChoice`` keeps every candidate
as a child named by the candidate (``...blocks.0.mixer.attention.qkv.weight``) next
to its architecture logits (``..._arch_alpha``); in the fixed network the chosen
candidate *is* the module (``...blocks.0.mixer.qkv.weight``). :func:`transfer_supernet_weights`
renames the chosen candidate's entries, drops the others and the logits, and loads
the result strictly, so a weight left over or missing is an error. Frozen buffers
(the random-mixing matrices) travel with the weights.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch

from .errors import ConfigError, RunDirError

__all__ = ['VARIANTS', 'TABLE7_NAMES', 'variant_names', 'apply_variant', 'check_variant',
           'transfer_supernet_weights', 'supernet_state_from_checkpoint', 'load_supernet',
           'evaluate_search_weights']

Printer = Callable[[str], None]


def _full(cfg: Dict) -> None:
    pass


def _no_lst(cfg: Dict) -> None:
    cfg['space']['lst']['enabled'] = False


def _no_mixer_search(cfg: Dict) -> None:
    cfg['space']['encoder']['mixers'] = ['attention']


def _no_retrain(cfg: Dict) -> None:
    cfg['retrain']['weights'] = 'supernet'
    cfg['retrain']['enabled'] = True


def _fusion_only(cfg: Dict) -> None:
    cfg['space']['encoder']['mixers'] = ['attention']
    cfg['space']['lst']['enabled'] = False


def _random_arch(cfg: Dict) -> None:
    cfg['search']['method'] = 'random'


def _random_search(cfg: Dict) -> None:
    cfg['search']['method'] = 'random_search'


def _hand_designed(cfg: Dict) -> None:
    cfg['search']['method'] = 'hand_designed'


VARIANTS: Dict[str, Callable[[Dict], None]] = {
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


def variant_names() -> List[str]:
    return list(VARIANTS)


def check_variant(name: Any, source: str = '--variants') -> str:
    """A variant name (``+``-combinations allowed); raises :class:`ConfigError` naming ``source``."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f'{source}: variant {name!r}: expected a name ({", ".join(VARIANTS)})')
    parts = name.split('+')
    for part in parts:
        if part not in VARIANTS:
            raise ConfigError(f'{source}: unknown variant {part!r} (known: {", ".join(VARIANTS)}; '
                              f'combine with +, e.g. no_lst+no_retrain)')
    if len(parts) > 1 and 'full' in parts:
        raise ConfigError(f"{source}: variant {name!r}: 'full' does not combine with others")
    if len(set(parts)) != len(parts):
        raise ConfigError(f'{source}: variant {name!r}: a part is named twice')
    return name


def apply_variant(cfg: Dict, name: str) -> Dict:
    """A copy of the resolved run config ``cfg`` with variant ``name`` applied."""
    check_variant(name)
    out = copy.deepcopy(cfg)
    for part in name.split('+'):
        VARIANTS[part](out)
    return out


def transfer_supernet_weights(supernet: torch.nn.Module, fixed: torch.nn.Module, arch: Dict[str, Any]
                              ) -> torch.nn.Module:
    """Load the supernet's weights of the candidates chosen in ``arch`` into the fixed network.

    Raises
    ------
    RuntimeError
        (from ``load_state_dict``) when the renamed weights do not match the fixed
        network exactly.
    """
    chosen: Dict[str, str] = {}
    for name, module in supernet.named_modules():
        names = getattr(module, 'names', None)
        label = getattr(module, 'label', None)
        if hasattr(module, '_arch_alpha') and names is not None and label is not None:
            if label not in arch:
                raise KeyError(f'architecture has no choice for {label!r}')
            chosen[name + '.' if name else ''] = str(arch[label])
    state = {}
    for key, value in supernet.state_dict().items():
        if key.rsplit('.', 1)[-1] in ('_arch_alpha', '_arch_beta'):
            continue
        prefix = max((p for p in chosen if key.startswith(p)), key=len, default=None)
        if prefix is not None:
            candidate, _, rest = key[len(prefix):].partition('.')
            if candidate != chosen[prefix]:
                continue
            key = prefix + rest
        state[key] = value.detach().cpu().clone()
    fixed.load_state_dict(state, strict=True)
    return fixed


def supernet_state_from_checkpoint(path: os.PathLike | str) -> Dict[str, torch.Tensor]:
    """The supernet's ``state_dict`` from a search checkpoint (NNI's one-shot Lightning module)."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f'{path}: search checkpoint not found')
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    prefix = 'training_module._model.'
    state = {k[len(prefix):]: v for k, v in ckpt['state_dict'].items() if k.startswith(prefix)}
    if not state:
        raise RunDirError(f'{path}: not a search checkpoint written by rmnas (no supernet weights)')
    return state


def load_supernet(cfg: Dict, data, run_dir: os.PathLike | str) -> torch.nn.Module:
    """The trained supernet of a run, rebuilt with NNI and loaded from ``search/checkpoints/best.ckpt``."""
    from .pipeline import build_space
    from .search import build_strategy
    ckpt_dir = Path(run_dir) / 'search' / 'checkpoints'
    path = ckpt_dir / 'best.ckpt' if (ckpt_dir / 'best.ckpt').is_file() else ckpt_dir / 'last.ckpt'
    state = supernet_state_from_checkpoint(path)
    supernet = build_strategy(cfg['strategy_config'], cfg['seed']).mutate_model(build_space(cfg, data))
    supernet.load_state_dict(state, strict=True)
    return supernet


def evaluate_search_weights(cfg: Dict, data, arch: Dict[str, Any], run_dir: os.PathLike | str, *,
                            supernet: Optional[torch.nn.Module] = None, printer: Printer = print) -> Dict:
    """The ``no_retrain`` final step: the fixed network with the supernet's weights, evaluated.

    ``supernet`` is the trained supernet (as the search left it, best epoch
    restored); without it, it is loaded from the run's search checkpoint. Writes
    ``model.pt`` (the transferred weights) and ``metrics.json`` like a retrain does.
    """
    from .data import make_loader
    from .pipeline import build_fixed_model, count_parameters, select_metric_of
    from .rundir import atomic_torch_save, atomic_write_json
    from .trainer import device_of, evaluate
    run_dir = Path(run_dir)
    kind, select = select_metric_of(cfg, data)
    if supernet is None:
        supernet = load_supernet(cfg, data, run_dir)
    model = build_fixed_model(cfg, data, arch, cfg['seed'])
    transfer_supernet_weights(supernet, model, arch)
    printer(f'no retraining: fixed network ({count_parameters(model) / 1e6:.2f}M parameters) '
            f'with the supernet\'s search weights')
    dev = device_of(cfg['device'])
    bs = cfg['retrain']['batch_size']
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
           'missing_rate': cfg['data']['missing']['rate'], 'parameters': count_parameters(model)}
    atomic_write_json(run_dir / 'metrics.json', out)
    return out
