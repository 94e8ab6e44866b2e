"""Theme Transformer: the theme-event codec on a real POP909 song, what the gates and the XOR
layers let through, the training batch and a short run, the sliding-cache generation against
a full forward pass, develop_theme with the shipped weights, the CLI and bad arguments."""

import json

import numpy as np
import pytest
import symusic
import torch

from symbolic.errors import ArgumentError, EmptyScoreError, InputTooLargeError
from symbolic.models import theme_transformer as tt
from symbolic.representations import theme_events as te


@pytest.fixture(scope="module")
def song(pop909):
    return pop909.song(880)


@pytest.fixture(scope="module")
def prompt(pop909_root):
    path = pop909_root.parent / "theme-transformer" / "874_theme.mid"
    if not path.is_file():
        pytest.skip(f"theme prompts not found at {path.parent}")
    return path


def test_vocabulary_file_is_the_code():
    data = json.loads(te.VOCAB_FILE.read_text())
    assert data["tokens"] == te.VOCAB and len(te.VOCAB) == 443
    assert te.VOCAB[te.THEME_START] == "Theme_Start" and te.VOCAB[te.PHRASE] == "Phrase"


def test_round_trip_keeps_16th_notes(song):
    enc = te.encode(song.score, song.bar_ticks(), [(9, 12), (25, 28)])
    assert enc.dropped == 0 and enc.n_bars == len(song.bar_ticks())
    assert te.theme_bars_of(enc.ids) == [9, 10, 11, 12, 25, 26, 27, 28]
    tokens = enc.tokens()
    assert tokens[:3] == ["BOS", "Bar", "Phrase"] and tokens[-1] == "EOS"
    assert tokens.count("Phrase") == -(-enc.n_bars // te.PHRASE_BARS)
    decoded = te.decode(enc.ids)
    assert [t.name for t in decoded.tracks] == list(te.TRACKS)
    before, _ = te.note_table(song.score, song.bar_ticks())
    after, info = te.note_table(decoded)
    # every note: track, 16th onset, pitch, 16th duration (<= 64), velocity bin
    assert len(before) == song.score.note_num() - enc.merged
    assert np.array_equal(before[:, :4], after[:, :4])
    assert np.array_equal(before[:, 4] // 4, after[:, 4] // 4)
    assert info["n_bars"] >= enc.n_bars - 1
    bars = np.arange(enc.n_bars) * 1920
    assert np.array_equal(te.encode(decoded, bars, enc.theme_bars).ids, enc.ids)


def test_encode_parts_and_strict(song):
    enc = te.encode(song.score, song.bar_ticks(), [(9, 10)], bars=(9, 10))
    assert te.theme_bars_of(enc.ids) == [1, 2]
    assert enc.tokens()[:3] == ["BOS", "Theme_Start", "Bar"] and enc.tokens()[-2] == "Theme_End"
    score = symusic.Score(480)
    track = symusic.Track("MELODY", 0, False)
    track.notes.append(symusic.Note(0, 480, 10, 80))  # below the piano's range
    track.notes.append(symusic.Note(480, 8000, 60, 80))  # longer than 64 sixteenths
    score.tracks.append(track)
    loose = te.encode(score, [0, 1920, 3840])
    assert (loose.dropped, loose.cut) == (1, 1)
    with pytest.raises(ArgumentError):
        te.encode(score, [0, 1920], bars=(1, 5))
    from symbolic.errors import EncodeError
    with pytest.raises(EncodeError):
        te.encode(score, [0, 1920, 3840], strict=True)


def test_theme_positions_and_transpose():
    ids = np.array([te.BOS, te.BAR, te.THEME_START, te.BAR, te.POSITION0, te.THEME_END,
                    te.BAR, te.THEME_START, te.BAR])
    assert te.theme_positions(ids).tolist() == [0, 0, 1, 2, 3, 0, 0, 1, 2]
    note = te.TOKEN_ID["Note_PIANO_107"]
    up = te.transpose(np.array([note]), 3)[0]
    assert te.VOCAB[up] == "Note_PIANO_98"  # 110 is off the keyboard: an octave lower


def _tiny(**kw):
    torch.manual_seed(0)
    opts = dict(dim=16, heads=2, ffn=32, encoder_layers=1, decoder_layers=1, xor_layers=0,
                dropout=0.0)
    return tt.ThemeTransformer(**{**opts, **kw}).eval()


def _sequence(n=40, start=12, end=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(te.POSITION0, len(te.VOCAB), (1, n), generator=g)
    ids[0, start], ids[0, end] = te.THEME_START, te.THEME_END
    return ids, torch.as_tensor(te.theme_positions(ids.numpy()))


@torch.no_grad()
def test_theme_reaches_tokens_only_inside_regions():
    ids, pos = _sequence()
    inside = (pos[0] > 0).numpy()
    theme_a = torch.randint(te.POSITION0, len(te.VOCAB), (1, 10))
    theme_b = torch.randint(te.POSITION0, len(te.VOCAB), (1, 10))
    one = _tiny()
    moved = (one(ids, pos, theme_a) - one(ids, pos, theme_b)).abs().amax(-1)[0].numpy()
    assert (moved[inside] > 1e-4).all() and (moved[~inside] < 1e-6).all()
    # deeper: later tokens see the region through self-attention, earlier ones never
    deep = _tiny(decoder_layers=3)
    moved = (deep(ids, pos, theme_a) - deep(ids, pos, theme_b)).abs().amax(-1)[0].numpy()
    assert (moved[:12] < 1e-6).all() and (moved[12:] > 1e-6).any()
    # the baseline reads no theme
    base = _tiny(decoder_only=True)
    assert torch.equal(base(ids, pos, theme_a), base(ids, pos, theme_b))


@torch.no_grad()
def test_xor_layer_ignores_self_attention_inside_regions():
    ids, pos = _sequence()
    inside = (pos[0] > 0).numpy()
    other = ids.clone()
    other[0, :12] = torch.randint(te.POSITION0, len(te.VOCAB), (12,))  # another past
    theme = torch.randint(te.POSITION0, len(te.VOCAB), (1, 10))
    for xor, inside_moves in ((1, False), (0, True)):
        model = _tiny(xor_layers=xor)
        moved = (model(ids, pos, theme) - model(other, pos, theme)).abs().amax(-1)[0].numpy()
        assert (moved[12:][~inside[12:]] > 1e-6).all()  # outside: the past is read
        assert (moved[inside] > 1e-6).all() == inside_moves


@torch.no_grad()
def test_cached_steps_equal_the_full_pass():
    ids, pos = _sequence(n=30, start=5, end=20)
    model = _tiny(decoder_layers=2, xor_layers=1)
    theme = torch.randint(te.POSITION0, len(te.VOCAB), (1, 8))
    full = model(ids, pos, theme)
    memory = model.encode_theme(theme)
    caches = [{} for _ in model.layers]
    parts = [model.decode(ids[:, :10], pos[:, :10], memory, caches)]
    for i in range(10, 30):
        parts.append(model.decode(ids[:, i:i + 1], pos[:, i:i + 1], memory, caches, start=i))
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5)


def test_training_batch_and_short_run(song, tmp_path, one_torch_thread):
    found = [(9, 12), (25, 28)]
    songs = [tt.theme_song(song.score, song.bar_ticks(), found, 880)]
    assert te.VOCAB[songs[0].theme[0]] == "Theme_Start" and te.VOCAB[songs[0].theme[-1]] == "Theme_End"
    assert int((songs[0].theme == te.BAR).sum()) == tt.THEME_BARS
    sampler = tt.WindowSampler(songs, window=512, batch=4, theme_share=1.0, transpose=False)
    b = sampler(np.random.default_rng(0))
    assert b["inputs"].shape == b["targets"].shape == b["positions"].shape == (4, 512)
    assert torch.equal(b["inputs"][:, 1:], b["targets"][:, :-1])
    assert (b["inputs"][:, 0] == te.BAR).all()
    # a window starts 0-3 bars before a region (0: at its first bar, positions carried in)
    assert (b["positions"] > 0).any(1).all()
    for row, p in zip(b["inputs"].numpy(), b["positions"].numpy()):
        start = np.flatnonzero(row == te.THEME_START)
        assert p[0] > 0 or (len(start) and p[start[0]] == 1)
    assert torch.equal(b["theme"][0, :len(songs[0].theme)], torch.as_tensor(songs[0].theme))
    settings = tt.Settings(dim=16, heads=2, ffn=32, encoder_layers=1, decoder_layers=2,
                           window=64, batch=2, steps=3, eval_batches=1, max_theme=64)
    model, report = tt.train(settings, tmp_path / "m", progress=False,
                             songs={"train": songs, "valid": songs})
    assert report["steps"] == 3 and np.isfinite(report["valid_loss"])
    again = tt.load(str(tmp_path / "m"), "cpu")
    assert json.loads((tmp_path / "m" / "training.json").read_text())["steps"] == 3
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 again.state_dict().values()))
    with pytest.raises(ArgumentError):
        tt.Settings(xor_layers=4)


def test_develop_theme_with_shipped_weights(prompt, song, one_torch_thread):
    import symbolic

    out = symbolic.develop_theme(str(prompt), bars=6, seed=3)
    assert isinstance(out.score, symusic.Score) and out.score.note_num() > 0
    assert out.theme_bars == te.theme_bars_of(out.ids) and out.regions[0][0] == 1
    assert out.theme_bars_given == 2 and int((out.ids == te.BAR).sum()) == 6
    assert all(1 <= a <= b <= 6 for a, b in out.regions)
    assert out.score.end() <= 6 * 1920 + 64 * 120
    same = symbolic.develop_theme(str(prompt), bars=6, seed=3)
    assert np.array_equal(same.ids, out.ids)
    base = symbolic.develop_theme((song, (9, 10)), bars=4, decoder_only=True)
    assert base.settings["decoder_only"] and base.theme_bars_given == 2


def test_bad_arguments(song):
    with pytest.raises(ArgumentError):
        tt.develop_theme((song, (9, 10)), bars=2)  # no longer than the theme
    with pytest.raises(ArgumentError):
        tt.develop_theme((song, (9, 10)), temperature=-1)
    with pytest.raises(InputTooLargeError):
        tt.develop_theme((song, (1, 12)))
    with pytest.raises(EmptyScoreError):
        tt.develop_theme(symusic.Score(480))


def test_cli(prompt, tmp_path, capsys, one_torch_thread):
    from symbolic.cli import main

    mid, png = tmp_path / "out.mid", tmp_path / "out.png"
    assert main(["develop-theme", str(prompt), "-o", str(mid), "--bars", "4", "--png",
                 str(png)]) == 0
    assert capsys.readouterr().out.startswith("wrote") and mid.stat().st_size and png.stat().st_size
    for argv, code in ((["--bars", "1"], 2), (["--theme-bars", "x"], 2),
                       (["--theme-bars", "1-20"], 2)):
        assert main(["develop-theme", str(prompt), "-o", str(mid), *argv]) == code
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error:")
    assert main(["develop-theme", str(tmp_path / "missing.mid"), "-o", str(mid)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.mid" in err[0]
