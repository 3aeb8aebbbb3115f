"""The numbers README.md and docs/ print agree with what regenerates them (tools/check_numbers.py).

The README quick start is rerun (about 70 s on one core, ``--set threads=1``) and
compared exactly: a CPU run is deterministic for the same torch thread count, machine
kind and torch build, which is what the README's numbers were measured with. The
tables that quote result files in the repo (docs/results, bench/results) are compared
with those files without running anything; the long commands behind them run with
``python tools/check_numbers.py --all``.
"""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))

import check_numbers as cn  # noqa: E402
import numbers_manifest  # noqa: E402

RESULTS, ENTRIES = cn.load_manifest()
BY_ID = {e.id: e for e in ENTRIES}
COMMITTED = [e.id for e in ENTRIES if all(RESULTS[n].committed for n in e.results) and not e.regenerated_only]


def _alter(text: str, block_id, old: str, new: str) -> str:
    """``text`` with the first ``old`` inside the block replaced by ``new``."""
    part = cn.block(text, block_id)
    assert part is not None and old in part
    start = text.index(part)
    return text[:start] + part.replace(old, new, 1) + text[start + len(part):]


def test_number_parsing():
    assert [(n.value, n.decimals) for n in cn.numbers('13,763× | −0.87 | +0.52 | 0.691 ± 0.011 | 1.03 %')] == [
        (13763.0, 0), (-0.87, 2), (0.52, 2), (0.691, 3), (0.011, 3), (1.03, 2)]
    assert cn.agrees(cn.Num('0.690'), 0.69047, 'exact') and not cn.agrees(cn.Num('0.691'), 0.69047, 'exact')
    assert cn.agrees(cn.Num('1.097'), 1.3, 0.3) and not cn.agrees(cn.Num('1.097'), 1.5, 0.3)
    # a bound ("below 2", "under 1 %"): the result must lie on its side of the document's number
    assert cn.Bound(1.63).holds(cn.Num('2')) and not cn.Bound(1.63).holds(cn.Num('1.5'))
    assert cn.Bound(0.4, '>=').holds(cn.Num('0.3')) and not cn.Bound(0.4, '>=').holds(cn.Num('0.5'))
    n, problems = cn.compare_prose(cn.numbers('below 2, at 1.63'), [cn.Bound(2.1), 1.63], 'exact')
    assert n == 2 and len(problems) == 1 and 'as a bound' in problems[0]


def test_every_block_of_the_manifest_is_in_its_document():
    for e in ENTRIES:
        text = (ROOT / e.doc).read_text()
        part = cn.block(text, e.block)
        assert part is not None, f'{e.id}: no block in {e.doc}'
        found = cn.numbers(part) if e.parse == 'prose' else cn.doc_rows(part, e.parse, e.keys, e.row_labels)
        assert found, f'{e.id}: nothing to compare in the block of {e.doc}'
        if e.block:
            assert re.search(rf'tools/check_numbers\.py (--all )?{e.id}\b', text), \
                f'{e.id}: the marker should name its check command'


@pytest.mark.parametrize('entry_id', COMMITTED)
def test_documents_agree_with_the_result_files_in_the_repo(entry_id):
    if entry_id in numbers_manifest.PEER_ENTRIES and not numbers_manifest.PEERS.exists():
        pytest.skip(f'{numbers_manifest.PEERS} is not here')
    ctx = cn.Context(ROOT, RESULTS)
    n, problems = cn.check(BY_ID[entry_id], ctx)
    assert not problems, '\n'.join(problems)
    assert n > 0


def test_a_changed_number_is_reported():
    """Each kind of check fails on a document whose number was changed."""
    ctx = cn.Context(ROOT, RESULTS)
    cases = [('results-mosi-dialogue-sweep', '| 51.98 ± 0.58 |', '| 51.98 ± 0.59 |', '0.59'),
             ('benchmarks-goals', '13,763×', '13,764×', '13,764'),
             ('benchmarks-mosi-waf', '−0.87', '−0.88', '−0.88'),
             ('quality-nas-paired', '+7.67 ± 12.49', '+7.76 ± 12.49', '+7.76')]
    for entry_id, old, new, says in cases:
        if entry_id in numbers_manifest.PEER_ENTRIES and not numbers_manifest.PEERS.exists():
            continue
        e = BY_ID[entry_id]
        text = _alter((ROOT / e.doc).read_text(), e.block, old, new)
        n, problems = cn.check(e, ctx, doc_text=text)
        assert len(problems) == 1 and f'says {says},' in problems[0], (entry_id, problems)
    # a row dropped from a complete table is reported too
    e = BY_ID['results-mosi-paper-space']
    text = re.sub(r'\| full \| 0\.3 \| 0 \|[^\n]*\n', '', (ROOT / e.doc).read_text())
    assert any('missing from the document' in p for p in cn.check(e, ctx, doc_text=text)[1])


def test_readme_quick_start_regenerates(tmp_path):
    """``rmnas run --set threads=1`` prints the README's numbers, bit for bit (same machine kind)."""
    e = BY_ID['readme-quickstart']
    (name,) = e.results
    rc, out = cn.run_result(RESULTS[name], tmp_path / name)
    assert rc == 0, out[-3000:]
    ctx = cn.Context(ROOT, RESULTS, outs={name: tmp_path / name}, stdouts={name: out})
    n, problems = cn.check(e, ctx, regenerated=True)
    assert not problems, ('the README quick start does not come out (the numbers hold for --set threads=1 '
                          'on the machine kind and torch build they were measured with):\n' + '\n'.join(problems))
    assert n == 16
    # the same run against a README with one number changed fails
    changed = _alter((ROOT / e.doc).read_text(), e.block, '0.2307', '0.2308')
    n, problems = cn.check(e, ctx, doc_text=changed, regenerated=True)
    assert len(problems) == 1 and '0.2308' in problems[0]
