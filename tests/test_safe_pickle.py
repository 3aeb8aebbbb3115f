import collections
import os
import pickle

import numpy as np
import pytest

from rmnas_nni.data.safe_pickle import load_pickle, loads
from rmnas_nni.errors import DataError


class Evil:
    """A pickle payload that would create a marker file if it ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


class EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


def sample_objects():
    return {'a': np.arange(12, dtype=np.float32).reshape(2, 3, 2), 'i': np.int64(3), 'f': np.float32(1.5),
            'd': np.dtype('float64'), 's': np.array(['ab', 'c']), 'o': np.array(['x', 'yz'], dtype=object),
            'set': {1, 2}, 'b': b'\x00\xff', 'bool': np.bool_(True), 'list': [1, (2.5, 'x')],
            'od': collections.OrderedDict(a=1), 'rec': np.zeros(2, dtype=[('a', 'f4'), ('b', 'i2')])}


@pytest.mark.parametrize('protocol', range(pickle.HIGHEST_PROTOCOL + 1))
def test_numpy_and_builtins_round_trip(protocol):
    objs = sample_objects()
    out = loads(pickle.dumps(objs, protocol=protocol))
    assert set(out) == set(objs)
    for k, v in objs.items():
        if isinstance(v, np.ndarray):
            assert out[k].dtype == v.dtype and np.array_equal(out[k], v)
        else:
            assert out[k] == v and type(out[k]) is type(v)


@pytest.mark.parametrize('protocol', [0, 2, 4, 5])
def test_code_running_pickle_refused_and_runs_nothing(tmp_path, protocol):
    marker = tmp_path / 'marker'
    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps({'train': {'audio': [Evil(marker)]}}, protocol=protocol))
    with pytest.raises(DataError) as info:
        load_pickle(path)
    msg = str(info.value)
    assert str(path) in msg and 'system' in msg and 'refused' in msg and '\n' not in msg
    assert not marker.exists()


def test_builtin_eval_refused():
    with pytest.raises(DataError, match="builtins.eval"):
        loads(pickle.dumps([EvilEval()]), 'x.pkl')


def test_codecs_only_for_latin1():
    # protocol 2 stores bytes through _codecs.encode(text, 'latin1'); other encodings are refused
    assert loads(pickle.dumps(b'\x00\x10', protocol=2)) == b'\x00\x10'
    with pytest.raises(DataError, match='refused'):
        loads(b"c_codecs\nencode\n(Vabc\nVrot13\ntR.", 'x.pkl')


@pytest.mark.parametrize('cut', [1, 7, 0.5, -1])
def test_truncated_pickle_is_a_clean_error(tmp_path, cut):
    data = pickle.dumps(sample_objects(), protocol=4)
    n = int(len(data) * cut) if isinstance(cut, float) else (cut if cut > 0 else len(data) + cut)
    path = tmp_path / 'cut.pkl'
    path.write_bytes(data[:n])
    with pytest.raises(DataError, match='not a valid pickle') as info:
        load_pickle(path)
    assert str(path) in str(info.value) and '\n' not in str(info.value)


def test_garbage_empty_and_missing_files(tmp_path):
    (tmp_path / 'g.pkl').write_text('train,valid,test\n1,2,3\n')
    (tmp_path / 'e.pkl').write_bytes(b'')
    for name in ('g.pkl', 'e.pkl'):
        with pytest.raises(DataError, match='not a valid pickle'):
            load_pickle(tmp_path / name)
    with pytest.raises(DataError, match='file not found'):
        load_pickle(tmp_path / 'absent.pkl')
