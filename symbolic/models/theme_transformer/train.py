"""Training Theme Transformer (or its decoder-only baseline): :func:`train` over the shared loop
:func:`symbolic.training.fit` on POP909's train split as theme events
(:mod:`~.data`: themes found by the shipped theme encoder, windows of 512 tokens starting on
bar lines, transposed with their theme), held-out loss on the valid split, a model card.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch

from ...errors import ArgumentError
from .data import WindowSampler, held_out, pop909_theme_songs
from .model import ThemeTransformer
from .settings import Settings

__all__ = ["train", "build", "save", "evaluate_theme_gain"]


def build(s: Settings) -> ThemeTransformer:
    """A fresh model of settings ``s``."""
    return ThemeTransformer(s.dim, s.heads, s.ffn, s.encoder_layers, s.decoder_layers,
                            s.xor_layers, s.dropout, s.decoder_only, s.max_theme_position,
                            settings=asdict(s))


def _fit_config(s: Settings, device: str, progress: bool):
    from ...training import TrainConfig

    return TrainConfig(steps=s.steps, lr=s.lr, optimizer="adamw", weight_decay=0.01,
                       warmup=min(s.warmup, s.steps // 2), schedule="cosine",
                       min_lr_ratio=0.01, grad_clip=s.grad_clip,
                       eval_every=max(s.steps // 5, 1), checkpoint_every=max(s.steps // 10, 1),
                       log_every=max(min(25, s.steps // 10), 1), seed=s.seed, device=device,
                       threads=1, progress=progress)


@torch.no_grad()
def evaluate_theme_gain(model: ThemeTransformer, batches: list) -> dict:
    """Held-out loss on tokens inside and outside theme regions (``in_theme_loss``,
    ``outside_loss``, nats per token): where the theme should help, and where it cannot."""
    import torch.nn.functional as F

    was = model.training
    model.eval()
    sums = {"in": [0.0, 0], "out": [0.0, 0]}
    for b in batches:
        dev = next(model.parameters()).device
        b = {k: v.to(dev) for k, v in b.items()}
        logits = model(b["inputs"], b["positions"], b.get("theme"))
        nll = F.cross_entropy(logits.transpose(1, 2), b["targets"], reduction="none")
        real = b["targets"] != 0
        inside = b["positions"] > 0
        for key, sel in (("in", real & inside), ("out", real & ~inside)):
            sums[key][0] += float(nll[sel].sum())
            sums[key][1] += int(sel.sum())
    model.train(was)
    return {"in_theme_loss": sums["in"][0] / max(sums["in"][1], 1),
            "outside_loss": sums["out"][0] / max(sums["out"][1], 1),
            "in_theme_tokens": sums["in"][1], "outside_tokens": sums["out"][1]}


def save(model: ThemeTransformer, out, report: dict, command: str | None = None) -> Path:
    """``model.save_pretrained(out)`` plus ``training.json`` and a ``README.md`` model card."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(report, indent=1))
    v = report["valid"]
    what = ("decoder-only baseline (the theme given as a prompt)" if report["decoder_only"]
            else "seq2seq Theme Transformer (gated parallel attention, theme-aligned "
                 "positions, XOR layers)")
    lines = [f"# {out.name}", "",
             f"{what} of `symbolic.models.theme_transformer`, after Shih et al. (IEEE TMM "
             "2022), trained on POP909's train split (songs 1-837) as theme events "
             "(`tokenizers/theme-events.json`), themes found by the shipped theme encoder.", "",
             f"- parameters: {model.n_parameters():,}; settings: `{report['settings']}`",
             f"- trained: {report['steps']} steps in {report['train_minutes']} min on one CPU "
             f"thread ({report['seconds_per_step']} s/step)"]
    if command:
        lines.append(f"- reproduce: `{command}`")
    lines += [f"- held-out loss (valid 838-873): {report['valid_loss']:.4f}; inside theme "
              f"regions {v['in_theme_loss']:.4f}, outside {v['outside_loss']:.4f} (nats/token)",
              "", "Generation: `symbolic.develop_theme(theme, bars=32)`; evaluation: "
              "`python -P benchmarks/eval_theme.py`.", ""]
    (out / "README.md").write_text("\n".join(lines))
    return out


def train(settings: Settings | None = None, out=None, *, device: str = "auto",
          progress: bool = True, resume: bool = True, stop_at: int | None = None,
          max_minutes: float | None = None, data_path=None, songs: dict | None = None,
          command: str | None = None) -> tuple[ThemeTransformer, dict]:
    """Train with ``settings`` (default :class:`Settings`; ``decoder_only=True``: the
    baseline) on POP909's train split (``songs``: ``{"train": [...], "valid": [...]}`` of
    :class:`~.data.ThemeSong` instead; ``data_path``: the POP909 folder), one torch thread.
    Saves to ``out`` when given: ``config.json``, ``model.safetensors``, ``training.json``
    (steps, minutes, history, held-out losses inside and outside theme regions) and a
    ``README.md`` card naming ``command``; checkpoints in ``out/checkpoint`` (``resume``: go
    on from one). ``stop_at`` / ``max_minutes``: stop early (at a logged step). Returns the
    model (eval, CPU) and the report."""
    from ...training import check_run, fit, seed_everything, stop_rule

    s = settings or Settings()
    if not isinstance(s, Settings):
        raise ArgumentError(f"must be a theme_transformer Settings, got {type(s).__name__}",
                            "settings")
    check_run(device=device, out=out, stop_at=stop_at, max_minutes=max_minutes)
    started = time.time()
    if songs is None:
        songs = {sp: pop909_theme_songs(sp, data_path) for sp in ("train", "valid")}
    opts = dict(window=s.window, batch=s.batch, max_theme=s.max_theme,
                theme_share=s.theme_share)
    sampler = WindowSampler(songs["train"], transpose=s.transpose, **opts)
    valid = held_out(songs["valid"], n_batches=s.eval_batches, **opts)
    seed_everything(s.seed)
    model = build(s)
    loaded = time.time()
    ckpt = None if out is None else Path(out) / "checkpoint"
    result = fit(model, sampler, ThemeTransformer.loss, config=_fit_config(s, device, progress),
                 eval_batches=valid, checkpoint_dir=ckpt, resume=resume and ckpt is not None,
                 stop=stop_rule(stop_at, max_minutes, started))
    model.to("cpu").eval()
    report = {"decoder_only": s.decoder_only, "train_songs": len(sampler.songs),
              "train_tokens": int(sum(len(x.ids) for x in sampler.songs)),
              "valid_songs": len(songs["valid"]), "load_seconds": round(loaded - started, 1),
              "steps": result.step, "planned_steps": s.steps,
              "train_minutes": round((time.time() - loaded) / 60, 2),
              "seconds_per_step": round((time.time() - loaded) / max(result.step, 1), 3),
              "threads": 1, "valid_loss": result.eval_loss,
              "valid": evaluate_theme_gain(model, valid), "parameters": model.n_parameters(),
              "settings": asdict(s), "history": result.history}
    if out is not None:
        save(model, out, report, command)
    return model, report
