"""A General MIDI synthesizer in torch, batched over every note of every file at once.

``Synth(sample_rate).render(notes) -> Tensor[B, C, T]`` (``notes`` a
:class:`~symbolic.audio.notes.NoteBatch`); :func:`render_synth` takes Scores and has the
signature every renderer shares (:mod:`~symbolic.audio.rendering`).

**Pitched notes: band-limited wavetables.** Each of the 128 GM programs maps to one of the
:data:`PATCHES` (piano, chromatic percussion, organ, guitar, distorted guitar, bass, synth bass,
bowed strings, pizzicato, harp, timpani, string ensemble, choir, brass, saxophone, double reed,
clarinet, flute, square lead, saw lead, pad, bell pad, soft sine): see :data:`PROGRAM_PATCH`.
A patch is a harmonic recipe (amplitude of harmonic ``k``: sawtooth ``1/k``, odd harmonics,
a plucked or struck string ``|sin(pi k b)| / k^p``, organ drawbars...) shaped by a spectral
envelope over absolute frequency (a 12 dB/octave low-pass, plus formant bumps for voices, brass
and reeds: formants stay put while the pitch moves, as in the real instruments). Every patch has
two tables per MIDI pitch, a *bright* one (attack) and a *dark* one (sustain), crossfaded with
``exp(-t / bright_time)`` scaled by velocity, so plucked and struck sounds lose their high
harmonics as they ring and loud notes are brighter. Harmonics at or above 0.45 x the sample
rate are left out of each pitch's table, so nothing aliases. Tables are ``2**11`` samples,
read with linear interpolation; the phase is exact 32-bit fixed point at the start of every
512-sample segment and advances in float32 inside it (error below 1e-4 of a table sample).
Strings, voices, winds and brass get a delayed vibrato; ensembles, choirs, organ and pads a
second voice detuned by a few cents (chorus).

**Envelopes.** Per patch: attack (linear, seconds), a two-stage decay (to ``sustain`` with time
constant ``decay``, then the sustain level itself decays with time constant ``decay2``; infinity
holds it, as an organ does), and a release (seconds to -60 dB after the note-off). Decays of
struck and plucked patches shorten with pitch (``decay_track``: the factor per octave up).
A note sounds for ``min(duration, decayed) + release``; notes shorter than 30 ms are held for
30 ms. Velocity ``v`` scales amplitude by ``(v/127)**2`` (the DLS curve, 40 dB of range) and
brightness by ``0.4 + 0.6 v/127``.

**Drums** (``is_drum`` tracks; the note's pitch picks the GM sound, 27-87; others click) play
one-shot samples synthesized once per Synth from seeded noise and pitched decays
(:data:`DRUM_SOUNDS`): kicks and toms are sines with an exponential pitch drop, snares a tone
plus band-passed noise, hi-hats and cymbals band-passed noise plus inharmonic square-wave
partials, claps noise bursts, cowbell, agogo, woodblocks and triangles pitched partials.
Each sound has three noise variants (the bank's noise comes from a ``torch.Generator``
seeded with ``seed``); a hash of the hit and the seed picks the variant. GM's exclusive
classes are honoured: a closed or pedal hi-hat chokes a ringing open hi-hat (also whistles,
guiros, cuicas, triangles, surdos).

**Mixing.** Each note's sounding samples are cut into segments of :data:`SEGMENT` (512)
samples; the segments of all notes of all files are stacked as rows of ``[n, 512]`` blocks of
about ``chunk`` samples (to bound memory), each row broadcasting its note's parameters, and
every block is computed elementwise and added with ``index_add_`` into the flattened
``[B * C * T]`` output. Cost is proportional to the samples actually sounding (plus half a
segment per note), not to ``B x T x notes``. Pitched notes are processed in up to four groups
(with or without vibrato, with or without chorus), drums in one. ``compile=True`` wraps the
per-segment kernels in ``torch.compile`` (one fused loop per group; the first call pays the
compilation, about 15-60 s on two CPU cores); eager runs the same arithmetic (results agree
to float rounding).

**Output.** ``Tensor[B, C, T]`` float32 on the synth's device. ``C = 1``, or ``C = 2`` with
constant-power panning: a track's CC 10 when it sets one, else a pan spread by program (pianos,
basses and leads centred) and by drum sound (hi-hats right, toms left to right).
Loudness (``normalize``): by default each file is **peak normalized** to 0.9 (about -1 dBFS), so
nothing clips whatever the polyphony; a silent file stays all zeros. ``normalize=False`` applies
the fixed gain :data:`FIXED_GAIN` instead (comparable levels across files; dense passages can
exceed 1.0, and :func:`~symbolic.audio.dsp.write_wav` then clips).

**Determinism.** The only randomness is the drum noise, drawn from a ``torch.Generator``
seeded with ``seed``, and the variant hash: the same notes, seed, sample rate and device give
the same samples (on CUDA, ``index_add_`` adds in an unspecified order, so the last bit of
float rounding may differ between runs).

**Not modelled.** Pitch bend, modulation wheel, volume/expression controllers, reverb, drum-kit
programs (every drum track plays the one kit), true inharmonic partials of bells and pianos.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import torch

from ..training import resolve_device
from .notes import NoteBatch, check_in_memory, notes_from_scores

__all__ = ["Synth", "render_synth", "Patch", "PATCHES", "PROGRAM_PATCH", "DRUM_SOUNDS",
           "PITCH_DRUM", "FIXED_GAIN", "PEAK", "cached_synth"]

TABLE_BITS = 11
TABLE_SIZE = 1 << TABLE_BITS
_PHASE_BITS = 32
_FRAC_BITS = _PHASE_BITS - TABLE_BITS
_PHASE_MASK = (1 << _PHASE_BITS) - 1
_FRAC_MASK = (1 << _FRAC_BITS) - 1
_LN1000 = math.log(1000.0)  # time constants -> time to -60 dB
MIN_GATE = 0.03             # seconds a pitched note is held at least
PEAK = 0.9                  # peak of each file after normalization
FIXED_GAIN = 0.15           # gain of the mix when normalize=False
MAX_HARMONIC_FRACTION = 0.45  # harmonics at or above this fraction of the rate are left out


# ---------------------------------------------------------------- pitched instruments


@dataclass(frozen=True)
class Patch:
    """One pitched instrument sound.

    ``harmonics(k) -> amplitude`` of harmonic ``k`` (a float64 tensor 1, 2, ...); the spectral
    envelope multiplies it by a low-pass at ``bright_cut`` (attack table) or ``dark_cut``
    (sustain table) Hz and by ``1 + g exp(-((f - hz) / bw)**2)`` for each formant
    ``(hz, bw, g)``. Times are seconds; ``decay``/``decay2``/``bright_time`` are time
    constants, ``release`` the time to -60 dB. ``gain`` balances patches against each other.
    """

    name: str
    harmonics: Callable
    bright_cut: float
    dark_cut: float
    formants: tuple = ()
    attack: float = 0.005
    decay: float = 0.2
    sustain: float = 1.0
    decay2: float = math.inf
    release: float = 0.1
    bright_time: float = 0.2
    decay_track: float = 1.0
    vibrato_cents: float = 0.0
    vibrato_hz: float = 5.5
    vibrato_delay: float = 0.25
    chorus_cents: float = 0.0
    chorus_gain: float = 0.0
    gain: float = 0.5


def _saw(k):
    return 1.0 / k


def _square(k):
    return (k % 2 == 1).to(k.dtype) / k


def _clarinet(k):
    return torch.where(k % 2 == 1, 1.0 / k, 0.08 / k)


def _string(where: float, power: float):
    """A string struck or plucked at ``where`` of its length: harmonics at multiples of
    ``1/where`` vanish; ``power`` sets the slope (1 struck, 2 plucked)."""
    def amps(k):
        return torch.abs(torch.sin(math.pi * k * where)) / k ** power + 1e-3 / k ** 2
    return amps


def _partials(weights: dict):
    """Explicit amplitudes of a few harmonics (organ drawbars, bars, flutes)."""
    def amps(k):
        a = torch.zeros_like(k)
        for h, w in weights.items():
            a = torch.where(k == h, torch.as_tensor(w, dtype=k.dtype), a)
        return a
    return amps


_AH = ((730.0, 140.0, 8.0), (1150.0, 160.0, 4.0), (2600.0, 260.0, 2.0))  # sung "ah"

PATCHES: dict[str, Patch] = {p.name: p for p in (
    Patch("piano", _string(1 / 7.7, 1.5), 4000, 1100, attack=0.002, decay=0.45,
          sustain=0.35, decay2=3.5, release=0.35, bright_time=0.25, decay_track=0.65,
          gain=0.6),
    Patch("chromatic", _partials({1: 1.0, 2: 0.08, 3: 0.2, 4: 0.35, 6: 0.05, 10: 0.12}),
          9000, 3000, attack=0.001, decay=0.25, sustain=0.4, decay2=1.4, release=0.5,
          bright_time=0.06, decay_track=0.6, gain=0.5),
    Patch("organ", _partials({1: 1.0, 2: 0.7, 3: 0.45, 4: 0.45, 5: 0.15, 6: 0.3, 8: 0.3}),
          9000, 9000, attack=0.008, decay=0.05, sustain=1.0, release=0.08,
          chorus_cents=6, chorus_gain=0.4, gain=0.35),
    Patch("guitar", _string(1 / 5.3, 1.4), 6000, 1500, attack=0.001, decay=0.5,
          sustain=0.3, decay2=2.5, release=0.15, bright_time=0.15, decay_track=0.6,
          gain=0.55),
    Patch("overdrive", lambda k: 1.0 / k ** 0.7, 4000, 2800, attack=0.004, decay=0.3,
          sustain=0.7, decay2=6.0, release=0.12, vibrato_cents=6, vibrato_delay=0.4,
          chorus_cents=8, chorus_gain=0.5, gain=0.3),
    Patch("bass", lambda k: torch.where(k == 2, 0.7, 1.0 / k ** 1.5), 2500, 700,
          attack=0.003, decay=0.5, sustain=0.5, decay2=3.0, release=0.1, bright_time=0.1,
          decay_track=0.8, gain=0.75),
    Patch("synth_bass", _saw, 3000, 800, attack=0.003, decay=0.3, sustain=0.7, release=0.08,
          bright_time=0.15, gain=0.5),
    Patch("strings", _saw, 5000, 4000, ((280.0, 120.0, 1.5), (3000.0, 800.0, 1.0)),
          attack=0.08, decay=0.2, sustain=0.85, release=0.3, vibrato_cents=12,
          vibrato_delay=0.15, gain=0.35),
    Patch("pizzicato", _string(0.3, 2.0), 3500, 1200, attack=0.001, decay=0.15, sustain=0.2,
          decay2=0.6, release=0.1, bright_time=0.05, gain=0.7),
    Patch("harp", _string(0.5, 2.0), 4000, 1500, attack=0.001, decay=0.5, sustain=0.3,
          decay2=2.5, release=0.6, bright_time=0.1, decay_track=0.6, gain=0.7),
    Patch("timpani", _partials({1: 1.0, 2: 0.5, 3: 0.3, 4: 0.1}), 2000, 800, attack=0.002,
          decay=0.5, sustain=0.2, decay2=1.5, release=0.5, bright_time=0.05, gain=0.8),
    Patch("ensemble", _saw, 4500, 3000, attack=0.15, decay=0.3, sustain=0.9, release=0.5,
          vibrato_cents=8, vibrato_delay=0.2, chorus_cents=10, chorus_gain=0.8, gain=0.25),
    Patch("choir", _saw, 3500, 3500, _AH, attack=0.12, decay=0.3, sustain=0.9, release=0.4,
          vibrato_cents=10, vibrato_delay=0.2, chorus_cents=8, chorus_gain=0.7, gain=0.25),
    Patch("brass", lambda k: 1.0 / k ** 0.8, 2500, 4500, ((1200.0, 500.0, 3.0),),
          attack=0.04, decay=0.2, sustain=0.8, release=0.15, bright_time=0.12,
          vibrato_cents=6, vibrato_delay=0.3, gain=0.3),
    Patch("sax", lambda k: 1.0 / k ** 0.9, 4000, 4000, ((1500.0, 600.0, 2.0),), attack=0.03,
          decay=0.2, sustain=0.85, release=0.12, vibrato_cents=10, vibrato_delay=0.2,
          gain=0.35),
    Patch("double_reed", lambda k: 1.0 / k ** 0.7, 5000, 5000, ((1100.0, 250.0, 5.0),),
          attack=0.03, decay=0.2, sustain=0.85, release=0.1, vibrato_cents=8,
          vibrato_delay=0.2, gain=0.3),
    Patch("clarinet", _clarinet, 3500, 3500, attack=0.03, decay=0.2, sustain=0.9,
          release=0.1, gain=0.45),
    Patch("flute", _partials({1: 1.0, 2: 0.25, 3: 0.1, 4: 0.04}), 6000, 6000, attack=0.05,
          decay=0.2, sustain=0.9, release=0.12, vibrato_cents=8, vibrato_hz=5.0,
          vibrato_delay=0.2, gain=0.5),
    Patch("square_lead", _square, 6000, 6000, attack=0.005, decay=0.2, sustain=0.9,
          release=0.08, gain=0.3),
    Patch("saw_lead", _saw, 6000, 5000, attack=0.005, decay=0.2, sustain=0.9, release=0.08,
          vibrato_cents=6, vibrato_delay=0.3, gain=0.3),
    Patch("pad", _saw, 900, 1600, attack=0.3, decay=0.5, sustain=1.0, release=1.2,
          bright_time=1.0, chorus_cents=12, chorus_gain=1.0, gain=0.3),
    Patch("bell_pad", _partials({1: 1.0, 2: 0.3, 3: 0.2, 5: 0.15, 7: 0.1}), 8000, 3000,
          attack=0.01, decay=0.6, sustain=0.5, release=1.0, bright_time=0.3,
          chorus_cents=7, chorus_gain=0.6, gain=0.35),
    Patch("sine", _partials({1: 1.0, 2: 0.1}), 8000, 8000, attack=0.02, decay=0.3,
          sustain=0.8, release=0.3, gain=0.5),
)}

_PATCH_NAMES = list(PATCHES)
_PROGRAM_SPANS = (  # (first program, last program, patch): GM families, a few split
    (0, 7, "piano"), (8, 15, "chromatic"), (16, 23, "organ"), (24, 28, "guitar"),
    (29, 30, "overdrive"), (31, 31, "guitar"), (32, 37, "bass"), (38, 39, "synth_bass"),
    (40, 44, "strings"), (45, 45, "pizzicato"), (46, 46, "harp"), (47, 47, "timpani"),
    (48, 51, "ensemble"), (52, 54, "choir"), (55, 55, "brass"), (56, 63, "brass"),
    (64, 67, "sax"), (68, 70, "double_reed"), (71, 71, "clarinet"), (72, 79, "flute"),
    (80, 80, "square_lead"), (81, 81, "saw_lead"), (82, 82, "flute"), (83, 84, "saw_lead"),
    (85, 85, "choir"), (86, 87, "saw_lead"), (88, 95, "pad"), (96, 103, "bell_pad"),
    (104, 107, "guitar"), (108, 108, "chromatic"), (109, 109, "double_reed"),
    (110, 110, "strings"), (111, 111, "double_reed"), (112, 114, "chromatic"),
    (115, 115, "chromatic"), (116, 118, "timpani"), (119, 119, "pad"), (120, 127, "sine"),
)
PROGRAM_PATCH: tuple = tuple(next(name for lo, hi, name in _PROGRAM_SPANS if lo <= p <= hi)
                             for p in range(128))
"""The patch name each GM program (0-127) plays."""

_CENTRED = {"piano", "bass", "synth_bass", "square_lead", "saw_lead"}


def _program_pan(program: int) -> float:
    if PROGRAM_PATCH[program] in _CENTRED:
        return 0.0
    return 0.45 * (((program * 5) % 9) - 4) / 4


def _spectral_envelope(f, cut, formants):
    env = 1.0 / torch.sqrt(1.0 + (f / cut) ** 4)
    for hz, bw, g in formants:
        env = env * (1.0 + g * torch.exp(-(((f - hz) / bw) ** 2)))
    return env


@functools.lru_cache(maxsize=4)
def build_wavetables(sample_rate: int) -> torch.Tensor:
    """Tables ``[2, len(PATCHES) * 128, TABLE_SIZE]`` float32 (bright, dark), one row per
    (patch, MIDI pitch), each of unit RMS (zero where the pitch itself is above the limit)."""
    k = torch.arange(1, TABLE_SIZE // 2, dtype=torch.float64)
    f0 = 440.0 * 2.0 ** ((torch.arange(128, dtype=torch.float64) - 69) / 12)
    f = f0[:, None] * k[None, :]
    keep = f < MAX_HARMONIC_FRACTION * sample_rate
    out = torch.zeros(2, len(PATCHES), 128, TABLE_SIZE, dtype=torch.float64)
    for j, patch in enumerate(PATCHES.values()):
        base = patch.harmonics(k)[None, :] * keep
        for side, cut in enumerate((patch.bright_cut, patch.dark_cut)):
            amps = base * _spectral_envelope(f, cut, patch.formants)
            spec = torch.zeros(128, TABLE_SIZE // 2 + 1, dtype=torch.complex128)
            spec[:, 1:TABLE_SIZE // 2] = -1j * amps * (TABLE_SIZE / 2)  # sine series
            wave = torch.fft.irfft(spec, n=TABLE_SIZE)
            rms = torch.sqrt((amps ** 2).sum(1, keepdim=True) / 2)
            out[side, j] = torch.where(rms > 0, wave / rms.clamp_min(1e-12), 0.0)
    return out.reshape(2, len(PATCHES) * 128, TABLE_SIZE).float()


# ---------------------------------------------------------------- drums
# A sound: (seconds, gain, pan, components). Components:
#   ("tone", f_start, f_end, sweep_tau, decay_tau, amp)      sine with exponential glide
#   ("noise", lo_hz, hi_hz, decay_tau, amp, opts)             band-passed white noise
#   ("metal", freqs, lo_hz, hi_hz, decay_tau, amp)            band-passed square partials
# opts: {"attack": s, "bursts": (t0, t1, ...), "am": hz}

_HATS = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)  # inharmonic square waves, 808-style


def _tom(hz, decay):
    return (1.6, 0.65, 0.0, (("tone", hz * 1.35, hz, 0.08, decay, 1.0),
                            ("noise", 100, 1500, 0.03, 0.1, {})))


DRUM_SOUNDS: dict[str, tuple] = {
    "high_q": (0.1, 0.5, 0.0, (("tone", 1500, 300, 0.01, 0.03, 1.0),)),
    "slap": (0.1, 0.5, 0.0, (("noise", 1000, 6000, 0.02, 1.0, {"bursts": (0, 0.008)}),)),
    "scratch_push": (0.2, 0.4, 0.0, (("noise", 500, 3000, 0.08, 1.0, {"am": 30}),)),
    "scratch_pull": (0.25, 0.4, 0.0, (("noise", 400, 2500, 0.1, 1.0, {"am": 20}),)),
    "sticks": (0.1, 0.5, 0.1, (("tone", 2000, 2000, 1, 0.015, 1.0),
                                ("noise", 2000, 8000, 0.01, 0.5, {}))),
    "square_click": (0.05, 0.4, 0.0, (("metal", (1000.0,), 500, 8000, 0.005, 1.0),)),
    "metronome_click": (0.05, 0.4, 0.0, (("tone", 1800, 1800, 1, 0.01, 1.0),)),
    "metronome_bell": (0.6, 0.4, 0.0, (("tone", 2600, 2600, 1, 0.15, 1.0),
                                       ("tone", 6100, 6100, 1, 0.1, 0.4))),
    "kick_acoustic": (0.9, 1.0, 0.0, (("tone", 100, 45, 0.05, 0.22, 1.0),
                                      ("noise", 20, 2500, 0.01, 0.15, {}))),
    "kick": (0.8, 1.0, 0.0, (("tone", 140, 50, 0.035, 0.18, 1.0),
                             ("noise", 1000, 5000, 0.005, 0.2, {}))),
    "side_stick": (0.15, 0.5, 0.0, (("tone", 520, 520, 1, 0.02, 1.0),
                                    ("noise", 1000, 7000, 0.015, 0.6, {}))),
    "snare": (0.5, 0.8, 0.0, (("tone", 200, 180, 0.02, 0.06, 0.6),
                              ("tone", 330, 330, 1, 0.04, 0.3),
                              ("noise", 1200, 9000, 0.14, 1.0, {}))),
    "clap": (0.4, 0.6, 0.0, (("noise", 700, 4000, 0.12, 1.0,
                              {"bursts": (0, 0.01, 0.02, 0.03)}),)),
    "snare_electric": (0.4, 0.8, 0.0, (("tone", 230, 200, 0.02, 0.05, 0.6),
                                       ("noise", 2000, 10000, 0.1, 1.1, {}))),
    "low_floor_tom": _tom(70, 0.45), "high_floor_tom": _tom(82, 0.42),
    "low_tom": _tom(98, 0.38), "low_mid_tom": _tom(115, 0.35),
    "hi_mid_tom": _tom(135, 0.32), "high_tom": _tom(160, 0.3),
    "hihat_closed": (0.25, 0.5, 0.3, (("metal", _HATS, 6000, 16000, 0.04, 0.8),
                                       ("noise", 7000, 16000, 0.035, 0.6, {}))),
    "hihat_pedal": (0.3, 0.4, 0.3, (("metal", _HATS, 5000, 14000, 0.06, 0.6),
                                    ("noise", 6000, 14000, 0.05, 0.4, {}))),
    "hihat_open": (1.5, 0.45, 0.3, (("metal", _HATS, 6000, 16000, 0.35, 0.8),
                                    ("noise", 7000, 16000, 0.3, 0.6, {}))),
    "crash": (3.0, 0.45, -0.4, (("noise", 3000, 16000, 0.9, 1.0, {}),
                                ("metal", _HATS, 4000, 15000, 0.7, 0.6))),
    "crash2": (3.0, 0.45, 0.4, (("noise", 2500, 15000, 1.1, 1.0, {}),
                                ("metal", _HATS, 3500, 14000, 0.8, 0.6))),
    "ride": (2.5, 0.35, 0.35, (("metal", _HATS, 3000, 15000, 0.8, 1.0),
                               ("noise", 5000, 15000, 0.5, 0.3, {}))),
    "ride2": (2.5, 0.35, 0.35, (("metal", _HATS, 2800, 14000, 0.9, 1.0),
                                ("noise", 4500, 14000, 0.6, 0.3, {}))),
    "ride_bell": (2.0, 0.35, 0.35, (("tone", 740, 740, 1, 0.8, 1.0),
                                    ("tone", 1810, 1810, 1, 0.6, 0.5),
                                    ("metal", _HATS, 3000, 12000, 0.5, 0.4))),
    "chinese": (2.0, 0.4, -0.3, (("noise", 1500, 8000, 0.6, 1.0, {}),
                                 ("metal", _HATS, 2000, 9000, 0.5, 0.5))),
    "splash": (1.2, 0.4, 0.2, (("noise", 4000, 16000, 0.35, 1.0, {}),
                               ("metal", _HATS, 5000, 15000, 0.3, 0.5))),
    "tambourine": (0.6, 0.4, 0.2, (("noise", 5000, 14000, 0.15, 1.0,
                                    {"bursts": (0, 0.015, 0.03)}),
                                   ("metal", _HATS, 6000, 14000, 0.12, 0.5))),
    "cowbell": (0.5, 0.4, 0.1, (("metal", (560.0, 845.0), 400, 4000, 0.12, 1.0),)),
    "vibraslap": (1.2, 0.4, 0.0, (("noise", 1500, 6000, 0.5, 1.0, {"am": 28}),)),
    "hi_bongo": (0.4, 0.5, 0.25, (("tone", 420, 400, 0.01, 0.1, 1.0),
                                  ("noise", 1000, 5000, 0.01, 0.1, {}))),
    "low_bongo": (0.5, 0.5, 0.15, (("tone", 300, 285, 0.01, 0.14, 1.0),
                                   ("noise", 1000, 5000, 0.01, 0.1, {}))),
    "mute_hi_conga": (0.3, 0.5, -0.1, (("tone", 330, 330, 1, 0.05, 1.0),
                                       ("noise", 800, 4000, 0.01, 0.15, {}))),
    "open_hi_conga": (0.8, 0.5, -0.1, (("tone", 350, 330, 0.02, 0.25, 1.0),)),
    "low_conga": (0.9, 0.5, -0.2, (("tone", 240, 220, 0.02, 0.3, 1.0),)),
    "high_timbale": (0.8, 0.5, 0.3, (("tone", 480, 480, 1, 0.25, 1.0),
                                     ("tone", 1230, 1230, 1, 0.2, 0.3),
                                     ("noise", 2000, 8000, 0.02, 0.3, {}))),
    "low_timbale": (0.9, 0.5, 0.2, (("tone", 330, 330, 1, 0.3, 1.0),
                                    ("tone", 850, 850, 1, 0.2, 0.3),
                                    ("noise", 2000, 8000, 0.02, 0.3, {}))),
    "high_agogo": (0.9, 0.4, 0.2, (("tone", 910, 910, 1, 0.35, 1.0),
                                   ("tone", 2450, 2450, 1, 0.2, 0.4))),
    "low_agogo": (0.9, 0.4, 0.1, (("tone", 680, 680, 1, 0.35, 1.0),
                                  ("tone", 1830, 1830, 1, 0.2, 0.4))),
    "cabasa": (0.25, 0.35, 0.3, (("noise", 4000, 14000, 0.06, 1.0, {"attack": 0.01}),)),
    "maracas": (0.2, 0.35, -0.3, (("noise", 5000, 15000, 0.04, 1.0, {"attack": 0.003}),)),
    "short_whistle": (0.12, 0.35, 0.0, (("tone", 2350, 2350, 1, 10.0, 1.0),)),
    "long_whistle": (0.5, 0.35, 0.0, (("tone", 2350, 2350, 1, 10.0, 1.0),)),
    "short_guiro": (0.12, 0.4, 0.0, (("noise", 1500, 6000, 1.0, 1.0, {"am": 45}),)),
    "long_guiro": (0.35, 0.4, 0.0, (("noise", 1500, 6000, 1.0, 1.0, {"am": 35}),)),
    "claves": (0.2, 0.5, 0.2, (("tone", 2500, 2500, 1, 0.025, 1.0),)),
    "hi_woodblock": (0.2, 0.5, 0.3, (("tone", 1250, 1250, 1, 0.035, 1.0),
                                     ("tone", 3400, 3400, 1, 0.02, 0.3))),
    "low_woodblock": (0.2, 0.5, 0.2, (("tone", 900, 900, 1, 0.04, 1.0),
                                      ("tone", 2500, 2500, 1, 0.02, 0.3))),
    "mute_cuica": (0.3, 0.4, 0.0, (("tone", 560, 400, 0.05, 0.1, 1.0),)),
    "open_cuica": (0.6, 0.4, 0.0, (("tone", 350, 520, 0.08, 0.25, 1.0),)),
    "mute_triangle": (0.3, 0.3, 0.4, (("tone", 4500, 4500, 1, 0.08, 1.0),
                                      ("tone", 6500, 6500, 1, 0.06, 0.5),
                                      ("tone", 8200, 8200, 1, 0.05, 0.3))),
    "open_triangle": (2.5, 0.3, 0.4, (("tone", 4500, 4500, 1, 1.2, 1.0),
                                      ("tone", 6500, 6500, 1, 0.9, 0.5),
                                      ("tone", 8200, 8200, 1, 0.7, 0.3))),
    "shaker": (0.25, 0.35, 0.3, (("noise", 4000, 15000, 0.05, 1.0, {"attack": 0.01}),)),
    "jingle_bell": (0.8, 0.35, 0.3, (("metal", _HATS, 5000, 14000, 0.3, 1.0),
                                     ("noise", 6000, 14000, 0.1, 0.5, {"bursts": (0, 0.02)}))),
    "bell_tree": (2.0, 0.3, 0.0, (("tone", 6000, 3000, 0.3, 0.8, 1.0),
                                  ("tone", 7600, 3800, 0.3, 0.6, 0.5))),
    "castanets": (0.15, 0.45, 0.0, (("tone", 1900, 1900, 1, 0.02, 0.6),
                                    ("noise", 2000, 8000, 0.02, 1.0, {"bursts": (0, 0.01)}))),
    "mute_surdo": (0.4, 0.8, 0.0, (("tone", 65, 65, 1, 0.12, 1.0),)),
    "open_surdo": (1.6, 0.8, 0.0, (("tone", 70, 60, 0.05, 0.6, 1.0),)),
    "click": (0.05, 0.3, 0.0, (("tone", 1500, 1500, 1, 0.01, 1.0),)),
}

_GM_DRUMS = (  # GM 35-81, GM2 27-34 and 82-87
    "high_q", "slap", "scratch_push", "scratch_pull", "sticks", "square_click",
    "metronome_click", "metronome_bell", "kick_acoustic", "kick", "side_stick", "snare",
    "clap", "snare_electric", "low_floor_tom", "hihat_closed", "high_floor_tom",
    "hihat_pedal", "low_tom", "hihat_open", "low_mid_tom", "hi_mid_tom", "crash",
    "high_tom", "ride", "chinese", "ride_bell", "tambourine", "splash", "cowbell", "crash2",
    "vibraslap", "ride2", "hi_bongo", "low_bongo", "mute_hi_conga", "open_hi_conga",
    "low_conga", "high_timbale", "low_timbale", "high_agogo", "low_agogo", "cabasa",
    "maracas", "short_whistle", "long_whistle", "short_guiro", "long_guiro", "claves",
    "hi_woodblock", "low_woodblock", "mute_cuica", "open_cuica", "mute_triangle",
    "open_triangle", "shaker", "jingle_bell", "bell_tree", "castanets", "mute_surdo",
    "open_surdo",
)
PITCH_DRUM: tuple = tuple(_GM_DRUMS[p - 27] if 27 <= p <= 87 else "click" for p in range(128))
"""The drum sound each MIDI pitch plays on a drum track."""

_EXCLUSIVE = ((42, 44, 46), (71, 72), (73, 74), (78, 79), (80, 81), (86, 87))
_DRUM_NAMES = list(DRUM_SOUNDS)
DRUM_VARIANTS = 3
_CHOKE_FADE = 0.005  # seconds of fade when a sound is choked or cut by the output length


def _band(n: int, sample_rate: int, lo: float, hi: float) -> torch.Tensor:
    """|H(f)| of a 2nd-order band-pass (Butterworth magnitudes) on the rfft bins of n."""
    f = torch.fft.rfftfreq(n, 1.0 / sample_rate, dtype=torch.float64)
    hi = min(hi, 0.48 * sample_rate)
    lo = min(lo, 0.5 * hi)
    hp = (f / lo) ** 2 / torch.sqrt(1 + (f / lo) ** 4)
    lp = 1 / torch.sqrt(1 + (f / hi) ** 4)
    return hp * lp


def _band_filter(x: torch.Tensor, sample_rate: int, lo: float, hi: float) -> torch.Tensor:
    y = torch.fft.irfft(torch.fft.rfft(x) * _band(len(x), sample_rate, lo, hi), n=len(x))
    return y / y.pow(2).mean().sqrt().clamp_min(1e-12)


@functools.lru_cache(maxsize=16)
def _metal(freqs: tuple, n: int, sample_rate: int) -> torch.Tensor:
    """Band-limited square waves at ``freqs`` (odd harmonics below the limit), summed."""
    nyq = MAX_HARMONIC_FRACTION * sample_rate
    hz = torch.tensor([h * f for f in freqs for h in range(1, int(nyq // f) + 1, 2)],
                      dtype=torch.float64)
    weight = torch.tensor([1.0 / h for f in freqs for h in range(1, int(nyq // f) + 1, 2)],
                          dtype=torch.float64)
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    x = torch.zeros(n, dtype=torch.float64)
    for i in range(0, len(hz), 16):  # [n, 16] at a time
        x += (torch.sin(2 * math.pi * t[:, None] * hz[None, i:i + 16] + hz[None, i:i + 16])
              * weight[None, i:i + 16]).sum(1)
    return x


def _drum_component(c, t, sample_rate, gen):
    kind = c[0]
    nyq = MAX_HARMONIC_FRACTION * sample_rate
    if kind == "tone":
        _, f1, f2, tau, decay, amp = c
        if max(f1, f2) >= nyq:
            return torch.zeros_like(t)
        phase = 2 * math.pi * (f2 * t + (f1 - f2) * tau * (1 - torch.exp(-t / tau)))
        return amp * torch.sin(phase) * torch.exp(-t / decay)
    if kind == "noise":
        _, lo, hi, decay, amp, opts = c
        x = _band_filter(torch.randn(len(t), generator=gen, dtype=torch.float64),
                         sample_rate, lo, hi)
        bursts = opts.get("bursts", (0.0,))
        env = torch.zeros_like(t)
        for i, b in enumerate(bursts):
            tau = decay if i == len(bursts) - 1 else 0.006
            env = torch.maximum(env, torch.where(t >= b, torch.exp(-(t - b) / tau), 0.0))
        if opts.get("attack"):
            env = env * torch.clamp(t / opts["attack"], max=1.0)
        if opts.get("am"):
            env = env * (0.55 + 0.45 * torch.sin(2 * math.pi * opts["am"] * t))
        return amp * x * env
    if kind == "metal":
        _, freqs, lo, hi, decay, amp = c
        x = _metal(tuple(freqs), len(t), sample_rate)
        return amp * _band_filter(x, sample_rate, lo, hi) * torch.exp(-t / decay)
    raise ValueError(f"unknown drum component {kind!r}")


@functools.lru_cache(maxsize=4)
def build_drum_bank(sample_rate: int, seed: int = 0):
    """One-shot drum samples: ``(bank [S] float32, start [n_sounds, V] int64,
    length [n_sounds, V] int64)`` for the sounds of :data:`DRUM_SOUNDS` in order, ``V``
    noise variants each, peak 1 times the sound's gain."""
    gen = torch.Generator().manual_seed(int(seed))
    pieces, starts, lengths, at = [], [], [], 0
    for name in _DRUM_NAMES:
        seconds, gain, _pan, comps = DRUM_SOUNDS[name]
        n = max(int(seconds * sample_rate), 16)
        fade = max(n // 5, 2)  # raised-cosine fade over the last fifth: no click at the cut
        ramp = 0.5 + 0.5 * torch.cos(torch.linspace(0, math.pi, fade, dtype=torch.float64))
        t = torch.arange(n, dtype=torch.float64) / sample_rate
        row_s, row_l = [], []
        for _ in range(DRUM_VARIANTS):
            x = sum(_drum_component(c, t, sample_rate, gen) for c in comps)
            x[-fade:] *= ramp
            x = gain * x / x.abs().max().clamp_min(1e-12)
            pieces.append(x.float())
            row_s.append(at)
            row_l.append(n)
            at += n
        starts.append(row_s)
        lengths.append(row_l)
    return torch.cat(pieces), torch.tensor(starts), torch.tensor(lengths)


# ---------------------------------------------------------------- per-sample kernels


def _gather(flat, idx):
    """``flat[idx]`` for an index tensor of any shape (index_select: the fast eager path)."""
    return flat.index_select(0, idx.reshape(-1)).view(idx.shape)


def _tone_kernel(t0, rem, ints, floats, table, sample_rate: float, dark_offset: int,
                 vibrato: bool, chorus: bool):
    """Samples ``[n, SEGMENT]`` of pitched notes, one segment per row: row ``r`` holds samples
    ``t0[r] .. t0[r] + SEGMENT - 1`` after its note's onset, of which the first ``rem[r]``
    sound (the rest are 0). ``ints`` [3, n, 1] and ``floats`` [13, n, 1] are each row's note
    parameters. ``vibrato`` and ``chorus`` are constants (one specialised kernel for each
    combination), so patches without them skip that work.

    The phase at the segment start is exact (32-bit fixed point, int64 per row); inside the
    segment it advances in float32 table samples, so the per-sample work is float32/int32.
    """
    j = torch.arange(SEGMENT, device=t0.device, dtype=torch.float32)
    inc, inc2, row = ints.unbind(0)
    row = row.to(torch.int32)
    (gate, attack, inv_decay, sustain, inv_decay2, release, inv_bright, bright,
     vib_amp, vib_w, vib_in, chorus_gain, amp) = floats.unbind(0)
    ts = (t0.to(torch.float32) + j) * (1.0 / sample_rate)
    te = torch.minimum(ts, gate)
    after = torch.clamp(te - attack, min=0.0)
    rel = torch.clamp(ts - gate, min=0.0) * release
    level = ((1.0 - sustain) * torch.exp(-after * inv_decay - rel)
             + sustain * torch.exp(-after * inv_decay2 - rel))
    level = torch.where(te < attack, te / attack * torch.exp(-rel), level)
    if vibrato:  # phase offset in table samples, faded in after the onset
        vib = vib_amp * (1.0 - torch.cos(vib_w * ts)) * torch.clamp(ts * vib_in, max=1.0)
    to_table = 1.0 / (1 << _FRAC_BITS)

    def lookup(inc_, bases):
        start = ((t0 * inc_) & _PHASE_MASK).to(torch.float32) * to_table
        pos = start + j * (inc_.to(torch.float32) * to_table)
        if vibrato:
            pos = pos + vib
        whole = torch.floor(pos)
        frac = pos - whole
        i0 = whole.to(torch.int32) & (TABLE_SIZE - 1)
        i1 = (i0 + 1) & (TABLE_SIZE - 1)
        out = []
        for base in bases:
            a = _gather(table, base + i0)
            out.append(a + (_gather(table, base + i1) - a) * frac)
        return out

    bright_s, dark_s = lookup(inc, (row, row + dark_offset))
    w = torch.exp(-ts * inv_bright) * bright
    s = dark_s + (bright_s - dark_s) * w
    if chorus:  # a second voice, detuned, on the sustain table
        s = s + chorus_gain * lookup(inc2, (row + dark_offset,))[0]
    return torch.where(j < rem, s * level * amp, 0.0)


def _drum_kernel(t0, rem, start, length, amp, bank, fade_samples: float):
    """Samples ``[n, SEGMENT]`` of drum hits (rows as in :func:`_tone_kernel`): reads from the
    bank, faded out over the last samples kept (a choked or cut hit ends without a click)."""
    t = t0 + torch.arange(SEGMENT, device=t0.device)
    fade = torch.clamp((length - t).to(torch.float32) * (1.0 / fade_samples), max=1.0)
    val = _gather(bank, start + torch.minimum(t, length - 1)) * amp * fade
    return torch.where(t - t0 < rem, val, 0.0)


SEGMENT = 512  # samples per row of the work layout


def _mix(out, onset, lengths, file, gains, kernel, note_args, const_args, chunk: int,
         window: tuple):
    """Add every note's samples that fall in ``window`` into the flat ``out``.

    ``window = (w0, W, C)``: ``out`` holds samples ``w0 .. w0 + W - 1`` of every file and
    channel, laid out ``[B, C, W]``. Each note is cut into segments of :data:`SEGMENT` samples
    counted from its onset (the same segments whatever the window, so a window's samples are
    the one-shot render's); the segments that overlap the window are computed in chunks, one
    ``[n, SEGMENT]`` block whose rows broadcast their note's parameters (``note_args``:
    tensors ``[..., N]``, gathered per row to ``[..., n, 1]``). Sample ``t`` of a note lands
    at ``onset + t - w0`` (times channel ``c``'s gain ``gains[c]``); samples past a note's end
    or outside the window are zeros added at the nearest sample inside both.
    """
    w0, W, C = window
    if lengths.numel() == 0 or W <= 0:
        return
    dev = out.device
    lo = torch.clamp(w0 - onset, min=0) // SEGMENT
    hi = (torch.minimum(lengths, w0 + W - onset) + SEGMENT - 1) // SEGMENT
    count = (hi - lo).clamp_min(0)
    seg_note = torch.repeat_interleave(torch.arange(len(lengths), device=dev), count)
    seg_first = torch.cumsum(count, 0) - count
    seg_t0 = (lo[seg_note] + torch.arange(len(seg_note), device=dev)
              - seg_first[seg_note]) * SEGMENT
    ramp = torch.arange(SEGMENT, device=dev)
    rows = max(1, chunk // SEGMENT)
    for s0 in range(0, len(seg_note), rows):
        note = seg_note[s0:s0 + rows]
        t0 = seg_t0[s0:s0 + rows, None]
        rem = lengths.index_select(0, note)[:, None] - t0
        args = [a.index_select(-1, note).unsqueeze(-1) for a in note_args]
        val = kernel(t0, rem, *args, *const_args)
        at = onset.index_select(0, note)[:, None] - w0 + t0 + torch.minimum(ramp, rem - 1)
        val = torch.where((at >= 0) & (at < W), val, 0.0).reshape(-1)
        pos = (file.index_select(0, note)[:, None] * (C * W) + at.clamp(0, W - 1)).reshape(-1)
        if gains is None:
            out.index_add_(0, pos, val)
        else:
            for c in range(gains.shape[0]):
                g = gains[c].index_select(0, note)[:, None].expand(-1, SEGMENT).reshape(-1)
                out.index_add_(0, pos + c * W, val * g)


def _pan_gains(pan: torch.Tensor) -> torch.Tensor:
    """Constant-power gains [2, N] (left, right) of pans in [-1, 1]."""
    angle = (pan.clamp(-1, 1) + 1) * (math.pi / 4)
    return torch.stack([torch.cos(angle), torch.sin(angle)])


# ---------------------------------------------------------------- the synthesizer


class Synth:
    """A wavetable + drum-sample synthesizer for one sample rate, seed and device.

    ``Synth(22050).render(notes, length=None) -> Tensor[B, C, T]``; see the module docstring
    for the sound design, loudness and determinism. ``chunk``: samples computed at once
    (memory is roughly 100 bytes per chunk sample; default 2**18 on CPU, 2**22 on CUDA).
    Tables (46 MB) and the drum bank are built once per sample rate (and seed) and cached:
    about a second on one CPU core.
    """

    def __init__(self, sample_rate: int = 22050, *, channels: int = 1, device="auto",
                 seed: int = 0, compile: bool = False, chunk: int | None = None):
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        if int(sample_rate) < 1000:
            raise ValueError(f"sample_rate must be at least 1000 Hz, got {sample_rate}")
        self.sample_rate = int(sample_rate)
        self.channels = channels
        self.device = resolve_device(device)
        self.seed = int(seed)
        self.chunk = int(chunk or (1 << 22 if self.device.type == "cuda" else 1 << 18))
        self.tables = build_wavetables(self.sample_rate).reshape(-1).to(self.device)
        self._dark_offset = len(PATCHES) * 128 * TABLE_SIZE
        bank, start, length = build_drum_bank(self.sample_rate, self.seed)
        self.bank = bank.to(self.device)
        self._bank_start, self._bank_length = start.to(self.device), length.to(self.device)
        self._patch_params = self._patch_table().to(self.device)
        self._patch_of_program = torch.tensor([_PATCH_NAMES.index(p) for p in PROGRAM_PATCH],
                                              device=self.device)
        self._drum_of_pitch = torch.tensor([_DRUM_NAMES.index(d) for d in PITCH_DRUM],
                                           device=self.device)
        self._drum_pan = torch.tensor([DRUM_SOUNDS[d][2] for d in _DRUM_NAMES],
                                      dtype=torch.float32, device=self.device)
        self._program_pan = torch.tensor([_program_pan(p) for p in range(128)],
                                         dtype=torch.float32, device=self.device)
        self.compiled = bool(compile)
        if compile:
            self._tone = torch.compile(_tone_kernel, dynamic=True)
            self._drum = torch.compile(_drum_kernel, dynamic=True)
        else:
            self._tone, self._drum = _tone_kernel, _drum_kernel

    @staticmethod
    def _patch_table() -> torch.Tensor:
        cols = ("attack", "decay", "sustain", "decay2", "release", "bright_time", "decay_track",
                "vibrato_cents", "vibrato_hz", "vibrato_delay", "chorus_cents", "chorus_gain",
                "gain")
        return torch.tensor([[getattr(p, c) for c in cols] for p in PATCHES.values()],
                            dtype=torch.float64)

    # -- per-note parameters (all notes at once)

    def _tone_params(self, n: dict, T: int):
        sr = self.sample_rate
        patch = self._patch_of_program.index_select(0, n["program"])
        (attack, decay, sustain, decay2, release, bright_time, decay_track, vib_cents, vib_hz,
         vib_delay, chorus_cents, chorus_gain, gain) = self._patch_params.index_select(
            0, patch).unbind(1)
        pitch = n["pitch"].to(torch.float64)
        octave = (pitch - 60) / 12
        track = decay_track ** octave  # struck/plucked: shorter decays up high
        decay = decay * track
        decay2 = decay2 * track
        gate = n["duration"].clamp_min(MIN_GATE)
        decayed = torch.where(torch.isinf(decay2), torch.full_like(gate, math.inf),
                              attack + _LN1000 * torch.maximum(decay, decay2))
        seconds = torch.minimum(gate, decayed) + release
        onset = torch.round(n["onset"] * sr).to(torch.int64)
        length = torch.ceil(seconds * sr).to(torch.int64).clamp(max=T - onset)
        f0 = 440.0 * 2.0 ** ((pitch - 69) / 12)
        scale = float(1 << _PHASE_BITS) / sr
        inc = torch.round(f0 * scale).to(torch.int64)
        inc2 = torch.round(f0 * 2.0 ** (chorus_cents / 1200) * scale).to(torch.int64)
        row = (patch * 128 + n["pitch"]) * TABLE_SIZE  # < 2**31: int32 indexing is safe
        vel = n["velocity"].to(torch.float64) / 127
        vib_amp = (2.0 ** (vib_cents / 1200) - 1) * f0 / (2 * math.pi * vib_hz) * TABLE_SIZE
        floats = torch.stack([
            gate, attack, 1 / decay, sustain, 1 / decay2, _LN1000 / release, 1 / bright_time,
            0.4 + 0.6 * vel, vib_amp, 2 * math.pi * vib_hz, 1 / vib_delay, chorus_gain,
            gain * vel ** 2,
        ]).to(torch.float32)
        ints = torch.stack([inc, inc2, row])
        pan = torch.where(torch.isnan(n["pan"]), self._program_pan.index_select(0, n["program"]),
                          n["pan"])
        return onset, length, ints, floats, pan

    def _drum_params(self, n: dict, T: int):
        sr = self.sample_rate
        sound = self._drum_of_pitch.index_select(0, n["pitch"])
        onset = torch.round(n["onset"] * sr).to(torch.int64)
        # The variant is a hash of the hit (onset, pitch) and the seed, so a hit plays the
        # same variant whatever else is in the batch and however long the output is.
        key = (onset * 131 + n["pitch"]) * 0x9E3779B1 + self.seed * 0x85EBCA6B
        variant = ((key >> 17) & 0xFFFF) % DRUM_VARIANTS
        start = self._bank_start[sound, variant]
        length = self._bank_length[sound, variant]
        length = torch.minimum(length, _choke(n, onset)).clamp(max=T - onset)
        amp = (n["velocity"].to(torch.float32) / 127) ** 2
        pan = torch.where(torch.isnan(n["pan"]), self._drum_pan.index_select(0, sound), n["pan"])
        return onset, length, start, amp, pan

    # -- rendering

    def default_length(self, notes: NoteBatch) -> int:
        """Samples holding every note's sound to its end (release and drum tails included)."""
        if len(notes) == 0:
            return max(1, int(math.ceil(float(notes.file_duration.max(initial=0))
                                        * self.sample_rate)))
        n = notes.tensors(self.device)
        big = 1 << 62
        ends = []
        tone, drum = ~n["is_drum"], n["is_drum"]
        if tone.any():
            onset, length, *_ = self._tone_params(_subset(n, tone), big)
            ends.append(int((onset + length).max()))
        if drum.any():
            onset, length, *_ = self._drum_params(_subset(n, drum), big)
            ends.append(int((onset + length).max()))
        return max(max(ends), int(math.ceil(float(notes.file_duration.max())
                                            * self.sample_rate)), 1)

    def render(self, notes: NoteBatch, length: int | None = None, *,
               normalize: bool = True) -> torch.Tensor:
        """Audio ``Tensor[B, C, T]`` of a :class:`NoteBatch` (``T = length`` samples, default
        :meth:`default_length`). See the module docstring for loudness. The whole output is
        allocated at once: above :data:`~symbolic.audio.notes.MAX_SAMPLES` samples
        (``B x C x T``) it raises :class:`~symbolic.errors.InputTooLargeError`; render long
        pieces block by block with :meth:`blocks` or to a file with
        :func:`symbolic.audio.render_to_file`."""
        T = self.default_length(notes) if length is None else int(length)
        if T < 0:
            raise ValueError(f"length must be >= 0 samples, got {length}")
        B, C = notes.n_files, self.channels
        check_in_memory(B, C, T, self.sample_rate)
        out = torch.zeros(B * C * T, dtype=torch.float32, device=self.device)
        if len(notes) and T:
            with torch.no_grad():
                for args in self._plan(notes.tensors(self.device), T):
                    _mix(out, *args, self.chunk, (0, T, C))
        out = out.reshape(B, C, T)
        if normalize and T:
            peak = out.abs().amax(dim=(1, 2), keepdim=True)
            out = torch.where(peak > 1e-8, out * (PEAK / peak.clamp_min(1e-8)), out)
        else:
            out = out * FIXED_GAIN
        return out

    def __call__(self, notes: NoteBatch, length: int | None = None, **kw) -> torch.Tensor:
        return self.render(notes, length, **kw)

    def blocks(self, notes: NoteBatch, length: int | None = None, *,
               block: int = 1 << 19) -> Iterator[torch.Tensor]:
        """The raw mix (no gain, no normalization) of :meth:`render`, ``block`` samples at a
        time: ``Tensor[B, C, w]`` pieces (``w = block``, the last one shorter) whose
        concatenation is the one-shot render before its gain, up to float rounding (each
        block computes the same per-note segments; only the order of the additions differs).
        Memory holds one block plus the notes' parameters, whatever ``T``."""
        T = self.default_length(notes) if length is None else int(length)
        if T < 0:
            raise ValueError(f"length must be >= 0 samples, got {length}")
        block = max(1, int(block))
        B, C = notes.n_files, self.channels
        plan = []
        if len(notes) and T:
            with torch.no_grad():
                plan = self._plan(notes.tensors(self.device), T)
        for w0 in range(0, T, block):
            W = min(block, T - w0)
            out = torch.zeros(B * C * W, dtype=torch.float32, device=self.device)
            with torch.no_grad():
                for args in plan:
                    _mix(out, *args, self.chunk, (w0, W, C))
            yield out.reshape(B, C, W)

    def _plan(self, n: dict, T: int) -> list:
        """One ``(onset, length, file, gains, kernel, note_args, const_args)`` per group of
        notes that share a kernel (see the module docstring), for an output of ``T``
        samples."""
        plan = []
        for is_drum in (False, True):
            sel = n["is_drum"] if is_drum else ~n["is_drum"]
            if not bool(sel.any()):
                continue
            sub = _subset(n, sel)
            sub = _subset(sub, torch.round(sub["onset"] * self.sample_rate) < T)
            if sub["file"].numel() == 0:
                continue
            if is_drum:
                onset, length, start, amp, pan = self._drum_params(sub, T)
                groups = [(self._drum, (start, length, amp),
                           (self.bank, _CHOKE_FADE * self.sample_rate), None)]
            else:
                onset, length, ints, floats, pan = self._tone_params(sub, T)
                groups = self._tone_groups(ints, floats)
            gains = _pan_gains(pan) if self.channels == 2 else None
            length = length.clamp_min(0)
            for kernel, note_args, const_args, mask in groups:
                if mask is None:
                    plan.append((onset, length, sub["file"], gains, kernel, note_args,
                                 const_args))
                else:
                    plan.append((onset[mask], length[mask], sub["file"][mask],
                                 None if gains is None else gains[:, mask], kernel, note_args,
                                 const_args))
        return plan

    def _tone_groups(self, ints, floats) -> list:
        """Pitched notes split by kernel variant (with or without vibrato, chorus)."""
        vib, cho = floats[8] > 0, floats[11] > 0
        groups = []
        for v in (False, True):
            for c in (False, True):
                mask = (vib == v) & (cho == c)
                if bool(mask.any()):
                    groups.append((self._tone, (ints[:, mask], floats[:, mask]),
                                   (self.tables, float(self.sample_rate), self._dark_offset,
                                    v, c), mask))
        return groups


def _subset(n: dict, mask: torch.Tensor) -> dict:
    return {k: (v[mask] if k != "file_duration" else v) for k, v in n.items()}


def _choke(n: dict, onset: torch.Tensor) -> torch.Tensor:
    """Samples until the next later hit of the same exclusive class in the same file (GM: a
    closed hi-hat stops an open one); a very large number where nothing chokes a hit. Hits
    at the same instant do not choke each other."""
    big = torch.iinfo(torch.int64).max // 4
    limit = torch.full_like(onset, big)
    group = torch.full_like(onset, -1)
    for g, pitches in enumerate(_EXCLUSIVE):
        for p in pitches:
            group = torch.where(n["pitch"] == p, g, group)
    idx = torch.nonzero(group >= 0).flatten()
    if idx.numel() < 2:
        return limit
    # one sortable key per hit: (file, class) in the high bits, onset (< 2**32 samples) low
    run = n["file"][idx] * len(_EXCLUSIVE) + group[idx]
    key = (run << 32) | onset[idx].clamp(0, (1 << 32) - 1)
    keys = torch.sort(key).values
    nxt = torch.searchsorted(keys, key, right=True)  # first hit strictly later in sort order
    found = nxt < len(keys)
    later = keys[nxt.clamp(max=len(keys) - 1)]
    same_run = found & ((later >> 32) == run)
    limit[idx] = torch.where(same_run, (later & ((1 << 32) - 1)) - onset[idx], big)
    return limit


_SYNTHS: dict = {}


def cached_synth(sample_rate, channels, device, seed, compile) -> Synth:
    """The :class:`Synth` for these settings, built once (the last four are kept)."""
    key = (int(sample_rate), int(channels), str(resolve_device(device)), int(seed),
           bool(compile))
    if key not in _SYNTHS:
        if len(_SYNTHS) >= 4:
            _SYNTHS.pop(next(iter(_SYNTHS)))
        _SYNTHS[key] = Synth(sample_rate, channels=channels, device=device, seed=seed,
                             compile=compile)
    return _SYNTHS[key]


def render_synth(scores, sample_rate: int = 22050, *, length: int | None = None,
                 channels: int = 1, device="auto", seed: int = 0, compile: bool = False,
                 soundfont=None, normalize: bool = True) -> torch.Tensor:
    """Render Scores with the torch synthesizer: ``Tensor[B, C, T]`` (see :class:`Synth`).

    ``length`` in samples (default: every note's sound to its end); ``soundfont`` is ignored
    (accepted so every backend shares one signature). Synths are cached per
    (rate, channels, device, seed, compile), so repeated calls do not rebuild tables.
    """
    notes = scores if isinstance(scores, NoteBatch) else notes_from_scores(scores)
    return cached_synth(sample_rate, channels, device, seed, compile).render(
        notes, length, normalize=normalize)
