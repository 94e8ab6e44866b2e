"""Corpora as pitch-class slices with keys: what harmony2vec trains on.

Every beat of a piece becomes a *slice*, the 12-bit mask of the pitch classes sounding in it
(:mod:`symbolic.representations.slices`), with the key it is in. Sources are POP909 (beats from
its annotations, keys from ``key_audio.txt``) and the collections of
:mod:`symbolic.data.music21_corpus` (keys estimated by :func:`symbolic.harmony.estimate_keys`).

Extracted slices are cached as ``.npz`` under :func:`symbolic.data.cache.cache_dir`
(``harmony2vec/``), because parsing music21 pieces is slow; a cache file records which pieces
it holds and is rebuilt when the request changes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..errors import SymbolicError
from ..harmony import Key

__all__ = ["SOURCES", "CACHE_VERSION", "SliceCorpus", "extract_slices", "load_corpus"]

#: The default mixture (harmony2vec's training corpus): name -> pieces of the train split
#: (None: all; a number: evenly spread). POP909 plus music21's chorales, quartets and
#: evenly spread subsets of the Essen, O'Neill's and Ryan's folk-tune collections.
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


def extract_slices(source: str, split: str = "train", *, limit: int | None = None,
                   progress: bool = False, cache: bool = True,
                   failures: list | None = None) -> SliceCorpus:
    """Slices and keys of one corpus split: ``"pop909"`` or a collection of
    :mod:`symbolic.data.music21_corpus`. ``limit`` caps the pieces of the train split (other
    splits keep the same share), evenly spread. Cached under ``cache_dir("harmony2vec")``;
    pieces that fail to load go to ``failures`` (:class:`symbolic.data.Failure`) and are
    skipped."""
    requested = _requested(source, split, limit)
    digest = hashlib.sha1("\n".join(requested).encode()).hexdigest()
    path = None
    if cache:
        from .cache import cache_dir

        path = cache_dir("harmony2vec") / f"{source}-{split}-{limit or 'all'}-v{CACHE_VERSION}.npz"
        if path.is_file():
            corpus, found = SliceCorpus.load(path)
            if found == digest:
                return corpus
    if source == "pop909":
        pieces = _pop909_pieces(requested, progress, failures)
    else:
        pieces = _music21_pieces(source, requested, progress, failures)
    corpus = SliceCorpus.from_pieces(pieces)
    if path is not None:
        corpus.save(path, digest)
    return corpus


def load_corpus(sources: dict | Iterable[str] | None = None, split: str = "train", *,
                progress: bool = False, cache: bool = True,
                failures: list | None = None) -> SliceCorpus:
    """:func:`extract_slices` over several sources (a ``{name: limit}`` mixture or names;
    default :data:`SOURCES`), concatenated in that order."""
    if sources is None:
        sources = SOURCES
    if not isinstance(sources, dict):
        sources = {s: None for s in sources}
    return SliceCorpus.concat([
        extract_slices(name, split, limit=limit, progress=progress, cache=cache,
                       failures=failures)
        for name, limit in sources.items()])


def _requested(source: str, split: str, limit: int | None) -> list[str]:
    """The names of the pieces to extract (POP909: song ids as text)."""
    if source == "pop909":
        from .pop909 import Pop909

        pop = Pop909()
        ids = pop.available(split)
        limit_here = _split_limit(limit, len(ids), len(pop.available("train")))
        return [str(i) for i in _spread(ids, limit_here)]
    from .music21_corpus import piece_names

    names = piece_names(source, split)
    return _spread(list(names), _split_limit(limit, len(names),
                                             len(piece_names(source, "train"))))


def _spread(names: list, limit: int | None) -> list:
    """``limit`` items evenly spread over ``names`` (all when None or larger)."""
    if limit is None or limit >= len(names):
        return list(names)
    idx = np.unique(np.linspace(0, len(names) - 1, max(int(limit), 0)).round().astype(int))
    return [names[i] for i in idx]


def _split_limit(limit: int | None, n_split: int, n_train: int) -> int | None:
    # A cap is given for the train split; other splits keep the same share of pieces.
    return None if limit is None else max(1, math.ceil(limit * n_split / max(n_train, 1)))


def _pop909_pieces(requested: list[str], progress: bool, failures: list | None) -> list:
    """``(name, tokens, keys)`` of POP909 songs: beats and keys from the annotations."""
    from tqdm.auto import tqdm

    from ..representations import slices as slice_codec
    from ..timeline import ticks_to_seconds
    from .pop909 import Pop909

    pop, pieces = Pop909(), []
    for sid in tqdm(requested, desc="pop909", disable=not progress, unit="song"):
        name = f"pop909:{int(sid):03d}"
        try:
            song = pop.song(int(sid))
        except SymbolicError as e:
            _record(failures, name, e)
            continue
        x = slice_codec.encode(song.score, beats=song.beat_ticks())
        labels = song.keys.label_at(ticks_to_seconds(song.score, x.boundaries[:-1]))
        keys = np.array([_key_index(lab) for lab in labels], dtype=np.int8)
        pieces.append((name, x.tokens, keys))
    return pieces


def _music21_pieces(source: str, requested: list[str], progress: bool,
                    failures: list | None) -> list:
    """``(name, tokens, keys)`` of music21 pieces: beats from the meter, estimated keys."""
    from ..harmony import estimate_keys
    from ..representations import slices as slice_codec
    from . import iter_scores

    pieces = []
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
    return pieces


def _record(failures: list | None, name: str, error: SymbolicError) -> None:
    if failures is not None:
        from . import Failure

        failures.append(Failure(name, type(error).__name__, error.reason))


def _key_index(label) -> int:
    if label is None:
        return -1
    try:
        return Key.parse(label).index
    except SymbolicError:
        return -1
