"""symbolic.representations.grid: GETScore grids, their vocabulary and round trips."""

import json

import numpy as np
import pytest
import symusic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbolic.errors import EncodeError
from symbolic.fuzz import seed_midi
from symbolic.harmony import ChordSequence, recognize_chords
from symbolic.representations import grid as G
from symbolic.representations.grid import (EMPTY, PAD, Grid, GridTrack, GridVocab, TrackMap,
                                           chords_from_labels, decode, encode)
from symbolic.timeline import MetricGrid, ScoreMeta

TPQ = 480
STEP = TPQ // 4  # one 16th at resolution 4


def make_score(tracks, *, tpq=TPQ, time_signatures=((0, 4, 4),), tempos=((0, 500000),)):
    """``tracks``: ``[(name, program, is_drum, [(time, duration, pitch, velocity), ...])]``."""
    score = symusic.Score(tpq)
    for name, program, is_drum, notes in tracks:
        track = symusic.Track(name=name, program=program, is_drum=is_drum)
        for t, d, p, v in notes:
            track.notes.append(symusic.Note(t, d, p, v))
        score.tracks.append(track)
    for t, num, den in time_signatures:
        score.time_signatures.append(symusic.TimeSignature(t, num, den))
    for t, mspq in tempos:
        score.tempos.append(symusic.Tempo(t, qpm=60_000_000 / mspq))
        score.tempos[-1].mspq = mspq
    return score


def notes_of(score):
    """Sorted (track name, time, duration, pitch, velocity) rows of every note."""
    rows = []
    for tr in score.tracks:
        n = tr.notes.numpy()
        rows += [(tr.name, int(a), int(b), int(c), int(d))
                 for a, b, c, d in zip(n["time"], n["duration"], n["pitch"], n["velocity"])]
    return sorted(rows)


@pytest.fixture(scope="module")
def seed_scores():
    return [symusic.Score.from_midi(seed_midi(i)) for i in range(4)]


@pytest.fixture(scope="module")
def small_vocab(seed_scores):
    """getmusic-map vocabulary from synthetic pieces, plus the stacks the hand-made tests use."""
    return GridVocab.build(seed_scores, "getmusic", name="seed", coverage=1.0)


@pytest.fixture(scope="module")
def pop909_vocab():
    return GridVocab.load("pop909")


@pytest.fixture(scope="module")
def getmusic_vocab():
    return GridVocab.load("getmusic")


def custom_vocab(stacks, *, all_singles=False, velocity_bins=32):
    """A vocabulary for one grid track 'piano' from explicit stacks (count order = list order)."""
    tm = TrackMap((GridTrack("piano", 0, programs=tuple(range(128))),), chord=True, name="one")
    counts = {"piano": list(range(len(stacks), 0, -1))}
    texts = [" ".join(map(str, sorted(s))) for s in stacks]
    if all_singles:
        texts += [str(p) for p in range(128) if str(p) not in texts]
        counts["piano"] += [0] * (len(texts) - len(counts["piano"]))
    velocities = np.unique(np.rint(np.linspace(1, 127, velocity_bins))).astype(int).tolist()
    return GridVocab("custom", {"piano": texts}, counts=counts, track_map=tm, velocities=velocities)


# ---------------------------------------------------------------------------------------------
# Track maps and layout
# ---------------------------------------------------------------------------------------------

def test_getmusic_map_assigns_by_name_drum_flag_and_program_family():
    score = make_score([("Vocals", 0, False, []), ("Fretless", 35, False, []),
                        ("Kit", 0, True, []), ("Nylon", 24, False, []), ("EP", 4, False, []),
                        ("Pad", 89, False, []), ("Helicopter", 125, False, []),
                        ("Sax", 65, False, []), ("Bass", 0, False, [])])
    names = [G.TRACK_MAPS["getmusic"].tracks[k].name if k >= 0 else None
             for k in G.TRACK_MAPS["getmusic"].assign(score)]
    assert names == ["lead", "bass", "drums", "guitar", "piano", "strings", None, "lead", "bass"]


def test_pop909_map_assigns_by_track_name_only():
    score = make_score([("PIANO", 0, False, []), ("MELODY", 0, False, []),
                        ("bridge", 0, False, []), ("Strings", 48, False, [])])
    assert G.TRACK_MAPS["pop909"].assign(score).tolist() == [2, 0, 1, -1]


def test_row_layout_keeps_getmusic_rows_and_appends_velocity():
    tm = G.TRACK_MAPS["getmusic"]
    assert tm.n_rows() == 14 and tm.chord_rows() == (12, 13)
    names = tm.row_names(velocity=True)
    assert names[:4] == ["lead/onset", "lead/duration", "bass/onset", "bass/duration"]
    assert names[12:14] == ["chord/root", "chord/quality"]
    assert names[14] == "lead/velocity" and tm.velocity_row(5) == 19 == len(names) - 1


def test_track_map_round_trips_through_dict():
    for tm in G.TRACK_MAPS.values():
        back = TrackMap.from_dict(json.loads(json.dumps(tm.to_dict())))
        assert back == tm and hash(back) == hash(tm)


# ---------------------------------------------------------------------------------------------
# Encoding: columns, tokens, report
# ---------------------------------------------------------------------------------------------

def test_columns_follow_the_meter_bar_by_bar():
    # Two 4/4 bars, then 3/4: 16 + 16 + 12 columns; a note on the 3/4 bar's downbeat.
    bar = 4 * TPQ
    score = make_score([("p", 0, False, [(0, STEP, 60, 90), (2 * bar, STEP, 62, 90),
                                         (2 * bar + 3 * TPQ - STEP, STEP, 64, 90)])],
                       time_signatures=((0, 4, 4), (2 * bar, 3, 4)))
    vocab = custom_vocab([], all_singles=True)
    g = encode(score, vocab=vocab)
    assert g.meta.grid.steps_per_bar.tolist() == [16, 16, 12]
    assert g.tokens.shape == (4, 44)
    onset = g.row("piano")
    assert [vocab.stack_pitches(i) for i in onset[onset != PAD]] == [(60,), (62,), (64,)]
    assert np.flatnonzero(onset != PAD).tolist() == [0, 32, 43]


def test_resolution_is_configurable():
    vocab = GridVocab("r12", {"piano": ["60"]}, resolution=12)
    tm = TrackMap((GridTrack("piano", 0, programs=(0,)),), chord=False)
    triplet = TPQ // 3
    score = make_score([("p", 0, False, [(triplet, STEP, 60, 80)])])  # a 16th on a triplet
    g = encode(score, vocab=vocab, track_map=tm, strict=True)
    assert g.tokens.shape == (2, 48)  # 12 steps per quarter, one 4/4 bar
    assert np.flatnonzero(g.tokens[0] != PAD).tolist() == [4]
    assert vocab.durations.tolist() == [d * 3 for d in G.GETMUSIC_DURATIONS]


def test_compound_token_and_lowest_note_duration():
    vocab = custom_vocab([(60, 64, 67)], all_singles=True)
    score = make_score([("p", 0, False, [(0, 4 * STEP, 60, 80), (0, 2 * STEP, 67, 80),
                                         (0, 4 * STEP, 64, 80)])])
    g = encode(score, vocab=vocab)
    assert vocab.token(g.row("piano")[0]) == "piano:60 64 67"
    assert vocab.token(g.row("piano", "duration")[0]) == "dur:4"
    r = g.report
    assert (r.notes_in, r.kept_exact, r.altered, r.dropped) == (3, 2, 1, 0)
    assert r.reasons == {"duration of the stack's lowest note": 1}
    out = notes_of(decode(g))
    assert out == [("piano", 0, 4 * STEP, p, G.DEFAULT_VELOCITY) for p in (60, 64, 67)]


def test_report_counts_every_loss():
    vocab = custom_vocab([], all_singles=True)
    notes = [
        (0, STEP, 60, 80),              # exact
        (STEP + 10, STEP, 62, 80),      # onset off grid (and so its duration in ticks)
        (4 * STEP, 5 * STEP, 64, 80),   # 5 sixteenths: no such class -> 4
        (8 * STEP, STEP, 65, 80),       # two notes of one pitch in one cell: one dropped
        (8 * STEP, STEP, 65, 80),
        (12 * STEP, 60 * STEP, 67, 80),  # longer than the longest class (52)
    ]
    score = make_score([("p", 0, False, notes), ("fx", 0, True, [(0, STEP, 40, 80)])])
    tm = TrackMap((GridTrack("piano", 0, programs=tuple(range(128))),), chord=True, name="one")
    g = encode(score, vocab=vocab, track_map=tm)
    r = g.report
    assert r.notes_in == 7
    assert (r.kept_exact, r.altered, r.dropped) == (2, 3, 2)
    assert r.reasons == {"onset off grid": 1, "duration quantized": 1,
                         "duration over the longest class": 1, "same pitch in one cell": 1,
                         "no grid track": 1}
    assert r.fields == ("pitch", "onset", "duration")
    with pytest.raises(EncodeError, match="hand-made: 3 of 7 notes altered"):
        encode(score, vocab=vocab, track_map=tm, strict=True, source="hand-made")
    assert str(encode(score, vocab=vocab, track_map=tm, source="hand-made").report).startswith(
        "hand-made: 7 notes")


def test_lossless_score_round_trips_note_for_note():
    vocab = custom_vocab([(60, 64, 67), (48, 55)], all_singles=True)
    notes = [(0, 4 * STEP, 48, 80), (0, 4 * STEP, 55, 80), (4 * STEP, 2 * STEP, 60, 80),
             (4 * STEP, 2 * STEP, 64, 80), (4 * STEP, 2 * STEP, 67, 80), (10 * STEP, 0, 72, 80),
             (16 * STEP, 52 * STEP, 36, 80)]
    score = make_score([("piano", 0, False, notes)], time_signatures=((0, 4, 4), (16 * STEP, 6, 8)),
                       tempos=((0, 500000), (16 * STEP, 400000)))
    score.key_signatures.append(symusic.KeySignature(0, -3, 1))
    g = encode(score, vocab=vocab, strict=True)
    assert g.report.lossless and g.report.kept_exact == 7
    out = decode(g)
    assert notes_of(out) == notes_of(score)
    assert [(t.time, t.mspq) for t in out.tempos] == [(0, 500000), (16 * STEP, 400000)]
    assert [(t.time, t.numerator, t.denominator) for t in out.time_signatures] == [
        (0, 4, 4), (16 * STEP, 6, 8)]
    assert [(k.time, k.key, k.tonality) for k in out.key_signatures] == [(0, -3, 1)]
    assert out.ticks_per_quarter == TPQ


def test_out_of_vocabulary_stack_maps_to_largest_overlap():
    vocab = custom_vocab([(60, 64, 67), (60, 64), (62,), (72,)])
    notes = [(0, STEP, p, 80) for p in (60, 64, 67, 71)]          # -> 60 64 67; 71 dropped
    notes += [(4 * STEP, STEP, p, 80) for p in (60, 63, 67)]      # -> 60 64 67: adds 64
    notes += [(8 * STEP, STEP, 50, 80)]                           # overlaps nothing: dropped
    score = make_score([("piano", 0, False, notes)])
    g = encode(score, vocab=vocab)
    on = g.row("piano")
    assert [vocab.token(i) for i in on[[0, 4, 8]]] == ["piano:60 64 67", "piano:60 64 67", "<pad>"]
    r = g.report
    assert (r.kept_exact, r.altered, r.dropped) == (0, 5, 3)
    assert r.reasons["stack substituted"] == 5
    assert r.reasons["stack out of vocabulary"] == 3
    assert r.reasons["notes added by substitution"] == 1
    assert decode(g).note_num() == 6  # 8 in - 3 dropped + 1 added
    # 'subset' never adds a pitch: (60, 63, 67) becomes the single 60... or nothing
    s = encode(score, vocab=vocab, oov="subset")
    assert vocab.token(s.row("piano")[4]) == "<pad>"
    assert "notes added by substitution" not in s.report.reasons
    with pytest.raises(EncodeError):
        encode(score, vocab=vocab, strict=True)


def test_velocity_rows_bin_and_restore():
    vocab = custom_vocab([], all_singles=True, velocity_bins=32)
    vels = [1, 64, 100, 127]
    score = make_score([("piano", 0, False, [(i * STEP, STEP, 60, v) for i, v in enumerate(vels)])])
    g = encode(score, vocab=vocab, velocity=True)
    assert g.tokens.shape[0] == 5 and g.report.fields[-1] == "velocity"
    out = [n[4] for n in notes_of(decode(g))]
    expect = [int(vocab.velocities[np.argmin(np.abs(vocab.velocities - v))]) for v in vels]
    assert out == expect
    binned = sum(o != v for o, v in zip(out, vels))
    assert g.report.reasons.get("velocity binned", 0) == binned == g.report.altered
    # without velocity rows decode writes the default velocity
    assert {n[4] for n in notes_of(decode(encode(score, vocab=vocab)))} == {G.DEFAULT_VELOCITY}


def test_missing_track_is_empty_and_present_track_is_pad(small_vocab, seed_scores):
    g = encode(seed_scores[0], vocab=small_vocab)
    tm = g.track_map
    for k, t in enumerate(tm.tracks):
        row = g.tokens[2 * k]
        if t.name in ("piano", "bass", "drums"):
            assert not np.any(row == EMPTY) and np.any(row != PAD)
        else:
            assert np.all(row == EMPTY) and np.all(g.tokens[2 * k + 1] == EMPTY)
    assert np.all(g.tokens[12:] == EMPTY)  # no chords given, no markers: chord rows EMPTY
    g.validate()


def test_seed_midi_with_tempo_and_meter_changes(small_vocab, seed_scores):
    score = seed_scores[1]
    g = encode(score, vocab=small_vocab)
    out = decode(g)
    r = g.report
    assert r.notes_in == score.note_num()
    added = r.reasons.get("notes added by substitution", 0)
    assert out.note_num() == r.notes_in - r.dropped + added
    assert [(t.time, t.mspq) for t in out.tempos] == [(t.time, t.mspq) for t in score.tempos]
    assert [(t.time, t.numerator) for t in out.time_signatures] == [(0, 4), (480 * 32, 3)]
    assert {t.name for t in out.tracks} == {"piano", "bass", "drums"}
    assert [t.is_drum for t in out.tracks if t.name == "drums"] == [True]
    # notes counted exact come back exactly (grid tracks standing for score tracks)
    names = {0: "piano", 33: "bass"}
    orig = [("drums" if tr.is_drum else names[tr.program], int(a), int(b), int(c))
            for tr in score.tracks
            for a, b, c in zip(*(tr.notes.numpy()[k] for k in ("time", "duration", "pitch")))]
    back = {n[:4] for n in notes_of(out)}
    assert sum(n in back for n in orig) >= r.kept_exact


# ---------------------------------------------------------------------------------------------
# Chords
# ---------------------------------------------------------------------------------------------

def test_chord_rows_from_a_chord_sequence_and_markers():
    vocab = custom_vocab([], all_singles=True)
    bar = 16 * STEP
    score = make_score([("piano", 0, False, [(0, STEP, 60, 80)])])
    seq = chords_from_labels([0, bar // 2], [bar // 2, bar + bar // 4], ["A:min7", "F#:hdim7"])
    g = encode(score, vocab=vocab, chords=seq, grid=MetricGrid.from_score(score, end=2 * bar))
    roots = [vocab.token(i) for i in g.row("chord", "root")]
    quals = [vocab.token(i) for i in g.row("chord", "quality")]
    assert roots[:8] == ["root:A"] * 8 and quals[:8] == ["quality:m7"] * 8
    assert roots[8:20] == ["root:F#"] * 12 and quals[19] == "quality:m7b5"
    assert roots[20:] == ["chord:N"] * 12 and quals[20:] == ["chord:N"] * 12
    out = decode(g)
    assert [(m.time, m.text) for m in out.markers] == [
        (0, "chord:A:min7"), (bar // 2, "chord:F#:hdim7"), (bar + bar // 4, "chord:N")]
    assert encode(out, vocab=vocab, grid=g.meta.grid) == g      # 'auto' reads the markers back
    bare = encode(out, vocab=vocab, grid=g.meta.grid, chords=None)
    assert np.all(bare.row("chord", "root") == EMPTY)


def test_pop909_annotated_chords_and_bars(pop909, pop909_vocab):
    song = pop909.song(3)
    seq = chords_from_labels(*song.chord_ticks(), song.chords.labels)
    g = encode(song.score, vocab=pop909_vocab, bar_ticks=song.bar_ticks(), chords=seq)
    g.validate()
    grid = g.meta.grid
    assert set(song.bar_ticks().tolist()) <= set(grid.bar_ticks.tolist())
    # the chord of each column is the annotation sounding at the column's middle
    ticks = grid.step_ticks()
    mid = (ticks[:-1] + ticks[1:]) // 2
    for c in np.linspace(0, g.n_columns - 1, 25).astype(int):
        red = seq.at([mid[c]])[0].reduce_getmusic()
        root = pop909_vocab.token(g.row("chord", "root")[c])
        assert root == ("chord:N" if red is None else f"root:{G.CHORD_ROOTS[red[0]]}")
    assert encode(decode(g), vocab=pop909_vocab, grid=grid) == g


@pytest.mark.parametrize("segment", ["bar", "beat"])
def test_recognized_chords_change_only_on_segment_edges(getmusic_vocab, segment):
    score = symusic.Score.from_midi(seed_midi(2))
    g = encode(score, vocab=getmusic_vocab, chords=segment)
    root = g.row("chord", "root")
    assert not np.any(root == EMPTY)
    grid = g.meta.grid
    ticks = grid.step_ticks()[:-1]
    edges = recognize_chords(score, segment=segment, downbeats=grid.bar_ticks[:-1]).start
    changes = np.flatnonzero(np.diff(root)) + 1
    assert len(changes) > 0
    # every change happens in the column holding a segment edge
    edge_cols = set(grid.ticks_to_steps(edges, how="floor").tolist()) | set(
        grid.ticks_to_steps(edges).tolist())
    assert set(changes.tolist()) <= edge_cols
    if segment == "bar":
        assert set(changes.tolist()) <= set(grid.bar_first_step.tolist())


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

def test_vocab_ids_are_stable_and_ordered_by_count_then_text(seed_scores, tmp_path):
    a = GridVocab.build(seed_scores, "getmusic", name="x", coverage=0.9)
    b = GridVocab.build(list(reversed(seed_scores)), "getmusic", name="x", coverage=0.9)
    assert a.tokens == b.tokens
    a0, a1 = a.track_slices["piano"]
    counts = a.counts["piano"]
    texts = [t.split(":", 1)[1] for t in a.tokens[a0:a1]]
    assert list(zip([-c for c in counts], texts)) == sorted(zip([-c for c in counts], texts))
    path = a.save(tmp_path / "grid-x.json")
    loaded = GridVocab.load(path)
    assert loaded.tokens == a.tokens and loaded == a
    # loading keeps the stored order even when it is not the count order
    d = json.loads(path.read_text())
    d["tracks"][4]["stacks"] = d["tracks"][4]["stacks"][::-1]
    d["tracks"][4]["counts"] = d["tracks"][4]["counts"][::-1]
    path.write_text(json.dumps(d))
    rev = GridVocab.load(path)
    assert rev.tokens[a0:a1] == a.tokens[a0:a1][::-1]
    d["tracks"][4]["offset"] += 1
    path.write_text(json.dumps(d))
    with pytest.raises(ValueError, match="offset"):
        GridVocab.load(path)


def test_vocab_coverage_and_count_thresholds(seed_scores):
    full = GridVocab.build(seed_scores, "getmusic", name="x", coverage=1.0, all_singles=False)
    for cov in (0.5, 0.8):
        v = GridVocab.build(seed_scores, "getmusic", name="x", coverage=cov, all_singles=False)
        for t in ("piano", "bass"):
            kept, total = v.info["onsets_covered"][t]
            counts = v.counts[t]
            assert kept >= cov * total and kept - counts[-1] < cov * total
            assert v.tokens[slice(*v.track_slices[t])] == \
                full.tokens[slice(*full.track_slices[t])][: len(counts)]
    v = GridVocab.build(seed_scores, "getmusic", name="x", min_count=3, all_singles=False)
    assert min(v.counts["piano"]) >= 3
    full_counts = full.counts["piano"]
    assert len(v.counts["piano"]) == sum(c >= 3 for c in full_counts)
    singles = GridVocab.build(seed_scores, "getmusic", name="x", min_count=10**9)
    assert all(b - a == 128 for a, b in singles.track_slices.values())


def test_shipped_vocabularies_load_by_name(pop909_vocab, getmusic_vocab):
    for name, v in (("pop909", pop909_vocab), ("getmusic", getmusic_vocab)):
        assert G.resolve_vocab(name).name == f"grid-{name}.json"
        assert v.name == name and v.track_map == G.TRACK_MAPS[name]
        assert v.token(0) == "<pad>" and v.token(1) == "<empty>" and v.token(2) == "<mask>"
        assert v.durations.tolist() == list(G.GETMUSIC_DURATIONS)
        assert [v.token(i) for i in v.duration_ids()[:3]] == ["dur:0", "dur:1", "dur:2"]
        assert len(v) < 2 ** 31 and all(b - a >= 128 for a, b in v.track_slices.values())
        assert GridVocab.load(name).tokens == v.tokens  # same ids every load
    assert pop909_vocab.info["files"] == 837
    with pytest.raises(FileNotFoundError):
        GridVocab.load("no-such-vocabulary")


# ---------------------------------------------------------------------------------------------
# Round trips: property tests and real files
# ---------------------------------------------------------------------------------------------

METERS = [(4, 4), (3, 4), (2, 4), (6, 8), (5, 8), (7, 8), (12, 8), (2, 2)]


@st.composite
def metric_grids(draw):
    tpq = draw(st.sampled_from([96, 120, 384, 480, 960]))
    n_bars = draw(st.integers(1, 6))
    if draw(st.booleans()):  # bars from time signatures
        lengths = [draw(st.sampled_from(METERS)) for _ in range(n_bars)]
        ticks = np.concatenate([[0], np.cumsum([n * 4 * tpq // d for n, d in lengths])])
        steps = [n * 16 // d for n, d in lengths]
        nums, dens = [n for n, _ in lengths], [d for _, d in lengths]
        return MetricGrid(tpq, 4, ticks, steps, nums, dens)
    # annotated bars of any length (steps need not fall on whole ticks)
    lengths = draw(st.lists(st.integers(tpq // 3, 6 * tpq), min_size=n_bars, max_size=n_bars))
    score = symusic.Score(tpq)
    return MetricGrid.from_score(score, bar_ticks=np.cumsum([0] + lengths), end=sum(lengths))


@st.composite
def grids(draw, vocab, track_map):
    mg = draw(metric_grids())
    n = mg.n_steps
    velocity = draw(st.booleans())
    tempos = [(0, draw(st.integers(200_000, 1_500_000)))]
    if mg.n_bars > 1 and draw(st.booleans()):
        tempos.append((int(mg.bar_ticks[1]), draw(st.integers(200_000, 1_500_000))))
    meta = ScoreMeta(mg.ticks_per_quarter, mg, tempos,
                     [(int(t), int(a), int(b)) for t, a, b in
                      zip(mg.bar_ticks[:1], mg.numerators[:1], mg.denominators[:1])],
                     [(0, draw(st.integers(-7, 7)), draw(st.integers(0, 1)))])
    tok = np.full((track_map.n_rows(velocity), n), EMPTY, dtype=np.int32)
    for k, t in enumerate(track_map.tracks):
        if not draw(st.booleans()):
            continue
        a, b = vocab.track_slices[t.name]
        on = np.array(draw(st.lists(st.one_of(st.just(PAD), st.integers(a, b - 1)),
                                    min_size=n, max_size=n)))
        stack = on != PAD
        dur = np.array(draw(st.lists(st.integers(0, len(vocab.durations) - 1),
                                     min_size=n, max_size=n)))
        tok[2 * k] = on
        tok[2 * k + 1] = np.where(stack, vocab.duration_offset + dur, PAD)
        if velocity:
            vel = np.array(draw(st.lists(st.integers(0, len(vocab.velocities) - 1),
                                         min_size=n, max_size=n)))
            tok[track_map.velocity_row(k)] = np.where(stack, vocab.velocity_offset + vel, PAD)
    if track_map.chord and draw(st.booleans()):
        codes = np.array(draw(st.lists(st.integers(-1, 12 * 8 - 1), min_size=n, max_size=n)))
        r, q = track_map.chord_rows()
        tok[r] = np.where(codes < 0, vocab.no_chord, vocab.root_offset + codes // 8)
        tok[q] = np.where(codes < 0, vocab.no_chord, vocab.quality_offset + codes % 8)
    return Grid(tok, meta, track_map, vocab, velocity).validate()


def _round_trip(g):
    out = decode(g)
    back = encode(out, vocab=g.vocab, track_map=g.track_map, grid=g.meta.grid,
                  velocity=g.velocity)
    assert back == g
    assert back.report.lossless and back.report.notes_in == out.note_num()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_pop909_grids_round_trip(data, pop909_vocab):
    _round_trip(data.draw(grids(pop909_vocab, G.TRACK_MAPS["pop909"])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_property_getmusic_grids_round_trip(data, getmusic_vocab):
    _round_trip(data.draw(grids(getmusic_vocab, G.TRACK_MAPS["getmusic"])))


@settings(max_examples=40, deadline=None)
@given(mg=metric_grids())
def test_step_ticks_agree_with_the_metric_grid(mg):
    assert mg.step_ticks().tolist() == mg.steps_to_ticks(np.arange(mg.n_steps + 1)).tolist()


def test_invalid_grids_are_refused_by_validate(pop909_vocab):
    score = make_score([("PIANO", 0, False, [(0, STEP, 60, 80)])])
    g = encode(score, vocab=pop909_vocab)
    bad = Grid(g.tokens.copy(), g.meta, g.track_map, g.vocab)
    bad.tokens[5, 0] = PAD  # a stack without duration
    with pytest.raises(ValueError, match="duration row"):
        bad.validate()
    bad = Grid(g.tokens.copy(), g.meta, g.track_map, g.vocab)
    bad.tokens[4, 1] = pop909_vocab.track_slices["MELODY"][0]  # another track's stack
    with pytest.raises(ValueError, match="non-stack"):
        bad.validate()
    # decode is lenient on model output: MASK and foreign stacks are silent
    bad.tokens[4, 2] = G.MASK
    assert decode(bad).note_num() == 1


def test_real_files_round_trip_exactly(pop909, pop909_vocab, getmusic_vocab, seed_scores):
    from symbolic.data.music21_corpus import bach_chorales

    cases = []
    for i in (1, 2, 909):
        song = pop909.song(i)
        seq = chords_from_labels(*song.chord_ticks(), song.chords.labels)
        cases.append((song.score, pop909_vocab, dict(bar_ticks=song.bar_ticks(), chords=seq)))
    for _, score in bach_chorales(limit=2):
        cases.append((score, getmusic_vocab, dict(chords="beat")))
    cases.append((seed_scores[3], getmusic_vocab, dict(chords="bar")))
    for score, vocab, kw in cases:
        for velocity in (False, True):
            g = encode(score, vocab=vocab, velocity=velocity, **kw)
            g.validate()
            assert g.report.notes_in == score.note_num()
            out = decode(g)
            back = encode(out, vocab=vocab, grid=g.meta.grid, velocity=velocity)
            assert back == g and back.report.lossless
            if vocab is getmusic_vocab and score is not seed_scores[3]:
                # Through MIDI bytes too (chord markers, tempos and meters survive the file).
                # Not for every grid: a MIDI file cannot hold two overlapping notes of one
                # pitch in a track, which decode writes when a long cell meets a new onset.
                again = symusic.Score.from_midi(bytes(out.dumps_midi()))
                assert encode(again, vocab=vocab, grid=g.meta.grid, velocity=velocity) == g
            # overlaps='trim' writes what a MIDI file holds: every note survives the bytes.
            trimmed = decode(g, overlaps="trim")
            again = symusic.Score.from_midi(bytes(trimmed.dumps_midi()))
            for a, b in zip(trimmed.tracks, again.tracks):
                assert _note_set(a) == _note_set(b)
            assert trimmed.note_num() <= out.note_num()


def _note_set(track):
    arr = track.notes.numpy()
    return sorted(zip(*(arr[k].tolist() for k in ("time", "duration", "pitch", "velocity"))))


def test_trim_overlaps_keeps_fixed_notes_exact():
    #           0   1   2   3   4   5
    time = np.array([0, 10, 10, 20, 0, 40])
    dur = np.array([30, 5, 8, 5, 4, 10])
    pitch = np.array([60, 60, 60, 60, 62, 60])
    d, keep = G.trim_overlaps(time, dur, pitch)
    # note 0 ends where note 2 (the longer of the two at tick 10) starts
    assert keep.tolist() == [True, False, True, True, True, True]
    assert d.tolist() == [10, 5, 8, 5, 4, 10]
    d, keep = G.trim_overlaps(time, dur, pitch, mutable=np.array([0, 1, 1, 1, 1, 1], bool))
    # fixed note 0 sounds until 30: the new notes starting under it go, note 5 stays
    assert keep.tolist() == [True, False, False, False, True, True]
    assert d.tolist() == dur.tolist()
    d, keep = G.trim_overlaps(time, dur, pitch, mutable=np.array([1, 1, 0, 1, 1, 1], bool))
    assert keep.tolist() == [True, False, True, True, True, True] and d[0] == 10
    with pytest.raises(ValueError, match="overlaps"):
        decode(encode(symusic.Score.from_midi(seed_midi(0)), vocab="getmusic"), overlaps="cut")


@settings(max_examples=40, deadline=None)
@given(mg=metric_grids(), ticks=st.lists(st.integers(0, 40_000), min_size=1, max_size=50))
def test_positions_agree_with_the_metric_grid(mg, ticks):
    t = np.array(ticks, dtype=np.int64)
    assert mg.positions(t).tolist() == mg.ticks_to_steps(t, how="exact").tolist()
    end = t + np.array(ticks[::-1], dtype=np.int64) // 3
    pos, end_pos = mg.positions(t, end)
    assert end_pos.tolist() == mg.ticks_to_steps(end, how="exact").tolist()
