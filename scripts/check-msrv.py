#!/usr/bin/env python3
"""The declared rust-version must not promise less than the dependencies need.

Every package of Cargo.lock that the library may build (any feature, the
build dependencies included) must declare a rust-version no newer than
mail2fa's. The dev-dependencies (tests, benches, examples) may need a newer
Rust: they are listed, not refused. This reads only Cargo.lock and the
registry's declarations, so it covers every feature in a second; the build on
the declared toolchain itself is scripts/check-msrv-build.sh, and clippy's
`incompatible_msrv` lint (run by scripts/test-all.sh with -D warnings)
refuses standard-library items of our own code that are newer than it.

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
packages = {p["id"]: p for p in metadata["packages"]}
root = next(p for p in metadata["packages"] if p["name"] == "mail2fa")
declared = root.get("rust_version")
if not declared:
    sys.exit("check-msrv: Cargo.toml declares no rust-version")

# What the library builds: the packages reached from mail2fa through normal
# and build dependencies. Only the root has dev-dependencies in the resolve.
nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
library = set()
pending = [root["id"]]
while pending:
    node = nodes[pending.pop()]
    for dep in node["deps"]:
        if dep["pkg"] not in library and any(
                kind["kind"] != "dev" for kind in dep["dep_kinds"]):
            library.add(dep["pkg"])
            pending.append(dep["pkg"])


def newer(ids):
    return sorted(
        (version(p["rust_version"]), p["name"], p["version"], p["rust_version"])
        for p in (packages[i] for i in ids)
        if p.get("rust_version") and version(p["rust_version"]) > version(declared))


for _, name, ver, needs in newer(set(nodes) - library - {root["id"]}):
    print(f"check-msrv: note: {name} {ver} (tests and benches only) needs Rust {needs}")
refused = newer(library)
for _, name, ver, needs in refused:
    print(f"check-msrv: {name} {ver} needs Rust {needs}, above mail2fa's rust-version {declared}")
if refused:
    sys.exit(1)
print(f"msrv ok: rust-version {declared} covers every library dependency's own declaration")
