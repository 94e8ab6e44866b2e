"""The slice vocabulary: masks of chords and slices, their labels, transposition, and the
vocabulary built from a corpus (whole transposition classes, most frequent first).

A slice is a 12-bit mask of pitch classes (C = bit 0: C-E-G = 145). The vocabulary is an int64
array of masks; a model's rows follow its order (:func:`lookup_table` maps mask -> row).
"""

from __future__ import annotations

import functools
import re

import numpy as np

from ...data.slice_corpus import SliceCorpus
from ...errors import ArgumentError, OutOfVocabularyError
from ...harmony import QUALITIES, Chord, Key
from ...representations.slices import (
    N_TOKENS, mask_of_pitches, parse_slice_name, pitch_classes, slice_name,
)

__all__ = ["rotate", "build_vocab", "lookup_table", "rows_of", "id_sequences",
           "key_slice_counts", "slice_mask", "chord_label", "chord_masks"]


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
        seen.add(g)
        if len(chosen) + len(members) <= max_size:
            chosen.extend(members.tolist())
    chosen = np.array(chosen, dtype=np.int64)
    chosen = chosen[np.lexsort((chosen, -counts[chosen]))]
    return chosen, counts[chosen]


def lookup_table(vocab: np.ndarray) -> np.ndarray:
    """``[4096]`` int64: the row of each mask in ``vocab``, -1 for masks outside it."""
    lut = np.full(N_TOKENS, -1, dtype=np.int64)
    lut[vocab] = np.arange(len(vocab))
    return lut


def rows_of(masks: np.ndarray, wanted) -> np.ndarray:
    """Rows of the masks ``wanted`` in the vocabulary ``masks``; raises
    :class:`OutOfVocabularyError` naming the slices that are missing."""
    lut = lookup_table(np.asarray(masks, dtype=np.int64))
    rows = lut[np.asarray(wanted, dtype=np.int64)]
    if (rows < 0).any():
        missing = [slice_name(int(m)) for m in np.asarray(wanted)[rows < 0]]
        raise OutOfVocabularyError(f"not in the vocabulary: {', '.join(missing)}")
    return rows


def id_sequences(corpus: SliceCorpus, vocab: np.ndarray, merge_repeats: bool = False):
    """``(ids, segments)``: vocabulary ids of the corpus with a segment id each (int64, same
    length). Pieces and silences split segments; out-of-vocabulary slices are skipped (and
    lost); with ``merge_repeats`` a slice repeated on consecutive beats counts once."""
    lut = lookup_table(vocab)
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


def key_slice_counts(corpus: SliceCorpus, vocab: np.ndarray) -> np.ndarray:
    """``[2, V]``: how often each slice occurs, relative to the tonic, in major (row 0) and
    minor (row 1) passages of known key (slices of unknown key are not counted)."""
    lut = lookup_table(vocab)
    known = (corpus.keys >= 0) & (corpus.tokens > 0)
    key = corpus.keys[known].astype(np.int64)
    ids = lut[rotate(corpus.tokens[known], -(key % 12))]
    out = np.zeros((2, len(vocab)))
    ok = ids >= 0
    np.add.at(out, (key[ok] // 12, ids[ok]), 1.0)
    return out


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
    if isinstance(item, (bool, np.bool_)) or item is None:
        raise ArgumentError(f"must be a chord label, slice name, mask or pitch collection, got "
                            f"{item!r}", "item")
    if isinstance(item, (int, np.integer)):
        if not 0 <= int(item) < N_TOKENS:
            raise ArgumentError(f"a slice mask is 0-{N_TOKENS - 1}, got {item}", "item")
        return int(item)
    if isinstance(item, Chord):
        return item.mask
    if isinstance(item, str):
        if ":" not in item and re.match(_SLICE_NAME, item):
            return parse_slice_name(item)
        return Chord.parse(item).mask
    if isinstance(item, Key):
        raise ArgumentError("a key has no slice: use key_vector()", "item")
    if not hasattr(item, "__iter__"):
        raise ArgumentError(f"must be a chord label, slice name, mask or pitch collection, got "
                            f"{item!r}", "item")
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
def chord_masks(family: str) -> tuple[int, ...]:
    """Sorted masks of every chord of ``family`` on all 12 roots: ``"triads"`` (major, minor,
    diminished, augmented), ``"majmin"`` or ``"chords"`` (every quality that
    :func:`chord_label` names)."""
    if family not in _FAMILIES:
        raise ArgumentError(f"must be 'all', {', '.join(map(repr, _FAMILIES))} or a list, got "
                            f"{family!r}", "among")
    return tuple(sorted({Chord(r, q).mask for q in _FAMILIES[family] for r in range(12)}))
