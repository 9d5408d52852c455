"""Ctrl+Q in a real terminal (tmux): the chat exits within 0.5 s, whatever its worker threads are doing.

The app runs in a private tmux server; the shell that started it writes the time the moment the process
has ended, so what is measured is what a user waits for: from the key to the prompt back.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SEEDS

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("bash") is None,
                                 reason="needs tmux and bash")]

QUIT_WITHIN_S = 0.5


class Terminal:
    """One tmux session on its own server socket, running a command in a 100x30 window."""

    def __init__(self, socket: str, command: str) -> None:
        self.base = ["tmux", "-L", socket]
        subprocess.run([*self.base, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
                        command], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.base, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "t", *(["-l"] if literal else []), *keys], check=True)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {timeout}s:\n{self.screen()}")
            time.sleep(0.05)

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path: Path, seeds_index: Path) -> Iterator[tuple[Terminal, Path]]:
    ended = tmp_path / "ended"
    app = shlex.join([sys.executable, "-m", "assistant", "--corpus", str(SEEDS), "--index", str(seeds_index)])
    # bash writes the time as soon as the app's process is gone; then the window stays for the test to read
    command = f"bash -c {shlex.quote(f'{app}; echo $EPOCHREALTIME > {ended}; sleep 60')}"
    # A server socket of its own per test: a new session on the socket of a server still shutting down
    # after the previous test's kill-server fails with "server exited unexpectedly".
    term = Terminal(f"assistant-test-{os.getpid()}-{uuid.uuid4().hex[:8]}", command)
    try:
        yield term, ended
    finally:
        term.close()


def seconds_to_exit(term: Terminal, ended: Path) -> float:
    began = time.time()
    term.keys("C-q")
    deadline = time.monotonic() + 30
    while not (ended.exists() and ended.read_text().strip()):
        assert time.monotonic() < deadline, f"the app did not exit:\n{term.screen()}"
        time.sleep(0.005)
    return float(ended.read_text()) - began


def test_ctrl_q_exits_at_once_right_after_asking(terminal: tuple[Terminal, Path]) -> None:
    term, ended = terminal
    term.wait_for("Ready", timeout=240)
    term.keys("How much has Russia committed to train and equip the Tajik army?", literal=True)
    term.keys("Enter")
    time.sleep(0.05)  # the question is being answered in a worker thread
    waited = seconds_to_exit(term, ended)
    print(f"Ctrl+Q right after asking: exited in {waited:.3f} s (load average {os.getloadavg()[0]:.1f})")
    assert waited < QUIT_WITHIN_S


def test_ctrl_q_exits_at_once_while_the_model_loads(terminal: tuple[Terminal, Path]) -> None:
    term, ended = terminal
    term.wait_for("Loading", timeout=120)
    waited = seconds_to_exit(term, ended)
    print(f"Ctrl+Q while loading: exited in {waited:.3f} s (load average {os.getloadavg()[0]:.1f})")
    assert waited < QUIT_WITHIN_S


CHILD = """
import os, sys, time
from assistant.fronts.tui.quick_exit import run_in_child
how, pid_file = sys.argv[1], sys.argv[2]
def main(done):
    if how == "done":
        done(3)
        open(pid_file, "w").write(str(os.getpid()))
        os.close(1), os.close(2)
        time.sleep(60)  # as if still releasing its memory: the parent must not wait for this
    if how == "killed":
        os.kill(os.getpid(), 9)
    return 4
print("returned", run_in_child(main), flush=True)
"""


@pytest.mark.parametrize(("how", "status", "out"), [("done", 3, ""), ("returns", 4, ""), ("killed", 0, "returned 137")])
def test_the_parent_ends_with_the_status_the_child_reports(how: str, status: int, out: str, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    began = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, how, str(pid_file)], capture_output=True, text=True,
                              timeout=50)
        assert (proc.returncode, proc.stdout.strip()) == (status, out), proc.stderr
        assert time.monotonic() - began < 30  # "done" did not wait for the child that sleeps 60 s
    finally:
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
