"""The ``symbolic render`` command: any readable music file to a WAV file.

    symbolic render IN OUT.wav [--backend synth|soundfont] [--sample-rate 22050]
                               [--soundfont PATH] [--channels 1|2] [--seed 0]
                               [--compile] [--device auto] [--no-normalize]

IN is anything :func:`symbolic.load` reads (MIDI, MusicXML, ABC, Humdrum, ``corpus:NAME``).
:func:`add_render_parser` adds the sub-command to the ``symbolic`` parser; the command prints
what it wrote and how long it took. Bad input raises a
:class:`~symbolic.errors.SymbolicError`, which ``symbolic``'s ``main`` reports on stderr with
exit status 1.
"""

from __future__ import annotations

import time

__all__ = ["add_render_parser", "cmd_render"]


def cmd_render(args) -> int:
    """Load ``args.input``, render it, write ``args.output`` (16-bit WAV); returns 0."""
    from ..io import load
    from .dsp import write_wav
    from .rendering import render

    tune = getattr(args, "tune", None)
    if isinstance(tune, str) and tune.lstrip("-").isdigit():
        tune = int(tune)
    score = load(args.input, tune=tune)
    start = time.perf_counter()
    wav = render(score, args.sample_rate, backend=args.backend, channels=args.channels,
                 device=args.device, seed=args.seed, compile=args.compile,
                 soundfont=args.soundfont, normalize=not args.no_normalize)
    seconds = time.perf_counter() - start
    path = write_wav(args.output, wav[0].cpu(), args.sample_rate)
    duration = wav.shape[-1] / args.sample_rate
    print(f"{path}: {duration:.1f} s, {wav.shape[1]} channel(s), {args.sample_rate} Hz, "
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
    p.add_argument("--tune", default=None, help="ABC tune: index or title")
    p.set_defaults(func=cmd_render)
    return p
