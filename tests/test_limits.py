"""Tiny files that declare huge or impossible scores are refused at load, quickly and in
little memory, with an error naming the limit or the value (crafted here, byte by byte)."""

import resource
import struct
import time

import pytest
import symusic

import symbolic
from symbolic.errors import InputTooLargeError, ParseError
from symbolic.fuzz import vlq
from symbolic.limits import Limits, check_score


def midi(*events: bytes, tpq: int = 480) -> bytes:
    track = b"".join(events) + b"\x00\xff\x2f\x00"
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq)
            + b"MTrk" + struct.pack(">I", len(track)) + track)


ON, OFF = b"\x90\x3c\x40", b"\x80\x3c\x00"


def test_a_37_byte_file_with_a_77_hour_note_is_refused_at_once():
    data = midi(vlq(0) + ON, vlq(0x0FFFFFFF) + OFF)
    assert len(data) == 37
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(InputTooLargeError, match=r"quarter notes long, over the limit of 100000"):
        symbolic.load(data)
    assert time.perf_counter() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200_000  # KiB


def test_long_deltas_are_refused_and_the_limit_can_be_raised():
    data = midi(vlq(0) + ON, *[vlq(0x0FFFFFFF) + b"\x90\x3e\x40"] * 4, vlq(0x0FFFFFFF) + OFF)
    with pytest.raises(InputTooLargeError, match="Limits.max_quarters"):
        symbolic.load(data)
    short = midi(vlq(0) + ON, vlq(480 * 2 * 7200) + OFF)  # 14,400 quarters: 2 hours at 120 qpm
    with pytest.raises(InputTooLargeError, match=r"7200 seconds long, over the limit of 3600 s"):
        symbolic.load(short)
    score = symbolic.load(short, limits=Limits(max_seconds=3 * 3600))
    assert score.end() == 480 * 2 * 7200


def test_impossible_values_are_named():
    tempo0 = midi(vlq(0) + b"\xff\x51\x03\x00\x00\x00", vlq(0) + ON, vlq(480) + OFF)
    with pytest.raises(ParseError, match="tempo of 0 microseconds per quarter at tick 0"):
        symbolic.load(tempo0)
    s = symusic.Score(480)
    tr = symusic.Track("lead", 0, False)
    tr.notes.append(symusic.Note(0, 480, 60, 80))
    s.tracks.append(tr)
    check_score(s)
    s.tracks[0].program = 205
    with pytest.raises(ParseError, match=r"track 0 \('lead'\): program 205 outside 0-127"):
        check_score(s, "x.mid")
    s.tracks[0].program = 0
    s.tracks[0].notes.append(symusic.Note(-5, 10, 60, 80))
    with pytest.raises(ParseError, match="negative note time"):
        check_score(s)


def test_counts_are_bounded():
    s = symusic.Score(480)
    for k in range(3):
        tr = symusic.Track(f"t{k}", 0, False)
        tr.notes.append(symusic.Note(0, 480, 60, 80))
        s.tracks.append(tr)
    with pytest.raises(InputTooLargeError, match=r"3 tracks, over the limit of 2"):
        check_score(s, limits=Limits(max_tracks=2))
    with pytest.raises(InputTooLargeError, match=r"3 notes, over the limit of 2"):
        check_score(s, limits=Limits(max_notes=2))


@pytest.mark.parametrize("call", ["render", "infill"])
def test_scores_built_in_code_are_bounded_too(call):
    s = symusic.Score(480)
    tr = symusic.Track("piano", 0, False)
    tr.notes.append(symusic.Note(0, 0x0FFFFFFF, 60, 80))  # one 77-hour note
    s.tracks.append(tr)
    run = {"render": lambda: symbolic.audio.render(s),
           "infill": lambda: symbolic.infill(s, tracks=["piano"], bars=(1, 2))}[call]
    with pytest.raises(InputTooLargeError, match="Limits.max_quarters"):
        run()


def test_a_compressed_musicxml_bomb_is_refused_before_unpacking(tmp_path):
    """A 100 KB .mxl whose XML unpacks to 100 MB: refused from the zip's directory, whether it
    is named .mxl or arrives as bytes (sniffed as MusicXML), in well under a second."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/container.xml", "<container/>")
        z.writestr("score.musicxml", b"<" + b" " * (100 << 20) + b">")
    data = buf.getvalue()
    assert len(data) < 200_000
    path = tmp_path / "bomb.mxl"
    path.write_bytes(data)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for source in (path, data):
        start = time.perf_counter()
        with pytest.raises(InputTooLargeError, match=r"the \.mxl unpacks to 104857\d+ bytes"):
            symbolic.load(source)
        assert time.perf_counter() - start < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 150_000  # KiB
