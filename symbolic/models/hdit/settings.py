"""HDiT's settings: the model sizes and the training recipe in one visible place.
:class:`Settings` defaults to a CPU-sized model for 128-pitch x 128-step crops;
:meth:`Settings.pictures_of_midi` is the size Pictures of MIDI published (256 x 256 folded
images, about 22M parameters). A model records its settings in ``config.json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ... import checks
from ...errors import ArgumentError

__all__ = ["Settings"]


@dataclass
class Settings:
    """Levels, top (full resolution) to bottom: ``widths[i]`` channels and ``depths[i]``
    transformer blocks per level (the up path repeats the down path's depth; the bottom level
    runs once), ``dropout[i]`` inside its blocks. Every level but the bottom one uses
    neighbourhood attention over ``kernel x kernel`` tokens; the bottom one global attention.
    ``head_dim``: channels per attention head (each width must be a multiple). ``ff_ratio``:
    GEGLU hidden size over the width. ``patch``: pixels per token side. ``mapping_width`` /
    ``mapping_depth``: the conditioning MLP. ``channels``: image channels (3: red onsets,
    green velocity, blue free); the model reads ``2 * channels + 1`` (noisy image, known pixels,
    mask). ``image_size``: ``[height, width]`` in pixels the model is trained on (each side a
    multiple of ``patch * 2 ** (levels - 1)``). ``chord_dim``: size of the conditioning vector
    (chords of the window, e.g. a 12-bin pitch-class profile; 0: no conditioning input).

    Training (:func:`symbolic.models.hdit.train.train`, Pictures of MIDI's recipe): ``steps``
    of AdamW (``lr``, betas (0.9, 0.95), ``weight_decay``; after a warm-up of ``min(500,
    steps // 10)``, ``schedule`` 'constant' or 'cosine' down to ``lr * min_lr_ratio`` at the
    last step), ``batch`` windows per step, an EMA of the weights with decay
    ``ema_decay`` (warmed up as ``min(ema_decay, (1 + n) / (10 + n))`` after ``n`` updates;
    the EMA is what is saved), ``seed``, ``eval_every`` / ``checkpoint_every`` steps,
    ``threads`` (torch CPU threads; None: torch's default).
    """

    widths: list = field(default_factory=lambda: [64, 128])
    depths: list = field(default_factory=lambda: [2, 2])
    dropout: list = field(default_factory=lambda: [0.0, 0.0])
    head_dim: int = 32
    kernel: int = 7
    ff_ratio: int = 3
    patch: int = 4
    mapping_width: int = 128
    mapping_depth: int = 1
    channels: int = 3
    image_size: list = field(default_factory=lambda: [128, 128])
    chord_dim: int = 12
    batch: int = 8
    steps: int = 20000
    threads: int | None = 1
    lr: float = 5e-4
    schedule: str = "constant"
    min_lr_ratio: float = 0.02
    weight_decay: float = 1e-3
    ema_decay: float = 0.999
    seed: int = 0
    eval_every: int = 500
    checkpoint_every: int = 250

    @classmethod
    def pictures_of_midi(cls, **changes) -> "Settings":
        """Pictures of MIDI's published size (Hawley 2024): 256 x 256 folded images, patch 4,
        widths [128, 256, 512], depths [2, 2, 4], neighbourhood attention (heads of 64,
        kernel 7) on the two upper levels and global attention at the bottom, GEGLU 3x,
        dropout [0, 0, 0.1]: about 22M parameters."""
        values = dict(widths=[128, 256, 512], depths=[2, 2, 4], dropout=[0.0, 0.0, 0.1],
                      head_dim=64, kernel=7, ff_ratio=3, patch=4, mapping_width=256,
                      mapping_depth=2, image_size=[256, 256])
        return cls(**{**values, **changes})

    def to_dict(self) -> dict:
        return asdict(self)

    def __post_init__(self):  # a bad value fails here, before any tensor is made
        checks.integer_fields(self, {"head_dim": (2, 1024), "kernel": (1, 255),
                                     "ff_ratio": (1, 64), "patch": (1, 64),
                                     "mapping_width": (1, 8192), "mapping_depth": (0, 64),
                                     "channels": (1, 64), "chord_dim": (0, 4096),
                                     "steps": (1, None), "batch": (1, 4096), "seed": (0, None),
                                     "eval_every": (1, None), "checkpoint_every": (1, None)})
        self.lr = checks.number("lr", self.lr, 0.0, 10.0, low_open=True)
        self.weight_decay = checks.number("weight_decay", self.weight_decay, 0.0, 10.0)
        checks.choice("schedule", self.schedule, ("constant", "cosine"))
        self.min_lr_ratio = checks.number("min_lr_ratio", self.min_lr_ratio, 0.0, 1.0)
        self.ema_decay = checks.number("ema_decay", self.ema_decay, 0.0, 1.0)
        if self.threads is not None:
            self.threads = checks.integer("threads", self.threads, 1, 4096)
        self.widths = _int_list("widths", self.widths, 1, 8192)
        self.depths = _int_list("depths", self.depths, 1, 256)
        self.image_size = _int_list("image_size", self.image_size, 1, 1 << 14)
        if not isinstance(self.dropout, (list, tuple)):
            raise ArgumentError(f"must be a list of numbers, got {self.dropout!r}", "dropout")
        self.dropout = [checks.number("dropout", p, 0.0, 1.0) for p in self.dropout]
        for name in ("depths", "dropout"):
            if len(getattr(self, name)) != len(self.widths):
                raise ArgumentError(f"must have one entry per level ({len(self.widths)}, as "
                                    f"widths), got {getattr(self, name)}", name)
        if self.kernel % 2 == 0:
            raise ArgumentError(f"must be odd (a window centred on its token), got "
                                f"{self.kernel}", "kernel")
        if self.head_dim % 8:
            raise ArgumentError(f"must be a multiple of 8 (axial rotary positions turn a "
                                f"quarter of each head per axis, in pairs), got "
                                f"{self.head_dim}", "head_dim")
        if any(w % self.head_dim for w in self.widths):
            raise ArgumentError(f"must all be multiples of head_dim ({self.head_dim}), got "
                                f"{self.widths}", "widths")
        if len(self.image_size) != 2:
            raise ArgumentError(f"must be [height, width], got {self.image_size}", "image_size")
        unit = self.patch * 2 ** (len(self.widths) - 1)
        if any(s % unit for s in self.image_size):
            raise ArgumentError(f"each side must be a multiple of patch * 2 ** (levels - 1) = "
                                f"{unit}, got {self.image_size}", "image_size")


def _int_list(name: str, values, low: int, high: int) -> list:
    """``values`` as a non-empty list of ints within ``[low, high]``."""
    if not isinstance(values, (list, tuple)) or not values:
        raise ArgumentError(f"must be a non-empty list of whole numbers, got {values!r}", name)
    return [checks.integer(name, v, low, high) for v in values]
