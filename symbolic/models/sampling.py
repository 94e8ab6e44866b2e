"""Samplers shared by the diffusion models, in the k-diffusion style: schedules are functions
that return tensors, and every interchangeable part is a short function with one signature.

**Masked (absorbing-state) diffusion** (GETDiff): a model's loop draws every masked cell at
each step (:func:`categorical`, optionally mixed with :func:`guided_log_probs`), asks
:func:`unmask_count` how many cells the schedule commits, and an *unmasking order* picks which:
:data:`UNMASK_ORDERS` maps a name to a function of the signature ::

    order(masked, cells, conf, keep, *, note, t, generator, noise) -> chosen

``masked``: bool ``[B, L]`` (the cells still masked); ``cells``: ``(batch index, column)`` of
the drawn cells, each ``[N]``; ``conf``: ``[N]`` probability of each draw; ``keep``:
``[B]`` how many to commit per piece; ``note``: bool ``[N]``, the draw is a note rather than
silence; ``t``: the step's time in (0, 1]; ``generator``: a CPU ``torch.Generator`` (orders that
draw take it); ``noise``: the scale of an order's own noise. Returns bool ``[B, L]``, a subset
of ``masked``. Random numbers are drawn in a fixed order, so a seed gives the same result on
every run.

**Gibbs-style resampling** (rewrite passes after the schedule, as Coconet's blocked Gibbs
sampling, Huang et al. 2017, "Counterpoint by Convolution", and ImprovNet's iterative
corruption-refinement, Bhandari et al. 2025): each pass re-masks some of the generated cells
and redraws them given all the others, with a masking probability annealed from ``start`` to
``end`` over the passes (Coconet: coarse rewrites first, then local ones). :data:`GIBBS_MASKS`
maps a name to a function of the signature ::

    mask(target, pass_index, passes, generator, *, start=0.5, end=0.1) -> remask

``target``: bool ``[B, K, L]`` (the generated cells, per track); ``pass_index`` in
``0 .. passes - 1``; returns bool ``[B, K, L]``, a subset of ``target``.

**Continuous noise** (HDiT): a schedule (:func:`karras_sigmas`) is a tensor of noise levels;
samplers share the signature ::

    sample_x(denoiser, x, sigmas, *, generator=None, callback=None, **extra) -> x0

with ``denoiser(x, sigma, **extra) -> x0 estimate``; each is a loop over a *step* function
(:data:`CONTINUOUS_STEPS`: Euler, Heun, DPM-Solver++(2M) SDE), and :func:`sample_inpaint` runs
any step with RePaint's known-region replacement and resampling (section below).
"""

from __future__ import annotations

import torch

from ..errors import SymbolicError

__all__ = ["unmask_schedule", "unmask_count", "categorical", "guided_log_probs", "confidence",
           "random", "noisy", "UNMASK_ORDERS", "unmask_order", "gibbs_fraction", "gibbs_mask",
           "gibbs_cells", "GIBBS_MASKS", "gibbs_masker", "GIBBS_BLOCK",
           "MAX_GIBBS_PASSES", "karras_sigmas", "gaussian_like", "euler_step", "heun_step",
           "dpmpp_2m_sde_step", "CONTINUOUS_STEPS", "continuous_step", "sample_euler",
           "sample_heun", "sample_dpmpp_2m_sde", "sample_inpaint"]


# ------------------------------------------------------------------------ masked diffusion

def unmask_schedule(steps: int) -> torch.Tensor:
    """The linear (MDLM) time grid of ``steps`` steps: float64 ``[steps + 1]`` from 1 to 0,
    ``t_i = 1 - i / steps`` (a cell still masked at ``t`` stays masked to ``t_next`` with
    probability ``t_next / t``)."""
    steps = max(1, int(steps))
    return 1.0 - torch.arange(steps + 1, dtype=torch.float64) / steps


def unmask_count(n_masked: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    """How many of ``n_masked`` (``[B]``) cells to commit going from ``t`` to ``t_next``: the
    schedule's expected share rounded up, every one at the last step."""
    if t_next <= 0:
        return n_masked
    return torch.ceil(n_masked * (1.0 - t_next / t)).long()


def categorical(logits: torch.Tensor, temperature: float = 1.0, top_p: float = 1.0,
                generator: torch.Generator | None = None):
    """Draw one class per row of ``logits`` (``[N, C]``); returns (classes ``[N]``, their
    probability ``[N]`` under the tempered, truncated distribution). ``temperature`` 0 is the
    argmax (nothing drawn); ``top_p`` < 1 keeps the smallest set of most probable classes whose
    mass reaches it (nucleus)."""
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
    if generator is not None and generator.device != p.device:
        # the seeded generator lives on the CPU (same draws on every device): draw there
        c = torch.multinomial(p.float().cpu(), 1, generator=generator)[:, 0].to(p.device)
    else:
        c = torch.multinomial(p, 1, generator=generator)[:, 0]
    return c, p.gather(-1, c[:, None])[:, 0]


def guided_log_probs(cond: torch.Tensor, uncond: torch.Tensor, scale: float) -> torch.Tensor:
    """Classifier-free guidance on logits: ``log p_u + scale * (log p_c - log p_u)`` (1: the
    conditional model; > 1 follows the condition more)."""
    lu = uncond.log_softmax(-1)
    return lu + scale * (cond.log_softmax(-1) - lu)


def _top(masked, cells, score, keep):
    """The ``keep`` highest-scoring drawn cells of each piece."""
    bi, ci = cells
    full = torch.full(masked.shape, -float("inf"), device=masked.device)
    full[bi, ci] = score
    rank = full.argsort(-1, descending=True).argsort(-1)
    return masked & (rank < keep[:, None])


def confidence(masked, cells, conf, keep, *, note=None, t=1.0, generator=None, noise=1.0):
    """The most confident draws, ``keep`` per piece split between notes and silent cells in
    the proportion drawn.

    Plain confidence order commits the near-certain silent cells first, and a grid that is
    mostly silent then stays silent (on held-out POP909 windows, an early GETDiff checkpoint
    kept a few percent of the true number of notes that way); the split keeps the note density
    of the model's own draws. With ``note`` None (or all True) it is plain confidence order."""
    bi, ci = cells
    if note is None:
        note = torch.ones_like(conf, dtype=torch.bool)
    dev = masked.device
    chosen = torch.zeros_like(masked)
    n_note = torch.zeros(masked.shape[0], device=dev).index_add_(0, bi, note.float())
    n_all = masked.sum(-1).float()
    keep_note = torch.round(keep * n_note / n_all.clamp(min=1)).long()
    for group, quota in ((note, keep_note), (~note, keep - keep_note)):
        score = torch.full(masked.shape, -float("inf"), device=dev)
        score[bi[group], ci[group]] = conf[group]
        rank = score.argsort(-1, descending=True).argsort(-1)
        chosen |= (rank < quota[:, None]) & (score > -float("inf"))
    return chosen


def random(masked, cells, conf, keep, *, note=None, t=1.0, generator=None, noise=1.0):
    """A uniform subset (MDLM's ancestral order: exact for the model)."""
    score = torch.rand(conf.shape, generator=generator).to(masked.device)
    return _top(masked, cells, score, keep)


def noisy(masked, cells, conf, keep, *, note=None, t=1.0, generator=None, noise=1.0):
    """Confidence plus Gumbel noise that fades with ``t`` (MaskGIT); like plain confidence, it
    tends to silence sparse tracks."""
    u = torch.rand(conf.shape, generator=generator).clamp(1e-9, 1 - 1e-9)
    gumbel = -torch.log(-torch.log(u)).to(masked.device)
    return _top(masked, cells, conf.clamp_min(1e-9).log() + noise * t * gumbel, keep)


#: Unmasking orders by name (one signature, see the module doc).
UNMASK_ORDERS = {"confidence": confidence, "random": random, "noisy": noisy}


def unmask_order(name: str):
    """The unmasking order called ``name`` (a key of :data:`UNMASK_ORDERS`)."""
    if name not in UNMASK_ORDERS:
        raise SymbolicError(f"must be one of {', '.join(UNMASK_ORDERS)}, got {name!r}", "order")
    return UNMASK_ORDERS[name]


# ------------------------------------------------------------------------ Gibbs resampling

#: Columns per block of :func:`gibbs_mask`: a beat of a 4-steps-per-quarter grid.
GIBBS_BLOCK = 4
#: The most resampling passes a sampler takes.
MAX_GIBBS_PASSES = 100


def gibbs_fraction(pass_index: int, passes: int, start: float = 0.5, end: float = 0.1) -> float:
    """The masking probability of pass ``pass_index`` of ``passes``: linear from ``start``
    (first pass) to ``end`` (last; a single pass uses ``start``), as Coconet's annealing
    (there from 0.9 down to 0.05 over many more passes)."""
    if passes <= 1:
        return float(start)
    return float(start + (end - start) * pass_index / (passes - 1))


def gibbs_mask(target, pass_index, passes, generator=None, *, start=0.5, end=0.1):
    """Blocked Gibbs: per track, blocks of :data:`GIBBS_BLOCK` contiguous columns (a beat;
    the block boundaries shift by a random offset per track and pass), each re-masked with
    the pass's :func:`gibbs_fraction`. Rewriting a whole beat of a part lets a figure change
    where redrawing single cells would keep its neighbours' choices."""
    b, k, n = target.shape
    frac = gibbs_fraction(pass_index, passes, start, end)
    offset = torch.randint(0, GIBBS_BLOCK, (b, k, 1), generator=generator)
    block = (torch.arange(n)[None, None] + offset) // GIBBS_BLOCK  # [B, K, L]
    u = torch.rand((b, k, n // GIBBS_BLOCK + 2), generator=generator)
    return target & (u.gather(-1, block) < frac).to(target.device)


def gibbs_cells(target, pass_index, passes, generator=None, *, start=0.5, end=0.1):
    """Independent Gibbs (Coconet's default, ImprovNet's corruption): every generated cell
    re-masked on its own with the pass's :func:`gibbs_fraction`."""
    frac = gibbs_fraction(pass_index, passes, start, end)
    return target & (torch.rand(target.shape, generator=generator) < frac).to(target.device)


#: Gibbs re-masking rules by name (one signature, see the module doc).
GIBBS_MASKS = {"blocks": gibbs_mask, "cells": gibbs_cells}


def gibbs_masker(name: str):
    """The re-masking rule called ``name`` (a key of :data:`GIBBS_MASKS`)."""
    if name not in GIBBS_MASKS:
        raise SymbolicError(f"must be one of {', '.join(GIBBS_MASKS)}, got {name!r}",
                            "resample_mask")
    return GIBBS_MASKS[name]


# ------------------------------------------------------------------------ continuous noise
#
# EDM's variance-exploding view (Karras et al. 2022): ``x_sigma = x0 + sigma * noise``, and a
# *denoiser* ``denoiser(x, sigma, **extra) -> x0 estimate`` (``x`` ``[B, ...]``, ``sigma``
# ``[B]``). A schedule is a float tensor of noise levels from high to low ending in 0. A
# *step* function moves ``x`` from ``sigma`` to ``sigma_next``::
#
#     step(denoiser, x, sigma, sigma_next, state, *, generator, extra) -> (x_next, state)
#
# ``state`` is what a multistep method carries between steps (None at the first step). The
# samplers (:func:`sample_euler`, :func:`sample_heun`, :func:`sample_dpmpp_2m_sde`) share one
# signature, and :func:`sample_inpaint` runs any step with the known region re-noised after
# each step (RePaint) and ``U`` resampling passes. Noise is drawn on the CPU from
# ``generator`` and moved to ``x``'s device: a seed gives the same draws on every device.


def karras_sigmas(n: int, sigma_min: float = 0.01, sigma_max: float = 160.0, rho: float = 7.0,
                  device=None) -> torch.Tensor:
    """EDM's schedule of ``n`` steps: float32 ``[n + 1]``, ``sigma_i = (sigma_max^(1/rho) +
    i / (n - 1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho`` for ``i < n`` (``sigma_max`` to
    ``sigma_min``; ``rho`` 7 spends more steps at low noise), then 0."""
    n = max(1, int(n))
    ramp = torch.linspace(0, 1, n, dtype=torch.float64)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (hi + ramp * (lo - hi)) ** rho
    if n == 1:
        sigmas = torch.tensor([float(sigma_max)], dtype=torch.float64)
    return torch.cat([sigmas, sigmas.new_zeros(1)]).float().to(device)


def gaussian_like(x: torch.Tensor, generator=None) -> torch.Tensor:
    """Standard normal noise shaped as ``x``, drawn on the CPU from ``generator``."""
    return torch.randn(x.shape, generator=generator, dtype=torch.float32).to(x)


def _call(denoiser, x, sigma, extra):
    return denoiser(x, sigma.to(x.dtype).expand(x.shape[0]), **extra)


def euler_step(denoiser, x, sigma, sigma_next, state, *, generator=None, extra=None):
    """One Euler step of the probability-flow ODE ``dx/dsigma = (x - D(x, sigma)) / sigma``."""
    d = _call(denoiser, x, sigma, extra or {})
    return x + (x - d) / sigma * (sigma_next - sigma), None


def heun_step(denoiser, x, sigma, sigma_next, state, *, generator=None, extra=None):
    """EDM's Heun step (Karras et al. 2022, Algorithm 1 without churn): an Euler step, then
    the mean of the slopes at both ends (plain Euler into ``sigma_next`` = 0)."""
    extra = extra or {}
    slope = (x - _call(denoiser, x, sigma, extra)) / sigma
    x_euler = x + slope * (sigma_next - sigma)
    if float(sigma_next) == 0:
        return x_euler, None
    slope_next = (x_euler - _call(denoiser, x_euler, sigma_next, extra)) / sigma_next
    return x + (slope + slope_next) / 2 * (sigma_next - sigma), None


def dpmpp_2m_sde_step(denoiser, x, sigma, sigma_next, state, *, generator=None, extra=None):
    """DPM-Solver++(2M) SDE (Lu et al. 2022), data prediction, written for ``alpha = 1``.

    With ``lambda = -log sigma`` and ``h = log(sigma / sigma_next)``, the SDE's exact solution
    over the step is ``x' = e^{-2h} x + 2 int_0^h e^{-2(h-u)} D(u) du + sigma_next
    sqrt(1 - e^{-2h}) z``. Taking ``D`` constant gives the first-order step (the DDPM
    posterior draw: mean ``r^2 x + (1 - r^2) D`` with ``r = sigma_next / sigma``); the second
    order adds ``D``'s slope in ``lambda``, estimated from the previous step's denoised
    estimate (``state``: ``(D_prev, h_prev)``), times ``int_0^h 2 e^{-2(h-u)} u du =
    h - (1 - e^{-2h}) / 2``. The last step (``sigma_next`` = 0) returns ``D``."""
    d = _call(denoiser, x, sigma, extra or {})
    if float(sigma_next) == 0:
        return d, None
    h = torch.log(sigma / sigma_next)
    decay = torch.exp(-2 * h)
    x_next = decay * x + (1 - decay) * d
    if state is not None:
        d_prev, h_prev = state
        x_next = x_next + (d - d_prev) / h_prev * (h - (1 - decay) / 2)
    x_next = x_next + sigma_next * torch.sqrt(1 - decay) * gaussian_like(x, generator)
    return x_next, (d, h)


#: Step functions of the continuous-noise samplers by name (one signature, see above).
CONTINUOUS_STEPS = {"euler": euler_step, "heun": heun_step, "dpmpp_2m_sde": dpmpp_2m_sde_step}


def continuous_step(name: str):
    """The step function called ``name`` (a key of :data:`CONTINUOUS_STEPS`)."""
    if name not in CONTINUOUS_STEPS:
        raise SymbolicError(f"must be one of {', '.join(CONTINUOUS_STEPS)}, got {name!r}",
                            "sampler")
    return CONTINUOUS_STEPS[name]


def _run_steps(step, denoiser, x, sigmas, generator, callback, extra):
    state = None
    for i in range(len(sigmas) - 1):
        x, state = step(denoiser, x, sigmas[i], sigmas[i + 1], state, generator=generator,
                        extra=extra)
        if callback is not None:
            callback({"i": i, "x": x, "sigma": sigmas[i], "sigma_next": sigmas[i + 1]})
    return x


@torch.no_grad()
def sample_euler(denoiser, x, sigmas, *, generator=None, callback=None, **extra):
    """Euler's method over the schedule ``sigmas`` from ``x`` (noise at ``sigmas[0]``);
    ``callback`` sees ``{i, x, sigma, sigma_next}`` after each step; ``extra`` goes to the
    denoiser."""
    return _run_steps(euler_step, denoiser, x, sigmas, generator, callback, extra)


@torch.no_grad()
def sample_heun(denoiser, x, sigmas, *, generator=None, callback=None, **extra):
    """Heun's method (two denoiser calls per step but the last), as :func:`sample_euler`."""
    return _run_steps(heun_step, denoiser, x, sigmas, generator, callback, extra)


@torch.no_grad()
def sample_dpmpp_2m_sde(denoiser, x, sigmas, *, generator=None, callback=None, **extra):
    """DPM-Solver++(2M) SDE (:func:`dpmpp_2m_sde_step`), as :func:`sample_euler`; draws noise
    from ``generator`` at every step."""
    return _run_steps(dpmpp_2m_sde_step, denoiser, x, sigmas, generator, callback, extra)


@torch.no_grad()
def sample_inpaint(denoiser, x, sigmas, known, mask, *, sampler: str = "dpmpp_2m_sde",
                   resample: int = 1, generator=None, callback=None, **extra):
    """Fill ``mask`` (bool, broadcastable to ``x``; True: to generate) with the step
    ``sampler`` (:data:`CONTINUOUS_STEPS`), keeping ``known`` (clean, shaped as ``x``)
    elsewhere, after RePaint (Lugmayr et al. 2022):

    - after every step the pixels outside the mask are replaced by ``known`` noised to the
      step's ``sigma_next`` (fresh noise), so the generated region always sees a context at
      its own noise level, and the result holds ``known`` exactly there;
    - ``resample`` = U >= 1: a step is done U times; between two tries the result is noised
      from ``sigma_next`` back to ``sigma`` (adding variance ``sigma^2 - sigma_next^2``), so
      the region and its context can agree before going on. A multistep method's history
      is dropped on a retry (its slope estimate would difference two independently noised
      points and, measured on Gaussian data, inflate the variance several times over), so
      a retry is a first-order step.

    ``x``: the start (noise at ``sigmas[0]``; pixels outside the mask are replaced at once)."""
    step = continuous_step(sampler)
    keep = ~mask.bool()
    known = known.to(x)
    x = torch.where(keep, known + sigmas[0] * gaussian_like(x, generator), x)
    state = None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        for u in range(max(1, int(resample))):
            if u:
                x = x + torch.sqrt(sigma ** 2 - sigma_next ** 2) * gaussian_like(x, generator)
            out, new_state = step(denoiser, x, sigma, sigma_next, None if u else state,
                                  generator=generator, extra=extra)
            x = torch.where(keep, known + sigma_next * gaussian_like(x, generator), out)
        state = new_state
        if callback is not None:
            callback({"i": i, "x": x, "sigma": sigma, "sigma_next": sigma_next})
    return x
