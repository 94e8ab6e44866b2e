"""POP909 as lead-sheet event sequences (:mod:`symbolic.representations.leadsheet`), cached on
disk, with the window sampler and the transposition that event models (CM-HRNN) train on.

Each song (``MELODY`` track, ``chord_midi.txt`` chords, annotated downbeats:
:func:`~symbolic.representations.leadsheet.from_pop909`) becomes one int16 array ``[n, 5]``:
the four event fields (bar flag, chord class 0..48, duration class 0..15, note 0..129) and the
16th steps elapsed in its bar at the event's onset (from the annotated bars, not clipped).

:func:`event_inputs` turns a run of events into what a model reads at each event ``t`` (after
CM-HRNN): the event itself, the chord of event ``t + 1`` and the steps elapsed in the bar where
event ``t + 1`` starts (clipped to 15), i.e. the index form of
:meth:`~symbolic.representations.leadsheet.Events.model_inputs` (262 one-hot dimensions as six
class indices), and the targets at ``t``: the note, duration class and bar flag of event
``t + 1``.

**Transposition**: to all keys, on the fly. Every training window is moved by a random shift
of -5..+6 semitones (melody pitches and chord roots together; a shift that would push a pitch
outside 0..127 is replaced by no shift), so the models see every progression in every key
and a user's progression in any key is in-distribution. Held-out windows are not transposed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cache import cache_dir

__all__ = ["LeadSheetSong", "pop909_leadsheets", "event_inputs", "transpose_events",
           "WindowSampler", "held_out_windows", "SHIFTS", "INPUT_SIZES"]

#: Semitone shifts drawn for training windows.
SHIFTS = tuple(range(-5, 7))
#: Class counts of the six input columns of :func:`event_inputs`: bar flag, chord, duration
#: class, note, next chord, next position in the bar (2 + 49 + 16 + 130 + 49 + 16 = 262).
INPUT_SIZES = (2, 49, 16, 130, 49, 16)
_CACHE_VERSION = 1


@dataclass
class LeadSheetSong:
    """One song's events: ``events`` int16 ``[n, 5]`` (bar flag, chord, duration class, note,
    steps into the bar at the onset) and its ``name`` (``pop909/001``)."""

    events: np.ndarray
    name: str = ""

    def __len__(self) -> int:
        return len(self.events)

    def bar_starts(self) -> np.ndarray:
        """Indices of the events that start a bar."""
        return np.flatnonzero(self.events[:, 0] == 1)


def _song_events(pop, i: int) -> np.ndarray:
    from ..representations import leadsheet as ls

    lead = ls.from_pop909(pop.song(i))
    ev = ls.encode_leadsheet(lead)
    on = ev.onsets()
    bfs = lead.grid.bar_first_step
    bar = np.clip(np.searchsorted(bfs, on, side="right") - 1, 0, len(bfs) - 1)
    pos = on - bfs[bar]
    return np.concatenate([ev.array, pos[:, None]], axis=1).astype(np.int16)


def pop909_leadsheets(split: str, *, path=None, progress: bool = True) -> list[LeadSheetSong]:
    """Every POP909 song of ``split`` ('train' 1-837, 'valid' 838-873, 'test' 874-909; see
    :func:`symbolic.data.pop909.split_of`) as a :class:`LeadSheetSong`, cached in
    ``cache_dir('leadsheets')`` after the first call (about 25 ms per song to build)."""
    from .pop909 import Pop909

    pop = Pop909(path)
    ids = pop.available(split)
    cache = cache_dir("leadsheets") / f"pop909-{split}-v{_CACHE_VERSION}-{len(ids)}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            events, off, got = z["events"], z["offsets"], z["ids"]
        return [LeadSheetSong(events[off[j]:off[j + 1]], f"pop909/{int(i):03d}")
                for j, i in enumerate(got)]
    from tqdm.auto import tqdm

    songs = [LeadSheetSong(_song_events(pop, i), f"pop909/{i:03d}")
             for i in tqdm(ids, desc=f"POP909 {split} lead sheets", disable=not progress)]
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, ids=np.array(ids), events=np.concatenate([s.events for s in songs]),
             offsets=np.cumsum([0] + [len(s) for s in songs]))
    tmp.replace(cache)
    return songs


def transpose_events(events: np.ndarray, shift: int) -> np.ndarray:
    """``events`` (``[n, >=4]``, columns as in :class:`LeadSheetSong`) moved by ``shift``
    semitones: pitches (note classes >= 2) and chord roots; rests, sustains and no-chord stay.
    Raises ValueError when a pitch would leave 0..127."""
    out = np.array(events, dtype=np.int64, copy=True)
    note, chord = out[:, 3], out[:, 1]
    pitched = note >= 2
    moved = note[pitched] + shift
    if len(moved) and (moved.min() < 2 or moved.max() > 129):
        raise ValueError(f"a shift of {shift} moves a pitch outside 0..127")
    note[pitched] = moved
    has = chord > 0
    root, quality = (chord[has] - 1) // 4, (chord[has] - 1) % 4
    chord[has] = 1 + (root + shift) % 12 * 4 + quality
    return out


def event_inputs(events: np.ndarray, end_pos: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and targets of a run of ``n`` events (``[n, 5]``, :class:`LeadSheetSong`).

    Returns ``(inputs, targets)``: ``inputs`` int64 ``[n - 1, 6]`` (bar flag, chord, duration
    class, note of event t; chord of event t + 1; steps into the bar where event t + 1 starts,
    clipped to 15) and ``targets`` int64 ``[n - 1, 3]`` (note, duration class, bar flag of event
    t + 1). ``end_pos`` (steps into the bar where the run ends) adds an input row for the last
    event, whose targets are -1 (unknown).
    """
    e = np.asarray(events, dtype=np.int64)
    nxt = e[1:]
    rows = e if end_pos is not None else e[:-1]
    nxt_chord = nxt[:, 1] if end_pos is None else np.r_[nxt[:, 1], rows[-1, 1]]
    nxt_pos = nxt[:, 4] if end_pos is None else np.r_[nxt[:, 4], end_pos]
    inputs = np.stack([rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], nxt_chord,
                       np.minimum(nxt_pos, 15)], axis=1)
    targets = np.stack([nxt[:, 3], nxt[:, 2], nxt[:, 0]], axis=1)
    if end_pos is not None:
        targets = np.concatenate([targets, np.full((1, 3), -1)])
    return inputs, targets


class WindowSampler:
    """Training batches of ``batch`` windows of ``length + 1`` events (``make_batch`` of
    :func:`symbolic.training.fit`): ``sampler(rng, step) -> {"inputs": [B, length, 6],
    "targets": [B, length, 3]}`` (int64). A window starts at a random bar line of a random song
    (songs drawn in proportion to their bar count), is transposed by a random shift of
    :data:`SHIFTS` when ``transpose``, and songs shorter than a window are skipped."""

    def __init__(self, songs: list[LeadSheetSong], *, length: int = 128, batch: int = 32,
                 transpose: bool = True):
        self.songs = [s for s in songs if len(s) > length]
        if not self.songs:
            raise ValueError(f"no song has more than {length} events")
        self.length, self.batch, self.transpose = int(length), int(batch), bool(transpose)
        self.starts = [s.bar_starts() for s in self.songs]
        self.starts = [b[b + length + 1 <= len(s)] for b, s in zip(self.starts, self.songs)]
        w = np.array([len(b) for b in self.starts], dtype=np.float64)
        self.p = w / w.sum()

    def window(self, rng: np.random.Generator) -> np.ndarray:
        """One window ``[length + 1, 5]`` (transposed when the sampler transposes)."""
        k = int(rng.choice(len(self.songs), p=self.p))
        b = self.starts[k]
        a = int(b[rng.integers(len(b))])
        w = self.songs[k].events[a:a + self.length + 1]
        if self.transpose:
            try:
                return transpose_events(w, int(rng.choice(SHIFTS)))
            except ValueError:  # out of MIDI range: keep the key
                pass
        return w.astype(np.int64)

    def __call__(self, rng: np.random.Generator, step: int = 0) -> dict:
        pairs = [event_inputs(self.window(rng)) for _ in range(self.batch)]
        return {"inputs": np.stack([p[0] for p in pairs]),
                "targets": np.stack([p[1] for p in pairs])}


def held_out_windows(songs: list[LeadSheetSong], *, length: int = 128, batch: int = 32,
                     n_batches: int = 8, seed: int = 12345) -> list[dict]:
    """Fixed held-out batches (no transposition), the same for every model and run."""
    sampler = WindowSampler(songs, length=length, batch=batch, transpose=False)
    rng = np.random.default_rng(seed)
    return [sampler(rng) for _ in range(n_batches)]
