"""Four-part writing on real Bach chorales with the shipped chorale model: infill keeps every
note outside its region, harmonize keeps the given soprano, MusicXML reopens with four parts,
fermatas reach the model as column marks, and bad arguments get clear errors."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import symbolic
from symbolic.data.music21_corpus import FERMATA, chorale_marks, load_chorale
from symbolic.errors import ArgumentError, SymbolicError
from symbolic.models import getdiff as gd
from symbolic.models.getdiff.generate import resolve_model, score_marks
from symbolic.models.getdiff.harmonize import melody_pulse
from symbolic.models.getdiff.model import MARK_FERMATA, MARK_PLAIN
from symbolic.models.getdiff.train import training_batch, window_marks
from symbolic.timeline import MetricGrid

NAME = "corpus:bach/bwv38.6"  # test split: held out from training


def notes(track):
    n = track.notes.numpy()
    return sorted(zip(*(n[k].tolist() for k in ("time", "duration", "pitch", "velocity"))))


def silent_share(track) -> float:
    """Share of a voice's span (first onset to last end) in which it sounds nothing."""
    n = track.notes.numpy()
    on, end = n["time"], n["time"] + n["duration"]
    cover = np.zeros(int(end.max()) + 1, dtype=bool)
    for a, b in zip(on.tolist(), end.tolist()):
        cover[a:b] = True
    return float(1 - cover[on.min():end.max()].mean())


def soprano_fermatas() -> list[int]:
    import music21

    from symbolic.data.music21_corpus import stream_marks

    return stream_marks(music21.corpus.parse("bach/bwv38.6"), 480, [0]).fermatas.tolist()


@pytest.fixture(scope="module")
def chorale():
    return load_chorale(NAME), chorale_marks(NAME).bar_ticks


def test_shipped_chorale_model_reads_fermatas():
    model = resolve_model("chorales", "cpu")
    assert model.tracks == ["SOPRANO", "ALTO", "TENOR", "BASS"]
    assert model.column_marks and model.config["column_marks"] is True
    assert not resolve_model("band", "cpu").column_marks  # older models load as before


def test_infill_keeps_everything_outside_the_region(chorale):
    bach, bars = chorale
    out = symbolic.infill(bach, tracks=["alto", "tenor"], bars=(5, 8), model="chorales",
                          bar_ticks=bars, chords=None, seed=3, steps=8)
    a, b = int(bars[4]), int(bars[8])
    assert [t.name for t in out.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    for i in (0, 3):  # soprano and bass: bit-exact
        assert notes(out.tracks[i]) == notes(bach.tracks[i])
    changed = False
    for i in (1, 2):
        old = [x for x in notes(bach.tracks[i]) if not a <= x[0] < b]
        kept = [x for x in notes(out.tracks[i]) if not a <= x[0] < b]
        assert kept == old
        new = [x for x in notes(out.tracks[i]) if a <= x[0] < b]
        assert len(new) >= 4  # the region is written, not left silent
        changed |= new != [x for x in notes(bach.tracks[i]) if a <= x[0] < b]
    assert changed
    assert [m.time for m in out.markers] == [m.time for m in bach.markers]


def test_harmonize_keeps_the_soprano_and_writes_atb_in_range(chorale):
    bach, bars = chorale
    out = symbolic.harmonize(NAME, track="Soprano", seed=0, steps=8)
    assert [t.name for t in out.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert notes(out.tracks[0]) == notes(bach.tracks[0])
    medians = [float(np.median(t.notes.numpy()["pitch"])) for t in out.tracks]
    assert medians == sorted(medians, reverse=True)  # voices stacked top to bottom
    for t in out.tracks[1:]:
        n = t.notes.numpy()
        assert len(n["time"]) >= 20 and len(set(n["pitch"].tolist())) >= 5  # no drone
    # the soprano's fermatas came from the corpus source and stay as markers
    assert [m.time for m in out.markers if m.text == FERMATA] == soprano_fermatas()


def test_harmonize_from_musicxml_midi_and_music21(tmp_path, chorale):
    bach, bars = chorale
    melody = bach.copy()
    melody.tracks = [melody.tracks[0]]
    melody.tracks[0].name = "Melody"
    xml = symbolic.save(melody, tmp_path / "tune.musicxml")
    mid = symbolic.save(melody, tmp_path / "tune.mid")
    got_xml = symbolic.harmonize(xml, seed=1, steps=4)
    got_mid = symbolic.harmonize(mid, seed=1, steps=4)
    for out in (got_xml, got_mid):
        assert len(out.tracks) == 4 and out.tracks[0].name == "Soprano"
        assert [(t, p) for t, _, p, _ in notes(out.tracks[0])] == \
            [(t, p) for t, _, p, _ in notes(symbolic.load(mid).tracks[0])]
    assert [m.time for m in got_xml.markers if m.text == FERMATA] == soprano_fermatas()
    # the MIDI file kept the fermata markers symbolic wrote into it
    assert [m.time for m in got_mid.markers] == chorale_marks(NAME).fermatas.tolist()
    import music21

    part = music21.corpus.parse("bach/bwv38.6").parts[0]
    out = symbolic.harmonize(part, seed=2, steps=4)
    assert len(out.tracks) == 4 and len(out.tracks[0].notes) == len(bach.tracks[0].notes)


def test_musicxml_reopens_with_four_parts_clefs_and_fermatas(tmp_path):
    out = symbolic.harmonize(NAME, track="Soprano", seed=0, steps=4)
    path = symbolic.save(out, tmp_path / "satb.musicxml")
    again = symbolic.load(path)
    assert [t.name for t in again.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    for a, b in zip(out.tracks, again.tracks):
        assert len(a.notes) == len(b.notes)
    import music21

    s = music21.converter.parse(str(path))
    ferm = [n for n in s.parts[0].flatten().notes
            if any(isinstance(e, music21.expressions.Fermata) for e in n.expressions)]
    assert len(ferm) == len(soprano_fermatas())
    bach = symbolic.save(load_chorale(NAME), tmp_path / "bach.musicxml")  # Bach's own voices
    clefs = [p.recurse().getElementsByClass("Clef")[0]
             for p in music21.converter.parse(str(bach)).parts]
    assert [type(c).__name__ for c in clefs] == ["TrebleClef", "TrebleClef", "Treble8vbClef",
                                                 "BassClef"]


def test_piano_reduction_two_staves(tmp_path, chorale):
    bach, _ = chorale
    red = gd.piano_reduction(bach)
    assert [t.name for t in red.tracks] == ["Upper", "Lower"]
    upper = {(t, p) for t, _, p, _ in notes(red.tracks[0])}
    assert upper == {(t, p) for i in (0, 1) for t, _, p, _ in notes(bach.tracks[i])}
    lower = {(t, p) for t, _, p, _ in notes(red.tracks[1])}
    assert lower == {(t, p) for i in (2, 3) for t, _, p, _ in notes(bach.tracks[i])}
    path = symbolic.save(red, tmp_path / "piano.musicxml")
    assert [t.name for t in symbolic.load(path).tracks] == ["Upper", "Lower"]
    with pytest.raises(ArgumentError, match="four voice tracks"):
        gd.piano_reduction(red)


def test_fermatas_become_column_marks(chorale):
    bach, bars = chorale
    mg = MetricGrid.from_score(bach, resolution=4, bar_ticks=bars)
    marks = score_marks(bach, mg)
    cols = np.flatnonzero(marks == MARK_FERMATA)
    assert len(cols) == len(chorale_marks(NAME).fermatas)
    assert (marks[marks != MARK_FERMATA] == MARK_PLAIN).all()
    plain = bach.copy()
    plain.markers = []
    assert score_marks(plain, mg) is None  # a score that says nothing: unknown
    w = window_marks(np.array([3, 10, 40]), 8, 20, 24)
    assert w[2] == MARK_FERMATA and w[3] == MARK_PLAIN and (w[20:] == 0).all()
    assert w.tolist().count(MARK_FERMATA) == 1


def test_marks_change_the_chorale_model_and_training_batches(chorale):
    from symbolic.data.grids import chorale_grids

    songs = chorale_grids("valid", progress=False)[:4]
    b = training_batch(songs, np.random.default_rng(0), batch=8, bars=8, width=128,
                       n_tracks=4, marks=True)
    assert b["marks"].shape == (8, 128) and (b["marks"] == MARK_FERMATA).any()
    model = resolve_model("chorales", "cpu")
    tok, role, pos = (torch.from_numpy(b[k]) for k in ("tokens", "role", "bar_pos"))
    with torch.no_grad():
        h1 = model(tok, role, pos, torch.from_numpy(b["marks"]))
        h0 = model(tok, role, pos)
    assert not torch.allclose(h1, h0)
    nb = training_batch(songs, np.random.default_rng(0), batch=8, bars=8, width=128,
                        n_tracks=4)
    assert "marks" not in nb  # a corpus without marks draws the same batches as before


def test_a_hymn_tune_in_half_notes_is_read_in_its_own_pulse_and_held():
    tune = "corpus:essenFolksong/altdeu10"  # 4/2, the melody moves in half notes
    src = symbolic.load(tune)
    assert melody_pulse(src.tracks[0], src.ticks_per_quarter) == 2.0
    out = symbolic.harmonize(tune, seed=0, steps=4, hold=False)
    assert out.ticks_per_quarter == src.ticks_per_quarter
    assert notes(out.tracks[0]) == notes(src.tracks[0])
    as_written = symbolic.harmonize(tune, seed=0, steps=4, pulse=1, hold=False)
    assert notes(as_written.tracks[0]) == notes(src.tracks[0])
    assert any(notes(a) != notes(b) for a, b in zip(out.tracks[1:], as_written.tracks[1:]))
    with pytest.raises(ArgumentError, match="pulse"):
        symbolic.harmonize(tune, pulse=0)
    held = symbolic.harmonize(tune, seed=0, steps=4)  # the default holds every written note
    assert all(silent_share(t) == 0.0 for t in held.tracks[1:])
    assert notes(held.tracks[0]) == notes(src.tracks[0])
    with pytest.raises(ArgumentError, match="hold"):
        symbolic.harmonize(tune, hold="yes")


def test_harmonize_band_style_writes_bass_and_piano(chorale):
    bach, bars = chorale
    out = symbolic.harmonize(bach, "band", track="Soprano", seed=0, steps=4, bar_ticks=bars)
    assert [t.name for t in out.tracks] == ["Melody", "Bass", "Piano"]
    assert notes(out.tracks[0]) == notes(bach.tracks[0])


def test_harmonize_bad_arguments(chorale):
    bach, _ = chorale
    with pytest.raises(ArgumentError, match="style"):
        symbolic.harmonize(bach, "jazz")
    with pytest.raises(ArgumentError, match="out of range"):
        symbolic.harmonize(bach, track=7)
    with pytest.raises(ArgumentError, match="no track 'Viola'"):
        symbolic.harmonize(bach, track="Viola")
    with pytest.raises(ArgumentError, match="fermatas"):
        symbolic.harmonize(bach, track=0, fermatas="yes")
    with pytest.raises(ArgumentError, match="lack"):
        symbolic.harmonize(bach, track=0, model="band")
    with pytest.raises(SymbolicError):
        symbolic.harmonize("/no/such/tune.musicxml")
    with pytest.raises(ArgumentError, match="model"):
        symbolic.infill(bach, tracks=["alto"], model=3.5)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        symbolic.harmonize(bach, seed=0, steps=2)  # four voices, none named melody: Soprano
    assert not [x for x in w if "highest" in str(x.message)]


def test_harmonize_command(tmp_path):
    out = tmp_path / "satb.musicxml"
    r = subprocess.run([sys.executable, "-m", "symbolic", "harmonize", NAME, "--track",
                        "Soprano", "--steps", "4", "-o", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert [t.name for t in symbolic.load(out).tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    r = subprocess.run([sys.executable, "-m", "symbolic", "harmonize", NAME, "--track", "9",
                        "-o", str(tmp_path / "x.musicxml")], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode != 0 and r.stderr.strip().splitlines()[-1].startswith("error:")
    assert "out of range" in r.stderr and "Traceback" not in r.stderr
