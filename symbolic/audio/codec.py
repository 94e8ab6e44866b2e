"""One interface for every neural audio codec: waveform in, latents out, waveform back.

::

    codec = load_codec("path/to/folder")   # or a kind: "encodec", "dac", "mimi", "rave"...
    lat = codec.encode(wav)                # wav: float Tensor [B, C, T] at codec.sample_rate
    lat.tensor                             # [B, D, F] floats or [B, Q, F] int64 codes
    wav_out = codec.decode(lat)            # [B, C, T]: the input length again

**Contract** (every :class:`AudioCodec`):

- ``encode(wav, sample_rate=None) -> Latents``. ``wav`` is a float tensor ``[B, C, T]`` (``C``
  = :attr:`AudioCodec.channels`, any ``T >= 1``) at :attr:`AudioCodec.sample_rate`; pass
  ``sample_rate`` to have a mismatch refused (resample with :func:`symbolic.audio.resample`).
  Bad input raises :class:`AudioInputError` naming the reason. The input is moved to the
  codec's device and dtype and zero-padded at the end to what the model needs (a multiple of
  its hop, a chunk grid); ``Latents.length`` keeps the true length.
- ``decode(Latents) -> Tensor [B, C, T]`` (float32, on the codec's device), trimmed or
  zero-padded at the end to ``Latents.length``: a round trip keeps the length.
- Both run without gradients (inference; models train through their own ``forward``).
- Properties: ``sample_rate`` (Hz), ``channels``, ``hop_length`` (input samples per frame),
  ``frame_rate`` (frames per second; not always ``sample_rate / hop_length``: see Encodec
  below), ``latent_kind`` (``'continuous'`` or ``'discrete'``), ``latent_dim`` (``D`` features
  or ``Q`` codebooks), ``name``, ``device``.

**Latents** hold ``tensor``, ``kind``, ``frame_rate``, ``length`` (input samples),
``sample_rate``, ``codec`` (the name) and ``extra`` (whatever else decoding needs: Encodec's
per-chunk ``audio_scales``...). ``F`` is about ``ceil(T / hop_length)``.

**Adapters for transformers codecs** (:class:`TransformersCodec`, transformers >= 5): one kind
per model type; what each model does differently is hidden here.

=============  ===========  =====  ==========================================================
kind           latents      mono   notes
=============  ===========  =====  ==========================================================
encodec        codes        no     chunked models (48 kHz) pad to the chunk grid; their frames
                                   are concatenated chunk by chunk (chunks overlap, so
                                   ``frame_rate`` counts frames per second of input); decode
                                   needs ``extra['audio_scales']`` ``[B, chunks]`` when the
                                   model normalizes. ``bandwidth`` (kbps) sets Q (HF default:
                                   the smallest).
dac            codes        yes    the model drops the channel axis; ``num_quantizers``
mimi           codes        no     ``num_quantizers`` (default: all)
wavtokenizer   codes (Q=1)  yes
xcodec         codes        yes    HuBERT semantic branch + DAC acoustic branch; ``bandwidth``
vibevoice      continuous   no     VibeVoice acoustic tokenizer (sigma-VAE; encoded without
                                   noise); 24 kHz unless ``sample_rate`` says otherwise
pocket_tts     continuous   no     Pocket TTS (Mimi-like) audio tokenizer
=============  ===========  =====  ==========================================================

Not adapted: HiggsAudioV2Tokenizer (needs torchaudio, which has no build for this torch),
Xcodec2 and NeuCodec (their encoders also need w2v-BERT mel features from a feature extractor).

``TransformersCodec.from_config(kind, **overrides)`` builds the architecture with random
weights (offline); ``TransformersCodec.small(kind)`` a tiny one for tests;
``TransformersCodec.from_pretrained(folder)`` loads real weights from a local folder
(``config.json`` + ``model.safetensors``; never a pickle, never the network).

**RAVE-style codec**: :class:`symbolic.models.rave.RaveCodec`, a model family written here
(continuous latents, 2,048 samples per frame by default), trainable on rendered corpora.

**Factory and benchmarking** (:mod:`symbolic.audio.factory`). :func:`~symbolic.audio.factory.
load_codec` takes a kind (``'encodec'``, ``'dac'``, ``'mimi'``, ... , ``'rave'``) or a folder.
A kind alone gives the *architecture with random weights* (``codec.pretrained`` is False):
right for timing and tests, useless for listening; real weights come from a folder.
:func:`~symbolic.audio.factory.available_codecs` lists the kinds that build offline here; a
benchmark times each like this::

    for name in available_codecs():
        codec = load_codec(name, size="small")     # or size="default": full-size architecture
        wav = torch.randn(2, codec.channels, 2 * codec.sample_rate) * 0.1
        lat = codec.encode(wav)                     # time this
        out = codec.decode(lat)                     # and this

The shared Score -> latents path (render, resample, match channels, encode; one device) is
:mod:`symbolic.audio.path`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AudioInputError, DataNotFoundError

__all__ = ["AudioCodec", "Latents", "TransformersCodec", "AudioInputError", "TRANSFORMERS_KINDS",
           "fit_length", "available_transformers_kinds", "read_config"]

KINDS = ("continuous", "discrete")


# ------------------------------------------------------------------------------------ latents

@dataclass
class Latents:
    """What :meth:`AudioCodec.encode` returns and :meth:`AudioCodec.decode` takes.

    ``tensor``: ``[B, D, F]`` floats (``kind='continuous'``) or ``[B, Q, F]`` int64 codebook
    indices (``kind='discrete'``). ``frame_rate``: frames per second. ``length``: samples of the
    encoded input (decode returns exactly this many). ``sample_rate``: of that input, Hz.
    ``codec``: name of the codec that made them. ``extra``: anything else decoding needs
    (tensors with the batch first, or plain values).
    """

    tensor: torch.Tensor
    kind: str
    frame_rate: float
    length: int
    sample_rate: int
    codec: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise AudioInputError(f"latent kind must be one of {KINDS}, got {self.kind!r}")
        if not torch.is_tensor(self.tensor) or self.tensor.dim() != 3:
            shape = tuple(self.tensor.shape) if torch.is_tensor(self.tensor) else type(self.tensor)
            raise AudioInputError(f"latents must be a [batch, dim, frames] tensor, got {shape}")
        if self.kind == "discrete" and self.tensor.is_floating_point():
            raise AudioInputError("discrete latents must hold integer codes, got "
                                  f"{self.tensor.dtype}")

    @property
    def batch_size(self) -> int:
        return int(self.tensor.shape[0])

    @property
    def dim(self) -> int:
        """``D`` (continuous) or ``Q`` (discrete)."""
        return int(self.tensor.shape[1])

    @property
    def frames(self) -> int:
        return int(self.tensor.shape[2])

    @property
    def duration(self) -> float:
        """Seconds of the encoded input."""
        return self.length / self.sample_rate

    def to(self, device) -> "Latents":
        """A copy with every tensor on ``device``."""
        move = lambda v: v.to(device) if torch.is_tensor(v) else v  # noqa: E731
        return replace(self, tensor=self.tensor.to(device),
                       extra={k: move(v) for k, v in self.extra.items()})


def fit_length(wav: torch.Tensor, length: int) -> torch.Tensor:
    """``wav [..., T]`` cut or zero-padded at the end to ``length`` samples."""
    t = wav.shape[-1]
    if t >= length:
        return wav[..., :length]
    return F.pad(wav, (0, length - t))


def _pad_to_multiple(wav: torch.Tensor, multiple: int) -> torch.Tensor:
    t = wav.shape[-1]
    return F.pad(wav, (0, (-t) % multiple)) if t % multiple else wav


# ------------------------------------------------------------------------------ the interface

class AudioCodec(nn.Module):
    """Base of every codec (see the module docstring for the contract).

    A subclass sets ``name`` and implements the properties ``sample_rate``, ``channels``,
    ``hop_length``, ``latent_kind``, ``latent_dim`` and the two model calls
    ``_encode(wav [B, C, T'] padded) -> (tensor, extra)`` and
    ``_decode(tensor, extra) -> wav [B, C, T'']``. Padding, validation, device, gradients and
    the final length are handled here. ``pad_multiple`` (default ``hop_length``) is what the
    input is zero-padded to; override ``frame_rate`` when frames are not ``hop_length`` apart.
    """

    name: str = "codec"
    pretrained: bool = False

    # -- properties a subclass provides
    @property
    def sample_rate(self) -> int:
        raise NotImplementedError

    @property
    def channels(self) -> int:
        raise NotImplementedError

    @property
    def hop_length(self) -> int:
        raise NotImplementedError

    @property
    def latent_kind(self) -> str:
        raise NotImplementedError

    @property
    def latent_dim(self) -> int:
        raise NotImplementedError

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length

    @property
    def pad_multiple(self) -> int:
        return self.hop_length

    @property
    def device(self) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        p = next(self.parameters(), None)
        return p.dtype if p is not None and p.is_floating_point() else torch.float32

    def _encode(self, wav: torch.Tensor) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def _decode(self, tensor: torch.Tensor, extra: dict) -> torch.Tensor:
        raise NotImplementedError

    # -- the interface
    def check_audio(self, wav, sample_rate: int | None = None) -> torch.Tensor:
        """``wav`` as a float tensor on the codec's device, or :class:`AudioInputError`."""
        who = f"{self.name} codec"
        if not torch.is_tensor(wav):
            raise AudioInputError(f"expected a torch.Tensor [batch, channels, time], got "
                                  f"{type(wav).__name__}", who)
        if wav.dim() != 3:
            hint = " (one clip: wav[None]; mono [B, T]: wav[:, None])" if wav.dim() < 3 else ""
            raise AudioInputError(f"expected [batch, channels, time], got shape "
                                  f"{tuple(wav.shape)}{hint}", who)
        if not wav.is_floating_point():
            raise AudioInputError(f"expected a float waveform in [-1, 1], got {wav.dtype}", who)
        b, c, t = wav.shape
        if c != self.channels:
            fix = ("downmix with wav.mean(1, keepdim=True)" if self.channels == 1
                   else f"repeat or mix to {self.channels} channels")
            raise AudioInputError(f"expected {self.channels} channel(s), got {c}: {fix}", who)
        if b == 0 or t == 0:
            raise AudioInputError(f"empty waveform of shape {tuple(wav.shape)}", who)
        if sample_rate is not None and int(sample_rate) != self.sample_rate:
            raise AudioInputError(
                f"audio at {sample_rate} Hz, the codec expects {self.sample_rate} Hz: resample "
                f"first with symbolic.audio.resample(wav, {sample_rate}, {self.sample_rate})", who)
        if not bool(torch.isfinite(wav).all()):
            raise AudioInputError("waveform holds NaN or infinite samples", who)
        return wav.to(self.device, self.dtype)

    def check_latents(self, latents: Latents) -> None:
        who = f"{self.name} codec"
        if not isinstance(latents, Latents):
            raise AudioInputError(f"decode takes Latents, got {type(latents).__name__}", who)
        if latents.codec and latents.codec != self.name:
            raise AudioInputError(f"latents were made by the {latents.codec!r} codec", who)
        if latents.kind != self.latent_kind:
            raise AudioInputError(f"expected {self.latent_kind} latents, got {latents.kind}", who)
        if latents.dim != self.latent_dim:
            raise AudioInputError(f"expected latent dim {self.latent_dim}, got {latents.dim}",
                                  who)
        if latents.sample_rate != self.sample_rate:
            raise AudioInputError(f"latents of {latents.sample_rate} Hz audio, the codec runs "
                                  f"at {self.sample_rate} Hz", who)

    def encode(self, wav: torch.Tensor, sample_rate: int | None = None) -> Latents:
        """``wav [B, C, T]`` -> :class:`Latents` (see the module docstring)."""
        wav = self.check_audio(wav, sample_rate)
        length = wav.shape[-1]
        with torch.no_grad():
            tensor, extra = self._encode(_pad_to_multiple(wav, self.pad_multiple))
        if self.latent_kind == "discrete":
            tensor = tensor.long()
        return Latents(tensor, self.latent_kind, float(self.frame_rate), int(length),
                       int(self.sample_rate), self.name, extra)

    def decode(self, latents: Latents) -> torch.Tensor:
        """:class:`Latents` -> float32 ``[B, C, latents.length]`` on the codec's device."""
        self.check_latents(latents)
        latents = latents.to(self.device)
        tensor = latents.tensor
        if tensor.is_floating_point():
            tensor = tensor.to(self.dtype)
        with torch.no_grad():
            wav = self._decode(tensor, latents.extra)
        if wav.dim() == 2:
            wav = wav[:, None]
        return fit_length(wav, latents.length).float()

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """The round trip ``decode(encode(wav))``."""
        return self.decode(self.encode(wav))


# ------------------------------------------------------------------ transformers adapters
#
# One kind per transformers model type, three plain functions each:
#   info(model, options) -> dict(sample_rate, channels, hop, dim, [frame_rate, pad])
#   encode(model, wav, options) -> (tensor, extra)
#   decode(model, tensor, extra, options) -> wav [B, C, T] (or [B, T])

def _encodec_info(model, o):
    c = model.config
    info = dict(sample_rate=c.sampling_rate, channels=c.audio_channels, hop=c.hop_length,
                dim=model.quantizer.get_num_quantizers_for_bandwidth(
                    o.get("bandwidth") or c.target_bandwidths[0]))
    if c.chunk_length is not None:  # frames per chunk, chunks every chunk_stride samples
        frames = math.ceil(c.chunk_length / c.hop_length)
        info.update(frame_rate=frames * c.sampling_rate / c.chunk_stride, pad=1)
    return info


def _encodec_encode(model, wav, o):
    c = model.config
    b, _, t = wav.shape
    mask = torch.ones(b, wav.shape[1], t, dtype=torch.bool, device=wav.device)
    if c.chunk_length is not None:  # pad to whole chunks, as the feature extractor does
        length, stride = c.chunk_length, c.chunk_stride
        n = max(1, math.ceil((t - length) / stride) + 1)
        wav = F.pad(wav, (0, (n - 1) * stride + length - t))
        mask = F.pad(mask, (0, wav.shape[-1] - t))
    out = model.encode(wav, padding_mask=mask, bandwidth=o.get("bandwidth"), return_dict=True)
    codes = out.audio_codes  # [chunks, B, Q, Fc]
    n, _, q, fc = codes.shape
    extra: dict = {"chunks": int(n)}
    if out.last_frame_pad_length:
        extra["last_frame_pad_length"] = int(out.last_frame_pad_length)
    if out.audio_scales[0] is not None:
        extra["audio_scales"] = torch.cat([s.reshape(b, 1) for s in out.audio_scales], 1)
    return codes.permute(1, 2, 0, 3).reshape(b, q, n * fc), extra


def _encodec_decode(model, tensor, extra, o):
    b, q, f = tensor.shape
    n = int(extra.get("chunks", 1))
    codes = tensor.reshape(b, q, n, f // n).permute(2, 0, 1, 3)
    scales = extra.get("audio_scales")
    scales = [None] * n if scales is None else [scales[:, i:i + 1] for i in range(n)]
    return model.decode(codes, scales, return_dict=True,
                        last_frame_pad_length=extra.get("last_frame_pad_length", 0)).audio_values


def _dac_info(model, o):
    c = model.config
    return dict(sample_rate=c.sampling_rate, channels=1, hop=c.hop_length,
                dim=o.get("num_quantizers") or c.n_codebooks)


def _dac_encode(model, wav, o):
    return model.encode(wav, n_quantizers=o.get("num_quantizers"),
                        return_dict=True).audio_codes, {}


def _dac_decode(model, tensor, extra, o):
    return model.decode(audio_codes=tensor, return_dict=True).audio_values  # [B, T]


def _mimi_info(model, o):
    c = model.config
    return dict(sample_rate=c.sampling_rate, channels=c.audio_channels, hop=c.frame_size,
                dim=o.get("num_quantizers") or c.num_quantizers)


def _mimi_encode(model, wav, o):
    return model.encode(wav, num_quantizers=o.get("num_quantizers")).audio_codes, {}


def _mimi_decode(model, tensor, extra, o):
    return model.decode(tensor).audio_values


def _wavtokenizer_info(model, o):
    c = model.config
    return dict(sample_rate=c.sampling_rate, channels=1, hop=c.hop_length, dim=1)


def _wavtokenizer_encode(model, wav, o):
    return model.encode(wav).audio_codes, {}


def _wavtokenizer_decode(model, tensor, extra, o):
    return model.decode(tensor).audio_values


def _xcodec_info(model, o):
    c = model.config
    return dict(sample_rate=c.sample_rate, channels=1, hop=c.hop_length,
                dim=model.quantizer.get_num_quantizers_for_bandwidth(
                    o.get("bandwidth") or c.target_bandwidths[-1]))


def _xcodec_encode(model, wav, o):
    return model.encode(wav, bandwidth=o.get("bandwidth"), return_dict=True).audio_codes, {}


def _xcodec_decode(model, tensor, extra, o):
    return model.decode(tensor, return_dict=True).audio_values


def _vibevoice_info(model, o):
    c = model.config
    return dict(sample_rate=24000, channels=c.channels, hop=c.hop_length, dim=c.hidden_size)


def _vibevoice_encode(model, wav, o):
    return model.encode(wav, sample=False).latents.transpose(1, 2), {}  # [B, F, D] -> [B, D, F]


def _vibevoice_decode(model, tensor, extra, o):
    return model.decode(tensor.transpose(1, 2)).audio


def _pocket_tts_info(model, o):
    c = model.config
    return dict(sample_rate=c.sampling_rate, channels=c.audio_channels, hop=c.frame_size,
                dim=c.latent_dim)


def _pocket_tts_encode(model, wav, o):
    return model.encode(wav).latents.transpose(1, 2), {}


def _pocket_tts_decode(model, tensor, extra, o):
    return model.decode(tensor.transpose(1, 2)).audio_values


@dataclass(frozen=True)
class _Adapter:
    model_type: str     # config.model_type
    model_class: str    # transformers class name (config class: the same with "Config")
    latent_kind: str
    info: Callable
    encode: Callable
    decode: Callable
    small: dict         # overrides of a tiny config (tests, quick benchmarks)


_TINY_CONV = dict(num_filters=8, upsampling_ratios=[4, 4, 2])
_TINY_ATTN = dict(num_hidden_layers=1, intermediate_size=64, num_attention_heads=2,
                  num_key_value_heads=2)

_ADAPTERS: dict[str, _Adapter] = {
    "encodec": _Adapter(
        "encodec", "EncodecModel", "discrete", _encodec_info, _encodec_encode, _encodec_decode,
        dict(_TINY_CONV, hidden_size=32, num_lstm_layers=1, codebook_size=64,
             target_bandwidths=[6.0, 12.0], sampling_rate=16000)),
    "dac": _Adapter(
        "dac", "DacModel", "discrete", _dac_info, _dac_encode, _dac_decode,
        dict(encoder_hidden_size=8, downsampling_ratios=[2, 4, 4], decoder_hidden_size=32,
             n_codebooks=3, codebook_size=64, codebook_dim=4)),
    "mimi": _Adapter(
        "mimi", "MimiModel", "discrete", _mimi_info, _mimi_encode, _mimi_decode,
        dict(_TINY_CONV, **_TINY_ATTN, hidden_size=32, codebook_size=64, codebook_dim=16,
             num_quantizers=4, vector_quantization_hidden_dimension=16, upsample_groups=32,
             sampling_rate=16000)),
    "wavtokenizer": _Adapter(
        "wavtokenizer", "WavTokenizerModel", "discrete", _wavtokenizer_info,
        _wavtokenizer_encode, _wavtokenizer_decode,
        dict(_TINY_CONV, num_lstm_layers=1, hidden_size=32, codebook_size=64, codebook_dim=32,
             decoder_hidden_size=32, decoder_intermediate_size=64, decoder_num_layers=1,
             decoder_attention_num_groups=4)),
    "xcodec": _Adapter(
        "xcodec", "XcodecModel", "discrete", _xcodec_info, _xcodec_encode, _xcodec_decode,
        dict(codebook_size=64, target_bandwidths=[0.5],
             acoustic_model_config=dict(encoder_hidden_size=4, decoder_hidden_size=16,
                                        hidden_size=16, n_codebooks=2, codebook_size=64),
             semantic_model_config=dict(hidden_size=16, num_hidden_layers=1,
                                        num_attention_heads=2, intermediate_size=32,
                                        conv_dim=[8] * 7, num_conv_pos_embeddings=16,
                                        num_conv_pos_embedding_groups=2))),
    "vibevoice": _Adapter(
        "vibevoice_acoustic_tokenizer", "VibeVoiceAcousticTokenizerModel", "continuous",
        _vibevoice_info, _vibevoice_encode, _vibevoice_decode,
        dict(hidden_size=8, num_filters=4, downsampling_ratios=[2, 4, 4], depths=[1, 1, 1, 1])),
    "pocket_tts": _Adapter(
        "pocket_tts_audio_tokenizer", "PocketTTSAudioTokenizerModel", "continuous",
        _pocket_tts_info, _pocket_tts_encode, _pocket_tts_decode,
        dict(_TINY_CONV, **_TINY_ATTN, hidden_size=32, upsample_groups=32, latent_dim=8,
             latent_stride=2)),
}

#: Kinds :class:`TransformersCodec` adapts.
TRANSFORMERS_KINDS = tuple(_ADAPTERS)
_KIND_OF_MODEL_TYPE = {a.model_type: k for k, a in _ADAPTERS.items()}


def _transformers_class(name: str):
    try:
        import transformers
    except ImportError as e:  # pragma: no cover - transformers is a dependency
        raise ImportError("the transformers codecs need `pip install transformers>=5`") from e
    cls = getattr(transformers, name, None)
    if cls is None:
        raise ImportError(f"this transformers ({transformers.__version__}) has no {name}; "
                          "the codec adapters need transformers>=5")
    return cls


class TransformersCodec(AudioCodec):
    """A transformers audio codec model behind the :class:`AudioCodec` interface.

    ``model``: an ``EncodecModel``, ``DacModel``, ``MimiModel``... (see the module docstring
    for the kinds); the kind comes from ``model.config.model_type``. Options: ``bandwidth``
    (kbps; Encodec, Xcodec), ``num_quantizers`` (DAC, Mimi), ``sample_rate`` (override the
    rate when the config does not carry it). The model is put in eval mode.
    """

    def __init__(self, model, *, bandwidth: float | None = None,
                 num_quantizers: int | None = None, sample_rate: int | None = None,
                 pretrained: bool = False):
        super().__init__()
        model_type = getattr(model.config, "model_type", None)
        if model_type not in _KIND_OF_MODEL_TYPE:
            raise ValueError(f"no codec adapter for model type {model_type!r}; "
                             f"adapted: {sorted(_KIND_OF_MODEL_TYPE)}")
        self.kind = _KIND_OF_MODEL_TYPE[model_type]
        self.name = self.kind
        self.adapter = _ADAPTERS[self.kind]
        self.model = model.eval()
        self.options = {k: v for k, v in dict(bandwidth=bandwidth,
                                              num_quantizers=num_quantizers).items()
                        if v is not None}
        self.pretrained = bool(pretrained)
        info = self.adapter.info(model, self.options)
        if sample_rate is not None:
            info["sample_rate"] = int(sample_rate)
        self._info = info

    # -- building
    @classmethod
    def from_config(cls, kind: str, *, bandwidth: float | None = None,
                    num_quantizers: int | None = None, sample_rate: int | None = None,
                    **overrides) -> "TransformersCodec":
        """The ``kind`` architecture with random weights: its default config with
        ``overrides`` (config fields). Offline."""
        adapter = _adapter(kind)
        config = _transformers_class(adapter.model_class.replace("Model", "Config"))(**overrides)
        model = _transformers_class(adapter.model_class)(config)
        return cls(model, bandwidth=bandwidth, num_quantizers=num_quantizers,
                   sample_rate=sample_rate)

    @classmethod
    def small(cls, kind: str, **overrides) -> "TransformersCodec":
        """A tiny random ``kind`` model (about 0.1M parameters): for tests and quick checks."""
        options = {k: overrides.pop(k) for k in ("bandwidth", "num_quantizers", "sample_rate")
                   if k in overrides}
        return cls.from_config(kind, **options, **{**_adapter(kind).small, **overrides})

    @classmethod
    def from_pretrained(cls, path, *, bandwidth: float | None = None,
                        num_quantizers: int | None = None, sample_rate: int | None = None,
                        **kwargs) -> "TransformersCodec":
        """Real weights from a local folder (``config.json`` + ``model.safetensors``, as
        ``save_pretrained`` writes or a Hub snapshot holds). Never downloads, never unpickles.
        The sample rate is read from the config, else from ``preprocessor_config.json``."""
        folder = Path(path)
        config = read_config(folder)
        kind = _KIND_OF_MODEL_TYPE.get(config.get("model_type"))
        if kind is None:
            raise DataNotFoundError(f"config.json has model type {config.get('model_type')!r};"
                                    f" codec adapters exist for {sorted(_KIND_OF_MODEL_TYPE)}",
                                    folder)
        if not any((folder / n).is_file() for n in ("model.safetensors",
                                                      "model.safetensors.index.json")):
            raise DataNotFoundError("model.safetensors missing (pickled weights such as "
                                    "pytorch_model.bin are not read)", folder)
        if sample_rate is None:
            pre = folder / "preprocessor_config.json"
            if pre.is_file():
                sample_rate = json.loads(pre.read_text()).get("sampling_rate")
        model_class = _transformers_class(_ADAPTERS[kind].model_class)
        model = model_class.from_pretrained(str(folder), local_files_only=True,
                                            use_safetensors=True, **kwargs)
        return cls(model, bandwidth=bandwidth, num_quantizers=num_quantizers,
                   sample_rate=sample_rate, pretrained=True)

    # -- the AudioCodec properties
    @property
    def sample_rate(self) -> int:
        return int(self._info["sample_rate"])

    @property
    def channels(self) -> int:
        return int(self._info["channels"])

    @property
    def hop_length(self) -> int:
        return int(self._info["hop"])

    @property
    def frame_rate(self) -> float:
        return float(self._info.get("frame_rate", self.sample_rate / self.hop_length))

    @property
    def pad_multiple(self) -> int:
        return int(self._info.get("pad", self.hop_length))

    @property
    def latent_kind(self) -> str:
        return self.adapter.latent_kind

    @property
    def latent_dim(self) -> int:
        return int(self._info["dim"])

    def _encode(self, wav):
        return self.adapter.encode(self.model, wav, self.options)

    def _decode(self, tensor, extra):
        return self.adapter.decode(self.model, tensor, extra, self.options)

    def extra_repr(self) -> str:
        return (f"kind={self.kind!r}, sample_rate={self.sample_rate}, channels={self.channels}, "
                f"hop_length={self.hop_length}, latents={self.latent_kind}[{self.latent_dim}], "
                f"pretrained={self.pretrained}")


def _adapter(kind: str) -> _Adapter:
    if kind not in _ADAPTERS:
        raise ValueError(f"unknown codec kind {kind!r}; choose from {sorted(_ADAPTERS)}")
    return _ADAPTERS[kind]


def available_transformers_kinds() -> list[str]:
    """The kinds of :data:`TRANSFORMERS_KINDS` whose model class this transformers version
    has (empty without transformers)."""
    try:
        import transformers
    except ImportError:  # pragma: no cover - transformers is a dependency
        return []
    return [kind for kind, adapter in _ADAPTERS.items()
            if hasattr(transformers, adapter.model_class)]


def read_config(folder: Path) -> dict:
    """The ``config.json`` of a codec folder, or :class:`DataNotFoundError` naming what is
    missing or malformed."""
    if not folder.is_dir():
        raise DataNotFoundError("not a folder (codecs load from a local folder with "
                                "config.json and model.safetensors)", folder)
    path = folder / "config.json"
    if not path.is_file():
        raise DataNotFoundError("config.json missing", folder)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise DataNotFoundError(f"config.json is not valid JSON ({e})", folder) from None
