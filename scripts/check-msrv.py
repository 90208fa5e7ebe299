#!/usr/bin/env python3
"""The declared rust-version must not promise less than the dependencies need.

This machine has one Rust toolchain, so CI cannot build on the declared
minimum itself. What it can check: every package in Cargo.lock that mail2fa
may build (all features, dev-dependencies included) declares a rust-version
no newer than mail2fa's, and clippy's `incompatible_msrv` lint (run by
scripts/test-all.sh with -D warnings) refuses standard-library items of our
own code that are newer than it.

    python3 scripts/check-msrv.py
"""
import json
import subprocess
import sys


def version(text):
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


metadata = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"],
    check=True, capture_output=True, text=True).stdout)
root = next(p for p in metadata["packages"] if p["name"] == "mail2fa")
declared = root.get("rust_version")
if not declared:
    sys.exit("check-msrv: Cargo.toml declares no rust-version")
reachable = {node["id"] for node in metadata["resolve"]["nodes"]}
newer = sorted(
    (version(p["rust_version"]), p["name"], p["version"], p["rust_version"])
    for p in metadata["packages"]
    if p["id"] in reachable and p["name"] != "mail2fa" and p.get("rust_version")
    and version(p["rust_version"]) > version(declared))
for _, name, ver, needs in newer:
    print(f"check-msrv: {name} {ver} needs Rust {needs}, above mail2fa's rust-version {declared}")
if newer:
    sys.exit(1)
print(f"msrv ok: rust-version {declared} covers every dependency's own declaration")
