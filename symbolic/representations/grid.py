"""GETScore grids (after GETMusic, Lv et al. 2023): tracks x time token arrays, and back.

Layout of ``Grid.tokens`` (int32, ``[rows, columns]``), for a :class:`TrackMap` of K tracks:

- rows ``2k`` / ``2k+1``: track k's onset row (a *stack* token: every pitch of that track that
  starts in the column, as one compound token such as ``"60 64 67"``) and duration row (the
  duration class of the stack's lowest note);
- rows ``2K`` / ``2K+1`` (when the map has a chord track): chord root (``C`` ... ``B``, or the
  no-chord token ``N``) and chord quality (GETMusic's eight: maj, m, +, dim, 7, maj7, m7, m7b5;
  ``N`` again for no chord), repeated over the chord's span;
- with ``velocity=True``, K more rows after those: track k's velocity bin, where its onset row
  holds a stack. GETMusic's first 2K+2 rows are thus unchanged by the optional rows.

Columns are the steps of a :class:`~symbolic.timeline.MetricGrid`: bar by bar,
``resolution`` steps per quarter (4: a 4/4 bar is 16 columns, a 3/4 bar 12), so any meter and
any tempo map fit; bar starts, tempos, time and key signatures travel in ``Grid.meta``
(:class:`~symbolic.timeline.ScoreMeta`) and :func:`decode` restores them.

Cell values: a track row with no onset in a column holds PAD; a track the score does not have
holds EMPTY in all its rows (so do chord rows when no chords were given, and window padding);
MASK is a separate id that no encode writes (it is for infilling models).

What is lost, and counted in ``Grid.report`` (:class:`~symbolic.representations.EncodeReport`;
``strict=True`` raises instead):

- onsets move to the nearest column ("onset off grid");
- a duration becomes the nearest of 16 classes (GETMusic's 0, 1, 2, 3, 4, 6, 8, 10, 12, 16,
  20, 24, 28, 36, 44, 52 sixteenths, scaled to the resolution), measured from the quantized
  onset to the note's end ("duration quantized", "duration over the longest class");
- every note of a stack takes the duration (and, with velocity rows, the velocity) of the
  stack's lowest note: GETMusic's definition ("duration of the stack's lowest note");
- a stack that is not in the vocabulary is replaced by the in-vocabulary stack of the same
  track with the largest overlap (ties: fewest added pitches, then most frequent): notes in both
  are altered ("stack substituted"), notes outside it are dropped ("stack out of vocabulary"),
  and pitches it adds are counted under "notes added by substitution" (not notes in);
- two notes of one grid track with the same pitch in the same column become one ("same pitch
  in one cell": dropped); notes of score tracks that no grid track takes are dropped
  ("no grid track"); onsets past the end of an explicit grid are dropped;
- velocity: without velocity rows it is not stored at all (decode writes ``default_velocity``,
  80, and the report's ``fields`` leave velocity out); with them it is binned (32 bins).

Not counted as note losses: several score tracks mapped to one grid track are merged, and the
decoded track takes the grid track's name and program; chord labels are reduced to GETMusic's
12 roots x 8 qualities (the bass is dropped); markers, lyrics, controls and pedals are not kept.

Chords come from annotations (a :class:`~symbolic.harmony.ChordSequence`, e.g. POP909's), from
:func:`~symbolic.harmony.recognize_chords` ('bar' or 'beat' segments), or from ``chord:``
markers, which :func:`decode` writes so that ``encode(decode(grid), grid=grid.meta.grid)``
gives ``grid`` back. Each column takes the chord sounding at its middle.

Vocabulary: a :class:`GridVocab` is one id space (PAD, EMPTY, MASK, duration classes, chord
roots + N, qualities, velocity bins, then one slice of stack tokens per grid track), built from
a corpus with a coverage or count threshold and stored as JSON. ``GridVocab.load("pop909")``
finds ``grid-pop909.json`` in ``symbolic/pretrained/tokenizers/`` (installed package) or in the
repository's ``tokenizers/`` folder. Built with ``all_singles`` (the default; both shipped
vocabularies are), it holds all 128 single pitches per track, so every stack overlaps some
entry and a substitution keeps at least one of its notes.

Everything per note is vectorized: ``track.notes.numpy()`` arrays, one ``argsort`` over a
(track, column, pitch) key, ``reduceat`` for the 128-bit pitch set of each cell, a hash
search for its stack id. Python loops run over tracks, out-of-vocabulary cells, chord spans and
chord changes only.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import symusic

from .. import checks
from ..errors import ArgumentError, ArgumentTypeError, DataNotFoundError, ParseError
from ..harmony import GETMUSIC_QUALITIES, PITCH_NAMES, Chord, ChordSequence, chords_from_markers
from ..harmony import MARKER_PREFIX as HARMONY_MARKER_PREFIX
from ..harmony import recognize_chords
from ..timeline import MetricGrid, ScoreMeta, as_tick
from ..tracks import VOICE_ALIASES, Part
from ..tracks import assign as assign_tracks
from . import EncodeReport

__all__ = [
    "as_vocab", "transpose_tables", "QUALITY_HARTE",
    "GridTrack",
    "TrackMap",
    "TRACK_MAPS",
    "GridVocab",
    "Grid",
    "encode",
    "decode",
    "trim_overlaps",
    "chords_from_labels",
    "PAD",
    "EMPTY",
    "MASK",
    "GETMUSIC_DURATIONS",
]

PAD, EMPTY, MASK = 0, 1, 2
SPECIALS = ("<pad>", "<empty>", "<mask>")
#: GETMusic's duration classes, in 16th notes.
GETMUSIC_DURATIONS = (0, 1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 28, 36, 44, 52)
CHORD_ROOTS = PITCH_NAMES  # C, C#, D, Eb, ...
NO_CHORD_TOKEN = "chord:N"
DEFAULT_VELOCITY = 80
MARKER_PREFIX = HARMONY_MARKER_PREFIX
#: Harte shorthand of each GETMusic quality (markers are written as Harte labels).
QUALITY_HARTE = {"maj": "maj", "m": "min", "+": "aug", "dim": "dim", "7": "7",
                  "maj7": "maj7", "m7": "min7", "m7b5": "hdim7"}

_PACKAGE = Path(__file__).resolve().parents[1]
VOCAB_DIRS = (_PACKAGE / "pretrained" / "tokenizers", _PACKAGE.parent / "tokenizers")

# id kinds in a GridVocab
_K_SPECIAL, _K_DURATION, _K_ROOT, _K_QUALITY, _K_VELOCITY, _K_STACK = range(6)


# =============================================================================================
# Track maps
# =============================================================================================

@dataclass(frozen=True)
class GridTrack:
    """One grid track: which score tracks it takes, and what :func:`decode` writes for it.

    A score track goes to this grid track when its name is in ``names`` (case-insensitive), or
    else, for a drum track, when ``is_drum``, or else when its program is in ``programs``.
    Decoding writes a track named ``name`` with ``program`` and ``is_drum``.
    """

    name: str
    program: int = 0
    is_drum: bool = False
    programs: tuple[int, ...] = ()
    names: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"name": self.name, "program": self.program, "is_drum": self.is_drum,
                "programs": list(self.programs), "names": list(self.names)}

    @classmethod
    def from_dict(cls, d: dict) -> "GridTrack":
        return cls(d["name"], int(d.get("program", 0)), bool(d.get("is_drum", False)),
                   tuple(int(p) for p in d.get("programs", ())), tuple(d.get("names", ())))


@dataclass(frozen=True)
class TrackMap:
    """Which score tracks feed which grid track, in row order, plus an optional chord track."""

    tracks: tuple[GridTrack, ...]
    chord: bool = True
    name: str = "custom"

    def __post_init__(self):
        object.__setattr__(self, "tracks", tuple(self.tracks))
        names = [t.name for t in self.tracks]
        if len(set(names)) != len(names):
            raise ValueError(f"grid track names must be distinct, got {names}")
        if not self.tracks:
            raise ValueError("a track map needs at least one track")
        # Look-up tables and hash, computed once (encode uses them for every score).
        parts = tuple(Part(t.name, tuple(n.strip().lower() for n in t.names), t.programs,
                           t.is_drum) for t in self.tracks)
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_hash", hash((self.tracks, self.chord, self.name)))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def preset(cls, name: "str | TrackMap") -> "TrackMap":
        """A name of :data:`TRACK_MAPS` ('getmusic', 'pop909', 'band', 'satb'); a TrackMap is
        returned as is."""
        if isinstance(name, TrackMap):
            return name
        if name not in TRACK_MAPS:
            raise ArgumentError(f"unknown track map {name!r}; choose from {sorted(TRACK_MAPS)}",
                                "track_map")
        return TRACK_MAPS[name]

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tracks]

    def assign(self, score: symusic.Score) -> np.ndarray:
        """Grid track index of every score track (int64), -1 where no grid track takes it
        (:func:`symbolic.tracks.assign`: exact names, then drums, then programs)."""
        k = assign_tracks(score.tracks, self._parts)
        return np.array([-1 if x is None else x for x in k], dtype=np.int64)

    # -- rows ---------------------------------------------------------------------------------
    def n_rows(self, velocity: bool = False) -> int:
        k = len(self.tracks)
        return 2 * k + 2 * self.chord + (k if velocity else 0)

    def chord_rows(self) -> tuple[int, int]:
        """(root row, quality row); raises when the map has no chord track."""
        if not self.chord:
            raise ValueError(f"track map {self.name!r} has no chord track")
        k = len(self.tracks)
        return 2 * k, 2 * k + 1

    def velocity_row(self, k: int) -> int:
        return 2 * len(self.tracks) + 2 * self.chord + k

    def row_names(self, velocity: bool = False) -> list[str]:
        """A readable name per row: ``'piano/onset'``, ``'piano/duration'``, ``'chord/root'``..."""
        rows = [f"{t.name}/{kind}" for t in self.tracks for kind in ("onset", "duration")]
        if self.chord:
            rows += ["chord/root", "chord/quality"]
        if velocity:
            rows += [f"{t.name}/velocity" for t in self.tracks]
        return rows

    def to_dict(self) -> dict:
        return {"name": self.name, "chord": self.chord,
                "tracks": [t.to_dict() for t in self.tracks]}

    @classmethod
    def from_dict(cls, d: dict) -> "TrackMap":
        return cls(tuple(GridTrack.from_dict(t) for t in d["tracks"]), bool(d.get("chord", True)),
                   d.get("name", "custom"))


def _r(a: int, b: int) -> tuple[int, ...]:
    return tuple(range(a, b + 1))


#: Presets. ``getmusic``: GETMusic's six tracks by GM program family. lead: reed, pipe, synth
#: lead, bagpipe/fiddle/shanai, or a track named melody/lead/vocal(s)/voice/soprano; bass:
#: 32-39 or a track named bass; drums: any drum track; guitar: 24-31 and plucked ethnic
#: 104-108; piano: piano, chromatic percussion, organ, percussive 112-119; strings: strings,
#: ensemble, brass, pads, synth effects. Sound effects (120-127) have no grid track.
#: ``pop909``: MELODY, BRIDGE and PIANO by track name (piano program). ``band``: MELODY,
#: BRIDGE, BASS, PIANO and OTHER by track name: the parts GETDiff's band model writes (OTHER is
#: its context row: pitched tracks that play none of the four parts). ``satb``: SOPRANO, ALTO,
#: TENOR, BASS by track name (:data:`symbolic.tracks.VOICE_ALIASES`: 'S.', 'Canto', 'Violin I',
#: 'Continuo'...; never by program), decoded as Choir Aahs (52): the four-voice chorale model.
TRACK_MAPS: dict[str, TrackMap] = {
    "getmusic": TrackMap((
        GridTrack("lead", 80, programs=_r(64, 87) + _r(109, 111),
                  names=("melody", "lead", "vocal", "vocals", "voice", "soprano")),
        GridTrack("bass", 32, programs=_r(32, 39), names=("bass",)),
        GridTrack("drums", 0, is_drum=True),
        GridTrack("guitar", 25, programs=_r(24, 31) + _r(104, 108)),
        GridTrack("piano", 0, programs=_r(0, 23) + _r(112, 119)),
        GridTrack("strings", 48, programs=_r(40, 63) + _r(88, 103)),
    ), chord=True, name="getmusic"),
    "pop909": TrackMap((
        GridTrack("MELODY", 0, names=("melody",)),
        GridTrack("BRIDGE", 0, names=("bridge",)),
        GridTrack("PIANO", 0, names=("piano",)),
    ), chord=True, name="pop909"),
    "band": TrackMap((
        GridTrack("MELODY", 0, names=("melody",)),
        GridTrack("BRIDGE", 0, names=("bridge",)),
        GridTrack("BASS", 33, names=("bass",)),
        GridTrack("PIANO", 0, names=("piano",)),
        GridTrack("OTHER", 48, names=("other",)),
    ), chord=True, name="band"),
    "satb": TrackMap(tuple(GridTrack(v.upper(), 52, names=VOICE_ALIASES[v])
                           for v in ("soprano", "alto", "tenor", "bass")), chord=True, name="satb"),
}


# =============================================================================================
# Vocabulary
# =============================================================================================

def _stack_text(pitches) -> str:
    return " ".join(str(int(p)) for p in pitches)


def _parse_stack(text: str) -> tuple[int, ...]:
    pitches = tuple(sorted({int(p) for p in text.split()}))
    if not pitches or pitches[0] < 0 or pitches[-1] > 127:
        raise ValueError(f"bad stack token {text!r}: pitches must be distinct 0..127")
    return pitches


def _mask_of(pitches) -> tuple[int, int]:
    lo = hi = 0
    for p in pitches:
        if p < 64:
            lo |= 1 << p
        else:
            hi |= 1 << (p - 64)
    return lo, hi


def _pitches_of_mask(lo: int, hi: int) -> tuple[int, ...]:
    return tuple([p for p in range(64) if lo >> p & 1] + [64 + p for p in range(64) if hi >> p & 1])


_H1 = np.uint64(0x9E3779B97F4A7C15)
_H2 = np.uint64(0xC2B2AE3D27D4EB4F)
_H3 = np.uint64(0x165667B19E3779F9)


def _stack_hash(track: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A uint64 hash of (track, pitch set); collisions are resolved by an exact check."""
    with np.errstate(over="ignore"):
        return (lo * _H1) ^ ((hi + _H3) * _H2) ^ ((track.astype(np.uint64) + np.uint64(1)) * _H3)


def _nearest_class(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Index of the nearest class value (classes ascending; ties go to the lower class)."""
    if len(classes) == 1:
        return np.zeros(len(values), dtype=np.int64)
    mids = (classes[1:] + classes[:-1]) / 2.0
    return np.searchsorted(mids, values, side="left").astype(np.int64)


class GridVocab:
    """The token ids of GETScore grids: one id space, stable across runs.

    Ids, in this order: PAD 0, EMPTY 1, MASK 2; one per duration class (``durations``, in grid
    steps); chord roots C..B then the no-chord token N; chord qualities; velocity bins
    (``velocities``: the value each bin decodes to); then, per track in ``track_names`` order,
    that track's stack tokens as stored (ordered by count, descending, then token text, when
    built). :meth:`load` never reorders. ``resolution`` is the steps per quarter it was built for.
    """

    def __init__(self, name: str, stacks: dict[str, Sequence[str]], *, resolution: int = 4,
                 durations: Sequence[int] | None = None, velocities: Sequence[int] = (),
                 counts: dict[str, Sequence[int]] | None = None,
                 track_map: TrackMap | None = None, info: dict | None = None):
        self.name = name
        self.resolution = int(resolution)
        if durations is None:
            durations = _scaled_durations(self.resolution)
        self.durations = np.array(durations, dtype=np.int64)
        d = self.durations
        if len(d) == 0 or np.any(np.diff(d) <= 0) or d[0] < 0:
            raise ValueError("durations must be ascending distinct step counts >= 0")
        self.velocities = np.array(velocities, dtype=np.int64)
        v = self.velocities
        if np.any(np.diff(v) <= 0) or np.any((v < 1) | (v > 127)):
            raise ValueError("velocities must be ascending distinct values in 1..127")
        self.track_names = list(stacks)
        self.track_map = track_map
        self.info = dict(info or {})
        self.counts = {t: list(counts[t]) if counts and t in counts else None for t in stacks}

        tokens = list(SPECIALS)
        kinds = [_K_SPECIAL] * 3
        self.duration_offset = len(tokens)
        tokens += [f"dur:{d}" for d in self.durations]
        self.root_offset = len(tokens)
        tokens += [f"root:{r}" for r in CHORD_ROOTS] + [NO_CHORD_TOKEN]
        self.no_chord = self.root_offset + len(CHORD_ROOTS)
        self.quality_offset = len(tokens)
        tokens += [f"quality:{q}" for q in GETMUSIC_QUALITIES]
        self.velocity_offset = len(tokens)
        tokens += [f"vel:{v}" for v in self.velocities]
        kinds += ([_K_DURATION] * len(self.durations) + [_K_ROOT] * (len(CHORD_ROOTS) + 1)
                  + [_K_QUALITY] * len(GETMUSIC_QUALITIES) + [_K_VELOCITY] * len(self.velocities))
        self.track_slices: dict[str, tuple[int, int]] = {}
        self._index: dict[tuple[int, int, int], int] = {}  # (vocab track, lo, hi) -> id
        lo_all, hi_all, pitch_lists, stack_track = [], [], [], []
        for t_i, t in enumerate(self.track_names):
            start = len(tokens)
            for text in stacks[t]:
                pitches = _parse_stack(text)
                lo, hi = _mask_of(pitches)
                if (t_i, lo, hi) in self._index:
                    raise ValueError(f"track {t!r}: stack {text!r} appears twice")
                self._index[(t_i, lo, hi)] = len(tokens)
                tokens.append(f"{t}:{_stack_text(pitches)}")
                lo_all.append(lo)
                hi_all.append(hi)
                pitch_lists.append(pitches)
                stack_track.append(t_i)
            kinds += [_K_STACK] * (len(tokens) - start)
            self.track_slices[t] = (start, len(tokens))
        self.tokens = tokens
        self._id_of = {tok: i for i, tok in enumerate(tokens)}
        n, first = len(tokens), self.velocity_offset + len(self.velocities)
        self.kind = np.array(kinds, dtype=np.int8)
        self.stack_track = np.full(n, -1, dtype=np.int64)
        self.stack_track[first:] = stack_track
        self.stack_lo = np.zeros(n, dtype=np.uint64)
        self.stack_hi = np.zeros(n, dtype=np.uint64)
        self.stack_lo[first:] = np.array(lo_all, dtype=np.uint64)
        self.stack_hi[first:] = np.array(hi_all, dtype=np.uint64)
        self.pitch_count = np.zeros(n, dtype=np.int64)
        self.pitch_count[first:] = [len(p) for p in pitch_lists]
        self.pitch_start = np.zeros(n, dtype=np.int64)
        self.pitch_start[first:] = np.cumsum(self.pitch_count[first:]) - self.pitch_count[first:]
        self.pitches = np.array([p for ps in pitch_lists for p in ps], dtype=np.int64)
        # Sorted hashes of (track, pitch set) for a vectorized look-up (checked exactly after).
        h = _stack_hash(self.stack_track[first:], self.stack_lo[first:], self.stack_hi[first:])
        order = np.argsort(h, kind="stable")
        self._hash_sorted = h[order]
        self._hash_ids = (first + order).astype(np.int64)
        if not len(order):
            self._hash_sorted, self._hash_ids = np.zeros(1, np.uint64), np.zeros(1, np.int64)
        self._oov_cache: dict[tuple[int, int, int, str], int] = {}
        self._numbers: dict[TrackMap, np.ndarray] = {}

    # -- views ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{t}: {b - a}" for t, (a, b) in self.track_slices.items())
        return f"GridVocab({self.name!r}, {len(self)} ids; stacks {sizes})"

    def __eq__(self, other) -> bool:
        return isinstance(other, GridVocab) and self.to_dict() == other.to_dict()

    __hash__ = None

    def token(self, i: int) -> str:
        """The text of id ``i``."""
        return self.tokens[int(i)]

    def id(self, token: str) -> int:
        """The id of a token text (``'<pad>'``, ``'dur:4'``, ``'root:C'``, ``'PIANO:60 64 67'``)."""
        return self._id_of[token]

    def stack_id(self, track: str, pitches) -> int | None:
        """Id of the stack of ``pitches`` in ``track``'s slice, None if it is not there."""
        lo, hi = _mask_of({int(p) for p in pitches})
        return self._index.get((self.track_names.index(track), lo, hi))

    def stack_pitches(self, i: int) -> tuple[int, ...]:
        a = self.pitch_start[i]
        return tuple(int(p) for p in self.pitches[a:a + self.pitch_count[i]])

    def pitch_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lowest, highest) pitch of every id's stack, int64 ``[len(self)]``; ids that are not
        stacks get (127, 0), an empty range. Computed once per vocabulary."""
        if not hasattr(self, "_pitch_bounds"):
            lo, hi = np.full(len(self), 127, np.int64), np.zeros(len(self), np.int64)
            ids = np.flatnonzero(self.pitch_count > 0)
            if len(ids):
                starts = self.pitch_start[ids]
                lo[ids] = np.minimum.reduceat(self.pitches, starts)
                hi[ids] = np.maximum.reduceat(self.pitches, starts)
            self._pitch_bounds = (lo, hi)
        return self._pitch_bounds

    def duration_ids(self) -> np.ndarray:
        return np.arange(len(self.durations)) + self.duration_offset

    def velocity_ids(self) -> np.ndarray:
        return np.arange(len(self.velocities)) + self.velocity_offset

    def _track_numbers(self, track_map: TrackMap) -> np.ndarray:
        """This vocabulary's track number for each grid track of ``track_map``."""
        out = self._numbers.get(track_map)
        if out is None:
            missing = [t.name for t in track_map.tracks if t.name not in self.track_slices]
            if missing:
                raise ValueError(f"vocabulary {self.name!r} has no stacks for grid tracks "
                                 f"{missing}")
            out = self._numbers[track_map] = np.array(
                [self.track_names.index(t.name) for t in track_map.tracks], dtype=np.int64)
        return out

    # -- out of vocabulary ---------------------------------------------------------------------
    def nearest_stack(self, track: int, lo: int, hi: int, *, mode: str = "overlap") -> int:
        """The in-vocabulary stack of vocab track ``track`` that best stands for a stack.

        ``mode='overlap'``: largest overlap (shared pitches), ties to the fewest added pitches,
        then the lowest id (most frequent). ``mode='subset'``: only stacks adding no pitch.
        Returns -1 when nothing overlaps.
        """
        key = (track, lo, hi, mode)
        if key in self._oov_cache:
            return self._oov_cache[key]
        a, b = self.track_slices[self.track_names[track]]
        slo, shi = self.stack_lo[a:b], self.stack_hi[a:b]
        qlo, qhi = np.uint64(lo), np.uint64(hi)
        overlap = (np.bitwise_count(slo & qlo) + np.bitwise_count(shi & qhi)).astype(np.int64)
        extra = (np.bitwise_count(slo & ~qlo) + np.bitwise_count(shi & ~qhi)).astype(np.int64)
        score = overlap * 256 - extra
        if mode == "subset":
            score = np.where(extra == 0, score, -1)
        elif mode != "overlap":
            raise ValueError(f"oov must be 'overlap' or 'subset', got {mode!r}")
        best = int(np.argmax(score)) if len(score) else -1
        out = a + best if best >= 0 and overlap[best] > 0 and score[best] >= 0 else -1
        if len(self._oov_cache) > 100_000:  # bounded: a corpus can hold millions of rare stacks
            self._oov_cache.clear()
        self._oov_cache[key] = out
        return out

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(cls, scores: Iterable, track_map: "str | TrackMap" = "getmusic", *, name: str,
              coverage: float | None = 0.99, min_count: int | None = None,
              max_stacks: int | None = None, resolution: int = 4,
              durations: Sequence[int] | None = None, velocity_bins: int = 32,
              all_singles: bool = True, info: dict | None = None,
              progress: bool = False) -> "GridVocab":
        """Count stacks over a corpus and keep the frequent ones, per grid track.

        ``scores`` yields ``Score`` objects, or ``(score, bar_ticks)`` / ``(score, MetricGrid)``
        pairs (annotated bars). Per track, stacks are ranked by onset count (ties by text) and
        kept while the kept ones cover less than ``coverage`` of that track's onsets, or, with
        ``min_count``, while their count is at least ``min_count``; ``max_stacks`` caps the
        slice. With ``all_singles`` every single pitch 0-127 is added. ``velocity_bins`` evenly
        spaced values in 1..127 (0: no velocity rows possible).
        """
        from tqdm.auto import tqdm

        track_map = TrackMap.preset(track_map)
        durations = _scaled_durations(resolution) if durations is None else durations
        counters = [Counter() for _ in track_map.tracks]
        files = onsets = 0
        for item in tqdm(scores, disable=not progress, desc=f"vocab {name}", unit="file"):
            score, grid = _score_and_grid(item, resolution)
            cells = _cells(score, grid, track_map)
            files += 1
            if cells is None:
                continue
            key = np.stack([cells.g_track.astype(np.uint64), cells.g_lo, cells.g_hi], axis=1)
            uniq, cnt = np.unique(key, axis=0, return_counts=True)
            onsets += int(cnt.sum())
            for (t, lo, hi), c in zip(uniq.tolist(), cnt.tolist()):
                counters[t][(lo, hi)] += c
        stacks, counts, covered = {}, {}, {}
        for t, counter in zip(track_map.tracks, counters):
            ranked = sorted(((c, _stack_text(_pitches_of_mask(lo, hi)))
                             for (lo, hi), c in counter.items()), key=lambda x: (-x[0], x[1]))
            total = sum(c for c, _ in ranked)
            keep, run = [], 0
            for c, text in ranked:
                if max_stacks is not None and len(keep) >= max_stacks:
                    break
                if min_count is not None:
                    if c < min_count:
                        break
                elif coverage is not None and total and run >= coverage * total:
                    break
                keep.append((c, text))
                run += c
            covered[t.name] = [run, total]
            if all_singles:
                have = {text for _, text in keep}
                by_text = {text: c for c, text in ranked}
                keep += [(by_text.get(str(p), 0), str(p)) for p in range(128) if str(p) not in have]
            keep.sort(key=lambda x: (-x[0], x[1]))
            stacks[t.name] = [text for _, text in keep]
            counts[t.name] = [c for c, _ in keep]
        velocities = (np.unique(np.rint(np.linspace(1, 127, velocity_bins))).astype(int).tolist()
                      if velocity_bins else [])
        meta = {"files": files, "onsets": onsets, "coverage": coverage, "min_count": min_count,
                "max_stacks": max_stacks, "all_singles": all_singles,
                "onsets_covered": covered, **(info or {})}
        return cls(name, stacks, resolution=resolution, durations=durations, velocities=velocities,
                   counts=counts, track_map=track_map, info=meta)

    # -- storage -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": "symbolic.grid-vocab", "version": 1, "name": self.name,
            "resolution": self.resolution, "size": len(self),
            "specials": list(SPECIALS),
            "durations": self.durations.tolist(),
            "chord_roots": list(CHORD_ROOTS) + ["N"],
            "chord_qualities": list(GETMUSIC_QUALITIES),
            "velocities": self.velocities.tolist(),
            "tracks": [{"name": t, "offset": self.track_slices[t][0],
                        "stacks": [tok.split(":", 1)[1] for tok in
                                   self.tokens[slice(*self.track_slices[t])]],
                        "counts": self.counts.get(t)} for t in self.track_names],
            "track_map": self.track_map.to_dict() if self.track_map else None,
            "info": self.info,
        }

    def save(self, path) -> Path:
        """Write the vocabulary as JSON (one stack list per line group; ids are positions)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, d: dict) -> "GridVocab":
        if d.get("format") != "symbolic.grid-vocab":
            raise ValueError("not a symbolic grid vocabulary (format field)")
        if (list(d["chord_qualities"]) != list(GETMUSIC_QUALITIES)
                or list(d["specials"]) != list(SPECIALS)):
            raise ValueError("grid vocabulary has unknown chord qualities or special tokens")
        vocab = cls(d["name"], {t["name"]: t["stacks"] for t in d["tracks"]},
                    resolution=d["resolution"], durations=d["durations"],
                    velocities=d["velocities"],
                    counts={t["name"]: t["counts"] for t in d["tracks"] if t.get("counts")},
                    track_map=TrackMap.from_dict(d["track_map"]) if d.get("track_map") else None,
                    info=d.get("info"))
        for t in d["tracks"]:  # stored offsets are the contract: check nothing moved
            if vocab.track_slices[t["name"]][0] != t["offset"]:
                raise ValueError(f"grid vocabulary {d['name']!r}: track {t['name']!r} offset "
                                 f"{t['offset']} does not match its layout")
        if len(vocab) != d["size"]:
            raise ValueError(f"grid vocabulary {d['name']!r}: size {d['size']} != {len(vocab)}")
        return vocab

    @classmethod
    def load(cls, name_or_path) -> "GridVocab":
        """Load a vocabulary from a JSON path, or by name: ``grid-<name>.json`` in
        ``symbolic/pretrained/tokenizers/`` (installed) or ``<repo>/tokenizers/`` (checkout)."""
        path = resolve_vocab(name_or_path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as e:
            reason = e.reason if isinstance(e, ParseError) else f"{type(e).__name__}: {e}"
            raise ParseError(f"not a valid grid vocabulary: {reason}", path) from e


def transpose_tables(vocab, shifts=tuple(range(-5, 7))) -> np.ndarray:
    """``table[i, id]``: the id of ``id`` transposed by ``shifts[i]`` semitones, -1 where the
    transposed stack is not in the vocabulary. Chord roots turn around the octave; other ids
    (specials, durations, qualities, velocities) map to themselves."""
    v = as_vocab(vocab)
    n = len(v)
    table = np.tile(np.arange(n, dtype=np.int64), (len(shifts), 1))
    stacks = np.nonzero(v.kind == _K_STACK)[0]
    for si, s in enumerate(shifts):
        if s == 0:
            continue
        for r in range(12):
            table[si, v.root_offset + r] = v.root_offset + (r + s) % 12
        for i in stacks:
            q = [p + s for p in v.stack_pitches(i)]
            if min(q) < 0 or max(q) > 127:
                table[si, i] = -1
                continue
            lo, hi = _mask_of(set(q))
            table[si, i] = v._index.get((int(v.stack_track[i]), lo, hi), -1)
    return table


def resolve_vocab(name_or_path) -> Path:
    """The file a vocabulary name or path stands for (see :meth:`GridVocab.load`)."""
    p = Path(os.fspath(name_or_path))
    if p.suffix == ".json" or p.is_file():
        if not p.is_file():
            raise DataNotFoundError("no such grid vocabulary file", p)
        return p
    for folder in VOCAB_DIRS:
        cand = folder / f"grid-{name_or_path}.json"
        if cand.is_file():
            return cand
    folders = " or ".join(str(d) for d in VOCAB_DIRS)
    raise DataNotFoundError(f"no grid-{name_or_path}.json in {folders}",
                            f"vocabulary {name_or_path}")


_LOADED: dict[str, GridVocab] = {}


def as_vocab(vocab) -> GridVocab:
    """A :class:`GridVocab` from a vocabulary, a shipped name or a path (loaded once, cached)."""
    if isinstance(vocab, GridVocab):
        return vocab
    key = str(vocab)
    if key not in _LOADED:
        _LOADED[key] = GridVocab.load(vocab)
    return _LOADED[key]


def _scaled_durations(resolution: int) -> list[int]:
    return np.unique(np.rint(np.array(GETMUSIC_DURATIONS) * resolution / 4)).astype(int).tolist()


# =============================================================================================
# Grid
# =============================================================================================

@dataclass(eq=False)
class Grid:
    """A GETScore grid: ``tokens`` (int32 ``[rows, columns]``, see the module doc for rows),
    ``meta`` (timeline), the ``track_map`` and ``vocab`` that give rows and ids their meaning,
    whether velocity rows are present, and the encode ``report``.

    Equality compares tokens, meta, track map, vocab name and velocity (not the report).
    """

    tokens: np.ndarray
    meta: ScoreMeta
    track_map: TrackMap
    vocab: GridVocab
    velocity: bool = False
    report: EncodeReport = field(default_factory=EncodeReport)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Grid) and self.tokens.shape == other.tokens.shape
                and bool(np.array_equal(self.tokens, other.tokens))
                and self.meta.to_dict() == other.meta.to_dict()
                and self.track_map == other.track_map and self.vocab.name == other.vocab.name
                and self.velocity == other.velocity)

    __hash__ = None

    @property
    def n_columns(self) -> int:
        return self.tokens.shape[1]

    def row(self, track: str, kind: str = "onset") -> np.ndarray:
        """A view of one row: ``row('PIANO', 'duration')``, ``row('chord', 'root')``."""
        return self.tokens[self.track_map.row_names(self.velocity).index(f"{track}/{kind}")]

    def text(self, columns: slice = slice(0, 16)) -> str:
        """The token texts of some columns, one line per row (for reading a grid)."""
        names = self.track_map.row_names(self.velocity)
        width = max(len(n) for n in names)
        lines = []
        for name, row in zip(names, self.tokens[:, columns]):
            cells = [self.vocab.token(i).split(":", 1)[-1] for i in row]
            lines.append(f"{name:<{width}} | " + " | ".join(cells))
        return "\n".join(lines)

    def validate(self) -> "Grid":
        """Raise ValueError naming the first broken rule of a valid grid; return self.

        Valid: shape ``[track_map.n_rows(velocity), meta.grid.n_steps]``; per track, either all
        its rows are EMPTY or none of them holds EMPTY; an onset row holds PAD or stacks of its
        own track's slice; the duration row (and velocity row) holds a duration class (velocity
        bin) exactly where the onset row holds a stack and PAD elsewhere; chord rows are all
        EMPTY or hold, per column, a root and a quality, or N in both.
        """
        v, tm, tok = self.vocab, self.track_map, self.tokens
        expect = (tm.n_rows(self.velocity), self.meta.grid.n_steps)
        if tok.shape != expect:
            raise ValueError(f"grid shape {tok.shape} != {expect} (rows, columns)")
        if tok.size and (tok.min() < 0 or tok.max() >= len(v)):
            raise ValueError("token id outside the vocabulary")
        kind = v.kind[tok]
        for k, t in enumerate(tm.tracks):
            rows = [2 * k, 2 * k + 1] + ([tm.velocity_row(k)] if self.velocity else [])
            empty = tok[rows] == EMPTY
            if empty.all():
                continue
            if empty.any():
                raise ValueError(f"track {t.name!r}: EMPTY mixed with other tokens")
            on, dur = tok[2 * k], tok[2 * k + 1]
            a, b = v.track_slices.get(t.name, (0, 0))
            stack = (on >= a) & (on < b)
            if not np.all(stack | (on == PAD)):
                raise ValueError(f"track {t.name!r}: onset row holds a non-stack token")
            if not (np.all(kind[2 * k + 1][stack] == _K_DURATION) and np.all(dur[~stack] == PAD)):
                raise ValueError(f"track {t.name!r}: duration row does not match the onset row")
            if self.velocity:
                vel = tok[tm.velocity_row(k)]
                if not (np.all(kind[tm.velocity_row(k)][stack] == _K_VELOCITY)
                        and np.all(vel[~stack] == PAD)):
                    raise ValueError(f"track {t.name!r}: velocity row does not match the onset row")
        if tm.chord:
            r, q = tm.chord_rows()
            if not (np.all(tok[r] == EMPTY) and np.all(tok[q] == EMPTY)):
                no = (tok[r] == v.no_chord) & (tok[q] == v.no_chord)
                chord = (kind[r] == _K_ROOT) & (tok[r] != v.no_chord) & (kind[q] == _K_QUALITY)
                if not np.all(no | chord):
                    raise ValueError("chord rows: each column needs a root and a quality, "
                                     "or N in both")
        return self


# =============================================================================================
# Encoding
# =============================================================================================

@dataclass
class _Cells:
    """Notes of one score grouped into (grid track, column) cells.

    ``notes`` holds every score note (arrays time, duration, gtrack as int64; pitch, velocity
    as symusic's int8); ``idx`` the notes that reach a cell, sorted by grid track, column and
    pitch, with their ``col``, ``pitch``, exact end position in steps ``end_pos`` and cell index
    ``group``; ``g_*`` describe each cell (first note, grid track, column, 128-bit pitch set as
    two uint64). ``dropped`` counts notes per reason; ``present`` marks the grid tracks some
    score track maps to.
    """

    n_in: int
    notes: dict
    idx: np.ndarray
    col: np.ndarray
    pitch: np.ndarray
    end_pos: np.ndarray
    group: np.ndarray
    g_first: np.ndarray
    g_track: np.ndarray
    g_col: np.ndarray
    g_lo: np.ndarray
    g_hi: np.ndarray
    dropped: dict
    present: np.ndarray


def _score_and_grid(item, resolution):
    if isinstance(item, symusic.Score):
        score, grid = item, None
    else:
        score, grid = item
    score = as_tick(score)
    if not isinstance(grid, MetricGrid):
        grid = MetricGrid.from_score(score, resolution=resolution, bar_ticks=grid)
    return score, grid


def _ticks_at(mg: MetricGrid, step_ticks: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Tick of integer steps >= 0; steps past the grid's end extrapolate its last bar."""
    n = len(step_ticks)
    if not len(steps) or steps.max() < n:
        return step_ticks[steps]
    out = step_ticks[np.minimum(steps, n - 1)]
    far = steps >= n
    out[far] = mg.steps_to_ticks(steps[far])
    return out


def _cells(score: symusic.Score, grid: MetricGrid, track_map: TrackMap) -> _Cells:
    """Quantize onsets and group notes per (grid track, column); every drop is counted."""
    assign = track_map.assign(score)
    cols = {k: [] for k in ("time", "duration", "pitch", "velocity")}
    gts = []
    for tr, k in zip(score.tracks, assign.tolist()):
        n = tr.notes.numpy()
        if len(n["time"]):
            for key in cols:
                cols[key].append(n[key])
            gts.append(np.full(len(n["time"]), k, dtype=np.int64))
    present = np.zeros(len(track_map.tracks), dtype=bool)
    present[assign[assign >= 0]] = True
    if gts:  # pitch and velocity stay int8 (they mix into int64 arithmetic as needed)
        notes = {k: np.concatenate(v) for k, v in cols.items()}
        notes["time"] = notes["time"].astype(np.int64)
        notes["duration"] = notes["duration"].astype(np.int64)
        notes["gtrack"] = np.concatenate(gts)
    else:
        notes = {k: np.zeros(0, dtype=np.int64) for k in ("gtrack", *cols)}
    n_in = len(notes["time"])
    time, gt, pitch = notes["time"], notes["gtrack"], notes["pitch"]
    n_steps = grid.n_steps
    # Exact step positions of onsets and ends; 'round' in MetricGrid is floor(exact + 0.5).
    pos, end_pos = grid.positions(time, time + np.maximum(notes["duration"], 0))
    col = np.floor(pos + 0.5).astype(np.int64)
    np.minimum(col, n_steps - 1, out=col)
    np.maximum(col, 0, out=col)
    unmapped = gt < 0
    past = time >= grid.bar_ticks[-1]
    bad_pitch = pitch < 0  # int8: a pitch over 127 cannot be stored
    drop = unmapped | past | bad_pitch
    dropped = {}
    if drop.any():
        dropped = {"no grid track": int(unmapped.sum()),
                   "onset past the end of the grid": int((past & ~unmapped).sum()),
                   "pitch outside 0-127": int((bad_pitch & ~past & ~unmapped).sum())}
        ok = np.flatnonzero(~drop)
        key = (gt[ok] * n_steps + col[ok]) * 128 + pitch[ok]
        order = np.argsort(key, kind="stable")
        idx = ok[order]
    else:
        key = (gt * n_steps + col) * 128 + pitch
        idx = order = np.argsort(key, kind="stable")
    sk = key[order]
    if len(sk) > 1:
        dup = np.empty(len(sk), dtype=bool)
        dup[0] = False
        np.equal(sk[1:], sk[:-1], out=dup[1:])
        if dup.any():  # same pitch twice in a cell: keep the first in track order
            dropped["same pitch in one cell"] = int(dup.sum())
            keep = ~dup
            idx, sk = idx[keep], sk[keep]
    cell = sk >> 7
    new_cell = np.empty(len(sk), dtype=bool)
    if len(sk):
        new_cell[0] = True
        np.not_equal(cell[1:], cell[:-1], out=new_cell[1:])
    g_first = np.flatnonzero(new_cell)
    group = np.cumsum(new_cell) - 1
    s_p = sk & 127
    low = s_p < 64
    bit = np.left_shift(np.uint64(1), (s_p & 63).astype(np.uint64))
    zero = np.uint64(0)
    if len(sk):
        g_lo = np.bitwise_or.reduceat(np.where(low, bit, zero), g_first)
        g_hi = np.bitwise_or.reduceat(np.where(low, zero, bit), g_first)
    else:
        g_lo = g_hi = np.zeros(0, dtype=np.uint64)
    g_cell = cell[g_first]
    return _Cells(n_in, notes, idx, (cell % n_steps), s_p, end_pos[idx], group, g_first,
                  g_cell // n_steps, g_cell % n_steps, g_lo, g_hi, dropped, present)


def chords_from_labels(start, end, labels) -> ChordSequence:
    """A :class:`~symbolic.harmony.ChordSequence` from span ticks and chord labels (any form
    :meth:`Chord.parse` reads): ``chords_from_labels(*song.chord_ticks(), song.chords.labels)``
    for a POP909 song."""
    return ChordSequence(np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64),
                         [Chord.parse(x) for x in labels])


def _marker_chords(score: symusic.Score) -> ChordSequence | None:
    seq = chords_from_markers(score, MARKER_PREFIX)
    if seq is not None:  # the last chord holds to the end of the grid, past the last note
        seq.end[-1] = np.iinfo(np.int64).max
    return seq


_Q_INDEX = {q: i for i, q in enumerate(GETMUSIC_QUALITIES)}
_CHORD_CODE: dict = {}  # (root, quality) -> root * 16 + quality index, -1 for no chord


def _chord_code(root, quality) -> int:
    red = Chord(root, quality).reduce_getmusic() if root is not None else None
    code = _CHORD_CODE[(root, quality)] = -1 if red is None else red[0] * 16 + _Q_INDEX[red[1]]
    return code


def _chord_tokens(seq: ChordSequence, step_ticks: np.ndarray, vocab: GridVocab):
    """Root and quality id of every column: the chord sounding at the column's middle."""
    get = _CHORD_CODE.get
    code = [get((ch.root, ch.quality)) for ch in seq.chords]
    if None in code:
        code = [_chord_code(ch.root, ch.quality) if c is None else c
                for c, ch in zip(code, seq.chords)]
    code = np.array(code + [-1], dtype=np.int64)
    mid = (step_ticks[:-1] + step_ticks[1:]) // 2
    span = np.searchsorted(seq.start, mid, side="right") - 1
    outside = (span < 0) | (mid >= np.asarray(seq.end)[span])
    span[outside] = -1  # picks the extra no-chord entry
    c = code[span]
    none = c < 0
    roots = np.where(none, vocab.no_chord, vocab.root_offset + (c >> 4))
    quals = np.where(none, vocab.no_chord, vocab.quality_offset + (c & 15))
    return roots, quals


def _resolve_chords(chords, score: symusic.Score, grid: MetricGrid) -> ChordSequence | None:
    if chords is None or isinstance(chords, ChordSequence):
        return chords
    if chords in ("auto", "markers"):
        return _marker_chords(score) if len(score.markers) else None
    if chords in ("bar", "beat", "recognize"):
        segment = "beat" if chords == "recognize" else chords
        return recognize_chords(score, segment=segment, downbeats=grid.bar_ticks[:-1],
                                vocabulary="getmusic")
    raise ValueError(f"chords must be None, 'auto', 'markers', 'bar', 'beat', 'recognize' or a "
                     f"ChordSequence, got {chords!r}")


def _lookup_stacks(vocab: GridVocab, g_vt, g_lo, g_hi, oov: str):
    """Token id of every cell's stack (vectorized hash search) and whether it was substituted."""
    h = _stack_hash(g_vt, g_lo, g_hi)
    pos = np.minimum(np.searchsorted(vocab._hash_sorted, h), len(vocab._hash_sorted) - 1)
    cand = vocab._hash_ids[pos]
    found = ((vocab._hash_sorted[pos] == h) & (vocab.stack_lo[cand] == g_lo)
             & (vocab.stack_hi[cand] == g_hi) & (vocab.stack_track[cand] == g_vt))
    g_id = np.where(found, cand, -1)
    g_oov = ~found
    if g_oov.any():  # a loop over the few cells whose stack is not in the vocabulary
        for j in np.flatnonzero(g_oov).tolist():
            t, lo, hi = int(g_vt[j]), int(g_lo[j]), int(g_hi[j])
            exact = vocab._index.get((t, lo, hi))
            if exact is not None:  # only on a hash collision inside the vocabulary
                g_id[j], g_oov[j] = exact, False
            else:
                g_id[j] = vocab.nearest_stack(t, lo, hi, mode=oov)
    return g_id, g_oov


def encode(score: symusic.Score, *, strict: bool = False, source=None,
           vocab: "GridVocab | str" = "getmusic", track_map: "TrackMap | str | None" = None,
           grid: MetricGrid | None = None, bar_ticks=None, chords="auto",
           velocity: bool = False, oov: str = "overlap") -> Grid:
    """A tick-time score as a GETScore :class:`Grid` (every option keyword-only).

    ``vocab``: a :class:`GridVocab` or a shipped name ('pop909', 'getmusic'). ``track_map``: a
    :class:`TrackMap` or preset name; default the vocabulary's own. Columns come from ``grid``,
    or from ``MetricGrid.from_score(score, resolution=vocab.resolution, bar_ticks=bar_ticks)``
    (time signatures, or annotated bar starts). ``chords``: a ChordSequence (annotations),
    'bar' / 'beat' (recognized at that granularity; 'recognize' is 'beat'), 'markers'
    (``chord:`` markers, as :func:`decode` writes), 'auto' (markers when present, else none) or
    None (chord rows EMPTY). ``velocity`` adds binned velocity rows. ``oov``: 'overlap' or
    'subset' (see :meth:`GridVocab.nearest_stack`). ``strict=True`` raises
    :class:`~symbolic.errors.EncodeError` (naming ``source``) instead of altering or dropping
    any note. The report (named ``source``) counts every note (module doc lists the reasons).
    """
    vocab = as_vocab(vocab)
    tm = TrackMap.preset(track_map if track_map is not None else (vocab.track_map or "getmusic"))
    score = as_tick(score)
    grid = _columns_grid(score, vocab, grid, bar_ticks)
    if velocity and not len(vocab.velocities):
        raise ValueError(f"vocabulary {vocab.name!r} has no velocity bins")
    c = _cells(score, grid, tm)
    vt = vocab._track_numbers(tm)
    g_id, g_oov = _lookup_stacks(vocab, vt[c.g_track], c.g_lo, c.g_hi, oov)
    choice = _choose_notes(c, vocab, g_id, g_oov, velocity)
    step_ticks = grid.step_ticks()
    tokens = _grid_tokens(c, choice, g_id, vocab, tm, grid.n_steps, velocity)
    if tm.chord:
        seq = _resolve_chords(chords, score, grid)
        if seq is not None:
            r, q = tm.chord_rows()
            tokens[r], tokens[q] = _chord_tokens(seq, step_ticks, vocab)
    report = _grid_report(c, choice, g_id, g_oov, vocab, grid, step_ticks, velocity)
    report.source = source
    report.check(strict)
    return Grid(tokens, ScoreMeta.from_score(score, grid), tm, vocab, velocity, report)


def _columns_grid(score: symusic.Score, vocab: GridVocab, grid: MetricGrid | None,
                  bar_ticks) -> MetricGrid:
    """The grid whose steps are the columns: ``grid``, or one built at the vocabulary's
    resolution from ``bar_ticks`` or the time signatures."""
    if grid is None:
        grid = MetricGrid.from_score(score, resolution=vocab.resolution, bar_ticks=bar_ticks)
    elif bar_ticks is not None:
        raise ValueError("pass grid or bar_ticks, not both")
    if grid.resolution != vocab.resolution:
        raise ValueError(f"grid resolution {grid.resolution} != vocabulary {vocab.name!r} "
                         f"resolution {vocab.resolution}")
    return grid


@dataclass
class _Choice:
    """Which notes the chosen stacks keep and what each cell holds.

    ``kept``: per note, whether its cell's stack holds it (None: every stack was found, all
    kept). ``live``: cells with a kept note. ``d_steps``: each note's own length in steps;
    ``own_cls`` its nearest duration class, ``cell_cls`` the class of each cell (that of its
    lowest kept note); ``own_vel`` / ``cell_vel`` the same for velocity bins (None without).
    """

    kept: np.ndarray | None
    live: np.ndarray
    d_steps: np.ndarray
    own_cls: np.ndarray
    cell_cls: np.ndarray
    own_vel: np.ndarray | None
    cell_vel: np.ndarray | None


def _choose_notes(c: _Cells, vocab: GridVocab, g_id, g_oov, velocity: bool) -> _Choice:
    """Which notes the chosen stack keeps (all unless it was substituted); the lowest kept note
    of a cell gives it its duration (and velocity)."""
    n_cells = len(c.g_first)
    if g_oov.any():
        note_id = g_id[c.group]
        p = c.pitch
        bits = np.where(p < 64, vocab.stack_lo[note_id], vocab.stack_hi[note_id])
        kept = (note_id >= 0) & ((bits >> (p & 63).astype(np.uint64)) & np.uint64(1)).astype(bool)
        k_idx = np.flatnonzero(kept)
        k_group = c.group[k_idx]
        lead = np.ones(len(k_idx), dtype=bool)
        lead[1:] = k_group[1:] != k_group[:-1]
        lowest, live = k_idx[lead], k_group[lead]
    else:
        kept = None
        lowest, live = c.g_first, np.arange(n_cells)
    d_steps = c.end_pos - c.col
    own_cls = _nearest_class(d_steps, vocab.durations)
    cell_cls = np.zeros(n_cells, dtype=np.int64)
    cell_cls[live] = own_cls[lowest]
    own_vel = cell_vel = None
    if velocity:
        own_vel = _nearest_class(c.notes["velocity"][c.idx], vocab.velocities)
        cell_vel = np.zeros(n_cells, dtype=np.int64)
        cell_vel[live] = own_vel[lowest]
    return _Choice(kept, live, d_steps, own_cls, cell_cls, own_vel, cell_vel)


def _grid_tokens(c: _Cells, ch: _Choice, g_id, vocab: GridVocab, tm: TrackMap, n_steps: int,
                 velocity: bool) -> np.ndarray:
    """The token rows (chord rows left EMPTY): PAD on present tracks, stack and duration (and
    velocity) ids in each live cell."""
    tokens = np.full((tm.n_rows(velocity), n_steps), EMPTY, dtype=np.int32)
    rows = np.flatnonzero(c.present)
    tokens[2 * rows] = PAD
    tokens[2 * rows + 1] = PAD
    if velocity:
        tokens[tm.velocity_row(0) + rows] = PAD
    live = ch.live
    lt, lc = c.g_track[live], c.g_col[live]
    tokens[2 * lt, lc] = g_id[live]
    tokens[2 * lt + 1, lc] = vocab.duration_offset + ch.cell_cls[live]
    if velocity:
        tokens[tm.velocity_row(0) + lt, lc] = vocab.velocity_offset + ch.cell_vel[live]
    return tokens


def _grid_report(c: _Cells, ch: _Choice, g_id, g_oov, vocab: GridVocab, grid: MetricGrid,
                 step_ticks: np.ndarray, velocity: bool) -> EncodeReport:
    """Compare what decode gives back with each note."""
    notes = c.notes
    time, dur = notes["time"][c.idx], notes["duration"][c.idx]
    cls = ch.cell_cls[c.group]
    on_t = step_ticks[c.col]
    end_t = _ticks_at(grid, step_ticks, c.col + vocab.durations[cls])
    bad_onset = on_t != time
    bad_dur = (end_t - on_t) != dur
    not_lowest = ch.own_cls != cls
    too_long = ch.d_steps > vocab.durations[-1] + 0.5
    reasons = {
        "onset off grid": bad_onset,
        "duration of the stack's lowest note": bad_dur & not_lowest,
        "duration over the longest class": bad_dur & ~not_lowest & too_long,
        "duration quantized": bad_dur & ~not_lowest & ~too_long,
    }
    altered = bad_onset | bad_dur
    if velocity:
        vel = notes["velocity"][c.idx]
        bad_vel = vocab.velocities[ch.cell_vel[c.group]] != vel
        own_diff = ch.own_vel != ch.cell_vel[c.group]
        reasons["velocity of the stack's lowest note"] = bad_vel & own_diff
        reasons["velocity binned"] = bad_vel & ~own_diff
        altered |= bad_vel
    report = EncodeReport(notes_in=c.n_in, fields=("pitch", "onset", "duration")
                          + (("velocity",) if velocity else ()))
    n_lost = 0
    kept, live = ch.kept, ch.live
    if kept is not None:
        subst = kept & g_oov[c.group]
        for name in reasons:
            reasons[name] &= kept
        reasons["stack substituted"] = subst
        altered = (altered | subst) & kept
        n_lost = len(kept) - int(np.count_nonzero(kept))
        added = int(vocab.pitch_count[g_id[live][g_oov[live]]].sum()) - int(np.count_nonzero(subst))
        if n_lost:
            report.reasons["stack out of vocabulary"] = n_lost
        if added:
            report.reasons["notes added by substitution"] = added
    for name, mask in reasons.items():
        n = int(np.count_nonzero(mask))
        if n:
            report.reasons[name] = n
    for name, n in c.dropped.items():
        if n:
            report.reasons[name] = n
    report.dropped = n_lost + sum(c.dropped.values())
    report.altered = int(np.count_nonzero(altered))
    report.kept_exact = c.n_in - report.dropped - report.altered
    return report


# =============================================================================================
# Decoding
# =============================================================================================

def trim_overlaps(time: np.ndarray, duration: np.ndarray, pitch: np.ndarray,
                  mutable: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Make one track's same-pitch notes stop overlapping, as a MIDI file needs.

    Only notes where ``mutable`` is true (default: all) change, so given notes stay exact:
    a mutable note starting while a fixed note of its pitch sounds, or at the same tick as
    another note of its pitch (the fixed one, else the longest, stays), is dropped; a mutable
    note still sounding when the next note of its pitch starts ends at that onset. Returns
    ``(duration, keep)``: the new durations and a mask of the notes to keep.
    """
    time = np.asarray(time, dtype=np.int64)
    duration = np.asarray(duration, dtype=np.int64).copy()
    pitch = np.asarray(pitch, dtype=np.int64)
    n = len(time)
    mutable = np.ones(n, dtype=bool) if mutable is None else np.asarray(mutable, dtype=bool)
    keep = np.ones(n, dtype=bool)
    if n < 2:
        return duration, keep
    # By pitch, onset, fixed after mutable, then duration: a same-onset group ends in the
    # note that stays.
    order = np.lexsort((duration, ~mutable, time, pitch))
    p, t, m = pitch[order], time[order], mutable[order]
    same = (p[1:] == p[:-1]) & (t[1:] == t[:-1])
    # The latest end of a fixed note before each note, within its pitch (cumulative maximum
    # with the pitch as the leading digit).
    big = int(time.max() + duration.max()) + 1
    fixed_end = np.where(m, 0, t + duration[order]) + p * big
    before = np.concatenate([[-1], np.maximum.accumulate(fixed_end)[:-1]]) - p * big
    drop = m & (np.concatenate([same, [False]]) | (before > t))
    keep[order[drop]] = False
    idx = order[~drop]
    p, t = pitch[idx], time[idx]
    follows = p[1:] == p[:-1]
    i, nxt = idx[:-1][follows], t[1:][follows]
    cut = mutable[i] & (time[i] + duration[i] > nxt)
    duration[i[cut]] = nxt[cut] - time[i[cut]]
    return duration, keep


def decode(grid: Grid, *, default_velocity: int = DEFAULT_VELOCITY,
           chord_markers: bool = True, overlaps: str = "keep") -> symusic.Score:
    """The score a grid stands for.

    Every onset cell holding a stack of its track's slice becomes that stack's notes, starting
    at the column and lasting the cell's duration class (in steps, through the grid: exact
    ticks); velocity from the velocity row, else ``default_velocity`` (80). Tracks: one per grid
    track that is not all EMPTY, named and programmed by the track map. Tempos, time and key
    signatures come from ``grid.meta``. With ``chord_markers``, the chord rows become one
    ``chord:<Harte label>`` marker per chord change (``chord:N`` for no chord), which
    ``encode(..., chords='auto')`` reads back.

    Same-pitch notes of one track may overlap (a long cell, then a new onset of that pitch).
    With ``overlaps='keep'`` (default) they stay, so decoding then encoding gives the grid back;
    a MIDI file cannot hold them, so saving such a score as MIDI can shorten or lose notes.
    ``overlaps='trim'`` ends each such note at the next onset of its pitch
    (:func:`trim_overlaps`), which a MIDI file keeps as written; generation uses it.

    Lenient on model output: an onset cell holding anything but a stack of its own track (PAD,
    EMPTY, MASK, another slice) is silent; a stack whose duration cell is not a duration class
    lasts the smallest nonzero class; a missing velocity bin gives ``default_velocity``.
    """
    if not isinstance(grid, Grid):
        raise ArgumentTypeError(f"must be a Grid, got {type(grid).__name__}", "grid")
    checks.choice("overlaps", overlaps, ("keep", "trim"))
    vocab, tm, tok = grid.vocab, grid.track_map, np.asarray(grid.tokens)
    mgrid = grid.meta.grid
    if tok.shape[1] > mgrid.n_steps:
        raise ValueError(f"grid has {tok.shape[1]} columns, its metric grid {mgrid.n_steps}")
    step_ticks = mgrid.step_ticks()
    score = grid.meta.empty_score()
    n_tracks = len(tm.tracks)
    # All tracks at once: (track, column) of every onset cell holding a stack of its own track.
    on = tok[0:2 * n_tracks:2].astype(np.int64)
    present = ~np.all(on == EMPTY, axis=1)
    r, cells = np.nonzero(vocab.stack_track[on] == vocab._track_numbers(tm)[:, None])
    ids = on[r, cells]
    dcls = tok[2 * r + 1, cells].astype(np.int64) - vocab.duration_offset
    bad = (dcls < 0) | (dcls >= len(vocab.durations))
    if bad.any():
        nonzero = np.flatnonzero(vocab.durations > 0)
        dcls[bad] = nonzero[0] if len(nonzero) else 0
    n = vocab.pitch_count[ids]
    total = int(n.sum())
    at = np.repeat(vocab.pitch_start[ids] - np.cumsum(n) + n, n) + np.arange(total)
    col = np.repeat(cells, n)
    onset = step_ticks[col]
    end = _ticks_at(mgrid, step_ticks, col + np.repeat(vocab.durations[dcls], n))
    if grid.velocity:
        vb = tok[tm.velocity_row(0) + r, cells].astype(np.int64) - vocab.velocity_offset
        ok = (vb >= 0) & (vb < len(vocab.velocities))
        vel = np.where(ok, vocab.velocities[np.where(ok, vb, 0)], default_velocity)
        vel = np.repeat(vel, n).astype(np.int8)
    else:
        vel = np.full(total, default_velocity, dtype=np.int8)
    onset32, dur32 = onset.astype(np.int32), (end - onset).astype(np.int32)
    pitch8 = vocab.pitches[at].astype(np.int8)
    bounds = np.searchsorted(np.repeat(r, n), np.arange(n_tracks + 1)).tolist()
    for k, t in enumerate(tm.tracks):
        if not present[k]:
            continue
        track = _TrackTick(t.name, t.program, t.is_drum)
        a, b = bounds[k], bounds[k + 1]
        if b > a and overlaps == "trim":
            d, ok = trim_overlaps(onset32[a:b], dur32[a:b], pitch8[a:b])
            track.notes = _NoteList.from_numpy(onset32[a:b][ok], d[ok].astype(np.int32),
                                               pitch8[a:b][ok], vel[a:b][ok])
        elif b > a:
            track.notes = _NoteList.from_numpy(onset32[a:b], dur32[a:b], pitch8[a:b], vel[a:b])
        score.tracks.append(track)
    if tm.chord and chord_markers:
        _write_chord_markers(score, tok, tm, vocab, step_ticks)
    return score


_TrackTick = symusic.core.TrackTick      # the factories' dispatch costs more than the work here
_NoteList = symusic.core.NoteTickList
_TextMeta = symusic.core.TextMetaTick


def _write_chord_markers(score, tok, tm, vocab, step_ticks):
    r, q = tm.chord_rows()
    roots, quals = tok[r].astype(np.int64), tok[q].astype(np.int64)
    ri, qi = roots - vocab.root_offset, quals - vocab.quality_offset
    is_chord = (ri >= 0) & (ri < len(CHORD_ROOTS)) & (qi >= 0) & (qi < len(GETMUSIC_QUALITIES))
    silent = ~is_chord & (roots == EMPTY) & (quals == EMPTY)  # no marker; anything else odd is N
    code = np.where(is_chord, ri * 16 + qi, np.where(silent, -2, -1))
    change = np.ones(len(code), dtype=bool)
    change[1:] = code[1:] != code[:-1]
    cols = np.flatnonzero(change & (code != -2))
    text = _MARKER_TEXT
    score.markers.extend([_TextMeta(t, text[x])
                          for t, x in zip(step_ticks[cols].tolist(), code[cols].tolist())])


# Marker text of every chord code (root * 16 + quality; index -1, the last, is N).
_MARKER_TEXT = [f"{MARKER_PREFIX}{CHORD_ROOTS[c >> 4]}:{QUALITY_HARTE[GETMUSIC_QUALITIES[c & 15]]}"
                if (c & 15) < len(GETMUSIC_QUALITIES) else "" for c in range(16 * len(CHORD_ROOTS))]
_MARKER_TEXT.append(MARKER_PREFIX + "N")


# =============================================================================================
# Shipped vocabularies
# =============================================================================================

def build_shipped_vocab(name: str, *, out_dir=None, progress: bool = True) -> Path:
    """Rebuild a shipped vocabulary and save it as ``tokenizers/grid-<name>.json``.

    ``pop909``: POP909 train split (songs 1-837), pop909 track map, annotated bars, coverage
    0.99 per track. ``getmusic``: getmusic track map over POP909 train (MELODY -> lead, BRIDGE
    and PIANO -> piano, annotated bars) plus music21's Bach chorales train split (Soprano -> lead,
    Alto and Tenor -> piano, Bass -> bass), coverage 0.99 per track. Its guitar, drums and
    strings slices hold the 128 single pitches only (no such tracks in these corpora).
    ``satb``: music21's Bach chorales train split as four voices
    (:func:`symbolic.data.music21_corpus.load_chorale`) with their measures, coverage 1.0 per
    voice (every stack seen, plus the 128 single pitches).
    """
    from ..data.pop909 import Pop909

    recipe = "python -m symbolic.representations.grid " + name
    out_dir = Path(out_dir) if out_dir is not None else _PACKAGE.parent / "tokenizers"
    if name == "satb":
        return _satb_vocab(recipe, progress).save(out_dir / "grid-satb.json")
    pop = Pop909()

    def pop_items():
        for i in pop.available("train"):
            song = pop.song(i)
            yield song.score, song.bar_ticks()

    if name == "pop909":
        vocab = GridVocab.build(pop_items(), "pop909", name="pop909", coverage=0.99,
                                progress=progress,
                                info={"sources": "POP909 train split (songs 1-837), annotated bars",
                                      "recipe": recipe})
    elif name == "getmusic":
        from ..data.music21_corpus import bach_chorales

        def items():
            yield from pop_items()
            for _, score in bach_chorales(split="train"):
                yield score

        vocab = GridVocab.build(items(), "getmusic", name="getmusic", coverage=0.99,
                                progress=progress,
                                info={"sources": "POP909 train split (songs 1-837, annotated bars) "
                                                 "+ music21 Bach chorales train split",
                                      "recipe": recipe})
    elif name == "band":
        from ..data.pop909 import band_parts

        parts = GridVocab.build(((band_parts(sc), bt) for sc, bt in pop_items()), "band",
                                name="band", coverage=0.99, progress=progress)
        vocab = _with_other_union(parts, info={
            "sources": "POP909 train split (songs 1-837), annotated bars; PIANO split into "
                       "BASS (its lowest line) and PIANO (symbolic.data.pop909.band_parts); "
                       "OTHER: the union of the four parts' stacks", "recipe": recipe})
    else:
        raise ValueError(f"no recipe for a shipped vocabulary {name!r}; choose pop909, getmusic, "
                         f"band or satb")
    return vocab.save(out_dir / f"grid-{name}.json")


def _satb_vocab(recipe: str, progress: bool) -> GridVocab:
    from ..data.music21_corpus import chorale_marks, load_chorale, piece_names

    def items():
        for name in piece_names("bach_chorales", "train"):
            yield load_chorale(name, fermata_markers=False), chorale_marks(name).bar_ticks

    return GridVocab.build(items(), "satb", name="satb", coverage=1.0, progress=progress,
                           info={"sources": "music21 Bach chorales train split (280 chorales), "
                                            "four voices, measures as bars",
                                 "recipe": recipe})


def _with_other_union(vocab: GridVocab, info: dict) -> GridVocab:
    """``vocab`` with its OTHER slice replaced by every stack of the other tracks (ranked by
    their summed counts): a context row that takes whatever any part plays."""
    total: Counter = Counter()
    for t in vocab.track_names:
        if t == "OTHER":
            continue
        a, b = vocab.track_slices[t]
        for tok, c in zip(vocab.tokens[a:b], vocab.counts[t] or [0] * (b - a)):
            total[tok.split(":", 1)[1]] += c
    stacks = {t: [tok.split(":", 1)[1] for tok in vocab.tokens[slice(*vocab.track_slices[t])]]
              for t in vocab.track_names}
    counts = dict(vocab.counts)
    ranked = sorted(total.items(), key=lambda x: (-x[1], x[0]))
    stacks["OTHER"] = [text for text, _ in ranked]
    counts["OTHER"] = [c for _, c in ranked]
    return GridVocab(vocab.name, stacks, resolution=vocab.resolution,
                     durations=vocab.durations.tolist(), velocities=vocab.velocities.tolist(),
                     counts=counts, track_map=vocab.track_map, info={**vocab.info, **info})


if __name__ == "__main__":  # python -m symbolic.representations.grid pop909 getmusic band satb
    import sys

    for arg in sys.argv[1:] or ["pop909", "getmusic", "band", "satb"]:
        print(build_shipped_vocab(arg))
