"""Every dataset recipe's expected counts match what the loaders find."""

import json
from pathlib import Path

import music21
import pytest

from symbolic.data.music21_corpus import piece_names
from symbolic.data.pop909 import SPLITS

RECIPES = Path(__file__).resolve().parents[1] / "datasets"


def recipe(name):
    return json.loads((RECIPES / f"{name}.json").read_text())


def test_every_recipe_has_the_fields():
    for path in RECIPES.glob("*.json"):
        r = json.loads(path.read_text())
        for key in ("name", "source", "licence", "loader", "expected", "split"):
            assert key in r, f"{path.name} lacks {key}"


def test_pop909_recipe(pop909):
    r = recipe("pop909")
    songs = list(pop909.songs())
    assert len(songs) == r["expected"]["songs"]
    assert sum(s.score.note_num() for s in songs) == r["expected"]["notes"]
    assert sum(len(s.chords) for s in songs) == r["expected"]["chord_spans"]
    assert sum(int(s.downbeats.sum()) for s in songs) == r["expected"]["downbeats"]
    for name, (lo, hi) in ((k, r["split"][k]) for k in ("train", "valid", "test")):
        assert SPLITS[name] == range(lo, hi + 1)


def test_music21_recipe():
    r = recipe("music21_corpus")
    if music21.__version__ != r["music21_version_counted"]:
        pytest.skip(f"counts were taken with music21 {r['music21_version_counted']}")
    for collection, count in r["expected"].items():
        names = piece_names(collection)
        assert len(names) == count, collection
        parts = [piece_names(collection, s) for s in ("train", "valid", "test")]
        assert sorted(sum(map(list, parts), [])) == sorted(names)
        assert len(parts[2]) == count // 10
