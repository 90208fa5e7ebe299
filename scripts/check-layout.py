#!/usr/bin/env python3
"""Checks the layout of src/: no import cycle between files, no long file.

An edge A -> B means that file A names an item defined in file B: through
`use crate::…` / `super::…` / `self::…` / a child module (`use account::X`),
or a path in code (`crate::a::B`, `super::X`, `mail2fa::…` from a binary:
the library's name is read from Cargo.toml).
Names are followed through `use` and `pub use` chains to the file that
defines them; a path that ends at a module points at that module's file.
Inline modules (`#[cfg(test)] mod tests { … }`) count as their file. Best
effort: it reads text, it does not run the compiler's name resolution.

Usage: scripts/check-layout.py [CRATE_DIR] [--max-lines N]
Exits 1 when it finds a cycle or a file over N lines (default 700).
"""
import argparse
import re
import sys
from pathlib import Path

LITERAL = re.compile(r"//[^\n]*|/\*|b?r(#*)\"|b?\"|b?'(?:\\.|[^\\'\n])'")
ITEM = re.compile(r"(?<![*'\w])(?:fn|struct|enum|trait|type|const|static|union|mod)\s+(\w+)"
                  r"|\bmacro_rules!\s*(\w+)")
MOD_DECL = re.compile(r"\bmod\s+(\w+)\s*;")
INLINE_MOD = re.compile(r"\bmod\s+(\w+)\s*\{")
USE = re.compile(r"\buse\s+([^;]+);")
PATH = re.compile(r"(?<![\w:$])(\$?\w+(?:\s*::\s*\w+)+)")


def strip(text):
    """Blanks comments, strings and char literals, keeping offsets and lines."""
    out, i, n = [], 0, len(text)
    while i < n:
        m = LITERAL.match(text, i)
        if not m:
            out.append(text[i])
            i += 1
            continue
        tok, j = m.group(0), m.end()
        if tok.startswith("//"):
            pass
        elif tok == "/*":  # block comments nest
            depth = 1
            while j < n and depth:
                step = text[j:j + 2]
                depth += (step == "/*") - (step == "*/")
                j += 2 if step in ("/*", "*/") else 1
        elif tok.endswith('"') and "r" in tok:  # raw string r#"…"#
            end = text.find('"' + m.group(1), j)
            j = n if end < 0 else end + 1 + len(m.group(1))
        elif tok.endswith('"'):
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
        out.append(re.sub(r"[^\n]", " ", text[i:j]))
        i = j
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::d as e, self}` -> [(['a','b'],'b'), (['a','c','d'],'e'), (['a'],'a')]."""
    tree = re.sub(r"\s+as\s+", "@", tree.strip())
    tree = re.sub(r"\s+", "", tree).lstrip(":")
    brace = tree.find("{")
    if brace < 0:
        path, _, alias = tree.partition("@")
        segs = path.split("::")
        return [(segs, alias or segs[-1])]
    prefix = [s for s in tree[:brace].split("::") if s]
    inner, parts, depth, start = tree[brace + 1:tree.rfind("}")], [], 0, 0
    for i, ch in enumerate(inner + ","):
        depth += (ch == "{") - (ch == "}")
        if ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    result = []
    for part in filter(None, parts):
        for segs, name in expand_use(part):
            if segs[0] == "self":
                segs = segs[1:]
                name = name if segs or name != "self" else prefix[-1]
            result.append((prefix + segs, name))
    return result


class Layout:
    def __init__(self, src):
        self.src, self.modules, self.files = src, {}, {}
        manifest = src.parent / "Cargo.toml"
        text = manifest.read_text(encoding="utf-8") if manifest.is_file() else ""
        name = re.search(r'(?m)^name\s*=\s*"([^"]+)"', text)  # the [package] name
        self.lib_name = name.group(1).replace("-", "_") if name else None
        self.load(("lib",), src / "lib.rs")
        for main in sorted(src.glob("bin/*.rs")) + sorted(src.glob("bin/*/main.rs")):
            self.load(("bin", main.stem if main.name != "main.rs" else main.parent.name), main)

    def load(self, module, path):
        """Reads one file and the module files it declares."""
        if not path.is_file():
            return
        text = strip(path.read_text(encoding="utf-8"))
        inline = []  # (start, end, name) of inline `mod x { … }`
        for m in INLINE_MOD.finditer(text):
            depth, j = 1, m.end()
            while j < len(text) and depth:
                depth += (text[j] == "{") - (text[j] == "}")
                j += 1
            inline.append((m.start(), j, m.group(1)))
        items = {a or b for a, b in ITEM.findall(text)}
        f = {"module": module, "text": text, "inline": inline, "items": items,
             "uses": {}, "globs": []}  # name -> (path, where seen); glob paths
        self.files[path] = f
        self.modules[module] = path
        for start, end, name in inline:
            self.modules[module + self.inline_at(f, start) + (name,)] = path
        for m in USE.finditer(text):
            for segs, name in expand_use(m.group(1)):
                at = module + self.inline_at(f, m.start())
                if name == "*":
                    f["globs"].append((segs[:-1], at))
                else:
                    f["uses"].setdefault(name, (segs, at))
        is_dir = path.name in ("mod.rs", "lib.rs", "main.rs")
        base = path.parent if is_dir else path.with_suffix("")
        for m in MOD_DECL.finditer(text):
            name = m.group(1)
            child = base / f"{name}.rs"
            self.load(module + (name,), child if child.is_file() else base / name / "mod.rs")

    @staticmethod
    def inline_at(f, offset):
        return tuple(name for start, end, name in f["inline"] if start < offset < end)

    def resolve(self, segs, module, seen=(), strict=False):
        """The file defining what `segs` names, seen from `module`; None if outside.
        Strict: None also when the name is not found where the path leads."""
        if (tuple(segs), module) in seen or not segs:
            return None
        seen = seen + ((tuple(segs), module),)
        head, rest = segs[0], list(segs[1:])
        if head in ("crate", "$crate"):
            module = module[:2] if module[0] == "bin" else module[:1]
        elif head == self.lib_name and module[0] == "bin":
            module = ("lib",)
        elif head == "super":
            module = module[:-1]
        elif head == "self":
            pass
        elif module + (head,) in self.modules:  # a child module
            rest = segs
        else:  # a name imported into this module, or an outside crate
            f = self.files[self.modules[module]]
            if head in f["uses"] and f["uses"][head][0] != segs:
                target, at = f["uses"][head]
                return self.resolve(target + rest, at, seen, strict)
            return None
        if module not in self.modules:
            return None
        for i, seg in enumerate(rest):
            if module + (seg,) in self.modules:
                module = module + (seg,)
                continue
            here = self.modules[module]
            f = self.files[here]
            if seg in f["items"]:
                return here
            if seg in f["uses"]:
                target, at = f["uses"][seg]
                found = self.resolve(target + rest[i + 1:], at, seen, strict)
                return found or (None if strict else here)
            for target, at in f["globs"]:  # perhaps re-exported by `pub use x::*`
                found = self.resolve(target + rest[i:], at, seen, strict=True)
                if found:
                    return found
            return None if strict else here
        return self.modules.get(module)

    def edges(self):
        """{(a, b): first place where a names b}."""
        found = {}
        for path, f in self.files.items():
            text = f["text"]
            code = USE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
            spots = [(segs[:-1] if segs[-1] == "*" else segs, m.start())
                     for m in USE.finditer(text) for segs, _ in expand_use(m.group(1))]
            spots += [(re.sub(r"\s+", "", m.group(1)).split("::"), m.start())
                      for m in PATH.finditer(code)]
            for segs, offset in spots:
                target = self.resolve(segs, f["module"] + self.inline_at(f, offset))
                if target and target != path:
                    line = text.count("\n", 0, offset) + 1
                    found.setdefault((path, target), f"{self.rel(path)}:{line} {'::'.join(segs)}")
        return found

    def rel(self, path):
        return str(path.relative_to(self.src.parent))


def cycles(nodes, edges):
    """The groups of files that reach each other (strongly connected
    components with more than one file, after Tarjan): each holds a cycle."""
    index, low, stack, on, out = {}, {}, [], set(), []
    after = {v: [b for a, b in edges if a == v] for v in nodes}

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for b in after[v]:
            if b not in index:
                visit(b)
                low[v] = min(low[v], low[b])
            elif b in on:
                low[v] = min(low[v], index[b])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def simple_cycles(group, edges, limit=200):
    """Every cycle inside `group` once (from its first file in sorted order)."""
    order = {v: i for i, v in enumerate(sorted(group))}
    after = {v: sorted(b for a, b in edges if a == v and b in order) for v in order}
    found = []

    def walk(start, path):
        for b in after[path[-1]]:
            if b == start and len(found) < limit:
                found.append(list(path))
            elif order[b] > order[start] and b not in path:
                walk(start, path + [b])

    for start in sorted(group):
        walk(start, [start])
    return found


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("crate", nargs="?", default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--max-lines", type=int, default=700)
    args = parser.parse_args(argv)
    root, limit = Path(args.crate), args.max_lines
    layout = Layout(root / "src")
    failed = False
    edges = layout.edges()
    for group in cycles(sorted(layout.files), edges):
        failed = True
        print("import cycles between: " + ", ".join(layout.rel(p) for p in group))
        for cycle in simple_cycles(group, edges):
            print("  cycle: " + " -> ".join(layout.rel(p) for p in cycle + cycle[:1]))
        for (a, b), where in sorted(edges.items()):
            if a in group and b in group:
                print(f"  {layout.rel(a)} -> {layout.rel(b)}   ({where})")
    for path in sorted(root.glob("src/**/*.rs")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > limit and "@generated" not in text[:500]:
            failed = True
            print(f"too long: {path.relative_to(root)} has {lines} lines (limit {limit})")
    unreached = sorted(set(root.glob("src/**/*.rs")) - set(layout.files))
    for path in unreached:
        print(f"note: {path.relative_to(root)} is not reached from a crate root; not checked")
    if not failed:
        print(f"layout ok: {len(layout.files)} files, no import cycle, none over {limit} lines")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
