"""Music metrics: the MusPy metric set on a ``symusic.Score``, and set-vs-set similarity.

Every metric is a pure function ``metric(score, ...) -> number`` of a tick-time score (a score
in quarter or second time is converted to ticks first). Notes are read column-wise
(``track.notes.numpy()``), all tracks are concatenated once and every metric is a few numpy
expressions: no Python loop per note, no dense piano roll.

Definitions are those of MusPy 0.5.0 (``muspy/metrics/metrics.py``); on the 909 POP909 songs
every metric agrees with MusPy to 1e-9 (``benchmarks/metrics.py``). Conventions shared with
MusPy:

* Time is in ticks; ``tpq`` (``score.ticks_per_quarter``, MusPy's ``resolution``) is one beat
  for :func:`empty_beat_rate` and the grid of :func:`drum_in_pattern_rate`, whatever the meter.
* Drum tracks (``track.is_drum``, MIDI channel 10) are left out of every pitch metric and of
  the piano roll behind :func:`polyphony`; only drum tracks count for the drum metrics; the
  time metrics (empty beats/measures, groove) use every track.
* The song length is the last note offset or control-change event over all tracks (MusPy's
  ``max(track.get_end_time())``: a sustain-pedal release after the last note counts).
* Beats and measures cover ``[0, length]`` *inclusive*: there are ``length // tpq + 1`` beats,
  and a note occupies the beats from ``time // tpq`` to ``end // tpq`` inclusive, so a note
  ending exactly on a beat line also marks the next beat as sounding (MusPy's arithmetic,
  kept so that numbers compare with published MusPy results).

Where this module goes beyond MusPy (never on POP909):

* Bars. MusPy's measure metrics take a constant ``measure_resolution`` (ticks per measure) and
  ignore time signatures. Here the measure metrics (:func:`empty_measure_rate`,
  :func:`groove_consistency`) take exactly one bar definition: ``measure_resolution`` (MusPy's
  constant grid, bars at ``0, m, 2m...``), or ``bar_ticks`` (bar start ticks, such as POP909's
  annotated downbeats, :meth:`symbolic.data.pop909.Pop909Song.bar_ticks`), or by default the
  score's time signatures (bar length ``4 * tpq * numerator / denominator``; 4/4 before the
  first one; a time signature in mid-bar starts a new bar there). Ticks before the first bar
  start form a pickup bar, and the bars go on past the last given start at its spacing. With a
  constant grid the results equal MusPy's. :func:`groove_consistency` over bars of unequal
  length compares onset vectors of ``R`` = the longest bar, positions counted from each bar's
  start (a shorter bar has no onsets in its tail).
* Edge cases. MusPy returns -127 for :func:`pitch_range` when every note is a drum (its
  initial ``highest=0, lowest=127``) and raises ``ValueError`` from ``max()`` on a score with
  no tracks in the time metrics. Here counts are 0 and rates are NaN whenever there is no
  note to count: an empty score is a legitimate output of a generative model, so evaluation
  code gets NaN (use ``np.nanmean``) instead of an exception; :func:`compute_all` takes
  ``strict=True`` to raise :class:`~symbolic.errors.EmptyScoreError` instead.

Set-vs-set similarity (:func:`compare_sets`) uses the overlapped area (OA) of two
distributions, :func:`overlapped_area`: by default Gaussian kernel density estimates with
Scott's bandwidth as in Yang & Lerch, "On the evaluation of generative models in music"
(Neural Computing and Applications, 2020; their ``mgeval`` code), or normalised histograms
(``method="hist"``, the pitch/duration "distribution similarity" of TeleMelody and GETMusic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import symusic

from .errors import EmptyScoreError
from .timeline import as_tick, bar_lines, meter_changes, meter_span_end

__all__ = [
    "pitch_range",
    "n_pitches_used",
    "n_pitch_classes_used",
    "polyphony",
    "polyphony_rate",
    "pitch_entropy",
    "pitch_class_entropy",
    "pitch_in_scale_rate",
    "scale_consistency",
    "empty_beat_rate",
    "empty_measure_rate",
    "groove_consistency",
    "drum_in_pattern_rate",
    "drum_pattern_consistency",
    "bar_starts",
    "song_length",
    "compute_all",
    "METRICS",
    "pitch_histogram",
    "duration_histogram",
    "DURATION_CLASSES",
    "histogram_overlap",
    "overlapped_area",
    "relative_overlapped_area",
    "compare_sets",
]

METRICS = (
    "pitch_range",
    "n_pitches_used",
    "n_pitch_classes_used",
    "polyphony",
    "polyphony_rate",
    "pitch_entropy",
    "pitch_class_entropy",
    "scale_consistency",
    "empty_beat_rate",
    "empty_measure_rate",
    "groove_consistency",
    "drum_in_pattern_rate",
    "drum_pattern_consistency",
)
"""The metric names :func:`compute_all` returns, in order."""

# Durations in quarter notes, from a 32nd note to a double whole note, dotted values between.
DURATION_CLASSES = (0.125, 0.25, 0.375, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)

_MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)
_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], bool)
# 24 rows: major scales on C..B, then minor scales on C..B (MusPy's order of search).
_SCALES = np.stack([np.roll(_MAJOR, r) for r in range(12)]
                   + [np.roll(_MINOR, r) for r in range(12)])


# ---------------------------------------------------------------------------------------------
# Columns: every note of a score as flat arrays, read once.


@dataclass(frozen=True)
class _Columns:
    """All notes of a tick-time score as int64 arrays (not a note container: a computed view)."""

    time: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    drum: np.ndarray  # bool per note
    length: int  # MusPy's song length in ticks (0 without tracks)
    tpq: int
    meter: tuple  # timeline.meter_changes: (ticks, numerators, denominators)

    @property
    def pitched(self) -> np.ndarray:
        return self.pitch[~self.drum]


def _columns(score: symusic.Score) -> _Columns:
    score = as_tick(score)
    times, ends, pitches, drums, last = [], [], [], [], []
    for track in score.tracks:
        n = track.notes.numpy()
        t = n["time"].astype(np.int64)
        e = t + n["duration"].astype(np.int64)
        times.append(t)
        ends.append(e)
        pitches.append(n["pitch"].astype(np.int64))
        drums.append(np.full(len(t), bool(track.is_drum)))
        note_end = int(e.max()) if len(e) else 0
        # track.end() also counts controls, pedals, pitch bends, lyrics; MusPy counts notes and
        # control changes only, so read the controls when something ends after the notes.
        if track.end() > note_end and len(track.controls):
            note_end = max(note_end, int(track.controls.numpy()["time"].max()))
        last.append(note_end)
    cat = (lambda xs, dt: np.concatenate(xs) if xs else np.zeros(0, dt))
    time = cat(times, np.int64)
    if len(time) and time.min() < 0:
        raise ValueError(f"a note starts before tick 0 (at {int(time.min())}); metrics need "
                         "times >= 0 (shift the score first)")
    return _Columns(
        time=time, end=cat(ends, np.int64), pitch=cat(pitches, np.int64),
        drum=cat(drums, bool), length=max(last, default=0),
        tpq=int(score.ticks_per_quarter), meter=meter_changes(score),
    )


def song_length(score: symusic.Score) -> int:
    """Song length in ticks as MusPy counts it: the last note offset or control-change event
    over all tracks; 0 for a score without any."""
    return _columns(score).length


# ---------------------------------------------------------------------------------------------
# Pitch metrics (drum tracks ignored).


def _pitch_range(c: _Columns) -> int:
    p = c.pitched
    return int(p.max() - p.min()) if len(p) else 0


def pitch_range(score: symusic.Score) -> int:
    """Highest minus lowest MIDI pitch of the non-drum notes, in semitones; 0 without any.

    (MusPy returns -127 when every note is a drum; this returns 0.)
    """
    return _pitch_range(_columns(score))


def _n_used(c: _Columns, modulo: int) -> int:
    return int(np.count_nonzero(np.bincount(c.pitched % modulo, minlength=modulo)))


def n_pitches_used(score: symusic.Score) -> int:
    """Number of distinct MIDI pitches among the non-drum notes (0 to 128)."""
    return _n_used(_columns(score), 128)


def n_pitch_classes_used(score: symusic.Score) -> int:
    """Number of distinct pitch classes (pitch mod 12) among the non-drum notes (0 to 12)."""
    return _n_used(_columns(score), 12)


def _entropy(counts: np.ndarray) -> float:
    total = counts.sum()
    if total < 1:
        return math.nan
    prob = counts[counts > 0] / total
    return float(-np.sum(prob * np.log2(prob)))


def pitch_entropy(score: symusic.Score) -> float:
    """Shannon entropy in bits of the histogram of the non-drum notes' pitches (128 bins),
    counting notes (not durations); NaN without any note. At most log2(128) = 7."""
    return _entropy(np.bincount(_columns(score).pitched, minlength=128).astype(np.float64))


def pitch_class_entropy(score: symusic.Score) -> float:
    """Shannon entropy in bits of the pitch-class histogram (12 bins) of the non-drum notes,
    counting notes; NaN without any note. At most log2(12) ~ 3.585 (Wu & Yang 2020)."""
    return _entropy(np.bincount(_columns(score).pitched % 12, minlength=12).astype(np.float64))


def _scale_rates(c: _Columns) -> np.ndarray:
    counts = np.bincount(c.pitched % 12, minlength=12)
    total = counts.sum()
    if total < 1:
        return np.full(24, math.nan)
    return (_SCALES @ counts) / total


def pitch_in_scale_rate(score: symusic.Score, root: int, mode: str) -> float:
    """Fraction of non-drum notes whose pitch class lies in the major or minor (natural)
    scale on ``root`` (0 = C ... 11 = B); NaN without any note."""
    mode = mode.lower()
    if mode not in ("major", "minor"):
        raise ValueError("`mode` must be either 'major' or 'minor'.")
    return float(_scale_rates(_columns(score))[(root % 12) + (12 if mode == "minor" else 0)])


def _scale_consistency(c: _Columns) -> float:
    return float(np.max(_scale_rates(c)))  # NaN propagates


def scale_consistency(score: symusic.Score) -> float:
    """The largest :func:`pitch_in_scale_rate` over the 24 major and minor scales, in [0, 1];
    NaN without any non-drum note (Mogren 2016)."""
    return _scale_consistency(_columns(score))


# ---------------------------------------------------------------------------------------------
# Polyphony: a sweep over note on/off events, equal to MusPy's boolean piano roll.


def _roll_profile(c: _Columns) -> tuple[np.ndarray, np.ndarray]:
    """``(count, span)``: the time axis ``[0, length)`` cut into spans of constant piano-roll
    column sum; ``count[i]`` distinct non-drum pitches sound during ``span[i]`` ticks.

    The piano roll is boolean per pitch, so overlapping notes of one pitch are merged first.
    """
    keep = ~c.drum & (c.end > c.time)
    t, e, p = c.time[keep], c.end[keep], c.pitch[keep]
    if len(t) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # Offset each pitch into its own tick range so one sort orders by (pitch, onset) and one
    # running maximum merges within pitches.
    span_ = int(c.length) + 1
    ts = t + p * span_
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    off = p[order] * span_
    es = e[order] + off
    reach = np.maximum.accumulate(es)
    first = np.ones(len(ts), bool)
    first[1:] = ts[1:] > reach[:-1]
    starts = np.flatnonzero(first)
    lasts = np.append(starts[1:] - 1, len(ts) - 1)
    on, off_ = ts[starts] - off[starts], reach[lasts] - off[starts]
    # Sweep: after the k-th event (in time order) count[k] pitches sound until the next one.
    edges = np.concatenate([on, off_])
    order = np.argsort(edges, kind="stable")
    count = np.cumsum(np.repeat(np.array([1, -1], np.int64), len(on))[order])[:-1]
    return count, np.diff(edges[order])


def _polyphony(c: _Columns, profile=None) -> float:
    count, span = profile if profile is not None else _roll_profile(c)
    sounding = int(span[count > 0].sum())
    if sounding < 1:
        return math.nan
    return float(int((count * span).sum()) / sounding)


def polyphony(score: symusic.Score) -> float:
    """Mean number of distinct non-drum pitches sounding per tick, over the ticks where at
    least one sounds; NaN without any. Several notes of one pitch at once count once."""
    return _polyphony(_columns(score))


def _polyphony_rate(c: _Columns, threshold: int, profile=None) -> float:
    if c.length < 1:
        return math.nan
    count, span = profile if profile is not None else _roll_profile(c)
    return float(int(span[count > threshold].sum()) / c.length)


def polyphony_rate(score: symusic.Score, threshold: int = 2) -> float:
    """Fraction of the song's ticks (``[0, length)``, see :func:`song_length`) where more than
    ``threshold`` distinct non-drum pitches sound; NaN for a zero-length song.

    As in MusPy and MuseGAN ("polyphonicity") the test is ``> threshold``: the default counts
    ticks with three or more pitches.
    """
    return _polyphony_rate(_columns(score), threshold)


# ---------------------------------------------------------------------------------------------
# Beats and bars.


def _bars(c: _Columns, measure_resolution=None, bar_ticks=None) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, widths)``: bar start ticks from 0 up to the bar holding tick ``length``
    (inclusive), and each bar's length in ticks."""
    if measure_resolution is not None and bar_ticks is not None:
        raise ValueError("give either measure_resolution or bar_ticks, not both")
    length = c.length
    if measure_resolution is not None:
        m = int(measure_resolution)
        if m < 1:
            raise ValueError("Measure resolution must be a positive integer.")
        starts = np.arange(0, length + 1, m, dtype=np.int64)
        return starts, np.full(len(starts), m, dtype=np.int64)
    if bar_ticks is not None:
        b = np.unique(np.asarray(bar_ticks, dtype=np.int64))
        b = b[b >= 0]
        if len(b) == 0 or b[0] > 0:
            b = np.concatenate([[0], b])
        if len(b) < 2:
            raise ValueError("bar_ticks must hold at least two distinct bar starts")
        step = int(b[-1] - b[-2])
        b = np.concatenate([b, np.arange(b[-1] + step, length + step + 1, step, dtype=np.int64)])
        n = np.searchsorted(b, length, side="right")
        return b[:n], np.diff(b[: n + 1])
    # From the time signatures (timeline.bar_lines, 4/4 before the first): the bars of every
    # meter that starts in [0, length], each laid whole up to the next change.
    lines, nums, dens = bar_lines(c.meter, c.tpq, length + 1)
    n = np.searchsorted(lines[:-1], meter_span_end(c.meter, length + 1))
    widths = np.diff(lines[: n + 1])
    # The last bar keeps its nominal length: a time signature after the song's end does not
    # cut it short.
    widths[-1] = max(1, int(np.rint(4 * c.tpq * nums[n - 1] / dens[n - 1])))
    return lines[:n], widths


def bar_starts(score: symusic.Score, *, measure_resolution: int | None = None,
               bar_ticks=None) -> np.ndarray:
    """Start tick of every bar the measure metrics use, from 0 through the bar holding the
    song's last tick (see the module docstring for the three ways bars are defined)."""
    return _bars(_columns(score), measure_resolution, bar_ticks)[0]


def _empty_rate(c: _Columns, starts: np.ndarray) -> float:
    """Fraction of the cells (beats or bars, starting at ``starts``) no note touches; a note
    touches the cells from its onset's through its offset's, inclusive."""
    if c.length < 1:
        return math.nan
    n = len(starts)
    step = int(starts[1] - starts[0]) if n > 1 else c.length + 1  # one cell: all in it
    if starts[0] == 0 and starts[-1] == (n - 1) * step:  # a constant grid: divide
        first, last = c.time // step, np.minimum(c.end // step, n - 1)
    else:
        first = np.searchsorted(starts, c.time, side="right") - 1
        last = np.searchsorted(starts, c.end, side="right") - 1
    ok = last >= first  # a negative duration may end in an earlier cell: covers nothing
    if not ok.all():
        first, last = first[ok], last[ok]
    cover = np.cumsum(np.bincount(first, minlength=n + 1) - np.bincount(last + 1, minlength=n + 1))
    return float(1 - np.count_nonzero(cover[:n]) / n)


def empty_beat_rate(score: symusic.Score) -> float:
    """Fraction of beats (quarter notes, ``tpq`` ticks; ``length // tpq + 1`` of them) where
    no note of any track sounds; NaN for a zero-length song (Dong et al. 2018, Pypianoroll)."""
    c = _columns(score)
    return _empty_rate(c, np.arange(0, c.length + 1, max(c.tpq, 1), dtype=np.int64))


def empty_measure_rate(score: symusic.Score, measure_resolution: int | None = None, *,
                       bar_ticks=None) -> float:
    """Fraction of bars where no note of any track sounds; NaN for a zero-length song
    (MuseGAN). Bars: ``measure_resolution`` ticks each, or ``bar_ticks``, or the score's time
    signatures (module docstring)."""
    c = _columns(score)
    return _empty_rate(c, _bars(c, measure_resolution, bar_ticks)[0])


def _unique(x: np.ndarray) -> np.ndarray:
    # np.unique is several times slower than a stable sort on small int arrays (numpy 2.x)
    x = np.sort(x, kind="stable")
    return x[np.append(True, x[1:] != x[:-1])] if len(x) else x


def _groove_consistency(c: _Columns, starts: np.ndarray, widths: np.ndarray) -> float:
    n = len(starts)
    if n < 2:
        return math.nan
    res = int(widths.max())
    bar = np.searchsorted(starts, c.time, side="right") - 1
    keys = _unique(bar * res + (c.time - starts[bar]))  # sorted set of (bar, position) onsets
    counts = np.bincount(keys // res, minlength=n)
    nxt = np.minimum(np.searchsorted(keys, keys + res), len(keys) - 1)
    shared = np.count_nonzero(keys[nxt] == keys + res)  # onsets also in the next bar
    hamming = 2 * len(keys) - counts[0] - counts[-1] - 2 * shared
    return float(1 - hamming / (res * (n - 1)))


def groove_consistency(score: symusic.Score, measure_resolution: int | None = None, *,
                       bar_ticks=None) -> float:
    """One minus the mean Hamming distance between the binary onset vectors of neighbouring
    bars, per position: ``1 - sum_i d(G_i, G_i+1) / (R (T - 1))`` with ``T`` bars, ``G_i`` the
    onsets (any track) of bar ``i`` at tick resolution, ``R`` ticks per bar (the longest bar
    when they differ). In [0, 1]; NaN with fewer than two bars (Wu & Yang 2020)."""
    c = _columns(score)
    return _groove_consistency(c, *_bars(c, measure_resolution, bar_ticks))


# ---------------------------------------------------------------------------------------------
# Drums (drum tracks only).


def _drum_rates(c: _Columns) -> tuple[float, float]:
    """(duple, triple) drum-in-pattern rates, NaN without any drum note."""
    res = c.tpq
    pos = c.time[c.drum] % res
    if len(pos) == 0:
        return math.nan, math.nan
    duple = pos == 0
    if res % 4 == 0:
        duple |= pos % (res // 4) == 0
    if res % 2 == 0:
        duple |= pos % (res // 2) == 0
    triple = pos == 0
    if res % 3 == 0:
        triple |= pos % (res // 3) == 0
    return float(np.count_nonzero(duple) / len(pos)), float(np.count_nonzero(triple) / len(pos))


def drum_in_pattern_rate(score: symusic.Score, meter: str) -> float:
    """Fraction of drum notes whose onset falls on the meter's grid inside the beat: 'duple'
    on the 16th and 8th positions (multiples of ``tpq/4`` and ``tpq/2``), 'triple' on the
    8th-triplet positions (multiples of ``tpq/3``), each only where ``tpq`` divides; NaN
    without any drum note (MuseGAN)."""
    meter = meter.lower()
    if meter not in ("duple", "triple"):
        raise ValueError("Only duple and triple meters are supported.")
    return _drum_rates(_columns(score))[meter == "triple"]


def _drum_pattern_consistency(c: _Columns) -> float:
    duple, triple = _drum_rates(c)
    return math.nan if math.isnan(duple) else max(duple, triple)


def drum_pattern_consistency(score: symusic.Score) -> float:
    """The larger of the duple and triple :func:`drum_in_pattern_rate`; NaN without drums."""
    return _drum_pattern_consistency(_columns(score))


# ---------------------------------------------------------------------------------------------
# All at once.


def compute_all(score: symusic.Score, *, measure_resolution: int | None = None,
                bar_ticks=None, strict: bool = False, source=None) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one score, reading the notes once.

    ``measure_resolution`` / ``bar_ticks`` choose the bars (default: the time signatures).
    With ``strict`` a score without any note raises
    :class:`~symbolic.errors.EmptyScoreError` (``source`` names it in the message);
    otherwise the undefined metrics are NaN and the counts 0.
    """
    c = _columns(score)
    if strict and len(c.time) == 0:
        raise EmptyScoreError("no notes to evaluate", source)
    return _compute_all(c, measure_resolution, bar_ticks)


def _compute_all(c: _Columns, measure_resolution=None, bar_ticks=None) -> dict[str, float]:
    beats = np.arange(0, c.length + 1, max(c.tpq, 1), dtype=np.int64)
    bars, widths = _bars(c, measure_resolution, bar_ticks)
    pitch_counts = np.bincount(c.pitched, minlength=128).astype(np.float64)
    pc_counts = np.bincount(c.pitched % 12, minlength=12).astype(np.float64)
    profile = _roll_profile(c)
    return {
        "pitch_range": float(_pitch_range(c)),
        "n_pitches_used": float(np.count_nonzero(pitch_counts)),
        "n_pitch_classes_used": float(np.count_nonzero(pc_counts)),
        "polyphony": _polyphony(c, profile),
        "polyphony_rate": _polyphony_rate(c, 2, profile),
        "pitch_entropy": _entropy(pitch_counts),
        "pitch_class_entropy": _entropy(pc_counts),
        "scale_consistency": _scale_consistency(c),
        "empty_beat_rate": _empty_rate(c, beats),
        "empty_measure_rate": _empty_rate(c, bars),
        "groove_consistency": _groove_consistency(c, bars, widths),
        "drum_in_pattern_rate": _drum_rates(c)[0],
        "drum_pattern_consistency": _drum_pattern_consistency(c),
    }


# ---------------------------------------------------------------------------------------------
# Histograms and overlapped area.


def pitch_histogram(score: symusic.Score, *, pitch_class: bool = False,
                    normalize: bool = True) -> np.ndarray:
    """Note counts per MIDI pitch (shape (128,)) or per pitch class (shape (12,), C = 0) of
    the non-drum notes; with ``normalize`` they sum to 1 (all zeros without notes)."""
    p = _columns(score).pitched
    h = np.bincount(p % 12 if pitch_class else p, minlength=12 if pitch_class else 128)
    return _normalize(h) if normalize else h


def _histograms(c: _Columns) -> dict[str, np.ndarray]:
    """Unnormalised pitch, pitch-class and duration histograms of the non-drum notes."""
    p = c.pitched
    q = (c.end[~c.drum] - c.time[~c.drum]) / max(c.tpq, 1)
    return {
        "pitch": np.bincount(p, minlength=128),
        "pitch_class": np.bincount(p % 12, minlength=12),
        "duration": np.bincount(_duration_class(q, DURATION_CLASSES),
                                minlength=len(DURATION_CLASSES)),
    }


def duration_histogram(score: symusic.Score, *, classes: Sequence[float] = DURATION_CLASSES,
                       normalize: bool = True) -> np.ndarray:
    """Note counts per duration class (shape ``(len(classes),)``) of the non-drum notes.

    Durations are measured in quarter notes (``duration / tpq``) and each goes to the class
    nearest on a log scale (so 0.3 quarters is a 16th, 0.32 a dotted 16th); longer than the
    last class counts as the last, shorter than the first (zero length too) as the first.
    The default classes run from a 32nd note (0.125) to a double whole note (8), dotted
    values included.
    """
    c = _columns(score)
    keep = ~c.drum
    q = (c.end[keep] - c.time[keep]) / max(c.tpq, 1)
    h = np.bincount(_duration_class(q, classes), minlength=len(classes))
    return _normalize(h) if normalize else h


def _duration_class(quarters: np.ndarray, classes: Sequence[float]) -> np.ndarray:
    lc = np.log2(np.asarray(classes, dtype=np.float64))
    if len(lc) == 0 or np.any(np.diff(lc) <= 0):
        raise ValueError("duration classes must be positive and increasing")
    lq = np.log2(np.maximum(quarters, classes[0]))
    mid = (lc[1:] + lc[:-1]) / 2  # boundaries halfway between classes on the log scale
    return np.searchsorted(mid, lq, side="left")


def _normalize(h: np.ndarray) -> np.ndarray:
    h = np.asarray(h, dtype=np.float64)
    total = h.sum()
    return h / total if total > 0 else h


def histogram_overlap(p, q) -> float:
    """Overlapped area of two histograms over the same bins: ``sum(min(p/sum p, q/sum q))``,
    in [0, 1] (1: same distribution, 0: no shared bin); NaN if either is all zeros."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"histograms differ in shape: {p.shape} vs {q.shape}")
    if p.sum() <= 0 or q.sum() <= 0:
        return math.nan
    return float(np.minimum(p / p.sum(), q / q.sum()).sum())


def _scott_bandwidth(x: np.ndarray) -> float:
    # scipy.stats.gaussian_kde's default: standard deviation (ddof=1) times n^(-1/5).
    return float(np.std(x, ddof=1) * len(x) ** (-1 / 5)) if len(x) > 1 else 0.0


def _kde_on_grid(x: np.ndarray, h: float, lo: float, step: float, n: int) -> np.ndarray:
    """Gaussian KDE of ``x`` (bandwidth ``h``) at ``lo + step * arange(n)``: the samples are
    linearly binned onto the grid and convolved (FFT) with the sampled kernel, normalised
    so that ``sum(density) * step == 1`` exactly."""
    pos = (x - lo) / step
    i = np.clip(np.floor(pos).astype(np.int64), 0, n - 2)
    f = pos - i
    w = np.bincount(i, 1 - f, minlength=n) + np.bincount(i + 1, f, minlength=n)
    half = int(np.ceil(8 * h / step))
    u = np.arange(-half, half + 1) * (step / h)
    kernel = np.exp(-0.5 * u * u)
    kernel /= kernel.sum() * step * len(x)
    size = 1 << int(np.ceil(np.log2(n + len(kernel))))
    full = np.fft.irfft(np.fft.rfft(w, size) * np.fft.rfft(kernel, size), size)
    return np.maximum(full[half:half + n], 0.0)


def overlapped_area(a_values, b_values, *, method: str = "kde", bins=None,
                    max_grid: int = 1 << 20) -> float:
    """Overlapped area ``OA = integral of min(p_a(x), p_b(x)) dx`` of the distributions of two
    samples of a scalar feature; in [0, 1]: 1 for identical distributions, 0 for disjoint.

    ``method="kde"`` (default; Yang & Lerch 2020): each density is a Gaussian KDE with Scott's
    bandwidth (``scipy.stats.gaussian_kde``'s default); the integral runs over the whole line
    (``mgeval`` integrates only between the smallest and largest value, which cuts the tails
    and makes OA < 1 even for identical samples). Both densities are evaluated on one grid
    spanning the samples +- 8 bandwidths, with a step of 1/16 of the smaller bandwidth (at
    most ``max_grid`` points), by linear binning and FFT convolution: linear in the number of
    values, so a million inter-set distances are fine; the error against the exact KDE is
    about 1e-4 in OA. A sample with no spread
    (one value, or all equal) borrows the bandwidth of the pooled samples; if those have no
    spread either, OA is 1 when both samples hold the same value.

    ``method="hist"``: normalised histograms on common bins, ``OA = sum(min(p, q))``.
    ``bins``: an int or bin edges as for :func:`numpy.histogram` over the pooled range;
    default one bin per integer when every value is an integer, else 'auto'.

    NaN values are dropped; NaN if either sample is then empty.
    """
    a = np.asarray(a_values, dtype=np.float64).ravel()
    b = np.asarray(b_values, dtype=np.float64).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return math.nan
    pooled = np.concatenate([a, b])
    if method == "hist":
        if bins is None:
            if np.all(pooled == np.round(pooled)):
                bins = np.arange(pooled.min() - 0.5, pooled.max() + 1.5)
            else:
                bins = np.histogram_bin_edges(pooled, "auto")
        edges = np.histogram_bin_edges(pooled, bins)
        return histogram_overlap(np.histogram(a, edges)[0], np.histogram(b, edges)[0])
    if method != "kde":
        raise ValueError(f"method must be 'kde' or 'hist', got {method!r}")
    fallback = _scott_bandwidth(pooled)
    if fallback <= 0:
        return 1.0 if a[0] == b[0] else 0.0
    ha = _scott_bandwidth(a) or fallback
    hb = _scott_bandwidth(b) or fallback
    hmax = max(ha, hb)
    lo, hi = pooled.min() - 8 * hmax, pooled.max() + 8 * hmax
    n = int(min(max(np.ceil((hi - lo) / (min(ha, hb) / 16)), 1024), max_grid)) + 1
    step = (hi - lo) / (n - 1)
    y = np.minimum(_kde_on_grid(a, ha, lo, step, n), _kde_on_grid(b, hb, lo, step, n))
    return float(min(y.sum() * step, 1.0))


def _distances(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances between rows: all pairs i<j of ``x``, or all pairs of x and y."""
    x = x.reshape(len(x), -1)
    z = x if y is None else y.reshape(len(y), -1)
    # |x - z|^2 = |x|^2 + |z|^2 - 2 x.z: memory n*m, not n*m*features
    d2 = (x * x).sum(1)[:, None] + (z * z).sum(1)[None, :] - 2 * x @ z.T
    d = np.sqrt(np.maximum(d2, 0.0))
    return d[np.triu_indices(len(x), 1)] if y is None else d.ravel()


def relative_overlapped_area(generated, reference, **kwargs) -> float:
    """Yang & Lerch's relative measure: the :func:`overlapped_area` between the distribution
    of intra-set distances of ``reference`` (all pairs i<j) and that of the inter-set
    distances between ``generated`` and ``reference`` (all pairs). Rows are pieces, a
    feature per piece is a scalar or a vector (Euclidean distance); rows with NaN are
    dropped. High OA: the generated pieces sit among the reference pieces as the reference
    pieces sit among themselves. NaN with fewer than 2 reference or 1 generated piece."""
    g = np.asarray(generated, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    g = g[np.isfinite(g.reshape(len(g), -1)).all(1)] if len(g) else g
    r = r[np.isfinite(r.reshape(len(r), -1)).all(1)] if len(r) else r
    if len(r) < 2 or len(g) < 1:
        return math.nan
    return overlapped_area(_distances(r), _distances(g, r), **kwargs)


def compare_sets(generated: Sequence[symusic.Score], reference: Sequence[symusic.Score], *,
                 mode: str = "absolute", paired: bool = False,
                 measure_resolution: int | None = None, method: str = "kde") -> dict[str, float]:
    """Per-feature overlapped area (in [0, 1], higher is closer) of a generated set of scores
    against a reference set.

    Features:

    * ``"pitch"``, ``"pitch_class"``, ``"duration"``: note histograms (:func:`pitch_histogram`,
      :func:`duration_histogram`). ``mode="absolute"``: :func:`histogram_overlap` of the two
      sets' pooled note histograms; with ``paired`` (generated[i] is the counterpart of
      reference[i], as in infilling) the mean over pairs of the per-pair overlap instead
      (the "pitch / duration distribution similarity" of TeleMelody and GETMusic).
      ``mode="relative"``: :func:`relative_overlapped_area` of the per-piece normalised
      histograms (vectors).
    * every metric of :data:`METRICS`: ``mode="absolute"``: :func:`overlapped_area` (with
      ``method``) of the per-piece values of the two sets; ``mode="relative"``:
      :func:`relative_overlapped_area` (Yang & Lerch). NaN values (e.g. drum metrics of
      drum-less pieces) are dropped; a feature with no values on one side is NaN.

    ``measure_resolution``: ticks per bar for the measure metrics (default: time signatures).
    """
    if mode not in ("absolute", "relative"):
        raise ValueError(f"mode must be 'absolute' or 'relative', got {mode!r}")
    if paired and len(generated) != len(reference):
        raise ValueError(f"paired sets differ in size: {len(generated)} vs {len(reference)}")
    gc = [_columns(s) for s in generated]
    rc = [_columns(s) for s in reference]
    gh, rh = [_histograms(c) for c in gc], [_histograms(c) for c in rc]
    out: dict[str, float] = {}
    for name in ("pitch", "pitch_class", "duration"):
        g = np.array([h[name] for h in gh], dtype=np.float64).reshape(len(gh), -1)
        r = np.array([h[name] for h in rh], dtype=np.float64).reshape(len(rh), -1)
        if mode == "relative":
            norm = (lambda h: h / np.where(h.sum(1, keepdims=True) > 0,
                                           h.sum(1, keepdims=True), np.nan))
            out[name] = relative_overlapped_area(norm(g), norm(r), method=method)
        elif paired:
            per_pair = [histogram_overlap(x, y) for x, y in zip(g, r)]
            out[name] = float(np.nanmean(per_pair)) if np.isfinite(per_pair).any() else math.nan
        else:
            out[name] = histogram_overlap(g.sum(0), r.sum(0))
    gm = [_compute_all(c, measure_resolution) for c in gc]
    rm = [_compute_all(c, measure_resolution) for c in rc]
    for name in METRICS:
        g = np.array([m[name] for m in gm], dtype=np.float64)
        r = np.array([m[name] for m in rm], dtype=np.float64)
        if mode == "relative":
            out[name] = relative_overlapped_area(g, r, method=method)
        else:
            out[name] = overlapped_area(g, r, method=method)
    return out
