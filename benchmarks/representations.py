"""All four representations on the same POP909 files, in one run: losses, round trips, speed.

For every song: encode under each codec (annotated bars, beats and chords), decode, re-encode
and check the result equals the first encoding (exact round trip); sum the encode reports
(notes kept exactly, altered, dropped, with causes). Then time, per file, best of --repeat:

- the piano-roll image encode against ``pretty_midi.PrettyMIDI.get_piano_roll`` (at the same
  16th-note resolution) and muspy's ``to_pianoroll_representation`` (at its native ticks and
  at 16ths), parse time excluded for every tool;
- encode + decode of the GETScore grid, lead-sheet events and slices as a multiple of the
  file's own symusic parse time.

    python benchmarks/representations.py [--limit N] [--repeat 3] [--bach]

``--bach`` adds the totals over all Bach chorales (chords recognized, soprano as melody).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import defaultdict

import numpy as np
import symusic
from tqdm import tqdm

from symbolic.data import data_root
from symbolic.data.pop909 import Pop909
from symbolic.representations import EncodeReport
from symbolic.representations import grid as gr
from symbolic.representations import leadsheet as ls
from symbolic.representations import pianoroll as pr
from symbolic.representations import slices as sl

CODECS = ("pianoroll", "grid", "leadsheet", "slices")


def best(fn, repeat: int) -> float:
    """Least thread CPU time of ``repeat`` calls (the machine is shared; CPU time is steadier)."""
    out = float("inf")
    for _ in range(repeat):
        t = time.thread_time()
        fn()
        out = min(out, time.thread_time() - t)
    return out


def codec_calls(score, vocab, *, bars=None, beats=None, chords=None, melody="MELODY"):
    """Per codec: (encode() -> x, decode(x) -> Score, re-encode(Score, x) -> x')."""
    return {
        "pianoroll": (lambda: pr.encode(score, bar_ticks=bars), pr.decode,
                      lambda s, x: pr.encode(s, grid=x.grid)),
        "grid": (lambda: gr.encode(score, vocab=vocab, bar_ticks=bars, chords=chords), gr.decode,
                 lambda s, x: gr.encode(s, vocab=vocab, grid=x.meta.grid)),
        "leadsheet": (lambda: ls.encode(score, melody=melody, bar_ticks=bars, chords=chords),
                      ls.decode, lambda s, x: ls.encode(s, grid=x.meta.grid)),
        "slices": (lambda: sl.encode(score, beats=beats), sl.decode,
                   lambda s, x: sl.encode(s, boundaries=x.boundaries)),
    }


def same(a, b) -> bool:
    if isinstance(a, pr.PianoRoll):
        return np.array_equal(a.image, b.image)
    if isinstance(a, sl.Slices):
        return np.array_equal(a.tokens, b.tokens)
    return a == b


def run_round_trips(items, vocab, totals, failures, label):
    for name, score, kw in items:
        for codec, (enc, dec, again) in codec_calls(score, vocab, **kw).items():
            try:
                x = enc()
                ok = same(again(dec(x), x), x)
            except Exception as e:  # record and go on: a benchmark never dies on one file
                failures.append(f"{label} {name} {codec}: {type(e).__name__}: {e}")
                continue
            totals[label, codec] = totals.get((label, codec), EncodeReport()) + x.report
            if not ok:
                failures.append(f"{label} {name} {codec}: round trip differs")


def pop909_items(pop, ids):
    for i in tqdm(ids, desc="POP909 round trips", unit="song"):
        song = pop.song(i)
        chords = gr.chords_from_labels(*song.chord_ticks(), song.chords.labels)
        yield f"{i:03d}", song.score, dict(bars=song.bar_ticks(), beats=song.beat_ticks(),
                                           chords=chords)


def bach_items():
    from symbolic.data.music21_corpus import bach_chorales
    from symbolic.harmony import recognize_chords

    for name, score in bach_chorales(progress=True):
        yield name, score, dict(chords=recognize_chords(score).merged(), melody=0)


def speed(pop, ids, vocab, repeat):
    import muspy
    import pretty_midi

    rows = defaultdict(list)
    for i in tqdm(ids, desc="timing", unit="song"):
        song = pop.song(i)
        path = pop.folder(i) / f"{i:03d}.mid"
        data = path.read_bytes()
        score, bars = song.score, song.bar_ticks()
        pm = pretty_midi.PrettyMIDI(str(path))
        fs = pm.get_tempo_changes()[1][0] / 60 * 4  # 16th notes per second at the song's tempo
        music = muspy.read_midi(path)
        music16 = muspy.read_midi(path)
        music16.adjust_resolution(4)
        chords = gr.chords_from_labels(*song.chord_ticks(), song.chords.labels)
        parse = best(lambda: symusic.Score.from_midi(data), repeat + 2)
        rows["parse (symusic)"].append(parse)
        rows["pianoroll: symbolic encode"].append(best(lambda: pr.encode(score, bar_ticks=bars), repeat))
        rows["pianoroll: pretty_midi get_piano_roll"].append(best(lambda: pm.get_piano_roll(fs=fs), repeat))
        rows["pianoroll: muspy (native ticks)"].append(
            best(lambda: muspy.to_pianoroll_representation(music), repeat))
        rows["pianoroll: muspy (16ths)"].append(
            best(lambda: muspy.to_pianoroll_representation(music16), repeat))
        calls = codec_calls(score, vocab, bars=bars, beats=song.beat_ticks(), chords=chords)
        for codec in CODECS:
            enc, dec, _ = calls[codec]
            rows[f"{codec}: encode+decode"].append(best(lambda: dec(enc()), repeat))
    return {k: np.array(v) for k, v in rows.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", default=data_root() / "pop909")
    ap.add_argument("--limit", type=int, default=None, help="first N songs (default all 909)")
    ap.add_argument("--time-limit", type=int, default=200, help="songs timed (default 200)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bach", action="store_true", help="also sum reports over the Bach chorales")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    pop = Pop909(args.path)
    ids = pop.available()[: args.limit]
    vocab = gr.GridVocab.load("pop909")
    totals, failures = {}, []
    run_round_trips(pop909_items(pop, ids), vocab, totals, failures, "POP909")
    if args.bach:
        run_round_trips(bach_items(), gr.GridVocab.load("getmusic"), totals, failures, "Bach")
    t = speed(pop, ids[: args.time_limit], vocab, args.repeat)

    print(f"\nEncode reports (notes), {len(ids)} POP909 songs" + (" + Bach chorales" if args.bach else ""))
    print(f"{'corpus':<8}{'codec':<11}{'notes in':>10}{'exact':>10}{'altered':>10}{'dropped':>9}  main causes")
    for (label, codec), r in totals.items():
        causes = ", ".join(f"{k} {v}" for k, v in r.reasons.most_common(3))
        print(f"{label:<8}{codec:<11}{r.notes_in:>10}{r.kept_exact:>10}{r.altered:>10}{r.dropped:>9}  {causes}")
    print(f"round-trip failures: {len(failures)}")
    for f in failures[:10]:
        print("  ", f)

    n = len(t["parse (symusic)"])
    print(f"\nPer-file CPU time, {n} POP909 songs (median ms; ratio = median of per-file ratios)")
    ours = t["pianoroll: symbolic encode"]
    for k, v in t.items():
        line = f"{k:<40}{np.median(v) * 1e3:>8.3f} ms"
        if k.endswith("encode+decode"):
            line += f"   = {np.median(v / t['parse (symusic)']):.1f}x the parse time"
        elif k.startswith("pianoroll:") and k != "pianoroll: symbolic encode":
            line += f"   symbolic is {np.median(v / ours):.1f}x faster"
        print(line)


if __name__ == "__main__":
    main()
