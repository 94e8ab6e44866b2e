"""Per-file metadata rows keyed by ``location``: a MidiCaps ``train.json`` or any file of the
same shape (JSON Lines, or one JSON array, of objects with a ``location`` string and an
optional ``test_set`` flag). A source joins a captions file to its files by location
(:mod:`symbolic.data.sources`) and keeps only the rows of one split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from ..errors import DataNotFoundError, ParseError

__all__ = ["Captions", "SPLITS", "check_split", "norm_location"]

SPLITS = ("train", "test", "all")


def norm_location(name: str) -> str:
    """A location as MidiCaps writes it: forward slashes, no leading ``./``."""
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def check_split(split: str | None) -> str | None:
    """``split`` checked against :data:`SPLITS` (by ``test_set``); ``"all"`` becomes None."""
    if split not in (None, *SPLITS):
        raise ValueError(f"unknown split {split!r}; choose from {SPLITS} or None")
    return None if split == "all" else split


class Captions:
    """An index over a captions file (JSON Lines, or one JSON array), as MidiCaps ships one.

    Holds, per row, only its location, byte span and ``test_set`` flag; :meth:`row` reads a
    row on demand, so a 428 MB ``train.json`` costs tens of MB here. Rows keep file order;
    a location listed twice keeps its first row (later ones are counted in ``duplicates``).
    """

    def __init__(self, path, *, split: str | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataNotFoundError("captions file not found", self.path)
        self.split = check_split(split)
        self._spans: dict[str, tuple[int, int]] = {}
        self._rows: dict[str, dict] | None = None  # JSON-array files are held whole
        self.locations: list[str] = []
        self.duplicates = 0
        self._index()

    def _keep(self, obj) -> bool:
        return self.split is None or bool(obj.get("test_set", False)) == (self.split == "test")

    def _add(self, obj, span) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("location"), str):
            raise ParseError("a row without a 'location' string", self.path)
        if not self._keep(obj):
            return
        loc = norm_location(obj["location"])
        if loc in self._spans or (self._rows is not None and loc in self._rows):
            self.duplicates += 1
            return
        if span is None:
            self._rows[loc] = obj
        else:
            self._spans[loc] = span
        self.locations.append(loc)

    def _index(self) -> None:
        with open(self.path, "rb") as f:
            first = f.read(64).lstrip()
            f.seek(0)
            if first.startswith(b"["):
                self._rows = {}
                try:
                    rows = json.load(f)
                except ValueError as e:
                    raise ParseError(f"not valid JSON: {e}", self.path) from e
                for obj in rows:
                    self._add(obj, None)
                return
            offset = 0
            for lineno, line in enumerate(f, 1):
                n = len(line)
                if line.strip():
                    try:
                        obj = json.loads(line)
                    except ValueError as e:
                        raise ParseError(f"line {lineno}: not valid JSON: {e}", self.path) from e
                    self._add(obj, (offset, n))
                offset += n

    def __len__(self) -> int:
        return len(self.locations)

    def __contains__(self, location: str) -> bool:
        return location in self._spans or (self._rows is not None and location in self._rows)

    def row(self, location: str) -> dict:
        """The full row of ``location`` (every caption and feature field)."""
        if self._rows is not None:
            return self._rows[location]
        offset, n = self._spans[location]
        with open(self.path, "rb") as f:
            f.seek(offset)
            return json.loads(f.read(n))

    def rows(self) -> Iterator[dict]:
        """Every row of the split, in file order (streamed)."""
        if self._rows is not None:
            yield from (self._rows[loc] for loc in self.locations)
            return
        with open(self.path, "rb") as f:
            for loc in self.locations:
                offset, n = self._spans[loc]
                f.seek(offset)
                yield json.loads(f.read(n))

    def describe(self) -> dict:
        st = self.path.stat()
        return {"path": str(self.path.resolve()), "bytes": st.st_size, "split": self.split,
                "rows": len(self)}
