#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 30 s each) from the
# committed seeds. Needs the nightly toolchain; installs the pinned cargo-fuzz.
#   bash scripts/fuzz-smoke.sh [seconds-per-target]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --quiet
fi
# The fuzz crate's lock must stand as committed (cargo-fuzz has no --locked).
(cd fuzz && cargo metadata --locked --format-version 1 >/dev/null) || {
  echo "fuzz/Cargo.lock is stale: run 'cargo metadata --format-version 1' in fuzz/ and commit it" >&2
  exit 1
}
targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build
for target in $targets; do
  mkdir -p "fuzz/corpus/$target"
  # The first directory is the (uncommitted) working corpus; seeds are read-only.
  if ! cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -max_len=4200 -print_final_stats=1 >"target/fuzz-$target.log" 2>&1; then
    tail -n 60 "target/fuzz-$target.log"
    echo "fuzz: $target FAILED (crash input under fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "target/fuzz-$target.log")
  echo "fuzz: $target ok, ${runs:-?} runs in ${seconds}s"
done
