"""Audio: render any symbolic output, and one codec interface for every audio model.

The shared path, one device, batched::

    Score(s) --render--> wav [B, C, T] --resample--> --AudioCodec.encode--> Latents
                                                     <--AudioCodec.decode-- wav (input length)

- :mod:`~symbolic.audio.notes`: a flat batch of notes (file index, onset and duration in
  seconds, pitch, velocity, program, drum flag) made from any list of Scores: the one entry to
  the GPU.
- :mod:`~symbolic.audio.rendering`: ``render(scores, sample_rate, backend='synth'|'soundfont')
  -> Tensor[B, C, T]`` (in memory, up to a limit) and ``render_to_file(score, path)`` (a WAV
  written in blocks, any length); :mod:`~symbolic.audio.synth` (torch wavetables, GPU when present) and
  :mod:`~symbolic.audio.soundfont` (local SoundFont, CPU reference).
- :mod:`~symbolic.audio.dsp`: resampling (torch, no torchaudio) and WAV files.
- :mod:`~symbolic.audio.codec`: :class:`AudioCodec`, :class:`Latents`, adapters for the
  transformers codecs; :mod:`~symbolic.audio.factory`: :func:`load_codec` by kind or folder;
  :mod:`~symbolic.audio.pqmf`: the pseudo-QMF filter bank; :mod:`~symbolic.audio.path`:
  Score -> latents -> wav.
- The RAVE-style codec written here is a model family, :mod:`symbolic.models.rave`
  (:class:`RaveCodec` is re-exported here); ``symbolic train rave`` trains it.

Names below import on first use (torch and transformers load only when needed).
"""

from __future__ import annotations

import importlib

_NAMES = {
    "NoteBatch": ".notes", "notes_from_scores": ".notes",
    "render": ".rendering", "BACKENDS": ".rendering", "render_to_file": ".rendering",
    "RenderedFile": ".rendering",
    "Synth": ".synth", "render_synth": ".synth",
    "render_soundfont": ".soundfont", "find_soundfont": ".soundfont",
    "resample": ".dsp", "write_wav": ".dsp", "read_wav": ".dsp",
    "AudioCodec": ".codec", "Latents": ".codec", "TransformersCodec": ".codec",
    "load_codec": ".factory", "available_codecs": ".factory",
    "PQMF": ".pqmf",
    "RaveCodec": "..models.rave",
    "encode_scores": ".path", "roundtrip": ".path",
}

__all__ = sorted(_NAMES)


def __getattr__(name):
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module 'symbolic.audio' has no attribute {name!r}")
