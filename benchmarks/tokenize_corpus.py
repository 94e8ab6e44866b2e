"""Corpus tokenizing throughput: symbolic's pipeline against miditok's ``tokenize_dataset``.

All tokenize the same POP909 files with the same tokenizer (the ``remi`` preset: REMI+ with
programs, tempos, time signatures) from MIDI files on disk to token ids on disk, with 1 and 2
worker processes, in one run; every configuration runs ``--repeat`` times, interleaved (so that
load from other processes on the machine falls on all alike), and the best run is kept.

    python benchmarks/tokenize_corpus.py [--files 300] [--repeat 2] [--workers 1 2] [--path ...]

Three contenders: ``miditok`` (``tokenize_dataset``: one fixed chunk per worker, one JSON file
per MIDI file); ``symbolic (miditok encode)``, the pipeline with miditok's own REMI encoder
(dynamic scheduling, Parquet shards: what the pipeline adds by itself); ``symbolic``, the
pipeline as shipped, whose REMI encoding is vectorized (the same ids as miditok's: the script
checks the token counts, the tests check every id). Printed: files/s and tokens/s, the ratios
to miditok, the scaling from 1 to 2 workers, the bytes per token on disk. An untimed warm-up
loads the libraries first; starting worker processes is inside the timing for all.
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's ``tokenize`` module, which ``linecache`` (and so
# nearly everything) imports: take the script's own folder off the import path first.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import contextlib
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from symbolic.data import data_root


def run_miditok(tok, files, out: Path, workers: int) -> tuple[float, int, int]:
    shutil.rmtree(out, ignore_errors=True)
    with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # its progress bar
        t = time.perf_counter()
        tok.tokenize_dataset(files, out, parallel_workers_size=workers, verbose=False)
        dt = time.perf_counter() - t
    import json

    n_tokens = size = 0
    for p in out.rglob("*.json"):
        size += p.stat().st_size
        if p.name != "tokenizer.json":
            n_tokens += len(json.loads(p.read_text())["ids"])
    return dt, n_tokens, size


def run_symbolic(files, out: Path, workers: int, fast: bool = True) -> tuple[float, int, int]:
    from symbolic.data.pipeline import tokenize

    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    s = tokenize(list(map(str, files)), out, tokenizer="remi", workers=workers, progress=False,
                 fast=fast)
    dt = time.perf_counter() - t
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return dt, s.tokens, size


TOOLS = ("miditok", "symbolic (miditok encode)", "symbolic")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", type=Path, default=data_root() / "pop909")
    ap.add_argument("--files", type=int, default=300, help="first N POP909 songs (default 300)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per configuration (best kept)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    files = sorted(args.path.glob("*/*.mid"))[: args.files]
    if not files:
        raise SystemExit(f"no MIDI files under {args.path} (set SYMBOLIC_DATA)")

    from symbolic.representations import tokens

    tok = tokens.load("remi")
    warnings.simplefilter("ignore")
    print(f"{len(files)} POP909 files, tokenizer remi ({tokens.describe(tok)}), "
          f"{os.cpu_count()} CPUs, best of {args.repeat}; load average before: "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    results: dict[tuple[str, int], list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for w in args.workers:  # warm-up, untimed: imports and caches (not worker start-up)
            run_miditok(tok, files[:8], tmp / "warm-m", w)
            run_symbolic(files[:8], tmp / "warm-s", w)
            run_symbolic(files[:8], tmp / "warm-s", w, fast=False)
        for r in range(args.repeat):
            for w in args.workers:
                for name in TOOLS:
                    out = tmp / f"{name.split()[0]}-{w}"
                    if name == "miditok":
                        res = run_miditok(tok, files, out, w)
                    else:
                        res = run_symbolic(files, out, w, fast=name == "symbolic")
                    results.setdefault((name, w), []).append(res)
                    print(f"  run {r + 1}: {name:24s} {w} worker(s): {res[0]:6.2f} s", flush=True)

    best = {k: min(v, key=lambda x: x[0]) for k, v in results.items()}
    print()
    print(f"{'':26s} {'workers':>7s} {'files/s':>9s} {'tokens/s':>11s} {'bytes/token':>12s} "
          f"{'MB on disk':>11s}")
    for w in args.workers:
        for name in TOOLS:
            dt, n_tok, size = best[(name, w)]
            print(f"{name:26s} {w:7d} {len(files) / dt:9.1f} {n_tok / dt:11,.0f} "
                  f"{size / n_tok:12.2f} {size / 1e6:11.1f}")
    print()
    for w in args.workers:
        m = best[("miditok", w)]
        for name in TOOLS[1:]:
            s = best[(name, w)]
            assert m[1] == s[1], f"token counts differ: miditok {m[1]}, {name} {s[1]}"
            print(f"{name} / miditok at {w} worker(s): {m[0] / s[0]:.2f}x files/s")
    if len(args.workers) > 1:
        lo, hi = min(args.workers), max(args.workers)
        for name in TOOLS:
            print(f"{name} scaling {lo} -> {hi} workers: "
                  f"{best[(name, lo)][0] / best[(name, hi)][0]:.2f}x")
    m, s = best[("miditok", args.workers[0])], best[("symbolic", args.workers[0])]
    print(f"bytes per token on disk: miditok JSON {m[2] / m[1]:.2f}, symbolic Parquet "
          f"{s[2] / s[1]:.2f} ({m[2] / s[2]:.1f}x smaller)")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes on the machine take "
          "cores from both tools alike)")
    spread = {k: statistics.pstdev([x[0] for x in v]) for k, v in results.items() if len(v) > 1}
    if spread:
        print("timing spread (s, stdev over repeats): "
              + ", ".join(f"{n}/{w}: {d:.2f}" for (n, w), d in sorted(spread.items())))


if __name__ == "__main__":
    sys.exit(main())
