"""The symbolic command line, run as a user runs it."""

import json
import os
import subprocess
import sys

from symbolic.fuzz import seed_midi


def run(*args, cwd=None):
    # CI=true as on the CI machine: pyfluidsynth (imported by pretty_midi) prints on import
    # when CI is set, which must not reach stdout.
    return subprocess.run([sys.executable, "-m", "symbolic", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300, env={**os.environ, "CI": "true"})


def test_info_text_and_json(tmp_path):
    path = tmp_path / "piece.mid"
    path.write_bytes(seed_midi(0))
    r = run("info", str(path), "corpus:bach/bwv66.6")
    assert r.returncode == 0, r.stderr
    assert "piece.mid" in r.stdout and "Soprano" in r.stdout and "key" in r.stdout
    r = run("info", "--json", "corpus:bach/bwv66.6")
    d = json.loads(r.stdout)
    assert [t["name"] for t in d["tracks"]] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert d["estimated_key"] in ("F#:min", "A:maj")
    assert d["time_signatures"][0]["signature"] == "4/4"
    assert d["chords"]["distinct"] > 3


def test_info_goes_on_after_a_bad_file(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00")
    good = tmp_path / "good.mid"
    good.write_bytes(seed_midi(1))
    r = run("info", "--json", str(bad), str(good))
    assert r.returncode == 1
    assert "bad.mid" in r.stderr and "Traceback" not in r.stderr
    assert len(json.loads(r.stdout)) == 1


def test_demo_composes_then_infills_with_the_shipped_weights(tmp_path):
    import symbolic

    r = run("demo", "--out", str(tmp_path / "demo"), "--steps", "4", "--bars", "8",
            "--infill-bars", "5-6")
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert files == ["composed.mid", "composed.png", "infilled.mid", "infilled.png"]
    assert "regenerated piano in bars 5-6" in r.stdout
    song = symbolic.load(tmp_path / "demo" / "composed.mid")
    assert {t.name.lower() for t in song.tracks} >= {"melody", "piano"}
    assert sum(len(t.notes) for t in song.tracks) > 20


def test_convert(tmp_path):
    r = run("convert", "corpus:essenFolksong/altdeu10#2", str(tmp_path / "tune.mid"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "tune.mid").read_bytes()[:4] == b"MThd"
