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
"""

from __future__ import annotations

from .soundfont import render_soundfont
from .synth import render_synth

__all__ = ["render", "BACKENDS"]

BACKENDS = {
    "synth": render_synth,
    "soundfont": render_soundfont,
}


def render(scores, sample_rate: int = 22050, *, backend: str = "synth",
           length: int | None = None, channels: int = 1, device="auto", seed: int = 0,
           compile: bool = False, soundfont=None, normalize: bool = True):
    """Audio ``Tensor[B, C, T]`` float32 of ``scores`` with ``backend`` (see the module
    docstring)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {sorted(BACKENDS)}")
    if length is not None and int(length) < 0:
        raise ValueError(f"length must be >= 0 samples, got {length}")
    return BACKENDS[backend](scores, int(sample_rate), length=length, channels=channels,
                             device=device, seed=seed, compile=compile, soundfont=soundfont,
                             normalize=normalize)
