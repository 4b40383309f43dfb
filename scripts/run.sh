#!/usr/bin/env bash
# Runs the app for development on http://localhost:3000 (SQLite under data/), rebuilding
# and reloading on every change.
#
#   scripts/run.sh [extra cargo leptos watch args]
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

scripts/setup.sh
exec cargo leptos watch --split "$@"
