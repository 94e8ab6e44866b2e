"""The public Python API with bad arguments: a SymbolicError naming the argument, never a raw
ValueError/IndexError/ZeroDivisionError/AssertionError/TypeError, never silent acceptance.

Calls every public entry point (``symbolic.load/save/describe/infill/compose/melodize``, the
representations' encode/decode, tokens, harmony2vec, CM-HRNN, the audio renderer, data sources,
training settings) with wrong types, None, negative, zero, huge and float values, empty lists
and unknown names, in this process (the models load once), and prints a table: call, outcome
(the exception's type or "accepted"), whether it passed, the message. A case passes when the
call raises a :class:`~symbolic.errors.SymbolicError` whose message names the argument (or,
for a bad file, the file). Exits with 1 when any case fails.

    python benchmarks/api_misuse.py [--only compose]
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LIMIT_S = 30  # a call that runs longer has accepted its arguments (and is a failure)


def fixtures(root: Path) -> dict:
    """A tiny four-bar score (MELODY, BRIDGE, PIANO) and bad files under ``root``."""
    import symusic

    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    for name, pitches in (("MELODY", (72, 74, 76, 77)), ("BRIDGE", (64, 65)),
                          ("PIANO", (48, 55, 60))):
        track = symusic.Track(name, 0)
        for bar in range(4):
            for i, pitch in enumerate(pitches):
                track.notes.append(symusic.Note(bar * 1920 + i * 480, 400, pitch, 80))
        score.tracks.append(track)
    tiny, text, empty = root / "tiny.mid", root / "text.mid", root / "empty.mid"
    score.dump_midi(tiny)
    text.write_text("not MIDI\n")
    empty.write_bytes(b"")
    abc = root / "tune.abc"
    abc.write_text("X:1\nT:One\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n")
    return {"score": score, "tiny": str(tiny), "text": str(text), "empty": str(empty),
            "abc": str(abc), "root": root, "missing": str(root / "missing.mid")}


def cases(f: dict) -> list[tuple[str, str, object]]:
    """(area, call as text, zero-argument function) for every misuse; the call text's
    argument name (before ``=``, or the first argument) must appear in the message."""
    import symbolic
    from symbolic import audio, tokens
    from symbolic.data import music21_corpus
    from symbolic.data.pop909 import Pop909
    from symbolic.harmony import Chord
    from symbolic.models import harmony2vec as h2v
    from symbolic.models import hrnn
    from symbolic.representations import grid, leadsheet, pianoroll, slices
    from symbolic.training import TrainConfig, resolve_device

    s, out = f["score"], f["root"] / "out.mid"
    quick = dict(steps=1, progress=False)
    infill = lambda **kw: symbolic.infill(s, **{"tracks": ["piano"], "bars": (1, 2), **quick, **kw})
    compose = lambda **kw: symbolic.compose(**{"chords": "C G", "bars": 2, **quick, **kw})
    melodize = lambda **kw: symbolic.melodize(**{"chords": "C G", "bars": 2, **kw})
    bach = music21_corpus.load_chorale("corpus:bach/bwv38.6")
    harmonize = lambda **kw: symbolic.harmonize(bach, **{"track": "Soprano", "steps": 1, **kw})
    model = h2v.load()
    return [
        ("load", "source=None", lambda: symbolic.load(None)),
        ("load", "source=123", lambda: symbolic.load(123)),
        ("load", "source=''", lambda: symbolic.load("")),
        ("load", "source=missing.mid", lambda: symbolic.load(f["missing"])),
        ("load", "source=text.mid", lambda: symbolic.load(f["text"])),
        ("load", "source=empty.mid", lambda: symbolic.load(f["empty"])),
        ("load", "source=b''", lambda: symbolic.load(b"")),
        ("load", "max_bytes=0", lambda: symbolic.load(f["tiny"], max_bytes=0)),
        ("load", "max_bytes=-1", lambda: symbolic.load(f["tiny"], max_bytes=-1)),
        ("load", "max_bytes='abc'", lambda: symbolic.load(f["tiny"], max_bytes="abc")),
        ("load", "tune=99 (abc)", lambda: symbolic.load(f["abc"], tune=99)),
        ("load", "tune=1.5 (abc)", lambda: symbolic.load(f["abc"], tune=1.5)),
        ("load", "tune=[] (abc)", lambda: symbolic.load(f["abc"], tune=[])),
        ("load", "format='xyz'", lambda: symbolic.load(f["tiny"], format="xyz")),
        ("save", "score=None", lambda: symbolic.save(None, out)),
        ("save", "score='x'", lambda: symbolic.save("x", out)),
        ("save", "path=None", lambda: symbolic.save(s, None)),
        ("save", "path=123", lambda: symbolic.save(s, 123)),
        ("save", "path=/proc/x.mid", lambda: symbolic.save(s, "/proc/x.mid")),
        ("save", "path=inside a file", lambda: symbolic.save(s, f"{f['tiny']}/x.mid")),
        ("save", "path=x.xyz", lambda: symbolic.save(s, f["root"] / "x.xyz")),
        ("save", "format='xyz'", lambda: symbolic.save(s, out, format="xyz")),
        ("describe", "score=None", lambda: symbolic.describe(None)),
        ("describe", "max_chords=-1", lambda: symbolic.describe(s, max_chords=-1)),
        ("describe", "max_chords=1.5", lambda: symbolic.describe(s, max_chords=1.5)),
        ("compose", "chords=''", lambda: compose(chords="")),
        ("compose", "chords=None", lambda: compose(chords=None)),
        ("compose", "chords=[]", lambda: compose(chords=[])),
        ("compose", "chords='| |'", lambda: compose(chords="| |")),
        ("compose", "bars=0", lambda: compose(bars=0)),
        ("compose", "bars=2.5", lambda: compose(bars=2.5)),
        ("compose", "bars=10**9", lambda: compose(bars=10**9)),
        ("compose", "tracks=[]", lambda: compose(tracks=[])),
        ("compose", "tracks=['drums']", lambda: compose(tracks=["drums"])),
        ("compose", "tracks=5", lambda: compose(tracks=5)),
        ("compose", "tempo=0", lambda: compose(tempo=0)),
        ("compose", "tempo=nan", lambda: compose(tempo=math.nan)),
        ("compose", "time_signature=(3, 0)", lambda: compose(time_signature=(3, 0))),
        ("compose", "time_signature=(5, 3)", lambda: compose(time_signature=(5, 3))),
        ("compose", "time_signature='abc'", lambda: compose(time_signature="abc")),
        ("compose", "ticks_per_quarter=0", lambda: compose(ticks_per_quarter=0)),
        ("compose", "steps=0", lambda: compose(steps=0)),
        ("compose", "steps=1.5", lambda: compose(steps=1.5)),
        ("compose", "temperature=-1", lambda: compose(temperature=-1)),
        ("compose", "top_p=0", lambda: compose(top_p=0)),
        ("compose", "top_p=2", lambda: compose(top_p=2)),
        ("compose", "guidance=-1", lambda: compose(guidance=-1)),
        ("compose", "seed=-1", lambda: compose(seed=-1)),
        ("compose", "seed=1.5", lambda: compose(seed=1.5)),
        ("compose", "device='cuda' (no CUDA)", lambda: compose(device="cuda")),
        ("compose", "device='tpu9'", lambda: compose(device="tpu9")),
        ("compose", "model=missing folder", lambda: compose(model=f["missing"] + "/m")),
        ("compose", "order='best'", lambda: compose(order="best")),
        ("inpaint", "score_or_image=None", lambda: symbolic.inpaint(None, bars=(1, 1))),
        ("inpaint", "bars=(2, 1)", lambda: symbolic.inpaint(s, bars=(2, 1))),
        ("inpaint", "pitches=(90, 20)", lambda: symbolic.inpaint(s, bars=(1, 1),
                                                                 pitches=(90, 20))),
        ("inpaint", "steps=0", lambda: symbolic.inpaint(s, bars=(1, 1), steps=0)),
        ("inpaint", "candidates=0", lambda: symbolic.inpaint(s, bars=(1, 1), candidates=0)),
        ("inpaint", "busyness=2", lambda: symbolic.inpaint(s, bars=(1, 1), busyness=2)),
        ("inpaint", "sampler='ddim'", lambda: symbolic.inpaint(s, bars=(1, 1), sampler="ddim")),
        ("inpaint", "model=missing folder", lambda: symbolic.inpaint(
            s, bars=(1, 1), model=f["missing"] + "/m")),
        ("find_themes", "score=None", lambda: symbolic.find_themes(None)),
        ("find_themes", "eps=0", lambda: symbolic.find_themes(s, eps=0)),
        ("find_themes", "min_samples=0", lambda: symbolic.find_themes(s, min_samples=0)),
        ("find_themes", "melody=99", lambda: symbolic.find_themes(s, melody=99)),
        ("find_themes", "meter='0/4'", lambda: symbolic.find_themes(s, meter="0/4")),
        ("develop_theme", "theme=None", lambda: symbolic.develop_theme(None)),
        ("develop_theme", "theme=missing.mid", lambda: symbolic.develop_theme(f["missing"])),
        ("develop_theme", "theme=empty.mid", lambda: symbolic.develop_theme(f["empty"])),
        ("develop_theme", "bars=0", lambda: symbolic.develop_theme(s, bars=0)),
        ("develop_theme", "bars=10**6", lambda: symbolic.develop_theme(s, bars=10 ** 6)),
        ("develop_theme", "temperature=-1", lambda: symbolic.develop_theme(s, temperature=-1)),
        ("develop_theme", "top_p=0", lambda: symbolic.develop_theme(s, top_p=0)),
        ("develop_theme", "seed=-1", lambda: symbolic.develop_theme(s, seed=-1)),
        ("develop_theme", "theme bars (5, 2)", lambda: symbolic.develop_theme((s, (5, 2)))),
        ("develop_theme", "model=missing folder", lambda: symbolic.develop_theme(
            s, model=f["missing"] + "/m")),
        ("harmonize", "melody=None", lambda: symbolic.harmonize(None)),
        ("harmonize", "melody=missing.mid", lambda: symbolic.harmonize(f["missing"])),
        ("harmonize", "style='jazz'", lambda: harmonize(style="jazz")),
        ("harmonize", "style=None", lambda: harmonize(style=None)),
        ("harmonize", "track=9", lambda: harmonize(track=9)),
        ("harmonize", "track='Viola'", lambda: harmonize(track="Viola")),
        ("harmonize", "fermatas='yes'", lambda: harmonize(fermatas="yes")),
        ("harmonize", "model='band' (no voices)", lambda: harmonize(model="band")),
        ("harmonize", "model=3.5", lambda: harmonize(model=3.5)),
        ("harmonize", "steps=0", lambda: harmonize(steps=0)),
        ("harmonize", "pulse=0", lambda: harmonize(pulse=0)),
        ("harmonize", "pulse='fast'", lambda: harmonize(pulse="fast")),
        ("harmonize", "density=-1", lambda: harmonize(density=-1)),
        ("harmonize", "resample=-1", lambda: harmonize(resample=-1)),
        ("harmonize", "seed=-1", lambda: harmonize(seed=-1)),
        ("harmonize", "bar_ticks=[5, 1]", lambda: harmonize(bar_ticks=[5, 1])),
        ("infill", "score=None", lambda: symbolic.infill(None, ["piano"], (1, 2), **quick)),
        ("infill", "score=missing.mid", lambda: symbolic.infill(f["missing"], ["piano"],
                                                                 (1, 2), **quick)),
        ("infill", "tracks=[]", lambda: infill(tracks=[])),
        ("infill", "tracks=['drums']", lambda: infill(tracks=["drums"])),
        ("infill", "bars=(2, 1)", lambda: infill(bars=(2, 1))),
        ("infill", "bars=(0, 1)", lambda: infill(bars=(0, 1))),
        ("infill", "bars=(1.5, 2)", lambda: infill(bars=(1.5, 2))),
        ("infill", "bars='abc'", lambda: infill(bars="abc")),
        ("infill", "bars=(1, 10**6)", lambda: infill(bars=(1, 10**6))),
        ("infill", "bars=(900, 901)", lambda: infill(bars=(900, 901))),
        ("infill", "regions=[('piano', (2, 1))]", lambda: infill(regions=[("piano", (2, 1))])),
        ("infill", "steps=0", lambda: infill(steps=0)),
        ("infill", "temperature=-1", lambda: infill(temperature=-1)),
        ("infill", "top_p=0", lambda: infill(top_p=0)),
        ("infill", "seed=-1", lambda: infill(seed=-1)),
        ("infill", "candidates=0", lambda: infill(candidates=0)),
        ("infill", "track_map={'PIANO': 5}", lambda: infill(track_map={"PIANO": 5})),
        ("infill", "device='cuda' (no CUDA)", lambda: infill(device="cuda")),
        ("melodize", "chords=''", lambda: melodize(chords="")),
        ("melodize", "chords=None", lambda: melodize(chords=None)),
        ("melodize", "bars=0", lambda: melodize(bars=0)),
        ("melodize", "bars=1.5", lambda: melodize(bars=1.5)),
        ("melodize", "bars=10**6", lambda: melodize(bars=10**6)),
        ("melodize", "temperature=-1", lambda: melodize(temperature=-1)),
        ("melodize", "duration_temperature=-1", lambda: melodize(duration_temperature=-1)),
        ("melodize", "top_p=0", lambda: melodize(top_p=0)),
        ("melodize", "tempo=0", lambda: melodize(tempo=0)),
        ("melodize", "seed=-1", lambda: melodize(seed=-1)),
        ("melodize", "model='no-such-model'", lambda: melodize(model="no-such-model")),
        ("melodize", "opening=5", lambda: melodize(opening=5)),
        ("melodize", "opening_bars=0", lambda: melodize(opening=s, opening_bars=0)),
        ("harmony2vec", "similar(item=None)", lambda: model.similar(None)),
        ("harmony2vec", "similar(item=True)", lambda: model.similar(True)),
        ("harmony2vec", "similar(item=99999)", lambda: model.similar(99999)),
        ("harmony2vec", "similar(item=['a'])", lambda: model.similar(["a"])),
        ("harmony2vec", "similar(topn=0)", lambda: model.similar("C:maj", topn=0)),
        ("harmony2vec", "similar(topn=1.5)", lambda: model.similar("C:maj", topn=1.5)),
        ("harmony2vec", "similar(among='nothing')", lambda: model.similar("C:maj",
                                                                         among="nothing")),
        ("harmony2vec", "analogy(topn=-1)", lambda: model.analogy("C:maj", "G:maj", "A:min",
                                                                  topn=-1)),
        ("harmony2vec", "Settings(dim=0)", lambda: h2v.Settings(dim=0)),
        ("harmony2vec", "Settings(steps=1.5)", lambda: h2v.Settings(steps=1.5)),
        ("harmony2vec", "Settings(lr=0)", lambda: h2v.Settings(lr=0)),
        ("harmony2vec", "Settings(window=0)", lambda: h2v.Settings(window=0)),
        ("harmony2vec", "Settings(sources={'nosuch': 1})",
         lambda: h2v.Settings(sources={"nosuch": 1})),
        ("harmony2vec", "Settings(sources={'essen': -5})",
         lambda: h2v.Settings(sources={"essen": -5})),
        ("harmony2vec", "train(resume=True, no checkpoint_dir)",
         lambda: h2v.train(h2v.Settings(steps=1), resume=True, progress=False)),
        ("harmony2vec", "load('no-such-model')", lambda: h2v.load("no-such-model")),
        ("hrnn", "train(Settings(batch=0))", lambda: hrnn.train(hrnn.Settings(batch=0))),
        ("hrnn", "train(Settings(steps=1.5))", lambda: hrnn.train(hrnn.Settings(steps=1.5))),
        ("hrnn", "train(Settings(dropout=1))", lambda: hrnn.train(hrnn.Settings(dropout=1))),
        ("hrnn", "train(Settings(lr=nan))", lambda: hrnn.train(hrnn.Settings(lr=math.nan))),
        ("hrnn", "train(stop_at=0)", lambda: hrnn.train(stop_at=0)),
        ("hrnn", "train(max_minutes=-1)", lambda: hrnn.train(max_minutes=-1)),
        ("hrnn", "train(device='cuda') (no CUDA)", lambda: hrnn.train(device="cuda")),
        ("hrnn", "train(out=/proc/x)", lambda: hrnn.train(out="/proc/x")),
        ("training", "TrainConfig(steps=0)", lambda: TrainConfig(steps=0)),
        ("training", "TrainConfig(lr=-1)", lambda: TrainConfig(lr=-1)),
        ("training", "TrainConfig(optimizer='x')", lambda: TrainConfig(optimizer="x")),
        ("training", "TrainConfig(threads=-2)", lambda: TrainConfig(threads=-2)),
        ("training", "TrainConfig(log_every=0)", lambda: TrainConfig(log_every=0)),
        ("training", "resolve_device(device='tpu9')", lambda: resolve_device("tpu9")),
        ("grid", "encode(score=None)", lambda: grid.encode(None)),
        ("grid", "encode(vocab='nosuch')", lambda: grid.encode(s, vocab="nosuch")),
        ("grid", "encode(track_map='nosuch')", lambda: grid.encode(s, track_map="nosuch")),
        ("grid", "decode(grid=None)", lambda: grid.decode(None)),
        ("leadsheet", "encode(score=None)", lambda: leadsheet.encode(None)),
        ("leadsheet", "decode(events=None)", lambda: leadsheet.decode(None)),
        ("leadsheet", "chord_of_id(i=-1)", lambda: leadsheet.chord_of_id(-1)),
        ("leadsheet", "chord_of_id(i=10**6)", lambda: leadsheet.chord_of_id(10**6)),
        ("pianoroll", "encode(score=None)", lambda: pianoroll.encode(None)),
        ("pianoroll", "encode(resolution=0)", lambda: pianoroll.encode(s, resolution=0)),
        ("pianoroll", "encode(mode='nosuch')", lambda: pianoroll.encode(s, mode="nosuch")),
        ("pianoroll", "decode(roll=None)", lambda: pianoroll.decode(None)),
        ("pianoroll", "default_meta(width=-1)", lambda: pianoroll.default_meta(-1)),
        ("pianoroll", "default_meta(qpm=0)", lambda: pianoroll.default_meta(16, qpm=0)),
        ("slices", "encode(score=None)", lambda: slices.encode(None)),
        ("slices", "pitch_classes(mask=-1)", lambda: slices.pitch_classes(-1)),
        ("slices", "mask_of_pitches(pitches=['a'])", lambda: slices.mask_of_pitches(["a"])),
        ("slices", "parse_slice_name(name='X-Y')", lambda: slices.parse_slice_name("X-Y")),
        ("tokens", "encode(score=None)", lambda: tokens.encode(None)),
        ("tokens", "encode(tokenizer='nosuch')", lambda: tokens.encode(s, tokenizer="nosuch")),
        ("tokens", "decode(x=None)", lambda: tokens.decode(None)),
        ("tokens", "build_preset(name='nosuch')", lambda: tokens.build_preset("nosuch")),
        ("tokens", "load(name_or_path='nosuch')", lambda: tokens.load("nosuch")),
        ("harmony", "Chord.parse(label='H')", lambda: Chord.parse("H")),
        ("harmony", "Chord.parse(label=None)", lambda: Chord.parse(None)),
        ("harmony", "Chord.parse(label=5)", lambda: Chord.parse(5)),
        ("data", "Pop909(path=missing)", lambda: Pop909(f["missing"]).song(1)),
        ("data", "Pop909().song(song_id=0)", lambda: Pop909().song(0)),
        ("data", "Pop909().song(song_id='abc')", lambda: Pop909().song("abc")),
        ("data", "piece_names(collection='nosuch')",
         lambda: music21_corpus.piece_names("nosuch")),
        ("data", "piece_names(split='x')", lambda: music21_corpus.piece_names("essen", "x")),
        ("audio", "render(sample_rate=0)", lambda: audio.render(s, 0)),
        ("audio", "render(sample_rate=-5)", lambda: audio.render(s, -5)),
        ("audio", "render(sample_rate=10**9)", lambda: audio.render(s, 10**9)),
        ("audio", "render(channels=3)", lambda: audio.render(s, 8000, channels=3)),
        ("audio", "render(backend='x')", lambda: audio.render(s, 8000, backend="x")),
        ("audio", "render(length=-1)", lambda: audio.render(s, 8000, length=-1)),
        ("audio", "render(scores=None)", lambda: audio.render(None, 8000)),
        ("audio", "render(seed=-1)", lambda: audio.render(s, 8000, seed=-1)),
        ("audio", "write_wav(path=/proc/x.wav)",
         lambda: audio.write_wav("/proc/x.wav", np.zeros((1, 100), np.float32), 8000)),
    ]


class _TimeLimit(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeLimit


def check(call: str, fn) -> tuple[str, str, bool, str]:
    """Run one case: (kind: accepted, raw or symbolic; outcome; passed; message)."""
    from symbolic.errors import SymbolicError

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT_S)
    try:
        fn()
        return "accepted", "accepted", False, ""
    except _TimeLimit:
        return "accepted", f"ran > {LIMIT_S} s", False, "accepted (still running)"
    except Exception as e:  # noqa: BLE001  (the point: which exception comes out)
        text = str(e).splitlines()[0] if str(e) else ""
        if not isinstance(e, SymbolicError):
            return "raw", type(e).__name__, False, text
        return "symbolic", type(e).__name__, _names_argument(call, e), text
    finally:
        signal.alarm(0)


def _names_argument(call: str, e) -> bool:
    """Does the message name what was wrong: the argument of ``call`` (``name=...``), or,
    for a file, the file?"""
    inner = call.split("(", 1)[1] if "(" in call else call
    name = inner.split("=", 1)[0].strip() if "=" in inner else ""
    text = str(e).lower()
    if not name:
        return True
    return name.lower() in text or (e.source is not None and e.source != "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=None, help="only cases of this area (load, compose...)")
    args = ap.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    rows, start = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        f = fixtures(Path(tmp))
        for area, call, fn in cases(f):
            if args.only and area != args.only:
                continue
            t0 = time.perf_counter()
            kind, outcome, ok, text = check(call, fn)
            rows.append((area, call, outcome, ok, text.replace(tmp, "TMP"),
                         time.perf_counter() - t0, kind))
    print(f"{'area':<12} {'call':<38} {'outcome':<22} {'ok':>3} {'s':>5}  message")
    for area, call, outcome, ok, text, t, _ in rows:
        print(f"{area:<12} {call[:38]:<38} {outcome[:22]:<22} {'ok' if ok else '!!':>3} "
              f"{t:5.1f}  {text[:100]}")
    bad = [r for r in rows if not r[3]]
    kinds = [r[6] for r in bad]
    print(f"\n{len(rows)} calls in {time.perf_counter() - start:.0f} s: {len(rows) - len(bad)} "
          f"passed, {len(bad)} failed ({kinds.count('raw')} raised a non-SymbolicError, "
          f"{kinds.count('accepted')} accepted, {kinds.count('symbolic')} did not name the "
          "argument)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
