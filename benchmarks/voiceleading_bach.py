"""Voice-leading figures of Bach's chorales (music21's corpus, the test split of
``symbolic.data.music21_corpus.piece_names("bach_chorales", "test")``: every 10th chorale),
and the time per chorale of :func:`symbolic.voiceleading.report`, beside music21's own
voice-leading check (``music21.voiceLeading.iterateAllVoiceLeadingQuartets``, similar-motion
parallel fifths and octaves) on the first few.

    python benchmarks/voiceleading_bach.py [--split test|valid|train|all] [--music21 N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from symbolic import load
from symbolic.data.music21_corpus import piece_names
from symbolic.errors import SymbolicError
from symbolic.voiceleading import KINDS, report


def music21_parallels(name: str, indices) -> tuple[int, int, float] | None:
    """(parallel fifths, parallel octaves/unisons, seconds) by music21 in similar motion,
    between consecutive verticalities of the four voice parts (``indices``: the tracks
    report() chose, which are music21's parts in order); None when they are not. music21
    also counts contrary "antiparallels": left out here, as symbolic does."""
    from music21 import corpus, stream, voiceLeading

    s = corpus.parse(name.removeprefix("corpus:"))
    parts = list(s.parts)
    if max(indices) >= len(parts):
        return None
    voices = stream.Score([parts[i] for i in indices])
    start = time.perf_counter()
    fifths = octaves = 0
    for q in voiceLeading.iterateAllVoiceLeadingQuartets(voices, includeRests=False,
                                                         includeOblique=False):
        if not q.similarMotion():
            continue
        fifths += bool(q.parallelFifth())
        octaves += bool(q.parallelOctave() or q.parallelUnison())
    return fifths, octaves, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test")
    ap.add_argument("--music21", type=int, default=35, help="chorales music21 also checks")
    args = ap.parse_args()
    names = piece_names("bach_chorales", args.split)
    counts, beats, seconds, failed = dict.fromkeys(KINDS, 0), 0.0, [], []
    ours = {}
    report(load(names[0]))  # warm-up: numpy's first calls are not the steady state
    for name in names:
        try:
            score = load(name)
            start = time.perf_counter()
            r = report(score)
            seconds.append(time.perf_counter() - start)
        except SymbolicError as e:
            failed.append(f"{name}: {e}")
            continue
        ours[name] = r
        beats += r.beats
        for k in KINDS:
            counts[k] += r.counts[k]
    print(f"Bach chorales, {args.split} split: {len(ours)} of {len(names)} read, "
          f"{beats:g} beats")
    print(f"{'kind':<16}{'count':>7}{'per 100 beats':>15}{'chorales with any':>19}")
    for k in KINDS:
        with_any = sum(r.counts[k] > 0 for r in ours.values())
        print(f"{k:<16}{counts[k]:>7}{100 * counts[k] / beats:>15.2f}{with_any:>19}")
    print(f"report(): {1000 * np.mean(seconds):.2f} ms per chorale (median "
          f"{1000 * np.median(seconds):.2f} ms, {len(seconds)} chorales, load not included)")
    for line in failed:
        print("not read:", line)
    compare_music21(ours, seconds, args.music21)


def compare_music21(ours: dict, seconds: list, n: int) -> None:
    """music21's similar-motion parallels beside ours on the first ``n`` chorales."""
    print(f"\nmusic21.voiceLeading on {min(n, len(ours))} chorales (similar-motion parallels "
          "between the four voice parts):")
    print(f"{'chorale':<24}{'fifths m21':>11}{'ours':>6}{'octaves m21':>13}{'ours':>6}"
          f"{'m21 ms':>9}{'ours ms':>9}")
    totals = np.zeros(6)
    for i, (name, r) in enumerate(list(ours.items())[:n]):
        got = music21_parallels(name, r.indices)
        if got is None:
            print(f"{name:<24} parts differ from the tracks: left out")
            continue
        f21, o21, sec = got
        row = (f21, r.counts["parallel_fifth"], o21, r.counts["parallel_octave"],
               1000 * sec, 1000 * seconds[i])
        totals += row
        print(f"{name:<24}{row[0]:>11}{row[1]:>6}{row[2]:>13}{row[3]:>6}{row[4]:>9.1f}"
              f"{row[5]:>9.2f}")
    print(f"{'total':<24}{totals[0]:>11g}{totals[1]:>6g}{totals[2]:>13g}{totals[3]:>6g}"
          f"{totals[4]:>9.0f}{totals[5]:>9.1f}   (music21 {totals[4] / totals[5]:.0f}x slower)")

if __name__ == "__main__":
    main()
