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

from ..errors import DataNotFoundError
from . import Failure, iter_scores

__all__ = ["COLLECTIONS", "piece_names", "iter_collection", "bach_chorales"]

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


@lru_cache(maxsize=None)
def piece_names(collection: str) -> tuple[str, ...]:
    """Every piece of a collection as ``"corpus:..."`` names, sorted; ABC tunes one each."""
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


def iter_collection(collection: str, *, limit: int | None = None, failures: list | None = None,
                    progress: bool = False) -> Iterator[tuple[str, symusic.Score]]:
    """Yield ``(name, Score)`` for the pieces of a collection; bad pieces go to ``failures``."""
    names = piece_names(collection)[:limit]
    yield from iter_scores(names, failures=failures, progress=progress, desc=collection)


def bach_chorales(*, limit: int | None = None, failures: list[Failure] | None = None,
                  progress: bool = False) -> Iterator[tuple[str, symusic.Score]]:
    """Bach chorales, four voices (soprano, alto, tenor, bass) as four tracks."""
    return iter_collection("bach_chorales", limit=limit, failures=failures, progress=progress)
