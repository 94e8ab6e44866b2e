"""A process forked while another thread is inside ``load`` (DataLoader-style workers) loads
files by itself: the sandbox resets in every forked child (``os.register_at_fork``)."""

import os
import threading
import time

import pytest

import symbolic


def test_a_child_forked_during_a_load_can_load(pop909_root):
    data = (pop909_root / "001" / "001.mid").read_bytes()
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            symbolic.load(data)

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    outcomes = []
    try:
        for _ in range(5):
            time.sleep(0.01)  # let the thread be inside load() (it holds the sandbox's lock)
            pid = os.fork()
            if pid == 0:  # the child: load once, report through the exit status
                try:
                    os._exit(0 if symbolic.load(data).note_num() > 0 else 2)
                except BaseException:
                    os._exit(3)
            deadline = time.time() + 20
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    outcomes.append(os.waitstatus_to_exitcode(status))
                    break
                if time.time() > deadline:  # the deadlock the reset prevents
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    outcomes.append("hung")
                    break
                time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert outcomes == [0] * 5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_reset_closes_only_the_childs_copies_of_the_pipes(pop909_root):
    data = (pop909_root / "001" / "001.mid").read_bytes()
    symbolic.load(data)  # the parent's worker runs
    from symbolic import sandbox

    parent_worker = sandbox._worker  # noqa: SLF001 - the test looks inside on purpose
    pid = os.fork()
    if pid == 0:
        os._exit(0 if sandbox._worker is None else 4)  # noqa: SLF001
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert parent_worker.poll() is None  # the parent's parser still serves the parent
    assert symbolic.load(data).note_num() > 0


def test_a_worker_killed_from_outside_costs_nothing(monkeypatch, tmp_path, pop909_root):
    """The first parser process dies (as if the OOM killer took it) in the middle of a
    request; the load is asked again in a fresh parser and succeeds: a good file is never
    reported as crashing the parser because of something outside it."""
    from symbolic import sandbox

    marker = tmp_path / "killed-once"
    killer = (f"import os, pathlib, signal; m = pathlib.Path({str(marker)!r})\n"
              "if not m.exists():\n    m.touch(); os.kill(os.getpid(), signal.SIGKILL)\n"
              + sandbox.WORKER)
    sandbox.shutdown()
    monkeypatch.setattr(sandbox, "WORKER", killer)
    data = (pop909_root / "001" / "001.mid").read_bytes()
    try:
        score = symbolic.load(data)
    finally:
        monkeypatch.undo()
        sandbox.shutdown()
    assert marker.exists() and score == symbolic.load(data, sandbox=False)
