"""Theme events: a REMI-like event sequence of a three-track pop arrangement (MELODY, BRIDGE,
PIANO) with phrase and theme-region tokens, after Theme Transformer (Shih, Wu, Zalkow, Müller
& Yang, IEEE TMM 2022). The vocabulary is in ``tokenizers/theme-events.json`` (:data:`VOCAB`).

**Time.** Bars come from ``bar_ticks`` (POP909: the annotated downbeats) or the score's time
signatures; each bar is cut into :data:`STEPS_PER_BAR` = 16 equal steps (sixteenth notes in
4/4, whatever the bar's length, as :mod:`symbolic.models.themes.segments` does). An onset goes
to the nearest step; a duration to a whole number of steps, 1 to :data:`MAX_DURATION` = 64.

**Events of a bar**, in order: ``Theme_End`` (when a theme region ended with the bar
before), ``Theme_Start`` (when one starts here), ``Bar``, ``Phrase`` (on phrase starts),
``Tempo_k`` (on the first bar and where the bar's tempo bin changes), then for each step
holding onsets ``Position_p`` followed by every note starting there as ``Note_<TRACK>_<pitch>``
``Duration_<steps>`` ``Velocity_<bin>``, tracks in the order MELODY, BRIDGE, PIANO, pitches
rising. A sequence starts with ``BOS`` and ends with ``EOS`` (a region open at the end is
closed by a ``Theme_End`` before it).

**Phrases.** Our POP909 copy has no phrase annotation, so the rule is fixed and simple: a
phrase starts every :data:`PHRASE_BARS` = 4 bars from the first (bars 1, 5, 9 ...).

**Theme regions** are given as 1-based bars (``theme_bars``: an iterable of bars, or
``(first, last)`` pairs): from :func:`symbolic.find_themes` on a song or given by hand. A model
emits the two theme tokens itself when it generates; :func:`theme_bars_of` reads them back.

**What is lost** (:class:`Encoding` counts each): notes before the first bar line or after
the last, pitches outside 21..108 (the 88 piano keys), notes of tracks that are not one of the
three (by name: :func:`symbolic.tracks.find_part`; a score without such names gives its
tracks to MELODY, BRIDGE, PIANO in order), timing finer than a 16th, durations over 64 steps
(cut), velocity beyond its bin (32 bins of 4), the bar's length (decoded bars are 4/4 at 480
ticks per quarter), tempo beyond its bin (60 bins of 3 BPM from 48 to 225) and tempo changes
inside a bar, duplicate notes (same track, step and pitch: one kept).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import symusic

from ..errors import ArgumentError, EncodeError
from ..timeline import as_tick, bar_lines, meter_changes

__all__ = ["TRACKS", "STEPS_PER_BAR", "MAX_DURATION", "PHRASE_BARS", "PITCH_RANGE",
           "VELOCITY_BINS", "TEMPO_BINS", "VOCAB", "TOKEN_ID", "PAD", "BOS", "EOS", "BAR",
           "PHRASE", "THEME_START", "THEME_END", "Encoding", "vocabulary", "token_kinds",
           "note_table", "encode", "decode", "theme_bars_of", "theme_positions",
           "tempo_bin", "transpose", "VOCAB_FILE", "write_vocabulary"]

TRACKS = ("MELODY", "BRIDGE", "PIANO")
STEPS_PER_BAR = 16
MAX_DURATION = 64
PHRASE_BARS = 4
PITCH_RANGE = (21, 108)
VELOCITY_BINS = 32
TEMPO_BINS = 60
TEMPO_LOW, TEMPO_STEP = 48.0, 3.0
_TPQ = 480
_STEP = _TPQ * 4 // STEPS_PER_BAR

#: ``tokenizers/theme-events.json``, as the package ships it (``symbolic/pretrained/tokenizers``
#: links to the checkout's ``tokenizers/``); the list itself is built in code (:func:`vocabulary`).
VOCAB_FILE = Path(__file__).resolve().parents[1] / "pretrained" / "tokenizers" / "theme-events.json"


def vocabulary() -> list:
    """Every token name, in id order."""
    lo, hi = PITCH_RANGE
    return (["PAD", "BOS", "EOS", "Bar", "Phrase", "Theme_Start", "Theme_End"]
            + [f"Position_{p}" for p in range(STEPS_PER_BAR)]
            + [f"Tempo_{k}" for k in range(TEMPO_BINS)]
            + [f"Note_{t}_{p}" for t in TRACKS for p in range(lo, hi + 1)]
            + [f"Duration_{d}" for d in range(1, MAX_DURATION + 1)]
            + [f"Velocity_{v}" for v in range(VELOCITY_BINS)])


VOCAB = vocabulary()
TOKEN_ID = {name: i for i, name in enumerate(VOCAB)}
PAD, BOS, EOS, BAR, PHRASE, THEME_START, THEME_END = range(7)
POSITION0 = TOKEN_ID["Position_0"]
TEMPO0 = TOKEN_ID["Tempo_0"]
NOTE0 = TOKEN_ID[f"Note_{TRACKS[0]}_{PITCH_RANGE[0]}"]
N_PITCHES = PITCH_RANGE[1] - PITCH_RANGE[0] + 1
DURATION0 = TOKEN_ID["Duration_1"]
VELOCITY0 = TOKEN_ID["Velocity_0"]


def token_kinds() -> np.ndarray:
    """Kind of every token id ``[len(VOCAB)]``: 0 special/structure, 1 position, 2 tempo,
    3 note, 4 duration, 5 velocity."""
    kinds = np.zeros(len(VOCAB), dtype=np.int64)
    kinds[POSITION0:TEMPO0] = 1
    kinds[TEMPO0:NOTE0] = 2
    kinds[NOTE0:DURATION0] = 3
    kinds[DURATION0:VELOCITY0] = 4
    kinds[VELOCITY0:] = 5
    return kinds


def tempo_bin(bpm) -> np.ndarray:
    """Tempo bin 0..59 of beats per minute (3 BPM wide from 48)."""
    return np.clip(np.rint((np.asarray(bpm, float) - TEMPO_LOW) / TEMPO_STEP), 0,
                   TEMPO_BINS - 1).astype(np.int64)


@dataclass
class Encoding:
    """Token ids ``[n]`` (int64) of a score, the theme bars they mark, and what was lost:
    ``dropped`` notes (outside the bars, the pitch range or the three tracks) and ``cut``
    durations (over 64 steps) and ``merged`` duplicates. ``n_bars``: bars encoded."""

    ids: np.ndarray
    theme_bars: list
    n_bars: int
    dropped: int = 0
    cut: int = 0
    merged: int = 0

    def tokens(self) -> list:
        return [VOCAB[i] for i in self.ids]


def _bar_lines(score: symusic.Score, bar_ticks) -> np.ndarray:
    if bar_ticks is None:
        return bar_lines(meter_changes(score), score.ticks_per_quarter, score.end())[0]
    bars = np.asarray(bar_ticks, dtype=np.int64)
    if bars.ndim != 1 or len(bars) < 2 or np.any(np.diff(bars) <= 0):
        raise ArgumentError("needs at least two rising bar starts", "bar_ticks")
    return np.append(bars, 2 * bars[-1] - bars[-2])


def _track_roles(score: symusic.Score) -> list:
    """Role index (0 MELODY, 1 BRIDGE, 2 PIANO) of each track, -1 for none."""
    from ..tracks import find_part, parts_for

    parts = parts_for(list(TRACKS))
    roles = [-1 if t.is_drum else find_part(t.name, parts) for t in score.tracks]
    roles = [r if r is not None and r >= 0 else -1 for r in roles]
    if all(r < 0 for r in roles):
        pitched = [i for i, t in enumerate(score.tracks) if not t.is_drum]
        for k, i in enumerate(pitched[:len(TRACKS)]):
            roles[i] = k
    return roles


def note_table(score: symusic.Score, bar_ticks=None) -> tuple[np.ndarray, dict]:
    """The notes of ``score`` on the bar/step grid: int64 ``[n, 5]`` rows ``(track role, onset
    step, pitch, duration steps, velocity)`` sorted by onset, role, pitch; duplicates
    removed. Also ``{"dropped", "cut", "merged", "n_bars", "tempo_bins"}`` (one tempo bin
    per bar, from the tempo at its start)."""
    score = as_tick(score)
    bars = _bar_lines(score, bar_ticks)
    rows = []
    dropped = 0
    for role, track in zip(_track_roles(score), score.tracks):
        a = track.notes.numpy()
        if role < 0:
            dropped += len(a["time"])
            continue
        t, d = a["time"].astype(np.int64), a["duration"].astype(np.int64)
        ok = (t >= bars[0]) & (t < bars[-1]) & (a["pitch"] >= PITCH_RANGE[0]) & \
             (a["pitch"] <= PITCH_RANGE[1])
        dropped += int((~ok).sum())
        on, off = _to_step(t[ok], bars), _to_step(t[ok] + d[ok], bars)
        rows.append(np.stack([np.full(len(on), role), on, a["pitch"][ok].astype(np.int64),
                              off - on, a["velocity"][ok].astype(np.int64)], axis=1))
    notes = np.concatenate(rows) if rows else np.zeros((0, 5), np.int64)
    n_bars = len(bars) - 1
    notes = notes[notes[:, 1] < n_bars * STEPS_PER_BAR]
    cut = int((notes[:, 3] > MAX_DURATION).sum())
    notes[:, 3] = np.clip(notes[:, 3], 1, MAX_DURATION)
    notes = notes[np.lexsort((notes[:, 2], notes[:, 0], notes[:, 1]))]
    keep = np.r_[True, np.any(np.diff(notes[:, :3], axis=0) != 0, axis=1)] if len(notes) \
        else np.zeros(0, bool)
    return notes[keep], {"dropped": dropped, "cut": cut, "merged": int((~keep).sum()),
                         "n_bars": n_bars, "tempo_bins": _bar_tempi(score, bars[:-1])}


def _to_step(ticks: np.ndarray, bars: np.ndarray) -> np.ndarray:
    b = np.clip(np.searchsorted(bars, ticks, side="right") - 1, 0, len(bars) - 2)
    frac = (ticks - bars[b]) / (bars[b + 1] - bars[b])
    return np.rint((b + frac) * STEPS_PER_BAR).astype(np.int64)


def _bar_tempi(score: symusic.Score, starts: np.ndarray) -> np.ndarray:
    tempos = score.tempos.numpy() if len(score.tempos) else None
    if tempos is None or len(tempos["time"]) == 0:
        return np.full(len(starts), tempo_bin(120.0))
    order = np.argsort(tempos["time"], kind="stable")
    times, mspq = tempos["time"][order], tempos["mspq"][order]
    i = np.clip(np.searchsorted(times, starts, side="right") - 1, 0, len(times) - 1)
    return tempo_bin(60e6 / np.maximum(mspq[i], 1))


def _theme_set(theme_bars) -> set:
    out = set()
    for item in theme_bars or ():
        if isinstance(item, (tuple, list)):
            if len(item) != 2 or int(item[0]) > int(item[1]):
                raise ArgumentError(f"a region is (first, last) with first <= last, got "
                                    f"{item!r}", "theme_bars")
            out.update(range(int(item[0]), int(item[1]) + 1))
        else:
            out.add(int(item))
    return out


def encode(score: symusic.Score, bar_ticks=None, theme_bars=None, *, bars=None,
           strict: bool = False) -> Encoding:
    """The event ids of ``score`` (bars from ``bar_ticks`` or its time signatures) with the
    1-based ``theme_bars`` (bars, or ``(first, last)`` regions) marked; ``bars``: ``(first,
    last)`` 1-based, encode only those (renumbered from 1; theme bars are the song's).
    ``strict``: raise :class:`~symbolic.errors.EncodeError` instead of dropping or cutting
    notes (the module docstring lists what is lost)."""
    notes, info = note_table(score, bar_ticks)
    theme = _theme_set(theme_bars)
    first, last = (1, info["n_bars"]) if bars is None else (int(bars[0]), int(bars[1]))
    if not 1 <= first <= last <= info["n_bars"]:
        raise ArgumentError(f"bars must lie in 1..{info['n_bars']}, got {bars!r}", "bars")
    lost = info["dropped"] + info["cut"] + info["merged"]
    if strict and lost:
        raise EncodeError(f"{info['dropped']} notes dropped, {info['cut']} durations cut, "
                          f"{info['merged']} duplicates merged")
    in_range = (notes[:, 1] >= (first - 1) * STEPS_PER_BAR) & (notes[:, 1] < last * STEPS_PER_BAR)
    notes = notes[in_range]
    notes[:, 1] -= (first - 1) * STEPS_PER_BAR
    marked = [b - first + 1 for b in sorted(theme) if first <= b <= last]
    ids = _events(notes, last - first + 1, set(marked), info["tempo_bins"][first - 1:last])
    return Encoding(ids=ids, theme_bars=marked, n_bars=last - first + 1,
                    dropped=info["dropped"], cut=info["cut"], merged=info["merged"])


def _events(notes: np.ndarray, n_bars: int, theme: set, tempi: np.ndarray) -> np.ndarray:
    """The id sequence of grid notes (see :func:`note_table`) over ``n_bars`` bars."""
    out = [BOS]
    bar_of = notes[:, 1] // STEPS_PER_BAR
    starts = np.searchsorted(bar_of, np.arange(n_bars + 1))
    open_theme, tempo = False, -1
    for b in range(n_bars):
        if open_theme and (b + 1) not in theme:
            out.append(THEME_END)
            open_theme = False
        if not open_theme and (b + 1) in theme:
            out.append(THEME_START)
            open_theme = True
        out.append(BAR)
        if b % PHRASE_BARS == 0:
            out.append(PHRASE)
        if tempi[b] != tempo:
            tempo = int(tempi[b])
            out.append(TEMPO0 + tempo)
        pos = -1
        for role, step, pitch, dur, vel in notes[starts[b]:starts[b + 1]]:
            if step % STEPS_PER_BAR != pos:
                pos = step % STEPS_PER_BAR
                out.append(POSITION0 + pos)
            out += [NOTE0 + role * N_PITCHES + pitch - PITCH_RANGE[0], DURATION0 + dur - 1,
                    VELOCITY0 + min(vel // 4, VELOCITY_BINS - 1)]
    if open_theme:
        out.append(THEME_END)
    out.append(EOS)
    return np.array(out, dtype=np.int64)


def decode(ids, *, ticks_per_quarter: int = _TPQ) -> symusic.Score:
    """A Score (4/4, tracks MELODY, BRIDGE, PIANO, piano programs) of event ids. Tolerant:
    a note token without its duration gets one step, without velocity 64; tokens out of place
    are skipped; decoding stops at ``EOS``. Bar ``k`` (1-based) starts at tick
    ``(k - 1) * 4 * ticks_per_quarter``."""
    step = ticks_per_quarter * 4 // STEPS_PER_BAR
    kinds = token_kinds()
    notes = {t: [] for t in range(len(TRACKS))}
    tempos = []
    bar, pos, i, ids = -1, 0, 0, [int(x) for x in ids]
    while i < len(ids):
        tok = ids[i]
        i += 1
        if tok == EOS:
            break
        if tok == BAR:
            bar, pos = bar + 1, 0
        elif kinds[tok] == 1:
            pos = tok - POSITION0
        elif kinds[tok] == 2 and bar >= 0:
            tempos.append((bar * STEPS_PER_BAR * step, TEMPO_LOW + TEMPO_STEP * (tok - TEMPO0)))
        elif kinds[tok] == 3 and bar >= 0:
            dur, vel = 1, 64
            if i < len(ids) and kinds[ids[i]] == 4:
                dur, i = ids[i] - DURATION0 + 1, i + 1
            if i < len(ids) and kinds[ids[i]] == 5:
                vel, i = (ids[i] - VELOCITY0) * 4 + 2, i + 1
            role, pitch = divmod(tok - NOTE0, N_PITCHES)
            notes[role].append(((bar * STEPS_PER_BAR + pos) * step, dur * step,
                                pitch + PITCH_RANGE[0], vel))
    return _score(notes, tempos, ticks_per_quarter)


def _score(notes: dict, tempos: list, tpq: int) -> symusic.Score:
    score = symusic.Score(tpq)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    for t, qpm in tempos or [(0, 120.0)]:
        score.tempos.append(symusic.Tempo(int(t), float(qpm)))
    for role, name in enumerate(TRACKS):
        track = symusic.Track(name, 0, False)
        for t, d, p, v in notes[role]:
            track.notes.append(symusic.Note(int(t), int(d), int(p), int(v)))
        score.tracks.append(track)
    return score


def theme_bars_of(ids) -> list:
    """1-based bars inside ``Theme_Start`` ... ``Theme_End`` in event ids (a bar counts when
    its ``Bar`` token lies inside a region)."""
    out, bar, inside = [], 0, False
    for tok in ids:
        tok = int(tok)
        if tok == THEME_START:
            inside = True
        elif tok == THEME_END:
            inside = False
        elif tok == BAR:
            bar += 1
            if inside:
                out.append(bar)
        elif tok == EOS:
            break
    return out


def theme_positions(ids: np.ndarray, max_position: int | None = None) -> np.ndarray:
    """Theme-aligned position of every token of ``[..., n]`` ids: 1 at a ``Theme_Start``,
    counting up to the token before the next ``Theme_End``; 0 outside regions (the gates of
    the model are ``positions > 0``). ``max_position``: clip to it."""
    ids = np.asarray(ids)
    start = np.cumsum(ids == THEME_START, axis=-1)
    end = np.cumsum(ids == THEME_END, axis=-1)
    inside = start > end
    idx = np.broadcast_to(np.arange(ids.shape[-1]), ids.shape)
    # index of the latest Theme_Start at or before each token
    last = np.maximum.accumulate(np.where(ids == THEME_START, idx, -1), axis=-1)
    pos = np.where(inside & (last >= 0), idx - last + 1, 0)
    return np.minimum(pos, max_position) if max_position else pos


def transpose(ids: np.ndarray, semitones: int) -> np.ndarray:
    """``ids`` with every note moved by ``semitones`` (a note that would leave 21..108 is
    moved by octaves back inside it)."""
    ids = np.array(ids, dtype=np.int64, copy=True)
    note = (ids >= NOTE0) & (ids < DURATION0)
    role, pitch = np.divmod(ids[note] - NOTE0, N_PITCHES)
    pitch = pitch + int(semitones)
    pitch = np.where(pitch < 0, pitch + 12 * (-(pitch // 12)), pitch)
    pitch = np.where(pitch >= N_PITCHES, pitch - 12 * ((pitch - N_PITCHES) // 12 + 1), pitch)
    ids[note] = NOTE0 + role * N_PITCHES + pitch
    return ids


def write_vocabulary(path=VOCAB_FILE) -> Path:
    """Write the vocabulary file (``tokenizers/theme-events.json``)."""
    doc = (__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    Path(path).write_text(json.dumps({"name": "theme-events", "description": doc,
                                      "module": "symbolic.representations.theme_events",
                                      "steps_per_bar": STEPS_PER_BAR,
                                      "max_duration": MAX_DURATION, "phrase_bars": PHRASE_BARS,
                                      "pitch_range": list(PITCH_RANGE),
                                      "velocity_bins": VELOCITY_BINS, "tempo_bins": TEMPO_BINS,
                                      "tracks": list(TRACKS), "tokens": VOCAB}, indent=1) + "\n")
    return Path(path)
