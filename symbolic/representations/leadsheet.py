"""Lead sheets (monophonic melody + chords + meter) and their CM-HRNN event encoding.

A :class:`LeadSheet` holds a monophonic melody, a chord sequence and the meter, all on a
:class:`~symbolic.timeline.MetricGrid` of 16th-note steps (``resolution=4`` steps
per quarter). Its event encoding (after CM-HRNN, Guo et al. 2020) has one event per note,
rest or continuation, four categorical fields each (:class:`Events`, ``array`` int64 ``[n, 4]``):

==========  =====  =========================================================================
field       size   meaning
==========  =====  =========================================================================
bar         2      1 when the event starts a bar
chord       49     0 = no chord, else ``1 + root * 4 + q`` with q in maj=0, min=1, 7=2, dim=3
                   (:meth:`~symbolic.harmony.Chord.reduce_cmhrnn`)
duration    16     class ``k`` lasts ``k + 1`` steps: 0.25 to 4.0 quarter-note beats
note        130    0 = rest, 1 = sustain (continues the previous event's pitch), pitch + 2
==========  =====  =========================================================================

:meth:`Events.to_multi_hot` concatenates the four one-hots (197 dimensions);
:meth:`Events.model_inputs` appends the next event's chord (49) and the 16th steps elapsed in
the bar where the next event starts (16, clipped at 15 in bars longer than 4/4): 262.

:func:`encode` takes a score (``encode(score, *, strict=False, source=None, melody=...,
chords=...)``: :func:`from_score`, then the events); :func:`encode_leadsheet` takes a
:class:`LeadSheet`. Encoding (``LeadSheet -> Events``, lossless) cuts the timeline ``[0, end)`` at
every note onset and end, every bar line and every change of the 49-class chord; gaps become rests.
A piece longer than 16 steps is split greedily into 16-step events plus the remainder. Every piece
after the first one of a note is a sustain (note 1); a rest piece stays a rest. ``end`` is the end
of the last note or of the last chord, whichever is later. The whole encoding is vectorized:
per-step arrays over the timeline (note id, chord, onset and bar-line flags, built with
``np.repeat``) mark where a piece starts, ``np.repeat`` splits the long ones; decoding groups
sustain runs with ``np.flatnonzero`` / cumulative sums. No Python loop per note or event.

**Valid events** (:func:`validate`), the ones :func:`decode` accepts with ``strict=True`` and
for which ``encode(decode(x)) == x``:

1. every field within its range;
2. a sustain follows a note or a sustain (never a rest, never first);
3. bar flags are 1 exactly on the grid's bar lines, and no event crosses a bar line (without a
   grid, the flags define the bars: then only the first event must carry one);
4. splits are canonical: an event that continues the previous one (a sustain, or a rest after
   a rest) starts a bar, changes the chord, or follows a 16-step event;
5. the last event is not a rest without chord (a score cannot hold that silence).

**What is lost** (counted in the :class:`~symbolic.representations.EncodeReport` of
:func:`from_score` / :func:`from_pop909`, whose ``notes_in`` counts the melody source: the
melody track's notes, or every non-drum note for the highest-voice melody):

- ``onset_quantized`` / ``duration_quantized``: onsets and ends round to the nearest 16th step
  (a note keeps at least one step); ``overlap_cut``: a note still sounding when the next melody
  note starts ends there (monophony); ``same_step_onset`` (dropped): of several melody notes
  starting on one step only the highest stays; ``below_top_voice`` (dropped, highest-voice
  melody only): the note is not the highest sounding pitch at its onset step.
- Velocity: kept by the :class:`LeadSheet`, not by the events (decode writes ``velocity``).
- Chords (counted in :attr:`LeadSheet.chord_stats`, not in the note report): events keep the
  49 CM-HRNN classes (bass and extensions dropped: ``reduced``); spans snap to steps
  (``moved``); a span overlapping the next one ends where it starts (``cut``); spans shorter
  than half a step vanish (``dropped``). The lead sheet itself keeps the full
  :class:`~symbolic.harmony.Chord` of every span (root, quality, bass).
- Tracks other than the melody are only summarized by the chords.

Scores: :func:`decode` writes a ``MELODY`` track and, with ``chord_track=True`` (default), a
``CHORDS`` track holding each chord span as one root-position block chord (root in octave 3,
MIDI 48-59, velocity 80). :func:`from_score` reads such a ``CHORDS`` track back exactly, which
is what makes ``encode(decode(x)) == x`` hold through a ``symusic.Score``.

MusicXML: :func:`to_music21` / :func:`save_musicxml` write one melody part with measures, ties
and ``music21.harmony.ChordSymbol`` at chord changes (a Python loop over events: export only,
not on the encode/decode path).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import symusic

from .. import checks
from ..errors import ArgumentTypeError, EncodeError, ParseError, TickTimeError
from ..timeline import MetricGrid, ScoreMeta, require_tick
from ..harmony import (
    CMHRNN_QUALITIES,
    NO_CHORD,
    QUALITIES,
    Chord,
    ChordSequence,
    recognize_chords,
)
from . import EncodeReport

__all__ = [
    "LeadSheet",
    "Events",
    "FIELD_SIZES",
    "N_FEATURES",
    "N_MODEL_INPUTS",
    "MAX_DURATION",
    "REST",
    "SUSTAIN",
    "from_score",
    "from_pop909",
    "encode",
    "encode_leadsheet",
    "decode",
    "to_leadsheet",
    "validate",
    "chords_from_track",
    "chord_id",
    "chord_of_id",
    "chord_symbol",
    "to_music21",
    "save_musicxml",
]

#: Sizes of the four one-hot fields: bar flag, chord, duration class, note.
FIELD_SIZES = (2, 49, 16, 130)
_OFFSETS = np.cumsum((0,) + FIELD_SIZES[:-1])
#: Width of :meth:`Events.to_multi_hot` (197).
N_FEATURES = sum(FIELD_SIZES)
#: Width of :meth:`Events.model_inputs` (197 + 49 next chord + 16 position = 262).
N_MODEL_INPUTS = N_FEATURES + 49 + 16
#: Longest event in steps (16 sixteenths = 4 quarter-note beats).
MAX_DURATION = 16
REST, SUSTAIN = 0, 1
RESOLUTION = 4  # steps per quarter note: 16th notes
MELODY_TRACK, CHORD_TRACK = "MELODY", "CHORDS"
CHORD_VELOCITY, DEFAULT_VELOCITY = 80, 100
_CHORD_OCTAVE = 48  # block chords: root in MIDI 48-59

_QUALITY_NAMES = tuple(QUALITIES)
_NQ = len(_QUALITY_NAMES)
# 12-bit interval mask (relative to the root) -> position in _QUALITY_NAMES, -1 when none.
_MASK_QUALITY = np.full(4096, -1, dtype=np.int64)
for _i, _q in enumerate(_QUALITY_NAMES):
    _MASK_QUALITY[sum(1 << x for x in QUALITIES[_q])] = _i


# ---------------------------------------------------------------------------------------------
# Chord ids: one int per (root, quality, bass), so that per-span work runs on arrays
# ---------------------------------------------------------------------------------------------
# id 0 is no chord; else 1 + (root * _NQ + quality) * 13 + (bass, or 12 for root position).

_N_IDS = 1 + 12 * _NQ * 13
_k = np.arange(_N_IDS - 1)  # id - 1
_id_root, _id_q, _id_bass = _k // 13 // _NQ, _k // 13 % _NQ, _k % 13
_Q_CMHRNN = np.array([Chord(0, q).reduce_cmhrnn() - 1 for q in _QUALITY_NAMES])
_Q_PLAIN = np.array([q in CMHRNN_QUALITIES for q in _QUALITY_NAMES])
_MAX_TONES = max(len(v) for v in QUALITIES.values())
_Q_TONES = np.full((_NQ, _MAX_TONES), -1, dtype=np.int64)
for _i, _q in enumerate(_QUALITY_NAMES):
    _Q_TONES[_i, :len(QUALITIES[_q])] = QUALITIES[_q]
_tones = _Q_TONES[_id_q]

#: chord id -> CM-HRNN class (0..48).
_ID_CMHRNN = np.concatenate([[0], 1 + _id_root * 4 + _Q_CMHRNN[_id_q]]).astype(np.int64)
#: chord id -> True when its 49-class chord says less than the label (bass or extensions).
_ID_REDUCED = np.concatenate([[False], (_id_bass != 12) | ~_Q_PLAIN[_id_q]])
#: chord id -> block-chord pitches (root position, root in MIDI 48-59), -1 padded.
_ID_PITCHES = np.vstack([np.full((1, _MAX_TONES), -1),
                         np.where(_tones >= 0, _CHORD_OCTAVE + _id_root[:, None] + _tones, -1)])
#: CM-HRNN class -> id of its plain chord (root position; 0 -> 0).
_c = np.arange(48)
_CMHRNN_ID = np.concatenate([[0], 1 + 12 + 13 * (
    _c // 4 * _NQ + np.array([_QUALITY_NAMES.index(q) for q in CMHRNN_QUALITIES])[_c % 4])])
del _i, _q, _k, _c, _tones


def _lead(value, a: np.ndarray) -> np.ndarray:
    """``value`` followed by ``a`` (np.r_ costs several times more per call)."""
    return np.concatenate((np.array([value], dtype=a.dtype), a))


def _trail(a: np.ndarray, value) -> np.ndarray:
    """``a`` followed by ``value``."""
    return np.concatenate((a, np.array([value], dtype=a.dtype)))


_LABEL_IDS: dict = {}  # label or Chord -> id (a str never equals a Chord)
_ID_CHORDS: dict[int, Chord] = {0: NO_CHORD}


def chord_id(chord) -> int:
    """The int id of a chord (a :class:`~symbolic.harmony.Chord` or any label it parses);
    0 for no chord (N, X). Ids keep root, quality and bass."""
    i = _LABEL_IDS.get(chord) if isinstance(chord, (str, Chord)) else None
    if i is None:
        ch = Chord.parse(chord)
        if ch.root is None:
            i = 0
        else:
            bass = 12 if ch.bass is None else ch.bass
            i = 1 + (ch.root * _NQ + _QUALITY_NAMES.index(ch.quality)) * 13 + bass
        if isinstance(chord, (str, Chord)):
            _LABEL_IDS[chord] = i
    return i


def chord_of_id(i: int) -> Chord:
    """The :class:`~symbolic.harmony.Chord` of a chord id (inverse of :func:`chord_id`)."""
    i = checks.integer("i (chord id)", i, 0, _N_IDS - 1)
    ch = _ID_CHORDS.get(i)
    if ch is None:
        k, bass = divmod(i - 1, 13)
        root, q = divmod(k, _NQ)
        ch = _ID_CHORDS[i] = Chord(root, _QUALITY_NAMES[q], None if bass == 12 else bass)
    return ch


def _label_ids(labels) -> np.ndarray:
    """Chord ids of labels or chords (labels seen before cost one dict lookup each)."""
    out = list(map(_LABEL_IDS.get, labels))
    if None in out:
        out = [chord_id(x) for x in labels]
    return np.array(out, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# The lead sheet
# ---------------------------------------------------------------------------------------------

@dataclass(eq=False)
class LeadSheet:
    """A monophonic melody, chords and the meter, in steps of ``meta.grid`` (16th notes).

    ``onset``, ``duration``, ``pitch``, ``velocity``: int64 arrays, one entry per melody note,
    sorted by onset, non-overlapping (``onset[i] + duration[i] <= onset[i + 1]``), durations
    >= 1 step. ``chord_start``, ``chord_end`` (steps, int64) and ``chord_id`` (int64,
    :func:`chord_id`: root, quality and bass in one int; :attr:`chords` gives the
    :class:`~symbolic.harmony.Chord` objects): sorted, non-overlapping chord spans (no-chord
    spans are left out: gaps mean no chord), neighbours with equal chords merged. ``meta``
    holds the grid, tempos, time and key signatures.
    ``report`` says what extraction did to the source notes; ``chord_stats`` counts chord spans
    in (``chords_in``), ``reduced`` (label richer than its 49-class chord), ``moved`` (a span
    edge off the grid), ``cut`` (overlapping the next span) and ``dropped`` (shorter than half
    a step after snapping).
    """

    onset: np.ndarray
    duration: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    chord_start: np.ndarray
    chord_end: np.ndarray
    chord_id: np.ndarray
    meta: ScoreMeta
    report: EncodeReport = field(default_factory=EncodeReport)
    chord_stats: Counter = field(default_factory=Counter)
    source: str | None = None

    # ------------------------------------------------------------------ views
    @property
    def grid(self) -> MetricGrid:
        return self.meta.grid

    @property
    def chords(self) -> list[Chord]:
        """The chord of each span."""
        return [chord_of_id(i) for i in self.chord_id.tolist()]

    @property
    def chord_index(self) -> np.ndarray:
        """CM-HRNN class (1..48) of each chord span (int64)."""
        return _ID_CMHRNN[self.chord_id]

    @property
    def end(self) -> int:
        """End of the timeline in steps: the last note's or the last chord's end."""
        a = int(self.onset[-1] + self.duration[-1]) if len(self.onset) else 0
        b = int(self.chord_end[-1]) if len(self.chord_end) else 0
        return max(a, b)

    def __len__(self) -> int:
        return len(self.onset)

    def chord_sequence(self) -> ChordSequence:
        """The chords as a :class:`~symbolic.harmony.ChordSequence` in ticks."""
        t = self.grid.steps_to_ticks(np.concatenate([self.chord_start, self.chord_end]))
        n = len(self.chord_id)
        return ChordSequence(t[:n], t[n:], self.chords)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_score(cls, score: symusic.Score, **kwargs) -> "LeadSheet":
        """See :func:`from_score`."""
        return from_score(score, **kwargs)

    @classmethod
    def from_pop909(cls, song, **kwargs) -> "LeadSheet":
        """See :func:`from_pop909`."""
        return from_pop909(song, **kwargs)

    # ------------------------------------------------------------------ conversions
    def to_events(self) -> "Events":
        """The event encoding (lossless for the lead sheet; see the module docstring)."""
        idx = _ID_CMHRNN[self.chord_id]
        array = _encode_arrays(self.onset, self.onset + self.duration, self.pitch,
                               self.chord_start, self.chord_end, idx, self.grid.bar_first_step)
        return Events(array, self.meta, self.report)

    def to_score(self, *, chord_track: bool = True) -> symusic.Score:
        """A tick-time score: ``MELODY`` (with the lead sheet's velocities) and ``CHORDS``."""
        grid = _grid_covering(self.grid, self.end)
        meta = self.meta if grid is self.grid else replace(self.meta, grid=grid)
        score = meta.empty_score()
        n, nc = len(self.onset), len(self.chord_id)
        t = grid.steps_to_ticks(np.concatenate([self.onset, self.onset + self.duration,
                                                self.chord_start, self.chord_end]))
        score.tracks.append(_track(MELODY_TRACK, t[:n], t[n:2 * n], self.pitch, self.velocity))
        if chord_track:
            score.tracks.append(_chord_track(t[2 * n:2 * n + nc], t[2 * n + nc:], self.chord_id))
        return score

    def to_music21(self, **kw):
        return to_music21(self, **kw)

    def save_musicxml(self, path, **kw) -> Path:
        return save_musicxml(self, path, **kw)


def _grid_covering(grid: MetricGrid, n_steps: int) -> MetricGrid:
    """``grid``, or ``grid`` with its last bar repeated until it holds ``n_steps`` steps."""
    if n_steps <= grid.n_steps:
        return grid
    spb, length = int(grid.steps_per_bar[-1]), int(grid.bar_ticks[-1] - grid.bar_ticks[-2])
    extra = -(-(n_steps - grid.n_steps) // spb)
    k = np.arange(1, extra + 1)
    return MetricGrid(grid.ticks_per_quarter, grid.resolution,
                      np.concatenate([grid.bar_ticks, grid.bar_ticks[-1] + k * length]),
                      np.concatenate([grid.steps_per_bar, np.full(extra, spb)]),
                      np.concatenate([grid.numerators, np.full(extra, grid.numerators[-1])]),
                      np.concatenate([grid.denominators, np.full(extra, grid.denominators[-1])]))


def _track(name: str, on, off, pitch, velocity) -> symusic.Track:
    """A tick-time track (program 0) from note arrays in ticks. The core classes skip
    symusic's Python-level dispatch, a noticeable share of a decode."""
    track = symusic.core.TrackTick(name, 0, False)
    track.notes = symusic.core.NoteTickList.from_numpy(
        on.astype(np.int32), (off - on).astype(np.int32), np.asarray(pitch).astype(np.int8),
        np.asarray(velocity).astype(np.int8))
    return track


def _chord_track(start, end, ids) -> symusic.Track:
    """One root-position block chord per span (ticks; no-chord spans stay empty)."""
    table = _ID_PITCHES[ids]
    rows, cols = np.nonzero(table >= 0)
    return _track(CHORD_TRACK, start[rows], end[rows], table[rows, cols],
                  np.full(len(rows), CHORD_VELOCITY))


# ---------------------------------------------------------------------------------------------
# Extraction: Score -> LeadSheet
# ---------------------------------------------------------------------------------------------

def _find_track(score: symusic.Score, which, source) -> int:
    if isinstance(which, (int, np.integer)):
        if not -len(score.tracks) <= which < len(score.tracks):
            raise EncodeError(f"track index {which} out of range ({len(score.tracks)} tracks)",
                              source)
        return int(which) % len(score.tracks)
    if not isinstance(which, str):
        raise EncodeError(f"a track is named by a string or an index, got "
                          f"{type(which).__name__} (chords from annotations: build a LeadSheet, "
                          f"e.g. from_pop909, and call encode_leadsheet)", source)
    name = which.upper()
    for i, t in enumerate(score.tracks):
        if t.name.upper() == name:
            return i
    names = ", ".join(repr(t.name) for t in score.tracks) or "none"
    raise EncodeError(f"no track named {which!r} (tracks: {names}); pass melody=<index> or "
                      f"melody=None for the highest voice", source)


def _note_columns(tracks) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(time, duration, pitch, velocity)`` int64 arrays of the notes of some tracks."""
    cols = [t.notes.numpy() for t in tracks if len(t.notes)]
    if not cols:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z
    get = (lambda k: cols[0][k].astype(np.int64)) if len(cols) == 1 else \
        (lambda k: np.concatenate([c[k] for c in cols]).astype(np.int64))
    return get("time"), get("duration"), get("pitch"), get("velocity")


def chords_from_track(track) -> ChordSequence:
    """Read block chords (what :func:`decode` writes in ``CHORDS``) back as a ChordSequence.

    Notes sharing an onset form one chord; its root is the lowest note's pitch class and its
    quality the one whose intervals match the pitch classes (else the nearest by overlap). The
    span runs from the onset to the longest note's end. Ticks as in the track.
    """
    from ..harmony import nearest_quality

    time, dur, pitch, _ = _note_columns([track])
    if len(time) == 0:
        z = np.zeros(0, dtype=np.int64)
        return ChordSequence(z, z.copy(), [])
    order = np.lexsort((pitch, time))
    time, end, pitch = time[order], (time + dur)[order], pitch[order]
    first = np.flatnonzero(_lead(True, time[1:] != time[:-1]))
    root = pitch[first] % 12
    rel = (pitch - np.repeat(root, np.diff(_trail(first, len(time))))) % 12
    mask = np.bitwise_or.reduceat(np.left_shift(1, rel), first)
    q = _MASK_QUALITY[mask]
    for k in np.flatnonzero(q < 0).tolist():  # not a known quality: the nearest one
        m = int(mask[k])
        nearest = nearest_quality(frozenset(i for i in range(12) if m >> i & 1))
        q[k] = _QUALITY_NAMES.index(nearest)
    chords = [chord_of_id(i) for i in (1 + (root * _NQ + q) * 13 + 12).tolist()]
    return ChordSequence(time[first], np.maximum.reduceat(end, first), chords)


def _skyline(on_s, end_s, pitch, n_steps) -> np.ndarray:
    """Mask of the notes that are the highest sounding pitch at their onset step."""
    length = np.maximum(end_s - on_s, 1)
    idx = np.repeat(on_s - np.cumsum(length) + length, length) + np.arange(int(length.sum()))
    top = np.full(n_steps + 1, -1, dtype=np.int64)
    np.maximum.at(top, np.minimum(idx, n_steps), np.repeat(pitch, length))
    return top[on_s] == pitch


def _extract(on_t, dur_t, pitch, vel, chord_start_t, chord_end_t, chord_labels,
             grid: MetricGrid, meta: ScoreMeta, *, skyline: bool, strict: bool,
             source) -> LeadSheet:
    """The vectorized core of :func:`from_score`: melody and chords in ticks -> LeadSheet."""
    def count(mask) -> int:
        return int(np.count_nonzero(mask))

    n_in, nc = len(on_t), len(chord_start_t)
    reasons = {}
    # Snap everything to steps in one call, and back to ticks in one call; layout of both:
    # [note onsets, note ends, chord starts, chord ends].
    ticks = np.concatenate([on_t, on_t + dur_t, chord_start_t, chord_end_t])
    if len(ticks) and ticks.max() > grid.bar_ticks[-1]:  # a given grid too short: extend it
        length = int(grid.bar_ticks[-1] - grid.bar_ticks[-2])
        bars = -(-(int(ticks.max()) - int(grid.bar_ticks[-1])) // length) + 1
        grid = _grid_covering(grid, grid.n_steps + bars * int(grid.steps_per_bar[-1]))
        meta = replace(meta, grid=grid)
    n_steps = grid.n_steps
    steps = grid.ticks_to_steps(ticks)
    on_s = np.minimum(steps[:n_in], n_steps - 1)
    end_s = np.minimum(np.maximum(steps[n_in:2 * n_in], on_s + 1), n_steps)
    steps[:n_in], steps[n_in:2 * n_in] = on_s, end_s
    moved = grid.steps_to_ticks(steps) != ticks
    # Sort by onset step, highest pitch first; keep the first note of each onset step.
    if n_in > 1 and (on_s[1:] > on_s[:-1]).all():  # the usual melody: already in order
        order = np.arange(n_in)
    else:
        order = np.lexsort((-pitch, on_s))
    if skyline and n_in:
        keep = _skyline(on_s, end_s, pitch, n_steps)
        reasons["below_top_voice"] = n_in - count(keep)
        order = order[keep[order]]
    o = on_s[order]
    if len(o) > 1:
        first = _lead(True, o[1:] != o[:-1])
        reasons["same_step_onset"] = len(o) - count(first)
        order = order[first]
        o = o[first]
    e = end_s[order]
    nxt = _trail(o[1:], n_steps)
    cut = e > nxt
    e = np.minimum(e, nxt)
    on_moved, end_moved = moved[order], moved[n_in + order]
    reasons["overlap_cut"] = count(cut)
    reasons["onset_quantized"] = count(on_moved)
    reasons["duration_quantized"] = count(end_moved & ~cut)
    k = len(o)
    altered = count(on_moved | end_moved | cut)
    report = EncodeReport(n_in, k - altered, altered, n_in - k,
                          {r: v for r, v in reasons.items() if v}, source=source)
    report.check(strict, source)

    # Chords: snap to steps, drop empty spans and no-chords, merge equal neighbours.
    key = _label_ids(chord_labels)
    stats = Counter(chords_in=nc)
    if nc:
        cs, ce = steps[2 * n_in:2 * n_in + nc], steps[2 * n_in + nc:]
        cmoved = moved[2 * n_in:2 * n_in + nc] | moved[2 * n_in + nc:]
        if (cs[1:] < cs[:-1]).any():  # unsorted input: by start
            by = np.argsort(cs, kind="stable")
            cs, ce, key, cmoved = cs[by], ce[by], key[by], cmoved[by]
        named = key > 0
        nxt = _trail(cs[1:], n_steps)
        overlap = ce > nxt  # overlapping input: a span ends where the next one starts
        ce = np.minimum(ce, nxt)
        live = (ce > cs) & named
        stats["dropped"] = count(named) - count(live)
        stats["cut"] = count(overlap & live)
        stats["moved"] = count(cmoved & live)
        stats["reduced"] = count(_ID_REDUCED[key] & live)
        sel = np.flatnonzero(live)
        cs, ce, key = cs[sel], ce[sel], key[sel]
    if len(key):
        heads = np.flatnonzero(_lead(True, (key[1:] != key[:-1]) | (cs[1:] != ce[:-1])))
        tails = _trail(heads[1:], len(key)) - 1
        cs, ce, key = cs[heads], ce[tails], key[heads]
    else:
        cs = ce = np.zeros(0, dtype=np.int64)
    return LeadSheet(o, e - o, pitch[order], vel[order], cs, ce, key, meta, report, stats, source)


def _timeline_end(score: symusic.Score, *extra) -> int:
    ends = [int(score.end())] + [int(np.max(x)) for x in extra if len(x)]
    return max(ends) + score.ticks_per_quarter  # room for a last note rounding up


def from_score(score: symusic.Score, *, melody="MELODY", chords=None,
               grid: MetricGrid | None = None, bar_ticks=None, strict: bool = False,
               source=None, **recognize_kw) -> LeadSheet:
    """Extract a lead sheet from a tick-time score.

    ``melody``: a track name (case-insensitive; default ``'MELODY'``), a track index, or None
    for the highest voice of all non-drum tracks (each note that is the highest sounding pitch
    at its onset step; the rest are dropped as ``below_top_voice``). Overlapping melody notes
    are cut, and of notes starting on one step the highest stays (see the module docstring).

    ``chords``: None (the ``CHORDS`` track that :func:`decode` writes when the score has one,
    else recognition), ``'recognize'`` (:func:`~symbolic.harmony.recognize_chords` over every
    non-drum track, one chord per beat, ``recognize_kw`` passed on), a
    :class:`~symbolic.harmony.ChordSequence` in ticks, or a track name / index holding block
    chords (:func:`chords_from_track`).

    ``grid``: the :class:`MetricGrid` to use (16th-note resolution expected); default: built
    from ``bar_ticks`` (e.g. annotated downbeats) or the time signatures. ``strict`` raises
    :class:`~symbolic.errors.EncodeError` when a melody note would be altered or dropped.
    """
    require_tick(score, source or "leadsheet.encode")
    chord_track = None
    if chords is None:
        names = [t.name.upper() for t in score.tracks]
        chords = CHORD_TRACK if CHORD_TRACK in names else "recognize"
    if isinstance(chords, ChordSequence):
        seq = chords
    elif isinstance(chords, str) and chords == "recognize":
        seq = None
    else:
        chord_track = _find_track(score, chords, source)
        seq = chords_from_track(score.tracks[chord_track])
    if melody is None:
        tracks = [t for i, t in enumerate(score.tracks) if not t.is_drum and i != chord_track]
    else:
        tracks = [score.tracks[_find_track(score, melody, source)]]
    on, dur, pitch, vel = _note_columns(tracks)
    if seq is None:
        seq = recognize_chords(score, **recognize_kw).merged()
    starts = np.asarray(seq.start, dtype=np.int64)
    ends = np.asarray(seq.end, dtype=np.int64)
    if grid is None:
        grid = MetricGrid.from_score(score, resolution=RESOLUTION, bar_ticks=bar_ticks,
                                     end=_timeline_end(score, ends))
    meta = ScoreMeta.from_score(score, grid)
    return _extract(on, dur, pitch, vel, starts, ends, seq.chords, grid, meta,
                    skyline=melody is None, strict=strict, source=source)


def from_pop909(song, *, strict: bool = False) -> LeadSheet:
    """A POP909 song's lead sheet: ``MELODY`` track, ``chord_midi.txt`` chords (full labels
    kept, events reduce them to 49 classes) and bars from the annotated downbeats (the MIDI
    time signatures are wrong in most files). ``song``: a
    :class:`~symbolic.data.pop909.Pop909Song`.
    """
    from ..timeline import seconds_to_ticks

    score = song.score
    nb, nc = int(song.downbeats.sum()), len(song.chords)
    t = seconds_to_ticks(score, np.concatenate([song.beats[song.downbeats], song.chords.start,
                                                song.chords.end]))
    bars, cs, ce = t[:nb], t[nb:nb + nc], t[nb + nc:]
    grid = MetricGrid.from_score(score, resolution=RESOLUTION, bar_ticks=bars,
                                 end=_timeline_end(score, ce))
    meta = ScoreMeta.from_score(score, grid)
    melody = score.tracks[_find_track(score, MELODY_TRACK, song.folder)]
    on, dur, pitch, vel = _note_columns([melody])
    return _extract(on, dur, pitch, vel, cs, ce, song.chords.labels, grid, meta,
                    skyline=False, strict=strict, source=song.folder)


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------

def _dense(start, end, values, fill, T: int, dtype) -> np.ndarray:
    """Per-step array of length ``T``: ``values[i]`` on ``[start[i], end[i])``, ``fill`` in the
    gaps (spans sorted, non-overlapping, inside ``[0, T]``)."""
    n = len(start)
    edges = np.empty(2 * n + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, T
    edges[1:-1:2], edges[2:-1:2] = start, end
    vals = np.full(2 * n + 1, fill, dtype=dtype)
    vals[1::2] = values
    return np.repeat(vals, edges[1:] - edges[:-1])


def _encode_arrays(onset, end, pitch, chord_start, chord_end, chord_idx,
                   bar_first_step) -> np.ndarray:
    """Lead-sheet arrays (steps) -> event array ``[n, 4]`` (bar, chord, duration class, note).

    Works on per-step arrays over the timeline (note id, chord, onset and bar-line flags): a
    new piece starts wherever one of them changes; pieces longer than 16 steps are split.
    Memory is about 8 bytes per step of the timeline (compact dtypes), like the grid's own
    arrays: a 3-minute song at 120 BPM has about 1,500 steps.
    """
    T = max(int(end[-1]) if len(end) else 0, int(chord_end[-1]) if len(chord_end) else 0)
    if T == 0:
        return np.zeros((0, 4), dtype=np.int64)
    note_id = _dense(onset, end, np.arange(len(onset)), -1, T, np.int32)
    chord = _dense(chord_start, chord_end, chord_idx, 0, T, np.int16)  # ids < 3745
    flags = np.zeros(T, dtype=np.int8)  # 1: note onset, 2: bar line
    flags[onset] = 1
    flags[bar_first_step[bar_first_step < T]] += 2
    cut = flags > 0
    cut[0] = True
    cut[1:] |= (note_id[1:] != note_id[:-1]) | (chord[1:] != chord[:-1])
    start = np.flatnonzero(cut)
    length = _trail(start[1:], T) - start
    nid, f = note_id[start], flags[start]
    code = _trail(pitch + 2, REST)  # note id -1 (a rest) reads the appended REST
    note = np.where(f & 1, code[nid], np.where(nid < 0, REST, SUSTAIN))
    bar = f >> 1
    chord = chord[start]
    # Greedy split of long pieces: 16, 16, ..., remainder.
    m = (length + (MAX_DURATION - 1)) // MAX_DURATION
    if m.max() == 1:
        return _columns(bar, chord, length - 1, note)
    total = int(m.sum())
    piece = np.repeat(np.arange(len(start)), m)
    r = np.arange(total) - np.repeat(np.cumsum(m) - m, m)
    dur = np.where(r < m[piece] - 1, MAX_DURATION, length[piece] - MAX_DURATION * (m[piece] - 1))
    later = r > 0
    nt = note[piece]
    nt = np.where(later & (nt != REST), SUSTAIN, nt)
    return _columns(np.where(later, 0, bar[piece]), chord[piece], dur - 1, nt)


def _columns(*cols) -> np.ndarray:
    """``[n, len(cols)]`` int64 (cheaper than np.stack for a few columns)."""
    out = np.empty((len(cols[0]), len(cols)), dtype=np.int64)
    for j, c in enumerate(cols):
        out[:, j] = c
    return out


@dataclass(eq=False)
class Events:
    """Lead-sheet events: ``array`` int64 ``[n, 4]`` of class indices (bar flag, chord,
    duration class, note); see the module docstring. ``meta`` (optional) holds the grid and
    timeline that :func:`decode` restores; ``report`` what extraction lost.

    ``==`` compares the arrays only.
    """

    array: np.ndarray
    meta: ScoreMeta | None = None
    report: EncodeReport | None = None

    def __post_init__(self):
        a = np.asarray(self.array, dtype=np.int64)
        if a.ndim != 2 or a.shape[1] != 4:
            raise ParseError(f"events must have shape (n, 4), got {a.shape}", "<events>")
        self.array = a

    def __len__(self) -> int:
        return len(self.array)

    def __eq__(self, other) -> bool:
        return isinstance(other, Events) and np.array_equal(self.array, other.array)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Events(n={len(self)}, steps={int(self.steps().sum())})"

    # columns
    bar = property(lambda self: self.array[:, 0], doc="Bar flags (0/1).")
    chord = property(lambda self: self.array[:, 1], doc="CM-HRNN chord classes (0..48).")
    duration_class = property(lambda self: self.array[:, 2], doc="Duration classes (0..15).")
    note = property(lambda self: self.array[:, 3], doc="0 rest, 1 sustain, pitch + 2.")

    def steps(self) -> np.ndarray:
        """Duration of each event in 16th steps (1..16)."""
        return self.array[:, 2] + 1

    def onsets(self) -> np.ndarray:
        """Onset of each event in steps from the start (int64)."""
        d = self.steps()
        return np.cumsum(d) - d

    def to_multi_hot(self, dtype=np.uint8) -> np.ndarray:
        """``[n, 197]``: one-hots of bar flag (2), chord (49), duration (16), note (130)."""
        out = np.zeros((len(self.array), N_FEATURES), dtype=dtype)
        rows = np.arange(len(self.array))[:, None]
        out[rows, self.array + _OFFSETS] = 1
        return out

    @classmethod
    def from_multi_hot(cls, x, meta: ScoreMeta | None = None) -> "Events":
        """Events from ``[n, 197]`` one-hots or scores (the argmax of each field)."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] < N_FEATURES:
            raise ParseError(f"expected shape (n, {N_FEATURES}), got {x.shape}", "<events>")
        cols = [np.argmax(x[:, o:o + s], axis=1) for o, s in zip(_OFFSETS, FIELD_SIZES)]
        return cls(np.stack(cols, axis=1) if len(x) else np.zeros((0, 4), np.int64), meta)

    def positions(self) -> np.ndarray:
        """Steps elapsed in the bar at each event's onset (bars from the bar flags)."""
        on = self.onsets()
        flagged = np.where(self.array[:, 0] == 1, np.arange(len(on)), 0)
        return on - on[np.maximum.accumulate(flagged)] if len(on) else on

    def model_inputs(self, dtype=np.float32) -> np.ndarray:
        """``[n, 262]``: the multi-hot event, the next event's chord (49; 0 after the last
        event) and the steps elapsed in the bar where the next event starts (16, clipped to
        15; for the last event, where it ends: from the grid when ``meta`` is set, else
        modulo 16)."""
        n = len(self.array)
        out = np.zeros((n, N_MODEL_INPUTS), dtype=dtype)
        if n == 0:
            return out
        out[:, :N_FEATURES] = self.to_multi_hot(dtype)
        nxt_chord = _trail(self.array[1:, 1], 0)
        pos = self.positions()
        end = int(self.onsets()[-1] + self.steps()[-1])
        if self.meta is not None:
            g = _grid_covering(self.meta.grid, end)
            last = end - int(g.bar_first_step[g.bar_of_step(end)]) if end < g.n_steps else 0
        else:
            last = (int(pos[-1]) + int(self.steps()[-1])) % MAX_DURATION
        nxt_pos = np.minimum(_trail(pos[1:], last), 15)
        rows = np.arange(n)
        out[rows, N_FEATURES + nxt_chord] = 1
        out[rows, N_FEATURES + 49 + nxt_pos] = 1
        return out

    def to_leadsheet(self, meta: ScoreMeta | None = None, *, strict: bool = True,
                     velocity: int = DEFAULT_VELOCITY) -> LeadSheet:
        return to_leadsheet(self, meta, strict=strict, velocity=velocity)


def encode(score: symusic.Score, *, strict: bool = False, source=None, melody="MELODY",
           chords=None, grid: MetricGrid | None = None, bar_ticks=None,
           **recognize_kw) -> Events:
    """Lead-sheet events of a tick-time score: :func:`from_score` (the options are its own),
    then :func:`encode_leadsheet`. The events carry the ``meta`` and the extraction ``report``
    (named ``source``; ``strict=True`` raises :class:`~symbolic.errors.EncodeError` when a
    melody note would be altered or dropped).
    """
    if isinstance(score, LeadSheet):
        raise TickTimeError("encode takes a Score: use encode_leadsheet for a LeadSheet",
                            source or "leadsheet.encode")
    return encode_leadsheet(from_score(score, melody=melody, chords=chords, grid=grid,
                                       bar_ticks=bar_ticks, strict=strict, source=source,
                                       **recognize_kw))


def encode_leadsheet(leadsheet: LeadSheet) -> Events:
    """Events of a :class:`LeadSheet` (lossless: see the module docstring), carrying its
    ``meta`` and extraction ``report``."""
    return leadsheet.to_events()


# ---------------------------------------------------------------------------------------------
# Decoding: Events -> LeadSheet -> Score
# ---------------------------------------------------------------------------------------------

def _grid_from_flags(bar: np.ndarray, onsets: np.ndarray, end: int) -> MetricGrid:
    """Bars from the bar flags (480 ticks per quarter, 120 per step); the first event starts a
    bar, the last bar is at least as long as the one before."""
    starts = onsets[bar == 1]
    if len(starts) == 0 or starts[0] != 0:
        starts = np.r_[0, starts]
    lengths = np.diff(np.r_[starts, end]) if end > starts[-1] else np.diff(starts)
    if len(lengths) == 0:
        lengths = np.array([MAX_DURATION])
    if len(lengths) > 1:
        lengths[-1] = max(lengths[-1], lengths[-2])
    tpq = 480
    step = tpq // RESOLUTION
    bar_ticks = np.r_[0, np.cumsum(lengths)] * step
    # Meter of each bar from its steps: n quarters, else n eighths, else n sixteenths.
    unit = np.where(lengths % 4 == 0, 4, np.where(lengths % 2 == 0, 2, 1))  # steps per beat
    nums, dens = lengths // unit, 16 // unit
    return MetricGrid(tpq, RESOLUTION, bar_ticks, lengths, nums, dens)


def _meta_from_flags(bar, onsets, end) -> ScoreMeta:
    grid = _grid_from_flags(bar, onsets, end)
    change = np.r_[True, (grid.numerators[1:] != grid.numerators[:-1])
                   | (grid.denominators[1:] != grid.denominators[:-1])]
    ts = [(int(grid.bar_ticks[i]), int(grid.numerators[i]), int(grid.denominators[i]))
          for i in np.flatnonzero(change)]
    return ScoreMeta(grid.ticks_per_quarter, grid, time_signatures=ts)


_SIZES = np.array(FIELD_SIZES)


def _range_problems(a: np.ndarray) -> list[str]:
    if not len(a) or (a.min() >= 0 and (a.max(axis=0) < _SIZES).all()):
        return []
    out = []
    for k, (name, size) in enumerate(zip(("bar", "chord", "duration", "note"), FIELD_SIZES)):
        bad = np.flatnonzero((a[:, k] < 0) | (a[:, k] >= size))
        if len(bad):
            out.append(f"{len(bad)} {name} values outside 0..{size - 1} (first at event {bad[0]})")
    return out


def _last_sound(note: np.ndarray) -> np.ndarray:
    """Index of the last non-sustain event at or before each event (-1 when none)."""
    return np.maximum.accumulate(np.where(note != SUSTAIN, np.arange(len(note)), -1))


def _problems(a, on, dur, grid: MetricGrid | None, last_sound) -> list[str]:
    """Rules 2-5 of the module docstring on in-range events (``grid`` covers them, or None)."""
    n = len(a)
    bar, chord, note = a[:, 0], a[:, 1], a[:, 3]
    # (mask, what, index of the mask's first entry)
    checks = [((note == SUSTAIN) & ((last_sound < 0) | (note[last_sound] == REST)),
               "sustain events without a note to continue", 0)]
    if grid is None:
        checks.append((bar[:1] != 1, "first event without bar flag", 0))
    else:
        bfs = grid.bar_first_step
        b = np.searchsorted(bfs, on, side="right") - 1  # bar of each onset
        checks.append(((bar == 1) != (bfs[b] == on), "bar flags not on the grid's bar lines", 0))
        checks.append((on + dur > bfs[b + 1], "events crossing a bar line", 0))
    nxt, prev = note[1:], note[:-1]
    cont = (nxt == SUSTAIN) | ((nxt == REST) & (prev == REST))
    reason = (bar[1:] == 1) | (chord[1:] != chord[:-1]) | (dur[:-1] == MAX_DURATION)
    checks.append((cont & ~reason, "non-canonical splits (a continuation without bar line, "
                                   "chord change or 16-step event before it)", 1))
    checks.append((np.array([note[-1] == REST and chord[-1] == 0]),
                   "trailing rest without chord", n - 1))
    out = []
    for mask, what, first in checks:
        if mask.any():
            idx = np.flatnonzero(mask)
            out.append(f"{len(idx)} {what} (first at event {idx[0] + first})")
    return out


def _as_events(events) -> Events:
    """``events`` as :class:`Events` (an int array is wrapped); anything else raises
    :class:`~symbolic.errors.ArgumentTypeError` naming ``events``."""
    if isinstance(events, Events):
        return events
    try:
        return Events(events)
    except (TypeError, ValueError) as e:
        raise ArgumentTypeError(f"must be lead-sheet events (Events or an [N, 5] int array), "
                                f"got {type(events).__name__} ({e})", "events") from None


def validate(events, meta: ScoreMeta | None = None) -> list[str]:
    """What makes ``events`` invalid (see the module docstring); empty when valid.

    ``events``: :class:`Events` or an int array ``[n, 4]``. ``meta``: the grid the bar flags
    must match (default ``events.meta``; a grid too short is extended by repeating its last
    bar); without one, the flags define the bars.
    """
    events = _as_events(events)
    if meta is None:
        meta = events.meta
    a = events.array
    problems = _range_problems(a)
    if problems or not len(a):
        return problems
    dur = a[:, 2] + 1
    end = np.cumsum(dur)
    grid = None if meta is None else _grid_covering(meta.grid, int(end[-1]))
    return _problems(a, end - dur, dur, grid, _last_sound(a[:, 3]))


def to_leadsheet(events, meta: ScoreMeta | None = None, *, strict: bool = True,
                 velocity: int = DEFAULT_VELOCITY) -> LeadSheet:
    """The lead sheet of events (inverse of :meth:`LeadSheet.to_events` on valid events).

    ``meta`` defaults to ``events.meta``; without one, bars come from the bar flags (480 ticks
    per quarter, meter from each bar's steps, no tempo: 120 BPM). A grid too short for the
    events is extended by repeating its last bar. With ``strict`` (default) invalid events
    raise :class:`~symbolic.errors.ParseError` listing what is wrong (:func:`validate`);
    without it they are read leniently: a sustain with no note before it is a rest, bar flags
    are ignored when ``meta`` gives the grid, and splits need not be canonical. Fields out of
    range always raise. Chords become the 49-class chords; velocities are ``velocity``.
    """
    events = _as_events(events)
    if meta is None:
        meta = events.meta
    a = events.array
    n = len(a)
    problems = _range_problems(a)
    if problems:
        raise ParseError("invalid lead-sheet events: " + "; ".join(problems), "<events>")
    dur = a[:, 2] + 1
    end = np.cumsum(dur)
    on = end - dur
    total = int(end[-1]) if n else 0
    given = meta is not None
    if not given:
        meta = _meta_from_flags(a[:, 0], on, total)
    grid = _grid_covering(meta.grid, total)
    if grid is not meta.grid:
        meta = replace(meta, grid=grid)
    note = a[:, 3]
    last_sound = _last_sound(note)
    if strict and n:
        problems = _problems(a, on, dur, grid if given else None, last_sound)
        if problems:
            raise ParseError("invalid lead-sheet events: " + "; ".join(problems), "<events>")
    elif n:  # a sustain after a rest (or first) reads as a rest
        bad = (note == SUSTAIN) & ((last_sound < 0) | (note[np.maximum(last_sound, 0)] == REST))
        note = np.where(bad, REST, note)
    heads = np.flatnonzero(note != SUSTAIN)
    tails = _trail(heads[1:], n) - 1
    is_note = note[heads] >= 2
    h, t = heads[is_note], tails[is_note]
    onset, nend = on[h], end[t]
    chord = a[:, 1]
    ch = np.flatnonzero(_lead(True, chord[1:] != chord[:-1])) if n else np.zeros(0, np.int64)
    ct = _trail(ch[1:], n) - 1
    live = chord[ch] > 0
    ch, ct = ch[live], ct[live]
    return LeadSheet(onset, nend - onset, note[h] - 2, np.full(len(h), velocity, dtype=np.int64),
                     on[ch], end[ct], _CMHRNN_ID[chord[ch]], meta, EncodeReport(), Counter(), None)


def decode(events, meta: ScoreMeta | None = None, *, chord_track: bool = True,
           strict: bool = True, velocity: int = DEFAULT_VELOCITY) -> symusic.Score:
    """A tick-time score from events: track ``MELODY`` (notes at ``velocity``) and, with
    ``chord_track``, ``CHORDS`` (one root-position block chord per chord span, root in MIDI
    48-59, velocity 80). Tempos, time and key signatures come from ``meta`` (default
    ``events.meta``); see :func:`to_leadsheet` for ``meta=None`` and ``strict``.
    """
    lead = to_leadsheet(events, meta, strict=strict, velocity=velocity)
    return lead.to_score(chord_track=chord_track)


# ---------------------------------------------------------------------------------------------
# MusicXML (music21)
# ---------------------------------------------------------------------------------------------

_M21_KIND = {
    "maj": "major", "min": "minor", "dim": "diminished", "aug": "augmented",
    "7": "dominant-seventh", "maj7": "major-seventh", "min7": "minor-seventh",
    "minmaj7": "minor-major-seventh", "dim7": "diminished-seventh",
    "hdim7": "half-diminished-seventh", "aug7": "augmented-seventh", "maj6": "major-sixth",
    "min6": "minor-sixth", "9": "dominant-ninth", "maj9": "major-ninth", "min9": "minor-ninth",
    "add9": "major", "11": "dominant-11th", "13": "dominant-13th", "sus2": "suspended-second",
    "sus4": "suspended-fourth", "7sus4": "suspended-fourth-seventh", "5": "power", "1": "pedal",
}
_M21_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")


def chord_symbol(ch: Chord):
    """The ``music21.harmony.ChordSymbol`` (``NoChord`` for N) that MusicXML writes for ``ch``."""
    from music21 import harmony

    if ch.root is None:
        return harmony.NoChord()
    bass = None if ch.bass is None else _M21_NAMES[ch.bass]
    cs = harmony.ChordSymbol(root=_M21_NAMES[ch.root], kind=_M21_KIND[ch.quality], bass=bass)
    if ch.quality == "add9":
        cs.addChordStepModification(harmony.ChordStepModification("add", 9))
    return cs


def _meter_of(steps: int, resolution: int) -> str:
    """A time signature string for a bar of ``steps`` steps."""
    q = Fraction(int(steps), int(resolution))  # quarters
    for den in (4, 8, 16, 32):
        n = q * den / 4
        if n.denominator == 1:
            return f"{n.numerator}/{den}"
    return f"{int(steps)}/{4 * resolution}"


def to_music21(leadsheet: LeadSheet, *, title: str | None = None):
    """A ``music21.stream.Score`` with one melody part: measures from the grid (a first bar
    shorter than the second is a pickup), notes tied across bar lines and chord changes, a
    ``ChordSymbol`` (or ``NoChord``) wherever the chord changes, key signature and tempo from
    the lead sheet's meta. Velocities are not written."""
    from music21 import duration, key, metadata, meter, note, stream, tempo, tie

    ls = leadsheet
    grid = _grid_covering(ls.grid, ls.end)
    res = grid.resolution
    # Events cut at every change of the full chord (not only of its 49-class reduction).
    a = _encode_arrays(ls.onset, ls.onset + ls.duration, ls.pitch, ls.chord_start, ls.chord_end,
                       ls.chord_id, grid.bar_first_step)
    dur = a[:, 2] + 1
    on = np.cumsum(dur) - dur
    bar_of = grid.bar_of_step(on)
    n = len(a)
    n_bars = int(bar_of[-1]) + 1 if n else 1

    out = stream.Score()
    if title or ls.source:
        out.metadata = metadata.Metadata(title=title or str(ls.source))
    part = stream.Part()
    part.partName = "Melody"
    spb = grid.steps_per_bar
    pickup = n_bars > 1 and spb[0] < spb[1]
    prev_meter, prev_chord = None, 0
    ks = [k for k in ls.meta.key_signatures if k[0] == 0]
    k_ev = 0
    for b in range(n_bars):
        m = stream.Measure(number=b if pickup else b + 1)
        ts = _meter_of(int(spb[1] if pickup and b == 0 else spb[b]), res)
        if ts != prev_meter:
            m.timeSignature = meter.TimeSignature(ts)
            prev_meter = ts
        if b == 0:
            if ks:
                m.insert(0, key.KeySignature(int(ks[0][1])))
            if ls.meta.tempos:
                m.insert(0, tempo.MetronomeMark(number=round(6e7 / ls.meta.tempos[0][1], 2)))
            if pickup:
                m.paddingLeft = float(Fraction(int(spb[1] - spb[0]), res))
                m.showNumber = stream.enums.ShowNumber.NEVER  # written as implicit="yes"
        first = int(grid.bar_first_step[b])
        while k_ev < n and bar_of[k_ev] == b:
            _, cid, dcls, code = a[k_ev].tolist()
            off = Fraction(int(on[k_ev]) - first, res)
            if cid != prev_chord:
                m.insert(off, chord_symbol(chord_of_id(cid)))
                prev_chord = cid
            if code == REST:
                el = note.Rest()
            else:
                el = note.Note(code - 2 if code != SUSTAIN else _held_pitch(a, k_ev))
            el.duration = duration.Duration(Fraction(dcls + 1, res))
            if code != REST:
                tied_before = code == SUSTAIN
                tied_after = k_ev + 1 < n and a[k_ev + 1, 3] == SUSTAIN
                if tied_before or tied_after:
                    el.tie = tie.Tie("continue" if tied_before and tied_after
                                     else "stop" if tied_before else "start")
            m.insert(off, el)
            k_ev += 1
        if b == n_bars - 1 and not (pickup and b == 0):  # the last bar may end early
            m.makeRests(fillGaps=True, inPlace=True, timeRangeFromBarDuration=True)
        part.append(m)
    out.insert(0, part)
    return out


def _held_pitch(a: np.ndarray, k: int) -> int:
    """Pitch a sustain event at ``k`` continues (the last non-sustain event before it)."""
    while a[k, 3] == SUSTAIN:
        k -= 1
    return int(a[k, 3]) - 2


def save_musicxml(leadsheet: LeadSheet, path, *, title: str | None = None) -> Path:
    """Write the lead sheet as MusicXML (``.mxl``: compressed) and return the path."""
    path = Path(path)
    fmt = "mxl" if path.suffix.lower() == ".mxl" else "musicxml"
    to_music21(leadsheet, title=title).write(fmt, fp=str(path))
    return path
