"""Rebuild ``pom_mfn.pkl`` from the POM release of the MFN repository.

Source: https://github.com/pliang279/MFN (MIT licence), folder ``new_data/pom``:
``audio_{train,valid,test}.h5``, ``video_{train,valid,test}.h5``,
``y_{train,valid,test}.h5`` (each one HDF5 dataset ``d1``). The text files of the
release are not usable (``text_train_emb.h5`` is not in the repository), so the
copy holds audio and vision only.

    git clone https://github.com/pliang279/MFN
    pip install h5py            # needed by this script only; rmnas never reads HDF5
    python data/pom/build.py MFN/new_data/pom data/pom/pom_mfn.pkl

What the script does (see README.md beside it):

* features to float32; the release pads short sequences with all-zero steps at the
  *start*; a sample's real length is 20 minus its leading steps on which audio *and*
  video are both all zeros, and the real steps are moved to the front (zero padding
  at the end, the layout of MMSA's pickles), with ``audio_lengths`` and
  ``vision_lengths`` set to that length;
* ``regression_labels`` = sentiment (column 14 of ``y``) - 4, so the 1..7 rating
  becomes [-3, 3] (4, neutral, becomes 0); all 17 raw columns are kept as
  ``labels_raw``;
* writes a dict ``{'train', 'valid', 'test'}`` of numpy arrays with pickle
  protocol 4 (readable by the project's restricted unpickler).
"""
from __future__ import annotations

import hashlib
import pickle
import sys
from pathlib import Path

import numpy as np

SENTIMENT_COLUMN = 14
SPLITS = ('train', 'valid', 'test')


def _read(path: Path) -> np.ndarray:
    import h5py                                   # only here
    with h5py.File(path, 'r') as f:
        return np.asarray(f['d1'][()])


def build(src: Path) -> dict:
    out = {}
    for s in SPLITS:
        audio = _read(src / f'audio_{s}.h5').astype(np.float32)
        video = _read(src / f'video_{s}.h5').astype(np.float32)
        y = _read(src / f'y_{s}.h5')
        n, steps = audio.shape[:2]
        if video.shape[:2] != (n, steps) or y.shape != (n, 17):
            raise SystemExit(f'{s}: unexpected shapes audio {audio.shape} video {video.shape} y {y.shape}')
        if not (np.isfinite(audio).all() and np.isfinite(video).all() and np.isfinite(y).all()):
            raise SystemExit(f'{s}: non-finite values')
        empty = ~(np.any(audio != 0, axis=2) | np.any(video != 0, axis=2))      # (n, steps)
        lead = np.argmin(empty, axis=1)                 # leading empty steps
        lead[empty.all(axis=1)] = steps - 1             # (none in the release) keep one step
        lengths = (steps - lead).astype(np.int64)
        a2, v2 = np.zeros_like(audio), np.zeros_like(video)
        for i in range(n):
            a2[i, :lengths[i]] = audio[i, lead[i]:]
            v2[i, :lengths[i]] = video[i, lead[i]:]
        sentiment = y[:, SENTIMENT_COLUMN].astype(np.float32)
        out[s] = {
            'id': np.array([f'{s}{i}' for i in range(n)]),
            'audio': a2, 'vision': v2,
            'audio_lengths': lengths.copy(), 'vision_lengths': lengths.copy(),
            'regression_labels': sentiment - np.float32(4.0),
            'labels_raw': y.astype(np.float32),
        }
    return out


def main(argv) -> None:
    if len(argv) != 2:
        raise SystemExit('usage: python data/pom/build.py MFN/new_data/pom data/pom/pom_mfn.pkl')
    src, dst = Path(argv[0]), Path(argv[1])
    obj = build(src)
    dst.write_bytes(pickle.dumps(obj, protocol=4))
    for s in SPLITS:
        p = obj[s]
        print(f"{s}: {len(p['id'])} samples, audio {p['audio'].shape[1:]}, vision {p['vision'].shape[1:]}, "
              f"label range [{p['regression_labels'].min():g}, {p['regression_labels'].max():g}]")
    print(f'{dst}: {dst.stat().st_size} bytes, sha256 {hashlib.sha256(dst.read_bytes()).hexdigest()}')


if __name__ == '__main__':
    main(sys.argv[1:])
