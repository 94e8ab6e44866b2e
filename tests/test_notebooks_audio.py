"""The audio notebook runs top to bottom: renders, draws spectrograms, writes WAV files."""

from pathlib import Path

from conftest import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "audio.ipynb"


def test_audio_notebook_renders_and_writes_wav(tmp_path, monkeypatch):
    outputs, text = run_notebook(NOTEBOOK, tmp_path, monkeypatch)  # 12 s of the song, 1 thread
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2  # the log-mel spectrogram and the instrument families
    assert "x real time" in text and "16000 Hz" in text
    from symbolic.audio.dsp import read_wav

    wav, sr = read_wav(tmp_path / "out" / "audio" / "song.wav")
    assert sr == 22050 and wav.shape == (1, 12 * 22050) and wav.abs().max() > 0.5

