"""Continuous-noise samplers and HDiT inpainting: schedules, samplers that draw the right
distribution for a known denoiser and repeat with a seed, RePaint keeping the known region
exactly, and inpainting a real POP909 song with a tiny model trained here: no note outside
the mask changes; bad arguments name themselves; the command's error line."""

import numpy as np
import pytest
import symusic
import torch

import symbolic
from symbolic.cli import main
from symbolic.errors import ArgumentError, DataNotFoundError
from symbolic.models import sampling
from symbolic.models.hdit import Settings, load
from symbolic.models.hdit.generate import (clean_region, inpaint, inpaint_mask, mask_fill,
                                           window_starts)
from symbolic.models.hdit.train import train
from symbolic.representations.pianoroll import (decode, encode, save_png, with_mask)

TINY = dict(widths=[32, 64], depths=[1, 1], dropout=[0.0, 0.0], head_dim=16, kernel=5,
            mapping_width=32, mapping_depth=1, image_size=[128, 64], batch=2, steps=20,
            eval_every=20, checkpoint_every=20, threads=1)
S_DATA = 0.5


def gaussian_denoiser(x, sigma):
    """The exact denoiser of data ~ N(0, 0.5^2) per coordinate."""
    return x * S_DATA ** 2 / (S_DATA ** 2 + sigma.reshape(-1, *[1] * (x.dim() - 1)) ** 2)


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------------------------ samplers

def test_karras_sigmas():
    s = sampling.karras_sigmas(10, 0.01, 80)
    assert s.shape == (11,) and s[-1] == 0
    assert s[0].item() == pytest.approx(80) and s[-2].item() == pytest.approx(0.01)
    assert (s[1:] < s[:-1]).all()
    assert sampling.karras_sigmas(1, 0.01, 80).tolist() == [80.0, 0.0]


@pytest.mark.parametrize("name", ["sample_euler", "sample_heun", "sample_dpmpp_2m_sde"])
def test_samplers_draw_the_data_distribution_and_repeat(name):
    f = getattr(sampling, name)
    sigmas = sampling.karras_sigmas(100, 0.01, 80)

    def run(seed):
        g = torch.Generator().manual_seed(seed)
        return f(gaussian_denoiser, torch.randn(4000, 4, generator=g) * 80, sigmas, generator=g)

    a = run(0)
    assert a.shape == (4000, 4) and torch.isfinite(a).all()
    assert a.std().item() == pytest.approx(S_DATA, abs=0.03)
    assert torch.equal(a, run(0))
    seen = []
    f(gaussian_denoiser, a[:2] * 0 + 80, sigmas[:4], callback=seen.append,
      generator=torch.Generator().manual_seed(1))
    assert [r["i"] for r in seen] == [0, 1, 2]


@pytest.mark.parametrize("sampler,resample", [("euler", 1), ("heun", 2), ("dpmpp_2m_sde", 3)])
def test_repaint_keeps_the_known_region(sampler, resample):
    g = torch.Generator().manual_seed(0)
    known = torch.randn(200, 6, generator=g)
    mask = torch.zeros(200, 6, dtype=torch.bool)
    mask[:, 3:] = True
    sigmas = sampling.karras_sigmas(30, 0.01, 80)
    out = sampling.sample_inpaint(gaussian_denoiser, torch.randn(200, 6, generator=g) * 80,
                                  sigmas, known, mask, sampler=sampler, resample=resample,
                                  generator=g)
    assert torch.equal(out[:, :3], known[:, :3])
    assert 0.3 < out[:, 3:].std().item() < 0.7
    with pytest.raises(symbolic.SymbolicError, match="sampler"):
        sampling.sample_inpaint(gaussian_denoiser, out, sigmas, known, mask, sampler="ddim")


# ------------------------------------------------------------------------------ pieces

def test_window_starts_cover_the_masked_columns():
    cols = np.zeros(1000, bool)
    cols[300:340] = True
    assert window_starts(cols, 128) == [256]  # centred
    cols[300:700] = True
    starts = window_starts(cols, 128)
    covered = np.zeros(1000, bool)
    for s in starts:
        covered[s:s + 128] = True
    assert covered[cols].all() and starts == sorted(starts)
    assert window_starts(np.zeros(10, bool), 128) == []
    assert window_starts(np.ones(50, bool), 128) == [0]


def test_clean_region_never_lengthens_an_outside_note():
    original = np.zeros((128, 8, 3), np.uint8)
    original[60, 0] = (255, 100, 0)
    original[60, 1:3, 1] = 100  # a note on steps 0-2 of row 60
    mask = np.zeros((128, 8), bool)
    mask[:, 3:6] = True
    generated = np.zeros_like(original)
    generated[60, 3:5, 1] = 90  # would extend the note
    generated[10, 4, 1] = 10  # too faint: silence
    out = clean_region(generated, original, mask)
    assert out[60, 3, 0] == 255 and out[10, 4, 1] == 0
    assert np.array_equal(out[~mask], original[~mask])
    notes = decode(out).tracks[0].notes.numpy()
    first = notes["time"][notes["pitch"] == 67][0], notes["duration"][notes["pitch"] == 67][0]
    assert first == (0, 360)  # three 16ths at 480 ticks per quarter
    assert mask_fill(out[None], mask)[0] == pytest.approx(2 / mask.sum())


# ------------------------------------------------------------------------------ inpainting

@pytest.fixture(scope="module")
def tiny_model(pop909_root, tmp_path_factory):
    import os

    folder = tmp_path_factory.mktemp("hdit")
    old = os.environ.get("SYMBOLIC_CACHE")
    os.environ["SYMBOLIC_CACHE"] = str(folder / "cache")
    try:
        torch.set_num_threads(1)
        train(Settings(**TINY), folder / "model", data_path=pop909_root, device="cpu",
              limit=2, progress=False)
    finally:
        if old is None:
            del os.environ["SYMBOLIC_CACHE"]
        else:
            os.environ["SYMBOLIC_CACHE"] = old
    return str(folder / "model")


def _note_pixels(score, grid):
    """Notes as (pitch, first step, end step, velocity) rows."""
    steps = grid.step_ticks()
    n = score.tracks[0].notes.numpy()
    a = np.searchsorted(steps, n["time"])
    b = np.searchsorted(steps, n["time"] + n["duration"])
    return np.stack([n["pitch"], a, b, n["velocity"]], 1).astype(np.int64)


def _outside(notes, mask):
    """The notes none of whose pixels lie in ``mask``, as a set."""
    keep = set()
    for p, a, b, v in notes:
        if not mask[127 - p, a:b].any():
            keep.add((int(p), int(a), int(b), int(v)))
    return keep


@pytest.mark.parametrize("how", ["ranges", "strokes"])
def test_inpaint_changes_no_note_outside_the_mask(pop909, tiny_model, how):
    song = pop909.song(880)
    roll = encode(song.score, bar_ticks=song.bar_ticks())
    if how == "ranges":
        kw = dict(bars=(9, 20), pitches=(48, 84))  # 12 bars: several windows of 4 bars
    else:
        m = np.zeros(roll.image.shape[:2], bool)
        m[40:70, 150:230] = True
        m[60:64, 100:400] = True
        kw = dict(mask=m)
    score, image = inpaint(song.score, bar_ticks=song.bar_ticks(), steps=4, candidates=2,
                           resample=2, model=tiny_model, device="cpu", merge=True, **kw)
    mask = inpaint_mask(roll, **kw)
    assert image.shape == roll.image.shape and np.array_equal(image[~mask], roll.image[~mask])
    notes = _note_pixels(decode(roll), roll.grid)
    before = _outside(notes, mask)
    after = _note_pixels(score, roll.grid)
    assert before <= {tuple(int(v) for v in n) for n in after} and len(before) > 500
    # a note outside the mask now is one before, or one that ran into the mask, cut at its edge
    ran_in = {(int(p), int(a)) for p, a, b, v in notes if mask[127 - p, a:b].any()}
    for p, a, b, v in _outside(after, mask) - before:
        assert (p, a) in ran_in and mask[127 - p, b]
    assert isinstance(score, symusic.Score)
    assert score.ticks_per_quarter == roll.meta.ticks_per_quarter


def test_a_band_keeps_its_tracks_and_every_note_outside_the_region(pop909, tiny_model):
    from symbolic.data.band import band_song
    from symbolic.models.hdit.generate import INPAINTED_TRACK, touches

    song = pop909.song(880)
    band = band_song(song)
    kw = dict(bars=(9, 12), pitches=(36, 84))
    out, image = inpaint(band, bar_ticks=song.bar_ticks(), steps=3, model=tiny_model,
                         device="cpu", seed=0, **kw)
    roll = encode(band, bar_ticks=song.bar_ticks())
    mask = inpaint_mask(roll, **kw)
    steps = roll.grid.step_ticks()
    names = [t.name for t in band.tracks]
    assert [t.name for t in out.tracks] == names + [INPAINTED_TRACK[0]]
    removed = 0
    for a, b in zip(band.tracks, out.tracks):
        n = a.notes.numpy()
        hit = np.zeros(len(n["time"]), bool) if a.is_drum else touches(n, mask, steps)
        kept = {k: v[~hit] for k, v in n.items()}
        assert all(np.array_equal(kept[k], b.notes.numpy()[k]) for k in kept), a.name
        removed += int(hit.sum())
    assert removed > 20 and band.tracks[-1].is_drum  # the drums are whole
    new = out.tracks[-1].notes.numpy()
    assert len(new["time"]) and touches(new, mask, steps).all()
    merged, image2 = inpaint(band, bar_ticks=song.bar_ticks(), steps=3, model=tiny_model,
                             device="cpu", seed=0, merge=True, **kw)
    assert len(merged.tracks) == 1 and np.array_equal(image, image2)


def test_inpaint_repeats_with_a_seed_and_ranks_candidates(pop909, tiny_model):
    song = pop909.song(880)
    kw = dict(bars=(5, 6), pitches=(60, 72), bar_ticks=song.bar_ticks(), steps=3,
              model=tiny_model, device="cpu")
    _, a = inpaint(song.score, seed=3, **kw)
    _, b = inpaint(song.score, seed=3, **kw)
    assert np.array_equal(a, b)
    roll = encode(song.score, bar_ticks=song.bar_ticks())
    mask = inpaint_mask(roll, bars=(5, 6), pitches=(60, 72))
    fills = [mask_fill(inpaint(song.score, candidates=4, busyness=t, **kw)[1], mask)
             for t in (0.0, 1.0)]
    assert fills[0] <= fills[1]
    chosen = []
    inpaint(song.score, candidates=3, rank=lambda img, m: chosen.append(1) or 0.0, **kw)
    assert len(chosen) == 3


def test_inpaint_from_a_drawn_png_and_the_api(pop909, tiny_model, tmp_path):
    song = pop909.song(880)
    roll = encode(song.score, bar_ticks=song.bar_ticks())
    m = np.zeros(roll.image.shape[:2], bool)
    m[50:70, 64:120] = True
    drawn = roll.image.copy()
    drawn[m] = (0, 0, 255)
    from PIL import Image

    Image.fromarray(drawn).save(tmp_path / "drawn.png")
    _, image = symbolic.inpaint(roll, mask_png=tmp_path / "drawn.png", steps=2,
                                model=tiny_model, device="cpu", chords=None)
    assert np.array_equal(image[~m], roll.image[~m])
    _, image2 = inpaint(roll.image, m, steps=2, model=tiny_model, device="cpu", chords=[1] * 12)
    assert np.array_equal(image2[~m], roll.image[~m])


@pytest.mark.parametrize("kwargs,name", [
    (dict(steps=0), "steps"), (dict(resample=0), "resample"), (dict(candidates=0), "candidates"),
    (dict(busyness=1.5), "busyness"), (dict(sampler="ddim"), "sampler"),
    (dict(seed=-1), "seed"), (dict(chords="C G"), "chords"),
    (dict(bars=(12, 9), mask=None), "bars"), (dict(pitches=(60, 200), mask=None), "pitches"),
    (dict(bars=(1, 2)), "mask"), (dict(mask=np.zeros((128, 10), bool)), "mask"),
    (dict(mask=np.zeros((128, 64), bool)), "mask"),
])
def test_bad_arguments_name_themselves(kwargs, name):
    image = np.zeros((128, 64, 3), np.uint8)
    args = dict(mask=np.ones((128, 64), bool), model="/nonexistent/model")
    args.update(kwargs)
    with pytest.raises(ArgumentError) as e:
        inpaint(image, **args)
    assert e.value.source == name


def test_shipped_weights_inpaint_a_real_song(pop909):
    net = load()
    assert net.n_parameters() > 500_000
    song = pop909.song(880)
    roll = encode(song.score, bar_ticks=song.bar_ticks())
    kw = dict(bars=(9, 12), pitches=(36, 84))
    score, image = inpaint(song.score, bar_ticks=song.bar_ticks(), steps=8, candidates=2,
                           seed=0, device="cpu", merge=True, **kw)
    mask = inpaint_mask(roll, **kw)
    assert np.array_equal(image[~mask], roll.image[~mask])
    before = _outside(_note_pixels(decode(roll), roll.grid), mask)
    after = _note_pixels(score, roll.grid)
    assert before <= {tuple(int(v) for v in n) for n in after}
    inside = [n for n in after if mask[127 - n[0], n[1]]]
    assert len(inside) >= 8  # the region is filled with notes, not left silent
    with pytest.raises(DataNotFoundError):
        load("/no/such/hdit/folder")


def test_inpaint_command(pop909, tiny_model, tmp_path, capsys):
    song = pop909.song(880)
    roll = encode(song.score, bar_ticks=song.bar_ticks())
    src = tmp_path / "in.png"
    save_png(roll, src)
    out, png = tmp_path / "out.mid", tmp_path / "out.png"
    assert main(["inpaint", str(src), "--bars", "9-10", "--pitches", "60-84", "-o", str(out),
                 "--png", str(png), "--steps", "2", "--model", tiny_model,
                 "--device", "cpu"]) == 0
    assert out.is_file() and png.is_file()
    assert main(["inpaint", str(src), "--bars", "12-9", "--model", tiny_model]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --bars:")
    assert main(["inpaint", str(src), "--bars", "9", "--resample", "0",
                 "--model", tiny_model]) == 2
    assert capsys.readouterr().err.startswith("error: --resample:")
    assert main(["inpaint", str(src), "--bars", "9", "--meter", "4/4"]) == 2
    assert capsys.readouterr().err.startswith("error: --meter:")
    mid = tmp_path / "raw.mid"  # a raw POP909 file declares 1/4: --meter 4/4 counts real bars
    song.score.dump_midi(str(mid))
    assert main(["inpaint", str(mid), "--bars", "3-4", "--meter", "4/4", "--steps", "2",
                 "--model", tiny_model, "-o", str(tmp_path / "m.mid")]) == 0
    capsys.readouterr()
    assert main(["inpaint", str(src), "--bars", "9", "--model", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "none" in err[0]
    assert with_mask(roll.image, inpaint_mask(roll, bars=(9, 9))).shape == roll.image.shape
