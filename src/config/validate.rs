//! The checks a parsed file must pass: one store, absolute paths, no
//! inline password, and the engine's own checks of its settings. Each
//! problem names the TOML key it is about, for its line and column.

use std::path::{Path, PathBuf};

use super::file::Config;
use crate::engine::{DeliveredCodePolicy, DevicePolicy, Engine, EngineConfig, LockoutPolicy};
use crate::error::Error;
use crate::otp::{Digits, TotpConfig};
use crate::store::MemoryStore;

/// A problem: the key path it is about, and the message.
pub(super) type Problem = (&'static [&'static str], String);

/// The checks of the store, file and later-component sections.
pub(super) fn sections(config: &Config) -> Result<(), Problem> {
    let store = config.store();
    match (&store.sqlite_path, &store.postgres_connection) {
        (None, None) => {
            return Err((
                &["store"],
                "no store: set store.sqlite_path or store.postgres_connection".into(),
            ));
        }
        (Some(_), Some(_)) => {
            return Err((
                &["store", "postgres_connection"],
                "store.sqlite_path and store.postgres_connection are both set: keep one".into(),
            ));
        }
        (Some(path), None) => sqlite_store(path)?,
        (None, Some(connection)) => postgres_store(connection)?,
    }
    let postgres = &store.postgres;
    if postgres.max_connections == 0 {
        return Err((
            &["store", "postgres", "max_connections"],
            "store.postgres.max_connections must be above 0".into(),
        ));
    }
    if postgres.timeout_seconds == 0 {
        return Err((
            &["store", "postgres", "timeout_seconds"],
            "store.postgres.timeout_seconds must be above 0".into(),
        ));
    }
    let paths: [(&'static [&'static str], &Option<PathBuf>); 7] = [
        (
            &["store", "postgres", "password_file"],
            &postgres.password_file,
        ),
        (&["encryption", "key_file"], &config.encryption().key_file),
        (
            &["devices", "device_key_file"],
            &config.devices().device_key_file,
        ),
        (
            &["server", "api_token_file"],
            &config.server().api_token_file,
        ),
        (
            &["notifications", "sms_gateway_token_file"],
            &config.notifications().sms_gateway_token_file,
        ),
        (&["nginx", "secret_file"], &config.nginx().secret_file),
        (
            &["nginx", "master_password_file"],
            &config.nginx().master_password_file,
        ),
    ];
    for (key, path) in paths {
        if let Some(path) = path {
            absolute(key, path)?;
        }
    }
    for address in &config.server().listen {
        if address.parse::<std::net::SocketAddr>().is_err() {
            return Err((
                &["server", "listen"],
                "server.listen: each address is IP:PORT (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")"
                    .into(),
            ));
        }
    }
    server_and_password_check(config)?;
    nginx(config)?;
    let notifications = config.notifications();
    if let Some(relay) = &notifications.smtp_relay {
        let valid = relay.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && !host.contains(char::is_whitespace) && port.parse::<u16>().is_ok()
        });
        if !valid {
            return Err((
                &["notifications", "smtp_relay"],
                "notifications.smtp_relay must be HOST:PORT".into(),
            ));
        }
    }
    if let Some(from) = &notifications.from {
        if !from.contains('@') || from.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err((
                &["notifications", "from"],
                "notifications.from must be a mail address".into(),
            ));
        }
    }
    if let Some(url) = &notifications.sms_gateway_url {
        let valid = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > "https://".len()
            && !url.contains(|c: char| c.is_whitespace() || c.is_control());
        if !valid {
            return Err((
                &["notifications", "sms_gateway_url"],
                "notifications.sms_gateway_url must be an http:// or https:// URL".into(),
            ));
        }
    }
    if notifications.timeout_seconds == 0 {
        return Err((
            &["notifications", "timeout_seconds"],
            "notifications.timeout_seconds must be above 0".into(),
        ));
    }
    Ok(())
}

/// `[server]`'s portal settings and `[password_check]`.
fn server_and_password_check(config: &Config) -> Result<(), Problem> {
    let server = config.server();
    if !(60..=86_400).contains(&server.session_seconds) {
        return Err((
            &["server", "session_seconds"],
            "server.session_seconds must be 60 to 86400".into(),
        ));
    }
    for admin in &server.admins {
        let platform = admin.rsplit_once('@').map_or("", |(_, domain)| domain);
        if crate::engine::AccountId::new(platform, admin).is_err() {
            return Err((
                &["server", "admins"],
                "server.admins: each is a mailbox address in mail2fa's alphabet \
                 (lower-case, e.g. \"postmaster@example.com\")"
                    .into(),
            ));
        }
    }
    for proxy in &server.trusted_proxies {
        if crate::config::parse_network(proxy).is_none() {
            return Err((
                &["server", "trusted_proxies"],
                "server.trusted_proxies: each is an IP address or a network \
                 (e.g. \"127.0.0.1\", \"10.0.0.0/8\", \"::1\")"
                    .into(),
            ));
        }
    }
    let check = config.password_check();
    absolute(&["password_check", "dovecot_socket"], &check.dovecot_socket)?;
    let service_ok = !check.pam_service.is_empty()
        && check.pam_service.len() <= 64
        && check
            .pam_service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !service_ok {
        return Err((
            &["password_check", "pam_service"],
            "password_check.pam_service must be a PAM service name (letters, digits, -, _, .)"
                .into(),
        ));
    }
    if check.timeout_seconds == 0 {
        return Err((
            &["password_check", "timeout_seconds"],
            "password_check.timeout_seconds must be above 0".into(),
        ));
    }
    Ok(())
}

/// `[nginx]`: backends are socket addresses (nginx takes no host name
/// from its auth server), an IMAP or POP3 backend needs the master user,
/// the realm fits in a quoted header value.
fn nginx(config: &Config) -> Result<(), Problem> {
    let nginx = config.nginx();
    let backends: [(&'static [&'static str], &Option<String>); 3] = [
        (&["nginx", "imap_backend"], &nginx.imap_backend),
        (&["nginx", "pop3_backend"], &nginx.pop3_backend),
        (&["nginx", "smtp_backend"], &nginx.smtp_backend),
    ];
    for (key, backend) in backends {
        if let Some(backend) = backend {
            if backend.parse::<std::net::SocketAddr>().is_err() {
                return Err((
                    key,
                    format!(
                        "{} must be IP:PORT (nginx takes an address, not a host name)",
                        key.join(".")
                    ),
                ));
            }
        }
    }
    let master_needed = nginx.imap_backend.is_some() || nginx.pop3_backend.is_some();
    match &nginx.master_user {
        Some(user) => {
            let valid = !user.is_empty()
                && user.len() <= 64
                && user
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                return Err((
                    &["nginx", "master_user"],
                    "nginx.master_user must be a user name (letters, digits, -, _, .)".into(),
                ));
            }
            if nginx.master_password_file.is_none() {
                return Err((
                    &["nginx", "master_user"],
                    "nginx.master_user needs nginx.master_password_file".into(),
                ));
            }
        }
        None if master_needed => {
            return Err((
                &["nginx", "master_user"],
                "an IMAP or POP3 backend needs nginx.master_user (and master_password_file): \
                 the backend is logged in to as the master user, never with the client's \
                 spent code"
                    .into(),
            ));
        }
        None => {}
    }
    let realm_ok = !nginx.realm.is_empty()
        && nginx.realm.len() <= 64
        && nginx
            .realm
            .chars()
            .all(|c| (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ');
    if !realm_ok {
        return Err((
            &["nginx", "realm"],
            "nginx.realm must be 1 to 64 printable ASCII characters without quotes or backslashes"
                .into(),
        ));
    }
    if nginx.wait_seconds > 60 {
        return Err((
            &["nginx", "wait_seconds"],
            "nginx.wait_seconds must be 0 to 60".into(),
        ));
    }
    Ok(())
}

fn absolute(key: &'static [&'static str], path: &Path) -> Result<(), Problem> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err((
            key,
            format!(
                "{} must be an absolute path (the processes that read this file run in any directory)",
                key.join(".")
            ),
        ))
    }
}

#[cfg(feature = "sqlite")]
fn sqlite_store(path: &Path) -> Result<(), Problem> {
    absolute(&["store", "sqlite_path"], path)
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_store(_path: &Path) -> Result<(), Problem> {
    Err((
        &["store", "sqlite_path"],
        "this build of mail2fa has no SQLite store (feature `sqlite`)".into(),
    ))
}

#[cfg(feature = "postgres")]
fn postgres_store(connection: &str) -> Result<(), Problem> {
    use crate::store::{PostgresStore, redact_connection_string};
    const KEY: &[&str] = &["store", "postgres_connection"];
    // Checked before the password question: a string that does not parse
    // cannot be told to hold one. Neither message repeats the string.
    PostgresStore::plan(connection)
        .map_err(|error| (KEY, format!("{}: {error}", KEY.join("."))))?;
    if holds_password(connection, &redact_connection_string(connection)) {
        return Err((
            KEY,
            "store.postgres_connection holds a password: remove it, and name a file holding \
             it (mode 0600) in store.postgres.password_file"
                .into(),
        ));
    }
    Ok(())
}

/// As above, through the C library's PostgreSQL plugin (the same checks,
/// made by the plugin's `PostgresStore`): a missing or refused plugin is
/// the problem, with the paths looked at and the package to install.
#[cfg(all(feature = "postgres-plugin", not(feature = "postgres")))]
fn postgres_store(connection: &str) -> Result<(), Problem> {
    const KEY: &[&str] = &["store", "postgres_connection"];
    let redacted = crate::ffi::plugin::plan_and_redact(connection)
        .map_err(|error| (KEY, format!("{}: {error}", KEY.join("."))))?;
    if holds_password(connection, &redacted) {
        return Err((
            KEY,
            "store.postgres_connection holds a password: remove it, and name a file holding \
             it (mode 0600) in store.postgres.password_file"
                .into(),
        ));
    }
    Ok(())
}

/// Whether the store's redaction hid a password in `connection`. A URL is
/// redacted in place (any change is a password hidden); a `key=value` list
/// is written anew (quotes and spaces may change), so there the redacted
/// list is searched for a `password` setting.
#[cfg(any(feature = "postgres", feature = "postgres-plugin"))]
fn holds_password(connection: &str, redacted: &str) -> bool {
    if connection.starts_with("postgres://") || connection.starts_with("postgresql://") {
        return redacted != connection;
    }
    redacted.split(' ').any(|pair| {
        pair.split_once('=')
            .is_some_and(|(key, _)| key.trim().eq_ignore_ascii_case("password"))
    })
}

#[cfg(not(any(feature = "postgres", feature = "postgres-plugin")))]
fn postgres_store(_connection: &str) -> Result<(), Problem> {
    Err((
        &["store", "postgres_connection"],
        "this build of mail2fa has no PostgreSQL store (feature `postgres`)".into(),
    ))
}

/// The engine configuration of the policy sections (no secrets), checked
/// by the engine itself on an empty memory store.
pub(super) fn policies(config: &Config) -> Result<EngineConfig, Problem> {
    let totp = config.totp();
    let digits = Digits::new(totp.digits).map_err(|e| engine_problem(&["totp", "digits"], &e))?;
    let totp_config = TotpConfig::default()
        .with_algorithm(totp.algorithm.algorithm())
        .with_digits(digits)
        .with_period(totp.period_seconds)
        .map_err(|e| engine_problem(&["totp", "period_seconds"], &e))?
        .with_window(totp.window)
        .map_err(|e| engine_problem(&["totp", "window"], &e))?;
    let engine = config.engine();
    let lockout = config.lockout();
    let codes = config.delivered_codes();
    let devices = config.devices();
    let built = EngineConfig::default()
        .with_totp(totp_config)
        .with_diagnostic_window(totp.diagnostic_window)
        .with_issuer(engine.issuer.clone())
        .with_enrollment_ttl(engine.enrollment_ttl_seconds)
        .with_max_suspension(engine.max_suspension_seconds)
        .with_mandatory_platforms(engine.mandatory_platforms.iter().cloned())
        .with_portal_link(engine.portal_link.clone())
        .with_require_sealed(config.encryption().require_sealed)
        .with_lockout(
            LockoutPolicy::default()
                .with_max_failures(lockout.max_failures)
                .with_first_lock(lockout.first_lock_seconds)
                .with_max_lock(lockout.max_lock_seconds),
        )
        .with_delivered_codes(
            DeliveredCodePolicy::default()
                .with_digits(codes.digits)
                .with_lifetime(codes.lifetime_seconds)
                .with_max_wrong(codes.max_wrong)
                .with_resend_interval(codes.resend_interval_seconds),
        )
        .with_devices(
            DevicePolicy::default()
                .with_max_pending(devices.max_pending)
                .with_pending_ttl(devices.pending_ttl_seconds)
                .with_notify_interval(devices.notify_interval_seconds)
                .with_seen_interval(devices.seen_interval_seconds)
                .with_binding_period(devices.binding_period_seconds)
                .with_reset_revokes_clients(devices.reset_revokes_clients),
        );
    // The engine's own check, so that the file and `Engine::new` can never
    // disagree on what is valid.
    Engine::new(MemoryStore::new(), built.clone())
        .map_err(|error| engine_problem(key_of(&error), &error))?;
    Ok(built)
}

fn engine_problem(key: &'static [&'static str], error: &Error) -> Problem {
    if key.is_empty() {
        (key, error.to_string())
    } else {
        (key, format!("{}: {error}", key.join(".")))
    }
}

/// The TOML key an engine refusal is about (its message names the
/// engine's field).
fn key_of(error: &Error) -> &'static [&'static str] {
    let message = match error {
        Error::InvalidConfig(message) => *message,
        Error::InvalidName { what, .. } => what,
        _ => return &[],
    };
    const KEYS: &[(&str, &[&str])] = &[
        ("lockout.max_failures", &["lockout", "max_failures"]),
        ("lockout.first_lock", &["lockout", "first_lock_seconds"]),
        ("lockout.max_lock", &["lockout", "max_lock_seconds"]),
        ("max_suspension", &["engine", "max_suspension_seconds"]),
        ("enrollment_ttl", &["engine", "enrollment_ttl_seconds"]),
        ("diagnostic_window", &["totp", "diagnostic_window"]),
        ("issuer", &["engine", "issuer"]),
        ("delivered_codes", &["delivered_codes"]),
        ("devices", &["devices"]),
        ("portal_link", &["engine", "portal_link"]),
        ("mandatory_platforms", &["engine", "mandatory_platforms"]),
        ("platform name", &["engine", "mandatory_platforms"]),
    ];
    KEYS.iter()
        .find(|(prefix, _)| message.starts_with(prefix))
        .map_or(&[], |(_, key)| key)
}
