"""The composer's notebook runs top to bottom: infill, before/after piano rolls, MIDI out."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "compose.ipynb"


def test_compose_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBOLIC_NOTEBOOK_SMALL", "1")  # few sampling steps
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit the notebook without outputs"
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 2
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "kept outside the region: True" in text and "False" not in text
    assert (tmp_path / "out" / "notebook" / "infilled.mid").is_file()
    assert (tmp_path / "out" / "notebook" / "composed.mid").is_file()
