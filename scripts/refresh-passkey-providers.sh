#!/usr/bin/env bash
# Refreshes resources/passkey-providers/aaguid.json from the community list of passkey provider
# AAGUIDs (see resources/passkey-providers/SOURCE.md):
#
#   scripts/refresh-passkey-providers.sh [URL]
#
# The download is checked before it replaces the copy: a non-empty JSON object, every key an
# AAGUID, every entry a name, icons only as SVG data URIs. Prints the upstream commit to note
# in SOURCE.md.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

url="${1:-https://raw.githubusercontent.com/passkeydeveloper/passkey-authenticator-aaguids/main/aaguid.json}"
target="$ROOT/resources/passkey-providers/aaguid.json"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT

curl --fail --silent --show-error --location --max-time 60 "$url" -o "$tmp"
python3 - "$tmp" <<'PY'
import json, re, sys
with open(sys.argv[1], encoding="utf-8") as f:
    data = json.load(f)
if not isinstance(data, dict) or not data:
    sys.exit("the list is empty or not an object (upstream may have retired it): keeping the old copy")
aaguid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
for key, entry in data.items():
    if not aaguid.match(key):
        sys.exit(f"{key!r} is not a lower-case AAGUID")
    if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
        sys.exit(f"{key}: no name")
    for icon in ("icon_light", "icon_dark"):
        if icon in entry and not str(entry[icon]).startswith("data:image/svg+xml;base64,"):
            sys.exit(f"{key}: {icon} is not an SVG data URI")
print(f"{len(data)} providers")
PY
mv "$tmp" "$target"
trap - EXIT
echo "wrote $target; note the upstream commit in resources/passkey-providers/SOURCE.md:"
curl --fail --silent --max-time 30 \
  https://api.github.com/repos/passkeydeveloper/passkey-authenticator-aaguids/commits/main \
  | python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["sha"], c["commit"]["committer"]["date"])' 2>/dev/null \
  || echo "(could not ask GitHub for the commit)"
