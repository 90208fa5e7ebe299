//! Connection strings, in either of libpq's forms (`postgres://…` URLs and
//! `key=value` lists). tokio-postgres reads most of libpq's settings; the
//! TLS ones it does not know (`sslrootcert`, `sslmode=verify-ca` and
//! `verify-full`) are taken out here and applied by our TLS set-up, so that
//! operators write the strings they already use for libpq.
//!
//! The defaults are not libpq's: the network must not be able to turn 2FA
//! off (a server, or a machine in the middle, that refuses TLS and asks for
//! a cleartext password would get the database password, then answer
//! "not found", i.e. "no 2FA", to every load). So:
//! * over TCP, TLS with a verified certificate and name (libpq's
//!   `verify-full`) unless the string says `sslmode=disable`; `prefer` and
//!   `require` mean the same verified TLS and never fall back to plain;
//!   `allow` (plain first) is refused;
//! * over Unix sockets (hosts that are directories, starting with `/`) no
//!   TLS, as with libpq: the socket never leaves the machine;
//! * with TLS and a password, SCRAM channel binding is required
//!   (`channel_binding=require`), so no server can downgrade the
//!   authentication to a cleartext or MD5 password or to SCRAM without the
//!   binding; an explicit `channel_binding=` in the string is honoured.

use std::path::PathBuf;
use std::str::FromStr;

use tokio_postgres::config::{ChannelBinding, Host, SslMode};

/// How a connection uses TLS. When mail2fa uses TLS it always verifies the
/// server's certificate and name (libpq's `verify-full`), whatever the
/// `sslmode`: an encrypted connection to anybody is not worth having.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tls {
    /// `sslmode=disable`, or Unix sockets only: no TLS.
    Off,
    /// TLS always (no `sslmode`, `prefer`, `require`, `verify-ca`,
    /// `verify-full`), verified against `roots` (`sslrootcert`), else
    /// against the system's trusted certificates.
    Verified {
        /// `sslrootcert`: a PEM file of trusted certificates.
        roots: Option<PathBuf>,
    },
}

/// A parsed connection string.
#[derive(Debug)]
pub(super) struct ConnInfo {
    pub(super) config: tokio_postgres::Config,
    pub(super) tls: Tls,
}

/// Parses `text`. Errors are one sentence that never repeats a value (the
/// string may carry a password).
pub(super) fn parse(text: &str) -> Result<ConnInfo, String> {
    let mut pairs = if is_url(text) {
        Pairs::Url(split_url(text)?)
    } else {
        Pairs::KeyValue(split_key_values(text)?)
    };
    let mut disable = false;
    let mut roots = None;
    let mut channel_binding_given = false;
    let mut rewritten = Vec::new();
    for (key, value) in pairs.entries() {
        match key.as_str() {
            "sslrootcert" => {
                if value.is_empty() {
                    return Err("sslrootcert is empty".into());
                }
                roots = Some(PathBuf::from(value));
                continue;
            }
            // Set below, from what the whole string says.
            "sslmode" => match value.as_str() {
                "disable" => {
                    disable = true;
                    continue;
                }
                "prefer" | "require" | "verify-ca" | "verify-full" => {
                    disable = false;
                    continue;
                }
                "allow" => {
                    return Err("sslmode=allow (plain text first) is not supported: \
                         use verify-full (TLS, the default) or disable"
                        .into());
                }
                _ => {
                    return Err(
                        "sslmode must be disable, prefer, require, verify-ca or verify-full".into(),
                    );
                }
            },
            "channel_binding" => channel_binding_given = true,
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                return Err(format!(
                    "{key} is not supported (client certificates): use a password or a Unix socket"
                ));
            }
            _ => {}
        }
        rewritten.push((key, value));
    }
    if disable && roots.is_some() {
        return Err("sslrootcert given with sslmode=disable".into());
    }
    if let Pairs::KeyValue(_) = pairs {
        let unknown = rewritten
            .iter()
            .position(|(key, _)| !KNOWN_KEYS.contains(&key.as_str()));
        if let Some(position) = unknown {
            // Not repeated: in a `key=value` list, an unknown word may be the
            // second half of an unquoted password with a space in it.
            return Err(format!(
                "setting number {} of the connection string is not one mail2fa knows \
                 (quote values with spaces)",
                position + 1
            ));
        }
    }
    pairs.replace(rewritten);
    let mut config = tokio_postgres::Config::from_str(&pairs.render())
        .map_err(|e| format!("invalid connection string: {e}"))?;
    let hosts = config.get_hosts();
    if hosts.is_empty() {
        return Err("the connection string names no host (host=… or postgres://HOST/…)".into());
    }
    let sockets = hosts.iter().filter(|h| !matches!(h, Host::Tcp(_))).count();
    let sockets_only = sockets == hosts.len() && config.get_hostaddrs().is_empty();
    if sockets > 0 && !sockets_only && !disable {
        // TLS cannot run over a socket, and plain TCP is not allowed
        // without sslmode=disable.
        return Err(
            "a connection string mixes Unix sockets and TCP hosts (or hostaddr): \
             list only one kind"
                .into(),
        );
    }
    let tls = if disable || sockets_only {
        config.ssl_mode(SslMode::Disable);
        Tls::Off
    } else {
        config.ssl_mode(SslMode::Require);
        if !channel_binding_given && config.get_password().is_some() {
            config.channel_binding(ChannelBinding::Require);
        }
        Tls::Verified { roots }
    };
    Ok(ConnInfo { config, tls })
}

/// The settings tokio-postgres reads (the TLS ones we read are taken out
/// before).
const KNOWN_KEYS: &[&str] = &[
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslnegotiation",
    "host",
    "hostaddr",
    "port",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// Whether `text` is a connection URL (else a `key=value` list).
pub(super) fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// `user@host:port/dbname` of a configuration, for messages (no password).
pub(super) fn describe(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{}:{}/{}",
        config.get_user().unwrap_or("(default user)"),
        hosts.join(","),
        port,
        config
            .get_dbname()
            .unwrap_or(config.get_user().unwrap_or("(default)"))
    )
}

/// The settings of a string, in order, keeping the rest of a URL as it was.
enum Pairs {
    Url(Url),
    KeyValue(Vec<(String, String)>),
}

struct Url {
    /// Everything before `?`.
    base: String,
    /// The query's settings, percent-decoded.
    query: Vec<(String, String)>,
}

impl Pairs {
    fn entries(&mut self) -> Vec<(String, String)> {
        match self {
            Pairs::Url(url) => std::mem::take(&mut url.query),
            Pairs::KeyValue(pairs) => std::mem::take(pairs),
        }
    }

    fn replace(&mut self, pairs: Vec<(String, String)>) {
        match self {
            Pairs::Url(url) => url.query = pairs,
            Pairs::KeyValue(list) => *list = pairs,
        }
    }

    fn render(&self) -> String {
        match self {
            Pairs::Url(url) if url.query.is_empty() => url.base.clone(),
            Pairs::Url(url) => {
                let query: Vec<String> = url
                    .query
                    .iter()
                    .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                    .collect();
                format!("{}?{}", url.base, query.join("&"))
            }
            Pairs::KeyValue(pairs) => pairs
                .iter()
                .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Splits a URL as tokio-postgres reads it: the user part ends at the `@`
/// (so an unencoded password may hold `/`, `?`, `#` or `:`, not `@`), the
/// settings begin at the first `?` after it. Strings that tokio-postgres
/// would read otherwise than an operator means are refused: a second `@`
/// (the rest of a password would become the host) and a user name with
/// `/`, `?` or `#` (a `@` in the settings would make the host a user name).
fn split_url(text: &str) -> Result<Url, String> {
    let scheme_end = text.find("://").map_or(0, |i| i + 3);
    let rest = &text[scheme_end..];
    let query_search_from = match rest.find('@') {
        Some(at) => {
            if rest[at + 1..].contains('@') {
                return Err(
                    "more than one `@` in the URL: percent-encode `@` in user names, \
                     passwords and settings as %40"
                        .into(),
                );
            }
            let user = rest[..at].split(':').next().unwrap_or_default();
            if user.contains(['/', '?', '#']) {
                return Err("a `@` after the host in the URL: percent-encode it as %40".into());
            }
            scheme_end + at
        }
        None => scheme_end,
    };
    let (base, query) = match text[query_search_from..].find('?') {
        Some(i) => text.split_at(query_search_from + i),
        None => (text, ""),
    };
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut pairs = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        pairs.push((percent_decode(key)?, percent_decode(value)?));
    }
    Ok(Url {
        base: base.to_owned(),
        query: pairs,
    })
}

pub(super) fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a bad %-escape in the connection string")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the connection string is not UTF-8".to_owned())
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// libpq's `key = value` list: values may be single-quoted, `\` escapes the
/// next character.
pub(super) fn split_key_values(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut chars = text.chars().peekable();
    let mut pairs = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            // Not repeated: a word without `=` may be part of an unquoted
            // password with a space in it.
            return Err(
                "a word in the connection string has no `=` (quote values with spaces)".into(),
            );
        }
        let mut spaced = false;
        while chars.next_if(|c| c.is_whitespace()).is_some() {
            spaced = true;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    // The key is not repeated: it may be half of an unquoted
                    // password.
                    None => return Err("a quoted value has no closing quote".into()),
                    Some('\'') => break,
                    Some('\\') => value.push(chars.next().ok_or("a trailing `\\`")?),
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.push(chars.next().ok_or("a trailing `\\`")?);
                } else {
                    value.push(c);
                }
            }
        }
        if spaced && value.contains('=') {
            // libpq reads `user= password=x` as the user `password=x`: a
            // password would then be shown as a user name in messages.
            return Err(
                "a value in the connection string is empty or starts after a space \
                 and holds `=` (write an empty value as '')"
                    .into(),
            );
        }
        if key != "password"
            && value
                .split_whitespace()
                .collect::<String>()
                .to_ascii_lowercase()
                .contains("password=")
        {
            // `user=a\ password=x` (an escaped space) or a misplaced quote:
            // the password would be shown as another setting's value.
            return Err("a value in the connection string holds `password=` \
                 (a quote or a `\\` misplaced?)"
                .into());
        }
        pairs.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tls(text: &str) -> Tls {
        parse(text).unwrap().tls
    }

    #[test]
    fn url_settings_pass_through_and_tls_ones_are_ours() {
        let info = parse(
            "postgres://u%40x:p%26w@db.example:6432/mail?sslmode=verify-full&sslrootcert=/etc/ca%20x.pem&application_name=a",
        )
        .unwrap();
        assert_eq!(info.config.get_user(), Some("u@x"));
        assert_eq!(info.config.get_password(), Some(&b"p&w"[..]));
        assert_eq!(info.config.get_dbname(), Some("mail"));
        assert_eq!(info.config.get_ports(), &[6432]);
        assert_eq!(info.config.get_application_name(), Some("a"));
        assert_eq!(
            info.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        assert_eq!(
            info.tls,
            Tls::Verified {
                roots: Some(PathBuf::from("/etc/ca x.pem"))
            }
        );
        assert_eq!(describe(&info.config), "u@x@db.example:6432/mail");
    }

    #[test]
    fn key_values_with_quotes_and_escapes() {
        let info = parse(
            r"host=/run/postgresql dbname = 'mail 2fa' user=m password='it\'s' sslmode=disable",
        )
        .unwrap();
        assert_eq!(info.config.get_dbname(), Some("mail 2fa"));
        assert_eq!(info.config.get_password(), Some(&b"it's"[..]));
        assert_eq!(info.tls, Tls::Off);
        assert_eq!(describe(&info.config), "m@/run/postgresql:5432/mail 2fa");
    }

    #[test]
    fn prefer_is_the_default_and_verifies() {
        assert_eq!(tls("host=h"), Tls::Verified { roots: None });
        assert_eq!(
            tls("postgres://h/db?sslmode=prefer"),
            Tls::Verified { roots: None }
        );
    }

    /// Issue 14, point 2: no `sslmode`, `prefer` and `require` are verified
    /// TLS that never falls back to plain (libpq's `prefer` would), and
    /// with a password the SCRAM channel binding is required.
    #[test]
    fn tcp_is_verified_tls_without_fallback_unless_disabled() {
        use tokio_postgres::config::{ChannelBinding, SslMode};
        for text in [
            "host=h password=pw",
            "postgres://u:pw@h/db",
            "postgres://u:pw@h/db?sslmode=prefer",
            "host=h password=pw sslmode=require",
            "host=h password=pw sslmode=verify-ca",
            "host=h hostaddr=127.0.0.1 password=pw sslmode=verify-full",
            "host=h password=pw sslmode=disable sslmode=verify-full",
        ] {
            let info = parse(text).unwrap();
            assert_eq!(info.config.get_ssl_mode(), SslMode::Require, "{text}");
            assert!(matches!(info.tls, Tls::Verified { .. }), "{text}");
            assert_eq!(
                info.config.get_channel_binding(),
                ChannelBinding::Require,
                "{text}"
            );
        }
        // No password (e.g. trust or peer on the server): no binding to
        // require; an explicit channel_binding is honoured.
        let info = parse("host=h").unwrap();
        assert_eq!(info.config.get_channel_binding(), ChannelBinding::Prefer);
        let info = parse("postgres://u:pw@h/db?channel_binding=prefer").unwrap();
        assert_eq!(info.config.get_channel_binding(), ChannelBinding::Prefer);
        assert_eq!(info.config.get_ssl_mode(), SslMode::Require);
        // Plain only where the string says so, and over Unix sockets.
        for text in [
            "host=h password=pw sslmode=disable",
            "postgres://u:pw@h/db?sslmode=disable",
            "host=/run/postgresql password=pw",
            "host=/run/postgresql password=pw sslmode=verify-full",
            "postgres://u:pw@%2Frun%2Fpostgresql/db",
            "host=/a,h sslmode=disable",
        ] {
            let info = parse(text).unwrap();
            assert_eq!(info.config.get_ssl_mode(), SslMode::Disable, "{text}");
            assert_eq!(info.tls, Tls::Off, "{text}");
            assert_eq!(
                info.config.get_channel_binding(),
                ChannelBinding::Prefer,
                "{text}"
            );
        }
    }

    #[test]
    fn url_passwords_with_delimiters_parse_as_tokio_postgres_reads_them() {
        let info = parse("postgres://u:p/a?s#s:w@h:6432/db?sslmode=disable").unwrap();
        assert_eq!(info.config.get_password(), Some(&b"p/a?s#s:w"[..]));
        assert_eq!(info.config.get_ports(), &[6432]);
        assert_eq!(info.config.get_dbname(), Some("db"));
        assert_eq!(info.tls, Tls::Off);
    }

    #[test]
    fn bad_strings_are_refused_without_echoing_values() {
        for bad in [
            "host=h sslmode=allow",
            "host=/run/postgresql,h",
            "host=/run/postgresql hostaddr=127.0.0.1",
            "postgres://u:se@cret@h/db",
            "postgres://u:secret@h/db?application_name=a@b",
            "postgres://h/db?application_name=secret@b",
            "host=h sslmode=verify",
            "host=h sslcert=/c.pem",
            "host=h sslmode=disable sslrootcert=/ca.pem",
            "host=h sslrootcert=''",
            "host=h password='secret",
            "host=h password",
            "host=h password=hunter2 secret user=u",
            "host=h password=hunter2 secret=u",
            "host=h password=hunter2 secret='u",
            "host=h user= password=secret",
            "host=h user=  password='secret'",
            r"host=h user=u\ password=secret",
            "host=h user='u password=secret'",
            "dbname=x",
            "postgres://h/db?password=%zzsecret",
            "host=h port=notaport",
            "host=h colour=blue",
        ] {
            let error = parse(bad).unwrap_err();
            assert!(!error.contains("secret"), "{bad}: {error}");
            assert!(!error.is_empty());
        }
    }
}
