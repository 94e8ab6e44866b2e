"""HDiT: an Hourglass Diffusion Transformer that denoises piano-roll images, the model of
Pictures of MIDI (Hawley 2024), after Crowson et al. 2024, in plain torch (no NATTEN, no
k-diffusion: it runs on a laptop CPU).

Images are :mod:`symbolic.representations.pianoroll`'s (3 channels: red onsets, green
velocity, blue free; 128 pitches x one column per 16th note), scaled to [-1, 1]
(:func:`images_to_tensor`); Pictures of MIDI folds 128 x 512 windows (32 bars) into 256 x 256.

**Model** (:mod:`.model`, :class:`HDiT`). ``patch x patch`` pixels become one token; the
tokens stay a 2-D grid through a stack of levels, top (full resolution) to bottom: each upper
level runs its blocks, keeps a skip, and merges 2 x 2 tokens into one (linear); the bottom
level runs with global attention; on the way up each level splits 1 token into 2 x 2 (linear),
lerps with its skip by a learned per-channel factor and runs its blocks again. Blocks are
cosine-similarity self-attention (neighbourhood attention in the upper levels,
:func:`~symbolic.models.layers.neighborhood_attention`; axial rotary positions on half of each
head) and GEGLU feed-forward, each behind an AdaRMSNorm whose scale comes from the
conditioning vector. A mapping network makes that vector from Fourier features of the noise
level and an optional chord vector (``chord_dim``). The output layer starts at zero.

**Diffusion** (:mod:`.edm`): EDM's preconditioning (Karras et al. 2022, ``sigma_data`` 0.5),
training noise levels from a cosine-interpolated density, soft-min-SNR weighting. The model
reads 7 channels (noisy image, known pixels, mask) and writes 3: it is an inpainting model,
and unconditional generation is the case of a full mask.

The family's parts, in reading order: :mod:`.settings` (:class:`Settings`, the default
CPU-sized model and :meth:`Settings.pictures_of_midi`, the published 22M-parameter size),
:mod:`.model` (and :func:`load`), :mod:`.edm`, then training: :mod:`.corpus` (POP909 songs
as piano-roll note tables, windows, chord vectors), :mod:`.masks` (the training masks),
:mod:`.train` (:func:`train` over the shared loop, with an EMA; ``symbolic train hdit``), and
inpainting: :mod:`.generate` (:func:`inpaint` with the shared samplers of
:mod:`symbolic.models.sampling`; ``symbolic inpaint``). Shipped weights:
``symbolic/pretrained/hdit-pop909`` (the CPU default size, 1.03M parameters, 4000 steps in 54
min on one thread: ``symbolic train hdit --out symbolic/pretrained/hdit-pop909 --steps
4000``).
"""

from __future__ import annotations

from .edm import (
    SIGMA_DATA, SIGMA_MAX, SIGMA_MIN, denoise, edm_loss, loss_weight, noise_conditioning,
    scalings, training_sigmas,
)
from .model import HDiT, images_to_tensor, load, tensor_to_images
from .settings import Settings


def inpaint(score_or_image, mask=None, **kwargs):
    """Fill a region of a piano roll (see :func:`.generate.inpaint`; the sampling modules load
    on first use)."""
    from .generate import inpaint as _inpaint

    return _inpaint(score_or_image, mask, **kwargs)

__all__ = ["HDiT", "Settings", "load", "inpaint", "denoise", "edm_loss", "training_sigmas",
           "loss_weight", "scalings", "noise_conditioning", "images_to_tensor", "tensor_to_images",
           "SIGMA_DATA", "SIGMA_MIN", "SIGMA_MAX"]
