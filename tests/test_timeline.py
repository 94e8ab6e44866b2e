"""symbolic.timeline: the one place for meters, bars, beats, tick checks and the tempo map."""

import numpy as np
import pytest
import symusic

from symbolic import harmony as H
from symbolic import metrics as M
from symbolic import timeline as T
from symbolic.errors import SymbolicError, TickTimeError
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
