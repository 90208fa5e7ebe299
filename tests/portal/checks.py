"""What the portal's and the nginx gate's suites share: counted checks, a
flow whose exception counts as a failed check, an authenticator app that
never reuses a time step, and the search of logs for secrets."""

import os
import re
import time

import stack

# The counted checks are tests/dovecot/e2e.py's (its check() and its
# list of failures).
check = stack.dovecot_e2e.check
failures = stack.dovecot_e2e.failures


def flow(name, function, *args):
    """Runs one flow; one that raises is a failed check (the run goes on)."""
    try:
        return function(*args)
    except Exception as e:
        check(False, f"{name}: {type(e).__name__}: {e}")
        return None


def summary():
    """Prints the count and every failure; the exit status of the run."""
    print(f"\n{stack.dovecot_e2e.passes} passed, {len(failures)} failed")
    for what in failures:
        print(f"  failed: {what}")
    return 1 if failures else 0


class Authenticator:
    """An authenticator app holding the key of `uri`. The engine takes each
    time step once, and only after the last one used: code() gives the code
    of the next step not used yet, starting a few steps back inside the
    service's window (stack.TOTP_WINDOW), so that a flow needing several
    codes need not wait for the clock. `given` keeps every code handed out
    (for the search of the logs)."""

    def __init__(self, uri):
        self.uri = uri
        self.last = None
        self.given = []

    def code(self):
        now = int(time.time()) // 30
        step = now - stack.TOTP_WINDOW // 2
        if self.last is not None:
            step = max(step, self.last + 1)
        if step >= now + stack.TOTP_WINDOW:
            raise RuntimeError("every code of the window was used")
        self.last = step
        code = stack.totp(self.uri, step * 30)
        self.given.append(code)
        return code

    def wrong(self):
        """A code of the right length that no step near now has."""
        now = int(time.time()) // 30
        near = {stack.totp(self.uri, (now + d) * 30)
                for d in range(-stack.TOTP_WINDOW - 2, stack.TOTP_WINDOW + 3)}
        digits = len(stack.totp(self.uri, now * 30))
        return next(c for c in (str(n).zfill(digits) for n in range(10 ** digits))
                    if c not in near)


def no_secrets_in(logs, secret_texts, codes=()):
    """The logs that contain one of `secret_texts`, or one of `codes` as a
    number of its own."""
    leaked = []
    for path in logs:
        if not os.path.exists(path):
            continue
        text = open(path, errors="replace").read()
        leaked += [path for s in secret_texts if s and s in text]
        leaked += [f"{path} (a code)" for c in codes
                   if re.search(rf"(?<![0-9]){c}(?![0-9])", text)]
    return sorted(set(leaked))
