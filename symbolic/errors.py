"""Exceptions raised by symbolic.

Every error the toolkit raises on bad input is a :class:`SymbolicError`. The message always
names the input (a path, ``<bytes>``, ``corpus:NAME``...) and the reason, in the form
``"songs/07.mid: truncated track chunk"``, so a batch job can log it as it is.
"""

from __future__ import annotations

import os

__all__ = [
    "SymbolicError",
    "ArgumentError",
    "ArgumentTypeError",
    "TickTimeError",
    "ParseError",
    "MidiParseError",
    "UnsupportedFormatError",
    "EmptyScoreError",
    "InputTooLargeError",
    "DataNotFoundError",
    "ConversionError",
    "ChordLabelError",
    "EncodeError",
    "TrackMappingError",
    "AudioInputError",
    "SoundFontError",
    "TokenizationError",
    "OutOfVocabularyError",
    "WorkerCrashError",
    "TokenizeTimeoutError",
    "FilteredError",
    "RunMismatchError",
    "RunInProgressError",
    "ModelFolderError",
    "OutputError",
]


def source_name(source) -> str:
    """A short printable name for an input: a path as given, ``<bytes>`` for raw data."""
    if source is None:
        return "<input>"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    if isinstance(source, os.PathLike):
        return os.fspath(source)
    return str(source)


class SymbolicError(Exception):
    """Base class. ``source`` names the input, ``reason`` says what is wrong with it."""

    def __init__(self, reason: str, source=None):
        self.reason = str(reason)
        self.source = source_name(source) if source is not None else None
        super().__init__(f"{self.source}: {self.reason}" if self.source else self.reason)

    def __reduce__(self):  # keep the two fields across process boundaries (worker pools)
        return (type(self), (self.reason, self.source))


class ArgumentError(SymbolicError, ValueError):
    """A function or command got an argument outside what it accepts; ``source`` names the
    argument, the reason says the allowed range."""


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of a type the function does not take (None, a number for a path...); also
    a ``TypeError``, as Python raises for such calls."""


class TickTimeError(SymbolicError, TypeError):
    """A function that works in ticks got a score in quarter or second time, or no score."""


class ParseError(SymbolicError, ValueError):
    """The input claims a known format but cannot be read as it."""


class MidiParseError(ParseError):
    """A MIDI file (or MIDI bytes) is malformed: bad header, truncated chunk, bad event."""


class UnsupportedFormatError(SymbolicError, ValueError):
    """The input's format is not one symbolic reads or writes (or cannot be recognised)."""


class EmptyScoreError(SymbolicError, ValueError):
    """The input parsed but holds no notes (and the caller did not allow empty scores)."""


class InputTooLargeError(SymbolicError, ValueError):
    """The input exceeds a size limit (bytes, notes or length) set to protect memory."""


class DataNotFoundError(SymbolicError, FileNotFoundError):
    """A file, corpus folder or corpus piece that was asked for does not exist."""


class ConversionError(SymbolicError, ValueError):
    """A score cannot be converted to or from another library's type as asked."""


class ChordLabelError(SymbolicError, ValueError):
    """A chord label cannot be parsed."""


class EncodeError(SymbolicError, ValueError):
    """A representation cannot hold a score exactly and the caller asked for ``strict=True``."""


class TrackMappingError(SymbolicError, ValueError):
    """A requested track cannot be matched to any of a model's tracks."""


class AudioInputError(SymbolicError, ValueError):
    """A waveform or latents a codec cannot take: wrong rank, channels, rate, dtype or size."""


class SoundFontError(SymbolicError, RuntimeError):
    """A SoundFont engine failed on a score (bad SoundFont, fluidsynth error)."""


class TokenizationError(SymbolicError, ValueError):
    """miditok could not tokenize a score (it raised on this input)."""


class OutOfVocabularyError(SymbolicError, ValueError):
    """A chord or slice the model has no vector for."""


class WorkerCrashError(SymbolicError):
    """A worker process died (a signal, out of memory...) while working on this input."""


class TokenizeTimeoutError(SymbolicError):
    """Loading and tokenizing this input took longer than the per-file limit."""


class FilteredError(SymbolicError):
    """The user's ``transform`` returned None for this input: left out on purpose."""


class RunMismatchError(SymbolicError):
    """The output folder holds a run with other settings (source, tokenizer, shard size)."""


class RunInProgressError(SymbolicError):
    """Another run is writing the same output folder right now."""


class ModelFolderError(SymbolicError, ValueError):
    """A model folder whose config.json or weights cannot make the model it names."""


class OutputError(SymbolicError, OSError):
    """A file or folder cannot be written where it was asked for (no such folder, no
    permission, a folder in the way, a read-only file system)."""
