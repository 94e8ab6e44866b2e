"""Training the RAVE-style codec (:class:`~symbolic.audio.rave.RaveCodec`) in two stages, on
audio rendered from the symbolic corpora.

**Data.** Pieces of the corpora's train split (:data:`Recipe.sources`: music21's Bach chorales,
POP909; evenly spread) are rendered once with :func:`symbolic.audio.render` (``backend='synth'``
by default), at most ``max_seconds`` each, trailing silence cut; :class:`Crops` then draws
random crops of ``crop_frames`` latent frames with a random gain (near-silent crops are redrawn
up to 8 times). Held-out batches come from the valid split.

**Stage 1, representation** (:func:`train_stage1`, through the shared loop
:func:`symbolic.training.fit`): spectral loss plus ``beta * KL``, ``beta`` rising linearly from
0 to ``kl_beta`` over the first ``kl_warmup`` of the steps (the step is known to
``make_batch``, so the batch carries its ``beta``).

**Stage 2, adversarial fine-tuning** (:func:`train_stage2`): the encoder is frozen (no
gradients, not in any optimizer); the decoder learns against a :class:`~symbolic.audio.rave.
Discriminator` with hinge losses, feature matching and the spectral loss. Its loop is written
here because :func:`~symbolic.training.fit` owns one optimizer and one loss per step, and a GAN
needs two optimizers over two parameter sets, stepped one after the other with different
losses. It reuses the loop's parts: :class:`~symbolic.training.TrainConfig`, the learning-rate
schedule, seeding, device choice and the safetensors checkpoints (``generator/`` and
``discriminator/`` folders, resumable).

**CLI**::

    python -m symbolic.audio.rave train --out runs/rave --steps 20000             # stage 1
    python -m symbolic.audio.rave train --out runs/rave --steps 5000 --stage 2    # stage 2

Stage 1 writes the codec to ``--out`` (``config.json`` + ``model.safetensors``, loadable by
``RaveCodec.from_pretrained`` and :func:`~symbolic.audio.codec.load_codec`) and its checkpoints
to ``--out/checkpoints/stage1``; stage 2 reads the codec from ``--out``, trains, and writes it
back (checkpoints in ``--out/checkpoints/stage2``). ``--resume`` goes on from a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..training import (
    TrainConfig, TrainResult, fit, learning_rate, load_checkpoint, resolve_device,
    save_checkpoint, seed_everything, to_device,
)
from .rave import (
    SMALL_CONFIG, Discriminator, RaveCodec, discriminator_loss, feature_matching,
    generator_loss, spectral_loss,
)

__all__ = ["Recipe", "Crops", "load_pieces", "render_pieces", "train_stage1", "train_stage2",
           "adversarial_step", "add_codec_parser", "main"]


@dataclass
class Recipe:
    """The default training recipe, in one visible place.

    ``sources``: corpus -> pieces of its train split (``'pop909'`` or a collection of
    :mod:`symbolic.data.music21_corpus`). ``max_seconds``: rendered per piece. ``backend``:
    renderer. ``crop_frames``: latent frames per training crop (2,048 samples each by
    default: 16 frames are 1.5 s at 22,050 Hz). ``batch_size``. ``lr`` / ``lr_stage2``: Adam.
    ``kl_beta``, ``kl_warmup`` (fraction of stage-1 steps). ``adversarial_weight``,
    ``feature_weight``: stage-2 generator loss weights (the spectral loss has weight 1).
    ``gain``: random gain range per crop. ``eval_pieces``: valid-split pieces per source for
    the held-out loss; ``eval_batches``.
    """

    sources: dict = field(default_factory=lambda: {"bach_chorales": 120, "pop909": 60})
    max_seconds: float = 60.0
    backend: str = "synth"
    crop_frames: int = 16
    batch_size: int = 8
    lr: float = 5e-4
    lr_stage2: float = 1e-4
    kl_beta: float = 0.1
    kl_warmup: float = 0.5
    adversarial_weight: float = 1.0
    feature_weight: float = 2.0
    gain: tuple = (0.3, 1.0)
    eval_pieces: int = 2
    eval_batches: int = 4


# -------------------------------------------------------------------------------------- data

def _spread(items: list, n: int | None) -> list:
    if n is None or n >= len(items):
        return list(items)
    idx = np.unique(np.linspace(0, len(items) - 1, max(int(n), 0)).round().astype(int))
    return [items[i] for i in idx]


def load_pieces(sources: dict, split: str = "train", *, failures: list | None = None,
                progress: bool = False) -> list[tuple[str, object]]:
    """``(name, Score)`` of ``sources`` (corpus -> number of pieces, evenly spread; None: all)
    in ``split``. Pieces that fail to load go to ``failures`` and are skipped."""
    from ..data import iter_scores

    out = []
    for source, n in sources.items():
        if source == "pop909":
            from ..data.pop909 import Pop909

            pop = Pop909()
            for sid in _spread(pop.available(split), n):
                out.append((f"pop909:{sid:03d}", pop.score(sid)))
        else:
            from ..data.music21_corpus import piece_names

            names = _spread(list(piece_names(source, split)), n)
            out.extend(iter_scores(names, failures=failures, progress=progress, desc=source))
    return out


def render_pieces(scores, sample_rate: int, *, channels: int = 1, max_seconds: float | None,
                  backend: str = "synth", device="auto", progress: bool = False
                  ) -> list[torch.Tensor]:
    """Each Score rendered on its own (``[C, T]`` float32 on the CPU), at most ``max_seconds``,
    trailing silence (below 1e-4) cut; pieces that render to silence are dropped."""
    from tqdm.auto import tqdm

    from .rendering import render

    length = int(max_seconds * sample_rate) if max_seconds else None
    clips = []
    for score in tqdm(scores, desc="render", disable=not progress, unit="piece"):
        wav = render([score], sample_rate, backend=backend, length=length, channels=channels,
                     device=device)[0].float().cpu()
        loud = torch.nonzero(wav.abs().amax(0) > 1e-4)
        if len(loud):
            clips.append(wav[:, :int(loud[-1]) + 1].contiguous())
    return clips


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
                 checkpoint_dir=None, resume: bool = False, callback=None) -> TrainResult:
    """Stage 1 through :func:`symbolic.training.fit`: ``spectral + beta * KL`` with ``beta``
    rising linearly to ``kl_beta`` over the first ``kl_warmup`` (fraction) of the steps;
    ``eval_batches`` are scored with the full ``kl_beta``."""
    warm = max(1, int(kl_warmup * config.steps))

    def batches(rng, step):
        batch = dict(make_batch(rng, step))
        batch["beta"] = kl_beta * min(1.0, step / warm)
        return batch

    if eval_batches is not None:
        eval_batches = [{**b, "beta": kl_beta} for b in eval_batches]
    return fit(model, batches, _stage1_loss, config=config, eval_batches=eval_batches,
               checkpoint_dir=checkpoint_dir, resume=resume, callback=callback)


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


def train_stage2(model: RaveCodec, make_batch: Callable, *, config: TrainConfig,
                 discriminator: Discriminator | None = None, adversarial_weight: float = 1.0,
                 feature_weight: float = 2.0, checkpoint_dir=None, resume: bool = False,
                 callback=None) -> TrainResult:
    """Stage 2: adversarial fine-tuning of the decoder, encoder frozen (see the module
    docstring). Adam with ``config.lr`` / ``config.betas`` for both networks and the same
    schedule. History records carry the mean of each loss of :func:`adversarial_step`."""
    from tqdm.auto import tqdm

    device = resolve_device(config.device)
    seed_everything(config.seed)
    rng = np.random.default_rng(config.seed)
    disc = discriminator if discriminator is not None else Discriminator(model.channels)
    model.to(device).train()
    disc.to(device).train()
    model.encoder.requires_grad_(False)
    opt_g = torch.optim.Adam(model.decoder.parameters(), lr=config.lr, betas=tuple(config.betas))
    opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=tuple(config.betas))
    step, history = 0, []
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if resume and ckpt is not None and (ckpt / "generator").is_dir():
        state = load_checkpoint(ckpt / "generator", model, opt_g, rng)
        load_checkpoint(ckpt / "discriminator", disc, opt_d)
        step, history = int(state["step"]), list(state["history"])

    threads = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    bar = tqdm(total=config.steps, initial=step, disable=not config.progress, unit="step")
    sums: dict = {}
    try:
        while step < config.steps:
            lr = learning_rate(config, step)
            for opt in (opt_g, opt_d):
                for group in opt.param_groups:
                    group["lr"] = lr
            batch = to_device(make_batch(rng, step), device)
            parts = adversarial_step(model, disc, opt_g, opt_d, batch["wav"],
                                     adversarial_weight=adversarial_weight,
                                     feature_weight=feature_weight, grad_clip=config.grad_clip)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v
            sums["n"] = sums.get("n", 0) + 1
            step += 1
            bar.update(1)
            last = step == config.steps
            if (config.log_every and step % config.log_every == 0) or last:
                n = sums.pop("n")
                entry = {"step": step, **{k: v / n for k, v in sums.items()}, "lr": lr}
                sums = {}
                history.append(entry)
                if callback is not None:
                    callback(entry)
                bar.set_postfix({k: f"{entry[k]:.3g}" for k in ("loss", "discriminator")})
            if ckpt is not None and (last or (config.checkpoint_every
                                              and step % config.checkpoint_every == 0)):
                save_checkpoint(ckpt / "discriminator", disc, opt_d, step=step, config=config)
                save_checkpoint(ckpt / "generator", model, opt_g, step=step, rng=rng,
                                history=history, config=config)
    finally:
        bar.close()
        torch.set_num_threads(threads)
        model.encoder.requires_grad_(True)
    model.eval()
    return TrainResult(step=step, history=history)


# ---------------------------------------------------------------------------------------- CLI

def _parse_sources(text: str | None, default: dict) -> dict:
    if not text:
        return dict(default)
    out = {}
    for part in text.split(","):
        name, _, n = part.partition(":")
        out[name.strip()] = int(n) if n else None
    return out


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="codec folder (stage 1 writes it, stage 2 "
                                                "reads and rewrites it)")
    p.add_argument("--steps", type=int, required=True, help="optimizer steps of this stage")
    p.add_argument("--stage", type=int, choices=(1, 2), default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--size", choices=("default", "small"), default="default",
                   help="architecture of a new codec (stage 1)")
    p.add_argument("--sample-rate", type=int, default=None, help="of a new codec (stage 1)")
    p.add_argument("--latent-dim", type=int, default=None, help="of a new codec (stage 1)")
    p.add_argument("--sources", default=None, help="e.g. bach_chorales:120,pop909:60")
    for flag, kind in (("--max-seconds", float), ("--crop-frames", int), ("--batch-size", int),
                       ("--lr", float), ("--kl-beta", float), ("--seed", int),
                       ("--threads", int), ("--checkpoint-every", int), ("--log-every", int)):
        p.add_argument(flag, type=kind, default=None, help="override the recipe")
    p.add_argument("--resume", action="store_true", help="go on from this stage's checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run_train(args) -> int:
    """The ``train`` command (see the module docstring)."""
    recipe = Recipe()
    for name in ("max_seconds", "crop_frames", "batch_size", "kl_beta"):
        if getattr(args, name, None) is not None:
            setattr(recipe, name, getattr(args, name))
    recipe.sources = _parse_sources(args.sources, recipe.sources)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoints" / f"stage{args.stage}"
    run_file = out / "rave_run.json"  # the architecture, so a resumed stage 1 rebuilds it

    if args.stage == 1:
        if args.resume and run_file.is_file():
            arch = json.loads(run_file.read_text())["architecture"]
        else:
            arch = dict(SMALL_CONFIG) if args.size == "small" else {}
            for key, value in (("sample_rate", args.sample_rate),
                               ("latent_dim", args.latent_dim)):
                if value is not None:
                    arch[key] = value
        model = RaveCodec(**arch)
    else:
        model = RaveCodec.from_pretrained(str(out))
        arch = None
    lr = args.lr if args.lr is not None else (recipe.lr if args.stage == 1 else recipe.lr_stage2)
    config = TrainConfig(
        steps=args.steps, lr=lr, seed=args.seed or 0, device=args.device,
        threads=args.threads, progress=not args.quiet, schedule="cosine",
        min_lr_ratio=0.1, warmup=min(1000, args.steps // 20),
        betas=(0.9, 0.999) if args.stage == 1 else (0.5, 0.9),
        checkpoint_every=args.checkpoint_every or 1000, log_every=args.log_every or 100,
        eval_every=args.checkpoint_every or 1000)
    if arch is not None:
        run_file.write_text(json.dumps({"architecture": arch, "recipe": asdict(recipe)},
                                       indent=1))

    failures: list = []
    progress = not args.quiet
    device = resolve_device(args.device)
    print(f"rendering {recipe.sources} at {model.sample_rate} Hz ...", file=sys.stderr)
    clips = render_pieces([s for _, s in load_pieces(recipe.sources, "train", failures=failures,
                                                     progress=progress)],
                          model.sample_rate, channels=model.channels,
                          max_seconds=recipe.max_seconds, backend=recipe.backend,
                          device=device, progress=progress)
    length = recipe.crop_frames * model.hop_length
    crops = Crops(clips, length, recipe.batch_size, gain=recipe.gain)
    for f in failures:
        print(f"skipped {f}", file=sys.stderr)
    print(f"{len(clips)} pieces, {sum(c.shape[-1] for c in clips) / model.sample_rate / 60:.1f}"
          f" minutes of audio", file=sys.stderr)
    log = (lambda e: print(json.dumps(e), file=sys.stderr)) if args.quiet else None

    if args.stage == 1:
        held_out = {k: recipe.eval_pieces for k in recipe.sources}
        eval_clips = render_pieces([s for _, s in load_pieces(held_out, "valid")],
                                   model.sample_rate, channels=model.channels,
                                   max_seconds=recipe.max_seconds, backend=recipe.backend,
                                   device=device)
        eval_batches = None
        if eval_clips:
            eval_rng = np.random.default_rng(12345)
            eval_batches = [Crops(eval_clips, length, recipe.batch_size, gain=(1, 1))(eval_rng)
                            for _ in range(recipe.eval_batches)]
        result = train_stage1(model, crops, config=config, kl_beta=recipe.kl_beta,
                              kl_warmup=recipe.kl_warmup, eval_batches=eval_batches,
                              checkpoint_dir=ckpt, resume=args.resume, callback=log)
    else:
        result = train_stage2(model, crops, config=config,
                              adversarial_weight=recipe.adversarial_weight,
                              feature_weight=recipe.feature_weight, checkpoint_dir=ckpt,
                              resume=args.resume, callback=log)
    model.settings = {**model.settings, f"stage{args.stage}": {
        "steps": result.step, "recipe": asdict(recipe), "lr": lr,
        "last": result.history[-1] if result.history else None}}
    model.to("cpu").save_pretrained(str(out))
    print(json.dumps({"out": str(out), "stage": args.stage, "step": result.step,
                      "last": result.history[-1] if result.history else None}))
    return 0


def add_codec_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``codec train ...`` to a subparsers object (the ``symbolic`` CLI); the parsed
    arguments carry ``func`` (call it with them)."""
    codec = subparsers.add_parser("codec", help="audio codecs: train the RAVE-style codec")
    actions = codec.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="train a RAVE-style codec on rendered corpora")
    _add_train_arguments(train)
    codec.set_defaults(func=run_train)
    return codec


def main(argv=None) -> int:
    """``python -m symbolic.audio.rave train ...``"""
    parser = argparse.ArgumentParser(prog="python -m symbolic.audio.rave",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", required=True)
    _add_train_arguments(actions.add_parser("train", help="train the RAVE-style codec"))
    args = parser.parse_args(argv)
    return run_train(args)


if __name__ == "__main__":
    sys.exit(main())
