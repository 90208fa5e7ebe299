//! Maintenance: dead state expired in bounded batches, on the built-in
//! stores (and on the backend the suite runs on, `MAIL2FA_TEST_STORE`),
//! without touching what decides a login.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{
    AccountId, ClientInfo, Credential, Decision, DenyReason, DevicePolicy, Engine, EngineConfig,
    LoginRequest, Mode, Protocol,
};
use mail2fa::store::{MemoryStore, Store, StoreError};
use mail2fa::{Error, KeyUri, Totp};
use support::fresh_store;

const NOW: u64 = 1_800_000_000;
const DAY: u64 = 86_400;

fn config() -> EngineConfig {
    EngineConfig::default().with_devices(DevicePolicy::default().with_pending_ttl(DAY))
}

fn enroll<S: Store>(engine: &Engine<S>, id: &AccountId) {
    let uri = engine.enable_account(id, NOW).unwrap();
    let key = KeyUri::parse(&uri).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    let code = totp.generate(NOW).unwrap();
    assert!(
        engine
            .login(id, Some(code.as_str()), NOW)
            .unwrap()
            .is_allowed()
    );
}

fn pending_device<S: Store>(engine: &Engine<S>, id: &AccountId, name: &str, at: u64) {
    let request = LoginRequest::new(Protocol::ActiveSync, Credential::Password { correct: true })
        .with_client(ClientInfo::new().with_device_id(Some(name)));
    let decision = engine.authenticate(id, &request, at).unwrap();
    assert!(
        matches!(decision, Decision::DevicePending { .. }),
        "{decision:?}"
    );
}

/// The whole walk, in batches of `batch`: (examined, changed, calls).
fn walk<S: Store>(engine: &Engine<S>, now: u64, batch: usize) -> (usize, usize, usize) {
    let (mut examined, mut changed) = (0, 0);
    for calls in 1..=1_000 {
        let report = engine.maintain(now, batch).unwrap();
        assert!(report.examined <= batch);
        examined += report.examined;
        changed += report.changed;
        if report.finished {
            return (examined, changed, calls);
        }
    }
    panic!("maintenance never finished");
}

fn expires_dead_state<S: Store>(store: S) {
    let engine = Engine::new(store, config()).unwrap();
    engine.enable_platform("example.com", true).unwrap();
    let ann = AccountId::new("example.com", "ann@example.com").unwrap();
    let bob = AccountId::new("example.com", "bob@example.com").unwrap();
    let cat = AccountId::new("example.com", "cat@example.com").unwrap();
    for id in [&ann, &bob, &cat] {
        enroll(&engine, id);
    }
    // ann: an e-mail code that will expire.
    engine
        .set_contact(&ann, Some("ann@example.org"), None)
        .unwrap();
    engine.set_mode(&ann, Mode::Email).unwrap();
    engine.issue_code(&ann, NOW).unwrap();
    // bob: two pending devices, one of which will expire.
    pending_device(&engine, &bob, "old", NOW);
    pending_device(&engine, &bob, "new", NOW + DAY - 10);
    // cat: a device, then 2FA removed: its device record is dead.
    pending_device(&engine, &cat, "phone", NOW);
    engine.remove(&cat).unwrap();

    // Nothing is dead yet: a walk changes nothing.
    let (examined, changed, _) = walk(&engine, NOW + 10, 2);
    assert!(examined >= 5, "{examined}");
    assert_eq!(changed, 0);

    // Later: ann's code and bob's old device are dead.
    let later = NOW + DAY + 5;
    let (_, changed, calls) = walk(&engine, later, 2);
    assert_eq!(changed, 2, "the e-mail code and the clients record of bob");
    assert!(calls >= 3, "batches of 2 over the store: {calls} calls");
    assert_eq!(engine.devices(&bob, later).unwrap().len(), 1);
    // The expired code is gone; logins still refuse it (never "no 2FA").
    let decision = engine.login(&ann, Some("123456"), later).unwrap();
    assert_eq!(
        decision,
        Decision::Deny {
            reason: DenyReason::NoCodeIssued
        }
    );
    // A second walk finds nothing more.
    assert_eq!(walk(&engine, later, 3).1, 0);
}

#[test]
fn maintenance_on_the_memory_store() {
    expires_dead_state(MemoryStore::new());
}

#[test]
fn maintenance_on_the_suite_backend() {
    expires_dead_state(fresh_store());
}

#[cfg(feature = "sqlite")]
#[test]
fn maintenance_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("m2fa-maintain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    expires_dead_state(mail2fa::store::SqliteStore::create(dir.join("state.db")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn removed_accounts_lose_their_device_records_and_bad_batches_are_refused() {
    let engine = Engine::new(fresh_store(), config()).unwrap();
    engine.enable_platform("example.com", true).unwrap();
    let id = AccountId::new("example.com", "dee@example.com").unwrap();
    enroll(&engine, &id);
    pending_device(&engine, &id, "phone", NOW);
    // A crash between the two deletes of `remove` leaves the device record
    // behind: simulated by deleting only the account record.
    let key = id.store_key();
    let version = engine.store().load(&key).unwrap().unwrap().version;
    engine
        .store()
        .compare_and_swap(&key, Some(version), None)
        .unwrap();
    let before = engine.store().scan(None, 100).unwrap().len();
    assert_eq!(walk(&engine, NOW, 10).1, 1);
    assert_eq!(engine.store().scan(None, 100).unwrap().len(), before - 1);
    for batch in [0, 10_001] {
        assert!(matches!(
            engine.maintain(NOW, batch),
            Err(Error::InvalidConfig(_))
        ));
    }
}

/// A store that cannot list its records.
struct Opaque(MemoryStore);

impl Store for Opaque {
    fn load(&self, key: &[u8]) -> Result<Option<mail2fa::store::Versioned>, StoreError> {
        self.0.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<mail2fa::store::CasOutcome, StoreError> {
        self.0.compare_and_swap(key, expected, new)
    }
}

#[test]
fn a_store_that_cannot_list_says_so() {
    let engine = Engine::new(Opaque(MemoryStore::new()), config()).unwrap();
    assert_eq!(
        engine.maintain(NOW, 10),
        Err(Error::Store(StoreError::Unsupported))
    );
}
