"""Infill on band arrangements of held-out songs: does the written part fit what it replaces?

Each POP909 test song (874-909, never trained on) becomes a band arrangement
(:func:`symbolic.data.band.band_song`: Vocals, Lead Guitar, Bass and Piano from the song,
plus Strings, Synth Pad and Drums). For every part (MELODY: Vocals, BRIDGE: Lead Guitar, BASS:
Bass, PIANO: Piano) and ``--regions`` evenly spread ``--bars``-bar regions where the original
part plays, ``symbolic.infill`` rewrites the part from everything else, and the result is
compared with the original notes of the region:

- **empty**: share of regions that came back with no note;
- **top pitch**: median share of the notes on the region's most frequent pitch, generated and
  original, and the median of their absolute difference;
- **notes/GT**: median ratio of generated to original note counts;
- **|d median pitch|**: median distance in semitones between the generated and the original
  median pitch;
- **vel OA**: overlapped area of the generated velocities' histogram with the original's (all
  regions of the part pooled; the constant-80 line is what a fixed velocity gets);
- **chord-tone**: share of notes whose pitch class is in the annotated chord at their onset;
- **in range / poly / dens**: share of generated bars whose notes all lie in the control's
  pitch range, whose onsets hold at most the control's polyphony, and whose onset count is
  within a factor 2 of the control's density (bars where the control asks for notes).

Systems: the shipped band model with its default (``"auto"``) controls, the same model with the
controls off (``density=pitch_range=polyphony=None``), ``--previous`` (the previous shipped
model, POP909's three parts: it cannot write BASS and hears neither the bass, the strings nor
the pad) with today's sampler, and the same with the sampler it shipped with ("previous old":
confidence order, no controls; its velocities were a constant 80, whose overlap is the "80 OA"
column). Then best-of-N (``candidates=N``, the model's own score picks) on a subset, with
seconds per candidate.

    python benchmarks/eval_infill.py                        # every test song, ~20 min on 1 core
    python benchmarks/eval_infill.py --songs 6 --regions 1 --best-of 1,4   # a quick look
    python benchmarks/eval_infill.py --systems "band auto,band confidence" --parts MELODY --best-of ""
    python benchmarks/eval_infill.py --systems "band guidance 2" --parts PIANO --best-of ""
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

import symbolic  # noqa: E402
from symbolic.data.band import band_song  # noqa: E402
from symbolic.data.pop909 import Pop909  # noqa: E402
from symbolic.harmony import Chord  # noqa: E402
from symbolic.metrics import overlapped_area  # noqa: E402
from symbolic.models import getdiff as gd  # noqa: E402
from symbolic.timeline import MetricGrid  # noqa: E402

PARTS = {"MELODY": "Vocals", "BRIDGE": "Lead Guitar", "BASS": "Bass", "PIANO": "Piano"}
TRACK_MAP = {"Lead Guitar": "BRIDGE"}  # 'lead' would read it as a second melody


def _notes(track, a, b):
    if not len(track.notes):
        return {k: np.zeros(0, np.int64) for k in ("time", "duration", "pitch", "velocity")}
    n = track.notes.numpy()
    keep = (n["time"] >= a) & (n["time"] < b)
    return {k: v[keep] for k, v in n.items()}


def _chord_mask(song, times):
    starts, ends = song.chord_ticks()
    masks = np.array([Chord.parse(c).mask if c not in (None, "N") else 0
                      for c in song.chords.labels], dtype=np.int64)
    i = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(starts) - 1)
    inside = (times >= starts[i]) & (times < ends[i])
    return np.where(inside, masks[i], 0)


def regions_of(band, bt, part, bars, per_song):
    """Up to ``per_song`` evenly spread regions (first, last bar) where ``part`` plays at
    least one note per bar on average (``bt``: the bars infill counts, pickup included)."""
    tr = next(t for t in band.tracks if t.name == PARTS[part])
    n_bars = len(bt) - 1
    starts = [b for b in range(1, n_bars - bars + 2, bars)
              if len(_notes(tr, bt[b - 1], bt[b + bars - 1])["time"]) >= bars]
    if len(starts) > per_song:
        at = np.linspace(0, len(starts) - 1, per_song + 2)[1:-1].round().astype(int)
        starts = [starts[i] for i in at]
    return [(b, b + bars - 1) for b in starts]


def measure(song, gt, gen, ctl):
    """The per-region figures of one generated part against its original notes."""
    out = {"empty": len(gen["pitch"]) == 0, "gt_n": len(gt["pitch"]), "n": len(gen["pitch"]),
           "vel": gen["velocity"], "gt_vel": gt["velocity"]}

    def top(p):
        return np.bincount(p).max() / len(p) if len(p) else np.nan

    out["top"], out["gt_top"] = top(gen["pitch"]), top(gt["pitch"])
    out["dpitch"] = (abs(np.median(gen["pitch"]) - np.median(gt["pitch"]))
                     if len(gen["pitch"]) else np.nan)
    for key, n in (("tone", gen), ("gt_tone", gt)):
        m = _chord_mask(song, n["time"])
        has = m > 0
        out[key] = (((m >> (n["pitch"] % 12)) & 1)[has].mean() if has.any() else np.nan)
    if ctl is not None:
        out.update(ctl(gen))
    return out


def control_check(bt, first, last, lo, hi, poly, dens_per_bar):
    """Per generated bar: inside the range, within the polyphony, within 2x of the density."""
    def check(gen):
        ok_r, ok_p, ok_d = [], [], []
        for b in range(first, last + 1):
            a, e = bt[b - 1], bt[b]
            keep = (gen["time"] >= a) & (gen["time"] < e)
            p, t = gen["pitch"][keep], gen["time"][keep]
            if len(p):
                ok_r.append(bool(((p >= lo) & (p <= hi)).all()))
                ok_p.append(int(np.unique(t, return_counts=True)[1].max()) <= poly)
            if dens_per_bar > 0:
                n_on = len(np.unique(t))
                ok_d.append(dens_per_bar / 2 <= n_on <= dens_per_bar * 2)
        return {"in_range": ok_r, "in_poly": ok_p, "in_dens": ok_d}
    return check


def gt_controls(gt, bt, first, last):
    """The auto controls' figures (the replaced part's own notes in the region)."""
    if not len(gt["pitch"]):
        return None
    _, per = np.unique(gt["time"], return_counts=True)
    return (int(gt["pitch"].min()) - 2, int(gt["pitch"].max()) + 2, int(per.max()),
            len(per) / (last - first + 1))


def run_system(label, model, jobs, kw, candidates=None):
    """Infill every (song, part, region) job with one system; per part, the region figures
    and the seconds spent."""
    rows, seconds, made = {}, 0.0, 0
    for song, band, bt, part, (first, last) in jobs:
        annotated = song.bar_ticks()
        idx = [t.name for t in band.tracks].index(PARTS[part])
        gt = _notes(band.tracks[idx], bt[first - 1], bt[last])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = symbolic.infill(band, tracks=[PARTS[part]], bars=(first, last), model=model,
                                  bar_ticks=annotated, track_map=TRACK_MAP, seed=first,
                                  candidates=candidates, **kw)
        seconds += time.perf_counter() - t0
        made += candidates or 1
        if candidates:
            out = out[0].score
        gen = _notes(out.tracks[idx], bt[first - 1], bt[last])
        c = gt_controls(gt, bt, first, last)
        check = None if c is None else control_check(bt, first, last, *c)
        rows.setdefault(part, []).append(measure(song, gt, gen, check))
    return rows, seconds / max(made, 1)


def table(label, rows, header=True):
    if header:
        print(f"{'part':<7} {'system':<16} {'regions':>7} {'empty':>6} {'top gen':>7} "
              f"{'top GT':>6} {'|d top|':>7} {'notes/GT':>8} {'|d med p|':>9} {'vel OA':>6} "
              f"{'80 OA':>6} {'tone':>5} {'GT tone':>7} {'range':>6} {'poly':>5} {'dens':>5}")
    for part, rs in rows.items():
        def med(key):
            v = np.array([r[key] for r in rs], dtype=float)
            return np.nanmedian(v) if np.isfinite(v).any() else np.nan

        def share(key):
            v = [x for r in rs for x in r.get(key, [])]
            return np.mean(v) if v else np.nan

        vel = np.concatenate([r["vel"] for r in rs]) if rs else np.zeros(0)
        gt_vel = np.concatenate([r["gt_vel"] for r in rs])
        oa = overlapped_area(vel, gt_vel, method="hist") if len(vel) else np.nan
        oa80 = overlapped_area(np.full(len(gt_vel), 80), gt_vel, method="hist")
        ratio = np.nanmedian([r["n"] / r["gt_n"] for r in rs if r["gt_n"]])
        dtop = np.nanmedian([abs(r["top"] - r["gt_top"]) for r in rs])
        print(f"{part:<7} {label:<16} {len(rs):>7} {np.mean([r['empty'] for r in rs]):>6.3f} "
              f"{med('top'):>7.2f} {med('gt_top'):>6.2f} {dtop:>7.2f} {ratio:>8.2f} "
              f"{med('dpitch'):>9.1f} {oa:>6.2f} {oa80:>6.2f} {med('tone'):>5.2f} "
              f"{med('gt_tone'):>7.2f} {share('in_range'):>6.2f} {share('in_poly'):>5.2f} "
              f"{share('in_dens'):>5.2f}")


FREE = {"density": None, "pitch_range": None, "polyphony": None}
#: name -> (model: "band" or "previous", infill options beyond the steps)
SYSTEMS = {
    "band auto": ("band", {}),
    "band no control": ("band", FREE),
    "band confidence": ("band", {"order": "confidence"}),  # the order that droned
    "band guidance 2": ("band", {"guidance": 2.0}),  # chord guidance: 2 forward passes a step
    "previous": ("previous", {}),
    "previous old": ("previous", {"order": "confidence", **FREE}),  # as it shipped
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="band model folder (default: shipped)")
    ap.add_argument("--previous", default="getdiff-pop909",
                    help="the previous model ('' to skip)")
    ap.add_argument("--songs", type=int, default=0, help="test songs (0: all)")
    ap.add_argument("--regions", type=int, default=2, help="regions per part and song")
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--best-of", default="1,4,16")
    ap.add_argument("--best-of-jobs", type=int, default=24, help="regions for best-of-N")
    ap.add_argument("--systems", default="band auto,band no control,previous,previous old",
                    help="comma-separated, from: " + ", ".join(SYSTEMS))
    ap.add_argument("--parts", default=",".join(PARTS), help="comma-separated parts")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", RuntimeWarning)  # medians of parts with no figure
    pop = Pop909()
    ids = pop.available("test")
    ids = ids[:args.songs] if args.songs else ids
    jobs = []
    for i in ids:
        song = pop.song(i)
        band = band_song(song)
        # the bars infill counts: POP909's annotated downbeats, plus a pickup bar before them
        bt = MetricGrid.from_score(band, resolution=4, bar_ticks=song.bar_ticks()).bar_ticks
        for part in args.parts.split(","):
            jobs += [(song, band, bt, part, r) for r in regions_of(band, bt, part, args.bars,
                                                                   args.regions)]
    model = gd.load(args.model, device="cpu")
    print(f"{len(ids)} held-out POP909 songs as band arrangements, {len(jobs)} regions of "
          f"{args.bars} bars; model {model.n_parameters() / 1e6:.2f}M parameters, "
          f"{args.steps} steps, torch threads {torch.get_num_threads()}\n")
    base = dict(steps=args.steps)
    prev = gd.load(args.previous, device="cpu") if args.previous else None
    first = True
    for label in [x.strip() for x in args.systems.split(",") if x.strip()]:
        which, kw = SYSTEMS[label]
        m = model if which == "band" else prev
        if m is None:
            continue
        use = [j for j in jobs if j[3] in m.tracks and j[3] not in m.context_tracks]
        rows, sec = run_system(label, m, use, {**base, **kw})
        table(label, rows, header=first)
        first = False
        print(f"{'':<7} {label}: {sec:.2f} s per region")
    if not args.best_of:
        return 0
    pick = [jobs[i] for i in np.linspace(0, len(jobs) - 1, min(args.best_of_jobs, len(jobs)))
            .round().astype(int)]
    print(f"\nbest-of-N by the model's own score, {len(pick)} regions:")
    for n in [int(x) for x in args.best_of.split(",") if x]:
        rows, sec = run_system(f"best of {n}", model, pick, base, candidates=n)
        table(f"best of {n}", rows, header=n == 1)
        print(f"{'':<7} best of {n}: {sec:.2f} s per candidate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
