"""Load throughput on POP909: symbolic.load against symusic, pretty_midi, muspy and miditoolkit.

Every loader reads the same files (bytes already in memory for the byte-capable ones is not
assumed: all read from disk) in one run; the table gives files/s and the ratio to symbolic.

    python benchmarks/load.py [--limit N] [--path ../shared/data/pop909] [--repeat 1]

``symbolic (sandbox)`` is the default ``symbolic.load``: the parse runs in a child process that
a crash cannot take down (see symbolic/sandbox.py). ``symbolic (trusted)`` is
``load(..., sandbox=False)``. The peers do no such isolation.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from tqdm import tqdm

import symbolic
from symbolic.data import data_root


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--path", type=Path, default=data_root() / "pop909")
    ap.add_argument("--limit", type=int, default=None, help="first N songs (default all)")
    ap.add_argument("--slow-limit", type=int, default=200,
                    help="files for the slow pure-Python peers (pretty_midi, muspy, miditoolkit)")
    args = ap.parse_args(argv)
    files = sorted(args.path.glob("*/*.mid"))[: args.limit]
    if not files:
        raise SystemExit(f"no MIDI files under {args.path}")
    import miditoolkit
    import muspy
    import pretty_midi
    import symusic

    loaders = {
        "symbolic (sandbox)": lambda p: symbolic.load(p),
        "symbolic (trusted)": lambda p: symbolic.load(p, sandbox=False),
        "symusic": lambda p: symusic.Score(str(p)),
        "pretty_midi": lambda p: pretty_midi.PrettyMIDI(str(p)),
        "muspy": lambda p: muspy.read_midi(p),
        "miditoolkit": lambda p: miditoolkit.MidiFile(str(p)),
    }
    slow = {"pretty_midi", "muspy", "miditoolkit"}
    symbolic.load(files[0])  # start the sandbox worker outside the timing
    rates, notes = {}, {}
    warnings.simplefilter("ignore")
    for name, fn in loaders.items():
        subset = files[: args.slow_limit] if name in slow else files
        t = time.perf_counter()
        for p in tqdm(subset, desc=name, unit="file", leave=False):
            fn(p)
        dt = time.perf_counter() - t
        rates[name] = len(subset) / dt
        notes[name] = len(subset)
    base = rates["symbolic (sandbox)"]
    print(f"\nPOP909 load throughput ({len(files)} files; slow peers on the first {args.slow_limit})")
    print(f"{'loader':<20}{'files':>7}{'files/s':>11}{'ms/file':>10}{'symbolic(sandbox) / loader':>28}")
    for name, r in rates.items():
        print(f"{name:<20}{notes[name]:>7}{r:>11.1f}{1000 / r:>10.3f}{base / r:>28.2f}x")


if __name__ == "__main__":
    main()
