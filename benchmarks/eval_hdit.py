"""Evaluate HDiT inpainting on POP909's test split (songs 874-909) against two baselines, in
one run (a skeleton: no shipped weights yet, so pass a model trained with
``symbolic train hdit --out DIR``).

Task: in each of ``--windows`` test windows (a song of the test split in turn, a region of
``--bars`` whole bars at a random bar, at every pitch or in ``--pitches``), fill the region
given everything else, and compare the notes that start in the region with the song's own.

Methods: **hdit** (:func:`symbolic.inpaint`, ``--steps``, ``--candidates`` ranked by the fill
around the region, ``--resample``), **empty** (the region left silent), **previous** (the
region's pixels copied from the same span of bars just before it: "play the last bars
again"), and the ground truth as a sanity row (0 and 0).

Metrics, from the notes whose onset pixel lies in the region (the issue's names, defined here;
the issue's excerpt names them without definitions):

- **DP**: mean over windows of |mean pitch of the filled notes - that of the true notes|
  (semitones; windows where either side has no note are counted in ``no notes`` instead);
- **DD**: the same for the mean note duration (16th-note steps);
- **KL_P**: KL(true || filled) of the pitch histograms (128 bins) pooled over all windows,
  each bin smoothed by 1e-3 of a count (so an empty method gets a large, finite value);
- **KL_D**: the same for durations (1 to 32 steps, longer ones in the last bin);
- **fill**: notes per bar filled / true (1: the density of the song).

    python benchmarks/eval_hdit.py --model DIR --windows 20
    python benchmarks/eval_hdit.py --baselines-only --windows 50
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symbolic  # noqa: E402
from symbolic.data.pop909 import Pop909  # noqa: E402
from symbolic.models.hdit.generate import inpaint_mask  # noqa: E402
from symbolic.representations.pianoroll import PianoRoll, decode, encode  # noqa: E402

MAX_DURATION = 32
SMOOTH = 1e-3


def region_notes(image: np.ndarray, roll: PianoRoll, mask: np.ndarray) -> np.ndarray:
    """(pitch, duration in steps) of the notes of ``image`` whose onset pixel is in ``mask``."""
    score = decode(PianoRoll(image, roll.meta, roll.tracks))
    steps = roll.grid.step_ticks()
    n = score.tracks[0].notes.numpy()
    a = np.searchsorted(steps, n["time"])
    b = np.searchsorted(steps, n["time"] + n["duration"])
    pitch = n["pitch"].astype(np.int64)
    inside = mask[127 - pitch, np.minimum(a, mask.shape[1] - 1)]
    return np.stack([pitch[inside], (b - a)[inside]], 1)


def previous_bars(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The region's pixels copied from the same number of columns just before it."""
    out = image.copy()
    cols = np.flatnonzero(mask.any(0))
    a, n = int(cols[0]), len(cols)
    src = image[:, max(a - n, 0):a]
    src = np.pad(src, [(0, 0), (n - src.shape[1], 0), (0, 0)])
    out[:, a:a + n] = np.where(mask[:, a:a + n, None], src, image[:, a:a + n])
    return out


def kl(true: np.ndarray, filled: np.ndarray, bins: int) -> float:
    p = np.bincount(true, minlength=bins)[:bins] + SMOOTH
    q = np.bincount(filled, minlength=bins)[:bins] + SMOOTH
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


def summarize(rows: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    dp, dd, none = [], [], 0
    for true, filled in rows:
        if not len(true) or not len(filled):
            none += 1
            continue
        dp.append(abs(true[:, 0].mean() - filled[:, 0].mean()))
        dd.append(abs(true[:, 1].mean() - filled[:, 1].mean()))
    t = np.concatenate([r[0] for r in rows])
    f = np.concatenate([r[1] for r in rows])
    dur = lambda x: np.clip(x[:, 1], 1, MAX_DURATION) - 1  # noqa: E731
    return {"DP": np.mean(dp) if dp else np.nan, "DD": np.mean(dd) if dd else np.nan,
            "KL_P": kl(t[:, 0], f[:, 0], 128), "KL_D": kl(dur(t), dur(f), MAX_DURATION),
            "fill": len(f) / max(len(t), 1), "no notes": none}


def windows(pop: Pop909, n: int, bars: int, rng):
    """(song, roll, first bar) for ``n`` test windows: songs in turn, a random bar with at
    least ``bars`` bars before it."""
    ids = pop.available("test")
    for k in range(n):
        song = pop.song(ids[k % len(ids)])
        roll = encode(song.score, bar_ticks=song.bar_ticks())
        first = int(rng.integers(bars + 2, max(roll.grid.n_bars - bars, bars + 3)))
        yield song, roll, first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="HDiT folder (symbolic train hdit --out)")
    ap.add_argument("--baselines-only", action="store_true")
    ap.add_argument("--windows", type=int, default=20)
    ap.add_argument("--bars", type=int, default=4)
    ap.add_argument("--pitches", default=None, help="e.g. 48-84 (default every pitch)")
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--resample", type=int, default=1)
    ap.add_argument("--data", default=None, help="POP909 folder")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.model is None and not args.baselines_only:
        ap.error("give --model DIR (no shipped HDiT weights yet) or --baselines-only")
    torch.set_num_threads(1)
    pitches = tuple(int(x) for x in args.pitches.split("-")) if args.pitches else None
    rng = np.random.default_rng(args.seed)
    methods = ["truth", "empty", "previous"] + ([] if args.baselines_only else ["hdit"])
    rows = {m: [] for m in methods}
    seconds = []
    for song, roll, first in windows(Pop909(args.data), args.windows, args.bars, rng):
        bars = (first, first + args.bars - 1)
        mask = inpaint_mask(roll, bars=bars, pitches=pitches)
        true = region_notes(roll.image, roll, mask)
        filled = {"truth": roll.image, "empty": np.where(mask[..., None], 0, roll.image),
                  "previous": previous_bars(roll.image, mask)}
        if "hdit" in rows:
            t = time.time()
            _, filled["hdit"] = symbolic.inpaint(
                roll, bars=bars, pitches=pitches, steps=args.steps, resample=args.resample,
                candidates=args.candidates, seed=args.seed, model=args.model)
            seconds.append(time.time() - t)
        for m in methods:
            rows[m].append((true, region_notes(filled[m].astype(np.uint8), roll, mask)))
    print(f"{args.windows} windows of {args.bars} bars (POP909 test), pitches "
          f"{pitches or 'all'}")
    print(f"{'method':10s} {'DP':>7s} {'DD':>7s} {'KL_P':>7s} {'KL_D':>7s} {'fill':>6s} "
          f"{'no notes':>8s}")
    for m in methods:
        r = summarize(rows[m])
        print(f"{m:10s} {r['DP']:7.3f} {r['DD']:7.3f} {r['KL_P']:7.3f} {r['KL_D']:7.3f} "
              f"{r['fill']:6.2f} {r['no notes']:8d}")
    if seconds:
        print(f"hdit: {np.mean(seconds):.1f} s per window ({args.steps} steps, "
              f"{args.candidates} candidates, one CPU thread)")


if __name__ == "__main__":
    main()
