"""The one training loop every model family uses: seed, device, progress, held-out eval,
checkpoint and resume. Plain torch, no framework.

A model plugs in with two plain callables::

    make_batch(rng: numpy.random.Generator, step: int) -> batch      # dict/tuple of arrays
    loss_fn(model, batch) -> scalar tensor                          # default: model(**batch)

``make_batch`` draws everything random from ``rng`` (the loop's own generator, saved in every
checkpoint), so a run is a pure function of its seed, and a run resumed from a checkpoint gives
the same weights as one that never stopped. Batches may hold numpy arrays or tensors; the loop
moves them to the device.

::

    config = TrainConfig(steps=2000, lr=3e-3, eval_every=500, seed=0)
    result = fit(model, make_batch, config=config, eval_batches=held_out,
                 checkpoint_dir="runs/x", resume=True)
    result.history[-1]  # {'step': 2000, 'loss': ..., 'lr': ..., 'eval_loss': ...}

**Checkpoints** never pickle: a checkpoint folder holds ``model.safetensors`` (the model's
``state_dict``), ``optimizer.safetensors`` (every tensor of the optimizer state) and
``trainer_state.json`` (step, history, the optimizer's hyper-parameters, the numpy generator's
state; torch's generator state is a tensor in ``optimizer.safetensors``). It is written to a
temporary folder and renamed, so a crash mid-write leaves the previous checkpoint intact.

The learning rate is a pure function of the step (:func:`learning_rate`: linear warm-up, then
constant, linear or cosine decay), so there is no scheduler state to save.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import checks
from .errors import ArgumentError

__all__ = [
    "TrainConfig",
    "TrainResult",
    "fit",
    "drive",
    "evaluate",
    "learning_rate",
    "seed_everything",
    "resolve_device",
    "to_device",
    "save_checkpoint",
    "load_checkpoint",
    "stop_rule",
]

MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "trainer_state.json"


@dataclass
class TrainConfig:
    """Every setting of a run, in one place (saved in each checkpoint's ``trainer_state.json``).

    ``steps``: optimizer steps in all (a resumed run continues up to it). ``optimizer``:
    ``"adamw"``, ``"adam"`` or ``"sgd"``. ``schedule``: ``"constant"``, ``"linear"`` or
    ``"cosine"`` decay from ``lr`` after ``warmup`` steps to ``lr * min_lr_ratio`` at the last
    step. ``grad_clip``: max global gradient norm (None: no clipping). ``eval_every`` /
    ``checkpoint_every``: steps between held-out evaluations / checkpoints (0: only at the end).
    ``log_every``: steps between history records of the mean training loss. ``device``:
    ``"auto"`` (CUDA when present, else CPU), or any torch device string. ``threads``: torch's
    CPU threads during the run (None: leave as is; small models often run faster on one thread
    of a shared CPU than on several).
    """

    steps: int = 1000
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.0
    warmup: int = 0
    schedule: str = "cosine"
    min_lr_ratio: float = 0.0
    grad_clip: float | None = 1.0
    eval_every: int = 0
    checkpoint_every: int = 0
    log_every: int = 100
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    progress: bool = True

    def __post_init__(self):  # a bad value fails here, not steps into a run
        self.steps = checks.integer("steps", self.steps, 1)
        self.lr = checks.number("lr", self.lr, 0.0, low_open=True)
        checks.choice("optimizer", self.optimizer, ("adamw", "adam", "sgd"))
        checks.choice("schedule", self.schedule, ("constant", "linear", "cosine"))
        self.weight_decay = checks.number("weight_decay", self.weight_decay, 0.0)
        self.momentum = checks.number("momentum", self.momentum, 0.0, 1.0)
        self.min_lr_ratio = checks.number("min_lr_ratio", self.min_lr_ratio, 0.0, 1.0)
        if self.grad_clip is not None:
            self.grad_clip = checks.number("grad_clip", self.grad_clip, 0.0, low_open=True)
        for name in ("warmup", "eval_every", "checkpoint_every", "seed"):
            setattr(self, name, checks.integer(name, getattr(self, name), 0))
        self.log_every = checks.integer("log_every", self.log_every, 1)
        if self.threads is not None:
            self.threads = checks.integer("threads", self.threads, 1, 4096)


@dataclass
class TrainResult:
    """What :func:`fit` did: the last step reached, the history records (dicts with ``step``,
    ``loss``, ``lr`` and, at evaluations, ``eval_loss``), and the last held-out loss."""

    step: int
    history: list[dict] = field(default_factory=list)
    eval_loss: float | None = None


# ------------------------------------------------------------------------------ small parts

def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (call before building a model)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: the first CUDA device when present, else the CPU; anything else as given.
    A device this machine does not have (``"cuda"`` without CUDA, an unknown name) raises
    :class:`~symbolic.errors.ArgumentError` naming ``device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = device if isinstance(device, torch.device) else torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ArgumentError(f"unknown device {device!r} (use 'auto', 'cpu' or 'cuda'): {e}",
                            "device") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ArgumentError(f"{str(dev)!r}, but this machine has no CUDA device (use 'auto' or "
                            "'cpu')", "device")
    return dev


def check_run(*, device="auto", out=None, stop_at=None, max_minutes=None) -> None:
    """The arguments every ``train`` shares, checked before any data loads: ``device`` this
    machine has, ``out`` a folder that can be written (None: no saving), ``stop_at`` a step
    >= 1 and ``max_minutes`` > 0 (None: no early stop). Raises
    :class:`~symbolic.errors.ArgumentError` (or ``OutputError`` for ``out``) naming it."""
    resolve_device(device)
    if out is not None:
        checks.output_folder(out, "out")
    if stop_at is not None:
        checks.integer("stop_at", stop_at, 1)
    if max_minutes is not None:
        checks.number("max_minutes", max_minutes, 0.0, low_open=True)


def to_device(batch, device: torch.device):
    """The batch with every array/tensor on ``device`` (numpy arrays become tensors); dicts,
    lists and tuples are walked, anything else is returned as it is."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, np.ndarray):
        return torch.from_numpy(batch).to(device)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def learning_rate(config: TrainConfig, step: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based): linear warm-up over
    ``config.warmup`` steps, then ``config.schedule`` from ``lr`` down to ``lr * min_lr_ratio``."""
    lr, floor = config.lr, config.lr * config.min_lr_ratio
    if step < config.warmup:
        return lr * (step + 1) / config.warmup
    span = max(1, config.steps - config.warmup)
    t = min(1.0, (step - config.warmup) / span)
    if config.schedule == "constant":
        return lr
    if config.schedule == "linear":
        return floor + (lr - floor) * (1.0 - t)
    if config.schedule == "cosine":
        return floor + (lr - floor) * 0.5 * (1.0 + math.cos(math.pi * t))
    raise ValueError(f"unknown schedule {config.schedule!r}; choose constant, linear or cosine")


def _default_loss(model, batch):
    if isinstance(batch, dict):
        return model(**batch)
    if isinstance(batch, (list, tuple)):
        return model(*batch)
    return model(batch)


def _make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, betas=tuple(config.betas),
                                 weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, betas=tuple(config.betas),
                                weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; choose adamw, adam or sgd")


@torch.no_grad()
def evaluate(model: torch.nn.Module, batches, loss_fn: Callable | None = None,
             device: str | torch.device = "auto") -> float:
    """Mean loss over fixed held-out ``batches`` (each batch counts once), in eval mode; the
    model's train/eval mode is restored afterwards."""
    loss_fn = loss_fn or _default_loss
    device = resolve_device(device)
    was_training = model.training
    model.eval()
    try:
        losses = [float(loss_fn(model, to_device(b, device))) for b in batches]
    finally:
        model.train(was_training)
    if not losses:
        raise ValueError("evaluate() needs at least one batch")
    return float(np.mean(losses))


# ------------------------------------------------------------------------------ checkpoints

def _optimizer_to_safetensors(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Split an optimizer state into tensors (for safetensors) and JSON-able values."""
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, state in sd["state"].items():
        for name, value in state.items():
            key = f"state.{pid}.{name}"
            if torch.is_tensor(value):
                tensors[key] = value.detach().cpu().contiguous()
            else:
                scalars[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _optimizer_from_safetensors(tensors: dict, meta: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in list(tensors.items()) + list(meta["scalars"].items()):
        if not key.startswith("state."):
            continue
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None,
                    *, step: int, rng: np.random.Generator | None = None,
                    history: list | None = None, config: TrainConfig | None = None,
                    extra: dict | None = None) -> Path:
    """Write a checkpoint folder (see the module docstring); returns its path."""
    from safetensors.torch import save_file

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(tmp / MODEL_FILE))
    tensors, opt_meta = ({}, None) if optimizer is None else _optimizer_to_safetensors(optimizer)
    tensors["rng.torch"] = torch.get_rng_state()
    save_file(tensors, str(tmp / OPTIMIZER_FILE))
    state = {
        "step": int(step),
        "history": history or [],
        "optimizer": opt_meta,
        "rng": rng.bit_generator.state if rng is not None else None,
        "config": asdict(config) if config is not None else None,
        "extra": extra or {},
    }
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=1, default=_json_default))
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return path


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} to a checkpoint")


def load_checkpoint(path, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None,
                    rng: np.random.Generator | None = None) -> dict:
    """Restore a checkpoint folder into ``model`` (and ``optimizer``, ``rng``, torch's global
    generator); returns the ``trainer_state.json`` dict (``step``, ``history``...)."""
    from safetensors.torch import load_file

    from .errors import DataNotFoundError

    path = Path(path)
    if not (path / STATE_FILE).is_file():
        raise DataNotFoundError("not a checkpoint folder (no trainer_state.json)", path)
    state = json.loads((path / STATE_FILE).read_text())
    device = next(iter(model.state_dict().values())).device if model.state_dict() else "cpu"
    model.load_state_dict(load_file(str(path / MODEL_FILE), device=str(device)))
    tensors = load_file(str(path / OPTIMIZER_FILE))
    torch.set_rng_state(tensors.pop("rng.torch"))
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(_optimizer_from_safetensors(tensors, state["optimizer"]))
    if rng is not None and state.get("rng") is not None:
        rng.bit_generator.state = state["rng"]
    return state


# ------------------------------------------------------------------------------ the loop

def fit(model: torch.nn.Module, make_batch: Callable, loss_fn: Callable | None = None, *,
        config: TrainConfig | None = None, eval_batches=None, checkpoint_dir=None,
        resume: bool = False, callback: Callable[[dict], None] | None = None,
        stop: Callable[[dict], bool] | None = None) -> TrainResult:
    """Train ``model`` in place for ``config.steps`` optimizer steps.

    ``make_batch(rng, step)`` gives one batch; ``loss_fn(model, batch)`` its scalar loss
    (default: ``model(**batch)``). ``eval_batches``: fixed held-out batches, evaluated every
    ``config.eval_every`` steps and at the end (:func:`evaluate`). ``checkpoint_dir``: where to
    write checkpoints (every ``config.checkpoint_every`` steps and at the end); with
    ``resume=True`` an existing checkpoint there is loaded first and training goes on from its
    step. ``callback(record)`` sees every history record as it is made; ``stop(record)``, asked
    after each record's checkpoint and callback, ends the run early when it returns True (the
    model then holds that step's weights, and ``TrainResult.step`` says which; a checkpoint is
    written there when ``checkpoint_dir`` is set, so a later run resumes from it). The global generators
    are seeded with ``config.seed`` (:func:`seed_everything`) and ``make_batch`` gets a numpy
    generator seeded with it. Returns a :class:`TrainResult`; the model is left in eval mode on
    the chosen device.
    """
    config = config or TrainConfig()
    run = _Run(model, config, loss_fn or _default_loss, eval_batches, checkpoint_dir)
    if resume:
        run.resume()
    drive(run, make_batch, config, callback=callback, stop=stop, show=("loss", "eval_loss"))
    model.eval()
    return TrainResult(step=run.step, history=run.history, eval_loss=run.eval_loss)


def drive(run, make_batch: Callable, config: TrainConfig, *, callback=None, stop=None,
          show=("loss",)) -> None:
    """The loop every trainer shares: step ``run`` until ``config.steps`` with a progress bar
    (showing the record keys in ``show``) and ``config.threads`` torch threads; each history
    record goes to ``callback``, then to ``stop``, which ends the run early when it returns True
    (``run.checkpoint(force=True)`` first). ``run`` gives ``step``, ``train_step(make_batch)``
    (the record made at that step, or None) and ``checkpoint(force)``: :func:`fit`'s own, or a
    trainer with several optimizers (the RAVE codec's adversarial stage)."""
    from tqdm.auto import tqdm

    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    bar = tqdm(total=config.steps, initial=run.step, disable=not config.progress, unit="step",
               dynamic_ncols=True, leave=True)
    try:
        while run.step < config.steps:
            entry = run.train_step(make_batch)
            bar.update(1)
            if entry is None:
                continue
            bar.set_postfix({k: f"{entry[k]:.4g}" for k in show if k in entry})
            if callback is not None:
                callback(entry)
            if stop is not None and run.step < config.steps and stop(entry):
                run.checkpoint(force=True)
                break
    finally:
        bar.close()
        torch.set_num_threads(threads)


class _Run:
    """The state of one :func:`fit` run: model, optimizer, step, history, the batch generator."""

    def __init__(self, model, config: TrainConfig, loss_fn, eval_batches, checkpoint_dir):
        self.model, self.config, self.loss_fn = model, config, loss_fn
        self.eval_batches = eval_batches
        self.device = resolve_device(config.device)
        seed_everything(config.seed)
        self.rng = np.random.default_rng(config.seed)
        model.to(self.device)
        model.train()
        self.optimizer = _make_optimizer(model, config)
        self.step, self.history = 0, []
        self.ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.eval_loss = None
        self.running, self.n_running = 0.0, 0
        self.saved_at = -1

    def resume(self) -> None:
        if self.ckpt is not None and (self.ckpt / STATE_FILE).is_file():
            state = load_checkpoint(self.ckpt, self.model, self.optimizer, self.rng)
            self.step, self.history = int(state["step"]), list(state["history"])
            self.saved_at = self.step
        self.eval_loss = next((r["eval_loss"] for r in reversed(self.history)
                               if "eval_loss" in r), None)

    def train_step(self, make_batch) -> dict | None:
        """One optimizer step; returns the history record made at it (or None), after the
        held-out evaluation and checkpoint that fall on it."""
        config = self.config
        lr = learning_rate(config, self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = self.loss_fn(self.model, to_device(make_batch(self.rng, self.step), self.device))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
        self.optimizer.step()
        self.step += 1
        self.running += float(loss.detach())
        self.n_running += 1
        return self._record(lr)

    def _due(self, every: int) -> bool:
        return self.step == self.config.steps or bool(every and self.step % every == 0)

    def _record(self, lr: float) -> dict | None:
        entry = None
        if self._due(self.config.log_every):
            entry = {"step": self.step, "loss": self.running / self.n_running, "lr": lr}
            self.running, self.n_running = 0.0, 0
        if self.eval_batches is not None and self._due(self.config.eval_every):
            self.eval_loss = evaluate(self.model, self.eval_batches, self.loss_fn, self.device)
            entry = entry or {"step": self.step, "lr": lr}
            entry["eval_loss"] = self.eval_loss
        if entry is not None:
            self.history.append(entry)
        self.checkpoint(force=False)
        return entry

    def checkpoint(self, force: bool) -> None:
        """Save a checkpoint when one is due (or ``force``), once per step."""
        if self.ckpt is None or self.saved_at == self.step:
            return
        if force or self._due(self.config.checkpoint_every):
            save_checkpoint(self.ckpt, self.model, self.optimizer, step=self.step, rng=self.rng,
                            history=self.history, config=self.config)
            self.saved_at = self.step



def stop_rule(stop_at: int | None, max_minutes: float | None, started: float):
    """The ``stop`` hook every family's ``train`` gives :func:`fit`: True from step
    ``stop_at`` on (None: never), or once more than ``max_minutes`` (None or 0: no limit) have
    passed since ``started`` (a ``time.time()``)."""
    import time

    def stop(entry: dict) -> bool:
        late = bool(max_minutes) and (time.time() - started) / 60 > max_minutes
        return late or bool(stop_at is not None and entry["step"] >= stop_at)
    return stop
