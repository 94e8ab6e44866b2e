"""Evaluate the chorale GETDiff (``getdiff-chorales``) on the Bach chorales' test split
(music21's corpus, every 10th chorale: 35 pieces), in one run:

1. **Bound** in nats per target cell (the MDLM bound, a cell: one voice's onset and duration in
   one 16th-note column) on 8-bar windows: each voice given the other three, and ATB given
   the soprano (the harmonization task), chords hidden (they would be recognized from the
   four voices, targets included), for
   - the chorale model with the fermatas it reads (column marks), and without them;
   - a **unigram** baseline (each cell from the voice's training-set frequencies);
   - the **band GETDiff** (trained on POP909) on the same chorales, each voice on the band part
     that plays its role (soprano -> MELODY, alto -> BRIDGE, tenor -> PIANO, bass -> BASS):
     what the toolkit had before this model.
2. **Harmonizations** of each test chorale's soprano (:func:`symbolic.harmonize`, style
   'chorale', its defaults: 4 repair rounds) with 0, 1 and 3 resampling passes, and the
   model's raw draw (no repair, no resampling): parallel fifths and octaves, voice crossings
   and range violations per 100 beats (:mod:`symbolic.voiceleading`), and the chord-tone ratio
   of the written alto, tenor and bass notes against the chords recognized per beat in Bach's
   own four voices; Bach's own ATB is the reference row, and a random-in-range baseline keeps
   Bach's rhythm with each ATB pitch drawn uniformly in its voice's range.
3. **Seconds** to harmonize a 16-bar melody on one CPU thread.
4. **Pace** options of harmonize: its ``pulse`` (a folk tune in half notes read in halves or
   as written) and ``hold`` (how much of the time the written voices rest without it).

Coconet (Huang et al. 2017) reports frame-wise negative log-likelihoods of its piano rolls
(pitch per voice per 16th-note frame, JSB Chorales' own split); the bound here is per cell of a
grid whose cells also carry onsets and durations (a held note is one onset cell and silent
continuation cells), on music21's chorales and this project's split: the two figures do not
measure the same thing, so they are not put side by side.

    python benchmarks/eval_chorales.py                       # all of it (~10 min)
    python benchmarks/eval_chorales.py --pieces 6 --draws 2  # quicker
    python benchmarks/eval_chorales.py --sections pace       # one section
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import symbolic  # noqa: E402
from symbolic.data.grids import chorale_grids  # noqa: E402
from symbolic.data.music21_corpus import chorale_marks, load_chorale, piece_names  # noqa: E402
from symbolic.harmony import recognize_chords  # noqa: E402
from symbolic.models import getdiff as gd  # noqa: E402
from symbolic.models.getdiff.train import window_marks  # noqa: E402
from symbolic.representations import grid as gr  # noqa: E402
from symbolic.timeline import MetricGrid  # noqa: E402
from symbolic.voiceleading import RANGES, report  # noqa: E402

from eval_getdiff import Unigram, bound  # noqa: E402

VOICES = ("SOPRANO", "ALTO", "TENOR", "BASS")
BAND_PART = {"SOPRANO": "MELODY", "ALTO": "BRIDGE", "TENOR": "PIANO", "BASS": "BASS"}
BARS = 8


def windows(songs, width):
    """Every non-overlapping 8-bar window (at least half full) of ``songs``: tokens, step in
    bar, column marks, and (song, window) of each."""
    toks, pos, marks, where = [], [], [], []
    for i, s in enumerate(songs):
        for w in s.windows(BARS, hop=BARS):
            if w[0] >= max(1, s.n_bars - BARS + 1):
                continue
            tok, p, used, _ = s.cut(w, width)
            if used < width // 2:
                continue
            toks.append(tok)
            pos.append(p)
            marks.append(window_marks(s.fermatas, w[2], used, width))
            where.append((i, w))
    return np.stack(toks), np.stack(pos), np.stack(marks), where


def roles(tokens, k, targets):
    """Targets generated over every used column, the other voices given, the chords hidden
    (they are recognized from all four voices, the targets included, and harmonize gives
    none)."""
    b, _, n = tokens.shape
    used = tokens[:, 2 * k] != gd.EMPTY
    role = np.zeros((b, k + 1, n), dtype=np.int64)
    for j in range(k):
        role[:, j] = np.where(used, gd.ROLE_TARGET if j in targets else gd.ROLE_SOURCE, 0)
    tokens = tokens.copy()
    tokens[:, 2 * k:] = gd.EMPTY
    return tokens, role


def band_windows(names, where, width, vocab):
    """The same windows of the same chorales on the band model's grid (voices renamed to the
    band parts, the OTHER row empty)."""
    cache = {}
    toks = []
    for i, w in where:
        if i not in cache:
            score = load_chorale(names[i], fermata_markers=False)
            for t in score.tracks:
                t.name = BAND_PART[t.name.upper()]
            mg = MetricGrid.from_score(score, resolution=vocab.resolution,
                                       bar_ticks=chorale_marks(names[i]).bar_ticks)
            cache[i] = gr.encode(score, vocab=vocab, chords="beat", grid=mg).tokens
        full = cache[i]
        tok = np.full((full.shape[0], width), gr.EMPTY, dtype=np.int64)
        seg = full[:, w[2]:min(w[3], w[2] + width)]
        tok[:, :seg.shape[1]] = seg
        toks.append(tok)
    return np.stack(toks)


def bound_table(model, band, names, draws, seed):
    songs = chorale_grids("test", progress=False)
    train = chorale_grids("train", progress=False)
    width = BARS * 16
    tok, pos, marks, where = windows(songs, width)
    k = model.n_tracks
    uni = Unigram(train, model)
    bvocab = gr.as_vocab(band.config["vocab"])
    btok = band_windows(names, where, width, bvocab)
    bk = band.n_tracks
    print(f"\n## Bound, nats per target cell ({len(tok)} windows of {BARS} bars, {draws} "
          f"draws each; lower is better)\n")
    print("| target | chorale model | without fermatas | unigram | band GETDiff (POP909) |")
    print("|---|---|---|---|---|")
    tasks = [(v.lower() + " given the other three", [j]) for j, v in enumerate(VOICES)]
    tasks.append(("alto+tenor+bass given the soprano", [1, 2, 3]))
    for label, targets in tasks:
        t, r = roles(tok, k, targets)
        rng = np.random.default_rng(seed)
        with_m = bound(model, t, r, pos, draws, rng, marks=marks)[0]
        rng = np.random.default_rng(seed)
        without = bound(model, t, r, pos, draws, rng, marks=np.zeros_like(marks))[0]
        cells = [(t[:, 2 * j] != gd.EMPTY).sum() for j in targets]
        u = sum(uni.nll(t, j)[0] * c for j, c in zip(targets, cells)) / sum(cells)
        btargets = [band.tracks.index(BAND_PART[VOICES[j]]) for j in targets]
        bt, br = roles(btok, bk, btargets)
        other = band.tracks.index("OTHER")
        br[:, other] = 0
        rng = np.random.default_rng(seed)
        b = bound(band, bt, br, pos, draws, rng)[0]
        print(f"| {label} | {with_m:.3f} | {without:.3f} | {u:.3f} | {b:.3f} |")


def chord_tones(score, bach, bar_ticks) -> tuple[int, int]:
    """(ATB notes on a chord tone, ATB notes under a chord) of ``score`` against the chords
    recognized per beat in ``bach``."""
    seq = recognize_chords(bach, segment="beat", downbeats=bar_ticks[:-1])
    masks = np.array([0 if ch.root is None else ch.mask for ch in seq.chords] + [0])
    notes = [t.notes.numpy() for t in score.tracks[1:] if len(t.notes)]
    if not notes:
        return 0, 0
    time = np.concatenate([n["time"] for n in notes])
    pitch = np.concatenate([n["pitch"] for n in notes]).astype(np.int64)
    mask = masks[seq.index_at(time)]  # index -1 (outside every span) reads the final 0
    under = mask != 0
    return int(((mask >> (pitch % 12)) & 1)[under].sum()), int(under.sum())


def random_in_range(bach, rng):
    out = bach.copy()
    for tr, voice in zip(out.tracks[1:], ("alto", "tenor", "bass")):
        n = tr.notes.numpy()
        lo, hi = RANGES[voice]
        n["pitch"] = rng.integers(lo, hi + 1, len(n["pitch"])).astype(n["pitch"].dtype)
        tr.notes = type(tr.notes).from_numpy(n["time"], n["duration"], n["pitch"],
                                             n["velocity"])
    return out


KINDS = ("parallel_fifth", "parallel_octave", "crossing", "range")


def generation_table(names, passes, seed, model):
    rows = {"Bach (reference)": [], "random in range": [], "no repair, 0 passes": []}
    rows.update({f"chorale model, {p} resampling passes": [] for p in passes})
    secs = {p: [] for p in passes}
    secs["raw"] = []
    rng = np.random.default_rng(seed)
    for i, name in enumerate(names):
        bach = load_chorale(name)
        bt = chorale_marks(name).bar_ticks
        versions = [("Bach (reference)", bach), ("random in range", random_in_range(bach, rng))]
        t0 = time.perf_counter()
        raw = symbolic.harmonize(bach, track="Soprano", model=model, bar_ticks=bt,
                                 seed=seed + i, repair=0)
        secs["raw"].append(time.perf_counter() - t0)
        versions.append(("no repair, 0 passes", raw))
        for p in passes:
            t0 = time.perf_counter()
            out = symbolic.harmonize(bach, track="Soprano", model=model, bar_ticks=bt,
                                     seed=seed + i, resample=p)
            secs[p].append(time.perf_counter() - t0)
            versions.append((f"chorale model, {p} resampling passes", out))
        for label, sc in versions:
            r = report(sc, bar_ticks=bt)
            rows[label].append((r, *chord_tones(sc, bach, bt)))
    print(f"\n## Harmonizations of the soprano of {len(names)} test chorales (per 100 beats; "
          "chord tones: ATB notes on a chord recognized in Bach's four voices)\n")
    print("| version | " + " | ".join(KINDS) + " | chord-tone ratio | s per chorale |")
    print("|---|" + "---|" * (len(KINDS) + 2))
    for label, got in rows.items():
        beats = sum(r.beats for r, _, _ in got)
        rates = [100 * sum(r.counts[k] for r, _, _ in got) / max(beats, 1) for k in KINDS]
        ct = sum(h for _, h, _ in got) / max(sum(n for _, _, n in got), 1)
        p = next((p for p in passes if label.startswith(f"chorale model, {p} ")),
                 "raw" if label.startswith("no repair") else None)
        s = f"{np.mean(secs[p]):.2f}" if p is not None else "-"
        print(f"| {label} | " + " | ".join(f"{x:.2f}" for x in rates) + f" | {ct:.3f} | {s} |")


def timing(model, seed):
    """Seconds to harmonize the first 16 bars of the longest test chorale's soprano, one
    thread (median of 3)."""
    names = piece_names("bach_chorales", "test")
    best = max(names, key=lambda n: len(chorale_marks(n).bar_ticks))
    bt = chorale_marks(best).bar_ticks
    bach = load_chorale(best)
    end = int(bt[min(16, len(bt) - 1)])
    bach = bach.clip(0, end, clip_end=True)
    torch.set_num_threads(1)
    print(f"\n## Seconds to harmonize 16 bars ({best}, bars 1-16), one CPU thread\n")
    for p, fix in ((0, 0), (0, 4), (3, 4)):
        times = []
        for r in range(3):
            t0 = time.perf_counter()
            symbolic.harmonize(bach, track="Soprano", model=model, bar_ticks=bt[:17],
                               seed=seed + r, resample=p, repair=fix)
            times.append(time.perf_counter() - t0)
        print(f"- {p} resampling passes, {fix} repair rounds: {np.median(times):.2f} s (runs: "
              + ", ".join(f"{t:.2f}" for t in times) + ")")


def silent_share(track) -> float:
    """Share of a voice's span (first onset to last end) in which it sounds nothing."""
    n = track.notes.numpy()
    on, end = n["time"], n["time"] + n["duration"]
    starts = np.sort(on)
    covered = np.maximum.accumulate(end[np.argsort(on)])  # furthest end so far, in onset order
    gaps = np.maximum(starts[1:] - covered[:-1], 0)
    return float(gaps.sum() / max(end.max() - on.min(), 1))


TUNE = "corpus:essenFolksong/altdeu10"  # 4/2, a melody in half notes


def pace_table(names, model, seeds=3):
    """What harmonize's pulse and hold options change: on a folk tune in half notes, the share
    of written onsets on the tune's half-note beats read in its own pulse or as written; the
    share of time the written voices are silent without ``hold``, there and under Bach's
    sopranos."""
    half = 2 * symbolic.load(TUNE).ticks_per_quarter
    print(f"\n## Pace options ({TUNE}, seeds 0-{seeds - 1}; {len(names)} test chorales)\n")
    for pulse in ("auto", 1):
        on_beat = []
        for s in range(seeds):
            out = symbolic.harmonize(TUNE, model=model, seed=s, pulse=pulse)
            t = np.concatenate([x.notes.numpy()["time"] for x in out.tracks[1:]])
            on_beat.append(np.mean(t % half == 0))
        print(f"- pulse={pulse}: written onsets on the tune's half-note beats "
              + ", ".join(f"{x:.2f}" for x in on_beat) + f" (mean {np.mean(on_beat):.2f})")
    free = [np.mean([silent_share(x) for x in symbolic.harmonize(
        TUNE, model=model, seed=s, hold=False).tracks[1:]]) for s in range(seeds)]
    print("- hold=False: written voices silent " + ", ".join(f"{x:.2f}" for x in free)
          + " of their span under the tune")
    bach = []
    for i, name in enumerate(names):
        out = symbolic.harmonize(load_chorale(name), track="Soprano", model=model, seed=i,
                                 bar_ticks=chorale_marks(name).bar_ticks, hold=False)
        bach.append(np.mean([silent_share(x) for x in out.tracks[1:]]))
    print(f"- hold=False under Bach's sopranos: silent {np.min(bach):.2f}-{np.max(bach):.2f} "
          f"(mean {np.mean(bach):.3f}); hold=True: 0 by construction; Bach's own voices: "
          f"{np.mean([silent_share(x) for n in names for x in load_chorale(n).tracks]):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="chorales")
    ap.add_argument("--band", default="band")
    ap.add_argument("--draws", type=int, default=4)
    ap.add_argument("--pieces", type=int, default=None, help="test chorales to harmonize")
    ap.add_argument("--passes", default="0,1,3")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sections", default="bound,generation,timing,pace")
    args = ap.parse_args()
    sections = set(args.sections.split(","))
    warnings.simplefilter("ignore")
    model = gd.generate.resolve_model(args.model, "cpu")
    band = gd.generate.resolve_model(args.band, "cpu")
    names = list(piece_names("bach_chorales", "test"))
    print(f"# Chorale GETDiff on the test split ({len(names)} chorales); model "
          f"{args.model!r}, {model.n_parameters() / 1e6:.2f}M parameters")
    torch.manual_seed(args.seed)
    if "bound" in sections:
        with torch.no_grad():
            bound_table(model, band, names, args.draws, args.seed)
    if "generation" in sections:
        passes = [int(p) for p in args.passes.split(",")]
        generation_table(names[:args.pieces], passes, args.seed, model)
    if "timing" in sections:
        timing(model, args.seed)
    if "pace" in sections:
        pace_table(names[:args.pieces or 8], model)


if __name__ == "__main__":
    main()
