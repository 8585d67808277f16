#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster on a loopback port:
# installs Debian's postgresql when missing, initdb into a temp dir as an
# unprivileged user, starts it, exports PEERPORTAL_TEST_POSTGRES, runs the
# command, and always stops and deletes the cluster.
#
#   scripts/with-postgres.sh cargo test -p peerportal --test api
set -euo pipefail

# Below Linux's ephemeral range (32768-60999): a client socket of some
# test lingering in TIME_WAIT on the port once kept PostgreSQL from starting.
port=${PG_PORT:-25432}

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

if ! bin=$(pg_bin); then
  echo "installing PostgreSQL (Debian package)…"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  bin=$(pg_bin)
fi

# initdb refuses to run as root: the cluster belongs to an unprivileged user.
run_as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  run_as=(runuser -u postgres --)
fi

data=$(mktemp -d /tmp/peerportal-pg.XXXXXX)
chmod 755 "$data"
[ "$(id -u)" = 0 ] && chown postgres "$data"
stop() {
  "${run_as[@]}" "$bin/pg_ctl" -D "$data/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap stop EXIT

"${run_as[@]}" "$bin/initdb" -D "$data/db" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
# Loopback TCP only, the socket in the temp dir, fsync off: a test cluster.
"${run_as[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
  start >/dev/null
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway, $data)"

export PEERPORTAL_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
