"""The package as a user installs it: a wheel, not this checkout (built without isolation, with
the setuptools of the dev extra: >= 70.1 builds wheels without the wheel package)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import symbolic, sys
from pathlib import Path
assert Path(symbolic.__file__).is_relative_to(Path(sys.argv[1])), symbolic.__file__
from symbolic.representations import grid, tokens
assert all(len(grid.GridVocab.load(v)) > 0 for v in ("pop909", "getmusic", "band"))
assert "remi" in tokens.preset_names()
from symbolic.models import getdiff, harmony2vec
m = getdiff.load(device="cpu")  # the band model: MELODY, BRIDGE, BASS, PIANO, OTHER
assert getdiff.load("getdiff-pop909", device="cpu").n_tracks == 3
assert len(harmony2vec.load(device="cpu")) > 1000
print("ok", m.n_tracks)
"""


def test_wheel_ships_vocabularies_tokenizers_and_weights(tmp_path):
    """A non-editable install finds the grid vocabularies and token presets (``tokenizers/``
    reaches the wheel through ``symbolic/pretrained/tokenizers``) and the default weights."""
    # Built from a copy of the tracked files (symlinks kept): no stale build/ folder helps.
    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_symlink() or (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name, follow_symlinks=False)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", str(src), "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist")], check=True,
                   capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("symbolic-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(site)
    shipped = {Path(n).name for n in names if n.startswith("symbolic/pretrained/tokenizers/")}
    assert shipped == {p.name for p in (ROOT / "tokenizers").glob("*.json")}
    r = subprocess.run([sys.executable, "-c", CHECK, str(site)], capture_output=True, text=True,
                       cwd=tmp_path, env={"PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1",
                                          "PATH": "/usr/bin:/bin"}, timeout=300)
    assert r.returncode == 0 and r.stdout.startswith("ok 5"), r.stderr[-2000:]
