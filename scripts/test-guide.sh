#!/usr/bin/env bash
# The deployment guide, executed (tests/guide/run.py): integrations/README.md's
# commands run literally, in order, as root — the Debian packages built
# (scripts/build-debs.sh) and installed with apt-get, Dovecot and Postfix set
# up and started the guide's way — then IMAP, POP3 and SMTP submission
# sessions measure the guide's table of what works for which client and
# compare it with the table. It prints the time from `apt-get install
# ./*.deb` to the first 2FA login.
#   bash scripts/test-guide.sh
# It CHANGES THIS MACHINE (packages, /etc/dovecot, /etc/postfix,
# /etc/pam.d, the system's Dovecot and Postfix started and stopped): it runs
# only with MAIL2FA_GUIDE_ON_THIS_MACHINE=1 (CI sets it), on a throw-away
# Debian 12 machine, as root. Otherwise it says SKIPPED and succeeds, unless
# MAIL2FA_REQUIRE_E2E=1, when it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
[ "$(id -u)" -eq 0 ] || missing="root"
[ "${MAIL2FA_GUIDE_ON_THIS_MACHINE:-0}" = 1 ] || missing="$missing MAIL2FA_GUIDE_ON_THIS_MACHINE=1"
[ -e /etc/debian_version ] || missing="$missing Debian"
if [ -n "$missing" ]; then
  echo "SKIPPED: the executable guide changes the machine it runs on; it needs:$missing"
  [ "${MAIL2FA_REQUIRE_E2E:-0}" = 1 ] && exit 1
  exit 0
fi
python3 -B tests/guide/run.py "$@"
