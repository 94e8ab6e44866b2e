"""Corpora as GETScore grids (:mod:`symbolic.representations.grid`), cached on disk: what grid
models (GETDiff) train and are evaluated on.

:func:`pop909_grids` encodes every POP909 song of a split with its annotated bars and chords;
a :class:`GridSong` holds one piece's token array and bar starts, and cuts bar windows of it
(:func:`symbolic.timeline.bar_windows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..representations.grid import EMPTY
from ..timeline import bar_windows
from .cache import cache_dir

__all__ = ["GridSong", "pop909_grids"]


@dataclass
class GridSong:
    """One piece as grid arrays: ``tokens`` (int16 ``[2K+2, N]``), ``bar_first`` (first column
    of every bar plus N, int32), and its ``name``."""

    tokens: np.ndarray
    bar_first: np.ndarray
    name: str = ""

    @property
    def n_bars(self) -> int:
        return len(self.bar_first) - 1

    def bar_pos(self) -> np.ndarray:
        """Step in its bar of every column (int64 ``[N]``)."""
        n = self.tokens.shape[1]
        bar = np.searchsorted(self.bar_first, np.arange(n), side="right") - 1
        return (np.arange(n) - self.bar_first[bar]).astype(np.int64)

    def windows(self, bars: int, hop: int = 1) -> list[tuple[int, int, int, int]]:
        """Windows of ``bars`` whole bars every ``hop`` bars: ``(first_bar, end_bar, start,
        end)`` (see :func:`symbolic.timeline.bar_windows`)."""
        return bar_windows(self.bar_first, bars, hop)

    def cut(self, window: tuple[int, int, int, int], width: int):
        """One window's columns padded with EMPTY to ``width`` (a longer window is cut at
        ``width`` columns). Returns (tokens int64 ``[2K+2, width]``, step in bar int64
        ``[width]``, columns used, first column of each of its bars plus the end, clipped to
        the columns used)."""
        b, e, c0, c1 = window
        c1 = min(c1, c0 + width)
        tok = np.full((self.tokens.shape[0], width), EMPTY, dtype=np.int64)
        tok[:, :c1 - c0] = self.tokens[:, c0:c1]
        pos = np.zeros(width, dtype=np.int64)
        pos[:c1 - c0] = self.bar_pos()[c0:c1]
        first = self.bar_first[b:e + 1] - c0
        return tok, pos, c1 - c0, np.minimum(first, c1 - c0)


def _encode_pop909_song(pop, i: int, vocab):
    from ..representations import grid as gr

    from .pop909 import band_parts

    song = pop.song(i)
    chords = gr.chords_from_labels(*song.chord_ticks(), song.chords.labels)
    score = band_parts(song.score) if "BASS" in vocab.track_names else song.score
    return gr.encode(score, vocab=vocab, bar_ticks=song.bar_ticks(), chords=chords)


def _read_cache(cache) -> list[GridSong]:
    with np.load(cache) as z:  # read each array once (z[key] re-reads the file)
        tokens, bars, off_t, off_b, got = (z[n] for n in ("tokens", "bars", "tok_off",
                                                          "bar_off", "ids"))
    return [GridSong(tokens[:, off_t[j]:off_t[j + 1]], bars[off_b[j]:off_b[j + 1]],
                     f"pop909/{int(i):03d}") for j, i in enumerate(got)]


def _write_cache(cache, ids, songs: list[GridSong]) -> None:
    tok_off = np.cumsum([0] + [s.tokens.shape[1] for s in songs])
    bar_off = np.cumsum([0] + [len(s.bar_first) for s in songs])
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, ids=np.array(ids), tokens=np.concatenate([s.tokens for s in songs], axis=1),
             bars=np.concatenate([s.bar_first for s in songs]), tok_off=tok_off,
             bar_off=bar_off)
    tmp.replace(cache)


def pop909_grids(split: str, vocab: str = "pop909", *, progress: bool = True,
                 path=None) -> list[GridSong]:
    """Every POP909 song of ``split`` as a :class:`GridSong` (annotated bars and chords), cached
    in ``cache_dir('getdiff')`` after the first call (a few seconds per hundred songs)."""
    from ..representations.grid import as_vocab
    from .pop909 import Pop909

    pop = Pop909(path)
    ids = pop.available(split)
    v = as_vocab(vocab)
    cache = cache_dir("getdiff") / f"pop909-{split}-{v.name}-{len(v)}-{len(ids)}.npz"
    if cache.is_file():
        return _read_cache(cache)
    from tqdm.auto import tqdm

    out = []
    for i in tqdm(ids, desc=f"POP909 {split} grids", disable=not progress):
        g = _encode_pop909_song(pop, i, v)
        out.append(GridSong(g.tokens.astype(np.int16),
                            g.meta.grid.bar_first_step.astype(np.int32), f"pop909/{i:03d}"))
    _write_cache(cache, ids, out)
    return out
