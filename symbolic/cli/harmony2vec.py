"""``symbolic harmony-embed similar|analogy|plot`` and ``symbolic train harmony2vec``."""

from __future__ import annotations

__all__ = ["add_parsers", "add_train_arguments", "run_train"]


def cmd_harmony_embed(args) -> int:
    from ..models.harmony2vec import run_cli

    return run_cli(args)


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
    args.action = "train"
    return cmd_harmony_embed(args)
