"""The theme encoder's settings: the default recipe in one visible place (the shipped weights
use exactly these; a model records them in ``config.json`` as ``settings``)."""

from __future__ import annotations

from dataclasses import dataclass

from ... import checks
from ...errors import ArgumentError

__all__ = ["Settings"]


@dataclass
class Settings:
    """The encoder, the views it learns from, and the run; each field documented below."""

    embed: int = 32
    """Width of each step's token embedding."""
    channels: int = 64
    """Channels of the convolutions."""
    layers: int = 3
    """Residual 1-D convolutions over the 32 steps."""
    kernel: int = 5
    """Their kernel (odd: same-length convolutions)."""
    dim: int = 64
    """Size of the unit-norm output vector."""
    batch: int = 256
    """Distinct segments per step, each seen in two augmented views; the others of the batch
    are its negatives."""
    aug_p: float = 0.5
    """Probability of each augmentation in a view (:func:`~.segments.augment`)."""
    max_degrees: int = 2
    """Largest scale shift, in scale degrees either way."""
    min_notes: int = 3
    """Segments with fewer notes are never drawn."""
    temperature: float = 0.1
    """NT-Xent's temperature."""
    steps: int = 1500
    """Optimizer steps (Adam, cosine decay to 10%)."""
    lr: float = 2e-3
    """Peak learning rate."""
    eval_batches: int = 4
    """Held-out batches from POP909's valid split (songs 838-873)."""
    seed: int = 0
    """Seed of the run (weights and batches)."""

    def __post_init__(self):  # a bad value fails here, not after the corpus has loaded
        checks.integer_fields(self, {"embed": (1, 1024), "channels": (1, 1024),
                                     "layers": (1, 16), "kernel": (1, 31), "dim": (1, 1024),
                                     "batch": (2, 2**16), "max_degrees": (0, 7),
                                     "min_notes": (1, 32), "steps": (1, None),
                                     "eval_batches": (1, 1000), "seed": (0, None)})
        if self.kernel % 2 == 0:
            raise ArgumentError(f"must be odd (same-length convolutions), got "
                                       f"{self.kernel}", "kernel")
        self.temperature = checks.number("temperature", self.temperature, 0.0, 10.0,
                                         low_open=True)
        self.aug_p = checks.number("aug_p", self.aug_p, 0.0, 1.0)
        self.lr = checks.number("lr", self.lr, 0.0, 10.0, low_open=True)
