"""A RAVE-style audio codec (after Caillon & Esling, 2021): waveform -> continuous latents at
2,048 samples per frame -> waveform, trained in two stages on audio rendered from the corpora.

It is an :class:`symbolic.audio.AudioCodec` like the transformers codecs (``encode(wav) ->
Latents``, ``decode(Latents) -> wav``), so :mod:`symbolic.audio.path` takes it from Scores to
latents and back.

The family's parts, in reading order:

- :mod:`.settings`: :class:`Settings`, a new codec's architecture and the training recipe.
- :mod:`.model`: :class:`RaveCodec` (``HubModel`` save/load), its losses and the stage-2
  :class:`Discriminator`.
- :mod:`.train`: :class:`Crops`, the two stages and :func:`train` (stage 1 over
  :func:`symbolic.training.fit`).
- here: :func:`load`, a trained codec from a folder.

The training audio comes from :mod:`symbolic.data.audio_pieces`; the command is
``symbolic train rave`` (:mod:`symbolic.cli.audio`; ``symbolic codec train`` is the old
spelling). No weights ship with the package: train them, then load the folder::

    symbolic train rave --out runs/rave --steps 20000             # stage 1
    symbolic train rave --out runs/rave --steps 5000 --stage 2    # stage 2 (adversarial)
"""

from __future__ import annotations

from ...errors import DataNotFoundError
from .. import PRETRAINED_ROOT, load_pretrained
from .model import (
    Discriminator, RaveCodec, discriminator_loss, feature_matching, generator_loss,
    kl_divergence, spectral_loss,
)
from .settings import SMALL_CONFIG, SOURCES, Settings
from .train import Crops, adversarial_step, stage1_smoke, train, train_stage1, train_stage2

__all__ = [
    "RaveCodec", "Settings", "SMALL_CONFIG", "SOURCES", "Discriminator", "Crops", "load", "train",
    "train_stage1", "train_stage2", "adversarial_step", "stage1_smoke", "spectral_loss",
    "kl_divergence", "discriminator_loss", "generator_loss", "feature_matching", "DEFAULT",
    "TRAIN_COMMAND",
]

#: Name the shipped weights would have under ``symbolic/pretrained/`` (none ship today).
DEFAULT = "rave"

#: How to make weights that :func:`load` can read.
TRAIN_COMMAND = "symbolic train rave --out DIR --steps N (then --stage 2)"


def load(name_or_path=None, device="auto") -> RaveCodec:
    """A trained codec: ``name_or_path`` (a folder written by ``symbolic train rave``, a name
    under ``symbolic/pretrained/`` or a Hub id) on ``device`` (``"auto"``: CUDA when present).
    See :func:`symbolic.models.load_pretrained`.

    With no ``name_or_path`` it loads the shipped weights, and since none ship it raises
    :class:`~symbolic.errors.DataNotFoundError` saying how to train them (never a codec with
    random weights: build one on purpose with ``RaveCodec(...)`` or ``RaveCodec.small()``).
    """
    if name_or_path is None and not (PRETRAINED_ROOT / DEFAULT / "model.safetensors").is_file():
        raise DataNotFoundError(f"no RAVE weights ship with symbolic; train them with "
                                f"`{TRAIN_COMMAND}` and load that folder: "
                                f"symbolic.models.rave.load('DIR')", "rave.load()")
    return load_pretrained(RaveCodec, DEFAULT, name_or_path, device)
