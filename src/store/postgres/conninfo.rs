//! Connection strings, in either of libpq's forms (`postgres://…` URLs and
//! `key=value` lists). tokio-postgres reads most of libpq's settings; the
//! TLS ones it does not know (`sslrootcert`, `sslmode=verify-ca` and
//! `verify-full`) are taken out here and applied by our TLS set-up, so that
//! operators write the strings they already use for libpq.

use std::path::PathBuf;
use std::str::FromStr;

/// How a connection uses TLS. When mail2fa uses TLS it always verifies the
/// server's certificate and name (libpq's `verify-full`), even under
/// `sslmode=prefer`: an encrypted connection to anybody is not worth having.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tls {
    /// `sslmode=disable`: plain TCP or a Unix socket.
    Off,
    /// TLS when the server offers it (`prefer`, libpq's default) or always
    /// (`require`, `verify-ca`, `verify-full`), verified against `roots`
    /// (`sslrootcert`), else against the system's trusted certificates.
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
    let mut pairs = if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Pairs::Url(split_url(text)?)
    } else {
        Pairs::KeyValue(split_key_values(text)?)
    };
    let mut tls = Tls::Verified { roots: None };
    let mut roots = None;
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
            "sslmode" => match value.as_str() {
                "disable" => tls = Tls::Off,
                "prefer" | "require" => {}
                "verify-ca" | "verify-full" => {
                    rewritten.push((key, "require".to_owned()));
                    continue;
                }
                _ => {
                    return Err(
                        "sslmode must be disable, prefer, require, verify-ca or verify-full".into(),
                    );
                }
            },
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" | "sslcrldir" => {
                return Err(format!(
                    "{key} is not supported (client certificates): use a password or a Unix socket"
                ));
            }
            _ => {}
        }
        rewritten.push((key, value));
    }
    if let Tls::Verified { roots: slot } = &mut tls {
        *slot = roots;
    } else if roots.is_some() {
        return Err("sslrootcert given with sslmode=disable".into());
    }
    pairs.replace(rewritten);
    let config = tokio_postgres::Config::from_str(&pairs.render())
        .map_err(|e| format!("invalid connection string: {e}"))?;
    if config.get_hosts().is_empty() {
        return Err("the connection string names no host (host=… or postgres://HOST/…)".into());
    }
    Ok(ConnInfo { config, tls })
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

fn split_url(text: &str) -> Result<Url, String> {
    let (base, query) = text.split_once('?').unwrap_or((text, ""));
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

fn percent_decode(text: &str) -> Result<String, String> {
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
fn split_key_values(text: &str) -> Result<Vec<(String, String)>, String> {
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
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(format!("the value of `{key}` has no closing quote")),
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

    #[test]
    fn bad_strings_are_refused_without_echoing_values() {
        for bad in [
            "host=h sslmode=allow",
            "host=h sslmode=verify",
            "host=h sslcert=/c.pem",
            "host=h sslmode=disable sslrootcert=/ca.pem",
            "host=h sslrootcert=''",
            "host=h password='secret",
            "host=h password",
            "host=h password=hunter2 secret user=u",
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
