#!/usr/bin/env bash
# C and C++ tests of the C API, run against the library exactly as a C user
# gets it from scripts/build-capi.sh (header, .so, .a and mail2fa.pc):
#
#   a. the programs ffi_test (OTP, secrets, URIs, QR), engine_test (the 2FA
#      engine) and devices_test (mail clients: devices, notifications,
#      application passwords, protocol policies), each built from its main
#      file (tests/c/ffi_test.c, ...), the files of its folder (tests/c/ffi,
#      tests/c/engine, tests/c/devices) and tests/c/check.c (the checks all
#      three share, tests/c/check.h), each linked against libmail2fa.so,
#      under AddressSanitizer, LeakSanitizer and UBSan;
#   a'. engine_test once more, on a host-provided store (m2fa_engine_with_store
#      over the table of tests/c/table_store.h, tests/c/engine/store/table.c):
#      the same scenarios;
#   a''. and once more on PostgreSQL (m2fa_engine_open_postgres, a fresh schema
#      per engine, tests/c/pg_store.h, tests/c/engine/store/postgres.c) when
#      MAIL2FA_TEST_POSTGRES is set: through the plugin
#      lib/mail2fa/libmail2fa-postgres.so, which the library loads from
#      beside itself;
#   b. the same programs linked against libmail2fa.a through the .pc file's
#      Libs.private (pkg-config --static);
#   c. tests/c/cxx_header_test.cpp: the header from C++;
#   also examples/c/totp_login.c, examples/c/engine_login.c,
#   examples/c/device_login.c and examples/c/check_login.c, the README's
#   examples;
#   d. the shared library's SONAME and exports (only m2fa_*, exactly the
#      header's functions), and every header function called by the C tests
#      (the .c files under tests/c and tests/c/table_store.h); the plugin's
#      one export.
#
#   bash scripts/test-c.sh
#
# Build outputs go to target/c-tests/.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/c-tests
mkdir -p "$out"

pass() { printf 'PASS  %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*" >&2
  exit 1
}

# --- the library -----------------------------------------------------------
if ! bash scripts/build-capi.sh >"$out/build-capi.log" 2>&1; then
  cat "$out/build-capi.log" >&2
  fail "build: scripts/build-capi.sh (log above, also in $out/build-capi.log)"
fi
capi="$PWD/target/capi"
export PKG_CONFIG_PATH="$capi/lib/pkgconfig"
pass "build: $(pkg-config --modversion mail2fa) into target/capi (log: $out/build-capi.log)"

read -r -a pc_cflags <<<"$(pkg-config --cflags mail2fa)"
read -r -a pc_libs <<<"$(pkg-config --libs mail2fa)"
# Static link: the archive itself plus the .pc file's Libs.private. pkg-config
# --static also lists -lmail2fa, which would let the linker pick the .so, so
# it is dropped in favour of the explicit path to libmail2fa.a.
pc_static_libs=()
for flag in $(pkg-config --static --libs mail2fa); do
  [ "$flag" = "-lmail2fa" ] || pc_static_libs+=("$flag")
done

cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g
  -fsanitize=address,undefined -fno-omit-frame-pointer -pthread)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# No LeakSanitizer suppressions: the library's allocations are all freed by
# the *_free functions, and the Rust runtime leaves nothing behind here.

# Runs a test program; its own output (a summary line, failures) goes through.
run_test() {
  local what=$1 binary=$2 summary
  if ! summary=$("$binary"); then
    printf '%s\n' "$summary"
    fail "$what: $binary failed (see above)"
  fi
  pass "$what: ${summary##*$'\n'}"
}

# Whether a binary needs libmail2fa.so at run time.
needs_shared_lib() {
  readelf -d "$1" | grep -q 'NEEDED.*\[libmail2fa\.so'
}

c_tests=(ffi_test engine_test devices_test)

# The source files of a test program, one a line: its main file, the checks
# all programs share, and its own files (tests/c/engine/*.c for
# engine_test); engine_test also the store its engines are made on, one of
# tests/c/engine/store/*.c (memory unless named).
program_sources() {
  local test=$1 store=${2:-memory}
  local dir="tests/c/${test%_test}"
  local files=("tests/c/$test.c" tests/c/check.c)
  if [ -d "$dir" ]; then files+=("$dir"/*.c); fi
  if [ "$test" = engine_test ]; then files+=("tests/c/engine/store/$store.c"); fi
  printf '%s\n' "${files[@]}"
}

# --- a. shared library, sanitizers -----------------------------------------
for test in "${c_tests[@]}"; do
  mapfile -t sources < <(program_sources "$test")
  gcc "${cflags[@]}" "${sources[@]}" -o "$out/${test}_shared" \
    "${pc_cflags[@]}" "${pc_libs[@]}" -Wl,-rpath,"$capi/lib"
  needs_shared_lib "$out/${test}_shared" ||
    fail "shared: $out/${test}_shared is not linked against libmail2fa.so"
  run_test "shared (ASan+LSan+UBSan)" "$out/${test}_shared"
done

# --- a'. the engine's scenarios on a host-provided store ----------------------
# engine_test again, every engine made by m2fa_engine_with_store over the
# table of tests/c/table_store.h instead of the built-in in-memory store.
mapfile -t sources < <(program_sources engine_test table)
gcc "${cflags[@]}" "${sources[@]}" -o "$out/engine_test_table" \
  "${pc_cflags[@]}" "${pc_libs[@]}" -Wl,-rpath,"$capi/lib"
run_test "host store (ASan+LSan+UBSan)" "$out/engine_test_table"

# --- a''. the engine's scenarios on PostgreSQL --------------------------------
# engine_test again, every engine made by m2fa_engine_open_postgres in a
# fresh schema of $MAIL2FA_TEST_POSTGRES (scripts/pg-server.sh start); the
# schemas are dropped afterwards.
if [ -n "${MAIL2FA_TEST_POSTGRES:-}" ]; then
  mapfile -t sources < <(program_sources engine_test postgres)
  gcc "${cflags[@]}" "${sources[@]}" -o "$out/engine_test_postgres" \
    "${pc_cflags[@]}" "${pc_libs[@]}" -Wl,-rpath,"$capi/lib"
  run_test "PostgreSQL (ASan+LSan+UBSan)" "$out/engine_test_postgres"
  psql "$MAIL2FA_TEST_POSTGRES" -qAtX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DO \$\$ DECLARE s text; BEGIN
    FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 'm2fa\_c\_%' LOOP
      EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP; END \$\$" >/dev/null
elif [ "${MAIL2FA_REQUIRE_POSTGRES:-}" = 1 ]; then
  fail "PostgreSQL: MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_POSTGRES is not set"
else
  echo "SKIP  PostgreSQL: MAIL2FA_TEST_POSTGRES is not set (scripts/pg-server.sh start)"
fi

# --- b. static library ------------------------------------------------------
# A program linked with libmail2fa.a loads the PostgreSQL plugin from
# mail2fa/ beside itself (tests/c/engine/databases.c opens PostgreSQL).
install -d -m 0755 "$out/mail2fa"
install -m 0644 "$capi/lib/mail2fa/libmail2fa-postgres.so" "$out/mail2fa/libmail2fa-postgres.so"
for test in "${c_tests[@]}"; do
  mapfile -t sources < <(program_sources "$test")
  gcc "${cflags[@]}" "${sources[@]}" -o "$out/${test}_static" \
    "${pc_cflags[@]}" "$capi/lib/libmail2fa.a" "${pc_static_libs[@]}"
  if needs_shared_lib "$out/${test}_static"; then
    fail "static: $out/${test}_static still needs libmail2fa.so"
  fi
  run_test "static (libmail2fa.a + Libs.private: ${pc_static_libs[*]})" "$out/${test}_static"
done

# --- c. C++ -----------------------------------------------------------------
# The header on its own, first: it must include what it uses.
for lang in "c -std=c11" "c++ -std=c++17"; do
  read -r -a args <<<"$lang"
  printf '#include <mail2fa.h>\n' |
    gcc -x "${args[0]}" "${args[1]}" -Wall -Wextra -Wpedantic -Werror -fsyntax-only \
      "${pc_cflags[@]}" - ||
    fail "header: mail2fa.h does not compile on its own as ${args[0]} (${args[1]})"
done
g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror tests/c/cxx_header_test.cpp \
  -o "$out/cxx_header_test" "${pc_cflags[@]}" "${pc_libs[@]}" -Wl,-rpath,"$capi/lib"
run_test "c++17 (header self-contained in C11 and C++17)" "$out/cxx_header_test"

# --- the README's C examples, built the way the README says -----------------
gcc "${cflags[@]}" examples/c/totp_login.c -o "$out/totp_login" \
  "${pc_cflags[@]}" "${pc_libs[@]}" -Wl,-rpath,"$capi/lib"
example_output=$("$out/totp_login") || fail "example: examples/c/totp_login.c failed"
grep -q '^replay: refused$' <<<"$example_output" ||
  fail "example: examples/c/totp_login.c did not refuse the replay"
pass "example: examples/c/totp_login.c accepts the code once, refuses the replay"

gcc "${cflags[@]}" examples/c/engine_login.c -o "$out/engine_login" \
  "${pc_cflags[@]}" "${pc_libs[@]}" -Wl,-rpath,"$capi/lib"
example_output=$("$out/engine_login") || fail "example: examples/c/engine_login.c failed"
for line in '^enable account: enrollment required (none)$' \
  '^login with the phone'"'"'s code: allowed (enrolled)$' \
  '^replay: refused (replayed)$' \
  '^right code while locked: refused (locked)$'; do
  grep -q "$line" <<<"$example_output" ||
    fail "example: examples/c/engine_login.c printed no line matching $line"
done
pass "example: examples/c/engine_login.c enrolls, refuses the replay, locks after 5 wrong codes"

gcc "${cflags[@]}" examples/c/device_login.c -o "$out/device_login" \
  "${pc_cflags[@]}" "${pc_libs[@]}" -Wl,-rpath,"$capi/lib"
example_output=$("$out/device_login") || fail "example: examples/c/device_login.c failed"
for line in '^outlook, unknown device: device pending (notify by sms to +33 6 12 34 56 78)$' \
  '^after activation: allowed (device authorized)$' \
  '^imap with the password: refused (app password required)$' \
  '^imap with an app password: allowed (app password)$' \
  '^after revoke: refused (wrong app password)$'; do
  grep -q "$line" <<<"$example_output" ||
    fail "example: examples/c/device_login.c printed no line matching $line"
done
pass "example: examples/c/device_login.c blocks a new device until activated, app passwords for IMAP"

gcc "${cflags[@]}" examples/c/check_login.c -o "$out/check_login" \
  "${pc_cflags[@]}" "${pc_libs[@]}" -Wl,-rpath,"$capi/lib"
example_output=$("$out/check_login") || fail "example: examples/c/check_login.c failed"
for line in '^imap, password+code: allowed (code_accepted)$' \
  '^imap, the same again: refused (replayed)$' \
  '^imap, password alone: second_factor_required (none)$' \
  '^smtp, application password: allowed (app_password)$' \
  '^imap, directory down: the host'"'"'s password check could not answer; the login is refused$' \
  '^imap, directory back: allowed (code_accepted)$'; do
  grep -q "$line" <<<"$example_output" ||
    fail "example: examples/c/check_login.c printed no line matching $line"
done
pass "example: examples/c/check_login.c logs in with one call, the password checked by a callback"

# --- d. SONAME and exports --------------------------------------------------
library="$capi/lib/libmail2fa.so"
soname=$(readelf -d "$library" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ -n "$soname" ] || fail "soname: $library has no SONAME"
[ -e "$capi/lib/$soname" ] || fail "soname: $soname is not installed next to $library"
pass "soname: $soname"

exports=$(nm -D --defined-only "$library" | awk '{ sub(/@.*/, "", $NF); print $NF }' | sort -u)
offenders=$(grep -v '^m2fa_' <<<"$exports" || true)
if [ -n "$offenders" ]; then
  printf '  exported without the m2fa_ prefix:\n' >&2
  sed 's/^/    /' <<<"$offenders" >&2
  fail "exports: $library exports symbols other than m2fa_*"
fi
declared=$(grep -o 'm2fa_[a-z0-9_]*(' "$capi/include/mail2fa.h" | tr -d '(' | sort -u)
if [ "$exports" != "$declared" ]; then
  printf '  < exported, not declared in mail2fa.h   > declared, not exported\n' >&2
  diff <(printf '%s\n' "$exports") <(printf '%s\n' "$declared") | grep '^[<>]' >&2 || true
  fail "exports: the library's exports differ from the header's functions"
fi
mapfile -t test_files < <(find tests/c -name '*.c' | sort)
test_files+=(tests/c/table_store.h)
uncalled=()
for function in $declared; do
  grep -q "\\b$function(" "${test_files[@]}" || uncalled+=("$function")
done
if [ ${#uncalled[@]} -gt 0 ]; then
  fail "coverage: none of the C tests (tests/c/**/*.c, tests/c/table_store.h) calls ${uncalled[*]}"
fi
count=$(wc -l <<<"$exports")
pass "exports: $count symbols, all m2fa_*, exactly the header's functions, all called by ffi_test.c, engine_test.c or devices_test.c"

# The PostgreSQL plugin (loaded by m2fa_engine_open_postgres, run in a''
# above): one export, its entry point; and no PostgreSQL client left in
# the library.
plugin="$capi/lib/mail2fa/libmail2fa-postgres.so"
plugin_exports=$(nm -D --defined-only "$plugin" | awk '{ sub(/@.*/, "", $NF); print $NF }' | sort -u)
[ "$plugin_exports" = m2fa_postgres_plugin_v1 ] ||
  fail "plugin: $plugin exports $(tr '\n' ' ' <<<"$plugin_exports")instead of m2fa_postgres_plugin_v1 alone"
if nm -C "$capi/lib/libmail2fa.a" 2>/dev/null | grep -q 'tokio_postgres::'; then
  fail "plugin: libmail2fa.a still holds tokio-postgres (PostgreSQL must be the plugin)"
fi
pass "plugin: lib/mail2fa/libmail2fa-postgres.so exports m2fa_postgres_plugin_v1 alone; libmail2fa.a has no PostgreSQL client"

echo "C API tests passed"
