"""symbolic: a MIDI-centric toolkit for symbolic music composition.

The short public API::

    import symbolic
    score = symbolic.load("song.mid")            # or .musicxml/.mxl/.abc/.krn, bytes, "corpus:..."
    symbolic.save(score, "song.musicxml")        # .mid, .musicxml, .mxl, .abc, .png
    print(symbolic.describe(score))              # tracks, tempos, key, chords
    out = symbolic.infill(score, tracks=["piano"], bars=(9, 16))   # GETDiff, shipped weights
    song = symbolic.compose(chords="C G Am F | F G C C", bars=16)
    tune = symbolic.melodize("C G Am F | F G C C", bars=16)   # CM-HRNN melody over chords
    satb = symbolic.harmonize("hymn.musicxml")   # alto, tenor, bass under a melody (chorale GETDiff)
    themes = symbolic.find_themes(symbolic.data.pop909.Pop909().song(880))   # theme bars

Music is always a ``symusic.Score``; submodules (``symbolic.convert``, ``symbolic.harmony``,
``symbolic.metrics``, ``symbolic.data``) import on first use.
"""

from __future__ import annotations

import importlib

from .errors import SymbolicError
from .io import load, save

__version__ = "0.1.0"
__all__ = ["load", "save", "describe", "infill", "inpaint", "compose", "harmonize",
           "find_themes", "develop_theme", "melodize", "SymbolicError", "__version__"]

_SUBMODULES = {"convert", "harmony", "metrics", "data", "io", "errors", "plot",
               "analysis", "representations", "cli", "tokens", "models", "training", "audio",
               "tracks", "timeline", "sandbox"}


def describe(score, **kwargs):
    """Summary of a score (see :func:`symbolic.analysis.describe`)."""
    from .analysis import describe as _describe

    return _describe(score, **kwargs)


def infill(score, tracks=None, bars=None, **kwargs):
    """Regenerate tracks over bars of a score with GETDiff (see
    :func:`symbolic.models.getdiff.infill`)."""
    from .models.getdiff import infill as _infill

    return _infill(score, tracks, bars, **kwargs)


def inpaint(score_or_image, mask=None, **kwargs):
    """Fill a region of a piece's piano roll with HDiT and keep every other pixel; returns
    ``(score, image)`` (see :func:`symbolic.models.hdit.inpaint`)."""
    from .models.hdit import inpaint as _inpaint

    return _inpaint(score_or_image, mask, **kwargs)


def compose(chords, bars=None, tracks=None, **kwargs):
    """A new piece from a chord progression (see :func:`symbolic.models.getdiff.compose`)."""
    from .models.getdiff import compose as _compose

    return _compose(chords, bars, tracks, **kwargs)


def harmonize(melody, style="chorale", **kwargs):
    """Write the other parts of a melody: alto, tenor and bass under a soprano with the chorale
    model (see :func:`symbolic.models.getdiff.harmonize.harmonize`)."""
    from .models.getdiff import harmonize as _harmonize

    return _harmonize(melody, style, **kwargs)


def find_themes(score, **kwargs):
    """A song's theme: its melody's two-bar segments clustered by a contrastive encoder, the
    largest cluster's bars (see :func:`symbolic.models.themes.find_themes`)."""
    from .models.themes import find_themes as _find_themes

    return _find_themes(score, **kwargs)


def develop_theme(theme, bars=32, **kwargs):
    """A new piece that opens with a theme and brings it back where Theme Transformer places
    it; returns the Score and those bars (see
    :func:`symbolic.models.theme_transformer.develop_theme`)."""
    from .models.theme_transformer import develop_theme as _develop_theme

    return _develop_theme(theme, bars, **kwargs)


def melodize(chords, bars=None, **kwargs):
    """A lead-sheet melody (``MELODY`` + ``CHORDS`` tracks) over a chord progression with
    CM-HRNN (see :func:`symbolic.models.hrnn.melodize`)."""
    from .models.hrnn import melodize as _melodize

    return _melodize(chords, bars, **kwargs)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'symbolic' has no attribute {name!r}")
