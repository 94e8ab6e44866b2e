"""Melodies over chord progressions: :func:`melodize` (chords in, a ``symusic.Score`` with a
``MELODY`` and a ``CHORDS`` track out), the sampling loop :func:`sample_events`, and
:func:`save_leadsheet` (MusicXML with chord symbols).

**Sampling.** The model reads one event at a time (:meth:`~.model.CMHRNN.step`) and predicts
the next one's note, duration and bar flag; the chord and the position in the bar of each next
event come from the given progression and meter, not from the model. Generation starts after a
count-in: one bar of rest under the first chord, which is not part of the result. Notes are
drawn at ``temperature`` (default 0.7) and durations at ``duration_temperature`` (0.4), CM-HRNN's
published values, optionally from a nucleus ``top_p`` (default 1.0: off); bar flags at 1.0.
Three rules are imposed: the first event is a note (the melody enters on the first downbeat);
no rest is drawn once the melody has been silent for ``max_rest_bars`` bars (default 1: at these
temperatures the small CPU-trained models otherwise fall silent, since the most likely event
after a rest is another rest; ``benchmarks/eval_hrnn.py`` prints the row without the rule);
a sustain cannot follow a rest (it would continue nothing). Durations are not cut at bar lines:
an event may cross one, which is what the success-bar ratio (:func:`success_bars`) counts. The
last event is cut at the end of the last bar.

**Opening.** ``opening`` (a score) gives the first bars of the melody: its ``MELODY`` track, or
its highest voice when it has none, read on its own 16th-step grid and placed at the same steps
of the new piece (its meter is taken to be the progression's); the model reads those events
(teacher forcing) and continues from there. The opening's notes come back unchanged (quantized
to 16ths).
"""

from __future__ import annotations

import numpy as np
import symusic
import torch

from ... import checks
from ...errors import ArgumentError, SymbolicError
from ...harmony import MARKER_PREFIX, ChordSequence, chords_from_markers
from ...representations import leadsheet as ls
from ...timeline import MetricGrid, ScoreMeta, as_tick
from ..sampling import categorical
from .model import CMHRNN, load

__all__ = ["melodize", "sample_events", "success_bars", "events_to_notes", "save_leadsheet",
           "progression_steps", "MAX_BARS"]

#: Most bars one call writes (a few thousand events; seconds of CPU).
MAX_BARS = 512
_TPQ = 480
_STEP_TICKS = _TPQ // 4


def _parse(chords, bar_lines=None):
    """:func:`symbolic.models.getdiff.parse_progression`, its errors named ``chords``."""
    from ..getdiff.generate import parse_progression

    if not isinstance(chords, (str, list, tuple)):
        raise ArgumentError(f"must be a progression text or a list of bars, got "
                            f"{type(chords).__name__}", "chords")
    try:
        return parse_progression(chords, bar_lines)
    except (ValueError, TypeError, SymbolicError) as e:
        raise ArgumentError(f"cannot read the chord progression: {e}", "chords") from None


def progression_steps(chords, n_bars: int, bar_steps: int) -> tuple[np.ndarray, ChordSequence]:
    """The chord progression (text or list, as :func:`symbolic.models.getdiff.parse_progression`
    reads it: bars split by ``|``, chords in a bar share it evenly; it repeats to fill
    ``n_bars``) on 16th steps: ``(classes, spans)`` with the CM-HRNN chord class (0..48) of
    every step (int64 ``[n_bars * bar_steps]``) and the chord spans in steps (full chords)."""
    spans = _parse(chords, np.arange(n_bars + 1) * bar_steps)
    classes = np.array([c.reduce_cmhrnn() for c in spans.chords], dtype=np.int64)
    per_step = np.repeat(classes, spans.end - spans.start)
    return per_step, spans


def _input_row(ev: np.ndarray, next_chord: int, next_pos: int) -> torch.Tensor:
    return torch.tensor([[ev[0], ev[1], ev[2], ev[3], next_chord, min(next_pos, 15)]])


@torch.no_grad()
def sample_events(model: CMHRNN, chords: np.ndarray, bar_steps: int, *, prefix=None,
                  temperature: float = 0.7, duration_temperature: float = 0.4,
                  top_p: float = 1.0, max_rest_bars: float | None = 1.0,
                  seed: int = 0) -> np.ndarray:
    """Events of a melody over ``chords`` (CM-HRNN class per 16th step, the whole piece) in
    bars of ``bar_steps`` steps (at most 16): int64 ``[n, 5]`` (bar flag as sampled, chord,
    duration class, note, steps into the bar at the onset), covering exactly ``len(chords)``
    steps. ``prefix``: given events ``[m, 4+]`` from step 0 (an opening), read, not sampled.
    ``max_rest_bars``: longest silence in bars before a rest is no longer drawn (None: no
    limit). See the module docstring for the rules. The model samples in eval mode (no
    dropout) and is left in the mode it had."""
    was_training = model.training
    model.eval()
    total = len(chords)
    dev = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    prefix = np.zeros((0, 4), np.int64) if prefix is None else np.asarray(prefix, np.int64)
    cur = np.array([1, chords[0], bar_steps - 1, ls.REST])  # the count-in bar
    state, out, t, silent = model.start(1), [], 0, 0
    longest = None if max_rest_bars is None else max_rest_bars * bar_steps
    while t < total:
        logits, state = model.step(_input_row(cur, chords[t], t % bar_steps).to(dev), state)
        if len(out) < len(prefix):
            nxt = prefix[len(out), :4].copy()
        else:
            note_logits = logits[0].float().cpu()
            if cur[3] == ls.REST:
                note_logits[:, ls.SUSTAIN] = -float("inf")
            if not out or (longest is not None and silent >= longest):
                note_logits[:, ls.REST] = -float("inf")  # enter on the first downbeat
            note = categorical(note_logits, temperature, top_p, generator=gen)[0]
            dur = categorical(logits[1].float().cpu(), duration_temperature, top_p,
                              generator=gen)[0]
            bar = categorical(logits[2].float().cpu(), 1.0, generator=gen)[0]
            nxt = np.array([int(bar), chords[t], int(dur), int(note)])
        out.append(np.r_[nxt, t % bar_steps])
        t += int(nxt[2]) + 1
        silent = silent + int(nxt[2]) + 1 if nxt[3] == ls.REST else 0
        cur = nxt
    ev = np.array(out, dtype=np.int64).reshape(-1, 5)
    if t > total:  # the last event ends with the last bar
        ev[-1, 2] -= t - total
    model.train(was_training)
    return ev


def success_bars(events: np.ndarray, bar_steps: int) -> tuple[int, int]:
    """CM-HRNN's success-bar count of sampled events (``[n, >=3]``: bar flag, chord, duration
    class): bars are delimited by the events' own bar flags, and a bar succeeds when its
    durations sum to exactly ``bar_steps``. Returns ``(successful bars, bars)``; the last bar
    counts only when it is complete or short by nothing."""
    ev = np.asarray(events)
    starts = np.flatnonzero(ev[:, 0] == 1)
    if len(starts) == 0:
        return 0, 0
    steps = ev[:, 2] + 1
    sums = np.add.reduceat(steps, starts)
    return int((sums == bar_steps).sum()), len(sums)


def events_to_notes(ev: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Melody notes ``(onset, duration, pitch)`` in steps from events (sustains join the note
    before them; a sustain after a rest, only possible in a given opening, is a rest)."""
    dur = ev[:, 2] + 1
    on = np.cumsum(dur) - dur
    note = ev[:, 3]
    head = np.flatnonzero(note != ls.SUSTAIN)
    tail = np.r_[head[1:], len(ev)]
    end = on[tail - 1] + dur[tail - 1]
    keep = note[head] >= 2
    return on[head][keep], (end - on[head])[keep], note[head][keep] - 2


def _meter(time_signature) -> tuple[int, int, int]:
    num, den = checks.time_signature(time_signature)
    steps = num * 16 / den
    if not (steps == int(steps) and 2 <= steps <= 16):
        raise ArgumentError(f"must give a bar of 2..16 sixteenths (2/4, 3/4, 4/4, 6/8...), got "
                            f"{num}/{den}", "time_signature")
    return num, den, int(steps)


def _opening_events(opening, opening_bars, n_bars: int, bar_steps: int, spans) -> np.ndarray:
    """The opening's first bars as events on the new piece's steps (chords from ``spans``)."""
    if not isinstance(opening, symusic.Score):
        raise ArgumentError(f"must be a symusic.Score (symbolic.load(path)), got "
                            f"{type(opening).__name__}", "opening")
    if opening.ticks_per_quarter <= 0 or opening.note_num() == 0:
        raise ArgumentError("the opening has no notes", "opening")
    opening = as_tick(opening)
    names = [t.name.upper() for t in opening.tracks]
    empty = ChordSequence(np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    lead = ls.from_score(opening, melody="MELODY" if "MELODY" in names else None, chords=empty)
    have = max(1, -(-lead.end // bar_steps))
    k = min(have, n_bars - 1) if opening_bars is None else opening_bars
    k = checks.integer("opening_bars", k, 1, n_bars - 1)
    stop = k * bar_steps
    keep = lead.onset < stop
    on, dur, pitch = lead.onset[keep], lead.duration[keep], lead.pitch[keep]
    dur = np.minimum(dur, stop - on)
    ids = np.array([ls.chord_id(c) for c in spans.chords], dtype=np.int64)
    cs, ce = np.minimum(spans.start, stop), np.minimum(spans.end, stop)
    live = ce > cs
    grid = MetricGrid(_TPQ, 4, np.arange(k + 1) * bar_steps * _STEP_TICKS,
                      np.full(k, bar_steps), np.full(k, 4), np.full(k, 4))
    part = ls.LeadSheet(on, dur, pitch, np.full(len(on), 100), cs[live], ce[live], ids[live],
                        ScoreMeta(_TPQ, grid))
    ev = ls.encode_leadsheet(part).array
    d = ev[:, 2] + 1
    return np.c_[ev, (np.cumsum(d) - d) % bar_steps]


def _resolve_model(model, device) -> CMHRNN:
    if isinstance(model, CMHRNN):
        return model
    if model is not None and not isinstance(model, str) and not hasattr(model, "__fspath__"):
        raise ArgumentError(f"must be None, a shipped name, a folder or a CMHRNN, got "
                            f"{type(model).__name__}", "model")
    return load(None if model is None else str(model), device)


def melodize(chords, bars: int | None = None, *, seed: int = 0, opening=None,
             opening_bars: int | None = None, model=None, temperature: float = 0.7,
             duration_temperature: float = 0.4, top_p: float = 1.0, tempo: float = 100.0,
             time_signature=(4, 4), device: str = "auto", return_events: bool = False):
    """A melody over a chord progression, as a lead sheet in a ``symusic.Score``.

    ``chords``: ``"C G Am F | F G C C"`` (bars split by ``|``; chords in one bar share it
    evenly), ``"C G Am F"`` (one chord per bar) or a list of bars; the progression repeats to
    fill ``bars`` (default: its own length; 1..:data:`MAX_BARS`). ``model``: None (the shipped
    CM-HRNN, ``hrnn-pop909``), a shipped name (``"hrnn-lstm-pop909"``,
    ``"hrnn-attention-pop909"``), a folder, or a :class:`~.model.CMHRNN`. ``opening``: a score
    whose first ``opening_bars`` bars of melody (default: all its bars, at most ``bars - 1``)
    open the piece (see the module docstring). ``temperature`` / ``duration_temperature``:
    0 (argmax) .. 5. ``tempo``: quarter notes per minute; ``time_signature``: a bar of 2..16
    sixteenths.

    Returns a score at 480 ticks per quarter with tracks ``MELODY`` (velocity 100) and
    ``CHORDS`` (one root-position block chord per chord span, root in MIDI 48-59: what
    :mod:`symbolic.representations.leadsheet` writes and reads back), plus a ``chord:<label>``
    marker at every chord change (the exact labels, which :func:`save_leadsheet` writes as
    MusicXML chord symbols). With ``return_events`` also the sampled events
    (:func:`sample_events`).
    """
    num, den, bar_steps = _meter(time_signature)
    n_bars = checks.integer("bars", len(_parse(chords)) if bars is None else bars, 1, MAX_BARS)
    seed = checks.integer("seed", seed, 0, 2**63 - 1)
    temperature = checks.number("temperature", temperature, 0.0, 5.0)
    duration_temperature = checks.number("duration_temperature", duration_temperature, 0.0, 5.0)
    top_p = checks.number("top_p", top_p, 0.0, 1.0, low_open=True)
    tempo = checks.number("tempo", tempo, 0.0, checks.MAX_TEMPO_QPM, low_open=True)
    per_step, spans = progression_steps(chords, n_bars, bar_steps)
    prefix = None
    if opening is not None:
        if n_bars < 2:
            raise ArgumentError("an opening needs bars >= 2 (at least one bar to write)", "bars")
        prefix = _opening_events(opening, opening_bars, n_bars, bar_steps, spans)
    net = _resolve_model(model, device)
    ev = sample_events(net, per_step, bar_steps, prefix=prefix, temperature=temperature,
                       duration_temperature=duration_temperature, top_p=top_p, seed=seed)
    score = _leadsheet_score(ev, spans, n_bars, bar_steps, num, den, tempo)
    return (score, ev) if return_events else score


def _leadsheet_score(ev, spans, n_bars, bar_steps, num, den, tempo) -> symusic.Score:
    on, dur, pitch = events_to_notes(ev)
    grid = MetricGrid(_TPQ, 4, np.arange(n_bars + 1) * bar_steps * _STEP_TICKS,
                      np.full(n_bars, bar_steps), np.full(n_bars, num), np.full(n_bars, den))
    meta = ScoreMeta(_TPQ, grid, tempos=[(0, round(60_000_000 / tempo))],
                     time_signatures=[(0, num, den)])
    ids = np.array([ls.chord_id(c) for c in spans.chords], dtype=np.int64)
    lead = ls.LeadSheet(on, dur, pitch, np.full(len(on), ls.DEFAULT_VELOCITY), spans.start,
                        spans.end, ids, meta)
    score = lead.to_score()
    labels = [str(c) for c in spans.chords]
    for k, (t, label) in enumerate(zip(spans.start.tolist(), labels)):
        if k == 0 or label != labels[k - 1]:
            score.markers.append(symusic.TextMeta(int(t) * _STEP_TICKS, f"{MARKER_PREFIX}{label}"))
    return score


def save_leadsheet(score: symusic.Score, path, *, title: str | None = None):
    """Write a lead-sheet score (what :func:`melodize` returns: ``MELODY`` plus chords) as
    MusicXML (``.musicxml``/``.xml``; ``.mxl`` compressed) with chord symbols: the chords come
    from the ``chord:`` markers (exact labels) or else the ``CHORDS`` track, through
    :func:`symbolic.representations.leadsheet.save_musicxml`. Returns the path."""
    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() not in (".musicxml", ".xml", ".mxl"):
        raise ArgumentError(f"a lead sheet is written as .musicxml, .xml or .mxl, not "
                            f"{path.suffix or 'no suffix'!r}", path)
    score = as_tick(score)
    seq = chords_from_markers(score)
    lead = ls.from_score(score, melody="MELODY", chords=seq if seq is not None else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    return ls.save_musicxml(lead, path, title=title)
