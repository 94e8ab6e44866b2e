"""GETDiff's settings: the model sizes and the training recipe in one visible place. The
defaults made the shipped weights (``symbolic train getdiff``); a trained model records them in
``config.json`` (as ``settings``) and ``training.json``."""

from __future__ import annotations

from dataclasses import dataclass

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
