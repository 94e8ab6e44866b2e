"""Piano-roll images: exact round trips on real files, the report, validity, folding, masks, PNG."""

from collections import Counter

import numpy as np
import pytest
import symusic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbolic.errors import EncodeError
from symbolic.representations import EncodeReport
from symbolic.representations import pianoroll as pr
from symbolic.timeline import MetricGrid

POP_SONGS = (1, 2, 15)
PITCHES = pr.PITCHES


def _notes(score, merged):
    """Multiset of (track, pitch, onset, duration, velocity) (track 0 for all when merged)."""
    out = Counter()
    for k, track in enumerate(score.tracks):
        if track.is_drum or not len(track.notes):
            continue
        n = track.notes.numpy()
        for note in zip(n["pitch"], n["time"], n["duration"], n["velocity"]):
            out[(0 if merged else k,) + tuple(int(v) for v in note)] += 1
    return out


def _check_roundtrip(score, roll, mode):
    back = pr.decode(roll)
    again = pr.encode(back, mode=mode, grid=roll.grid)
    assert np.array_equal(again.image, roll.image)
    assert again.report.lossless and again.report.notes_in == back.note_num()
    assert pr.is_valid(roll.image)
    # The report is what decode really gives back, note for note.
    rep = roll.report
    assert rep.kept_exact + rep.altered + rep.dropped == rep.notes_in == score.note_num()
    assert back.note_num() == rep.kept_exact + rep.altered
    found = _notes(score, mode == "merged") & _notes(back, mode == "merged")
    assert sum(found.values()) == rep.kept_exact
    assert [t.time for t in back.tempos] == [t.time for t in score.tempos]
    assert [t.mspq for t in back.tempos] == [t.mspq for t in score.tempos]
    return back


# ------------------------------------------------------------------------------ real files

@pytest.mark.parametrize("song_id", POP_SONGS)
def test_pop909_exact_image_roundtrip_and_report(pop909, song_id):
    song = pop909.song(song_id)
    total = EncodeReport()
    for mode in ("merged", "tracks"):
        roll = pr.encode(song.score, mode=mode, bar_ticks=song.bar_ticks())
        assert roll.image.dtype == np.uint8
        assert roll.image.shape[-3:] == (128, roll.grid.n_steps, 3)
        assert roll.grid.bar_ticks[1] == song.bar_ticks()[0]  # bars from the annotated downbeats
        back = _check_roundtrip(song.score, roll, mode)
        if mode == "tracks":
            assert roll.image.shape[0] == 3
            assert [t.name for t in back.tracks] == ["MELODY", "BRIDGE", "PIANO"]
        else:
            assert len(back.tracks) == 1 and roll.tracks == [pr.MERGED_TRACK]
        total = total + roll.report
    # POP909 ends are performed, not quantized: most notes move, few are dropped.
    assert total.altered > total.kept_exact
    assert total.dropped < 0.05 * total.notes_in
    assert total.reasons["duration quantized"] > 0


def test_bach_chorales_tracks_lossless_merged_collisions():
    from symbolic.data.music21_corpus import bach_chorales

    for name, score in bach_chorales(limit=3):
        tracks = pr.encode(score, mode="tracks")
        assert tracks.report.lossless, (name, str(tracks.report))  # 16th grid holds chorales
        _check_roundtrip(score, tracks, "tracks")
        merged = pr.encode(score)
        _check_roundtrip(score, merged, "merged")
        # Only voices meeting on one pitch lose anything when merged.
        assert set(merged.report.reasons) <= {"same-pitch onset collision",
                                              "cut by a later same-pitch note",
                                              "extended over an overlapping note"}


def test_drums_are_counted_not_drawn_and_strict_raises():
    from symbolic.fuzz import seed_midi

    score = symusic.Score.from_midi(seed_midi(3))
    roll = pr.encode(score, mode="tracks")
    drums = sum(t.note_num() for t in score.tracks if t.is_drum)
    assert roll.report.reasons["drum track"] == drums > 0
    assert roll.image.shape[0] == sum(not t.is_drum for t in score.tracks)
    with_drums = pr.encode(score, mode="tracks", drums=True)
    assert with_drums.image.shape[0] == len(score.tracks)
    assert "drum track" not in with_drums.report.reasons
    with pytest.raises(EncodeError, match="seed3.mid: .* altered"):
        pr.encode(score, strict=True, source="seed3.mid")
    assert str(pr.encode(score, source="seed3.mid").report).startswith("seed3.mid: ")


def test_encode_known_losses():
    score = symusic.Score(480)
    t = symusic.Track("piano", 0, False)
    # exact 16th; onset off-grid; too short; same-pitch overlap (cut + extended); velocity 0;
    # an exact duplicate (collision)
    notes = [(0, 120, 60, 100), (130, 230, 62, 50), (480, 10, 64, 70),
             (960, 480, 65, 90), (1080, 120, 65, 80), (1920, 120, 67, 0),
             (2400, 240, 69, 40), (2400, 240, 69, 40)]
    for time, dur, pitch, vel in notes:
        t.notes.append(symusic.Note(time, dur, pitch, vel))
    score.tracks.append(t)
    roll = pr.encode(score)
    r = roll.report
    assert (r.notes_in, r.kept_exact, r.altered, r.dropped) == (8, 2, 5, 1)
    assert r.reasons == Counter({"onset quantized": 1, "shorter than a step": 1,
                                 "cut by a later same-pitch note": 1,
                                 "extended over an overlapping note": 1,
                                 "velocity 0 raised to 1": 1, "same-pitch onset collision": 1})
    img = roll.image
    assert img[127 - 60, 0].tolist() == [255, 200, 0] and img[127 - 60, 1, 1] == 0
    assert img[127 - 64, 4:6, 1].tolist() == [140, 0]  # 10 ticks -> one pixel
    row = img[127 - 65, 8:14]  # 960-1440 at velocity 90, then 1080-1200 at velocity 80
    assert row[:, 0].tolist() == [255, 255, 0, 0, 0, 0]  # onsets at steps 8 and 9
    assert row[:, 1].tolist() == [180, 160, 160, 160, 0, 0]  # the later note owns the tail
    back = pr.decode(roll).tracks[0].notes.numpy()
    f = back["pitch"] == 65
    assert back["duration"][f].tolist() == [120, 360] and back["velocity"][f].tolist() == [90, 80]


# ------------------------------------------------------------------------- property tests

@st.composite
def valid_images(draw, max_width=40, max_tracks=2):
    """Every valid image: per chosen row, runs of adjacent notes separated by gaps."""
    width = draw(st.integers(1, max_width))
    n_tracks = draw(st.integers(0, max_tracks))
    shape = (PITCHES,) if n_tracks == 0 else (n_tracks, PITCHES)
    image = np.zeros(shape[:-1] + (PITCHES, width, 3), np.uint8)
    flat = image.reshape(-1, width, 3)
    rows = draw(st.lists(st.integers(0, len(flat) - 1), max_size=6, unique=True))
    for r in rows:
        pos = draw(st.integers(0, width - 1))
        while pos < width:
            length = draw(st.integers(1, 6))
            vel = draw(st.integers(1, 127))
            flat[r, pos, 0] = 255
            flat[r, pos:pos + length, 1] = 2 * vel
            pos += length + draw(st.sampled_from([0, 0, 1, 3, 8]))
    blue = draw(st.booleans())
    return image, blue


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_images(), st.sampled_from([96, 480, 384]), st.integers(40, 200))
def test_property_encode_decode_is_identity_on_valid_images(drawn, tpq, qpm):
    image, blue = drawn
    if blue:  # the mask channel is ignored by decode
        image = pr.with_mask(image, np.arange(image.shape[-2]) % 3 == 0)
    assert pr.is_valid(image)
    meta = pr.default_meta(image.shape[-2], ticks_per_quarter=tpq, qpm=qpm)
    tracks = [pr.MERGED_TRACK] if image.ndim == 3 else \
        [(f"t{k}", k, False) for k in range(len(image))]
    roll = pr.PianoRoll(image, meta, tracks)
    score = pr.decode(roll)
    again = pr.encode(score, mode="merged" if image.ndim == 3 else "tracks", grid=meta.grid)
    assert np.array_equal(again.image[..., :2], image[..., :2])
    assert not again.image[..., 2].any()
    assert again.report.lossless
    assert again.tracks == tracks


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 24))
def test_property_decode_of_any_image_is_a_projection(seed, width):
    """Noisy, non-binary images decode to notes whose image decodes to the same notes."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (128, width, 3)).astype(np.uint8)
    image[..., 1] *= rng.random((128, width)) < 0.3
    score = pr.decode(image, green_min=20)
    roll = pr.encode(score, grid=pr.default_meta(width).grid)
    assert pr.is_valid(roll.image) and roll.report.lossless
    assert _notes(pr.decode(roll), True) == _notes(score, True)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 700), st.integers(0, 127),
                          st.integers(0, 127), st.integers(0, 2)), max_size=40))
def test_property_encode_is_stable_on_any_score(notes):
    score = symusic.Score(480)
    for k in range(3):
        track = symusic.Track(f"t{k}", k, False)
        for time, dur, pitch, vel, which in notes:
            if which == k:
                track.notes.append(symusic.Note(time, dur, pitch, vel))
        score.tracks.append(track)
    for mode in ("merged", "tracks"):
        roll = pr.encode(score, mode=mode)
        rep = roll.report
        assert rep.notes_in == len(notes) == rep.kept_exact + rep.altered + rep.dropped
        back = pr.decode(roll)
        assert back.note_num() == rep.kept_exact + rep.altered
        assert sum((_notes(score, mode == "merged") & _notes(back, mode == "merged")).values()) \
            == rep.kept_exact
        assert np.array_equal(pr.encode(back, mode=mode, grid=roll.grid).image, roll.image)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=1, max_size=12), st.sampled_from([1, 2, 4, 3]),
       st.lists(st.integers(0, 40000), max_size=60))
def test_property_fast_step_arithmetic_equals_the_grid(bar_lengths, resolution, ticks):
    """MetricGrid's fast paths (step_ticks, nearest_steps) agree with its float formulas (off
    exact half-step ties)."""
    score = symusic.Score(480)
    bars = np.concatenate([[0], np.cumsum(bar_lengths)])
    for grid in (MetricGrid.from_score(score, resolution=resolution, bar_ticks=bars),
                 MetricGrid.from_score(score, resolution=resolution, end=int(bars[-1]))):
        steps = grid.nearest_steps(np.array(ticks, np.int64))
        assert np.array_equal(grid.step_ticks(), grid.steps_to_ticks(np.arange(grid.n_steps + 1)))
        exact = grid.ticks_to_steps(ticks, how="exact")
        want = np.minimum(grid.ticks_to_steps(ticks), grid.n_steps)
        tie = np.isclose(exact % 1, 0.5)
        assert np.array_equal(steps[~tie], want[~tie])


def test_fast_step_arithmetic_on_real_grids(pop909):
    from symbolic.data.music21_corpus import bach_chorales

    grids = []
    for i in POP_SONGS:
        song = pop909.song(i)
        grids += [MetricGrid.from_score(song.score, bar_ticks=song.bar_ticks()),
                  MetricGrid.from_score(song.score)]
    grids += [MetricGrid.from_score(score) for _, score in bach_chorales(limit=2)]
    assert any(g.uniform_step() for g in grids) and not all(g.uniform_step() for g in grids)
    for grid in grids:
        ticks = np.arange(0, int(grid.bar_ticks[-1]) + 1, 7)
        steps = grid.nearest_steps(ticks)
        assert np.array_equal(grid.step_ticks(), grid.steps_to_ticks(np.arange(grid.n_steps + 1)))
        assert np.array_equal(steps, grid.ticks_to_steps(ticks))


# ----------------------------------------------------------------------------------- folding

def test_fold_unfold_pom_window():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (128, 512, 3)).astype(np.uint8)
    folded = pr.fold(image)
    assert folded.shape == (256, 256, 3)
    assert np.array_equal(folded[:128], image[:, :256])
    assert np.array_equal(folded[128:, 0], image[:, 511])  # right half mirrored below
    assert np.array_equal(folded[128:, 255], image[:, 256])
    assert np.array_equal(pr.unfold(folded), image)
    stack = rng.integers(0, 256, (3, 128, 512, 3)).astype(np.uint8)
    assert np.array_equal(pr.unfold(pr.fold(stack)), stack)
    mask = rng.random((128, 512)) < 0.5
    assert pr.fold(mask).shape == (256, 256) and np.array_equal(pr.unfold(pr.fold(mask)), mask)
    with pytest.raises(ValueError):
        pr.fold(image[:, :511])


def test_windows_of_32_bars_and_join(pop909):
    song = pop909.song(2)
    roll = pr.encode(song.score, bar_ticks=song.bar_ticks())
    starts = roll.grid.bar_first_step[:-1][::32]
    wins = pr.windows(roll.image, starts)
    assert wins.shape == (len(starts), 128, 512, 3)
    assert np.array_equal(wins[1, :, :10], roll.image[:, starts[1]:starts[1] + 10])
    assert np.array_equal(pr.join_windows(wins, roll.width, starts), roll.image)
    with pytest.raises(ValueError, match="cover"):
        pr.windows(roll.image, starts[::2])  # 64 bars do not fit in 512 steps
    plain = pr.windows(roll.image)
    assert np.array_equal(pr.join_windows(plain, roll.width), roll.image)
    assert np.array_equal(pr.unfold(pr.fold(plain)), plain)


# ------------------------------------------------------------------------------------- masks

def test_mask_from_ranges():
    score = symusic.Score(480)
    score.time_signatures.append(symusic.TimeSignature(0, 3, 4))
    grid = MetricGrid.from_score(score, end=480 * 3 * 8)
    m = pr.mask_from_ranges(grid, bars=(2, 4), pitches=(60, 72))
    assert m.shape == (128, grid.n_steps) and m.dtype == bool
    cols = np.flatnonzero(m.any(0))
    assert cols.tolist() == list(range(24, 48))  # 3/4 bars: 12 steps each
    rows = np.flatnonzero(m.any(1))
    assert rows.tolist() == list(range(127 - 72, 127 - 60 + 1))
    assert m.sum() == 24 * 13
    assert pr.mask_from_ranges(512, bars=(31, 32)).sum() == 16 * 128
    assert pr.mask_from_ranges(64, steps=(3, 5), pitches=(0, 0)).sum() == 2


def test_mask_from_drawn_image_and_blue_channel(tmp_path):
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (64, 128), "white")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([10, 20, 19, 39], fill=(10, 20, 240))  # a blue stroke, slightly off-colour
    draw.line([0, 100, 63, 100], fill=(255, 0, 0), width=1)  # another colour
    path = tmp_path / "drawn.png"
    canvas.save(path)
    mask = pr.mask_from_image(path, colour=(0, 0, 255))
    assert mask.shape == (128, 64) and mask.sum() == 10 * 20
    assert mask[20:40, 10:20].all()
    red = pr.mask_from_image(np.asarray(canvas), colour=(255, 0, 0), tolerance=0)
    assert red.sum() == 64 and red[100].all()

    score = symusic.Score(480)
    track = symusic.Track("p", 0, False)
    track.notes.append(symusic.Note(0, 960, 60, 64))
    score.tracks.append(track)
    roll = pr.encode(score, grid=pr.default_meta(64).grid)
    marked = pr.with_mask(roll.image, mask)
    assert np.array_equal(pr.mask_channel(marked), mask)
    assert np.array_equal(marked[..., :2], roll.image[..., :2])
    assert _notes(pr.decode(marked, meta=roll.meta), True) == _notes(score, True)


# --------------------------------------------------------------------------------------- PNG

@pytest.mark.parametrize("mode,folded", [("merged", False), ("merged", True), ("tracks", False),
                                         ("tracks", True)])
def test_png_roundtrip_with_metadata(pop909, tmp_path, mode, folded):
    from PIL import Image

    song = pop909.song(1)
    roll = pr.encode(song.score, mode=mode, bar_ticks=song.bar_ticks())
    assert roll.width % 2  # odd: folding pads a column that loading crops
    path = pr.save_png(roll, tmp_path / f"roll-{mode}-{folded}.png", folded=folded)
    with Image.open(path) as img:
        assert img.mode == "RGB"
        assert img.size[1] == (256 if folded else 128) * (1 if mode == "merged" else 3)
        assert img.size[0] == ((roll.width + 1) // 2 if folded else roll.width)
    loaded = pr.load_png(path)
    assert np.array_equal(loaded.image, roll.image)
    assert loaded.grid == roll.grid and loaded.tracks == roll.tracks
    back = pr.decode(loaded)
    assert _notes(back, mode == "merged") == _notes(pr.decode(roll), mode == "merged")
    assert [(t.time, t.mspq) for t in back.tempos] == [(t.time, t.mspq) for t in song.score.tempos]
    assert [(t.time, t.numerator, t.denominator) for t in back.time_signatures] == \
        [(t.time, t.numerator, t.denominator) for t in song.score.time_signatures]


def test_bare_png_folded_pom_image(tmp_path):
    from PIL import Image

    image = np.zeros((128, 512, 3), np.uint8)
    image[127 - 60, 500:508, 1] = 2 * 100
    image[127 - 60, 500, 0] = 255
    Image.fromarray(pr.fold(image)).save(tmp_path / "pom.png")
    roll = pr.load_png((tmp_path / "pom.png").read_bytes())
    assert np.array_equal(roll.image, image) and roll.grid.n_steps == 512
    notes = pr.decode(roll).tracks[0].notes.numpy()
    assert notes["time"].tolist() == [500 * 120] and notes["duration"].tolist() == [8 * 120]
    assert notes["velocity"].tolist() == [100]


def test_load_png_rejects_bad_input(tmp_path):
    from symbolic.errors import ParseError

    with pytest.raises(ParseError):
        pr.load_png(b"not a png")
    from PIL import Image

    Image.new("RGB", (10, 100)).save(tmp_path / "odd.png")
    with pytest.raises(ParseError, match="multiple of 128"):
        pr.load_png(tmp_path / "odd.png")
