//! The configuration file: the example shipped in the repository, the
//! errors (with line and column), the permission checks, and an engine
//! opened from a file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod config_schema;
mod support;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use mail2fa::config::{
    Config, ConfigError, DeliveredCodesSection, DevicesSection, EncryptionSection, EngineSection,
    LockoutSection, NginxSection, NotificationsSection, PasswordCheckSection, PasswordMethod,
    PostgresSection, ServerSection, SqliteSection, TotpSection,
};
use mail2fa::engine::{AccountId, EngineConfig};
use support::{TempDir, enroll};

const EXAMPLE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/integrations/mail2fa.toml");

fn example() -> String {
    std::fs::read_to_string(EXAMPLE_PATH).unwrap()
}

/// The example with one line replaced (which must exist once).
fn damaged(from: &str, to: &str) -> String {
    let text = example();
    assert_eq!(text.matches(from).count(), 1, "{from}");
    text.replacen(from, to, 1)
}

/// The 1-based line number of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn invalid(text: &str) -> (usize, usize, String) {
    match Config::parse(text, "mail2fa.toml") {
        Err(ConfigError::Invalid { location, message }) => {
            assert_eq!(location.origin, "mail2fa.toml");
            (location.line, location.column, message)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_example_parses_to_the_defaults() {
    let config = Config::parse(&example(), EXAMPLE_PATH).unwrap();
    assert_eq!(config.policies(), &EngineConfig::default());
    assert_eq!(
        config.store().sqlite_path.as_deref(),
        Some(Path::new("/var/lib/mail2fa/mail2fa.db"))
    );
    assert_eq!(config.store().postgres_connection, None);
    assert!(!config.store().create);
    assert_eq!(config.store().sqlite, SqliteSection::default());
    assert_eq!(config.store().postgres, PostgresSection::default());
    assert_eq!(config.encryption(), &EncryptionSection::default());
    assert_eq!(config.engine(), &EngineSection::default());
    assert_eq!(config.totp(), &TotpSection::default());
    assert_eq!(config.lockout(), &LockoutSection::default());
    assert_eq!(config.delivered_codes(), &DeliveredCodesSection::default());
    assert_eq!(config.devices(), &DevicesSection::default());
    assert_eq!(config.server(), &ServerSection::default());
    assert_eq!(config.notifications(), &NotificationsSection::default());
    assert_eq!(config.nginx(), &NginxSection::default());
    // The sections' defaults are the stores' own.
    let sqlite = mail2fa::store::SqliteOptions::default();
    assert_eq!(
        config.store().sqlite.busy_timeout_seconds,
        sqlite.busy_timeout.as_secs()
    );
    assert_eq!(sqlite.max_size, None);
}

/// The example with its optional keys (`#key = value` lines) switched on.
fn example_with_every_key() -> String {
    example()
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest)
                if rest.starts_with(|c: char| c.is_ascii_lowercase()) && rest.contains(" = ") =>
            {
                rest
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn leaf_keys(table: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => leaf_keys(inner, &path, out),
            _ => {
                out.insert(path);
            }
        }
    }
}

#[test]
fn every_key_of_the_schema_is_in_the_example_and_no_other() {
    let every_key: toml::Table = toml::from_str(&example_with_every_key()).unwrap();
    let mut in_example = BTreeSet::new();
    leaf_keys(&every_key, "", &mut in_example);
    let schema = config_schema::keys::<Config>();
    assert!(schema.len() > 30, "{schema:?}");
    assert_eq!(in_example, schema);
    // With the optional keys on (and one store), it still parses.
    let text = example_with_every_key().replacen(
        "postgres_connection = \"host=/run/postgresql dbname=mail2fa user=mail2fa\"",
        "",
        1,
    );
    let config = Config::parse(&text, "every.toml").unwrap();
    assert_eq!(config.policies().issuer.as_deref(), Some("Example Mail"));
    assert_eq!(
        config.server().api_token_file.as_deref(),
        Some(Path::new("/etc/mail2fa/api-tokens"))
    );
}

#[test]
fn an_unknown_key_is_refused_at_its_line() {
    let text = damaged("max_failures = 5", "max_failure = 5");
    let (line, column, message) = invalid(&text);
    assert_eq!((line, column), (line_of(&text, "max_failure ="), 1));
    assert!(message.contains("unknown field `max_failure`"), "{message}");
    // In a section of its own too.
    let text = damaged("[server]", "[servers]");
    let (line, column, _) = invalid(&text);
    assert_eq!((line, column), (line_of(&text, "[servers]"), 2));
}

#[test]
fn a_value_the_engine_refuses_is_refused_at_the_value() {
    let text = damaged("max_failures = 5", "max_failures = 0");
    let (line, column, message) = invalid(&text);
    assert_eq!((line, column), (line_of(&text, "max_failures = 0"), 16));
    assert!(message.starts_with("lockout.max_failures: "), "{message}");

    let text = damaged("period_seconds = 30", "period_seconds = 301");
    let (line, column, message) = invalid(&text);
    assert_eq!((line, column), (line_of(&text, "period_seconds = 301"), 18));
    assert!(message.starts_with("totp.period_seconds: "), "{message}");

    let text = damaged(
        "mandatory_platforms = []",
        "mandatory_platforms = [\"not a name\"]",
    );
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "mandatory_platforms = ["));
    assert!(
        message.starts_with("engine.mandatory_platforms: "),
        "{message}"
    );

    let text = damaged(
        "seen_interval_seconds = 300",
        "seen_interval_seconds = 2592000",
    );
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "[devices]"));
    assert!(message.starts_with("devices: "), "{message}");
}

#[test]
fn the_web_service_settings_are_checked_at_their_line() {
    for (from, to, key) in [
        (
            "session_seconds = 1800",
            "session_seconds = 10",
            "server.session_seconds",
        ),
        (
            "admins = []",
            "admins = [\"Postmaster@Example.com\"]",
            "server.admins",
        ),
        (
            "trusted_proxies = []",
            "trusted_proxies = [\"10.0.0.0/33\"]",
            "server.trusted_proxies",
        ),
        (
            "dovecot_socket = \"/run/dovecot/auth-client\"",
            "dovecot_socket = \"auth-client\"",
            "password_check.dovecot_socket",
        ),
        (
            "pam_service = \"mail2fa-portal\"",
            "pam_service = \"../etc/passwd\"",
            "password_check.pam_service",
        ),
        (
            "#sms_gateway_url = \"https://sms.example.net/send\"",
            "sms_gateway_url = \"ftp://sms.example.net/\"",
            "notifications.sms_gateway_url",
        ),
        (
            "#imap_backend = \"127.0.0.1:10143\"",
            "imap_backend = \"mail.example.com:143\"",
            "nginx.imap_backend",
        ),
        (
            "realm = \"Mail\"",
            "realm = \"Mail\\\" injected=\\\"x\"",
            "nginx.realm",
        ),
        (
            "wait_seconds = 3",
            "wait_seconds = 600",
            "nginx.wait_seconds",
        ),
    ] {
        let text = damaged(from, to);
        let (line, _, message) = invalid(&text);
        assert_eq!(line, line_of(&text, to), "{to}: {message}");
        assert!(message.starts_with(key), "{to}: {message}");
    }
    // A backend the proxy logs in to needs the master user.
    let text = damaged(
        "#imap_backend = \"127.0.0.1:10143\"",
        "imap_backend = \"127.0.0.1:10143\"",
    );
    let (_, _, message) = invalid(&text);
    assert!(
        message.starts_with("an IMAP or POP3 backend needs nginx.master_user"),
        "{message}"
    );
    let text = damaged("method = \"dovecot\"", "method = \"ldap\"");
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "method = \"ldap\""));
    assert!(message.contains("`dovecot` or `pam`"), "{message}");
    // The example's values: the sections' defaults.
    let config = Config::parse(&example(), "mail2fa.toml").unwrap();
    assert_eq!(config.password_check(), &PasswordCheckSection::default());
    assert_eq!(config.password_check().method, PasswordMethod::Dovecot);
    assert_eq!(config.server().session_seconds, 1800);
    // Networks: what a proxy's address is checked against.
    use mail2fa::config::{in_network, parse_network};
    let loopback = parse_network("127.0.0.0/8").unwrap();
    assert!(in_network("127.0.0.5".parse().unwrap(), loopback));
    assert!(in_network("::ffff:127.0.0.5".parse().unwrap(), loopback));
    assert!(!in_network("128.0.0.1".parse().unwrap(), loopback));
    assert!(!in_network("::1".parse().unwrap(), loopback));
    let six = parse_network("2001:db8::/32").unwrap();
    assert!(in_network("2001:db8:1::7".parse().unwrap(), six));
    assert!(!in_network("2001:db9::7".parse().unwrap(), six));
    let any = parse_network("0.0.0.0/0").unwrap();
    assert!(in_network("203.0.113.9".parse().unwrap(), any));
    for bad in [
        "10.0.0.0/",
        "10.0.0.0/x",
        "10.0.0/8",
        "",
        "::1/129",
        "10.0.0.0/+8",
    ] {
        assert_eq!(parse_network(bad), None, "{bad}");
    }
}

#[test]
fn a_value_of_the_wrong_type_is_refused_at_the_value() {
    let text = damaged("\nwindow = 1\n", "\nwindow = \"one\"\n");
    let (line, column, message) = invalid(&text);
    assert_eq!((line, column), (line_of(&text, "window = \"one\""), 10));
    assert!(message.contains("invalid type"), "{message}");

    let text = damaged("synchronous = \"full\"", "synchronous = \"sometimes\"");
    let (line, column, message) = invalid(&text);
    assert_eq!((line, column), (line_of(&text, "synchronous ="), 15));
    assert!(message.contains("unknown variant"), "{message}");
}

#[test]
fn text_that_is_not_toml_is_refused_where_it_breaks() {
    let text = damaged("[lockout]", "[lockout");
    let (line, column, _) = invalid(&text);
    assert_eq!(line, line_of(&text, "[lockout"));
    assert_eq!(column, 9);
}

#[test]
fn a_store_is_required_and_only_one() {
    let text = damaged("sqlite_path = \"/var/lib/mail2fa/mail2fa.db\"", "");
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "[store]"));
    assert!(message.starts_with("no store"), "{message}");

    let text = damaged(
        "#postgres_connection = \"host=",
        "postgres_connection = \"host=",
    );
    let (line, _, message) = invalid(&text);
    assert_eq!(line, line_of(&text, "postgres_connection = "));
    assert!(message.contains("both set"), "{message}");

    let text = damaged(
        "sqlite_path = \"/var/lib/mail2fa/mail2fa.db\"",
        "sqlite_path = \"mail2fa.db\"",
    );
    let (_, _, message) = invalid(&text);
    assert!(message.contains("absolute path"), "{message}");
}

#[cfg(feature = "postgres")]
#[test]
fn a_password_in_the_connection_string_is_refused_unquoted() {
    for connection in [
        "postgres://mail2fa:s3cret-value@db.example/mail2fa",
        "host=db.example user=mail2fa password=s3cret-value",
        "postgres://mail2fa@db.example/mail2fa?password=s3cret-value",
    ] {
        let text = damaged(
            "sqlite_path = \"/var/lib/mail2fa/mail2fa.db\"",
            &format!("postgres_connection = \"{connection}\""),
        );
        let (line, column, message) = invalid(&text);
        assert_eq!(
            (line, column),
            (line_of(&text, "postgres_connection = \""), 23)
        );
        assert!(message.contains("password_file"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
    // Without a password, written as operators write them (quotes, spaces).
    for connection in [
        "host=db.example user=mail2fa",
        "host=db.example  user = 'mail2fa' application_name='mail 2fa'",
        "postgres://mail2fa@db.example/mail2fa?sslmode=verify-full",
    ] {
        let text = damaged(
            "sqlite_path = \"/var/lib/mail2fa/mail2fa.db\"",
            &format!("postgres_connection = \"{connection}\""),
        );
        let config = Config::parse(&text, "pg.toml").unwrap();
        assert_eq!(
            config.store().postgres_connection.as_deref(),
            Some(connection)
        );
    }
}

#[cfg(feature = "postgres")]
#[test]
fn a_password_file_others_may_read_is_refused_before_connecting() {
    let dir = TempDir::new("password-mode");
    let password = dir.path("db-password");
    write(&password, "s3cret-value\n", 0o644);
    let text = damaged(
        "sqlite_path = \"/var/lib/mail2fa/mail2fa.db\"",
        "postgres_connection = \"host=db.invalid user=mail2fa\"",
    )
    .replacen(
        "#password_file = \"/etc/mail2fa/db-password\"",
        &format!("password_file = \"{}\"", password.display()),
        1,
    );
    let config = Config::parse(&text, "pg.toml").unwrap();
    let (what, at, problem) = file_error(config.open_store().map(|_| ()));
    assert_eq!(what, "password file (store.postgres.password_file)");
    assert_eq!(at, password);
    assert!(
        problem.contains(&format!("`chmod 600 {}`", password.display())),
        "{problem}"
    );
    assert!(!problem.contains("s3cret"), "{problem}");
    // Private, it is read; the unknown host is what fails then.
    std::fs::set_permissions(&password, std::fs::Permissions::from_mode(0o600)).unwrap();
    let error = config.open_store().map(|_| ()).unwrap_err();
    assert!(matches!(error, ConfigError::Store { .. }), "{error}");
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The example pointed at files in `dir`.
fn site_config(dir: &TempDir, extra: &[(&str, String)]) -> String {
    let mut text = damaged(
        "sqlite_path = \"/var/lib/mail2fa/mail2fa.db\"",
        &format!("sqlite_path = \"{}\"", dir.path("mail2fa.db").display()),
    );
    for (from, to) in extra {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        text = text.replacen(from, to, 1);
    }
    text
}

fn file_error(result: Result<impl std::fmt::Debug, ConfigError>) -> (String, PathBuf, String) {
    match result {
        Err(ConfigError::File {
            what,
            path,
            problem,
        }) => (what.to_owned(), path, problem),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_configuration_file_others_may_write_is_refused() {
    let dir = TempDir::new("config-mode");
    let path = dir.path("mail2fa.toml");
    write(&path, &site_config(&dir, &[]), 0o666);
    let (what, at, problem) = file_error(Config::from_file(&path));
    assert_eq!(
        (what.as_str(), at.as_path()),
        ("configuration file", path.as_path())
    );
    assert!(
        problem.contains(&format!("`chmod go-w {}`", path.display())),
        "{problem}"
    );
    // Readable by all is fine: it holds no secret.
    write(&path, &site_config(&dir, &[]), 0o644);
    Config::from_file(&path).unwrap();
}

#[test]
fn secret_files_others_may_read_are_refused() {
    let dir = TempDir::new("secret-mode");
    let key = dir.path("device-key");
    write(&key, &format!("{}\n", "ab".repeat(32)), 0o640);
    let text = site_config(
        &dir,
        &[(
            "#device_key_file = \"/etc/mail2fa/device-key\"",
            format!("device_key_file = \"{}\"", key.display()),
        )],
    );
    let config = Config::parse(&text, "secret.toml").unwrap();
    let (what, at, problem) = file_error(config.engine_config());
    assert_eq!(what, "device key file (devices.device_key_file)");
    assert_eq!(at, key);
    assert!(
        problem.contains(&format!("`chmod 600 {}`", key.display())),
        "{problem}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let engine_config = config.engine_config().unwrap();
    assert!(engine_config.device_key.is_some());

    let keys = dir.path("keys");
    write(&keys, &format!("1:{}\n", "11".repeat(32)), 0o644);
    let text = site_config(
        &dir,
        &[(
            "#key_file = \"/etc/mail2fa/keys\"",
            format!("key_file = \"{}\"", keys.display()),
        )],
    );
    let config = Config::parse(&text, "keys.toml").unwrap();
    let (what, at, problem) = file_error(config.engine_config());
    assert_eq!(what, "key file (encryption.key_file)");
    assert_eq!(at, keys);
    assert!(problem.contains("chmod 600"), "{problem}");
}

#[test]
fn files_of_another_user_are_refused() {
    if rustix::process::geteuid().as_raw() != 0 {
        eprintln!("SKIPPED: the owner check needs root (to give a file to another user)");
        return;
    }
    let dir = TempDir::new("config-owner");
    let path = dir.path("mail2fa.toml");
    write(&path, &site_config(&dir, &[]), 0o644);
    std::os::unix::fs::chown(&path, Some(54321), None).unwrap();
    let (_, _, problem) = file_error(Config::from_file(&path));
    assert!(problem.contains("belongs to user id 54321"), "{problem}");
    assert!(
        problem.contains(&format!("`chown 0 {}`", path.display())),
        "{problem}"
    );

    let key = dir.path("device-key");
    write(&key, &format!("{}\n", "ab".repeat(32)), 0o600);
    std::os::unix::fs::chown(&key, Some(54321), None).unwrap();
    let text = site_config(
        &dir,
        &[(
            "#device_key_file = \"/etc/mail2fa/device-key\"",
            format!("device_key_file = \"{}\"", key.display()),
        )],
    );
    let (_, _, problem) = file_error(Config::parse(&text, "owner.toml").unwrap().engine_config());
    assert!(problem.contains("belongs to user id 54321"), "{problem}");
}

#[test]
fn the_engine_opened_from_a_file_uses_its_store_keys_and_policies() {
    let dir = TempDir::new("config-engine");
    let keys = dir.path("keys");
    write(&keys, &format!("7:{}\n", "77".repeat(32)), 0o600);
    let key_line = format!("key_file = \"{}\"", keys.display());
    let mut extra = vec![
        ("#key_file = \"/etc/mail2fa/keys\"", key_line),
        (
            "digits = 6\n# Seconds per code",
            "digits = 8\n# Seconds per code".to_owned(),
        ),
        ("max_failures = 5", "max_failures = 2".to_owned()),
    ];
    let path = dir.path("mail2fa.toml");
    write(&path, &site_config(&dir, &extra), 0o600);
    let config = Config::from_file(&path).unwrap();

    // No database yet, and creation not allowed: refused, nothing made.
    assert!(matches!(
        config.open_engine(),
        Err(ConfigError::Store { .. })
    ));
    assert!(matches!(config.check(), Err(ConfigError::Store { .. })));
    assert!(!dir.path("mail2fa.db").exists());

    extra.push(("create = false", "create = true".to_owned()));
    write(&path, &site_config(&dir, &extra), 0o600);
    let config = Config::from_file(&path).unwrap();
    let engine = config.open_engine().unwrap();
    let alice = AccountId::new("example.com", "alice@example.com").unwrap();
    let now = 1_800_000_000;
    engine.enable_platform("example.com", true).unwrap();
    let totp = enroll(&engine, &alice, now);
    assert_eq!(totp.config().digits().get(), 8);
    drop(engine);

    let report = config.check().unwrap();
    assert!(report.is_sound());
    assert_eq!(report.encryption, Some((keys.clone(), 7)));
    assert!(report.records > 0);
    let shown = report.to_string();
    assert!(
        shown.contains(&format!(
            "store: SQLite {}",
            dir.path("mail2fa.db").display()
        )),
        "{shown}"
    );
    assert!(shown.contains("current key id 7"), "{shown}");
    assert!(shown.contains("lockout: after 2 wrong codes"), "{shown}");
    assert!(shown.contains("SHA1, 8 digits"), "{shown}");
    assert!(!shown.contains("77777777"), "{shown}");

    // The records are sealed with the file's key: without it, refused.
    let text = site_config(&dir, &[]);
    let unkeyed = Config::parse(&text, "nokey.toml")
        .unwrap()
        .open_engine()
        .unwrap();
    assert!(unkeyed.login(&alice, Some("00000000"), now + 60).is_err());
}

/// The test database's URL with its password taken out, and the password.
#[cfg(feature = "postgres")]
fn without_password(url: &str) -> (String, String) {
    let start = url.find("://").unwrap() + 3;
    let at = start + url[start..].find('@').unwrap();
    let colon = start + url[start..at].find(':').unwrap();
    let password = percent_decode(&url[colon + 1..at]);
    (format!("{}{}", &url[..colon], &url[at..]), password)
}

#[cfg(feature = "postgres")]
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[cfg(feature = "postgres")]
#[test]
fn a_postgres_store_opens_with_the_password_of_its_file() {
    let Some(schema) = support::PostgresSchema::or_skip() else {
        return;
    };
    let (connection, password) = without_password(&schema.url);
    let dir = TempDir::new("config-postgres");
    let password_file = dir.path("db-password");
    write(&password_file, &format!("{password}\n"), 0o600);
    let text = damaged(
        "sqlite_path = \"/var/lib/mail2fa/mail2fa.db\"",
        &format!("postgres_connection = '{connection}'"),
    )
    .replacen(
        "#password_file = \"/etc/mail2fa/db-password\"",
        &format!("password_file = \"{}\"", password_file.display()),
        1,
    );
    // Without creation allowed, an empty schema is refused.
    let config = Config::parse(&text, "pg.toml").unwrap();
    assert!(matches!(
        config.open_engine(),
        Err(ConfigError::Store { .. })
    ));

    let config = Config::parse(
        &text.replacen("create = false", "create = true", 1),
        "pg.toml",
    )
    .unwrap();
    let engine = config.open_engine().unwrap();
    let alice = AccountId::new("example.com", "alice@example.com").unwrap();
    let now = 1_800_000_000;
    engine.enable_platform("example.com", true).unwrap();
    let totp = enroll(&engine, &alice, now);
    let code = totp.generate(now + 60).unwrap();
    assert!(
        engine
            .login(&alice, Some(code.as_str()), now + 60)
            .unwrap()
            .is_allowed()
    );
    drop(engine);

    let report = config.check().unwrap();
    assert!(
        report
            .store
            .starts_with("PostgreSQL mail2fa_test@127.0.0.1:"),
        "{report}"
    );
    assert!(report.records > 0);
    assert!(!report.to_string().contains(&password), "{report}");

    // A wrong password in the file: refused by the server.
    write(&password_file, "not-the-password\n", 0o600);
    assert!(matches!(
        config.open_store(),
        Err(ConfigError::Store { .. })
    ));
}
