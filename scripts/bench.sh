#!/usr/bin/env bash
# `make bench`: every benchmark of the budgets in docs/design.md, then
# BENCHMARKS.md rewritten from what they printed. Loopback only; every
# phase is bounded. Expects `make build` to have run (the Makefile does).
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/bench
mkdir -p "$out"
began=$(date +%s)

echo "== load driver =="
cargo build --release -p peerportal-load
echo "== PeeringDB stand-in: Django + django-oauth-toolkit from PyPI (pinned) =="
venv=target/bench/django-venv
if [ ! -e "$venv/.installed" ] || [ loadtest/django/requirements.txt -nt "$venv/.installed" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r loadtest/django/requirements.txt
  touch "$venv/.installed"
fi
echo "== grant planning (criterion) =="
cargo bench -p domain --bench grant_planning -- --noplot 2>&1 | tee "$out/grant-planning.log"
echo "== console lists =="
cargo bench -p peerportal --bench console_lists | tee "$out/console-lists.md"
# The release binary the linker just wrote sits in the page cache in large
# folios, which map whole: the same 70 MB file then counts up to several MiB
# more RSS than when read back from disk, and more the more of it runs.
# Dropping the clean page cache first (root only; skipped otherwise) makes
# the RSS figures those of a binary started from disk, as in production.
sync
if echo 1 2>/dev/null > /proc/sys/vm/drop_caches; then page_cache="dropped before the load driver"; else page_cache="not dropped (not root)"; fi
echo "== logins, SSR, bundle: SQLite and PostgreSQL, one and two replicas =="
PEERPORTAL_LOAD_DJANGO="$venv/bin/python" bash scripts/with-postgres.sh target/release/peerportal-load | tee "$out/load.md"
node scripts/bundle.mjs check | tee "$out/bundle.txt"
took=$(( $(date +%s) - began ))

# "time:   [616.23 µs 650.12 µs 713.45 µs]" → "616.23 µs – 713.45 µs (estimate 650.12 µs)"
planning=$(grep -m1 'time:' "$out/grant-planning.log" | sed -E 's/.*\[([^ ]+ [^ ]+) ([^ ]+ [^ ]+) ([^ ]+ [^ ]+)\].*/\1 – \3 (estimate \2)/')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo " (with uncommitted changes)")
pg=$(for bin in /usr/lib/postgresql/*/bin; do "$bin/postgres" --version; done 2>/dev/null | sort -V | tail -n1)

{
  cat <<EOF
# Benchmarks

Written by \`make bench\` ($(date -u +%Y-%m-%d), took ${took} s after \`make build\`);
do not edit by hand — the notes at the end come from \`docs/benchmark-notes.md\`.
Budgets are those of \`docs/design.md\`.

- Commit: $commit
- Machine: $(nproc) × $cpu, $mem RAM, $(. /etc/os-release && echo "$PRETTY_NAME")
- Toolchain: $(rustc --version), $pg, Node $(node --version)
- Builds: the release profile of \`make build\` (no LTO, 16 codegen units);
  the WASM bundle with \`wasm-release\` (opt-level z, LTO) and wasm-opt.
- SQLite in WAL mode, \`synchronous=NORMAL\`; PostgreSQL a throwaway cluster
  with \`fsync=off\` (scripts/with-postgres.sh). Loopback HTTP only; the load
  driver runs on the same cores as the portal. Page cache: $page_cache.

Reproduce: \`make bench\` (all of it), or one part:
\`cargo bench -p domain --bench grant_planning\`,
\`cargo bench -p peerportal --bench console_lists\`,
\`bash scripts/with-postgres.sh target/release/peerportal-load --help\`,
\`node scripts/bundle.mjs check\`.

## Grant planning (budget: 10 000 customers × 1 000 networks in ≤ 1 ms)

\`domain/benches/grant_planning.rs\` (criterion, pure code): 10 000
customers (one or two ASNs, some associate, suspended or opted out), 1 000
PeeringDB networks with perms cycling 15/1/3/0, a person with 300 existing
affiliations (one in five manual).

| case | time (criterion 95% interval) |
|---|---|
| plan, 10 000 × 1 000, 300 existing | $planning |

## PeeringDB logins, \`/login\`, memory, first load

Budgets (docs/design.md): own time per repeat callback p50 ≤ 1 ms and
p99 ≤ 3 ms (SQLite, 10 000 customers, a person in 60 networks), p50 ≤ 3 ms
on PostgreSQL; ≥ 500 complete logins/s on 2 cores; portal CPU ≤ 0.5 ms per
complete login; SSR \`/login\` ≥ 10 000 req/s; RSS ≤ 30 MB idle and under a
login storm; first load of \`/login\` ≤ 100 KB brotli.

\`loadtest/\` (\`peerportal-load\`) drives the release binary from outside.

EOF
  sed 's/^### /### /' "$out/load.md"
  cat <<EOF

Bundle check of \`make test\` (\`node scripts/bundle.mjs check\`, Node's
brotli at quality 11 of the files the portal carries; it sends cargo-leptos's own brotli copies):

\`\`\`
$(cat "$out/bundle.txt")
\`\`\`

## Admin console list pages (budget: under 50 ms on the server)

\`server/benches/console_lists.rs\` seeds a fresh SQLite database with
10 000 customers, 2 000 users and 50 000 audit rows, starts the real server
on 127.0.0.1, logs in as a superadmin and asks for each list one request at
a time, both as the server function the hydrated page calls and as the whole
server-rendered page of a first load (client-side times, loopback HTTP
included).

EOF
  cat "$out/console-lists.md"
  echo
  cat docs/benchmark-notes.md
} > BENCHMARKS.md
echo "BENCHMARKS.md written (${took} s of benchmarks)"
