"""Shared fixtures. Tests never touch the network; data come from the shared folder or music21."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from symbolic.data import data_root  # noqa: E402


def skip_or_fail_in_ci(reason: str) -> None:
    """Skip for a missing system package on a developer's machine; fail under CI (``CI=true``),
    where ``.ci/run`` installs it, so that a broken install step cannot pass as a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; .ci/run installs it, so CI fails here", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pop909_root():
    root = data_root() / "pop909"
    if not (root / "001" / "001.mid").is_file():
        pytest.skip(f"POP909 not found at {root} (set SYMBOLIC_DATA to the shared data folder)")
    return root


@pytest.fixture(scope="session")
def pop909(pop909_root):
    from symbolic.data.pop909 import Pop909

    return Pop909(pop909_root)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small tensors run faster on one torch thread of a shared 2-core CPU than on two."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_notebook(path, tmp_path, monkeypatch, *, timeout=300):
    """Execute a committed (output-free) notebook in ``tmp_path`` with small settings
    (``SYMBOLIC_NOTEBOOK_SMALL=1``); return (code-cell outputs, the text they printed)."""
    import nbclient
    import nbformat

    monkeypatch.setenv("SYMBOLIC_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit the notebook without outputs"
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    return outputs, text
