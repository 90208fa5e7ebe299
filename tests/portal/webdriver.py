"""A minimal W3C WebDriver client (stdlib only) for Debian's chromium and
chromium-driver: starts /usr/bin/chromedriver on a free loopback port and
drives one headless chromium session with a fresh profile.

    with Driver() as driver, driver.session(*PHONE) as browser:
        browser.navigate("http://127.0.0.1:8080/")
        browser.find("input[name=code]").send_keys("123456")
        browser.find("button[type=submit]").click()
        browser.screenshot("/tmp/page.png")

Only what the portal's tests use: navigation, elements by CSS selector
(click, keys, text, attributes), the keyboard (Browser.keys, Keys.TAB),
scripts, the page source, the window size, screenshots. Errors of the
driver raise WebDriverError with its code ("no such element", ...) and
message.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
# The key of an element reference in the W3C protocol.
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
DESKTOP = (1280, 900)
PHONE = (390, 844)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",  # as a phone's: the page gets the whole width
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Keys:
    """Special keys for Browser.keys (the W3C protocol's code points)."""

    TAB = "\ue004"
    ENTER = "\ue007"


class WebDriverError(RuntimeError):
    """An error answered by the driver: `code` is the W3C error code
    ("no such element", "invalid session id", ...)."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def free_port():
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """chromedriver, started on a free loopback port; `stop()` (or leaving
    the `with` block) ends it and every session left open."""

    def __init__(self, binary=CHROMEDRIVER, chromium=CHROMIUM, log=None, timeout=20):
        self.binary, self.chromium = binary, chromium
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or os.devnull
        self._log_file = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [binary, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.sessions = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.request("GET", "/status").get("ready"):
                    break
            except (OSError, WebDriverError):
                pass
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"chromedriver exited with {self.proc.returncode}: see {self.log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"chromedriver not ready on port {self.port}: see {self.log}")
            time.sleep(0.1)

    def request(self, method, path, body=None, timeout=60):
        """One WebDriver command: the answer's `value`, or WebDriverError."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as answer:
                payload = json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                value = json.loads(e.read()).get("value", {})
            except ValueError:
                value = {}
            message = (value.get("message") or "").split("\n", 1)[0]
            raise WebDriverError(value.get("error", f"HTTP {e.code}"), message) from None
        return payload.get("value")

    def session(self, width=DESKTOP[0], height=DESKTOP[1]):
        """A new headless chromium session with its own fresh profile
        directory (removed when the session is closed), its viewport
        `width` x `height` (see Browser.set_viewport_size)."""
        profile = tempfile.mkdtemp(prefix="mail2fa-chromium-")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": CHROMIUM_FLAGS + [f"--user-data-dir={profile}",
                                          f"--window-size={width},{height}"],
            },
        }}}
        try:
            value = self.request("POST", "/session", caps, timeout=120)
        except Exception:
            shutil.rmtree(profile, ignore_errors=True)
            raise
        browser = Browser(self, value["sessionId"], profile)
        self.sessions.append(browser)
        browser.set_viewport_size(width, height)
        return browser

    def stop(self):
        """Closes the sessions left open and ends chromedriver."""
        for browser in list(self.sessions):
            try:
                browser.close()
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Browser:
    """One WebDriver session: a chromium window."""

    def __init__(self, driver, session_id, profile):
        self.driver, self.id, self.profile = driver, session_id, profile

    def command(self, method, path, body=None):
        return self.driver.request(method, f"/session/{self.id}{path}", body)

    def set_window_size(self, width, height):
        """Resizes the window (desktop: 1280x900, phone: 390x844)."""
        self.command("POST", "/window/rect", {"width": width, "height": height})

    def set_viewport_size(self, width, height):
        """Resizes the window so that the page sees `width` x `height` CSS
        pixels (what a phone's screen or a desktop window shows): the
        window is the viewport plus the browser's own frame."""
        self.set_window_size(width, height)
        seen_width, seen_height = self.viewport_size()
        if (seen_width, seen_height) != (width, height):
            self.set_window_size(2 * width - seen_width, 2 * height - seen_height)

    def window_size(self):
        """The window's (width, height)."""
        rect = self.command("GET", "/window/rect")
        return rect["width"], rect["height"]

    def viewport_size(self):
        """The page's visible (width, height) in CSS pixels."""
        return tuple(self.execute("return [window.innerWidth, window.innerHeight];"))

    def execute(self, script, *args):
        """Runs `script` (a function body) in the page; its return value."""
        return self.command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def navigate(self, url):
        """Loads `url` and waits for the page to load."""
        self.command("POST", "/url", {"url": url})

    def current_url(self):
        return self.command("GET", "/url")

    def title(self):
        return self.command("GET", "/title")

    def source(self):
        """The page's source, as the browser serializes its document."""
        return self.command("GET", "/source")

    def find(self, css):
        """The first element matching the CSS selector; WebDriverError
        ("no such element") when none does."""
        value = self.command("POST", "/element", {"using": "css selector", "value": css})
        return Element(self, value[ELEMENT])

    def find_all(self, css):
        """Every element matching the CSS selector, in document order."""
        values = self.command("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(self, v[ELEMENT]) for v in values]

    def element(self, value):
        """The Element of an element reference a script returned (None for
        a script's null)."""
        return None if value is None else Element(self, value[ELEMENT])

    def active(self):
        """The element that has the keyboard's focus."""
        return Element(self, self.command("GET", "/element/active")[ELEMENT])

    def keys(self, text):
        """Types `text` on the keyboard, into whatever has the focus, as a
        person does (Keys.TAB, Keys.ENTER move and submit)."""
        actions = []
        for ch in text:
            actions += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.command("POST", "/actions", {"actions": [
            {"type": "key", "id": "keyboard", "actions": actions}]})
        self.command("DELETE", "/actions")

    def screenshot(self, path):
        """Saves the visible page as a PNG file at `path`; returns `path`."""
        png = base64.b64decode(self.command("GET", "/screenshot"))
        if not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise RuntimeError("the driver's screenshot is not a PNG image")
        with open(path, "wb") as f:
            f.write(png)
        return path

    def close(self):
        """Deletes the session (the browser quits) and its profile."""
        if self in self.driver.sessions:
            self.driver.sessions.remove(self)
            try:
                self.driver.request("DELETE", f"/session/{self.id}")
            finally:
                shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Element:
    """An element of the page."""

    def __init__(self, browser, element_id):
        self.browser, self.id = browser, element_id

    def command(self, method, path, body=None):
        return self.browser.command(method, f"/element/{self.id}{path}", body)

    def click(self):
        self.command("POST", "/click", {})

    def send_keys(self, text):
        """Types `text` into the element (focused first)."""
        self.command("POST", "/value", {"text": text})

    def clear(self):
        self.command("POST", "/clear", {})

    def text(self):
        """The element's rendered text."""
        return self.command("GET", "/text")

    def attribute(self, name):
        """The attribute `name` (None when absent)."""
        return self.command("GET", f"/attribute/{name}")

    def property(self, name):
        """The DOM property `name` (an input's current `value`, say)."""
        return self.command("GET", f"/property/{name}")

    def tag(self):
        return self.command("GET", "/name")

    def rect(self):
        """The element's {x, y, width, height} in CSS pixels."""
        return self.command("GET", "/rect")
