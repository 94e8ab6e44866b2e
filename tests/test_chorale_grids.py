"""Bach chorales as four-voice grids: the satb track map, its vocabulary, fermatas, grids."""

from collections import Counter

import numpy as np
import pytest
import symusic

import symbolic
from symbolic.data.grids import chorale_grids, encode_chorale
from symbolic.data.music21_corpus import (FERMATA, chorale_fermatas, chorale_marks,
                                          load_chorale, piece_names)
from symbolic.errors import ArgumentError, DataNotFoundError
from symbolic.models import getdiff as gd
from symbolic.representations import grid as G
from symbolic.tracks import ALIASES, find_part, parts_for

SATB = ["SOPRANO", "ALTO", "TENOR", "BASS"]
BAND = ["MELODY", "BRIDGE", "BASS", "PIANO", "OTHER"]
BWV66_FERMATAS = [1440, 3360, 5280, 9120, 12960, 16800]  # beat 3 of bars 1, 2, 3, 5, 7, 9


def score_of(*names):
    s = symusic.Score(480)
    for name in names:
        s.tracks.append(symusic.Track(name=name, program=0))
    return s


def test_voice_names_and_spellings_map_to_the_four_voices():
    spellings = {"SOPRANO": ["Soprano", "S.", "Sopran", "Canto", "Violin I", "Soprano Oboe 1"],
                 "ALTO": ["Alto", "A.", "Contralto", "Violin II", "Alto Oboe 2 Viloin 2"],
                 "TENOR": ["Tenor", "T.", "Tenore", "Viola", "Tenor Viola"],
                 "BASS": ["Bass", "B.", "Basso", "Bassus", "Violoncello", "Cello", "Continuo",
                          "Bass Continuo"]}
    for voice, names in spellings.items():
        s = score_of(*names)
        assert gd.map_tracks(s, SATB) == [voice] * len(names), voice
    # the grid codec's satb preset: by name only, never by program (chorales are all program 0)
    s = score_of("S.", "Contralto", "Tenore", "Continuo", "Oboe", "Track 6")
    assert G.TRACK_MAPS["satb"].assign(s).tolist() == [0, 1, 2, 3, -1, -1]


def test_the_band_mapping_is_unchanged():
    parts = parts_for(BAND)
    assert [p.names for p in parts] == [(n.lower(),) + ALIASES[n.lower()] for n in BAND]
    s = score_of("Soprano", "Alto", "Tenor", "Basso", "Cello", "Continuo", "S.", "Violin I")
    assert gd.map_tracks(s, BAND) == ["MELODY", "BRIDGE", "BRIDGE", "BASS", None, None, None,
                                      None]
    assert find_part("Viola", parts) is None and find_part("Viola", parts_for(SATB)) == 2


def test_load_chorale_keeps_the_four_voices_and_marks_the_fermatas():
    assert chorale_fermatas("corpus:bach/bwv66.6") == BWV66_FERMATAS
    plain = symbolic.load("corpus:bach/bwv66.6")
    s = load_chorale("corpus:bach/bwv66.6")
    assert [t.name for t in s.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    for a, b in zip(plain.tracks, s.tracks):
        assert a.notes.numpy()["time"].tolist() == b.notes.numpy()["time"].tolist()
        assert a.notes.numpy()["pitch"].tolist() == b.notes.numpy()["pitch"].tolist()
    assert [(m.time, m.text) for m in s.markers] == [(t, FERMATA) for t in BWV66_FERMATAS]
    soprano_onsets = set(s.tracks[0].notes.numpy()["time"].tolist())
    assert set(BWV66_FERMATAS) <= soprano_onsets
    marks = chorale_marks("bach/bwv66.6")  # pickup of one quarter, then 4/4 bars
    assert marks.bar_ticks[:4].tolist() == [0, 480, 2400, 4320]
    assert marks.bar_ticks[-1] == plain.end()
    # cantata chorale with brass and strings before the voices: voices only, by name
    s = load_chorale("bach/bwv41.6")
    assert [t.name for t in s.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    full = symbolic.load("corpus:bach/bwv41.6")
    assert len(full.tracks) == 9 and s.note_num() == sum(
        len(t.notes) for t in full.tracks[5:])  # 'Soprano Oboe 1 Violin1' ... 'Bass Continuo'
    onsets = {n.time for t in s.tracks for n in t.notes}
    assert s.markers and all(m.time in onsets for m in s.markers)  # not the trumpets' fermatas


def test_bad_arguments_name_what_was_wrong():
    with pytest.raises(DataNotFoundError, match="bach/nope"):
        chorale_marks("corpus:bach/nope")
    with pytest.raises(ArgumentError, match="ticks_per_quarter"):
        chorale_marks("bach/bwv66.6", ticks_per_quarter=0)
    with pytest.raises(ArgumentError, match="name"):
        chorale_fermatas(None)
    with pytest.raises(ArgumentError, match="split"):
        chorale_grids("training")


def test_the_vocabulary_covers_every_train_split_note():
    v = G.GridVocab.load("satb")
    assert v.track_names == SATB and v.track_map.name == "satb"
    assert v.info["files"] == len(piece_names("bach_chorales", "train")) == 280
    for voice in SATB:  # coverage 1.0: every stack counted at build time is in the vocabulary
        covered, total = v.info["onsets_covered"][voice]
        assert covered == total > 10000
        assert all(v.stack_id(voice, [p]) is not None for p in range(128))
    lost = Counter()
    for name in piece_names("bach_chorales", "train")[::20]:  # a sample, re-encoded
        lost += encode_chorale(name, v)[0].report.reasons
    assert not {"stack substituted", "stack out of vocabulary", "no grid track"} & set(lost)


@pytest.mark.parametrize("name,beat", [("bach/bwv66.6", 480), ("bach/bwv41.6", 480),
                                       ("bach/bwv123.6", 960), ("bach/bwv248.23-2", 720),
                                       ("bach/bwv281", 480)])
def test_chorale_grids_round_trip(name, beat):
    """4/4 with pickup, mixed 3/4 and 4/4 with instruments, 3/2, 12/8, unnamed parts."""
    g, fermatas = encode_chorale("corpus:" + name)
    gaps = Counter(np.diff(g.meta.grid.beat_ticks()).tolist())
    assert gaps.most_common(1)[0][0] == beat  # chords per beat: a half in 3/2, 3 eighths in 12/8
    score = load_chorale(name, fermata_markers=False)
    back = G.decode(g)
    assert [t.name for t in back.tracks] == SATB

    def notes(sc):
        return Counter((k, n.time, n.duration, n.pitch) for k, t in enumerate(sc.tracks)
                       for n in t.notes)

    before, after = notes(score), notes(back)
    assert g.report.notes_in == sum(before.values())
    assert g.report.dropped == 0 and sum((before & after).values()) == g.report.kept_exact
    assert g.report.altered == sum((before - after).values())  # every other note is reported
    assert g.report.kept_exact >= 0.98 * g.report.notes_in
    step = score.ticks_per_quarter // 4
    assert fermatas.tolist() == [t // step for t in chorale_marks(name).fermatas.tolist()]
    assert (len(fermatas) == 0) == (name == "bach/bwv248.23-2")  # the one without fermatas
    assert G.encode(back, vocab="satb", grid=g.meta.grid, chords="markers") == g


def test_chorale_grids_are_cached_with_their_fermatas(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBOLIC_CACHE", str(tmp_path))
    songs = chorale_grids("valid", progress=False)
    assert len(songs) == len(piece_names("bach_chorales", "valid")) == 35
    again = chorale_grids("valid", progress=False)
    assert list(tmp_path.glob("getdiff/chorales-valid-satb-*.npz"))
    for a, b in zip(songs, again):
        assert a.name == b.name and np.array_equal(a.tokens, b.tokens)
        assert np.array_equal(a.bar_first, b.bar_first)
        assert np.array_equal(a.fermatas, b.fermatas) and len(a.fermatas) > 0
    chord_rows = songs[0].tokens[8:10]
    assert (chord_rows != G.EMPTY).all()  # chords recognized per beat
