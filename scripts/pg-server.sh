#!/usr/bin/env bash
# A throw-away PostgreSQL server on loopback for the PostgreSQL tests and
# benchmarks (Debian's postgresql package: `apt-get install postgresql`).
#
#   eval "$(bash scripts/pg-server.sh start)"   # prints export MAIL2FA_TEST_POSTGRES=...
#   bash scripts/pg-server.sh stop | start | status | destroy
#
# The cluster lives in a private directory under /tmp (recorded in
# target/pg-server-PORT.state), listens on 127.0.0.1:${MAIL2FA_PG_PORT:-55432}
# only, and requires a SCRAM password from its one role, mail2fa_test, which
# owns the database mail2fa_test. It offers TLS with a certificate of a test
# CA (MAIL2FA_TEST_PG_CA); the exported URL uses it as mail2fa's default does
# (sslmode=verify-full, sslrootcert= the test CA), so the tests run over
# verified TLS with SCRAM channel binding; MAIL2FA_TEST_POSTGRES_PLAIN is
# the same database with sslmode=disable. As root, the server runs as the
# `postgres` user. `start` after `stop` restarts the same cluster (same data).
set -euo pipefail
cd "$(dirname "$0")/.."

port=${MAIL2FA_PG_PORT:-55432}
state=target/pg-server-$port.state
bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/initdb" ] && bindir=$candidate
done
if [ -z "$bindir" ]; then
  echo "pg-server: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p target
if [ -f "$state" ]; then
  # shellcheck disable=SC1090
  . "$state"
fi

# The test CA, as the URL names it (an absolute path: the tests run in
# other directories).
ca_file() {
  echo "$PWD/target/pg-test-ca-$port.pem"
}

url() {
  echo "postgres://mail2fa_test:${password}@127.0.0.1:${port}/mail2fa_test?connect_timeout=5&sslmode=verify-full&sslrootcert=$(ca_file)"
}

plain_url() {
  echo "postgres://mail2fa_test:${password}@127.0.0.1:${port}/mail2fa_test?connect_timeout=5&sslmode=disable"
}

# A test CA, a server certificate for 127.0.0.1 only, and an unrelated CA,
# for the TLS tests. The CA files are copied to target/ for the tests (and
# the exported URL) to read.
make_certificates() {
  local d=$1
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 \
    -subj "/CN=mail2fa test CA" 2>/dev/null
  openssl req -x509 "${ec[@]}" -keyout "$d/other-ca.key" -out "$d/other-ca.pem" -days 30 \
    -subj "/CN=another CA" 2>/dev/null
  openssl req "${ec[@]}" -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/server.crt" -days 30 -extfile "$d/ext" 2>/dev/null
  chmod 600 "$d/server.key"
  [ "$(id -u)" -eq 0 ] && chown postgres "$d/server.key" "$d/server.crt"
  cp "$d/ca.pem" "target/pg-test-ca-$port.pem"
  cp "$d/other-ca.pem" "target/pg-other-ca-$port.pem"
}

running() {
  [ -n "${dir:-}" ] && [ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start() {
  if [ -z "${dir:-}" ] || [ ! -d "$dir/data" ]; then
    dir=$(mktemp -d /tmp/mail2fa-pg.XXXXXX)
    password=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy')
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    printf '%s\n' "$password" >"$dir/pw"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pw"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    make_certificates "$dir"
    cat >>"$dir/data/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 128MB
fsync = on
synchronous_commit = on
CONF
    printf 'dir=%q\npassword=%q\nport=%q\n' "$dir" "$password" "$port" >"$state"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE mail2fa_test LOGIN CREATEROLE PASSWORD '$password'" \
      -c "CREATE DATABASE mail2fa_test OWNER mail2fa_test" >/dev/null
  elif ! running; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
  fi
  echo "export MAIL2FA_TEST_POSTGRES='$(url)'"
  echo "export MAIL2FA_TEST_POSTGRES_PLAIN='$(plain_url)'"
  echo "export MAIL2FA_TEST_PG_CA='$(ca_file)'"
  echo "export MAIL2FA_TEST_PG_OTHER_CA='$PWD/target/pg-other-ca-$port.pem'"
}

case "${1:-start}" in
  start) start ;;
  stop)
    if running; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; fi ;;
  status)
    if running; then echo "running: $(url)"; else echo "stopped"; exit 3; fi ;;
  url) url ;;
  destroy)
    if running; then as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null; fi
    [ -n "${dir:-}" ] && rm -rf "$dir"
    rm -f "$state" "target/pg-test-ca-$port.pem" "target/pg-other-ca-$port.pem" ;;
  *) echo "usage: $0 start|stop|status|url|destroy" >&2; exit 2 ;;
esac
