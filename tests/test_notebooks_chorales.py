"""The classroom chorale notebook runs top to bottom: a held-out hymn tune harmonized with the
soprano kept, the voice-leading report beside Bach's, audio, one voice rewritten with 0 and 3
resampling passes, MusicXML with four staves."""

from pathlib import Path

import pytest

from conftest import run_notebook

pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "chorales.ipynb"


def test_chorales_notebook_runs(tmp_path, monkeypatch):
    outputs, text = run_notebook(NOTEBOOK, tmp_path, monkeypatch)  # 4 sampling steps
    assert "['Soprano', 'Alto', 'Tenor', 'Bass'] 10 bars, 6 fermatas" in text
    assert "soprano kept note for note: True" in text
    assert "parallel_fifth" in text and "resample=0:" in text and "resample=3:" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 1
    assert len([o for o in outputs if "<audio" in str(o.get("data", {}))]) == 2
    xml = tmp_path / "out" / "notebook" / "satb.musicxml"
    assert xml.is_file() and xml.read_text().count("<part-name>") == 4
    assert "['Soprano', 'Alto', 'Tenor', 'Bass']" in text.split("satb.musicxml")[-1]
