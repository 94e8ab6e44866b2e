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
from ...errors import ArgumentError, ChordLabelError, TrackMappingError
from ...io import score_with_bars
from ...representations import grid as gr
from ...timeline import MetricGrid, bar_windows
from ..sampling import MAX_GIBBS_PASSES
from . import controls as ctl
from .model import (MARK_FERMATA, MARK_PLAIN, MARK_UNKNOWN, ROLE_EMPTY, ROLE_SOURCE,
                    ROLE_TARGET, GETDiff, load, sample)
from .plan import plan_message, plan_tracks

__all__ = ["infill", "compose", "parse_progression", "map_tracks", "TrackMappingError",
           "generate_grids", "Region", "Candidate", "DEFAULT_CHORDS", "score_marks", "MODELS",
           "resolve_model"]

#: infill's default chords: the score's chord markers, else chords recognized per beat.
DEFAULT_CHORDS = ("markers", "beat")
_NoteList = symusic.core.NoteTickList
_CHORD_SOURCES = {"auto", "markers", "beat", "bar", "recognize"}


class ProgressionError(ArgumentError, ChordLabelError):
    """A chord of a progression cannot be parsed: a bad ``chords`` argument (CLI exit 2) and a
    :class:`~symbolic.errors.ChordLabelError`."""


@dataclass(frozen=True)
class Region:
    """Generate ``track`` (a model track name) over bars ``first..last`` (1-based, inclusive)."""

    track: str
    first: int
    last: int



# =============================================================================================
# Model and track mapping
# =============================================================================================

#: Short names of the shipped GETDiff weights (``model="chorales"``).
MODELS = {"band": "getdiff-band", "chorales": "getdiff-chorales", "pop909": "getdiff-pop909"}


def resolve_model(model, device: str = "auto") -> GETDiff:
    """A GETDiff ready to sample: ``model`` itself (moved to ``device``), a short name of
    :data:`MODELS`, a shipped name, a folder, or None (the shipped default)."""
    if isinstance(model, GETDiff):
        from ...training import resolve_device

        return model.to(resolve_device(device)).eval()
    if model is not None and not isinstance(model, (str, bytes)) and not hasattr(model,
                                                                                 "__fspath__"):
        raise ArgumentError(f"must be a GETDiff, a shipped name ({', '.join(MODELS)}) or a "
                            f"folder, got {type(model).__name__}", "model")
    name = None if model is None else str(model)
    return load(MODELS.get(name, name), device)


def map_tracks(score: symusic.Score, model_tracks: list[str],
               track_map: dict | None = None) -> list[str | None]:
    """The model track each score track maps to (None: no mapping), by ``track_map`` (input
    track name or index -> model track, or None to leave it out), then name, then program for
    unnamed tracks (see :mod:`symbolic.tracks`)."""
    parts = trk.parts_for(model_tracks)
    idx = trk.assign(score.tracks, parts, track_map=track_map, words=True, programs="unnamed")
    return [None if k is None else model_tracks[k] for k in idx]


def _compose_targets(tracks, model) -> list[str]:
    """The model tracks ``compose`` writes: ``tracks`` (part names or aliases), or every
    track the model writes (not its context row)."""
    writable = [t for t in model.tracks if t not in model.context_tracks]
    if tracks is None:
        return writable
    if not isinstance(tracks, (str, list, tuple)):
        raise ArgumentError(f"must be a part name or a list of them, got {tracks!r}", "tracks")
    names = [tracks] if isinstance(tracks, str) else list(tracks)
    if not names:
        raise ArgumentError("is empty: name at least one part to write", "tracks")
    out = []
    parts = trk.parts_for(model.tracks)
    for name in names:
        k = trk.find_part(str(name), parts)
        if k is None or model.tracks[k] not in writable:
            raise TrackMappingError(f"{name!r} is not a part the model writes "
                                    f"({', '.join(writable)})", "tracks")
        out.append(model.tracks[k])
    return list(dict.fromkeys(out))


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
            raise ArgumentError("must name at least one chord (e.g. 'C G Am F'), got an empty "
                                "progression", "chords")
        if "|" in text:
            bars = [b.split() for b in text.strip("|").split("|")]
        else:
            bars = [[c] for c in re.split(r"[\s,]+", text) if c]
    elif isinstance(chords, (list, tuple)):
        bars = [[c] if isinstance(c, str) or not hasattr(c, "__iter__") else list(c)
                for c in chords]
    else:
        raise ArgumentError("must be a progression string ('C G Am F' or 'C G | Am F') or a "
                            f"list of chord labels, got {type(chords).__name__}", "chords")
    if not bars or any(len(b) == 0 for b in bars):
        raise ArgumentError(f"every bar needs a chord; a bar of {chords!r} has none", "chords")
    try:
        parsed = [[Chord.parse(c) for c in b] for b in bars]
    except ChordLabelError as e:
        raise ProgressionError(str(e), "chords") from e
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


def _window_controls(controls, todo, k, dev):
    """The sampler's ``allowed`` (per track: bool ``[B, classes]`` or None) and ``density``
    (``[B, K]``, NaN: free) for the pieces ``todo`` of a window (None: no controls)."""
    if controls is None:
        return None, None
    dens = torch.tensor(np.stack([controls[i]["density"] for i in todo]), dtype=torch.float32,
                        device=dev)
    allowed = []
    for j in range(k):
        rows = [controls[i]["allowed"][j] for i in todo]
        if all(r is None for r in rows):
            allowed.append(None)
            continue
        n = next(len(r) for r in rows if r is not None)
        allowed.append(torch.tensor(np.stack([np.ones(n, bool) if r is None else r
                                              for r in rows]), device=dev))
    return allowed, (None if torch.isnan(dens).all() else dens)


def _window_batch(spans, j, todo, toks, rls, pos, k, marks=None):
    """Window ``j`` of the pieces ``todo``, padded with EMPTY to the widest: tokens, roles,
    step-in-bar and column-mark arrays (marks: MARK_UNKNOWN where ``marks`` or a piece's
    entry is None)."""
    width = max(spans[i][j][1] - spans[i][j][0] for i in todo)
    bt = np.full((len(todo), 2 * k + 2, width), gr.EMPTY, dtype=np.int64)
    br = np.zeros((len(todo), k + 1, width), dtype=np.int64)
    bp = np.zeros((len(todo), width), dtype=np.int64)
    bm = np.full((len(todo), width), MARK_UNKNOWN, dtype=np.int64)
    for r, i in enumerate(todo):
        c0, c1 = spans[i][j]
        bt[r, :, :c1 - c0] = toks[i][:, c0:c1]
        br[r, :, :c1 - c0] = rls[i][:, c0:c1]
        bp[r, :c1 - c0] = pos[i][c0:c1]
        if marks is not None and marks[i] is not None:
            bm[r, :c1 - c0] = marks[i][c0:c1]
    return bt, br, bp, bm


def check_sampling(steps, temperature, top_p, guidance, seed, resample=0) -> tuple[int, int]:
    """Check the sampling options every GETDiff call takes; returns ``(steps, seed)`` as ints
    (:class:`~symbolic.errors.ArgumentError` naming the first bad one)."""
    steps = checks.integer("steps", steps, 1, 1000)
    checks.integer("resample", resample, 0, MAX_GIBBS_PASSES)
    checks.number("temperature", temperature, 0.0, 100.0)
    checks.number("top_p", top_p, 0.0, 1.0, low_open=True)
    checks.number("guidance", guidance, 0.0, 100.0)
    return steps, checks.integer("seed", seed, 0, 2**63 - 1)


def generate_grids(model, tokens: list[np.ndarray], roles: list[np.ndarray],
                   bar_firsts: list[np.ndarray], *, steps: int = 16, temperature: float = 1.0,
                   top_p: float = 0.95, guidance: float = 1.0, seed: int = 0,
                   hop: int | None = None, window_bars: int | None = None,
                   order: str = "random", progress: bool = False,
                   controls: list | None = None, scores: list | None = None,
                   resample: int = 0, marks: list | None = None) -> list[np.ndarray]:
    """Fill the target cells (role 2) of whole-piece grids, window by window, left to right.

    ``tokens[i]`` (``[2K+2, N_i]``), ``roles[i]`` (``[K+1, N_i]``), ``bar_firsts[i]`` (first
    column of each bar plus ``N_i``). Windows of ``window_bars`` (default the model's) bars
    every ``hop`` (default half that) bars; the pieces' windows at the same position are
    sampled as one batch (:func:`~symbolic.models.getdiff.sample`). ``controls[i]``: piece
    ``i``'s ``{"density": [K] onsets per column (NaN: free), "allowed": [K] bool per onset
    class or None}``. ``scores``: a list that receives each piece's model score (mean
    log-probability per target cell, see :func:`~symbolic.models.getdiff.sample`).
    ``resample``: Gibbs-style rewrite passes per window after its schedule (0 to 100, each of
    ``steps // 2`` steps; see :func:`~symbolic.models.getdiff.sample`). ``marks[i]``: piece
    ``i``'s column marks (int ``[N_i]``, or None: unknown) for a model with ``column_marks``
    (see :func:`score_marks`). Returns the completed token arrays (source cells unchanged).
    """
    from tqdm.auto import tqdm

    steps, seed = check_sampling(steps, temperature, top_p, guidance, seed, resample)
    per_window = steps + int(resample) * max(1, steps // 2)
    wb = checks.integer("window_bars", window_bars or model.window_bars, 1, checks.MAX_BARS)
    hop = checks.integer("hop", hop or max(1, wb // 2), 1, wb)
    k = model.n_tracks
    dev = next(model.parameters()).device
    toks = [np.array(t, dtype=np.int64) for t in tokens]
    rls = [np.array(r, dtype=np.int64) for r in roles]
    pos = [_bar_positions(bf, t.shape[1]) for bf, t in zip(bar_firsts, toks)]
    spans = [[(c0, c1) for _, _, c0, c1 in bar_windows(bf, wb, hop)] for bf in bar_firsts]
    gen = torch.Generator().manual_seed(int(seed))
    total = np.zeros(len(toks))
    cells = np.array([max(int((r[:k] == ROLE_TARGET).sum()), 1) for r in rls])
    n_win = max(len(s) for s in spans)
    bar = tqdm(total=n_win * per_window, disable=not progress, unit="step", desc="generating")
    for j in range(n_win):
        todo = [i for i, s in enumerate(spans) if j < len(s)
                and (rls[i][:k, s[j][0]:s[j][1]] == ROLE_TARGET).any()]
        if not todo:
            bar.update(per_window)
            continue
        *batch, bm = [torch.from_numpy(a).to(dev)
                      for a in _window_batch(spans, j, todo, toks, rls, pos, k, marks)]
        allowed, dens = _window_controls(controls, todo, k, dev)
        got: list = []
        out = sample(model, *batch, steps=steps, temperature=temperature, top_p=top_p,
                     guidance=guidance, generator=gen, order=order, progress=bar,
                     allowed=allowed, density=dens, scores=got, resample=int(resample),
                     marks=bm if model.column_marks else None).cpu().numpy()
        n_t = (batch[1][:, :k] == ROLE_TARGET).sum((1, 2)).cpu().numpy()
        for r, i in enumerate(todo):
            total[i] += got[r] * n_t[r]
            c0, c1 = spans[i][j]
            toks[i][:, c0:c1] = out[r, :, :c1 - c0]
            w = rls[i][:k, c0:c1]
            w[w == ROLE_TARGET] = ROLE_SOURCE  # generated: context for the next windows
    bar.close()
    if scores is not None:
        scores.extend((total / cells).tolist())
    return toks


# =============================================================================================
# infill / compose
# =============================================================================================

def _pair(value, name: str) -> tuple:
    """``value`` as a pair (bars ``(first, last)``, a region ``(track, (first, last))``)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ArgumentError(f"must be a pair such as (9, 16), got {value!r}", name)
    return tuple(value)


def _regions(tracks, bars, regions, n_bars) -> list[tuple[str, int, int]]:
    """(requested name, first, last) per region, checked against the score's ``n_bars``."""
    out = []
    for r in regions or ():
        if isinstance(r, Region):
            out.append((r.track, r.first, r.last))
        else:
            t, span = _pair(r, "regions")
            out.append((t, *_pair(span, "regions")))
    if tracks is not None:
        if isinstance(tracks, str):
            tracks = [tracks]
        if not isinstance(tracks, (list, tuple)):
            raise ArgumentError(f"must be a track name or a list of them, got {tracks!r}",
                                "tracks")
        if not len(tracks):
            raise ArgumentError("is empty: name at least one track to generate", "tracks")
        first, last = (1, n_bars) if bars is None else _pair(bars, "bars")
        out += [(t, first, last) for t in tracks]
    if not out:
        raise ArgumentError("nothing to generate: give tracks (and bars) or regions", "tracks")
    checked = []
    for t, first, last in out:
        first = checks.integer("bars", first, 1, checks.MAX_BARS)
        last = checks.integer("bars", last, 1, checks.MAX_BARS)
        if first > last:
            raise ArgumentError(f"must be 1 <= first <= last, got {first}-{last}", "bars")
        if first > n_bars:
            raise ArgumentError(f"bar {first} is past the end of the score ({n_bars} bars)",
                                "bars")
        checked.append((str(t), first, min(last, n_bars)))
    return checked


def _prepare(score, model, mapping, chords, mg):
    """Encode the tracks of ``score`` that ``mapping`` gives a model track as the model's
    grid (tracks on one model track merge)."""
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
    has_markers = any(m.text.startswith(gr.MARKER_PREFIX) for m in score.markers)
    return gr.encode(view, vocab=vocab, grid=mg, chords=_chords(chords, score, mg, has_markers))


def score_marks(score: symusic.Score, mg: MetricGrid) -> np.ndarray | None:
    """Column marks of ``score`` on ``mg`` for a model with ``column_marks``: MARK_FERMATA at
    the column of every ``"fermata"`` marker (as :func:`symbolic.data.music21_corpus.load_chorale`
    and :func:`symbolic.harmonize` write them), MARK_PLAIN elsewhere; None (unknown) for a
    score without such markers."""
    from ...data.music21_corpus import FERMATA

    ticks = [m.time for m in score.markers if m.text == FERMATA]
    if not ticks:
        return None
    out = np.full(mg.n_steps, MARK_PLAIN, dtype=np.int64)
    cols = mg.ticks_to_steps(np.asarray(ticks, dtype=np.int64), how="floor")
    out[cols[(cols >= 0) & (cols < mg.n_steps)]] = MARK_FERMATA
    return out


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


@dataclass(frozen=True)
class Candidate:
    """One of ``candidates=N`` results: the ``score`` (a Score), the model's ``log_prob``
    (mean log-probability per generated grid cell under the plain model: higher is more
    typical of what it learned), the ``rank`` (1: best) and the ``seed`` that drew it."""

    score: symusic.Score
    log_prob: float
    rank: int
    seed: int


def _spans(regs, mg, role):
    bt = mg.bar_ticks
    return [(int(bt[r.first - 1]), int(bt[min(r.last, mg.n_bars)])) for r in regs
            if r.track == role]


def _inside(t: np.ndarray, spans) -> np.ndarray:
    """Whether each tick of ``t`` lies in one of the ``[start, end)`` spans."""
    inside = np.zeros(len(t), dtype=bool)
    for a, b in spans:
        inside |= (t >= a) & (t < b)
    return inside


def _notes(track) -> dict:
    if track is None or not len(track.notes):
        return {k: np.zeros(0, np.int64) for k in ("time", "duration", "pitch", "velocity")}
    return track.notes.numpy()


def _controls(score, model, plan, regs, mg, vocab, user: dict) -> dict:
    """The sampler's controls for one infill (see :mod:`.controls`)."""
    k = model.n_tracks
    tables = ctl.class_tables(model, vocab)
    out = {"density": np.full(k, np.nan), "allowed": [None] * k}
    for role, idx in plan.writes.items():
        j = model.tracks.index(role)
        spans = _spans(regs, mg, role)
        notes = _notes(None if idx is None else score.tracks[idx])
        ins = _inside(notes["time"], spans)
        steps = mg.ticks_to_steps(notes["time"]) if len(notes["time"]) else notes["time"]
        bars = [r for r in regs if r.track == role]
        first = mg.bar_first_step
        cols_in = sum(int(first[r.last] - first[r.first - 1]) for r in bars)
        spb = float(np.mean([mg.steps_per_bar[b - 1] for r in bars
                             for b in range(r.first, r.last + 1)]))
        c = ctl.resolve_controls(role, {key: v[ins] for key, v in notes.items()}, steps[ins],
                                 cols_in, {key: v[~ins] for key, v in notes.items()},
                                 steps[~ins], mg.n_steps - cols_in,
                                 model.role_stats.get(role), spb, **user)
        if c.density is not None:
            out["density"][j] = c.density
        out["allowed"][j] = ctl.allowed_classes(tables[j], c)
    return out


def _bars_of(score, bar_ticks, meter):
    """The bar lines infill counts in: ``bar_ticks``, the user's ``meter`` (the declared
    signatures stay in the output), or the declared meter, with a warning when it cannot be
    the music's (:func:`symbolic.timeline.implausible_meter`)."""
    from ...timeline import implausible_meter, with_meter

    if meter is not None:
        if bar_ticks is not None:
            raise ArgumentError("give the meter or the bar lines (bar_ticks), not both", "meter")
        return MetricGrid.from_score(with_meter(score, meter), resolution=4).bar_ticks
    if bar_ticks is None:
        msg = implausible_meter(score)
        if msg:
            warnings.warn(f"the score {msg}; bars are counted as declared: pass meter='4/4' "
                          f"(command line: --meter 4/4) if the music is in 4/4", stacklevel=3)
    return bar_ticks


def infill(score, tracks=None, bars=None, *, regions=None, chords=DEFAULT_CHORDS, model=None,
           steps: int = 16, temperature: float = 1.0, top_p: float = 0.95,
           guidance: float = 1.0, seed: int = 0, device: str = "auto",
           track_map: dict | None = None, bar_ticks=None, meter=None, order: str = "random",
           density=ctl.AUTO, pitch_range=ctl.AUTO, polyphony=ctl.AUTO,
           candidates: int | None = None, progress: bool = False, resample: int = 0):
    """Regenerate ``tracks`` over ``bars`` (1-based, inclusive; None: the whole piece) of
    ``score`` (a Score, a POP909 song, or anything :func:`symbolic.load` reads), keeping every
    other note.

    ``tracks``: input track names or part names (see :mod:`.plan`); ``regions``: more
    (track, (first, last)) pairs or :class:`Region` s. ``chords``: see the module doc.
    ``track_map``: input track name or index -> part, or None to leave the track out. Bars
    follow ``bar_ticks``, else ``meter`` (``"4/4"``: for files that declare a placeholder such
    as POP909's 1/4), else the score's time signatures (a warning says when those look wrong).
    ``density`` (onsets per bar), ``pitch_range`` ((low, high)), ``polyphony`` (notes per
    onset): ``"auto"`` (the replaced part's own figures), None (free) or a value, see
    :mod:`.controls`. ``steps``: sampling steps per window; ``temperature`` (0: greedy),
    ``top_p``, ``guidance`` (classifier-free chord guidance weight), ``order`` (see
    :data:`symbolic.models.sampling.UNMASK_ORDERS`) and ``seed`` shape the draw; ``resample``
    (0 to 100) adds Gibbs-style rewrite passes (see :func:`generate_grids`). ``model``: a
    GETDiff, a folder, or None (the shipped weights). Returns a new tick-time Score, or with
    ``candidates=N`` a list of N :class:`Candidate` s, best model score first.
    """
    check_sampling(steps, temperature, top_p, guidance, seed, resample)
    n = 1 if candidates is None else checks.integer("candidates", candidates, 1, 64)
    score, bar_ticks = score_with_bars(score, bar_ticks)
    bar_ticks = _bars_of(score, bar_ticks, meter)
    model = resolve_model(model, device)
    mg = MetricGrid.from_score(score, resolution=model.config["resolution"], bar_ticks=bar_ticks)
    asked = _regions(tracks, bars, regions, mg.n_bars)
    plan = plan_tracks(score, model.tracks, model.context_tracks, [a[0] for a in asked],
                       track_map)
    regs = [Region(plan.asked[t], first, last) for t, first, last in asked]
    note = plan_message(plan, regs)
    if note:
        warnings.warn(note, stacklevel=2)
    g = _prepare(score, model, plan.mapping, chords, mg)
    tok, role = _infill_roles(g, mg, regs, list(model.tracks))
    user = dict(density=density, pitch_range=pitch_range, polyphony=polyphony)
    control = _controls(score, model, plan, regs, mg, gr.as_vocab(model.config["vocab"]), user)
    got: list = []
    outs = generate_grids(model, [tok] * n, [role] * n, [mg.bar_first_step] * n, steps=steps,
                          temperature=temperature, top_p=top_p, guidance=guidance, seed=seed,
                          order=order, progress=progress, controls=[control] * n, scores=got,
                          resample=resample, marks=[score_marks(score, mg)] * n)
    results = [_merge(score, g, out, regs, plan, mg, seed + c) for c, out in enumerate(outs)]
    if candidates is None:
        return results[0]
    ranked = sorted(range(n), key=lambda c: -got[c])
    return [Candidate(results[c], float(got[c]), r + 1, seed) for r, c in enumerate(ranked)]


def _new_notes(decoded, name, spans) -> dict | None:
    tr = next((t for t in decoded.tracks if t.name == name), None)
    if tr is None or not len(tr.notes):
        return None
    new = tr.notes.numpy()
    keep = _inside(new["time"], spans)
    return {k: v[keep] for k, v in new.items()} if keep.any() else None


def _dynamics(score, dest_idx, spans, new, rng):
    """Velocities of the generated notes from the dynamics around them (:mod:`.controls`)."""
    own = _notes(None if dest_idx is None else score.tracks[dest_idx])
    ins = _inside(own["time"], spans)
    others = [n["velocity"][_inside(n["time"], spans)] for i, tr in enumerate(score.tracks)
              if i != dest_idx and not tr.is_drum for n in [_notes(tr)]]
    return ctl.velocities(len(new["time"]), rng, own["velocity"][ins], own["velocity"],
                          np.concatenate(others) if others else [])


def _merge(score, g, tokens, regs, plan, mg, seed: int):
    """The input score with generated notes put in the regions of the target tracks: only the
    track each target writes changes, and only inside its regions."""
    decoded = gr.decode(replace(g, tokens=tokens.astype(g.tokens.dtype)), chord_markers=False,
                        overlaps="trim")
    result = score.copy()
    rng = np.random.default_rng(seed)
    for name, idx in plan.writes.items():
        spans = _spans(regs, mg, name)
        new = _new_notes(decoded, name, spans)
        if new is not None:
            new["velocity"] = _dynamics(score, idx, spans, new, rng)
        if idx is None:
            tm = g.track_map.tracks[g.track_map.names.index(name)]
            result.tracks.append(symusic.core.TrackTick(name.lower(), tm.program, tm.is_drum))
            idx = len(result.tracks) - 1
        dest = result.tracks[idx]
        old = _notes(dest)
        keep = ~_inside(old["time"], spans)  # old notes outside the regions stay, value for value
        old = {k: v[keep] for k, v in old.items()}
        if new is None:
            dest.notes = _NoteList.from_numpy(old["time"], old["duration"], old["pitch"],
                                              old["velocity"])
            continue
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


def _compose_controls(model, vocab, targets, mg, user: dict) -> dict:
    """compose's controls: the user's, else each part's training figures."""
    none = {"time": np.zeros(0, np.int64), "pitch": np.zeros(0, np.int64)}
    tables = ctl.class_tables(model, vocab)
    out = {"density": np.full(model.n_tracks, np.nan), "allowed": [None] * model.n_tracks}
    spb = float(np.mean(mg.steps_per_bar))
    for t in targets:
        j = model.tracks.index(t)
        c = ctl.resolve_controls(t, none, none["time"], 0, none, none["time"], 0,
                                 model.role_stats.get(t), spb, **user)
        if c.density is not None:
            out["density"][j] = c.density
        out["allowed"][j] = ctl.allowed_classes(tables[j], c)
    return out


def _accent_velocities(score, mg) -> None:
    """Velocities of a composed score: a metric accent per note (downbeat, beat, other)."""
    beats, downbeats = mg.beat_ticks(), mg.bar_ticks
    for tr in score.tracks:
        if not len(tr.notes):
            continue
        n = tr.notes.numpy()
        acc = np.isin(n["time"], downbeats).astype(np.int64) + np.isin(n["time"], beats)
        n["velocity"] = ctl.velocities(len(acc), None, accents=acc).astype(n["velocity"].dtype)
        tr.notes = _NoteList.from_numpy(n["time"], n["duration"], n["pitch"], n["velocity"])


def compose(chords, bars: int | None = None, tracks=None, *, tempo: float = 100.0,
            time_signature: tuple[int, int] = (4, 4), ticks_per_quarter: int = 480,
            model=None, steps: int = 16, temperature: float = 1.0, top_p: float = 0.95,
            guidance: float = 1.0, seed: int = 0, device: str = "auto",
            order: str = "random", density=ctl.AUTO, pitch_range=ctl.AUTO,
            polyphony=ctl.AUTO, progress: bool = False, resample: int = 0) -> symusic.Score:
    """A new piece from a chord progression alone (see :func:`parse_progression`), ``bars``
    long (default: the progression's length; a shorter progression repeats), with ``tracks``
    (default every part the model writes). ``density``, ``pitch_range``, ``polyphony``: as in
    :func:`infill` (``"auto"``: each part's training figures); ``resample``: Gibbs-style
    rewrite passes, as in :func:`infill`. The result carries the chords
    as ``chord:`` markers; velocities follow a metric accent."""
    check_sampling(steps, temperature, top_p, guidance, seed, resample)
    progression = parse_progression(chords)  # a bad progression fails before the model loads
    n_bars = checks.integer("bars", len(progression) if bars is None else bars, 1,
                            checks.MAX_BARS)
    model = resolve_model(model, device)
    tempo = checks.number("tempo", tempo, 0.0, checks.MAX_TEMPO_QPM, low_open=True)
    num, den = checks.time_signature(time_signature)
    ticks_per_quarter = checks.integer("ticks_per_quarter", ticks_per_quarter, 1, 32767)
    score = symusic.Score(ticks_per_quarter)
    score.tempos.append(symusic.Tempo(0, qpm=float(tempo)))
    score.time_signatures.append(symusic.TimeSignature(0, num, den))
    vocab = gr.as_vocab(model.config["vocab"])
    g, mg = _compose_grid(score, vocab, chords, n_bars, ticks_per_quarter * 4 * num // den)
    targets = _compose_targets(tracks, model)
    k = model.n_tracks
    tok = g.tokens.astype(np.int64)
    role = np.zeros((k + 1, tok.shape[1]), dtype=np.int64)
    role[k] = ROLE_SOURCE
    for t in targets:
        j = model.tracks.index(t)
        tok[2 * j:2 * j + 2] = gr.PAD
        role[j] = ROLE_TARGET
    user = dict(density=density, pitch_range=pitch_range, polyphony=polyphony)
    out = generate_grids(model, [tok], [role], [mg.bar_first_step], steps=steps,
                         temperature=temperature, top_p=top_p, guidance=guidance, seed=seed,
                         order=order, progress=progress, resample=resample,
                         controls=[_compose_controls(model, vocab, targets, mg, user)])[0]
    result = gr.decode(replace(g, tokens=out.astype(g.tokens.dtype)), overlaps="trim")
    result.tracks = [tr for tr in result.tracks if tr.name in targets]
    for tr in result.tracks:
        tr.name = tr.name.lower()
    _accent_velocities(result, mg)
    return result
