"""Plots of the embedding for notebooks and the CLI (matplotlib, imported on first use):
triads in a PCA plane with the circle of fifths, distances between the 24 keys, and tables of
nearest neighbours. Each draws on ``ax`` (or a new figure), writes a PNG at ``path`` when
given, and returns the Axes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...harmony import Chord
from .model import Harmony2Vec
from .probes import KEY_ORDER, unit_vectors
from .vocab import rows_of

__all__ = ["plot_triads", "plot_key_distances", "plot_neighbours"]


def _figure(ax, size):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax, True
    return ax.figure, ax, False


def _finish(fig, own: bool, path) -> None:
    if own:
        fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path), dpi=120)
        if own:
            import matplotlib.pyplot as plt

            plt.close(fig)


def _fifths_colour(root: int):
    import matplotlib.pyplot as plt

    return plt.get_cmap("hsv")((7 * root % 12) / 12.0)


def plot_triads(model: Harmony2Vec, *, qualities=("maj", "min"), components=(0, 1), ax=None,
                path=None, title: str | None = None):
    """2-D PCA projection of the triads, coloured by root (hue follows the circle of fifths),
    with each quality's triads joined in circle-of-fifths order (C G D A E B F# ...).
    Markers: major o, minor s, diminished ^, augmented D. Returns the Axes (PNG at ``path``)."""
    fig, ax, own = _figure(ax, (7, 6.5))
    masks = model.vocab_masks
    chords = [Chord(r, q) for q in qualities for r in range(12)]
    have = [c for c in chords if c.mask in set(masks.tolist())]
    v = model.vectors()[rows_of(masks, [c.mask for c in have])]
    centred = v - v.mean(axis=0)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[list(components)].T
    share = (sv ** 2) / max((sv ** 2).sum(), 1e-12)
    marker = {"maj": "o", "min": "s", "dim": "^", "aug": "D"}
    pos = {(c.root, c.quality): xy[k] for k, c in enumerate(have)}
    for q in qualities:
        ring = [pos[(7 * i % 12, q)] for i in range(13) if (7 * i % 12, q) in pos]
        if len(ring) > 2:
            ring = np.array(ring)
            ax.plot(ring[:, 0], ring[:, 1], color="0.6", lw=0.9,
                    ls="-" if q == "maj" else "--", zorder=1,
                    label=f"{q} triads in circle-of-fifths order")
    for k, c in enumerate(have):
        ax.scatter(*xy[k], color=_fifths_colour(c.root), marker=marker.get(c.quality, "o"),
                   s=90, edgecolor="k", lw=0.6, zorder=2)
        ax.annotate(str(c), xy[k], textcoords="offset points", xytext=(6, 5), fontsize=9)
    ax.set_xlabel(f"PC{components[0] + 1} ({100 * share[components[0]]:.0f}% of variance)")
    ax.set_ylabel(f"PC{components[1] + 1} ({100 * share[components[1]]:.0f}% of variance)")
    ax.set_title(title or "Triads in the embedding (PCA); colour = root on the circle of fifths")
    ax.legend(loc="best", fontsize="small")
    ax.set_aspect("equal", adjustable="datalim")
    _finish(fig, own, path)
    return ax


def plot_key_distances(model_or_vectors, *, ax=None, path=None, title: str | None = None):
    """Heat map of the cosine distance between the 24 key vectors, keys along the circle of
    fifths (:data:`KEY_ORDER`: majors, then their relative minors). Takes a model or a
    ``[24, D]`` array in :attr:`Key.index` order. Returns the Axes."""
    kv = (model_or_vectors.key_vectors() if isinstance(model_or_vectors, Harmony2Vec)
          else np.asarray(model_or_vectors))
    order = [k.index for k in KEY_ORDER]
    v = unit_vectors(kv[order])
    dist = 1.0 - v @ v.T
    fig, ax, own = _figure(ax, (8, 7))
    im = ax.imshow(dist, cmap="viridis")
    labels = [str(k) for k in KEY_ORDER]
    ax.set_xticks(range(24), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(24), labels, fontsize=8)
    ax.axhline(11.5, color="w", lw=0.8)
    ax.axvline(11.5, color="w", lw=0.8)
    fig.colorbar(im, ax=ax, shrink=0.8, label="cosine distance")
    ax.set_title(title or "Distance between keys (circle-of-fifths order)")
    _finish(fig, own, path)
    return ax


def plot_neighbours(model: Harmony2Vec, chords=("C:maj", "G:maj", "F:maj", "A:min", "D:min",
                                                "G:7"), *, topn: int = 5, among="chords",
                    ax=None, path=None, title: str | None = None):
    """A table of each chord's ``topn`` nearest neighbours (label and cosine). Returns Axes."""
    rows = [[f"{n.label}  {n.similarity:.2f}" for n in model.similar(c, topn, among)]
            for c in chords]
    fig, ax, own = _figure(ax, (2.0 + 1.9 * topn, 0.6 + 0.45 * len(rows)))
    ax.axis("off")
    table = ax.table(cellText=rows, rowLabels=[str(c) for c in chords],
                     colLabels=[f"#{k + 1}" for k in range(topn)], loc="center",
                     cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.4)
    ax.set_title(title or f"Nearest neighbours ({among})")
    _finish(fig, own, path)
    return ax
