#!/usr/bin/env bash
# mail2fa's nginx gate end to end (tests/nginx/e2e.py): Debian's nginx with
# libnginx-mod-mail, configured by the shipped integrations/nginx/
# mail2fa-gate.conf and mail2fa-mail.conf (only ports, paths, addresses and
# the secret replaced), in front of a stub ActiveSync/EWS upstream and of
# the portal suite's stack (tests/portal/stack.py: mail2fa-server, a
# sandbox Dovecot with mail2fa's Lua passdb and a master user, a sandbox
# Postfix), driven by curl as an iPhone and Outlook, and by imaplib, poplib,
# smtplib through nginx's mail proxy; one device authorized in chromium.
# Needs root and Debian's nginx libnginx-mod-mail dovecot-imapd
# dovecot-pop3d dovecot-lmtpd dovecot-auth-lua postfix chromium
# chromium-driver curl openssl, and libpam0g-dev liblua5.4-dev to build the
# integrations (.ci/run installs them). The system's own nginx, Postfix and
# Dovecot are not used (they need not run).
#   bash scripts/test-nginx.sh [--keep]
# MAIL2FA_E2E_INSTANCE=1..9 gives a run its own ports.
# Binaries come from ${CARGO_TARGET_DIR:-target}/debug; the integrations
# from target/integrations (scripts/build-integrations.sh builds there).
# Without root or the packages it says SKIPPED and succeeds, unless
# MAIL2FA_REQUIRE_E2E=1 (CI sets it), when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
[ "$(id -u)" -eq 0 ] || missing="root"
for need in /usr/sbin/nginx /usr/lib/nginx/modules/ngx_mail_module.so /usr/sbin/dovecot \
  /usr/lib/dovecot/imap /usr/lib/dovecot/pop3 /usr/lib/dovecot/lmtp \
  /usr/lib/dovecot/modules/auth/libauthdb_lua.so /usr/sbin/postfix /usr/bin/chromium \
  /usr/bin/chromedriver /usr/bin/curl /usr/bin/openssl /usr/include/security/pam_modules.h \
  /usr/include/lua5.4/lua.h; do
  [ -e "$need" ] || missing="$missing $need"
done
if [ -n "$missing" ]; then
  echo "SKIPPED: the nginx end-to-end tests need:$missing" \
    "(apt-get install nginx libnginx-mod-mail dovecot-imapd dovecot-pop3d dovecot-lmtpd" \
    "dovecot-auth-lua postfix chromium chromium-driver curl openssl libpam0g-dev liblua5.4-dev)"
  [ "${MAIL2FA_REQUIRE_E2E:-0}" = 1 ] && exit 1
  exit 0
fi
bash scripts/build-integrations.sh
cargo build --quiet -p mail2fa-server
cargo build --quiet --features cli --bin mail2fa
bin="${CARGO_TARGET_DIR:-target}/debug"
python3 -B tests/nginx/e2e.py --server "$bin/mail2fa-server" --tool "$bin/mail2fa" \
  --lua-module target/integrations/mail2fa.so "$@"
