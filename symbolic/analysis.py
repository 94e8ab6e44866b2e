"""A summary of a score for people and scripts: tracks, timing, declared and estimated key, chords."""

from __future__ import annotations

from collections import Counter

import numpy as np
import symusic

from . import checks
from .timeline import MetricGrid, as_tick, ticks_to_seconds

__all__ = ["describe", "format_description"]

KEY_SHARPS = ["Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#"]
MINOR_SHARPS = ["Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#"]


def _instrument(track) -> str:
    if track.is_drum:
        return "Drums"
    from .convert import import_pretty_midi

    return import_pretty_midi().program_to_instrument_name(int(track.program))


def _declared_key(ks) -> str:
    table = MINOR_SHARPS if ks.tonality else KEY_SHARPS
    i = int(ks.key) + 7
    name = table[i] if 0 <= i < len(table) else f"{ks.key:+d} sharps"
    return f"{name}:{'min' if ks.tonality else 'maj'}"


def describe(score: symusic.Score, *, source: str | None = None, chords: bool = True,
             max_chords: int = 16) -> dict:
    """Everything ``symbolic info`` prints, as a JSON-ready dict.

    Times are given in quarters (from ticks) and seconds (through the tempo map); key changes
    also by bar (1-based, bars from the time signatures). The key is estimated from pitch
    content (:func:`symbolic.harmony.estimate_key`), key changes bar by bar
    (:func:`~symbolic.harmony.estimate_keys`). Chords are the score's own ``chord:`` markers
    when it has them (``"source": "markers"``), else recognized beat by beat
    (:func:`~symbolic.harmony.recognize_chords`, ``"recognized"``), summarised as the chords
    holding the most time and the opening progression (repeats merged), spelled as the
    estimated key spells them (``Db`` in D-flat major, ``C#`` in A major).
    """
    from . import harmony

    max_chords = checks.integer("max_chords", max_chords, 0)
    score = as_tick(score)
    tpq = score.ticks_per_quarter
    end = int(score.end())
    tracks = []
    for k, t in enumerate(score.tracks):
        n = t.notes.numpy()
        tracks.append({
            "index": k,
            "name": t.name,
            "program": int(t.program),
            "instrument": _instrument(t),
            "is_drum": bool(t.is_drum),
            "notes": int(len(n["pitch"])),
            "pitch_range": [int(n["pitch"].min()), int(n["pitch"].max())] if len(n["pitch"]) else None,
        })
    out = {
        "source": source,
        "ticks_per_quarter": int(tpq),
        "tracks": tracks,
        "notes": int(score.note_num()),
        "length_quarters": round(end / tpq, 3),
        "length_seconds": round(float(ticks_to_seconds(score, [end])[0]), 3),
        "tempos": [{"quarter": round(t.time / tpq, 3), "qpm": round(t.qpm, 2)} for t in score.tempos],
        "time_signatures": [{"quarter": round(t.time / tpq, 3), "signature": f"{t.numerator}/{t.denominator}"}
                            for t in score.time_signatures],
        "key_signatures": [{"quarter": round(k.time / tpq, 3), "key": _declared_key(k)}
                           for k in score.key_signatures],
    }
    if score.note_num() == 0 or all(t["is_drum"] for t in tracks):
        out.update(estimated_key=None, key_changes=[], chords=None)
        return out
    key = harmony.estimate_key(score)
    out["estimated_key"] = str(key)
    keys = harmony.estimate_keys(score)
    bars = MetricGrid.from_score(score, end=max(end, 1)).bar_ticks
    out["key_changes"] = [{"quarter": round(int(s) / tpq, 3),
                           "bar": int(np.searchsorted(bars, int(s), side="right")),
                           "key": str(k)} for s, k in zip(keys.start, keys.keys)]
    if chords:
        out["chords"] = _chord_summary(score, key.pitch_names(), max_chords)
    return out


def _chord_summary(score: symusic.Score, names, max_chords: int) -> dict:
    from . import harmony

    seq = harmony.chords_from_markers(score)
    source = "markers" if seq is not None else "recognized"
    if seq is None:
        seq = harmony.recognize_chords(score, segment="beat")
    dur = (seq.end - seq.start).astype(np.float64)
    share = Counter()
    for c, d in zip(seq.chords, dur):
        share[c.symbol(names)] += d
    total = max(dur.sum(), 1.0)
    merged = seq.merged()
    return {
        "source": source,
        "distinct": len(share),
        "most_time": [{"chord": c, "share": round(d / total, 3)} for c, d in share.most_common(8)],
        "opening": [c.symbol(names) for c in merged.chords[:max_chords]],
        "changes": len(merged),
    }


def format_description(d: dict) -> str:
    """Plain-text rendering of :func:`describe`'s dict."""
    lines = [f"{d['source'] or 'score'}"]
    lines.append(f"  length     {d['length_quarters']:g} quarters, {d['length_seconds']:.1f} s; "
                 f"{d['notes']} notes; {d['ticks_per_quarter']} ticks/quarter")
    tempos = ", ".join(f"{t['qpm']:g} qpm@{t['quarter']:g}" for t in d["tempos"][:6]) or "none (120 qpm)"
    lines.append(f"  tempos     {tempos}{' ...' if len(d['tempos']) > 6 else ''}")
    sigs = ", ".join(f"{t['signature']}@{t['quarter']:g}" for t in d["time_signatures"][:6]) or "none"
    lines.append(f"  meter      {sigs}{' ...' if len(d['time_signatures']) > 6 else ''}")
    keys = ", ".join(k["key"] for k in d["key_signatures"][:6]) or "none declared"
    lines.append(f"  key sig.   {keys}")
    if d.get("estimated_key"):
        changes = " -> ".join(f"{k['key']} from bar {k['bar']}" for k in d["key_changes"][:8])
        lines.append(f"  key        {d['estimated_key']} (estimated); {changes}")
    lines.append("  tracks")
    for t in d["tracks"]:
        rng = f"{t['pitch_range'][0]}-{t['pitch_range'][1]}" if t["pitch_range"] else "-"
        lines.append(f"    {t['index']:>2} {t['name'] or '(unnamed)':<16} {t['instrument']:<28} "
                     f"{t['notes']:>6} notes  pitch {rng}")
    ch = d.get("chords")
    if ch:
        most = ", ".join(f"{c['chord']} {c['share']:.0%}" for c in ch["most_time"])
        lines.append(f"  chords     {ch['distinct']} distinct, {ch['changes']} changes "
                     f"({'from chord: markers' if ch['source'] == 'markers' else 'recognized'}); "
                     f"most time: {most}")
        lines.append(f"  opening    {' | '.join(ch['opening'])}")
    return "\n".join(lines)
