//! The SQLite store: the store contract, durability across reopening,
//! fail-closed opening of anything that is not our database, full disk,
//! and the engine on it.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mail2fa::engine::{AccountId, ClientAnswer, DenyReason, Engine, EngineConfig};
use mail2fa::store::{CasOutcome, SqliteOptions, SqliteStore, Store, StoreError};
use mail2fa::{Error, KeyUri, Totp};

mod support;
use support::TempDir;

const NOW: u64 = 1_800_000_000;

fn stored(outcome: CasOutcome) -> u64 {
    match outcome {
        CasOutcome::Stored { version } => version,
        CasOutcome::Conflict => panic!("expected the write to happen"),
    }
}

fn backend_error(result: Result<SqliteStore, StoreError>) -> String {
    match result {
        Err(StoreError::Backend(message)) => message,
        other => panic!("expected a backend error, got {other:?}"),
    }
}

#[test]
fn compare_and_swap_follows_versions_and_survives_reopening() {
    let dir = TempDir::new("cas");
    let path = dir.path("state.db");
    let store = SqliteStore::create(&path).unwrap();
    assert_eq!(store.load(b"k").unwrap(), None);
    let v1 = stored(store.compare_and_swap(b"k", None, Some(b"one")).unwrap());
    assert_eq!(
        store.compare_and_swap(b"k", None, Some(b"x")).unwrap(),
        CasOutcome::Conflict
    );
    assert_eq!(
        store
            .compare_and_swap(b"k", Some(v1 + 7), Some(b"x"))
            .unwrap(),
        CasOutcome::Conflict
    );
    let v2 = stored(
        store
            .compare_and_swap(b"k", Some(v1), Some(b"two"))
            .unwrap(),
    );
    assert!(v2 > v1);
    // Delete and re-create: a new version, never an old one (no ABA).
    let v3 = stored(store.compare_and_swap(b"k", Some(v2), None).unwrap());
    assert_eq!(store.load(b"k").unwrap(), None);
    let v4 = stored(store.compare_and_swap(b"k", None, Some(b"three")).unwrap());
    assert!(v3 > v2 && v4 > v3);
    assert_eq!(
        store
            .compare_and_swap(b"k", Some(v2), Some(b"stale"))
            .unwrap(),
        CasOutcome::Conflict
    );
    // Limits are the same as the memory store's.
    assert_eq!(
        store.compare_and_swap(&[0; mail2fa::store::MAX_KEY_LEN + 1], None, Some(b"x")),
        Err(StoreError::TooLarge)
    );
    drop(store);

    // Another process, or a restart, sees exactly what was committed, and
    // the version counter goes on from where it was.
    let again = SqliteStore::open(&path).unwrap();
    let loaded = again.load(b"k").unwrap().unwrap();
    assert_eq!(
        (loaded.version, loaded.bytes.as_slice()),
        (v4, &b"three"[..])
    );
    let v5 = stored(again.compare_and_swap(b"other", None, Some(b"y")).unwrap());
    assert!(v5 > v4);
}

#[test]
fn a_new_database_is_private_and_links_are_refused() {
    let dir = TempDir::new("files");
    let path = dir.path("state.db");
    drop(SqliteStore::create(&path).unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");

    // A link to a real database, and a dangling link (a planted path).
    let link = dir.path("link.db");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    assert!(backend_error(SqliteStore::open(&link)).contains("symbolic link"));
    let dangling = dir.path("dangling.db");
    std::os::unix::fs::symlink(dir.path("nowhere.db"), &dangling).unwrap();
    assert!(backend_error(SqliteStore::open(&dangling)).contains("symbolic link"));
    assert!(
        !dir.path("nowhere.db").exists(),
        "nothing created through the link"
    );

    // A missing file is an error when creation is off.
    let options = SqliteOptions::default().with_create(false);
    backend_error(SqliteStore::open_with(dir.path("missing.db"), &options));
    assert!(!dir.path("missing.db").exists());
}

#[test]
fn files_that_are_not_our_database_are_refused() {
    let dir = TempDir::new("foreign");
    // Garbage bytes.
    let garbage = dir.path("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a database at all, just some bytes....",
    )
    .unwrap();
    backend_error(SqliteStore::open(&garbage));
    // Another application's SQLite database.
    let foreign = dir.path("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE users (name TEXT)")
        .unwrap();
    assert!(backend_error(SqliteStore::open(&foreign)).contains("no mail2fa schema"));
    assert!(backend_error(SqliteStore::create(&foreign)).contains("another application"));
    // Ours, but from a newer mail2fa (an unknown schema version).
    let newer = dir.path("newer.db");
    drop(SqliteStore::create(&newer).unwrap());
    let newer_version = mail2fa::store::SCHEMA_VERSION + 1;
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", newer_version)
        .unwrap();
    assert!(backend_error(SqliteStore::open(&newer)).contains("version"));
    // A corrupted page of our own database: refused on open or on read,
    // never an empty store.
    let corrupt = dir.path("corrupt.db");
    {
        let store = SqliteStore::create(&corrupt).unwrap();
        for n in 0..50u32 {
            stored(
                store
                    .compare_and_swap(&n.to_be_bytes(), None, Some(&[9; 300]))
                    .unwrap(),
            );
        }
        // The records into the database file (the store keeps its WAL on
        // close, where they would be read from otherwise).
        store.scrub().unwrap();
    }
    let mut bytes = std::fs::read(&corrupt).unwrap();
    let len = bytes.len();
    for byte in &mut bytes[len / 2..len / 2 + 2048] {
        *byte ^= 0x5a;
    }
    std::fs::write(&corrupt, bytes).unwrap();
    match SqliteStore::open(&corrupt) {
        Err(StoreError::Backend(_)) => {}
        Ok(store) => {
            let reads: Vec<_> = (0..50u32).map(|n| store.load(&n.to_be_bytes())).collect();
            assert!(
                reads
                    .iter()
                    .any(|r| matches!(r, Err(StoreError::Backend(_)))),
                "a corrupted database read as fine"
            );
        }
        Err(other) => panic!("{other:?}"),
    }
}

fn enrolled_engine(path: &Path) -> (Engine<SqliteStore>, AccountId, Totp) {
    let engine = Engine::new(SqliteStore::create(path).unwrap(), EngineConfig::default()).unwrap();
    engine.enable_platform("example.com", true).unwrap();
    let id = AccountId::new("example.com", "alice@example.com").unwrap();
    let uri = engine.enable_account(&id, NOW).unwrap();
    let key = KeyUri::parse(&uri).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    let first = totp.generate(NOW).unwrap();
    assert!(
        engine
            .login(&id, Some(first.as_str()), NOW)
            .unwrap()
            .is_allowed()
    );
    (engine, id, totp)
}

#[test]
fn a_consumed_code_stays_consumed_after_a_restart() {
    let dir = TempDir::new("restart");
    let path = dir.path("state.db");
    let (engine, id, totp) = enrolled_engine(&path);
    let code = totp.generate(NOW + 30).unwrap();
    assert!(
        engine
            .login(&id, Some(code.as_str()), NOW + 30)
            .unwrap()
            .is_allowed()
    );
    drop(engine);
    let engine = Engine::new(SqliteStore::open(&path).unwrap(), EngineConfig::default()).unwrap();
    let replay = engine.login(&id, Some(code.as_str()), NOW + 31).unwrap();
    assert_eq!(replay.client_answer(), ClientAnswer::Refused);
    assert_eq!(
        replay,
        mail2fa::engine::Decision::Deny {
            reason: DenyReason::Replayed
        }
    );
}

#[test]
fn a_full_disk_refuses_the_write_and_leaves_the_record_whole() {
    let dir = TempDir::new("full");
    let path = dir.path("state.db");
    let store = SqliteStore::create(&path).unwrap();
    let v1 = stored(store.compare_and_swap(b"k", None, Some(b"small")).unwrap());
    drop(store);
    // A database capped at its current size: any growth fails as it would
    // on a full disk (SQLITE_FULL).
    let size = std::fs::metadata(&path).unwrap().len();
    let options = SqliteOptions::default().with_max_size(size);
    let store = SqliteStore::open_with(&path, &options).unwrap();
    let big = vec![7u8; 60_000];
    let error = store
        .compare_and_swap(b"k", Some(v1), Some(&big))
        .expect_err("the database is full");
    assert!(
        matches!(&error, StoreError::Backend(m) if m.contains("full")),
        "{error:?}"
    );
    // Nothing half-written: the old record, at its old version.
    let loaded = store.load(b"k").unwrap().unwrap();
    assert_eq!(
        (loaded.version, loaded.bytes.as_slice()),
        (v1, &b"small"[..])
    );
    // The engine reports it as a storage error: the caller refuses the login.
    let engine = Engine::new(store, EngineConfig::default()).unwrap();
    // Long names (within the alphabet's limits) fill the file sooner.
    let long = format!(
        "{}@{}.{}.example",
        "a".repeat(56),
        "b".repeat(63),
        "c".repeat(63)
    );
    let id = AccountId::new("example.com", &long).unwrap();
    engine.enable_platform("example.com", true).unwrap();
    let mut failures = 0;
    for n in 0..200 {
        let id = AccountId::new("example.com", &format!("{n}{}", id.account())).unwrap();
        match engine.enable_account(&id, NOW) {
            Ok(_) => {}
            Err(Error::Store(StoreError::Backend(_))) => failures += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(failures > 0, "the cap was never reached");
}

#[test]
fn loads_never_write_the_database() {
    let dir = TempDir::new("reads");
    let path = dir.path("state.db");
    let store = SqliteStore::create(&path).unwrap();
    stored(store.compare_and_swap(b"k", None, Some(b"v")).unwrap());
    // PRAGMA data_version, seen from another connection, changes whenever
    // anyone else commits.
    let observer = rusqlite::Connection::open(&path).unwrap();
    let version = || -> i64 {
        observer
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .unwrap()
    };
    let before = version();
    for _ in 0..1_000 {
        store.load(b"k").unwrap();
        store.load(b"absent").unwrap();
    }
    assert_eq!(version(), before);
    stored(store.compare_and_swap(b"k2", None, Some(b"w")).unwrap());
    assert_ne!(version(), before, "the observer does see commits");
}

#[test]
fn an_activated_device_stays_activated_across_restarts_and_processes() {
    use mail2fa::engine::{ClientInfo, Credential, Decision, LoginRequest, Protocol};
    let dir = TempDir::new("devices");
    let path = dir.path("state.db");
    let (engine, id, _) = enrolled_engine(&path);
    let outlook = LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
        .with_client(ClientInfo::new().with_user_agent(
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928)",
        ));
    let Decision::DevicePending { device, .. } = engine.authenticate(&id, &outlook, NOW).unwrap()
    else {
        panic!("a new device is pending");
    };
    engine.activate_device(&id, &device, NOW).unwrap();
    // No device key configured: the engine keeps one in the store, so a
    // restarted engine (or another process) computes the same fingerprint.
    let other = Engine::new(SqliteStore::open(&path).unwrap(), EngineConfig::default()).unwrap();
    let decision = other.authenticate(&id, &outlook, NOW + 1).unwrap();
    assert!(decision.is_allowed(), "{decision:?}");
    assert_eq!(decision.device(), Some(device));
}

/// Whether `needle` occurs in the database file or its WAL.
fn on_disk(path: &Path, needle: &[u8]) -> bool {
    ["", "-wal"].iter().any(|suffix| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::read(file).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

#[test]
fn secrets_are_encrypted_at_rest_and_a_wrong_key_refuses_the_login() {
    use mail2fa::engine::EncryptionKeys;
    let dir = TempDir::new("sealed");
    let path = dir.path("state.db");
    drop(SqliteStore::create(&path).unwrap());
    let sealed = |keys: Option<EncryptionKeys>| {
        let config = EngineConfig::default().with_encryption(keys);
        Engine::new(SqliteStore::open(&path).unwrap(), config).unwrap()
    };
    let key1 = [0x11; 32];
    let engine = sealed(Some(EncryptionKeys::new(1, key1)));
    engine.enable_platform("example.com", true).unwrap();
    let id = AccountId::new("example.com", "alice@example.com").unwrap();
    let uri = engine.enable_account(&id, NOW).unwrap();
    let key = KeyUri::parse(&uri).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    let secret = key.secret().expose_bytes().to_vec();
    engine
        .set_contact(&id, Some("alice.private@example.org"), None)
        .unwrap();
    assert!(
        engine
            .login(&id, Some(totp.generate(NOW).unwrap().as_str()), NOW)
            .unwrap()
            .is_allowed()
    );
    drop(engine);
    // Neither the secret nor the contact is anywhere in the files.
    assert!(
        !on_disk(&path, &secret),
        "the TOTP secret is on disk in clear"
    );
    assert!(!on_disk(&path, b"alice.private@example.org"));

    // No key, or a wrong one: the login is refused with a clear error,
    // never read as "no 2FA".
    for keys in [None, Some(EncryptionKeys::new(1, [0x99; 32]))] {
        let engine = sealed(keys);
        let code = totp.generate(NOW + 30).unwrap();
        assert!(matches!(
            engine.login(&id, Some(code.as_str()), NOW + 30),
            Err(Error::Encryption(_))
        ));
        assert!(matches!(
            engine.split_login(&id, "hunter2123456", NOW + 30),
            Err(Error::Encryption(_))
        ));
    }

    // Rotation: key 2 seals from now on, key 1 still opens the old record;
    // after a write, key 2 alone is enough.
    let rotated = EncryptionKeys::new(2, [0x22; 32])
        .with_previous(1, key1)
        .unwrap();
    let engine = sealed(Some(rotated));
    let code = totp.generate(NOW + 30).unwrap();
    assert!(
        engine
            .login(&id, Some(code.as_str()), NOW + 30)
            .unwrap()
            .is_allowed()
    );
    drop(engine);
    let engine = sealed(Some(EncryptionKeys::new(2, [0x22; 32])));
    let code = totp.generate(NOW + 60).unwrap();
    assert!(
        engine
            .login(&id, Some(code.as_str()), NOW + 60)
            .unwrap()
            .is_allowed()
    );
    drop(engine);

    // Turning encryption on for a database written in clear: its plain
    // records are refused (EngineConfig::require_sealed) until sealed by
    // the migration (Engine::seal_records, `mail2fa db seal`).
    let bob = AccountId::new("example.com", "bob@example.com").unwrap();
    let engine = sealed(None);
    let uri = engine.enable_account(&bob, NOW).unwrap();
    let bob_secret = KeyUri::parse(&uri)
        .unwrap()
        .secret()
        .expose_bytes()
        .to_vec();
    drop(engine);
    // (Written in clear, it is visible: the check above can see a secret.)
    assert!(on_disk(&path, &bob_secret));
    let engine = sealed(Some(EncryptionKeys::new(2, [0x22; 32])));
    assert!(matches!(
        engine.suspend(&bob, 60, NOW),
        Err(Error::Encryption(_))
    ));
    assert_eq!(engine.seal_records().unwrap(), 1);
    assert_eq!(engine.seal_records().unwrap(), 0, "nothing left to seal");
    engine.suspend(&bob, 60, NOW).unwrap();
    drop(engine);
    let clean = rusqlite::Connection::open(&path).unwrap();
    clean
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .unwrap();
    drop(clean);
    assert!(
        !on_disk(&path, &bob_secret),
        "the clear record was not re-sealed"
    );
}

#[test]
fn many_openers_of_a_new_file_all_succeed() {
    // Auth processes starting together on a database that does not exist
    // yet: one creates it, the others open it; the schema is made once.
    // (SQLite may refuse the switch to WAL at once while another opener
    // holds the new file; the store retries within its busy timeout. A
    // busy machine made this fail; 50 rounds of 16 openers make it likely.)
    for round in 0..50 {
        openers_of_a_new_file_all_succeed(&format!("openers-{round}"), 16);
    }
}

fn openers_of_a_new_file_all_succeed(name: &str, openers: usize) {
    let dir = TempDir::new(name);
    let path = dir.path("state.db");
    let stores: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..openers)
            .map(|_| scope.spawn(|| SqliteStore::create(&path)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for store in &stores {
        assert!(store.as_ref().is_ok(), "{store:?}");
    }
    let first = stores[0].as_ref().unwrap();
    let version = stored(first.compare_and_swap(b"k", None, Some(b"v")).unwrap());
    for store in &stores {
        assert_eq!(
            store.as_ref().unwrap().load(b"k").unwrap().unwrap().version,
            version
        );
    }
}
