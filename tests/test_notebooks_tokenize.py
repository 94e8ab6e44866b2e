"""The MidiCaps notebook runs top to bottom on a MidiCaps-format fixture and does what it says."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

import midicaps_fixture as M
from symbolic.data import shards as S

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "tokenize_midicaps.ipynb"


def test_tokenize_notebook_on_the_fixture(tmp_path, monkeypatch):
    fx = M.build(tmp_path / "midicaps", n_pop909=4, n_music21=2)
    out = tmp_path / "out" / "remi"
    monkeypatch.setenv("MIDICAPS_DIR", str(fx.root))
    monkeypatch.setenv("TOKENIZE_OUT", str(out))
    monkeypatch.setenv("WORKERS", "2")
    monkeypatch.setenv("BPE_VOCAB", "650")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel must use the inline backend
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    train_good = [loc for loc in fx.good if loc not in fx.test_set]
    train_bad = [loc for loc in fx.bad if loc not in fx.test_set]
    assert f"{len(train_good) + len(train_bad)} inputs -> {len(train_good)} rows" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 1  # the histograms
    assert all(loc in text for loc in train_bad)  # the quarantine is shown
    assert (out.parent / "remi-bpe.json").is_file()
    assert "BPE tokens" in text and "input_ids" in text
    assert S.read_manifest(out)["complete"]
