"""Plots: piano rolls of a score (one colour per track), with matplotlib."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import symusic

__all__ = ["plot_pianoroll"]


def plot_pianoroll(score: symusic.Score, *, path=None, ax=None, title: str | None = None,
                   max_quarters: float | None = None, dpi: int = 120):
    """Draw every note as a bar (x: quarters, y: MIDI pitch), one colour per track.

    Bar lines follow the score's time signatures. Writes a PNG when ``path`` is given; returns
    the matplotlib Axes. Drum tracks are drawn at their note numbers with hatching.
    """
    import matplotlib

    if ax is None and path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    tpq = score.ticks_per_quarter
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(12, 4.5), dpi=dpi)
    colours = plt.get_cmap("tab10")
    lo, hi, end = 127, 0, 0.0
    for k, track in enumerate(score.tracks):
        if track.note_num() == 0:
            continue
        n = track.notes.numpy()
        start = n["time"] / tpq
        dur = np.maximum(n["duration"] / tpq, 1 / 64)
        keep = start < max_quarters if max_quarters else slice(None)
        start, dur, pitch = start[keep], dur[keep], n["pitch"][keep]
        if len(pitch) == 0:
            continue
        rects = [Rectangle((s, p - 0.4), d, 0.8) for s, d, p in zip(start, dur, pitch)]
        ax.add_collection(PatchCollection(
            rects, facecolor=colours(k % 10), edgecolor="none", alpha=0.85,
            hatch="//" if track.is_drum else None))
        ax.plot([], [], color=colours(k % 10), lw=6,
                label=f"{track.name or f'track {k}'} ({'drums' if track.is_drum else f'program {track.program}'})")
        lo, hi = min(lo, int(pitch.min())), max(hi, int(pitch.max()))
        end = max(end, float((start + dur).max()))
    if max_quarters:
        end = min(end, max_quarters)
    for q in _bar_quarters(score, end):
        ax.axvline(q, color="0.85", lw=0.6, zorder=0)
    ax.set_xlim(0, max(end, 1.0))
    ax.set_ylim(lo - 2 if hi >= lo else 0, hi + 2 if hi >= lo else 127)
    ax.set_xlabel("quarter notes")
    ax.set_ylabel("MIDI pitch")
    if title:
        ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    if own:
        fig.tight_layout()
        if path is not None:
            fig.savefig(Path(path))
            plt.close(fig)
    return ax


def _bar_quarters(score: symusic.Score, end: float) -> list[float]:
    """Bar-line positions in quarters from the time signatures (4/4 when none)."""
    tpq = score.ticks_per_quarter
    sigs = sorted(((ts.time, ts.numerator, ts.denominator) for ts in score.time_signatures))
    if not sigs or sigs[0][0] > 0:
        sigs.insert(0, (0, 4, 4))
    bars = []
    for i, (t, num, den) in enumerate(sigs):
        seg_end = sigs[i + 1][0] / tpq if i + 1 < len(sigs) else end
        bar_len = num * 4 / den
        q = t / tpq
        while q < seg_end and len(bars) < 5000 and bar_len > 0:
            bars.append(q)
            q += bar_len
    return bars
