"""Loading and saving: every format in, one ``symusic.Score`` out, and back.

Formats read: MIDI (``.mid .midi .smf .kar .rmi``, via symusic), MusicXML (``.xml .musicxml
.mxl``), ABC (``.abc``; multi-tune files pick one tune), Humdrum (``.krn``) via music21, and
music21's bundled corpus by name (``"corpus:bach/bwv66.6"``). Raw ``bytes`` are recognised by
their content. Formats written: MIDI, MusicXML (``.mxl`` compressed), ABC (through the
``midi2abc`` tool symusic ships), PNG (a piano-roll plot).

Everything returned is a tick-time ``symusic.Score``: MIDI keeps the file's ticks per quarter,
music21 formats use 480. MIDI chunks are first made whole (:func:`frame_midi`), so a truncated
file parses the same way every time. Bad input never escapes as anything but a
:class:`~symbolic.errors.SymbolicError` naming the input and the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import symusic

from . import checks
from .errors import (
    ArgumentTypeError,
    DataNotFoundError,
    EmptyScoreError,
    InputTooLargeError,
    MidiParseError,
    ParseError,
    SymbolicError,
    UnsupportedFormatError,
    source_name,
)
from .limits import Limits, check_score
from .timeline import as_tick

__all__ = ["load", "load_with_stream", "save", "detect_format", "list_tunes", "frame_midi",
           "FORMATS", "score_with_bars"]

FORMATS = {
    "midi": (".mid", ".midi", ".smf", ".kar", ".rmi"),
    "musicxml": (".xml", ".musicxml", ".mxl"),
    "abc": (".abc",),
    "humdrum": (".krn",),
}
_SUFFIX = {suffix: fmt for fmt, suffixes in FORMATS.items() for suffix in suffixes}
_SAVE = {**{s: "midi" for s in FORMATS["midi"]}, ".xml": "musicxml", ".musicxml": "musicxml",
         ".mxl": "mxl", ".abc": "abc", ".png": "png"}
MAX_BYTES = 64 * 1024 * 1024  # the largest Lakh MIDI files are a few MB
CORPUS_PREFIX = "corpus:"


def detect_format(source=None, data: bytes | None = None, *, name: str | None = None) -> str:
    """The format name ('midi', 'musicxml', 'abc', 'humdrum') of a path or of raw bytes.

    The suffix decides for paths; unknown suffixes and bytes are sniffed from the content.
    """
    if source is not None and not isinstance(source, (bytes, bytearray, memoryview)):
        suffix = Path(os.fspath(source)).suffix.lower()
        if suffix in _SUFFIX:
            return _SUFFIX[suffix]
    if data is not None:
        head = bytes(data[:512])
        if head.startswith(b"MThd") or (head.startswith(b"RIFF") and head[8:12] == b"RMID"):
            return "midi"
        if head.startswith(b"PK\x03\x04"):
            return "musicxml"  # compressed MusicXML (.mxl) is a zip
        text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
        if text.startswith("<") and ("score-partwise" in text or "score-timewise" in text
                                     or text.startswith("<?xml")):
            return "musicxml"
        if text.startswith("**") or "\n**" in text[:200]:
            return "humdrum"
        if re.search(r"^X:\s*\d*", text, re.M) or re.search(r"^K:", text, re.M):
            return "abc"
    raise UnsupportedFormatError(
        "unrecognised format (expected MIDI, MusicXML, ABC or Humdrum)",
        name or source_name(source)
    )


def load(source, *, format: str | None = None, tune: int | str | None = None,
         allow_empty: bool = False, max_bytes: int = MAX_BYTES,
         sandbox: bool = True, limits: Limits | None = None) -> symusic.Score:
    """Read a piece of music into a tick-time ``symusic.Score``.

    ``source`` is a path, raw bytes, or ``"corpus:NAME"`` for music21's bundled corpus
    (``"corpus:bach/bwv66.6"``; ``"corpus:essenFolksong/altdeu10#3"`` is tune 3 of that file). ``format`` overrides
    detection ('midi', 'musicxml', 'abc', 'humdrum'). ``tune`` picks one tune of a
    multi-tune ABC file: an int is its 0-based position in the file, a str its title (exact,
    case-insensitive, else the first title containing it); the default is the first tune.

    ``sandbox`` (default True) parses MIDI in a child process, because symusic's native parser
    can crash the interpreter on malformed files (see :mod:`symbolic.sandbox`); pass False
    for trusted files to save a few hundred microseconds per file.

    ``limits`` (default :data:`symbolic.limits.DEFAULT`): how long a score may be and how many
    notes and tracks it may hold; a file that declares more is refused before anything
    allocates per tick (:mod:`symbolic.limits`).

    Raises a :class:`SymbolicError`: :class:`DataNotFoundError` (no such file),
    :class:`UnsupportedFormatError`, :class:`MidiParseError` / :class:`ParseError` (malformed,
    or values no MIDI file can mean: tempo 0, pitch or program outside 0-127, negative times),
    :class:`InputTooLargeError` (over ``max_bytes`` or ``limits``), :class:`EmptyScoreError`
    (no notes, unless ``allow_empty``).
    """
    return _load(source, format=format, tune=tune, allow_empty=allow_empty, max_bytes=max_bytes,
                 sandbox=sandbox, limits=limits)


def load_with_stream(source, *, format: str | None = None, tune: int | str | None = None,
                     max_bytes: int = MAX_BYTES, limits: Limits | None = None):
    """(Score, music21 stream) of ``source``, as :func:`load` reads it (same checks, same
    errors), with the music21 score it was converted from for MusicXML, ABC, Humdrum and
    corpus sources (measures, fermatas and other notation a ``symusic.Score`` cannot hold),
    None for MIDI: one parse for both."""
    streams: list = []
    score = _load(source, format=format, tune=tune, allow_empty=False, max_bytes=max_bytes,
                  sandbox=True, limits=limits, streams=streams)
    return score, (streams[0] if streams else None)


def _load(source, *, format, tune, allow_empty, max_bytes, sandbox, limits, streams=None):
    """:func:`load`'s work; ``streams``: a list that receives the parsed music21 object."""
    max_bytes = checks.integer("max_bytes", max_bytes, 1)
    if tune is not None and (isinstance(tune, bool) or not isinstance(tune, (int, str))):
        raise ArgumentTypeError(f"must be a tune's 0-based index or its title, got {tune!r}",
                                "tune")
    name = source_name(source)
    if isinstance(source, str) and source.startswith(CORPUS_PREFIX):
        return check_score(_load_corpus(source[len(CORPUS_PREFIX):], tune=tune,
                                        allow_empty=allow_empty, streams=streams), name, limits)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, path = bytes(source), None
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise DataNotFoundError("no such file" if not path.exists() else "not a file", path)
        size = path.stat().st_size
        if size > max_bytes:
            raise InputTooLargeError(f"{size} bytes is over the {max_bytes}-byte limit", path)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise DataNotFoundError(f"cannot read: {e.strerror or e}", path) from e
    else:
        raise ArgumentTypeError(f"must be a path, bytes or 'corpus:NAME', got {source!r}",
                                "source")
    if len(data) > max_bytes:
        raise InputTooLargeError(f"{len(data)} bytes is over the {max_bytes}-byte limit", name)
    if len(data) == 0:
        raise ParseError("empty file (0 bytes)", name)
    fmt = format or detect_format(path, data, name=name)
    if fmt == "midi":
        score = _parse_midi(data, name, sandbox=sandbox)
    elif fmt in ("musicxml", "abc", "humdrum"):
        score = _parse_music21(data, fmt, name, path=path, tune=tune, max_bytes=max_bytes,
                               streams=streams)
    else:
        raise UnsupportedFormatError(f"unknown format {fmt!r}", name)
    check_score(score, name, limits)
    if not allow_empty and score.note_num() == 0:
        raise EmptyScoreError("no notes", name)
    return score


def _parse_midi(data: bytes, name: str, *, sandbox: bool = True) -> symusic.Score:
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":
        data = _unwrap_rmid(data, name)
    if len(data) < 14 or data[:4] != b"MThd":
        raise MidiParseError("not a MIDI file (no MThd header)", name)
    data, _ = frame_midi(data, name)  # chunks made whole: symusic then never reads past the end
    division = int.from_bytes(data[12:14], "big")
    if division & 0x8000:
        raise MidiParseError("SMPTE time division is not supported (ticks per quarter only)", name)
    if division == 0:
        raise MidiParseError("ticks per quarter is 0", name)
    if sandbox:
        from .sandbox import parse_midi_isolated

        ok, result = parse_midi_isolated(data)
        if not ok:
            raise MidiParseError(result, name)
        data = result  # symusic's own re-encoding of what it parsed: safe to parse here
    try:
        return symusic.Score.from_midi(data)
    except Exception as e:  # symusic raises RuntimeError/ValueError/OverflowError...
        reason = str(e).replace("MiniMidi: ", "").strip() or type(e).__name__
        raise MidiParseError(reason, name) from e


MAX_PAD = 1 << 20  # zero bytes added at most to complete a short final chunk


def frame_midi(data: bytes, location: str = "<bytes>") -> tuple[bytes, list[str]]:
    """MIDI bytes whose chunks all lie inside the buffer, so that parsing them is deterministic,
    and what was changed (empty for a complete file, which is returned as it is).

    symusic reads a chunk up to its declared length even where the data end first (a truncated
    file), and reads the headers of tracks the file header declares but the data lack: past the
    end of its buffer. The outcome then depends on whatever memory follows, and the same file
    parses on one run and fails on the next (measured on the truncations of
    :func:`symbolic.fuzz.broken_midi_corpus`). Here chunks are walked by their headers only (tag
    and length; no event is read): a chunk that runs past the end is completed with zero bytes,
    which the parser meets as the end of its data; a missing declared track becomes an empty
    chunk; a few stray bytes after the last track are dropped. Raises :class:`MidiParseError`
    when the header is cut, when the data end inside a chunk header before every declared
    track, or when a chunk declares more than :data:`MAX_PAD` bytes beyond the end.
    """
    if data[:4] != b"MThd":
        return data, []
    n = len(data)
    if n < 14:
        raise MidiParseError(f"truncated: a MIDI header takes 14 bytes, {n} are there", location)
    declared = int.from_bytes(data[10:12], "big")
    buf, pos, tracks, notes = data, 0, 0, []
    while pos < len(buf):
        if len(buf) - pos < 8:
            if tracks < declared:
                raise MidiParseError(f"truncated: the data end inside a chunk header at byte {pos} "
                                     f"({tracks} of {declared} tracks)", location)
            notes.append(f"{len(buf) - pos} stray bytes after the last track dropped")
            buf = buf[:pos]
            break
        size = int.from_bytes(buf[pos + 4:pos + 8], "big")
        end = pos + 8 + size
        if end > len(buf):
            if end - n > MAX_PAD:
                raise MidiParseError(f"truncated: the chunk at byte {pos} declares {size} bytes, "
                                     f"{max(0, n - pos - 8)} are there", location)
            notes.append(f"truncated: the chunk at byte {pos} completed with {end - len(buf)} "
                         "zero bytes")
            buf += bytes(end - len(buf))
        tracks += buf[pos:pos + 4] == b"MTrk"
        pos = end
    if tracks < declared:
        notes.append(f"the header declares {declared} tracks, {tracks} are there")
        buf += (b"MTrk" + bytes(4)) * (declared - tracks)  # empty track chunks
    return buf, notes


def _unwrap_rmid(data: bytes, name: str) -> bytes:
    pos = 12
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if tag == b"data":
            return data[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise MidiParseError("RIFF RMID file without a 'data' chunk", name)


# ---------------------------------------------------------------------------- music21 formats

_ABC_TUNE = re.compile(r"^X:", re.M)


def _split_abc(text: str) -> tuple[str, list[str]]:
    """File header (lines before the first ``X:``) and each tune's text."""
    starts = [m.start() for m in _ABC_TUNE.finditer(text)]
    if not starts:
        return "", [text]
    return text[:starts[0]], [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]


def _abc_title(tune: str) -> str:
    m = re.search(r"^T:\s*(.*)$", tune, re.M)
    return m.group(1).strip() if m else ""


def list_tunes(source) -> list[str]:
    """Titles of the tunes in an ABC file (path or bytes), in file order."""
    data = Path(source).read_bytes() if not isinstance(source, (bytes, bytearray)) else source
    return [_abc_title(t) for t in _split_abc(data.decode("utf-8", errors="replace"))[1]]


def _pick_abc_tune(text: str, tune, name: str) -> str:
    header, tunes = _split_abc(text)
    if tune is None:
        tune = 0
    if isinstance(tune, int):
        if not -len(tunes) <= tune < len(tunes):
            raise DataNotFoundError(f"tune index {tune} out of range: the file has {len(tunes)}", name)
        return header + tunes[tune]
    titles = [_abc_title(t).lower() for t in tunes]
    want = str(tune).lower()
    for candidates in ([i for i, t in enumerate(titles) if t == want],
                       [i for i, t in enumerate(titles) if want in t]):
        if candidates:
            return header + tunes[candidates[0]]
    raise DataNotFoundError(f"no tune titled {tune!r} among {len(tunes)} tunes", name)


def check_zip(data: bytes, name: str, max_bytes: int = MAX_BYTES) -> None:
    """Refuse a zip (compressed MusicXML) whose members would unpack to more than
    ``max_bytes`` in all, read from its directory before anything is unpacked (a 1 MB ``.mxl``
    can hold a gigabyte of XML); a directory that cannot be read is a ParseError."""
    import io as _bytes_io
    import zipfile

    try:
        with zipfile.ZipFile(_bytes_io.BytesIO(data)) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise ParseError(f"not a readable zip (.mxl): {e}", name) from e
    total = sum(m.file_size for m in members)
    if total > max_bytes or len(members) > 10_000:
        raise InputTooLargeError(f"the .mxl unpacks to {total} bytes in {len(members)} files, "
                                 f"over the {max_bytes}-byte limit (max_bytes)", name)


def _parse_music21(data: bytes, fmt: str, name: str, *, path: Path | None = None, tune=None,
                   max_bytes: int = MAX_BYTES, streams: list | None = None):
    import music21

    from .convert import from_music21

    if fmt == "musicxml" and data[:4] == b"PK\x03\x04":
        check_zip(data, name, max_bytes)
    try:
        if fmt == "musicxml" and data[:4] == b"PK\x03\x04":
            with tempfile.TemporaryDirectory() as tmp:
                p = Path(tmp) / "score.mxl"
                p.write_bytes(data)
                obj = music21.converter.parse(p, format="musicxml", forceSource=True)
        else:
            text = data.decode("utf-8-sig", errors="replace") if fmt != "abc" else \
                data.decode("latin-1") if not _is_utf8(data) else data.decode("utf-8-sig")
            if fmt == "abc":
                text = _pick_abc_tune(text, tune, name)
            obj = music21.converter.parseData(text, format=fmt, forceSource=True)
    except SymbolicError:
        raise
    except Exception as e:
        raise ParseError(f"music21 cannot parse it as {fmt}: {type(e).__name__}: {e}", name) from e
    if isinstance(obj, music21.stream.Opus):
        scores = list(obj.scores)
        if not scores:
            raise EmptyScoreError("the file holds no score", name)
        obj = scores[0]
    if streams is not None:
        streams.append(obj)
    return from_music21(obj, source=name)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _load_corpus(name: str, *, tune=None, allow_empty=False, streams=None) -> symusic.Score:
    import music21

    source = CORPUS_PREFIX + name
    if "#" in name:  # "corpus:essenFolksong/altdeu10#3": the tune at index 3 of that file
        name, _, index = name.partition("#")
        if tune is None:
            try:
                tune = int(index)
            except ValueError:
                tune = index
    try:
        found = music21.corpus.getWork(name)
    except Exception as e:
        raise DataNotFoundError(f"not in music21's corpus ({e})", source) from e
    paths = found if isinstance(found, list) else [found]
    if not paths:
        raise DataNotFoundError("not in music21's corpus", source)
    path = Path(str(paths[0]))
    fmt = detect_format(path)
    score = _parse_music21(path.read_bytes(), fmt, source, path=path, tune=tune, streams=streams)
    if not allow_empty and score.note_num() == 0:
        raise EmptyScoreError("no notes", source)
    return score


# ---------------------------------------------------------------------------------- saving

def save(score: symusic.Score, path, *, format: str | None = None) -> Path:
    """Write ``score`` to ``path``; the suffix (or ``format``) chooses the format.

    'midi' (``.mid``), 'musicxml' (``.xml``/``.musicxml``), 'mxl' (compressed MusicXML),
    'abc' (via midi2abc: notes and meter survive, velocities and programs do not),
    'png' (a piano-roll plot). Returns the path written.
    """
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise ArgumentTypeError(f"must be a file path, got {path!r}", "path")
    path = Path(path)
    fmt = format or _SAVE.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedFormatError(
            f"cannot save as {path.suffix or 'a file without suffix'!r}; use one of "
            f"{sorted(_SAVE)}", path)
    score = as_tick(score)
    checks.output_file(path)
    if fmt == "midi":
        score.dump_midi(str(path))
    elif fmt in ("musicxml", "mxl"):
        from .convert import to_music21

        stream = to_music21(score, quantize=True)
        _add_chord_symbols(stream, score)
        # music21 writes (and then deletes) a same-stem .musicxml beside an .mxl: write in a
        # private folder and move the result, so a user's x.musicxml next to x.mxl survives
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            out = Path(tmp) / f"score{'.mxl' if fmt == 'mxl' else '.musicxml'}"
            stream.write("mxl" if fmt == "mxl" else "musicxml", fp=str(out))
            os.replace(out, path)
    elif fmt == "abc":
        _save_abc(score, path)
    elif fmt == "png":
        from .plot import plot_pianoroll

        plot_pianoroll(score, path=path)
    else:
        raise UnsupportedFormatError(f"unknown format {fmt!r}", path)
    return path


def _add_chord_symbols(stream, score: symusic.Score) -> None:
    """Write a score's ``chord:`` markers (what compose and melodize put there) as chord
    symbols above its melody part (a track named melody, else the first), so notation programs
    show a lead sheet."""
    from .harmony import chords_from_markers
    from .representations.leadsheet import chord_symbol

    chords = chords_from_markers(score)
    parts = list(stream.parts)
    if chords is None or not parts:
        return
    names = [t.name.strip().lower() for t in score.tracks if len(t.notes)]
    part = parts[names.index("melody")] if "melody" in names and len(names) == len(parts) \
        else parts[0]
    tpq = score.ticks_per_quarter
    last = None
    for start, chord in zip(chords.start.tolist(), chords.chords):
        if chord == last:
            continue
        last = chord
        part.insert(round(start / tpq * 4) / 4, chord_symbol(chord))  # on the 16th grid


def _midi2abc() -> str:
    bundled = Path(symusic.__file__).parent / "bin" / "midi2abc"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    found = shutil.which("midi2abc")
    if found is None:
        raise UnsupportedFormatError("ABC output needs midi2abc (shipped with symusic)")
    return found


def _save_abc(score: symusic.Score, path: Path) -> None:
    # symusic's own dump_abc breaks on its shell quoting; call the same tool with a list argv.
    with tempfile.TemporaryDirectory() as tmp:
        mid = Path(tmp) / "score.mid"
        score.dump_midi(str(mid))
        run = subprocess.run([_midi2abc(), str(mid), "-o", str(path)], capture_output=True,
                             text=True, timeout=120)
    if run.returncode != 0 or not path.is_file():
        raise SymbolicError(f"midi2abc failed: {run.stderr.strip() or run.stdout.strip()}", path)
    text = path.read_text(encoding="utf-8", errors="replace")
    path.write_text(re.sub(r"^T: from .*$", f"T: {path.stem}", text, count=1, flags=re.M),
                    encoding="utf-8")


def score_with_bars(score, bar_ticks=None, name: str = "score"):
    """(tick-time Score, bar_ticks) from a Score, a POP909 song (its annotated bars, unless
    ``bar_ticks`` is given) or anything :func:`load` reads, within
    :data:`symbolic.limits.DEFAULT` (a Score built in code is checked like a loaded file):
    what the generators (infill, find_themes) take as their input piece."""
    bar_ticks = checks.bar_ticks("bar_ticks", bar_ticks)
    if hasattr(score, "bar_ticks") and isinstance(getattr(score, "score", None), symusic.Score):
        bar_ticks = score.bar_ticks() if bar_ticks is None else bar_ticks
        score = score.score
    if isinstance(score, symusic.Score):
        return check_score(as_tick(score), name), bar_ticks
    return as_tick(load(score)), bar_ticks
