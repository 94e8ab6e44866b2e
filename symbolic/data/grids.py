"""Corpora as GETScore grids (:mod:`symbolic.representations.grid`), cached on disk: what grid
models (GETDiff) train and are evaluated on.

:func:`pop909_grids` encodes every POP909 song of a split with its annotated bars and chords;
:func:`chorale_grids` every Bach chorale of a split (music21's corpus) as four voices
(:func:`~symbolic.data.music21_corpus.load_chorale`) with its measures as bars, chords
recognized per beat (:func:`symbolic.harmony.recognize_chords`: chorales have no annotations)
and its fermata columns; a :class:`GridSong` holds one piece's token array and bar starts, and cuts bar windows of it
(:func:`symbolic.timeline.bar_windows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..representations.grid import EMPTY
from ..timeline import MetricGrid, bar_windows, meter_changes
from .cache import cache_dir

__all__ = ["GridSong", "pop909_grids", "chorale_grids", "encode_chorale"]


@dataclass
class GridSong:
    """One piece as grid arrays: ``tokens`` (int16 ``[2K+2, N]``), ``bar_first`` (first column
    of every bar plus N, int32), its ``name``, and ``fermatas``: the columns of its fermata
    onsets (int32, ascending; empty for a corpus without them)."""

    tokens: np.ndarray
    bar_first: np.ndarray
    name: str = ""
    fermatas: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

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


def _read_cache(cache, names) -> list[GridSong]:
    with np.load(cache) as z:  # read each array once (z[key] re-reads the file)
        tokens, bars, off_t, off_b = (z[n] for n in ("tokens", "bars", "tok_off", "bar_off"))
        ferm, off_f = (z["fermatas"], z["ferm_off"]) if "fermatas" in z else (None, None)
    return [GridSong(tokens[:, off_t[j]:off_t[j + 1]], bars[off_b[j]:off_b[j + 1]], name,
                     *(() if ferm is None else (ferm[off_f[j]:off_f[j + 1]],)))
            for j, name in enumerate(names)]


def _write_cache(cache, ids, songs: list[GridSong]) -> None:
    tok_off = np.cumsum([0] + [s.tokens.shape[1] for s in songs])
    bar_off = np.cumsum([0] + [len(s.bar_first) for s in songs])
    ferm_off = np.cumsum([0] + [len(s.fermatas) for s in songs])
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, ids=np.array(ids), tokens=np.concatenate([s.tokens for s in songs], axis=1),
             bars=np.concatenate([s.bar_first for s in songs]), tok_off=tok_off,
             bar_off=bar_off, ferm_off=ferm_off,
             fermatas=np.concatenate([s.fermatas for s in songs]).astype(np.int32))
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
        return _read_cache(cache, [f"pop909/{int(i):03d}" for i in ids])
    from tqdm.auto import tqdm

    out = []
    for i in tqdm(ids, desc=f"POP909 {split} grids", disable=not progress):
        g = _encode_pop909_song(pop, i, v)
        out.append(GridSong(g.tokens.astype(np.int16),
                            g.meta.grid.bar_first_step.astype(np.int32), f"pop909/{i:03d}"))
    _write_cache(cache, ids, out)
    return out


def _measure_grid(score, bar_ticks, resolution: int) -> MetricGrid:
    """Measures as bars, each with the meter of its time signature: bars alone would read a 3/2
    or a 12/8 bar as 6/4, and chords per beat would come per quarter there, not per half or
    dotted quarter."""
    g = MetricGrid.from_score(score, resolution=resolution, bar_ticks=bar_ticks)
    ticks, nums, dens = meter_changes(score, before_first=None)
    k = np.searchsorted(ticks, g.bar_ticks[:-1], side="right") - 1
    return MetricGrid(g.ticks_per_quarter, resolution, g.bar_ticks, g.steps_per_bar, nums[k],
                      dens[k])


def encode_chorale(name: str, vocab="satb"):
    """One chorale of music21's corpus as a :class:`~symbolic.representations.grid.Grid` (four
    voices; measures as bars, with their time signature's meter, a pickup a bar of its own;
    chords recognized per beat) and its fermata columns (int32).
    What the grid loses is in the grid's ``report`` (onsets off the 16th-note grid, durations
    rounded to a class, two voices' notes merged into one cell: see
    :mod:`symbolic.representations.grid`)."""
    from ..representations import grid as gr

    from .music21_corpus import chorale_marks, load_chorale

    marks = chorale_marks(name)
    score = load_chorale(name, fermata_markers=False)
    g = gr.encode(score, vocab=vocab, chords="beat", source=name,
                  grid=_measure_grid(score, marks.bar_ticks, gr.as_vocab(vocab).resolution))
    step_ticks = g.meta.grid.step_ticks()
    cols = np.searchsorted(step_ticks, marks.fermatas, side="right") - 1
    return g, np.unique(np.clip(cols, 0, g.tokens.shape[1] - 1)).astype(np.int32)


def chorale_grids(split: str, vocab: str = "satb", *, progress: bool = True) -> list[GridSong]:
    """Every Bach chorale of ``split`` ('train', 'valid', 'test', 'all': the fixed split of
    :func:`~symbolic.data.music21_corpus.piece_names`) as a :class:`GridSong` with its fermata
    columns (:func:`encode_chorale`), cached in ``cache_dir('getdiff')`` after the first call
    (about 20 chorales a second)."""
    from ..representations.grid import as_vocab
    from .music21_corpus import piece_names

    names = piece_names("bach_chorales", split)
    v = as_vocab(vocab)
    cache = cache_dir("getdiff") / f"chorales-{split}-{v.name}-{len(v)}-{len(names)}.npz"
    if cache.is_file():
        return _read_cache(cache, names)
    from tqdm.auto import tqdm

    out = []
    for name in tqdm(names, desc=f"chorale {split} grids", disable=not progress):
        g, fermatas = encode_chorale(name, v)
        out.append(GridSong(g.tokens.astype(np.int16),
                            g.meta.grid.bar_first_step.astype(np.int32), name, fermatas))
    _write_cache(cache, list(range(len(names))), out)
    return out
