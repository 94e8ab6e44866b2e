"""Train BPE (or Unigram, WordPiece) on token shards, within a memory budget.

>>> from symbolic.data.bpe import train
>>> tok = train("out/midicaps-remi", vocab_size=20_000, max_tokens=50_000_000,
...             save_as="remi-bpe-20k")            # doctest: +SKIP
>>> symbolic.tokens.load("remi-bpe-20k")            # doctest: +SKIP

Training reads the base ids the pipeline stored (no MIDI is parsed again) and feeds miditok's
own ``tokenizer.train``, so the result is an ordinary miditok tokenizer: its ids are what
``tokenizer.encode`` gives, and it saves and loads in miditok's format.

**Memory.** miditok's ``train(files_paths=...)`` holds every file's sequence and Hugging Face's
trainer counts every distinct word (a bar, with the default ``encode_ids_split="bar"``) of the
whole corpus; on MidiCaps that does not fit in memory. Here a seeded random sample of rows
whose tokens add up to ``max_tokens`` is streamed shard by shard, one row at a time, so the
trainer's counts grow with the sample, not the corpus (about 30-60 bytes per sampled token
with BPE: 20 million tokens train in about 1 GB).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from ..representations import tokens as T
from . import shards as S

__all__ = ["train", "sample_rows", "ShardBytes"]


def sample_rows(out_dir, *, max_tokens: int | None, split: str | None = "train", seed: int = 0
                ) -> dict[Path, np.ndarray]:
    """Rows to train on, per shard file (row numbers within the file, ascending): a seeded
    random sample whose tokens add up to at most ``max_tokens`` (all rows when None).

    ``split`` keeps MidiCaps' train or test rows; it is ignored for shards without captions.
    """
    files = S.shard_files(out_dir)
    counts, owners = [], []
    for f in files:
        names = pq.read_schema(f).names
        by_split = split in ("train", "test") and "test_set" in names
        cols = ["n_tokens"] + (["test_set"] if by_split else [])
        t = pq.read_table(f, columns=cols)
        n = t.column("n_tokens").to_numpy().astype(np.int64)
        keep = np.ones(len(n), dtype=bool)
        if "test_set" in cols:
            test = np.array([bool(x) for x in t.column("test_set").to_pylist()])
            keep = test if split == "test" else ~test
        rows = np.flatnonzero(keep)
        counts.append(n[rows])
        owners += [(f, r) for r in rows]
    if not owners:
        return {}
    tokens = np.concatenate(counts)
    order = np.random.default_rng(seed).permutation(len(owners))
    if max_tokens is not None:
        cum = np.cumsum(tokens[order])
        order = order[: max(1, int(np.searchsorted(cum, max_tokens, side="right")))]
    chosen: dict[Path, list[int]] = {}
    for i in order:
        f, r = owners[i]
        chosen.setdefault(f, []).append(int(r))
    return {f: np.array(sorted(r)) for f, r in chosen.items()}


class ShardBytes:
    """An iterable of training samples for Hugging Face's trainers: per sampled row, the list of
    its bars as miditok's byte strings (one string when ``encode_ids_split="no"``). Reads one
    shard's sampled rows at a time."""

    def __init__(self, tokenizer, rows: dict[Path, np.ndarray]):
        self.tok, self.rows = tokenizer, rows
        self.split = tokenizer.config.encode_ids_split
        if self.split not in ("bar", "no"):
            raise ValueError(f"encode_ids_split={self.split!r}: shards store bar starts; "
                             "use 'bar' or 'no'")

    def __len__(self) -> int:
        return int(sum(len(r) for r in self.rows.values()))

    def __iter__(self):
        for f, rows in self.rows.items():
            t = pq.read_table(f, columns=["ids", "bar_starts"]).take(rows)
            ids_col = t.column("ids").combine_chunks()
            bars_col = t.column("bar_starts").combine_chunks()
            values, offsets = ids_col.values.to_numpy(), ids_col.offsets.to_numpy()
            bvalues, boffsets = bars_col.values.to_numpy(), bars_col.offsets.to_numpy()
            for j in range(len(t)):
                ids = values[offsets[j]:offsets[j + 1]]
                text = T.ids_to_text(self.tok, ids)
                if self.split == "no":
                    yield [text]
                    continue
                starts = bvalues[boffsets[j]:boffsets[j + 1]].astype(np.int64)
                bounds = np.r_[starts, len(ids)] if len(starts) else np.array([0, len(ids)])
                yield [text[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def train(out_dir, vocab_size: int, *, model: str = "BPE", max_tokens: int | None = 20_000_000,
          split: str | None = "train", seed: int = 0, tokenizer=None, save_as=None,
          directory=None, overwrite: bool = False, **trainer_kwargs):
    """Train a ``model`` ('BPE', 'Unigram', 'WordPiece') of ``vocab_size`` ids on the shards in
    ``out_dir`` and return the trained miditok tokenizer.

    ``tokenizer`` is the base tokenizer (default: the shards' own ``tokenizer.json``; it must
    be the one the shards were made with, untrained and single-vocabulary). ``max_tokens``
    caps the sample (None: every row). ``save_as`` (a name, saved under ``directory`` or the
    repository's ``tokenizers/``, or a path) saves it in miditok's format. Extra keyword
    arguments go to the Hugging Face trainer (``min_frequency``...).
    """
    manifest = S.Manifest.read(out_dir)
    if tokenizer is None:
        base = T.load(Path(out_dir))
    elif isinstance(tokenizer, (str, Path)):
        base = T.load(tokenizer)
    else:
        base = copy.deepcopy(tokenizer)  # training changes it: leave the caller's alone
    if T.fingerprint(base) != manifest.config["tokenizer"]["fingerprint"]:
        raise ValueError("the tokenizer is not the one these shards were made with")
    if base.is_multi_voc:
        raise ValueError(f"{type(base).__name__} uses several vocabularies: "
                         "miditok cannot train it")
    if base.is_trained:
        raise ValueError("the shards hold ids of a trained tokenizer: train from base-id shards")
    rows = sample_rows(out_dir, max_tokens=max_tokens, split=split, seed=seed)
    if not rows:
        raise ValueError(f"no rows to train on in {out_dir} (split {split!r})")
    base.train(vocab_size=vocab_size, model=model, iterator=ShardBytes(base, rows),
               **trainer_kwargs)
    if save_as is not None:
        T.save(base, save_as, directory=directory, overwrite=overwrite)
    return base
