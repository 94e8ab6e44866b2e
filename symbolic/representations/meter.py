"""The metrical grid every representation quantizes to, and the metadata that decoding restores.

A :class:`MetricGrid` divides a tick-time score into bars and each bar into equal steps
(``resolution`` steps per quarter note: 4 gives 16th notes, so a 4/4 bar has 16 steps, a 3/4 bar
12, a 6/8 bar 12). Bars come from the score's time signatures, or from explicit bar-start ticks
(POP909's annotated downbeats), in which case each bar gets the whole number of steps closest to
its length. All conversions are vectorized over arrays of ticks or steps.

:class:`ScoreMeta` carries what a representation does not hold in its array (ticks per quarter,
tempos, time and key signatures, the grid itself) so that ``decode`` rebuilds the same timeline.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import symusic

__all__ = ["MetricGrid", "ScoreMeta"]


def _time_signature_bars(score: symusic.Score, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bar starts in ticks (plus the end of the last bar) and each bar's meter.

    Bars follow the time signatures (4/4 before the first); a change of signature inside a bar
    cuts that bar short. Bars reach at least ``end``.
    """
    tpq = score.ticks_per_quarter
    sigs = sorted({int(ts.time): (int(ts.numerator), int(ts.denominator))
                   for ts in score.time_signatures
                   if ts.numerator > 0 and ts.denominator > 0}.items())
    if not sigs or sigs[0][0] > 0:
        sigs.insert(0, (0, sigs[0][1] if sigs else (4, 4)))
    starts, nums, dens = [], [], []
    for i, (t, (num, den)) in enumerate(sigs):
        bar_len = num * tpq * 4 / den
        seg_end = sigs[i + 1][0] if i + 1 < len(sigs) else max(end, t + 1)
        n = max(1, int(np.ceil((seg_end - t) / bar_len - 1e-9)))
        starts.append(t + np.arange(n) * bar_len)
        nums += [num] * n
        dens += [den] * n
    bars = np.rint(np.concatenate(starts)).astype(np.int64)
    last = bars[-1] + int(round(nums[-1] * tpq * 4 / dens[-1]))
    return np.append(bars, last), np.array(nums), np.array(dens)


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

        Without ``bar_ticks``, bars follow the time signatures (4/4 before the first one). With
        ``bar_ticks`` (ascending bar starts, e.g. annotated downbeats), a pickup before the first
        bar becomes a bar of its own, bars after the last given one repeat its length, and each
        bar gets ``round(length / step)`` steps (at least 1).
        """
        tpq = score.ticks_per_quarter
        if resolution < 1:
            raise ValueError(f"resolution must be >= 1 step per quarter, got {resolution}")
        end = int(score.end()) if end is None else int(end)
        if bar_ticks is None:
            bars, nums, dens = _time_signature_bars(score, max(end, 1))
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
