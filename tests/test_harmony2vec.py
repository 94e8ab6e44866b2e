"""harmony2vec: vocabulary, sampler, training on a tiny corpus, save/load, the music API on the
shipped weights, metrics, plots, CLI, corpus extraction and its cache."""

import json

import numpy as np
import pytest
import torch

from symbolic.cli import main
from symbolic.errors import ChordLabelError
from symbolic.harmony import Chord, Key
from symbolic.models import harmony2vec as h2v
from symbolic.models import pretrained_path
from symbolic.models.harmony2vec import (
    OutOfVocabularyError, PairSampler, Settings, SliceCorpus,
)


# ------------------------------------------------------------------------------ helpers

def fifths_walk(n_pieces=60, length=64, seed=0) -> SliceCorpus:
    """Chords drifting along the circle of fifths (a major triad or its relative minor), with
    the passage's key: a toy corpus whose only structure is the circle of fifths."""
    rng = np.random.default_rng(seed)
    pieces = []
    for p in range(n_pieces):
        pos, toks, keys = rng.integers(12), [], []
        for _ in range(length):
            pos = (pos + rng.choice([-1, 0, 1])) % 12
            root = 7 * pos % 12
            chord = Chord(root) if rng.random() < 0.7 else Chord(root + 9, "min")
            toks.append(chord.mask)
            keys.append(Key(root).index)
        toks[length // 2] = 0  # a rest splits the piece
        pieces.append((f"walk:{p}", np.array(toks), np.array(keys)))
    return SliceCorpus.from_pieces(pieces)


TINY = Settings(dim=16, steps=300, batch_size=512, lr=0.02, eval_batches=2, max_vocab=64,
                min_count=1, sources={})


@pytest.fixture(scope="module")
def tiny():
    model, report = h2v.train(TINY, corpus=fifths_walk(), held_out=fifths_walk(8, seed=1),
                              progress=False, device="cpu")
    return model, report


@pytest.fixture(scope="module")
def shipped():
    return h2v.load()


# ------------------------------------------------------------------------------ parts

def test_rotate_moves_pitch_classes():
    assert h2v.rotate(145, 7) == Chord(7).mask  # C-E-G up a fifth is G-B-D
    assert h2v.rotate(145, 12) == 145 and h2v.rotate(145, -5) == Chord(7).mask
    masks = np.arange(4096)
    assert np.array_equal(h2v.rotate(h2v.rotate(masks, 5), 7), masks)


def test_vocab_keeps_whole_transposition_classes():
    tokens = np.array([145] * 50 + [Chord(2, "min").mask] * 30 + [1] * 3 + [0] * 100)
    masks, counts = h2v.build_vocab(tokens, max_size=30, min_count=1)
    assert 0 not in masks
    assert len(masks) == 24  # 12 major + 12 minor triads; the 12 single notes do not fit
    assert set(h2v.rotate(masks, 1).tolist()) == set(masks.tolist())
    assert counts[0] == pytest.approx(50 / 12) and np.all(np.diff(counts) <= 0)
    plain, plain_counts = h2v.build_vocab(tokens, max_size=30, min_count=1, transpose=False)
    assert plain.tolist() == [145, Chord(2, "min").mask, 1] and plain_counts[0] == 50


def test_slice_mask_reads_chords_slices_and_pitches():
    assert h2v.slice_mask("C:maj") == 145 == h2v.slice_mask("C")
    assert h2v.slice_mask("C-E-G") == 145 == h2v.slice_mask("E-G-C")
    assert h2v.slice_mask("Am7") == h2v.slice_mask("E-G-A-C")
    assert h2v.slice_mask([60, 64, 67]) == 145 == h2v.slice_mask(145)
    assert h2v.slice_mask(Chord(7)) == Chord(7).mask
    with pytest.raises(ChordLabelError):
        h2v.slice_mask("H:maj")
    with pytest.raises(ValueError):
        h2v.slice_mask(5000)


def test_chord_labels():
    assert h2v.chord_label(145) == "C:maj"
    assert h2v.chord_label(Chord(9, "min7").mask) == "A:min7"  # not C:maj6
    assert h2v.chord_label(Chord(7, "7").mask) == "G:7"
    assert h2v.chord_label(h2v.slice_mask("C-E")) == "C-E"  # dyads keep their slice name


def test_fifths_distance_and_spearman():
    assert h2v.fifths_distance(0, 7) == 1 and h2v.fifths_distance(0, 6) == 6
    assert h2v.fifths_distance(0, 2) == 2 and h2v.fifths_distance(9, 0) == 3
    assert h2v.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert h2v.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties take their mean rank: ranks (1.5, 1.5, 3) against (1, 2, 3)
    assert h2v.spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(0.8660254)


def test_sampler_pairs_stay_inside_segments_and_window():
    corpus = fifths_walk(4, 32)
    masks, counts = h2v.build_vocab(corpus.tokens, max_size=64, min_count=1)
    s = PairSampler(corpus, masks, counts, window=2, negatives=3, batch_size=4000,
                    subsample=0, transpose=False)
    b1, b2 = s(np.random.default_rng(0)), s(np.random.default_rng(0))
    assert all(torch.equal(b1[k], b2[k]) for k in b1)
    assert b1["negatives"].shape == (4000, 3)
    w = b1["weight"].numpy() > 0
    assert 0.5 < w.mean() < 1.0
    # Every kept pair is two chords at most 2 steps apart on the walk (|fifths| <= 2 + minors).
    c, o = masks[b1["center"].numpy()[w]], masks[b1["context"].numpy()[w]]
    assert set(c.tolist()) | set(o.tolist()) <= set(masks.tolist())
    t = PairSampler(corpus, masks, counts, window=2, negatives=3, batch_size=4000,
                    transpose=True)(np.random.default_rng(0))
    assert t["center"].max() < len(masks)


def test_training_learns_the_circle_of_fifths(tiny):
    model, report = tiny
    assert report["held_out_loss"] < report["unigram_loss"] < report["chance_loss"]
    m, v = model.vocab_masks, model.vectors()
    assert h2v.fifths_correlation(m, v) > 0.7
    ranks = h2v.triad_ranks(m, v, among="majmin")
    assert ranks[:, :2].mean() <= 4  # V and IV near the top among the 23 other triads
    kv = model.key_vectors()
    assert h2v.key_fifths_correlation(kv, "major") > 0.7


def test_save_and_load_round_trip(tiny, tmp_path, capsys):
    model, report = tiny
    h2v.save(model, tmp_path / "m", report=report, command="symbolic train harmony2vec")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["README.md", "config.json", "model.safetensors"]
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["dim"] == 16 and config["settings"]["window"] == TINY.window
    capsys.readouterr()
    again = h2v.load(tmp_path / "m")
    assert capsys.readouterr().out == ""
    assert np.array_equal(again.vectors(), model.vectors())
    for name in ("vocab", "counts", "key_counts", "context.weight"):
        assert torch.equal(again.state_dict()[name], model.state_dict()[name])
    assert "held-out" in (tmp_path / "m" / "README.md").read_text()


# ------------------------------------------------------------------------------ shipped model

def test_shipped_weights_are_small_safetensors():
    path = pretrained_path("harmony2vec")
    sizes = {p.name: p.stat().st_size for p in path.iterdir()}
    assert {"config.json", "model.safetensors"} <= set(sizes)
    assert sum(sizes.values()) < 10_000_000
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in sizes)


def test_shipped_model_speaks_music(shipped):
    triads = [n.label for n in shipped.similar("C:maj", 5, among="triads")]
    assert {"G:maj", "F:maj", "A:min"} <= set(triads)
    assert shipped.similarity("C:maj", "G:maj") == pytest.approx(
        shipped.similarity("G:maj", "C:maj"))
    assert shipped.similarity("C:maj", "G:maj") > shipped.similarity("C:maj", "F#:maj")
    # by mask, slice name or pitches: the same vector
    assert np.array_equal(shipped.vector(145), shipped.vector("C-E-G"))
    assert np.array_equal(shipped.vector([48, 52, 55]), shipped.vector(Chord(0)))
    answer = [n.label for n in shipped.analogy("C:maj", "G:maj", "F:maj", topn=3)]
    assert "C:maj" not in answer and "G:maj" not in answer and "F:maj" not in answer
    assert h2v.similar("C:maj", 3, "triads")[0].label == triads[0]  # module-level helpers


def test_shipped_keys_follow_the_circle_of_fifths(shipped):
    kv = shipped.key_vectors()
    assert kv.shape == (24, shipped.dim)
    assert h2v.key_fifths_correlation(kv, "major") > 0.5

    def cos(a, b):
        a, b = shipped.key_vector(a), shipped.key_vector(b)
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)

    assert cos("C:maj", "G:maj") > cos("C:maj", "F#:maj")
    assert cos("C:maj", "A:min") > cos("C:maj", "Eb:min")


def test_piece_vector_and_errors(shipped):
    from symbolic import load

    score = load("corpus:bach/bwv66.6")
    v = shipped.piece_vector(score)
    assert v.shape == (shipped.dim,) and np.isfinite(v).all()
    assert np.allclose(v, h2v.piece_vector(score))
    missing = next(m for m in range(1, 4096) if m not in set(shipped.vocab_masks.tolist()))
    assert missing not in shipped
    with pytest.raises(OutOfVocabularyError, match="not in the vocabulary"):
        shipped.vector(missing)
    with pytest.raises(OutOfVocabularyError):
        shipped.piece_vector(np.array([0, missing]))


def test_plots_write_pngs(shipped, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    for name, draw in (("t.png", h2v.plot_triads), ("k.png", h2v.plot_key_distances),
                       ("n.png", h2v.plot_neighbours)):
        ax = draw(shipped, path=tmp_path / name)
        assert ax is not None
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_cli_similar_analogy_plot(capsys, tmp_path):
    assert main(["harmony-embed", "similar", "C:maj", "145", "--topn", "3",
                 "--among", "triads"]) == 0
    out = capsys.readouterr().out
    assert out.count("C:maj:") == 1 and "145:" in out
    assert main(["harmony-embed", "analogy", "C:maj", "G:maj", "A:min"]) == 0
    assert "is to" in capsys.readouterr().out
    assert main(["harmony-embed", "plot", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "keys.png", "neighbours.png", "triads.png"]
    assert main(["harmony-embed", "similar", "H:maj"]) == 1  # a clear error, no traceback
    assert "H:maj" in capsys.readouterr().err


# ------------------------------------------------------------------------------ data

@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBOLIC_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "harmony2vec"


def test_extract_music21_slices_and_cache(cache):
    from symbolic import load
    from symbolic.representations import slices

    corpus = h2v.extract_slices("bach_chorales", "train", limit=3)
    assert len(corpus) == 3 and len(list(cache.glob("*.npz"))) == 1
    first = slices.encode(load(str(corpus.names[0])))
    assert np.array_equal(corpus.piece(0), first.tokens)
    assert ((corpus.keys >= -1) & (corpus.keys < 24)).all() and (corpus.keys >= 0).mean() > 0.9
    again = h2v.extract_slices("bach_chorales", "train", limit=3)  # from the cache
    assert np.array_equal(again.tokens, corpus.tokens)
    assert list(again.names) == list(corpus.names)


def test_extract_pop909_keys_from_annotations(cache, pop909):
    corpus = h2v.extract_slices("pop909", "test", limit=40)
    assert len(corpus) == 2 and str(corpus.names[0]) == "pop909:874"
    song = pop909.song(874)
    key = Key.parse(song.keys.labels[0]).index
    keys = corpus.keys[corpus.offsets[0]:corpus.offsets[1]]
    assert (keys == key).mean() > 0.5


def test_cli_train_tiny(cache, tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["train", "harmony2vec", "--out", str(out), "--sources", "bach_chorales:8",
                 "--steps", "30", "--dim", "8", "--batch-size", "256", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "held-out loss" in text and "saved to" in text
    model = h2v.load(out)
    assert model.dim == 8 and len(model) >= 12
    card = (out / "README.md").read_text()
    assert f"`symbolic train harmony2vec --out {out} " in card
    assert "--sources bach_chorales:8" in card and "--steps 30" in card


def test_cli_old_train_spelling_is_an_alias():
    from symbolic.cli import build_parser
    from symbolic.cli import harmony2vec as cli

    argv = ["--out", "m", "--steps", "30", "--sources", "bach_chorales:8", "--no-transpose"]
    old = build_parser().parse_args(["harmony-embed", "train", *argv])
    new = build_parser().parse_args(["train", "harmony2vec", *argv])
    assert cli.settings_of(old) == cli.settings_of(new) == Settings(
        steps=30, sources={"bach_chorales": 8}, transpose=False)
    assert cli.train_command(old) == cli.train_command(new) == (
        "symbolic train harmony2vec --out m --steps 30 --sources bach_chorales:8 --no-transpose")
    assert new.func is cli.run_train
    assert old.func is cli.cmd_harmony_embed and old.action == "train"  # -> run_train
