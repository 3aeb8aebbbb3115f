"""Where every checked number of README.md and docs/ comes from (read by tools/check_numbers.py).

``RESULTS``: the commands, each with what it costs, whether it is long (run only with
``--all``) and the folder of the repo that holds the same files (then the documents
are compared with that folder when the command does not run). ``ENTRIES``: one per
document block, naming the results it reads and how a table row is rebuilt from them.

Determinism: the CPU runs are compared exactly (to the decimals the document prints).
That holds for the same torch thread count (``threads``), the same machine or CPU kind
and the same torch build; with another thread count the numbers differ (README,
"Reproducibility"). Timings are compared within a relative tolerance, since the same
machine gives 10-40 % different seconds from one run to the next.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from check_numbers import Bound, Entry, Result, md_tables, numbers, text_table

METRICS = {'acc2': 'Acc-2', 'waf': 'WAF', 'mae': 'MAE', 'corr': 'Corr', 'acc': 'Acc'}
# the sentence-level metric set (rmnas_nni.metrics.DISPLAY_NAMES), as sweep.md prints it
METRICS.update({'acc7': 'Acc-7', 'acc5': 'Acc-5', 'acc3': 'Acc-3', 'acc2_has0': 'Acc-2 (has0)', 'f1_has0': 'F1 (has0)',
                'acc2_non0': 'Acc-2 (non0)', 'f1_non0': 'F1 (non0)', 'f1': 'F1'})
MOSI = 'rmnas sweep -c examples/mosi_dialogue.yml --seeds 0 1 2 --set threads=1 --quiet'
PEERS = Path(__file__).resolve().parents[1] / 'docs' / 'peers.md'
GCNET_CSV = 'docs/results/mosi_nas_baselines/gcnet_peers.csv'
#: SPOS's sweep, one retrained network per cell (examples/mosi_dialogue_spos.yml's schedule), the space to follow
SPOS_X1 = f'{MOSI} --variants full --set strategy=spos --set search.epochs=10 --set search.export=final'
#: the same in the mid-sized space
SPOS_MID_X1 = f'{SPOS_X1} --set search_space=mid --jobs 2'


def spos_pair_command(kept: str, other: str, other_sets: str, kept_label: str, other_label: str,
                      kept_sets: str = '') -> str:
    """Two SPOS settings side by side in the tiny and the mid-sized space (docs/quality.md section 3): per space
    the two sweeps into ``{out}/<space>_<name>``, then bench/paired_cells.py (``other`` minus ``kept``),
    bench/tried_table.py and bench/merge_sweeps.py into ``{out}/<space>``. ``kept_sets`` and ``other_sets``:
    the ``--set`` options of each (the kept one's, when any, also given to the other)."""
    kept_sets = f'{kept_sets} ' if kept_sets else ''
    return ' && '.join(
        f'{SPOS_X1} {space}{kept_sets}--jobs 2 --out {{out}}/{name}_{kept} && '
        f'{SPOS_X1} {space}{kept_sets}{other_sets} --jobs 2 --out {{out}}/{name}_{other} && '
        f'python bench/paired_cells.py --out {{out}}/{name} {other}={{out}}/{name}_{other} '
        f'{kept}={{out}}/{name}_{kept} && '
        f'python bench/tried_table.py "{kept_label}={{out}}/{name}_{kept}:full" '
        f'"{other_label}={{out}}/{name}_{other}:full" > {{out}}/{name}/tried.md && '
        f'python bench/merge_sweeps.py --out {{out}}/{name} {other}={{out}}/{name}_{other}:full '
        f'{kept}={{out}}/{name}_{kept}:full'
        for name, space in (('tiny', ''), ('mid', '--set search_space=mid ')))


#: SPOS in the three spaces (docs/quality.md section 4): (sweep folder, --set of the space);
#: (label in tried.md, sweep folder, variant in the merged table)
SPOS_SPACES = (('paper', '--set search_space=rmnas '), ('mid', '--set search_space=mid '), ('tiny', ''))
SPOS_SPACE_ROWS = (('SPOS, paper-sized space', 'paper', 'SPOS paper'), ('SPOS, mid-sized space', 'mid', 'SPOS mid'),
                   ('SPOS, tiny space', 'tiny', 'SPOS tiny'))
#: the hand-designed network of the paper-sized space: (label in tried.md, variant in the merged table)
PAPER_HAND = ('hand_designed (no search), paper-sized space', 'hand paper')
#: the paper-sized space at r = 0 and 0.7 with random architectures (docs/quality.md section 4): the SPOS
#: settings of its sweeps; (label in tried.md, sweep folder:variant, variant in the merged table); the median
#: row has no folder (merge_sweeps adds it beside the random_arch row)
PAPER_SPOS_SETS = '--set strategy=spos --set search.epochs=10 --set search.export=final --set search_space=rmnas'
PAPER_RANDOM_ROWS = (('SPOS, paper-sized space', 'paper_spos:full', 'SPOS paper'),
                     ('hand_designed (no search), paper-sized space', 'paper_hand:hand_designed', 'hand paper'),
                     ('random_arch, paper-sized space: best of 3 on validation', 'paper_rnd:random_arch',
                      'random paper'),
                     ('random_arch, paper-sized space: median of 3', '', 'random paper (median)'))
#: docs/quality.md section 2, stronger regularisation: (label, sweep folder, --set options)
REGULARISATION_DEFAULTS = 'defaults (dropout 0.1, retrain weight decay 0.01)'
REGULARISATION = (('dropout 0.3', 'drop3', '--set space.encoder.dropout=0.3'),
                  ('dropout 0.5', 'drop5', '--set space.encoder.dropout=0.5'),
                  ('retrain weight decay 0.1', 'wd1', '--set retrain.weight_decay=0.1'),
                  ('retrain weight decay 1.0', 'wd10', '--set retrain.weight_decay=1.0'),
                  ('dropout 0.3, retrain weight decay 1.0', 'drop3wd10',
                   '--set space.encoder.dropout=0.3 --set retrain.weight_decay=1.0'))
#: SPOS with 3-seed ensembles on the 3-class example (--set, the output folder to follow)
SPOS_3CLASS_X3 = ('rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 --variants full '
                  '--set threads=1 --set strategy=spos --set search.epochs=10 --set search.export=final '
                  '--set retrain.ensemble=3 --quiet --jobs 2')
#: docs/quality.md section 4, an ensemble of the ranking: (label, variant) of the two SPOS x3 settings
RANKING_ENSEMBLE_ROWS = (('SPOS x3, seeds of the exported architecture', 'seeds'),
                         ('SPOS x3, the three best-ranked architectures', 'ranking'))
SPOS_SCREEN = ('rmnas sweep -c examples/mosi_dialogue.yml --rates 0.2 0.6 --seeds 0 1 --variants full '
               '--set threads=1 --quiet --set strategy=spos')
SPOS_BEST60 = 'SPOS, export best (up to 60 epochs, patience 10)'
SPOS_FINAL10 = 'SPOS, export final after 10 epochs'
SPOS_FINAL30 = 'SPOS, export final after 30 epochs'
SPOS_24 = 'SPOS (10 epochs, export final)'
#: SPOS's supernet epochs of docs/quality.md section 3: (epochs, label in tried.md); the kept one first
SPOS_EPOCHS = ((10, 'SPOS, 10 supernet epochs (kept)'), (5, 'SPOS, 5 supernet epochs'), (30, 'SPOS, 30 supernet epochs'))
#: random_search of docs/quality.md section 4 at two budgets: (label in tried.md, sweep folder suffix, variant)
RANDOM_SEARCH = (('random_search, 3 draws x 20 epochs (the DARTS budget)', 'rs20', 'random_search 20 epochs'),
                 ('random_search, 3 draws x 6 epochs (the SPOS budget)', 'rs6', 'random_search 6 epochs'))
#: docs/quality.md section 4, "Five seeds": seeds 3 and 4 added to the rows of the search issue's goals in the
#: tiny and mid-sized spaces; (label in the document, variant in the merged table, label in tried.md or None)
FIVE_SEEDS = '--seeds 0 1 2 3 4'
MOSI5 = MOSI.replace('--seeds 0 1 2', FIVE_SEEDS)
SPOS_X1_5 = SPOS_X1.replace(MOSI, MOSI5)
#: SPOS with its candidates drawn only among architectures that read every modality: (merged table, tried.md) labels
ALL_MOD, ALL_MOD_TRIED = 'SPOS, every modality', 'SPOS, candidates reading every modality'
#: bench/architecture_spread.py: 16 random architectures that read every modality and the hand-designed one, each
#: retrained at every rate and seed; SPOS's five-seed sweep pooled over the rates beside them (tiny and mid-sized space)
SPREAD = ('python bench/architecture_spread.py -c examples/mosi_dialogue.yml --archs 16 --draw-seed 100 '
          '--rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 --seeds 0 1 2 3 4 --jobs 2 --pooled-top 5')
SPREAD_SPACES = (('tiny', '', ''),
                 ('mid', '--set search_space=mid ',
                  ' "--reference=ranking x5=docs/results/mosi_spos/five_seeds/mid_x5/table.csv:ranking x5"'))
FIVE_SEEDS_ROWS = (('SPOS', 'SPOS', SPOS_24),
                   ('hand-designed', 'hand_designed', 'hand_designed (no search)'),
                   ('random_arch, best of 3', 'random_arch', 'random_arch (best of 3 on validation)'),
                   ('random_arch, median', 'random_arch (median)', None),
                   ('random_search (DARTS budget)', 'random_search', RANDOM_SEARCH[0][0]),
                   ('random_arch reading every modality, best of 3', 'random_arch, every modality',
                    'random_arch reading every modality (best of 3 on validation)'),
                   ('random_arch reading every modality, median', 'random_arch, every modality (median)', None))
SPOS_3CLASS_DARTS = 'DARTS (search.exclude_zero false, as in section 4)'
# the baselines of docs/quality.md ran before search.min_epochs had its default of 10
# and before search.exclude_zero existed (then: false); their sweep.yaml says so
OLD_BASELINES = '--set search.random_k=3 --set search.min_epochs=0 --set search.exclude_zero=false'

# ----------------------------------------------------------------------------- commands

RESULTS = [
    Result('quickstart', 'rmnas run --set threads=1 --quiet --out {out}',
           'about 70 s on one core'),
    Result('mosi_diagnosis',
           'rmnas run -c examples/mosi_dialogue.yml --set data.missing.rate=0.5 --set threads=1 '
           '--set select_metric=waf --set search.min_epochs=0 --set retrain.min_epochs=0 '
           '--set search.exclude_zero=false --quiet --out {out}',
           'about 60 s on one core; reads data/cmu-mosi-utterances', committed='docs/results/mosi_diagnosis_r05'),
    Result('quickstart_threads2', 'rmnas run --set threads=2 --quiet --out {out}',
           'about 70 s with 2 free cores; 15 minutes when another job holds one of them', long=True),
    Result('sweep_example',
           'rmnas sweep -c examples/quickstart.yml --rates 0 0.5 1.0 --seeds 0 1 --variants full no_lst '
           '--set search.epochs=4 --set retrain.epochs=15 --set threads=1 --quiet --out {out}',
           'about 8 minutes on one core'),
    # The sweep of docs/benchmarks.md section 6, with the defaults of 2026-11-26 (selection
    # on validation WAF, no minimum epochs, zero operations allowed at derivation).
    Result('mosi_sweep',
           'rmnas sweep -c examples/mosi_dialogue.yml --rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 '
           '--seeds 0 1 2 --variants full no_lst --set threads=1 --set select_metric=waf '
           '--set search.min_epochs=0 --set retrain.min_epochs=0 --set search.exclude_zero=false '
           '--quiet --out {out}',
           '48 runs, about 25 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_dialogue_sweep'),
    Result('mosi_sweep_paper_space',
           'rmnas sweep -c examples/mosi_dialogue.yml --set search_space=rmnas --set threads=2 '
           '--rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 --seeds 0 --variants full --set select_metric=waf '
           '--set search.min_epochs=0 --set retrain.min_epochs=0 --set search.exclude_zero=false '
           '--quiet --out {out}',
           '8 runs of the paper-sized space, about 60 minutes on 2 cores (threads=2, as measured); '
           'reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_dialogue_sweep_paper_space'),
    Result('mosi_nas_baselines',
           f'{MOSI} --variants full --out {{out}}/best_nozero && '
           f'{MOSI} --variants hand_designed random_arch {OLD_BASELINES} --out {{out}}/final_baselines && '
           f'{MOSI} --variants random_search {OLD_BASELINES} --out {{out}}/final_rsearch && '
           'python bench/merge_sweeps.py --out {out} RMNAS={out}/best_nozero:full {out}/final_baselines '
           'random_search={out}/final_rsearch:random_search '
           f'--baseline GCNet={GCNET_CSV} --paired waf',
           '4 x 24 runs, about 2 hours on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_nas_baselines'),
    Result('mosi_lst_ablation',
           f'{MOSI} --variants full --out {{out}}/best_nozero && '
           f'{MOSI} --variants no_lst --out {{out}}/no_lst && '
           'python bench/merge_sweeps.py --out {out} RMNAS={out}/best_nozero:full {out}/no_lst',
           '2 x 24 runs, about 50 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_lst_ablation'),
    Result('selection_rules',
           'mkdir -p {out} && '
           'python bench/selection_rules.py --epochs 60 --set retrain.lr=1e-3 --set threads=1 --out {out}/lr1e-3.json && '
           'python bench/selection_rules.py --analyse {out}/lr1e-3.json > {out}/lr1e-3.md && '
           'python bench/selection_rules.py --epochs 60 --set retrain.lr=5e-4 --set threads=1 --out {out}/lr5e-4.json && '
           'python bench/selection_rules.py --analyse {out}/lr5e-4.json > {out}/lr5e-4.md',
           '2 x 9 runs of 60 epochs, about 30 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/selection_rules'),
    Result('tried_screening',
           f'{MOSI} --rates 0.2 0.6 --variants full --set retrain.min_epochs=10 --set select_metric=waf '
           '--set search.min_epochs=0 --set search.exclude_zero=false --out {out}/A && '
           f'{MOSI} --rates 0.2 0.6 --variants full --set retrain.min_epochs=10 --set select_metric=mae '
           '--set search.exclude_zero=false --out {out}/B && '
           'python bench/tried_table.py "A: export best, select WAF (as landed)={out}/A" '
           '"B: export best, select MAE, search.min_epochs 10={out}/B" > {out}/tried.md',
           '2 x 6 runs, about 10 minutes on one core; reads data/cmu-mosi-utterances', long=True),
    Result('tried_24_cells',
           f'{MOSI} --variants full --set search.exclude_zero=false --out {{out}}/best && '
           f'{MOSI} --variants full --out {{out}}/best_nozero && '
           f'{MOSI} --variants full --set search.export=final --set search.min_epochs=0 '
           '--set search.exclude_zero=false --out {out}/final && '
           f'{MOSI} --variants full --set search.export=final --set search.min_epochs=0 --out {{out}}/final_nozero && '
           f'{MOSI} --variants hand_designed random_arch {OLD_BASELINES} --out {{out}}/baselines && '
           f'{MOSI} --variants random_search {OLD_BASELINES} --out {{out}}/rsearch && '
           'python bench/tried_table.py "export best, argmax={out}/best" '
           '"export best, exclude_zero (chosen)={out}/best_nozero" '
           '"export final (20 epochs), argmax={out}/final" "export final, exclude_zero={out}/final_nozero" '
           '"hand_designed (no search)={out}/baselines:hand_designed" '
           '"random_arch (best of 3 on validation)={out}/baselines:random_arch" '
           '"random_search (3 draws, search budget)={out}/rsearch:random_search" > {out}/tried.md',
           '6 x 24 runs, about 3 hours on one core; reads data/cmu-mosi-utterances', long=True),
    Result('mosi_3class',
           'rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 --variants full '
           '--set threads=1 --set search.exclude_zero=false --quiet --out {out}/full && '
           'rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 '
           '--variants hand_designed random_arch --set threads=1 --set search.random_k=3 --set search.min_epochs=0 '
           '--set search.exclude_zero=false --quiet --out {out}/baselines && '
           'python bench/merge_sweeps.py --out {out} RMNAS={out}/full:full {out}/baselines',
           '18 runs, about 20 minutes on one core; reads data/cmu-mosi-utterances', long=True),
    Result('fusion_gates',
           'for sel in one_of_n gates; do for der in argmax threshold; do '
           'rmnas sweep -c examples/mosi_dialogue.yml --rates 0.5 --seeds 0 1 2 --set threads=1 '
           '--set space.fusion.input_selection=$sel --set search.derive=$der --set select_metric=waf '
           '--set search.min_epochs=0 --set retrain.min_epochs=0 --set search.exclude_zero=false '
           '--quiet --out {out}/$sel-$der || exit 1; done; done',
           '12 runs, about 15 minutes on one core; reads data/cmu-mosi-utterances', long=True),
    Result('mosi_mid_nas_baselines',
           f'{MOSI} --variants full hand_designed random_arch --set search_space=mid --set search.random_k=3 '
           '--out {out}/mid_sweep && '
           'python bench/merge_sweeps.py --out {out} RMNAS={out}/mid_sweep:full {out}/mid_sweep:hand_designed '
           f'{{out}}/mid_sweep:random_arch --paired waf --baseline GCNet={GCNET_CSV}',
           '3 x 24 runs of the mid-sized space, about 85 minutes on one core; reads data/cmu-mosi-utterances',
           long=True, committed='docs/results/mosi_mid_nas_baselines'),
    Result('warmup_24_cells',
           f'{MOSI} --variants full --out {{out}}/best_nozero && '
           f'{MOSI} --variants full --set strategy_config.options.warmup_epochs=5 --out {{out}}/warmup5 && '
           'python bench/tried_table.py "export best, exclude_zero (defaults)={out}/best_nozero:full" '
           '"defaults + 5 warm-up epochs (options.warmup_epochs 5)={out}/warmup5:full" > {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} defaults={out}/best_nozero:full warmup5={out}/warmup5:full '
           '--paired waf',
           '2 x 24 runs, about 40 minutes on one core; reads data/cmu-mosi-utterances', long=True),
    Result('mosi_arch_data',
           f'{MOSI} --variants full --out {{out}}/valid && '
           f'{MOSI} --variants full --set search.arch_data=train_half --out {{out}}/train_half && '
           'python bench/tried_table.py valid={out}/valid:full train_half={out}/train_half:full > {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} train_half={out}/train_half:full valid={out}/valid:full '
           '--paired waf',
           '2 x 24 runs, about 30 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_arch_data'),
    Result('mosi_exclude_identity',
           f'{MOSI} --variants full --out {{out}}/valid && '
           f'{MOSI} --variants full --set search.exclude_identity=true --out {{out}}/exclude_identity && '
           'python bench/tried_table.py defaults={out}/valid:full exclude_identity={out}/exclude_identity:full '
           '> {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} exclude_identity={out}/exclude_identity:full '
           'defaults={out}/valid:full --paired waf && '
           'python bench/paired_cells.py --out {out} exclude_identity={out}/exclude_identity defaults={out}/valid',
           '2 x 24 runs, about 30 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_exclude_identity'),
    Result('mosi_gumbel_darts',
           f'{MOSI} --variants full --out {{out}}/valid && '
           f'{MOSI} --variants full --set strategy=gumbel_darts --out {{out}}/gumbel_darts && '
           'python bench/tried_table.py defaults={out}/valid:full gumbel_darts={out}/gumbel_darts:full '
           '> {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} gumbel_darts={out}/gumbel_darts:full '
           'defaults={out}/valid:full --paired waf',
           '2 x 24 runs, about 30 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_gumbel_darts'),
    Result('mosi_spos',
           f'{SPOS_SCREEN} --set search.epochs=60 --set search.patience=10 --out {{out}}/screen_best60 && '
           f'{SPOS_SCREEN} --set search.epochs=10 --set search.export=final --out {{out}}/screen_final10 && '
           f'{SPOS_SCREEN} --set search.epochs=30 --set search.export=final --out {{out}}/screen_final30 && '
           'rmnas sweep -c examples/mosi_dialogue.yml --rates 0.2 0.6 --seeds 0 1 --variants full --set threads=1 '
           '--quiet --out {out}/screen_darts && '
           f'python bench/tried_table.py "DARTS (defaults)={{out}}/screen_darts:full" "{SPOS_BEST60}={{out}}/screen_best60:full" '
           f'"{SPOS_FINAL10}={{out}}/screen_final10:full" "{SPOS_FINAL30}={{out}}/screen_final30:full" > {{out}}/screening.md && '
           f'{MOSI} --variants full --out {{out}}/valid && '
           f'{MOSI} --variants full --set strategy=spos --set search.epochs=10 --set search.export=final --jobs 2 '
           '--out {out}/spos && '
           f'{MOSI} --variants hand_designed random_arch {OLD_BASELINES} --out {{out}}/final_baselines && '
           f'{MOSI} --variants random_search {OLD_BASELINES} --out {{out}}/final_rsearch && '
           f'python bench/tried_table.py "DARTS (defaults)={{out}}/valid:full" "{SPOS_24}={{out}}/spos:full" > {{out}}/tried.md && '
           'python bench/paired_cells.py --out {out} SPOS={out}/spos defaults={out}/valid && '
           'python bench/merge_sweeps.py --out {out} SPOS={out}/spos:full RMNAS={out}/valid:full {out}/final_baselines '
           f'random_search={{out}}/final_rsearch:random_search --baseline GCNet={GCNET_CSV} --paired waf',
           '4 sweeps of 4 cells and 4 x 24 runs, about 2 hours on one core (the 24 SPOS cells took 10 minutes with '
           '--jobs 2); reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos'),
    Result('mosi_spos_ensemble',
           f'{MOSI} --variants full --set strategy=spos --set search.epochs=10 --set search.export=final --jobs 2 '
           '--out {out}/spos && '
           f'{MOSI} --variants full --set strategy=spos --set search.epochs=10 --set search.export=final '
           '--set retrain.ensemble=3 --jobs 2 --out {out}/spos_ens3 && '
           f'{MOSI} --variants full hand_designed random_arch --set search.random_k=3 --set retrain.ensemble=3 '
           '--jobs 2 --out {out}/ens3 && '
           'python bench/merge_sweeps.py --out {out} "SPOS x3={out}/spos_ens3:full" "RMNAS x3={out}/ens3:full" '
           '"hand_designed x3={out}/ens3:hand_designed" "random_arch x3={out}/ens3:random_arch" SPOS={out}/spos:full '
           f'--paired waf --baseline GCNet={GCNET_CSV} && '
           'python bench/ensemble_size.py --sweep {out}/spos_ens3 --out {out} && '
           'mkdir -p {out}/ws/cells && ln -s {out}/spos_ens3/cells/full {out}/ws/cells/full && '
           'ln -s {out}/ens3/cells/hand_designed {out}/ws/cells/hand_designed && '
           'ln -s {out}/ens3/cells/random_arch {out}/ws/cells/random_arch && '
           'python bench/weight_sharing_rank.py --sweep {out}/ws --out {out}',
           '24 runs, 24 runs with three retrainings, 72 runs with three retrainings, about 3 hours on one core (the '
           '24 SPOS cells with three retrainings took 12 minutes with --jobs 2); reads data/cmu-mosi-utterances',
           long=True, committed='docs/results/mosi_spos/ensemble'),
    Result('mosi_spos_mid',
           f'{MOSI} --variants full hand_designed random_arch --set search_space=mid --set search.random_k=3 '
           '--out {out}/mid_sweep && '
           f'{MOSI} --variants full --set search_space=mid --set strategy=spos --set search.epochs=10 '
           '--set search.export=final --jobs 2 --out {out}/mid_spos && '
           f'python bench/tried_table.py "DARTS (defaults)={{out}}/mid_sweep:full" "{SPOS_24}={{out}}/mid_spos:full" '
           '"hand_designed (no search)={out}/mid_sweep:hand_designed" '
           '"random_arch (best of 3 on validation)={out}/mid_sweep:random_arch" > {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} SPOS={out}/mid_spos:full RMNAS={out}/mid_sweep:full '
           f'{{out}}/mid_sweep:hand_designed {{out}}/mid_sweep:random_arch --paired waf --baseline GCNet={GCNET_CSV}',
           '4 x 24 runs of the mid-sized space, about 2 hours on one core (the 24 SPOS cells took 12 minutes with '
           '--jobs 2); reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/mid'),
    Result('mosi_spos_mid_ensemble',
           f'{MOSI} --variants full --set search_space=mid --set strategy=spos --set search.epochs=10 '
           '--set search.export=final --set retrain.ensemble=3 --jobs 2 --out {out}/mid_spos_ens3 && '
           f'{MOSI} --variants full hand_designed --set search_space=mid --set retrain.ensemble=3 --jobs 2 '
           '--out {out}/mid_ens3 && '
           f'{MOSI} --variants random_arch --set search_space=mid --set search.random_k=3 --set retrain.ensemble=3 '
           '--jobs 2 --out {out}/mid_rnd3 && '
           f'{MOSI} --variants full --set search_space=mid --set strategy=spos --set search.epochs=10 '
           '--set search.export=final --jobs 2 --out {out}/mid_spos && '
           'python bench/tried_table.py "SPOS x3={out}/mid_spos_ens3:full" "DARTS x3={out}/mid_ens3:full" '
           '"hand_designed x3={out}/mid_ens3:hand_designed" '
           '"random_arch x3 (best of 3 on validation)={out}/mid_rnd3:random_arch" "SPOS={out}/mid_spos:full" '
           '> {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} "SPOS x3={out}/mid_spos_ens3:full" "RMNAS x3={out}/mid_ens3:full" '
           '"hand_designed x3={out}/mid_ens3:hand_designed" "random_arch x3={out}/mid_rnd3:random_arch" '
           f'SPOS={{out}}/mid_spos:full --paired waf --baseline GCNet={GCNET_CSV}',
           '24 runs with three retrainings, 48 runs with three retrainings, 24 runs of three random architectures '
           'with three retrainings each and 24 runs of the mid-sized space, about 90 minutes with --jobs 2 on 2 cores '
           '(the 24 SPOS cells with three retrainings took 13 minutes, the 24 random ones 26); reads '
           'data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/mid_ensemble'),
    Result('mosi_spos_mid_ensemble_size',
           f'{MOSI} --variants full hand_designed --set search_space=mid --set strategy=spos --set search.epochs=10 '
           '--set search.export=final --set retrain.ensemble=5 --jobs 2 --out {out}/mid_x5 && '
           'python bench/ensemble_size.py --sweep {out}/mid_x5 --out {out}',
           '48 runs of the mid-sized space with five retrainings each, 32 minutes with --jobs 2 on 2 cores; reads '
           'data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/mid_ensemble_size'),
    Result('mosi_spos_evolution',
           spos_pair_command('random', 'evolution', '--set strategy_config.options.ranking=evolution',
                             'SPOS, random ranking (kept)', 'SPOS, evolution'),
           '4 x 24 runs, about 40 minutes with --jobs 2 on 2 cores (24 evolution cells: 7 minutes in the tiny '
           'space, 12 in the mid-sized one); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/evolution'),
    Result('mosi_spos_candidates',
           spos_pair_command('c100', 'c300', '--set strategy_config.options.candidates=300',
                             'SPOS, 100 candidates (kept)', 'SPOS, 300 candidates'),
           '4 x 24 runs, about 40 minutes with --jobs 2 on 2 cores (24 cells with 300 candidates: 19 minutes in '
           'the tiny space with --jobs 1 beside the test suite, 12 in the mid-sized one); reads '
           'data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/candidates'),
    Result('mosi_spos_paper',
           ' && '.join(f'{SPOS_X1} {space}--jobs 2 --out {{out}}/{name}_spos' for name, space in SPOS_SPACES) + ' && '
           f'{MOSI} --variants hand_designed --set strategy=spos --set search.epochs=10 --set search.export=final '
           '--set search_space=rmnas --jobs 2 --out {out}/paper_hand && '
           'python bench/tried_table.py ' + ' '.join(f'"{label}={{out}}/{name}_spos:full"'
                                                    for label, name, _ in SPOS_SPACE_ROWS)
           + f' "{PAPER_HAND[0]}={{out}}/paper_hand:hand_designed" > {{out}}/tried.md && '
           'python bench/merge_sweeps.py --out {out} ' + ' '.join(f'"{variant}={{out}}/{name}_spos:full"'
                                                                  for _, name, variant in SPOS_SPACE_ROWS)
           + f' "{PAPER_HAND[1]}={{out}}/paper_hand:hand_designed" --paired waf --baseline GCNet={GCNET_CSV}',
           '24 SPOS runs of the paper-sized space (about 6 minutes a cell, 67 minutes with --jobs 2 on 2 cores), 24 '
           'runs of its hand-designed network, and 24 SPOS runs each of the mid-sized and tiny spaces (3 minutes a '
           'sweep); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/paper'),
    Result('mosi_spos_paper_random',
           f'{MOSI} --variants full {PAPER_SPOS_SETS} --jobs 2 --out {{out}}/paper_spos && '
           f'{MOSI} --variants hand_designed {PAPER_SPOS_SETS} --jobs 2 --out {{out}}/paper_hand && '
           f'{MOSI} --variants random_arch {PAPER_SPOS_SETS} --set search.random_k=3 --jobs 2 '
           '--out {out}/paper_rnd && python bench/tried_table.py '
           + ' '.join(f'"{label}={{out}}/{folder}"' for label, folder, _ in PAPER_RANDOM_ROWS if folder)
           + ' > {out}/tried.md && python bench/merge_sweeps.py --out {out} '
           + ' '.join(f'"{variant}={{out}}/{folder}"' for _, folder, variant in PAPER_RANDOM_ROWS if folder)
           + f' --paired waf --baseline GCNet={GCNET_CSV}',
           '72 runs of the paper-sized space, about 3 hours with --jobs 2 on 2 cores (a random_arch cell: 3 '
           'networks, 6 to 13 minutes); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/paper_random'),
    Result('mosi_spos_five_seeds',
           ' && '.join(
               f'{SPOS_X1_5} {space}--jobs 2 '
               f'--out {{out}}/{name}_spos && '
               f'{MOSI5} --variants hand_designed random_arch {space}'
               f'--set search.random_k=3 --jobs 2 --out {{out}}/{name}_base && '
               f'{MOSI5} --variants random_search {space}--set search.random_k=3 '
               f'--jobs 2 --out {{out}}/{name}_rs20 && '
               f'{MOSI5} --variants random_arch {space}--set search.random_k=3 '
               f'--set search.random_all_modalities=true --jobs 2 --out {{out}}/{name}_rall && '
               f'python bench/merge_sweeps.py --out {{out}}/{name} SPOS={{out}}/{name}_spos:full '
               f'{{out}}/{name}_base:hand_designed {{out}}/{name}_base:random_arch '
               f'random_search={{out}}/{name}_rs20:random_search '
               f'"{FIVE_SEEDS_ROWS[5][1]}={{out}}/{name}_rall:random_arch" --paired waf --baseline GCNet={GCNET_CSV} && '
               f'python bench/tried_table.py "{SPOS_24}={{out}}/{name}_spos:full" '
               f'"hand_designed (no search)={{out}}/{name}_base:hand_designed" '
               f'"random_arch (best of 3 on validation)={{out}}/{name}_base:random_arch" '
               f'"{RANDOM_SEARCH[0][0]}={{out}}/{name}_rs20:random_search" '
               f'"{FIVE_SEEDS_ROWS[5][2]}={{out}}/{name}_rall:random_arch" > {{out}}/{name}/tried.md'
               for name, space in (('tiny', ''), ('mid', '--set search_space=mid '))),
           '8 x 40 runs (seeds 0 to 4), about 70 minutes with --jobs 2 on 2 cores; reads data/cmu-mosi-utterances',
           long=True, committed='docs/results/mosi_spos/five_seeds'),
    Result('mosi_architecture_spread',
           ' && '.join(f'{SPOS_X1_5} {space}--jobs 2 --out {{out}}/{name}_spos && '
                       f'{SPREAD} {space}--out {{out}}/{name} --pooled SPOS={{out}}/{name}_spos:full{extra}'
                       for name, space, extra in SPREAD_SPACES),
           'per space: SPOS over five seeds (40 runs) and 880 retrainings, about 40 minutes with --jobs 2 on 2 '
           'cores; reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/architecture_spread'),
    Result('mosi_spos_all_modalities',
           ' && '.join(f'{SPOS_X1_5} {space}--jobs 2 --out {{out}}/{name}_spos && '
                       f'{SPOS_X1_5} {space}--set strategy_config.options.all_modalities=true --jobs 2 '
                       f'--out {{out}}/{name}_all && '
                       f'python bench/merge_sweeps.py --out {{out}}/{name} SPOS={{out}}/{name}_spos:full '
                       f'"{ALL_MOD}={{out}}/{name}_all:full" --paired waf && '
                       f'python bench/tried_table.py --modalities "{SPOS_24}={{out}}/{name}_spos:full" '
                       f'"{ALL_MOD_TRIED}={{out}}/{name}_all:full" > {{out}}/{name}/tried.md'
                       for name, space in (('tiny', ''), ('mid', '--set search_space=mid '))),
           'per space: 2 x 40 SPOS runs (seeds 0 to 4), about 8 minutes with --jobs 2 on 2 cores; '
           'reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/all_modalities'),
    Result('mosi_spos_five_seeds_x5',
           f'{SPOS_X1_5} --set search_space=mid '
           '--set retrain.ensemble=5 --set retrain.ensemble_of=ranking --jobs 2 --out {out}/mid_rk5 && '
           f'{MOSI5} --variants random_arch --set search_space=mid '
           '--set search.random_k=3 --set retrain.ensemble=5 --jobs 2 --out {out}/mid_rnd5 && '
           f'{MOSI5} --variants random_arch --set search_space=mid '
           '--set search.random_k=3 --set search.random_all_modalities=true --set retrain.ensemble=5 --jobs 2 '
           '--out {out}/mid_rall5 && '
           'python bench/tried_table.py "ranking x5={out}/mid_rk5:full" '
           '"random_arch x5 (best of 3 on validation)={out}/mid_rnd5:random_arch" '
           '"random_arch x5 reading every modality (best of 3 on validation)={out}/mid_rall5:random_arch" '
           '> {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} "ranking x5={out}/mid_rk5:full" '
           '"random_arch x5={out}/mid_rnd5:random_arch" '
           '"random_arch x5, every modality={out}/mid_rall5:random_arch" --paired waf',
           '3 x 40 runs of the mid-sized space with five retrainings each (seeds 0 to 4), about 75 minutes with '
           '--jobs 2 on 2 cores; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/five_seeds/mid_x5'),
    Result('mosi_spos_supernets',
           spos_pair_command('k1', 'k3', '--set strategy_config.options.supernets=3',
                             'SPOS, one supernet (kept)', 'SPOS, three supernets'),
           '4 x 24 runs, about 15 minutes with --jobs 2 on 2 cores (24 cells with three supernets: 4 minutes in the '
           'tiny space, 5 in the mid-sized one); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/supernets'),
    Result('mosi_spos_folds',
           spos_pair_command('k1', 'f5', '--set strategy_config.options.folds=5',
                             'SPOS, ranked on validation (kept)', 'SPOS, ranked on validation and 5 training folds'),
           '4 x 24 runs, about 25 minutes with --jobs 2 on 2 cores (24 cells with 5 folds: about 8 minutes in the '
           'tiny space, 10 in the mid-sized one); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/folds'),
    Result('mosi_spos_random_search',
           ' && '.join(
               f'{SPOS_X1} {space}--jobs 2 --out {{out}}/{name}_spos && '
               f'{MOSI} --variants random_search {space}--set search.random_k=3 --jobs 2 --out {{out}}/{name}_rs20 && '
               f'{MOSI} --variants random_search {space}--set search.random_k=3 --set search.epochs=6 --jobs 2 '
               f'--out {{out}}/{name}_rs6 && '
               f'python bench/merge_sweeps.py --out {{out}}/{name} SPOS={{out}}/{name}_spos:full '
               + ' '.join(f'"{variant}={{out}}/{name}_{short}:random_search"' for _, short, variant in RANDOM_SEARCH)
               + ' --paired waf && '
               f'python bench/tried_table.py "{SPOS_24}={{out}}/{name}_spos:full" '
               + ' '.join(f'"{label}={{out}}/{name}_{short}:random_search"' for label, short, _ in RANDOM_SEARCH)
               + f' > {{out}}/{name}/tried.md'
               for name, space in (('tiny', ''), ('mid', '--set search_space=mid '))),
           '6 x 24 runs, about 25 minutes with --jobs 2 on 2 cores (a random_search sweep: 4 minutes in the tiny '
           'space, 5 in the mid-sized one); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/random_search'),
    Result('mosi_spos_epochs',
           ' && '.join(
               f'{SPOS_X1} {space}--jobs 2 --out {{out}}/{name}_e10 && '
               + ' && '.join(f'{SPOS_X1} {space}--set search.epochs={e} --jobs 2 --out {{out}}/{name}_e{e} && '
                             f'python bench/paired_cells.py --out {{out}}/{name}/e{e} e{e}={{out}}/{name}_e{e} '
                             f'e10={{out}}/{name}_e10' for e, _ in SPOS_EPOCHS[1:])
               + ' && python bench/tried_table.py '
               + ' '.join(f'"{label}={{out}}/{name}_e{e}:full"' for e, label in SPOS_EPOCHS)
               + f' > {{out}}/{name}/tried.md && python bench/merge_sweeps.py --out {{out}}/{name} '
               + ' '.join(f'e{e}={{out}}/{name}_e{e}:full' for e, _ in SPOS_EPOCHS)
               for name, space in (('tiny', ''), ('mid', '--set search_space=mid '))),
           '6 x 24 runs, about 25 minutes with --jobs 2 on 2 cores (24 cells with 30 epochs: 3 minutes in the '
           'tiny space, 7 in the mid-sized one); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/epochs'),
    Result('mosi_spos_ranking_ensemble',
           spos_pair_command('seeds', 'ranking', '--set retrain.ensemble_of=ranking',
                             'SPOS x3, seeds of the exported architecture', 'SPOS x3, the three best-ranked architectures',
                             kept_sets='--set retrain.ensemble=3')
           + f' && {MOSI} --variants random_arch --set search.random_k=3 --jobs 2 --out {{out}}/tiny_random && '
           'python bench/draw_ensemble.py --sweep {out}/tiny_random --out {out}/draws',
           '4 x 24 runs of three retrained networks each, about 50 minutes with --jobs 2 on 2 cores, then 24 '
           'random_arch runs of the tiny space and their draws retrained again (about 20 minutes); reads '
           'data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/ranking_ensemble'),
    Result('mosi_spos_ranking_ensemble_size',
           ' && '.join(f'{SPOS_X1} {space}--set retrain.ensemble=5 --set retrain.ensemble_of=ranking --jobs 2 '
                       f'--out {{out}}/{name}_x5 && python bench/ensemble_size.py --sweep {{out}}/{name}_x5 '
                       f'--out {{out}}/{name} --best-of' for name, space in (('tiny', ''), ('mid', '--set search_space=mid '))),
           '48 runs with five retrainings each, about 20 minutes with --jobs 2 on 2 cores; reads '
           'data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/ranking_ensemble/size'),
    Result('mosi_spos_mid_random_x5',
           f'{MOSI} --variants random_arch --set search_space=mid --set search.random_k=3 --set retrain.ensemble=5 '
           '--jobs 2 --out {out}/mid_rnd5 && python bench/tried_table.py '
           '"random_arch x5 (best of 3 on validation)={out}/mid_rnd5:random_arch" > {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} "random_arch x5={out}/mid_rnd5:random_arch"',
           '24 runs of the mid-sized space, three random architectures of five retrainings each, about 20 minutes '
           'with --jobs 2 on 2 cores; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/ranking_ensemble/random_x5'),
    Result('mosi_spos_ranking_ensemble_3class',
           ' && '.join(f'{SPOS_3CLASS_X3}{sets} --out {{out}}/{name}' for name, sets in (
               ('seeds', ''), ('ranking', ' --set retrain.ensemble_of=ranking')))
           + ' && python bench/tried_table.py ' + ' '.join(f'"{label}={{out}}/{v}:full"'
                                                          for label, v in RANKING_ENSEMBLE_ROWS)
           + ' > {out}/tried.md && python bench/merge_sweeps.py --out {out} ranking={out}/ranking:full '
           'seeds={out}/seeds:full --paired waf',
           '12 runs of three retrained networks each, about 3 minutes with --jobs 2 on 2 cores; reads '
           'data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_spos/ranking_ensemble/3class'),
    Result('mosi_regularisation',
           ' && '.join(
               [f'{SPOS_MID_X1} --out {{out}}/defaults']
               + [f'{SPOS_MID_X1} {sets} --out {{out}}/{name}' for _, name, sets in REGULARISATION]
               + [f'python bench/paired_cells.py --out {{out}}/{name} {name}={{out}}/{name} defaults={{out}}/defaults'
                  for _, name, _ in REGULARISATION]
               + ['python bench/tried_table.py --retrain-epochs '
                  + ' '.join(f'"{label}={{out}}/{name}:full"'
                             for label, name, _ in ((REGULARISATION_DEFAULTS, 'defaults', ''), *REGULARISATION))
                  + ' > {out}/tried.md',
                  'python bench/merge_sweeps.py --out {out} defaults={out}/defaults:full '
                  + ' '.join(f'{name}={{out}}/{name}:full' for _, name, _ in REGULARISATION) + ' --paired waf']),
           '6 x 24 runs of the mid-sized space (SPOS, one retrained network each), about 15 minutes with --jobs 2 '
           'on 2 cores (2 to 3 minutes a sweep); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_regularisation'),
    Result('mosi_spos_3class',
           'rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 --variants full '
           '--set threads=1 --set search.exclude_zero=false --quiet --out {out}/full && '
           'rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 '
           '--variants hand_designed random_arch --set threads=1 --set search.random_k=3 --set search.min_epochs=0 '
           '--set search.exclude_zero=false --quiet --out {out}/baselines && '
           'rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 --variants full '
           '--set threads=1 --set strategy=spos --set search.epochs=10 --set search.export=final --quiet '
           '--out {out}/spos && '
           f'python bench/tried_table.py "{SPOS_3CLASS_DARTS}={{out}}/full:full" "{SPOS_24}={{out}}/spos:full" '
           '"hand_designed (no search)={out}/baselines:hand_designed" '
           '"random_arch (best of 3 on validation)={out}/baselines:random_arch" > {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} SPOS={out}/spos:full RMNAS={out}/full:full {out}/baselines '
           '--paired waf',
           '24 runs, about 25 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_spos/3class'),
    Result('mosi_seed_ensemble',
           f'{MOSI} --variants full hand_designed --out {{out}}/single && '
           f'{MOSI} --variants full hand_designed random_arch --set search.random_k=3 --set retrain.ensemble=3 '
           '--jobs 2 --out {out}/ens3 && '
           'python bench/merge_sweeps.py --out {out} "RMNAS x3={out}/ens3:full" '
           '"hand_designed x3={out}/ens3:hand_designed" "random_arch x3={out}/ens3:random_arch" '
           'RMNAS={out}/single:full hand_designed={out}/single:hand_designed --paired waf '
           f'--baseline GCNet={GCNET_CSV} && '
           'python bench/ensemble_size.py --sweep {out}/ens3 --out {out} && '
           'python bench/weight_sharing_rank.py --sweep {out}/ens3 --out {out}',
           '2 x 24 runs and 72 runs with three retrainings each, about 2 hours on one core (the 72 took 46 minutes '
           'with --jobs 2); reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_seed_ensemble'),
    Result('mosi_retrain_ema',
           f'{MOSI} --variants full hand_designed --out {{out}}/defaults && '
           f'{MOSI} --variants full hand_designed --set retrain.ema=0.9 --out {{out}}/ema09 && '
           'python bench/tried_table.py "full, defaults={out}/defaults:full" '
           '"full, retrain.ema 0.9={out}/ema09:full" "hand_designed, defaults={out}/defaults:hand_designed" '
           '"hand_designed, retrain.ema 0.9={out}/ema09:hand_designed" > {out}/tried.md && '
           'python bench/merge_sweeps.py --out {out} "full, ema 0.9={out}/ema09:full" full={out}/defaults:full '
           '"hand_designed, ema 0.9={out}/ema09:hand_designed" hand_designed={out}/defaults:hand_designed '
           '--paired waf',
           '4 x 24 runs, about 50 minutes on one core; reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_retrain_ema'),
    Result('mosi_mid_weight_sharing',
           f'{MOSI} --variants full hand_designed random_arch --set search_space=mid --set search.random_k=3 '
           '--out {out}/mid_sweep && python bench/weight_sharing_rank.py --sweep {out}/mid_sweep --out {out}',
           '3 x 24 runs of the mid-sized space (those of mosi_mid_nas_baselines), about 85 minutes on one core; '
           'reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_mid_weight_sharing'),
    Result('mosi_mid_seed_ensemble',
           f'{MOSI} --variants full hand_designed --set search_space=mid --set retrain.ensemble=3 --jobs 2 '
           '--out {out}/mid_ens3 && python bench/ensemble_size.py --sweep {out}/mid_ens3 --out {out}',
           '48 runs of the mid-sized space with three retrainings each, 33 minutes with --jobs 2 on 2 cores; '
           'reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_mid_seed_ensemble'),
    Result('mosi_3class_seed_ensemble',
           'rmnas sweep -c examples/mosi_dialogue_3class.yml --rates 0 0.7 --seeds 0 1 2 --variants full '
           'hand_designed --set threads=1 --set search.exclude_zero=false --set retrain.ensemble=3 --quiet '
           '--out {out}/cls_ens3 && python bench/ensemble_size.py --sweep {out}/cls_ens3 --out {out}',
           '12 runs with three retrainings each, about 17 minutes on one core; reads data/cmu-mosi-utterances',
           long=True, committed='docs/results/mosi_3class_seed_ensemble'),
    Result('mosi_redraw_train',
           f'{MOSI} --rates 0.3 0.5 0.7 --variants full --set data.missing.redraw_train=true --out {{out}}',
           '9 runs, about 10 minutes on one core (6 with --jobs 2); reads data/cmu-mosi-utterances', long=True,
           committed='docs/results/mosi_redraw_train'),
    Result('sweep_jobs', 'python bench/sweep_jobs.py --jobs-list 1 2 --rates 0 0.3 0.5 0.7 --seeds 0 '
           '--json {out}/sweep_jobs.json',
           '2 x 4 MOSI cells, about 5 minutes (timings: compared within 30 %)', long=True, committed='bench/results'),
    Result('pom_sentence_sweep',
           'python bench/pom_peers.py --rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0 --seeds 0 1 2 --out {out}/peers && '
           'rmnas sweep -c examples/pom_sentence.yml --rates 0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0 --seeds 0 1 2 '
           '--variants full no_lst hand_designed --set threads=1 --baseline ridge={out}/peers/ridge.csv '
           '--baseline late_fusion={out}/peers/late_fusion.csv --quiet --out {out}',
           '99 runs and the two peers, about 75 minutes on one core; reads data/pom', long=True,
           committed='docs/results/pom_sentence_sweep'),
    Result('sweep_jobs_held', 'python bench/sweep_jobs.py --jobs-list 1 2 --rates 0 0.3 0.5 0.7 --seeds 0 '
           '--json {out}/sweep_jobs_one_core_held.json',
           'as sweep_jobs, run while another job held one of the two cores (2026-11-28); the figures '
           'depend on that load', long=True, committed='bench/results'),
    Result('text_leak', 'python bench/text_leak.py --json {out}/text_leak.json',
           'two runs of a micro network, about 45 s on one core', committed='bench/results'),
    # the shipped data files, read as they are (data/pom/build.py rebuilds POM's from the MFN release;
    # data/cmu-mosi-utterances/README.md gives the MOSI file's provenance)
    Result('pom_data', 'mkdir -p {out} && cp data/pom/pom_mfn.pkl {out}/', 'a copy of the shipped file',
           committed='data/pom'),
    Result('mosi_data', 'mkdir -p {out} && cp data/cmu-mosi-utterances/mosi_utterances.npz {out}/',
           'a copy of the shipped file', committed='data/cmu-mosi-utterances'),
    # the configuration files the documents describe, read as they are
    Result('configs', 'mkdir -p {out} && cp --parents search_spaces/tiny.yml search_spaces/rmnas.yml '
           'examples/mosi_dialogue.yml examples/mosi_dialogue_3class.yml {out}/', 'a copy of the files', committed='.'),
    Result('param_count', 'python bench/param_count.py --json {out}/param_count.json',
           'about 20 s', committed='bench/results'),
    Result('bench', 'OUT={out} bench/all',
           'about 21 minutes on one core (timings: compared within 30 %)', long=True,
           committed='bench/results'),
    Result('mosi_mid_validation_policies',
           f'{MOSI} --variants full hand_designed random_arch --set search_space=mid --set search.random_k=3 '
           '--out {out}/mid_sweep && '
           f'python bench/validation_policies.py --sweep {{out}}/mid_sweep --out {{out}} --baseline GCNet={GCNET_CSV}',
           '3 x 24 runs of the mid-sized space (about 85 minutes on one core), then about 35 s of evaluation; '
           'reads data/cmu-mosi-utterances', long=True, committed='docs/results/mosi_mid_nas_baselines'),
]

# ----------------------------------------------------------------------------- reading results


def rate_label(r: float) -> str:
    return f'{r:g}'


def _f(v: str) -> Optional[float]:
    if v is None or v == '':
        return None
    x = float(v)
    return None if math.isnan(x) else x


class Sweep:
    """A sweep's (or merged table's) long-form CSV: ``variant, rate, seed, stat`` and metrics."""

    def __init__(self, path: Path):
        with open(path, newline='') as fh:
            self.rows = list(csv.DictReader(fh))
        self.metrics = [c for c in self.rows[0] if c not in ('variant', 'rate', 'seed', 'stat')]
        self.variants = list(dict.fromkeys(r['variant'] for r in self.rows))

    def get(self, variant, stat, metric, rate=None, seed=None) -> Optional[float]:
        for r in self.rows:
            if (r['variant'] == variant and r['stat'] == stat
                    and (rate is None or (r['rate'] != '' and abs(float(r['rate']) - rate) < 1e-9))
                    and (seed is None or r['seed'] == str(seed))):
                return _f(r[metric])
        return None

    def rates(self, variant) -> List[float]:
        return sorted({float(r['rate']) for r in self.rows if r['variant'] == variant and r['stat'] == 'value'})

    def seeds(self, variant, rate=None) -> List[str]:
        return sorted({r['seed'] for r in self.rows if r['variant'] == variant and r['stat'] == 'value'
                       and (rate is None or abs(float(r['rate']) - rate) < 1e-9)})

    def mean_std(self, variant, metric, stat, rate=None):
        """(mean, std) as sweep.md prints it; the mean alone for one seed or no std."""
        m = self.get(variant, stat, metric, rate=rate)
        s = self.get(variant, {'mean': 'std'}.get(stat, stat + ' std'), metric, rate=rate)
        if m is None:
            return None
        return m if s is None or len(self.seeds(variant)) < 2 else (m, s)

    def seed_auilc(self, variant, metric, seed) -> float:
        rates = self.rates(variant)
        v = [self.get(variant, 'value', metric, rate=r, seed=seed) for r in rates]
        return sum((rates[i + 1] - rates[i]) * (v[i] + v[i + 1]) / 2 for i in range(len(rates) - 1))


def sweep_md_rows(path: Path, cells: bool = True) -> Dict[Tuple[str, ...], Dict[str, object]]:
    """What sweep.md (``cells``: with its table of every cell) or merge_sweeps's table.md
    print, rebuilt from the CSV."""
    s = Sweep(path)
    out: Dict[Tuple[str, ...], Dict[str, object]] = {}
    for v in s.variants:
        for r in s.rates(v):
            out[(v, rate_label(r))] = dict({'seeds': len(s.seeds(v, r))},
                                           **{METRICS[m]: s.mean_std(v, m, 'mean', rate=r) for m in s.metrics})
            for seed in (s.seeds(v, r) if cells else ()):
                out[(v, rate_label(r), seed)] = {METRICS[m]: s.get(v, 'value', m, rate=r, seed=seed)
                                                 for m in s.metrics}
        for stat in ('AUILC', 'mean over rates'):
            if any(s.get(v, stat, m) is not None for m in s.metrics):
                out[(v, stat)] = {METRICS[m]: s.mean_std(v, m, stat) for m in s.metrics}
    return out


def paired(s: Sweep, ref: str, other: str, metric: str, other_sweep: Optional[Sweep] = None
           ) -> Tuple[float, float, List[float]]:
    """Per seed of ``ref``: its AUILC of ``metric`` minus ``other``'s (in ``other_sweep`` when given, else in
    ``s``); returns (mean, std, per seed)."""
    o = other_sweep or s
    d = [s.seed_auilc(ref, metric, x) - o.seed_auilc(other, metric, x) for x in s.seeds(ref)]
    mean = sum(d) / len(d)
    std = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - 1))
    return mean, std, d


def paired_rows(path: Path, ref: str = 'RMNAS', metric: str = 'waf'):
    s = Sweep(path)
    out = {}
    for v in s.variants:
        if v == ref or len(s.seeds(v)) < 2:
            continue
        mean, std, d = paired(s, ref, v, metric)
        out[(v,)] = {'seeds': len(d), f'paired {metric} AUILC difference (mean ± std)': (mean, std), 'per seed': d}
    return out


def md_rows(text: str, keys) -> Dict[Tuple[str, ...], Dict[str, object]]:
    """The numbers of every cell of the Markdown tables of a text, keyed by the key columns."""
    out = {}
    for header, rows in md_tables(text):
        idx = [header.index(k) for k in keys if k in header]
        if not idx:
            continue
        for row in rows:
            out.setdefault(tuple(row[i] for i in idx), {}).update(
                {h: [n.value for n in numbers(c)] or None for n_, (h, c) in enumerate(zip(header, row))
                 if n_ not in idx})
    return out


def peers() -> Dict[Tuple[str, ...], Dict[str, object]]:
    """The peers' table of docs/peers.md (measured by the peers' own code, outside this repo)."""
    return md_rows(PEERS.read_text(), ('model',))


def gcnet_waf() -> Dict[float, float]:
    with open(Path(__file__).resolve().parents[1] / GCNET_CSV, newline='') as fh:
        return {float(r['rate']): float(r['waf']) for r in csv.DictReader(fh)}


# ----------------------------------------------------------------------------- sources of the blocks

def src_quickstart(ctx):
    return {k: {c: [n.value for n in v] for c, v in row.items()}
            for k, row in text_table(ctx.stdout('quickstart'), ('valid (best epoch)', 'test')).items()}


def _floats(d, out=None) -> List[float]:
    out = [] if out is None else out
    for v in (d.values() if isinstance(d, dict) else d):
        if isinstance(v, (dict, list)):
            _floats(v, out)
        elif isinstance(v, float):
            out.append(v)
    return out


def src_readme_threads(ctx):
    """README, Reproducibility: the quick start with 1 and with 2 torch threads."""
    one, two = ctx.path('quickstart'), ctx.path('quickstart_threads2')
    mae = [json.loads((d / 'metrics.json').read_text())['test']['mae'] for d in (one, two)]
    probs = [_floats(json.loads((d / 'arch_probs.json').read_text())) for d in (one, two)]
    return [mae[0], 'threads=1', mae[1], 'threads=2', max(abs(a - b) for a, b in zip(*probs))]


def src_sweep_example(ctx):
    return md_rows((ctx.path('sweep_example') / 'sweep.md').read_text(), ('variant', 'rate', 'seed'))


def src_results_sweep(name):
    return lambda ctx: sweep_md_rows(ctx.path(name) / 'sweep.csv')


def src_results_table(name, ref='RMNAS'):
    def f(ctx):
        out = sweep_md_rows(ctx.path(name) / 'table.csv', cells=False)
        out.update(paired_rows(ctx.path(name) / 'table.csv', ref))
        return out
    return f


AUILC_COLS = {'Acc-2 AUILC': 'acc2', 'WAF AUILC': 'waf', 'MAE AUILC ↓': 'mae', 'Corr AUILC': 'corr'}


def _bench6_row(s: Sweep, v: str):
    row = {'seeds': len(s.seeds(v)),
           'Acc-2 r=0': s.mean_std(v, 'acc2', 'mean', rate=0.0),
           'Acc-2 r=0.7': s.mean_std(v, 'acc2', 'mean', rate=0.7),
           'Acc-2 mean': s.mean_std(v, 'acc2', 'mean over rates')}
    row.update({c: s.mean_std(v, m, 'AUILC') for c, m in AUILC_COLS.items()})
    return row


def src_bench6_main(ctx):
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    out = {('RMNAS (full)',): _bench6_row(s, 'full'), ('RMNAS without LST',): _bench6_row(s, 'no_lst')}
    out.update(peers())
    return out


def src_bench6_waf(ctx):
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    g = gcnet_waf()
    rates = s.rates('full')
    full = {rate_label(r): s.get('full', 'mean', 'waf', rate=r) for r in rates}
    nolst = {rate_label(r): s.get('no_lst', 'mean', 'waf', rate=r) for r in rates}
    gc = {rate_label(r): g[r] for r in rates}
    return {('RMNAS (full)',): full, ('without LST',): nolst, ('GCNet',): gc,
            ('full − GCNet',): {k: full[k] - gc[k] for k in full},
            ('without LST − GCNet',): {k: nolst[k] - gc[k] for k in nolst}}


def src_bench6_paper(ctx):
    p = Sweep(ctx.path('mosi_sweep_paper_space') / 'sweep.csv')
    c = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    out = {}
    for s, space in ((p, 'paper space'), (c, 'CPU-sized space')):
        for m in ('acc2', 'waf'):
            row = {rate_label(r): s.get('full', 'value', m, rate=r, seed='0') for r in s.rates('full')}
            row['AUILC'] = s.seed_auilc('full', m, '0')
            out[(f'{METRICS[m]}, {space}, seed 0',)] = row
    return out


def src_bench_goals(ctx):
    d = ctx.path('bench')
    g = {name: json.loads((d / f'{name}.json').read_text())['goals']
         for name in ('lst_cost', 'nni_overhead', 'search_vs_retrain', 'roofline')}
    sc = json.loads((d / 'scaling.json').read_text())['rows']
    k = {r['model']: r['exponent_time'] for r in sc if 'exponent_time' in r and r.get('batch') == 8}
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    p = Sweep(ctx.path('mosi_sweep_paper_space') / 'sweep.csv')
    row = lambda x: {'measured': x['value'], 'goal': x['goal']}   # noqa: E731
    full_acc, full_waf = s.mean_std('full', 'acc2', 'AUILC'), s.mean_std('full', 'waf', 'AUILC')
    peer = peers()
    above = sum(1 for v in peer.values() if v['Acc-2 AUILC'][0] < full_acc[0] and v['WAF AUILC'][0] < full_waf[0])
    return {
        ('1', 'Algorithm 1 loop / vectorised sentiment trends, N = 256, batch 8'): row(g['lst_cost'][0]),
        ('1', 'Algorithm 1 loop / whole LST.forward, N = 256, batch 8'): row(g['lst_cost'][1]),
        ('1', "LST's share of one supernet forward, MOSI-sized inputs"): row(g['lst_cost'][2]),
        ('2', 'NNI DARTS search epoch / hand-written first-order bilevel epoch'): row(g['nni_overhead'][0]),
        ('3', 'supernet weight step / fixed all-attention step, paper dims, batch 8'): row(g['search_vs_retrain'][0]),
        ('3', 'supernet search step (architecture + weight) / fixed step'): row(g['search_vs_retrain'][1]),
        ('4', 'fixed-network step FLOP/s / fp32 matmul FLOP/s'): row(g['roofline'][0]),
        ('5', 'time exponent in N (fixed / supernet, batch 8)'): {'measured': [k['fixed'], k['supernet']]},
        ('6', 'RMNAS AUILC of Acc-2 / WAF on real MOSI vs the best peer (GCNet 51.89 / 52.00)'): {
            'measured': [*full_acc, *full_waf, len(s.seeds('full')), len(p.seeds('full')),
                         p.get('full', 'AUILC', 'acc2'), p.get('full', 'AUILC', 'waf')],
            'met': [above, len(peer)]},
    }


def src_readme_mosi(ctx):
    """README, "Real CMU-MOSI, dialogue level": the paragraph after the commands."""
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    p = Sweep(ctx.path('mosi_sweep_paper_space') / 'sweep.csv')
    peer = peers()
    acc, waf = s.mean_std('full', 'acc2', 'AUILC'), s.mean_std('full', 'waf', 'AUILC')
    gc = peer[('GCNet (TPAMI 2023)',)]
    others = [v for k, v in peer.items() if k != ('GCNet (TPAMI 2023)',)]
    margins = [acc[0] - v['Acc-2 AUILC'][0] for v in others] + [waf[0] - v['WAF AUILC'][0] for v in others]
    rates = s.rates('full')
    return [rates[0], rates[-1], len(s.seeds('full')), *acc, *waf, gc['Acc-2 AUILC'][0], gc['WAF AUILC'][0],
            min(margins), max(margins), s.get('no_lst', 'AUILC', 'acc2'), s.get('no_lst', 'AUILC', 'waf'),
            'minutes per run: wall time, not compared', 'minutes per run: wall time, not compared',
            p.get('full', 'AUILC', 'acc2'), p.get('full', 'AUILC', 'waf'), 'a section number']


def src_bench_nni_overhead(ctx):
    d = json.loads((ctx.path('bench') / 'nni_overhead.json').read_text())
    m = next(r for r in d['rows'] if r.get('rep') == 'median')
    return {('hand-written bilevel loop',): {'seconds per epoch (median)': m['hand_epoch_s'],
                                             'ratio to hand-written': 1},
            ("NNI + Lightning (the project's path)",): {'seconds per epoch (median)': m['nni_epoch_s'],
                                                       'ratio to hand-written': [m['ratio'], m['ratio_cpu']]},
            ('the whole run_search call (Trainer set-up, export)',): {
                'seconds per epoch (median)': m['nni_call_s'], 'ratio to hand-written': m['ratio_call']},
            ('NNI with its own log_probs (one self.log per choice value)',): {
                'seconds per epoch (median)': m['nni_stock_log_epoch_s'],
                'ratio to hand-written': m['ratio_stock_log']}}


def src_bench_search_vs_retrain(ctx):
    rows = json.loads((ctx.path('bench') / 'search_vs_retrain.json').read_text())['rows']
    t = next(r for r in rows if r['measure'] == 'time')
    mem = {r['model']: r for r in rows if r['measure'] == 'memory'}
    gib = 1 / 1024
    tensors = 'tensors of one step alive at once (+ weights and AdamW state)'
    return {
        ('fixed all-attention network (weight step)',): {
            'parameters': t['fixed_params'] / 1e6, 'seconds per step': t['fixed_step_median_s'], 'ratio': 1,
            'peak RSS': mem['fixed']['peak_rss_mb'] * gib,
            tensors: [mem['fixed']['peak_live_tensor_mb'] * gib, mem['fixed']['weights_and_adamw_state_mb'] * gib]},
        ('supernet, weight step',): {
            'parameters': t['supernet_params'] / 1e6, 'seconds per step': t['supernet_weight_step_median_s'],
            'ratio': t['ratio_weight_step'], 'peak RSS': mem['supernet']['peak_rss_mb'] * gib,
            tensors: [mem['supernet']['peak_live_tensor_mb'] * gib,
                      mem['supernet']['weights_and_adamw_state_mb'] * gib]},
        ('supernet, search step (architecture + weight)',): {
            'seconds per step': t['supernet_search_step_median_s'], 'ratio': t['ratio_search_step']},
        ("the same with NNI's own architecture step",): {
            'seconds per step': t['supernet_search_step_nni_arch_step_median_s'],
            'ratio': t['ratio_search_step_nni_arch_step']},
    }


def src_bench_scaling(ctx):
    rows = json.loads((ctx.path('bench') / 'scaling.json').read_text())['rows']
    out = {}
    for r in rows:
        if 'exponent_time' in r and r.get('batch') is not None:
            step = next(x for x in rows if x.get('model') == r['model'] and x.get('batch') == r['batch']
                        and x.get('scale') == 1.0)
            out[(r['model'], str(r['batch']))] = {
                'time k': r['exponent_time'], 'peak live tensors k': r['exponent_live_tensor_memory'],
                'step at N = 500': step['step_s'], 'live tensors at N = 500': step['peak_live_tensor_mb']}
    return out


def src_bench_sweep_jobs(ctx):
    rows = json.loads((ctx.path('sweep_jobs') / 'sweep_jobs.json').read_text())['rows']
    return {(str(r['jobs']),): {'cells': r['cells'], 'seconds': r['seconds'], 'cells/hour': r['cells_per_hour'],
                                'speed-up': r['speedup'], 'load before': r['load_before']} for r in rows}


def src_readme_param_count(ctx):
    """README, "Parameter count of the paper's space": the MOSI sizes, then the three counts."""
    r = json.loads((ctx.path('param_count') / 'param_count.json').read_text())
    return [768, 50, 5, 375, 20, 500, r['supernet_parameters'], r['fixed_attention_parameters'],
            r['random_mixing_buffer_values'], "the paper's figure, not compared",
            round(63.8 - r['supernet_parameters'] / 1e6)]


def src_bench_lst(ctx):
    d = json.loads((ctx.path('bench') / 'lst_cost.json').read_text())
    out = {}
    for r in d['rows']:
        if 'vectorised_trends_s' not in r:
            continue
        loop = r['loop_full_s'] if r.get('loop_source') == 'full' else r['loop_estimate_s']
        out[(str(r['n']),)] = {
            'vectorised trends': r['vectorised_trends_s'] * 1e3, 'whole LST.forward': r['lst_forward_s'] * 1e3,
            'Algorithm 1': loop if loop >= 0.1 else loop * 1e3,
            'loop / trends': r['ratio_loop_over_trends'], 'loop / LST.forward': r['ratio_loop_over_lst_forward'],
            'LST peak memory / its output (previous version)': [r['lst_forward_peak_over_output'],
                                                                r['previous_lst_forward_peak_over_output']]}
    return out


def auilc_row(sw: Sweep, v: str):
    """A model's row of the AUILC tables: every metric's AUILC, WAF at r = 0 and r = 0.7 (mean ± std)."""
    r = {c: sw.mean_std(v, m, 'AUILC') for c, m in AUILC_COLS.items()}
    r['WAF r = 0'] = sw.mean_std(v, 'waf', 'mean', rate=0.0)
    r['WAF r = 0.7'] = sw.mean_std(v, 'waf', 'mean', rate=0.7)
    return r


def src_quality_main(ctx, name='mosi_nas_baselines', names=None):
    s = Sweep(ctx.path(name) / 'table.csv')
    return {(label,): auilc_row(s, v) for label, v in names.items()}


def first(v):
    """The number of a table cell read as ``[value]`` or ``(mean, std)``: the value, or the mean."""
    return v[0] if isinstance(v, (list, tuple)) else v


def src_main_with_gcnet(name, names):
    """:func:`src_quality_main` of ``names`` in ``name``'s merged table, with GCNet's row of docs/peers.md."""
    def f(ctx):
        out = src_quality_main(ctx, name, names)
        out[('GCNet (peers.md)',)] = src_quality_nas(ctx)[('GCNet (peers.md)',)]
        return out
    return f


def src_quality_nas(ctx):
    out = src_quality_main(ctx, 'mosi_nas_baselines', {
        'RMNAS (searched, tiny space)': 'RMNAS', 'hand-designed network (no search)': 'hand_designed',
        'random_arch: best of 3 on validation': 'random_arch', 'random_arch: median of 3': 'random_arch (median)',
        "random_search (3 draws at the search's budget)": 'random_search'})
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    landed = {c: s.mean_std('full', m, 'AUILC') for c, m in AUILC_COLS.items()}
    landed['WAF r = 0'] = s.mean_std('full', 'waf', 'mean', rate=0.0)
    landed['WAF r = 0.7'] = s.mean_std('full', 'waf', 'mean', rate=0.7)
    out[('RMNAS as landed before (WAF selection, docs/results/mosi_dialogue_sweep)',)] = landed
    peer, g = peers(), gcnet_waf()
    for label, model in (('GCNet (peers.md)', 'GCNet (TPAMI 2023)'),
                         ('Ridge on concatenated features (peers.md)', 'Ridge on concatenated features'),
                         ('TFN (MMSA, peers.md)', 'TFN (MMSA)'), ('LF-DNN (MMSA, peers.md)', 'LF-DNN (MMSA)')):
        out[(label,)] = {c: peer[(model,)][c] for c in AUILC_COLS}
    out[('GCNet (peers.md)',)].update({'WAF r = 0': g[0.0], 'WAF r = 0.7': g[0.7]})
    return out


PAIRED_OTHERS = (('hand-designed', 'hand_designed'), ('random_arch, best of 3', 'random_arch'),
                 ('random_arch, median', 'random_arch (median)'))


def src_paired(name, others=PAIRED_OTHERS, ref='RMNAS'):
    """A "``ref`` minus the other" table: paired WAF AUILC differences read from a merged ``table.csv``."""
    def f(ctx):
        s = Sweep(ctx.path(name) / 'table.csv')
        out = {}
        for label, v in others:
            mean, std, d = paired(s, ref, v, 'waf')
            out[(label,)] = {'mean ± std': (mean, std), 'per seed (0, 1, 2)': d}
        return out
    return f


def src_quality_lst(ctx):
    return src_quality_main(ctx, 'mosi_lst_ablation', {'RMNAS (with LST)': 'RMNAS',
                                                       'without LST (no_lst)': 'no_lst'})


def src_quality_rules(ctx):
    d = ctx.path('selection_rules')
    cols = ('cross-fold val WAF', 'cross-fold val MAE', 'mean epoch kept', 'test WAF', 'test MAE')
    out = {}
    for label, (lr, sel, pat, mn) in {
            'lr 1e-3, select WAF, patience 8 (as landed)': ('1e-3', 'waf', '8', '0'),
            'lr 1e-3, select MAE, patience 8, min epochs 10': ('1e-3', 'mae', '8', '10'),
            'lr 1e-3, select MAE, no early stop (best of 60)': ('1e-3', 'mae', 'none', '0'),
            'lr 5e-4, select WAF, patience 8': ('5e-4', 'waf', '8', '0'),
            'lr 5e-4, select MAE, patience 8, min epochs 10': ('5e-4', 'mae', '8', '10')}.items():
        rows = md_rows((d / f'lr{lr}.md').read_text(), ('select on', 'patience', 'min epochs'))
        out[(label,)] = {c: rows[(sel, pat, mn)][c] for c in cols}
    return out


def src_quality_tried(name):
    return lambda ctx: md_rows((ctx.path(name) / 'tried.md').read_text(), ('configuration',))


def src_quality_mid(ctx):
    return src_quality_main(ctx, 'mosi_mid_nas_baselines', {
        'RMNAS (searched, mid space)': 'RMNAS', 'hand-designed network (no search)': 'hand_designed',
        'random_arch: best of 3 on validation': 'random_arch', 'random_arch: median of 3': 'random_arch (median)'})


def tried_rows(ctx, result: str, rows) -> Dict[Tuple[str], Dict[str, object]]:
    """A "configurations tried" table: ``bench/tried_table.py``'s rows of ``result``'s tried.md, with each
    configuration's test WAF AUILC from its table.csv. ``rows``: ``(label in the document, the labels the row
    may have in tried.md, variant in table.csv)``."""
    d = ctx.path(result)
    got = md_rows((d / 'tried.md').read_text(), ('configuration',))
    s = Sweep(d / 'table.csv')
    return {(label,): dict(next(r for k, r in got.items() if k[0] in names),
                           **{'test WAF AUILC': s.mean_std(v, 'waf', 'AUILC')})
            for label, names, v in rows}


def src_quality_warmup(ctx):
    return tried_rows(ctx, 'warmup_24_cells', [
        ('export best, exclude_zero (defaults)', ('export best, exclude_zero (defaults)',), 'defaults'),
        ('defaults + 5 warm-up epochs (options.warmup_epochs 5)',
         ('defaults + 5 warm-up epochs (options.warmup_epochs 5)',), 'warmup5')])


def src_quality_arch_data(ctx):
    """docs/quality.md section 3, search.arch_data (tried.md as committed, or as the command writes it)."""
    return tried_rows(ctx, 'mosi_arch_data', [
        ('search.arch_data: valid (defaults)', ('search.arch_data: valid (default)', 'valid'), 'valid'),
        ('search.arch_data: train_half', ('search.arch_data: train_half', 'train_half'), 'train_half')])


def src_quality_exclude_identity(ctx):
    """docs/quality.md section 3, search.exclude_identity."""
    return tried_rows(ctx, 'mosi_exclude_identity', [
        ('defaults', ('defaults',), 'defaults'),
        ('search.exclude_identity: true', ('exclude_identity',), 'exclude_identity')])


def src_quality_exclude_identity_notes(ctx):
    """The paragraph under it: paired.md of bench/paired_cells.py (per-seed validation differences, the cells
    that derived another network), the test AUILC pairs from table.csv."""
    d = ctx.path('mosi_exclude_identity')
    text = (d / 'paired.md').read_text()
    q = md_rows(text, ('quantity',))
    changed, cells, lower = (n.value for n in numbers(text.split('Cells that derived', 1)[1]))
    mean, sd, per = paired(Sweep(d / 'table.csv'), 'exclude_identity', 'defaults', 'waf')
    return [changed, cells, *q[('val MAE',)]['mean ± std'], *q[('val MAE',)]['per seed'], lower, changed,
            *q[('val WAF',)]['mean ± std'], *q[('val WAF',)]['per seed'],
            mean, sd, *per, 'the hand-designed test WAF AUILC of section 4', 'a section number']


def src_quality_gumbel(ctx):
    """docs/quality.md section 3, GumbelDARTS."""
    return tried_rows(ctx, 'mosi_gumbel_darts', [
        ('DARTS (defaults)', ('defaults',), 'defaults'), ('GumbelDARTS', ('gumbel_darts',), 'gumbel_darts')])


def src_quality_spos_screening(ctx):
    """docs/quality.md section 3, SPOS: the schedules screened on four cells."""
    return md_rows((ctx.path('mosi_spos') / 'screening.md').read_text(), ('configuration',))


def src_quality_spos(ctx):
    """docs/quality.md section 3, SPOS on all 24 cells against the DARTS defaults."""
    return tried_rows(ctx, 'mosi_spos', [('DARTS (defaults)', ('DARTS (defaults)',), 'RMNAS'),
                                         (SPOS_24, (SPOS_24,), 'SPOS')])


def _spos_paired_cells(ctx):
    text = (ctx.path('mosi_spos') / 'paired.md').read_text()
    return md_rows(text, ('quantity',)), [n.value for n in numbers(text.split('Cells that derived')[1])]


def src_quality_spos_notes(ctx):
    rows = src_quality_spos(ctx)
    d, s = rows[('DARTS (defaults)',)], rows[(SPOS_24,)]
    paired_cells, changed = _spos_paired_cells(ctx)
    screen = src_quality_spos_screening(ctx)
    t = Sweep(ctx.path('mosi_spos') / 'table.csv')
    auc, auc_sd, auc_d = paired(t, 'SPOS', 'RMNAS', 'waf')
    return [s['val MAE'][0], d['val MAE'][0], *paired_cells[('val MAE',)]['mean ± std'],
            s['val WAF'][0], d['val WAF'][0], *paired_cells[('val WAF',)]['mean ± std'],
            *paired_cells[('test WAF',)]['mean ± std'], auc, auc_sd, 'a section number',
            changed[0], changed[1], changed[2], s['identity mixers'][0], d['identity mixers'][0],
            'the panel size', screen[(SPOS_BEST60,)]['exported epoch'][0], screen[(SPOS_BEST60,)]['val MAE'][0],
            'the training videos of examples/mosi_dialogue.yml', 'a section number', 'the epochs kept',
            'the number of candidates', s['entropy at export'][0],
            'search seconds, a one-off reading', 'search seconds, a one-off reading', 'the cores of this machine',
            'a section number']


src_quality_spos_baselines = src_main_with_gcnet('mosi_spos', {
    'SPOS (searched, tiny space)': 'SPOS', 'RMNAS with DARTS (the defaults)': 'RMNAS',
    'hand-designed network (no search)': 'hand_designed', 'random_arch: best of 3 on validation': 'random_arch',
    'random_arch: median of 3': 'random_arch (median)', "random_search (3 draws at DARTS's budget)": 'random_search'})


def src_quality_spos_baselines_notes(ctx):
    p = src_quality_spos_paired(ctx)
    rows = src_quality_spos_baselines(ctx)
    sp, g = rows[('SPOS (searched, tiny space)',)], rows[('GCNet (peers.md)',)]
    rs, med, hand, darts = (p[(k,)] for k in ('random_search', 'random_arch, median', 'hand-designed',
                                              'RMNAS with DARTS'))
    return [*rs['mean ± std'], *rs['per seed (0, 1, 2)'], 'search seconds, a one-off reading',
            'search seconds, a one-off reading', 'seed 0', *med['mean ± std'], 'the goal',
            *med['per seed (0, 1, 2)'], 'seed 2', *hand['mean ± std'], 'a section number', *darts['mean ± std'],
            first(sp['Acc-2 AUILC']) - first(g['Acc-2 AUILC']), first(sp['WAF AUILC']) - first(g['WAF AUILC']),
            first(sp['Acc-2 AUILC']), first(sp['WAF AUILC']), first(g['Acc-2 AUILC']), first(g['WAF AUILC']),
            'the goal', 'r = 0.7', first(sp['WAF r = 0.7']) - first(g['WAF r = 0.7']), 'r = 0',
            first(sp['WAF r = 0']) - first(g['WAF r = 0'])]


src_quality_spos_paired = src_paired('mosi_spos', (
    ('RMNAS with DARTS', 'RMNAS'), ('hand-designed', 'hand_designed'), ('random_arch, best of 3', 'random_arch'),
    ('random_arch, median', 'random_arch (median)'), ('random_search', 'random_search')), ref='SPOS')


SPOS_ENSEMBLE_ROWS = {'SPOS x3 (searched, 3 seeds retrained)': 'SPOS x3', 'RMNAS x3 (DARTS)': 'RMNAS x3',
                      'hand-designed network x3': 'hand_designed x3',
                      'random_arch x3: best of 3 on validation': 'random_arch x3',
                      'random_arch x3: median of 3': 'random_arch x3 (median)',
                      'SPOS (one network, as above)': 'SPOS'}


src_quality_spos_ensemble = src_main_with_gcnet('mosi_spos_ensemble', SPOS_ENSEMBLE_ROWS)


#: the rows of a "SPOS x3 minus" table (tiny and mid-sized space alike)
SPOS_X3_OTHERS = (('RMNAS x3 (DARTS)', 'RMNAS x3'), ('hand-designed x3', 'hand_designed x3'),
                  ('random_arch x3, best of 3', 'random_arch x3'),
                  ('random_arch x3, median', 'random_arch x3 (median)'), ('SPOS, one network', 'SPOS'))
src_quality_spos_ensemble_paired = src_paired('mosi_spos_ensemble', SPOS_X3_OTHERS, ref='SPOS x3')


def gcnet_margins(sp, g):
    """The prose's "against GCNet" run: a row's Acc-2 / WAF AUILC, their margins over GCNet's row ``g``,
    the goal, and the WAF margins at r = 0.7 and r = 0."""
    return [first(sp['Acc-2 AUILC']), first(sp['WAF AUILC']),
            first(sp['Acc-2 AUILC']) - first(g['Acc-2 AUILC']), first(sp['WAF AUILC']) - first(g['WAF AUILC']),
            'the goal', 'the goal', 'the goal', 'r = 0.7',
            first(sp['WAF r = 0.7']) - first(g['WAF r = 0.7']), 'r = 0', first(sp['WAF r = 0']) - first(g['WAF r = 0'])]


def src_quality_spos_ensemble_notes(ctx):
    d = ctx.path('mosi_spos_ensemble')
    size = md_rows((d / 'ensemble_size.md').read_text(), ('configuration',))
    hand = src_quality_ensemble_size(ctx)
    rows = src_quality_spos_ensemble(ctx)
    sp, g = rows[('SPOS x3 (searched, 3 seeds retrained)',)], rows[('GCNet (peers.md)',)]
    p = src_quality_spos_ensemble_paired(ctx)
    ws = md_rows((d / 'weight_sharing.md').read_text(), (WS_KEY,))
    dws = md_rows((ctx.path('mosi_seed_ensemble') / 'weight_sharing.md').read_text(), (WS_KEY,))
    best = md_rows((d / 'weight_sharing.md').read_text(), ('which architecture is best',))
    dbest = md_rows((ctx.path('mosi_seed_ensemble') / 'weight_sharing.md').read_text(),
                    ('which architecture is best',))
    return [size[('full x1',)]['val MAE'][0], size[('full x3',)]['val MAE'][0],
            size[('full x1',)]['val WAF'][0], size[('full x3',)]['val WAF'][0],
            hand[('hand_designed x3',)]['val MAE'][0], hand[('hand_designed x3',)]['val WAF'][0],
            *gcnet_margins(sp, g), *p[('hand-designed x3',)]['mean ± std'], 'seed 0', p[('hand-designed x3',)]['per seed (0, 1, 2)'][0],
            *p[('RMNAS x3 (DARTS)',)]['mean ± std'], *p[('random_arch x3, best of 3',)]['mean ± std'],
            *p[('random_arch x3, median',)]['mean ± std'], *p[('random_arch x3, median',)]['per seed (0, 1, 2)'],
            'the goal', 'a section number',
            ws[('inherited_val vs retrained_val',)]['mean tau'][0],
            dws[('inherited_val vs retrained_val',)]['mean tau'][0],
            ws[('inherited_val vs retrained_test',)]['mean tau'][0],
            dws[('inherited_val vs retrained_test',)]['mean tau'][0], 'the candidates ranked',
            best[('best by retrained val',)]['searched'][0], 'the cells of a sweep',
            dbest[('best by retrained val',)]['searched'][0],
            best[('best by retrained test',)]['searched'][0], dbest[('best by retrained test',)]['searched'][0],
            best[('best by retrained test',)]['hand_designed'][0]]


def src_spos_tried(result, darts_label):
    """A SPOS "configurations tried" table against DARTS and the baselines, with test WAF AUILC."""
    def f(ctx):
        return tried_rows(ctx, result, [(darts_label, (darts_label,), 'RMNAS'), (SPOS_24, (SPOS_24,), 'SPOS'),
                                        ('hand_designed (no search)', ('hand_designed (no search)',), 'hand_designed'),
                                        ('random_arch (best of 3 on validation)',
                                         ('random_arch (best of 3 on validation)',), 'random_arch')])
    return f


def src_spos_paired(result):
    """SPOS minus DARTS and the baselines of ``result``'s merged table."""
    return src_paired(result, (('DARTS', 'RMNAS'),) + PAIRED_OTHERS, ref='SPOS')


def src_quality_spos_mid_notes(ctx):
    t = src_spos_tried('mosi_spos_mid', 'DARTS (defaults)')(ctx)
    p = src_spos_paired('mosi_spos_mid')(ctx)
    sp, d = t[(SPOS_24,)], t[('DARTS (defaults)',)]
    s = Sweep(ctx.path('mosi_spos_mid') / 'table.csv')
    return [sp['val MAE'][0], d['val MAE'][0], sp['val WAF'][0], d['val WAF'][0],
            t[('random_arch (best of 3 on validation)',)]['val MAE'][0],
            *p[('DARTS',)]['mean ± std'], *p[('hand-designed',)]['mean ± std'],
            *p[('random_arch, best of 3',)]['mean ± std'], *p[('random_arch, median',)]['mean ± std'], 'the goal',
            *p[('random_arch, median',)]['per seed (0, 1, 2)'],
            s.get('SPOS', 'AUILC', 'acc2'), s.get('SPOS', 'AUILC', 'waf'), 'GCNet, docs/peers.md', 'GCNet, docs/peers.md',
            'the goal']


SPOS_MID_ENSEMBLE_TRIED = (('SPOS x3', ('SPOS x3',), 'SPOS x3'), ('DARTS x3', ('DARTS x3',), 'RMNAS x3'),
                           ('hand_designed x3', ('hand_designed x3',), 'hand_designed x3'),
                           ('random_arch x3 (best of 3 on validation)', ('random_arch x3 (best of 3 on validation)',),
                            'random_arch x3'),
                           ('SPOS', ('SPOS',), 'SPOS'))
src_quality_spos_mid_ensemble = src_main_with_gcnet('mosi_spos_mid_ensemble', SPOS_ENSEMBLE_ROWS)
src_quality_spos_mid_ensemble_paired = src_paired('mosi_spos_mid_ensemble', SPOS_X3_OTHERS, ref='SPOS x3')


def src_quality_spos_mid_ensemble_tried(ctx):
    return tried_rows(ctx, 'mosi_spos_mid_ensemble', SPOS_MID_ENSEMBLE_TRIED)


def src_quality_spos_mid_ensemble_notes(ctx):
    t = src_quality_spos_mid_ensemble_tried(ctx)
    rows = src_quality_spos_mid_ensemble(ctx)
    sp, g = rows[('SPOS x3 (searched, 3 seeds retrained)',)], rows[('GCNet (peers.md)',)]
    p = src_quality_spos_mid_ensemble_paired(ctx)
    hand = p[('hand-designed x3',)]
    return [t[('SPOS',)]['val MAE'][0], t[('SPOS x3',)]['val MAE'][0], t[('hand_designed x3',)]['val MAE'][0],
            t[('DARTS x3',)]['val MAE'][0], t[('SPOS x3',)]['val WAF'][0], t[('hand_designed x3',)]['val WAF'][0],
            *gcnet_margins(sp, g), *hand['mean ± std'], *hand['per seed (0, 1, 2)'], *p[('RMNAS x3 (DARTS)',)]['mean ± std'],
            *p[('SPOS, one network',)]['mean ± std'], 'a 3-seed ensemble',
            t[('random_arch x3 (best of 3 on validation)',)]['val MAE'][0],
            *p[('random_arch x3, best of 3',)]['mean ± std'], *p[('random_arch x3, median',)]['mean ± std'],
            *p[('random_arch x3, median',)]['per seed (0, 1, 2)'], 'the goal']


def src_quality_spos_mid_ensemble_size(ctx):
    return src_ensemble_size('mosi_spos_mid_ensemble_size')(ctx)


def src_quality_spos_mid_ensemble_size_paired(ctx):
    """SPOS xk minus the hand-designed network xk (same seeds, masks and member seeds), WAF AUILC."""
    s = Sweep(ctx.path('mosi_spos_mid_ensemble_size') / 'ensemble_size.csv')
    out = {}
    for k in (1, 3, 5):
        mean, std, d = paired(s, f'full x{k}', f'hand_designed x{k}', 'waf')
        out[(f'{k}',)] = {'mean ± std': (mean, std), 'per seed (0, 1, 2)': d}
    return out


def src_quality_spos_mid_ensemble_size_notes(ctx):
    t = src_quality_spos_mid_ensemble_size(ctx)
    s = Sweep(ctx.path('mosi_spos_mid_ensemble_size') / 'ensemble_size.csv')
    p = src_quality_spos_mid_ensemble_size_paired(ctx)
    return [t[('full x5',)]['val MAE'][0], t[('full x4',)]['val WAF'][0],
            t[('full x4',)]['test WAF AUILC'][0], t[('full x5',)]['test WAF AUILC'][0],
            s.get('full x5', 'AUILC', 'acc2'),
            *[p[(k,)]['mean ± std'][0] for k in ('1', '3', '5')],
            t[('hand_designed x1',)]['test WAF AUILC'][0], t[('hand_designed x5',)]['test WAF AUILC'][0],
            t[('full x1',)]['test WAF AUILC'][0], t[('full x5',)]['test WAF AUILC'][0]]


SPACES = (('tiny', 'tiny space'), ('mid', 'mid-sized space'))


RANKING_COLS = ('cells', 'val WAF', 'val MAE', 'test WAF', 'test MAE', 'entropy at export', 'identity mixers')
RANKING_QUANTITIES = ('val WAF', 'val MAE', "val MAE with the supernet's weights (exported candidate)",
                        'test WAF', 'test MAE')


def src_spos_ranking(result, rows):
    """Two SPOS ranking settings, validation beside test, per space. ``rows``: ``(label, variant)``."""
    def f(ctx):
        out = {}
        for name, space in SPACES:
            d = ctx.path(result) / name
            got = md_rows((d / 'tried.md').read_text(), ('configuration',))
            s = Sweep(d / 'table.csv')
            for label, variant in rows:
                out[(space, label)] = {**{k: v for k, v in got[(label,)].items() if k in RANKING_COLS},
                                       'test WAF AUILC': s.mean_std(variant, 'waf', 'AUILC')}
        return out
    return f


def src_spos_ranking_paired(result, ref, other, quantities=RANKING_QUANTITIES, sub=''):
    """``ref`` minus ``other``, per quantity and space (bench/paired_cells.py's paired.md, in the space's folder
    or its subfolder ``sub``; AUILC per seed from the space's table.csv)."""
    def f(ctx):
        out = {}
        for name, space in SPACES:
            d = ctx.path(result) / name
            rows = md_rows((d / sub / 'paired.md').read_text(), ('quantity',))
            for q in quantities:
                out.setdefault((q,), {})[f'{space}: mean ± std'] = rows[(q,)]['mean ± std']
                out[(q,)][f'{space}: per seed'] = rows[(q,)]['per seed']
            mean, std, per = paired(Sweep(d / 'table.csv'), ref, other, 'waf')
            out.setdefault(('test WAF AUILC',), {}).update({f'{space}: mean ± std': (mean, std),
                                                            f'{space}: per seed': per})
        return out
    return f


src_quality_spos_evolution = src_spos_ranking('mosi_spos_evolution', (('SPOS, random ranking (kept)', 'random'),
                                                                      ('SPOS, evolution', 'evolution')))
src_quality_spos_evolution_paired = src_spos_ranking_paired('mosi_spos_evolution', 'evolution', 'random')
src_quality_spos_candidates = src_spos_ranking('mosi_spos_candidates', (('SPOS, 100 candidates (kept)', 'c100'),
                                                                        ('SPOS, 300 candidates', 'c300')))
src_quality_spos_candidates_paired = src_spos_ranking_paired('mosi_spos_candidates', 'c300', 'c100')

src_quality_spos_supernets = src_spos_ranking('mosi_spos_supernets', (('SPOS, one supernet (kept)', 'k1'),
                                                                      ('SPOS, three supernets', 'k3')))
src_quality_spos_supernets_paired = src_spos_ranking_paired('mosi_spos_supernets', 'k3', 'k1')
src_quality_spos_epochs = src_spos_ranking('mosi_spos_epochs', tuple((label, f'e{e}') for e, label in SPOS_EPOCHS))
src_quality_spos_epochs_paired = src_spos_ranking_paired('mosi_spos_epochs', 'e30', 'e10', sub='e30')
src_quality_spos_short_epochs_paired = src_spos_ranking_paired('mosi_spos_epochs', 'e5', 'e10', sub='e5')
src_quality_spos_random_search = src_spos_ranking('mosi_spos_random_search', ((SPOS_24, 'SPOS'),) + tuple(
    (label, variant) for label, _, variant in RANDOM_SEARCH))


def src_quality_spos_random_search_paired(ctx):
    """SPOS minus each random search, paired WAF AUILC, per space."""
    out = {}
    for name, space in SPACES:
        s = Sweep(ctx.path('mosi_spos_random_search') / name / 'table.csv')
        for label, _, variant in RANDOM_SEARCH:
            mean, std, d = paired(s, 'SPOS', variant, 'waf')
            out.setdefault((label,), {}).update({f'{space}: mean ± std': (mean, std), f'{space}: per seed': d})
    return out


#: the control: the ensemble of a random_arch cell's three draws (bench/draw_ensemble.py, tiny space)
DRAWS_LABEL, DRAWS_VARIANT = '3 random architectures ensembled', 'random_arch, 3 draws ensembled'
#: the other ensembles of the same cells: (label, result, variant); the tiny and the mid-sized space
RANKING_ENSEMBLE_OTHERS = {'tiny': (('hand-designed network x3', 'mosi_spos_ensemble', 'hand_designed x3'),
                                    ('random_arch x3: best of 3 on validation', 'mosi_spos_ensemble', 'random_arch x3'),
                                    ('random_arch x3: median of 3', 'mosi_spos_ensemble', 'random_arch x3 (median)')),
                           'mid': (('hand-designed network x3', 'mosi_spos_mid_ensemble', 'hand_designed x3'),
                                   ('random_arch x3: best of 3 on validation', 'mosi_spos_mid_ensemble',
                                    'random_arch x3'),
                                   ('random_arch x3: median of 3', 'mosi_spos_mid_ensemble', 'random_arch x3 (median)'))}


def _ranking_ensemble_sources(ctx, name):
    """``[(label, Sweep, variant)]`` of one space's rows: the two SPOS x3 settings, the control (tiny), the others."""
    d = ctx.path('mosi_spos_ranking_ensemble')
    mine = Sweep(d / name / 'table.csv')
    rows = [(label, mine, v) for label, v in reversed(RANKING_ENSEMBLE_ROWS)]
    if name == 'tiny':
        rows.append((DRAWS_LABEL, Sweep(d / 'draws' / 'draw_ensemble.csv'), DRAWS_VARIANT))
    rows += [(label, Sweep(ctx.path(result) / 'table.csv'), v) for label, result, v in RANKING_ENSEMBLE_OTHERS[name]]
    return rows


def src_quality_ranking_ensemble(ctx):
    out = {}
    for name, space in SPACES:
        for label, sw, v in _ranking_ensemble_sources(ctx, name):
            out[(space, label)] = auilc_row(sw, v)
    g = src_quality_nas(ctx)[('GCNet (peers.md)',)]
    out[('peers.md', 'GCNet')] = g
    return out


def src_quality_ranking_ensemble_paired(ctx):
    """The ensemble of the ranking minus each other row of its space: WAF AUILC per seed, mean ± std."""
    out = {}
    for name, space in SPACES:
        rows = _ranking_ensemble_sources(ctx, name)
        _, ref, ref_v = rows[0]
        for label, sw, v in rows[1:]:
            mean, std, d = paired(ref, ref_v, v, 'waf', sw)
            out[(space, label)] = {'mean ± std': (mean, std), 'per seed (0, 1, 2)': d}
    return out


def src_quality_ranking_ensemble_tried(ctx):
    """Validation beside test: the two SPOS x3 settings (tried.md), and the control's means (tiny space)."""
    out = src_spos_ranking('mosi_spos_ranking_ensemble', RANKING_ENSEMBLE_ROWS)(ctx)
    d = ctx.path('mosi_spos_ranking_ensemble') / 'draws'
    with open(d / 'draw_ensemble_cells.csv', newline='') as fh:
        cells = [r for r in csv.DictReader(fh) if r['variant'] == DRAWS_VARIANT]
    mean = lambda col: sum(float(r[col]) for r in cells) / len(cells)  # noqa: E731
    out[('tiny space', DRAWS_LABEL)] = {
        'cells': len(cells), 'val WAF': mean('valid_waf'), 'val MAE': mean('valid_mae'), 'test WAF': mean('waf'),
        'test MAE': mean('mae'),
        'test WAF AUILC': Sweep(d / 'draw_ensemble.csv').mean_std(DRAWS_VARIANT, 'waf', 'AUILC')}
    return out


def src_quality_ranking_ensemble_3class(ctx):
    """The 3-class example: validation beside test (tried.md), the two-point WAF AUILC, and ranking minus seeds."""
    d = ctx.path('mosi_spos_ranking_ensemble_3class')
    got = md_rows((d / 'tried.md').read_text(), ('configuration',))
    s = Sweep(d / 'table.csv')
    out = {}
    for label, v in RANKING_ENSEMBLE_ROWS:
        out[(label,)] = {**{k: got[(label,)][k] for k in ('cells', 'val WAF', 'test WAF')},
                         'test WAF AUILC': s.mean_std(v, 'waf', 'AUILC')}
    mean, std, per = paired(s, 'ranking', 'seeds', 'waf')
    out[('ranking minus seeds (per seed 0, 1, 2)',)] = {'test WAF AUILC': (mean, std, *per)}
    return out


def src_quality_ranking_ensemble_size(ctx):
    """bench/ensemble_size.py's validation-beside-test table of the ranking ensembles of 1 … 5, per space."""
    out = {}
    for name, space in SPACES:
        d = ctx.path('mosi_spos_ranking_ensemble_size') / name
        for (config,), row in md_rows((d / 'ensemble_size.md').read_text(), ('configuration',)).items():
            out[(space, config.replace('full', 'ranking'))] = row
    return out


def src_quality_ranking_ensemble_size_paired(ctx):
    """WAF AUILC, per seed: five members minus three of the ranking (per space), and the ranking's five minus
    five seeds of the exported architecture (mid-sized space, docs/results/mosi_spos/mid_ensemble_size)."""
    out = {}
    for name, space in SPACES:
        s = Sweep(ctx.path('mosi_spos_ranking_ensemble_size') / name / 'ensemble_size.csv')
        for row, minus in (('x5', 'x3'), ('best of 3', 'x1'), ('best of 5', 'x1')):
            mean, std, per = paired(s, f'full {row}', f'full {minus}', 'waf')
            out[(space, f'ranking {row}', f'ranking {minus}')] = {'mean ± std': (mean, std), 'per seed (0, 1, 2)': per}
    s = Sweep(ctx.path('mosi_spos_ranking_ensemble_size') / 'mid' / 'ensemble_size.csv')
    seeds = Sweep(ctx.path('mosi_spos_mid_ensemble_size') / 'ensemble_size.csv')
    random5 = Sweep(ctx.path('mosi_spos_mid_random_x5') / 'table.csv')
    for other, variant, sweep in (('seeds x5', 'full x5', seeds), ('hand_designed x5', 'hand_designed x5', seeds),
                                  ('random_arch x5, best of 3', 'random_arch x5', random5),
                                  ('random_arch x5, median', 'random_arch x5 (median)', random5)):
        mean, std, d = paired(s, 'full x5', variant, 'waf', sweep)
        out[('mid-sized space', 'ranking x5', other)] = {'mean ± std': (mean, std), 'per seed (0, 1, 2)': d}
    return out


src_quality_ranking_ensemble_vs_seeds = src_spos_ranking_paired(
    'mosi_spos_ranking_ensemble', 'ranking', 'seeds', quantities=tuple(q for q in RANKING_QUANTITIES
                                                                      if 'supernet' not in q))

#: with folds the exported candidate's ranking score is a mean over validation and the folds, not a
#: validation figure: that row of paired.md is left out of docs/quality.md
src_quality_spos_folds = src_spos_ranking('mosi_spos_folds', (('SPOS, ranked on validation (kept)', 'k1'),
                                                              ('SPOS, ranked on validation and 5 training folds', 'f5')))
src_quality_spos_folds_paired = src_spos_ranking_paired('mosi_spos_folds', 'f5', 'k1', quantities=tuple(
    q for q in RANKING_QUANTITIES if 'supernet' not in q))

def src_quality_spos_paper_random(ctx):
    """The paper-sized space with random architectures: validation beside test per model (tried.md; the median
    of the random architectures has test figures only) with each model's test WAF AUILC."""
    d = ctx.path('mosi_spos_paper_random')
    got = md_rows((d / 'tried.md').read_text(), ('configuration',))
    s = Sweep(d / 'table.csv')
    return {(label,): dict({k: v for k, v in got.get((label,), {}).items() if k in RANKING_COLS},
                           **{'test WAF AUILC': s.mean_std(variant, 'waf', 'AUILC')})
            for label, _, variant in PAPER_RANDOM_ROWS}


def src_quality_spos_paper_random_auilc(ctx):
    s = Sweep(ctx.path('mosi_spos_paper_random') / 'table.csv')
    out = {(label,): auilc_row(s, variant) for label, _, variant in PAPER_RANDOM_ROWS}
    out[('GCNet (peers.md)',)] = src_quality_nas(ctx)[('GCNet (peers.md)',)]
    return out


#: WAF AUILC, paired over seeds: SPOS minus the other models of the paper-sized space
src_quality_spos_paper_random_paired = src_paired(
    'mosi_spos_paper_random', tuple((label, variant) for label, _, variant in PAPER_RANDOM_ROWS[1:]), ref='SPOS paper')


def src_quality_five_seeds_paired(ctx):
    """SPOS minus each other row of the five-seed sweeps, per space: over seeds 0-2 (the seeds of every other
    table) and over seeds 0-4, with the five per-seed differences."""
    out = {}
    for name, space in SPACES:
        s = Sweep(ctx.path('mosi_spos_five_seeds') / name / 'table.csv')
        for label, variant, _ in FIVE_SEEDS_ROWS[1:]:
            _, _, d = paired(s, 'SPOS', variant, 'waf')
            out.setdefault((label,), {}).update({f'{space}: seeds 0–2': _mean_std(d[:3]),
                                                 f'{space}: seeds 0–4': _mean_std(d),
                                                 f'{space}: per seed (0 … 4)': d})
    return out


def src_quality_five_seeds_auilc(ctx):
    """Each row's AUILCs over the five seeds, per space, and GCNet's."""
    out = {}
    for name, space in SPACES:
        s = Sweep(ctx.path('mosi_spos_five_seeds') / name / 'table.csv')
        out.update({(space, label): auilc_row(s, variant) for label, variant, _ in FIVE_SEEDS_ROWS})
    out[('–', 'GCNet (peers.md)')] = src_quality_nas(ctx)[('GCNet (peers.md)',)]
    return out


def src_quality_five_seeds_tried(ctx):
    """Validation beside test over the five seeds (tried.md per space; the median has no validation figures)."""
    out = {}
    for name, space in SPACES:
        got = md_rows((ctx.path('mosi_spos_five_seeds') / name / 'tried.md').read_text(), ('configuration',))
        s = Sweep(ctx.path('mosi_spos_five_seeds') / name / 'table.csv')
        out.update({(space, tried): dict({k: v for k, v in got[(tried,)].items() if k in RANKING_COLS[:5]},
                                         **{'test WAF AUILC': s.mean_std(variant, 'waf', 'AUILC')})
                    for _, variant, tried in FIVE_SEEDS_ROWS if tried})
    return out


def src_quality_five_seeds_notes(ctx):
    """The notes under the five-seed tables: broken random draws (test WAF at r = 0 below 60, from draws.csv) by
    seed group, the paired figures, the standard errors of the median margin against the goal's +2, GCNet."""
    d = ctx.path('mosi_spos_five_seeds')
    p = src_quality_five_seeds_paired(ctx)
    a = src_quality_five_seeds_auilc(ctx)
    t = src_quality_five_seeds_tried(ctx)
    broken, text = {}, {}          # text: draws whose prediction reads text, and the others (count, WAF range)
    for name, space in SPACES:
        with open(d / name / 'draws.csv', newline='') as fh:
            at0 = [r for r in csv.DictReader(fh) if float(r['rate']) == 0.0 and r['variant'] == 'random_arch']
        for group, seeds in (('old', {'0', '1', '2'}), ('new', {'3', '4'})):
            rows = [r for r in at0 if r['seed'] in seeds]
            broken[space, group] = (sum(float(r['test_waf']) < 60 for r in rows), len(rows))
        for reads in (False, True):
            w = [float(r['test_waf']) for r in at0 if ('text' in r['fused_modalities'].split('+')) == reads]
            text[space, reads] = (len(w), min(w), max(w))
    tiny, mid = SPACES[0][1], SPACES[1][1]

    def pm(label, space):
        return list(p[(label,)][f'{space}: seeds 0–4'])

    def per(label, space):
        return p[(label,)][f'{space}: per seed (0 … 4)']

    def se_above_goal(space):
        mean, std = p[('random_arch, median',)][f'{space}: seeds 0–4']
        return (mean - 2) / (std / math.sqrt(len(per('random_arch, median', space))))

    same_draw = 0                  # cells where random search kept random_arch's draw (identical test figures)
    for name, _ in SPACES:
        sw = Sweep(d / name / 'table.csv')
        same_draw += sum(sw.get('random_search', 'value', 'waf', rate=r, seed=x)
                         == sw.get('random_arch', 'value', 'waf', rate=r, seed=x)
                         for r in sw.rates('random_search') for x in sw.seeds('random_search', r))
    gc = a[('–', 'GCNet (peers.md)')]
    waf = {sp: a[(sp, 'SPOS')] for sp in (tiny, mid)}
    spos_tried = {sp: t[(sp, SPOS_24)] for sp in (tiny, mid)}
    return ['r = 0', 'the threshold', *broken[mid, 'old'], *broken[mid, 'new'], *broken[tiny, 'old'],
            *broken[tiny, 'new'], broken[mid, 'old'][0] + broken[mid, 'new'][0],
            broken[mid, 'old'][1] + broken[mid, 'new'][1], per('random_arch, best of 3', mid)[4],
            text[tiny, False][0], text[mid, False][0], 'r = 0', text[tiny, True][1], text[tiny, True][2],
            text[tiny, False][1], text[tiny, False][2], text[mid, True][1], text[mid, True][2],
            text[mid, False][1], text[mid, False][2], 'cells', 'the goal',
            *pm('random_arch, median', tiny), *pm('random_arch, median', mid),
            p[('random_arch, median',)][f'{tiny}: seeds 0–2'][0], p[('random_arch, median',)][f'{mid}: seeds 0–2'][0],
            sum(x < 2 for x in per('random_arch, median', tiny)), sum(x < 2 for x in per('random_arch, median', mid)),
            se_above_goal(mid), se_above_goal(tiny), 'the goal', same_draw,
            *pm('random_search (DARTS budget)', tiny), *pm('random_search (DARTS budget)', mid),
            sum(x < 0 for x in per('random_search (DARTS budget)', mid)),
            *pm('hand-designed', tiny), *pm('hand-designed', mid), sum(x > 0 for x in per('hand-designed', mid)),
            first(waf[tiny]['WAF AUILC']), first(waf[mid]['WAF AUILC']), first(gc['WAF AUILC']), 'the goal',
            'r = 0.7', 'r = 0',
            first(waf[tiny]['WAF r = 0.7']) - first(gc['WAF r = 0.7']), first(waf[tiny]['WAF r = 0']) - first(gc['WAF r = 0']),
            first(waf[mid]['WAF r = 0.7']) - first(gc['WAF r = 0.7']), first(waf[mid]['WAF r = 0']) - first(gc['WAF r = 0']),
            spos_tried[mid]['val MAE'][0], spos_tried[tiny]['val MAE'][0],
            t[(tiny, 'hand_designed (no search)')]['val WAF'][0], spos_tried[tiny]['val WAF'][0]]


def src_quality_five_seeds_control(ctx):
    """SPOS against random architectures drawn among those that read every modality, five seeds, both spaces."""
    p = src_quality_five_seeds_paired(ctx)
    t = src_quality_five_seeds_tried(ctx)
    best, median = FIVE_SEEDS_ROWS[5][0], FIVE_SEEDS_ROWS[6][0]
    tiny, mid = SPACES[0][1], SPACES[1][1]
    out = []
    for label in (best, median):
        for space in (tiny, mid):
            out += list(p[(label,)][f'{space}: seeds 0–4'])
    out += [sum(x < 0 for x in p[(best,)][f'{space}: per seed (0 … 4)']) for space in (tiny, mid)]
    for space in (tiny, mid):
        out += [t[(space, FIVE_SEEDS_ROWS[5][2])]['val MAE'][0], t[(space, SPOS_24)]['val MAE'][0]]
    return out


#: the five-network ensembles of the mid-sized space over five seeds: (label, variant in the merged table)
FIVE_SEEDS_X5_ROWS = (('random_arch x5, best of 3', 'random_arch x5'),
                      ('random_arch x5, median', 'random_arch x5 (median)'),
                      ('random_arch x5 reading every modality, best of 3', 'random_arch x5, every modality'),
                      ('random_arch x5 reading every modality, median', 'random_arch x5, every modality (median)'))


def src_quality_five_seeds_x5(ctx):
    """Ranking x5 minus five retrainings of random architectures (mid-sized space), seeds 0-2 and 0-4."""
    s = Sweep(ctx.path('mosi_spos_five_seeds_x5') / 'table.csv')
    out = {}
    for label, variant in FIVE_SEEDS_X5_ROWS:
        _, _, d = paired(s, 'ranking x5', variant, 'waf')
        out[(label,)] = {'seeds 0–2': _mean_std(d[:3]), 'seeds 0–4': _mean_std(d), 'per seed (0 … 4)': d}
    return out


def src_quality_five_seeds_x5_notes(ctx):
    """The ranking's five networks against five of random architectures that read every modality: per-seed signs,
    validation MAE, WAF AUILC beside GCNet + 1.5."""
    d = ctx.path('mosi_spos_five_seeds_x5')
    x5 = src_quality_five_seeds_x5(ctx)
    got = md_rows((d / 'tried.md').read_text(), ('configuration',))
    s = Sweep(d / 'table.csv')
    best, median = FIVE_SEEDS_X5_ROWS[2][0], FIVE_SEEDS_X5_ROWS[3][0]
    return [sum(x > 0 for x in x5[(best,)]['per seed (0 … 4)']), sum(x > 0 for x in x5[(median,)]['per seed (0 … 4)']),
            got[('ranking x5',)]['val MAE'][0],
            got[('random_arch x5 reading every modality (best of 3 on validation)',)]['val MAE'][0],
            first(s.mean_std('ranking x5', 'waf', 'AUILC')), first(s.mean_std('random_arch x5, every modality', 'waf', 'AUILC')),
            'the goal: GCNet + 1.5']


def _spread(ctx, name):
    """spread.json and auilc.csv of one space of mosi_architecture_spread."""
    d = ctx.path('mosi_architecture_spread') / name
    with open(d / 'auilc.csv', newline='') as fh:
        rows = list(csv.DictReader(fh))
    return json.loads((d / 'spread.json').read_text()), rows


#: the rows of docs/quality.md's architecture-spread table: (label, what spread.json gives)
SPREAD_ROWS = (
    ('mean of the 16 architectures', 'test_mean_of_archs'),
    ('spread between them (std of their seed means)', 'test_std_of_arch_means'),
    ('spread of one architecture over seeds (std, mean over the 16)', 'test_seed_std_within_arch'),
    ('spread between them, seed noise of the means removed', 'test_between_arch_std_noise_removed'),
    ('the best one minus the median one, on a held-out seed (chosen by test on the other four: a ceiling)',
     'gain_by_test_other_seeds'),
    ('chosen by its retrained validation MAE AUILC (same seed) minus the median one', 'gain_by_valid_same_seed'))
#: the selection policies set against the 16: (label, spread.json reference or None for the one chosen on validation)
SPREAD_POLICIES = (
    ('the 16, chosen by retrained validation (same seed)', None),
    ('SPOS, one network per cell (its own architecture per rate)', 'SPOS_per_cell'),
    ('SPOS, one architecture for every rate (best pooled supernet validation)', 'SPOS_pooled'),
    ('SPOS, its 5 best pooled, retrained, chosen by retrained validation', 'SPOS_top5_by_valid'),
    ('hand-designed network', 'hand'),
    ('ranking x5 (five networks averaged)', 'ranking x5'))


def src_quality_spread(ctx):
    """docs/quality.md, "How far apart": the spread figures of both spaces (test WAF AUILC, five seeds)."""
    out = {}
    for name, space in SPACES:
        res, _ = _spread(ctx, name)
        for label, key in SPREAD_ROWS:
            v = res[key]
            out.setdefault((label,), {})[space] = _mean_std(v) if isinstance(v, list) else v
    return out


def src_quality_spread_policies(ctx):
    """The selection policies against the 16 architectures: validation MAE AUILC, test WAF AUILC, minus the median
    architecture (paired by seed), per space; ranking x5 in the mid-sized space only."""
    out = {}
    for name, space in SPACES:
        res, rows = _spread(ctx, name)
        for label, ref in SPREAD_POLICIES:
            cols = {}
            if ref is None:
                chosen = []
                for seed in res['seeds']:
                    mine = [r for r in rows if int(r['seed']) == seed and r['arch'] in res['per_arch']]
                    chosen.append(min(mine, key=lambda r: float(r['val_mae_auilc'])))
                cols = {'val MAE AUILC': sum(float(r['val_mae_auilc']) for r in chosen) / len(chosen),
                        'test WAF AUILC': _mean_std([float(r['test_waf_auilc']) for r in chosen]),
                        'minus the median': _mean_std(res['gain_by_valid_same_seed'])}
            elif ref == 'hand':
                cols = {'val MAE AUILC': res['hand']['valid_mean'],
                        'test WAF AUILC': (res['hand']['test_mean'], res['hand']['test_std']),
                        'minus the median': _mean_std(res['hand']['minus_median_per_seed'])}
            elif ref in res['references']:
                r = res['references'][ref]
                cols = {'test WAF AUILC': (r['test_mean'], r['test_std']),
                        'minus the median': _mean_std(r['minus_median_per_seed'])}
                if 'valid_mean' in r:
                    cols['val MAE AUILC'] = r['valid_mean']
            for c, v in cols.items():
                out.setdefault((label,), {})[f'{space}: {c}'] = v
    return out


def src_quality_spread_notes(ctx):
    """The notes under the architecture-spread tables: spreads, worst architecture, ceiling, validation's choice,
    SPOS's rows (how often the pooled choice is the cell's own first), the hand-designed network, ranking x5."""
    tiny, mid = _spread(ctx, 'tiny')[0], _spread(ctx, 'mid')[0]
    pol = src_quality_spread_policies(ctx)
    t, m = SPACES[0][1], SPACES[1][1]
    own, top5 = (SPREAD_POLICIES[1][0],), (SPREAD_POLICIES[3][0],)
    chosen = (SPREAD_POLICIES[0][0],)

    def worst(res):
        return min(v['test_mean'] for v in res['per_arch'].values())

    def first_in_cell(res):
        return sum(r == 1 for p in res['pooled'] if p['pooled_rank'] == 1 for r in p['rank_per_rate'])

    def ms(v):
        return list(_mean_std(v))

    ceiling_t, ceiling_m = ms(tiny['gain_by_test_other_seeds']), ms(mid['gain_by_test_other_seeds'])
    valid_m = mid['gain_by_valid_same_seed']
    cells = len(mid['rates']) * len(mid['seeds'])
    return [tiny['test_between_arch_std_noise_removed'], mid['test_between_arch_std_noise_removed'],
            tiny['test_seed_std_within_arch'], mid['test_seed_std_within_arch'], worst(tiny), worst(mid),
            *ceiling_t, *ceiling_m,
            *ms(tiny['gain_by_valid_same_seed']), *ms(valid_m), sum(g > 0 for g in valid_m), len(valid_m),
            'a section number', mid['archs'] * len(mid['rates']), mid['archs'], len(mid['rates']),
            *pol[own][f'{t}: minus the median'], *pol[own][f'{m}: minus the median'],
            first_in_cell(tiny), first_in_cell(mid), cells,
            pol[top5][f'{t}: val MAE AUILC'], pol[own][f'{t}: val MAE AUILC'],
            pol[top5][f'{m}: val MAE AUILC'], pol[own][f'{m}: val MAE AUILC'],
            *pol[top5][f'{t}: minus the median'], *pol[own][f'{t}: minus the median'],
            *pol[top5][f'{m}: minus the median'], *pol[own][f'{m}: minus the median'],
            mid['archs'], pol[top5][f'{m}: val MAE AUILC'], pol[chosen][f'{m}: val MAE AUILC'],
            *ms(tiny['hand']['minus_median_per_seed']), *ms(mid['hand']['minus_median_per_seed']),
            *ms(mid['references']['ranking x5']['minus_median_per_seed']), ceiling_m[0],
            cells, *[_same_as_sweep(ctx, name) for name, _ in SPACES], cells]


def _same_as_sweep(ctx, name):
    """Cells of the hand-designed network in mosi_architecture_spread whose test WAF equals the five-seed sweep's."""
    with open(ctx.path('mosi_spos_five_seeds') / name / 'table.csv', newline='') as fh:
        swept = {(float(r['rate']), int(r['seed'])): float(r['waf']) for r in csv.DictReader(fh)
                 if r['variant'] == 'hand_designed' and r['stat'] == 'value'}
    with open(ctx.path('mosi_architecture_spread') / name / 'cells.csv', newline='') as fh:
        ours = [r for r in csv.DictReader(fh) if r['arch'] == 'hand']
    return sum(float(r['test_waf']) == swept[(float(r['rate']), int(r['seed']))] for r in ours)


def src_quality_spos_all_modalities(ctx):
    """SPOS against SPOS with candidates reading every modality, five seeds, both spaces: tried.md's columns, the
    test WAF AUILC, and SPOS minus it (paired by seed)."""
    cols = ('cells', 'val WAF', 'val MAE', 'test WAF', 'test MAE', 'reads every modality')
    out = {}
    for name, space in SPACES:
        d = ctx.path('mosi_spos_all_modalities') / name
        got = md_rows((d / 'tried.md').read_text(), ('configuration',))
        s = Sweep(d / 'table.csv')
        _, _, diff = paired(s, 'SPOS', ALL_MOD, 'waf')
        for tried, variant in ((SPOS_24, 'SPOS'), (ALL_MOD_TRIED, ALL_MOD)):
            out[(space, tried)] = dict({c: got[(tried,)][c] for c in cols},
                                       **{'test WAF AUILC': s.mean_std(variant, 'waf', 'AUILC')})
        out[(space, ALL_MOD_TRIED)]['SPOS minus it (paired WAF AUILC)'] = _mean_std(diff)
    return out


def src_quality_spos_all_modalities_notes(ctx):
    """The paragraph under it: validation MAE of both, the paired difference, WAF at r = 0.7."""
    t = src_quality_spos_all_modalities(ctx)
    tiny, mid = SPACES[0][1], SPACES[1][1]
    out = []
    for space in (tiny, mid):
        out += [t[(space, SPOS_24)]['reads every modality'][0]]
    for space in (tiny, mid):
        out += [t[(space, ALL_MOD_TRIED)]['val MAE'][0], t[(space, SPOS_24)]['val MAE'][0]]
    for space in (tiny, mid):
        out += list(t[(space, ALL_MOD_TRIED)]['SPOS minus it (paired WAF AUILC)'])
    out.append('the highest rate of the grid')
    for name, space in SPACES:
        s = Sweep(ctx.path('mosi_spos_all_modalities') / name / 'table.csv')
        out += [first(s.mean_std(ALL_MOD, 'waf', 'mean', rate=0.7)), first(s.mean_std('SPOS', 'waf', 'mean', rate=0.7))]
    return out + ['data/cmu-mosi-utterances/README.md: audio alone', 'vision alone']


def src_quality_spos_3class_notes(ctx):
    t = src_spos_tried('mosi_spos_3class', SPOS_3CLASS_DARTS)(ctx)
    p = src_spos_paired('mosi_spos_3class')(ctx)
    return [t[(SPOS_24,)]['val WAF'][0], t[(SPOS_3CLASS_DARTS,)]['val WAF'][0], *p[('DARTS',)]['mean ± std'],
            *p[('hand-designed',)]['mean ± std'], *p[('random_arch, best of 3',)]['mean ± std'],
            t[(SPOS_3CLASS_DARTS,)]['zero ops'][0], 'the cells of a row']


WS_KEY = 'scores compared (tau over the architectures of a cell)'
WS_ROWS = (('exported choice weights vs retrained validation', 'alpha vs retrained_val'),
           ('exported choice weights vs retrained test', 'alpha vs retrained_test'),
           ("supernet's weights vs retrained validation", 'inherited_val vs retrained_val'),
           ("supernet's weights vs retrained test", 'inherited_val vs retrained_test'),
           ("one retrained network's validation vs retrained test", 'single_val vs retrained_test'))


def _weight_sharing(ctx, result):
    return md_rows((ctx.path(result) / 'weight_sharing.md').read_text(), (WS_KEY,))


def src_quality_weight_sharing(ctx):
    """docs/quality.md section 1: Kendall tau per kind of score, tiny (seed-ensemble sweep) and mid space."""
    tiny, mid = _weight_sharing(ctx, 'mosi_seed_ensemble'), _weight_sharing(ctx, 'mosi_mid_weight_sharing')
    out = {}
    for label, key in WS_ROWS:
        out[(label,)] = {'tiny space: mean tau': tiny[(key,)]['mean tau'],
                         'tiny space: per seed (0, 1, 2)': tiny[(key,)]['per seed'],
                         'mid space: mean tau': mid[(key,)]['mean tau'],
                         'mid space: per seed (0, 1, 2)': mid[(key,)]['per seed']}
    return out


def src_quality_weight_sharing_notes(ctx):
    """The paragraphs under it: the same taus, which architecture is best by each score, the spreads."""
    tiny, mid = _weight_sharing(ctx, 'mosi_seed_ensemble'), _weight_sharing(ctx, 'mosi_mid_weight_sharing')
    text = (ctx.path('mosi_seed_ensemble') / 'weight_sharing.md').read_text()
    best = md_rows(text, ('which architecture is best',))
    best_mid = md_rows((ctx.path('mosi_mid_weight_sharing') / 'weight_sharing.md').read_text(),
                       ('which architecture is best',))
    spread = md_rows(text, ('spread of the retrained validation figure',))
    tau = lambda d, k: d[(dict(WS_ROWS)[k],)]['mean tau'][0]        # noqa: E731
    ev, et = 'exported choice weights vs retrained validation', 'exported choice weights vs retrained test'
    sv, st = "supernet's weights vs retrained validation", "supernet's weights vs retrained test"
    one = "one retrained network's validation vs retrained test"
    n_cells = 'the 24 cells of the sweep'
    return [n_cells, 'a section number', 'a section number', tau(tiny, ev), tau(tiny, et), tau(mid, ev), tau(mid, et),
            tau(tiny, st), tau(tiny, sv),
            best[('best by inherited val',)]['searched'][0], n_cells, best_mid[('best by inherited val',)]['searched'][0],
            n_cells, best[('best by retrained val',)]['searched'][0], best[('best by retrained test',)]['searched'][0],
            best[('best by retrained val',)]['hand_designed'][0], best[('best by retrained test',)]['hand_designed'][0],
            spread[('gap: best minus second best',)]['median over cells'][0],
            spread[('within (retraining seeds)',)]['median over cells'][0],
            spread[('between architectures',)]['median over cells'][0], 'the validation videos of the split',
            tau(tiny, one)]


def src_quality_ema(ctx):
    """docs/quality.md section 2, retrain.ema (the columns the document prints of tried.md)."""
    cols = ('cells', 'val WAF', 'val MAE', 'test WAF', 'test MAE', 'test WAF AUILC')
    rows = tried_rows(ctx, 'mosi_retrain_ema', [
        (label, (label,), variant) for label, variant in (
            ('full, defaults', 'full'), ('full, retrain.ema 0.9', 'full, ema 0.9'),
            ('hand_designed, defaults', 'hand_designed'), ('hand_designed, retrain.ema 0.9', 'hand_designed, ema 0.9'))])
    return {k: {c: v[c] for c in cols} for k, v in rows.items()}


def src_quality_spos_paper_tried(ctx):
    """docs/quality.md section 4, SPOS in the three spaces: validation beside test (tried.md's columns)."""
    cols = ('cells', 'val WAF', 'val MAE', 'test WAF', 'test MAE', 'entropy at export', 'identity mixers',
            'test WAF AUILC')
    rows = tried_rows(ctx, 'mosi_spos_paper', [(label, (label,), variant) for label, _, variant in SPOS_SPACE_ROWS]
                      + [(PAPER_HAND[0], (PAPER_HAND[0],), PAPER_HAND[1])])
    return {k: {c: v[c] for c in cols} for k, v in rows.items()}


src_quality_spos_paper = src_main_with_gcnet('mosi_spos_paper', {
    **{label: variant for label, _, variant in SPOS_SPACE_ROWS}, PAPER_HAND[0]: PAPER_HAND[1]})
src_quality_spos_paper_paired = src_paired('mosi_spos_paper', ref='SPOS paper', others=(
    ('SPOS, mid-sized space', 'SPOS mid'), ('SPOS, tiny space', 'SPOS tiny'), (PAPER_HAND[0], PAPER_HAND[1])))


REGULARISATION_COLS = ('cells', 'val WAF', 'val MAE', 'test WAF', 'test MAE', 'retrained: kept epoch',
                       'test WAF AUILC')


def src_quality_regularisation(ctx):
    """docs/quality.md section 2, stronger regularisation (the columns the document prints of tried.md)."""
    rows = tried_rows(ctx, 'mosi_regularisation', [
        (label, (label,), name) for label, name, _ in ((REGULARISATION_DEFAULTS, 'defaults', ''), *REGULARISATION)])
    return {k: {c: v[c] for c in REGULARISATION_COLS} for k, v in rows.items()}


def src_quality_regularisation_paired(ctx):
    """Each setting minus the defaults: validation (bench/paired_cells.py) and test WAF AUILC, paired over seeds."""
    d = ctx.path('mosi_regularisation')
    s = Sweep(d / 'table.csv')
    out = {}
    for label, name, _ in REGULARISATION:
        rows = md_rows((d / name / 'paired.md').read_text(), ('quantity',))
        mean, std, _ = paired(s, name, 'defaults', 'waf')
        out[(label,)] = {'val WAF': rows[('val WAF',)]['mean ± std'], 'val MAE': rows[('val MAE',)]['mean ± std'],
                         'test WAF AUILC': (mean, std)}
    return out


def src_quality_regularisation_notes(ctx):
    t, p = src_quality_regularisation(ctx), src_quality_regularisation_paired(ctx)
    auilc = sorted(v['test WAF AUILC'][0] for k, v in t.items() if k != (REGULARISATION_DEFAULTS,))
    return [*p[('dropout 0.3',)]['val WAF'], 'dropout 0.3', *p[('retrain weight decay 1.0',)]['val MAE'],
            'weight decay 1.0', 'dropout 0.5',
            t[(REGULARISATION_DEFAULTS,)]['retrained: kept epoch'][0], t[('dropout 0.5',)]['retrained: kept epoch'][0],
            t[('retrain weight decay 0.1',)]['retrained: kept epoch'][0],
            t[('retrain weight decay 1.0',)]['retrained: kept epoch'][0],
            t[(REGULARISATION_DEFAULTS,)]['test WAF AUILC'][0], auilc[0], auilc[-1]]


def src_ensemble_size(result):
    """The validation-beside-test table of bench/ensemble_size.py's ensemble_size.md of ``result``."""
    def f(ctx):
        return md_rows((ctx.path(result) / 'ensemble_size.md').read_text(), ('configuration',))
    return f


src_quality_ensemble_size = src_ensemble_size('mosi_seed_ensemble')


def src_quality_ensemble_elsewhere_notes(ctx):
    mid, cls = src_ensemble_size('mosi_mid_seed_ensemble')(ctx), src_ensemble_size('mosi_3class_seed_ensemble')(ctx)
    gains = {}
    for name, res in (('mid', 'mosi_mid_seed_ensemble'), ('cls', 'mosi_3class_seed_ensemble')):
        rows = md_rows((ctx.path(res) / 'ensemble_size.md').read_text(), ('row', 'minus'))
        gains[name] = {v: rows[(f'{v} x3', f'{v} x1')]['mean ± std'] for v in ('full', 'hand_designed')}
    return [mid[('full x1',)]['val MAE'][0], mid[('full x3',)]['val MAE'][0],
            mid[('hand_designed x1',)]['val MAE'][0], mid[('hand_designed x3',)]['val MAE'][0],
            *gains['mid']['full'], *gains['mid']['hand_designed'],
            mid[('hand_designed x3',)]['test WAF AUILC'][0], mid[('full x3',)]['test WAF AUILC'][0],
            'the name of the 3-class example',
            cls[('full x1',)]['val WAF'][0], cls[('full x3',)]['val WAF'][0],
            cls[('hand_designed x1',)]['val WAF'][0], cls[('hand_designed x3',)]['val WAF'][0],
            *gains['cls']['full'], *gains['cls']['hand_designed'], 'the default setting']


ENSEMBLE_ROWS = {'RMNAS x3 (searched, 3 seeds retrained)': 'RMNAS x3', 'hand-designed network x3': 'hand_designed x3',
                 'random_arch x3: best of 3 on validation': 'random_arch x3',
                 'random_arch x3: median of 3': 'random_arch x3 (median)',
                 'RMNAS (one network, as above)': 'RMNAS', 'hand-designed network (one network, as above)': 'hand_designed'}


src_quality_ensemble = src_main_with_gcnet('mosi_seed_ensemble', ENSEMBLE_ROWS)


src_quality_ensemble_paired = src_paired('mosi_seed_ensemble', (
    ('hand-designed x3', 'hand_designed x3'), ('random_arch x3, best of 3', 'random_arch x3'),
    ('random_arch x3, median', 'random_arch x3 (median)'), ('RMNAS, one network', 'RMNAS')), ref='RMNAS x3')


def src_quality_ensemble_notes(ctx):
    size = src_quality_ensemble_size(ctx)
    s = Sweep(ctx.path('mosi_seed_ensemble') / 'table.csv')
    gcnet = src_quality_nas(ctx)[('GCNet (peers.md)',)]
    g_acc, g_waf, g0, g7 = (first(gcnet[c]) for c in ('Acc-2 AUILC', 'WAF AUILC', 'WAF r = 0', 'WAF r = 0.7'))
    auc = lambda v, m: s.get(v, 'AUILC', m)                              # noqa: E731
    hd, hd_sd, hd_d = paired(s, 'RMNAS x3', 'hand_designed x3', 'waf')
    ra, ra_sd, _ = paired(s, 'RMNAS x3', 'random_arch x3', 'waf')
    med, med_sd, med_d = paired(s, 'RMNAS x3', 'random_arch x3 (median)', 'waf')
    sizes = md_rows((ctx.path('mosi_seed_ensemble') / 'ensemble_size.md').read_text(), ('row', 'minus'))
    return [size[('full x1',)]['val MAE'][0], size[('full x3',)]['val MAE'][0],
            size[('hand_designed x1',)]['val MAE'][0], size[('hand_designed x3',)]['val MAE'][0],
            size[('random_arch x1',)]['val MAE'][0], size[('random_arch x3',)]['val MAE'][0],
            'the default setting', 'the name of the 3-class example', 'the measured setting',
            auc('RMNAS x3', 'acc2') - g_acc, auc('RMNAS x3', 'waf') - g_waf, auc('RMNAS x3', 'acc2'),
            auc('RMNAS x3', 'waf'), g_acc, g_waf, 'the goal', 'r = 0.7',
            s.get('RMNAS x3', 'mean', 'waf', rate=0.7) - g7, 'r = 0', s.get('RMNAS x3', 'mean', 'waf', rate=0.0) - g0,
            auc('hand_designed x3', 'acc2'), auc('hand_designed x3', 'waf'), 'the goal', 'the goal',
            auc('hand_designed x3', 'waf') - 53.5, hd, hd_sd, ra, ra_sd, med, med_sd, med_d[0], med_d[1],
            'seed 0', 'seed 1', 'the goal', 'seed 2',
            sizes[('full x3', 'full x1')]['mean ± std'][0], sizes[('hand_designed x3', 'hand_designed x1')]['mean ± std'][0],
            sizes[('random_arch x3', 'random_arch x1')]['mean ± std'][0]]


def src_readme_ensemble(ctx):
    """README, NAS baselines: the weight-sharing finding and the seed-ensemble option, in words and two figures."""
    s = Sweep(ctx.path('mosi_seed_ensemble') / 'table.csv')
    gcnet = src_quality_nas(ctx)[('GCNet (peers.md)',)]['WAF AUILC']
    return ['tau near 0 (docs/quality.md section 1)', 'the validation videos of the split', 'a seed offset',
            'member 0', 'ensemble size 1', 'ensemble size 3', s.get('hand_designed x3', 'AUILC', 'waf'),
            gcnet[0] if isinstance(gcnet, (list, tuple)) else gcnet, 'the name of the 3-class example']


def src_quality_gumbel_notes(ctx):
    """The paragraph under it, from the same rows."""
    g, d = (src_quality_gumbel(ctx)[(k,)] for k in ('GumbelDARTS', 'DARTS (defaults)'))
    return [g['val WAF'][0], d['val WAF'][0], g['val MAE'][0], d['val MAE'][0], g['entropy at export'][0],
            g['chosen weight'][0], d['entropy at export'][0], d['chosen weight'][0],
            'the training videos of examples/mosi_dialogue.yml',
            'a section number']


def src_quality_3class(ctx):
    s = Sweep(ctx.path('mosi_3class') / 'table.csv')
    out = {}
    for label, v in (('RMNAS', 'RMNAS'), ('hand-designed', 'hand_designed'),
                     ('random_arch, best of 3', 'random_arch'), ('random_arch, median', 'random_arch (median)')):
        out[(label,)] = {f'{METRICS[m]} r = {rate_label(r)}': s.mean_std(v, m, 'mean', rate=r)
                         for m in ('acc', 'waf') for r in (0.0, 0.7)}
    return out


def _mean_std(v: List[float]):
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return m, sd


def src_fusion_gates(ctx):
    """docs/results/fusion_gates_derivation.md: both tables, from the cells of the four sweeps."""
    import re
    out = {}
    for sel in ('one_of_n', 'gates'):
        for der in ('argmax', 'threshold'):
            cells = sorted((ctx.path('fusion_gates') / f'{sel}-{der}' / 'cells' / 'full').glob('r0.5-s*'))
            ms = [json.loads((c / 'metrics.json').read_text()) for c in cells]
            archs = [json.loads((c / 'arch.json').read_text()) for c in cells]
            taken, multi = [], []
            for a in archs:
                slots: Dict[str, int] = {}
                for k, v in a.items():
                    g = re.match(r'(fusion/cell\d+/input\d+)(/cand\d+)?$', k)
                    if g and g.group(2):
                        slots[g.group(1)] = slots.get(g.group(1), 0) + (v == 'identity' or (
                            isinstance(v, list) and 'identity' in v))
                    elif g:
                        slots[g.group(1)] = len(v) if isinstance(v, list) else 1
                taken.append(sum(slots.values()) / len(slots))
                multi.append(sum(1 for k, v in a.items() if k.endswith(('/mixer', '/op'))
                                 and isinstance(v, list) and len(v) > 1))
            row = {'valid WAF': _mean_std([m['valid']['waf'] for m in ms]),
                   'test WAF': _mean_std([m['test']['waf'] for m in ms]),
                   'test Acc-2': _mean_std([m['test']['acc2'] for m in ms]),
                   'test MAE': _mean_std([m['test']['mae'] for m in ms])}
            for col, v in (('Cell inputs taken', taken), ('choices keeping > 1', multi)):
                m, sd = _mean_std(v)
                row[col] = m if sd == 0 else (m, sd)
            row.update({f'seed {i}': m['valid']['waf'] for i, m in enumerate(ms)})
            out[(sel, der)] = row
    return out


def src_fusion_gates_default(ctx):
    """Its default row's test columns are the stored sweep's r = 0.5 cells (the options off change nothing)."""
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    return {('one_of_n', 'argmax'): {'test WAF': s.mean_std('full', 'waf', 'mean', rate=0.5),
                                     'test Acc-2': s.mean_std('full', 'acc2', 'mean', rate=0.5),
                                     'test MAE': s.mean_std('full', 'mae', 'mean', rate=0.5)}}



def src_readme_text_leak(ctx):
    """README, "Precomputed BERT features": the label in the [CLS] vector, r = 1.0."""
    d = json.loads((ctx.path('text_leak') / 'text_leak.json').read_text())
    return [d['rate'], d['test_mae_cls_kept'], d['test_mae_cls_dropped'], d['constant_predictor_test_mae']]


def _redraw(ctx):
    """Test WAF over r = 0.3 / 0.5 / 0.7 x 3 seeds: with re-drawn training masks, and the same cells without."""
    out = []
    for name, path, v in (('mosi_redraw_train', 'sweep.csv', 'full'), ('mosi_nas_baselines', 'table.csv', 'RMNAS')):
        s = Sweep(ctx.path(name) / path)
        cells = {x: [s.get(v, 'value', 'waf', rate=r, seed=x) for r in (0.3, 0.5, 0.7)] for x in s.seeds(v)}
        per_seed = [sum(c) / len(c) for c in cells.values()]
        out.append((sum(per_seed) / len(per_seed), min(per_seed), max(per_seed)))
    return out


def src_readme_redraw(ctx):
    (w, wlo, whi), (n, nlo, nhi) = _redraw(ctx)
    return [0.3, 0.5, 0.7, 3, w, n, wlo, whi, nlo, nhi]


def src_benchmarks_redraw(ctx):
    (w, _, _), (n, _, _) = _redraw(ctx)
    return [0.3, 0.5, 0.7, 3, w, n]


def src_quality_diagnosis(ctx):
    """docs/quality.md section 1: one run as landed, and the selection-rules tables."""
    d = ctx.path('mosi_diagnosis')
    with open(d / 'search' / 'metrics.csv', newline='') as fh:
        rows = [r for r in csv.DictReader(fh) if r.get('val_waf')]
    waf = [float(r['val_waf']) for r in rows]
    per_epoch = int(rows[1]['step']) - int(rows[0]['step'])      # Lightning steps: one weight + one α step each
    steps = sorted(abs(b - a) for a, b in zip(waf, waf[1:]))
    median = (steps[(len(steps) - 1) // 2] + steps[len(steps) // 2]) / 2
    m = json.loads((d / 'metrics.json').read_text())
    s = json.loads((d / 'search' / 'summary.json').read_text())
    kept = [md_rows((ctx.path('selection_rules') / f'lr{lr}.md').read_text(),
                    ('select on', 'patience', 'min epochs'))[('mae', 'none', '0')]['mean epoch kept'][0]
            for lr in ('1e-3', '5e-4')]
    split = 'the split of examples/mosi_dialogue.yml'
    one_off = 'the landed sweep\'s cells: a one-off reading, not kept'
    return [m['missing_rate'], SETTING, SETTING, SETTING, SETTING, split, split, max(steps), median,
            *waf[:4], waf[-1], SETTING, kept[0], 'lr 1e-3', kept[1], 'lr 5e-4', SETTING,
            per_epoch, split, per_epoch, split, 'a section number', s['best_epoch'], s['epochs_run'],
            s['choices']['entropy'], 'cells of the sweep', one_off, one_off, one_off, one_off, 'minutes: wall time']


POM_ROWS = {'full (RMNAS)': 'full', 'no_lst': 'no_lst', 'hand_designed': 'hand_designed', 'ridge (peer)': 'ridge',
            'late_fusion (peer)': 'late_fusion'}
POM_COLS = {'MAE ↓': 'mae', 'Corr': 'corr', 'Acc-7': 'acc7', 'Acc-2 (non0)': 'acc2_non0', 'F1 (non0)': 'f1_non0'}


def src_pom_auilc(ctx):
    """docs/results/pom_sentence_sweep/README.md: the AUILC table, from sweep.csv."""
    s = Sweep(ctx.path('pom_sentence_sweep') / 'sweep.csv')
    return {(label,): {c: s.mean_std(v, m, 'AUILC') for c, m in POM_COLS.items()} for label, v in POM_ROWS.items()}


def src_pom_notes(ctx):
    """The same README: the constant predictor and "What it shows"."""
    d = ctx.path('pom_sentence_sweep')
    s = Sweep(d / 'sweep.csv')
    c = json.loads((d / 'peers' / 'constant.json').read_text())
    a = {v: {m: s.get(v, 'AUILC', m) for m in POM_COLS.values()} for v in POM_ROWS.values()}
    acc = [x['acc2_non0'] for x in a.values()]
    rate = 'r = 1.0: a rate'
    return [c['mae'], c['corr'] if c.get('corr') is not None else 'a constant has no correlation', c['acc2_non0'],
            Bound(max(abs(c['mae'] - x['mae']) for x in a.values())), min(acc), max(acc),
            a['full']['mae'], a['no_lst']['mae'], a['hand_designed']['mae'], a['full']['mae'],
            a['full']['mae'], a['late_fusion']['mae'], a['full']['corr'], a['late_fusion']['corr'],
            a['full']['acc2_non0'], a['late_fusion']['acc2_non0'], rate, rate]


def src_readme_pom_data(ctx):
    """README, "Real POM": the sizes of data/pom/pom_mfn.pkl."""
    import pickle
    import numpy as np
    with open(ctx.path('pom_data') / 'pom_mfn.pkl', 'rb') as fh:
        d = pickle.load(fh)
    y = np.concatenate([d[s]['regression_labels'] for s in ('train', 'valid', 'test')])
    return [len(d['train']['id']), len(d['valid']['id']), len(d['test']['id']), d['train']['audio'].shape[2],
            d['train']['vision'].shape[2], d['train']['audio'].shape[1], float(y.min()), float(y.max()),
            d['train']['labels_raw'].shape[1], 'the label column chosen (data/pom/README.md)']


def src_quality_nas_notes(ctx):
    """docs/quality.md section 4: the paragraphs under the tables of the tiny space."""
    s = Sweep(ctx.path('mosi_nas_baselines') / 'table.csv')
    landed = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    peer = peers()
    gc = peer[('GCNet (TPAMI 2023)',)]
    utt = [v for k, v in peer.items() if k[0] in ('Ridge on concatenated features', 'TFN (MMSA)', 'LF-DNN (MMSA)',
                                                  'MFN (MMSA)', 'LMF (MMSA)')]
    auilc = {v: (s.get(v, 'AUILC', 'acc2'), s.get(v, 'AUILC', 'waf'))
             for v in ('RMNAS', 'hand_designed', 'random_arch', 'random_arch (median)')}
    margins = [a[i] - p[c][0] for v, a in auilc.items() if v != 'random_arch (median)'
               for i, c in enumerate(('Acc-2 AUILC', 'WAF AUILC')) for p in utt]
    median_below = max(auilc['random_arch (median)']) < min(p[c][0] for p in utt for c in ('Acc-2 AUILC', 'WAF AUILC'))
    med, med_sd, med_d = paired(s, 'RMNAS', 'random_arch (median)', 'waf')
    rs, rs_sd, _ = paired(s, 'RMNAS', 'random_search', 'waf')
    hd, hd_sd, _ = paired(s, 'RMNAS', 'hand_designed', 'waf')
    seed2 = [s.get('random_arch (median)', 'value', 'waf', rate=r, seed='2') for r in s.rates('random_arch (median)')]
    r_acc, r_waf = auilc['RMNAS']
    waf0 = s.get('RMNAS', 'mean', 'waf', rate=0.0)
    waf7 = s.get('RMNAS', 'mean', 'waf', rate=0.7)
    one_off = 'read once from the cells, not kept'
    cells = len([r for r in s.rows if r['variant'] == 'random_search' and r['stat'] == 'value'])
    assert median_below, 'the text says the median random architecture is below the utterance-level peers'
    return [med, 'seed 2', min(seed2), max(seed2), 'seed 0', 'seed 1', Bound(max(abs(x) for x in med_d[:2])),
            rs, rs_sd, SETTING, one_off, one_off, cells, 'cores', one_off, one_off, one_off, one_off, one_off,
            one_off, 'minutes: a rerun\'s wall time', hd, hd_sd, 'training videos of the split', r_acc, r_waf,
            gc['Acc-2 AUILC'][0], gc['WAF AUILC'][0], r_acc - gc['Acc-2 AUILC'][0], r_waf - gc['WAF AUILC'][0],
            'the goal of the search issue', gc['Acc-2 AUILC'][0] + 1.5, gc['WAF AUILC'][0] + 1.5, 0.7,
            waf7 - gcnet_waf()[0.7], 0, waf0 - gcnet_waf()[0.0], *auilc['hand_designed'], min(margins), max(margins),
            r_acc - landed.get('full', 'AUILC', 'acc2'), r_waf - landed.get('full', 'AUILC', 'waf'),
            landed.get('full', 'AUILC', 'acc2'), landed.get('full', 'AUILC', 'waf'), SETTING, SETTING, 0.5, 'seed 0',
            s.get('RMNAS', 'value', 'waf', rate=0.5, seed='0'), s.get('RMNAS', 'value', 'mae', rate=0.5, seed='0'),
            '24 cells x search.random_k 3']


def src_quality_mid_notes(ctx):
    """docs/quality.md, the mid-sized space: the findings under its tables."""
    mid = Sweep(ctx.path('mosi_mid_nas_baselines') / 'table.csv')
    tiny = Sweep(ctx.path('mosi_nas_baselines') / 'table.csv')
    hd, hd_sd, _ = paired(mid, 'RMNAS', 'hand_designed', 'waf')
    ra, ra_sd, _ = paired(mid, 'RMNAS', 'random_arch', 'waf')
    med, _, med_d = paired(mid, 'RMNAS', 'random_arch (median)', 'waf')
    one_off = 'read once from the mid-space cells, not kept'
    return [hd, hd_sd, ra, ra_sd, med, min(med_d), max(med_d), 'the goal of the search issue',
            mid.get('RMNAS', 'AUILC', 'waf'), tiny.get('RMNAS', 'AUILC', 'waf'),
            peers()[('GCNet (TPAMI 2023)',)]['WAF AUILC'][0], 0, mid.get('RMNAS', 'mean', 'waf', rate=0.0), 0.7,
            'seed 1', mid.get('RMNAS', 'value', 'waf', rate=0.7, seed='1'), *[one_off] * 11,
            'minutes: a rerun\'s wall time']


def utterances_per_video(ctx) -> List[int]:
    import numpy as np
    with np.load(ctx.path('mosi_data') / 'mosi_utterances.npz', allow_pickle=False) as d:
        _, counts = np.unique(d['video_id'], return_counts=True)
    return sorted(int(c) for c in counts)


def src_quality_lst_notes(ctx):
    """docs/quality.md, LST: the paired differences and the settings before."""
    s = Sweep(ctx.path('mosi_lst_ablation') / 'table.csv')
    landed = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    mean, sd, d = paired(s, 'RMNAS', 'no_lst', 'waf')
    n = utterances_per_video(ctx)
    return [mean, sd, *d, landed.get('full', 'AUILC', 'acc2'), landed.get('no_lst', 'AUILC', 'acc2'), n[0], n[-1]]


UTTERANCE_PEERS = ('Ridge on concatenated features', 'TFN (MMSA)', 'LF-DNN (MMSA)', 'MFN (MMSA)', 'LMF (MMSA)')


def src_bench6_goal(ctx):
    """docs/benchmarks.md section 6: the goal's bullets (the sweep as landed against docs/peers.md)."""
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    peer = peers()
    gc, g = peer[('GCNet (TPAMI 2023)',)], gcnet_waf()
    utt = [peer[(k,)] for k in UTTERANCE_PEERS]
    au = {v: {m: s.get(v, 'AUILC', m) for m in ('acc2', 'waf')} for v in ('full', 'no_lst')}
    sd = [s.get('full', 'AUILC std', m) for m in ('acc2', 'waf')]
    acc = lambda v, r: s.get(v, 'mean', 'acc2', rate=r)   # noqa: E731
    waf = lambda v, r: s.get(v, 'mean', 'waf', rate=r)    # noqa: E731
    m_acc = [au['full']['acc2'] - p['Acc-2 AUILC'][0] for p in utt]
    m_waf = [au['full']['waf'] - p['WAF AUILC'][0] for p in utt]
    m7 = [acc('full', 0.7) - p['Acc-2 r=0.7'][0] for p in utt]
    m0 = [acc('full', 0.0) - p['Acc-2 r=0'][0] for p in utt]
    seeds_above = sum(1 for x in s.seeds('no_lst') if s.seed_auilc('no_lst', 'acc2', x) > gc['Acc-2 AUILC'][0]
                      and s.seed_auilc('no_lst', 'waf', x) > gc['WAF AUILC'][0])
    rates = s.rates('full')
    waf_up = sum(1 for r in rates if waf('no_lst', r) > waf('full', r))
    acc_up = sum(1 for r in rates if acc('no_lst', r) >= acc('full', r))
    n = utterances_per_video(ctx)
    return [min(m_acc), max(m_acc), min(m_waf), max(m_waf), 0.7, min(m7), max(m7), 0, min(m0), max(m0),
            au['full']['acc2'] - gc['Acc-2 AUILC'][0], gc['WAF AUILC'][0] - au['full']['waf'], min(sd), max(sd),
            *[s.seed_auilc('full', 'acc2', x) for x in s.seeds('full')],
            0.7, acc('full', 0.7) - gc['Acc-2 r=0.7'][0], waf('full', 0.7) - g[0.7], 0,
            acc('full', 0.0) - gc['Acc-2 r=0'][0], waf('full', 0.0) - g[0.0],
            au['no_lst']['acc2'], au['no_lst']['waf'], au['no_lst']['acc2'] - gc['Acc-2 AUILC'][0],
            au['no_lst']['waf'] - gc['WAF AUILC'][0], seeds_above, len(s.seeds('no_lst')),
            0.7, acc('no_lst', 0.7) - gc['Acc-2 r=0.7'][0], waf('no_lst', 0.7) - g[0.7], 0,
            acc('no_lst', 0.0) - gc['Acc-2 r=0'][0], waf('no_lst', 0.0) - g[0.0],
            waf_up, len(rates), acc_up, n[0], n[-1], n[len(n) // 2]]


def src_bench6_paper_notes(ctx):
    """docs/benchmarks.md section 6: the paper-sized space's seed against GCNet."""
    p = Sweep(ctx.path('mosi_sweep_paper_space') / 'sweep.csv')
    s = Sweep(ctx.path('mosi_sweep') / 'sweep.csv')
    gc, g = peers()[('GCNet (TPAMI 2023)',)], gcnet_waf()
    val = lambda m, r: p.get('full', 'value', m, rate=r, seed='0')   # noqa: E731
    spread = [s.get('full', 'std', m, rate=0.7) for m in ('acc2', 'waf')]
    return [p.get('full', 'AUILC', 'acc2'), p.get('full', 'AUILC', 'waf'), gc['Acc-2 AUILC'][0], gc['WAF AUILC'][0],
            p.get('full', 'AUILC', 'mae'), p.get('full', 'AUILC', 'corr'), 0.7, val('acc2', 0.7) - gc['Acc-2 r=0.7'][0],
            val('waf', 0.7) - g[0.7], 0, gc['Acc-2 r=0'][0] - val('acc2', 0.0), 0.7, min(spread), max(spread)]


def src_quality_tried_notes(ctx):
    """docs/quality.md section 3, "What this shows": the 24-cell table of configurations tried."""
    rows = md_rows((ctx.path('tried_24_cells') / 'tried.md').read_text(), ('configuration',))
    best, best_ez = rows[('export best, argmax',)], rows[('export best, exclude_zero (chosen)',)]
    final, final_ez = rows[('export final (20 epochs), argmax',)], rows[('export final, exclude_zero',)]
    sp = _yaml(ctx, 'search_spaces/tiny.yml')
    one_off = 'read once from the cells, not kept'
    v = lambda r, c: r[c][0]   # noqa: E731
    return [SETTING, v(final, 'entropy at export'), v(final, 'chosen weight'), v(final, 'zero ops'),
            v(final, 'identity mixers'), 'r', 'seed', 'cell', v(final, 'val WAF'), v(best, 'val WAF'),
            v(final, 'test WAF'), v(best, 'test WAF'), v(final_ez, 'val WAF'), v(final_ez, 'identity mixers'),
            v(best_ez, 'val WAF'), v(best, 'val WAF'), v(best_ez, 'val MAE'), v(best, 'val MAE'), SETTING,
            one_off, one_off, v(best, 'exported epoch'), one_off, v(best, 'entropy at export'), '1 = uniform',
            v(best, 'chosen weight'), 1 / len(sp['encoder']['mixers']), 'a uniform weight over 6 fusion inputs',
            1 / len(sp['fusion']['ops']), v(best, 'cells'), SETTING, one_off, one_off]

# ----------------------------------------------------------------------------- the prose of docs/benchmarks.md

SETTING = 'a setting of the benchmark, not a result'
NPLUS1 = 'the 1 of N+1 (a shape)'
ITEM = 'an item number'


def _bench(ctx, name):
    return json.loads((ctx.path('bench') / f'{name}.json').read_text())


def src_bench_lst_method(ctx):
    d = _bench(ctx, 'lst_cost')
    a, rows = d['args'], {r['n']: r for r in d['rows']}
    worst = max(abs(rows[n]['estimate_vs_full'] - 1) for n in (64, 256)) * 100
    return ["Algorithm 1: the paper's name", a['batch'], a['heads'], a['in_dim'], a['full_max'], a['sizes'][-1],
            a['pairs'], Bound(worst), 64, 256, rows[16]['estimate_vs_full'], 16, rows[16]['estimate_pairs']]


def src_bench_lst_share(ctx):
    d = _bench(ctx, 'lst_cost')
    rows = {r['n']: r for r in d['rows']}
    m = rows['mosi']
    slower = min(rows[n]['previous_lst_forward_s'] / rows[n]['lst_forward_s'] for n in (256, 512))
    return [m['supernet_params'] / 1e6, m['batch'], *(['MOSI input size (bench/_common.py)'] * 6),
            m['lst_forward_s'] * 1e3, m['supernet_forward_s'], m['lst_share'] * 100, d['goals'][2]['goal'],
            NPLUS1, NPLUS1, slower, 256, rows[512]['previous_lst_forward_peak_over_output'],
            rows[512]['lst_forward_peak_over_output']]


def src_bench_nni_method(ctx):
    rows = [r for r in _bench(ctx, 'nni_overhead')['rows'] if isinstance(r.get('rep'), int)]
    return ['batch size of examples/quickstart.yml', rows[0]['steps'], max(r['max_arch_diff'] for r in rows), len(rows)]


def src_bench_nni_notes(ctx):
    d = _bench(ctx, 'nni_overhead')
    goal = d['goals'][0]['goal']
    reps = [r['ratio'] for r in d['rows'] if isinstance(r.get('rep'), int)]
    med = next(r for r in d['rows'] if r.get('rep') == 'median')
    svr = next(r for r in _bench(ctx, 'search_vs_retrain')['rows'] if r['measure'] == 'time')
    return [goal, min(reps), max(reps), goal, med['ratio_stock_log'], med['ratio'], ITEM,
            svr['ratio_search_step_nni_arch_step'], svr['ratio_search_step'],
            med['nni_epoch_s'] - med['hand_epoch_s'], goal]


def src_bench_svr_notes(ctx):
    return [_bench(ctx, 'search_vs_retrain')['goals'][0]['goal'], NPLUS1, NPLUS1, ITEM]


def src_bench_roofline(ctx):
    d = _bench(ctx, 'roofline')
    r, prof = d['rows'][0], d['rows'][1]['profile']
    shape = [float(x) for x in r['ffn_gemm_shape'].replace('@', 'x').split('x')]
    share = [prof[k]['share'] * 100 for k in ('matrix products', 'element-wise / reductions', 'dropout', 'softmax',
                                              'copies / layout', 'layer norm')]
    return [SETTING, d['machine']['torch_threads'], r['step_flops'] / 1e9, r['step_s'], r['achieved_flops_per_s'] / 1e9,
            r['matmul_size'], r['matmul_size'], r['matmul_flops_per_s'] / 1e9, *shape, r['ffn_gemm_flops_per_s'] / 1e9,
            r['ratio'], *r['ratio_per_rep'], d['goals'][0]['goal'], *share, 'the limit (a ratio of 1)',
            r['matmul_size']]


def _scaling(ctx):
    return _bench(ctx, 'scaling')['rows']


def src_bench_scaling_setup(ctx):
    d = _bench(ctx, 'scaling')
    steps = [r for r in d['rows'] if 'step_s' in r and r['model'] == 'fixed' and r['batch'] == 8]
    n = {r['scale']: r['n_vision'] for r in steps}
    return [SETTING, SETTING, d['args']['d_model'], d['args']['blocks'], max(n), n[0.25], n[0.5], n[1.0],
            '2N: a length', '4N: a length']


def src_bench_scaling_notes(ctx):
    import math
    rows = _scaling(ctx)
    batch = {r['model']: r for r in rows if 'exponent_time_batch' in r}
    step = {(r['model'], r['batch'], r['scale']): r['step_s'] for r in rows if 'step_s' in r}
    slope = {(m, b): math.log2(step[(m, b, 1.0)] / step[(m, b, 0.5)]) for m, b, s in step if s == 1.0}
    noisy = ('supernet', 32)
    rest = [v for k, v in slope.items() if k != noisy]
    saved = {r['model']: r for r in rows if r.get('analysis') == 'saved_for_backward'}
    mod = {m: {x['module']: x for x in saved[m]['by_module']} for m in saved}
    peak = next(r for r in rows if r.get('analysis') == 'lst_forward_peak' and not r['grad'])
    f, s = saved['fixed'], saved['supernet']
    return [batch['fixed']['exponent_time_batch'], batch['supernet']['exponent_time_batch'],
            batch['fixed']['exponent_live_tensor_memory_batch'], '2N: a length', '4N: a length',
            min(rest), max(rest), slope[noisy], noisy[1], f['n'], f['batch'],
            f['total_mb'], f['square_mb'] / f['total_mb'] * 100, NPLUS1, NPLUS1,
            mod['fixed']['Attention']['saved_mb'], mod['fixed']['FFN']['saved_mb'], mod['fixed']['LST']['saved_mb'],
            s['total_mb'], s['square_mb'] / s['total_mb'] * 100, mod['supernet']['Attention']['saved_mb'],
            mod['supernet']['RandomMixer']['saved_mb'], mod['supernet']['FFN']['saved_mb'],
            mod['supernet']['PoolMixer']['saved_mb'], mod['supernet']['LST']['saved_mb'],
            peak['peak_over_output'], peak['previous_peak_over_output'], ITEM,
            mod['fixed']['LST']['share'] * 100, mod['supernet']['LST']['share'] * 100, s['total_mb'] / f['total_mb']]


def src_bench_threads(ctx):
    d = _bench(ctx, 'threads')
    one, two, passive = d['rows']
    return [two['threads'], two['ratio_to_1_thread'], one['threads'], d['machine']['nproc'],
            passive['ratio_to_1_thread'], 'the recommended setting']


def src_bench_sweep_jobs_notes(ctx):
    d = json.loads((ctx.path('sweep_jobs') / 'sweep_jobs.json').read_text())
    h = json.loads((ctx.path('sweep_jobs_held') / 'sweep_jobs_one_core_held.json').read_text())
    rows, held = {r['jobs']: r for r in d['rows']}, {r['jobs']: r for r in h['rows']}
    return [d['cores'], rows[1]['load_before'], rows[2]['speedup'], Bound(rows[2]['speedup']),
            held[2]['speedup'], held[1]['seconds'], held[2]['seconds']]




BENCH_SCRIPTS = ('lst_cost', 'nni_overhead', 'search_vs_retrain', 'roofline', 'scaling', 'threads',
                 'gpu_paper_size_dry_run')


def src_bench_machine(ctx):
    """docs/benchmarks.md, the machine and the command: the machine record of every bench/all result file."""
    import datetime as dt
    import re
    every = [_bench(ctx, n) for n in BENCH_SCRIPTS]
    for key in ('nproc', 'python', 'torch', 'blas', 'torch_threads'):
        assert len({str(r['machine'][key]) for r in every}) == 1, f'the result files differ in machine.{key}'
    # date, load and wall time: the timed CPU benchmarks; the GPU script's dry run (seconds, checks only
    # that its code runs) is regenerated on its own whenever that script changes
    runs = [r for n, r in zip(BENCH_SCRIPTS, every) if n != 'gpu_paper_size_dry_run']
    ms = [r['machine'] for r in runs]
    m = ms[0]
    loads = sorted(x['load_avg_1_5_15'][2] for x in ms)
    t0 = [dt.datetime.fromisoformat(x['date']) for x in ms]
    end = max(t + dt.timedelta(seconds=r['wall_seconds']) for t, r in zip(t0, runs))
    not_recorded = 'not in the machine record'
    return [m['nproc'], not_recorded, float('.'.join(m['python'].split('.')[:2])),
            float('.'.join(m['torch'].split('.')[:2])), float(re.search(r'Version (\d+\.\d+)', m['blas']).group(1)),
            not_recorded, not_recorded, m['torch_threads'], runs[0]['args']['threads'], loads[len(loads) // 2],
            min(t0).year, 'items', 'items', (end - min(t0)).total_seconds() / 60]


def src_readme_benchmarks(ctx):
    """README, "Benchmarks": the machine's cores and the NNI overhead."""
    d = _bench(ctx, 'nni_overhead')
    return [d['machine']['nproc'], ITEM, ITEM, d['goals'][0]['value'], ITEM, ITEM]


def _yaml(ctx, path):
    import yaml
    return yaml.safe_load((ctx.path('configs') / path).read_text())


def src_bench_svr_setup(ctx):
    """docs/benchmarks.md section 3: the paper's space as search_spaces/rmnas.yml holds it."""
    sp = _yaml(ctx, 'search_spaces/rmnas.yml')
    e, f = sp['encoder'], sp['fusion']
    return [e['d_model'], e['n_blocks'], e['n_heads'], e['ffn_ratio'], f['n_cells'], f['n_steps'], f['width'],
            'batch of bench/search_vs_retrain.py']


def src_bench_mosi_data(ctx):
    """docs/benchmarks.md section 6: the split (the MOSI file, examples/mosi_dialogue.yml) and the CPU-sized space."""
    import numpy as np
    cfg, sp = _yaml(ctx, 'examples/mosi_dialogue.yml'), _yaml(ctx, 'search_spaces/tiny.yml')
    every = cfg['data']['options']['valid_every']
    with np.load(ctx.path('mosi_data') / 'mosi_utterances.npz', allow_pickle=False) as d:
        video, split, label = d['video_id'], d['split'], d['label']
    train = sorted(set(video[split == 'train']))
    test_videos = sorted(set(video[split == 'test']))
    test = [v for i, v in enumerate(test_videos) if i % every != 0]
    in_test = np.isin(video, test)
    return [len(train), every, 0, len(test), int(in_test.sum()), int((in_test & (label != 0)).sum()),
            "the method's section", 'the kept fraction 1 - r', 0, 0.7, sp['encoder']['d_model'],
            sp['encoder']['n_heads'], sp['encoder']['n_blocks'], sp['fusion']['n_cells'], sp['fusion']['n_steps'],
            cfg['search']['epochs'], cfg['retrain']['epochs']]


def _mosi_3class_test(ctx):
    """The 3-class test labels of examples/mosi_dialogue_3class.yml (its bins, the honest split's test videos)."""
    import numpy as np
    cfg = _yaml(ctx, 'examples/mosi_dialogue_3class.yml')
    every, bins = cfg['data']['options']['valid_every'], cfg['data']['options']['label_bins']
    with np.load(ctx.path('mosi_data') / 'mosi_utterances.npz', allow_pickle=False) as d:
        video, split, label = d['video_id'], d['split'], d['label']
    videos = sorted(set(video[split == 'test']))
    test = np.isin(video, [v for i, v in enumerate(videos) if i % every != 0])
    return bins, np.digitize(label[test].astype(np.float64), bins)


def _constant_wf1(ctx):
    import numpy as np
    from rmnas_nni.metrics import weighted_f1
    _, y = _mosi_3class_test(ctx)
    return 100 * weighted_f1(y, np.full_like(y, y.max()))


def src_quality_3class_data(ctx):
    """docs/quality.md, the 3-class example: the bins, the test shares and the constant predictor."""
    bins, y = _mosi_3class_test(ctx)
    return [bins[0], bins[1], *[100 * (y == k).mean() for k in range(3)], _constant_wf1(ctx), 0, 0.7, 'seed', 'seed']


def src_quality_3class_notes(ctx):
    s = Sweep(ctx.path('mosi_3class') / 'table.csv')
    hd, hd_sd, _ = paired(s, 'RMNAS', 'hand_designed', 'waf')
    ra, ra_sd, _ = paired(s, 'RMNAS', 'random_arch', 'waf')
    return [_constant_wf1(ctx), hd, hd_sd, ra, ra_sd, 'a section number']


def fusion_gates_notes(rows, space) -> list:
    """The "Reading" of docs/results/fusion_gates_derivation.md from its table's rows (src_fusion_gates)."""
    def mean(x):
        return x[0] if isinstance(x, (list, tuple)) else x
    gt, oa = rows[('gates', 'threshold')], rows[('one_of_n', 'argmax')]
    ga, ot = rows[('gates', 'argmax')], rows[('one_of_n', 'threshold')]
    valid = [mean(r['valid WAF']) for r in rows.values()]
    sds = [r['valid WAF'][1] for r in rows.values()]
    taken = ga['Cell inputs taken']
    n_choices = 3 * space['encoder']['n_blocks'] + space['fusion']['n_cells'] * space['fusion']['n_steps']
    return [*gt['valid WAF'], 'seed 0', oa['seed 0'], gt['seed 0'], 'seed 1', 'seed 2', ga['seed 1'], gt['seed 1'],
            ga['seed 2'], gt['seed 2'], max(valid) - min(valid), min(sds), max(sds), 'validation videos',
            'the missing rate', 'a 2-way gate', SETTING, 'the gates\' initial weight',
            mean(gt['Cell inputs taken']), 'candidates of a Cell input', 'candidates of a Cell input',
            taken[0] - taken[1], taken[0] + taken[1], mean(ot['choices keeping > 1']), n_choices]


def src_fusion_gates_notes(ctx):
    return fusion_gates_notes(src_fusion_gates(ctx), _yaml(ctx, 'search_spaces/tiny.yml'))


def src_quality_selection_notes(ctx):
    """docs/quality.md section 2, "Decisions": the selection-rules tables and the example config's patience."""
    rules = {lr: md_rows((ctx.path('selection_rules') / f'lr{lr}.md').read_text(), ('select on', 'patience', 'min epochs'))
             for lr in ('1e-3', '5e-4')}
    waf5, mae5 = rules['5e-4'][('waf', '8', '0')], rules['5e-4'][('mae', '8', '10')]
    mae3 = rules['1e-3'][('mae', '8', '10')]
    cfg = _yaml(ctx, 'examples/mosi_dialogue.yml')
    col = 'cross-fold val '
    assert mae3[col + 'MAE'][0] < mae5[col + 'MAE'][0], 'the text says lr 1e-3 has the lower MAE'
    return ['lr 1e-3', 'lr 5e-4', mae5[col + 'MAE'][0] - waf5[col + 'MAE'][0], SETTING, SETTING,
            cfg['search']['patience'], cfg['retrain']['patience'], 'the search issue\'s epoch (not re-measured)',
            'lr 1e-3', Bound(abs(mae5[col + 'WAF'][0] - mae3[col + 'WAF'][0])), 'lr 1e-3']


def src_quality_warmup_notes(ctx):
    rows = md_rows((ctx.path('warmup_24_cells') / 'tried.md').read_text(), ('configuration',))
    s = Sweep(ctx.path('warmup_24_cells') / 'table.csv')
    mean, sd, _ = paired(s, 'warmup5', 'defaults', 'waf')
    return [mean, sd, rows[('defaults + 5 warm-up epochs (options.warmup_epochs 5)',)]['identity mixers'][0]]


POLICIES = 'mosi_mid_validation_policies'


def src_quality_mid_policies(ctx):
    """docs/quality.md, validation-only policies: the AUILC table, from validation_policies.csv."""
    s = Sweep(ctx.path(POLICIES) / 'validation_policies.csv')
    out = {}
    for v in s.variants:
        r = {c: s.mean_std(v, m, 'AUILC') for c, m in AUILC_COLS.items()}
        r['WAF r = 0'] = s.mean_std(v, 'waf', 'mean', rate=0.0)
        r['WAF r = 0.7'] = s.mean_std(v, 'waf', 'mean', rate=0.7)
        out[(v,)] = r
    return out


def src_quality_mid_policies_waf(ctx):
    """Test WAF per rate of every row but the random median (in the AUILC table only)."""
    s = Sweep(ctx.path(POLICIES) / 'validation_policies.csv')
    return {(v,): {f'r = {rate_label(r)}': s.mean_std(v, 'waf', 'mean', rate=r) for r in s.rates(v)}
            for v in s.variants if v != 'random_arch (median)'}


POLICY_PAIRS = ([(p, ref) for ref in ('RMNAS', 'hand_designed') for p in (
    'fallback (RMNAS or hand)', 'fallback (of 5)', 'ensemble (RMNAS + hand)', 'ensemble (RMNAS + hand + random)',
    'ensemble (hand + random)')] + [('ensemble (RMNAS + hand)', 'ensemble (hand + random)')])


def src_quality_mid_policies_paired(ctx):
    s = Sweep(ctx.path(POLICIES) / 'validation_policies.csv')
    out = {}
    for a, b in POLICY_PAIRS:
        mean, std, d = paired(s, a, b, 'waf')
        out[(a, b)] = {'mean ± std': (mean, std), 'per seed (0, 1, 2)': d}
    return out


def src_quality_mid_policies_tried(ctx):
    """Validation beside test, mean over the cells of validation_policies_cells.csv."""
    s = Sweep(ctx.path(POLICIES) / 'validation_policies.csv')
    with open(ctx.path(POLICIES) / 'validation_policies_cells.csv', newline='') as fh:
        cells = list(csv.DictReader(fh))
    out = {}
    for v in ('RMNAS', 'hand_designed', 'random_arch', 'fallback (RMNAS or hand)', 'fallback (of 5)',
              'ensemble (RMNAS + hand)', 'ensemble (RMNAS + hand + random)', 'ensemble (hand + random)'):
        rows = [c for c in cells if c['variant'] == v]
        mean = {k: sum(float(c[k]) for c in rows) / len(rows) for k in ('valid_waf', 'valid_mae', 'waf', 'mae')}
        out[(v,)] = {'cells': len(rows), 'val WAF': mean['valid_waf'], 'val MAE': mean['valid_mae'],
                     'test WAF': mean['waf'], 'test MAE': mean['mae'],
                     'test WAF AUILC': s.mean_std(v, 'waf', 'AUILC')}
    return out


# ----------------------------------------------------------------------------- entries

SEARCH_COLS = ('exported epoch', 'entropy at export', 'chosen weight')
REDERIVED = ('the document\'s exclude_zero rows re-derived the searches of the row above and retrained '
             'the changed cells with rmnas retrain, which records no search: its search columns average '
             'the copied cells only; a fresh sweep records every search')

ENTRIES = [
    Entry('readme-quickstart', 'README.md', 'readme-quickstart', ('quickstart',), src_quickstart,
          parse='text', row_labels=('valid (best epoch)', 'test'), complete=True),
    Entry('readme-threads', 'README.md', 'readme-threads', ('quickstart', 'quickstart_threads2'),
          src_readme_threads, parse='prose'),
    Entry('readme-sweep-example', 'README.md', 'readme-sweep-example', ('sweep_example',), src_sweep_example,
          keys=('variant', 'rate')),
    Entry('readme-param-count', 'README.md', 'readme-param-count', ('param_count',), src_readme_param_count,
          parse='prose'),
    Entry('readme-text-leak', 'README.md', 'readme-text-leak', ('text_leak',), src_readme_text_leak, parse='prose'),
    Entry('readme-redraw', 'README.md', 'readme-redraw', ('mosi_redraw_train', 'mosi_nas_baselines'),
          src_readme_redraw, parse='prose'),
    Entry('readme-pom-data', 'README.md', 'readme-pom-data', ('pom_data',), src_readme_pom_data, parse='prose'),
    Entry('readme-benchmarks', 'README.md', 'readme-benchmarks', ('bench',), src_readme_benchmarks, tolerance=0.3,
          parse='prose'),
    Entry('readme-ensemble', 'README.md', 'readme-ensemble', ('mosi_seed_ensemble', 'mosi_nas_baselines', 'mosi_sweep'),
          src_readme_ensemble, parse='prose'),
    Entry('readme-mosi', 'README.md', 'readme-mosi', ('mosi_sweep', 'mosi_sweep_paper_space'), src_readme_mosi,
          parse='prose', note='peers: docs/peers.md; two wall times (6-9 minutes) are not compared'),
    Entry('results-mosi-dialogue-sweep', 'docs/results/mosi_dialogue_sweep/sweep.md', None, ('mosi_sweep',),
          src_results_sweep('mosi_sweep'), complete=True),
    Entry('results-pom-sentence-sweep', 'docs/results/pom_sentence_sweep/sweep.md', None, ('pom_sentence_sweep',),
          src_results_sweep('pom_sentence_sweep'), complete=True),
    Entry('results-pom-auilc', 'docs/results/pom_sentence_sweep/README.md', 'results-pom-auilc',
          ('pom_sentence_sweep',), src_pom_auilc, keys=('variant',), complete=True),
    Entry('results-pom-notes', 'docs/results/pom_sentence_sweep/README.md', 'results-pom-notes',
          ('pom_sentence_sweep',), src_pom_notes, parse='prose'),
    Entry('results-mosi-paper-space', 'docs/results/mosi_dialogue_sweep_paper_space/sweep.md', None,
          ('mosi_sweep_paper_space',), src_results_sweep('mosi_sweep_paper_space'), complete=True),
    Entry('results-mosi-nas-baselines', 'docs/results/mosi_nas_baselines/table.md', None, ('mosi_nas_baselines',),
          src_results_table('mosi_nas_baselines'), keys=('variant', 'rate', 'seed', 'RMNAS minus'), complete=True),
    Entry('results-mosi-lst-ablation', 'docs/results/mosi_lst_ablation/table.md', None, ('mosi_lst_ablation',),
          src_results_table('mosi_lst_ablation'), keys=('variant', 'rate', 'seed', 'RMNAS minus'), complete=True),
    Entry('results-fusion-gates', 'docs/results/fusion_gates_derivation.md', 'fusion-gates', ('fusion_gates',),
          src_fusion_gates, keys=('input selection', 'derivation'), complete=True,
          note='the two architecture columns are computed from each cell\'s arch.json; the original '
               'cells were not kept, so that reading is checked only by a rerun'),
    Entry('results-fusion-gates-notes', 'docs/results/fusion_gates_derivation.md', 'fusion-gates-notes',
          ('fusion_gates', 'configs'), src_fusion_gates_notes, parse='prose'),
    Entry('results-fusion-gates-default', 'docs/results/fusion_gates_derivation.md', 'fusion-gates',
          ('mosi_sweep',), src_fusion_gates_default, keys=('input selection', 'derivation'),
          skip_rows={(k,): 'only with --all (results-fusion-gates)' for k in ('gates',)} | {
              ('one_of_n', 'threshold'): 'only with --all (results-fusion-gates)'},
          skip_cols={c: 'only with --all (results-fusion-gates)' for c in (
              'valid WAF', 'Cell inputs taken', 'choices keeping > 1', 'seed 0', 'seed 1', 'seed 2')}),
    Entry('results-selection-rules-lr1e-3', 'docs/results/selection_rules/lr1e-3.md', None, ('selection_rules',),
          lambda ctx: md_rows((ctx.path('selection_rules') / 'lr1e-3.md').read_text(),
                              ('select on', 'patience', 'min epochs')),
          keys=('select on', 'patience', 'min epochs'), complete=True, regenerated_only=True),
    Entry('results-selection-rules-lr5e-4', 'docs/results/selection_rules/lr5e-4.md', None, ('selection_rules',),
          lambda ctx: md_rows((ctx.path('selection_rules') / 'lr5e-4.md').read_text(),
                              ('select on', 'patience', 'min epochs')),
          keys=('select on', 'patience', 'min epochs'), complete=True, regenerated_only=True),
    Entry('benchmarks-goals', 'docs/benchmarks.md', 'benchmarks-goals',
          ('bench', 'mosi_sweep', 'mosi_sweep_paper_space'), src_bench_goals, tolerance=0.3, keys=('#', 'figure'),
          skip_rows={('7', 'GPU, paper size'): 'not measured (no GPU lent yet)'},
          note='rows 1-5 are timings (30 % when regenerated); row 6 comes from the MOSI sweeps and '
               'docs/peers.md'),
    Entry('benchmarks-lst-cost', 'docs/benchmarks.md', 'benchmarks-lst-cost', ('bench',), src_bench_lst,
          tolerance=0.3, keys=('N',), complete=True),
    Entry('benchmarks-nni-overhead', 'docs/benchmarks.md', 'benchmarks-nni-overhead', ('bench',),
          src_bench_nni_overhead, tolerance=0.3, keys=('',), complete=True),
    Entry('benchmarks-search-vs-retrain', 'docs/benchmarks.md', 'benchmarks-search-vs-retrain', ('bench',),
          src_bench_search_vs_retrain, tolerance=0.3, keys=('',), complete=True),
    Entry('benchmarks-scaling', 'docs/benchmarks.md', 'benchmarks-scaling', ('bench',), src_bench_scaling,
          tolerance=0.3, keys=('model', 'batch'), complete=True),
    Entry('benchmarks-machine', 'docs/benchmarks.md', 'benchmarks-machine', ('bench',), src_bench_machine,
          tolerance=0.3, parse='prose', note='the wall time of bench/all: from the first start to the last end '
                                             'recorded in the result files'),
    Entry('benchmarks-lst-method', 'docs/benchmarks.md', 'benchmarks-lst-method', ('bench',), src_bench_lst_method,
          tolerance=0.3, parse='prose'),
    Entry('benchmarks-lst-share', 'docs/benchmarks.md', 'benchmarks-lst-share', ('bench',), src_bench_lst_share,
          tolerance=0.3, parse='prose'),
    Entry('benchmarks-nni-method', 'docs/benchmarks.md', 'benchmarks-nni-method', ('bench',), src_bench_nni_method,
          parse='prose'),
    Entry('benchmarks-nni-notes', 'docs/benchmarks.md', 'benchmarks-nni-notes', ('bench',), src_bench_nni_notes,
          tolerance=0.3, parse='prose'),
    Entry('benchmarks-svr-notes', 'docs/benchmarks.md', 'benchmarks-svr-notes', ('bench',), src_bench_svr_notes,
          parse='prose'),
    Entry('benchmarks-svr-setup', 'docs/benchmarks.md', 'benchmarks-svr-setup', ('configs',), src_bench_svr_setup,
          parse='prose'),
    Entry('benchmarks-roofline', 'docs/benchmarks.md', 'benchmarks-roofline', ('bench',), src_bench_roofline,
          tolerance=0.3, parse='prose', note='the FLOP count and the matrix shapes do not vary; the rest are timings'),
    Entry('benchmarks-scaling-setup', 'docs/benchmarks.md', 'benchmarks-scaling-setup', ('bench',),
          src_bench_scaling_setup, parse='prose'),
    Entry('benchmarks-scaling-notes', 'docs/benchmarks.md', 'benchmarks-scaling-notes', ('bench',),
          src_bench_scaling_notes, tolerance=0.3, parse='prose'),
    Entry('benchmarks-threads', 'docs/benchmarks.md', 'benchmarks-threads', ('bench',), src_bench_threads,
          tolerance=0.3, parse='prose'),
    Entry('benchmarks-sweep-jobs', 'docs/benchmarks.md', 'benchmarks-sweep-jobs', ('sweep_jobs',),
          src_bench_sweep_jobs, tolerance=0.3, keys=('jobs',), complete=True),
    Entry('benchmarks-sweep-jobs-notes', 'docs/benchmarks.md', 'benchmarks-sweep-jobs-notes',
          ('sweep_jobs', 'sweep_jobs_held'), src_bench_sweep_jobs_notes, tolerance=0.3, parse='prose',
          note='the earlier run (one core held by another job) cannot be regenerated on demand: it needs that load'),
    Entry('benchmarks-redraw', 'docs/benchmarks.md', 'benchmarks-redraw', ('mosi_redraw_train', 'mosi_nas_baselines'),
          src_benchmarks_redraw, parse='prose'),
    Entry('results-mosi-redraw-train', 'docs/results/mosi_redraw_train/sweep.md', None, ('mosi_redraw_train',),
          src_results_sweep('mosi_redraw_train'), complete=True),
    Entry('benchmarks-mosi', 'docs/benchmarks.md', 'benchmarks-mosi', ('mosi_sweep',), src_bench6_main,
          keys=('model',), note='peer rows: docs/peers.md, measured by the peers\' own code'),
    Entry('benchmarks-mosi-waf', 'docs/benchmarks.md', 'benchmarks-mosi-waf', ('mosi_sweep',), src_bench6_waf,
          keys=('r',), note=f'GCNet row: {GCNET_CSV} (from docs/peers.md)', complete=True),
    Entry('benchmarks-mosi-data', 'docs/benchmarks.md', 'benchmarks-mosi-data', ('configs', 'mosi_data'),
          src_bench_mosi_data, parse='prose'),
    Entry('benchmarks-mosi-goal', 'docs/benchmarks.md', 'benchmarks-mosi-goal', ('mosi_sweep', 'mosi_data'),
          src_bench6_goal, parse='prose', note='peers: docs/peers.md and ' + GCNET_CSV),
    Entry('benchmarks-mosi-paper-notes', 'docs/benchmarks.md', 'benchmarks-mosi-paper-notes',
          ('mosi_sweep_paper_space', 'mosi_sweep'), src_bench6_paper_notes, parse='prose',
          note='peers: docs/peers.md and ' + GCNET_CSV),
    Entry('benchmarks-mosi-paper-space', 'docs/benchmarks.md', 'benchmarks-mosi-paper-space',
          ('mosi_sweep_paper_space', 'mosi_sweep'), src_bench6_paper, keys=('r',), complete=True),
    Entry('quality-diagnosis', 'docs/quality.md', 'quality-diagnosis', ('mosi_diagnosis', 'selection_rules'),
          src_quality_diagnosis, parse='prose',
          note='the epochs and entropies of the 24 landed cells were read once from cells that were not kept'),
    Entry('quality-selection-rules', 'docs/quality.md', 'quality-selection-rules', ('selection_rules',),
          src_quality_rules, keys=('setting',), complete=True),
    Entry('quality-selection-notes', 'docs/quality.md', 'quality-selection-notes', ('selection_rules', 'configs'),
          src_quality_selection_notes, parse='prose'),
    Entry('quality-tried-screening', 'docs/quality.md', 'quality-tried-screening', ('tried_screening',),
          src_quality_tried('tried_screening'), keys=('configuration',), complete=True),
    Entry('quality-tried-24-cells', 'docs/quality.md', 'quality-tried-24-cells', ('tried_24_cells',),
          src_quality_tried('tried_24_cells'), keys=('configuration',), complete=True,
          skip_cells={(('export best, exclude_zero (chosen)',), c): REDERIVED for c in SEARCH_COLS} | {
              (('export final, exclude_zero',), c): REDERIVED for c in SEARCH_COLS}),
    Entry('quality-tried-notes', 'docs/quality.md', 'quality-tried-notes', ('tried_24_cells', 'configs'),
          src_quality_tried_notes, parse='prose'),
    Entry('quality-nas-baselines', 'docs/quality.md', 'quality-nas-baselines', ('mosi_nas_baselines', 'mosi_sweep'),
          src_quality_nas, keys=('model',), note='peer rows: docs/peers.md'),
    Entry('quality-nas-paired', 'docs/quality.md', 'quality-nas-paired', ('mosi_nas_baselines',),
          src_paired('mosi_nas_baselines', PAIRED_OTHERS + (('random_search', 'random_search'),)), keys=('other',), complete=True),
    Entry('quality-nas-notes', 'docs/quality.md', 'quality-nas-notes', ('mosi_nas_baselines', 'mosi_sweep'),
          src_quality_nas_notes, parse='prose',
          note='peers: docs/peers.md; the validation epochs and search seconds were read once from cells not kept'),
    Entry('results-mosi-mid-nas-baselines', 'docs/results/mosi_mid_nas_baselines/table.md', None,
          ('mosi_mid_nas_baselines',), src_results_table('mosi_mid_nas_baselines'),
          keys=('variant', 'rate', 'seed', 'RMNAS minus'), complete=True),
    Entry('quality-mid', 'docs/quality.md', 'quality-mid', ('mosi_mid_nas_baselines',), src_quality_mid,
          keys=('model',), complete=True),
    Entry('quality-mid-paired', 'docs/quality.md', 'quality-mid-paired', ('mosi_mid_nas_baselines',),
          src_paired('mosi_mid_nas_baselines'), keys=('other',), complete=True),
    Entry('quality-mid-notes', 'docs/quality.md', 'quality-mid-notes', ('mosi_mid_nas_baselines', 'mosi_nas_baselines'),
          src_quality_mid_notes, parse='prose',
          note='peers: docs/peers.md; the validation figures were read once from cells not kept'),
    Entry('quality-3class-data', 'docs/quality.md', 'quality-3class-data', ('configs', 'mosi_data'),
          src_quality_3class_data, parse='prose'),
    Entry('quality-3class-notes', 'docs/quality.md', 'quality-3class-notes', ('mosi_3class', 'configs', 'mosi_data'),
          src_quality_3class_notes, parse='prose'),
    Entry('quality-lst-notes', 'docs/quality.md', 'quality-lst-notes', ('mosi_lst_ablation', 'mosi_sweep', 'mosi_data'),
          src_quality_lst_notes, parse='prose'),
    Entry('quality-warmup', 'docs/quality.md', 'quality-warmup', ('warmup_24_cells',), src_quality_warmup,
          keys=('configuration',), complete=True,
          skip_cells={(('export best, exclude_zero (defaults)',), c): REDERIVED for c in SEARCH_COLS}),
    Entry('quality-warmup-notes', 'docs/quality.md', 'quality-warmup-notes', ('warmup_24_cells',),
          src_quality_warmup_notes, parse='prose'),
    Entry('quality-arch-data', 'docs/quality.md', 'quality-arch-data', ('mosi_arch_data',), src_quality_arch_data,
          keys=('configuration',), complete=True),
    Entry('quality-exclude-identity', 'docs/quality.md', 'quality-exclude-identity', ('mosi_exclude_identity',),
          src_quality_exclude_identity, keys=('configuration',), complete=True),
    Entry('quality-exclude-identity-notes', 'docs/quality.md', 'quality-exclude-identity-notes',
          ('mosi_exclude_identity',), src_quality_exclude_identity_notes, parse='prose'),
    Entry('quality-gumbel', 'docs/quality.md', 'quality-gumbel', ('mosi_gumbel_darts',), src_quality_gumbel,
          keys=('configuration',), complete=True),
    Entry('quality-gumbel-notes', 'docs/quality.md', 'quality-gumbel-notes', ('mosi_gumbel_darts',),
          src_quality_gumbel_notes, parse='prose'),
    Entry('quality-spos-screening', 'docs/quality.md', 'quality-spos-screening', ('mosi_spos',),
          src_quality_spos_screening, keys=('configuration',), complete=True),
    Entry('quality-spos-all-cells', 'docs/quality.md', 'quality-spos-all-cells', ('mosi_spos',), src_quality_spos,
          keys=('configuration',), complete=True),
    Entry('quality-spos-notes', 'docs/quality.md', 'quality-spos-notes', ('mosi_spos',), src_quality_spos_notes,
          parse='prose', note='search seconds: a one-off reading of the cells, which were not kept'),
    Entry('quality-spos-baselines', 'docs/quality.md', 'quality-spos-baselines', ('mosi_spos', 'mosi_nas_baselines'),
          src_quality_spos_baselines, keys=('model',), complete=True, note='GCNet row: docs/peers.md'),
    Entry('quality-spos-paired', 'docs/quality.md', 'quality-spos-paired', ('mosi_spos',), src_quality_spos_paired,
          keys=('other',), complete=True),
    Entry('quality-spos-ensemble', 'docs/quality.md', 'quality-spos-ensemble',
          ('mosi_spos_ensemble', 'mosi_nas_baselines', 'mosi_sweep'), src_quality_spos_ensemble, keys=('model',),
          complete=True, note='GCNet row: docs/peers.md'),
    Entry('quality-spos-ensemble-paired', 'docs/quality.md', 'quality-spos-ensemble-paired', ('mosi_spos_ensemble',),
          src_quality_spos_ensemble_paired, keys=('other',), complete=True),
    Entry('quality-spos-ensemble-notes', 'docs/quality.md', 'quality-spos-ensemble-notes',
          ('mosi_spos_ensemble', 'mosi_seed_ensemble', 'mosi_nas_baselines', 'mosi_sweep'),
          src_quality_spos_ensemble_notes, parse='prose', note='GCNet: docs/peers.md'),
    Entry('quality-spos-mid', 'docs/quality.md', 'quality-spos-mid', ('mosi_spos_mid',),
          src_spos_tried('mosi_spos_mid', 'DARTS (defaults)'), keys=('configuration',), complete=True),
    Entry('quality-spos-mid-paired', 'docs/quality.md', 'quality-spos-mid-paired', ('mosi_spos_mid',),
          src_spos_paired('mosi_spos_mid'), keys=('other',), complete=True),
    Entry('quality-spos-mid-notes', 'docs/quality.md', 'quality-spos-mid-notes', ('mosi_spos_mid',),
          src_quality_spos_mid_notes, parse='prose', note='GCNet: docs/peers.md'),
    Entry('quality-spos-mid-ensemble-tried', 'docs/quality.md', 'quality-spos-mid-ensemble-tried',
          ('mosi_spos_mid_ensemble',), src_quality_spos_mid_ensemble_tried, keys=('configuration',), complete=True),
    Entry('quality-spos-mid-ensemble-table', 'docs/quality.md', 'quality-spos-mid-ensemble-table',
          ('mosi_spos_mid_ensemble',), src_quality_spos_mid_ensemble, keys=('model',), complete=True,
          note='GCNet row: docs/peers.md'),
    Entry('quality-spos-mid-ensemble-paired', 'docs/quality.md', 'quality-spos-mid-ensemble-paired',
          ('mosi_spos_mid_ensemble',), src_quality_spos_mid_ensemble_paired, keys=('other',), complete=True),
    Entry('quality-spos-mid-ensemble-notes', 'docs/quality.md', 'quality-spos-mid-ensemble-notes',
          ('mosi_spos_mid_ensemble',), src_quality_spos_mid_ensemble_notes, parse='prose', note='GCNet: docs/peers.md'),
    Entry('quality-spos-mid-ensemble-size', 'docs/quality.md', 'quality-spos-mid-ensemble-size',
          ('mosi_spos_mid_ensemble_size',), src_quality_spos_mid_ensemble_size, keys=('configuration',),
          complete=True),
    Entry('quality-spos-mid-ensemble-size-paired', 'docs/quality.md', 'quality-spos-mid-ensemble-size-paired',
          ('mosi_spos_mid_ensemble_size',), src_quality_spos_mid_ensemble_size_paired, keys=('members',),
          complete=True),
    Entry('quality-spos-mid-ensemble-size-notes', 'docs/quality.md', 'quality-spos-mid-ensemble-size-notes',
          ('mosi_spos_mid_ensemble_size',), src_quality_spos_mid_ensemble_size_notes, parse='prose'),
    Entry('quality-spos-evolution', 'docs/quality.md', 'quality-spos-evolution', ('mosi_spos_evolution',),
          src_quality_spos_evolution, keys=('space', 'configuration'), complete=True),
    Entry('quality-spos-evolution-paired', 'docs/quality.md', 'quality-spos-evolution-paired',
          ('mosi_spos_evolution',), src_quality_spos_evolution_paired, keys=('evolution minus random',),
          complete=True),
    Entry('quality-spos-candidates', 'docs/quality.md', 'quality-spos-candidates', ('mosi_spos_candidates',),
          src_quality_spos_candidates, keys=('space', 'configuration'), complete=True),
    Entry('quality-spos-candidates-paired', 'docs/quality.md', 'quality-spos-candidates-paired',
          ('mosi_spos_candidates',), src_quality_spos_candidates_paired, keys=('300 minus 100 candidates',),
          complete=True),
    Entry('quality-spos-3class', 'docs/quality.md', 'quality-spos-3class', ('mosi_spos_3class',),
          src_spos_tried('mosi_spos_3class', SPOS_3CLASS_DARTS), keys=('configuration',), complete=True),
    Entry('quality-spos-3class-paired', 'docs/quality.md', 'quality-spos-3class-paired', ('mosi_spos_3class',),
          src_spos_paired('mosi_spos_3class'), keys=('other',), complete=True),
    Entry('quality-spos-3class-notes', 'docs/quality.md', 'quality-spos-3class-notes', ('mosi_spos_3class',),
          src_quality_spos_3class_notes, parse='prose'),
    Entry('quality-spos-baselines-notes', 'docs/quality.md', 'quality-spos-baselines-notes',
          ('mosi_spos', 'mosi_nas_baselines'), src_quality_spos_baselines_notes, parse='prose',
          note='GCNet: docs/peers.md; search seconds: a one-off reading of the cells, which were not kept'),
    Entry('quality-3class', 'docs/quality.md', 'quality-3class', ('mosi_3class',), src_quality_3class,
          keys=('variant',), complete=True),
    Entry('quality-lst', 'docs/quality.md', 'quality-lst', ('mosi_lst_ablation',), src_quality_lst,
          keys=('variant',), complete=True),
    Entry('quality-mid-policies', 'docs/quality.md', 'quality-mid-policies', (POLICIES,), src_quality_mid_policies,
          keys=('variant',), complete=True, note=f'GCNet row: {GCNET_CSV} (from docs/peers.md)'),
    Entry('quality-mid-policies-waf', 'docs/quality.md', 'quality-mid-policies-waf', (POLICIES,),
          src_quality_mid_policies_waf, keys=('variant',), complete=True),
    Entry('quality-mid-policies-paired', 'docs/quality.md', 'quality-mid-policies-paired', (POLICIES,),
          src_quality_mid_policies_paired, keys=('row', 'minus'), complete=True),
    Entry('quality-mid-policies-tried', 'docs/quality.md', 'quality-mid-policies-tried', (POLICIES,),
          src_quality_mid_policies_tried, keys=('configuration',), complete=True),
    Entry('results-mosi-seed-ensemble', 'docs/results/mosi_seed_ensemble/table.md', None, ('mosi_seed_ensemble',),
          src_results_table('mosi_seed_ensemble', 'RMNAS x3'), keys=('variant', 'rate', 'seed', 'RMNAS x3 minus'),
          complete=True),
    Entry('quality-weight-sharing', 'docs/quality.md', 'quality-weight-sharing',
          ('mosi_seed_ensemble', 'mosi_mid_weight_sharing'), src_quality_weight_sharing, keys=('scores compared',),
          complete=True),
    Entry('quality-weight-sharing-notes', 'docs/quality.md', 'quality-weight-sharing-notes',
          ('mosi_seed_ensemble', 'mosi_mid_weight_sharing'), src_quality_weight_sharing_notes, parse='prose'),
    Entry('quality-ema', 'docs/quality.md', 'quality-ema', ('mosi_retrain_ema',), src_quality_ema,
          keys=('configuration',), complete=True),
    Entry('quality-spos-random-search', 'docs/quality.md', 'quality-spos-random-search', ('mosi_spos_random_search',),
          src_quality_spos_random_search, keys=('space', 'configuration'), complete=True),
    Entry('quality-spos-random-search-paired', 'docs/quality.md', 'quality-spos-random-search-paired',
          ('mosi_spos_random_search',), src_quality_spos_random_search_paired, keys=('SPOS minus',), complete=True),
    Entry('quality-spos-epochs', 'docs/quality.md', 'quality-spos-epochs', ('mosi_spos_epochs',),
          src_quality_spos_epochs, keys=('space', 'configuration'), complete=True),
    Entry('quality-spos-epochs-paired', 'docs/quality.md', 'quality-spos-epochs-paired', ('mosi_spos_epochs',),
          src_quality_spos_epochs_paired, keys=('30 minus 10 epochs',), complete=True),
    Entry('quality-spos-short-epochs-paired', 'docs/quality.md', 'quality-spos-short-epochs-paired',
          ('mosi_spos_epochs',), src_quality_spos_short_epochs_paired, keys=('5 minus 10 epochs',), complete=True),
    Entry('quality-paper-random', 'docs/quality.md', 'quality-paper-random', ('mosi_spos_paper_random',),
          src_quality_spos_paper_random, keys=('configuration',), complete=True),
    Entry('quality-paper-random-auilc', 'docs/quality.md', 'quality-paper-random-auilc', ('mosi_spos_paper_random',),
          src_quality_spos_paper_random_auilc, keys=('model',), complete=True),
    Entry('quality-paper-random-paired', 'docs/quality.md', 'quality-paper-random-paired',
          ('mosi_spos_paper_random',), src_quality_spos_paper_random_paired, keys=('SPOS minus',), complete=True),
    Entry('quality-five-seeds', 'docs/quality.md', 'quality-five-seeds', ('mosi_spos_five_seeds',),
          src_quality_five_seeds_tried, keys=('space', 'configuration'), complete=True),
    Entry('quality-five-seeds-auilc', 'docs/quality.md', 'quality-five-seeds-auilc', ('mosi_spos_five_seeds',),
          src_quality_five_seeds_auilc, keys=('space', 'model'), complete=True),
    Entry('quality-five-seeds-paired', 'docs/quality.md', 'quality-five-seeds-paired', ('mosi_spos_five_seeds',),
          src_quality_five_seeds_paired, keys=('SPOS minus',), complete=True),
    Entry('quality-five-seeds-notes', 'docs/quality.md', 'quality-five-seeds-notes', ('mosi_spos_five_seeds',),
          src_quality_five_seeds_notes, parse='prose', note='GCNet: docs/peers.md'),
    Entry('quality-five-seeds-control', 'docs/quality.md', 'quality-five-seeds-control', ('mosi_spos_five_seeds',),
          src_quality_five_seeds_control, parse='prose'),
    Entry('quality-five-seeds-x5', 'docs/quality.md', 'quality-five-seeds-x5', ('mosi_spos_five_seeds_x5',),
          src_quality_five_seeds_x5, keys=('ranking x5 minus',), complete=True),
    Entry('quality-spos-all-modalities', 'docs/quality.md', 'quality-spos-all-modalities',
          ('mosi_spos_all_modalities',), src_quality_spos_all_modalities, keys=('space', 'configuration'),
          complete=True),
    Entry('quality-spos-all-modalities-notes', 'docs/quality.md', 'quality-spos-all-modalities-notes',
          ('mosi_spos_all_modalities',), src_quality_spos_all_modalities_notes, parse='prose'),
    Entry('quality-spread', 'docs/quality.md', 'quality-spread', ('mosi_architecture_spread',),
          src_quality_spread, keys=('test WAF AUILC, five seeds',), complete=True),
    Entry('quality-spread-policies', 'docs/quality.md', 'quality-spread-policies', ('mosi_architecture_spread',),
          src_quality_spread_policies, keys=('one network chosen by',), complete=True),
    Entry('quality-spread-notes', 'docs/quality.md', 'quality-spread-notes',
          ('mosi_architecture_spread', 'mosi_spos_five_seeds'),
          src_quality_spread_notes, parse='prose'),
    Entry('quality-five-seeds-x5-notes', 'docs/quality.md', 'quality-five-seeds-x5-notes', ('mosi_spos_five_seeds_x5',),
          src_quality_five_seeds_x5_notes, parse='prose', note='GCNet: docs/peers.md'),
    Entry('quality-spos-folds', 'docs/quality.md', 'quality-spos-folds', ('mosi_spos_folds',),
          src_quality_spos_folds, keys=('space', 'configuration'), complete=True),
    Entry('quality-spos-folds-paired', 'docs/quality.md', 'quality-spos-folds-paired', ('mosi_spos_folds',),
          src_quality_spos_folds_paired, keys=('folds minus validation only',), complete=True),
    Entry('quality-ranking-ensemble-tried', 'docs/quality.md', 'quality-ranking-ensemble-tried',
          ('mosi_spos_ranking_ensemble',), src_quality_ranking_ensemble_tried, keys=('space', 'configuration'),
          complete=True),
    Entry('quality-ranking-ensemble-vs-seeds', 'docs/quality.md', 'quality-ranking-ensemble-vs-seeds',
          ('mosi_spos_ranking_ensemble',), src_quality_ranking_ensemble_vs_seeds,
          keys=('ranking minus seeds',), complete=True),
    Entry('quality-ranking-ensemble-auilc', 'docs/quality.md', 'quality-ranking-ensemble-auilc',
          ('mosi_spos_ranking_ensemble', 'mosi_spos_ensemble', 'mosi_spos_mid_ensemble'),
          src_quality_ranking_ensemble, keys=('space', 'model'), complete=True),
    Entry('quality-ranking-ensemble-paired', 'docs/quality.md', 'quality-ranking-ensemble-paired',
          ('mosi_spos_ranking_ensemble', 'mosi_spos_ensemble', 'mosi_spos_mid_ensemble'),
          src_quality_ranking_ensemble_paired, keys=('space', 'ensemble of the ranking minus'), complete=True),
    Entry('quality-ranking-ensemble-size', 'docs/quality.md', 'quality-ranking-ensemble-size',
          ('mosi_spos_ranking_ensemble_size',), src_quality_ranking_ensemble_size, keys=('space', 'configuration'),
          complete=True),
    Entry('quality-ranking-ensemble-size-paired', 'docs/quality.md', 'quality-ranking-ensemble-size-paired',
          ('mosi_spos_ranking_ensemble_size', 'mosi_spos_mid_ensemble_size', 'mosi_spos_mid_random_x5'),
          src_quality_ranking_ensemble_size_paired, keys=('space', 'row', 'minus'), complete=True),
    Entry('quality-ranking-ensemble-3class', 'docs/quality.md', 'quality-ranking-ensemble-3class',
          ('mosi_spos_ranking_ensemble_3class',), src_quality_ranking_ensemble_3class, keys=('configuration',),
          complete=True),
    Entry('quality-spos-paper-tried', 'docs/quality.md', 'quality-spos-paper-tried', ('mosi_spos_paper',),
          src_quality_spos_paper_tried, keys=('configuration',), complete=True),
    Entry('quality-spos-paper', 'docs/quality.md', 'quality-spos-paper', ('mosi_spos_paper',),
          src_quality_spos_paper, keys=('model',), complete=True),
    Entry('quality-spos-paper-paired', 'docs/quality.md', 'quality-spos-paper-paired', ('mosi_spos_paper',),
          src_quality_spos_paper_paired, keys=('paper-sized space minus',), complete=True),
    Entry('quality-spos-supernets', 'docs/quality.md', 'quality-spos-supernets', ('mosi_spos_supernets',),
          src_quality_spos_supernets, keys=('space', 'configuration'), complete=True),
    Entry('quality-spos-supernets-paired', 'docs/quality.md', 'quality-spos-supernets-paired',
          ('mosi_spos_supernets',), src_quality_spos_supernets_paired, keys=('three minus one supernet',),
          complete=True),
    Entry('quality-regularisation', 'docs/quality.md', 'quality-regularisation', ('mosi_regularisation',),
          src_quality_regularisation, keys=('configuration',), complete=True),
    Entry('quality-regularisation-paired', 'docs/quality.md', 'quality-regularisation-paired',
          ('mosi_regularisation',), src_quality_regularisation_paired, keys=('minus the defaults',), complete=True),
    Entry('quality-regularisation-notes', 'docs/quality.md', 'quality-regularisation-notes', ('mosi_regularisation',),
          src_quality_regularisation_notes, parse='prose'),
    Entry('quality-ensemble-size', 'docs/quality.md', 'quality-ensemble-size', ('mosi_seed_ensemble',),
          src_quality_ensemble_size, keys=('configuration',), complete=True),
    Entry('quality-ensemble-mid', 'docs/quality.md', 'quality-ensemble-mid', ('mosi_mid_seed_ensemble',),
          src_ensemble_size('mosi_mid_seed_ensemble'), keys=('mid-sized space',), complete=True),
    Entry('quality-ensemble-3class', 'docs/quality.md', 'quality-ensemble-3class', ('mosi_3class_seed_ensemble',),
          src_ensemble_size('mosi_3class_seed_ensemble'), keys=('3-class example',), complete=True),
    Entry('quality-ensemble-elsewhere-notes', 'docs/quality.md', 'quality-ensemble-elsewhere-notes',
          ('mosi_mid_seed_ensemble', 'mosi_3class_seed_ensemble'), src_quality_ensemble_elsewhere_notes,
          parse='prose'),
    Entry('quality-ensemble', 'docs/quality.md', 'quality-ensemble', ('mosi_seed_ensemble', 'mosi_nas_baselines', 'mosi_sweep'),
          src_quality_ensemble, keys=('model',), complete=True, note='GCNet row: docs/peers.md'),
    Entry('quality-ensemble-paired', 'docs/quality.md', 'quality-ensemble-paired', ('mosi_seed_ensemble',),
          src_quality_ensemble_paired, keys=('other',), complete=True),
    Entry('quality-ensemble-notes', 'docs/quality.md', 'quality-ensemble-notes',
          ('mosi_seed_ensemble', 'mosi_nas_baselines', 'mosi_sweep'), src_quality_ensemble_notes, parse='prose'),
]

# entries that read docs/peers.md (the peers' own measurements)
PEER_ENTRIES = {'quality-spos-baselines', 'quality-spos-baselines-notes', 'quality-spos-ensemble',
                'quality-spos-mid-ensemble-table', 'quality-spos-mid-ensemble-notes',
                'quality-spos-ensemble-notes', 'benchmarks-goals', 'benchmarks-mosi', 'benchmarks-mosi-goal', 'benchmarks-mosi-paper-notes',
                'quality-nas-baselines', 'quality-nas-notes', 'quality-mid-notes', 'readme-mosi', 'quality-ensemble',
                'quality-ensemble-notes', 'readme-ensemble'}
