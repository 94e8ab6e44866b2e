"""EDM's parameterisation of the denoiser (Karras et al. 2022), the training noise levels and
the loss: plain functions of tensors, the model passed in.

**Preconditioning.** With ``s = sigma_data`` (:data:`SIGMA_DATA`, 0.5: images in [-1, 1])
the denoiser is ``D(x; sigma) = c_skip x + c_out F(c_in x; c_noise)`` with
``c_skip = s^2 / (sigma^2 + s^2)``, ``c_out = sigma s / sqrt(sigma^2 + s^2)``,
``c_in = 1 / sqrt(sigma^2 + s^2)`` and ``c_noise = log(sigma) / 4``: the network's input and
its training target both have unit variance at every noise level.

**Noise levels in training** (:func:`training_sigmas`): the cosine-interpolated density
HDiT's configs use (k-diffusion ``image_transformer_v2``), defined here as follows. A truncated
cosine schedule shifted for resolution ratio ``r`` maps ``u`` in [0, 1] to
``sigma_r(u) = r s tan(a_r + u (b_r - a_r))`` with ``a_r = atan(sigma_min / (r s))`` and
``b_r = atan(sigma_max / (r s))``, so ``sigma_r(0) = sigma_min`` and ``sigma_r(1) =
sigma_max`` (:data:`SIGMA_MIN` 0.01, :data:`SIGMA_MAX` 160). ``r = 1`` is the plain cosine
schedule (the VP schedule ``alpha = cos``, ``sigma = sin`` in EDM's variance-exploding terms); a
larger ``r`` puts more of the draws at high noise, as an image ``r`` times larger needs to
destroy its coarse structure (Hoogeboom et al. 2023, "simple diffusion"). The density
interpolates between the schedule for the full image (``r = 1``) at the low-noise end and the
one for a 32-pixel image (``r = image_d / 32``) at the high-noise end, in log-sigma:
``log sigma(u) = (1 - u) log sigma_1(u) + u log sigma_{image_d/32}(u)``, ``u`` uniform. Why:
fine detail is learned at low noise at the full resolution's own schedule, while the draws
that teach global structure (where a 32-pixel image would already be mostly noise) are
shifted towards high noise; the interpolation keeps both ends at ``sigma_min`` and
``sigma_max``.

**Loss weighting** (:func:`loss_weight`): soft-min-SNR (Crowson et al. 2024). With the
data-normalised ``SNR = s^2 / sigma^2``, min-SNR-gamma weights the ``x0``-space error
``|D - x0|^2 / s^2`` by ``min(SNR, gamma)``; its soft version uses the harmonic form
``1 / (1 / SNR + 1 / gamma)``, with ``gamma = 1``: ``SNR / (SNR + 1) = s^2 / (sigma^2 +
s^2)``. So the ``D``-space weight is ``1 / (sigma^2 + s^2)``. The loss is computed on ``F``,
whose error is ``|D - x0|^2 / c_out^2``, so the ``F``-space weight is ``c_out^2 / (sigma^2 +
s^2) = (sigma s)^2 / (sigma^2 + s^2)^2``: small at both ends (no effort on pure noise, or on
the noiseless limit), 1/4 at ``sigma = s``.

**Inpainting.** The model reads the noisy image with the known (clean) pixels and the mask as
extra channels (3 + 3 + 1 = 7 in, 3 out): :func:`edm_loss` counts only the masked pixels, so
the model learns to fill a mask given what surrounds it (a full mask is unconditional
generation); :func:`denoise` returns the known pixels as they are where the mask is False.
"""

from __future__ import annotations

import math

import torch

__all__ = ["SIGMA_DATA", "SIGMA_MIN", "SIGMA_MAX", "NOISE_D_LOW", "scalings",
           "noise_conditioning", "denoise", "training_sigmas", "loss_weight", "edm_loss"]

SIGMA_DATA = 0.5
SIGMA_MIN, SIGMA_MAX = 0.01, 160.0
#: Image side (pixels) whose schedule the high-noise end of :func:`training_sigmas` follows.
NOISE_D_LOW = 32


def _column(sigma: torch.Tensor) -> torch.Tensor:
    return sigma.reshape(-1, 1, 1, 1)


def scalings(sigma: torch.Tensor, sigma_data: float = SIGMA_DATA):
    """``(c_skip, c_out, c_in)`` for noise levels ``sigma`` (any shape, same shape out)."""
    total = sigma ** 2 + sigma_data ** 2
    return sigma_data ** 2 / total, sigma * sigma_data / total.sqrt(), total.rsqrt()


def noise_conditioning(sigma: torch.Tensor) -> torch.Tensor:
    """EDM's ``c_noise = log(sigma) / 4``, what the network sees of the noise level."""
    return sigma.log() / 4


def denoise(model, x_noisy: torch.Tensor, sigma, cond=None, *, known=None, mask=None):
    """``D(x) = c_skip x + c_out F(c_in x, c_noise)``: the denoised estimate ``[B, C, H, W]``
    of ``x_noisy`` at noise levels ``sigma`` (``[B]`` or a number). For inpainting, ``known``
    (``[B, C, H, W]``, clean) and ``mask`` (bool ``[B, 1, H, W]``, True: to fill) go to the
    model, and the result keeps ``known`` where the mask is False."""
    sigma = torch.as_tensor(sigma, dtype=x_noisy.dtype, device=x_noisy.device)
    sigma = sigma.expand(x_noisy.shape[0])
    c_skip, c_out, c_in = (_column(c) for c in scalings(sigma))
    out = model(x_noisy * c_in, sigma, cond, known=known, mask=mask)
    d = c_skip * x_noisy + c_out * out
    if known is not None and mask is not None:
        d = torch.where(mask, d, known.to(d.dtype))
    return d


def _shifted_cosine(u: torch.Tensor, ratio: float, sigma_min: float, sigma_max: float):
    """log sigma of the truncated cosine schedule shifted for resolution ratio ``ratio``."""
    scale = ratio * SIGMA_DATA
    lo, hi = math.atan(sigma_min / scale), math.atan(sigma_max / scale)
    return torch.log(scale * torch.tan(lo + u * (hi - lo)))


def training_sigmas(n: int, image_d: int, *, generator=None, device=None,
                    sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX) -> torch.Tensor:
    """``n`` noise levels drawn from the cosine-interpolated density for images of side
    ``image_d`` pixels (module docstring), within ``[sigma_min, sigma_max]``."""
    u = torch.rand(n, generator=generator, dtype=torch.float64,
                   device=generator.device if generator is not None else device)
    high_res = _shifted_cosine(u, 1.0, sigma_min, sigma_max)
    low_res = _shifted_cosine(u, image_d / NOISE_D_LOW, sigma_min, sigma_max)
    sigma = torch.lerp(high_res, low_res, u).exp().clamp(sigma_min, sigma_max)
    return sigma.float().to(device) if device is not None else sigma.float()


def loss_weight(sigma: torch.Tensor, sigma_data: float = SIGMA_DATA) -> torch.Tensor:
    """Soft-min-SNR weight of the ``F``-space squared error: ``(sigma s)^2 / (sigma^2 +
    s^2)^2`` (module docstring), equal to ``1 / (sigma^2 + s^2)`` on the ``D``-space error."""
    return (sigma * sigma_data) ** 2 / (sigma ** 2 + sigma_data ** 2) ** 2


def edm_loss(model, x_clean: torch.Tensor, cond=None, mask=None, generator=None,
             sigma=None) -> torch.Tensor:
    """The training loss of one batch ``x_clean`` ``[B, C, H, W]`` (pixels in [-1, 1]):
    noise levels from :func:`training_sigmas` (or the given ``sigma`` ``[B]``), Gaussian
    noise, the soft-min-SNR weighted squared error of ``F`` against its EDM target
    ``(x0 - c_skip x_noisy) / c_out``, averaged over the pixels of ``mask`` (bool ``[B, 1, H,
    W]``, True: to fill; None: all) in each image, then over the batch (an image with an
    empty mask adds 0). The pixels outside the mask are given to the model clean (``known``).
    ``generator`` makes the draws repeatable."""
    b, c, h, w = x_clean.shape
    dev = generator.device if generator is not None else x_clean.device
    if sigma is None:
        sigma = training_sigmas(b, max(h, w), generator=generator, device=dev)
    sigma = sigma.to(x_clean.device, x_clean.dtype)
    noise = torch.randn(x_clean.shape, generator=generator, device=dev).to(x_clean)
    x_noisy = x_clean + _column(sigma) * noise
    c_skip, c_out, c_in = (_column(v) for v in scalings(sigma))
    if mask is None:
        mask = torch.ones_like(x_clean[:, :1], dtype=torch.bool)
    mask = mask.bool().expand(b, 1, h, w)
    out = model(x_noisy * c_in, sigma, cond, known=x_clean, mask=mask)
    target = (x_clean - c_skip * x_noisy) / c_out
    err = ((out - target) ** 2 * mask).sum((1, 2, 3)) / (c * mask.sum((1, 2, 3)).clamp(min=1))
    return (loss_weight(sigma) * err).mean()
