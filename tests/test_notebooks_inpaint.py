"""The inpainting notebook runs top to bottom: a box drawn on a band arrangement's piano roll
as a blue PNG, filled by the shipped HDiT, the tracks and every pixel outside the box kept,
before/after pictures, the busyness target, audio, a MIDI file with the band's tracks."""

from pathlib import Path

import pytest

from conftest import run_notebook

pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "inpaint.ipynb"


def test_inpaint_notebook_runs(tmp_path, monkeypatch):
    outputs, text = run_notebook(NOTEBOOK, tmp_path, monkeypatch)  # 4 steps, 2 candidates
    assert "pixels outside the mask unchanged: True" in text
    assert "'Inpainted'" in text and "busyness 0.02" in text and "busyness 0.2" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 3
    assert len([o for o in outputs if "<audio" in str(o.get("data", {}))]) == 2
    assert (tmp_path / "out" / "notebook" / "drawn.png").is_file()
    assert (tmp_path / "out" / "notebook" / "inpainted.mid").is_file()
