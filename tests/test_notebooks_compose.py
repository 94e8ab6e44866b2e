"""The composer's notebook runs top to bottom: infill, before/after piano rolls, MIDI out."""

from pathlib import Path

from conftest import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "compose.ipynb"


def test_compose_notebook_runs(tmp_path, monkeypatch):
    outputs, text = run_notebook(NOTEBOOK, tmp_path, monkeypatch)  # few sampling steps
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 2
    assert "kept outside the region: True" in text and "False" not in text
    assert (tmp_path / "out" / "notebook" / "infilled.mid").is_file()
    assert (tmp_path / "out" / "notebook" / "composed.mid").is_file()
