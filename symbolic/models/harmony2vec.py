"""harmony2vec: skip-gram embeddings of pitch-class slices (Chuan, Agres & Herremans, 2018).

A model that never saw music theory learns it from music alone. Every beat of a piece becomes
a *slice*, the set of pitch classes sounding in it (:mod:`symbolic.representations.slices`:
a 12-bit mask, C-E-G = 145); skip-gram with negative sampling (word2vec) then learns one vector
per slice such that slices met in the same contexts (within ``window`` beats) get close vectors.
Chords of the same function end up together and the circle of fifths appears.

Reading order: settings -> corpus (extract + cache) -> vocabulary -> model -> pair sampler ->
training -> the music API (vectors of chords, slices, pieces and keys; neighbours; analogies)
-> metrics (pure functions, shared with ``benchmarks/eval_harmony2vec.py``) -> plots -> CLI.

**Data.** POP909 (beats from its annotations, keys from ``key_audio.txt``) plus music21's
corpus: Bach chorales, Beethoven/Mozart/Haydn quartets, and evenly spread subsets of the Essen,
O'Neill's and Ryan's folk-tune collections (:data:`SOURCES`); train splits for training, test
splits held out. Extracted slices are cached as ``.npz`` under :func:`symbolic.data.cache.cache_dir`
(``harmony2vec/``), because parsing music21 pieces is slow.

**Training.** Transposition to all 12 keys happens on the fly (each pair moved by a random
interval), so every key is seen equally; frequent slices are subsampled as in word2vec
(``subsample``); negatives come from the (transposition-averaged) unigram distribution to the
power 0.75; the window is dynamic (1..``window`` beats each side). The vocabulary is the most
frequent slices taken in whole transposition classes, so it is closed under transposition.
Silences split a sequence; slices outside the vocabulary are skipped (as word2vec skips rare
words). The vectors of the API are the sum of each slice's unit centre and context vectors
(:meth:`Harmony2Vec.vectors`).

**Keys.** A key's vector is the mean of the unit slice vectors over the training slices in that
key, each piece first transposed to it: the slices of every major (minor) passage are counted
relative to their tonic (``key_counts``: POP909's key annotations, music21 pieces' keys from
:func:`symbolic.harmony.estimate_keys`), and that one distribution per mode is moved to each of
the 12 tonics. How close two keys come then depends both on the slices they share and on the
embedding: fifth-related keys share most slices, so even random vectors put them close
(``benchmarks/eval_harmony2vec.py`` prints that baseline).

**What it learns** (shipped weights, ``benchmarks/eval_harmony2vec.py``): V, IV and vi are
among the 5 nearest triads of every major triad (random vectors: none of the 12 roots), and
triad distances follow the circle of fifths (Spearman 0.98; random 0.06, shared notes 0.41).
Raw co-occurrence counts over the same transposed corpus do as well on these probes (0.99):
the circle of fifths is in the statistics of the music, and the embedding compresses them into
128 numbers per slice (among all 1,324 slices it ranks V, IV and vi higher than the counts do:
mean rank 85 against 142).

Shipped weights: ``symbolic/pretrained/harmony2vec`` (:func:`load`), reproduced by
``symbolic harmony-embed train --out symbolic/pretrained/harmony2vec``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import OutOfVocabularyError, SymbolicError
from ..harmony import QUALITIES, Chord, Key
from ..representations.slices import (
    N_TOKENS, mask_of_pitches, parse_slice_name, pitch_classes, slice_name,
)
from . import HubModel, pretrained_path

__all__ = [
    "Harmony2Vec", "Settings", "SOURCES", "SliceCorpus", "PairSampler", "Neighbour",
    "OutOfVocabularyError", "load", "train", "extract_slices", "load_corpus", "build_vocab",
    "rotate", "slice_mask", "chord_label", "similar", "similarity", "analogy", "vector",
    "key_vector", "piece_vector", "unigram_loss", "triad_ranks", "fifths_correlation",
    "key_fifths_correlation", "key_vectors_from", "fifths_distance", "spearman", "KEY_ORDER",
    "plot_triads", "plot_key_distances", "plot_neighbours",
]

# ---------------------------------------------------------------------------------- settings

#: Training corpora: name -> pieces of the train split (None: all; a number: evenly spread).
SOURCES: dict[str, int | None] = {
    "pop909": None,
    "bach_chorales": None,
    "beethoven": None,
    "mozart": None,
    "haydn": None,
    "essen": 2000,
    "oneills": 500,
    "ryans_mammoth": 500,
}
CACHE_VERSION = 1


@dataclass
class Settings:
    """The default recipe, in one visible place (the shipped weights use exactly these).

    ``dim``: vector size. ``window``: beats each side. ``negatives``: negative samples per pair.
    ``max_vocab`` / ``min_count``: vocabulary cap and the least (per-key) count kept.
    ``subsample``: word2vec's frequent-token threshold (0: off). ``transpose``: move every pair
    by a random interval. ``merge_repeats``: collapse a slice repeated on consecutive beats.
    ``batch_size`` pairs per step, ``steps``, ``lr`` (Adam, cosine decay), ``eval_batches``
    held-out batches, ``seed``. ``sources``: :data:`SOURCES`.
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



# ------------------------------------------------------------------------------------ corpus

@dataclass
class SliceCorpus:
    """Slice sequences of many pieces, concatenated.

    ``tokens``: uint16 ``[n]`` masks; ``keys``: int8 ``[n]`` :attr:`Key.index` of each slice
    (0-11 major, 12-23 minor, -1 unknown); ``offsets``: int64 ``[pieces + 1]``, piece ``i`` is
    ``tokens[offsets[i]:offsets[i+1]]``; ``names``: str ``[pieces]``.
    """

    tokens: np.ndarray
    keys: np.ndarray
    offsets: np.ndarray
    names: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    @property
    def n_tokens(self) -> int:
        return int(len(self.tokens))

    def piece(self, i: int) -> np.ndarray:
        return self.tokens[self.offsets[i]:self.offsets[i + 1]]

    @classmethod
    def from_pieces(cls, pieces: list[tuple[str, np.ndarray, np.ndarray]]) -> "SliceCorpus":
        """From ``(name, tokens, keys)`` triples."""
        lengths = [len(t) for _, t, _ in pieces]
        return cls(
            tokens=np.concatenate([t for _, t, _ in pieces] or [np.zeros(0)]).astype(np.uint16),
            keys=np.concatenate([k for _, _, k in pieces] or [np.zeros(0)]).astype(np.int8),
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            names=np.array([n for n, _, _ in pieces], dtype=str),
        )

    @classmethod
    def concat(cls, parts: list["SliceCorpus"]) -> "SliceCorpus":
        pieces = [(str(c.names[i]), c.piece(i), c.keys[c.offsets[i]:c.offsets[i + 1]])
                  for c in parts for i in range(len(c))]
        return cls.from_pieces(pieces)

    def save(self, path, requested: str = "") -> None:
        np.savez_compressed(path, tokens=self.tokens, keys=self.keys, offsets=self.offsets,
                            names=self.names, requested=np.array(requested))

    @classmethod
    def load(cls, path) -> tuple["SliceCorpus", str]:
        with np.load(path, allow_pickle=False) as z:
            corpus = cls(z["tokens"], z["keys"], z["offsets"], z["names"])
            return corpus, str(z["requested"])


def _spread(names: list, limit: int | None) -> list:
    """``limit`` items evenly spread over ``names`` (all when None or larger)."""
    if limit is None or limit >= len(names):
        return list(names)
    idx = np.unique(np.linspace(0, len(names) - 1, max(int(limit), 0)).round().astype(int))
    return [names[i] for i in idx]


def _split_limit(limit: int | None, n_split: int, n_train: int) -> int | None:
    # A cap is given for the train split; other splits keep the same share of pieces.
    return None if limit is None else max(1, math.ceil(limit * n_split / max(n_train, 1)))


def extract_slices(source: str, split: str = "train", *, limit: int | None = None,
                   progress: bool = False, cache: bool = True,
                   failures: list | None = None) -> SliceCorpus:
    """Slices and keys of one corpus split: ``"pop909"`` or a collection of
    :mod:`symbolic.data.music21_corpus`. ``limit`` caps the pieces of the train split (other
    splits keep the same share), evenly spread. Cached under ``cache_dir("harmony2vec")``;
    pieces that fail to load go to ``failures`` and are skipped."""
    from ..representations import slices as slice_codec

    if source == "pop909":
        from ..data.pop909 import Pop909

        pop = Pop909()
        ids = pop.available(split)
        limit_here = _split_limit(limit, len(ids), len(pop.available("train")))
        requested = [str(i) for i in _spread(ids, limit_here)]
    else:
        from ..data.music21_corpus import piece_names

        names = piece_names(source, split)
        requested = _spread(list(names), _split_limit(limit, len(names),
                                                      len(piece_names(source, "train"))))
    digest = hashlib.sha1("\n".join(requested).encode()).hexdigest()
    path = None
    if cache:
        from ..data.cache import cache_dir

        path = cache_dir("harmony2vec") / f"{source}-{split}-{limit or 'all'}-v{CACHE_VERSION}.npz"
        if path.is_file():
            corpus, found = SliceCorpus.load(path)
            if found == digest:
                return corpus

    pieces = []
    if source == "pop909":
        from tqdm.auto import tqdm

        from ..timing import ticks_to_seconds

        for sid in tqdm(requested, desc="pop909", disable=not progress, unit="song"):
            try:
                song = pop.song(int(sid))
            except SymbolicError as e:
                _record(failures, f"pop909:{int(sid):03d}", e)
                continue
            x = slice_codec.encode(song.score, beats=song.beat_ticks())
            labels = song.keys.label_at(ticks_to_seconds(song.score, x.boundaries[:-1]))
            keys = np.array([_key_index(lab) for lab in labels], dtype=np.int8)
            pieces.append((f"pop909:{int(sid):03d}", x.tokens, keys))
    else:
        from ..data import iter_scores
        from ..harmony import estimate_keys

        for name, score in iter_scores(requested, failures=failures, progress=progress,
                                       desc=source):
            try:
                x = slice_codec.encode(score)
                ks = estimate_keys(score)
            except SymbolicError as e:
                _record(failures, name, e)
                continue
            at = ks.index_at(x.boundaries[:-1])
            index = np.array([k.index for k in ks.keys] + [-1], dtype=np.int8)
            pieces.append((name, x.tokens, index[at]))
    corpus = SliceCorpus.from_pieces(pieces)
    if path is not None:
        corpus.save(path, digest)
    return corpus


def _record(failures: list | None, name: str, error: SymbolicError) -> None:
    if failures is not None:
        from ..data import Failure

        failures.append(Failure(name, type(error).__name__, error.reason))


def _key_index(label) -> int:
    if label is None:
        return -1
    try:
        return Key.parse(label).index
    except SymbolicError:
        return -1


def load_corpus(sources: dict | Iterable[str] | None = None, split: str = "train", *,
                progress: bool = False, cache: bool = True,
                failures: list | None = None) -> SliceCorpus:
    """:func:`extract_slices` over several sources (default :data:`SOURCES`), concatenated."""
    if sources is None:
        sources = SOURCES
    if not isinstance(sources, dict):
        sources = {s: None for s in sources}
    return SliceCorpus.concat([
        extract_slices(name, split, limit=limit, progress=progress, cache=cache,
                       failures=failures)
        for name, limit in sources.items()])


# -------------------------------------------------------------------------------- vocabulary

def rotate(masks, k):
    """Masks transposed up ``k`` semitones (numpy arrays or ints; ``k`` may be an array)."""
    m = np.asarray(masks, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64) % 12
    out = ((m << k) | (m >> (12 - k))) & (N_TOKENS - 1)
    return int(out) if out.ndim == 0 else out


def build_vocab(tokens: np.ndarray, *, max_size: int = 2048, min_count: float = 5,
                transpose: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The most frequent non-silent slices: ``(masks int64 [V], counts float64 [V])`` sorted by
    count (then mask). With ``transpose`` a slice's count is the mean count of its 12
    transpositions (what training on all keys sees) and whole transposition classes are kept
    or dropped together, so the vocabulary is closed under transposition."""
    counts = np.bincount(np.asarray(tokens, dtype=np.int64), minlength=N_TOKENS).astype(float)
    counts[0] = 0.0
    masks = np.arange(N_TOKENS)
    if transpose:
        counts = np.mean([counts[rotate(masks, k)] for k in range(12)], axis=0)
        group = np.min([rotate(masks, k) for k in range(12)], axis=0)
    else:
        group = masks
    order = np.lexsort((masks, -counts))
    order = order[counts[order] >= max(min_count, 1e-12)]
    chosen, seen = [], set()
    for m in order:  # whole classes, most frequent first, while they fit
        g = group[m]
        if g in seen:
            continue
        members = masks[group == g] if transpose else np.array([m])
        if len(chosen) + len(members) > max_size:
            seen.add(g)
            continue
        seen.add(g)
        chosen.extend(members.tolist())
    chosen = np.array(chosen, dtype=np.int64)
    chosen = chosen[np.lexsort((chosen, -counts[chosen]))]
    return chosen, counts[chosen]


def _lookup(vocab: np.ndarray) -> np.ndarray:
    lut = np.full(N_TOKENS, -1, dtype=np.int64)
    lut[vocab] = np.arange(len(vocab))
    return lut


def _sequences(corpus: SliceCorpus, vocab: np.ndarray, merge_repeats: bool = False):
    """Vocabulary ids of the corpus with a segment id each: pieces and silences split
    segments; out-of-vocabulary slices are skipped; optionally merge repeated slices."""
    lut = _lookup(vocab)
    tokens = corpus.tokens.astype(np.int64)
    starts = np.zeros(len(tokens), bool)
    starts[corpus.offsets[:-1][corpus.offsets[:-1] < len(tokens)]] = True
    seg = np.cumsum(starts | (tokens == 0))
    ids = lut[tokens]
    keep = ids >= 0
    ids, seg = ids[keep], seg[keep]
    if merge_repeats and len(ids):
        dup = np.r_[False, (ids[1:] == ids[:-1]) & (seg[1:] == seg[:-1])]
        ids, seg = ids[~dup], seg[~dup]
    return ids, seg


def _key_counts(corpus: SliceCorpus, vocab: np.ndarray) -> np.ndarray:
    """``[2, V]``: how often each slice occurs, relative to the tonic, in major (row 0) and
    minor (row 1) passages of known key."""
    lut = _lookup(vocab)
    known = (corpus.keys >= 0) & (corpus.tokens > 0)
    key = corpus.keys[known].astype(np.int64)
    ids = lut[rotate(corpus.tokens[known], -(key % 12))]
    out = np.zeros((2, len(vocab)))
    ok = ids >= 0
    np.add.at(out, (key[ok] // 12, ids[ok]), 1.0)
    return out


# ------------------------------------------------------------------------------------- model

class Harmony2Vec(nn.Module, HubModel, library_name="symbolic",
                  tags=["symbolic-music", "word2vec", "harmony"]):
    """Skip-gram with negative sampling over a vocabulary of pitch-class slices.

    Parameters: ``center`` and ``context`` embeddings ``[V, dim]``. Buffers (saved with the
    weights): ``vocab`` (int64 masks ``[V]``), ``counts`` (training frequency ``[V]``),
    ``key_counts`` (``[2, V]``, see the module docstring). ``settings`` records the recipe.
    ``forward(center, context, negatives, weight)`` is the mean negative-sampling loss of a
    batch of ``[B]`` centre ids, ``[B]`` context ids and ``[B, K]`` negative ids.
    """

    def __init__(self, vocab_size: int = 2048, dim: int = 128, settings: dict | None = None):
        super().__init__()
        self.dim = int(dim)
        self.settings = dict(settings or {})
        self.center = nn.Embedding(vocab_size, dim)
        self.context = nn.Embedding(vocab_size, dim)
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)  # word2vec's init
        nn.init.zeros_(self.context.weight)
        self.register_buffer("vocab", torch.zeros(vocab_size, dtype=torch.int64))
        self.register_buffer("counts", torch.zeros(vocab_size))
        self.register_buffer("key_counts", torch.zeros(2, vocab_size))

    @classmethod
    def from_vocab(cls, vocab, counts, *, dim: int = 128, key_counts=None,
                   settings: dict | None = None) -> "Harmony2Vec":
        """A fresh (untrained) model over the masks ``vocab`` with their ``counts``."""
        model = cls(len(vocab), dim, settings)
        model.vocab.copy_(torch.as_tensor(np.asarray(vocab), dtype=torch.int64))
        model.counts.copy_(torch.as_tensor(np.asarray(counts), dtype=torch.float32))
        if key_counts is not None:
            model.key_counts.copy_(torch.as_tensor(np.asarray(key_counts), dtype=torch.float32))
        return model

    def forward(self, center, context, negatives, weight=None):
        u = self.center(center)                                         # [B, D]
        pos = F.logsigmoid((u * self.context(context)).sum(-1))         # [B]
        neg = F.logsigmoid(-torch.einsum("bkd,bd->bk", self.context(negatives), u)).sum(-1)
        loss = -(pos + neg)
        if weight is None:
            return loss.mean()
        return (loss * weight).sum() / weight.sum().clamp_min(1e-9)

    # -- vocabulary ----------------------------------------------------------------------------

    @property
    def vocab_masks(self) -> np.ndarray:
        return self.vocab.detach().cpu().numpy()

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, item) -> bool:
        try:
            self.index(item)
        except (OutOfVocabularyError, SymbolicError, ValueError):
            return False
        return True

    def index(self, item) -> int:
        """Vocabulary id of a chord, slice name, mask or pitch collection (:func:`slice_mask`)."""
        mask = slice_mask(item)
        i = int(_lookup(self.vocab_masks)[mask])
        if i < 0:
            raise OutOfVocabularyError(f"slice {slice_name(mask)} ({mask}) is not in the "
                                       f"vocabulary of {len(self)} slices", repr(item))
        return i

    def vocabulary(self, top: int | None = None) -> list[tuple[int, str, str, float]]:
        """``(mask, slice name, label, count)`` of the vocabulary, most frequent first."""
        counts = self.counts.detach().cpu().numpy()
        return [(int(m), slice_name(int(m)), chord_label(int(m)), float(c))
                for m, c in list(zip(self.vocab_masks, counts))[:top]]

    # -- vectors -------------------------------------------------------------------------------

    def vectors(self, normalize: bool = True, which: str = "both") -> np.ndarray:
        """All slice vectors ``[V, dim]`` (float64; unit length when ``normalize``).

        ``which``: ``"both"`` (default: the unit centre vector plus the unit context vector,
        "w + c", which Levy, Goldberg & Dagan (2015) found better for similarity than the
        centre vectors alone; so it is here, see ``benchmarks/eval_harmony2vec.py``),
        ``"center"`` (word2vec's input vectors, what Chuan et al. used) or ``"context"``."""
        center = self.center.weight.detach().cpu().double().numpy()
        context = self.context.weight.detach().cpu().double().numpy()
        if which == "both":
            v = _unit(center) + _unit(context)
        elif which in ("center", "context"):
            v = center if which == "center" else context
        else:
            raise ValueError(f"which must be 'both', 'center' or 'context', got {which!r}")
        return _unit(v) if normalize else v

    def vector(self, item, normalize: bool = False) -> np.ndarray:
        """The vector of one chord (``"C:maj"``, ``"Am7"``, a :class:`Chord`), slice
        (``"C-E-G"``, mask 145, pitches ``[60, 64, 67]``)."""
        return self.vectors(normalize)[self.index(item)]

    def similarity(self, a, b) -> float:
        """Cosine similarity of two chords or slices (-1..1)."""
        v = self.vectors()
        return float(v[self.index(a)] @ v[self.index(b)])

    def similar(self, item, topn: int = 10, among="chords") -> list["Neighbour"]:
        """The ``topn`` nearest slices by cosine. ``among``: ``"chords"`` (slices that spell a
        chord of 3+ notes: triads, sevenths, sus, add9...), ``"triads"`` (major, minor,
        diminished, augmented), ``"majmin"`` (the 24 major and minor triads), ``"all"`` (every
        slice of the vocabulary: mostly sub- and supersets of ``item`` come first) or a list of
        chords/slices. ``item`` may also be a vector."""
        if isinstance(item, np.ndarray) and item.ndim == 1:
            query, exclude = _unit(item), set()
        else:
            i = self.index(item)
            query, exclude = self.vectors()[i], {i}
        return self._nearest(query, exclude, topn, among)

    def analogy(self, a, b, c, topn: int = 5, among="majmin") -> list["Neighbour"]:
        """``a`` is to ``b`` as ``c`` is to ?: nearest to ``b - a + c`` (unit vectors), the three
        inputs left out. ``among`` as in :meth:`similar`."""
        v = self.vectors()
        ia, ib, ic = self.index(a), self.index(b), self.index(c)
        return self._nearest(_unit(v[ib] - v[ia] + v[ic]), {ia, ib, ic}, topn, among)

    def _nearest(self, query, exclude: set, topn: int, among) -> list["Neighbour"]:
        cand = np.array([i for i in self._candidates(among) if i not in exclude], dtype=int)
        sims = self.vectors()[cand] @ query
        order = np.argsort(-sims, kind="stable")[:topn]
        masks = self.vocab_masks
        return [Neighbour(chord_label(int(masks[cand[k]])), slice_name(int(masks[cand[k]])),
                          int(masks[cand[k]]), float(sims[k])) for k in order]

    def _candidates(self, among) -> np.ndarray:
        if isinstance(among, str):
            if among == "all":
                return np.arange(len(self))
            return np.flatnonzero(np.isin(self.vocab_masks, _chord_masks(among)))
        return np.array([self.index(x) for x in among], dtype=int)

    def piece_vector(self, piece, *, beats=None) -> np.ndarray:
        """Mean unit vector of the in-vocabulary slices of a piece: a ``symusic.Score`` (encoded
        with ``beats``, default from the meter), a :class:`~symbolic.representations.slices.Slices`
        or an array of masks. Raises :class:`OutOfVocabularyError` when no slice is known."""
        tokens = _tokens_of(piece, beats)
        ids = _lookup(self.vocab_masks)[tokens]
        ids = ids[ids >= 0]
        if len(ids) == 0:
            raise OutOfVocabularyError("no slice of the piece is in the vocabulary", "<piece>")
        return self.vectors()[ids].mean(axis=0)

    def key_vectors(self) -> np.ndarray:
        """``[24, dim]``: the vectors of the 24 keys in :attr:`Key.index` order (majors C..B,
        then minors), from ``key_counts`` (see the module docstring)."""
        return key_vectors_from(self.vocab_masks, self.vectors(),
                                self.key_counts.detach().cpu().numpy())

    def key_vector(self, key) -> np.ndarray:
        """The vector of one key: ``"G:maj"``, ``"E:min"``, ``"F# minor"``, a :class:`Key`."""
        return self.key_vectors()[Key.parse(key).index]


class Neighbour(NamedTuple):
    """One answer of :meth:`Harmony2Vec.similar`: chord label (Harte, or the slice name when
    the slice is no chord), slice name, mask, cosine similarity."""

    label: str
    slice: str
    mask: int
    similarity: float

    def __str__(self) -> str:
        name = self.label if self.label == self.slice else f"{self.label} ({self.slice})"
        return f"{name}  {self.similarity:.3f}"


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def _tokens_of(piece, beats=None) -> np.ndarray:
    from ..representations import slices as slice_codec

    if hasattr(piece, "tokens") and hasattr(piece, "boundaries"):
        tokens = piece.tokens
    elif hasattr(piece, "tracks"):
        tokens = slice_codec.encode(piece, beats=beats).tokens
    else:
        tokens = piece
    return np.asarray(tokens, dtype=np.int64).ravel()


# ------------------------------------------------------------------------------- chord names

_SLICE_NAME = r"^\s*[A-Ga-g][#b♯♭]*(\s*-\s*[A-Ga-g][#b♯♭]*)+\s*$"
# Preferred reading of an ambiguous pitch-class set (C6 = Am7 reads Am7; Csus2 = Gsus4: sus4).
_LABEL_QUALITIES = ("maj", "min", "dim", "aug", "7", "min7", "maj7", "hdim7", "dim7", "sus4",
                    "sus2", "7sus4", "maj6", "min6", "add9", "9", "maj9", "min9", "minmaj7",
                    "aug7", "11", "13")
_FAMILIES = {"triads": ("maj", "min", "dim", "aug"), "majmin": ("maj", "min"),
             "chords": _LABEL_QUALITIES}


def slice_mask(item) -> int:
    """The 12-bit mask of a chord or slice: an int mask (145), a chord label (``"C:maj"``,
    ``"Am7"``, ``"G/B"``), a slice name with two or more pitch classes (``"C-E-G"``), a
    :class:`~symbolic.harmony.Chord`, or a collection of MIDI pitches / pitch classes."""
    import re

    if isinstance(item, (bool, np.bool_)):
        raise TypeError("a slice is a chord label, slice name, mask or pitch collection")
    if isinstance(item, (int, np.integer)):
        if not 0 <= int(item) < N_TOKENS:
            raise ValueError(f"a slice mask is 0-{N_TOKENS - 1}, got {item}")
        return int(item)
    if isinstance(item, Chord):
        return item.mask
    if isinstance(item, str):
        if ":" not in item and re.match(_SLICE_NAME, item):
            return parse_slice_name(item)
        return Chord.parse(item).mask
    if isinstance(item, Key):
        raise TypeError("a key has no slice: use key_vector()")
    return mask_of_pitches(list(item))


@functools.lru_cache(maxsize=N_TOKENS)
def chord_label(mask: int) -> str:
    """Harte label of a set of 3+ pitch classes that spells a root-position chord (``145`` ->
    ``"C:maj"``; ambiguous sets read as the first of ``maj, min, dim, aug, 7, min7, maj7...``),
    else the slice name (``"C-G"``)."""
    pcs = frozenset(pitch_classes(mask))
    if len(pcs) >= 3:
        for quality in _LABEL_QUALITIES:
            for root in sorted(pcs):
                if frozenset((root + i) % 12 for i in QUALITIES[quality]) == pcs:
                    return Chord(root, quality).to_harte()
    return slice_name(mask)


@functools.lru_cache(maxsize=None)
def _chord_masks(family: str) -> tuple[int, ...]:
    if family not in _FAMILIES:
        raise ValueError(f"among must be 'all', {', '.join(map(repr, _FAMILIES))} or a list")
    return tuple(sorted({Chord(r, q).mask for q in _FAMILIES[family] for r in range(12)}))


# ------------------------------------------------------------------------------ pair sampler

class PairSampler:
    """Skip-gram training pairs drawn at random from a corpus (``make_batch`` of
    :func:`symbolic.training.fit`): ``sampler(rng, step) -> {center, context, negatives,
    weight}``. A centre position is drawn with word2vec's subsampling weight, a context at a
    distance of 1..b beats (``b`` uniform in 1..``window``) on a random side; pairs crossing a
    segment end, or whose context is subsampled away, get weight 0. With ``transpose`` each
    pair is moved by a random interval (a table lookup: the vocabulary is closed under
    transposition)."""

    def __init__(self, corpus: SliceCorpus, vocab: np.ndarray, counts: np.ndarray, *,
                 window: int = 4, negatives: int = 5, batch_size: int = 2048,
                 subsample: float = 1e-3, transpose: bool = True, merge_repeats: bool = False):
        self.ids, self.seg = _sequences(corpus, vocab, merge_repeats)
        if len(self.ids) < 2:
            raise ValueError("the corpus has fewer than two in-vocabulary slices")
        self.window, self.negatives, self.batch_size = int(window), int(negatives), int(batch_size)
        self.transpose = transpose
        freq = np.asarray(counts, dtype=np.float64)
        freq = freq / freq.sum()
        keep = np.ones_like(freq)
        if subsample:
            keep = np.minimum(1.0, (np.sqrt(freq / subsample) + 1.0) * subsample / freq)
        self.keep = keep
        w = keep[self.ids]
        self.center_cdf = np.cumsum(w) / w.sum()
        neg = freq ** 0.75
        self.negative_cdf = np.cumsum(neg) / neg.sum()
        lut = _lookup(vocab)
        self.rot = np.stack([lut[rotate(vocab, k)] for k in range(12)])
        if transpose and (self.rot < 0).any():
            raise ValueError("transpose=True needs a vocabulary closed under transposition")

    def __call__(self, rng: np.random.Generator, step: int = 0) -> dict:
        n, b = len(self.ids), self.batch_size
        i = np.minimum(np.searchsorted(self.center_cdf, rng.random(b), side="right"), n - 1)
        reach = rng.integers(1, self.window + 1, b)
        dist = np.floor(rng.random(b) * reach).astype(np.int64) + 1
        j = i + np.where(rng.random(b) < 0.5, -dist, dist)
        inside = (j >= 0) & (j < n)
        j = np.clip(j, 0, n - 1)
        center, context = self.ids[i], self.ids[j]
        valid = inside & (self.seg[j] == self.seg[i]) & (rng.random(b) < self.keep[context])
        negatives = np.minimum(np.searchsorted(self.negative_cdf, rng.random((b, self.negatives)),
                                               side="right"), len(self.negative_cdf) - 1)
        if self.transpose:
            k = rng.integers(0, 12, b)
            center, context = self.rot[k, center], self.rot[k, context]
        return {"center": torch.from_numpy(center), "context": torch.from_numpy(context),
                "negatives": torch.from_numpy(negatives),
                "weight": torch.from_numpy(valid.astype(np.float32))}

    def context_log_odds(self, rng: np.random.Generator, n_batches: int = 100) -> np.ndarray:
        """Log-odds ``log p(context) / (K * p_neg(context))`` that a context-blind classifier
        assigns to each slice, estimated from ``n_batches`` batches: the unigram baseline of
        :func:`unigram_loss`."""
        hits = np.zeros(len(self.negative_cdf))
        for _ in range(n_batches):
            batch = self(rng)
            ctx, w = batch["context"].numpy(), batch["weight"].numpy()
            hits += np.bincount(ctx, weights=w, minlength=len(hits))
        p = (hits + 0.5) / (hits + 0.5).sum()
        p_neg = np.diff(np.r_[0.0, self.negative_cdf])
        return np.log(p / (self.negatives * np.maximum(p_neg, 1e-12)))


def unigram_loss(batch: dict, log_odds: np.ndarray) -> float:
    """The negative-sampling loss of a classifier that knows only how frequent each context
    slice is (the best context-blind score, ``log_odds`` from
    :meth:`PairSampler.context_log_odds`): what the model must beat on held-out pairs."""
    s = torch.as_tensor(log_odds, dtype=torch.float64)
    pos = F.logsigmoid(s[batch["context"]])
    neg = F.logsigmoid(-s[batch["negatives"]]).sum(-1)
    w = batch["weight"].double()
    return float(-((pos + neg) * w).sum() / w.sum().clamp_min(1e-9))


# ---------------------------------------------------------------------------------- training

def train(settings: Settings | None = None, *, out=None, corpus: SliceCorpus | None = None,
          held_out: SliceCorpus | None = None, progress: bool = True, device: str = "auto",
          checkpoint_dir=None, resume: bool = False,
          command: str | None = None) -> tuple[Harmony2Vec, dict]:
    """Train a model with ``settings`` (default :class:`Settings`) on ``corpus`` (default: the
    train splits of ``settings.sources``), evaluating on ``held_out`` (default: their test
    splits). Saves to ``out`` when given (``config.json``, ``model.safetensors``, and a
    ``README.md`` card with the held-out figures). Returns the model (eval mode, CPU) and a
    report: corpus sizes, held-out loss of the model, of the unigram baseline and of chance.
    """
    from ..training import TrainConfig, fit, seed_everything

    s = settings or Settings()
    if corpus is None:
        corpus = load_corpus(s.sources, "train", progress=progress)
    if held_out is None:
        held_out = load_corpus(s.sources, "test", progress=progress)
    vocab, counts = build_vocab(corpus.tokens, max_size=s.max_vocab, min_count=s.min_count,
                                transpose=s.transpose)
    if len(vocab) == 0:
        raise ValueError("no slice reaches min_count: the corpus is too small")
    seed_everything(s.seed)
    model = Harmony2Vec.from_vocab(vocab, counts, dim=s.dim, key_counts=_key_counts(corpus, vocab),
                                   settings=asdict(s))
    opts = dict(window=s.window, negatives=s.negatives, batch_size=s.batch_size,
                subsample=s.subsample, transpose=s.transpose, merge_repeats=s.merge_repeats)
    sampler = PairSampler(corpus, vocab, counts, **opts)
    eval_sampler = PairSampler(held_out, vocab, counts, **opts)
    eval_rng = np.random.default_rng(s.seed + 1)
    eval_batches = [eval_sampler(eval_rng) for _ in range(s.eval_batches)]
    config = TrainConfig(steps=s.steps, lr=s.lr, optimizer="adam", schedule="cosine",
                         min_lr_ratio=0.02, grad_clip=None, eval_every=max(s.steps // 5, 1),
                         checkpoint_every=max(s.steps // 5, 1), log_every=max(s.steps // 20, 1),
                         seed=s.seed, device=device, threads=1, progress=progress)
    result = fit(model, sampler, config=config, eval_batches=eval_batches,
                 checkpoint_dir=checkpoint_dir, resume=resume)
    model.cpu()
    log_odds = sampler.context_log_odds(np.random.default_rng(s.seed + 2))
    report = {
        "train_pieces": len(corpus), "train_slices": corpus.n_tokens,
        "held_out_pieces": len(held_out), "held_out_slices": held_out.n_tokens,
        "vocab_size": int(len(vocab)),
        "vocab_coverage": float(np.isin(corpus.tokens[corpus.tokens > 0], vocab).mean()),
        "held_out_loss": result.eval_loss,
        "unigram_loss": float(np.mean([unigram_loss(b, log_odds) for b in eval_batches])),
        "chance_loss": (1 + s.negatives) * math.log(2.0),
        "history": result.history,
    }
    if out is not None:
        save(model, out, report=report, command=command)
    return model, report


def save(model: Harmony2Vec, out, *, report: dict | None = None,
         command: str | None = None) -> Path:
    """``model.save_pretrained(out)`` plus a ``README.md`` card (recipe and held-out loss)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    card = out / "README.md"
    card.unlink(missing_ok=True)
    model.save_pretrained(out)
    lines = ["# harmony2vec", "",
             "Skip-gram (negative sampling) embeddings of one-beat pitch-class slices, after "
             "Chuan, Agres & Herremans (2018). Code: `symbolic.models.harmony2vec`.", "",
             f"- vocabulary: {len(model)} slices (whole transposition classes), "
             f"vectors of {model.dim} dimensions",
             f"- settings: `{model.settings}`"]
    if command:
        lines.append(f"- reproduce: `{command}`")
    if report:
        lines.append(f"- data: {report['train_pieces']} train pieces "
                     f"({report['train_slices']} slices), held out {report['held_out_pieces']} "
                     f"pieces ({report['held_out_slices']} slices)")
        lines.append(f"- held-out negative-sampling loss: {report['held_out_loss']:.4f} "
                     f"(unigram baseline {report['unigram_loss']:.4f}, chance "
                     f"{report['chance_loss']:.4f})")
    lines += ["", "Evaluation: `python benchmarks/eval_harmony2vec.py`.", ""]
    card.write_text("\n".join(lines))
    return out


# ---------------------------------------------------------------------------- the music API

DEFAULT = "harmony2vec"


def load(path=None) -> Harmony2Vec:
    """A saved model: ``path`` (a folder or Hub id), default the shipped weights."""
    if path is None:
        return _default_model()
    return Harmony2Vec.from_pretrained(str(path))


@functools.lru_cache(maxsize=1)
def _default_model() -> Harmony2Vec:
    return Harmony2Vec.from_pretrained(str(pretrained_path(DEFAULT)))


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


# ----------------------------------------------------------------------------------- metrics
# Pure functions of (vocabulary masks, vectors): the model and the baselines go through the
# same code in benchmarks/eval_harmony2vec.py.

#: The 24 keys along the circle of fifths: C G D ... F major, then their relative minors.
KEY_ORDER = tuple([Key(7 * i % 12, "major") for i in range(12)]
                  + [Key((7 * i + 9) % 12, "minor") for i in range(12)])


def fifths_distance(a, b) -> np.ndarray:
    """Steps between pitch classes ``a`` and ``b`` on the circle of fifths (0-6)."""
    steps = (7 * (np.asarray(b) - np.asarray(a))) % 12
    return np.minimum(steps, 12 - steps)


def spearman(x, y) -> float:
    """Spearman's rank correlation (ties get their mean rank)."""
    def ranks(v):
        v = np.asarray(v, dtype=np.float64)
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=np.float64)
        _, inv, cnt = np.unique(v, return_inverse=True, return_counts=True)
        sums = np.bincount(inv, weights=r)
        return sums[inv] / cnt[inv]

    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx ** 2).sum() * (ry ** 2).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def _rows(masks: np.ndarray, wanted) -> np.ndarray:
    lut = _lookup(np.asarray(masks, dtype=np.int64))
    rows = lut[np.asarray(wanted, dtype=np.int64)]
    if (rows < 0).any():
        missing = [slice_name(int(m)) for m in np.asarray(wanted)[rows < 0]]
        raise OutOfVocabularyError(f"not in the vocabulary: {', '.join(missing)}")
    return rows


def triad_ranks(masks, vectors, *, among: str = "triads") -> np.ndarray:
    """``[12, 3]``: for the major triad on each root (C..B), the 1-based cosine rank of its V,
    IV and vi triads among the ``among`` candidates (``"triads"``, ``"majmin"``, ``"chords"``
    or ``"all"`` slices of the vocabulary), the triad itself left out."""
    masks = np.asarray(masks, dtype=np.int64)
    v = _unit(vectors)
    cand = np.arange(len(masks)) if among == "all" else np.flatnonzero(
        np.isin(masks, _chord_masks(among)))
    out = np.zeros((12, 3), dtype=np.int64)
    for root in range(12):
        q = _rows(masks, [Chord(root).mask])[0]
        others = cand[cand != q]
        order = others[np.argsort(-(v[others] @ v[q]), kind="stable")]
        targets = _rows(masks, [Chord(root + 7).mask, Chord(root + 5).mask,
                                Chord(root + 9, "min").mask])
        out[root] = [int(np.flatnonzero(order == t)[0]) + 1 for t in targets]
    return out


def fifths_correlation(masks, vectors, quality: str = "maj") -> float:
    """Spearman correlation, over the 66 pairs of triads of one ``quality``, between cosine
    distance and the distance of their roots on the circle of fifths."""
    rows = _rows(masks, [Chord(r, quality).mask for r in range(12)])
    v = _unit(np.asarray(vectors)[rows])
    i, j = np.triu_indices(12, 1)
    return spearman(1.0 - (v[i] * v[j]).sum(-1), fifths_distance(i, j))


def key_vectors_from(masks, vectors, key_counts) -> np.ndarray:
    """``[24, D]`` key vectors (majors C..B, then minors): for mode ``m`` and tonic ``t``, the
    ``key_counts[m]``-weighted mean of the unit vectors of the slices moved up ``t``."""
    masks = np.asarray(masks, dtype=np.int64)
    v = _unit(vectors)
    w = np.asarray(key_counts, dtype=np.float64)
    w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    lut = _lookup(masks)
    out = np.zeros((24, v.shape[1]))
    for t in range(12):
        rows = lut[rotate(masks, t)]
        ok = rows >= 0
        for mode in range(2):
            out[mode * 12 + t] = w[mode, ok] @ v[rows[ok]]
    return out


def key_fifths_correlation(key_vectors, which: str = "all") -> float:
    """Spearman correlation between the cosine distance of key vectors (``[24, D]``,
    :attr:`Key.index` order) and the circle-of-fifths distance of their key signatures
    (relative keys share one: C major and A minor are 0 apart). ``which``: ``"major"`` (the 66
    pairs of major keys), ``"minor"`` or ``"all"`` (the 276 pairs of all 24 keys)."""
    keys = {"major": range(12), "minor": range(12, 24), "all": range(24)}[which]
    keys = np.array(list(keys))
    v = _unit(np.asarray(key_vectors)[keys])
    signature = np.where(keys < 12, keys % 12, (keys % 12 + 3) % 12)
    i, j = np.triu_indices(len(keys), 1)
    return spearman(1.0 - (v[i] * v[j]).sum(-1), fifths_distance(signature[i], signature[j]))


# ------------------------------------------------------------------------------------- plots

def _figure(ax, size):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax, True
    return ax.figure, ax, False


def _finish(fig, own: bool, path) -> None:
    if own:
        fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=120)
        if own:
            import matplotlib.pyplot as plt

            plt.close(fig)


def _fifths_colour(root: int):
    import matplotlib.pyplot as plt

    return plt.get_cmap("hsv")((7 * root % 12) / 12.0)


def plot_triads(model: Harmony2Vec, *, qualities=("maj", "min"), components=(0, 1), ax=None,
                path=None, title: str | None = None):
    """2-D PCA projection of the triads, coloured by root (hue follows the circle of fifths),
    with each quality's triads joined in circle-of-fifths order (C G D A E B F# ...).
    Markers: major o, minor s, diminished ^, augmented D. Returns the Axes (PNG at ``path``)."""
    fig, ax, own = _figure(ax, (7, 6.5))
    masks = model.vocab_masks
    chords = [Chord(r, q) for q in qualities for r in range(12)]
    have = [c for c in chords if c.mask in set(masks.tolist())]
    v = model.vectors()[_rows(masks, [c.mask for c in have])]
    centred = v - v.mean(axis=0)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[list(components)].T
    share = (sv ** 2) / max((sv ** 2).sum(), 1e-12)
    marker = {"maj": "o", "min": "s", "dim": "^", "aug": "D"}
    pos = {(c.root, c.quality): xy[k] for k, c in enumerate(have)}
    for q in qualities:
        ring = [pos[(7 * i % 12, q)] for i in range(13) if (7 * i % 12, q) in pos]
        if len(ring) > 2:
            ring = np.array(ring)
            ax.plot(ring[:, 0], ring[:, 1], color="0.6", lw=0.9,
                    ls="-" if q == "maj" else "--", zorder=1,
                    label=f"{q} triads in circle-of-fifths order")
    for k, c in enumerate(have):
        ax.scatter(*xy[k], color=_fifths_colour(c.root), marker=marker.get(c.quality, "o"),
                   s=90, edgecolor="k", lw=0.6, zorder=2)
        ax.annotate(str(c), xy[k], textcoords="offset points", xytext=(6, 5), fontsize=9)
    ax.set_xlabel(f"PC{components[0] + 1} ({100 * share[components[0]]:.0f}% of variance)")
    ax.set_ylabel(f"PC{components[1] + 1} ({100 * share[components[1]]:.0f}% of variance)")
    ax.set_title(title or "Triads in the embedding (PCA); colour = root on the circle of fifths")
    ax.legend(loc="best", fontsize="small")
    ax.set_aspect("equal", adjustable="datalim")
    _finish(fig, own, path)
    return ax


def plot_key_distances(model_or_vectors, *, ax=None, path=None, title: str | None = None):
    """Heat map of the cosine distance between the 24 key vectors, keys along the circle of
    fifths (:data:`KEY_ORDER`: majors, then their relative minors). Takes a model or a
    ``[24, D]`` array in :attr:`Key.index` order. Returns the Axes."""
    kv = (model_or_vectors.key_vectors() if isinstance(model_or_vectors, Harmony2Vec)
          else np.asarray(model_or_vectors))
    order = [k.index for k in KEY_ORDER]
    v = _unit(kv[order])
    dist = 1.0 - v @ v.T
    fig, ax, own = _figure(ax, (8, 7))
    im = ax.imshow(dist, cmap="viridis")
    labels = [str(k) for k in KEY_ORDER]
    ax.set_xticks(range(24), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(24), labels, fontsize=8)
    ax.axhline(11.5, color="w", lw=0.8)
    ax.axvline(11.5, color="w", lw=0.8)
    fig.colorbar(im, ax=ax, shrink=0.8, label="cosine distance")
    ax.set_title(title or "Distance between keys (circle-of-fifths order)")
    _finish(fig, own, path)
    return ax


def plot_neighbours(model: Harmony2Vec, chords=("C:maj", "G:maj", "F:maj", "A:min", "D:min",
                                                "G:7"), *, topn: int = 5, among="chords",
                    ax=None, path=None, title: str | None = None):
    """A table of each chord's ``topn`` nearest neighbours (label and cosine). Returns Axes."""
    rows = [[f"{n.label}  {n.similarity:.2f}" for n in model.similar(c, topn, among)]
            for c in chords]
    fig, ax, own = _figure(ax, (2.0 + 1.9 * topn, 0.6 + 0.45 * len(rows)))
    ax.axis("off")
    table = ax.table(cellText=rows, rowLabels=[str(c) for c in chords],
                     colLabels=[f"#{k + 1}" for k in range(topn)], loc="center",
                     cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.4)
    ax.set_title(title or f"Nearest neighbours ({among})")
    _finish(fig, own, path)
    return ax


# --------------------------------------------------------------------------------------- CLI

def run_cli(args) -> int:
    """Handler of ``symbolic harmony-embed train|similar|analogy|plot`` (parser in
    :mod:`symbolic.cli`)."""
    if args.action == "train":
        return _cli_train(args)
    model = load(args.model)
    if args.action == "similar":
        for item in map(_item, args.items):
            print(f"{item}:")
            for n in model.similar(item, args.topn, args.among):
                print(f"  {n}")
        return 0
    if args.action == "analogy":
        a, b, c = map(_item, args.items)
        print(f"{a} is to {b} as {c} is to:")
        for n in model.analogy(a, b, c, args.topn, args.among):
            print(f"  {n}")
        return 0
    if args.action == "plot":
        import matplotlib

        matplotlib.use("Agg")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, draw in (("triads.png", plot_triads), ("keys.png", plot_key_distances),
                           ("neighbours.png", plot_neighbours)):
            draw(model, path=out / name)
            print(out / name)
        return 0
    raise ValueError(f"unknown action {args.action!r}")


def _cli_train(args) -> int:
    s = Settings()
    changes = {k: getattr(args, k) for k in ("steps", "dim", "window", "negatives", "max_vocab",
                                             "batch_size", "lr", "seed")
               if getattr(args, k, None) is not None}
    if args.no_transpose:
        changes["transpose"] = False
    if args.sources:
        changes["sources"] = _parse_sources(args.sources)
    s = replace(s, **changes)
    command = _train_command(args)
    model, report = train(s, out=args.out, progress=not args.quiet, device=args.device,
                          checkpoint_dir=args.checkpoint_dir, resume=args.resume,
                          command=command)
    print(f"train: {report['train_pieces']} pieces, {report['train_slices']} slices; "
          f"held out: {report['held_out_pieces']} pieces, {report['held_out_slices']} slices")
    print(f"vocabulary: {report['vocab_size']} slices covering "
          f"{100 * report['vocab_coverage']:.2f}% of training slices")
    print(f"held-out loss {report['held_out_loss']:.4f}  unigram baseline "
          f"{report['unigram_loss']:.4f}  chance {report['chance_loss']:.4f}")
    print("C:maj ->", ", ".join(str(n) for n in model.similar("C:maj", 5, "triads")))
    if args.out:
        print(f"saved to {args.out}")
    return 0


def _train_command(args) -> str:
    """The command line that repeats this training run (for the model card)."""
    parts = ["symbolic harmony-embed train"]
    if args.out:
        parts.append(f"--out {args.out}")
    for k in ("steps", "dim", "window", "negatives", "max_vocab", "batch_size", "lr", "seed",
              "sources"):
        if getattr(args, k, None) is not None:
            parts.append(f"--{k.replace('_', '-')} {getattr(args, k)}")
    if args.no_transpose:
        parts.append("--no-transpose")
    return " ".join(parts)


def _item(text: str):
    return int(text) if text.strip().isdigit() else text


def _parse_sources(text: str) -> dict:
    """``"pop909,bach_chorales,essen:500"`` -> ``{"pop909": None, ..., "essen": 500}``."""
    out = {}
    for part in text.split(","):
        name, _, limit = part.strip().partition(":")
        if name:
            out[name] = int(limit) if limit else None
    return out


if __name__ == "__main__":
    from ..cli import main

    sys.exit(main(["harmony-embed", *sys.argv[1:]]))
