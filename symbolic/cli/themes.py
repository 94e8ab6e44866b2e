"""``symbolic find-themes`` (where a song's theme is, from its recurring two-bar melody
segments) and ``symbolic train themes`` (the contrastive theme encoder on POP909)."""

from __future__ import annotations

import json
import sys
import warnings

from .train import run_arguments

__all__ = ["add_parsers", "add_train_arguments", "run_train", "cmd_find_themes",
           "train_command"]

#: Options of ``symbolic train themes`` that set a field of ``Settings`` of the same name.
_SETTINGS_OPTIONS = ("steps", "batch", "lr", "temperature", "aug_p", "dim", "channels",
                     "layers", "seed")


def add_parsers(sub) -> None:
    p = sub.add_parser("find-themes", help="the theme region of a song: two-bar melody "
                                           "segments clustered by the shipped theme encoder")
    p.add_argument("file", help="a MIDI (or other readable) file with a melody track")
    p.add_argument("--melody", default=None, help="melody track name or index (default: the "
                                                  "track named melody/lead/vocal...)")
    p.add_argument("--meter", default=None, help="count bars in this meter (e.g. 4/4) instead "
                                                 "of the declared one (POP909 files declare 1/4)")
    p.add_argument("--eps", type=float, default=None, help="DBSCAN radius (cosine distance)")
    p.add_argument("--min-samples", type=int, default=None, help="DBSCAN core size")
    p.add_argument("--model", default=None, help="encoder folder or name (default: the "
                                                 "shipped theme-encoder)")
    p.add_argument("--png", default=None, help="write the cluster plot here")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_find_themes)


def cmd_find_themes(args) -> int:
    """Handler of ``symbolic find-themes``: prints the theme bars and the clusters."""
    from .. import checks, io
    from ..models.themes import find_themes, plot_themes

    if args.png is not None:
        checks.output_file(args.png, "--png")
    melody = int(args.melody) if args.melody is not None and args.melody.isdigit() \
        else args.melody
    options = {k: v for k, v in (("eps", args.eps), ("min_samples", args.min_samples))
               if v is not None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = find_themes(io.load(args.file), melody=melody, meter=args.meter,
                             model=args.model, **options)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.png:
        plot_themes(result, path=args.png, title=str(args.file))
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=1)
        print()
    else:
        print(result.summary())
    return 0


def add_train_arguments(p) -> None:
    """Options of ``symbolic train themes`` (defaults: :class:`~symbolic.models.themes.Settings`)."""
    from ..models.themes.settings import Settings

    d = Settings()
    p.add_argument("--out", required=True, help="folder (symbolic/pretrained/theme-encoder: "
                                                "the shipped encoder)")
    for name in _SETTINGS_OPTIONS:
        kind = type(getattr(d, name))
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind,
                       default=getattr(d, name))
    run_arguments(p, stop_at=None, restart=False)


def train_command(args) -> str:
    """The command line that repeats this run: options that differ from the defaults."""
    from ..models.themes.settings import Settings

    d = Settings()
    parts = ["symbolic train themes", f"--out {args.out}"]
    parts += [f"--{k.replace('_', '-')} {getattr(args, k)}" for k in _SETTINGS_OPTIONS
              if getattr(args, k) != getattr(d, k)]
    return " ".join(parts)


def run_train(args) -> int:
    """``symbolic train themes``: train, save, print the held-out figures."""
    from ..models.themes.settings import Settings
    from ..models.themes.train import train

    settings = Settings(**{k: getattr(args, k) for k in _SETTINGS_OPTIONS})
    _, info = train(settings, args.out, device=args.device, max_minutes=args.max_minutes,
                    progress=not args.quiet, command=train_command(args))
    print(f"saved {args.out}: {info['parameters']:,} parameters, {info['steps']} steps in "
          f"{info['train_minutes']} min ({info['train_segments']:,} segments); valid NT-Xent "
          f"{info['valid_loss']:.4f}, pair accuracy {info['valid_pair_accuracy']:.3f}")
    return 0
