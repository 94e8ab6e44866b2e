"""Where derived data (extracted corpora, encoded grids, slice tables) is cached on disk."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(*parts: str) -> Path:
    """A folder for derived data (extracted corpora...), created on demand: ``$SYMBOLIC_CACHE``,
    else ``$XDG_CACHE_HOME/symbolic``, else ``~/.cache/symbolic``; ``parts`` are subfolders."""
    root = os.environ.get("SYMBOLIC_CACHE")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "symbolic"
    path = Path(root).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
