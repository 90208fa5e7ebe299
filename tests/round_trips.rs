//! Issue 20: every login asks its store for what it needs in one call —
//! the account's record, its platform's and its clients record through
//! `Store::load_many`, one statement (one round trip) on PostgreSQL — and a
//! login that changes something writes once more; replays, locked-out
//! attempts and authorized devices write nothing. Counted at the store's
//! interface, on the backend `MAIL2FA_TEST_STORE` names
//! (`scripts/test-stores.sh` runs it on SQLite and PostgreSQL too).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Mutex;

use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Credential, Decision, DenyReason, Engine, EngineConfig,
    LoginAttempt, LoginRequest, Protocol, ProtocolPolicy,
};
use mail2fa::store::{CasOutcome, ScannedRecord, Store, StoreError, Versioned};
use support::engine::{NOW, PLATFORM, account};
use support::{TestStore, code, enroll, fresh_store, wrong_code};

/// The calls a store got: single loads, `load_many` calls and the keys they
/// asked for, compare-and-swaps (durable, and relaxed: counts of wrong
/// codes).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Calls {
    loads: usize,
    load_many: usize,
    keys: usize,
    swaps: usize,
    relaxed: usize,
}

/// `fresh_store()`, counting its calls.
struct Counting {
    inner: TestStore,
    calls: Mutex<Calls>,
}

impl Counting {
    fn take(&self) -> Calls {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    fn count(&self, change: impl FnOnce(&mut Calls)) {
        change(&mut self.calls.lock().unwrap());
    }
}

impl Store for Counting {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.count(|c| c.loads += 1);
        self.inner.load(key)
    }

    fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
        self.count(|c| {
            c.load_many += 1;
            c.keys += keys.len();
        });
        self.inner.load_many(keys)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.count(|c| c.swaps += 1);
        self.inner.compare_and_swap(key, expected, new)
    }

    fn compare_and_swap_relaxed(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.count(|c| c.relaxed += 1);
        self.inner.compare_and_swap_relaxed(key, expected, new)
    }

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        self.inner.scan(after, limit)
    }
}

/// One call of three keys, and `swaps` durable writes.
fn one_read(swaps: usize) -> Calls {
    Calls {
        loads: 0,
        load_many: 1,
        keys: 3,
        swaps,
        relaxed: 0,
    }
}

const PASSWORD: &str = "T9D3K!px";

fn setup() -> Engine<Counting> {
    let store = Counting {
        inner: fresh_store(),
        calls: Mutex::default(),
    };
    let engine = Engine::new(store, EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    engine
}

fn imap_code(code: &str) -> LoginRequest<'_> {
    // No client address: no device binding, whose record a code login
    // would also write.
    LoginRequest::new(
        Protocol::Imap,
        Credential::PasswordAndCode {
            correct: true,
            code,
        },
    )
}

#[test]
fn a_code_login_is_one_read_and_one_write_and_its_replay_writes_nothing() {
    let engine = setup();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let store = engine.store();
    let t = NOW + 60;
    let good = code(&totp, t / 30);

    store.take();
    let decision = engine.authenticate(&alice, &imap_code(&good), t).unwrap();
    assert!(decision.is_allowed(), "{decision:?}");
    assert_eq!(store.take(), one_read(1), "code accepted");

    let decision = engine
        .authenticate(&alice, &imap_code(&good), t + 5)
        .unwrap();
    assert!(
        matches!(
            decision,
            Decision::Deny {
                reason: DenyReason::Replayed,
                ..
            }
        ),
        "{decision:?}"
    );
    assert_eq!(store.take(), one_read(0), "replayed code");

    let wrong = wrong_code(&totp, t / 30, 0);
    let decision = engine
        .authenticate(&alice, &imap_code(&wrong), t + 10)
        .unwrap();
    assert!(!decision.is_allowed(), "{decision:?}");
    assert_eq!(
        store.take(),
        Calls {
            relaxed: 1,
            ..one_read(0)
        },
        "wrong code: counted, once, without waiting for the disk"
    );

    // The one-call form: the same reads, the same write.
    let typed = format!("{PASSWORD}{}", code(&totp, t / 30 + 1));
    let attempt = LoginAttempt::new(Protocol::Imap, &typed);
    let decision = engine
        .check_login(&alice, &attempt, t + 30, |p: &str| p == PASSWORD)
        .unwrap();
    assert!(decision.is_allowed(), "{decision:?}");
    assert_eq!(store.take(), one_read(1), "check_login with a code");
}

#[test]
fn a_locked_out_attempt_reads_once_and_writes_nothing() {
    let engine = setup();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let store = engine.store();
    let t = NOW + 60;
    // Each wrong code is counted without waiting for the disk, except the
    // one that locks the account: a lock is written durably.
    let mut writes = Vec::new();
    for salt in 0..10 {
        store.take();
        let wrong = wrong_code(&totp, t / 30, salt);
        let decision = engine
            .authenticate(&alice, &imap_code(&wrong), t + salt)
            .unwrap();
        if let Decision::Deny {
            reason: DenyReason::Locked { .. },
            ..
        } = decision
        {
            break;
        }
        writes.push(store.take());
    }
    let relaxed = Calls {
        relaxed: 1,
        ..one_read(0)
    };
    let (locking, counted) = writes.split_last().expect("wrong codes were tried");
    assert!(
        !counted.is_empty() && counted.iter().all(|c| *c == relaxed),
        "{writes:?}"
    );
    assert_eq!(*locking, one_read(1), "the wrong code that locks: durable");
    store.take();
    let right = code(&totp, (t + 12) / 30);
    let decision = engine
        .authenticate(&alice, &imap_code(&right), t + 12)
        .unwrap();
    assert!(
        matches!(
            decision,
            Decision::Deny {
                reason: DenyReason::Locked { .. },
                ..
            }
        ),
        "{decision:?}"
    );
    assert_eq!(store.take(), one_read(0), "locked out");
}

#[test]
fn an_authorized_device_and_an_account_without_2fa_read_once_and_write_nothing() {
    let engine = setup();
    let alice = account("alice@example.com");
    enroll(&engine, &alice, NOW);
    let store = engine.store();
    let outlook = LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
        .with_client(
            ClientInfo::new()
                .with_device_type("WindowsOutlook15")
                .with_user_agent("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0)")
                .with_remote_addr("198.51.100.20"),
        );
    let Decision::DevicePending { device, .. } =
        engine.authenticate(&alice, &outlook, NOW + 1).unwrap()
    else {
        panic!("a new device is pending");
    };
    engine.activate_device(&alice, &device, NOW + 2).unwrap();

    store.take();
    let decision = engine.authenticate(&alice, &outlook, NOW + 3).unwrap();
    assert_eq!(
        decision,
        Decision::Allow {
            reason: AllowReason::DeviceAuthorized { device },
            cacheable: false
        }
    );
    assert_eq!(store.take(), one_read(0), "authorized device");

    let bob = AccountId::new(PLATFORM, "bob@example.com").unwrap();
    let decision = engine.authenticate(&bob, &outlook, NOW + 3).unwrap();
    assert!(decision.is_allowed(), "{decision:?}");
    assert_eq!(store.take(), one_read(0), "no 2FA");

    let wrong = LoginRequest::new(Protocol::Imap, Credential::Password { correct: false });
    assert!(
        !engine
            .authenticate(&bob, &wrong, NOW + 4)
            .unwrap()
            .is_allowed()
    );
    assert!(
        !engine
            .authenticate(&alice, &wrong, NOW + 4)
            .unwrap()
            .is_allowed()
    );
    assert_eq!(
        store.take(),
        Calls {
            loads: 0,
            load_many: 2,
            keys: 6,
            swaps: 0,
            relaxed: 0
        },
        "wrong passwords, with and without 2FA"
    );
}

#[test]
fn load_many_answers_in_the_order_asked_with_none_for_absent_keys() {
    let store = fresh_store();
    let CasOutcome::Stored { version: a } =
        store.compare_and_swap(b"a", None, Some(b"one")).unwrap()
    else {
        panic!("a new key is stored");
    };
    let CasOutcome::Stored { version: b } =
        store.compare_and_swap(b"b", None, Some(b"two")).unwrap()
    else {
        panic!("a new key is stored");
    };
    let keys: [&[u8]; 5] = [b"b", b"missing", b"a", b"b", &[0xff; 40]];
    let loaded = store.load_many(&keys).unwrap();
    let seen: Vec<Option<(u64, &[u8])>> = loaded
        .iter()
        .map(|r| r.as_ref().map(|r| (r.version, r.bytes.as_slice())))
        .collect();
    assert_eq!(
        seen,
        [
            Some((b, &b"two"[..])),
            None,
            Some((a, &b"one"[..])),
            Some((b, &b"two"[..])),
            None
        ]
    );
    // The same answers as one load per key.
    for (key, record) in keys.iter().zip(&loaded) {
        assert_eq!(&store.load(key).unwrap(), record);
    }
    assert_eq!(store.load_many(&[]).unwrap(), []);
}
