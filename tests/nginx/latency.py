#!/usr/bin/env python3
"""The latency mail2fa's gate adds to an ActiveSync request through nginx:
the nginx of tests/nginx/e2e.py (the shipped mail2fa-gate.conf in front of
the stub upstream, on the same stack: mail2fa-server checking the password
through Dovecot's authentication socket) with a second server beside it,
the same TLS settings and the same proxying to the stub upstream but no
auth_request. An authorized iPhone (the steady state) sends N Sync requests
to each, interleaved, each over its own keep-alive TLS connection; the
median, p90 and p99 of each and the difference are printed.

Not a test (no timing is asserted): run by scripts/bench-nginx.sh for
BENCHMARKS.md.

    python3 tests/nginx/latency.py --server target/debug/mail2fa-server \\
        --tool target/debug/mail2fa --lua-module target/integrations/mail2fa.so \\
        [--requests 2000]

Needs root and what tests/nginx/e2e.py needs (chromium not used).
"""

import argparse
import base64
import http.client
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))


def _load_e2e():
    """tests/nginx/e2e.py (its stack, nginx and upstream) as a module."""
    spec = importlib.util.spec_from_file_location("mail2fa_nginx_e2e",
                                                  os.path.join(HERE, "e2e.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


e2e = _load_e2e()
stack = e2e.stack
ALICE = e2e.ALICE


def plain_server(work, upstream_port):
    """The server without the gate: the shipped gate's TLS settings and
    proxying of the mail location, without its auth_request."""
    cert = os.path.join(work, "nginx", "cert.pem")  # Nginx() writes them there
    key = os.path.join(work, "nginx", "key.pem")
    return f"""    # The benchmark's reference: no gate.
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{e2e.PLAIN_PORT} ssl;
        server_name {e2e.HOST};
        ssl_certificate     {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 3600s;
            proxy_buffering off;
            client_max_body_size 64m;
        }}
    }}
"""


class Client:
    """One keep-alive TLS connection to nginx, sending the iPhone's Sync."""

    def __init__(self, port, path, authorization):
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=e2e.SSL_CONTEXT,
                                                timeout=30)
        self.path = path
        self.headers = {
            "Host": e2e.HOST,
            "Authorization": authorization,
            "User-Agent": e2e.IPHONE_AGENT,
            "Content-Type": "application/vnd.ms-sync.wbxml",
            "MS-ASProtocolVersion": "16.1",
        }

    def send(self):
        """One request: (status, seconds)."""
        started = time.perf_counter()
        self.conn.request("POST", self.path, body=e2e.WBXML_SYNC, headers=self.headers)
        answer = self.conn.getresponse()
        answer.read()
        return answer.status, time.perf_counter() - started

    def close(self):
        self.conn.close()


def percentile(sorted_values, p):
    """The nearest-rank percentile of sorted values."""
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summary(values):
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p90": percentile(ordered, 90),
            "p99": percentile(ordered, 99)}


def measure(args, work):
    # The stack's start-up messages, not the figures: on standard error.
    out, sys.stdout = sys.stdout, sys.stderr
    try:
        parts, nginx, upstream, _ = e2e.build(args, work, browser=False,
                                              extra_http=plain_server)
        stopped = [upstream, parts]
        try:
            parts.start()
            nginx.start()
            stopped.insert(0, nginx)
            tool = stack.dovecot_e2e.ConfigTool(os.path.abspath(args.tool), parts.service.conf)
            tool.run("platform", "enable", stack.PLATFORM)
            run = e2e.Run(parts, nginx, upstream, tool, work, [])
            run.enroll(ALICE)
            path = e2e.activesync_path(ALICE, "BENCHPHONE")
            password = stack.PASSWORDS[ALICE]
            if e2e.iphone(work, path, ALICE, password).status != 403:
                raise RuntimeError("the new iPhone was not blocked")
            device = run.devices(ALICE)[0]["id"]
            tool.run("device", "activate", stack.PLATFORM, ALICE, device)
            authorization = "Basic " + base64.b64encode(f"{ALICE}:{password}".encode()).decode()
            gated = Client(e2e.HTTPS_PORT, path, authorization)
            plain = Client(e2e.PLAIN_PORT, path, authorization)
            try:
                for client in (gated, plain):  # warm up: TLS, connections, caches
                    for _ in range(min(50, args.requests)):
                        client.send()
                times = {"gate": [], "plain": []}
                bad = 0
                for _ in range(args.requests):
                    for name, client in (("gate", gated), ("plain", plain)):
                        status, seconds = client.send()
                        bad += status != 200
                        times[name].append(seconds)
            finally:
                gated.close()
                plain.close()
            if bad:
                raise RuntimeError(f"{bad} requests were not answered 200")
            return times
        finally:
            for part in stopped:
                part.stop()
    finally:
        sys.stdout = out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="target/debug/mail2fa-server")
    parser.add_argument("--tool", required=True, help="target/debug/mail2fa")
    parser.add_argument("--lua-module", required=True, help="target/integrations/mail2fa.so")
    parser.add_argument("--requests", type=int, default=2000, help="requests per location")
    args = parser.parse_args()
    missing = [m for m in e2e.missing_needs() if "chrom" not in m]
    if missing:
        print(f"SKIPPED: the nginx benchmark needs: {', '.join(missing)}")
        return 1
    work = tempfile.mkdtemp(prefix="mail2fa-nginx-bench-")
    os.chmod(work, 0o755)
    try:
        times = measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    gate, plain = summary(times["gate"]), summary(times["plain"])
    print(f"nginx, ActiveSync Sync POST over keep-alive TLS, {args.requests} requests each, "
          f"interleaved (an authorized iPhone; the gate checks the password through "
          f"Dovecot's authentication socket):")
    print(f"{'':24}{'median':>10}{'p90':>10}{'p99':>10}")
    for name, s in (("without the gate", plain), ("with the gate", gate)):
        print(f"{name:24}" + "".join(f"{s[k] * 1000:>8.2f}ms" for k in ("median", "p90", "p99")))
    print(f"{'added by the gate':24}"
          + "".join(f"{(gate[k] - plain[k]) * 1000:>8.2f}ms" for k in ("median", "p90", "p99")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
