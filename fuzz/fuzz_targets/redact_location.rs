//! Redaction of connection strings for messages
//! (`redact_connection_string`, what the operator tool prints): never a
//! panic on any text, and for strings built around a known password
//! (raw in a URL, whatever it contains; percent-encoded; quoted in a
//! `key=value` list; as a `password=` setting) the output never contains
//! the password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mail2fa::store::redact_connection_string;

/// Every character the templates below and the redaction itself write.
const TEMPLATE: &str =
    "postgresql://@/db?&password= host= user= '\\ *** (a connection string that does not parse)";

/// Fields separated by 0xFF: form, user, password, host, extra settings.
/// Returns the form, the string, the password and the other fields.
fn build(data: &[u8]) -> Option<(u8, String, String, String)> {
    let mut fields = data.split(|b| *b == 0xff);
    let form = fields.next()?.first().copied().unwrap_or(0) % 5;
    let mut next = || String::from_utf8(fields.next().unwrap_or_default().to_vec()).ok();
    let (user, password, host, extra) = (next()?, next()?, next()?, next()?);
    let encoded: String = password.bytes().map(|b| format!("%{b:02X}")).collect();
    let quoted = password.replace('\\', "\\\\").replace('\'', "\\'");
    let text = match form {
        0 => format!("postgres://{user}:{password}@{host}/db?{extra}"),
        1 => format!("postgresql://{user}:{encoded}@{host}/db?{extra}"),
        2 => format!("postgres://{user}@{host}/db?{extra}&password={encoded}"),
        3 => format!("postgres://{host}/db?password={encoded}&{extra}"),
        _ => format!("host={host} user={user} password='{quoted}' {extra}"),
    };
    Some((form, text, password, format!("{user}{host}{extra}")))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = redact_connection_string(text);
    }
    let Some((form, text, password, others)) = build(data) else {
        return;
    };
    let shown = redact_connection_string(&text);
    if password.is_empty() {
        return;
    }
    if form == 4 && others.contains("password") {
        // Another field brings a `password=` setting of its own: the string
        // no longer has the shape built here (its `password='…` can swallow
        // the rest, and the built password becomes the value of another
        // setting), so which text is the password is the parser's call.
        // The no-panic run above covers it.
        return;
    }
    if form == 0 || form == 4 {
        // The password as written: a character of it that nothing else in
        // the string has must not be shown.
        if let Some(c) = password
            .chars()
            .find(|c| !others.contains(*c) && !TEMPLATE.contains(*c))
        {
            assert!(!shown.contains(c), "{c:?}: {text:?} -> {shown:?}");
        }
    } else if !others.contains('%') {
        // Percent-encoded: only the password brings a `%`.
        assert!(!shown.contains('%'), "{text:?} -> {shown:?}");
    }
});
