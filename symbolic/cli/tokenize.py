"""``symbolic tokenize``: a corpus into Parquet shards."""

from __future__ import annotations

__all__ = ["add_parsers"]


def _cmd_tokenize(args) -> int:
    """Run :func:`symbolic.data.pipeline.tokenize` from parsed arguments, print the summary."""
    import json
    import sys
    from pathlib import Path

    from ..data import shards
    from ..data.pipeline import retryable, tokenize

    summary = tokenize(_source(args), args.out, tokenizer=args.tokenizer, captions=args.captions,
                       split=args.split, limit=args.limit, workers=args.workers,
                       shard_size=args.shard_size, backend=args.backend, address=args.address,
                       timeout=args.timeout or None, max_notes=args.max_notes or None,
                       progress=not args.no_progress, overwrite=args.overwrite)
    if args.json:
        json.dump(summary.to_dict(), sys.stdout, indent=2)
        print()
    else:
        print(summary)
        if summary.rejected:
            print(f"quarantine: {Path(args.out) / shards.QUARANTINE}")
            again = sum(map(retryable, shards.read_quarantine(args.out)))
            if again:
                print(f"{again} of them because a process died on them (a crash, or killed "
                      "from outside): the same command tries them again")
    return 0


def _source(args):
    """The source argument as given, or a :class:`~symbolic.data.midicaps.MidiCaps` when it
    names a MidiCaps download folder (train.json beside the archive or lmd_full/) and no
    ``--captions`` is given."""
    from pathlib import Path

    p = Path(args.source)
    if args.captions is None and p.is_dir() and (p / "train.json").is_file() and (
            (p / "midicaps.tar.gz").is_file() or (p / "midicaps.tar").is_file()
            or (p / "lmd_full").is_dir()):
        from ..data.midicaps import MidiCaps

        return MidiCaps(p, split=args.split)
    return args.source


def add_parsers(sub) -> None:
    tok = sub.add_parser("tokenize", help="tokenize a MIDI corpus into Parquet shards (resumable)")
    tok.add_argument("source", help="folder, .tar/.tar.gz archive, .txt list of paths, a MidiCaps "
                                    "folder (train.json + midicaps.tar.gz or lmd_full/), "
                                    "pop909[:SPLIT] or music21:COLLECTION[:SPLIT]")
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


