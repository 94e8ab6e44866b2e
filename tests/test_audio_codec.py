"""Audio codecs: the one interface over transformers' codecs and the RAVE-style codec, the PQMF
bank, training stages, and the Score -> latents path. Tiny configs, CPU, no network."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from symbolic.audio.codec import AudioInputError, Latents, TransformersCodec
from symbolic.audio.factory import available_codecs, load_codec
from symbolic.audio.pqmf import PQMF
from symbolic.models.rave import RaveCodec
from symbolic.errors import DataNotFoundError, SymbolicError  # noqa: E402

KINDS = ["encodec", "dac", "mimi", "wavtokenizer", "xcodec", "vibevoice", "pocket_tts"]
DISCRETE = {"encodec", "dac", "mimi", "wavtokenizer", "xcodec"}
RATE = 16000


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    pass


@pytest.fixture(scope="module")
def codecs():
    torch.manual_seed(0)
    out = {kind: TransformersCodec.small(kind) for kind in KINDS}
    out["rave"] = RaveCodec.small()
    return out


@pytest.fixture(scope="module")
def bach():
    """Six seconds of a Bach chorale rendered by the torch synth: ``[1, 1, T]`` at 16 kHz."""
    import symbolic
    from symbolic.audio.rendering import render

    score = symbolic.load("corpus:bach/bwv66.6")
    return render([score], RATE, backend="synth", length=6 * RATE, device="cpu")


def lengths_for(codec):
    hop = codec.hop_length
    return [3 * hop, 3 * hop + 1, hop - 1, 5 * hop + hop // 2 + 3]


def snr_db(ref, est):
    return 10 * math.log10(float((ref ** 2).sum() / ((est - ref) ** 2).sum()))


# ------------------------------------------------------------------------------ the adapters

@pytest.mark.parametrize("kind", KINDS + ["rave"])
def test_round_trip_keeps_shape_and_length(codecs, kind):
    codec = codecs[kind]
    torch.manual_seed(1)
    for t in lengths_for(codec):
        wav = 0.1 * torch.randn(3, codec.channels, t)
        lat = codec.encode(wav, sample_rate=codec.sample_rate)
        assert lat.kind == ("discrete" if kind in DISCRETE else "continuous")
        assert lat.kind == codec.latent_kind and lat.codec == kind
        assert lat.tensor.shape[:2] == (3, codec.latent_dim)
        assert lat.frames == math.ceil(t / codec.hop_length)
        assert lat.frame_rate == pytest.approx(codec.sample_rate / codec.hop_length)
        assert (lat.length, lat.sample_rate) == (t, codec.sample_rate)
        if lat.kind == "discrete":
            assert lat.tensor.dtype == torch.int64 and int(lat.tensor.min()) >= 0
        out = codec.decode(lat)
        assert out.shape == wav.shape and out.dtype == torch.float32
        assert bool(torch.isfinite(out).all())


def test_frame_rates_and_hops(codecs):
    # tiny configs: 16 kHz; encodec/dac hop 4*4*2, mimi adds a stride-2 downsampling
    assert codecs["encodec"].frame_rate == 500.0
    assert codecs["dac"].hop_length == 32 and codecs["dac"].frame_rate == 500.0
    assert codecs["mimi"].hop_length == 64 and codecs["mimi"].frame_rate == 250.0
    assert codecs["xcodec"].frame_rate == 50.0  # HuBERT's 320-sample hop
    assert codecs["rave"].hop_length == 16 * 2 * 2
    assert RaveCodec().hop_length == 2048 and RaveCodec().latent_dim == 128


def test_discrete_codes_decode_from_codes_alone(codecs):
    # Latents rebuilt from the bare code tensor decode to the same audio (nothing hidden)
    codec = codecs["dac"]
    wav = 0.1 * torch.randn(2, 1, 1000)
    lat = codec.encode(wav)
    again = Latents(lat.tensor.clone(), "discrete", lat.frame_rate, 1000, codec.sample_rate)
    torch.testing.assert_close(codec.decode(again), codec.decode(lat))


def test_encodec_chunked_normalized_stereo():
    """The 48 kHz Encodec layout: overlapping chunks, per-chunk scales, two channels."""
    torch.manual_seed(0)
    codec = TransformersCodec.small("encodec", chunk_length_s=0.25, overlap=0.1, normalize=True,
                                    audio_channels=2)
    chunk, stride = 4000, 3600
    for t in (chunk, 3 * stride + 17, 999):
        wav = 0.1 * torch.randn(2, 2, t)
        lat = codec.encode(wav)
        chunks = lat.extra["chunks"]
        assert lat.extra["audio_scales"].shape == (2, chunks)
        assert lat.tensor.shape == (2, codec.latent_dim, chunks * math.ceil(chunk / 32))
        assert codec.frame_rate == pytest.approx(125 * 16000 / stride)
        assert codec.decode(lat).shape == wav.shape
    # the scales matter: louder input, same codes, louder output
    lat = codec.encode(0.1 * torch.randn(1, 2, 5000))
    louder = Latents(lat.tensor, lat.kind, lat.frame_rate, lat.length, lat.sample_rate,
                     lat.codec, {**lat.extra, "audio_scales": lat.extra["audio_scales"] * 4})
    ratio = codec.decode(louder).abs().mean() / codec.decode(lat).abs().mean()
    assert float(ratio) == pytest.approx(4, rel=1e-3)


def test_bandwidth_and_quantizers_set_the_code_count():
    # 500 frames/s of 6-bit codes: 3 kbps per codebook
    assert TransformersCodec.small("encodec").latent_dim == 2  # HF default: lowest bandwidth
    assert TransformersCodec.small("encodec", bandwidth=12.0).latent_dim == 4
    dac = TransformersCodec.small("dac", num_quantizers=2)
    assert dac.encode(torch.zeros(1, 1, 320)).dim == 2


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["dac", "mimi", "rave"]), batch=st.integers(1, 3),
       length=st.integers(1, 3000))
def test_round_trip_length_property(codecs, kind, batch, length):
    codec = codecs[kind]
    wav = 0.1 * torch.randn(batch, codec.channels, length)
    lat = codec.encode(wav)
    assert lat.batch_size == batch and lat.frames == math.ceil(length / codec.hop_length)
    assert codec.decode(lat).shape == wav.shape


def test_bad_input_is_refused_clearly(codecs):
    dac, mimi = codecs["dac"], codecs["mimi"]
    with pytest.raises(AudioInputError, match=r"\[batch, channels, time\]"):
        dac.encode(torch.zeros(1000))
    with pytest.raises(AudioInputError, match="1 channel"):
        dac.encode(torch.zeros(1, 2, 1000))
    with pytest.raises(AudioInputError, match="float"):
        dac.encode(torch.zeros(1, 1, 1000, dtype=torch.int16))
    with pytest.raises(AudioInputError, match="empty"):
        dac.encode(torch.zeros(1, 1, 0))
    with pytest.raises(AudioInputError, match="NaN"):
        dac.encode(torch.full((1, 1, 100), float("nan")))
    with pytest.raises(AudioInputError, match=r"symbolic\.audio\.resample\(wav, 44100, 16000\)"):
        dac.encode(torch.zeros(1, 1, 1000), sample_rate=44100)
    with pytest.raises(AudioInputError, match="Tensor"):
        dac.encode([0.0] * 100)
    lat = dac.encode(torch.zeros(1, 1, 100))
    with pytest.raises(AudioInputError, match="'dac' codec"):
        mimi.decode(lat)
    with pytest.raises(AudioInputError, match="latent dim"):
        mimi.decode(Latents(lat.tensor, "discrete", 250.0, 100, 16000))
    with pytest.raises(AudioInputError, match="continuous"):
        codecs["rave"].decode(Latents(lat.tensor, "discrete", 250.0, 100, 16000))
    with pytest.raises(AudioInputError, match="integer codes"):
        Latents(torch.zeros(1, 3, 4), "discrete", 1.0, 4, 16000)
    with pytest.raises(AudioInputError, match="kind"):
        Latents(torch.zeros(1, 3, 4), "vq", 1.0, 4, 16000)
    assert issubclass(AudioInputError, SymbolicError)


def test_load_codec_names_and_folders(codecs, tmp_path):
    names = available_codecs()
    assert {"encodec", "dac", "mimi", "rave"} <= set(names)
    small = load_codec("mimi", size="small")
    assert isinstance(small, TransformersCodec) and not small.pretrained
    assert isinstance(load_codec("rave", size="small"), RaveCodec)
    with pytest.raises(ValueError, match="unknown codec kind"):
        TransformersCodec.small("soundstream")
    with pytest.raises(DataNotFoundError, match="neither a codec kind"):
        load_codec(tmp_path / "missing")
    # a transformers codec saved to a folder loads back with identical codes and audio
    codec = codecs["dac"]
    codec.model.save_pretrained(tmp_path / "dac")
    loaded = load_codec(tmp_path / "dac")
    assert isinstance(loaded, TransformersCodec) and loaded.pretrained
    wav = 0.1 * torch.randn(2, 1, 700)
    lat = codec.encode(wav)
    assert torch.equal(loaded.encode(wav).tensor, lat.tensor)
    torch.testing.assert_close(loaded.decode(lat), codec.decode(lat))


# ---------------------------------------------------------------------------------- the PQMF

def test_pqmf_reconstructs_above_60_db(bach):
    pqmf = PQMF(16)
    assert pqmf.error_db < -60
    torch.manual_seed(0)
    noise = torch.randn(2, 1, 16 * 2000)
    bands = pqmf.analysis(noise)
    assert bands.shape == (2, 16, 2000)
    assert snr_db(noise, pqmf.synthesis(bands)) > 60
    music = bach[..., :pqmf.pad_length(bach.shape[-1]) - 16]
    assert snr_db(music, pqmf(music)) > 60
    # the bands split the spectrum: a tone lands in its band
    t = torch.arange(16 * 1024) / RATE
    tone = torch.sin(2 * math.pi * 2600 * t)[None, None]  # band 5 of 16 at 16 kHz (500 Hz each)
    energy = pqmf.analysis(tone).pow(2).mean(-1)[0]
    assert int(energy.argmax()) == 5 and float(energy[5] / energy.sum()) > 0.99
    with pytest.raises(ValueError, match="multiple of 16"):
        pqmf.analysis(torch.zeros(1, 1, 100))


# ---------------------------------------------------------------------------- the RAVE codec

def test_rave_save_and_load_give_identical_outputs(tmp_path):
    torch.manual_seed(0)
    codec = RaveCodec.small(latent_dim=8)
    codec.save_pretrained(tmp_path / "rave")
    assert {"config.json", "model.safetensors"} <= {p.name for p in (tmp_path / "rave").iterdir()}
    loaded = load_codec(tmp_path / "rave")
    assert isinstance(loaded, RaveCodec) and loaded.pretrained and loaded.latent_dim == 8
    wav = 0.1 * torch.randn(2, 1, 1000)
    lat = codec.encode(wav)
    assert torch.equal(loaded.encode(wav).tensor, lat.tensor)
    torch.manual_seed(5)
    a = codec.decode(lat)
    torch.manual_seed(5)
    assert torch.equal(loaded.decode(lat), a)
    # A seed makes the noise branch repeatable without touching torch's global generator.
    with torch.no_grad():
        codec.decoder.noise.net[-1].bias.fill_(8.0)  # open the noise filters wide
    state = torch.get_rng_state()
    b = codec.decode(lat, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(codec.decode(lat, seed=3), b)
    assert not torch.equal(codec.decode(lat, seed=4), b)


def test_rave_load_refuses_missing_weights_and_reads_folders(tmp_path):
    from symbolic.models import rave

    with pytest.raises(DataNotFoundError, match="symbolic train rave"):
        rave.load()  # no weights ship: never random ones in their place
    torch.manual_seed(0)
    codec = RaveCodec.small(latent_dim=8)
    codec.save_pretrained(tmp_path / "rave")
    loaded = rave.load(tmp_path / "rave", device="cpu")
    assert isinstance(loaded, RaveCodec) and loaded.pretrained and not loaded.training
    assert all(torch.equal(a, b) for a, b in zip(codec.state_dict().values(),
                                                 loaded.state_dict().values()))


def test_rave_stage1_loss_falls_on_rendered_bach(bach):
    from symbolic.models.rave import stage1_smoke

    result = stage1_smoke(bach[0], steps=40)
    losses = [r["loss"] for r in result.history]
    assert len(losses) == 8 and result.step == 40
    assert losses[-1] < 0.75 * losses[0], losses


def test_rave_stage2_trains_decoder_with_encoder_frozen(bach, tmp_path):
    from symbolic.models.rave import Crops, train_stage2
    from symbolic.training import TrainConfig

    torch.manual_seed(0)
    model = RaveCodec.small()
    encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    decoder = {k: v.clone() for k, v in model.decoder.state_dict().items()}
    crops = Crops([bach[0]], 32 * model.hop_length, 2)
    config = TrainConfig(steps=2, lr=1e-3, log_every=1, progress=False, device="cpu",
                         betas=(0.5, 0.9))
    result = train_stage2(model, crops, config=config, checkpoint_dir=tmp_path / "ckpt")
    assert [r["step"] for r in result.history] == [1, 2]
    assert {"spectral", "adversarial", "features", "discriminator"} <= set(result.history[0])
    assert all(torch.equal(encoder[k], v) for k, v in model.encoder.state_dict().items())
    assert any(not torch.equal(decoder[k], v) for k, v in model.decoder.state_dict().items())
    assert all(p.requires_grad for p in model.encoder.parameters())  # unfrozen afterwards
    assert (tmp_path / "ckpt" / "generator" / "model.safetensors").is_file()
    assert (tmp_path / "ckpt" / "discriminator" / "optimizer.safetensors").is_file()
    # stop= ends the run at a logged step, with a checkpoint there, as training.fit does
    config = TrainConfig(steps=5, lr=1e-3, log_every=1, progress=False, device="cpu")
    result = train_stage2(model, crops, config=config, checkpoint_dir=tmp_path / "stop",
                          stop=lambda record: record["step"] >= 1)
    assert result.step == 1 and [r["step"] for r in result.history] == [1]
    assert (tmp_path / "stop" / "generator" / "model.safetensors").is_file()


# ----------------------------------------------------------------------------- Score -> latents

def test_encode_scores_and_roundtrip_for_every_kind_of_codec(codecs):
    import symbolic
    from symbolic.audio.path import encode_scores, roundtrip

    scores = [symbolic.load("corpus:bach/bwv66.6"), symbolic.load("corpus:bach/bwv1.6")]
    for kind in ("rave", "encodec", "vibevoice"):  # 16, 16 and 24 kHz: resampled from 16 kHz
        codec = codecs[kind]
        lat = encode_scores(scores, codec, render_rate=RATE, seconds=1.0, device="cpu")
        assert lat.batch_size == 2 and lat.length == codec.sample_rate
        wav_in, wav_out = roundtrip(scores, codec, render_rate=RATE, seconds=1.0, device="cpu")
        assert wav_in.shape == wav_out.shape == (2, codec.channels, codec.sample_rate)
        assert float(wav_in.abs().max()) > 0.01  # real music went in


def test_training_cli_runs_both_stages(tmp_path, bach):
    import json

    from symbolic.cli import main

    common = ["--out", str(tmp_path / "rave"), "--sources", "bach_chorales:1",
              "--max-seconds", "2", "--crop-frames", "16", "--batch-size", "2", "--quiet",
              "--device", "cpu"]
    assert main(["train", "rave", "--steps", "2", "--size", "small", *common]) == 0
    # the old spelling goes through the same parser
    assert main(["codec", "train", "--steps", "1", "--stage", "2", *common]) == 0
    codec = load_codec(tmp_path / "rave")
    assert isinstance(codec, RaveCodec) and codec.sample_rate == RATE
    settings = json.loads((tmp_path / "rave" / "config.json").read_text())["settings"]
    assert settings["stage1"]["steps"] == 2 and settings["stage2"]["steps"] == 1
    assert (tmp_path / "rave" / "checkpoints" / "stage2" / "generator").is_dir()
