"""Saving keeps what a composer needs: a score's chord: markers become MusicXML chord symbols
above the melody, for compose's and melodize's output alike, and notes are untouched."""

import re

import pytest

import symbolic


@pytest.mark.parametrize("make", ["melodize", "compose"])
def test_chord_markers_become_chord_symbols(make, tmp_path):
    if make == "melodize":
        score = symbolic.melodize("C | G | Am | F", bars=4, seed=1)
    else:
        score = symbolic.compose("C | G | Am | F", bars=4, steps=4)
    path = symbolic.save(score, tmp_path / "lead.musicxml")
    xml = path.read_text()
    roots = re.findall(r"<harmony.*?<root-step>(\w)</root-step>(?:\s*<root-alter>(-?\d)"
                       r"</root-alter>)?.*?<kind[^>]*>(\w+)</kind>", xml, re.S)
    assert [(r, k) for r, _, k in roots] == [("C", "major"), ("G", "major"), ("A", "minor"),
                                             ("F", "major")]
    first_part = xml.split("</part>")[0]
    assert first_part.count("<harmony") == 4  # above the first part (the melody)
    back = symbolic.load(path)
    assert sum(len(t.notes) for t in back.tracks) == score.note_num()


def test_saving_mxl_keeps_a_musicxml_file_of_the_same_stem(tmp_path):
    """music21 writes and deletes a same-stem .musicxml beside an .mxl: a user's file there
    must survive (issue #17)."""
    mine = tmp_path / "x.musicxml"
    mine.write_text("keep me")
    score = symbolic.load("corpus:bach/bwv66.6")
    symbolic.save(score, tmp_path / "x.mxl")
    assert mine.read_text() == "keep me"
    assert len(symbolic.load(tmp_path / "x.mxl").tracks) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.musicxml", "x.mxl"]  # no leftovers
