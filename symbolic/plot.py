"""Plots with matplotlib: piano rolls of a score (one colour per track) and pictures of an edit
(a region of bars before and after infill)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import symusic

from . import checks
from .errors import ArgumentError
from .timeline import MetricGrid, as_tick

__all__ = ["plot_pianoroll", "plot_edit", "EDIT_REGION"]

#: The ``gid`` of the shaded patch marking the edited bars in each panel of :func:`plot_edit`.
EDIT_REGION = "edited-region"


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
        _draw_notes(ax, start, dur, pitch, colours(k % 10), track.is_drum)
        ax.plot([], [], color=colours(k % 10), lw=6, label=_track_label(track, k))
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
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                  borderaxespad=0.0)  # right of the axes: never over the notes
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


def _draw_notes(ax, start, dur, pitch, colour, is_drum: bool, gid: str | None = None) -> None:
    """Notes as bars (x: ``start`` to ``start + dur``, y: pitch), one collection (not in
    ``ax.patches``) with ``gid`` (the track's legend label in :func:`plot_edit`)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    rects = [Rectangle((s, p - 0.4), d, 0.8) for s, d, p in zip(start, dur, pitch)]
    ax.add_collection(PatchCollection(rects, facecolor=colour, edgecolor="none", alpha=0.85,
                                      hatch="//" if is_drum else None, gid=gid))


def _track_label(track, index: int) -> str:
    kind = "drums" if track.is_drum else f"program {track.program}"
    return f"{track.name or f'track {index}'} ({kind})"


def plot_edit(before: symusic.Score, after: symusic.Score, *, bars, tracks=None,
              context_bars: int = 4, bar_ticks=None, path=None, ax=None,
              title: str | None = None, dpi: int = 120):
    """Before and after an edit of ``bars``: two piano-roll panels, one above the other.

    ``bars``: ``(first, last)``, 1-based and inclusive as the user counts them (``(9, 16)``),
    the bars of ``before``'s time signatures, or of ``bar_ticks`` (bar-start ticks such as
    POP909's annotated downbeats; a pickup before the first is bar 1, as in
    :class:`~symbolic.timeline.MetricGrid` and infill). Each panel shows ``context_bars`` bars
    before and after the region (fewer at the ends of the piece), the region shaded (a patch
    with gid :data:`EDIT_REGION` spanning its ticks), bar lines, and bar numbers on the x axis
    (ticks: the x unit is ticks). The panels share the pitch axis and the time axis. A track
    has the same colour in both panels (matched by name, else by position); drum tracks are
    hatched. The legend sits right of the panels, outside the notes.

    ``tracks``: names (case-insensitive) or indices into ``before`` of the tracks to draw
    (None: all, plus tracks only ``after`` has). ``ax``: two matplotlib Axes to draw on (else
    a new figure). ``path``: write a PNG there. Returns the two Axes ``(before, after)``.
    """
    import matplotlib

    if ax is None and path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    before, after = as_tick(before), as_tick(after)
    if before.ticks_per_quarter != after.ticks_per_quarter:
        raise ArgumentError(f"has {after.ticks_per_quarter} ticks per quarter, before has "
                            f"{before.ticks_per_quarter}: resample one first", "after")
    context_bars = checks.integer("context_bars", context_bars, 0, checks.MAX_BARS)
    end = max(int(before.end()), int(after.end()), 1)
    edges = MetricGrid.from_score(before, bar_ticks=bar_ticks, end=end).bar_ticks
    first, last = _bar_range(bars, len(edges) - 1)
    lo_bar, hi_bar = max(first - 1 - context_bars, 0), min(last + context_bars, len(edges) - 1)
    window = (int(edges[lo_bar]), int(edges[hi_bar]))
    region = (int(edges[first - 1]), int(edges[last]))
    chosen = _chosen_tracks(before, after, tracks)
    if ax is None:
        fig, axes = plt.subplots(2, 1, figsize=(12, 7), dpi=dpi, sharex=True, sharey=True)
    else:
        axes = _two_axes(ax)
        fig = axes[0].figure
    colours = _track_colours(chosen)
    pitches = []
    for side, (panel, label, score) in enumerate(zip(axes, ("before", "after"),
                                                     (before, after))):
        pitches += _draw_panel(panel, score, side, chosen, colours, window)
        panel.axvspan(*region, color="gold", alpha=0.25, zorder=0, gid=EDIT_REGION)
        _bar_axis(panel, edges, lo_bar, hi_bar)
        panel.set_ylabel(f"{label}\nMIDI pitch")
    lo, hi = (min(pitches), max(pitches)) if pitches else (58, 62)
    for panel in axes:
        panel.set_xlim(*window)
        panel.set_ylim(lo - 2, hi + 2)
    axes[1].set_xlabel("bar")
    axes[0].set_title(title or f"bars {first}-{last} edited (shaded), {context_bars} bars of "
                      "context each side")
    handles = [plt.Line2D([], [], color=c, lw=6) for c in colours.values()]
    axes[0].legend(handles, list(colours), loc="upper left", bbox_to_anchor=(1.01, 1.0),
                   borderaxespad=0.0, fontsize="small", frameon=False)
    if path is not None:
        fig.savefig(Path(path), bbox_inches="tight")
        if ax is None:
            plt.close(fig)
    return axes[0], axes[1]


def _bar_range(bars, n_bars: int) -> tuple[int, int]:
    try:
        first, last = bars
    except (TypeError, ValueError):
        raise ArgumentError(f"must be (first, last), 1-based bar numbers, got {bars!r}",
                            "bars") from None
    first = checks.integer("bars", first, 1, n_bars)
    last = checks.integer("bars", last, first, n_bars)
    return first, last


def _chosen_tracks(before, after, tracks) -> list[tuple[str, int | None, int | None]]:
    """``(label, index in before, index in after)`` of each track to draw."""
    def key(track, i):
        return track.name.strip().lower() or f"#{i}"

    after_keys = [key(t, i) for i, t in enumerate(after.tracks)]
    rows, used = [], set()
    for i, t in enumerate(before.tracks):
        k = key(t, i)
        j = after_keys.index(k) if k in after_keys and k not in used else None
        used.add(k)
        rows.append((_track_label(t, i), i, j))
    rows += [(_track_label(t, j), None, j) for j, t in enumerate(after.tracks)
             if after_keys[j] not in used]
    if tracks is None:
        return rows
    names = [t.name.strip().lower() for t in before.tracks]
    want = []
    for x in [tracks] if isinstance(tracks, (str, int)) else tracks:
        if isinstance(x, int) and not isinstance(x, bool) and 0 <= x < len(names):
            want.append(x)
        elif isinstance(x, str) and x.strip().lower() in names:
            want.append(names.index(x.strip().lower()))
        else:
            raise ArgumentError(f"{x!r} is not a track of before (names {names} or indices "
                                f"0-{len(names) - 1})", "tracks")
    return [r for r in rows if r[1] in want]


def _track_colours(chosen) -> dict[str, tuple]:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10" if len(chosen) <= 10 else "tab20")
    return {label: cmap(k % cmap.N) for k, (label, _, _) in enumerate(chosen)}


def _draw_panel(ax, score, side: int, chosen, colours, window) -> list[int]:
    """Draw the chosen tracks' notes overlapping ``window`` (ticks) of ``score`` (``side`` 0:
    before, 1: after); the lowest and highest pitch drawn per track."""
    pitches = []
    for label, *index in chosen:
        k = index[side]
        if k is None:
            continue
        track = score.tracks[k]
        if track.note_num() == 0:
            continue
        n = track.notes.numpy()
        keep = (n["time"] < window[1]) & (n["time"] + n["duration"] > window[0])
        if not keep.any():
            continue
        _draw_notes(ax, n["time"][keep], np.maximum(n["duration"][keep], 1), n["pitch"][keep],
                    colours[label], track.is_drum, gid=label)
        pitches += [int(n["pitch"][keep].min()), int(n["pitch"][keep].max())]
    return pitches


def _bar_axis(ax, edges, lo_bar: int, hi_bar: int) -> None:
    """Bar lines and 1-based bar numbers at the bar starts of bars ``lo_bar..hi_bar``."""
    starts = edges[lo_bar:hi_bar + 1]
    for t in starts:
        ax.axvline(int(t), color="0.8", lw=0.6, zorder=0)
    every = max(1, int(np.ceil(len(starts) / 24)))
    shown = np.arange(lo_bar, hi_bar, every)
    ax.set_xticks([int(edges[b]) for b in shown], [str(b + 1) for b in shown])


def _two_axes(ax):
    try:
        axes = list(ax)
    except TypeError:
        axes = []
    if len(axes) != 2:
        raise ArgumentError("must be two matplotlib Axes (before, after), or None", "ax")
    return axes
