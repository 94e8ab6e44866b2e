"""Corpora: POP909, music21's bundled corpus, any folder of MIDI files.

Each corpus module reads data from a path (never downloads) and yields ``symusic.Score``
objects plus whatever annotations the corpus carries. ``data_root()`` finds the shared data
folder: the ``SYMBOLIC_DATA`` environment variable, else ``../shared/data`` beside the project.
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
