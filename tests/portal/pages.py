"""The portal as its users see it in chromium: fields found by their
labels, buttons and links by their text, the page's heading, notice and
problem; every page loaded checked for a label on each visible input;
the pages named by Portal.seen also measured at phone width and
photographed at desktop and phone sizes when the run keeps screenshots.

    labels, widths = {}, {}
    with driver.session(*webdriver.DESKTOP) as browser:
        portal = Portal(browser, service.url, Album(None), labels, widths)
        portal.open("/portal/")
        portal.fill("Mail address", "alice@example.com")
        portal.click("Continue")  # waits for the next page
"""

import os
import time

import webdriver

# Every visible input, select and textarea without a <label for=its id>
# and not inside a <label>: how each is named (name, id or its tag).
UNLABELLED = """
const missing = [];
for (const el of document.querySelectorAll("input, select, textarea")) {
  if (el.type === "hidden" || el.getClientRects().length === 0) continue;
  const byFor = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
  if (!byFor && !el.closest("label")) missing.push(el.name || el.id || el.outerHTML.slice(0, 80));
}
return missing;
"""

# The control of the label whose text (spaces collapsed) starts with arguments[0] (inside
# the element matching arguments[1], when given): label.control follows
# both <label for=…> and a control inside the label.
FIELD = """
const scope = arguments[1] ? document.querySelector(arguments[1]) : document;
if (!scope) return null;
for (const label of scope.querySelectorAll("label")) {
  const text = label.textContent.replace(/\s+/g, " ").trim();
  if (text.startsWith(arguments[0]) && label.control) return label.control;
}
return null;
"""

# The button or link whose text (spaces collapsed) or aria-label is arguments[0] (inside
# arguments[1], when given).
CONTROL = """
const scope = arguments[1] ? document.querySelector(arguments[1]) : document;
if (!scope) return null;
for (const el of scope.querySelectorAll("button, a")) {
  const text = el.textContent.replace(/\s+/g, " ").trim();
  if (text === arguments[0] || el.getAttribute("aria-label") === arguments[0]) {
    return el;
  }
}
return null;
"""


class Album:
    """Where the portal's pages are photographed: `directory` (None: no
    screenshots kept), each page at desktop and phone sizes, as
    NAME-desktop.png and NAME-phone.png."""

    def __init__(self, directory):
        self.directory = directory
        self.taken = []

    def take(self, browser, name):
        """Screenshots of the page `browser` shows at both sizes (the page
        is resized, not loaded again: a key or password shown once is in
        both); the browser is left at desktop size."""
        if self.directory is None:
            return []
        paths = []
        for label, size in (("desktop", webdriver.DESKTOP), ("phone", webdriver.PHONE)):
            browser.set_viewport_size(*size)
            path = os.path.join(self.directory, f"{name}-{label}.png")
            paths.append(browser.screenshot(path))
        browser.set_viewport_size(*webdriver.DESKTOP)
        self.taken += paths
        return paths


class Portal:
    """One browser session on the portal at `base` (the service's URL)."""

    def __init__(self, browser, base, album, labels, widths):
        self.browser = browser
        self.base = base
        self.album = album
        # page name (or path) -> the unlabelled inputs found on it: every
        # page loaded is looked at (the run checks there were none).
        self.labels = labels
        # page name -> CSS pixels it overflows a phone's screen sideways.
        self.widths = widths

    def open(self, path):
        """Loads `path` of the portal (following redirects)."""
        self.browser.navigate(self.base + path)
        self.check_labels()

    def check_labels(self, name=None):
        """Records the unlabelled inputs of the page shown, under `name`
        (else its path without the query)."""
        name = name or self.path().split("?", 1)[0]
        self.labels.setdefault(name, [])
        self.labels[name] += self.browser.execute(UNLABELLED)

    def path(self):
        """The path (and query) of the page shown."""
        url = self.browser.current_url()
        return url[len(self.base):] if url.startswith(self.base) else url

    def field(self, label, within=None):
        """The input of the label starting with `label` (in the element
        matching the CSS selector `within`)."""
        found = self.browser.element(self.browser.execute(FIELD, label, within))
        if found is None:
            raise LookupError(f"no field labelled {label!r} on {self.path()}")
        return found

    def fill(self, label, text, within=None):
        """Types `text` into the field labelled `label` (emptied first)."""
        field = self.field(label, within)
        field.clear()
        field.send_keys(text)

    def button(self, text, within=None):
        """The button or link whose text (or aria-label) is `text`."""
        found = self.browser.element(self.browser.execute(CONTROL, text, within))
        if found is None:
            raise LookupError(f"no button or link {text!r} on {self.path()}")
        return found

    def click(self, text, within=None):
        """Clicks the button or link `text` and waits for the next page."""
        control = self.button(text, within)
        self.mark()
        control.click()
        self.wait_for_new_page()

    def mark(self):
        """Marks the page shown, for wait_for_new_page."""
        self.browser.execute("window.m2faOldPage = true;")

    def wait_for_new_page(self, timeout=20):
        """Waits until the page marked by `window.m2faOldPage` was replaced
        by a loaded one (a new page has a new window object)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                done = self.browser.execute(
                    "return !window.m2faOldPage && document.readyState === 'complete';")
            except webdriver.WebDriverError:
                done = False  # between two pages
            if done:
                self.check_labels()
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no new page after the click (on {self.path()})")
            time.sleep(0.05)

    def heading(self):
        """The page's first <h1>."""
        return self.browser.find("h1").text()

    def text(self):
        """The rendered text of the page's <main>."""
        return self.browser.find("main").text()

    def notice(self):
        """The page's notice (role=status), or None."""
        found = self.browser.find_all("p.notice")
        return found[0].text() if found else None

    def problem(self):
        """The page's problem (role=alert), or None."""
        found = self.browser.find_all("p.problem")
        return found[0].text() if found else None

    def seen(self, name, photo=True):
        """Records the page shown as `name`: its unlabelled inputs, how much
        wider than a phone's screen it is at phone size (in `widths`), and
        its screenshots (when `photo` and the run keeps them)."""
        self.check_labels(name)
        self.browser.set_viewport_size(*webdriver.PHONE)
        self.widths[name] = self.browser.execute(
            "return document.documentElement.scrollWidth - window.innerWidth;")
        self.browser.set_viewport_size(*webdriver.DESKTOP)
        if photo:
            self.album.take(self.browser, name)
