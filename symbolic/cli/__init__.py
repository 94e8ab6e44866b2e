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
    symbolic train rave --out DIR --steps N [--stage 2]
                                          train the RAVE-style audio codec on rendered
                                          corpora (alias: symbolic codec train)
    symbolic render IN OUT.wav [--backend synth|soundfont]
                                          render any readable file to audio
    symbolic convert IN OUT               any readable format to MIDI/MusicXML/ABC/PNG
    symbolic tokenize SOURCE OUT [--captions train.json] [--tokenizer remi] [--workers N]
                                          tokenize a corpus (folder, .tar.gz, MidiCaps) into
                                          Parquet shards; run again to resume
    symbolic harmony-embed train|similar|analogy|plot
                                          harmony embeddings (harmony2vec): train, nearest
                                          chords, analogies, plots
    symbolic find-themes FILE [--png P] [--json]
                                          the theme region of a song (recurring two-bar
                                          melody segments, clustered)
    symbolic train themes --out DIR       train the theme encoder on POP909
    symbolic develop-theme THEME.mid -o OUT.mid [--bars 32] [--seed N] [--png P]
                                          a new piece from a theme (Theme Transformer)
    symbolic train theme-transformer --out DIR [--decoder-only]
                                          train Theme Transformer (or its baseline) on POP909
    symbolic inpaint IN --bars 9-12 --pitches 60-84 -o OUT.mid [--png P] [--mask M.png]
                                          fill a region of the piano roll with HDiT (a
                                          trained --model), keep every other note
    symbolic train hdit --out DIR         train HDiT inpainting on POP909 piano rolls
    symbolic voice-leading FILE [--json]  parallel fifths/octaves, crossings, spacing and
                                          ranges of a four-part score, by bar and beat

FILE is a path (MIDI, MusicXML, ABC, Humdrum) or ``corpus:NAME`` from music21's corpus.
A file that cannot be read is reported on stderr and the others go on; the exit status is 1
when any failed. Every error is one line ``error: ...`` on stderr: exit status 2 for an
option's value (usage), 1 for bad input (a file missing or unreadable, an output that cannot
be written, a chord, track or model the command does not know).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import ArgumentError, SymbolicError

def _cmd_info(args) -> int:
    from ..analysis import describe, format_description
    from ..io import load

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


def _cmd_convert(args) -> int:
    from ..io import load, save

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

    from . import (audio, generate, harmony2vec, hrnn, inpaint, themes, tokenize, train,
                   voiceleading)
    from .generate import DEMO_CHORDS, cmd_demo

    demo = sub.add_parser("demo", help="compose from chords, infill a track, write MIDI + PNG")
    demo.add_argument("--chords", default=DEMO_CHORDS, help=f"progression (default {DEMO_CHORDS!r})")
    demo.add_argument("--bars", type=int, default=16)
    demo.add_argument("--infill-track", default="piano")
    demo.add_argument("--infill-bars", default="9-12")
    demo.add_argument("--steps", type=int, default=16)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--device", default="auto")
    demo.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    demo.set_defaults(func=cmd_demo)

    conv = sub.add_parser("convert", help="convert between formats (by suffix)")
    conv.add_argument("input")
    conv.add_argument("output")
    conv.add_argument("--tune", default=None, help="ABC tune: index or title")
    conv.set_defaults(func=_cmd_convert)

    harmony2vec.add_parsers(sub)
    tokenize.add_parsers(sub)
    generate.add_parsers(sub)
    train.add_parsers(sub)
    audio.add_parsers(sub)
    hrnn.add_parsers(sub)
    themes.add_parsers(sub)
    inpaint.add_parsers(sub)
    voiceleading.add_parsers(sub)
    return p


def _version() -> str:
    from .. import __version__

    return __version__


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if getattr(args, "tune", None) is not None and str(args.tune).lstrip("-").isdigit():
        args.tune = int(args.tune)
    try:
        return args.func(args)
    except ArgumentError as e:  # an option's value: a usage error, as argparse's own
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SymbolicError as e:  # the input (a file, a chord, a model folder) is wrong
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # the file system refused a read or write the checks did not foresee
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{e.strerror or e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
