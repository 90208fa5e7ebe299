#!/usr/bin/env bash
# The latency mail2fa's nginx gate adds (tests/nginx/latency.py): the same
# nginx with and without auth_request in front of a stub ActiveSync
# upstream, an authorized iPhone's Sync requests interleaved over
# keep-alive TLS; median, p90, p99 of each and the difference, for
# BENCHMARKS.md. Not part of the test suite. Needs what
# scripts/test-nginx.sh needs (as root), chromium aside.
#   bash scripts/bench-nginx.sh [--requests 2000]
# The service is built in release mode (as deployed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-integrations.sh >/dev/null
cargo build --quiet --release -p mail2fa-server
cargo build --quiet --release --features cli --bin mail2fa
bin="${CARGO_TARGET_DIR:-target}/release"
python3 -B tests/nginx/latency.py --server "$bin/mail2fa-server" --tool "$bin/mail2fa" \
  --lua-module target/integrations/mail2fa.so "$@"
