#!/usr/bin/env bash
# Creates .venv (if needed) and installs the project into it. Sourced by run.sh and test.sh.
# torch goes in first, pinned to 2.13.0: on this kind of machine pip takes the CPU wheel that lies on
# disk, whereas an unpinned "torch" would pull the multi-GB CUDA build.
#
# What pip and setuptools print (index warnings, "Editable installation" notices) goes to .venv/setup.log,
# never to the terminal: an install says one line of what it does, and the log's tail only if it fails.
# A dev install (test.sh) includes the plain one (run.sh), so run.sh after test.sh installs nothing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ASSISTANT_VENV:-$root/.venv}"
extras="${1:-}"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null 2>&1 || py=python3
log="$venv/setup.log"

# The stamps that mean "installed, and pyproject.toml has not changed since": any one of them will do.
stamps=("$venv/.assistant-installed-dev")
[ -z "$extras" ] && stamps+=("$venv/.assistant-installed")
installed=""
for stamp in "${stamps[@]}"; do
  if [ -f "$stamp" ] && [ ! "$root/pyproject.toml" -nt "$stamp" ]; then installed=1; fi
done

if [ -z "$installed" ] || [ ! -x "$venv/bin/python" ]; then
  first=""
  [ -x "$venv/bin/python" ] || first=1
  mkdir -p "$venv"
  if [ -n "$first" ]; then
    echo "assistant: first run: creating $venv and installing CPU torch and the project${extras:+ with [$extras]} (a few minutes; log: $log)" >&2
  else
    echo "assistant: pyproject.toml changed: updating the install in $venv${extras:+ with [$extras]} (log: $log)" >&2
  fi
  if ! {
    { [ -z "$first" ] || { "$py" -m venv "$venv" && "$venv/bin/python" -m pip install --upgrade pip; }; } &&
    "$venv/bin/python" -m pip install --disable-pip-version-check "torch==2.13.0" &&
    "$venv/bin/python" -m pip install --disable-pip-version-check -e "$root${extras:+[$extras]}"
  } >"$log" 2>&1; then
    echo "assistant: set-up failed; the end of $log:" >&2
    tail -n 25 "$log" >&2
    return 1 2>/dev/null || exit 1
  fi
  touch "$venv/.assistant-installed${extras:+-$extras}"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PATH="$venv/bin:$PATH"
export PATH
