"""``symbolic.describe`` / ``symbolic info``: key changes by bar, chords from a score's own
markers when it carries them, chord roots spelled as the key spells them."""

import symusic

from symbolic.analysis import describe, format_description
from symbolic.harmony import Chord, Key, chords_from_markers


def _score(chords, key_root_offset=0, markers=True):
    """Four bars of 4/4 at 480 tpq: block triads of ``chords`` (root, minor?), one per bar,
    with ``chord:`` markers naming other chords when ``markers`` (so the test can tell which
    source ``describe`` used)."""
    s = symusic.Score(480)
    s.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    tr = symusic.Track("piano", 0, False)
    for bar, (root, minor) in enumerate(chords):
        for iv in (0, 3 if minor else 4, 7):
            tr.notes.append(symusic.Note(bar * 1920, 1920, 48 + key_root_offset + root + iv, 80))
    s.tracks.append(tr)
    if markers:
        for bar, label in enumerate(["D:min", "G:maj", "C:maj", "C:maj"]):
            s.markers.append(symusic.TextMeta(bar * 1920, f"chord:{label}"))
    return s


def test_chords_come_from_markers_when_the_score_has_them():
    s = _score([(0, False), (5, False), (7, False), (0, False)])
    d = describe(s)
    assert d["chords"]["source"] == "markers"
    assert d["chords"]["opening"] == ["Dm", "G", "C"]
    seq = chords_from_markers(s)
    assert seq.end[-1] == s.end() and [str(c) for c in seq.chords] == ["Dm", "G", "C", "C"]
    bare = describe(_score([(0, False), (5, False), (7, False), (0, False)], markers=False))
    assert bare["chords"]["source"] == "recognized"
    assert bare["chords"]["opening"] == ["C", "F", "G", "C"]


def test_chords_are_spelled_as_the_key_spells_them():
    # I IV V I in D-flat major: the key reads Db, so must the chords (not C#, F#, G#).
    d = describe(_score([(0, False), (5, False), (7, False), (0, False)], key_root_offset=1,
                        markers=False))
    assert d["estimated_key"] == "Db:maj"
    assert d["chords"]["opening"] == ["Db", "Gb", "Ab", "Db"]
    # ... and in E major with sharps.
    d = describe(_score([(0, False), (9, True), (5, False), (7, False)], key_root_offset=4,
                        markers=False))
    assert d["estimated_key"] == "E:maj" and d["chords"]["opening"] == ["E", "C#m", "A", "B"]
    assert Key(8, "minor").pitch_names()[10] == "A#"  # G# minor: sharps
    assert Key(3, "minor").pitch_names()[10] == "Bb"  # Eb minor: flats
    assert Chord.parse("C#:min7").symbol(Key(4, "minor").pitch_names()) == "C#m7"


def test_key_changes_are_given_by_bar():
    d = describe(_score([(0, False), (5, False), (7, False), (0, False)]))
    assert d["key_changes"][0]["bar"] == 1 and d["key_changes"][0]["quarter"] == 0
    text = format_description(d)
    assert "C:maj from bar 1" in text and "@" not in text.split("key ")[1].splitlines()[0]
