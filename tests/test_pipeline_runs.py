"""A tokenize run owns its output folder and its processes: a second run on the same folder is
refused at once and leaves the first run's files alone, and a run killed with SIGKILL leaves
no worker or parser process behind."""

import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from symbolic.data import pipeline
from symbolic.errors import RunInProgressError


def test_a_second_run_on_the_same_folder_is_refused(tmp_path, pop909_root):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from symbolic.data.pipeline import run_lock\n"
         "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
         str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        (out / "data").mkdir()
        tmp_shard = out / "data" / ".shard-00000.parquet.123.tmp"  # the first run's work
        tmp_shard.write_bytes(b"in progress")
        with pytest.raises(RunInProgressError, match=rf"another tokenize run \(pid {holder.pid}\)"):
            pipeline.tokenize([str(pop909_root / "001" / "001.mid")], out, workers=1,
                              progress=False)
        assert tmp_shard.read_bytes() == b"in progress"
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone (killed, not ended cleanly): its lock went with it
    summary = pipeline.tokenize([str(pop909_root / "001" / "001.mid")], out, workers=1,
                                progress=False)
    assert summary.rows == 1


def test_the_cli_says_so_in_one_line(tmp_path, pop909_root, capsys):
    from symbolic.cli import main

    out = tmp_path / "out"
    with pipeline.run_lock(out):
        start = time.perf_counter()
        code = main(["tokenize", str(pop909_root / "001"), str(out), "--workers", "1",
                     "--no-progress"])
        assert time.perf_counter() - start < 30
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("error: ")
    assert "another tokenize run" in err[0]


def _children(pid: int) -> set[int]:
    out = set()
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            out |= {int(x) for x in open(path).read().split()}
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")
def test_a_killed_run_leaves_no_process_behind(tmp_path, pop909_root):
    run = subprocess.Popen([sys.executable, "-m", "symbolic", "tokenize", str(pop909_root),
                            str(tmp_path / "out"), "--workers", "2", "--no-progress"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, workers, parsers = time.time() + 60, set(), set()
    while time.time() < deadline and not (len(workers) >= 2 and parsers):
        time.sleep(0.1)
        workers = _children(run.pid)
        parsers = set().union(*map(_children, workers)) if workers else set()
    assert len(workers) >= 2 and parsers, "the run did not start its workers and parsers"
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(map(_alive, workers | parsers)):
        time.sleep(0.1)
    left = [p for p in workers | parsers if _alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"{len(left)} processes outlived the killed run"
