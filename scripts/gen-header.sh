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
# The whole crate is read, as a plain `cbindgen --crate mail2fa` would; its
# expected notes (private items, the `capi` feature gate — the C API is always
# generated —, Rust-only types it cannot map) are filtered.
cbindgen --config cbindgen.toml --crate mail2fa --output "$out" \
  2> >(grep -v -e "^WARN: Skip " -e 'Missing `\[defines\]` entry for `feature = "\(capi\|sqlite\|postgres-plugin-export\)"`' \
    -e "^WARN: Can't find Digits" -e "^WARN: Can't find Protocol\." -e '^WARN: Cannot find a mangling for generic path .*"Hmac"' >&2)
# Every macro of the header is ours: a Rust constant that slipped in without
# the prefix is an error, not a silent addition to the C API.
if stray=$(grep -E '^#define ' "$out" | grep -Ev '^#define (M2FA_|MAIL2FA_H)'); then
  echo "the header defines names without the M2FA_ prefix (exclude them in cbindgen.toml):" >&2
  echo "$stray" >&2
  exit 1
fi
if [ "${1:-}" = "--check" ]; then
  if ! diff -u include/mail2fa.h "$out"; then
    echo "include/mail2fa.h is stale: run 'bash scripts/gen-header.sh' and commit it" >&2
    exit 1
  fi
  echo "header: include/mail2fa.h matches a fresh cbindgen $CBINDGEN_VERSION run"
fi
