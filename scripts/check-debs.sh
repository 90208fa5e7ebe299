#!/usr/bin/env bash
# Checks the packages scripts/build-debs.sh left in target/debian/:
#   - lintian on each: no error, no warning (the ones that do not apply are
#     overridden in packaging/debian/<package>.lintian-overrides, each with
#     the reason);
#   - the layout: the paths the deployment guide names, owners root:root,
#     modes (/var/lib/mail2fa 0700, nothing writable by others), no file
#     that looks like a secret, the conffiles;
#   - mail2fa-postgres Breaks every other version of the library and the
#     modules; those three look for it in /usr/lib/<multiarch>/mail2fa;
#   - each ELF file stripped, at most 3,000,000 bytes (the PostgreSQL plugin
#     2,500,000, the tool 8 MiB),
#     hardened (PIE or shared, full RELRO, BIND_NOW); the library's SONAME
#     libmail2fa.so.0.1.
# Exit status 1 on any failure.
#
#   bash scripts/build-debs.sh && bash scripts/check-debs.sh
#
# Needs: dpkg-dev, binutils, python3, lintian. Without lintian the lintian
# step is skipped with "SKIPPED: needs lintian", unless
# MAIL2FA_REQUIRE_E2E=1 (CI), which makes it a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=target/debian
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
debversion="$version-1"
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

packages=(mail2fa dovecot-mail2fa libpam-mail2fa libmail2fa0.1 libmail2fa-dev mail2fa-postgres)
debs=()
for pkg in "${packages[@]}"; do
  deb="$dir/${pkg}_${debversion}_${arch}.deb"
  if [ -f "$deb" ]; then debs+=("$deb"); else fail "missing $deb (run scripts/build-debs.sh)"; fi
done
[ "$failed" = 0 ] || exit 1

echo "== lintian"
if command -v lintian >/dev/null; then
  # Warnings fail as errors do; info and pedantic tags are printed only.
  if ! lintian --fail-on error,warning --display-info "${debs[@]}"; then
    fail "lintian"
  fi
  echo "lintian: done ($(lintian --version))"
elif [ "${MAIL2FA_REQUIRE_E2E:-0}" = 1 ]; then
  fail "lintian is not installed (apt-get install lintian)"
else
  echo "SKIPPED: needs lintian (apt-get install lintian)"
fi

echo "== contents"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for deb in "${debs[@]}"; do
  pkg=$(dpkg-deb -f "$deb" Package)
  dpkg-deb -c "$deb" >"$work/$pkg.list"
  mkdir -p "$work/$pkg/root" "$work/$pkg/control"
  dpkg-deb -x "$deb" "$work/$pkg/root"
  dpkg-deb -e "$deb" "$work/$pkg/control"
done

# The listings: paths, types, modes, owners, conffiles, secrets.
python3 - "$work" "$multiarch" "$debversion" <<'PY' || failed=1
import os
import re
import sys

work, multiarch, debversion = sys.argv[1:]
lib = f"/usr/lib/{multiarch}"
failures = []

# path -> (type, mode) — type: f file, d directory, l symlink (mode: target)
expected = {
    "libmail2fa0.1": {
        f"{lib}/libmail2fa.so.0.1.0": ("f", 0o644),
        f"{lib}/libmail2fa.so.0.1": ("l", "libmail2fa.so.0.1.0"),
    },
    "libmail2fa-dev": {
        "/usr/include/mail2fa.h": ("f", 0o644),
        f"{lib}/libmail2fa.so": ("l", "libmail2fa.so.0.1"),
        f"{lib}/libmail2fa.a": ("f", 0o644),
        f"{lib}/pkgconfig/mail2fa.pc": ("f", 0o644),
    },
    "libpam-mail2fa": {
        f"{lib}/security/pam_mail2fa.so": ("f", 0o644),
        "/usr/share/libpam-mail2fa/mail2fa-imap.pam": ("f", 0o644),
        "/usr/share/libpam-mail2fa/mail2fa-portal.pam": ("f", 0o644),
    },
    "dovecot-mail2fa": {
        f"{lib}/lua/5.4/mail2fa.so": ("f", 0o644),
        "/etc/dovecot/mail2fa-passdb.lua": ("f", 0o644),
        "/etc/dovecot/conf.d/auth-mail2fa-lua.conf.ext": ("f", 0o644),
        "/etc/dovecot/conf.d/auth-mail2fa-pam.conf.ext": ("f", 0o644),
    },
    "mail2fa-postgres": {
        f"{lib}/mail2fa": ("d", 0o755),
        f"{lib}/mail2fa/libmail2fa-postgres.so": ("f", 0o644),
    },
    "mail2fa": {
        "/usr/bin/mail2fa": ("f", 0o755),
        "/usr/share/man/man1/mail2fa.1.gz": ("f", 0o644),
        "/usr/share/man/man1/mail2fa-db-purge.1.gz": ("f", 0o644),
        "/usr/share/man/man1/mail2fa-account-enable.1.gz": ("f", 0o644),
        "/usr/share/bash-completion/completions/mail2fa": ("f", 0o644),
        "/usr/share/zsh/vendor-completions/_mail2fa": ("f", 0o644),
        "/usr/share/fish/vendor_completions.d/mail2fa.fish": ("f", 0o644),
        "/etc/mail2fa/mail2fa.toml": ("f", 0o644),
        "/var/lib/mail2fa": ("d", 0o700),
        "/lib/systemd/system/mail2fa-purge.service": ("f", 0o644),
        "/lib/systemd/system/mail2fa-purge.timer": ("f", 0o644),
        "/etc/cron.daily/mail2fa": ("f", 0o755),
        "/usr/share/doc/mail2fa/README.Debian": ("f", 0o644),
        "/usr/share/doc/mail2fa/mail2fa.toml": ("f", 0o644),
    },
}
conffiles = {
    "dovecot-mail2fa": {
        "/etc/dovecot/mail2fa-passdb.lua",
        "/etc/dovecot/conf.d/auth-mail2fa-lua.conf.ext",
        "/etc/dovecot/conf.d/auth-mail2fa-pam.conf.ext",
    },
    "mail2fa": {"/etc/mail2fa/mail2fa.toml", "/etc/cron.daily/mail2fa"},
}
# Names a secret would have (key files, tokens, passwords, private keys).
secret_name = re.compile(
    r"(^|[-_.])(keys?|secrets?|tokens?|passwords?|credentials?|shadow)$|\.(pem|key|p12|pfx)$|^id_(rsa|ed25519|ecdsa)"
)
# A 256-bit key as mail2fa's key files hold them (ID:KEY, 64 hex digits).
hex_key = re.compile(r"\b[0-9a-fA-F]{64}\b")
kinds = {"-": "f", "d": "d", "l": "l"}

for pkg, wanted in expected.items():
    found = {}
    with open(os.path.join(work, f"{pkg}.list")) as listing:
        for line in listing:
            perm, owner, _size, _date, _time, rest = line.rstrip("\n").split(None, 5)
            path, _, target = rest.partition(" -> ")
            path = path[1:].rstrip("/") or "/"
            kind = kinds.get(perm[0], perm[0])
            mode = 0
            for i, c in enumerate(perm[1:10]):
                if c != "-":
                    mode |= 1 << (8 - i)
            found[path] = (kind, target if kind == "l" else mode)
            if owner != "root/root":
                failures.append(f"{pkg}: {path} owned by {owner}, not root/root")
            if kind != "l" and mode & 0o002:
                failures.append(f"{pkg}: {path} is writable by others ({perm})")
            if kind == "f" and secret_name.search(os.path.basename(path)):
                failures.append(f"{pkg}: {path} looks like a secret")
            if kind == "f" and path.startswith("/etc/"):
                with open(os.path.join(work, pkg, "root", path[1:]), errors="replace") as f:
                    if hex_key.search(f.read()):
                        failures.append(f"{pkg}: {path} holds what looks like a key")
    for path, want in wanted.items():
        got = found.get(path)
        if got is None:
            failures.append(f"{pkg}: missing {path}")
        elif got != want:
            shown = lambda v: v if isinstance(v[1], str) else (v[0], oct(v[1]))
            failures.append(f"{pkg}: {path} is {shown(got)}, expected {shown(want)}")
    for doc in ("copyright", "changelog.Debian.gz"):
        if f"/usr/share/doc/{pkg}/{doc}" not in found:
            failures.append(f"{pkg}: missing /usr/share/doc/{pkg}/{doc}")
    listed = set()
    path = os.path.join(work, pkg, "control", "conffiles")
    if os.path.exists(path):
        listed = set(open(path).read().split())
    if listed != conffiles.get(pkg, set()):
        failures.append(f"{pkg}: conffiles {sorted(listed)}, expected {sorted(conffiles.get(pkg, set()))}")
    control = open(os.path.join(work, pkg, "control", "control")).read()
    if f"\nVersion: {debversion}\n" not in control:
        failures.append(f"{pkg}: control has not Version: {debversion}")
    print(f"{pkg}: {len(found)} entries, {len(wanted)} named paths checked")

lib_control = os.path.join(work, "libmail2fa0.1", "control")
if open(os.path.join(lib_control, "triggers")).read().split() != ["activate-noawait", "ldconfig"]:
    failures.append("libmail2fa0.1: triggers is not 'activate-noawait ldconfig'")
shlibs = open(os.path.join(lib_control, "shlibs")).read().split()
if shlibs[:3] != ["libmail2fa", "0.1", "libmail2fa0.1"]:
    failures.append(f"libmail2fa0.1: shlibs says {shlibs}")
# The modules and the library load the PostgreSQL plugin of their own
# version: each Recommends it (installed by default, optional for SQLite).
for pkg in ("libmail2fa0.1", "libpam-mail2fa", "dovecot-mail2fa"):
    control = open(os.path.join(work, pkg, "control", "control")).read()
    recommends = next((l for l in control.splitlines() if l.startswith("Recommends:")), "")
    if f"mail2fa-postgres (= {debversion})" not in recommends:
        failures.append(f"{pkg}: does not recommend mail2fa-postgres (= {debversion})")
# ... and the plugin breaks every other version of them: a plugin of
# another version is refused by the loader, so apt must not mix them.
plugin = open(os.path.join(work, "mail2fa-postgres", "control", "control")).read()
breaks = re.search(r"^Breaks:(.*)$", plugin, re.M)
broken = {b.strip() for b in breaks.group(1).split(",")} if breaks else set()
for pkg in ("libmail2fa0.1", "libpam-mail2fa", "dovecot-mail2fa"):
    for relation in (f"{pkg} (<< {debversion})", f"{pkg} (>> {debversion})"):
        if relation not in broken:
            failures.append(f"mail2fa-postgres: does not break {relation}")
dev = open(os.path.join(work, "libmail2fa-dev", "control", "control")).read()
if f"Depends: libmail2fa0.1 (= {debversion})" not in dev:
    failures.append("libmail2fa-dev: does not depend on libmail2fa0.1 of its own version")
pc = open(os.path.join(work, "libmail2fa-dev", "root", lib[1:], "pkgconfig", "mail2fa.pc")).read()
if "prefix=/usr\n" not in pc or f"libdir=${{prefix}}/lib/{multiarch}\n" not in pc:
    failures.append("libmail2fa-dev: mail2fa.pc has not prefix=/usr and the multiarch libdir")

for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
PY

echo "== ELF files (size, stripped, hardening)"
# Stripped (x86_64, Cargo.toml's `dist` profile: fat LTO, opt-level "z" but
# 2-3 for the login path's crates, SQLite without its unused extensions,
# packed relative relocations): the library 2.02 MB, the modules 1.79 MB
# each, the PostgreSQL plugin 2.23 MB, the tool 4.7 MB. Before PostgreSQL
# became the plugin (its client: tokio-postgres, Tokio, rustls with ring
# and webpki), the library was 3.97 MB and each module 3.73 MB. What
# remains in a module: the engine, SQLite (~0.46 MB), the TOML reader with
# serde, std's panic and backtrace machinery, the unwind tables (panics
# unwind). Issue 20's limit for the library and the modules: 3,000,000
# bytes; the plugin has its own. These limits also catch an unstripped or
# debug build and a build without the profile.
limit_library=3000000
limit_plugin=2500000
limit_tool=$((8 * 1024 * 1024))
while IFS= read -r -d '' file; do
  if ! head -c 4 "$file" | grep -q 'ELF'; then continue; fi
  size=$(stat -c %s "$file")
  name=${file#"$work"/}
  case "$name" in
  */usr/bin/*) limit=$limit_tool ;;
  */mail2fa/libmail2fa-postgres.so) limit=$limit_plugin ;;
  *) limit=$limit_library ;;
  esac
  printf '  %-60s %9s bytes (at most %s)\n' "$name" "$size" "$limit"
  [ "$size" -le "$limit" ] || fail "$name is $size bytes, over $limit"
  sections=$(readelf -S -W "$file")
  if grep -qE '\.symtab|\.debug_' <<<"$sections"; then fail "$name is not stripped"; fi
  dynamic=$(readelf -d -W "$file")
  program=$(readelf -l -W "$file")
  grep -q GNU_RELRO <<<"$program" || fail "$name has no RELRO"
  grep -qE 'BIND_NOW|FLAGS.*NOW' <<<"$dynamic" || fail "$name is not linked with -z now"
  grep -q 'GNU_STACK.*RWE' <<<"$program" && fail "$name has an executable stack"
  case "$name" in
  */libmail2fa.so.*)
    grep -q 'Library soname: \[libmail2fa.so.0.1\]' <<<"$dynamic" || fail "$name: SONAME is not libmail2fa.so.0.1"
    ;;
  */usr/bin/*)
    readelf -h "$file" | grep -q 'Type:.*DYN' || fail "$name is not a PIE"
    ;;
  esac
done < <(find "$work" -path '*/root/*' -type f -print0 | sort -z)
# The library and the modules look for the plugin in the directory fixed
# at build time (scripts/build-capi.sh): the packages' one. (Rust's strings
# have no NUL: `strings` shows it run together with its neighbours.)
for elf in "libmail2fa0.1/root/usr/lib/$multiarch/libmail2fa.so.$version" \
  "libpam-mail2fa/root/usr/lib/$multiarch/security/pam_mail2fa.so" \
  "dovecot-mail2fa/root/usr/lib/$multiarch/lua/5.4/mail2fa.so"; do
  if ! strings -a "$work/$elf" | grep -F "/usr/lib/$multiarch/mail2fa" >/dev/null; then
    fail "$elf does not look for the plugin in /usr/lib/$multiarch/mail2fa"
  fi
done
if command -v hardening-check >/dev/null; then
  # Rust code has no _FORTIFY_SOURCE functions nor C stack protector: the
  # tool's lines for those are information.
  hardening-check "$work/mail2fa/root/usr/bin/mail2fa" "$work/libpam-mail2fa/root/usr/lib/$multiarch/security/pam_mail2fa.so" \
    "$work/dovecot-mail2fa/root/usr/lib/$multiarch/lua/5.4/mail2fa.so" \
    "$work/mail2fa-postgres/root/usr/lib/$multiarch/mail2fa/libmail2fa-postgres.so" || true
fi

if [ "$failed" != 0 ]; then
  echo "check-debs: FAILED"
  exit 1
fi
echo "check-debs: all checks passed (${#debs[@]} packages)"
