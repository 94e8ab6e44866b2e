"""``symbolic harmony-embed similar|analogy|plot`` and ``symbolic train harmony2vec``
(``symbolic harmony-embed train`` is the old spelling of the latter, kept as an alias)."""

from __future__ import annotations


__all__ = ["add_parsers", "add_train_arguments", "run_train", "cmd_harmony_embed", "settings_of",
           "train_command", "parse_sources"]

#: Options of ``symbolic train harmony2vec`` that override a field of ``Settings``.
_SETTINGS_OPTIONS = ("steps", "dim", "window", "negatives", "max_vocab", "batch_size", "lr",
                     "seed")


def add_parsers(sub) -> None:
    he = sub.add_parser("harmony-embed", help="harmony embeddings: train, similar, analogy, plot")
    acts = he.add_subparsers(dest="action", required=True)
    tr = acts.add_parser("train", help="train on POP909 + music21 (the same as "
                                       "'symbolic train harmony2vec')")
    add_train_arguments(tr)
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
    he.set_defaults(func=cmd_harmony_embed)


def cmd_harmony_embed(args) -> int:
    """Handler of ``symbolic harmony-embed train|similar|analogy|plot``."""
    actions = {"train": run_train, "similar": _cmd_similar, "analogy": _cmd_analogy,
               "plot": _cmd_plot}
    return actions[args.action](args)


def _cmd_similar(args) -> int:
    from ..models import harmony2vec

    model = harmony2vec.load(args.model)
    for item in map(_item, args.items):
        print(f"{item}:")
        for n in model.similar(item, args.topn, args.among):
            print(f"  {n}")
    return 0


def _cmd_analogy(args) -> int:
    from ..models import harmony2vec

    model = harmony2vec.load(args.model)
    a, b, c = map(_item, args.items)
    print(f"{a} is to {b} as {c} is to:")
    for n in model.analogy(a, b, c, args.topn, args.among):
        print(f"  {n}")
    return 0


def _cmd_plot(args) -> int:
    import matplotlib

    from ..models import harmony2vec

    from .. import checks

    matplotlib.use("Agg")  # files only: no display on servers and in CI
    out = checks.output_folder(args.out, "--out")
    model = harmony2vec.load(args.model)
    for name, draw in (("triads.png", harmony2vec.plot_triads),
                       ("keys.png", harmony2vec.plot_key_distances),
                       ("neighbours.png", harmony2vec.plot_neighbours)):
        draw(model, path=out / name)
        print(out / name)
    return 0


def add_train_arguments(p) -> None:
    """Options of ``symbolic train harmony2vec`` (also ``harmony-embed train``)."""
    p.add_argument("--out", default=None,
                   help="folder to save to (symbolic/pretrained/harmony2vec: the shipped one)")
    for flag, kind in (("--steps", int), ("--dim", int), ("--window", int), ("--negatives", int),
                       ("--max-vocab", int), ("--batch-size", int), ("--lr", float),
                       ("--seed", int)):
        p.add_argument(flag, type=kind, default=None, help="override the default setting")
    p.add_argument("--sources", default=None, help="e.g. pop909,bach_chorales,essen:500")
    p.add_argument("--no-transpose", action="store_true", help="no transposition to 12 keys")
    p.add_argument("--device", default="auto")
    p.add_argument("--checkpoint-dir", default=None)
    p.add_argument("--resume", action="store_true", help="go on from --checkpoint-dir")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run_train(args) -> int:
    """``symbolic train harmony2vec``: the default :class:`Settings` with the given overrides;
    prints the corpus, vocabulary and held-out figures."""
    from ..models.harmony2vec import train

    model, report = train(settings_of(args), out=args.out, progress=not args.quiet,
                          device=args.device, checkpoint_dir=args.checkpoint_dir,
                          resume=args.resume, command=train_command(args))
    print(f"train: {report['train_pieces']} pieces, {report['train_slices']} slices; "
          f"held out: {report['held_out_pieces']} pieces, {report['held_out_slices']} slices")
    print(f"vocabulary: {report['vocab_size']} slices covering "
          f"{100 * report['vocab_coverage']:.2f}% of training slices")
    print(f"held-out loss {report['held_out_loss']:.4f}  unigram baseline "
          f"{report['unigram_loss']:.4f}  chance {report['chance_loss']:.4f}")
    print("C:maj ->", ", ".join(str(n) for n in model.similar("C:maj", 5, "triads")))
    if args.out:
        print(f"saved to {args.out}")
    return 0


def settings_of(args):
    """The :class:`~symbolic.models.harmony2vec.Settings` that the parsed options ask for."""
    from dataclasses import replace

    from ..models.harmony2vec import Settings

    changes = {k: getattr(args, k) for k in _SETTINGS_OPTIONS
               if getattr(args, k, None) is not None}
    if args.no_transpose:
        changes["transpose"] = False
    if args.sources:
        changes["sources"] = parse_sources(args.sources)
    return replace(Settings(), **changes)


def train_command(args) -> str:
    """The command line that repeats this training run (for the model card)."""
    parts = ["symbolic train harmony2vec"]
    if args.out:
        parts.append(f"--out {args.out}")
    for k in (*_SETTINGS_OPTIONS, "sources"):
        if getattr(args, k, None) is not None:
            parts.append(f"--{k.replace('_', '-')} {getattr(args, k)}")
    if args.no_transpose:
        parts.append("--no-transpose")
    return " ".join(parts)


def parse_sources(text: str) -> dict:
    """``"pop909,bach_chorales,essen:500"`` -> ``{"pop909": None, ..., "essen": 500}``."""
    from .. import checks
    from ..data.music21_corpus import mixture
    from ..errors import ArgumentError

    out = {}
    for part in text.split(","):
        name, _, limit = part.strip().partition(":")
        if name:
            out[name] = checks.integer("--sources", limit, 1) if limit else None
    if not out:
        raise ArgumentError(f"names no source: {text!r}", "--sources")
    return mixture(out, "--sources")


def _item(text: str):
    """A command-line ITEM: digits are a slice mask (145), anything else a label."""
    return int(text) if text.strip().isdigit() else text
