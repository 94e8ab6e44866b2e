"""symbolic.metrics: hand-computed values, agreement with MusPy 0.5.0, edge cases, OA."""

import math

import numpy as np
import pytest
import symusic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbolic import metrics as M
from symbolic.errors import EmptyScoreError

import muspy  # noqa: E402

TPQ = 480
BAR = 4 * TPQ


def make_score(*tracks, tpq=TPQ, time_signatures=()):
    """A tick-time score from ``[(is_drum, [(time, duration, pitch), ...]), ...]``."""
    score = symusic.Score(tpq)
    for is_drum, notes in tracks:
        track = symusic.Track(program=0, is_drum=is_drum)
        for time, duration, pitch in notes:
            track.notes.append(symusic.Note(time, duration, pitch, 80))
        score.tracks.append(track)
    for time, num, den in time_signatures:
        score.time_signatures.append(symusic.TimeSignature(time, num, den))
    return score


def to_muspy(score):
    """The same notes as a muspy.Music, built directly (no MIDI round trip)."""
    tracks = []
    for t in score.tracks:
        n = t.notes.numpy()
        notes = [muspy.Note(int(a), int(p), int(d), 80)
                 for a, d, p in zip(n["time"], n["duration"], n["pitch"])]
        tracks.append(muspy.Track(program=0, is_drum=t.is_drum, notes=notes))
    return muspy.Music(resolution=score.ticks_per_quarter, tracks=tracks)


def muspy_all(music, measure_resolution):
    return {
        "pitch_range": muspy.pitch_range(music),
        "n_pitches_used": muspy.n_pitches_used(music),
        "n_pitch_classes_used": muspy.n_pitch_classes_used(music),
        "polyphony": muspy.polyphony(music),
        "polyphony_rate": muspy.polyphony_rate(music),
        "pitch_entropy": muspy.pitch_entropy(music),
        "pitch_class_entropy": muspy.pitch_class_entropy(music),
        "scale_consistency": muspy.scale_consistency(music),
        "empty_beat_rate": muspy.empty_beat_rate(music),
        "empty_measure_rate": muspy.empty_measure_rate(music, measure_resolution),
        "groove_consistency": muspy.groove_consistency(music, measure_resolution),
        "drum_in_pattern_rate": muspy.drum_in_pattern_rate(music, "duple"),
        "drum_pattern_consistency": muspy.drum_pattern_consistency(music),
    }


def assert_same(got, want, tol=1e-9, skip=()):
    for name, w in want.items():
        if name in skip:
            continue
        g = got[name]
        if isinstance(w, float) and math.isnan(w):
            assert math.isnan(g), (name, g, w)
        else:
            assert g == pytest.approx(w, abs=tol), (name, g, w)


# --- hand-computed values ------------------------------------------------------------------

C_MAJOR = [60, 62, 64, 65, 67, 69, 71]


def test_c_major_scale():
    score = make_score((False, [(i * TPQ, TPQ, p) for i, p in enumerate(C_MAJOR)]))
    assert M.pitch_range(score) == 11
    assert M.n_pitches_used(score) == 7
    assert M.n_pitch_classes_used(score) == 7
    assert M.pitch_entropy(score) == pytest.approx(math.log2(7))
    assert M.pitch_class_entropy(score) == pytest.approx(math.log2(7))
    assert M.scale_consistency(score) == 1.0
    assert M.pitch_in_scale_rate(score, 9, "minor") == 1.0  # A minor: same pitch classes
    assert M.pitch_in_scale_rate(score, 2, "major") == pytest.approx(5 / 7)  # D major: F, C out
    assert M.polyphony(score) == 1.0
    assert M.polyphony_rate(score) == 0.0
    # 7 beats of notes; the 8th beat line (tick 3360 = length) is touched by the last note's
    # end, MusPy's inclusive arithmetic, so no beat is empty.
    assert M.empty_beat_rate(score) == 0.0
    all_ = M.compute_all(score)
    assert set(all_) == set(M.METRICS)
    assert all_["pitch_class_entropy"] == pytest.approx(math.log2(7))
    assert math.isnan(all_["drum_pattern_consistency"])  # no drums


def test_pitch_class_entropy_of_two_classes():
    # three Cs (two octaves) and one G: p = (3/4, 1/4)
    score = make_score((False, [(0, TPQ, 48), (TPQ, TPQ, 60), (2 * TPQ, TPQ, 72), (0, TPQ, 67)]))
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert M.pitch_class_entropy(score) == pytest.approx(h)
    assert M.pitch_entropy(score) == pytest.approx(2.0)  # four equiprobable pitches
    assert M.pitch_range(score) == 24


def test_empty_beats():
    # eighth notes on beats 0, 2 and 4: length 2160 ticks, 2160 // 480 + 1 = 5 beats, 2 empty
    score = make_score((False, [(0, 240, 60), (2 * TPQ, 240, 62), (4 * TPQ, 240, 64)]))
    assert M.empty_beat_rate(score) == pytest.approx(2 / 5)


def test_polyphony_of_triad_then_single_note():
    score = make_score((False, [(0, BAR, 60), (0, BAR, 64), (0, BAR, 67), (BAR, TPQ, 72)]))
    length = BAR + TPQ
    assert M.polyphony(score) == pytest.approx((3 * BAR + TPQ) / length)
    assert M.polyphony_rate(score) == pytest.approx(BAR / length)  # > 2 pitches
    assert M.polyphony_rate(score, threshold=0) == 1.0


def test_overlapping_notes_of_one_pitch_count_once():
    # two Cs overlapping on [240, 480): the piano roll is boolean, so one pitch sounds
    score = make_score((False, [(0, TPQ, 60), (240, TPQ, 60)]))
    assert M.polyphony(score) == 1.0
    two = make_score((False, [(0, TPQ, 60), (240, TPQ, 61)]))
    assert M.polyphony(two) == pytest.approx((240 + 2 * 240 + 240) / 720)


def test_drum_metrics_and_drums_left_out_of_pitch_metrics():
    drums = (True, [(0, 60, 36), (120, 60, 38), (160, 60, 42), (240, 60, 36)])
    piano = (False, [(0, TPQ, 60), (0, TPQ, 67)])
    score = make_score(piano, drums)
    # tpq 480: duple grid every 120 ticks, triple every 160
    assert M.drum_in_pattern_rate(score, "duple") == pytest.approx(3 / 4)
    assert M.drum_in_pattern_rate(score, "triple") == pytest.approx(2 / 4)
    assert M.drum_pattern_consistency(score) == pytest.approx(3 / 4)
    assert M.pitch_range(score) == 7
    assert M.n_pitches_used(score) == 2
    assert M.polyphony(score) == 2.0
    with pytest.raises(ValueError):
        M.drum_in_pattern_rate(score, "quintuple")


def test_groove_consistency_constant_grid():
    beats = [(i * TPQ, TPQ, 60) for i in range(4)]
    score = make_score((False, beats + [(BAR + t, d, p) for t, d, p in beats]))
    # length 3840 = two bars exactly, so MusPy's grid has 3840 // 1920 + 1 = 3 bars, the third
    # one empty: distance 0 between bars 1-2 and 4 onsets between bars 2-3.
    assert M.groove_consistency(score, BAR) == pytest.approx(1 - 4 / (BAR * 2))
    assert M.empty_measure_rate(score, BAR) == 0.0  # the last note's end touches bar 3
    # one tick shorter: two bars, identical onsets
    shorter = make_score((False, beats + [(BAR + t, d - (t == 3 * TPQ), p) for t, d, p in beats]))
    assert M.groove_consistency(shorter, BAR) == 1.0


def test_bars_from_time_signatures():
    notes = (False, [(0, 10 * TPQ, 60)])
    assert list(M.bar_starts(make_score(notes))) == [0, BAR, 2 * BAR]  # default 4/4
    three = make_score(notes, time_signatures=[(0, 3, 4)])
    assert list(M.bar_starts(three)) == [0, 1440, 2880, 4320]
    # 3/4, then 2/4 from tick 2000 (mid-bar: a new bar starts there)
    mixed = make_score(notes, time_signatures=[(0, 3, 4), (2000, 2, 4)])
    assert list(M.bar_starts(mixed)) == [0, 1440, 2000, 2960, 3920]
    six8 = make_score(notes, time_signatures=[(0, 6, 8)])
    assert list(M.bar_starts(six8))[:3] == [0, 1440, 2880]
    # empty-measure rate on the time-signature grid: one bar of notes out of three in 3/4
    sparse = make_score((False, [(0, 100, 60), (2 * 1440, 100, 62)]),
                        time_signatures=[(0, 3, 4)])
    assert M.empty_measure_rate(sparse) == pytest.approx(1 / 3)
    assert M.empty_measure_rate(sparse, BAR) == 0.0  # in 1920-tick bars both bars have a note


def test_bar_ticks_with_pickup_and_unequal_bars():
    # pickup of one beat, then bars from tick 480 every 1920
    notes = [(0, 100, 60)] + [(TPQ + k * BAR, 100, 62) for k in range(3)]
    score = make_score((False, notes))
    bars = [TPQ + k * BAR for k in range(2)]  # extended past the last given start
    assert list(M.bar_starts(score, bar_ticks=bars)) == [0, TPQ, TPQ + BAR, TPQ + 2 * BAR]
    # onset vectors of R = 1920 ticks: pickup {0}, then {0}, {0}, {0}: all equal
    assert M.groove_consistency(score, bar_ticks=bars) == 1.0
    assert M.empty_measure_rate(score, bar_ticks=bars) == 0.0
    # a constant grid given as bar ticks equals measure_resolution
    other = make_score((False, [(0, 300, 60), (700, 900, 64), (2500, 100, 67), (5000, 10, 1)]))
    for name in ("groove_consistency", "empty_measure_rate"):
        fn = getattr(M, name)
        assert fn(other, bar_ticks=[0, 960]) == fn(other, 960)
    with pytest.raises(ValueError):
        M.groove_consistency(score, 960, bar_ticks=bars)
    with pytest.raises(ValueError):
        M.bar_starts(score, bar_ticks=[0])


def test_quarter_time_score_is_converted():
    score = make_score((False, [(i * TPQ, TPQ // 2, p) for i, p in enumerate(C_MAJOR)]),
                       (True, [(0, 60, 36), (160, 60, 38)]))
    assert_same(M.compute_all(score.to("quarter")), M.compute_all(score))


# --- empty scores -----------------------------------------------------------------------------


@pytest.mark.parametrize("score", [
    symusic.Score(TPQ),  # no track
    make_score((False, [])),  # a track without notes
], ids=["no-track", "empty-track"])
def test_empty_score_counts_zero_rates_nan(score):
    got = M.compute_all(score)
    for name in ("pitch_range", "n_pitches_used", "n_pitch_classes_used"):
        assert got[name] == 0
    for name in set(M.METRICS) - {"pitch_range", "n_pitches_used", "n_pitch_classes_used"}:
        assert math.isnan(got[name]), name
    assert math.isnan(M.empty_beat_rate(score)) and math.isnan(M.groove_consistency(score))
    with pytest.raises(EmptyScoreError, match="gen/7.mid: no notes"):
        M.compute_all(score, strict=True, source="gen/7.mid")


def test_drums_only_pitch_range_is_zero():
    score = make_score((True, [(0, 100, 36), (480, 100, 38)]))
    assert M.pitch_range(score) == 0  # MusPy: 0 - 127 = -127
    assert muspy.pitch_range(to_muspy(score)) == -127
    assert M.drum_pattern_consistency(score) == 1.0
    assert math.isnan(M.pitch_entropy(score)) and math.isnan(M.polyphony(score))
    assert M.polyphony_rate(score) == 0.0  # defined: the song has length


# --- agreement with MusPy ---------------------------------------------------------------------

note_lists = st.lists(
    st.tuples(st.integers(0, 4000), st.integers(0, 1500), st.integers(0, 127)),
    min_size=0, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tracks=st.lists(st.tuples(st.booleans(), note_lists), min_size=1, max_size=3),
       tpq=st.sampled_from([96, 120, 480, 384, 100]),
       measure=st.sampled_from([1, 2, 3, 4, 6]))
def test_agrees_with_muspy_on_random_scores(tracks, tpq, measure):
    score = make_score(*tracks, tpq=tpq)
    mr = measure * tpq
    want = muspy_all(to_muspy(score), mr)
    has_pitched = any(not d and notes for d, notes in tracks)
    skip = () if has_pitched else ("pitch_range",)  # MusPy's -127 for drums only
    assert_same(M.compute_all(score, measure_resolution=mr), want, skip=skip)
    assert M.polyphony_rate(score, threshold=1) == pytest.approx(
        muspy.polyphony_rate(to_muspy(score), threshold=1), nan_ok=True)


@pytest.mark.parametrize("song", [1, 34, 874])
def test_agrees_with_muspy_on_pop909(pop909_root, song):
    path = pop909_root / f"{song:03d}" / f"{song:03d}.mid"
    music = muspy.read_midi(path)
    score = symusic.Score(str(path))
    mr = 4 * music.resolution
    want = muspy_all(music, mr)
    got = M.compute_all(score, measure_resolution=mr)
    assert_same(got, want)
    for name in M.METRICS:  # the single-metric functions give the same as compute_all
        fn = getattr(M, name)
        args = (mr,) if name in ("empty_measure_rate", "groove_consistency") else ()
        args = ("duple",) if name == "drum_in_pattern_rate" else args
        assert fn(score, *args) == pytest.approx(got[name], nan_ok=True), name


def test_pop909_downbeat_bars(pop909):
    song = pop909.song(3)
    bars = song.bar_ticks()
    got = M.compute_all(song.score, bar_ticks=bars)
    assert 0.0 <= got["empty_measure_rate"] <= 1.0
    assert 0.9 < got["groove_consistency"] <= 1.0
    starts = M.bar_starts(song.score, bar_ticks=bars)
    assert np.all(np.isin(bars[bars <= M.song_length(song.score)], starts))


# --- properties -------------------------------------------------------------------------------

pitched_notes = st.lists(
    st.tuples(st.integers(0, 3000), st.integers(1, 1000), st.integers(20, 100)),
    min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(notes=pitched_notes, drums=note_lists, shift=st.integers(-20, 27))
def test_transposition(notes, drums, shift):
    score = make_score((False, notes), (True, drums))
    moved = make_score((False, [(t, d, p + shift) for t, d, p in notes]), (True, drums))
    a = M.compute_all(score, measure_resolution=BAR)
    b = M.compute_all(moved, measure_resolution=BAR)
    assert_same(b, a, tol=1e-12)  # every metric is transposition invariant ...
    lo = min(p for _, _, p in notes)
    assert M.pitch_histogram(moved, normalize=False)[lo + shift] > 0  # ... the histogram not
    assert np.array_equal(np.roll(M.pitch_histogram(score, pitch_class=True), shift),
                          M.pitch_histogram(moved, pitch_class=True))
    assert M.pitch_range(score) == max(p for _, _, p in notes) - lo
    # moving the pitch of one note outside the old range widens the range
    wider = make_score((False, notes + [(0, 10, lo - 10)]), (True, drums))
    assert M.pitch_range(wider) == M.pitch_range(score) + 10


@settings(max_examples=40, deadline=None)
@given(notes=pitched_notes, bars=st.integers(1, 4))
def test_time_shift_by_whole_bars(notes, bars):
    # shifting everything by whole bars adds empty bars: groove/empty rates change, pitch
    # metrics and polyphony do not
    score = make_score((False, notes))
    moved = make_score((False, [(t + bars * BAR, d, p) for t, d, p in notes]))
    a = M.compute_all(score, measure_resolution=BAR)
    b = M.compute_all(moved, measure_resolution=BAR)
    same = set(M.METRICS) - {"polyphony_rate", "empty_beat_rate", "empty_measure_rate",
                             "groove_consistency"}
    assert_same({k: b[k] for k in same}, {k: a[k] for k in same}, tol=1e-12)
    assert b["empty_measure_rate"] > a["empty_measure_rate"]


# --- histograms and overlapped area -----------------------------------------------------------


def test_duration_histogram_classes():
    durations = [60, 120, 170, 240, 480, 700, 960, 1920, 0, 100_000]
    score = make_score((False, [(0, d, 60) for d in durations]), (True, [(0, 480, 36)]))
    h = M.duration_histogram(score, normalize=False)
    classes = np.array(M.DURATION_CLASSES)
    want = np.zeros(len(classes), int)
    # 60 ticks: 32nd; 120: 16th; 170 (0.354 q): dotted 16th; 240: 8th; 480: quarter;
    # 700 (1.46 q): dotted quarter; 960: half; 1920: whole; 0: shortest; 100000: longest
    for q in (0.125, 0.25, 0.375, 0.5, 1.0, 1.5, 2.0, 4.0, 0.125, 8.0):
        want[np.flatnonzero(classes == q)[0]] += 1
    assert np.array_equal(h, want)  # the drum note is not counted
    assert M.duration_histogram(score).sum() == pytest.approx(1.0)


def test_histogram_overlap():
    assert M.histogram_overlap([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert M.histogram_overlap([1, 0, 0], [0, 0, 5]) == 0.0
    assert M.histogram_overlap([1, 1, 0], [0, 1, 1]) == pytest.approx(0.5)
    assert math.isnan(M.histogram_overlap([0, 0], [1, 0]))


def test_overlapped_area():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    assert M.overlapped_area(x, x) == pytest.approx(1.0, abs=1e-6)
    assert M.overlapped_area(x, x, method="hist") == pytest.approx(1.0, abs=1e-12)
    assert M.overlapped_area(x, x + 100) == pytest.approx(0.0, abs=1e-9)
    assert M.overlapped_area([1, 2, 3], [7, 8, 9], method="hist") == 0.0
    # two unit normals one standard deviation apart: OA = 2 * Phi(-1/2) = 0.617
    y = rng.normal(size=4000)
    assert M.overlapped_area(y, y + 1) == pytest.approx(0.617, abs=0.03)
    assert M.overlapped_area([3, 3, 3], [3, 3]) == 1.0  # no spread anywhere
    assert 0.0 <= M.overlapped_area([3, 3, 3], x) < 0.5
    assert math.isnan(M.overlapped_area([math.nan], x))
    assert 0.0 < M.relative_overlapped_area(x[:50], x[50:100]) <= 1.0


def test_overlapped_area_matches_exact_gaussian_kde():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=120), rng.exponential(size=90)
    grid = np.linspace(-8, 14, 100_001)
    exact = np.minimum(stats.gaussian_kde(a)(grid), stats.gaussian_kde(b)(grid)).sum() * (
        grid[1] - grid[0])
    assert M.overlapped_area(a, b) == pytest.approx(exact, abs=1e-3)


def _random_piece(rng, low, high, n=40):
    times = np.sort(rng.integers(0, 8 * BAR, n))
    return make_score((False, [(int(t), int(rng.choice([240, 480, 960])), int(p))
                               for t, p in zip(times, rng.integers(low, high, n))]))


def test_compare_sets():
    rng = np.random.default_rng(1)
    ref = [_random_piece(rng, 48, 72) for _ in range(6)]
    same = M.compare_sets(ref, ref)
    assert set(same) == {"pitch", "pitch_class", "duration", *M.METRICS}
    for name, value in same.items():
        if name.startswith("drum"):
            assert math.isnan(value)  # no drums in either set
        else:
            assert value == pytest.approx(1.0, abs=1e-6), name
    high = [_random_piece(rng, 90, 110) for _ in range(6)]
    far = M.compare_sets(high, ref)
    assert far["pitch"] == 0.0
    assert far["pitch_class"] > 0.5  # pitch classes still overlap
    assert far["duration"] > 0.8  # same rhythm vocabulary
    paired = M.compare_sets(ref, ref, paired=True)
    assert paired["pitch"] == pytest.approx(1.0)
    rel = M.compare_sets(high, ref, mode="relative")
    assert 0.0 <= rel["pitch"] < 0.05  # every generated piece is far from every reference
    with pytest.raises(ValueError):
        M.compare_sets(ref[:2], ref, paired=True)
