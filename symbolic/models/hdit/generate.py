"""Inpainting with HDiT: a region of a piano roll, drawn or given as bars x pitches, filled by
the model, every other pixel kept (Pictures of MIDI's demo, Hawley 2024).

:func:`inpaint` takes a score (or a file, a :class:`~symbolic.representations.pianoroll.
PianoRoll`, a bare ``uint8 [128, W, 3]`` image) and a mask: a bool ``[128, W]`` array, bars x
pitch ranges (:func:`~symbolic.representations.pianoroll.mask_from_ranges`), or a PNG drawn
over the piano roll where the pixels painted pure blue ``(0, 0, 255)``, within 48 per
channel, are the region (:data:`MASK_COLOUR`; a 256-row image is read as Pictures of MIDI's
folded layout and unfolded). The song is encoded merged at one column per 16th note, so the
result is one track (the image keeps no track identity).

**Windows.** The model sees windows of its own size (:func:`~.train.window_layout`); the
masked columns are covered by windows (:func:`window_starts`): one centred on the region
when it fits, else windows that overlap the previous one by an eighth, each filling what is
still masked with the earlier windows' results as known pixels.

**Sampling** (:func:`symbolic.models.sampling.sample_inpaint`): ``steps`` noise levels of
EDM's schedule (default 16 Heun steps, 31 network calls: on POP909's valid split Heun filled
masks closer to the real density than DPM-Solver++(2M) SDE and Euler at equal calls,
``benchmarks/results_eval_hdit_valid.txt``), the known region re-noised after every step
(RePaint), ``resample`` tries per step, ``candidates`` images drawn at once per window and
ranked by how close the share of sounding pixels inside the mask comes to ``busyness``
(None: to the share around the mask, in the same pitch rows outside it), or by a score of the
caller's (``rank``).

**Exactness.** Pixels outside the mask are copied back from the input, and the filled region
is cleaned into a decodable image (:func:`clean_region`): so decoding the result changes no
note whose pixels all lie outside the mask (a generated pixel that would extend a note ending
at the mask's left edge gets an onset of its own).

**Tracks** (:func:`keep_tracks`). From a score or a file, the returned score keeps the input's
tracks: every note none of whose steps lies in the region stays in its own track exactly as
it was (its ticks, not the 16th-note image's), drum tracks are kept whole (the image never
holds them), and the notes the image has in the region go to one new track,
:data:`INPAINTED_TRACK` (a note of the input that reached into the region is replaced by what
the image has there). ``merge=True`` returns the image decoded as one track instead, as
Pictures of MIDI does; from an image or a PNG the result is always that one track.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ... import checks
from ...errors import ArgumentError, ArgumentTypeError
from ...representations.pianoroll import (
    MERGED_TRACK, PITCHES, PianoRoll, decode, default_meta, fold, mask_from_image,
    mask_from_ranges, unfold,
)
from ..sampling import CONTINUOUS_STEPS, gaussian_like, karras_sigmas, sample_inpaint
from .edm import SIGMA_MAX, SIGMA_MIN, denoise
from .model import HDiT, images_to_tensor, load, tensor_to_images
from .train import window_layout

__all__ = ["inpaint", "inpaint_mask", "window_starts", "clean_region", "mask_fill",
           "keep_tracks", "touches", "MASK_COLOUR", "SOUND_MIN", "MAX_CANDIDATES",
           "INPAINTED_TRACK"]

#: The colour of a drawn mask (RGB), matched within 48 per channel.
MASK_COLOUR = (0, 0, 255)
#: Green at or above which a generated pixel sounds (velocity 12); below it is silence.
SOUND_MIN = 24
MAX_CANDIDATES = 256
#: Name and GM program of the track that holds the region's notes when the input's tracks are
#: kept (:func:`keep_tracks`).
INPAINTED_TRACK = ("Inpainted", 0)


# ------------------------------------------------------------------------------ inputs

def _as_roll(source, bar_ticks) -> PianoRoll:
    """A merged :class:`PianoRoll` from a roll, an image, a PNG, a score or a file."""
    from ...representations.pianoroll import encode, load_png

    if isinstance(source, PianoRoll):
        if not source.merged:
            raise ArgumentError("must be a merged piano roll ([128, W, 3])", "score_or_image")
        return source
    if isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim != 3 or source.shape[0] != PITCHES \
                or source.shape[2] != 3:
            raise ArgumentError(f"an image must be uint8 [128, W, 3], got {source.dtype} "
                                f"{source.shape}", "score_or_image")
        return PianoRoll(source, default_meta(source.shape[1]), [MERGED_TRACK])
    if isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() == ".png":
        return _as_roll(load_png(source), bar_ticks)
    import symusic

    if not isinstance(source, symusic.Score):
        if not isinstance(source, (str, os.PathLike, bytes)):
            raise ArgumentTypeError(f"must be a Score, a file, a PianoRoll or a uint8 image, "
                                    f"got {type(source).__name__}", "score_or_image")
        from ...io import load as load_score

        source = load_score(source)
    if bar_ticks is not None:
        bar_ticks = checks.bar_ticks("bar_ticks", bar_ticks)
    return encode(source, bar_ticks=bar_ticks)


def _as_score(source):
    """The symusic Score of a score or a MIDI/MusicXML/ABC file; None for a roll, an image or
    a PNG (what :func:`_as_roll` reads as a picture)."""
    import symusic

    if isinstance(source, symusic.Score):
        return source
    if isinstance(source, (str, os.PathLike, bytes)) and not (
            isinstance(source, (str, os.PathLike)) and Path(source).suffix.lower() == ".png"):
        from ...io import load as load_score

        return load_score(source)
    return None


def _range(value, name: str, low: int, high: int) -> tuple[int, int]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ArgumentError(f"must be a pair (first, last), got {value!r}", name)
    a, b = (checks.integer(name, v, low, high) for v in value)
    if a > b:
        raise ArgumentError(f"must have first <= last, got {tuple(value)}", name)
    return a, b


def inpaint_mask(roll: PianoRoll, mask=None, *, bars=None, pitches=None,
                 mask_png=None) -> np.ndarray:
    """bool ``[128, W]`` of the region to fill: ``mask`` (a bool array), or ``mask_png`` (a
    PNG path, bytes or RGB array drawn in :data:`MASK_COLOUR`; 256 rows: folded), or ``bars``
    (1-based, inclusive, of the roll's grid) x ``pitches`` (MIDI, inclusive), either of which
    may be left out (every bar / every pitch). Exactly one kind; an empty region is refused."""
    width = roll.width
    given = [k for k, v in (("mask", mask), ("mask_png", mask_png)) if v is not None]
    if bars is not None or pitches is not None:
        given.append("bars/pitches")
    if len(given) != 1:
        raise ArgumentError(f"give exactly one of mask, mask_png, bars/pitches; got "
                            f"{', '.join(given) or 'none'}", "mask")
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != bool:
            if not np.isin(m, (0, 1)).all():
                raise ArgumentError("must be a bool array (or 0/1)", "mask")
            m = m.astype(bool)
        name = "mask"
    elif mask_png is not None:
        m = mask_from_image(mask_png, MASK_COLOUR)
        m = unfold(m)[:, :width] if m.shape[0] == 2 * PITCHES else m
        name = "mask_png"
    else:
        n_bars = roll.grid.n_bars
        a, b = _range(bars, "bars", 1, n_bars) if bars is not None else (1, n_bars)
        lo, hi = _range(pitches, "pitches", 0, PITCHES - 1) if pitches is not None else (0, 127)
        m = mask_from_ranges(roll.grid, bars=(a - 1, b), pitches=(lo, hi))
        name = "bars" if bars is not None else "pitches"
    if m.shape != (PITCHES, width):
        raise ArgumentError(f"must cover the piano roll: shape (128, {width}), got {m.shape}",
                            name)
    if not m.any():
        raise ArgumentError("selects no pixel to fill", name)
    return m


def _check_options(steps, sampler, resample, candidates, busyness, seed):
    checks.integer("steps", steps, 1, 1000)
    checks.choice("sampler", sampler, tuple(CONTINUOUS_STEPS))
    checks.integer("resample", resample, 1, 100)
    checks.integer("candidates", candidates, 1, MAX_CANDIDATES)
    if busyness is not None:
        checks.number("busyness", busyness, 0.0, 1.0)
    checks.integer("seed", seed, 0, 2 ** 63 - 1)


# ------------------------------------------------------------------------------ pieces

def window_starts(columns: np.ndarray, steps: int) -> list[int]:
    """First steps of the windows of ``steps`` columns that cover the True ``columns``
    (bool ``[W]``): one centred on them when they fit, else a run of windows, each starting an
    eighth of a window before the first column the previous ones left uncovered. Starts are
    kept inside ``[0, max(W - steps, 0)]``."""
    idx = np.flatnonzero(columns)
    if not len(idx):
        return []
    last_start = max(len(columns) - steps, 0)
    a, b = int(idx[0]), int(idx[-1]) + 1
    if b - a <= steps:
        return [int(np.clip((a + b - steps) // 2, 0, last_start))]
    out, pos = [], a
    while pos < b:
        start = int(np.clip(pos - steps // 8, 0, last_start))
        out.append(start)
        pos = start + steps
    return out


def clean_region(image: np.ndarray, original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image`` (uint8 ``[..., 128, W, 3]``) with ``original``'s pixels outside ``mask``
    and, inside it, a decodable drawing: green below :data:`SOUND_MIN` silent, the rest made
    even; red 255 on sounding pixels whose red is at least 128, else 0; blue 0. A sounding
    pixel inside the mask right after the last pixel of a note outside it gets an onset, so
    no note outside the mask is lengthened (a note that ran on into the mask may be continued:
    it is part of the region)."""
    out = np.where(mask[..., None], image, original).astype(np.uint8)
    green = out[..., 1]
    sounding = mask & (green >= SOUND_MIN)
    out[..., 1] = np.where(mask, np.where(sounding, green & 0xFE, 0), green)
    red = np.where(sounding & (out[..., 0] >= 128), 255, 0)
    # a note outside the mask that ends at its left edge (the pixel after it, in the input,
    # is silent or an onset) must not run on into generated pixels
    left_out = np.zeros(np.broadcast_shapes(mask.shape, original.shape[:-1]), bool)
    left_out[..., 1:] = ~mask[..., :-1] & (original[..., :-1, 1] > 0)
    left_out &= (original[..., 1] == 0) | (original[..., 0] >= 128)
    red = np.where(sounding & left_out, 255, red)
    out[..., 0] = np.where(mask, red, out[..., 0])
    out[..., 2] = np.where(mask, 0, out[..., 2])
    return out


def mask_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Share of the mask's pixels that sound (green > 0), per image of ``[..., 128, W, 3]``."""
    sounding = (image[..., 1] > 0) & mask
    return sounding.sum((-2, -1)) / max(int(mask.sum()), 1)


def _target_fill(original: np.ndarray, mask: np.ndarray) -> float:
    """The share of sounding pixels around the mask: in its pitch rows, outside it (the whole
    window outside it when that is empty)."""
    around = mask.any(1)[:, None] & ~mask
    if not around.any():
        around = ~mask
    if not around.any():
        return 0.0
    return float(((original[..., 1] > 0) & around).sum() / around.sum())


def _step_chords(chords, roll: PianoRoll):
    """What the windows' conditioning comes from: None (no chords), a 12-vector (every
    window), or for 'auto' the chord recognized in the input score at every step (12-bit
    pitch-class masks, int64 ``[W]``; :func:`symbolic.harmony.recognize_chords`, per beat).
    The model was trained on POP909's annotated chords; recognized ones stand in for them."""
    if not isinstance(chords, str):
        return chords
    from ...harmony import recognize_chords

    seq = recognize_chords(decode(roll))
    index = seq.index_at(roll.grid.step_ticks()[:-1])
    masks = np.array([c.mask for c in seq.chords] + [0], np.int64)
    return masks[index]  # index -1 (no span): the appended 0


def _window_chords(chords, start: int, steps: int) -> np.ndarray:
    """The conditioning vector of the window of ``steps`` steps from ``start``: zeros, the
    given vector, or the share of the window's steps on which each pitch class is in the
    recognized chord (as :func:`~.corpus.chord_vector` from annotations in training)."""
    if chords is None:
        return np.zeros(12, np.float32)
    if chords.dtype != np.int64:
        return chords
    bits = (chords[start:start + steps, None] >> np.arange(12)[None, :]) & 1
    return (bits.sum(0) / steps).astype(np.float32)


def _chord_option(chords):
    if chords is None or (isinstance(chords, str) and chords == "auto"):
        return chords
    if isinstance(chords, str):
        raise ArgumentError(f"must be None, 'auto' or 12 numbers, got {chords!r}", "chords")
    try:
        v = np.asarray(chords, np.float32).reshape(-1)
    except (TypeError, ValueError):
        v = np.zeros(0)
    if v.shape != (12,) or not np.isfinite(v).all():
        raise ArgumentError(f"must be None, 'auto' or 12 numbers (a pitch-class profile), "
                            f"got {chords!r}", "chords")
    return v


# ------------------------------------------------------------------------------ tracks

NOTE_FIELDS = ("time", "duration", "pitch", "velocity")


def touches(notes, mask: np.ndarray, step_ticks: np.ndarray) -> np.ndarray:
    """bool per note (a symusic note array's ``numpy()`` dict): does any 16th-note step the
    note sounds in (partly counts) lie in ``mask`` (bool ``[128, W]``) on its pitch's row?
    One cumulative sum per row, no loop over notes."""
    time, end = notes["time"], notes["time"] + np.maximum(notes["duration"], 1)
    width = mask.shape[1]
    first = np.clip(np.searchsorted(step_ticks, time, "right") - 1, 0, width)
    last = np.clip(np.searchsorted(step_ticks, end, "left"), 0, width)
    counts = np.zeros((mask.shape[0], width + 1), np.int64)
    np.cumsum(mask, 1, out=counts[:, 1:])
    row = PITCHES - 1 - np.clip(notes["pitch"].astype(np.int64), 0, PITCHES - 1)
    return counts[row, np.maximum(last, first)] > counts[row, first]


def keep_tracks(score, roll: PianoRoll, region: np.ndarray, image: np.ndarray):
    """``score`` (symusic) with the notes that touch ``region`` (:func:`touches`, pitched
    tracks only) removed from their tracks, and the notes ``image`` decodes to there (on
    ``roll``'s grid) added as a new track :data:`INPAINTED_TRACK` (module docstring)."""
    import symusic

    steps = roll.grid.step_ticks()
    out = score.copy()
    for track in out.tracks:
        if track.is_drum or not len(track.notes):
            continue
        n = track.notes.numpy()
        keep = ~touches(n, region, steps)
        track.notes = symusic.Note.from_numpy(*(n[k][keep] for k in NOTE_FIELDS))
    drawn = decode(PianoRoll(image, roll.meta, roll.tracks)).tracks[0].notes.numpy()
    new = symusic.Track(INPAINTED_TRACK[0], INPAINTED_TRACK[1], False)
    inside = touches(drawn, region, steps)
    new.notes = symusic.Note.from_numpy(*(drawn[k][inside] for k in NOTE_FIELDS))
    out.tracks.append(new)
    return out


# ------------------------------------------------------------------------------ sampling

def _sample_window(net: HDiT, image, mask, cond, *, folded, steps, sampler, resample,
                   candidates, generator, device):
    """``candidates`` fillings (uint8 ``[N, 128, w, 3]``) of one window (``image`` ``[128, w,
    3]`` with ``mask`` ``[128, w]``, padded to the model's width)."""
    width = net.settings.image_size[1] * (2 if folded else 1)
    pad = width - image.shape[1]
    img = np.pad(image, [(0, 0), (0, pad), (0, 0)])
    m = np.pad(mask, [(0, 0), (0, pad)])
    if folded:
        img, m = fold(img), fold(m)
    known = images_to_tensor(img).to(device).expand(candidates, -1, -1, -1)
    mask_t = torch.as_tensor(m, device=device)[None, None].expand(candidates, 1, -1, -1)
    cond_t = None
    if net.settings.chord_dim:
        cond_t = torch.as_tensor(cond, device=device)[None].expand(candidates, -1)
    sigmas = karras_sigmas(steps, SIGMA_MIN, SIGMA_MAX, device=device)

    def denoiser(x, sigma):
        return denoise(net, x, sigma, cond_t, known=known, mask=mask_t)

    x = gaussian_like(known, generator) * sigmas[0]
    out = sample_inpaint(denoiser, x, sigmas, known, mask_t, sampler=sampler,
                         resample=resample, generator=generator)
    images = tensor_to_images(out)
    if folded:
        images = unfold(images)
    return images[:, :, :image.shape[1]]


def inpaint(score_or_image, mask=None, *, bars=None, pitches=None, mask_png=None,
            steps: int = 16, sampler: str = "heun", resample: int = 1,
            candidates: int = 1, busyness: float | None = None, rank=None, chords="auto",
            seed: int = 0, model=None, device: str = "auto", bar_ticks=None,
            merge: bool = False):
    """Fill a region of a piece's piano roll with HDiT; returns ``(score, image)``: the
    decoded result (one merged track, the input's tempos and bars) and its ``uint8 [128, W,
    3]`` image. See the module docstring for the mask (``mask`` / ``mask_png`` / ``bars`` x
    ``pitches``), the windows and the ranking of ``candidates`` (``busyness`` in [0, 1]: the
    wanted share of sounding pixels in the region; ``rank(image, mask) -> float``: any score,
    highest kept). ``chords``: the conditioning per window, 'auto' (recognized in the input),
    None (none) or a 12-vector. ``model``: an :class:`HDiT`, a folder or shipped name (None:
    the shipped ``hdit-pop909``). ``bar_ticks``: bar starts for a score whose meter is wrong
    (POP909: ``song.bar_ticks()``). ``seed`` fixes every draw (CPU generator). ``merge``:
    return the image decoded as one track even from a score (default: the input's tracks
    kept, the region's notes in a new track; module docstring)."""
    _check_options(steps, sampler, resample, candidates, busyness, seed)
    chords = _chord_option(chords)
    if rank is not None and not callable(rank):
        raise ArgumentTypeError(f"must be a function (image, mask) -> float, got {rank!r}",
                                "rank")
    if not isinstance(merge, bool):
        raise ArgumentTypeError(f"must be True or False, got {merge!r}", "merge")
    source = _as_score(score_or_image)
    roll = _as_roll(score_or_image if source is None else source, bar_ticks)
    region = inpaint_mask(roll, mask, bars=bars, pitches=pitches, mask_png=mask_png)
    from ...training import resolve_device

    dev = resolve_device(device)
    net = model.to(dev).eval() if isinstance(model, HDiT) else load(model, device=str(dev))
    width, folded = window_layout(net.settings)
    generator = torch.Generator().manual_seed(int(seed))
    chords = _step_chords(chords, roll)
    image, todo = roll.image.copy(), region.copy()
    for start in window_starts(region.any(0), width):
        cols = slice(start, start + width)
        m = todo[:, cols]
        if not m.any():
            continue
        found = _sample_window(net, image[:, cols], m, _window_chords(chords, start, width),
                               folded=folded, steps=steps, sampler=sampler, resample=resample,
                               candidates=candidates, generator=generator, device=dev)
        found = clean_region(found, image[None, :, cols], m)
        image[:, cols] = found[_best(found, image[:, cols], m, busyness, rank)]
        todo[:, cols] = False
    image = clean_region(image, roll.image, region)  # every pixel outside the region as given
    if source is not None and not merge:
        return keep_tracks(source, roll, region, image), image
    return decode(PianoRoll(image, roll.meta, roll.tracks)), image


def _best(found, original, mask, busyness, rank) -> int:
    """Index of the candidate to keep: the highest ``rank``, else the fill nearest the
    target (``busyness`` or the density around the mask); the first one on a tie."""
    if rank is not None:
        return int(np.argmax([float(rank(c, mask)) for c in found]))
    target = _target_fill(original, mask) if busyness is None else float(busyness)
    return int(np.argmin(np.abs(mask_fill(found, mask) - target)))
