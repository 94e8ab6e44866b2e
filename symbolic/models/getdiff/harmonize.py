"""Harmonizing a melody with GETDiff: the given line is kept note for note and the model writes
the other parts around it (an :func:`~.generate.infill` of every bar).

::

    import symbolic
    satb = symbolic.harmonize("corpus:essenFolksong/altdeu10", style="chorale", seed=0)
    symbolic.save(satb, "satb.musicxml")        # four staves: soprano, alto, tenor, bass

**Styles** (:data:`STYLES`): ``"chorale"`` (the shipped chorale model ``getdiff-chorales``,
trained on the Bach chorales: the melody is the soprano, it writes alto, tenor and bass);
``"band"`` (the band model ``getdiff-band``: the melody is the lead, it writes bass and
piano).

**The melody** is a MIDI, MusicXML, ABC or Humdrum file, ``"corpus:NAME"``, a music21 stream
(a Score or a Part) or a ``symusic.Score``. With several pitched tracks, ``track`` (index or
name) picks it; else a track named for the melody part (``Soprano``, ``S.``, ``Melody``,
``Violin I``...), else the highest (by median pitch), with a warning. From music21 sources
(MusicXML, ABC, Humdrum, the corpus, a stream) the measures give the bars (a pickup is a bar
of its own) and fermatas mark the phrase ends the chorale model reads; a ``symusic.Score`` may
carry them as ``"fermata"`` markers. Other tracks of the input are not read.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import symusic

from ... import checks
from ... import tracks as trk
from ...errors import ArgumentError
from ...timeline import MetricGrid
from .generate import DEFAULT_CHORDS, check_sampling, infill, resolve_model

__all__ = ["harmonize", "STYLES", "Style", "read_melody", "Melody", "piano_reduction",
           "melody_pulse", "PULSES", "legato", "repair_voice_leading", "REPAIRED"]


@dataclass(frozen=True)
class Style:
    """A harmonization style: the ``model`` (a short name of :data:`~.generate.MODELS`), the
    ``melody`` part the given line takes, and the ``parts`` written, top to bottom."""

    model: str
    melody: str
    parts: tuple[str, ...]


#: The styles :func:`harmonize` knows.
STYLES = {
    "chorale": Style("chorales", "SOPRANO", ("ALTO", "TENOR", "BASS")),
    "band": Style("band", "MELODY", ("BASS", "PIANO")),
}


@dataclass(frozen=True)
class Melody:
    """What :func:`read_melody` found: ``score`` (the melody alone, one track, with the
    source's tempos, signatures and ``"fermata"`` markers), ``bar_ticks`` (measure starts plus
    the end; None: count bars from the time signatures), ``track`` (the source track's name)."""

    score: symusic.Score
    bar_ticks: np.ndarray | None
    track: str


def _music21_source(melody):
    """(symusic Score, music21 stream or None) of ``melody``."""
    from ...convert import from_music21
    from ...io import load_with_stream
    from ...limits import check_score

    if isinstance(melody, symusic.Score):
        return check_score(melody, "melody"), None
    if not isinstance(melody, (str, bytes)) and not hasattr(melody, "__fspath__") and \
            not type(melody).__module__.startswith("music21"):
        raise ArgumentError("must be a file path, 'corpus:NAME', a music21 stream or a Score, "
                            f"got {type(melody).__name__}", "melody")
    if type(melody).__module__.startswith("music21"):
        from music21 import stream

        if not isinstance(melody, stream.Stream):
            raise ArgumentError(f"must be a music21 Score or Part, got {type(melody).__name__}",
                                "melody")
        return check_score(from_music21(melody), "melody"), melody
    return load_with_stream(melody)  # the size and format checks; one parse for both


def _pick_track(score: symusic.Score, track, part: str) -> int:
    """Index of the melody track (see the module doc)."""
    pitched = [i for i, t in enumerate(score.tracks) if not t.is_drum and len(t.notes)]
    if track is not None:
        names = [t.name for t in score.tracks]
        if isinstance(track, (int, np.integer)) and not isinstance(track, bool):
            if 0 <= track < len(names):
                return int(track)
            raise ArgumentError(f"track index {track} is out of range 0-{len(names) - 1}",
                                "track")
        low = [n.strip().lower() for n in names]
        if isinstance(track, str) and track.strip().lower() in low:
            return low.index(track.strip().lower())
        raise ArgumentError(f"no track {track!r} among {names}", "track")
    if not pitched:
        raise ArgumentError("the melody has no pitched notes", "melody")
    if len(pitched) == 1:
        return pitched[0]
    parts = trk.parts_for([part, "ALTO", "TENOR", "BASS"] if part == "SOPRANO"
                          else [part, "BRIDGE", "PIANO"])
    for i in pitched:
        if trk.find_part(score.tracks[i].name, parts) == 0:
            return i
    best = max(pitched, key=lambda i: float(np.median(score.tracks[i].notes.numpy()["pitch"])))
    warnings.warn(f"{len(pitched)} pitched tracks and none named for the melody: harmonizing "
                  f"the highest, {score.tracks[best].name or best!r} (choose with track=, "
                  "command line --track)", stacklevel=4)
    return best


def read_melody(melody, track=None, part: str = "SOPRANO") -> Melody:
    """The melody line of ``melody`` (see the module doc) as a one-track Score named ``part``
    (title case), with its bars and fermatas."""
    from ...data.music21_corpus import FERMATA, stream_marks
    from ...timeline import as_tick

    score, stream = _music21_source(melody)
    score = as_tick(score)
    idx = _pick_track(score, track, part)
    out = symusic.Score(score.ticks_per_quarter)
    out.tempos = score.tempos
    out.time_signatures = score.time_signatures
    out.key_signatures = score.key_signatures
    line = score.tracks[idx].copy()
    name = line.name
    line.name = part.title()
    out.tracks.append(line)
    bar_ticks = None
    fermatas = [m.time for m in score.markers if m.text == FERMATA]
    if stream is not None:
        from music21 import stream as m21stream

        parts = list(stream.parts) if isinstance(stream, m21stream.Score) else [stream]
        m = stream_marks(stream, score.ticks_per_quarter,
                         [min(idx, len(parts) - 1)] if len(parts) == len(score.tracks) else None)
        bar_ticks, fermatas = m.bar_ticks, m.fermatas.tolist()
        if len(bar_ticks) < 3:  # no measures: count bars from the time signatures
            bar_ticks = None
    for t in sorted(set(int(t) for t in fermatas)):
        out.markers.append(symusic.TextMeta(t, FERMATA))
    return Melody(out, bar_ticks, name)


def _range_warning(model, part: str, line) -> None:
    stats = model.role_stats.get(part)
    pitch = line.notes.numpy()["pitch"]
    if not stats or not len(pitch):
        return
    med = float(np.median(pitch))
    lo, hi = stats["pitch_lo"], stats["pitch_hi"]
    if not lo <= med <= hi:
        warnings.warn(f"the melody's median pitch {med:.0f} lies outside the {part.lower()} "
                      f"range the model learned ({lo}-{hi}): transpose it by octaves for a "
                      "better harmonization", stacklevel=4)


def _paced(model, st: Style, line, mg) -> dict | None:
    """Onsets per bar for each written part: the melody's own pace times the part's
    onset rate over the melody's in the model's training data (a slow hymn gets slow inner
    voices, a busy tune busier ones); None when the model has no such figures."""
    stats = model.role_stats
    mel = stats.get(st.melody, {}).get("onsets_per_step")
    if not mel or any(p not in stats for p in st.parts):
        return None
    per_bar = len(np.unique(line.notes.numpy()["time"])) / max(mg.n_bars, 1)
    return {p.lower(): per_bar * stats[p]["onsets_per_step"] / mel for p in st.parts}


PULSES = (0.5, 1.0, 2.0, 4.0)


def melody_pulse(line, ticks_per_quarter: int) -> float:
    """The melody's pulse in quarter notes: of :data:`PULSES`, the nearest (on a log scale) to
    the median time between its onsets (a hymn tune in half notes: 2.0)."""
    t = np.unique(line.notes.numpy()["time"])
    if len(t) < 2:
        return 1.0
    q = float(np.median(np.diff(t))) / ticks_per_quarter
    return min(PULSES, key=lambda p: abs(np.log2(p) - np.log2(max(q, 1e-3))))


def _reread(score: symusic.Score, pulse: float, bars) -> tuple[symusic.Score, np.ndarray]:
    """``score`` with its ``pulse`` read as a quarter note (the same ticks, ticks per quarter
    times ``pulse``), and its bar lines in those ticks."""
    if bars is None:
        bars = MetricGrid.from_score(score, resolution=4).bar_ticks
    out = score.copy()
    out.ticks_per_quarter = int(round(score.ticks_per_quarter * pulse))
    return out, bars


def legato(track, bar_ticks) -> None:
    """Hold each note of ``track`` (in place) until the track's next onset when the rest between
    them is no longer than the bar the note starts in (``bar_ticks``: bar starts plus the end): a
    written voice sings through, as chorale voices do, instead of resting between notes the
    model drew with short durations. Chords (notes starting together) move together."""
    n = track.notes.numpy()
    if len(n["time"]) < 2:
        return
    onsets = np.unique(n["time"])
    nxt = onsets[np.minimum(np.searchsorted(onsets, n["time"], side="right"), len(onsets) - 1)]
    bar = np.clip(np.searchsorted(bar_ticks, n["time"], side="right") - 1, 0, len(bar_ticks) - 2)
    bar_len = np.diff(bar_ticks)[bar]
    gap = nxt - n["time"]
    rest = gap - n["duration"]
    hold = (nxt > n["time"]) & (rest > 0) & (rest <= bar_len)
    dur = np.where(hold, gap, n["duration"]).astype(n["duration"].dtype)
    track.notes = symusic.core.NoteTickList.from_numpy(n["time"], dur, n["pitch"], n["velocity"])


def harmonize(melody, style: str = "chorale", *, track=None, chords=None, model=None,
              bar_ticks=None, density="pace", pulse="auto", hold: bool = True,
              repair: int = 4,
              steps: int = 16, temperature: float = 1.0, top_p: float = 0.95,
              guidance: float = 1.0, seed: int = 0, resample: int = 0, fermatas: bool = True,
              order: str = "random", device: str = "auto",
              progress: bool = False) -> symusic.Score:
    """A harmonization of ``melody`` in ``style`` (see the module doc): a tick-time Score whose
    first track is the melody, kept note for note (renamed for its part: ``Soprano`` /
    ``Melody``), followed by the written parts (``Alto``, ``Tenor``, ``Bass``; or ``Bass``,
    ``Piano``).

    ``chords``: None (default: the model hears no chords, it writes its own harmony), a
    progression (``"C G | Am F"``) or a source as in :func:`~.generate.infill`. ``fermatas``:
    read the melody's fermatas (phrase ends) when the model reads them (False: the model is
    told nothing of them). ``model``: another GETDiff of the style's tracks. ``bar_ticks``:
    the bar lines (starts plus the end; default: the source's measures, else its time
    signatures). ``density``: onsets per bar of the written parts: ``"pace"`` (default: the
    melody's own pace, scaled per part by the training data's ratio of that part's onsets to
    the melody's), ``"auto"`` (each part's training figures), None (free), a number, or a dict
    from part name to one of those (see :mod:`.controls`). ``pulse``: the melody's beat in
    quarter notes, read as the model's quarter (the chorale model learned voices moving in
    quarters: a hymn tune in half notes, ``pulse=2``, is harmonized with its half note as the
    quarter, so the voices move in halves with it: on altdeu10 82% of the written onsets
    fall on its half-note beats, 76% read as written); ``"auto"`` (default):
    :func:`melody_pulse`; 1: as written. ``hold``: each written note lasts until its part's
    next onset when that comes within a bar (:func:`legato`; False: the model's own
    durations: under Bach's sopranos the written voices then rest 2-9% of the time, under a
    folk tune in half notes 10-14%, where Bach's own voices rest 0.9%). ``repair`` (style
    'chorale'; 0-32, default 4): rounds of :func:`repair_voice_leading`, which rewrites the
    bars with parallel fifths or octaves or crossed voices (35 test chorales, per 100 beats:
    fifths 7.84 -> 1.34, octaves 9.83 -> 1.45, crossings 1.07 -> 0.32, at 3.7 s per chorale
    against 1.5; 0: the model's draw as it is). ``steps``,
    ``temperature``, ``top_p``, ``guidance``, ``seed``, ``order``, ``resample`` (Gibbs-style
    rewrite passes, 0-100): as in :func:`~.generate.infill`.
    """
    if not isinstance(style, str) or style not in STYLES:
        raise ArgumentError(f"must be one of {', '.join(STYLES)}, got {style!r}", "style")
    repair = checks.integer("repair", repair, 0, 32)
    for name, flag in (("fermatas", fermatas), ("hold", hold)):
        if not isinstance(flag, bool):
            raise ArgumentError(f"must be True or False, got {flag!r}", name)
    st = STYLES[style]
    check_sampling(steps, temperature, top_p, guidance, seed, resample)  # before any work
    if not (isinstance(pulse, str) and pulse == "auto"):
        pulse = checks.number("pulse", pulse, 0.125, 8.0)
    bar_ticks = checks.bar_ticks("bar_ticks", bar_ticks)
    mel = read_melody(melody, track, st.melody)
    model = resolve_model(st.model if model is None else model, device)
    missing = [p for p in (st.melody, *st.parts) if p not in model.tracks]
    if missing:
        raise ArgumentError(f"the model's tracks {model.tracks} lack {missing}: style "
                            f"{style!r} needs a model of {st.melody} and {list(st.parts)}",
                            "model")
    _range_warning(model, st.melody, mel.score.tracks[0])
    score = mel.score
    if not fermatas:
        score = score.copy()
        score.markers = symusic.core.TextMetaTickList()
    bars = bar_ticks if bar_ticks is not None else mel.bar_ticks
    tpq = score.ticks_per_quarter
    if isinstance(pulse, str) and pulse == "auto":
        pulse = melody_pulse(score.tracks[0], tpq)
    if pulse != 1.0 and tpq * pulse == int(tpq * pulse):
        score, bars = _reread(score, pulse, bars)
    if isinstance(density, str) and density == "pace":
        mg = MetricGrid.from_score(score, resolution=4, bar_ticks=bars)
        density = _paced(model, st, score.tracks[0], mg) or "auto"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="infill hears and writes")  # new parts
        out = infill(score, tracks=[p.lower() for p in st.parts], model=model,
                     chords=DEFAULT_CHORDS[:1] if chords is None else chords,
                     bar_ticks=bars, density=density, steps=steps, temperature=temperature,
                     top_p=top_p, guidance=guidance, seed=seed, device=device, order=order,
                     progress=progress, resample=resample, track_map={0: st.melody})
    lines = MetricGrid.from_score(score, resolution=4, bar_ticks=bars).bar_ticks
    if repair and style == "chorale":
        out = repair_voice_leading(out, model, lines, rounds=repair, seed=seed, steps=steps,
                                   device=device)
    return _finish(out, st, lines if hold else None, tpq)


#: What :func:`repair_voice_leading` rewrites: the faults a harmony class marks first.
REPAIRED = ("parallel_fifth", "parallel_octave", "crossing")


def _faults(score, lines) -> list:
    """The findings of :data:`REPAIRED` kinds in ``score`` (voices: its first four tracks)."""
    from ...voiceleading import report

    return [f for f in report(score, bar_ticks=lines, voices=[0, 1, 2, 3]).findings
            if f.kind in REPAIRED]


def repair_voice_leading(score: symusic.Score, model, lines, *, rounds: int = 4, seed: int = 0,
                         steps: int = 16, device: str = "auto") -> symusic.Score:
    """Rewrite the bars where a four-part ``score`` (soprano first; the soprano is never
    touched) has parallel fifths or octaves or crossed voices (:mod:`symbolic.voiceleading`):
    each round redraws, in the bar of every fault (and the bar before, for a fault on a
    downbeat), the lower written voice of the pair, given everything else
    (:func:`~.generate.infill` with ``regions``); a round's result is kept only when it has
    fewer faults. ``lines``: the bar lines (starts plus the end); ``rounds`` at most."""
    best, found = score, _faults(score, lines)
    names = [t.name for t in score.tracks]
    for r in range(rounds):
        if not found:
            break
        regions = set()
        for f in found:
            voice = f.voices[-1]  # the lower voice of the pair: never the soprano
            first = f.bar - 1 if f.beat == 1 and f.bar > 1 else f.bar
            regions.add((names[("soprano", "alto", "tenor", "bass").index(voice)],
                         (first, f.bar)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cand = infill(best, regions=sorted(regions), model=model, bar_ticks=lines,
                          chords=None, seed=seed + 1 + r, steps=steps, device=device)
        cand_found = _faults(cand, lines)
        if len(cand_found) < len(found):
            best, found = cand, cand_found
    return best


def _finish(out: symusic.Score, st: Style, lines, tpq: int) -> symusic.Score:
    """The melody, then the written parts in the style's order, named in title case, held
    (:func:`legato`) over the bar lines ``lines`` unless None, back in ``tpq``."""
    written = {t.name.upper(): t for t in out.tracks[1:]}
    tracks = [out.tracks[0]]
    for p in st.parts:
        t = written[p]
        t.name = p.title()
        if lines is not None:
            legato(t, lines)
        tracks.append(t)
    out.tracks = tracks
    out.ticks_per_quarter = tpq
    return out


def piano_reduction(score: symusic.Score) -> symusic.Score:
    """A four-part score (soprano, alto, tenor, bass: the first four tracks, as
    :func:`harmonize` returns them) as two piano staves: ``Upper`` (soprano and alto) and
    ``Lower`` (tenor and bass), acoustic grand piano; notes, markers, tempos and signatures
    unchanged (notes of both voices starting together with one duration print as a chord,
    others as two voices on the staff)."""
    if not isinstance(score, symusic.Score) or len(score.tracks) < 4:
        raise ArgumentError("must be a Score with four voice tracks (soprano, alto, tenor, "
                            f"bass), got {getattr(score, 'tracks', score)!r}", "score")
    out = score.copy()
    staves = []
    for name, pair in (("Upper", out.tracks[:2]), ("Lower", out.tracks[2:4])):
        n = [t.notes.numpy() for t in pair]
        cat = {k: np.concatenate([x[k] for x in n]) for k in n[0]}
        key = np.stack([cat["time"], cat["pitch"]], 1)  # a unison of the two voices: once
        _, first = np.unique(key, axis=0, return_index=True)
        keep = np.zeros(len(cat["time"]), dtype=bool)
        keep[first] = True
        order = np.lexsort((cat["pitch"][keep], cat["time"][keep]))
        staff = symusic.core.TrackTick(name, 0, False)
        staff.notes = symusic.core.NoteTickList.from_numpy(
            *(cat[k][keep][order] for k in ("time", "duration", "pitch", "velocity")))
        staves.append(staff)
    out.tracks = staves
    return out
