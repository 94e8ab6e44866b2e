"""MidiCaps reader on a MidiCaps-format fixture: captions index, archive and folder streaming."""

import json
from pathlib import Path

import pytest

import symbolic
from midicaps_fixture import build
from symbolic.data.captions import Captions
from symbolic.data.midicaps import FIELDS, MidiCaps
from symbolic.data.sources import FolderSource, PathsSource, TarSource, content_hash, open_source
from symbolic.errors import DataNotFoundError, ParseError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    return build(tmp_path_factory.mktemp("midicaps"), n_pop909=4, n_music21=2)


def test_captions_index_and_split(fx):
    rows = [json.loads(line) for line in fx.captions.read_text().splitlines()]
    every = Captions(fx.captions)
    assert every.locations == [r["location"] for r in rows] == fx.order
    row = every.row(fx.order[0])
    assert set(FIELDS) <= set(row) and row == rows[0]
    test, train = Captions(fx.captions, split="test"), Captions(fx.captions, split="train")
    assert set(test.locations) == fx.test_set
    assert len(test) + len(train) == len(every)
    assert all(r["test_set"] for r in test.rows())
    with pytest.raises(ValueError):
        Captions(fx.captions, split="dev")


def test_captions_as_json_array_and_bad_lines(fx, tmp_path):
    rows = [json.loads(line) for line in fx.captions.read_text().splitlines()]
    array = tmp_path / "array.json"
    array.write_text(json.dumps(rows + rows[:1]))
    c = Captions(array)
    assert c.locations == fx.order and c.duplicates == 1 and c.row(fx.order[1]) == rows[1]
    broken = tmp_path / "broken.json"
    broken.write_text(fx.captions.read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(ParseError, match="line 2"):
        Captions(broken)
    with pytest.raises(DataNotFoundError):
        Captions(tmp_path / "nowhere.json")


def test_archive_streams_in_archive_order_and_reports_missing(fx):
    src = TarSource(fx.archive, captions=fx.captions)
    items = list(src.items())
    locs = [item.location for _, item in items]
    assert [i for i, _ in items] == list(range(len(items))) == list(range(len(src)))
    assert sorted(locs) == sorted(fx.order)  # every captions row exactly once
    assert not set(fx.extra_members) & set(locs)  # uncaptioned members are not inputs
    assert src.skipped_members == len(fx.extra_members)
    missing = [item for _, item in items if item.error is not None]
    absent = [loc for loc, e in fx.bad.items() if e == "DataNotFoundError"]
    assert [m.location for m in missing] == absent
    assert locs[-1] == missing[-1].location  # missing rows come after the archive
    for _, item in items:
        if item.data is not None:
            assert item.hash == content_hash(item.data)
            assert item.data == (fx.folder / item.location).read_bytes()
            assert item.meta["location"] == item.location and item.meta["caption"]


def test_archive_reads_only_wanted_inputs(fx):
    src = TarSource(fx.archive, captions=fx.captions)
    got = {i: item for i, item in src.items(want=lambda i: i % 2 == 0)}
    assert all(got[i].data is None for i in got if i % 2 and got[i].error is None)
    assert any(got[i].data for i in got if i % 2 == 0)


def test_folder_follows_captions_and_accepts_lmd_full_as_root(fx):
    a = FolderSource(fx.folder, captions=fx.captions)
    b = FolderSource(fx.folder / "lmd_full", captions=fx.captions, split="test")
    items = [item for _, item in a.items()]
    assert [item.location for item in items] == fx.order
    assert {item.location for item in items if item.error is not None} == {
        loc for loc, e in fx.bad.items() if e == "DataNotFoundError"}
    assert {item.location for _, item in b.items() if item.data is not None} == fx.test_set
    plain = FolderSource(fx.folder)  # no captions: every MIDI file, sorted
    assert plain.locations() == sorted(plain.locations()) and len(plain) == len(fx.order) - 1


def test_open_source_dispatch(fx, tmp_path):
    assert isinstance(open_source(fx.archive, captions=fx.captions), TarSource)
    assert isinstance(open_source(fx.folder), FolderSource)
    listing = tmp_path / "files.txt"
    paths = [str(fx.folder / loc) for loc in fx.good[:3]]
    listing.write_text("# three files\n" + "\n".join(paths) + "\n")
    src = open_source(listing)
    assert isinstance(src, PathsSource) and src.paths == paths
    assert open_source(paths, limit=2).paths == paths[:2]
    with pytest.raises(DataNotFoundError):
        open_source(tmp_path / "nothing-here")
    with pytest.raises(DataNotFoundError, match="not a folder, an archive"):
        open_source(fx.captions)
    assert len(open_source(fx.archive, captions=fx.captions, limit=3)) == 3


def test_midicaps_corpus_iterates_scores_and_records_failures(fx):
    corpus = MidiCaps(fx.root)
    assert len(corpus) == len(fx.order)
    seen = {}
    for location, score, row in corpus:
        seen[location] = score
        assert row["location"] == location and score.note_num() > 0
    assert set(seen) == set(fx.good)
    assert {f.source: f.error for f in corpus.failures} == fx.bad
    one = fx.good[0]
    assert seen[one].note_num() == symbolic.load(fx.folder / one).note_num()
    assert len(MidiCaps(fx.root, split="test")) == len(fx.test_set)
    with pytest.raises(DataNotFoundError):
        MidiCaps(fx.root / "lmd_full" / "0")


def test_recipe_matches_the_reader():
    from symbolic.data import data_root

    recipe = json.loads((REPO / "datasets" / "midicaps.json").read_text())
    assert recipe["fields"] == ["location", *FIELDS]
    counts = recipe["expected"]
    assert counts["train"] + counts["test"] == counts["rows"]
    root = data_root() / "midicaps"
    if not (root / "train.json").is_file():
        pytest.skip(f"no MidiCaps copy at {root}: only the recipe's own consistency is checked")
    assert len(Captions(root / "train.json")) == counts["rows"]
    assert len(Captions(root / "train.json", split="test")) == counts["test"]
