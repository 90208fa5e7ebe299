#!/usr/bin/env bash
# The side-by-side PAM benchmark (issue 20): whole PAM transactions
# (pam_start, pam_authenticate, pam_end) in one long-lived process, like a
# mail server's auth worker, through pam_mail2fa, pam_google_authenticator
# and pam_oath, interleaved; accepted, replayed and wrong codes; median,
# p90, p99 per module and case beside the disk's bare fsync time measured
# in the same run; then the same driver under strace counts the fsyncs of
# each transaction and names the files. For BENCHMARKS.md. Not part of the
# test suite. As root (the modules' state files are root's).
#
#   bash scripts/bench-pam.sh                   # 300 transactions per module and case
#   bash scripts/bench-pam.sh --transactions 1000
#   bash scripts/bench-pam.sh --quick           # 20, and 3 under strace: a smoke test
#   options: --dir DIR (default target/pam-bench/run; must be on a disk, not
#   tmpfs), --strace-transactions K (default 5)
#
# Needs (Debian 12): gcc, python3, libpam0g-dev, libpam-google-authenticator,
# libpam-oath, strace. Installs nothing: says what to apt-get. Missing
# packages: "SKIPPED: needs ..." and exit 0, unless MAIL2FA_REQUIRE_E2E=1.
# Touches nothing outside --dir but /dev/log: where no syslog daemon owns
# it, a listener stands in for one during the run (benches/pam/syslog_sink.py;
# otherwise every log line would be written to /dev/console and timed).
# The stacks: benches/pam/setup.py; the driver: benches/pam/pam_driver.c;
# the strace count: benches/pam/fsyncs.py.
set -euo pipefail
cd "$(dirname "$0")/.."

transactions=300
traced=5
dir="$PWD/target/pam-bench/run"
while [ $# -gt 0 ]; do
  case "$1" in
    --transactions) transactions="$2"; shift 2 ;;
    --strace-transactions) traced="$2"; shift 2 ;;
    --quick) transactions=20; traced=3; shift ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "usage: bash scripts/bench-pam.sh [--transactions N] [--quick] [--dir DIR]" \
         "[--strace-transactions K]" >&2; exit 2 ;;
  esac
done
case "$transactions$traced" in *[!0-9]*) echo "bench-pam.sh: counts are numbers" >&2; exit 2 ;; esac
[ "$transactions" -ge 1 ] && [ "$traced" -ge 1 ] || { echo "bench-pam.sh: counts >= 1" >&2; exit 2; }

skip() {
  if [ "${MAIL2FA_REQUIRE_E2E:-0}" = "1" ]; then
    echo "bench-pam.sh: FAILED: needs $1" >&2
    exit 1
  fi
  echo "SKIPPED: needs $1"
  exit 0
}
[ "$(id -u)" = 0 ] || skip "root (the modules' state files are root's)"
missing=()
for pkg in libpam0g-dev libpam-google-authenticator libpam-oath strace gcc python3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] || skip "${missing[*]} (apt-get install -y ${missing[*]})"

started=$(date +%s)
# The module and the C library (release), the operator tool, the driver.
bash scripts/build-integrations.sh >/dev/null
# The tool in the same profile as the modules: the dependencies built once.
# The same invocation as scripts/build-debs.sh's (its link arguments too), so
# that one of them reuses the other's tool instead of linking it again.
relr=()
if readelf -d target/capi/lib/libmail2fa.so | grep -q '(RELR)'; then
  relr=(-C link-arg=-Wl,-z,pack-relative-relocs)
fi
cargo rustc --quiet --profile dist --locked --features cli --bin mail2fa -- "${relr[@]}"
tool="${CARGO_TARGET_DIR:-target}/dist/mail2fa"
case "$tool" in /*) ;; *) tool="$PWD/$tool" ;; esac
module="$PWD/target/integrations/pam_mail2fa.so"
mkdir -p target/pam-bench
driver=target/pam-bench/pam_driver
gcc -std=c11 -O2 -Wall -Wextra -Werror -Itarget/capi/include -o "$driver" \
  benches/pam/pam_driver.c target/capi/lib/libmail2fa.a -Wl,--gc-sections \
  -lpam -lpthread -ldl -lm

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
fstype=$(df --output=fstype "$dir" | tail -n 1)
if [ "$fstype" = tmpfs ] || [ "$fstype" = ramfs ]; then
  echo "bench-pam.sh: $dir is on $fstype: give --dir on a disk (fsync must reach one)" >&2
  exit 1
fi

sink_pid=
cleanup() {
  if [ -n "$sink_pid" ]; then
    kill "$sink_pid" 2>/dev/null || true
    wait "$sink_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
if ! python3 -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).connect("/dev/log")' \
  2>/dev/null; then
  rm -f "$dir/syslog-ready"
  python3 -B benches/pam/syslog_sink.py "$dir/syslog-ready" "$dir/syslog-lines" &
  sink_pid=$!
  for _ in $(seq 50); do [ -e "$dir/syslog-ready" ] && break; sleep 0.1; done
  [ -e "$dir/syslog-ready" ] || { echo "bench-pam.sh: the syslog listener did not start" >&2; exit 1; }
  syslog="a listener of this script at /dev/log (no syslog daemon here)"
else
  syslog="the host's /dev/log"
fi

echo "== machine"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1) x $(nproc)"
echo "kernel: $(uname -r); state directory: $dir ($fstype on $(df --output=source "$dir" | tail -n 1))"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "modules: pam_mail2fa $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1) ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(dpkg-query -W -f='${Package} ${Version}' libpam-google-authenticator), $(dpkg-query -W -f='${Package} ${Version}' libpam-oath), $(dpkg-query -W -f='${Package} ${Version}' libpam0g); syslog: $syslog"

echo
echo "== setup: $((transactions + 1)) users per module"
python3 -B benches/pam/setup.py --dir "$dir/timed" --tool "$tool" --module "$module" \
  --users $((transactions + 1))

echo
echo "== timed: $transactions transactions per module and case, interleaved"
"$driver" --confdir "$dir/timed/pam.d" --users "$dir/timed/users.txt" \
  --state-dir "$dir/timed" --iterations "$transactions"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== strace: $traced transactions per module and case (+ the first), fresh state"
python3 -B benches/pam/setup.py --dir "$dir/traced" --tool "$tool" --module "$module" \
  --users $((traced + 1)) >/dev/null
strace -f -y -o "$dir/strace.txt" \
  -e trace=access,fsync,fdatasync,sync_file_range,msync,rename,renameat,renameat2,unlink,unlinkat,pwrite64 \
  "$driver" --confdir "$dir/traced/pam.d" --users "$dir/traced/users.txt" \
  --state-dir "$dir/traced" --iterations "$traced" --markers >/dev/null
# mail2fa's claims, checked (the run fails otherwise): a code accepted is
# one commit and one sync, a replay neither, a wrong code a commit without a
# sync (its count is written without waiting for the disk:
# Store::compare_and_swap_relaxed).
python3 -B benches/pam/fsyncs.py "$dir/strace.txt" "$dir/traced" \
  --expect mail2fa/accepted=1 --expect mail2fa/replay=0 --expect mail2fa/wrong=0 \
  --expect-wal mail2fa/accepted=yes --expect-wal mail2fa/replay=no --expect-wal mail2fa/wrong=yes

cleanup
sink_pid=
if [ -f "$dir/syslog-lines" ]; then
  echo
  echo "syslog lines received during the run (setup, timed and traced runs), by module:"
  sed 's/^/  /' "$dir/syslog-lines"
fi
echo
echo "bench-pam.sh: done in $(( $(date +%s) - started )) s (builds included)"
