#!/usr/bin/env bash
# Builds the Debian packages into target/debian/ (under the repository,
# whatever CARGO_TARGET_DIR says; cargo's own outputs go where it says):
#
#   bash scripts/build-debs.sh
#   bash scripts/check-debs.sh      # lintian and the layout checks
#
#   mail2fa          the operator tool, its configuration, man pages,
#                    completions, the daily purge (systemd timer, cron)
#   dovecot-mail2fa  the Lua module and passdb script for Dovecot
#   libpam-mail2fa   the PAM module and example PAM stacks
#   libmail2fa0.1    the C library (SONAME libmail2fa.so.0.1)
#   libmail2fa-dev   its header, pkg-config file and static library
#   mail2fa-postgres the PostgreSQL plugin, /usr/lib/<multiarch>/mail2fa/
#                    libmail2fa-postgres.so, which the C library and the
#                    modules load when a PostgreSQL store is asked for
#                    (the tool links PostgreSQL in). A package of its own,
#                    Recommended (of the same version) by libmail2fa0.1,
#                    libpam-mail2fa and dovecot-mail2fa: installed with
#                    them by default, left out by who runs SQLite alone
#                    (~2 MB of PostgreSQL client, TLS and async runtime);
#                    the modules link libmail2fa.a, so a plugin inside
#                    libmail2fa0.1 would make them depend on the shared
#                    library they do not use.
#
# One build of each artefact with Cargo.toml's `dist` profile (fat LTO,
# opt-level "z", the login path's crates at opt-level 2-3;
# scripts/build-integrations.sh runs scripts/build-capi.sh — the C library
# without PostgreSQL, then the plugin — and builds the modules; then the
# tool, on the same compiled dependencies as the plugin), staged
# trees under target/debian/stage/, and `dpkg-deb --root-owner-group
# --build`: no debhelper, no cargo-deb. The templates, maintainer scripts and
# units are in packaging/debian/. Version: Cargo.toml's, Debian revision -1.
#
# Needs: Rust >= 1.85 (stable through rustup, or Debian's rustc-web), and
#   apt-get install gcc libc6-dev libpam0g-dev liblua5.4-dev dpkg-dev binutils gzip
# Measured here (x86_64, 2 shared cores busy with other builds, crates
# already downloaded, an empty CARGO_TARGET_DIR): 5 min 10 s, 3 min 1 s of
# CPU (the library's build 3 min 13 s, the tool's 1 min 34 s); with the
# release profile before: 6 min 8 s, 3 min 43 s of CPU. (Before the
# PostgreSQL plugin, which adds one dist build of the mail2fa crate and a
# fat-LTO link: see the CI log's step times.)
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022
started=$(date +%s)

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
debversion="$version-1"
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
# The same SONAME rule as scripts/build-capi.sh; the library package is named
# for it (Debian policy 8.1), so a new SONAME needs new templates.
if [ "$major" = "0" ]; then soversion="0.$minor"; else soversion="$major"; fi
soname="libmail2fa.so.$soversion"
libpkg="libmail2fa$soversion"
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
maintainer="mail2fa developers <mail2fa@example.org>"
# The date of the last commit: the same tree gives the same changelog.
# Exported only after the cargo builds: the cc crate's build scripts (SQLite,
# ring) watch SOURCE_DATE_EPOCH, and a value the other builds of this tree
# (tests, benchmarks) do not have would compile them again, every time.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
date=$(date -u -R -d "@$epoch")

templates=packaging/debian
[ -f "$templates/$libpkg.control" ] || {
  echo "build-debs: no $templates/$libpkg.control: the SONAME is now $soname, the library package must be renamed" >&2
  exit 1
}
cargo_release="${CARGO_TARGET_DIR:-target}/dist"

echo "== cargo: C library, PAM and Lua modules, the tool (profile dist)"
bash scripts/build-integrations.sh
# Packed relative relocations for the tool too, when scripts/build-capi.sh
# linked the library with them (its probe: toolchain and glibc support them).
relr=()
if readelf -d target/capi/lib/libmail2fa.so | grep -q '(RELR)'; then
  relr=(-C link-arg=-Wl,-z,pack-relative-relocs)
fi
cargo rustc --profile dist --locked --features cli --bin mail2fa -- "${relr[@]}"
export SOURCE_DATE_EPOCH=$epoch

out=target/debian
stage="$out/stage"
rm -rf "$stage" "$out"/*.deb
mkdir -p "$stage"
packages=(mail2fa dovecot-mail2fa libpam-mail2fa "$libpkg" libmail2fa-dev mail2fa-postgres)
libdir="usr/lib/$multiarch"

# `install` with parents, mode given.
put() { # MODE SOURCE PKG/DEST
  install -D -m "$1" "$2" "$stage/$3"
}
# Strips as dh_strip does; prints the size before and after.
strip_elf() { # KIND FILE
  local before after
  before=$(stat -c %s "$2")
  case "$1" in
  shared) strip --remove-section=.comment --remove-section=.note --strip-unneeded "$2" ;;
  program) strip --remove-section=.comment --remove-section=.note "$2" ;;
  static) strip --strip-debug --remove-section=.comment --remove-section=.note \
    --enable-deterministic-archives "$2" ;;
  esac
  after=$(stat -c %s "$2")
  printf '  %-60s %10s -> %10s bytes\n' "${2#"$stage"/}" "$before" "$after"
}

echo "== staging"
# libmail2fa0.1: the shared library.
put 0644 "$cargo_release/libmail2fa.so" "$libpkg/$libdir/libmail2fa.so.$version"
ln -s "libmail2fa.so.$version" "$stage/$libpkg/$libdir/$soname"
# mail2fa-postgres: where the library's loader looks (its build-time
# directory, MAIL2FA_PLUGIN_DIR of scripts/build-capi.sh, and beside
# libmail2fa.so).
put 0644 target/capi/lib/mail2fa/libmail2fa-postgres.so "mail2fa-postgres/$libdir/mail2fa/libmail2fa-postgres.so"
# libmail2fa-dev
put 0644 include/mail2fa.h libmail2fa-dev/usr/include/mail2fa.h
put 0644 "$cargo_release/libmail2fa.a" "libmail2fa-dev/$libdir/libmail2fa.a"
ln -s "$soname" "$stage/libmail2fa-dev/$libdir/libmail2fa.so"
mkdir -p "$stage/libmail2fa-dev/$libdir/pkgconfig"
# build-capi's file, for the installed layout (its Libs.private list).
sed -e 's|^prefix=.*|prefix=/usr|' -e "s|^libdir=.*|libdir=\${prefix}/lib/$multiarch|" \
  target/capi/lib/pkgconfig/mail2fa.pc >"$stage/libmail2fa-dev/$libdir/pkgconfig/mail2fa.pc"
# libpam-mail2fa: the module and the stacks to copy (not installed in /etc/pam.d).
put 0644 target/integrations/pam_mail2fa.so "libpam-mail2fa/$libdir/security/pam_mail2fa.so"
for stack in integrations/pam/*.pam; do
  put 0644 "$stack" "libpam-mail2fa/usr/share/libpam-mail2fa/$(basename "$stack")"
done
# dovecot-mail2fa: Debian's Lua 5.4 searches /usr/lib/<multiarch>/lua/5.4/.
put 0644 target/integrations/mail2fa.so "dovecot-mail2fa/$libdir/lua/5.4/mail2fa.so"
put 0644 integrations/dovecot/mail2fa-passdb.lua dovecot-mail2fa/etc/dovecot/mail2fa-passdb.lua
# The script names the module's directory of x86_64 machines; this one's.
sed -i "s#/usr/lib/x86_64-linux-gnu/lua/5.4/#/usr/lib/$multiarch/lua/5.4/#" \
  "$stage/dovecot-mail2fa/etc/dovecot/mail2fa-passdb.lua"
for snippet in lua pam; do
  put 0644 "integrations/dovecot/auth-mail2fa-$snippet.conf" \
    "dovecot-mail2fa/etc/dovecot/conf.d/auth-mail2fa-$snippet.conf.ext"
done
# mail2fa: the tool and what it says about itself.
put 0755 "$cargo_release/mail2fa" mail2fa/usr/bin/mail2fa
put 0644 integrations/mail2fa.toml mail2fa/etc/mail2fa/mail2fa.toml
put 0644 integrations/mail2fa.toml mail2fa/usr/share/doc/mail2fa/mail2fa.toml
put 0644 "$templates/mail2fa.README.Debian" mail2fa/usr/share/doc/mail2fa/README.Debian
install -d -m 0700 "$stage/mail2fa/var/lib/mail2fa"
put 0755 "$templates/mail2fa.cron.daily" mail2fa/etc/cron.daily/mail2fa
for unit in mail2fa-purge.service mail2fa-purge.timer; do
  put 0644 "$templates/$unit" "mail2fa/lib/systemd/system/$unit"
done

echo "== stripping (size before -> after)"
strip_elf shared "$stage/$libpkg/$libdir/libmail2fa.so.$version"
strip_elf shared "$stage/mail2fa-postgres/$libdir/mail2fa/libmail2fa-postgres.so"
strip_elf static "$stage/libmail2fa-dev/$libdir/libmail2fa.a"
strip_elf shared "$stage/libpam-mail2fa/$libdir/security/pam_mail2fa.so"
strip_elf shared "$stage/dovecot-mail2fa/$libdir/lua/5.4/mail2fa.so"
strip_elf program "$stage/mail2fa/usr/bin/mail2fa"

echo "== man pages and completions (generated by the tool)"
tool="$stage/mail2fa/usr/bin/mail2fa"
man="$stage/mail2fa/usr/share/man/man1"
mkdir -p "$man"
"$tool" generate-man "$man" >/dev/null
gzip -9n "$man"/*.1
chmod 0644 "$man"/*.gz
echo "  $(find "$man" -name '*.1.gz' | wc -l) pages in /usr/share/man/man1"
mkdir -p "$stage/mail2fa/usr/share/bash-completion/completions" \
  "$stage/mail2fa/usr/share/zsh/vendor-completions" \
  "$stage/mail2fa/usr/share/fish/vendor_completions.d"
"$tool" completions bash >"$stage/mail2fa/usr/share/bash-completion/completions/mail2fa"
"$tool" completions zsh >"$stage/mail2fa/usr/share/zsh/vendor-completions/_mail2fa"
"$tool" completions fish >"$stage/mail2fa/usr/share/fish/vendor_completions.d/mail2fa.fish"

# Every package: copyright, changelogs, lintian overrides.
subst() { # TEMPLATE -> stdout
  sed -e "s|@DEBVERSION@|$debversion|g" -e "s|@VERSION@|$version|g" -e "s|@ARCH@|$arch|g" \
    -e "s|@LIBPKG@|$libpkg|g" -e "s|@SOVERSION@|$soversion|g" -e "s|@MAINTAINER@|$maintainer|g" \
    -e "s|@DATE@|$date|g" -e "s|@DEPENDS@|${depends:-}|g" \
    -e "s|@INSTALLED_SIZE@|${installed_size:-}|g" "$1"
}
for pkg in "${packages[@]}"; do
  doc="$stage/$pkg/usr/share/doc/$pkg"
  mkdir -p "$doc"
  install -m 0644 "$templates/copyright" "$doc/copyright"
  subst "$templates/changelog.in" | gzip -9n >"$doc/changelog.Debian.gz"
  gzip -9n <CHANGELOG.md >"$doc/changelog.gz"
  chmod 0644 "$doc"/*.gz
  if [ -f "$templates/$pkg.lintian-overrides" ]; then
    put 0644 "$templates/$pkg.lintian-overrides" "$pkg/usr/share/lintian/overrides/$pkg"
  fi
done

# dpkg-shlibdeps and dpkg-gensymbols read debian/control and
# debian/changelog: a minimal source package of our own, outside the tree.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
{
  printf 'Source: mail2fa\nMaintainer: %s\n' "$maintainer"
  for pkg in "${packages[@]}"; do printf '\nPackage: %s\nArchitecture: any\n' "$pkg"; done
} >"$work/debian/control"
subst "$templates/changelog.in" >"$work/debian/changelog"
here=$PWD

# The library's shlibs and symbols files: what dpkg-shlibdeps of packages
# linking it reads.
lib_control="$stage/$libpkg/DEBIAN"
mkdir -p "$lib_control"
printf 'libmail2fa %s %s (>= %s)\n' "$soversion" "$libpkg" "$version" >"$lib_control/shlibs"
# The committed packaging/debian/$libpkg.symbols lists every exported symbol
# with the version that brought it (and names libmail2fa-dev's version as the
# stricter one for packages building against it, deb-symbols(5)).
# `-c4`: the build fails when the library exports a symbol the file does not
# list or lacks one it lists — an ABI change is then a decision: add the new
# symbols with this version, or bump the SONAME for a removed one.
(cd "$work" && dpkg-gensymbols -q -c4 -p"$libpkg" -P"$here/$stage/$libpkg" -v"$version" \
  -I"$here/$templates/$libpkg.symbols" \
  -e"$here/$stage/$libpkg/$libdir/libmail2fa.so.$version" -O"$here/$lib_control/symbols")
install -m 0644 "$templates/$libpkg.triggers" "$lib_control/triggers"
chmod 0644 "$lib_control/shlibs" "$lib_control/symbols"

echo "== packages"
for pkg in "${packages[@]}"; do
  control="$stage/$pkg/DEBIAN"
  mkdir -p "$control"
  # Depends of the ELF files, as dpkg-shlibdeps finds them (the Lua module's
  # lua_* symbols come from the host process: not looked up).
  mapfile -t elves < <(find "$stage/$pkg" -type f -name '*.so*' -o -type f -path '*/usr/bin/*')
  depends=""
  if [ "$pkg" != libmail2fa-dev ] && [ "${#elves[@]}" -gt 0 ]; then
    args=()
    for elf in "${elves[@]}"; do args+=("-e$here/$elf"); done
    depends=$(cd "$work" && dpkg-shlibdeps -O --warnings=0 "${args[@]}" | sed -n 's/^shlibs:Depends=//p')
    # Packed relative relocations need glibc 2.36 (the GLIBC_ABI_DT_RELR
    # version), which dpkg-shlibdeps does not count.
    for elf in "${elves[@]}"; do
      if readelf -V "$elf" | grep -q 'Name: GLIBC_ABI_DT_RELR'; then
        depends=$(sed -E 's/libc6 \(>= 2\.(3[0-5]|[12][0-9]|[0-9])(\.[0-9]+)?\)/libc6 (>= 2.36)/' <<<"$depends")
        break
      fi
    done
  fi
  installed_size=$(du -k -s --apparent-size --exclude=DEBIAN "$stage/$pkg" | cut -f1)
  subst "$templates/$pkg.control" >"$control/control"
  # Files under /etc are conffiles (Debian policy 10.7.3).
  if [ -d "$stage/$pkg/etc" ]; then
    (cd "$stage/$pkg" && find etc -type f | sort | sed 's|^|/|') >"$control/conffiles"
  fi
  for script in preinst postinst prerm postrm; do
    if [ -f "$templates/$pkg.$script" ]; then install -m 0755 "$templates/$pkg.$script" "$control/$script"; fi
  done
  # md5sums of every file but the control area and the conffiles (dpkg
  # keeps theirs), as dh_md5sums writes them.
  (cd "$stage/$pkg" && find . \( -path ./DEBIAN -o -path ./etc \) -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 -r md5sum) >"$control/md5sums"
  chmod 0644 "$control/md5sums" "$control/control"
  find "$stage/$pkg" -type d -exec chmod go-w {} +
  # Times clamped to the last commit's: the same build gives the same .deb.
  find "$stage/$pkg" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0 -r touch -h -d "@$SOURCE_DATE_EPOCH"
  dpkg-deb --root-owner-group -Zxz --build "$stage/$pkg" "$out/${pkg}_${debversion}_${arch}.deb" >/dev/null
done

echo "== built in $(($(date +%s) - started)) s:"
for deb in "$out"/*.deb; do
  printf '  %-50s %9s bytes\n' "$deb" "$(stat -c %s "$deb")"
done
