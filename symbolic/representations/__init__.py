"""Reversible codecs from ``symusic.Score`` to arrays and back, all of one shape.

Every codec module has the same two functions::

    x = codec.encode(score, *, strict=False, source=None, **options)
    score = codec.decode(x)

- ``score`` is a :class:`symusic.Score` (tick time, except where a codec says otherwise), always
  the first and only positional argument; every option is keyword-only.
- ``x`` is the codec's own result object, and ``x.report`` is the shared :class:`EncodeReport`:
  how many notes the encoding kept exactly, altered and dropped, and why.
- ``source`` names the input (a path, ``corpus:NAME``...) in the report's text and in errors.
- ``strict=True`` raises :class:`~symbolic.errors.EncodeError` (naming ``source``) instead of
  altering or dropping any note; by default the loss is only counted.
- ``decode(x)`` gives the score back (decoding options, if any, are keyword-only too).

=============================================  =====================  ============================
module                                         result (``x``)         for
=============================================  =====================  ============================
:mod:`~symbolic.representations.grid`          ``Grid``               GETScore 2D token grids
:mod:`~symbolic.representations.leadsheet`     ``Events``             lead-sheet events (CM-HRNN)
:mod:`~symbolic.representations.pianoroll`     ``PianoRoll``          piano-roll images (PoM)
:mod:`~symbolic.representations.slices`        ``Slices``             pitch-class slices
:mod:`~symbolic.representations.tokens`        ``TokenSequence``      miditok token ids
=============================================  =====================  ============================

Grid, lead-sheet, piano-roll and slice codecs quantize to a
:class:`~symbolic.timeline.MetricGrid` and carry a :class:`~symbolic.timeline.ScoreMeta` so
that decoding restores tempos and meter; token sequences carry their tokenizer, which decodes
at its own resolution. Each module's docstring states what its encoding loses.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import EncodeError, source_name

__all__ = ["EncodeReport"]


@dataclass
class EncodeReport:
    """Notes in, and what became of them, for one encode (or a sum over many).

    ``kept_exact``: decode gives the note back with the same pitch, onset and duration ticks
    (and velocity when the codec stores velocity: see ``fields``). ``altered``: decoded, but with
    some field changed (quantized onset or duration, a substituted chord stack, a binned
    velocity...). ``dropped``: not decoded at all. ``reasons`` counts notes per cause
    (a note may have several causes); ``fields`` names what "exact" compares. ``source`` names
    the input (None: unnamed; a sum over several inputs keeps it only when they all agree).
    """

    notes_in: int = 0
    kept_exact: int = 0
    altered: int = 0
    dropped: int = 0
    reasons: Counter = field(default_factory=Counter)
    fields: tuple[str, ...] = ("pitch", "onset", "duration")
    source: object = None

    def __post_init__(self):
        self.reasons = Counter(self.reasons)

    def __add__(self, other: "EncodeReport") -> "EncodeReport":
        return EncodeReport(self.notes_in + other.notes_in, self.kept_exact + other.kept_exact,
                            self.altered + other.altered, self.dropped + other.dropped,
                            self.reasons + other.reasons, self.fields,
                            self.source if self.source == other.source else None)

    @property
    def lossless(self) -> bool:
        return self.altered == 0 and self.dropped == 0

    def check(self, strict: bool, source=None) -> "EncodeReport":
        """Raise :class:`EncodeError` (naming ``source``, default the report's own) when
        ``strict`` and anything was altered or dropped."""
        if source is None:
            source = self.source
        if strict and not self.lossless:
            causes = ", ".join(f"{k} {v}" for k, v in self.reasons.most_common())
            raise EncodeError(f"{self.altered} of {self.notes_in} notes altered and {self.dropped} "
                              f"dropped ({causes})", source)
        return self

    def __str__(self) -> str:
        pct = (lambda n: f"{100 * n / self.notes_in:.2f}%") if self.notes_in else (lambda n: "-")
        causes = ", ".join(f"{k}: {v}" for k, v in self.reasons.most_common())
        named = f"{source_name(self.source)}: " if self.source is not None else ""
        return (f"{named}{self.notes_in} notes: {self.kept_exact} exact "
                f"({pct(self.kept_exact)}), {self.altered} altered ({pct(self.altered)}), "
                f"{self.dropped} dropped ({pct(self.dropped)})"
                + (f" [{causes}]" if causes else ""))
