"""Training HDiT: masked EDM batches of POP909 piano-roll windows and :func:`train` over the
shared loop :func:`symbolic.training.fit`, with an EMA of the weights.

**Windows** (:func:`window_layout`): a model of ``image_size`` ``[128, W]`` sees 128 pitches
x ``W`` 16th-note steps as they are (the CPU default: 128 x 128, 8 bars of 4/4); one of
``[256, W]`` sees 128 x ``2W`` steps folded after Pictures of MIDI (:func:`~symbolic.
representations.pianoroll.fold`: 128 x 512, 32 bars, into 256 x 256). A window starts on a
bar of a random song of the split (:mod:`.corpus`), is transposed by a random shift in -5..+6
semitones among those that keep its notes in 0-127, and gets a mask from :mod:`.masks` (the
loss counts the masked pixels only) and a chord vector (:func:`.corpus.chord_vector`: the
share of the window's steps on which each pitch class is in the annotated chord), all zeros
in 20% of the windows so the model also works without chords.

**EMA** (:class:`EMATrainee`): ``fit`` trains the trainee, whose ``net`` is the model and
whose ``ema`` is a frozen copy that follows it (:meth:`EMATrainee.update`, called by the loss
at every training step, so the copy is in every checkpoint and a resumed run matches one that
never stopped). The held-out loss is the EMA's, and the EMA is what ``train`` saves.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import ArgumentError
from ...representations.pianoroll import PITCHES, fold
from .corpus import RollSong, allowed_shifts, chord_vector, pop909_rolls, render_window
from .edm import edm_loss
from .masks import training_mask
from .model import HDiT, images_to_tensor
from .settings import Settings

__all__ = ["window_layout", "training_batch", "EMATrainee", "hdit_loss", "train", "warm_start",
           "SHAPE_FIELDS",
           "CHORD_DROP", "LOG_EVERY"]

#: Share of training windows whose chord vector is all zeros.
CHORD_DROP = 0.2
#: Steps between loss records (``stop_at`` must be a multiple).
LOG_EVERY = 10


def window_layout(settings: Settings) -> tuple[int, bool]:
    """``(steps, folded)``: the 16th-note steps of one window and whether it is folded into
    the model's ``image_size`` (``[128, W]``: W steps as they are; ``[256, W]``: 2W folded)."""
    height, width = settings.image_size
    if height == PITCHES:
        return width, False
    if height == 2 * PITCHES:
        return 2 * width, True
    raise ArgumentError(f"must be [128, W] (a window as it is) or [256, W] (a window of 2W "
                        f"steps, folded) to train on piano rolls, got {settings.image_size}",
                        "image_size")


def _window(song: RollSong, rng, steps: int, shift: bool):
    """A random window of ``song``: (start step, bar starts inside it, transposition)."""
    starts = song.bars[:-1]
    usable = starts[starts < max(song.width - steps // 4, 1)]
    start = int(rng.choice(usable)) if len(usable) else 0
    bars = song.bars[(song.bars >= start) & (song.bars < start + steps)] - start
    lo, hi = allowed_shifts(song, start, steps) if shift else (0, 0)
    return start, bars, int(rng.integers(lo, hi + 1)) if hi >= lo else 0


def training_batch(songs: list[RollSong], rng: np.random.Generator, *, batch: int, steps: int,
                   folded: bool, chord_dim: int = 12, shift: bool = True,
                   kind: str | None = None) -> dict:
    """One batch (numpy): ``x`` float32 ``[B, 3, H, W]`` in [-1, 1], ``mask`` bool ``[B, 1,
    H, W]`` (True: to fill), and ``cond`` float32 ``[B, chord_dim]`` when ``chord_dim`` is 12
    (zeros in :data:`CHORD_DROP` of the windows). ``kind`` forces one mask kind."""
    images, masks, cond = [], [], np.zeros((batch, chord_dim), np.float32)
    for b in range(batch):
        song = songs[int(rng.integers(len(songs)))]
        start, bars, semitones = _window(song, rng, steps, shift)
        image = render_window(song, start, steps, semitones)
        mask = training_mask(rng, bars, steps, kind)
        if chord_dim == 12 and rng.random() >= CHORD_DROP:
            cond[b] = chord_vector(song, start, steps, semitones)
        images.append(fold(image) if folded else image)
        masks.append(fold(mask) if folded else mask)
    out = {"x": images_to_tensor(np.stack(images)).numpy(),
           "mask": np.stack(masks)[:, None]}
    if chord_dim:
        out["cond"] = cond
    return out


class EMATrainee(nn.Module):
    """What ``fit`` trains: ``net`` (the model) and ``ema``, a frozen copy whose weights
    follow ``net``'s with decay ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates (the
    count is a buffer, so it is checkpointed with the weights)."""

    def __init__(self, net: nn.Module, decay: float):
        super().__init__()
        self.net, self.decay = net, float(decay)
        self.ema = copy.deepcopy(net).requires_grad_(False).eval()
        self.register_buffer("updates", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def update(self) -> None:
        n = int(self.updates)
        d = min(self.decay, (1 + n) / (10 + n))
        for e, p in zip(self.ema.parameters(), self.net.parameters()):
            e.lerp_(p.detach(), 1 - d)
        for e, b in zip(self.ema.buffers(), self.net.buffers()):
            e.copy_(b)
        self.updates += 1

    def train(self, mode: bool = True):
        super().train(mode)
        self.ema.eval()  # the copy never drops out
        return self


def hdit_loss(trainee: EMATrainee, batch: dict) -> torch.Tensor:
    """``fit``'s loss: in training, first bring the EMA up to the weights of the step before,
    then :func:`~.edm.edm_loss` of ``net``; in evaluation, the EMA's loss, with the noise of a
    generator seeded by ``batch["seed"]`` when there is one (the same draws at every
    evaluation)."""
    if trainee.training:
        trainee.update()
        return edm_loss(trainee.net, batch["x"], batch.get("cond"), batch["mask"])
    generator = None
    if "seed" in batch:
        generator = torch.Generator().manual_seed(int(batch["seed"]))
    return edm_loss(trainee.ema, batch["x"], batch.get("cond"), batch["mask"],
                    generator=generator)


def _fit_config(s: Settings, device: str, progress: bool):
    from ...training import TrainConfig

    return TrainConfig(steps=s.steps, lr=s.lr, betas=(0.9, 0.95), weight_decay=s.weight_decay,
                       warmup=min(500, s.steps // 10), schedule=s.schedule,
                       min_lr_ratio=s.min_lr_ratio,
                       eval_every=s.eval_every, checkpoint_every=s.checkpoint_every,
                       log_every=LOG_EVERY, seed=s.seed, device=device, threads=s.threads,
                       progress=progress)


def _corpus(s: Settings, data_path, limit, progress):
    steps, folded = window_layout(s)
    train_songs = pop909_rolls("train", path=data_path, limit=limit, progress=progress)
    valid_songs = pop909_rolls("valid", path=data_path, limit=limit, progress=progress)
    if not train_songs or not valid_songs:
        from ...errors import DataNotFoundError

        raise DataNotFoundError("no POP909 song of the train or valid split found", data_path)
    shape = dict(batch=s.batch, steps=steps, folded=folded, chord_dim=s.chord_dim)
    ev_rng = np.random.default_rng(12345)
    evals = [dict(training_batch(valid_songs, ev_rng, shift=False, **shape), seed=k)
             for k in range(4)]
    return train_songs, shape, evals


#: The settings that fix a model's weights' shapes: a warm start must agree on them.
SHAPE_FIELDS = ("widths", "depths", "head_dim", "kernel", "ff_ratio", "patch", "mapping_width",
                "mapping_depth", "channels", "image_size", "chord_dim")


def warm_start(trainee: EMATrainee, init, s: Settings) -> str:
    """Copy the weights of the HDiT ``init`` (a shipped name or a folder) into both the
    trainee's model and its EMA; the two must have the same :data:`SHAPE_FIELDS`. Returns
    what was loaded, for ``training.json``."""
    from .model import load

    try:
        start = load(str(init), device="cpu")
    except (TypeError, KeyError, ValueError, RuntimeError) as e:  # another family's config
        raise ArgumentError(f"{init} is not an HDiT model ({type(e).__name__}: {e})",
                            "init") from None
    theirs, ours = asdict(start.settings), asdict(s)
    differ = [f for f in SHAPE_FIELDS if theirs[f] != ours[f]]
    if differ:
        found = ", ".join(f"{f} {theirs[f]} vs {ours[f]}" for f in differ)
        raise ArgumentError(f"{init} was trained with other sizes ({found})", "init")
    trainee.net.load_state_dict(start.state_dict())
    trainee.ema.load_state_dict(start.state_dict())
    return str(init)


def train(settings: Settings | None = None, out=None, *, data_path=None, device: str = "auto",
          resume: bool = True, progress: bool = True, stop_at: int | None = None,
          max_minutes: float | None = None, limit: int | None = None, init=None) -> dict:
    """Train HDiT with ``settings`` (default :class:`Settings`) on POP909's train split
    (held-out loss of the EMA on 4 fixed batches of the valid split; ``data_path``: the POP909
    folder; ``limit``: only the first songs of each split, for smoke runs) and save the EMA
    model to ``out`` (``config.json`` + ``model.safetensors`` + ``training.json``).

    Checkpoints (model, EMA and optimizer) go to ``out/checkpoint``; run again to resume
    (``resume=False`` starts over). ``stop_at``: stop after that step (a multiple of
    :data:`LOG_EVERY`) of the ``settings.steps`` schedule; ``max_minutes`` stops at the first
    logged step past that time. ``init``: start from that model's weights (a shipped name or
    a folder, same sizes; :func:`warm_start`) instead of random ones, e.g. a second stage at
    a decaying learning rate (a checkpoint to resume from still wins). Returns what
    ``training.json`` holds."""
    from ...training import check_run, fit, resolve_device, seed_everything, stop_rule

    check_run(device=device, out=out, stop_at=stop_at, max_minutes=max_minutes)
    if stop_at is not None and stop_at % LOG_EVERY:
        raise ArgumentError(f"must be a multiple of {LOG_EVERY} (the logged steps), got "
                            f"{stop_at}", "stop_at")
    s = settings or Settings()
    if s.chord_dim not in (0, 12):
        raise ArgumentError(f"must be 12 (a pitch-class profile of the window's chords) or 0 "
                            f"to train on POP909, got {s.chord_dim}", "chord_dim")
    train_songs, shape, evals = _corpus(s, data_path, limit, progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(s.seed)
    trainee = EMATrainee(HDiT(s), s.ema_decay)
    started_from = warm_start(trainee, init, s) if init is not None else None

    def make_batch(rng, step):
        return training_batch(train_songs, rng, **shape)

    started = time.time()
    result = fit(trainee, make_batch, hdit_loss, config=_fit_config(s, device, progress),
                 eval_batches=evals, checkpoint_dir=out / "checkpoint", resume=resume,
                 stop=stop_rule(stop_at, max_minutes, started))
    trainee.update()  # the weights of the last step
    model = trainee.ema.to("cpu").eval()
    model.save_pretrained(out)
    info = {"steps": result.step, "planned_steps": s.steps, "init": started_from,
            "settings": asdict(s),
            "window_steps": shape["steps"], "folded": shape["folded"],
            "train_songs": len(train_songs), "parameters": model.n_parameters(),
            "minutes": round((time.time() - started) / 60, 2),
            "device": str(resolve_device(device)),
            "ema_updates": int(trainee.updates), "history": result.history}
    (out / "training.json").write_text(json.dumps(info, indent=1))
    (out / "README.md").write_text(model_card(out.name, info))
    return info


def model_card(name: str, info: dict) -> str:
    """The ``README.md`` of a trained HDiT folder: what it is, its size, its cost, its
    held-out loss, how to use and evaluate it (``info``: what ``training.json`` holds)."""
    s = info["settings"]
    evals = [h["eval_loss"] for h in info["history"] if "eval_loss" in h]
    held = f"; held-out EDM loss of the EMA weights {evals[-1]:.4f}" if evals else ""
    start = f", starting from {info['init']}" if info.get("init") else ""
    return "\n".join([
        f"# {name}", "",
        "HDiT (hourglass diffusion transformer, EDM) of `symbolic.models.hdit` inpainting "
        f"POP909 piano-roll images: 128 pitches x {info['window_steps']} sixteenth-note steps, "
        f"3 channels, chord vector ({s['chord_dim']} pitch classes) in the conditioning. "
        f"Widths {s['widths']}, depths {s['depths']}, {info['parameters']:,} parameters.", "",
        f"Trained on POP909's train split ({info['train_songs']} songs): {info['steps']} steps "
        f"of {s['batch']} windows ({s['schedule']} learning rate from {s['lr']}){start} in "
        f"{info['minutes']} min on {info['device']}{held}.", "",
        "Use: `symbolic.inpaint(score, bars=(9, 12), pitches=(60, 84), model=FOLDER)`, "
        "`symbolic inpaint in.mid --model FOLDER`; evaluate: "
        "`python -P benchmarks/eval_hdit.py --model FOLDER`.", ""])
