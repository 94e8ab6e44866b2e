"""Mutation score of the core modules with mutmut: how many of its mutants each module's own
tests kill.

    python tests/mutation_score.py                    # every module below (long: see README)
    python tests/mutation_score.py sandbox harmony    # some of them
    python tests/mutation_score.py --tests-rev REV sandbox   # with the tests of a git revision

Each module is scored in a temporary copy of the project (the working tree's files; mutmut's
``mutants/`` folder never lands in the checkout), with a ``[mutmut]`` section written into
the copy's setup.cfg: the whole ``symbolic`` package is copied, only the module is mutated
(``only_mutate``), and only its own fast test files run (mutmut then runs, for each mutant,
the tests that reached the mutated function). Score = killed / (killed + survived + no tests),
and of the mutants the tests reach: killed / (killed + survived); timeouts count as killed, as
mutmut counts them. "No tests": mutmut saw no test run the function, e.g. code that runs only
in a child process (the sandbox's worker loop), which its coverage does not follow. Needs ``pip install mutmut`` (the ``mutate``
extra); ``make mutate`` runs this and ``tests/mutations.py``.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mutations import prepare_copy

# module name -> (the file mutmut mutates, the test files that run against its mutants)
MODULES = {
    "sandbox": ("symbolic/sandbox.py", ["tests/test_io.py"]),
    "io": ("symbolic/io.py", ["tests/test_io.py"]),
    "harmony": ("symbolic/harmony.py", ["tests/test_harmony.py"]),
    "grid": ("symbolic/representations/grid.py", ["tests/test_grid.py"]),
    "tokens": ("symbolic/representations/tokens.py", ["tests/test_tokens.py"]),
    "generate": ("symbolic/models/getdiff/generate.py", ["tests/test_getdiff.py"]),
    "pipeline": ("symbolic/data/pipeline.py", ["tests/test_pipeline.py"]),
}
KILLED = ("killed", "timeout", "segfault", "suspicious")  # the tests noticed the mutant


def _config(module: str, tests: list[str]) -> str:
    lines = "\n    ".join(["-q", "-p", "no:cacheprovider", "-p", "no:xdist", *tests])
    return ("\n[mutmut]\nsource_paths = symbolic\n"
            f"only_mutate = {module}\n"
            f"pytest_add_cli_args_test_selection =\n    {lines}\n"
            "use_git_change_detection = false\n")


def score(name: str, copy: Path, env: dict, workers: int, timeout: float) -> dict:
    """Run mutmut on module ``name`` in ``copy``: counts by status, score, seconds."""
    module, tests = MODULES[name]
    cfg = copy / "setup.cfg"
    base = cfg.read_text().split("\n[mutmut]\n")[0]
    cfg.write_text(base + _config(module, tests))
    subprocess.run(["rm", "-rf", str(copy / "mutants")], check=True)
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(workers)],
                         cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    res = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                         cwd=copy, env=env, capture_output=True, text=True)
    counts = collections.Counter(line.rsplit(": ", 1)[1].strip()
                                 for line in res.stdout.splitlines() if ": " in line)
    if not counts:
        raise SystemExit(f"{name}: mutmut produced no result (exit {run.returncode}):\n"
                         f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    killed = sum(counts[k] for k in KILLED)
    scored = killed + counts["survived"] + counts["no tests"]
    survivors = [line.split(":")[0].strip() for line in res.stdout.splitlines()
                 if line.endswith(": survived")]
    reached = killed + counts["survived"]
    return {"counts": dict(counts), "killed": killed, "scored": scored, "seconds": seconds,
            "score": killed / scored if scored else float("nan"),
            "reached": killed / reached if reached else float("nan"), "survivors": survivors}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("modules", nargs="*", choices=[[], *MODULES], metavar="MODULE",
                   help=f"modules to score (default: all of {', '.join(MODULES)})")
    p.add_argument("--tests-rev", help="use the tests/ folder of this git revision")
    p.add_argument("--workers", type=int, default=2, help="mutmut's --max-children (>= 1)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per module (> 0)")
    p.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    args = p.parse_args(argv)
    if args.workers < 1 or args.timeout <= 0:
        p.error("--workers must be >= 1 and --timeout > 0")
    names = args.modules or list(MODULES)
    tests = f"tests of {args.tests_rev}" if args.tests_rev else "current tests"
    with tempfile.TemporaryDirectory(prefix="symbolic-mutmut-") as tmp:
        copy = Path(tmp) / "project"
        env = prepare_copy(copy, args.tests_rev)
        env.pop("PYTHONPATH")  # mutmut puts its mutants/ folder first on the path itself
        for name in names:
            r = score(name, copy, env, args.workers, args.timeout)
            print(f"{name:9s} {MODULES[name][0]:38s} score {r['score']:6.1%} "
                  f"(of mutants its tests reach: {r['reached']:6.1%}); {r['killed']} of "
                  f"{r['scored']} killed; {r['counts']}; {r['seconds']:.0f} s; {tests}",
                  flush=True)
            if args.survivors:
                for s in r["survivors"]:
                    print(f"    survived: {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
