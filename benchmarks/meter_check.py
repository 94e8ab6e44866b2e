"""How often ``symbolic.timeline.implausible_meter`` warns, per corpus and declared meter.

- POP909 (all 909 songs, music in 4/4 per the annotated beats): as the files declare their
  meter (1/4 in 617 files), and again with every file declared 2/4
  (``with_meter(score, "2/4")``): the 4-beat test's detection rate.
- music21's Bach chorales (350 files; 4/4 and 3/4) and Essen folk songs (every ``--step``-th
  tune of the 8,514; genuine 2/4, 3/4, 4/4, 6/8, 3/8...): false warnings, per declared meter.

    python benchmarks/meter_check.py              # about 3 minutes on one core
    python benchmarks/meter_check.py --step 10    # a smaller Essen sample
"""

from __future__ import annotations

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from symbolic import load  # noqa: E402
from symbolic.data.music21_corpus import piece_names  # noqa: E402
from symbolic.data.pop909 import Pop909  # noqa: E402
from symbolic.timeline import implausible_meter, meter_changes, with_meter  # noqa: E402


def declared(score) -> str:
    _, nums, dens = meter_changes(score)
    return "+".join(dict.fromkeys(f"{n}/{d}" for n, d in zip(nums.tolist(), dens.tolist())))


def rule(message: str | None) -> str:
    """Which rule a warning comes from: '' (none), 'short' (bars under 1.5 quarters) or
    'four' (2/4 over a four-beat pattern)."""
    if message is None:
        return ""
    return "short" if "shorter than" in message else "four"


def count(rows, label: str, scores) -> None:
    for score in scores:
        rows[(label, declared(score))].append(rule(implausible_meter(score)))


def line(label: str, meter: str, rules: list[str]) -> str:
    warned = sum(map(bool, rules))
    return (f"{label:<22} {meter:<16} {len(rules):>6} {warned:>7} "
            f"{100 * warned / len(rules):>6.1f}% {rules.count('short'):>6} "
            f"{rules.count('four'):>6}")


def report(rows) -> None:
    print(f"{'corpus':<22} {'declared':<16} {'files':>6} {'warned':>7} {'rate':>7} "
          f"{'short':>6} {'4-beat':>6}")
    for (label, meter), rules in sorted(rows.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
        if len(rules) >= 5 or any(rules):
            print(line(label, meter, rules))
    totals = collections.defaultdict(list)
    for (label, _), rules in rows.items():
        totals[label] += rules
    for label, rules in sorted(totals.items()):
        print(line(label, "(all)", rules))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=3, help="every N-th Essen tune")
    parser.add_argument("--pop909", type=int, default=909, help="POP909 songs (first N)")
    args = parser.parse_args()
    rows = collections.defaultdict(list)
    pop = Pop909()
    songs = [pop.score(i) for i in pop.available()[:args.pop909]]
    count(rows, "pop909 (as declared)", songs)
    count(rows, "pop909 (declared 2/4)", (with_meter(s, "2/4") for s in songs))
    count(rows, "bach chorales", (load(n) for n in piece_names("bach_chorales")))
    count(rows, "essen", (load(n) for n in piece_names("essen")[::args.step]))
    report(rows)


if __name__ == "__main__":
    main()
