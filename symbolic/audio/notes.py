"""A flat batch of notes in seconds: what every audio renderer reads.

:func:`notes_from_scores` turns any list of ``symusic.Score`` objects (tick, quarter or second
time) into one :class:`NoteBatch`: parallel 1-D numpy arrays with one entry per note of every
file, so a renderer can treat all notes of all files as a single vector (the one transfer to
the GPU is :meth:`NoteBatch.tensors`).

**Time.** Each score is converted with ``score.to("second")`` (symusic applies the tempo map),
so ``onset`` and ``duration`` are seconds from the start of the file. Notes that start before
0 (possible in tick scores with negative times) are moved to 0 and shortened by the same
amount; a note that then has no length keeps ``duration = 0`` (renderers give such a note a
minimum gate: see :mod:`~symbolic.audio.synth`).

**Sustain pedal.** With ``sustain=True`` (default) a note released while the sustain pedal
(controller 64, ``track.pedals``) is down keeps sounding until the pedal lifts: its
``duration`` is extended to the pedal's end, as a piano's dampers would. ``sustain=False``
keeps the written durations. Drum tracks are never extended.

**Pan.** ``pan`` is the track's first pan controller (CC 10) mapped to ``[-1, 1]``
(0 = centre), or NaN when the track sets none (the renderer then picks a pan from the program).

**What is not kept.** Pitch bends, modulation, volume/expression controllers and program
changes inside a track are ignored: a track plays one program, ``track.program``.

``file_duration[i]`` is the end of the last note of file ``i`` in seconds (after sustain), 0
for a file without notes. Empty input is refused with :class:`~symbolic.errors.EmptyScoreError`
unless ``allow_empty=True`` (then an empty file renders as silence).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..errors import ConversionError, EmptyScoreError, InputTooLargeError
from ..limits import check_score
from ..timeline import as_tick

__all__ = ["NoteBatch", "notes_from_scores", "MAX_NOTES", "MAX_SAMPLES", "check_in_memory"]

MAX_NOTES = 50_000_000  # about 1 GB of note arrays; far above any real batch
#: Samples (files x channels x length) an in-memory render may return: 2**27, 512 MiB of
#: float32, e.g. 50 minutes of 22,050 Hz mono or 12 minutes of 44,100 Hz stereo. Longer
#: audio goes to a file block by block (:func:`symbolic.audio.render_to_file`).
MAX_SAMPLES = 1 << 27


@dataclass(frozen=True, eq=False)  # arrays: compare fields yourself
class NoteBatch:
    """All notes of ``n_files`` files as parallel arrays (one entry per note).

    Fields (shape ``[N]`` unless said):

    - ``file`` int64: index of the file (0 .. n_files-1) in the input order.
    - ``onset``, ``duration`` float64: seconds from the start of the file; duration >= 0.
    - ``pitch`` int64 (0-127; the GM drum sound on drum tracks), ``velocity`` int64 (0-127),
      ``program`` int64 (GM program 0-127), ``is_drum`` bool.
    - ``pan`` float32: ``[-1, 1]`` from the track's CC 10, NaN when the track sets none.
    - ``n_files`` int; ``file_duration`` float64 ``[n_files]``: end of each file's last note.

    Notes are grouped by file, then by track, then in each track's order.
    """

    file: np.ndarray
    onset: np.ndarray
    duration: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    program: np.ndarray
    is_drum: np.ndarray
    pan: np.ndarray
    n_files: int
    file_duration: np.ndarray

    def __len__(self) -> int:
        return int(self.file.shape[0])

    @property
    def end(self) -> np.ndarray:
        """Note ends in seconds (``onset + duration``)."""
        return self.onset + self.duration

    def select(self, mask: np.ndarray) -> "NoteBatch":
        """The notes where ``mask`` is true (same files, same ``file_duration``)."""
        per_note = {f.name: getattr(self, f.name)[mask] for f in fields(self)
                    if f.name not in ("n_files", "file_duration")}
        return NoteBatch(**per_note, n_files=self.n_files, file_duration=self.file_duration)

    def tensors(self, device="cpu") -> dict:
        """The per-note arrays as torch tensors on ``device`` (one transfer per field)."""
        import torch

        return {f.name: torch.as_tensor(getattr(self, f.name), device=device)
                for f in fields(self) if f.name != "n_files"}


def _as_score_list(scores) -> list:
    import symusic

    if isinstance(scores, symusic.Score):
        return [scores]
    if isinstance(scores, (str, bytes)) or not hasattr(scores, "__iter__"):
        raise ConversionError(
            f"expected a symusic.Score or a list of them, got {type(scores).__name__} "
            "(load files with symbolic.load; convert other libraries' objects with "
            "symbolic.convert)", source="<scores>")
    out = list(scores)
    for i, s in enumerate(out):
        if not isinstance(s, symusic.Score):
            raise ConversionError(
                f"expected a symusic.Score, got {type(s).__name__} (load files with "
                "symbolic.load; convert other libraries' objects with symbolic.convert)",
                source=f"scores[{i}]")
    return out


def _sustained(onset: np.ndarray, end: np.ndarray, pedals) -> np.ndarray:
    """Note ends moved to the end of the sustain span that holds them (vectorized)."""
    if len(pedals) == 0 or len(end) == 0:
        return end
    p = pedals.numpy()
    p_start = p["time"].astype(np.float64)
    order = np.argsort(p_start, kind="stable")
    p_start = p_start[order]
    p_end = p_start + p["duration"].astype(np.float64)[order]
    # Pedal spans may overlap in odd files: the running maximum end makes the lookup right.
    p_end = np.maximum.accumulate(p_end)
    k = np.searchsorted(p_start, end, side="right") - 1  # last pedal down at or before the release
    held = k >= 0
    kk = np.where(held, k, 0)
    held &= end < p_end[kk]
    # A note that starts after the pedal went down is held too; one released exactly when the
    # pedal goes down is caught (side="right").
    return np.where(held, np.maximum(end, p_end[kk]), end)


def check_in_memory(n_files: int, channels: int, length: int, sample_rate: int,
                    max_samples: int | None = None) -> None:
    """Refuse an in-memory render of ``n_files x channels x length`` samples above
    ``max_samples`` (default :data:`MAX_SAMPLES`) with an
    :class:`~symbolic.errors.InputTooLargeError` naming the limit and the file path."""
    limit = MAX_SAMPLES if max_samples is None else int(max_samples)
    total = int(n_files) * int(channels) * int(length)
    if total > limit:
        raise InputTooLargeError(
            f"{n_files} file(s) x {channels} channel(s) x {length / sample_rate:.1f} s at "
            f"{sample_rate} Hz is {total:,} samples ({total * 4 / 2**20:,.0f} MiB), over the "
            f"in-memory limit of {limit:,} samples (symbolic.audio.notes.MAX_SAMPLES); render "
            "to a file instead, which streams in blocks: symbolic.audio.render_to_file(score, "
            "'out.wav', ...) or 'symbolic render IN OUT.wav'", source="<render>")


def notes_from_scores(scores, *, sustain: bool = True, allow_empty: bool = False,
                      max_notes: int = MAX_NOTES) -> NoteBatch:
    """All notes of ``scores`` (a Score or a list of Scores) as one :class:`NoteBatch`.

    Any time unit is accepted (``score.to("second")`` is applied). ``sustain`` extends notes
    held by the sustain pedal (see the module docstring). Raises
    :class:`~symbolic.errors.ConversionError` for something that is not a Score,
    :class:`~symbolic.errors.EmptyScoreError` for no scores or a score without notes (unless
    ``allow_empty``), :class:`~symbolic.errors.InputTooLargeError` above ``max_notes``.
    """
    score_list = _as_score_list(scores)
    if not score_list:
        raise EmptyScoreError("no scores given", source="<scores>")
    total = sum(s.note_num() for s in score_list)
    if total > max_notes:
        raise InputTooLargeError(f"{total} notes exceed max_notes={max_notes}",
                                 source="<scores>")
    cols = {k: [] for k in ("file", "onset", "duration", "pitch", "velocity", "program",
                            "is_drum", "pan")}
    file_duration = np.zeros(len(score_list), dtype=np.float64)
    for i, score in enumerate(score_list):
        check_score(as_tick(score), f"scores[{i}]")  # its length bounds the audio allocated
        if score.note_num() == 0:
            if not allow_empty:
                raise EmptyScoreError("score has no notes (pass allow_empty=True to render "
                                      "silence)", source=f"scores[{i}]")
            continue
        sec = score if str(score.ttype).endswith("Second") else score.to("second")
        for track in sec.tracks:
            n = len(track.notes)
            if n == 0:
                continue
            a = track.notes.numpy()
            onset = a["time"].astype(np.float64)
            end = onset + np.maximum(a["duration"].astype(np.float64), 0.0)
            if sustain and not track.is_drum:
                end = _sustained(onset, end, track.pedals)
            onset = np.maximum(onset, 0.0)
            end = np.maximum(end, onset)
            pan = np.float32(np.nan)
            if len(track.controls):
                c = track.controls.numpy()
                is_pan = c["number"] == 10
                if is_pan.any():
                    first = np.argmin(np.where(is_pan, c["time"], np.inf))
                    pan = np.float32(np.clip((int(c["value"][first]) - 64) / 63.0, -1, 1))
            cols["file"].append(np.full(n, i, dtype=np.int64))
            cols["onset"].append(onset)
            cols["duration"].append(end - onset)
            cols["pitch"].append(np.clip(a["pitch"].astype(np.int64), 0, 127))
            cols["velocity"].append(np.clip(a["velocity"].astype(np.int64), 0, 127))
            cols["program"].append(np.full(n, min(max(int(track.program), 0), 127), dtype=np.int64))
            cols["is_drum"].append(np.full(n, bool(track.is_drum)))
            cols["pan"].append(np.full(n, pan, dtype=np.float32))
            file_duration[i] = max(file_duration[i], float(end.max()))
    dtypes = {"file": np.int64, "onset": np.float64, "duration": np.float64,
              "pitch": np.int64, "velocity": np.int64, "program": np.int64,
              "is_drum": np.bool_, "pan": np.float32}
    arrays = {k: (np.concatenate(v) if v else np.zeros(0, dtype=dtypes[k])).astype(dtypes[k],
                                                                                  copy=False)
              for k, v in cols.items()}
    return NoteBatch(**arrays, n_files=len(score_list), file_duration=file_duration)
