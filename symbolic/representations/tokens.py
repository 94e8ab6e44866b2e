"""Token sequences: miditok tokenizers configured from named presets.

A preset is a miditok tokenizer saved in miditok's own JSON format (``tokenizer.save``) under a
name: ``load("remi")`` reads ``remi.json`` from ``symbolic/pretrained/tokenizers/`` (installed
package) or the repository's ``tokenizers/`` folder; any miditok tokenizer file, or a folder
holding ``tokenizer.json`` (a tokenized corpus, a trained BPE tokenizer), loads the same way.
:func:`save` writes miditok's format back, so ``miditok.REMI(params=path)`` reads it too.

=============  ===========  ==============================================================
preset         miditok      what
=============  ===========  ==============================================================
remi           REMI         REMI+ (FIGARO): Bar/Position time, Program before each Pitch
tsd            TSD          TimeShift-Duration: time as shifts between events
midilike       MIDILike     NoteOn/NoteOff/TimeShift, like a MIDI event stream
structured     Structured   fixed Program/Pitch/Velocity/Duration/TimeShift cycle per note
                            (no Tempo or TimeSig tokens: miditok's Structured has none)
cpword         CPWord       compound words: one step per note or bar/position (8 sub-ids)
octuple        Octuple      one step per note, 8 sub-ids (program, pitch, bar, position...)
mmm            MMM          multitrack sequences of REMI tracks, one after another
pertok         PerTok       quantized time plus MicroTiming tokens for expressive MIDI
=============  ===========  ==============================================================

Every preset is multitrack in one sequence (``use_programs``, drums as program -1), with
velocities (32 bins), tempos (32 values, 40-250 qpm), time signatures (except Structured),
8 positions per beat for durations up to 4 beats and 4 per beat up to 12, pitches 21-108,
special tokens PAD, BOS, EOS, MASK, and token-id training (BPE...) split per bar.

**What encoding loses** (miditok's preprocessing; measured per note by :func:`loss`): onsets
and durations are quantized to the position grid; velocities are binned; notes outside the
pitch range are dropped, as are exact duplicates (same pitch and onset in one program);
tracks of the same program are merged; tempos are binned and time signatures outside the
supported range dropped; Octuple and CPWord clip bars beyond their bar limit (miditok warns).
Decoding gives one track per program at the tokenizer's own resolution.

:func:`encode` (``encode(score, *, tokenizer="remi", strict=False, source=None)``, the shape
of every codec in :mod:`symbolic.representations`) returns a :class:`TokenSequence`: ``ids``
(``[n]``, or ``[n, k]`` for the multi-vocabulary CPWord/Octuple) in the narrowest unsigned dtype
that holds the vocabulary (:func:`id_dtype`), exactly ``tokenizer.encode(score).ids``; the bar
starts; miditok's warnings; the tokenizer; and the ``report`` of what decoding loses (measured
by one decode, on first use). :func:`decode` inverts it.

**Speed.** miditok builds an ``Event`` object per token in Python (about 4 microseconds a
token: 25-40 ms for a POP909 or Lakh file), which bounds corpus throughput. For REMI with
one stream and programs (the ``remi`` preset and its variants: velocities, tempos, time
signatures on or off, any grid), :func:`encode` keeps miditok's own preprocessing and
builds the ids with numpy lookups plus one loop over the distinct onset times (about 5 ms a
file). The ids are miditok's, token for token: the tests compare both paths on real files and
on generated scores with meter and tempo changes at arbitrary ticks; any other tokenizer or
setting goes through miditok itself (``fast=False`` forces that).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import symusic

from ..errors import (ArgumentError, ArgumentTypeError, DataNotFoundError, SymbolicError,
                      TokenizationError)
from . import EncodeReport

__all__ = [
    "PRESETS",
    "TOKENIZER_DIRS",
    "USER_TOKENIZERS",
    "TokenizationError",
    "TokenSequence",
    "preset_names",
    "load",
    "save",
    "from_dict",
    "build_preset",
    "build_presets",
    "fingerprint",
    "vocab_size",
    "id_dtype",
    "describe",
    "encode",
    "decode",
    "loss",
    "check_stream",
    "ids_to_text",
    "ids_to_bpe",
]

_PACKAGE = Path(__file__).resolve().parents[1]
#: Where named tokenizers are looked up, in order.
#: Where a tokenizer saved by a bare name goes (and is found again): ``$SYMBOLIC_TOKENIZERS``,
#: else ``~/.local/share/symbolic/tokenizers``; never the package or the source checkout.
USER_TOKENIZERS = Path(os.environ.get("SYMBOLIC_TOKENIZERS")
                       or Path.home() / ".local" / "share" / "symbolic" / "tokenizers")
TOKENIZER_DIRS = (_PACKAGE / "pretrained" / "tokenizers", _PACKAGE.parent / "tokenizers",
                  USER_TOKENIZERS)
DEFAULT_FILE = "tokenizer.json"  # miditok's file name inside a folder

_COMMON = dict(
    pitch_range=(21, 109),
    beat_res={(0, 4): 8, (4, 12): 4},
    num_velocities=32,
    special_tokens=["PAD", "BOS", "EOS", "MASK"],
    encode_ids_split="bar",
    use_velocities=True,
    use_chords=False,
    use_rests=False,
    use_tempos=True,
    num_tempos=32,
    tempo_range=(40, 250),
    use_time_signatures=True,
    use_sustain_pedals=False,
    use_pitch_bends=False,
    use_programs=True,
    one_token_stream_for_programs=True,
    programs=list(range(-1, 128)),
)

#: name -> (miditok class, config overrides of the common settings above, description)
PRESETS: dict[str, tuple[str, dict, str]] = {
    "remi": ("REMI", {}, "REMI+ (FIGARO): Bar/Position time, Program before each Pitch"),
    "tsd": ("TSD", {}, "TimeShift-Duration"),
    "midilike": ("MIDILike", {}, "NoteOn/NoteOff/TimeShift"),
    "structured": ("Structured", {"use_tempos": False, "use_time_signatures": False},
                   "Program/Pitch/Velocity/Duration/TimeShift per note"),
    "cpword": ("CPWord", {}, "compound words, 8 sub-ids per step"),
    "octuple": ("Octuple", {"max_bar_embedding": 1024}, "one 8-id step per note, up to 1024 bars"),
    "mmm": ("MMM", {"base_tokenizer": "REMI"}, "REMI tracks one after another"),
    "pertok": ("PerTok", {"use_microtiming": True, "ticks_per_quarter": 480,
                          "max_microtiming_shift": 0.125, "num_microtiming_bins": 30},
               "quantized time plus MicroTiming tokens"),
}

_VERSION_KEYS = ("miditok_version", "symusic_version", "hf_tokenizers_version")



# ------------------------------------------------------------------------------ presets, I/O

def preset_names() -> list[str]:
    """Names :func:`load` finds in :data:`TOKENIZER_DIRS` (token presets and saved tokenizers)."""
    names = set()
    for d in TOKENIZER_DIRS:
        if d.is_dir():
            for p in d.glob("*.json"):
                if _is_miditok_file(p):
                    names.add(p.stem)
    return sorted(names)


def _is_miditok_file(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(4096)
    except OSError:
        return False
    # miditok writes "config" first and "tokenization" after it; grid vocabularies start otherwise
    return '"tokenization"' in head or '"config"' in head[:200]


def _is_name(x) -> bool:
    return isinstance(x, str) and "/" not in x and os.sep not in x and not x.endswith(".json")


def _resolve(name_or_path) -> Path | None:
    """The file to load; None for a preset whose file is not installed (built from code)."""
    if _is_name(name_or_path):
        for d in TOKENIZER_DIRS:
            if (d / f"{name_or_path}.json").is_file():
                return d / f"{name_or_path}.json"
    p = Path(os.fspath(name_or_path))
    if p.is_dir():
        p = p / DEFAULT_FILE
    if p.is_file():
        return p
    if _is_name(name_or_path):
        if name_or_path in PRESETS:
            return None
        raise DataNotFoundError(f"no tokenizer of that name; known: {', '.join(preset_names())}",
                                name_or_path)
    raise DataNotFoundError("no tokenizer file here", p)


def load(name_or_path):
    """A miditok tokenizer from a name (``"remi"``: a preset, or a tokenizer saved under
    :data:`TOKENIZER_DIRS`), a miditok JSON file, or a folder holding ``tokenizer.json``.
    Each call returns a new object (tokenizers are mutable)."""
    import miditok

    path = _resolve(name_or_path)
    if path is None:  # an installed package without the repository's tokenizers/ folder
        return build_preset(name_or_path)
    try:
        params = json.loads(path.read_text(encoding="utf-8"))
        cls = getattr(miditok, params["tokenization"])
    except (ValueError, KeyError, AttributeError) as e:
        raise SymbolicError(f"not a miditok tokenizer file ({type(e).__name__}: {e})", path) from e
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "attribute controls disabled" on every load
        return cls(params=path)


@functools.lru_cache(maxsize=16)
def _cached(name: str):
    return load(name)


def _tokenizer(tokenizer):
    return _cached(tokenizer) if isinstance(tokenizer, str) else tokenizer


def from_dict(params: dict):
    """A tokenizer from miditok's dict form (``tokenizer.to_dict()``), e.g. sent to a worker."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / DEFAULT_FILE
        path.write_text(json.dumps(params), encoding="utf-8")
        return load(path)


def save(tokenizer, name_or_path, *, directory=None, overwrite: bool = False) -> Path:
    """Write ``tokenizer`` in miditok's JSON format and return the path.

    A bare name (``"remi-bpe-20k"``) goes to ``directory/NAME.json`` (default:
    :data:`USER_TOKENIZERS`, a folder of the user's, never the source checkout) and is then
    loadable by name; anything with a ``/`` or a ``.json`` suffix is a path. An existing file
    is kept unless ``overwrite``; a name that :func:`load` already finds elsewhere (a shipped
    preset) is refused, since loading by that name would not return what was saved.
    """
    name = os.fspath(name_or_path)
    if _is_name(name):
        if directory is None:
            shadow = [d / f"{name}.json" for d in TOKENIZER_DIRS[:2]]
            if any(p.is_file() for p in shadow) or name in PRESETS:
                raise ArgumentError(f"{name!r} is a shipped tokenizer's name: choose another, "
                                    f"or pass directory=", "name_or_path")
            directory = USER_TOKENIZERS
        path = Path(directory) / f"{name}.json"
    else:
        path = Path(name)
        if path.is_dir() or not path.suffix:
            path = path / DEFAULT_FILE
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tokenizer.save(tmp)
    os.replace(tmp, path)
    return path


def build_preset(name: str):
    """The tokenizer preset ``name`` describes, built from its configuration (not the file)."""
    import miditok

    if name not in PRESETS:
        raise ArgumentError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}", "name")
    cls, overrides, _ = PRESETS[name]
    config = miditok.TokenizerConfig(**{**_COMMON, **overrides})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(miditok, cls)(config)


def build_presets(directory=None) -> list[Path]:
    """(Re)write every preset's JSON file into ``directory`` (default: ``tokenizers/``)."""
    return [save(build_preset(n), n, directory=directory or TOKENIZER_DIRS[1], overwrite=True)
            for n in PRESETS]


def fingerprint(tokenizer) -> str:
    """A short hash of what decides the ids: tokenization, configuration, trained model."""
    d = _tokenizer(tokenizer).to_dict()
    for k in _VERSION_KEYS:
        d.pop(k, None)
    text = json.dumps(d, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def vocab_size(tokenizer) -> int:
    """Size of the id space (the largest of the sub-vocabularies for CPWord/Octuple)."""
    tok = _tokenizer(tokenizer)
    if tok.is_multi_voc:
        return max(len(v) for v in tok.vocab)
    return len(tok)


def id_dtype(tokenizer) -> np.dtype:
    """The narrowest unsigned integer dtype holding every id of ``tokenizer``."""
    n = vocab_size(tokenizer)
    for dt in (np.uint8, np.uint16, np.uint32):
        if n <= np.iinfo(dt).max + 1:
            return np.dtype(dt)
    return np.dtype(np.uint64)


# ---------------------------------------------------------------------------------- codec

@dataclass(eq=False)
class TokenSequence:
    """One score's tokens, as :func:`encode` returns them.

    ``ids``: miditok's ids, ``[n]`` (or ``[n, k]`` for CPWord/Octuple), dtype :func:`id_dtype`.
    ``bar_starts``: ``uint32``, the index where each bar's tokens start (as miditok splits a
    sequence per bar for BPE). ``warnings``: miditok's warnings, once each. ``tokenizer``: the
    miditok tokenizer that made the ids (and decodes them). ``source``: the input's name.
    ``report``: what ``decode`` gives back of each note (:func:`loss`); measured on first use
    by decoding the ids once (or at encode time with ``strict=True``).
    """

    ids: np.ndarray
    bar_starts: np.ndarray
    warnings: list[str]
    tokenizer: object = field(default=None, repr=False)
    source: object = None
    score: symusic.Score | None = field(default=None, repr=False)
    _report: EncodeReport | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def report(self) -> EncodeReport:
        if self._report is None:
            if self.score is None:
                raise ValueError("no score kept to measure the loss against")
            self._report = _loss_report(self.score, decode(self), self.tokenizer, self.source)
        return self._report


def check_stream(tok) -> None:
    """Raise ``ValueError`` unless ``tok`` makes one sequence per score (what symbolic stores:
    ``use_programs=True`` with ``one_token_stream_for_programs=True``)."""
    if not tok.one_token_stream:
        raise ValueError("this tokenizer makes one sequence per track; symbolic stores one "
                         "sequence per file: set use_programs=True and "
                         "one_token_stream_for_programs=True")


def _bar_starts(seq) -> np.ndarray:
    """Start index of each subsequence ``seq.split_per_bars()`` would make (without copying)."""
    ticks = seq._ticks_bars
    events = seq.events
    if not ticks or not events:
        return np.zeros(1 if events else 0, dtype=np.uint32)
    first = events[0]
    if isinstance(first, list):  # multi-vocabulary: one list of events per step
        times = np.fromiter((e[0].time for e in events), dtype=np.int64, count=len(events))
    else:
        times = np.fromiter((e.time for e in events), dtype=np.int64, count=len(events))
    # miditok walks forward from the previous split for the first event at or after each bar
    # tick and stops at the first bar past the last event; with sorted times that is a search.
    if np.all(times[1:] >= times[:-1]):
        idx = np.searchsorted(times, np.asarray(ticks[1:], dtype=np.int64), side="left")
        idx = idx[: np.searchsorted(idx, len(times), side="left")]
        return np.concatenate([[0], idx]).astype(np.uint32)
    lengths = [len(s) for s in seq.split_per_bars()]
    return np.concatenate([[0], np.cumsum(lengths[:-1])]).astype(np.uint32)


def _byte_table(tok) -> np.ndarray | None:
    """Code point of each base id's one-character "byte" (None if some byte is longer)."""
    to_byte = tok._vocab_base_id_to_byte
    cached = getattr(tok, "_symbolic_byte_table", None)
    if cached is not None and cached[0] == len(to_byte):
        return cached[1]
    if any(len(b) != 1 for b in to_byte.values()):
        return None
    table = np.zeros(max(to_byte) + 1, dtype=np.uint32)
    for i, b in to_byte.items():
        table[i] = ord(b)
    tok._symbolic_byte_table = (len(to_byte), table)
    return table


def ids_to_text(tok, ids: np.ndarray) -> str:
    """Base-vocabulary ids as the one-character-per-id text a trained model (BPE...) reads:
    miditok's ``_ids_to_bytes(ids, as_one_str=True)``, vectorized."""
    table = _byte_table(tok)
    if table is None:
        return tok._ids_to_bytes([int(i) for i in ids], as_one_str=True)
    return table[ids.astype(np.int64)].astype("<u4").tobytes().decode("utf-32-le")


def ids_to_bpe(tokenizer, ids: np.ndarray, bar_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Base-vocabulary ids (and their bar starts) -> the trained tokenizer's ids and bar starts.

    Exactly what ``tokenizer.encode`` does after tokenizing: each bar's bytes are one
    pre-tokenized word of the trained model (BPE, Unigram, WordPiece). ``tokenizer.config
    .encode_ids_split`` must be ``"bar"`` or ``"no"``.
    """
    tok = _tokenizer(tokenizer)
    if not tok.is_trained:
        raise ValueError("the tokenizer is not trained (no BPE/Unigram/WordPiece model)")
    split = tok.config.encode_ids_split
    text = ids_to_text(tok, np.asarray(ids))
    if split == "bar":
        bounds = list(bar_starts[1:]) + [len(ids)] if len(bar_starts) else [len(ids)]
        starts = [0] + list(bounds[:-1]) if len(bar_starts) else [0]
        words = [text[a:b] for a, b in zip(starts, bounds) if b > a]
    elif split == "no":
        words = [text] if text else []
    else:
        raise ValueError(f"encode_ids_split={split!r} cannot be rebuilt from stored bars: "
                         "use 'bar'")
    if not words:
        return np.zeros(0, dtype=id_dtype(tok)), np.zeros(0, dtype=np.uint32)
    enc = tok._model.encode(words, is_pretokenized=True)
    out = np.asarray(enc.ids, dtype=id_dtype(tok))
    word_ids = np.asarray([w if w is not None else -1 for w in enc.word_ids], dtype=np.int64)
    new_starts = np.flatnonzero(np.r_[True, word_ids[1:] != word_ids[:-1]]).astype(np.uint32)
    return out, new_starts if split == "bar" else np.zeros(1, dtype=np.uint32)


# ------------------------------------------------------------------ REMI, vectorized

_REMI_OFF = ("use_chords", "use_rests", "use_sustain_pedals", "use_pitch_bends",
             "use_control_changes", "use_pitch_intervals", "use_key_signatures", "program_changes")


def _remi_tables(tok) -> dict | None:
    """Id lookup tables for :func:`_remi_ids`, or None when the configuration is not one the
    vectorized path reproduces (then miditok itself encodes)."""
    import miditok

    cached = getattr(tok, "_symbolic_remi", False)
    if cached is not False:
        return cached
    cfg = tok.config
    extra = cfg.additional_params
    ok = (type(tok) is miditok.REMI and cfg.use_programs and cfg.one_token_stream_for_programs
          and not any(getattr(cfg, k) for k in _REMI_OFF) and not tok.attribute_controls
          and not tok._note_on_off and extra.get("max_bar_embedding") is None
          and not extra.get("use_bar_end_tokens") and not extra.get("add_trailing_bars"))
    tables = None
    if ok:
        vocab = tok.vocab

        def lut(fmt, n, offset=0):
            return np.array([vocab.get(fmt.format(i - offset), -1) for i in range(n)],
                            dtype=np.int64)

        drum_fmt = "PitchDrum_{}" if cfg.use_pitchdrum_tokens else "Pitch_{}"
        tables = {
            "pitch": lut("Pitch_{}", 128), "drum": lut(drum_fmt, 128),
            "velocity": lut("Velocity_{}", 128), "program": lut("Program_{}", 129, offset=1),
            "duration": {tpb: np.array([vocab.get(f"Duration_{t.get(i)}", -1) if i in t else -1
                                        for i in range(max(t) + 1)], dtype=np.int64)
                         for tpb, t in tok._tpb_ticks_to_tokens.items()},
            "position": [vocab[k] for k in sorted((k for k in vocab if k.startswith("Position_")),
                                                  key=lambda k: int(k.split("_")[1]))],
            "bar": vocab["Bar_None"],
            "durations_for": set(cfg.use_note_duration_programs),
        }
    tok._symbolic_remi = tables
    return tables


def _remi_ids(tok, score: symusic.Score, tables: dict):
    """REMI ids and token times of a *preprocessed* score, as miditok's ``_score_to_tokens``
    makes them (one stream, programs, no rests/chords/pedals/bends/controls), with numpy:
    note tokens are gathered per note from lookup tables, and a loop runs over the distinct
    onset times only, for the Bar/TimeSig/Position tokens. None where a table lacks a value
    (miditok then encodes, and raises what it raises)."""
    notes = _remi_note_ids(tok, score, tables)
    events = _remi_global_events(tok, score)
    if notes is None or events is None:
        return None
    note_ids, note_times = notes
    n_glob = len(events.times)
    times = np.concatenate([np.asarray(events.times, dtype=np.int64), note_times])
    order = np.argsort(times, kind="stable")
    times = times[order]
    is_note = order >= n_glob
    # Blocks: one global event, or a run of notes at one time.
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        new[1:] = (times[1:] != times[:-1]) | ~is_note[1:] | ~is_note[:-1]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(order)]
    note_rank = np.cumsum(is_note) - 1  # index into notes sorted by (time, list order)
    blocks = _RemiBlocks(times[starts], order[starts], note_rank[starts],
                         note_rank[ends - 1] + 1, note_ids[order[is_note] - n_glob].reshape(-1))
    writer = _RemiWriter(tok, tables, score.ticks_per_quarter, blocks, events,
                         [i for i in order[~is_note].tolist() if events.kinds[i] == 0])
    cursor = 0
    for g in np.flatnonzero(~is_note[starts]).tolist() + [len(starts)]:
        if g > cursor and not writer.note_run(cursor, g):
            return None
        cursor = g + 1
        if g == len(starts):
            break
        if not writer.global_event(g):
            return None
    pieces = writer.pieces
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])


def _remi_note_ids(tok, score: symusic.Score, tables: dict):
    """``(ids [n, width], onset ticks [n])`` of every note's Program, Pitch, (Velocity,)
    Duration tokens, tracks in score order; None where a table lacks a value."""
    from miditok.utils import get_score_ticks_per_beat

    cfg = tok.config
    if cfg.use_time_signatures and len(score.time_signatures) > 0:
        tpb = get_score_ticks_per_beat(score)
    else:
        tpb = np.array([[score.end(), tok.time_division]])
    cols, note_times = [], []
    for track in score.tracks:
        a = track.notes.numpy()
        n = len(a["time"])
        if n == 0:
            continue
        program = -1 if track.is_drum else track.program
        if program not in tables["durations_for"]:
            return None
        start = a["time"].astype(np.int64)
        pitch_table = tables["drum"] if track.is_drum else tables["pitch"]
        parts = [np.full(n, tables["program"][program + 1]),
                 pitch_table[a["pitch"].astype(np.int64)]]
        if cfg.use_velocities:
            parts.append(tables["velocity"][a["velocity"].astype(np.int64)])
        dur_ids = _remi_duration_ids(start, a["duration"].astype(np.int64), tpb, tables)
        if dur_ids is None:
            return None
        parts.append(dur_ids)
        cols.append(np.stack(parts, axis=1))
        note_times.append(start)
    width = 4 if cfg.use_velocities else 3
    note_ids = np.concatenate(cols) if cols else np.zeros((0, width), dtype=np.int64)
    if note_ids.size and note_ids.min() < 0:
        return None
    note_times = np.concatenate(note_times) if note_times else np.zeros(0, dtype=np.int64)
    return note_ids, note_times


def _remi_duration_ids(start: np.ndarray, dur: np.ndarray, tpb: np.ndarray, tables: dict):
    """Duration ids of one track's notes, each in the ticks-per-beat section (``tpb``: rows of
    (section end tick, ticks per beat)) where it starts; None where a table lacks a value."""
    section = np.searchsorted(tpb[:, 0], start, side="right")
    if section.max() >= len(tpb):
        return None
    dur_ids = np.full(len(start), -1, dtype=np.int64)
    for s in np.unique(section):
        table = tables["duration"].get(int(tpb[s, 1]))
        if table is None:
            return None
        m = section == s
        d = dur[m]
        if d.min() < 0 or d.max() >= len(table):
            return None
        dur_ids[m] = table[d]
    return dur_ids


@dataclass
class _RemiEvents:
    """Global events in miditok's list order (time signatures, then tempos): tick, kind (0
    TimeSig, 1 Tempo), token id, and (numerator, denominator) for a TimeSig."""

    times: list
    kinds: list
    ids: list
    sigs: list


def _remi_global_events(tok, score: symusic.Score) -> _RemiEvents | None:
    """The score's TimeSig and Tempo tokens (miditok's list order, which its stable sort by
    time keeps among equal times); None where the vocabulary lacks one."""
    cfg, vocab = tok.config, tok.vocab
    ev = _RemiEvents([], [], [], [])
    if cfg.use_time_signatures:
        for ts in score.time_signatures:
            key = f"TimeSig_{ts.numerator}/{ts.denominator}"
            if key not in vocab:
                return None
            ev.times.append(ts.time), ev.kinds.append(0), ev.ids.append(vocab[key])
            ev.sigs.append((ts.numerator, ts.denominator))
    if cfg.use_tempos:
        for t in score.tempos:
            key = f"Tempo_{round(t.tempo, 2)}"
            if key not in vocab:
                return None
            ev.times.append(t.time), ev.kinds.append(1), ev.ids.append(vocab[key])
            ev.sigs.append(None)
    return ev


@dataclass
class _RemiBlocks:
    """Time-sorted blocks (one global event, or a run of notes at one tick): tick, index into
    the merged event order, notes ``r0:r1`` (in time order), and every note's ids, flat."""

    time: np.ndarray
    item: np.ndarray
    r0: np.ndarray
    r1: np.ndarray
    note_flat: np.ndarray


class _RemiWriter:
    """The state of miditok REMI's ``_add_time_events`` (current bar, meter, last position)
    walked over the blocks; each call appends ``(ids, ticks)`` to :attr:`pieces`, or returns
    False where a table lacks a value."""

    def __init__(self, tok, tables: dict, tdiv: int, blocks: _RemiBlocks, events: _RemiEvents,
                 sig_order: list[int]):
        from miditok.constants import TIME_SIGNATURE

        cfg = tok.config
        self.vocab, self.tdiv, self.max_pos = tok.vocab, tdiv, cfg.max_num_pos_per_beat
        self.use_ts = cfg.use_time_signatures
        self.width = 4 if cfg.use_velocities else 3
        self.per_bar = 2 if self.use_ts else 1  # tokens per new bar: Bar (+ TimeSig)
        self.positions = np.asarray(tables["position"], dtype=np.int64)
        self.bar_id = tables["bar"]
        self.blocks, self.events = blocks, events
        self.bar, self.bar_at_ts, self.tick_at_ts, self.tick_at_bar, self.previous = -1, 0, 0, 0, -1
        self.pieces: list[tuple[np.ndarray, np.ndarray]] = []
        current_ts, ts_time = TIME_SIGNATURE, 0
        if sig_order:  # miditok starts from the first TimeSig of the time-sorted events
            current_ts, ts_time = events.sigs[sig_order[0]], events.times[sig_order[0]]
        self._set_meter(current_ts, ts_time)
        if not self.use_ts:
            self.ts_id = None

    def _set_meter(self, ts, time: int) -> None:
        from miditok.utils import compute_ticks_per_bar, compute_ticks_per_beat

        per_beat = compute_ticks_per_beat(ts[1], self.tdiv)
        self.ticks_per_bar = compute_ticks_per_bar(symusic.TimeSignature(time, *ts), self.tdiv)
        self.ticks_per_pos = per_beat // self.max_pos
        self.ts_id = self.vocab.get(f"TimeSig_{ts[0]}/{ts[1]}")

    def note_run(self, a: int, b: int) -> bool:
        """Blocks a..b-1 (notes only, strictly increasing times), vectorized: the arithmetic of
        miditok's REMI ``_add_time_events`` for runs without a TimeSig or Tempo event."""
        bl, width, per_bar, tpb = self.blocks, self.width, self.per_bar, self.ticks_per_bar
        t = bl.time[a:b]
        m = b - a
        trig = np.ones(m, dtype=bool)
        trig[0] = t[0] != self.previous
        bars = self.bar_at_ts + (t - self.tick_at_ts) // tpb
        cur = np.maximum.accumulate(np.r_[self.bar, np.where(trig, bars, self.bar)])
        n_new = np.diff(cur)
        new_tick = self.tick_at_ts + (cur[1:] - self.bar_at_ts) * tpb
        last = np.maximum.accumulate(np.where(n_new > 0, np.arange(m), -1))
        tick_at_bar = np.where(last >= 0, new_tick[np.maximum(last, 0)], self.tick_at_bar)
        pos = (t - tick_at_bar) // self.ticks_per_pos
        if np.any(trig & ((pos < 0) | (pos >= len(self.positions)))):
            return False
        if self.use_ts and n_new.any() and self.ts_id is None:
            return False
        n_tok = (bl.r1[a:b] - bl.r0[a:b]) * width
        counts = n_new * per_bar + trig + n_tok
        off = np.r_[0, np.cumsum(counts)[:-1]]
        ids = np.empty(int(counts.sum()), dtype=np.int64)
        tt = np.empty_like(ids)
        total_new = int(n_new.sum())
        if total_new:
            blk = np.repeat(np.arange(m), n_new)
            k = np.arange(total_new) - np.repeat(np.cumsum(n_new) - n_new, n_new)
            bar_no = cur[:-1][blk] + 1 + k
            bar_tick = self.tick_at_ts + (bar_no - self.bar_at_ts) * tpb
            at = off[blk] + k * per_bar
            ids[at], tt[at] = self.bar_id, bar_tick
            if self.use_ts:
                ids[at + 1], tt[at + 1] = self.ts_id, bar_tick
        pj = np.flatnonzero(trig)
        at = off[pj] + n_new[pj] * per_bar
        ids[at], tt[at] = self.positions[pos[pj]], t[pj]
        first = off + n_new * per_bar + trig
        blk = np.repeat(np.arange(m), n_tok)
        at = first[blk] + np.arange(int(n_tok.sum())) - np.repeat(np.cumsum(n_tok) - n_tok, n_tok)
        ids[at] = bl.note_flat[bl.r0[a] * width:bl.r1[b - 1] * width]
        tt[at] = t[blk]
        self.pieces.append((ids, tt))
        self.bar, self.tick_at_bar = int(cur[-1]), int(tick_at_bar[-1])
        self.previous = int(t[-1])
        return True

    def global_event(self, g: int) -> bool:
        """Block ``g``: one TimeSig or Tempo event, as miditok's loop handles it."""
        t, item = int(self.blocks.time[g]), int(self.blocks.item[g])
        kind = self.events.kinds[item]
        out, out_t = [], []
        if t != self.previous:
            n_new = self.bar_at_ts + (t - self.tick_at_ts) // self.ticks_per_bar - self.bar
            for i in range(n_new):
                self.bar += 1
                tick = self.tick_at_ts + (self.bar - self.bar_at_ts) * self.ticks_per_bar
                self.tick_at_bar = tick
                out.append(self.bar_id), out_t.append(tick)
                if self.use_ts and not (kind == 0 and i + 1 == n_new):
                    if self.ts_id is None:
                        return False
                    out.append(self.ts_id), out_t.append(tick)
            if kind != 0:
                pos = (t - self.tick_at_bar) // self.ticks_per_pos
                if not 0 <= pos < len(self.positions):
                    return False
                out.append(int(self.positions[pos])), out_t.append(t)
            self.previous = t
        if kind == 0:
            self.bar_at_ts += (t - self.tick_at_ts) // self.ticks_per_bar
            self.tick_at_ts = t
            self._set_meter(self.events.sigs[item], t)
            self.previous -= 1
        out.append(self.events.ids[item]), out_t.append(t)
        self.pieces.append((np.asarray(out, dtype=np.int64), np.asarray(out_t, dtype=np.int64)))
        return True


def _starts_from_times(times: np.ndarray, bar_ticks) -> np.ndarray:
    """miditok's ``split_per_bars`` boundaries for tokens at ``times`` (non-decreasing)."""
    if len(times) == 0 or not bar_ticks:
        return np.zeros(1 if len(times) else 0, dtype=np.uint32)
    idx = np.searchsorted(times, np.asarray(bar_ticks[1:], dtype=np.int64), side="left")
    idx = idx[: np.searchsorted(idx, len(times), side="left")]
    return np.concatenate([[0], idx]).astype(np.uint32)


def encode(score: symusic.Score, *, tokenizer="remi", strict: bool = False, source=None,
           fast: bool = True) -> TokenSequence:
    """Tokenize ``score``: a :class:`TokenSequence` of miditok's ids, bar starts and warnings.

    ``tokenizer``: a miditok tokenizer or a name/path for :func:`load` (``"remi"``). The ids are
    miditok's (``tokenizer.encode(score)``; a trained tokenizer's BPE ids). With ``fast``
    (default), REMI in the presets' family of settings is encoded by :func:`_remi_ids` after
    miditok's own preprocessing, about five times faster, with the same ids (the tests compare
    both on every fixture file and on generated scores); anything else goes through miditok.
    ``strict=True`` measures the report now (one decode) and raises
    :class:`~symbolic.errors.EncodeError` (naming ``source``) unless every note comes back
    exactly. Raises :class:`TokenizationError` (naming ``source``) when miditok fails.
    """
    if not isinstance(score, symusic.Score):
        raise ArgumentTypeError(f"must be a symusic.Score, got {type(score).__name__}", "score")
    tok = _tokenizer(tokenizer)
    check_stream(tok)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ids, starts = _base_ids(tok, score, fast)
        except SymbolicError:
            raise
        except Exception as e:  # noqa: BLE001 - miditok raises anything on odd scores
            raise TokenizationError(f"miditok {type(tok).__name__} failed: {type(e).__name__}: {e}",
                                    source) from e
    messages = list(dict.fromkeys(str(w.message) for w in caught))
    dtype = id_dtype(tok)
    arr = np.asarray(ids, dtype=dtype) if len(ids) else np.zeros(
        (0, len(tok.vocab)) if tok.is_multi_voc else 0, dtype=dtype)
    if tok.is_trained:
        arr, starts = ids_to_bpe(tok, arr, starts)
    out = TokenSequence(arr, starts, messages, tok, source, score)
    if strict:
        out.report.check(True)
    return out


def _base_ids(tok, score: symusic.Score, fast: bool):
    """Base-vocabulary ids of ``score`` and their bar starts (vectorized REMI when it applies)."""
    from miditok.utils import get_bars_ticks

    tables = _remi_tables(tok) if fast else None
    if tables is not None:
        pre = tok.preprocess_score(score)
        got = _remi_ids(tok, pre, tables)
        if got is not None:
            ids, times = got
            return ids, _starts_from_times(times, get_bars_ticks(pre, only_notes_onsets=True))
    seq = tok.encode(score, encode_ids=False)
    return seq.ids, _bar_starts(seq)


def decode(x, *, tokenizer=None) -> symusic.Score:
    """The score that tokens describe (one track per program, at the tokenizer's resolution).

    ``x``: a :class:`TokenSequence` (decoded with its own tokenizer), or bare ids (``[n]`` or
    ``[n, k]``) decoded with ``tokenizer`` (default ``"remi"``).
    """
    if isinstance(x, TokenSequence):
        tokenizer = x.tokenizer if tokenizer is None else tokenizer
        x = x.ids
    tok = _tokenizer("remi" if tokenizer is None else tokenizer)
    ids = np.asarray(x)
    if ids.dtype.kind not in "iu" and not (ids.size == 0 and ids.dtype.kind == "f"):
        raise ArgumentTypeError(f"must be token ids (whole numbers), got {type(x).__name__} of "
                                f"dtype {ids.dtype}", "x")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size(tok)):
        raise ArgumentError(f"ids must be in [0, {vocab_size(tok) - 1}] (the vocabulary), got "
                            f"{int(ids.min())}..{int(ids.max())}", "x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tok.decode([ids.tolist()] if not tok.one_token_stream else ids.tolist())


# ----------------------------------------------------------------------------------- loss

def _note_keys(score: symusic.Score, use_programs: bool, use_velocities: bool):
    """Per note: (drum, program, pitch) key, onset and duration in ticks, velocity."""
    parts = []
    for t in score.tracks:
        a = t.notes.numpy()
        if len(a["time"]) == 0:
            continue
        program = -1 if t.is_drum else (t.program if use_programs else 0)
        parts.append((np.full(len(a["time"]), program + 1, dtype=np.int64), a))
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, z
    prog = np.concatenate([p for p, _ in parts])
    pitch = np.concatenate([a["pitch"].astype(np.int64) for _, a in parts])
    onset = np.concatenate([a["time"].astype(np.int64) for _, a in parts])
    dur = np.concatenate([a["duration"].astype(np.int64) for _, a in parts])
    vel = np.concatenate([a["velocity"].astype(np.int64) for _, a in parts]) if use_velocities \
        else np.zeros_like(pitch)
    return prog * 128 + pitch, onset, dur, vel


def _multiset_common(a: np.ndarray, b: np.ndarray) -> int:
    """Size of the multiset intersection of two integer arrays."""
    if len(a) == 0 or len(b) == 0:
        return 0
    ua, ca = np.unique(a, return_counts=True)
    ub, cb = np.unique(b, return_counts=True)
    _, ia, ib = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
    return int(np.minimum(ca[ia], cb[ib]).sum())


def loss(score: symusic.Score, tokenizer="remi", *, source=None) -> EncodeReport:
    """What ``decode(encode(score))`` keeps of each note, compared in quarter notes: the
    ``report`` of :func:`encode`.

    ``kept_exact``: a decoded note with the same program, pitch, onset and duration (and
    velocity, when the tokenizer has velocity tokens: then ``fields`` include it);
    ``altered``: the program and pitch come back but the timing or velocity moved (quantized);
    ``dropped``: no decoded note of that program and pitch is left for it.
    """
    return encode(score, tokenizer=tokenizer, source=source).report


def _loss_report(score: symusic.Score, decoded: symusic.Score, tok, source) -> EncodeReport:
    """:func:`loss`'s comparison of ``score`` with its ``decoded`` tokens."""
    use_prog, use_vel = tok.config.use_programs, tok.config.use_velocities
    k1, on1, d1, v1 = _note_keys(score, use_prog, use_vel)
    k2, on2, d2, v2 = _note_keys(decoded, use_prog, use_vel)
    tpq1, tpq2 = score.ticks_per_quarter, decoded.ticks_per_quarter
    # Times in a common unit: ticks of tpq1 * tpq2 per quarter (exact integers).
    on1, d1, on2, d2 = on1 * tpq2, d1 * tpq2, on2 * tpq1, d2 * tpq1
    full1, full2 = _pack_both(np.stack([k1, on1, d1, v1], axis=1),
                              np.stack([k2, on2, d2, v2], axis=1))
    time1, time2 = _pack_both(np.stack([k1, on1, d1], axis=1), np.stack([k2, on2, d2], axis=1))
    exact = _multiset_common(full1, full2)
    exact_timing = _multiset_common(time1, time2)
    same_pitch = _multiset_common(k1, k2)
    n = len(k1)
    reasons = Counter()
    if exact_timing > exact:
        reasons["velocity binned"] = exact_timing - exact
    if same_pitch > exact_timing:
        reasons["onset or duration quantized"] = same_pitch - exact_timing
    if n > same_pitch:
        reasons["dropped (pitch range, duplicate, clipped bars or program)"] = n - same_pitch
    fields = ("pitch", "onset", "duration") + (("velocity",) if use_vel else ())
    return EncodeReport(n, exact, same_pitch - exact, n - same_pitch, reasons, fields, source)


def _pack_both(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One integer per row, equal exactly when the rows are equal, over both arrays."""
    rows = np.ascontiguousarray(np.concatenate([a, b]).astype(np.int64))
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    view = rows.view(np.dtype((np.void, 8 * rows.shape[1]))).ravel()
    _, inverse = np.unique(view, return_inverse=True)
    inverse = inverse.ravel()
    return inverse[:len(a)], inverse[len(a):]


def describe(tokenizer) -> str:
    """One line: class, vocabulary size, id dtype, trained model if any."""
    tok = _tokenizer(tokenizer)
    model = f", trained {tok._model_name} ({len(tok)} ids)" if tok.is_trained else ""
    return (f"{type(tok).__name__}: {vocab_size(tok)} ids ({id_dtype(tok).name})"
            f"{' multi-vocabulary' if tok.is_multi_voc else ''}{model}")
