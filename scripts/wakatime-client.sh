#!/usr/bin/env bash
# Installs the legacy WakaTime client the heartbeats tests drive (tests/it/heartbeats.rs)
# and prints the path of a wrapper that runs it. Idempotent: a second run reuses the venv.
#   1. a venv at ${RECKON_TEST_WAKATIME_VENV:-$HOME/.cache/reckon/wakatime-13.1.0}, made with
#      `python3 -m venv` (Debian: needs python3-venv for ensurepip);
#   2. wakatime==13.1.0 from PyPI, the last pure-Python release (later ones are a Go binary
#      downloaded at run time, which this workplace cannot fetch);
#   3. a sitecustomize.py shim in $venv/reckon-shim: 13.1.0 vendors old requests/urllib3
#      that import Mapping, Callable, ... from `collections`, gone since Python 3.10, so
#      the shim copies them back from `collections.abc`;
#   4. two wrappers that put the shim on PYTHONPATH: $venv/bin/reckon-wakatime (the
#      client; its path is what this script prints) and $venv/bin/reckon-wakatime-python
#      (the venv's python, for driving the client's own code, e.g. `--today`).
# Usage: client=$(bash scripts/wakatime-client.sh) && "$client" --version
set -euo pipefail

venv="${RECKON_TEST_WAKATIME_VENV:-$HOME/.cache/reckon/wakatime-13.1.0}"
wrapper="$venv/bin/reckon-wakatime"

# Everything but the final path goes to stderr, so `$(...)` captures only the path.
if [ -x "$wrapper" ] && [ -x "$venv/bin/wakatime" ] && [ -f "$venv/reckon-shim/sitecustomize.py" ] \
  && "$wrapper" --version >/dev/null 2>&1; then
  echo "$wrapper"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 is missing; on Debian: apt-get install python3 python3-venv" >&2
  exit 1
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "error: python3 cannot make venvs (no ensurepip); on Debian: apt-get install python3-venv" >&2
  exit 1
fi

echo "== wakatime 13.1.0 into $venv" >&2
mkdir -p "$(dirname "$venv")"
# A half-made venv (an earlier run stopped midway) is made again from scratch.
if [ ! -x "$venv/bin/python" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'wakatime==13.1.0' >&2

mkdir -p "$venv/reckon-shim"
cat >"$venv/reckon-shim/sitecustomize.py" <<'PY'
# Loaded by Python at start-up (it is on PYTHONPATH): wakatime 13.1.0's vendored packages
# import these ABCs from `collections`, which lost them in Python 3.10.
import collections
import collections.abc

for _name in (
    "Callable", "Container", "Generator", "Hashable", "ItemsView", "Iterable", "Iterator",
    "KeysView", "Mapping", "MappingView", "MutableMapping", "MutableSequence", "MutableSet",
    "Sequence", "Set", "Sized", "ValuesView",
):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))
PY

# The wrappers find the venv from their own path, so the venv may be moved as a whole.
cat >"$wrapper" <<'SH'
#!/bin/sh
# wakatime 13.1.0 with the collections shim (made by scripts/wakatime-client.sh).
venv=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$venv/reckon-shim${PYTHONPATH:+:$PYTHONPATH}" exec "$venv/bin/wakatime" "$@"
SH
cat >"$venv/bin/reckon-wakatime-python" <<'SH'
#!/bin/sh
# The venv's python with the collections shim (made by scripts/wakatime-client.sh).
venv=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$venv/reckon-shim${PYTHONPATH:+:$PYTHONPATH}" exec "$venv/bin/python" "$@"
SH
chmod +x "$wrapper" "$venv/bin/reckon-wakatime-python"

"$wrapper" --version >/dev/null 2>&1 || {
  echo "error: $wrapper does not run; see: $wrapper --version" >&2
  exit 1
}
echo "$wrapper"
