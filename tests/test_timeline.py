"""symbolic.timeline: the one place for meters, bars, beats, tick checks and the tempo map."""

import numpy as np
import pytest
import symusic

from symbolic import harmony as H
from symbolic import metrics as M
from symbolic import timeline as T
from symbolic.errors import ArgumentError, SymbolicError, TickTimeError
from symbolic.representations import slices as S

TPQ = 480
BAR = 4 * TPQ


def score_with(signatures, end: int, tpq: int = TPQ) -> symusic.Score:
    """A tick-time score with ``signatures`` ``[(tick, num, den), ...]`` in that order and one
    note from 0 to ``end``."""
    s = symusic.Score(tpq)
    for t, num, den in signatures:
        s.time_signatures.append(symusic.TimeSignature(t, num, den))
    track = symusic.Track()
    track.notes.append(symusic.Note(0, end, 60, 80))
    s.tracks.append(track)
    return s


def lines(signatures, end, **kw):
    s = score_with(signatures, end)
    return T.bar_lines(T.meter_changes(s, **kw), TPQ, end)


def test_no_signature_means_four_four():
    bars, nums, dens = lines([], 3 * BAR)
    assert bars.tolist() == [0, BAR, 2 * BAR, 3 * BAR]
    assert nums.tolist() == [4, 4, 4] and dens.tolist() == [4, 4, 4]
    assert T.beat_lines(bars, nums, dens, TPQ).tolist() == list(range(0, 3 * BAR, TPQ))


@pytest.mark.parametrize("num,den,beats_per_bar", [
    (3, 4, 3), (2, 2, 2), (3, 8, 3), (6, 8, 2), (9, 8, 3), (12, 8, 4), (5, 8, 5), (7, 4, 7),
    (6, 16, 2)])
def test_bars_and_beats_of_each_meter(num, den, beats_per_bar):
    bar = 4 * TPQ * num // den
    bars, nums, dens = lines([(0, num, den)], 2 * bar)
    assert bars.tolist() == [0, bar, 2 * bar]
    beats = T.beat_lines(bars, nums, dens, TPQ)
    assert len(beats) == 2 * beats_per_bar
    assert np.all(np.diff(beats) == bar // beats_per_bar)  # compound meters: dotted beats


def test_pickup_free_three_four_and_six_eight_grids():
    for num, den, steps in ((3, 4, 12), (6, 8, 12)):
        grid = T.MetricGrid.from_score(score_with([(0, num, den)], 4 * 1440), resolution=4)
        assert grid.bar_ticks.tolist() == [0, 1440, 2880, 4320, 5760]
        assert grid.steps_per_bar.tolist() == [steps] * 4
    six_eight = T.MetricGrid.from_score(score_with([(0, 6, 8)], 2 * 1440))
    assert six_eight.beat_ticks().tolist() == [0, 720, 1440, 2160]


def test_a_meter_change_inside_a_bar_cuts_that_bar_short():
    bars, nums, dens = lines([(0, 4, 4), (960, 3, 4)], 960 + 2 * 1440)
    assert bars.tolist() == [0, 960, 2400, 3840]
    assert nums.tolist() == [4, 3, 3]
    assert T.beat_lines(bars, nums, dens, TPQ).tolist() == [0, 480, 960, 1440, 1920, 2400,
                                                            2880, 3360]


def test_end_handling():
    # Bars reach at least end; an end on a bar line adds no bar; every meter gets a bar.
    assert lines([], 2 * BAR)[0].tolist() == [0, BAR, 2 * BAR]
    assert lines([], 2 * BAR + 1)[0].tolist() == [0, BAR, 2 * BAR, 3 * BAR]
    assert lines([], 0)[0].tolist() == [0, BAR]
    bars, nums, _ = lines([(0, 4, 4), (5 * BAR, 3, 4)], BAR)
    assert bars.tolist() == [0, BAR, 2 * BAR, 3 * BAR, 4 * BAR, 5 * BAR, 5 * BAR + 1440]
    assert nums.tolist() == [4, 4, 4, 4, 4, 3]
    changes = T.meter_changes(score_with([(0, 4, 4), (5 * BAR, 3, 4)], BAR))
    assert T.meter_span_end(changes, BAR) == 5 * BAR
    assert T.meter_span_end(changes, 6 * BAR) == 6 * BAR


def test_meter_before_the_first_signature_and_several_at_one_tick():
    late = [(BAR, 3, 4)]
    assert lines(late, BAR + 1440)[0].tolist() == [0, BAR, BAR + 1440]
    # MetricGrid's choice: the first signature's meter runs back to tick 0.
    assert lines(late, BAR + 1440, before_first=None)[0].tolist() == [0, 1440, BAR, BAR + 1440]
    both = score_with([(0, 4, 4), (0, 2, 4)], BAR)  # as in 81 POP909 files
    assert T.meter_changes(both)[1].tolist() == [2]
    assert T.meter_changes(both, same_tick="largest")[1].tolist() == [4]
    with pytest.raises(SymbolicError, match="same_tick"):
        T.meter_changes(both, same_tick="first")


def test_harmony_metrics_and_slices_read_the_same_bars_and_beats():
    s = score_with([(0, 4, 4), (960, 3, 4), (3840, 6, 8)], 6000)
    bars, nums, dens = T.bar_lines(T.meter_changes(s), TPQ, 6000)
    beats, downbeats = H.beat_grid(s)
    assert downbeats.tolist() == bars[bars < 6000].tolist()
    assert beats.tolist() == [b for b in T.beat_lines(bars, nums, dens, TPQ) if b < 6000]
    assert M.bar_starts(s).tolist() == downbeats.tolist()
    grid = T.MetricGrid.from_score(s)
    assert S.meter_beats(s).tolist() == grid.beat_ticks().tolist()
    assert grid.bar_ticks.tolist() == bars.tolist()


def test_one_tick_check():
    tick = score_with([], BAR)
    quarter = tick.to("quarter")
    assert T.is_tick(tick) and not T.is_tick(quarter)
    assert T.as_tick(tick) is tick
    assert T.is_tick(T.as_tick(quarter)) and T.as_tick(quarter).note_num() == 1
    with pytest.raises(TickTimeError, match="got int"):
        T.as_tick(12)
    with pytest.raises(TypeError, match="chord recognition: expected a tick-time"):
        T.require_tick(quarter, "chord recognition")
    with pytest.raises(TickTimeError, match="tick-time"):
        H.recognize_chords(quarter)
    assert M.song_length(quarter) == M.song_length(tick)


def test_tempo_map_round_trip():
    s = score_with([], 4 * BAR)
    s.tempos.append(symusic.Tempo(0, qpm=120))
    s.tempos.append(symusic.Tempo(BAR, qpm=60))
    secs = T.ticks_to_seconds(s, [0, TPQ, BAR, BAR + TPQ])
    assert np.allclose(secs, [0.0, 0.5, 2.0, 3.0])
    assert T.seconds_to_ticks(s, secs).tolist() == [0, TPQ, BAR, BAR + TPQ]


# ------------------------------------------------------------------- the user's meter

def bar_starts(score) -> list[int]:
    return T.bar_lines(T.meter_changes(score), score.ticks_per_quarter, score.end())[0].tolist()


def test_with_meter_replaces_the_signatures_on_a_copy():
    s = score_with([(0, 1, 4), (BAR, 1, 4)], 3 * BAR)
    out = T.with_meter(s, "4/4")
    assert [(t.time, t.numerator, t.denominator) for t in out.time_signatures] == [(0, 4, 4)]
    assert len(s.time_signatures) == 2  # the caller's score is untouched
    assert bar_starts(out) == [0, BAR, 2 * BAR, 3 * BAR]
    assert T.with_meter(s, (3, 4)).time_signatures[0].numerator == 3
    for bad in ("5/3", "4", (0, 4), "x/4"):
        with pytest.raises(ArgumentError, match="meter"):
            T.with_meter(s, bad)
    with pytest.raises(ArgumentError, match="meter"):
        T.with_meter(s, None)
    for bad in ([], [-5, 0], [0.5, 10], "abc"):
        with pytest.raises(ArgumentError, match="bar_ticks"):
            T.with_meter(s, "4/4", bar_ticks=bad)
    with pytest.raises(TickTimeError):
        T.with_meter(s.to("quarter"), "4/4")


def test_with_meter_puts_a_bar_line_on_every_given_bar():
    # a pickup of one quarter, two 4/4 bars, a 3/4 bar, a 4/4 bar one tick short, 4/4 again
    given = [TPQ, TPQ + BAR, TPQ + 2 * BAR, TPQ + 2 * BAR + 1440, TPQ + 3 * BAR + 1439,
             TPQ + 4 * BAR + 1439]
    s = score_with([(0, 2, 4)], given[-1] + BAR)
    out = T.with_meter(s, None, bar_ticks=given)
    assert bar_starts(out)[:len(given) + 1] == [0] + given
    sigs = [(t.time, t.numerator, t.denominator) for t in out.time_signatures]
    assert sigs[0] == (0, 1, 4)  # the pickup spelled as one quarter
    assert (given[2], 3, 4) in sigs and (given[3], 4, 4) in sigs  # a tick short: still 4/4
    assert len(sigs) == 5  # pickup, first bar, 3/4, 4/4 (a tick short), the bar after it
    # a fixed meter: 4/4 at the first bar and wherever its bar lines miss a given bar
    fixed = T.with_meter(s, "4/4", bar_ticks=given)
    assert set(given) <= set(bar_starts(fixed))
    assert all((t.numerator, t.denominator) == (4, 4) for t in fixed.time_signatures[1:])
    # a pickup longer than a bar: whole bars that end on the first given bar
    long = T.with_meter(score_with([], 4 * BAR), "4/4", bar_ticks=[TPQ + BAR, TPQ + 2 * BAR])
    assert bar_starts(long)[:4] == [0, TPQ, TPQ + BAR, TPQ + 2 * BAR]


def test_with_meter_on_pop909_annotated_downbeats(pop909):
    song = pop909.song(50)  # a 3/4 bar among 4/4 ones, a pickup of 524 ticks
    bars = np.unique(song.bar_ticks())
    for meter in (None, "4/4"):
        out = T.with_meter(song.score, meter, bar_ticks=bars)
        lines = np.array(bar_starts(out))
        assert set(bars.tolist()) <= set(lines.tolist())
        if meter is None:  # each bar spelled by its length: no line between the given ones
            inside = lines[(lines >= bars[0]) & (lines <= bars[-1])]
            assert inside.tolist() == bars.tolist()
        assert out.note_num() == song.score.note_num()


# ------------------------------------------------------------------- implausible meters

def four_beat_score(period: int, cycles: int = 24, num: int = 2, den: int = 4) -> symusic.Score:
    """A score declared ``num/den`` whose chord and onsets repeat every ``period`` beats: a
    chord of four notes on the first beat, one note on the others, the chord changing."""
    s = symusic.Score(TPQ)
    s.time_signatures.append(symusic.TimeSignature(0, num, den))
    track = symusic.Track("Piano", 0, False)
    roots = [0, 5, 7, 9]
    for beat in range(period * cycles):
        if beat % period == 0:
            root = 48 + roots[(beat // period) % 4]
            for p in (root, root + 4, root + 7, root + 12):
                track.notes.append(symusic.Note(beat * TPQ, period * TPQ, p, 80))
        else:
            track.notes.append(symusic.Note(beat * TPQ, TPQ, 72 + beat % 3, 70))
    s.tracks.append(track)
    return s


def test_four_beat_evidence_tells_four_from_two():
    assert T.four_beat_evidence(four_beat_score(4)) > T.FOUR_BEAT_T
    assert T.four_beat_evidence(four_beat_score(2)) < 2
    assert T.four_beat_evidence(symusic.Score(TPQ)) == 0.0


def test_implausible_meter_rules():
    assert "1/4" in T.implausible_meter(four_beat_score(2, num=1))  # rule 1, any pattern
    assert "shorter than 1.5" in T.implausible_meter(four_beat_score(2, num=2, den=8))
    assert T.implausible_meter(four_beat_score(2, num=3, den=8)) is None  # 3/8 is a meter
    assert "four beats" in T.implausible_meter(four_beat_score(4))  # rule 2
    assert T.implausible_meter(four_beat_score(2)) is None  # genuine 2/4
    assert T.implausible_meter(four_beat_score(4, num=4)) is None
    assert T.implausible_meter(symusic.Score(TPQ)) is None
    # a short 1/4 pickup does not make the piece's meter implausible
    pickup = four_beat_score(2, num=2)
    pickup.time_signatures.insert(0, symusic.TimeSignature(0, 1, 4))
    pickup.time_signatures[1].time = TPQ
    assert T.implausible_meter(pickup) is None


def test_implausible_meter_on_pop909_files(pop909):
    one_four, two_four = pop909.score(14), pop909.score(3)  # declared 1/4 and 2/4, both 4/4
    assert "declares 1/4" in T.implausible_meter(one_four)
    assert "declares 2/4" in T.implausible_meter(two_four)
    for i, score in ((14, one_four), (3, two_four)):
        fixed = T.with_meter(score, None, bar_ticks=pop909.song(i).bar_ticks())
        assert T.implausible_meter(fixed) is None
        assert T.implausible_meter(T.with_meter(score, "4/4")) is None


def test_implausible_meter_spares_real_two_four_and_three_four():
    from symbolic import load
    from symbolic.data.music21_corpus import piece_names

    chorales = [load(n) for n in piece_names("bach_chorales")[:12]]
    assert {(m.numerator, m.denominator) for c in chorales for m in c.time_signatures} >= \
        {(4, 4), (3, 4)}
    assert [T.implausible_meter(c) for c in chorales] == [None] * 12
    # German children's songs and Han folk songs, mostly in 2/4
    names = [n for n in piece_names("essen") if "/kinder0#" in n][:24] + \
        [n for n in piece_names("essen") if "/han1#" in n][:24]
    two_four = [s for s in map(load, names)
                if {(t.numerator, t.denominator) for t in s.time_signatures} == {(2, 4)}]
    assert len(two_four) >= 30
    warned = [T.implausible_meter(s) for s in two_four]
    assert sum(w is not None for w in warned) <= 2  # 1.7% of 745 Essen 2/4 tunes warn
