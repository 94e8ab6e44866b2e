"""Every ``symbolic`` command with bad arguments: one line ``error: ...``, never a traceback.

Runs each case (command x bad argument: bar ranges backwards or not numbers, sampling values out
of range, ``--device cuda`` without CUDA, unknown models, missing files, directories, empty and
text files named ``.mid``, unwritable outputs, ...) in a child process and prints a table:
command, case, exit status (expected), whether a traceback appeared, the error line. Usage
errors (a bad option value, a chord label in ``--chords``) must exit with 2, bad input (a file
that is missing or unreadable, an output that cannot be written, a track or model the command
does not know) with 1.

Each case runs in a process forked from this one after the imports (a second or so instead of
two and a half per case); ``--exec`` runs ``python -m symbolic`` for each instead, exactly as a
shell would. Exits with 1 when any case printed a traceback, exited 0 or with another status
than expected, or ran past the time limit.

    python benchmarks/cli_misuse.py [--exec] [--only infill] [--timeout 120]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

USAGE, BAD_INPUT = 2, 1


def make_fixtures(root: Path) -> dict:
    """Tiny real inputs and bad ones under ``root``; returns name -> path (str)."""
    import symusic

    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    for name, program, pitches in (("MELODY", 0, (72, 74, 76, 77)), ("BRIDGE", 0, (64, 65)),
                                   ("PIANO", 0, (48, 55, 60))):
        track = symusic.Track(name, program)
        for bar in range(4):
            for i, pitch in enumerate(pitches):
                track.notes.append(symusic.Note(bar * 1920 + i * 480, 400, pitch, 80))
        score.tracks.append(track)
    paths = {"tiny": root / "tiny.mid", "empty": root / "empty.mid", "text": root / "text.mid",
             "dir": root / "folder.mid", "abc": root / "tune.abc", "missing": root / "missing.mid",
             "emptydir": root / "emptydir", "out": root / "out"}
    score.dump_midi(paths["tiny"])
    paths["empty"].write_bytes(b"")
    paths["text"].write_text("this is not a MIDI file\n")
    paths["dir"].mkdir()
    paths["emptydir"].mkdir()
    paths["out"].mkdir()
    paths["abc"].write_text("X:1\nT:One\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n")
    return {k: str(v) for k, v in paths.items()}


def cases(f: dict) -> list[tuple[str, str, list[str], int]]:
    """(command, case, argv, expected exit status) for every misuse."""
    o = f["out"]
    inf = ["infill", f["tiny"], "--tracks", "piano", "--quiet", "--steps", "1", "-o",
           f"{o}/i.mid"]
    comp = ["compose", "--chords", "C G", "--quiet", "--steps", "1", "-o", f"{o}/c.mid"]
    ren = ["render", f["tiny"], f"{o}/r.wav"]
    mel = ["melodize", "--chords", "C G Am F", "-o", f"{o}/m.mid"]
    dev = ["develop-theme", f["tiny"], "-o", f"{o}/dev.mid"]
    har = ["harmonize", "corpus:bach/bwv38.6", "--track", "Soprano", "--quiet", "--steps", "1",
           "-o", f"{o}/h.musicxml"]
    sim = ["harmony-embed", "similar", "C:maj"]
    h2v = ["train", "harmony2vec", "--out", f"{o}/h2v", "--steps", "1"]
    hr = ["train", "hrnn", "--out", f"{o}/hr", "--steps", "1"]
    gd = ["train", "getdiff", "--out", f"{o}/gd", "--steps", "50"]
    rave = ["train", "rave", "--out", f"{o}/rave", "--steps", "1"]
    tok = ["tokenize", f["dir"], f"{o}/tok", "--no-progress"]
    demo = ["demo", "--steps", "1", "--out", f"{o}/demo"]
    U, B = USAGE, BAD_INPUT
    return [
        ("symbolic", "no command", [], U),
        ("symbolic", "unknown command", ["nope"], U),
        ("info", "no file", ["info"], U),
        ("info", "missing file", ["info", f["missing"]], B),
        ("info", "directory", ["info", f["dir"]], B),
        ("info", "empty file", ["info", f["empty"]], B),
        ("info", "text file named .mid", ["info", f["text"]], B),
        ("info", "unknown corpus piece", ["info", "corpus:no/such/piece"], B),
        ("info", "ABC tune 99 of 1", ["info", f["abc"], "--tune", "99"], B),
        ("convert", "missing input", ["convert", f["missing"], f"{o}/x.mid"], B),
        ("convert", "directory input", ["convert", f["dir"], f"{o}/x.mid"], B),
        ("convert", "text file named .mid", ["convert", f["text"], f"{o}/x.mid"], B),
        ("convert", "-> /proc/x.mid", ["convert", f["tiny"], "/proc/x.mid"], B),
        ("convert", "-> inside a file", ["convert", f["tiny"], f"{f['tiny']}/x.mid"], B),
        ("convert", "-> a directory", ["convert", f["tiny"], f["emptydir"]], B),
        ("convert", "-> unknown suffix", ["convert", f["tiny"], f"{o}/x.xyz"], B),
        ("harmonize", "missing melody", ["harmonize", f["missing"]], B),
        ("harmonize", "text file named .mid", ["harmonize", f["text"]], B),
        ("harmonize", "--style jazz", [*har, "--style", "jazz"], U),
        ("harmonize", "--track 9 (4 tracks)", [*har[:2], "--track", "9", *har[4:]], U),
        ("harmonize", "--track Viola", [*har[:2], "--track", "Viola", *har[4:]], U),
        ("harmonize", "--steps 0", [*har, "--steps", "0"], U),
        ("harmonize", "--pulse fast", [*har, "--pulse", "fast"], U),
        ("harmonize", "--pulse 0", [*har, "--pulse", "0"], U),
        ("harmonize", "--resample -1", [*har, "--resample", "-1"], U),
        ("harmonize", "--model band (no voices)", [*har, "--model", "band"], U),
        ("harmonize", "--reduction --style band", [*har, "--reduction", "--style", "band"], U),
        ("harmonize", "-o /proc/x.musicxml", [*har[:-1], "/proc/x.musicxml"], B),
        ("inpaint", "missing file", ["inpaint", f["missing"], "--bars", "1-2"], B),
        ("inpaint", "--bars 4-1", ["inpaint", f["tiny"], "--bars", "4-1"], U),
        ("inpaint", "--pitches 90-20", ["inpaint", f["tiny"], "--bars", "1", "--pitches",
                                        "90-20"], U),
        ("inpaint", "--steps 0", ["inpaint", f["tiny"], "--bars", "1", "--steps", "0"], U),
        ("inpaint", "--resample 0", ["inpaint", f["tiny"], "--bars", "1", "--resample", "0"],
         U),
        ("inpaint", "--meter x/y", ["inpaint", f["tiny"], "--bars", "1", "--meter", "x/y"], U),
        ("inpaint", "--model missing folder", ["inpaint", f["tiny"], "--bars", "1", "--model",
                                               f["missing"] + "/m"], B),
        ("inpaint", "-o /proc/x.mid", ["inpaint", f["tiny"], "--bars", "1", "-o",
                                       "/proc/x.mid"], B),
        ("find-themes", "missing file", ["find-themes", f["missing"]], B),
        ("find-themes", "--eps 0", ["find-themes", f["tiny"], "--eps", "0"], U),
        ("find-themes", "--melody 99", ["find-themes", f["tiny"], "--melody", "99"], U),
        ("find-themes", "--meter 0/4", ["find-themes", f["tiny"], "--meter", "0/4"], U),
        ("develop-theme", "missing file", [*dev[:1], f["missing"], *dev[2:]], B),
        ("develop-theme", "--bars 0", [*dev, "--bars", "0"], U),
        ("develop-theme", "--seed -1", [*dev, "--seed", "-1"], U),
        ("develop-theme", "--theme-bars 5-2", [*dev, "--theme-bars", "5-2"], U),
        ("develop-theme", "--model missing folder", [*dev, "--model", f["missing"] + "/m"], B),
        ("develop-theme", "-o /proc/x.mid", [*dev[:-1], "/proc/x.mid"], B),
        ("infill", "--bars 16-9", [*inf, "--bars", "16-9"], U),
        ("infill", "--bars abc", [*inf, "--bars", "abc"], U),
        ("infill", "--bars 0-2", [*inf, "--bars", "0-2"], U),
        ("infill", "--bars 1-99999", [*inf, "--bars", "1-99999"], U),
        ("infill", "--bars 900-901 (4-bar file)", [*inf, "--bars", "900-901"], U),
        ("infill", "--top-p 0", [*inf, "--top-p", "0"], U),
        ("infill", "--top-p 1.5", [*inf, "--top-p", "1.5"], U),
        ("infill", "--top-p abc", [*inf, "--top-p", "abc"], U),
        ("infill", "--temperature -1", [*inf, "--temperature", "-1"], U),
        ("infill", "--temperature nan", [*inf, "--temperature", "nan"], U),
        ("infill", "--steps 0", [*inf, "--steps", "0"], U),
        ("infill", "--steps 1.5", [*inf, "--steps", "1.5"], U),
        ("infill", "--steps 10^9", [*inf, "--steps", "1000000000"], U),
        ("infill", "--guidance -1", [*inf, "--guidance", "-1"], U),
        ("infill", "--seed -1", [*inf, "--seed", "-1"], U),
        ("infill", "--device cuda (no CUDA)", [*inf, "--device", "cuda"], U),
        ("infill", "--device tpu9", [*inf, "--device", "tpu9"], U),
        ("infill", "--order best", [*inf, "--order", "best"], U),
        ("infill", "--tracks drums", [*inf, "--tracks", "drums"], B),
        ("infill", "--tracks , (none)", [*inf[:2], "--tracks", ",", *inf[4:]], U),
        ("infill", "--region piano", [*inf, "--region", "piano"], U),
        ("infill", "--region piano:9-2", [*inf, "--region", "piano:9-2"], U),
        ("infill", "--map Guitar (no =)", [*inf, "--map", "Guitar"], U),
        ("infill", "--chords 'H G'", [*inf, "--chords", "H G"], U),
        ("infill", "--model missing folder", [*inf, "--model", f["missing"] + "/m"], B),
        ("infill", "--model empty folder", [*inf, "--model", f["emptydir"]], B),
        ("infill", "--model unknown name", [*inf, "--model", "no-such-model"], B),
        ("infill", "missing input", ["infill", f["missing"], "--quiet"], B),
        ("infill", "empty input", ["infill", f["empty"], "--quiet"], B),
        ("infill", "-o /proc/x.mid", [*inf[:-2], "-o", "/proc/x.mid"], B),
        ("infill", "--wav --sample-rate 0", [*inf, "--wav", f"{o}/i.wav", "--sample-rate", "0"], U),
        ("compose", "--chords ''", ["compose", "--chords", "", "--quiet", "-o", f"{o}/c.mid"], U),
        ("compose", "--chords '| |'", ["compose", "--chords", "| |", "--quiet"], U),
        ("compose", "--chords 'H G'", ["compose", "--chords", "H G", "--quiet"], U),
        ("compose", "no --chords", ["compose", "--quiet"], U),
        ("compose", "--time-signature 3/0", [*comp, "--time-signature", "3/0"], U),
        ("compose", "--time-signature 5/3", [*comp, "--time-signature", "5/3"], U),
        ("compose", "--time-signature abc", [*comp, "--time-signature", "abc"], U),
        ("compose", "--tempo 0", [*comp, "--tempo", "0"], U),
        ("compose", "--tempo -50", [*comp, "--tempo", "-50"], U),
        ("compose", "--tempo inf", [*comp, "--tempo", "inf"], U),
        ("compose", "--bars 0", [*comp, "--bars", "0"], U),
        ("compose", "--bars 10^6", [*comp, "--bars", "1000000"], U),
        ("compose", "--bars 2.5", [*comp, "--bars", "2.5"], U),
        ("compose", "--tracks drums", [*comp, "--tracks", "drums"], B),
        ("compose", "--top-p 0", [*comp, "--top-p", "0"], U),
        ("compose", "--steps -3", [*comp, "--steps", "-3"], U),
        ("compose", "--device cuda (no CUDA)", [*comp, "--device", "cuda"], U),
        ("compose", "-o /proc/x.mid", [*comp[:-2], "-o", "/proc/x.mid"], B),
        ("compose", "-o a directory", [*comp[:-2], "-o", f["emptydir"]], B),
        ("compose", "-o x.txt", [*comp[:-2], "-o", f"{o}/c.txt"], B),
        ("compose", "--png /proc/x.png", [*comp, "--png", "/proc/x.png"], B),
        ("demo", "--bars 0", [*demo, "--bars", "0"], U),
        ("demo", "--infill-bars 5-2", [*demo, "--infill-bars", "5-2"], U),
        ("demo", "--infill-bars 20-24 (16 bars)", [*demo, "--infill-bars", "20-24"], U),
        ("demo", "--infill-track drums", [*demo, "--infill-track", "drums"], B),
        ("demo", "--steps 0", [*demo, "--steps", "0"], U),
        ("demo", "--chords ''", [*demo, "--chords", ""], U),
        ("demo", "--out /proc/x", [*demo[:-2], "--bars", "4", "--infill-bars", "1-2", "--out",
                                   "/proc/x"], B),
        ("render", "missing input", ["render", f["missing"], f"{o}/r.wav"], B),
        ("render", "text file named .mid", ["render", f["text"], f"{o}/r.wav"], B),
        ("render", "-> /proc/x.wav", ["render", f["tiny"], "/proc/x.wav"], B),
        ("render", "-> a directory", ["render", f["tiny"], f["emptydir"]], B),
        ("render", "--sample-rate 0", [*ren, "--sample-rate", "0"], U),
        ("render", "--sample-rate -5", [*ren, "--sample-rate", "-5"], U),
        ("render", "--sample-rate 10^9", [*ren, "--sample-rate", "1000000000"], U),
        ("render", "--channels 3", [*ren, "--channels", "3"], U),
        ("render", "--backend midi", [*ren, "--backend", "midi"], U),
        ("render", "--soundfont missing", [*ren, "--backend", "soundfont", "--soundfont",
                                           f["missing"] + ".sf2"], B),
        ("render", "--soundfont a text file", [*ren, "--backend", "soundfont", "--soundfont",
                                               f["text"]], B),
        ("render", "--device cuda (no CUDA)", [*ren, "--device", "cuda"], U),
        ("render", "--seed -1", [*ren, "--seed", "-1"], U),
        ("train rave", "--steps 0", [*rave[:-2], "--steps", "0"], U),
        ("train rave", "--steps -1", [*rave[:-2], "--steps", "-1"], U),
        ("train rave", "--sources nosuch", [*rave, "--sources", "nosuch"], U),
        ("train rave", "--sources pop909:abc", [*rave, "--sources", "pop909:abc"], U),
        ("train rave", "--batch-size 0", [*rave, "--batch-size", "0"], U),
        ("train rave", "--stage 2, no stage-1 codec", [*rave, "--stage", "2"], B),
        ("codec train", "--max-seconds -1",
         ["codec", "train", *rave[2:], "--max-seconds", "-1"], U),
        ("tokenize", "missing source", ["tokenize", f["missing"], f"{o}/tok"], B),
        ("tokenize", "--workers 0", [*tok, "--workers", "0"], U),
        ("tokenize", "--shard-size 0", [*tok, "--shard-size", "0"], U),
        ("tokenize", "--limit -1", [*tok, "--limit", "-1"], U),
        ("tokenize", "--timeout -1", [*tok, "--timeout", "-1"], U),
        ("tokenize", "--tokenizer nosuch", [*tok, "--tokenizer", "nosuch"], B),
        ("tokenize", "--captions missing", [*tok, "--captions", f["missing"] + ".json"], B),
        ("tokenize", "OUT is a file", ["tokenize", f["dir"], f["tiny"], "--no-progress"], B),
        ("harmony-embed", "similar H:maj", ["harmony-embed", "similar", "H:maj"], B),
        ("harmony-embed", "similar --topn 0", [*sim, "--topn", "0"], U),
        ("harmony-embed", "similar --topn -1", [*sim, "--topn", "-1"], U),
        ("harmony-embed", "similar --topn 2.5", [*sim, "--topn", "2.5"], U),
        ("harmony-embed", "similar --among nothing", [*sim, "--among", "nothing"], U),
        ("harmony-embed", "similar 99999 (mask)", ["harmony-embed", "similar", "99999"], U),
        ("harmony-embed", "similar --model missing", [*sim, "--model", f["missing"] + "/m"], B),
        ("harmony-embed", "analogy with 2 items", ["harmony-embed", "analogy", "C:maj", "G:maj"],
         U),
        ("harmony-embed", "plot --out /proc/x", ["harmony-embed", "plot", "--out", "/proc/x"], B),
        ("train harmony2vec", "--steps 0", [*h2v[:-2], "--steps", "0"], U),
        ("train harmony2vec", "--dim -1", [*h2v, "--dim", "-1"], U),
        ("train harmony2vec", "--lr 0", [*h2v, "--lr", "0"], U),
        ("train harmony2vec", "--window 0", [*h2v, "--window", "0"], U),
        ("train harmony2vec", "--sources nosuch", [*h2v, "--sources", "nosuch"], U),
        ("train harmony2vec", "--sources pop909:abc", [*h2v, "--sources", "pop909:abc"], U),
        ("train harmony2vec", "--sources essen:-5", [*h2v, "--sources", "essen:-5"], U),
        ("train harmony2vec", "--resume, no --checkpoint-dir", [*h2v, "--resume"], U),
        ("melodize", "--chords ''", ["melodize", "--chords", "", "-o", f"{o}/m.mid"], U),
        ("melodize", "--chords 'H G'", ["melodize", "--chords", "H G", "-o", f"{o}/m.mid"], U),
        ("melodize", "no -o", ["melodize", "--chords", "C G"], U),
        ("melodize", "--bars 0", [*mel, "--bars", "0"], U),
        ("melodize", "--bars -1", [*mel, "--bars", "-1"], U),
        ("melodize", "--bars 10^6", [*mel, "--bars", "1000000"], U),
        ("melodize", "--temperature -1", [*mel, "--temperature", "-1"], U),
        ("melodize", "--duration-temperature -1", [*mel, "--duration-temperature", "-1"], U),
        ("melodize", "--top-p 0", [*mel, "--top-p", "0"], U),
        ("melodize", "--tempo 0", [*mel, "--tempo", "0"], U),
        ("melodize", "--seed -1", [*mel, "--seed", "-1"], U),
        ("melodize", "--model unknown name", [*mel, "--model", "no-such-model"], B),
        ("melodize", "--model missing folder", [*mel, "--model", f["missing"] + "/m"], B),
        ("melodize", "--opening missing", [*mel, "--opening", f["missing"]], B),
        ("melodize", "--opening text file", [*mel, "--opening", f["text"]], B),
        ("melodize", "--opening-bars 0", [*mel, "--opening", f["tiny"], "--opening-bars", "0"],
         U),
        ("melodize", "-o /proc/x.mid", ["melodize", "--chords", "C G", "-o", "/proc/x.mid"], B),
        ("melodize", "-o x.xyz", ["melodize", "--chords", "C G", "-o", f"{o}/m.xyz"], B),
        ("melodize", "--png /proc/x.png", [*mel, "--png", "/proc/x.png"], B),
        ("train hrnn", "--steps 0", [*hr[:-2], "--steps", "0"], U),
        ("train hrnn", "--batch 0", [*hr, "--batch", "0"], U),
        ("train hrnn", "--layers 0", [*hr, "--layers", "0"], U),
        ("train hrnn", "--dropout 1.5", [*hr, "--dropout", "1.5"], U),
        ("train hrnn", "--lr -1", [*hr, "--lr", "-1"], U),
        ("train hrnn", "--kind gru", [*hr, "--kind", "gru"], U),
        ("train hrnn", "--device cuda (no CUDA)", [*hr, "--device", "cuda"], U),
        ("train getdiff", "--steps 0", [*gd[:-2], "--steps", "0"], U),
        ("train getdiff", "--batch 0", [*gd, "--batch", "0"], U),
        ("train getdiff", "--dim 100 --heads 3", [*gd, "--dim", "100", "--heads", "3"], U),
        ("train getdiff", "--window-bars 0", [*gd, "--window-bars", "0"], U),
        ("train getdiff", "--lr -1", [*gd, "--lr", "-1"], U),
        ("train getdiff", "--stop-at 7", [*gd, "--stop-at", "7"], U),
        ("train getdiff", "--max-minutes -1", [*gd, "--max-minutes", "-1"], U),
        ("train getdiff", "--threads -2", [*gd, "--threads", "-2"], U),
        ("train", "unknown family", ["train", "gpt", "--out", f"{o}/x"], U),
    ]


def run_forked(argv: list[str], timeout: float) -> tuple[int | None, str]:
    """Exit status (None: killed at ``timeout``) and stderr of ``symbolic ARGV`` run in a
    child forked from this process, as the console script runs it."""
    from symbolic.cli import main

    with tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # child: the console entry point, stdout discarded
            code = 1
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = open(1, "w", closefd=False)
                sys.stderr = open(2, "w", closefd=False)
                code = main(argv)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                sys.stdout.flush()
                os._exit(code)
        status = _wait(pid, timeout)
        err.seek(0)
        return status, err.read().decode(errors="replace")


def _wait(pid: int, timeout: float) -> int | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None


def run_exec(argv: list[str], timeout: float) -> tuple[int | None, str]:
    """The same through ``python -m symbolic`` in a fresh interpreter."""
    try:
        r = subprocess.run([sys.executable, "-m", "symbolic", *argv], capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode(errors="replace")
    return r.returncode, r.stderr


def error_line(stderr: str) -> str:
    """The line that says what went wrong: argparse's ``prog: error: ...``, our
    ``error: ...``, or the last line of a traceback."""
    lines = [x for x in stderr.splitlines() if x.strip()]
    for line in lines:
        if line.startswith("error:") or ": error:" in line:
            return line
    return lines[-1] if lines else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--exec", action="store_true", help="python -m symbolic per case")
    ap.add_argument("--only", default=None, help="only cases whose command starts with this")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.exec:
        import symbolic.cli  # noqa: F401  (the imports every forked child shares)
        import torch  # noqa: F401
    run = run_exec if args.exec else run_forked
    rows, start = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        fixtures = make_fixtures(Path(tmp))
        for command, case, argv, expected in cases(fixtures):
            if args.only and not command.startswith(args.only):
                continue
            shutil.rmtree(fixtures["out"])  # each case starts with an empty output folder
            os.mkdir(fixtures["out"])
            t0 = time.perf_counter()
            status, stderr = run(argv, args.timeout)
            rows.append((command, case, status, expected, "Traceback (most recent" in stderr,
                         error_line(stderr).replace(tmp, "TMP"), time.perf_counter() - t0))
    return report(rows, time.perf_counter() - start)


def report(rows, seconds: float) -> int:
    print(f"{'command':<18} {'case':<32} {'exit':>4} {'want':>4} {'tb':>3} {'s':>5}  error line")
    bad = 0
    for command, case, status, expected, tb, line, t in rows:
        ok = status == expected and not tb
        bad += not ok
        print(f"{command:<18} {case:<32} {str(status):>4} {expected:>4} {'TB' if tb else '-':>3} "
              f"{t:5.1f}  {'' if ok else '!! '}{line[:110]}")
    tracebacks = sum(r[4] for r in rows)
    wrong = sum(r[2] != r[3] for r in rows)
    accepted = sum(r[2] == 0 for r in rows)
    print(f"\n{len(rows)} cases in {seconds:.0f} s: {len(rows) - bad} as expected, "
          f"{tracebacks} tracebacks, {wrong} with another exit status than expected "
          f"({accepted} exited 0, {sum(r[2] is None for r in rows)} timed out)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
