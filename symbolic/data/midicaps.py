"""MidiCaps (Melechovsky et al., ISMIR 2024): 168,385 Lakh MIDI files with text captions.

Hugging Face ``amaai-lab/MidiCaps`` ships ``train.json`` (JSON Lines: one object per file, with
``location`` such as ``lmd_full/1/1a07....mid``, the caption, and the features in
:data:`FIELDS`) and ``midicaps.tar.gz`` (1.62 GB, the ``lmd_full/...`` MIDI files). Nothing here
downloads: point it at the files you have.

MIDI bytes stream straight out of the archive (no extraction step), or come from an extracted
``lmd_full/`` folder. The split follows the ``test_set`` column: ``split="test"`` keeps the
16,838 rows where it is true, ``"train"`` the 151,547 others, None or ``"all"`` all of them.

>>> corpus = MidiCaps("~/midicaps")                     # doctest: +SKIP
>>> for location, score, row in corpus: row["caption"]   # doctest: +SKIP

The same readers serve any MIDI corpus, captioned or not, through :func:`open_source`: a
folder (sorted paths), a ``.tar``/``.tar.gz`` archive (archive order) or a list of paths
(given order). A *source* yields :class:`Item` objects in a fixed order; that order is what
the tokenizing pipeline (:mod:`symbolic.data.pipeline`) numbers and cuts into shards.

Order of a source: a folder with captions follows the captions file; an archive follows the
archive (a gzip stream cannot be read out of order), then lists the captioned files it lacks;
without captions a folder is sorted by path. A captions row whose file is missing, and a file
that cannot be read, come out as items carrying an error, so that nothing is lost silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import DataNotFoundError, InputTooLargeError, ParseError, SymbolicError
from ..io import FORMATS, MAX_BYTES
from . import Failure, data_root

__all__ = [
    "FIELDS",
    "SPLITS",
    "Item",
    "Captions",
    "Source",
    "TarSource",
    "FolderSource",
    "PathsSource",
    "open_source",
    "MidiCaps",
    "content_hash",
]

#: The caption and feature columns of MidiCaps' ``train.json``, with their Arrow types (names).
FIELDS: dict[str, str] = {
    "caption": "string",
    "genre": "list<string>",
    "genre_prob": "list<double>",
    "mood": "list<string>",
    "mood_prob": "list<double>",
    "key": "string",
    "time_signature": "string",
    "tempo": "int64",
    "tempo_word": "string",
    "duration": "int64",
    "duration_word": "string",
    "chord_summary": "list<string>",
    "chord_summary_occurence": "int64",
    "instrument_summary": "list<string>",
    "instrument_numbers_sorted": "list<int64>",
    "all_chords": "list<string>",
    "all_chords_timestamps": "list<double>",
    "test_set": "bool",
}
SPLITS = ("train", "test", "all")
MIDI_SUFFIXES = FORMATS["midi"]


def content_hash(data: bytes) -> str:
    """blake2b-128 of the file's bytes, hex: equal files get equal hashes across runs."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _norm(name: str) -> str:
    """A location as MidiCaps writes it: forward slashes, no leading ``./``."""
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _check_split(split):
    if split not in (None, *SPLITS):
        raise ValueError(f"unknown split {split!r}; choose from {SPLITS} or None")
    return None if split == "all" else split


# -------------------------------------------------------------------------------- captions

class Captions:
    """An index over a MidiCaps captions file (JSON Lines, or one JSON array).

    Holds, per row, only its location, byte span and ``test_set`` flag; :meth:`row` reads a
    row on demand, so a 428 MB ``train.json`` costs tens of MB here. Rows keep file order;
    a location listed twice keeps its first row (later ones are counted in ``duplicates``).
    """

    def __init__(self, path, *, split: str | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataNotFoundError("captions file not found", self.path)
        self.split = _check_split(split)
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
        loc = _norm(obj["location"])
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


# ---------------------------------------------------------------------------------- sources

@dataclass
class Item:
    """One input of a source: where it is, its bytes (None when skipped or missing), its captions
    row (None without captions), and the error that keeps it from being read, if any."""

    location: str
    data: bytes | None = None
    meta: dict | None = None
    error: SymbolicError | None = None
    hash: str | None = None

    def __post_init__(self):
        if self.data is not None and self.hash is None:
            self.hash = content_hash(self.data)


Want = Callable[[int], bool]


class Source:
    """Base of the sources: ordered :class:`Item` objects, numbered from 0.

    ``items(want)`` yields ``(index, Item)`` for every input; the bytes are read only where
    ``want(index)`` is true (the pipeline skips the inputs of shards already written).
    ``len(source)`` is the number of inputs, or None when unknown before reading (an archive
    without captions). ``describe()`` is what a resumed run must find unchanged.
    """

    kind = "source"
    captions: Captions | None = None
    limit: int | None = None
    max_bytes: int = MAX_BYTES

    def items(self, want: Want | None = None) -> Iterator[tuple[int, Item]]:
        raise NotImplementedError

    def __len__(self) -> int:  # pragma: no cover - overridden
        raise TypeError("length unknown")

    def total(self) -> int | None:
        try:
            return len(self)
        except TypeError:
            return None

    def describe(self) -> dict:
        raise NotImplementedError

    def _meta(self, location: str) -> dict | None:
        return self.captions.row(location) if self.captions is not None else None

    def _capped(self, n: int) -> int:
        return n if self.limit is None else min(n, self.limit)


def _listing_hash(names) -> str:
    return hashlib.blake2b("\n".join(names).encode(), digest_size=8).hexdigest()


def _read_file(path: Path, location: str,
               max_bytes: int) -> tuple[bytes | None, SymbolicError | None]:
    try:
        size = path.stat().st_size
    except OSError:
        return None, DataNotFoundError("file not found", location)
    if size > max_bytes:
        return None, InputTooLargeError(f"{size} bytes is over the {max_bytes}-byte limit",
                                        location)
    try:
        return path.read_bytes(), None
    except OSError as e:
        return None, DataNotFoundError(f"cannot read: {e.strerror or e}", location)


class FolderSource(Source):
    """MIDI files below ``root``: the captions file's order when ``captions`` is given (its
    ``location`` resolved against ``root``, or against its parent when ``root`` is the
    ``lmd_full`` folder itself), else every MIDI file, sorted by relative path."""

    kind = "folder"

    def __init__(self, root, *, captions: Captions | str | os.PathLike | None = None,
                 split: str | None = None, limit: int | None = None, max_bytes: int = MAX_BYTES):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataNotFoundError("not a folder", self.root)
        if captions is not None and not isinstance(captions, Captions):
            captions = Captions(captions, split=split)
        self.captions, self.limit, self.max_bytes = captions, limit, max_bytes
        self._paths: list[str] | None = None

    def locations(self) -> list[str]:
        if self.captions is not None:
            locs = self.captions.locations
        else:
            if self._paths is None:
                self._paths = sorted(
                    p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                    if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
            locs = self._paths
        return locs[: self.limit] if self.limit is not None else locs

    def path_of(self, location: str) -> Path:
        p = self.root / location
        if not p.exists():
            head, _, rest = location.partition("/")
            if head == self.root.name and rest:
                p = self.root / rest
        return p

    def __len__(self) -> int:
        return len(self.locations())

    def items(self, want: Want | None = None):
        for i, loc in enumerate(self.locations()):
            if want is not None and not want(i):
                yield i, Item(loc)
                continue
            data, err = _read_file(self.path_of(loc), loc, self.max_bytes)
            yield i, Item(loc, data, self._meta(loc), err)

    def describe(self) -> dict:
        d = {"kind": self.kind, "path": str(self.root.resolve()), "limit": self.limit}
        if self.captions is not None:
            d["captions"] = self.captions.describe()
        else:
            d["files"] = len(self.locations())
            d["listing"] = _listing_hash(self.locations())
        return d


class PathsSource(Source):
    """The given paths, in the given order; the location is the path as given."""

    kind = "paths"

    def __init__(self, paths: Iterable, *, limit: int | None = None, max_bytes: int = MAX_BYTES):
        self.paths = [os.fspath(p) for p in paths]
        if limit is not None:
            self.paths = self.paths[:limit]
        self.limit, self.max_bytes = limit, max_bytes

    def __len__(self) -> int:
        return len(self.paths)

    def items(self, want: Want | None = None):
        for i, p in enumerate(self.paths):
            if want is not None and not want(i):
                yield i, Item(p)
                continue
            data, err = _read_file(Path(p), p, self.max_bytes)
            yield i, Item(p, data, None, err)

    def describe(self) -> dict:
        return {"kind": self.kind, "files": len(self.paths),
                "listing": _listing_hash(self.paths)}


class TarSource(Source):
    """MIDI members of a ``.tar`` / ``.tar.gz`` / ``.tar.bz2`` / ``.tar.xz`` archive, streamed.

    Archive order; with ``captions``, only captioned members (of the split) are inputs, and the
    captioned locations the archive lacks follow at the end, each with a
    :class:`DataNotFoundError`. Members are read one at a time: the archive is never extracted.
    """

    kind = "tar"

    def __init__(self, path, *, captions: Captions | str | os.PathLike | None = None,
                 split: str | None = None, limit: int | None = None, max_bytes: int = MAX_BYTES):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataNotFoundError("archive not found", self.path)
        if captions is not None and not isinstance(captions, Captions):
            captions = Captions(captions, split=split)
        self.captions, self.limit, self.max_bytes = captions, limit, max_bytes
        self.skipped_members = 0  # MIDI members without a captions row (or repeated)

    def __len__(self) -> int:
        if self.captions is None:
            raise TypeError("an archive without captions has no length before it is read")
        return self._capped(len(self.captions))

    def items(self, want: Want | None = None):
        seen: set[str] = set()
        index = 0
        self.skipped_members = 0
        try:
            archive = tarfile.open(self.path, mode="r|*")
        except (tarfile.TarError, OSError) as e:
            raise ParseError(f"cannot open the archive: {e}", self.path) from e
        with archive:
            try:
                for member in archive:
                    if self.limit is not None and index >= self.limit:
                        break
                    if not member.isfile() or Path(member.name).suffix.lower() not in MIDI_SUFFIXES:
                        continue
                    loc = _norm(member.name)
                    if loc in seen or (self.captions is not None and loc not in self.captions):
                        self.skipped_members += 1
                        continue
                    seen.add(loc)
                    if want is not None and not want(index):
                        yield index, Item(loc)
                    elif member.size > self.max_bytes:
                        yield index, Item(loc, None, self._meta(loc), InputTooLargeError(
                            f"{member.size} bytes is over the {self.max_bytes}-byte limit", loc))
                    else:
                        f = archive.extractfile(member)
                        yield index, Item(loc, f.read() if f is not None else b"", self._meta(loc))
                    index += 1
            except (tarfile.TarError, OSError, EOFError) as e:
                raise ParseError(f"the archive is damaged after {index} inputs: {e}",
                                 self.path) from e
        if self.captions is not None:
            for loc in self.captions.locations:
                if self.limit is not None and index >= self.limit:
                    break
                if loc in seen:
                    continue
                meta = self._meta(loc) if want is None or want(index) else None
                missing = DataNotFoundError("listed in the captions but not in the archive", loc)
                yield index, Item(loc, None, meta, missing)
                index += 1

    def describe(self) -> dict:
        d = {"kind": self.kind, "path": str(self.path.resolve()), "bytes": self.path.stat().st_size,
             "limit": self.limit}
        if self.captions is not None:
            d["captions"] = self.captions.describe()
        return d


_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def open_source(source, *, captions=None, split: str | None = None, limit: int | None = None,
                max_bytes: int = MAX_BYTES) -> Source:
    """A :class:`Source` for ``source``: a Source (returned as is), a :class:`MidiCaps`, a
    folder, an archive (``.tar``, ``.tar.gz``...), a text file listing one path per line
    (``.txt``), or a list of paths. ``captions`` (a MidiCaps ``train.json``) joins captions
    and selects ``split``."""
    if isinstance(source, Source):
        return source
    if isinstance(source, MidiCaps):
        return source.source(limit=limit, max_bytes=max_bytes)
    if isinstance(source, (list, tuple)):
        if captions is not None:
            raise ValueError("captions join folders and archives, not lists of paths")
        return PathsSource(source, limit=limit, max_bytes=max_bytes)
    p = Path(os.fspath(source))
    if p.is_dir():
        return FolderSource(p, captions=captions, split=split, limit=limit, max_bytes=max_bytes)
    name = p.name.lower()
    if name.endswith(_TAR_SUFFIXES):
        return TarSource(p, captions=captions, split=split, limit=limit, max_bytes=max_bytes)
    if name.endswith(".txt") and p.is_file():
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
        return PathsSource([ln for ln in lines if ln and not ln.startswith("#")], limit=limit,
                           max_bytes=max_bytes)
    if not p.exists():
        raise DataNotFoundError("no such file or folder", p)
    raise DataNotFoundError("not a folder, an archive (.tar, .tar.gz...) or a list of paths "
                            "(.txt)", p)


# --------------------------------------------------------------------------------- MidiCaps

class MidiCaps:
    """The MidiCaps corpus: captions plus the MIDI files, from a folder holding ``train.json`` and
    ``midicaps.tar.gz`` (or an extracted ``lmd_full/``); default ``data_root()/midicaps``.

    ``captions`` and ``midi`` name the two parts explicitly (``midi``: the archive or the folder
    holding ``lmd_full/``). Iterating yields ``(location, Score, row)`` for each file that loads;
    the others are recorded in :attr:`failures`. :meth:`source` gives the pipeline's view.
    """

    def __init__(self, path=None, *, captions=None, midi=None, split: str | None = None):
        root = Path(path) if path is not None else data_root() / "midicaps"
        captions = Path(captions) if captions is not None else root / "train.json"
        if midi is None:
            for candidate in (root / "midicaps.tar.gz", root / "midicaps.tar", root / "lmd_full"):
                if candidate.exists():
                    midi = candidate.parent if candidate.name == "lmd_full" else candidate
                    break
            else:
                raise DataNotFoundError("no midicaps.tar.gz or lmd_full/ here (pass midi=...)",
                                        root)
        self.midi = Path(midi)
        self.captions = Captions(captions, split=split)
        self.split = self.captions.split
        self.failures: list[Failure] = []

    def __len__(self) -> int:
        return len(self.captions)

    def rows(self) -> Iterator[dict]:
        """Every captions row of the split, in file order."""
        return self.captions.rows()

    def source(self, *, limit: int | None = None, max_bytes: int = MAX_BYTES) -> Source:
        if self.midi.is_dir():
            return FolderSource(self.midi, captions=self.captions, limit=limit, max_bytes=max_bytes)
        return TarSource(self.midi, captions=self.captions, limit=limit, max_bytes=max_bytes)

    def __iter__(self):
        from ..io import load

        self.failures = []
        for _, item in self.source().items():
            try:
                if item.error is not None:
                    raise item.error
                try:
                    score = load(item.data)
                except SymbolicError as e:
                    raise type(e)(e.reason, item.location) from None
            except SymbolicError as e:
                self.failures.append(Failure(item.location, type(e).__name__, e.reason))
                continue
            yield item.location, score, item.meta
