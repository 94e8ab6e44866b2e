"""Composing with GETDiff: infill tracks over bars of a score, or write a song from chords.

::

    import symbolic
    song = symbolic.load("song.mid")                      # tracks named melody/piano/...
    out = symbolic.infill(song, tracks=["piano"], bars=(9, 16), seed=1)
    new = symbolic.compose(chords="C G Am F | F G C C", bars=16, seed=0)

**Tracks.** The model (default: the shipped POP909 model, tracks MELODY, BRIDGE, PIANO plus
chords) sees each input track through the model track it maps to (:mod:`symbolic.tracks`):
``track_map`` (input track name or index -> model track, or None to leave the track out)
first, else the track's name (``melody``, ``lead``, ``vocal``... -> MELODY; ``bridge``,
``counter``, ``harmony``... -> BRIDGE; ``piano``, ``accompaniment``, ``keys``... -> PIANO; a
name containing one as a word, such as ``Acoustic Grand Piano``, counts), else, for a track
with no telling name (empty, ``Track 3``...), its program (pianos, chromatic percussion and
organs -> PIANO); drum tracks map to nothing.
A track that maps to nothing is kept unchanged in the output and not shown to the model
(a :class:`UserWarning` names it, unless ``track_map`` left it out); a requested target that
maps to nothing raises :class:`~symbolic.errors.TrackMappingError`.

**What is kept.** Every note of the input is kept bit for bit, except the notes of a target
track whose onset lies inside its region: those are replaced by generated notes (onsets in
the region only). Tracks, tempos, signatures, controls and other tracks are untouched.

**Chords.** ``chords``: a progression string (bars split by ``|``, chords in a bar share it
evenly: ``"C G | Am F"``; without ``|`` each chord takes one bar), a list of labels per bar, a
:class:`~symbolic.harmony.ChordSequence`, one of the grid codec's chord sources (``"auto"``
and ``"markers"``: the score's ``chord:`` markers, none without them, as in
:func:`symbolic.representations.grid.encode`; ``"beat"``/``"recognize"``, ``"bar"``: chords
recognized per beat or bar from every input note, mapped or not), a tuple of sources tried in
order until one gives chords (the default, ``("markers", "beat")``: the markers when the score
has them, else chords recognized per beat), or None (no chord conditioning). User chords
override recognized ones.

**Long pieces** are generated in windows of the model's ``window_bars`` (8) bars, left to
right, every ``hop`` (4) bars: each window generates the target cells not generated yet, with

what earlier windows wrote as context (windows: :func:`symbolic.timeline.bar_windows`).

Bars are numbered from 1 (``bars=(9, 16)`` is bars 9 to 16, inclusive) and follow the score's
time signatures (or ``bar_ticks``).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace

import numpy as np
import symusic
import torch

from ... import checks
from ... import tracks as trk
from ...errors import ArgumentError, TrackMappingError
from ...representations import grid as gr
from ...timeline import MetricGrid, bar_windows
from .model import ROLE_EMPTY, ROLE_SOURCE, ROLE_TARGET, GETDiff, load, sample

__all__ = ["infill", "compose", "parse_progression", "map_tracks", "TrackMappingError",
           "generate_grids", "Region", "DEFAULT_CHORDS"]

#: infill's default chords: the score's chord markers, else chords recognized per beat.
DEFAULT_CHORDS = ("markers", "beat")
_NoteList = symusic.core.NoteTickList
_CHORD_SOURCES = {"auto", "markers", "beat", "bar", "recognize"}


@dataclass(frozen=True)
class Region:
    """Generate ``track`` (a model track name) over bars ``first..last`` (1-based, inclusive)."""

    track: str
    first: int
    last: int



# =============================================================================================
# Model and track mapping
# =============================================================================================

def _model(model, device) -> GETDiff:
    if isinstance(model, GETDiff):
        from ...training import resolve_device

        return model.to(resolve_device(device)).eval()
    return load(None if model is None else str(model), device)


def map_tracks(score: symusic.Score, model_tracks: list[str],
               track_map: dict | None = None) -> list[str | None]:
    """The model track each score track maps to (None: no mapping), by ``track_map`` (input
    track name or index -> model track, or None to leave it out), then name, then program for
    unnamed tracks (see :mod:`symbolic.tracks`)."""
    parts = trk.parts_for(model_tracks)
    idx = trk.assign(score.tracks, parts, track_map=track_map, words=True, programs="unnamed")
    return [None if k is None else model_tracks[k] for k in idx]


def _target_track(name: str, score: symusic.Score, mapping, model_tracks) -> str:
    k = trk.find_part(name, trk.parts_for(model_tracks))
    if k is not None:
        return model_tracks[k]
    for tr, mt in zip(score.tracks, mapping):  # an input track's own name
        if tr.name.strip().lower() == name.strip().lower() and mt is not None:
            return mt
    raise TrackMappingError(
        f"track {name!r} is not one of the model's tracks ({', '.join(model_tracks)}) and no "
        f"input track of that name maps to one; name a model track, or pass track_map="
        f"{{{name!r}: {model_tracks[-1]!r}}}", "tracks")


def _warn_unmapped(score, mapping, model_tracks, track_map) -> None:
    left_out = {str(k).strip().lower() for k, v in (track_map or {}).items() if v is None}
    for i, (tr, m) in enumerate(zip(score.tracks, mapping)):
        if m is None and not left_out & {tr.name.strip().lower(), str(i)}:
            warnings.warn(f"track {tr.name!r} (program {tr.program}"
                          f"{', drums' if tr.is_drum else ''}) maps to none of the model's "
                          f"tracks ({', '.join(model_tracks)}): kept unchanged, not used as "
                          f"context; pass track_map={{{tr.name!r}: {model_tracks[-1]!r}}} to "
                          f"use it", stacklevel=3)


# =============================================================================================
# Chords
# =============================================================================================

def parse_progression(chords, bar_ticks: np.ndarray | None = None, *, n_bars: int | None = None):
    """Chord labels per bar from a progression: ``"C G Am F | F G C C"`` (bars split by ``|``;
    chords in one bar split it evenly) or ``"C G Am F"`` (one chord per bar), or a list whose
    items are a label or a list of labels (one item per bar). With ``bar_ticks`` (bar starts
    plus the end), returns a :class:`~symbolic.harmony.ChordSequence` over them, the
    progression repeated to cover every bar; else the list of bars (each a list of
    :class:`~symbolic.harmony.Chord`)."""
    from ...harmony import Chord, ChordSequence

    if isinstance(chords, str):
        text = chords.strip()
        if not text:
            raise ValueError("empty chord progression")
        if "|" in text:
            bars = [b.split() for b in text.strip("|").split("|")]
        else:
            bars = [[c] for c in re.split(r"[\s,]+", text) if c]
    else:
        bars = [[c] if isinstance(c, str) or not hasattr(c, "__iter__") else list(c)
                for c in chords]
    if not bars or any(len(b) == 0 for b in bars):
        raise ValueError(f"a bar of the progression {chords!r} has no chord")
    parsed = [[Chord.parse(c) for c in b] for b in bars]
    if bar_ticks is None:
        return parsed
    n = len(bar_ticks) - 1 if n_bars is None else n_bars
    starts, ends, labels = [], [], []
    for b in range(n):
        group = parsed[b % len(parsed)]
        a, e = int(bar_ticks[b]), int(bar_ticks[b + 1])
        edges = np.linspace(a, e, len(group) + 1).round().astype(np.int64)
        for j, ch in enumerate(group):
            starts.append(edges[j])
            ends.append(edges[j + 1])
            labels.append(ch)
    return ChordSequence(np.array(starts, np.int64), np.array(ends, np.int64), labels)


def _chords(chords, score, mg, markers_present: bool):
    """What :func:`symbolic.representations.grid.encode` gets for ``chords`` (see the module
    doc): a ChordSequence, "markers" or None."""
    from ...harmony import ChordSequence, recognize_chords

    if isinstance(chords, tuple) and set(chords) <= _CHORD_SOURCES:
        for source in chords:
            if source != "markers" or markers_present:
                return _chords(source, score, mg, markers_present)
        return None
    if chords is None or isinstance(chords, ChordSequence):
        return chords
    if isinstance(chords, str) and chords in ("auto", "markers"):
        return "markers"
    if isinstance(chords, str) and chords in ("bar", "beat", "recognize"):
        return recognize_chords(score, segment="bar" if chords == "bar" else "beat",
                                downbeats=mg.bar_ticks[:-1], vocabulary="getmusic")
    return parse_progression(chords, mg.bar_ticks)


# =============================================================================================
# Window-by-window generation over whole grids (a batch of pieces)
# =============================================================================================

def _bar_positions(bar_first, n: int) -> np.ndarray:
    bf = np.asarray(bar_first)
    bar = np.searchsorted(bf, np.arange(n), side="right") - 1
    return np.arange(n) - bf[np.clip(bar, 0, len(bf) - 1)]


def _window_batch(spans, j, todo, toks, rls, pos, k):
    """Window ``j`` of the pieces ``todo``, padded with EMPTY to the widest: tokens, roles and
    step-in-bar arrays."""
    width = max(spans[i][j][1] - spans[i][j][0] for i in todo)
    bt = np.full((len(todo), 2 * k + 2, width), gr.EMPTY, dtype=np.int64)
    br = np.zeros((len(todo), k + 1, width), dtype=np.int64)
    bp = np.zeros((len(todo), width), dtype=np.int64)
    for r, i in enumerate(todo):
        c0, c1 = spans[i][j]
        bt[r, :, :c1 - c0] = toks[i][:, c0:c1]
        br[r, :, :c1 - c0] = rls[i][:, c0:c1]
        bp[r, :c1 - c0] = pos[i][c0:c1]
    return bt, br, bp


def check_sampling(steps, temperature, top_p, guidance, seed) -> tuple[int, int]:
    """Check the sampling options every GETDiff call takes; returns ``(steps, seed)`` as ints
    (:class:`~symbolic.errors.ArgumentError` naming the first bad one)."""
    steps = checks.integer("steps", steps, 1, 1000)
    checks.number("temperature", temperature, 0.0, 100.0)
    checks.number("top_p", top_p, 0.0, 1.0, low_open=True)
    checks.number("guidance", guidance, 0.0, 100.0)
    return steps, checks.integer("seed", seed, 0, 2**63 - 1)


def generate_grids(model, tokens: list[np.ndarray], roles: list[np.ndarray],
                   bar_firsts: list[np.ndarray], *, steps: int = 16, temperature: float = 1.0,
                   top_p: float = 0.95, guidance: float = 1.0, seed: int = 0,
                   hop: int | None = None, window_bars: int | None = None,
                   order: str = "confidence", progress: bool = False) -> list[np.ndarray]:
    """Fill the target cells (role 2) of whole-piece grids, window by window, left to right.

    ``tokens[i]`` (``[2K+2, N_i]``), ``roles[i]`` (``[K+1, N_i]``), ``bar_firsts[i]`` (first
    column of each bar plus ``N_i``). Windows of ``window_bars`` (default the model's) bars
    every ``hop`` (default half that) bars; the pieces' windows at the same position are
    sampled as one batch (:func:`~symbolic.models.getdiff.sample`). Returns the completed
    token arrays (source cells unchanged).
    """
    from tqdm.auto import tqdm

    steps, seed = check_sampling(steps, temperature, top_p, guidance, seed)
    wb = checks.integer("window_bars", window_bars or model.window_bars, 1, checks.MAX_BARS)
    hop = checks.integer("hop", hop or max(1, wb // 2), 1, wb)
    k = model.n_tracks
    dev = next(model.parameters()).device
    toks = [np.array(t, dtype=np.int64) for t in tokens]
    rls = [np.array(r, dtype=np.int64) for r in roles]
    pos = [_bar_positions(bf, t.shape[1]) for bf, t in zip(bar_firsts, toks)]
    spans = [[(c0, c1) for _, _, c0, c1 in bar_windows(bf, wb, hop)] for bf in bar_firsts]
    gen = torch.Generator().manual_seed(int(seed))
    n_win = max(len(s) for s in spans)
    bar = tqdm(total=n_win * steps, disable=not progress, unit="step", desc="generating")
    for j in range(n_win):
        todo = [i for i, s in enumerate(spans) if j < len(s)
                and (rls[i][:k, s[j][0]:s[j][1]] == ROLE_TARGET).any()]
        if not todo:
            bar.update(steps)
            continue
        batch = (torch.from_numpy(a).to(dev) for a in _window_batch(spans, j, todo, toks, rls,
                                                                   pos, k))
        out = sample(model, *batch, steps=steps, temperature=temperature, top_p=top_p,
                     guidance=guidance, generator=gen, order=order,
                     progress=bar).cpu().numpy()
        for r, i in enumerate(todo):
            c0, c1 = spans[i][j]
            toks[i][:, c0:c1] = out[r, :, :c1 - c0]
            w = rls[i][:k, c0:c1]
            w[w == ROLE_TARGET] = ROLE_SOURCE  # generated: context for the next windows
    bar.close()
    return toks


# =============================================================================================
# infill / compose
# =============================================================================================

def _regions(tracks, bars, regions, score, mapping, model_tracks, n_bars) -> list[Region]:
    out = []
    for r in regions or ():
        if isinstance(r, Region):
            t, first, last = r.track, r.first, r.last
        else:
            t, (first, last) = r
        out.append(Region(_target_track(t, score, mapping, model_tracks), int(first), int(last)))
    if tracks is not None:
        if isinstance(tracks, str):
            tracks = [tracks]
        first, last = (1, n_bars) if bars is None else (int(bars[0]), int(bars[1]))
        out += [Region(_target_track(t, score, mapping, model_tracks), first, last)
                for t in tracks]
    if not out:
        raise ArgumentError("nothing to generate: give tracks (and bars) or regions", "tracks")
    for r in out:
        if not 1 <= r.first <= r.last:
            raise ArgumentError(f"must be 1 <= first <= last, got {r.first}-{r.last}", "bars")
        if r.first > n_bars:
            raise ArgumentError(f"bar {r.first} is past the end of the score ({n_bars} bars)",
                                "bars")
    return out


def _prepare(score, model, mapping, chords, bar_ticks):
    """Encode the mapped tracks of ``score`` as the model's grid."""
    vocab = gr.as_vocab(model.config["vocab"])
    view = symusic.Score(score.ticks_per_quarter)
    view.tempos = score.tempos
    view.time_signatures = score.time_signatures
    view.key_signatures = score.key_signatures
    view.markers = score.markers
    for tr, m in zip(score.tracks, mapping):
        if m is not None:
            t = tr.copy()
            t.name = m
            view.tracks.append(t)
    mg = MetricGrid.from_score(score, resolution=vocab.resolution, bar_ticks=bar_ticks)
    has_markers = any(m.text.startswith(gr.MARKER_PREFIX) for m in score.markers)
    g = gr.encode(view, vocab=vocab, grid=mg, chords=_chords(chords, score, mg, has_markers))
    return g, mg


def _score_in(score):
    """A tick-time Score from a Score or anything :func:`symbolic.load` reads, within
    :data:`symbolic.limits.DEFAULT` (a Score built in code is checked like a loaded file)."""
    from ...io import load
    from ...limits import check_score
    from ...timeline import as_tick

    if isinstance(score, symusic.Score):
        return check_score(as_tick(score), "score")
    return as_tick(load(score))


def _infill_roles(g, mg, regs, model_tracks):
    """Tokens and roles of an infill: every present track and the chords given, the regions
    of the target tracks to generate (a target track the score lacks is silent elsewhere)."""
    k = len(model_tracks)
    tok = g.tokens.astype(np.int64)
    role = np.zeros((k + 1, tok.shape[1]), dtype=np.int64)
    for j in range(k):
        if not (tok[2 * j] == gr.EMPTY).all():
            role[j] = ROLE_SOURCE
    role[k] = ROLE_EMPTY if (tok[2 * k] == gr.EMPTY).all() else ROLE_SOURCE
    first = mg.bar_first_step
    for r in regs:
        j = model_tracks.index(r.track)
        c0, c1 = int(first[r.first - 1]), int(first[min(r.last, mg.n_bars)])
        if role[j].max() == ROLE_EMPTY:  # a new track: silent outside its regions
            tok[2 * j:2 * j + 2] = gr.PAD
            role[j] = ROLE_SOURCE
        role[j, c0:c1] = ROLE_TARGET
    return tok, role


def infill(score, tracks=None, bars=None, *, regions=None, chords=DEFAULT_CHORDS, model=None,
           steps: int = 16, temperature: float = 1.0, top_p: float = 0.95,
           guidance: float = 1.0, seed: int = 0, device: str = "auto",
           track_map: dict | None = None, bar_ticks=None, order: str = "confidence",
           progress: bool = False):
    """Regenerate ``tracks`` over ``bars`` (1-based, inclusive; None: the whole piece) of
    ``score`` (a Score or anything :func:`symbolic.load` reads), keeping every other note.

    ``regions``: more (track, (first, last)) pairs or :class:`Region` s. ``chords``: see the
    module doc. ``track_map``: input track name or index -> model track, or None to leave the
    track out. ``steps``: sampling steps per window; ``temperature`` (0: greedy), ``top_p``,
    ``guidance`` (classifier-free chord guidance weight), ``order`` (which drawn cells to keep
    at each step, see :data:`symbolic.models.sampling.UNMASK_ORDERS`) and ``seed`` shape the
    draw. ``model``: a GETDiff, a folder, or None (the shipped weights). Returns a new
    tick-time Score.
    """
    check_sampling(steps, temperature, top_p, guidance, seed)
    score = _score_in(score)
    model = _model(model, device)
    model_tracks = list(model.tracks)
    mapping = map_tracks(score, model_tracks, track_map)
    _warn_unmapped(score, mapping, model_tracks, track_map)
    g, mg = _prepare(score, model, mapping, chords, bar_ticks)
    regs = _regions(tracks, bars, regions, score, mapping, model_tracks, mg.n_bars)
    tok, role = _infill_roles(g, mg, regs, model_tracks)
    out = generate_grids(model, [tok], [role], [mg.bar_first_step], steps=steps,
                         temperature=temperature, top_p=top_p, guidance=guidance, seed=seed,
                         order=order, progress=progress)[0]
    return _merge(score, g, out, regs, mapping, mg)


def _merge(score, g, tokens, regs, mapping, mg):
    """The input score with generated notes put in the regions of the target tracks."""
    decoded = gr.decode(replace(g, tokens=tokens.astype(g.tokens.dtype)), chord_markers=False,
                        overlaps="trim")
    by_name = {t.name: t for t in decoded.tracks}
    result = score.copy()
    bt = mg.bar_ticks
    for name in dict.fromkeys(r.track for r in regs):
        spans = [(int(bt[r.first - 1]), int(bt[min(r.last, mg.n_bars)])) for r in regs
                 if r.track == name]
        idx = [i for i, m in enumerate(mapping) if m == name]
        if idx:
            dest = result.tracks[idx[0]]
        else:
            tm = g.track_map.tracks[g.track_map.names.index(name)]
            dest = symusic.core.TrackTick(name.lower(), tm.program, tm.is_drum)
            result.tracks.append(dest)
            dest = result.tracks[-1]

        def inside(t: np.ndarray) -> np.ndarray:
            return np.any([(t >= a) & (t < b) for a, b in spans], axis=0)

        def pick(notes, keep: np.ndarray) -> dict:
            arr = notes.numpy()
            return {k: v[keep(arr["time"])] for k, v in arr.items()}

        for i in idx:  # drop the old notes of the regions (the others stay, value for value)
            tr = result.tracks[i]
            if len(tr.notes) and inside(tr.notes.numpy()["time"]).any():
                kept = pick(tr.notes, lambda t: ~inside(t))
                tr.notes = _NoteList.from_numpy(kept["time"], kept["duration"], kept["pitch"],
                                                kept["velocity"])
        if name in by_name and len(by_name[name].notes):
            new = pick(by_name[name].notes, inside)
            if len(new["time"]):
                old = dest.notes.numpy() if len(dest.notes) else {k: v[:0] for k, v in new.items()}
                cat = {k: np.concatenate([old[k], new[k].astype(old[k].dtype)]) for k in new}
                # New notes give way to the kept ones of their pitch (a MIDI file holds no
                # overlapping notes of one pitch); the kept ones stay value for value.
                fresh = np.arange(len(cat["time"])) >= len(old["time"])
                dur, ok = gr.trim_overlaps(cat["time"], cat["duration"], cat["pitch"], fresh)
                cat = {k: v[ok] for k, v in cat.items()}
                cat["duration"] = dur[ok].astype(old["duration"].dtype)
                order = np.lexsort((cat["pitch"], cat["time"]))
                dest.notes = _NoteList.from_numpy(*(cat[k][order] for k in
                                                    ("time", "duration", "pitch", "velocity")))
    return result


def _compose_grid(score, vocab, chords, n_bars: int, bar_len: int):
    """The empty grid of ``n_bars`` bars of ``score``'s meter with ``chords`` written in."""
    mg = MetricGrid.from_score(score, resolution=vocab.resolution, end=bar_len * n_bars)
    mg = MetricGrid(mg.ticks_per_quarter, mg.resolution, mg.bar_ticks[:n_bars + 1],
                    mg.steps_per_bar[:n_bars], mg.numerators[:n_bars], mg.denominators[:n_bars])
    seq = parse_progression(chords, mg.bar_ticks, n_bars=n_bars)
    return gr.encode(score, vocab=vocab, grid=mg, chords=seq), mg


def compose(chords, bars: int | None = None, tracks=None, *, tempo: float = 100.0,
            time_signature: tuple[int, int] = (4, 4), ticks_per_quarter: int = 480,
            model=None, steps: int = 16, temperature: float = 1.0, top_p: float = 0.95,
            guidance: float = 1.0, seed: int = 0, device: str = "auto",
            order: str = "confidence", progress: bool = False) -> symusic.Score:
    """A new piece from a chord progression alone (see :func:`parse_progression`), ``bars``
    long (default: the progression's length; a shorter progression repeats), with ``tracks``
    (default all of the model's). The result carries the chords as ``chord:`` markers."""
    model = _model(model, device)
    model_tracks = list(model.tracks)
    n_bars = checks.integer("bars", len(parse_progression(chords)) if bars is None else bars, 1,
                            checks.MAX_BARS)
    tempo = checks.number("tempo", tempo, 0.0, checks.MAX_TEMPO_QPM, low_open=True)
    num, den = checks.time_signature(time_signature)
    ticks_per_quarter = checks.integer("ticks_per_quarter", ticks_per_quarter, 1, 32767)
    score = symusic.Score(ticks_per_quarter)
    score.tempos.append(symusic.Tempo(0, qpm=float(tempo)))
    score.time_signatures.append(symusic.TimeSignature(0, num, den))
    g, mg = _compose_grid(score, gr.as_vocab(model.config["vocab"]), chords, n_bars,
                          ticks_per_quarter * 4 * num // den)
    if tracks is None:
        targets = model_tracks
    else:
        targets = [_target_track(t, score, [], model_tracks) for t in
                   ([tracks] if isinstance(tracks, str) else tracks)]
    k = model.n_tracks
    tok = g.tokens.astype(np.int64)
    role = np.zeros((k + 1, tok.shape[1]), dtype=np.int64)
    role[k] = ROLE_SOURCE
    for t in targets:
        j = model_tracks.index(t)
        tok[2 * j:2 * j + 2] = gr.PAD
        role[j] = ROLE_TARGET
    out = generate_grids(model, [tok], [role], [mg.bar_first_step], steps=steps,
                         temperature=temperature, top_p=top_p, guidance=guidance, seed=seed,
                         order=order, progress=progress)[0]
    result = gr.decode(replace(g, tokens=out.astype(g.tokens.dtype)), overlaps="trim")
    for tr in result.tracks:
        tr.name = tr.name.lower()
    return result
