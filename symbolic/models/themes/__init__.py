"""Themes: where a song's main theme is, found from its recurring two-bar melody segments,
after the theme retrieval of Theme Transformer (Shih, Wu, Zalkow, Müller & Yang, IEEE TMM
2022), whose code was never released.

A pop song states its theme (most often the chorus hook) several times, in slightly different
forms: another key degree, a last note held longer, a note split in two. The method cuts the
melody into two-bar segments, maps each to a vector with an encoder trained so that such
variants land close together (contrastive learning, the variants made by augmentation), then
clusters the vectors with DBSCAN; the largest cluster is the theme, and the bars its segments
cover are the theme region.

The family's parts, in reading order:

- :mod:`.segments`: two-bar segments of a melody, their 32-step feature, the augmentations.
- :mod:`.settings`: :class:`Settings`, the encoder's default recipe (saved in ``config.json``).
- :mod:`.model`: :class:`ThemeEncoder` (``HubModel`` save/load), NT-Xent, :func:`load`.
- :mod:`.train`: the view sampler and :func:`train` over :func:`symbolic.training.fit`.
- :mod:`.retrieve`: :func:`find_themes`, DBSCAN, and the repetition baseline
  :func:`repeated_theme` (the most repeated segment and its exact repetitions).
- :mod:`.plots`: :func:`plot_themes`, where each cluster recurs along the song.

Shipped weights: ``symbolic/pretrained/theme-encoder`` (:func:`load`), reproduced by
``symbolic train themes --out symbolic/pretrained/theme-encoder``; the command
``symbolic find-themes song.mid [--png out.png] [--json]``. How well it finds the published
themes of POP909's test songs, beside the repetition baseline:
``benchmarks/eval_theme_retrieval.py``.

>>> from symbolic.data.pop909 import Pop909                       # doctest: +SKIP
>>> song = Pop909().song(880)                                     # doctest: +SKIP
>>> find_themes(song.score, bar_ticks=song.bar_ticks()).regions   # doctest: +SKIP
"""

from .model import DEFAULT, ThemeEncoder, load, nt_xent
from .plots import plot_themes
from .retrieve import (
    EPS, MIN_NOTES, MIN_SAMPLES, ThemeResult, bars_of, cluster_segments, dbscan, find_themes,
    repeated_theme, runs,
)
from .segments import (
    SEGMENT_STEPS, MelodySegments, augment, change_last_duration, melody_segments,
    melody_track, merge_notes, segment_tokens, shift_in_scale, song_scale, split_note,
)
from .settings import Settings
from .train import ViewSampler, pair_accuracy, pop909_segments, train

__all__ = [
    "find_themes", "ThemeResult", "plot_themes", "repeated_theme", "cluster_segments",
    "dbscan", "bars_of", "runs", "EPS", "MIN_SAMPLES", "MIN_NOTES", "ThemeEncoder", "load",
    "nt_xent", "DEFAULT", "Settings", "train", "ViewSampler", "pair_accuracy",
    "pop909_segments", "MelodySegments", "melody_segments", "melody_track", "segment_tokens",
    "song_scale", "shift_in_scale", "change_last_duration", "split_note", "merge_notes",
    "augment", "SEGMENT_STEPS",
]
