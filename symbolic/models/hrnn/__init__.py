"""CM-HRNN: a lead-sheet melody over a chord progression (Guo, Makris & Herremans, 2020), with
a flat LSTM and an attention RNN as baselines of the same size, data and loop.

The family's parts, in reading order:

- :mod:`.settings`: :class:`Settings`, the default recipe (saved in ``config.json``).
- :mod:`.model`: :class:`CMHRNN` (kinds ``"hrnn"``, ``"lstm"``, ``"attention"``; ``HubModel``
  save/load) and :func:`load`.
- :mod:`.train`: :func:`train` over :func:`symbolic.training.fit`, :func:`head_metrics`.
- :mod:`.metrics`: melody measures (chord tones, repeated 2-bar patterns, pitch-class entropy,
  range, one-pitch and silent bars), shared with ``benchmarks/eval_hrnn.py``.
- :mod:`.generate`: :func:`melodize` (chords in, a melody and a chord track out),
  :func:`sample_events`, :func:`save_leadsheet` (MusicXML with chord symbols).

The corpus (POP909 lead sheets as event arrays, windows, transposition) is read by
:mod:`symbolic.data.leadsheets`; the events themselves are
:mod:`symbolic.representations.leadsheet`'s. Commands: ``symbolic melodize`` and
``symbolic train hrnn`` (:mod:`symbolic.cli.hrnn`).

Shipped weights (each about 1M parameters, trained on one CPU thread, reproduced by the command
in its ``README.md``): ``hrnn-pop909`` (CM-HRNN, the default), ``hrnn-lstm-pop909`` and
``hrnn-attention-pop909`` (the baselines).
"""

from __future__ import annotations

from .generate import (
    MAX_BARS, events_to_notes, melodize, progression_steps, sample_events, save_leadsheet,
    success_bars,
)
from .model import CMHRNN, DEFAULT, HEAD_SIZES, load
from .settings import KINDS, Settings
from .train import DEFAULT_HIDDEN, head_metrics, train

__all__ = ["CMHRNN", "Settings", "KINDS", "HEAD_SIZES", "DEFAULT", "DEFAULT_HIDDEN", "load",
           "train", "head_metrics", "melodize", "sample_events", "events_to_notes",
           "success_bars", "save_leadsheet", "progression_steps", "MAX_BARS"]
