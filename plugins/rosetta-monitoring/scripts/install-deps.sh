#!/usr/bin/env bash
# What the plugin's checks need installed: its npm packages (npm ci, from the pinned lockfile) and Debian's
# chromium for the e2e check. Leaves node_modules/.installed, so that a later check knows they are in place.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

if [ ! -x /usr/bin/chromium ]; then
  echo "== install chromium"
  # apt-get needs root: through sudo for a developer's account (CI runs as root).
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

echo "== npm ci"
npm ci --no-audit --no-fund
touch node_modules/.installed
