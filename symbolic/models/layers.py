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

__all__ = ["attention", "attention_backend", "neighborhood_attention", "RotaryEmbedding",
           "apply_rotary", "TransformerBlock", "Transformer"]

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


# ---------------------------------------------------------------------- neighbourhood attention

def _window_plan(n: int, window: int, tile: int, device) -> tuple[torch.Tensor, ...]:
    """One axis of :func:`neighborhood_attention`'s tiling, for ``n`` positions and a window of
    ``window`` keys (at most ``n``): ``(query_rows [tiles, t], key_rows [tiles, t + window -
    1], allowed [tiles, t, t + window - 1], back [n])``. Query ``i`` sees keys ``s_i .. s_i +
    window - 1`` with ``s_i = clamp(i - window // 2, 0, n - window)``; a tile of ``t``
    consecutive queries needs at most ``t + window - 1`` consecutive keys (its halo), which
    fit in the axis because ``t <= n - window + 1``. The last tile is moved back to end at
    ``n`` (it may overlap the one before); ``back[i]`` is query i's place in the flattened
    ``[tiles * t]`` tile positions."""
    t = max(1, min(tile, n - window + 1))
    halo = t + window - 1
    n_tiles = -(-n // t)
    first = (torch.arange(n_tiles, device=device) * t).clamp(max=n - t)
    query_rows = first[:, None] + torch.arange(t, device=device)
    key_first = (first - window // 2).clamp(0, n - halo)
    key_rows = key_first[:, None] + torch.arange(halo, device=device)
    start = (query_rows - window // 2).clamp(0, n - window)  # window start of each query
    allowed = (key_rows[:, None, :] >= start[:, :, None]) & \
              (key_rows[:, None, :] < start[:, :, None] + window)
    i = torch.arange(n, device=device)
    tile_of = (i // t).clamp(max=n_tiles - 1)
    back = tile_of * t + i - first[tile_of]
    return query_rows, key_rows, allowed, back


def neighborhood_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kernel: int, *,
                           tile: int = 8) -> torch.Tensor:
    """Neighbourhood attention (NATTEN's definition, dilation 1) over 2-D token grids
    ``[B, H, W, heads, head_dim]``, returning the same shape, scaled by ``1/sqrt(head_dim)``
    like :func:`attention`.

    The query at ``(i, j)`` attends to the ``kernel x kernel`` keys whose top-left corner is
    ``(clamp(i - kernel // 2, 0, H - kernel), clamp(j - kernel // 2, 0, W - kernel))``: near
    an edge the window shifts inward rather than shrinking, so every query sees exactly
    ``kernel**2`` keys. ``kernel`` must be odd. Along an axis shorter than ``kernel`` the
    window is that whole axis; a grid smaller than the kernel both ways is plain global
    attention and goes through :func:`attention`.

    How: block-wise. Queries are cut into ``tile x tile`` blocks; each block gathers the
    ``(tile + kernel - 1)**2`` keys its windows can reach (its halo) and runs
    ``scaled_dot_product_attention`` over them with a boolean mask that keeps each query's own
    window. Cost against an exact kernel (NATTEN): keys and values are gathered into halos,
    about ``((tile + kernel - 1) / tile)**2`` copies of them (3.1 for tile 8, kernel 7), and
    each query scores ``(tile + kernel - 1)**2`` keys instead of ``kernel**2`` (196 against
    49), a ``[B, tiles, heads, tile**2, (tile + kernel - 1)**2]`` score tensor, traded for
    batched matrix products; still linear in ``H * W``, where global attention is quadratic.
    """
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"the kernel must be a positive odd number, got {kernel}")
    if q.dim() != 5 or k.shape != q.shape or v.shape[:-1] != q.shape[:-1]:
        raise ValueError(f"expected q, k, v of one shape [B, H, W, heads, head_dim], got "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    b, h, w, heads, d = q.shape
    kh, kw = min(kernel, h), min(kernel, w)
    if kh == h and kw == w:
        flat = [t.reshape(b, h * w, heads, t.shape[-1]) for t in (q, k, v)]
        return attention(*flat).view(b, h, w, heads, v.shape[-1])
    q_rows, k_rows, row_ok, row_back = _window_plan(h, kh, tile, q.device)
    q_cols, k_cols, col_ok, col_back = _window_plan(w, kw, tile, q.device)
    tiles = (len(q_rows), len(q_cols))

    def blocks(x, rows, cols):  # [B, H, W, heads, D] -> [B, tiles_h, tiles_w, heads, L, D]
        index = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(*tiles, -1)
        return x.reshape(b, h * w, heads, x.shape[-1])[:, index].transpose(-3, -2)

    allowed = row_ok[:, None, :, None, :, None] & col_ok[None, :, None, :, None, :]
    allowed = allowed.reshape(*tiles, 1, row_ok.shape[1] * col_ok.shape[1], -1)
    out = F.scaled_dot_product_attention(blocks(q, q_rows, q_cols), blocks(k, k_rows, k_cols),
                                         blocks(v, k_rows, k_cols), attn_mask=allowed)
    th, tw = q_rows.shape[1], q_cols.shape[1]
    # query (i, j) is at row back[i] of the stacked row tiles, column back[j] of the column
    # tiles: tile (back[i] // th, back[j] // tw), position (back[i] % th, back[j] % tw) in it
    place = ((row_back // th * tiles[1])[:, None] + (col_back // tw)[None, :]) * (th * tw) \
        + (row_back % th)[:, None] * tw + (col_back % tw)[None, :]
    out = out.transpose(-3, -2).reshape(b, -1, heads, out.shape[-1])
    return out[:, place.reshape(-1)].view(b, h, w, heads, -1)
