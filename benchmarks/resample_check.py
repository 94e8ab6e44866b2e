"""Does Gibbs-style resampling (``infill(..., resample=N)``) give likelier, more harmonic parts?

Held-out POP909 songs (874-909) as band arrangements, ``--jobs`` regions of ``--bars`` bars
spread over the songs and the four parts (the regions and figures of
``benchmarks/eval_infill.py``, imported from it). For each setting, every region is infilled
with the same seed and the table gives, over the regions:

- **score**: mean (standard error) and median over the regions of the model's own score
  (``Candidate.log_prob``: mean log-probability per target cell of what it wrote, higher =
  likelier). Each cell's figure is that of the draw that wrote
  its final value; a cell redrawn in a resampling pass saw more of the piece than in the first
  pass, so the figures of different settings are close but not strictly comparable;
- **tone** / **GT tone**: median share of the notes whose pitch class is in the annotated chord
  (generated; the original part);
- **notes/GT**: median ratio of generated to original note counts;
- **s/region**: seconds per region (wall clock, this machine).

Under each other setting: its score minus the first setting's on the same region, mean
(standard error), and the share of regions where it is higher.

The last row is the plain sampler with as many steps as resample 3 spends (16 + 3 x 8): the same
compute without the rewrite passes.

    python benchmarks/resample_check.py              # 24 regions, about 2 min on 1 core
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
from eval_infill import PARTS, TRACK_MAP, _notes, measure, regions_of  # noqa: E402
from symbolic.data.band import band_song  # noqa: E402
from symbolic.data.pop909 import Pop909  # noqa: E402
from symbolic.models import getdiff as gd  # noqa: E402
from symbolic.timeline import MetricGrid  # noqa: E402


def jobs_of(songs: int, per_part: int, bars: int, n: int) -> list:
    """``n`` (song, band, bar ticks, part, (first, last)) regions spread evenly over the
    regions of the first ``songs`` test songs."""
    pop = Pop909()
    jobs = []
    for i in pop.available("test")[:songs]:
        song = pop.song(i)
        band = band_song(song)
        bt = MetricGrid.from_score(band, resolution=4, bar_ticks=song.bar_ticks()).bar_ticks
        for part in PARTS:
            jobs += [(song, band, bt, part, r) for r in regions_of(band, bt, part, bars,
                                                                   per_part)]
    at = np.linspace(0, len(jobs) - 1, min(n, len(jobs))).round().astype(int)
    return [jobs[i] for i in at]


def run(model, jobs, steps: int, resample: int) -> dict:
    """Infill every region with one setting: the scores, the region figures, seconds."""
    scores, rows, seconds = [], [], 0.0
    for song, band, bt, part, (first, last) in jobs:
        idx = [t.name for t in band.tracks].index(PARTS[part])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = symbolic.infill(band, tracks=[PARTS[part]], bars=(first, last), model=model,
                                  bar_ticks=song.bar_ticks(), track_map=TRACK_MAP, seed=first,
                                  steps=steps, resample=resample, candidates=1)[0]
        seconds += time.perf_counter() - t0
        scores.append(got.log_prob)
        gt = _notes(band.tracks[idx], bt[first - 1], bt[last])
        gen = _notes(got.score.tracks[idx], bt[first - 1], bt[last])
        rows.append(measure(song, gt, gen, None))
    return {"scores": np.array(scores), "rows": rows, "seconds": seconds / max(len(jobs), 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=24, help="regions")
    ap.add_argument("--songs", type=int, default=12, help="test songs the regions come from")
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--resample", default="0,1,3", help="passes to compare")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", RuntimeWarning)  # medians of regions with no note
    jobs = jobs_of(args.songs, 1, args.bars, args.jobs)
    model = gd.load(device="cpu")
    passes = [int(x) for x in args.resample.split(",") if x]
    settings = [(f"resample {n}", args.steps, n) for n in passes]
    most = max(passes)
    if most:
        same = args.steps + most * max(1, args.steps // 2)
        settings.append((f"steps {same}, resample 0", same, 0))
    print(f"{len(jobs)} regions of {args.bars} bars from {args.songs} held-out POP909 songs "
          f"({', '.join(sorted({j[3] for j in jobs}))}); {args.steps} steps, resample passes "
          f"of {max(1, args.steps // 2)} steps; torch threads {torch.get_num_threads()}\n")
    print(f"{'setting':<24} {'score mean (se)':>16} {'score med':>9} {'tone':>5} {'GT tone':>7} "
          f"{'notes/GT':>8} {'empty':>5} {'s/region':>8}")
    base = None
    for label, steps, n in settings:
        r = run(model, jobs, steps, n)
        tone = np.nanmedian([x["tone"] for x in r["rows"]])
        gt_tone = np.nanmedian([x["gt_tone"] for x in r["rows"]])
        ratio = np.nanmedian([x["n"] / x["gt_n"] for x in r["rows"] if x["gt_n"]])
        empty = np.mean([x["empty"] for x in r["rows"]])
        se = r["scores"].std(ddof=1) / np.sqrt(len(r["scores"])) if len(jobs) > 1 else np.nan
        mean = f"{r['scores'].mean():.4f} ({se:.4f})"
        print(f"{label:<24} {mean:>16} {np.median(r['scores']):>9.4f} "
              f"{tone:>5.2f} {gt_tone:>7.2f} {ratio:>8.2f} {empty:>5.2f} {r['seconds']:>8.2f}")
        if base is None:
            base = r["scores"]
        else:
            d = r["scores"] - base
            se_d = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
            print(f"{'':<24} score - resample 0's, same region: {d.mean():+.4f} ({se_d:.4f}); "
                  f"above it in {np.mean(d > 0):.0%} of the regions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
