"""Rendering in blocks: the blocks are the one-shot render, a file of any length is written in
bounded memory, and the in-memory API refuses what would take gigabytes."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import symusic
import torch

import symbolic
from conftest import skip_or_fail_in_ci
from symbolic.audio.dsp import read_wav
from symbolic.audio.notes import notes_from_scores
from symbolic.audio.rendering import render, render_to_file
from symbolic.audio.soundfont import fluidsynth_path, render_soundfont
from symbolic.audio.synth import FIXED_GAIN, PEAK, Synth
from symbolic.errors import ArgumentError, InputTooLargeError, OutputError


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    pass


def test_blocks_of_a_pop909_song_equal_the_one_shot_render(pop909_root, tmp_path):
    """Song 001 (4 min, piano with pedal, notes ringing over every boundary) in stereo at
    8 kHz: blocks of 12,345 samples (1.5 s, not a multiple of the 512-sample segment)
    concatenate to the one-shot render, and the file written block by block is the one-shot
    render written at once, to one step of 16-bit PCM."""
    score = symbolic.load(pop909_root / "001" / "001.mid")
    synth = Synth(8000, channels=2, device="cpu")
    notes = notes_from_scores(score)
    whole = synth.render(notes, normalize=False)[0] / FIXED_GAIN
    pieces = [b[0] for b in synth.blocks(notes, block=12_345)]
    assert len(pieces) == -(-whole.shape[1] // 12_345) and pieces[-1].shape[1] < 12_345
    joined = torch.cat(pieces, dim=1)
    assert joined.shape == whole.shape
    peak = float(whole.abs().max())
    assert peak > 0.5
    assert float((joined - whole).abs().max()) < 1e-5 * peak  # float rounding only
    out = render_to_file(score, tmp_path / "s.wav", 8000, channels=2, device="cpu",
                         block_seconds=12_345 / 8000)
    assert out.frames == whole.shape[1] and out.peak == pytest.approx(peak, rel=1e-5)
    wav, rate = read_wav(out.path)
    assert rate == 8000 and wav.shape == whole.shape
    assert float((wav - whole * (PEAK / peak)).abs().max()) <= 1.5 / 32768


def test_an_hour_renders_to_a_file_in_bounded_memory(tmp_path):
    """An hour of 22,050 Hz mono (79 M samples: 318 MB as one float32 array, more as the
    float64 and int16 copies a one-shot WAV write made) with a piano note held the whole hour,
    an organ minute ringing over two 30 s block boundaries and a last drum hit: the file
    grows the process's peak memory by under 100 MB (measured: 19 MB; rendering at once and
    writing the array: 896 MB)."""
    child = textwrap.dedent(f"""
        import re, sys, symusic, torch
        torch.set_num_threads(1)
        from symbolic.audio.rendering import render_to_file
        def score(notes):
            s = symusic.Score(480, ttype="second")
            for program, is_drum, onset, dur, pitch in notes:
                t = symusic.Track("t", program, is_drum, ttype="second")
                t.notes.append(symusic.Note(onset, dur, pitch, 90, "second"))
                s.tracks.append(t)
            return s
        def status(key):
            text = open("/proc/self/status").read()
            return int(re.search(key + r":\\s+(\\d+) kB", text).group(1))
        render_to_file(score([(0, False, 0.0, 1.0, 60)]), {str(tmp_path)!r} + "/warm.wav")
        open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) starts again here
        before = status("VmRSS")
        out = render_to_file(score([(0, False, 0.0, 3595.0, 60), (16, False, 1800.0, 60.0, 67),
                                    (0, True, 3598.0, 0.1, 38)]), {str(tmp_path)!r} + "/h.wav")
        print(out.frames, status("VmHWM") - before)
    """)
    run = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    frames, grown_kib = map(int, run.stdout.split())
    assert 3598 * 22050 < frames < 3600 * 22050
    assert grown_kib < 100_000, f"peak RSS grew by {grown_kib / 1024:.0f} MiB"
    import wave

    with wave.open(str(tmp_path / "h.wav"), "rb") as f:
        assert f.getnframes() == frames and f.getnchannels() == 1

        def rms(start_s, seconds=1.0):
            f.setpos(int(start_s * 22050))
            a = np.frombuffer(f.readframes(int(seconds * 22050)), "<i2") / 32768.0
            return float(np.sqrt((a ** 2).mean()))

        assert rms(0.2) > 0.01 and rms(1000) == 0.0  # the piano decays; silence after
        for t in (1800.5, 1819.5, 1820.5, 1849.5, 1850.5, 1859.5):  # boundaries at 1820, 1850
            assert rms(t) > 0.01, t
        assert rms(1870) == 0.0 and rms(3598.0, 0.2) > 0.001


def test_the_in_memory_api_refuses_gigabytes_and_names_the_file_path(tmp_path):
    s = symusic.Score(480, ttype="second")
    t = symusic.Track("p", 0, False, ttype="second")
    t.notes.append(symusic.Note(3000.0, 1.0, 60, 90, "second"))
    s.tracks.append(t)
    with pytest.raises(InputTooLargeError, match=r"in-memory limit of 134,217,728 samples.*"
                                                 r"render_to_file"):
        render(s, 44100, channels=2)
    with pytest.raises(InputTooLargeError, match="render_to_file"):
        render_soundfont(s, 44100, channels=2)
    with pytest.raises(ArgumentError, match=r"block_seconds: must be a number in \(0, 3600\]"):
        render_to_file(s, "/tmp/unused.wav", block_seconds=0)
    with pytest.raises(ArgumentError, match="channels"):
        render_to_file(s, "/tmp/unused.wav", channels=3)
    with pytest.raises(OutputError, match="is a folder"):
        render_to_file(s, tmp_path)


def test_fluidsynth_to_a_file_equals_the_in_memory_render(tmp_path):
    if fluidsynth_path() is None:
        skip_or_fail_in_ci("the fluidsynth program is not installed")
    score = symbolic.load("corpus:bach/bwv66.6")
    whole = render_soundfont(score, 16000, channels=1, engine="fluidsynth")[0]
    out = render_to_file(score, tmp_path / "f.wav", 16000, backend="soundfont",
                         engine="fluidsynth", block_seconds=0.7)
    wav, _ = read_wav(out.path)
    assert wav.shape == whole.shape
    assert float((wav - whole).abs().max()) <= 2.5 / 32768
