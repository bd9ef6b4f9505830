#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests and benchmarks (Debian's postgresql, scripts/install-deps.sh).
#   scripts/postgres.sh start DIR       initdb in DIR, start on a free loopback port with its own Unix
#                                       socket directory (DIR/socket), create the database `bridge`
#                                       with pg_trgm, print its postgres:// URL (TCP, with a password)
#   scripts/postgres.sh socket-url DIR  print the same database's URL through the Unix socket
#   scripts/postgres.sh stop DIR        stop the server and remove DIR (quietly if it never started)
# DIR is created if missing. As root (CI), the server runs as the `postgres` user (initdb refuses
# root), which then owns DIR; DIR's parents must let it through (mktemp -d's /tmp/tmp.* does).
# The cluster is UTF-8 with LC_CTYPE C.UTF-8, so pg_trgm makes trigrams of Japanese and Chinese text.
# fsync is off: the data is thrown away, and the tests measure nothing that fsync would change.
set -euo pipefail
bin=${POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
usage() { echo "usage: $0 start|socket-url|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
dir=$2

as_owner=()
if [ "$(id -u)" = 0 ]; then as_owner=(runuser -u postgres --); fi

case "$command" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || { echo "$dir is not empty" >&2; exit 1; }
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  password=$(openssl rand -hex 16)
  "${as_owner[@]}" bash -c "umask 077 && printf '%s\n' '$password' > '$dir/password'"
  "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U bridge --pwfile="$dir/password" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  "${as_owner[@]}" mkdir "$dir/socket"
  started=
  for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null; then
      started=1
      break
    fi
  done
  [ -n "$started" ] || { tail -20 "$dir/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  psql=(psql -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$port" -U bridge)
  "${psql[@]}" -d postgres -c "CREATE DATABASE bridge" >/dev/null
  "${psql[@]}" -d bridge -c "CREATE EXTENSION pg_trgm" >/dev/null
  echo "postgres://bridge:$password@127.0.0.1:$port/bridge?sslmode=disable"
  ;;
socket-url)
  echo "postgres://bridge@/bridge?host=$(cd "$dir" && pwd)/socket&port=$(cat "$dir/port")"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  fi
  rm -rf "$dir"
  ;;
*) usage ;;
esac
