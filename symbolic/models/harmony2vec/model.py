"""The harmony2vec model: skip-gram with negative sampling over pitch-class slices, and the
music API on its vectors (chords, slices, pieces and keys; neighbours; analogies).

Settings: :class:`~symbolic.models.harmony2vec.settings.Settings` (recorded in ``config.json``
as ``settings``); training: :mod:`~symbolic.models.harmony2vec.train`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ... import checks
from ...errors import OutOfVocabularyError, SymbolicError
from ...harmony import Key
from ...representations.slices import slice_name
from .. import HubModel
from .probes import key_vectors_from, unit_vectors
from .vocab import chord_label, chord_masks, lookup_table, slice_mask

__all__ = ["Harmony2Vec", "Neighbour"]


class Harmony2Vec(nn.Module, HubModel, library_name="symbolic",
                  tags=["symbolic-music", "word2vec", "harmony"]):
    """Skip-gram with negative sampling over a vocabulary of pitch-class slices.

    Parameters: ``center`` and ``context`` embeddings ``[V, dim]``. Buffers (saved with the
    weights): ``vocab`` (int64 masks ``[V]``), ``counts`` (training frequency ``[V]``),
    ``key_counts`` (``[2, V]``: slice counts relative to the tonic in major and minor
    passages, :func:`~symbolic.models.harmony2vec.vocab.key_slice_counts`). ``settings``
    records the recipe (:class:`~symbolic.models.harmony2vec.settings.Settings` as a dict).
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
        i = int(lookup_table(self.vocab_masks)[mask])
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
            v = unit_vectors(center) + unit_vectors(context)
        elif which in ("center", "context"):
            v = center if which == "center" else context
        else:
            raise ValueError(f"which must be 'both', 'center' or 'context', got {which!r}")
        return unit_vectors(v) if normalize else v

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
            query, exclude = unit_vectors(item), set()
        else:
            i = self.index(item)
            query, exclude = self.vectors()[i], {i}
        return self._nearest(query, exclude, topn, among)

    def analogy(self, a, b, c, topn: int = 5, among="majmin") -> list["Neighbour"]:
        """``a`` is to ``b`` as ``c`` is to ?: nearest to ``b - a + c`` (unit vectors), the three
        inputs left out. ``among`` as in :meth:`similar`."""
        v = self.vectors()
        ia, ib, ic = self.index(a), self.index(b), self.index(c)
        return self._nearest(unit_vectors(v[ib] - v[ia] + v[ic]), {ia, ib, ic}, topn, among)

    def _nearest(self, query, exclude: set, topn: int, among) -> list["Neighbour"]:
        topn = checks.integer("topn", topn, 1)
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
            return np.flatnonzero(np.isin(self.vocab_masks, chord_masks(among)))
        return np.array([self.index(x) for x in among], dtype=int)

    def piece_vector(self, piece, *, beats=None) -> np.ndarray:
        """Mean unit vector of the in-vocabulary slices of a piece: a ``symusic.Score`` (encoded
        with ``beats``, default from the meter), a :class:`~symbolic.representations.slices.Slices`
        or an array of masks. Raises :class:`OutOfVocabularyError` when no slice is known."""
        tokens = _tokens_of(piece, beats)
        ids = lookup_table(self.vocab_masks)[tokens]
        ids = ids[ids >= 0]
        if len(ids) == 0:
            raise OutOfVocabularyError("no slice of the piece is in the vocabulary", "<piece>")
        return self.vectors()[ids].mean(axis=0)

    def key_vectors(self) -> np.ndarray:
        """``[24, dim]``: the vectors of the 24 keys in :attr:`Key.index` order (majors C..B,
        then minors), from ``key_counts`` (see the package docstring)."""
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


def _tokens_of(piece, beats=None) -> np.ndarray:
    from ...representations import slices as slice_codec

    if hasattr(piece, "tokens") and hasattr(piece, "boundaries"):
        tokens = piece.tokens
    elif hasattr(piece, "tracks"):
        tokens = slice_codec.encode(piece, beats=beats).tokens
    else:
        tokens = piece
    return np.asarray(tokens, dtype=np.int64).ravel()
