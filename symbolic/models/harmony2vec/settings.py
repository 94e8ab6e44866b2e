"""harmony2vec's settings: the default recipe in one visible place (the shipped weights use
exactly these; a model records them in ``config.json`` as ``settings``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import checks
from ...data.music21_corpus import mixture
from ...data.slice_corpus import SOURCES

__all__ = ["Settings", "SOURCES"]


@dataclass
class Settings:
    """``dim``: vector size. ``window``: beats each side. ``negatives``: negative samples per
    pair. ``max_vocab`` / ``min_count``: vocabulary cap and the least (per-key) count kept.
    ``subsample``: word2vec's frequent-token threshold (0: off). ``transpose``: move every pair
    by a random interval. ``merge_repeats``: collapse a slice repeated on consecutive beats.
    ``batch_size`` pairs per step, ``steps``, ``lr`` (Adam, cosine decay), ``eval_batches``
    held-out batches, ``seed``. ``sources``: ``{corpus: train pieces or None}``, default
    :data:`symbolic.data.slice_corpus.SOURCES`.
    """

    dim: int = 128
    window: int = 4
    negatives: int = 5
    max_vocab: int = 2048
    min_count: int = 5
    subsample: float = 1e-3
    transpose: bool = True
    merge_repeats: bool = False
    batch_size: int = 2048
    steps: int = 20000
    lr: float = 3e-3
    eval_batches: int = 20
    seed: int = 0
    sources: dict = field(default_factory=lambda: dict(SOURCES))

    def __post_init__(self):  # a bad value fails here, not after the corpus has loaded
        checks.integer_fields(self, {"dim": (1, 4096), "window": (1, 64),
                                     "negatives": (1, 100),
                                     "max_vocab": (1, 4096), "min_count": (1, None),
                                     "batch_size": (1, 2**20), "steps": (1, None),
                                     "eval_batches": (1, 10_000), "seed": (0, None)})
        self.subsample = checks.number("subsample", self.subsample, 0.0, 1.0)
        self.lr = checks.number("lr", self.lr, 0.0, 10.0, low_open=True)
        self.sources = mixture(self.sources)
