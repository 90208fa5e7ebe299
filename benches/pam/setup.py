#!/usr/bin/env python3
"""Sets up the side-by-side PAM benchmark's three stacks in one directory
(scripts/bench-pam.sh runs it; nothing outside --dir is touched, /etc/pam.d
least of all).

    setup.py --dir DIR --tool mail2fa --module pam_mail2fa.so --users N

Writes:
  DIR/pam.d/bench-{mail2fa,ga,oath}-imap  the PAM stacks (pam_start_confdir),
                                          and "other" (pam_deny)
  DIR/mail2fa.toml, DIR/mail2fa.db        the shipped example configuration,
                                          its SQLite file here (synchronous = full)
  DIR/ga/USER                             google-authenticator's secret files
  DIR/oath/users.oath                     pam_oath's usersfile (all users)
  DIR/users.txt                           MODULE SERVICE USER BASE32SECRET lines
                                          for benches/pam/pam_driver.c

Each module gets N users (the driver takes a fresh one per accepted code:
a TOTP step is accepted once per user). All three use TOTP, SHA-1, 6 digits,
30-second steps, a window of one step either side, password+code in one
PAM password, and pam_permit for the password part.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import secrets
import shutil
import struct
import subprocess
import sys
import time

PLATFORM = "example.com"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The shipped stack shape (integrations/pam/mail2fa-imap.pam), pam_permit in
# the host's password module's place.
MAIL2FA_STACK = """\
auth     sufficient pam_mail2fa.so phase=app-password config={conf}
auth     requisite  pam_mail2fa.so phase=split config={conf}
auth     [success=ok new_authtok_reqd=ok default=die] pam_permit.so
auth     required   pam_mail2fa.so phase=verify config={conf}
account  required   pam_permit.so
"""

# forward_pass: one prompt, "password+code"; the code is cut off the end and
# the password forwarded to the next module.
GA_STACK = """\
auth     requisite  pam_google_authenticator.so secret={dir}/ga/${{USER}} user=root forward_pass
auth     [success=ok new_authtok_reqd=ok default=die] pam_permit.so
account  required   pam_permit.so
"""

# digits=6: pam_oath cuts the code off the end of "password+code"; the
# usersfile's password "+" means "checked by another module" (pam_permit).
# One usersfile for all users, as pam_oath is deployed (/etc/users.oath):
# its usersfile=.../${USER} looks the user up in the system's user database
# first (PAM_USER_UNKNOWN for the bench's users, which are not Unix users).
OATH_STACK = """\
auth     [success=ok new_authtok_reqd=ok default=die] pam_permit.so
auth     required   pam_oath.so usersfile={dir}/oath/users.oath window=1 digits=6
account  required   pam_permit.so
"""

OTHER_STACK = """\
auth     required   pam_deny.so
account  required   pam_deny.so
password required   pam_deny.so
session  required   pam_deny.so
"""


def totp(secret_b32, at):
    """RFC 6238 code (SHA-1, 6 digits, 30 s) at Unix time `at`."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 15
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** 6).zfill(6)


def write(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Tool:
    """The operator tool reading the bench's configuration file."""

    def __init__(self, binary, conf):
        self.binary, self.conf = binary, conf

    def run(self, *args, now=None):
        cmd = [self.binary, "--config", self.conf, "--json", "--yes", "--color", "never"]
        if now is not None:
            cmd += ["--now", str(int(now))]
        done = subprocess.run(cmd + list(args), capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"setup.py: mail2fa {' '.join(args[:2])}: {done.stderr.strip()}")
        return json.loads(done.stdout) if done.stdout.strip() else None

    def enroll(self, account):
        """Enables and confirms TOTP 90 s in the past (the tool's hidden
        --now), so that the step confirming it is long gone when the bench
        logs in now. Returns the base32 secret."""
        past = time.time() - 90
        uri = self.run("account", "enable", PLATFORM, account, now=past)["uri"]
        query = dict(p.split("=", 1) for p in uri.split("?", 1)[1].split("&"))
        assert query.get("digits", "6") == "6" and query.get("period", "30") == "30"
        assert query.get("algorithm", "SHA1") == "SHA1"
        secret = query["secret"]
        self.run("account", "confirm", PLATFORM, account, totp(secret, past), now=past)
        return secret


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--users", type=int, required=True)
    args = ap.parse_args()
    d = os.path.abspath(args.dir)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d, mode=0o700)
    for sub in ("pam.d", "ga", "oath"):
        os.makedirs(os.path.join(d, sub), mode=0o700)

    # mail2fa: the shipped example configuration, its database here.
    conf = os.path.join(d, "mail2fa.toml")
    with open(os.path.join(ROOT, "integrations", "mail2fa.toml")) as f:
        text = f.read()
    shipped_db = "/var/lib/mail2fa/mail2fa.db"
    assert shipped_db in text and 'synchronous = "full"' in text
    write(conf, text.replace(shipped_db, os.path.join(d, "mail2fa.db")), 0o644)
    tool = Tool(args.tool, conf)
    tool.run("platform", "enable", PLATFORM)
    tool.run("platform", "policy", PLATFORM, "imap", "code-in-login")

    module = os.path.abspath(args.module)
    write(os.path.join(d, "pam.d", "bench-mail2fa-imap"),
          MAIL2FA_STACK.replace("pam_mail2fa.so", module).format(conf=conf), 0o644)
    write(os.path.join(d, "pam.d", "bench-ga-imap"), GA_STACK.format(dir=d), 0o644)
    write(os.path.join(d, "pam.d", "bench-oath-imap"), OATH_STACK.format(dir=d), 0o644)
    # libpam reads "other" too (and logs its absence on every pam_start).
    write(os.path.join(d, "pam.d", "other"), OTHER_STACK, 0o644)

    lines = []
    names = [f"bench{i:05d}@{PLATFORM}" for i in range(args.users)]
    # Two enrollments at a time: each is two runs of the tool.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for name, secret in zip(names, pool.map(tool.enroll, names)):
            lines.append(f"mail2fa bench-mail2fa-imap {name} {secret}")
    for name in names:
        raw = secrets.token_bytes(20)
        b32 = base64.b32encode(raw).decode().rstrip("=")
        # google-authenticator's file: the secret, then its options
        # (FILEFORMAT): TOTP, a code used once, one step either side.
        write(os.path.join(d, "ga", name),
              f'{b32}\n" TOTP_AUTH\n" DISALLOW_REUSE\n" WINDOW_SIZE 3\n', 0o600)
        lines.append(f"google-authenticator bench-ga-imap {name} {b32}")
    oath = []
    for name in names:
        raw = secrets.token_bytes(20)
        b32 = base64.b32encode(raw).decode().rstrip("=")
        # pam_oath's usersfile: TOTP, 30 s, 6 digits; "+" = the password is
        # another module's to check.
        oath.append(f"HOTP/T30/6\t{name}\t+\t{raw.hex()}\n")
        lines.append(f"pam_oath bench-oath-imap {name} {b32}")
    write(os.path.join(d, "oath", "users.oath"), "".join(oath), 0o600)
    write(os.path.join(d, "users.txt"), "\n".join(lines) + "\n", 0o600)
    print(f"set up {args.users} users per module in {d}")


if __name__ == "__main__":
    main()
