"""Evaluate HDiT inpainting on POP909's test split (songs 874-909) against baselines, in one
run, on regions of four shapes (Pictures of MIDI's inpainting task):

- **melody band**: ``--bars`` whole bars at a random bar, pitches 60-96 (where the melody is);
- **accompaniment band**: the same bars, pitches 24-59;
- **whole bars**: the same bars at every pitch;
- **continuation**: the same bars at every pitch with the song cut at the region's end (nothing
  after it is known).

Methods: **hdit U=1/2/3** (:func:`symbolic.inpaint` with ``--steps``, ``--candidates`` ranked by
the fill around the region, ``resample`` = U RePaint tries per step), **empty** (the region
left silent), **previous** (the region's pixels copied from the same span of columns just
before it), **getdiff** (whole bars and continuation only: the band GETDiff rewrites MELODY,
BRIDGE and PIANO over those bars, so the two families are compared on the same windows).

Metrics, from the notes whose onset pixel lies in the region against the song's own there
(Pictures of MIDI's Table 1 takes them from SongMASS; as understood here):

- **DP / DD**: pitch / duration distribution similarity: the overlapped area of the filled
  notes' pitch (128 bins) or duration (16th-note steps 1-32, longer in the last bin)
  histogram with the true notes', per window, averaged (1: the same distribution; a window
  where either side has no note scores 0);
- **KL_P / KL_D**: KL(true || filled) of the same histograms pooled over all windows, each
  bin smoothed by 1e-3 of a count;
- **fill**: notes filled / true notes (1: the song's density).

    python benchmarks/eval_hdit.py                              # shipped weights
    python benchmarks/eval_hdit.py --model DIR --windows 4 --us 1   # quicker
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


def overlap(a: np.ndarray, b: np.ndarray, bins: int) -> float:
    p = np.bincount(a, minlength=bins)[:bins] / max(len(a), 1)
    q = np.bincount(b, minlength=bins)[:bins] / max(len(b), 1)
    return float(np.minimum(p, q).sum())


def summarize(rows: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    dur = lambda x: np.clip(x[:, 1], 1, MAX_DURATION) - 1  # noqa: E731
    dp = [overlap(t[:, 0], f[:, 0], 128) if len(t) and len(f) else 0.0 for t, f in rows]
    dd = [overlap(dur(t), dur(f), MAX_DURATION) if len(t) and len(f) else 0.0
          for t, f in rows]
    t = np.concatenate([r[0] for r in rows])
    f = np.concatenate([r[1] for r in rows])
    return {"DP": float(np.mean(dp)), "DD": float(np.mean(dd)),
            "KL_P": kl(t[:, 0], f[:, 0], 128), "KL_D": kl(dur(t), dur(f), MAX_DURATION),
            "fill": len(f) / max(len(t), 1)}


def windows(pop: Pop909, n: int, bars: int, rng, split: str = "test"):
    """(song, roll, first bar) for ``n`` windows of ``split``: songs in turn, a random bar with
    at least ``bars`` bars before it."""
    ids = pop.available(split)
    for k in range(n):
        song = pop.song(ids[(k * len(ids)) // max(n, 1) % len(ids)])  # spread over the split
        roll = encode(song.score, bar_ticks=song.bar_ticks())
        first = int(rng.integers(bars + 2, max(roll.grid.n_bars - bars, bars + 3)))
        yield song, roll, first


SHAPES = {"melody band": (60, 96), "accompaniment band": (24, 59), "whole bars": None,
          "continuation": None}


def getdiff_fill(song, roll, bars, cut):
    """The band GETDiff's rewrite of every part over ``bars`` as a merged image."""
    score = song.score.clip(0, cut, clip_end=True) if cut else song.score
    out = symbolic.infill(score, tracks=["melody", "bridge", "piano"], bars=bars,
                          bar_ticks=song.bar_ticks(), seed=0)
    return encode(out, bar_ticks=song.bar_ticks()).image[:, :roll.image.shape[1]]


def run_shape(shape, args, rng, pop, methods, seconds):
    rows = {m: [] for m in methods}
    for song, roll, first in windows(pop, args.windows, args.bars, rng, args.split):
        bars = (first, first + args.bars - 1)
        cut = None
        if shape == "continuation":  # the song ends with the region
            cut = int(roll.grid.bar_ticks[bars[1]])
            score = song.score.clip(0, cut, clip_end=True)
            roll = encode(score, bar_ticks=song.bar_ticks())
        mask = inpaint_mask(roll, bars=bars, pitches=SHAPES[shape])
        true = region_notes(roll.image, roll, mask)
        filled = {"empty": np.where(mask[..., None], 0, roll.image),
                  "previous": previous_bars(roll.image, mask)}
        for m in methods:
            if m.startswith("hdit"):
                t = time.process_time()
                _, filled[m] = symbolic.inpaint(
                    roll, bars=bars, pitches=SHAPES[shape], steps=args.steps,
                    resample=int(m.split("=")[1]), candidates=args.candidates,
                    sampler=methods[m], seed=args.seed, model=args.model)
                seconds.setdefault(m, []).append(time.process_time() - t)
            elif m == "getdiff" and SHAPES[shape] is None:
                filled[m] = getdiff_fill(song, roll, bars, cut)
        for m in methods:
            if m in filled:
                img = filled[m].astype(np.uint8)
                rows[m].append((true, region_notes(img, roll, mask)))
    print(f"\n## {shape}: {args.windows} windows of {args.bars} bars, pitches "
          f"{SHAPES[shape] or 'all'}\n")
    print("| method | DP | DD | KL_P | KL_D | fill |\n|---|---|---|---|---|---|")
    for m in methods:
        if rows[m]:
            r = summarize(rows[m])
            print(f"| {m} | {r['DP']:.3f} | {r['DD']:.3f} | {r['KL_P']:.3f} | "
                  f"{r['KL_D']:.3f} | {r['fill']:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="HDiT folder (default: the shipped weights)")
    ap.add_argument("--windows", type=int, default=12, help="windows per shape")
    ap.add_argument("--bars", type=int, default=4)
    ap.add_argument("--steps", type=int, default=16, help="sampling steps (inpaint's default)")
    ap.add_argument("--candidates", type=int, default=2)
    ap.add_argument("--us", default="1,2,3", help="RePaint tries per step to compare")
    ap.add_argument("--samplers", default="heun",
                    help="samplers to compare (dpmpp_2m_sde, euler, heun), comma-separated")
    ap.add_argument("--split", default="test", choices=("valid", "test"),
                    help="POP909 split of the windows (choose settings on valid)")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--data", default=None, help="POP909 folder")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    samplers = args.samplers.split(",")
    methods = {f"hdit {s + ' ' if len(samplers) > 1 else ''}U={u}": s
               for s in samplers for u in args.us.split(",")}
    methods.update(dict.fromkeys(["empty", "previous", "getdiff"]))
    pop = Pop909(args.data)
    seconds: dict = {}
    print(f"# HDiT inpainting on POP909 {args.split} windows ({args.samplers}, {args.steps} steps, "
          f"{args.candidates} candidates, one CPU thread)")
    for shape in args.shapes.split(","):
        run_shape(shape, args, np.random.default_rng(args.seed), pop, methods, seconds)
    print()
    for m, t in seconds.items():
        print(f"- {m}: {np.mean(t):.1f} CPU s per window, {np.mean(t) / args.candidates:.1f} "
              "per candidate")


if __name__ == "__main__":
    main()
