#!/usr/bin/env bash
# The library built by a real toolchain of its declared rust-version: Debian's
# rustc-web and cargo-web 1.85 (Debian 12 main; the same 1.85 is Debian 13's
# rustc), the toolchain a distribution packager of mail2fa meets. Checks the
# library with its default features, with none and with every feature (the
# operator's tool too), in target/msrv so the main build in target/ is not
# invalidated. The Debian cargo and rustc are called by their paths
# (/usr/bin); rustup's stay first on PATH.
#   bash scripts/check-msrv-build.sh            # installs the toolchain if missing, then checks
#   bash scripts/check-msrv-build.sh --install  # installs only (.ci/run, with the other packages)
# The dev-dependencies (tests, benches) may need a newer Rust
# (scripts/check-msrv.py lists them): only the library is built here.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: bookworm-security offers a newer rustc-web, which is not the MSRV.
debian_version="1.85.0+dfsg3-1~deb12u3"
packages=(rustc-web cargo-web libstd-rust-web-dev libstd-rust-web-1.85)
cargo=/usr/bin/cargo
rustc=/usr/bin/rustc

installed() {
  local package
  for package in "${packages[@]}"; do
    [ "$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null)" = "$debian_version" ] || return 1
  done
}

if ! installed; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "check-msrv-build: needs Debian's rustc-web $debian_version (apt-get); none here" >&2
    exit 1
  fi
  echo "installing ${packages[*]} $debian_version"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --allow-downgrades "${packages[@]/%/=$debian_version}" >/dev/null
fi
if [ "${1:-}" = "--install" ]; then
  exit 0
fi

# The toolchain must be the version Cargo.toml declares, or this proves nothing.
declared=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
actual=$("$rustc" --version | cut -d' ' -f2)
case "$actual" in
  "$declared" | "$declared".*) ;;
  *)
    echo "check-msrv-build: $rustc is $actual, Cargo.toml's rust-version is $declared:" \
      "change the pinned Debian toolchain in this script with it" >&2
    exit 1
    ;;
esac

# Default features and none: what the issue asks. Every feature with the
# operator's tool: the C library's and a packager's build (its own code has no
# other check on this toolchain: clippy's incompatible_msrv sees library items,
# not syntax such as let-chains).
export RUSTC="$rustc" RUSTDOC=/usr/bin/rustdoc CARGO_TARGET_DIR="$PWD/target/msrv"
for args in "--lib" "--lib --no-default-features" "--lib --bins --all-features"; do
  started=$SECONDS
  # shellcheck disable=SC2086 # $args is a list of words
  "$cargo" check --quiet --locked $args
  echo "rust $actual (Debian $debian_version): cargo check $args ok in $((SECONDS - started)) s"
done
