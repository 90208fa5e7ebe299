#!/usr/bin/env python3
"""Counts the library's public items as a user of the crate sees them.

Method: rustdoc's JSON output (nightly) for the library with every feature,
in a target directory of its own (target/public-items), then a walk from the
crate root through what a user can name:

* a module's public items, following `pub use` re-exports (glob re-exports
  add the module's items, not the module);
* a struct's public fields, an enum's variants and their named fields;
* the items of inherent `impl` blocks (methods, associated functions and
  constants) — but not the items of trait impls, which add no name: a trait
  impl (`impl Display for X`) counts once, under "trait impls"; impls the
  compiler adds (auto traits, blankets such as `impl<T> From<T> for T`) do
  not count;
* a trait's items.

rustdoc leaves out private items. Hidden items (`#[doc(hidden)]`) are
documented into the JSON (`--document-hidden-items`) and left out by the
walk, by attribute — so that an item re-exported from a hidden module (as
rustdoc shows it, inlined) still counts. Each item counts once, however many
paths reach it. The `ffi` module (feature `capi`, the C ABI) is counted
apart: it is the C library's surface, whose policy is the header's, and is
reported on its own line.

Usage: scripts/count-public-items.py [--json FILE] [--format text|markdown]
  --json FILE  read an existing rustdoc JSON file instead of running cargo
"""
import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "target" / "public-items"

# Kinds in the order they are reported.
KINDS = [
    "modules", "structs", "enums", "variants", "fields", "traits",
    "functions", "methods", "trait items", "constants", "assoc constants",
    "type aliases", "macros", "statics", "trait impls",
]


def rustdoc_json():
    subprocess.run(
        ["cargo", "+nightly", "rustdoc", "--quiet", "--lib", "--all-features",
         "--target-dir", str(TARGET), "--",
         "-Z", "unstable-options", "--output-format", "json",
         "--document-hidden-items"],
        cwd=ROOT, check=True)
    return TARGET / "doc" / "mail2fa.json"


def inner_kind(item):
    inner = item["inner"]
    return next(iter(inner)) if isinstance(inner, dict) else inner


def hidden(item):
    return any("doc(hidden)" in json.dumps(a).replace(" ", "") for a in item.get("attrs", []))


class Walk:
    def __init__(self, doc):
        self.index = doc["index"]
        self.seen = set()
        self.counts = {"api": collections.Counter(), "ffi": collections.Counter()}

    def get(self, item_id):
        return self.index.get(str(item_id)) if item_id is not None else None

    def visit(self, item_id, part, in_impl=False):
        item = self.get(item_id)
        if item is None or hidden(item):
            return
        kind = inner_kind(item)
        if kind == "use":
            use = item["inner"]["use"]
            target = self.get(use["id"])
            if target is None:
                return
            if use["is_glob"] and inner_kind(target) == "module":
                for child in target["inner"]["module"]["items"]:
                    self.visit(child, part)
            else:
                self.visit(use["id"], part)
            return
        if item_id in self.seen:
            return
        # Items of other crates re-exported here are not ours to count.
        if item.get("crate_id", 0) != 0:
            return
        self.seen.add(item_id)
        if kind == "module":
            if item["name"] == "ffi" and part == "api":
                part = "ffi"
            self.counts[part]["modules"] += 1
            for child in item["inner"]["module"]["items"]:
                if self.public(child):
                    self.visit(child, part)
        elif kind == "struct":
            self.counts[part]["structs"] += 1
            shape = item["inner"]["struct"]["kind"]
            if isinstance(shape, dict) and "plain" in shape:
                fields = shape["plain"]["fields"]
            elif isinstance(shape, dict) and "tuple" in shape:
                fields = [f for f in shape["tuple"] if f is not None]
            else:
                fields = []
            for f in fields:
                if self.public(f):
                    self.visit(f, part)
            self.impls(item["inner"]["struct"]["impls"], part)
        elif kind == "enum":
            self.counts[part]["enums"] += 1
            for v in item["inner"]["enum"]["variants"]:
                self.visit(v, part)
            self.impls(item["inner"]["enum"]["impls"], part)
        elif kind == "variant":
            self.counts[part]["variants"] += 1
            shape = item["inner"]["variant"]["kind"]
            if isinstance(shape, dict) and "struct" in shape:
                for f in shape["struct"]["fields"]:
                    self.visit(f, part)
        elif kind == "struct_field":
            self.counts[part]["fields"] += 1
        elif kind == "trait":
            self.counts[part]["traits"] += 1
            for child in item["inner"]["trait"]["items"]:
                if child not in self.seen and not hidden(self.get(child)):
                    self.seen.add(child)
                    self.counts[part]["trait items"] += 1
        elif kind == "function":
            self.counts[part]["methods" if in_impl else "functions"] += 1
        elif kind == "assoc_const":
            self.counts[part]["assoc constants"] += 1
        elif kind == "assoc_type":
            self.counts[part]["assoc types"] += 1
        elif kind == "constant":
            self.counts[part]["constants"] += 1
        elif kind == "static":
            self.counts[part]["statics"] += 1
        elif kind == "type_alias":
            self.counts[part]["type aliases"] += 1
            self.impls(item["inner"]["type_alias"].get("impls", []), part)
        elif kind in ("macro", "proc_macro"):
            self.counts[part]["macros"] += 1
        elif kind == "union":
            self.counts[part]["structs"] += 1
        else:
            self.counts[part][kind] += 1

    def public(self, item_id):
        item = self.get(item_id)
        return item is not None and item["visibility"] == "public"

    def impls(self, impl_ids, part):
        for impl_id in impl_ids:
            impl_item = self.get(impl_id)
            if impl_item is None or hidden(impl_item):
                continue
            imp = impl_item["inner"]["impl"]
            if imp.get("is_synthetic") or imp.get("blanket_impl") is not None:
                continue
            if imp.get("trait") is not None:
                if impl_id not in self.seen:
                    self.seen.add(impl_id)
                    self.counts[part]["trait impls"] += 1
                continue
            for child in imp["items"]:
                if self.public(child):
                    self.visit(child, part, in_impl=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="an existing rustdoc JSON file")
    parser.add_argument("--format", choices=["text", "markdown"], default="text")
    args = parser.parse_args()
    path = args.json or rustdoc_json()
    doc = json.loads(path.read_text())
    walk = Walk(doc)
    walk.visit(doc["root"], "api")
    api, ffi = walk.counts["api"], walk.counts["ffi"]
    named = lambda c: sum(n for k, n in c.items() if k != "trait impls")
    if args.format == "markdown":
        print("| kind | Rust API | C ABI module (`ffi`) |")
        print("|---|---:|---:|")
        for k in KINDS + sorted((set(api) | set(ffi)) - set(KINDS)):
            if api[k] or ffi[k]:
                print(f"| {k} | {api[k]} | {ffi[k]} |")
        print(f"| **named items** | **{named(api)}** | **{named(ffi)}** |")
    else:
        print(f"{'kind':<18}{'Rust API':>10}{'ffi':>8}")
        for k in KINDS + sorted((set(api) | set(ffi)) - set(KINDS)):
            if api[k] or ffi[k]:
                print(f"{k:<18}{api[k]:>10}{ffi[k]:>8}")
        print(f"{'named items':<18}{named(api):>10}{named(ffi):>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
