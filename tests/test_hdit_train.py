"""HDiT training: windows drawn from POP909 note tables equal crops of the encoded image, the
training masks, batches, the EMA, and a tiny training run that checkpoints, resumes to the
same weights as a run that never stopped, and saves a loadable model."""

import json

import numpy as np
import pytest
import torch

from symbolic.cli import main
from symbolic.errors import ArgumentError
from symbolic.models.hdit import HDiT, Settings
from symbolic.models.hdit.corpus import (allowed_shifts, chord_vector, render_window,
                                         song_from_pop909)
from symbolic.models.hdit.masks import MASK_MIX, bar_span, training_mask
from symbolic.models.hdit.train import (EMATrainee, hdit_loss, train, training_batch,
                                        window_layout)
from symbolic.representations.pianoroll import encode, fold

TINY = dict(widths=[32, 64], depths=[1, 1], dropout=[0.0, 0.0], head_dim=16, kernel=5,
            mapping_width=32, mapping_depth=1, image_size=[128, 64], batch=2, steps=20,
            eval_every=10, checkpoint_every=10, threads=1)


@pytest.fixture(autouse=True)
def one_thread(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("SYMBOLIC_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def song(pop909):
    s = pop909.song(3)
    return s, song_from_pop909(s)


def test_windows_are_crops_of_the_encoded_song(song):
    raw, rs = song
    full = encode(raw.score, bar_ticks=raw.bar_ticks()).image
    assert rs.width == full.shape[1] and rs.bars[-1] == rs.width
    for start in (0, 37, int(rs.bars[20]), rs.width - 40):
        crop = np.zeros((128, 128, 3), np.uint8)
        part = full[:, start:start + 128]
        crop[:, :part.shape[1]] = part
        assert np.array_equal(render_window(rs, start, 128), crop)
    lo, hi = allowed_shifts(rs, 0, 128)
    up = render_window(rs, 0, 128, hi)
    assert np.array_equal(up[:128 - hi], render_window(rs, 0, 128)[hi:])  # rows move up
    v = chord_vector(rs, 0, 128)
    assert v.shape == (12,) and v.max() <= 1 and v.sum() > 1  # chords of 3-4 notes
    assert np.allclose(np.roll(v, 2), chord_vector(rs, 0, 128, 2))


def test_training_masks():
    rng = np.random.default_rng(0)
    bars = np.arange(0, 128, 16)
    assert sum(MASK_MIX.values()) == pytest.approx(1)
    for kind in MASK_MIX:
        for _ in range(5):
            m = training_mask(rng, bars, 128, kind)
            assert m.shape == (128, 128) and m.dtype == bool and m.any()
            if kind in ("rectangle", "bars"):
                cols = np.flatnonzero(m.any(0))
                assert cols[0] % 16 == 0 and (cols[-1] + 1) % 16 == 0 and len(cols) < 128
            if kind == "bars":
                assert m[:, cols].all()
    assert training_mask(rng, bars, 128, "whole").all()
    for _ in range(20):
        a, b = bar_span(rng, bars, 128)
        assert 0 <= a < b <= 128 and b - a < 128


def test_training_batch_shapes(song):
    _, rs = song
    rng = np.random.default_rng(1)
    b = training_batch([rs], rng, batch=3, steps=128, folded=False)
    assert b["x"].shape == (3, 3, 128, 128) and b["mask"].shape == (3, 1, 128, 128)
    assert b["x"].min() >= -1 and b["x"].max() <= 1 and b["cond"].shape == (3, 12)
    folded = training_batch([rs], rng, batch=2, steps=128, folded=True, chord_dim=0)
    assert folded["x"].shape == (2, 3, 256, 64) and "cond" not in folded
    assert window_layout(Settings.pictures_of_midi()) == (512, True)
    assert window_layout(Settings()) == (128, False)
    with pytest.raises(ArgumentError, match="image_size"):
        window_layout(Settings(image_size=[64, 64]))
    whole = training_batch([rs], np.random.default_rng(2), batch=1, steps=128, folded=True,
                           kind="whole")
    image = render_window(rs, 0, 128)
    assert whole["mask"].all() and fold(image).shape == (256, 64, 3)


def test_ema_follows_the_weights():
    net = HDiT(Settings(**TINY))
    trainee = EMATrainee(net, 0.5)
    before = [p.detach().clone() for p in trainee.ema.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    trainee.update()  # first update: decay min(0.5, 1/10) = 0.1
    for e, b, p in zip(trainee.ema.parameters(), before, net.parameters()):
        assert torch.allclose(e, 0.1 * b + 0.9 * p)
    assert int(trainee.updates) == 1 and not any(p.requires_grad for p in trainee.ema.parameters())
    trainee.train()
    assert trainee.net.training and not trainee.ema.training
    batch = {"x": torch.rand(2, 3, 128, 64) * 2 - 1, "mask": torch.ones(2, 1, 128, 64, dtype=bool),
             "cond": torch.zeros(2, 12), "seed": 7}
    trainee.eval()  # the held-out loss: the EMA's, the same draws every time, no update
    assert hdit_loss(trainee, batch).item() == hdit_loss(trainee, batch).item()
    assert int(trainee.updates) == 1


def test_train_checkpoints_resumes_and_saves(pop909_root, tmp_path):
    s = Settings(**TINY)
    full = train(s, tmp_path / "full", data_path=pop909_root, device="cpu", limit=3,
                 progress=False)
    assert full["steps"] == 20 and full["ema_updates"] == 21
    losses = [h["loss"] for h in full["history"] if "loss" in h]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert np.isfinite(full["history"][-1]["eval_loss"])
    info = json.loads((tmp_path / "full" / "training.json").read_text())
    assert info["window_steps"] == 64 and not info["folded"] and info["device"] == "cpu"
    card = (tmp_path / "full" / "README.md").read_text()  # ours, not the Hub mixin's blank one
    assert card.startswith("# full") and "20 steps" in card and "More Information" not in card
    part = train(s, tmp_path / "part", data_path=pop909_root, device="cpu", limit=3,
                 progress=False, stop_at=10)
    assert part["steps"] == 10 and (tmp_path / "part" / "checkpoint").is_dir()
    again = train(s, tmp_path / "part", data_path=pop909_root, device="cpu", limit=3,
                  progress=False)
    assert again["steps"] == 20
    a = HDiT.from_pretrained(str(tmp_path / "full"))
    b = HDiT.from_pretrained(str(tmp_path / "part"))
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name
    x = torch.zeros(1, 3, 128, 64)
    assert torch.isfinite(a(x, torch.ones(1))).all()


def test_train_refuses_bad_arguments(tmp_path):
    with pytest.raises(ArgumentError, match="stop_at"):
        train(Settings(**TINY), tmp_path, stop_at=15)
    with pytest.raises(ArgumentError, match="chord_dim"):
        train(Settings(**{**TINY, "chord_dim": 5}), tmp_path)
    with pytest.raises(ArgumentError, match="ema_decay"):
        Settings(ema_decay=2)


def test_train_command_error_line(tmp_path, capsys):
    assert main(["train", "hdit", "--out", str(tmp_path / "m"), "--stop-at", "15"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --stop-at:")
    assert main(["train", "hdit", "--out", str(tmp_path / "m"), "--lr", "-1"]) == 2
    assert capsys.readouterr().err.startswith("error: --lr:")
