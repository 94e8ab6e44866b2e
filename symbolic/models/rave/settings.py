"""The RAVE-style codec's settings: the architecture of a new codec and the training recipe in
one visible place. A trained codec records them in ``config.json`` (``settings``, per stage)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import checks
from ...data.music21_corpus import mixture
from ...errors import SymbolicError

__all__ = ["Settings", "SMALL_CONFIG", "SOURCES"]

#: A tiny architecture (tests, smoke runs): 16 bands, 2 x 2 ratios (64 samples per frame).
SMALL_CONFIG = dict(sample_rate=16000, latent_dim=16, capacity=8, multipliers=(1, 2, 4),
                    ratios=(2, 2), noise_ratios=(2,), dilations=(1, 3))

#: Default corpora: name -> train-split pieces (evenly spread; None: all).
SOURCES = {"bach_chorales": 120, "pop909": 60}


@dataclass
class Settings:
    """Architecture of a new codec (stage 1): ``size`` (``'default'``: the constructor's
    defaults, 2,048 samples per frame; ``'small'``: :data:`SMALL_CONFIG`), with
    ``sample_rate`` (Hz) and ``latent_dim`` overriding it when set.

    Data: ``sources`` (corpus -> pieces of its train split: ``'pop909'`` or a collection of
    :mod:`symbolic.data.music21_corpus`), ``max_seconds`` rendered per piece, ``backend`` (the
    renderer), ``crop_frames`` (latent frames per training crop: 16 frames of 2,048 samples are
    1.5 s at 22,050 Hz), ``batch_size``, ``gain`` (random gain range per crop),
    ``eval_pieces`` (valid-split pieces per source for the held-out loss), ``eval_batches``.

    Training: ``steps`` of the stage being run, ``lr`` (stage 1) / ``lr_stage2`` (Adam, cosine
    decay to 10% after a warm-up of ``min(1000, steps // 20)``), ``kl_beta`` reached after
    ``kl_warmup`` (fraction of stage-1 steps), ``adversarial_weight`` and ``feature_weight``
    (stage-2 generator loss; the spectral loss has weight 1), ``seed``, ``threads`` (torch CPU
    threads; None: torch's default), ``checkpoint_every`` (also the evaluation interval) and
    ``log_every`` steps.
    """

    size: str = "default"
    sample_rate: int | None = None
    latent_dim: int | None = None
    sources: dict = field(default_factory=lambda: dict(SOURCES))
    max_seconds: float = 60.0
    backend: str = "synth"
    crop_frames: int = 16
    batch_size: int = 8
    gain: tuple = (0.3, 1.0)
    eval_pieces: int = 2
    eval_batches: int = 4
    steps: int = 20000
    lr: float = 5e-4
    lr_stage2: float = 1e-4
    kl_beta: float = 0.1
    kl_warmup: float = 0.5
    adversarial_weight: float = 1.0
    feature_weight: float = 2.0
    seed: int = 0
    threads: int | None = None
    checkpoint_every: int = 1000
    log_every: int = 100

    def __post_init__(self):  # a bad value fails here, not after minutes of rendering
        checks.choice("size", self.size, ("default", "small"))
        if self.sample_rate is not None:
            self.sample_rate = checks.integer("sample_rate", self.sample_rate, 1000, 192_000)
        if self.latent_dim is not None:
            self.latent_dim = checks.integer("latent_dim", self.latent_dim, 1, 1024)
        if self.threads is not None:
            self.threads = checks.integer("threads", self.threads, 1, 4096)
        checks.integer_fields(self, {"crop_frames": (1, 4096), "batch_size": (1, 4096),
                                     "eval_pieces": (0, 10_000), "eval_batches": (0, 10_000),
                                     "steps": (1, None), "seed": (0, None),
                                     "checkpoint_every": (0, None), "log_every": (1, None)})
        self.max_seconds = checks.number("max_seconds", self.max_seconds, 0.0, 3600.0,
                                         low_open=True)
        for name in ("lr", "lr_stage2"):
            setattr(self, name, checks.number(name, getattr(self, name), 0.0, 10.0,
                                              low_open=True))
        for name in ("kl_beta", "adversarial_weight", "feature_weight"):
            setattr(self, name, checks.number(name, getattr(self, name), 0.0))
        self.kl_warmup = checks.number("kl_warmup", self.kl_warmup, 0.0, 1.0)
        self.sources = mixture(self.sources)

    def architecture(self) -> dict:
        """Keyword arguments of a new :class:`~symbolic.models.rave.RaveCodec`."""
        if self.size not in ("default", "small"):
            raise SymbolicError(f"must be 'default' or 'small', got {self.size!r}",
                                "Settings.size")
        arch = dict(SMALL_CONFIG) if self.size == "small" else {}
        for key in ("sample_rate", "latent_dim"):
            if getattr(self, key) is not None:
                arch[key] = getattr(self, key)
        return arch
