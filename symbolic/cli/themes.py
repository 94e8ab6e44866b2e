"""``symbolic find-themes`` (where a song's theme is, from its recurring two-bar melody
segments), ``symbolic develop-theme`` (a new piece from a theme with Theme Transformer),
``symbolic train themes`` (the contrastive theme encoder on POP909) and ``symbolic train
theme-transformer`` (Theme Transformer or its decoder-only baseline, :data:`THEME_TRANSFORMER`)."""

from __future__ import annotations

import json
import sys
import warnings
from types import SimpleNamespace

from ..errors import ArgumentError
from .train import as_option, run_arguments

__all__ = ["add_parsers", "add_train_arguments", "run_train", "cmd_find_themes",
           "train_command", "cmd_develop_theme", "THEME_TRANSFORMER"]

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

    p = sub.add_parser("develop-theme", help="a new piece that opens with a theme and brings "
                                             "it back (Theme Transformer, shipped weights)")
    p.add_argument("file", help="the theme: a MIDI (or other readable) file of a few bars")
    p.add_argument("-o", "--out", required=True, help="the piece (.mid, or any format save "
                                                      "writes)")
    p.add_argument("--bars", type=int, default=32, help="bars of the piece (default 32)")
    p.add_argument("--theme-bars", default=None, help="the theme is these bars of the file, "
                                                      "e.g. 9-10 (default: all its bars)")
    p.add_argument("--meter", default=None, help="count the file's bars in this meter (e.g. "
                                                 "4/4; POP909 files declare 1/4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.2)
    p.add_argument("--top-p", type=float, default=0.9)
    p.add_argument("--decoder-only", action="store_true", help="the prompt baseline instead")
    p.add_argument("--model", default=None, help="model folder or name (default: shipped)")
    p.add_argument("--device", default="auto")
    p.add_argument("--png", default=None, help="piano roll with the theme regions marked")
    p.set_defaults(func=cmd_develop_theme)


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


def _theme_bars(text: str | None):
    """'9-10' -> (9, 10), '9' -> (9, 9), None -> None; else ArgumentError."""
    from ..errors import ArgumentError

    if text is None:
        return None
    first, _, last = str(text).partition("-")
    if not (first.isdigit() and (last or first).isdigit()):
        raise ArgumentError(f"must look like 9-10 or 9 (1-based bars), got {text!r}",
                            "--theme-bars")
    return int(first), int(last or first)


#: develop_theme's arguments -> the options of ``symbolic develop-theme``.
DEVELOP_OPTIONS = {"bars": "--bars", "seed": "--seed", "temperature": "--temperature",
                   "top_p": "--top-p", "theme bars": "--theme-bars", "device": "--device"}


def cmd_develop_theme(args) -> int:
    """Handler of ``symbolic develop-theme``: writes the piece (and the PNG), prints where the
    theme recurs."""
    from .. import checks, io
    from ..models.theme_transformer import develop_theme, plot_development
    from ..timeline import with_meter

    out = checks.output_file(args.out, "--out")
    if args.png is not None:
        checks.output_file(args.png, "--png")
    bars = _theme_bars(args.theme_bars)
    score = io.load(args.file)
    if args.meter:
        score = with_meter(score, args.meter)
    theme = score if bars is None else (score, bars)
    try:
        result = develop_theme(theme, args.bars, seed=args.seed, temperature=args.temperature,
                               top_p=args.top_p, model=args.model,
                               decoder_only=args.decoder_only, device=args.device)
    except ArgumentError as e:
        raise as_option(e, DEVELOP_OPTIONS) from None
    io.save(result.score, out)
    if args.png:
        plot_development(result, path=args.png, title=f"{args.file}: {result.summary()}")
    print(f"wrote {out}: {result.summary()}")
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


# ------------------------------------------------------------------- theme transformer

#: Options of ``symbolic train theme-transformer`` that set a Settings field of that name.
_TT_OPTIONS = ("steps", "batch", "lr", "dim", "heads", "ffn", "encoder_layers",
               "decoder_layers", "xor_layers", "window", "seed")


def _tt_add_train_arguments(p) -> None:
    from ..models.theme_transformer.settings import Settings

    d = Settings()
    p.add_argument("--out", required=True, help="folder (symbolic/pretrained/theme-transformer "
                                                "or theme-decoder: the shipped models)")
    p.add_argument("--decoder-only", action="store_true",
                   help="the baseline: no encoder, no cross-attention, the theme as a prompt; "
                        "its decoder gets the encoder's layers too (same size)")
    for name in _TT_OPTIONS:
        default = None if name == "decoder_layers" else getattr(d, name)
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, default=default,
                       type=type(getattr(d, name)))
    run_arguments(p)


def _tt_settings(args):
    from ..models.theme_transformer.settings import Settings

    d = Settings()
    values = {k: getattr(args, k) for k in _TT_OPTIONS}
    if values["decoder_layers"] is None:
        values["decoder_layers"] = d.decoder_layers + (values["encoder_layers"]
                                                       if args.decoder_only else 0)
    return Settings(decoder_only=args.decoder_only, **values)


def _tt_command(args) -> str:
    from ..models.theme_transformer.settings import Settings

    d = Settings()
    parts = ["symbolic train theme-transformer", f"--out {args.out}"]
    parts += ["--decoder-only"] if args.decoder_only else []
    parts += [f"--{k.replace('_', '-')} {getattr(args, k)}" for k in _TT_OPTIONS
              if getattr(args, k) not in (None, getattr(d, k))]
    if args.max_minutes:
        parts.append(f"--max-minutes {args.max_minutes:g}")
    return " ".join(parts)


def _tt_run_train(args) -> int:
    from ..models.theme_transformer.train import train

    _, info = train(_tt_settings(args), args.out, device=args.device, resume=not args.restart,
                    stop_at=args.stop_at, max_minutes=args.max_minutes,
                    progress=not args.quiet, command=_tt_command(args))
    v = info["valid"]
    print(f"saved {args.out}: {info['parameters']:,} parameters, {info['steps']} steps in "
          f"{info['train_minutes']} min; valid loss {info['valid_loss']:.4f} (inside theme "
          f"regions {v['in_theme_loss']:.4f}, outside {v['outside_loss']:.4f})")
    return 0


#: ``symbolic train theme-transformer``'s two functions (:mod:`symbolic.cli.train`).
THEME_TRANSFORMER = SimpleNamespace(add_train_arguments=_tt_add_train_arguments,
                                    run_train=_tt_run_train)
