"""Argument checks shared by the public functions and commands: each returns the value in its
canonical type or raises :class:`~symbolic.errors.ArgumentError` naming the argument and the
allowed range (the CLI prints that as one ``error:`` line)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from .errors import ArgumentError, OutputError

__all__ = ["integer", "number", "choice", "integer_fields", "time_signature", "output_file",
           "output_folder", "bar_ticks",
           "MAX_TEMPO_QPM", "MAX_BARS"]

#: Quarter notes per minute a score may declare (MIDI holds 0.22 to 60,000,000 qpm; music
#: lives far inside this).
MAX_TEMPO_QPM = 1000.0
#: Bars one generation call may ask for (a grid column per step: 4,096 bars of 4/4 at 16ths
#: is 65,536 columns, minutes of CPU time).
MAX_BARS = 4096


def integer(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int within ``[low, high]`` (either bound may be None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or value == "":
        raise ArgumentError(f"must be a whole number{_range(low, high)}, got {value!r}", name)
    try:
        number_value = float(value)
    except ValueError:
        raise ArgumentError(f"must be a whole number{_range(low, high)}, got {value!r}",
                            name) from None
    if not number_value.is_integer():
        raise ArgumentError(f"must be a whole number{_range(low, high)}, got {value!r}", name)
    out = int(number_value)
    if (low is not None and out < low) or (high is not None and out > high):
        raise ArgumentError(f"must be{_range(low, high)}, got {out}", name)
    return out


def number(name: str, value, low: float | None = None, high: float | None = None, *,
           low_open: bool = False) -> float:
    """``value`` as a finite float within ``[low, high]`` (``(low, high]`` with
    ``low_open``)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    too_low = low is not None and (out <= low if low_open else out < low)
    if isinstance(value, bool) or not math.isfinite(out) or too_low or \
            (high is not None and out > high):
        raise ArgumentError(f"must be a number{_range(low, high, low_open)}, got {value!r}",
                            name)
    return out


def integer_fields(obj, bounds: dict) -> None:
    """Check the whole-number fields of a settings object in place: ``bounds`` maps a field
    name to ``(low, high)`` (either None); each field becomes an int within them or
    :class:`ArgumentError` names it."""
    for name, (low, high) in bounds.items():
        setattr(obj, name, integer(name, getattr(obj, name), low, high))


def choice(name: str, value, options):
    """``value`` when it is one of ``options``, else :class:`ArgumentError` listing them."""
    if isinstance(value, str) and value in options:
        return value
    raise ArgumentError(f"must be one of {', '.join(map(repr, options))}, got {value!r}", name)


def output_folder(path, name: str = "out") -> Path:
    """``path`` as a folder that exists (made with its parents) and can be written: else
    :class:`~symbolic.errors.OutputError` naming it (a file in the way, no permission, a
    read-only or virtual file system such as /proc)."""
    if path is None or isinstance(path, bool) or not isinstance(path, (str, os.PathLike)) \
            or str(path) == "":
        raise ArgumentError(f"must be a folder path, got {path!r}", name)
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".symbolic-write-test-{os.getpid()}"
        probe.open("wb").close()
        probe.unlink()
    except OSError as e:
        raise OutputError(f"{name}: cannot write this folder ({e.strerror or e})",
                          folder) from None
    return folder


def output_file(path, name: str = "path") -> Path:
    """``path`` as a file that can be written (its folder made when missing), checked before
    any work is done: else :class:`~symbolic.errors.OutputError` naming it. An existing file
    is left as it is; a probe file made by the check is removed."""
    if path is None or isinstance(path, bool) or not isinstance(path, (str, os.PathLike)) \
            or str(path) == "":
        raise ArgumentError(f"must be a file path, got {path!r}", name)
    file = Path(path)
    if file.is_dir():
        raise OutputError(f"{name}: is a folder; give a file name", file)
    existed = file.exists()
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.open("ab").close()
        if not existed:
            file.unlink()
    except OSError as e:
        raise OutputError(f"{name}: cannot write here ({e.strerror or e})", file) from None
    return file


def time_signature(value, name: str = "time_signature") -> tuple[int, int]:
    """``(numerator, denominator)`` from a pair or a ``"3/4"`` string: numerator 1-64,
    denominator a power of two from 1 to 64 (what a MIDI file can store)."""
    parts = value.split("/") if isinstance(value, str) else value
    try:
        num, den = parts
    except (TypeError, ValueError):
        raise ArgumentError(f"must look like 3/4 or (3, 4), got {value!r}", name) from None
    num = integer(name, num, 1, 64)
    den = integer(name, den, 1, 64)
    if den & (den - 1):
        raise ArgumentError(f"denominator must be a power of two (1, 2, 4 ... 64), got {den} "
                            "(a MIDI file stores it as a power of two)", name)
    return num, den


def bar_ticks(name: str, value):
    """``value`` as strictly ascending bar-start ticks (int64 numpy array, whole numbers in
    [0, 2**31 - 1], at least one), or None when it is None."""
    import numpy as np

    if value is None:
        return None
    try:
        bars = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        bars = np.array([np.nan])
    if bars.ndim != 1 or len(bars) == 0 or not np.all(np.isfinite(bars)) or \
            np.any(bars < 0) or np.any(bars != np.rint(bars)) or bars.max() > 2**31 - 1 or \
            np.any(np.diff(bars) <= 0):
        raise ArgumentError("must be ascending bar-start ticks, whole numbers in "
                            f"[0, 2**31 - 1], got {value!r}"[:200], name)
    return bars.astype(np.int64)


def _range(low, high, low_open: bool = False) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low}, {high}]"
    if low is not None:
        return f" {'>' if low_open else '>='} {low}"
    if high is not None:
        return f" <= {high}"
    return ""
