#!/usr/bin/env bash
# Starts Debian's PostgreSQL (installed by install-deps.sh) for the tests, with a role
# that may create databases, and prints its URL. Each test server makes its own database.
#
#   DOORSTEP_PG_PORT   the cluster's port (default 5432)
set -euo pipefail
# Only the URL goes to stdout: pg_ctlcluster and friends may print notes (such as
# "Removed stale pid file.") that would otherwise end up in the caller's URL.
exec 3>&1 1>&2

port=${DOORSTEP_PG_PORT:-5432}
role=doorstep_test
password=doorstep_test

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v pg_lsclusters >/dev/null; then
  echo "PostgreSQL is not installed; run scripts/install-deps.sh" >&2
  exit 1
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  as_root pg_createcluster "$version" main -p "$port" >/dev/null 3>&-
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  as_root pg_ctlcluster "$version" main start 3>&-
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 50); do
  as_postgres psql -p "$port" -Atqc "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.2
done
as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -Atq >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
# Databases left by earlier runs' tests.
for db in $(as_postgres psql -p "$port" -Atqc \
  "SELECT datname FROM pg_database WHERE datname LIKE 'doorstep\_t\_%'"); do
  as_postgres psql -p "$port" -Atqc "DROP DATABASE IF EXISTS $db" >/dev/null || true
done
echo "postgres://$role:$password@127.0.0.1:$port/postgres" >&3
