"""Theme Transformer's corpus: POP909 songs as theme events
(:mod:`symbolic.representations.theme_events`) with their theme regions marked, the regions
found by :func:`symbolic.find_themes` (the shipped theme encoder, annotated bars), and each
song's theme: the events of its first theme region (at most :data:`THEME_BARS` bars).

Songs where no theme is found (no two two-bar segments alike) are left out. The corpus of a
split is cached as one ``.npz`` under :func:`symbolic.data.cache.cache_dir`
(``theme-transformer/pop909-<split>.npz``); delete it to rebuild (about a minute for the
train split on one thread).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import torch

from ...errors import ArgumentError, SymbolicError
from ...representations import theme_events as te

__all__ = ["ThemeSong", "theme_song", "pop909_theme_songs", "WindowSampler", "held_out",
           "THEME_BARS", "SHIFTS"]

#: Most bars of a theme (the first bars of the first region).
THEME_BARS = 4
#: Transpositions drawn for a training window and its theme (semitones).
SHIFTS = np.arange(-5, 7)


@dataclass
class ThemeSong:
    """One song: ``ids`` its events with theme regions marked, ``theme`` the events of its
    theme (``Theme_Start ... Theme_End``), ``regions`` the theme bars as ``(first, last)``,
    ``song_id`` (0 when not a POP909 song)."""

    ids: np.ndarray
    theme: np.ndarray
    regions: list
    song_id: int = 0

    def bar_starts(self) -> np.ndarray:
        """Index of every ``Bar`` token."""
        return np.flatnonzero(self.ids == te.BAR)


def theme_song(score, bar_ticks, regions, song_id: int = 0) -> ThemeSong:
    """The :class:`ThemeSong` of a score with theme ``regions`` (1-based ``(first, last)``
    bars; at least one)."""
    if not regions:
        raise ArgumentError("needs at least one theme region", "regions")
    enc = te.encode(score, bar_ticks, regions)
    first, last = regions[0]
    theme = te.encode(score, bar_ticks, [(first, last)],
                      bars=(first, min(last, first + THEME_BARS - 1)))
    return ThemeSong(ids=enc.ids, theme=theme.ids[1:-1], regions=[tuple(r) for r in regions],
                     song_id=int(song_id))


def _build(split: str, path=None) -> list:
    from ...data.pop909 import Pop909
    from ..themes import find_themes

    pop, out = Pop909(path), []
    for i in pop.available(split):
        try:
            song = pop.song(i)
            found = find_themes(song.score, bar_ticks=song.bar_ticks())
            if found.regions:
                out.append(theme_song(song.score, song.bar_ticks(), found.regions, i))
        except SymbolicError:
            continue
    return out


def pop909_theme_songs(split: str, path=None, *, cache: bool = True) -> list:
    """:class:`ThemeSong` of every available POP909 song of ``split`` with a theme (cached,
    see the module docstring)."""
    from ...data.cache import cache_dir

    file = cache_dir("theme-transformer") / f"pop909-{split}.npz"
    if cache and file.is_file():
        z = np.load(file)
        meta = json.loads(str(z["meta"]))
        ids, themes = np.split(z["ids"], z["id_ends"][:-1]), np.split(z["themes"],
                                                                        z["theme_ends"][:-1])
        return [ThemeSong(a, t, [tuple(r) for r in m["regions"]], m["song_id"])
                for a, t, m in zip(ids, themes, meta)]
    songs = _build(split, path)
    if cache and songs:
        file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(file, ids=np.concatenate([s.ids for s in songs]),
                 id_ends=np.cumsum([len(s.ids) for s in songs]),
                 themes=np.concatenate([s.theme for s in songs]),
                 theme_ends=np.cumsum([len(s.theme) for s in songs]),
                 meta=json.dumps([{"song_id": s.song_id, "regions": s.regions}
                                  for s in songs]))
    return songs


class WindowSampler:
    """Training batches (``make_batch`` of :func:`symbolic.training.fit`):
    ``sampler(rng, step) -> {"inputs", "targets", "positions": [B, window], "theme": [B, M]}``
    (int64; PAD after a song's end and after a theme's end). A window starts on a bar line:
    with probability ``theme_share`` zero to three bars before one of the song's
    ``Theme_Start`` tokens, else anywhere (songs drawn in proportion to their length); window
    and theme are transposed together by a random shift of :data:`SHIFTS` when
    ``transpose``."""

    def __init__(self, songs: list, *, window: int = 512, batch: int = 8, max_theme: int = 256,
                 theme_share: float = 0.5, transpose: bool = True):
        self.songs = [s for s in songs if len(s.theme) and len(s.bar_starts())]
        if not self.songs:
            raise ArgumentError("no song with a theme and a bar", "songs")
        self.window, self.batch, self.max_theme = int(window), int(batch), int(max_theme)
        self.theme_share, self.transpose = float(theme_share), bool(transpose)
        lengths = np.array([len(s.ids) for s in self.songs], dtype=np.float64)
        self.p = lengths / lengths.sum()
        self.positions = [te.theme_positions(s.ids) for s in self.songs]

    def start(self, rng: np.random.Generator, k: int) -> int:
        """A window start (a ``Bar`` token's index) in song ``k``."""
        song = self.songs[k]
        bars = song.bar_starts()
        starts = np.flatnonzero(song.ids == te.THEME_START)
        if len(starts) and rng.random() < self.theme_share:
            before = np.searchsorted(bars, starts[rng.integers(len(starts))])
            return int(bars[max(before - int(rng.integers(0, 4)), 0)])
        return int(bars[rng.integers(len(bars))])

    def example(self, rng: np.random.Generator) -> tuple:
        k = int(rng.choice(len(self.songs), p=self.p))
        song, a = self.songs[k], self.start(rng, k)
        ids = song.ids[a:a + self.window + 1]
        pos = self.positions[k][a:a + self.window + 1]
        theme = song.theme[:self.max_theme]
        if self.transpose:
            shift = int(rng.choice(SHIFTS))
            ids, theme = te.transpose(ids, shift), te.transpose(theme, shift)
        return ids, pos, theme

    def __call__(self, rng: np.random.Generator, step: int = 0) -> dict:
        n = self.window + 1
        ids = np.full((self.batch, n), te.PAD, np.int64)
        pos = np.zeros((self.batch, n), np.int64)
        theme = np.full((self.batch, self.max_theme), te.PAD, np.int64)
        for b in range(self.batch):
            w, p, t = self.example(rng)
            ids[b, :len(w)], pos[b, :len(p)], theme[b, :len(t)] = w, p, t
        theme = theme[:, :max(int((theme != te.PAD).sum(1).max()), 1)]
        return {"inputs": torch.from_numpy(ids[:, :-1]), "targets": torch.from_numpy(ids[:, 1:]),
                "positions": torch.from_numpy(pos[:, :-1]), "theme": torch.from_numpy(theme)}


def held_out(songs: list, *, n_batches: int = 4, seed: int = 1, **options) -> list:
    """``n_batches`` fixed batches of ``songs`` (no transposition), the same on every run."""
    sampler = WindowSampler(songs, **{**options, "transpose": False})
    rng = np.random.default_rng(seed)
    return [sampler(rng) for _ in range(n_batches)]
