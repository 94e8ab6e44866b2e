"""HDiT's corpus: POP909 songs as piano-roll note tables, and training windows drawn from them.

A song is kept as the notes its merged piano-roll image holds (:class:`RollSong`: pitch, first
and end step, velocity; one column per 16th note of the annotated bars), with the annotated
chord of every step as a 12-bit pitch-class mask and the first step of every bar. A window is
drawn back into an image by :func:`render_window`: exactly the crop of the song's full
image (:func:`symbolic.representations.pianoroll.encode`) from that step, optionally
transposed, so a note that began before the window shows as green without its red onset, as
it would in a crop.

The note tables of a split are cached in ``cache_dir("hdit")`` (a few MB for POP909's train
split; building them reads and encodes every song once, about 20 ms a song).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.cache import cache_dir
from ...representations.pianoroll import PITCHES

__all__ = ["RollSong", "song_from_pop909", "pop909_rolls", "render_window", "chord_vector",
           "allowed_shifts", "SHIFTS", "CACHE_VERSION"]

#: Transpositions drawn in training: -5..+6 semitones (every key once).
SHIFTS = (-5, 6)
CACHE_VERSION = 1


@dataclass
class RollSong:
    """One song's piano roll as a note table. ``notes``: int32 ``[N, 4]`` (MIDI pitch, first
    step, end step (exclusive), velocity 1-127), one row per note of the merged image;
    ``chords``: int16 ``[W]``, the annotated chord sounding at each step as a 12-bit mask (bit
    p: pitch class p; 0: no chord); ``bars``: int32 first step of every bar, then ``W``."""

    name: str
    notes: np.ndarray
    chords: np.ndarray
    bars: np.ndarray

    @property
    def width(self) -> int:
        return int(len(self.chords))


def song_from_pop909(song) -> RollSong:
    """A :class:`~symbolic.data.pop909.Pop909Song` as a :class:`RollSong`: its score encoded
    merged on the annotated bars, read back note by note (:func:`decode`, whose note times are
    step ticks, so the steps are exact), and its chord annotation per step."""
    from ...harmony import chord_masks
    from ...representations.pianoroll import decode, encode

    roll = encode(song.score, bar_ticks=song.bar_ticks())
    grid = roll.grid
    step_ticks = grid.step_ticks()
    table = decode(roll).tracks[0].notes.numpy()
    start = np.searchsorted(step_ticks, table["time"])
    end = np.searchsorted(step_ticks, table["time"] + table["duration"])
    notes = np.stack([table["pitch"], start, end, table["velocity"]], 1).astype(np.int32)
    chords = np.zeros(grid.n_steps, np.int16)
    c_start, c_end = song.chord_ticks()
    masks = chord_masks(song.chords.labels)
    first, last = np.searchsorted(step_ticks, c_start), np.searchsorted(step_ticks, c_end)
    for a, b, m in zip(first, last, masks):  # a few hundred spans a song
        chords[a:b] = m
    return RollSong(f"pop909/{song.song_id:03d}", notes, chords,
                    grid.bar_first_step.astype(np.int32))


def pop909_rolls(split: str, *, path=None, limit: int | None = None,
                 progress: bool = True) -> list[RollSong]:
    """Every POP909 song of ``split`` (the fixed split of :mod:`symbolic.data.pop909`) present
    under ``path``, or its first ``limit`` songs, as :class:`RollSong` (cached)."""
    from ...data.pop909 import Pop909

    pop = Pop909(path)
    ids = pop.available(split)[:limit]
    cache = cache_dir("hdit") / f"pop909-{split}-{len(ids)}-v{CACHE_VERSION}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            if z["ids"].tolist() == list(ids):
                return _unpack(z)
    from tqdm.auto import tqdm

    songs = [song_from_pop909(pop.song(i))
             for i in tqdm(ids, desc=f"POP909 {split} rolls", disable=not progress)]
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, ids=np.array(ids, np.int64),
             notes=np.concatenate([s.notes for s in songs] or [np.zeros((0, 4), np.int32)]),
             chords=np.concatenate([s.chords for s in songs] or [np.zeros(0, np.int16)]),
             bars=np.concatenate([s.bars for s in songs] or [np.zeros(0, np.int32)]),
             offsets=np.array([[len(s.notes), len(s.chords), len(s.bars)] for s in songs],
                              np.int64).reshape(-1, 3))
    tmp.replace(cache)
    return songs


def _unpack(z) -> list[RollSong]:
    ends = np.cumsum(z["offsets"], 0)
    starts = ends - z["offsets"]
    notes, chords, bars = z["notes"], z["chords"], z["bars"]
    return [RollSong(f"pop909/{int(i):03d}", notes[a[0]:b[0]], chords[a[1]:b[1]],
                     bars[a[2]:b[2]])
            for i, a, b in zip(z["ids"], starts, ends)]


def _window_notes(song: RollSong, start: int, width: int) -> np.ndarray:
    n = song.notes
    return n[(n[:, 2] > start) & (n[:, 1] < start + width)]


def allowed_shifts(song: RollSong, start: int, width: int, shifts=SHIFTS) -> tuple[int, int]:
    """The transpositions (lowest, highest) within ``shifts`` that keep every note of the
    window inside MIDI 0-127."""
    n = _window_notes(song, start, width)
    if not len(n):
        return shifts
    lo, hi = int(n[:, 0].min()), int(n[:, 0].max())
    return max(shifts[0], -lo), min(shifts[1], PITCHES - 1 - hi)


def render_window(song: RollSong, start: int, width: int, shift: int = 0) -> np.ndarray:
    """uint8 ``[128, width, 3]``: the song's merged piano-roll image from step ``start``
    (blank past the song's end), transposed by ``shift`` semitones (the caller keeps the notes
    inside 0-127: :func:`allowed_shifts`)."""
    n = _window_notes(song, start, width)
    image = np.zeros((PITCHES, width, 3), np.uint8)
    if not len(n):
        return image
    row = PITCHES - 1 - (n[:, 0] + shift)
    first = np.maximum(n[:, 1] - start, 0)
    length = np.minimum(n[:, 2] - start, width) - first
    offset = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    image[np.repeat(row, length), np.repeat(first, length) + offset, 1] = \
        np.repeat(2 * n[:, 3], length).astype(np.uint8)
    onset = n[:, 1] >= start
    image[row[onset], n[onset, 1] - start, 0] = 255
    return image


def chord_vector(song: RollSong, start: int, width: int, shift: int = 0) -> np.ndarray:
    """float32 ``[12]``: the share of the window's steps on which each pitch class is in the
    annotated chord (0 past the song's end and under no-chord labels), rotated by ``shift``."""
    masks = song.chords[start:start + width].astype(np.int64)
    bits = (masks[:, None] >> np.arange(12)[None, :]) & 1
    return np.roll(bits.sum(0) / max(width, 1), shift).astype(np.float32)
