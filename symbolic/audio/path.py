"""The shared path from Scores to latents and back, for every codec, batched on one device::

    scores --render (working rate)--> --resample--> --match channels--> codec.encode --> Latents
                                                                        codec.decode --> wav

::

    lat = encode_scores(scores, codec)              # Latents [B, D|Q, F]
    wav_in, wav_out = roundtrip(scores, codec)      # both [B, C, T] at codec.sample_rate

Scores are rendered together (:func:`symbolic.audio.render`; the batch is as long as the
longest, shorter pieces end in silence) at ``render_rate`` (default 22,050 Hz, the renderer's
own default, so one set of synth tables serves every codec; ``None``: the codec's rate, no
resampling), resampled to ``codec.sample_rate`` with :func:`symbolic.audio.resample` when the
two differ, mixed or repeated to ``codec.channels``, then encoded. Rendering below the codec's
rate leaves its top octave empty: pass ``render_rate=None`` (or the codec's rate) for a 44.1
or 48 kHz codec when that matters.
"""

from __future__ import annotations

import torch

from .codec import AudioCodec, Latents

__all__ = ["encode_scores", "roundtrip", "render_for_codec", "match_channels"]


def match_channels(wav: torch.Tensor, channels: int) -> torch.Tensor:
    """``wav [B, C, T]`` with ``channels`` channels: a mono signal is repeated, anything else
    is mixed down to mono (mean) first."""
    c = wav.shape[1]
    if c == channels:
        return wav
    mono = wav if c == 1 else wav.mean(1, keepdim=True)
    return mono.expand(-1, channels, -1).contiguous() if channels > 1 else mono


def _device(codec: AudioCodec, device) -> torch.device:
    if device is None:
        return codec.device
    from ..training import resolve_device

    return resolve_device(device)


def render_for_codec(scores, codec: AudioCodec, *, backend: str = "synth",
                     render_rate: int | None = 22050, seconds: float | None = None,
                     device="auto", seed: int = 0, **render_kwargs) -> torch.Tensor:
    """The Scores as the codec's input: ``[B, codec.channels, T]`` at ``codec.sample_rate``,
    on ``device`` (``'auto'``: CUDA when present; None: the codec's device). ``seconds`` cuts
    or pads every piece to that length. ``render_kwargs`` go to the renderer."""
    from .dsp import resample
    from .rendering import render

    dev = _device(codec, device)
    rate = int(render_rate or codec.sample_rate)
    length = None if seconds is None else int(round(seconds * rate))
    wav = render(scores, rate, backend=backend, length=length,
                 channels=min(codec.channels, 2), device=dev, seed=seed, **render_kwargs)
    wav = wav.to(dev, torch.float32)
    if rate != codec.sample_rate:
        wav = resample(wav, rate, codec.sample_rate)
    if seconds is not None:  # exact length after resampling
        from .codec import fit_length

        wav = fit_length(wav, int(round(seconds * codec.sample_rate)))
    return match_channels(wav, codec.channels)


def encode_scores(scores, codec: AudioCodec, *, backend: str = "synth",
                  render_rate: int | None = 22050, seconds: float | None = None,
                  device="auto", seed: int = 0, **render_kwargs) -> Latents:
    """Render, resample, match channels and encode a list of Scores in one batch (see the
    module docstring). The codec is moved to ``device`` (``'auto'``: CUDA when present; None:
    leave it where it is)."""
    wav = render_for_codec(scores, codec, backend=backend, render_rate=render_rate,
                           seconds=seconds, device=device, seed=seed, **render_kwargs)
    codec.to(wav.device)
    return codec.encode(wav, sample_rate=codec.sample_rate)


def roundtrip(scores, codec: AudioCodec, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
    """``(wav_in, wav_out)``: the rendered input the codec saw and its reconstruction, both
    ``[B, codec.channels, T]`` at ``codec.sample_rate`` on one device (arguments as
    :func:`encode_scores`)."""
    wav = render_for_codec(scores, codec, **kwargs)
    codec.to(wav.device)
    return wav, codec.decode(codec.encode(wav, sample_rate=codec.sample_rate))
