"""Themes family: two-bar melody segments and their augmentations on real POP909 songs, a
planted repeated passage found by the encoder and the repetition baseline, the shipped
encoder's geometry, DBSCAN, the plot, training and the CLI, and bad arguments."""

import numpy as np
import pytest
import symusic
import torch

from symbolic.errors import ArgumentError, InputTooLargeError
from symbolic.models import themes
from symbolic.models.themes import segments as seg_mod

BAR = 1920  # ticks of a 4/4 bar at 480 ticks per quarter


@pytest.fixture(scope="module")
def song(pop909):
    return pop909.song(880)


@pytest.fixture(scope="module")
def segs(song):
    return themes.melody_segments(song.score, melody="MELODY", bar_ticks=song.bar_ticks())


def test_segments_cover_every_bar_with_32_steps(song, segs):
    n_bars = len(song.bar_ticks())
    assert segs.n_bars == n_bars and len(segs) == n_bars - 1
    assert segs.tokens.shape == (n_bars - 1, themes.SEGMENT_STEPS)
    assert list(segs.bars[:3]) == [1, 2, 3]
    busy = int(np.argmax(segs.note_counts()))
    notes, tokens = segs.notes[busy], segs.tokens[busy]
    assert (np.diff(notes[:, 0]) > 0).all() and (notes[:, 0] + notes[:, 1] <= 32).all()
    # an onset token where each note starts, the first note at interval 0 (token 26)
    assert (tokens[notes[:, 0]] >= 2).all() and tokens[notes[0, 0]] == 2 + seg_mod.MAX_INTERVAL
    assert np.count_nonzero(tokens >= 2) == len(notes)
    # transposition invariance: the same notes a third higher give the same feature
    up = notes.copy()
    up[:, 2] += 4
    assert np.array_equal(themes.segment_tokens(up), tokens)


def test_augmentations_keep_scale_and_span(segs):
    scale = set(segs.scale.tolist())
    assert len(scale) == 7
    checked = 0
    for notes in segs.notes:
        if len(notes) < 3 or not all(p % 12 in scale for p in notes[:, 2]):
            continue
        checked += 1
        for k in (-2, -1, 1, 3):
            moved = themes.shift_in_scale(notes, segs.scale, k)
            assert all(p % 12 in scale for p in moved[:, 2])
            assert (moved[:, 2] != notes[:, 2]).all()
            assert np.array_equal(moved[:, :2], notes[:, :2])
        span = (notes[0, 0], notes[-1, 0] + notes[-1, 1])
        i = int(np.argmax(notes[:, 1]))
        split = themes.split_note(notes, i)
        if notes[i, 1] >= 2:
            assert len(split) == len(notes) + 1 and split[i, 2] == split[i + 1, 2]
        assert (split[0, 0], split[-1, 0] + split[-1, 1]) == span
        merged = themes.merge_notes(notes, 0)
        assert len(merged) == len(notes) - 1
        assert (merged[0, 0], merged[-1, 0] + merged[-1, 1]) == span
        longer = themes.change_last_duration(notes, notes[-1, 1] + 2)
        assert longer[-1, 1] == min(notes[-1, 1] + 2, 32 - notes[-1, 0])
        assert np.array_equal(longer[:-1], notes[:-1])
    assert checked >= 10


def _planted_song(pop909):
    """Bars 1-4 of a melody passage from song 880, planted at bars 1, 9 and 17 of a 24-bar
    4/4 melody whose other bars come from three other songs."""
    def bars_of_song(n, first, count):
        s = pop909.song(n)
        ticks = s.bar_ticks()
        a = s.track("MELODY").notes.numpy()
        out = []
        for b in range(count):
            lo, hi = ticks[first + b], ticks[first + b + 1]
            keep = (a["time"] >= lo) & (a["time"] < hi)
            scale = BAR / (hi - lo)
            for t, d, p in zip(a["time"][keep], a["duration"][keep], a["pitch"][keep]):
                out.append((b * BAR + int((t - lo) * scale), max(int(d * scale), 1), int(p)))
        return out

    passage = bars_of_song(880, 24, 4)
    fills = [bars_of_song(n, 20, 4) for n in (3, 41, 77)]
    plan = [passage, fills[0], passage, fills[1], passage, fills[2]]
    score = symusic.Score(480)
    track = symusic.Track("MELODY")
    for k, notes in enumerate(plan):
        for t, d, p in notes:
            track.notes.append(symusic.Note(k * 4 * BAR + t, d, p, 80))
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    return score, {1, 2, 3, 4, 9, 10, 11, 12, 17, 18, 19, 20}


def test_planted_repetition_is_the_theme(pop909, one_torch_thread):
    score, planted = _planted_song(pop909)
    segs = themes.melody_segments(score)
    assert segs.n_bars >= 24
    for result in (themes.find_themes(score), themes.repeated_theme(segs)):
        found = set(result.theme_bars)
        assert found and found <= planted, (result.regions, planted)
        assert {1, 9, 17} & found or {2, 10, 18} <= found or {3, 11, 19} <= found
        starts = {a for a, _ in result.regions}
        assert len(starts) >= 3  # all three places
        assert result.summary().startswith("theme: bars")


def test_shipped_encoder_keeps_variants_near(segs, one_torch_thread):
    model = themes.load(device="cpu")
    assert model.dim == 64
    rng = np.random.default_rng(0)
    keep = np.flatnonzero(segs.note_counts() >= 3)
    variants = np.stack([themes.segment_tokens(themes.augment(segs.notes[i], segs.scale, rng,
                                                              p=1.0)) for i in keep])
    a, b = model.embed_tokens(segs.tokens[keep]), model.embed_tokens(variants)
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    other = a[np.roll(np.arange(len(a)), len(a) // 2)]
    same = np.array([np.array_equal(segs.tokens[keep][i], segs.tokens[keep][j]) for i, j in
                     zip(range(len(a)), np.roll(np.arange(len(a)), len(a) // 2))])
    nearer = ((a * b).sum(1) > (a * other).sum(1))[~same]
    assert nearer.mean() > 0.8, nearer.mean()


def test_dbscan_on_known_points():
    x = np.array([0.0, 0.1, 0.2, 5.0, 5.05, 9.0])
    d = np.abs(x[:, None] - x[None, :])
    assert themes.dbscan(d, 0.15, 2).tolist() == [0, 0, 0, 1, 1, -1]
    assert themes.dbscan(d, 0.15, 3).tolist() == [0, 0, 0, -1, -1, -1]
    assert themes.bars_of([3, 10], 11) == [3, 4, 10, 11]
    assert themes.runs([1, 2, 3, 7, 8, 10]) == [(1, 3), (7, 8), (10, 10)]


def test_plot_and_json(segs, tmp_path, one_torch_thread):
    result = themes.cluster_segments(segs, themes.load(device="cpu").embed_tokens(segs.tokens))
    assert result.theme is not None and result.theme_bars
    assert len(result.clusters[result.theme]) == max(len(c) for c in result.clusters)
    with pytest.raises(ArgumentError) as e:
        themes.cluster_segments(segs, np.zeros((3, 64)))
    assert e.value.source == "vectors"
    d = result.to_dict()
    assert d["theme_bars"] == result.theme_bars and len(d["clusters"]) == len(result.clusters)
    out = tmp_path / "themes.png"
    themes.plot_themes(result, path=out)
    assert out.stat().st_size > 5000


def test_train_tiny_saves_and_loads(segs, tmp_path, one_torch_thread):
    tiny = themes.Settings(embed=8, channels=8, layers=1, dim=8, batch=8, steps=4,
                           eval_batches=1)
    model, report = themes.train(tiny, tmp_path / "enc", device="cpu", progress=False,
                                 songs={"train": [segs], "valid": [segs]})
    assert report["steps"] == 4 and 0 <= report["valid_pair_accuracy"] <= 1
    again = themes.load(tmp_path / "enc", device="cpu")
    x = torch.as_tensor(segs.tokens[:5])
    assert torch.allclose(again(x), model(x))


@pytest.mark.parametrize("kwargs, name", [
    ({"eps": 0}, "eps"), ({"eps": -0.1}, "eps"), ({"eps": "wide"}, "eps"),
    ({"eps": 2.5}, "eps"), ({"min_samples": 0}, "min_samples"),
    ({"bar_ticks": [0, 10, 5]}, "bar_ticks"), ({"melody": "VIOLIN"}, "melody"),
    ({"melody": 7}, "melody"), ({"melody": 1.5}, "melody"), ({"meter": "4/3"}, "meter"),
    ({"meter": "4/4", "bar_ticks": [0, 1920]}, "meter"),
])
def test_bad_arguments_name_themselves(song, kwargs, name):
    with pytest.raises(ArgumentError) as e:
        themes.find_themes(song.score, **kwargs)
    assert e.value.source == name


def test_no_melody_too_short_too_long(song):
    score = symusic.Score(480)
    for name in ("PIANO", "BRIDGE"):
        t = symusic.Track(name)
        t.notes.append(symusic.Note(0, 480, 60, 80))
        score.tracks.append(t)
    with pytest.raises(ArgumentError) as e:
        themes.melody_segments(score)
    assert e.value.source == "melody"
    with pytest.raises(ArgumentError) as e:
        themes.find_themes(score, melody="PIANO")  # a single bar
    assert e.value.source == "score" and "too short" in str(e.value)
    score.tracks[0].notes.append(symusic.Note(10_000_000, 480, 60, 80))  # 5,209 bars
    with pytest.raises(InputTooLargeError):
        themes.find_themes(score, melody="PIANO", meter="4/4")
    with pytest.raises(ArgumentError) as e:
        themes.Settings(kernel=4)
    assert e.value.source == "kernel"


def test_cli(song, tmp_path, capsys):
    from symbolic.cli import main

    path = tmp_path / "song.mid"
    song.score.dump_midi(str(path))
    png = tmp_path / "t.png"
    assert main(["find-themes", str(path), "--meter", "4/4", "--png", str(png)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("theme: bars") and png.stat().st_size and not out.err
    assert main(["find-themes", str(path), "--json", "--eps", "0.1"]) == 0  # declares 1/4
    out = capsys.readouterr()
    assert '"theme_bars"' in out.out and out.err.startswith("warning:") and "4/4" in out.err
    assert main(["find-themes", str(tmp_path / "missing.mid")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "missing.mid" in err[0]
    assert main(["find-themes", str(path), "--model", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "nowhere" in err[0]
    assert main(["find-themes", str(path), "--eps", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "eps" in err[0]
