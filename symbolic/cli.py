"""The ``symbolic`` command line.

    symbolic info FILE... [--json]        tracks, timing, key and chords of each file
    symbolic demo [--piece NAME] [--out DIR]
                                          load a piece, print its analysis, write MIDI,
                                          MusicXML and a piano-roll PNG
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

DEMO_PIECE = "corpus:bach/bwv66.6"


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
    from .analysis import describe, format_description
    from .io import load, save

    out = Path(args.out)
    score = load(args.piece)
    print(format_description(describe(score, source=args.piece)))
    stem = args.piece.split(":")[-1].replace("/", "_").replace("#", "_")
    written = [save(score, out / f"{stem}{suffix}") for suffix in (".mid", ".musicxml", ".png")]
    print("\nwrote:")
    for p in written:
        print(f"  {p}")
    return 0


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

    demo = sub.add_parser("demo", help="analyse a corpus piece and write MIDI, MusicXML, PNG")
    demo.add_argument("--piece", default=DEMO_PIECE, help=f"path or corpus:NAME (default {DEMO_PIECE})")
    demo.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    demo.set_defaults(func=_cmd_demo)

    conv = sub.add_parser("convert", help="convert between formats (by suffix)")
    conv.add_argument("input")
    conv.add_argument("output")
    conv.add_argument("--tune", default=None, help="ABC tune: index or title")
    conv.set_defaults(func=_cmd_convert)

    _add_harmony_embed(sub)
    _add_tokenize(sub)
    return p


def _version() -> str:
    from . import __version__

    return __version__


def main(argv=None) -> int:
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
