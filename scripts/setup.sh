#!/usr/bin/env bash
# Creates .venv (if needed) and installs the project into it. Sourced by run.sh and test.sh.
# torch goes in first, pinned to 2.13.0: on this kind of machine pip takes the CPU wheel that lies on
# disk, whereas an unpinned "torch" would pull the multi-GB CUDA build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ASSISTANT_VENV:-$root/.venv}"
extras="${1:-}"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null 2>&1 || py=python3
if [ ! -x "$venv/bin/python" ]; then
  echo "setting up $venv (first run only) ..." >&2
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
stamp="$venv/.assistant-installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root${extras:+[$extras]}"
  touch "$stamp"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PATH="$venv/bin:$PATH"
export PATH
