#!/usr/bin/env python3
"""End-to-end tests of mail2fa in a real Dovecot: the PAM module and the Lua
passdb, driven by real IMAP and POP3 sessions (imaplib, poplib).

Run by scripts/test-dovecot.sh, which builds what it needs:

    python3 tests/dovecot/e2e.py --tool target/debug/mail2fa \
        [--pam-driver target/integrations/pam_driver] \
        [--lua-driver target/integrations/lua_driver] \
        [--c-host target/integrations/c_host] \
        --pam-module target/integrations/pam_mail2fa.so \
        --lua-module target/integrations/mail2fa.so [--bench N]

Needs root (PAM service files in /etc/pam.d, Dovecot's privilege separation)
and Debian's dovecot-imapd, dovecot-pop3d, dovecot-auth-lua, libpam-pwdfile.
Each variant runs its own sandbox Dovecot on loopback (own base_dir, ports,
log); the Dovecot configuration is the shipped snippet
(integrations/dovecot/*.conf), included as it is; the PAM stack and the Lua
script are the shipped files with only their paths replaced.
"""

import argparse
import base64
import email
import hashlib
import hmac
import imaplib
import json
import os
import poplib
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTEGRATIONS = os.path.join(ROOT, "integrations")
PLATFORM = "example.com"
# Several runs on one machine (parallel jobs, several worktrees): give each
# its own MAIL2FA_E2E_INSTANCE (0-9) for its own ports and PAM service names.
INSTANCE = int(os.environ.get("MAIL2FA_E2E_INSTANCE", "0"))
if not 0 <= INSTANCE <= 9:
    raise SystemExit("MAIL2FA_E2E_INSTANCE must be 0 to 9")
TAG = f"e2e{INSTANCE}" if INSTANCE else "e2e"
_BASE_PORTS = {
    "plain": (45143, 45110),
    "plain-pam": (46143, 46110),
    "pam": (15143, 15110),
    "lua": (25143, 25110),
    "cluster-a": (35143, 35110),
    "cluster-b": (36143, 36110),
}
PORTS = {variant: (imap + 100 * INSTANCE, pop3 + 100 * INSTANCE)
         for variant, (imap, pop3) in _BASE_PORTS.items()}
PASSWORDS = {
    "bob@example.org": "bob-Secret-1",
    "alice@example.com": "alice-Secret-1",
    "carol@example.com": "carol-Secret-1",
    "dave@example.com": "dave-Secret-1",
    "erin@example.com": "erin-Secret-1",
    "frank@example.com": "frank-Secret-1",  # disabled in the host's password file
    "henry@example.com": "henry-Secret-1",  # notifications (Lua)
    "iris@example.com": "iris-Secret-1",  # notifications by SMS (Lua)
}
for _who in ("pam", "lua", "tool", "c"):  # same_decisions' accounts, two runs at most
    for _round in (1, 2):
        PASSWORDS[f"same-{_who}-{_round}@example.com"] = "same-Secret-1"
DISABLED = "frank@example.com"
# Other spellings of alice's account that a directory behind the password
# check (LDAP, SSSD) may match to her: the host's password files know them
# with her password. mail2fa must refuse them, never answer "no 2FA".
OTHER_SPELLINGS = [
    "\uff41lice@example.com",  # FULLWIDTH LATIN SMALL LETTER A
    "alice@example.com.",  # a trailing dot
    "example\\alice@example.com",  # a Windows domain login
    "Alice@example.com",
]
for _spelling in OTHER_SPELLINGS:
    PASSWORDS[_spelling] = PASSWORDS["alice@example.com"]
# imaplib has no ID command (RFC 2971); it may be sent in any state.
imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))
THUNDERBIRD = '("name" "Thunderbird" "version" "115.0" "os" "Linux")'
K9 = '("name" "K-9 Mail" "version" "6.8")'
# The Lua variant's configuration file: the shipped example's portal link,
# with the device.
PORTAL_LINK_SHIPPED = '#portal_link = "https://mail.example.com/devices?user={account}"'
PORTAL_LINK = "https://mail.example.com/devices"
NOTIFY_FROM = "mail2fa@example.com"

failures = []
passes = 0


def check(condition, what):
    """Records one check; the run fails at the end if any check failed."""
    global passes
    if condition:
        passes += 1
        print(f"ok    {what}")
    else:
        failures.append(what)
        print(f"FAIL  {what}")


def totp(uri, at):
    """The code an authenticator app shows at Unix time `at` (RFC 6238,
    SHA-1, 30-second steps, the URI's digits)."""
    query = dict(p.split("=", 1) for p in uri.split("?", 1)[1].split("&"))
    secret, digits = query["secret"], int(query.get("digits", "6"))
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 15
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def crypt_sha512(password):
    """A SHA-512 crypt(3) hash, as pam_pwdfile and Dovecot read them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # Python 3.11 has it (deprecated, removed in 3.13)
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


class Tool:
    """The operator tool on one database."""

    def __init__(self, binary, db):
        self.binary, self.db = binary, db

    def run(self, *args, now=None):
        cmd = [self.binary, "--db", self.db, "--json", "--yes", "--color", "never"]
        if now is not None:
            cmd += ["--now", str(int(now))]
        done = subprocess.run(cmd + list(args), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"mail2fa {' '.join(args)}: {done.stderr.strip()}")
        return json.loads(done.stdout) if done.stdout.strip() else None

    def enroll(self, account):
        """Enables and confirms 2FA 60 s in the past, so that three codes
        (the previous, current and next step) are usable now. Returns the URI."""
        past = time.time() - 60
        uri = self.run("account", "enable", PLATFORM, account, now=past)["uri"]
        self.run("account", "confirm", PLATFORM, account, totp(uri, past), now=past)
        return uri


def imap_login(port, user, password, client_id=None):
    """One IMAP session: (logged in?, the server's answer)."""
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    try:
        if client_id:
            conn._simple_command("ID", client_id)
        try:
            typ, data = conn.login(user, password)
            return typ == "OK", data[0].decode(errors="replace")
        except imaplib.IMAP4.error as e:
            return False, str(e)
    finally:
        try:
            conn.logout()
        except Exception:
            pass


def pop3_login(port, user, password):
    """One POP3 session: (logged in?, the server's answer)."""
    conn = poplib.POP3("127.0.0.1", port, timeout=10)
    try:
        conn.user(user)
        try:
            return True, conn.pass_(password).decode(errors="replace")
        except poplib.error_proto as e:
            return False, str(e)
    finally:
        try:
            conn.quit()
        except Exception:
            pass


class Dovecot:
    """A sandbox Dovecot instance on loopback."""

    def __init__(self, work, variant, passdb_conf):
        self.dir = os.path.join(work, variant)
        self.imap, self.pop3 = PORTS[variant]
        self.conf = os.path.join(self.dir, "dovecot.conf")
        for sub in ("run", "state", "log", "home"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        shutil.chown(os.path.join(self.dir, "home"), "nobody", "nogroup")
        with open(self.conf, "w") as f:
            f.write(f"""# Sandbox for the mail2fa end-to-end tests ({variant}).
instance_name = mail2fa-{TAG}-{variant}
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/log/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
mail_location = maildir:~/Maildir
first_valid_uid = 1
first_valid_gid = 1
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={self.dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
# Failed logins are not slowed down by anvil's penalty in tests.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{passdb_conf}
""")

    def start(self):
        shutil.rmtree(os.path.join(self.dir, "run"), ignore_errors=True)
        os.makedirs(os.path.join(self.dir, "run"))
        started = time.monotonic()
        subprocess.run(["dovecot", "-c", self.conf], check=True)
        deadline = started + 15
        for port, greeting in ((self.imap, b"* OK"), (self.pop3, b"+OK")):
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                        if s.recv(64).startswith(greeting):
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dovecot did not greet on {port}: see {self.log()}")
                time.sleep(0.05)
        return time.monotonic() - started

    def stop(self):
        pidfile = os.path.join(self.dir, "run", "master.pid")
        try:
            pid = int(open(pidfile).read())
        except OSError:
            return
        os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while os.path.exists(pidfile) and time.monotonic() < deadline:
            time.sleep(0.05)

    def log(self):
        return os.path.join(self.dir, "log", "dovecot.log")

    def setting(self, name):
        done = subprocess.run(["doveconf", "-c", self.conf, "-h", name],
                              capture_output=True, text=True, check=True)
        return done.stdout.strip()


def shipped(path, replacements):
    """A shipped file with only its paths replaced; each must be there."""
    text = open(os.path.join(INTEGRATIONS, path)).read()
    for old, new in replacements.items():
        if old not in text:
            raise RuntimeError(f"{path} no longer contains {old!r}")
        text = text.replace(old, new)
    return text


class Syslog:
    """Collects what the PAM module sends to syslog, when no syslog daemon
    owns /dev/log (a CI machine): a datagram socket there, read in a thread."""

    def __init__(self):
        import threading
        self.lines, self.sock = [], None
        if os.path.exists("/dev/log"):
            return
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                self.lines.append(self.sock.recv(8192).decode(errors="replace"))
            except OSError:
                return

    def close(self):
        if self.sock:
            self.sock.close()
            os.remove("/dev/log")


def guide_quotes_shipped_files():
    """The deployment guides quote every shipped snippet exactly."""
    import re
    quoted = []
    for page in ("README.md", "web-service.md"):
        guide = open(os.path.join(INTEGRATIONS, page)).read()
        quoted += re.findall(r"<!-- file: (\S+) -->\n```\n(.*?)```", guide, re.S)
    check(len(quoted) >= 5, f"the guides quote the shipped files ({len(quoted)} found)")
    for path, text in quoted:
        with open(os.path.join(ROOT, path)) as f:
            check(f.read() == text, f"the guide's copy of {path} is the shipped file")


def write_users(work):
    """The host's own password database, in the two formats used."""
    hashes = {user: crypt_sha512(pw) for user, pw in PASSWORDS.items()}
    pwdfile = os.path.join(work, "users.pwdfile")  # pam_pwdfile: user:crypt
    passwd = os.path.join(work, "users.passwd")  # Dovecot passwd-file: user:{SCHEME}crypt
    with open(pwdfile, "w") as f:
        f.writelines(f"{u}:{h}\n" for u, h in hashes.items())
    with open(passwd, "w") as f:
        f.writelines(f"{u}:{{SHA512-CRYPT}}{'!' if u == DISABLED else ''}{h}\n"
                     for u, h in hashes.items())
    os.chmod(pwdfile, 0o600)
    os.chmod(passwd, 0o644)
    return pwdfile, passwd


def scenarios(variant, server, tool, syslog=None):
    """The stories every integration must pass."""
    imap, pop3 = server.imap, server.pop3
    name = variant.upper()
    pw = PASSWORDS

    # An account without 2FA logs in with its password; a wrong one is refused.
    check(imap_login(imap, "bob@example.org", pw["bob@example.org"])[0],
          f"{name}: no 2FA, IMAP with the password")
    check(pop3_login(pop3, "bob@example.org", pw["bob@example.org"])[0],
          f"{name}: no 2FA, POP3 with the password")
    wrong_answer = imap_login(imap, "bob@example.org", "not-the-password")
    check(not wrong_answer[0], f"{name}: no 2FA, a wrong password is refused")

    # S15/S16: IMAP and POP3 take only application passwords by default.
    tool.enroll("alice@example.com")
    alice = ("alice@example.com", pw["alice@example.com"])
    check(not imap_login(imap, *alice)[0], f"{name}: 2FA account, IMAP refuses the plain password")
    check(not pop3_login(pop3, *alice)[0], f"{name}: 2FA account, POP3 refuses the plain password")
    app = tool.run("app-password", "create", PLATFORM, alice[0], "--name", "mail app")["password"]
    check(imap_login(imap, alice[0], app)[0], f"{name}: application password over IMAP")
    check(pop3_login(pop3, alice[0], app)[0], f"{name}: application password over POP3")
    tool.run("app-password", "revoke", PLATFORM, alice[0], "1")
    check(not imap_login(imap, alice[0], app)[0], f"{name}: revoked application password, IMAP")
    check(not pop3_login(pop3, alice[0], app)[0], f"{name}: revoked application password, POP3")
    # Another spelling that Dovecot lets through (its auth_username_chars
    # stop non-ASCII and '\\'), known to the host's password file: no 2FA
    # record under it, so it must be refused, not let in with the password.
    check(not imap_login(imap, "alice@example.com.", alice[1])[0],
          f"{name}: another spelling of a 2FA account (a trailing dot) is refused")

    if variant == "lua":
        # A user disabled in the host's password file is refused, even with
        # an application password.
        tool.enroll(DISABLED)
        frank_app = tool.run("app-password", "create", PLATFORM, DISABLED, "--name", "x")["password"]
        check(not imap_login(imap, DISABLED, frank_app)[0],
              f"{name}: a user disabled by the host is refused, application password too")

    # Where the policy takes a code in the login: once, never replayed.
    carol = "carol@example.com"
    uri = tool.enroll(carol)
    for protocol in ("imap", "pop3"):
        tool.run("account", "policy", PLATFORM, carol, protocol, "code-in-login")
    check(not imap_login(imap, carol, pw[carol])[0], f"{name}: code-in-login, no code is refused")
    now = time.time()
    first = pw[carol] + totp(uri, now - 30)
    if variant == "lua":
        check(imap_login(imap, carol, first, THUNDERBIRD)[0],
              f"{name}: password+code over IMAP (Thunderbird)")
        check(not imap_login(imap, carol, first, K9)[0],
              f"{name}: the same string from another client (K-9) is refused")
        check(not imap_login(imap, carol, first)[0],
              f"{name}: the same string from a client without IMAP ID is refused")
        check(imap_login(imap, carol, first, THUNDERBIRD)[0],
              f"{name}: the same client reconnecting with the stale string is let in (binding)")
        check(not imap_login(imap, carol, pw[carol], THUNDERBIRD)[0],
              f"{name}: the bound client with the password alone is refused (binding needs the string)")
    else:
        check(imap_login(imap, carol, first)[0], f"{name}: password+code over IMAP")
        check(not imap_login(imap, carol, first)[0], f"{name}: the same string replayed is refused")
    second = pw[carol] + totp(uri, now)
    check(pop3_login(pop3, carol, second)[0], f"{name}: password+next code over POP3")
    check(not pop3_login(pop3, carol, second)[0], f"{name}: POP3 replay is refused")

    # A wrong password with the right code must not burn the code.
    dave = "dave@example.com"
    uri = tool.enroll(dave)
    tool.run("account", "policy", PLATFORM, dave, "imap", "code-in-login")
    code = totp(uri, time.time())
    check(not imap_login(imap, dave, "wrong-password" + code)[0],
          f"{name}: wrong password with the right code is refused")
    check(imap_login(imap, dave, pw[dave] + code)[0],
          f"{name}: ... and the code still works with the right password")

    # Wrong codes lock the account; the lock looks like a wrong password.
    erin = "erin@example.com"
    uri = tool.enroll(erin)
    tool.run("account", "policy", PLATFORM, erin, "imap", "code-in-login")
    good = totp(uri, time.time())
    wrong = "%06d" % ((int(good) + 500_000) % 1_000_000)
    answers = [imap_login(imap, erin, pw[erin] + wrong)[1] for _ in range(5)]
    locked = tool.run("account", "show", PLATFORM, erin)["locked_until"]
    check(locked is not None, f"{name}: five wrong codes lock the account")
    ok, answer = imap_login(imap, erin, pw[erin] + good)
    check(not ok, f"{name}: the right code is refused while locked")
    check(answer == wrong_answer[1] and set(answers) == {wrong_answer[1]},
          f"{name}: locked, wrong code and wrong password all answer {wrong_answer[1]!r}")

    if variant == "pam":
        # Fail closed: without its database the module lets nobody in (not
        # even an account without 2FA), and never creates a new one. The
        # auth processes keep the engine they opened (and its open file), so
        # the database is found missing by a new process: restart Dovecot.
        moved = tool.db + ".away"
        os.rename(tool.db, moved)
        try:
            server.stop()
            server.start()
            check(not imap_login(imap, "bob@example.org", pw["bob@example.org"])[0],
                  f"{name}: database missing: even an account without 2FA is refused")
            check(not os.path.exists(tool.db), f"{name}: database missing: it is not created")
        finally:
            os.rename(moved, tool.db)
        server.stop()
        server.start()
        check(imap_login(imap, "bob@example.org", pw["bob@example.org"])[0],
              f"{name}: database back: logins work again")

    # One-time answers never come from Dovecot's auth cache.
    check(server.setting("auth_cache_size") == "0", f"{name}: the auth cache is off")
    secrets = list(pw.values()) + [app, code, good, wrong]
    log = open(server.log(), errors="replace").read()
    leaked = [s for s in secrets if s in log]
    check(not leaked, f"{name}: no password, code or application password in Dovecot's log")
    if syslog is not None and syslog.sock is not None:
        lines = "\n".join(syslog.lines)
        check("pam_mail2fa" in lines and "replayed" in lines and "locked" in lines.lower(),
              f"{name}: the module logs its decisions to syslog ({len(syslog.lines)} lines)")
        check(not [s for s in secrets if s in lines],
              f"{name}: no password, code or application password in syslog")


def damaged_at(conf):
    """The line and column of lockout.max_failures's value in `conf`,
    where the damaged copies put a string."""
    with open(conf) as f:
        for number, line in enumerate(f, 1):
            if line.startswith("max_failures = "):
                return f"{number}:{len('max_failures = ') + 1}"
    raise RuntimeError(f"{conf} has no max_failures line")


def pam_outside_dovecot(driver, work, pam_module, conf, pwdfile, tool, syslog=None):
    """The PAM module where Dovecot cannot take it: user names not in lower
    case, input that is not UTF-8, a host module answering PAM_IGNORE,
    stacks without one of mail2fa's lines, one process that logs in again
    and forks."""
    confdir = os.path.join(work, "pam-confdir")
    os.makedirs(confdir, exist_ok=True)
    stack = shipped("pam/mail2fa-imap.pam", {
        "pam_mail2fa.so": pam_module,
        "/etc/mail2fa/mail2fa.toml": conf,
        "/etc/dovecot/mail2fa-pam-users": pwdfile,
    })
    host = "pam_pwdfile.so pwdfile=" + pwdfile + " use_first_pass"
    stacks = {
        "m2fa-imap": stack,
        # The host module says PAM_IGNORE (pam_sss for an unknown user, say).
        "m2fa-ignore-imap": stack.replace(host, "pam_debug.so auth=ignore"),
        # A host module that takes any password: what mail2fa does with the input.
        "m2fa-any-imap": stack.replace(host, "pam_permit.so"),
    }
    # The same without line 1 (the split line then begins the login itself),
    # and without line 2 (nothing split: the input is taken as the password).
    for service, phase in (("m2fa-nofirst-imap", "app-password"), ("m2fa-nosplit-imap", "split")):
        stacks[service] = "".join(line for line in stacks["m2fa-any-imap"].splitlines(True)
                                  if not (line.startswith("auth") and f"phase={phase} " in line))
    for service, text in stacks.items():
        if service != "m2fa-imap" and text == stack or \
                service.startswith(("m2fa-nofirst", "m2fa-nosplit")) and \
                text == stacks["m2fa-any-imap"]:
            raise RuntimeError(f"{service}: the shipped stack no longer has the expected lines")
        with open(os.path.join(confdir, service), "w") as f:
            f.write(text)

    def login(service, user, password, new_user=None):
        done = subprocess.run([driver, confdir, service, user, password, "203.0.113.7"]
                              + ([new_user] if new_user else []), capture_output=True)
        return done.returncode == 0

    bob, bob_pw = "bob@example.org", PASSWORDS["bob@example.org"]
    check(login("m2fa-imap", bob, bob_pw), "PAM direct: the shipped stack lets bob in")
    # A host module that ignores case would take "Alice@..." for alice; that
    # spelling has no 2FA record, so it must be refused, not let in.
    check(login("m2fa-any-imap", bob, "anything"), "PAM direct: any password with pam_permit")
    check(not login("m2fa-any-imap", "Alice@example.com", "anything"),
          "PAM direct: a user name with upper-case letters is refused")
    # One spelling per account: what the host's password module would match
    # to alice (her password is in its file under these names) is refused.
    alice_pw = PASSWORDS["alice@example.com"]
    for spelling in OTHER_SPELLINGS:
        check(not login("m2fa-imap", spelling, alice_pw),
              f"PAM direct: other spelling {spelling!r} of a 2FA account is refused")
    for spelling in OTHER_SPELLINGS + ["\u212aate@example.com", "alice @example.com"]:
        check(not login("m2fa-any-imap", spelling, "anything"),
              f"PAM direct: {spelling!r} is refused even when the host module says yes")
    # PAM_USER changed between mail2fa's phases (by a module in between):
    # the password checked for one user must not let in another.
    check(login("m2fa-imap", bob, bob_pw, new_user=bob),
          "PAM direct: PAM_USER set again to the same name: bob gets in")
    check(not login("m2fa-imap", "alice@example.com", bob_pw, new_user=bob),
          "PAM direct: PAM_USER changed from a 2FA account to bob between phases is refused")
    check(not login("m2fa-any-imap", "alice@example.com", "anything", new_user=bob),
          "PAM direct: ... also when the host module says yes")
    check(not login("m2fa-any-imap", bob, "anything", new_user="alice@example.com"),
          "PAM direct: PAM_USER changed from bob to a 2FA account is refused")
    if syslog is not None and syslog.sock is not None:
        time.sleep(0.2)  # the reader thread
        lines = "\n".join(syslog.lines)
        check("outside mail2fa's alphabet" in lines and "user name changed since phase=" in lines,
              "PAM direct: the module logs why (name outside the alphabet, user name changed)")
    # One login carried through the stack's lines: a code login works with
    # every line, and without line 1; without line 2 nothing is split off and
    # the password alone is not enough.
    hank = "hank@example.com"
    uri = tool.enroll(hank)
    tool.run("account", "policy", PLATFORM, hank, "imap", "code-in-login")
    now = time.time()
    first, second, third = (totp(uri, now - 30), totp(uri, now), totp(uri, now + 30))
    check(login("m2fa-any-imap", hank, "pw" + first), "PAM direct: password+code, whole stack")
    check(not login("m2fa-any-imap", hank, "pw" + first), "PAM direct: ... replayed: refused")
    check(login("m2fa-nofirst-imap", hank, "pw" + second),
          "PAM direct: password+code without the application-password line")
    check(not login("m2fa-nosplit-imap", hank, "pw" + third),
          "PAM direct: without the split line, password+code is refused (taken whole)")
    check(login("m2fa-any-imap", hank, "pw" + third),
          "PAM direct: ... and that code was not used up")
    check(not login("m2fa-ignore-imap", bob, "anything"),
          "PAM direct: a host module answering PAM_IGNORE does not let anyone in")
    latin1 = os.fsdecode(b"caf\xe9-password")  # not UTF-8 once passed as bytes
    check(login("m2fa-any-imap", bob, latin1),
          "PAM direct: a password that is not UTF-8 is taken whole (account without 2FA)")
    check(not login("m2fa-any-imap", "alice@example.com", latin1),
          "PAM direct: ... and does not get a 2FA account in")

    # One engine per process for the life of the process, not one per
    # login; a forked child opens its own and leaves the parent's alone.
    # Seen through the database: moved away after the first login, it is
    # still the kept engine's (an open file), and missing to a new engine.
    env = dict(os.environ, PAM_DRIVER_MORE="1")
    proc = subprocess.Popen([driver, confdir, "m2fa-imap", bob, bob_pw, "203.0.113.7"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(command):
        proc.stdin.write(command + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().startswith("ok")

    check(proc.stdout.readline().startswith("ok"), "PAM process: the first login")
    moved = tool.db + ".away"
    os.rename(tool.db, moved)
    try:
        check(ask("again"), "PAM process: the database moved away, the next login in the "
              "same process still works (its engine is kept, not opened per login)")
        check(not ask("fork"), "PAM process: a forked child does not use the parent's engine "
              "(it opens its own: the database is missing, refused)")
        check(ask("again"), "PAM process: ... and the parent's engine still works after it")
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        os.rename(moved, tool.db)
    # The legacy argument db= (instead of config=) still works; both at once
    # are refused; neither: the default configuration file is read.
    variants = {
        "m2fa-legacy-imap": stack.replace("config=" + conf, "db=" + tool.db),
        "m2fa-both-imap": stack.replace("config=" + conf, f"config={conf} db={tool.db}"),
        "m2fa-default-imap": stack.replace(" config=" + conf, ""),
    }
    for service, text in variants.items():
        with open(os.path.join(confdir, service), "w") as f:
            f.write(text)
    check(login("m2fa-legacy-imap", bob, bob_pw), "PAM direct: the legacy db= still works")
    check(not login("m2fa-both-imap", bob, bob_pw), "PAM direct: config= and db= together: refused")
    if not os.path.exists("/etc/mail2fa/mail2fa.toml"):
        check(not login("m2fa-default-imap", bob, bob_pw),
              "PAM direct: neither: /etc/mail2fa/mail2fa.toml is read (missing here: refused)")
    # A configuration that cannot be used: every login refused, the reason
    # with its line and column in syslog.
    damaged = conf + ".damaged"
    with open(conf) as f, open(damaged, "w") as out:
        out.write(f.read().replace("max_failures = 5", "max_failures = \"five\""))
    with open(os.path.join(confdir, "m2fa-damaged-imap"), "w") as f:
        f.write(stack.replace(conf, damaged))
    check(not login("m2fa-damaged-imap", bob, bob_pw),
          "PAM direct: a damaged configuration refuses every login")
    if syslog is not None and syslog.sock is not None:
        time.sleep(0.2)  # the reader thread
        line = next((x for x in syslog.lines if damaged + ":" in x), "")
        check(f"{damaged}:{damaged_at(conf)}:" in line,
              f"PAM direct: syslog names the file, line and column ({line!r})")


def raw_imap_login(port, user, password, id_name):
    """An IMAP session whose ID sends `id_name` as a literal, which may hold
    CR and LF (a quoted string cannot): (ID accepted?, logged in?, answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        f = sock.makefile("rwb")
        f.readline()

        def command(tag, line):
            f.write(line)
            f.flush()
            while True:
                answer = f.readline()
                if not answer or answer.startswith(tag + b" "):
                    return answer.decode(errors="replace").strip()

        name = id_name.encode()
        id_answer = command(b"a1", b'a1 ID ("version" "1.0" "name" {%d+}\r\n%s)\r\n'
                            % (len(name), name))
        answer = command(b"a2", b'a2 LOGIN "%s" "%s"\r\n' % (user.encode(), password.encode()))
        f.write(b"a3 LOGOUT\r\n")
        f.flush()
        return id_answer.startswith("a1 OK"), answer.startswith("a2 OK"), answer


def fake_sendmail(work):
    """A stand-in for sendmail -t -i: each message into a file of its own in
    WORK/outbox (its arguments beside it, NAME.args); while WORK/notify-fail
    exists, it reads the message and exits 3. Returns (command, outbox)."""
    outbox = os.path.join(work, "outbox")
    os.makedirs(outbox)
    path = os.path.join(work, "fake-sendmail")
    with open(path, "w") as f:
        f.write(f"""#!/bin/sh
if [ -e {work}/notify-fail ]; then cat >/dev/null; exit 3; fi
out=$(mktemp {outbox}/message-XXXXXX)
printf '%s\\n' "$*" > "$out.args"
cat > "$out"
""")
    os.chmod(path, 0o755)
    return path, outbox


def lua_notifications(server, tool, work, outbox):
    """The Lua passdb mails the message about a blocked device through its
    notify_command (here the fake sendmail): once per device and interval,
    with no header a client can inject; an SMS goes by e-mail instead; a
    failing command changes nothing for the login."""
    imap = server.imap
    henry, iris = "henry@example.com", "iris@example.com"
    pw = PASSWORDS[henry]
    seen = set()

    def new_messages():
        """The messages written since the last call: [(raw bytes, arguments)]."""
        names = sorted(n for n in os.listdir(outbox) if not n.endswith(".args") and n not in seen)
        seen.update(names)
        out = []
        for n in names:
            with open(os.path.join(outbox, n), "rb") as f, \
                    open(os.path.join(outbox, n + ".args")) as a:
                out.append((f.read(), a.read().strip()))
        return out

    def headers(raw):
        return raw.split(b"\n\n", 1)[0]

    tool.enroll(henry)
    tool.run("account", "policy", PLATFORM, henry, "imap", "device-authorization")
    wrong_answer = imap_login(imap, henry, "not-the-password", THUNDERBIRD)[1]
    check(not new_messages(), "LUA notify: a wrong password sends nothing")
    ok, answer = imap_login(imap, henry, pw, THUNDERBIRD)
    check(not ok and answer == wrong_answer,
          f"LUA notify: a new device with the right password is refused ({answer!r})")
    devices = tool.run("device", "list", PLATFORM, henry)["devices"]
    check(len(devices) == 1 and devices[0]["state"] == "inactive"
          and devices[0]["device_type"] == "Thunderbird",
          f"LUA notify: the device is pending (mail2fa device list: {devices})")
    device = devices[0]["id"] if devices else "(none)"
    sent = new_messages()
    check(len(sent) == 1, f"LUA notify: one message handed to notify_command ({len(sent)})")
    raw, args = sent[0] if sent else (b"", "")
    msg = email.message_from_bytes(raw)
    check(msg["To"] == henry and msg["Subject"] == f"New device blocked for {henry}"
          and msg["From"] == NOTIFY_FROM and msg.get_content_type() == "text/plain"
          and msg.get_content_charset() == "utf-8" and args == "-t -i",
          f"LUA notify: To the account, Subject, From, text/plain utf-8, the command's "
          f"arguments ({dict(msg.items())}, {args!r})")
    body = msg.get_payload()
    check(f"{PORTAL_LINK}?user={henry}&device={device}" in body,
          f"LUA notify: the text has the portal link with the device ({body!r})")
    check(pw.encode() not in raw, "LUA notify: no password in the message")

    ok, answer = imap_login(imap, henry, pw, THUNDERBIRD)
    check(not ok and not new_messages(),
          "LUA notify: the same device again within the notify interval: refused, no second message")

    # A device type with CR/LF (an IMAP ID literal): no header injected.
    id_ok, ok, answer = raw_imap_login(imap, henry, pw, "Evil\r\nBcc: victim@example.net")
    check(id_ok and not ok, f"LUA notify: a client whose ID name holds CR/LF is refused ({answer!r})")
    types = [d["device_type"] for d in tool.run("device", "list", PLATFORM, henry)["devices"]]
    check("EvilBcc: victim@example.net" in types,
          f"LUA notify: ... its name reached mail2fa, the CR/LF dropped ({types})")
    sent = new_messages()
    check(len(sent) == 1, f"LUA notify: ... as a new device, one message ({len(sent)})")
    raw = sent[0][0] if sent else b""
    names = [k.lower() for k in email.message_from_bytes(raw).keys()]
    check(sorted(names) == sorted(["to", "subject", "from", "mime-version", "content-type",
                                   "content-transfer-encoding"])
          and b"victim" not in headers(raw) and b"Bcc" not in headers(raw),
          f"LUA notify: ... and no injected header ({headers(raw)!r})")

    # The command fails (exit 3): logged; the login answers as before.
    flag = os.path.join(work, "notify-fail")
    open(flag, "w").close()
    try:
        ok, answer = imap_login(imap, henry, pw, K9)
    finally:
        os.remove(flag)
    check(not ok and answer == wrong_answer and not new_messages(),
          f"LUA notify: a failing notify_command: refused as before, nothing sent ({answer!r})")
    log = open(server.log(), errors="replace").read()
    check("notify_command failed (exit 3)" in log, "LUA notify: ... and its failure is logged")

    # An SMS cannot go from Dovecot: the e-mail version, to the address set.
    tool.enroll(iris)
    tool.run("account", "contact", PLATFORM, iris, "--phone", "+15551234567",
             "--email", "iris.home@example.net")
    tool.run("account", "policy", PLATFORM, iris, "imap", "device-authorization")
    ok, _ = imap_login(imap, iris, PASSWORDS[iris], THUNDERBIRD)
    sent = new_messages()
    msg = email.message_from_bytes(sent[0][0] if sent else b"")
    check(not ok and len(sent) == 1 and msg["To"] == "iris.home@example.net"
          and "devices?user=iris@example.com&device=" in msg.get_payload(),
          f"LUA notify: an SMS notification goes by e-mail to the address set ({dict(msg.items())})")
    log = open(server.log(), errors="replace").read()
    check("an SMS cannot be sent from Dovecot" in log and "+15551234567" not in log,
          "LUA notify: ... which is logged (without the number)")

    # Activated with the tool: the device gets in with the password.
    tool.run("device", "activate", PLATFORM, henry, device)
    check(imap_login(imap, henry, pw, THUNDERBIRD)[0],
          "LUA notify: the device activated with the tool: the next login passes")
    check(not new_messages(), "LUA notify: ... and nothing is sent")
    log = open(server.log(), errors="replace").read()
    check(pw not in log and PASSWORDS[iris] not in log, "LUA notify: no password in Dovecot's log")


SCRIPT_CHECKS = r"""
-- The shipped passdb script (the Lua variant's copy: its users file, the fake
-- sendmail as notify_command) outside Dovecot, on a fake mail2fa module whose
-- decisions carry the notifications given here: what the script mails.
local script, outbox, user, password = table.unpack(arg, 1, 4)
local function check(ok, what) print((ok and "ok    " or "FAIL  ") .. "LUA script: " .. what) end
local A = { PASSDB_RESULT_OK = 1, PASSDB_RESULT_USER_UNKNOWN = 2,
  PASSDB_RESULT_PASSWORD_MISMATCH = 3, PASSDB_RESULT_INTERNAL_FAILURE = 4 }
dovecot = { auth = A }
local note, fallback, fallback_err, fallback_raises
local engine = {
  is_open = function() return true end,
  close = function() end,
  check_login = function(_, _, _, _, input, _, host_check)
    assert(host_check(input) == true)
    return { allowed = false, outcome = "device_pending", reason = "device_pending",
      cacheable = false, audit = "fake decision", device = string.rep("ab", 16),
      notification = note }
  end,
  notification_fallback = function()
    if fallback_raises then error("fallback raised") end
    return fallback, fallback_err
  end,
}
package.loaded["mail2fa"] = {
  check_name = function() return true end,
  open_config = function() return engine end,
}
dofile(script)
local logs = {}
local function log(_, line) logs[#logs + 1] = line end
local function login()
  logs = {}
  local req = { user = user, service = "imap", remote_ip = "203.0.113.7",
    password_verify = function() return 1 end, log_info = log, log_warning = log, log_error = log }
  return auth_password_verify(req, password)
end
local function logged(text)
  for _, line in ipairs(logs) do
    if line:find(text, 1, true) then return true end
  end
  return false
end
local function count()
  local n, ls = 0, io.popen("ls " .. outbox)
  for name in ls:lines() do
    if not name:find("%.args$") then n = n + 1 end
  end
  ls:close()
  return n
end
local function newest()
  local ls = io.popen("ls -t " .. outbox .. " | grep -v '\\.args$' | head -n 1")
  local name = ls:read("l")
  ls:close()
  local f = io.open(outbox .. "/" .. name)
  local text = f:read("a")
  f:close()
  return text
end

local before = count()
note = { channel = "email", to = user, subject = "Subject line", text = "The text.\r\nLine 2" }
check(login() == A.PASSDB_RESULT_PASSWORD_MISMATCH and count() == before + 1,
  "a decision's e-mail notification is mailed; the login refused as decided")
local sent = newest()
check(sent:find("^To: " .. user .. "\nSubject: Subject line\n") and sent:find("\n\nThe text.\nLine 2\n$")
  and not sent:find(password, 1, true), "the message: its headers, a blank line, the text")
for _, field in ipairs({ "subject", "to" }) do
  for what, bad in pairs({ ["CR LF"] = "\r\nBcc: victim@example.net",
      LF = "\nBcc: victim@example.net", NUL = "\0x" }) do
    before = count()
    note = { channel = "email", to = user, subject = "Subject", text = "T" }
    note[field] = note[field] .. bad
    check(login() == A.PASSDB_RESULT_PASSWORD_MISMATCH and count() == before
      and logged("control character"),
      string.format("a %s holding %s (header injection) is refused: nothing mailed, logged",
        field, what))
  end
end
before = count()
note = { channel = "sms", to = "+15551234567", subject = "S", text = "T" }
fallback = { channel = "email", to = "home@example.net", subject = "S", text = "T" }
check(login() == A.PASSDB_RESULT_PASSWORD_MISMATCH and count() == before + 1
  and newest():find("^To: home@example.net\n") and logged("an SMS cannot be sent from Dovecot"),
  "an SMS notification: its e-mail version is mailed, and that is logged")
before = count()
fallback = nil
check(login() == A.PASSDB_RESULT_PASSWORD_MISMATCH and count() == before
  and logged("not sent (no e-mail address)"), "an SMS without an e-mail version: nothing mailed, logged")
fallback_err = "store down"
check(login() == A.PASSDB_RESULT_PASSWORD_MISMATCH and count() == before
  and logged("store down"), "the e-mail version cannot be had: nothing mailed, logged")
fallback_raises = true
check(login() == A.PASSDB_RESULT_PASSWORD_MISMATCH and count() == before
  and logged("fallback raised"), "an error while notifying: logged, the login answered as decided")
note = nil
check(login() == A.PASSDB_RESULT_PASSWORD_MISMATCH and count() == before and not logged("notification"),
  "a decision without a notification: nothing mailed")
for _, line in ipairs(logs) do
  if line:find(password, 1, true) then check(false, "the password in the log") end
end
"""


def lua_script_outside_dovecot(driver, work, script, outbox):
    """The passdb script's notifications on decisions a real engine does not
    make (header values with CR/LF, a missing e-mail version, errors)."""
    path = os.path.join(work, "script_checks.lua")
    with open(path, "w") as f:
        f.write(SCRIPT_CHECKS)
    done = subprocess.run([driver, path, script, outbox, "henry@example.com",
                           PASSWORDS["henry@example.com"]], capture_output=True, text=True)
    lines = done.stdout.splitlines()
    for line in lines:
        if line.startswith(("ok    ", "FAIL  ")):
            check(line.startswith("ok"), line[6:])
    check(done.returncode == 0 and len(lines) >= 13,
          f"LUA script: the checks ran to their end ({done.stderr.strip()})")


LUA_CHECKS = r"""
-- The Lua module's check_login outside Dovecot: what the script's password
-- check is given, and what becomes of a check that cannot answer.
local moddir, conf, platform, account, password, code1, code2, damaged, where, local_account =
  table.unpack(arg, 1, 10)
package.cpath = moddir .. "/?.so;" .. package.cpath
local m2fa = require "mail2fa"
local function check(ok, what) print((ok and "ok    " or "FAIL  ") .. "LUA module: " .. what) end
local e = assert(m2fa.open_config(conf))
local seen
local function host(answer)
  seen = {}
  return function(pw) seen[#seen + 1] = pw; return answer end
end
local client = { remote_addr = "203.0.113.7" }

local r, err = e:check_login(platform, account, "imap", password .. code1, client, host(true))
check(r and r.allowed and r.reason == "code_accepted", "check_login lets password+code in")
check(#seen == 1 and seen[1] == password, "the script's check is called once, with the password part only")
r = e:check_login(platform, account, "imap", password .. code1, client, host(true))
check(r and not r.allowed and r.reason == "replayed", "the same string again is refused (replayed)")
r = e:check_login(platform, account, "imap", password .. code2, client, host(false))
check(r and not r.allowed and r.reason == "wrong_password", "a check answering false: wrong password")

local input = password .. code2
r, err = e:check_login(platform, account, "imap", input, client, function() error("directory down") end)
check(r == nil and tostring(err):find("directory down", 1, true),
  "a check that raises refuses the login, with its message (" .. tostring(err) .. ")")
r, err = e:check_login(platform, account, "imap", input, client, function() return nil, "timed out" end)
check(r == nil and tostring(err):find("timed out", 1, true), "a check answering nil, message refuses the login")
r, err = e:check_login(platform, account, "imap", input, client, function() return "yes" end)
check(r == nil and tostring(err):find("not a boolean", 1, true), "a check answering a string refuses the login")
r = e:check_login(platform, account, "imap", input, client, host(true))
check(r and r.allowed and r.reason == "code_accepted", "nothing was recorded: the code still works")

r, err = e:check_login(platform, account, "imap", string.rep("a", 4097), client, host(true))
check(r == nil and #seen == 0, "over-long input: refused, the check not called")
r, err = e:check_login(platform, account, "imap", "pw\0" .. code2, client, host(true))
check(r == nil and #seen == 0, "input with a NUL byte: refused, the check not called")
r, err = e:check_login(platform, account, "imap", input, { remote_addr = "not an address" }, host(true))
check(r == nil and #seen == 0, "a client address that is not one: refused, the check not called")
check(not pcall(e.check_login, e, platform, account, "imap", input, client, "not a function"),
  "a check that is not a function raises")

-- A new device on pop3 (device-authorization for this account): blocked,
-- with the message mail2fa composed for the user.
local phone = { device_type = "Thunderbird", user_agent = "Thunderbird/115.0",
  remote_addr = "203.0.113.7" }
r, err = e:check_login(platform, account, "pop3", password, phone, host(true))
local n = r and r.notification
check(r and r.outcome == "device_pending" and type(r.device) == "string" and #r.device == 32,
  "a new device is pending (" .. tostring(r and r.outcome or err) .. ")")
check(n and n.channel == "email" and n.to == account
  and n.subject == "New device blocked for " .. account
  and n.text:find("https://mail.example.com/devices?user=" .. account
    .. "&device=" .. r.device, 1, true) ~= nil,
  "the result carries the notification: e-mail to the account, subject, text with the portal link ("
  .. tostring(n and n.text) .. ")")
local device = r and r.device
r = e:check_login(platform, account, "pop3", password, phone, host(true))
check(r and r.outcome == "device_pending" and r.device == device and r.notification == nil,
  "the same device again within the notify interval: pending, no notification")
r = e:authenticate(platform, account, { protocol = "pop3", password_correct = true,
  device_type = "Other", remote_addr = "203.0.113.8" })
check(r and r.outcome == "device_pending" and r.notification and r.notification.channel == "email",
  "authenticate's result carries the notification of another new device too")
local fb
fb, err = e:notification_fallback(platform, account, device)
check(fb and fb.channel == "email" and fb.to == account and fb.subject == n.subject
  and fb.text:find(device, 1, true) ~= nil,
  "notification_fallback: the message by e-mail (" .. tostring(fb and fb.to or err) .. ")")
fb, err = e:notification_fallback(platform, account, string.rep("0", 32))
check(fb == nil and type(err) == "string", "notification_fallback of an unknown device: nil, message ("
  .. tostring(err) .. ")")
fb, err = e:notification_fallback(platform, account, "not a device")
check(fb == nil and type(err) == "string", "notification_fallback of a malformed id: nil, message")
-- An account without an address (its name has no '@', no e-mail set):
-- nothing to send.
r = e:authenticate(platform, local_account, { protocol = "pop3", password_correct = true,
  device_type = "Thunderbird", remote_addr = "203.0.113.7" })
check(r and r.outcome == "device_pending" and r.notification == nil,
  "a new device of an account without an address: pending, no notification")
local a, b = e:notification_fallback(platform, local_account, r and r.device or "")
check(a == nil and b == nil, "notification_fallback without an address: a lone nil")
check(not pcall(e.notification_fallback, e, platform, account, true),
  "notification_fallback with a device that is not a string raises")

local bad
bad, err = m2fa.open_config(damaged)
check(bad == nil and tostring(err):find(damaged .. ":" .. where .. ":", 1, true),
  "a damaged configuration: nil, the file, line and column (" .. tostring(err) .. ")")

-- A forked child: the parent's engine reads as closed there (never used,
-- never freed: os.exit closes the state and runs its __gc); it opens its own.
check(e:is_open(), "an engine opened here is open")
local pid = driver_fork()
if pid == 0 then
  local ok = not e:is_open()
  local r2, err2 = e:check_login(platform, account, "imap", input, client, host(true))
  ok = ok and r2 == nil and err2 == "closed"
  local own = m2fa.open_config(conf)
  local r3 = own and own:check_login(platform, account, "imap", "wrong" .. code2, client, host(false))
  ok = ok and own ~= nil and own:is_open() and r3 ~= nil and not r3.allowed
  os.exit(ok and 0 or 1, true)
end
check(driver_wait(pid) == 0, "in a forked child the parent's engine is closed, a new one opens and answers")
r = e:check_login(platform, account, "imap", password .. code2, client, host(false))
check(e:is_open() and r and not r.allowed, "the parent's engine still answers after the child")

e:close()
check(not e:is_open(), "closed: is_open is false")
r, err = e:check_login(platform, account, "imap", input, client, host(true))
check(r == nil and err == "closed" and #seen == 0, "after close: nil, closed")
r, err = e:notification_fallback(platform, account, device)
check(r == nil and err == "closed", "after close: notification_fallback: nil, closed")
"""


def lua_outside_dovecot(driver, work, lua_dir, conf, tool):
    """The Lua module's check_login where a Dovecot login cannot reach: a
    password check that raises, answers nil or something else."""
    gina = "gina@example.com"
    uri = tool.enroll(gina)
    tool.run("account", "policy", PLATFORM, gina, "imap", "code-in-login")
    tool.run("account", "policy", PLATFORM, gina, "pop3", "device-authorization")
    local_account = "ginalocal"  # no '@', no e-mail: no address to notify
    tool.enroll(local_account)
    tool.run("account", "policy", PLATFORM, local_account, "pop3", "device-authorization")
    now = time.time()
    script = os.path.join(work, "check_login.lua")
    with open(script, "w") as f:
        f.write(LUA_CHECKS)
    damaged = conf + ".damaged"
    with open(conf) as f, open(damaged, "w") as out:
        out.write(f.read().replace("max_failures = 5", "max_failures = \"five\""))
    done = subprocess.run([driver, script, lua_dir, conf, PLATFORM, gina, "gina-Secret-1",
                           totp(uri, now - 30), totp(uri, now), damaged, damaged_at(conf),
                           local_account],
                          capture_output=True, text=True)
    lines = done.stdout.splitlines()
    for line in lines:
        if line.startswith(("ok    ", "FAIL  ")):
            check(line.startswith("ok"), line[6:])
    check(done.returncode == 0 and len(lines) >= 29,
          f"LUA module: the check_login script ran to its end ({done.stderr.strip()})")


SAME_LUA = r"""
-- The Lua module as a Dovecot auth process uses it: one engine opened from
-- the configuration file for the life of the process, one check_login per
-- line of standard input ("PROTOCOL<TAB>TYPED"), the script's password
-- check comparing with the one password it knows. Answers "OUTCOME REASON"
-- or "error MESSAGE", one line each.
local moddir, conf, platform, account, password = table.unpack(arg, 1, 5)
package.cpath = moddir .. "/?.so;" .. package.cpath
local m2fa = require "mail2fa"
io.stdout:setvbuf("line")
local e = assert(m2fa.open_config(conf))
local client = { remote_addr = "203.0.113.7" }
for line in io.lines() do
  local protocol, typed = line:match("^([^\t]*)\t(.*)$")
  local r, err = e:check_login(platform, account, protocol, typed, client,
                               function(pw) return pw == password end)
  if r then print(r.outcome .. " " .. r.reason) else print("error " .. tostring(err)) end
end
"""


def same_decisions(work, tool_bin, pam_driver, lua_driver, c_host, pam_module, lua_dir, pwdfile,
                   syslog=None):
    """PAM, Lua, the tool and a C host given the same configuration file
    (the shipped example) make the same decisions: one login sequence, run
    step by step through each on an account of its own, compared — the
    answers, the reasons and what each left in the account's record. Two
    values differ from the library's defaults, so that a component that
    did not read the file would stand out: 8-digit codes (the tool's
    enrollments) and a lock after 3 wrong codes (every component)."""
    conf = os.path.join(work, "same.toml")
    with open(conf, "w") as f:
        f.write(shipped("mail2fa.toml", {
            "/var/lib/mail2fa/mail2fa.db": os.path.join(work, "same.db"),
            "# Digits per code, 6 to 10.\ndigits = 6": "# Digits per code, 6 to 10.\ndigits = 8",
            "max_failures = 5": "max_failures = 3"}))
    os.chmod(conf, 0o644)
    tool = ConfigTool(tool_bin, conf)
    tool.run("platform", "enable", PLATFORM)
    confdir = os.path.join(work, "same-pam-confdir")
    os.makedirs(confdir, exist_ok=True)
    stack = shipped("pam/mail2fa-imap.pam", {
        "pam_mail2fa.so": pam_module,
        "/etc/mail2fa/mail2fa.toml": conf,
        "/etc/dovecot/mail2fa-pam-users": pwdfile,
    })
    for protocol in ("imap", "smtp"):
        with open(os.path.join(confdir, f"m2fa-same-{protocol}"), "w") as f:
            f.write(stack)
    script = os.path.join(work, "same.lua")
    with open(script, "w") as f:
        f.write(SAME_LUA)

    def attempt(round_):
        """One run of the sequence on fresh accounts; (results, accounts, in one step?)."""
        accounts = {who: f"same-{who}-{round_}@example.com" for who in SAME_COMPONENTS}
        uris, apps = {}, {}
        for who, account in accounts.items():
            uris[who] = tool.enroll(account)
            tool.run("account", "policy", PLATFORM, account, "imap", "code-in-login")
            apps[who] = tool.run("app-password", "create", PLATFORM, account,
                                 "--name", "phone", "--protocol", "smtp")["password"]
        # Three usable codes (the enrollment used the step of a minute ago):
        # begin early in a 30-second step, so that the sequence ends in it.
        while time.time() % 30 > 3:
            time.sleep(0.2)
        start = time.time()
        password = SAME_PASSWORD
        steps = []
        for who in SAME_COMPONENTS:
            uri, app = uris[who], apps[who]
            codes = [totp(uri, start + d) for d in (-30, 0, 30)]
            check(len(codes[0]) == 8, f"same decisions: {who}'s enrollment has the file's 8 digits")
            wrong = next(w for w in (str(d) * 8 for d in range(10))
                         if all(w != totp(uri, start + d) for d in range(-90, 120, 30)))
            steps.append([
                ("right password, wrong code", "imap", password + wrong, True),
                # (Not 20 letters and digits: that would be the shape of an
                # application password, which IMAP's policy here refuses.)
                ("wrong password, right code", "imap", "Wrong" + password + codes[0], False),
                ("right password and code", "imap", password + codes[0], True),
                ("the same string again", "imap", password + codes[0], True),
                ("the password alone", "imap", password, True),
                ("right password, the next code", "imap", password + codes[1], True),
                ("the application password, SMTP", "smtp", app, False),
                ("the application password, IMAP", "imap", app, False),
                # The last symbol changed to another one of the alphabet (a
                # fixed "x" would leave one password in 32 unchanged).
                ("a wrong application password", "smtp",
                 app[:-1] + ("y" if app[-1] == "x" else "x"), False),
                # Not split (8 digits asked): all taken as the password, wrong.
                ("right password, a 6-digit code", "imap", password + codes[2][2:], False),
            ] + [(f"wrong code {n}", "imap", password + wrong, True) for n in range(1, 4)] + [
                ("right password and code, locked", "imap", password + codes[2], True),
                ("the application password, locked", "smtp", app, False),
            ])
        hosts = {}
        for protocol in ("imap", "smtp"):
            hosts[protocol] = subprocess.Popen(
                [c_host, conf, PLATFORM, accounts["c"], protocol, "203.0.113.7", password],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        lua = subprocess.Popen([lua_driver, script, lua_dir, conf, PLATFORM, accounts["lua"],
                                password], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)

        def ask(proc, line):
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            return proc.stdout.readline().strip()

        def pam(account, protocol, typed):
            seen = len(syslog.lines) if syslog is not None and syslog.sock else 0
            done = subprocess.run([pam_driver, confdir, f"m2fa-same-{protocol}", account, typed,
                                   "203.0.113.7"], capture_output=True)
            allowed = done.returncode == 0
            if not (syslog is not None and syslog.sock):
                return ("allowed" if allowed else "refused", None)
            # The last decision the module logged for the account: the
            # stack's final word (the datagrams are queued before the
            # driver exits; the reader thread picks them up).
            def said():
                return [x for x in syslog.lines[seen:]
                        if f"user={account} " in x and " outcome=" in x]
            deadline = time.time() + 1
            while not said() and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(0.05)
            line = (said() or [""])[-1]
            outcome = line.split(" outcome=", 1)[1].split()[0] if " outcome=" in line else "?"
            reason = line.split(" reason=", 1)[1].split()[0] if " reason=" in line else "?"
            return (outcome, reason)

        results = []
        try:
            for n in range(len(steps[0])):
                row = {}
                for i, who in enumerate(SAME_COMPONENTS):
                    what, protocol, typed, right = steps[i][n]
                    account = accounts[who]
                    if who == "pam":
                        row[who] = pam(account, protocol, typed)
                    elif who == "lua":
                        row[who] = tuple(ask(lua, f"{protocol}\t{typed}").split(" ", 1))
                    elif who == "c":
                        row[who] = tuple(ask(hosts[protocol], typed).split(" ", 1))
                    else:
                        cmd = [tool_bin, "--config", conf, "--json", "--color", "never", "login",
                               PLATFORM, account, "--protocol", protocol, "--address",
                               "203.0.113.7", "--password", "right" if right else "wrong"]
                        done = subprocess.run(cmd, input=typed + "\n", capture_output=True,
                                              text=True)
                        said = json.loads(done.stdout) if done.stdout.strip() else {}
                        row[who] = (said.get("outcome", "error"), said.get("reason",
                                                                           done.stderr.strip()))
                        check(done.returncode == (0 if said.get("allowed") else 1),
                              f"same decisions: the tool's exit status says the decision ({what})")
                results.append((steps[0][n][0], row))
        finally:
            for proc in list(hosts.values()) + [lua]:
                proc.stdin.close()
                proc.wait(timeout=30)
        in_one_step = int(time.time() // 30) == int(start // 30)
        return results, accounts, in_one_step

    results, accounts, in_one_step = attempt(1)
    if not in_one_step:  # a slow machine: the codes moved on; once more
        results, accounts, in_one_step = attempt(2)
    check(in_one_step, "same decisions: the sequence ran within one 30-second step")
    for what, row in results:
        expected = SAME_EXPECTED[what]
        # PAM tells allowed or not; syslog (when this test owns it) the rest.
        pam = row["pam"]
        if pam[1] is None:
            pam_ok = (pam[0] == "allowed") == (expected[0] == "allowed")
        else:
            pam_ok = pam == expected
        others = {who: row[who] for who in SAME_COMPONENTS if who != "pam"}
        check(pam_ok and all(v == expected for v in others.values()),
              f"same decisions: {what}: {' '.join(expected)} everywhere "
              f"({', '.join(f'{who} {v[0]} {v[1]}' for who, v in row.items())})")
    # And the same left behind: each account's record as the tool shows it.
    shown, used = {}, []
    for who, account in accounts.items():
        state = tool.run("account", "show", PLATFORM, account)
        state.pop("account")
        # Times as far as they can agree: set or not, within a few seconds.
        state["locked_until"] = state["locked_until"] is not None
        used.append(state["last_used"])
        state["last_used"] = state["last_used"] is not None
        shown[who] = state
    check(all(s == shown["tool"] for s in shown.values()),
          f"same decisions: the four accounts' records agree ({shown['tool']})")
    check(shown["tool"]["locked_until"], "same decisions: ... each locked after 3 wrong codes")
    check(None not in used and max(used) - min(used) <= 10,
          f"same decisions: ... each last used a code at the same time ({used})")


# The components of same_decisions and their accounts' password (in the host's file).
SAME_COMPONENTS = ("pam", "lua", "tool", "c")
SAME_PASSWORD = "same-Secret-1"
# What each step of the sequence must give: outcome, reason.
SAME_EXPECTED = {
    "right password, wrong code": ("refused", "wrong_code"),
    "wrong password, right code": ("refused", "wrong_password"),
    "right password and code": ("allowed", "code_accepted"),
    "the same string again": ("refused", "replayed"),
    "the password alone": ("second_factor_required", "none"),
    "right password, the next code": ("allowed", "code_accepted"),
    "the application password, SMTP": ("allowed", "app_password"),
    "the application password, IMAP": ("refused", "app_password_not_accepted"),
    "a wrong application password": ("refused", "wrong_app_password"),
    "wrong code 1": ("refused", "wrong_code"),
    "wrong code 2": ("refused", "wrong_code"),
    "right password, a 6-digit code": ("refused", "wrong_password"),
    "wrong code 3": ("refused", "wrong_code"),
    "right password and code, locked": ("refused", "locked"),
    "the application password, locked": ("allowed", "app_password"),
}


PG_LUA = r"""
-- A code consumed through the PAM module is a replay through the Lua
-- module: both opened the same PostgreSQL database from their configuration.
local moddir, conf, platform, account, password, code = table.unpack(arg, 1, 6)
package.cpath = moddir .. "/?.so;" .. package.cpath
local m2fa = require "mail2fa"
local function check(ok, what) print((ok and "ok    " or "FAIL  ") .. "PostgreSQL: " .. what) end
local e, err = m2fa.open_config(conf)
check(e ~= nil, "the Lua module opens the database its configuration names (" .. tostring(err) .. ")")
if not e then return end
local r = e:check_login(platform, account, "imap", password .. code, nil, function() return true end)
check(r and not r.allowed and r.reason == "replayed", "a code used through PAM is a replay through Lua")
"""


def postgres_config(url, work, name):
    """A configuration file naming the PostgreSQL database of `url`: the
    shipped example with the store changed, the password in its own file."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(url)
    password = parts.password or ""
    netloc = f"{parts.username}@{parts.hostname}:{parts.port}"
    connection = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    secret = os.path.join(work, f"{name}-password")
    with open(secret, "w") as f:
        f.write(password + "\n")
    os.chmod(secret, 0o600)
    conf = os.path.join(work, f"{name}.toml")
    with open(conf, "w") as f:
        f.write(shipped("mail2fa.toml", {
            'sqlite_path = "/var/lib/mail2fa/mail2fa.db"': "#sqlite_path = (unset)",
            '#postgres_connection = "host=/run/postgresql dbname=mail2fa user=mail2fa"':
                f'postgres_connection = "{connection}"',
            '#password_file = "/etc/mail2fa/db-password"': f'password_file = "{secret}"',
        }))
    os.chmod(conf, 0o644)
    return conf


def postgres_through_modules(url, work, driver_pam, driver_lua, pam_module, lua_dir, tool_bin,
                             pwdfile):
    """Both modules on the PostgreSQL database a configuration file names
    (the shipped example with the store changed): logins, a code consumed
    through one refused through the other, a forked auth process."""
    conf = postgres_config(url, work, "pg")
    tool = Tool(tool_bin, url)
    tool.run("platform", "enable", PLATFORM)
    try:  # the database outlives a run: start alice afresh
        tool.run("account", "remove", PLATFORM, "alice@example.com")
    except RuntimeError:
        pass
    confdir = os.path.join(work, "pg-pam-confdir")
    os.makedirs(confdir, exist_ok=True)
    with open(os.path.join(confdir, "m2fa-imap"), "w") as f:
        f.write(shipped("pam/mail2fa-imap.pam", {
            "pam_mail2fa.so": pam_module,
            "/etc/mail2fa/mail2fa.toml": conf,
            "/etc/dovecot/mail2fa-pam-users": pwdfile,
        }))
    bob, bob_pw = "bob@example.org", PASSWORDS["bob@example.org"]
    env = dict(os.environ, PAM_DRIVER_MORE="1")
    proc = subprocess.Popen([driver_pam, confdir, "m2fa-imap", bob, bob_pw, "203.0.113.7"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(command):
        proc.stdin.write(command + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().startswith("ok")

    try:
        check(proc.stdout.readline().startswith("ok"), "PostgreSQL: PAM lets bob in")
        check(ask("fork"), "PostgreSQL: PAM in a forked child (its own engine and connections)")
        check(ask("again"), "PostgreSQL: PAM again in the parent after the child")
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    # alice is in the password file; a code consumed through PAM...
    alice, alice_pw = "alice@example.com", PASSWORDS["alice@example.com"]
    uri = tool.enroll(alice)
    tool.run("account", "policy", PLATFORM, alice, "imap", "code-in-login")
    code = totp(uri, time.time())
    done = subprocess.run([driver_pam, confdir, "m2fa-imap", alice, alice_pw + code,
                           "203.0.113.7"], capture_output=True, text=True)
    check(done.returncode == 0, "PostgreSQL: PAM lets alice in with password+code")
    # ... is a replay through Lua.
    script = os.path.join(work, "pg.lua")
    with open(script, "w") as f:
        f.write(PG_LUA)
    done = subprocess.run([driver_lua, script, lua_dir, conf, PLATFORM, alice, alice_pw, code],
                          capture_output=True, text=True)
    lines = [x for x in done.stdout.splitlines() if x.startswith(("ok    ", "FAIL  "))]
    for line in lines:
        check(line.startswith("ok"), line[6:])
    check(done.returncode == 0 and len(lines) == 2,
          f"PostgreSQL: the Lua script ran to its end ({done.stderr.strip()})")


class ConfigTool(Tool):
    """The operator tool reading a configuration file, as an operator runs it."""

    def __init__(self, binary, conf):
        super().__init__(binary, None)
        self.conf = conf

    def run(self, *args, now=None):
        cmd = [self.binary, "--config", self.conf, "--json", "--yes", "--color", "never"]
        if now is not None:
            cmd += ["--now", str(int(now))]
        done = subprocess.run(cmd + list(args), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"mail2fa {' '.join(args)}: {done.stderr.strip()}")
        return json.loads(done.stdout) if done.stdout.strip() else None


def answered_login(port, user, password):
    """An IMAP login that must be answered within imaplib's timeout:
    (logged in?, the answer), or (None, why) when no answer came."""
    try:
        return imap_login(port, user, password)
    except OSError as e:
        return None, f"no answer: {e}"


def two_dovecots(url, work, tool_bin, lua_dir, passwd):
    """A cluster: two Dovecot instances (own ports, base dirs and
    configuration files) on one PostgreSQL database, both through the Lua
    passdb. State kept in the database holds on both; a stopped database
    refuses logins on both until it is back."""
    pw = PASSWORDS
    servers, tools = [], []
    try:
        for name in ("cluster-a", "cluster-b"):
            conf = postgres_config(url, work, name)
            script = os.path.join(work, f"{name}-passdb.lua")
            with open(script, "w") as f:
                f.write(shipped("dovecot/mail2fa-passdb.lua", {
                    "/etc/mail2fa/mail2fa.toml": conf,
                    "/etc/dovecot/mail2fa-users": passwd,
                    "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so": os.path.join(lua_dir, "?.so"),
                }))
            server = Dovecot(work, name, shipped("dovecot/auth-mail2fa-lua.conf", {
                "/etc/dovecot/mail2fa-passdb.lua": script}))
            servers.append(server)
            tools.append(ConfigTool(tool_bin, conf))
            print(f"{name}: dovecot started in {server.start() * 1000:.0f} ms")
        a, b = servers
        tool = tools[0]
        tool.run("platform", "enable", PLATFORM)
        # The database is shared with the suites before (in test-all.sh):
        # the platform's policies back to the defaults this test expects
        # (IMAP app-password-only: a bench had left code-in-login, which
        # refuses dave's application password).
        for protocol in ("imap", "pop3", "smtp"):
            tool.run("platform", "policy", PLATFORM, protocol, "default")
        for account in ("carol@example.com", "dave@example.com", "erin@example.com"):
            try:  # the database outlives a run: start afresh
                tool.run("account", "remove", PLATFORM, account, "--yes")
            except RuntimeError:
                pass

        # A code consumed on A is a replay on B.
        carol = "carol@example.com"
        uri = tool.enroll(carol)
        tool.run("account", "policy", PLATFORM, carol, "imap", "code-in-login")
        login = pw[carol] + totp(uri, time.time())
        check(imap_login(a.imap, carol, login)[0], "CLUSTER: password+code on A")
        check(not imap_login(b.imap, carol, login)[0], "CLUSTER: the same code on B is a replay")
        check(imap_login(b.imap, carol, pw[carol] + totp(uri, time.time() + 30))[0],
              "CLUSTER: ... while B takes carol's next code")

        # Wrong codes through A lock the account on B too.
        erin = "erin@example.com"
        uri = tools[1].enroll(erin)
        tools[1].run("account", "policy", PLATFORM, erin, "imap", "code-in-login")
        good = totp(uri, time.time())
        wrong = "%06d" % ((int(good) + 500_000) % 1_000_000)
        refused = [not imap_login(a.imap, erin, pw[erin] + wrong)[0] for _ in range(5)]
        check(all(refused), "CLUSTER: five wrong codes on A are refused")
        check(tools[1].run("account", "show", PLATFORM, erin)["locked_until"] is not None,
              "CLUSTER: the tool on B's configuration sees the lock")
        check(not imap_login(b.imap, erin, pw[erin] + good)[0],
              "CLUSTER: locked through A, the right code is refused on B")

        # An application password works on both; revoked with the tool, on neither.
        dave = "dave@example.com"
        tool.enroll(dave)
        app = tool.run("app-password", "create", PLATFORM, dave, "--name", "phone")["password"]
        on_a = imap_login(a.imap, dave, app)
        check(on_a[0], f"CLUSTER: an application password on A ({on_a[1]})")
        on_b = imap_login(b.imap, dave, app)
        check(on_b[0], f"CLUSTER: ... and on B ({on_b[1]})")
        if not (on_a[0] and on_b[0]):  # what the passdb said, for the record
            for server in (a, b):
                with open(os.path.join(server.dir, "log", "dovecot.log")) as f:
                    print("".join(line for line in f if dave in line)[-3000:])
        tools[1].run("app-password", "revoke", PLATFORM, dave, "1")
        check(not imap_login(a.imap, dave, app)[0], "CLUSTER: revoked with the tool, refused on A")
        check(not imap_login(b.imap, dave, app)[0], "CLUSTER: ... and on B")

        # The database stopped: both refuse (and answer); back: both let in.
        control = os.environ.get("MAIL2FA_TEST_PG_CONTROL", "").strip()
        if not control:
            if os.environ.get("MAIL2FA_REQUIRE_POSTGRES") == "1":
                check(False, "CLUSTER: MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_PG_CONTROL "
                      "is not set")
            else:
                print("SKIP  CLUSTER: PostgreSQL stopped: MAIL2FA_TEST_PG_CONTROL is not set")
            return
        bob = ("bob@example.org", pw["bob@example.org"])
        check(imap_login(a.imap, *bob)[0] and imap_login(b.imap, *bob)[0],
              "CLUSTER: bob logs in on A and B")
        subprocess.run(["sh", "-c", f"{control} stop"], check=True, stdout=subprocess.DEVNULL)
        try:
            for label, server in (("A", a), ("B", b)):
                ok, answer = answered_login(server.imap, *bob)
                check(ok is False, f"CLUSTER: PostgreSQL stopped, {label} refuses bob ({answer})")
        finally:
            subprocess.run(["sh", "-c", f"{control} start"], check=True,
                           stdout=subprocess.DEVNULL)
        for label, server in (("A", a), ("B", b)):
            check(imap_login(server.imap, *bob)[0],
                  f"CLUSTER: PostgreSQL back, {label} lets bob in")
    finally:
        for server in servers:
            server.stop()


def bench(label, port, user, password, count):
    """Median and 90th percentile of IMAP LOGIN round trips, in ms."""
    times = []
    for _ in range(count):
        conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
        started = time.perf_counter()
        typ, _ = conn.login(user, password)
        times.append((time.perf_counter() - started) * 1000)
        conn.logout()
        if typ != "OK":
            raise RuntimeError(f"{label}: login refused")
    times.sort()
    median = statistics.median(times)
    p90 = times[int(len(times) * 0.9) - 1]
    print(f"bench {label:<44} median {median:6.2f} ms   p90 {p90:6.2f} ms   ({count} logins)")
    return median


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    parser.add_argument("--pam-module", required=True)
    parser.add_argument("--lua-module", required=True)
    parser.add_argument("--pam-driver", help="tests/dovecot/pam_driver.c, built")
    parser.add_argument("--lua-driver", help="tests/dovecot/lua_driver.c, built")
    parser.add_argument("--c-host", help="tests/dovecot/c_host.c, built")
    parser.add_argument("--bench", type=int, default=0, metavar="N",
                        help="also time N logins through each integration and plain Dovecot")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox directory")
    parser.add_argument("--only", choices=["pam", "lua"], help="run one integration only")
    args = parser.parse_args()
    guide_quotes_shipped_files()
    if os.geteuid() != 0:
        print("SKIPPED: the Dovecot end-to-end tests need root")
        return 77
    tool_bin = os.path.abspath(args.tool)
    pam_module = os.path.abspath(args.pam_module)
    lua_dir = os.path.dirname(os.path.abspath(args.lua_module))

    work = tempfile.mkdtemp(prefix="mail2fa-dovecot-")
    os.chmod(work, 0o755)
    pwdfile, passwd = write_users(work)
    pwdfile_dovecot = os.path.join(work, "users.fallthrough")  # every user, enabled
    with open(pwdfile_dovecot, "w") as f:
        f.writelines(f"{u}:{{PLAIN}}{pw}\n" for u, pw in PASSWORDS.items())
    # Service names of this test only: the shipped names may be in use.
    pam_files = [f"/etc/pam.d/mail2fa-{TAG}-imap", f"/etc/pam.d/mail2fa-{TAG}-pop3"]
    saved = {p: open(p).read() for p in pam_files if os.path.exists(p)}
    servers = []
    syslog = Syslog()
    try:
        # Each integration reads a configuration file: the shipped example
        # with the database's path changed, nothing else.
        confs = {}
        for variant in ("pam", "lua"):
            confs[variant] = os.path.join(work, f"{variant}.toml")
            replacements = {"/var/lib/mail2fa/mail2fa.db": os.path.join(work, f"{variant}.db")}
            if variant == "lua":  # and notifications with a link to the portal
                replacements[PORTAL_LINK_SHIPPED] = \
                    f'portal_link = "{PORTAL_LINK}?user={{account}}&device={{device}}"'
            with open(confs[variant], "w") as f:
                f.write(shipped("mail2fa.toml", replacements))
            os.chmod(confs[variant], 0o644)
        # PAM: the shipped stack, with the module, configuration and host password file here.
        pam_db = os.path.join(work, "pam.db")
        stack = shipped("pam/mail2fa-imap.pam", {
            "pam_mail2fa.so": pam_module,
            "/etc/mail2fa/mail2fa.toml": confs["pam"],
            "/etc/dovecot/mail2fa-pam-users": pwdfile,
        })
        if args.only != "lua":
            for path in pam_files:
                with open(path, "w") as f:
                    f.write(stack)
        # Lua: the shipped script, with the configuration, users file and
        # module directory here, and notifications mailed through a fake sendmail.
        lua_db = os.path.join(work, "lua.db")
        script = os.path.join(work, "mail2fa-passdb.lua")
        sendmail, outbox = fake_sendmail(work)
        with open(script, "w") as f:
            f.write(shipped("dovecot/mail2fa-passdb.lua", {
                "/etc/mail2fa/mail2fa.toml": confs["lua"],
                "/etc/dovecot/mail2fa-users": passwd,
                "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so": os.path.join(lua_dir, "?.so"),
                "notify_command = nil,": f'notify_command = "{sendmail} -t -i",',
                "notify_from = nil,": f'notify_from = "{NOTIFY_FROM}",',
            }))
        # A second passdb that takes every plain password, as Debian's
        # auth-system.conf.ext would: a refusal of mail2fa must not fall
        # through to it.
        FALLTHROUGH = f"passdb {{\n  driver = passwd-file\n  args = {pwdfile_dovecot}\n}}\n"
        variants = {
            "pam": (shipped("dovecot/auth-mail2fa-pam.conf", {
                "args = mail2fa-%s": f"args = mail2fa-{TAG}-%s"}) + FALLTHROUGH, pam_db),
            "lua": (shipped("dovecot/auth-mail2fa-lua.conf", {
                "/etc/dovecot/mail2fa-passdb.lua": script}) + FALLTHROUGH, lua_db),
        }
        for variant, (passdb, db) in variants.items():
            if args.only and variant != args.only:
                continue
            tool = Tool(tool_bin, db)
            tool.run("platform", "enable", PLATFORM)
            server = Dovecot(work, variant, passdb)
            servers.append(server)
            print(f"{variant}: dovecot started in {server.start() * 1000:.0f} ms")
            scenarios(variant, server, tool, syslog if variant == "pam" else None)
            if variant == "lua":
                lua_notifications(server, tool, work, outbox)
            if variant == "pam" and args.pam_driver:
                pam_outside_dovecot(os.path.abspath(args.pam_driver), work, pam_module,
                                    confs["pam"], pwdfile, tool, syslog)
            if variant == "lua" and args.lua_driver:
                lua_script_outside_dovecot(os.path.abspath(args.lua_driver), work, script, outbox)
                lua_outside_dovecot(os.path.abspath(args.lua_driver), work, lua_dir, confs["lua"],
                                    tool)
            if args.bench:
                app = tool.run("app-password", "create", PLATFORM, "alice@example.com",
                               "--name", "bench")["password"]
                bench(f"{variant}: account without 2FA", server.imap, "bob@example.org",
                      PASSWORDS["bob@example.org"], args.bench)
                bench(f"{variant}: 2FA account, application password", server.imap,
                      "alice@example.com", app, args.bench)
            server.stop()
        if args.pam_driver and args.lua_driver and args.c_host and not args.only:
            same_decisions(work, tool_bin, os.path.abspath(args.pam_driver),
                           os.path.abspath(args.lua_driver), os.path.abspath(args.c_host),
                           pam_module, lua_dir, pwdfile, syslog)
        url = os.environ.get("MAIL2FA_TEST_POSTGRES")
        if url and args.pam_driver and args.lua_driver and not args.only:
            postgres_through_modules(url, work, os.path.abspath(args.pam_driver),
                                     os.path.abspath(args.lua_driver), pam_module, lua_dir,
                                     tool_bin, pwdfile)
            two_dovecots(url, work, tool_bin, lua_dir, passwd)
        elif os.environ.get("MAIL2FA_REQUIRE_POSTGRES") == "1":
            check(False, "PostgreSQL: MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_POSTGRES is "
                  "not set (or --only, or no drivers)")
        else:
            print("SKIP  PostgreSQL through PAM and Lua: MAIL2FA_TEST_POSTGRES is not set")
        if args.bench:
            plain = Dovecot(work, "plain", f"passdb {{\n  driver = passwd-file\n  args = {passwd}\n}}\n")
            servers.append(plain)
            plain.start()
            bench("plain Dovecot (passwd-file, no mail2fa)", plain.imap, "bob@example.org",
                  PASSWORDS["bob@example.org"], args.bench)
            plain.stop()
            # The same PAM password module alone: what PAM itself costs.
            pam_files.append(f"/etc/pam.d/m2fa-bench-{TAG}-imap")
            with open(pam_files[-1], "w") as f:
                f.write(f"auth requisite pam_pwdfile.so pwdfile={pwdfile}\n"
                        "account required pam_permit.so\n")
            plain_pam = Dovecot(work, "plain-pam",
                                f"passdb {{\n  driver = pam\n  args = m2fa-bench-{TAG}-%s\n}}\n")
            servers.append(plain_pam)
            plain_pam.start()
            bench("plain Dovecot (PAM, pam_pwdfile, no mail2fa)", plain_pam.imap,
                  "bob@example.org", PASSWORDS["bob@example.org"], args.bench)
            plain_pam.stop()
    finally:
        syslog.close()
        for server in servers:
            server.stop()
        for path in pam_files if args.only != "lua" or args.bench else []:
            if path in saved:
                with open(path, "w") as f:
                    f.write(saved[path])
            elif os.path.exists(path):
                os.remove(path)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{passes} passed, {len(failures)} failed")
    for what in failures:
        print(f"  failed: {what}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
