"""Lead-sheet events (CM-HRNN): layout, splitting, loss report, round trips, MusicXML export."""

from collections import Counter

import numpy as np
import pytest
import symusic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symbolic
from symbolic.errors import EncodeError, ParseError
from symbolic.harmony import Chord, ChordSequence
from symbolic.representations import leadsheet as L
from symbolic.timeline import MetricGrid, ScoreMeta

TPQ = 480
STEP = TPQ // 4  # ticks per 16th step


# --------------------------------------------------------------------------- helpers

def make_score(notes, *, ts=((0, 4, 4),), name="MELODY", extra_tracks=()):
    """A 480-tpq score; ``notes``: (onset tick, duration ticks, pitch) of the melody track."""
    score = symusic.Score(TPQ)
    for t, n, d in ts:
        score.time_signatures.append(symusic.TimeSignature(t, n, d))
    for tname, tnotes in ((name, notes),) + tuple(extra_tracks):
        track = symusic.Track(tname)
        for t, d, p in tnotes:
            track.notes.append(symusic.Note(t, d, p, 90))
        score.tracks.append(track)
    return score


def chords_at(spans):
    """ChordSequence from (start tick, end tick, label)."""
    return ChordSequence(np.array([s for s, _, _ in spans]), np.array([e for _, e, _ in spans]),
                         [Chord.parse(c) for _, _, c in spans])


def flag_grid(bar_steps):
    bars = np.concatenate([[0], np.cumsum(bar_steps)])
    steps = np.asarray(bar_steps)
    nums = np.where(steps % 4 == 0, steps // 4, np.where(steps % 2 == 0, steps // 2, steps))
    dens = np.where(steps % 4 == 0, 4, np.where(steps % 2 == 0, 8, 16))
    grid = MetricGrid(TPQ, 4, bars * STEP, steps, nums, dens)
    ts = [(int(bars[i]) * STEP, int(nums[i]), int(dens[i])) for i in range(len(steps))
          if i == 0 or (nums[i], dens[i]) != (nums[i - 1], dens[i - 1])]
    return ScoreMeta(TPQ, grid, tempos=[(0, 500_000)], time_signatures=ts)


# --------------------------------------------------------------------------- layout

def test_feature_layout():
    assert L.FIELD_SIZES == (2, 49, 16, 130)
    assert L.N_FEATURES == 197 and L.N_MODEL_INPUTS == 197 + 49 + 16
    ev = L.Events(np.array([[1, 5, 3, 62], [0, 5, 3, 1], [0, 9, 7, 0], [1, 0, 15, 129]]))
    mh = ev.to_multi_hot()
    assert mh.shape == (4, 197) and mh.dtype == np.uint8
    assert np.all(mh.sum(axis=1) == 4)
    assert mh[0, 1] == 1 and mh[0, 2 + 5] == 1 and mh[0, 51 + 3] == 1 and mh[0, 67 + 62] == 1
    assert L.Events.from_multi_hot(mh) == ev
    x = ev.model_inputs()
    assert x.shape == (4, 262) and np.all(x.sum(axis=1) == 6)
    # Next chord: 5, 9, 0, then 0 after the end; elapsed steps where the next event starts.
    assert [int(np.argmax(r[197:246])) for r in x] == [5, 9, 0, 0]
    assert [int(np.argmax(r[246:])) for r in x] == [4, 8, 0, 0]
    assert ev.onsets().tolist() == [0, 4, 8, 16] and ev.positions().tolist() == [0, 4, 8, 0]


# --------------------------------------------------------------------------- encoding

def test_split_at_bar_lines_chord_changes_and_16_steps():
    # C4 for 3 beats from beat 3 (crosses the bar line), rest, then a 6-beat E4.
    score = make_score([(2 * TPQ, 3 * TPQ, 60), (6 * TPQ, 6 * TPQ, 64)])
    chords = chords_at([(0, 4 * TPQ, "C:maj"), (4 * TPQ, 4 * TPQ + 2 * STEP, "A:min"),
                        (4 * TPQ + 2 * STEP, 12 * TPQ, "G:7")])
    ev = L.encode(score, chords=chords)
    C, Am, G7 = 1 + 0 * 4 + 0, 1 + 9 * 4 + 1, 1 + 7 * 4 + 2
    assert ev.array.tolist() == [
        [1, C, 7, 0],        # rest, beats 1-2
        [0, C, 7, 62],       # C4 starts at beat 3 (pitch + 2)
        [1, Am, 1, 1],       # bar line: sustain, new chord
        [0, G7, 1, 1],       # chord change: sustain
        [0, G7, 3, 0],       # rest until beat 2
        [0, G7, 7, 66],      # E4, 2 beats to the bar line
        [1, G7, 15, 1],      # whole bar of sustain (16 steps)
    ]
    assert L.validate(ev) == []
    assert ev.report.lossless and ev.report.notes_in == 2
    ls = L.to_leadsheet(ev)
    assert ls.onset.tolist() == [8, 24] and ls.duration.tolist() == [12, 24]
    assert ls.pitch.tolist() == [60, 64]
    assert [str(c) for c in ls.chords] == ["C", "Am", "G7"]


def test_long_notes_and_rests_split_greedily():
    # One 9-beat note in a 12/4 bar: 16 + 16 + 4 steps.
    score = make_score([(0, 9 * TPQ, 67)], ts=((0, 12, 4),))
    ev = L.encode(score, chords=chords_at([(0, 9 * TPQ, "D:min")]))
    assert ev.array[:, 2:].tolist() == [[15, 69], [15, 1], [3, 1]]
    assert ev.bar.tolist() == [1, 0, 0]
    # A rest longer than 16 steps (under a chord, after the note) splits the same way.
    score = make_score([(0, TPQ, 67)], ts=((0, 12, 4),))
    ev = L.encode(score, chords=chords_at([(0, 12 * TPQ, "D:min")]))
    assert ev.array[:, 2:].tolist() == [[3, 69], [15, 0], [15, 0], [11, 0]]
    assert L.validate(ev) == []


def test_loss_report_counts_each_cause():
    score = make_score([
        (0, TPQ, 60),                 # exact
        (TPQ + 7, TPQ - 7, 62),       # onset off the grid
        (2 * TPQ, 100, 64),           # duration off the grid
        (3 * TPQ, 2 * TPQ, 65),       # overlaps the next note: cut
        (4 * TPQ, TPQ, 67),           # same step as the next one, lower: dropped
        (4 * TPQ + 20, TPQ - 20, 72), # rounds onto the same step, higher: kept, onset moved
    ])
    ls = L.from_score(score, chords=chords_at([(0, 8 * TPQ, "C:maj")]))
    r = ls.report
    assert (r.notes_in, r.kept_exact, r.altered, r.dropped) == (6, 1, 4, 1)
    assert r.reasons == Counter(onset_quantized=2, duration_quantized=1, overlap_cut=1,
                                same_step_onset=1)
    assert ls.pitch.tolist() == [60, 62, 64, 65, 72]
    assert ls.duration.tolist() == [4, 4, 1, 4, 4]  # 100 ticks round to one step
    with pytest.raises(EncodeError, match="altered"):
        L.from_score(score, chords=chords_at([(0, 8 * TPQ, "C:maj")]), strict=True, source="x.mid")
    exact = make_score([(0, TPQ, 60), (TPQ, 2 * TPQ, 62)])
    assert L.from_score(exact, chords=chords_at([]), strict=True).report.lossless


def test_encode_takes_a_score_and_names_the_source():
    from symbolic.errors import TickTimeError

    score = make_score([(0, TPQ, 60), (TPQ + 7, TPQ - 7, 62)])
    chords = chords_at([(0, 8 * TPQ, "C:maj")])
    ev = L.encode(score, chords=chords, source="x.mid")
    assert str(ev.report).startswith("x.mid: 2 notes") and ev.report.altered == 1
    with pytest.raises(EncodeError, match="x.mid"):
        L.encode(score, chords=chords, strict=True, source="x.mid")
    sheet = L.from_score(score, chords=chords)
    assert L.encode_leadsheet(sheet) == ev
    with pytest.raises(TickTimeError, match="encode_leadsheet"):
        L.encode(sheet)


def test_highest_voice_and_track_choice():
    upper = [(0, 2 * TPQ, 72), (2 * TPQ, 2 * TPQ, 74)]
    lower = [(0, 4 * TPQ, 60), (TPQ, TPQ, 76), (3 * TPQ, TPQ, 55)]
    score = make_score(upper, name="Soprano", extra_tracks=(("Alto", lower),))
    ls = L.from_score(score, melody=None, chords="recognize")
    # 76 is the top sounding pitch at its onset and cuts the 72; 60 and 55 lie below.
    assert ls.pitch.tolist() == [72, 76, 74] and ls.onset.tolist() == [0, 4, 8]
    assert ls.report.reasons["below_top_voice"] == 2 and ls.report.reasons["overlap_cut"] == 1
    assert L.from_score(score, melody="soprano").pitch.tolist() == [72, 74]
    assert L.from_score(score, melody=1).report.notes_in == 3
    with pytest.raises(EncodeError, match="no track named 'MELODY'"):
        L.from_score(score)


def test_chords_from_track_and_decoded_chord_track():
    score = make_score([(0, 4 * TPQ, 60)])
    spans = [(0, TPQ, "C:maj"), (TPQ, 2 * TPQ, "F#:min7"), (2 * TPQ, 4 * TPQ, "Bb:hdim7")]
    ls = L.from_score(score, chords=chords_at(spans))
    out = ls.to_score()
    assert [t.name for t in out.tracks] == ["MELODY", "CHORDS"]
    block = out.tracks[1].notes.numpy()
    assert block["pitch"][block["time"] == TPQ].tolist() == [54, 57, 61, 64]  # F#3 A3 C#4 E4
    seq = L.chords_from_track(out.tracks[1])
    assert [c.to_harte() for c in seq.chords] == ["C:maj", "F#:min7", "Bb:hdim7"]
    assert L.from_score(out).chord_id.tolist() == ls.chord_id.tolist()
    assert ls.chord_index.tolist() == [1, 1 + 6 * 4 + 1, 1 + 10 * 4 + 3]
    assert ls.chord_stats["reduced"] == 2


def test_unsorted_overlapping_chords_and_short_grid():
    score = make_score([(0, 8 * TPQ, 60)])
    seq = ChordSequence(np.array([2 * TPQ, 0]), np.array([4 * TPQ, 3 * TPQ]),
                        [Chord.parse("G:maj"), Chord.parse("C:maj")])
    ls = L.from_score(score, chords=seq)
    assert ls.chord_start.tolist() == [0, 8] and ls.chord_end.tolist() == [8, 16]
    assert ls.chord_stats["cut"] == 1
    assert ls.chord_sequence().start.tolist() == [0, 2 * TPQ]
    # A given grid shorter than the music is extended by repeating its last bar.
    short = flag_grid([16]).grid
    ls = L.from_score(score, chords=seq, grid=short)
    assert ls.report.lossless and ls.duration.tolist() == [32]
    assert ls.grid.bar_ticks[-1] >= 8 * TPQ and np.all(ls.grid.steps_per_bar == 16)


def test_chord_ids_round_trip():
    for label in ["C:maj", "F#:min7", "Bb:hdim7/b3", "A:sus4(b7)", "E:maj/5", "N"]:
        ch = Chord.parse(label)
        assert L.chord_of_id(L.chord_id(ch)) == ch
        assert L.chord_id(label) == L.chord_id(ch)


# --------------------------------------------------------------------------- validity

def test_invalid_events_are_named():
    ok = np.array([[1, 5, 3, 62], [0, 5, 3, 64], [0, 5, 7, 0], [1, 5, 15, 70]])
    assert L.validate(ok) == []
    cases = {
        "sustain events without a note": [[1, 5, 3, 0], [0, 5, 3, 1], [0, 5, 7, 62],
                                          [1, 5, 15, 70]],
        "non-canonical": [[1, 5, 3, 62], [0, 5, 3, 1], [0, 5, 7, 0], [1, 5, 15, 70]],
        "first event without bar flag": [[0, 5, 3, 62]],
        "trailing rest without chord": [[1, 5, 3, 62], [0, 0, 3, 0]],
        "outside 0..129": [[1, 5, 3, 130]],
    }
    for what, rows in cases.items():
        problems = L.validate(np.array(rows))
        assert any(what in p for p in problems), (what, problems)
        with pytest.raises(ParseError, match="invalid lead-sheet events"):
            L.decode(np.array(rows))
    meta = flag_grid([16, 16])
    wrong_bar = np.array([[1, 5, 3, 62], [1, 5, 3, 64], [0, 5, 7, 0], [1, 5, 15, 70]])
    assert any("bar flags" in p for p in L.validate(wrong_bar, meta))
    crossing = np.array([[1, 5, 11, 62], [0, 5, 7, 64], [0, 5, 15, 70]])
    assert any("crossing a bar line" in p for p in L.validate(crossing, meta))
    # Lenient decoding reads a sustain after a rest as a rest.
    score = L.decode(np.array(cases["sustain events without a note"]), strict=False)
    assert [n.pitch for n in score.tracks[0].notes] == [60, 68]


# --------------------------------------------------------------------------- property tests

@st.composite
def valid_events(draw):
    """Valid events (module docstring rules) and the grid they were built on."""
    bar_steps = draw(st.lists(st.sampled_from([16, 12, 8, 6, 24, 20, 3]), min_size=1, max_size=5))
    starts = np.concatenate([[0], np.cumsum(bar_steps)])
    total = int(starts[-1])
    end = draw(st.integers(1, total))
    rows, pos = [], 0
    while pos < end:
        bar_end = int(starts[np.searchsorted(starts, pos, side="right")])
        is_bar = pos in starts
        d = draw(st.integers(1, min(16, bar_end - pos, end - pos)))
        prev = rows[-1] if rows else None
        chord = prev[1] if prev is not None and draw(st.booleans()) else draw(st.integers(0, 48))
        reason = prev is None or is_bar or chord != prev[1] or prev[2] == 15
        kinds = ["note"]
        if prev is None or prev[3] != L.REST or reason:
            kinds.append("rest")
        if prev is not None and prev[3] != L.REST and reason:
            kinds.append("sustain")
        kind = draw(st.sampled_from(kinds))
        note = {"note": draw(st.integers(0, 127)) + 2, "rest": L.REST, "sustain": L.SUSTAIN}[kind]
        rows.append([int(is_bar), chord, d - 1, note])
        pos += d
    if rows[-1][3] == L.REST and rows[-1][1] == 0:
        rows[-1][3] = 2 + draw(st.integers(0, 127))
    return np.array(rows), bar_steps


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_events())
def test_events_round_trip_through_score(case):
    rows, bar_steps = case
    meta = flag_grid(bar_steps)
    x = L.Events(rows, meta)
    assert L.validate(x) == []
    score = L.decode(x)
    assert isinstance(score, symusic.core.ScoreTick)
    assert L.encode(score, grid=meta.grid) == x
    # Without a grid the bar flags make the bars; the score's time signatures bring them back.
    bare = L.decode(L.Events(rows))
    assert L.encode(bare) == x
    assert L.to_leadsheet(x).to_events() == x


@st.composite
def random_scores(draw):
    n = draw(st.integers(0, 25))
    notes = [(draw(st.integers(0, 8000)), draw(st.integers(1, 3000)), draw(st.integers(0, 127)))
             for _ in range(n)]
    num = draw(st.sampled_from([2, 3, 4, 5, 6, 7]))
    den = draw(st.sampled_from([4, 8]))
    k = draw(st.integers(0, 8))
    cuts = sorted(set(draw(st.lists(st.integers(0, 9000), min_size=k, max_size=k))))
    vocabulary = st.sampled_from(["C:maj", "A:min", "G:7", "B:dim", "F:maj7/3", "D:sus4", "N"])
    labels = draw(st.lists(vocabulary, min_size=len(cuts), max_size=len(cuts)))
    spans = [(a, b, c) for a, b, c in zip(cuts[:-1], cuts[1:], labels)]
    return make_score(notes, ts=((0, num, den),)), chords_at(spans)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_scores())
def test_any_score_encodes_to_valid_events(case):
    score, chords = case
    ev = L.encode(score, chords=chords)
    r = ev.report
    assert r.kept_exact + r.altered + r.dropped == r.notes_in == len(score.tracks[0].notes)
    assert L.validate(ev) == []
    ls = L.from_score(score, chords=chords)
    assert np.all(ls.duration >= 1) and np.all(ls.onset[1:] >= ls.onset[:-1] + ls.duration[:-1])
    assert L.encode(L.decode(ev), grid=ev.meta.grid) == ev
    # Notes reported exact come back with the same ticks.
    back = L.decode(ev).tracks[0].notes.numpy()
    src = score.tracks[0].notes.numpy()
    got = set(zip(back["time"].tolist(), back["duration"].tolist(), back["pitch"].tolist()))
    want = list(zip(src["time"].tolist(), src["duration"].tolist(), src["pitch"].tolist()))
    assert sum(n in got for n in want) >= r.kept_exact


# --------------------------------------------------------------------------- real files

def test_pop909_songs_round_trip_exactly(pop909):
    for i in (1, 2, 500, 909):
        song = pop909.song(i)
        ls = L.from_pop909(song)
        r = ls.report
        assert r.notes_in == len(song.track("MELODY").notes)
        assert r.kept_exact + r.altered + r.dropped == r.notes_in
        assert r.dropped <= 0.05 * r.notes_in
        ev = ls.to_events()
        assert L.validate(ev) == []
        score = L.decode(ev)
        assert [t.name for t in score.tracks] == ["MELODY", "CHORDS"]
        assert L.encode(score, grid=ev.meta.grid) == ev
        # Bars are the annotated downbeats, not the (wrong) MIDI time signature.
        bars = song.bar_ticks()
        assert np.all(np.isin(bars, ls.grid.bar_ticks))
        # The chord of each span is the annotation's chord at that time.
        start_s = ls.grid.steps_to_ticks(ls.chord_start)
        from symbolic.timeline import ticks_to_seconds

        labels = song.chords.label_at(ticks_to_seconds(song.score, start_s + 1))
        assert [Chord.parse(x).reduce_cmhrnn() for x in labels] == ls.chord_index.tolist()


def test_pop909_song1_known_figures(pop909):
    ls = L.from_pop909(pop909.song(1))
    assert len(ls) == 264 and ls.report.dropped == 0
    # Performed durations: onsets sit on the grid, ends mostly do not.
    assert ls.report.reasons == Counter(duration_quantized=264)
    ev = ls.to_events()
    bars = ls.grid.bar_first_step
    assert ev.bar.sum() == np.count_nonzero(bars < ev.steps().sum())


def test_bach_chorales_round_trip():
    from symbolic.data.music21_corpus import bach_chorales

    for name, score in bach_chorales(limit=3):
        ls = L.from_score(score, melody=0, source=name)
        assert ls.report.lossless and len(ls) == len(score.tracks[0].notes)
        assert len(ls.chord_id) > 5
        ev = ls.to_events()
        assert L.encode(L.decode(ev), grid=ev.meta.grid) == ev
        assert L.encode(L.decode(ev)) == ev  # the decoded time signatures give the same bars


# --------------------------------------------------------------------------- MusicXML

def _reread(path):
    from music21 import converter, harmony, note

    part = converter.parse(str(path)).parts[0]
    symbols = list(part.recurse().getElementsByClass(harmony.ChordSymbol))
    notes = list(part.stripTies().recurse().getElementsByClass(note.Note))
    return part, symbols, notes


def test_musicxml_export_reads_back(tmp_path):
    from music21 import harmony

    score = make_score([(0, 3 * TPQ, 60), (3 * TPQ, 2 * TPQ + STEP, 62), (7 * TPQ, TPQ, 64)],
                       ts=((0, 3, 4),))
    spans = [(0, 3 * TPQ, "C:maj"), (3 * TPQ, 4 * TPQ, "A:min7"), (4 * TPQ, 6 * TPQ, "G:7/3")]
    ls = L.from_score(score, chords=chords_at(spans))
    path = L.save_musicxml(ls, tmp_path / "lead.musicxml", title="test")
    part, symbols, notes = _reread(path)
    assert len(part.getElementsByClass("Measure")) == 3
    named = [s for s in symbols if not isinstance(s, harmony.NoChord)]
    assert [Chord.parse(s).to_harte() for s in named] == ["C:maj", "A:min7", "G:7/3"]
    assert any(isinstance(s, harmony.NoChord) for s in symbols)  # chords stop at beat 7
    assert [n.pitch.midi for n in notes] == [60, 62, 64]
    assert [float(n.quarterLength) for n in notes] == [3.0, 2.25, 1.0]
    assert [float(n.getOffsetInHierarchy(part)) for n in notes] == [0.0, 3.0, 7.0]


def test_musicxml_export_pop909(pop909, tmp_path):
    ls = L.from_pop909(pop909.song(3))
    path = ls.save_musicxml(tmp_path / "003.mxl")
    part, symbols, notes = _reread(path)
    first = part.getElementsByClass("Measure")[0]
    # The first bar (up to the first annotated downbeat) is a pickup.
    assert ls.grid.steps_per_bar[0] == 8 < ls.grid.steps_per_bar[1]
    assert first.number == 0 and first.duration.quarterLength == 2.0
    assert [n.pitch.midi for n in notes] == ls.pitch.tolist()
    assert [float(n.quarterLength) for n in notes] == (ls.duration / 4).tolist()
    assert [Chord.parse(s).reduce_cmhrnn() for s in symbols if s.root() is not None] \
        == ls.chord_index.tolist()


# --------------------------------------------------------------------------- whole corpora
