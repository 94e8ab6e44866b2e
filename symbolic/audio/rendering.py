"""Render Scores to audio: one function, one signature, several backends.

::

    wav = render(scores, 22050)                         # Tensor[B, C, T] float32
    wav = render(score, 44100, backend="soundfont", channels=2)

``scores`` is a ``symusic.Score`` (B = 1) or a list of them (any time unit), or a
:class:`~symbolic.audio.notes.NoteBatch` for the synth. Every backend in :data:`BACKENDS` is a
plain function with the same keyword arguments, so a new one is added in one place:

    fn(scores, sample_rate, *, length, channels, device, seed, compile, soundfont, normalize)
        -> Tensor[B, C, T]

- ``"synth"``: :func:`~symbolic.audio.synth.render_synth`, torch wavetables and drum samples,
  all notes of all files at once, on CUDA when present (``device="auto"``); ``compile=True``
  uses ``torch.compile``. Needs nothing installed.
- ``"soundfont"``: :func:`~symbolic.audio.soundfont.render_soundfont`, a local SoundFont
  (``soundfont=PATH``, ``$SYMBOLIC_SOUNDFONT`` or a Debian one) through symusic, fluidsynth as
  fallback; CPU, file by file. The reference sound.

Arguments: ``length`` is the output length in samples (default: the longest file plus its
release tail: every note's sound to its end for the synth, :data:`~symbolic.audio.soundfont.
TAIL_SECONDS` past the last note-off for SoundFonts); shorter files are zero-padded.
``channels`` 1 or 2. ``seed`` fixes the synth's noise. ``normalize`` peak-normalizes each file
to 0.9 (default; no clipping) or keeps the backend's fixed gain.

**Memory.** :func:`render` returns the whole output, so it refuses more than
:data:`~symbolic.audio.notes.MAX_SAMPLES` samples (``B x C x T``, 512 MiB of float32) with an
:class:`~symbolic.errors.InputTooLargeError`. :func:`render_to_file` writes one score to a
16-bit WAV in blocks of ``block_seconds`` (default 30 s), whatever its length:

- synth: block by block (:meth:`~symbolic.audio.synth.Synth.blocks`; notes that ring over a
  block boundary are computed in both blocks from the same segments, so the file is the
  one-shot render to float rounding). With ``normalize`` the blocks go first to a float32
  scratch file beside the output (4 bytes per sample, removed afterwards) while the peak is
  found, then to the WAV, scaled.
- soundfont, fluidsynth engine: fluidsynth writes its own WAV (it renders in small buffers),
  which is then read back, cut or padded, mixed down and normalized block by block.
- soundfont, symusic engine: symusic renders in memory, so the in-memory limit applies.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import symusic

from .. import checks
from ..errors import ArgumentError
from .dsp import read_wav_blocks, write_wav_blocks
from .notes import notes_from_scores
from .soundfont import TAIL_SECONDS, find_soundfont, fluidsynth_path, render_fluidsynth_file, \
    render_soundfont
from .synth import FIXED_GAIN, PEAK, cached_synth, render_synth

__all__ = ["render", "render_to_file", "RenderedFile", "BACKENDS"]

BACKENDS = {
    "synth": render_synth,
    "soundfont": render_soundfont,
}


def _check_render(backend, sample_rate, channels, length, seed):
    """The rendering options every entry takes, as ints, or an ArgumentError naming the first
    bad one and its range."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ArgumentError(f"must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}",
                            "backend")
    sample_rate = checks.integer("sample_rate", sample_rate, 1000, 384_000)
    channels = checks.integer("channels", channels, 1, 2)
    if length is not None:
        length = checks.integer("length", length, 0)
    return sample_rate, channels, length, checks.integer("seed", seed, 0, 2**63 - 1)


def render(scores, sample_rate: int = 22050, *, backend: str = "synth",
           length: int | None = None, channels: int = 1, device="auto", seed: int = 0,
           compile: bool = False, soundfont=None, normalize: bool = True):
    """Audio ``Tensor[B, C, T]`` float32 of ``scores`` with ``backend`` (see the module
    docstring)."""
    sample_rate, channels, length, seed = _check_render(backend, sample_rate, channels, length,
                                                        seed)
    return BACKENDS[backend](scores, sample_rate, length=length, channels=channels,
                             device=device, seed=seed, compile=compile, soundfont=soundfont,
                             normalize=normalize)


class RenderedFile(NamedTuple):
    """What :func:`render_to_file` wrote: the WAV path, its length in frames, its rate and
    channels, and the peak before normalization (the backend's raw level)."""

    path: Path
    frames: int
    sample_rate: int
    channels: int
    peak: float


def render_to_file(score, path, sample_rate: int = 22050, *, backend: str = "synth",
                   length: int | None = None, channels: int = 1, device="auto", seed: int = 0,
                   compile: bool = False, soundfont=None, normalize: bool = True,
                   block_seconds: float = 30.0, engine: str = "auto") -> RenderedFile:
    """Render one Score to a 16-bit WAV at ``path`` in blocks of ``block_seconds``, in
    memory bounded by one block whatever the length (see the module docstring; arguments
    as :func:`render`; ``engine`` as :func:`~symbolic.audio.soundfont.render_soundfont`)."""
    sample_rate, channels, length, seed = _check_render(backend, sample_rate, channels, length,
                                                        seed)
    block = int(round(checks.number("block_seconds", block_seconds, 0, 3600, low_open=True)
                      * sample_rate)) or 1
    notes = notes_from_scores(score, sustain=backend == "synth")
    if notes.n_files != 1:
        raise ArgumentError(f"must be one score, got {notes.n_files}", "score")
    path = checks.output_file(path, "path")  # writable, before any work
    score = score if isinstance(score, symusic.Score) else list(score)[0]
    if backend == "soundfont" and (engine == "fluidsynth" or
                                   (engine == "auto" and fluidsynth_path())):
        if length is None:
            length = int(np.ceil((float(notes.file_duration.max()) + TAIL_SECONDS)
                                 * sample_rate))
        with tempfile.TemporaryDirectory(prefix="symbolic-fs-", dir=path.parent) as tmp:
            raw = render_fluidsynth_file(score, find_soundfont(soundfont), sample_rate,
                                         Path(tmp) / "fluidsynth.wav")
            return _write_normalized(path, _fitted(raw, length, channels, block),
                                     sample_rate, channels, normalize, 1.0)
    if backend == "soundfont":  # symusic: in memory (check_in_memory applies)
        wav = render_soundfont(score, sample_rate, length=length, channels=channels,
                               device="cpu", soundfont=soundfont, normalize=False,
                               engine=engine)[0]
        return _write_normalized(path, (wav[:, i:i + block]
                                        for i in range(0, wav.shape[1], block)),
                                 sample_rate, channels, normalize, 1.0)
    synth = cached_synth(sample_rate, channels, device, seed, compile)
    blocks = (b[0].cpu() for b in synth.blocks(notes, length, block=block))
    return _write_normalized(path, blocks, sample_rate, channels, normalize, FIXED_GAIN)


def _fitted(raw: Path, length: int, channels: int, block: int):
    """Blocks ``[channels, t]`` of the WAV ``raw``, cut or zero-padded to ``length`` frames
    and mixed down to mono when ``channels`` is 1."""
    _, _, blocks = read_wav_blocks(raw, block)
    done = 0
    for b in blocks:
        b = b[:, :length - done]
        if b.shape[1] == 0:
            break
        done += b.shape[1]
        yield b.mean(0, keepdim=True) if channels == 1 else b.expand(channels, -1)
    while done < length:
        n = min(block, length - done)
        done += n
        yield np.zeros((channels, n), dtype=np.float32)


def _write_normalized(path: Path, blocks, sample_rate: int, channels: int, normalize: bool,
                      gain: float) -> RenderedFile:
    """Write ``blocks`` (an iterable of ``[C, t]``) to ``path``: times
    ``gain``, or peak-normalized to :data:`PEAK` through a float32 scratch file beside
    ``path`` (one block in memory at a time)."""
    if not normalize:
        out, frames = write_wav_blocks(path, blocks,
                                       sample_rate, channels, scale=gain)
        return RenderedFile(out, frames, sample_rate, channels, float("nan"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".render-", suffix=".f32", dir=path.parent)
    try:
        peak, frames = 0.0, 0
        with os.fdopen(fd, "wb") as f:
            for b in (blocks):
                a = np.asarray(b, dtype=np.float32)
                peak = max(peak, float(np.abs(a).max(initial=0.0)))
                f.write(np.ascontiguousarray(a.T).tobytes())  # interleaved frames
                frames += a.shape[1]
        scale = PEAK / peak if peak > 1e-8 else 1.0
        with open(scratch, "rb") as f:  # read back, not mapped: mapped pages count as memory
            out, frames = write_wav_blocks(path, _read_frames(f, channels), sample_rate,
                                           channels, scale=scale)
    finally:
        os.unlink(scratch)
    return RenderedFile(out, frames, sample_rate, channels, peak)


def _read_frames(f, channels: int, block: int = 1 << 18):
    """Blocks ``[channels, t]`` of interleaved float32 frames read from the open file ``f``."""
    while True:
        a = np.fromfile(f, np.float32, block * channels)
        if a.size == 0:
            return
        yield a.reshape(-1, channels).T
