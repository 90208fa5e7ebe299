//! Every story the code cites resolves inside the repository: each `S<n>`
//! written in `src/`, `include/`, `integrations/`, `README.md`, the tests,
//! examples, benches, fuzz targets or scripts (as in
//! `// S12` or "S12–S14") must be a heading of `docs/behaviour.md`
//! (`## S12 — …`). And what users read — rustdoc, the C header, the
//! README — cites none: the numbers are the repository's cross-references.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const DOC: &str = "docs/behaviour.md";
const CITING: [&str; 9] = [
    "src",
    "include",
    "integrations",
    "README.md",
    "tests",
    "examples",
    "benches",
    "fuzz/fuzz_targets",
    "scripts",
];

/// The story numbers cited in `text`, with their line numbers. A citation is
/// `S` and digits standing as a word of its own; `Sa–Sb` (or `Sa-Sb`) cites
/// every story from a to b.
fn citations(text: &str) -> Vec<(usize, u32)> {
    let bytes = text.as_bytes();
    let is_word =
        |i: usize| i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_');
    let number_at = |i: usize| -> Option<(u32, usize)> {
        if bytes.get(i) != Some(&b'S') || (i > 0 && is_word(i - 1)) {
            return None;
        }
        let end = (i + 1..=bytes.len()).find(|&j| !bytes.get(j).is_some_and(u8::is_ascii_digit))?;
        if end == i + 1 || is_word(end) {
            return None;
        }
        Some((text[i + 1..end].parse().ok()?, end))
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let Some((first, end)) = number_at(i) else {
            i += 1;
            continue;
        };
        let line = text[..i].matches('\n').count() + 1;
        let dash = ["–", "-"].iter().find(|d| text[end..].starts_with(**d));
        let last = dash
            .and_then(|d| number_at(end + d.len()))
            .filter(|&(n, _)| n > first);
        match last {
            Some((last, after)) => {
                found.extend((first..=last).map(|n| (line, n)));
                i = after;
            }
            None => {
                found.push((line, first));
                i = end;
            }
        }
    }
    found
}

/// The story numbers `docs/behaviour.md` defines: headings `#… S<n> …`.
fn defined_stories(doc: &str) -> BTreeSet<u32> {
    doc.lines()
        .filter_map(|line| {
            let title = line.strip_prefix('#')?.trim_start_matches('#').trim_start();
            let digits: String = title
                .strip_prefix('S')?
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let rest = &title[1 + digits.len()..];
            let bounded = rest
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_');
            if bounded { digits.parse().ok() } else { None }
        })
        .collect()
}

fn files_under(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for entry in entries {
            files_under(&entry, out);
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

#[test]
fn every_cited_story_is_defined_in_docs_behaviour() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join(DOC)).expect("docs/behaviour.md exists");
    let defined = defined_stories(&doc);
    assert!(
        !defined.is_empty(),
        "{DOC} defines no story (no heading `## S<n> — …`)"
    );

    let mut files = Vec::new();
    for place in CITING {
        files_under(&root.join(place), &mut files);
    }
    let mut cited = 0;
    let mut undefined = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        if bytes.contains(&0) {
            continue; // not text
        }
        let text = String::from_utf8_lossy(&bytes);
        for (line, story) in citations(&text) {
            cited += 1;
            if !defined.contains(&story) {
                let shown = file.strip_prefix(root).unwrap_or(file).display();
                undefined.push(format!("{shown}:{line}: S{story}"));
            }
        }
    }
    assert!(
        undefined.is_empty(),
        "story numbers cited but not defined as a heading in {DOC}:\n{}",
        undefined.join("\n")
    );
    assert!(
        cited > 0,
        "no story citation found under {CITING:?}: is the scan broken?"
    );
}

/// The lines a user reads as documentation: rustdoc comments (`///`, `//!`)
/// in `src/`, the C header, the README. Story numbers are the repository's
/// cross-references (code comments, tests, `docs/behaviour.md`), meaningless
/// on docs.rs or in an installed header.
fn public_doc_lines(root: &Path) -> Vec<(String, usize, String)> {
    let mut files = Vec::new();
    files_under(&root.join("src"), &mut files);
    let mut lines = Vec::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("///") || code.starts_with("//!") {
                lines.push((shown.clone(), n + 1, line.to_owned()));
            }
        }
    }
    for whole in ["include/mail2fa.h", "README.md"] {
        let text = std::fs::read_to_string(root.join(whole)).unwrap();
        for (n, line) in text.lines().enumerate() {
            lines.push((whole.to_owned(), n + 1, line.to_owned()));
        }
    }
    lines
}

#[test]
fn public_documentation_cites_no_story_number() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lines = public_doc_lines(root);
    assert!(
        lines.len() > 1_000,
        "only {} documentation lines found: is the scan broken?",
        lines.len()
    );
    let cited: Vec<String> = lines
        .iter()
        .filter(|(_, _, line)| !citations(line).is_empty())
        .map(|(file, n, line)| format!("{file}:{n}: {}", line.trim()))
        .collect();
    assert!(
        cited.is_empty(),
        "story numbers belong in {DOC} and code comments, not in what users read:\n{}",
        cited.join("\n")
    );
}

#[test]
fn citations_are_words_and_ranges() {
    let text = "a (S12) b\nS1–S3, S15/S16 and S4-S5\nnot: XS1 S1x S_2 S S2a MS12 CS\n";
    let found: Vec<(usize, u32)> = citations(text);
    assert_eq!(
        found,
        vec![
            (1, 12),
            (2, 1),
            (2, 2),
            (2, 3),
            (2, 15),
            (2, 16),
            (2, 4),
            (2, 5)
        ]
    );
}

#[test]
fn headings_define_stories() {
    let doc =
        "# Behaviour\n## S1 — Two levels\ntext S2\n## S12 - Devices\n### S7\n## S3x\n## See S4\n";
    assert_eq!(defined_stories(doc), BTreeSet::from([1, 7, 12]));
}
