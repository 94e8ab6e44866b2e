"""Lead-sheet events on whole corpora: coverage, loss and speed against symusic's parse.

Encodes and decodes every POP909 song (MELODY track, ``chord_midi.txt`` chords, annotated
downbeats) and every Bach chorale of music21's corpus (soprano as melody, chords recognized
per beat), then prints:

- the encode report totals (melody notes kept exactly, altered, dropped, by cause) and the
  chord-span counts (reduced to 49 classes, moved to the grid, dropped);
- how many files round-trip exactly at the event level: ``encode(decode(events)) == events``
  through a ``symusic.Score``;
- encode + decode time per file as a multiple of symusic's parse time of the same file
  (median, mean, 90th percentile, and the ratio of the sums). POP909: ``symusic.Score(path)``
  on the MIDI file. Chorales are MusicXML/Humdrum (music21 parses them in about 100 ms), so
  their reference is symusic parsing the chorale's own MIDI bytes (``score.dumps_midi()``).
  Each time is the best of ``--repeat`` runs of this thread's CPU time (``--clock thread``,
  default: keeps other processes' load on a shared machine out of the figures) or of the wall
  clock (``--clock wall``).

Encode = :func:`symbolic.representations.leadsheet.from_pop909` / ``from_score`` +
``to_events``; decode = :func:`symbolic.representations.leadsheet.decode` to a Score.

    python benchmarks/representations_leadsheet.py [--limit N] [--repeat 3] [--clock thread|wall]
                                                   [--no-bach] [--no-pop909]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
import symusic
from tqdm import tqdm

from symbolic.data import data_root
from symbolic.harmony import recognize_chords
from symbolic.representations import EncodeReport
from symbolic.representations import leadsheet as ls


CLOCK = time.thread_time


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = CLOCK()
        fn()
        best = min(best, CLOCK() - t)
    return best


def summarize(name: str, ratios, coder_s, parse_s) -> str:
    r = np.asarray(ratios)
    return (f"{name}: encode+decode / symusic parse per file: median {np.median(r):.1f}x, "
            f"mean {r.mean():.1f}x, p90 {np.percentile(r, 90):.1f}x, "
            f"max {r.max():.1f}x; sums {sum(coder_s) / sum(parse_s):.1f}x "
            f"({1e3 * np.mean(coder_s):.3f} ms vs {1e3 * np.mean(parse_s):.3f} ms per file)")


def run_pop909(limit, repeat):
    from symbolic.data.pop909 import Pop909

    pop = Pop909(data_root() / "pop909")
    ids = pop.available()[:limit]
    report, chords = EncodeReport(), Counter()
    ratios, coder_s, parse_s, exact, failures = [], [], [], 0, []
    for i in tqdm(ids, desc="POP909", unit="song"):
        try:
            song = pop.song(i)
            path = str(pop.folder(i) / f"{i:03d}.mid")
            lead = ls.from_pop909(song)
            events = lead.to_events()
            score = ls.decode(events)
            again = ls.encode(score, grid=events.meta.grid)
            exact += again == events
            report += lead.report
            chords.update(lead.chord_stats)
            t_code = best_time(lambda: ls.decode(ls.encode(ls.from_pop909(song))), repeat)
            t_parse = best_time(lambda: symusic.Score(path), repeat + 2)
        except Exception as e:  # a batch never dies on one file: record and go on
            failures.append(f"{i:03d}: {type(e).__name__}: {e}")
            continue
        coder_s.append(t_code)
        parse_s.append(t_parse)
        ratios.append(t_code / t_parse)
    return dict(n=len(ids), report=report, chords=chords, exact=exact, failures=failures,
                timing=summarize("POP909", ratios, coder_s, parse_s))


def run_bach(limit, repeat):
    from symbolic.data.music21_corpus import bach_chorales

    report, chords, failures = EncodeReport(), Counter(), []
    ratios, coder_s, parse_s, exact, n = [], [], [], 0, 0
    recog_s = []
    pieces = bach_chorales(limit=limit, failures=failures)
    for name, score in tqdm(pieces, desc="Bach", unit="piece", total=limit or 350):
        n += 1
        try:
            lead = ls.from_score(score, melody=0, source=name)
            events = lead.to_events()
            back = ls.decode(events)
            again = ls.encode(back, grid=events.meta.grid)
            exact += again == events
            report += lead.report
            chords.update(lead.chord_stats)
            midi = score.dumps_midi()
            seq = recognize_chords(score).merged()
            t_code = best_time(lambda: ls.decode(ls.encode(score, melody=0)), repeat)
            t_given = best_time(lambda: ls.decode(ls.encode(score, melody=0, chords=seq)), repeat)
            t_parse = best_time(lambda: symusic.Score.from_midi(midi), repeat + 2)
        except Exception as e:
            failures.append(f"{name}: {type(e).__name__}: {e}")
            continue
        coder_s.append(t_code)
        recog_s.append(t_given)
        parse_s.append(t_parse)
        ratios.append(t_code / t_parse)
    given = [a / b for a, b in zip(recog_s, parse_s)]
    return dict(n=n, report=report, chords=chords, exact=exact, failures=failures,
                timing=summarize("Bach (chords recognized)", ratios, coder_s, parse_s) + "\n  "
                + summarize("Bach (chords given)", given, recog_s, parse_s))


def show(title: str, res: dict) -> None:
    print(f"\n== {title}: {res['n']} files, {len(res['failures'])} failed")
    for f in res["failures"][:10]:
        print("  failed:", f)
    print("  melody notes:", res["report"])
    c = res["chords"]
    print(f"  chord spans: {c['chords_in']} in, {c['reduced']} reduced to 49 classes, "
          f"{c['moved']} moved to the 16th grid, {c['cut']} cut (overlapping the next), "
          f"{c['dropped']} dropped (shorter than half a step)")
    ok = res["n"] - len(res["failures"])
    print(f"  exact event round trip encode(decode(x)) == x through a Score: {res['exact']} / {ok}")
    print("  " + res["timing"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="first N files of each corpus")
    ap.add_argument("--repeat", type=int, default=3, help="best of N timings per file")
    ap.add_argument("--clock", choices=("thread", "wall"), default="thread")
    ap.add_argument("--no-bach", action="store_true")
    ap.add_argument("--no-pop909", action="store_true")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.thread_time if args.clock == "thread" else time.perf_counter
    results = {}
    if not args.no_pop909:
        results["POP909"] = run_pop909(args.limit, args.repeat)
    if not args.no_bach:
        results["Bach chorales"] = run_bach(args.limit, args.repeat)
    for title, res in results.items():
        show(title, res)


if __name__ == "__main__":
    main()
