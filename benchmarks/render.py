"""Rendering speed: the torch synth against SoundFont renderers, on the same files, one process.

    python benchmarks/render.py [--songs 8] [--pieces 8] [--sample-rate 22050] [--threads N]
                                [--no-compile] [--codec-size small] [--codec-seconds 10]
    python benchmarks/render.py --long 59 [--sample-rate 44100] [--channels 2]

Files: the first ``--songs`` POP909 songs (``$SYMBOLIC_DATA``/pop909, skipped when missing)
and ``--pieces`` pieces of music21's bundled corpus (Bach chorales and quartet movements).
Every renderer gets the same Scores; "audio seconds" is the sum of the files' durations (last
note-off), the same for every renderer, so the ratios compare equal work. Figures:

- ``x real time``: audio seconds / wall-clock seconds.
- ``per core``: audio seconds / CPU seconds (user + system time of this process and of the
  child processes it waited for, i.e. the fluidsynth program), measured, so it stays
  meaningful on a shared machine where wall time depends on other jobs. ``threads`` is what
  each renderer may use (torch: ``torch.get_num_threads()``; symusic, fluidsynth and
  pyfluidsynth render on one thread).
- ``vs fluidsynth``: the per-core ratio to the fluidsynth command line (then the wall-time
  ratio).

Renderers: ``synth eager`` and ``synth compiled`` (``torch.compile``; the compilation is timed
on a short warm-up render and reported apart), both one batch per corpus, all files at once;
``soundfont (symusic)`` (``symusic.Synthesizer``, in memory; off key with these SoundFonts,
see :mod:`symbolic.audio.soundfont`); ``fluidsynth CLI`` (``fluidsynth -ni -F``, including the
MIDI write and WAV read); ``pretty_midi + pyfluidsynth`` (``PrettyMIDI(path).fluidsynth(fs,
sf2_path)``, from MIDI files written beforehand), when pyfluidsynth imports.

Then encode and decode time for each codec :func:`symbolic.audio.factory.available_codecs`
lists (architecture with random weights: timing only) on ``--codec-seconds`` of the first synth
render, resampled to the codec's rate.

``--long MINUTES``: instead, a POP909 song tiled to that many minutes (default 59) is written
to a WAV with :func:`symbolic.audio.render_to_file` (blocks of 30 s) by the synth and by
fluidsynth, each in a child process: peak RSS of the child (and of fluidsynth, its child),
wall time, and what the one-shot float32 output alone would have taken.

Wall-clock figures depend on the machine's load: run on an idle machine for numbers to quote.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import torch

CORPUS_PIECES = (
    "bach/bwv66.6", "bach/bwv269", "bach/bwv347", "bach/bwv153.1", "bach/bwv86.6",
    "bach/bwv267", "beethoven/opus18no1/movement1", "haydn/opus74no1/movement3",
    "mozart/k80/movement1", "bach/bwv281",
)


def load_files(n_songs: int, n_pieces: int):
    import symbolic

    scores, names = [], []
    try:
        from symbolic.data.pop909 import Pop909

        pop = Pop909()
        for song in pop.available()[:n_songs]:
            scores.append(pop.score(song))
            names.append(f"pop909/{song:03d}")
    except Exception as e:  # data folder missing: go on with the corpus
        print(f"POP909 not used: {e}")
    pieces = 0
    for name in CORPUS_PIECES:
        if pieces >= n_pieces:
            break
        try:
            scores.append(symbolic.load(f"corpus:{name}"))
        except Exception as e:
            print(f"corpus:{name} not used: {e}")
            continue
        names.append(f"corpus:{name}")
        pieces += 1
    return scores, names


CPU = {}  # renderer name -> CPU seconds of its last timed() call (this process + children)


def _cpu_now() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn, name=None):
    """``(fn(), wall seconds)``; the CPU seconds (this process and its finished children,
    e.g. the fluidsynth program) go to ``CPU[name]``."""
    cpu, start = _cpu_now(), time.perf_counter()
    out = fn()
    wall = time.perf_counter() - start
    if name:
        CPU[name] = _cpu_now() - cpu
    return out, wall


def groups_of(names):
    """Index lists, one per corpus (each rendered as one batch by the synth)."""
    pop = [i for i, n in enumerate(names) if n.startswith("pop909")]
    other = [i for i, n in enumerate(names) if not n.startswith("pop909")]
    return [g for g in (pop, other) if g]


def bench_synth(scores, names, sr, compile_):
    from symbolic.audio.notes import notes_from_scores
    from symbolic.audio.synth import Synth

    synth = Synth(sr, device="cpu", compile=compile_)
    warm = 0.0
    if compile_:  # compile every kernel variant on a short excerpt with all kinds of notes
        excerpt = notes_from_scores(scores[:1])
        _, warm = timed(lambda: synth.render(excerpt, length=sr * 5))
        drums = [s for s in scores if any(t.is_drum for t in s.tracks)]
        if drums:
            _, w = timed(lambda: synth.render(notes_from_scores(drums[:1]), length=sr * 5))
            warm += w
    total, cpu, first = 0.0, 0.0, None
    name = "synth compiled" if compile_ else "synth eager"
    for idx in groups_of(names):
        notes = notes_from_scores([scores[i] for i in idx])
        wav, dt = timed(lambda: synth.render(notes), name)
        total, cpu = total + dt, cpu + CPU[name]
        if first is None:
            first = wav[0]
    CPU[name] = cpu
    return total, warm, first


def bench_symusic(scores, sf, sr):
    from symbolic.audio.soundfont import render_soundfont

    render_soundfont(scores[:1], sr, soundfont=sf, engine="symusic", device="cpu", length=sr)
    return timed(lambda: [render_soundfont([s], sr, soundfont=sf, engine="symusic",
                                           device="cpu") for s in scores],
                 "soundfont (symusic)")[1]


def bench_fluidsynth_cli(scores, sf, sr):
    from symbolic.audio.soundfont import fluidsynth_path, render_soundfont

    if fluidsynth_path() is None:
        return None, "the fluidsynth program is not installed (Debian: fluidsynth)"
    return timed(lambda: [render_soundfont([s], sr, soundfont=sf, engine="fluidsynth",
                                           device="cpu") for s in scores],
                 "fluidsynth CLI")[1], None


def bench_pretty_midi(scores, sf, sr):
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth)
        import pretty_midi
    except Exception as e:
        return None, f"pyfluidsynth cannot be imported ({type(e).__name__}: {e})"
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, s in enumerate(scores):
            p = Path(tmp) / f"{i}.mid"
            s.dump_midi(str(p))
            paths.append(p)
        warnings.simplefilter("ignore")
        return timed(lambda: [pretty_midi.PrettyMIDI(str(p)).fluidsynth(fs=sr, sf2_path=str(sf))
                              for p in paths], "pretty_midi + pyfluidsynth")[1], None


def bench_codecs(wav, sr, size, seconds):
    from symbolic.audio.dsp import resample
    from symbolic.audio.factory import available_codecs, load_codec

    names = available_codecs()
    print(f"\ncodecs (symbolic.audio.factory, size={size!r}, random weights: timing only), "
          f"{seconds:.0f} s of the first synth render:")
    print(f"{'codec':<14}{'rate':>7}{'kind':>12}{'frames/s':>10}{'encode xRT':>12}"
          f"{'decode xRT':>12}")
    clip = wav[..., : int(seconds * sr)]
    for name in names:
        try:
            codec = load_codec(name, size=size, device="cpu")
            x = resample(clip, sr, codec.sample_rate).reshape(1, 1, -1)
            x = x.expand(1, codec.channels, x.shape[-1]).contiguous()
            audio_s = x.shape[-1] / codec.sample_rate
            lat, t_enc = timed(lambda: codec.encode(x))
            _, t_dec = timed(lambda: codec.decode(lat))
            print(f"{name:<14}{codec.sample_rate:>7}{codec.latent_kind:>12}"
                  f"{codec.frame_rate:>10.1f}{audio_s / t_enc:>12.1f}{audio_s / t_dec:>12.1f}")
        except Exception as e:
            print(f"{name:<14} failed: {type(e).__name__}: {str(e)[:120]}")


LONG_CHILD = r"""
import resource, sys, time, torch
import symbolic
from symbolic.audio.rendering import render_to_file
path, minutes, sr, channels, backend, out = sys.argv[1:7]
song = symbolic.load(path)
length = song.end()
copies = max(1, int(float(minutes) * 60 // (song.to("second").end() or 1)))
tiled = song.copy()
for k in range(1, copies):
    shifted = song.shift_time(k * length)
    for mine, theirs in zip(tiled.tracks, shifted.tracks):
        mine.notes.extend(theirs.notes)
        mine.pedals.extend(theirs.pedals)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
done = render_to_file(tiled, out, int(sr), channels=int(channels), backend=backend)
dt = time.perf_counter() - start
print(copies, tiled.note_num(), done.frames, dt, before,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def bench_long(minutes: float, sr: int, channels: int) -> None:
    """Peak memory of an hour-long render to a file, synth and fluidsynth (see the module
    docstring); each backend in a fresh child process."""
    import subprocess
    import sys

    from symbolic.data import data_root

    song = data_root() / "pop909" / "001" / "001.mid"
    print(f"{song} tiled to about {minutes:g} min, {sr} Hz, {channels} channel(s), "
          "render_to_file (blocks of 30 s)")
    print(f"{'backend':<12}{'copies':>7}{'notes':>9}{'audio min':>10}{'wall s':>9}"
          f"{'x real time':>12}{'peak RSS MB':>12}{'growth MB':>10}{'child MB':>9}"
          f"{'one-shot MB':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("synth", "soundfont"):
            run = subprocess.run([sys.executable, "-c", LONG_CHILD, str(song), str(minutes),
                                  str(sr), str(channels), backend, f"{tmp}/{backend}.wav"],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{backend:<12}failed: {run.stderr.strip()[-300:]}")
                continue
            copies, notes, frames, dt, before, peak, child = run.stdout.split()
            audio = int(frames) / sr
            print(f"{backend:<12}{copies:>7}{notes:>9}{audio / 60:>10.1f}{float(dt):>9.1f}"
                  f"{audio / float(dt):>12.1f}{int(peak) / 1024:>12.0f}"
                  f"{(int(peak) - int(before)) / 1024:>10.0f}{int(child) / 1024:>9.0f}"
                  f"{int(frames) * channels * 4 / 2**20:>12.0f}")
    print("peak RSS: the child's maximum resident set; growth: during render_to_file; child: "
          "the largest of its own children (fluidsynth); one-shot: the float32 output array "
          "a whole render would hold")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--songs", type=int, default=8, help="POP909 songs (default 8)")
    ap.add_argument("--pieces", type=int, default=8, help="music21 corpus pieces (default 8)")
    ap.add_argument("--sample-rate", type=int, default=22050)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--soundfont", default=None, help="SoundFont (default: find_soundfont())")
    ap.add_argument("--no-compile", action="store_true", help="skip the compiled synth")
    ap.add_argument("--codec-size", default="small", help="'small' or 'default' codecs")
    ap.add_argument("--codec-seconds", type=float, default=10.0)
    ap.add_argument("--long", type=float, default=None, metavar="MINUTES",
                    help="instead: peak memory of a POP909 song tiled to MINUTES rendered to a "
                         "file (59 for about an hour)")
    ap.add_argument("--channels", type=int, choices=(1, 2), default=1,
                    help="channels of the --long render (default 1)")
    args = ap.parse_args(argv)
    if args.long is not None:
        return bench_long(args.long, args.sample_rate, args.channels)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    sr = args.sample_rate

    from symbolic.audio.notes import notes_from_scores
    from symbolic.audio.soundfont import find_soundfont

    scores, names = load_files(args.songs, args.pieces)
    if not scores:
        raise SystemExit("no files to render")
    batch = notes_from_scores(scores)
    audio_s = float(batch.file_duration.sum())
    print(f"{len(scores)} files ({sum('pop909' in n for n in names)} POP909, "
          f"{sum('corpus' in n for n in names)} music21 corpus), {len(batch)} notes, "
          f"{audio_s / 60:.1f} min of music, {sr} Hz mono")
    print(f"torch {torch.__version__}, torch threads: {threads} (torch.get_num_threads), "
          f"CPUs: {os.cpu_count()}, os load average: {os.getloadavg()[0]:.1f}")
    try:
        sf = find_soundfont(args.soundfont)
        print(f"SoundFont: {sf}")
    except Exception as e:
        sf = None
        print(f"SoundFont renderers skipped: {e}")

    rows, notes_out = [], []
    eager, _, first_wav = bench_synth(scores, names, sr, False)
    rows.append(("synth eager", eager, threads))
    if not args.no_compile:
        compiled, warm, _ = bench_synth(scores, names, sr, True)
        rows.append(("synth compiled", compiled, threads))
        notes_out.append(f"torch.compile warm-up (compilation, excluded above): {warm:.1f} s "
                         "wall (shorter when inductor's on-disk cache is warm)")
    if sf is not None:
        rows.append(("soundfont (symusic)", bench_symusic(scores, sf, sr), 1))
        dt, why = bench_fluidsynth_cli(scores, sf, sr)
        rows.append(("fluidsynth CLI", dt, 1))
        if why:
            notes_out.append(f"fluidsynth CLI: {why}")
        dt, why = bench_pretty_midi(scores, sf, sr)
        rows.append(("pretty_midi + pyfluidsynth", dt, 1))
        if why:
            notes_out.append(f"pretty_midi.fluidsynth: {why}")

    ref = CPU.get("fluidsynth CLI")
    ref_wall = dict((n, d) for n, d, _ in rows).get("fluidsynth CLI")
    print(f"\n{'renderer':<28}{'threads':>8}{'wall s':>9}{'x real time':>13}{'CPU s':>9}"
          f"{'per core':>10}{'vs fluidsynth':>15}{'(wall)':>8}")
    for name, dt, threads_used in rows:
        if dt is None:
            print(f"{name:<28}{'n/a':>8}")
            continue
        cpu = CPU.get(name, float("nan"))
        vs = f"{ref / cpu:.2f}x" if ref else "n/a"
        vs_wall = f"{ref_wall / dt:.2f}x" if ref_wall else "n/a"
        print(f"{name:<28}{threads_used:>8}{dt:>9.2f}{audio_s / dt:>13.1f}{cpu:>9.2f}"
              f"{audio_s / cpu:>10.1f}{vs:>15}{vs_wall:>8}")
    print("x real time: audio seconds per wall-clock second; per core: audio seconds per CPU "
          "second (this process and child processes; steadier than wall time on a busy "
          "machine); vs fluidsynth: per-core ratio to the fluidsynth CLI (wall-time ratio "
          "after it)")
    for line in notes_out:
        print(line)
    if first_wav is not None:
        bench_codecs(first_wav, sr, args.codec_size, args.codec_seconds)


if __name__ == "__main__":
    main()
