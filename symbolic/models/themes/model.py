"""The theme encoder: a small 1-D convolutional network that maps a two-bar melody segment's
feature (:func:`~symbolic.models.themes.segments.segment_tokens`, 32 steps) to a unit vector,
trained so that a segment and its augmented variants land close together
(:mod:`~symbolic.models.themes.train`). Settings:
:class:`~symbolic.models.themes.settings.Settings`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import HubModel, load_pretrained
from .segments import SEGMENT_STEPS, VOCAB_SIZE

__all__ = ["ThemeEncoder", "nt_xent", "load", "DEFAULT"]

#: Name of the shipped weights under ``symbolic/pretrained/``.
DEFAULT = "theme-encoder"


class ThemeEncoder(nn.Module, HubModel, library_name="symbolic",
                   tags=["symbolic-music", "contrastive", "theme"]):
    """Token embedding plus a learned position per step, ``layers`` same-length convolutions
    (GELU, residual), mean and max pooled over the 32 steps, a linear map to ``dim`` and unit
    length. ``forward(tokens)``: ``[B, 32]`` int64 -> ``[B, dim]`` unit vectors.
    ``settings`` records the recipe (:class:`~.settings.Settings` as a dict)."""

    def __init__(self, embed: int = 32, channels: int = 64, layers: int = 3, kernel: int = 5,
                 dim: int = 64, settings: dict | None = None):
        super().__init__()
        self.settings = dict(settings or {})
        self.dim = int(dim)
        self.tokens = nn.Embedding(VOCAB_SIZE, embed)
        self.position = nn.Parameter(torch.zeros(SEGMENT_STEPS, embed))
        self.inp = nn.Conv1d(embed, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, channels, kernel, padding=kernel // 2)
                                   for _ in range(layers))
        self.out = nn.Linear(2 * channels, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = (self.tokens(tokens) + self.position).transpose(1, 2)   # [B, E, 32]
        x = self.inp(x)
        for conv in self.convs:
            x = x + F.gelu(conv(x))
        pooled = torch.cat([x.mean(-1), x.amax(-1)], dim=-1)
        return F.normalize(self.out(pooled), dim=-1)

    @torch.no_grad()
    def embed_tokens(self, tokens, batch: int = 1024) -> np.ndarray:
        """``[N, dim]`` float32 unit vectors of ``[N, 32]`` token rows (eval mode, no grad)."""
        tokens = torch.as_tensor(np.asarray(tokens), dtype=torch.int64)
        device = next(self.parameters()).device
        was = self.training
        self.eval()
        out = [self(tokens[i:i + batch].to(device)).cpu() for i in range(0, len(tokens), batch)]
        self.train(was)
        return torch.cat(out).numpy() if out else np.zeros((0, self.dim), np.float32)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """NT-Xent (SimCLR's InfoNCE) of two views ``[B, D]`` (unit rows): row ``i`` of ``a`` must
    pick row ``i`` of ``b`` (and back) among the other ``2B - 2`` rows of both views."""
    z = torch.cat([a, b])
    logits = z @ z.T / temperature
    n = len(a)
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), -1e9)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, target)


def load(name_or_path=None, device="auto") -> ThemeEncoder:
    """A saved encoder: ``name_or_path`` (a folder, a name under ``symbolic/pretrained/`` or a
    Hub id; default the shipped weights, loaded once per device and shared) on ``device``.
    See :func:`symbolic.models.load_pretrained`."""
    return load_pretrained(ThemeEncoder, DEFAULT, name_or_path, device)
