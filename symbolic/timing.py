"""Conversions between ticks, quarters and seconds through a score's tempo map (vectorized)."""

from __future__ import annotations

import numpy as np
import symusic

__all__ = ["tempo_map", "ticks_to_seconds", "seconds_to_ticks"]


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
