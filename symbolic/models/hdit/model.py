"""HDiT's denoiser network, read top to bottom: norms, the two kinds of block, the levels, the
mapping network, the model (the family's overview is in :mod:`symbolic.models.hdit`).

Tokens are kept as 2-D grids ``[B, H, W, C]`` throughout, so neighbourhood attention sees the
image's rows and columns; a level's blocks all work at one resolution.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import PRETRAINED_ROOT, HubModel, load_pretrained
from ...errors import DataNotFoundError
from ..layers import RotaryEmbedding, apply_rotary, attention, neighborhood_attention
from .edm import noise_conditioning
from .settings import Settings

__all__ = ["HDiT", "load", "images_to_tensor", "tensor_to_images", "ROTARY_BASE",
           "SCALE_INIT", "SCALE_MAX", "DEFAULT_NAME"]

#: Folder name of the shipped weights under ``symbolic/pretrained/`` (not trained yet).
DEFAULT_NAME = "hdit-pop909"

#: Rotary base of the axial positions: frequencies from 1 to about 1/50 per token, wavelengths
#: of 6 to 350 tokens, which suits grids of 16 to 64 tokens (base 10000 wastes half the
#: rotated channels on wavelengths far longer than any grid).
ROTARY_BASE = 100.0
#: Cosine-similarity attention: logits are ``scale * cos(q, k)`` with a learned scale per head,
#: starting at 10 (a softmax over cosines in [-1, 1] needs a temperature; 10 lets a head focus
#: from the start) and capped at 100 (so the logits stay bounded however training goes).
SCALE_INIT, SCALE_MAX = 10.0, 100.0


# =============================================================================================
# Norms and feed-forward
# =============================================================================================

def rms_norm(x: torch.Tensor, scale: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``x / rms(x) * scale`` over the last axis (computed in float32 at least)."""
    dtype = torch.promote_types(x.dtype, torch.float32)
    mean_sq = x.to(dtype).pow(2).mean(-1, keepdim=True)
    return (x * torch.rsqrt(mean_sq + eps).to(x.dtype)) * scale.to(x.dtype)


class RMSNorm(nn.Module):
    """RMSNorm with a learned scale per channel (starting at 1)."""

    def __init__(self, dim: int):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return rms_norm(x, self.scale)


class AdaRMSNorm(nn.Module):
    """RMSNorm whose per-channel scale is ``1 + linear(cond)``: the conditioning vector (noise
    level, chords) steers every block. The linear starts at zero (plain RMSNorm at init)."""

    def __init__(self, dim: int, cond_dim: int):
        super().__init__()
        self.linear = nn.Linear(cond_dim, dim, bias=False)
        nn.init.zeros_(self.linear.weight)

    def forward(self, x, cond):
        scale = 1 + self.linear(cond)  # [B, dim]
        return rms_norm(x, scale.view(scale.shape[0], *([1] * (x.dim() - 2)), -1))


class GEGLU(nn.Module):
    """``a * gelu(b)`` of the two halves of a linear map: the gated feed-forward's input
    layer."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.proj = nn.Linear(dim, 2 * hidden, bias=False)

    def forward(self, x):
        a, b = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(b)


class FeedForward(nn.Module):
    """Residual GEGLU feed-forward, ``ratio`` x the width inside; the output layer starts at
    zero, so the block starts as the identity. ``cond_dim``: an :class:`AdaRMSNorm` (None: a
    plain :class:`RMSNorm`, for the mapping network)."""

    def __init__(self, dim: int, ratio: int, dropout: float = 0.0, cond_dim: int | None = None):
        super().__init__()
        self.norm = RMSNorm(dim) if cond_dim is None else AdaRMSNorm(dim, cond_dim)
        self.up = GEGLU(dim, ratio * dim)
        self.drop = nn.Dropout(dropout)
        self.down = nn.Linear(ratio * dim, dim, bias=False)
        nn.init.zeros_(self.down.weight)

    def forward(self, x, cond=None):
        h = self.norm(x) if cond is None else self.norm(x, cond)
        return x + self.down(self.drop(self.up(h)))


# =============================================================================================
# Attention
# =============================================================================================

def axial_rotary(rotary: RotaryEmbedding, h: int, w: int, device, dtype):
    """cos and sin ``[h * w, head_dim / 4]`` for the rotated half of each head: its first
    quarter of channels turns with the token's row, its second quarter with its column (the
    other half of the head is left unrotated, free of position)."""
    cos_r, sin_r = rotary(h, device, dtype)
    cos_c, sin_c = rotary(w, device, dtype)

    def grid(rows, cols):
        return torch.cat([rows[:, None].expand(h, w, -1), cols[None].expand(h, w, -1)],
                         -1).reshape(h * w, -1)

    return grid(cos_r, cos_c), grid(sin_r, sin_c)


class SelfAttention(nn.Module):
    """Residual cosine-similarity self-attention over a token grid ``[B, H, W, dim]``.

    q and k are L2-normalised per head and their dot product multiplied by a learned scale per
    head (:data:`SCALE_INIT`, at most :data:`SCALE_MAX`); axial rotary positions turn half of
    each head (:func:`axial_rotary`). ``kernel``: neighbourhood attention over ``kernel x
    kernel`` tokens (:func:`~symbolic.models.layers.neighborhood_attention`); None: global
    attention (:func:`~symbolic.models.layers.attention`). The output projection starts at
    zero."""

    def __init__(self, dim: int, head_dim: int, cond_dim: int, kernel: int | None,
                 dropout: float = 0.0):
        super().__init__()
        self.heads, self.head_dim, self.kernel = dim // head_dim, head_dim, kernel
        self.norm = AdaRMSNorm(dim, cond_dim)
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.log_scale = nn.Parameter(torch.full((self.heads,), math.log(SCALE_INIT)))
        self.rotary = RotaryEmbedding(head_dim // 4, base=ROTARY_BASE)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dim, dim, bias=False)
        nn.init.zeros_(self.out.weight)

    def forward(self, x, cond):
        b, h, w, dim = x.shape
        q, k, v = self.qkv(self.norm(x, cond)).view(b, h * w, 3, self.heads, -1).unbind(2)
        # attention() and neighborhood_attention() divide logits by sqrt(head_dim): undo it
        scale = self.log_scale.clamp(max=math.log(SCALE_MAX)).exp() * math.sqrt(self.head_dim)
        q = F.normalize(q, dim=-1) * scale[:, None].to(q.dtype)
        k = F.normalize(k, dim=-1)
        cos, sin = axial_rotary(self.rotary, h, w, x.device, x.dtype)
        half = self.head_dim // 2
        q = torch.cat([apply_rotary(q[..., :half], cos, sin), q[..., half:]], -1)
        k = torch.cat([apply_rotary(k[..., :half], cos, sin), k[..., half:]], -1)
        if self.kernel is None:
            a = attention(q, k, v)
        else:
            grid = (b, h, w, self.heads, self.head_dim)
            a = neighborhood_attention(q.view(grid), k.view(grid), v.view(grid), self.kernel)
        return x + self.out(self.drop(a.reshape(b, h, w, dim)))


class Level(nn.Module):
    """``depth`` blocks (attention, then feed-forward) at one resolution."""

    def __init__(self, dim: int, depth: int, s: Settings, cond_dim: int, kernel: int | None,
                 dropout: float):
        super().__init__()
        self.blocks = nn.ModuleList()
        for _ in range(depth):
            self.blocks.append(SelfAttention(dim, s.head_dim, cond_dim, kernel, dropout))
            self.blocks.append(FeedForward(dim, s.ff_ratio, dropout, cond_dim))

    def forward(self, x, cond):
        for block in self.blocks:
            x = block(x, cond)
        return x


class TokenMerge(nn.Module):
    """2 x 2 tokens -> 1 (``[B, H, W, dim] -> [B, H/2, W/2, out]``), linear."""

    def __init__(self, dim: int, out: int):
        super().__init__()
        self.proj = nn.Linear(4 * dim, out, bias=False)

    def forward(self, x):
        b, h, w, c = x.shape
        x = x.view(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 2, 4, 5)
        return self.proj(x.reshape(b, h // 2, w // 2, 4 * c))


class TokenSplit(nn.Module):
    """1 token -> 2 x 2 (linear), then a learned per-channel lerp with the skip connection of
    the down path: ``skip + fac * (up - skip)``, ``fac`` starting at 0.5."""

    def __init__(self, dim: int, out: int):
        super().__init__()
        self.proj = nn.Linear(dim, 4 * out, bias=False)
        self.fac = nn.Parameter(torch.full((out,), 0.5))

    def forward(self, x, skip):
        b, h, w, _ = x.shape
        x = self.proj(x).view(b, h, w, 2, 2, -1).permute(0, 1, 3, 2, 4, 5)
        x = x.reshape(b, 2 * h, 2 * w, -1)
        return torch.lerp(skip, x, self.fac.to(x.dtype))


# =============================================================================================
# Mapping network
# =============================================================================================

class MappingNetwork(nn.Module):
    """The conditioning vector ``[B, mapping_width]``: random Fourier features of the noise
    level ``c_noise`` (fixed frequencies drawn once, std 1, kept in the weights), plus a linear
    embedding of the chord vector (zeros when absent), then ``mapping_depth`` residual GEGLU
    blocks between RMSNorms."""

    def __init__(self, s: Settings, n_fourier: int = 256):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.register_buffer("freqs", torch.randn(n_fourier // 2, generator=g))
        self.noise_in = nn.Linear(n_fourier, s.mapping_width, bias=False)
        self.chord_dim = s.chord_dim
        self.chord_in = nn.Linear(s.chord_dim, s.mapping_width, bias=False) if s.chord_dim else None
        self.norm_in = RMSNorm(s.mapping_width)
        self.blocks = nn.ModuleList(FeedForward(s.mapping_width, s.ff_ratio)
                                    for _ in range(s.mapping_depth))
        self.norm_out = RMSNorm(s.mapping_width)

    def forward(self, c_noise: torch.Tensor, cond: torch.Tensor | None):
        angle = 2 * math.pi * c_noise[:, None].float() * self.freqs[None]
        x = self.noise_in(torch.cat([angle.cos(), angle.sin()], -1).to(self.noise_in.weight.dtype))
        if cond is not None:
            if self.chord_in is None or cond.shape != (len(c_noise), self.chord_dim):
                raise ValueError(f"expected cond [B, {self.chord_dim}] (chord_dim "
                                 f"{self.chord_dim}), got {tuple(cond.shape)}")
            x = x + self.chord_in(cond.to(x.dtype))
        x = self.norm_in(x)
        for block in self.blocks:
            x = block(x)
        return self.norm_out(x)


# =============================================================================================
# The model
# =============================================================================================

class HDiT(nn.Module, HubModel):
    """The hourglass denoiser ``F``: ``forward(x, sigma, cond)`` is EDM's ``F_theta`` (see
    :mod:`~symbolic.models.hdit.edm`, whose :func:`~symbolic.models.hdit.edm.denoise` wraps it
    into the denoiser ``D``). ``settings``: a :class:`Settings` or its dict (None: the
    defaults); ``config.json`` holds it as a dict."""

    def __init__(self, settings: Settings | dict | None = None):
        super().__init__()
        s = settings if isinstance(settings, Settings) else Settings(**(settings or {}))
        self.settings = s
        self._hub_mixin_config = {"settings": s.to_dict()}  # what save_pretrained writes
        p, in_ch = s.patch, 2 * s.channels + 1
        cond_dim, levels = s.mapping_width, len(s.widths)
        self.mapping = MappingNetwork(s)
        self.patch_in = nn.Linear(in_ch * p * p, s.widths[0], bias=False)
        self.down = nn.ModuleList(Level(s.widths[i], s.depths[i], s, cond_dim, s.kernel,
                                        s.dropout[i]) for i in range(levels - 1))
        self.merges = nn.ModuleList(TokenMerge(s.widths[i], s.widths[i + 1])
                                    for i in range(levels - 1))
        self.middle = Level(s.widths[-1], s.depths[-1], s, cond_dim, None, s.dropout[-1])
        self.splits = nn.ModuleList(TokenSplit(s.widths[i + 1], s.widths[i])
                                    for i in range(levels - 1))
        self.up = nn.ModuleList(Level(s.widths[i], s.depths[i], s, cond_dim, s.kernel,
                                      s.dropout[i]) for i in range(levels - 1))
        self.norm_out = RMSNorm(s.widths[0])
        self.patch_out = nn.Linear(s.widths[0], s.channels * p * p, bias=False)
        nn.init.zeros_(self.patch_out.weight)

    def model_input(self, x, known=None, mask=None) -> torch.Tensor:
        """``[B, 2C+1, H, W]``: ``x`` (``[B, C, H, W]``), the known pixels (``known`` where
        ``mask`` is False, else 0) and the mask as 0/1 (``mask`` bool ``[B, 1, H, W]``, True
        where the model must fill; None: everywhere, with nothing known)."""
        if x.dim() != 4 or x.shape[1] != self.settings.channels:
            raise ValueError(f"expected x [B, {self.settings.channels}, H, W], got "
                             f"{tuple(x.shape)}")
        if mask is None:
            mask = torch.ones_like(x[:, :1], dtype=torch.bool)
        mask = mask.bool().expand(x.shape[0], 1, *x.shape[2:])
        known = torch.zeros_like(x) if known is None else known.to(x.dtype) * ~mask
        return torch.cat([x, known, mask.to(x.dtype)], 1)

    def forward(self, x, sigma, cond=None, *, known=None, mask=None):
        """``F(x)`` ``[B, C, H, W]`` for the (already ``c_in``-scaled) noisy image ``x``
        ``[B, C, H, W]`` at noise levels ``sigma`` ``[B]``, chord vectors ``cond`` ``[B,
        chord_dim]`` (None: zeros), and for inpainting ``known`` / ``mask`` (see
        :meth:`model_input`). H and W must be multiples of ``patch * 2 ** (levels - 1)``."""
        s, p = self.settings, self.settings.patch
        unit = p * 2 ** (len(s.widths) - 1)
        b, _, h, w = x.shape
        if h % unit or w % unit:
            raise ValueError(f"image sides must be multiples of {unit}, got {h} x {w}")
        c = self.mapping(noise_conditioning(sigma.to(x.dtype).expand(b)), cond)
        t = self.model_input(x, known, mask).view(b, -1, h // p, p, w // p, p)
        t = self.patch_in(t.permute(0, 2, 4, 1, 3, 5).reshape(b, h // p, w // p, -1))
        skips = []
        for level, merge in zip(self.down, self.merges):
            t = level(t, c)
            skips.append(t)
            t = merge(t)
        t = self.middle(t, c)
        for level, split, skip in reversed(list(zip(self.up, self.splits, skips))):
            t = level(split(t, skip), c)
        t = self.patch_out(self.norm_out(t)).view(b, h // p, w // p, -1, p, p)
        return t.permute(0, 3, 1, 4, 2, 5).reshape(b, -1, h, w)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def load(name_or_path=None, device: str = "auto") -> HDiT:
    """The shipped model (:data:`DEFAULT_NAME`, POP909), or ``name_or_path`` (a shipped name,
    a folder, a Hub id), on ``device`` (see :func:`symbolic.models.load_pretrained`). In a
    checkout whose shipped weights are missing, this raises
    :class:`~symbolic.errors.DataNotFoundError` saying how to train some."""
    shipped = PRETRAINED_ROOT / DEFAULT_NAME / "model.safetensors"
    if name_or_path is None and not shipped.is_file():
        raise DataNotFoundError("no shipped HDiT weights here: train a model with 'symbolic "
                                "train hdit --out DIR' and pass it as model=DIR (--model DIR)",
                                PRETRAINED_ROOT / DEFAULT_NAME)
    return load_pretrained(HDiT, DEFAULT_NAME, name_or_path, device)


# =============================================================================================
# Pixels <-> model range
# =============================================================================================

def images_to_tensor(images) -> torch.Tensor:
    """Piano-roll images (``uint8 [..., H, W, 3]``, :mod:`symbolic.representations.pianoroll`)
    as a float tensor ``[B, 3, H, W]`` in [-1, 1] (0 -> -1, 255 -> 1), the range EDM's
    ``sigma_data = 0.5`` is meant for."""
    x = torch.as_tensor(np.asarray(images, dtype=np.uint8))
    x = x.reshape(-1, *x.shape[-3:]).permute(0, 3, 1, 2)
    return x.float() / 127.5 - 1


def tensor_to_images(x: torch.Tensor) -> np.ndarray:
    """Inverse of :func:`images_to_tensor`: ``uint8 [B, H, W, C]``, rounded and clipped."""
    x = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round()
    return x.permute(0, 2, 3, 1).to(torch.uint8).cpu().numpy()
