"""Music-theory probes of slice vectors: pure functions of (vocabulary masks, vectors), so the
model and the baselines of ``benchmarks/eval_harmony2vec.py`` go through the same code.

Do V, IV and vi come near I (:func:`triad_ranks`)? Do triad and key distances follow the
circle of fifths (:func:`fifths_correlation`, :func:`key_fifths_correlation`)?
"""

from __future__ import annotations

import numpy as np

from ...harmony import Chord, Key
from .vocab import chord_masks, lookup_table, rotate, rows_of

__all__ = ["KEY_ORDER", "unit_vectors", "fifths_distance", "spearman", "triad_ranks",
           "fifths_correlation", "key_vectors_from", "key_fifths_correlation"]

#: The 24 keys along the circle of fifths: C G D ... F major, then their relative minors.
KEY_ORDER = tuple([Key(7 * i % 12, "major") for i in range(12)]
                  + [Key((7 * i + 9) % 12, "minor") for i in range(12)])


def unit_vectors(v) -> np.ndarray:
    """``v`` (float64) with each row scaled to unit length (zero rows stay zero)."""
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def fifths_distance(a, b) -> np.ndarray:
    """Steps between pitch classes ``a`` and ``b`` on the circle of fifths (0-6)."""
    steps = (7 * (np.asarray(b) - np.asarray(a))) % 12
    return np.minimum(steps, 12 - steps)


def _ranks(v) -> np.ndarray:
    """0-based ranks of ``v``, ties sharing their mean rank."""
    v = np.asarray(v, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(len(v), dtype=np.float64)
    _, inv, cnt = np.unique(v, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=r)
    return sums[inv] / cnt[inv]


def spearman(x, y) -> float:
    """Spearman's rank correlation (ties get their mean rank)."""
    rx, ry = _ranks(x), _ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx ** 2).sum() * (ry ** 2).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def triad_ranks(masks, vectors, *, among: str = "triads") -> np.ndarray:
    """``[12, 3]``: for the major triad on each root (C..B), the 1-based cosine rank of its V,
    IV and vi triads among the ``among`` candidates (``"triads"``, ``"majmin"``, ``"chords"``
    or ``"all"`` slices of the vocabulary), the triad itself left out."""
    masks = np.asarray(masks, dtype=np.int64)
    v = unit_vectors(vectors)
    cand = np.arange(len(masks)) if among == "all" else np.flatnonzero(
        np.isin(masks, chord_masks(among)))
    out = np.zeros((12, 3), dtype=np.int64)
    for root in range(12):
        q = rows_of(masks, [Chord(root).mask])[0]
        others = cand[cand != q]
        order = others[np.argsort(-(v[others] @ v[q]), kind="stable")]
        targets = rows_of(masks, [Chord(root + 7).mask, Chord(root + 5).mask,
                                  Chord(root + 9, "min").mask])
        out[root] = [int(np.flatnonzero(order == t)[0]) + 1 for t in targets]
    return out


def fifths_correlation(masks, vectors, quality: str = "maj") -> float:
    """Spearman correlation, over the 66 pairs of triads of one ``quality``, between cosine
    distance and the distance of their roots on the circle of fifths."""
    rows = rows_of(masks, [Chord(r, quality).mask for r in range(12)])
    v = unit_vectors(np.asarray(vectors)[rows])
    i, j = np.triu_indices(12, 1)
    return spearman(1.0 - (v[i] * v[j]).sum(-1), fifths_distance(i, j))


def key_vectors_from(masks, vectors, key_counts) -> np.ndarray:
    """``[24, D]`` key vectors (majors C..B, then minors): for mode ``m`` and tonic ``t``, the
    ``key_counts[m]``-weighted mean of the unit vectors of the slices moved up ``t``."""
    masks = np.asarray(masks, dtype=np.int64)
    v = unit_vectors(vectors)
    w = np.asarray(key_counts, dtype=np.float64)
    w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    lut = lookup_table(masks)
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
    v = unit_vectors(np.asarray(key_vectors)[keys])
    signature = np.where(keys < 12, keys % 12, (keys % 12 + 3) % 12)
    i, j = np.triu_indices(len(keys), 1)
    return spearman(1.0 - (v[i] * v[j]).sum(-1), fifths_distance(signature[i], signature[j]))
