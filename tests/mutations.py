"""Re-apply six realistic one-line bugs (issue 18) and check that the test suite kills each.

    python tests/mutations.py                  # the six mutations against the current tests
    python tests/mutations.py --tests-rev REV  # the same against the tests of a git revision
    python tests/mutations.py --only sandbox-timeout

Each mutation is applied to a temporary copy of the project (the working tree's tracked and
untracked files; this checkout's sources are never edited), then the tests that guard that
promise run there (``pytest -x``, the copy first on ``sys.path``). A mutation is *killed* when
they fail (or run past ``--timeout``), *survived* when they pass, *broken* when they already
fail on the unmutated copy (checked first, so that a kill is the mutation's doing). The mutated line must occur
exactly once in the file, so a refactor that moves it makes this script fail loudly rather than
test nothing. Prints one line per mutation and ``killed K of N``; exit status 1 unless all are
killed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # relative to the repository root
    old: str  # must occur exactly once in the file
    new: str
    tests: tuple[str, ...]  # test files to run
    select: str  # pytest -k expression: the tests (old and new) that guard this promise


MUTATIONS = (
    Mutation("infill-region-late", "symbolic/models/getdiff/generate.py",
             "(int(bt[r.first - 1]), int(bt[min(r.last, mg.n_bars)]))",
             "(int(bt[r.first]), int(bt[min(r.last, mg.n_bars)]))",
             ("tests/test_getdiff.py",), "infill"),
    Mutation("sandbox-timeout", "symbolic/sandbox.py",
             "    except TimeoutError:\n        shutdown()\n",
             "    except TimeoutError:\n        pass\n",
             ("tests/test_io.py",), "sandbox or crash or parser"),
    Mutation("load-unsandboxed", "symbolic/io.py",
             "        data = result  # symusic's own re-encoding",
             "        pass  # symusic's own re-encoding",
             ("tests/test_io.py",), "sandbox or load or fuzz"),
    Mutation("resume-other-source", "symbolic/data/pipeline.py",
             '"source": src.describe(),', '"source": src.kind,',
             ("tests/test_pipeline.py",), "resume or rerun"),
    Mutation("chords-no-bass", "symbolic/harmony.py",
             "    scores += bass_weight * b[:, roots]\n", "",
             ("tests/test_harmony.py",), "recogni"),
    Mutation("remi-meter-after-empty-bars", "symbolic/representations/tokens.py",
             "if self.use_ts and not (kind == 0 and i + 1 == n_new):",
             "if self.use_ts and not kind == 0:",
             ("tests/test_tokens.py",), "vectorized_remi"),
)


def project_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                         check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p and (REPO / p).is_file()]


def copy_project(dest: Path) -> None:
    for rel in project_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)


def use_tests_of(dest: Path, rev: str) -> None:
    """Replace the copy's tests/ with those of git revision ``rev``."""
    shutil.rmtree(dest / "tests")
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "tests/"], cwd=REPO,
                           check=True, capture_output=True, text=True).stdout.split()
    for rel in names:
        blob = subprocess.run(["git", "show", f"{rev}:{rel}"], cwd=REPO, check=True,
                              capture_output=True).stdout
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(blob)


def test_env(copy: Path) -> dict:
    from symbolic.data import data_root  # this checkout's data folder, found before copying

    env = dict(os.environ, PYTHONPATH=str(copy), HF_HUB_OFFLINE="1",
               SYMBOLIC_DATA=str(data_root().resolve()), OMP_NUM_THREADS="1")
    env.pop("PYTEST_ADDOPTS", None)
    return env


def prepare_copy(dest: Path, tests_rev: str | None = None) -> dict:
    """Copy the project to ``dest`` (with the tests of ``tests_rev`` when given) and return the
    environment that runs it from there."""
    copy_project(dest)
    if tests_rev:
        use_tests_of(dest, tests_rev)
    return test_env(dest)


def _pytest(m: Mutation) -> list[str]:
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
            "-k", m.select, *m.tests]


def baseline_passes(m: Mutation, copy: Path, env: dict, timeout: float) -> bool:
    """Whether ``m``'s tests pass on the unmutated copy: a kill means nothing otherwise."""
    try:
        return subprocess.run(_pytest(m), cwd=copy, env=env, capture_output=True,
                              timeout=timeout).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def run_one(m: Mutation, copy: Path, env: dict, timeout: float) -> tuple[str, float, str]:
    """Apply ``m`` in ``copy``, run its tests, restore the file: (outcome, seconds, last line)."""
    path = copy / m.path
    original = path.read_text()
    if original.count(m.old) != 1:
        raise SystemExit(f"{m.name}: the line to mutate occurs {original.count(m.old)} times "
                         f"in {m.path} (expected once): update this script")
    if not baseline_passes(m, copy, env, timeout):
        return "broken", 0.0, "its tests fail without the mutation: nothing to measure"
    path.write_text(original.replace(m.old, m.new))
    cmd = _pytest(m)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True,
                              timeout=timeout)
        lines = proc.stdout.strip().splitlines() or ["(no output)"]
        # 1: a test failed; 0: all passed; 5: nothing selected (the guard is missing)
        outcome = {0: "survived", 1: "killed", 5: "survived"}.get(proc.returncode, "error")
        failed = [ln.split(" - ")[0].split("::")[-1] for ln in lines if ln.startswith("FAILED")]
        last = lines[-1] + (f"; {failed[0]}" if failed else "")
    except subprocess.TimeoutExpired:
        outcome, last = "killed", f"timed out after {timeout:g} s"
    finally:
        path.write_text(original)
    return outcome, time.perf_counter() - t0, last


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tests-rev", help="use the tests/ folder of this git revision")
    p.add_argument("--only", action="append", choices=[m.name for m in MUTATIONS],
                   help="run this mutation only (repeatable)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per mutation (> 0)")
    args = p.parse_args(argv)
    if args.timeout <= 0:
        p.error(f"--timeout must be > 0, got {args.timeout}")
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    with tempfile.TemporaryDirectory(prefix="symbolic-mutations-") as tmp:
        copy = Path(tmp) / "project"
        env = prepare_copy(copy, args.tests_rev)
        check = subprocess.run([sys.executable, "-c", "import symbolic; print(symbolic.__file__)"],
                               cwd=copy, env=env, capture_output=True, text=True, check=True)
        if not check.stdout.strip().startswith(str(copy)):
            raise SystemExit(f"the copy's package is not the one imported: {check.stdout}")
        killed = 0
        for m in chosen:
            outcome, seconds, last = run_one(m, copy, env, args.timeout)
            killed += outcome == "killed"
            print(f"{m.name:30s} {outcome:8s} {seconds:6.1f} s  {m.path}  ({last})", flush=True)
    tests = f"tests of {args.tests_rev}" if args.tests_rev else "current tests"
    print(f"killed {killed} of {len(chosen)} ({tests})")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
