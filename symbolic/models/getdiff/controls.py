"""What a generated part must fit: register, density and polyphony controls, and velocities.

Each control is ``"auto"`` (the default), ``None`` (free: the model decides) or a value, or a
dict from part name (``"bass"``, ``"MELODY"``...) to one of those:

- ``density``: onsets per bar (a chord counts once). The sampler tilts every draw's silence
  probability so the expected number of onsets in the region meets it
  (:func:`symbolic.models.getdiff.model.sample`).
- ``pitch_range``: ``(lowest, highest)`` MIDI pitch; onsets with a note outside are never drawn.
- ``polyphony``: the most notes one onset may hold (1: a single line).

``"auto"`` takes the replaced part's own figures: its notes in the region; where it has none
there, its notes elsewhere in the score; for a part the score lacks, the model's training
figures for that part (``role_stats`` in its config). The range is widened by
:data:`RANGE_MARGIN` semitones each side.

Velocities (:func:`velocities`): the grid carries none, so each generated note draws one from
the dynamics around it: the velocities of the notes it replaces, else of its track, else of
every other track in the region, else a metric accent (downbeat 96, beats 84, the rest 72).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import checks
from ...errors import ArgumentError

__all__ = ["Controls", "resolve_controls", "class_tables", "allowed_classes", "velocities",
           "RANGE_MARGIN", "AUTO"]

AUTO = "auto"
RANGE_MARGIN = 2


@dataclass(frozen=True)
class Controls:
    """One part's controls in grid units: ``density`` (onsets per column), ``pitch_range``,
    ``polyphony``; None where free."""

    density: float | None = None
    pitch_range: tuple[int, int] | None = None
    polyphony: int | None = None


def _for_part(value, part: str):
    if isinstance(value, dict):
        low = {str(k).strip().lower(): v for k, v in value.items()}
        return low.get(part.lower(), AUTO)
    return value


def _check(name: str, value):
    """A user's control value, checked (``"auto"`` and None pass)."""
    if value is None or (isinstance(value, str) and value == AUTO):
        return value
    if name == "density":
        return checks.number("density", value, 0.0, 256.0)
    if name == "polyphony":
        return checks.integer("polyphony", value, 1, 16)
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ArgumentError(f"must be (lowest, highest) MIDI pitches, got {value!r}",
                            "pitch_range") from None
    lo, hi = checks.integer("pitch_range", lo, 0, 127), checks.integer("pitch_range", hi, 0, 127)
    if lo > hi:
        raise ArgumentError(f"lowest {lo} is above highest {hi}", "pitch_range")
    return (lo, hi)


def _figures(notes: dict, steps: np.ndarray, n_cols: int) -> Controls | None:
    """A part's own figures from its notes (numpy dict) and their onset columns."""
    if not len(notes["pitch"]) or n_cols <= 0:
        return None
    _, per_onset = np.unique(steps, return_counts=True)
    lo = max(0, int(notes["pitch"].min()) - RANGE_MARGIN)
    hi = min(127, int(notes["pitch"].max()) + RANGE_MARGIN)
    return Controls(len(per_onset) / n_cols, (lo, hi), int(per_onset.max()))


def _stats_figures(stats: dict | None) -> Controls:
    if not stats:
        return Controls()
    return Controls(float(stats["onsets_per_step"]), (int(stats["pitch_lo"]),
                                                      int(stats["pitch_hi"])),
                    int(stats["polyphony"]))


def resolve_controls(part: str, region_notes: dict, region_steps, region_cols: int,
                     track_notes: dict, track_steps, track_cols: int, stats: dict | None,
                     steps_per_bar: float, *, density=AUTO, pitch_range=AUTO,
                     polyphony=AUTO) -> Controls:
    """One generated part's :class:`Controls`: each user value (see the module doc) or, for
    ``"auto"``, the part's notes in the region, else in the score, else ``stats``."""
    user = {n: _check(n, _for_part(v, part)) for n, v in
            (("density", density), ("pitch_range", pitch_range), ("polyphony", polyphony))}
    auto = (_figures(region_notes, region_steps, region_cols)
            or _figures(track_notes, track_steps, track_cols) or _stats_figures(stats))
    d = user["density"]
    return Controls(
        auto.density if d == AUTO else None if d is None else float(d) / max(steps_per_bar, 1),
        auto.pitch_range if user["pitch_range"] == AUTO else user["pitch_range"],
        auto.polyphony if user["polyphony"] == AUTO else user["polyphony"])


def class_tables(model, vocab) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per model track: lowest pitch, highest pitch and note count of each onset class
    (class 0, PAD: an empty range that every control allows), from the vocabulary's arrays."""
    lo, hi = vocab.pitch_bounds()
    out = []
    for a, b in model.track_slices:
        ids = np.arange(a - 1, b)  # class c is id a + c - 1; class 0 (PAD) is patched below
        t_lo, t_hi, t_n = lo[ids], hi[ids], vocab.pitch_count[ids].copy()
        t_lo[0], t_hi[0], t_n[0] = 127, 0, 0
        out.append((t_lo, t_hi, t_n))
    return out


def allowed_classes(table, ctl: Controls) -> np.ndarray | None:
    """Bool per onset class of one track: what ``ctl``'s range and polyphony allow (None: all).
    PAD is always allowed."""
    if ctl.pitch_range is None and ctl.polyphony is None:
        return None
    lo, hi, n = table
    ok = np.ones(len(lo), dtype=bool)
    if ctl.pitch_range is not None:
        ok &= (lo >= ctl.pitch_range[0]) & (hi <= ctl.pitch_range[1])
    if ctl.polyphony is not None:
        ok &= n <= ctl.polyphony
    ok[0] = True
    return ok


def velocities(n: int, rng: np.random.Generator, *pools, accents=None) -> np.ndarray:
    """``n`` velocities drawn from the first non-empty pool of reference velocities, else the
    metric ``accents`` (per note: 2 downbeat, 1 beat, 0 other)."""
    for pool in pools:
        pool = np.asarray(pool)
        if len(pool):
            return rng.choice(pool, size=n).astype(np.int64)
    levels = np.array([72, 84, 96])
    acc = np.zeros(n, np.int64) if accents is None else np.asarray(accents, np.int64)
    return levels[np.clip(acc, 0, 2)]
