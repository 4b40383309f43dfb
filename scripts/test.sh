#!/usr/bin/env bash
# The one test command (CI runs it through .ci/run):
#
#   scripts/test.sh
#
# setup -> fmt -> clippy (ssr, hydrate) -> nextest (with a throw-away PostgreSQL)
# -> cargo leptos build -> Playwright. Stops at the first failure with its exit status.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

timings=()
now_ms() { date +%s%3N; }

# step NAME CMD...: runs CMD, prints its duration, and stops the script if it fails.
step() {
  local name="$1" start status=0
  shift
  echo
  echo "==> $name: $*"
  start="$(now_ms)"
  "$@" || status=$?
  local secs
  secs="$(awk -v ms="$(($(now_ms) - start))" 'BEGIN { printf "%.1f", ms / 1000 }')"
  timings+=("$(printf '%-16s %7ss' "$name" "$secs")")
  if [ "$status" -ne 0 ]; then
    echo "==> $name FAILED (exit $status) after ${secs}s" >&2
    exit "$status"
  fi
  echo "==> $name ok in ${secs}s"
}

print_timings() {
  local status=$?
  if [ "${#timings[@]}" -gt 0 ]; then
    echo
    echo "timings:"
    printf '  %s\n' "${timings[@]}"
  fi
  exit "$status"
}
trap print_timings EXIT

# Host builds (clippy --features ssr, nextest) get the environment cargo-leptos gives its
# debug server build, so they reuse its dependency artifacts (and each other's) instead of
# rebuilding them. RUSTFLAGS replaces any rustflags from .cargo/config.toml, so when the
# project sets some, fall back to cargo's defaults (correct, only slower).
with_leptos_env() {
  (
    leptos_build_env
    if grep -qs 'rustflags' .cargo/config.toml .cargo/config; then
      unset RUSTFLAGS
    fi
    exec "$@"
  )
}

# The wasm check shares the host artifacts (proc macros, build scripts) of cargo-leptos's
# wasm build in target/front. RUSTFLAGS does not apply to host units when --target is
# given, so it is left alone here (it would also drop .cargo/config.toml's wasm flags).
with_front_env() {
  (
    leptos_build_env
    unset RUSTFLAGS
    export CARGO_TARGET_DIR="$ROOT/target/front"
    exec "$@"
  )
}

# Playwright starts target/debug/latchkey on a fresh database (see end2end/playwright.config.ts).
playwright() {
  local status=0
  # Type-check the specs first (Playwright itself only strips the types).
  (cd end2end && npx tsc --noEmit -p . && npx playwright test) || status=$?
  if [ "$status" -ne 0 ] && [ -f target/e2e/server.log ]; then
    echo "---- last 60 lines of target/e2e/server.log ----" >&2
    tail -n 60 target/e2e/server.log >&2
  fi
  return "$status"
}

step setup scripts/setup.sh
step fmt cargo fmt --all -- --check
step clippy-ssr with_leptos_env cargo clippy --features ssr --all-targets -- -D warnings
step clippy-hydrate with_front_env cargo clippy --lib --no-default-features --features hydrate \
  --target wasm32-unknown-unknown -- -D warnings
step nextest with_leptos_env scripts/with-postgres.sh cargo nextest run --features ssr
step leptos-build cargo leptos build --split
step playwright playwright
echo
echo "all checks passed"
