#!/usr/bin/env bash
# Runs CMD with a throw-away PostgreSQL server and exits with CMD's status.
#
#   scripts/with-postgres.sh CMD [ARGS...]
#
# The server listens on 127.0.0.1 on a random free port, keeps its data and unix socket
# in a temp dir, trusts every local connection, and is stopped and deleted when CMD ends
# (also when it fails or on Ctrl-C). CMD sees
#   LATCHKEY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres
# If LATCHKEY_TEST_POSTGRES_URL is already set, CMD just runs against that database.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

if [ -n "${LATCHKEY_TEST_POSTGRES_URL:-}" ]; then
  exec "$@"
fi

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

log() { echo "with-postgres: $*" >&2; }

PG_BIN="$(postgres_bindir)" || {
  log "no PostgreSQL server found under /usr/lib/postgresql (run scripts/setup.sh)"
  exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-pg.XXXXXX")"
data="$tmp/data"
sock="$tmp/sock"
server_started=""

# shellcheck disable=SC2317 # invoked by the traps below
cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  if [ -n "$server_started" ]; then
    as_postgres "$PG_BIN/pg_ctl" stop -D "$data" -m immediate -w -t 30 >/dev/null 2>&1 ||
      log "warning: pg_ctl stop failed (see $tmp/postgres.log)"
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$tmp"
fi
chmod 700 "$tmp"
as_postgres mkdir -m 700 "$sock"

if ! as_postgres "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C \
  --no-sync >"$tmp/initdb.log" 2>&1; then
  log "initdb failed:"
  cat "$tmp/initdb.log" >&2
  exit 1
fi

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pick a random free port; another process may grab it before the server binds, so
# retry the start a few times.
port=""
for _ in 1 2 3 4 5; do
  candidate=$((20000 + RANDOM % 40000))
  port_is_free "$candidate" || continue
  if as_postgres "$PG_BIN/pg_ctl" start -D "$data" -l "$tmp/postgres.log" -w -t 30 -s \
    -o "-c listen_addresses=127.0.0.1 -p $candidate -k $sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
    >/dev/null 2>&1; then
    port="$candidate"
    server_started=1
    break
  fi
done
if [ -z "$port" ]; then
  log "could not start PostgreSQL:"
  cat "$tmp/postgres.log" >&2 2>/dev/null || true
  exit 1
fi

ready=""
for _ in $(seq 1 60); do
  if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  log "PostgreSQL did not accept connections on 127.0.0.1:$port:"
  cat "$tmp/postgres.log" >&2 || true
  exit 1
fi

export LATCHKEY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') ready at $LATCHKEY_TEST_POSTGRES_URL"

# Not `exec`: the EXIT trap must stop the server and delete $tmp afterwards.
status=0
"$@" || status=$?
exit "$status"
