"""Rendering Scores to audio: notes in seconds, the torch synth, SoundFonts, resampling, WAV."""

import argparse
import math
import os

import numpy as np
import pytest
import symusic
import torch

import symbolic
from conftest import skip_or_fail_in_ci
from symbolic.audio.dsp import read_wav, resample, write_wav
from symbolic.audio.notes import notes_from_scores
from symbolic.audio.rendering import BACKENDS, render
from symbolic.audio.soundfont import find_soundfont
from symbolic.audio.synth import Synth
from symbolic.cli.audio import add_render_parser
from symbolic.errors import (ConversionError, DataNotFoundError, EmptyScoreError,
                             SymbolicError)

SR = 22050
CHORALE = "corpus:bach/bwv66.6"


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    pass


@pytest.fixture(scope="module")
def chorale():
    return symbolic.load(CHORALE)


@pytest.fixture(scope="module")
def synth():
    return Synth(SR, device="cpu")


def make_score(notes, program=0, is_drum=False, pan=None):
    """A second-time Score with one track: notes are (onset s, duration s, pitch, velocity)."""
    score = symusic.Score(480, ttype="second")
    track = symusic.Track("t", program, is_drum, ttype="second")
    for onset, dur, pitch, vel in notes:
        track.notes.append(symusic.Note(onset, dur, pitch, vel, "second"))
    if pan is not None:
        track.controls.append(symusic.ControlChange(0.0, 10, pan, "second"))
    score.tracks.append(track)
    return score


def spectrum(x, start, seconds=0.4, sr=SR):
    seg = x[int(start * sr):int((start + seconds) * sr)].double()
    mag = torch.fft.rfft(seg * torch.hann_window(len(seg), dtype=torch.float64)).abs()
    return torch.fft.rfftfreq(len(seg), 1 / sr), mag


def rms(x, a, b, sr=SR):
    return float(x[int(a * sr):int(b * sr)].pow(2).mean().sqrt())


# ------------------------------------------------------------------ notes


def test_notes_from_any_time_unit_agree(chorale):
    a = notes_from_scores(chorale)
    b = notes_from_scores(chorale.to("second"))
    c = notes_from_scores([chorale.to("quarter")])
    assert len(a) == chorale.note_num() == 163 and a.n_files == 1
    for other in (b, c):
        np.testing.assert_allclose(a.onset, other.onset, atol=1e-4)
        np.testing.assert_array_equal(a.pitch, other.pitch)
    assert a.file_duration[0] == pytest.approx(22.5, abs=1e-3)  # 36 quarters at 96 bpm
    assert set(a.program.tolist()) == {0} and not a.is_drum.any()
    t = a.tensors("cpu")
    assert t["pitch"].dtype == torch.int64 and t["onset"].shape == (163,)


def test_notes_sustain_pedal_and_bad_input():
    score = make_score([(0.0, 0.5, 60, 90), (2.0, 0.5, 62, 90)])
    score.tracks[0].pedals.append(symusic.Pedal(0.2, 1.3, "second"))  # down 0.2 .. 1.5 s
    held = notes_from_scores(score)
    assert held.duration.tolist() == pytest.approx([1.5, 0.5])
    assert notes_from_scores(score, sustain=False).duration.tolist() == pytest.approx([0.5, 0.5])
    with pytest.raises(ConversionError, match="scores\\[1\\]"):
        notes_from_scores([score, "song.mid"])
    with pytest.raises(EmptyScoreError):
        notes_from_scores([])
    with pytest.raises(EmptyScoreError, match="scores\\[1\\]: score has no notes"):
        notes_from_scores([score, symusic.Score(480)])
    batch = notes_from_scores([score, symusic.Score(480)], allow_empty=True)
    assert batch.n_files == 2 and batch.file_duration[1] == 0


# ------------------------------------------------------------------ synth


def test_synth_is_deterministic_for_a_seed_and_keeps_the_length(chorale):
    drums = make_score([(0.1 * i, 0.1, p, 100) for i, p in enumerate([36, 38, 42, 49])],
                       is_drum=True)
    a = render([chorale, drums], SR, seed=3, device="cpu")
    b = render([chorale, drums], SR, seed=3, device="cpu")
    assert a.dtype == torch.float32 and a.shape[:2] == (2, 1)
    assert torch.equal(a, b)
    c = render([chorale, drums], SR, seed=4, device="cpu")
    assert torch.equal(a[0], c[0])            # no randomness in pitched notes
    assert not torch.equal(a[1], c[1])        # drum noise follows the seed
    assert a.shape[-1] >= 22.5 * SR           # default: the longest file and its tail
    d = render(chorale, SR, length=12_345, device="cpu")
    assert d.shape == (1, 1, 12_345) and d.abs().max() > 0.1


def test_silence_between_notes_and_after_the_release(synth):
    score = make_score([(0.0, 0.5, 69, 100), (3.0, 0.5, 69, 100)])
    x = synth.render(notes_from_scores(score))[0, 0]
    assert rms(x, 0.05, 0.45) > 0.05 and rms(x, 3.05, 3.45) > 0.05
    assert rms(x, 1.5, 2.95) < 1e-6           # piano release is 0.35 s
    assert x[: int(0.001 * SR)].abs().max() < 0.5  # attack ramps up, no click at t=0
    assert x.abs().max() == pytest.approx(0.9, abs=1e-6)  # peak normalized


@pytest.mark.parametrize("program", [0, 24, 32, 40, 56, 71, 73, 80, 88])
def test_energy_at_the_fundamental(synth, program):
    pitch = 45 if program == 32 else 69       # A2 for the bass, A4 for the others
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    x = synth.render(notes_from_scores(make_score([(0.0, 1.0, pitch, 100)], program)))[0, 0]
    freqs, mag = spectrum(x, 0.3)
    near = lambda hz: float(mag[(freqs - hz).abs() < 5].max())  # noqa: E731
    peak = float(freqs[mag.argmax()])
    # the strongest partial is a harmonic (brass and reeds peak at their formant, not always
    # at f0), the fundamental itself is strong, and nothing sounds below it
    assert abs(peak / f0 - round(peak / f0)) * f0 < 4, f"program {program}: peak at {peak} Hz"
    assert near(f0) > 0.25 * float(mag.max())
    assert float(mag[freqs < 0.8 * f0].max()) < 0.01 * near(f0)
    # a harmonic tone, not a sine: energy at the 2nd or 3rd harmonic too (the flute's soft
    # overtones are still above -30 dB)
    assert max(near(2 * f0), near(3 * f0)) > 0.03 * near(f0)


def test_patches_have_their_own_timbre(synth):
    # same pitch, different programs: the spectra differ (organ vs clarinet: no even harmonics)
    def harmonics(program):
        x = synth.render(notes_from_scores(make_score([(0.0, 1.0, 57, 100)], program)))[0, 0]
        freqs, mag = spectrum(x, 0.3)
        return np.array([float(mag[(freqs - k * 220).abs() < 5].max()) for k in range(1, 7)])

    clarinet, organ = harmonics(71), harmonics(16)
    assert clarinet[1] < 0.15 * clarinet[0] and clarinet[2] > 3 * clarinet[1]
    assert organ[1] > 0.4 * organ[0]


def test_drums_sound_where_they_should(synth):
    hits = [36, 38, 42, 49, 45]               # kick, snare, closed hat, crash, low tom
    score = make_score([(1.5 * i, 0.1, p, 110) for i, p in enumerate(hits)], is_drum=True)
    x = synth.render(notes_from_scores(score), normalize=False)[0, 0]

    def centroid(i):
        freqs, mag = spectrum(x, 1.5 * i, 0.2)
        return float((freqs * mag ** 2).sum() / (mag ** 2).sum())

    for i in range(len(hits)):
        assert rms(x, 1.5 * i, 1.5 * i + 0.1) > 1e-3, f"drum {hits[i]} is silent"
    kick, snare, hat, crash, tom = (centroid(i) for i in range(5))
    assert kick < 200 and tom < 400 and hat > 5000 and crash > 3000 and 400 < snare < 6000
    assert rms(x, 1.5 * 2 + 0.3, 1.5 * 3 - 0.01) < 1e-6   # a closed hat is short


def test_open_hihat_is_choked_by_a_closed_one(synth):
    open_only = make_score([(0.0, 0.1, 46, 100)], is_drum=True)
    choked = make_score([(0.0, 0.1, 46, 100), (0.2, 0.1, 44, 1)], is_drum=True)
    a = synth.render(notes_from_scores(open_only), normalize=False)[0, 0]
    b = synth.render(notes_from_scores(choked), normalize=False)[0, 0]
    assert rms(a, 0.3, 0.6) > 10 * rms(b, 0.3, 0.6)


def test_batch_of_different_lengths_equals_one_by_one(chorale, synth):
    short = make_score([(0.0, 0.4, 64, 100), (0.5, 0.4, 67, 80)], program=40)
    drums = make_score([(0.0, 0.1, 36, 120), (0.5, 0.1, 38, 100)], is_drum=True)
    scores = [short, chorale, drums]
    batch = synth.render(notes_from_scores(scores), normalize=False)
    assert batch.shape[0] == 3
    T = batch.shape[-1]
    for i, s in enumerate(scores):
        alone = synth.render(notes_from_scores(s), T, normalize=False)
        torch.testing.assert_close(batch[i], alone[0], atol=1e-6, rtol=0)
    assert batch[0, 0, int(2.5 * SR):].abs().max() == 0   # short file: silent after its tail


def test_stereo_pans_by_cc10():
    left = make_score([(0.0, 0.5, 69, 100)], program=40, pan=0)
    x = render(left, SR, channels=2, device="cpu")
    assert x.shape[:2] == (1, 2)
    assert rms(x[0, 0], 0.1, 0.4) > 20 * rms(x[0, 1], 0.1, 0.4)


def test_compile_matches_eager(chorale):
    if os.environ.get("SYMBOLIC_TEST_COMPILE") != "1":
        pytest.skip("torch.compile takes about a minute on 2 CPU cores; "
                    "set SYMBOLIC_TEST_COMPILE=1 to run it")
    eager = Synth(SR, device="cpu").render(notes_from_scores(chorale))
    compiled = Synth(SR, device="cpu", compile=True).render(notes_from_scores(chorale))
    torch.testing.assert_close(compiled, eager, atol=1e-5, rtol=0)


# ------------------------------------------------------------------ soundfont


def test_soundfont_backend_renders_a_chorale(chorale, tmp_path, monkeypatch):
    try:
        sf = find_soundfont()
    except DataNotFoundError as e:
        skip_or_fail_in_ci(f"no SoundFont installed (Debian: timgm6mb-soundfont): {e}")
    a4 = make_score([(0.0, 1.0, 69, 100)])
    x = render(a4, SR, backend="soundfont", device="cpu")
    freqs, mag = spectrum(x[0, 0], 0.2)
    assert float(freqs[mag.argmax()]) == pytest.approx(440, abs=4)
    y = render([chorale, a4], SR, backend="soundfont", channels=2, device="cpu")
    assert y.shape[:2] == (2, 2) and y.shape[-1] == math.ceil((22.5 + 1.0) * SR)
    assert rms(y[0, 0], 1, 20) > 0.01 and y[1, :, int(2.5 * SR):].abs().max() < 1e-3
    monkeypatch.setenv("SYMBOLIC_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(DataNotFoundError, match="missing.sf2"):
        find_soundfont()
    assert find_soundfont(sf) == sf


def test_fluidsynth_engine(tmp_path):
    from symbolic.audio.soundfont import fluidsynth_path, render_soundfont

    if fluidsynth_path() is None:
        skip_or_fail_in_ci("the fluidsynth program is not installed (Debian: fluidsynth)")
    try:
        find_soundfont()
    except DataNotFoundError as e:
        skip_or_fail_in_ci(f"no SoundFont installed: {e}")
    x = render_soundfont(make_score([(0.0, 1.0, 69, 100)]), SR, engine="fluidsynth",
                         device="cpu")
    freqs, mag = spectrum(x[0, 0], 0.2)
    assert float(freqs[mag.argmax()]) == pytest.approx(440, abs=4)


# ------------------------------------------------------------------ dsp


@pytest.mark.parametrize("orig,new", [(22050, 16000), (44100, 22050), (16000, 24000),
                                      (22050, 22051)])
def test_resample_keeps_a_sine(orig, new):
    T = orig
    x = torch.sin(2 * math.pi * 440 * torch.arange(T) / orig).repeat(2, 1)
    y = resample(x, orig, new)
    assert y.shape == (2, round(T * new / orig)) and y.dtype == torch.float32
    ref = torch.sin(2 * math.pi * 440 * torch.arange(y.shape[-1]) / new)
    assert (y[:, 300:-300] - ref[300:-300]).abs().max() < 5e-3
    freqs, mag = spectrum(y[0], 0.25, 0.5, sr=new)
    assert float(freqs[mag.argmax()]) == pytest.approx(440, abs=3)


def test_resample_removes_what_cannot_be_represented():
    x = torch.sin(2 * math.pi * 10_000 * torch.arange(44100) / 44100)
    y = resample(x, 44100, 16000)           # 10 kHz is above the new Nyquist (8 kHz)
    assert y[1000:-1000].pow(2).mean().sqrt() < 0.01


def test_wav_round_trip_and_clipping(tmp_path):
    x = torch.rand(2, 1000) * 1.8 - 0.9
    x[0, 0], x[1, 1] = 3.0, -3.0
    write_wav(tmp_path / "s.wav", x, 16000)
    y, sr = read_wav(tmp_path / "s.wav")
    assert sr == 16000 and y.shape == (2, 1000)
    assert (y[:, 2:] - x[:, 2:]).abs().max() < 1.5 / 32767
    assert y[0, 0] == pytest.approx(32767 / 32768) and y[1, 1] == pytest.approx(-32767 / 32768)
    write_wav(tmp_path / "m.wav", x[0], 8000)
    assert read_wav(tmp_path / "m.wav")[0].shape == (1, 1000)
    with pytest.raises(DataNotFoundError):
        read_wav(tmp_path / "nothing.wav")
    (tmp_path / "bad.wav").write_bytes(b"not a wav at all")
    with pytest.raises(SymbolicError, match="bad.wav"):
        read_wav(tmp_path / "bad.wav")


# ------------------------------------------------------------------ render() and the CLI


def test_one_signature_for_every_backend():
    import inspect

    import symbolic.audio as audio

    params = [list(inspect.signature(fn).parameters)[:9] for fn in BACKENDS.values()]
    assert all(p == params[0] for p in params)
    with pytest.raises(ValueError, match="^backend: must be one of"):
        render(make_score([(0, 1, 60, 90)]), backend="nope")
    # the package's lazy names resolve to the function whatever is imported first
    assert audio.render(make_score([(0, 0.2, 60, 90)]), 8000, device="cpu").shape[0] == 1
    assert callable(audio.render) and audio.NoteBatch.__name__ == "NoteBatch"


def test_render_command(tmp_path):
    parser = argparse.ArgumentParser(prog="symbolic")
    add_render_parser(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "chorale.wav"
    args = parser.parse_args(["render", CHORALE, str(out), "--sample-rate", "16000",
                              "--device", "cpu", "--channels", "2"])
    assert args.func(args) == 0
    wav, sr = read_wav(out)
    assert sr == 16000 and wav.shape[0] == 2 and wav.shape[1] >= 22.5 * 16000
    args = parser.parse_args(["render", str(tmp_path / "missing.mid"), str(out)])
    with pytest.raises(SymbolicError, match="missing.mid"):
        args.func(args)
