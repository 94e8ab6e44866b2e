"""How often malformed MIDI crashes a raw parser, and that symbolic.load never does.

Feeds the generated broken-input corpus (symbolic.fuzz: a synthetic seed piece plus, when
present, POP909 songs damaged at random) to

- raw symusic (``Score.from_midi`` then ``to("second")`` and ``dumps_midi``) running in child
  processes: each crash (signal) is counted, and the child is restarted after the crashing input;
- ``symbolic.load`` in this process: every input must load or raise SymbolicError.

    python benchmarks/fuzz_midi.py [--random 2000] [--pop909 20]
"""

from __future__ import annotations

import argparse
import collections
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import symbolic
from symbolic.data import data_root
from symbolic.fuzz import broken_midi_corpus, mutate

CHILD = r"""
import sys, symusic
from pathlib import Path
folder = Path(sys.argv[1]); start = int(sys.argv[2]); n = int(sys.argv[3])
for i in range(start, n):
    print(i, flush=True)
    try:
        s = symusic.Score.from_midi((folder / f"{i}.bin").read_bytes())
        s.to("second"); s.dumps_midi()
    except Exception:
        pass
print("done", flush=True)
"""


def raw_symusic_crashes(inputs: list[bytes]) -> collections.Counter:
    """Run raw symusic over ``inputs`` in child processes; count how each child ended."""
    ends = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, data in enumerate(inputs):
            (folder / f"{i}.bin").write_bytes(data)
        start = 0
        while start < len(inputs):
            run = subprocess.run([sys.executable, "-c", CHILD, tmp, str(start), str(len(inputs))],
                                 capture_output=True, text=True)
            lines = run.stdout.split()
            if lines and lines[-1] == "done":
                break
            last = int(lines[-1]) if lines else start
            ends[f"signal {-run.returncode}" if run.returncode < 0 else f"exit {run.returncode}"] += 1
            start = last + 1
    return ends


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--random", type=int, default=2000, help="random damages of the seed piece")
    ap.add_argument("--pop909", type=int, default=20, help="POP909 songs to damage (150 each)")
    args = ap.parse_args(argv)
    inputs = [d for _, d in broken_midi_corpus(n_random=args.random)]
    root = data_root() / "pop909"
    rng = random.Random(0)
    for i in range(1, args.pop909 + 1):
        path = root / f"{i:03d}" / f"{i:03d}.mid"
        if path.is_file():
            data = path.read_bytes()
            inputs += [mutate(data, rng)[1] for _ in range(150)]
    print(f"{len(inputs)} broken inputs")
    crashes = raw_symusic_crashes(inputs)
    print(f"raw symusic: {sum(crashes.values())} interpreter crashes ({dict(crashes) or 'none'})")
    outcome = collections.Counter()
    for data in inputs:
        try:
            symbolic.load(data)
            outcome["loaded"] += 1
        except symbolic.SymbolicError as e:
            outcome[type(e).__name__] += 1
            if "crashed" in e.reason:
                outcome["(parser crash contained)"] += 1
    print(f"symbolic.load: 0 crashes; outcomes {dict(outcome)}")


if __name__ == "__main__":
    main()
