"""symbolic.plot.plot_edit: a picture of an edit, before and after, around the edited bars."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import symusic  # noqa: E402

from symbolic.data.band import band_song  # noqa: E402
from symbolic.errors import ArgumentError  # noqa: E402
from symbolic.plot import EDIT_REGION, plot_edit  # noqa: E402
from symbolic.timeline import MetricGrid  # noqa: E402


@pytest.fixture(scope="module")
def song(pop909):
    return pop909.song(1)


def edited(score, first_tick: int, end_tick: int) -> symusic.Score:
    """``score`` with its Piano an octave up inside ``[first_tick, end_tick)`` and a new
    track there: what an infill of those bars might write."""
    out = score.copy()
    for t in out.tracks:
        if t.name == "Piano":
            n = t.notes.numpy()
            inside = (n["time"] >= first_tick) & (n["time"] < end_tick)
            n["pitch"][inside] += 12
            t.notes = symusic.Note.from_numpy(n["time"], n["duration"], n["pitch"], n["velocity"])
    extra = symusic.Track("Counter", 73, False)
    extra.notes.append(symusic.Note(first_tick, end_tick - first_tick, 84, 70))
    out.tracks.append(extra)
    return out


def region_patches(ax):
    return [p for p in ax.patches if p.get_gid() == EDIT_REGION]


def span_of(patch) -> tuple[float, float]:
    xs = patch.get_path().transformed(patch.get_patch_transform()).vertices[:, 0]
    return float(xs.min()), float(xs.max())


def test_two_panels_shade_the_edited_bars_and_number_bars_from_one(song, tmp_path):
    before = band_song(song)  # 4/4 signatures on the annotated downbeats
    bars = MetricGrid.from_score(before, bar_ticks=song.bar_ticks()).bar_ticks
    start, end = int(bars[8]), int(bars[12])  # bars 9-12 as the user counts them
    after = edited(before, start, end)
    path = tmp_path / "edit.png"
    top, bottom = plot_edit(before, after, bars=(9, 12), path=path)
    assert path.stat().st_size > 20_000
    assert plt.imread(path).shape[1] > plt.imread(path).shape[0]  # wide: panels + legend
    for ax in (top, bottom):
        [patch] = region_patches(ax)
        assert span_of(patch) == (start, end)
        assert ax.get_xlim() == (bars[4], bars[16])  # 4 bars of context each side
    bottom.figure.canvas.draw()
    labels = {int(t): lab.get_text() for t, lab in zip(bottom.get_xticks(),
                                                       bottom.get_xticklabels())}
    assert labels[int(bars[8])] == "9" and labels[int(bars[4])] == "5"
    assert top.get_ylim() == bottom.get_ylim()
    # the same track, the same colour in both panels; the new track only below
    top_colours = {c.get_gid(): tuple(c.get_facecolor()[0]) for c in top.collections}
    bottom_colours = {c.get_gid(): tuple(c.get_facecolor()[0]) for c in bottom.collections}
    assert top_colours["Piano (program 0)"] == bottom_colours["Piano (program 0)"]
    assert "Counter (program 73)" in bottom_colours and "Counter (program 73)" not in \
        top_colours
    assert len(set(bottom_colours.values())) == len(bottom_colours)


def test_the_legend_sits_outside_the_notes(song):
    before = band_song(song)
    fig, axes = plt.subplots(2, 1, figsize=(10, 6))
    top, bottom = plot_edit(before, edited(before, 0, 1920), bars=(1, 2), ax=axes)
    assert top is axes[0] and bottom is axes[1]
    fig.canvas.draw()
    legend = top.get_legend().get_window_extent()
    for ax in (top, bottom):
        box = ax.get_window_extent()
        assert legend.x0 >= box.x1  # right of the data area, overlapping no panel
    assert len(top.get_legend().get_texts()) == 8  # 7 band tracks + the new one
    assert top.get_xlim()[0] == 0  # no context before the first bar
    plt.close(fig)


def test_the_score_own_bars_and_given_bar_ticks(song):
    raw = song.score  # declares 2/4: its own bars are two quarters long
    own = plot_edit(raw, raw, bars=(3, 3), context_bars=1)[0]
    assert span_of(region_patches(own)[0]) == (2 * 960, 3 * 960)
    given = plot_edit(raw, raw, bars=(3, 3), context_bars=1, bar_ticks=song.bar_ticks())[0]
    bars = np.unique(song.bar_ticks())  # bar 1 is the pickup before the first downbeat
    assert span_of(region_patches(given)[0]) == (bars[1], bars[2])
    only = plot_edit(raw, raw, bars=(40, 41), tracks=["piano", 0])[0]
    assert sorted(c.get_gid() for c in only.collections) == ["MELODY (program 0)",
                                                             "PIANO (program 0)"]
    plt.close("all")


def test_bad_arguments_name_themselves(song):
    s = song.score
    for bars in ((0, 3), (5, 3), (1, 10_000), 7, ("a", 2)):
        with pytest.raises(ArgumentError, match="bars"):
            plot_edit(s, s, bars=bars)
    with pytest.raises(ArgumentError, match="context_bars"):
        plot_edit(s, s, bars=(1, 2), context_bars=-1)
    with pytest.raises(ArgumentError, match="tracks"):
        plot_edit(s, s, bars=(1, 2), tracks=["Tuba"])
    with pytest.raises(ArgumentError, match="ax"):
        plot_edit(s, s, bars=(1, 2), ax=plt.gca())
    other = symusic.Score(96)
    with pytest.raises(ArgumentError, match="after"):
        plot_edit(s, other, bars=(1, 2))
    plt.close("all")
