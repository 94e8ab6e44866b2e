"""Training the theme encoder: contrastive learning over two-bar melody segments of POP909's
train split, as in Theme Transformer (Shih et al., 2022).

Each step draws ``batch`` distinct segments (distinct features: a chorus repeated in one song,
or a one-note segment met in many songs, is drawn once per batch, so it never serves as its own
negative) and makes two random variants of each (:func:`~.segments.augment`: scale shift, last
note's duration, split, merge). NT-Xent (:func:`~.model.nt_xent`) pulls a segment's two
variants together and pushes them from the other segments of the batch. Held-out loss and
pair accuracy (how often a variant's nearest row in the batch is its partner) come from the
valid split (songs 838-873); the test songs (874-909, the theme prompts) are never read here.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from ...errors import ArgumentError, SymbolicError
from .model import DEFAULT, ThemeEncoder, nt_xent
from .segments import augment, melody_segments, segment_tokens
from .settings import Settings

__all__ = ["pop909_segments", "ViewSampler", "train", "save", "pair_accuracy", "DEFAULT"]


def pop909_segments(split: str, path=None) -> list:
    """:class:`~.segments.MelodySegments` of every available POP909 song of ``split``
    (annotated bars, MELODY track); a song that cannot be read is left out."""
    from ...data.pop909 import Pop909

    pop = Pop909(path)
    out = []
    for i in pop.available(split):
        try:
            song = pop.song(i)
            out.append(melody_segments(song.score, melody="MELODY", bar_ticks=song.bar_ticks()))
        except SymbolicError:
            continue
    return out


class ViewSampler:
    """Two augmented views of ``batch`` distinct segments (``make_batch`` of
    :func:`symbolic.training.fit`): ``sampler(rng, step) -> {"a": [B, 32], "b": [B, 32]}``
    token tensors. Segments with fewer than ``min_notes`` notes are never drawn."""

    def __init__(self, songs: list, *, batch: int = 256, aug_p: float = 0.5,
                 max_degrees: int = 2, min_notes: int = 3):
        self.notes, self.scales, rows = [], [], []
        for song in songs:
            for notes, tokens in zip(song.notes, song.tokens):
                if len(notes) >= min_notes:
                    self.notes.append(notes)
                    self.scales.append(song.scale)
                    rows.append(tokens)
        if len(self.notes) < 2:
            raise ArgumentError(f"fewer than two segments with {min_notes}+ notes", "songs")
        self.tokens = np.stack(rows)
        self.batch = min(int(batch), len(self.notes))
        self.aug_p, self.max_degrees = float(aug_p), int(max_degrees)

    def __len__(self) -> int:
        return len(self.notes)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Indices of up to ``batch`` segments with pairwise different features."""
        pick = rng.choice(len(self.notes), size=min(2 * self.batch, len(self.notes)),
                          replace=False)
        _, first = np.unique(self.tokens[pick], axis=0, return_index=True)
        return pick[np.sort(first)][:self.batch]

    def __call__(self, rng: np.random.Generator, step: int = 0) -> dict:
        views = {"a": [], "b": []}
        for i in self.draw(rng):
            for key in views:
                notes = augment(self.notes[i], self.scales[i], rng, p=self.aug_p,
                                max_degrees=self.max_degrees)
                views[key].append(segment_tokens(notes))
        return {k: torch.from_numpy(np.stack(v)) for k, v in views.items()}


@torch.no_grad()
def pair_accuracy(model: ThemeEncoder, batches) -> float:
    """Share of views whose nearest other row among both views of its batch is its partner."""
    hits = total = 0
    for batch in batches:
        a, b = model(batch["a"]), model(batch["b"])
        z = torch.cat([a, b])
        sims = (z @ z.T).fill_diagonal_(-2.0)
        n = len(a)
        target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
        hits += int((sims.argmax(1) == target).sum())
        total += 2 * n
    return hits / max(total, 1)


def train(settings: Settings | None = None, out=None, *, device: str = "auto",
          progress: bool = True, max_minutes: float | None = None, data_path=None,
          songs: dict | None = None, command: str | None = None) -> tuple[ThemeEncoder, dict]:
    """Train the encoder with ``settings`` (default :class:`Settings`) on POP909's train split
    (``data_path``: the POP909 folder; ``songs``: ``{"train": [...], "valid": [...]}`` of
    :class:`~.segments.MelodySegments` instead), one torch thread. ``max_minutes``: stop
    early (at a logged step). Saves to ``out`` when given (``config.json``,
    ``model.safetensors``, ``training.json``, a ``README.md`` card naming ``command``).
    Returns the model (eval, CPU) and the report."""
    from ...training import check_run, fit, seed_everything, stop_rule

    s = settings or Settings()
    if not isinstance(s, Settings):
        raise ArgumentError(f"must be a themes Settings, got {type(s).__name__}", "settings")
    check_run(device=device, out=out, max_minutes=max_minutes)
    started = time.time()
    if songs is None:
        songs = {sp: pop909_segments(sp, data_path) for sp in ("train", "valid")}
    opts = dict(batch=s.batch, aug_p=s.aug_p, max_degrees=s.max_degrees, min_notes=s.min_notes)
    sampler, held = ViewSampler(songs["train"], **opts), ViewSampler(songs["valid"], **opts)
    rng = np.random.default_rng(s.seed + 1)
    valid = [held(rng) for _ in range(s.eval_batches)]
    seed_everything(s.seed)
    model = ThemeEncoder(s.embed, s.channels, s.layers, s.kernel, s.dim, settings=asdict(s))
    loaded = time.time()
    result = fit(model, sampler, lambda m, b: nt_xent(m(b["a"]), m(b["b"]), s.temperature),
                 config=_fit_config(s, device, progress), eval_batches=valid,
                 stop=stop_rule(None, max_minutes, started))
    model.to("cpu").eval()
    report = {"train_songs": len(songs["train"]), "train_segments": len(sampler),
              "valid_songs": len(songs["valid"]), "valid_segments": len(held),
              "load_seconds": round(loaded - started, 1), "steps": result.step,
              "planned_steps": s.steps, "train_minutes": round((time.time() - loaded) / 60, 2),
              "valid_loss": result.eval_loss, "valid_pair_accuracy": pair_accuracy(model, valid),
              "parameters": model.n_parameters(), "settings": asdict(s),
              "history": result.history}
    if out is not None:
        save(model, out, report, command)
    return model, report


def _fit_config(s: Settings, device: str, progress: bool):
    from ...training import TrainConfig

    return TrainConfig(steps=s.steps, lr=s.lr, optimizer="adam", warmup=min(100, s.steps // 10),
                       schedule="cosine", min_lr_ratio=0.1, grad_clip=1.0,
                       eval_every=max(s.steps // 5, 1), log_every=max(min(50, s.steps // 10), 1),
                       seed=s.seed, device=device, threads=1, progress=progress)


def save(model: ThemeEncoder, out, report: dict, command: str | None = None) -> Path:
    """``model.save_pretrained(out)`` plus ``training.json`` and a ``README.md`` model card."""
    card = _card(model, report, command)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    (out / "README.md").write_text(card.replace("{name}", out.name))
    (out / "training.json").write_text(json.dumps(report, indent=1))
    return out


def _card(model: ThemeEncoder, report: dict, command: str | None) -> str:
    lines = ["# {name}", "",
             "Theme encoder of `symbolic.models.themes`: two-bar melody segments to 64-d unit "
             "vectors, trained contrastively (NT-Xent, augmentations as positive pairs) on "
             "POP909's train split (songs 1-837), after Theme Transformer (Shih et al., 2022).",
             "",
             f"- parameters: {model.n_parameters():,}; settings: `{report['settings']}`",
             f"- data: {report['train_segments']:,} segments of {report['train_songs']} songs",
             f"- trained: {report['steps']} steps in {report['train_minutes']} min on one CPU "
             f"thread",
             f"- valid (songs 838-873): NT-Xent {report['valid_loss']:.4f}, pair accuracy "
             f"{report['valid_pair_accuracy']:.3f}"]
    if command:
        lines.append(f"- reproduce: `{command}`")
    lines += ["", "Evaluation: `python benchmarks/eval_theme_retrieval.py`.", ""]
    return "\n".join(lines)
