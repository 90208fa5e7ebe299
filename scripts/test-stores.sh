#!/usr/bin/env bash
# The engine's scenario suites on the durable stores: every engine they
# build sits on the backend named by MAIL2FA_TEST_STORE (tests/support), so
# the same tests prove SQLite and PostgreSQL. (Memory, the default backend,
# is covered by the plain `cargo test` run.) Each scratch database or schema
# is created explicitly (SqliteStore::create, PostgresStore::create): no
# opener of the library creates one by default.
#   eval "$(bash scripts/pg-server.sh start)"   # sets MAIL2FA_TEST_POSTGRES
#   bash scripts/test-stores.sh
# Without MAIL2FA_TEST_POSTGRES the PostgreSQL run is SKIPPED, or fails when
# MAIL2FA_REQUIRE_POSTGRES=1.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

# The suites that build engines on support::fresh_store(). (tests/security.rs
# is about the stateless layer: it has no store to vary.)
suites=(
  enrollment code_logins lockout account_changes corrupt_records
  device_tokens device_notifications protocol_policies app_passwords
  device_binding client_revocation login_requests last_seen_writes
  account_status platform_status record_checks
  enrollment_api one_call_login async_engine
  engine_codes round_trips
  engine_races
  engine_properties
  maintenance
)
args=()
for suite in "${suites[@]}"; do
  args+=(--test "$suite")
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=()

# Runs every suite on backend $1 and records its summary line.
run_backend() {
  local backend=$1 start=$SECONDS results counts
  step "engine suites on $backend"
  if ! MAIL2FA_TEST_STORE=$backend cargo test --all-features --no-fail-fast "${args[@]}" 2>&1 |
    tee "$log"; then
    echo "test-stores: $backend: FAILED (see above)" >&2
    exit 1
  fi
  # "test result: ok. 41 passed; 0 failed; 2 ignored; 0 measured; ..."
  results=$(grep -c '^test result: ' "$log" || true)
  if [ "$results" -ne "${#suites[@]}" ]; then
    echo "test-stores: $backend: $results test results for ${#suites[@]} suites" >&2
    exit 1
  fi
  counts=$(awk '/^test result: / {
      for (i = 1; i < NF; i++) {
        if ($(i + 1) == "passed;") passed += $i
        if ($(i + 1) == "ignored;") ignored += $i
      }
    } END { printf "%d passed, %d ignored", passed, ignored }' "$log")
  summary+=("$(printf '%-8s %s in %d suites, %ds' \
    "$backend" "$counts" "${#suites[@]}" $((SECONDS - start)))")
}

if [ -z "${MAIL2FA_TEST_POSTGRES:-}" ] && [ "${MAIL2FA_REQUIRE_POSTGRES:-0}" = 1 ]; then
  echo 'test-stores: MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_POSTGRES is not set' >&2
  # shellcheck disable=SC2016 # the command to type, not to expand
  echo '  (start a server: eval "$(bash scripts/pg-server.sh start)")' >&2
  exit 1
fi

run_backend sqlite
if [ -n "${MAIL2FA_TEST_POSTGRES:-}" ]; then
  run_backend postgres
else
  summary+=("postgres SKIPPED (MAIL2FA_TEST_POSTGRES is not set)")
fi

step "summary"
printf '%s\n' "${summary[@]}"
