"""Loading and saving through symusic.Score; broken inputs only ever raise SymbolicError."""

import random
import pytest
import symusic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbolic
from symbolic.data.folder import MidiFolder
from symbolic.errors import (
    DataNotFoundError,
    EmptyScoreError,
    InputTooLargeError,
    MidiParseError,
    SymbolicError,
    UnsupportedFormatError,
)
from symbolic.fuzz import broken_midi_corpus, mutate, seed_midi


def notes_of(score):
    """Sorted (track, onset, duration, pitch, velocity) rows of a tick score."""
    rows = []
    for k, t in enumerate(score.tracks):
        n = t.notes.numpy()
        rows += list(zip([k] * len(n["pitch"]), n["time"].tolist(), n["duration"].tolist(),
                         n["pitch"].tolist(), n["velocity"].tolist()))
    return sorted(rows)


def test_load_midi_path_and_bytes_agree(pop909_root):
    path = pop909_root / "001" / "001.mid"
    a = symbolic.load(path)
    b = symbolic.load(path.read_bytes())
    c = symbolic.load(str(path), sandbox=False)
    assert a == b == c
    assert [t.name for t in a.tracks] == ["MELODY", "BRIDGE", "PIANO"]
    assert a.ticks_per_quarter == 480 and a.note_num() == 1556


def test_all_pop909_songs_load(pop909):
    ids = pop909.available()
    assert len(ids) == 909
    total = 0
    for i in ids:
        score = pop909.score(i)
        assert {t.name.upper() for t in score.tracks} >= {"MELODY", "PIANO"}
        total += score.note_num()
    assert total > 909 * 1000


def test_midi_save_round_trip_is_exact(tmp_path):
    score = symusic.Score.from_midi(seed_midi(3))
    out = symbolic.save(score, tmp_path / "x.mid")
    back = symbolic.load(out)
    assert notes_of(back) == notes_of(score)
    assert [(t.time, t.mspq) for t in back.tempos] == [(t.time, t.mspq) for t in score.tempos]
    assert [(t.time, t.numerator, t.denominator) for t in back.time_signatures] == \
        [(t.time, t.numerator, t.denominator) for t in score.time_signatures]
    assert [(t.program, t.is_drum, t.name) for t in back.tracks] == \
        [(t.program, t.is_drum, t.name) for t in score.tracks]


def test_rmid_wrapper_loads():
    data = seed_midi(1)
    import struct

    riff = b"RIFF" + struct.pack("<I", len(data) + 12) + b"RMIDdata" + struct.pack("<I", len(data)) + data
    assert symbolic.load(riff) == symbolic.load(data)


def test_corpus_piece_by_name_keeps_parts():
    score = symbolic.load("corpus:bach/bwv66.6")
    assert len(score.tracks) == 4
    assert [t.name for t in score.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert score.ticks_per_quarter == 480
    assert len(score.time_signatures) >= 1 and score.time_signatures[0].numerator == 4
    assert len(score.key_signatures) >= 1 and score.key_signatures[0].key == 3  # f# minor: 3 sharps
    soprano = score.tracks[0].notes.numpy()
    assert soprano["pitch"][0] == 73  # C#5 pickup


def test_musicxml_file_and_bytes(tmp_path):
    from music21 import corpus

    path = corpus.getWork("bach/bwv66.6")
    a = symbolic.load(path)
    assert a == symbolic.load("corpus:bach/bwv66.6")
    b = symbolic.load(path.read_bytes())  # .mxl bytes are a zip: recognised by content
    assert notes_of(a) == notes_of(b)


def test_musicxml_save_and_reload(tmp_path):
    score = symbolic.load("corpus:bach/bwv66.6")
    for suffix in (".musicxml", ".mxl"):
        out = symbolic.save(score, tmp_path / f"chorale{suffix}")
        back = symbolic.load(out)
        assert [(r[1], r[2], r[3]) for r in notes_of(back)] == [(r[1], r[2], r[3]) for r in notes_of(score)]
        assert [t.name for t in back.tracks] == [t.name for t in score.tracks]


ABC = """%abc
X:1
T:First Tune
M:3/4
L:1/8
K:G
GAB c2 d|e2 d2 B2|]

X:2
T:Second Tune
M:6/8
L:1/8
K:D
DFA dAF|GBd gdB|]
"""


def test_abc_multi_tune_by_index_and_title(tmp_path):
    path = tmp_path / "tunes.abc"
    path.write_text(ABC)
    assert symbolic.io.list_tunes(path) == ["First Tune", "Second Tune"]
    first = symbolic.load(path)
    second = symbolic.load(path, tune=1)
    assert symbolic.load(path, tune="second tune") == second
    assert symbolic.load(path, tune="Second") == second
    assert first.tracks[0].notes.numpy()["pitch"][0] == 67  # G4
    assert second.tracks[0].notes.numpy()["pitch"][0] == 62  # D4
    assert first.time_signatures[0].numerator == 3 and second.time_signatures[0].numerator == 6
    with pytest.raises(DataNotFoundError, match="tune index 5"):
        symbolic.load(path, tune=5)
    with pytest.raises(DataNotFoundError, match="no tune titled"):
        symbolic.load(path, tune="missing")


def test_essen_tune_by_corpus_name():
    a = symbolic.load("corpus:essenFolksong/altdeu10#3")
    b = symbolic.load("corpus:essenFolksong/altdeu10", tune=3)
    assert a == b and a.note_num() > 10


def test_humdrum_loads():
    from music21 import corpus

    krn = [p for p in corpus.getComposer("bach") if str(p).endswith(".krn")][0]
    score = symbolic.load(krn)
    assert score.note_num() > 50 and len(score.tracks) >= 2


def test_save_abc_and_png(tmp_path):
    score = symusic.Score.from_midi(seed_midi(0))
    abc = symbolic.save(score, tmp_path / "x.abc")
    text = abc.read_text()
    assert text.startswith("X:") and "T: x" in text and "K:" in text
    png = symbolic.save(score, tmp_path / "x.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_name_the_input(tmp_path):
    with pytest.raises(DataNotFoundError, match="nope.mid: no such file"):
        symbolic.load(tmp_path / "nope.mid")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd" + bytes(10))
    with pytest.raises(MidiParseError, match="bad.mid: ticks per quarter is 0"):
        symbolic.load(bad)
    empty = tmp_path / "empty.mid"
    empty.write_bytes(symusic.Score(480).dumps_midi())
    with pytest.raises(EmptyScoreError, match="empty.mid: no notes"):
        symbolic.load(empty)
    assert symbolic.load(empty, allow_empty=True).note_num() == 0
    with pytest.raises(UnsupportedFormatError, match="x.txt"):
        symbolic.load(tmp_path / "x.txt") if (tmp_path / "x.txt").write_text("hello") else None
    with pytest.raises(UnsupportedFormatError, match="cannot save"):
        symbolic.save(symusic.Score(480), tmp_path / "x.docx")
    with pytest.raises(InputTooLargeError):
        symbolic.load(seed_midi(), max_bytes=100)
    with pytest.raises(DataNotFoundError, match="corpus:bach/nothing"):
        symbolic.load("corpus:bach/nothing")
    with pytest.raises(TypeError):
        symbolic.load(12)


def test_broken_midi_corpus_only_raises_symbolic_errors():
    outcomes = {}
    for name, data in broken_midi_corpus(n_random=400):
        try:
            symbolic.load(data)
            outcomes[name] = "loaded"
        except SymbolicError as e:
            outcomes[name] = type(e).__name__
    kinds = set(outcomes.values())
    assert len(outcomes) > 500
    assert {"loaded", "MidiParseError", "ParseError", "UnsupportedFormatError", "EmptyScoreError"} <= kinds
    assert outcomes["empty"] == "ParseError"
    assert outcomes["text"] == "UnsupportedFormatError"
    assert outcomes["header:division=0"] == "MidiParseError"
    assert outcomes["riff-wrapped"] == "loaded"


def test_broken_pop909_files_only_raise_symbolic_errors(pop909_root):
    rng = random.Random(7)
    for i in (1, 100, 500):
        data = (pop909_root / f"{i:03d}" / f"{i:03d}.mid").read_bytes()
        for _ in range(150):
            _, damaged = mutate(data, rng)
            try:
                symbolic.load(damaged)
            except SymbolicError:
                pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), base=st.integers(0, 3))
def test_fuzz_random_damage(seed, base):
    _, damaged = mutate(seed_midi(base), random.Random(seed))
    try:
        score = symbolic.load(damaged)
    except SymbolicError:
        return
    assert score.ticks_per_quarter > 0
    score.to("second")  # the loaded score is safe to work with


def test_parser_crash_is_contained(monkeypatch):
    """A parser that dies mid-parse becomes a MidiParseError; the next load starts a new one."""
    from symbolic import sandbox

    sandbox.shutdown()
    monkeypatch.setattr(sandbox, "WORKER", "import os, sys; sys.stdin.buffer.read(4); os.abort()")
    with pytest.raises(MidiParseError, match=r"crashed on this input \(signal 6\)"):
        symbolic.load(seed_midi())
    monkeypatch.setattr(sandbox, "WORKER", "import time; time.sleep(60)")
    with pytest.raises(MidiParseError, match="did not finish"):
        sandbox.shutdown()
        ok, reason = sandbox.parse_midi_isolated(seed_midi(), timeout=0.5)
        raise MidiParseError(reason)
    monkeypatch.undo()
    sandbox.shutdown()
    assert symbolic.load(seed_midi()).note_num() == 360


def test_sandbox_recovers_by_itself_from_a_hung_worker(monkeypatch):
    """After a timeout the next load gets a fresh worker: a worker kept alive would answer the
    next request with the late answer to the one that timed out (another file's notes)."""
    from symbolic import sandbox

    sandbox.shutdown()
    monkeypatch.setattr(sandbox, "WORKER", "import time; time.sleep(3); " + sandbox.WORKER)
    ok, reason = sandbox.parse_midi_isolated(seed_midi(0), timeout=0.5)
    assert not ok and "did not finish within 0.5 s" in reason
    monkeypatch.undo()
    assert symbolic.load(seed_midi(1)) == symbolic.load(seed_midi(1), sandbox=False)


def test_sandbox_recovers_by_itself_from_a_killed_worker():
    import os
    import signal

    from symbolic import sandbox

    assert symbolic.load(seed_midi(0)) == symbolic.load(seed_midi(0), sandbox=False)
    worker = sandbox._worker
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert symbolic.load(seed_midi(1)) == symbolic.load(seed_midi(1), sandbox=False)


def test_load_returns_what_the_sandbox_sends_back(monkeypatch):
    """load parses the sandbox's re-encoding, never the untrusted bytes it was given: with a
    worker that answers every request with another file, load returns that file."""
    from symbolic import sandbox

    other = seed_midi(1)
    worker = ("import struct, sys\n"
              f"data = {other!r}\n"
              "while len(head := sys.stdin.buffer.read(4)) == 4:\n"
              "    sys.stdin.buffer.read(struct.unpack('>I', head)[0])\n"
              "    sys.stdout.buffer.write(b'K' + struct.pack('>I', len(data)) + data)\n"
              "    sys.stdout.buffer.flush()\n")
    sandbox.shutdown()
    monkeypatch.setattr(sandbox, "WORKER", worker)
    try:
        assert symbolic.load(seed_midi(0)) == symbolic.load(other, sandbox=False)
        assert symbolic.load(seed_midi(0), sandbox=False) != symbolic.load(other, sandbox=False)
    finally:
        monkeypatch.undo()
        sandbox.shutdown()


def test_midi_folder_records_bad_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.mid").write_bytes(seed_midi(0))
    (tmp_path / "sub" / "b.MID").write_bytes(seed_midi(1))
    (tmp_path / "sub" / "broken.mid").write_bytes(seed_midi(2)[:12] + b"\x00\x00" + seed_midi(2)[14:])
    (tmp_path / "empty.midi").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not music")
    folder = MidiFolder(tmp_path)
    assert len(folder) == 4
    (tmp_path / "cut.mid").write_bytes(seed_midi(2)[:40])  # parses, but no note survives
    folder = MidiFolder(tmp_path)
    assert len(folder) == 5
    loaded = [p.name for p, _ in folder]
    assert loaded == ["a.mid", "b.MID"]
    errors = dict((f.source.rsplit("/", 1)[-1], f.error) for f in folder.failures)
    # a truncated file: its cut chunk is completed, then it parses as empty or as malformed
    assert errors.pop("cut.mid") in ("EmptyScoreError", "MidiParseError")
    assert errors == {"broken.mid": "MidiParseError", "empty.midi": "ParseError"}
    with pytest.raises(DataNotFoundError):
        MidiFolder(tmp_path / "missing")


def test_load_with_stream_parses_once_and_keeps_the_tune(tmp_path):
    from symbolic.io import load_with_stream

    score, stream = load_with_stream("corpus:essenFolksong/altdeu10#3")  # tune 3, not tune 0
    assert len(score.tracks[0].notes) == len(list(stream.flatten().notes)) == \
        len(symbolic.load("corpus:essenFolksong/altdeu10#3").tracks[0].notes)
    assert len(symbolic.load("corpus:essenFolksong/altdeu10").tracks[0].notes) != \
        len(score.tracks[0].notes)
    midi, none = load_with_stream(symbolic.save(score, tmp_path / "tune.mid"))
    assert none is None and len(midi.tracks[0].notes) == len(score.tracks[0].notes)
