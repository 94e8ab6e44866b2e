"""Training harmony2vec: the skip-gram pair sampler, the unigram baseline, and
:func:`train` over the shared loop :func:`symbolic.training.fit`.

Transposition to all 12 keys happens on the fly (each pair moved by a random interval), so
every key is seen equally; frequent slices are subsampled as in word2vec (``subsample``);
negatives come from the (transposition-averaged) unigram distribution to the power 0.75; the
window is dynamic (1..``window`` beats each side). Silences split a sequence; slices outside
the vocabulary are skipped (as word2vec skips rare words).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ...data.slice_corpus import SliceCorpus, load_corpus
from ...errors import ArgumentError, OutOfVocabularyError
from .model import Harmony2Vec
from .settings import Settings
from .vocab import build_vocab, id_sequences, key_slice_counts, lookup_table, rotate

__all__ = ["PairSampler", "unigram_loss", "train", "save"]


class PairSampler:
    """Skip-gram training pairs drawn at random from a corpus (``make_batch`` of
    :func:`symbolic.training.fit`): ``sampler(rng, step) -> {center, context, negatives,
    weight}``. A centre position is drawn with word2vec's subsampling weight, a context at a
    distance of 1..b beats (``b`` uniform in 1..``window``) on a random side; pairs crossing a
    segment end, or whose context is subsampled away, get weight 0. With ``transpose`` each
    pair is moved by a random interval (a table lookup: the vocabulary is closed under
    transposition)."""

    def __init__(self, corpus: SliceCorpus, vocab: np.ndarray, counts: np.ndarray, *,
                 window: int = 4, negatives: int = 5, batch_size: int = 2048,
                 subsample: float = 1e-3, transpose: bool = True, merge_repeats: bool = False):
        self.ids, self.seg = id_sequences(corpus, vocab, merge_repeats)
        if len(self.ids) < 2:
            raise OutOfVocabularyError("fewer than two in-vocabulary slices", "corpus")
        self.window, self.negatives, self.batch_size = int(window), int(negatives), int(batch_size)
        self.transpose = transpose
        freq = np.asarray(counts, dtype=np.float64)
        freq = freq / freq.sum()
        keep = np.ones_like(freq)
        if subsample:
            keep = np.minimum(1.0, (np.sqrt(freq / subsample) + 1.0) * subsample / freq)
        self.keep = keep
        w = keep[self.ids]
        self.center_cdf = np.cumsum(w) / w.sum()
        neg = freq ** 0.75
        self.negative_cdf = np.cumsum(neg) / neg.sum()
        lut = lookup_table(vocab)
        self.rot = np.stack([lut[rotate(vocab, k)] for k in range(12)])
        if transpose and (self.rot < 0).any():
            raise OutOfVocabularyError("transpose=True needs a vocabulary closed under "
                                       "transposition", "vocab")

    def __call__(self, rng: np.random.Generator, step: int = 0) -> dict:
        n, b = len(self.ids), self.batch_size
        i = np.minimum(np.searchsorted(self.center_cdf, rng.random(b), side="right"), n - 1)
        reach = rng.integers(1, self.window + 1, b)
        dist = np.floor(rng.random(b) * reach).astype(np.int64) + 1
        j = i + np.where(rng.random(b) < 0.5, -dist, dist)
        inside = (j >= 0) & (j < n)
        j = np.clip(j, 0, n - 1)
        center, context = self.ids[i], self.ids[j]
        valid = inside & (self.seg[j] == self.seg[i]) & (rng.random(b) < self.keep[context])
        negatives = np.minimum(np.searchsorted(self.negative_cdf, rng.random((b, self.negatives)),
                                               side="right"), len(self.negative_cdf) - 1)
        if self.transpose:
            k = rng.integers(0, 12, b)
            center, context = self.rot[k, center], self.rot[k, context]
        return {"center": torch.from_numpy(center), "context": torch.from_numpy(context),
                "negatives": torch.from_numpy(negatives),
                "weight": torch.from_numpy(valid.astype(np.float32))}

    def context_log_odds(self, rng: np.random.Generator, n_batches: int = 100) -> np.ndarray:
        """Log-odds ``log p(context) / (K * p_neg(context))`` that a context-blind classifier
        assigns to each slice, estimated from ``n_batches`` batches: the unigram baseline of
        :func:`unigram_loss`."""
        hits = np.zeros(len(self.negative_cdf))
        for _ in range(n_batches):
            batch = self(rng)
            ctx, w = batch["context"].numpy(), batch["weight"].numpy()
            hits += np.bincount(ctx, weights=w, minlength=len(hits))
        p = (hits + 0.5) / (hits + 0.5).sum()
        p_neg = np.diff(np.r_[0.0, self.negative_cdf])
        return np.log(p / (self.negatives * np.maximum(p_neg, 1e-12)))


def unigram_loss(batch: dict, log_odds: np.ndarray) -> float:
    """The negative-sampling loss of a classifier that knows only how frequent each context
    slice is (the best context-blind score, ``log_odds`` from
    :meth:`PairSampler.context_log_odds`): what the model must beat on held-out pairs."""
    s = torch.as_tensor(log_odds, dtype=torch.float64)
    pos = F.logsigmoid(s[batch["context"]])
    neg = F.logsigmoid(-s[batch["negatives"]]).sum(-1)
    w = batch["weight"].double()
    return float(-((pos + neg) * w).sum() / w.sum().clamp_min(1e-9))


def train(settings: Settings | None = None, *, out=None, corpus: SliceCorpus | None = None,
          held_out: SliceCorpus | None = None, progress: bool = True, device: str = "auto",
          checkpoint_dir=None, resume: bool = False,
          command: str | None = None) -> tuple[Harmony2Vec, dict]:
    """Train a model with ``settings`` (default :class:`Settings`) on ``corpus`` (default: the
    train splits of ``settings.sources``), evaluating on ``held_out`` (default: their test
    splits). Saves to ``out`` when given (``config.json``, ``model.safetensors``, and a
    ``README.md`` card with the held-out figures and ``command``, the command line that repeats
    the run). Returns the model (eval mode, CPU) and a report: corpus sizes, held-out loss of
    the model, of the unigram baseline and of chance, and the loss history.
    """
    from ...training import check_run, fit, seed_everything

    s = settings or Settings()
    if not isinstance(s, Settings):
        raise ArgumentError(f"must be a harmony2vec Settings, got {type(s).__name__}",
                            "settings")
    check_run(device=device, out=out)
    if resume and checkpoint_dir is None:
        raise ArgumentError("resume needs checkpoint_dir (the folder to go on from)", "resume")
    if corpus is None:
        corpus = load_corpus(s.sources, "train", progress=progress)
    if held_out is None:
        held_out = load_corpus(s.sources, "test", progress=progress)
    vocab, counts = build_vocab(corpus.tokens, max_size=s.max_vocab, min_count=s.min_count,
                                transpose=s.transpose)
    if len(vocab) == 0:
        raise OutOfVocabularyError("no slice reaches min_count: the corpus is too small",
                                   "corpus")
    seed_everything(s.seed)
    model = Harmony2Vec.from_vocab(vocab, counts, dim=s.dim,
                                   key_counts=key_slice_counts(corpus, vocab),
                                   settings=asdict(s))
    opts = dict(window=s.window, negatives=s.negatives, batch_size=s.batch_size,
                subsample=s.subsample, transpose=s.transpose, merge_repeats=s.merge_repeats)
    sampler = PairSampler(corpus, vocab, counts, **opts)
    eval_sampler = PairSampler(held_out, vocab, counts, **opts)
    eval_rng = np.random.default_rng(s.seed + 1)
    eval_batches = [eval_sampler(eval_rng) for _ in range(s.eval_batches)]
    result = fit(model, sampler, config=_train_config(s, device, progress),
                 eval_batches=eval_batches, checkpoint_dir=checkpoint_dir, resume=resume)
    model.cpu()
    log_odds = sampler.context_log_odds(np.random.default_rng(s.seed + 2))
    report = {
        "train_pieces": len(corpus), "train_slices": corpus.n_tokens,
        "held_out_pieces": len(held_out), "held_out_slices": held_out.n_tokens,
        "vocab_size": int(len(vocab)),
        "vocab_coverage": float(np.isin(corpus.tokens[corpus.tokens > 0], vocab).mean()),
        "held_out_loss": result.eval_loss,
        "unigram_loss": float(np.mean([unigram_loss(b, log_odds) for b in eval_batches])),
        "chance_loss": (1 + s.negatives) * math.log(2.0),
        "history": result.history,
    }
    if out is not None:
        save(model, out, report=report, command=command)
    return model, report


def _train_config(s: Settings, device: str, progress: bool):
    """The loop's settings: Adam with cosine decay to 2%, no clipping, one thread (the
    shipped weights were trained so), five evaluations and checkpoints per run."""
    from ...training import TrainConfig

    return TrainConfig(steps=s.steps, lr=s.lr, optimizer="adam", schedule="cosine",
                       min_lr_ratio=0.02, grad_clip=None, eval_every=max(s.steps // 5, 1),
                       checkpoint_every=max(s.steps // 5, 1), log_every=max(s.steps // 20, 1),
                       seed=s.seed, device=device, threads=1, progress=progress)


def save(model: Harmony2Vec, out, *, report: dict | None = None,
         command: str | None = None) -> Path:
    """``model.save_pretrained(out)`` plus a ``README.md`` card (recipe and held-out loss)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    card = out / "README.md"
    model.save_pretrained(out)
    lines = ["# harmony2vec", "",
             "Skip-gram (negative sampling) embeddings of one-beat pitch-class slices, after "
             "Chuan, Agres & Herremans (2018). Code: `symbolic.models.harmony2vec`.", "",
             f"- vocabulary: {len(model)} slices (whole transposition classes), "
             f"vectors of {model.dim} dimensions",
             f"- settings: `{model.settings}`"]
    if command:
        lines.append(f"- reproduce: `{command}`")
    if report:
        lines.append(f"- data: {report['train_pieces']} train pieces "
                     f"({report['train_slices']} slices), held out {report['held_out_pieces']} "
                     f"pieces ({report['held_out_slices']} slices)")
        lines.append(f"- held-out negative-sampling loss: {report['held_out_loss']:.4f} "
                     f"(unigram baseline {report['unigram_loss']:.4f}, chance "
                     f"{report['chance_loss']:.4f})")
    lines += ["", "Evaluation: `python benchmarks/eval_harmony2vec.py`.", ""]
    card.write_text("\n".join(lines))
    return out
