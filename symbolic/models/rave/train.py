"""Training the RAVE-style codec (:class:`~.model.RaveCodec`) in two stages, on audio rendered
from the symbolic corpora: :func:`train` runs one stage with :class:`~.settings.Settings`.

**Data.** Pieces of the corpora's train split (``Settings.sources``: music21's Bach chorales,
POP909; evenly spread; :func:`symbolic.data.audio_pieces.load_pieces`) are rendered once
(:func:`symbolic.data.audio_pieces.render_pieces`, ``backend='synth'`` by default), at most
``max_seconds`` each, trailing silence cut; :class:`Crops` then draws random crops of
``crop_frames`` latent frames with a random gain (near-silent crops are redrawn up to 8 times).
Held-out batches come from the valid split.

**Stage 1, representation** (:func:`train_stage1`, through the shared loop
:func:`symbolic.training.fit`): spectral loss plus ``beta * KL``, ``beta`` rising linearly from
0 to ``kl_beta`` over the first ``kl_warmup`` of the steps (the step is known to
``make_batch``, so the batch carries its ``beta``).

**Stage 2, adversarial fine-tuning** (:func:`train_stage2`): the encoder is frozen (no
gradients, not in any optimizer); the decoder learns against a :class:`~.model.Discriminator`
with hinge losses, feature matching and the spectral loss. Its loop is written here because
:func:`~symbolic.training.fit` owns one optimizer and one loss per step, and a GAN needs two
optimizers over two parameter sets, stepped one after the other with different losses. It
reuses the loop's parts: :class:`~symbolic.training.TrainConfig`, the learning-rate schedule,
seeding, device choice and the safetensors checkpoints (``generator/`` and ``discriminator/``
folders, resumable).

**Folders.** Stage 1 writes the codec to ``out`` (``config.json`` + ``model.safetensors``,
loadable by :func:`symbolic.models.rave.load` and :func:`symbolic.audio.load_codec`) and its
checkpoints to ``out/checkpoints/stage1``; stage 2 reads the codec from ``out``, trains, and
writes it back (checkpoints in ``out/checkpoints/stage2``). ``resume=True`` goes on from the
stage's checkpoint. The command is ``symbolic train rave`` (:mod:`symbolic.cli.audio`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ...data.audio_pieces import load_pieces, render_pieces
from ...errors import SymbolicError
from ...training import (
    TrainConfig, TrainResult, drive, fit, learning_rate, load_checkpoint, resolve_device,
    save_checkpoint, seed_everything, to_device,
)
from .model import (
    Discriminator, RaveCodec, discriminator_loss, feature_matching, generator_loss,
    spectral_loss,
)
from .settings import Settings

__all__ = ["train", "Crops", "train_stage1", "train_stage2", "adversarial_step", "stage1_smoke"]


# -------------------------------------------------------------------------------------- data

class Crops:
    """``make_batch(rng, step) -> {'wav': float32 [B, C, length]}``: random crops of ``clips``
    (``[C, T]`` tensors or arrays), a clip chosen with probability proportional to its length,
    each crop scaled by a gain drawn from ``gain``; shorter clips are zero-padded."""

    def __init__(self, clips, length: int, batch_size: int, *, gain=(0.3, 1.0)):
        if not len(clips):
            raise ValueError("no audio to crop from (every piece failed or rendered silent)")
        self.clips = [np.asarray(c, dtype=np.float32) for c in clips]
        self.length, self.batch_size, self.gain = int(length), int(batch_size), tuple(gain)
        sizes = np.array([c.shape[-1] for c in self.clips], dtype=float)
        self.p = sizes / sizes.sum()

    def crop(self, rng: np.random.Generator) -> np.ndarray:
        for _ in range(8):  # redraw near-silent crops
            clip = self.clips[rng.choice(len(self.clips), p=self.p)]
            start = int(rng.integers(0, max(clip.shape[-1] - self.length, 0) + 1))
            piece = clip[:, start:start + self.length]
            if np.sqrt(np.mean(piece ** 2)) > 1e-3:
                break
        out = np.zeros((clip.shape[0], self.length), np.float32)
        out[:, :piece.shape[-1]] = piece
        return out

    def __call__(self, rng: np.random.Generator, step: int = 0) -> dict:
        wav = np.stack([self.crop(rng) for _ in range(self.batch_size)])
        wav *= rng.uniform(*self.gain, size=(self.batch_size, 1, 1)).astype(np.float32)
        return {"wav": wav}


# ------------------------------------------------------------------------------ stage 1

def _stage1_loss(model: RaveCodec, batch: dict) -> torch.Tensor:
    return model.representation_loss(batch["wav"], batch.get("beta", 0.0))[0]


def train_stage1(model: RaveCodec, make_batch: Callable, *, config: TrainConfig,
                 kl_beta: float = 0.1, kl_warmup: float = 0.5, eval_batches=None,
                 checkpoint_dir=None, resume: bool = False, callback=None,
                 stop=None) -> TrainResult:
    """Stage 1 through :func:`symbolic.training.fit`: ``spectral + beta * KL`` with ``beta``
    rising linearly to ``kl_beta`` over the first ``kl_warmup`` (fraction) of the steps;
    ``eval_batches`` are scored with the full ``kl_beta``. ``callback`` / ``stop``: as
    :func:`~symbolic.training.fit` takes them."""
    warm = max(1, int(kl_warmup * config.steps))

    def batches(rng, step):
        batch = dict(make_batch(rng, step))
        batch["beta"] = kl_beta * min(1.0, step / warm)
        return batch

    if eval_batches is not None:
        eval_batches = [{**b, "beta": kl_beta} for b in eval_batches]
    return fit(model, batches, _stage1_loss, config=config, eval_batches=eval_batches,
               checkpoint_dir=checkpoint_dir, resume=resume, callback=callback, stop=stop)


def stage1_smoke(wav: torch.Tensor, *, steps: int = 40, seed: int = 0) -> TrainResult:
    """A small codec's stage 1 on one waveform (``[C, T]``): 4 crops of 64 frames, constant lr
    3e-3, loss logged every 5 steps. The loss-falls check of the tests and of
    ``benchmarks/codec_quality.py``."""
    torch.manual_seed(seed)
    model = RaveCodec.small()
    crops = Crops([wav], 64 * model.hop_length, 4)
    return train_stage1(model, crops, kl_beta=0.01, config=TrainConfig(
        steps=steps, lr=3e-3, schedule="constant", log_every=5, progress=False, device="cpu",
        seed=seed))


# ------------------------------------------------------------------------------ stage 2

def adversarial_step(model: RaveCodec, disc: Discriminator, opt_g, opt_d, wav: torch.Tensor,
                     *, adversarial_weight: float = 1.0, feature_weight: float = 2.0,
                     grad_clip: float | None = None) -> dict:
    """One stage-2 step: a discriminator update (hinge), then a decoder update (spectral +
    hinge + feature matching). The encoder runs without gradients. Returns the losses."""
    with torch.no_grad():
        mean, std = model.posterior(wav)
        z = mean + std * torch.randn_like(std)
    fake_wav = model.synthesize(z)

    d_loss = discriminator_loss(disc(wav), disc(fake_wav.detach()))
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(disc.parameters(), grad_clip)
    opt_d.step()

    with torch.no_grad():
        real = disc(wav)
    fake = disc(fake_wav)
    spectral = spectral_loss(wav, fake_wav)
    adversarial = generator_loss(fake)
    features = feature_matching(real, fake)
    g_loss = spectral + adversarial_weight * adversarial + feature_weight * features
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.decoder.parameters(), grad_clip)
    opt_g.step()
    losses = {"loss": g_loss, "spectral": spectral, "adversarial": adversarial,
              "features": features, "discriminator": d_loss}
    return {k: float(v.detach()) for k, v in losses.items()}


class _Stage2:
    """The state of one :func:`train_stage2` run: both networks and optimizers, the numpy
    generator, the step, the history and the loss sums since the last record."""

    def __init__(self, model: RaveCodec, disc: Discriminator, config: TrainConfig,
                 checkpoint_dir, weights: dict):
        self.model, self.disc, self.config, self.weights = model, disc, config, weights
        self.device = resolve_device(config.device)
        self.rng = np.random.default_rng(config.seed)
        model.to(self.device).train()
        disc.to(self.device).train()
        betas = tuple(config.betas)
        self.opt_g = torch.optim.Adam(model.decoder.parameters(), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=betas)
        self.step, self.history, self.sums = 0, [], {}
        self.ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None

    def resume(self) -> None:
        if self.ckpt is not None and (self.ckpt / "generator").is_dir():
            state = load_checkpoint(self.ckpt / "generator", self.model, self.opt_g, self.rng)
            load_checkpoint(self.ckpt / "discriminator", self.disc, self.opt_d)
            self.step, self.history = int(state["step"]), list(state["history"])

    def train_step(self, make_batch: Callable) -> dict | None:
        """One step of both networks; the new history record when one is due, else None."""
        config = self.config
        lr = learning_rate(config, self.step)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        batch = to_device(make_batch(self.rng, self.step), self.device)
        parts = adversarial_step(self.model, self.disc, self.opt_g, self.opt_d, batch["wav"],
                                 grad_clip=config.grad_clip, **self.weights)
        for k, v in parts.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.sums["n"] = self.sums.get("n", 0) + 1
        self.step += 1
        last = self.step == config.steps
        entry = None
        if (config.log_every and self.step % config.log_every == 0) or last:
            n = self.sums.pop("n")
            entry = {"step": self.step, **{k: v / n for k, v in self.sums.items()}, "lr": lr}
            self.sums = {}
            self.history.append(entry)
        if last or (config.checkpoint_every and self.step % config.checkpoint_every == 0):
            self.checkpoint()
        return entry

    def checkpoint(self, force: bool = True) -> None:
        if self.ckpt is None:
            return
        save_checkpoint(self.ckpt / "discriminator", self.disc, self.opt_d, step=self.step,
                        config=self.config)
        save_checkpoint(self.ckpt / "generator", self.model, self.opt_g, step=self.step,
                        rng=self.rng, history=self.history, config=self.config)


def train_stage2(model: RaveCodec, make_batch: Callable, *, config: TrainConfig,
                 discriminator: Discriminator | None = None, adversarial_weight: float = 1.0,
                 feature_weight: float = 2.0, checkpoint_dir=None, resume: bool = False,
                 callback=None, stop=None) -> TrainResult:
    """Stage 2: adversarial fine-tuning of the decoder, encoder frozen (see the module
    docstring). Adam with ``config.lr`` / ``config.betas`` for both networks and the same
    schedule. History records carry the mean of each loss of :func:`adversarial_step`.
    ``callback(record)`` sees each record; ``stop(record)`` ends the run early when it returns
    True (a checkpoint is written there), as in :func:`~symbolic.training.fit`."""
    seed_everything(config.seed)  # before a new discriminator draws its weights
    disc = discriminator if discriminator is not None else Discriminator(model.channels)
    model.encoder.requires_grad_(False)
    run = _Stage2(model, disc, config, checkpoint_dir,
                  dict(adversarial_weight=adversarial_weight, feature_weight=feature_weight))
    if resume:
        run.resume()
    try:
        drive(run, make_batch, config, callback=callback, stop=stop,
              show=("loss", "discriminator"))
    finally:
        model.encoder.requires_grad_(True)
    model.eval()
    return TrainResult(step=run.step, history=run.history)


# ------------------------------------------------------------------------------ one stage

def train(settings: Settings | None = None, *, out, stage: int = 1, device="auto",
          resume: bool = False, progress: bool = True, callback=None, stop=None,
          command: str | None = None) -> tuple[RaveCodec, dict]:
    """Run stage ``stage`` (1 or 2) of ``settings`` (default :class:`Settings`) and save the
    codec to the folder ``out`` (see the module docstring for what each stage reads and
    writes). Stage 1 builds a new codec (``settings.architecture()``, weights seeded with
    ``settings.seed``; resumed runs rebuild the architecture recorded in ``out/rave_run.json``);
    stage 2 starts from the codec saved in ``out``. The codec's ``settings`` (in
    ``config.json``) gain ``stage1`` / ``stage2``: the settings, steps, last record and
    ``command`` (the command line that repeats the run). ``callback`` / ``stop``: as
    :func:`symbolic.training.fit` takes them.

    Returns the codec (CPU, eval mode) and a report: ``pieces`` rendered, ``minutes`` of
    training audio, ``failures`` (pieces that could not be loaded), ``step``, ``history``.
    """
    if stage not in (1, 2):
        raise SymbolicError(f"must be 1 or 2, got {stage!r}", "stage")
    s = settings or Settings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = _codec_to_train(s, out, stage, resume)
    config = _train_config(s, stage, device, progress)
    if progress:
        print(_data_notice(s, stage), file=sys.stderr, flush=True)
    failures: list = []
    clips = _clips(s, model, "train", s.sources, device, progress, failures)
    length = s.crop_frames * model.hop_length
    crops = Crops(clips, length, s.batch_size, gain=s.gain)
    ckpt = out / "checkpoints" / f"stage{stage}"
    if stage == 1:
        held_out = _clips(s, model, "valid", {k: s.eval_pieces for k in s.sources}, device)
        eval_batches = None
        if held_out:
            eval_rng = np.random.default_rng(12345)
            eval_batches = [Crops(held_out, length, s.batch_size, gain=(1, 1))(eval_rng)
                            for _ in range(s.eval_batches)]
        result = train_stage1(model, crops, config=config, kl_beta=s.kl_beta,
                              kl_warmup=s.kl_warmup, eval_batches=eval_batches,
                              checkpoint_dir=ckpt, resume=resume, callback=callback, stop=stop)
    else:
        result = train_stage2(model, crops, config=config,
                              adversarial_weight=s.adversarial_weight,
                              feature_weight=s.feature_weight, checkpoint_dir=ckpt,
                              resume=resume, callback=callback, stop=stop)
    last = result.history[-1] if result.history else None
    model.settings = {**model.settings, f"stage{stage}": {
        "settings": asdict(s), "steps": result.step, "last": last, "command": command}}
    model.to("cpu").save_pretrained(str(out))
    return model, {"pieces": len(clips), "failures": failures, "step": result.step,
                   "minutes": sum(c.shape[-1] for c in clips) / model.sample_rate / 60,
                   "history": result.history}


#: Measured with the default settings on two CPU cores (``symbolic codec train --steps 5``: 180
#: pieces, 112 minutes of audio, 59 s in all): music21 reads a chorale in about 0.07 s and the
#: synth renders about 150 times faster than real time. For :func:`_data_notice` only.
_READ_S, _RENDER_SPEED = 0.07, 150.0


def _data_notice(s: Settings, stage: int) -> str:
    """The line said before the training audio is read and rendered (minutes, with the
    default settings, before the first step), with an upper bound of its time where the
    piece counts are known."""
    what = ", ".join(f"{'all' if v is None else v} of {k}" for k, v in s.sources.items())
    held_out = len(s.sources) * s.eval_pieces if stage == 1 else 0
    line = (f"stage {stage}: before the first step, reading and rendering the training pieces "
            f"({what})" + (f" and {held_out} held-out ones" if held_out else "")
            + f", up to {s.max_seconds:g} s of audio each")
    if any(v is None for v in s.sources.values()) or s.backend != "synth":
        return line
    n = sum(s.sources.values()) + held_out
    bound = n * (_READ_S + s.max_seconds / _RENDER_SPEED)
    when = f"{bound:.0f} s" if bound < 90 else f"{bound / 60:.1f} minutes"
    return f"{line}: at most about {when} on two CPU cores"


def _codec_to_train(s: Settings, out: Path, stage: int, resume: bool) -> RaveCodec:
    """Stage 1: a new codec (the architecture goes to ``rave_run.json`` so that a resumed
    run rebuilds the same one); stage 2: the codec stage 1 saved in ``out``."""
    if stage == 2:
        return RaveCodec.from_pretrained(str(out))
    run_file = out / "rave_run.json"
    if resume and run_file.is_file():
        arch = json.loads(run_file.read_text())["architecture"]
    else:
        arch = s.architecture()
    run_file.write_text(json.dumps({"architecture": arch, "settings": asdict(s)}, indent=1))
    seed_everything(s.seed)
    return RaveCodec(**arch)


def _train_config(s: Settings, stage: int, device, progress: bool) -> TrainConfig:
    """The loop's settings: cosine decay to 10% after a short warm-up; stage 2 uses the
    GAN-friendly Adam betas (0.5, 0.9) and its own learning rate."""
    return TrainConfig(
        steps=s.steps, lr=s.lr if stage == 1 else s.lr_stage2, seed=s.seed, device=device,
        threads=s.threads, progress=progress, schedule="cosine", min_lr_ratio=0.1,
        warmup=min(1000, s.steps // 20), betas=(0.9, 0.999) if stage == 1 else (0.5, 0.9),
        checkpoint_every=s.checkpoint_every, log_every=s.log_every,
        eval_every=s.checkpoint_every)


def _clips(s: Settings, model: RaveCodec, split: str, sources: dict, device, progress=False,
           failures: list | None = None) -> list:
    """The pieces of ``sources`` in ``split`` rendered at the codec's rate and channels."""
    pieces = load_pieces(sources, split, failures=failures, progress=progress)
    return render_pieces([score for _, score in pieces], model.sample_rate,
                         channels=model.channels, max_seconds=s.max_seconds,
                         backend=s.backend, device=resolve_device(device), progress=progress)
