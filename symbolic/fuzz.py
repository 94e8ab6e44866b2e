"""A generated corpus of broken MIDI inputs, for proving that loaders fail cleanly.

:func:`broken_midi_corpus` derives, deterministically from a seed, several hundred damaged
variants of valid MIDI bytes: truncations at many offsets, flipped and random bytes, wrong chunk
lengths, absurd headers, malformed events, non-MIDI bytes and empty files. Every variant is
``(name, bytes)``; the name says how it was made, so a failure can be reproduced.

:func:`crafted_inputs` adds the reproductions of reported attacks, made byte by byte: huge
delta times, a 77-hour note, tempo 0, pitch and program bytes over 127, a tick count past
2^31, a compressed MusicXML bomb (:func:`zip_bomb`) under its own name and named ``.mid``.

``benchmarks/fuzz_midi.py`` feeds this corpus to symusic without protection (in child
processes, counting crashes) and to every entry point of the toolkit; ``tests/test_io.py``
asserts that every variant either loads or raises :class:`~symbolic.errors.SymbolicError`.
"""

from __future__ import annotations

import random
import struct
from typing import Iterator

import numpy as np
import symusic

__all__ = ["seed_midi", "broken_midi_corpus", "mutate", "crafted_inputs", "zip_bomb", "vlq",
           "midi_file"]


def seed_midi(seed: int = 0) -> bytes:
    """Valid MIDI bytes of a small synthetic piece: piano, bass and drums, tempo and meter changes."""
    rng = np.random.default_rng(seed)
    score = symusic.Score(480)
    for program, is_drum, lo, hi in ((0, False, 55, 84), (33, False, 28, 52), (0, True, 35, 51)):
        track = symusic.Track(name="drums" if is_drum else f"program {program}",
                              program=program, is_drum=is_drum)
        n = 120
        onsets = np.sort(rng.integers(0, 480 * 64, n)).astype(np.int32)
        track.notes = symusic.Note.from_numpy(
            time=onsets,
            duration=rng.integers(60, 960, n).astype(np.int32),
            pitch=rng.integers(lo, hi, n).astype(np.int8),
            velocity=rng.integers(30, 120, n).astype(np.int8),
        )
        score.tracks.append(track)
    score.tempos.append(symusic.Tempo(0, qpm=96.0))
    score.tempos.append(symusic.Tempo(480 * 32, qpm=132.0))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    score.time_signatures.append(symusic.TimeSignature(480 * 32, 3, 4))
    score.key_signatures.append(symusic.KeySignature(0, -2, 0))
    return bytes(score.dumps_midi())


def _chunks(data: bytes) -> list[tuple[int, bytes, int]]:
    """(offset, tag, declared length) of each chunk header found by walking declared lengths."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "big")
        out.append((pos, tag, size))
        pos += 8 + size
    return out


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One random damage of ``data``: (description, damaged bytes)."""
    b = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:
        k = rng.randrange(len(b))
        return f"truncate@{k}", bytes(b[:k])
    if kind == 1:
        n = rng.randint(1, 40)
        for _ in range(n):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return f"flip{n}", bytes(b)
    if kind == 2:
        p = rng.randrange(max(1, len(b) - 4))
        b[p:p + 4] = rng.randrange(1 << 32).to_bytes(4, "big")
        return f"word@{p}", bytes(b)
    if kind == 3:
        p, q = sorted((rng.randrange(len(b)), rng.randrange(len(b))))
        return f"cut{p}-{q}", bytes(b[:p] + b[q:])
    p = rng.randrange(len(b))
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
    return f"insert@{p}", bytes(b[:p] + junk + b[p:])


def _header(fmt: int, ntracks: int, division: int, length: int = 6) -> bytes:
    return b"MThd" + struct.pack(">IHHH", length, fmt, ntracks, division)


def _track(body: bytes, length: int | None = None) -> bytes:
    return b"MTrk" + struct.pack(">I", len(body) if length is None else length) + body


_NOTE = b"\x00\x90\x3c\x40\x83\x60\x80\x3c\x00\x00\xff\x2f\x00"


def broken_midi_corpus(data: bytes | None = None, *, seed: int = 0,
                       n_random: int = 300) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, bytes)`` damaged variants of ``data`` (default: :func:`seed_midi`).

    Families: truncation at 64 evenly spaced offsets and at every offset of the first 40 bytes;
    each chunk's declared length set to 0, 1, size-1, size+1 and 0xFFFFFFFF; absurd headers
    (formats 2/3/7, 0 and 65535 tracks, division 0 and SMPTE, header lengths 0/5/7/huge);
    malformed events (over-long VLQ, huge meta and SysEx lengths, running status with no status,
    missing end of track, data bytes over 127, short tempo/meter/key metas); non-MIDI bytes
    (empty, text, zeros, PNG and RIFF headers, random bytes); then ``n_random`` random damages
    (:func:`mutate`) from ``seed``.
    """
    data = seed_midi() if data is None else bytes(data)
    n = len(data)
    for k in sorted(set(list(range(40)) + [int(x) for x in np.linspace(0, n - 1, 64)])):
        yield f"truncate@{k}", data[:k]
    for pos, tag, size in _chunks(data):
        for bad in (0, 1, max(size - 1, 0), size + 1, 0xFFFFFFFF):
            if bad != size:
                yield (f"chunk@{pos}:{tag.decode('latin-1')}len={bad}",
                       data[:pos + 4] + struct.pack(">I", bad) + data[pos + 8:])
    body = data[14:]
    for fmt in (2, 3, 7, 0xFFFF):
        yield f"header:format={fmt}", _header(fmt, 1, 480) + body
    for ntr in (0, 65535):
        yield f"header:ntracks={ntr}", _header(1, ntr, 480) + body
    for division in (0, 0x8000 | (256 - 25) << 8 | 40, 1, 0x7FFF):
        yield f"header:division={division}", _header(1, 3, division) + body
    for length in (0, 5, 7, 0xFFFFFFFF):
        yield f"header:length={length}", _header(1, 3, 480, length) + body
    events = {
        "vlq-overlong": b"\xff\xff\xff\xff\xff\x90\x3c\x40",
        "meta-huge": b"\x00\xff\x03\x8f\xff\xff\xff\x7fname",
        "sysex-huge": b"\x00\xf0\x8f\xff\xff\xff\x7f\x00",
        "running-status-first": b"\x00\x3c\x40\x00\x3c\x00",
        "no-end-of-track": b"\x00\x90\x3c\x40\x60\x80\x3c\x00",
        "data-over-127": b"\x00\x90\xbc\xff\x60\x80\xbc\x00\x00\xff\x2f\x00",
        "tempo-short": b"\x00\xff\x51\x01\x07" + _NOTE,
        "tempo-zero": b"\x00\xff\x51\x03\x00\x00\x00" + _NOTE,
        "meter-short": b"\x00\xff\x58\x01\x04" + _NOTE,
        "meter-denominator-huge": b"\x00\xff\x58\x04\x04\xff\x18\x08" + _NOTE,
        "key-short": b"\x00\xff\x59\x00" + _NOTE,
        "key-out-of-range": b"\x00\xff\x59\x02\x7f\x05" + _NOTE,
        "note-off-only": b"\x00\x80\x3c\x40\x00\xff\x2f\x00",
        "huge-delta": b"\x00\x90\x3c\x40\x8f\xff\xff\x7f\x80\x3c\x00\x00\xff\x2f\x00",
        "many-note-ons": b"\x00\x90\x3c\x40" * 5000 + b"\x00\xff\x2f\x00",
    }
    for name, ev in events.items():
        yield f"event:{name}", _header(0, 1, 480) + _track(ev)
        yield f"event:{name}:bad-length", _header(0, 1, 480) + _track(ev, len(ev) + 7)
    rng = random.Random(seed)
    yield "empty", b""
    yield "text", b"This is not a MIDI file.\n" * 4
    yield "zeros", bytes(256)
    yield "png", b"\x89PNG\r\n\x1a\n" + bytes(64)
    yield "riff-no-data", b"RIFF" + struct.pack("<I", 16) + b"RMIDjunkjunkjunk"
    yield "riff-wrapped", b"RIFF" + struct.pack("<I", n + 12) + b"RMIDdata" + struct.pack("<I", n) + data
    yield "mthd-only", data[:14]
    for i in range(8):
        yield f"random{i}", bytes(rng.randrange(256) for _ in range(rng.randint(1, 2048)))
        yield f"mthd+random{i}", data[:14] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 2048)))
    for i in range(n_random):
        how, damaged = mutate(data, rng)
        yield f"random-damage{i}:{how}", damaged


def vlq(n: int) -> bytes:
    """``n`` as a MIDI variable-length quantity (7 bits a byte, high bit: more follows)."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def midi_file(*tracks: bytes, tpq: int = 480) -> bytes:
    """A MIDI file (format 0 for one track, else 1) of the given track bodies, each closed
    with an end-of-track event."""
    body = b"".join(_track(t + b"\x00\xff\x2f\x00") for t in tracks)
    return _header(0 if len(tracks) == 1 else 1, len(tracks), tpq) + body


def zip_bomb(unpacked: int = 1 << 30, member: str = "score.musicxml") -> bytes:
    """A ``.mxl`` (zip) whose MusicXML member unpacks to ``unpacked`` bytes of blanks inside
    one tag: about 1 MB per GiB, written in 1 MiB pieces (never held whole)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/container.xml", '<container><rootfiles><rootfile full-path="'
                   f'{member}"/></rootfiles></container>')
        with z.open(member, "w", force_zip64=unpacked >= 1 << 31) as f:
            f.write(b"<")
            piece = b" " * (1 << 20)
            left = unpacked - 2
            while left > 0:
                f.write(piece[:min(left, len(piece))])
                left -= len(piece)
            f.write(b">")
    return buf.getvalue()


def crafted_inputs(bomb_bytes: int = 1 << 30) -> list[tuple[str, bytes, str]]:
    """``(name, bytes, suffix)`` reproductions of reported attacks (see the module doc); the
    bomb unpacks to ``bomb_bytes``."""
    on, off = b"\x90\x3c\x40", b"\x80\x3c\x00"
    far = vlq(0x0FFFFFFF)
    held = vlq(0) + on + far + off  # one note 0x0FFFFFFF ticks long
    long_deltas = midi_file(held * 8, held * 8)
    out = [
        (f"deltas 0x0FFFFFFF ({len(long_deltas)} B)", long_deltas, ".mid"),
        ("one 77-hour note (37 B)", midi_file(vlq(0) + on + far + off), ".mid"),
        ("tempo 0", midi_file(b"\x00\xff\x51\x03\x00\x00\x00" + _NOTE[:-4]), ".mid"),
        ("pitch byte 0xBC (-68)", midi_file(b"\x00\x90\xbc\x40\x60\x80\xbc\x00"), ".mid"),
        ("program 205", midi_file(b"\x00\xc0\xcd" + _NOTE[:-4]), ".mid"),
        ("ticks past 2^31", midi_file(held * 9 + vlq(480) + on + vlq(480) + off), ".mid"),
        ("velocity byte 0xFF", midi_file(b"\x00\x90\x3c\xff\x60\x80\x3c\x00"), ".mid"),
        ("no notes", midi_file(b"\x00\xff\x51\x03\x07\xa1\x20"), ".mid"),
        ("2 hours at 120 qpm", midi_file(vlq(0) + on + vlq(480 * 2 * 7200) + off), ".mid"),
        ("59 minutes, 2 notes", midi_file(vlq(0) + on + vlq(480) + off
                                          + vlq(480 * 2 * 3538) + on + vlq(480) + off), ".mid"),
    ]
    bomb = zip_bomb(bomb_bytes)
    label = f"{bomb_bytes / 2**30:g} GiB" if bomb_bytes >= 1 << 30 else f"{bomb_bytes} B"
    out += [(f".mxl bomb, {label} unpacked", bomb, ".mxl"),
            (f".mxl bomb named .mid, {label}", bomb, ".mid")]
    return out
