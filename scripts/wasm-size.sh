#!/usr/bin/env bash
# What the browser downloads, and what its bytes are: the shipped main wasm module's size
# (raw, gzip, brotli, as precompressed by the release build), what each lazily loaded page
# adds (its own module and the shared chunks the split manifest lists for it), and the share
# of each crate in the whole app's code, from twiggy over the compiler's output before the
# split (the shipped files have no names left; the shares are of the code before
# wasm-bindgen and wasm-opt, which shrink every crate alike).
#
#   scripts/build-release.sh && scripts/wasm-size.sh
#
# twiggy is installed on first use (pinned); it is only needed here.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

TWIGGY_VERSION=0.7.0
if [ "$(twiggy --version 2>/dev/null | awk '{print $2}')" != "$TWIGGY_VERSION" ]; then
  cargo install twiggy --locked --version "$TWIGGY_VERSION" --force
fi

named=target/front/wasm32-unknown-unknown/wasm-release/latchkey.wasm
shipped=$(ls -t target/site/pkg/latchkey.*.wasm 2>/dev/null | head -1 || true)
if [ ! -f "$named" ] || [ -z "$shipped" ]; then
  echo "no release wasm: run scripts/build-release.sh first" >&2
  exit 1
fi

size() { stat -c %s "$1"; }
echo "main module: $(size "$shipped") B raw, $(size "$shipped.gz") B gzip, $(size "$shipped.br") B brotli ($(basename "$shipped"))"
echo
manifest=$(ls -t target/site/pkg/__wasm_split_manifest.*.json 2>/dev/null | head -1 || true)
if [ -n "$manifest" ]; then
  echo "| lazily loaded page | files | its own module gzip | shared chunks gzip | with the main module gzip |"
  echo "|---|---:|---:|---:|---:|"
  python3 - "$manifest" "$shipped" <<'PY'
import glob, json, os, re, sys
manifest, main = sys.argv[1], sys.argv[2]
pkg = os.path.dirname(manifest)
gz = lambda path: os.path.getsize(path + ".gz")
for split, chunks in sorted(json.load(open(manifest)).items()):
    own = glob.glob(os.path.join(pkg, f"split_{split}.*.wasm"))[0]
    shared = sum(gz(os.path.join(pkg, chunk + ".wasm")) for chunk in chunks)
    page = re.sub(r"^__|_view_[0-9]+$", "", split)
    total = gz(main) + gz(own) + shared
    print(f"| {page} | {len(chunks) + 1} | {gz(own)} | {shared} | {total} |")
PY
  echo
fi
echo "| crate | code bytes (before wasm-opt) | share | functions |"
echo "|---|---:|---:|---:|"
# twiggy's text table ("bytes ┊ percent ┊ item"): its CSV quotes names awk cannot split.
twiggy top -n 1000000 "$named" | awk -F'┊' '
  NF < 3 || $1 !~ /[0-9]/ { next }
  {
    size = $1 + 0; name = $3
    sub(/^ +/, "", name)
    # Name sections, custom sections and the descriptors wasm-bindgen reads and removes are
    # not shipped; data segments are.
    if (name ~ /subsection|custom section|^__wbindgen_describe|^\.\.\. and|^Σ/) next
    crate = "(data and tables)"
    if (match(name, /[a-z_][a-z0-9_]*(\[[0-9a-f]+\])?::/)) {
      crate = substr(name, RSTART, RLENGTH - 2)
      sub(/\[.*/, "", crate)
    } else if (name !~ /^(data|elem|table|global|type)\[/) {
      crate = "(no crate in the name: glue, std intrinsics)"
    }
    bytes[crate] += size; count[crate]++
  }
  END { for (c in bytes) printf "%s\t%d\t%d\n", c, bytes[c], count[c] }' |
  sort -t$'\t' -k2,2nr |
  awk -F'\t' '
    { total += $2; if (NR <= 15) { line[NR] = $0 } else { rest += $2; restn += $3 } }
    END {
      for (i = 1; i <= 15 && i in line; i++) {
        split(line[i], f, "\t")
        printf "| %s | %d | %.1f %% | %d |\n", f[1], f[2], 100 * f[2] / total, f[3]
      }
      if (rest > 0) printf "| everything else | %d | %.1f %% | %d |\n", rest, 100 * rest / total, restn
      printf "| **all** | %d | 100 %% | |\n", total
    }'
