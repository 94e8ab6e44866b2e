"""A MidiCaps-format corpus built at run time from real MIDI files, for tests and the notebook.

:func:`build` writes, into a folder::

    train.json         JSON Lines, one row per file with every MidiCaps field
    midicaps.tar.gz    lmd_full/<first hex digit>/<md5>.mid members (plus noise members)
    lmd_full/...       the same files, extracted (for the folder reader)

from POP909 songs (``../shared/data/pop909``, when present) and music21 Bach chorales written
to MIDI, plus deliberately bad inputs: broken MIDI (from :mod:`symbolic.fuzz`), a file that is
not MIDI, an empty file (0 bytes), a MIDI file without notes, and a captions row whose file the
archive lacks. :class:`Fixture` says which is which and which error each must give.

Also here: ``crash_on_marker`` and ``hang_on_marker``, picklable ``transform`` functions that kill
or stall the worker on scores carrying a marker, for the pipeline's crash and timeout tests.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import symusic

from symbolic.data import data_root

MARKER_CRASH = "symbolic-test: crash"
MARKER_HANG = "symbolic-test: hang"

GENRES = ["pop", "rock", "electronic", "classical", "jazz", "soundtrack"]
MOODS = ["happy", "melodic", "dark", "energetic", "relaxing", "film", "emotional"]
KEYS = ["C major", "A minor", "G major", "E minor", "F major", "D minor", "Bb major"]


@dataclass
class Fixture:
    root: Path
    captions: Path
    archive: Path
    folder: Path  # holds lmd_full/
    good: list[str] = field(default_factory=list)  # locations that must give one row each
    bad: dict[str, str] = field(default_factory=dict)  # location -> expected error class
    test_set: set[str] = field(default_factory=set)
    extra_members: list[str] = field(default_factory=list)  # in the archive, not captioned
    order: list[str] = field(default_factory=list)  # captions file order

    @property
    def captioned(self) -> list[str]:
        return list(self.order)


def _location(data: bytes) -> str:
    md5 = hashlib.md5(data).hexdigest()
    return f"lmd_full/{md5[0]}/{md5}.mid"


def _row(location: str, i: int, score: symusic.Score | None, test: bool) -> dict:
    """A captions row with every MidiCaps field, plausible values."""
    seconds = int(score.to("second").end()) if score is not None and score.note_num() else 0
    tempo = int(round(score.tempos[0].qpm)) if score is not None and len(score.tempos) else 120
    genres = [GENRES[i % len(GENRES)], GENRES[(i + 2) % len(GENRES)]]
    moods = [MOODS[i % len(MOODS)], MOODS[(i + 3) % len(MOODS)], MOODS[(i + 5) % len(MOODS)]]
    chords = ["C", "G", "Am", "F"][: 2 + i % 3]
    programs = sorted({t.program for t in score.tracks}) if score is not None else []
    return {
        "location": location,
        "caption": f"A {moods[0]} {genres[0]} piece in {KEYS[i % len(KEYS)]} at {tempo} bpm, "
                   f"number {i}.",
        "genre": genres,
        "genre_prob": [0.61, 0.22],
        "mood": moods,
        "mood_prob": [0.4, 0.2, 0.1],
        "key": KEYS[i % len(KEYS)],
        "time_signature": "4/4",
        "tempo": tempo,
        "tempo_word": "Moderato" if tempo < 110 else "Allegro",
        "duration": seconds,
        "duration_word": "Short fragment" if seconds < 60 else "Long",
        "chord_summary": chords,
        "chord_summary_occurence": 3 + i,
        "instrument_summary": ["Piano"] if programs == [0] else ["Piano", "Strings"],
        "instrument_numbers_sorted": programs,
        "all_chords": chords * 2,
        "all_chords_timestamps": [0.5 * k for k in range(2 * len(chords))],
        "test_set": test,
    }


def _pop909_files(n: int) -> list[bytes]:
    root = data_root() / "pop909"
    out = []
    for i in range(1, 910):
        if len(out) >= n:
            break
        p = root / f"{i:03d}" / f"{i:03d}.mid"
        if p.is_file():
            out.append(p.read_bytes())
    return out


def _music21_files(n: int) -> list[bytes]:
    from symbolic.data.music21_corpus import bach_chorales

    return [bytes(score.dumps_midi()) for _, score in bach_chorales(limit=n)]


def _no_notes_midi() -> bytes:
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, qpm=100.0))
    score.tracks.append(symusic.Track(name="silent", program=0))
    return bytes(score.dumps_midi())


def _broken_files() -> list[tuple[bytes, str]]:
    from symbolic.fuzz import broken_midi_corpus

    want = {"truncate@30": "MidiParseError", "header:division=0": "MidiParseError",
            "text": "UnsupportedFormatError", "mthd-only": "EmptyScoreError"}
    return [(data, want[name]) for name, data in broken_midi_corpus() if name in want]


def marked(data: bytes, marker: str) -> bytes:
    """``data`` with a marker text event, which the test transforms react to."""
    score = symusic.Score.from_midi(data)
    score.markers.append(symusic.TextMeta(0, marker))
    return bytes(score.dumps_midi())


def build(dest, *, n_pop909: int = 8, n_music21: int = 3, copies: int = 1,
          crash: bool = False, hang: bool = False) -> Fixture:
    """Write the fixture into ``dest`` (created) and describe it.

    ``copies`` repeats every good file under new locations (same music, one byte changed in a
    text event) to make a larger corpus; ``crash``/``hang`` add one good-looking file marked for
    :func:`crash_on_marker` / :func:`hang_on_marker`.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    good_data = _pop909_files(n_pop909) + _music21_files(n_music21)
    files: list[tuple[bytes, str | None]] = []  # (bytes, expected error or None)
    for copy in range(copies):
        for data in good_data:
            if copy:
                data = marked(data, f"copy {copy}")
            files.append((data, None))
    files += _broken_files()
    files.append((b"", "ParseError"))
    files.append((_no_notes_midi(), "EmptyScoreError"))
    if crash:
        files.append((marked(good_data[0], MARKER_CRASH), "WorkerCrashError"))
    if hang:
        files.append((marked(good_data[0], MARKER_HANG), "TokenizeTimeoutError"))

    fx = Fixture(dest, dest / "train.json", dest / "midicaps.tar.gz", dest)
    rows, members = [], []
    for i, (data, error) in enumerate(files):
        loc = _location(data + str(i).encode()) if not data else _location(data)
        if loc in fx.bad or loc in fx.good:  # identical bytes twice: keep names unique
            loc = _location(data + str(i).encode())
        try:
            score = symusic.Score.from_midi(data) if error is None else None
        except Exception:  # noqa: BLE001
            score = None
        test = i % 4 == 3
        rows.append(_row(loc, i, score, test))
        members.append((loc, data))
        (fx.good.append(loc) if error is None else fx.bad.__setitem__(loc, error))
        if test:
            fx.test_set.add(loc)
    missing = "lmd_full/f/ffffffffffffffffffffffffffffffff.mid"
    rows.append(_row(missing, len(rows), None, False))
    fx.bad[missing] = "DataNotFoundError"
    fx.order = [r["location"] for r in rows]

    # captions file order differs from archive order, as in the real corpus
    with open(fx.captions, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    extra = _location(b"uncaptioned" + good_data[-1])
    fx.extra_members = [extra]
    archive_members = list(reversed(members)) + [(extra, good_data[-1])]
    with tarfile.open(fx.archive, "w:gz") as tar:
        readme = b"MidiCaps test fixture\n"
        info = tarfile.TarInfo("lmd_full/README.txt")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))
        for loc, data in archive_members:
            info = tarfile.TarInfo(loc)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    for loc, data in members:
        p = fx.folder / loc
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return fx


def _has_marker(score, marker: str) -> bool:
    return any(m.text == marker for m in score.markers)


def crash_on_marker(score):
    """A transform that kills its worker process (SIGKILL) on a score marked for it."""
    if _has_marker(score, MARKER_CRASH):
        os.kill(os.getpid(), signal.SIGKILL)
    return score


def hang_on_marker(score):
    """A transform that stalls (far past any test timeout) on a score marked for it."""
    if _has_marker(score, MARKER_HANG):
        time.sleep(600)
    return score


def crash_or_hang(score):
    return hang_on_marker(crash_on_marker(score))
