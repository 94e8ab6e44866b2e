"""``symbolic inpaint`` (HDiT fills a region of a piano roll) and ``symbolic train hdit``.

    symbolic inpaint in.mid --bars 9-12 --pitches 60-84 -o out.mid --png out.png
    symbolic inpaint in.mid --mask drawn.png -o out.mid --candidates 8 --busyness 0.1
    symbolic train hdit --out DIR [--steps N] [--stop-at N] [--device auto]
    symbolic train hdit --out DIR2 --init DIR --schedule cosine --steps N   # a second stage
"""

from __future__ import annotations

from pathlib import Path

from .. import checks
from ..errors import ArgumentError
from .train import as_option, run_arguments

__all__ = ["add_parsers", "add_train_arguments", "run_train"]


def _pair(text: str, name: str, low: int) -> tuple[int, int]:
    """'9-12' -> (9, 12); '9' -> (9, 9); else ArgumentError naming ``name``."""
    try:
        parts = [int(x) for x in str(text).split("-")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not low <= parts[0] <= parts[1]:
        raise ArgumentError(f"must look like 9-12 or 9 (first <= last, from {low}), got "
                            f"{text!r}", name)
    return parts[0], parts[1]


_OPTIONS = {"steps": "--steps", "resample": "--resample", "candidates": "--candidates",
            "busyness": "--busyness", "seed": "--seed", "bars": "--bars", "pitches": "--pitches",
            "mask_png": "--mask", "mask": "--mask", "sampler": "--sampler", "device": "--device"}


def _cmd_inpaint(args) -> int:
    from ..models.hdit.generate import inpaint

    if not (args.output or args.png):
        args.output = str(Path(args.input).with_suffix("")) + "-inpainted.mid"
    for path, name in ((args.output, "--output"), (args.png, "--png")):
        if path is not None:
            checks.output_file(path, name)
    bars = _pair(args.bars, "--bars", 1) if args.bars else None
    pitches = _pair(args.pitches, "--pitches", 0) if args.pitches else None
    if args.mask is not None and not Path(args.mask).is_file():
        raise ArgumentError(f"no such file: {args.mask}", "--mask")
    source, bar_ticks = args.input, None
    if args.meter is not None and Path(args.input).suffix.lower() == ".png":
        raise ArgumentError("counts the bars of a score, not of an image", "--meter")
    if args.meter is not None:  # bars counted in this meter (POP909 files declare 1/4)
        from ..io import load
        from ..timeline import MetricGrid, with_meter

        source = load(args.input)
        bar_ticks = MetricGrid.from_score(with_meter(source, args.meter), resolution=4).bar_ticks
    try:
        score, image = inpaint(source, bars=bars, pitches=pitches, mask_png=args.mask,
                               bar_ticks=bar_ticks,
                               steps=args.steps, sampler=args.sampler, resample=args.resample,
                               candidates=args.candidates, busyness=args.busyness,
                               seed=args.seed, model=args.model, device=args.device,
                               chords=None if args.no_chords else "auto", merge=args.merge)
    except ArgumentError as e:
        raise as_option(e, _OPTIONS) from None
    _write(score, image, args)
    return 0


def _write(score, image, args) -> None:
    from ..io import save
    from ..representations.pianoroll import PianoRoll, encode, save_png

    if args.output:
        save(score, args.output)
        print(args.output)
    if args.png:
        roll = encode(score)
        save_png(PianoRoll(image, roll.meta, roll.tracks) if image.shape == roll.image.shape
                 else roll, args.png)
        print(args.png)


def add_parsers(sub) -> None:
    p = sub.add_parser("inpaint", help="fill a region of a piano roll (bars x pitches or a "
                                       "drawn mask) with HDiT, keep every other note")
    p.add_argument("input", help="MIDI/MusicXML/ABC file or piano-roll PNG")
    p.add_argument("--bars", default=None, help="bars to fill, 1-based: 9-12")
    p.add_argument("--pitches", default=None, help="MIDI pitches to fill: 60-84 (default all)")
    p.add_argument("--mask", default=None, metavar="PNG",
                   help="a PNG of the piano roll (symbolic convert IN out.png) with the region "
                        "painted pure blue (0, 0, 255); 256-row images are read folded")
    p.add_argument("--steps", type=int, default=16, help="sampling steps (default 16)")
    p.add_argument("--sampler", default="heun", choices=("heun", "dpmpp_2m_sde", "euler"),
                   help="sampler (default heun: 2 network calls per step)")
    p.add_argument("--resample", type=int, default=1, metavar="U",
                   help="RePaint tries per step, 1-100 (default 1)")
    p.add_argument("--candidates", type=int, default=1, metavar="N",
                   help="images drawn per window, the one whose fill is nearest --busyness kept")
    p.add_argument("--busyness", type=float, default=None, metavar="F",
                   help="wanted share of sounding pixels in the region, 0-1 (default: the "
                        "share around it)")
    p.add_argument("--no-chords", action="store_true",
                   help="no chord conditioning (default: chords recognized in the input)")
    p.add_argument("--merge", action="store_true",
                   help="write the result as one track (default: the input's tracks kept, "
                        "the region's notes in a new track 'Inpainted')")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--meter", default=None,
                   help="count bars in this meter (e.g. 4/4) instead of the declared one "
                        "(POP909 files declare 1/4)")
    p.add_argument("--model", default=None, help="model folder (symbolic train hdit --out DIR)")
    p.add_argument("--device", default="auto")
    p.add_argument("-o", "--output", default=None, help="MIDI/MusicXML/ABC file to write")
    p.add_argument("--png", default=None, help="also write the piano-roll PNG")
    p.set_defaults(func=_cmd_inpaint)


def add_train_arguments(p) -> None:
    """Options of ``symbolic train hdit`` (defaults: :class:`~symbolic.models.hdit.Settings`,
    the CPU-sized model on 128-pitch x 128-step windows)."""
    from ..models.hdit.settings import Settings

    d = Settings()
    p.add_argument("--out", required=True, help="folder for the model, its checkpoint and "
                                                 "training.json")
    p.add_argument("--size", choices=("default", "pictures-of-midi"), default="default",
                   help="default: the CPU model (128 x 128 windows); pictures-of-midi: the "
                        "published 22M model on folded 256 x 256 images (a GPU's work)")
    p.add_argument("--limit", type=int, default=None,
                   help="only the first N songs of each split (smoke runs)")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--schedule", choices=("constant", "cosine"), default=d.schedule,
                   help="learning rate after the warm-up: constant, or a cosine down to "
                        f"{d.min_lr_ratio} x --lr at the last step")
    p.add_argument("--init", default=None,
                   help="start from this model's weights (a shipped name or a folder with "
                        "the same sizes) instead of random ones: a second training stage")
    p.add_argument("--threads", type=int, default=d.threads,
                   help="CPU threads (0: torch's default)")
    p.add_argument("--seed", type=int, default=d.seed)
    run_arguments(p, stop_at="stop after this step of the --steps schedule (multiple of 10)")


_TRAIN_OPTIONS = {name: "--" + name.replace("_", "-") for name in (
    "steps", "batch", "lr", "seed", "threads", "stop_at", "max_minutes", "device", "limit",
    "init")}


def run_train(args) -> int:
    from ..models.hdit.settings import Settings
    from ..models.hdit.train import train

    try:  # the checks live in Settings and train(); here they name the command's options
        if args.limit is not None:
            checks.integer("limit", args.limit, 1)
        make = Settings.pictures_of_midi if args.size == "pictures-of-midi" else Settings
        settings = make(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                        threads=args.threads or None, schedule=args.schedule)
        info = train(settings, args.out, device=args.device, stop_at=args.stop_at,
                     max_minutes=args.max_minutes, resume=not args.restart,
                     progress=not args.quiet, limit=args.limit, init=args.init)
    except ArgumentError as e:
        raise as_option(e, _TRAIN_OPTIONS) from None
    last = next((h for h in reversed(info["history"]) if "eval_loss" in h), {})
    print(f"saved {args.out}: {info['steps']} steps in {info['minutes']} min, held-out EDM "
          f"loss (EMA) {last.get('eval_loss', float('nan')):.4f}")
    return 0
