#!/usr/bin/env bash
# Installs, or checks, everything the build and the tests need, at pinned versions.
# Idempotent: a second run installs nothing and takes a few seconds.
#
#   scripts/setup.sh
#
# Prints one line per item: "ok: X already at V" or "installing X V".
# Fails with a clear message when a version is wrong and cannot be fixed here.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ok() { echo "ok: $1 already at $2"; }
installing() { echo "installing $1 $2"; }
die() {
  echo "setup: error: $*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# Two setups at once (say run.sh and test.sh) must not race on `cargo install`.
exec 9>"${TMPDIR:-/tmp}/latchkey-setup.lock"
if ! flock -n 9; then
  echo "setup: waiting for another scripts/setup.sh to finish..."
  flock 9
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  have sudo || die "not root and no sudo: cannot install Debian packages"
  SUDO=(sudo)
fi

# ---------------------------------------------------------------- Rust toolchain
have rustup || die "rustup not found (install Rust with rustup first; rust-version in Cargo.toml)"
have cargo || die "cargo not found on PATH"
rustc_version="$(rustc --version | awk '{print $2}')"

installed_targets="$(rustup target list --installed)"
for target in "${RUST_TARGETS[@]}"; do
  if grep -qx "$target" <<<"$installed_targets"; then
    ok "rust target $target" "$rustc_version"
  else
    installing "rust target $target" "$rustc_version"
    rustup target add "$target"
  fi
done

installed_components="$(rustup component list --installed)"
for component in "${RUST_COMPONENTS[@]}"; do
  if grep -q "^$component\(-\|$\)" <<<"$installed_components"; then
    ok "rust component $component" "$rustc_version"
  else
    installing "rust component $component" "$rustc_version"
    rustup component add "$component"
  fi
done

# ---------------------------------------------------------------- cargo tools
# cargo-leptos: 0.3.11 needs rustc 1.96, so it is pinned (and must be --locked).
cargo_leptos_version() { cargo leptos --version 2>/dev/null | awk '{print $2}'; }
current="$(cargo_leptos_version || true)"
if [ "$current" = "$CARGO_LEPTOS_VERSION" ]; then
  ok cargo-leptos "$current"
else
  installing cargo-leptos "$CARGO_LEPTOS_VERSION${current:+ (found $current)}"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --force
  current="$(cargo_leptos_version || true)"
  [ "$current" = "$CARGO_LEPTOS_VERSION" ] ||
    die "cargo-leptos on PATH ($(command -v cargo-leptos || echo none)) is '${current:-none}', expected $CARGO_LEPTOS_VERSION: remove the other copy or fix PATH"
fi

# wasm-bindgen CLI: cargo-leptos runs whatever is on PATH; it must equal the crate in
# Cargo.lock. Installed WITHOUT --locked (a locked dependency is not served here).
[ -f Cargo.lock ] || die "Cargo.lock is missing (run: cargo generate-lockfile)"
want_wb="$(lockfile_wasm_bindgen_version)"
[ -n "$want_wb" ] || die "no wasm-bindgen package in Cargo.lock"
wasm_bindgen_version() { wasm-bindgen --version 2>/dev/null | awk '{print $2}'; }
current="$(wasm_bindgen_version || true)"
if [ "$current" = "$want_wb" ]; then
  ok wasm-bindgen-cli "$current"
else
  installing wasm-bindgen-cli "$want_wb${current:+ (found $current)}"
  cargo install wasm-bindgen-cli --version "$want_wb" --force
  current="$(wasm_bindgen_version || true)"
  [ "$current" = "$want_wb" ] ||
    die "wasm-bindgen on PATH ($(command -v wasm-bindgen || echo none)) is '${current:-none}', expected $want_wb (Cargo.lock): remove the other copy or fix PATH"
fi

current="$(cargo nextest --version 2>/dev/null | awk 'NR==1 {print $2}' || true)"
if [ -n "$current" ]; then
  ok cargo-nextest "$current"
else
  installing cargo-nextest "latest"
  cargo install cargo-nextest --locked
  current="$(cargo nextest --version 2>/dev/null | awk 'NR==1 {print $2}' || true)"
  [ -n "$current" ] || die "cargo nextest still not available after installing it"
fi

# ---------------------------------------------------------------- Debian packages
deb_version() { dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null | awk '$1 == "installed" {print $2}'; }

apt_missing=()
chromium_version="$(deb_version chromium || true)"
if [ -n "$chromium_version" ] && [ -x /usr/bin/chromium ]; then
  ok chromium "$chromium_version"
else
  installing chromium "(Debian)"
  apt_missing+=(chromium)
fi

# The sqlite3 command: end-to-end tests age a session's login in the app's database.
sqlite_version="$(deb_version sqlite3 || true)"
if [ -n "$sqlite_version" ] && have sqlite3; then
  ok sqlite3 "$sqlite_version"
else
  installing sqlite3 "(Debian)"
  apt_missing+=(sqlite3)
fi

pg_pkg=""
for candidate in postgresql-15 postgresql; do
  v="$(deb_version "$candidate" || true)"
  if [ -n "$v" ]; then
    pg_pkg="$candidate"
    pg_version="$v"
    break
  fi
done
if [ -n "$pg_pkg" ] && postgres_bindir >/dev/null; then
  ok "$pg_pkg" "$pg_version"
else
  installing "PostgreSQL server" "(Debian postgresql-15, else postgresql)"
  apt_missing+=(postgres-server)
fi

# HAProxy: tests/load_balancer.rs runs two instances behind it, with the settings that
# docs/operations.md shows. Debian 12's 2.6 series (an LTS branch): the config relies on
# 2.6's documented retry and connection-reuse behaviour, so another series must not slip in.
# (The package's own service, on Debian's default configuration, listens on no port; the
# tests start their own haproxy.)
HAPROXY_SERIES="2.6"
haproxy_series() { awk -F'[.:-]' '{ sub(/^[0-9]+:/, ""); print $1 "." $2 }' <<<"$1"; }
haproxy_version="$(deb_version haproxy || true)"
if [ -n "$haproxy_version" ] && [ -x /usr/sbin/haproxy ]; then
  [ "$(haproxy_series "$haproxy_version")" = "$HAPROXY_SERIES" ] ||
    die "haproxy $haproxy_version is installed, expected the $HAPROXY_SERIES series (Debian 12): install Debian 12's haproxy package"
  ok haproxy "$haproxy_version"
else
  installing haproxy "$HAPROXY_SERIES (Debian)"
  apt_missing+=(haproxy)
fi

if [ "${#apt_missing[@]}" -gt 0 ]; then
  have apt-get || die "apt-get not found: install ${apt_missing[*]} by hand"
  export DEBIAN_FRONTEND=noninteractive
  apt_log="$(mktemp "${TMPDIR:-/tmp}/latchkey-apt.XXXXXX")"
  "${SUDO[@]}" apt-get update -qq >"$apt_log" 2>&1 || {
    cat "$apt_log" >&2
    die "apt-get update failed"
  }
  if [[ " ${apt_missing[*]} " == *" haproxy "* ]]; then
    candidate="$(apt-cache policy haproxy 2>/dev/null | awk '$1 == "Candidate:" {print $2}')"
    [ "$(haproxy_series "${candidate:-none}")" = "$HAPROXY_SERIES" ] ||
      die "apt offers haproxy ${candidate:-(none)}, expected the $HAPROXY_SERIES series (Debian 12): install it by hand"
  fi
  packages=()
  for p in "${apt_missing[@]}"; do
    if [ "$p" = postgres-server ]; then
      if apt-cache show postgresql-15 >/dev/null 2>&1; then packages+=(postgresql-15); else packages+=(postgresql); fi
    else
      packages+=("$p")
    fi
  done
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >>"$apt_log" 2>&1 || {
    cat "$apt_log" >&2
    die "apt-get install ${packages[*]} failed"
  }
  rm -f "$apt_log"
  [ -x /usr/bin/chromium ] || die "chromium installed but /usr/bin/chromium is missing"
  postgres_bindir >/dev/null || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/postgres"
  if [[ " ${apt_missing[*]} " == *" haproxy "* ]]; then
    haproxy_version="$(deb_version haproxy || true)"
    [ -x /usr/sbin/haproxy ] || die "haproxy installed but /usr/sbin/haproxy is missing"
    [ "$(haproxy_series "$haproxy_version")" = "$HAPROXY_SERIES" ] ||
      die "apt-get installed haproxy ${haproxy_version:-(none)}, expected the $HAPROXY_SERIES series (Debian 12)"
  fi
fi

# ---------------------------------------------------------------- npm packages
have node || die "node not found (Node 20 is expected)"
have npm || die "npm not found"

# `npm ci` in $1 unless node_modules is at least as new as package-lock.json and the
# package $2 is installed at the version package.json pins.
npm_ci_if_needed() {
  local dir="$1" pkg="$2" want current
  want="$(node -p "require('./$dir/package.json').devDependencies['$pkg']")"
  current="$(node -p "try { require('./$dir/node_modules/$pkg/package.json').version } catch (e) { '' }")"
  if [ "$current" = "$want" ] && [ -f "$dir/node_modules/.package-lock.json" ] &&
    ! [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    ok "$pkg ($dir)" "$current"
  else
    installing "$pkg ($dir)" "$want${current:+ (found $current)}"
    # Never download Playwright's browsers: the tests use Debian's /usr/bin/chromium.
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    current="$(node -p "require('./$dir/node_modules/$pkg/package.json').version")"
    [ "$current" = "$want" ] || die "$pkg in $dir is $current after npm ci, expected $want"
  fi
}

npm_ci_if_needed end2end @playwright/test
npm_ci_if_needed end2end oidc-provider
# The webhook tests' receiver verifies signatures with the specification's own package.
npm_ci_if_needed end2end standardwebhooks
# Accessibility checks of every page (axe-core).
npm_ci_if_needed end2end @axe-core/playwright
npm_ci_if_needed tools/binaryen binaryen

# ---------------------------------------------------------------- Python tools
# A real SMTP server for the mail tests: aiosmtpd from PyPI, in a virtualenv of the
# repository (tools/python), started by the tests themselves.
AIOSMTPD_VERSION=1.4.6
venv="$ROOT/tools/python"
aiosmtpd_version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("aiosmtpd"))' 2>/dev/null || true)"
if [ "$aiosmtpd_version" = "$AIOSMTPD_VERSION" ]; then
  ok aiosmtpd "$aiosmtpd_version"
else
  installing aiosmtpd "$AIOSMTPD_VERSION${aiosmtpd_version:+ (found $aiosmtpd_version)}"
  have python3 || die "python3 not found"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi

wasm_opt="$ROOT/tools/binaryen/node_modules/.bin/wasm-opt"
wasm_opt_version="$("$wasm_opt" --version 2>/dev/null | awk '{print $3}' || true)"
[ "$wasm_opt_version" = "$BINARYEN_MAJOR" ] ||
  die "tools/binaryen wasm-opt reports '${wasm_opt_version:-nothing}', expected $BINARYEN_MAJOR"
