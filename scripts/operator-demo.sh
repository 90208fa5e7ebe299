#!/usr/bin/env bash
# The README's operator walk-through, on a fresh database: the `mail2fa`
# tool does what a 2FA portal does, and `examples/mail_login.rs` plays the
# mail server in between. CI runs it, so the README's commands keep working.
#   bash scripts/operator-demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --features cli --bin mail2fa --example mail_login
bin="$PWD/target/debug/mail2fa"
login="$PWD/target/debug/examples/mail_login"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/mail2fa.db"
# The servers' configuration file: the repository's example, with the
# database in the scratch directory.
sed "s#^sqlite_path = .*#sqlite_path = \"$db\"#" integrations/mail2fa.toml >"$work/mail2fa.toml"
chmod 600 "$work/mail2fa.toml"
export MAIL2FA_CONFIG="$work/mail2fa.toml" NO_COLOR=1
unset MAIL2FA_DB MAIL2FA_KEY_FILE MAIL2FA_ISSUER
exec 2>&1 # errors appear where they happen

# Shows each command as the operator types it, then runs it.
mail2fa() { printf '\n$ mail2fa %s\n' "$*"; "$bin" "$@" | sed "s#$work/##"; }

# The code an authenticator app would show now for a provisioning URI.
totp_now() {
  python3 - "$1" <<'EOF'
import base64, hashlib, hmac, struct, sys, time, urllib.parse
query = urllib.parse.parse_qs(urllib.parse.urlparse(sys.argv[1]).query)
secret = query["secret"][0]
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
offset = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000))
EOF
}

mail2fa platform enable example.com
mail2fa config check
printf '\n$ mail2fa account enable example.com alice@example.com --svg alice.svg\n'
enabled=$("$bin" account enable example.com alice@example.com --svg "$work/alice.svg")
# The secret and its QR code are elided here; the app would scan them.
printf '%s\n' "$enabled" |
  awk '/[█▀▄]/ { if (!qr) print "(QR code)"; qr = 1; next } { print }' |
  sed -e 's/secret=[A-Z2-7]*/secret=…/' -e "s#$work/##" | cat -s
uri=$(printf '%s\n' "$enabled" | grep '^otpauth://')
mail2fa account confirm example.com alice@example.com "$(totp_now "$uri")"
mail2fa account show example.com alice@example.com

printf '\n$ cargo run --example mail_login -- --protocol activesync --device-type iPhone …\n'
"$login" --db "$db" --protocol activesync --device-id ApplF17XK2QJHG7F \
  --device-type iPhone --user-agent "Apple-iPhone14C2/2104.100" --addr 203.0.113.7 \
  example.com alice@example.com
mail2fa device list example.com alice@example.com
device=$("$bin" --json device list example.com alice@example.com |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["devices"][0]["id"][:6])')
mail2fa device activate example.com alice@example.com "$device"

printf '\n$ mail2fa app-password create example.com alice@example.com --name "Thunderbird" --protocol imap --protocol smtp\n'
"$bin" app-password create example.com alice@example.com --name "Thunderbird" \
  --protocol imap --protocol smtp | sed -E 's/[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}/xxxxx-xxxxx-xxxxx-xxxxx/'
mail2fa app-password list example.com alice@example.com
mail2fa --json app-password list example.com alice@example.com
printf '\n$ mail2fa app-password revoke example.com alice@example.com 1 </dev/null\n'
"$bin" app-password revoke example.com alice@example.com 1 </dev/null || echo "(exit status $?)"
mail2fa app-password revoke example.com alice@example.com 1 --yes
mail2fa account show example.com bob@example.com || echo "(exit status $?)"
mail2fa db check
