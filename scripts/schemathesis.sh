#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI document with schemathesis (`--checks all`):
# starts target/debug/reckon (or $RECKON_BIN) on a free loopback port and a temp data
# dir, with one api-key source and one Standard Webhooks source, reads the admin token
# the first start writes, seeds one org with a signed GitHub delivery (a fixture from
# ../shared; scripts/schemathesis.toml names it for the org routes), and runs a bounded
# fuzz (a few minutes at most).
#
# The intake routes (POST /hooks/github, POST /hooks/{source}, POST /submit, the
# heartbeat routes: POST …/heartbeats(.bulk), GET /api/v1/heartbeats, and the page-view
# beacons and events, whose hits are refused silently or counted) are left
# out of the full run: every request they take must carry an HMAC over its exact body (or
# an API key issued by `reckon keys`), which generated requests cannot, so each case
# stops at 401 before what the document describes is reached, and "valid" data from the
# schema is refused by design (positive_data_acceptance, negative_data_rejection and
# missing_required_header cannot hold). A second, short run fuzzes them with the checks
# that do hold for unsigned requests: no 5xx, and every answer documented, with its
# content type and body. tests/it/contract.rs, sources.rs and github_webhooks.rs cover
# signed requests. The live streams (the WebSocket at /api/v1/live, the event streams at
# /api/v1/sites/{site}/live and /api/v1/deliveries/live) never end, so they are not fuzzed: tests/it/pageviews.rs.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
if ! schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION (pip)"
  python3 -m pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  hash -r
fi

bin=${RECKON_BIN:-$PWD/target/debug/reckon}
if [ ! -x "$bin" ]; then
  cargo build --locked --bin reckon
fi

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/reckon.toml" <<'TOML'
[sources.ci]
auth = "standard-webhooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

[sources.game-servers]
auth = "api-key"
TOML

# One page-views site, for the site routes (scripts/schemathesis.toml names it).
RECKON_LOG_LEVEL=warn "$bin" --config "$work/reckon.toml" --data-dir "$work/data" \
  sites add blog.test --origin https://blog.test >/dev/null
RECKON_LOG_LEVEL=warn "$bin" --config "$work/reckon.toml" --data-dir "$work/data" \
  serve --listen "127.0.0.1:$port" >"$work/reckon.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  if [ -s "$work/data/admin-token" ] \
    && python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
    break
  fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/reckon.log" >&2; echo "error: reckon did not start" >&2; exit 1; }
  sleep 0.1
done
token=$(tr -d '[:space:]' <"$work/data/admin-token")

# One signed GitHub delivery, so an org exists for the org routes to find.
fixture=../shared/fixtures/github-webhooks/pull_request/opened.with-organization.payload.json
org=$(python3 - "$port" "$work/data/github-webhook-secret" "$fixture" <<'PY'
import hashlib, hmac, json, sys, urllib.request
port, secret_file, fixture = sys.argv[1:]
body = open(fixture, "rb").read()
secret = open(secret_file).read().strip().encode()
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/hooks/github",
    data=body,
    method="POST",
    headers={
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-github-delivery": "schemathesis-seed-1",
        "x-hub-signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
    },
)
urllib.request.urlopen(request, timeout=10).read()
print(json.loads(body)["organization"]["login"])
PY
)
export SCHEMATHESIS_ORG="$org"

echo "== schemathesis against http://127.0.0.1:$port/api/v1/openapi.json"
status=0
# Constraints between parameters the document cannot state: scripts/schemathesis_hooks.py.
# Run from the temp dir, so schemathesis's cache lands there and not in the checkout.
scripts=$PWD/scripts
(cd "$work" && PYTHONPATH="$scripts${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks \
  schemathesis --config-file "$scripts/schemathesis.toml" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --checks all \
  -H "Authorization: Bearer $token" \
  --exclude-path /hooks/github --exclude-path '/hooks/{source}' --exclude-path /submit \
  --exclude-path '/api/v1/users/{user}/heartbeats' --exclude-path '/api/v1/users/{user}/heartbeats.bulk' \
  --exclude-path /api/v1/heartbeats \
  --exclude-path /api/v1/beacon --exclude-path /api/v1/beacon/log --exclude-path /api/event \
  --exclude-path /api/v1/live --exclude-path '/api/v1/sites/{site}/live' \
  --exclude-path /api/v1/deliveries/live \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-20}" \
  --phases examples,coverage,fuzzing \
  --max-time "${SCHEMATHESIS_MAX_TIME:-120}" \
  --request-timeout 10 \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 2 \
  --no-color \
  --report junit --report-dir "$work/report") || status=$?

# The intake routes, with the checks that hold for unsigned requests: no 5xx, and every
# answer (401, 400, 404, 415, ...) documented, with its documented content type and body.
if [ "$status" -eq 0 ]; then
  echo "== schemathesis: intake routes (unsigned requests, conformance checks only)"
  (cd "$work" && schemathesis --config-file "$scripts/schemathesis.toml" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,unsupported_method \
    --include-path /hooks/github --include-path '/hooks/{source}' --include-path /submit \
    --include-path '/api/v1/users/{user}/heartbeats' --include-path '/api/v1/users/{user}/heartbeats.bulk' \
    --include-path /api/v1/heartbeats \
    --include-path /api/v1/beacon --include-path /api/v1/beacon/log --include-path /api/event \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-20}" \
    --phases coverage,fuzzing \
    --max-time "${SCHEMATHESIS_INTAKE_MAX_TIME:-30}" \
    --request-timeout 10 \
    --seed "${SCHEMATHESIS_SEED:-1}" \
    --workers 2 \
    --no-color) || status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "--- reckon's log" >&2
  tail -n 50 "$work/reckon.log" >&2
fi
exit "$status"
