#!/usr/bin/env bash
# The portal's end-to-end tests in a real browser on a real stack
# (tests/portal/e2e.py): mail2fa-server, a sandbox Dovecot with mail2fa's
# Lua passdb (IMAP, LMTP), a sandbox Postfix delivering to it, an HTTP sink
# as SMS gateway, headless chromium over WebDriver, QR codes decoded from
# screenshots with zbarimg. Needs root and Debian's dovecot-imapd
# dovecot-pop3d dovecot-lmtpd dovecot-auth-lua postfix chromium
# chromium-driver zbar-tools, and libpam0g-dev liblua5.4-dev to build the
# integrations (.ci/run installs them). The system's own Postfix and Dovecot
# are not used (they need not run).
#   bash scripts/test-portal.sh                         the tests
#   bash scripts/test-portal.sh --screenshots DIR       also photograph every portal page
#                                                       into DIR (docs/screenshots/portal)
# MAIL2FA_E2E_INSTANCE=1..9 gives a run its own Dovecot and Postfix ports.
# Binaries come from ${CARGO_TARGET_DIR:-target}/debug; the integrations
# from target/integrations (scripts/build-integrations.sh builds there).
# Without root or the packages it says SKIPPED and succeeds, unless
# MAIL2FA_REQUIRE_E2E=1 (CI sets it), when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
[ "$(id -u)" -eq 0 ] || missing="root"
for need in /usr/sbin/dovecot /usr/lib/dovecot/imap /usr/lib/dovecot/pop3 /usr/lib/dovecot/lmtp \
  /usr/lib/dovecot/modules/auth/libauthdb_lua.so /usr/sbin/postfix /usr/bin/chromium \
  /usr/bin/chromedriver /usr/bin/zbarimg /usr/include/security/pam_modules.h \
  /usr/include/lua5.4/lua.h; do
  [ -e "$need" ] || missing="$missing $need"
done
if [ -n "$missing" ]; then
  echo "SKIPPED: the portal end-to-end tests need:$missing" \
    "(apt-get install dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-auth-lua postfix" \
    "chromium chromium-driver zbar-tools libpam0g-dev liblua5.4-dev)"
  [ "${MAIL2FA_REQUIRE_E2E:-0}" = 1 ] && exit 1
  exit 0
fi
bash scripts/build-integrations.sh
cargo build --quiet -p mail2fa-server
cargo build --quiet --features cli --bin mail2fa
bin="${CARGO_TARGET_DIR:-target}/debug"
python3 -B tests/portal/e2e.py --server "$bin/mail2fa-server" --tool "$bin/mail2fa" \
  --lua-module target/integrations/mail2fa.so "$@"
