"""``symbolic train NAME``: every model family's training command, each with its own options.

A family registers here by name with the CLI module that holds its ``add_train_arguments(p)``
and ``run_train(args)`` (or, when a module serves two families, an object of that module
holding both, named third); the module (and torch) load only when that family is trained or
its help is asked for.
"""

from __future__ import annotations

import importlib

__all__ = ["FAMILIES", "add_parsers", "run_arguments", "as_option"]

#: family name -> (CLI module under symbolic.cli, one line of help[, object in the module])
FAMILIES = {
    "getdiff": ("generate", "GETDiff masked track diffusion on POP909 (shipped weights)"),
    "harmony2vec": ("harmony2vec", "harmony embeddings on POP909 + music21 (shipped weights)"),
    "rave": ("audio", "RAVE-style audio codec on rendered corpora (no shipped weights)"),
    "hrnn": ("hrnn", "CM-HRNN melody over chords and its baselines on POP909 (shipped weights)"),
    "themes": ("themes", "contrastive theme encoder on POP909 melody segments (shipped weights)"),
    "hdit": ("inpaint", "HDiT piano-roll inpainting on POP909 images"),
    "theme-transformer": ("themes", "Theme Transformer (or --decoder-only baseline) on POP909 "
                                    "theme events (shipped weights)", "THEME_TRANSFORMER"),
}


def run_arguments(p, *, stop_at: str | None = "stop after this step of the --steps schedule",
                  restart: bool = True) -> None:
    """The options every family's training run shares: ``--stop-at`` (its help ``stop_at``;
    None: no such option), ``--max-minutes``, ``--device``, ``--restart`` (when the family
    resumes from checkpoints) and ``--quiet``."""
    if stop_at is not None:
        p.add_argument("--stop-at", type=int, default=None, help=stop_at)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    if restart:
        p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def as_option(error, options: dict):
    """An :class:`~symbolic.errors.ArgumentError` naming the command's option (``options``:
    function argument -> option, e.g. ``{"bars": "--bars"}``) instead of the function's
    argument; any other error as it is. Commands raise ``as_option(e, OPTIONS) from None``."""
    from ..errors import ArgumentError

    if not isinstance(error, ArgumentError) or error.source not in options:
        return error
    return ArgumentError(error.reason, options[error.source])


def add_parsers(sub) -> None:
    train = sub.add_parser("train", help="train a model family and save its weights: "
                                         + ", ".join(FAMILIES))
    families = train.add_subparsers(dest="family", required=True, metavar="NAME")
    for name, (module, text, *holder) in FAMILIES.items():
        p = families.add_parser(name, help=text)
        cli = importlib.import_module(f"{__package__}.{module}")
        cli = getattr(cli, holder[0]) if holder else cli
        cli.add_train_arguments(p)
        p.set_defaults(func=cli.run_train)
