"""``symbolic voice-leading FILE [--json]``: parallel fifths and octaves, voice crossings,
spacing and ranges of a four-part score, with bar and beat (:mod:`symbolic.voiceleading`).
Bars follow the time signatures; a Bach chorale of music21's corpus (``corpus:bach/...``) takes
its measures, pickup included (bar 1), from :func:`~symbolic.data.music21_corpus.chorale_marks`."""

from __future__ import annotations

import json
import sys

__all__ = ["add_parsers", "cmd_voice_leading"]


def add_parsers(sub) -> None:
    p = sub.add_parser("voice-leading", help="parallel fifths/octaves, crossings, spacing and "
                                             "ranges of a four-part (SATB) score")
    p.add_argument("file", help="path or corpus:NAME (e.g. corpus:bach/bwv66.6)")
    p.add_argument("--voices", default=None,
                   help="the four tracks, soprano first: names or indices separated by commas "
                        "(default: by track name, else the four tracks in order)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--tune", default=None, help="ABC tune: index or title")
    p.set_defaults(func=cmd_voice_leading)


def cmd_voice_leading(args) -> int:
    """Handler: prints the report's table (or its JSON)."""
    from ..io import load
    from ..voiceleading import report

    voices = None
    if args.voices is not None:
        voices = [int(v) if v.strip().isdigit() else v.strip() for v in args.voices.split(",")]
    bars = None
    if args.file.startswith("corpus:bach/"):  # a chorale's measures, its pickup included
        from ..data.music21_corpus import chorale_marks

        bars = chorale_marks(args.file).bar_ticks
    r = report(load(args.file, tune=args.tune), voices=voices, bar_ticks=bars)
    if args.json:
        json.dump({"file": args.file, **r.to_dict()}, sys.stdout, indent=2)
        print()
    else:
        print(f"{args.file}\n{r}")
    return 0
