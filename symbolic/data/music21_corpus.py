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

Chorales as four voices, with their bars and fermatas: :func:`symbolic.load` gives every part
of a chorale as a track (some cantata chorales add trumpets, horns, strings, continuo) and keeps
neither fermatas nor the pickup bar (a ``symusic.Score`` has time signatures, not measures).
:func:`load_chorale` returns the four voices only (tracks ``Soprano``, ``Alto``, ``Tenor``,
``Bass``, in that order) with a ``"fermata"`` marker at the onset of every note that carries
one (several voices: one marker), and :func:`chorale_marks` the measure starts (the pickup is
a bar of its own) and fermata ticks, from music21's measures and Fermata expressions. Meters
in the collection: 4/4, 3/4, 3/2, 12/8 (music21 10.5); 238 of 350 chorales start with a pickup;
every chorale but one (bwv248.23-2, with instrumental interludes) marks fermatas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
import symusic

from .. import checks
from ..errors import ArgumentError, DataNotFoundError
from . import Failure, iter_scores

__all__ = ["COLLECTIONS", "piece_names", "iter_collection", "bach_chorales", "mixture",
           "ChoraleMarks", "chorale_marks", "chorale_fermatas", "load_chorale", "FERMATA",
           "stream_marks"]

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


#: Text of the markers :func:`load_chorale` writes at fermatas.
FERMATA = "fermata"


@dataclass(frozen=True)
class ChoraleMarks:
    """What a chorale's ``symusic.Score`` cannot hold, in ticks (int64): ``bar_ticks``, the
    start of every measure plus the end of the last (a pickup measure starts at 0 and is a bar
    of its own, as :meth:`~symbolic.timeline.MetricGrid.from_score` takes ``bar_ticks``), and
    ``fermatas``, the sorted distinct onsets of the voices' notes carrying a fermata (any of
    the four voices :func:`load_chorale` keeps; instrument parts' fermatas are left out)."""

    bar_ticks: np.ndarray
    fermatas: np.ndarray


def _chorale_stream(name: str):
    """The parsed music21 score of a chorale (``"corpus:bach/bwv66.6"`` or ``"bach/bwv66.6"``)."""
    from music21 import corpus

    from ..io import CORPUS_PREFIX

    if not isinstance(name, str) or not name:
        raise ArgumentError(f"must be a chorale name such as 'corpus:bach/bwv66.6', got {name!r}",
                            "name")
    work = name[len(CORPUS_PREFIX):] if name.startswith(CORPUS_PREFIX) else name
    try:
        return corpus.parse(work)
    except Exception as e:  # music21 raises its own CorpusException or OSError
        raise DataNotFoundError(f"not in music21's corpus ({e})", CORPUS_PREFIX + work) from e


@dataclass(frozen=True)
class _Named:
    name: str


def stream_marks(stream, ticks_per_quarter: int = 480, parts=None) -> ChoraleMarks:
    """Measure starts (plus the end) and fermata onsets, in ticks, of any music21 score or
    part (``parts``: indices of the parts whose fermatas count; None: all): what
    :func:`symbolic.harmonize` reads from a MusicXML melody besides its notes. A stream
    without measures gives ``bar_ticks`` ``[0, end]``."""
    from music21 import expressions, stream as m21stream

    tpq = checks.integer("ticks_per_quarter", ticks_per_quarter, 1, 2 ** 15 - 1)
    all_parts = list(stream.parts) if isinstance(stream, m21stream.Score) else [stream]
    chosen = all_parts if parts is None else [all_parts[i] for i in parts]
    measures = all_parts[0].getElementsByClass("Measure") if all_parts else []
    bars = [round(float(m.offset) * tpq) for m in measures] or [0]
    bars.append(round(float(stream.highestTime) * tpq))
    fermatas = set()
    for part in chosen:
        base = float(part.getOffsetBySite(stream) or 0) if part is not stream else 0.0
        for el in part.flatten().notes:
            if any(isinstance(e, expressions.Fermata) for e in el.expressions):
                fermatas.add(round((base + float(el.offset)) * tpq))
    return ChoraleMarks(np.unique(np.asarray(bars, dtype=np.int64)),
                        np.asarray(sorted(fermatas), dtype=np.int64))


def _marks_of(stream, tpq: int) -> ChoraleMarks:
    voices = _voice_tracks([_Named(p.partName or "") for p in stream.parts])
    return stream_marks(stream, tpq, voices)


def chorale_marks(name: str, *, ticks_per_quarter: int = 480) -> ChoraleMarks:
    """Measure starts and fermata onsets of a chorale of music21's corpus, in the ticks of
    :func:`symbolic.load` (480 per quarter by default). Raises
    :class:`~symbolic.errors.DataNotFoundError` for a name not in the corpus."""
    tpq = checks.integer("ticks_per_quarter", ticks_per_quarter, 1, 2 ** 15 - 1)
    return _marks_of(_chorale_stream(name), tpq)


def chorale_fermatas(name: str) -> list[int]:
    """Ticks (480 per quarter, as :func:`symbolic.load`) of the onsets of a chorale's notes that
    carry a fermata: its phrase ends. ``chorale_fermatas("corpus:bach/bwv66.6")``."""
    return chorale_marks(name).fermatas.tolist()


def _voice_tracks(tracks) -> list[int] | None:
    """Index of the track of each voice (soprano, alto, tenor, bass), or None when a voice has
    none: exact voice names first, then :mod:`symbolic.tracks` aliases and words (so 'Violin 1'
    only stands in for a missing 'Soprano'), then four unnamed tracks in score order."""
    from ..tracks import VOICES, find_part, parts_for

    lows = [t.name.strip().lower() for t in tracks]
    parts = parts_for([v.upper() for v in VOICES])
    chosen: list[int | None] = [lows.index(v) if v in lows else None for v in VOICES]
    for i, t in enumerate(tracks):
        k = find_part(t.name, parts, words=True)
        if k is not None and chosen[k] is None and i not in chosen:
            chosen[k] = i
    if None in chosen and len(tracks) == 4 and not any(lows):
        return [0, 1, 2, 3]
    return None if None in chosen else chosen


def load_chorale(name: str, *, fermata_markers: bool = True) -> symusic.Score:
    """A Bach chorale of music21's corpus as four tracks ``Soprano``, ``Alto``, ``Tenor``,
    ``Bass`` (instrument parts left out; a voice part named otherwise, e.g. 'Soprano Oboe 1
    Violin1' or an unnamed one, renamed), with a :data:`FERMATA` marker at each fermata onset
    (``fermata_markers=False``: none). Notes, ticks (480 per quarter), tempos and signatures
    are those of :func:`symbolic.load`. Raises
    :class:`~symbolic.errors.DataNotFoundError` when the name is not in the corpus or has no
    four voices."""
    from ..convert import from_music21
    from ..io import CORPUS_PREFIX

    stream = _chorale_stream(name)
    source = name if name.startswith(CORPUS_PREFIX) else CORPUS_PREFIX + name
    score = from_music21(stream, source=source)
    chosen = _voice_tracks(score.tracks)
    if chosen is None:
        raise DataNotFoundError("no four voices (soprano, alto, tenor, bass) among its parts "
                                f"{[t.name for t in score.tracks]}", source)
    voices = [score.tracks[i].copy() for i in chosen]
    for track, voice in zip(voices, ("Soprano", "Alto", "Tenor", "Bass")):
        track.name = voice
    score.tracks = voices
    if fermata_markers:
        for t in _marks_of(stream, score.ticks_per_quarter).fermatas.tolist():
            score.markers.append(symusic.TextMeta(int(t), FERMATA))
    return score
