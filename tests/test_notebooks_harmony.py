"""The classroom notebook on harmony embeddings runs top to bottom and renders its plots."""

from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "harmony_embeddings.ipynb"


def test_harmony_notebook_runs_and_draws(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBOLIC_NOTEBOOK_SMALL", "1")  # few chorales, few steps
    monkeypatch.setenv("SYMBOLIC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit the notebook without outputs"
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 3  # triads with the circle of fifths, neighbour table, key heat map
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "C major ->" in text and "keys nearest to C major" in text
    assert "G:maj" in text
