#!/usr/bin/env bash
# Counts the syncs to disk (fsync, fdatasync, sync_file_range, msync) that
# one login makes in a fresh process, as a short-lived PAM host does: the
# `mail2fa` tool opens the SQLite store, makes one login (`mail2fa login`)
# and exits. Run under strace, every sync is listed with the file it went
# to (strace -y), then counted.
#
#   bash scripts/count-fsyncs.sh            # builds the tool (debug, feature cli)
#   MAIL2FA_BIN=/path/to/mail2fa MAIL2FA_TEST_BIN=/path/to/sqlite_fsyncs-… \
#       bash scripts/count-fsyncs.sh        # other builds (before/after)
#
# The rows: a first code login on a new database (the WAL file does not
# exist yet), then, each in a fresh process on the same database: an
# accepted code, the same code replayed, a wrong code, a read
# (`account show`) and one more accepted code. The tool's answer (its JSON
# reason) is shown beside each count.
#
# Then a long-lived process (the ignored test `logins_in_one_process` of
# tests/sqlite_fsyncs.rs): LOGINS accepted codes (default 1250), then as
# many replays, on one open store — what an auth process that keeps its
# engine pays per login, the automatic checkpoints included.
# Needs strace (apt: strace) and python3 (to compute the codes).
set -euo pipefail

cd "$(dirname "$0")/.."
if ! command -v strace >/dev/null; then
    if [ "${MAIL2FA_REQUIRE_E2E:-}" = 1 ]; then
        echo "count-fsyncs: strace is missing (apt-get install strace)" >&2
        exit 1
    fi
    echo "SKIPPED: needs strace (apt-get install strace)"
    exit 0
fi
bin=${MAIL2FA_BIN:-}
if [ -z "$bin" ]; then
    cargo build --quiet --features cli --bin mail2fa
    bin=${CARGO_TARGET_DIR:-target}/debug/mail2fa
fi
test_bin=${MAIL2FA_TEST_BIN:-}
if [ -z "$test_bin" ]; then
    test_bin=$(cargo test --quiet --test sqlite_fsyncs --no-run --message-format=json |
        python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable"):
        print(message["executable"])')
fi
logins=${LOGINS:-1250}

work=$(mktemp -d /tmp/mail2fa-fsyncs.XXXXXX)
trap 'rm -rf "$work"' EXIT
db=$work/mail2fa.db
now=1800000000
platform=example.com
account=alice@example.com

tool() {
    local at=$1
    shift
    "$bin" --db "$db" --now "$at" "$@"
}

# The TOTP code (RFC 6238, SHA-1, 6 digits, 30 s) of a provisioning URI.
code() {
    python3 - "$1" "$2" <<'EOF'
import base64, hashlib, hmac, struct, sys, urllib.parse
query = urllib.parse.parse_qs(urllib.parse.urlparse(sys.argv[1]).query)
secret = query["secret"][0]
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
mac = hmac.new(key, struct.pack(">Q", int(sys.argv[2]) // 30), hashlib.sha1).digest()
offset = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**6))
EOF
}

# Runs the tool under strace; prints the number of syncs and the files
# they went to.
count() {
    local label=$1
    shift
    local trace=$work/trace
    strace -f -qq -y -e trace=fsync,fdatasync,sync_file_range,msync -o "$trace" "$@" \
        >"$work/stdout" 2>"$work/stderr" || true
    local said
    said=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d.get("reason", "shown"))' \
        "$work/stdout" 2>/dev/null || echo "error: $(head -c 200 "$work/stderr")")
    local calls
    calls=$(grep -c -E '^[0-9]+ +(fsync|fdatasync|sync_file_range|msync)\(' "$trace" || true)
    local where
    where=$(grep -o -E '^[0-9]+ +[a-z_]+\([0-9]+<[^>]*>' "$trace" |
        sed -E 's/^[0-9]+ +([a-z_]+)\([0-9]+<(.*)>$/\1 \2/; s#'"$work"'/##; s#'"$work"'$#(directory)#' |
        sort | uniq -c | awk '{printf "%s%s×%s %s", sep, $1, $2, $3; sep=", "}' || true)
    printf '%-34s %-16s %2d  %s\n' "$label" "$said" "$calls" "$where"
}

tool "$now" platform enable "$platform" >/dev/null
uri=$(tool "$now" account enable "$platform" "$account" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["uri"])')
tool "$now" account confirm "$platform" "$account" "$(code "$uri" "$now")" >/dev/null
tool "$now" account policy "$platform" "$account" imap code-in-login >/dev/null
# For the first row, no WAL file: a connection that does not keep it
# (Python's sqlite3) checkpoints it into the database and deletes it when it
# closes. (Never delete a `-wal` file by hand: it holds committed records.)
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM sqlite_schema").fetchall()' "$db"
test ! -e "$db-wal"

login() {
    local at=$1 typed=$2
    printf '%s' "$typed" >"$work/stdin"
    count "$3" "$bin" --db "$db" --now "$at" login "$platform" "$account" \
        --protocol imap --address 203.0.113.7 --json <"$work/stdin"
}

echo "mail2fa: $bin"
printf '%-34s %-16s %2s  %s\n' "one process, one login" "answer" "n" "syncs (count×call file)"
at=$((now + 60))
login "$at" "pw$(code "$uri" "$at")" "accepted code (no WAL file yet)"
at=$((now + 90))
login "$at" "pw$(code "$uri" "$at")" "accepted code"
login "$at" "pw$(code "$uri" "$at")" "replayed code"
at=$((now + 120))
good=$(code "$uri" "$at")
wrong=$(printf '%06d' $(((10#$good + 1) % 1000000)))
login "$at" "pw$wrong" "wrong code"
count "read (account show)" "$bin" --db "$db" --now "$at" account show "$platform" "$account" --json
at=$((now + 150))
login "$at" "pw$(code "$uri" "$at")" "accepted code"

echo
echo "one process, $logins accepted codes then $logins replays: $test_bin"
at=$((now + 300))
trace=$work/trace
M2FA_DB=$db M2FA_URI=$uri M2FA_AT=$at M2FA_LOGINS=$logins \
    strace -f -qq -y -e trace=fsync,fdatasync,sync_file_range,msync -o "$trace" \
    "$test_bin" --ignored --exact logins_in_one_process --nocapture --test-threads=1 \
    >"$work/stdout" 2>&1 || { cat "$work/stdout"; exit 1; }
grep -o 'accepted [0-9]* of [0-9]*; replayed [0-9]*' "$work/stdout"
grep -o -E '^[0-9]+ +[a-z_]+\([0-9]+<[^>]*>' "$trace" |
    sed -E 's/^[0-9]+ +([a-z_]+)\([0-9]+<(.*)>$/\1 \2/; s#'"$work"'/##; s#'"$work"'$#(directory)#' |
    sort | uniq -c | awk '{printf "  %6d × %s %s\n", $1, $2, $3}'
total=$(grep -c -E '^[0-9]+ +(fsync|fdatasync|sync_file_range|msync)\(' "$trace" || true)
echo "  total $total syncs for $logins accepted codes and $logins replays"
