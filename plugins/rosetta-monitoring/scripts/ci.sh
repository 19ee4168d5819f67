#!/usr/bin/env bash
# The whole check of the Backstage plugin, from a clean clone:
# npm ci, type-check, generated API types current, jest, plugin build, e2e against the demo.
# Assumes the project's venv at <repo>/.venv (make install-dev). Installs Debian's chromium if missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

if [ ! -x "$repo/.venv/bin/rosetta-monitoring" ]; then
  echo "missing $repo/.venv/bin/rosetta-monitoring: run 'make install-dev' first" >&2
  exit 1
fi

if [ ! -x /usr/bin/chromium ]; then
  step "install chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y --no-install-recommends chromium
fi

step "npm ci"
npm ci --no-audit --no-fund

step "type-check"
npm run -s tsc

step "API types current with docs/openapi.json"
npm run -s types:check

step "component tests"
npm test -s

step "plugin build"
npm run -s build

step "e2e: demo API, dev app, headless chromium"
npm run -s e2e

step "all plugin checks passed"
