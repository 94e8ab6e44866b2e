"""Corpus pieces as audio, for training audio models: :func:`load_pieces` picks Scores from the
corpora (POP909, music21 collections) and :func:`render_pieces` renders each to a clip.

Pieces are spread evenly over a split (the first, the last and every n-th between), so a small
count still covers the whole collection; both functions skip what fails and go on.
"""

from __future__ import annotations

import numpy as np

from . import iter_scores
from .music21_corpus import piece_names
from .pop909 import Pop909

__all__ = ["load_pieces", "render_pieces"]


def _spread(items: list, n: int | None) -> list:
    """``n`` items evenly spread over ``items`` (all when None or larger)."""
    if n is None or n >= len(items):
        return list(items)
    idx = np.unique(np.linspace(0, len(items) - 1, max(int(n), 0)).round().astype(int))
    return [items[i] for i in idx]


def load_pieces(sources: dict, split: str = "train", *, failures: list | None = None,
                progress: bool = False) -> list[tuple[str, object]]:
    """``(name, Score)`` of ``sources`` (corpus -> number of pieces, evenly spread; None: all)
    in ``split``: ``'pop909'`` (names ``pop909:007``) or a collection of
    :mod:`symbolic.data.music21_corpus` (names as :func:`symbolic.load` takes them). Pieces
    that fail to load go to ``failures`` (:class:`symbolic.data.Failure`) and are skipped."""
    out = []
    for source, n in sources.items():
        if source == "pop909":
            pop = Pop909()
            for sid in _spread(pop.available(split), n):
                out.append((f"pop909:{sid:03d}", pop.score(sid)))
        else:
            names = _spread(list(piece_names(source, split)), n)
            out.extend(iter_scores(names, failures=failures, progress=progress, desc=source))
    return out


def render_pieces(scores, sample_rate: int, *, channels: int = 1, max_seconds: float | None,
                  backend: str = "synth", device="auto", progress: bool = False) -> list:
    """Each Score rendered on its own with :func:`symbolic.audio.render` (``[C, T]`` float32
    tensors on the CPU), at most ``max_seconds`` (None: whole), trailing silence (below 1e-4)
    cut; pieces that render to silence are dropped, so the list may be shorter."""
    import torch
    from tqdm.auto import tqdm

    from ..audio.rendering import render

    length = int(max_seconds * sample_rate) if max_seconds else None
    clips = []
    for score in tqdm(scores, desc="render", disable=not progress, unit="piece"):
        wav = render([score], sample_rate, backend=backend, length=length, channels=channels,
                     device=device)[0].float().cpu()
        loud = torch.nonzero(wav.abs().amax(0) > 1e-4)
        if len(loud):
            clips.append(wav[:, :int(loud[-1]) + 1].contiguous())
    return clips
