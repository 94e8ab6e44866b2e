"""Infill on band arrangements (issue #12): POP909 test songs turned into Vocals, Lead Guitar,
Bass, Piano, Strings, Synth Pad and Drums (symbolic.data.band), regenerated part by part with
the shipped band model. Every non-target note stays bit for bit, every track is mapped as
documented and named in one message, no track is emptied silently, and the controls hold."""

import warnings

import numpy as np
import pytest

import symbolic
from symbolic.data.band import band_song
from symbolic.errors import ArgumentError, TrackMappingError
from symbolic.models import getdiff as gd
from symbolic.models.getdiff.plan import plan_tracks
from symbolic.timeline import MetricGrid

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SONG = 880  # a test-split song: never trained on


@pytest.fixture(scope="module")
def model():
    return gd.load()


@pytest.fixture(scope="module")
def song(pop909):
    return pop909.song(SONG)


def _rows(track):
    n = track.notes.numpy()
    return sorted(zip(*(n[k].tolist() for k in ("time", "duration", "pitch", "velocity"))))


def _bars(band, song):
    return MetricGrid.from_score(band, resolution=4, bar_ticks=song.bar_ticks()).bar_ticks


def _infill(band, song, model, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = symbolic.infill(band, bar_ticks=song.bar_ticks(), model=model, steps=4, **kw)
    return out, " ".join(str(w.message) for w in caught)


@pytest.mark.parametrize("part", ["Vocals", "Bass", "Piano"])
def test_every_other_note_is_kept_and_the_region_is_written(model, song, part):
    band = band_song(song)
    bt = _bars(band, song)
    out, msg = _infill(band, song, model, tracks=[part], bars=(9, 16), seed=1)
    lo, hi = bt[8], bt[16]
    assert [t.name for t in out.tracks] == [t.name for t in band.tracks]
    for a, b in zip(band.tracks, out.tracks):
        if a.name != part:
            assert _rows(a) == _rows(b), a.name  # drums, strings, pad, other parts: bit for bit
            continue
        assert [r for r in _rows(a) if not lo <= r[0] < hi] == [
            r for r in _rows(b) if not lo <= r[0] < hi]
        new = [r for r in _rows(b) if lo <= r[0] < hi]
        old = [r for r in _rows(a) if lo <= r[0] < hi]
        assert new and new != old
        # the part fits what it replaces: register and density near the original's
        assert abs(np.median([r[2] for r in new]) - np.median([r[2] for r in old])) <= 7
        assert 0.5 <= len(new) / len(old) <= 2.0
        assert len({r[3] for r in new}) > 1  # velocities from the dynamics, not one value
    # one message names what is heard as context and what is left alone
    assert "'Strings' -> OTHER" in msg and "'Synth Pad' -> OTHER" in msg
    assert "'Drums' untouched" in msg and "--map" in msg


def test_plan_maps_band_and_generic_tracks_as_documented(model, song):
    def roles(score, **kw):
        plan = plan_tracks(score, model.tracks, model.context_tracks, **kw)
        return {u.name: u.role for u in plan.uses}

    band = band_song(song)
    assert roles(band) == {"Vocals": "MELODY", "Lead Guitar": "OTHER", "Piano": "PIANO",
                           "Bass": "BASS", "Strings": "OTHER", "Synth Pad": "OTHER",
                           "Drums": None}  # 'Lead' reads as a second melody: heard as context
    assert roles(band, track_map={"Lead Guitar": "BRIDGE"})["Lead Guitar"] == "BRIDGE"
    assert roles(band, track_map={"Strings": None})["Strings"] is None  # None unmaps
    generic = band_song(song, variant="generic")
    by_program = {t.program: r for t, r in zip(generic.tracks, roles(generic).values())
                  if not t.is_drum}
    assert by_program[33] == "BASS" and by_program[0] == "PIANO" and by_program[48] == "OTHER"
    assert by_program[29] == "OTHER" and by_program[89] == "OTHER"


def test_two_tracks_on_one_part_are_each_handled(model, song):
    band = band_song(song, variant="two-leads")
    names = [t.name for t in band.tracks]
    out, msg = _infill(band, song, model, tracks=["Lead Synth"], bars=(9, 12), seed=0)
    assert "'Vocals' -> OTHER" in msg and "'Lead Synth' -> MELODY (written" in msg
    vocals = names.index("Vocals")
    assert _rows(out.tracks[vocals]) == _rows(band.tracks[vocals])  # heard, never emptied
    with pytest.raises(TrackMappingError, match="two targets write MELODY"):
        symbolic.infill(band, tracks=["Vocals", "Lead Synth"], model=model,
                        bar_ticks=song.bar_ticks())


def test_drums_and_context_only_tracks_are_refused_with_the_fix(model, song):
    band = band_song(song)
    with pytest.raises(TrackMappingError, match="drum") as e:
        symbolic.infill(band, tracks=["Drums"], model=model, bar_ticks=song.bar_ticks())
    assert "PIANO" in str(e.value) and "track_map" not in str(e.value)  # no hint to map drums
    with pytest.raises(TrackMappingError, match="--map 'Strings=PIANO'"):
        symbolic.infill(band, tracks=["Strings"], model=model, bar_ticks=song.bar_ticks())


def test_controls_bound_register_polyphony_and_density(model, song):
    band = band_song(song)
    bt = _bars(band, song)
    piano = [t.name for t in band.tracks].index("Piano")

    def region(**kw):
        out, _ = _infill(band, song, model, tracks=["Piano"], bars=(9, 16), seed=2, **kw)
        return [r for r in _rows(out.tracks[piano]) if bt[8] <= r[0] < bt[16]]

    notes = region(pitch_range=(60, 67), polyphony=1)
    assert notes and all(60 <= r[2] <= 67 for r in notes)
    onsets = [r[0] for r in notes]
    assert len(onsets) == len(set(onsets))  # one note per onset
    sparse = len({r[0] for r in region(density=2)})
    dense = len({r[0] for r in region(density=12)})
    assert sparse < dense and 8 <= sparse <= 32 and 48 <= dense <= 144  # 8 bars
    with pytest.raises(ArgumentError, match="^pitch_range: "):
        region(pitch_range=(70, 60))
    with pytest.raises(ArgumentError, match="^polyphony: "):
        region(polyphony=0)


def test_candidates_are_ranked_by_the_model_score(model, song):
    band = band_song(song)
    got, _ = _infill(band, song, model, tracks=["Vocals"], bars=(9, 12), seed=3, candidates=3)
    assert [c.rank for c in got] == [1, 2, 3]
    scores = [c.log_prob for c in got]
    assert scores == sorted(scores, reverse=True) and all(np.isfinite(scores))
    assert len({tuple(_rows(c.score.tracks[0])) for c in got}) == 3
    with pytest.raises(ArgumentError, match="^candidates: "):
        symbolic.infill(band, tracks=["Vocals"], model=model, candidates=0)


def test_implausible_meters_warn_and_meter_counts_the_bars(model, pop909_root):
    raw = symbolic.load(pop909_root / "880" / "880.mid")  # declares 1/4 over 4/4 music
    _, msg = _infill_file(raw, model)
    assert "meter='4/4'" in msg and "--meter 4/4" in msg
    out, msg = _infill_file(raw, model, meter="4/4")
    assert "placeholder" not in msg
    bt = MetricGrid.from_score(symbolic.timeline.with_meter(raw, "4/4"), resolution=4).bar_ticks
    changed = [r for a, b in zip(raw.tracks, out.tracks) if a.name == "PIANO"
               for r in sorted(set(_rows(a)) ^ set(_rows(b)))]
    assert changed and all(bt[2] <= r[0] < bt[4] for r in changed)  # bars 3-4 of 4/4, only


def _infill_file(score, model, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = symbolic.infill(score, tracks=["piano"], bars=(3, 4), model=model, steps=2, **kw)
    return out, " ".join(str(w.message) for w in caught)


def test_a_pop909_song_keeps_its_annotated_bars(model, song):
    out = symbolic.infill(song, tracks=["piano"], bars=(5, 6), model=model, steps=2)
    bt = MetricGrid.from_score(song.score, resolution=4, bar_ticks=song.bar_ticks()).bar_ticks
    piano = [t.name for t in song.score.tracks].index("PIANO")
    changed = sorted(set(_rows(song.score.tracks[piano])) ^ set(_rows(out.tracks[piano])))
    assert changed and all(bt[4] <= r[0] < bt[6] for r in changed)


def test_cli_writes_numbered_candidates_and_a_picture_of_the_edit(tmp_path, pop909_root, capsys):
    from symbolic.cli import main

    out = tmp_path / "out.mid"
    assert main(["infill", str(pop909_root / "880" / "880.mid"), "--tracks", "melody",
                 "--bars", "9-10", "--meter", "4/4", "--candidates", "2", "--steps", "2",
                 "--pitch-range", "60-79", "-o", str(out), "--png", str(tmp_path / "out.png"),
                 "--quiet"]) == 0
    for k in (1, 2):
        assert (tmp_path / f"out-{k}.mid").read_bytes()[:4] == b"MThd"
        assert (tmp_path / f"out-{k}.png").stat().st_size > 10_000
    assert "candidate 1: model score" in capsys.readouterr().out
    assert main(["infill", str(pop909_root / "880" / "880.mid"), "--tracks", "melody",
                 "--pitch-range", "high", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --pitch-range")
