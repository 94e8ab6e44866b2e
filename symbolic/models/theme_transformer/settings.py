"""Theme Transformer's settings: the default recipe in one visible place (a model records them
in ``config.json`` as ``settings``; the shipped weights name theirs in their model cards)."""

from __future__ import annotations

from dataclasses import dataclass

from ... import checks
from ...errors import ArgumentError

__all__ = ["Settings"]


@dataclass
class Settings:
    """The model, its training windows and the run. The published recipe (d_model 256, 8
    heads, FFN 1024, 6 + 6 layers, the last three decoder layers XOR, lr 2e-4 after 400
    warm-up steps down to 1e-5, batch 8 of 512 tokens, gradient clip 3) is a GPU budget;
    these defaults are sized for one CPU thread and about 25 minutes (the shipped models'
    ``training.json`` says what they cost)."""

    dim: int = 128
    """Width of every layer (d_model)."""
    heads: int = 4
    """Attention heads (self and cross)."""
    ffn: int = 512
    """Hidden width of each feed-forward block (GELU)."""
    encoder_layers: int = 3
    """Layers of the theme encoder (bidirectional self-attention)."""
    decoder_layers: int = 3
    """Decoder layers: self- and cross-attention in parallel, gated by the theme regions."""
    xor_layers: int = 1
    """The last ``xor_layers`` decoder layers switch self-attention off inside theme regions
    (the paper's "XOR" gating: half of its six layers; here one of three)."""
    dropout: float = 0.1
    """Dropout on attention outputs and feed-forward blocks while training."""
    decoder_only: bool = False
    """The baseline: no encoder, no cross-attention; the theme is given as a prompt."""
    window: int = 512
    """Tokens per training window (and the self-attention span at generation)."""
    max_theme: int = 256
    """Most tokens of the theme the encoder reads (longer themes are cut)."""
    max_theme_position: int = 1024
    """Theme-aligned positions are clipped to this."""
    batch: int = 8
    """Windows per step."""
    theme_share: float = 0.5
    """Share of windows that start zero to three bars before a theme region (the others
    start at a random bar)."""
    transpose: bool = True
    """Shift each window and its theme by the same random -5..+6 semitones."""
    steps: int = 2400
    """Optimizer steps planned (AdamW, warm-up then cosine decay to 1%); the shipped weights'
    (57 min on one CPU thread for the seq2seq model, 82 for the decoder-only one)."""
    lr: float = 1e-3
    """Peak learning rate (the paper's 2e-4 is for its larger model and longer run)."""
    warmup: int = 100
    """Warm-up steps."""
    grad_clip: float = 3.0
    """Gradient norm clip (the paper's)."""
    eval_batches: int = 4
    """Held-out batches from POP909's valid split (songs 838-873)."""
    seed: int = 0
    """Seed of the run (weights and batches)."""

    def __post_init__(self):  # a bad value fails here, not after the corpus has loaded
        checks.integer_fields(self, {"dim": (8, 4096), "heads": (1, 64), "ffn": (8, 16384),
                                     "encoder_layers": (0, 48), "decoder_layers": (1, 48),
                                     "xor_layers": (0, 48), "window": (16, 8192),
                                     "max_theme": (8, 4096), "max_theme_position": (8, 65536),
                                     "batch": (1, 4096), "steps": (1, None),
                                     "warmup": (0, None), "eval_batches": (1, 1000),
                                     "seed": (0, None)})
        if self.dim % self.heads or (self.dim // self.heads) % 2:
            raise ArgumentError(f"must divide dim ({self.dim}) into even head widths, got "
                                f"{self.heads}", "heads")
        if self.xor_layers > self.decoder_layers:
            raise ArgumentError(f"at most decoder_layers ({self.decoder_layers}), got "
                                f"{self.xor_layers}", "xor_layers")
        if not self.decoder_only and self.encoder_layers < 1:
            raise ArgumentError("the theme encoder needs a layer (or decoder_only=True)",
                                "encoder_layers")
        if not checks.number("dropout", self.dropout, 0.0, 1.0) < 1.0:
            raise ArgumentError(f"must be in [0, 1), got {self.dropout!r}", "dropout")
        self.theme_share = checks.number("theme_share", self.theme_share, 0.0, 1.0)
        self.lr = checks.number("lr", self.lr, 0.0, 10.0, low_open=True)
        self.grad_clip = checks.number("grad_clip", self.grad_clip, 0.0, low_open=True)
