"""Band arrangements made from POP909 songs: realistic multi-instrument test songs.

POP909 holds three piano-sounding tracks (MELODY, BRIDGE, PIANO). Infill and track mapping must
hold up on band arrangements too (vocals, a lead guitar, bass, piano, strings, pads, drums,
tracks named freely), and no such corpus ships with the project, so :func:`band_song` derives
one from a POP909 song and its annotations. Nothing is committed: the songs are made on the fly
from the corpus folder.

What :func:`band_song` makes (tick time, the song's own ticks per quarter, tempos and keys):

============  =======  ========================================================================
track         program  notes
============  =======  ========================================================================
Vocals        52       MELODY, unchanged
Lead Guitar   29       BRIDGE, unchanged
Piano         0        PIANO without its bass line (:func:`split_bass`)
Bass          33       PIANO's bass line: the lowest note of each onset when below pitch 55
                       (onsets within a 64th, tpq / 16 ticks, of each other count as one:
                       a rolled chord gives one bass note); durations kept
Strings       48       the annotated chord's tones, one sustained note per chord tone per
                       (bar x chord) span: held to the bar line or the next chord change,
                       voiced in pitches 55-66 (G3-F#4); no-chord spans (N) stay silent
Synth Pad     89       Strings an octave up (67-78) at low velocity
Drums         drum     kick 36 on beats 1 and 3, snare 38 on 2 and 4 (beats counted from each
                       annotated downbeat), closed hi-hat 42 on every eighth, over the
                       annotated beats from the first downbeat on
============  =======  ========================================================================

Every POP909 note lands in exactly one of Vocals, Lead Guitar, Bass and Piano, at its own time,
duration, pitch and velocity. The default variant replaces the file's declared meter (1/4 in 617
songs, 2/4 or 4/4 in the others, whatever the music) with time signatures that put a bar line
on every annotated downbeat (:func:`symbolic.timeline.with_meter`: 4/4 for the usual bar of four
beats).

``variant`` adds the ways real files differ; several join with ``+`` (``"generic+declared"``):

- ``"default"``: the named tracks above, the annotated meter.
- ``"generic"``: tracks named as files name them when nobody cared (``"Track 3"``, ``"MIDI"``,
  ``""``, ``"Untitled"``...), in a shuffled order: a mapping must go by program and register.
- ``"two-leads"``: a second melody-like track ``Lead Synth`` (program 81) doubling the vocal
  in unison in about half of the 4-bar phrases (at least one).
- ``"declared"``: the file's own time signatures kept (the declared 1/4 or 2/4), as a raw POP909
  file has them.

``seed`` picks the generic names, the track order and the doubled phrases.
"""

from __future__ import annotations

import numpy as np
import symusic

from .. import checks, limits
from ..errors import ArgumentError, TrackMappingError
from ..harmony import Chord, ChordSequence, recognize_chords
from ..timeline import bar_lines, beat_lines, require_tick, with_meter

__all__ = ["band_song", "split_bass", "bass_mask", "VARIANTS", "BASS_BELOW"]

#: The variants :func:`band_song` knows; join several with ``+``.
VARIANTS = ("default", "generic", "two-leads", "declared")
#: Notes below this pitch (G3) can be the bass line (:func:`split_bass`).
BASS_BELOW = 55

# (name, program) of each part; the POP909 track each pitched part comes from.
VOCALS, LEAD, PIANO, BASS = ("Vocals", 52), ("Lead Guitar", 29), ("Piano", 0), ("Bass", 33)
STRINGS, PAD, LEAD_SYNTH = ("Strings", 48), ("Synth Pad", 89), ("Lead Synth", 81)
KICK, SNARE, HAT = 36, 38, 42
STRINGS_LOW = 55  # chord tones voiced in [55, 67), the pad an octave higher
GENERIC_NAMES = ("", "MIDI", "Untitled", "Instrument", "Track {}", "Track {}", "Track {}")


def bass_mask(time, pitch, *, below: int = BASS_BELOW, window: int = 0) -> np.ndarray:
    """Which notes make the bass line: a bool array over notes ``(time, pitch)`` (arrays, ticks).

    Notes whose onsets lie within ``window`` ticks of the previous onset (chained) form one
    onset; the lowest note of each onset is bass when its pitch is below ``below``; ties go to
    the first note in the given order. Vectorized (one sort).
    """
    time, pitch = np.asarray(time, dtype=np.int64), np.asarray(pitch, dtype=np.int64)
    mask = np.zeros(len(time), dtype=bool)
    if len(time) == 0:
        return mask
    by_time = np.argsort(time, kind="stable")
    gap = np.diff(time[by_time]) > int(window)
    group = np.empty(len(time), dtype=np.int64)
    group[by_time] = np.concatenate([[0], np.cumsum(gap)])
    order = np.lexsort((np.arange(len(time)), pitch, group))  # lowest (then first) per onset
    first = order[np.concatenate([[True], np.diff(group[order]) != 0])]
    mask[first[pitch[first] < below]] = True
    return mask


def split_bass(track, *, below: int = BASS_BELOW, window: int = 0, monophonic: bool = False):
    """``(bass, rest)``: ``track``'s notes split into its bass line and everything else.

    The bass line is :func:`bass_mask`: at each onset (notes starting within ``window`` ticks
    count as one; 0: the same tick), the lowest note, when it is below ``below`` (default 55, G3:
    the accompaniment's lowest line, not a left hand's upper chord tones). What that does to the
    music:

    - a left hand playing block chords or octaves gives one bass note per chord: the lowest;
      the octave doubling and the chord tones above it stay in ``rest``;
    - an arpeggiated (broken-chord) left hand gives a bass note per onset below ``below``, so
      the bass line walks through the arpeggio's low notes (root, fifth, octave...), not only
      the root;
    - a note held under later onsets does not keep them from being bass: the bass line may
      overlap itself (POP909's pianists hold notes: in the median song 38% of the bass notes
      still sound when the next one starts). The notes keep their durations unless
      ``monophonic``, which cuts each bass note at the next bass onset (onsets and pitches
      unchanged);
    - onsets with nothing below ``below`` (a right-hand-only passage) give no bass: rests;
    - a rolled chord whose notes start a few ticks apart gives several bass notes unless
      ``window`` covers the roll.

    On POP909's PIANO tracks (window 30 ticks, as :func:`band_song` splits them) the bass takes
    28% of the notes in the median song (18% to 42% from the 10th to the 90th percentile).

    ``track``: a symusic track (both returned tracks copy its name, program and drum flag; the
    caller renames them) or a dict of note arrays with ``time``, ``pitch`` and, with
    ``monophonic``, ``duration`` (what ``track.notes.numpy()`` gives; both returned dicts hold
    every key, filtered). Every note lands in exactly one of the two, unchanged (but for the
    bass durations ``monophonic`` cuts).
    """
    below = checks.integer("below", below, 0, 128)
    window = checks.integer("window", window, 0)
    if isinstance(track, dict):
        notes = {k: np.asarray(v) for k, v in track.items()}
    elif hasattr(track, "notes"):
        notes = track.notes.numpy()
    else:
        raise ArgumentError(f"must be a symusic track or a dict of note arrays, got "
                            f"{type(track).__name__}", "track")
    mask = bass_mask(notes["time"], notes["pitch"], below=below, window=window)
    bass = {k: v[mask] for k, v in notes.items()}
    if monophonic and len(bass["time"]):
        bass["duration"] = _cut_at_next_onset(bass["time"], bass["duration"])
    rest = {k: v[~mask] for k, v in notes.items()}
    if isinstance(track, dict):
        return bass, rest
    return _track_like(track, bass), _track_like(track, rest)


def _cut_at_next_onset(time: np.ndarray, duration: np.ndarray) -> np.ndarray:
    """Durations cut so that no note sounds past the next later onset (at least one tick)."""
    time, length = time.astype(np.int64), duration.astype(np.int64)
    onsets = np.unique(time)
    nxt = np.searchsorted(onsets, time, side="right")
    last = nxt == len(onsets)
    limit = onsets[np.minimum(nxt, len(onsets) - 1)] - time
    limit[last] = length[last]
    return np.maximum(np.minimum(length, limit), 1).astype(duration.dtype)


def band_song(song, *, variant: str = "default", seed: int = 0) -> symusic.Score:
    """A band arrangement of a POP909 song (see the module doc): a new tick-time Score.

    ``song``: a :class:`~symbolic.data.pop909.Pop909Song` (its annotated beats, downbeats and
    chords are used) or a tick-time Score with tracks MELODY, BRIDGE and PIANO (a POP909 file
    without annotations: bars of 4/4 from tick 0, chords recognized on the piano per beat with
    :func:`symbolic.harmony.recognize_chords`). ``variant``: one of :data:`VARIANTS`, or several
    joined with ``+``. ``seed``: a whole number >= 0.
    """
    flags = _variant_flags(variant)
    seed = checks.integer("seed", seed, 0)
    score, beats, bars, chords = _song_parts(song)
    rng = np.random.default_rng(seed)
    window = score.ticks_per_quarter // 16  # a 64th: a rolled chord is one onset
    bass, piano = split_bass(_source_track(score, "PIANO"), window=window)
    tracks = [_renamed(_source_track(score, "MELODY"), *VOCALS),
              _renamed(_source_track(score, "BRIDGE"), *LEAD),
              _renamed(piano, *PIANO), _renamed(bass, *BASS)]
    strings = _chord_track(chords, bars, STRINGS, low=STRINGS_LOW, velocity=60)
    tracks += [strings, _chord_track(chords, bars, PAD, low=STRINGS_LOW + 12, velocity=36),
               _drum_track(beats, bars, score.ticks_per_quarter)]
    if "two-leads" in flags:
        tracks.insert(2, _doubling(tracks[0], bars, rng))
    if "generic" in flags:
        tracks = _generic(tracks, rng)
    out = score.copy()
    out.tracks = symusic.core.TrackTickList(tracks)
    if "declared" not in flags:
        out = with_meter(out, None, bar_ticks=bars)
    return out


# ------------------------------------------------------------------------------------ parts

def _variant_flags(variant) -> set[str]:
    if not isinstance(variant, str) or not variant:
        raise ArgumentError(f"must be one of {', '.join(VARIANTS)} (or several joined with "
                            f"'+'), got {variant!r}", "variant")
    flags = set(variant.split("+"))
    unknown = sorted(flags - set(VARIANTS))
    if unknown:
        raise ArgumentError(f"unknown {', '.join(map(repr, unknown))}; choose from "
                            f"{', '.join(VARIANTS)} (several joined with '+')", "variant")
    return flags


def _song_parts(song):
    """``(score, beats, bars, (chord_start, chord_end, chords))`` of a song or a bare score."""
    if hasattr(song, "bar_ticks") and hasattr(song, "score"):
        starts, ends = song.chord_ticks()
        chords = [Chord.parse(c) for c in song.chords.labels]
        return (song.score, song.beat_ticks(), np.unique(song.bar_ticks()),
                (np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64), chords))
    if not isinstance(song, symusic.core.ScoreTick):
        raise ArgumentError(f"must be a Pop909Song or a tick-time symusic.Score, got "
                            f"{type(song).__name__}", "song")
    require_tick(song, "song")
    limits.check_score(song, "song")
    for name in ("MELODY", "BRIDGE", "PIANO"):
        _source_track(song, name)
    end = max(int(song.end()), 1)
    bar_ticks, nums, dens = bar_lines((np.array([0]), np.array([4]), np.array([4])),
                                      song.ticks_per_quarter, end)
    beats = beat_lines(bar_ticks, nums, dens, song.ticks_per_quarter)
    seq = recognize_chords(song, beats=beats, downbeats=bar_ticks[:-1], tracks=["PIANO"])
    return song, beats, bar_ticks[:-1], (np.asarray(seq.start, dtype=np.int64),
                                         np.asarray(seq.end, dtype=np.int64), seq.chords)


def _source_track(score, name: str):
    for t in score.tracks:
        if t.name.strip().upper() == name:
            return t
    raise TrackMappingError(f"no track named {name} (band_song needs POP909's MELODY, BRIDGE "
                            f"and PIANO; has {[t.name for t in score.tracks]})", "song")


def _track_like(track, notes: dict):
    out = symusic.Track(track.name, track.program, track.is_drum)
    out.notes = symusic.Note.from_numpy(*(notes[k] for k in
                                          ("time", "duration", "pitch", "velocity")))
    return out


def _renamed(track, name: str, program: int):
    out = track.copy()
    out.name, out.program, out.is_drum = name, program, False
    return out


def _new_track(part, time, duration, pitch, velocity, is_drum: bool = False):
    name, program = part
    track = symusic.Track(name, program, is_drum)
    order = np.lexsort((pitch, time))
    track.notes = symusic.Note.from_numpy(
        np.asarray(time, dtype=np.int32)[order], np.asarray(duration, dtype=np.int32)[order],
        np.asarray(pitch, dtype=np.int8)[order], np.asarray(velocity, dtype=np.int8)[order])
    return track


def _chord_track(chords, bars, part, *, low: int, velocity: int):
    """One note per chord tone per (bar x chord span), voiced in ``[low, low + 12)``: a chord
    held over a bar line is struck again at the bar."""
    seq = ChordSequence(*chords).merged()  # a chord repeated in the next span is held
    starts, ends, labels = seq.start, seq.end, seq.chords
    cut = np.unique(np.concatenate([starts, ends, bars]))
    a, b = cut[:-1], cut[1:]
    span = np.searchsorted(starts, a, side="right") - 1
    inside = (span >= 0) & (b <= ends[np.maximum(span, 0)])
    time, dur, pitch = [], [], []
    for s, e, k in zip(a[inside], b[inside], span[inside]):
        pcs = sorted(labels[k].pitch_classes())
        time += [s] * len(pcs)
        dur += [e - s] * len(pcs)
        pitch += [low + (pc - low) % 12 for pc in pcs]
    time, dur, pitch = (np.asarray(x, dtype=np.int64) for x in (time, dur, pitch))
    return _new_track(part, time, dur, pitch, np.full(len(time), velocity))


def _drum_track(beats, bars, tpq: int):
    """Kick on beats 1 and 3, snare on 2 and 4, hi-hat on eighths, from the first downbeat."""
    beats = np.unique(np.asarray(beats, dtype=np.int64))
    beats = beats[beats >= bars[0]] if len(bars) else beats[:0]
    if len(beats) == 0:
        return _new_track(("Drums", 0), [], [], [], [], is_drum=True)
    bar_of = np.searchsorted(bars, beats, side="right") - 1
    first_beat = np.searchsorted(beats, bars)  # index of each bar's first beat
    index = np.arange(len(beats)) - first_beat[bar_of]  # 0-based beat within the bar
    step = np.diff(beats, append=beats[-1] + (np.median(np.diff(beats)) if len(beats) > 1
                                                else tpq)) // 2
    hits = 0.05 * tpq
    time = np.concatenate([beats, beats, beats + step])
    pitch = np.concatenate([np.where(index % 2 == 0, KICK, SNARE),
                            np.full(len(beats), HAT), np.full(len(beats), HAT)])
    velocity = np.concatenate([np.where(index % 2 == 0, 100, 92),
                               np.full(len(beats), 72), np.full(len(beats), 56)])
    return _new_track(("Drums", 0), time, np.full(len(time), max(int(hits), 1)), pitch,
                      velocity, is_drum=True)


def _doubling(vocals, bars, rng):
    """``Lead Synth``: the vocal's notes starting in about half of the 4-bar phrases."""
    phrases = max(1, (len(bars) + 3) // 4)
    chosen = rng.random(phrases) < 0.5
    chosen[rng.integers(phrases)] = True
    n = vocals.notes.numpy()
    phrase = (np.searchsorted(bars, n["time"], side="right") - 1) // 4
    keep = chosen[np.clip(phrase, 0, phrases - 1)]
    return _new_track(LEAD_SYNTH, n["time"][keep], n["duration"][keep], n["pitch"][keep],
                      np.maximum(n["velocity"][keep].astype(np.int64) - 10, 1))


def _generic(tracks, rng):
    """The tracks in a shuffled order under names that say nothing."""
    order = rng.permutation(len(tracks))
    out = []
    for pos, k in enumerate(order):
        t = tracks[k].copy()
        t.name = GENERIC_NAMES[rng.integers(len(GENERIC_NAMES))].format(pos + 1)
        out.append(t)
    return out
