"""How much music one score may hold, and which values a score may carry, checked once when it
comes in (:func:`symbolic.load`) and again where a function takes a Score from a caller.

A MIDI file states lengths in variable-length deltas: 166 bytes can declare a score days long,
and everything that allocates per tick, per grid step or per audio sample (chords per beat,
grids, piano rolls, audio) would then ask for gigabytes. So a score is refused, with an
:class:`~symbolic.errors.InputTooLargeError` naming the limit, when it is longer than
:attr:`Limits.max_seconds` (through its tempo map) or :attr:`Limits.max_quarters`, or holds more
than :attr:`Limits.max_notes` notes or :attr:`Limits.max_tracks` tracks. The defaults are far
above real music (the longest Lakh MIDI files last about an hour); raise them per call
(``load(path, limits=Limits(max_seconds=4 * 3600))``) or for the process
(``symbolic.limits.DEFAULT = Limits(...)``).

Values no MIDI file can mean are refused with a :class:`~symbolic.errors.ParseError`: a tempo
of zero (or not finite), a pitch or velocity outside 0-127, a program outside 0-127, and
negative times or durations (what a tick count past 2^31 wraps to).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import symusic

from .errors import InputTooLargeError, ParseError

__all__ = ["Limits", "DEFAULT", "check_score"]


@dataclass(frozen=True)
class Limits:
    """Bounds on one score: ``max_seconds`` of music (through the tempo map), ``max_quarters``
    (quarter notes, whatever the tempo: what grids and piano rolls allocate per), ``max_notes``
    and ``max_tracks``."""

    max_seconds: float = 3600.0
    max_quarters: int = 100_000
    max_notes: int = 2_000_000
    max_tracks: int = 1024


#: The limits every check uses unless given others.
DEFAULT = Limits()


def check_score(score: symusic.Score, source=None, limits: Limits | None = None):
    """``score`` (tick time) unchanged, or an error naming ``source`` and the value or limit it
    breaks (see the module doc)."""
    limits = limits or DEFAULT
    if len(score.tracks) > limits.max_tracks:
        raise InputTooLargeError(f"{len(score.tracks)} tracks, over the limit of "
                                 f"{limits.max_tracks} (Limits.max_tracks)", source)
    notes = score.note_num()
    if notes > limits.max_notes:
        raise InputTooLargeError(f"{notes} notes, over the limit of {limits.max_notes} "
                                 "(Limits.max_notes)", source)
    longest = _check_tempos(score, source)
    _check_tracks(score, source)
    _check_length(score, source, limits, longest)
    return score


def _check_tempos(score, source) -> int:
    """The longest quarter note (microseconds) among the tempos; raise on an impossible one."""
    longest = 500_000  # MIDI's 120 qpm before the first tempo
    for t in score.tempos:
        mspq = int(t.mspq)
        if mspq <= 0 or not math.isfinite(t.qpm):
            raise ParseError(f"tempo of {t.mspq} microseconds per quarter at tick {int(t.time)} "
                             "(a tempo must be above zero)", source)
        if int(t.time) < 0:
            raise ParseError(f"tempo at negative tick {int(t.time)} (a tick count past 2^31)",
                             source)
        longest = max(longest, mspq)
    return longest


def _check_tracks(score, source) -> None:
    # pitch and velocity are int8 and times int32 in symusic's arrays: a value past 127 or a
    # tick count past 2^31 reads as negative, so one minimum per column finds every bad note
    # (the slow path below only runs to name the first one).
    for k, tr in enumerate(score.tracks):
        if not 0 <= int(tr.program) <= 127:
            raise ParseError(f"track {k} ({tr.name!r}): program {int(tr.program)} outside 0-127",
                             source)
        if not len(tr.notes):
            continue
        n = tr.notes.numpy()
        if min(n["pitch"].min(), n["velocity"].min(), n["time"].min(), n["duration"].min()) >= 0:
            continue
        for field in ("pitch", "velocity"):
            values = n[field].astype(np.int64)
            bad = (values < 0) | (values > 127)
            if bad.any():
                raise ParseError(f"track {k} ({tr.name!r}): {field} {int(values[bad][0])} outside "
                                 "0-127", source)
        field = "time" if n["time"].min() < 0 else "duration"
        raise ParseError(f"track {k} ({tr.name!r}): negative note {field} (a tick count past "
                         "2^31)", source)


def _check_length(score, source, limits: Limits, longest_mspq: int) -> None:
    from .timeline import ticks_to_seconds

    end = int(score.end())
    quarters = end / max(int(score.ticks_per_quarter), 1)
    if quarters > limits.max_quarters:
        raise InputTooLargeError(f"{quarters:.0f} quarter notes long, over the limit of "
                                 f"{limits.max_quarters} (Limits.max_quarters)", source)
    if quarters * longest_mspq / 1e6 <= limits.max_seconds:  # an upper bound: no tempo map needed
        return
    seconds = float(ticks_to_seconds(score, [end])[0]) if end > 0 else 0.0
    if seconds > limits.max_seconds:
        raise InputTooLargeError(f"{seconds:.0f} seconds long, over the limit of "
                                 f"{limits.max_seconds:.0f} s (Limits.max_seconds)", source)
