#!/usr/bin/env bash
# Release build: target/release/latchkey and the optimised site in target/site, its files
# content-named (hash-files) and precompressed with brotli and gzip (served as such by
# src/server/assets.rs).
#
#   scripts/build-release.sh [extra cargo leptos build args]
#
# wasm-opt comes from tools/binaryen (npm binaryen 132, first on PATH via lib.sh): Debian's
# binaryen is too old and produces wasm that never hydrates.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

scripts/setup.sh
echo "wasm-opt: $(command -v wasm-opt) ($(wasm-opt --version))"
exec cargo leptos build --release --precompress --split "$@"
