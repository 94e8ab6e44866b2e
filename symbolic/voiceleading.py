"""Voice-leading report of a four-part score (soprano, alto, tenor, bass): parallel fifths and
octaves, voice crossings, wide spacing and notes out of range, each with its bar and beat, and
their rates per 100 beats. Vectorized in numpy: a Bach chorale takes about a millisecond.

What counts, in the order of :data:`KINDS`:

- The score is read note against note on the **onset grid**: every tick where any voice starts
  a note (or ends one, so a rest begins). At each grid tick a voice sounds the note it last
  started, until that note ends (a rest: nothing) or its next note starts; of notes starting
  together in one track the highest counts (the lowest in the bass).
- ``parallel_fifth`` / ``parallel_octave``: two voices (any of the six pairs) both sound at two
  consecutive grid ticks, both move, in the same direction, and the interval between them
  (semitones, mod 12) is a perfect fifth (7) at both ticks, or an octave or unison (0) at both
  (so a fifth to a twelfth counts, a fifth to a diminished fifth does not). Contrary motion
  ("antiparallel" fifths) and repeated notes do not count; a passing note between two fifths
  breaks them (they are not consecutive on the grid), and so does a rest. Reported at the
  second sonority.
- ``crossing``: a voice sounds above the next higher voice (alto over soprano, tenor over
  alto, bass over tenor); reported at each grid tick where one of the two voices starts a note
  while they are crossed.
- ``spacing``: more than an octave (over 12 semitones) between soprano and alto, or alto and
  tenor (tenor-bass may be wider); reported like crossings.
- ``range``: a note starting outside its voice's range, :data:`RANGES` (MIDI numbers):
  soprano C4-G5 (60-79), alto G3-D5 (55-74), tenor C3-G4 (48-67), bass E2-C4 (40-60).

Bars and beats: ``bar`` is 1-based, counting bars as laid out (by the time signatures, or by
``bar_ticks``, e.g. ``chorale_marks(name).bar_ticks`` of
:mod:`symbolic.data.music21_corpus`, since a loaded chorale keeps its time signature but not
its pickup measure); a pickup is bar 1 where printed editions
say bar 0. ``beat`` is 1-based and fractional (2.5: the eighth after beat 2); a beat is the
time signature's note value (dotted in 6/8, 9/8, 12/8); a first bar shorter than its meter is a
pickup and counts its beats from the end (a one-quarter pickup in 4/4 is on beat 4).

Voices (``voices=None``): tracks named for the four voices, by name or a common spelling
(:data:`symbolic.tracks.VOICE_ALIASES`: 'S.', 'Sopran', 'Canto', 'Alto', 'A.', 'Tenor',
'Ten.', 'Bass', 'Basso', 'B.', and the string parts that double the voices in Bach's cantata
chorales: 'Violin I' soprano, 'Violin II' alto, 'Viola' tenor, 'Cello'/'Continuo' bass; a name
made of a voice's name and more words, such as 'Soprano Oboe 1 Violin1', also counts; a
voice's own name wins over an alias, an alias over such words: 'Soprano' over 'Violin 1');
else, when the score has exactly four pitched tracks, those in score order, top voice first.
``voices=`` names them explicitly (four track indices or names, soprano first).

Example::

    from symbolic import load
    from symbolic.voiceleading import report
    r = report(load("corpus:bach/bwv66.6"))
    print(r)                                  # counts, rates per 100 beats, each finding
    r.counts["parallel_fifth"], r.rates["crossing"], r.to_dict()
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import symusic

from . import checks
from .errors import ArgumentError, ArgumentTypeError, TrackMappingError
from .timeline import MetricGrid, meter_changes, require_tick
from .tracks import VOICES, find_part, parts_for

__all__ = ["report", "VoiceLeadingReport", "Finding", "KINDS", "VOICES", "RANGES"]

#: The kinds of findings, in report order.
KINDS = ("parallel_fifth", "parallel_octave", "crossing", "spacing", "range")
#: Range of each voice, (lowest, highest) MIDI note numbers, inclusive (the usual textbook
#: ranges: S C4-G5, A G3-D5, T C3-G4, B E2-C4).
RANGES: dict[str, tuple[int, int]] = {"soprano": (60, 79), "alto": (55, 74),
                                      "tenor": (48, 67), "bass": (40, 60)}
_PARTS = parts_for(VOICES)  # the voices with symbolic.tracks.VOICE_ALIASES
_PAIRS = np.array([(i, j) for i in range(4) for j in range(i + 1, 4)])  # upper, lower
_ADJACENT = np.array([(0, 1), (1, 2), (2, 3)])
_SPACED = np.array([(0, 1), (1, 2)])


@dataclass(frozen=True)
class Finding:
    """One finding: ``kind`` (one of :data:`KINDS`), ``voices`` (the voices involved, upper
    first), ``bar`` (1-based), ``beat`` (1-based, fractional), ``tick`` (its onset) and
    ``pitches`` (MIDI numbers: upper-from, lower-from, upper-to, lower-to for parallels;
    upper, lower for crossings and spacing; the note for a range)."""

    kind: str
    voices: tuple[str, ...]
    bar: int
    beat: float
    tick: int
    pitches: tuple[int, ...]


@dataclass
class VoiceLeadingReport:
    """Findings in time order, the beats the score spans, and the tracks read as voices
    (their names, and their ``indices`` in the score), soprano first."""

    findings: list[Finding]
    beats: float
    tracks: tuple[str, ...]
    indices: tuple[int, ...]
    counts: dict[str, int] = field(init=False)
    rates: dict[str, float] = field(init=False)

    def __post_init__(self):
        self.counts = {k: sum(f.kind == k for f in self.findings) for k in KINDS}
        per = 100.0 / self.beats if self.beats > 0 else 0.0
        self.rates = {k: round(n * per, 3) for k, n in self.counts.items()}

    def to_dict(self) -> dict:
        """JSON-ready: tracks, indices, beats, counts, rates per 100 beats, findings (dicts)."""
        return {"tracks": list(self.tracks), "indices": list(self.indices),
                "beats": self.beats, "counts": dict(self.counts),
                "rates_per_100_beats": dict(self.rates),
                "findings": [{**asdict(f), "voices": list(f.voices),
                              "pitches": list(f.pitches)} for f in self.findings]}

    def __str__(self) -> str:
        lines = [f"voices: {', '.join(f'{v}={t!r}' for v, t in zip(VOICES, self.tracks))}; "
                 f"{self.beats:g} beats",
                 f"{'kind':<16}{'count':>6}{'per 100 beats':>15}"]
        lines += [f"{k:<16}{self.counts[k]:>6}{self.rates[k]:>15.2f}" for k in KINDS]
        if self.findings:
            lines += ["", f"{'bar':>4} {'beat':>5}  {'kind':<16}{'voices':<16}pitches"]
            lines += [f"{f.bar:>4} {f.beat:>5g}  {f.kind:<16}{'-'.join(f.voices):<16}"
                      f"{' '.join(_name(p) for p in f.pitches)}" for f in self.findings]
        return "\n".join(lines)


def _name(pitch: int) -> str:
    names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
    return f"{names[pitch % 12]}{pitch // 12 - 1}"


def report(score: symusic.Score, *, voices=None, bar_ticks=None) -> VoiceLeadingReport:
    """The voice-leading findings of a four-part tick-time score (see the module doc for what
    counts). ``voices``: four track indices or names, soprano first (None: by the tracks'
    names, else the four pitched tracks in order). ``bar_ticks``: bar-start ticks (ascending
    whole numbers >= 0; the end of the last bar may follow) instead of the time signatures'
    bars. Raises :class:`~symbolic.errors.ArgumentError` naming ``voices`` or ``bar_ticks``,
    :class:`~symbolic.errors.TickTimeError` for a score not in ticks and
    :class:`~symbolic.errors.TrackMappingError` when ``voices=None`` finds no four voices."""
    require_tick(score)
    chosen = _choose_voices(score, voices)
    bars = checks.bar_ticks("bar_ticks", bar_ticks)
    grid, pitch, onset = _onset_grid([score.tracks[i] for i in chosen])
    places = _bar_beats(score, bars, grid)
    found = _parallels(grid, pitch) + _crossings(grid, pitch, onset) + \
        _spacings(grid, pitch, onset) + _ranges(grid, pitch, onset)
    found.sort(key=lambda f: (f[2], KINDS.index(f[0]), f[1]))
    findings = [Finding(kind, tuple(VOICES[v] for v in vs), int(places[0][g]),
                        float(places[1][g]), int(grid[g]), ps)
                for kind, vs, g, ps in found]
    return VoiceLeadingReport(findings, places[2], tuple(score.tracks[i].name for i in chosen),
                              tuple(chosen))


# ---------------------------------------------------------------- arguments and voices
def _choose_voices(score: symusic.Score, voices) -> list[int]:
    tracks = score.tracks
    if voices is None:
        return _voices_by_name(tracks)
    if isinstance(voices, (str, bytes)) or not hasattr(voices, "__iter__"):
        raise ArgumentTypeError(f"must be four track indices or names, soprano first, got "
                                f"{voices!r}", "voices")
    voices = list(voices)
    if len(voices) != 4:
        raise ArgumentError(f"must name four tracks (soprano, alto, tenor, bass), got "
                            f"{len(voices)}", "voices")
    lows = [t.name.strip().lower() for t in tracks]
    out = []
    for v in voices:
        if isinstance(v, str) and v.strip().lower() in lows:
            out.append(lows.index(v.strip().lower()))
        elif isinstance(v, str):
            raise ArgumentError(f"no track named {v!r}; tracks: {[t.name for t in tracks]}",
                                "voices")
        else:
            out.append(checks.integer("voices", v, 0, len(tracks) - 1))
    if len(set(out)) != 4:
        raise ArgumentError(f"must be four different tracks, got {voices!r}", "voices")
    return out


def _voices_by_name(tracks) -> list[int]:
    chosen: list[int | None] = [None] * 4
    lows = [t.name.strip().lower() for t in tracks]
    # A voice's own name first, then its aliases, then words: a cantata chorale's 'Violin 1'
    # stands in for the soprano only when no track is named 'Soprano'.
    for match in (lambda low: VOICES.index(low) if low in VOICES else None,
                  lambda low: find_part(low, _PARTS, words=False),
                  lambda low: find_part(low, _PARTS, words=True)):
        for i, t in enumerate(tracks):
            k = None if t.is_drum or i in chosen else match(lows[i])
            if k is not None and chosen[k] is None:
                chosen[k] = i
    if None not in chosen:
        return chosen
    pitched = [i for i, t in enumerate(tracks) if not t.is_drum and len(t.notes)]
    if len(pitched) == 4:
        return pitched
    raise TrackMappingError(f"no four voices (soprano, alto, tenor, bass) among the tracks "
                            f"{[t.name for t in tracks]}; pass voices=", "score")


# ---------------------------------------------------------------- the onset grid
def _voice_line(track, lowest: bool):
    """(onsets, ends, pitches) of one voice: one note per onset (highest, or lowest for the
    bass), each ending at its own end or the next onset, whichever comes first."""
    a = track.notes.numpy()
    t = a["time"].astype(np.int64)
    p = a["pitch"].astype(np.int64)
    end = t + a["duration"].astype(np.int64)
    order = np.lexsort((-p if lowest else p, t))
    t, p, end = t[order], p[order], end[order]
    last = np.append(t[1:] != t[:-1], True) if len(t) else np.zeros(0, bool)
    t, p, end = t[last], p[last], end[last]
    if len(t):
        end = np.minimum(end, np.append(t[1:], end[-1]))
    return t, end, p


def _onset_grid(tracks):
    """(grid ticks, pitch[4, G] with -1 for silence, onset[4, G]) of the four voices: the
    grid holds every onset and every note end of the four voices."""
    lines = [_voice_line(t, lowest=(v == 3)) for v, t in enumerate(tracks)]
    # Note ends join the grid so that a rest (nothing starting) breaks a pair's motion.
    grid = np.unique(np.concatenate([x for line in lines for x in line[:2]]))
    pitch = np.full((4, len(grid)), -1, dtype=np.int64)
    onset = np.zeros((4, len(grid)), dtype=bool)
    for v, (t, end, p) in enumerate(lines):
        if not len(t):
            continue
        k = np.searchsorted(t, grid, side="right") - 1
        kk = np.maximum(k, 0)
        sounding = (k >= 0) & (end[kk] > grid)
        pitch[v] = np.where(sounding, p[kk], -1)
        onset[v] = sounding & (t[kk] == grid)
    return grid, pitch, onset


def _bar_beats(score, bars, grid):
    """(1-based bar, 1-based beat of each grid tick, beats the score spans)."""
    tpq = score.ticks_per_quarter
    end = max(int(score.end()), int(grid[-1]) if len(grid) else 0, 1)
    lines = MetricGrid.from_score(score, resolution=1, bar_ticks=bars, end=end).bar_ticks
    ticks, nums, dens = meter_changes(score, before_first=None)
    m = np.searchsorted(ticks, lines[:-1], side="right") - 1
    beat = 4.0 * tpq / dens[m]
    beat = np.where((dens[m] >= 8) & (nums[m] > 3) & (nums[m] % 3 == 0), 3 * beat, beat)
    origin = lines[:-1].astype(np.float64)
    full = nums[m[0]] * 4.0 * tpq / dens[m[0]]  # the first bar's meter, whole
    if len(lines) > 2 and lines[1] - lines[0] < full - 0.5:  # a pickup: beats from its end
        origin[0] = lines[1] - full
    bar = np.clip(np.searchsorted(lines, grid, side="right") - 1, 0, len(lines) - 2)
    where = 1.0 + np.round((grid - origin[bar]) / beat[bar], 3)
    span = np.clip(lines, None, end)
    return bar + 1, where, round(float(np.sum(np.diff(span) / beat)), 3)


# ---------------------------------------------------------------- the findings
def _parallels(grid, pitch) -> list:
    up, low = pitch[_PAIRS[:, 0]], pitch[_PAIRS[:, 1]]
    a, b, c, d = up[:, :-1], up[:, 1:], low[:, :-1], low[:, 1:]
    moving = np.sign(b - a) * np.sign(d - c) > 0
    ok = moving & (a >= 0) & (b >= 0) & (c >= 0) & (d >= 0)
    before, after = np.abs(a - c) % 12, np.abs(b - d) % 12
    out = []
    for kind, iv in (("parallel_fifth", 7), ("parallel_octave", 0)):
        pair, k = np.nonzero(ok & (before == iv) & (after == iv))
        out += [(kind, tuple(_PAIRS[p]), g + 1, (int(a[p, g]), int(c[p, g]), int(b[p, g]),
                                                 int(d[p, g]))) for p, g in zip(pair, k)]
    return out


def _pair_hits(kind, pairs, pitch, onset, bad) -> list:
    up, low = pitch[pairs[:, 0]], pitch[pairs[:, 1]]
    hit = bad(up, low) & (up >= 0) & (low >= 0) & (onset[pairs[:, 0]] | onset[pairs[:, 1]])
    pair, g = np.nonzero(hit)
    return [(kind, tuple(pairs[p]), k, (int(up[p, k]), int(low[p, k]))) for p, k in zip(pair, g)]


def _crossings(grid, pitch, onset) -> list:
    return _pair_hits("crossing", _ADJACENT, pitch, onset, lambda up, low: low > up)


def _spacings(grid, pitch, onset) -> list:
    return _pair_hits("spacing", _SPACED, pitch, onset, lambda up, low: up - low > 12)


def _ranges(grid, pitch, onset) -> list:
    lo = np.array([RANGES[v][0] for v in VOICES])[:, None]
    hi = np.array([RANGES[v][1] for v in VOICES])[:, None]
    voice, g = np.nonzero(onset & ((pitch < lo) | (pitch > hi)))
    return [("range", (int(v),), k, (int(pitch[v, k]),)) for v, k in zip(voice, g)]
