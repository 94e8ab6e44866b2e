"""The parser sandbox tells a parser that crashed on its input (asked once more, then reported)
from one killed from outside (asked again: the file is not to blame). The workers here end
themselves with the signal before reading the request, as a ``kill`` or the OOM killer would
end them; each start is counted in a file."""

import signal

import pytest

import symbolic
from symbolic import sandbox
from symbolic.fuzz import seed_midi
from symbolic.io import frame_midi

REAL_WORKER = sandbox.WORKER


def dying_worker(tmp_path, monkeypatch, sig: int, times: int):
    """A sandbox program that dies of ``sig`` on its first ``times`` starts, then parses."""
    starts, left = tmp_path / "starts", tmp_path / "left"
    left.write_text(str(times))
    starts.write_text("")
    program = (
        "import os, sys\n"
        f"open({str(starts)!r}, 'a').write('x')\n"
        f"left = int(open({str(left)!r}).read())\n"
        "if left > 0:\n"
        f"    open({str(left)!r}, 'w').write(str(left - 1))\n"
        "    sys.stdin.buffer.read(4)\n"
        f"    os.kill(os.getpid(), {int(sig)})\n"
        + REAL_WORKER)
    sandbox.shutdown()
    monkeypatch.setattr(sandbox, "WORKER", program)
    return starts


@pytest.fixture(autouse=True)
def _fresh_sandbox():
    sandbox.shutdown()
    yield
    sandbox.shutdown()  # the next user starts the real worker again


def test_a_parser_killed_from_outside_is_asked_again(tmp_path, monkeypatch):
    data = seed_midi(0)
    starts = dying_worker(tmp_path, monkeypatch, signal.SIGKILL, sandbox.KILL_RETRIES)
    ok, clean = sandbox.parse_midi_isolated(data)
    assert ok, clean
    assert len(starts.read_text()) == sandbox.KILL_RETRIES + 1
    assert symbolic.load(clean, sandbox=False) == symbolic.load(data, sandbox=False)


def test_kills_without_end_are_reported_as_kills_not_as_crashes(tmp_path, monkeypatch):
    starts = dying_worker(tmp_path, monkeypatch, signal.SIGTERM, 100)
    ok, reason = sandbox.parse_midi_isolated(seed_midi(0))
    assert not ok and reason.startswith(sandbox.KILLED)
    assert f"(signal {int(signal.SIGTERM)}) {sandbox.KILL_RETRIES + 1} times" in reason
    assert len(starts.read_text()) == sandbox.KILL_RETRIES + 1  # bounded: no endless retry


def test_a_crash_is_retried_once_then_blamed_on_the_input(tmp_path, monkeypatch):
    starts = dying_worker(tmp_path, monkeypatch, signal.SIGSEGV, 100)
    ok, reason = sandbox.parse_midi_isolated(seed_midi(0))
    assert not ok and reason == f"{sandbox.CRASHED} (signal {int(signal.SIGSEGV)})"
    assert len(starts.read_text()) == 2
    # one crash, then a good parse: the file loads
    starts = dying_worker(tmp_path, monkeypatch, signal.SIGSEGV, 1)
    framed, _ = frame_midi(seed_midi(1))
    assert symbolic.load(framed).note_num() == symbolic.load(framed, sandbox=False).note_num()
    assert len(starts.read_text()) == 2
