"""GETDiff: masked (absorbing-state) discrete diffusion over GETScore grids.

One model generates any subset of tracks, over any span of bars, given the other tracks and
the chords (after GETMusic, Lv et al. 2023). The grid is :mod:`symbolic.representations.grid`'s
(rows: onset and duration of every track, chord root and quality; one column per step).

**Model.** Per column, each track's two cells (onset stack, duration) and the chord's two cells
are embedded (one token table for the whole vocabulary), a *cell role* is added to each group
(source: given; target: to generate; empty: absent), the groups are concatenated and projected
to one vector per column, a step-in-bar embedding is added, and a bidirectional transformer
with rotary positions (:mod:`symbolic.models.layers`, the shared SDPA/xformers attention) runs
over the columns. Output heads are per row and restricted to the row's vocabulary slice: track
k's onset head scores PAD plus track k's stacks only; its duration head scores the 16 duration
classes given the onset (``p(duration | onset, context)``, the onset's embedding is added to
the hidden state), and a PAD onset has a PAD duration with probability one. A cell's
probability is thus ``p(onset) * p(duration | onset)``, with no mass on inconsistent pairs.

**Diffusion (formulation and why).** Masked diffusion in continuous time with the linear
schedule of MDLM (Sahoo et al. 2024): at time ``t`` in (0, 1] each target cell is masked
(onset and duration together) with probability ``t``; source cells are never masked (they are
the condition, clamped to the truth at every step as in GETMusic). The training loss is the
MDLM evidence bound, ``E_t [ (1/t) * sum over masked cells of -log p(cell) ]``, divided by the
number of target cells: an upper bound on ``-log p(targets | sources)`` in **nats per target
cell**, the figure training and :mod:`benchmarks/eval_getdiff.py` report. GETMusic's own
objective (100 discrete steps, a uniform+mask transition, weight 0.5 on source cells) is not a
likelihood bound of the model that samples, and its 100-step chain is tied to training; the
MDLM bound is exact for this model, has no schedule to tune, and any number of sampling steps
may be used afterwards.

**Sampling** (:func:`sample`): start with every target cell masked; at each of ``steps``
steps, predict all masked cells, draw each (temperature, top-p, a seeded generator), and keep
the most confident draws of each track: as many as the linear schedule unmasks in that step
(``n_masked * (1 - t_next / t)``), the rest stay masked. Classifier-free chord guidance mixes
log-probabilities with and without the chord rows (``uncond + w * (cond - uncond)``); the
model learns both because chords are hidden in a quarter of the training windows. A batch of
pieces is sampled at once.

**Training masks** (:func:`training_batch`): per window one of: a random subset of 1..n-1
tracks as targets (the other tracks given, each dropped to empty with probability 0.2); a
random span of bars inside 1..n tracks (infilling); every track from the chords alone; every
track from nothing (chords hidden). Chords are hidden in 25% of the other windows. Every
window is transposed by a random shift in -5..+6 semitones when all its stacks have a
transposed stack in the vocabulary (else by the largest such shift found, or 0).

Default weights: ``symbolic/pretrained/getdiff-pop909`` (see :func:`train` and the README for
the command that made them).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import HubModel, pretrained_path
from .layers import Transformer

__all__ = ["GETDiff", "GridSong", "pop909_grids", "training_batch", "diffusion_loss",
           "cell_nll", "sample", "transpose_tables", "train", "load_default", "DEFAULT_NAME",
           "ROLE_EMPTY", "ROLE_SOURCE", "ROLE_TARGET"]

DEFAULT_NAME = "getdiff-pop909"
ROLE_EMPTY, ROLE_SOURCE, ROLE_TARGET = 0, 1, 2
PAD, EMPTY, MASK = 0, 1, 2
MAX_BAR_STEPS = 64  # step-in-bar embeddings (a 4/4 bar at resolution 4 uses 16)
T_MIN = 1e-3


# =============================================================================================
# Model
# =============================================================================================

class GETDiff(nn.Module, HubModel):
    """The denoiser. ``vocab``: name of the :class:`~symbolic.representations.grid.GridVocab`
    it reads (its slices are copied into the config so a checkpoint can check them);
    ``tracks``: grid track names in row order; ``track_slices``: ``[start, end)`` id range of
    each track's stacks; ``duration_offset`` / ``n_durations``: the duration ids. Sizes:
    ``embed_dim`` per cell group, ``dim`` / ``depth`` / ``heads`` of the transformer.
    ``window_bars``: bars per window the model was trained on (generation windows use it).
    """

    def __init__(self, *, vocab: str = "pop909", vocab_size: int = 4145,
                 tracks: list | None = None, track_slices: list | None = None,
                 duration_offset: int = 3, n_durations: int = 16, embed_dim: int = 96,
                 dim: int = 192, depth: int = 4, heads: int = 4, mlp_ratio: float = 4.0,
                 dropout: float = 0.1, window_bars: int = 8, resolution: int = 4):
        super().__init__()
        from ..representations.grid import as_vocab

        v = as_vocab(vocab)
        own = dict(vocab_size=len(v), tracks=list(v.track_names),
                   track_slices=[list(v.track_slices[t]) for t in v.track_names],
                   duration_offset=v.duration_offset, n_durations=len(v.durations),
                   resolution=v.resolution)
        if tracks is None or track_slices is None:
            tracks, track_slices = own["tracks"], own["track_slices"]
            vocab_size, duration_offset = own["vocab_size"], own["duration_offset"]
            n_durations, resolution = own["n_durations"], own["resolution"]
        given = dict(vocab_size=vocab_size, tracks=list(tracks),
                     track_slices=[list(map(int, x)) for x in track_slices],
                     duration_offset=duration_offset, n_durations=n_durations,
                     resolution=resolution)
        if given != own:
            bad = [k for k in own if own[k] != given[k]]
            raise ValueError(f"the model's config does not match vocabulary {vocab!r} "
                             f"({', '.join(bad)} differ): it was trained on another vocabulary")
        self.config = dict(vocab=vocab, vocab_size=vocab_size, tracks=list(tracks),
                           track_slices=[list(map(int, s)) for s in track_slices],
                           duration_offset=duration_offset, n_durations=n_durations,
                           embed_dim=embed_dim, dim=dim, depth=depth, heads=heads,
                           mlp_ratio=mlp_ratio, dropout=dropout, window_bars=window_bars,
                           resolution=resolution)
        self.tracks = list(tracks)
        self.n_tracks = k = len(tracks)
        self.track_slices = [tuple(map(int, s)) for s in track_slices]
        self.duration_offset, self.n_durations = duration_offset, n_durations
        self.window_bars = window_bars
        self.token = nn.Embedding(vocab_size, embed_dim)
        self.role = nn.Embedding(3 * (k + 1), embed_dim)  # (group, role)
        self.proj_in = nn.Linear((k + 1) * embed_dim, dim)
        self.bar_pos = nn.Embedding(MAX_BAR_STEPS, dim)
        self.body = Transformer(dim, depth, heads, mlp_ratio, dropout)
        self.onset_heads = nn.ModuleList(nn.Linear(dim, 1 + b - a) for a, b in self.track_slices)
        self.onset_in = nn.ModuleList(nn.Linear(embed_dim, dim) for _ in range(k))
        self.duration_heads = nn.ModuleList(nn.Linear(dim, n_durations) for _ in range(k))
        nn.init.normal_(self.token.weight, std=0.02)
        nn.init.normal_(self.role.weight, std=0.02)
        nn.init.normal_(self.bar_pos.weight, std=0.02)

    # -- encoding --------------------------------------------------------------------------
    def forward(self, tokens: torch.Tensor, role: torch.Tensor, bar_pos: torch.Tensor):
        """Hidden states ``[B, L, dim]`` of ``tokens`` ``[B, 2K+2, L]`` with cell roles ``role``
        ``[B, K+1, L]`` (0 empty, 1 source, 2 target; group K is the chord) and step-in-bar
        ``bar_pos`` ``[B, L]``."""
        b, r, n = tokens.shape
        k = self.n_tracks
        if r != 2 * k + 2 or role.shape != (b, k + 1, n):
            raise ValueError(f"expected tokens [B, {2 * k + 2}, L] and role [B, {k + 1}, L], got "
                             f"{tuple(tokens.shape)} and {tuple(role.shape)}")
        e = self.token(tokens).view(b, k + 1, 2, n, -1).sum(2)  # [B, K+1, L, E]
        group = torch.arange(k + 1, device=tokens.device)[None, :, None] * 3
        e = e + self.role(group + role)
        x = self.proj_in(e.permute(0, 2, 1, 3).reshape(b, n, -1))
        x = x + self.bar_pos(bar_pos.clamp(0, MAX_BAR_STEPS - 1))
        return self.body(x)

    # -- heads -----------------------------------------------------------------------------
    def onset_logits(self, h: torch.Tensor, k: int) -> torch.Tensor:
        """Logits over (PAD, track k's stacks) for hidden states ``h`` ``[..., dim]``."""
        return self.onset_heads[k](h)

    def onset_ids(self, idx: torch.Tensor, k: int) -> torch.Tensor:
        """Vocabulary ids of onset-head classes (0 is PAD)."""
        return torch.where(idx > 0, idx - 1 + self.track_slices[k][0], torch.zeros_like(idx))

    def onset_classes(self, ids: torch.Tensor, k: int) -> torch.Tensor:
        """Onset-head class of vocabulary ids (PAD or track k's stacks)."""
        return torch.where(ids == PAD, torch.zeros_like(ids), ids - self.track_slices[k][0] + 1)

    def duration_logits(self, h: torch.Tensor, k: int, onset_ids: torch.Tensor) -> torch.Tensor:
        """Logits over the duration classes given the onset ids (``[...]``, same lead shape)."""
        return self.duration_heads[k](h + self.onset_in[k](self.token(onset_ids)))

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def load_default(device: str = "cpu") -> GETDiff:
    """The shipped default model (POP909: MELODY, BRIDGE, PIANO + chords)."""
    return GETDiff.from_pretrained(str(pretrained_path(DEFAULT_NAME)), map_location=device)


# =============================================================================================
# Data: POP909 grids, cached
# =============================================================================================

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
        n = self.tokens.shape[1]
        bar = np.searchsorted(self.bar_first, np.arange(n), side="right") - 1
        return (np.arange(n) - self.bar_first[bar]).astype(np.int64)


def _encode_pop909_song(pop, i: int, vocab):
    from ..representations import grid as gr

    song = pop.song(i)
    chords = gr.chords_from_labels(*song.chord_ticks(), song.chords.labels)
    g = gr.encode(song.score, vocab, bar_ticks=song.bar_ticks(), chords=chords)
    return g


def pop909_grids(split: str, vocab: str = "pop909", *, progress: bool = True,
                 path=None) -> list[GridSong]:
    """Every POP909 song of ``split`` as a :class:`GridSong` (annotated bars and chords), cached
    in ``cache_dir('getdiff')`` after the first call (a few seconds per hundred songs)."""
    from ..data.pop909 import Pop909
    from ..representations.grid import as_vocab
    from ..data.cache import cache_dir

    pop = Pop909(path)
    ids = pop.available(split)
    v = as_vocab(vocab)
    cache = cache_dir("getdiff") / f"pop909-{split}-{v.name}-{len(v)}-{len(ids)}.npz"
    if cache.is_file():
        with np.load(cache) as z:  # read each array once (z[key] re-reads the file)
            tokens, bars, off_t, off_b, got = (z[n] for n in ("tokens", "bars", "tok_off",
                                                              "bar_off", "ids"))
        return [GridSong(tokens[:, off_t[j]:off_t[j + 1]], bars[off_b[j]:off_b[j + 1]],
                         f"pop909/{int(i):03d}") for j, i in enumerate(got)]
    from tqdm.auto import tqdm

    out = []
    for i in tqdm(ids, desc=f"POP909 {split} grids", disable=not progress):
        g = _encode_pop909_song(pop, i, v)
        out.append(GridSong(g.tokens.astype(np.int16),
                            g.meta.grid.bar_first_step.astype(np.int32), f"pop909/{i:03d}"))
    tok_off = np.cumsum([0] + [s.tokens.shape[1] for s in out])
    bar_off = np.cumsum([0] + [len(s.bar_first) for s in out])
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, ids=np.array(ids), tokens=np.concatenate([s.tokens for s in out], axis=1),
             bars=np.concatenate([s.bar_first for s in out]), tok_off=tok_off, bar_off=bar_off)
    tmp.replace(cache)
    return out


# =============================================================================================
# Transposition
# =============================================================================================

SHIFTS = tuple(range(-5, 7))


def transpose_tables(vocab) -> np.ndarray:
    """``table[s + 5, id]``: the id of ``id`` transposed by ``s`` semitones (s in -5..6), -1
    where the transposed stack is not in the vocabulary (see
    :func:`symbolic.representations.grid.transpose_tables`)."""
    from ..representations.grid import transpose_tables as tables

    return tables(vocab, SHIFTS)


# =============================================================================================
# Training batches and the loss
# =============================================================================================

def _window(song: GridSong, bar: int, bars: int, width: int):
    c0 = int(song.bar_first[bar])
    c1 = int(song.bar_first[min(bar + bars, song.n_bars)])
    c1 = min(c1, c0 + width)
    tok = np.full((song.tokens.shape[0], width), EMPTY, dtype=np.int64)
    tok[:, :c1 - c0] = song.tokens[:, c0:c1]
    pos = np.zeros(width, dtype=np.int64)
    pos[:c1 - c0] = song.bar_pos()[c0:c1]
    first = song.bar_first[bar:min(bar + bars, song.n_bars) + 1] - c0
    return tok, pos, c1 - c0, np.minimum(first, c1 - c0)


def training_batch(songs: list[GridSong], rng: np.random.Generator, *, batch: int, bars: int,
                   width: int, n_tracks: int, tables: np.ndarray | None = None,
                   scenario: str | None = None, chord_drop: float = 0.25) -> dict:
    """One batch of windows with their roles, masks and diffusion times (all numpy).

    ``scenario`` forces one mask kind for every window ('tracks', 'span', 'chords', 'nothing')
    instead of drawing it (0.45 / 0.25 / 0.2 / 0.1). Keys: ``tokens`` (clean, ``[B, R, W]``),
    ``role`` (``[B, K+1, W]``), ``masked`` (bool ``[B, K, W]``: cells masked at time t),
    ``target`` (bool ``[B, K, W]``), ``t`` (``[B]``), ``bar_pos`` (``[B, W]``).
    """
    k = n_tracks
    toks = np.empty((batch, 2 * k + 2, width), dtype=np.int64)
    role = np.zeros((batch, k + 1, width), dtype=np.int64)
    target = np.zeros((batch, k, width), dtype=bool)
    pos = np.zeros((batch, width), dtype=np.int64)
    for b in range(batch):
        song = songs[rng.integers(len(songs))]
        start = int(rng.integers(max(1, song.n_bars - bars + 1)))
        tok, pos[b], used, first = _window(song, start, bars, width)
        if tables is not None:
            order = rng.permutation(len(SHIFTS))
            for si in order:
                t2 = tables[si][tok]
                if (t2 >= 0).all():
                    tok = t2
                    break
        toks[b] = tok
        present = np.array([not (tok[2 * j, :used] == EMPTY).all() for j in range(k)])
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
        for j in range(k):
            if is_target[j]:
                target[b, j] = cols
                role[b, j, :used] = np.where(cols[:used], ROLE_TARGET, ROLE_SOURCE)
                if not present[j]:  # generating a track the window lacks: its cells are PAD
                    toks[b, 2 * j:2 * j + 2, :used] = PAD
            elif present[j] and (kind != "tracks" or rng.random() >= 0.2):
                role[b, j, :used] = ROLE_SOURCE
            else:
                toks[b, 2 * j:2 * j + 2] = EMPTY
        hide = kind == "nothing" or rng.random() < chord_drop
        if hide:
            toks[b, 2 * k:] = EMPTY
        else:
            role[b, k, :used] = ROLE_SOURCE
    # low-discrepancy times, then masks
    t = (rng.random() + np.arange(batch) / batch) % 1.0
    t = np.maximum(t, T_MIN)
    masked = target & (rng.random(target.shape) < t[:, None, None])
    return {"tokens": toks, "role": role, "masked": masked, "target": target,
            "t": t.astype(np.float32), "bar_pos": pos}


def masked_input(tokens: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    """``tokens`` with the onset and duration cells of ``masked`` (``[B, K, L]``) set to MASK."""
    x = tokens.clone()
    k = masked.shape[1]
    rows = x[:, :2 * k].view(x.shape[0], k, 2, -1)
    rows.masked_fill_(masked[:, :, None, :], MASK)
    return x


def cell_nll(model: GETDiff, batch: dict, hidden: torch.Tensor | None = None):
    """Per track with masked cells: (track index, batch index, -log p(onset),
    -log p(duration | onset), onset correct, duration correct, onset is a stack) per masked
    cell, from one forward pass on the masked input (a PAD onset's duration is PAD for sure:
    its -log p is 0 and it counts as correct)."""
    tokens, masked = batch["tokens"], batch["masked"]
    if hidden is None:
        hidden = model(masked_input(tokens, masked), batch["role"], batch["bar_pos"])
    out = []
    for k in range(model.n_tracks):
        bi, ci = torch.nonzero(masked[:, k], as_tuple=True)
        if not len(bi):
            continue
        h = hidden[bi, ci]
        on = tokens[bi, 2 * k, ci]
        dur = tokens[bi, 2 * k + 1, ci]
        lo = model.onset_logits(h, k)
        cls = model.onset_classes(on, k)
        nll_on = F.cross_entropy(lo, cls, reduction="none")
        stack = on != PAD
        nll_dur = torch.zeros_like(nll_on)
        dur_ok = torch.ones_like(stack)
        if stack.any():
            ld = model.duration_logits(h[stack], k, on[stack])
            dcls = (dur[stack] - model.duration_offset).clamp(0, model.n_durations - 1)
            nll_dur[stack] = F.cross_entropy(ld, dcls, reduction="none")
            dur_ok[stack] = ld.argmax(-1) == dcls
        out.append((k, bi, nll_on, nll_dur, lo.argmax(-1) == cls, dur_ok, stack))
    return out


def diffusion_loss(model: GETDiff, batch: dict) -> torch.Tensor:
    """The MDLM bound in nats per target cell: sum over masked cells of -log p / t, divided by
    the number of target cells in the batch."""
    total = torch.zeros((), device=batch["tokens"].device)
    inv_t = 1.0 / batch["t"]
    for _, bi, nll_on, nll_dur, *_ in cell_nll(model, batch):
        total = total + ((nll_on + nll_dur) * inv_t[bi]).sum()
    return total / batch["target"].sum().clamp(min=1)


# =============================================================================================
# Sampling
# =============================================================================================

def _draw(logits: torch.Tensor, temperature: float, top_p: float, generator):
    """Draw one class per row of ``logits`` (``[N, C]``); returns (classes, probability)."""
    if temperature <= 0:
        p = logits.softmax(-1)
        c = p.argmax(-1)
        return c, p.gather(-1, c[:, None])[:, 0]
    p = (logits / temperature).softmax(-1)
    if top_p < 1.0:
        sp, si = p.sort(-1, descending=True)
        keep = sp.cumsum(-1) - sp < top_p
        sp = sp * keep
        q = torch.zeros_like(p).scatter_(-1, si, sp)
        p = q / q.sum(-1, keepdim=True)
    c = torch.multinomial(p, 1, generator=generator)[:, 0]
    return c, p.gather(-1, c[:, None])[:, 0]


def _most_confident(mk, bi, ci, conf, note, keep_n):
    """Which masked cells to commit: ``keep_n`` per piece, split between cells drawn as notes
    and cells drawn silent (PAD) in proportion to the draws, the most confident of each group.

    Plain confidence order commits the near-certain silent cells first, and a grid that is
    mostly silent then stays silent (on held-out POP909 windows, an early checkpoint kept a few
    percent of the true number of notes that way); the split keeps the note density of the
    model's own draws."""
    dev = mk.device
    chosen = torch.zeros_like(mk)
    n_note = torch.zeros(mk.shape[0], device=dev).index_add_(0, bi, note.float())
    n_all = mk.sum(-1).float()
    keep_note = torch.round(keep_n * n_note / n_all.clamp(min=1)).long()
    for group, quota in ((note, keep_note), (~note, keep_n - keep_note)):
        score = torch.full(mk.shape, -float("inf"), device=dev)
        score[bi[group], ci[group]] = conf[group]
        rank = score.argsort(-1, descending=True).argsort(-1)
        chosen |= (rank < quota[:, None]) & (score > -float("inf"))
    return chosen


@torch.no_grad()
def sample(model: GETDiff, tokens: torch.Tensor, role: torch.Tensor, bar_pos: torch.Tensor, *,
           steps: int = 16, temperature: float = 1.0, top_p: float = 0.95,
           guidance: float = 1.0, generator: torch.Generator | None = None,
           order: str = "confidence", noise: float = 1.0, progress=None) -> torch.Tensor:
    """Fill every target cell (``role == 2`` in the track groups) of ``tokens`` (``[B, R, L]``)
    in ``steps`` steps; returns the completed tokens (sources untouched, bit for bit).

    ``order``: which of the cells drawn at a step are kept. 'confidence' (default): per track,
    the most probable draws, split between notes and silent cells in the proportion drawn (see
    :func:`_most_confident`); 'random': a uniform subset (MDLM's ancestral sampler, exact for
    the model); 'noisy': confidence plus fading Gumbel noise (MaskGIT), which, like plain
    confidence, tends to silence sparse tracks.

    ``guidance``: classifier-free chord guidance weight (1: plain conditional model; > 1
    follows the chords more; only used when chord rows are given). ``temperature`` 0 is greedy.
    """
    k = model.n_tracks
    dev = tokens.device
    target = role[:, :k] == ROLE_TARGET
    masked = target.clone()
    x = masked_input(tokens, masked)
    chords_given = bool((role[:, k] == ROLE_SOURCE).any())
    use_cfg = guidance != 1.0 and chords_given
    if use_cfg:
        x_u_role = role.clone()
        x_u_role[:, k] = ROLE_EMPTY
    steps = max(1, int(steps))
    for i in range(steps):
        t, t_next = 1.0 - i / steps, 1.0 - (i + 1) / steps
        if not masked.any():
            break
        h = model(x, role, bar_pos)
        if use_cfg:
            xu = x.clone()
            xu[:, 2 * k:] = EMPTY
            hu = model(xu, x_u_role, bar_pos)
        for j in range(k):
            mk = masked[:, j]
            n_left = mk.sum(-1)  # [B]
            if not n_left.any():
                continue
            bi, ci = torch.nonzero(mk, as_tuple=True)
            lo = model.onset_logits(h[bi, ci], j).float()
            if use_cfg:
                lu = model.onset_logits(hu[bi, ci], j).float()
                lo = lu.log_softmax(-1) + guidance * (lo.log_softmax(-1) - lu.log_softmax(-1))
            cls, conf = _draw(lo, temperature, top_p, generator)
            on = model.onset_ids(cls, j)
            dur = torch.full_like(on, PAD)
            stack = on != PAD
            if stack.any():
                ld = model.duration_logits(h[bi, ci][stack], j, on[stack]).float()
                if use_cfg:
                    ldu = model.duration_logits(hu[bi, ci][stack], j, on[stack]).float()
                    ld = ldu.log_softmax(-1) + guidance * (ld.log_softmax(-1)
                                                           - ldu.log_softmax(-1))
                dc, dconf = _draw(ld, temperature, top_p, generator)
                dur[stack] = dc + model.duration_offset
                conf = conf.clone()
                conf[stack] = conf[stack] * dconf
            # how many to keep per piece: the linear schedule's share, all at the last step
            keep_n = n_left if t_next <= 0 else torch.ceil(n_left * (1.0 - t_next / t)).long()
            if order == "random":  # MDLM's ancestral order: a uniform subset
                conf = torch.rand(conf.shape, generator=generator).to(dev)
            elif order == "noisy":  # confidence plus Gumbel noise that fades (MaskGIT)
                gum = -torch.log(-torch.log(torch.rand(conf.shape, generator=generator)
                                            .clamp(1e-9, 1 - 1e-9))).to(dev)
                conf = conf.clamp_min(1e-9).log() + noise * t * gum
            elif order != "confidence":
                raise ValueError(f"order must be confidence, noisy or random, got {order!r}")
            if order == "confidence":
                chosen = _most_confident(mk, bi, ci, conf, stack, keep_n)
            else:
                score = torch.full(mk.shape, -float("inf"), device=dev)
                score[bi, ci] = conf
                rank = score.argsort(-1, descending=True).argsort(-1)
                chosen = mk & (rank < keep_n[:, None])
            sel = chosen[bi, ci]
            x[bi[sel], 2 * j, ci[sel]] = on[sel]
            x[bi[sel], 2 * j + 1, ci[sel]] = dur[sel]
            masked[:, j] &= ~chosen
        if progress is not None:
            progress.update(1)
    return x


# =============================================================================================
# Training entry
# =============================================================================================

def train(out, *, steps: int = 8000, batch: int = 16, lr: float = 1e-3, device: str = "auto",
          seed: int = 0, dim: int = 192, depth: int = 4, heads: int = 4, embed_dim: int = 96,
          window_bars: int = 8, width: int | None = None, eval_every: int = 500,
          checkpoint_every: int = 250, resume: bool = True, threads: int | None = 1,
          data_path=None, progress: bool = True, stop_at: int | None = None,
          max_minutes: float | None = None) -> dict:
    """Train GETDiff on POP909 (train split; held-out loss on the valid split) and save the
    model to ``out`` (``config.json`` + ``model.safetensors`` + ``training.json``).
    Checkpoints go to ``out/checkpoint``; run again to resume. ``stop_at``: stop after that
    step (a multiple of 50) of a ``steps``-step schedule, deterministically; ``max_minutes``
    stops at the first multiple of 50 steps past that time (``training.json`` records the step,
    so ``stop_at`` reproduces the run)."""
    from ..representations.grid import as_vocab
    from ..training import TrainConfig, fit, seed_everything

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = as_vocab("pop909")
    width = width or window_bars * 4 * vocab.resolution
    train_songs = pop909_grids("train", path=data_path, progress=progress)
    valid_songs = pop909_grids("valid", path=data_path, progress=progress)
    tables = transpose_tables(vocab)
    seed_everything(seed)
    model = GETDiff(vocab="pop909", embed_dim=embed_dim, dim=dim, depth=depth, heads=heads,
                    window_bars=window_bars)
    k = model.n_tracks
    ev_rng = np.random.default_rng(12345)
    eval_batches = [training_batch(valid_songs, ev_rng, batch=batch, bars=window_bars,
                                   width=width, n_tracks=k) for _ in range(4)]

    def make_batch(rng, step):
        return training_batch(train_songs, rng, batch=batch, bars=window_bars, width=width,
                              n_tracks=k, tables=tables)

    started = time.time()

    class _Stop(Exception):
        pass

    config = TrainConfig(steps=steps, lr=lr, warmup=min(200, steps // 10), schedule="cosine",
                         min_lr_ratio=0.1, weight_decay=0.01, eval_every=eval_every,
                         checkpoint_every=checkpoint_every, log_every=50, seed=seed,
                         device=device, threads=threads, progress=progress)

    def callback(entry):
        seen.append(entry)
        late = max_minutes and (time.time() - started) / 60 > max_minutes
        if (late or (stop_at and entry["step"] >= stop_at)) and entry["step"] < steps:
            stopped.append(entry["step"])
            raise _Stop()

    stopped: list[int] = []
    seen: list[dict] = []

    try:
        result = fit(model, make_batch, diffusion_loss, config=config,
                     eval_batches=eval_batches, checkpoint_dir=out / "checkpoint",
                     resume=resume, callback=callback)
        history, step = result.history, result.step
    except _Stop:  # the model in memory holds the weights of the step just logged
        history, step = seen, stopped[0]
    model.to("cpu").eval()
    model.save_pretrained(out, config=model.config)  # vocab slices in full, checked on load
    info = {"steps": step, "planned_steps": steps, "batch": batch, "lr": lr, "seed": seed,
            "window_bars": window_bars, "width": width, "parameters": model.n_parameters(),
            "minutes": round((time.time() - started) / 60, 1), "device": str(device),
            "history": history}
    (out / "training.json").write_text(json.dumps(info, indent=1))
    return info
