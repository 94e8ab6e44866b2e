"""The shared training loop: learning, held-out eval, seeding, checkpoint + resume, no pickles."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from symbolic.data.cache import cache_dir
from symbolic.errors import DataNotFoundError
from symbolic.training import (
    TrainConfig, evaluate, fit, learning_rate, load_checkpoint, resolve_device,
    save_checkpoint, seed_everything, to_device,
)

W_TRUE = np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0], [-1.0, 1.0]], dtype=np.float32)


class Regressor(nn.Module):
    """A small regression net with dropout, so that torch's generator matters too."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.1), nn.Linear(16, 2))

    def forward(self, x, y):
        return ((self.net(x) - y) ** 2).mean()


def make_batch(rng, step):
    x = rng.normal(size=(32, 4)).astype(np.float32)
    return {"x": x, "y": x @ W_TRUE}


def held_out():
    rng = np.random.default_rng(123)
    return [make_batch(rng, 0) for _ in range(4)]


def new_model(seed=0):
    seed_everything(seed)
    return Regressor()


def config(**kw):
    base = dict(steps=40, lr=0.02, optimizer="adamw", progress=False, log_every=10, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def test_fit_learns_and_evaluates_held_out():
    model = new_model()
    before = evaluate(model, held_out(), device="cpu")
    seen = []
    result = fit(model, make_batch, config=config(steps=300, eval_every=100),
                 eval_batches=held_out(), callback=seen.append)
    assert result.step == 300
    assert result.eval_loss < 0.05 * before
    evals = [r["step"] for r in result.history if "eval_loss" in r]
    assert evals == [100, 200, 300]
    assert seen == result.history
    assert all("loss" in r and "lr" in r for r in result.history)
    assert not model.training  # left in eval mode


def test_same_seed_same_weights_other_seed_differs():
    a, b, c = new_model(), new_model(), new_model()
    fit(a, make_batch, config=config(seed=1))
    fit(b, make_batch, config=config(seed=1))
    fit(c, make_batch, config=config(seed=2))
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    whole = new_model()
    fit(whole, make_batch, config=config(steps=40))

    class Crash(Exception):
        pass

    def crashing_batch(rng, step):
        if step == 22:  # the run dies after its checkpoint at step 15
            raise Crash
        return make_batch(rng, step)

    ckpt = tmp_path / "ckpt"
    with pytest.raises(Crash):
        fit(new_model(), crashing_batch, config=config(steps=40, checkpoint_every=15),
            checkpoint_dir=ckpt)
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state["step"] == 15
    resumed = new_model(seed=99)  # different init: everything must come from the checkpoint
    result = fit(resumed, make_batch, config=config(steps=40, checkpoint_every=15),
                 checkpoint_dir=ckpt, resume=True)
    assert result.step == 40
    assert [r["step"] for r in result.history] == [10, 20, 30, 40]
    for pw, pr in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(pw, pr)
    # Resuming a finished run does nothing.
    again = fit(resumed, make_batch, config=config(steps=40), checkpoint_dir=ckpt, resume=True)
    assert again.step == 40


def test_checkpoints_hold_no_pickles(tmp_path):
    model = new_model()
    fit(model, make_batch, config=config(steps=5), checkpoint_dir=tmp_path / "c")
    names = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert names == ["model.safetensors", "optimizer.safetensors", "trainer_state.json"]
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob("*.old"))
    from safetensors.torch import load_file

    opt = load_file(str(tmp_path / "c" / "optimizer.safetensors"))
    assert any(k.endswith("exp_avg") for k in opt) and "rng.torch" in opt


def test_save_and_load_checkpoint_restore_rng_and_optimizer(tmp_path):
    model = new_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(**to_device(make_batch(np.random.default_rng(0), 0), torch.device("cpu"))).backward()
    opt.step()
    rng = np.random.default_rng(7)
    rng.random(3)
    save_checkpoint(tmp_path / "c", model, opt, step=1, rng=rng)
    expected = rng.random(5)
    other = new_model(seed=5)
    opt2 = torch.optim.Adam(other.parameters(), lr=0.1)
    rng2 = np.random.default_rng(0)
    state = load_checkpoint(tmp_path / "c", other, opt2, rng2)
    assert state["step"] == 1
    np.testing.assert_array_equal(rng2.random(5), expected)
    for a, b in zip(model.parameters(), other.parameters()):
        assert torch.equal(a, b)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    assert torch.equal(s1[0]["exp_avg"], s2[0]["exp_avg"])
    with pytest.raises(DataNotFoundError):
        load_checkpoint(tmp_path, other)


def test_learning_rate_schedules():
    c = TrainConfig(steps=110, lr=1.0, warmup=10, schedule="cosine", min_lr_ratio=0.1)
    assert learning_rate(c, 0) == pytest.approx(0.1)
    assert learning_rate(c, 9) == pytest.approx(1.0)
    assert learning_rate(c, 10) == pytest.approx(1.0)
    assert learning_rate(c, 60) == pytest.approx(0.55)
    assert learning_rate(c, 110) == pytest.approx(0.1)
    lin = TrainConfig(steps=100, lr=1.0, schedule="linear")
    assert learning_rate(lin, 50) == pytest.approx(0.5)
    assert learning_rate(TrainConfig(schedule="constant", lr=0.3), 999) == 0.3
    with pytest.raises(ValueError, match="schedule"):
        learning_rate(TrainConfig(schedule="exp"), 1)
    with pytest.raises(ValueError, match="optimizer"):
        fit(new_model(), make_batch, config=config(optimizer="lamb"))


def test_devices_and_batches():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("abacus")
    if not torch.cuda.is_available():  # asking for a device the machine lacks: named, early
        from symbolic.errors import ArgumentError

        with pytest.raises(ArgumentError, match="^device: 'cuda', but this machine has no CUDA"):
            resolve_device("cuda")
    batch = to_device({"a": np.arange(3), "b": [torch.ones(2), "text"]}, torch.device("cpu"))
    assert torch.equal(batch["a"], torch.arange(3)) and batch["b"][1] == "text"


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBOLIC_CACHE", str(tmp_path / "cache"))
    path = cache_dir("harmony2vec", "x")
    assert path == tmp_path / "cache" / "harmony2vec" / "x" and path.is_dir()


def test_stop_hook_ends_early_and_the_run_resumes_to_the_same_weights(tmp_path):
    """``stop`` ends a run at a logged step with a checkpoint there; resuming reaches the very
    weights of a run that never stopped."""
    whole = new_model()
    fit(whole, make_batch, config=config(steps=40))
    part = new_model()
    result = fit(part, make_batch, config=config(steps=40), checkpoint_dir=tmp_path,
                 stop=lambda r: r["step"] >= 20)
    assert result.step == 20 and result.history[-1]["step"] == 20
    assert json.loads((tmp_path / "trainer_state.json").read_text())["step"] == 20
    resumed = new_model(seed=1)
    result = fit(resumed, make_batch, config=config(steps=40), checkpoint_dir=tmp_path,
                 resume=True, stop=lambda r: False)
    assert result.step == 40
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
