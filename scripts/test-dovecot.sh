#!/usr/bin/env bash
# End-to-end tests in a real Dovecot (tests/dovecot/e2e.py): the PAM module
# and the Lua passdb, over real IMAP and POP3 sessions. Needs root and
# Debian's dovecot-imapd dovecot-pop3d dovecot-auth-lua libpam-pwdfile
# libpam0g-dev liblua5.4-dev (.ci/run installs them).
#   bash scripts/test-dovecot.sh            the tests
#   bash scripts/test-dovecot.sh --bench N  and N timed logins per integration
# With MAIL2FA_TEST_POSTGRES set (eval "$(bash scripts/pg-server.sh start)"),
# also both modules on the PostgreSQL database a configuration file names
# (a code used through PAM is a replay through Lua, a forked PAM process),
# and a cluster: two Dovecot instances with the Lua passdb, one configuration
# file each, one database (replay, lockout, revocation across them; with
# MAIL2FA_TEST_PG_CONTROL, e.g. "bash scripts/pg-server.sh", the database
# stopped refuses logins on both until it is started again);
# MAIL2FA_REQUIRE_POSTGRES=1 makes its absence a failure.
# MAIL2FA_E2E_INSTANCE=1..9 gives a run its own ports and PAM service names,
# so that several runs (worktrees, CI jobs) can share one machine.
# Without root or the packages it says SKIPPED and succeeds, unless
# MAIL2FA_REQUIRE_E2E=1 (CI sets it), when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
[ "$(id -u)" -eq 0 ] || missing="root"
for need in /usr/sbin/dovecot /usr/lib/dovecot/modules/auth/libauthdb_lua.so \
  /usr/include/security/pam_modules.h /usr/include/lua5.4/lua.h; do
  [ -e "$need" ] || missing="$missing $need"
done
[ -e /lib/x86_64-linux-gnu/security/pam_pwdfile.so ] || [ -e /usr/lib/x86_64-linux-gnu/security/pam_pwdfile.so ] ||
  missing="$missing pam_pwdfile.so"
if [ -n "$missing" ]; then
  echo "SKIPPED: the Dovecot end-to-end tests need:$missing" \
    "(apt-get install dovecot-imapd dovecot-pop3d dovecot-auth-lua libpam-pwdfile libpam0g-dev liblua5.4-dev)"
  [ "${MAIL2FA_REQUIRE_E2E:-0}" = 1 ] && exit 1
  exit 0
fi
bash scripts/build-integrations.sh
cargo build --quiet --features cli --bin mail2fa
gcc -std=c11 -O2 -Wall -Wextra -Werror -o target/integrations/pam_driver tests/dovecot/pam_driver.c -lpam
gcc -std=c11 -O2 -Wall -Wextra -Werror -I/usr/include/lua5.4 -o target/integrations/lua_driver \
  tests/dovecot/lua_driver.c -llua5.4
# A C mail server's logins (m2fa_engine_open_config, m2fa_engine_check_login).
gcc -std=c11 -O2 -Wall -Wextra -Werror -Itarget/capi/include -o target/integrations/c_host \
  tests/dovecot/c_host.c target/capi/lib/libmail2fa.a -lpthread -ldl -lm
python3 tests/dovecot/e2e.py --tool "${CARGO_TARGET_DIR:-target}/debug/mail2fa" \
  --pam-driver target/integrations/pam_driver \
  --c-host target/integrations/c_host \
  --lua-driver target/integrations/lua_driver \
  --pam-module target/integrations/pam_mail2fa.so \
  --lua-module target/integrations/mail2fa.so "$@"
