#!/bin/sh
# First start on an empty data directory: initdb with POSTGRES_USER as the superuser and
# POSTGRES_PASSWORD as its password (scram-sha-256 over TCP, trust over the local socket, as in the
# official image), then POSTGRES_DB. Later starts find PG_VERSION and only start the server.
set -eu
if [ "${1:-postgres}" = "postgres" ]; then
  [ $# -gt 0 ] && shift
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
      echo "armory-postgres: POSTGRES_PASSWORD must be set to initialise the database" >&2
      exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    printf '\nhost all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    if [ "$db" != "postgres" ]; then
      # Single-user mode: no listener is opened before the database exists.
      printf 'CREATE DATABASE "%s" OWNER "%s";\n' "$db" "$user" | postgres --single -j -D "$PGDATA" postgres >/dev/null
    fi
    echo "armory-postgres: initialised $PGDATA (user $user, database $db)"
  fi
  exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
