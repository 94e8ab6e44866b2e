"""``symbolic infill``, ``symbolic compose``, ``symbolic demo`` and ``symbolic train getdiff``
(GETDiff). The model loads only when a command runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import checks
from ..errors import ArgumentError
from .train import run_arguments

DEMO_CHORDS = "C | G | Am | F | Dm | G | C | C"

__all__ = ["add_parsers", "add_train_arguments", "run_train", "DEMO_CHORDS"]


def cmd_demo(args) -> int:
    """Compose a piece from a chord progression with the shipped GETDiff weights, then
    regenerate one track over a span of it; write MIDI and piano-roll PNGs of both."""
    import time

    from ..analysis import describe, format_description
    from ..models.getdiff import compose, infill
    from ..io import save

    out = checks.output_folder(args.out, "--out")
    first, last = _bar_range(args.infill_bars, "--infill-bars")
    # Said before the work starts, so that a first run is never a silent wait; the bars
    # below (stderr) count the sampling steps.
    print(f"composing {args.bars} bars over {args.chords!r} with the shipped GETDiff model, "
          f"then regenerating {args.infill_track} in bars {first}-{last} ({args.steps} "
          "sampling steps per window; about 5 s on two idle CPU cores)", file=sys.stderr,
          flush=True)
    t0 = time.time()
    song = compose(args.chords, bars=args.bars, steps=args.steps, seed=args.seed,
                   device=args.device, progress=True)
    t1 = time.time()
    redo = infill(song, tracks=[args.infill_track], bars=(first, last), chords="markers",
                  steps=args.steps, seed=args.seed + 1, device=args.device, progress=True)
    t2 = time.time()
    print(f"composed {args.bars} bars over {args.chords!r} in {t1 - t0:.1f} s; "
          f"regenerated {args.infill_track} in bars {first}-{last} in {t2 - t1:.1f} s\n")
    print(format_description(describe(song, source="composed", chords=False)))
    written = []
    for name, score in (("composed", song), ("infilled", redo)):
        written += [save(score, out / f"{name}{suffix}") for suffix in (".mid", ".png")]
    print("\nwrote:")
    for p in written:
        print(f"  {p}")
    return 0


def _bar_range(text: str, name: str = "--bars") -> tuple[int, int]:
    """'9-16' -> (9, 16); '9' -> (9, 9); anything else: ArgumentError naming ``name``."""
    try:
        parts = [int(x) for x in str(text).split("-")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 1 <= parts[0] <= parts[1]:
        raise ArgumentError(f"must look like 9-16 or 9 (bars 1-based, first <= last), got "
                            f"{text!r}", name)
    return parts[0], parts[1]


def _tracks(args) -> list[str] | None:
    """``--tracks`` (comma-separated or repeated) as a list; None when not given."""
    if not args.tracks:
        return None
    tracks = [t.strip() for x in args.tracks for t in x.split(",") if t.strip()]
    if not tracks:
        raise ArgumentError(f"names no track: {args.tracks!r}", "--tracks")
    return tracks


def _check_outputs(args) -> None:
    """The files the command will write, checked before any generation (minutes on a CPU)."""
    for path, name in ((args.output, "--output"), (args.png, "--png"), (args.wav, "--wav")):
        if path is not None:
            checks.output_file(path, name)
    if args.wav:
        checks.integer("--sample-rate", args.sample_rate, 1000, 192_000)


def _write_outputs(score, args, *, edit=None, before=None) -> None:
    """Write the requested files; with ``edit`` (first, last bar) and ``before`` (the input),
    the PNG shows the edit: before and after around the region, the region shaded."""
    from ..io import save

    if args.output:
        save(score, args.output)
        print(args.output)
    if args.png and edit is not None and before is not None:
        from ..io import load
        from ..plot import plot_edit

        plot_edit(load(before), score, bars=edit, bar_ticks=_png_bars(score, args),
                  path=args.png)
        print(args.png)
    elif args.png:
        save(score, args.png)
        print(args.png)
    if args.wav:
        from ..audio import render_to_file

        render_to_file(score, args.wav, args.sample_rate, device=args.device)  # in blocks
        print(args.wav)


def _png_bars(score, args):
    """The bar lines infill counted in, for the picture (``--meter``), else None."""
    if not getattr(args, "meter", None):
        return None
    from ..timeline import MetricGrid, with_meter

    return MetricGrid.from_score(with_meter(score, args.meter), resolution=4).bar_ticks


def _sampling_args(p) -> None:
    p.add_argument("--steps", type=int, default=16, help="sampling steps per window (default 16)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--guidance", type=float, default=1.0,
                   help="classifier-free chord guidance weight (1: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--order", choices=("random", "confidence", "noisy"), default="random",
                   help="which drawn cells each step keeps (default random: MDLM's exact "
                        "order; confidence drones on one pitch)")
    p.add_argument("--resample", type=int, default=0, metavar="N",
                   help="Gibbs-style rewrite passes after sampling, 0-100 (default 0): each "
                        "re-masks beats of the written parts and redraws them given the rest")
    p.add_argument("--model", default=None,
                   help="shipped name (band, chorales, pop909) or model folder (default: the "
                        "command's shipped weights)")
    p.add_argument("--device", default="auto")
    p.add_argument("-o", "--output", default=None, help="MIDI/MusicXML/ABC file to write")
    p.add_argument("--png", default=None, help="also write a piano-roll PNG")
    p.add_argument("--wav", default=None, help="also render a WAV (symbolic.audio synth)")
    p.add_argument("--sample-rate", type=int, default=22050, help="WAV sample rate")


def _cmd_infill(args) -> int:
    import warnings

    from ..models.getdiff import DEFAULT_CHORDS, infill

    regions = []
    for r in args.region or ():
        track, _, bars = r.partition(":")
        if not bars:
            raise ArgumentError(f"must look like TRACK:FIRST-LAST, got {r!r}", "--region")
        regions.append((track, _bar_range(bars, "--region")))
    tracks = _tracks(args)
    bars = _bar_range(args.bars) if args.bars else None
    track_map = {}
    for x in args.map or ():
        name, equals, model_track = x.partition("=")
        if not equals or not name:
            raise ArgumentError(f"must look like 'Guitar=PIANO' (or 'Organ=' to leave a track "
                                f"out), got {x!r}", "--map")
        track_map[name] = model_track or None
    if not (args.output or args.png or args.wav):
        args.output = str(Path(args.input).with_suffix("")) + "-infilled.mid"
    _check_outputs(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = infill(args.input, tracks=tracks, bars=bars, regions=regions,
                     chords=args.chords or DEFAULT_CHORDS, model=args.model, steps=args.steps,
                     temperature=args.temperature, top_p=args.top_p, guidance=args.guidance,
                     seed=args.seed, device=args.device, track_map=track_map or None,
                     order=args.order, meter=args.meter, candidates=args.candidates,
                     progress=not args.quiet, resample=args.resample, **_control_args(args))
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    edit = bars or (regions[0][1] if regions else None)
    if args.candidates is None:
        _write_outputs(out, args, edit=edit, before=args.input)
        return 0
    for c in out:
        print(f"candidate {c.rank}: model score {c.log_prob:.4f} nats per cell")
        _write_outputs(c.score, _numbered(args, c.rank), edit=edit, before=args.input)
    return 0


def _numbered(args, rank: int):
    """``args`` with every output path numbered: out.mid -> out-1.mid."""
    import copy

    out = copy.copy(args)
    for key in ("output", "png", "wav"):
        path = getattr(args, key)
        if path:
            p = Path(path)
            setattr(out, key, str(p.with_name(f"{p.stem}-{rank}{p.suffix}")))
    return out


def _control_args(args) -> dict:
    """``--density``, ``--pitch-range LOW-HIGH``, ``--polyphony``: 'auto' (default), 'free'
    (None) or a value."""
    def value(text, name, parse):
        if text in (None, "auto"):
            return "auto"
        if text == "free":
            return None
        try:
            return parse(text)
        except ValueError:
            raise ArgumentError(f"must be auto, free or a value, got {text!r}", name) from None

    def pitch_range(text):
        lo, _, hi = text.partition("-")
        return int(lo), int(hi)

    return {"density": value(args.density, "--density", float),
            "pitch_range": value(args.pitch_range, "--pitch-range", pitch_range),
            "polyphony": value(args.polyphony, "--polyphony", int)}


def _cmd_compose(args) -> int:
    from ..models.getdiff import compose

    tracks = _tracks(args)
    if not (args.output or args.png or args.wav):
        args.output = "song.mid"
    _check_outputs(args)
    out = compose(args.chords, bars=args.bars, tracks=tracks, tempo=args.tempo,
                  time_signature=args.time_signature, model=args.model, steps=args.steps,
                  temperature=args.temperature, top_p=args.top_p, guidance=args.guidance,
                  seed=args.seed, device=args.device, order=args.order,
                  progress=not args.quiet, resample=args.resample)
    _write_outputs(out, args)
    return 0


def _pulse(text: str):
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise ArgumentError(f"must be auto or a number of quarters (0.5, 1, 2...), got "
                            f"{text!r}", "--pulse") from None


def _cmd_harmonize(args) -> int:
    import warnings

    from ..models.getdiff import harmonize, piano_reduction

    if not (args.output or args.png or args.wav):
        args.output = str(Path(args.input).with_suffix("")) + "-harmonized.musicxml"
    _check_outputs(args)
    if args.reduction and args.style != "chorale":
        raise ArgumentError("a piano reduction is for --style chorale", "--reduction")
    track = int(args.track) if args.track is not None and args.track.isdigit() else args.track
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = harmonize(args.input, args.style, track=track, chords=args.chords,
                        model=args.model, steps=args.steps, temperature=args.temperature,
                        top_p=args.top_p, guidance=args.guidance, seed=args.seed,
                        resample=args.resample, fermatas=not args.no_fermatas, order=args.order,
                        pulse=_pulse(args.pulse), repair=args.repair,
                        device=args.device, progress=not args.quiet)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.reduction:
        out = piano_reduction(out)
    _write_outputs(out, args)
    return 0


def add_parsers(sub) -> None:
    har = sub.add_parser("harmonize", help="write the other parts under a melody: alto, tenor, "
                                           "bass of a chorale (GETDiff)")
    har.add_argument("input", help="melody: MIDI/MusicXML/ABC file or corpus:NAME")
    har.add_argument("--style", choices=("chorale", "band"), default="chorale",
                     help="chorale (default: soprano -> alto, tenor, bass) or band (lead -> "
                          "bass, piano)")
    har.add_argument("--track", default=None,
                     help="the melody's track (index or name) when the file has several")
    har.add_argument("--chords", default=None,
                     help='a progression to follow, "C G | Am F" (default: the model\'s own)')
    har.add_argument("--pulse", default="auto",
                     help="the melody's beat in quarters, read as the model's quarter: auto "
                          "(default: from the melody), 1 (as written), 2 (a hymn in halves)")
    har.add_argument("--repair", type=int, default=4, metavar="N",
                     help="rounds rewriting bars with parallel fifths/octaves or crossed voices "
                          "(chorale style; default 4, 0: none)")
    har.add_argument("--reduction", action="store_true",
                     help="write two piano staves (soprano+alto, tenor+bass) instead of four")
    har.add_argument("--no-fermatas", action="store_true",
                     help="do not tell the model where the melody's fermatas are")
    har.add_argument("--quiet", action="store_true", help="no progress bar")
    _sampling_args(har)
    har.set_defaults(func=_cmd_harmonize)

    inf = sub.add_parser("infill", help="regenerate tracks over bars of a piece (GETDiff)")
    inf.add_argument("input", help="MIDI/MusicXML/... file")
    inf.add_argument("--tracks", action="append", help="model tracks to write: melody, bridge, "
                                                        "piano (comma-separated or repeated)")
    inf.add_argument("--bars", default=None, help="FIRST-LAST, 1-based inclusive (default all)")
    inf.add_argument("--region", action="append", help="more regions: TRACK:FIRST-LAST")
    inf.add_argument("--chords", default=None,
                     help='progression overriding recognized chords: "C G | Am F"')
    inf.add_argument("--map", action="append",
                     help="input track to model track: 'Guitar=PIANO', or 'Organ=' to leave it out")
    inf.add_argument("--meter", default=None,
                     help="count bars in this meter (e.g. 4/4) instead of the declared one "
                          "(POP909 files declare 1/4)")
    inf.add_argument("--candidates", type=int, default=None,
                     help="write N candidates, numbered (out-1.mid ...), best model score first")
    inf.add_argument("--density", default=None,
                     help="onsets per bar: auto (the replaced part's, default), free, or a number")
    inf.add_argument("--pitch-range", default=None,
                     help="LOW-HIGH MIDI pitches: auto (default), free, or e.g. 48-72")
    inf.add_argument("--polyphony", default=None,
                     help="notes per onset at most: auto (default), free, or a number")
    inf.add_argument("--quiet", action="store_true", help="no progress bar")
    _sampling_args(inf)
    inf.set_defaults(func=_cmd_infill)

    comp = sub.add_parser("compose", help="write a piece from a chord progression (GETDiff)")
    comp.add_argument("--chords", required=True, help='"C G Am F | F G C C" (bars split by |)')
    comp.add_argument("--bars", type=int, default=None, help="length (default: the progression)")
    comp.add_argument("--tracks", action="append", help="tracks to write (default all)")
    comp.add_argument("--tempo", type=float, default=100.0)
    comp.add_argument("--time-signature", default="4/4")
    comp.add_argument("--quiet", action="store_true", help="no progress bar")
    _sampling_args(comp)
    comp.set_defaults(func=_cmd_compose)


def add_train_arguments(p) -> None:
    """Options of ``symbolic train getdiff`` (defaults: :class:`~symbolic.models.getdiff.Settings`,
    the shipped recipe)."""
    from ..models.getdiff.settings import Settings

    d = Settings()
    p.add_argument("--out", required=True, help="folder (symbolic/pretrained/getdiff-band: "
                                                 "the shipped one)")
    p.add_argument("--vocab", default=d.vocab, choices=("band", "pop909", "satb"),
                   help="grid vocabulary: band (MELODY, BRIDGE, BASS, PIANO + OTHER context; "
                        "the shipped model), pop909 (the three POP909 parts) or satb (four "
                        "voices, trained on the Bach chorales' train split)")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--dim", type=int, default=d.dim)
    p.add_argument("--depth", type=int, default=d.depth)
    p.add_argument("--heads", type=int, default=d.heads)
    p.add_argument("--window-bars", type=int, default=d.window_bars)
    p.add_argument("--threads", type=int, default=d.threads,
                   help="CPU threads (0: torch's default)")
    p.add_argument("--seed", type=int, default=d.seed)
    run_arguments(p, stop_at="stop after this step of the --steps schedule (multiple of 50)")


_TRAIN_OPTIONS = {"vocab", "steps", "batch", "lr", "seed", "dim", "depth", "heads",
                  "window_bars", "threads", "stop_at"}


def run_train(args) -> int:
    from ..models.getdiff import Settings, train

    try:  # the checks live in Settings and train(); here they name the command's options
        settings = Settings(vocab=args.vocab, steps=args.steps, batch=args.batch, lr=args.lr,
                            seed=args.seed, dim=args.dim, depth=args.depth, heads=args.heads,
                            window_bars=args.window_bars, threads=args.threads or None)
        info = train(settings, args.out, device=args.device, stop_at=args.stop_at,
                     max_minutes=args.max_minutes, resume=not args.restart,
                     progress=not args.quiet)
    except ArgumentError as e:
        if e.source not in _TRAIN_OPTIONS:
            raise
        raise ArgumentError(e.reason, "--" + e.source.replace("_", "-")) from None
    last = next((h for h in reversed(info["history"]) if "eval_loss" in h), {})
    print(f"saved {args.out}: {info['steps']} steps in {info['minutes']} min, "
          f"held-out bound {last.get('eval_loss', float('nan')):.4f} nats/target cell")
    return 0
