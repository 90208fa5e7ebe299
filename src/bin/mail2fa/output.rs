//! How the tool writes: plain sentences and tables for people, one JSON
//! document for scripts, colours only on a terminal.
//!
//! Whatever a client or a user chose (device types, user agents,
//! application-password names) is printed with control characters escaped,
//! so that a hostile mail client cannot send escape sequences to the
//! operator's terminal.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use mail2fa::engine::format_utc;
use zeroize::Zeroizing;

/// Colour choice (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Terminal styles (or none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    on: bool,
}

impl Style {
    pub(crate) fn new(choice: ColorChoice) -> Self {
        let on = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Self { on }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub(crate) fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(crate) fn warn(self, text: &str) -> String {
        self.paint("33", text)
    }

    pub(crate) fn bad(self, text: &str) -> String {
        self.paint("31", text)
    }
}

/// Text from outside (clients, users) made safe to print: control
/// characters escaped, at most `max` characters (an ellipsis marks a cut).
pub(crate) fn clean(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A time for people: `2026-11-27 09:05:00 UTC`, or `-`.
pub(crate) fn when(unix: Option<u64>) -> String {
    unix.map_or_else(|| "-".to_owned(), format_utc)
}

/// A table with a header row; columns sized to their widest cell.
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text; `paint` styles a cell (after padding, so that
    /// escape sequences do not disturb the alignment).
    pub(crate) fn render(&self, style: Style, paint: impl Fn(usize, &str) -> String) -> String {
        let width = |cell: &str| cell.chars().count();
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(width(cell));
                }
            }
        }
        let mut out = String::new();
        let last = widths.len().saturating_sub(1);
        let line = |out: &mut String, cells: Vec<String>| {
            let text = cells.join("  ");
            out.push_str(text.trim_end());
            out.push('\n');
        };
        let header = self
            .header
            .iter()
            .enumerate()
            .map(|(i, h)| style.bold(&pad(h, widths[i], i == last)))
            .collect();
        line(&mut out, header);
        for row in &self.rows {
            let cells = row
                .iter()
                .enumerate()
                .map(|(i, cell)| paint(i, &pad(cell, widths[i], i == last)))
                .collect();
            line(&mut out, cells);
        }
        out
    }
}

fn pad(text: &str, width: usize, last: bool) -> String {
    if last {
        return text.to_owned();
    }
    let mut out = text.to_owned();
    out.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(text.chars().count()),
    ));
    out
}

/// A JSON value, written by hand into a buffer that is wiped when dropped:
/// some outputs carry a secret (a provisioning URI, an application
/// password, recovery codes).
#[derive(Debug, Clone)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(u64),
    Text(String),
    List(Vec<Json>),
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    pub(crate) fn text(text: &str) -> Self {
        Self::Text(text.to_owned())
    }

    pub(crate) fn opt_text(text: Option<&str>) -> Self {
        text.map_or(Self::Null, Self::text)
    }

    pub(crate) fn opt_number(number: Option<u64>) -> Self {
        number.map_or(Self::Null, Self::Number)
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Self::Text(text) => {
                out.push('"');
                for c in text.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                            let _ = write!(out, "\\u{:04x}", u32::from(c));
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
            Self::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(fields) => {
                out.push('{');
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    Self::Text((*name).to_owned()).write(out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl Drop for Json {
    fn drop(&mut self) {
        if let Self::Text(text) = self {
            zeroize::Zeroize::zeroize(text);
        }
    }
}

/// Prints `value` as one line of JSON on standard output.
pub(crate) fn print_json(value: &Json) -> std::io::Result<()> {
    let mut out = Zeroizing::new(String::with_capacity(256));
    value.write(&mut out);
    out.push('\n');
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_cut() {
        assert_eq!(clean("Outlook\x1b[2J", 40), "Outlook\\u{1b}[2J");
        assert_eq!(clean("abcdef", 3), "abc…");
        assert_eq!(clean("été", 3), "été");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        Json::Object(vec![
            ("a", Json::text("q\"\\\n\u{1}")),
            (
                "b",
                Json::List(vec![Json::Number(3), Json::Null, Json::Bool(true)]),
            ),
        ])
        .write(&mut out);
        assert_eq!(out, r#"{"a":"q\"\\\n\u0001","b":[3,null,true]}"#);
    }

    #[test]
    fn tables_align_columns() {
        let mut table = Table::new(&["ID", "NAME"]);
        table.row(vec!["1".into(), "phone".into()]);
        table.row(vec!["12".into(), "laptop".into()]);
        let text = table.render(Style { on: false }, |_, cell| cell.to_owned());
        assert_eq!(text, "ID  NAME\n1   phone\n12  laptop\n");
    }
}
