"""Pitch-class slices after Chuan, Agres and Herremans (2018): one token per beat.

A score is cut into non-overlapping slices, one per beat, and each slice becomes the set of
pitch classes sounding in it, as a 12-bit mask with C = bit 0 ... B = bit 11 (C-E-G = 145,
F-A-C = 545, G-B-D = 2180; silence = 0). These tokens are the words of the harmony-embedding
model (word2vec over slices).

**Slices.** Slice ``k`` spans ticks ``[boundaries[k], boundaries[k+1])``; ``boundaries[0]`` is 0.
By default the beats come from the time signatures: one per beat unit of each bar (the
denominator's note value; a dotted one in compound meters such as 6/8 and 12/8), 4/4 before the
first signature, so a bar cut short by a signature change has a short last beat; the slices
fill the last bar. ``beats`` overrides them: ``"quarter"`` (every quarter note) or an array of
beat-start ticks (POP909: ``song.beat_ticks()``). Time before the first given beat is a slice of
its own; after the last one, slices of the last beat's length run on until every note is
covered. ``boundaries`` gives the exact edges instead (reuse ``x.boundaries`` to re-encode a
decoded score).

**Names.** :func:`slice_name` writes a token's pitch classes in normal order (the most compact
rotation, so root-position triads read root first): 145 -> ``"C-E-G"``, 2180 -> ``"G-B-D"``,
0 -> ``"N"``; :func:`parse_slice_name` reads any order and spelling back.

**Sounding.** A pitch class sounds in a slice when any note of that class overlaps the slice by
at least one tick (``onset < slice end`` and ``end > slice start``); a zero-length note counts as
one tick long. So a note contributes to every slice it touches, however briefly.

**Decoding** writes one whole-slice note per pitch class of every non-zero slice, placed in the
octave ``low .. low + 11`` (default 48-59, C3-B3) at a fixed velocity, in one track. Adjacent
slices are not tied, so ``encode(decode(x), boundaries=x.boundaries).tokens == x.tokens``.

**What the report means.** Slices are an analytic, lossy representation: octave, velocity,
onsets inside a beat and the number of notes are not kept, so notes cannot be recovered in
general. Meaningful counts: ``notes_in``; ``dropped`` (notes with no trace in any token: drum
tracks unless ``drums=True``, notes outside explicit ``boundaries``); ``altered`` (notes
reduced to their pitch class in whole slices: every other note). ``kept_exact`` counts notes that
``decode`` gives back unchanged (pitch, onset, duration: exactly one slice long, in the decode
octave, once per slice): near 0 on real music, every note on a decoded score. Reasons break
``altered`` down (a note may have several).

Everything is vectorized over notes (numpy index arrays, no Python loop per note).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np
import symusic

from .. import checks
from ..errors import ArgumentError, ParseError
from ..timeline import MetricGrid, ScoreMeta, as_tick
from . import EncodeReport

__all__ = [
    "Slices",
    "encode",
    "decode",
    "meter_beats",
    "slice_name",
    "parse_slice_name",
    "mask_of_pitches",
    "pitch_classes",
    "normal_order",
    "PITCH_NAMES",
    "N_TOKENS",
]

#: Names of the pitch classes 0-11 (the spelling :mod:`symbolic.harmony` writes chords with).
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Number of distinct tokens (every subset of the 12 pitch classes).
N_TOKENS = 4096
SILENCE = "N"
FIELDS = ("pitch", "onset", "duration")
_BITS = (1 << np.arange(12)).astype(np.int64)


@dataclass
class Slices:
    """Pitch-class tokens of a score, one per slice.

    ``tokens``: ``uint16 [n]``, values 0-4095. ``boundaries``: ``int64 [n + 1]`` slice edges in
    ticks (``boundaries[0] == 0``). ``meta``: tempos, meter and keys for decoding.
    """

    tokens: np.ndarray
    boundaries: np.ndarray
    meta: ScoreMeta
    report: EncodeReport = field(default_factory=lambda: EncodeReport(fields=FIELDS))

    def __len__(self) -> int:
        return len(self.tokens)

    def names(self) -> list[str]:
        """Readable name of every token (:func:`slice_name`: ``"C-E-G"``; ``"N"`` for silence)."""
        table = {int(t): slice_name(int(t)) for t in np.unique(self.tokens)}
        return [table[int(t)] for t in self.tokens]


# ------------------------------------------------------------------------------------ names

def pitch_classes(mask: int) -> tuple[int, ...]:
    """Pitch classes (ascending from C) of a 12-bit mask."""
    mask = checks.integer("mask", mask, 0, N_TOKENS - 1)
    return tuple(pc for pc in range(12) if mask >> pc & 1)


def normal_order(mask: int) -> tuple[int, ...]:
    """Pitch classes of a mask in normal order (set theory): the rotation spanning the smallest
    interval from first to last, ties broken by the smaller span to the second-to-last and so
    on, then by the lower first pitch class. Root-position triads come out root first."""
    return _normal_order(int(mask))


@functools.lru_cache(maxsize=N_TOKENS)
def _normal_order(mask: int) -> tuple[int, ...]:
    pcs = pitch_classes(mask)
    if len(pcs) < 2:
        return pcs
    n = len(pcs)
    rotations = [pcs[i:] + pcs[:i] for i in range(n)]

    def packing(rot):
        spans = [(rot[j] - rot[0]) % 12 for j in range(n - 1, 0, -1)]
        return spans, rot[0]

    return min(rotations, key=packing)


def slice_name(mask: int) -> str:
    """Readable name of a mask: its pitch classes in :func:`normal_order` joined by ``-``
    (145 -> ``"C-E-G"``, 545 -> ``"F-A-C"``, 2180 -> ``"G-B-D"``), ``"N"`` for silence (0)."""
    pcs = normal_order(mask)
    return "-".join(PITCH_NAMES[pc] for pc in pcs) if pcs else SILENCE


_NAME = re.compile(r"^([A-Ga-g])([#b♯♭]*)$")
_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_slice_name(name: str) -> int:
    """The mask of a name such as ``"C-E-G"``, ``"F-A-C"``, ``"Db-F-Ab"`` (any order, sharps
    ``#`` and flats ``b``; ``"N"`` or ``""`` is silence). Raises
    :class:`~symbolic.errors.ParseError` naming the bad part."""
    text = str(name).strip()
    if text in ("", SILENCE):
        return 0
    mask = 0
    for part in text.split("-"):
        m = _NAME.match(part.strip())
        if not m:
            raise ParseError(f"{part!r} is not a pitch-class name (C, C#, Db ... B)", repr(name))
        acc = m.group(2)
        pc = _LETTER[m.group(1).upper()] + acc.count("#") + acc.count("♯") \
            - acc.count("b") - acc.count("♭")
        mask |= 1 << (pc % 12)
    return mask


def mask_of_pitches(pitches) -> int:
    """The mask of a collection of MIDI pitches (or pitch classes): ``[60, 64, 67] -> 145``."""
    try:
        p = np.asarray(pitches, dtype=np.int64).ravel()
    except (TypeError, ValueError, OverflowError):
        raise ArgumentError(f"must be MIDI pitches or pitch classes (whole numbers), got "
                            f"{pitches!r}", "pitches") from None
    return int(np.bitwise_or.reduce(_BITS[p % 12])) if len(p) else 0


# ------------------------------------------------------------------------------------ beats

def meter_beats(score: symusic.Score, end: int | None = None) -> np.ndarray:
    """Beat-start ticks from the time signatures, covering ``[0, end)`` (default: the score's
    end) in whole bars: the denominator's note value per beat, dotted in compound meters (6/8,
    9/8, 12/8...)."""
    return MetricGrid.from_score(score, end=end).beat_ticks()


def _boundaries(starts: np.ndarray, end: int, tpq: int) -> np.ndarray:
    b = np.unique(np.asarray(starts, dtype=np.int64))
    b = b[b >= 0]
    if len(b) == 0 or b[0] > 0:
        b = np.concatenate([[0], b])
    last = int(b[-1] - b[-2]) if len(b) > 1 else int(tpq)
    extra = max(1, int(np.ceil((end - b[-1]) / last)))
    return np.append(b, b[-1] + last * np.arange(1, extra + 1))


# --------------------------------------------------------------------------------- encoding

def _notes(score: symusic.Score, drums: bool):
    cols, skipped = [], 0
    for track in score.tracks:
        if track.note_num() == 0:
            continue
        if track.is_drum and not drums:
            skipped += track.note_num()
            continue
        n = track.notes.numpy()
        onset = n["time"].astype(np.int64)
        cols.append((onset, onset + np.maximum(n["duration"].astype(np.int64), 0),
                     n["pitch"].astype(np.int64)))
    if not cols:
        z = np.zeros(0, np.int64)
        return z, z, z, skipped
    onset, end, pitch = (np.concatenate(c) for c in zip(*cols))
    return onset, end, pitch, skipped


def _place(pc: np.ndarray, low: int) -> np.ndarray:
    """Pitch of each pitch class in the decode octave ``low .. low + 11``."""
    return low + (pc - low) % 12


def encode(score: symusic.Score, *, strict: bool = False, source=None, beats=None,
           boundaries=None, drums: bool = False, low: int = 48) -> Slices:
    """One pitch-class token per beat of a tick-time score.

    ``beats``: None (from the time signatures, :func:`meter_beats`), ``"quarter"``, or beat-start
    ticks (POP909: ``song.beat_ticks()``). ``boundaries``: exact slice edges (first 0,
    increasing), overriding ``beats``; notes starting at or after the last edge are dropped and
    notes running past it are cut. ``drums=False`` ignores drum tracks (counted as dropped).
    ``low`` is the decode octave the report's ``kept_exact`` compares with. ``strict=True``
    raises :class:`~symbolic.errors.EncodeError` unless every note would decode unchanged;
    ``source`` names the input in the report and the error.
    """
    score = as_tick(score)
    tpq = score.ticks_per_quarter
    onset, note_end, pitch, n_drums = _notes(score, drums)
    end = np.maximum(note_end, onset + 1)  # a zero-length note sounds for one tick
    score_end = int(end.max()) if len(end) else 0
    grid = MetricGrid.from_score(score, end=score_end)  # bars for the meta (and meter beats)
    if boundaries is not None:
        edges = np.asarray(boundaries, dtype=np.int64)
        if len(edges) < 2 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
            raise ValueError("boundaries must start at 0 and increase, with at least two edges")
    elif beats is None:
        edges = _boundaries(grid.beat_ticks(), score_end, tpq)
    elif isinstance(beats, str):
        if beats != "quarter":
            raise ValueError(f"beats must be None, 'quarter' or an array of ticks, got {beats!r}")
        edges = _boundaries(np.arange(0, max(score_end, 1), tpq), score_end, tpq)
    else:
        edges = _boundaries(beats, score_end, tpq)
    n_slices = len(edges) - 1
    if edges[-1] > grid.bar_ticks[-1]:
        grid = MetricGrid.from_score(score, end=int(edges[-1]))
    meta = ScoreMeta.from_score(score, grid)

    outside = (onset >= edges[-1]) | (onset < 0)
    first = np.searchsorted(edges, onset, side="right") - 1
    last = np.minimum(np.searchsorted(edges, end, side="left") - 1, n_slices - 1)
    inside = ~outside
    count = np.where(inside, last - first + 1, 0)
    note = np.repeat(np.arange(len(onset)), count)
    which = first[note] + np.arange(len(note)) - np.repeat(np.cumsum(count) - count, count)
    hits = np.zeros((n_slices, 12), bool)
    hits[which, pitch[note] % 12] = True
    tokens = (hits @ _BITS).astype(np.uint16)

    # What decode gives back: a note survives unchanged when it fills exactly one slice, sits in
    # the decode octave, and is the only such note of its pitch in that slice.
    on_edge = inside & (edges[np.minimum(first, n_slices)] == onset)
    end_edge = inside & (edges[np.minimum(last + 1, n_slices)] == note_end)
    one = inside & (first == last)
    octave_ok = _place(pitch % 12, low) == pitch
    candidate = np.flatnonzero(on_edge & end_edge & one & octave_ok)
    _, unique_at = np.unique(first[candidate] * 12 + pitch[candidate] % 12, return_index=True)
    exact = np.zeros(len(onset), bool)
    exact[candidate[unique_at]] = True
    duplicate = np.zeros(len(onset), bool)
    duplicate[candidate] = True
    duplicate &= ~exact
    reasons = {}
    for name, mask in (("onset not on a slice edge", inside & ~on_edge),
                       ("end not on a slice edge", inside & ~end_edge),
                       ("spans several slices", inside & ~one),
                       ("octave not kept", inside & ~octave_ok),
                       ("same pitch class twice in a slice", duplicate),
                       ("cut at the last slice", inside & (end > edges[-1])),
                       ("outside the slices", outside)):
        k = int(np.count_nonzero(mask))
        if k:
            reasons[name] = k
    if n_drums:
        reasons["drum track"] = n_drums
    n_in = len(onset) + n_drums
    n_exact = int(np.count_nonzero(exact))
    n_kept = int(np.count_nonzero(inside))
    report = EncodeReport(n_in, n_exact, n_kept - n_exact, n_in - n_kept, reasons, FIELDS, source)
    report.check(strict)
    return Slices(tokens, edges, meta, report)


# --------------------------------------------------------------------------------- decoding

def decode(slices, *, boundaries=None, meta: ScoreMeta | None = None, low: int = 48,
           velocity: int = 80, program: int = 0, name: str = "slices") -> symusic.Score:
    """One track with a whole-slice chord for every non-zero token.

    Each pitch class of slice ``k`` becomes a note from ``boundaries[k]`` to ``boundaries[k+1]``
    at pitch ``low + (pc - low) % 12`` (default 48-59) and velocity ``velocity``. A bare token
    array decodes with ``boundaries`` (default one quarter note of 480 ticks per token) and
    ``meta`` (default 4/4 at 120 BPM).
    """
    if isinstance(slices, Slices):
        tokens = slices.tokens
        edges = slices.boundaries if boundaries is None else boundaries
        meta = slices.meta if meta is None else meta
    else:
        tokens = slices
        edges = boundaries
    tokens = np.asarray(tokens, dtype=np.int64).ravel()
    if np.any((tokens < 0) | (tokens >= N_TOKENS)):
        raise ValueError(f"slice tokens are 0-{N_TOKENS - 1}")
    if edges is None:
        edges = np.arange(len(tokens) + 1, dtype=np.int64) * 480
    edges = np.asarray(edges, dtype=np.int64)
    if len(edges) != len(tokens) + 1:
        raise ValueError(f"{len(tokens)} tokens need {len(tokens) + 1} boundaries, "
                         f"got {len(edges)}")
    if meta is None:
        bare = symusic.Score(480)
        meta = ScoreMeta(480, MetricGrid.from_score(bare, end=int(edges[-1])), [(0, 500_000)],
                         [(0, 4, 4)])
    if not 0 <= low <= 116:
        raise ValueError(f"low must leave room for an octave in 0-127, got {low}")

    k, pc = np.nonzero((tokens[:, None] >> np.arange(12)) & 1)
    score = meta.empty_score()
    track = symusic.Track(name=name, program=int(program), is_drum=False)
    if len(k):
        track.notes = symusic.Note.from_numpy(
            time=edges[k].astype(np.int32), duration=(edges[k + 1] - edges[k]).astype(np.int32),
            pitch=_place(pc, low).astype(np.int8),
            velocity=np.full(len(k), velocity, np.int8))
    score.tracks.append(track)
    return score
