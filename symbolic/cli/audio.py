"""The audio commands: ``symbolic render`` and ``symbolic train rave``.

    symbolic render IN OUT.wav [--backend synth|soundfont] [--sample-rate 22050]
                               [--soundfont PATH] [--channels 1|2] [--seed 0]
                               [--compile] [--device auto] [--no-normalize]
                               [--block-seconds 30]
    symbolic train rave --out DIR --steps N [--stage 1|2] [--size default|small] ...
    symbolic codec train --out DIR --steps N ...     (the old spelling of ``train rave``)

``render``: IN is anything :func:`symbolic.load` reads (MIDI, MusicXML, ABC, Humdrum,
``corpus:NAME``); the WAV is written block by block (:func:`symbolic.audio.render_to_file`),
so memory stays bounded whatever the length; the command prints what it wrote and how long
it took. ``train rave``: one
stage of the RAVE-style codec (:func:`symbolic.models.rave.train`) on rendered corpora; stage 1
writes the codec to ``--out``, stage 2 reads it from there and rewrites it. Bad input raises a
:class:`~symbolic.errors.SymbolicError`, which ``symbolic``'s ``main`` reports on stderr with
exit status 1.
"""

from __future__ import annotations

import json
import sys
import time

from .harmony2vec import parse_sources

__all__ = ["add_parsers", "add_render_parser", "cmd_render", "add_train_arguments",
           "run_train", "settings_of", "train_command"]

#: Options of ``symbolic train rave`` that override the field of the same name in ``Settings``
#: (``--lr`` sets ``lr`` in stage 1 and ``lr_stage2`` in stage 2).
_SETTINGS_OPTIONS = ("steps", "size", "sample_rate", "latent_dim", "max_seconds", "crop_frames",
                     "batch_size", "kl_beta", "seed", "threads", "checkpoint_every",
                     "log_every")


def add_parsers(sub) -> None:
    """Add ``render`` and ``codec train`` (the alias of ``train rave``) to ``symbolic``."""
    add_render_parser(sub)
    codec = sub.add_parser("codec", help="audio codecs: train the RAVE-style codec (the same "
                                         "as 'symbolic train rave')")
    actions = codec.add_subparsers(dest="action", required=True)
    add_train_arguments(actions.add_parser("train", help="train a RAVE-style codec on "
                                                         "rendered corpora"))


def cmd_render(args) -> int:
    """Load ``args.input``, render it to ``args.output`` (16-bit WAV, written in blocks of
    ``--block-seconds``: memory stays bounded whatever the length); returns 0."""
    from ..audio.rendering import render_to_file
    from ..io import load

    tune = getattr(args, "tune", None)
    if isinstance(tune, str) and tune.lstrip("-").isdigit():
        tune = int(tune)
    if args.soundfont is not None and args.backend == "synth":
        from ..errors import ArgumentError

        raise ArgumentError("a SoundFont is only used with --backend soundfont (the default "
                            "backend, synth, would ignore it)", "--soundfont")
    score = load(args.input, tune=tune)
    start = time.perf_counter()
    out = render_to_file(score, args.output, args.sample_rate, backend=args.backend,
                         channels=args.channels, device=args.device, seed=args.seed,
                         compile=args.compile, soundfont=args.soundfont,
                         normalize=not args.no_normalize,
                         block_seconds=getattr(args, "block_seconds", 30.0))
    seconds = time.perf_counter() - start
    duration = out.frames / args.sample_rate
    print(f"{out.path}: {duration:.1f} s, {out.channels} channel(s), {args.sample_rate} Hz, "
          f"backend {args.backend}, rendered in {seconds:.2f} s "
          f"({duration / max(seconds, 1e-9):.0f}x real time)")
    return 0


def add_render_parser(subparsers):
    """Add ``render`` to an ``argparse`` sub-parser collection; returns the new parser."""
    p = subparsers.add_parser("render", help="render a music file to WAV (torch synth or "
                                             "SoundFont)")
    p.add_argument("input", help="path (MIDI, MusicXML, ABC, Humdrum) or corpus:NAME")
    p.add_argument("output", help="WAV file to write (16-bit PCM)")
    p.add_argument("--backend", choices=("synth", "soundfont"), default="synth",
                   help="synth: torch wavetables (default); soundfont: a local SoundFont")
    p.add_argument("--sample-rate", type=int, default=22050, help="Hz (default 22050)")
    p.add_argument("--soundfont", default=None,
                   help="SoundFont path (default: $SYMBOLIC_SOUNDFONT or a Debian one)")
    p.add_argument("--channels", type=int, choices=(1, 2), default=1,
                   help="1 (mono, default) or 2 (stereo)")
    p.add_argument("--seed", type=int, default=0, help="synth noise seed (default 0)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the synth kernels (pays off on long inputs)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    p.add_argument("--no-normalize", action="store_true",
                   help="fixed gain instead of peak normalization")
    p.add_argument("--block-seconds", type=float, default=30.0,
                   help="seconds of audio computed and written at a time (default 30; "
                        "memory is about 4 bytes per sample of a block)")
    p.add_argument("--tune", default=None, help="ABC tune: index or title")
    p.set_defaults(func=cmd_render)
    return p


def add_train_arguments(p) -> None:
    """Options of ``symbolic train rave`` (also ``symbolic codec train``)."""
    p.add_argument("--out", required=True, help="codec folder (stage 1 writes it, stage 2 "
                                                "reads and rewrites it)")
    p.add_argument("--steps", type=int, required=True, help="optimizer steps of this stage")
    p.add_argument("--stage", type=int, choices=(1, 2), default=1)
    p.add_argument("--device", default="auto")
    p.add_argument("--size", choices=("default", "small"), default=None,
                   help="architecture of a new codec (stage 1; default: default)")
    p.add_argument("--sample-rate", type=int, default=None, help="of a new codec (stage 1)")
    p.add_argument("--latent-dim", type=int, default=None, help="of a new codec (stage 1)")
    p.add_argument("--sources", default=None, help="e.g. bach_chorales:120,pop909:60")
    for flag, kind in (("--max-seconds", float), ("--crop-frames", int), ("--batch-size", int),
                       ("--lr", float), ("--kl-beta", float), ("--seed", int),
                       ("--threads", int), ("--checkpoint-every", int), ("--log-every", int)):
        p.add_argument(flag, type=kind, default=None, help="override the default setting")
    p.add_argument("--resume", action="store_true", help="go on from this stage's checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars; JSON log records "
                                                        "on stderr")
    p.set_defaults(func=run_train)


def run_train(args) -> int:
    """``symbolic train rave``: one stage with the default settings and the given overrides;
    prints the data on stderr and a JSON summary on stdout."""
    from ..models.rave import train

    settings = settings_of(args)
    print(f"stage {args.stage}: rendering {settings.sources} ...", file=sys.stderr)
    log = (lambda e: print(json.dumps(e), file=sys.stderr)) if args.quiet else None
    _, report = train(settings, out=args.out, stage=args.stage, device=args.device,
                      resume=args.resume, progress=not args.quiet, callback=log,
                      command=train_command(args))
    for failure in report["failures"]:
        print(f"skipped {failure}", file=sys.stderr)
    print(f"{report['pieces']} pieces, {report['minutes']:.1f} minutes of audio",
          file=sys.stderr)
    last = report["history"][-1] if report["history"] else None
    print(json.dumps({"out": str(args.out), "stage": args.stage, "step": report["step"],
                      "last": last}))
    return 0


def settings_of(args):
    """The :class:`~symbolic.models.rave.Settings` that the parsed options ask for."""
    from dataclasses import replace

    from ..models.rave import Settings

    changes = {k: getattr(args, k) for k in _SETTINGS_OPTIONS
               if getattr(args, k, None) is not None}
    if args.lr is not None:
        changes["lr" if args.stage == 1 else "lr_stage2"] = args.lr
    if args.sources:
        changes["sources"] = parse_sources(args.sources)
    return replace(Settings(), **changes)


def train_command(args) -> str:
    """The command line that repeats this training run (for ``config.json``)."""
    parts = ["symbolic train rave", f"--out {args.out}", f"--stage {args.stage}"]
    for k in (*_SETTINGS_OPTIONS, "lr", "sources"):
        if getattr(args, k, None) is not None:
            parts.append(f"--{k.replace('_', '-')} {getattr(args, k)}")
    return " ".join(parts)
