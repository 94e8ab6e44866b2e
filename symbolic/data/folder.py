"""Any folder of MIDI (or other readable) files, searched recursively.

>>> corpus = MidiFolder("lmd_full/")              # doctest: +SKIP
>>> for path, score in corpus: ...                 # doctest: +SKIP
>>> corpus.failures                                # files that did not load, with reasons
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import symusic

from ..errors import DataNotFoundError
from ..io import FORMATS
from . import Failure, iter_scores

__all__ = ["MidiFolder"]


class MidiFolder:
    """Files below ``path`` whose suffix is in ``suffixes`` (default: MIDI suffixes).

    Iterating yields ``(path, Score)`` in sorted path order; files that fail to load are skipped
    and recorded in :attr:`failures` (one :class:`~symbolic.data.Failure` each), never fatal.
    """

    def __init__(self, path, *, suffixes=FORMATS["midi"], recursive: bool = True,
                 progress: bool = False, **load_kwargs):
        self.root = Path(path)
        if not self.root.is_dir():
            raise DataNotFoundError("not a folder", self.root)
        self.suffixes = tuple(s.lower() for s in suffixes)
        self.recursive = recursive
        self.progress = progress
        self.load_kwargs = load_kwargs
        self.failures: list[Failure] = []
        self._paths: list[Path] | None = None

    def paths(self) -> list[Path]:
        """Every matching file, sorted (case-insensitive suffix match)."""
        if self._paths is None:
            walk = self.root.rglob("*") if self.recursive else self.root.glob("*")
            self._paths = sorted(p for p in walk if p.is_file() and p.suffix.lower() in self.suffixes)
        return self._paths

    def __len__(self) -> int:
        return len(self.paths())

    def __iter__(self) -> Iterator[tuple[Path, symusic.Score]]:
        self.failures = []
        yield from iter_scores(self.paths(), failures=self.failures, progress=self.progress,
                               desc=self.root.name, **self.load_kwargs)
