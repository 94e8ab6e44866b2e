"""Parse untrusted MIDI bytes in a child process, so a crash in native code cannot kill ours.

symusic's parser (C++) is memory-unsafe on some malformed files: measured here, about one in a
thousand randomly corrupted POP909 files ends the interpreter with SIGSEGV or SIGABRT, during the
parse or later, on the damaged Score (``to("second")``). So :func:`symbolic.load` hands MIDI
bytes to a long-lived worker process that parses them, re-encodes the Score with symusic's own
writer and sends those clean bytes back; the caller parses the clean bytes. If the worker dies
or hangs, the caller gets a :class:`MidiParseError` and a fresh worker is started on next use.

A worker can die in two ways, told apart by how it ended: it *crashed* on the input (SIGSEGV,
SIGABRT..., or an exit code; asked once more in a fresh worker, then reported with
:data:`CRASHED`), or it was *killed from outside* (SIGKILL from a user or the OOM killer,
SIGTERM, SIGHUP, SIGINT; asked again, up to :data:`KILL_RETRIES` more times, then reported with
:data:`KILLED`). Both reasons mean "not this file's verdict": ``symbolic tokenize`` retries
inputs quarantined with them when it resumes.

Cost, measured by ``benchmarks/load.py``: a few hundred microseconds per file over the plain
parse; pass ``sandbox=False`` to :func:`symbolic.load` for files you trust.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import struct
import subprocess
import sys
import threading

__all__ = ["parse_midi_isolated", "shutdown", "reset_after_fork", "serve", "CRASHED", "KILLED",
           "KILL_RETRIES"]

TIMEOUT_S = 30.0
CRASHED = "the MIDI parser crashed on this input"  # how a crash's reason begins
KILLED = "the MIDI parser was killed from outside"  # how a reason begins when kills ran out
KILL_RETRIES = 3  # more requests after a kill from outside (bounded: the OOM killer may insist)
#: Deaths the parser never causes itself: someone or something else ended it.
OUTSIDE_SIGNALS = frozenset({signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT})
_lock = threading.Lock()
_worker: subprocess.Popen | None = None
_HEAD = struct.Struct(">cI")  # status byte, payload length
WORKER = "from symbolic.sandbox import serve; serve()"  # the worker's program


def _read_exact(fd: int, n: int, deadline: float | None = None) -> bytes:
    import time

    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def serve() -> None:
    """Worker loop on stdin/stdout: length-prefixed MIDI in, ``K``+clean bytes or ``E``+reason out."""
    import symusic

    rfd, wfd = sys.stdin.fileno(), sys.stdout.fileno()
    while True:
        try:
            (n,) = struct.unpack(">I", _read_exact(rfd, 4))
            data = _read_exact(rfd, n)
        except EOFError:
            return
        try:
            score = symusic.Score.from_midi(data)
            if score.ticks_per_quarter <= 0:
                raise ValueError(f"ticks per quarter is {score.ticks_per_quarter}")
            # symusic's writer drops notes at negative ticks (a tick count past 2^31 wraps
            # there): say so instead of sending back a score without them
            if any(len(t.notes) and t.notes.numpy()["time"].min() < 0 for t in score.tracks):
                raise ValueError("negative note time (a tick count past 2^31)")
            status, payload = b"K", bytes(score.dumps_midi())
        except Exception as e:  # noqa: BLE001 - every parser complaint goes back as text
            reason = str(e).replace("MiniMidi: ", "").strip() or type(e).__name__
            status, payload = b"E", reason.encode("utf-8", errors="replace")
        os.write(wfd, _HEAD.pack(status, len(payload)) + payload)


def _start() -> subprocess.Popen:
    # A plain subprocess (not multiprocessing): it never re-imports the caller's __main__.
    global _worker
    _worker = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
    )
    return _worker


def shutdown() -> None:
    """Stop the worker (a new one starts on next use)."""
    global _worker
    proc, _worker = _worker, None
    if proc is not None:
        proc.kill()
        proc.wait(timeout=5)
        for f in (proc.stdin, proc.stdout):
            f.close()


atexit.register(shutdown)


def reset_after_fork() -> None:
    """Forget the parent's worker and lock in a freshly forked child process (registered with
    ``os.register_at_fork``, so it runs in every forked child by itself).

    A forked child inherits the parent's pipes to the parser process (talking to it would mix
    two processes' requests on one pipe) and the lock in whatever state it had (held by a
    thread that does not exist in the child). The child starts its own worker on first use.
    """
    global _worker, _lock
    inherited, _worker, _lock = _worker, None, threading.Lock()
    if inherited is not None:  # close this process's copies of the pipe ends, nothing more:
        for f in (inherited.stdin, inherited.stdout):  # the parser's stdin then reaches EOF
            try:  # when its real owner dies, and the parser exits instead of lingering
                f.close()
            except OSError:
                pass


# Every fork resets, whoever forks (multiprocessing, a DataLoader's workers, os.fork): a child
# forked while another thread was inside load() would otherwise wait forever on the held lock.
os.register_at_fork(after_in_child=reset_after_fork)


def parse_midi_isolated(data: bytes, timeout: float = TIMEOUT_S) -> tuple[bool, bytes | str]:
    """``(True, clean_midi_bytes)`` or ``(False, reason)``; never raises for bad data.

    A worker that crashes on a file is asked once more, in a fresh process, and only a file
    that crashes the parser twice is reported (:data:`CRASHED`). A worker killed from outside
    (see :data:`OUTSIDE_SIGNALS`) says nothing about the file: it is asked again, up to
    :data:`KILL_RETRIES` more times, and only then reported (:data:`KILLED`)."""
    crashes = kills = 0
    with _lock:
        while True:
            ok, result, death = _ask(data, timeout)
            if death is None:
                return ok, result
            if death == "killed":
                kills += 1
                if kills > KILL_RETRIES:
                    return False, f"{KILLED} ({result}) {kills} times in a row"
            else:
                crashes += 1
                if crashes >= 2:
                    return False, f"{CRASHED} ({result})"


def _ask(data: bytes, timeout: float) -> tuple[bool, bytes | str, str | None]:
    """One request to the worker (started if needed): ``(ok, payload or reason, death)``, where
    ``death`` is None (it answered), ``"crashed"`` or ``"killed"`` (the reason then says how:
    ``signal 11``, ``exit code 1``)."""
    import time

    proc = _worker if _worker is not None and _worker.poll() is None else _start()
    try:
        proc.stdin.write(struct.pack(">I", len(data)) + data)
        deadline = time.monotonic() + timeout
        status, n = _HEAD.unpack(_read_exact(proc.stdout.fileno(), _HEAD.size, deadline))
        payload = _read_exact(proc.stdout.fileno(), n, deadline)
    except TimeoutError:
        shutdown()
        return False, f"the MIDI parser did not finish within {timeout:g} s", None
    except (EOFError, OSError):
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        shutdown()
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        outside = code is not None and code < 0 and -code in OUTSIDE_SIGNALS
        return False, how, "killed" if outside else "crashed"
    if status == b"K":
        return True, payload, None
    return False, payload.decode("utf-8", errors="replace"), None
