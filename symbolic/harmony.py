"""Chord labels, chord recognition and key estimation on ``symusic.Score`` objects.

Three parts, joined by plain data:

- :class:`Chord` is one chord label: root and bass as pitch classes (0 = C ... 11 = B) and a
  quality from :data:`QUALITIES`. :meth:`Chord.parse` reads Harte / POP909 labels
  (``F#:min7``, ``C:maj/3``, ``A:sus4(b7)``, ``N``), common lead-sheet symbols (``Am``,
  ``Bbmaj7``, ``C/E``, ``Cm7b5``, ``C°``) and music21 chord symbols (strings such as ``B-m7`` or
  ``music21.harmony.ChordSymbol`` objects). Reductions map a chord to the 49 classes of CM-HRNN
  (:meth:`Chord.reduce_cmhrnn`) and to GETMusic's 12 roots x 8 qualities
  (:meth:`Chord.reduce_getmusic`).
- :func:`recognize_chords` labels a score segment by segment (beats, half bars or bars, in
  ticks) from duration-weighted pitch-class profiles with extra weight on the bass, chord
  templates, and a Viterbi pass over a "stay or change" transition prior. It returns a
  :class:`ChordSequence` (start/end ticks + chords).
- :func:`estimate_key` / :func:`estimate_keys` fit key profiles (Krumhansl-Kessler,
  Temperley-Kostka-Payne or Albrecht-Shanahan) to pitch-class histograms, for a whole score or
  bar by bar with a switching penalty. They return :class:`Key` / :class:`KeySequence`.

Units: every time is in ticks of the score (``score.ticks_per_quarter`` per quarter note); pitch
classes are integers 0-11. All per-note work is vectorized over ``track.notes.numpy()`` arrays.

What is lost: a :class:`Chord` keeps pitch classes, not spellings (``C#`` and ``Db`` are the
same root), and qualities outside :data:`QUALITIES` are reduced to the nearest one when parsed
(``C:maj(#11)`` -> ``C:maj``; ``C:min11`` -> ``C:min9``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import symusic

from .errors import ChordLabelError, EmptyScoreError, ParseError
from .timeline import bar_lines, beat_lines, meter_changes, meter_span_end, require_tick

__all__ = [
    "Chord",
    "ChordSequence",
    "Key",
    "KeySequence",
    "QUALITIES",
    "VOCABULARIES",
    "KEY_PROFILES",
    "CMHRNN_QUALITIES",
    "GETMUSIC_QUALITIES",
    "NO_CHORD",
    "PITCH_NAMES",
    "KEY_NAMES",
    "MINOR_KEY_NAMES",
    "parse_chords",
    "cmhrnn_indices",
    "chord_masks",
    "nearest_quality",
    "beat_grid",
    "segment_boundaries",
    "pitch_class_profiles",
    "chord_scores",
    "label_segments",
    "recognize_chords",
    "key_scores",
    "estimate_key",
    "estimate_keys",
    "chords_from_markers",
    "MARKER_PREFIX",
]

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

#: Root spellings used when writing labels (POP909's choice for chords).
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: Marker text that carries a chord label in a score (``chord:C:maj``), as compose writes it.
MARKER_PREFIX = "chord:"
#: Tonic spellings used when writing keys: major keys as POP909 writes them (flats), minor keys
#: as usual (F#:min rather than POP909's Gb:min; both parse to the same key).
KEY_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
MINOR_KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

#: Canonical qualities: semitones above the root (pitch classes relative to the root).
QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "minmaj7": (0, 3, 7, 11),
    "dim7": (0, 3, 6, 9),
    "hdim7": (0, 3, 6, 10),
    "aug7": (0, 4, 8, 10),
    "maj6": (0, 4, 7, 9),
    "min6": (0, 3, 7, 9),
    "9": (0, 2, 4, 7, 10),
    "maj9": (0, 2, 4, 7, 11),
    "min9": (0, 2, 3, 7, 10),
    "add9": (0, 2, 4, 7),
    "11": (0, 2, 4, 5, 7, 10),
    "13": (0, 2, 4, 5, 7, 9, 10),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "7sus4": (0, 5, 7, 10),
    "5": (0, 7),
    "1": (0,),
}
_BY_INTERVALS = {frozenset(v): k for k, v in QUALITIES.items()}

#: Named quality sets :func:`recognize_chords` can choose from.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "majmin": ("maj", "min"),
    "cmhrnn": ("maj", "min", "7", "dim"),
    "getmusic": ("maj", "min", "aug", "dim", "7", "maj7", "min7", "hdim7"),
    # The qualities POP909's annotations use (sus2 and sus4 included: pop writes them often).
    "full": ("maj", "min", "7", "maj7", "min7", "dim", "dim7", "hdim7", "aug",
             "sus2", "sus4", "7sus4", "maj6", "min6", "minmaj7"),
}

# Harte shorthands for qualities; the ones Harte has no shorthand for use degree lists.
_HARTE = {q: q for q in QUALITIES}
_HARTE.update({"7sus4": "sus4(b7)", "add9": "maj(9)", "aug7": "aug(b7)", "5": "(1,5)", "1": "(1)"})
# Harte shorthands outside the vocabulary: parsed as their nearest canonical quality.
_HARTE_ALIASES = {"maj11": "maj9", "maj13": "maj9", "min11": "min9", "min13": "min9",
                  "hdim": "hdim7", "dom7": "7"}

# Readable symbols (``__str__``); each one parses back to the same quality.
_SYMBOL = {
    "maj": "", "min": "m", "dim": "dim", "aug": "aug", "7": "7", "maj7": "maj7", "min7": "m7",
    "minmaj7": "mM7", "dim7": "dim7", "hdim7": "m7b5", "aug7": "aug7", "maj6": "6", "min6": "m6",
    "9": "9", "maj9": "maj9", "min9": "m9", "add9": "add9", "11": "11", "13": "13",
    "sus2": "sus2", "sus4": "sus4", "7sus4": "7sus4", "5": "5", "1": "1",
}
# Lead-sheet suffixes (case matters: ``M7`` is maj7, ``m7`` is min7).
_SUFFIXES: dict[str, str] = {s: q for q, s in _SYMBOL.items()}
_SUFFIXES.update({q: q for q in QUALITIES if q != "1"})
_SUFFIXES.update({
    "M": "maj", "major": "maj", "Maj": "maj",
    "mi": "min", "minor": "min", "min": "min",
    "dom7": "7", "dom": "7",
    "M7": "maj7", "Maj7": "maj7", "ma7": "maj7", "Δ": "maj7", "Δ7": "maj7", "^7": "maj7",
    "mi7": "min7", "min7": "min7",
    "mMaj7": "minmaj7", "mmaj7": "minmaj7", "m(maj7)": "minmaj7", "m(M7)": "minmaj7",
    "mΔ7": "minmaj7",
    "°": "dim", "o": "dim", "dim": "dim",
    "°7": "dim7", "o7": "dim7",
    "ø": "hdim7", "ø7": "hdim7", "m7(b5)": "hdim7", "min7b5": "hdim7", "m7-5": "hdim7",
    "hdim": "hdim7",
    "+": "aug", "augmented": "aug",
    "+7": "aug7", "7+": "aug7", "7#5": "aug7", "7(#5)": "aug7", "7+5": "aug7",
    "M6": "maj6", "maj6": "maj6",
    "min6": "min6",
    "M9": "maj9", "Maj9": "maj9", "mi9": "min9", "min9": "min9", "dom9": "9",
    "add2": "add9", "(add9)": "add9", "2": "add9",
    "sus": "sus4", "7sus": "7sus4", "sus4(b7)": "7sus4", "7(sus4)": "7sus4",
    "power": "5",
})

# music21 ``ChordSymbol.chordKind`` -> canonical quality (used when the pitches match nothing).
_M21_KINDS = {
    "major": "maj", "minor": "min", "augmented": "aug", "diminished": "dim",
    "dominant-seventh": "7", "major-seventh": "maj7", "minor-major-seventh": "minmaj7",
    "minor-seventh": "min7", "augmented-major-seventh": "aug", "augmented-seventh": "aug7",
    "half-diminished-seventh": "hdim7", "diminished-seventh": "dim7", "seventh-flat-five": "7",
    "major-sixth": "maj6", "minor-sixth": "min6", "major-ninth": "maj9", "dominant-ninth": "9",
    "minor-major-ninth": "minmaj7", "minor-ninth": "min9", "augmented-major-ninth": "aug",
    "augmented-dominant-ninth": "aug7", "half-diminished-ninth": "hdim7",
    "half-diminished-minor-ninth": "hdim7", "diminished-ninth": "dim7",
    "diminished-minor-ninth": "dim7", "dominant-11th": "11", "major-11th": "maj9",
    "minor-major-11th": "minmaj7", "minor-11th": "min9", "augmented-major-11th": "aug",
    "augmented-11th": "aug7", "half-diminished-11th": "hdim7", "diminished-11th": "dim7",
    "major-13th": "maj9", "dominant-13th": "13", "minor-major-13th": "minmaj7",
    "minor-13th": "min9", "augmented-major-13th": "aug", "augmented-dominant-13th": "aug7",
    "half-diminished-13th": "hdim7", "suspended-second": "sus2", "suspended-fourth": "sus4",
    "suspended-fourth-seventh": "7sus4", "power": "5", "pedal": "1",
}

#: CM-HRNN's four qualities; ``reduce_cmhrnn`` index = 1 + root * 4 + position here.
CMHRNN_QUALITIES = ("maj", "min", "7", "dim")
# Every canonical quality -> CM-HRNN quality. Why: the third decides major vs minor; a minor
# seventh on a major triad makes a dominant; a diminished fifth makes "dim".
_TO_CMHRNN = {
    "maj": "maj", "maj7": "maj", "maj6": "maj", "maj9": "maj", "add9": "maj",
    "aug": "maj",     # no augmented class: the major third decides
    "sus2": "maj", "sus4": "maj", "5": "maj", "1": "maj",  # no third: major by convention
    "min": "min", "min7": "min", "min6": "min", "min9": "min", "minmaj7": "min",
    "7": "7", "9": "7", "11": "7", "13": "7", "aug7": "7",
    "7sus4": "7",     # dominant function (V7sus4 resolves like V7)
    "dim": "dim", "dim7": "dim", "hdim7": "dim",
}
#: GETMusic's eight chord qualities.
GETMUSIC_QUALITIES = ("maj", "m", "+", "dim", "7", "maj7", "m7", "m7b5")
_TO_GETMUSIC = {
    "maj": "maj", "maj6": "maj", "add9": "maj", "sus2": "maj", "sus4": "maj", "5": "maj",
    "1": "maj",
    "min": "m", "min6": "m",
    "minmaj7": "m",   # closer to a minor triad than to a minor seventh chord
    "aug": "+",
    "dim": "dim", "dim7": "dim",
    "7": "7", "9": "7", "11": "7", "13": "7", "7sus4": "7", "aug7": "7",
    "maj7": "maj7", "maj9": "maj7",
    "min7": "m7", "min9": "m7",
    "hdim7": "m7b5",
}
# Third-based maj/min class, used by metrics (``Chord.majmin``).
_MINOR_THIRD = {"min", "min7", "min6", "min9", "minmaj7", "dim", "dim7", "hdim7"}

_DEGREE_SEMITONES = (0, 2, 4, 5, 7, 9, 11)
_DEGREE_NAMES = {0: "1", 1: "b2", 2: "2", 3: "b3", 4: "3", 5: "4", 6: "b5", 7: "5", 8: "b6",
                 9: "6", 10: "b7", 11: "7"}
_DEGREE_OVERRIDES = {"dim7": {9: "bb7"}, "aug": {8: "#5"}, "aug7": {8: "#5"},
                     "9": {2: "9"}, "maj9": {2: "9"}, "min9": {2: "9"}, "add9": {2: "9"},
                     "11": {2: "9", 5: "11"}, "13": {2: "9", 5: "11", 9: "13"}}


def _pc_of_name(text: str, label) -> int:
    """Pitch class of a note name: a letter, then accidentals (#, b, ♯, ♭; '-' = music21 flat)."""
    letter = text[:1]
    if letter not in _LETTERS:
        raise ChordLabelError(f"{text!r} is not a note name", source=label)
    pc = _LETTERS[letter]
    for ch in text[1:]:
        if ch in "#♯":
            pc += 1
        elif ch in "b♭-":
            pc -= 1
        else:
            raise ChordLabelError(f"bad accidental {ch!r} in {text!r}", source=label)
    return pc % 12


def _degree_semitones(text: str, label) -> int:
    """Semitones of a Harte degree such as ``3``, ``b3``, ``#5``, ``bb7``, ``9`` (mod 12)."""
    m = re.fullmatch(r"([#b]*)(\d+)", text)
    if not m or int(m.group(2)) < 1:
        raise ChordLabelError(f"bad interval degree {text!r}", source=label)
    d = int(m.group(2))
    st = _DEGREE_SEMITONES[(d - 1) % 7] + m.group(1).count("#") - m.group(1).count("b")
    return st % 12


def nearest_quality(intervals: frozenset[int]) -> str:
    """The canonical quality whose interval set overlaps ``intervals`` best (Jaccard)."""
    def key(item):
        q, iv = item
        s = frozenset(iv)
        return (len(s & intervals) / len(s | intervals), -len(s))
    return max(QUALITIES.items(), key=key)[0]


_HARTE_RE = re.compile(
    r"^([A-G][#b]*)(?::([A-Za-z0-9]*)(?:\(([^)]*)\))?)?(?:/([#b]*\d+|[A-G][#b]*))?$")
_SYMBOL_RE = re.compile(r"^([A-G][#b♯♭-]*)(.*?)(?:/([A-G][#b♯♭-]*|[#b]*\d+))?$")


# ---------------------------------------------------------------------------------------------
# Chord
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Chord:
    """One chord label.

    ``root`` and ``bass`` are pitch classes (0 = C ... 11 = B); ``root`` is None exactly for the
    no-chord labels, whose ``quality`` is ``'N'`` (no chord sounds) or ``'X'`` (unknown).
    ``quality`` is a key of :data:`QUALITIES`. ``bass`` is None for root position: a bass
    equal to the root is stored as None, so ``C:maj/1 == C:maj``.
    """

    root: int | None
    quality: str = "maj"
    bass: int | None = None

    def __post_init__(self):
        if self.root is None:
            if self.quality not in ("N", "X"):
                raise ChordLabelError(f"a chord without root must have quality 'N' or 'X', "
                                      f"got {self.quality!r}", source=repr(self))
            if self.bass is not None:
                raise ChordLabelError("a no-chord label has no bass", source=repr(self))
            return
        if self.quality not in QUALITIES:
            raise ChordLabelError(f"unknown quality {self.quality!r}; choose from "
                                  f"{', '.join(QUALITIES)}", source=repr(self))
        object.__setattr__(self, "root", int(self.root) % 12)
        if self.bass is not None:
            bass = int(self.bass) % 12
            object.__setattr__(self, "bass", None if bass == self.root else bass)

    # -- parsing -------------------------------------------------------------------------------

    @classmethod
    def parse(cls, label) -> "Chord":
        """Read a chord label; raise :class:`~symbolic.errors.ChordLabelError` naming it if bad.

        Accepted forms:

        - Harte / POP909: ``N``, ``X``, ``B:maj``, ``F#:min7``, ``Bb:hdim7``, ``A:sus4(b7)``,
          ``C:(1,b3,5)``, ``C:maj/3`` (bass as an interval degree above the root: ``/3``,
          ``/b3``, ``/5``, ``/b7``, ``/7``, ``/9``...). Degree lists add (``9``) or remove
          (``*5``) intervals; a result outside :data:`QUALITIES` falls back to the shorthand.
        - Lead-sheet symbols: ``Am``, ``F#7``, ``Bbmaj7``, ``CM7``, ``C/E`` (bass as a note),
          ``Cdim``, ``C°``, ``Co7``, ``Cm7b5``, ``Cø7``, ``Csus4``, ``C7sus4``, ``C+``, ``Caug``,
          ``C6``, ``Cm6``, ``Cmaj9``, ``Cadd9``, ``C5``, ``N.C.``.
        - music21: figures such as ``B-m7`` (``-`` is a flat after the root letter) and
          ``music21.harmony.ChordSymbol`` / ``NoChord`` objects.
        - A :class:`Chord` is returned as it is.
        """
        if isinstance(label, Chord):
            return label
        if isinstance(label, str):
            return _parse_text(label)
        try:
            from music21 import harmony
        except ImportError:  # pragma: no cover - music21 is a dependency
            harmony = None
        if harmony is not None and isinstance(label, harmony.ChordSymbol):
            return _from_music21(label)
        raise ChordLabelError(f"cannot read a chord from a {type(label).__name__}",
                              source=repr(label))

    # -- views ---------------------------------------------------------------------------------

    @property
    def is_chord(self) -> bool:
        """False for the no-chord labels N and X."""
        return self.root is not None

    @property
    def intervals(self) -> tuple[int, ...]:
        """Semitones above the root of the quality (empty for N/X)."""
        return QUALITIES[self.quality] if self.root is not None else ()

    def pitch_classes(self) -> frozenset[int]:
        """The pitch classes (0-11) of the chord, bass included; empty for N/X."""
        if self.root is None:
            return frozenset()
        pcs = {(self.root + i) % 12 for i in QUALITIES[self.quality]}
        if self.bass is not None:
            pcs.add(self.bass)
        return frozenset(pcs)

    @property
    def mask(self) -> int:
        """:meth:`pitch_classes` as a 12-bit integer: bit ``p`` is set when ``p`` sounds."""
        return sum(1 << p for p in self.pitch_classes())

    def to_harte(self) -> str:
        """Harte label, POP909 spelling: ``C#:min7``, ``C:maj/3``, ``G:sus4(b7)``, ``N``, ``X``."""
        if self.root is None:
            return self.quality
        text = f"{PITCH_NAMES[self.root]}:{_HARTE[self.quality]}"
        if self.bass is not None:
            iv = (self.bass - self.root) % 12
            name = _DEGREE_OVERRIDES.get(self.quality, {}).get(iv, _DEGREE_NAMES[iv])
            text += "/" + name
        return text

    def __str__(self) -> str:
        """Lead-sheet symbol: ``C``, ``F#m7``, ``Bbmaj7``, ``Cm7b5``, ``C/E``, ``N.C.``."""
        return self.symbol()

    def symbol(self, names: Sequence[str] = PITCH_NAMES) -> str:
        """Lead-sheet symbol with roots spelled by ``names`` (12 pitch-class names, e.g.
        :meth:`Key.pitch_names` to spell chords as a key does: ``Db`` in D-flat major)."""
        if self.root is None:
            return "N.C." if self.quality == "N" else "X"
        text = names[self.root] + _SYMBOL[self.quality]
        if self.bass is not None:
            text += "/" + names[self.bass]
        return text

    def transpose(self, semitones: int) -> "Chord":
        """The chord moved by ``semitones`` (root and bass, modulo 12); N/X stay as they are."""
        if self.root is None:
            return self
        bass = None if self.bass is None else self.bass + semitones
        return Chord(self.root + semitones, self.quality, bass)

    # -- reductions ----------------------------------------------------------------------------

    @property
    def majmin(self) -> str | None:
        """``'maj'`` or ``'min'`` by the third (minor third: min*, dim*, hdim7), None for N/X."""
        if self.root is None:
            return None
        return "min" if self.quality in _MINOR_THIRD else "maj"

    def reduce_cmhrnn(self) -> int:
        """CM-HRNN class index in 0..48: 0 for N/X, else ``1 + root * 4 + q``.

        ``q`` indexes :data:`CMHRNN_QUALITIES` (maj=0, min=1, 7=2, dim=3). Mapping: maj, maj6,
        maj7, maj9, add9, aug, sus2, sus4, 5, 1 -> maj (the major third, or no third, decides);
        min, min6, min7, min9, minmaj7 -> min; 7, 9, 11, 13, aug7, 7sus4 -> 7 (dominant
        function); dim, dim7, hdim7 -> dim. The bass is dropped.
        """
        if self.root is None:
            return 0
        return 1 + self.root * 4 + CMHRNN_QUALITIES.index(_TO_CMHRNN[self.quality])

    @classmethod
    def from_cmhrnn(cls, index: int) -> "Chord":
        """The chord a CM-HRNN class index (0..48) stands for; 0 is N."""
        index = int(index)
        if not 0 <= index <= 48:
            raise ChordLabelError("CM-HRNN chord index must be in 0..48", source=index)
        if index == 0:
            return NO_CHORD
        root, q = divmod(index - 1, 4)
        return cls(root, CMHRNN_QUALITIES[q])

    def reduce_getmusic(self) -> tuple[int, str] | None:
        """``(root, quality)`` with quality in :data:`GETMUSIC_QUALITIES`, or None for N/X.

        Mapping: maj, maj6, add9, sus2, sus4, 5, 1 -> maj; min, min6, minmaj7 -> m; aug -> +;
        dim, dim7 -> dim; 7, 9, 11, 13, aug7, 7sus4 -> 7; maj7, maj9 -> maj7; min7, min9 -> m7;
        hdim7 -> m7b5. The bass is dropped.
        """
        if self.root is None:
            return None
        return self.root, _TO_GETMUSIC[self.quality]


NO_CHORD = Chord(None, "N")
_UNKNOWN_CHORD = Chord(None, "X")


@functools.lru_cache(maxsize=4096)
def _parse_text(label: str) -> Chord:
    text = label.strip()
    if not text:
        raise ChordLabelError("empty chord label", source=repr(label))
    if text in ("N", "N.C.", "NC", "N.C", "n.c.", "none"):
        return NO_CHORD
    if text == "X":
        return _UNKNOWN_CHORD
    if ":" in text or re.fullmatch(r"[A-G][#b]*(/[#b]*\d+)?", text):
        return _parse_harte(text, label)
    return _parse_symbol(text, label)


def _parse_harte(text: str, label: str) -> Chord:
    m = _HARTE_RE.match(text)
    if not m:
        raise ChordLabelError("not a Harte label (expected ROOT:QUALITY(DEGREES)/BASS)",
                              source=label)
    root_text, short, degrees, bass_text = m.groups()
    root = _pc_of_name(root_text, label)
    if short:
        short = _HARTE_ALIASES.get(short, short)
        if short not in QUALITIES:
            raise ChordLabelError(f"unknown Harte shorthand {short!r}", source=label)
        intervals = set(QUALITIES[short])
    else:
        # No shorthand: a degree list alone spells the chord; a bare root means major.
        intervals = {0} if degrees is not None else set(QUALITIES["maj"])
    if degrees is not None:
        for item in filter(None, (d.strip() for d in degrees.split(","))):
            if item.startswith("*"):
                intervals.discard(_degree_semitones(item[1:], label))
            else:
                intervals.add(_degree_semitones(item, label))
    if not intervals:
        raise ChordLabelError("the degree list removes every note", source=label)
    found = _BY_INTERVALS.get(frozenset(intervals))
    if found is None:
        found = short if short else nearest_quality(frozenset(intervals))
    bass = None
    if bass_text:
        if bass_text[0].isdigit() or bass_text[0] in "#b":
            bass = (root + _degree_semitones(bass_text, label)) % 12
        else:
            bass = _pc_of_name(bass_text, label)
    return Chord(root, found, bass)


def _parse_symbol(text: str, label: str) -> Chord:
    m = _SYMBOL_RE.match(text)
    if not m:
        raise ChordLabelError("not a chord label (expected a root A-G first)", source=label)
    root_text, suffix, bass_text = m.groups()
    # 'B-' (music21 flat) is read as part of the root; a following suffix may start with 'm'.
    suffix = suffix.replace(" ", "")
    quality = _SUFFIXES.get(suffix)
    if quality is None:
        raise ChordLabelError(f"unknown chord quality {suffix!r}", source=label)
    root = _pc_of_name(root_text, label)
    bass = None
    if bass_text:
        if bass_text[0].isdigit() or (bass_text[0] in "#b" and bass_text[-1].isdigit()):
            bass = (root + _degree_semitones(bass_text, label)) % 12
        else:
            bass = _pc_of_name(bass_text, label)
    return Chord(root, quality, bass)


def _from_music21(cs) -> Chord:
    from music21 import harmony

    label = getattr(cs, "figure", None) or repr(cs)
    if isinstance(cs, harmony.NoChord) or cs.root() is None:
        return NO_CHORD
    root = cs.root().pitchClass
    bass_pitch = cs.bass()
    bass = bass_pitch.pitchClass if bass_pitch is not None else None
    pcs = frozenset((p.pitchClass - root) % 12 for p in cs.pitches)
    # The sounding pitches decide when they spell a known quality (this catches alterations
    # such as Cm7b5, which music21 stores as kind 'minor-seventh' plus a modification).
    quality = _BY_INTERVALS.get(pcs)
    if quality is None and bass is not None:
        quality = _BY_INTERVALS.get(pcs - {(bass - root) % 12})
    if quality is None:
        quality = _M21_KINDS.get(cs.chordKind)
    if quality is None:
        raise ChordLabelError(f"unknown music21 chord kind {cs.chordKind!r}", source=label)
    return Chord(root, quality, bass)


def parse_chords(labels: Iterable) -> list[Chord]:
    """:meth:`Chord.parse` over many labels (strings are parsed once each, then cached)."""
    return [Chord.parse(x) for x in labels]


def cmhrnn_indices(chords: Iterable) -> np.ndarray:
    """CM-HRNN class (0..48, int64) of each chord or label; see :meth:`Chord.reduce_cmhrnn`."""
    return np.fromiter((Chord.parse(c).reduce_cmhrnn() for c in chords), dtype=np.int64)


def chord_masks(chords: Iterable) -> np.ndarray:
    """12-bit pitch-class mask (int64, bit p = pitch class p) of each chord or label; 0 for N/X."""
    return np.fromiter((Chord.parse(c).mask for c in chords), dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# Labelled spans
# ---------------------------------------------------------------------------------------------

def _span_index(start: np.ndarray, end: np.ndarray, ticks) -> np.ndarray:
    ticks = np.atleast_1d(np.asarray(ticks, dtype=np.int64))
    i = np.searchsorted(start, ticks, side="right") - 1
    ok = (i >= 0) & (ticks < end[np.clip(i, 0, None)]) if len(start) else np.zeros(len(ticks), bool)
    return np.where(ok, i, -1)


def _merge_runs(start: np.ndarray, end: np.ndarray, labels: list):
    if not labels:
        return start, end, labels
    change = np.ones(len(labels), dtype=bool)
    change[1:] = [a != b for a, b in zip(labels[1:], labels[:-1])]
    # Spans are also kept apart across gaps.
    change[1:] |= start[1:] != end[:-1]
    first = np.flatnonzero(change)
    last = np.append(first[1:], len(labels)) - 1
    return start[first], end[last], [labels[i] for i in first]


@dataclass(frozen=True)
class ChordSequence:
    """Chords over time: ``start[i] <= t < end[i]`` (ticks, int64) sounds ``chords[i]``.

    Spans are sorted and do not overlap. :func:`recognize_chords` returns one span per segment;
    :meth:`merged` joins neighbours that carry the same chord.
    """

    start: np.ndarray
    end: np.ndarray
    chords: list[Chord]

    def __len__(self) -> int:
        return len(self.chords)

    def merged(self) -> "ChordSequence":
        """Neighbouring spans with equal chords (same root, quality and bass) joined."""
        return ChordSequence(*_merge_runs(self.start, self.end, self.chords))

    def index_at(self, ticks) -> np.ndarray:
        """Index of the span sounding at each tick (int64 array), -1 outside every span."""
        return _span_index(self.start, self.end, ticks)

    def at(self, ticks) -> list[Chord]:
        """The chord sounding at each tick; :data:`NO_CHORD` outside every span."""
        return [self.chords[i] if i >= 0 else NO_CHORD for i in self.index_at(ticks)]

    def labels(self) -> list[str]:
        """Harte labels of the chords (``to_harte``)."""
        return [c.to_harte() for c in self.chords]


# ---------------------------------------------------------------------------------------------
# Grids and pitch-class profiles
# ---------------------------------------------------------------------------------------------

def _select_tracks(score: symusic.Score, tracks, exclude_drums: bool):
    """The tracks to analyse: all (drums aside), or those named or indexed in ``tracks``."""
    require_tick(score)
    if tracks is None:
        return [t for t in score.tracks if not (exclude_drums and t.is_drum)]
    if isinstance(tracks, (str, int)):
        tracks = [tracks]
    chosen = []
    names = [t.name.upper() for t in score.tracks]
    for sel in tracks:
        if isinstance(sel, str):
            hits = [i for i, n in enumerate(names) if n == sel.upper()]
            if not hits:
                raise ValueError(f"no track named {sel!r}; the score has "
                                 f"{[t.name for t in score.tracks]}")
        else:
            if not -len(names) <= int(sel) < len(names):
                raise ValueError(f"track index {sel} out of range for {len(names)} tracks")
            hits = [int(sel) % len(names)]
        chosen.extend(i for i in hits if i not in chosen)
    return [score.tracks[i] for i in sorted(chosen)]


def _note_arrays(score: symusic.Score, exclude_drums: bool = True, tracks=None):
    """``(start, end, pitch)`` int64 arrays of the notes of the selected tracks (ticks)."""
    starts, durs, pitches = [], [], []
    for track in _select_tracks(score, tracks, exclude_drums):
        if len(track.notes) == 0:
            continue
        n = track.notes.numpy()
        starts.append(n["time"])
        durs.append(n["duration"])
        pitches.append(n["pitch"])
    if not starts:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    start = np.concatenate(starts).astype(np.int64)
    end = start + np.maximum(np.concatenate(durs).astype(np.int64), 0)
    return start, end, np.concatenate(pitches).astype(np.int64)


def _score_end(score: symusic.Score, exclude_drums: bool = True, tracks=None) -> int:
    start, end, _ = _note_arrays(score, exclude_drums, tracks)
    return int(end.max()) if len(end) else 0


def beat_grid(score: symusic.Score, end: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(beats, downbeats)``: tick arrays of every beat and bar start, from the time signatures.

    Bars and beats are :func:`symbolic.timeline.bar_lines` and
    :func:`~symbolic.timeline.beat_lines`: a beat is one denominator unit
    (``4 * tpq / denominator`` ticks), except compound meters (6/8, 9/8, 12/8...) where it is a
    dotted unit. 4/4 before the first time signature (and without any); of two signatures at
    one tick the larger wins. The grid covers ``[0, end)``, and further to the first meter
    change at or after ``end`` (a meter that starts before ``end`` is laid whole); ``end``
    defaults to the end of the last note.
    """
    require_tick(score)
    tpq = score.ticks_per_quarter
    end = max(_score_end(score) if end is None else int(end), 1)
    changes = meter_changes(score, same_tick="largest")
    cut = meter_span_end(changes, end)
    bars, nums, dens = bar_lines(changes, tpq, end)
    beats = beat_lines(bars, nums, dens, tpq)
    return np.unique(beats[beats < cut]), np.unique(bars[bars < cut])


def segment_boundaries(score: symusic.Score, segment: str = "beat", *, beats=None,
                       downbeats=None, end: int | None = None) -> np.ndarray:
    """Segment edges in ticks (sorted int64, ``len = n_segments + 1``, first edge 0).

    ``segment`` is ``'beat'``, ``'half_bar'`` (each bar cut at its middle beat) or ``'bar'``.
    ``beats`` / ``downbeats`` are tick arrays (e.g. POP909's annotations); missing ones come from
    :func:`beat_grid` (the time signatures). Notes before the first grid point fall in a first
    segment ``[0, first)``; the last segment runs to the end of the last note or one grid step
    past the last grid point, whichever is later.
    """
    if segment not in ("beat", "half_bar", "bar"):
        raise ValueError(f"segment must be 'beat', 'half_bar' or 'bar', got {segment!r}")
    note_end = _score_end(score) if end is None else int(end)
    grid_beats, grid_bars = beat_grid(score, note_end)
    beats = grid_beats if beats is None else np.unique(np.asarray(beats, dtype=np.int64))
    bars = grid_bars if downbeats is None else np.unique(np.asarray(downbeats, dtype=np.int64))
    if segment == "beat":
        grid = beats
    elif segment == "bar":
        grid = bars
    else:
        # Middle beat of each bar: beat index (first + n // 2) among the beats of that bar.
        bar_of = np.searchsorted(bars, beats, side="right") - 1
        inside = bar_of >= 0
        b, bo = beats[inside], bar_of[inside]
        counts = np.bincount(bo, minlength=len(bars))
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        mid = first + counts // 2
        mids = b[mid[counts >= 2]]
        grid = np.union1d(bars, mids)
    grid = grid[grid >= 0]
    step = int(np.median(np.diff(grid))) if len(grid) > 1 else score.ticks_per_quarter
    last = max(note_end, int(grid[-1]) + step if len(grid) else note_end, 1)
    edges = np.unique(np.concatenate([[0], grid[grid < last], [last]]).astype(np.int64))
    return edges


def pitch_class_profiles(score: symusic.Score, boundaries, *, exclude_drums: bool = True,
                         tracks=None) -> tuple[np.ndarray, np.ndarray]:
    """Duration-weighted pitch-class profiles of the segments ``[b[i], b[i+1])`` (ticks).

    Returns ``(chroma, bass)``, both float64 of shape ``(n_segments, 12)`` in ticks:
    ``chroma[i, p]`` is how long pitch class ``p`` sounds inside segment ``i`` (summed over
    notes; a note crossing segments counts its overlap with each); ``bass[i, p]`` is how long
    ``p`` is the lowest sounding pitch inside segment ``i``. Notes outside the boundaries are
    ignored. ``tracks`` (names or indices) restricts the notes to those tracks; by default
    every track but drums (``exclude_drums``) counts. Vectorized: notes are cut at every note
    edge and segment edge (elementary intervals), then summed with ``np.bincount`` and
    ``np.minimum.at``; memory grows with the number of (note, interval) pairs.
    """
    edges = np.asarray(boundaries, dtype=np.int64)
    n_seg = max(len(edges) - 1, 0)
    chroma = np.zeros((n_seg, 12))
    bass = np.zeros((n_seg, 12))
    start, end, pitch = _note_arrays(score, exclude_drums, tracks)
    if n_seg == 0 or len(start) == 0:
        return chroma, bass
    start = np.clip(start, edges[0], edges[-1])
    end = np.clip(end, edges[0], edges[-1])
    keep = end > start
    start, end, pitch = start[keep], end[keep], pitch[keep]
    if len(start) == 0:
        return chroma, bass
    cuts = np.unique(np.concatenate([edges, start, end]))
    first = np.searchsorted(cuts, start)
    count = np.searchsorted(cuts, end) - first
    total = int(count.sum())
    note_of = np.repeat(np.arange(len(start)), count)
    # Elementary interval of each (note, piece) pair: first + running offset within the note.
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    piece = first[note_of] + offset
    length = np.diff(cuts).astype(np.float64)
    seg_of_piece = np.searchsorted(edges, cuts[:-1], side="right") - 1
    pc = pitch % 12
    chroma = np.bincount(seg_of_piece[piece] * 12 + pc[note_of], weights=length[piece],
                         minlength=n_seg * 12).reshape(n_seg, 12)
    lowest = np.full(len(cuts) - 1, 128, dtype=np.int64)
    np.minimum.at(lowest, piece, pitch[note_of])
    sounding = lowest < 128
    bass = np.bincount(seg_of_piece[sounding] * 12 + lowest[sounding] % 12,
                       weights=length[sounding], minlength=n_seg * 12).reshape(n_seg, 12)
    return chroma, bass


# ---------------------------------------------------------------------------------------------
# Chord recognition
# ---------------------------------------------------------------------------------------------

# Defaults tuned on POP909's train split with benchmarks/chords.py (see its --tune option).
_BASS_WEIGHT = 0.1
_ROOT_WEIGHT = 1.0
_SELF_TRANSITION = 0.35
_SHARPNESS = 24.0
_NO_CHORD_SCORE = 0.3
_INVERSION_SHARE = 0.8
# Score offsets per quality (cosine units): plain triads are favoured, sus and rarer chords
# must fit clearly better to win.
_QUALITY_BIAS: dict[str, float] = {
    "maj": 0.03, "min": 0.03, "maj7": -0.03, "maj6": -0.03, "min6": -0.03, "dim": -0.03,
    "hdim7": -0.03, "aug": -0.03, "sus2": -0.06, "sus4": -0.06, "7sus4": -0.06, "minmaj7": -0.06,
}


def _viterbi(log_em: np.ndarray, log_stay: float, log_change: float) -> np.ndarray:
    """Best state path (int64, length T) under emissions ``(T, K)`` and a stay/change prior.

    The transition prior is uniform over changes (log ``log_change`` to any other state, log
    ``log_stay`` to the same one), so each step costs O(K) instead of O(K^2): a state is
    reached either from itself or from the best state of the previous step.
    """
    T, K = log_em.shape
    if T == 0:
        return np.zeros(0, dtype=np.int64)
    stayed = np.empty((T, K), dtype=bool)
    best_prev = np.zeros(T, dtype=np.int64)
    delta = log_em[0].astype(np.float64, copy=True)
    for t in range(1, T):
        b = int(delta.argmax())
        best_prev[t] = b
        move = delta[b] + log_change
        delta += log_stay
        np.greater_equal(delta, move, out=stayed[t])
        np.maximum(delta, move, out=delta)
        delta += log_em[t]
    path = np.empty(T, dtype=np.int64)
    k = int(delta.argmax())
    path[-1] = k
    for t in range(T - 1, 0, -1):
        if not stayed[t, k]:
            k = int(best_prev[t])
        path[t - 1] = k
    return path


@functools.lru_cache(maxsize=64)
def _chord_templates(qualities: tuple[str, ...], root_weight: float):
    """``(chords, roots, T)``: every root x quality, their roots and unit-norm templates (K, 12)."""
    chords, rows = [], []
    for q in qualities:
        base = np.zeros(12)
        base[list(QUALITIES[q])] = 1.0
        base[0] = root_weight
        for r in range(12):
            chords.append(Chord(r, q))
            rows.append(np.roll(base, r))
    T = np.array(rows)
    T /= np.linalg.norm(T, axis=1, keepdims=True)
    T.setflags(write=False)
    roots = np.array([c.root for c in chords])
    roots.setflags(write=False)
    return tuple(chords), roots, T


def _resolve_vocabulary(vocabulary) -> tuple[str, ...]:
    if isinstance(vocabulary, str):
        if vocabulary not in VOCABULARIES:
            raise ValueError(f"unknown vocabulary {vocabulary!r}; choose from "
                             f"{sorted(VOCABULARIES)} "
                             "or pass a sequence of qualities")
        return VOCABULARIES[vocabulary]
    qualities = tuple(vocabulary)
    bad = [q for q in qualities if q not in QUALITIES]
    if bad or not qualities:
        raise ValueError(f"unknown qualities {bad}; choose from {list(QUALITIES)}")
    return qualities


def chord_scores(chroma: np.ndarray, bass: np.ndarray, qualities: Sequence[str], *,
                 bass_weight: float = _BASS_WEIGHT, root_weight: float = _ROOT_WEIGHT,
                 quality_bias: dict[str, float] | None = None):
    """Template fit of every chord to every segment: ``(chords, scores (n_segments, K))``.

    ``scores = cos(chroma, template) + bass_weight * share of the bass on the chord's root``
    + ``quality_bias[quality]`` (default: the tuned offsets, which favour plain triads; pass
    ``{}`` for none). Templates put ``root_weight`` on the root and 1 on the other chord tones.
    Silent segments score 0 everywhere.
    """
    chords, roots, T = _chord_templates(tuple(qualities), float(root_weight))
    norm = np.linalg.norm(chroma, axis=1, keepdims=True)
    c = np.divide(chroma, norm, out=np.zeros_like(chroma), where=norm > 0)
    scores = c @ T.T
    btot = bass.sum(axis=1, keepdims=True)
    b = np.divide(bass, btot, out=np.zeros_like(bass), where=btot > 0)
    scores += bass_weight * b[:, roots]
    if quality_bias is None:
        quality_bias = _QUALITY_BIAS
    if quality_bias:
        bias = np.array([quality_bias.get(ch.quality, 0.0) for ch in chords])
        scores += bias[None, :] * (norm > 0)
    return chords, scores


def label_segments(chroma: np.ndarray, bass: np.ndarray, *, vocabulary="full",
                   bass_weight: float = _BASS_WEIGHT, smoothing: bool = True,
                   self_transition: float = _SELF_TRANSITION, inversions: bool = True,
                   root_weight: float = _ROOT_WEIGHT, sharpness: float = _SHARPNESS,
                   no_chord_score: float = _NO_CHORD_SCORE,
                   quality_bias: dict[str, float] | None = None) -> list[Chord]:
    """One chord per segment from ``(chroma, bass)`` profiles (:func:`pitch_class_profiles`).

    This is :func:`recognize_chords` without the score: the parameters mean the same.
    ``chroma`` and ``bass`` have shape ``(n_segments, 12)``; returns ``n_segments`` chords.
    """
    chroma = np.asarray(chroma, dtype=np.float64)
    bass = np.asarray(bass, dtype=np.float64)
    if chroma.ndim != 2 or chroma.shape[1] != 12 or bass.shape != chroma.shape:
        raise ValueError(f"chroma and bass must both have shape (n, 12), got {chroma.shape} "
                         f"and {bass.shape}")
    if not 0.0 < self_transition < 1.0:
        raise ValueError(f"self_transition must be in (0, 1), got {self_transition}")
    qualities = _resolve_vocabulary(vocabulary)
    chords, scores = chord_scores(chroma, bass, qualities, bass_weight=bass_weight,
                                  root_weight=root_weight, quality_bias=quality_bias)
    silent = chroma.sum(axis=1) <= 0
    # State 0 is N: the winner where nothing sounds, a weak fallback elsewhere.
    n_col = np.where(silent, 1.0, no_chord_score)[:, None]
    scores = np.where(silent[:, None], -1.0, scores)
    all_scores = np.hstack([n_col, scores])
    states = (NO_CHORD,) + chords
    if smoothing and len(all_scores) > 1:
        K = all_scores.shape[1]
        path = _viterbi(sharpness * all_scores, np.log(self_transition),
                        np.log((1.0 - self_transition) / (K - 1)))
    else:
        path = np.argmax(all_scores, axis=1)
    out = [states[k] for k in path]
    if inversions and len(out):
        btot = bass.sum(axis=1)
        top = np.argmax(bass, axis=1)
        share = np.divide(bass[np.arange(len(top)), top], btot, out=np.zeros(len(top)),
                          where=btot > 0)
        for i in np.flatnonzero(share >= _INVERSION_SHARE):
            ch = out[i]
            if ch.root is not None and top[i] != ch.root and top[i] in ch.pitch_classes():
                out[i] = Chord(ch.root, ch.quality, int(top[i]))
    return out


def chords_from_markers(score: symusic.Score, prefix: str = MARKER_PREFIX):
    """The chords a score carries as ``chord:LABEL`` markers (what the grid codec and
    ``compose`` write), each lasting to the next marker (the last one to the score's end, at
    least one tick); None when it has none."""
    marks = sorted((int(m.time), m.text[len(prefix):]) for m in score.markers
                   if m.text.startswith(prefix))
    if not marks:
        return None
    start = np.array([t for t, _ in marks], dtype=np.int64)
    end = np.append(start[1:], max(int(score.end()), int(start[-1]) + 1))
    return ChordSequence(start, end, [Chord.parse(x) for _, x in marks])


def recognize_chords(score: symusic.Score, *, segment: str = "beat", beats=None,
                     downbeats=None, vocabulary="full", bass_weight: float = _BASS_WEIGHT,
                     smoothing: bool = True, self_transition: float = _SELF_TRANSITION,
                     exclude_drums: bool = True, tracks=None, inversions: bool = True,
                     root_weight: float = _ROOT_WEIGHT, sharpness: float = _SHARPNESS,
                     no_chord_score: float = _NO_CHORD_SCORE,
                     quality_bias: dict[str, float] | None = None) -> ChordSequence:
    """Label every segment of a tick-time score with a chord; one span per segment.

    Segments come from :func:`segment_boundaries` (``segment`` = 'beat', 'half_bar' or 'bar';
    ``beats`` / ``downbeats`` tick arrays override the score's time-signature grid). Each
    segment's duration-weighted pitch-class profile (:func:`pitch_class_profiles`) is matched
    against templates of every root x quality of ``vocabulary`` (a name in
    :data:`VOCABULARIES` or a sequence of qualities) by cosine, plus ``bass_weight`` times the
    share of the segment's lowest-note time on the chord's root (:func:`chord_scores`, which
    also explains ``root_weight`` and ``quality_bias``).

    With ``smoothing`` a Viterbi pass picks the best path where emissions are
    ``sharpness * score`` and a segment keeps the previous chord with probability
    ``self_transition`` (changes share the rest uniformly); without it each segment takes its
    best-scoring chord. Silent segments are N; sounding ones score N at ``no_chord_score``.
    With ``inversions``, a chord whose segment's main bass pitch class is another chord tone
    (holding at least 80% of the bass time) gets that bass (``C:maj/3``).

    ``tracks`` (names or indices) limits the analysis to some tracks, e.g. the accompaniment
    (``tracks=["PIANO"]`` for POP909, whose chord annotations follow the piano part).

    The defaults were tuned on POP909's train split with beat segments; on all 909 songs, on
    the annotated beats, they get the root right on 92% of beats and root + major/minor on 89%
    (94% and 92% with the accompaniment alone; ``benchmarks/chords.py``).

    Returns a :class:`ChordSequence` whose spans are the segments, ticks as in ``score``.
    """
    edges = segment_boundaries(score, segment, beats=beats, downbeats=downbeats)
    chroma, bass = pitch_class_profiles(score, edges, exclude_drums=exclude_drums, tracks=tracks)
    out = label_segments(chroma, bass, vocabulary=vocabulary, bass_weight=bass_weight,
                         smoothing=smoothing, self_transition=self_transition,
                         inversions=inversions, root_weight=root_weight, sharpness=sharpness,
                         no_chord_score=no_chord_score, quality_bias=quality_bias)
    return ChordSequence(edges[:-1].copy(), edges[1:].copy(), out)


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------

#: Key profiles (major, minor), tonic first.
KEY_PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "krumhansl": ((6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
                  (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)),
    "temperley": ((0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366,
                   0.057, 0.400),
                  (0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067,
                   0.133, 0.330)),
    "albrecht": ((0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080,
                  0.008, 0.081),
                 (0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022,
                  0.061, 0.052)),
}
_MODES = {"maj": "major", "major": "major", "M": "major", "": "major",
          "min": "minor", "minor": "minor", "m": "minor"}


@dataclass(frozen=True)
class Key:
    """A key: ``tonic`` pitch class (0-11) and ``mode`` ('major' or 'minor').

    ``str(key)`` is ``TONIC:maj`` / ``TONIC:min`` as in POP909: ``Gb:maj``, ``E:min``,
    ``F#:min`` (see :data:`KEY_NAMES`, :data:`MINOR_KEY_NAMES`).
    """

    tonic: int
    mode: str = "major"

    def __post_init__(self):
        if self.mode not in ("major", "minor"):
            raise ValueError(f"mode must be 'major' or 'minor', got {self.mode!r}")
        object.__setattr__(self, "tonic", int(self.tonic) % 12)

    def pitch_names(self) -> tuple[str, ...]:
        """The 12 pitch-class names as this key spells them: flats in flat keys (F, Bb ... Gb
        major and their minors), sharps in sharp keys, :data:`PITCH_NAMES` in C major and A
        minor."""
        name = str(self).split(":")[0]
        relative = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        if "b" in name[1:] or relative == 5:  # F major / D minor: one flat
            return _FLAT_NAMES
        if "#" in name or relative in (7, 2, 9, 4, 11):
            return _SHARP_NAMES
        return PITCH_NAMES

    def __str__(self) -> str:
        if self.mode == "major":
            return f"{KEY_NAMES[self.tonic]}:maj"
        return f"{MINOR_KEY_NAMES[self.tonic]}:min"

    @classmethod
    def parse(cls, label) -> "Key":
        """Read ``Gb:maj`` / ``E:min`` (POP909), ``C major``, ``F# minor``, ``Am``, ``Bb``,
        music21 style ``f#`` (lower case = minor, ``-`` = flat) or a ``music21.key.Key``.

        Raises :class:`~symbolic.errors.ParseError` naming the label when it is not a key.
        """
        if isinstance(label, Key):
            return label
        if not isinstance(label, str):
            tonic, mode = getattr(label, "tonic", None), getattr(label, "mode", None)
            if tonic is not None and mode in ("major", "minor"):
                return cls(tonic.pitchClass, mode)
            raise ParseError(f"cannot read a key from a {type(label).__name__}", source=repr(label))
        text = label.strip()
        m = re.fullmatch(r"([A-Ga-g])([#b♯♭-]*)\s*(?::|\s)?\s*(maj|min|major|minor|M|m)?", text)
        if not m:
            raise ParseError("not a key label (expected e.g. 'Gb:maj', 'E:min', 'F# minor')",
                             source=label)
        letter, acc, mode = m.groups()
        try:
            tonic = _pc_of_name(letter.upper() + acc, label)
        except ChordLabelError as exc:
            raise ParseError(exc.reason, source=label) from None
        if mode is None:
            mode = "minor" if letter.islower() else "major"
        return cls(tonic, _MODES[mode])

    def pitch_classes(self) -> frozenset[int]:
        """Scale pitch classes (natural minor for minor keys)."""
        steps = (0, 2, 4, 5, 7, 9, 11) if self.mode == "major" else (0, 2, 3, 5, 7, 8, 10)
        return frozenset((self.tonic + s) % 12 for s in steps)

    def relative(self) -> "Key":
        """The relative key (C major <-> A minor)."""
        if self.mode == "major":
            return Key(self.tonic + 9, "minor")
        return Key(self.tonic + 3, "major")

    def transpose(self, semitones: int) -> "Key":
        return Key(self.tonic + semitones, self.mode)

    @property
    def index(self) -> int:
        """0..23: major keys 0-11 by tonic, minor keys 12-23 (the column of :func:`key_scores`)."""
        return self.tonic + (0 if self.mode == "major" else 12)


_ALL_KEYS = [Key(t, "major") for t in range(12)] + [Key(t, "minor") for t in range(12)]


@dataclass(frozen=True)
class KeySequence:
    """Keys over time: ``start[i] <= t < end[i]`` (ticks, int64) is in ``keys[i]``."""

    start: np.ndarray
    end: np.ndarray
    keys: list[Key]

    def __len__(self) -> int:
        return len(self.keys)

    def index_at(self, ticks) -> np.ndarray:
        """Index of the span at each tick (int64 array), -1 outside every span."""
        return _span_index(self.start, self.end, ticks)

    def at(self, ticks) -> list[Key | None]:
        """The key at each tick, None outside every span."""
        return [self.keys[i] if i >= 0 else None for i in self.index_at(ticks)]


def key_scores(histograms: np.ndarray, profile: str = "albrecht") -> np.ndarray:
    """Pearson correlation of pitch-class histograms with the 24 rotated key profiles.

    ``histograms``: shape ``(12,)`` or ``(n, 12)`` (any non-negative weights). Returns shape
    ``(24,)`` or ``(n, 24)``; column ``k`` is key ``Key.index == k`` (majors, then minors).
    Rows that are constant (e.g. silent) score 0 everywhere.
    """
    if profile not in KEY_PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(KEY_PROFILES)}")
    h = np.asarray(histograms, dtype=np.float64)
    single = h.ndim == 1
    h = np.atleast_2d(h)
    major, minor = (np.asarray(p) for p in KEY_PROFILES[profile])
    P = np.array([np.roll(major, t) for t in range(12)] + [np.roll(minor, t) for t in range(12)])
    P = P - P.mean(axis=1, keepdims=True)
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    hc = h - h.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(hc, axis=1, keepdims=True)
    hc = np.divide(hc, norm, out=np.zeros_like(hc), where=norm > 0)
    r = hc @ P.T
    return r[0] if single else r


def estimate_key(score: symusic.Score, *, profile: str = "albrecht",
                 exclude_drums: bool = True, tracks=None) -> Key:
    """The best-fitting key of the whole score (duration-weighted pitch-class histogram).

    Uses the ``profile`` of :data:`KEY_PROFILES`: by default Albrecht-Shanahan, 87.7% exact on
    POP909's train split against 82.6% for Krumhansl-Kessler (``benchmarks/chords.py``).
    ``tracks`` (names or indices) limits the histogram to some tracks; drums are left out
    unless ``exclude_drums`` is False. A score without notes raises
    :class:`~symbolic.errors.EmptyScoreError`.
    """
    end = _score_end(score, exclude_drums, tracks)
    if end <= 0:
        raise EmptyScoreError("no notes to estimate a key from", source="<score>")
    chroma, _ = pitch_class_profiles(score, np.array([0, end]), exclude_drums=exclude_drums,
                                     tracks=tracks)
    return _ALL_KEYS[int(np.argmax(key_scores(chroma[0], profile)))]


def estimate_keys(score: symusic.Score, *, window_bars: int = 8, switch_penalty: float = 3.0,
                  profile: str = "albrecht", downbeats=None,
                  exclude_drums: bool = True, tracks=None) -> KeySequence:
    """Keys bar by bar, allowing modulations.

    Each bar's key fit is the correlation (:func:`key_scores`) of the pitch-class histogram of
    the ``window_bars`` bars centred on it; a Viterbi pass then picks the key path maximising
    the summed fit minus ``switch_penalty`` per key change (a change must pay off over about
    ``switch_penalty`` bars of better fit). Bars come from ``downbeats`` (ticks) or the time
    signatures; ``tracks`` / ``exclude_drums`` select notes as in :func:`estimate_key`. Returns
    a :class:`KeySequence` of merged spans in ticks, covering the score.
    """
    if window_bars < 1:
        raise ValueError(f"window_bars must be >= 1, got {window_bars}")
    edges = segment_boundaries(score, "bar", downbeats=downbeats)
    chroma, _ = pitch_class_profiles(score, edges, exclude_drums=exclude_drums, tracks=tracks)
    n = len(chroma)
    if n == 0 or chroma.sum() <= 0:
        raise EmptyScoreError("no notes to estimate keys from", source="<score>")
    # Sum over a centred window of bars (a cumulative sum does it without a loop).
    csum = np.vstack([np.zeros((1, 12)), np.cumsum(chroma, axis=0)])
    lo = np.clip(np.arange(n) - window_bars // 2, 0, n)
    hi = np.clip(lo + window_bars, 0, n)
    lo = np.clip(hi - window_bars, 0, n)
    windows = csum[hi] - csum[lo]
    fit = key_scores(windows, profile)
    path = _viterbi(fit, 0.0, -float(switch_penalty))
    keys = [_ALL_KEYS[k] for k in path]
    start, end, keys = _merge_runs(edges[:-1].copy(), edges[1:].copy(), keys)
    return KeySequence(start, end, keys)
