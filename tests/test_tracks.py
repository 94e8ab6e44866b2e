"""symbolic.tracks: the one track-mapping system (grid codec and generators)."""

import warnings

import pytest
import symusic

import symbolic
from symbolic.errors import TrackMappingError
from symbolic.models import getdiff as gd
from symbolic.representations import grid as G
from symbolic.tracks import Part, assign, find_part, is_unnamed, parts_for

MODEL = ["MELODY", "BRIDGE", "PIANO"]


def score_of(*tracks):
    s = symusic.Score(480)
    for name, program, is_drum in tracks:
        s.tracks.append(symusic.Track(name=name, program=program, is_drum=is_drum))
    return s


def names(score, **kw):
    return gd.map_tracks(score, MODEL, **kw)


def test_names_and_aliases_then_words():
    s = score_of(("Vocals", 40, False), ("Counter Melody", 0, False), ("LH", 0, False),
                 ("Acoustic Grand Piano", 0, False), ("Melody RH", 0, False))
    assert names(s) == ["MELODY", "BRIDGE", "PIANO", "PIANO", "MELODY"]
    assert find_part("Acoustic Grand Piano", parts_for(MODEL), words=False) is None


def test_name_beats_program_and_program_only_for_unnamed_tracks():
    s = score_of(("Melody", 0, False), ("Bass", 0, False), ("Track 3", 0, False),
                 ("", 19, False), ("Strings", 48, False), ("Track 4", 48, False))
    assert names(s) == ["MELODY", None, "PIANO", "PIANO", None, None]
    assert is_unnamed("Track 3") and is_unnamed("") and not is_unnamed("Bass")
    # the grid codec maps by program whatever the name says (programs="any")
    parts = parts_for(MODEL)
    assert assign(s.tracks, parts, programs="any") == [0, 2, 2, 2, None, None]


def test_drums_never_map_by_program():
    s = score_of(("Track 1", 0, True), ("Drums", 0, True), ("Piano", 0, True))
    assert names(s) == [None, None, "PIANO"]  # a name still wins over the drum flag
    gm = G.TRACK_MAPS["getmusic"]
    assert [gm.names[k] for k in gm.assign(s)] == ["drums", "drums", "drums"]
    parts = (Part("keys", programs=tuple(range(8))), Part("kit", drum=True))
    assert assign(s.tracks, parts) == [1, 1, 1]


def test_user_map_wins_and_none_unmaps():
    s = score_of(("Piano", 0, False), ("Soprano", 0, False), ("Guitar", 25, False))
    assert names(s) == ["PIANO", "MELODY", None]
    got = names(s, track_map={"piano": None, "Soprano": "bridge", "2": "Acoustic Piano"})
    assert got == [None, "BRIDGE", "PIANO"]
    with pytest.raises(TrackMappingError, match="track_map.*'Guitar'.*'drums'"):
        names(s, track_map={"Guitar": "drums"})
    with pytest.raises(TrackMappingError, match="programs"):
        assign(s.tracks, parts_for(MODEL), programs="some")


def test_infill_leaves_out_an_unmapped_track_without_a_warning():
    chorale = symbolic.load("corpus:bach/bwv66.6")  # Soprano, Alto, Tenor, Bass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = gd.infill(chorale, tracks=["piano"], bars=(1, 2), steps=2, seed=0,
                        track_map={"Bass": None, "Tenor": None})
    assert not [w for w in caught if "maps to none" in str(w.message)]
    for a, b in zip(chorale.to("tick").tracks, out.tracks):
        assert [(n.time, n.pitch) for n in a.notes] == [(n.time, n.pitch) for n in b.notes]
    assert out.tracks[-1].name == "piano" and len(out.tracks[-1].notes) > 0
