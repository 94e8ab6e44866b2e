"""A new piece from a theme: :func:`develop_theme` (a theme in, a :class:`Development` out: the
Score and the bars where the model placed the theme) and :func:`plot_development`.

**Sampling.** The theme's events (:mod:`symbolic.representations.theme_events`, its bars
marked as one theme region) are the opening of the piece: the model reads them (teacher
forcing) and continues one event at a time, nucleus sampling at ``temperature`` (1.2) and
``top_p`` (0.9), the paper's values (:func:`symbolic.models.sampling.categorical`). The
seq2seq model also reads the theme through its encoder; the decoder-only baseline only has
it as that opening. Where the theme recurs is the model's own choice: its ``Theme_Start`` /
``Theme_End`` events switch the gates as they are drawn. Three rules keep the events
well formed: no ``PAD``, ``BOS`` or ``EOS`` is drawn (the piece ends after ``bars`` bars),
no ``Theme_Start`` inside a region and no ``Theme_End`` outside one. Self-attention sees the
last ``window`` events (a sliding cache: rotary positions are relative).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import symusic
import torch

from ... import checks
from ...errors import ArgumentError, EmptyScoreError, InputTooLargeError
from ...io import score_with_bars
from ...representations import theme_events as te
from ..sampling import categorical
from ..themes import runs
from .model import ThemeTransformer, load

__all__ = ["Development", "develop_theme", "theme_events_of", "sample", "plot_development",
           "MAX_THEME_BARS", "MAX_PIECE_BARS"]

#: Longest theme read (bars).
MAX_THEME_BARS = 8
#: Most bars one call writes.
MAX_PIECE_BARS = 256
#: Most events per bar before generation gives up on a bar (a runaway sample).
_MAX_EVENTS_PER_BAR = 400


@dataclass
class Development:
    """What :func:`develop_theme` wrote. ``score``: the piece (4/4, 480 ticks per quarter,
    tracks MELODY, BRIDGE, PIANO), its first ``theme_bars_given`` bars the theme;
    ``regions``: ``(first, last)`` 1-based bars inside the model's ``Theme_Start`` ...
    ``Theme_End`` events, the opening included; ``theme_bars``: the same as a sorted list;
    ``ids``: the event ids; ``settings``: the call's options."""

    score: symusic.Score
    regions: list
    theme_bars: list
    theme_bars_given: int
    ids: np.ndarray
    settings: dict = field(default_factory=dict)

    def recurrences(self) -> list:
        """Regions after the opening (where the model brought the theme back)."""
        return [r for r in self.regions if r[0] > self.theme_bars_given]

    def summary(self) -> str:
        text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in self.regions) or "none"
        return (f"{self.settings.get('bars')} bars ({self.theme_bars_given} of theme given); "
                f"theme regions: {text}; {len(self.recurrences())} recurrences")


def _theme_span(score: symusic.Score, bar_ticks, bars) -> tuple[int, int]:
    """``(first, last)`` 1-based bars of the theme: ``bars`` checked, or the bars from the
    first note's to the last note's."""
    notes, info = te.note_table(score, bar_ticks)
    if bars is not None:
        if not isinstance(bars, (tuple, list)) or len(bars) != 2:
            raise ArgumentError(f"theme bars must be (first, last), got {bars!r}", "theme")
        first = checks.integer("theme bars", bars[0], 1, info["n_bars"])
        last = checks.integer("theme bars", bars[1], first, info["n_bars"])
        lo, hi = (first - 1) * te.STEPS_PER_BAR, last * te.STEPS_PER_BAR
        notes = notes[(notes[:, 1] >= lo) & (notes[:, 1] < hi)]
    if len(notes) == 0:
        raise EmptyScoreError("the theme holds no notes (MELODY, BRIDGE or PIANO, pitches "
                              "21-108)", "theme")
    if bars is None:
        first, last = notes[0, 1] // te.STEPS_PER_BAR + 1, notes[:, 1].max() // te.STEPS_PER_BAR + 1
    if last - first + 1 > MAX_THEME_BARS:
        raise InputTooLargeError(f"the theme spans {last - first + 1} bars; at most "
                                 f"{MAX_THEME_BARS} (pass (score, (first, last)))", "theme")
    return int(first), int(last)


def theme_events_of(theme) -> np.ndarray:
    """The theme's events ``Theme_Start ... Theme_End`` of ``theme``: a Score, a POP909 song,
    anything :func:`symbolic.load` reads, or ``(one of those, (first, last))`` for those
    bars (1-based; a POP909 song's annotated bars). At most :data:`MAX_THEME_BARS` bars."""
    bars = None
    if isinstance(theme, tuple):
        if len(theme) != 2:
            raise ArgumentError("a pair (score, (first, last)) or a score", "theme")
        theme, bars = theme
    score, bar_ticks = score_with_bars(theme, name="theme")
    first, last = _theme_span(score, bar_ticks, bars)
    enc = te.encode(score, bar_ticks, [(first, last)], bars=(first, last))
    return enc.ids[1:-1]


def _allowed(inside: bool) -> torch.Tensor:
    bad = torch.zeros(len(te.VOCAB), dtype=torch.bool)
    bad[[te.PAD, te.BOS, te.EOS]] = True
    bad[te.THEME_START if inside else te.THEME_END] = True
    return bad


@torch.no_grad()
def sample(model: ThemeTransformer, theme_ids: np.ndarray, bars: int, *, temperature: float,
           top_p: float, seed: int = 0) -> np.ndarray:
    """Event ids of a piece of ``bars`` bars opening with ``theme_ids`` (see the module
    docstring); ``BOS`` first, ``EOS`` last."""
    dev = next(model.parameters()).device
    window = int(model.settings.get("window", 512))
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    memory = None
    if not model.decoder_only:
        cut = theme_ids[:int(model.settings.get("max_theme", 256))]
        memory = model.encode_theme(torch.as_tensor(cut, device=dev)[None])
    ids = [te.BOS] + [int(t) for t in theme_ids]
    caches = [{} for _ in model.layers]
    pos = te.theme_positions(np.array(ids))
    logits = model.decode(torch.as_tensor(ids, device=dev)[None],
                          torch.as_tensor(pos, device=dev)[None], memory, caches)[0, -1]
    inside, tpos, n_bars = False, 0, int((np.array(ids) == te.BAR).sum())
    while len(ids) < bars * _MAX_EVENTS_PER_BAR:
        masked = logits.float().cpu().masked_fill(_allowed(inside), -float("inf"))
        tok = int(categorical(masked[None], temperature, top_p, generator=gen)[0])
        if tok == te.BAR and n_bars >= bars:
            break
        n_bars += tok == te.BAR
        inside = (inside or tok == te.THEME_START) and tok != te.THEME_END
        tpos = 1 if tok == te.THEME_START else (tpos + 1 if inside else 0)
        ids.append(tok)
        logits = model.decode(torch.tensor([[tok]], device=dev),
                              torch.tensor([[tpos]], device=dev), memory, caches,
                              start=len(ids) - 1)[0, -1]
        for c in caches:  # the sliding window of self-attention
            if c["k"].shape[1] > window:
                c["k"], c["v"] = c["k"][:, -window:], c["v"][:, -window:]
    if inside:
        ids.append(te.THEME_END)
    return np.array(ids + [te.EOS], dtype=np.int64)


def develop_theme(theme, bars: int = 32, *, seed: int = 0, temperature: float = 1.2,
                  top_p: float = 0.9, model=None, decoder_only: bool = False,
                  device: str = "auto") -> Development:
    """A piece of ``bars`` bars (4/4) that opens with ``theme`` and develops it: ``theme`` a
    MIDI path, a Score, a POP909 song, or ``(score_or_song, (first, last))`` meaning those
    bars (1-based; at most :data:`MAX_THEME_BARS`). ``model``: a
    :class:`~.model.ThemeTransformer` or what :func:`~.model.load` takes (default the shipped
    ``theme-transformer``; ``decoder_only=True``: the shipped prompt baseline
    ``theme-decoder``). Returns a :class:`Development` with the Score and the bars where the
    model placed the theme. Bad arguments raise :class:`~symbolic.errors.ArgumentError`
    (an empty theme :class:`~symbolic.errors.EmptyScoreError`, one too long
    :class:`~symbolic.errors.InputTooLargeError`) before any model loads."""
    temperature = checks.number("temperature", temperature, 0.0, 10.0)
    top_p = checks.number("top_p", top_p, 0.0, 1.0, low_open=True)
    seed = checks.integer("seed", seed, 0)
    theme_ids = theme_events_of(theme)
    given = int((theme_ids == te.BAR).sum())
    bars = checks.integer("bars", bars, given + 1, MAX_PIECE_BARS)
    if not isinstance(model, ThemeTransformer):
        model = load(model, device, decoder_only=decoder_only)
    ids = sample(model, theme_ids, bars, temperature=temperature, top_p=top_p, seed=seed)
    found = te.theme_bars_of(ids)
    return Development(score=te.decode(ids), regions=runs(found), theme_bars=found,
                       theme_bars_given=given, ids=ids,
                       settings={"bars": bars, "seed": seed, "temperature": temperature,
                                 "top_p": top_p, "decoder_only": model.decoder_only})


def plot_development(result: Development, *, path=None, ax=None, title: str | None = None,
                     dpi: int = 120):
    """The piece's piano roll (:func:`symbolic.plot.plot_pianoroll`) with the theme regions
    shaded (the given opening in grey, the model's recurrences in red). Writes a PNG when
    ``path`` is given; returns the matplotlib Axes."""
    import matplotlib

    if ax is None and path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ...plot import plot_pianoroll

    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(14, 4.5), dpi=dpi)
    plot_pianoroll(result.score, ax=ax, title=title or result.summary())
    for first, last in result.regions:
        colour = "0.5" if first <= result.theme_bars_given else "tab:red"
        ax.axvspan(4 * (first - 1), 4 * last, color=colour, alpha=0.15, lw=0)
    if own:
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
            plt.close(fig)
    return ax
