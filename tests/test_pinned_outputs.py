"""The shipped models give the same outputs for the same seeds, whatever the code around them
becomes: a few generated notes (and a digest of all of them) from GETDiff's compose and infill,
and a few harmony2vec vector values and neighbours, recorded before the model-family refactor.
A change here means a change users will hear. The pins are CPU figures (device="cpu"): a GPU
sums in another order and draws other notes from the same seed."""

import hashlib

import numpy as np
import pytest

import symbolic

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def digest(score, tracks=None):
    rows = []
    for tr in score.tracks:
        if tracks is not None and tr.name not in tracks:
            continue
        a = tr.notes.numpy()
        cols = np.stack([a["time"], a["duration"], a["pitch"], a["velocity"]]).astype(np.int64)
        rows.append([tr.name, len(a["time"]), cols[:, :4].T.tolist(),
                     hashlib.sha1(cols.tobytes()).hexdigest()[:16]])
    return rows


COMPOSE = [
    ["melody", 30, [[0, 120, 72, 80], [240, 120, 74, 80], [480, 120, 72, 80], [720, 120, 72, 80]],
     "ad7df5521d10605c"],
    ["bridge", 24, [[0, 960, 72, 80], [1920, 240, 74, 80], [2400, 240, 77, 80],
                    [2640, 240, 74, 80]], "50db0d2422bc463c"],
    ["piano", 46, [[0, 720, 48, 80], [0, 240, 55, 80], [0, 720, 60, 80], [240, 240, 55, 80]],
     "664e439611f55743"],
]
INFILL = [["PIANO", 915, [[596, 1289, 45, 81], [836, 812, 52, 81], [1076, 183, 57, 83],
                          [1316, 1438, 57, 80]], "78d1f6ec3911280c"]]


def test_compose_is_pinned():
    assert digest(symbolic.compose("C | G | Am | F", bars=4, steps=8, seed=3,
                                   device="cpu")) == COMPOSE


def test_infill_is_pinned(pop909):
    song = pop909.song(880)
    out = symbolic.infill(song.score, tracks=["piano"], bars=(3, 4), bar_ticks=song.bar_ticks(),
                          steps=8, seed=5, chords=None, device="cpu")
    assert digest(out, {"PIANO"}) == INFILL


def test_harmony2vec_is_pinned():
    from symbolic.models import harmony2vec

    m = harmony2vec.load(device="cpu")
    want = {"C": [0.08763, -0.06393, -0.07046, 0.1396, 0.03299],
            "Am": [0.09991, -0.07319, -0.0392, -0.18664, -0.02482],
            "G7": [-0.00232, 0.11313, -0.10683, 0.06414, 0.05897]}
    for label, values in want.items():
        np.testing.assert_allclose(m.vector(label)[:5], values, atol=1e-5)
    assert [n.label for n in m.similar("C", topn=5)] == ["C:maj(9)", "A:min7", "C:maj7",
                                                         "C:maj9", "F:maj9"]
