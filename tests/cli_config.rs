//! The `mail2fa` operator tool, run as a program, on a configuration file:
//! the repository's example (`integrations/mail2fa.toml`) with the
//! sandbox's paths. The tool takes every policy from the file (TOTP
//! digits, lockout), `--db`, `--key-file` and `MAIL2FA_CONFIG` do what the
//! help says, and `config check` passes on the example and names the line
//! and column of a damaged copy (set-up in `tests/support/cli.rs`; the
//! PostgreSQL test skips without `MAIL2FA_TEST_POSTGRES`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mail2fa::config::{Config, DEFAULT_PATH};
use mail2fa::engine::{AccountId, Decision, DenyReason};
use support::PostgresSchema;
use support::cli::*;

/// Exit status of a configuration file that cannot be used.
const CONFIG: i32 = 6;

/// The 1-based number of the first line of `text` starting with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines().position(|l| l.starts_with(start)).unwrap() + 1
}

#[test]
fn an_enrollment_follows_the_totp_settings_of_the_file() {
    let sandbox = Sandbox::new("config-digits");
    let config = sandbox.config_file("mail2fa.toml", &[("digits", "8"), ("period_seconds", "60")]);
    // `platform enable` creates the database, as without a file.
    sandbox
        .run_with(&config, &["platform", "enable", PLATFORM])
        .expect(OK);
    let uri = sandbox.enroll_with(&config, ALICE);
    assert!(uri.contains("digits=8"), "{uri}");
    assert!(uri.contains("period=60"), "{uri}");
    let code = authenticator(&uri).generate(NOW).unwrap();
    assert_eq!(code.as_str().len(), 8);

    // The servers, reading the same file, accept the app's codes.
    let engine = Config::from_file(&config).unwrap().open_engine().unwrap();
    let alice = AccountId::new(PLATFORM, ALICE).unwrap();
    let later = authenticator(&uri).generate(NOW + 120).unwrap();
    assert!(
        engine
            .login(&alice, Some(later.as_str()), NOW + 120)
            .unwrap()
            .is_allowed()
    );
}

#[test]
fn the_lockout_of_the_file_holds_in_the_tool_and_the_servers() {
    let sandbox = Sandbox::new("config-lockout");
    let config = sandbox.config_file(
        "mail2fa.toml",
        &[("max_failures", "2"), ("first_lock_seconds", "600")],
    );
    sandbox
        .run_with(&config, &["platform", "enable", PLATFORM])
        .expect(OK);
    let enabled = sandbox
        .run_with(&config, &["account", "enable", PLATFORM, ALICE, "--json"])
        .expect(OK)
        .json();
    let totp = authenticator(enabled["uri"].as_str().unwrap());
    let wrong = wrong_code(&totp);
    // Two wrong confirmations lock the account (the library's default is 5).
    for _ in 0..2 {
        sandbox
            .run_with(&config, &["account", "confirm", PLATFORM, ALICE, &wrong])
            .expect(REFUSED);
    }
    let show = sandbox
        .run_with(&config, &["account", "show", PLATFORM, ALICE, "--json"])
        .expect(OK)
        .json();
    assert_eq!(show["locked_until"], NOW + 600, "{show}");
    let right = totp.generate(NOW).unwrap();
    sandbox
        .run_with(
            &config,
            &["account", "confirm", PLATFORM, ALICE, right.as_str()],
        )
        .expect(REFUSED);

    // Unlocked with the tool, confirmed; then a server on the same file
    // locks after two wrong codes too.
    sandbox
        .run_with(&config, &["account", "unlock", PLATFORM, ALICE])
        .expect(OK);
    sandbox
        .run_with(
            &config,
            &["account", "confirm", PLATFORM, ALICE, right.as_str()],
        )
        .expect(OK);
    let engine = Config::from_file(&config).unwrap().open_engine().unwrap();
    let alice = AccountId::new(PLATFORM, ALICE).unwrap();
    let at = NOW + 3600;
    for _ in 0..2 {
        engine.login(&alice, Some(&wrong), at).unwrap();
    }
    let code = totp.generate(at).unwrap();
    match engine.login(&alice, Some(code.as_str()), at).unwrap() {
        Decision::Deny {
            reason: DenyReason::Locked { until },
            ..
        } => assert_eq!(until, at + 600),
        other => panic!("{other:?}"),
    }
}

#[test]
fn config_check_passes_on_the_example_and_shows_what_a_login_uses() {
    let sandbox = Sandbox::new("config-check");
    let config = sandbox.config_file("mail2fa.toml", &[]);
    // Before the store exists: the check fails, and creates nothing.
    let run = sandbox
        .run_with(&config, &["config", "check"])
        .expect(DATABASE);
    assert!(
        run.error_line().contains(&config.display().to_string()),
        "{}",
        run.stderr
    );
    assert!(!sandbox.db().exists());

    sandbox
        .run_with(&config, &["platform", "enable", PLATFORM])
        .expect(OK);
    let run = sandbox.run_with(&config, &["config", "check"]).expect(OK);
    for line in [
        format!("configuration: {}", config.display()),
        format!("store: SQLite {} (schema ", sandbox.db().display()),
        "encryption: none".to_owned(),
        "totp (new enrollments): SHA1, 6 digits, 30 s, window ±1".to_owned(),
        "lockout: after 5 wrong codes, first lock 60 s, longest 3600 s".to_owned(),
    ] {
        assert!(run.stdout.contains(&line), "{line:?} in:\n{}", run.stdout);
    }
    let report = sandbox
        .run_with(&config, &["config", "check", "--json"])
        .expect(OK)
        .json();
    assert_eq!(report["sound"], true);
    assert_eq!(report["configuration"], config.display().to_string());
    assert_eq!(report["store"]["create_allowed"], false);
    assert_eq!(report["totp"]["digits"], 6);
    assert_eq!(report["lockout"]["max_failures"], 5);
    assert_eq!(report["encryption"], serde_json::Value::Null);
}

#[test]
fn config_check_names_the_line_and_column_of_a_damaged_copy() {
    let sandbox = Sandbox::with_platform("config-damaged");
    let good = std::fs::read_to_string(sandbox.config_file("good.toml", &[])).unwrap();
    let lockout = line_of(&good, "max_failures = ");
    let digits = line_of(&good, "digits = ");
    let section = line_of(&good, "[lockout]");
    for (name, damage, line, column) in [
        // An unknown key.
        (
            "unknown.toml",
            good.replacen("max_failures = ", "max_failure = ", 1),
            lockout,
            1,
        ),
        // A value of the wrong type.
        (
            "type.toml",
            good.replacen("digits = 6", "digits = \"six\"", 1),
            digits,
            10,
        ),
        // A value the engine refuses.
        (
            "range.toml",
            good.replacen("max_failures = 5", "max_failures = 0", 1),
            lockout,
            16,
        ),
        // Not TOML.
        (
            "syntax.toml",
            good.replacen("[lockout]", "[lockout", 1),
            section,
            9,
        ),
    ] {
        let path = sandbox.path(name);
        std::fs::write(&path, damage).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let run = sandbox.run_with(&path, &["config", "check"]).expect(CONFIG);
        let place = format!("mail2fa: {}:{line}:{column}: ", path.display());
        assert!(
            run.error_line().starts_with(&place),
            "{name}: {place} in {:?}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{name}: {}", run.stdout);
        // Every other command refuses it as well.
        sandbox
            .run_with(&path, &["account", "show", PLATFORM, ALICE])
            .expect(CONFIG);
    }
}

#[test]
fn mail2fa_config_names_the_file() {
    let sandbox = Sandbox::new("config-env");
    let config = sandbox.config_file("site.toml", &[("digits", "8")]);
    let mut command = sandbox.command();
    command.env("MAIL2FA_CONFIG", &config).args([
        "--now",
        &NOW.to_string(),
        "platform",
        "enable",
        PLATFORM,
    ]);
    finish(command).expect(OK);
    assert!(sandbox.db().exists());
    let mut command = sandbox.command();
    command.env("MAIL2FA_CONFIG", &config).args([
        "--now",
        &NOW.to_string(),
        "account",
        "enable",
        PLATFORM,
        ALICE,
        "--json",
    ]);
    let uri = finish(command).expect(OK).json()["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.contains("digits=8"), "{uri}");
}

#[test]
fn db_and_key_file_override_the_file() {
    let sandbox = Sandbox::new("config-overrides");
    // The file names another database and a key file others may read.
    let loose = sandbox.key_file("loose-keys", &format!("1:{}", "11".repeat(32)), 0o644);
    let config = sandbox.config_file(
        "mail2fa.toml",
        &[
            (
                "sqlite_path",
                &format!("{:?}", sandbox.path("elsewhere.db").display().to_string()),
            ),
            ("key_file", &format!("{:?}", loose.display().to_string())),
            ("digits", "8"),
        ],
    );
    let db = sandbox.db().display().to_string();
    // The file's key file is refused, with the fix.
    let run = sandbox
        .run_with(&config, &["platform", "enable", PLATFORM, "--db", &db])
        .expect(KEY);
    let line = run.error_line();
    assert!(line.contains(&loose.display().to_string()), "{line}");
    assert!(line.contains("`chmod 600`"), "{line}");
    assert!(!sandbox.db().exists());

    // --key-file replaces it (the loose file is not read), --db the store;
    // the policies are still the file's.
    let keys = sandbox.key_file("keys", &format!("7:{}", "22".repeat(32)), 0o600);
    let keys = keys.display().to_string();
    let overrides = ["--db", db.as_str(), "--key-file", keys.as_str()];
    let with = |args: &[&'static str]| -> Vec<String> {
        args.iter()
            .chain(&overrides)
            .map(|a| (*a).to_owned())
            .collect()
    };
    sandbox
        .run_with(&config, &refs(&with(&["platform", "enable", PLATFORM])))
        .expect(OK);
    assert!(sandbox.db().exists());
    assert!(!sandbox.path("elsewhere.db").exists());
    let enabled = sandbox
        .run_with(
            &config,
            &refs(&with(&["account", "enable", PLATFORM, ALICE, "--json"])),
        )
        .expect(OK)
        .json();
    assert!(enabled["uri"].as_str().unwrap().contains("digits=8"));
    // Sealed with key 7: without the key file the record cannot be read.
    let run = sandbox
        .run(&["account", "show", PLATFORM, ALICE])
        .expect(KEY);
    assert!(run.error_line().contains("key"), "{}", run.stderr);
}

#[test]
fn a_configuration_that_cannot_be_used_is_refused_with_the_fix() {
    let sandbox = Sandbox::with_platform("config-refused");
    let config = sandbox.config_file("mail2fa.toml", &[]);
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    for args in [
        &["config", "check"][..],
        &["account", "show", PLATFORM, ALICE],
    ] {
        let run = sandbox.run_with(&config, args).expect(CONFIG);
        let fix = format!("`chmod go-w {}`", config.display());
        assert!(run.error_line().contains(&fix), "{}", run.stderr);
    }
    // A file named but missing is an error, even with --db.
    let missing = sandbox.path("missing.toml");
    let db = sandbox.db().display().to_string();
    let run = sandbox
        .run_with(&missing, &["platform", "show", PLATFORM, "--db", &db])
        .expect(CONFIG);
    assert!(
        run.error_line().contains(&missing.display().to_string()),
        "{}",
        run.stderr
    );
}

#[test]
fn without_a_file_or_a_database_the_error_names_both() {
    if Path::new(DEFAULT_PATH).exists() {
        eprintln!("SKIPPED: {DEFAULT_PATH} exists on this machine");
        return;
    }
    let sandbox = Sandbox::new("config-none");
    let mut command = sandbox.command();
    command.args(["platform", "show", PLATFORM]);
    let run = finish(command).expect(USAGE);
    let line = run.error_line();
    for part in [
        DEFAULT_PATH,
        "--config",
        "MAIL2FA_CONFIG",
        "--db",
        "MAIL2FA_DB",
    ] {
        assert!(line.contains(part), "{part} in {line}");
    }
    let mut command = sandbox.command();
    command.args(["config", "check"]);
    let run = finish(command).expect(CONFIG);
    assert!(run.error_line().contains(DEFAULT_PATH), "{}", run.stderr);
}

#[test]
fn a_postgres_configuration_works_with_the_tool_and_config_check() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let sandbox = Sandbox::new("config-postgres");
    let (connection, password) = without_password(&schema.url);
    let password_file = sandbox.key_file("db-password", &password, 0o600);
    let example = std::fs::read_to_string(sandbox.config_file("example.toml", &[])).unwrap();
    let text = with_values(
        &example.replacen("sqlite_path = ", "#sqlite_path = ", 1),
        &[
            ("postgres_connection", &format!("'{connection}'")),
            (
                "password_file",
                &format!("{:?}", password_file.display().to_string()),
            ),
            ("digits", "8"),
        ],
    );
    let config = sandbox.path("pg.toml");
    std::fs::write(&config, text).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();

    // No schema yet: the check fails and creates nothing.
    sandbox
        .run_with(&config, &["config", "check"])
        .expect(DATABASE);
    sandbox
        .run_with(&config, &["platform", "enable", PLATFORM])
        .expect(OK);
    let uri = sandbox.enroll_with(&config, ALICE);
    assert!(uri.contains("digits=8"), "{uri}");

    let run = sandbox.run_with(&config, &["config", "check"]).expect(OK);
    assert!(run.stdout.contains("store: PostgreSQL "), "{}", run.stdout);
    assert!(run.stdout.contains("8 digits"), "{}", run.stdout);
    let report = sandbox
        .run_with(&config, &["config", "check", "--json"])
        .expect(OK)
        .json();
    assert!(report["store"]["records"].as_u64().unwrap() > 0, "{report}");
    for output in [&run.stdout, &run.stderr, &report.to_string()] {
        assert!(!output.contains(&password), "the password shown: {output}");
    }
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `postgres://user:PASSWORD@…` as the connection string without the
/// password, and the password (percent-decoded).
fn without_password(url: &str) -> (String, String) {
    let start = url.find("://").unwrap() + 3;
    let at = start + url[start..].find('@').unwrap();
    let colon = start + url[start..at].find(':').unwrap();
    let encoded = &url[colon + 1..at];
    let mut bytes = Vec::new();
    let mut i = 0;
    while i < encoded.len() {
        if encoded.as_bytes()[i] == b'%' {
            bytes.push(u8::from_str_radix(&encoded[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            bytes.push(encoded.as_bytes()[i]);
            i += 1;
        }
    }
    let password = String::from_utf8(bytes).unwrap();
    (format!("{}{}", &url[..colon], &url[at..]), password)
}
