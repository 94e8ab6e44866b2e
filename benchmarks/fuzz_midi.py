"""How often malformed MIDI crashes a raw parser, and that symbolic.load never does.

Feeds the generated broken-input corpus (symbolic.fuzz: a synthetic seed piece plus, when
present, POP909 songs damaged at random) down two paths that make the same calls on each input
(parse, then ``to("second")`` and ``dumps_midi()`` on the result):

- raw: ``symusic.Score.from_midi``;
- symbolic: ``symbolic.load`` (its parser sandbox on).

Both run in child processes, restarted after an input that ends one, and every input's outcome
is counted: loaded, the exception's type, or the signal that ended the process. The symbolic
path must show no crash and no exception outside SymbolicError; the script exits with 1
otherwise.

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

from symbolic.data import data_root
from symbolic.fuzz import broken_midi_corpus, mutate

CHILD = r"""
import sys
from pathlib import Path
folder, start, n, path = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if path == "raw":
    import symusic
    parse, expected = symusic.Score.from_midi, Exception
else:
    import symbolic
    parse, expected = symbolic.load, symbolic.SymbolicError
for i in range(start, n):
    print("start", i, flush=True)
    try:
        s = parse((folder / f"{i}.bin").read_bytes())
        s.to("second"); s.dumps_midi()
        out = "loaded"
    except Exception as e:
        out = type(e).__name__ if isinstance(e, expected) else "unexpected " + type(e).__name__
        if "crashed" in str(e):
            out += " (parser crash contained)"
    print("end", i, out, flush=True)
print("done", flush=True)
"""


def outcomes(inputs: list[bytes], path: str) -> collections.Counter:
    """Outcome of every input on ``path`` ('raw' or 'symbolic'), counted: 'loaded', an
    exception's type name, or 'crash (signal N)' where the input ended the child process."""
    counts = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i, data in enumerate(inputs):
            (Path(tmp) / f"{i}.bin").write_bytes(data)
        start = 0
        while start < len(inputs):
            run = subprocess.run([sys.executable, "-c", CHILD, tmp, str(start), str(len(inputs)),
                                  path], capture_output=True, text=True)
            current = None
            for line in run.stdout.splitlines():
                word, _, rest = line.partition(" ")
                if word == "start":
                    current = int(rest)
                elif word == "end":
                    counts[rest.split(" ", 1)[1]] += 1
                    current = None
            if run.returncode == 0 and run.stdout.endswith("done\n"):
                break
            if current is None:  # died outside any input: nothing to attribute it to
                raise RuntimeError(f"the {path} child failed (exit {run.returncode}): "
                                   f"{run.stderr[-2000:]}")
            code = run.returncode
            counts[f"crash (signal {-code})" if code < 0 else f"crash (exit {code})"] += 1
            start = current + 1
    return counts


def _crashes(counts: collections.Counter) -> int:
    return sum(v for k, v in counts.items() if k.startswith("crash"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--random", type=int, default=2000, help="random damages of the seed piece")
    ap.add_argument("--pop909", type=int, default=20, help="POP909 songs to damage (150 each)")
    args = ap.parse_args(argv)
    if args.random < 0 or args.pop909 < 0:
        ap.error("--random and --pop909 must be >= 0")
    inputs = [d for _, d in broken_midi_corpus(n_random=args.random)]
    root = data_root() / "pop909"
    rng = random.Random(0)
    for i in range(1, args.pop909 + 1):
        path = root / f"{i:03d}" / f"{i:03d}.mid"
        if path.is_file():
            data = path.read_bytes()
            inputs += [mutate(data, rng)[1] for _ in range(150)]
    print(f"{len(inputs)} broken inputs; each path: parse, to('second'), dumps_midi()")
    bad = 0
    for path in ("raw", "symbolic"):
        counts = outcomes(inputs, path)
        assert sum(counts.values()) == len(inputs), counts
        unexpected = sum(v for k, v in counts.items() if k.startswith("unexpected"))
        print(f"{path:9s} {_crashes(counts)} interpreter crashes, {unexpected} unexpected "
              f"exceptions; outcomes {dict(counts.most_common())}")
        if path == "symbolic":
            bad = _crashes(counts) + unexpected
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
