"""Track mapping: which track of a score plays which part of a grid or a model.

One system for the grid codec (:class:`symbolic.representations.grid.TrackMap`) and every
generator (GETDiff's :func:`~symbolic.models.getdiff.infill`). The parts a score's tracks can
map to are :class:`Part` s: a name, the track names that mean it, its GM programs, whether it
takes drum tracks. :func:`assign` maps each score track, first rule that answers wins:

1. ``track_map`` (the user's): input track name (case-insensitive) or index as a string ->
   a part name or alias, or None, which *unmaps* the track (``{"Organ": None}``). A value that
   names no part raises :class:`~symbolic.errors.TrackMappingError`.
2. the track's name equals one of a part's ``names`` (parts in order: the first one wins);
3. with ``words=True``, the name contains a part's name or one of its longer aliases as a word
   ('Acoustic Grand Piano', 'Melody RH');
4. a drum track goes to the first drum part, or to nothing: never by program;
5. its program is in a part's ``programs``. With ``programs="unnamed"`` only a track whose name
   says nothing (empty, ``Track 3``, ``Untitled``...) is mapped by program: a track named
   'Bass' is not piano because it plays program 0.

Aliases are keyed per part name and looked up only for a model's own parts (:func:`parts_for`).
A model with a voice part (soprano, alto or tenor: the chorale model's SOPRANO, ALTO, TENOR,
BASS) takes :data:`VOICE_ALIASES` for its voices, so that 'S.', 'Canto', 'Violin I' or
'Continuo' name voices there, while every other model (the band's MELODY, BRIDGE, BASS, PIANO,
OTHER) keeps :data:`ALIASES`, where 'Soprano' is the melody and 'Cello' is no bass.

Real band arrangements name tracks freely (see DESIGN.md's traps): callers report the tracks
that map to nothing rather than drop them silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from .errors import TrackMappingError

__all__ = ["Part", "ALIASES", "VOICE_ALIASES", "VOICES", "PROGRAMS", "parts_for", "assign", "find_part", "is_unnamed",
           "TrackMappingError"]

#: Track-name aliases per part (lower case), for the models' part names.
ALIASES: dict[str, tuple[str, ...]] = {
    "melody": ("melody", "lead", "vocal", "vocals", "voice", "voc", "singer", "soprano", "tune",
               "theme", "right hand", "rh", "mel"),
    "bridge": ("bridge", "counter", "countermelody", "counter melody", "harmony", "second",
               "secondary", "fill", "fills", "alto", "tenor"),
    "piano": ("piano", "accompaniment", "acc", "accomp", "keys", "keyboard", "left hand", "lh",
              "comp", "chords", "pno"),
    "bass": ("bass", "bassline", "bass line", "el. bass", "electric bass", "bass guitar",
             "synth bass", "contrabass", "double bass", "basso", "bs"),
    "other": ("other", "context"),
}
#: The voice parts of a four-voice (SATB) model, lower case, top down.
VOICES = ("soprano", "alto", "tenor", "bass")
#: Track-name aliases of the voices, for a model with a voice part (see :func:`parts_for`):
#: names and common spellings in score editions (English, German, Italian, Latin;
#: abbreviations with and without their dot), and the string parts that double the voices in
#: Bach's cantata chorales (violin I -> soprano, violin II -> alto, viola -> tenor, cello,
#: violone, continuo -> bass). The bass also keeps the band's bass aliases.
VOICE_ALIASES: dict[str, tuple[str, ...]] = {
    "soprano": ("soprano", "sopran", "sopr.", "s.", "s", "canto", "cantus", "discantus",
                "treble", "superius", "violin i", "violin 1", "violino i", "vln. i", "vl. i",
                "soprano 1"),
    "alto": ("alto", "alt", "a.", "a", "contralto", "altus", "violin ii", "violin 2",
             "violino ii", "vln. ii", "vl. ii"),
    "tenor": ("tenor", "tenore", "ten.", "t.", "t", "viola", "vla.", "va."),
    "bass": ("bass", "basso", "bassus", "b.", "b", "bass voice", "violoncello", "cello",
             "vc.", "violone", "continuo", "basso continuo", "b.c.", "bc") + ALIASES["bass"][1:],
}
#: GM programs per part name (lower case): pianos, chromatic percussion and organs -> piano;
#: basses (32-39) -> bass; every other pitched program but sound effects (guitars, strings,
#: ensembles, brass, reeds, pipes, synth leads and pads, ethnic, percussive) -> other, the
#: context-only part of models that have one.
PROGRAMS: dict[str, tuple[int, ...]] = {
    "piano": tuple(range(0, 24)),
    "bass": tuple(range(32, 40)),
    "other": tuple(range(24, 32)) + tuple(range(40, 120)),
}

_WORD_ALIAS_MIN = 4  # shorter aliases ('rh', 'acc') only match a whole name, not a word in it


@dataclass(frozen=True)
class Part:
    """A part tracks can map to: ``name`` (what the caller calls it), ``names`` (lower-case
    track names that mean it), ``programs`` (GM programs it takes), ``drum`` (takes drum
    tracks)."""

    name: str
    names: tuple[str, ...] = ()
    programs: tuple[int, ...] = ()
    drum: bool = False


def parts_for(names: Sequence[str]) -> tuple[Part, ...]:
    """Parts for a model's track names, with the shared :data:`ALIASES` and :data:`PROGRAMS`
    (a name is always an alias of itself). When one of the names is a voice other than bass
    (soprano, alto, tenor), the model is a four-voice one and its voices take
    :data:`VOICE_ALIASES` instead."""
    lows = [n.lower() for n in names]
    table = {**ALIASES, **VOICE_ALIASES} if any(n in VOICES[:3] for n in lows) else ALIASES
    return tuple(Part(n, (low,) + table.get(low, ()),
                      PROGRAMS.get(low, ())) for n, low in zip(names, lows))


def is_unnamed(name: str) -> bool:
    """True for a name that says nothing about the part: empty, ``Track 3``, ``Untitled``..."""
    return re.fullmatch(r"\s*((track|untitled|unnamed|instrument|staff|part)\s*[-_#]?\s*\d*)?\s*",
                        name.lower()) is not None


def find_part(name: str, parts: Sequence[Part], *, words: bool = True) -> int | None:
    """Index of the part a name means: one of its ``names``, else (``words``) containing the
    part's name or a longer alias as a word; None if nothing matches."""
    low = name.strip().lower()
    for k, p in enumerate(parts):
        if low in p.names:
            return k
    if not words:
        return None
    found = set(re.split(r"[^a-z]+", low))
    for k, p in enumerate(parts):
        if p.name.lower() in found or found & {a for a in p.names if len(a) >= _WORD_ALIAS_MIN}:
            return k
    return None


def _user_choice(track_map: Mapping, name: str, index: int):
    """(True, value) when the user's map names the track (by name, else index), else
    (False, None)."""
    for key in (name.strip().lower(), str(index)):
        if key in track_map:
            return True, track_map[key]
    return False, None


def _by_user(want, name: str, parts: Sequence[Part]) -> int | None:
    if want is None:
        return None
    k = find_part(str(want), parts)
    if k is None:
        raise TrackMappingError(f"track_map sends {name!r} to {want!r}, which is not one of "
                                f"the parts ({', '.join(p.name for p in parts)})", "track_map")
    return k


def _by_kind(name: str, program: int, is_drum: bool, parts: Sequence[Part],
             programs: str) -> int | None:
    if is_drum:
        return next((k for k, p in enumerate(parts) if p.drum), None)
    if programs == "unnamed" and not is_unnamed(name):
        return None
    return next((k for k, p in enumerate(parts) if program in p.programs), None)


def assign(tracks, parts: Sequence[Part], *, track_map: Mapping | None = None,
           words: bool = False, programs: str = "any") -> list[int | None]:
    """The part index each track maps to (None: no part), by the rules of the module doc.

    ``tracks``: a Score's tracks (anything with ``name``, ``program``, ``is_drum``).
    ``programs``: ``"any"`` (every track not matched by name) or ``"unnamed"``.
    """
    if programs not in ("any", "unnamed"):
        raise TrackMappingError(f"must be 'any' or 'unnamed', got {programs!r}", "programs")
    user = {str(k).strip().lower(): v for k, v in (track_map or {}).items()}
    out = []
    for i, tr in enumerate(tracks):
        given, want = _user_choice(user, tr.name, i)
        if given:
            out.append(_by_user(want, tr.name, parts))
            continue
        k = find_part(tr.name, parts, words=words)
        out.append(k if k is not None else _by_kind(tr.name, tr.program, tr.is_drum, parts,
                                                    programs))
    return out
