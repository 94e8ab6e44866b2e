"""Corpora: POP909 with annotations and split, music21 collections, folders."""

import numpy as np
import pytest

from symbolic.data import iter_scores
from symbolic.data.music21_corpus import COLLECTIONS, bach_chorales, iter_collection, piece_names
from symbolic.data.pop909 import SPLITS, Pop909, song_ids, split_of
from symbolic.errors import DataNotFoundError


def test_split_is_fixed_and_complete():
    ids = [i for s in ("train", "valid", "test") for i in song_ids(s)]
    assert sorted(ids) == list(range(1, 910))
    assert len(song_ids("train")) == 837 and len(song_ids("valid")) == 36 and len(song_ids("test")) == 36
    assert split_of(1) == "train" and split_of(838) == "valid" and split_of(909) == "test"
    with pytest.raises(ValueError):
        split_of(0)
    with pytest.raises(ValueError):
        song_ids("dev")
    assert set(SPLITS) == {"train", "valid", "test"}


def test_pop909_song_annotations(pop909):
    song = pop909.song(1)
    assert song.split == "train"
    assert len(song.beats) == 292 and song.downbeats.sum() == 73
    bars = song.bar_ticks()
    # Bars from downbeats: 4 beats of 480 ticks apart in this 4/4 song (its MIDI header says 2/4).
    assert np.all(np.diff(bars) == 1920)
    assert song.keys.labels == ["Gb:maj"]
    assert song.chords.labels[:3] == ["N", "N", "N"]
    assert song.chords.label_at([15.0])[0] == "C#:maj"
    assert song.track("melody").name == "MELODY"
    start, end = song.chord_ticks()
    assert np.all(end > start)


def test_all_pop909_annotations_parse(pop909):
    n_chords = 0
    for song in pop909.songs():
        assert len(song.beats) > 0 and song.downbeats.any()
        assert np.all(np.diff(song.beats) > 0)
        n_chords += len(song.chords)
    assert n_chords > 100_000


def test_pop909_missing_folder(tmp_path):
    with pytest.raises(DataNotFoundError, match="corpus folder not found"):
        Pop909(tmp_path / "nowhere")
    assert Pop909(tmp_path).available() == []





def test_bach_chorales_have_four_voices():
    for name, score in bach_chorales(limit=5):
        assert [t.name for t in score.tracks][:4] == ["Soprano", "Alto", "Tenor", "Bass"], name


def test_collections_list_and_load():
    assert len(piece_names("essen")) > 8000
    for collection in COLLECTIONS:
        names = piece_names(collection)
        assert names, collection
        loaded = list(iter_collection(collection, limit=1))
        assert len(loaded) == 1 and loaded[0][1].note_num() > 0, collection
    with pytest.raises(DataNotFoundError):
        piece_names("nonesuch")


def test_iter_scores_records_failures(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd garbage")
    failures = []
    got = list(iter_scores(["corpus:bach/bwv66.6", bad, tmp_path / "missing.mid"], failures=failures))
    assert [str(s) for s, _ in got] == ["corpus:bach/bwv66.6"]
    assert [f.error for f in failures] == ["MidiParseError", "DataNotFoundError"]
    assert "bad.mid" in str(failures[0])


# ------------------------------------------------------------------------ corpus sources

def test_pop909_source_lists_song_files_of_a_split(pop909, pop909_root):
    from symbolic.data.sources import PathsSource, open_source, pop909_source

    src = pop909_source("test", path=pop909_root)
    assert isinstance(src, PathsSource)
    assert [p.rsplit("/", 1)[-1] for p in src.paths] == [f"{i:03d}.mid" for i in range(874, 910)]
    first = next(src.scores())
    assert first[0].endswith("874.mid") and first[1].note_num() == pop909.score(874).note_num()
    assert first[2] is None
    assert len(open_source("pop909:valid", limit=5)) == 5  # the data_root() copy, by name


def test_music21_collection_source_gives_midi_bytes_and_scores():
    import symbolic
    from symbolic.data.sources import NamesSource, open_source

    src = open_source("music21:bach_chorales:test", limit=2)
    assert isinstance(src, NamesSource)
    assert src.names == list(piece_names("bach_chorales", "test")[:2])
    items = list(src.items(want=lambda i: i == 1))
    assert items[0][1].data is None and items[1][1].error is None
    from_bytes = symbolic.load(items[1][1].data)
    direct = dict((name, score) for name, score, _ in src.scores())
    assert from_bytes.note_num() == direct[src.names[1]].note_num() > 0
    with pytest.raises(DataNotFoundError):
        open_source("music21:no_such_collection")


def test_source_scores_records_failures(tmp_path):
    import symusic

    from symbolic.data.sources import FolderSource

    score = symusic.Score(480)
    track = symusic.Track("piano", 0, False)
    track.notes.append(symusic.Note(0, 480, 60, 80))
    score.tracks.append(track)
    score.dump_midi(str(tmp_path / "good.mid"))
    (tmp_path / "bad.mid").write_bytes(b"MThd not really")
    (tmp_path / "skip.txt").write_text("not listed")
    failures = []
    got = [(loc, s.note_num()) for loc, s, _ in FolderSource(tmp_path).scores(failures=failures)]
    assert got == [("good.mid", 1)]
    assert [(f.source, f.error) for f in failures] == [("bad.mid", "MidiParseError")]
    flat = FolderSource(tmp_path, suffixes=(".txt",), recursive=False)
    assert flat.locations() == ["skip.txt"] and flat.describe()["suffixes"] == [".txt"]
