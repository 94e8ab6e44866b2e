"""Conversions between ``symusic.Score`` (tick time, the hub type) and pretty_midi, mido and
music21 objects, plus :func:`compare_scores` to state what a round trip lost.

Every function takes or returns a tick-time ``symusic.Score``. What each route keeps and
loses (measured by ``tests/test_convert.py``):

pretty_midi (:func:`to_pretty_midi` / :func:`from_pretty_midi`), in memory
    Exact: every note (pitch, onset tick, duration tick, velocity), program, drum flag, track
    name, empty tracks, tempos (microseconds per quarter), time signatures, control changes,
    pitch bends, pedals derived from CC64, markers (as ``PrettyMIDI.text_events``).
    The PrettyMIDI gets the score's resolution and tempo map, so seconds map back to the same
    ticks; ``PrettyMIDI.write`` also gives back the same ticks and tempos.
    Lost: key-signature spelling outside -5..+6 sharps (pretty_midi stores the tonic only:
    Gb major (-6) comes back as F# major (+6), C# (+7) as Db (-5), Cb (-7) as B (+5));
    the track of a lyric (pretty_midi keeps one global list: lyrics come back on track 0);
    a score whose first tempo is after tick 0 gets MIDI's implicit 120 BPM made explicit at
    tick 0; a Pedal that has no CC64 events behind it is written as CC64 127/0 and comes back
    as those two control changes plus the pedal. Pedals come back derived from CC64 by the
    rule of symusic's reader (64 or more: down), without that reader's slip: symusic 0.5.9
    starts the first pedal of a track on a MIDI channel other than 1 at tick 0 (POP909 PIANO
    tracks: the first pedal differs in its start, nothing else).

mido (:func:`to_mido` / :func:`from_mido`)
    Goes through symusic's own MIDI writer and reader (``Score.dumps_midi`` and
    ``Score.from_midi`` on bytes), so ``from_mido(mf)`` equals loading the same file, and
    ``to_mido(score)`` holds what saving the score writes. Exact for notes, programs, drum
    flags, track names, tempos, time and key signatures, controls, pitch bends, markers.
    Lost (all from the MIDI format or symusic's reader, measured): a track without notes;
    Pedal objects with no CC64 control behind them (symusic writes controls, not pedals,
    and derives pedals from CC64 when reading); lyrics come back on a separate note-less
    track of the same name; two overlapping notes of one pitch in one track are re-paired
    first-on/first-off; a note of velocity 0 (a note-on of velocity 0 is a note-off); the
    start of the first pedal of a track on a MIDI channel other than 1 (read as tick 0 by
    symusic 0.5.9). A ``mido.MidiFile`` holds what a Score does not: channel numbers,
    note-off velocities, aftertouch, sysex, sequencer-specific and other text meta events,
    SMPTE offset, the file type, the chunk layout and ``end_of_track`` times.

music21 (:func:`to_music21` / :func:`from_music21`)
    Works in quarterLength; offsets are ``Fraction(tick, ticks_per_quarter)``, exact.
    ``from_music21(to_music21(score))`` keeps notes, programs, drum flags, track names,
    tempos, time and key signatures, and lyrics that sit on a note onset. Other track events
    (controls, pitch bends, pedals, markers) are not carried. Through MusicXML (music21
    ``write('musicxml')`` then ``converter.parse``): velocities survive (music21 writes
    ``<note dynamics=...>``), an empty track name comes back as the instrument's name, a drum
    track's program comes back as 0. A score whose durations are not expressible in notation
    (POP909: durations of 49 ticks at 480 per quarter) can only be written after
    ``quantize=True``; music21 raises ``MusicXMLExportException`` otherwise.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np
import symusic

from .errors import ConversionError

__all__ = [
    "to_pretty_midi",
    "from_pretty_midi",
    "to_mido",
    "from_mido",
    "to_music21",
    "from_music21",
    "RoundTripReport",
    "compare_scores",
    "DEFAULT_VELOCITY",
]

#: Velocity given to music21 notes that carry no ``volume.velocity``.
DEFAULT_VELOCITY = 64

_DEFAULT_MSPQ = 500_000  # MIDI's implicit 120 BPM

# pretty_midi names keys by tonic (0-11 major, 12-23 minor); these are the sharps counts of
# the names its writer uses (C Db D Eb E F F# G Ab A Bb B / Cm C#m Dm D#m Em Fm F#m Gm G#m
# Am Bbm Bm), so that from_pretty_midi agrees with PrettyMIDI.write followed by a MIDI read.
_KEY_NUMBER_TO_SHARPS = np.array(
    [0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5, -3, 4, -1, 6, 1, -4, 3, -2, 5, 0, -5, 2]
)


# --------------------------------------------------------------------------- helpers


def import_pretty_midi():
    """``pretty_midi``, imported with anything it prints sent to stderr.

    pretty_midi imports pyfluidsynth when installed, and pyfluidsynth prints where it found
    libfluidsynth whenever the ``CI`` environment variable is set; on stdout that would corrupt
    the CLI's JSON output.
    """
    if "pretty_midi" not in sys.modules:
        with contextlib.redirect_stdout(sys.stderr):
            import pretty_midi  # noqa: F401
    return sys.modules["pretty_midi"]


def _require_tick_score(score, what: str) -> symusic.Score:
    if not isinstance(score, symusic.core.ScoreTick):
        other = (symusic.core.ScoreQuarter, symusic.core.ScoreSecond)
        hint = " (call score.to('tick') first)" if isinstance(score, other) else ""
        raise ConversionError(
            f"{what} expects a tick-time symusic.Score, got {type(score).__name__}{hint}")
    return score


def _sorted_events(events, *fields):
    """Columns of a symusic event list as numpy arrays, stably sorted by time."""
    if len(events) == 0:
        return {f: np.zeros(0, dtype=np.int64) for f in ("time",) + fields}
    arr = events.numpy()
    order = np.argsort(arr["time"], kind="stable")
    return {f: np.asarray(arr[f])[order] for f in ("time",) + fields}


def _notes_from_arrays(time, duration, pitch, velocity):
    return symusic.Note.from_numpy(
        np.asarray(time, dtype=np.int32),
        np.asarray(duration, dtype=np.int32),
        np.asarray(pitch, dtype=np.int8),
        np.asarray(velocity, dtype=np.int8),
    )


def _pedals_from_cc64(time: np.ndarray, value: np.ndarray):
    """Pedals from CC64 events, as symusic's MIDI reader derives them: a value of 64 or more
    presses the pedal, a lower value releases it; repeated presses extend the held pedal; a
    pedal still held at the end is dropped."""
    down = np.asarray(value) >= 64
    time = np.asarray(time, dtype=np.int64)
    prev = np.concatenate([[False], down[:-1]])
    starts = np.flatnonzero(down & ~prev)
    ends = np.flatnonzero(~down & prev)
    n = min(len(starts), len(ends))  # ends[i] always follows starts[i]
    t0, t1 = time[starts[:n]], time[ends[:n]]
    return symusic.Pedal.from_numpy(t0.astype(np.int32), (t1 - t0).astype(np.int32))


# --------------------------------------------------------------------------- pretty_midi


def _tempo_segments(score) -> tuple[np.ndarray, np.ndarray]:
    """``(ticks, mspq)`` of the tempo map, starting at tick 0 (MIDI's 120 BPM if needed)."""
    tempos = _sorted_events(score.tempos, "mspq")
    ticks = tempos["time"].astype(np.int64)
    mspq = tempos["mspq"].astype(np.int64)
    if len(ticks) == 0 or ticks[0] > 0:
        ticks = np.concatenate([[0], ticks])
        mspq = np.concatenate([[_DEFAULT_MSPQ], mspq])
    return ticks, mspq


def _tick_scale(mspq: int, tpq: int) -> float:
    """Seconds per tick for pretty_midi. ``PrettyMIDI.write`` truncates the tempo it writes
    (``int(6e7 / (60 / (scale * resolution)))``), which loses 1 microsecond for about one
    tempo in six; nudging the scale up by an ulp or two makes the written tempo exact while
    ``round(scale * resolution * 1e6)`` still gives ``mspq`` back."""
    scale = mspq / 1e6 / tpq
    for _ in range(8):
        if int(6e7 / (60.0 / (scale * tpq))) >= mspq:
            break
        scale = math.nextafter(scale, math.inf)
    return scale


def _pm_segment_starts(tick_scales) -> np.ndarray:
    """Second at which each ``_tick_scales`` segment starts, computed with the same float
    operations as ``PrettyMIDI._update_tick_to_time`` so that inversion is exact."""
    starts = [0.0]
    for (t0, scale), (t1, _) in zip(tick_scales[:-1], tick_scales[1:]):
        starts.append(float(starts[-1] + scale * np.float64(t1 - t0)))
    return np.asarray(starts)


def _pm_seconds_to_ticks(tick_scales, seconds, tpq_ratio: Fraction = Fraction(1)) -> np.ndarray:
    """Nearest tick of each time (seconds) under a pretty_midi tempo map (vectorized)."""
    seconds = np.asarray(seconds, dtype=np.float64)
    t0 = np.asarray([t for t, _ in tick_scales], dtype=np.float64)
    scale = np.asarray([s for _, s in tick_scales], dtype=np.float64)
    s0 = _pm_segment_starts(tick_scales)
    i = np.clip(np.searchsorted(s0, seconds, side="right") - 1, 0, None)
    ticks = t0[i] + (seconds - s0[i]) / scale[i]
    if tpq_ratio != 1:
        ticks = ticks * (tpq_ratio.numerator / tpq_ratio.denominator)
    return np.rint(ticks).astype(np.int64)


def to_pretty_midi(score: symusic.Score):
    """A ``pretty_midi.PrettyMIDI`` holding the score, with its resolution and tempo map.

    One ``Instrument`` per track (program, is_drum, name; notes, control changes including
    CC64, pitch bends). A track's Pedal objects are written as CC64 127/0 events only when
    the track has no CC64 control of its own (symusic derives pedals from CC64). Lyrics of
    all tracks go to ``PrettyMIDI.lyrics``, markers to ``PrettyMIDI.text_events``.
    """
    pretty_midi = import_pretty_midi()
    score = _require_tick_score(score, "to_pretty_midi")
    tpq = score.ticks_per_quarter
    pm = pretty_midi.PrettyMIDI(resolution=tpq)
    tempo_ticks, mspq = _tempo_segments(score)
    pm._tick_scales = [(int(t), _tick_scale(int(m), tpq)) for t, m in zip(tempo_ticks, mspq)]
    pm._update_tick_to_time(max(int(score.end()), int(tempo_ticks[-1])) + 1)

    def seconds(ticks) -> list[float]:
        """The same float per tick as ``PrettyMIDI.tick_to_time``, so that
        ``PrettyMIDI.time_to_tick`` (used by ``write``) and from_pretty_midi give the ticks
        back."""
        ticks = np.asarray(ticks, dtype=np.int64)
        if len(ticks) and ticks.max() >= len(pm._PrettyMIDI__tick_to_time):
            pm._update_tick_to_time(int(ticks.max()) + 1)
        return pm._PrettyMIDI__tick_to_time[ticks].tolist()

    for track in score.tracks:
        inst = pretty_midi.Instrument(program=int(track.program), is_drum=bool(track.is_drum),
                                      name=track.name)
        if len(track.notes):
            a = track.notes.numpy()
            start = seconds(a["time"])
            end = seconds(a["time"].astype(np.int64) + a["duration"])
            inst.notes = [
                pretty_midi.Note(velocity=v, pitch=p, start=s, end=e)
                for v, p, s, e in zip(a["velocity"].tolist(), a["pitch"].tolist(), start, end)
            ]
        ctl = track.controls.numpy() if len(track.controls) else None
        has_cc64 = ctl is not None and bool(np.any(ctl["number"] == 64))
        if ctl is not None:
            inst.control_changes = [
                pretty_midi.ControlChange(number=n, value=v, time=t)
                for n, v, t in zip(ctl["number"].tolist(), ctl["value"].tolist(),
                                   seconds(ctl["time"]))
            ]
        if len(track.pedals) and not has_cc64:
            ped = track.pedals.numpy()
            on = seconds(ped["time"])
            off = seconds(ped["time"].astype(np.int64) + ped["duration"])
            for t_on, t_off in zip(on, off):
                inst.control_changes.append(pretty_midi.ControlChange(64, 127, t_on))
                inst.control_changes.append(pretty_midi.ControlChange(64, 0, t_off))
        if len(track.pitch_bends):
            pb = track.pitch_bends.numpy()
            inst.pitch_bends = [
                pretty_midi.PitchBend(pitch=v, time=t)
                for v, t in zip(pb["value"].tolist(), seconds(pb["time"]))
            ]
        pm.instruments.append(inst)

    lyrics = [(ev.time, ev.text) for track in score.tracks for ev in track.lyrics]
    lyrics.sort(key=lambda x: x[0])
    pm.lyrics = [pretty_midi.Lyric(text, t) for (_, text), t in
                 zip(lyrics, seconds([x[0] for x in lyrics]))]
    markers = [(ev.time, ev.text) for ev in score.markers]
    pm.text_events = [pretty_midi.Text(text, t) for (_, text), t in
                      zip(markers, seconds([x[0] for x in markers]))]
    ts = _sorted_events(score.time_signatures, "numerator", "denominator")
    pm.time_signature_changes = [
        pretty_midi.TimeSignature(int(n), int(d), t)
        for n, d, t in zip(ts["numerator"], ts["denominator"], seconds(ts["time"]))
    ]
    ks = _sorted_events(score.key_signatures, "key", "tonality")
    tonic = np.where(ks["tonality"] == 1, (7 * ks["key"].astype(np.int64) + 9) % 12 + 12,
                     (7 * ks["key"].astype(np.int64)) % 12)
    pm.key_signature_changes = [
        pretty_midi.KeySignature(int(k), t) for k, t in zip(tonic, seconds(ks["time"]))
    ]
    return pm


def from_pretty_midi(pm, *, ticks_per_quarter: int | None = None) -> symusic.Score:
    """A tick-time Score from a ``pretty_midi.PrettyMIDI``.

    Seconds become ticks through the PrettyMIDI's own tempo map (``_tick_scales``), rounded
    to the nearest tick; with ``ticks_per_quarter`` other than ``pm.resolution`` ticks are
    rescaled (rounding to the new grid). Each ``Instrument`` becomes a track; pedals are
    derived from CC64 as symusic's MIDI reader does; global lyrics go on track 0 (a track is
    added if there is none); ``text_events`` become markers; key numbers become sharps as
    pretty_midi's writer spells them (-5..+6).
    """
    pretty_midi = import_pretty_midi()
    if not isinstance(pm, pretty_midi.PrettyMIDI):
        raise ConversionError(
            f"from_pretty_midi expects a pretty_midi.PrettyMIDI, got {type(pm).__name__}")
    res = int(pm.resolution)
    tpq = int(ticks_per_quarter) if ticks_per_quarter is not None else res
    if tpq <= 0:
        raise ConversionError(f"ticks_per_quarter must be positive, got {tpq}")
    ratio = Fraction(tpq, res)
    scales = list(pm._tick_scales) or [(0, 60.0 / (120.0 * res))]

    def ticks(seconds) -> np.ndarray:
        return _pm_seconds_to_ticks(scales, seconds, ratio)

    score = symusic.Score(tpq)
    t_ticks = np.rint(np.asarray([t for t, _ in scales], dtype=np.float64) * float(ratio))
    t_mspq = np.rint(np.asarray([s for _, s in scales]) * res * 1e6)
    score.tempos = symusic.Tempo.from_numpy(t_ticks.astype(np.int32), t_mspq.astype(np.int32))

    for inst in pm.instruments:
        track = symusic.Track(inst.name or "", int(inst.program), bool(inst.is_drum))
        if inst.notes:
            start = ticks([n.start for n in inst.notes])
            end = ticks([n.end for n in inst.notes])
            track.notes = _notes_from_arrays(
                start, np.maximum(end - start, 0),
                [n.pitch for n in inst.notes], [n.velocity for n in inst.notes])
        if inst.control_changes:
            cc = inst.control_changes
            time = ticks([c.time for c in cc])
            number = np.asarray([c.number for c in cc])
            value = np.asarray([c.value for c in cc])
            track.controls = symusic.ControlChange.from_numpy(
                time.astype(np.int32), number.astype(np.uint8), value.astype(np.uint8))
            is64 = number == 64
            if is64.any():
                order = np.argsort(time[is64], kind="stable")
                track.pedals = _pedals_from_cc64(time[is64][order], value[is64][order])
        if inst.pitch_bends:
            track.pitch_bends = symusic.PitchBend.from_numpy(
                ticks([b.time for b in inst.pitch_bends]).astype(np.int32),
                np.asarray([b.pitch for b in inst.pitch_bends], dtype=np.int32))
        score.tracks.append(track)

    if pm.lyrics:
        if len(score.tracks) == 0:
            score.tracks.append(symusic.Track("", 0, False))
        lt = ticks([ly.time for ly in pm.lyrics])
        lyr = score.tracks[0].lyrics
        for t, ly in zip(lt.tolist(), pm.lyrics):
            lyr.append(symusic.TextMeta(t, ly.text))
    for t, tx in zip(ticks([x.time for x in pm.text_events]).tolist(), pm.text_events):
        score.markers.append(symusic.TextMeta(t, tx.text))
    if pm.time_signature_changes:
        tsc = pm.time_signature_changes
        score.time_signatures = symusic.TimeSignature.from_numpy(
            ticks([x.time for x in tsc]).astype(np.int32),
            np.asarray([x.numerator for x in tsc], dtype=np.uint8),
            np.asarray([x.denominator for x in tsc], dtype=np.uint8))
    if pm.key_signature_changes:
        ksc = pm.key_signature_changes
        number = np.asarray([x.key_number for x in ksc], dtype=np.int64)
        score.key_signatures = symusic.KeySignature.from_numpy(
            ticks([x.time for x in ksc]).astype(np.int32),
            _KEY_NUMBER_TO_SHARPS[number].astype(np.int8),
            (number >= 12).astype(np.uint8))
    return score


# --------------------------------------------------------------------------- mido


def to_mido(score: symusic.Score):
    """A ``mido.MidiFile`` of the bytes symusic writes for the score (what saving writes)."""
    import mido

    score = _require_tick_score(score, "to_mido")
    return mido.MidiFile(file=io.BytesIO(score.dumps_midi()))


def from_mido(mf) -> symusic.Score:
    """A tick-time Score from a ``mido.MidiFile``, read by symusic's MIDI reader (the same
    Score as loading the file). See the module docstring for what mido holds that a Score
    does not."""
    import mido

    if not isinstance(mf, mido.MidiFile):
        raise ConversionError(f"from_mido expects a mido.MidiFile, got {type(mf).__name__}",
                              source=getattr(mf, "filename", None))
    buf = io.BytesIO()
    try:
        mf.save(file=buf)
        return symusic.Score.from_midi(buf.getvalue())
    except Exception as exc:  # mido or symusic refusing the data
        raise ConversionError(f"cannot convert MidiFile: {exc}",
                              source=getattr(mf, "filename", None)) from exc


# --------------------------------------------------------------------------- music21


def _quantize_units(ticks: np.ndarray, tpq: int, divisors, *, keep_positive: bool):
    """Nearest multiple of ``1/d`` quarter for any ``d`` in ``divisors`` (first wins ties),
    in units of ``1/lcm(divisors)`` quarter. With ``keep_positive``, values that round to 0
    from a positive length get the smallest step ``1/max(divisors)``."""
    lcm = math.lcm(*divisors)
    q = np.asarray(ticks, dtype=np.float64) / tpq
    best = np.full(q.shape, np.inf)
    units = np.zeros(q.shape, dtype=np.int64)
    for d in divisors:
        num = np.rint(q * d)
        err = np.abs(num / d - q)
        better = err < best
        best = np.where(better, err, best)
        units = np.where(better, num.astype(np.int64) * (lcm // d), units)
    if keep_positive:
        units = np.where((units == 0) & (q > 0), lcm // max(divisors), units)
    return units, lcm


def _instrument_for(program: int, is_drum: bool):
    from music21 import instrument

    if is_drum:
        inst = instrument.UnpitchedPercussion()
        inst.midiChannel = 9
        inst.midiProgram = program
        return inst
    try:
        inst = instrument.instrumentFromMidiProgram(program)
    except Exception:  # music21 lacks a class for some programs
        inst = instrument.Instrument()
    # music21 treats Agogo, Woodblock, Taiko, TomTom as unpitched (channel 10): a pitched
    # track with those programs keeps a plain instrument so that it stays pitched.
    if isinstance(inst, instrument.UnpitchedPercussion) or type(inst) is instrument.Percussion:
        name = inst.instrumentName
        inst = instrument.Instrument()
        inst.instrumentName = name
    inst.midiProgram = program
    return inst


def to_music21(score: symusic.Score, *, quantize=False):
    """A ``music21.stream.Score``: one Part per track.

    Each Part has the track's name, an instrument from its program (a percussion instrument
    on MIDI channel 10 for drum tracks, whose notes stay pitched notes: pitch = GM drum key),
    the score's time and key signatures (tempos go in the first Part), and the notes at
    ``Fraction(tick, ticks_per_quarter)`` quarters. Notes of one track that share onset,
    duration and velocity become a chord; zero-duration notes become grace notes; every
    note or chord carries ``volume.velocity``; a track's lyrics are attached to the first
    note or chord starting at their tick (a lyric with no note there is not carried), and a
    ``"fermata"`` marker (as :func:`symbolic.harmonize` and chorales loaded with their marks
    write them) puts a fermata on the note or chord starting there in every part. Each
    pitched part gets music21's best clef for its range (a track named for the tenor voice:
    treble-8vb).
    Overlapping notes are left to music21, which writes them as voices.

    ``quantize``: ``False`` keeps ticks exact; ``True`` rounds onsets and durations
    separately to the nearest 1/4 or 1/3 quarter (music21's ``(4, 3)`` divisors); a tuple
    gives other divisors. A positive duration that would round to 0 gets the smallest step
    (1/4 quarter). Count what changed with :func:`compare_scores` on
    ``from_music21(to_music21(score, quantize=True))``. MusicXML needs durations that
    notation can express: POP909 files need ``quantize=True``.
    """
    from music21 import stream

    score = _require_tick_score(score, "to_music21")
    positions = _Positions(score.ticks_per_quarter, _quantize_divisors(quantize))
    marks = _conductor_marks(score, positions)
    fermatas = _fermata_positions(score, positions)
    out = stream.Score()
    for index, track in enumerate(score.tracks):
        part = stream.Part()
        part.partName = track.name
        part.coreInsert(0, _instrument_for(int(track.program), bool(track.is_drum)))
        for off, kind, values in marks:
            if index == 0 or kind != "tempo":  # tempos go in the first Part only
                part.coreInsert(off, _conductor_element(kind, values))
        elements = _insert_notes(part, track, positions)
        _attach_lyrics(track, elements, positions)
        _attach_fermatas(fermatas, elements)
        part.coreElementsChanged()
        if elements and not track.is_drum:
            part.insert(0, _clef_for(part, track))
        out.coreInsert(0, part)
    if len(score.tracks) == 0:
        for off, kind, values in marks:
            out.coreInsert(off, _conductor_element(kind, values))
    out.coreElementsChanged()
    return out


def _quantize_divisors(quantize) -> tuple[int, ...] | None:
    """``to_music21``'s ``quantize`` as divisors of a quarter (None: ticks kept exact)."""
    if quantize is True:
        divisors = (4, 3)
    elif quantize is False or quantize is None:
        divisors = None
    else:
        divisors = (quantize,) if isinstance(quantize, int) else tuple(quantize)
    if divisors is not None and (not divisors or any(int(d) != d or d <= 0 for d in divisors)):
        raise ConversionError(f"quantize divisors must be positive integers, got {quantize!r}")
    return divisors


@dataclass(frozen=True)
class _Positions:
    """Ticks to integer positions with their unit (quarters = position / unit): the ticks
    themselves without ``divisors``, else ticks rounded to the nearest allowed fraction."""

    tpq: int
    divisors: tuple[int, ...] | None

    def __call__(self, ticks, keep_positive: bool = False) -> tuple[np.ndarray, int]:
        ticks = np.asarray(ticks, dtype=np.int64)
        if self.divisors is None:
            return ticks, self.tpq
        return _quantize_units(ticks, self.tpq, self.divisors, keep_positive=keep_positive)


def _conductor_marks(score: symusic.Score, positions: _Positions) -> list[tuple]:
    """``(offset in quarters, kind, values)`` of every time signature, key signature and
    tempo, in that order; :func:`_conductor_element` makes the music21 object of each."""
    ts = _sorted_events(score.time_signatures, "numerator", "denominator")
    ks = _sorted_events(score.key_signatures, "key", "tonality")
    tp = _sorted_events(score.tempos, "mspq")
    ts_pos, ts_unit = positions(ts["time"])
    ks_pos, ks_unit = positions(ks["time"])
    tp_pos, tp_unit = positions(tp["time"])
    marks = [(Fraction(p, ts_unit), "time", (n, d)) for p, n, d in
             zip(ts_pos.tolist(), ts["numerator"].tolist(), ts["denominator"].tolist())]
    marks += [(Fraction(p, ks_unit), "key", (k, m)) for p, k, m in
              zip(ks_pos.tolist(), ks["key"].tolist(), ks["tonality"].tolist())]
    marks += [(Fraction(p, tp_unit), "tempo", (m,)) for p, m in
              zip(tp_pos.tolist(), tp["mspq"].tolist())]
    return marks


def _conductor_element(kind: str, values: tuple):
    """A new music21 object for one conductor mark (an element lives in one stream only)."""
    from music21 import duration, key, meter, tempo

    if kind == "time":
        return meter.TimeSignature(f"{values[0]}/{values[1]}")
    if kind == "key":
        return key.KeySignature(int(values[0])).asKey("minor" if values[1] else "major")
    return tempo.MetronomeMark(number=6e7 / values[0], referent=duration.Duration(1.0))


def _insert_notes(part, track, positions: _Positions) -> dict[int, object]:
    """Insert ``track``'s notes into ``part``: notes sharing onset, duration and velocity as
    one chord, zero-duration ones as grace notes. Returns onset position -> first element
    there (where lyrics go)."""
    from music21 import chord, duration, note

    elements: dict[int, object] = {}
    if not len(track.notes):
        return elements
    notes = track.notes.numpy()
    on, unit = positions(notes["time"])
    dur, _ = positions(notes["duration"], keep_positive=True)
    pitch, vel = notes["pitch"].astype(np.int64), notes["velocity"].astype(np.int64)
    order = np.lexsort((pitch, vel, dur, on))
    on, dur, pitch, vel = on[order], dur[order], pitch[order], vel[order]
    new_group = np.ones(len(on), dtype=bool)
    new_group[1:] = (on[1:] != on[:-1]) | (dur[1:] != dur[:-1]) | (vel[1:] != vel[:-1])
    bounds = np.append(np.flatnonzero(new_group), len(on))
    on_l, dur_l, pitch_l, vel_l = on.tolist(), dur.tolist(), pitch.tolist(), vel.tolist()
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        if b - a == 1:
            el = note.Note(pitch_l[a])
        else:
            el = chord.Chord([note.Note(p) for p in pitch_l[a:b]])
        el.duration = duration.Duration(Fraction(dur_l[a], unit))
        if dur_l[a] == 0:
            el = el.getGrace()
        el.volume.velocity = vel_l[a]
        part.coreInsert(Fraction(on_l[a], unit), el)
        elements.setdefault(on_l[a], el)
    return elements


def _attach_lyrics(track, elements: dict[int, object], positions: _Positions) -> None:
    """Each lyric of ``track`` on the element starting at its position (else not carried)."""
    if not len(track.lyrics):
        return
    lyrics = sorted(((ev.time, ev.text) for ev in track.lyrics), key=lambda x: x[0])
    ly_pos, _ = positions([t for t, _ in lyrics])
    for p, (_, text) in zip(ly_pos.tolist(), lyrics):
        el = elements.get(p)
        if el is not None:
            el.addLyric(text)


def _clef_for(part, track):
    """music21's best clef for the part, except for a tenor voice (a track named 'Tenor',
    'Tenore', 'Ten.', 'T.'): the treble-8vb clef, as choral scores print it."""
    from music21 import clef

    if track.name.strip().lower() in ("tenor", "tenore", "ten.", "t.", "t"):
        return clef.Treble8vbClef()
    return clef.bestClef(part, recurse=True)


def _fermata_positions(score, positions: _Positions) -> set:
    ticks = [m.time for m in score.markers if m.text == "fermata"]
    return set(positions(ticks)[0].tolist()) if ticks else set()


def _attach_fermatas(fermatas: set, elements: dict[int, object]) -> None:
    from music21 import expressions

    for p in fermatas:
        el = elements.get(p)
        if el is not None:
            el.expressions.append(expressions.Fermata())


def _music21_parts(obj, source):
    """The part-like streams of ``obj`` (each becomes a track) and ``obj`` itself."""
    from music21 import stream

    if isinstance(obj, stream.Opus):
        n = len(obj.scores)
        raise ConversionError(f"got a music21 Opus of {n} scores; pass one score "
                              f"(opus.scores[i]) or convert each", source=source)
    if not isinstance(obj, stream.Stream):
        raise ConversionError(f"from_music21 expects a music21 Stream (Score, Part...), got "
                              f"{type(obj).__name__}", source=source)
    if isinstance(obj, stream.Part):
        return [obj]
    parts = list(obj.getElementsByClass(stream.Part))
    if not parts and obj.hasPartLikeStreams():
        parts = list(obj.getElementsByClass(stream.Stream))
    if any(isinstance(p, stream.Score) for p in parts):
        raise ConversionError("got a Stream of several scores; pass one score", source=source)
    return parts or [obj]


def _is_drum_part(inst, flat) -> bool:
    """Unpitched notes make a drum part; otherwise an instrument's MIDI channel decides when
    it is set (10, i.e. 9 zero-based: drums), else its class (unpitched percussion)."""
    from music21 import instrument, note, percussion

    if any(isinstance(n, (note.Unpitched, percussion.PercussionChord)) for n in flat.notes):
        return True
    if inst is None:
        return False
    if inst.midiChannel is not None:
        return inst.midiChannel == 9
    return isinstance(inst, instrument.UnpitchedPercussion) or type(inst) is instrument.Percussion


def _unpitched_key(n) -> int:
    """GM key of an Unpitched note: its instrument's ``percMapPitch``, else where it sits on
    the staff (``displayPitch``), as music21 has no better source (MusicXML without
    ``<midi-unpitched>``)."""
    from music21 import instrument

    for inst in (getattr(n, "storedInstrument", None),
                 n.getContextByClass(instrument.UnpitchedPercussion)):
        if isinstance(inst, instrument.UnpitchedPercussion) and inst.percMapPitch is not None:
            return int(inst.percMapPitch)
    return int(n.displayPitch().midi)


def _merge_ties(on, end, pitch, fwd, back):
    """Merge tied notes per pitch: a note tied forward joins the next note of the same
    pitch that starts where it ends and is tied backward. Returns kept indices and ends."""
    n = len(on)
    if n == 0 or not fwd.any():
        return np.arange(n), end
    order = np.lexsort((end, on, pitch))
    p, o, e, f, b = pitch[order], on[order], end[order], fwd[order], back[order]
    # Candidate chain links: consecutive entries of one pitch in onset order.
    join = np.zeros(n, dtype=bool)
    join[1:] = (p[1:] == p[:-1]) & f[:-1] & b[1:] & (o[1:] == e[:-1])
    group = np.cumsum(~join) - 1
    group_end = np.zeros(group[-1] + 1, dtype=np.int64)
    np.maximum.at(group_end, group, e)
    heads = order[~join]
    merged_end = end.copy()
    merged_end[heads] = group_end[group[~join]]
    keep = np.sort(heads)
    return keep, merged_end


def from_music21(obj, *, ticks_per_quarter: int = 480, source=None,
                 expand_repeats: bool = False, grace_notes: str = "keep") -> symusic.Score:
    """A tick-time Score from a music21 Score, Part or any Stream (an Opus is refused).

    - Each Part (PartStaff included) becomes a track named by ``partName`` (``""`` when
      none) with its first instrument's ``midiProgram`` (0 when none); a part with Unpitched
      notes, an instrument on MIDI channel 10, or an unpitched-percussion instrument with no
      channel set is a drum track
      (an Unpitched note's key: its instrument's ``percMapPitch``, else its staff position).
      A Stream without parts becomes one track.
    - Voices are flattened; each chord pitch is a note; tied notes (per pitch, chord members
      included) merge into one note; chord symbols (``harmony``) are not notes.
    - Grace notes (no duration): ``grace_notes="keep"`` keeps them as zero-duration notes at
      the onset of the note they ornament, ``"drop"`` leaves them out; the number kept is the
      number of zero-duration notes in the result.
    - Velocity: ``volume.velocity`` (a chord member's own, else the chord's), else
      :data:`DEFAULT_VELOCITY` (64).
    - Offsets become ``round(quarters * ticks_per_quarter)``; a note ends at its rounded end
      (tuplets exact when ``ticks_per_quarter`` is a multiple of their divisor, as 480 is for
      3, 5, 6 and 10). Microtones round to the nearest semitone.
    - Tempos (MetronomeMark, as quarter BPM), time signatures and key signatures (sharps;
      tonality 1 for a minor Key, 0 otherwise) come from the whole timeline; when several
      parts hold events at one tick, those of the first such part are kept (music21 repeats
      them in every part). Lyrics (``rawText``) go on the note's track at its onset.
    - Repeats are not expanded unless ``expand_repeats=True`` (music21 ``expandRepeats``).
    """
    from music21 import stream

    if grace_notes not in ("keep", "drop"):
        raise ConversionError(f"grace_notes must be 'keep' or 'drop', got {grace_notes!r}")
    tpq = int(ticks_per_quarter)
    if tpq <= 0:
        raise ConversionError(f"ticks_per_quarter must be positive, got {tpq}")
    source = source if source is not None else _music21_source(obj)
    parts = _music21_parts(obj, source)
    if expand_repeats:
        try:
            obj = obj.expandRepeats()
        except Exception as exc:
            raise ConversionError(f"cannot expand repeats: {exc}", source=source) from exc
        parts = _music21_parts(obj, source)

    out = symusic.Score(tpq)
    conductor = _Conductor(tpq)
    if not (len(parts) == 1 and parts[0] is obj):
        conductor.gather(obj.getElementsNotOfClass(stream.Stream).stream(), 0, -1)
    for index, part in enumerate(parts):
        base = part.getOffsetBySite(obj) if part is not obj else 0
        flat = part.flatten()
        conductor.gather(flat, base, index)
        out.tracks.append(_music21_track(part, flat, base, tpq, grace_notes, source))
    conductor.write(out)
    return out


def _tick_of(quarters, tpq: int) -> int:
    return int(round(quarters * tpq))


class _Conductor:
    """Tempos, time and key signatures gathered from every part of a music21 stream, each as
    ``(tick, priority, order, value)`` with priority the part index (-1: the top level)."""

    def __init__(self, tpq: int):
        self.tpq = tpq
        self.tempos: list[tuple] = []
        self.sigs: list[tuple] = []
        self.keys: list[tuple] = []

    def gather(self, flat, base, prio: int) -> None:
        from music21 import key, meter, tempo

        for i, el in enumerate(flat.getElementsByClass((tempo.MetronomeMark, meter.TimeSignature,
                                                        key.KeySignature))):
            t = _tick_of(base + el.offset, self.tpq)
            if isinstance(el, tempo.MetronomeMark):
                qpm = el.getQuarterBPM()
                if qpm:
                    self.tempos.append((t, prio, i, int(round(6e7 / qpm))))
            elif isinstance(el, meter.TimeSignature):
                if el.numerator and el.denominator:
                    self.sigs.append((t, prio, i, (int(el.numerator), int(el.denominator))))
            elif el.sharps is not None:
                mode = getattr(el, "mode", None)
                self.keys.append((t, prio, i, (int(el.sharps), 1 if mode == "minor" else 0)))

    def write(self, out: symusic.Score) -> None:
        """Set ``out``'s tempos and signatures: per tick, those of the first part holding any
        (music21 repeats them in every part)."""
        for attr, cls, events, dtypes in (
                ("tempos", symusic.Tempo, self.tempos, (np.int32,)),
                ("time_signatures", symusic.TimeSignature, self.sigs, (np.uint8, np.uint8)),
                ("key_signatures", symusic.KeySignature, self.keys, (np.int8, np.uint8))):
            rows = _first_part_per_tick(events)
            if rows:
                values = [v if isinstance(v, tuple) else (v,) for _, v in rows]
                setattr(out, attr, cls.from_numpy(
                    np.asarray([t for t, _ in rows], np.int32),
                    *(np.asarray([v[k] for v in values], d) for k, d in enumerate(dtypes))))


def _first_part_per_tick(events: list[tuple]) -> list[tuple]:
    """``(tick, value)`` of the events of the first part (lowest priority) at each tick."""
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    kept, seen = [], {}
    for t, prio, _, value in events:
        if seen.setdefault(t, prio) == prio:
            kept.append((t, value))
    return kept


def _music21_track(part, flat, base, tpq: int, grace_notes: str, source) -> symusic.Track:
    """One track from a part-like stream (``flat``: its flattened elements, at ``base``
    quarters): name, program, drum flag, notes with ties merged, lyrics."""
    from music21 import stream

    inst = part.getInstrument(returnDefault=False, recurse=True)
    is_drum = _is_drum_part(inst, flat)
    program = int(inst.midiProgram) if inst is not None and inst.midiProgram is not None else 0
    name = part.partName if isinstance(part, stream.Part) and part.partName else ""
    cols, lyrics = _music21_note_rows(flat, base, tpq, grace_notes)
    track = symusic.Track(name, program, is_drum)
    if cols[0]:
        on_a, end_a = np.asarray(cols[0], np.int64), np.asarray(cols[1], np.int64)
        pitch_a, vel_a = np.asarray(cols[2], np.int64), np.asarray(cols[3], np.int64)
        keep, end_a = _merge_ties(on_a, end_a, pitch_a, np.asarray(cols[4]), np.asarray(cols[5]))
        if (pitch_a < 0).any() or (pitch_a > 127).any():
            raise ConversionError("pitch outside MIDI range 0..127", source=source)
        track.notes = _notes_from_arrays(on_a[keep], end_a[keep] - on_a[keep],
                                         pitch_a[keep], np.clip(vel_a[keep], 0, 127))
    for t, text in lyrics:
        track.lyrics.append(symusic.TextMeta(t, text))
    return track


def _music21_note_rows(flat, base, tpq: int, grace_notes: str) -> tuple[tuple, list]:
    """Columns ``(onset, end, pitch, velocity, tied forward, tied back)``, one entry per note
    or chord member (ticks), and ``(tick, text)`` of every lyric; chord symbols are skipped."""
    from music21 import chord, harmony

    cols: tuple[list, ...] = ([], [], [], [], [], [])
    lyrics = []
    for el in flat.notes:
        if isinstance(el, harmony.Harmony):
            continue
        grace = el.duration.isGrace
        if grace and grace_notes == "drop":
            continue
        start_q = base + el.offset
        t0 = _tick_of(start_q, tpq)
        t1 = t0 if grace else _tick_of(start_q + el.duration.quarterLength, tpq)
        if isinstance(el, chord.ChordBase):
            members = list(el.notes)
            chord_vel = el.volume.velocity if el.hasVolumeInformation() else None
        else:
            members, chord_vel = [el], None
        for m in members:
            ttype = m.tie.type if m.tie is not None else None
            row = (t0, t1, _member_pitch(m), _member_velocity(m, chord_vel),
                   ttype in ("start", "continue"), ttype in ("stop", "continue"))
            for col, value in zip(cols, row):
                col.append(value)
        for ly in el.lyrics:
            if ly.rawText:
                lyrics.append((t0, ly.rawText))
    return cols, lyrics


def _member_pitch(m) -> int:
    from music21 import note

    return _unpitched_key(m) if isinstance(m, note.Unpitched) else int(m.pitch.midi)


def _member_velocity(m, chord_vel) -> int:
    """A note's own velocity, else its chord's, else :data:`DEFAULT_VELOCITY`."""
    v = m.volume.velocity if m.hasVolumeInformation() else None
    if v is None:
        v = chord_vel if chord_vel is not None else DEFAULT_VELOCITY
    return v


def _music21_source(obj) -> str | None:
    md = getattr(obj, "metadata", None)
    for attr in ("corpusFilePath", "title"):
        value = getattr(md, attr, None) if md is not None else None
        if value:
            return str(value)
    return None


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class RoundTripReport:
    """What differs between two scores. Notes are matched as a multiset keyed by
    (track name, program, drum flag, onset tick, duration tick, pitch[, velocity]), so
    reordered or split tracks still match. ``missing``: in ``a`` but not ``b``; ``extra``:
    in ``b`` but not ``a``. Event lists are compared as sorted multisets."""

    notes_a: int
    notes_b: int
    notes_equal: int
    notes_missing: int
    notes_extra: int
    tracks_equal: bool  # same (name, program, drum) list in the same order
    tempos_equal: bool
    time_signatures_equal: bool
    key_signatures_equal: bool
    controls_equal: bool
    pitch_bends_equal: bool
    pedals_equal: bool
    lyrics_equal: bool
    markers_equal: bool
    missing_examples: list = field(default_factory=list)
    extra_examples: list = field(default_factory=list)

    @property
    def notes_exact(self) -> bool:
        return self.notes_missing == 0 and self.notes_extra == 0

    @property
    def exact(self) -> bool:
        return self.notes_exact and all(
            v for k, v in asdict(self).items() if k.endswith("_equal") and isinstance(v, bool))

    def as_dict(self) -> dict:
        return asdict(self)


def _track_key(track) -> tuple:
    return (track.name, int(track.program), bool(track.is_drum))


def _note_rows(score, track_ids: dict, velocity: bool) -> np.ndarray:
    rows = []
    for track in score.tracks:
        if not len(track.notes):
            continue
        a = track.notes.numpy()
        tid = track_ids.setdefault(_track_key(track), len(track_ids))
        cols = [np.full(len(a["time"]), tid), a["time"], a["duration"], a["pitch"]]
        if velocity:
            cols.append(a["velocity"])
        rows.append(np.stack([np.asarray(c, dtype=np.int64) for c in cols], axis=1))
    return np.concatenate(rows) if rows else np.zeros((0, 5 if velocity else 4), np.int64)


def _events(score, attr, fields, per_track=False):
    out = []
    holders = score.tracks if per_track else [score]
    for h in holders:
        tk = _track_key(h) if per_track else ()
        for ev in getattr(h, attr):
            out.append(tk + tuple(getattr(ev, f) for f in fields))
    return sorted(out)


def compare_scores(a: symusic.Score, b: symusic.Score, *, velocity: bool = True,
                   examples: int = 5) -> RoundTripReport:
    """Count notes of ``b`` equal to, missing from and extra to those of ``a`` (multiset over
    track identity, onset, duration, pitch and, unless ``velocity=False``, velocity), and
    compare tempos, signatures, controls, pitch bends, pedals, lyrics and markers (lyrics
    are compared without their track, as most routes move them). Ticks are compared as they
    are: convert both to one ``ticks_per_quarter`` first."""
    track_ids: dict = {}
    ra, rb = _note_rows(a, track_ids, velocity), _note_rows(b, track_ids, velocity)
    both = np.concatenate([ra, rb])
    if len(both):
        uniq, inv = np.unique(both, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        ca = np.bincount(inv[: len(ra)], minlength=len(uniq))
        cb = np.bincount(inv[len(ra):], minlength=len(uniq))
    else:
        uniq, ca, cb = both, np.zeros(0, np.int64), np.zeros(0, np.int64)
    names = {v: k for k, v in track_ids.items()}

    def show(mask):
        return [(names[int(r[0])][0],) + tuple(int(x) for x in r[1:])
                for r in uniq[mask][:examples]]

    return RoundTripReport(
        notes_a=len(ra), notes_b=len(rb),
        notes_equal=int(np.minimum(ca, cb).sum()),
        notes_missing=int(np.clip(ca - cb, 0, None).sum()),
        notes_extra=int(np.clip(cb - ca, 0, None).sum()),
        tracks_equal=[_track_key(t) for t in a.tracks] == [_track_key(t) for t in b.tracks],
        tempos_equal=_events(a, "tempos", ("time", "mspq"))
        == _events(b, "tempos", ("time", "mspq")),
        time_signatures_equal=_events(a, "time_signatures", ("time", "numerator", "denominator"))
        == _events(b, "time_signatures", ("time", "numerator", "denominator")),
        key_signatures_equal=_events(a, "key_signatures", ("time", "key", "tonality"))
        == _events(b, "key_signatures", ("time", "key", "tonality")),
        controls_equal=_events(a, "controls", ("time", "number", "value"), True)
        == _events(b, "controls", ("time", "number", "value"), True),
        pitch_bends_equal=_events(a, "pitch_bends", ("time", "value"), True)
        == _events(b, "pitch_bends", ("time", "value"), True),
        pedals_equal=_events(a, "pedals", ("time", "duration"), True)
        == _events(b, "pedals", ("time", "duration"), True),
        lyrics_equal=sorted(x[3:] for x in _events(a, "lyrics", ("time", "text"), True))
        == sorted(x[3:] for x in _events(b, "lyrics", ("time", "text"), True)),
        markers_equal=_events(a, "markers", ("time", "text"))
        == _events(b, "markers", ("time", "text")),
        missing_examples=show(ca > cb),
        extra_examples=show(cb > ca),
    )
