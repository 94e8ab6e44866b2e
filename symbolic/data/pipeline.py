"""Tokenize a MIDI corpus into Parquet shards: parallel, resumable, never stopped by a bad file.

>>> from symbolic.data.pipeline import tokenize
>>> summary = tokenize("midicaps.tar.gz", "out/midicaps-remi", captions="train.json",
...                    tokenizer="remi", workers=8)              # doctest: +SKIP

or ``symbolic tokenize midicaps.tar.gz out/midicaps-remi --captions train.json --workers 8``.

**What it does.** Inputs come from a source (:func:`symbolic.data.sources.open_source`: a
folder, an archive read as a stream, a list of paths; MidiCaps captions joined) in a fixed
order; input ``i`` belongs to shard ``i // shard_size``. Worker processes parse each file
(:func:`symbolic.load`, whose sandbox survives parser crashes) and tokenize it with miditok;
the parent gathers the results, and as soon as every input of a shard is accounted for, writes
that shard (rows in input order) and commits it in ``manifest.json`` (see
:mod:`symbolic.data.shards`). The shards' content therefore depends only on the inputs and the
tokenizer, not on timing, the number of workers, interruptions or the backend.

**Scheduling.** One input at a time per worker, with ``prefetch`` more queued (dynamic: a
slow file never holds up the others, unlike one fixed chunk per worker). Per input the parent
sends the MIDI bytes and gets back the ids (narrowest integer type), so workers never touch the
output folder. Workers are forked while the parent has no other thread (they inherit the
loaded tokenizer), else started from a forkserver with miditok preloaded.

**Speed** (``benchmarks/tokenize_corpus.py``, 300 POP909 files, two shared cores): the REMI preset
encodes with a vectorized path that gives miditok's ids (see
:func:`~symbolic.representations.tokens.encode`): 4.4 to 7 times the files/s of miditok's
``tokenize_dataset`` with one worker, 4.9 to 5.5 times with two; with miditok's own encoder
(``fast=False``, or another tokenizer) the pipeline alone gives 0.94 to 1.34 times, and 7.6
times fewer bytes on disk (Parquet, 0.63 bytes per token, against JSON). Each file is parsed in
:func:`symbolic.load`'s sandbox (about a quarter of the time per file at this speed):
``sandbox=False`` trades that for trusting the parser (a crash then costs a worker, which is
replaced; the file is retried once, then quarantined), but a parser that overruns its buffer
without crashing could then corrupt later results of the same worker. The parent spends about
1.5 ms of CPU per file (reading, hashing, sending, writing Parquet), so one run feeds about
700 files/s: some 3 cores' worth of REMI, or 20 of miditok's slower encoders (CPWord, PerTok).

**Determinism.** symusic reads past the end of truncated files, so that their outcome changes
from run to run; :func:`frame_midi` completes such chunks with zeros first (recorded in the
row's ``warning``), and a row or a quarantine line is then the same on every run.

**Bad inputs** never stop the run and are never lost: each goes to ``quarantine.jsonl`` with
its location, hash, error class and reason -- unreadable or missing (``DataNotFoundError``),
malformed (``MidiParseError``...), empty (``EmptyScoreError``), over the size or note limit
(``InputTooLargeError``), miditok failing (``TokenizationError``), over the time limit
(:class:`TokenizeTimeoutError`: the worker is killed and replaced), or a worker process dying
on it (:class:`WorkerCrashError`: the worker is replaced and the input retried once in a fresh
one, then quarantined if it kills that one too). Inputs queued behind a dead worker go back to
the queue. A parser process (:mod:`symbolic.sandbox`) killed from outside is replaced and the
file asked again; one that crashes on a file twice makes it a ``MidiParseError``. Every input
is counted once: as a row or as a quarantine line.

**Resume.** Running the same command again reads the manifest, skips finished shards (their
inputs are not parsed again; an archive is read through) and does the rest; a run killed at
any point (SIGKILL included) loses at most the shards in progress. A different source,
tokenizer or shard size in the same folder is refused (:class:`RunMismatchError`) unless
``overwrite``. Inputs quarantined because a process died on them (:func:`retryable`: a worker,
or the parser crashing or killed from outside, as when the OOM killer ends it) are tried again
by every resumed run: a row once they load (their shard is written again under a new name),
the same single quarantine line while they fail. A full disk (or quota, or file size limit)
stops the run with :class:`DiskFullError`, naming the disk: every write is atomic, so the
manifest and the shards it names stay whole, and the same command resumes once there is room.

**Ray** (``backend="ray"``, ``pip install symbolic[ray]``): the same inputs, the same worker
function and the same shard writer, with the tokenizing done by Ray Data ``map_batches`` tasks
across a cluster (``address="auto"`` or ``"ray://head:10001"``; default: a local instance).
The driver reads the source and writes the shards (so the output folder is the driver's) and
the MIDI bytes travel through Ray's object store; the driver's share of the work per file is
the parent's above, so a cluster pays off for the slower tokenizers and for corpora larger
than MidiCaps (one machine with REMI does MidiCaps' 168,385 files in minutes). Every node needs
the same Python environment (symbolic, miditok, symusic; a ``transform`` must be importable
there). Per-file time limits are not enforced by Ray; an input whose task kills its Ray worker
is retried alone, then quarantined; any other task failure stops the run.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import multiprocessing as mp
import os
import queue
import shutil
import signal
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait as mp_wait
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import (EmptyScoreError, FilteredError, InputTooLargeError, RunInProgressError,
                      RunMismatchError, SymbolicError, TokenizeTimeoutError, WorkerCrashError)
from ..io import MAX_BYTES, frame_midi
from . import shards as S
from .sources import Source, open_source

__all__ = [
    "tokenize",
    "Summary",
    "WorkerCrashError",
    "TokenizeTimeoutError",
    "FilteredError",
    "RunMismatchError",
    "DiskFullError",
    "retryable",
    "tokenize_bytes",
    "DEFAULT_SHARD_SIZE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_NOTES",
]

DEFAULT_SHARD_SIZE = 1000
DEFAULT_TIMEOUT = 120.0  # seconds per file; Lakh's slowest files take a few seconds
DEFAULT_MAX_NOTES = 1_000_000
MAX_CRASHES = 2  # a file that kills this many workers is quarantined






# ------------------------------------------------------------------------------ the work

@dataclass
class _Options:
    max_notes: int | None = DEFAULT_MAX_NOTES
    sandbox: bool = True
    transform: Callable | None = None
    fast: bool = True


def tokenize_bytes(tokenizer, data: bytes, location: str, *,
                   max_notes: int | None = DEFAULT_MAX_NOTES, sandbox: bool = True,
                   transform: Callable | None = None, fast: bool = True):
    """Load MIDI ``data`` and tokenize it: ``(TokenSequence, n_notes)``.

    The one function every backend runs per input. Raises a :class:`SymbolicError` that names
    ``location``: the load errors of :func:`symbolic.load`, :class:`InputTooLargeError` over
    ``max_notes``, :class:`FilteredError`, :class:`EmptyScoreError` when no token is left,
    :class:`~symbolic.representations.tokens.TokenizationError` when miditok fails.
    """
    from ..io import load
    from ..representations import tokens

    try:
        framed, repairs = frame_midi(data, location)
        score = load(framed, sandbox=sandbox)
    except SymbolicError as e:
        raise type(e)(e.reason, location) from None
    n_notes = score.note_num()
    if max_notes is not None and n_notes > max_notes:
        raise InputTooLargeError(f"{n_notes} notes is over the {max_notes}-note limit", location)
    if transform is not None:
        score = transform(score)
        if score is None:
            raise FilteredError("left out by the transform", location)
    enc = tokens.encode(score, tokenizer=tokenizer, source=location, fast=fast)
    enc.warnings[:0] = repairs
    if len(enc.ids) == 0:
        raise EmptyScoreError("no tokens: every note is outside what the tokenizer keeps", location)
    return enc, n_notes


def _run_one(tok, index: int, location: str, data: bytes, opts: _Options) -> tuple:
    """``("ok", index, ids, bar_starts, n_notes, warning)`` or ``("err", index, error, reason)``."""
    try:
        enc, n_notes = tokenize_bytes(tok, data, location, max_notes=opts.max_notes,
                                      sandbox=opts.sandbox, transform=opts.transform,
                                      fast=opts.fast)
    except SymbolicError as e:
        return ("err", index, type(e).__name__, e.reason)
    except Exception as e:  # noqa: BLE001 - a bug or a library failure: record, go on
        return ("err", index, type(e).__name__, f"{type(e).__name__}: {e}")
    warning = "; ".join(enc.warnings) or None
    return ("ok", index, enc.ids, enc.bar_starts, n_notes, warning)


# --------------------------------------------------------------------- local process pool

def _die_with_parent() -> None:
    """Ask the kernel (Linux) to SIGKILL this worker when the process that started it dies,
    however it dies: a killed run must not leave workers, and their parsers, behind. Workers
    cannot rely on their task pipe's end of file for that: their siblings, forked later, hold
    copies of its write end."""
    ppid = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pipes' end of file has to do
        return
    if os.getppid() != ppid:  # the parent died before the request took effect
        os._exit(1)


def _worker_main(task_r, result_w, tokenizer, opts: _Options) -> None:
    """Worker process: load the tokenizer (a path; a forked worker inherits the object), then
    tokenize tasks until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent()
    from ..representations.tokens import load
    from ..sandbox import reset_after_fork

    reset_after_fork()  # a forked worker must not talk to its parent's parser process

    tok = load(tokenizer) if isinstance(tokenizer, str) else tokenizer
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def read():  # drain the pipe at once, so the parent's sends never wait on our work
        while True:
            try:
                inbox.put(task_r.recv())
            except (EOFError, OSError):
                inbox.put(None)
                return

    threading.Thread(target=read, daemon=True).start()
    result_w.send(("ready", os.getpid()))
    while True:
        task = inbox.get()
        if task is None:
            return
        result_w.send(_run_one(tok, *task, opts))


def _context(method: str | None = None):
    """``fork`` when this process has no other thread (instant: the worker inherits the loaded
    tokenizer), else ``forkserver`` with miditok preloaded, else ``spawn``."""
    methods = mp.get_all_start_methods()
    if method is not None:
        return mp.get_context(method)
    if "fork" in methods and threading.active_count() == 1 and os.name == "posix":
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        try:
            ctx.set_forkserver_preload(["symbolic.representations.tokens", "miditok", "symusic"])
        except Exception:  # noqa: BLE001 - preloading is an optimisation only
            pass
        return ctx
    return mp.get_context("spawn")


@dataclass
class _Worker:
    proc: object
    task_w: object
    result_r: object
    outstanding: deque = field(default_factory=deque)
    ready: bool = False
    started: float | None = None  # when the head task began (None: idle or not ready)


class _LocalPool:
    """A process pool that knows which input each worker holds, so that a worker that dies or
    hangs costs exactly one input (quarantined) and the rest is re-queued."""

    def __init__(self, workers: int, tokenizer, tokenizer_path: str, opts: _Options, *,
                 timeout: float | None, prefetch: int = 2, max_crashes: int = MAX_CRASHES,
                 start_method: str | None = None):
        self.n, self.tok, self.path, self.opts = workers, tokenizer, tokenizer_path, opts
        self.timeout, self.prefetch, self.max_crashes = timeout, prefetch, max_crashes
        self.start_method = start_method
        self.workers: list[_Worker] = []
        self.crashes: Counter = Counter()
        self.replaced = 0
        self._init_failures = 0
        self.on_start: Callable | None = None  # called once the workers exist

    def _spawn(self) -> _Worker:
        ctx = _context(self.start_method)
        task_r, task_w = ctx.Pipe(duplex=False)
        result_r, result_w = ctx.Pipe(duplex=False)
        tok = self.tok if ctx.get_start_method() == "fork" else self.path
        proc = ctx.Process(target=_worker_main, args=(task_r, result_w, tok, self.opts),
                           daemon=True, name="symbolic-tokenize")
        proc.start()
        task_r.close()
        result_w.close()
        return _Worker(proc, task_w, result_r)

    def close(self) -> None:
        for w in self.workers:
            try:
                w.task_w.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for w in self.workers:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(5)
            for c in (w.task_w, w.result_r):
                c.close()
        self.workers = []

    def _kill(self, w: _Worker) -> None:
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(5)
        for c in (w.task_w, w.result_r):
            c.close()

    def run(self, tasks: Iterator[tuple]) -> Iterator[tuple]:
        """Yield one result per task (in completion order)."""
        first = next(tasks, None)
        if first is None:
            return  # nothing to do (everything resumed): start no process
        tasks = itertools.chain([first], tasks)
        self.workers = [self._spawn() for _ in range(self.n)]
        if self.on_start is not None:
            self.on_start()
        retry: deque = deque()
        exhausted = False
        try:
            while True:
                # Hand out work: retried inputs first, then new ones, up to prefetch per worker.
                for w in self.workers:
                    while len(w.outstanding) < self.prefetch:
                        if retry:
                            task = retry.popleft()
                        elif not exhausted:
                            task = next(tasks, None)
                            if task is None:
                                exhausted = True
                                break
                        else:
                            break
                        try:
                            w.task_w.send(task)
                        except OSError:  # died: found and handled below
                            retry.appendleft(task)
                            break
                        if not w.outstanding and w.ready:
                            w.started = time.monotonic()
                        w.outstanding.append(task)
                if exhausted and not retry and not any(w.outstanding for w in self.workers):
                    return
                yield from self._collect(retry)
        finally:
            self.close()

    def _collect(self, retry: deque) -> Iterator[tuple]:
        now = time.monotonic()
        wait_s = 1.0
        if self.timeout is not None:
            for w in self.workers:
                if w.started is not None and w.outstanding:
                    wait_s = min(wait_s, max(0.0, w.started + self.timeout - now))
        handles = [w.result_r for w in self.workers] + [w.proc.sentinel for w in self.workers]
        ready = set(mp_wait(handles, timeout=wait_s))
        for i, w in enumerate(list(self.workers)):
            dead = False
            if w.result_r in ready or w.proc.sentinel in ready:
                while True:
                    try:
                        if not w.result_r.poll():
                            break
                        msg = w.result_r.recv()
                    except (EOFError, OSError):
                        dead = True
                        break
                    if msg[0] == "ready":
                        w.ready = True
                        self._init_failures = 0
                        w.started = time.monotonic() if w.outstanding else None
                        continue
                    w.outstanding.popleft()
                    w.started = time.monotonic() if w.outstanding else None
                    yield msg
                if w.proc.sentinel in ready or not w.proc.is_alive():
                    dead = True
            if dead:
                yield from self._replace(i, w, retry, self._death_reason(w))
            elif (self.timeout is not None and w.started is not None and w.outstanding
                  and time.monotonic() - w.started > self.timeout):
                task = w.outstanding.popleft()
                yield ("err", task[0], TokenizeTimeoutError.__name__,
                       f"not done after {self.timeout:g} s (the worker was stopped)")
                yield from self._replace(i, w, retry, None)

    def _death_reason(self, w: _Worker) -> str:
        w.proc.join(1)
        code = w.proc.exitcode
        if code is None:
            return "the worker stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the worker process died ({name})"
        return f"the worker process exited with code {code}"

    def _replace(self, i: int, w: _Worker, retry: deque, reason: str | None) -> Iterator[tuple]:
        """Replace worker ``i``; with ``reason`` (it died), blame its head task."""
        self._kill(w)
        pending = list(w.outstanding)
        if reason is not None:
            if not w.ready:  # died before it could take any input: not an input's fault
                self._init_failures += 1
                if self._init_failures >= 3:
                    raise RuntimeError(f"tokenizer workers die while starting: {reason}")
            elif pending:
                head = pending.pop(0)
                self.crashes[head[0]] += 1
                n = self.crashes[head[0]]
                if n >= self.max_crashes:
                    yield ("err", head[0], WorkerCrashError.__name__,
                           f"{reason} while tokenizing it ({n} times)")
                else:
                    pending.insert(0, head)
        retry.extendleft(reversed(pending))
        self.replaced += 1
        self.workers[i] = self._spawn()


# --------------------------------------------------------------------------------- Ray

_RAY_TOKENIZERS: dict = {}


def _ray_tokenize_batch(batch, *, params: dict, key: str, opts: _Options):
    """Ray Data ``map_batches`` function: one row per input, ids as raw bytes."""
    import pyarrow as pa

    from ..representations.tokens import from_dict

    tok = _RAY_TOKENIZERS.get(key)
    if tok is None:
        tok = _RAY_TOKENIZERS[key] = from_dict(params)
    cols = {"index": [], "ok": [], "ids": [], "bar_starts": [], "n_notes": [], "warning": [],
            "error": [], "reason": []}
    indices = batch.column("index").to_pylist()
    locations = batch.column("location").to_pylist()
    datas = batch.column("data").to_pylist()
    for index, location, data in zip(indices, locations, datas):
        r = _run_one(tok, index, location, data, opts)
        cols["index"].append(index)
        if r[0] == "ok":
            cols["ok"].append(True)
            cols["ids"].append(np.ascontiguousarray(r[2]).tobytes())
            cols["bar_starts"].append(np.ascontiguousarray(r[3], dtype=np.uint32).tobytes())
            cols["n_notes"].append(r[4])
            cols["warning"].append(r[5])
            cols["error"].append(None)
            cols["reason"].append(None)
        else:
            cols["ok"].append(False)
            for k in ("ids", "bar_starts", "n_notes", "warning"):
                cols[k].append(None)
            cols["error"].append(r[2])
            cols["reason"].append(r[3])
    types = {"index": pa.int64(), "ok": pa.bool_(), "ids": pa.binary(), "bar_starts": pa.binary(),
             "n_notes": pa.int64(), "warning": pa.string(), "error": pa.string(),
             "reason": pa.string()}
    return pa.table({k: pa.array(v, type=types[k]) for k, v in cols.items()})


def _ray_one(params: dict, key: str, opts: _Options, task: tuple):
    import pyarrow as pa

    batch = pa.table({"index": [task[0]], "location": [task[1]],
                      "data": pa.array([task[2]], pa.binary())})
    return _ray_tokenize_batch(batch, params=params, key=key, opts=opts)


class _RayPool:
    """Tokenize on Ray Data: waves of inputs, each a dataset mapped by stateless tasks (the
    tokenizer is cached per Ray worker process), results streamed back to the driver."""

    def __init__(self, workers: int | None, params: dict, key: str, opts: _Options, *,
                 address: str | None, dtype: np.dtype, width: int | None, batch_size: int = 4,
                 wave: int | None = None):
        try:
            import ray
            import ray.data  # noqa: F401
        except ImportError as e:
            raise ImportError("the Ray backend needs Ray Data: pip install 'symbolic[ray]' "
                              "(ray[data])") from e
        self.ray = ray
        self.workers, self.params, self.key, self.opts = workers, params, key, opts
        self.address, self.dtype, self.width = address, dtype, width
        self.batch_size = batch_size
        self.wave = wave or max(256, 64 * (workers or 4))
        self.replaced = 0
        self._started = False

    def _init(self) -> None:
        ray = self.ray
        if not ray.is_initialized():
            kwargs = dict(include_dashboard=False, log_to_driver=False, ignore_reinit_error=True,
                          configure_logging=False)
            if self.address is not None:
                ray.init(address=self.address, **kwargs)
            else:
                ray.init(num_cpus=self.workers, **kwargs)
            self._started = True
        import logging

        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-dataset INFO lines
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        try:
            ctx.enable_operator_progress_bars = False
        except AttributeError:
            pass

    def _compute(self):
        strategy = getattr(self.ray.data, "TaskPoolStrategy", None)
        return strategy(size=self.workers) if strategy is not None and self.workers else None

    def close(self) -> None:
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()

    def _result(self, row: dict) -> tuple:
        if not row["ok"]:
            return ("err", row["index"], row["error"], row["reason"])
        ids = np.frombuffer(row["ids"], dtype=self.dtype)
        if self.width:
            ids = ids.reshape(-1, self.width)
        bars = np.frombuffer(row["bar_starts"], dtype=np.uint32)
        return ("ok", row["index"], ids, bars, row["n_notes"], row["warning"])

    def run(self, tasks: Iterator[tuple]) -> Iterator[tuple]:
        import pyarrow as pa

        self._init()
        ray = self.ray
        try:
            while True:
                wave = [t for _, t in zip(range(self.wave), tasks)]
                if not wave:
                    return
                table = pa.table({"index": pa.array([t[0] for t in wave], pa.int64()),
                                  "location": pa.array([t[1] for t in wave], pa.string()),
                                  "data": pa.array([t[2] for t in wave], pa.binary())})
                blocks = max(1, min(len(wave) // self.batch_size, 8 * (self.workers or 8)))
                ds = ray.data.from_arrow(table).repartition(blocks)
                ds = ds.map_batches(_ray_tokenize_batch, batch_size=self.batch_size,
                                    batch_format="pyarrow", compute=self._compute(),
                                    fn_kwargs={"params": self.params, "key": self.key,
                                               "opts": self.opts}, num_cpus=1)
                seen: set[int] = set()
                try:
                    for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
                        for row in batch.to_pylist():
                            seen.add(row["index"])
                            yield self._result(row)
                except Exception as e:  # noqa: BLE001 - a Ray task failed for good: go per input
                    yield from self._one_by_one([t for t in wave if t[0] not in seen], e)
        finally:
            self.close()

    @property
    def _crash_errors(self) -> tuple:
        ex = self.ray.exceptions
        return tuple(getattr(ex, n) for n in ("WorkerCrashedError", "OutOfMemoryError",
                                              "NodeDiedError") if hasattr(ex, n))

    def _one_by_one(self, tasks: list[tuple], error: Exception) -> Iterator[tuple]:
        """After a wave failed: each input as its own task, so that only an input that kills
        its worker every time is quarantined."""
        ray = self.ray
        remote = ray.remote(max_retries=MAX_CRASHES - 1, num_cpus=1)(_ray_one)
        refs = {remote.remote(self.params, self.key, self.opts, t): t for t in tasks}
        for ref, t in refs.items():
            try:
                table = ray.get(ref)
                for row in table.to_pylist():
                    yield self._result(row)
            except self._crash_errors as e:  # the input killed its Ray worker every time
                self.replaced += 1
                yield ("err", t[0], WorkerCrashError.__name__,
                       f"the Ray worker died on it {MAX_CRASHES} times ({type(e).__name__})")
            # Anything else (a task that cannot even start: an import error, a function that
            # does not unpickle on the workers) is not this input's fault: it propagates.


# ------------------------------------------------------------------------------ the run

@dataclass
class Summary:
    """What a run did. ``inputs`` counts every input of the source (rows + rejected);
    ``resumed`` the inputs of shards finished by an earlier run, skipped this time;
    ``retried`` the inputs an earlier run quarantined because a process died on them
    (:func:`retryable`), tried again this time."""

    out_dir: str
    inputs: int = 0
    rows: int = 0
    rejected: int = 0
    errors: dict = field(default_factory=dict)
    tokens: int = 0
    shards: int = 0
    resumed: int = 0
    retried: int = 0
    bytes: int = 0
    seconds: float = 0.0
    files_per_s: float = 0.0
    tokens_per_s: float = 0.0
    workers_replaced: int = 0
    backend: str = "local"
    workers: int = 1

    @property
    def bytes_per_token(self) -> float:
        return self.bytes / self.tokens if self.tokens else float("nan")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bytes_per_token"] = self.bytes_per_token if self.tokens else None  # JSON has no NaN
        return d

    def __str__(self) -> str:
        errs = ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items(), key=lambda kv: -kv[1]))
        return (f"{self.inputs} inputs -> {self.rows} rows in {self.shards} shards, "
                f"{self.rejected} quarantined" + (f" ({errs})" if errs else "") +
                f"; {self.tokens:,} tokens, {self.bytes / 1e6:.1f} MB "
                f"({self.bytes_per_token:.2f} bytes/token)"
                + (f"; {self.resumed} inputs resumed from earlier runs" if self.resumed else "")
                + (f", {self.retried} quarantined ones retried" if self.retried else "")
                + f"; this run {self.seconds:.1f} s, {self.files_per_s:.1f} files/s, "
                f"{self.tokens_per_s:,.0f} tokens/s ({self.backend}, {self.workers} workers"
                + (f", {self.workers_replaced} replaced" if self.workers_replaced else "") + ")"
                + f" -> {self.out_dir}")


class _Assembler:
    """Collect results per shard; write and commit each shard once every input is in."""

    def __init__(self, manifest: S.Manifest, sch, shard_size: int, bar=None,
                 retry: dict[int, set[int]] | None = None):
        self.m, self.schema, self.shard_size, self.bar = manifest, sch, shard_size, bar
        self.retry = retry or {}  # finished shard -> its quarantined inputs to try again
        self.pending: dict[int, dict[int, object]] = {}
        self.info: dict[int, tuple] = {}  # index -> (location, hash, meta)
        self.total: int | None = None
        self.rows = self.rejected = self.tokens = self.inputs = 0
        self.written = 0
        self.errors: Counter = Counter()
        self._last_bar = 0.0

    def expect(self, index: int, location: str, hsh: str | None, meta: dict | None) -> None:
        self.info[index] = (location, hsh, meta)
        self.pending.setdefault(index // self.shard_size, {})

    def add(self, result: tuple) -> None:
        index = result[1]
        location, hsh, meta = self.info.pop(index)
        if result[0] == "ok":
            _, _, ids, bars, n_notes, warning = result
            entry = S.Row(index, location, hsh, int(n_notes), ids, bars, warning, meta)
            self.rows += 1
            self.tokens += len(ids)
        else:
            _, _, error, reason = result
            entry = S.Rejected(index, location, hsh, error, reason)
            self.rejected += 1
            self.errors[error] += 1
        self.inputs += 1
        k = index // self.shard_size
        self.pending.setdefault(k, {})[index] = entry
        self._flush(k)
        self._tick()

    def reject_now(self, index: int, location: str, hsh: str | None, error: SymbolicError) -> None:
        self.expect(index, location, hsh, None)
        self.add(("err", index, type(error).__name__, error.reason))

    def source_done(self, total: int) -> None:
        self.total = total
        for k in list(self.pending):
            self._flush(k)

    def _expected(self, k: int) -> int:
        """How many entries shard ``k`` waits for: its inputs, or, for a shard finished by an
        earlier run, the quarantined inputs this run retries."""
        if self.m.done(k):
            return sum(1 for i in self.retry.get(k, ()) if self.total is None or i < self.total)
        if self.total is None:
            return self.shard_size
        return max(0, min(self.shard_size, self.total - k * self.shard_size))

    def _flush(self, k: int) -> None:
        entries = self.pending.get(k)
        if entries is None or len(entries) < self._expected(k):
            return
        del self.pending[k]
        rows = [entries[i] for i in sorted(entries) if isinstance(entries[i], S.Row)]
        rejected = [entries[i].to_json(k) for i in sorted(entries)
                    if isinstance(entries[i], S.Rejected)]
        table = S.build_table(rows, self.schema) if rows else None
        inputs = len(entries)
        old = self.m.shards.get(str(k))
        if old is not None:  # retried inputs of a finished shard: merge with what it holds
            rejected = sorted([r for r in old["rejected"] if r["index"] not in entries]
                              + rejected, key=lambda r: r["index"])
            inputs = old["inputs"]
            if table is None:  # none of them loads yet: its rows and file stay as they are
                self.m.commit(k, {**old, "rejected": rejected})
                self.written += 1
                return
            if old["file"]:
                kept = pq.read_table(self.m.out_dir / old["file"], schema=self.schema)
                table = pa.concat_tables([kept, table]).sort_by("index")
        self._commit(k, table, rejected, inputs, old)
        self.written += 1

    def _commit(self, k: int, table, rejected: list[dict], inputs: int, old: dict | None) -> None:
        """Write shard ``k`` and record it in the manifest. A shard written again (retried
        inputs) goes to a new file name, and its old file is removed only once the manifest
        names the new one: a kill in between leaves the old record whole (the new file,
        listed nowhere, is removed on resume) and no row can be counted twice."""
        generation = 0 if old is None else old.get("generation", 0) + 1
        name = f"{S.DATA_DIR}/{S.shard_name(k, generation)}"
        size = 0
        if table is not None:
            size = S.write_table_atomic(table, self.m.out_dir / name)
        record = {"file": name if table is not None else None,
                  "first_index": k * self.shard_size, "inputs": inputs,
                  "rows": 0 if table is None else table.num_rows,
                  "tokens": 0 if table is None else int(table["n_tokens"].to_numpy().sum()),
                  "bytes": size, "rejected": rejected}
        if generation:
            record["generation"] = generation
        self.m.commit(k, record)
        if old is not None and old["file"] and old["file"] != record["file"]:
            (self.m.out_dir / old["file"]).unlink(missing_ok=True)

    def _tick(self) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.monotonic()
        if now - self._last_bar > 0.5:
            self._last_bar = now
            elapsed = self.bar.format_dict.get("elapsed") or 0.0
            rate = f"{self.tokens / elapsed:,.0f} tokens/s" if elapsed > 0 else "- tokens/s"
            self.bar.set_postfix_str(f"{rate}, {self.rejected} quarantined", refresh=False)


def _reset(out: Path) -> None:
    for name in (S.MANIFEST, S.QUARANTINE, S.TOKENIZER):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / S.DATA_DIR, ignore_errors=True)


def _diff(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        if isinstance(a.get(k), dict) and isinstance(b.get(k), dict):
            out += _diff(a[k], b[k], f"{prefix}{k}.")
        elif a.get(k) != b.get(k):
            out.append(f"{prefix}{k}: {a.get(k)!r} here, {b.get(k)!r} asked")
    return out


def _check_options(backend, shard_size, limit, workers, timeout, max_notes, prefetch) -> None:
    """:func:`tokenize`'s numbers and choices, each an ArgumentError naming it and its range."""
    from .. import checks

    checks.choice("backend", backend, ("local", "ray"))
    checks.integer("shard_size", shard_size, 1, 10_000_000)
    checks.integer("prefetch", prefetch, 1, 1024)
    for name, value, low, high in (("limit", limit, 1, 10**9), ("workers", workers, 1, 4096),
                                   ("max_notes", max_notes, 1, 10**9)):
        if value is not None:
            checks.integer(name, value, low, high)
    if timeout is not None:
        checks.number("timeout", timeout, 0.0, 7 * 24 * 3600, low_open=True)


def tokenize(source, out_dir, *, tokenizer="remi", captions=None, split: str | None = None,
             limit: int | None = None, workers: int | None = None,
             shard_size: int = DEFAULT_SHARD_SIZE, backend: str = "local",
             address: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
             max_notes: int | None = DEFAULT_MAX_NOTES, max_bytes: int = MAX_BYTES,
             transform: Callable | None = None, sandbox: bool = True, fast: bool = True,
             prefetch: int = 2, start_method: str | None = None, progress: bool = True,
             overwrite: bool = False) -> Summary:
    """Tokenize ``source`` into Parquet shards in ``out_dir``; return a :class:`Summary`.

    ``source``: a folder, an archive, a ``.txt`` list of paths, a list of paths,
    ``"pop909[:SPLIT]"``, ``"music21:COLLECTION[:SPLIT]"``, a
    :class:`~symbolic.data.sources.Source` or :class:`~symbolic.data.midicaps.MidiCaps`;
    ``captions`` (MidiCaps ``train.json``) joins caption columns and chooses ``split``
    ('train', 'test', None for all) by ``test_set``; ``limit`` takes the first inputs only.
    ``tokenizer``: a preset name, a miditok file or folder, or a miditok tokenizer object.
    ``workers`` (default: the CPU count) processes, or Ray tasks for ``backend="ray"`` (with
    ``address`` of a Ray cluster). ``timeout`` seconds per file (local backend), ``max_notes``
    and ``max_bytes`` per file; ``transform(score) -> score | None`` runs in the workers
    before tokenizing (picklable; None leaves the file out, as :class:`FilteredError`).
    ``fast=False`` makes miditok itself encode REMI too (same ids, about five times slower;
    see :func:`~symbolic.representations.tokens.encode`); ``sandbox=False`` parses in
    the worker directly (a parser crash then costs the worker: retried, then quarantined).
    ``start_method`` forces a multiprocessing start method (default: ``fork`` while the
    parent has no thread, else ``forkserver``). Run it again with the same arguments to
    resume; ``overwrite`` starts afresh.
    """
    from ..representations import tokens as T

    _check_options(backend, shard_size, limit, workers, timeout, max_notes, prefetch)
    src: Source = open_source(source, captions=captions, split=split, limit=limit,
                              max_bytes=max_bytes)
    tok = T.load(tokenizer) if isinstance(tokenizer, (str, os.PathLike)) else tokenizer
    T.check_stream(tok)
    if backend == "local" and not workers:
        workers = os.cpu_count() or 1
    config = _run_config(src, tokenizer, tok, shard_size=shard_size, max_notes=max_notes,
                         max_bytes=max_bytes, transform=transform)
    out = Path(out_dir)
    with _disk_full_is_an_error(out), run_lock(out):
        manifest = _open_run(out, config, tok, overwrite=overwrite)
        retry = _retries(manifest, shard_size)
        resumed = sum(r["inputs"] for r in manifest.shards.values()) - sum(map(len, retry.values()))
        dtype, width = T.id_dtype(tok), config["tokenizer"]["width"]
        sch = S.schema(dtype, width=width, captions=src.captions is not None)
        asm = _Assembler(manifest, sch, shard_size, None, retry)

        def start_bar():  # after the workers: a forked worker must not inherit tqdm's thread
            if progress:
                from tqdm.auto import tqdm

                asm.bar = tqdm(total=src.total(), initial=resumed, unit="file",
                               desc=f"tokenize {out.name}", smoothing=0.1, dynamic_ncols=True)

        opts = _Options(max_notes=max_notes, sandbox=sandbox, transform=transform, fast=fast)
        if backend == "local":
            pool = _LocalPool(max(1, workers), tok, str(out / S.TOKENIZER), opts,
                              timeout=timeout, prefetch=prefetch, start_method=start_method)
            pool.on_start = start_bar
        else:
            pool = _RayPool(workers, tok.to_dict(), T.fingerprint(tok), opts, address=address,
                            dtype=dtype, width=width)
            start_bar()
        t0 = time.perf_counter()

        def skip(i: int) -> bool:  # inputs of finished shards, but for the retried ones
            return manifest.done(i // shard_size) and i not in retry.get(i // shard_size, ())

        _drive(pool, _tasks(src, asm, skip), asm)
        summary = _summarize(manifest, asm, out, seconds=time.perf_counter() - t0,
                             resumed=resumed, replaced=getattr(pool, "replaced", 0),
                             backend=backend, workers=workers or 0)
        manifest.finish(asm.total if asm.total is not None else summary.inputs,
                        {k: v for k, v in summary.to_dict().items() if k != "out_dir"})
        return summary


def retryable(rejected: dict) -> bool:
    """Whether a quarantine line records a process dying rather than the input's verdict: a
    worker that died on it (:class:`WorkerCrashError`), or the parser sandbox crashing on it
    or killed from outside (:data:`symbolic.sandbox.CRASHED`, :data:`~symbolic.sandbox.KILLED`).
    A resumed run tries such inputs again."""
    from ..sandbox import CRASHED, KILLED

    if rejected.get("error") == WorkerCrashError.__name__:
        return True
    return rejected.get("error") == "MidiParseError" and \
        str(rejected.get("reason", "")).startswith((CRASHED, KILLED))


def _retries(manifest: S.Manifest, shard_size: int) -> dict[int, set[int]]:
    """Finished shard -> the indices of its :func:`retryable` quarantined inputs."""
    out: dict[int, set[int]] = {}
    for k, record in manifest.shards.items():
        redo = {r["index"] for r in record["rejected"] if retryable(r)}
        if redo:
            out[int(k)] = redo
    return out


def _run_config(src: Source, tokenizer, tok, *, shard_size: int, max_notes, max_bytes: int,
                transform) -> dict:
    """What a resumed run must find unchanged in the manifest: source, tokenizer, limits."""
    from ..representations import tokens as T

    name = tokenizer if isinstance(tokenizer, str) else type(tok).__name__
    return {
        "source": src.describe(),
        "tokenizer": {"name": str(name), "class": type(tok).__name__,
                      "fingerprint": T.fingerprint(tok), "vocab_size": T.vocab_size(tok),
                      "id_dtype": T.id_dtype(tok).name,
                      "width": len(tok.vocab) if tok.is_multi_voc else None},
        "shard_size": shard_size,
        "max_notes": max_notes,
        "max_bytes": max_bytes,
        "transform": None if transform is None else getattr(transform, "__qualname__",
                                                            repr(transform)),
    }


LOCK = ".lock"  # in OUT: held (flock) by the run writing the folder, holds its pid


@contextlib.contextmanager
def run_lock(out: Path):
    """Hold ``out`` for one run. A second run on the same folder, from any process, raises
    :class:`RunInProgressError` at once (naming the holder's pid) instead of deleting the
    first run's temporary shards at its start; the lock goes with the process that held it,
    however it ends."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "?"
            raise RunInProgressError(f"another tokenize run (pid {holder}) is writing this "
                                     "folder; wait for it to end or use another folder",
                                     out) from None
        try:  # the pid only helps the message of a refused run: a full disk may refuse it
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)


class DiskFullError(SymbolicError, OSError):
    """The disk holding a run's output folder filled up (or a write went over the system's
    file size limit). The shards finished before it are kept; run again once there is room."""


_DISK_FULL = {errno.ENOSPC: "is full", errno.EDQUOT: "is over your quota",
              errno.EFBIG: "refused a file this large (the file size limit, ulimit -f)"}


def _disk_full_errno(e: OSError) -> int | None:
    if e.errno in _DISK_FULL:
        return e.errno
    if "No space left on device" in str(e):  # pyarrow's IO errors carry the text only
        return errno.ENOSPC
    return None


def _disk_of(path: Path) -> str:
    """``'/dev/vdb mounted at /data'``: the file system holding ``path``."""
    mount = Path(os.path.abspath(path))
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    device = None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            for line in f:  # the last mount on a point is the one in use
                fields = line.split()
                if len(fields) > 1 and fields[1] == str(mount):
                    device = fields[0]
    except OSError:
        pass
    return f"{device} mounted at {mount}" if device else f"the disk mounted at {mount}"


@contextlib.contextmanager
def _disk_full_is_an_error(out: Path):
    """Turn a write refused for lack of room into one :class:`DiskFullError` that names the
    disk, says how much is free and what was kept (every write is atomic, so the manifest
    and every shard it names are whole)."""
    try:
        yield
    except OSError as e:
        code = _disk_full_errno(e)
        if code is None or isinstance(e, SymbolicError):
            raise
        try:
            free = shutil.disk_usage(out).free
            free = f"{free / 1e6:,.1f} MB free" if free >= 1e6 else f"{free // 1000} kB free"
            kept = len(S.Manifest.read(out).shards)
        except (OSError, SymbolicError):
            free, kept = "free space unknown", 0
        raise DiskFullError(f"{_disk_of(out)} {_DISK_FULL[code]} ({free}); the {kept} finished "
                            "shards are kept: make room and run the same command again to "
                            "resume", out) from None


def _open_run(out: Path, config: dict, tok, *, overwrite: bool) -> S.Manifest:
    """The run's manifest in ``out``: resumed when its settings match ``config`` (else
    :class:`RunMismatchError`), created when absent; stale temporary shards removed and the
    tokenizer saved beside the shards."""
    from ..representations import tokens as T

    if overwrite:
        _reset(out)
    if (out / S.MANIFEST).is_file():
        manifest = S.Manifest.read(out)
        # the tokenizer's name is how it was asked for ("remi", a path...): its fingerprint rules
        diffs = [d for d in _diff(manifest.config, config) if not d.startswith("tokenizer.name:")]
        if diffs:
            raise RunMismatchError("this folder holds a run with other settings ("
                                   + "; ".join(diffs[:4]) + "); use another folder or overwrite",
                                   out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        manifest = S.Manifest.create(out, config)
    data_dir = out / S.DATA_DIR
    data_dir.mkdir(exist_ok=True)
    # What a killed or failed run left: temporary files, and shard files the manifest does
    # not name (written, never committed; a shard written again under a new name).
    named = {Path(r["file"]).name for r in manifest.shards.values() if r["file"]}
    for stale in [*data_dir.glob(".*.tmp"), *out.glob(".*.tmp"), out / (S.TOKENIZER + ".tmp"),
                  *(p for p in data_dir.glob("shard-*.parquet") if p.name not in named)]:
        stale.unlink(missing_ok=True)
    tok_path = out / S.TOKENIZER
    if not tok_path.is_file():
        try:
            T.save(tok, tok_path, overwrite=True)
        finally:  # a full disk leaves its temporary file behind
            (out / (S.TOKENIZER + ".tmp")).unlink(missing_ok=True)
    return manifest


def _tasks(src: Source, asm: _Assembler, skip: Callable[[int], bool]) -> Iterator[tuple]:
    """``(index, location, bytes)`` of every input not to ``skip`` (those of finished shards,
    but for retried ones); inputs that come with an error are quarantined at once, and the
    assembler learns where the source ends."""
    n = 0
    for index, item in src.items(want=lambda i: not skip(i)):
        n = index + 1
        if skip(index):
            continue
        if item.error is not None:
            asm.reject_now(index, item.location, item.hash, item.error)
            continue
        asm.expect(index, item.location, item.hash, item.meta)
        yield (index, item.location, item.data)
    asm.source_done(n)


def _drive(pool, tasks: Iterator[tuple], asm: _Assembler) -> None:
    """Run every task through ``pool`` into ``asm``, until each shard is written."""
    try:
        with contextlib.closing(pool.run(tasks)) as results:  # workers stop if a write fails
            for result in results:
                asm.add(result)
        for k in list(asm.pending):  # shards whose last results came after the source ended
            asm._flush(k)
    finally:
        if asm.bar is not None:
            asm.bar.close()
    if asm.pending:
        raise RuntimeError(f"internal error: shards {sorted(asm.pending)} were left unfinished")


def _summarize(manifest: S.Manifest, asm: _Assembler, out: Path, *, seconds: float,
               resumed: int, replaced: int, backend: str, workers: int) -> Summary:
    """The :class:`Summary` of a run: totals over every shard, rates over this run's inputs."""
    totals = manifest.totals()
    errors = Counter()
    for r in manifest.shards.values():
        errors.update(x["error"] for x in r["rejected"])
    return Summary(
        out_dir=str(out), inputs=totals["inputs"], rows=totals["rows"], rejected=totals["rejected"],
        errors=dict(errors), tokens=totals["tokens"], shards=totals["shards"], resumed=resumed,
        retried=sum(map(len, asm.retry.values())),
        bytes=totals["bytes"], seconds=seconds,
        files_per_s=asm.inputs / seconds if seconds else 0.0,
        tokens_per_s=asm.tokens / seconds if seconds else 0.0,
        workers_replaced=replaced, backend=backend, workers=workers)
