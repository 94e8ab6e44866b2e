"""Building blocks shared by every model family: the one attention function, rotary
positions, and a pre-norm transformer block.

:func:`attention` is the only place where attention is computed (DESIGN rule 6): on CUDA, with
xformers installed and no explicit mask, it calls ``xformers.ops.memory_efficient_attention``;
everywhere else ``torch.nn.functional.scaled_dot_product_attention`` (which picks flash or
memory-efficient kernels itself on a GPU and a fused kernel on the CPU). Both take
``[batch, length, heads, head_dim]`` here, so callers never care which one ran.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["attention", "attention_backend", "RotaryEmbedding", "apply_rotary",
           "TransformerBlock", "Transformer"]

try:  # optional: the [gpu] extra
    import xformers.ops as _xops  # type: ignore
except Exception:  # noqa: BLE001 - absent or broken build: fall back to SDPA
    _xops = None


_XFORMERS_WORKS: dict[str, bool] = {}


def _xformers_works(dev: torch.device) -> bool:
    """Whether xformers' kernel really runs on ``dev``: an installed xformers built for another
    torch or CUDA imports fine and fails at the first call ("xFormers wasn't built with CUDA
    support"), so one tiny call decides, once per device, and a failure falls back to SDPA."""
    key = str(dev)
    if key not in _XFORMERS_WORKS:
        try:
            x = torch.zeros(1, 8, 1, 8, device=dev)
            _xops.memory_efficient_attention(x, x, x)
            _XFORMERS_WORKS[key] = True
        except Exception:  # noqa: BLE001 - any failure of the optional kernel means SDPA
            _XFORMERS_WORKS[key] = False
    return _XFORMERS_WORKS[key]


def attention_backend(device: torch.device | str, mask: bool = False) -> str:
    """'xformers' or 'sdpa': what :func:`attention` uses for tensors on ``device`` (xformers
    only on CUDA, without a mask, and when its kernel runs there)."""
    dev = torch.device(device)
    usable = _xops is not None and dev.type == "cuda" and not mask
    return "xformers" if usable and _xformers_works(dev) else "sdpa"


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
              key_padding_mask: torch.Tensor | None = None, causal: bool = False,
              dropout: float = 0.0) -> torch.Tensor:
    """Scaled dot-product attention over ``[B, L, H, D]`` tensors, returning ``[B, L, H, D]``.

    ``key_padding_mask``: bool ``[B, L]``, True where a key may be attended to (False: padding).
    ``causal``: each query sees only keys at or before it.
    """
    if attention_backend(q.device, key_padding_mask is not None) == "xformers":
        bias = _xops.LowerTriangularMask() if causal else None
        return _xops.memory_efficient_attention(q, k, v, attn_bias=bias, p=dropout)
    mask = None
    if key_padding_mask is not None:
        mask = key_padding_mask[:, None, None, :]  # [B, 1, 1, L]: broadcast over heads, queries
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                         attn_mask=mask, dropout_p=dropout,
                                         is_causal=causal and mask is None)
    return out.transpose(1, 2)


class RotaryEmbedding(nn.Module):
    """Rotary position embedding (RoFormer): cos/sin tables for positions 0..L-1, made on
    demand for any length (nothing learned, nothing stored in the weights)."""

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"rotary embeddings need an even head dimension, got {head_dim}")
        inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)
        self._cache: tuple | None = None

    def forward(self, length: int, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
        c = self._cache
        if c is None or c[0] < length or c[1].device != torch.device(device) or c[1].dtype != dtype:
            pos = torch.arange(max(length, 64), device=device, dtype=torch.float32)
            ang = torch.outer(pos, self.inv_freq.to(device))  # [L, D/2]
            self._cache = c = (len(pos), ang.cos().to(dtype), ang.sin().to(dtype))
        return c[1][:length], c[2][:length]


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` (``[B, L, H, D]``) by position: pairs (x[2i], x[2i+1]) turn by angle_i."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), dim=-1).flatten(-2)


class TransformerBlock(nn.Module):
    """Pre-norm block: x + attn(norm(x)), then x + mlp(norm(x)) (GELU MLP, ``mlp_ratio``)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, dropout: float = 0.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not a multiple of heads {heads}")
        self.heads, self.dropout = heads, dropout
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, rotary=None, key_padding_mask=None, causal: bool = False):
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, d // self.heads).unbind(2)
        if rotary is not None:
            q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        a = attention(q, k, v, key_padding_mask=key_padding_mask, causal=causal,
                      dropout=self.dropout if self.training else 0.0)
        x = x + self.drop(self.proj(a.reshape(b, n, d)))
        return x + self.drop(self.mlp(self.norm2(x)))


class Transformer(nn.Module):
    """A stack of :class:`TransformerBlock` with rotary positions and a final LayerNorm."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float = 4.0,
                 dropout: float = 0.0):
        super().__init__()
        self.blocks = nn.ModuleList(TransformerBlock(dim, heads, mlp_ratio, dropout)
                                    for _ in range(depth))
        self.rotary = RotaryEmbedding(dim // heads)
        self.norm = nn.LayerNorm(dim)
        self.reset_parameters(depth)

    def reset_parameters(self, depth: int) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        for blk in self.blocks:  # residual projections scaled by depth (GPT-2)
            nn.init.normal_(blk.proj.weight, std=0.02 / math.sqrt(2 * depth))
            nn.init.normal_(blk.mlp[2].weight, std=0.02 / math.sqrt(2 * depth))

    def forward(self, x, key_padding_mask=None, causal: bool = False):
        rot = self.rotary(x.shape[1], x.device, x.dtype)
        for blk in self.blocks:
            x = blk(x, rot, key_padding_mask, causal)
        return self.norm(x)
