"""Collections of music21's bundled corpus, read as ``symusic.Score`` (always installed).

Each piece has a name that :func:`symbolic.load` accepts: ``"corpus:bach/bwv66.6"``; tunes inside
multi-tune ABC files add ``#index``: ``"corpus:essenFolksong/altdeu10#3"``.

=================  ==========================================  ===================================
collection         what                                        pieces (music21 10.5)
=================  ==========================================  ===================================
bach_chorales      Bach four-part chorales (Riemenschneider)    350 files (371 numbers, some shared)
essen              Essen folk songs (ABC, one-voice)           tunes of ``essenFolksong/*.abc``
ryans_mammoth      Ryan's Mammoth Collection (ABC fiddle tunes) tunes of ``ryansMammoth/*.abc``
oneills            O'Neill's Music of Ireland (ABC)            tunes of ``oneills1850/*.abc``
palestrina         Palestrina masses (Humdrum/MusicXML)        files under ``palestrina/``
monteverdi         Monteverdi madrigals                        files under ``monteverdi/``
beethoven, mozart, haydn   string quartets and other works     files under each composer
=================  ==========================================  ===================================
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import symusic

from .. import checks
from ..errors import ArgumentError, DataNotFoundError
from . import Failure, iter_scores

__all__ = ["COLLECTIONS", "piece_names", "iter_collection", "bach_chorales", "mixture"]

# collection -> (music21 composer/folder, filename filter)
COLLECTIONS: dict[str, tuple[str, str]] = {
    "bach_chorales": ("bach", "riemenschneider"),  # music21's own list of the 371 chorales
    "essen": ("essenFolksong", r".*\.abc"),
    "ryans_mammoth": ("ryansMammoth", r".*\.abc"),
    "oneills": ("oneills1850", r".*\.abc"),
    "palestrina": ("palestrina", r".*\.(krn|mxl|xml)"),
    "monteverdi": ("monteverdi", r".*\.(mxl|xml|krn|rntxt)"),
    "beethoven": ("beethoven", r".*\.(mxl|xml|krn)"),
    "mozart": ("mozart", r".*\.(mxl|xml|krn)"),
    "haydn": ("haydn", r".*\.(mxl|xml|krn)"),
}


def _corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


SPLIT_OF_INDEX = {9: "test", 8: "valid"}  # index % 10 -> split; the rest is train


def piece_names(collection: str, split: str | None = None) -> tuple[str, ...]:
    """Pieces of a collection as ``"corpus:..."`` names (ABC tunes one each), in a fixed order.

    ``split`` ('train', 'valid', 'test'; None for all) follows the documented rule: the piece at
    position i is test when ``i % 10 == 9``, valid when ``i % 10 == 8``, else train.
    """
    names = _all_piece_names(collection)
    if split is None or split == "all":
        return names
    if split not in ("train", "valid", "test"):
        raise ArgumentError(f"unknown split {split!r}; choose train, valid, test or all",
                            "split")
    return tuple(n for i, n in enumerate(names) if SPLIT_OF_INDEX.get(i % 10, "train") == split)


def mixture(sources, name: str = "sources") -> dict:
    """A training mixture ``{source: pieces or None}`` checked: every source ``"pop909"`` or a
    collection of :data:`COLLECTIONS`, every count a whole number >= 1 (None: all pieces).
    Names alone (a list) mean all pieces of each; empty is allowed (a caller that brings its
    own corpus). Anything else raises
    :class:`~symbolic.errors.ArgumentError` naming ``name``."""
    known = ("pop909", *COLLECTIONS)
    if isinstance(sources, (str, bytes)) or not hasattr(sources, "__iter__"):
        raise ArgumentError(f"must be a dict {{source: pieces or None}}, got {sources!r}", name)
    items = sources.items() if isinstance(sources, dict) else ((s, None) for s in sources)
    out = {}
    for source, n in items:
        if source not in known:
            raise ArgumentError(f"unknown source {source!r}; choose from {', '.join(known)}",
                                name)
        out[source] = None if n is None else checks.integer(f"{name}[{source!r}]", n, 1)
    return out


@lru_cache(maxsize=None)
def _all_piece_names(collection: str) -> tuple[str, ...]:
    if collection not in COLLECTIONS:
        raise DataNotFoundError(f"unknown collection; choose from {sorted(COLLECTIONS)}",
                                f"corpus:{collection}")
    from music21 import corpus

    from ..io import list_tunes

    folder, pattern = COLLECTIONS[collection]
    if pattern == "riemenschneider":
        it = corpus.chorales.Iterator(numberingSystem="riemenschneider", returnType="filename")
        return tuple(dict.fromkeys(f"corpus:{name}" for name in it if name))
    root = _corpus_root()
    names = []
    for path in sorted(corpus.getComposer(folder)):
        path = Path(path)
        if not re.fullmatch(pattern, path.name) or path.suffix == ".rntxt":
            continue
        rel = path.relative_to(root).with_suffix("").as_posix()
        if path.suffix == ".abc":
            names += [f"corpus:{rel}#{i}" for i in range(len(list_tunes(path)))]
        else:
            names.append(f"corpus:{rel}")
    return tuple(names)


def iter_collection(collection: str, *, split: str | None = None, limit: int | None = None,
                    failures: list | None = None,
                    progress: bool = False) -> Iterator[tuple[str, symusic.Score]]:
    """Yield ``(name, Score)`` for the pieces of a collection; bad pieces go to ``failures``."""
    names = piece_names(collection, split)[:limit]
    yield from iter_scores(names, failures=failures, progress=progress, desc=collection)


def bach_chorales(*, split: str | None = None, limit: int | None = None,
                  failures: list[Failure] | None = None,
                  progress: bool = False) -> Iterator[tuple[str, symusic.Score]]:
    """Bach chorales, four voices (soprano, alto, tenor, bass) as four tracks."""
    return iter_collection("bach_chorales", split=split, limit=limit, failures=failures,
                           progress=progress)
