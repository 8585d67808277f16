#!/usr/bin/env bash
# Runs the Playwright suite against a freshly built release server on a
# throwaway database, then stops the server. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${E2E_PORT:-3100}
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export PEERPORTAL_DATABASE_URL="sqlite://$work/e2e.db"
export PEERPORTAL_LISTEN="127.0.0.1:$port"
export PEERPORTAL_PUBLIC_URL="http://127.0.0.1:$port"
export LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD
export E2E_ADMIN_PASSWORD="e2e admin password"
bin=target/release/peerportal

PEERPORTAL_ADMIN_PASSWORD="$E2E_ADMIN_PASSWORD" "$bin" admin create --username e2e-admin --email e2e@example.net >/dev/null
"$bin" customers import fixtures/customers.csv >/dev/null
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!

mkdir -p end2end/artifacts
status=0
(cd end2end && BASE_URL="http://127.0.0.1:$port" npx playwright test) || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log ---"; tail -n 50 "$work/server.log"
fi
exit "$status"
