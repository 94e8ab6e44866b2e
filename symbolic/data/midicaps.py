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

MidiCaps is read through the generic sources of :mod:`symbolic.data.sources` (a folder or an
archive, captions joined from :class:`~symbolic.data.captions.Captions`): a folder with
captions follows the captions file; an archive follows the archive (a gzip stream cannot be
read out of order), then lists the captioned files it lacks. The source classes, ``Captions``
and ``open_source`` stay importable from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import symusic

from ..errors import DataNotFoundError
from ..io import MAX_BYTES
from . import Failure, data_root
from .captions import SPLITS, Captions
from .sources import (FolderSource, Item, PathsSource, Source, TarSource, content_hash,
                      open_source)

__all__ = [
    "FIELDS",
    "SPLITS",
    "MidiCaps",
    # the generic sources, first written for MidiCaps (their home is symbolic.data.sources)
    "Item",
    "Captions",
    "Source",
    "TarSource",
    "FolderSource",
    "PathsSource",
    "open_source",
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
        """The files with their captions rows, as the pipeline and :meth:`__iter__` read them."""
        if self.midi.is_dir():
            return FolderSource(self.midi, captions=self.captions, limit=limit, max_bytes=max_bytes)
        return TarSource(self.midi, captions=self.captions, limit=limit, max_bytes=max_bytes)

    def __iter__(self) -> Iterator[tuple[str, symusic.Score, dict]]:
        self.failures = []
        yield from self.source().scores(failures=self.failures)
