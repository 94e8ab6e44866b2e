"""Piano-roll images after Pictures of MIDI (PoM): one pixel per 16th note, RGB channels.

Layout of an image (``uint8``, ``[128, W, 3]``; ``[T, 128, W, 3]`` with one channel-set per
track): row ``r`` is MIDI pitch ``127 - r`` (pitch 127 on the top row), column ``k`` is step ``k``
of the score's :class:`~symbolic.timeline.MetricGrid` (resolution 4: a 16th note at
the piece's own bars, from its time signatures or from given bar starts such as POP909's
annotated downbeats). Channels:

- red = 255 on a note's onset pixel, 0 elsewhere;
- green = 2 * velocity on every pixel where the note sounds (so velocity 1-127 is exact);
- blue is not written by :func:`encode` (0) and ignored by :func:`decode`: it is free for masks
  (:func:`with_mask`).

**Decoding** finds, per pitch row, the runs of pixels whose green is at least ``green_min`` and
starts a note at every pixel of a run whose red is at least ``red_min``; the note lasts until the
next onset in the run or the run's end. Green before a run's first onset is ignored (PoM keeps
runs that begin with a red onset). Velocity is half the mean green over the note, rounded and
clipped to 1-127. For a *valid* image (below) this inverts :func:`encode` exactly; the thresholds
let generated, non-binary images decode sensibly (raise ``green_min`` for noisy images).

**Valid image** (``is_valid``): red is 0 or 255; green is even; red = 255 only where green > 0;
every run of green > 0 begins with red = 255; inside a run green changes only on a red pixel.
Blue is anything. For every valid ``x``, ``encode(decode(x), grid=x.grid)`` has the same red and
green channels as ``x`` (and blue 0).

**What encoding loses** (counted per note in :attr:`PianoRoll.report`; ``fields`` are pitch,
onset, duration and velocity, compared in ticks):

- onset and end are rounded to the nearest step (``onset quantized``, ``duration quantized``);
- a note shorter than a step after rounding gets one pixel (``shorter than a step``);
- same-pitch notes of one channel-set: two onsets on one pixel keep the longest note, the other
  is dropped (``same-pitch onset collision``); a note still sounding at the next onset of its
  pitch is cut there (``cut by a later same-pitch note``), and that later note sounds on to the
  end of the merged run (``extended over an overlapping note``);
- velocity 0 becomes 1 (``velocity 0 raised to 1``);
- drum tracks are left out unless ``drums=True`` (``drum track``, dropped); notes past the end of
  a given grid are dropped (``outside the grid``) or cut (``cut at the grid end``).
- ``mode="merged"`` (PoM) draws every track into one channel-set: which track a note came from is
  lost (decode gives one track; this is not counted per note), and notes of different tracks on
  the same pitch collide or cut each other as above. ``mode="tracks"`` keeps one channel-set per
  track and decodes to the same tracks (name, program, drum flag).

Folding (PoM): :func:`fold` turns a ``128 x 512`` window (32 bars of 4/4) into ``256 x 256`` with
the right half flipped horizontally under the left half; :func:`unfold` inverts it exactly.
:func:`windows` cuts a roll into such windows (every 512 steps, or every 32 bars of the grid) and
:func:`join_windows` puts them back. Inpainting masks are bool ``[128, W]`` arrays, from bar and
pitch ranges (:func:`mask_from_ranges`) or from strokes of one colour in a drawn image
(:func:`mask_from_image`). PNG files (:func:`save_png` / :func:`load_png`) carry the
:class:`ScoreMeta` and the track list as JSON in an iTXt chunk, so a PNG decodes back to a score
with its tempos and meter.

Everything is vectorized over notes and pixels (numpy index arrays, no Python loop per note).
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import symusic

from .. import checks
from ..errors import ArgumentError, ArgumentTypeError, ParseError, UnsupportedFormatError
from ..timeline import MetricGrid, ScoreMeta, as_tick
from . import EncodeReport

__all__ = [
    "PianoRoll",
    "encode",
    "decode",
    "is_valid",
    "default_meta",
    "fold",
    "unfold",
    "windows",
    "join_windows",
    "mask_from_ranges",
    "mask_from_image",
    "with_mask",
    "mask_channel",
    "save_png",
    "load_png",
    "PITCHES",
    "STEPS_PER_QUARTER",
    "MERGED_TRACK",
]

PITCHES = 128
STEPS_PER_QUARTER = 4  # one pixel per 16th note
ONSET = 255
PNG_KEY = "symbolic.pianoroll"
FIELDS = ("pitch", "onset", "duration", "velocity")
#: The (name, program, is_drum) of the one track a merged roll of several tracks decodes to.
MERGED_TRACK = ("merged", 0, False)


@dataclass
class PianoRoll:
    """An encoded piano roll: the image, the timeline to decode it with, and what was lost.

    ``image``: ``uint8 [128, W, 3]`` (merged) or ``[T, 128, W, 3]`` (one channel-set per track),
    ``W = meta.grid.n_steps``. ``tracks``: ``(name, program, is_drum)`` for each channel-set
    (one entry when merged). ``report``: notes in, kept exactly, altered, dropped.
    """

    image: np.ndarray
    meta: ScoreMeta
    tracks: list[tuple[str, int, bool]]
    report: EncodeReport = field(default_factory=lambda: EncodeReport(fields=FIELDS))

    @property
    def grid(self) -> MetricGrid:
        return self.meta.grid

    @property
    def merged(self) -> bool:
        """True for one channel-set (``[128, W, 3]``), False for a stack of tracks."""
        return self.image.ndim == 3

    @property
    def width(self) -> int:
        return int(self.image.shape[-2])

    def stacked(self) -> np.ndarray:
        """The image as ``[T, 128, W, 3]`` (T = 1 when merged)."""
        return self.image[None] if self.merged else self.image


# ---------------------------------------------------------------------------------- encoding

def _note_table(score: symusic.Score, mode: str, drums: bool):
    """Notes as int64 columns (channel-set, pitch, onset, end, velocity), the channel-set list,
    and the number of drum notes left out."""
    arrays, channels, tracks, skipped = [], [], [], 0
    for track in score.tracks:
        n_notes = track.note_num()
        if track.is_drum and not drums:
            skipped += n_notes
            continue
        if mode == "tracks" or not tracks:
            tracks.append((str(track.name), int(track.program), bool(track.is_drum)))
        elif len(tracks) == 1 and tracks[0] != MERGED_TRACK:
            tracks[0] = MERGED_TRACK  # several drawn tracks: no single identity survives
        if n_notes:
            arrays.append(track.notes.numpy())
            channels.append((len(tracks) - 1 if mode == "tracks" else 0, n_notes))
    if mode == "merged" and not tracks:
        tracks.append(MERGED_TRACK)
    if not arrays:
        z = np.zeros(0, np.int64)
        return (z, z, z, z, z), tracks, skipped

    def column(name):
        return np.concatenate([a[name] for a in arrays], dtype=np.int64)

    onset = column("time")
    end = onset + np.maximum(column("duration"), 0)
    if mode == "tracks":
        index, count = zip(*channels)
        chan = np.repeat(np.array(index, np.int64), count)
    else:
        chan = np.zeros(len(onset), np.int64)
    return (chan, column("pitch"), onset, end, column("velocity")), tracks, skipped


def encode(score: symusic.Score, *, strict: bool = False, source=None, mode: str = "merged",
           bar_ticks=None, grid: MetricGrid | None = None, resolution: int = STEPS_PER_QUARTER,
           drums: bool = False) -> PianoRoll:
    """Draw a tick-time score as a piano-roll image.

    ``mode``: ``"merged"`` (every drawn track in one ``[128, W, 3]`` image, PoM) or ``"tracks"``
    (``[T, 128, W, 3]``, one channel-set per drawn track, empty tracks included). The grid is
    ``grid`` if given (reuse ``roll.grid`` to re-encode a decoded roll at the same width), else
    ``MetricGrid.from_score(score, resolution=resolution, bar_ticks=bar_ticks)``: pass POP909's
    ``song.bar_ticks()``, its MIDI time signatures are wrong. ``drums=False`` leaves drum tracks
    out (counted as dropped). ``strict=True`` raises :class:`~symbolic.errors.EncodeError`
    instead of altering or dropping any note; ``source`` names the input in the report and the
    error. See the module docstring for what is lost.
    """
    checks.choice("mode", mode, ("merged", "tracks"))
    resolution = checks.integer("resolution", resolution, 1)
    score = as_tick(score)
    if grid is None:
        grid = MetricGrid.from_score(score, resolution=resolution, bar_ticks=bar_ticks)
    meta = ScoreMeta.from_score(score, grid)
    notes, tracks, n_drums = _note_table(score, mode, drums)
    q = _quantize(notes, grid, mode)
    image, drawn = _draw(q, grid.n_steps, len(tracks) if mode == "tracks" else 1)
    if mode == "merged":
        image = image[0]
    report = _account(q, drawn, grid.step_ticks(), n_drums, source)
    report.check(strict)
    return PianoRoll(image, meta, tracks, report)


@dataclass
class _Quantized:
    """Notes on the grid (int64 per note): ticks ``onset``/``end``, onset step ``s`` (clipped
    to the grid), rounded end step ``e_round`` and drawn end ``e`` (at least ``s + 1``), drawn
    velocity ``v`` (at least 1) and image ``row``; masks of rare cases, None when none occurs."""

    onset: np.ndarray
    end: np.ndarray
    s: np.ndarray
    e_round: np.ndarray
    e: np.ndarray
    v: np.ndarray
    row: np.ndarray
    short: np.ndarray
    outside: np.ndarray | None
    past_end: np.ndarray | None
    low_vel: np.ndarray | None


def _quantize(notes, grid: MetricGrid, mode: str) -> _Quantized:
    """Onset and end rounded to the nearest step; at least one step long. (Whole-array masks
    for rare cases are built only when a cheap min/max says they occur.)"""
    chan, pitch, onset, end, vel = notes
    width, n = grid.n_steps, len(pitch)
    both = grid.nearest_steps(np.concatenate([onset, end]))
    s, e_round = np.minimum(both[:n], width - 1), both[n:]
    grid_end = int(grid.bar_ticks[-1])
    outside = past_end = low_vel = None
    if n and (int(onset.min()) < 0 or int(onset.max()) >= grid_end):
        outside = (onset < 0) | (onset >= grid_end)
    if n and int(end.max()) > grid_end:
        past_end = end > grid_end
    if n and int(vel.min()) < 1:
        low_vel = vel < 1
    row = PITCHES - 1 - pitch if mode == "merged" else chan * PITCHES + (PITCHES - 1 - pitch)
    return _Quantized(onset, end, s, e_round, np.maximum(e_round, s + 1),
                      np.maximum(vel, 1),  # symusic velocities are 0-127
                      row, e_round <= s, outside, past_end, low_vel)


@dataclass
class _Drawn:
    """Which notes the image holds (``kept``, indices into the notes) from step ``ks`` to
    ``kd`` (their own end step: ``ke``), and how many were left out and why."""

    kept: np.ndarray
    ks: np.ndarray
    kd: np.ndarray
    ke: np.ndarray
    n_collided: int
    n_outside: int


def _draw(q: _Quantized, width: int, n_sets: int) -> tuple[np.ndarray, _Drawn]:
    """The ``[n_sets, 128, W, 3]`` image of the quantized notes: one note per (row, onset
    step), the longest then loudest; a note ends at the next onset on its row or at the end
    of the merged run it starts in."""
    s, e, v, row = q.s, q.e, q.v, q.row
    # Sort by row, onset step, longest first, loudest first: one int64 key when it fits.
    row_step = row * (width + 1) + s
    if n_sets * PITCHES * (width + 1) * (width + 2) * 128 < 2 ** 62:
        order = np.argsort((row_step * (width + 2) + (width + 1 - e)) * 128 + (127 - v))
    else:
        order = np.lexsort((-v, -e, row_step))
    n_outside = 0 if q.outside is None else int(np.count_nonzero(q.outside))
    if n_outside:
        order = order[~q.outside[order]]
    sorted_cells = row_step[order]
    same_cell = np.zeros(len(order), bool)
    np.equal(sorted_cells[1:], sorted_cells[:-1], out=same_cell[1:])
    n_collided = int(np.count_nonzero(same_cell))
    kept = order[~same_cell] if n_collided else order
    ks, ke, key = s[kept], e[kept], row[kept]
    next_on = np.append(ks[1:], width)
    next_on[:-1][key[1:] != key[:-1]] = width
    off = key * (width + 1)
    kd = np.minimum(next_on, np.maximum.accumulate(ke + off) - off)

    image = np.zeros((n_sets, PITCHES, width, 3), np.uint8)
    flat = image.reshape(-1)
    start = 3 * (key * width + ks)
    length = kd - ks
    before = np.cumsum(length) - length
    flat[np.repeat(start + 1 - 3 * before, length) + np.arange(0, 3 * int(length.sum()), 3)] = \
        np.repeat((2 * v[kept]).astype(np.uint8), length)
    flat[start] = ONSET
    return image, _Drawn(kept, ks, kd, ke, n_collided, n_outside)


def _account(q: _Quantized, d: _Drawn, step_ticks: np.ndarray, n_drums: int,
             source) -> EncodeReport:
    """Per-note account: compare what decode gives back (ticks of steps ``ks``, ``kd``) with
    each note."""
    kept, ks, kd = d.kept, d.ks, d.kd
    end_k = q.end[kept]
    on_exact = step_ticks[ks] == q.onset[kept]
    exact = on_exact & (step_ticks[kd] == end_k)
    short_k = q.short[kept]
    moved_end = (step_ticks[q.e_round[kept]] != end_k) & ~short_k
    n_past = n_low = 0
    if q.past_end is not None:
        past_k = q.past_end[kept]
        n_past = int(np.count_nonzero(past_k))
        moved_end &= ~past_k
    if q.low_vel is not None:
        low_k = q.low_vel[kept]
        n_low = int(np.count_nonzero(low_k))
        exact &= ~low_k
    n, n_alive = len(q.onset), len(kept)
    n_exact = int(np.count_nonzero(exact))
    reasons = {}
    for name, count in (
        ("onset quantized", n_alive - int(np.count_nonzero(on_exact))),
        ("duration quantized", np.count_nonzero(moved_end)),
        ("shorter than a step", np.count_nonzero(short_k)),
        ("cut by a later same-pitch note", np.count_nonzero(kd < d.ke)),
        ("extended over an overlapping note", np.count_nonzero(kd > d.ke)),
        ("cut at the grid end", n_past),
        ("velocity 0 raised to 1", n_low),
        ("same-pitch onset collision", d.n_collided),
        ("outside the grid", d.n_outside),
        ("drum track", n_drums),
    ):
        if count:
            reasons[name] = int(count)
    return EncodeReport(n + n_drums, n_exact, n_alive - n_exact, n + n_drums - n_alive,
                        reasons, FIELDS, source)


# ---------------------------------------------------------------------------------- decoding

def _as_uint8(image) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        if not (np.issubdtype(image.dtype, np.number) or image.dtype == bool):
            raise ArgumentTypeError(f"must be numeric, got dtype {image.dtype}", "image")
        image = np.clip(np.rint(image.astype(np.float64)), 0, 255).astype(np.uint8)
    if image.ndim not in (3, 4) or image.shape[-3] != PITCHES or image.shape[-1] < 2:
        raise ArgumentError(f"must be [128, W, 3] or [T, 128, W, 3], got shape {image.shape}",
                            "image")
    return image


def default_meta(width: int, *, ticks_per_quarter: int = 480, qpm: float = 120.0,
                 resolution: int = STEPS_PER_QUARTER) -> ScoreMeta:
    """A timeline for a bare image ``width`` steps wide: 4/4 bars, one tempo (default 120)."""
    tpq = checks.integer("ticks_per_quarter", ticks_per_quarter, 1, 32767)
    resolution = checks.integer("resolution", resolution, 1, tpq)
    qpm = checks.number("qpm", qpm, 0.0, checks.MAX_TEMPO_QPM, low_open=True)
    bar_steps = 4 * resolution
    if tpq % resolution:
        raise ArgumentError(f"{tpq} is not a multiple of resolution {resolution}",
                            "ticks_per_quarter")
    step = tpq // resolution
    width = max(checks.integer("width", width, 0), 1)
    bars = np.append(np.arange(0, width, bar_steps), width) * step
    steps = np.diff(bars) // step
    grid = MetricGrid(tpq, resolution, bars, steps, np.full(len(steps), 4), np.full(len(steps), 4))
    return ScoreMeta(tpq, grid, tempos=[(0, int(round(60_000_000 / qpm)))],
                     time_signatures=[(0, 4, 4)])


def decode(roll, *, meta: ScoreMeta | None = None, tracks=None, red_min: int = 128,
           green_min: int = 2) -> symusic.Score:
    """The score an image (a :class:`PianoRoll` or a bare array) draws.

    A bare array decodes with ``meta`` (default :func:`default_meta`: 4/4 at 120 BPM, 480 ticks
    per quarter) and ``tracks`` (default ``("merged", 0, False)`` / ``("track k", 0, False)``).
    A pixel sounds when green >= ``green_min``; a sounding pixel with red >= ``red_min`` is an
    onset. Each onset starts a note that ends at the next onset of its row or where its run of
    sounding pixels ends; velocity = mean green over the note / 2 (clipped to 1-127). Float
    images are read on the 0-255 scale. Note times are the grid's step ticks.
    """
    if isinstance(roll, PianoRoll):
        image, meta, tracks = roll.image, roll.meta if meta is None else meta, \
            roll.tracks if tracks is None else tracks
    else:
        image = roll
    image = _as_uint8(image)
    stack = image[None] if image.ndim == 3 else image
    n_tracks, _, width, _ = stack.shape
    if meta is None:
        meta = default_meta(width)
    if meta.grid.n_steps != width:
        raise ValueError(f"image is {width} steps wide but its grid has {meta.grid.n_steps}")
    if tracks is None:
        tracks = [MERGED_TRACK] if image.ndim == 3 else \
            [(f"track {k}", 0, False) for k in range(n_tracks)]
    if len(tracks) != n_tracks:
        raise ValueError(f"{len(tracks)} track entries for {n_tracks} channel-sets")

    # Rows laid end to end with one silent column between them, so runs never cross rows.
    line = width + 1
    green = np.zeros((n_tracks * PITCHES, line), np.uint8)
    green[:, :width] = stack[..., 1].reshape(-1, width)
    flat_green = green.reshape(-1)
    sounding = flat_green >= max(int(green_min), 1)
    starts = np.flatnonzero(stack[..., 0] >= red_min)
    starts += starts // width  # index in the padded layout
    starts = starts[sounding[starts]]
    run_ends = np.flatnonzero(sounding[:-1] & ~sounding[1:]) + 1  # first silent pixel after
    ends = np.minimum(run_ends[np.searchsorted(run_ends, starts, side="right")],
                      np.append(starts[1:], np.iinfo(np.int64).max))
    # Sum of green over each note: reduceat over [start, end) pairs, gaps discarded.
    bounds = np.empty(2 * len(starts), np.int64)
    bounds[0::2], bounds[1::2] = starts, ends
    total = np.add.reduceat(flat_green, bounds, dtype=np.int64)[0::2] if len(starts) else \
        np.zeros(0, np.int64)
    velocity = np.clip(np.rint(total / (ends - starts) / 2), 1, 127)

    row, col = np.divmod(starts, line)
    end_col = ends - row * line
    track = row // PITCHES
    pitch = PITCHES - 1 - row % PITCHES
    step_ticks = meta.grid.step_ticks()
    onset_tick, end_tick = step_ticks[col], step_ticks[end_col]

    score = meta.empty_score()
    order = np.argsort((track * line + col) * PITCHES + pitch)  # by track, onset, pitch
    bounds = np.searchsorted(track[order], np.arange(n_tracks + 1))
    for k, (name, program, is_drum) in enumerate(tracks):  # one pass per track, not per note
        sel = order[bounds[k]:bounds[k + 1]]
        out = symusic.Track(name=str(name), program=int(program), is_drum=bool(is_drum))
        if len(sel):
            out.notes = symusic.Note.from_numpy(
                time=onset_tick[sel].astype(np.int32),
                duration=(end_tick[sel] - onset_tick[sel]).astype(np.int32),
                pitch=pitch[sel].astype(np.int8), velocity=velocity[sel].astype(np.int8))
        score.tracks.append(out)
    return score


def is_valid(image) -> bool:
    """True when ``image`` is one :func:`encode` can produce (see the module docstring), so that
    ``encode(decode(x))`` gives back its red and green channels exactly. Blue is not checked."""
    image = _as_uint8(image)
    red = image[..., 0].astype(np.int16)
    green = image[..., 1].astype(np.int16)
    onset = red == ONSET
    if not np.all((red == 0) | onset) or np.any(green % 2) or np.any(onset & (green == 0)):
        return False
    prev = np.zeros_like(green)
    prev[..., 1:] = green[..., :-1]
    starts_run = (green > 0) & (prev == 0)
    changes = (green > 0) & (prev > 0) & (green != prev)
    return bool(np.all(onset[starts_run]) and np.all(onset[changes]))


# ----------------------------------------------------------------------------------- folding

def _has_channels(x: np.ndarray) -> bool:
    return x.dtype != bool  # masks are bool [..., H, W]; images carry a channel axis last


def fold(x: np.ndarray) -> np.ndarray:
    """PoM folding: ``[..., H, W, C] -> [..., 2H, W/2, C]``, the right half flipped horizontally
    and put under the left half (128 x 512 -> 256 x 256). Bool masks fold as ``[..., H, W]``."""
    x = np.asarray(x)
    h, w = (-3, -2) if _has_channels(x) else (-2, -1)
    width = x.shape[w]
    if width % 2:
        raise ValueError(f"cannot fold an odd width ({width})")
    left = np.take(x, np.arange(width // 2), axis=w)
    right = np.take(x, np.arange(width - 1, width // 2 - 1, -1), axis=w)
    return np.concatenate([left, right], axis=h)


def unfold(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`fold`: ``[..., 2H, W, C] -> [..., H, 2W, C]`` exactly."""
    x = np.asarray(x)
    h, w = (-3, -2) if _has_channels(x) else (-2, -1)
    height, width = x.shape[h], x.shape[w]
    if height % 2:
        raise ValueError(f"cannot unfold an odd height ({height})")
    top = np.take(x, np.arange(height // 2), axis=h)
    bottom = np.take(np.take(x, np.arange(height // 2, height), axis=h),
                     np.arange(width - 1, -1, -1), axis=w)
    return np.concatenate([top, bottom], axis=w)


def windows(x: np.ndarray, starts=None, *, width: int = 512) -> np.ndarray:
    """Cut ``[..., H, W, C]`` into windows ``[n, ..., H, width, C]`` starting at steps
    ``starts`` (default every ``width`` steps; ``grid.bar_first_step[:-1][::32]`` gives windows
    of 32 bars, 512 steps in 4/4), zero-padded past the end. Every step must fall in a window:
    ``starts[0] == 0`` and no gap between starts (or to the end) wider than ``width``, else
    ValueError (take fewer bars per window)."""
    x = np.asarray(x)
    w = -2 if _has_channels(x) else -1
    total = x.shape[w]
    starts = np.arange(0, max(total, 1), width) if starts is None else np.asarray(starts, np.int64)
    gaps = np.diff(np.append(starts, total))
    if len(starts) == 0 or starts[0] != 0 or np.any(gaps > width) or np.any(gaps < 0):
        raise ValueError(f"windows of {width} steps at {starts.tolist()[:8]}... do not cover "
                         f"all {total} steps in order")
    ax = w % x.ndim
    pad = [(0, 0)] * x.ndim
    pad[ax] = (0, width + max(int(starts.max(initial=0)) + 1 - total, 0))
    cols = starts[:, None] + np.arange(width)[None, :]
    return np.moveaxis(np.take(np.pad(x, pad), cols, axis=ax), ax, 0)


def join_windows(wins: np.ndarray, total: int, starts=None) -> np.ndarray:
    """Inverse of :func:`windows`: lay windows back at ``starts`` into ``total`` steps; where
    windows overlap, the later one wins."""
    wins = np.asarray(wins)
    w = -2 if _has_channels(wins) else -1
    width = wins.shape[w]
    starts = np.arange(0, max(total, 1), width) if starts is None else np.asarray(starts, np.int64)
    shape = list(wins.shape[1:])
    shape[w] = total + width
    out = np.zeros(shape, wins.dtype)
    ax = w % out.ndim
    for k, start in enumerate(starts):  # one slice assignment per window
        index = [slice(None)] * out.ndim
        index[ax] = slice(int(start), int(start) + width)
        out[tuple(index)] = wins[k]
    index = [slice(None)] * out.ndim
    index[ax] = slice(0, total)
    return out[tuple(index)]


# ------------------------------------------------------------------------------------- masks

def mask_from_ranges(grid_or_width, *, bars=None, steps=None, pitches=None) -> np.ndarray:
    """Bool mask ``[128, W]``, True inside the given ranges (for inpainting).

    ``bars=(a, b)``: bars a to b-1 of the grid (with a plain width, bars of 16 steps);
    ``steps=(a, b)``: steps a to b-1; ``pitches=(lo, hi)``: MIDI pitches lo to hi inclusive.
    A range left out covers everything; given ranges intersect.
    """
    if isinstance(grid_or_width, MetricGrid):
        width, first = grid_or_width.n_steps, grid_or_width.bar_first_step
    else:
        width = int(grid_or_width)
        first = np.append(np.arange(0, width, 4 * STEPS_PER_QUARTER), width)
    time = np.ones(width, bool)
    if bars is not None:
        a, b = (int(np.clip(v, 0, len(first) - 1)) for v in bars)
        span = np.zeros(width, bool)
        span[first[a]:first[b]] = True
        time &= span
    if steps is not None:
        span = np.zeros(width, bool)
        span[max(int(steps[0]), 0):max(int(steps[1]), 0)] = True
        time &= span
    rows = np.ones(PITCHES, bool)
    if pitches is not None:
        lo, hi = int(pitches[0]), int(pitches[1])
        p = PITCHES - 1 - np.arange(PITCHES)
        rows = (p >= lo) & (p <= hi)
    return rows[:, None] & time[None, :]


def _read_image(source) -> np.ndarray:
    """RGB(A) uint8 array from a path, bytes, a PIL image or an array."""
    if isinstance(source, np.ndarray):
        return _as_uint8_any(source)
    from PIL import Image

    if isinstance(source, Image.Image):
        img = source
    elif isinstance(source, (bytes, bytearray)):
        img = Image.open(io.BytesIO(bytes(source)))
    else:
        img = Image.open(os.fspath(source))
    return np.asarray(img.convert("RGBA" if "A" in img.getbands() else "RGB"))


def _as_uint8_any(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.uint8:
        return x
    return np.clip(np.rint(x.astype(np.float64)), 0, 255).astype(np.uint8)


def mask_from_image(source, colour=(0, 0, 255), *, tolerance: int = 48) -> np.ndarray:
    """Bool mask ``[H, W]`` of the pixels drawn in ``colour`` (every channel within
    ``tolerance``) in a PNG path, bytes, PIL image or ``[H, W, 3|4]`` array. Pixels with alpha
    below 128 never match. Unfold a drawn 256 x 256 folded image with :func:`unfold`."""
    rgb = _read_image(source)
    if rgb.ndim != 3 or rgb.shape[-1] not in (3, 4):
        raise ValueError(f"expected an RGB(A) image [H, W, 3|4], got shape {rgb.shape}")
    diff = np.abs(rgb[..., :3].astype(np.int16) - np.asarray(colour, np.int16)[None, None, :3])
    mask = np.all(diff <= tolerance, axis=-1)
    if rgb.shape[-1] == 4:
        mask &= rgb[..., 3] >= 128
    return mask


def with_mask(image, mask) -> np.ndarray:
    """A copy of ``image`` (``[..., 128, W, 3]``) with blue = 255 where ``mask`` is True."""
    out = np.array(image, dtype=np.uint8, copy=True)
    out[..., 2] = np.where(np.broadcast_to(mask, out.shape[:-1]), 255, 0)
    return out


def mask_channel(image) -> np.ndarray:
    """The mask stored in an image's blue channel (blue >= 128)."""
    return np.asarray(image)[..., 2] >= 128


# --------------------------------------------------------------------------------------- PNG

def save_png(roll: PianoRoll, path, *, folded: bool = False) -> Path:
    """Write ``roll`` as an RGB PNG: tracks stacked top to bottom, optionally PoM-folded (each
    track's ``[128, W]`` becomes ``[256, ceil(W/2)]``, an odd width padded by one blank
    column). The timeline and track list go in an iTXt
    chunk (``symbolic.pianoroll``, JSON) so :func:`load_png` decodes back to the same score."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    path = Path(path)
    stack = roll.stacked()
    if stack.shape[0] == 0 or stack.shape[2] == 0:
        raise ValueError(f"{path}: an empty piano roll (shape {roll.image.shape}) has no image")
    if folded:
        if roll.width % 2:  # one blank column makes it foldable; load_png crops it again
            stack = np.pad(stack, [(0, 0), (0, 0), (0, 1), (0, 0)])
        stack = fold(stack)
    info = PngInfo()
    info.add_itxt(PNG_KEY, json.dumps({
        "version": 1, "merged": roll.merged, "folded": bool(folded), "width": roll.width,
        "tracks": [list(t) for t in roll.tracks], "meta": roll.meta.to_dict()}), zip=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(stack.reshape(-1, *stack.shape[2:])), "RGB").save(
        path, pnginfo=info)
    return path


def load_png(source, *, folded: bool | None = None) -> PianoRoll:
    """Read a piano-roll PNG (path or bytes) into a :class:`PianoRoll` (empty report).

    With the metadata :func:`save_png` writes, the roll is restored exactly. A bare image (a
    drawing, a model's output) must be ``128 * T`` rows high (T stacked tracks), or 256 x 256
    PoM-folded (``folded=None`` guesses that from the size); it gets :func:`default_meta`.
    """
    from PIL import Image, UnidentifiedImageError

    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else os.fspath(source)
    try:
        img = Image.open(io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray))
                         else name)
        text = dict(getattr(img, "text", {}) or {})
        pixels = np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as e:
        raise ParseError(f"cannot read as an image: {e}", name) from e
    if PNG_KEY in text:
        info = json.loads(text[PNG_KEY])
        if info.get("version") != 1:
            raise UnsupportedFormatError(f"piano-roll PNG version {info.get('version')}", name)
        meta = ScoreMeta.from_dict(info["meta"])
        tracks = [tuple(t) for t in info["tracks"]]
        is_folded, merged = bool(info["folded"]), bool(info["merged"])
    else:
        meta, tracks, merged = None, None, None
        h, w = pixels.shape[:2]
        is_folded = (h == 2 * PITCHES and w == 2 * PITCHES) if folded is None else folded
    rows = 2 * PITCHES if is_folded else PITCHES
    if pixels.shape[0] % rows:
        raise ParseError(f"image is {pixels.shape[0]} rows high: not a multiple of {rows}", name)
    stack = pixels.reshape(-1, rows, *pixels.shape[1:])
    if is_folded:
        stack = unfold(stack)
        if meta is not None:
            stack = stack[:, :, :meta.grid.n_steps]
    if merged is None:
        merged = len(stack) == 1
    image = np.ascontiguousarray(stack[0] if merged else stack)
    if meta is None:
        meta = default_meta(image.shape[-2])
        tracks = [MERGED_TRACK] if merged else [(f"track {k}", 0, False) for k in range(len(stack))]
    if meta.grid.n_steps != image.shape[-2]:
        raise ParseError(f"image is {image.shape[-2]} steps wide, its metadata says "
                         f"{meta.grid.n_steps}", name)
    return PianoRoll(image, meta, tracks, EncodeReport(fields=FIELDS))
