"""A RAVE-style audio codec, written here: continuous latents at 2,048 samples per frame.

After RAVE (Caillon & Esling, 2021), read top to bottom: blocks -> encoder -> decoder (with its
noise branch) -> :class:`RaveCodec` -> losses -> discriminator. Training (two stages, on audio
rendered from the corpora) is :mod:`.train`.

**Signal path.** A 16-band pseudo-QMF bank (:class:`~symbolic.audio.pqmf.PQMF`) splits the
waveform into sub-bands at 1/16 of the rate; the encoder (dilated residual convolutions, then
strided convolutions by ``ratios``) maps them to a Gaussian posterior per frame, ``latent_dim``
means and scales (``std = softplus(s) + 1e-4``). ``16 * prod(ratios)`` samples make one frame
(default ``(4, 4, 4, 2)``: 2,048, about 10.8 frames per second at 22,050 Hz). The decoder
mirrors the encoder with transposed convolutions and ends in two heads per sub-band, a
waveform and an amplitude: ``bands = waveform * sigmoid(amplitude)``; an optional noise branch
adds white noise shaped, frame by frame, by learned filters (``noise_filters`` magnitude bins
per band, frames of ``prod(noise_ratios)`` sub-band samples). The bank's synthesis gives the
waveform.

**As a codec** (:class:`~symbolic.audio.codec.AudioCodec`): ``encode`` returns the posterior
means ``[B, latent_dim, F]`` (deterministic); ``decode`` runs the decoder, whose noise branch
draws from torch's global generator, or from its own with ``decode(latents, seed=...)``.

**Losses** (pure functions): :func:`spectral_loss` (several STFT sizes, spectral convergence of
the linear magnitude plus L1 of the log magnitude), :func:`kl_divergence`, and for stage 2
:func:`discriminator_loss` (hinge), :func:`generator_loss` (hinge) and
:func:`feature_matching` against :class:`Discriminator` (multi-scale and multi-period).

Saved and loaded as a folder (``config.json`` + ``model.safetensors``) through
:class:`symbolic.models.HubModel`: ``codec.save_pretrained(dir)``,
``RaveCodec.from_pretrained(dir)`` or :func:`symbolic.models.rave.load`. A codec built with the
constructor (or :meth:`RaveCodec.small`) has random weights; no weights ship with the package.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...audio.codec import AudioCodec
from ...audio.pqmf import PQMF
from .. import HubModel
from .settings import SMALL_CONFIG

__all__ = ["RaveCodec", "Discriminator", "spectral_loss", "kl_divergence",
           "discriminator_loss", "generator_loss", "feature_matching", "SMALL_CONFIG"]


def _act() -> nn.Module:
    return nn.LeakyReLU(0.2)


# ------------------------------------------------------------------------------------ blocks

class _Residual(nn.Module):
    """Dilated residual stack: ``x + conv1x1(act(conv_d(act(x))))`` for each dilation ``d``."""

    def __init__(self, width: int, kernel: int, dilations):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(_act(), nn.Conv1d(width, width, kernel, dilation=d,
                                            padding=d * (kernel - 1) // 2),
                          _act(), nn.Conv1d(width, width, 1))
            for d in dilations)

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x)
        return x


class _Down(nn.Module):
    """Strided convolution: length ``L -> L / ratio`` (``L`` a multiple of ``ratio``)."""

    def __init__(self, c_in: int, c_out: int, ratio: int):
        super().__init__()
        self.ratio = ratio
        self.conv = nn.Conv1d(c_in, c_out, 2 * ratio, stride=ratio)

    def forward(self, x):
        return self.conv(F.pad(x, (self.ratio // 2, self.ratio - self.ratio // 2)))


class _Up(nn.Module):
    """Transposed convolution: length ``L -> L * ratio``."""

    def __init__(self, c_in: int, c_out: int, ratio: int):
        super().__init__()
        self.ratio = ratio
        self.conv = nn.ConvTranspose1d(c_in, c_out, 2 * ratio, stride=ratio,
                                       padding=ratio // 2)

    def forward(self, x):
        return self.conv(x)[..., :x.shape[-1] * self.ratio]


class _Encoder(nn.Module):
    """Sub-bands ``[B, bands, T/16]`` -> posterior parameters ``[B, 2 * latent_dim, F]``."""

    def __init__(self, bands, widths, ratios, kernel, dilations, latent_dim):
        super().__init__()
        layers = [nn.Conv1d(bands, widths[0], 7, padding=3)]
        for i, r in enumerate(ratios):
            layers += [_Residual(widths[i], kernel, dilations), _act(),
                       _Down(widths[i], widths[i + 1], r)]
        layers += [_act(), nn.Conv1d(widths[-1], 2 * latent_dim, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, bands):
        return self.net(bands)


class _NoiseBranch(nn.Module):
    """Filtered noise per sub-band: a small strided net predicts, every ``hop`` sub-band
    samples, ``filters`` magnitude bins per band; each frame of uniform noise is convolved with
    the matching zero-phase (Hann-windowed) impulse response."""

    def __init__(self, width, bands, ratios, filters):
        super().__init__()
        layers = []
        for r in ratios:
            layers += [_act(), _Down(width, width, r)]
        layers += [_act(), nn.Conv1d(width, bands * filters, 3, padding=1)]
        self.net = nn.Sequential(*layers)
        self.bands, self.filters, self.hop = bands, filters, math.prod(ratios)

    def forward(self, h, generator: torch.Generator | None = None):
        x = self.net(h)
        b, _, frames = x.shape
        # start quiet: sigmoid(-5) ~ 0.007
        mag = torch.sigmoid(x - 5).reshape(b, self.bands, self.filters, frames).transpose(2, 3)
        ir = torch.fft.irfft(mag.to(torch.complex64 if mag.dtype != torch.float64
                                    else torch.complex128))
        n = ir.shape[-1]
        ir = torch.roll(ir, n // 2, -1) * torch.hann_window(n, device=ir.device, dtype=ir.dtype)
        noise = torch.rand(b, self.bands, frames, self.hop, device=h.device, dtype=h.dtype,
                           generator=generator)
        size = self.hop + n - 1
        out = torch.fft.irfft(torch.fft.rfft(noise * 2 - 1, size) * torch.fft.rfft(ir, size),
                              size)[..., :self.hop]
        return out.reshape(b, self.bands, frames * self.hop)


class _Decoder(nn.Module):
    """Latents ``[B, latent_dim, F]`` -> sub-bands ``[B, bands, F * prod(ratios)]``."""

    def __init__(self, bands, widths, ratios, kernel, dilations, latent_dim, noise_ratios,
                 noise_filters):
        super().__init__()
        layers = [nn.Conv1d(latent_dim, widths[-1], 7, padding=3)]
        for i in reversed(range(len(ratios))):
            layers += [_act(), _Up(widths[i + 1], widths[i], ratios[i]),
                       _Residual(widths[i], kernel, dilations)]
        layers.append(_act())
        self.net = nn.Sequential(*layers)
        self.waveform = nn.Conv1d(widths[0], bands, 7, padding=3)
        self.amplitude = nn.Conv1d(widths[0], bands, 7, padding=3)
        self.noise = (_NoiseBranch(widths[0], bands, noise_ratios, noise_filters)
                      if noise_ratios is not None else None)

    def forward(self, z, generator: torch.Generator | None = None):
        h = self.net(z)
        bands = self.waveform(h) * torch.sigmoid(self.amplitude(h))
        if self.noise is not None:
            bands = bands + self.noise(h, generator)
        return bands


# ------------------------------------------------------------------------------------- model

class RaveCodec(AudioCodec, HubModel, library_name="symbolic",
                tags=["audio", "codec", "rave", "vae"]):
    """The RAVE-style codec (see the module docstring). Every argument is architecture and
    goes to ``config.json``.

    ``sample_rate`` (Hz) and ``channels`` of the audio; ``n_bands``: PQMF bands (``pqmf_taps``:
    prototype length, default ``32 * n_bands + 1``); ``latent_dim``: latent features per frame;
    ``capacity`` x ``multipliers``: channel widths at each resolution (one more than
    ``ratios``); ``ratios``: down-sampling after the bank (frame = ``n_bands * prod(ratios)``
    samples); ``kernel`` / ``dilations``: the residual convolutions; ``noise_ratios``: frames
    of the noise branch in sub-band samples (None: no noise branch; ``prod(noise_ratios)`` must
    divide ``prod(ratios)``); ``noise_filters``: magnitude bins per band and frame.
    ``settings``: what trained it, per stage (``{"stage1": {"settings": ..., "steps": ...,
    "last": ...}}``, see :func:`symbolic.models.rave.train`), recorded in ``config.json`` for
    reference (not used by the model).

    The constructor gives random weights; trained ones come from
    :func:`symbolic.models.rave.load` (a folder written by ``symbolic train rave``).
    """

    name = "rave"

    _generator: torch.Generator | None = None   # set by decode(seed=...) for one call

    def __init__(self, sample_rate: int = 22050, channels: int = 1, n_bands: int = 16,
                 latent_dim: int = 128, capacity: int = 32,
                 multipliers: tuple = (1, 2, 4, 8, 8), ratios: tuple = (4, 4, 4, 2),
                 kernel: int = 3, dilations: tuple = (1, 3, 9),
                 noise_ratios: tuple | None = (2, 2, 2), noise_filters: int = 5,
                 pqmf_taps: int | None = None, settings: dict | None = None):
        super().__init__()
        ratios, multipliers, dilations = tuple(ratios), tuple(multipliers), tuple(dilations)
        if len(multipliers) != len(ratios) + 1:
            raise ValueError(f"multipliers needs one entry more than ratios: {len(ratios) + 1}, "
                             f"got {len(multipliers)}")
        if noise_ratios is not None:
            noise_ratios = tuple(noise_ratios)
            if math.prod(ratios) % math.prod(noise_ratios):
                raise ValueError(f"prod(noise_ratios) = {math.prod(noise_ratios)} must divide "
                                 f"prod(ratios) = {math.prod(ratios)}")
        self._sample_rate, self._channels = int(sample_rate), int(channels)
        self.n_bands, self.ratios, self._latent_dim = int(n_bands), ratios, int(latent_dim)
        self.settings = dict(settings or {})
        self.pqmf = PQMF(n_bands, taps=pqmf_taps)
        bands = channels * n_bands
        widths = [capacity * m for m in multipliers]
        self.encoder = _Encoder(bands, widths, ratios, kernel, dilations, latent_dim)
        self.decoder = _Decoder(bands, widths, ratios, kernel, dilations, latent_dim,
                                noise_ratios, noise_filters)

    @classmethod
    def small(cls, **overrides) -> "RaveCodec":
        """A tiny configuration (:data:`SMALL_CONFIG`, 64 samples per frame): for tests."""
        return cls(**{**SMALL_CONFIG, **overrides})

    @classmethod
    def _from_pretrained(cls, **kwargs):
        model = super()._from_pretrained(**kwargs)
        model.pretrained = True
        return model

    def save_pretrained(self, save_directory, **kwargs):
        """Write ``config.json`` (the constructor's arguments, with the current ``settings``)
        and ``model.safetensors`` to the folder ``save_directory``."""
        config = kwargs.pop("config", None) or {**(self._hub_mixin_config or {}),
                                                "settings": self.settings}
        return super().save_pretrained(save_directory, config=config, **kwargs)

    # -- AudioCodec
    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def hop_length(self) -> int:
        return self.n_bands * math.prod(self.ratios)

    @property
    def latent_kind(self) -> str:
        return "continuous"

    @property
    def latent_dim(self) -> int:
        return self._latent_dim

    def _encode(self, wav):
        mean, _ = self.posterior(wav)
        return mean, {}

    def _decode(self, z, extra):
        return self.synthesize(z, self._generator)

    def decode(self, latents, *, seed: int | None = None) -> torch.Tensor:
        """:class:`~symbolic.audio.codec.Latents` -> waveform, as every codec; ``seed`` makes
        the noise branch's draws repeatable (None: torch's global generator)."""
        self._generator = (None if seed is None else
                           torch.Generator(device=self.device).manual_seed(int(seed)))
        try:
            return super().decode(latents)
        finally:
            self._generator = None

    # -- the model
    def posterior(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``wav [B, C, T]`` (``T`` a multiple of :attr:`hop_length`) -> ``(mean, std)``, each
        ``[B, latent_dim, T / hop_length]``."""
        stats = self.encoder(self.pqmf.analysis(wav))
        mean, scale = stats.chunk(2, dim=1)
        return mean, F.softplus(scale) + 1e-4

    def synthesize(self, z: torch.Tensor, generator: torch.Generator | None = None
                   ) -> torch.Tensor:
        """Latents ``[B, latent_dim, F]`` -> waveform ``[B, C, F * hop_length]``; the noise
        branch draws from ``generator`` (None: torch's global generator)."""
        return self.pqmf.synthesis(self.decoder(z, generator))

    def representation_loss(self, wav: torch.Tensor, beta: float = 0.0,
                            scales=None) -> tuple[torch.Tensor, dict]:
        """Stage 1: ``spectral_loss(wav, decode(z)) + beta * KL``, ``z`` drawn from the
        posterior in training mode, its mean in eval mode (a steadier held-out loss); returns
        the loss and its parts (floats)."""
        mean, std = self.posterior(wav)
        z = mean + std * torch.randn_like(std) if self.training else mean
        out = self.synthesize(z)
        spectral = spectral_loss(wav, out, scales)
        kl = kl_divergence(mean, std)
        loss = spectral + beta * kl
        return loss, {"spectral": float(spectral.detach()), "kl": float(kl.detach())}


# ------------------------------------------------------------------------------------ losses

DEFAULT_SCALES = (2048, 1024, 512, 256, 128)


def spectral_loss(x: torch.Tensor, y: torch.Tensor, scales=None, eps: float = 1e-4
                  ) -> torch.Tensor:
    """Multi-scale spectral distance of waveforms ``[..., T]``: for each STFT size ``n`` in
    ``scales`` (hop ``n / 4``, Hann window, magnitudes divided by the window sum so they read
    as amplitudes), ``||X - Y|| / ||X||`` (spectral convergence of the linear magnitude) plus
    ``mean |log(X + eps) - log(Y + eps)|``; averaged over the sizes no longer than ``T``."""
    scales = tuple(scales or DEFAULT_SCALES)
    x = x.reshape(-1, x.shape[-1])
    y = y.reshape(-1, y.shape[-1])
    used = [n for n in scales if n <= x.shape[-1]] or [min(scales)]
    total = x.new_zeros(())
    for n in used:
        window = torch.hann_window(n, device=x.device, dtype=x.dtype)
        mags = [torch.stft(s, n, n // 4, window=window, return_complex=True).abs() / window.sum()
                for s in (x, y)]
        sx, sy = mags
        total = total + torch.linalg.vector_norm(sx - sy) / (torch.linalg.vector_norm(sx)
                                                             + 1e-8)
        total = total + (torch.log(sx + eps) - torch.log(sy + eps)).abs().mean()
    return total / len(used)


def kl_divergence(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, std^2) || N(0, 1)) summed over the latent features (dim 1), averaged over
    batch and frames."""
    var = std * std
    return 0.5 * (mean * mean + var - torch.log(var) - 1).sum(1).mean()


# ------------------------------------------------------------------ stage 2: the adversary

class _ScaleDiscriminator(nn.Module):
    """1-D convolutions on the waveform average-pooled by ``scale``."""

    def __init__(self, channels, width, scale):
        super().__init__()
        self.scale = scale
        w = width
        self.layers = nn.ModuleList([
            nn.Conv1d(channels, w, 15, padding=7),
            nn.Conv1d(w, 2 * w, 41, stride=4, padding=20, groups=4),
            nn.Conv1d(2 * w, 4 * w, 41, stride=4, padding=20, groups=4),
            nn.Conv1d(4 * w, 4 * w, 5, padding=2),
            nn.Conv1d(4 * w, 1, 3, padding=1),
        ])

    def forward(self, x):
        if self.scale > 1:
            x = F.avg_pool1d(x, self.scale * 2, self.scale, padding=self.scale)
        return _feature_maps(self.layers, x)


def _feature_maps(layers, x) -> list:
    """Every layer's output (leaky ReLU between layers, none after the last)."""
    features = []
    for i, layer in enumerate(layers):
        x = layer(x)
        if i < len(layers) - 1:
            x = F.leaky_relu(x, 0.2)
        features.append(x)
    return features


class _PeriodDiscriminator(nn.Module):
    """2-D convolutions on the waveform folded into rows of ``period`` samples."""

    def __init__(self, channels, width, period):
        super().__init__()
        self.period = period
        w = width
        self.layers = nn.ModuleList([
            nn.Conv2d(channels, w, (5, 1), (3, 1), padding=(2, 0)),
            nn.Conv2d(w, 2 * w, (5, 1), (3, 1), padding=(2, 0)),
            nn.Conv2d(2 * w, 4 * w, (5, 1), (3, 1), padding=(2, 0)),
            nn.Conv2d(4 * w, 4 * w, (5, 1), padding=(2, 0)),
            nn.Conv2d(4 * w, 1, (3, 1), padding=(1, 0)),
        ])

    def forward(self, x):
        b, c, t = x.shape
        x = F.pad(x, (0, (-t) % self.period), mode="reflect" if t > self.period else "constant")
        x = x.reshape(b, c, -1, self.period)
        return _feature_maps(self.layers, x)


class Discriminator(nn.Module):
    """Multi-scale (``scales``: average-pool factors) and multi-period (``periods``) waveform
    discriminator. ``forward(wav [B, C, T])`` -> one list of feature maps per sub-discriminator;
    the last map of each is its score."""

    def __init__(self, channels: int = 1, width: int = 16, scales=(1, 2, 4),
                 periods=(2, 3, 5, 7)):
        super().__init__()
        self.discriminators = nn.ModuleList(
            [_ScaleDiscriminator(channels, width, s) for s in scales]
            + [_PeriodDiscriminator(channels, width, p) for p in periods])

    def forward(self, wav):
        return [d(wav) for d in self.discriminators]


def discriminator_loss(real, fake) -> torch.Tensor:
    """Hinge loss of the discriminator: ``relu(1 - D(x)) + relu(1 + D(y))``, summed over the
    sub-discriminators (``real`` / ``fake``: outputs of :class:`Discriminator`)."""
    return sum(F.relu(1 - r[-1]).mean() + F.relu(1 + f[-1]).mean() for r, f in zip(real, fake))


def generator_loss(fake) -> torch.Tensor:
    """Hinge loss of the generator: ``-D(y)``, summed over the sub-discriminators."""
    return sum(-f[-1].mean() for f in fake)


def feature_matching(real, fake) -> torch.Tensor:
    """L1 distance of the discriminator's inner feature maps (real ones detached), relative to
    the real maps' mean magnitude, averaged per sub-discriminator and summed."""
    total = 0.0
    for r, f in zip(real, fake):
        maps = list(zip(r[:-1], f[:-1]))
        total = total + sum((a.detach() - b).abs().mean() / (a.detach().abs().mean() + 1e-5)
                            for a, b in maps) / len(maps)
    return total

