#!/usr/bin/env bash
# The load benchmark's standard set: builds the release, starts a throw-away PostgreSQL,
# installs the peer's pinned npm packages, and runs the load generator (benches/load) on
# SQLite, PostgreSQL and two instances on PostgreSQL, with the Node peer beside them. The
# results block of docs/performance.md is rewritten.
#
#   scripts/bench-load.sh            # build, then measure (about 10 minutes of measuring)
#   scripts/bench-load.sh --no-build # measure the release build already in target/
#   scripts/bench-load.sh --quick    # one short run per figure, docs left alone
#
# Anything else goes to the generator, e.g. to profile one figure (docs left alone):
#   scripts/bench-load.sh --no-build --only sqlite --operation passkey-login --concurrency 1 --perf /tmp/perf
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

build=1
args=(--write)
for arg in "$@"; do
  case "$arg" in
    --no-build) build="" ;;
    --quick) args=(--quick "${args[@]:1}") ;;
    *) args+=("$arg") ;;
  esac
done

if [ -n "$build" ]; then
  scripts/build-release.sh
fi
[ -x target/release/latchkey ] || { echo "target/release/latchkey is missing: run scripts/build-release.sh" >&2; exit 1; }
(cd benches/peer && { [ -d node_modules ] || npm ci --no-audit --no-fund; })

# The generator itself is built in the release (bench) profile, as the server is.
leptos_build_env
exec scripts/with-postgres.sh cargo bench --features ssr --bench load -- "${args[@]}"
