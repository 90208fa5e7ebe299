#!/usr/bin/env bash
# Regenerates include/mail2fa.h from src/ffi/ with the pinned cbindgen.
#   bash scripts/gen-header.sh           write the header
#   bash scripts/gen-header.sh --check   fail if the committed header is stale
set -euo pipefail
cd "$(dirname "$0")/.."
CBINDGEN_VERSION=0.29.4
if ! cbindgen --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
  echo "installing cbindgen $CBINDGEN_VERSION" >&2
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
fi
out=include/mail2fa.h
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
fi
# Only src/ffi/ is the C API; cbindgen notes the private helpers it skips.
cbindgen --config cbindgen.toml --output "$out" src/ffi/mod.rs 2> >(grep -v "^WARN: Skip " >&2)
if [ "${1:-}" = "--check" ]; then
  if ! diff -u include/mail2fa.h "$out"; then
    echo "include/mail2fa.h is stale: run 'bash scripts/gen-header.sh' and commit it" >&2
    exit 1
  fi
  echo "header: include/mail2fa.h matches a fresh cbindgen $CBINDGEN_VERSION run"
fi
