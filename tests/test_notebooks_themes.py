"""The themes notebook runs top to bottom: a POP909 song's theme found, a new piece developed
from it with the shipped Theme Transformer, where the theme recurs plotted, the theme
encoder's distances, audio and MIDI."""

from pathlib import Path

import pytest

from conftest import run_notebook

pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "themes.ipynb"


def test_themes_notebook_runs(pop909, tmp_path, monkeypatch):
    outputs, text = run_notebook(NOTEBOOK, tmp_path, monkeypatch)  # 6 bars
    assert "song 880:" in text and "theme: bars" in text
    assert "6 bars (2 of theme given)" in text and "theme bars marked by the model: [1, 2" in text
    assert "distance to the theme by bar: 0.00" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 2
    assert [o for o in outputs if "<audio" in str(o.get("data", {}))]
    assert (tmp_path / "out" / "notebook" / "developed.mid").is_file()
