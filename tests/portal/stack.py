"""The real stack the portal's browser tests run on, each part on loopback
with its own directories under one work directory:

- Dovecot (IMAP, POP3, LMTP) with mail2fa's Lua passdb from the shipped
  files (tests/dovecot/e2e.py's sandbox, LMTP added), users from a
  passwd-file, mailboxes under its own directory;
- Postfix (its own configuration directory, `postfix -c DIR`), taking mail
  for example.com on a loopback SMTP port and delivering it to Dovecot's
  mailboxes over LMTP;
- an HTTP sink standing for the SMS gateway, recording every POST;
- mail2fa-server with a configuration written from the shipped example
  (its store, the API token file, Postfix as SMTP relay, the sink as SMS
  gateway, Dovecot's authentication socket).

Ports: Dovecot's and Postfix's depend on MAIL2FA_E2E_INSTANCE (0-9, as in
tests/dovecot/e2e.py), so that several runs can share a machine; the
service and the sink take free ports. Needs root (Dovecot's and Postfix's
privilege separation).
"""

import email
import email.message
import email.policy
import importlib.util
import imaplib
import json
import os
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_dovecot_e2e():
    """tests/dovecot/e2e.py as a module (its sandbox Dovecot, users and
    helpers), under a name of its own: this suite's entry is also e2e.py."""
    path = os.path.join(ROOT, "tests", "dovecot", "e2e.py")
    spec = importlib.util.spec_from_file_location("mail2fa_dovecot_e2e", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dovecot_e2e = _load_dovecot_e2e()
INSTANCE = dovecot_e2e.INSTANCE
TAG = dovecot_e2e.TAG
PLATFORM = dovecot_e2e.PLATFORM
PASSWORDS = dict(dovecot_e2e.PASSWORDS)
# The portal's own mailboxes, beside tests/dovecot/e2e.py's users: the
# platform's administrator (no 2FA: the password alone signs in), and a
# user of codes by SMS.
PASSWORDS["admin@example.com"] = "admin-Secret-1"
PASSWORDS["grace@example.com"] = "grace-Secret-1"  # codes by SMS
# Codes an authenticator shows this many 30-second steps ahead or behind
# are taken (the shipped default is 1): a flow that needs several codes
# for one account takes the next unused step at once (see
# Authenticator in e2e.py) instead of waiting for the clock.
TOTP_WINDOW = 10
totp = dovecot_e2e.totp
imap_login = dovecot_e2e.imap_login
shipped = dovecot_e2e.shipped
# Beside tests/dovecot/e2e.py's ports (x143/x110 of 15 to 46 thousand).
DOVECOT_PORTS = (47143 + 100 * INSTANCE, 47110 + 100 * INSTANCE)
SMTP_PORT = 47025 + 100 * INSTANCE


def wait_for_port(port, what, log, greeting=None, timeout=15):
    """Waits until something listens on 127.0.0.1:`port` (and, with
    `greeting`, says it first)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if greeting is None or s.recv(64).startswith(greeting):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} does not answer on port {port}: see {log}")
        time.sleep(0.05)


def port_is_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Dovecot(dovecot_e2e.Dovecot):
    """tests/dovecot/e2e.py's sandbox Dovecot with LMTP on a socket in its
    base_dir, where Postfix delivers, and a static userdb that takes every
    user (LMTP's recipient lookup goes to the userdb alone: the Lua passdb
    has no lookup without a password)."""

    VARIANT = "portal"

    def __init__(self, work, passdb_conf, master_users=None, sasl_socket=False):
        """With `master_users` (a passwd-file of master users), logins
        `USER*MASTER` with a master user's password are taken by that file
        (a Dovecot master passdb); with `sasl_socket` true, a client socket
        for Postfix's SASL, mode 0666 (its path: self.sasl_socket)."""
        # The parent class reads its ports from this table, by variant.
        dovecot_e2e.PORTS[self.VARIANT] = DOVECOT_PORTS
        super().__init__(work, self.VARIANT, passdb_conf)
        self.lmtp_socket = os.path.join(self.dir, "run", "lmtp")
        self.auth_socket = os.path.join(self.dir, "run", "auth-client")
        self.sasl_socket = os.path.join(self.dir, "run", "postfix-auth") if sasl_socket else None
        text = open(self.conf).read()
        for old, new in (
                ("protocols = imap pop3\n", "protocols = imap pop3 lmtp\n"),
                ("args = uid=nobody gid=nogroup home=",
                 "args = uid=nobody gid=nogroup allow_all_users=yes home=")):
            if old not in text:
                raise RuntimeError(f"tests/dovecot/e2e.py's configuration no longer has {old!r}")
            text = text.replace(old, new)
        text += """service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
"""
        if self.sasl_socket:
            text += """service auth {
  unix_listener postfix-auth {
    mode = 0666
  }
}
"""
        if master_users:
            text += f"""auth_master_user_separator = *
passdb {{
  driver = passwd-file
  master = yes
  args = {master_users}
}}
"""
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self):
        took = super().start()
        deadline = time.monotonic() + 10
        while not os.path.exists(self.lmtp_socket):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no LMTP socket {self.lmtp_socket}: see {self.log()}")
            time.sleep(0.05)
        return took


    def auth_handshake(self):
        """The first lines Dovecot's authentication socket (the one the
        service's password check and Postfix's SASL use) sends a client:
        VERSION, MECH ..., DONE."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.auth_socket)
            s.sendall(f"VERSION\t1\t2\nCPID\t{os.getpid()}\n".encode())
            received = b""
            while b"\nDONE\n" not in received:
                chunk = s.recv(4096)
                if not chunk:
                    break
                received += chunk
        return received.decode(errors="replace").splitlines()


class Postfix:
    """A sandbox Postfix: its own configuration directory, queue and data
    directories and log file; SMTP on 127.0.0.1:`port`; mail for the
    `domains` (mailboxes listed in `mailboxes`) goes over LMTP to
    `lmtp_socket`."""

    def __init__(self, work, port, lmtp_socket, mailboxes, domains=(PLATFORM,),
                 xclient_hosts=None, sasl_port=None, sasl_socket=None):
        """`xclient_hosts`: smtpd_authorized_xclient_hosts of the SMTP port
        (nginx's mail proxy hands its sessions over with XCLIENT);
        `sasl_port` with `sasl_socket`: a second SMTP port whose AUTH goes
        to Dovecot's SASL socket (as a submission service's does)."""
        self.dir = os.path.join(work, "postfix")
        self.sasl_port = sasl_port
        self.port = port
        self.conf_dir = os.path.join(self.dir, "conf")
        self.queue = os.path.join(self.dir, "queue")
        data = os.path.join(self.dir, "data")
        for d in (self.conf_dir, self.queue, data):
            os.makedirs(d, exist_ok=True)
        shutil.chown(data, "postfix")
        self.maillog = os.path.join(self.dir, "maillog")
        maps = os.path.join(self.conf_dir, "mailboxes")
        with open(maps, "w") as f:
            f.writelines(f"{address} ok\n" for address in mailboxes)
        with open(os.path.join(self.conf_dir, "main.cf"), "w") as f:
            f.write(f"""# Sandbox Postfix for mail2fa's portal tests (instance {INSTANCE}).
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {data}
maillog_file = {self.maillog}
maillog_file_prefixes = {self.dir}
syslog_name = postfix-mail2fa-{TAG}
myhostname = mail.example.net
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtputf8_enable = no
virtual_mailbox_domains = {" ".join(domains)}
virtual_mailbox_maps = texthash:{maps}
virtual_transport = lmtp:unix:{lmtp_socket}
""")
            if xclient_hosts:
                f.write(f"smtpd_authorized_xclient_hosts = {xclient_hosts}\n")
        # Every service out of chroot; SMTP on the sandbox's port only.
        services = [
            (f"127.0.0.1:{port}", "inet", "n", "-", "smtpd"),
            ("pickup", "unix", "n", "1", "pickup"),
            ("cleanup", "unix", "n", "0", "cleanup"),
            ("qmgr", "unix", "n", "1", "qmgr"),
            ("rewrite", "unix", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "0", "bounce"),
            ("defer", "unix", "-", "0", "bounce"),
            ("trace", "unix", "-", "0", "bounce"),
            ("verify", "unix", "-", "1", "verify"),
            ("flush", "unix", "n", "0", "flush"),
            ("proxymap", "unix", "-", "-", "proxymap"),
            ("smtp", "unix", "-", "-", "smtp"),
            ("relay", "unix", "-", "-", "smtp"),
            ("showq", "unix", "n", "-", "showq"),
            ("error", "unix", "-", "-", "error"),
            ("retry", "unix", "-", "-", "error"),
            ("discard", "unix", "-", "-", "discard"),
            ("lmtp", "unix", "-", "-", "lmtp"),
            ("anvil", "unix", "-", "1", "anvil"),
            ("scache", "unix", "-", "1", "scache"),
            ("postlog", "unix-dgram", "n", "1", "postlogd"),
        ]
        with open(os.path.join(self.conf_dir, "master.cf"), "w") as f:
            for name, kind, private, limit, command in services:
                f.write(f"{name} {kind} {private} - n - {limit} {command}\n")
            if sasl_port:
                f.write(f"127.0.0.1:{sasl_port} inet n - n - - smtpd\n"
                        "  -o smtpd_sasl_auth_enable=yes\n"
                        "  -o smtpd_sasl_type=dovecot\n"
                        f"  -o smtpd_sasl_path={sasl_socket}\n"
                        "  -o smtpd_tls_security_level=none\n")

    def postfix(self, *args):
        """`postfix -c DIR ARGS`; Postfix's own messages when it fails (it
        writes them to the terminal only: run under script(1))."""
        cmd = ["postfix", "-c", self.conf_dir] + list(args)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            why = subprocess.run(["script", "-qec", " ".join(cmd), "/dev/null"],
                                 capture_output=True, text=True)
            raise RuntimeError(f"postfix {' '.join(args)}: {why.stdout.strip()} "
                               f"(see {self.maillog})")

    def start(self):
        started = time.monotonic()
        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is taken: set MAIL2FA_E2E_INSTANCE")
        self.postfix("check")
        self.postfix("start")
        wait_for_port(self.port, "postfix", self.maillog, b"220 ")
        if self.sasl_port:
            wait_for_port(self.sasl_port, "postfix", self.maillog, b"220 ")
        return time.monotonic() - started

    def stop(self):
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        if not os.path.exists(pidfile):
            return
        subprocess.run(["postfix", "-c", self.conf_dir, "stop"], capture_output=True)
        deadline = time.monotonic() + 10
        while os.path.exists(pidfile) and time.monotonic() < deadline:
            time.sleep(0.05)

    def send(self, sender, recipient, subject, text):
        """Sends a plain-text e-mail through the sandbox's SMTP port."""
        message = email.message.EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, recipient, subject
        message.set_content(text)
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.send_message(message)


def text_of(message):
    """The text of an e-mail: its text/plain part (else its HTML)."""
    body = message.get_body(preferencelist=("plain", "html"))
    return body.get_content() if body is not None else ""


def wait_for_message(port, user, password, match, timeout=30):
    """The newest message of `user`'s INBOX over IMAP for which
    `match(message)` holds, waiting up to `timeout` seconds for it to be
    delivered (one IMAP session: log in once, then poll). The message is an
    email.message.EmailMessage; text_of() gives its text. None if none
    came."""
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    try:
        conn.login(user, password)
        conn.select("INBOX", readonly=True)
        deadline = time.monotonic() + timeout
        while True:
            conn.noop()
            _, data = conn.search(None, "ALL")
            numbers = data[0].split()
            if numbers:
                _, fetched = conn.fetch(numbers[-1], "(BODY.PEEK[])")
                message = email.message_from_bytes(fetched[0][1], policy=email.policy.default)
                if match(message):
                    return message
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)
    finally:
        try:
            conn.logout()
        except Exception:
            pass


class Sink:
    """An HTTP server on a free loopback port that records every POST
    (path, headers, body) and answers `status` (200 unless set) with
    {"ok": true}: the SMS gateway of the tests."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self._changed = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with sink._changed:
                    sink.requests.append({"path": self.path,
                                          "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body})
                    status = sink.status
                    sink._changed.notify_all()
                answer = json.dumps({"ok": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass  # bodies carry codes: nothing logged

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count, timeout=30):
        """The first `count` requests, once that many came (fewer after
        `timeout` seconds)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests[:count])

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Service:
    """mail2fa-server on a free loopback port, configured by the shipped
    example with only these changed: its SQLite store in `work` (created),
    the listen address, the API token file (a fresh random token), the
    portal's administrators, the notifications' link to its devices page,
    the TOTP window (TOTP_WINDOW), Dovecot's authentication socket, Postfix
    as SMTP relay, the sink as SMS gateway; with `trusted_proxies`, those
    of [server]; with `nginx`, an [nginx] section of these keys (replacing
    the example's)."""

    def __init__(self, binary, work, admins=(), auth_socket=None, smtp_port=None, sms_url=None,
                 trusted_proxies=(), nginx=None):
        self.binary = binary
        self.dir = os.path.join(work, "service")
        os.makedirs(self.dir, exist_ok=True)
        self.token = secrets.token_hex(32)
        tokens = os.path.join(self.dir, "api-tokens")
        with open(os.open(tokens, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f"# the tests' panel\n{self.token}\n")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = os.path.join(self.dir, "mail2fa.db")
        changes = {
            'sqlite_path = "/var/lib/mail2fa/mail2fa.db"': f"sqlite_path = {json.dumps(self.db)}",
            "create = false": "create = true",
            "listen = []": f'listen = ["127.0.0.1:{self.port}"]',
            '#api_token_file = "/etc/mail2fa/api-tokens"': f"api_token_file = {json.dumps(tokens)}",
            "admins = []": f"admins = {json.dumps(list(admins))}",
            # The notifications' link: this service's devices page.
            '#portal_link = "https://mail.example.com/devices?user={account}"':
                f'portal_link = "{self.url}/portal/devices/{{device}}"',
            "window = 1\n": f"window = {TOTP_WINDOW}\n",
        }
        if auth_socket:
            changes['dovecot_socket = "/run/dovecot/auth-client"'] = \
                f"dovecot_socket = {json.dumps(auth_socket)}"
        if smtp_port:
            changes['#smtp_relay = "localhost:25"'] = f'smtp_relay = "127.0.0.1:{smtp_port}"'
            changes['#from = "mail2fa@example.com"'] = 'from = "mail2fa@example.com"'
        if sms_url:
            changes['#sms_gateway_url = "https://sms.example.net/send"'] = \
                f"sms_gateway_url = {json.dumps(sms_url)}"
        if trusted_proxies:
            changes["trusted_proxies = []"] = \
                f"trusted_proxies = {json.dumps(list(trusted_proxies))}"
        text = shipped("mail2fa.toml", changes)
        if nginx is not None:
            text = with_section(text, "nginx", nginx)
        self.conf = os.path.join(self.dir, "mail2fa.toml")
        with open(os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(text)
        self.log = os.path.join(self.dir, "mail2fa-server.log")
        self.proc = None

    def listening(self):
        """How many times the log says the service listens (once a start)."""
        if not os.path.exists(self.log):
            return 0
        return open(self.log, errors="replace").read().count("mail2fa-server: listening on")

    def start(self):
        """Starts the service (again, after stop()) and waits until it
        listens."""
        started = time.monotonic()
        before = self.listening()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.binary, "--config", self.conf],
                                         stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         env={k: v for k, v in os.environ.items()
                                              if k != "MAIL2FA_CONFIG"})
        deadline = time.monotonic() + 20
        while self.listening() == before:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mail2fa-server exited with {self.proc.returncode}: "
                                   f"{open(self.log, errors='replace').read().strip()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mail2fa-server does not listen: see {self.log}")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self):
        """SIGTERM, as an init system stops it; its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def api(self, method, path, body=None, token=None):
        """One panel API call under /api/v1/: (HTTP status, JSON answer)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/api/v1{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {token or self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def with_section(text, name, keys):
    """A TOML text with its section [name] (if any, up to the next
    section) replaced by one of `keys` (strings and numbers), at the end."""
    kept, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            inside = line.strip() == f"[{name}]"
        if not inside:
            kept.append(line)
    section = "".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items())
    return "".join(kept).rstrip("\n") + f"\n\n[{name}]\n{section}"


def account_path(account, platform=PLATFORM):
    """The API path of an account."""
    return (f"/platforms/{urllib.parse.quote(platform, safe='')}"
            f"/accounts/{urllib.parse.quote(account, safe='@')}")


class Stack:
    """Everything a portal flow runs on, in `work`: the sink, the service,
    Dovecot with the Lua passdb reading the service's configuration file
    (one file for every component), Postfix delivering to Dovecot, and
    chromedriver (`driver`, a webdriver.Driver). The host's users and
    passwords are tests/dovecot/e2e.py's PASSWORDS; Postfix takes mail for
    `mailboxes`.

        stack = Stack(server, lua_module, work, mailboxes=["alice@example.com"])
        try:
            stack.start()
            ...  # stack.service.api(...), stack.driver.session(...)
        finally:
            stack.stop()

    Options (nginx's suite): `browser=False` starts no chromedriver;
    `master_users` (a passwd-file) gives Dovecot a master passdb;
    `xclient_hosts` lets those hosts hand SMTP sessions to Postfix with
    XCLIENT; `sasl_port`, a Postfix SMTP port with AUTH through Dovecot;
    `trusted_proxies` and `nginx` go to the service (see Service).
    """

    def __init__(self, server_binary, lua_module, work, mailboxes, admins=(), browser=True,
                 master_users=None, xclient_hosts=None, sasl_port=None, trusted_proxies=(),
                 nginx=None):
        import webdriver  # beside this file

        self._webdriver = webdriver if browser else None
        self.work = work
        self.lua_dir = os.path.dirname(os.path.abspath(lua_module))
        self.mailboxes = list(mailboxes)
        _, self.passwd = dovecot_e2e.write_users(work)
        with open(self.passwd, "a") as f:  # the portal's own users
            f.writelines(f"{user}:{{SHA512-CRYPT}}{dovecot_e2e.crypt_sha512(password)}\n"
                         for user, password in PASSWORDS.items()
                         if user not in dovecot_e2e.PASSWORDS)
        # The Lua passdb is added by start().
        self.dovecot = Dovecot(work, "", master_users=master_users, sasl_socket=bool(sasl_port))
        self.sink = Sink()  # listening from here on: its URL goes in the configuration
        self._started = [self.sink]
        self.service = Service(os.path.abspath(server_binary), work, admins=admins,
                               auth_socket=self.dovecot.auth_socket, smtp_port=SMTP_PORT,
                               sms_url=self.sink.url, trusted_proxies=trusted_proxies,
                               nginx=nginx)
        self.postfix = Postfix(work, SMTP_PORT, self.dovecot.lmtp_socket, self.mailboxes,
                               xclient_hosts=xclient_hosts, sasl_port=sasl_port,
                               sasl_socket=self.dovecot.sasl_socket)
        self.driver = None

    def start(self):
        """Starts the service, Dovecot, Postfix and chromedriver, printing
        how long each took; what started (and the sink) is stopped by
        stop(), also after a part failed to start."""
        # Dovecot's Lua passdb: the shipped script and snippet with only
        # their paths and the notifications' command replaced, on the
        # service's configuration file.
        script = os.path.join(self.work, "mail2fa-passdb.lua")
        with open(script, "w") as f:
            f.write(shipped("dovecot/mail2fa-passdb.lua", {
                "/etc/mail2fa/mail2fa.toml": self.service.conf,
                "/etc/dovecot/mail2fa-users": self.passwd,
                # The portal signs in through this Dovecot (service "portal").
                "portal_service = nil,": 'portal_service = "portal",',
                "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so": os.path.join(self.lua_dir, "?.so"),
                # Blocked devices' notifications go to the sandbox Postfix.
                "notify_command = nil,":
                    f'notify_command = "/usr/sbin/sendmail -C {self.postfix.conf_dir} -t -i",',
                "notify_from = nil,": 'notify_from = "mail2fa@example.com",',
            }))
        with open(self.dovecot.conf, "a") as f:
            f.write(shipped("dovecot/auth-mail2fa-lua.conf",
                            {"/etc/dovecot/mail2fa-passdb.lua": script}))
        for name, part in (("service", self.service), ("dovecot", self.dovecot),
                           ("postfix", self.postfix)):
            self._started.append(part)
            print(f"{name}: started in {part.start() * 1000:.0f} ms")
        if self._webdriver is not None:
            self.driver = self._webdriver.Driver(log=os.path.join(self.work, "chromedriver.log"))
            self._started.append(self.driver)

    def logs(self):
        """The parts' log files (for checks that no secret is logged)."""
        return [self.dovecot.log(), self.service.log, self.postfix.maillog]

    def stop(self):
        """Stops what started, in reverse order; a part that fails to stop
        is reported and the others are still stopped."""
        while self._started:
            part = self._started.pop()
            try:
                part.stop()
            except Exception as e:
                print(f"      stopping {type(part).__name__}: {e}")
