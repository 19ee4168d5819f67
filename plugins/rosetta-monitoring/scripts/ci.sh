#!/usr/bin/env bash
# The whole check of the Backstage plugin, from a clean clone:
# npm ci (scripts/install-deps.sh, with Debian's chromium), type-check, lint, generated API types current, jest, plugin
# build, e2e against the demo. Assumes the project's venv at <repo>/.venv (make install-dev).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

if [ ! -x "$repo/.venv/bin/rosetta-monitoring" ]; then
  echo "missing $repo/.venv/bin/rosetta-monitoring: run 'make install-dev' first" >&2
  exit 1
fi

# `make test` installs them while the Python checks run; here, when they are missing or older than the lockfile.
if [ ! -x /usr/bin/chromium ] || [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  step "install chromium and npm packages"
  bash scripts/install-deps.sh
fi

step "type-check"
npm run -s tsc

step "lint (Backstage's rules)"
npm run -s lint

step "API types current with docs/openapi.json"
npm run -s types:check

step "component tests"
npm test -s

step "plugin build"
npm run -s build

step "e2e: demo API, dev app, headless chromium"
npm run -s e2e

step "all plugin checks passed"
