#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 with a `plitka` database that the
# `postgres` role (password `postgres`) can use; start or install it if needed. CI only.
set -euo pipefail

as_postgres() { runuser -u postgres -- "$@"; }
ready() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }

if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "Installing PostgreSQL with apt..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
fi

if ! ready; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "Starting PostgreSQL $version..."
  pg_ctlcluster --skip-systemctl-redirect "$version" main start \
    || pg_ctlcluster "$version" main start
  for _ in $(seq 1 100); do ready && break; sleep 0.2; done
fi
ready || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }

# Password auth is the Debian default over TCP; trust auth ignores the password.
as_postgres psql -q -c "ALTER ROLE postgres WITH PASSWORD 'postgres'" >/dev/null
as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname='plitka'" | grep -q 1 \
  || as_postgres createdb plitka
