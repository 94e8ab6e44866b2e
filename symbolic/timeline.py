"""Time on the ground floor: tick-time checks, bars, beats and bar windows.

Every module that needs bars, beats or grid steps (harmony, metrics, every representation, every
model) takes them from here, so "where does bar 9 start" has one answer in the whole toolkit.
This module imports nothing from the rest of :mod:`symbolic` but :mod:`symbolic.errors`.

Units: ticks (the score's ``ticks_per_quarter``), steps (``resolution`` per quarter), bars
(0-based indices in code, 1-based only where a user names them).
"""

from __future__ import annotations

import numpy as np
import symusic

from .errors import SymbolicError

__all__ = ["is_tick", "as_tick", "require_tick", "bar_windows"]


def is_tick(score) -> bool:
    """True for a tick-time ``symusic.Score``."""
    return isinstance(score, symusic.core.ScoreTick)


def as_tick(score: symusic.Score) -> symusic.Score:
    """``score`` in tick time (converted from quarter or second time when it is not)."""
    if is_tick(score):
        return score
    if not hasattr(score, "to"):
        raise TypeError(f"expected a symusic.Score, got {type(score).__name__}")
    return score.to("tick")


def require_tick(score, what: str = "score") -> None:
    """Raise ``TypeError`` unless ``score`` is a tick-time ``symusic.Score``."""
    if not is_tick(score):
        raise TypeError(f"expected a tick-time symusic.Score as {what}, got "
                        f"{type(score).__name__} (convert with score.to('tick'))")


def bar_windows(bar_first, bars: int, hop: int | None = None) -> list[tuple[int, int, int, int]]:
    """Windows of ``bars`` whole bars every ``hop`` bars (default ``bars``), left to right.

    ``bar_first``: the first column (step, tick...) of every bar plus the end (length
    ``n_bars + 1``). Returns ``(first_bar, end_bar, start, end)`` per window, bars 0-based and
    end-exclusive, ``start``/``end`` read from ``bar_first``. The last window ends at the last
    bar; a piece of no bars gives one empty window at 0.
    """
    bars = int(bars)
    hop = bars if hop is None else int(hop)
    if bars < 1 or hop < 1:
        raise SymbolicError(f"bar windows need bars >= 1 and hop >= 1, got bars={bars}, "
                            f"hop={hop}")
    first = np.asarray(bar_first)
    n = len(first) - 1
    out = []
    for b in range(0, max(n, 1), hop):
        e = min(b + bars, max(n, 0))
        out.append((b, e, int(first[min(b, n)]), int(first[e])))
        if b + bars >= n:
            break
    return out
