"""Shared fixtures. Tests never touch the network; data come from the shared folder or music21."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from symbolic.data import data_root  # noqa: E402


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
