#!/usr/bin/env python3
"""The portal's end-to-end tests in a real browser on a real stack:
mail2fa-server, Dovecot with mail2fa's Lua passdb, Postfix delivering to
Dovecot's mailboxes over LMTP, an HTTP sink as SMS gateway, and Debian's
chromium driven over WebDriver (chromium-driver). Codes are read as a
user reads them: the QR code decoded from a screenshot (zbarimg), e-mail
from the mailbox over IMAP.

Run by scripts/test-portal.sh, which builds what it needs:

    python3 tests/portal/e2e.py --server target/debug/mail2fa-server \
        --lua-module target/integrations/mail2fa.so [--tool target/debug/mail2fa] \
        [--screenshots DIR] [--keep]

Needs root and Debian's dovecot-imapd, dovecot-pop3d, dovecot-lmtpd,
dovecot-auth-lua, postfix, chromium, chromium-driver, zbar-tools.
MAIL2FA_E2E_INSTANCE (0-9) gives a run its own Dovecot and Postfix ports.
"""

import argparse
import os
import shutil
import struct
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import qr  # noqa: E402
import stack  # noqa: E402
import webdriver  # noqa: E402

PLATFORM = stack.PLATFORM
ALICE = "alice@example.com"
NEEDS = {
    "/usr/sbin/dovecot": "dovecot-core",
    "/usr/lib/dovecot/imap": "dovecot-imapd",
    "/usr/lib/dovecot/pop3": "dovecot-pop3d",
    "/usr/lib/dovecot/lmtp": "dovecot-lmtpd",
    "/usr/lib/dovecot/modules/auth/libauthdb_lua.so": "dovecot-auth-lua",
    "/usr/sbin/postfix": "postfix",
    webdriver.CHROMIUM: "chromium",
    webdriver.CHROMEDRIVER: "chromium-driver",
    qr.ZBARIMG: "zbar-tools",
}
SIZES = {"desktop": webdriver.DESKTOP, "phone": webdriver.PHONE}

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


def png_size(path):
    """A PNG file's (width, height), from its header."""
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24])


def enrollment(service, driver, work, shots, dovecot):
    """(a) The administrator turns 2FA on for the platform and enables
    alice; the QR code of the API's answer, shown in chromium, is decoded
    from screenshots at desktop and phone sizes; its code confirms the
    enrollment; alice then logs in over IMAP with password+code."""
    status, answer = service.api("PUT", f"/platforms/{PLATFORM}", {"enabled": True})
    check(status == 200 and answer == {"platform": PLATFORM, "enabled": True},
          f"API: 2FA turned on for {PLATFORM} ({status})")
    status, answer = service.api("PUT", f"/platforms/{PLATFORM}/policies/imap",
                                 {"policy": "code-in-login"})
    check(status == 200 and answer.get("policy") == "code-in-login",
          f"API: platform policy imap code-in-login ({status})")
    status, secret = service.api("POST", stack.account_path(ALICE) + "/enrollment")
    check(status == 201 and secret.get("uri", "").startswith("otpauth://totp/")
          and "<svg" in secret.get("svg", ""),
          f"API: alice enabled, the answer has the URI and an SVG QR code ({status})")
    if status != 201:
        return None
    svg = os.path.join(work, "enrollment.svg")
    with open(os.open(svg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(secret["svg"])
    decoded = {}
    for label, (width, height) in SIZES.items():
        with driver.session(width, height) as browser:
            check(browser.viewport_size() == (width, height),
                  f"browser: {label} viewport is {width}x{height}")
            browser.navigate("file://" + svg)
            element = browser.find("svg")
            rect = element.rect()
            check(rect["width"] >= 200 and rect["height"] >= 200,
                  f"browser: {label}: the QR code is drawn ({rect['width']:.0f}x"
                  f"{rect['height']:.0f} px)")
            check("<svg" in browser.source() and element.attribute("viewBox") is not None,
                  f"browser: {label}: the page source is the SVG document")
            shot = browser.screenshot(os.path.join(shots, f"enrollment-qr-{label}.png"))
            check(png_size(shot) == (width, height),
                  f"browser: {label}: screenshot {os.path.basename(shot)} is {width}x{height}")
            try:
                decoded[label] = qr.decode(shot)
            except RuntimeError as e:
                decoded[label] = None
                print(f"      {e}")
            check(decoded[label] == secret["uri"],
                  f"QR: decoded from the {label} screenshot, it is the API's URI")
    uri = decoded["phone"] or decoded["desktop"]
    if uri is None:
        return None
    now = time.time()
    status, answer = service.api("POST", stack.account_path(ALICE) + "/enrollment/confirm",
                                 {"code": stack.totp(uri, now)})
    check(status == 200 and answer.get("confirmed") is True,
          f"API: the code from the decoded QR code confirms the enrollment ({status})")
    status, account = service.api("GET", stack.account_path(ALICE))
    policies = {p["protocol"]: (p["policy"], p["set_by"]) for p in account.get("policies", [])}
    check(status == 200 and account.get("enrollment") == "confirmed"
          and policies.get("imap") == ("code-in-login", "platform"),
          f"API: alice confirmed, imap code-in-login set by the platform ({policies.get('imap')})")

    password = stack.PASSWORDS[ALICE]
    check(not stack.imap_login(dovecot.imap, ALICE, password)[0],
          "IMAP: alice's password alone is refused")
    login = password + stack.totp(uri, now + 30)  # the next step: the first was used
    check(stack.imap_login(dovecot.imap, ALICE, login)[0],
          "IMAP: alice logs in with password+code (Lua passdb, code from the QR screenshot)")
    check(not stack.imap_login(dovecot.imap, ALICE, login)[0],
          "IMAP: the same password+code again is refused (replay)")
    return uri


def operator_tool(binary, service):
    """The operator tool on the service's configuration file sees what the
    API did: one store, one configuration for every component."""
    tool = stack.dovecot_e2e.ConfigTool(binary, service.conf)
    shown = tool.run("account", "show", PLATFORM, ALICE)
    check(shown.get("enrollment") == "confirmed",
          "tool: on the service's configuration, alice's enrollment is confirmed")


def mail_delivery(service, postfix, dovecot):
    """(b) An e-mail sent through Postfix to alice lands in her Dovecot
    mailbox and is read back over IMAP with an application password created
    through the API (alice's IMAP policy set to application passwords)."""
    status, created = service.api("POST", stack.account_path(ALICE) + "/app-passwords",
                                  {"name": "e2e mail reader", "protocols": ["imap"]})
    check(status == 201 and created.get("password"),
          f"API: an application password for IMAP created ({status})")
    if status != 201:
        return None
    app = created["password"]
    # The platform's IMAP policy (code-in-login, set in the enrollment
    # flow) takes no application password; alice's own policy does.
    check(not stack.imap_login(dovecot.imap, ALICE, app)[0],
          "IMAP: under code-in-login the application password is refused")
    status, answer = service.api("PUT", stack.account_path(ALICE) + "/policies/imap",
                                 {"policy": "app-password-only"})
    check(status == 200, f"API: alice's own imap policy app-password-only ({status})")
    marker = uuid.uuid4().hex
    subject = f"portal e2e {marker}"
    postfix.send("sender@example.net", ALICE, subject, f"Hello alice, {marker}.\n")
    message = stack.wait_for_message(dovecot.imap, ALICE, app,
                                     lambda m: m["Subject"] == subject)
    check(message is not None, "mail: sent through Postfix, read from alice's mailbox over IMAP")
    if message is not None:
        check(f"Hello alice, {marker}." in stack.text_of(message)
              and message["To"] == ALICE,
              "mail: the message's text and recipient are the ones sent")
        check(any("(Postfix)" in r for r in message.get_all("Received", [])),
              "mail: it came through Postfix (its Received header)")
    status, listed = service.api("GET", stack.account_path(ALICE) + "/app-passwords")
    used = [p for p in listed.get("app_passwords", []) if p.get("id") == created.get("id")] \
        if status == 200 else []
    check(len(used) == 1 and used[0].get("last_used") is not None,
          "API: the application password shows its use by Dovecot")
    return app


def sms_sink(sink, driver, work, shots):
    """(c) The SMS sink records a POST (as the service sends one) and one
    the browser makes from a form (keys typed, button clicked)."""
    body = b'{"to": "+41790000000", "text": "code 123456"}'
    req = urllib.request.Request(sink.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": "Bearer gateway-token"})
    with urllib.request.urlopen(req, timeout=10) as answer:
        check(answer.status == 200, "sink: a POST is answered 200")
    got = sink.wait(1)
    check(len(got) == 1 and got[0]["path"] == "/sms" and got[0]["body"] == body
          and got[0]["headers"].get("authorization") == "Bearer gateway-token",
          "sink: the POST is read back (path, body, bearer token)")
    sink.status = 503
    try:
        urllib.request.urlopen(urllib.request.Request(sink.url, data=b"{}", method="POST"),
                               timeout=10)
        failed = None
    except urllib.error.HTTPError as e:
        failed = e.code
    sink.status = 200
    check(failed == 503 and len(sink.wait(2)) == 2,
          "sink: set to fail, it answers 503 and still records the POST")

    # The browser's keys and clicks reach a server: a form posting to the sink.
    form = os.path.join(work, "form.html")
    with open(form, "w") as f:
        f.write(f"""<!doctype html><title>sink form</title>
<form method="post" action="{sink.url}"><label for="text">Text</label>
<input id="text" name="text"><button type="submit">Send</button></form>""")
    with driver.session(*webdriver.DESKTOP) as browser:
        browser.navigate("file://" + form)
        check(browser.title() == "sink form" and browser.find("label").text() == "Text",
              "browser: a page's title and an element's text are read")
        field = browser.find("input[name=text]")
        field.send_keys("typed in chromium")
        check(field.property("value") == "typed in chromium",
              "browser: keys typed into an input")
        shot = browser.screenshot(os.path.join(shots, "sink-form-desktop.png"))
        try:
            qr.decode(shot)
            no_code = False
        except qr.NoQrCode:
            no_code = True
        check(no_code, "QR: a screenshot without a QR code is told apart (NoQrCode)")
        browser.find("button[type=submit]").click()
        got = sink.wait(3)
        check(len(got) == 3 and got[2]["body"] == b"text=typed+in+chromium",
              "browser: the button clicked posts the form, the sink records it")
        try:
            browser.find("#nothing-here")
            missing = None
        except webdriver.WebDriverError as e:
            missing = e.code
        check(missing == "no such element", "browser: a missing element is an error")


def flow(name, function, *args):
    """Runs one flow; one that raises is a failed check (the run goes on)."""
    try:
        return function(*args)
    except Exception as e:
        check(False, f"{name}: {type(e).__name__}: {e}")
        return None


def no_secrets_in(logs, secret_texts):
    """The logs that contain one of `secret_texts`."""
    leaked = []
    for path in logs:
        if os.path.exists(path):
            text = open(path, errors="replace").read()
            leaked += [path for s in secret_texts if s and s in text]
    return leaked


def missing_needs():
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    missing += [f"{path} ({package})" for path, package in NEEDS.items()
                if not os.path.exists(path)]
    return missing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="target/debug/mail2fa-server")
    parser.add_argument("--lua-module", required=True, help="target/integrations/mail2fa.so")
    parser.add_argument("--tool", help="target/debug/mail2fa: checks it sees the service's store")
    parser.add_argument("--screenshots", help="where screenshots go (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox directory")
    args = parser.parse_args()
    missing = missing_needs()
    if missing:
        print(f"SKIPPED: the portal end-to-end tests need: {', '.join(missing)}")
        return 1 if os.environ.get("MAIL2FA_REQUIRE_E2E") == "1" else 0
    shots = args.screenshots or tempfile.mkdtemp(prefix="mail2fa-portal-shots-")
    os.makedirs(shots, exist_ok=True)
    work = tempfile.mkdtemp(prefix="mail2fa-portal-")
    os.chmod(work, 0o755)  # Postfix and Dovecot's users reach their sockets and mailboxes
    secrets_seen = []
    parts = None
    try:
        parts = stack.Stack(args.server, args.lua_module, work,
                            mailboxes=[ALICE, f"admin@{PLATFORM}"], admins=[f"admin@{PLATFORM}"])
        secrets_seen.append(parts.service.token)
        parts.start()
        service, driver = parts.service, parts.driver

        handshake = parts.dovecot.auth_handshake()
        configured = f'dovecot_socket = "{parts.dovecot.auth_socket}"' in open(service.conf).read()
        check(configured and handshake[:1] == ["VERSION\t1\t2"]
              and "MECH\tPLAIN\tplaintext" in handshake,
              "dovecot: the authentication socket in the service's configuration answers "
              "(VERSION, MECH PLAIN)")
        uri = flow("enrollment", enrollment, service, driver, work, shots, parts.dovecot)
        if uri:
            secrets_seen.append(uri.split("secret=", 1)[1].split("&", 1)[0])
        if args.tool:
            flow("tool", operator_tool, os.path.abspath(args.tool), service)
        secrets_seen.append(flow("mail", mail_delivery, service, parts.postfix, parts.dovecot))
        flow("SMS sink", sms_sink, parts.sink, driver, work, shots)

        secrets_seen.append(stack.PASSWORDS[ALICE])
        leaked = no_secrets_in(parts.logs(), secrets_seen)
        check(not leaked, f"logs: no password, token, secret or application password ({leaked})")
        check(service.stop() == 0, "service: stops on SIGTERM with status 0")
    except Exception as e:
        check(False, f"the stack: {type(e).__name__}: {e}")
    finally:
        if parts is not None:
            parts.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if not args.screenshots and not os.listdir(shots):
        os.rmdir(shots)
    else:
        print(f"screenshots in {shots}")
    print(f"\n{passes} passed, {len(failures)} failed")
    for what in failures:
        print(f"  failed: {what}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
