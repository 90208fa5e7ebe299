//! The walk over the whole store (`Engine::check_records`): what it counts,
//! the records it cannot read (sealed under other keys, moved under another
//! account), batches and the cap on the list, a store that cannot list; and
//! the SQLite file check (`SqliteStore::check`), all through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::RecordError;
use mail2fa::engine::{
    AccountId, EncryptionKeys, Engine, EngineConfig, MAX_LISTED_PROBLEMS, Protocol, ProtocolPolicy,
    RecordCheck,
};
use mail2fa::store::{CasOutcome, MemoryStore, Store, StoreError, Versioned};
use support::engine::*;
use support::fresh_store;
use support::records::*;

// ------------------------------------------------------------------ helpers

/// A store that cannot list its records (keeps the default `scan`).
struct NoScan(MemoryStore);

impl Store for NoScan {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.0.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.0.compare_and_swap(key, expected, new)
    }
}

fn encrypted(key: [u8; 32]) -> EngineConfig {
    EngineConfig::default().with_encryption(EncryptionKeys::new(1, key))
}

// -------------------------------------------------------------- check_records

/// Three platforms (one only through a policy), three accounts (alice with
/// an application password), and the stored device key.
fn populated(engine: &Engine<impl Store>) -> [AccountId; 3] {
    engine.enable_platform(PLATFORM, true).unwrap();
    engine.enable_platform("example.org", true).unwrap();
    engine
        .set_platform_policy(
            "third.example",
            &Protocol::Imap,
            Some(ProtocolPolicy::Refused),
        )
        .unwrap();
    let alice = account("alice@example.com");
    let bob = account("bob@example.com");
    let carol = AccountId::new("example.org", "carol@example.org").unwrap();
    for id in [&alice, &bob, &carol] {
        engine.enable_account(id, NOW).unwrap();
    }
    engine
        .create_app_password(&alice, "phone", &[], NOW)
        .unwrap();
    [alice, bob, carol]
}

#[test]
fn check_records_counts_every_kind_of_record() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();
    // An empty store but for the device key.
    let empty = engine.check_records().unwrap();
    assert_eq!(
        (empty.platforms, empty.accounts, empty.clients, empty.other),
        (0, 0, 0, 1)
    );
    assert_eq!(empty.unreadable, 0);

    populated(&engine);
    let check = engine.check_records().unwrap();
    assert_eq!(check.platforms, 3);
    assert_eq!(check.accounts, 3);
    assert_eq!(check.sealed_accounts, 0);
    assert_eq!(check.clients, 1);
    assert_eq!(check.other, 1);
    assert_eq!(check.unreadable, 0);
    assert!(check.problems.is_empty());
    // Checking changes nothing.
    assert_eq!(engine.check_records().unwrap(), check);

    // With a device key in the configuration, none is stored.
    let keyed = Engine::new(
        fresh_store(),
        EngineConfig::default().with_device_key(mail2fa::engine::DeviceKey::from_bytes([3; 32])),
    )
    .unwrap();
    assert_eq!(keyed.check_records().unwrap(), RecordCheck::default());
}

#[test]
fn check_records_names_the_records_it_cannot_read() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();
    let [alice, bob, carol] = populated(&engine);
    let store = engine.store();

    corrupt(store, &bob.store_key());
    let check = engine.check_records().unwrap();
    assert_eq!(check.accounts, 2);
    assert_eq!(check.unreadable, 1);
    assert_eq!(
        check.problems,
        vec![(
            "account example.com/bob@example.com".to_owned(),
            Error::Record(RecordError::Checksum)
        )]
    );
    // Everything else is still counted.
    assert_eq!((check.platforms, check.clients, check.other), (3, 1, 1));
    // The same error a login of bob's gets; the others are fine.
    assert_eq!(
        engine.login(&bob, None, NOW),
        Err(Error::Record(RecordError::Checksum))
    );
    assert!(engine.account_status(&alice, NOW).is_ok());
    assert!(engine.account_status(&carol, NOW).is_ok());

    // One of every kind, and a key the engine never writes: listed in key
    // order (acct < clnt < dkey < plat < zzzz).
    corrupt(store, &clients_key(&alice));
    corrupt(store, &platform_key("example.org"));
    corrupt(store, b"dkey");
    store
        .compare_and_swap(b"zzzz-foreign", None, Some(b"hello"))
        .unwrap();
    let check = engine.check_records().unwrap();
    assert_eq!(check.unreadable, 5);
    assert_eq!(check.accounts, 2);
    assert_eq!(check.platforms, 2);
    assert_eq!(check.clients, 0);
    assert_eq!(check.other, 0);
    let names = problem_names(&check);
    assert_eq!(
        names,
        [
            "account example.com/bob@example.com",
            "devices of example.com/alice@example.com",
            "key dkey",
            "platform example.org",
            "key zzzz-foreign",
        ]
    );
    for (name, error) in &check.problems[..4] {
        assert_eq!(*error, Error::Record(RecordError::Checksum), "{name}");
    }
    assert!(
        matches!(check.problems[4].1, Error::InvalidInput(_)),
        "{:?}",
        check.problems[4]
    );
}

#[test]
fn check_records_walks_past_a_batch_and_caps_the_list() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();
    populated(&engine);
    // More unreadable records than one batch of 1,000, all before the good
    // ones in key order (`aaaa` < `acct`): those are in the second batch.
    let junk = 1_050;
    for n in 0..junk {
        let key = format!("aaaa{n:05}");
        engine
            .store()
            .compare_and_swap(key.as_bytes(), None, Some(b"junk"))
            .unwrap();
    }
    // And one after everything.
    engine
        .store()
        .compare_and_swap(b"zzzzzzzz", None, Some(b"junk"))
        .unwrap();

    let check = engine.check_records().unwrap();
    assert_eq!(check.unreadable, junk + 1);
    assert_eq!(check.problems.len(), MAX_LISTED_PROBLEMS);
    assert_eq!(check.problems[0].0, "key aaaa00000");
    assert_eq!(
        check.problems[MAX_LISTED_PROBLEMS - 1].0,
        format!("key aaaa{:05}", MAX_LISTED_PROBLEMS - 1)
    );
    assert!(
        check
            .problems
            .iter()
            .all(|(_, error)| matches!(error, Error::InvalidInput(_)))
    );
    assert_eq!(check.platforms, 3);
    assert_eq!(check.accounts, 3);
    assert_eq!(check.clients, 1);
    assert_eq!(check.other, 1);
}

#[test]
fn check_records_with_many_good_records_counts_them_all() {
    let engine = engine();
    // 2,100 accounts: three batches.
    for n in 0..2_100 {
        let id = account(&format!("user{n:04}@example.com"));
        engine.enable_account(&id, NOW).unwrap();
    }
    let check = engine.check_records().unwrap();
    assert_eq!(check.accounts, 2_100);
    assert_eq!(check.platforms, 1);
    assert_eq!(check.other, 1);
    assert_eq!(check.unreadable, 0);
}

#[test]
fn check_records_opens_sealed_accounts_with_the_configured_keys() {
    let store = fresh_store();
    let store = &*store;
    // One account written in clear before encryption was turned on.
    let plain = Engine::new(store, EngineConfig::default()).unwrap();
    plain.enable_platform(PLATFORM, true).unwrap();
    let dan = account("dan@example.com");
    plain.enable_account(&dan, NOW).unwrap();

    let sealing = Engine::new(store, encrypted([7; 32])).unwrap();
    let [alice, bob, carol] = populated(&sealing);
    // The plain record is refused as a login would refuse it (encrypted
    // records are required once keys are configured)...
    let check = sealing.check_records().unwrap();
    assert_eq!(check.accounts, 3);
    assert_eq!(check.sealed_accounts, 3);
    assert_eq!(check.clients, 1);
    assert_eq!(check.platforms, 3);
    assert_eq!(check.other, 1);
    assert_eq!(check.unreadable, 1);
    assert_eq!(
        problem_names(&check),
        ["account example.com/dan@example.com"]
    );
    assert!(matches!(check.problems[0].1, Error::Encryption(_)));
    assert!(matches!(
        sealing.suspend(&dan, 60, NOW),
        Err(Error::Encryption(_))
    ));
    // ...until the migration seals it.
    assert_eq!(sealing.seal_records().unwrap(), 1);
    let check = sealing.check_records().unwrap();
    assert_eq!((check.accounts, check.sealed_accounts), (4, 4));
    assert_eq!(check.unreadable, 0);
    // Their statuses read too.
    for id in [&alice, &bob, &carol, &dan] {
        assert!(sealing.account_status(id, NOW).is_ok(), "{id:?}");
    }

    // Another key under the same id: nothing sealed opens (the clients
    // record, sealed too, neither).
    let wrong = Engine::new(store, encrypted([8; 32])).unwrap();
    let check = wrong.check_records().unwrap();
    assert_eq!(check.accounts, 0);
    assert_eq!(check.sealed_accounts, 0);
    assert_eq!(check.unreadable, 5);
    assert_eq!(check.platforms, 3);
    assert_eq!(check.clients, 0);
    let names = problem_names(&check);
    assert_eq!(
        names,
        [
            "account example.com/alice@example.com",
            "account example.com/bob@example.com",
            "account example.com/dan@example.com",
            "account example.org/carol@example.org",
            "devices of example.com/alice@example.com",
        ]
    );
    for (name, error) in &check.problems {
        assert!(matches!(error, Error::Encryption(_)), "{name}: {error:?}");
    }
    assert!(matches!(
        wrong.account_status(&alice, NOW),
        Err(Error::Encryption(_))
    ));

    // No key at all: the same.
    let keyless = Engine::new(store, EngineConfig::default()).unwrap();
    let check = keyless.check_records().unwrap();
    assert_eq!(check.unreadable, 5);
    assert!(
        check
            .problems
            .iter()
            .all(|(_, error)| matches!(error, Error::Encryption(_)))
    );

    // The right key kept as an older one still opens them all.
    let rotated = Engine::new(
        store,
        EngineConfig::default().with_encryption(
            EncryptionKeys::new(2, [9; 32])
                .with_previous(1, [7; 32])
                .unwrap(),
        ),
    )
    .unwrap();
    let check = rotated.check_records().unwrap();
    assert_eq!((check.accounts, check.sealed_accounts), (4, 4));
    assert_eq!(check.unreadable, 0);
}

#[test]
fn a_sealed_record_moved_under_another_account_is_reported() {
    let engine = Engine::new(fresh_store(), encrypted([7; 32])).unwrap();
    let [alice, bob, _] = populated(&engine);
    let store = engine.store();
    let alices = store.load(&alice.store_key()).unwrap().unwrap();
    let bobs = store.load(&bob.store_key()).unwrap().unwrap();
    store
        .compare_and_swap(&bob.store_key(), Some(bobs.version), Some(&alices.bytes))
        .unwrap();
    let check = engine.check_records().unwrap();
    assert_eq!(check.accounts, 2);
    assert_eq!(check.unreadable, 1);
    assert_eq!(check.problems[0].0, "account example.com/bob@example.com");
    assert!(matches!(check.problems[0].1, Error::Encryption(_)));
}

#[test]
fn check_records_needs_a_store_that_can_list() {
    let engine = Engine::new(NoScan(MemoryStore::new()), EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    assert_eq!(
        engine.check_records(),
        Err(Error::Store(StoreError::Unsupported))
    );
    // The rest of the status API does not need it.
    let id = account("alice@example.com");
    engine.enable_account(&id, NOW).unwrap();
    assert!(engine.account_status(&id, NOW).is_ok());
    assert!(engine.platform_status(PLATFORM).unwrap().enabled);

    // A boxed store lists through its box.
    let backend: Box<dyn Store> = Box::new(MemoryStore::new());
    let boxed = Engine::new(backend, EngineConfig::default()).unwrap();
    boxed.enable_platform(PLATFORM, true).unwrap();
    let check = boxed.check_records().unwrap();
    assert_eq!((check.platforms, check.other), (1, 1));
}

// ------------------------------------------------------------ SqliteStore::check

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use mail2fa::store::{SCHEMA_VERSION, SqliteStore};
    use support::TempDir;

    #[test]
    fn a_fresh_database_is_sound_and_counts_its_records() {
        let dir = TempDir::new("fresh");
        let path = dir.path("state.db");
        let store = SqliteStore::create(&path).unwrap();
        let fresh = store.check().unwrap();
        assert!(fresh.is_sound(), "{fresh:?}");
        assert_eq!(fresh.integrity, vec!["ok".to_owned()]);
        assert_eq!(fresh.schema_version, SCHEMA_VERSION);
        assert_eq!(fresh.records, 0);
        assert!(fresh.size_bytes > 0);

        // The engine stores its device key, then platforms and accounts.
        let engine = Engine::new(store, EngineConfig::default()).unwrap();
        assert_eq!(engine.store().check().unwrap().records, 1);
        engine.enable_platform(PLATFORM, true).unwrap();
        let alice = account("alice@example.com");
        engine.enable_account(&alice, NOW).unwrap();
        let check = engine.store().check().unwrap();
        assert_eq!(check.records, 3);
        assert!(check.is_sound());
        engine
            .create_app_password(&alice, "phone", &[], NOW)
            .unwrap();
        for n in 0..200 {
            engine
                .enable_account(&account(&format!("user{n:03}@example.com")), NOW)
                .unwrap();
        }
        let grown = engine.store().check().unwrap();
        assert_eq!(grown.records, 204);
        assert!(grown.is_sound(), "{grown:?}");
        assert_eq!(grown.schema_version, SCHEMA_VERSION);
        assert!(grown.size_bytes >= fresh.size_bytes);
        assert!(grown.size_bytes > 0);

        // The engine's own walk agrees with SQLite's count.
        let records = engine.check_records().unwrap();
        assert_eq!(
            (
                records.platforms,
                records.accounts,
                records.clients,
                records.other
            ),
            (1, 201, 1, 1)
        );
        let total = records.platforms + records.accounts + records.clients + records.other;
        assert_eq!(total as u64, grown.records);

        // Removing records lowers the count.
        engine.remove(&alice).unwrap();
        assert_eq!(engine.store().check().unwrap().records, 202);

        // A second opening of the file sees the same.
        let again = SqliteStore::open(&path).unwrap();
        let seen = again.check().unwrap();
        assert_eq!(seen.records, 202);
        assert!(seen.is_sound());
    }

    #[test]
    fn check_records_on_sqlite_with_two_keys() {
        let dir = TempDir::new("keys");
        let path = dir.path("state.db");
        let sealing = Engine::new(SqliteStore::create(&path).unwrap(), encrypted([7; 32])).unwrap();
        let [alice, ..] = populated(&sealing);
        let check = sealing.check_records().unwrap();
        assert_eq!((check.accounts, check.sealed_accounts), (3, 3));
        assert_eq!((check.platforms, check.clients, check.other), (3, 1, 1));

        // The same file, another process's engine with another key.
        let wrong = Engine::new(SqliteStore::open(&path).unwrap(), encrypted([8; 32])).unwrap();
        let check = wrong.check_records().unwrap();
        assert_eq!(check.accounts, 0);
        // The sealed clients record does not open either.
        assert_eq!(check.unreadable, 4);
        assert_eq!(
            check.problems[0].0,
            format!("account example.com/{}", alice.account())
        );
        assert!(
            check
                .problems
                .iter()
                .all(|(_, error)| matches!(error, Error::Encryption(_)))
        );

        // A corrupt row, written straight through the store.
        corrupt(sealing.store(), &platform_key("example.org"));
        let check = sealing.check_records().unwrap();
        assert_eq!(check.platforms, 2);
        assert_eq!(check.unreadable, 1);
        assert_eq!(
            check.problems,
            vec![(
                "platform example.org".to_owned(),
                Error::Record(RecordError::Checksum)
            )]
        );
        // SQLite itself finds nothing wrong: the damage is in a record.
        assert!(sealing.store().check().unwrap().is_sound());
    }
}

/// The records a check could not read, by name.
fn problem_names(check: &RecordCheck) -> Vec<&str> {
    check
        .problems
        .iter()
        .map(|(name, _)| name.as_str())
        .collect()
}
