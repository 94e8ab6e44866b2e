"""The melody notebook runs top to bottom: chords in, melody out as a piano roll with chord
labels, audio, MusicXML with chord symbols, an opening continued, GETDiff beside it."""

from pathlib import Path

import pytest

from conftest import run_notebook

pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "melodize.ipynb"


def test_melodize_notebook_runs(tmp_path, monkeypatch):
    outputs, text = run_notebook(NOTEBOOK, tmp_path, monkeypatch)  # 4 bars, 4 GETDiff steps
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 2
    assert "chords: C G Am F" in text and "opening kept: True" in text
    assert "14 chord symbols" in text  # 16 chords, 2 repeat the one before
    assert (tmp_path / "out" / "notebook" / "melody.musicxml").is_file()
    assert [o for o in outputs if "audio/wav" in str(o.get("data", {})) or
            "<audio" in str(o.get("data", {}))]
