#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run calls this) and what a
# contributor runs before pushing. Installs the pinned tools it needs.
#   bash scripts/test-all.sh
# FUZZ_SECONDS (default 30) bounds each fuzz target's run.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step says when it began (seconds since this script started), so a
# log shows where the time goes.
step() { printf '\n==> %s [%d s]\n' "$*" "$SECONDS"; }

# A throw-away PostgreSQL server on loopback for the cluster store's tests
# (MAIL2FA_TEST_POSTGRES), removed when this script ends. Without the server
# binaries those tests say SKIPPED — unless MAIL2FA_REQUIRE_POSTGRES=1 (CI).
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  step "PostgreSQL test server"
  trap 'bash scripts/pg-server.sh destroy' EXIT
  eval "$(bash scripts/pg-server.sh start)"
  export MAIL2FA_TEST_PG_CONTROL="bash $PWD/scripts/pg-server.sh"
  echo "started on 127.0.0.1:${MAIL2FA_PG_PORT:-55432}"
elif [ "${MAIL2FA_REQUIRE_POSTGRES:-}" = 1 ]; then
  echo "MAIL2FA_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries (apt-get install postgresql)" >&2
  exit 1
fi

step "format"
cargo fmt --all -- --check
(cd fuzz && cargo fmt -- --check)

step "layout: no import cycle between source files, no file under src/ over 700 lines"
python3 scripts/check-layout.py

step "rust-version: no dependency needs a newer Rust (clippy's incompatible_msrv guards our own code)"
python3 scripts/check-msrv.py

step "clippy (default features, all features with the tokio example, no QR)"
cargo clippy --all-targets -- -D warnings
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo clippy --lib --no-default-features --features capi -- -D warnings
cargo clippy --lib --tests --no-default-features --features capi,sqlite,config,postgres-plugin -- -D warnings

step "Rust tests (unit, integration, doc)"
cargo test --all-features
cargo test --no-default-features --lib --tests
cargo test --lib --no-default-features --features capi,sqlite,config,postgres-plugin plugin

step "the engine's scenario suites on SQLite and on PostgreSQL"
bash scripts/test-stores.sh

step "the tokio mail-server example (examples/tokio-mail-server) over TCP on SQLite and PostgreSQL"
cargo test -p mail2fa-example-tokio

step "mail2fa-server: the panel API and the portal (every route, tokens, errors, OpenAPI document, races, sign-in, forms), the binary; its bench briefly"
bash scripts/build-integrations.sh >/dev/null   # the Lua module its Dovecot password check loads
cargo test -p mail2fa-server
cargo test -p mail2fa-server --bench service

step "API documentation builds without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features --quiet

step "the crates.io package builds alone and cargo publish --dry-run warns of nothing"
# On a committed tree (CI's clone); cargo refuses uncommitted changes.
cargo publish --dry-run 2>&1 | tee target/publish-dry-run.out
if grep '^warning:' target/publish-dry-run.out | grep -vx 'warning: aborting upload due to dry run'; then
  echo "cargo publish --dry-run warned (above)" >&2
  exit 1
fi

step "header matches a fresh cbindgen run"
bash scripts/gen-header.sh --check

step "C and C++ tests under AddressSanitizer/UBSan, static and shared linking, exports"
bash scripts/test-c.sh

step "the demo (main job), the engine walkthrough and the devices example run"
cargo run --quiet --example demo >target/demo.out
grep -q "login, password+code:      allowed" target/demo.out
grep -q "the same string again:     refused  \[host log: Replayed\]" target/demo.out
grep -q "again, after a restart:    refused  \[host log: Replayed\]" target/demo.out
cargo run --quiet --example engine_walkthrough >target/engine_walkthrough.out
grep -q "same code again (replay)           -> client: Refused" target/engine_walkthrough.out
grep -q "right code while locked            -> client: Refused" target/engine_walkthrough.out
cargo run --quiet --example devices >target/devices.out
grep -q "outlook after activation                 -> client: Allowed; host: DeviceAuthorized" target/devices.out
grep -q "imap after the revoke                    -> client: Refused; host: WrongAppPassword" target/devices.out
grep -q "same client, same string, 10 min later   -> client: Allowed; host: DeviceTrusted" target/devices.out
echo "demo, engine walkthrough and devices example ok"

step "the operator tool's README walk-through runs"
bash scripts/operator-demo.sh >target/operator-demo.out
grep -q "Enrollment of alice@example.com on example.com confirmed: 2FA is active." target/operator-demo.out
grep -q "  INACTIVE  activesync  iPhone  " target/operator-demo.out
grep -q "Application password 1 of alice@example.com on example.com revoked." target/operator-demo.out
grep -q "^Unreadable   none" target/operator-demo.out
echo "operator walk-through ok"

step "a real Dovecot with the PAM module and the Lua passdb (IMAP, POP3)"
bash scripts/test-dovecot.sh

step "the portal in Chromium on a real stack (mail2fa-server, Dovecot, Postfix, SMS sink)"
bash scripts/test-portal.sh

step "nginx in front: auth_request for ActiveSync/EWS, the mail proxy for IMAP/POP3/SMTP"
bash scripts/test-nginx.sh

step "the Debian packages: built (scripts/build-debs.sh), lintian, paths, modes, stripping, SONAME"
bash scripts/build-debs.sh
bash scripts/check-debs.sh
# The whole benchmark (300 transactions per module and case) takes seconds
# once the modules are built: CI's log holds the same-run figures.
step "the PAM benchmark: pam_mail2fa beside pam_google_authenticator and pam_oath, fsyncs counted (BENCHMARKS.md)"
bash scripts/bench-pam.sh

step "the deployment guide, executed: its commands run literally (packages built and installed, Dovecot and Postfix set up), then IMAP, POP3 and SMTP as its table says"
bash scripts/test-guide.sh

step "the stores bench runs (briefly, unoptimised; figures: cargo bench --bench stores)"
cargo test --quiet --features postgres --bench stores

step "fuzz smoke runs"
bash scripts/fuzz-smoke.sh "${FUZZ_SECONDS:-30}"

step "all checks passed"
