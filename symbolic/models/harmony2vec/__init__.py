"""harmony2vec: skip-gram embeddings of pitch-class slices (Chuan, Agres & Herremans, 2018).

A model that never saw music theory learns it from music alone. Every beat of a piece becomes
a *slice*, the set of pitch classes sounding in it (:mod:`symbolic.representations.slices`:
a 12-bit mask, C-E-G = 145); skip-gram with negative sampling (word2vec) then learns one vector
per slice such that slices met in the same contexts (within ``window`` beats) get close vectors.
Chords of the same function end up together and the circle of fifths appears.

The family's parts, in reading order:

- :mod:`.settings`: :class:`Settings`, the default recipe (saved in ``config.json``).
- :mod:`.vocab`: slice masks and chord labels, transposition, the vocabulary.
- :mod:`.model`: :class:`Harmony2Vec` (``HubModel`` save/load) and its music API.
- :mod:`.train`: the pair sampler and :func:`train` over :func:`symbolic.training.fit`.
- :mod:`.probes`: music-theory metrics, shared with ``benchmarks/eval_harmony2vec.py``.
- :mod:`.plots`: triads, key distances, neighbour tables.
- here: :func:`load` (the shipped weights) and module-level helpers over it.

The corpus (POP909 and music21 collections as slices with keys, cached) is read by
:mod:`symbolic.data.slice_corpus`; the commands are in :mod:`symbolic.cli.harmony2vec`.

**Vocabulary.** The most frequent slices taken in whole transposition classes, so it is closed
under transposition. The vectors of the API are the sum of each slice's unit centre and
context vectors (:meth:`Harmony2Vec.vectors`).

**Keys.** A key's vector is the mean of the unit slice vectors over the training slices in that
key, each piece first transposed to it: the slices of every major (minor) passage are counted
relative to their tonic (:func:`~.vocab.key_slice_counts`: POP909's key annotations, music21
pieces' keys from :func:`symbolic.harmony.estimate_keys`), and that one distribution per mode
is moved to each of the 12 tonics. How close two keys come then depends both on the slices they
share and on the embedding: fifth-related keys share most slices, so even random vectors put
them close (``benchmarks/eval_harmony2vec.py`` prints that baseline).

**What it learns** (shipped weights, ``benchmarks/eval_harmony2vec.py``): V, IV and vi are
among the 5 nearest triads of every major triad (random vectors: none of the 12 roots), and
triad distances follow the circle of fifths (Spearman 0.98; random 0.06, shared notes 0.41).
Raw co-occurrence counts over the same transposed corpus do as well on these probes (0.99):
the circle of fifths is in the statistics of the music, and the embedding compresses them into
128 numbers per slice (among all 1,324 slices it ranks V, IV and vi higher than the counts do:
mean rank 85 against 142).

Shipped weights: ``symbolic/pretrained/harmony2vec`` (:func:`load`), reproduced by
``symbolic train harmony2vec --out symbolic/pretrained/harmony2vec``.
"""

from __future__ import annotations

import numpy as np

from ...data.slice_corpus import SliceCorpus, extract_slices, load_corpus
from ...errors import OutOfVocabularyError
from .. import load_pretrained
from .model import Harmony2Vec, Neighbour
from .plots import plot_key_distances, plot_neighbours, plot_triads
from .probes import (
    KEY_ORDER, fifths_correlation, fifths_distance, key_fifths_correlation, key_vectors_from,
    spearman, triad_ranks, unit_vectors,
)
from .settings import SOURCES, Settings
from .train import PairSampler, save, train, unigram_loss
from .vocab import (
    build_vocab, chord_label, chord_masks, id_sequences, key_slice_counts, lookup_table,
    rotate, rows_of, slice_mask,
)

__all__ = [
    "Harmony2Vec", "Settings", "SOURCES", "SliceCorpus", "PairSampler", "Neighbour",
    "OutOfVocabularyError", "load", "train", "save", "extract_slices", "load_corpus",
    "build_vocab", "rotate", "slice_mask", "chord_label", "chord_masks", "lookup_table",
    "rows_of", "id_sequences", "key_slice_counts", "similar", "similarity", "analogy",
    "vector", "key_vector", "piece_vector", "unigram_loss", "triad_ranks",
    "fifths_correlation", "key_fifths_correlation", "key_vectors_from", "fifths_distance",
    "spearman", "unit_vectors", "KEY_ORDER", "plot_triads", "plot_key_distances",
    "plot_neighbours", "DEFAULT",
]

#: Name of the shipped weights under ``symbolic/pretrained/``.
DEFAULT = "harmony2vec"


def load(name_or_path=None, device="auto") -> Harmony2Vec:
    """A saved model: ``name_or_path`` (a folder, a name under ``symbolic/pretrained/`` or a Hub
    id; default the shipped weights, loaded once per device and shared) on ``device``
    (``"auto"``: CUDA when present). See :func:`symbolic.models.load_pretrained`."""
    return load_pretrained(Harmony2Vec, DEFAULT, name_or_path, device)


def similar(item, topn: int = 10, among="chords", model: Harmony2Vec | None = None):
    """Nearest chords/slices of ``item`` (:meth:`Harmony2Vec.similar`), shipped model default."""
    return (model or load()).similar(item, topn, among)


def similarity(a, b, model: Harmony2Vec | None = None) -> float:
    """Cosine similarity of two chords or slices (:meth:`Harmony2Vec.similarity`)."""
    return (model or load()).similarity(a, b)


def analogy(a, b, c, topn: int = 5, among="majmin", model: Harmony2Vec | None = None):
    """``a`` is to ``b`` as ``c`` is to ? (:meth:`Harmony2Vec.analogy`)."""
    return (model or load()).analogy(a, b, c, topn, among)


def vector(item, model: Harmony2Vec | None = None) -> np.ndarray:
    """The vector of a chord or slice (:meth:`Harmony2Vec.vector`)."""
    return (model or load()).vector(item)


def key_vector(key, model: Harmony2Vec | None = None) -> np.ndarray:
    """The vector of a key (:meth:`Harmony2Vec.key_vector`)."""
    return (model or load()).key_vector(key)


def piece_vector(piece, beats=None, model: Harmony2Vec | None = None) -> np.ndarray:
    """The mean slice vector of a piece (:meth:`Harmony2Vec.piece_vector`)."""
    return (model or load()).piece_vector(piece, beats=beats)
