"""Broken and hostile inputs through every entry point: no crash, only SymbolicErrors, bounded
memory and time per input.

Inputs: the generated broken-MIDI corpus (:func:`symbolic.fuzz.broken_midi_corpus`: a synthetic
seed piece damaged in every family plus ``--random`` random damages; ``--pop909 N``: 150
random damages of each of the first N POP909 songs) and the crafted reproductions of reported
attacks (:func:`symbolic.fuzz.crafted_inputs`: 0x0FFFFFFF deltas, a 37-byte 77-hour note,
tempo 0, pitch -68, program 205, ticks past 2^31, a 1 GiB ``.mxl`` bomb, the same bomb named
``.mid``...). Each input is a file with its suffix.

Entry points (each as a user calls it, on the file's path):

- ``load``: :func:`symbolic.load`, then ``to("second")`` and ``dumps_midi()``;
- ``info``: ``symbolic info FILE`` (the CLI's ``main``; exit status 1 or 2 with one
  ``error:`` line counts as a SymbolicError);
- ``render``: load, then :func:`symbolic.audio.render_to_file` (synth, 22,050 Hz);
- ``tokenize``: :func:`symbolic.data.pipeline.tokenize_bytes` (what every ``symbolic tokenize``
  worker runs per file) with REMI;
- ``encode grid|leadsheet|pianoroll|slices|tokens``: load, then the representation's
  ``encode`` (leadsheet with ``melody=None``);
- ``infill``: :func:`symbolic.infill` of the first track, bars 1-2, 2 steps (every crafted
  input and ``--model-inputs`` generated ones spread over the corpus);
- ``compose``: :func:`symbolic.compose` (2 steps) of broken chord progressions: crafted ones
  (empty, unknown chords, 4,097 bars, None...) and the first 200 bytes of ``--model-inputs``
  generated inputs (spread over the corpus) read as text.
- ``symusic (raw)``: ``symusic.Score.from_midi`` without the sandbox, for reference (its
  crashes are what the sandbox contains; not counted in the exit status).

Each entry point runs in its own worker process, one input at a time: before each input the
worker resets the peak-RSS counters (``/proc/PID/clear_refs``) of itself and its child
processes (the parser sandbox); after it, the peak RSS above the level before the input is the
input's memory. An input over ``--memory-mb`` (default 1024 MB; the worker also runs under an
address-space limit of its size at warm-up plus twice that, so nothing can take the machine) or
``--timeout`` seconds (default 60; the worker is killed and restarted after it) counts as over
bound; a worker that dies on an input counts as a crash. The table: inputs, ok,
SymbolicError, other exception, crash, over bound, the largest peak MB and seconds of one
input. Exit status 1 if any entry point (but the raw reference) has a crash, another
exception or an input over bound.

    python benchmarks/fuzz_midi.py [--random 60] [--pop909 0] [--model-inputs 24]
                                   [--entries load,info,...] [--timeout 60] [--memory-mb 1024]
                                   [--bomb-mb 1024] [--verbose]

Default: 262 inputs, about 90 s on two busy cores (measured 92 s). ``--random 1000 --pop909 1
--model-inputs 60`` (1,352 inputs): 267 s, 0 crashes, 0 other exceptions, at most 40 MB and
1.9 s per input on every entry point; the raw parser crashed on 5. ``--random 2000 --pop909 20`` is
the long run.
"""

from __future__ import annotations

import argparse
import ast
import collections
import io
import os
import random
import re
import resource
import select
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ENTRIES = ("load", "info", "render", "tokenize", "encode grid", "encode leadsheet",
           "encode pianoroll", "encode slices", "encode tokens", "infill", "compose",
           "symusic (raw)")
CRAFTED: list = []  # filled by corpus(): the crafted inputs come first
BROKEN_CHORDS = ("", "   ", "H:maj", "C:xyz", "C/Q", "C" * 10_000, "C\x00G", "N.C.",
                 "C:maj7/b9 G:13#11", "C♯ F♭ Gbb", "|| C | | G ||", "-1 0 99",
                 " ".join(["C"] * 4097), "C " * 16 + "%", None, 123, ["C", 7])


# ---------------------------------------------------------------- the worker (one process)


def _status(pid, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else 0


def _family() -> list[int]:
    """This process and its live descendants (the parser sandbox, fluidsynth...)."""
    out, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        out.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children") if Path(
                f"/proc/{pid}/task").is_dir() else ():
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
    return out


def _reset_peaks() -> dict:
    """Reset each family member's peak RSS; return their RSS now (kB)."""
    level = {}
    for pid in _family():
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass
        level[pid] = _status(pid, "VmRSS")
    return level


def _peak_growth_kb(level: dict) -> int:
    return sum(max(0, _status(pid, "VmHWM") - level.get(pid, 0)) for pid in _family())


def _runner(entry: str, tmp: str):
    """The function ``entry`` runs on one input path."""
    import symusic

    import symbolic
    from symbolic.cli import main as cli

    def load(path):
        return symbolic.load(path)

    def info(path):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli(["info", path])
            except SystemExit as e:  # argparse
                code = e.code
        lines = err.getvalue().strip().splitlines()
        if code not in (0, None) and not (lines and lines[-1].startswith("error: ")):
            raise RuntimeError(f"exit {code} without an error line: {err.getvalue()[-300:]}")
        if code not in (0, None):
            raise symbolic.SymbolicError(lines[-1])

    def render(path):
        from symbolic.audio.rendering import render_to_file

        render_to_file(load(path), f"{tmp}/out-{os.getpid()}.wav", 22050, device="cpu")

    def first_track(path):
        score = load(path)
        return score, [score.tracks[0].name if len(score.tracks) else "piano"]

    def infill(path):
        score, tracks = first_track(path)
        symbolic.infill(path, tracks=tracks, bars=(1, 2), steps=2, device="cpu")

    def compose(path):
        chords = ast.literal_eval(Path(path).read_text(encoding="utf-8"))  # a repr we wrote
        symbolic.compose(chords, steps=2, device="cpu")

    if entry == "symusic (raw)":
        return lambda path: symusic.Score.from_midi(Path(path).read_bytes()).to("second")
    if entry == "tokenize":
        from symbolic.data.pipeline import tokenize_bytes
        from symbolic.representations import tokens

        tok = tokens.load("remi")
        return lambda path: tokenize_bytes(tok, Path(path).read_bytes(), path)
    if entry.startswith("encode "):
        import importlib

        rep = importlib.import_module(f"symbolic.representations.{entry.split()[1]}")
        kw = {"melody": None} if entry.endswith("leadsheet") else {}
        return lambda path: rep.encode(load(path), source=path, **kw)
    return {"load": lambda p: load(p).to("second").dumps_midi(), "info": info,
            "render": render, "infill": infill, "compose": compose}[entry]


def worker(entry: str, folder: str, start: int, stop: int, limit_mb: int) -> None:
    """Run ``entry`` on inputs ``start .. stop - 1`` of ``folder``; one line per input on
    stdout: ``start I`` then ``end I SECONDS PEAK_KB OUTCOME``."""
    import torch

    torch.set_num_threads(1)
    import symbolic

    run = _runner(entry, folder)
    warm = Path(folder) / ("warm.txt" if entry == "compose" else "warm.mid")
    try:
        run(str(warm))  # imports, models and tables loaded before the first measure
    except Exception:
        pass
    soft = _status(os.getpid(), "VmSize") * 1024 + 2 * limit_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (soft, resource.RLIM_INFINITY))
    names = sorted(os.listdir(folder))
    paths = {int(n.split(".")[0]): n for n in names if n[0].isdigit()}
    parent = os.getppid()
    for i in range(start, stop):
        if os.getppid() != parent:  # the benchmark is gone: do not run on as an orphan
            return
        print("start", i, flush=True)
        level = _reset_peaks()
        t0 = time.perf_counter()
        try:
            run(str(Path(folder) / paths[i]))
            outcome = "ok"
        except symbolic.SymbolicError as e:
            outcome = "SymbolicError " + type(e).__name__
        except BaseException as e:  # noqa: B902 - counting every kind is the point
            outcome = f"other {type(e).__name__}: {str(e)[:200]}".replace("\n", " ")
        dt = time.perf_counter() - t0
        print("end", i, f"{dt:.3f}", _peak_growth_kb(level), outcome, flush=True)
    print("done", flush=True)


# ---------------------------------------------------------------- the parent


class Tally:
    """Outcomes of one entry point."""

    def __init__(self):
        self.counts = collections.Counter()
        self.peak_mb = 0.0
        self.seconds = 0.0
        self.examples: dict = {}

    def add(self, kind: str, detail: str, name: str, seconds: float = 0.0, peak_mb=0.0):
        self.counts[kind] += 1
        self.peak_mb = max(self.peak_mb, peak_mb)
        self.seconds = max(self.seconds, seconds)
        self.examples.setdefault(f"{kind}: {detail}", name)


def _classify(outcome: str, seconds: float, peak_mb: float, bounds) -> tuple[str, str]:
    if peak_mb > bounds.memory_mb or seconds > bounds.timeout:
        return "over bound", f"{peak_mb:.0f} MB, {seconds:.1f} s"
    if outcome == "ok":
        return "ok", ""
    kind, _, detail = outcome.partition(" ")
    return ("SymbolicError" if kind == "SymbolicError" else "other"), detail


def run_entry(entry: str, folder: str, names: list, bounds) -> Tally:
    """Feed inputs ``0 .. len(names) - 1`` of ``folder`` to ``entry`` in worker processes,
    restarted after a crash or a timeout."""
    tally, start = Tally(), 0
    while start < len(names):
        proc = subprocess.Popen([sys.executable, __file__, "--worker", entry, folder,
                                 str(start), str(len(names)), str(bounds.memory_mb)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                start_new_session=True)
        current, deadline = None, None
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([proc.stdout], [], [], wait)[0]:  # over the time bound
                os.killpg(proc.pid, 9)
                proc.wait()
                tally.add("over bound", f"over {bounds.timeout:g} s", names[current],
                          bounds.timeout)
                start = current + 1
                break
            line = proc.stdout.readline()
            if not line:  # the worker died
                code = proc.wait()
                if current is None:
                    raise RuntimeError(f"the {entry} worker failed (exit {code}) at start")
                tally.add("crash", f"signal {-code}" if code < 0 else f"exit {code}",
                          names[current])
                start = current + 1
                break
            word, *rest = line.rstrip("\n").split(" ", 4)
            if word == "start":
                current, deadline = int(rest[0]), time.monotonic() + bounds.timeout
            elif word == "end":
                seconds, peak_mb = float(rest[1]), int(rest[2]) / 1024
                kind, detail = _classify(rest[3], seconds, peak_mb, bounds)
                tally.add(kind, detail, names[current], seconds, peak_mb)
                current, deadline = None, None
            elif word == "done":
                proc.wait()
                return tally
    return tally


def corpus(n_random: int, n_pop909: int, bomb_bytes: int) -> list[tuple[str, bytes, str]]:
    """``(name, bytes, suffix)`` of every input (see the module docstring)."""
    from symbolic.data import data_root
    from symbolic.fuzz import broken_midi_corpus, crafted_inputs, mutate

    inputs = [(n, d, ".mid") for n, d in broken_midi_corpus(n_random=n_random)]
    rng = random.Random(0)
    for i in range(1, n_pop909 + 1):
        path = data_root() / "pop909" / f"{i:03d}" / f"{i:03d}.mid"
        if path.is_file():
            data = path.read_bytes()
            for _ in range(150):
                how, damaged = mutate(data, rng)
                inputs.append((f"pop909/{i:03d} {how}", damaged, ".mid"))
    CRAFTED[:] = crafted_inputs(bomb_bytes)
    return CRAFTED + inputs


def inputs_of(entry: str, inputs: list, n_model: int) -> list[tuple[str, bytes, str]]:
    """The inputs ``entry`` gets: compose takes chord progressions, the model entry points a
    sample, the raw reference MIDI only."""
    n_crafted = len(CRAFTED)
    generated = inputs[n_crafted:]
    sample = generated[::max(1, len(generated) // max(1, n_model))][:n_model]  # spread out
    if entry == "compose":
        texts = [repr(c) for c in BROKEN_CHORDS]
        texts += [repr(d[:200].decode("latin-1")) for _, d, _ in sample]
        return [(f"chords {t[:40]}", t.encode("utf-8"), ".txt") for t in texts]
    if entry == "infill":
        return CRAFTED + sample
    if entry == "symusic (raw)":
        return [x for x in inputs if x[2] == ".mid" and "bomb" not in x[0]]
    return inputs


def write_inputs(folder: Path, inputs: list) -> list[str]:
    for old in folder.iterdir():
        old.unlink()
    from symbolic.fuzz import seed_midi

    (folder / "warm.mid").write_bytes(seed_midi())
    (folder / "warm.txt").write_text(repr("C G Am F"))
    for i, (_, data, suffix) in enumerate(inputs):
        (folder / f"{i}{suffix}").write_bytes(data)
    return [name for name, _, _ in inputs]


def print_table(rows: list, bounds) -> int:
    cols = ("inputs", "ok", "SymbolicError", "other", "crash", "over bound")
    print(f"\n{'entry point':<18}" + "".join(f"{c:>14}" for c in cols)
          + f"{'peak MB max':>13}{'s max':>8}")
    bad = 0
    for entry, t in rows:
        n = sum(t.counts.values())
        print(f"{entry:<18}{n:>14}" + "".join(f"{t.counts[c]:>14}" for c in cols[1:])
              + f"{t.peak_mb:>13.1f}{t.seconds:>8.2f}")
        if entry != "symusic (raw)":
            bad += t.counts["other"] + t.counts["crash"] + t.counts["over bound"]
    print(f"bounds: {bounds.memory_mb} MB peak RSS growth per input (worker and its children), "
          f"{bounds.timeout:g} s per input; 'symusic (raw)' is the unprotected parser, for "
          "reference, not counted")
    return bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--random", type=int, default=60, help="random damages of the seed piece")
    ap.add_argument("--pop909", type=int, default=0, help="POP909 songs to damage (150 each)")
    ap.add_argument("--model-inputs", type=int, default=24,
                    help="corpus inputs for infill and compose (besides the crafted ones)")
    ap.add_argument("--entries", default=",".join(ENTRIES), help="comma-separated subset")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per input")
    ap.add_argument("--memory-mb", type=int, default=1024, help="peak RSS growth per input")
    ap.add_argument("--bomb-mb", type=int, default=1024, help="unpacked size of the .mxl bomb")
    ap.add_argument("--verbose", action="store_true", help="list one input per outcome")
    args = ap.parse_args(argv)
    entries = [e.strip() for e in args.entries.split(",") if e.strip()]
    unknown = [e for e in entries if e not in ENTRIES]
    if unknown or min(args.random, args.pop909, args.model_inputs) < 0 or args.timeout <= 0 \
            or args.memory_mb <= 0 or args.bomb_mb <= 0:
        ap.error(f"bad option values (entry points: {', '.join(ENTRIES)})")
    start = time.perf_counter()
    inputs = corpus(args.random, args.pop909, args.bomb_mb << 20)
    print(f"{len(inputs)} inputs ({len(inputs) - len(CRAFTED)} generated broken MIDI, "
          f"{len(CRAFTED)} crafted); "
          f"entry points: {', '.join(entries)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        for entry in entries:
            mine = inputs_of(entry, inputs, args.model_inputs)
            tally = run_entry(entry, tmp, write_inputs(Path(tmp), mine), args)
            rows.append((entry, tally))
            print(f"  {entry}: {dict(tally.counts)} ({time.perf_counter() - start:.0f} s)",
                  flush=True)
            for what, name in tally.examples.items():
                quiet = entry == "symusic (raw)" or what.startswith(("ok", "SymbolicError"))
                if args.verbose or not quiet:  # the raw parser's complaints are expected
                    print(f"    {what[:150]}  <- {name}")
    bad = print_table(rows, args)
    print(f"{time.perf_counter() - start:.0f} s in all")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    else:
        sys.exit(main())
