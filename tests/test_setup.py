"""scripts/setup.sh (what run.sh and test.sh source): a dev install satisfies run.sh, and pip's output stays
in the log, never on the terminal. Run against throwaway venv folders whose `python` is a stand-in that
records how it was called and fails, so nothing is ever installed."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

SETUP = Path(__file__).resolve().parent.parent / "scripts" / "setup.sh"
PYPROJECT = SETUP.parent.parent / "pyproject.toml"


def source(venv: Path, *args: str, python: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_VENV": str(venv)}
    if python is not None:
        env["PYTHON"] = python
    script = f'source "{SETUP}" {" ".join(args)} && echo "ready: $(command -v python)"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)


def a_venv(tmp_path: Path, *stamps: str) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" >> "{venv}/calls"\necho "pip says: Editable installation" >&2\nexit 1\n')
    fake.chmod(0o755)
    for stamp in stamps:
        (venv / stamp).touch()
        later = time.time() + 10
        os.utime(venv / stamp, (later, later))
    return venv


def test_run_after_test_installs_nothing_and_prints_nothing(tmp_path: Path) -> None:
    venv = a_venv(tmp_path, ".assistant-installed-dev")  # what test.sh leaves
    for args in ((), ("dev",)):
        done = source(venv, *args)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "" and done.stdout.strip() == f"ready: {venv}/bin/python"
    assert not (venv / "setup.log").exists() and not (venv / "calls").exists()


def test_a_plain_install_does_not_satisfy_the_dev_one(tmp_path: Path) -> None:
    venv = a_venv(tmp_path, ".assistant-installed")
    assert source(venv).stderr == ""
    failed = source(venv, "dev", python="/bin/false")
    assert failed.returncode == 1
    assert "-m pip install --disable-pip-version-check torch==2.13.0" in (venv / "calls").read_text()
    lines = failed.stderr.splitlines()
    assert lines[0].startswith("assistant: pyproject.toml changed: updating the install") and "[dev]" in lines[0]
    assert lines[1] == f"assistant: set-up failed; the end of {venv / 'setup.log'}:"
    assert "Editable installation" in (venv / "setup.log").read_text()  # pip's words: in the log...
    assert all(line.startswith(("assistant:", "pip says")) for line in lines)  # ...and on screen only when failing


def test_a_failed_first_install_says_one_line_then_the_log(tmp_path: Path) -> None:
    venv = tmp_path / "fresh"
    failed = source(venv, python="/bin/false")  # `python -m venv` fails
    assert failed.returncode == 1 and "ready" not in failed.stdout
    lines = failed.stderr.splitlines()
    assert lines[0].startswith("assistant: first run: creating") and str(venv / "setup.log") in lines[0]
    assert lines[1] == f"assistant: set-up failed; the end of {venv / 'setup.log'}:"
    assert PYPROJECT.exists()
