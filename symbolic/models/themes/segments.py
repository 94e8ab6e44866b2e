"""Two-bar melody segments of a score, their fixed-size features, and the augmentations that
make the theme encoder's positive pairs.

**Segments.** One segment starts on every bar (hop 1 bar) and spans two bars, as in Theme
Transformer. Bars come from ``bar_ticks`` (POP909: ``Pop909(...).song(n).bar_ticks()``, the
annotated downbeats) or from the score's time signatures. Each bar is cut into
:data:`STEPS_PER_BAR` equal steps (sixteenth notes in 4/4, whatever the bar's length), so a
segment is :data:`SEGMENT_STEPS` = 32 steps. The melody's notes are quantized to that grid:
onset to the nearest step, duration to at least one step; a note is in the segment whose span
holds its onset, and is cut at the segment's end. Overlapping melody notes are made
monophonic (a note ends where the next one starts; of several onsets on one step the highest
pitch is kept). What is lost: timing finer than the step, velocity, notes before the first
or after the last bar line, notes of chords in the melody track but the top one.

**Notes of a segment**: a ``[n, 3]`` int64 array of ``(onset step, duration steps, MIDI
pitch)`` rows sorted by onset (:class:`MelodySegments`), what the augmentations work on.

**Feature** (:func:`segment_tokens`): 32 integers, one per step: :data:`REST` (0) where no
note sounds, :data:`HOLD` (1) where the note of an earlier step goes on, and
``2 + 24 + (pitch - first pitch)`` (clipped to 2..50) where a note starts, the pitch counted
from the segment's first note. Relative pitch makes the feature transposition-invariant:
two segments with the same rhythm and intervals have equal features in any key.

**Augmentations** (Theme Transformer's, on a segment's note array): :func:`shift_in_scale`
(every note moved by the same number of scale degrees, within the song's scale),
:func:`change_last_duration` (the last note shorter or longer), :func:`split_note` and
:func:`merge_notes` (one note in two of the same pitch, two neighbours in one), and
:func:`augment`, a random mix of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import symusic

from ...checks import MAX_BARS
from ...errors import ArgumentError, InputTooLargeError
from ...timeline import as_tick, bar_lines, meter_changes
from ...tracks import find_part, parts_for

__all__ = ["STEPS_PER_BAR", "SEGMENT_BARS", "SEGMENT_STEPS", "REST", "HOLD", "VOCAB_SIZE",
           "MAX_INTERVAL", "MelodySegments", "melody_track", "song_bars", "melody_segments",
           "segment_tokens", "song_scale", "shift_in_scale", "change_last_duration",
           "split_note", "merge_notes", "augment"]

STEPS_PER_BAR = 16
SEGMENT_BARS = 2
SEGMENT_STEPS = STEPS_PER_BAR * SEGMENT_BARS
REST, HOLD = 0, 1
#: Intervals from the first note beyond this many semitones are clipped.
MAX_INTERVAL = 24
VOCAB_SIZE = 2 + 2 * MAX_INTERVAL + 1
#: Major-scale pitch classes (its rotations give every diatonic mode).
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])


@dataclass
class MelodySegments:
    """The two-bar segments of one melody. ``bars``: 1-based number of each segment's first
    bar ``[N]``; ``notes``: one ``[n, 3]`` array per segment (onset step, duration steps,
    pitch); ``tokens``: ``[N, 32]`` features (:func:`segment_tokens`); ``scale``: the song's
    seven pitch classes (:func:`song_scale`); ``n_bars``: bars of the song."""

    bars: np.ndarray
    notes: list
    tokens: np.ndarray
    scale: np.ndarray
    n_bars: int

    def __len__(self) -> int:
        return len(self.bars)

    def note_counts(self) -> np.ndarray:
        """Notes starting in each segment ``[N]``."""
        return np.array([len(n) for n in self.notes], dtype=np.int64)


def melody_track(score: symusic.Score, melody=None):
    """The melody track of ``score``: ``melody`` as a track index or name, else the track
    whose name means melody (MELODY, lead, vocal...: :mod:`symbolic.tracks`), else the only
    pitched track. :class:`ArgumentError` naming ``melody`` when there is none."""
    tracks = list(score.tracks)
    if isinstance(melody, (int, np.integer)) and not isinstance(melody, bool):
        if not 0 <= melody < len(tracks):
            raise ArgumentError(f"track index out of range 0..{len(tracks) - 1}, got {melody}",
                                "melody")
        return tracks[melody]
    if melody is not None and not isinstance(melody, str):
        raise ArgumentError(f"must be a track index or name, got {melody!r}", "melody")
    if melody is not None:
        found = [t for t in tracks if t.name.strip().lower() == melody.strip().lower()]
    else:
        parts = parts_for(["MELODY"])
        found = [t for t in tracks if find_part(t.name, parts) == 0 and not t.is_drum]
        if not found:
            found = [t for t in tracks if not t.is_drum] if \
                sum(not t.is_drum for t in tracks) == 1 else []
    if not found or len(found[0].notes) == 0:
        names = ", ".join(repr(t.name) for t in tracks) or "none"
        raise ArgumentError(f"no melody track with notes (tracks: {names}; pass melody=NAME "
                            "or an index)", "melody")
    return found[0]


def song_bars(score: symusic.Score, bar_ticks=None) -> np.ndarray:
    """Bar lines ``[n_bars + 1]`` (each bar's start, then the end of the last): from
    ``bar_ticks`` (bar starts; the last bar as long as the one before it) or from the score's
    time signatures up to its end."""
    if bar_ticks is None:
        return bar_lines(meter_changes(score), score.ticks_per_quarter, score.end())[0]
    bars = np.asarray(bar_ticks, dtype=np.int64)
    if len(bars) < 2:
        raise ArgumentError("needs at least two bar starts", "bar_ticks")
    return np.append(bars, 2 * bars[-1] - bars[-2])


def _step_notes(track, bars: np.ndarray) -> np.ndarray:
    """The track's notes as ``(onset, duration, pitch)`` on the song's step grid, monophonic."""
    a = track.notes.numpy()
    start, end, pitch = a["time"], a["time"] + a["duration"], a["pitch"].astype(np.int64)
    inside = (start >= bars[0]) & (start < bars[-1])
    start, end, pitch = start[inside], end[inside], pitch[inside]

    def to_step(t):
        b = np.clip(np.searchsorted(bars, t, side="right") - 1, 0, len(bars) - 2)
        frac = (t - bars[b]) / (bars[b + 1] - bars[b])
        return np.rint((b + frac) * STEPS_PER_BAR).astype(np.int64)

    on, off = to_step(start), to_step(np.minimum(end, bars[-1]))
    order = np.lexsort((-pitch, on))
    on, off, pitch = on[order], off[order], pitch[order]
    first = np.r_[True, on[1:] != on[:-1]]  # highest pitch per onset step
    on, off, pitch = on[first], off[first], pitch[first]
    off = np.minimum(off, np.r_[on[1:], np.iinfo(np.int64).max])
    return np.stack([on, np.maximum(off - on, 1), pitch], axis=1)


def segment_tokens(notes: np.ndarray, steps: int = SEGMENT_STEPS) -> np.ndarray:
    """The ``[steps]`` feature of one segment's notes (see the module docstring)."""
    out = np.full(steps, REST, dtype=np.int64)
    if len(notes) == 0:
        return out
    notes = np.asarray(notes)
    rel = np.clip(notes[:, 2] - notes[0, 2], -MAX_INTERVAL, MAX_INTERVAL) + 2 + MAX_INTERVAL
    for (on, dur, _), tok in zip(notes, rel):
        if 0 <= on < steps:
            out[on + 1:min(on + dur, steps)] = HOLD
            out[on] = tok
    return out


def song_scale(pitches) -> np.ndarray:
    """The seven pitch classes of the diatonic scale (a major scale or any of its modes) that
    holds most of ``pitches`` (ties: the lowest tonic)."""
    hist = np.bincount(np.asarray(pitches, dtype=np.int64) % 12, minlength=12)
    fit = [hist[(MAJOR + k) % 12].sum() for k in range(12)]
    return np.sort((MAJOR + int(np.argmax(fit))) % 12)


def melody_segments(score: symusic.Score, *, melody=None, bar_ticks=None,
                    min_bars: int = SEGMENT_BARS) -> MelodySegments:
    """Every two-bar segment of the melody of ``score`` (one per bar but the last), with its
    notes and feature. ``melody``: track index or name (default: found by name,
    :func:`melody_track`); ``bar_ticks``: bar-start ticks (default: from the time
    signatures). :class:`ArgumentError` when there is no melody or fewer than ``min_bars``
    bars; :class:`~symbolic.errors.InputTooLargeError` over :data:`symbolic.checks.MAX_BARS`
    bars (a file can declare days of silence in a few bytes)."""
    score = as_tick(score)
    track = melody_track(score, melody)
    bars = song_bars(score, bar_ticks)
    n_bars = len(bars) - 1
    if n_bars < max(min_bars, SEGMENT_BARS):
        raise ArgumentError(f"too short: {n_bars} bar(s), needs at least "
                            f"{max(min_bars, SEGMENT_BARS)}", "score")
    if n_bars > MAX_BARS:  # clustering compares every segment with every other
        raise InputTooLargeError(f"{n_bars} bars, over the limit of {MAX_BARS} "
                                 "(symbolic.checks.MAX_BARS)", "score")
    notes = _step_notes(track, bars)
    starts = np.arange(n_bars - SEGMENT_BARS + 1) * STEPS_PER_BAR
    lo = np.searchsorted(notes[:, 0], starts)
    hi = np.searchsorted(notes[:, 0], starts + SEGMENT_STEPS)
    segs = []
    for s, a, b in zip(starts, lo, hi):
        seg = notes[a:b].copy()
        seg[:, 0] -= s
        seg[:, 1] = np.minimum(seg[:, 1], SEGMENT_STEPS - seg[:, 0])
        segs.append(seg)
    tokens = np.stack([segment_tokens(s) for s in segs]) if segs else \
        np.zeros((0, SEGMENT_STEPS), dtype=np.int64)
    return MelodySegments(bars=np.arange(1, len(segs) + 1), notes=segs, tokens=tokens,
                          scale=song_scale(notes[:, 2]), n_bars=n_bars)


# ------------------------------------------------------------------------- augmentations

def shift_in_scale(notes: np.ndarray, scale, degrees: int) -> np.ndarray:
    """Every note moved by ``degrees`` steps of ``scale`` (seven pitch classes): a note in the
    scale lands on a note of the scale; one outside it moves by the interval its nearest lower
    scale note moves, so it keeps its distance to it."""
    notes = np.array(notes, dtype=np.int64, copy=True)
    if len(notes) == 0 or degrees == 0:
        return notes
    scale = np.sort(np.asarray(scale, dtype=np.int64) % 12)
    # every pitch of the scale over the MIDI range, and each note's nearest one at or below
    ladder = (np.arange(-1, 12)[:, None] * 12 + scale[None, :]).ravel()
    idx = np.searchsorted(ladder, notes[:, 2], side="right") - 1
    target = np.clip(idx + degrees, 0, len(ladder) - 1)
    notes[:, 2] = np.clip(notes[:, 2] + ladder[target] - ladder[idx], 0, 127)
    return notes


def change_last_duration(notes: np.ndarray, new_duration: int,
                         steps: int = SEGMENT_STEPS) -> np.ndarray:
    """The last note's duration set to ``new_duration`` steps (at least 1, ending at the
    segment's end at the latest)."""
    notes = np.array(notes, dtype=np.int64, copy=True)
    if len(notes):
        notes[-1, 1] = int(np.clip(new_duration, 1, steps - notes[-1, 0]))
    return notes


def split_note(notes: np.ndarray, index: int) -> np.ndarray:
    """Note ``index`` split into two of its pitch, the first half (rounded up) and the rest;
    the segment's span (first onset, last end) stays. A one-step note stays as it is."""
    notes = np.array(notes, dtype=np.int64, copy=True)
    on, dur, pitch = notes[index]
    if dur < 2:
        return notes
    first = (dur + 1) // 2
    notes[index, 1] = first
    return np.insert(notes, index + 1, [on + first, dur - first, pitch], axis=0)


def merge_notes(notes: np.ndarray, index: int) -> np.ndarray:
    """Note ``index`` and the next one made one note of the first's pitch, from the first's
    onset to the second's end; the segment's span stays."""
    notes = np.array(notes, dtype=np.int64, copy=True)
    if not 0 <= index < len(notes) - 1:
        return notes
    notes[index, 1] = notes[index + 1, 0] + notes[index + 1, 1] - notes[index, 0]
    return np.delete(notes, index + 1, axis=0)


def augment(notes: np.ndarray, scale, rng: np.random.Generator, *, p: float = 0.5,
            max_degrees: int = 2) -> np.ndarray:
    """A random variant of a segment: each of the four augmentations applied with
    probability ``p`` (scale shift by 1..``max_degrees`` degrees either way; last note 1 to 2x
    its length or half of it; one random note split; one random neighbour pair merged)."""
    if len(notes) == 0:
        return np.array(notes, dtype=np.int64, copy=True)
    if rng.random() < p:
        k = int(rng.integers(1, max_degrees + 1)) * (1 if rng.random() < 0.5 else -1)
        notes = shift_in_scale(notes, scale, k)
    if rng.random() < p:
        d = int(notes[-1, 1])
        notes = change_last_duration(notes, int(rng.integers(max(d // 2, 1), 2 * d + 1)))
    if rng.random() < p:
        notes = split_note(notes, int(rng.integers(len(notes))))
    if rng.random() < p and len(notes) > 1:
        notes = merge_notes(notes, int(rng.integers(len(notes) - 1)))
    return np.array(notes, dtype=np.int64, copy=True)
