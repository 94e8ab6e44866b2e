"""Reversible codecs from ``symusic.Score`` to arrays and back.

Each module pairs ``encode(score, ...)`` with ``decode(x, ...) -> Score``:

- :mod:`~symbolic.representations.grid`: GETScore 2D token grids (tracks x time)
- :mod:`~symbolic.representations.leadsheet`: lead-sheet events (melody + chords, CM-HRNN)
- :mod:`~symbolic.representations.pianoroll`: piano-roll images (Pictures of MIDI)
- :mod:`~symbolic.representations.slices`: one-beat pitch-class slices (harmony embeddings)

All quantize to a :class:`~symbolic.representations.meter.MetricGrid` and carry a
:class:`~symbolic.representations.meter.ScoreMeta` so that decoding restores tempos and meter.
Every encode returns (or attaches) an :class:`EncodeReport` saying how many notes it kept
exactly, altered and dropped; ``strict=True`` raises :class:`~symbolic.errors.EncodeError`
instead of altering or dropping anything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import EncodeError

__all__ = ["EncodeReport"]


@dataclass
class EncodeReport:
    """Notes in, and what became of them, for one encode (or a sum over many).

    ``kept_exact``: decode gives the note back with the same pitch, onset and duration ticks
    (and velocity when the codec stores velocity: see ``fields``). ``altered``: decoded, but with
    some field changed (quantized onset or duration, a substituted chord stack, a binned
    velocity...). ``dropped``: not decoded at all. ``reasons`` counts notes per cause
    (a note may have several causes); ``fields`` names what "exact" compares.
    """

    notes_in: int = 0
    kept_exact: int = 0
    altered: int = 0
    dropped: int = 0
    reasons: Counter = field(default_factory=Counter)
    fields: tuple[str, ...] = ("pitch", "onset", "duration")

    def __post_init__(self):
        self.reasons = Counter(self.reasons)

    def __add__(self, other: "EncodeReport") -> "EncodeReport":
        return EncodeReport(self.notes_in + other.notes_in, self.kept_exact + other.kept_exact,
                            self.altered + other.altered, self.dropped + other.dropped,
                            self.reasons + other.reasons, self.fields)

    @property
    def lossless(self) -> bool:
        return self.altered == 0 and self.dropped == 0

    def check(self, strict: bool, source=None) -> "EncodeReport":
        """Raise :class:`EncodeError` when ``strict`` and anything was altered or dropped."""
        if strict and not self.lossless:
            causes = ", ".join(f"{k} {v}" for k, v in self.reasons.most_common())
            raise EncodeError(f"{self.altered} of {self.notes_in} notes altered and {self.dropped} "
                              f"dropped ({causes})", source)
        return self

    def __str__(self) -> str:
        pct = (lambda n: f"{100 * n / self.notes_in:.2f}%") if self.notes_in else (lambda n: "-")
        causes = ", ".join(f"{k}: {v}" for k, v in self.reasons.most_common())
        return (f"{self.notes_in} notes: {self.kept_exact} exact ({pct(self.kept_exact)}), "
                f"{self.altered} altered ({pct(self.altered)}), {self.dropped} dropped "
                f"({pct(self.dropped)})" + (f" [{causes}]" if causes else ""))
