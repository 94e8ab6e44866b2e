"""Model folders are checked before anything is built from them, and a path is never sent to
the Hub: every failure is a SymbolicError that names the folder (or id) and the reason."""

import shutil

import pytest

from symbolic.errors import DataNotFoundError, InputTooLargeError, ModelFolderError
from symbolic.models import PRETRAINED_ROOT, check_model_folder, getdiff, harmony2vec


@pytest.mark.parametrize("path", ["runs/getdiff/last", "./runs/x", "~/models/none",
                                  "/no/such/folder", "model.safetensors"])
def test_a_path_that_is_not_there_never_goes_to_the_hub(path, monkeypatch):
    import huggingface_hub

    def no_hub(*a, **k):
        raise AssertionError("the Hub was asked")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_hub)
    with pytest.raises(DataNotFoundError, match="no such model folder"):
        getdiff.load(path, device="cpu")


def test_a_hub_id_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataNotFoundError, match=r"^owner/name: not a local folder"):
        getdiff.load("owner/name", device="cpu")


def test_broken_and_mismatched_folders(tmp_path):
    shipped = PRETRAINED_ROOT / "getdiff-pop909"
    folder = tmp_path / "m"
    shutil.copytree(shipped, folder)
    assert check_model_folder(folder) == folder and getdiff.load(folder, device="cpu")
    (folder / "config.json").write_text("[1, 2]")
    with pytest.raises(ModelFolderError, match="not a JSON object"):
        getdiff.load(folder, device="cpu")
    (folder / "config.json").write_text(" " * (2 << 20))
    with pytest.raises(InputTooLargeError, match="config.json over 1 MB"):
        getdiff.load(folder, device="cpu")
    shutil.copy(PRETRAINED_ROOT / "harmony2vec" / "config.json", folder / "config.json")
    with pytest.raises(ModelFolderError, match="weights do not fit the model"):
        harmony2vec.load(folder, device="cpu")
    (folder / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(ModelFolderError, match="unreadable"):
        harmony2vec.load(folder, device="cpu")
    (folder / "model.safetensors").unlink()
    with pytest.raises(DataNotFoundError, match="model.safetensors missing"):
        harmony2vec.load(folder, device="cpu")


def test_saved_folders_carry_a_real_card_never_the_blank_hub_one(tmp_path):
    model = getdiff.load("getdiff-pop909", device="cpu")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "README.md").write_text("stale card")
    model.save_pretrained(tmp_path / "m")
    card = (tmp_path / "m" / "README.md").read_text()
    assert card.startswith("# m") and "GETDiff" in card and "More Information" not in card
    model.save_pretrained(tmp_path / "n", card="# mine\n")
    assert (tmp_path / "n" / "README.md").read_text() == "# mine\n"
    assert getdiff.load(tmp_path / "n", device="cpu") is not None
    for shipped in PRETRAINED_ROOT.iterdir():  # every shipped model says what it is
        card = shipped / "README.md"
        assert not card.exists() or "More Information Needed" not in card.read_text(), shipped
