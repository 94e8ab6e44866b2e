"""The ``symbolic`` command line.

    symbolic info FILE... [--json]        tracks, timing, key and chords of each file
    symbolic demo [--chords "C | G | Am | F"] [--out DIR]
                                          compose 16 bars from chords with the shipped
                                          GETDiff weights, regenerate the piano in bars 9-12,
                                          write MIDI and piano-roll PNGs of both
    symbolic infill IN --tracks piano --bars 9-16 -o OUT.mid [--png P] [--wav W]
                                          regenerate tracks over bars, keep every other note
    symbolic compose --chords "C G Am F | ..." -o song.mid [--png P] [--wav W]
                                          a new piece from a chord progression
    symbolic train getdiff --out DIR      train GETDiff on POP909 (reproduces the weights)
    symbolic render IN OUT.wav [--backend synth|soundfont]
                                          render any readable file to audio
    symbolic convert IN OUT               any readable format to MIDI/MusicXML/ABC/PNG
    symbolic tokenize SOURCE OUT [--captions train.json] [--tokenizer remi] [--workers N]
                                          tokenize a corpus (folder, .tar.gz, MidiCaps) into
                                          Parquet shards; run again to resume
    symbolic harmony-embed train|similar|analogy|plot
                                          harmony embeddings (harmony2vec): train, nearest
                                          chords, analogies, plots

FILE is a path (MIDI, MusicXML, ABC, Humdrum) or ``corpus:NAME`` from music21's corpus.
A file that cannot be read is reported on stderr and the others go on; the exit status is 1
when any failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import SymbolicError

DEMO_CHORDS = "C | G | Am | F | Dm | G | C | C"


def _cmd_info(args) -> int:
    from .analysis import describe, format_description
    from .io import load

    failed, results = 0, []
    for src in args.files:
        try:
            score = load(src, tune=args.tune)
            d = describe(score, source=str(src), chords=not args.no_chords)
        except SymbolicError as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            results.append(d)
        else:
            print(format_description(d))
    if args.json:
        json.dump(results if len(args.files) > 1 else (results[0] if results else None),
                  sys.stdout, indent=2)
        print()
    return 1 if failed else 0


def _cmd_demo(args) -> int:
    """Compose a piece from a chord progression with the shipped GETDiff weights, then
    regenerate one track over a span of it; write MIDI and piano-roll PNGs of both."""
    import time

    from .analysis import describe, format_description
    from .generate import compose, infill
    from .io import save

    out = Path(args.out)
    t0 = time.time()
    song = compose(args.chords, bars=args.bars, steps=args.steps, seed=args.seed,
                   device=args.device)
    t1 = time.time()
    first, last = _bar_range(args.infill_bars)
    redo = infill(song, tracks=[args.infill_track], bars=(first, last), chords="markers",
                  steps=args.steps, seed=args.seed + 1, device=args.device)
    t2 = time.time()
    print(f"composed {args.bars} bars over {args.chords!r} in {t1 - t0:.1f} s; "
          f"regenerated {args.infill_track} in bars {first}-{last} in {t2 - t1:.1f} s\n")
    print(format_description(describe(song, source="composed", chords=False)))
    written = []
    for name, score in (("composed", song), ("infilled", redo)):
        written += [save(score, out / f"{name}{suffix}") for suffix in (".mid", ".png")]
    print("\nwrote:")
    for p in written:
        print(f"  {p}")
    return 0


def _bar_range(text: str) -> tuple[int, int]:
    """'9-16' -> (9, 16); '9' -> (9, 9)."""
    try:
        parts = [int(x) for x in str(text).split("-")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bars must look like 9-16 or 9, got {text!r}") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 1 <= parts[0] <= parts[1]:
        raise argparse.ArgumentTypeError(f"bars must look like 9-16 (1-based, first <= last), "
                                         f"got {text!r}")
    return parts[0], parts[1]


def _write_outputs(score, args) -> None:
    from .io import save

    if args.output:
        save(score, args.output)
        print(args.output)
    if args.png:
        save(score, args.png)
        print(args.png)
    if args.wav:
        from .audio import render, write_wav

        wav = render([score], sample_rate=args.sample_rate, device=args.device)
        write_wav(args.wav, wav[0], args.sample_rate)
        print(args.wav)


def _sampling_args(p) -> None:
    p.add_argument("--steps", type=int, default=16, help="sampling steps per window (default 16)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--guidance", type=float, default=1.0,
                   help="classifier-free chord guidance weight (1: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--order", choices=("confidence", "random"), default="confidence",
                   help="which drawn cells each step keeps (default confidence)")
    p.add_argument("--model", default=None, help="model folder (default: shipped weights)")
    p.add_argument("--device", default="auto")
    p.add_argument("-o", "--output", default=None, help="MIDI/MusicXML/ABC file to write")
    p.add_argument("--png", default=None, help="also write a piano-roll PNG")
    p.add_argument("--wav", default=None, help="also render a WAV (symbolic.audio synth)")
    p.add_argument("--sample-rate", type=int, default=22050, help="WAV sample rate")


def _cmd_infill(args) -> int:
    import warnings

    from .generate import infill

    regions = []
    for r in args.region or ():
        track, _, bars = r.partition(":")
        if not bars:
            raise SystemExit(f"error: --region wants TRACK:FIRST-LAST, got {r!r}")
        regions.append((track, _bar_range(bars)))
    tracks = [t for x in args.tracks or () for t in x.split(",") if t] or None
    bars = _bar_range(args.bars) if args.bars else None
    track_map = dict(x.split("=", 1) for x in args.map or ())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = infill(args.input, tracks=tracks, bars=bars, regions=regions,
                     chords=args.chords or "auto", model=args.model, steps=args.steps,
                     temperature=args.temperature, top_p=args.top_p, guidance=args.guidance,
                     seed=args.seed, device=args.device, track_map=track_map or None,
                     order=args.order, progress=not args.quiet)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if not (args.output or args.png or args.wav):
        args.output = str(Path(args.input).with_suffix("")) + "-infilled.mid"
    _write_outputs(out, args)
    return 0


def _cmd_compose(args) -> int:
    from .generate import compose

    tracks = [t for x in args.tracks or () for t in x.split(",") if t] or None
    num, _, den = args.time_signature.partition("/")
    out = compose(args.chords, bars=args.bars, tracks=tracks, tempo=args.tempo,
                  time_signature=(int(num), int(den or 4)), model=args.model, steps=args.steps,
                  temperature=args.temperature, top_p=args.top_p, guidance=args.guidance,
                  seed=args.seed, device=args.device, order=args.order,
                  progress=not args.quiet)
    if not (args.output or args.png or args.wav):
        args.output = "song.mid"
    _write_outputs(out, args)
    return 0


def _cmd_train(args) -> int:
    from .models.getdiff import train

    info = train(args.out, steps=args.steps, batch=args.batch, lr=args.lr, device=args.device,
                 seed=args.seed, dim=args.dim, depth=args.depth, heads=args.heads,
                 window_bars=args.window_bars, threads=args.threads or None,
                 stop_at=args.stop_at, max_minutes=args.max_minutes, resume=not args.restart,
                 progress=not args.quiet)
    last = next((h for h in reversed(info["history"]) if "eval_loss" in h), {})
    print(f"saved {args.out}: {info['steps']} steps in {info['minutes']} min, "
          f"held-out bound {last.get('eval_loss', float('nan')):.4f} nats/target cell")
    return 0


def _add_getdiff(sub) -> None:
    inf = sub.add_parser("infill", help="regenerate tracks over bars of a piece (GETDiff)")
    inf.add_argument("input", help="MIDI/MusicXML/... file")
    inf.add_argument("--tracks", action="append", help="model tracks to write: melody, bridge, "
                                                        "piano (comma-separated or repeated)")
    inf.add_argument("--bars", default=None, help="FIRST-LAST, 1-based inclusive (default all)")
    inf.add_argument("--region", action="append", help="more regions: TRACK:FIRST-LAST")
    inf.add_argument("--chords", default=None,
                     help='progression overriding recognized chords: "C G | Am F"')
    inf.add_argument("--map", action="append", help="input track to model track: 'Guitar=PIANO'")
    inf.add_argument("--quiet", action="store_true", help="no progress bar")
    _sampling_args(inf)
    inf.set_defaults(func=_cmd_infill)

    comp = sub.add_parser("compose", help="write a piece from a chord progression (GETDiff)")
    comp.add_argument("--chords", required=True, help='"C G Am F | F G C C" (bars split by |)')
    comp.add_argument("--bars", type=int, default=None, help="length (default: the progression)")
    comp.add_argument("--tracks", action="append", help="tracks to write (default all)")
    comp.add_argument("--tempo", type=float, default=100.0)
    comp.add_argument("--time-signature", default="4/4")
    comp.add_argument("--quiet", action="store_true", help="no progress bar")
    _sampling_args(comp)
    comp.set_defaults(func=_cmd_compose)

    tr = sub.add_parser("train", help="train a model (getdiff) and save its weights")
    tr.add_argument("model", choices=("getdiff",))
    tr.add_argument("--out", required=True, help="folder (symbolic/pretrained/getdiff-pop909: "
                                                 "the shipped one)")
    tr.add_argument("--steps", type=int, default=8000)
    tr.add_argument("--stop-at", type=int, default=None,
                    help="stop after this step of the --steps schedule (multiple of 50)")
    tr.add_argument("--max-minutes", type=float, default=None)
    tr.add_argument("--batch", type=int, default=16)
    tr.add_argument("--lr", type=float, default=1e-3)
    tr.add_argument("--dim", type=int, default=192)
    tr.add_argument("--depth", type=int, default=4)
    tr.add_argument("--heads", type=int, default=4)
    tr.add_argument("--window-bars", type=int, default=8)
    tr.add_argument("--threads", type=int, default=1, help="CPU threads (0: torch's default)")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    tr.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    tr.set_defaults(func=_cmd_train)


def _cmd_convert(args) -> int:
    from .io import load, save

    save(load(args.input, tune=args.tune), args.output)
    print(args.output)
    return 0


def _cmd_harmony_embed(args) -> int:
    from .models.harmony2vec import run_cli

    return run_cli(args)


def _add_harmony_embed(sub) -> None:
    he = sub.add_parser("harmony-embed", help="harmony embeddings: train, similar, analogy, plot")
    acts = he.add_subparsers(dest="action", required=True)
    tr = acts.add_parser("train", help="train on POP909 + music21 (reproduces the shipped weights)")
    tr.add_argument("--out", default=None,
                    help="folder to save to (symbolic/pretrained/harmony2vec: the shipped one)")
    for flag, kind in (("--steps", int), ("--dim", int), ("--window", int), ("--negatives", int),
                       ("--max-vocab", int), ("--batch-size", int), ("--lr", float),
                       ("--seed", int)):
        tr.add_argument(flag, type=kind, default=None, help="override the default setting")
    tr.add_argument("--sources", default=None, help="e.g. pop909,bach_chorales,essen:500")
    tr.add_argument("--no-transpose", action="store_true", help="no transposition to 12 keys")
    tr.add_argument("--device", default="auto")
    tr.add_argument("--checkpoint-dir", default=None)
    tr.add_argument("--resume", action="store_true", help="go on from --checkpoint-dir")
    tr.add_argument("--quiet", action="store_true", help="no progress bars")
    for name, nargs, text in (("similar", "+", "nearest chords/slices of each ITEM"),
                              ("analogy", 3, "A is to B as C is to ?")):
        q = acts.add_parser(name, help=text)
        q.add_argument("items", nargs=nargs, metavar="ITEM", help="C:maj, Am7, C-E-G, 145...")
        q.add_argument("--topn", type=int, default=10 if name == "similar" else 5)
        q.add_argument("--among", default="chords" if name == "similar" else "majmin",
                       help="chords, triads, majmin or all (every slice)")
        q.add_argument("--model", default=None, help="model folder (default: shipped weights)")
    pl = acts.add_parser("plot", help="triads (circle of fifths), key distances, neighbours")
    pl.add_argument("--out", default="out/harmony2vec", help="output folder for the PNGs")
    pl.add_argument("--model", default=None, help="model folder (default: shipped weights)")
    he.set_defaults(func=_cmd_harmony_embed)


def _cmd_tokenize(args) -> int:
    from .data.pipeline import cli_main

    return cli_main(args)


def _add_tokenize(sub) -> None:
    tok = sub.add_parser("tokenize", help="tokenize a MIDI corpus into Parquet shards (resumable)")
    tok.add_argument("source", help="folder, .tar/.tar.gz archive, .txt list of paths, or a MidiCaps "
                                    "folder (train.json + midicaps.tar.gz or lmd_full/)")
    tok.add_argument("out", help="output folder (shards, manifest, tokenizer, quarantine)")
    tok.add_argument("--captions", help="MidiCaps captions file (train.json) to join")
    tok.add_argument("--split", choices=("train", "test", "all"), default=None,
                     help="MidiCaps split by test_set (default: all)")
    tok.add_argument("--tokenizer", default="remi", help="preset name or miditok file (default remi)")
    tok.add_argument("--workers", type=int, default=None, help="processes or Ray tasks (default: CPUs)")
    tok.add_argument("--shard-size", type=int, default=1000, help="inputs per shard (default 1000)")
    tok.add_argument("--limit", type=int, default=None, help="only the first N inputs")
    tok.add_argument("--backend", choices=("local", "ray"), default="local")
    tok.add_argument("--address", default=None, help="Ray cluster address (default: a local Ray)")
    tok.add_argument("--timeout", type=float, default=120.0, help="seconds per file (0: none)")
    tok.add_argument("--max-notes", type=int, default=1_000_000, help="notes per file (0: no limit)")
    tok.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    tok.add_argument("--no-progress", action="store_true", help="no progress bar")
    tok.add_argument("--json", action="store_true", help="print the summary as JSON")
    tok.set_defaults(func=_cmd_tokenize)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="symbolic", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"symbolic {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="describe music files")
    info.add_argument("files", nargs="+", help="paths or corpus:NAME")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.add_argument("--no-chords", action="store_true", help="skip chord recognition")
    info.add_argument("--tune", default=None, help="ABC tune: index or title")
    info.set_defaults(func=_cmd_info)

    demo = sub.add_parser("demo", help="compose from chords, infill a track, write MIDI + PNG")
    demo.add_argument("--chords", default=DEMO_CHORDS, help=f"progression (default {DEMO_CHORDS!r})")
    demo.add_argument("--bars", type=int, default=16)
    demo.add_argument("--infill-track", default="piano")
    demo.add_argument("--infill-bars", default="9-12")
    demo.add_argument("--steps", type=int, default=16)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--device", default="auto")
    demo.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    demo.set_defaults(func=_cmd_demo)

    conv = sub.add_parser("convert", help="convert between formats (by suffix)")
    conv.add_argument("input")
    conv.add_argument("output")
    conv.add_argument("--tune", default=None, help="ABC tune: index or title")
    conv.set_defaults(func=_cmd_convert)

    _add_harmony_embed(sub)
    _add_tokenize(sub)
    _add_getdiff(sub)
    try:
        from .audio.cli import add_render_parser
    except ImportError:  # the audio commands are optional until symbolic.audio.cli exists
        pass
    else:
        add_render_parser(sub)
    codec = sub.add_parser("codec", help="audio codecs: train the RAVE-style codec",
                           add_help=False)
    codec.add_argument("rest", nargs=argparse.REMAINDER)
    codec.set_defaults(func=_cmd_codec)
    return p


def _cmd_codec(args) -> int:
    return _run_codec(args.rest)


def _run_codec(rest) -> int:
    """``symbolic codec ...``: its parser (and torch) load only when the command is used."""
    from .audio.train_rave import add_codec_parser

    p = argparse.ArgumentParser(prog="symbolic")
    add_codec_parser(p.add_subparsers(dest="command", required=True))
    sub_args = p.parse_args(["codec", *rest])
    return sub_args.func(sub_args)


def _version() -> str:
    from . import __version__

    return __version__


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["codec"]:
        try:
            return _run_codec(argv[1:])
        except SymbolicError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    args = build_parser().parse_args(argv)
    if getattr(args, "tune", None) is not None and str(args.tune).lstrip("-").isdigit():
        args.tune = int(args.tune)
    try:
        return args.func(args)
    except SymbolicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
