#!/usr/bin/env python
"""Regenerate the numbers that README.md and docs/ print, and compare them.

    python tools/check_numbers.py            # quick entries: run their commands, compare;
                                             # long entries: compare the documents with the
                                             # result files in the repo (docs/results, bench/results)
    python tools/check_numbers.py --all      # run every entry's command, the long ones included
    python tools/check_numbers.py --no-run   # compare with the result files only, run nothing
    python tools/check_numbers.py --list     # every entry: document, block, command, cost
    python tools/check_numbers.py ID ...     # only these entries

The entries are in ``tools/numbers_manifest.py``. Each names a document and a block
in it (the text between ``<!-- numbers: ID ... -->`` and ``<!-- /numbers: ID -->``,
or the whole file), the command that regenerates the numbers, how to read them from
the command's output, and the tolerance. A table is compared cell by cell: every
number in a checked cell of the document must equal the regenerated value rounded to
the document's decimals (``exact``: deterministic CPU runs with ``threads=1`` on the
same machine), or lie within a relative tolerance (timings). A row or column the
entry does not produce is an error unless the entry skips it with a reason.

The documented runs were made on x86-64 CPUs whose torch kernels ran AVX2 code. On a
CPU with AVX-512, torch, MKL and oneDNN pick other kernels and the last digits
change; every command here therefore runs with the AVX2 kernels asked for
(:data:`CPU_KERNELS`, unless the environment sets the variables already). On an
AVX2 machine that changes nothing.

Exit status: 0 all compared numbers agree, 1 a number differs or a block is missing,
2 a command failed.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]

NUM = re.compile(r'(?<![\w.\-])[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?')


# ----------------------------------------------------------------------------- parsing

@dataclass(frozen=True)
class Num:
    text: str

    @property
    def value(self) -> float:
        return float(self.text.replace('\u2212', '-').replace(',', ''))

    @property
    def decimals(self) -> int:
        return len(self.text.split('.', 1)[1]) if '.' in self.text else 0


def numbers(text: str) -> List[Num]:
    """The numbers of a piece of text, in order (``−`` is a minus, ``13,763`` one number)."""
    return [Num(m.group(0)) for m in NUM.finditer(text)]


def block(text: str, block_id: Optional[str]) -> Optional[str]:
    """The text between ``<!-- numbers: ID ... -->`` and ``<!-- /numbers: ID -->``; the whole text for None."""
    if block_id is None:
        return text
    start = re.search(r'<!--\s*numbers:\s*' + re.escape(block_id) + r'\b[^>]*-->', text)
    if not start:
        return None
    end = re.search(r'<!--\s*/numbers:\s*' + re.escape(block_id) + r'\s*-->', text[start.end():])
    if not end:
        return None
    return text[start.end():start.end() + end.start()]


def _clean(cell: str) -> str:
    return cell.replace('**', '').replace('`', '').strip()


def md_tables(text: str) -> List[Tuple[List[str], List[List[str]]]]:
    """Markdown tables of a text: (header, rows), cells stripped of bold and backticks."""
    tables, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith('|') and i + 1 < len(lines) and re.match(r'^\|[\s|:-]+\|$', lines[i + 1].strip()):
            header = [_clean(c) for c in line.strip('|').split('|')]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].strip().startswith('|'):
                rows.append([_clean(c) for c in lines[i].strip().strip('|').split('|')])
                i += 1
            tables.append((header, rows))
        else:
            i += 1
    return tables


def text_table(text: str, row_labels: Sequence[str]) -> Dict[Tuple[str, ...], Dict[str, List[Num]]]:
    """A fixed-width table as ``rmnas run`` prints its metrics: a header line of column
    names (separated by two or more spaces), then one line per row label."""
    lines = text.splitlines()
    out: Dict[Tuple[str, ...], Dict[str, List[Num]]] = {}
    for i, line in enumerate(lines):
        for label in row_labels:
            if line.startswith(label + ' ') and i > 0:
                header = None
                for j in range(i - 1, -1, -1):
                    if lines[j].strip() and not any(lines[j].startswith(lb + ' ') for lb in row_labels):
                        header = re.split(r'\s{2,}', lines[j].strip())
                        break
                values = line[len(label):].split()
                if header is None or len(values) != len(header):
                    continue
                out[(label,)] = {h: [Num(v)] for h, v in zip(header, values)}
    return out


def doc_rows(text: str, parse: str, keys: Sequence[str], row_labels: Sequence[str] = ()
             ) -> Dict[Tuple[str, ...], Dict[str, List[Num]]]:
    """The rows of a document block, keyed by the cells of the key columns."""
    if parse == 'text':
        return text_table(text, row_labels)
    out: Dict[Tuple[str, ...], Dict[str, List[Num]]] = {}
    for header, rows in md_tables(text):
        key_idx = [header.index(k) for k in keys if k in header]
        if not key_idx:
            continue
        for row in rows:
            key = tuple(row[i] for i in key_idx)
            out.setdefault(key, {}).update({h: numbers(c) for n, (h, c) in enumerate(zip(header, row))
                                            if n not in key_idx})
    return out


# ----------------------------------------------------------------------------- comparing

def agrees(doc: Num, value: float, tol) -> bool:
    """``doc`` is ``value`` at the document's decimals (tol 'exact'), or within a relative tolerance."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    half = 0.5 * 10 ** -doc.decimals
    slack = 1e-9 * max(1.0, abs(value))
    if tol == 'exact':
        return abs(value - doc.value) <= half + slack
    return abs(value - doc.value) <= float(tol) * abs(doc.value) + half + slack


def _as_list(v) -> List[float]:
    if isinstance(v, (list, tuple)):
        return [float(x) for x in v]
    return [float(v)]


def compare_rows(doc: Dict[Tuple[str, ...], Dict[str, List[Num]]], src: Dict[Tuple[str, ...], Dict[str, object]],
                 tol, skip_rows: Dict = None, skip_cols: Dict = None, skip_cells: Dict = None,
                 complete: bool = False) -> Tuple[int, List[str]]:
    """Compare every number of every document row with the source; (numbers compared, problems)."""
    skip_rows, skip_cols, skip_cells = skip_rows or {}, skip_cols or {}, skip_cells or {}
    problems, checked = [], 0
    for key, cells in doc.items():
        name = ' | '.join(key)
        if key in skip_rows or (key[0],) in skip_rows:
            continue
        if key not in src:
            if any(cells.values()):
                problems.append(f'row {name!r}: not produced by the results (and not skipped)')
            continue
        for col, nums in cells.items():
            if not nums or col in skip_cols or (key, col) in skip_cells:
                continue
            if col not in src[key] or src[key][col] is None:
                problems.append(f'row {name!r}, column {col!r}: not produced by the results (and not skipped)')
                continue
            want = _as_list(src[key][col])
            if len(want) != len(nums):
                problems.append(f'row {name!r}, column {col!r}: the document has {len(nums)} numbers '
                                f'({" ".join(n.text for n in nums)}), the results {len(want)}')
                continue
            for n, v in zip(nums, want):
                checked += 1
                if not agrees(n, v, tol):
                    problems.append(f'row {name!r}, column {col!r}: the document says {n.text}, '
                                    f'the results give {v:.{max(n.decimals, 1) + 2}f}')
    for key in src if complete else ():
        if key not in doc:
            problems.append(f"row {' | '.join(key)!r}: in the results, missing from the document")
            continue
        for col, value in src[key].items():
            if value is not None and col not in doc[key] and col not in skip_cols:
                problems.append(f"row {' | '.join(key)!r}, column {col!r}: in the results, missing from the document")
    return checked, problems


@dataclass(frozen=True)
class Bound:
    """A number the document gives as a bound of a result ("under 1 %", "below 2"):
    ``op`` '<=' means the result must not exceed the document's number, '>=' not fall below it."""
    value: float
    op: str = '<='

    def holds(self, doc: Num) -> bool:
        slack = 1e-9 * max(1.0, abs(self.value))
        return self.value <= doc.value + slack if self.op == '<=' else self.value >= doc.value - slack


def compare_prose(doc: List[Num], want: Sequence, tol) -> Tuple[int, List[str]]:
    """The numbers of a paragraph, in order, against the source's list: a number, a
    :class:`Bound`, or a string saying why that number is not compared (a range of rates,
    a count of seeds, a setting)."""
    if len(doc) != len(want):
        return 0, [f'the paragraph has {len(doc)} numbers ({" ".join(n.text for n in doc)}), '
                   f'the manifest expects {len(want)}']
    checked, problems = 0, []
    for i, (n, v) in enumerate(zip(doc, want)):
        if isinstance(v, str):
            continue
        checked += 1
        if hasattr(v, "holds"):            # a Bound (also when the manifest imported this file as a module)
            if not v.holds(n):
                problems.append(f'number {i + 1} of the paragraph: the document gives {n.text} as a bound '
                                f'({v.op}), the results give {v.value:.{max(n.decimals, 1) + 2}f}')
            continue
        if not agrees(n, float(v), tol):
            problems.append(f'number {i + 1} of the paragraph: the document says {n.text}, '
                            f'the results give {float(v):.{max(n.decimals, 1) + 2}f}')
    return checked, problems


# ----------------------------------------------------------------------------- entries

@dataclass
class Result:
    """What one command writes: the numbers of one or more entries come from it."""
    name: str
    command: str                    # {out}: the folder it writes (it may create it)
    cost: str                       # expected cost, in words
    long: bool = False              # run only with --all
    committed: Optional[str] = None # the folder in the repo that holds the same files, if any


@dataclass
class Entry:
    id: str
    doc: str                        # path relative to the repo root
    block: Optional[str]            # marker id, None: the whole file
    results: Sequence[str]          # the Results it reads
    source: Callable                # source(ctx) -> {row key: {column: value or (values)}}
    tolerance: object = 'exact'     # when regenerated: 'exact' or a relative tolerance (0.3 = 30 %)
    parse: str = 'md'               # 'md': Markdown tables; 'text': rmnas run's fixed-width table;
                                    # 'prose': the numbers of a paragraph, in order
    keys: Sequence[str] = ('variant', 'rate', 'seed')
    row_labels: Sequence[str] = ()
    complete: bool = False          # every row and column the source produces must be in the document
    regenerated_only: bool = False  # the document is itself the result file: compared only after a rerun
    skip_rows: Dict = field(default_factory=dict)     # {row key: reason}
    skip_cols: Dict = field(default_factory=dict)     # {column: reason}
    skip_cells: Dict = field(default_factory=dict)    # {(row key, column): reason}
    note: str = ''


@dataclass
class Context:
    root: Path
    results: Dict[str, Result]
    outs: Dict[str, Path] = field(default_factory=dict)      # regenerated: name -> its folder
    stdouts: Dict[str, str] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """The folder of a result: regenerated when its command ran, else the one in the repo."""
        if name in self.outs:
            return self.outs[name]
        committed = self.results[name].committed
        if committed is None:
            raise FileNotFoundError(f'{name}: not regenerated and not in the repo')
        return self.root / committed

    def stdout(self, name: str) -> str:
        return self.stdouts[name]


def shell_command(command: str, out: Path, python: str = sys.executable) -> str:
    """The command as this interpreter runs it: ``rmnas`` is ``python -m rmnas_nni.cli``."""
    q = shlex.quote
    cmd = command.replace('{out}', q(str(out)))
    start = r'(^|&&\s*|;\s*)'
    cmd = re.sub(start + r'rmnas ', lambda m: m.group(1) + f'{q(python)} -m rmnas_nni.cli ', cmd)
    return re.sub(start + r'python ', lambda m: m.group(1) + f'{q(python)} ', cmd)


#: the kernels of the documented runs (x86-64 with AVX2): torch's own, MKL's and oneDNN's; on a CPU with
#: AVX-512 they would otherwise take other code paths and other last digits (the README's quick start)
CPU_KERNELS = {'ATEN_CPU_CAPABILITY': 'avx2', 'MKL_ENABLE_INSTRUCTIONS': 'AVX2', 'ONEDNN_MAX_CPU_ISA': 'AVX2'}


def run_result(result: Result, out: Path, root: Path = ROOT) -> Tuple[int, str]:
    """Run a result's command from the repo root with this interpreter (also as ``$PYTHON``, for bench/all),
    with the documented runs' CPU kernels (:data:`CPU_KERNELS`) where the environment names none."""
    env = dict({**CPU_KERNELS, **os.environ}, PYTHONPATH=str(root) + os.pathsep + os.environ.get('PYTHONPATH', ''),
               PYTHONWARNINGS='ignore', PYTHON=sys.executable,
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get('PATH', ''))
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(['bash', '-c', 'set -eo pipefail; ' + shell_command(result.command, out)],
                          cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def check(entry: Entry, ctx: Context, doc_text: Optional[str] = None, regenerated: bool = False
          ) -> Tuple[int, List[str]]:
    """Compare the entry's block of its document (or ``doc_text``) with its source."""
    text = doc_text if doc_text is not None else (ctx.root / entry.doc).read_text()
    part = block(text, entry.block)
    if part is None:
        return 0, [f'{entry.doc}: no block <!-- numbers: {entry.block} --> ... <!-- /numbers: {entry.block} -->']
    if entry.parse == 'prose':
        try:
            want = entry.source(ctx)
        except FileNotFoundError as e:
            return 0, [f'a file is missing: {e}']
        return compare_prose(numbers(part), want, entry.tolerance if regenerated else 'exact')
    doc = doc_rows(part, entry.parse, entry.keys, entry.row_labels)
    if not doc:
        return 0, [f'{entry.doc}, block {entry.block}: no table found']
    try:
        src = entry.source(ctx)
    except FileNotFoundError as e:
        return 0, [f'a file is missing: {e}']
    return compare_rows(doc, src, entry.tolerance if regenerated else 'exact', entry.skip_rows,
                        entry.skip_cols, entry.skip_cells, entry.complete)


def load_manifest():
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import numbers_manifest
    return {r.name: r for r in numbers_manifest.RESULTS}, numbers_manifest.ENTRIES


def list_entries(results: Dict[str, Result], entries: Sequence[Entry]) -> None:
    for e in entries:
        where = e.doc + (f' <!-- numbers: {e.block} -->' if e.block else ' (whole file)')
        tol = 'exact' if e.tolerance == 'exact' else f'within {float(e.tolerance):.0%} when regenerated'
        if e.regenerated_only:
            tol += '; the document is a result file: compared after a rerun only'
        print(f'{e.id}: {where}; {tol}')
        for name in e.results:
            r = results[name]
            mode = 'long, --all' if r.long else 'quick'
            if r.committed:
                mode += f'; without --all: the files in {r.committed}'
            print(f'  {name} [{mode}; {r.cost}]:\n      {r.command}')
        for what, reasons in (('row', e.skip_rows), ('column', e.skip_cols), ('cell', e.skip_cells)):
            for k, why in reasons.items():
                print(f'  not compared, {what} {k}: {why}')
        if e.note:
            print(f'  note: {e.note}')


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('ids', nargs='*', help='only these entries')
    g = p.add_mutually_exclusive_group()
    g.add_argument('--all', action='store_true', help='run every command, the long ones included')
    g.add_argument('--no-run', action='store_true', help='run nothing: compare with the result files in the repo')
    g.add_argument('--list', action='store_true', help='list the entries and exit')
    p.add_argument('--keep', metavar='DIR', help="write the commands' outputs here (default: a temporary folder)")
    args = p.parse_args(argv)

    results, entries = load_manifest()
    if args.ids:
        unknown = set(args.ids) - {e.id for e in entries}
        if unknown:
            p.error(f'unknown entries: {", ".join(sorted(unknown))}')
        entries = [e for e in entries if e.id in args.ids]
    if args.list:
        list_entries(results, entries)
        return 0

    status, total = 0, 0
    with tempfile.TemporaryDirectory(prefix='check_numbers-') as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        ctx = Context(ROOT, results)
        failed = set()
        for e in entries:
            to_run = [] if args.no_run else [n for n in e.results if args.all or not results[n].long]
            missing = [n for n in e.results if n not in to_run and (not results[n].committed or e.regenerated_only)]
            if missing:
                why = '--no-run' if args.no_run else 'long: --all'
                print(f'{e.id}: not compared ({why}; {", ".join(f"{n}: {results[n].cost}" for n in missing)})')
                continue
            for name in to_run:
                if name in ctx.outs or name in failed:
                    continue
                r = results[name]
                print(f'{e.id}: running {name} ({r.cost}): {r.command}', flush=True)
                t0 = time.time()
                rc, out = run_result(r, base / name)
                if rc != 0:
                    print(f'{name}: the command failed (exit status {rc}); the end of its output:\n    '
                          + '\n    '.join(out.splitlines()[-20:]))
                    failed.add(name)
                    status = 2
                    continue
                print(f'{name}: done in {time.time() - t0:.0f} s', flush=True)
                ctx.outs[name], ctx.stdouts[name] = base / name, out
            if any(n in failed for n in e.results):
                continue
            regenerated = any(n in ctx.outs for n in e.results)
            n, problems = check(e, ctx, regenerated=regenerated)
            total += n
            how = ('regenerated' if all(n_ in ctx.outs for n_ in e.results) else
                   'partly regenerated' if regenerated else 'against the result files in the repo')
            if problems:
                status = max(status, 1)
                print(f'{e.id}: {len(problems)} mismatch(es) in {e.doc} ({how}):')
                for line in problems:
                    print(f'    {line}')
            else:
                print(f'{e.id}: {n} numbers agree ({e.doc}, {how})')
    print(f'{"all agree" if status == 0 else "MISMATCH" if status == 1 else "A COMMAND FAILED"}: '
          f'{total} numbers compared')
    return status


if __name__ == '__main__':
    sys.exit(main())
