"""rmnas sweep --baseline NAME=CSV: a user's own model's per-rate metrics beside the sweep's variants."""
import pandas as pd
import pytest

from rmnas_nni.cli import main
from rmnas_nni.metrics import auilc

SIZES = 'data.options={sizes: {train: 8, valid: 8, test: 8}}'


@pytest.fixture
def fake_cells(monkeypatch):
    """Instant cells: mae = 1 + rate + 0.1 seed, corr = 0.5 - rate (no training)."""
    import rmnas_nni.pipeline as pipeline
    from rmnas_nni.config import dump_yaml
    from rmnas_nni.rundir import atomic_write_json, atomic_write_text

    def fake_run(cfg, run_dir, *, resume=False, overwrite=False, quiet=False, data=None, on_epoch=None):
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / 'config.yaml', dump_yaml(cfg))
        rate, seed = cfg.data.missing.rate, cfg.seed
        test = {'mae': 1.0 + rate + 0.1 * seed, 'corr': 0.5 - rate}
        atomic_write_json(run_dir / 'metrics.json', {'test': test})
        return {'test': test}

    monkeypatch.setattr(pipeline, 'run', fake_run)


def _sweep(out, *extra):
    return main(['sweep', '--out', str(out), '--set', SIZES, '--rates', '0', '0.5', '1', '--seeds', '0', '1',
                 '-q', *extra])


def test_baseline_appears_in_the_table_markdown_and_plots(tmp_path, fake_cells, capsys):
    csv = tmp_path / 'ours.csv'
    # a display name (MAE) and a key (corr) as columns; two seeds
    csv.write_text('rate,seed,MAE,corr\n0,0,0.8,0.9\n0.5,0,1.0,0.6\n1.0,0,2.0,0.1\n'
                   '0,1,0.6,0.9\n0.5,1,1.2,0.5\n1,1,2.2,0.2\n')
    out = tmp_path / 's'
    assert _sweep(out, '--baseline', f'ours={csv}') == 0
    table = pd.read_csv(out / 'sweep.csv')
    assert list(dict.fromkeys(table['variant'])) == ['full', 'ours']
    ours = table[table['variant'] == 'ours'].set_index('stat')
    # AUILC the same way as a variant's: per seed over its curve, then mean over seeds
    per_seed = [auilc([0, 0.5, 1], [0.8, 1.0, 2.0]), auilc([0, 0.5, 1], [0.6, 1.2, 2.2])]
    assert ours.loc['AUILC', 'mae'] == pytest.approx(sum(per_seed) / 2)
    assert ours.loc['AUILC std', 'mae'] == pytest.approx(pd.Series(per_seed).std(ddof=1))
    full = table[table['variant'] == 'full'].set_index('stat')
    assert full.loc['AUILC', 'mae'] == pytest.approx(sum(auilc([0, 0.5, 1], [1 + r + 0.1 * s for r in (0, 0.5, 1)])
                                                         for s in (0, 1)) / 2)
    md = (out / 'sweep.md').read_text()
    assert 'Baseline ours: ours.csv (' in md              # outside the project: the file name, no machine path
    assert any(line.startswith('| ours | AUILC |') for line in md.splitlines())
    assert any(line.startswith('| ours | 0.5 | 2 |') for line in md.splitlines())
    for metric in ('mae', 'corr'):
        assert (out / 'plots' / f'{metric}.png').is_file()
    assert 'ours' in capsys.readouterr().out


def test_baseline_without_seed_column_and_with_fewer_metrics(tmp_path, fake_cells):
    csv = tmp_path / 'b.csv'
    csv.write_text('rate,mae\n0.0,0.5\n0.5,0.7\n1.0,0.9\n')
    out = tmp_path / 's'
    assert _sweep(out, '--baseline', f'b={csv}') == 0
    table = pd.read_csv(out / 'sweep.csv')
    b = table[table['variant'] == 'b'].set_index('stat')
    assert b.loc['AUILC', 'mae'] == pytest.approx(auilc([0, 0.5, 1], [0.5, 0.7, 0.9]))
    assert pd.isna(b.loc['AUILC', 'corr'])                  # not given: left empty
    assert (table[(table['variant'] == 'b') & (table['stat'] == 'value')]['seed'] == 0).all()


@pytest.mark.parametrize('text, column', [
    ('seed,mae\n0,0.5\n', 'rate'),                           # no rate column
    ('rate,mae\n0,0.5\n1.5,0.7\n', 'rate'),                  # rate outside [0, 1]
    ('rate,mae\n0,0.5\n0.3,0.7\n', 'rate'),                  # a rate the sweep does not have
    ('rate,mae\n0,0.5\n0,0.6\n', 'rate'),                    # the same rate twice
    ('rate,mae\n0,0.5\n0.5,abc\n', 'mae'),                   # not a number
    ('rate,mae\n0,0.5\n0.5,\n', 'mae'),                      # empty
    ('rate,accuracy\n0,0.5\n', 'accuracy'),                  # not a metric
    ('rate,WAF\n0,50\n', 'WAF'),                             # a metric, but not one this sweep computes
    ('rate,seed,mae\n0,-1,0.5\n', 'seed'),                   # negative seed
    ('rate\n0\n', 'rate'),                                   # no metric column
])
def test_a_bad_baseline_csv_is_one_line_naming_file_and_column(tmp_path, fake_cells, capsys, text, column):
    csv = tmp_path / 'bad.csv'
    csv.write_text(text)
    out = tmp_path / 's'
    assert _sweep(out, '--baseline', f'mine={csv}') == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(csv) in err[0] and f"column '{column}'" in err[0], err
    assert not out.exists()                                  # nothing written


@pytest.mark.parametrize('arg, needle', [('mine', 'NAME=CSV'), ('full=x.csv', None), ('m=nope.csv', 'nope.csv')])
def test_bad_baseline_arguments(tmp_path, fake_cells, capsys, arg, needle):
    if arg.startswith('full='):
        (tmp_path / 'x.csv').write_text('rate,mae\n0,1\n')
        arg = f"full={tmp_path / 'x.csv'}"
        needle = 'variant of that name'
    out = tmp_path / 's'
    assert _sweep(out, '--baseline', arg) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not out.exists()
