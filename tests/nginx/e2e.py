#!/usr/bin/env python3
"""mail2fa's nginx gate end to end: Debian's nginx (with libnginx-mod-mail)
configured by the shipped integrations/nginx/mail2fa-gate.conf and
mail2fa-mail.conf, in front of a stub ActiveSync/EWS upstream and of the
portal suite's stack (tests/portal/stack.py: Dovecot with mail2fa's Lua
passdb and a master user for nginx, Postfix delivering to Dovecot and taking
nginx's SMTP sessions with XCLIENT, mail2fa-server with Dovecot's
authentication socket as its password check and Postfix as SMTP relay).

The shipped nginx files are used as they are, with only their example
values replaced (see Nginx.REPLACED): ports, certificate paths, the
upstream's and mail2fa-server's addresses, the shared secret.

Driven by curl, with requests shaped like an iPhone's (ActiveSync, both
query forms) and Outlook's (EWS, autodiscover):
- a new iPhone with the right password is refused (403), its token
  INACTIVE, the notification with its portal link mailed to the real
  mailbox (read over IMAP); again: 403 and no second notification; a wrong
  password: 401 with the Basic challenge, nothing recorded;
- authorized with the tool it syncs (the upstream sees the request, with
  X-Mail2fa-Account); deactivated or deleted it is refused again;
- a device authorized in chromium from the notification's link syncs;
- Outlook: a new device refused; an application password passes under
  device-authorization, is refused under code-in-login;
- IMAP, POP3, SMTP through nginx's mail proxy decide as Dovecot's Lua passdb
  does directly (the same steps for one account each way), a mail submitted
  through nginx is delivered;
- mail2fa-server stopped: every login refused (HTTP 500, nothing reaches
  the upstream); started again, it works;
- no password, code or secret in any log.

Run by scripts/test-nginx.sh, which builds what it needs:

    python3 tests/nginx/e2e.py --server target/debug/mail2fa-server \\
        --tool target/debug/mail2fa --lua-module target/integrations/mail2fa.so [--keep]

Needs root and Debian's nginx, libnginx-mod-mail, dovecot-imapd,
dovecot-pop3d, dovecot-lmtpd, dovecot-auth-lua, postfix, chromium,
chromium-driver, curl, openssl. MAIL2FA_E2E_INSTANCE (0-9) gives a run its
own ports.
"""

import argparse
import base64
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "portal"))

import stack  # noqa: E402
import webdriver  # noqa: E402
from checks import Authenticator, check, flow, no_secrets_in, summary  # noqa: E402
from pages import Album, Portal  # noqa: E402

PLATFORM = stack.PLATFORM
PASSWORDS = stack.PASSWORDS
INSTANCE = stack.INSTANCE
ALICE = "alice@example.com"  # an iPhone, authorized with the tool
DAVE = "dave@example.com"  # an iPhone, authorized in the portal
ERIN = "erin@example.com"  # Outlook
HENRY = "henry@example.com"  # IMAP, POP3, SMTP straight to Dovecot and Postfix
CAROL = "carol@example.com"  # the same through nginx's mail proxy
MAILBOXES = [ALICE, DAVE, ERIN, HENRY, CAROL]
# nginx's ports (beside the portal stack's 47xxx).
HTTPS_PORT = 48443 + 100 * INSTANCE
PLAIN_PORT = 48444 + 100 * INSTANCE  # the benchmark's location without the gate
IMAPS_PORT = 48993 + 100 * INSTANCE
POP3S_PORT = 48995 + 100 * INSTANCE
SMTPS_PORT = 48465 + 100 * INSTANCE
# Postfix's SMTP with AUTH through Dovecot (the direct path's submission).
SASL_PORT = 48587 + 100 * INSTANCE
HOST = "mail.example.com"
MASTER_USER = "mail2fa-proxy"
REALM = "Example Mail"
NGINX = "/usr/sbin/nginx"
MAIL_MODULE = "/usr/lib/nginx/modules/ngx_mail_module.so"
NEEDS = {
    NGINX: "nginx",
    MAIL_MODULE: "libnginx-mod-mail",
    "/usr/sbin/dovecot": "dovecot-core",
    "/usr/lib/dovecot/imap": "dovecot-imapd",
    "/usr/lib/dovecot/pop3": "dovecot-pop3d",
    "/usr/lib/dovecot/lmtp": "dovecot-lmtpd",
    "/usr/lib/dovecot/modules/auth/libauthdb_lua.so": "dovecot-auth-lua",
    "/usr/sbin/postfix": "postfix",
    webdriver.CHROMIUM: "chromium",
    webdriver.CHROMEDRIVER: "chromium-driver",
    "/usr/bin/curl": "curl",
    "/usr/bin/openssl": "openssl",
}
IPHONE_AGENT = "Apple-iPhone14C2/2006.45"
OUTLOOK_AGENT = ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; "
                 "Pro)")
# A Sync request body: WBXML (version 1.3, UTF-8) <Sync><Collections/></Sync>.
WBXML_SYNC = bytes([0x03, 0x01, 0x6A, 0x00, 0x00, 0x00, 0x45, 0x5C, 0x01, 0x01])
EWS_BODY = (b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
            b'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<GetFolder xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"/>'
            b'</soap:Body></soap:Envelope>')
SSL_CONTEXT = ssl._create_unverified_context()  # nginx's certificate is the test's own

class Upstream:
    """The stub ActiveSync/EWS server behind nginx: answers every request
    200 with a short body and records it (method, path, headers, body)."""

    def __init__(self):
        self.requests = []
        self._lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with upstream._lock:
                    upstream.requests.append({
                        "method": self.command, "path": self.path, "body": body,
                        "headers": {k.lower(): v for k, v in self.headers.items()}})
                reply = b"upstream: ok\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_OPTIONS = answer

            def log_message(self, *args):
                pass  # requests carry Basic credentials: nothing logged

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self):
        with self._lock:
            return len(self.requests)

    def last(self):
        with self._lock:
            return self.requests[-1] if self.requests else None

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def shipped_nginx(name, replacements):
    """integrations/nginx/NAME with its example values replaced (each must
    be there)."""
    return stack.shipped(os.path.join("nginx", name), replacements)


class Nginx:
    """Debian's nginx with its own prefix directory, configuration, error
    log and temporary files, in the foreground (daemon off), killed by
    stop(). Its nginx.conf loads the mail module and includes the shipped
    files with only these example values replaced: listen ports (on
    127.0.0.1), the certificate (the test's own, self-signed for
    mail.example.com), the mail server (the stub upstream), mail2fa-server's
    address, and the shared secret. `extra_http` is added to http { }."""

    SECRET_EXAMPLE = "REPLACE-WITH-THE-SECRET-OF-ETC-MAIL2FA-NGINX-SECRET"
    CERT_EXAMPLE = "/etc/ssl/certs/mail.example.com.pem"
    KEY_EXAMPLE = "/etc/ssl/private/mail.example.com.key"
    SERVICE_EXAMPLE = "127.0.0.1:8080"

    def __init__(self, work, service_port, upstream_port, secret, extra_http=""):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", f"/CN={HOST}", "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True)
        os.chmod(self.key, 0o600)
        service = f"127.0.0.1:{service_port}"
        common = {
            self.SECRET_EXAMPLE: secret,
            self.CERT_EXAMPLE: self.cert,
            self.KEY_EXAMPLE: self.key,
        }
        gate = shipped_nginx("mail2fa-gate.conf", dict(common, **{
            "listen 443 ssl;": f"listen 127.0.0.1:{HTTPS_PORT} ssl;",
            "https://exchange.example.com": f"http://127.0.0.1:{upstream_port}",
            f"http://{self.SERVICE_EXAMPLE}/nginx/auth-request":
                f"http://{service}/nginx/auth-request",
        }))
        mail = shipped_nginx("mail2fa-mail.conf", dict(common, **{
            "listen 993 ssl;": f"listen 127.0.0.1:{IMAPS_PORT} ssl;",
            "listen 995 ssl;": f"listen 127.0.0.1:{POP3S_PORT} ssl;",
            "listen 465 ssl;": f"listen 127.0.0.1:{SMTPS_PORT} ssl;",
            f"auth_http {self.SERVICE_EXAMPLE}/nginx/auth-http;":
                f"auth_http {service}/nginx/auth-http;",
        }))
        self.files = {}
        for name, text in (("mail2fa-gate.conf", gate), ("mail2fa-mail.conf", mail)):
            path = os.path.join(self.dir, name)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(text)
            self.files[name] = path
        self.error_log = os.path.join(self.dir, "error.log")
        self.access_log = os.path.join(self.dir, "access.log")
        self.output = os.path.join(self.dir, "nginx.out")
        temp = os.path.join(self.dir, "temp")
        os.makedirs(temp, exist_ok=True)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(f"""# nginx for mail2fa's tests (instance {INSTANCE}): the shipped
# files are included below.
load_module {MAIL_MODULE};
user www-data;
worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.error_log} info;
events {{
    worker_connections 512;
}}
http {{
    access_log {self.access_log};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.files["mail2fa-gate.conf"]};
{extra_http}}}
include {self.files["mail2fa-mail.conf"]};
""")
        self.proc = None

    def command(self):
        return [NGINX, "-p", self.dir + "/", "-c", self.conf, "-e", self.error_log]

    def start(self):
        started = time.monotonic()
        test = subprocess.run(self.command() + ["-t"], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t: {test.stderr.strip()}")
        with open(self.output, "ab") as out:
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=out,
                                         stdin=subprocess.DEVNULL)
        for port in (HTTPS_PORT, IMAPS_PORT, POP3S_PORT, SMTPS_PORT):
            try:
                stack.wait_for_port(port, "nginx", self.error_log)
            except RuntimeError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"nginx exited with {self.proc.returncode}: see "
                                       f"{self.error_log}")
                raise
        return time.monotonic() - started

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def logs(self):
        return [self.error_log, self.access_log, self.output]


class Reply:
    """What curl got: the status, the headers (lower-case names; the last
    value of each) and the body."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def __repr__(self):
        return f"HTTP {self.status}"


def curl(work, path, user=None, password=None, method="GET", agent=None, headers=(),
         body=None, port=HTTPS_PORT, as_is=False):
    """One request to nginx over TLS with curl, for https://mail.example.com
    (resolved to 127.0.0.1); the credentials go to curl on its standard
    input (never on its command line). `as_is`: the path sent as written
    (dot segments kept)."""
    scratch = tempfile.mkdtemp(dir=work)
    try:
        dump, out = os.path.join(scratch, "headers"), os.path.join(scratch, "body")
        cmd = ["curl", "--silent", "--show-error", "--insecure", "--max-time", "30",
               "--resolve", f"{HOST}:{port}:127.0.0.1", "--config", "-",
               "--dump-header", dump, "--output", out, "--write-out", "%{http_code}",
               "--request", method]
        if as_is:
            cmd.append("--path-as-is")
        if agent:
            cmd += ["--user-agent", agent]
        for header in headers:
            cmd += ["--header", header]
        if body is not None:
            data = os.path.join(scratch, "data")
            with open(data, "wb") as f:
                f.write(body)
            cmd += ["--data-binary", f"@{data}"]
        cmd.append(f"https://{HOST}:{port}{path}")
        config = ""
        if user is not None:
            config = 'user = "%s:%s"\n' % tuple(
                s.replace("\\", "\\\\").replace('"', '\\"') for s in (user, password))
        done = subprocess.run(cmd, input=config, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"curl {method} {path}: {done.stderr.strip()}")
        dumped = open(dump, errors="replace").read().replace("\r\n", "\n")
        blocks = dumped.strip().split("\n\n")
        found = {}
        for line in blocks[-1].split("\n")[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                found[name.strip().lower()] = value.strip()
        return Reply(int(done.stdout.strip() or 0), found, open(out, "rb").read())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def activesync_path(user, device_id, device_type="iPhone", command="Sync"):
    """An ActiveSync request's path, the plain query form (MS-ASHTTP
    2.2.1.1.1.2)."""
    return (f"/Microsoft-Server-ActiveSync?Cmd={command}&User={user}"
            f"&DeviceId={device_id}&DeviceType={device_type}")


def activesync_path_base64(user, device_id, device_type="iPhone"):
    """The same in the base64 query form (MS-ASHTTP 2.2.1.1.1.1): protocol
    version 161 (16.1), command 0 (Sync), locale 0x0409, the device id, no
    policy key, the device type, and the User parameter (tag 8)."""
    raw = bytes([161, 0]) + (0x0409).to_bytes(2, "little")
    raw += bytes([len(device_id)]) + device_id.encode()
    raw += bytes([0])  # no policy key
    raw += bytes([len(device_type)]) + device_type.encode()
    raw += bytes([8, len(user)]) + user.encode()
    return "/Microsoft-Server-ActiveSync?" + base64.b64encode(raw).decode()


def iphone(work, path, user, password, headers=(), as_is=False):
    """An iPhone's Sync POST (user agent, WBXML body, protocol 16.1)."""
    return curl(work, path, user, password, method="POST", agent=IPHONE_AGENT,
                headers=["Content-Type: application/vnd.ms-sync.wbxml",
                         "MS-ASProtocolVersion: 16.1", *headers], body=WBXML_SYNC,
                as_is=as_is)


def outlook(work, user, password, path="/EWS/Exchange.asmx"):
    """Outlook's EWS POST (its user agent, a SOAP body)."""
    return curl(work, path, user, password, method="POST", agent=OUTLOOK_AGENT,
                headers=["Content-Type: text/xml; charset=utf-8"], body=EWS_BODY)


class Run:
    """What the flows share: the stack, nginx, the upstream, the tool, the
    sandbox, the authenticators and application passwords made, every
    secret seen (for the check of the logs)."""

    def __init__(self, parts, nginx, upstream, tool, work, secrets_seen):
        self.parts, self.service = parts, parts.service
        self.nginx, self.upstream, self.tool, self.work = nginx, upstream, tool, work
        self.secrets = secrets_seen
        self.auth = {}
        self.readers = {}

    def enroll(self, account):
        """2FA on for `account` through the panel API, confirmed with the
        first code of its authenticator."""
        status, secret = self.service.api("POST", stack.account_path(account) + "/enrollment")
        if status != 201:
            raise RuntimeError(f"enrollment of {account}: {status} {secret}")
        auth = Authenticator(secret["uri"])
        self.secrets.append(secret["uri"].split("secret=", 1)[1].split("&", 1)[0])
        status, answer = self.service.api(
            "POST", stack.account_path(account) + "/enrollment/confirm", {"code": auth.code()})
        if status != 200 or answer.get("confirmed") is not True:
            raise RuntimeError(f"confirmation of {account}: {status} {answer}")
        self.auth[account] = auth
        return auth

    def app_password(self, account, name, protocols):
        """A new application password (the tool), remembered as a secret."""
        created = self.tool.run("app-password", "create", PLATFORM, account, "--name", name,
                                *[a for p in protocols for a in ("--protocol", p)])
        self.secrets.append(created["password"])
        return created["password"]

    def devices(self, account):
        """The tool's list of the account's device tokens."""
        return self.tool.run("device", "list", PLATFORM, account)["devices"]

    def reader(self, account):
        """An IMAP application password to read `account`'s mailbox (made
        once), as the user's mail app has."""
        if account not in self.readers:
            self.readers[account] = self.app_password(account, "mail reader", ["imap"])
        return self.readers[account]

    def notification(self, account, device, timeout=30):
        """The notification about `device` (its id) in the account's
        mailbox, read over IMAP; None when none came."""
        return stack.wait_for_message(
            self.parts.dovecot.imap, account, self.reader(account),
            lambda m: f"/portal/devices/{device}" in stack.text_of(m), timeout=timeout)

    def notifications_about(self, account, device):
        """How many messages in the account's mailbox link to `device`."""
        conn = imaplib.IMAP4("127.0.0.1", self.parts.dovecot.imap, timeout=10)
        try:
            conn.login(account, self.reader(account))
            conn.select("INBOX", readonly=True)
            _, data = conn.search(None, "ALL")
            found = 0
            for number in data[0].split():
                _, fetched = conn.fetch(number, "(BODY.PEEK[])")
                message = stack.email.message_from_bytes(fetched[0][1],
                                                         policy=stack.email.policy.default)
                found += f"/portal/devices/{device}" in stack.text_of(message)
            return found
        finally:
            conn.logout()


def same_device_list(before, after):
    """Two device lists with the same tokens in the same states (a refused
    request must not add one, nor change one)."""
    keys = ("id", "state", "protocol", "device_id", "device_type", "user_agent",
            "remote_addr", "notified_at")
    return [{k: d.get(k) for k in keys} for d in before] == \
        [{k: d.get(k) for k in keys} for d in after]


def alice_iphone(run):
    """A new iPhone of alice, authorized with the operator tool."""
    work, password = run.work, PASSWORDS[ALICE]
    run.enroll(ALICE)
    run.reader(ALICE)
    path = activesync_path(ALICE, "ALICEPHONE1")

    # The iPhone first asks which protocol versions the server speaks
    # (OPTIONS, no device): the right password is enough, no token made.
    before = run.upstream.count()
    reply = curl(run.work, "/Microsoft-Server-ActiveSync", ALICE, password, method="OPTIONS",
                 agent=IPHONE_AGENT)
    got = run.upstream.last() if run.upstream.count() == before + 1 else None
    check(reply.status == 200 and got is not None and got["method"] == "OPTIONS",
          f"ActiveSync: OPTIONS with the right password reaches the upstream ({reply})")
    seen = run.upstream.count()

    # Other paths are not served; the gate's location is nginx's own.
    for other in ("/owa/", "/mail2fa-auth"):
        reply = curl(run.work, other, ALICE, password)
        check(reply.status == 404 and run.upstream.count() == seen,
              f"nginx: {other} is not served ({reply})")

    # The first Sync carries no credentials: the Basic challenge.
    reply = curl(run.work, path, method="POST", agent=IPHONE_AGENT, body=WBXML_SYNC)
    check(reply.status == 401 and reply.headers.get("www-authenticate")
          == f'Basic realm="{REALM}", charset="UTF-8"',
          f"ActiveSync: no credentials: 401 with the Basic challenge of the realm ({reply}, "
          f"{reply.headers.get('www-authenticate')})")
    check(run.devices(ALICE) == [], "tool: no device recorded for a request without credentials")

    # Right password, new iPhone; its own X-Forwarded-For is not believed.
    reply = iphone(work, path, ALICE, password, headers=["X-Forwarded-For: 203.0.113.9"])
    check(reply.status == 403, f"ActiveSync: alice's new iPhone, right password: 403 ({reply})")
    check(run.upstream.count() == seen, "upstream: the blocked iPhone's request never came")
    devices = run.devices(ALICE)
    first = devices[0] if len(devices) == 1 else {}
    check(len(devices) == 1 and first.get("state") == "inactive"
          and first.get("protocol") == "activesync" and first.get("device_type") == "iPhone"
          and first.get("device_id") in ("ALICEPHONE1", "alicephone1")
          and first.get("user_agent") == IPHONE_AGENT,
          f"tool: one INACTIVE activesync token, the iPhone's id, type and user agent ({devices})")
    check(first.get("remote_addr") == "127.0.0.1",
          f"tool: the address is nginx's client's, not the header the client sent "
          f"({first.get('remote_addr')})")
    device = first.get("id", "")
    message = run.notification(ALICE, device)
    text = stack.text_of(message) if message else ""
    check(message is not None and f"{run.service.url}/portal/devices/{device}" in text,
          "mail: the notification with the portal's link to the device is in alice's mailbox "
          "(mail2fa-server through Postfix, read over IMAP)")
    check(first.get("notified_at") is not None, "tool: the token records its notification")

    # The blocked iPhone through Autodiscover's path (a probe passes on the
    # password alone): nginx matches the cleaned path, the gate reads the
    # one the upstream gets, and refuses it.
    reply = iphone(work, "/autodiscover/.." + path, ALICE, password, as_is=True)
    check(reply.status == 403 and run.upstream.count() == seen,
          f"ActiveSync: /autodiscover/../Microsoft-Server-ActiveSync refused, nothing reaches "
          f"the upstream ({reply})")

    # A command without a device, posing as the OPTIONS probe with the
    # client's own X-Original-Method: nginx passes only its own headers.
    reply = iphone(work, "/Microsoft-Server-ActiveSync?Cmd=Sync&User=" + ALICE, ALICE, password,
                   headers=["X-Original-Method: OPTIONS"])
    check(reply.status == 403 and run.upstream.count() == seen,
          f"ActiveSync: a Sync without a device id is refused, the client's own "
          f"X-Original-Method ignored ({reply})")

    # The same again: still refused, no second notification.
    reply = iphone(work, path, ALICE, password)
    check(reply.status == 403, f"ActiveSync: the same iPhone again: 403 ({reply})")
    again = run.devices(ALICE)
    check(same_device_list(devices, again),
          "tool: still one INACTIVE token, notified at the same time (no second notification)")

    # A wrong password: the challenge, nothing recorded.
    reply = iphone(work, activesync_path(ALICE, "OTHERPHONE9"), ALICE, "wrong-" + password)
    check(reply.status == 401 and reply.headers.get("www-authenticate", "").startswith(
        f'Basic realm="{REALM}"'),
          f"ActiveSync: a wrong password: 401 with the Basic challenge ({reply})")
    check(same_device_list(devices, run.devices(ALICE)),
          "tool: a wrong password recorded no device")
    check(run.upstream.count() == seen, "upstream: no refused request came")

    # A second iPhone in the base64 query form: refused and notified; by
    # then alice's mailbox still has one notification about the first.
    reply = iphone(work, activesync_path_base64(ALICE, "ALICEPHONE2"), ALICE, password)
    check(reply.status == 403, f"ActiveSync (base64 query): alice's second iPhone: 403 ({reply})")
    second = [d for d in run.devices(ALICE) if d.get("id") != device]
    check(len(second) == 1 and second[0].get("state") == "inactive"
          and second[0].get("device_type") == "iPhone"
          and second[0].get("device_id") in ("ALICEPHONE2", "alicephone2",
                                              "ALICEPHONE2".encode().hex(),
                                              "ALICEPHONE2".encode().hex().upper()),
          f"tool: the base64 query's device and type recorded, INACTIVE ({second})")
    if second:
        check(run.notification(ALICE, second[0]["id"]) is not None,
              "mail: the second iPhone's notification arrived")
        check(run.notifications_about(ALICE, device) == 1,
              "mail: one notification about the first iPhone, not two")

    # Authorized with the tool: the next Sync reaches the upstream.
    run.tool.run("device", "activate", PLATFORM, ALICE, device)
    reply = iphone(work, path, ALICE, password, headers=["X-Mail2fa-Account: mallory@example.com"])
    got = run.upstream.last() if run.upstream.count() == seen + 1 else None
    check(reply.status == 200 and reply.body == b"upstream: ok\n" and got is not None,
          f"ActiveSync: after `mail2fa device activate` the Sync reaches the upstream ({reply})")
    if got:
        headers = got["headers"]
        check(got["method"] == "POST" and got["path"] == path and got["body"] == WBXML_SYNC
              and headers.get("user-agent") == IPHONE_AGENT
              and headers.get("authorization", "").startswith("Basic "),
              "upstream: the iPhone's request as sent (path, body, user agent, credentials)")
        check(headers.get("x-mail2fa-account") == ALICE,
              f"upstream: X-Mail2fa-Account is the gate's, not the client's "
              f"({headers.get('x-mail2fa-account')})")
        check("x-mail2fa-secret" not in headers, "upstream: the gate's secret is not passed on")
    seen = run.upstream.count()

    run.tool.run("device", "deactivate", PLATFORM, ALICE, device)
    reply = iphone(work, path, ALICE, password)
    check(reply.status == 403 and run.upstream.count() == seen,
          f"ActiveSync: deactivated: 403, nothing reaches the upstream ({reply})")

    run.tool.run("device", "delete", PLATFORM, ALICE, device)
    check(all(d["id"] != device for d in run.devices(ALICE)), "tool: the token is deleted")
    reply = iphone(work, path, ALICE, password)
    now = [d for d in run.devices(ALICE) if d.get("device_type") == "iPhone"
           and d.get("device_id") in ("ALICEPHONE1", "alicephone1")]
    check(reply.status == 403 and run.upstream.count() == seen,
          f"ActiveSync: deleted: 403, nothing reaches the upstream ({reply})")
    check(len(now) == 1 and now[0]["state"] == "inactive",
          f"tool: a new INACTIVE token for the deleted iPhone ({now})")
    return now[0]["id"] if now else None


def dave_in_the_portal(run):
    """dave's new iPhone is blocked; he opens the notification's link in
    chromium, signs in with a code and authorizes it: the next Sync
    passes."""
    work, password = run.work, PASSWORDS[DAVE]
    auth = run.enroll(DAVE)
    path = activesync_path(DAVE, "DAVEPHONE")
    seen = run.upstream.count()
    reply = iphone(work, path, DAVE, password)
    check(reply.status == 403, f"ActiveSync: dave's new iPhone: 403 ({reply})")
    devices = run.devices(DAVE)
    device = devices[0]["id"] if len(devices) == 1 else ""
    message = run.notification(DAVE, device)
    text = stack.text_of(message) if message else ""
    link = re.search(r"(http://\S+/portal/devices/[0-9a-f]+)", text)
    check(link is not None and link.group(1) == f"{run.service.url}/portal/devices/{device}",
          "mail: dave's notification links to his iPhone's page in the portal")
    if link is None:
        return
    browser = run.parts.driver.session(*webdriver.DESKTOP)
    with browser:
        portal = Portal(browser, run.service.url, Album(None), {}, {})
        browser.navigate(link.group(1))
        check(portal.path() == f"/portal/sign-in?next=/portal/devices/{device}",
              f"portal: the link asks dave to sign in ({portal.path()})")
        portal.fill("Mail address", DAVE)
        portal.fill("Password", password)
        portal.click("Continue")
        portal.fill("Code", auth.code())
        portal.click("Sign in")
        check(portal.path() == f"/portal/devices/{device}",
              f"portal: signed in with a code, on the iPhone's page ({portal.path()})")
        portal.click("This was me: authorize", within=f"#device-{device}")
        check((portal.notice() or "").startswith("The device is authorized"),
              f"portal: the iPhone authorized ({portal.notice()})")
    check([d["state"] for d in run.devices(DAVE)] == ["active"], "tool: dave's iPhone is ACTIVE")
    reply = iphone(work, path, DAVE, password)
    got = run.upstream.last() if run.upstream.count() == seen + 1 else None
    check(reply.status == 200 and got is not None and got["path"] == path
          and got["headers"].get("x-mail2fa-account") == DAVE,
          f"ActiveSync: authorized in the portal, dave's Sync reaches the upstream ({reply})")


def erin_outlook(run):
    """Outlook: a new device is refused; an application password for
    outlook passes where the policy is device-authorization (the default)
    and is refused under code-in-login (the engine takes application
    passwords only under device-authorization and app-password-only)."""
    work, password = run.work, PASSWORDS[ERIN]
    run.enroll(ERIN)
    seen = run.upstream.count()
    reply = outlook(work, ERIN, password)
    check(reply.status == 403 and run.upstream.count() == seen,
          f"EWS: erin's new Outlook, right password: 403, nothing reaches the upstream ({reply})")
    devices = run.devices(ERIN)
    check(len(devices) == 1 and devices[0]["state"] == "inactive"
          and devices[0]["protocol"] == "outlook" and devices[0]["user_agent"] == OUTLOOK_AGENT,
          f"tool: an INACTIVE outlook token with Outlook's user agent ({devices})")
    app = run.app_password(ERIN, "Outlook", ["outlook"])
    reply = outlook(work, ERIN, app)
    got = run.upstream.last() if run.upstream.count() == seen + 1 else None
    check(reply.status == 200 and got is not None and got["path"] == "/EWS/Exchange.asmx"
          and got["body"] == EWS_BODY and got["headers"].get("x-mail2fa-account") == ERIN,
          f"EWS: an application password for outlook passes (device-authorization) ({reply})")
    reply = outlook(work, ERIN, app, path="/autodiscover/autodiscover.xml")
    check(reply.status == 200 and run.upstream.count() == seen + 2,
          f"autodiscover: the application password passes too ({reply})")
    reply = outlook(work, ERIN, "wrong-" + app)
    check(reply.status == 401 and run.upstream.count() == seen + 2,
          f"EWS: a wrong application password: 401 ({reply})")
    run.tool.run("account", "policy", PLATFORM, ERIN, "outlook", "code-in-login")
    reply = outlook(work, ERIN, app)
    check(reply.status == 401 and reply.headers.get("www-authenticate", "").startswith("Basic ")
          and run.upstream.count() == seen + 2,
          f"EWS: under code-in-login the application password is refused: 401 ({reply})")


def imap_session(port, user, password, tls):
    """An IMAP login and a SELECT of INBOX: whether both worked."""
    conn = (imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=SSL_CONTEXT, timeout=20) if tls
            else imaplib.IMAP4("127.0.0.1", port, timeout=20))
    try:
        try:
            conn.login(user, password)
            return conn.select("INBOX")[0] == "OK"
        except (imaplib.IMAP4.error, OSError):
            return False
    finally:
        try:
            conn.logout()
        except Exception:
            pass


def pop3_session(port, user, password, tls):
    """A POP3 login and a STAT: whether both worked."""
    conn = (poplib.POP3_SSL("127.0.0.1", port, context=SSL_CONTEXT, timeout=20) if tls
            else poplib.POP3("127.0.0.1", port, timeout=20))
    try:
        try:
            conn.user(user)
            conn.pass_(password)
            conn.stat()
            return True
        except (poplib.error_proto, OSError):
            return False
    finally:
        try:
            conn.quit()
        except Exception:
            pass


def smtp_session(port, user, password, tls, message=None):
    """An SMTP AUTH (and, with `message`, its submission): whether it
    worked."""
    conn = (smtplib.SMTP_SSL("127.0.0.1", port, context=SSL_CONTEXT, timeout=20) if tls
            else smtplib.SMTP("127.0.0.1", port, timeout=20))
    try:
        conn.ehlo("client.example.net")
        try:
            conn.login(user, password)
        except (smtplib.SMTPException, OSError):
            return False
        if message is not None:
            conn.send_message(message)
        return True
    finally:
        try:
            conn.quit()
        except Exception:
            pass


def mail_steps(run, account, imap, pop3, smtp, tls):
    """The short sequence of mail logins for `account` on these ports:
    [(step, logged in?)]."""
    password = PASSWORDS[account]
    auth = run.auth[account]
    login = password + auth.code()
    run.secrets.append(login)
    app = run.app_password(account, "phone smtp", ["smtp"])
    wrong = password + auth.wrong()
    return [
        ("IMAP password+code (code-in-login)", imap_session(imap, account, login, tls)),
        ("IMAP the same password+code again", imap_session(imap, account, login, tls)),
        ("IMAP password+wrong code", imap_session(imap, account, wrong, tls)),
        ("SMTP application password", smtp_session(smtp, account, app, tls)),
        ("POP3 password alone (app-password-only)", pop3_session(pop3, account, password, tls)),
        ("IMAP the SMTP application password", imap_session(imap, account, app, tls)),
    ]


EXPECTED_STEPS = [True, False, False, True, False, False]


def mail_proxy(run):
    """IMAP, POP3, SMTP: henry straight to Dovecot (Lua passdb) and
    Postfix (SASL through Dovecot), carol through nginx's mail proxy; the
    same steps, the same outcomes. Then a mail submitted through nginx's
    SMTP is delivered."""
    for account in (HENRY, CAROL):
        run.enroll(account)
        run.tool.run("account", "policy", PLATFORM, account, "imap", "code-in-login")
    dovecot = run.parts.dovecot
    direct = mail_steps(run, HENRY, dovecot.imap, dovecot.pop3, SASL_PORT, tls=False)
    proxied = mail_steps(run, CAROL, IMAPS_PORT, POP3S_PORT, SMTPS_PORT, tls=True)
    for (step, straight), (_, through), expected in zip(direct, proxied, EXPECTED_STEPS):
        check(straight == expected, f"direct ({HENRY}): {step}: "
                                    f"{'allowed' if straight else 'refused'}")
        check(through == straight, f"nginx ({CAROL}): {step}: "
                                   f"{'allowed' if through else 'refused'}, as direct")

    # A mail submitted through nginx's SMTP (XCLIENT to Postfix) arrives.
    app = run.app_password(CAROL, "submission", ["smtp"])
    subject = f"through nginx {time.time()}"
    message = stack.email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = CAROL, ALICE, subject
    message.set_content("Sent through nginx's mail proxy.\n")
    check(smtp_session(SMTPS_PORT, CAROL, app, tls=True, message=message),
          "nginx SMTP: carol's application password, the mail submitted")
    arrived = stack.wait_for_message(dovecot.imap, ALICE, run.reader(ALICE),
                                     lambda m: m["Subject"] == subject)
    check(arrived is not None and arrived["From"] == CAROL,
          "mail: carol's mail, submitted through nginx, is in alice's mailbox")
    return app


def fail_closed(run, device, smtp_app):
    """mail2fa-server stopped: nginx refuses every login (HTTP 500 with
    nothing reaching the upstream; IMAP, POP3, SMTP refused); started
    again, everything works."""
    work = run.work
    path = activesync_path(ALICE, "ALICEPHONE1")
    password = PASSWORDS[ALICE]
    run.tool.run("device", "activate", PLATFORM, ALICE, device)
    check(iphone(work, path, ALICE, password).status == 200,
          "ActiveSync: alice's iPhone authorized again passes")
    seen = run.upstream.count()
    check(run.service.stop() == 0, "service: stopped (SIGTERM)")
    reply = iphone(work, path, ALICE, password)
    check(reply.status == 500 and run.upstream.count() == seen,
          f"service down: the authorized iPhone gets 500, nothing reaches the upstream ({reply})")
    reply = outlook(work, ERIN, PASSWORDS[ERIN])
    check(reply.status == 500 and run.upstream.count() == seen,
          f"service down: Outlook gets 500 ({reply})")
    auth = run.auth[CAROL]
    login = PASSWORDS[CAROL] + auth.code()
    run.secrets.append(login)
    check(not imap_session(IMAPS_PORT, CAROL, login, True),
          "service down: IMAP through nginx refused")
    check(not pop3_session(POP3S_PORT, CAROL, PASSWORDS[CAROL], True),
          "service down: POP3 through nginx refused")
    check(not smtp_session(SMTPS_PORT, CAROL, smtp_app, True),
          "service down: SMTP through nginx refused")
    run.service.start()
    reply = iphone(work, path, ALICE, password)
    check(reply.status == 200 and run.upstream.count() == seen + 1,
          f"service started again: the iPhone's Sync passes ({reply})")
    check(imap_session(IMAPS_PORT, CAROL, login, True),
          "service started again: IMAP through nginx with password+code")
    check(smtp_session(SMTPS_PORT, CAROL, smtp_app, True),
          "service started again: SMTP through nginx with the application password")


def the_secret(run, secret):
    """The gate refuses a request without the shared secret or with
    another one (403); nginx's own requests carry it."""
    for name, headers in (("no secret", {}),
                          ("a wrong secret", {"X-Mail2fa-Secret": "x" * len(secret)})):
        for endpoint in ("auth-request", "auth-http"):
            req = urllib.request.Request(f"{run.service.url}/nginx/{endpoint}",
                                         headers=dict(headers, **{
                                             "X-Original-URI": activesync_path(ALICE, "X"),
                                             "Auth-Method": "plain", "Auth-User": ALICE,
                                             "Auth-Pass": "x", "Auth-Protocol": "imap"}))
            try:
                with urllib.request.urlopen(req, timeout=10) as answer:
                    status = answer.status
            except urllib.error.HTTPError as e:
                status = e.code
            check(status == 403, f"gate: /nginx/{endpoint} with {name}: 403 ({status})")


def missing_needs():
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    missing += [f"{path} ({package})" for path, package in NEEDS.items()
                if not os.path.exists(path)]
    return missing


def secret_file(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text + "\n")
    return path


def build(args, work, browser=True, extra_http=None):
    """The stack, the upstream and nginx (not started): (stack, nginx,
    upstream, secrets) with the nginx secret and the master password
    among the secrets. `extra_http(work, upstream_port)` gives what to add
    to nginx's http { } block."""
    secret = stack.secrets.token_hex(32)
    master_password = stack.secrets.token_hex(24)
    service_dir = os.path.join(work, "service")
    os.makedirs(service_dir, exist_ok=True)
    masters = os.path.join(work, "master-users")
    with open(masters, "w") as f:
        # As the shipped mail2fa-mail.conf says: from nginx's address only.
        f.write(f"{MASTER_USER}:{{SHA512-CRYPT}}"
                f"{stack.dovecot_e2e.crypt_sha512(master_password)}"
                "::::::allow_nets=127.0.0.1/32\n")
    os.chmod(masters, 0o644)
    nginx_keys = {
        "secret_file": secret_file(os.path.join(service_dir, "nginx-secret"), secret),
        "realm": REALM,
        "wait_seconds": 1,
        "imap_backend": f"127.0.0.1:{stack.DOVECOT_PORTS[0]}",
        "pop3_backend": f"127.0.0.1:{stack.DOVECOT_PORTS[1]}",
        "smtp_backend": f"127.0.0.1:{stack.SMTP_PORT}",
        "master_user": MASTER_USER,
        "master_password_file": secret_file(os.path.join(service_dir, "nginx-master-password"),
                                            master_password),
    }
    parts = stack.Stack(args.server, args.lua_module, work, mailboxes=MAILBOXES,
                        browser=browser, master_users=masters, xclient_hosts="127.0.0.1",
                        sasl_port=SASL_PORT, trusted_proxies=["127.0.0.1"], nginx=nginx_keys)
    upstream = Upstream()
    nginx = Nginx(work, parts.service.port, upstream.port, secret,
                  extra_http(work, upstream.port) if extra_http else "")
    return parts, nginx, upstream, [secret, master_password, parts.service.token]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="target/debug/mail2fa-server")
    parser.add_argument("--tool", required=True, help="target/debug/mail2fa")
    parser.add_argument("--lua-module", required=True, help="target/integrations/mail2fa.so")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox directory")
    args = parser.parse_args()
    missing = missing_needs()
    if missing:
        print(f"SKIPPED: the nginx end-to-end tests need: {', '.join(missing)}")
        return 1 if os.environ.get("MAIL2FA_REQUIRE_E2E") == "1" else 0
    work = tempfile.mkdtemp(prefix="mail2fa-nginx-")
    os.chmod(work, 0o755)  # Postfix and Dovecot's users reach their sockets and mailboxes
    secrets_seen = [PASSWORDS[who] for who in MAILBOXES]
    parts = nginx = upstream = None
    run = None
    try:
        parts, nginx, upstream, secrets = build(args, work)
        secrets_seen += secrets
        parts.start()
        print(f"nginx: started in {nginx.start() * 1000:.0f} ms")
        tool = stack.dovecot_e2e.ConfigTool(os.path.abspath(args.tool), parts.service.conf)
        run = Run(parts, nginx, upstream, tool, work, secrets_seen)
        tool.run("platform", "enable", PLATFORM)

        flow("the secret", the_secret, run, secrets[0])
        device = flow("alice's iPhone", alice_iphone, run)
        flow("dave in the portal", dave_in_the_portal, run)
        flow("erin's Outlook", erin_outlook, run)
        smtp_app = flow("mail proxy", mail_proxy, run)
        if device and smtp_app:
            flow("fail closed", fail_closed, run, device, smtp_app)
        else:
            check(False, "fail closed: not run (an earlier flow failed)")

        codes = [c for auth in run.auth.values() for c in auth.given]
        leaked = no_secrets_in(parts.logs() + nginx.logs(), secrets_seen, codes)
        check(not leaked, f"logs (mail2fa-server, nginx, Dovecot, Postfix): no password, code, "
                          f"secret or application password ({leaked})")
    except Exception as e:
        check(False, f"the stack: {type(e).__name__}: {e}")
    finally:
        for part in (nginx, upstream, parts):
            if part is not None:
                try:
                    part.stop()
                except Exception as e:
                    print(f"      stopping {type(part).__name__}: {e}")
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
