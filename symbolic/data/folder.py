"""Any folder of MIDI (or other readable) files, searched recursively, read as Scores.

>>> corpus = MidiFolder("lmd_full/")              # doctest: +SKIP
>>> for path, score in corpus: ...                 # doctest: +SKIP
>>> corpus.failures                                # files that did not load, with reasons

The listing is :class:`~symbolic.data.sources.FolderSource`'s (the one folder reader, also
what the tokenizing pipeline reads); this view loads each file by its path, so any format
:func:`symbolic.load` reads can be listed through ``suffixes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import symusic

from ..io import FORMATS
from . import Failure, iter_scores
from .sources import FolderSource

__all__ = ["MidiFolder"]


class MidiFolder(FolderSource):
    """Files below ``path`` whose suffix is in ``suffixes`` (default: MIDI suffixes).

    Iterating yields ``(path, Score)`` in sorted path order; files that fail to load are skipped
    and recorded in :attr:`failures` (one :class:`~symbolic.data.Failure` each), never fatal.
    ``load_kwargs`` go to :func:`symbolic.load`. As a source (:meth:`items`,
    :meth:`scores`), it is a :class:`FolderSource` without captions.
    """

    def __init__(self, path, *, suffixes=FORMATS["midi"], recursive: bool = True,
                 progress: bool = False, **load_kwargs):
        super().__init__(path, suffixes=suffixes, recursive=recursive)
        self.progress = progress
        self.load_kwargs = load_kwargs
        self.failures: list[Failure] = []

    def paths(self) -> list[Path]:
        """Every matching file, sorted (case-insensitive suffix match)."""
        return sorted(self.root / loc for loc in self.locations())

    def __iter__(self) -> Iterator[tuple[Path, symusic.Score]]:
        self.failures = []
        yield from iter_scores(self.paths(), failures=self.failures, progress=self.progress,
                               desc=self.root.name, **self.load_kwargs)
