"""Training CM-HRNN and its baselines: :func:`train` over the shared loop
:func:`symbolic.training.fit` on POP909 lead sheets (:mod:`symbolic.data.leadsheets`: train
split, windows starting at bar lines, transposed to all keys on the fly), held-out loss on the
valid split, per-head figures on the test split (:func:`head_metrics`), a model card.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ... import checks
from ...data.leadsheets import WindowSampler, held_out_windows, pop909_leadsheets
from ...errors import ArgumentError
from .model import CMHRNN, HEAD_SIZES
from .settings import KINDS, Settings

__all__ = ["train", "head_metrics", "DEFAULT_HIDDEN", "resolve"]

#: Hidden width per kind when ``Settings.hidden`` is 0: about 0.9-1.0M parameters each.
DEFAULT_HIDDEN = {"hrnn": 128, "lstm": 256, "attention": 224}
HEAD_NAMES = ("note", "duration", "bar")


def resolve(settings: Settings) -> Settings:
    """``settings`` checked, with ``hidden`` 0 replaced by the kind's default width."""
    s = settings
    if s.kind not in KINDS:
        raise ArgumentError(f"kind must be one of {', '.join(KINDS)}, got {s.kind!r}", "kind")
    for name in ("embed", "layers", "top_frame", "mid_frame", "length", "batch", "steps",
                 "eval_batches"):
        checks.integer(name, getattr(s, name), 1)
    checks.integer("hidden", s.hidden, 0, 8192)
    checks.integer("seed", s.seed, 0)
    if not checks.number("dropout", s.dropout, 0.0, 1.0) < 1.0:
        raise ArgumentError(f"must be in [0, 1), got {s.dropout!r}", "dropout")
    checks.number("lr", s.lr, 0.0, 10.0, low_open=True)
    if s.kind == "hrnn" and (s.top_frame % s.mid_frame or s.length % s.top_frame):
        raise ArgumentError(f"length ({s.length}) must be a multiple of top_frame "
                            f"({s.top_frame}), itself a multiple of mid_frame ({s.mid_frame})",
                            "top_frame")
    return replace(s, hidden=int(s.hidden) or DEFAULT_HIDDEN[s.kind],
                   weights=tuple(float(w) for w in s.weights))


def build(s: Settings) -> CMHRNN:
    """A fresh model of resolved settings ``s``."""
    return CMHRNN(s.kind, s.embed, s.hidden, s.layers, s.top_frame, s.mid_frame, s.dropout,
                  list(s.weights), settings=asdict(s))


@torch.no_grad()
def head_metrics(model: CMHRNN, batches: list[dict]) -> dict:
    """Per-head negative log-likelihood (nats per event) and accuracy (argmax) of ``model`` on
    fixed ``batches`` (:func:`symbolic.data.leadsheets.held_out_windows`), plus the weighted
    ``loss`` the model trains on. Keys ``note_nll``, ``note_acc``, ``duration_nll``...
    """
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    sums = np.zeros((len(HEAD_SIZES), 2))
    count = 0
    for b in batches:
        x = torch.as_tensor(b["inputs"], device=dev)
        y = torch.as_tensor(b["targets"], device=dev)
        for i, lg in enumerate(model.logits(x)):
            sums[i, 0] += float(F.cross_entropy(lg.flatten(0, 1), y[..., i].flatten(),
                                                reduction="sum"))
            sums[i, 1] += float((lg.argmax(-1) == y[..., i]).sum())
        count += y[..., 0].numel()
    model.train(was)
    out = {}
    for i, name in enumerate(HEAD_NAMES):
        out[f"{name}_nll"] = float(sums[i, 0] / count)
        out[f"{name}_acc"] = float(sums[i, 1] / count)
    out["loss"] = sum(w * out[f"{n}_nll"] for w, n in zip(model.weights, HEAD_NAMES))
    return out


def _fit_config(s: Settings, device: str, progress: bool):
    from ...training import TrainConfig

    return TrainConfig(steps=s.steps, lr=s.lr, optimizer="adam", warmup=min(100, s.steps // 10),
                       schedule="cosine", min_lr_ratio=0.1, grad_clip=1.0,
                       eval_every=max(s.steps // 5, 1), checkpoint_every=max(s.steps // 5, 1),
                       log_every=max(min(50, s.steps // 10), 1), seed=s.seed, device=device,
                       threads=1, progress=progress)


def train(settings: Settings | None = None, out=None, *, device: str = "auto",
          progress: bool = True, resume: bool = True, stop_at: int | None = None,
          max_minutes: float | None = None, data_path=None, songs=None,
          command: str | None = None) -> tuple[CMHRNN, dict]:
    """Train one model of the family with ``settings`` (default :class:`Settings`: CM-HRNN) on
    POP909's train split (``songs``: other :class:`~symbolic.data.leadsheets.LeadSheetSong`
    lists as ``{"train": ..., "valid": ..., "test": ...}``; ``data_path``: the POP909 folder),
    one torch thread. Saves to ``out`` when given: ``config.json``, ``model.safetensors``,
    ``training.json`` (steps, minutes, history, held-out figures) and a ``README.md`` card
    naming ``command``; checkpoints in ``out/checkpoint`` (``resume``: go on from one).
    ``stop_at`` / ``max_minutes``: stop early (at a logged step). Returns the model (eval,
    CPU) and the report.
    """
    from ...training import check_run, fit, seed_everything, stop_rule

    s = resolve(settings or Settings())
    check_run(device=device, out=out, stop_at=stop_at, max_minutes=max_minutes)
    if songs is None:
        songs = {sp: pop909_leadsheets(sp, path=data_path, progress=progress)
                 for sp in ("train", "valid", "test")}
    sampler = WindowSampler(songs["train"], length=s.length, batch=s.batch,
                            transpose=s.transpose)
    valid = held_out_windows(songs["valid"], length=s.length, batch=s.batch,
                             n_batches=s.eval_batches)
    seed_everything(s.seed)
    model = build(s)
    started = time.time()
    ckpt = None if out is None else Path(out) / "checkpoint"
    result = fit(model, sampler, config=_fit_config(s, device, progress), eval_batches=valid,
                 checkpoint_dir=ckpt, resume=resume and ckpt is not None,
                 stop=stop_rule(stop_at, max_minutes, started))
    model.to("cpu").eval()
    test = held_out_windows(songs["test"], length=s.length, batch=s.batch,
                            n_batches=s.eval_batches)
    report = {"kind": s.kind, "steps": result.step, "planned_steps": s.steps,
              "parameters": model.n_parameters(), "settings": asdict(s),
              "minutes": round((time.time() - started) / 60, 1),
              "valid_loss": result.eval_loss, "test": head_metrics(model, test),
              "history": result.history}
    if out is not None:
        save(model, out, report, command)
    return model, report


def save(model: CMHRNN, out, report: dict, command: str | None = None) -> Path:
    """``model.save_pretrained(out)`` plus ``training.json`` and a ``README.md`` model card."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(report, indent=1))
    t = report["test"]
    names = {"hrnn": "CM-HRNN (three tiers)", "lstm": "flat LSTM baseline",
             "attention": "attention RNN baseline"}
    lines = [f"# {out.name}", "",
             f"{names[model.kind]} of the `symbolic.models.hrnn` family: a lead-sheet melody "
             "over a chord progression, after CM-HRNN (Guo, Makris & Herremans, 2020), "
             "trained on POP909 (train split 1-837, transposed to all keys).", "",
             f"- parameters: {model.n_parameters():,}; settings: `{report['settings']}`",
             f"- trained: {report['steps']} steps in {report['minutes']} min on one CPU thread"]
    if command:
        lines.append(f"- reproduce: `{command}`")
    lines += [f"- held-out loss (valid 838-873, weighted): {report['valid_loss']:.4f}",
              f"- test (874-909, 128-event windows, no transposition): note NLL "
              f"{t['note_nll']:.3f} (accuracy {t['note_acc']:.3f}), duration NLL "
              f"{t['duration_nll']:.3f} ({t['duration_acc']:.3f}), bar NLL {t['bar_nll']:.4f} "
              f"({t['bar_acc']:.4f})", "",
             "Generation: `symbolic.melodize(chords, model=...)`; evaluation against the other "
             "kinds, GETDiff and the real melodies: `python -P benchmarks/eval_hrnn.py`.", ""]
    (out / "README.md").write_text("\n".join(lines))
    return out
