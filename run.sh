#!/usr/bin/env bash
# Set up on first use, then run the assistant (no arguments: the chat UI on the shipped articles).
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"
exec assistant "$@"
