# shellcheck shell=bash
# Common settings for the scripts in this folder. Source it; do not run it.
#
#   ROOT      the repository root
#   PATH      ~/.cargo/bin and the project-local wasm-opt (tools/binaryen) first
#
# The pinned versions live here so that every script agrees on them.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# shellcheck disable=SC2034 # used by the scripts that source this file
CARGO_LEPTOS_VERSION="0.3.10"
# shellcheck disable=SC2034
BINARYEN_MAJOR="132" # tools/binaryen/package.json pins binaryen 132.0.0
# shellcheck disable=SC2034
RUST_TARGETS=(wasm32-unknown-unknown)
# shellcheck disable=SC2034
RUST_COMPONENTS=(rustfmt clippy)

# Release builds run `wasm-opt` from PATH. Debian's binaryen is too old (its output never
# hydrates), so the npm build pinned in tools/binaryen must come first.
export PATH="$ROOT/tools/binaryen/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The version of the wasm-bindgen crate in Cargo.lock; the CLI must match it exactly.
lockfile_wasm_bindgen_version() {
  awk '
    $0 == "name = \"wasm-bindgen\"" { found = 1; next }
    found && /^version = / { gsub(/"/, "", $3); print $3; exit }
    /^\[\[package\]\]/ { found = 0 }
  ' "$ROOT/Cargo.lock"
}

# The part of cargo-leptos's debug-build environment that changes how dependencies are
# compiled (cargo-leptos 0.3.10 src/config/project.rs `to_envs`): RUSTFLAGS, and
# LEPTOS_OUTPUT_NAME, which leptos and leptos_config read with option_env! (the only
# LEPTOS_* variable in the `env-dep` lines of target/debug/deps/*.d). Running clippy and
# nextest with the same values lets them reuse the dependencies `cargo leptos build`
# compiled instead of rebuilding ~300 crates. The other LEPTOS_* variables are left out
# on purpose: tests must not see LEPTOS_SITE_ADDR and friends.
leptos_build_env() {
  local output_name
  output_name="$(awk -F'"' '/^output-name *=/ { print $2; exit }' "$ROOT/Cargo.toml")"
  export RUSTFLAGS="--cfg erase_components"
  export LEPTOS_OUTPUT_NAME="${output_name:-latchkey}"
}

# Runs a command as the `postgres` system user when we are root (initdb and postgres
# refuse to run as root); as ourselves otherwise.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The newest PostgreSQL server bin directory (Debian layout), preferring 15.
postgres_bindir() {
  if [ -n "${LATCHKEY_PG_BINDIR:-}" ]; then
    echo "$LATCHKEY_PG_BINDIR"
  elif [ -x /usr/lib/postgresql/15/bin/postgres ]; then
    echo /usr/lib/postgresql/15/bin
  else
    local dir best=""
    for dir in /usr/lib/postgresql/*/bin; do
      [ -x "$dir/postgres" ] || continue
      if [ -z "$best" ] || [ "$(printf '%s\n' "$best" "$dir" | sort -V | tail -n 1)" = "$dir" ]; then
        best="$dir"
      fi
    done
    [ -n "$best" ] && echo "$best"
  fi
}
