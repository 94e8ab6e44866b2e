"""Gibbs-style resampling (issue #13, item 3): the re-masking rules of
symbolic.models.sampling and GETDiff's ``sample(..., resample=N)`` through infill and compose."""

import numpy as np
import pytest
import torch

import symbolic
from symbolic.errors import ArgumentError, SymbolicError
from symbolic.models import getdiff as gd
from symbolic.models import sampling as S

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------ re-masking rules

@pytest.mark.parametrize("name", sorted(S.GIBBS_MASKS))
def test_gibbs_masks_are_seeded_annealed_subsets_of_the_target(name):
    mask = S.gibbs_masker(name)
    gen = torch.Generator().manual_seed(0)
    target = torch.rand(4, 3, 400, generator=gen) < 0.7
    shares = []
    for i in range(5):
        got = mask(target, i, 5, torch.Generator().manual_seed(10 + i))
        assert got.dtype == torch.bool and got.shape == target.shape
        assert not (got & ~target).any()
        assert torch.equal(got, mask(target, i, 5, torch.Generator().manual_seed(10 + i)))
        shares.append(float(got.sum() / target.sum()))
    assert shares[0] == pytest.approx(0.5, abs=0.06) and shares[-1] == pytest.approx(0.1, abs=0.04)
    assert all(a > b for a, b in zip(shares, shares[1:]))  # annealed: fewer cells each pass
    assert S.gibbs_fraction(0, 1) == 0.5
    assert S.gibbs_fraction(2, 3, 0.9, 0.05) == pytest.approx(0.05)


def test_blocked_gibbs_rewrites_whole_beats_of_a_track():
    target = torch.ones(2, 3, 64, dtype=torch.bool)
    got = S.gibbs_mask(target, 0, 2, torch.Generator().manual_seed(4))
    for row in got.reshape(-1, 64).int().tolist():
        runs, run = [], 0
        for v in row + [0]:
            if v:
                run += 1
            elif run:
                runs.append(run)
                run = 0
        inner = runs[1:-1] if len(runs) > 2 else []  # edge blocks may be cut by the window
        assert all(r % S.GIBBS_BLOCK == 0 for r in inner), row
    cells = S.gibbs_cells(target, 0, 2, torch.Generator().manual_seed(4))
    assert not torch.equal(got, cells)


def test_bad_resampling_arguments_are_named(model):
    with pytest.raises(SymbolicError, match="^resample_mask: must be one of blocks, cells"):
        S.gibbs_masker("rows")
    for bad in (-1, 101, 2.5, "two"):
        with pytest.raises(ArgumentError, match=r"^resample: "):
            symbolic.compose("C G", model=model, steps=2, resample=bad)
    song = symbolic.compose("C G Am F", model=model, steps=2)
    with pytest.raises(ArgumentError, match=r"^resample: must be in \[0, 100\]"):
        symbolic.infill(song, tracks=["piano"], bars=(1, 2), model=model, resample=101)


# ------------------------------------------------------------------ the sampler

@pytest.fixture(scope="module")
def model():
    return gd.load(device="cpu")


@pytest.fixture(scope="module")
def batch(pop909_root):
    """Real held-out windows for the previous shipped model (three tracks)."""
    songs = gd.pop909_grids("valid", path=pop909_root, progress=False)
    b = gd.training_batch(songs, np.random.default_rng(3), batch=4, bars=8, width=128,
                          n_tracks=3, scenario="span")
    return gd.load("getdiff-pop909", device="cpu"), *(torch.from_numpy(b[k]) for k in
                                                       ("tokens", "role", "bar_pos"))


def test_resampling_keeps_sources_and_rewrites_some_targets(batch):
    prev, tok, role, pos = batch

    def run(resample, scores=None):
        return gd.sample(prev, tok, role, pos, steps=4, order="random", resample=resample,
                         generator=torch.Generator().manual_seed(0), scores=scores)

    plain, s0, s3 = run(0), [], []
    assert torch.equal(plain, run(0, s0))
    again = run(3, s3)
    assert torch.equal(again, run(3))
    target = role[:, :3] == gd.ROLE_TARGET
    changed = 0
    for j in range(3):
        for r in (2 * j, 2 * j + 1):
            assert torch.equal(again[:, r][~target[:, j]], tok[:, r][~target[:, j]])
            changed += int((again[:, r] != plain[:, r])[target[:, j]].sum())
        on, du = again[:, 2 * j], again[:, 2 * j + 1]
        assert ((on == gd.PAD) == (du == gd.PAD))[target[:, j]].all()
    assert not (again == gd.MASK).any()
    assert changed > 0
    assert len(s3) == 4 and all(np.isfinite(s3)) and all(v < 0 for v in s3)
    assert s0 != s3


def test_resample_zero_is_the_pinned_sampler():
    from test_pinned_outputs import COMPOSE, digest

    out = symbolic.compose("C | G | Am | F", bars=4, steps=8, seed=3, device="cpu", resample=0)
    assert digest(out) == COMPOSE
    other = symbolic.compose("C | G | Am | F", bars=4, steps=8, seed=3, device="cpu",
                             resample=2)
    assert digest(other) != COMPOSE


def test_resampled_infill_keeps_the_rest_and_the_pitch_range(model, pop909):
    from symbolic.timeline import MetricGrid

    song = pop909.song(880)
    bt = song.bar_ticks()
    out = symbolic.infill(song.score, tracks=["piano"], bars=(3, 6), bar_ticks=bt, steps=8,
                          seed=5, model=model, pitch_range=(60, 72), resample=3)
    counted = MetricGrid.from_score(song.score, resolution=4, bar_ticks=bt).bar_ticks
    lo, hi = counted[2], counted[6]  # bars 3-6 as infill counts them (a pickup bar first)
    for before, after in zip(song.score.tracks, out.tracks):
        a, b = before.notes.numpy(), after.notes.numpy()
        if after.name != "PIANO":
            assert all(np.array_equal(a[k], b[k]) for k in a)
            continue
        inside = (b["time"] >= lo) & (b["time"] < hi)
        assert inside.any() and ((b["pitch"][inside] >= 60) & (b["pitch"][inside] <= 72)).all()
        keep = (a["time"] < lo) | (a["time"] >= hi)
        assert np.array_equal(np.sort(a["time"][keep]), np.sort(b["time"][~inside]))
