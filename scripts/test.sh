#!/usr/bin/env bash
# Runs Reckon's whole test suite, installing what it needs first:
#   1. Debian's chromium (apt) for the dashboard's browser tests, unless CHROMIUM_PATH is set;
#   2. the dashboard's npm packages (npm ci, from package-lock.json);
#   3. the Rust suite (cargo test --workspace): unit, integration, store and queue
#      conformance, reconciliation against the GitHub stand-in, the built dashboard;
#   4. the dashboard's type check and unit tests (tsc, Vitest);
#   5. the end-to-end tests: a real `reckon serve` seeded with signed fixture webhooks,
#      driven in headless Chromium; screenshots land in frontend/e2e/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/fixtures/github-webhooks ]; then
  echo "error: ../shared/fixtures/github-webhooks is missing; keep shared/ next to this checkout" >&2
  exit 1
fi

if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium for the browser tests"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends chromium \
    || { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium; }
fi

echo "== dashboard packages"
npm --prefix frontend ci --no-audit --no-fund --loglevel=error

echo "== rust tests"
# reckon-job (the jobs crate's binary) is run by tests/reconcile_cli.rs; build it first.
cargo build --locked --workspace --bins
cargo test --locked --workspace

echo "== dashboard type check and unit tests"
npm --prefix frontend run --silent typecheck
npm --prefix frontend test --silent

echo "== dashboard end-to-end tests (headless chromium against target/debug/reckon)"
RECKON_BIN="$PWD/target/debug/reckon" npm --prefix frontend run --silent e2e
