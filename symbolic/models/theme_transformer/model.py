"""Theme Transformer (Shih, Wu, Zalkow, Müller & Yang, IEEE TMM 2022), small: an encoder reads
the theme's events; every decoder layer runs causal self-attention and cross-attention to the
theme *in parallel* on the same input, and adds their outputs through gates.

**Gates.** A token is in a theme region when its theme-aligned position
(:func:`symbolic.representations.theme_events.theme_positions`: 1 at ``Theme_Start``, counting
up inside the region, 0 outside) is positive. Cross-attention's output is multiplied by that
gate (on inside, off outside); in the last ``xor_layers`` layers self-attention's output is
multiplied by its complement (the "XOR" layers: inside a region only the theme is read).

**Positions.** Self-attention uses rotary positions (relative, so a sliding cache at
generation needs no re-encoding). Cross-attention's query adds a sinusoidal code of the
token's theme-aligned position, and the theme's encoding adds the code of its own position
(1, 2, ... from its ``Theme_Start``): a token ``k`` tokens into a region is pointed at the
theme's ``k``-th token. Every attention goes through :func:`symbolic.models.layers.attention`.

``decoder_only=True`` builds the baseline of the same size: no encoder, no cross-attention.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...representations.theme_events import PAD, VOCAB
from .. import HubModel, load_pretrained
from ..layers import RotaryEmbedding, Transformer, apply_rotary, attention

__all__ = ["ThemeTransformer", "DecoderLayer", "sinusoid", "load", "DEFAULT", "BASELINE"]

#: Names of the shipped weights under ``symbolic/pretrained/``.
DEFAULT = "theme-transformer"
BASELINE = "theme-decoder"


def sinusoid(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """The sinusoidal code ``[..., dim]`` of integer ``positions`` (Vaswani et al.); position
    0 (outside every theme region) codes to zeros."""
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, device=positions.device) / half)
    ang = positions.float()[..., None] * freq
    code = torch.cat([ang.sin(), ang.cos()], dim=-1)
    return code * (positions > 0)[..., None]


class DecoderLayer(nn.Module):
    """Pre-norm layer: ``x + s * self(x) + g * cross(x, theme) `` then ``x + ffn(x)``, with
    ``g`` the theme gate of each token and ``s`` 1 (or ``1 - g`` in an XOR layer)."""

    def __init__(self, dim: int, heads: int, ffn: int, dropout: float, cross: bool,
                 xor: bool):
        super().__init__()
        self.heads, self.xor, self.dropout = heads, xor, dropout
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.cross = cross
        if cross:
            self.q_theme = nn.Linear(dim, dim)
            self.kv_theme = nn.Linear(dim, 2 * dim)
            self.proj_theme = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, ffn), nn.GELU(), nn.Linear(ffn, dim))
        self.drop = nn.Dropout(dropout)

    def _heads(self, x):
        b, n, d = x.shape
        return x.view(b, n, self.heads, d // self.heads)

    def self_attention(self, h, rotary, cache):
        b, n, d = h.shape
        q, k, v = self.qkv(h).view(b, n, 3, self.heads, d // self.heads).unbind(2)
        q, k = apply_rotary(q, *rotary), apply_rotary(k, *rotary)
        if cache is not None and "k" in cache:
            k, v = torch.cat([cache["k"], k], 1), torch.cat([cache["v"], v], 1)
        if cache is not None:
            cache["k"], cache["v"] = k, v
        # one new query over its cached past needs no mask; a whole window is causal
        out = attention(q, k, v, causal=n > 1,
                        dropout=self.dropout if self.training else 0.0)
        return self.proj(out.reshape(b, n, d))

    def cross_attention(self, h, theme_code, theme):
        b, n, d = h.shape
        q = self._heads(self.q_theme(h + theme_code))
        k, v = self.kv_theme(theme["memory"]).chunk(2, dim=-1)
        out = attention(q, self._heads(k), self._heads(v), key_padding_mask=theme["mask"],
                        dropout=self.dropout if self.training else 0.0)
        return self.proj_theme(out.reshape(b, n, d))

    def forward(self, x, gate, theme_code, rotary, theme=None, cache=None):
        h = self.norm1(x)
        a = self.self_attention(h, rotary, cache)
        if self.xor:
            a = a * (1.0 - gate)
        if self.cross and theme is not None:
            a = a + gate * self.cross_attention(h, theme_code, theme)
        x = x + self.drop(a)
        return x + self.drop(self.mlp(self.norm2(x)))


class ThemeTransformer(nn.Module, HubModel, library_name="symbolic",
                       tags=["symbolic-music", "theme", "seq2seq", "pop909"]):
    """``forward(ids, positions, theme=None, theme_mask=None) -> logits [B, L, vocab]``:
    ``ids`` ``[B, L]`` event ids, ``positions`` ``[B, L]`` their theme-aligned positions
    (:func:`~symbolic.representations.theme_events.theme_positions`), ``theme`` ``[B, M]``
    the theme's event ids (``Theme_Start ... Theme_End``; PAD after the end), ``theme_mask``
    ``[B, M]`` True on real theme tokens (default: not PAD). ``settings``: the recipe
    (:class:`~.settings.Settings` as a dict)."""

    def __init__(self, dim: int = 128, heads: int = 4, ffn: int = 512, encoder_layers: int = 3,
                 decoder_layers: int = 3, xor_layers: int = 1, dropout: float = 0.1,
                 decoder_only: bool = False, max_theme_position: int = 1024,
                 settings: dict | None = None):
        super().__init__()
        self.settings = dict(settings or {})
        self.dim, self.heads = int(dim), int(heads)
        self.decoder_only = bool(decoder_only)
        self.max_theme_position = int(max_theme_position)
        self.embed = nn.Embedding(len(VOCAB), dim)
        if not self.decoder_only:
            self.theme_embed = nn.Embedding(len(VOCAB), dim)
            self.encoder = Transformer(dim, encoder_layers, heads, ffn / dim, dropout)
        self.layers = nn.ModuleList(
            DecoderLayer(dim, heads, ffn, dropout, cross=not self.decoder_only,
                         xor=i >= decoder_layers - xor_layers and not self.decoder_only)
            for i in range(decoder_layers))
        self.rotary = RotaryEmbedding(dim // heads)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, len(VOCAB))

    def encode_theme(self, theme: torch.Tensor, theme_mask: torch.Tensor | None = None) -> dict:
        """What every decoder layer's cross-attention reads: ``{"memory": [B, M, dim],
        "mask": [B, M]}`` (the encoder's output plus each theme token's position code)."""
        if self.decoder_only:
            return None
        mask = theme != PAD if theme_mask is None else theme_mask
        memory = self.encoder(self.theme_embed(theme), key_padding_mask=mask)
        pos = torch.arange(1, theme.shape[1] + 1, device=theme.device).expand_as(theme)
        return {"memory": memory + sinusoid(pos.clamp(max=self.max_theme_position), self.dim),
                "mask": mask}

    def decode(self, ids, positions, theme: dict | None = None, caches=None, start: int = 0):
        """Logits ``[B, L, vocab]`` of ``ids`` whose first token sits at absolute position
        ``start``; ``caches`` (one dict per layer) hold and receive the self-attention keys
        and values of earlier tokens (generation)."""
        n = ids.shape[1]
        cos, sin = self.rotary(start + n, ids.device, torch.float32)
        rotary = (cos[start:], sin[start:])
        positions = positions.clamp(max=self.max_theme_position)
        gate = (positions > 0).float()[..., None]
        code = sinusoid(positions, self.dim)
        x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, gate, code, rotary, theme, None if caches is None else caches[i])
        return self.head(self.norm(x))

    def forward(self, ids, positions, theme=None, theme_mask=None):
        memory = None if theme is None else self.encode_theme(theme, theme_mask)
        return self.decode(ids, positions, memory)

    def loss(self, batch: dict) -> torch.Tensor:
        """Cross-entropy of next events (PAD targets ignored) of a training batch
        (:class:`~.data.WindowSampler`)."""
        logits = self(batch["inputs"], batch["positions"], batch.get("theme"))
        return F.cross_entropy(logits.flatten(0, 1), batch["targets"].flatten(),
                               ignore_index=PAD)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def load(name_or_path=None, device="auto", *, decoder_only: bool = False) -> ThemeTransformer:
    """Saved weights: ``name_or_path`` (a folder, a name under ``symbolic/pretrained/`` or a
    Hub id; default the shipped ``theme-transformer``, or with ``decoder_only`` the shipped
    baseline ``theme-decoder``) on ``device``. See :func:`symbolic.models.load_pretrained`."""
    return load_pretrained(ThemeTransformer, BASELINE if decoder_only else DEFAULT,
                           name_or_path, device)
