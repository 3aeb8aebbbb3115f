"""Figures of every run: curves with training beside validation, choice weights, their history."""
from rmnas_nni.pipeline import load_config, run
from rmnas_nni.run_plots import _heatmap, _pyplot


def test_a_chosen_box_in_the_outer_row_and_column_is_not_clipped():
    plt = _pyplot()
    fig, ax = plt.subplots()
    probs = {'a': {'x': 0.1, 'y': 0.9}, 'b': {'x': 0.8, 'y': 0.2}}
    _heatmap(ax, ['a', 'b'], ['x', 'y'], probs, {'a': 'y', 'b': 'x'}, 'title')
    boxes = [p for p in ax.patches]
    assert len(boxes) == 2
    (x0, x1), (y1, y0) = ax.get_xlim(), ax.get_ylim()                  # imshow: y axis inverted
    half_line = 1.5 / 72 * fig.dpi / (ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0])
    for box in boxes:
        left, bottom = box.get_xy()
        assert left - half_line >= x0 - 1e-9 and left + box.get_width() + half_line <= x1 + 1e-9
        assert bottom - half_line >= y0 - 1e-9 and bottom + box.get_height() + half_line <= y1 + 1e-9
    plt.close(fig)


def test_every_run_draws_its_curves_and_choice_weights(tmp_path):
    cfg = load_config(None, {'threads': 1, 'search': {'epochs': 2, 'batch_size': 32},
                             'retrain': {'epochs': 2, 'min_epochs': 0, 'batch_size': 32},
                             'data': {'options': {'sizes': {'train': 96, 'valid': 48, 'test': 48}}}})
    out = run(cfg, tmp_path / 'run', quiet=True)
    figures = tmp_path / 'run' / 'figures'
    assert sorted(p.name for p in figures.glob('*.png')) == ['choice_history.png', 'choice_weights.png',
                                                            'curves.png']
    assert 'curves and choice weights' in out['report']
    import pandas as pd
    history = pd.read_csv(tmp_path / 'run' / 'retrain' / 'history.csv')
    assert {'train_mae', 'val_mae'} <= set(history.columns)
