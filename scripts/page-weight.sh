#!/usr/bin/env bash
# Page weight of the release build: requests and bytes for a cold /login, a warm /login and
# a full passkey sign-in, measured in Chromium (end2end/tools/page-weight.mjs).
#
#   scripts/page-weight.sh            # builds the release first (scripts/build-release.sh)
#   scripts/page-weight.sh --no-build # measures the release build already in target/
#
# The server runs on http://localhost:3950 with a fresh SQLite database in target/weight.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [ "${1:-}" != "--no-build" ]; then
  scripts/build-release.sh
fi
[ -x target/release/latchkey ] || { echo "target/release/latchkey is missing" >&2; exit 1; }

dir=target/weight
rm -rf "$dir" && mkdir -p "$dir/data"
LATCHKEY_DATA_DIR="$dir/data" \
  LATCHKEY_DATABASE_URL="sqlite://$dir/data/latchkey.db" \
  LATCHKEY_PUBLIC_ORIGIN=http://localhost:3950 \
  LEPTOS_OUTPUT_NAME=latchkey LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR=127.0.0.1:3950 RUST_LOG=warn \
  target/release/latchkey >"$dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS http://127.0.0.1:3950/healthz >/dev/null 2>&1 && break
  sleep 0.1
done
echo "release wasm: $(find target/site/pkg -name '*.wasm' -printf '%s B %f\n')"
(cd end2end && node tools/page-weight.mjs http://localhost:3950)
