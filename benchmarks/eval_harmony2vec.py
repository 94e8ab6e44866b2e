"""harmony2vec: do the shipped embeddings know music theory? Against simple baselines.

    python benchmarks/eval_harmony2vec.py                  # the shipped weights
    python benchmarks/eval_harmony2vec.py --model runs/h2v --random-seeds 20

Every method gives each slice of the model's vocabulary a vector, and goes through the same
metric code (``symbolic.models.harmony2vec.probes``):

* h2v w+c: the model's vectors as the API uses them (unit centre + unit context vector).
* h2v centre: the centre (input) vectors alone, as Chuan et al. used them.
* random: Gaussian vectors of the model's size (mean and spread over ``--random-seeds`` draws).
* pc co-occur: for each slice, raw counts of the pitch classes sounding within the training
  window (the same beats each side, the same train pieces, all 12 transpositions): 12 numbers
  per slice, what a count-based model sees without learning anything.
* slice co-occur: for each slice, raw counts of every vocabulary slice within the window (the
  count matrix skip-gram implicitly factorizes; same pieces, window and transpositions).
* pc set: the slice's own pitch classes (12 zeros and ones): similarity is note overlap.

Printed:

1. Neighbours of the major triads: the cosine rank of V, IV and vi among the 47 other triads
   (major, minor, diminished, augmented) for C major, the mean rank over the 12 roots, and the
   share of those 36 ranks in the top 5; also the rank among every vocabulary slice.
2. Spearman correlation between the cosine distance of the 12 major (and 12 minor) triads and
   the distance of their roots on the circle of fifths (66 pairs).
3. Keys: Spearman correlation between key-vector distance and circle-of-fifths distance of
   the key signatures, for the 12 major keys (66 pairs) and all 24 (276 pairs). Key vectors
   come from the *held-out* pieces: the slice distribution of the test splits' major and minor
   passages relative to their tonic (POP909 annotations; music21 pieces: key profiles),
   moved to each tonic and averaged over each method's unit vectors.
   Caution: key vectors are averages over the slices of each key, and fifth-related keys share
   most of their slices, so even random vectors score high here; compare with that column.
4. Key finding on held-out pieces: each test piece's mean unit slice vector against the 24 key
   vectors (built from the training pieces); accuracy against the piece's main key: POP909's
   annotations, and for music21 pieces the key-profile estimate the training keys came from
   (a reference that favours the pitch-class baselines); then counting the relative key
   (C major for A minor) as right too.
5. Held-out skip-gram loss (negative sampling, the training objective) on the test splits,
   against the best context-blind (unigram) classifier and chance.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from symbolic.models import harmony2vec as h2v


def cooccurrence_vectors(corpus, masks, window: int) -> np.ndarray:
    """``[V, 12]`` raw counts of the pitch classes within ``window`` beats of each slice,
    summed over the 12 transpositions of the corpus."""
    ids, seg = h2v.id_sequences(corpus, masks)
    bits = ((masks[:, None] >> np.arange(12)) & 1).astype(np.float64)
    counts = np.zeros((len(masks), 12))
    for d in range(1, window + 1):
        same = seg[d:] == seg[:-d]
        a, b = ids[:-d][same], ids[d:][same]
        for rows, ctx in ((a, b), (b, a)):
            for pc in range(12):
                counts[:, pc] += np.bincount(rows, weights=bits[ctx, pc], minlength=len(masks))
    lut = h2v.lookup_table(masks)
    out = np.zeros_like(counts)
    for k in range(12):
        out[lut[h2v.rotate(masks, k)]] += np.roll(counts, k, axis=1)
    return out


def slice_cooccurrence_vectors(corpus, masks, window: int) -> np.ndarray:
    """``[V, V]`` raw counts of each vocabulary slice within ``window`` beats of each slice,
    summed over the 12 transpositions of the corpus."""
    ids, seg = h2v.id_sequences(corpus, masks)
    n = len(masks)
    counts = np.zeros(n * n)
    for d in range(1, window + 1):
        same = seg[d:] == seg[:-d]
        a, b = ids[:-d][same], ids[d:][same]
        counts += np.bincount(a * n + b, minlength=n * n) + np.bincount(b * n + a, minlength=n * n)
    counts = counts.reshape(n, n)
    lut = h2v.lookup_table(masks)
    out = np.zeros_like(counts)
    for k in range(12):
        rot = lut[h2v.rotate(masks, k)]
        out[np.ix_(rot, rot)] += counts
    return out


def pc_set_vectors(masks) -> np.ndarray:
    return ((np.asarray(masks)[:, None] >> np.arange(12)) & 1).astype(np.float64)


def piece_keys(corpus, pop909: bool) -> list[tuple[np.ndarray, int]]:
    """(tokens, main key index) of the held-out pieces (POP909's or the others) whose key is
    known."""
    out = []
    for i in range(len(corpus)):
        if str(corpus.names[i]).startswith("pop909:") != pop909:
            continue
        keys = corpus.keys[corpus.offsets[i]:corpus.offsets[i + 1]]
        keys = keys[keys >= 0]
        if len(keys):
            out.append((corpus.piece(i), int(np.bincount(keys, minlength=24).argmax())))
    return out


def relative(key: int) -> int:
    """Key.index of the relative key (C major 0 <-> A minor 21)."""
    return (key + 9) % 12 + 12 if key < 12 else (key + 3) % 12


def key_accuracy(masks, vectors, train_key_counts, pieces) -> tuple[float, float]:
    """Share of pieces whose nearest key vector is their key; and their key or its relative."""
    kv = h2v.unit_vectors(h2v.key_vectors_from(masks, vectors, train_key_counts))
    unit = h2v.unit_vectors(vectors)
    lut = h2v.lookup_table(masks)
    exact = near = 0
    for tokens, key in pieces:
        ids = lut[tokens.astype(np.int64)]
        ids = ids[ids >= 0]
        if len(ids) == 0:
            continue
        guess = int(np.argmax(kv @ unit[ids].mean(axis=0)))
        exact += guess == key
        near += guess in (key, relative(key))
    n = max(len(pieces), 1)
    return exact / n, near / n


def probes(masks, vectors, held_key_counts, train_key_counts, pieces: dict) -> dict:
    r = h2v.triad_ranks(masks, vectors, among="triads")
    r_all = h2v.triad_ranks(masks, vectors, among="all")
    kv = h2v.key_vectors_from(masks, vectors, held_key_counts)
    pop = key_accuracy(masks, vectors, train_key_counts, pieces["pop909"])
    m21 = key_accuracy(masks, vectors, train_key_counts, pieces["music21"])
    return {
        "C: rank of V": r[0, 0], "C: rank of IV": r[0, 1], "C: rank of vi": r[0, 2],
        "12 roots: mean rank of V": r[:, 0].mean(), "12 roots: mean rank of IV": r[:, 1].mean(),
        "12 roots: mean rank of vi": r[:, 2].mean(),
        "share of V/IV/vi ranks in top 5": (r <= 5).mean(),
        "roots with V, IV, vi all in top 5": int((r <= 5).all(axis=1).sum()),
        "C: rank of V among all slices": r_all[0, 0],
        "C: rank of IV among all slices": r_all[0, 1],
        "C: rank of vi among all slices": r_all[0, 2],
        "12 roots: mean rank of V/IV/vi, all slices": r_all.mean(),
        "Spearman major triads vs fifths": h2v.fifths_correlation(masks, vectors, "maj"),
        "Spearman minor triads vs fifths": h2v.fifths_correlation(masks, vectors, "min"),
        "Spearman 12 major keys vs fifths": h2v.key_fifths_correlation(kv, "major"),
        "Spearman 24 keys vs fifths": h2v.key_fifths_correlation(kv, "all"),
        "key finding, POP909 test (annotated)": pop[0],
        "  POP909, relative key counted right": pop[1],
        "key finding, music21 test (profile keys)": m21[0],
        "  music21, relative key counted right": m21[1],
    }


def nearest_triads(masks, vectors, query: str = "C:maj", n: int = 6) -> str:
    v = h2v.unit_vectors(vectors)
    cand = np.flatnonzero(np.isin(masks, h2v.chord_masks("triads")))
    q = h2v.rows_of(masks, [h2v.slice_mask(query)])[0]
    cand = cand[cand != q]
    sims = v[cand] @ v[q]
    order = np.argsort(-sims, kind="stable")[:n]
    return ", ".join(f"{h2v.chord_label(int(masks[cand[k]]))} {sims[k]:.2f}" for k in order)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="model folder (default: shipped weights)")
    ap.add_argument("--random-seeds", type=int, default=10)
    ap.add_argument("--eval-batches", type=int, default=50)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    model = h2v.load(args.model)
    s = model.settings
    sources = s.get("sources") or h2v.SOURCES
    train = h2v.load_corpus(sources, "train", progress=True)
    held = h2v.load_corpus(sources, "test", progress=True)
    masks = model.vocab_masks
    train_kc = model.key_counts.numpy()
    held_kc = h2v.key_slice_counts(held, masks)
    pieces = {"pop909": piece_keys(held, True), "music21": piece_keys(held, False)}
    print(f"model: {len(masks)} slices x {model.dim} dimensions; trained on {len(train)} "
          f"pieces ({train.n_tokens} slices); held out: {len(held)} pieces "
          f"({held.n_tokens} slices; keys: {len(pieces['pop909'])} POP909, "
          f"{len(pieces['music21'])} music21)")

    window = s.get("window", 4)
    vectors = {
        "h2v w+c": model.vectors(),
        "h2v centre": model.vectors(which="center"),
        "pc co-occur": cooccurrence_vectors(train, masks, window),
        "slice co-occur": slice_cooccurrence_vectors(train, masks, window),
        "pc set": pc_set_vectors(masks),
    }
    methods = {name: probes(masks, v, held_kc, train_kc, pieces) for name, v in vectors.items()}
    draws = [probes(masks, np.random.default_rng(seed).normal(size=(len(masks), model.dim)),
                    held_kc, train_kc, pieces) for seed in range(args.random_seeds)]
    random_mean = {k: float(np.mean([d[k] for d in draws])) for k in draws[0]}
    random_sd = {k: float(np.std([d[k] for d in draws])) for k in draws[0]}

    n_triads = int(np.isin(masks, h2v.chord_masks("triads")).sum()) - 1
    print(f"\nRanks are 1-based among the {n_triads} other triads (major, minor, dim, aug) "
          f"unless marked 'all slices' ({len(masks) - 1} others); random: mean±sd of "
          f"{args.random_seeds} draws.\n")
    names = ["h2v w+c", "h2v centre", "random", "pc co-occur", "slice co-occur", "pc set"]
    print(f"{'metric':44s}" + "".join(f"{n:>15s}" for n in names))
    for key in methods["h2v w+c"]:
        row = f"{key:44s}"
        for name in names:
            if name == "random":
                row += f"{_fmt(random_mean[key], True)}±{_fmt(random_sd[key], True)}".rjust(15)
            else:
                row += f"{_fmt(methods[name][key]):>15s}"
        print(row)

    print("\nNearest triads of C major:")
    for name, v in vectors.items():
        print(f"  {name:15s} {nearest_triads(masks, v)}")

    sampler = h2v.PairSampler(held, masks, model.counts.numpy(), window=s.get("window", 4),
                              negatives=s.get("negatives", 5), batch_size=2048,
                              subsample=s.get("subsample", 1e-3),
                              transpose=s.get("transpose", True),
                              merge_repeats=s.get("merge_repeats", False))
    rng = np.random.default_rng(1234)
    batches = [sampler(rng) for _ in range(args.eval_batches)]
    train_sampler = h2v.PairSampler(train, masks, model.counts.numpy(),
                                    window=s.get("window", 4), negatives=s.get("negatives", 5),
                                    subsample=s.get("subsample", 1e-3),
                                    transpose=s.get("transpose", True),
                                    merge_repeats=s.get("merge_repeats", False))
    log_odds = train_sampler.context_log_odds(np.random.default_rng(99))
    with torch.no_grad():
        loss = float(np.mean([float(model(**b)) for b in batches]))
    unigram = float(np.mean([h2v.unigram_loss(b, log_odds) for b in batches]))
    chance = (1 + s.get("negatives", 5)) * np.log(2.0)
    print(f"\nHeld-out skip-gram loss ({args.eval_batches} x 2048 pairs of the test splits, "
          f"all 12 transpositions; lower is better):")
    print(f"  harmony2vec {loss:.4f}   unigram baseline {unigram:.4f}   chance {chance:.4f}")
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


def _fmt(value, short: bool = False) -> str:
    """Counts as integers, other figures with 3 decimals (2 in the random column)."""
    if not short and float(value).is_integer():
        return f"{int(value)}"
    return f"{float(value):.2f}" if short else f"{float(value):.3f}"


if __name__ == "__main__":
    sys.exit(main())
