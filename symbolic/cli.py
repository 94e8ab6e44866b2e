"""The ``symbolic`` command line.

    symbolic info FILE... [--json]        tracks, timing, key and chords of each file
    symbolic demo [--piece NAME] [--out DIR]
                                          load a piece, print its analysis, write MIDI,
                                          MusicXML and a piano-roll PNG
    symbolic convert IN OUT               any readable format to MIDI/MusicXML/ABC/PNG

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
