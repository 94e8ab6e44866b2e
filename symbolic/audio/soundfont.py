"""SoundFont rendering: a local ``.sf2``/``.sf3`` through symusic, or the fluidsynth program.

:func:`find_soundfont` looks, in order, at the path given, ``$SYMBOLIC_SOUNDFONT``, then the
Debian package locations (:data:`SOUNDFONT_PATHS`: ``timgm6mb-soundfont``,
``fluid-soundfont-gm``, ``musescore-general-soundfont-small`` and the ``default-GM``
alternatives link). It never downloads (symusic's own SoundFont getter would:
we always pass a local path) and raises :class:`~symbolic.errors.DataNotFoundError` naming the
places it looked.

:func:`render_soundfont` has the signature every renderer shares
(:mod:`~symbolic.audio.rendering`). Engines (``engine=``):

- ``"fluidsynth"``: the ``fluidsynth`` command line (``fluidsynth -ni -F out.wav -r SR -g GAIN
  sf mid``) on a temporary MIDI file; includes fluidsynth's reverb and chorus. In tune.
- ``"symusic"``: ``symusic.Synthesizer(sf_path, sample_rate, quality)`` and
  ``.render(score, stereo)`` (symusic 0.5.x; 0.6.0's render is broken). In memory, no files,
  several times faster; the audio stops at the score's end (no release tail). **Off key**
  with the Debian General MIDI SoundFonts (symusic issue #55, measured with 0.5.9 on
  TimGM6mb and FluidR3_GM: a piano A4 sounds near G#6, a piano C3 near D2, a flute an octave
  low): sample root keys are mishandled. Use it for timing or where pitch does not matter.
- ``"auto"`` (default): fluidsynth when the program is installed (Debian package
  ``fluidsynth``), else symusic with a warning; a file the first engine fails on is tried with
  the other.

The whole output is returned, so more than :data:`~symbolic.audio.notes.MAX_SAMPLES` samples
are refused before rendering (:func:`symbolic.audio.render_to_file` streams fluidsynth's own
WAV to a file instead). Files render one after another on the CPU (the ``device`` argument only places the result).
Output ``Tensor[B, C, T]`` float32: ``length`` samples (default: the longest file plus
:data:`TAIL_SECONDS`), shorter renders zero-padded, longer ones cut. Loudness as the synth:
``normalize=True`` peak-normalizes each file to 0.9; otherwise the engine's own level.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from ..errors import DataNotFoundError, ParseError, SoundFontError
from ..training import resolve_device
from .notes import NoteBatch, check_in_memory, notes_from_scores

__all__ = ["find_soundfont", "render_soundfont", "SOUNDFONT_PATHS", "TAIL_SECONDS",
           "fluidsynth_path", "render_fluidsynth_file"]

SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "/usr/share/sounds/sf3/FluidR3Mono_GM.sf3",
    "/usr/share/sounds/sf3/default-GM.sf3",
)
TAIL_SECONDS = 1.0
PEAK = 0.9


def _is_soundfont(p: Path) -> Path:
    """``p`` when it starts like a SoundFont (a RIFF file of form ``sfbk``: .sf2 and .sf3),
    else a ParseError: a wrong file must not render silence or fall back unseen."""
    with open(p, "rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise ParseError("not a SoundFont (no RIFF 'sfbk' header)", p)
    return p


def find_soundfont(path=None) -> Path:
    """A local SoundFont: ``path``, else ``$SYMBOLIC_SOUNDFONT``, else the first of
    :data:`SOUNDFONT_PATHS` that exists. Never downloads."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise DataNotFoundError("SoundFont not found", source=p)
        return _is_soundfont(p)
    env = os.environ.get("SYMBOLIC_SOUNDFONT")
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise DataNotFoundError("SoundFont named by $SYMBOLIC_SOUNDFONT not found",
                                    source=p)
        return _is_soundfont(p)
    for candidate in SOUNDFONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise DataNotFoundError(
        "no SoundFont found (pass soundfont=PATH, set SYMBOLIC_SOUNDFONT, or install the "
        "Debian package timgm6mb-soundfont); looked at " + ", ".join(SOUNDFONT_PATHS),
        source="<soundfont>")


def fluidsynth_path() -> str | None:
    """The ``fluidsynth`` program on PATH, or None."""
    return shutil.which("fluidsynth")


def _render_symusic(score, sf: Path, sample_rate: int, channels: int, quality: int,
                    cache: dict) -> np.ndarray:
    import symusic

    key = (str(sf), sample_rate, quality)
    if key not in cache:
        cache[key] = symusic.Synthesizer(str(sf), sample_rate, quality)
    audio = cache[key].render(score, channels == 2)
    return np.asarray(audio, dtype=np.float32).reshape(channels, -1)


def render_fluidsynth_file(score, sf: Path, sample_rate: int, wav: Path,
                           gain: float = 0.5) -> Path:
    """Render ``score`` with the fluidsynth program straight to the 16-bit stereo WAV ``wav``
    (fluidsynth renders in small buffers: its memory does not grow with the length)."""
    exe = fluidsynth_path()
    if exe is None:
        raise SoundFontError("the fluidsynth program is not installed (Debian: fluidsynth)",
                             source=sf)
    with tempfile.TemporaryDirectory(prefix="symbolic-fs-") as tmp:
        mid = Path(tmp) / "in.mid"
        score.dump_midi(str(mid))
        cmd = [exe, "-ni", "-q", "-F", str(wav), "-T", "wav", "-O", "s16", "-r",
               str(sample_rate), "-g", str(gain), str(sf), str(mid)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0 or not Path(wav).is_file():
        raise SoundFontError(f"fluidsynth failed ({proc.returncode}): "
                             f"{(proc.stderr or proc.stdout).strip()[:300]}", source=sf)
    return Path(wav)


def _render_fluidsynth(score, sf: Path, sample_rate: int, channels: int,
                       gain: float = 0.5) -> np.ndarray:
    from .dsp import read_wav

    with tempfile.TemporaryDirectory(prefix="symbolic-fs-") as tmp:
        wav = render_fluidsynth_file(score, sf, sample_rate, Path(tmp) / "out.wav", gain)
        audio, _ = read_wav(wav)
    audio = audio.numpy()
    if channels == 1:
        audio = audio.mean(0, keepdims=True)
    return audio


def render_soundfont(scores, sample_rate: int = 22050, *, length: int | None = None,
                     channels: int = 1, device="auto", seed: int = 0, compile: bool = False,
                     soundfont=None, normalize: bool = True, engine: str = "auto",
                     quality: int = 0) -> torch.Tensor:
    """Render Scores with a SoundFont: ``Tensor[B, C, T]`` float32 (see the module docstring).

    ``seed`` and ``compile`` are accepted for the shared signature and unused (SoundFont
    playback has no randomness here). ``quality`` is symusic's synthesizer quality (0-6).
    """
    if channels not in (1, 2):
        raise ValueError(f"channels must be 1 or 2, got {channels}")
    if engine not in ("symusic", "fluidsynth", "auto"):
        raise ValueError(f"engine must be 'symusic', 'fluidsynth' or 'auto', got {engine!r}")
    import symusic

    sf = find_soundfont(soundfont)
    score_list = [scores] if isinstance(scores, symusic.Score) else list(scores)
    notes: NoteBatch = notes_from_scores(score_list, sustain=False)  # validates the input
    sample_rate = int(sample_rate)
    expected = length if length is not None else int(math.ceil(
        (float(notes.file_duration.max()) + TAIL_SECONDS) * sample_rate))
    check_in_memory(len(score_list), channels, expected, sample_rate)
    cache: dict = {}
    audios = []
    engines = {"fluidsynth": ["fluidsynth"], "symusic": ["symusic"]}.get(engine)
    if engines is None:  # auto
        engines = ["fluidsynth", "symusic"] if fluidsynth_path() else ["symusic"]
        if engines[0] == "symusic":
            warnings.warn("fluidsynth is not installed: rendering with symusic's synthesizer, "
                          "which plays off key with many SoundFonts (symusic issue #55)",
                          stacklevel=2)

    def one(name, score):
        if name == "fluidsynth":
            return _render_fluidsynth(score, sf, sample_rate, channels)
        try:
            return _render_symusic(score, sf, sample_rate, channels, quality, cache)
        except Exception as e:  # symusic raises plain RuntimeErrors / nanobind errors
            raise SoundFontError(f"symusic could not render it: {e}", source=sf) from e

    for i, score in enumerate(score_list):
        for k, name in enumerate(engines):
            try:
                audios.append(one(name, score))
                break
            except SoundFontError as e:
                if k == len(engines) - 1:
                    raise SoundFontError(e.reason, source=f"scores[{i}]") from e
    if length is None:
        length = int(math.ceil((float(notes.file_duration.max()) + TAIL_SECONDS)
                               * sample_rate))
    out = np.zeros((len(audios), channels, int(length)), dtype=np.float32)
    for i, a in enumerate(audios):
        n = min(a.shape[-1], out.shape[-1])
        out[i, :, :n] = a[:, :n]
    wav = torch.from_numpy(out)
    if normalize and wav.shape[-1]:
        peak = wav.abs().amax(dim=(1, 2), keepdim=True)
        wav = torch.where(peak > 1e-8, wav * (PEAK / peak.clamp_min(1e-8)), wav)
    return wav.to(resolve_device(device))
