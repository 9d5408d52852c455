#!/usr/bin/env bash
# Set up on first use (with test tools), then lint, type-check and run the whole test suite.
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh" dev
cd "$(dirname "$0")"
ruff check assistant tests benchmarks
mypy assistant
exec python -m pytest "$@"
