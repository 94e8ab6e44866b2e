"""Corpora and corpus sources: where training and tokenizing read music from.

Nothing here downloads: every corpus is read from a path. ``data_root()`` finds the shared
data folder: the ``SYMBOLIC_DATA`` environment variable, else ``../shared/data`` beside the
project.

**Sources** (:mod:`symbolic.data.sources`): one interface over every place MIDI comes from.
A source yields its inputs in a fixed order (``items()``: location, bytes, captions row, or
the error that keeps an input from being read) and loads them (``scores(failures=...)``:
``(location, Score, meta)`` for each input that loads, the others recorded). Every reader and
training command takes one, through ``open_source(x)``:

==================================  ===============================================
``x``                               source
==================================  ===============================================
a folder                            ``FolderSource``: MIDI files, sorted by path
``corpus.tar`` / ``.tar.gz`` ...    ``TarSource``: members streamed, archive order
``paths.txt`` or a list of paths    ``PathsSource``: in the given order
``"pop909"``, ``"pop909:test"``     ``pop909_source``: song files in id order
``"music21:bach_chorales[:train]"`` ``collection_source``: music21 corpus pieces
``MidiCaps(...)``                   its ``source()``: archive or folder, captions joined
a folder + ``captions=train.json``  captions (:mod:`symbolic.data.captions`) joined by location
==================================  ===============================================

**Corpora with annotations**: :mod:`~symbolic.data.pop909` (chords, beats, keys, splits),
:mod:`~symbolic.data.music21_corpus` (collections and their splits),
:mod:`~symbolic.data.midicaps` (captions and features), :mod:`~symbolic.data.folder`
(``MidiFolder``: any folder as ``(path, Score)``). **Tokenizing** a source into Parquet
shards: :mod:`~symbolic.data.pipeline` (resumable), :mod:`~symbolic.data.shards` (format),
:mod:`~symbolic.data.bpe`. :func:`iter_scores` loads any names or paths, recording failures.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataNotFoundError

__all__ = ["data_root", "corpus_path"]

_PROJECT = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """The shared data folder: ``$SYMBOLIC_DATA``, else ``<project>/../shared/data``."""
    env = os.environ.get("SYMBOLIC_DATA")
    return Path(env) if env else _PROJECT.parent / "shared" / "data"


def corpus_path(name: str, path=None) -> Path:
    """Folder of corpus ``name``: ``path`` if given, else ``data_root()/name``; must exist."""
    p = Path(path) if path is not None else data_root() / name
    if not p.is_dir():
        raise DataNotFoundError(
            "corpus folder not found (pass path=... or set SYMBOLIC_DATA)", source=p
        )
    return p


from dataclasses import dataclass  # noqa: E402
from typing import Iterable, Iterator  # noqa: E402


@dataclass(frozen=True)
class Failure:
    """One input that could not be loaded: where, which error, why."""

    source: str
    error: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.error}: {self.reason}"


def iter_scores(sources: Iterable, *, failures: list | None = None, progress: bool = False,
                desc: str | None = None, total: int | None = None, **load_kwargs) -> Iterator:
    """Yield ``(source, Score)`` for every source that loads; never stops on a bad one.

    A source that raises a :class:`~symbolic.errors.SymbolicError` is appended to ``failures``
    (a list you pass in) as a :class:`Failure` and skipped. ``load_kwargs`` go to
    :func:`symbolic.load`.
    """
    from tqdm.auto import tqdm

    from ..errors import SymbolicError
    from ..io import load

    if total is None and hasattr(sources, "__len__"):
        total = len(sources)
    for src in tqdm(sources, total=total, desc=desc, disable=not progress, unit="file"):
        try:
            score = load(src, **load_kwargs)
        except SymbolicError as e:
            if failures is not None:
                failures.append(Failure(str(src), type(e).__name__, e.reason))
            continue
        yield src, score


__all__ += ["Failure", "iter_scores"]
