"""Audio plumbing in torch: resampling and WAV files (no torchaudio).

**Resampling.** :func:`resample` ``(wav [..., T], orig_sr, new_sr)`` returns
``[..., round(T * new / orig)]``: a windowed-sinc polyphase resampler. With
``up/down = new/orig`` reduced by their gcd, output sample ``n`` sits at input position
``n * down / up``; its fractional part takes one of ``up`` values, so ``up`` kernels
(phases) cover every output. They are applied as one ``conv1d`` with ``up`` output channels
and stride ``down``, then interleaved. The kernel is a
sinc low-pass at ``rolloff * min(1, new/orig)`` of the input Nyquist (anti-aliasing when going
down), ``zeros`` zero crossings each side, Kaiser window (beta 8: about -80 dB stop band), all
designed in float64. Where ``up`` exceeds :data:`MAX_PHASES` (rates with a tiny gcd such as
44100 -> 22051) the bank would be huge, so an FFT resampler (truncate or zero-pad the spectrum,
periodic at the edges) is used instead. Same rates return a copy. Works on any device and
leading shape; float32 out for float32 in.

**WAV.** :func:`write_wav` writes 16-bit PCM with the standard library's ``wave`` module:
``[T]`` (mono), ``[C, T]`` or ``[1, C, T]`` with C = 1 or 2 (more channels are written too,
interleaved); samples are clamped to [-1, 1] first (never wrapped around), then rounded.
:func:`read_wav` reads 8/16/24/32-bit PCM into ``(Tensor[C, T] float32 in [-1, 1],
sample_rate)``. A missing file raises
:class:`~symbolic.errors.DataNotFoundError`, a non-WAV or compressed one
:class:`~symbolic.errors.ParseError`.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import torch

from ..errors import DataNotFoundError, ParseError

__all__ = ["resample", "write_wav", "write_wav_blocks", "read_wav", "read_wav_blocks",
           "MAX_PHASES", "WAV_BLOCK"]

MAX_PHASES = 1024
WAV_BLOCK = 1 << 18  # frames converted to PCM at a time


def _kernel_bank(up: int, down: int, zeros: int, rolloff: float, beta: float):
    """Polyphase kernels ``[up, 1, K]`` (float64) and the left padding they assume."""
    cutoff = rolloff * min(1.0, up / down) * 0.5  # cycles per input sample
    half = int(math.ceil(zeros / (2 * cutoff)))   # kernel half-width, input samples
    width = 2 * half + down + 1
    k = torch.arange(width, dtype=torch.float64)
    phase = torch.arange(up, dtype=torch.float64)[:, None] * down / up
    tau = k[None, :] - half - phase                # distance from the output position
    inside = tau.abs() <= half
    window = torch.special.i0(beta * torch.sqrt(torch.clamp(1 - (tau / half) ** 2, min=0)))
    window = torch.where(inside, window / torch.special.i0(torch.tensor(beta,
                                                                       dtype=torch.float64)), 0)
    h = 2 * cutoff * torch.special.sinc(2 * cutoff * tau) * window
    return h[:, None, :], half


def _resample_fft(x: torch.Tensor, n_out: int) -> torch.Tensor:
    n_in = x.shape[-1]
    spec = torch.fft.rfft(x.double(), dim=-1)
    bins = n_out // 2 + 1
    out = torch.zeros(*spec.shape[:-1], bins, dtype=spec.dtype, device=x.device)
    keep = min(bins, spec.shape[-1])
    out[..., :keep] = spec[..., :keep]
    return torch.fft.irfft(out, n=n_out, dim=-1) * (n_out / n_in)


def resample(wav, orig_sr: int, new_sr: int, *, zeros: int = 16, rolloff: float = 0.945,
             beta: float = 8.0) -> torch.Tensor:
    """``wav [..., T]`` sampled at ``orig_sr`` resampled to ``new_sr``: ``[..., round(T *
    new_sr / orig_sr)]``. See the module docstring for the method."""
    orig_sr, new_sr = int(orig_sr), int(new_sr)
    if orig_sr <= 0 or new_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} -> {new_sr}")
    x = torch.as_tensor(wav)
    if not x.is_floating_point():
        x = x.float()
    if orig_sr == new_sr:
        return x.clone()
    T = x.shape[-1]
    n_out = int(round(T * new_sr / orig_sr))
    lead = x.shape[:-1]
    if T == 0 or n_out == 0:
        return x.new_zeros(*lead, n_out)
    g = math.gcd(orig_sr, new_sr)
    up, down = new_sr // g, orig_sr // g
    if up > MAX_PHASES:
        return _resample_fft(x.reshape(-1, T), n_out).to(x.dtype).reshape(*lead, n_out)
    h, half = _kernel_bank(up, down, zeros, rolloff, beta)
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    h = h.to(dtype=dtype, device=x.device)  # each phase sums to about 1: unity gain
    flat = x.reshape(-1, 1, T).to(dtype)
    n_frames = -(-n_out // up)                       # conv outputs needed per phase
    right = max(0, (n_frames - 1) * down + h.shape[-1] - (T + half))
    flat = torch.nn.functional.pad(flat, (half, right))
    y = torch.nn.functional.conv1d(flat, h, stride=down)     # [N, up, frames]
    y = y[..., :n_frames].transpose(1, 2).reshape(flat.shape[0], -1)[:, :n_out]
    return y.to(x.dtype).reshape(*lead, n_out)


def _as_channels(wav) -> np.ndarray:
    a = wav.detach().cpu().numpy() if isinstance(wav, torch.Tensor) else np.asarray(wav)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"expected a waveform [T], [C, T] or [1, C, T], got shape {a.shape}")
    return a


def _pcm16(a: np.ndarray, scale: float = 1.0) -> bytes:
    """Interleaved 16-bit PCM bytes of ``a [C, t]`` times ``scale`` (clamped, NaN as 0)."""
    a = np.nan_to_num(a.astype(np.float64) * scale, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.ascontiguousarray(np.round(np.clip(a, -1.0, 1.0) * 32767.0).astype("<i2").T
                                ).tobytes()


def write_wav(path, wav, sample_rate: int) -> Path:
    """Write ``wav`` (``[T]``, ``[C, T]`` or ``[1, C, T]``, floats in [-1, 1]) as 16-bit PCM.

    Samples beyond [-1, 1] are clamped (never wrapped); NaN is written as 0. Returns the path.
    Converted :data:`WAV_BLOCK` frames at a time (no float64 copy of the whole signal).
    """
    a = _as_channels(wav)
    blocks = (a[:, i:i + WAV_BLOCK] for i in range(0, a.shape[1], WAV_BLOCK))
    return write_wav_blocks(path, blocks, sample_rate, a.shape[0])[0]


def write_wav_blocks(path, blocks, sample_rate: int, channels: int, *,
                     scale: float = 1.0) -> tuple[Path, int]:
    """Write 16-bit PCM from an iterable of ``[C, t]`` blocks (tensors or arrays), each times
    ``scale`` and clamped as :func:`write_wav` does, one block in memory at a time: returns
    ``(path, frames written)``. The header's length is set when the file is closed."""
    from .. import checks

    path = checks.output_file(path, "path")  # writable (not /proc, not a folder), or one error
    frames = 0
    with wave.open(str(path), "wb") as f:
        f.setnchannels(int(channels))
        f.setsampwidth(2)
        f.setframerate(int(sample_rate))
        for block in blocks:
            a = _as_channels(block)
            if a.shape[0] != channels:
                raise ValueError(f"block of {a.shape[0]} channels in a {channels}-channel file")
            f.writeframesraw(_pcm16(a, scale))
            frames += a.shape[1]
    return path, frames


def read_wav_blocks(path, block: int = 1 << 18):
    """``(sample_rate, channels, iterator of Tensor[C, t] float32)`` reading a 16-bit PCM WAV
    ``block`` frames at a time (what :func:`write_wav_blocks` and fluidsynth write)."""
    f = wave.open(str(path), "rb")
    if f.getsampwidth() != 2:
        f.close()
        raise ParseError(f"expected 16-bit PCM, got {8 * f.getsampwidth()}-bit", source=path)
    channels = f.getnchannels()

    def gen():
        with f:
            while True:
                raw = f.readframes(block)
                if not raw:
                    return
                a = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
                yield torch.from_numpy(a.reshape(-1, channels).T.copy())
    return f.getframerate(), channels, gen()


def read_wav(path) -> tuple[torch.Tensor, int]:
    """``(Tensor[C, T] float32 in [-1, 1], sample_rate)`` of a PCM WAV file (8-32 bit)."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError("no such WAV file", source=path)
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            raw = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as e:
        raise ParseError(f"not a PCM WAV file: {e}", source=path) from None
    if width == 1:
        a = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        a = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        a = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
    elif width == 4:
        a = np.frombuffer(raw, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise ParseError(f"unsupported sample width {width} bytes", source=path)
    frames = len(a) // channels
    return torch.from_numpy(a[:frames * channels].reshape(frames, channels).T.copy()), rate
