//! Connection strings for messages and logs: the password hidden.

use super::conninfo;

/// What a password, or a part of the string that may hold one, is shown as.
const HIDDEN: &str = "***";

/// `connection_string` (a `postgres://` URL or a libpq `key=value` list)
/// fit to print: every password replaced by `***`.
///
/// Where a string is ambiguous, more is hidden rather than less:
/// * in a URL, everything between the first `:` of the user part and the
///   **last** `@` (a password may hold an unencoded `/`, `?`, `#`, `:` or
///   even `@`; when the settings hold a `@`, the host is hidden too), and
///   the value of every `password` setting (its name compared without
///   case, percent-decoded), up to the next `&`;
/// * in a `key=value` list, the value of every `password` key; a list that
///   does not parse (an unclosed quote, a word without `=` that may be part
///   of an unquoted password) is not shown at all.
///
/// ```
/// use mail2fa::store::redact_connection_string;
///
/// assert_eq!(
///     redact_connection_string("postgres://m:s/e?c@r#t@db/mail2fa?sslmode=verify-full"),
///     "postgres://m:***@db/mail2fa?sslmode=verify-full"
/// );
/// assert_eq!(
///     redact_connection_string("host=db user=m password='s e c r e t'"),
///     "host=db user=m password=***"
/// );
/// ```
pub fn redact_connection_string(connection_string: &str) -> String {
    if conninfo::is_url(connection_string) {
        redact_url(connection_string)
    } else {
        redact_key_values(connection_string)
    }
}

fn is_password_key(key: &str) -> bool {
    let decoded = conninfo::percent_decode(key).unwrap_or_else(|_| key.to_owned());
    decoded.trim().eq_ignore_ascii_case("password")
}

fn redact_url(text: &str) -> String {
    let scheme_end = text.find("://").map_or(0, |i| i + 3);
    let rest = &text[scheme_end..];
    // Byte ranges to hide; every bound is next to an ASCII character.
    let mut hidden: Vec<(usize, usize)> = Vec::new();
    if let Some(last_at) = rest.rfind('@') {
        if let Some(colon) = rest[..last_at].find(':') {
            hidden.push((scheme_end + colon + 1, scheme_end + last_at));
        }
    }
    // Every `password=` setting, wherever a setting may begin (a `?` inside
    // a password cannot tell us where the settings begin).
    for (separator, _) in text.match_indices(['?', '&']) {
        let start = separator + 1;
        let Some(equals) = text[start..].find(['=', '&']).map(|i| start + i) else {
            continue;
        };
        if text.as_bytes()[equals] != b'=' || !is_password_key(&text[start..equals]) {
            continue;
        }
        let value_start = equals + 1;
        let value_end = text[value_start..]
            .find('&')
            .map_or(text.len(), |i| value_start + i);
        hidden.push((value_start, value_end));
    }
    hidden.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut shown_to = 0;
    for (start, end) in hidden {
        if end <= shown_to {
            continue;
        }
        if start >= shown_to {
            out.push_str(&text[shown_to..start]);
            out.push_str(HIDDEN);
        }
        // else: overlaps the range just hidden, which now reaches `end`.
        shown_to = end;
    }
    out.push_str(&text[shown_to..]);
    out
}

fn redact_key_values(text: &str) -> String {
    let Ok(pairs) = conninfo::split_key_values(text) else {
        return format!("{HIDDEN} (a connection string that does not parse)");
    };
    pairs
        .iter()
        .map(|(key, value)| {
            if is_password_key(key) {
                format!("{key}={HIDDEN}")
            } else if value.is_empty() || value.contains(|c: char| c.is_whitespace() || c == '\'') {
                format!(
                    "{key}='{}'",
                    value.replace('\\', "\\\\").replace('\'', "\\'")
                )
            } else {
                format!("{key}={}", value.replace('\\', "\\\\"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::redact_connection_string as redact;

    #[test]
    fn url_passwords_are_hidden_whatever_they_contain() {
        for (url, shown) in [
            (
                "postgres://m:s3cret@db:5432/mail2fa?sslmode=require&password=x",
                "postgres://m:***@db:5432/mail2fa?sslmode=require&password=***",
            ),
            ("postgresql://m@db/x", "postgresql://m@db/x"),
            ("postgres://db", "postgres://db"),
            (
                "postgres://db:5432/x?sslmode=disable",
                "postgres://db:5432/x?sslmode=disable",
            ),
            ("postgres://a:b@c@db/x", "postgres://a:***@db/x"),
            ("postgres://m:se/cret@db/x", "postgres://m:***@db/x"),
            ("postgres://m:se?cret@db/x?a=b", "postgres://m:***@db/x?a=b"),
            ("postgres://m:se#cret@db/x", "postgres://m:***@db/x"),
            (
                "postgres://m:se%2Fc%3Fr%40e%23t@db/x",
                "postgres://m:***@db/x",
            ),
            ("postgres://m:s/e?c@r#t@db/x", "postgres://m:***@db/x"),
            ("postgres://m:@db/x", "postgres://m:***@db/x"),
            (
                "postgres://db/x?PASSWORD=se/cr?et&user=m",
                "postgres://db/x?PASSWORD=***&user=m",
            ),
            (
                "postgres://db/x?pass%77ord=secret",
                "postgres://db/x?pass%77ord=***",
            ),
            (
                "postgres://m:pw@db/x?password=se@cret&user=m",
                "postgres://m:***&user=m",
            ),
            (
                "postgres://db/x?user=m&password=secret",
                "postgres://db/x?user=m&password=***",
            ),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
    }

    #[test]
    fn key_value_passwords_are_hidden() {
        for (text, shown) in [
            (
                "host=db user=m password=secret dbname=x",
                "host=db user=m password=*** dbname=x",
            ),
            (
                r"host=db password = 'se cr\'et' application_name='a b'",
                "host=db password=*** application_name='a b'",
            ),
            ("host=/run/postgresql", "host=/run/postgresql"),
            (
                "host=db password='secret",
                "*** (a connection string that does not parse)",
            ),
            (
                "host=db password=se cret",
                "*** (a connection string that does not parse)",
            ),
            (
                "host=db user= password=secret",
                "*** (a connection string that does not parse)",
            ),
        ] {
            assert_eq!(redact(text), shown, "{text}");
        }
    }
}
