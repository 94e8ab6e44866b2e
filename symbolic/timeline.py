"""Time on the ground floor: tick checks, meters, bars, beats, the tempo map and the metric grid.

Every module that needs bars, beats, grid steps or seconds (harmony, metrics, every
representation, every model) takes them from here, so "where does bar 9 start" has one answer
in the whole toolkit. This module imports nothing from the rest of :mod:`symbolic` but
:mod:`symbolic.errors` and :mod:`symbolic.checks` (which import nothing else).

- Tick checks: :func:`is_tick`, :func:`as_tick` (convert), :func:`require_tick` (refuse).
- Meter: :func:`meter_changes` (the time signatures, cleaned), :func:`bar_lines` (bar starts and
  each bar's meter), :func:`beat_lines` (beat starts inside bars: the denominator's note value,
  dotted in compound meters), :func:`bar_windows` (windows of whole bars); the user's meter
  over a file's: :func:`implausible_meter` (a declared meter that cannot be the music's, such
  as POP909's 1/4), :func:`with_meter` (a copy with ``"4/4"`` or bar lines on given ticks).
- Tempo: :func:`tempo_map`, :func:`ticks_to_seconds`, :func:`seconds_to_ticks`.
- :class:`MetricGrid` divides a tick-time score into bars and each bar into equal steps
  (``resolution`` steps per quarter note: 4 gives 16th notes, so a 4/4 bar has 16 steps, a 3/4
  bar 12, a 6/8 bar 12). Bars come from the time signatures, or from explicit bar-start ticks
  (POP909's annotated downbeats), in which case each bar gets the whole number of steps closest
  to its length. All conversions are vectorized over arrays of ticks or steps.
- :class:`ScoreMeta` carries what a representation does not hold in its array (ticks per
  quarter, tempos, time and key signatures, the grid itself) so that ``decode`` rebuilds the
  same timeline.

Units: ticks (the score's ``ticks_per_quarter``), quarters, seconds, steps (``resolution`` per
quarter), bars (0-based indices in code, 1-based only where a user names them).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import symusic

from . import checks
from .errors import ArgumentError, SymbolicError, TickTimeError

__all__ = ["is_tick", "as_tick", "require_tick", "meter_changes", "bar_lines", "meter_span_end",
           "beat_lines", "with_meter", "implausible_meter", "four_beat_evidence",
           "bar_windows", "tempo_map", "ticks_to_seconds", "seconds_to_ticks", "MetricGrid",
           "ScoreMeta"]


def is_tick(score) -> bool:
    """True for a tick-time ``symusic.Score``."""
    return isinstance(score, symusic.core.ScoreTick)


def as_tick(score: symusic.Score) -> symusic.Score:
    """``score`` in tick time (converted from quarter or second time when it is not).

    Anything that is not a ``symusic.Score`` raises :class:`~symbolic.errors.TickTimeError`
    (a ``TypeError``).
    """
    if is_tick(score):
        return score
    if not isinstance(score, (symusic.core.ScoreQuarter, symusic.core.ScoreSecond)):
        raise TickTimeError(f"expected a symusic.Score, got {type(score).__name__}")
    return score.to("tick")


def require_tick(score, what: str = "score") -> None:
    """Raise :class:`~symbolic.errors.TickTimeError` (a ``TypeError``) naming ``what`` unless
    ``score`` is a tick-time ``symusic.Score``."""
    if not is_tick(score):
        raise TickTimeError(f"expected a tick-time symusic.Score, got {type(score).__name__} "
                            "(convert with score.to('tick'))", what)


# ------------------------------------------------------------------------------------ meter

def meter_changes(score: symusic.Score, *, before_first=(4, 4),
                  same_tick: str = "last") -> tuple[np.ndarray, ...]:
    """``(ticks, numerators, denominators)``: the score's meter at each change, int64 arrays.

    Sorted by tick, the first at tick 0; signatures with a numerator or denominator below 1 are
    ignored. Of several signatures at one tick (81 POP909 files declare 4/4 and 1/4 or 2/4 at
    tick 0) one wins: with ``same_tick="last"`` the last in the score (what a sequencer
    plays), with ``"largest"`` the largest ``(numerator, denominator)``. Before the first
    signature the meter is ``before_first`` (``(num, den)``), or the first signature's own
    meter when ``before_first`` is None; with no signature at all, 4/4.
    """
    if same_tick not in ("last", "largest"):
        raise SymbolicError(f"same_tick must be 'last' or 'largest', got {same_tick!r}")
    sigs = [(int(ts.time), int(ts.numerator), int(ts.denominator))
            for ts in score.time_signatures if ts.numerator > 0 and ts.denominator > 0]
    if same_tick == "largest":
        sigs.sort()
    sigs = sorted({t: (num, den) for t, num, den in sigs}.items())
    if not sigs or sigs[0][0] > 0:
        first = sigs[0][1] if sigs and before_first is None else (before_first or (4, 4))
        sigs.insert(0, (0, tuple(first)))
    ticks = np.array([t for t, _ in sigs], dtype=np.int64)
    nums = np.array([m[0] for _, m in sigs], dtype=np.int64)
    dens = np.array([m[1] for _, m in sigs], dtype=np.int64)
    return ticks, nums, dens


def bar_lines(changes, ticks_per_quarter: int, end: int) -> tuple[np.ndarray, ...]:
    """``(bar_ticks, numerators, denominators)`` of the bars laid by ``changes`` up to ``end``.

    ``changes``: :func:`meter_changes`'s arrays. A bar lasts ``4 * tpq * num / den`` ticks;
    a change of meter inside a bar cuts that bar short (the next bar starts at the change);
    every meter gets at least one bar, and the bars of the last one reach at least ``end``
    (ticks, at least 1). ``bar_ticks`` holds each bar's start plus the end of the last bar
    (length ``n_bars + 1``, int64, each start rounded to the nearest tick from the exact
    position, so non-integer bar lengths do not drift); the other two arrays give each bar's
    meter.
    """
    ticks, nums, dens = (np.asarray(a) for a in changes)
    tpq, end = int(ticks_per_quarter), max(int(end), 1)
    bar_len = nums * tpq * 4 / dens
    stops = np.append(ticks[1:], max(end, int(ticks[-1]) + 1))
    count = np.maximum(1, np.ceil((stops - ticks) / bar_len - 1e-9)).astype(np.int64)
    seg = np.repeat(np.arange(len(ticks)), count)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(count) - count, count)
    bars = np.rint(ticks[seg] + k * bar_len[seg]).astype(np.int64)
    last = bars[-1] + int(round(float(bar_len[-1])))
    return np.append(bars, last), nums[seg], dens[seg]


def meter_span_end(changes, end: int) -> int:
    """The first meter change at or after ``end`` (ticks), else ``end``.

    Where a grid stops that lays every meter starting before ``end`` whole, up to the next
    change: chord segments and the measure metrics cover the score that way.
    """
    ticks = np.asarray(changes[0])
    later = ticks[ticks >= end]
    return int(later[0]) if len(later) else int(end)


def beat_lines(bar_ticks, numerators, denominators, ticks_per_quarter: int) -> np.ndarray:
    """Beat-start ticks (int64) inside the bars ``[bar_ticks[b], bar_ticks[b+1])``.

    A beat is the denominator's note value (``4 * tpq / den`` ticks), dotted in compound meters
    (6/8, 9/8, 12/8...: denominator 8 or more, numerator a multiple of 3 above 3). Each bar
    starts on a beat; a bar cut short keeps the beats that start inside it (at least one).
    """
    bar_ticks = np.asarray(bar_ticks, dtype=np.int64)
    bar_len = np.diff(bar_ticks).astype(np.float64)
    num = np.maximum(np.asarray(numerators), 1)
    den = np.maximum(np.asarray(denominators), 1)
    beat = 4.0 * ticks_per_quarter / den
    beat = np.where((den >= 8) & (num > 3) & (num % 3 == 0), 3 * beat, beat)
    count = np.maximum(1, np.ceil(bar_len / beat - 1e-9)).astype(np.int64)
    bar = np.repeat(np.arange(len(bar_len)), count)
    k = np.arange(len(bar)) - np.repeat(np.cumsum(count) - count, count)
    return np.rint(bar_ticks[bar] + k * beat[bar]).astype(np.int64)

#: :func:`implausible_meter`: a declared bar shorter than this many quarters is no meter.
SHORTEST_BAR_QUARTERS = 1.5
#: :func:`implausible_meter`: the t statistic over which a 2/4 score's 4-beat pattern counts.
FOUR_BEAT_T = 5.0
_MAX_BEATS = 200_000  # beats the 4-beat test reads (a longer score: its first beats)


def implausible_meter(score: symusic.Score) -> str | None:
    """A message when the declared meter cannot be the music's, else None.

    Two rules, each over the declared bars covering more than half of the score's length
    (tick 0 to the last note end; :func:`meter_changes`, the last signature winning at a tick):

    1. bars shorter than 1.5 quarters (1/4, 2/8, 1/8...): a placeholder, not a meter (617 of
       909 POP909 files declare 1/4 over music in 4/4);
    2. bars of two quarters (2/4) over music whose pattern repeats every four beats:
       :func:`four_beat_evidence` above :data:`FOUR_BEAT_T`.

    Measured (``python benchmarks/meter_check.py``; music21's Essen tunes: every third, 2,838):

    - rule 1 warns on all 693 POP909 files whose meter is 1/4 (617 declare it alone, 76 after
      a 4/4 at the same tick), on none of the 350 Bach chorales, and on 39 Essen tunes (1.4%),
      each one whose MIDI declares 1/4, 1/8 or 1/16 over most of it (music21 writes the
      short measures of irregular ABC tunes as signatures of their own);
    - rule 2 warns on 12 of the 25 POP909 files declared 2/4 (all in 4/4 per the annotated
      beats), on 450 of all 909 songs (49.5%) when each is declared 2/4, on 13 of the 745
      Essen tunes in 2/4 (1.7%), and on no chorale. It misses half the 4/4 songs: a pop song
      whose chords change every two beats does not tell 4/4 from 2/4 this way.

    Drum tracks are ignored. The message says what is declared and what to do: give the meter
    or the bar lines (:func:`with_meter`).
    """
    require_tick(score)
    tpq = score.ticks_per_quarter
    end = int(score.end())
    if end <= 0 or score.note_num() == 0:
        return None
    ticks, nums, dens = meter_changes(score)
    stops = np.minimum(np.append(ticks[1:], end), end)
    span = np.maximum(stops - np.minimum(ticks, end), 0)
    quarters = 4 * nums / dens
    for test, what in ((quarters < SHORTEST_BAR_QUARTERS, "bars shorter than 1.5 quarters"),
                       (quarters == 2, "bars of two quarters")):
        if span[test].sum() * 2 <= end:
            continue
        k = int(np.flatnonzero(test)[np.argmax(span[test])])
        meter = f"{nums[k]}/{dens[k]}"
        share = 100 * span[test].sum() / end
        if what.startswith("bars shorter"):
            return (f"declares {meter} ({what}) over {share:.0f}% of the music: a placeholder, "
                    "not a meter; give the meter (e.g. '4/4') or the bar lines")
        t = four_beat_evidence(score)
        if t > FOUR_BEAT_T:
            return (f"declares {meter} over {share:.0f}% of the music, but its harmony and "
                    f"onsets repeat every four beats (t = {t:.1f}): likely 4/4; give the meter "
                    "(e.g. '4/4') or the bar lines")
    return None


def four_beat_evidence(score: symusic.Score) -> float:
    """How strongly a score's pattern repeats every four beats rather than every two (0 when
    it cannot tell): a t statistic.

    Beats are quarters from the most common onset position inside a quarter (the phase). For
    each beat: the number of note onsets on it (within an eighth of a beat), and how much the
    pitch classes of the two beats from it differ from the two beats before it (1 - cosine
    of duration-weighted onset chroma: a harmonic change). Both, scaled by their spread,
    are summed per beat; for each cycle of four beats the sum at beat ``r`` minus beat
    ``r + 2``; the result is the larger over ``r`` in 0, 1 of ``|mean| / (std / sqrt(n))``
    of those differences. Music in 4/4 changes harmony and starts more notes on beat 1 than on
    beat 3; music in 2/4 does not tell the two bars apart.
    """
    require_tick(score)
    tpq = score.ticks_per_quarter
    notes = [t.notes.numpy() for t in score.tracks if not t.is_drum and t.note_num()]
    if not notes:
        return 0.0
    time = np.concatenate([n["time"] for n in notes]).astype(np.int64)
    dur = np.concatenate([n["duration"] for n in notes]).astype(np.float64) / tpq
    pc = np.concatenate([n["pitch"] for n in notes]).astype(np.int64) % 12
    phase = int(np.argmax(np.bincount(time % tpq * 24 // tpq, minlength=24))) * tpq // 24
    pos = (time - phase) / tpq
    keep = (pos > -0.5) & (pos < _MAX_BEATS)
    pos, dur, pc = pos[keep], dur[keep], pc[keep]
    beat = np.rint(pos).astype(np.int64)
    n_beats = int(beat.max(initial=0)) + 2
    count = np.bincount(beat[np.abs(pos - beat) <= 0.125], minlength=n_beats)[:n_beats]
    chroma = np.zeros((n_beats + 1, 12))
    np.add.at(chroma, (np.floor(np.maximum(pos, 0)).astype(np.int64), pc), np.minimum(dur, 2))
    pair = chroma[:-1] + chroma[1:]  # beats j and j + 1
    before = np.vstack([np.zeros((2, 12)), pair[:-2]])
    norm = np.linalg.norm(pair, axis=1) * np.linalg.norm(before, axis=1)
    change = np.where(norm > 0, 1 - (pair * before).sum(1) / np.maximum(norm, 1e-12), 0.0)
    total = count / (count.std() or 1.0) + change / (change.std() or 1.0)
    cycles = total[:len(total) // 4 * 4].reshape(-1, 4)
    if len(cycles) < 3:
        return 0.0
    best = 0.0
    for r in (0, 1):
        diff = cycles[:, r] - cycles[:, r + 2]
        spread = max(diff.std(ddof=1) / np.sqrt(len(diff)), 1e-6)  # no spread: a huge t
        best = max(best, abs(diff.mean()) / spread)
    return float(best)


def with_meter(score: symusic.Score, meter, *, bar_ticks=None) -> symusic.Score:
    """A copy of a tick-time score whose time signatures are replaced: the user's meter.

    ``meter``: ``"4/4"`` or ``(4, 4)`` (:func:`symbolic.checks.time_signature`), or None with
    ``bar_ticks`` (each bar then gets the meter its length spells: whole quarters as n/4, else
    eighths n/8, else sixteenths n/16; a length within a 16th of n quarters, such as a bar a
    tick short, n/4; else the nearest n/16).

    Without ``bar_ticks`` the score gets ``meter`` alone, at tick 0. With ``bar_ticks``
    (ascending bar-start ticks, e.g. POP909's annotated downbeats), signatures are written so
    that :func:`bar_lines` puts a bar line on every given tick: one at the first bar and again
    at each bar the previous signature's bar lines miss (a bar a few ticks short or long, a
    meter change). Before the first given bar, a pickup bar (its own meter when it is whole
    eighths or sixteenths, else the first bar's meter cut short); a pickup longer than a bar
    is laid as whole bars ending at the first given bar. With a fixed ``meter``, a given bar
    longer than the meter's bar holds more than one bar line. Bars past the last given tick
    repeat the last meter. Notes, tempos and key signatures are unchanged.

    The bar starts follow with ``bar_lines(meter_changes(out), tpq, end)[0]``.
    """
    require_tick(score)
    fixed = None if meter is None else checks.time_signature(meter, "meter")
    out = score.copy()
    out.time_signatures.clear()
    if bar_ticks is None:
        if fixed is None:
            raise ArgumentError("needs a meter such as '4/4' when no bar_ticks are given",
                                "meter")
        out.time_signatures.append(symusic.TimeSignature(0, *fixed))
        return out
    bars = _bar_starts(bar_ticks)
    for tick, num, den in _signatures_at(bars, score.ticks_per_quarter, fixed):
        out.time_signatures.append(symusic.TimeSignature(int(tick), int(num), int(den)))
    return out


def _bar_starts(bar_ticks) -> np.ndarray:
    try:
        bars = np.asarray(bar_ticks, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ArgumentError(f"must be bar-start ticks (whole numbers >= 0), got "
                            f"{type(bar_ticks).__name__}", "bar_ticks") from None
    if len(bars) == 0 or not np.all(np.isfinite(bars)) or np.any(bars < 0) \
            or np.any(bars != np.rint(bars)) or bars.max() > 2**31 - 1:
        raise ArgumentError("must be one or more bar-start ticks, whole numbers in "
                            "[0, 2**31 - 1]", "bar_ticks")
    return np.unique(bars.astype(np.int64))


def _spelled(ticks: int, tpq: int, cap: int = 255) -> tuple[int, int] | None:
    """The meter whose bar lasts ``ticks``: n/4, else n/8, else n/16 (numerator at most
    ``cap``, what MIDI stores: a longer bar gets a bar line every ``cap`` units); None when no
    sixteenth count spells it."""
    for den in (4, 8, 16):
        unit = 4 * tpq / den
        n = ticks / unit
        if abs(n - round(n)) < 1e-9 and round(n) >= 1:
            return min(int(round(n)), cap), den
    return None


def _signatures_at(bars: np.ndarray, tpq: int, fixed) -> list[tuple[int, int, int]]:
    """``(tick, num, den)`` signatures putting a bar line on every tick of ``bars``."""
    lengths = np.diff(bars)
    if fixed is None:
        meters = [_spelled(int(x), tpq) or _nearest_meter(int(x), tpq) for x in lengths]
        meters.append(meters[-1] if meters else (4, 4))
    else:
        meters = [fixed] * len(bars)
    first_len = 4 * tpq * meters[0][0] / meters[0][1]
    out = []
    start = int(bars[0])
    pickup = int(round(start % first_len))
    if pickup:
        out.append((0, *(_spelled(pickup, tpq) or meters[0])))
    if start - pickup > 0:
        out.append((pickup, *meters[0]))
    anchor, anchor_bar, current = None, 0, None
    for i, tick in enumerate(bars.tolist()):
        m = meters[i]
        if m == current and round(anchor + (i - anchor_bar) * 4 * tpq * m[0] / m[1]) == tick:
            continue
        out.append((tick, *m))
        anchor, anchor_bar, current = tick, i, m
    return out


def _nearest_meter(ticks: int, tpq: int) -> tuple[int, int]:
    """n/4 for a length within a 16th of n quarters (a bar a few ticks off), else n/16 for the
    nearest whole number of sixteenths (numerators 1 to 255)."""
    quarters = ticks / tpq
    if round(quarters) >= 1 and abs(quarters - round(quarters)) <= 0.25:
        return int(min(round(quarters), 255)), 4
    return int(min(max(round(quarters * 4), 1), 255)), 16


def bar_windows(bar_first, bars: int, hop: int | None = None) -> list[tuple[int, int, int, int]]:
    """Windows of ``bars`` whole bars every ``hop`` bars (default ``bars``), left to right.

    ``bar_first``: the first column (step, tick...) of every bar plus the end (length
    ``n_bars + 1``). Returns ``(first_bar, end_bar, start, end)`` per window, bars 0-based and
    end-exclusive, ``start``/``end`` read from ``bar_first``. The last window ends at the last
    bar; a piece of no bars gives one empty window at 0.
    """
    bars = int(bars)
    hop = bars if hop is None else int(hop)
    if bars < 1 or hop < 1:
        raise SymbolicError(f"bar windows need bars >= 1 and hop >= 1, got bars={bars}, "
                            f"hop={hop}")
    first = np.asarray(bar_first)
    n = len(first) - 1
    out = []
    for b in range(0, max(n, 1), hop):
        e = min(b + bars, max(n, 0))
        out.append((b, e, int(first[min(b, n)]), int(first[e])))
        if b + bars >= n:
            break
    return out


# ------------------------------------------------------------------------------------ tempo

def tempo_map(score: symusic.Score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(tick, second, seconds_per_tick)`` at each tempo change of a tick-time score.

    The first segment starts at tick 0; with no tempo event MIDI's default 120 BPM applies.
    """
    tpq = score.ticks_per_quarter
    if tpq <= 0:
        raise ValueError(f"ticks_per_quarter must be positive, got {tpq}")
    tempos = score.tempos.numpy() if len(score.tempos) else {"time": np.zeros(0), "mspq": np.zeros(0)}
    ticks = np.asarray(tempos["time"], dtype=np.int64)
    mspq = np.asarray(tempos["mspq"], dtype=np.float64)
    order = np.argsort(ticks, kind="stable")
    ticks, mspq = ticks[order], mspq[order]
    if len(ticks) == 0 or ticks[0] > 0:
        first = mspq[0] if len(mspq) else 500_000.0
        ticks = np.concatenate([[0], ticks])
        mspq = np.concatenate([[first], mspq])
    # Several tempo events at one tick: the last one wins.
    keep = np.append(ticks[1:] != ticks[:-1], True)
    ticks, mspq = ticks[keep], mspq[keep]
    mspq = np.where(mspq > 0, mspq, 500_000.0)
    spt = mspq / 1e6 / tpq
    seconds = np.concatenate([[0.0], np.cumsum(np.diff(ticks) * spt[:-1])])
    return ticks, seconds, spt


def ticks_to_seconds(score: symusic.Score, ticks) -> np.ndarray:
    """Seconds at each tick position (array-like of ticks) of a tick-time score."""
    t0, s0, spt = tempo_map(score)
    ticks = np.asarray(ticks, dtype=np.float64)
    i = np.clip(np.searchsorted(t0, ticks, side="right") - 1, 0, None)
    return s0[i] + (ticks - t0[i]) * spt[i]


def seconds_to_ticks(score: symusic.Score, seconds, *, round: bool = True) -> np.ndarray:
    """Tick positions of times in seconds (array-like) for a tick-time score."""
    t0, s0, spt = tempo_map(score)
    seconds = np.asarray(seconds, dtype=np.float64)
    i = np.clip(np.searchsorted(s0, seconds, side="right") - 1, 0, None)
    ticks = t0[i] + (seconds - s0[i]) / spt[i]
    return np.rint(ticks).astype(np.int64) if round else ticks


# ------------------------------------------------------------------------------ metric grid

@dataclass(frozen=True)
class MetricGrid:
    """Bars and equal steps inside each bar, in ticks.

    ``bar_ticks`` has one entry per bar plus the end of the last bar; bar ``b`` spans
    ``[bar_ticks[b], bar_ticks[b+1])`` and holds ``steps_per_bar[b]`` steps. ``numerators`` and
    ``denominators`` give each bar's meter (from the time signature, or inferred from the steps
    for annotated bars).
    """

    ticks_per_quarter: int
    resolution: int
    bar_ticks: np.ndarray
    steps_per_bar: np.ndarray
    numerators: np.ndarray
    denominators: np.ndarray
    _first_step: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "bar_ticks", np.asarray(self.bar_ticks, dtype=np.int64))
        object.__setattr__(self, "steps_per_bar", np.asarray(self.steps_per_bar, dtype=np.int64))
        if len(self.bar_ticks) != len(self.steps_per_bar) + 1:
            raise ValueError("bar_ticks needs one entry more than steps_per_bar")
        if np.any(np.diff(self.bar_ticks) <= 0) or np.any(self.steps_per_bar <= 0):
            raise ValueError("bars must have positive length and at least one step")
        object.__setattr__(self, "_first_step",
                           np.concatenate([[0], np.cumsum(self.steps_per_bar)]).astype(np.int64))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_score(cls, score: symusic.Score, *, resolution: int = 4, bar_ticks=None,
                   end: int | None = None) -> "MetricGrid":
        """The grid of a tick-time score, covering at least up to ``end`` (default: its end).

        Without ``bar_ticks``, bars follow the time signatures (:func:`bar_lines`; the first
        signature's meter also before it, 4/4 without any). With
        ``bar_ticks`` (ascending bar starts, e.g. annotated downbeats), a pickup before the first
        bar becomes a bar of its own, bars after the last given one repeat its length, and each
        bar gets ``round(length / step)`` steps (at least 1).
        """
        tpq = score.ticks_per_quarter
        if resolution < 1:
            raise ValueError(f"resolution must be >= 1 step per quarter, got {resolution}")
        end = int(score.end()) if end is None else int(end)
        if bar_ticks is None:
            bars, nums, dens = bar_lines(meter_changes(score, before_first=None), tpq, end)
            steps = np.maximum(1, np.rint(np.diff(bars) * resolution / tpq)).astype(np.int64)
            return cls(tpq, resolution, bars, steps, nums, dens)
        bars = np.unique(np.asarray(bar_ticks, dtype=np.int64))
        if len(bars) == 0:
            raise ValueError("bar_ticks is empty")
        if bars[0] > 0:
            bars = np.concatenate([[0], bars])
        last_len = bars[-1] - bars[-2] if len(bars) > 1 else 4 * tpq
        if end > bars[-1] or len(bars) < 2:  # repeat the last bar's length up to the end
            extra = max(1, int(np.ceil((end - bars[-1]) / last_len)))
            bars = np.append(bars, bars[-1] + last_len * np.arange(1, extra + 1))
        step = tpq / resolution
        steps = np.maximum(1, np.rint(np.diff(bars) / step)).astype(np.int64)
        # Meter of an annotated bar: its steps as n quarters (or n eighths when odd).
        whole = steps % resolution == 0
        nums = np.where(whole, steps // resolution, np.rint(steps * 2 / resolution)).astype(np.int64)
        dens = np.where(whole, 4, 8)
        return cls(tpq, resolution, bars, steps, np.maximum(nums, 1), dens)

    # ------------------------------------------------------------------ properties
    @property
    def n_bars(self) -> int:
        return len(self.steps_per_bar)

    @property
    def n_steps(self) -> int:
        return int(self._first_step[-1])

    @property
    def bar_first_step(self) -> np.ndarray:
        """Index of each bar's first step, plus the total step count at the end."""
        return self._first_step

    def beat_ticks(self) -> np.ndarray:
        """Beat-start ticks of every bar (:func:`beat_lines`: the denominator's note value,
        dotted in compound meters; annotated bars get the meter their steps imply)."""
        return beat_lines(self.bar_ticks, self.numerators, self.denominators,
                          self.ticks_per_quarter)

    def bar_of_step(self, steps) -> np.ndarray:
        """Bar index of each step index."""
        return np.searchsorted(self._first_step, np.asarray(steps), side="right") - 1

    def step_ticks(self) -> np.ndarray:
        """Tick of every step start, plus the end tick (length ``n_steps + 1``, int64); equal
        to ``steps_to_ticks(arange(n_steps + 1))``, computed without a search (integer
        arithmetic when the steps are uniform). Read-only: copy it to change it."""
        step = self.uniform_step()
        if step is not None:
            ticks = np.arange(self.n_steps + 1, dtype=np.int64) * step
            ticks.flags.writeable = False
            return ticks
        return self._step_grid[0]

    def uniform_step(self) -> int | None:
        """The step length in ticks when every step is that many whole ticks from tick 0."""
        lengths = np.diff(self.bar_ticks)
        step = int(lengths[0] // self.steps_per_bar[0])
        if step > 0 and self.bar_ticks[0] == 0 and np.array_equal(lengths,
                                                                   self.steps_per_bar * step):
            return step
        return None

    @functools.cached_property
    def _step_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """(tick of every step start plus the end, float tick of every half step ``k + 0.5``);
        computed once per grid (``step_ticks`` and ``nearest_steps`` both need it), read-only."""
        bars, per_bar = self.bar_ticks, self.steps_per_bar
        length = np.diff(bars).astype(np.float64)
        bar = np.repeat(np.arange(self.n_bars), per_bar)
        k = np.arange(len(bar), dtype=np.float64) - self._first_step[bar]
        ticks = np.rint(bars[bar] + k / per_bar[bar] * length[bar]).astype(np.int64)
        half = bars[bar] + (k + 0.5) / per_bar[bar] * length[bar]
        ticks = np.append(ticks, bars[-1])
        ticks.flags.writeable = half.flags.writeable = False
        return ticks, half

    # ------------------------------------------------------------------ conversions
    def _bar_index(self, edges: np.ndarray, x: np.ndarray) -> np.ndarray:
        # np.clip's wrapper costs more than the search on short arrays: clamp in place.
        bar = np.searchsorted(edges, x, side="right") - 1
        np.maximum(bar, 0, out=bar)
        np.minimum(bar, self.n_bars - 1, out=bar)
        return bar

    def ticks_to_steps(self, ticks, *, how: str = "round") -> np.ndarray:
        """Step position of each tick: 'round' (nearest step), 'floor', or 'exact' (float)."""
        pos = self.positions(np.asarray(ticks, dtype=np.float64))
        if how == "exact":
            return pos
        if how == "floor":
            return np.floor(pos + 1e-9).astype(np.int64)
        if how == "round":
            return np.floor(pos + 0.5).astype(np.int64)
        raise ValueError(f"how must be 'round', 'floor' or 'exact', got {how!r}")

    def nearest_steps(self, ticks: np.ndarray) -> np.ndarray:
        """Nearest step of each int64 tick, capped at ``n_steps``: ``ticks_to_steps(ticks)``
        inside the grid except exactly on half-step ties, where this is exact (a tick rounds
        up from the half step's true position) and the float formula may not. Integer
        arithmetic when the steps are uniform, one search otherwise."""
        step = self.uniform_step()
        if step is not None:
            return np.minimum((ticks + step // 2) // step, self.n_steps)
        return np.searchsorted(self._step_grid[1], ticks, side="right")

    def positions(self, start: np.ndarray, end: np.ndarray | None = None):
        """``ticks_to_steps(t, how='exact')`` of int64 ``start`` (and ``end``) ticks, bit for
        bit; for note spans, faster than two calls: an end inside its note's onset bar needs
        no second bar search."""
        bt, first, spb = self.bar_ticks, self._first_step, self.steps_per_bar
        length = (bt[1:] - bt[:-1]).astype(np.float64)
        bar = self._bar_index(bt, start)
        pos = first[bar] + (start - bt[bar]) / length[bar] * spb[bar]
        if end is None:
            return pos
        out = end >= bt[bar + 1]
        out |= end < bt[bar]
        if out.any():
            bar = bar.copy()
            bar[out] = self._bar_index(bt, end[out])
        return pos, first[bar] + (end - bt[bar]) / length[bar] * spb[bar]

    def steps_to_ticks(self, steps) -> np.ndarray:
        """Tick of each (integer or fractional) step position, rounded to whole ticks."""
        s = np.asarray(steps, dtype=np.float64)
        bar = self._bar_index(self._first_step, s)
        length = (self.bar_ticks[bar + 1] - self.bar_ticks[bar]).astype(np.float64)
        ticks = self.bar_ticks[bar] + (s - self._first_step[bar]) / self.steps_per_bar[bar] * length
        return np.rint(ticks).astype(np.int64)

    def is_exact(self) -> bool:
        """True when every step starts on a whole tick (then tick -> step -> tick is lossless
        for ticks on the grid)."""
        lengths = np.diff(self.bar_ticks)
        return bool(np.all(lengths % self.steps_per_bar == 0))

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        return {"ticks_per_quarter": int(self.ticks_per_quarter), "resolution": int(self.resolution),
                "bar_ticks": self.bar_ticks.tolist(), "steps_per_bar": self.steps_per_bar.tolist(),
                "numerators": np.asarray(self.numerators).tolist(),
                "denominators": np.asarray(self.denominators).tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "MetricGrid":
        return cls(d["ticks_per_quarter"], d["resolution"], np.array(d["bar_ticks"]),
                   np.array(d["steps_per_bar"]), np.array(d["numerators"]), np.array(d["denominators"]))

    def __eq__(self, other) -> bool:
        return isinstance(other, MetricGrid) and self.to_dict() == other.to_dict()

    __hash__ = None


@dataclass
class ScoreMeta:
    """The timeline a representation's array does not hold: decode restores it exactly.

    Tempos ``(tick, microseconds per quarter)``, time signatures ``(tick, numerator,
    denominator)``, key signatures ``(tick, sharps, tonality)``, ticks per quarter and the grid.
    """

    ticks_per_quarter: int
    grid: MetricGrid
    tempos: list[tuple[int, int]] = field(default_factory=list)
    time_signatures: list[tuple[int, int, int]] = field(default_factory=list)
    key_signatures: list[tuple[int, int, int]] = field(default_factory=list)

    @classmethod
    def from_score(cls, score: symusic.Score, grid: MetricGrid) -> "ScoreMeta":
        return cls(
            ticks_per_quarter=int(score.ticks_per_quarter),
            grid=grid,
            tempos=[(int(t.time), int(t.mspq)) for t in score.tempos],
            time_signatures=[(int(t.time), int(t.numerator), int(t.denominator))
                             for t in score.time_signatures],
            key_signatures=[(int(k.time), int(k.key), int(k.tonality)) for k in score.key_signatures],
        )

    def empty_score(self) -> symusic.Score:
        """A score with this timeline and no tracks."""
        score = symusic.Score(self.ticks_per_quarter)
        for t, mspq in self.tempos:
            score.tempos.append(symusic.Tempo(t, qpm=60_000_000 / mspq))
            score.tempos[-1].mspq = mspq  # exact, not through the float qpm
        for t, num, den in self.time_signatures:
            score.time_signatures.append(symusic.TimeSignature(t, num, den))
        for t, key, tonality in self.key_signatures:
            score.key_signatures.append(symusic.KeySignature(t, key, tonality))
        return score

    def to_dict(self) -> dict:
        return {"ticks_per_quarter": self.ticks_per_quarter, "grid": self.grid.to_dict(),
                "tempos": [list(t) for t in self.tempos],
                "time_signatures": [list(t) for t in self.time_signatures],
                "key_signatures": [list(k) for k in self.key_signatures]}

    @classmethod
    def from_dict(cls, d: dict) -> "ScoreMeta":
        return cls(d["ticks_per_quarter"], MetricGrid.from_dict(d["grid"]),
                   [tuple(t) for t in d["tempos"]], [tuple(t) for t in d["time_signatures"]],
                   [tuple(k) for k in d["key_signatures"]])
