"""``symbolic melodize`` (a melody over a chord progression) and ``symbolic train hrnn``
(CM-HRNN and its baselines on POP909 lead sheets)."""

from __future__ import annotations

import sys
from pathlib import Path

from .train import run_arguments

__all__ = ["add_parsers", "add_train_arguments", "run_train", "cmd_melodize", "train_command"]

#: Options of ``symbolic train hrnn`` that set a field of ``Settings`` of the same name.
_SETTINGS_OPTIONS = ("kind", "steps", "batch", "length", "lr", "hidden", "embed", "layers",
                     "dropout", "seed")


def add_parsers(sub) -> None:
    p = sub.add_parser("melodize", help="a lead-sheet melody over a chord progression "
                                        "(CM-HRNN, shipped weights)")
    p.add_argument("--chords", required=True, help='progression, e.g. "C G Am F | F G C C" '
                                                   '(bars split by |)')
    p.add_argument("--bars", type=int, default=None, help="bars to write (default: the "
                                                          "progression's; it repeats)")
    p.add_argument("-o", "--output", required=True,
                   help=".musicxml/.mxl (lead sheet with chord symbols), .mid or .png")
    p.add_argument("--opening", default=None,
                   help="a file whose melody (first bars) the new melody continues")
    p.add_argument("--opening-bars", type=int, default=None,
                   help="bars of --opening to keep (default: all, at most --bars - 1)")
    p.add_argument("--model", default=None,
                   help="hrnn-pop909 (default), hrnn-lstm-pop909, hrnn-attention-pop909 or "
                        "a folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=0.7, help="note temperature")
    p.add_argument("--duration-temperature", type=float, default=0.4)
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus of notes and durations")
    p.add_argument("--tempo", type=float, default=100.0, help="quarter notes per minute")
    p.add_argument("--png", default=None, help="also write a piano roll here")
    p.set_defaults(func=cmd_melodize)


def cmd_melodize(args) -> int:
    """Handler of ``symbolic melodize``: writes the file(s) and prints a one-line summary."""
    from .. import checks, io
    from ..models.hrnn import melodize, save_leadsheet

    for path, name in ((args.output, "--output"), (args.png, "--png")):
        if path is not None:
            checks.output_file(path, name)
    opening = None if args.opening is None else io.load(args.opening)
    score = melodize(args.chords, bars=args.bars, seed=args.seed, opening=opening,
                     opening_bars=args.opening_bars, model=args.model,
                     temperature=args.temperature,
                     duration_temperature=args.duration_temperature, top_p=args.top_p,
                     tempo=args.tempo)
    out = Path(args.output)
    if out.suffix.lower() in (".musicxml", ".xml", ".mxl"):
        save_leadsheet(score, out)
    else:
        io.save(score, out)
    if args.png:
        io.save(score, args.png)
    notes = sum(len(t.notes) for t in score.tracks if t.name == "MELODY")
    print(f"{out}: {notes} melody notes over {len(score.markers)} chord changes", file=sys.stdout)
    return 0


def add_train_arguments(p) -> None:
    """Options of ``symbolic train hrnn`` (defaults: :class:`~symbolic.models.hrnn.Settings`)."""
    from ..models.hrnn.settings import KINDS, Settings

    d = Settings()
    p.add_argument("--out", required=True, help="folder (symbolic/pretrained/hrnn-pop909: the "
                                                "shipped CM-HRNN)")
    p.add_argument("--kind", choices=KINDS, default=d.kind,
                   help="hrnn (CM-HRNN), lstm or attention (the baselines)")
    for name, kind in (("steps", int), ("batch", int), ("length", int), ("lr", float),
                       ("hidden", int), ("embed", int), ("layers", int), ("dropout", float),
                       ("seed", int)):
        p.add_argument(f"--{name}", type=kind, default=getattr(d, name))
    run_arguments(p, stop_at="stop after this step")


def train_command(args) -> str:
    """The command line that repeats this run (for the model card): options that differ from
    the defaults."""
    from ..models.hrnn.settings import Settings

    d = Settings()
    parts = ["symbolic train hrnn", f"--kind {args.kind}", f"--out {args.out}"]
    parts += [f"--{k} {getattr(args, k)}" for k in _SETTINGS_OPTIONS
              if k != "kind" and getattr(args, k) != getattr(d, k)]
    return " ".join(parts)


def run_train(args) -> int:
    """``symbolic train hrnn``: train, save, print the held-out figures."""
    from ..models.hrnn import Settings, train

    settings = Settings(**{k: getattr(args, k) for k in _SETTINGS_OPTIONS})
    _, info = train(settings, args.out, device=args.device, stop_at=args.stop_at,
                    max_minutes=args.max_minutes, resume=not args.restart,
                    progress=not args.quiet, command=train_command(args))
    t = info["test"]
    print(f"saved {args.out}: {info['kind']}, {info['parameters']:,} parameters, "
          f"{info['steps']} steps in {info['minutes']} min; valid loss {info['valid_loss']:.4f}; "
          f"test NLL note {t['note_nll']:.3f} duration {t['duration_nll']:.3f} "
          f"bar {t['bar_nll']:.4f}")
    return 0
