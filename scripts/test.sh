#!/usr/bin/env bash
# Runs Reckon's whole test suite, installing what it needs first:
#   1. Debian's chromium (apt) for the dashboard's browser tests, unless CHROMIUM_PATH is set,
#      and Debian's nginx and GoAccess 1.7 for the access-log tests (tests/it/logs.rs);
#   2. the dashboard's npm packages (npm ci, from package-lock.json);
#   3. the legacy WakaTime client (pip, `wakatime==13.1.0` in a venv) for the heartbeats
#      tests, and moto's server (pip, `moto[server]`) as the AWS stand-in, started on a free loopback
#      port, with the queue/scheduler/ECS/S3 part of terraform/ applied to it;
#   4. the Rust suite (cargo test --workspace): unit, integration, store and queue
#      conformance (SQLite, and SQS on moto), reconciliation against the GitHub stand-in,
#      the AWS side (tests/it/aws.rs), the built dashboard;
#   5. the API contract fuzz (scripts/schemathesis.sh): schemathesis (pip, pinned) runs
#      every check against target/debug/reckon and its served OpenAPI document;
#   6. the dashboard's type check and unit tests (tsc, Vitest);
#   7. the end-to-end tests: a real `reckon serve` seeded with signed fixture webhooks,
#      driven in headless Chromium; screenshots land in frontend/e2e/artifacts/;
#   8. the Terraform checks (terraform/test.sh): fmt, validate, `terraform test` with a
#      mocked provider, and checkov, all offline.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/fixtures/github-webhooks ]; then
  echo "error: ../shared/fixtures/github-webhooks is missing; keep shared/ next to this checkout" >&2
  exit 1
fi

packages=()
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then packages+=(chromium); fi
if [ -z "${RECKON_TEST_NGINX:-}" ] && [ ! -x /usr/sbin/nginx ]; then packages+=(nginx); fi
if [ -z "${RECKON_TEST_GOACCESS:-}" ] && [ ! -x /usr/bin/goaccess ]; then packages+=(goaccess); fi
if [ "${#packages[@]}" -gt 0 ]; then
  echo "== installing Debian's ${packages[*]} for the browser and access-log tests"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" \
    || { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"; }
fi

echo "== dashboard packages"
npm --prefix frontend ci --no-audit --no-fund --loglevel=error

echo "== the legacy WakaTime client (pip, wakatime==13.1.0, for tests/it/heartbeats.rs)"
RECKON_TEST_WAKATIME_CLIENT=$(bash scripts/wakatime-client.sh)
export RECKON_TEST_WAKATIME_CLIENT

echo "== moto (the AWS stand-in)"
if ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install -q --disable-pip-version-check 'moto[server]'
  hash -r
fi
work=$(mktemp -d)
moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $moto_port), 1)" 2>/dev/null; then break; fi
  kill -0 "$moto_pid" 2>/dev/null || { cat "$work/moto.log" >&2; echo "error: moto_server did not start" >&2; exit 1; }
  sleep 0.1
done
export RECKON_TEST_AWS_ENDPOINT="http://127.0.0.1:$moto_port"
echo "moto on $RECKON_TEST_AWS_ENDPOINT"

echo "== terraform/moto: apply the queue, scheduler, ECS and S3 parts to moto"
if bash terraform/moto/apply.sh "$RECKON_TEST_AWS_ENDPOINT" "$work/tf-outputs.json"; then
  export RECKON_TEST_AWS_TF_OUTPUTS="$work/tf-outputs.json"
else
  status=$?
  if [ "$status" -eq 3 ]; then
    echo "!! SKIPPED: terraform or its provider mirror is missing on this machine; the Rust"
    echo "!! tests against terraform-created resources do not run (see the lines above)."
  else
    echo "error: terraform/moto/apply.sh failed" >&2
    exit "$status"
  fi
fi

echo "== rust tests"
# reckon-job (the jobs crate's binary) is run by tests/it/reconcile_cli.rs; build it first.
cargo build --locked --workspace --bins
cargo test --locked --workspace

echo "== API contract fuzz (schemathesis against target/debug/reckon)"
bash scripts/schemathesis.sh

echo "== dashboard type check and unit tests"
npm --prefix frontend run --silent typecheck
npm --prefix frontend test --silent

echo "== dashboard end-to-end tests (headless chromium against target/debug/reckon)"
RECKON_BIN="$PWD/target/debug/reckon" npm --prefix frontend run --silent e2e

echo "== terraform: fmt, validate, terraform test (mocked provider), checkov"
bash terraform/test.sh
