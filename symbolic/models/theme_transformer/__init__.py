"""Theme Transformer (Shih, Wu, Zalkow, Müller & Yang, IEEE TMM 2022), small and CPU-trained:
a theme (a few bars) in, a new piece that develops it out, with the theme's recurrences placed
by the model itself through ``Theme_Start`` / ``Theme_End`` events.

The family's parts, in reading order:

- :mod:`symbolic.representations.theme_events`: the event vocabulary (REMI-like per track,
  phrase and theme tokens; ``tokenizers/theme-events.json``), encode/decode.
- :mod:`.settings`: :class:`Settings`, the default recipe (saved in ``config.json``).
- :mod:`.model`: :class:`ThemeTransformer` (gated parallel self/cross-attention,
  theme-aligned positions, XOR layers; ``decoder_only``: the prompt baseline), :func:`load`.
- :mod:`.data`: POP909 songs with the theme regions :func:`symbolic.find_themes` finds
  (cached), the window sampler.
- :mod:`.train`: :func:`train` over :func:`symbolic.training.fit`.
- :mod:`.generate`: :func:`develop_theme` and :func:`plot_development`.

Shipped weights: ``symbolic/pretrained/theme-transformer`` (:func:`load`) and the baseline
``symbolic/pretrained/theme-decoder`` (``load(decoder_only=True)``), reproduced by
``symbolic train theme-transformer --out symbolic/pretrained/theme-transformer``
(add ``--decoder-only`` for the baseline). Evaluation: ``benchmarks/eval_theme.py``.
"""

from .data import (
    SHIFTS, THEME_BARS, ThemeSong, WindowSampler, held_out, pop909_theme_songs, theme_song,
)
from .generate import (
    MAX_PIECE_BARS, MAX_THEME_BARS, Development, develop_theme, plot_development, sample,
    theme_events_of,
)
from .model import BASELINE, DEFAULT, DecoderLayer, ThemeTransformer, load, sinusoid
from .settings import Settings
from .train import build, evaluate_theme_gain, train

__all__ = ["ThemeTransformer", "DecoderLayer", "sinusoid", "load", "DEFAULT", "BASELINE",
           "Settings", "train", "build", "evaluate_theme_gain", "ThemeSong", "theme_song",
           "pop909_theme_songs", "WindowSampler", "held_out", "THEME_BARS", "SHIFTS",
           "develop_theme", "Development", "plot_development", "sample", "theme_events_of",
           "MAX_THEME_BARS", "MAX_PIECE_BARS"]
