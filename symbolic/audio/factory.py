"""Codecs by name or folder: :func:`load_codec` and :func:`available_codecs`.

The one place that knows every codec family: the transformers adapters
(:class:`symbolic.audio.codec.TransformersCodec`) and the RAVE-style codec
(:class:`symbolic.models.rave.RaveCodec`). It sits above both, so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import DataNotFoundError
from ..models.rave import RaveCodec
from ..training import resolve_device
from .codec import (
    TRANSFORMERS_KINDS, AudioCodec, TransformersCodec, available_transformers_kinds, read_config,
)

__all__ = ["load_codec", "available_codecs"]


def available_codecs() -> list[str]:
    """Codec names that :func:`load_codec` builds offline here (architecture, random weights):
    the transformers kinds this transformers version has, and ``'rave'``."""
    return available_transformers_kinds() + ["rave"]


def load_codec(name_or_path, *, size: str = "default", device: str | torch.device | None = None,
               **kwargs) -> AudioCodec:
    """A codec by kind or from a folder.

    - a kind of :func:`available_codecs` (``'encodec'``, ``'dac'``, ``'mimi'``, ``'rave'``...):
      the architecture with **random weights** (``codec.pretrained`` is False), ``size``
      ``'default'`` (the published configuration) or ``'small'`` (tiny, for tests); ``kwargs``
      go to the config (transformers: config fields plus ``bandwidth`` / ``num_quantizers`` /
      ``sample_rate``; RAVE: its constructor). Trained RAVE weights come from a folder
      (:func:`symbolic.models.rave.load`).
    - a folder: a saved :class:`~symbolic.models.rave.RaveCodec`, or a transformers codec
      (``config.json`` with a ``model_type`` of the adapted kinds).

    ``device``: where to put it (``'auto'``: CUDA when present); default: CPU.
    """
    if size not in ("default", "small"):
        raise ValueError(f"size must be 'default' or 'small', got {size!r}")
    name = str(name_or_path)
    if name == "rave":
        codec = RaveCodec.small(**kwargs) if size == "small" else RaveCodec(**kwargs)
    elif name in TRANSFORMERS_KINDS:
        codec = (TransformersCodec.small(name, **kwargs) if size == "small"
                 else TransformersCodec.from_config(name, **kwargs))
    else:
        codec = _from_folder(Path(name_or_path), name, kwargs)
    if device is not None:
        codec = codec.to(resolve_device(device))
    return codec.eval()


def _from_folder(folder: Path, name: str, kwargs: dict) -> AudioCodec:
    if not folder.exists():
        raise DataNotFoundError(f"neither a codec kind ({', '.join(available_codecs())}) "
                                "nor an existing folder", name)
    if "model_type" in read_config(folder):
        return TransformersCodec.from_pretrained(folder, **kwargs)
    return RaveCodec.from_pretrained(str(folder), **kwargs)
