//! The `mail2fa` operator tool, run as a program: the database — a missing
//! or corrupt file, encryption keys, `db check` and `db purge`, passwords
//! in PostgreSQL URLs never shown, a PostgreSQL database and `db copy`
//! (set-up in `tests/support/cli.rs`; the PostgreSQL tests skip without
//! `MAIL2FA_TEST_POSTGRES`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mail2fa::engine::{AccountId, AllowReason, Decision, Engine, EngineConfig};
use serde_json::Value;
use support::PostgresSchema;
use support::cli::*;

#[test]
fn a_missing_database_is_never_created_by_mistake() {
    let sandbox = Sandbox::new("missing-db");
    let missing = sandbox.path("typo.db");
    for args in [
        &["account", "show", PLATFORM, ALICE][..],
        &["account", "enable", PLATFORM, ALICE],
        &["platform", "show", PLATFORM],
        &["device", "list", PLATFORM, ALICE],
        &["db", "check"],
        &["db", "purge"],
    ] {
        let run = sandbox.run_on(&missing, args).expect(DATABASE);
        assert!(
            run.error_line().contains("does not exist") && run.stderr.contains("platform enable"),
            "{}",
            run.stderr
        );
        assert!(!missing.exists(), "{args:?} created the database");
    }
    // MAIL2FA_DB names the database too.
    let mut command = sandbox.command();
    command
        .env("MAIL2FA_DB", &missing)
        .args(["--now", &NOW.to_string(), "db", "check"]);
    finish(command).expect(DATABASE);
    assert!(!missing.exists());

    // `platform enable` creates it (0600), through MAIL2FA_DB as well.
    let mut command = sandbox.command();
    command.env("MAIL2FA_DB", &missing).args([
        "--now",
        &NOW.to_string(),
        "platform",
        "enable",
        PLATFORM,
    ]);
    finish(command).expect(OK);
    let mode = std::fs::metadata(&missing).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    assert_eq!(
        sandbox
            .run_on(&missing, &["platform", "show", PLATFORM, "--json"])
            .expect(OK)
            .json()["enabled"],
        true
    );

    // An empty file is not taken for a database (nor turned into one).
    let empty = sandbox.path("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let run = sandbox
        .run_on(&empty, &["account", "show", PLATFORM, ALICE])
        .expect(DATABASE);
    assert!(
        run.error_line().contains("is an empty file"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
}

#[test]
fn a_corrupt_database_is_a_database_error() {
    let sandbox = Sandbox::new("corrupt-db");
    let garbage = sandbox.path("garbage.db");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, &bytes).unwrap();
    for args in [
        &["account", "show", PLATFORM, ALICE][..],
        &["platform", "enable", PLATFORM],
        &["db", "check"],
        &["db", "check", "--json"],
    ] {
        let run = sandbox.run_on(&garbage, args).expect(DATABASE);
        let line = run.error_line();
        assert!(
            line.starts_with("mail2fa: cannot use the database ") && line.contains("garbage.db"),
            "{line}"
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes, "the file changed");
}

#[test]
fn encryption_keys_are_required_to_read_encrypted_accounts() {
    let sandbox = Sandbox::new("keys");
    let good = sandbox.key_file("a.keys", &format!("1:{}", "0f".repeat(32)), 0o600);
    let wrong = sandbox.key_file("b.keys", &format!("1:{}", "a5".repeat(32)), 0o600);
    let open = sandbox.key_file("c.keys", &format!("1:{}", "0f".repeat(32)), 0o644);
    let (good, wrong, open) = (
        good.to_str().unwrap(),
        wrong.to_str().unwrap(),
        open.to_str().unwrap(),
    );

    sandbox
        .run(&["platform", "enable", PLATFORM, "--key-file", good])
        .expect(OK);
    let enabled = sandbox.json(&["account", "enable", PLATFORM, ALICE, "--key-file", good]);
    let code = authenticator(enabled["uri"].as_str().unwrap())
        .generate(NOW)
        .unwrap();
    sandbox
        .run(&[
            "account",
            "confirm",
            PLATFORM,
            ALICE,
            code.as_str(),
            "--key-file",
            good,
        ])
        .expect(OK);
    assert_eq!(
        sandbox.json(&["account", "show", PLATFORM, ALICE, "--key-file", good])["enrollment"],
        "confirmed"
    );

    // Another key, or none: the record does not open.
    let run = sandbox
        .run(&["account", "show", PLATFORM, ALICE, "--key-file", wrong])
        .expect(KEY);
    assert!(run.error_line().contains("wrong key"), "{}", run.stderr);
    let run = sandbox
        .run(&["account", "show", PLATFORM, ALICE])
        .expect(KEY);
    assert!(
        run.error_line().contains("no key is configured"),
        "{}",
        run.stderr
    );
    // MAIL2FA_KEY_FILE is read like --key-file.
    for (key_file, status) in [(&wrong, KEY), (&good, OK)] {
        let mut command = sandbox.command();
        command
            .env("MAIL2FA_KEY_FILE", key_file)
            .arg("--db")
            .arg(sandbox.db())
            .args([
                "--now",
                &NOW.to_string(),
                "account",
                "show",
                PLATFORM,
                ALICE,
            ]);
        finish(command).expect(status);
    }

    // A key file others can read is refused before anything is read.
    let run = sandbox
        .run(&["account", "show", PLATFORM, ALICE, "--key-file", open])
        .expect(KEY);
    assert!(
        run.error_line().contains("group or others have access"),
        "{}",
        run.stderr
    );
    // As are missing and malformed key files.
    let absent = sandbox.path("absent.keys");
    sandbox
        .run(&[
            "account",
            "show",
            PLATFORM,
            ALICE,
            "--key-file",
            absent.to_str().unwrap(),
        ])
        .expect(KEY);
    for (name, line) in [
        ("short.keys", "1:abcd"),
        ("noid.keys", &"0f".repeat(32)),
        ("nonhex.keys", &format!("1:{}", "zz".repeat(32))),
        ("empty.keys", "# nothing here"),
    ] {
        let path = sandbox.key_file(name, line, 0o600);
        let run = sandbox
            .run(&[
                "account",
                "show",
                PLATFORM,
                ALICE,
                "--key-file",
                path.to_str().unwrap(),
            ])
            .expect(KEY);
        assert!(run.error_line().contains(name), "{}", run.stderr);
    }

    // `db check` names the problem, in text and JSON.
    let check = sandbox
        .run(&["db", "check", "--key-file", wrong, "--json"])
        .expect(KEY);
    let report = check.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["unreadable"], 1);
    assert_eq!(report["integrity"], serde_json::json!(["ok"]));
    assert!(
        report["problems"][0]["record"]
            .as_str()
            .unwrap()
            .contains(ALICE),
        "{report}"
    );
    assert!(
        check.error_line().contains("cannot be opened"),
        "{}",
        check.stderr
    );
    let check = sandbox
        .run(&["db", "check", "--key-file", wrong])
        .expect(KEY);
    assert!(check.stdout.contains("Unreadable   1"), "{}", check.stdout);

    let report = sandbox.json(&["db", "check", "--key-file", good]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["unreadable"], 0);
    assert_eq!(report["accounts"], 1);
    assert_eq!(report["encrypted_accounts"], 1);
    assert_eq!(report["problems"], serde_json::json!([]));
}

#[test]
fn db_check_and_purge_on_a_sound_database() {
    let sandbox = Sandbox::with_platform("db-maintenance");
    sandbox.enroll(ALICE);
    let report = sandbox.json(&["db", "check"]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["integrity"], serde_json::json!(["ok"]));
    assert_eq!(report["platforms"], 1);
    assert_eq!(report["accounts"], 1);
    assert_eq!(report["encrypted_accounts"], 0);
    assert_eq!(report["path"], sandbox.db().to_str().unwrap());
    let text = sandbox.run(&["db", "check"]).expect(OK).stdout;
    assert!(text.contains("(schema 1, "), "{text}");
    assert!(text.contains("SQLite       ok"), "{text}");
    assert!(text.contains("Unreadable   none"), "{text}");

    let purged = sandbox.run(&["db", "purge"]).expect(OK).stdout;
    assert!(purged.starts_with("Purged: "), "{purged}");
    let purged = sandbox.json(&["db", "purge"]);
    assert!(purged["examined"].as_u64().unwrap() >= 2, "{purged}");
    assert!(purged["changed"].is_u64(), "{purged}");

    // A pending device a day and more old is purged.
    assert!(matches!(
        sandbox.login(ALICE, &iphone("iPhone")),
        Decision::DevicePending { .. }
    ));
    let mut command = sandbox.command();
    command
        .arg("--db")
        .arg(sandbox.db())
        .args(["--now", &(NOW + 400 * 86_400).to_string()])
        .args(["db", "purge", "--json"]);
    let later = finish(command).expect(OK).json();
    assert!(later["changed"].as_u64().unwrap() >= 1, "{later}");
    assert_eq!(
        sandbox.json(&["device", "list", PLATFORM, ALICE])["devices"],
        serde_json::json!([])
    );
}

/// Issue 14, point 6: a password holding `/`, `?`, `@` or `#` (as such or
/// percent-encoded) is hidden in every message, whether the URL came by
/// `--db` or by MAIL2FA_DB. Port 1 of 127.0.0.1 refuses at once.
#[test]
fn database_errors_hide_passwords_with_url_delimiters() {
    let sandbox = Sandbox::new("redact");
    for separator in ["/", "?", "@", "#", ":", "%2F", "%3F", "%40", "%23", "&"] {
        let (head, tail) = ("Qw8head", "Zt4tail");
        let url = format!("postgres://m2fa:{head}{separator}{tail}@127.0.0.1:1/mail2fa");
        let by_option = sandbox.run_on(Path::new(&url), &["account", "show", PLATFORM, ALICE]);
        let mut command = sandbox.command();
        command.env("MAIL2FA_DB", &url).args([
            "--now",
            &NOW.to_string(),
            "account",
            "show",
            PLATFORM,
            ALICE,
        ]);
        let by_env = finish(command);
        for run in [by_option, by_env] {
            let run = run.expect(DATABASE);
            let line = run.error_line();
            assert!(line.contains("postgres://m2fa:***@"), "{separator}: {line}");
            for part in [head, tail] {
                assert!(!run.stderr.contains(part), "{separator}: {}", run.stderr);
                assert!(!run.stdout.contains(part), "{separator}: {}", run.stdout);
            }
        }
    }
}

#[test]
fn a_postgres_database_works_like_the_file_and_never_shows_its_password() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let sandbox = Sandbox::new("postgres");
    let db = Path::new(&schema.url);
    let secret = password_of(&schema.url);
    assert!(secret.len() >= 8);

    // Nothing but `platform enable` creates the schema.
    let run = sandbox
        .run_on(db, &["account", "show", PLATFORM, ALICE])
        .expect(DATABASE);
    assert!(
        run.error_line().contains("no mail2fa schema"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("platform enable"), "{}", run.stderr);
    assert!(!run.stderr.contains(secret), "{}", run.stderr);
    assert_eq!(
        schema
            .sql("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            .trim(),
        "0"
    );
    sandbox
        .run_on(db, &["platform", "enable", PLATFORM])
        .expect(OK);

    // Enrollment and confirmation, then the code is consumed for every host.
    let enabled = sandbox
        .run_on(db, &["--json", "account", "enable", PLATFORM, ALICE])
        .expect(OK)
        .json();
    let totp = authenticator(enabled["uri"].as_str().unwrap());
    let code = totp.generate(NOW).unwrap();
    sandbox
        .run_on(db, &["account", "confirm", PLATFORM, ALICE, code.as_str()])
        .expect(OK);
    let shown = sandbox
        .run_on(db, &["--json", "account", "show", PLATFORM, ALICE])
        .expect(OK)
        .json();
    assert_eq!(shown["enrollment"], "confirmed", "{shown}");
    let engine = Engine::new(
        mail2fa::store::PostgresStore::open(&schema.url).unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    assert!(
        !engine
            .login(&id, Some(code.as_str()), NOW)
            .unwrap()
            .is_allowed()
    );

    // db check reads every record and reports the server.
    let report = sandbox
        .run_on(db, &["--json", "db", "check"])
        .expect(OK)
        .json();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["accounts"], 1);
    assert_eq!(report["path"], Value::Null);
    assert!(report["postgres"].as_str().unwrap().contains("127.0.0.1"));
    assert!(report["server_version"].as_str().is_some());
    assert!(!report.to_string().contains(secret));

    // A wrong password: a database error naming the server, not the secret.
    let wrong = schema.url.replacen(secret, "not-the-password", 1);
    let run = sandbox
        .run_on(Path::new(&wrong), &["account", "show", PLATFORM, ALICE])
        .expect(DATABASE);
    assert!(run.error_line().contains("28P01"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-password"), "{}", run.stderr);
}

#[test]
fn db_copy_moves_a_sqlite_database_to_postgres_and_back() {
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let sandbox = Sandbox::with_platform("postgres-copy");
    let uri = sandbox.enroll(ALICE);
    sandbox.enroll("bob@example.com");
    // A device token and an application password come along.
    sandbox.login(ALICE, &iphone("iPhone"));
    let created = sandbox.json(&[
        "app-password",
        "create",
        PLATFORM,
        ALICE,
        "--name",
        "Thunderbird",
    ]);
    let app_password = created["password"].as_str().unwrap().to_owned();
    let before = sandbox.json(&["db", "check"]);

    let copied = sandbox.json(&["db", "copy", "--to", &schema.url]);
    assert_eq!(copied["copied"], before["records"], "{copied}");
    assert!(!copied.to_string().contains(password_of(&schema.url)));

    // The copy is a working database for the mail servers.
    let engine = Engine::new(
        mail2fa::store::PostgresStore::open(&schema.url).unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    let later = NOW + 300;
    let code = authenticator(&uri).generate(later).unwrap();
    assert!(
        engine
            .login(&id, Some(code.as_str()), later)
            .unwrap()
            .is_allowed()
    );
    let decision = engine
        .authenticate(&id, &imap_with(&app_password), later)
        .unwrap();
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::AppPassword { .. },
                ..
            }
        ),
        "{decision:?}"
    );
    let on_postgres = sandbox
        .run_on(
            Path::new(&schema.url),
            &["--json", "device", "list", PLATFORM, ALICE],
        )
        .expect(OK)
        .json();
    assert_eq!(
        on_postgres["devices"].as_array().unwrap().len(),
        1,
        "{on_postgres}"
    );

    // Copying again into the same (no longer empty) target is refused.
    let run = sandbox
        .run(&["db", "copy", "--to", &schema.url])
        .expect(REFUSED);
    assert!(
        run.error_line().contains("already holds records"),
        "{}",
        run.stderr
    );

    // And back to a new file: the same records.
    let back = sandbox.path("back.db");
    let copied_back = sandbox
        .run_on(
            Path::new(&schema.url),
            &["--json", "db", "copy", "--to", back.to_str().unwrap()],
        )
        .expect(OK)
        .json();
    assert_eq!(copied_back["copied"], before["records"]);
    let report = sandbox
        .run_on(&back, &["--json", "db", "check"])
        .expect(OK)
        .json();
    assert_eq!(report["accounts"], 2);
    assert_eq!(report["ok"], true);
}
