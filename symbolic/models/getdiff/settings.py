"""GETDiff's settings: the model sizes and the training recipe in one visible place. The
defaults made the shipped weights (``symbolic train getdiff``); a trained model records them in
``config.json`` (as ``settings``) and ``training.json``."""

from __future__ import annotations

from dataclasses import dataclass

from ... import checks
from ...errors import ArgumentError

__all__ = ["Settings"]


@dataclass
class Settings:
    """Model: ``embed_dim`` per cell group, ``dim`` / ``depth`` / ``heads`` of the transformer,
    ``dropout``, ``window_bars`` (bars per training window), ``width`` (columns per window;
    None: ``window_bars`` 4/4 bars of the vocabulary's resolution), ``vocab`` (the grid
    vocabulary). Training: ``steps`` (AdamW, cosine decay to 10% after a warm-up of
    ``min(200, steps // 10)``), ``batch`` windows per step, ``lr``, ``seed``, ``eval_every`` /
    ``checkpoint_every`` steps, ``threads`` (torch CPU threads; None: torch's default; the
    shipped weights were trained on one).
    """

    vocab: str = "band"
    embed_dim: int = 96
    dim: int = 192
    depth: int = 4
    heads: int = 4
    dropout: float = 0.1
    window_bars: int = 8
    width: int | None = None
    steps: int = 8000
    batch: int = 16
    lr: float = 1e-3
    seed: int = 0
    eval_every: int = 500
    checkpoint_every: int = 250
    threads: int | None = 1

    def __post_init__(self):  # a bad value fails here, before the corpus loads
        if not isinstance(self.vocab, str) or not self.vocab:
            raise ArgumentError(f"must name a grid vocabulary (band, pop909, satb or a file), "
                                f"got {self.vocab!r}", "vocab")
        checks.integer_fields(self, {"embed_dim": (1, 4096), "dim": (1, 8192),
                                     "depth": (1, 256), "heads": (1, 256),
                                     "window_bars": (1, checks.MAX_BARS), "steps": (1, None),
                                     "batch": (1, 4096), "seed": (0, None),
                                     "eval_every": (1, None), "checkpoint_every": (1, None)})
        if self.dim % self.heads:
            raise ArgumentError(f"must divide dim ({self.dim}), got {self.heads}", "heads")
        self.dropout = checks.number("dropout", self.dropout, 0.0, 1.0)
        self.lr = checks.number("lr", self.lr, 0.0, 10.0, low_open=True)
        if self.width is not None:
            self.width = checks.integer("width", self.width, 1, 1 << 16)
        if self.threads is not None:
            self.threads = checks.integer("threads", self.threads, 1, 4096)
