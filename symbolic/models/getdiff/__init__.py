"""GETDiff: masked (absorbing-state) discrete diffusion over GETScore grids.

One model generates any subset of tracks, over any span of bars, given the other tracks and
the chords (after GETMusic, Lv et al. 2023). The grid is :mod:`symbolic.representations.grid`'s
(rows: onset and duration of every track, chord root and quality; one column per step).

**Model.** Per column, each track's two cells (onset stack, duration) and the chord's two cells
are embedded (one token table for the whole vocabulary), a *cell role* is added to each group
(source: given; target: to generate; empty: absent), the groups are concatenated and projected
to one vector per column, a step-in-bar embedding is added, and a bidirectional transformer
with rotary positions (:mod:`symbolic.models.layers`, the shared SDPA/xformers attention) runs
over the columns. Output heads are per row and restricted to the row's vocabulary slice: track
k's onset head scores PAD plus track k's stacks only; its duration head scores the 16 duration
classes given the onset (``p(duration | onset, context)``, the onset's embedding is added to
the hidden state), and a PAD onset has a PAD duration with probability one. A cell's
probability is thus ``p(onset) * p(duration | onset)``, with no mass on inconsistent pairs.

**Diffusion (formulation and why).** Masked diffusion in continuous time with the linear
schedule of MDLM (Sahoo et al. 2024): at time ``t`` in (0, 1] each target cell is masked
(onset and duration together) with probability ``t``; source cells are never masked (they are
the condition, clamped to the truth at every step as in GETMusic). The training loss is the
MDLM evidence bound, ``E_t [ (1/t) * sum over masked cells of -log p(cell) ]``, divided by the
number of target cells: an upper bound on ``-log p(targets | sources)`` in **nats per target
cell**, the figure training and :mod:`benchmarks/eval_getdiff.py` report. GETMusic's own
objective (100 discrete steps, a uniform+mask transition, weight 0.5 on source cells) is not a
likelihood bound of the model that samples, and its 100-step chain is tied to training; the
MDLM bound is exact for this model, has no schedule to tune, and any number of sampling steps
may be used afterwards.

**Sampling** (:func:`sample`, over :mod:`symbolic.models.sampling`): start with every target
cell masked; at each of ``steps`` steps, predict all masked cells, draw each (temperature,
top-p, a seeded generator), and keep the most confident draws of each track: as many as the
linear schedule unmasks in that step (``n_masked * (1 - t_next / t)``), the rest stay masked.
Classifier-free chord guidance mixes log-probabilities with and without the chord rows
(``uncond + w * (cond - uncond)``); the model learns both because chords are hidden in a
quarter of the training windows. A batch of pieces is sampled at once.

The family's parts, in reading order (copy them to add a model family):

- :mod:`.settings`: :class:`Settings`, the shipped recipe (model sizes and training).
- :mod:`.model`: :class:`GETDiff` (``HubModel`` save/load), :func:`load` (the shipped weights
  or any other folder), the loss and :func:`sample`.
- :mod:`.train`: transposition, :func:`training_batch` and :func:`train` over
  :func:`symbolic.training.fit`.
- :mod:`.generate`: :func:`infill`, :func:`compose` and :func:`generate_grids` (windows of
  whole pieces), with tracks mapped by :mod:`symbolic.tracks`.
- :mod:`.harmonize`: :func:`harmonize` (a melody in, the other parts written around it).

Corpus grids come from :mod:`symbolic.data.grids`; the commands (``symbolic infill``,
``symbolic compose``, ``symbolic harmonize``, ``symbolic train getdiff``) are in
:mod:`symbolic.cli.generate`.

Shipped weights (:data:`~.generate.MODELS` gives their short names): ``getdiff-band`` (the
default: MELODY, BRIDGE, BASS, PIANO + an OTHER context row; ``symbolic train getdiff --out
symbolic/pretrained/getdiff-band``), ``getdiff-chorales`` (SOPRANO, ALTO, TENOR, BASS, trained
on the Bach chorales with their fermatas as column marks; ``symbolic train getdiff --vocab satb
--out symbolic/pretrained/getdiff-chorales``) and the earlier ``getdiff-pop909``.
"""

from __future__ import annotations

from ...data.grids import GridSong, pop909_grids
from .generate import (
    DEFAULT_CHORDS, Region, TrackMappingError, compose, generate_grids, infill, map_tracks,
    parse_progression,
)
from .harmonize import STYLES, harmonize, piano_reduction
from .model import (
    DEFAULT_NAME, EMPTY, MASK, PAD, ROLE_EMPTY, ROLE_SOURCE, ROLE_TARGET, T_MIN, GETDiff,
    cell_nll, diffusion_loss, load, masked_input, sample,
)
from .settings import Settings
from .train import SHIFTS, train, training_batch, transpose_tables

__all__ = [
    "GETDiff", "Settings", "load", "train", "sample", "infill", "compose", "generate_grids",
    "parse_progression", "Region", "map_tracks", "DEFAULT_CHORDS", "TrackMappingError",
    "GridSong", "pop909_grids", "training_batch", "diffusion_loss", "cell_nll", "masked_input",
    "transpose_tables", "SHIFTS", "DEFAULT_NAME", "ROLE_EMPTY", "ROLE_SOURCE", "ROLE_TARGET",
    "PAD", "EMPTY", "MASK", "T_MIN", "harmonize", "STYLES",
    "piano_reduction",
]
