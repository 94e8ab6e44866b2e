"""Training GETDiff: transposition tables, masked training batches, and :func:`train` over
the shared loop :func:`symbolic.training.fit` on POP909 grids (:mod:`symbolic.data.grids`).

**Training masks** (:func:`training_batch`): per window one of: a random subset of 1..n-1
tracks as targets (the other tracks given, each dropped to empty with probability 0.2); a
random span of bars inside 1..n tracks (infilling); every track from the chords alone; every
track from nothing (chords hidden). Chords are hidden in 25% of the other windows. Every
window is transposed by a random shift in -5..+6 semitones when all its stacks have a
transposed stack in the vocabulary (else by the largest such shift found, or 0).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ...errors import ArgumentError
from ...data.grids import GridSong, chorale_grids, pop909_grids
from ...representations.grid import as_vocab
from ...representations.grid import transpose_tables as grid_transpose_tables
from .model import (EMPTY, MARK_FERMATA, MARK_PLAIN, MARK_UNKNOWN, PAD, ROLE_SOURCE,
                    ROLE_TARGET, T_MIN, GETDiff, diffusion_loss)
from .settings import Settings

__all__ = ["SHIFTS", "transpose_tables", "training_batch", "train", "other_table", "role_stats",
           "window_marks"]

SHIFTS = tuple(range(-5, 7))


def transpose_tables(vocab) -> np.ndarray:
    """``table[s + 5, id]``: the id of ``id`` transposed by ``s`` semitones (s in -5..6), -1
    where the transposed stack is not in the vocabulary (see
    :func:`symbolic.representations.grid.transpose_tables`)."""
    return grid_transpose_tables(vocab, SHIFTS)


def other_table(vocab) -> np.ndarray:
    """``table[id]``: the OTHER row's id of the stack ``id`` of any other track (the same
    pitches), ids that are not stacks unchanged; the identity for a vocabulary without OTHER."""
    table = np.arange(len(vocab), dtype=np.int64)
    if "OTHER" not in vocab.track_names:
        return table
    for t in vocab.track_names:
        if t == "OTHER":
            continue
        for i in range(*vocab.track_slices[t]):
            table[i] = vocab.stack_id("OTHER", vocab.stack_pitches(i))
    return table


def _move_to_other(tok, role, b, j, o, used, to_other) -> None:
    """Window ``b``'s track ``j`` becomes context in the OTHER row ``o`` (its own rows empty)."""
    tok[b, 2 * o] = to_other[tok[b, 2 * j]]
    tok[b, 2 * o + 1] = tok[b, 2 * j + 1]
    role[b, o, :used] = ROLE_SOURCE
    tok[b, 2 * j:2 * j + 2] = EMPTY
    role[b, j] = 0


def _set_roles(toks, role, target, b, is_target, present, cols, used, kind, rng) -> None:
    """Window ``b``'s track roles: targets over ``cols``, present tracks given (each dropped
    to empty with probability 0.2 in the 'tracks' scenario), absent ones empty. (In the
    'chords' and 'nothing' scenarios every track is a target, the context row included: its
    head learns silence there, which generation never asks of it.)"""
    for j in range(len(is_target)):
        if is_target[j]:
            target[b, j] = cols
            role[b, j, :used] = np.where(cols[:used], ROLE_TARGET, ROLE_SOURCE)
            if not present[j]:  # generating a track the window lacks: its cells are PAD
                toks[b, 2 * j:2 * j + 2, :used] = PAD
        elif present[j] and (kind != "tracks" or rng.random() >= 0.2):
            role[b, j, :used] = ROLE_SOURCE
        else:
            toks[b, 2 * j:2 * j + 2] = EMPTY


def _target_columns(kind, first, used: int, width: int, rng) -> np.ndarray:
    """Target columns of a window: a random span of whole bars (not all of them) for a
    'span' window of more than one bar, else every used column."""
    cols = np.zeros(width, dtype=bool)
    if kind == "span" and len(first) > 2:
        nb = len(first) - 1
        a = int(rng.integers(nb))
        e = int(rng.integers(a + 1, nb + 1))
        if e - a == nb:  # a span, not the whole window
            e = max(a + 1, e - 1)
        cols[first[a]:first[e]] = True
    else:
        cols[:used] = True
    return cols


def training_batch(songs: list[GridSong], rng: np.random.Generator, *, batch: int, bars: int,
                   width: int, n_tracks: int, tables: np.ndarray | None = None,
                   scenario: str | None = None, chord_drop: float = 0.25,
                   context: int | None = None, to_other: np.ndarray | None = None,
                   other_rate: float = 0.3, marks: bool = False,
                   mark_drop: float = 0.3) -> dict:
    """One batch of windows with their roles, masks and diffusion times (all numpy).

    ``scenario`` forces one mask kind for every window ('tracks', 'span', 'chords', 'nothing')
    instead of drawing it (0.45 / 0.25 / 0.2 / 0.1). ``context``: index of the context-only
    track (OTHER; never a target): in ``other_rate`` of the 'tracks' and 'span' windows one
    given track moves there (``to_other``: :func:`other_table`), as an unnamed band part would
    reach the model. ``marks``: add each window's column marks (its songs' fermatas; all
    :data:`~.model.MARK_UNKNOWN` in ``mark_drop`` of the windows, as for a score without
    them) under ``marks`` (``[B, W]``). Keys: ``tokens`` (clean, ``[B, R, W]``), ``role`` (``[B, K+1, W]``),
    ``masked`` (bool ``[B, K, W]``: cells masked at time t), ``target`` (bool ``[B, K, W]``),
    ``t`` (``[B]``), ``bar_pos`` (``[B, W]``).
    """
    k = n_tracks
    toks = np.empty((batch, 2 * k + 2, width), dtype=np.int64)
    role = np.zeros((batch, k + 1, width), dtype=np.int64)
    target = np.zeros((batch, k, width), dtype=bool)
    pos = np.zeros((batch, width), dtype=np.int64)
    col_marks = np.full((batch, width), MARK_UNKNOWN, dtype=np.int64)
    for b in range(batch):
        song = songs[rng.integers(len(songs))]
        wins = song.windows(bars)  # every start bar: max(1, n_bars - bars + 1) windows
        win = wins[int(rng.integers(len(wins)))]
        tok, pos[b], used, first = song.cut(win, width)
        if marks and rng.random() >= mark_drop:
            col_marks[b] = window_marks(song.fermatas, win[2], used, width)
        if tables is not None:
            order = rng.permutation(len(SHIFTS))
            for si in order:
                t2 = tables[si][tok]
                if (t2 >= 0).all():
                    tok = t2
                    break
        toks[b] = tok
        present = np.array([not (tok[2 * j, :used] == EMPTY).all() and j != context
                            for j in range(k)])
        kind = scenario or rng.choice(["tracks", "span", "chords", "nothing"],
                                      p=[0.45, 0.25, 0.2, 0.1])
        tracks_present = np.nonzero(present)[0]
        is_target = np.zeros(k, dtype=bool)
        if kind in ("chords", "nothing") or len(tracks_present) < 2:
            is_target[:] = True
        elif kind == "tracks":
            n = int(rng.integers(1, len(tracks_present)))
            is_target[rng.choice(tracks_present, n, replace=False)] = True
        else:  # span
            n = int(rng.integers(1, len(tracks_present) + 1))
            is_target[rng.choice(tracks_present, n, replace=False)] = True
        cols = _target_columns(kind, first, used, width, rng)
        _set_roles(toks, role, target, b, is_target, present, cols, used, kind, rng)
        given = [j for j in range(k) if role[b, j, 0] == ROLE_SOURCE and not is_target[j]]
        if (context is not None and kind in ("tracks", "span") and given
                and rng.random() < other_rate):
            _move_to_other(toks, role, b, int(rng.choice(given)), context, used, to_other)
        hide = kind == "nothing" or rng.random() < chord_drop
        if hide:
            toks[b, 2 * k:] = EMPTY
        else:
            role[b, k, :used] = ROLE_SOURCE
    # low-discrepancy times, then masks
    t = (rng.random() + np.arange(batch) / batch) % 1.0
    t = np.maximum(t, T_MIN)
    masked = target & (rng.random(target.shape) < t[:, None, None])
    out = {"tokens": toks, "role": role, "masked": masked, "target": target,
           "t": t.astype(np.float32), "bar_pos": pos}
    if marks:
        out["marks"] = col_marks
    return out


def window_marks(fermatas: np.ndarray, start: int, used: int, width: int) -> np.ndarray:
    """Column marks (int64 ``[width]``) of the window of ``used`` columns from column
    ``start`` of a piece whose fermata onsets are at columns ``fermatas``: MARK_FERMATA there,
    MARK_PLAIN on the window's other columns, MARK_UNKNOWN past its end."""
    out = np.full(width, MARK_UNKNOWN, dtype=np.int64)
    out[:used] = MARK_PLAIN
    f = np.asarray(fermatas, dtype=np.int64) - start
    out[f[(f >= 0) & (f < used)]] = MARK_FERMATA
    return out


def role_stats(songs: list[GridSong], vocab) -> dict:
    """Per track (not OTHER), figures of ``songs`` that generation falls back on where a score
    gives none: ``onsets_per_step`` (onsets over the columns of the songs that have the track),
    ``pitch_lo`` / ``pitch_hi`` (5th percentile of its onsets' lowest pitch / 95th of their
    highest), ``polyphony`` (95th percentile of notes per onset)."""
    lo_of, hi_of = vocab.pitch_bounds()
    count = vocab.pitch_count
    out = {}
    for j, t in enumerate(vocab.track_names):
        if t == "OTHER":
            continue
        ids, cols = [], 0
        for s in songs:
            row = s.tokens[2 * j].astype(np.int64)
            if (row == EMPTY).all():
                continue
            cols += row.size
            ids.append(row[row >= vocab.track_slices[t][0]])
        ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        if not len(ids):
            continue
        out[t] = {"onsets_per_step": round(len(ids) / max(cols, 1), 4),
                  "pitch_lo": int(np.percentile(lo_of[ids], 5)),
                  "pitch_hi": int(np.percentile(hi_of[ids], 95)),
                  "polyphony": int(np.percentile(count[ids], 95))}
    return out


def _fit_config(s: Settings, device: str, progress: bool):
    from ...training import TrainConfig

    return TrainConfig(steps=s.steps, lr=s.lr, warmup=min(200, s.steps // 10),
                       schedule="cosine", min_lr_ratio=0.1, weight_decay=0.01,
                       eval_every=s.eval_every, checkpoint_every=s.checkpoint_every,
                       log_every=50, seed=s.seed, device=device, threads=s.threads,
                       progress=progress)


def train(settings: Settings | None = None, out=None, *, data_path=None, device: str = "auto",
          resume: bool = True, progress: bool = True, stop_at: int | None = None,
          max_minutes: float | None = None) -> dict:
    """Train GETDiff with ``settings`` (default :class:`Settings`: the shipped recipe) on
    POP909's train split (held-out loss on the valid split; ``data_path``: the POP909 folder),
    or, for a vocabulary of the ``satb`` track map, on the Bach chorales' (:func:`chorale_grids`)
    and save the model to ``out`` (``config.json`` + ``model.safetensors`` + ``training.json``).

    Checkpoints go to ``out/checkpoint``; run again to resume (``resume=False`` starts over).
    ``stop_at``: stop after that step (a multiple of 50) of the ``settings.steps`` schedule,
    deterministically; ``max_minutes`` stops at the first multiple of 50 steps past that time
    (``training.json`` records the step, so ``stop_at`` reproduces the run). Returns what
    ``training.json`` holds: steps reached, the settings, minutes, the loss history.
    """
    from ...training import check_run, fit, seed_everything, stop_rule

    check_run(device=device, out=out, stop_at=stop_at, max_minutes=max_minutes)
    if stop_at is not None and stop_at % 50:
        raise ArgumentError(f"must be a multiple of 50 (the logged steps), got {stop_at}",
                            "stop_at")
    s = settings or Settings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = as_vocab(s.vocab)
    s = replace(s, width=s.width or s.window_bars * 4 * vocab.resolution)
    chorales = vocab.track_map is not None and vocab.track_map.name == "satb"
    if chorales:  # Bach chorales, with their fermatas as column marks
        train_songs, valid_songs = (chorale_grids(sp, s.vocab, progress=progress)
                                    for sp in ("train", "valid"))
    else:
        train_songs = pop909_grids("train", s.vocab, path=data_path, progress=progress)
        valid_songs = pop909_grids("valid", s.vocab, path=data_path, progress=progress)
    tables = transpose_tables(vocab)
    seed_everything(s.seed)
    context = ["OTHER"] if "OTHER" in vocab.track_names else []
    model = GETDiff(vocab=s.vocab, embed_dim=s.embed_dim, dim=s.dim, depth=s.depth,
                    heads=s.heads, dropout=s.dropout, window_bars=s.window_bars,
                    settings=asdict(s), context_tracks=context,
                    role_stats=role_stats(train_songs, vocab), column_marks=chorales)
    shape = dict(batch=s.batch, bars=s.window_bars, width=s.width, n_tracks=model.n_tracks,
                 context=vocab.track_names.index("OTHER") if context else None,
                 to_other=other_table(vocab), marks=chorales)
    ev_rng = np.random.default_rng(12345)
    eval_batches = [training_batch(valid_songs, ev_rng, **shape) for _ in range(4)]

    def make_batch(rng, step):
        return training_batch(train_songs, rng, tables=tables, **shape)

    started = time.time()
    result = fit(model, make_batch, diffusion_loss, config=_fit_config(s, device, progress),
                 eval_batches=eval_batches, checkpoint_dir=out / "checkpoint", resume=resume,
                 stop=stop_rule(stop_at, max_minutes, started))
    model.to("cpu").eval()
    model.save_pretrained(out, config=model.config)  # vocab slices in full, checked on load
    info = {"steps": result.step, "planned_steps": s.steps, "batch": s.batch, "lr": s.lr,
            "seed": s.seed, "window_bars": s.window_bars, "width": s.width,
            "parameters": model.n_parameters(), "settings": asdict(s),
            "minutes": round((time.time() - started) / 60, 1), "device": str(device),
            "history": result.history}
    (out / "training.json").write_text(json.dumps(info, indent=1))
    return info
