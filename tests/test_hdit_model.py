"""HDiT: neighbourhood attention against a naive reference, the model's contract (shapes,
zero output at init, save/load), EDM training that learns on real POP909 piano rolls, and the
settings' checks."""

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from symbolic.errors import ArgumentError
from symbolic.models.hdit import (
    HDiT, Settings, denoise, edm_loss, images_to_tensor, loss_weight, scalings, tensor_to_images,
    training_sigmas,
)
from symbolic.models.layers import attention, neighborhood_attention

POP909 = Path(os.environ.get("SYMBOLIC_DATA", "../shared/data")) / "pop909"
TINY = dict(widths=[32, 64], depths=[1, 1], dropout=[0.0, 0.0], head_dim=16, kernel=5,
            mapping_width=32, mapping_depth=1, image_size=[64, 64], chord_dim=12)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------------------- neighbourhood attention

def naive_neighborhood_attention(q, k, v, kernel):
    """The definition, one query at a time: a dense [HW, HW] mask of each query's window
    (top-left corner clamped into the grid; an axis shorter than the kernel is seen whole),
    then softmax attention over all keys in float64."""
    b, h, w, heads, d = q.shape
    kh, kw = min(kernel, h), min(kernel, w)
    allowed = torch.zeros(h * w, h * w, dtype=torch.bool)
    for i in range(h):
        for j in range(w):
            r0 = min(max(i - kh // 2, 0), h - kh)
            c0 = min(max(j - kw // 2, 0), w - kw)
            for r in range(r0, r0 + kh):
                for c in range(c0, c0 + kw):
                    allowed[i * w + j, r * w + c] = True
    qf, kf, vf = (x.double().reshape(b, h * w, heads, -1).transpose(1, 2) for x in (q, k, v))
    scores = (qf @ kf.transpose(-1, -2) / math.sqrt(d)).masked_fill(~allowed, -math.inf)
    out = scores.softmax(-1) @ vf
    return out.transpose(1, 2).reshape(b, h, w, heads, -1)


@pytest.mark.parametrize("size", [(7, 7), (9, 12), (16, 16), (12, 5)])
@pytest.mark.parametrize("kernel", [3, 5, 7])
def test_neighborhood_attention_matches_definition(size, kernel):
    g = torch.Generator().manual_seed(kernel * 100 + size[0])
    q, k, v = (torch.randn(2, *size, 3, 8, generator=g) * 2 for _ in range(3))
    ref = naive_neighborhood_attention(q, k, v, kernel)
    for tile in (1, 3, 8):  # edge tiles, overlapping last tiles, halos clamped to the grid
        out = neighborhood_attention(q, k, v, kernel, tile=tile)
        assert out.shape == q.shape
        assert (out.double() - ref).abs().max().item() < 1e-5


def test_neighborhood_attention_edges_see_shifted_windows():
    """A corner query sees the kernel x kernel block at the corner, not a clipped window: a
    value planted just inside that block reaches it, one just outside does not."""
    h = w = 9
    q = torch.zeros(1, h, w, 1, 4)
    k = torch.zeros(1, h, w, 1, 4)
    v = torch.zeros(1, h, w, 1, 4)
    k[0, 2, 2, 0, 0] = k[0, 3, 3, 0, 0] = 50.0  # both strong keys
    q[..., 0] = 1.0
    v[0, 2, 2, 0, 1] = 1.0  # inside the corner's 3x3 window (rows/cols 0-2)
    v[0, 3, 3, 0, 2] = 1.0  # outside it
    out = neighborhood_attention(q, k, v, 3)
    assert out[0, 0, 0, 0, 1] > 0.99 and out[0, 0, 0, 0, 2] < 1e-6


def test_small_grid_falls_back_to_global_attention():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 5, 6, 2, 8, generator=g) for _ in range(3))
    out = neighborhood_attention(q, k, v, 7)
    full = attention(*(x.reshape(2, 30, 2, 8) for x in (q, k, v))).reshape(q.shape)
    assert torch.allclose(out, full, atol=1e-6)


def test_neighborhood_attention_rejects_even_kernel():
    q = torch.zeros(1, 8, 8, 1, 4)
    with pytest.raises(ValueError, match="odd"):
        neighborhood_attention(q, q, q, 4)


# ------------------------------------------------------------------------------ real crops

@pytest.fixture(scope="module")
def crops():
    """64 x 64 crops of POP909 song 1's merged piano roll (pitches 99 to 36, 4 bars each) that
    hold notes, in model range."""
    if not (POP909 / "001" / "001.mid").is_file():
        pytest.skip(f"POP909 not found at {POP909} (set SYMBOLIC_DATA)")
    from symbolic.data.pop909 import Pop909
    from symbolic.representations.pianoroll import encode

    song = Pop909(POP909).song(1)
    image = encode(song.score, bar_ticks=song.bar_ticks()).image  # [128, W, 3]
    rows = image[127 - 99:127 - 35]
    found = [rows[:, s:s + 64] for s in range(64, rows.shape[1] - 64, 64)]
    found = [c for c in found if (c[..., 1] > 0).mean() > 0.03][:8]
    assert len(found) == 8
    return images_to_tensor(np.stack(found))


def test_pixels_round_trip(crops):
    assert crops.shape == (8, 3, 64, 64) and crops.min() == -1 and crops.max() == 1
    back = tensor_to_images(crops)
    assert np.array_equal(images_to_tensor(back), crops)


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return HDiT(Settings(**TINY))


def test_forward_shape_zero_at_init_then_learns(crops):
    model = tiny_model()
    sigma = torch.tensor([0.05, 0.5, 3.0, 40.0])
    cond = torch.rand(4, 12)
    out = model(crops[:4], sigma, cond)
    assert out.shape == (4, 3, 64, 64) and torch.isfinite(out).all()
    assert out.abs().max().item() == 0.0  # the output layer starts at zero
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    edm_loss(model, crops[:4], cond, generator=torch.Generator().manual_seed(0)).backward()
    opt.step()
    after = model(crops[:4], sigma, cond)
    assert torch.isfinite(after).all() and after.abs().max().item() > 1e-4


def test_edm_loss_decreases_on_real_crops(crops):
    model = tiny_model(1)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    mask = torch.zeros(8, 1, 64, 64, dtype=torch.bool)
    mask[:4] = True  # half the batch unconditional, half inpainting bars 2-3
    mask[4:, :, :, 32:] = True
    probe_sigma = torch.tensor([0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 0.3, 1.5])

    def probe():
        with torch.no_grad():
            return edm_loss(model, crops, None, mask, torch.Generator().manual_seed(7),
                            sigma=probe_sigma).item()

    before = probe()
    for _ in range(30):
        opt.zero_grad()
        edm_loss(model, crops, None, mask, generator=g).backward()
        opt.step()
    after = probe()
    assert after < 0.6 * before, (before, after)


def test_inpainting_mask_limits_the_loss_and_keeps_known_pixels(crops):
    model = tiny_model(2)
    with torch.no_grad():
        for p in model.patch_out.parameters():
            p.normal_(0, 0.05)  # a model whose output is not zero
    x = crops[:2]
    mask = torch.zeros(2, 1, 64, 64, dtype=torch.bool)
    mask[..., 16:48, 16:48] = True
    g = torch.Generator().manual_seed(3)
    noisy = x + torch.randn(x.shape, generator=g)
    d = denoise(model, noisy, 1.0, known=x, mask=mask)
    assert torch.equal(d[..., :16, :], x[..., :16, :])
    assert not torch.allclose(d[..., 16:48, 16:48], x[..., 16:48, 16:48])
    # The loss counts masked pixels only: for a model that ignores its input (F = 0 at
    # init), flipping pixels outside the mask leaves the loss as it was.
    zero = tiny_model(2)
    x2 = x.clone()
    x2[..., :16, :] = -x2[..., :16, :]
    sigma = torch.tensor([0.7, 2.0])
    loss1 = edm_loss(zero, x, None, mask, torch.Generator().manual_seed(4), sigma=sigma)
    loss2 = edm_loss(zero, x2, None, mask, torch.Generator().manual_seed(4), sigma=sigma)
    assert torch.allclose(loss1, loss2) and loss1 > 0


def test_chord_vector_must_fit():
    model = HDiT(dict(TINY, chord_dim=0))
    x, sigma = torch.zeros(1, 3, 64, 64), torch.ones(1)
    assert model(x, sigma).shape == x.shape
    with pytest.raises(ValueError, match="chord_dim 0"):
        model(x, sigma, torch.zeros(1, 12))
    with pytest.raises(ValueError, match=r"cond \[B, 12\]"):
        tiny_model()(x, sigma, torch.zeros(1, 5))


def test_save_load_round_trip(crops, tmp_path):
    model = tiny_model(3)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(3):  # zero-init outputs: the third step is the first to move the norms
        opt.zero_grad()
        edm_loss(model, crops[:2], torch.rand(2, 12)).backward()
        opt.step()
    model.eval()
    model.save_pretrained(tmp_path / "hdit")
    back = HDiT.from_pretrained(str(tmp_path / "hdit"))
    assert back.settings == model.settings
    sigma, cond = torch.tensor([0.3, 4.0]), torch.rand(2, 12)
    with torch.no_grad():
        a, b = model(crops[:2], sigma, cond), back(crops[:2], sigma, cond)
    assert a.abs().max() > 0 and torch.equal(a, b)
    with torch.no_grad():  # the chords are read
        assert (a - model(crops[:2], sigma, None)).abs().max() > 1e-6


# ------------------------------------------------------------------------------- EDM pieces

def test_edm_scalings_and_weight():
    sigma = torch.tensor([0.01, 0.5, 160.0])
    c_skip, c_out, c_in = scalings(sigma)
    # D's target has unit variance: c_skip^2 s^2 + ... (Karras et al. eq. 7 family)
    s = 0.5
    assert torch.allclose(c_skip * s ** 2 + c_out ** 2, torch.full((3,), s ** 2), rtol=1e-5)
    assert torch.allclose(c_in ** 2 * (sigma ** 2 + s ** 2), torch.ones(3))
    w = loss_weight(sigma)
    assert torch.allclose(w / c_out ** 2, 1 / (sigma ** 2 + s ** 2))  # D-space soft-min-SNR
    assert abs(w[1].item() - 0.25) < 1e-6


def test_training_sigmas_span_and_shift():
    g = torch.Generator().manual_seed(0)
    small = training_sigmas(20000, 32, generator=g)
    large = training_sigmas(20000, 256, generator=torch.Generator().manual_seed(0))
    for s in (small, large):
        assert s.min() >= 0.01 and s.max() <= 160.0
    # a larger image draws more noise (the high-noise end follows a 32-pixel image's schedule)
    assert large.median() > 1.5 * small.median()


# -------------------------------------------------------------------------------- settings

def test_pictures_of_midi_size():
    model = HDiT(Settings.pictures_of_midi())
    assert 18e6 <= model.n_parameters() <= 26e6
    assert model.settings.image_size == [256, 256] and model.middle.blocks[0].kernel is None
    assert all(level.blocks[0].kernel == 7 for level in model.down)


@pytest.mark.parametrize("change, field", [
    (dict(kernel=4), "kernel"),
    (dict(depths=[2]), "depths"),
    (dict(dropout=[0.0, 1.5]), "dropout"),
    (dict(head_dim=12), "head_dim"),
    (dict(widths=[64, 100]), "widths"),
    (dict(image_size=[100, 128]), "image_size"),
    (dict(widths=[]), "widths"),
    (dict(patch=0), "patch"),
])
def test_bad_settings_name_the_field(change, field):
    with pytest.raises(ArgumentError, match=f"^{field}: "):
        Settings(**change)
