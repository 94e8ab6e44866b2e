"""Bad arguments get one clear error naming them: the CLI prints one ``error:`` line and exits
with 2 (an option's value) or 1 (bad input), the API raises a SymbolicError subclass. A
representative subset of benchmarks/cli_misuse.py and benchmarks/api_misuse.py, each case one
that fails before any model runs."""

from __future__ import annotations

import math

import pytest
import symusic
import torch

import symbolic
from symbolic import checks
from symbolic.cli import main
from symbolic.errors import ArgumentError, OutputError, SymbolicError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A four-bar MIDI file with MELODY, BRIDGE and PIANO tracks."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    for name, pitch in (("MELODY", 72), ("BRIDGE", 64), ("PIANO", 48)):
        track = symusic.Track(name, 0)
        for bar in range(4):
            track.notes.append(symusic.Note(bar * 1920, 1800, pitch, 80))
        score.tracks.append(track)
    path = tmp_path_factory.mktemp("misuse") / "tiny.mid"
    score.dump_midi(path)
    return path


CLI_CASES = [  # (argv with {tiny}/{tmp} placeholders, exit status, text the error must hold)
    (["info", "{tmp}/missing.mid"], 1, "no such file"),
    (["convert", "{tiny}", "/proc/x.mid"], 1, "/proc/x.mid"),
    (["convert", "{tiny}", "{tiny}/inside.mid"], 1, "inside.mid"),
    (["compose", "--chords", "C G", "--time-signature", "3/0"], 2, "time_signature"),
    (["compose", "--chords", "C G", "--time-signature", "5/3"], 2, "power of two"),
    (["compose", "--chords", "C G", "--tempo", "0"], 2, "tempo"),
    (["compose", "--chords", "C G", "--bars", "0"], 2, "bars"),
    (["infill", "{tiny}", "--tracks", "piano", "--bars", "16-9"], 2, "--bars"),
    (["infill", "{tiny}", "--tracks", "piano", "--bars", "abc"], 2, "--bars"),
    (["infill", "{tiny}", "--tracks", "piano", "--top-p", "0"], 2, "top_p"),
    (["infill", "{tiny}", "--tracks", "piano", "--steps", "0"], 2, "steps"),
    (["infill", "{tiny}", "--tracks", "piano", "--map", "Guitar"], 2, "--map"),
    (["infill", "{tiny}", "--tracks", ","], 2, "--tracks"),
    (["infill", "{tiny}", "--tracks", "piano", "--wav", "{tmp}/x.wav", "--sample-rate", "0"], 2,
     "--sample-rate"),
    (["compose", "--chords", "C G", "-o", "/proc/x.mid"], 1, "--output"),
    (["train", "getdiff", "--out", "{tmp}/g", "--dim", "100", "--heads", "3"], 2, "--heads"),
    (["train", "getdiff", "--out", "{tmp}/g", "--stop-at", "7"], 2, "--stop-at"),
    (["train", "getdiff", "--out", "{tmp}/g", "--max-minutes", "-1"], 2, "max_minutes"),
    (["melodize", "--chords", "C G", "--bars", "0", "-o", "{tmp}/m.mid"], 2, "bars"),
    (["melodize", "--chords", "C G", "-o", "/proc/x.mid"], 1, "--output"),
    (["harmony-embed", "similar", "C:maj", "--topn", "0"], 2, "topn"),
    (["harmony-embed", "similar", "C:maj", "--among", "nothing"], 2, "among"),
    (["harmony-embed", "similar", "99999"], 2, "mask"),
    (["harmony-embed", "plot", "--out", "/proc/x"], 1, "/proc/x"),
    (["train", "harmony2vec", "--steps", "0"], 2, "steps"),
    (["train", "harmony2vec", "--sources", "pop909:abc"], 2, "--sources"),
    (["train", "harmony2vec", "--sources", "nosuch"], 2, "unknown source"),
    (["train", "harmony2vec", "--resume"], 2, "checkpoint_dir"),
    (["train", "hrnn", "--out", "{tmp}/h", "--dropout", "1.5"], 2, "dropout"),
    (["train", "rave", "--out", "{tmp}/r", "--steps", "0"], 2, "steps"),
    (["train", "rave", "--out", "{tmp}/r", "--steps", "1", "--sources", "essen:-5"], 2,
     "--sources"),
]


@pytest.mark.parametrize("argv,status,text", CLI_CASES,
                         ids=[" ".join(c[0][:4]) for c in CLI_CASES])
def test_cli_misuse_is_one_error_line(argv, status, text, tiny, tmp_path, capsys):
    argv = [a.format(tiny=tiny, tmp=tmp_path) for a in argv]
    assert main(argv) == status
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert text in err[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cli_device_cuda_without_cuda_is_a_usage_error(tiny, capsys):
    assert main(["infill", str(tiny), "--tracks", "piano", "--device", "cuda"]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def _api_cases(tmp):
    from symbolic.data.music21_corpus import mixture
    from symbolic.models import harmony2vec as h2v
    from symbolic.models import rave
    from symbolic.representations import grid, leadsheet, pianoroll, slices, tokens
    from symbolic.training import TrainConfig

    s = symbolic.load(tmp / "tiny.mid")
    return [  # (argument the message must name, call)
        ("source", lambda: symbolic.load(None)),
        ("max_bytes", lambda: symbolic.load(tmp / "tiny.mid", max_bytes=0)),
        ("tune", lambda: symbolic.load(tmp / "tiny.mid", tune=[])),
        ("path", lambda: symbolic.save(s, None)),
        ("/proc/x.mid", lambda: symbolic.save(s, "/proc/x.mid")),
        ("max_chords", lambda: symbolic.describe(s, max_chords=1.5)),
        ("steps", lambda: TrainConfig(steps=0)),
        ("lr", lambda: TrainConfig(lr=math.nan)),
        ("threads", lambda: TrainConfig(threads=-2)),
        ("optimizer", lambda: TrainConfig(optimizer="x")),
        ("dim", lambda: h2v.Settings(dim=0)),
        ("steps", lambda: h2v.Settings(steps=1.5)),
        ("sources", lambda: h2v.Settings(sources={"essen": 0})),
        ("batch_size", lambda: rave.Settings(batch_size=0)),
        ("max_seconds", lambda: rave.Settings(max_seconds=-1)),
        ("sources", lambda: mixture({"nosuch": None})),
        ("pitches", lambda: slices.mask_of_pitches(["a"])),
        ("mask", lambda: slices.pitch_classes(-1)),
        ("chord id", lambda: leadsheet.chord_of_id(10**6)),
        ("events", lambda: leadsheet.decode(None)),
        ("qpm", lambda: pianoroll.default_meta(16, qpm=0)),
        ("mode", lambda: pianoroll.encode(s, mode="nosuch")),
        ("resolution", lambda: pianoroll.encode(s, resolution=0)),
        ("image", lambda: pianoroll.decode(None)),
        ("name", lambda: tokens.build_preset("nosuch")),
        ("score", lambda: tokens.encode(None)),
        ("x", lambda: tokens.decode(None)),
        ("x", lambda: tokens.decode([10**7])),
        ("track_map", lambda: grid.encode(s, track_map="nosuch")),
        ("grid", lambda: grid.decode(None)),
    ]


def test_api_misuse_raises_a_symbolic_error_naming_the_argument(tiny):
    failures = []
    for i, (name, call) in enumerate(_api_cases(tiny.parent)):
        try:
            call()
            failures.append(f"case {i} ({name}): accepted")
        except SymbolicError as e:
            if name not in str(e):
                failures.append(f"case {i}: {e!r} does not name {name!r}")
        except Exception as e:  # noqa: BLE001 - the point of the test
            failures.append(f"case {i} ({name}): raw {type(e).__name__}: {e}")
    assert not failures, failures


def test_harmony2vec_queries_check_topn_item_and_among():
    from symbolic.models import harmony2vec as h2v

    model = h2v.load()
    for call, name in ((lambda: model.similar("C:maj", topn=0), "topn"),
                       (lambda: model.similar("C:maj", topn=1.5), "topn"),
                       (lambda: model.similar(None), "item"),
                       (lambda: model.similar("C:maj", among="nothing"), "among"),
                       (lambda: model.analogy("C:maj", "G:maj", "A:min", topn=-1), "topn")):
        with pytest.raises(ArgumentError, match=name):
            call()
    assert len(model.similar("C:maj", topn=3)) == 3


def test_output_checks_leave_no_file_and_keep_existing_ones(tmp_path):
    new = tmp_path / "sub" / "new.mid"
    assert checks.output_file(new) == new and not new.exists() and new.parent.is_dir()
    old = tmp_path / "old.mid"
    old.write_bytes(b"keep")
    checks.output_file(old)
    assert old.read_bytes() == b"keep"
    with pytest.raises(OutputError, match="folder"):
        checks.output_file(tmp_path)
    with pytest.raises(OutputError):
        checks.output_folder(old / "x")
    assert checks.output_folder(tmp_path / "a" / "b").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []
