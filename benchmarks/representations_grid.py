"""GETScore grids over whole corpora: what the codec loses, and what it costs next to parsing.

    python benchmarks/representations_grid.py [--limit N] [--bach-limit N] [--repeat 5]

POP909 (all 909 songs): ``pop909`` track map and vocabulary, bars from the annotated downbeats,
chords from the annotations. Bach chorales (all 350 of music21's corpus): ``getmusic`` track map
and vocabulary (the four voices share the piano track), bars from the time signatures, chords
recognized beat by beat (``symbolic.harmony.recognize_chords``, GETMusic's eight qualities;
chorales change harmony every beat, and bar segments smooth most of it away).

For every file it checks that ``decode`` works and that the grid round trip is exact
(``encode(decode(g), grid=g.meta.grid) == g``), sums the encode reports (notes kept exactly,
altered, dropped, with reasons), and times, in CPU time of this thread (the machine is shared:
wall time measures the neighbours), the best of ``--repeat`` runs of

- ``parse``: ``symusic.Score.from_midi`` of the file's bytes (Bach: the bytes of its MIDI export);
- ``codec``: ``encode`` + ``decode`` (annotated/recognized chords passed in as a ChordSequence;
  the metrical grid is built inside ``encode``, as a user would call it);
- ``encode`` and ``decode`` apart;
- ``grid``: ``MetricGrid.from_score`` alone (part of ``encode``);
- ``floor``: what any codec between a Score and arrays pays here: exporting the note arrays
  (``track.notes.numpy()``), the metrical grid and metadata, rebuilding a score from arrays.

It prints each as a multiple of the parse time of the same file (median, 90th percentile and
total over total). Chord recognition for Bach is timed apart: it is analysis, not the codec.
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
from symbolic.representations.grid import GridVocab, chords_from_labels, decode, encode
from symbolic.representations.meter import MetricGrid, ScoreMeta


def best_cpu(fn, repeat: int) -> float:
    """Smallest CPU time (seconds, this thread) of ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        t = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t)
    return best


def run_corpus(name, items, vocab, *, repeat, chords_of, bars_of=lambda item: None, total=None):
    """Encode/decode/round-trip/time every ``(label, score, midi_bytes, extra)`` item."""
    report = EncodeReport()
    parse_t, codec_t, enc_t, dec_t, grid_t, floor_t, extra_t = [], [], [], [], [], [], []
    failures, columns, decoded_notes = [], 0, 0
    for label, score, data, extra in tqdm(items, desc=name, total=total, unit="file"):
        t = time.thread_time()
        seq = chords_of(score, extra)
        extra_t.append(time.thread_time() - t)
        bars = bars_of(extra)
        try:
            g = encode(score, vocab, bar_ticks=bars, chords=seq, source=label)
            out = decode(g)
            back = encode(out, vocab, grid=g.meta.grid)
            if back != g:
                failures.append(f"{label}: round trip differs")
        except Exception as e:  # a benchmark records a bad file and goes on
            failures.append(f"{label}: {type(e).__name__}: {e}")
            continue
        report = report + g.report
        columns += g.n_columns
        decoded_notes += out.note_num()

        def codec():
            decode(encode(score, vocab, bar_ticks=bars, chords=seq))

        parse_t.append(best_cpu(lambda: symusic.Score.from_midi(data), repeat))
        codec_t.append(best_cpu(codec, repeat))
        enc_t.append(best_cpu(lambda: encode(score, vocab, bar_ticks=bars, chords=seq), repeat))
        dec_t.append(best_cpu(lambda: decode(g), repeat))
        grid_t.append(best_cpu(lambda: MetricGrid.from_score(score, resolution=vocab.resolution,
                                                             bar_ticks=bars), repeat))
        floor_t.append(best_cpu(lambda: floor(score, vocab.resolution, bars), repeat))
    times = {"encode + decode": codec_t, "  encode": enc_t, "  decode": dec_t,
             "  of encode: MetricGrid.from_score": grid_t,
             "floor (arrays out/in, grid, meta)": floor_t}
    return (report, np.array(parse_t), {k: np.array(v) for k, v in times.items()},
            np.array(extra_t), failures, columns, decoded_notes)


def floor(score, resolution, bars):
    """Array export, metrical grid, metadata and score rebuild: a lower bound for any codec."""
    arrays = [tr.notes.numpy() for tr in score.tracks]
    grid = MetricGrid.from_score(score, resolution=resolution, bar_ticks=bars)
    out = ScoreMeta.from_score(score, grid).empty_score()
    for tr, a in zip(score.tracks, arrays):
        track = symusic.Track(name=tr.name, program=tr.program, is_drum=tr.is_drum)
        track.notes = symusic.Note.from_numpy(a["time"], a["duration"], a["pitch"], a["velocity"])
        out.tracks.append(track)
    return out


def print_results(name, files, result, extra_name=None):
    report, parse_t, times, extra_t, failures, columns, decoded = result
    print(f"\n== {name}: {files} files, {len(failures)} failures, {columns} grid columns")
    for f in failures[:10]:
        print("   ", f)
    print(f"   encode report: {report}")
    print(f"   notes in {report.notes_in}, kept exactly {report.kept_exact}, altered "
          f"{report.altered}, dropped {report.dropped}; decoded notes {decoded}")
    for reason, n in Counter(report.reasons).most_common():
        print(f"     {reason:40s} {n:9d}  ({100 * n / max(report.notes_in, 1):.2f}% of notes in)")
    if len(parse_t):
        def row(label, t):
            ratio = t / parse_t
            print(f"   {label:36s} median {np.median(ratio):6.1f}x   p90 "
                  f"{np.percentile(ratio, 90):6.1f}x   total/total {t.sum() / parse_t.sum():6.1f}x"
                  f"   ({1e6 * np.median(t):.0f} us median)")
        print(f"   symusic parse: median {1e6 * np.median(parse_t):.0f} us per file (CPU); "
              f"each row below / parse of the same file")
        for label, t in times.items():
            row(label, t)
        if extra_name:
            row(extra_name, extra_t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pop909", default=str(data_root() / "pop909"))
    ap.add_argument("--limit", type=int, default=None, help="first N POP909 songs (default all)")
    ap.add_argument("--bach-limit", type=int, default=None, help="first N chorales (default all)")
    ap.add_argument("--repeat", type=int, default=5, help="timing runs per file (best is kept)")
    ap.add_argument("--skip-bach", action="store_true")
    args = ap.parse_args(argv)

    from symbolic.data.pop909 import Pop909

    pop = Pop909(args.pop909)
    ids = pop.available()[: args.limit]
    vocab = GridVocab.load("pop909")
    print(f"vocabulary {vocab}")

    def pop_items():
        for i in ids:
            song = pop.song(i)
            data = (pop.folder(i) / f"{i:03d}.mid").read_bytes()
            yield f"pop909/{i:03d}", song.score, data, song

    def pop_chords(score, song):
        return chords_from_labels(*song.chord_ticks(), song.chords.labels)

    res = run_corpus("POP909", pop_items(), vocab, repeat=args.repeat, chords_of=pop_chords,
                     bars_of=lambda song: song.bar_ticks(), total=len(ids))
    print_results("POP909 (pop909 map, annotated bars and chords)", len(ids), res)

    if args.skip_bach:
        return
    from symbolic.data.music21_corpus import bach_chorales

    vocab = GridVocab.load("getmusic")
    print(f"\nvocabulary {vocab}")
    failures = []
    chorales = list(bach_chorales(limit=args.bach_limit, failures=failures, progress=True))
    for f in failures:
        print("   load failure:", f)

    def bach_items():
        for name, score in chorales:
            yield name, score, bytes(score.dumps_midi()), None

    def bach_chords(score, _):
        return recognize_chords(score, segment="beat", vocabulary="getmusic")

    res = run_corpus("Bach", bach_items(), vocab, repeat=args.repeat, chords_of=bach_chords,
                     total=len(chorales))
    print_results("Bach chorales (getmusic map, time-signature bars, recognized chords)",
                  len(chorales), res, extra_name="chord recognition (apart) / parse")


if __name__ == "__main__":
    main()
