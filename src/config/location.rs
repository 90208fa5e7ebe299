//! From a byte offset or a key path to a line and a column.

use super::error::Location;

/// The line and column (from 1, the column in characters) of `offset`.
pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The location of `offset` in `text`.
pub(super) fn at_offset(text: &str, origin: &str, offset: usize) -> Location {
    let (line, column) = position(text, offset);
    Location {
        origin: origin.to_owned(),
        line,
        column,
    }
}

/// Where the value of the key `path` (e.g. `["lockout", "max_failures"]`)
/// is written; for a key left at its default, where its section is; for a
/// section not written at all, the file's start.
pub(super) fn of_key(text: &str, origin: &str, path: &[&str]) -> Location {
    at_offset(text, origin, key_offset(text, path))
}

fn key_offset(text: &str, path: &[&str]) -> usize {
    let Ok(document) = toml::de::DeTable::parse(text) else {
        return 0;
    };
    let mut table = document.get_ref();
    let mut found = 0;
    for (depth, key) in path.iter().enumerate() {
        let Some(value) = table.get(*key) else {
            return found;
        };
        found = value.span().start;
        match value.get_ref() {
            toml::de::DeValue::Table(inner) if depth + 1 < path.len() => table = inner,
            _ => return found,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_from_one_in_characters() {
        let text = "a = 1\n[é]\nb = 2\n";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, text.find('b').unwrap_or(0)), (3, 1));
        assert_eq!(position(text, text.find(']').unwrap_or(0)), (2, 3));
    }

    #[test]
    fn a_key_is_found_by_its_value_else_its_section() {
        let text = "[store]\nsqlite_path = \"/x\"\n\n[lockout]\nmax_failures = 0\n";
        let at = |path: &[&str]| {
            let location = of_key(text, "f", path);
            (location.line, location.column)
        };
        assert_eq!(at(&["lockout", "max_failures"]), (5, 16));
        assert_eq!(at(&["store", "sqlite_path"]), (2, 15));
        assert_eq!(at(&["lockout", "first_lock_seconds"]).0, 4);
        assert_eq!(at(&["devices", "max_pending"]), (1, 1));
    }
}
