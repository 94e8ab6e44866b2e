"""A tokenize run owns its output folder and its processes, and loses nothing to what happens
around it: a second run on the same folder is refused at once and leaves the first run's files
alone; a run killed with SIGKILL or SIGTERM leaves no worker or parser process behind; a parser
process killed from outside costs no file; inputs quarantined because a process died on them
are retried on resume; a full disk stops the run with one line, and the same command resumes it
once there is room."""

import glob
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symbolic.data import pipeline
from symbolic.errors import RunInProgressError

REPO = Path(__file__).resolve().parents[1]


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


def _descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        kids = _children(todo.pop()) - out
        out |= kids
        todo += kids
    return out


def _is_parser(pid: int) -> bool:
    try:
        return b"symbolic.sandbox" in open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_run_leaves_no_process_behind(tmp_path, pop909_root, sig):
    run = subprocess.Popen([sys.executable, "-m", "symbolic", "tokenize", str(pop909_root),
                            str(tmp_path / "out"), "--workers", "2", "--no-progress"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, workers, parsers = time.time() + 60, set(), set()
    while time.time() < deadline and not (len(workers) >= 2 and parsers):
        time.sleep(0.1)
        workers = _children(run.pid)
        parsers = set().union(*map(_children, workers)) if workers else set()
    assert len(workers) >= 2 and parsers, "the run did not start its workers and parsers"
    run.send_signal(sig)
    run.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(map(_alive, workers | parsers)):
        time.sleep(0.1)
    left = [p for p in workers | parsers if _alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"{len(left)} processes outlived the killed run"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")
def test_a_parser_killed_from_outside_costs_no_file(tmp_path, pop909_root):
    """Each parser process the run starts is frozen (SIGSTOP: the file sent to it stays in
    flight), then killed (SIGKILL), three times in a row: the file it held is parsed again in a
    fresh one and ends up tokenized, like every other."""
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "symbolic", "tokenize", str(pop909_root),
                            str(out), "--workers", "1", "--limit", "12", "--shard-size", "4",
                            "--no-progress", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed, deadline = [], time.time() + 60
    try:
        while len(killed) < 3 and time.time() < deadline and run.poll() is None:
            parsers = {p for p in _descendants(run.pid) if _is_parser(p)} - set(killed)
            for pid in parsers:
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.3)  # the worker sends its next file and waits for the answer
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.002)
        stdout, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
    assert len(killed) == 3, "the test did not catch three parser processes"
    assert run.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["rows"] == summary["inputs"] == 12 and summary["rejected"] == 0
    assert (out / "quarantine.jsonl").read_text() == ""


def test_resume_retries_inputs_quarantined_for_a_dying_parser(tmp_path, pop909_root,
                                                              monkeypatch):
    """A file quarantined because its parser crashed or was killed is tried again on resume:
    quarantined again (one line, not two) while it fails, a row once it loads, and the shard
    it belongs to then equals a clean run's."""
    from symbolic import sandbox
    from symbolic.data import shards as S
    from test_sandbox_kills import dying_worker

    files = [str(pop909_root / f"{n:03d}" / f"{n:03d}.mid") for n in range(1, 9)]
    out = tmp_path / "out"

    def run(sig=None, times=0):
        if sig is not None:  # the sandboxes of the run's (forked) worker die first
            dying_worker(tmp_path, monkeypatch, sig, times)
        try:
            return pipeline.tokenize(files, out, workers=1, shard_size=4, start_method="fork",
                                     progress=False)
        finally:
            monkeypatch.undo()
            sandbox.shutdown()

    first = run(signal.SIGSEGV, 2)  # the first file crashes its parser twice
    [line] = S.read_quarantine(out)
    assert line["index"] == 0 and line["reason"].startswith(sandbox.CRASHED)
    assert first.rows == 7 and first.retried == 0
    before = (out / "data" / "shard-00001.parquet").stat().st_mtime_ns
    second = run(signal.SIGKILL, sandbox.KILL_RETRIES + 1)  # retried, killed every time
    [line] = S.read_quarantine(out)
    assert line["index"] == 0 and line["reason"].startswith(sandbox.KILLED)
    assert second.retried == 1 and second.resumed == 7 and second.rows == 7
    assert (out / "data" / "shard-00000.parquet").is_file()  # no new row: not rewritten
    third = run()
    assert third.retried == 1 and third.rows == third.inputs == 8 and third.rejected == 0
    assert S.read_quarantine(out) == [] and (out / "quarantine.jsonl").read_text() == ""
    assert sorted(p.name for p in (out / "data").iterdir()) == \
        ["shard-00000-1.parquet", "shard-00001.parquet"]  # old file gone, shard 1 untouched
    assert (out / "data" / "shard-00001.parquet").stat().st_mtime_ns == before
    clean = pipeline.tokenize(files, tmp_path / "clean", workers=1, shard_size=4,
                              progress=False)
    assert S.read_table(out).equals(S.read_table(tmp_path / "clean"))
    assert clean.tokens == third.tokens


def _tokenize_cmd(src, out) -> str:
    return (f"{shlex.quote(sys.executable)} -m symbolic tokenize {shlex.quote(str(src))} "
            f"{shlex.quote(str(out))} --limit 30 --shard-size 2 --workers 1 --no-progress")


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux)")
def test_a_full_disk_stops_the_run_in_one_line_and_resume_loses_nothing(tmp_path, pop909_root):
    """OUT on a 512 kB tmpfs (mounted in a private user and mount namespace, no privileges
    needed) that a ballast file fills: the run stops with one ``error:`` line naming the disk,
    the shards it finished are whole; once the ballast is gone the same command finishes
    the rest, each input once."""
    from symbolic.data import shards as S

    disk, out = tmp_path / "disk", tmp_path / "disk" / "out"
    disk.mkdir()
    q = shlex.quote
    script = "\n".join([
        f"mount -t tmpfs -o size=512k tmpfs {q(str(disk))} || exit 97",
        f"fallocate -l 380k {q(str(disk / 'ballast'))} || exit 97",
        f"{_tokenize_cmd(pop909_root, out)} 2> {q(str(tmp_path / 'full.err'))}",
        f"echo $? > {q(str(tmp_path / 'full.rc'))}",
        f"cp -r {q(str(out))} {q(str(tmp_path / 'after_full'))}",
        f"rm {q(str(disk / 'ballast'))}",
        f"{_tokenize_cmd(pop909_root, out)} > /dev/null || exit 98",
        f"cp -r {q(str(out))} {q(str(tmp_path / 'final'))}"])
    r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                       cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                       capture_output=True, text=True, timeout=300)
    if r.returncode == 97 or "unshare failed" in r.stderr:
        pytest.skip(f"no private tmpfs here: {r.stderr.strip()[:200]}")
    assert r.returncode == 0, r.stderr
    err = (tmp_path / "full.err").read_text().splitlines()
    assert (tmp_path / "full.rc").read_text().strip() == "1"
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert f"tmpfs mounted at {disk} is full" in err[0] and "run the same command again" in err[0]
    kept = S.read_manifest(tmp_path / "after_full")["shards"]
    assert 0 < len(kept) < 15, "the disk did not fill up part-way"
    assert not list((tmp_path / "after_full").rglob(".*.tmp"))  # failed writes cleaned up
    final = tmp_path / "final"
    assert S.read_table(final).column("index").to_pylist() == list(range(30))
    assert S.read_quarantine(final) == []
    for record in kept.values():  # the finished shards were whole and are kept as they were
        assert (final / record["file"]).read_bytes() == \
            (tmp_path / "after_full" / record["file"]).read_bytes()
