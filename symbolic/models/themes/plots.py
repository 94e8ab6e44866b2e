"""Where each cluster of two-bar melody segments recurs along a song (a
:class:`~.retrieve.ThemeResult`): bars on x, one row per cluster, the theme's row marked."""

from __future__ import annotations

from pathlib import Path

from .retrieve import ThemeResult
from .segments import SEGMENT_BARS

__all__ = ["plot_themes"]


def plot_themes(result: ThemeResult, *, path=None, ax=None, title: str | None = None,
                dpi: int = 120):
    """Draw every cluster's segments as spans of two bars (x: bars, 1-based; y: cluster),
    the theme's cluster in red with its region shaded. Writes a PNG when ``path`` is given;
    returns the matplotlib Axes."""
    import matplotlib

    if ax is None and path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    own = ax is None
    if own:
        height = 1.5 + 0.28 * max(len(result.clusters), 1)
        fig, ax = plt.subplots(figsize=(12, min(height, 12)), dpi=dpi)
    for first, last in result.regions:
        ax.axvspan(first, last + 1, color="tab:red", alpha=0.12, lw=0)
    for k, bars in enumerate(result.clusters):
        colour = "tab:red" if k == result.theme else "tab:blue"
        ax.broken_barh([(b, SEGMENT_BARS) for b in bars], (k - 0.35, 0.7), color=colour,
                       alpha=0.75, edgecolor="white", linewidth=0.5)
    ax.set_xlim(1, result.n_bars + 1)
    ax.set_ylim(len(result.clusters) - 0.5, -0.5)
    ax.set_yticks(range(len(result.clusters)))
    ax.set_yticklabels([f"{k}{' (theme)' if k == result.theme else ''}"
                        for k in range(len(result.clusters))], fontsize="small")
    ax.set_xlabel("bar")
    ax.set_ylabel("cluster")
    ax.set_title(title or f"{len(result.clusters)} clusters of two-bar melody segments; "
                          f"theme: bars {_regions(result)}")
    if own:
        _write(fig, path)
    return ax


def _write(fig, path) -> None:
    """Lay out a figure this module made; save it to ``path`` (and free it) when given."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    if path is None:
        return
    fig.savefig(Path(path))
    plt.close(fig)


def _regions(result: ThemeResult) -> str:
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in result.regions) or "none"
