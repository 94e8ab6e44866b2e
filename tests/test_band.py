"""symbolic.data.band: band arrangements made from POP909 songs, and the bass split."""

import collections

import numpy as np
import pytest
import symusic

from symbolic import timeline as T
from symbolic.data import band as B
from symbolic.errors import ArgumentError, TrackMappingError
from symbolic.harmony import Chord
from symbolic.tracks import is_unnamed


def says_nothing(name: str) -> bool:
    return is_unnamed(name) or name == "MIDI"

SONGS = (1, 50)  # 50: a 3/4 bar before the 4/4 ones, a pickup of 524 ticks


def notes_of(track) -> collections.Counter:
    n = track.notes.numpy()
    return collections.Counter(zip(*(n[k].tolist() for k in ("time", "duration", "pitch",
                                                               "velocity"))))


def by_name(score) -> dict:
    return {t.name: t for t in score.tracks}


@pytest.fixture(scope="module")
def songs(pop909):
    return {i: pop909.song(i) for i in SONGS}


@pytest.fixture(scope="module")
def bands(songs):
    return {i: B.band_song(s) for i, s in songs.items()}


@pytest.mark.parametrize("song_id", SONGS)
def test_every_pop909_note_lands_in_one_part(songs, bands, song_id):
    song, out = songs[song_id], by_name(bands[song_id])
    assert notes_of(out["Vocals"]) == notes_of(song.track("MELODY"))
    assert notes_of(out["Lead Guitar"]) == notes_of(song.track("BRIDGE"))
    bass, piano = notes_of(out["Bass"]), notes_of(out["Piano"])
    assert not (bass & piano)  # no note in both
    assert bass + piano == notes_of(song.track("PIANO"))
    assert 0 < sum(bass.values()) < sum(piano.values()) + sum(bass.values())
    programs = {name: (t.program, t.is_drum) for name, t in out.items()}
    assert programs == {"Vocals": (52, False), "Lead Guitar": (29, False), "Piano": (0, False),
                        "Bass": (33, False), "Strings": (48, False), "Synth Pad": (89, False),
                        "Drums": (0, True)}


@pytest.mark.parametrize("song_id", SONGS)
def test_bass_is_the_lowest_note_of_each_onset_below_55(songs, bands, song_id):
    piano = songs[song_id].track("PIANO").notes.numpy()
    bass = by_name(bands[song_id])["Bass"].notes.numpy()
    assert bass["pitch"].max() < 55
    # With chained onsets within a 64th (30 ticks) counting as one, each onset's lowest note
    # below 55 is bass, nothing else.
    window = 480 // 16
    expected = B.bass_mask(piano["time"], piano["pitch"], window=window)
    assert sorted(zip(bass["time"].tolist(), bass["pitch"].tolist())) == \
        sorted(zip(piano["time"][expected].tolist(), piano["pitch"][expected].tolist()))
    # No two bass notes share an onset group, and no piano note under 55 starts with none.
    order = np.argsort(piano["time"], kind="stable")
    group = np.concatenate([[0], np.cumsum(np.diff(piano["time"][order]) > window)])
    groups_with_bass = group[expected[order]]
    assert len(np.unique(groups_with_bass)) == len(groups_with_bass)
    low_groups = np.unique(group[piano["pitch"][order] < 55])
    assert set(low_groups.tolist()) == set(groups_with_bass.tolist())


def test_split_bass_on_written_cases():
    track = symusic.Track("Piano", 0, False)
    # block chord with octave doubling; right hand only; arpeggio; rolled chord (5 ticks)
    rows = [(0, 36), (0, 48), (0, 60), (480, 60), (480, 64), (960, 40), (1080, 47), (1200, 52),
            (1440, 43), (1445, 50), (1450, 67)]
    track.notes = symusic.Note.from_numpy(
        np.array([r[0] for r in rows], dtype=np.int32), np.full(len(rows), 100, np.int32),
        np.array([r[1] for r in rows], dtype=np.int8), np.full(len(rows), 80, np.int8))
    bass, rest = B.split_bass(track)
    assert [(n.time, n.pitch) for n in bass.notes] == [(0, 36), (960, 40), (1080, 47),
                                                        (1200, 52), (1440, 43), (1445, 50)]
    assert bass.name == rest.name == "Piano" and len(bass.notes) + len(rest.notes) == len(rows)
    rolled, _ = B.split_bass(track, window=10)
    assert [(n.time, n.pitch) for n in rolled.notes][-1] == (1440, 43)
    high, _ = B.split_bass(track, below=45)
    assert [n.pitch for n in high.notes] == [36, 40, 43]
    as_dicts = B.split_bass(track.notes.numpy(), window=10)
    assert as_dicts[0]["pitch"].tolist() == [36, 40, 47, 52, 43]
    assert set(as_dicts[1]) == {"time", "duration", "pitch", "velocity"}
    # monophonic: each bass note ends by the next bass onset; the rest keep their durations
    mono, rest = B.split_bass(track, monophonic=True)
    assert [n.duration for n in mono.notes] == [100, 100, 100, 100, 5, 100]
    assert all(n.duration == 100 for n in rest.notes)


@pytest.mark.parametrize("song_id", SONGS)
def test_drums_play_on_the_annotated_beats(songs, bands, song_id):
    song, drums = songs[song_id], by_name(bands[song_id])["Drums"]
    n = drums.notes.numpy()
    bars = np.unique(song.bar_ticks())
    beats = np.unique(song.beat_ticks())
    beats = beats[beats >= bars[0]]
    index = np.arange(len(beats)) - np.searchsorted(beats, bars)[
        np.searchsorted(bars, beats, side="right") - 1]
    kicks, snares = n["time"][n["pitch"] == 36], n["time"][n["pitch"] == 38]
    assert kicks.tolist() == beats[index % 2 == 0].tolist()  # beats 1 and 3
    assert snares.tolist() == beats[index % 2 == 1].tolist()  # beats 2 and 4
    assert set(bars.tolist()) <= set(kicks.tolist())  # every downbeat has a kick
    hats = np.sort(n["time"][n["pitch"] == 42])
    assert len(hats) == 2 * len(beats) and set(beats.tolist()) <= set(hats.tolist())
    offbeats = np.setdiff1d(hats, beats)[:-1]
    nxt = beats[np.searchsorted(beats, offbeats)]
    prev = beats[np.searchsorted(beats, offbeats) - 1]
    assert np.all(np.abs(offbeats - (prev + nxt) / 2) <= 1)  # eighths between the beats


@pytest.mark.parametrize("song_id", SONGS)
def test_strings_and_pad_hold_the_annotated_chords(songs, bands, song_id):
    song, out = songs[song_id], by_name(bands[song_id])
    strings, pad = out["Strings"].notes.numpy(), out["Synth Pad"].notes.numpy()
    assert strings["pitch"].min() >= 55 and strings["pitch"].max() < 67
    starts, ends = song.chord_ticks()
    span = np.searchsorted(starts, strings["time"], side="right") - 1
    for k, p, t, d in zip(span, strings["pitch"], strings["time"], strings["duration"]):
        assert p % 12 in Chord.parse(song.chords.labels[k]).pitch_classes()
    bars = np.unique(song.bar_ticks())
    first_bar = np.searchsorted(bars, strings["time"], side="right")
    inside = first_bar < len(bars)
    end = strings["time"] + strings["duration"]
    assert np.all(end[inside] <= bars[first_bar[inside]])  # held at most to the bar line
    # the pad doubles the strings an octave up, softer
    assert sorted(zip(pad["time"], pad["pitch"] - 12)) == sorted(zip(strings["time"],
                                                                     strings["pitch"]))
    assert pad["velocity"].max() < strings["velocity"].min()


@pytest.mark.parametrize("song_id", SONGS)
def test_default_meter_puts_a_bar_line_on_every_annotated_downbeat(songs, bands, song_id):
    song, out = songs[song_id], bands[song_id]
    bars = np.unique(song.bar_ticks())
    lines = T.bar_lines(T.meter_changes(out), out.ticks_per_quarter, out.end())[0]
    between = lines[(lines >= bars[0]) & (lines <= bars[-1])]
    assert between.tolist() == bars.tolist()
    four_four = [ts for ts in out.time_signatures if (ts.numerator, ts.denominator) == (4, 4)]
    assert len(four_four) >= len(out.time_signatures) - 3
    declared = B.band_song(song, variant="declared")
    assert [(t.time, t.numerator, t.denominator) for t in declared.time_signatures] == \
        [(t.time, t.numerator, t.denominator) for t in song.score.time_signatures]
    reloaded = symusic.Score.from_midi(out.dumps_midi())
    assert [t.is_drum for t in reloaded.tracks] == [t.is_drum for t in out.tracks]


def test_generic_names_say_nothing_and_keep_the_music(songs, bands):
    named = bands[1]
    generic = B.band_song(songs[1], variant="generic", seed=3)
    assert all(says_nothing(t.name) for t in generic.tracks)
    key = sorted((t.program, t.is_drum, t.note_num()) for t in generic.tracks)
    assert key == sorted((t.program, t.is_drum, t.note_num()) for t in named.tracks)
    orders = {tuple(t.program for t in B.band_song(songs[1], variant="generic", seed=s).tracks)
              for s in range(4)}
    assert len(orders) > 1  # the seed shuffles the tracks
    again = B.band_song(songs[1], variant="generic", seed=3)
    assert [t.name for t in again.tracks] == [t.name for t in generic.tracks]


def test_two_leads_double_the_vocal_in_some_phrases(songs):
    out = by_name(B.band_song(songs[1], variant="two-leads", seed=0))
    synth, vocal = out["Lead Synth"], out["Vocals"]
    assert synth.program == 81
    doubled = {(n.time, n.duration, n.pitch) for n in synth.notes}
    assert doubled < {(n.time, n.duration, n.pitch) for n in vocal.notes}
    bars = np.unique(songs[1].bar_ticks())
    phrases = set(((np.searchsorted(bars, [t for t, _, _ in doubled], side="right") - 1)
                   // 4).tolist())
    sung = set(((np.searchsorted(bars, vocal.notes.numpy()["time"], side="right") - 1)
                // 4).tolist())
    assert 0 < len(phrases) < len(sung)
    both = B.band_song(songs[1], variant="generic+two-leads+declared")
    assert len(both.tracks) == 8 and all(says_nothing(t.name) for t in both.tracks)


def test_a_bare_pop909_score_gets_four_four_bars_and_recognized_chords(pop909):
    score = pop909.score(1)
    out = by_name(B.band_song(score))
    assert notes_of(out["Bass"]) + notes_of(out["Piano"]) == notes_of(
        [t for t in score.tracks if t.name == "PIANO"][0])
    assert out["Strings"].note_num() > 0 and out["Drums"].note_num() > 0
    kicks = out["Drums"].notes.numpy()
    assert kicks["time"][kicks["pitch"] == 36][:3].tolist() == [0, 960, 1920]


def test_bad_arguments_name_themselves(songs):
    with pytest.raises(ArgumentError, match="variant"):
        B.band_song(songs[1], variant="4/4")
    with pytest.raises(ArgumentError, match="seed"):
        B.band_song(songs[1], seed=-1)
    with pytest.raises(ArgumentError, match="song"):
        B.band_song("001.mid")
    lonely = symusic.Score(480)
    lonely.tracks.append(symusic.Track("Organ", 16, False))
    with pytest.raises(TrackMappingError, match="MELODY"):
        B.band_song(lonely)
    with pytest.raises(ArgumentError, match="below"):
        B.split_bass(songs[1].track("PIANO"), below=200)
    with pytest.raises(ArgumentError, match="track"):
        B.split_bass([1, 2, 3])
