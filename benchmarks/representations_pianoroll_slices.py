"""Piano-roll images and pitch-class slices over whole corpora, and piano-roll speed vs peers.

1. Every POP909 song (bars and beats from its annotations) and every Bach chorale (bars and beats
   from its time signatures) is encoded and decoded under both codecs: piano roll merged (PoM)
   and one channel-set per track, and one-beat pitch-class slices. Each decoded piece is encoded
   again and must give the identical image / tokens. Prints the encode-report totals (notes in,
   kept exactly, altered, dropped, with reasons) and the round-trip failures (expected 0).
2. Speed of the piano-roll image on POP909, per file, parse time excluded and measured apart:
   ``symbolic.representations.pianoroll.encode`` against
   ``pretty_midi.PrettyMIDI(path).get_piano_roll(fs)`` at the equivalent 16th resolution
   (``fs`` = 4 frames per quarter at the song's mean tempo) and
   ``muspy.to_pianoroll_representation(muspy.read_midi(path))`` (at the file's 480 ticks per
   quarter, as muspy does by default, and after ``adjust_resolution(4)``, i.e. 16ths).
   symusic's own C++ ``pianoroll`` (after ``resample(4)``) is listed as a reference: it is not a
   codec (no decode, no report). Each tool's time per file is the best of ``--repeat`` runs,
   the tools interleaved file by file so that machine load hits them alike.

    python benchmarks/representations_pianoroll_slices.py [--limit N] [--bach-limit N]
        [--speed-limit N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter

import numpy as np
from tqdm import tqdm

from symbolic.data import data_root
from symbolic.representations import EncodeReport
from symbolic.representations import pianoroll as pr
from symbolic.representations import slices as sl
from symbolic.representations.meter import MetricGrid

CODECS = ("pianoroll merged", "pianoroll tracks", "slices")


def run_codecs(score, *, bar_ticks=None, beat_ticks=None):
    """Encode, decode and re-encode ``score`` under every codec: reports, round-trip flags and
    seconds spent encoding and decoding."""
    out = {}
    for name in CODECS:
        t0 = time.perf_counter()
        if name == "slices":
            x = sl.encode(score, beats=beat_ticks)
            t1 = time.perf_counter()
            back = sl.decode(x)
            t2 = time.perf_counter()
            ok = np.array_equal(sl.encode(back, boundaries=x.boundaries).tokens, x.tokens)
        else:
            mode = name.split()[1]
            x = pr.encode(score, mode=mode, bar_ticks=bar_ticks)
            t1 = time.perf_counter()
            back = pr.decode(x)
            t2 = time.perf_counter()
            ok = np.array_equal(pr.encode(back, mode=mode, grid=x.grid).image, x.image)
        out[name] = (x.report, ok, t1 - t0, t2 - t1)
    return out


def corpus_pass(items, label, totals, failures, timing):
    for name, score, bars, beats in items:
        for codec, (report, ok, enc, dec) in run_codecs(score, bar_ticks=bars,
                                                         beat_ticks=beats).items():
            totals[label, codec] = totals.get((label, codec), EncodeReport(fields=report.fields)) \
                + report
            if not ok:
                failures.append(f"{label} {name}: {codec} round trip differs")
            timing[label, codec] = np.add(timing.get((label, codec), (0.0, 0.0, 0)), (enc, dec, 1))


def pop909_items(pop, ids, progress=True):
    for i in tqdm(ids, desc="POP909 codecs", unit="song", disable=not progress):
        song = pop.song(i)
        yield f"{i:03d}", song.score, song.bar_ticks(), song.beat_ticks()


def bach_items(limit):
    from symbolic.data.music21_corpus import bach_chorales

    for name, score in bach_chorales(limit=limit, progress=True):
        yield name, score, None, None


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def speed(pop, ids, repeat):
    import muspy
    import pretty_midi

    import symbolic

    warnings.simplefilter("ignore")
    t = Counter()
    notes = 0
    for i in tqdm(ids, desc="piano-roll speed", unit="song"):
        path = pop.folder(i) / f"{i:03d}.mid"
        song = pop.song(i)
        bars = song.bar_ticks()
        t["parse symbolic.load(sandbox=False)"] += best_of(
            lambda: symbolic.load(path, sandbox=False), repeat)
        t["parse pretty_midi.PrettyMIDI"] += best_of(lambda: pretty_midi.PrettyMIDI(str(path)), 1)
        t["parse muspy.read_midi"] += best_of(lambda: muspy.read_midi(path), 1)
        score = symbolic.load(path, sandbox=False)
        notes += score.note_num()
        pm = pretty_midi.PrettyMIDI(str(path))
        end = pm.get_end_time()
        fs = 4 * pm.time_to_tick(end) / pm.resolution / end  # 16ths at the mean tempo
        music = muspy.read_midi(path)
        music16 = music.deepcopy().adjust_resolution(4)
        grid = MetricGrid.from_score(score, bar_ticks=bars)
        roll = pr.encode(score, bar_ticks=bars)
        image16 = muspy.to_pianoroll_representation(music16)
        t["symbolic encode (time-signature grid)"] += best_of(lambda: pr.encode(score), repeat)
        t["symbolic encode (annotated bars)"] += best_of(
            lambda: pr.encode(score, bar_ticks=bars), repeat)
        t["symbolic encode (grid prebuilt)"] += best_of(lambda: pr.encode(score, grid=grid), repeat)
        t["symbolic encode tracks (annotated bars)"] += best_of(
            lambda: pr.encode(score, mode="tracks", bar_ticks=bars), repeat)
        t["pretty_midi get_piano_roll"] += best_of(lambda: pm.get_piano_roll(fs=fs), repeat)
        t["muspy to_pianoroll (480 tpq)"] += best_of(
            lambda: muspy.to_pianoroll_representation(music), repeat)
        t["muspy to_pianoroll (16ths)"] += best_of(
            lambda: muspy.to_pianoroll_representation(music16), repeat)
        t["symusic resample(4).pianoroll (C++)"] += best_of(
            lambda: score.resample(4, min_dur=1).pianoroll(
                modes=["onset", "frame"], pitch_range=(0, 128), encode_velocity=True), repeat)
        t["symbolic decode"] += best_of(lambda: pr.decode(roll), repeat)
        t["muspy from_pianoroll (16ths)"] += best_of(
            lambda: muspy.from_pianoroll_representation(image16, resolution=4), repeat)
    return t, notes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", default=None, help="POP909 folder (default data_root()/pop909)")
    ap.add_argument("--limit", type=int, default=None, help="first N POP909 songs (default all)")
    ap.add_argument("--bach-limit", type=int, default=None, help="first N chorales (default all)")
    ap.add_argument("--speed-limit", type=int, default=None,
                    help="POP909 songs timed against the peers (default: all of --limit)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per file and tool; best counts")
    args = ap.parse_args(argv)

    from symbolic.data.pop909 import Pop909

    pop = Pop909(args.path or data_root() / "pop909")
    ids = pop.available()[: args.limit]
    totals, failures, timing = {}, [], {}
    corpus_pass(pop909_items(pop, ids), "POP909", totals, failures, timing)
    corpus_pass(bach_items(args.bach_limit), "Bach chorales", totals, failures, timing)

    print("\n== Encode reports (fields: piano roll pitch/onset/duration/velocity; slices "
          "pitch/onset/duration) ==")
    for (label, codec), rep in totals.items():
        files = int(timing[label, codec][2])
        enc, dec = timing[label, codec][:2]
        print(f"{label:14} {codec:17} {files:4d} files  encode {1e3 * enc / files:6.2f} ms/file  "
              f"decode {1e3 * dec / files:6.2f} ms/file\n    {rep}")
    print(f"\nround-trip failures (encode(decode(x)) != x): {len(failures)}")
    for line in failures[:20]:
        print("   ", line)

    speed_ids = ids[: args.speed_limit]
    t, notes = speed(pop, speed_ids, args.repeat)
    n = len(speed_ids)
    base = t["symbolic encode (time-signature grid)"]
    print(f"\n== Piano-roll speed on {n} POP909 files ({notes} notes), best of {args.repeat} "
          f"per file ==")
    print(f"{'tool':42}{'ms/file':>10}{'notes/ms':>10}{'tool / symbolic encode':>26}")
    for name, secs in t.items():
        print(f"{name:42}{1e3 * secs / n:10.3f}{notes / (1e3 * secs):10.0f}{secs / base:25.2f}x")
    print("(ratios above 1: slower than symbolic's encode with the time-signature grid; parse "
          "rows are excluded from every encode row)")


if __name__ == "__main__":
    main()
