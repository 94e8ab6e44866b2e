"""Which input track infill writes, which it hears, which it leaves alone: one plan, one message.

:func:`plan_tracks` gives every input track one :class:`TrackUse`:

- **generated**: the one input track per requested target (``tracks=[...]``: an input track's
  own name first, else a part name or alias such as ``"bass"``, which picks the first input
  track playing that part, or a new track when none does). Two targets on one part raise
  :class:`~symbolic.errors.TrackMappingError`; so do drums (no model here writes them) and a
  track that only maps to the context row, with the ``track_map`` / ``--map`` that fixes it.
- **context**: every other pitched track, read as its part (by ``track_map``, then name, then GM
  program: see :mod:`symbolic.tracks`); a part already taken by a target or an earlier track,
  and any pitched track that plays none of the model's parts (strings, guitars, pads...), goes
  to the model's context row (OTHER) when it has one. Nothing is dropped from the model's
  hearing without a word.
- **untouched**: drums (no model here reads drums), sound effects (programs 120-127), tracks
  ``track_map`` sends to None, and tracks a model without a context row cannot place. Kept bit
  for bit in the output, like every context track.

:func:`plan_message` says all of it in one line when anything is not plain (a track on
another part's row, the context row, or untouched).
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import tracks as trk
from ...errors import TrackMappingError

__all__ = ["TrackUse", "Plan", "plan_tracks", "plan_message"]


@dataclass(frozen=True)
class TrackUse:
    """How infill uses input track ``index`` (``name``): ``role``, the model track it is
    written or read as (None: untouched); ``generated``; ``note``: why, when it is not simply
    its own part."""

    index: int
    name: str
    role: str | None
    generated: bool = False
    note: str = ""


@dataclass(frozen=True)
class Plan:
    """``uses``: a :class:`TrackUse` per input track; ``writes``: per generated model track,
    the input track index it writes (None: a new track); ``asked``: the model track each
    requested name means."""

    uses: list
    writes: dict
    asked: dict

    @property
    def mapping(self) -> list[str | None]:
        """The model track each input track is read or written as (None: untouched)."""
        return [u.role for u in self.uses]


_DRUM_WORDS = {"drums", "drum", "drum kit", "kit", "percussion", "drumkit", "beat"}


def _hint(name: str, part: str) -> str:
    return f"track_map={{{name!r}: {part!r}}} (command line: --map '{name}={part}')"


def _target(name: str, score, base, parts, model_tracks, context) -> tuple[int | None, str]:
    """(input track index or None for a new track, model track) that ``name`` asks to write."""
    writable = [t for t in model_tracks if t not in context]
    low = str(name).strip().lower()
    for i, tr in enumerate(score.tracks):
        if tr.name.strip().lower() != low:
            continue
        if tr.is_drum:
            raise TrackMappingError(f"track {tr.name!r} is a drum track: no model here writes "
                                    f"drums (parts it writes: {', '.join(writable)})", "tracks")
        role = None if base[i] is None else model_tracks[base[i]]
        if role is None or role in context:
            raise TrackMappingError(
                f"track {tr.name!r} plays none of the parts the model writes "
                f"({', '.join(writable)}); say which it is with {_hint(tr.name, writable[-1])}",
                "tracks")
        return i, role
    if low in _DRUM_WORDS:
        raise TrackMappingError(f"{name!r}: no model here writes drums (parts it writes: "
                                f"{', '.join(writable)})", "tracks")
    k = trk.find_part(low, parts)
    if k is None or model_tracks[k] in context:
        names = ", ".join(repr(t.name) for t in score.tracks) or "none"
        raise TrackMappingError(f"{name!r} is neither a part the model writes "
                                f"({', '.join(writable)}) nor an input track (input tracks: "
                                f"{names})", "tracks")
    role = model_tracks[k]
    found = next((i for i, tr in enumerate(score.tracks) if base[i] == k and not tr.is_drum), None)
    return found, role


def _untouched_note(tr, left_out: bool) -> str:
    if tr.is_drum:
        return "drums: no model here reads or writes them"
    if left_out:
        return "track_map leaves it out"
    if tr.program >= 120:
        return "sound effects"
    return "plays none of the model's parts"


def plan_tracks(score, model_tracks, context_tracks=(), targets=(), track_map=None) -> Plan:
    """The :class:`Plan` of an infill: what every input track of ``score`` is, and which input
    track (or a new one) each of ``targets`` writes. See the module doc."""
    model_tracks, context = list(model_tracks), list(context_tracks)
    parts = trk.parts_for(model_tracks)
    base = trk.assign(score.tracks, parts, track_map=track_map, words=True, programs="any")
    left_out = {str(k).strip().lower() for k, v in (track_map or {}).items() if v is None}
    claimed: dict[str, int | None] = {}
    asked: dict[str, str] = {}
    for name in targets:
        i, role = _target(name, score, base, parts, model_tracks, context)
        asked[str(name)] = role
        if role in claimed and claimed[role] != i:
            raise TrackMappingError(f"two targets write {role}: generate them in two calls, or "
                                    f"send one to another part with track_map", "tracks")
        claimed[role] = i
    other = context[0] if context else None
    owner = {i: r for r, i in claimed.items() if i is not None}
    taken = dict(claimed)
    uses = []
    for i, tr in enumerate(score.tracks):
        if i in owner:
            uses.append(TrackUse(i, tr.name, owner[i], True))
            continue
        role = None if base[i] is None or tr.is_drum else model_tracks[base[i]]
        if role is None:
            out = tr.name.strip().lower() in left_out or str(i) in left_out
            uses.append(TrackUse(i, tr.name, None, note=_untouched_note(tr, out)))
        elif role in context:
            uses.append(TrackUse(i, tr.name, role, note="context"))
        elif role in taken:
            by = taken[role]
            who = "the new track" if by is None else repr(score.tracks[by].name)
            uses.append(TrackUse(i, tr.name, other,
                                 note=f"{role} is {who}'s" + ("" if other else ": untouched")))
        else:
            taken[role] = i
            uses.append(TrackUse(i, tr.name, role))
    return Plan(uses, claimed, asked)


def plan_message(plan: Plan, regions=()) -> str | None:
    """One line saying what infill does with every track, or None when every track is simply
    read or written as its own part."""
    uses, claimed = plan.uses, plan.writes
    if all(u.role is not None and not u.note for u in uses):
        return None
    where = {}
    for r in regions:
        where.setdefault(r.track, []).append(f"{r.first}-{r.last}")
    parts = []
    for u in uses:
        if u.generated:
            parts.append(f"{u.name!r} -> {u.role} (written in bars {', '.join(where.get(u.role, []))})")
        elif u.role is None:
            parts.append(f"{u.name!r} untouched ({u.note})")
        else:
            parts.append(f"{u.name!r} -> {u.role}" + (f" ({u.note})" if u.note else ""))
    new = [f"new track -> {r}" for r, i in claimed.items() if i is None]
    return ("infill hears and writes: " + "; ".join(parts + new)
            + ". Change with track_map={name: part or None} (command line: --map NAME=PART)")
