#!/usr/bin/env bash
# Runs the Playwright suite against the portal on a throwaway database,
# then stops it. Loopback only. The server is the one `make unit` built
# (PEERPORTAL_BIN to use another, e.g. target/release/peerportal); the
# bundle is the release one of `make site` in target/site.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${E2E_PORT:-3100}
work=$(mktemp -d)
server_pid=""
smtp_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$smtp_pid" ] && kill "$smtp_pid" 2>/dev/null && wait "$smtp_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export PEERPORTAL_DATABASE_URL="sqlite://$work/e2e.db"
export PEERPORTAL_SECRET_KEY_FILE="$work/secret.key"
export PEERPORTAL_LISTEN="127.0.0.1:$port"
export PEERPORTAL_PUBLIC_URL="http://127.0.0.1:$port"
export LEPTOS_ENV=PROD
# Demo mode: the demo customers and the built-in PeeringDB simulator, the
# same flow a newcomer clicks through after `make run`.
export PEERPORTAL_DEMO=true
# The stories sign the superadmin in with a password alone; the policy that
# sends a superadmin to set up two-factor first is tested in the API suite.
export PEERPORTAL_REQUIRE_2FA=off
export E2E_ADMIN_PASSWORD="e2e admin password"
bin=${PEERPORTAL_BIN:-target/debug/peerportal}

# A real SMTP server (Debian's python3-aiosmtpd) on loopback: the portal's
# mail goes there, and the stories read the links from what it received.
smtp_port=${E2E_SMTP_PORT:-2526}
export E2E_MAIL_DIR="$work/mail"
/usr/bin/python3 scripts/mailsink.py --dir "$E2E_MAIL_DIR" --port "$smtp_port" >"$work/smtp.log" 2>&1 &
smtp_pid=$!
for _ in $(seq 100); do grep -q "listening" "$work/smtp.log" 2>/dev/null && break; sleep 0.1; done
grep -q "listening" "$work/smtp.log" || { echo "FAIL: the test SMTP server did not start"; cat "$work/smtp.log"; exit 1; }
export PEERPORTAL_SMTP_URL="smtp://127.0.0.1:$smtp_port?tls=none"
export PEERPORTAL_MAIL_FROM="Demo IX portal <portal@ix.example>"

PEERPORTAL_ADMIN_PASSWORD="$E2E_ADMIN_PASSWORD" "$bin" admin create --username e2e-admin --email e2e@example.net >/dev/null
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!

# The client secret must never be in what the browser downloads.
if grep -a -q -e "peerportal-demo-secret" -e "PEERINGDB_OAUTH_CLIENT_SECRET" -e "client_secret" target/site/pkg/*; then
  echo "FAIL: a client secret (or its setting) is in the WASM/JS/CSS bundle"; exit 1
fi
echo "bundle check: no client secret in target/site/pkg"

mkdir -p end2end/artifacts
status=0
(cd end2end && BASE_URL="http://127.0.0.1:$port" npx playwright test) || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log ---"; tail -n 50 "$work/server.log"
fi
exit "$status"
