"""Commands whose first step takes a while say so before it starts, then show a progress bar:
``symbolic demo`` (composing, then infilling) and ``symbolic codec train`` (reading and
rendering the training audio before the first step)."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "symbolic", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_demo_says_what_it_does_then_shows_its_steps(tmp_path):
    r = _run("demo", "--out", str(tmp_path), "--bars", "4", "--steps", "2",
             "--infill-bars", "2-3")
    assert r.returncode == 0, r.stderr
    first = r.stderr.splitlines()[0]
    assert first.startswith("composing 4 bars over ") and "regenerating piano in bars 2-3" in first
    assert "2 sampling steps per window" in first and "about" in first
    assert "generating: 100%" in r.stderr  # the sampling steps' bar, after the line
    assert "regenerated piano in bars 2-3" in r.stdout


def test_codec_training_announces_the_audio_it_renders_first(tmp_path):
    r = _run("codec", "train", "--out", str(tmp_path), "--steps", "1", "--size", "small",
             "--sources", "bach_chorales:2", "--max-seconds", "2", "--crop-frames", "16",
             "--batch-size", "2", "--device", "cpu")
    assert r.returncode == 0, r.stderr
    notice = next(line for line in r.stderr.splitlines() if "before the first step" in line)
    assert "(2 of bach_chorales) and 2 held-out ones, up to 2 s of audio each" in notice
    assert "at most about" in notice
    # said before the rendering starts, whose bar follows it
    assert r.stderr.index(notice) < r.stderr.index("render:")
