"""GETDiff's denoiser, its loss and its sampler, read top to bottom (the family's overview is
in :mod:`symbolic.models.getdiff`).

Grid rows are :mod:`symbolic.representations.grid`'s (onset and duration of every track, chord
root and quality); cells hold the vocabulary's ids, PAD (no onset), EMPTY (absent) or MASK (to
generate). Cell roles: :data:`ROLE_EMPTY`, :data:`ROLE_SOURCE` (given), :data:`ROLE_TARGET`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...representations.grid import EMPTY, MASK, PAD, as_vocab
from .. import HubModel, load_pretrained
from ..layers import Transformer
from ... import checks
from ..sampling import (MAX_GIBBS_PASSES, categorical, gibbs_masker, guided_log_probs,
                        unmask_count, unmask_order, unmask_schedule)

__all__ = ["GETDiff", "load", "DEFAULT_NAME", "masked_input", "cell_nll", "diffusion_loss",
           "sample", "ROLE_EMPTY", "ROLE_SOURCE", "ROLE_TARGET", "PAD", "EMPTY", "MASK", "T_MIN",
           "MARK_UNKNOWN", "MARK_PLAIN", "MARK_FERMATA"]

#: Name of the shipped weights under ``symbolic/pretrained/``.
DEFAULT_NAME = "getdiff-band"
ROLE_EMPTY, ROLE_SOURCE, ROLE_TARGET = 0, 1, 2
MAX_BAR_STEPS = 64  # step-in-bar embeddings (a 4/4 bar at resolution 4 uses 16)
#: Column marks (models with ``column_marks``): nothing known, a plain column, a fermata onset.
MARK_UNKNOWN, MARK_PLAIN, MARK_FERMATA = 0, 1, 2
N_MARKS = 3
T_MIN = 1e-3  # smallest diffusion time drawn in training (the bound weighs cells by 1/t)


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
    ``settings``: the training :class:`~symbolic.models.getdiff.Settings` as a dict, kept in
    ``config.json`` for the record (None for models saved before it was recorded).
    ``context_tracks``: tracks the model reads but never writes (the band model's OTHER row);
    ``role_stats``: per track, figures of its training data that generation defaults to
    where a score gives none (``onsets_per_step``, ``pitch_lo``, ``pitch_hi``,
    ``polyphony``); ``column_marks``: the model reads a mark per column (:data:`MARK_UNKNOWN`,
    :data:`MARK_PLAIN`, :data:`MARK_FERMATA`; the chorale model: fermatas where the score
    has them, unknown where it says nothing).
    """

    def __init__(self, *, vocab: str = "pop909", vocab_size: int = 4145,
                 tracks: list | None = None, track_slices: list | None = None,
                 duration_offset: int = 3, n_durations: int = 16, embed_dim: int = 96,
                 dim: int = 192, depth: int = 4, heads: int = 4, mlp_ratio: float = 4.0,
                 dropout: float = 0.1, window_bars: int = 8, resolution: int = 4,
                 settings: dict | None = None, context_tracks: list | None = None,
                 role_stats: dict | None = None, column_marks: bool = False):
        super().__init__()
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
        if settings is not None:
            self.config["settings"] = dict(settings)
        self.context_tracks = [str(t) for t in context_tracks or ()]
        if any(t not in tracks for t in self.context_tracks):
            raise ValueError(f"context tracks {self.context_tracks} are not all among {tracks}")
        self.config["context_tracks"] = self.context_tracks
        self.role_stats = dict(role_stats or {})
        self.config["role_stats"] = self.role_stats
        self.column_marks = bool(column_marks)
        if self.column_marks:  # absent from older configs: they load as before
            self.config["column_marks"] = True
        self.tracks = list(tracks)
        self.n_tracks = k = len(tracks)
        self.track_slices = [tuple(map(int, s)) for s in track_slices]
        self.duration_offset, self.n_durations = duration_offset, n_durations
        self.window_bars = window_bars
        self.token = nn.Embedding(vocab_size, embed_dim)
        self.role = nn.Embedding(3 * (k + 1), embed_dim)  # (group, role)
        self.proj_in = nn.Linear((k + 1) * embed_dim, dim)
        self.bar_pos = nn.Embedding(MAX_BAR_STEPS, dim)
        self.marks = nn.Embedding(N_MARKS, dim) if self.column_marks else None
        self.body = Transformer(dim, depth, heads, mlp_ratio, dropout)
        self.onset_heads = nn.ModuleList(nn.Linear(dim, 1 + b - a) for a, b in self.track_slices)
        self.onset_in = nn.ModuleList(nn.Linear(embed_dim, dim) for _ in range(k))
        self.duration_heads = nn.ModuleList(nn.Linear(dim, n_durations) for _ in range(k))
        nn.init.normal_(self.token.weight, std=0.02)
        nn.init.normal_(self.role.weight, std=0.02)
        nn.init.normal_(self.bar_pos.weight, std=0.02)
        if self.marks is not None:
            nn.init.normal_(self.marks.weight, std=0.02)

    # -- encoding --------------------------------------------------------------------------
    def forward(self, tokens: torch.Tensor, role: torch.Tensor, bar_pos: torch.Tensor,
                marks: torch.Tensor | None = None):
        """Hidden states ``[B, L, dim]`` of ``tokens`` ``[B, 2K+2, L]`` with cell roles ``role``
        ``[B, K+1, L]`` (0 empty, 1 source, 2 target; group K is the chord), step-in-bar
        ``bar_pos`` ``[B, L]`` and, for a model with ``column_marks``, ``marks`` ``[B, L]``
        (None: every column :data:`MARK_UNKNOWN`; ignored by a model without them)."""
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
        if self.marks is not None:
            x = x + (self.marks.weight[MARK_UNKNOWN] if marks is None
                     else self.marks(marks.clamp(0, N_MARKS - 1)))
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


def load(name_or_path=None, device: str = "auto") -> GETDiff:
    """The shipped model (POP909: MELODY, BRIDGE, PIANO + chords), or ``name_or_path`` (a
    shipped name, a folder, a Hub id), on ``device`` (see
    :func:`symbolic.models.load_pretrained`: shipped weights load once per device)."""
    return load_pretrained(GETDiff, DEFAULT_NAME, name_or_path, device)


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
        hidden = model(masked_input(tokens, masked), batch["role"], batch["bar_pos"],
                       batch.get("marks"))
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
# Sampling (the shared parts are in symbolic.models.sampling)
# =============================================================================================

def _hidden(model: GETDiff, x, role, bar_pos, uncond_role, marks=None):
    """Hidden states with the chords, and without them when guidance needs it (else None)."""
    h = model(x, role, bar_pos, marks)
    if uncond_role is None:
        return h, None
    xu = x.clone()
    xu[:, 2 * model.n_tracks:] = EMPTY
    return h, model(xu, uncond_role, bar_pos, marks)


def _pad_bias(p_pad: torch.Tensor, row: torch.Tensor, need: torch.Tensor,
              iters: int = 40) -> torch.Tensor:
    """The PAD-logit shift per cell that makes the expected number of notes among the cells
    of each row ``need`` (exponential tilting: a shift b turns a cell's P(note) ``1 - p`` into
    ``(1 - p) / (1 - p + p e^b)``, decreasing in b; bisection per row). ``p_pad`` ``[n]``,
    ``row`` ``[n]`` (row of each cell), ``need`` ``[rows]`` (NaN: no control)."""
    rows = need.shape[0]
    lo = torch.full((rows,), -30.0, device=p_pad.device)
    hi = torch.full((rows,), 30.0, device=p_pad.device)
    p = p_pad.clamp(1e-9, 1 - 1e-9).double()
    for _ in range(iters):
        mid = (lo + hi) / 2
        q = (1 - p) / (1 - p + p * torch.exp(mid[row].double()))
        got = torch.zeros(rows, dtype=torch.float64, device=p.device).index_add_(0, row, q)
        more = got > need  # too many notes: shift PAD up
        lo = torch.where(more, mid, lo)
        hi = torch.where(more, hi, mid)
    bias = (lo + hi) / 2
    return torch.where(torch.isnan(need), torch.zeros_like(bias), bias)[row].float()


def _draw_cells(model: GETDiff, h, hu, cells, j: int, *, guidance, temperature, top_p,
                generator, allowed=None, need=None):
    """Draw track ``j``'s onset, then its duration given the onset, at ``cells``; returns
    (onset ids, duration ids, probability of each draw, the draw is a note, the model's own
    log-probability of the draw). ``allowed``: bool ``[B, classes]`` of the onset classes
    each row may draw (register and polyphony controls); ``need``: notes still wanted per row
    among these cells (NaN: free; the density control)."""
    bi, ci = cells
    raw = model.onset_logits(h[bi, ci], j).float()
    lo = raw
    if hu is not None:
        lo = guided_log_probs(lo, model.onset_logits(hu[bi, ci], j).float(), guidance)
    if allowed is not None:
        lo = lo.masked_fill(~allowed[bi], -float("inf"))
    if need is not None:
        tau = max(float(temperature), 1e-3)
        p_pad = (lo / tau).softmax(-1)[:, 0]
        lo = lo.clone()
        lo[:, 0] = lo[:, 0] + tau * _pad_bias(p_pad, bi, need)
    cls, conf = categorical(lo, temperature, top_p, generator)
    own = raw.log_softmax(-1).gather(-1, cls[:, None])[:, 0]
    on = model.onset_ids(cls, j)
    dur = torch.full_like(on, PAD)
    stack = on != PAD
    if stack.any():
        ld = model.duration_logits(h[bi, ci][stack], j, on[stack]).float()
        own_d = ld.log_softmax(-1)
        if hu is not None:
            ldu = model.duration_logits(hu[bi, ci][stack], j, on[stack]).float()
            ld = guided_log_probs(ld, ldu, guidance)
        dc, dconf = categorical(ld, temperature, top_p, generator)
        dur[stack] = dc + model.duration_offset
        conf = conf.clone()
        conf[stack] = conf[stack] * dconf
        own = own.clone()
        own[stack] = own[stack] + own_d.gather(-1, dc[:, None])[:, 0]
    return on, dur, conf, stack, own


def _need(density, target, masked, x, j):
    """Notes still wanted per row for track ``j`` (NaN where ``density`` is NaN): the target
    cells times the density, less the notes already written there."""
    if density is None:
        return None
    tj = target[:, j]
    written = (tj & ~masked[:, j] & (x[:, 2 * j] != PAD)).sum(-1).float()
    want = density[:, j] * tj.sum(-1).float()
    left = masked[:, j].sum(-1).float()
    return torch.minimum((want - written).clamp_min(0), left)


def _fill(model, x, masked, target, own, ts, ctx: dict, progress=None):
    """Unmask the ``masked`` cells of ``x`` (both changed in place) along the time grid ``ts``;
    ``own`` (``[B, K, L]``) receives each written cell's model log-probability. ``ctx``: the
    sampler's settings (see :func:`sample`)."""
    k = model.n_tracks
    allowed, density = ctx["allowed"], ctx["density"]
    for t, t_next in zip(ts[:-1], ts[1:]):
        if not masked.any():
            break
        h, hu = _hidden(model, x, ctx["role"], ctx["bar_pos"], ctx["uncond_role"],
                        ctx["marks"])
        for j in range(k):
            mk = masked[:, j]
            n_left = mk.sum(-1)  # [B]
            if not n_left.any():
                continue
            cells = torch.nonzero(mk, as_tuple=True)
            on, dur, conf, note, lp = _draw_cells(
                model, h, hu, cells, j, allowed=None if allowed is None else allowed[j],
                need=_need(density, target, masked, x, j), **ctx["draw"])
            chosen = ctx["pick"](mk, cells, conf, unmask_count(n_left, t, t_next), note=note,
                                 t=t, generator=ctx["draw"]["generator"], noise=ctx["noise"])
            bi, ci = cells
            sel = chosen[bi, ci]
            x[bi[sel], 2 * j, ci[sel]] = on[sel]
            x[bi[sel], 2 * j + 1, ci[sel]] = dur[sel]
            own[bi[sel], j, ci[sel]] = lp[sel]
            masked[:, j] &= ~chosen
        if progress is not None:
            progress.update(1)


@torch.no_grad()
def sample(model: GETDiff, tokens: torch.Tensor, role: torch.Tensor, bar_pos: torch.Tensor, *,
           steps: int = 16, temperature: float = 1.0, top_p: float = 0.95,
           guidance: float = 1.0, generator: torch.Generator | None = None,
           order: str = "confidence", noise: float = 1.0, progress=None,
           allowed: list | None = None, density: torch.Tensor | None = None,
           scores: list | None = None, resample: int = 0,
           resample_mask: str = "blocks", marks: torch.Tensor | None = None) -> torch.Tensor:
    """Fill every target cell (``role == ROLE_TARGET`` in the track groups) of ``tokens``
    (``[B, R, L]``) in ``steps`` steps; returns the completed tokens (sources untouched, bit
    for bit).

    At each step of :func:`~symbolic.models.sampling.unmask_schedule`, every masked cell of
    every track is drawn (``temperature``, 0: greedy; ``top_p``; the seeded ``generator``) and
    ``order`` (a key of :data:`~symbolic.models.sampling.UNMASK_ORDERS`: 'confidence',
    'random' or 'noisy', whose Gumbel scale is ``noise``) keeps as many per track as the
    schedule unmasks; the rest stay masked. ``guidance``: classifier-free chord guidance
    weight (1: plain conditional model; > 1 follows the chords more; only used when chord rows
    are given). ``progress``: anything with ``update(1)``, called once per step.

    ``resample`` (0 to 100): Gibbs-style rewrite passes after the schedule (0: none, the
    plain sampler, the same draws as without the option); each pass re-masks target cells
    chosen by ``resample_mask`` (a key of :data:`~symbolic.models.sampling.GIBBS_MASKS`; the
    share annealed from 0.5 to 0.1 over the passes) and redraws them, given every other cell,
    in ``max(1, steps // 2)`` steps of the same sampler and controls.

    Controls: ``allowed[j]`` (bool ``[B, 1 + stacks of track j]`` or None) limits the onset
    classes track ``j`` may draw (PAD, class 0, must stay allowed); ``density`` (``[B, K]``
    notes per target cell, NaN: free) tilts every draw's PAD probability so that the expected
    number of onsets in each row's target cells is the density times their number (re-solved
    at every step from what is written). ``scores``: a list that receives, per row, the
    model's mean log-probability per target cell of what it wrote (untempered, unguided,
    uncontrolled: how likely the plain model finds the result), each cell's as of the draw
    that wrote its final value: a cell redrawn by a resampling pass counts its
    log-probability given the cells outside that pass's mask and those the pass wrote before
    it (more context than its first draw had: figures with and without resampling are close
    but not strictly comparable). ``marks``: the column marks (``[B, L]``) of a model with
    ``column_marks`` (see :meth:`GETDiff.forward`).
    """
    resample = checks.integer("resample", resample, 0, MAX_GIBBS_PASSES)
    remask = gibbs_masker(resample_mask)
    k = model.n_tracks
    masked = role[:, :k] == ROLE_TARGET
    target = masked.clone()
    x = masked_input(tokens, masked)
    uncond_role = None
    if guidance != 1.0 and bool((role[:, k] == ROLE_SOURCE).any()):
        uncond_role = role.clone()
        uncond_role[:, k] = ROLE_EMPTY
    ctx = dict(role=role, bar_pos=bar_pos, marks=marks, uncond_role=uncond_role,
               allowed=allowed, density=density, pick=unmask_order(order), noise=noise,
               draw=dict(guidance=guidance, temperature=temperature, top_p=top_p,
                         generator=generator))
    own = torch.zeros(target.shape, device=x.device)
    _fill(model, x, masked, target, own, unmask_schedule(steps).tolist(), ctx, progress)
    for i in range(resample):
        masked = remask(target, i, resample, generator)
        x = masked_input(x, masked)
        _fill(model, x, masked, target, own, unmask_schedule(max(1, steps // 2)).tolist(), ctx,
              progress)
    if scores is not None:  # a redrawn cell's value replaced its first one in ``own``
        scores.extend((own.sum((1, 2)) / target.sum((1, 2)).clamp_min(1)).tolist())
    return x
