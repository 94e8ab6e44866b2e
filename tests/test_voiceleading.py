"""Tests of symbolic.voiceleading: crafted four-part examples with one known fault each (found at
its bar and beat, nothing else found), a clean progression, real Bach chorales beside music21's
own voice-leading check, argument checks and the ``symbolic voice-leading`` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import symusic

from symbolic import load
from symbolic.errors import ArgumentError, TickTimeError, TrackMappingError
from symbolic.voiceleading import KINDS, RANGES, VOICES, report

TPQ = 480
NAMES = ("Soprano", "Alto", "Tenor", "Bass")
I, IV, V = (72, 67, 64, 48), (72, 69, 65, 53), (71, 67, 62, 55)  # C major, spaced correctly
CLEAN = [I, IV, V, I, I, IV, V, I]  # two bars of quarter-note chords


def satb(chords, *, names=NAMES, step=TPQ, start=0, meter=(4, 4)):
    """A four-track tick score: one (S, A, T, B) chord per ``step`` ticks (None: a rest)."""
    score = symusic.Score(TPQ)
    score.time_signatures.append(symusic.TimeSignature(0, *meter))
    for v, name in enumerate(names):
        track = symusic.Track(name=name, program=0, is_drum=False)
        for k, chord in enumerate(chords):
            if chord is not None:
                track.notes.append(symusic.Note(start + k * step, step, chord[v], 80))
        score.tracks.append(track)
    return score


def with_chords(changes: dict) -> list:
    """The clean progression with chords replaced at the given indices."""
    return [changes.get(k, c) for k, c in enumerate(CLEAN)]


def summary(r):
    return [(f.kind, f.voices, f.bar, f.beat, f.pitches) for f in r.findings]


def test_clean_progression_has_no_findings():
    r = report(satb(CLEAN))
    assert r.findings == [] and set(r.counts.values()) == {0}
    assert r.beats == 8 and r.tracks == NAMES and r.indices == (0, 1, 2, 3)


@pytest.mark.parametrize("changes, expected", [
    # tenor G3 -> A3 over bass C3 -> D3: a fifth both times, both voices up
    ({4: (64, 60, 55, 48), 5: (65, 60, 57, 50), 6: (65, 60, 57, 50), 7: (65, 60, 57, 50)},
     ("parallel_fifth", ("tenor", "bass"), 2, 2.0, (55, 48, 57, 50))),
    # soprano C5 -> D5 over bass C3 -> D3: two octaves both times (mod 12), both up
    ({5: (74, 67, 65, 50), 6: (74, 67, 65, 50), 7: (74, 67, 65, 50)},
     ("parallel_octave", ("soprano", "bass"), 2, 2.0, (72, 48, 74, 50))),
    ({5: (72, 62, 64, 48)}, ("crossing", ("alto", "tenor"), 2, 2.0, (62, 64))),
    ({5: (79, 64, 60, 48)}, ("spacing", ("soprano", "alto"), 2, 2.0, (79, 64))),
    ({5: (72, 67, 64, 36)}, ("range", ("bass",), 2, 2.0, (36,))),
])
def test_each_fault_found_alone_at_its_bar_and_beat(changes, expected):
    r = report(satb(with_chords(changes)))
    assert summary(r) == [expected]
    assert r.counts[expected[0]] == 1 and sum(r.counts.values()) == 1
    assert r.rates[expected[0]] == pytest.approx(100 / 8, abs=1e-3)


def parallels(chords, **kw):
    return [(f.kind, f.voices) for f in report(satb(chords, **kw)).findings
            if f.kind.startswith("parallel")]


def test_what_counts_as_parallel():
    fifth = (64, 60, 55, 48)
    # alto-bass G3/C3 -> A4/D3: a fifth to a twelfth, both up: counts (mod 12), nothing else
    r = report(satb([(64, 55, 52, 48), (74, 69, 65, 50)]))
    assert summary(r) == [("parallel_fifth", ("alto", "bass"), 1, 2.0, (55, 48, 69, 50))]
    # a fifth to a fourth in similar motion, and a repeated fifth: nothing at all
    assert report(satb([fifth, (65, 60, 57, 52)])).findings == []
    assert report(satb([fifth, fifth])).findings == []


def test_motion_rules_on_one_pair():
    """Tenor and bass decide: similar motion counts; contrary motion, a passing note between
    the two fifths and a rest between them do not."""
    up, a = (76, 72, 55, 48), (77, 72, 57, 50)       # T-B G3/C3 -> A3/D3: similar
    assert parallels([up, a]) == [("parallel_fifth", ("tenor", "bass"))]
    assert parallels([up, (77, 72, 59, 40)]) == []   # G3/C3 -> B3/E2: contrary 5th -> 12th
    passing = (76, 72, 56, 48)                       # the tenor's G#3 on the second eighth
    assert parallels([up, passing, a, a], step=TPQ // 2) == []
    assert parallels([up, passing, a, a][::2] + [a], step=TPQ // 2) != []  # control
    assert parallels([up, None, a]) == []


def test_a_held_crossing_is_reported_once():
    """Alto under tenor for a half note while the soprano moves on beat 2: one crossing, at
    beat 1 (a finding needs one of its voices to start a note)."""
    score = satb([(72, 62, 64, 48)], step=2 * TPQ)
    soprano = symusic.Track(name="Soprano", program=0, is_drum=False)
    soprano.notes.append(symusic.Note(0, TPQ, 72, 80))
    soprano.notes.append(symusic.Note(TPQ, TPQ, 74, 80))
    score.tracks[0] = soprano
    assert summary(report(score)) == [("crossing", ("alto", "tenor"), 1, 1.0, (62, 64))]


def test_ranges_are_inclusive():
    top = tuple(RANGES[v][1] for v in VOICES)
    bottom = tuple(RANGES[v][0] for v in VOICES)
    assert (top, bottom) == ((79, 74, 67, 60), (60, 55, 48, 40))
    assert report(satb([top])).findings == report(satb([bottom])).findings == []
    over = report(satb([tuple(p + 1 for p in top)]))
    assert [(f.kind, f.voices[0]) for f in over.findings] == [("range", v) for v in VOICES]
    under = report(satb([tuple(p - 1 for p in bottom)]))
    assert [f.pitches for f in under.findings] == [(59,), (54,), (47,), (39,)]


def test_pickup_and_eighths_place_bar_and_beat():
    # chords every eighth from tick 0; bar lines at 480 (so a one-quarter pickup), 2400, 4320
    chords = [I] * 12
    chords[1] = (72, 67, 64, 36)  # bass out of range on the pickup's second eighth
    chords[6] = (72, 62, 64, 48)  # alto below tenor: tick 1440, bar 2 beat 3
    r = report(satb(chords, step=TPQ // 2), bar_ticks=[480, 2400, 4320])
    assert summary(r) == [("range", ("bass",), 1, 4.5, (36,)),
                          ("crossing", ("alto", "tenor"), 2, 3.0, (62, 64))]
    assert r.beats == 6  # the pickup's beat, bar 2's four, one of bar 3 (the score ends)
    # without bar_ticks the bars follow the 4/4 signature from tick 0
    r = report(satb(chords, step=TPQ // 2))
    assert [(f.bar, f.beat) for f in r.findings] == [(1, 1.5), (1, 4.0)]


def test_compound_meter_beats_are_dotted_quarters():
    chords = [I] * 12
    chords[9] = (72, 67, 64, 36)  # ninth eighth of a 6/8 bar: bar 2 beat 2
    r = report(satb(chords, step=TPQ // 2, meter=(6, 8)))
    assert summary(r) == [("range", ("bass",), 2, 2.0, (36,))]
    assert r.beats == 4


@pytest.mark.parametrize("names, order", [
    (("S.", "Alto", "Ten.", "Basso"), (0, 1, 2, 3)),
    (("Bass", "Tenor", "Alto", "Soprano"), (3, 2, 1, 0)),
    (("Violin I", "Violin II", "Viola", "Cello"), (0, 1, 2, 3)),
    (("", "", "", ""), (0, 1, 2, 3)),  # unnamed: the four tracks in order
])
def test_voices_found_by_name(names, order):
    score = satb(CLEAN, names=names)
    assert report(score).indices == order


def test_voice_names_beat_instrument_doublings():
    """A cantata chorale lists violins (aliases of the voices) before the voices themselves."""
    score = satb(CLEAN, names=NAMES)
    for name in ("Viola", "Violin 2", "Violin 1"):
        score.tracks.insert(0, symusic.Track(name=name, program=40, is_drum=False))
        score.tracks[0].notes.append(symusic.Note(0, TPQ, 30, 80))  # far out of range
    r = report(score)
    assert r.indices == (3, 4, 5, 6) and r.findings == []


def test_voices_given_explicitly():
    score = satb(with_chords({5: (72, 62, 64, 48)}), names=("a", "b", "c", "d"))
    r = report(score, voices=["A", 1, "c", 3])
    assert r.indices == (0, 1, 2, 3) and r.counts["crossing"] == 1
    # tenor and alto swapped: crossed at 7 of the 8 chords, all but the one where the alto
    # dips below the tenor
    assert report(score, voices=[0, 2, 1, 3]).counts["crossing"] == 7


@pytest.mark.parametrize("kw, name", [
    ({"voices": [0, 1, 2]}, "voices"),
    ({"voices": [0, 1, 2, 2]}, "voices"),
    ({"voices": [0, 1, 2, 4]}, "voices"),
    ({"voices": [0, 1, 2, "Organ"]}, "voices"),
    ({"voices": "SATB"}, "voices"),
    ({"voices": 4}, "voices"),
    ({"bar_ticks": [480, 0]}, "bar_ticks"),
    ({"bar_ticks": [-480, 0]}, "bar_ticks"),
    ({"bar_ticks": [0.5, 480]}, "bar_ticks"),
    ({"bar_ticks": "bars"}, "bar_ticks"),
    ({"bar_ticks": []}, "bar_ticks"),
    ({"bar_ticks": [[0, 480]]}, "bar_ticks"),
    ({"bar_ticks": [0, float("nan")]}, "bar_ticks"),
])
def test_bad_arguments_name_themselves(kw, name):
    with pytest.raises(ArgumentError) as e:
        report(satb(CLEAN), **kw)
    assert e.value.source == name


def test_bad_scores():
    with pytest.raises(TickTimeError):
        report(satb(CLEAN).to("quarter"))
    three = satb(CLEAN)
    three.tracks.pop(3)
    with pytest.raises(TrackMappingError, match="no four voices"):
        report(three)
    assert report(satb([])).findings == []


# ---------------------------------------------------------------- Bach, beside music21
def test_bwv66_6_findings_at_music21s_places():
    from symbolic.data.music21_corpus import chorale_marks

    name = "corpus:bach/bwv66.6"
    r = report(load(name), bar_ticks=chorale_marks(name).bar_ticks)
    # music21's measure 6 beat 1: bass D4; measure 7 beat 2.5: alto F#3 under tenor B3
    # (bar numbers here count the pickup as bar 1: music21's + 1)
    assert summary(r) == [("range", ("bass",), 7, 1.0, (62,)),
                          ("crossing", ("alto", "tenor"), 8, 2.5, (54, 59)),
                          ("range", ("alto",), 8, 2.5, (54,))]
    assert r.beats == 36 and r.tracks == NAMES


def music21_parallel_ticks(name: str) -> set:
    """(kind, upper voice, lower voice, tick) of music21's similar-motion parallels."""
    from music21 import corpus, voiceLeading

    score, found = corpus.parse(name), set()
    for q in voiceLeading.iterateAllVoiceLeadingQuartets(score, includeRests=False,
                                                         includeOblique=False):
        if not q.similarMotion():
            continue
        kind = "parallel_fifth" if q.parallelFifth() else "parallel_octave" \
            if q.parallelOctave() or q.parallelUnison() else None
        if kind:
            voices = tuple(n.getContextByClass("Part").partName.lower() for n in (q.v1n2, q.v2n2))
            tick = round(float(q.v1n2.getOffsetInHierarchy(score)) * TPQ)
            found.add((kind, tuple(sorted(voices)), tick))
    return found


@pytest.mark.parametrize("name", ["bach/bwv244.40", "bach/bwv48.7", "bach/bwv278",
                                  "bach/bwv302"])
def test_parallels_agree_with_music21(name):
    r = report(load(f"corpus:{name}"))
    # music21 names the pair by which voice sounds higher: compare the pairs unordered
    ours = {(f.kind, tuple(sorted(f.voices)), f.tick) for f in r.findings
            if f.kind.startswith("parallel")}
    assert ours == music21_parallel_ticks(name)


def test_bach_test_split_rates_are_low():
    from symbolic.data.music21_corpus import piece_names

    names = piece_names("bach_chorales", "test")
    reports = [report(load(n)) for n in names]
    beats = sum(r.beats for r in reports)
    rate = {k: 100 * sum(r.counts[k] for r in reports) / beats for k in KINDS}
    print("Bach, test split, per 100 beats:", {k: round(v, 2) for k, v in rate.items()})
    assert len(reports) == 35 and beats > 1500
    assert rate["parallel_fifth"] + rate["parallel_octave"] < 0.5  # measured 0.27
    # every chorale's four voices by name (bwv366's parts are unnamed: the four in order)
    assert all(r.tracks in (NAMES, ("",) * 4) for r in reports)
    assert 0 < rate["crossing"] < 5 and rate["spacing"] < 3 and rate["range"] < 5


# ---------------------------------------------------------------- the command
def cli(*args):
    return subprocess.run([sys.executable, "-m", "symbolic", "voice-leading", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_json_and_table(tmp_path):
    path = tmp_path / "fifths.mid"
    satb(with_chords({4: (64, 60, 55, 48), 5: (65, 60, 57, 50), 6: (65, 60, 57, 50),
                      7: (65, 60, 57, 50)})).dump_midi(path)
    out = cli(str(path), "--json")
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["counts"]["parallel_fifth"] == 1 and d["tracks"] == list(NAMES)
    assert d["findings"][0] == {"kind": "parallel_fifth", "voices": ["tenor", "bass"],
                                "bar": 2, "beat": 2.0, "tick": 2400, "pitches": [55, 48, 57, 50]}
    table = cli(str(path))
    assert table.returncode == 0 and "parallel_fifth" in table.stdout
    assert "tenor-bass" in table.stdout and "G3 C3 A3 D3" in table.stdout


def test_cli_reads_a_chorales_measures(capsys):
    from symbolic.cli import main

    assert main(["voice-leading", "corpus:bach/bwv66.6", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [(f["bar"], f["beat"]) for f in d["findings"]] == [(7, 1.0), (8, 2.5), (8, 2.5)]


@pytest.mark.parametrize("args, status, words", [
    (["--voices", "0,1"], 2, "voices"),
    (["--voices", "0,1,2,Organ"], 2, "Organ"),
    (["/nonexistent/x.mid"], 1, "x.mid"),
])
def test_cli_errors_are_one_line(tmp_path, capsys, args, status, words):
    from symbolic.cli import main

    path = tmp_path / "ok.mid"
    satb(CLEAN).dump_midi(path)
    assert main(["voice-leading", *(args if args[0].startswith("/") else [str(path), *args])]) \
        == status
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1
