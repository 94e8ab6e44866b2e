"""Melody measures for lead sheets, shared by the tests and ``benchmarks/eval_hrnn.py``: small
pure functions of a monophonic melody in 16th steps (``onset``, ``duration``, ``pitch``: int
arrays, one entry per note, sorted by onset) and, where chords matter, the CM-HRNN chord class
(0..48) of every step.

- :func:`chord_tone_ratio`: share of notes whose pitch class belongs to the chord sounding at
  their onset (the chord's 49-class tones: maj 0-4-7, min 0-3-7, 7 0-4-7-10, dim 0-3-6); notes
  under no chord are not counted.
- :func:`repeated_pattern_share`: the repetition measure. The piece is cut into consecutive
  non-overlapping spans of ``span_bars`` bars (2 by default); a span's pattern is its notes'
  (onset in the span, duration, pitch) triples; the measure is the share of spans holding at
  least one note whose exact pattern occurs in another span of the piece. Literal repeats
  only (no transposition, no variation), unlike COSIATEC's compression ratio.
- :func:`pitch_class_entropy` (bits, of the pitch-class histogram of the notes; 0 for one pitch
  class, 3.58 for all twelve equally), :func:`pitch_range` (semitones),
  :func:`one_pitch_share` (share of bars with notes whose notes all have one pitch: a drone
  detector), :func:`silent_bar_share` (share of bars where no melody note sounds).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHORD_TONES", "chord_tones_of", "chord_tone_ratio", "repeated_pattern_share",
           "pitch_class_entropy", "pitch_range", "one_pitch_share", "silent_bar_share",
           "melody_summary"]

_QUALITY_TONES = ((0, 4, 7), (0, 3, 7), (0, 4, 7, 10), (0, 3, 6))
#: ``CHORD_TONES[c]``: 12-bit pitch-class mask of CM-HRNN chord class ``c`` (0: no chord, 0).
CHORD_TONES = np.zeros(49, dtype=np.int64)
for _c in range(1, 49):
    _root, _q = divmod(_c - 1, 4)
    CHORD_TONES[_c] = sum(1 << ((_root + i) % 12) for i in _QUALITY_TONES[_q])
del _c, _root, _q


def chord_tones_of(chord_class: int) -> set[int]:
    """Pitch classes of a CM-HRNN chord class (empty for 0, no chord)."""
    m = int(CHORD_TONES[int(chord_class)])
    return {i for i in range(12) if m >> i & 1}


def chord_tone_ratio(onset, pitch, chords) -> float:
    """Share of notes on a chord tone of the chord at their onset (``chords``: class per step;
    onsets past its end and notes under no chord are skipped); NaN without countable notes."""
    onset, pitch, chords = (np.asarray(x, dtype=np.int64) for x in (onset, pitch, chords))
    inside = onset < len(chords)
    c = chords[onset[inside]]
    p = pitch[inside][c > 0]
    c = c[c > 0]
    if len(c) == 0:
        return float("nan")
    return float(((CHORD_TONES[c] >> (p % 12)) & 1).mean())


def repeated_pattern_share(onset, duration, pitch, bar_steps: int, n_bars: int,
                           span_bars: int = 2) -> float:
    """Share of ``span_bars``-bar spans (with notes) whose exact note pattern occurs in another
    span of the piece (see the module docstring); NaN when no span holds a note."""
    span = bar_steps * span_bars
    onset, duration, pitch = (np.asarray(x, dtype=np.int64) for x in (onset, duration, pitch))
    k = onset // span
    patterns = {}
    for j in range(-(-n_bars // span_bars)):
        sel = k == j
        if sel.any():
            patterns[j] = tuple(zip((onset[sel] - j * span).tolist(),
                                    np.minimum(duration[sel], span).tolist(),
                                    pitch[sel].tolist()))
    if not patterns:
        return float("nan")
    counts: dict = {}
    for p in patterns.values():
        counts[p] = counts.get(p, 0) + 1
    return float(np.mean([counts[p] > 1 for p in patterns.values()]))


def pitch_class_entropy(pitch) -> float:
    """Shannon entropy in bits of the notes' pitch-class histogram (NaN without notes)."""
    pitch = np.asarray(pitch, dtype=np.int64)
    if len(pitch) == 0:
        return float("nan")
    h = np.bincount(pitch % 12, minlength=12) / len(pitch)
    h = h[h > 0]
    return float(-(h * np.log2(h)).sum())


def pitch_range(pitch) -> int:
    """Highest minus lowest pitch in semitones (0 without notes)."""
    pitch = np.asarray(pitch)
    return int(pitch.max() - pitch.min()) if len(pitch) else 0


def one_pitch_share(onset, pitch, bar_steps: int) -> float:
    """Share of bars with note onsets whose notes all have one pitch (NaN without notes)."""
    onset, pitch = np.asarray(onset, dtype=np.int64), np.asarray(pitch, dtype=np.int64)
    if len(onset) == 0:
        return float("nan")
    bar = onset // bar_steps
    same = [len(np.unique(pitch[bar == b])) == 1 for b in np.unique(bar)]
    return float(np.mean(same))


def silent_bar_share(onset, duration, bar_steps: int, n_bars: int) -> float:
    """Share of the ``n_bars`` bars in which no melody note sounds."""
    onset, duration = np.asarray(onset, dtype=np.int64), np.asarray(duration, dtype=np.int64)
    sounding = np.zeros(n_bars * bar_steps, dtype=bool)
    for a, d in zip(onset.tolist(), duration.tolist()):  # a few dozen notes per piece
        sounding[a:a + d] = True
    return float((~sounding.reshape(n_bars, bar_steps).any(axis=1)).mean())


def melody_summary(onset, duration, pitch, chords, bar_steps: int, n_bars: int) -> dict:
    """Every measure of this module for one melody (keys as the function names, plus
    ``notes``)."""
    return {"notes": len(onset),
            "chord_tone_ratio": chord_tone_ratio(onset, pitch, chords),
            "repeated_pattern_share": repeated_pattern_share(onset, duration, pitch, bar_steps,
                                                             n_bars),
            "pitch_class_entropy": pitch_class_entropy(pitch),
            "pitch_range": pitch_range(pitch),
            "one_pitch_share": one_pitch_share(onset, pitch, bar_steps),
            "silent_bar_share": silent_bar_share(onset, duration, bar_steps, n_bars)}
