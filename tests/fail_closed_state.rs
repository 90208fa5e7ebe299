//! State cannot turn 2FA off (issue 14, point 1 and the state items of
//! point 6): a deleted, emptied or schema-less database (SQLite file or
//! PostgreSQL schema) is refused, never created by a login path; destroyed secrets leave the SQLite files; files
//! another user controls are refused; a plain record copied over a sealed
//! one is refused while keys are configured.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mail2fa::engine::{AccountId, EncryptionKeys, Engine, EngineConfig};
use mail2fa::store::{SqliteOptions, SqliteStore, Store, StoreError};
use mail2fa::{Error, KeyUri, Totp};

mod support;
use support::TempDir;

const NOW: u64 = 1_800_000_000;

fn alice() -> AccountId {
    AccountId::new("example.com", "alice@example.com").unwrap()
}

fn backend_error<T: core::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Backend(message)) => message,
        other => panic!("expected a backend error, got {other:?}"),
    }
}

/// Enables the platform and enrolls `id` (confirmed with its first code);
/// returns the app's generator.
fn enroll<S: Store>(engine: &Engine<S>, id: &AccountId) -> Totp {
    engine.enable_platform(id.platform(), true).unwrap();
    let key = KeyUri::parse(&engine.enable_account(id, NOW).unwrap()).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    let first = totp.generate(NOW).unwrap();
    assert!(
        engine
            .login(id, Some(first.as_str()), NOW)
            .unwrap()
            .is_allowed()
    );
    totp
}

/// A database with alice enrolled, closed again.
fn enrolled_database(path: &Path) {
    let engine = Engine::new(SqliteStore::create(path).unwrap(), EngineConfig::default()).unwrap();
    enroll(&engine, &alice());
}

/// What a mail server's login path makes of the file at `path`: it must
/// not open, and if it did, no login may pass without a code.
fn assert_login_path_refuses(path: &Path) {
    match SqliteStore::open(path) {
        Err(StoreError::Backend(_)) => {}
        Err(other) => panic!("expected a backend error, got {other:?}"),
        Ok(store) => {
            // Show what the defect does before failing on it.
            let login = Engine::new(store, EngineConfig::default())
                .and_then(|engine| engine.login(&alice(), None, NOW + 60));
            panic!("the login path opened the file; a login without a code: {login:?}");
        }
    }
}

#[test]
fn a_truncated_database_refuses_every_login() {
    let dir = TempDir::new("truncated");
    let path = dir.path("state.db");
    enrolled_database(&path);
    // `truncate -s 0` on the file (the WAL was checkpointed on close).
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    assert_login_path_refuses(&path);
    let message = backend_error(SqliteStore::open_with(
        &path,
        &SqliteOptions::default().with_create(false),
    ));
    assert!(message.contains("empty file"), "{message}");
    assert!(message.contains("mail2fa platform enable"), "{message}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as found");
}

#[test]
fn a_deleted_database_is_not_created_by_the_default_opener() {
    let dir = TempDir::new("deleted");
    let path = dir.path("state.db");
    enrolled_database(&path);
    std::fs::remove_file(&path).unwrap();
    assert_login_path_refuses(&path);
    assert!(!path.exists(), "the login path created a database");
    let message = backend_error(SqliteStore::open(&path));
    assert!(message.contains("does not exist"), "{message}");
    assert!(!SqliteOptions::default().create);
}

#[test]
fn a_sqlite_file_without_the_schema_is_refused_and_left_untouched() {
    let dir = TempDir::new("schemaless");
    let path = dir.path("state.db");
    // A valid, empty SQLite database (one page, no tables).
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.execute_batch("VACUUM").unwrap();
    drop(connection);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::read(&path).unwrap();
    assert!(!before.is_empty());
    assert_login_path_refuses(&path);
    let message = backend_error(SqliteStore::open(&path));
    assert!(message.contains("no mail2fa schema"), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
}

#[test]
fn creating_is_the_explicit_act_and_builds_the_schema_in_an_empty_file() {
    let dir = TempDir::new("create");
    // A missing file: created, 0600.
    let path = dir.path("new.db");
    drop(SqliteStore::create(&path).unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    SqliteStore::open(&path).unwrap();
    // An empty file the administrator made (owner and mode chosen): it gets
    // the schema, then the login path opens it.
    let empty = dir.path("empty.db");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&empty)
        .unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o600)).unwrap();
    drop(SqliteStore::create(&empty).unwrap());
    let engine = Engine::new(SqliteStore::open(&empty).unwrap(), EngineConfig::default()).unwrap();
    enroll(&engine, &alice());
}

/// Whether `needle` is in the database file or its WAL.
fn on_disk(path: &Path, needle: &[u8]) -> bool {
    ["", "-wal"].iter().any(|suffix| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::read(file).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

#[test]
fn destroyed_secrets_leave_the_files_while_another_connection_is_open() {
    let dir = TempDir::new("scrub");
    let path = dir.path("state.db");
    let engine = Engine::new(SqliteStore::create(&path).unwrap(), EngineConfig::default()).unwrap();
    // Another process (an auth worker) keeps the database open throughout.
    let other = rusqlite::Connection::open(&path).unwrap();
    let count = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM m2fa_records", [], |r| r.get(0))
            .unwrap()
    };
    assert!(count(&other) > 0);

    engine.enable_platform("example.com", true).unwrap();
    let secret_of = |uri: &str| KeyUri::parse(uri).unwrap().secret().expose_bytes().to_vec();
    // Removed.
    let removed = alice();
    let removed_secret = secret_of(&engine.enable_account(&removed, NOW).unwrap());
    assert!(
        on_disk(&path, &removed_secret),
        "the test sees clear secrets"
    );
    engine.remove(&removed).unwrap();
    assert!(count(&other) > 0);
    assert!(
        !on_disk(&path, &removed_secret),
        "a removed account's secret is still in the files"
    );
    // Reset (new phone): the old secret goes, the new one is there.
    let bob = AccountId::new("example.com", "bob@example.com").unwrap();
    let old_secret = secret_of(&engine.enable_account(&bob, NOW).unwrap());
    assert!(on_disk(&path, &old_secret));
    let new_secret = secret_of(&engine.reset(&bob, NOW + 10).unwrap());
    assert!(count(&other) > 0);
    assert!(
        !on_disk(&path, &old_secret),
        "a reset account's old secret is still in the files"
    );
    assert!(on_disk(&path, &new_secret));
    // The user turns 2FA off with a code (self-service).
    let carol = AccountId::new("example.com", "carol@example.com").unwrap();
    let carol_key = KeyUri::parse(&engine.enable_account(&carol, NOW).unwrap()).unwrap();
    let carol_secret = carol_key.secret().expose_bytes().to_vec();
    let carol_totp = Totp::new(carol_key.secret(), carol_key.totp_config().unwrap());
    let first = carol_totp.generate(NOW).unwrap();
    assert!(
        engine
            .login(&carol, Some(first.as_str()), NOW)
            .unwrap()
            .is_allowed()
    );
    assert!(on_disk(&path, &carol_secret));
    let next = carol_totp.generate(NOW + 30).unwrap();
    assert!(
        engine
            .disable_with_code(&carol, next.as_str(), NOW + 30)
            .unwrap()
            .is_allowed()
    );
    assert!(count(&other) > 0);
    assert!(
        !on_disk(&path, &carol_secret),
        "a secret turned off with a code is still in the files"
    );
    drop(other);
}

#[test]
fn database_files_others_can_write_are_refused_with_the_fix() {
    let dir = TempDir::new("writable");
    let path = dir.path("state.db");
    enrolled_database(&path);
    let set = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    set(&path, 0o666);
    let message = backend_error(SqliteStore::open(&path));
    assert!(message.contains("chmod 600"), "{message}");
    set(&path, 0o620);
    assert!(backend_error(SqliteStore::open(&path)).contains("group or others"));
    set(&path, 0o600);
    // A directory others may write (not sticky): they could plant a WAL.
    set(dir.dir(), 0o777);
    let message = backend_error(SqliteStore::open(&path));
    assert!(message.contains("chmod go-w"), "{message}");
    // A sticky one (as /tmp) cannot have our files replaced: accepted.
    set(dir.dir(), 0o1777);
    SqliteStore::open(&path).unwrap();
    set(dir.dir(), 0o700);
    // A companion file others may write. (The store keeps its WAL when it
    // closes, and the WAL holds committed records: made writable, not
    // replaced.)
    let wal = dir.path("state.db-wal");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&wal)
        .unwrap();
    set(&wal, 0o666);
    assert!(backend_error(SqliteStore::open(&path)).contains("state.db-wal"));
    set(&wal, 0o600);
    SqliteStore::open(&path).unwrap();
}

/// Gives `path` to user `nobody` (65534). Only root can: elsewhere the
/// owner checks are skipped.
fn give_away(path: &Path) -> bool {
    if rustix::process::geteuid().as_raw() != 0 {
        eprintln!("SKIPPED: the owner checks need root (chown)");
        return false;
    }
    std::os::unix::fs::chown(path, Some(65_534), Some(65_534)).unwrap();
    true
}

#[test]
fn database_and_key_files_of_another_user_are_refused_with_the_fix() {
    let dir = TempDir::new("owner");
    let path = dir.path("state.db");
    enrolled_database(&path);
    if !give_away(&path) {
        return;
    }
    let message = backend_error(SqliteStore::open(&path));
    assert!(message.contains("chown"), "{message}");
    assert!(message.contains("belongs to user id 65534"), "{message}");
    std::os::unix::fs::chown(&path, Some(0), Some(0)).unwrap();
    SqliteStore::open(&path).unwrap();

    let keys = dir.path("keys");
    std::fs::write(&keys, format!("1:{}\n", "11".repeat(32))).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    EncryptionKeys::from_key_file(&keys).unwrap();
    give_away(&keys);
    match EncryptionKeys::from_key_file(&keys) {
        Err(error @ Error::KeyFile { .. }) => {
            let message = error.to_string();
            assert!(message.contains("belongs to user id 65534"), "{message}");
            assert!(message.contains("chown"), "{message}");
        }
        other => panic!("a key file of another user was used: {other:?}"),
    }
}

fn sealed_config(require_sealed: bool) -> EngineConfig {
    EngineConfig::default()
        .with_encryption(EncryptionKeys::new(1, [0x11; 32]))
        .with_require_sealed(require_sealed)
}

#[test]
fn a_plain_record_copied_over_a_sealed_one_is_refused() {
    let dir = TempDir::new("plain-over-sealed");
    let path = dir.path("state.db");
    let id = alice();
    let engine = Engine::new(SqliteStore::create(&path).unwrap(), sealed_config(true)).unwrap();
    let real = enroll(&engine, &id);
    // Someone who can write the database but has no key enrolls alice in a
    // database of their own, in clear, and copies that record over hers.
    let theirs_path = dir.path("theirs.db");
    let theirs = Engine::new(
        SqliteStore::create(&theirs_path).unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    let forged = enroll(&theirs, &id);
    let plain = theirs.store().load(&id.store_key()).unwrap().unwrap();
    let target = engine.store().load(&id.store_key()).unwrap().unwrap();
    engine
        .store()
        .compare_and_swap(
            &id.store_key(),
            Some(target.version),
            Some(plain.bytes.as_slice()),
        )
        .unwrap();

    // Their code, and no code at all: refused with a clear error.
    let at = NOW + 90;
    let forged_code = forged.generate(at).unwrap();
    match engine.login(&id, Some(forged_code.as_str()), at) {
        Err(Error::Encryption(message)) => {
            assert!(message.contains("not encrypted"), "{message}");
            assert!(message.contains("mail2fa db seal"), "{message}");
        }
        other => panic!("a plain record was used while keys are configured: {other:?}"),
    }
    assert!(matches!(
        engine.login(&id, None, at),
        Err(Error::Encryption(_))
    ));
    assert!(EngineConfig::default().require_sealed);
    // Even the real code does not pass on the forged record.
    let real_code = real.generate(at).unwrap();
    assert!(matches!(
        engine.login(&id, Some(real_code.as_str()), at),
        Err(Error::Encryption(_))
    ));

    // Switched off (a migration), the plain record is read as before.
    let migrating = Engine::new(SqliteStore::open(&path).unwrap(), sealed_config(false)).unwrap();
    assert!(
        migrating
            .login(&id, Some(forged_code.as_str()), at)
            .unwrap()
            .is_allowed()
    );
}

#[test]
fn sealing_a_plain_store_is_the_migration_to_required_sealing() {
    let dir = TempDir::new("seal");
    let path = dir.path("state.db");
    let plain = Engine::new(SqliteStore::create(&path).unwrap(), EngineConfig::default()).unwrap();
    let totp = enroll(&plain, &alice());
    let bob = AccountId::new("example.com", "bob@example.com").unwrap();
    let bob_totp = enroll(&plain, &bob);
    drop(plain);
    let engine = Engine::new(SqliteStore::open(&path).unwrap(), sealed_config(true)).unwrap();
    let at = NOW + 60;
    assert!(matches!(
        engine.login(&alice(), Some(totp.generate(at).unwrap().as_str()), at),
        Err(Error::Encryption(_))
    ));
    assert_eq!(engine.seal_records().unwrap(), 2);
    assert_eq!(engine.seal_records().unwrap(), 0);
    assert_eq!(engine.check_records().unwrap().sealed_accounts, 2);
    for (id, totp) in [(alice(), &totp), (bob, &bob_totp)] {
        let code = totp.generate(at).unwrap();
        assert!(
            engine
                .login(&id, Some(code.as_str()), at)
                .unwrap()
                .is_allowed()
        );
    }
    // Without keys there is nothing to seal with.
    let keyless = Engine::new(SqliteStore::open(&path).unwrap(), EngineConfig::default()).unwrap();
    assert!(matches!(
        keyless.seal_records(),
        Err(Error::InvalidConfig(_))
    ));
}

#[cfg(feature = "cli")]
#[test]
fn the_operator_tool_seals_a_plain_store() {
    let dir = TempDir::new("cli-seal");
    let path = dir.path("state.db");
    enrolled_database(&path);
    let keys = dir.path("keys");
    std::fs::write(&keys, format!("1:{}\n", "11".repeat(32))).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
    let tool = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mail2fa"))
            .arg("--db")
            .arg(&path)
            .arg("--key-file")
            .arg(&keys)
            .args(["--color", "never"])
            .args(args)
            .output()
            .unwrap()
    };
    // With keys, the plain record is refused, and the message names the fix.
    let status = tool(&["account", "show", "example.com", "alice@example.com"]);
    assert!(!status.status.success());
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("mail2fa db seal"), "{stderr}");
    let sealed = tool(&["db", "seal"]);
    assert!(
        sealed.status.success(),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );
    assert!(String::from_utf8_lossy(&sealed.stdout).contains("Sealed 1 account or devices record"));
    let status = tool(&["account", "show", "example.com", "alice@example.com"]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let engine = Engine::new(SqliteStore::open(&path).unwrap(), sealed_config(true)).unwrap();
    assert_eq!(engine.check_records().unwrap().sealed_accounts, 1);
}

// ------------------------------------------------------------- PostgreSQL
//
// The same guarantees on the shared store: a login path never builds the
// schema. Skipped (with a "SKIPPED" line) without `MAIL2FA_TEST_POSTGRES`,
// unless `MAIL2FA_REQUIRE_POSTGRES=1`.

#[cfg(feature = "postgres")]
#[cfg(feature = "postgres")]
mod postgres {
    use mail2fa::engine::{Engine, EngineConfig};
    use mail2fa::store::{PostgresOptions, PostgresStore, StoreError};

    use super::support::PostgresSchema;
    use super::{NOW, alice, backend_error, enroll};

    /// The tables, sequences and views in the schema.
    fn relations(schema: &PostgresSchema) -> String {
        schema
            .sql(
                "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace",
            )
            .trim()
            .to_owned()
    }

    /// What a mail server's login path makes of the database at `url`: it
    /// must not open, and if it did, no login may pass without a code.
    fn assert_login_path_refuses(url: &str) {
        match PostgresStore::open(url) {
            Err(StoreError::Backend(_)) => {}
            Err(other) => panic!("expected a backend error, got {other:?}"),
            Ok(store) => {
                // Show what the defect does before failing on it.
                let login = Engine::new(store, EngineConfig::default())
                    .and_then(|engine| engine.login(&alice(), None, NOW + 60));
                panic!("the login path opened the database; a login without a code: {login:?}");
            }
        }
    }

    #[test]
    fn a_dropped_postgres_schema_is_not_recreated_by_the_default_opener() {
        let Some(schema) = PostgresSchema::or_skip() else {
            return;
        };
        let create = PostgresOptions::default().with_create(true);
        let engine = Engine::new(
            PostgresStore::open_with(&schema.url, &create).unwrap(),
            EngineConfig::default(),
        )
        .unwrap();
        enroll(&engine, &alice());
        drop(engine);
        // The mail2fa tables dropped (a mistaken migration, a restore of
        // the wrong dump): the database is there, the state is not.
        schema.sql("DROP TABLE m2fa_records, m2fa_meta; DROP SEQUENCE m2fa_versions");
        assert_eq!(relations(&schema), "0");
        assert_login_path_refuses(&schema.url);
        assert_eq!(relations(&schema), "0", "the login path built a schema");
        let message = backend_error(PostgresStore::open(&schema.url));
        assert!(message.contains("no mail2fa schema"), "{message}");
        assert!(message.contains("mail2fa platform enable"), "{message}");
    }

    #[test]
    fn an_empty_postgres_schema_is_refused_by_the_default_opener() {
        let Some(schema) = PostgresSchema::or_skip() else {
            return;
        };
        // A fresh database, or a `search_path` that names the wrong schema.
        assert_login_path_refuses(&schema.url);
        assert_eq!(relations(&schema), "0", "the login path built a schema");
        assert!(!PostgresOptions::default().create);
    }

    #[test]
    fn creating_the_postgres_schema_is_the_explicit_act() {
        let Some(schema) = PostgresSchema::or_skip() else {
            return;
        };
        drop(PostgresStore::create(&schema.url).unwrap());
        assert_ne!(relations(&schema), "0");
        // Creating again opens what is there, and changes nothing.
        let before = schema.sql("SELECT schema_version FROM m2fa_meta");
        drop(PostgresStore::create(&schema.url).unwrap());
        assert_eq!(schema.sql("SELECT schema_version FROM m2fa_meta"), before);
        // The login path opens it; 2FA works, and a login without a code is
        // refused once the account is enrolled.
        let engine = Engine::new(
            PostgresStore::open(&schema.url).unwrap(),
            EngineConfig::default(),
        )
        .unwrap();
        enroll(&engine, &alice());
        assert!(!engine.login(&alice(), None, NOW + 60).unwrap().is_allowed());
    }
}
