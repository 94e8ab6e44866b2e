"""Whole corpora: every POP909 song and every Bach chorale loads, and encodes, decodes and
re-encodes to the same representation under each of the four codecs.

Each piece is loaded once and run through all codecs (loading the chorales through music21 is
the slow part). ``benchmarks/representations.py`` prints the loss totals and timings.
"""

import numpy as np
import pytest

from symbolic.data import Failure
from symbolic.data.music21_corpus import bach_chorales, piece_names
from symbolic.harmony import recognize_chords
from symbolic.representations import grid as gr
from symbolic.representations import leadsheet as ls
from symbolic.representations import pianoroll as pr
from symbolic.representations import slices as sl


def round_trips(score, vocab, *, bars=None, beats=None, chords=None, melody="MELODY"):
    """Encode under every codec, decode, re-encode; return the codecs whose round trip differs
    and the summed report."""
    bad = []
    roll = pr.encode(score, bar_ticks=bars)
    if not np.array_equal(pr.encode(pr.decode(roll), grid=roll.grid).image, roll.image):
        bad.append("pianoroll")
    g = gr.encode(score, vocab=vocab, bar_ticks=bars, chords=chords)
    if gr.encode(gr.decode(g), vocab=vocab, grid=g.meta.grid) != g:
        bad.append("grid")
    ev = ls.encode(score, melody=melody, bar_ticks=bars, chords=chords)
    if ls.encode(ls.decode(ev), grid=ev.meta.grid) != ev:
        bad.append("leadsheet")
    s = sl.encode(score, beats=beats)
    if not np.array_equal(sl.encode(sl.decode(s), boundaries=s.boundaries).tokens, s.tokens):
        bad.append("slices")
    for r in (roll.report, g.report, ev.report):
        assert r.kept_exact + r.altered + r.dropped == r.notes_in
    return bad


@pytest.mark.slow
def test_every_pop909_song_round_trips_under_every_codec(pop909):
    vocab = gr.GridVocab.load("pop909")
    ids = pop909.available()
    assert len(ids) == 909
    failures = {}
    for i in ids:
        song = pop909.song(i)
        chords = gr.chords_from_labels(*song.chord_ticks(), song.chords.labels)
        bad = round_trips(song.score, vocab, bars=song.bar_ticks(), beats=song.beat_ticks(),
                          chords=chords)
        if bad:
            failures[i] = bad
    assert failures == {}


@pytest.mark.slow
def test_every_bach_chorale_loads_and_round_trips_under_every_codec():
    vocab = gr.GridVocab.load("getmusic")
    load_failures: list[Failure] = []
    failures, n = {}, 0
    for name, score in bach_chorales(failures=load_failures):
        n += 1
        assert len(score.tracks) >= 4, name  # four voices (a few files leave parts unnamed)
        bad = round_trips(score, vocab, chords=recognize_chords(score).merged(), melody=0)
        if bad:
            failures[name] = bad
    assert load_failures == []
    assert n == len(piece_names("bach_chorales")) == 350
    assert failures == {}
