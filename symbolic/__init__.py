"""symbolic: a MIDI-centric toolkit for symbolic music composition.

The short public API::

    import symbolic
    score = symbolic.load("song.mid")            # or .musicxml/.mxl/.abc/.krn, bytes, "corpus:..."
    symbolic.save(score, "song.musicxml")        # .mid, .musicxml, .mxl, .abc, .png
    print(symbolic.describe(score))              # tracks, tempos, key, chords

Music is always a ``symusic.Score``; submodules (``symbolic.convert``, ``symbolic.harmony``,
``symbolic.metrics``, ``symbolic.data``) import on first use.
"""

from __future__ import annotations

import importlib

from .errors import SymbolicError
from .io import load, save

__version__ = "0.1.0"
__all__ = ["load", "save", "describe", "SymbolicError", "__version__"]

_SUBMODULES = {"convert", "harmony", "metrics", "data", "io", "errors", "timing", "plot",
               "analysis", "representations", "cli", "tokens", "models", "training"}


def describe(score, **kwargs):
    """Summary of a score (see :func:`symbolic.analysis.describe`)."""
    from .analysis import describe as _describe

    return _describe(score, **kwargs)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'symbolic' has no attribute {name!r}")
