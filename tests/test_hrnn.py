"""CM-HRNN family: corpus windows and transposition, the three kinds (causal, step = forward),
save/load, training lowers the held-out loss, melodize (bars, chords through MusicXML, opening),
the CLI, the melody measures, and bad arguments."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import symbolic
from symbolic.data.leadsheets import (
    WindowSampler, event_inputs, held_out_windows, pop909_leadsheets, transpose_events,
)
from symbolic.errors import ArgumentError, SymbolicError
from symbolic.models import hrnn
from symbolic.models.hrnn import metrics
from symbolic.models.hrnn.train import build, resolve

TINY = hrnn.Settings(embed=16, hidden=24, layers=2, length=32, batch=8, steps=60, lr=3e-3,
                     eval_batches=2, dropout=0.0)


@pytest.fixture(scope="module")
def songs(pop909_root):
    return {sp: pop909_leadsheets(sp, path=pop909_root, progress=False)
            for sp in ("train", "valid", "test")}


def test_corpus_windows_start_at_bars_and_shift_inputs(songs, one_torch_thread):
    s = songs["train"][0]
    assert s.events.shape[1] == 5 and (s.events[s.events[:, 0] == 1, 4] == 0).all()
    batch = WindowSampler(songs["train"][:20], length=32, batch=4)(np.random.default_rng(0))
    assert batch["inputs"].shape == (4, 32, 6) and batch["targets"].shape == (4, 32, 3)
    assert (batch["inputs"][:, 0, 0] == 1).all()  # every window opens on a bar line
    # targets at t are the fields of event t + 1, which is also input t + 1
    x, y = batch["inputs"], batch["targets"]
    assert (y[:, :-1, 0] == x[:, 1:, 3]).all() and (y[:, :-1, 1] == x[:, 1:, 2]).all()
    assert (y[:, :-1, 2] == x[:, 1:, 0]).all() and (x[:, :-1, 4] == x[:, 1:, 1]).all()


def test_transpose_moves_pitches_and_chord_roots_only():
    ev = np.array([[1, 1, 3, 62, 0], [0, 1, 3, 1, 4], [0, 0, 3, 0, 8], [0, 48, 3, 100, 12]])
    up = transpose_events(ev, 2)
    assert up[0, 3] == 64 and up[3, 3] == 102
    assert up[1, 3] == 1 and up[2, 3] == 0 and up[2, 1] == 0  # sustain, rest, no chord stay
    assert up[0, 1] == 1 + 2 * 4 and up[3, 1] == 1 + 1 * 4 + 3  # C:maj -> D:maj, B:dim -> C#:dim
    assert (up[:, [0, 2, 4]] == ev[:, [0, 2, 4]]).all()
    with pytest.raises(ValueError):
        transpose_events(np.array([[1, 1, 3, 129, 0]]), 1)  # pitch 127 + 1
    inputs, targets = event_inputs(ev[:3], end_pos=12)
    assert inputs.shape == (3, 6) and (targets[-1] == -1).all() and inputs[-1, 5] == 12


@pytest.mark.parametrize("kind", hrnn.KINDS)
def test_kinds_are_causal_and_step_equals_forward(kind, one_torch_thread):
    torch.manual_seed(0)
    s = resolve(replace(TINY, kind=kind))
    model = build(s).eval()
    x = torch.from_numpy(np.random.default_rng(1).integers(0, 2, (2, 40, 6)))
    x[..., 3] = torch.from_numpy(np.random.default_rng(2).integers(0, 130, (2, 40)))
    full = model.logits(x)
    y = x.clone()
    y[:, 25:, 3] = (y[:, 25:, 3] + 7) % 130  # change the future only
    changed = model.logits(y)
    for a, b in zip(full, changed):
        assert torch.allclose(a[:, :25], b[:, :25], atol=1e-6)
        assert not torch.allclose(a[:, 25:], b[:, 25:])
    state = model.start(2)
    steps = []
    for t in range(40):
        lg, state = model.step(x[:, t], state)
        steps.append(lg[0])
    assert torch.allclose(torch.stack(steps, 1), full[0], atol=1e-5)


def test_training_lowers_held_out_loss_and_round_trips(songs, tmp_path, one_torch_thread):
    small = {"train": songs["train"][:60], "valid": songs["valid"][:8],
             "test": songs["test"][:8]}
    s = resolve(TINY)
    valid = held_out_windows(small["valid"], length=s.length, batch=s.batch, n_batches=2)
    torch.manual_seed(s.seed)
    before = hrnn.head_metrics(build(s), valid)["loss"]
    model, report = hrnn.train(TINY, tmp_path / "m", songs=small, progress=False,
                               command="symbolic train hrnn --kind hrnn --out m")
    assert report["valid_loss"] < before - 0.5, (before, report["valid_loss"])
    assert set(report["test"]) >= {"note_nll", "duration_acc", "bar_nll", "loss"}
    card = (tmp_path / "m" / "README.md").read_text()
    assert "symbolic train hrnn --kind hrnn --out m" in card and "note NLL" in card
    back = hrnn.load(tmp_path / "m", device="cpu")
    assert back.settings["hidden"] == 24
    x = torch.as_tensor(valid[0]["inputs"][:2])
    for a, b in zip(model.logits(x), back.logits(x)):
        assert torch.equal(a, b)


def _bars_of(score):
    return score.end() / (4 * score.ticks_per_quarter)


def test_melodize_shipped_model_writes_a_melody_over_the_chords(tmp_path):
    from music21 import converter, harmony

    score, ev = hrnn.melodize("C G Am F | F G C C", bars=8, seed=3, return_events=True)
    assert [t.name for t in score.tracks] == ["MELODY", "CHORDS"]
    assert _bars_of(score) == 8
    mel = score.tracks[0].notes.numpy()
    assert len(mel["time"]) >= 16 and (mel["time"] + mel["duration"] <= score.end()).all()
    assert len(np.unique(mel["pitch"])) >= 4  # neither silent nor droning on one pitch
    ok, n = hrnn.success_bars(ev, 16)
    assert n >= 6 and ok / n >= 0.5
    # the chord symbols survive MusicXML, in order
    path = hrnn.save_leadsheet(score, tmp_path / "lead.musicxml")
    figures = [c.figure for c in converter.parse(path).recurse().getElementsByClass(
        harmony.ChordSymbol)]
    assert figures[:5] == ["C", "G", "Am", "F", "G"]
    # same seed, same melody; another seed, another one
    again = symbolic.melodize("C G Am F | F G C C", bars=8, seed=3)  # the top-level wrapper
    other = hrnn.melodize("C G Am F | F G C C", bars=8, seed=4)
    assert again.tracks[0].notes == score.tracks[0].notes
    assert other.tracks[0].notes != score.tracks[0].notes


def test_melodize_continues_an_opening_in_another_meter(tmp_path):
    first = hrnn.melodize("Dm G C C", bars=4, seed=1, time_signature=(3, 4))
    assert _bars_of(first) == 3  # 4 bars of 3/4
    cont = hrnn.melodize("Dm G C C", bars=6, seed=2, opening=first, opening_bars=2,
                         time_signature=(3, 4), model="hrnn-lstm-pop909")
    bar = 3 * 480
    a = [(n.time, n.duration, n.pitch) for n in first.tracks[0].notes if n.time < 2 * bar]
    b = [(n.time, n.duration, n.pitch) for n in cont.tracks[0].notes if n.time < 2 * bar]
    assert a and [(t, min(d, 2 * bar - t), p) for t, d, p in a] == b
    assert cont.end() == 6 * bar


def test_cli_melodize_and_train(tmp_path, capsys):
    from symbolic.cli import main

    out = tmp_path / "lead.musicxml"
    assert main(["melodize", "--chords", "C G Am F", "--bars", "4", "-o", str(out),
                 "--png", str(tmp_path / "lead.png")]) == 0
    assert out.read_text().count("<harmony") == 4 and (tmp_path / "lead.png").stat().st_size
    assert main(["melodize", "--chords", "C G", "--bars", "0", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "bars" in err[0]
    assert main(["train", "hrnn", "--kind", "attention", "--out", str(tmp_path / "a"),
                 "--steps", "3", "--batch", "2", "--length", "16", "--hidden", "8",
                 "--embed", "8", "--quiet"]) == 0
    assert (tmp_path / "a" / "model.safetensors").is_file()
    assert "--kind attention" in (tmp_path / "a" / "README.md").read_text()


def test_melody_measures():
    on, dur, pitch = np.array([0, 4, 8, 32, 36, 40]), np.array([4, 4, 8] * 2), \
        np.array([60, 64, 61, 60, 64, 61])
    chords = np.full(64, 1)  # C:maj throughout
    assert metrics.chord_tone_ratio(on, pitch, chords) == pytest.approx(4 / 6)
    assert metrics.chord_tone_ratio(on, pitch, np.zeros(64, int)) != \
        metrics.chord_tone_ratio(on, pitch, np.zeros(64, int))  # NaN: no chord anywhere
    assert metrics.repeated_pattern_share(on, dur, pitch, 16, 4) == 1.0  # bars 1-2 = bars 3-4
    assert metrics.repeated_pattern_share(on, dur, pitch + np.r_[0, 0, 0, 0, 0, 1], 16, 4) == 0
    assert metrics.pitch_class_entropy([60, 72, 64, 76]) == pytest.approx(1.0)
    assert metrics.pitch_range(pitch) == 4
    assert metrics.one_pitch_share(np.array([0, 4, 16]), np.array([60, 60, 62]), 16) == 1.0
    assert metrics.one_pitch_share(on, pitch, 16) == 0.0
    assert metrics.silent_bar_share(on, dur, 16, 4) == pytest.approx(0.5)
    assert metrics.chord_tones_of(1 + 7 * 4 + 2) == {7, 11, 2, 5}  # G7


@pytest.mark.parametrize("kwargs", [dict(bars=0), dict(bars=1.5), dict(temperature=-0.1),
                                    dict(seed=-1), dict(tempo=0), dict(time_signature=(5, 2)),
                                    dict(opening="song.mid"), dict(model=3),
                                    dict(chords=42), dict(chords="C | | G"),
                                    dict(chords="Q7x")])
def test_bad_arguments_name_themselves(kwargs):
    args = {"chords": "C G", "bars": 4, **kwargs}
    with pytest.raises(SymbolicError) as e:
        hrnn.melodize(args.pop("chords"), **args)
    assert e.value.source in kwargs or str(next(iter(kwargs))) in str(e.value)


def test_bad_settings_raise():
    with pytest.raises(ArgumentError):
        resolve(replace(TINY, kind="gru"))
    with pytest.raises(ArgumentError):
        resolve(replace(TINY, length=40))  # not a multiple of the top frame
    with pytest.raises(ArgumentError):
        hrnn.CMHRNN(kind="transformer")


@pytest.mark.parametrize("name,kind", [("hrnn-pop909", "hrnn"), ("hrnn-lstm-pop909", "lstm"),
                                       ("hrnn-attention-pop909", "attention")])
def test_shipped_weights_are_small_and_of_their_kind(name, kind):
    from symbolic.models import pretrained_path

    model = hrnn.load(name, device="cpu")
    assert model.kind == kind and 0.8e6 < model.n_parameters() < 1.1e6
    folder = pretrained_path(name)
    assert (folder / "model.safetensors").stat().st_size < 5e6
    assert f"symbolic train hrnn --kind {kind} --out symbolic/pretrained/{name}" in \
        (folder / "README.md").read_text()
