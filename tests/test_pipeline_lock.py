"""One tokenize run per output folder: a second run, from another process, is refused at once
and leaves the first run's files alone."""

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
