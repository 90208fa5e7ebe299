#!/usr/bin/env python3
"""The portal's end-to-end tests in a real browser on a real stack:
mail2fa-server, Dovecot with mail2fa's Lua passdb, Postfix delivering to
Dovecot's mailboxes over LMTP, an HTTP sink as SMS gateway, and Debian's
chromium driven over WebDriver (chromium-driver). Codes are read as a
user reads them: the QR code decoded from a screenshot (zbarimg), e-mail
from the mailbox over IMAP.

The seed flows, each typed into labelled fields and clicked through in
chromium: the administrator turns 2FA on for the platform and a mailbox;
its owner enrolls from the QR code of a screenshot (then IMAP takes
password+code, and a fresh sign-in, done by keyboard alone, needs the
code); an application password made in the portal logs in over IMAP until
it is revoked there; recovery codes; turning 2FA off needs a right code;
codes by e-mail read from the mailbox, each once (and by SMS, read from
the gateway's sink); a device blocked by an
IMAP login authorized in the portal from the link of the notification the
Lua passdb mailed (read from the mailbox); a client whose IMAP ID is markup
shown as text. Every page visited is checked for a label on each visible input;
with --screenshots DIR each of the portal's pages is photographed there at
desktop (1280x900) and phone (390x844) sizes (docs/screenshots/portal/).
Then the panel API's own flows (enrollment, mail through Postfix, the SMS
sink).

Run by scripts/test-portal.sh, which builds what it needs:

    python3 tests/portal/e2e.py --server target/debug/mail2fa-server \
        --lua-module target/integrations/mail2fa.so [--tool target/debug/mail2fa] \
        [--screenshots DIR] [--keep]

Needs root and Debian's dovecot-imapd, dovecot-pop3d, dovecot-lmtpd,
dovecot-auth-lua, postfix, chromium, chromium-driver, zbar-tools.
MAIL2FA_E2E_INSTANCE (0-9) gives a run its own Dovecot and Postfix ports.
"""

import argparse
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import qr  # noqa: E402
import stack  # noqa: E402
import webdriver  # noqa: E402
import pages  # noqa: E402
from checks import Authenticator, check, flow, no_secrets_in, summary  # noqa: E402
from pages import Album, Portal  # noqa: E402
from webdriver import Keys  # noqa: E402

PLATFORM = stack.PLATFORM
ALICE = "alice@example.com"
ADMIN = f"admin@{PLATFORM}"
ERIN = "erin@example.com"  # e-mail codes
DAVE = "dave@example.com"  # devices
GRACE = "grace@example.com"  # SMS codes
# The account of the flows that drive the panel API (enrollment, mail
# delivery): the portal's flows have alice.
CAROL = "carol@example.com"
MAILBOXES = [ALICE, ADMIN, ERIN, DAVE, GRACE, CAROL]
PASSWORDS = stack.PASSWORDS
# The portal's pages, each photographed (desktop and phone) and checked
# for labels: the page names of Portal.seen.
PAGES = ("sign-in", "code", "overview-off", "overview-pending", "overview-on", "enroll",
         "devices", "app-passwords", "security", "admin", "message")
# An IMAP ID whose client name and version are markup.
HOSTILE_ID = ('("name" "<script>window.m2faRan=1</script>" '
              '"version" "<img src=x onerror=window.m2faRan=2>")')
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

def png_size(path):
    """A PNG file's (width, height), from its header."""
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24])


def enrollment(service, driver, work, shots, dovecot):
    """(a) The administrator turns 2FA on for the platform and enables
    carol; the QR code of the API's answer, shown in chromium, is decoded
    from screenshots at desktop and phone sizes; its code confirms the
    enrollment; carol then logs in over IMAP with password+code."""
    status, answer = service.api("PUT", f"/platforms/{PLATFORM}", {"enabled": True})
    check(status == 200 and answer == {"platform": PLATFORM, "enabled": True},
          f"API: 2FA turned on for {PLATFORM} ({status})")
    status, answer = service.api("PUT", f"/platforms/{PLATFORM}/policies/imap",
                                 {"policy": "code-in-login"})
    check(status == 200 and answer.get("policy") == "code-in-login",
          f"API: platform policy imap code-in-login ({status})")
    status, secret = service.api("POST", stack.account_path(CAROL) + "/enrollment")
    check(status == 201 and secret.get("uri", "").startswith("otpauth://totp/")
          and "<svg" in secret.get("svg", ""),
          f"API: carol enabled, the answer has the URI and an SVG QR code ({status})")
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
    status, answer = service.api("POST", stack.account_path(CAROL) + "/enrollment/confirm",
                                 {"code": stack.totp(uri, now)})
    check(status == 200 and answer.get("confirmed") is True,
          f"API: the code from the decoded QR code confirms the enrollment ({status})")
    status, account = service.api("GET", stack.account_path(CAROL))
    policies = {p["protocol"]: (p["policy"], p["set_by"]) for p in account.get("policies", [])}
    check(status == 200 and account.get("enrollment") == "confirmed"
          and policies.get("imap") == ("code-in-login", "platform"),
          f"API: carol confirmed, imap code-in-login set by the platform ({policies.get('imap')})")

    password = stack.PASSWORDS[CAROL]
    check(not stack.imap_login(dovecot.imap, CAROL, password)[0],
          "IMAP: carol's password alone is refused")
    login = password + stack.totp(uri, now + 30)  # the next step: the first was used
    check(stack.imap_login(dovecot.imap, CAROL, login)[0],
          "IMAP: carol logs in with password+code (Lua passdb, code from the QR screenshot)")
    check(not stack.imap_login(dovecot.imap, CAROL, login)[0],
          "IMAP: the same password+code again is refused (replay)")
    return uri


def operator_tool(binary, service):
    """The operator tool on the service's configuration file sees what the
    API did: one store, one configuration for every component."""
    tool = stack.dovecot_e2e.ConfigTool(binary, service.conf)
    shown = tool.run("account", "show", PLATFORM, CAROL)
    check(shown.get("enrollment") == "confirmed",
          "tool: on the service's configuration, carol's enrollment is confirmed")


def mail_delivery(service, postfix, dovecot):
    """(b) An e-mail sent through Postfix to carol lands in her Dovecot
    mailbox and is read back over IMAP with an application password created
    through the API (carol's IMAP policy set to application passwords)."""
    status, created = service.api("POST", stack.account_path(CAROL) + "/app-passwords",
                                  {"name": "e2e mail reader", "protocols": ["imap"]})
    check(status == 201 and created.get("password"),
          f"API: an application password for IMAP created ({status})")
    if status != 201:
        return None
    app = created["password"]
    # The platform's IMAP policy (code-in-login, set in the enrollment
    # flow) takes no application password; carol's own policy does.
    check(not stack.imap_login(dovecot.imap, CAROL, app)[0],
          "IMAP: under code-in-login the application password is refused")
    status, answer = service.api("PUT", stack.account_path(CAROL) + "/policies/imap",
                                 {"policy": "app-password-only"})
    check(status == 200, f"API: carol's own imap policy app-password-only ({status})")
    marker = uuid.uuid4().hex
    subject = f"portal e2e {marker}"
    postfix.send("sender@example.net", CAROL, subject, f"Hello carol, {marker}.\n")
    message = stack.wait_for_message(dovecot.imap, CAROL, app,
                                     lambda m: m["Subject"] == subject)
    check(message is not None, "mail: sent through Postfix, read from carol's mailbox over IMAP")
    if message is not None:
        check(f"Hello carol, {marker}." in stack.text_of(message)
              and message["To"] == CAROL,
              "mail: the message's text and recipient are the ones sent")
        check(any("(Postfix)" in r for r in message.get_all("Received", [])),
              "mail: it came through Postfix (its Received header)")
    status, listed = service.api("GET", stack.account_path(CAROL) + "/app-passwords")
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


# ---------------------------------------------------------------------------
# The portal's seed flows, in chromium


class Run:
    """What the portal's flows share: the stack's parts, the album of
    screenshots, the labels found missing per page, the sandbox directory
    (screenshots that are not kept go there), the secrets seen (for the
    check of the logs)."""

    def __init__(self, parts, album, work, secrets_seen):
        self.service, self.driver = parts.service, parts.driver
        self.dovecot, self.postfix = parts.dovecot, parts.postfix
        self.album, self.work, self.secrets = album, work, secrets_seen
        self.labels = {}
        self.widths = {}

    def session(self):
        """A new chromium session (a fresh profile) at desktop size, and
        its Portal."""
        browser = self.driver.session(*webdriver.DESKTOP)
        return browser, Portal(browser, self.service.url, self.album, self.labels, self.widths)

    def account(self, account):
        """The panel API's view of an account: (status, JSON)."""
        return self.service.api("GET", stack.account_path(account))

    def policy(self, account, protocol, policy):
        status, _ = self.service.api("PUT", stack.account_path(account) + f"/policies/{protocol}",
                                     {"policy": policy})
        check(status == 200, f"API: {account}'s {protocol} policy {policy} ({status})")


def sign_in(portal, address, page=None):
    """Opens the sign-in page (recorded as `page`, when given), types the
    address and the password, clicks Continue."""
    portal.open("/portal/sign-in")
    if page:
        portal.seen(page)
    portal.fill("Mail address", address)
    portal.fill("Password", PASSWORDS[address])
    portal.click("Continue")


def sign_in_with_code(portal, address, auth, there=None):
    """Signs in with the password and the next code of `auth`, on the
    sign-in page shown (`there`: the page it leads to), else on a new one;
    whether it worked (that page, or the overview, is shown)."""
    if there is None:
        sign_in(portal, address)
    else:
        portal.fill("Mail address", address)
        portal.fill("Password", PASSWORDS[address])
        portal.click("Continue")
    if not portal.path().startswith("/portal/sign-in/code"):
        return False
    portal.fill("Code", auth.code())
    portal.click("Sign in")
    return portal.path() == (there or "/portal/")


def scan(run, portal, who):
    """The otpauth URI of the QR code the page shows, decoded (zbarimg)
    from screenshots at desktop and phone sizes, the code scrolled into
    view as a user would; None when it cannot be read. The key printed
    beside it must be the URI's."""
    decoded = {}
    for label, size in SIZES.items():
        portal.browser.set_viewport_size(*size)
        portal.browser.execute("document.querySelector('figure.qr').scrollIntoView();")
        shot = portal.browser.screenshot(os.path.join(run.work, f"{who}-qr-{label}.png"))
        check(png_size(shot) == size, f"browser: {who}'s {label} screenshot is {size[0]}x{size[1]}")
        try:
            decoded[label] = qr.decode(shot)
        except RuntimeError as e:
            decoded[label] = None
            print(f"      {e}")
    portal.browser.set_viewport_size(*webdriver.DESKTOP)
    portal.browser.execute("window.scrollTo(0, 0);")
    uri = decoded["desktop"]
    check(uri is not None and uri.startswith("otpauth://totp/") and decoded["phone"] == uri,
          f"QR: {who}'s enrollment page, screenshots at desktop and phone sizes: one "
          "otpauth URI decoded from both")
    if uri is None:
        return None
    secret = uri.split("secret=", 1)[1].split("&", 1)[0]
    run.secrets.append(secret)
    key = portal.browser.find("code.key").text()
    check(key.replace(" ", "") == secret,
          f"enrollment page: the key as text is the QR code's ({who})")
    return uri


def admin_turns_on(run):
    """1. The administrator (no 2FA: the password alone) signs in, turns
    2FA on for the platform on the administration page, looks alice up and
    turns it on for her mailbox."""
    browser, portal = run.session()
    with browser:
        portal.open("/portal/")
        check(portal.path() == "/portal/sign-in?next=/portal/",
              f"portal: a visitor is sent to the sign-in page ({portal.path()})")
        portal.seen("sign-in")
        portal.fill("Mail address", ADMIN)
        portal.fill("Password", PASSWORDS[ADMIN])
        portal.click("Continue")
        check(portal.path() == "/portal/" and "has not turned it on" in portal.text(),
              "portal: the administrator (no 2FA) is in with the password alone; the "
              "overview says 2FA is not on for the domain")
        portal.click("Administration")
        check(portal.heading() == f"Administration of {PLATFORM}"
              and f"Two-factor authentication for {PLATFORM} is off" in portal.text(),
              "admin page: 2FA is off for the platform")
        portal.click("Turn on")
        check(portal.notice() == "Done."
              and f"Two-factor authentication for {PLATFORM} is on" in portal.text(),
              "admin page: 2FA turned on for the platform")
        portal.fill("Mailbox", ALICE)
        portal.click("Look up")
        state = portal.browser.find("dl.facts dd").text()
        check(state == "off", f"admin page: alice looked up, 2FA off ({state})")
        portal.click("Turn on for this mailbox")
        state = portal.browser.find("dl.facts dd").text()
        check(portal.notice() == "Done." and state == "being set up",
              f"admin page: 2FA turned on for alice's mailbox ({state})")
        portal.seen("admin")
    status, account = run.account(ALICE)
    check(status == 200 and account.get("platform_enabled") is True
          and account.get("enrollment") == "pending",
          f"API: the platform is on, alice's enrollment pending ({status}, "
          f"{account.get('enrollment')})")


def alice_enrolls(run):
    """2. alice signs in with her password (her 2FA is pending), opens the
    enrollment page, gets the code to scan; the QR code is decoded from a
    screenshot and its code typed: enrolled. IMAP then takes
    password+code; a portal sign-in in a fresh browser session, by
    keyboard only (Tab and Enter), needs the code."""
    browser, portal = run.session()
    with browser:
        sign_in(portal, ALICE)
        check(portal.path() == "/portal/" and "being set up" in portal.text(),
              "portal: alice (2FA pending) is in with her password alone")
        portal.seen("overview-pending")
        portal.click("set up your authenticator app")
        check(portal.path() == "/portal/enroll" and "shown only once" in portal.text()
              and not portal.browser.find_all("figure.qr"),
              "enrollment page: the administrator's key is never shown; a new one is offered")
        portal.click("Show a new code to scan")
        uri = scan(run, portal, "alice")
        if uri is None:
            return None
        portal.seen("enroll")
        auth = Authenticator(uri)
        portal.fill("Then type the code your app shows", auth.code())
        portal.click("Confirm")
        check(portal.path() == "/portal/?done=enrolled"
              and (portal.notice() or "").startswith("Two-factor authentication is on."),
              "enrollment page: the code from the screenshot's QR code enrolls alice")
        portal.seen("overview-on")
    status, account = run.account(ALICE)
    check(account.get("enrollment") == "confirmed",
          f"API: alice's enrollment is confirmed ({status})")

    run.policy(ALICE, "imap", "code-in-login")
    password = PASSWORDS[ALICE]
    check(not stack.imap_login(run.dovecot.imap, ALICE, password)[0],
          "IMAP: alice's password alone is refused")
    check(stack.imap_login(run.dovecot.imap, ALICE, password + auth.code())[0],
          "IMAP: alice logs in with password+code")

    browser, portal = run.session()
    with browser:
        portal.open("/portal/sign-in")
        if browser.active().attribute("id") != "address":
            browser.keys(Keys.TAB)
        check(browser.active().attribute("id") == "address",
              "keyboard: the sign-in page's focus is on the address")
        browser.keys(ALICE + Keys.TAB + password + Keys.TAB)
        focused = browser.active()
        check(focused.tag() == "button" and focused.text() == "Continue",
              "keyboard: Tab goes from the address to the password, then to Continue")
        portal.mark()
        browser.keys(Keys.ENTER)
        portal.wait_for_new_page()
        check(portal.path().startswith("/portal/sign-in/code"),
              f"portal: in a fresh browser session alice's password is not enough "
              f"({portal.path()})")
        portal.seen("code")
        check(browser.active().attribute("id") == "code",
              "keyboard: the code page's focus is on the code")
        portal.mark()
        browser.keys(auth.code() + Keys.ENTER)
        portal.wait_for_new_page()
        state = portal.browser.find("dl.facts dd").text() if portal.path() == "/portal/" else None
        check(state == "On", f"keyboard: the code typed and Enter: alice is in, 2FA on ({state})")
    return auth


def alice_app_password(run, auth):
    """4. An application password created in the portal (after a code)
    logs in over IMAP and is refused after alice revokes it there."""
    name = "Thunderbird on the laptop"
    browser, portal = run.session()
    with browser:
        check(sign_in_with_code(portal, ALICE, auth), "portal: alice signs in with a code")
        portal.click("App passwords")
        portal.fill("Name (which app or device)", name)
        portal.field("imap").click()
        portal.fill("Code from your authenticator", auth.code())
        portal.click("Create")
        shown = portal.browser.find_all("#new-app-password")
        created = shown[0].text() if shown else ""
        run.secrets.append(created)
        check(len(created) >= 16 and name in portal.browser.find(".shown-once").text(),
              "app passwords page: created after a code, shown once")
        rows = [r.text() for r in portal.browser.find_all("tbody tr")]
        check(len(rows) == 1 and name in rows[0] and "imap" in rows[0] and "never" in rows[0],
              f"app passwords page: listed with its scope, never used ({rows})")
        portal.seen("app-passwords")
        run.policy(ALICE, "imap", "app-password-only")
        check(stack.imap_login(run.dovecot.imap, ALICE, created)[0],
              "IMAP: the application password from the portal logs alice in")
        portal.open("/portal/app-passwords")
        rows = [r.text() for r in portal.browser.find_all("tbody tr")]
        check(len(rows) == 1 and "never" not in rows[0],
              "app passwords page: its last use is shown")
        portal.click(f"Revoke {name}")
        check((portal.notice() or "").startswith("The app password was revoked")
              and not portal.browser.find_all("tbody tr"),
              "app passwords page: revoked, gone from the list")
    check(not stack.imap_login(run.dovecot.imap, ALICE, created)[0],
          "IMAP: the revoked application password is refused")


def alice_security(run, auth):
    """alice is refused the administration page (a message page); she
    makes new recovery codes (after a code) on the security page."""
    browser, portal = run.session()
    with browser:
        check(sign_in_with_code(portal, ALICE, auth), "portal: alice signs in with a code")
        portal.open("/portal/admin")
        check(portal.heading() == "Administrators only",
              "portal: the administration page is for administrators only")
        portal.seen("message")
        portal.click("Security")
        form = 'form[action="/portal/security/recovery-codes"]'
        portal.fill("Code (from your authenticator", auth.code(), within=form)
        portal.click("Make new recovery codes")
        codes = [c.text() for c in portal.browser.find_all("#recovery-codes code")]
        run.secrets.extend(codes)
        check(len(codes) == 10 and len(set(codes)) == 10,
              f"security page: 10 new recovery codes shown once ({len(codes)})")
        portal.seen("security")
    status, account = run.account(ALICE)
    check(account.get("recovery_codes") == 10, f"API: alice has 10 recovery codes ({status})")


def alice_disables(run, auth):
    """6. Turning 2FA off needs a valid code: a wrong one leaves it on (the
    page says so), a right one turns it off."""
    browser, portal = run.session()
    with browser:
        check(sign_in_with_code(portal, ALICE, auth), "portal: alice signs in with a code")
        portal.click("Security")
        form = 'form[action="/portal/security/disable"]'
        portal.fill("Code (from your authenticator", auth.wrong(), within=form)
        portal.click("Turn off", within=form)
        problem = portal.problem()
        _, account = run.account(ALICE)
        check(problem == "That code is not right. Try again."
              and account.get("enrollment") == "confirmed",
              f"security page: a wrong code leaves 2FA on, the page says so ({problem})")
        portal.fill("Code (from your authenticator", auth.code(), within=form)
        portal.click("Turn off", within=form)
        check(portal.path() == "/portal/?done=disabled"
              and portal.notice() == "Two-factor authentication is off."
              and "is off for your mailbox" in portal.text(),
              "security page: the right code turns 2FA off")
    status, _ = run.account(ALICE)
    check(status == 404, f"API: alice has no 2FA any more ({status})")


def choose_mode(portal, auth, mode, contact_label, contact, what):
    """On the security page: codes by `mode` to `contact` — changed only
    with a code from the authenticator."""
    portal.click("Security")
    portal.field(mode).click()
    portal.fill(contact_label, contact)
    portal.fill("Code (from your authenticator", auth.code(),
                within='form[action="/portal/security/mode"]')
    portal.click("Save")
    check(portal.notice() == "Saved." and portal.field(mode).property("checked") is True,
          f"security page: {what}, saved")


def erin_email_codes(run):
    """5. erin turns 2FA on herself, then switches to codes by e-mail to
    her own mailbox; a fresh sign-in sends the code, read from her mailbox
    over IMAP and typed: she is in; the same code again is refused."""
    browser, portal = run.session()
    with browser:
        sign_in(portal, ERIN)
        check(portal.path() == "/portal/" and "is off for your mailbox" in portal.text(),
              "portal: erin (no 2FA, the platform on) is in with her password")
        portal.seen("overview-off")
        portal.click("Turn on two-factor authentication")
        uri = scan(run, portal, "erin")
        if uri is None:
            return
        auth = Authenticator(uri)
        portal.fill("Then type the code your app shows", auth.code())
        portal.click("Confirm")
        check(portal.path() == "/portal/?done=enrolled", "portal: erin enrolled herself")
        choose_mode(portal, auth, "Code by e-mail", "E-mail address for codes", ERIN,
                    "codes by e-mail to erin's own mailbox")
    _, account = run.account(ERIN)
    check(account.get("mode") == "email" and account.get("email") == ERIN,
          f"API: erin's mode is e-mail, to {account.get('email')}")
    # erin reads her mail as her mail app does: with an application password.
    status, created = run.service.api("POST", stack.account_path(ERIN) + "/app-passwords",
                                      {"name": "mail reader", "protocols": ["imap"]})
    reader = created.get("password", "") if status == 201 else ""
    run.secrets.append(reader)
    subject = f"Your login code for {ERIN}"
    browser, portal = run.session()
    with browser:
        sign_in(portal, ERIN)
        check(portal.path().startswith("/portal/sign-in/code")
              and portal.notice() == "We sent you a code."
              and "code we sent you by e-mail" in portal.text(),
              f"portal: erin's password, then the page says a code was e-mailed ({portal.path()})")
        message = stack.wait_for_message(run.dovecot.imap, ERIN, reader,
                                         lambda m: m["Subject"] == subject)
        found = re.search(r": (\d{6,10})\b", stack.text_of(message)) if message else None
        check(found is not None and message["From"] == "mail2fa@example.com",
              "mail: the code came to erin's mailbox through Postfix, read over IMAP")
        if found is None:
            return
        code = found.group(1)  # six digits: not searched for in the logs (any number matches)
        portal.fill("Code", code)
        portal.click("Sign in")
        check(portal.path() == "/portal/" and "code by e-mail" in portal.text(),
              "portal: the e-mailed code signs erin in")
    browser, portal = run.session()
    with browser:
        sign_in(portal, ERIN)
        portal.fill("Code", code)
        portal.click("Sign in")
        problem = portal.problem() or ""
        check(portal.path().startswith("/portal/sign-in/code") and problem.startswith("That code"),
              f"portal: the same e-mailed code again is refused ({problem})")


def grace_sms_codes(run, sink):
    """grace (enrolled by the panel API) chooses codes by SMS with her
    mobile number on the security page; a fresh sign-in sends the code to
    the SMS gateway (the sink), whose request gives it; typed, she is in."""
    status, secret = run.service.api("POST", stack.account_path(GRACE) + "/enrollment")
    check(status == 201, f"API: grace's enrollment started ({status})")
    if status != 201:
        return
    auth = Authenticator(secret["uri"])
    run.secrets.append(secret["uri"].split("secret=", 1)[1].split("&", 1)[0])
    status, _ = run.service.api("POST", stack.account_path(GRACE) + "/enrollment/confirm",
                                {"code": auth.code()})
    check(status == 200, f"API: grace enrolled ({status})")
    phone = "+41790000017"
    browser, portal = run.session()
    with browser:
        check(sign_in_with_code(portal, GRACE, auth), "portal: grace signs in with a code")
        choose_mode(portal, auth, "Code by SMS", "Mobile number for codes", phone,
                    "codes by SMS to grace's mobile number")
    before = len(sink.requests)
    browser, portal = run.session()
    with browser:
        sign_in(portal, GRACE)
        check(portal.path().startswith("/portal/sign-in/code")
              and portal.notice() == "We sent you a code."
              and "code we sent you by SMS" in portal.text(),
              f"portal: grace's password, then the page says a code went by SMS ({portal.path()})")
        sent = sink.wait(before + 1)[before:]
        body = json.loads(sent[0]["body"]) if sent else {}
        found = re.search(r": (\d{6,10})\b", body.get("text", ""))
        check(body.get("to") == phone and found is not None,
              "SMS: the gateway (the sink) was asked to send the code to grace's number")
        if found is None:
            return
        portal.fill("Code", found.group(1))
        portal.click("Sign in")
        check(portal.path() == "/portal/" and "code by SMS" in portal.text(),
              "portal: the code sent by SMS signs grace in")


def dave_devices(run):
    """3 and 7. dave's IMAP policy is device authorization: a Thunderbird
    login with the right password is refused, its device recorded blocked,
    and the Lua passdb mails dave a notification through Postfix. Its link,
    read from dave's mailbox over IMAP, opened in a fresh browser, asks
    him to sign in and then shows the device; meanwhile a client whose IMAP
    ID is markup is recorded too and shown as text (no element made of it,
    nothing run); "This was me: authorize" lets Thunderbird in."""
    status, secret = run.service.api("POST", stack.account_path(DAVE) + "/enrollment")
    check(status == 201, f"API: dave's enrollment started ({status})")
    if status != 201:
        return
    auth = Authenticator(secret["uri"])
    run.secrets.append(secret["uri"].split("secret=", 1)[1].split("&", 1)[0])
    status, answer = run.service.api("POST", stack.account_path(DAVE) + "/enrollment/confirm",
                                     {"code": auth.code()})
    check(status == 200 and answer.get("confirmed") is True, f"API: dave enrolled ({status})")
    run.policy(DAVE, "imap", "device-authorization")
    # dave reads his mail as his mail app does: with an application password.
    status, created = run.service.api("POST", stack.account_path(DAVE) + "/app-passwords",
                                      {"name": "mail reader", "protocols": ["imap"]})
    reader = created.get("password", "") if status == 201 else ""
    run.secrets.append(reader)
    password = PASSWORDS[DAVE]
    imap = run.dovecot.imap
    check(not stack.imap_login(imap, DAVE, password, stack.dovecot_e2e.THUNDERBIRD)[0],
          "IMAP: dave's Thunderbird, right password, not authorized: refused")
    subject = f"New device blocked for {DAVE}"
    message = stack.wait_for_message(imap, DAVE, reader, lambda m: m["Subject"] == subject)
    text = stack.text_of(message) if message else ""
    link = re.search(r"(http://\S+/portal/devices/[0-9a-f]+)", text)
    check(message is not None and "A new Thunderbird (imap)" in text and link is not None
          and link.group(1).startswith(run.service.url + "/portal/devices/"),
          "mail: the notification (Lua passdb, notify_command, Postfix) is in dave's "
          "mailbox, read over IMAP, with the portal's link to the device")
    if link is None:
        return
    device = link.group(1).rsplit("/", 1)[1]
    browser, portal = run.session()
    with browser:
        portal.browser.navigate(link.group(1))
        check(portal.path() == f"/portal/sign-in?next=/portal/devices/{device}",
              f"portal: the link asks dave to sign in first ({portal.path()})")
        check(sign_in_with_code(portal, DAVE, auth, there=f"/portal/devices/{device}"),
              "portal: dave signs in with a code and is on the link's device")
        cards = portal.browser.execute(
            "return [...document.querySelectorAll('ul.devices > li')]"
            ".map(li => [li.id, li.querySelector('h2').textContent, li.className]);")
        check(len(cards) == 1 and cards[0][0] == f"device-{device}"
              and cards[0][1].startswith("Thunderbird") and "blocked" in cards[0][1]
              and "highlight" in cards[0][2],
              f"devices page: the link's device, Thunderbird, blocked, highlighted ({cards})")
        portal.seen("devices")

        check(not stack.imap_login(imap, DAVE, password, HOSTILE_ID)[0],
              "IMAP: a client whose IMAP ID is markup, not authorized: refused")
        portal.open("/portal/devices")
        texts = [c.text() for c in portal.browser.find_all("ul.devices > li")]
        check(any("<script>window.m2faRan=1</script>" in t
                  and "<img src=x onerror=window.m2faRan=2>" in t for t in texts),
              "devices page: the markup of the IMAP ID is shown as text")
        made = portal.browser.execute(
            "return [document.querySelectorAll('script, img, [onerror]').length,"
            " typeof window.m2faRan];")
        check(made == [0, "undefined"],
              f"devices page: no element made of it, nothing ran ({made})")
        portal.seen("devices-hostile", photo=False)
        portal.click("This was me: authorize", within=f"#device-{device}")
        check((portal.notice() or "").startswith("The device is authorized"),
              "devices page: Thunderbird authorized")
    check(stack.imap_login(imap, DAVE, password, stack.dovecot_e2e.THUNDERBIRD)[0],
          "IMAP: the authorized Thunderbird logs in with the password")


def accessibility(run):
    """Every page visited has a label for each visible input (the check
    itself first shown to find an input without one); the pages photographed
    fit a phone's screen without sideways scrolling."""
    sample = os.path.join(run.work, "labels.html")
    with open(sample, "w") as f:
        f.write("""<!doctype html><title>labels</title><form>
<input type="hidden" name="csrf"><input name="bare">
<label for="named">Named</label><input id="named" name="named">
<label>Inside <input name="inside"></label>
<input name="unseen" style="display: none"></form>""")
    with run.driver.session(*webdriver.DESKTOP) as browser:
        browser.navigate("file://" + sample)
        found = browser.execute(pages.UNLABELLED)
    check(found == ["bare"], f"labels: the check finds the one visible input without a label "
                             f"({found})")
    for name in PAGES:
        check(name in run.labels, f"pages: {name} was visited")
    for name, missing in sorted(run.labels.items()):
        check(not missing, f"labels: every visible input of {name} has a label ({missing})")
    for name, wider in sorted(run.widths.items()):
        check(wider == 0, f"phone: {name} fits the width of a phone's screen "
                          f"({wider} px too wide)")


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
    parser.add_argument("--screenshots", help="keep screenshots of the portal's pages in this "
                        "directory (docs/screenshots/portal)")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox directory")
    args = parser.parse_args()
    missing = missing_needs()
    if missing:
        print(f"SKIPPED: the portal end-to-end tests need: {', '.join(missing)}")
        return 1 if os.environ.get("MAIL2FA_REQUIRE_E2E") == "1" else 0
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    album = Album(args.screenshots)
    work = tempfile.mkdtemp(prefix="mail2fa-portal-")
    os.chmod(work, 0o755)  # Postfix and Dovecot's users reach their sockets and mailboxes
    # The harness's own screenshots (not the portal's pages) stay in the sandbox.
    shots = os.path.join(work, "screenshots")
    os.makedirs(shots)
    secrets_seen = [PASSWORDS[who] for who in MAILBOXES]
    parts = None
    try:
        parts = stack.Stack(args.server, args.lua_module, work, mailboxes=MAILBOXES,
                            admins=[ADMIN])
        secrets_seen.append(parts.service.token)
        parts.start()
        service, driver = parts.service, parts.driver

        handshake = parts.dovecot.auth_handshake()
        configured = f'dovecot_socket = "{parts.dovecot.auth_socket}"' in open(service.conf).read()
        check(configured and handshake[:1] == ["VERSION\t1\t2"]
              and "MECH\tPLAIN\tplaintext" in handshake,
              "dovecot: the authentication socket in the service's configuration answers "
              "(VERSION, MECH PLAIN)")

        # The portal's seed flows, in chromium.
        run = Run(parts, album, work, secrets_seen)
        flow("administrator", admin_turns_on, run)
        auth = flow("enrollment in the portal", alice_enrolls, run)
        if auth:
            flow("application password", alice_app_password, run, auth)
            flow("recovery codes", alice_security, run, auth)
            flow("disabling", alice_disables, run, auth)
        flow("e-mail codes", erin_email_codes, run)
        flow("devices", dave_devices, run)
        accessibility(run)

        # The harness's own flows, on the panel API.
        uri = flow("enrollment", enrollment, service, driver, work, shots, parts.dovecot)
        if uri:
            secrets_seen.append(uri.split("secret=", 1)[1].split("&", 1)[0])
        if args.tool:
            flow("tool", operator_tool, os.path.abspath(args.tool), service)
        secrets_seen.append(flow("mail", mail_delivery, service, parts.postfix, parts.dovecot))
        flow("SMS sink", sms_sink, parts.sink, driver, work, shots)
        # After the sink's own checks, which count its requests from none.
        flow("SMS codes", grace_sms_codes, run, parts.sink)

        leaked = no_secrets_in(parts.logs(), secrets_seen)
        check(not leaked, f"logs: no password, token, secret, code or application password "
                          f"({leaked})")
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
    if album.taken:
        print(f"{len(album.taken)} screenshots of the portal in {args.screenshots}")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
