#!/usr/bin/env python3
"""Receives what the PAM modules send to syslog during the PAM benchmark,
where no syslog daemon owns /dev/log (a CI machine, a container).

Without a listener, glibc's syslog() falls back to writing every line to
/dev/console (the modules open the log with LOG_CONS), which on a VM's
serial console costs milliseconds per line and would be timed as the
modules' work. A mail server's host has a syslog daemon; this stands in
for it: a datagram socket at /dev/log, read and counted, never stored.

    syslog_sink.py READY_FILE COUNTS_FILE

Binds /dev/log (only if nothing is there, or a socket nobody reads), writes READY_FILE, and on
SIGTERM removes /dev/log and writes the number of lines per program tag
to COUNTS_FILE
(pam_syslog's lines by module and service). The bench starts it and stops it (scripts/bench-pam.sh).
"""

import collections
import os
import re
import signal
import socket
import sys

PATH = "/dev/log"


def main():
    ready, counts_file = sys.argv[1], sys.argv[2]
    if os.path.exists(PATH):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            probe.connect(PATH)
            sys.exit(f"syslog_sink.py: {PATH} is taken: something reads it")
        except ConnectionRefusedError:
            os.remove(PATH)  # left by a run that was killed: nobody reads it
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(PATH)
    counts = collections.Counter()

    def stop(_signum, _frame):
        sock.close()
        os.remove(PATH)
        with open(counts_file, "w") as f:
            for tag, n in sorted(counts.items()):
                f.write(f"{tag} {n}\n")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(ready, "w") as f:
        f.write("ready\n")
    # "<PRI>TIMESTAMP IDENT[PID]: MODULE(SERVICE:auth): ..." (pam_syslog),
    # or "<PRI>TIMESTAMP IDENT: ..." (a module's own openlog)
    line = re.compile(rb"^<\d+>(?:\w{3} [ \d]\d \d\d:\d\d:\d\d )?([^:\[ ]+)[^:]*: "
                      rb"(?:(\w+)\(([^:)]+):\w+\): )?")
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            continue
        m = line.match(data)
        if m is None:
            tag = b"?"
        elif m.group(2):
            tag = m.group(2) + b" (" + m.group(3) + b")"
        else:
            tag = m.group(1)
        counts[tag.decode(errors="replace")] += 1


if __name__ == "__main__":
    main()
