#!/usr/bin/env python3
"""The deployment guide, executed: integrations/README.md's `sh` blocks run
literally, in order, as root on this machine — the packages built and
installed, Dovecot and Postfix configured and started the guide's way —
then IMAP, POP3 and SMTP submission sessions measure the guide's table of
what works for which client (section 11) and compare it with the table.

    python3 tests/guide/run.py            (scripts/test-guide.sh runs it)

It changes the machine: installs the packages, edits /etc/dovecot,
/etc/postfix and /etc/pam.d, starts Dovecot and Postfix (stopped again at
the end). Before it starts, it removes what an earlier run made (the
packages purged, the guide's files and the store), so that each run is a
first run. Only on a throw-away machine (CI).

Each `sh` block is preceded by `<!-- step: NAME -->`; the blocks run with
`bash -euo pipefail` from the repository's root. Two values come from the
reader: CODE (the code the authenticator app shows now) and APP_PASSWORD
(the application password the tool printed), given here as environment
variables exactly as the guide tells the reader to set them.
"""

import imaplib
import json
import os
import poplib
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "portal"))
import checks  # noqa: E402  (counted checks, the search of logs for secrets)
import stack  # noqa: E402  (tests/dovecot/e2e.py's totp and syslog capture)
from checks import check  # noqa: E402

e2e = stack.dovecot_e2e
GUIDE = os.path.join(ROOT, "integrations", "README.md")
PLATFORM = "example.com"
# The guide's example users and passwords (section 4).
ALICE, ALICE_PASSWORD = "alice@example.com", "alice-example-password"
BOB, BOB_PASSWORD = "bob@example.com", "bob-example-password"
STEPS = ["build", "install", "store", "users", "dovecot", "lua", "pam", "postfix",
         "enroll", "confirm", "first-login", "code-in-login"]
PACKAGES = ["mail2fa", "dovecot-mail2fa", "libpam-mail2fa", "libmail2fa0.1", "libmail2fa-dev",
            "mail2fa-postgres"]
# Purged too before a run, so that the guide's install step installs them
# as on a fresh machine (the time to the first login counts them).
SERVERS = ["dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd",
           "dovecot-auth-lua", "postfix", "libpam-pwdfile"]
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # Debian's self-signed certificates
# Every secret handed to a server, for the search of the logs at the end.
secrets_used, codes_used = [], []


def sh(command):
    """A command of the run's own (not the guide's); its output is dropped."""
    return subprocess.run(["bash", "-c", command], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def guide_steps():
    """The guide's `sh` blocks by step name, in order; every `sh` block
    must be a named step (none is left out of the run)."""
    text = open(GUIDE).read()
    steps = re.findall(r"<!-- step: (\S+) -->\n```sh\n(.*?)```", text, re.S)
    check(len(steps) == text.count("```sh\n"), "every sh block of the guide is a named step")
    other = re.findall(r"^```(bash|shell|console|zsh)\b", text, re.M)
    check(not other, f"no shell block in another dialect, which the run would miss ({other})")
    check([name for name, _ in steps] == STEPS,
          f"the guide's steps are {STEPS} ({[name for name, _ in steps]})")
    return dict(steps)


def guide_table():
    """The guide's table of section 11: (protocol, integration) -> cells."""
    text = open(GUIDE).read()
    block = text.split("<!-- table: clients -->\n", 1)[1]
    lines = [line for line in block.split("\n\n", 1)[0].splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[(cells[0], cells[1])] = dict(zip(header[2:], cells[2:]))
    return header[2:], rows


def reset():
    """Removes what an earlier run of the guide made: each run is a first one."""
    sh("service dovecot stop; service postfix stop")
    installed = [p for p in PACKAGES + SERVERS
                 if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                                   text=True).stdout.startswith("install ok")]
    if installed:
        done = subprocess.run(["apt-get", "purge", "-y", "-qq"] + installed,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        check(done.returncode == 0, f"an earlier run's packages purged ({' '.join(installed)}): "
              f"{done.stderr.strip()[-300:]}")
    sh("rm -rf /etc/mail2fa /var/lib/mail2fa /var/mail/vhosts "
       "/etc/dovecot/mail2fa-users /etc/dovecot/mail2fa-pam-users "
       "/etc/dovecot/conf.d/99-mail2fa*.conf /etc/pam.d/mail2fa-imap /etc/pam.d/mail2fa-pop3 "
       "/etc/pam.d/mail2fa-smtp /etc/postfix/mail2fa-mailboxes")
    sh("sed -i 's/^#!include auth-system.conf.ext/!include auth-system.conf.ext/' "
       "/etc/dovecot/conf.d/10-auth.conf")
    # Postfix's main.cf, when an earlier run's guide wrote it.
    sh("grep -q mail2fa-mailboxes /etc/postfix/main.cf && rm /etc/postfix/main.cf")


def run_step(name, script, env):
    """Runs one of the guide's blocks as the reader would; its output."""
    print(f"\n--- step {name}")
    for line in script.rstrip("\n").splitlines():
        print(f"    $ {line}")
    started = time.monotonic()
    # Files, not pipes: a daemon the step starts (Dovecot, Postfix) keeps
    # the step's output open for its whole life.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env,
                              stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        stdout = out.read()
        out = stdout + err.read()
    shown = out if len(out) < 4000 else out[:1500] + "\n[...]\n" + out[-2000:]
    print("    " + shown.replace("\n", "\n    ").rstrip())
    check(done.returncode == 0,
          f"step {name} runs (exit {done.returncode}, {time.monotonic() - started:.1f} s)")
    if done.returncode != 0:
        raise SystemExit(checks.summary())
    return stdout


class Account:
    """An account of the run with its password and, once enrolled, the
    codes of its authenticator (each step once, the next one unused)."""

    def __init__(self, name, password, uri=None):
        self.name, self.password, self.uri, self.last = name, password, uri, None

    def code(self):
        now = int(time.time()) // 30
        step = now - 1 if self.last is None else max(now - 1, self.last + 1)
        if step > now + 1:
            time.sleep(30 - time.time() % 30 + 0.5)
            return self.code()
        self.last = step
        code = e2e.totp(self.uri, step * 30)
        codes_used.append(code)
        return code


def tool_json(*args):
    """The installed operator tool, as root, on the guide's configuration."""
    done = subprocess.run(["mail2fa", "--json", "--yes", "--color", "never"] + list(args),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"mail2fa {' '.join(args)}: {done.stderr.strip()}")
    return json.loads(done.stdout) if done.stdout.strip() else None


# A new loopback address for each session: Dovecot's penalty for failures
# is per address, and would slow the next session from the same one by up
# to 15 s (measured apart, in failure_delays). All in one /24, the network
# a device binding is tied to.
_source = [1]


def source():
    _source[0] += 1
    if _source[0] > 254:
        raise RuntimeError("out of loopback addresses in 127.0.1.0/24")
    return f"127.0.1.{_source[0]}"


def _tls_from(client, timeout):
    """imaplib's and poplib's TLS socket, from the client's source address."""
    sock = socket.create_connection((client.host, client.port), timeout,
                                    source_address=(client.src, 0))
    return TLS.wrap_socket(sock, server_hostname=client.host)


class _Imap(imaplib.IMAP4_SSL):
    def __init__(self, src):
        self.src = src
        super().__init__("127.0.0.1", 993, ssl_context=TLS, timeout=30)

    _create_socket = _tls_from


class _Pop3(poplib.POP3_SSL):
    def __init__(self, src):
        self.src = src
        super().__init__("127.0.0.1", 995, context=TLS, timeout=30)

    _create_socket = _tls_from


def imap(user, password, client_id=None, src=None):
    """One IMAP session over TLS: logged in?"""
    secrets_used.append(password)
    conn = _Imap(src or source())
    try:
        if client_id:
            conn._simple_command("ID", client_id)
        try:
            return conn.login(user, password)[0] == "OK"
        except imaplib.IMAP4.error:
            return False
    finally:
        try:
            conn.logout()
        except Exception:
            pass


def pop3(user, password, client_id=None, src=None):
    """One POP3 session over TLS: logged in?"""
    secrets_used.append(password)
    conn = _Pop3(src or source())
    try:
        conn.user(user)
        try:
            conn.pass_(password)
            return True
        except poplib.error_proto:
            return False
    finally:
        try:
            conn.quit()
        except Exception:
            pass


def smtp(user, password, client_id=None, src=None, mechanism="PLAIN"):
    """One submission session with curl (STARTTLS, AUTH PLAIN or LOGIN),
    which sends a message to bob: logged in (and the message queued)?"""
    secrets_used.append(password)
    message = (f"From: {user}\r\nTo: {BOB}\r\nSubject: guide test from {user} "
               f"({mechanism})\r\n\r\nSent through submission.\r\n")
    done = subprocess.run(
        ["curl", "--silent", "--show-error", "--insecure", "--ssl-reqd",
         "--url", "smtp://127.0.0.1:587", "--interface", src or source(),
         "--login-options", f"AUTH={mechanism}", "--user", f"{user}:{password}",
         "--mail-from", user, "--mail-rcpt", BOB, "--upload-file", "-"],
        input=message, capture_output=True, text=True)
    if done.returncode not in (0, 67):  # 67: the login was refused
        raise RuntimeError(f"curl smtp: exit {done.returncode}: {done.stderr.strip()}")
    return done.returncode == 0


PROTOCOLS = {"IMAP": ("imap", imap), "POP3": ("pop3", pop3), "SMTP": ("smtp", smtp)}


def policy(protocol, value):
    tool_json("platform", "policy", PLATFORM, protocol, value)


def add_user(name, password):
    """One more user in the guide's two password files (section 4's format)."""
    hashed = subprocess.run(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", password],
                            capture_output=True, text=True, check=True).stdout.strip()
    with open("/etc/dovecot/mail2fa-users", "a") as f:
        f.write(f"{name}:{hashed}\n")
    with open("/etc/dovecot/mail2fa-pam-users", "a") as f:
        f.write(f"{name}:{hashed.replace('{SHA512-CRYPT}', '')}\n")


def enrolled(name):
    """A user with 2FA, enrolled a minute ago (so that the codes of now
    are unused), as the guide enrolls alice."""
    password = f"{name.split('@')[0]}-password-1"
    add_user(name, password)
    past = int(time.time()) - 60
    uri = tool_json("--now", str(past), "account", "enable", PLATFORM, name)["uri"]
    secrets_used.append(re.search(r"secret=([A-Z2-7]+)", uri).group(1))
    tool_json("--now", str(past), "account", "confirm", PLATFORM, name, e2e.totp(uri, past))
    return Account(name, password, uri)


def row(protocol_name, integration, client_id, index):
    """One row of the table, measured: the cells, 'yes' or 'no'."""
    protocol, login = PROTOCOLS[protocol_name]
    user = enrolled(f"row{index}@example.com")
    what = f"{protocol_name} / {integration}"
    cells = {}

    def attempt(name, password):
        """A login with a credential that is not one-time: over SMTP once
        with AUTH PLAIN and once with AUTH LOGIN, which must agree."""
        if protocol_name != "SMTP":
            return login(name, password, client_id)
        plain, login_ = (smtp(name, password, mechanism=m) for m in ("PLAIN", "LOGIN"))
        check(plain == login_, f"{what}: AUTH PLAIN and AUTH LOGIN agree ({plain}, {login_})")
        return plain

    # password+code, then the same string from more connections (a client's
    # pool of connections, and its reconnects), under code-in-login. Over
    # SMTP the first with AUTH PLAIN, the others with AUTH LOGIN.
    policy(protocol, "code-in-login")
    string = user.password + user.code()
    if protocol_name == "SMTP":
        first = smtp(user.name, string, mechanism="PLAIN")
        more = [smtp(user.name, string, mechanism="LOGIN") for _ in range(2)]
        # A code of its own, first sent with AUTH LOGIN: the same answer.
        with_login = smtp(user.name, user.password + user.code(), mechanism="LOGIN")
        check(with_login == first,
              f"{what}: password+code with AUTH LOGIN as with AUTH PLAIN ({with_login}, {first})")
    else:
        first = login(user.name, string, client_id)
        more = [login(user.name, string, client_id) for _ in range(2)]
    cells["password+code, first connection"] = "yes" if first else "no"
    cells["the same string, more connections"] = "yes" if all(more) else "no"
    check(all(more) or not any(more), f"{what}: more connections all alike ({more})")
    alone_code_policy = attempt(user.name, user.password)

    # An application password for this protocol, under the default policy,
    # from several connections.
    policy(protocol, "default")
    created = tool_json("app-password", "create", PLATFORM, user.name, "--name", "client",
                        "--protocol", protocol)
    app = created["password"]
    apps = [attempt(user.name, app) for _ in range(3)]
    cells["application password, any connection"] = "yes" if all(apps) else "no"
    alone_default = attempt(user.name, user.password)

    # device-authorization: the first login is refused and kept as a
    # pending device; once authorized, the password alone logs in.
    policy(protocol, "device-authorization")
    before = attempt(user.name, user.password)
    check(not before, f"{what}: a new device is refused before it is authorized")
    cells["account password alone, 2FA account, no authorized device"] = \
        "yes" if (alone_default or alone_code_policy or before) else "no"
    devices = tool_json("device", "list", PLATFORM, user.name)["devices"]
    for device in devices:
        tool_json("device", "activate", PLATFORM, user.name, device["id"])
    after = bool(devices) and attempt(user.name, user.password)
    cells["a new device, once authorized"] = "yes" if after else "no"
    policy(protocol, "default")

    cells["account without 2FA"] = "yes" if attempt(BOB, BOB_PASSWORD) else "no"
    return cells


IMAP_ID = '("name" "Thunderbird" "version" "128.5.0" "os" "Linux" "x-device-id" "guide-laptop")'


measured_rows = set()


def measure(variant, rows, start):
    """The rows of one integration; compared with the guide's table."""
    header, table = guide_table()
    for offset, (protocol_name, integration, client_id) in enumerate(rows):
        key = (protocol_name, integration)
        measured_rows.add(key)
        try:
            cells = row(protocol_name, integration, client_id, start + offset)
        except Exception as e:
            check(False, f"{variant}: {key}: {type(e).__name__}: {e}")
            continue
        print(f"      {protocol_name} / {integration}: " +
              ", ".join(f"{k}: {v}" for k, v in cells.items()))
        expected = table.get(key)
        check(expected is not None, f"the guide's table has a row {key}")
        if expected is None:
            continue
        check(set(cells) == set(header), f"{key}: the table's columns are the ones measured")
        for column in header:
            check(expected.get(column) == cells.get(column),
                  f"{key}, {column}: the guide says {expected.get(column)!r}, "
                  f"measured {cells.get(column)!r}")


def failure_delays(count=5):
    """Wrong passwords one after another from one address, with Debian's
    defaults (auth_failure_delay, the penalty): seconds each. Printed for
    the guide's section 14, never asserted."""
    src, times = "127.0.2.1", []
    for n in range(count):
        started = time.monotonic()
        ok = imap(BOB, f"wrong-password-{n}", src=src)
        times.append(time.monotonic() - started)
        check(not ok, f"wrong password {n + 1} refused")
    print("      refused logins from one address: " +
          ", ".join(f"{t:.2f} s" for t in times))
    return times


class Logs:
    """What Dovecot, Postfix and the PAM module send to syslog: caught on
    /dev/log where no syslog daemon owns it (a CI machine), else read from
    the daemon's files (what they gained during the run)."""

    FILES = ("/var/log/syslog", "/var/log/auth.log", "/var/log/mail.log")

    def __init__(self):
        if os.path.exists("/dev/log"):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                probe.connect("/dev/log")
            except OSError:
                os.remove("/dev/log")  # left by a run that was killed
            finally:
                probe.close()
        self.capture = e2e.Syslog()
        self.sizes = {path: os.path.getsize(path) for path in self.FILES
                      if os.path.exists(path)}

    def lines(self):
        if self.capture.sock:
            return list(self.capture.lines)
        lines = []
        for path, size in self.sizes.items():
            with open(path, errors="replace") as f:
                f.seek(size)
                lines += f.read().splitlines()
        return lines

    def close(self):
        self.capture.close()


def mailbox_count(user, password):
    conn = _Imap(source())
    try:
        conn.login(user, password)
        typ, data = conn.select("INBOX", readonly=True)
        return int(data[0])
    finally:
        conn.logout()


def main():
    if os.geteuid() != 0:
        print("run as root (scripts/test-guide.sh)", file=sys.stderr)
        return 1
    steps = guide_steps()
    if checks.failures:
        return checks.summary()
    reset()
    syslog = Logs()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    timeline = {"start": time.monotonic()}
    try:
        for name in STEPS[:STEPS.index("lua")]:
            if name == "install":
                timeline["install"] = time.monotonic()
            run_step(name, steps[name], env)
        # Section 6: variant B first; variant A is run after B's table.
        run_step("lua", steps["lua"], env)
        run_step("postfix", steps["postfix"], env)
        out = run_step("enroll", steps["enroll"], env)
        uris = re.findall(r"otpauth://\S+", out)
        check(len(uris) == 1, "the enrollment shows one provisioning URI")
        alice = Account(ALICE, ALICE_PASSWORD, uris[0])
        secrets_used.append(re.search(r"secret=([A-Z2-7]+)", uris[0]).group(1))
        env["CODE"] = alice.code()
        out = run_step("confirm", steps["confirm"], env)
        app = re.findall(r"shown once:\n\n    (\S+)\n", out)
        check(len(app) == 1, "the tool prints the application password once")
        env["APP_PASSWORD"] = app[0]
        secrets_used.append(app[0])
        out = run_step("first-login", steps["first-login"], env)
        timeline["first login"] = time.monotonic()
        check("INBOX" in out, "the first login lists alice's mailboxes")
        env["CODE"] = alice.code()
        secrets_used.append(ALICE_PASSWORD + env["CODE"])
        out = run_step("code-in-login", steps["code-in-login"], env)
        check("INBOX" in out, "password+code lists alice's mailboxes")
        policy("imap", "default")

        secrets_used.extend([ALICE_PASSWORD, BOB_PASSWORD])
        print("\n--- the table, variant B (Lua passdb)")
        measure("lua", [("IMAP", "Lua, client sends an IMAP ID", IMAP_ID),
                        ("IMAP", "Lua, no IMAP ID", None),
                        ("POP3", "Lua", None),
                        ("SMTP", "Lua", None)], 1)

        run_step("pam", steps["pam"], env)
        print("\n--- the table, variant A (PAM)")
        measure("pam", [("IMAP", "PAM", None), ("POP3", "PAM", None),
                        ("SMTP", "PAM", None)], 11)

        check(measured_rows == set(guide_table()[1]),
              f"every row of the guide's table is measured "
              f"({sorted(set(guide_table()[1]) ^ measured_rows)} differ)")

        print("\n--- mail submitted is delivered")
        time.sleep(2)
        count = mailbox_count(BOB, BOB_PASSWORD)
        check(count > 0, f"bob's INBOX holds the messages submitted ({count})")

        print("\n--- refused logins with Debian's defaults")
        failure_delays()

        time.sleep(1)
        lines = syslog.lines()
        pam_lines = [line for line in lines if "pam_mail2fa" in line and "outcome=" in line]
        lua_lines = [line for line in lines if "db-lua: mail2fa: " in line]
        check(pam_lines, f"the PAM module's decisions reach syslog ({len(pam_lines)} lines)")
        check(lua_lines, f"the Lua passdb's decisions reach Dovecot's log ({len(lua_lines)})")
        log = "/tmp/mail2fa-guide-syslog.txt"
        with open(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("\n".join(lines))
        leaked = checks.no_secrets_in([log], sorted(set(secrets_used)), sorted(set(codes_used)))
        check(not leaked, f"no password, code or application password in the logs ({leaked})")
        seconds = timeline["first login"] - timeline["install"]
        print(f"\nfrom `apt-get install ./*.deb` to the first 2FA login: {seconds:.1f} s")
        print(f"the whole run: {time.monotonic() - timeline['start']:.0f} s")
    finally:
        sh("service dovecot stop; service postfix stop")
        syslog.close()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
