"""The representations notebook runs top to bottom and shows the figures it draws.

(The other notebooks have their own tests: test_notebooks_harmony.py, test_notebooks_tokenize.py.)
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = [Path(__file__).resolve().parents[1] / "notebooks" / "representations.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_renders(path, pop909_root, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel must use the inline backend
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    drawn = sum("plt." in cell.source or ".plot(" in cell.source for cell in nb.cells
                if cell.cell_type == "code")
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    assert images >= drawn > 0 or drawn == 0, f"{path.name}: {images} images for {drawn} plotting cells"
