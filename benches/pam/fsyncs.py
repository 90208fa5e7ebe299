#!/usr/bin/env python3
"""Counts what each PAM transaction of the benchmark makes durable, from
`strace -f -y` output of benches/pam/pam_driver.c run with --markers:

    fsyncs.py STRACE_OUTPUT [DIR] [--expect MODULE/CASE=N ...]
              [--expect-wal MODULE/CASE=yes|no ...]

(DIR: the state directory, shown as "DIR" in the file names.) Each
--expect makes the run fail unless every transaction of that module and
case after the first made exactly N fsyncs; each --expect-wal unless every
one wrote to a SQLite journal (`-wal`: a commit, synced or not), or none
did. (Writes are seen only when strace traced pwrite64.)

The driver calls access("/pam-bench-marker/begin|end/MODULE/CASE/ROUND")
around every transaction; the calls between a begin and its end are that
transaction's. Counted: fsync, fdatasync, sync_file_range and msync (the
"fsyncs": each is a wait for the disk), and apart the renames and unlinks
(a rename makes a new file visible; durable only with a directory fsync).
Round 0, the first transaction of each module and case in the process, is
shown apart from the steady state (rounds 1..): it opens what the module
keeps open. Prints a Markdown table and the files each syscall touched.
"""

import collections
import re
import sys

MARKER = re.compile(r'access\("/pam-bench-marker/(begin|end)/([^/]+)/([^/]+)/(\d+)"')
SYSCALL = re.compile(r"^(?:\[pid\s+\d+\]\s+|\d+\s+)?(?:[\d:.]+\s+)?(\w+)\((.*)")
SYNCS = ("fsync", "fdatasync", "sync_file_range", "msync")
NAMES = ("rename", "renameat", "renameat2", "unlink", "unlinkat")
WRITES = ("pwrite64", "write", "pwritev", "pwritev2")
FD_PATH = re.compile(r"^\d+<([^>]*)>")
QUOTED = re.compile(r'"([^"]*)"')


def target(name, args):
    """The file a syscall acted on, for the report."""
    if name in SYNCS or name in WRITES:
        m = FD_PATH.match(args)
        return m.group(1) if m else "?"
    paths = QUOTED.findall(args)
    return " -> ".join(paths) if paths else "?"


def arguments(argv):
    """(strace output, state directory or None, {(module, case): fsyncs},
    {(module, case): whether the journal is written})."""
    positional, expect, wal = [], {}, {}
    args = iter(argv)
    for arg in args:
        if arg in ("--expect", "--expect-wal"):
            what, _, value = next(args, "").partition("=")
            module, _, case = what.partition("/")
            if arg == "--expect" and module and case and value.isdigit():
                expect[(module, case)] = int(value)
            elif arg == "--expect-wal" and module and case and value in ("yes", "no"):
                wal[(module, case)] = value == "yes"
            else:
                sys.exit(f"fsyncs.py: {arg} MODULE/CASE=..., not {what}={value}")
        else:
            positional.append(arg)
    if not positional:
        sys.exit("usage: fsyncs.py STRACE_OUTPUT [DIR] [--expect MODULE/CASE=N ...] "
                 "[--expect-wal MODULE/CASE=yes|no ...]")
    strip = positional[1].rstrip("/") if len(positional) > 1 else None
    return positional[0], strip, expect, wal


def main():
    trace, strip, expect, wal = arguments(sys.argv[1:])
    current = None  # (module, case, round)
    per = collections.defaultdict(lambda: {"syncs": 0, "names": 0, "wal": 0, "what": []})
    order = []
    with open(trace, errors="replace") as f:
        for line in f:
            m = MARKER.search(line)
            if m:
                key = (m.group(2), m.group(3), int(m.group(4)))
                if m.group(1) == "begin":
                    current = key
                    if (key[0], key[1]) not in order:
                        order.append((key[0], key[1]))
                    per[key]  # every transaction has a row, even with nothing in it
                else:
                    current = None
                continue
            if current is None or "resumed>" in line:
                continue
            s = SYSCALL.match(line)
            if not s:
                continue
            name, args = s.group(1), s.group(2)
            if name in SYNCS:
                per[current]["syncs"] += 1
                per[current]["what"].append(f"{name}({target(name, args)})")
            elif name in WRITES and target(name, args).endswith("-wal"):
                per[current]["wal"] += 1
            elif name in NAMES:
                per[current]["names"] += 1
                per[current]["what"].append(f"{name}({target(name, args)})")

    print("| module | case | fsyncs, first | fsyncs per transaction after it "
          "(min-max, mean) | renames+unlinks after the first (mean) | transactions |")
    print("|---|---|---:|---|---:|---:|")
    details = []
    for module, case in order:
        rounds = sorted(r for (m, c, r) in per if m == module and c == case)
        first = per[(module, case, rounds[0])] if rounds and rounds[0] == 0 else None
        steady = [per[(module, case, r)] for r in rounds if r > 0]
        syncs = [t["syncs"] for t in steady]
        names = [t["names"] for t in steady]
        first_text = str(first["syncs"]) if first else "-"
        if syncs:
            spread = (f"{min(syncs)}-{max(syncs)}" if min(syncs) != max(syncs)
                      else str(min(syncs)))
            steady_text = f"{spread} ({sum(syncs) / len(syncs):.2f})"
            names_text = f"{sum(names) / len(names):.2f}"
        else:
            steady_text, names_text = "-", "-"
        print(f"| {module} | {case} | {first_text} | {steady_text} | {names_text} | "
              f"{len(steady)} + first |")
        if first and first["what"]:
            details.append(f"{module} {case}, first: " + ", ".join(first["what"]))
        if steady and steady[-1]["what"]:
            details.append(f"{module} {case}, last: " + ", ".join(steady[-1]["what"]))
    print()
    print("What the syscalls touched (the first transaction, and the last one):")
    for d in details:
        print(f"- {d.replace(strip, 'DIR') if strip else d}")

    failed = []
    for (module, case), want in expect.items():
        seen = [per[(m, c, r)]["syncs"] for (m, c, r) in per if (m, c) == (module, case) and r > 0]
        if not seen:
            failed.append(f"{module}/{case}: no transaction traced")
        elif any(n != want for n in seen):
            failed.append(f"{module}/{case}: {seen} fsyncs per transaction, expected {want} each")
    for (module, case), written in wal.items():
        seen = [per[(m, c, r)]["wal"] for (m, c, r) in per if (m, c) == (module, case) and r > 0]
        if not seen or any((n > 0) != written for n in seen):
            failed.append(f"{module}/{case}: journal writes per transaction {seen}, expected "
                          f"{'some' if written else 'none'} in each")
    for f in failed:
        print(f"fsyncs.py: FAILED {f}", file=sys.stderr)
    if failed:
        sys.exit(1)
    if expect:
        print("fsyncs as expected: " + ", ".join(f"{m}/{c}={n}" for (m, c), n in expect.items()))
    if wal:
        print("journal writes as expected: "
              + ", ".join(f"{m}/{c}={'yes' if w else 'no'}" for (m, c), w in wal.items()))


if __name__ == "__main__":
    main()
