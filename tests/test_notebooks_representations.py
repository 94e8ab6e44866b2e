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
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    # POP909 song 001 opens N, N, N, N, B:maj, C#:maj, Bb:min, Eb:min (chord_midi.txt): the
    # lead-sheet events' chord column must print those, not ids decoded in another id space.
    printed = [line.split("chord=")[1].split()[0] for line in text.splitlines() if "chord=" in line]
    assert printed[:4] == ["B", "C#", "Bbm", "Ebm"], printed
