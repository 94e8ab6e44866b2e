"""POP909 (Wang et al., ISMIR 2020): 909 pop songs, piano arrangements with annotations.

Read from a folder holding ``001/ ... 909/`` (default ``data_root()/pop909``); nothing is
downloaded. Each song gives its score (tracks ``MELODY``, ``BRIDGE``, ``PIANO``; 480 ticks per
quarter) and the MIDI-derived annotations: chords, beats with downbeats, keys.

The MIDI time signatures are unreliable (617 of 909 files declare 1/4), so bars come from the
downbeat flags of ``beat_midi.txt``: :meth:`Pop909Song.bar_ticks`.

Split (fixed, by song id; see ``datasets/pop909.md``):
  train 001-837 (837 songs), valid 838-873 (36), test 874-909 (36, the songs published work
  such as Theme Transformer holds out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import symusic

from .. import checks
from ..errors import ArgumentError, DataNotFoundError, ParseError
from ..timeline import seconds_to_ticks
from . import corpus_path

__all__ = ["Pop909", "Pop909Song", "Segments", "SPLITS", "split_of", "song_ids", "band_parts"]

N_SONGS = 909
SPLITS = {"train": range(1, 838), "valid": range(838, 874), "test": range(874, 910)}
TRACKS = ("MELODY", "BRIDGE", "PIANO")


def split_of(song_id: int) -> str:
    """The split ('train', 'valid', 'test') a song id belongs to."""
    for name, ids in SPLITS.items():
        if song_id in ids:
            return name
    raise ArgumentError(f"POP909 song ids are 1..{N_SONGS}, got {song_id!r}", "song_id")


def song_ids(split: str | None = None) -> list[int]:
    """Song ids of one split, or all 909 when ``split`` is None or 'all'."""
    if split in (None, "all"):
        return list(range(1, N_SONGS + 1))
    if split not in SPLITS:
        raise ArgumentError(f"unknown split {split!r}; choose from {sorted(SPLITS)} or 'all'",
                            "split")
    return list(SPLITS[split])


@dataclass(frozen=True)
class Segments:
    """Labelled time spans: ``start``/``end`` in seconds (float arrays) and one label each."""

    start: np.ndarray
    end: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def label_at(self, seconds) -> list[str | None]:
        """The label sounding at each time (None outside every span)."""
        seconds = np.atleast_1d(np.asarray(seconds, dtype=np.float64))
        i = np.searchsorted(self.start, seconds, side="right") - 1
        out = []
        for t, k in zip(seconds, i):
            out.append(self.labels[k] if k >= 0 and t < self.end[k] else None)
        return out


def _read_segments(path: Path) -> Segments:
    starts, ends, labels = [], [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 3:
                raise ParseError(f"line {lineno}: expected 'start end label', got {line!r}", path)
            starts.append(float(parts[0]))
            ends.append(float(parts[1]))
            labels.append(parts[2])
    return Segments(np.array(starts), np.array(ends), labels)


@dataclass
class Pop909Song:
    """One POP909 song: score plus annotations (times in seconds)."""

    song_id: int
    folder: Path
    score: symusic.Score
    chords: Segments
    beats: np.ndarray  # seconds, one per beat
    downbeats: np.ndarray  # bool per beat: this beat starts a bar
    keys: Segments
    split: str = field(init=False)

    def __post_init__(self):
        self.split = split_of(self.song_id)

    def track(self, name: str) -> symusic.core.TrackTick:
        """The track called ``name`` (MELODY, BRIDGE or PIANO)."""
        for t in self.score.tracks:
            if t.name.upper() == name.upper():
                return t
        raise KeyError(f"{self.folder}: no track named {name!r}")

    def beat_ticks(self) -> np.ndarray:
        """Tick of every annotated beat."""
        return seconds_to_ticks(self.score, self.beats)

    def bar_ticks(self) -> np.ndarray:
        """Tick of every annotated downbeat (bar start)."""
        return seconds_to_ticks(self.score, self.beats[self.downbeats])

    def chord_ticks(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and end tick of every chord span."""
        return seconds_to_ticks(self.score, self.chords.start), seconds_to_ticks(self.score, self.chords.end)


class Pop909:
    """The POP909 corpus at ``path`` (default ``data_root()/pop909``).

    >>> pop = Pop909()                        # doctest: +SKIP
    >>> song = pop.song(1); song.score        # doctest: +SKIP
    >>> for song in pop.songs("test"): ...    # doctest: +SKIP
    """

    def __init__(self, path=None):
        self.root = corpus_path("pop909", path)

    def folder(self, song_id: int) -> Path:
        return self.root / f"{checks.integer('song_id', song_id, 1, N_SONGS):03d}"

    def available(self, split: str | None = None) -> list[int]:
        """Song ids of ``split`` that are present on disk."""
        return [i for i in song_ids(split) if (self.folder(i) / f"{i:03d}.mid").is_file()]

    def score(self, song_id: int) -> symusic.Score:
        """The score of one song, without reading annotations."""
        from ..io import load

        folder = self.folder(song_id)
        path = folder / f"{folder.name}.mid"
        if not path.is_file():
            raise DataNotFoundError("POP909 song file not found", path)
        return load(path)

    def song(self, song_id: int) -> Pop909Song:
        """One song with its chord, beat and key annotations."""
        folder = self.folder(song_id)
        score = self.score(song_id)
        for name in ("chord_midi.txt", "beat_midi.txt", "key_audio.txt"):
            if not (folder / name).is_file():
                raise DataNotFoundError(f"annotation {name} missing", folder)
        beat = np.loadtxt(folder / "beat_midi.txt", ndmin=2)
        return Pop909Song(
            song_id=int(song_id),
            folder=folder,
            score=score,
            chords=_read_segments(folder / "chord_midi.txt"),
            beats=beat[:, 0],
            downbeats=beat[:, 2] > 0.5,
            keys=_read_segments(folder / "key_audio.txt"),
        )

    def songs(self, split: str | None = None) -> Iterator[Pop909Song]:
        """Every available song of ``split`` (None or 'all': all 909), in id order."""
        for i in self.available(split):
            yield self.song(i)

    def __len__(self) -> int:
        return len(self.available())


def band_parts(score):
    """A POP909 score (MELODY, BRIDGE, PIANO) as the band model's parts: MELODY and BRIDGE as
    they are, the PIANO split into BASS, its lowest line (:func:`symbolic.data.band.split_bass`
    over onsets on one tick), and PIANO, the rest. POP909 has no bass track; this derivation is what the band model
    learns BASS from, so its basses are piano left hands: roots and fifths on the beat,
    arpeggio bottoms, rarely the walking or syncopated lines of a bass player."""
    from .band import split_bass

    out = score.copy()
    out.tracks = [t for t in score.tracks if t.name.upper() != "PIANO"]
    for t in score.tracks:
        if t.name.upper() == "PIANO":
            bass, rest = split_bass(t)
            bass.name, rest.name = "BASS", "PIANO"
            out.tracks.append(bass)
            out.tracks.append(rest)
    return out
