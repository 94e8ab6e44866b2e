"""CM-HRNN's settings: the default recipe in one visible place (a model records them in
``config.json`` as ``settings``; the shipped weights name theirs in their model cards)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Settings", "KINDS"]

#: Model kinds of the family: the hierarchy and its two baselines.
KINDS = ("hrnn", "lstm", "attention")


@dataclass
class Settings:
    """``kind``: ``"hrnn"`` (CM-HRNN: top tier over frames of ``top_frame`` events, middle tier
    over frames of ``mid_frame`` events, bottom tier per event), ``"lstm"`` (a flat LSTM of
    ``layers`` layers) or ``"attention"`` (a flat LSTM with causal attention over its past
    outputs). ``embed``: width of each input event's embedding. ``hidden``: LSTM width of every
    tier (0: the kind's default from ``train.DEFAULT_HIDDEN``, about 0.9-1M parameters for each
    kind). ``layers``: layers of the top tier and of the flat LSTMs; ``dropout`` between layers
    and before the heads. ``weights``: loss weights of the note, duration and bar heads
    (CM-HRNN: 0.4, 0.3, 0.3). ``length``: events per training window; ``batch`` windows per
    step; ``steps``, ``lr`` (Adam, cosine decay to 10%), ``eval_batches`` held-out batches
    (POP909 valid split), ``transpose`` (random shift of -5..+6 semitones per window),
    ``seed``. The published recipe (batch 512, 120k steps, dropout 0.5, Adam 1.2e-4, hidden
    256) is a GPU budget; these defaults trained in 8-21 minutes on one thread of a busy
    2-core machine (CM-HRNN fastest).
    """

    kind: str = "hrnn"
    embed: int = 64
    hidden: int = 0
    layers: int = 2
    top_frame: int = 16
    mid_frame: int = 8
    dropout: float = 0.2
    weights: tuple = (0.4, 0.3, 0.3)
    length: int = 128
    batch: int = 32
    steps: int = 1500
    lr: float = 2e-3
    eval_batches: int = 8
    transpose: bool = True
    seed: int = 0
