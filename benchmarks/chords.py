"""Chord recognition and key estimation on POP909, scored against its own annotations.

For every song, ``symbolic.harmony.recognize_chords`` labels the score on the annotated beat grid
(``beat_midi.txt``: beats and downbeats, converted to ticks) and each annotated beat is scored
against the chord of ``chord_midi.txt`` sounding there (N outside every span):

- root:      same root (N must meet N);
- majmin:    same root and same third class (``Chord.majmin``: min*, dim*, hdim7 are minor,
             everything else major), N counted as its own class;
- cmhrnn49:  same CM-HRNN class (``Chord.reduce_cmhrnn``: N, or 12 roots x maj/min/7/dim);
- quality:   same root and quality in the 'full' vocabulary (every POP909 quality is in it);
- full:      same root, quality and bass (inversions such as ``C:maj/3`` included).

Methods, each on all tracks and on the accompaniment alone (POP909's annotations follow the
PIANO track; the melody adds passing tones):

- baseline:  bar segments, binary templates, no bass weight, per-bar argmax (no smoothing);
- argmax:    our emissions on ``--segment`` segments, per-segment argmax (no smoothing);
- viterbi:   our emissions with the Viterbi transition prior (the library default).

Key estimation (``estimate_key`` with each profile) is scored against the key that lasts longest
in ``key_audio.txt``: exact accuracy and the MIREX weighted score (1 same key, 0.5 fifth,
0.3 relative, 0.2 parallel).

``--tune`` searches the recognizer's parameters on the train split (coordinate ascent on
majmin + quality accuracy over cached profiles) and prints the best ones; the defaults in
``symbolic/harmony.py`` come from that run.

    python benchmarks/chords.py                     # all 909 songs, 2 worker processes
    python benchmarks/chords.py --limit 50 --segment half_bar
    python benchmarks/chords.py --tune
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

# One BLAS thread per worker process: the matrices are tiny and the workers share 2 cores.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from symbolic import harmony as H  # noqa: E402
from symbolic.data.pop909 import Pop909  # noqa: E402

METRICS = ("root", "majmin", "cmhrnn49", "quality", "full")
ACCOMPANIMENT = ["PIANO"]
TRACK_SETS = {"all tracks": None, "accompaniment": ACCOMPANIMENT}
PROFILES = tuple(H.KEY_PROFILES)


def methods(segment: str) -> dict[str, dict]:
    """Method name -> keyword arguments of ``recognize_chords`` (tracks added per track set)."""
    return {
        "baseline (bar argmax, plain templates)": dict(segment="bar", smoothing=False,
                                                       bass_weight=0.0, inversions=False,
                                                       quality_bias={}),
        f"argmax per {segment} (no smoothing)": dict(segment=segment, smoothing=False),
        f"viterbi per {segment} (default)": dict(segment=segment),
    }


_CODES: dict = {}


def _codes(chord: H.Chord) -> tuple:
    """(root, majmin, cmhrnn, quality, bass) codes of a chord, cached (chords repeat a lot)."""
    c = _CODES.get(chord)
    if c is None:
        root = -1 if chord.root is None else chord.root
        c = _CODES[chord] = (root, chord.majmin or "", chord.reduce_cmhrnn(), chord.quality,
                             -1 if chord.bass is None else chord.bass)
    return c


def scores(gt: list[H.Chord], pred: list[H.Chord]) -> np.ndarray:
    """Correct-beat counts for each metric of ``METRICS``."""
    g = list(zip(*map(_codes, gt))) if gt else [()] * 5
    p = list(zip(*map(_codes, pred))) if pred else [()] * 5
    root = np.array(g[0]) == np.array(p[0])
    majmin = root & (np.array(g[1]) == np.array(p[1]))
    cm = np.array(g[2]) == np.array(p[2])
    quality = root & (np.array(g[3]) == np.array(p[3]))
    full = quality & (np.array(g[4]) == np.array(p[4]))
    return np.array([x.sum() for x in (root, majmin, cm, quality, full)], dtype=np.int64)


def annotated(song) -> tuple[np.ndarray, np.ndarray, list[H.Chord]]:
    """``(beat_ticks, downbeat_ticks, chord at each beat)`` of a POP909 song."""
    beats, downbeats = song.beat_ticks(), song.bar_ticks()
    start, end = song.chord_ticks()
    truth = H.ChordSequence(start, end, H.parse_chords(song.chords.labels))
    return beats, downbeats, truth.at(beats)


def main_key(song) -> H.Key:
    """The annotated key that lasts longest."""
    dur: dict[str, float] = {}
    for s, e, label in zip(song.keys.start, song.keys.end, song.keys.labels):
        dur[label] = dur.get(label, 0.0) + (e - s)
    return H.Key.parse(max(dur, key=dur.get))


def mirex_key_score(ref: H.Key, est: H.Key) -> float:
    if ref == est:
        return 1.0
    if ref.mode == est.mode and (est.tonic - ref.tonic) % 12 in (5, 7):
        return 0.5
    if est == ref.relative():
        return 0.3
    if ref.tonic == est.tonic:
        return 0.2
    return 0.0


def evaluate_song(task):
    """Worker: counts for every (method, track set) and key results for one song."""
    path, song_id, segment = task
    t0 = time.perf_counter()
    song = Pop909(path).song(song_id)
    beats, downbeats, gt = annotated(song)
    t_load = time.perf_counter() - t0
    counts = {}
    seconds = {}
    for tname, tracks in TRACK_SETS.items():
        for mname, kw in methods(segment).items():
            t1 = time.perf_counter()
            seq = H.recognize_chords(song.score, beats=beats, downbeats=downbeats, tracks=tracks,
                                     **kw)
            pred = seq.at(beats)
            seconds[(mname, tname)] = time.perf_counter() - t1
            counts[(mname, tname)] = scores(gt, pred)
    ref = main_key(song)
    keys = {}
    for profile in PROFILES:
        est = H.estimate_key(song.score, profile=profile)
        keys[profile] = (est == ref, mirex_key_score(ref, est))
    return dict(song_id=song_id, beats=len(beats), counts=counts, seconds=seconds, keys=keys,
                load=t_load)


def run_benchmark(args) -> None:
    pop = Pop909(args.path)
    ids = pop.available(args.split)
    if args.limit:
        ids = ids[: args.limit]
    tasks = [(str(pop.root), i, args.segment) for i in ids]
    results = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for r in tqdm(pool.map(evaluate_song, tasks, chunksize=4), total=len(tasks),
                      desc="POP909 chords", unit="song"):
            results.append(r)
    wall = time.perf_counter() - t0
    n_beats = sum(r["beats"] for r in results)
    print(f"\nPOP909 chord recognition: {len(results)} songs ({args.split or 'all'}), "
          f"{n_beats} annotated beats, beat-level accuracy (%); wall {wall:.1f} s on "
          f"{args.workers} workers\n")
    header = (f"{'method':44s} {'tracks':14s}" + "".join(f"{m:>9s}" for m in METRICS)
              + f"{'ms/song':>9s}")
    print(header)
    print("-" * len(header))
    for tname in TRACK_SETS:
        for mname in methods(args.segment):
            c = sum(r["counts"][(mname, tname)] for r in results)
            ms = 1000 * np.mean([r["seconds"][(mname, tname)] for r in results])
            print(f"{mname:44s} {tname:14s}" + "".join(f"{100 * x / n_beats:9.2f}" for x in c)
                  + f"{ms:9.1f}")
    # Per split, for the default method (tuned on train: valid/test are held out).
    split_of = {i: s for s, r in (("train", range(1, 838)), ("valid", range(838, 874)),
                                  ("test", range(874, 910))) for i in r}
    mname = list(methods(args.segment))[-1]
    print(f"\nBy split, {mname}:")
    for tname in TRACK_SETS:
        for split in ("train", "valid", "test"):
            rs = [r for r in results if split_of[r["song_id"]] == split]
            if not rs:
                continue
            nb = sum(r["beats"] for r in rs)
            c = sum(r["counts"][(mname, tname)] for r in rs)
            print(f"  {tname:14s} {split:6s} {len(rs):4d} songs" +
                  "".join(f"  {m} {100 * x / nb:5.2f}" for m, x in zip(METRICS, c)))
    print(f"\nKey estimation (estimate_key, all tracks) against the longest annotated key, "
          f"{len(results)} songs:")
    print(f"{'profile':12s}{'accuracy %':>12s}{'MIREX %':>10s}")
    for profile in PROFILES:
        acc = np.mean([r["keys"][profile][0] for r in results])
        mirex = np.mean([r["keys"][profile][1] for r in results])
        print(f"{profile:12s}{100 * acc:12.2f}{100 * mirex:10.2f}")


# --- tuning ------------------------------------------------------------------------------------

_TUNE_DATA: list = []


def song_profiles(task):
    """Worker: beat-segment profiles, per-segment truth and beat->segment map for one song."""
    path, song_id, tracks = task
    song = Pop909(path).song(song_id)
    beats, downbeats, gt = annotated(song)
    edges = H.segment_boundaries(song.score, "beat", beats=beats, downbeats=downbeats)
    chroma, bass = H.pitch_class_profiles(song.score, edges, tracks=tracks)
    seg_of_beat = np.searchsorted(edges, beats, side="right") - 1
    return chroma, bass, seg_of_beat, gt


def _objective(params) -> tuple[float, np.ndarray]:
    total = np.zeros(len(METRICS))
    n = 0
    for chroma, bass, seg_of_beat, gt in _TUNE_DATA:
        labels = H.label_segments(chroma, bass, **params)
        total += scores(gt, [labels[k] for k in seg_of_beat])
        n += len(gt)
    acc = total / n
    return acc[1] + acc[3], acc


def tune(args) -> None:
    global _TUNE_DATA
    pop = Pop909(args.path)
    ids = pop.available("train")
    if args.limit:
        ids = ids[: args.limit]
    tracks = ACCOMPANIMENT if args.tune_tracks == "accompaniment" else None
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        _TUNE_DATA = list(tqdm(pool.map(song_profiles, [(str(pop.root), i, tracks) for i in ids],
                                        chunksize=8), total=len(ids), desc="profiles"))
    grid = {
        "bass_weight": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3],
        "self_transition": [0.2, 0.35, 0.5, 0.65, 0.8],
        "sharpness": [12.0, 18.0, 24.0, 32.0, 48.0],
        "root_weight": [0.9, 1.0, 1.1, 1.2],
    }
    params = dict(bass_weight=H._BASS_WEIGHT, self_transition=H._SELF_TRANSITION,
                  sharpness=H._SHARPNESS, root_weight=H._ROOT_WEIGHT, quality_bias={})
    best, acc = _objective(params)
    print(f"start {best:.4f} {np.round(100 * acc, 2)} {params}")
    # Candidates of one coordinate are scored in parallel (workers inherit the data by fork).
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for rnd in range(2):
            for name, values in grid.items():
                cands = [{**params, name: v} for v in values]
                res = list(pool.map(_objective, cands))
                k = int(np.argmax([r[0] for r in res]))
                if res[k][0] > best:
                    best, acc, params = res[k][0], res[k][1], cands[k]
                print(f"round {rnd} {name:16s} -> {params[name]!r:6}  {best:.4f} "
                      f"{np.round(100 * acc, 2)}", flush=True)
            for q in H.VOCABULARIES["full"]:
                cands = [{**params, "quality_bias": {**params["quality_bias"], q: b}}
                         for b in (-0.06, -0.03, 0.0, 0.03)]
                res = list(pool.map(_objective, cands))
                k = int(np.argmax([r[0] for r in res]))
                if res[k][0] > best:
                    best, acc, params = res[k][0], res[k][1], cands[k]
                print(f"round {rnd} bias {q:11s} -> {params['quality_bias'].get(q, 0.0):+.2f}  "
                      f"{best:.4f} {np.round(100 * acc, 2)}", flush=True)
    params["quality_bias"] = {q: b for q, b in params["quality_bias"].items() if b}
    print("\nbest on train:", params)
    print("accuracy (%):", dict(zip(METRICS, np.round(100 * acc, 2))))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--path", default=None, help="POP909 folder (default: data_root()/pop909)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N songs")
    ap.add_argument("--split", default=None, choices=["train", "valid", "test", "all"],
                    help="songs to score (default: all 909)")
    ap.add_argument("--segment", default="beat", choices=["beat", "half_bar", "bar"],
                    help="segment grid of the argmax/viterbi methods (built on annotated beats)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tune", action="store_true", help="tune parameters on the train split")
    ap.add_argument("--tune-tracks", default="all", choices=["all", "accompaniment"])
    args = ap.parse_args(argv)
    if args.tune:
        tune(args)
    else:
        run_benchmark(args)


if __name__ == "__main__":
    main()
