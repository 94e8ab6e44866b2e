"""Corpus sources: one interface over every place MIDI comes from.

A *source* (:class:`Source`) yields its inputs in a fixed order as :class:`Item` objects
(location, bytes, captions row, error) numbered from 0; that order is what the tokenizing
pipeline (:mod:`symbolic.data.pipeline`) numbers and cuts into shards, and
:meth:`Source.scores` turns any source into ``(location, Score, meta)`` for training code.

=====================  =======================================================================
source                 order, what ``location`` is
=====================  =======================================================================
:class:`FolderSource`  files below a folder (MIDI suffixes by default), sorted by relative
                       path; with captions, the captions file's order
:class:`TarSource`     MIDI members of a ``.tar``/``.tar.gz``/... archive, streamed in archive
                       order; with captions, then the captioned files the archive lacks
:class:`PathsSource`   a list of paths (or a ``.txt`` file of them), in the given order
:class:`NamesSource`   names :func:`symbolic.load` accepts (``corpus:bach/bwv66.6``...): music21
                       collections (:func:`collection_source`)
POP909                 :func:`pop909_source`: the songs' MIDI files in id order (a PathsSource)
MidiCaps               :class:`symbolic.data.midicaps.MidiCaps` ``.source()``: captions joined
=====================  =======================================================================

:func:`open_source` picks one from what it is given. A captions row whose file is missing,
and a file that cannot be read, come out as items carrying an error, so that nothing is lost
silently.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import symusic

from ..errors import DataNotFoundError, InputTooLargeError, ParseError, SymbolicError
from ..io import FORMATS, MAX_BYTES
from . import Failure, iter_scores
from .captions import Captions, norm_location

__all__ = [
    "Item",
    "Source",
    "FolderSource",
    "TarSource",
    "PathsSource",
    "NamesSource",
    "open_source",
    "pop909_source",
    "collection_source",
    "content_hash",
    "MIDI_SUFFIXES",
]

MIDI_SUFFIXES = tuple(s.lower() for s in FORMATS["midi"])


def content_hash(data: bytes) -> str:
    """blake2b-128 of the file's bytes, hex: equal files get equal hashes across runs."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


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

    def scores(self, *, failures: list | None = None,
               **load_kwargs) -> Iterator[tuple[str, symusic.Score, dict | None]]:
        """``(location, Score, meta)`` for every input that loads, in the source's order.

        An input that does not load (missing, too large, malformed...) is appended to
        ``failures`` (a list you pass in) as a :class:`~symbolic.data.Failure` and skipped.
        ``load_kwargs`` go to :func:`symbolic.load`.
        """
        from ..io import load

        for _, item in self.items():
            try:
                if item.error is not None:
                    raise item.error
                try:
                    score = load(item.data, **load_kwargs)
                except SymbolicError as e:
                    raise type(e)(e.reason, item.location) from None
            except SymbolicError as e:
                if failures is not None:
                    failures.append(Failure(item.location, type(e).__name__, e.reason))
                continue
            yield item.location, score, item.meta

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
    """Files below ``root``: the captions file's order when ``captions`` is given (its
    ``location`` resolved against ``root``, or against its parent when ``root`` is the
    ``lmd_full`` folder itself), else every file whose suffix is in ``suffixes`` (default: the
    MIDI suffixes, matched case-insensitively), sorted by relative path; ``recursive=False``
    looks in ``root`` only."""

    kind = "folder"

    def __init__(self, root, *, captions: Captions | str | os.PathLike | None = None,
                 split: str | None = None, limit: int | None = None, max_bytes: int = MAX_BYTES,
                 suffixes=MIDI_SUFFIXES, recursive: bool = True):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataNotFoundError("not a folder", self.root)
        if captions is not None and not isinstance(captions, Captions):
            captions = Captions(captions, split=split)
        self.captions, self.limit, self.max_bytes = captions, limit, max_bytes
        self.suffixes = tuple(s.lower() for s in suffixes)
        self.recursive = recursive
        self._paths: list[str] | None = None

    def locations(self) -> list[str]:
        """Every input's location (relative to ``root``, forward slashes), in source order."""
        if self.captions is not None:
            locs = self.captions.locations
        else:
            if self._paths is None:
                walk = self.root.rglob("*") if self.recursive else self.root.glob("*")
                self._paths = sorted(
                    p.relative_to(self.root).as_posix() for p in walk
                    if p.suffix.lower() in self.suffixes and p.is_file())
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
        if self.suffixes != MIDI_SUFFIXES or not self.recursive:  # default runs keep their manifest
            d["suffixes"], d["recursive"] = list(self.suffixes), self.recursive
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
                    loc = norm_location(member.name)
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


class NamesSource(Source):
    """Pieces named as :func:`symbolic.load` accepts them (paths, ``corpus:...`` names of
    music21's corpus), in the given order; the location is the name.

    Non-MIDI pieces are parsed by music21 and reach :meth:`items` as MIDI bytes written by
    symusic (what a Score holds survives; notation-only details were already dropped by the
    load); :meth:`scores` gives the loaded Scores directly.
    """

    kind = "names"

    def __init__(self, names: Iterable[str], *, limit: int | None = None,
                 max_bytes: int = MAX_BYTES, **load_kwargs):
        self.names = [str(n) for n in names]
        if limit is not None:
            self.names = self.names[:limit]
        self.limit, self.max_bytes, self.load_kwargs = limit, max_bytes, load_kwargs

    def __len__(self) -> int:
        return len(self.names)

    def items(self, want: Want | None = None):
        from ..io import load

        for i, name in enumerate(self.names):
            if want is not None and not want(i):
                yield i, Item(name)
                continue
            try:
                data = bytes(load(name, **self.load_kwargs).dumps_midi())
            except SymbolicError as e:
                yield i, Item(name, None, None, e)
                continue
            yield i, Item(name, data)

    def scores(self, *, failures: list | None = None, **load_kwargs):
        for name, score in iter_scores(self.names, failures=failures,
                                       **{**self.load_kwargs, **load_kwargs}):
            yield name, score, None

    def describe(self) -> dict:
        return {"kind": self.kind, "files": len(self.names),
                "listing": _listing_hash(self.names)}


def pop909_source(split: str | None = None, *, path=None, limit: int | None = None,
                  max_bytes: int = MAX_BYTES) -> PathsSource:
    """POP909's song files (``NNN/NNN.mid``) of ``split`` ('train', 'valid', 'test'; None or
    'all': every song present), in id order. Annotations stay with
    :class:`symbolic.data.pop909.Pop909`."""
    from .pop909 import Pop909

    pop = Pop909(path)
    paths = [pop.folder(i) / f"{i:03d}.mid" for i in pop.available(split)]
    return PathsSource(paths, limit=limit, max_bytes=max_bytes)


def collection_source(collection: str, split: str | None = None, *,
                      limit: int | None = None) -> NamesSource:
    """A music21 corpus collection (:data:`symbolic.data.music21_corpus.COLLECTIONS`) by its
    documented split, as ``corpus:...`` names."""
    from .music21_corpus import piece_names

    return NamesSource(piece_names(collection, split), limit=limit)


_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def _is_corpus_name(spec: str) -> bool:
    return spec == "pop909" or spec.startswith(("pop909:", "music21:"))


def open_source(source, *, captions=None, split: str | None = None, limit: int | None = None,
                max_bytes: int = MAX_BYTES) -> Source:
    """A :class:`Source` for ``source``: a Source (returned as is), a corpus object with a
    ``source(limit=, max_bytes=)`` method (:class:`~symbolic.data.midicaps.MidiCaps`), a
    folder, an archive (``.tar``, ``.tar.gz``...), a text file listing one path per line
    (``.txt``), a list of paths, ``"pop909"`` or ``"pop909:SPLIT"``, or
    ``"music21:COLLECTION"`` or ``"music21:COLLECTION:SPLIT"``. ``captions`` (a MidiCaps
    ``train.json``) joins captions to a folder or an archive and selects ``split``."""
    if isinstance(source, Source):
        return source
    if callable(getattr(source, "source", None)):
        return source.source(limit=limit, max_bytes=max_bytes)
    if isinstance(source, (list, tuple)):
        if captions is not None:
            raise ValueError("captions join folders and archives, not lists of paths")
        return PathsSource(source, limit=limit, max_bytes=max_bytes)
    p = Path(os.fspath(source))
    if not p.exists() and _is_corpus_name(str(source)):
        return _named_corpus(str(source), limit=limit, max_bytes=max_bytes)
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


def _named_corpus(spec: str, *, limit: int | None, max_bytes: int) -> Source:
    """``pop909[:SPLIT]`` or ``music21:COLLECTION[:SPLIT]``."""
    kind, _, rest = spec.partition(":")
    if kind == "pop909":
        return pop909_source(rest or None, limit=limit, max_bytes=max_bytes)
    collection, _, split = rest.partition(":")
    if not collection:
        raise DataNotFoundError("name a collection: music21:COLLECTION[:SPLIT]", spec)
    return collection_source(collection, split or None, limit=limit)
