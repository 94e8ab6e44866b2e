"""Training masks for HDiT inpainting: bool ``[128, W]`` arrays (True: pixels to fill), drawn
on the unfolded window (pitch rows x 16th-note steps) and folded with the image where the
model works on folded images.

The mix (:data:`MASK_MIX`), per window: ``strokes`` (0.35): one to four brush strokes, each a
random walk of 2-8 segments with a round brush of radius 2-10 pixels, as a user paints on
the picture; ``rectangle`` (0.35): a span of whole bars of the window (not all of them) times
a pitch range of 6-48 semitones, as ``--bars 9-12 --pitches 60-84`` asks; ``bars`` (0.1): a
span of whole bars at every pitch; ``whole`` (0.2): the whole image, nothing known
(unconditional generation). Pictures of MIDI's "none" (no inpainting input) is the same input
to this model as ``whole`` (no known pixel, the mask everywhere), so it is counted there.
"""

from __future__ import annotations

import numpy as np

from ...representations.pianoroll import PITCHES

__all__ = ["MASK_MIX", "training_mask", "stroke_mask", "rectangle_mask", "bar_span"]

MASK_MIX = {"strokes": 0.35, "rectangle": 0.35, "bars": 0.1, "whole": 0.2}


def stroke_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One to four brush strokes: random walks of 2-8 segments (each up to a quarter of the
    image's larger side), stamped with a disc of radius 2-10 pixels every pixel along."""
    mask = np.zeros((height, width), bool)
    rows, cols = np.arange(height)[:, None], np.arange(width)[None, :]
    for _ in range(int(rng.integers(1, 5))):
        radius = float(rng.uniform(2, 10))
        point = rng.uniform([0, 0], [height, width])
        for _ in range(int(rng.integers(2, 9))):
            step = rng.normal(size=2) * max(height, width) / 8
            end = np.clip(point + step, 0, [height - 1, width - 1])
            n = int(np.ceil(np.abs(end - point).max())) + 1
            for r, c in np.linspace(point, end, n):  # a few dozen stamps per segment
                r0, r1 = int(max(r - radius, 0)), int(min(r + radius + 1, height))
                c0, c1 = int(max(c - radius, 0)), int(min(c + radius + 1, width))
                mask[r0:r1, c0:c1] |= ((rows[r0:r1] - r) ** 2 + (cols[:, c0:c1] - c) ** 2
                                       <= radius ** 2)
            point = end
    return mask


def bar_span(rng: np.random.Generator, bars: np.ndarray, width: int) -> tuple[int, int]:
    """Steps ``(a, b)`` of a random span of whole bars of the window (``bars``: first step of
    each bar inside it, then its end), not all of them when there are several; a quarter to
    three quarters of the window when it has fewer than two bars."""
    first = np.unique(np.clip(np.append(bars, width), 0, width))
    if len(first) < 3:
        a = int(rng.integers(0, width // 2))
        return a, a + int(rng.integers(width // 4, width // 2 + 1))
    nb = len(first) - 1
    a = int(rng.integers(nb))
    b = int(rng.integers(a + 1, nb + 1))
    if b - a == nb:
        b -= 1 if rng.random() < 0.5 else 0
        a += 1 if b == nb else 0
    return int(first[a]), int(first[b])


def rectangle_mask(rng: np.random.Generator, bars: np.ndarray, width: int, *,
                   all_pitches: bool = False) -> np.ndarray:
    """Whole bars of the window (:func:`bar_span`) times a pitch range of 6-48 semitones with
    its lowest pitch in 24-96 (every pitch with ``all_pitches``)."""
    a, b = bar_span(rng, bars, width)
    mask = np.zeros((PITCHES, width), bool)
    if all_pitches:
        mask[:, a:b] = True
        return mask
    lo = int(rng.integers(24, 97))
    hi = min(lo + int(rng.integers(6, 49)), PITCHES - 1)
    mask[PITCHES - 1 - hi:PITCHES - lo, a:b] = True
    return mask


def training_mask(rng: np.random.Generator, bars: np.ndarray, width: int,
                  kind: str | None = None) -> np.ndarray:
    """bool ``[128, width]`` of one kind of :data:`MASK_MIX` (``kind`` None: drawn by the mix);
    ``bars``: first step of each bar of the window, relative to its start."""
    if kind is None:
        kind = str(rng.choice(list(MASK_MIX), p=list(MASK_MIX.values())))
    if kind == "strokes":
        mask = stroke_mask(rng, PITCHES, width)
        return mask if mask.any() else np.ones((PITCHES, width), bool)
    if kind in ("rectangle", "bars"):
        return rectangle_mask(rng, bars, width, all_pitches=kind == "bars")
    if kind == "whole":
        return np.ones((PITCHES, width), bool)
    raise ValueError(f"unknown mask kind {kind!r}; choose from {', '.join(MASK_MIX)}")
