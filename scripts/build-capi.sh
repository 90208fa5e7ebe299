#!/usr/bin/env bash
# Builds the C library: libmail2fa.so (with SONAME), libmail2fa.a,
# mail2fa.pc and the header, laid out as an install tree.
#
#   bash scripts/build-capi.sh                      # -> target/capi/{lib,include}
#   bash scripts/build-capi.sh --prefix /usr/local  # install there (may need root)
#
# Extra cargo flags may follow, e.g. --no-default-features (drops QR codes).
set -euo pipefail
cd "$(dirname "$0")/.."

prefix="$PWD/target/capi"
if [ "${1:-}" = "--prefix" ]; then
  # Absolute: the plugin's directory below it is fixed in the library.
  prefix=$(realpath -m "$2")
  shift 2
fi

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
if [ "$major" = "0" ]; then soname="libmail2fa.so.0.$minor"; else soname="libmail2fa.so.$major"; fi

# Rust users get an rlib; only this build turns on the C exports (`capi`),
# with SQLite (m2fa_engine_open) linked in and PostgreSQL
# (m2fa_engine_open_postgres, a configuration naming a PostgreSQL store) as
# a plugin (`postgres-plugin`): libmail2fa-postgres.so (plugins/postgres,
# PostgresStore with tokio-postgres, Tokio and rustls: ~2 MB that a SQLite
# installation does not need), loaded on first use from <libdir>/mail2fa/
# (beside the library, as /proc/self/maps names it), else from the directory fixed here at build
# time, MAIL2FA_PLUGIN_DIR: /usr/lib/<multiarch>/mail2fa (the Debian
# packages' place), or <prefix>/lib/mail2fa with --prefix. Never from an
# environment variable at run time (the PAM module runs in setuid programs).
# SONAME policy: libmail2fa.so.0.<minor> while the version is 0.x (each 0.x
# minor may change the ABI), libmail2fa.so.<major> from 1.0 on.
#
# The `dist` profile (Cargo.toml: fat LTO, one codegen unit, opt-level "z",
# opt-level 2-3 for mail2fa itself and its hash and cipher crates, panics
# still unwind) makes what ships; its output is target/dist/. The bundled
# SQLite is compiled without the extensions mail2fa never uses
# (LIBSQLITE3_FLAGS in .cargo/config.toml, every build).
#
# Packed relative relocations (DT_RELR, -z pack-relative-relocs): the
# relocation table shrinks from ~100 KB to ~2 KB. Needs binutils >= 2.38 and
# a glibc >= 2.36 to load the library (Debian 12 has both): used when a probe
# library linked with it loads and runs here, left out otherwise.
# scripts/build-integrations.sh and scripts/build-debs.sh link with it when
# libmail2fa.so has it.
relr=()
probe=$(mktemp -d)
printf 'static int answer = 42;\nint *where = &answer;\n' >"$probe/probe.c"
printf 'extern int *where;\nint main(void) { return *where != 42; }\n' >"$probe/main.c"
if cc -shared -fPIC -Wl,-z,pack-relative-relocs -o "$probe/libprobe.so" "$probe/probe.c" 2>/dev/null &&
  readelf -d "$probe/libprobe.so" | grep -q '(RELR)' &&
  cc -o "$probe/main" "$probe/main.c" -L"$probe" -lprobe -Wl,-rpath,"$probe" 2>/dev/null &&
  "$probe/main"; then
  relr=(-C link-arg=-Wl,-z,pack-relative-relocs)
fi
rm -rf "$probe"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch || true)
if [ -z "$multiarch" ]; then
  echo "build-capi: no multiarch name (dpkg-architecture -qDEB_HOST_MULTIARCH and gcc -print-multiarch gave none): the plugin's directory /usr/lib/<multiarch>/mail2fa cannot be fixed" >&2
  exit 1
fi
if [ "$prefix" = "$PWD/target/capi" ]; then
  MAIL2FA_PLUGIN_DIR=/usr/lib/$multiarch/mail2fa
else
  MAIL2FA_PLUGIN_DIR=$prefix/lib/mail2fa
fi
export MAIL2FA_PLUGIN_DIR
cargo rustc --profile dist --locked --lib --features capi,sqlite,config,postgres-plugin \
  --crate-type cdylib,staticlib "$@" \
  -- -C link-arg=-Wl,-soname,"$soname" "${relr[@]}"
# The plugin: one entry point (m2fa_postgres_plugin_v1), no SONAME (it is
# loaded by path, never linked against).
cargo rustc --profile dist --locked -p mail2fa-postgres --lib -- "${relr[@]}"

# Cargo's output: its target dir (CARGO_TARGET_DIR, relative to the
# repository root like cargo reads it here) or target/.
release="${CARGO_TARGET_DIR:-target}/dist"

libdir="$prefix/lib"
includedir="$prefix/include"
mkdir -p "$libdir/pkgconfig" "$includedir"
install -m 0755 "$release/libmail2fa.so" "$libdir/libmail2fa.so.$version"
ln -sf "libmail2fa.so.$version" "$libdir/$soname"
ln -sf "$soname" "$libdir/libmail2fa.so"
install -m 0644 "$release/libmail2fa.a" "$libdir/libmail2fa.a"
install -m 0644 include/mail2fa.h "$includedir/mail2fa.h"
# Not writable by group or others, as the loader requires.
install -d -m 0755 "$libdir/mail2fa"
install -m 0644 "$release/libmail2fa_postgres.so" "$libdir/mail2fa/libmail2fa-postgres.so"

cat > "$libdir/pkgconfig/mail2fa.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: mail2fa
Description: Two-factor authentication core for mail servers (TOTP/HOTP, otpauth URIs)
Version: $version
Libs: -L\${libdir} -lmail2fa
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
Cflags: -I\${includedir}
PC

echo "built mail2fa $version into $prefix (SONAME $soname; PostgreSQL plugin lib/mail2fa/libmail2fa-postgres.so, also looked for in $MAIL2FA_PLUGIN_DIR)"
echo "  PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs mail2fa"
