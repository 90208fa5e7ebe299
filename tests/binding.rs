//! Issue 14, point 3 and the clients item of point 6: a device binding
//! trusts only the client that still holds the password+code string it
//! used, never the password alone; and with encryption keys the clients
//! record (device ids, user agents, addresses, application-password names,
//! bindings) is sealed like account records.
//!
//! Every test here failed on the code before the fix (commit 315d1a7) and
//! passes after, except the ones marked as guarding behaviour that must
//! not change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Credential, Decision, DenyReason, DevicePolicy,
    EncryptionKeys, Engine, EngineConfig, LoginRequest, Mode, Protocol, ProtocolPolicy,
};
use mail2fa::store::Store;
use mail2fa::{Error, Totp};
use support::{TestStore, code, enroll, fresh_store, wrong_code};

const PLATFORM: &str = "example.com";
const NOW: u64 = 1_800_000_000;
const PERIOD: u64 = 30;
const PASSWORD_OK: Credential<'static> = Credential::Password { correct: true };

fn step(t: u64) -> u64 {
    t / PERIOD
}

fn engine_with(config: EngineConfig) -> Engine<TestStore> {
    let engine = Engine::new(fresh_store(), config).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    engine
}

fn engine() -> Engine<TestStore> {
    engine_with(EngineConfig::default())
}

fn account(name: &str) -> AccountId {
    AccountId::new(PLATFORM, name).unwrap()
}

/// A step boundary at or after `from` whose code names exactly one step
/// within 40 steps either side: no other step's code collides with it.
fn unique_time(totp: &Totp, from: u64) -> u64 {
    (0..500)
        .map(|k| (step(from) + k) * PERIOD)
        .find(|&t| {
            let c = code(totp, step(t));
            (step(t) - 40..=step(t) + 40)
                .filter(|&s| code(totp, s) == c)
                .count()
                == 1
        })
        .unwrap()
}

fn client(addr: &'static str) -> ClientInfo<'static> {
    ClientInfo::new()
        .with_device_id("TB-4711")
        .with_device_type("Linux")
        .with_user_agent("Thunderbird/115.3")
        .with_remote_addr(Some(addr))
}

fn imap(
    engine: &Engine<TestStore>,
    id: &AccountId,
    credential: Credential<'_>,
    client: ClientInfo<'_>,
    now: u64,
) -> Decision {
    let request = LoginRequest::new(Protocol::Imap, credential).with_client(client);
    engine.authenticate(id, &request, now).unwrap()
}

fn with_code(code: &str) -> Credential<'_> {
    Credential::PasswordAndCode {
        correct: true,
        code,
    }
}

fn allowed(decision: &Decision) -> AllowReason {
    match decision {
        Decision::Allow {
            reason,
            cacheable: false,
        } => *reason,
        other => panic!("expected an uncached Allow, got {other:?}"),
    }
}

fn refused(decision: &Decision) -> DenyReason {
    match decision {
        Decision::Deny { reason } => *reason,
        other => panic!("expected a Deny, got {other:?}"),
    }
}

/// An account with 2FA, bound from `client("203.0.113.7")` by a code login
/// at the returned time with the returned code.
fn bound(engine: &Engine<TestStore>, id: &AccountId) -> (Totp, u64, String) {
    let totp = enroll(engine, id, NOW - 3_600);
    let t1 = unique_time(&totp, NOW);
    let c1 = code(&totp, step(t1));
    assert_eq!(
        allowed(&imap(engine, id, with_code(&c1), client("203.0.113.7"), t1)),
        AllowReason::CodeAccepted { step: step(t1) }
    );
    (totp, t1, c1)
}

fn trusted_from(t: u64) -> AllowReason {
    AllowReason::DeviceTrusted {
        until: t + DevicePolicy::default().binding_period,
    }
}

// ------------------------------------------------------------ point 3

/// The hole: after one password+code login, the password alone from the
/// same (client-sent, not secret) strings and the same /24 got
/// `DeviceTrusted` for 12 hours.
#[test]
fn the_password_alone_never_passes_through_a_binding() {
    let engine = engine();
    let id = account("alice@example.com");
    let (_, t1, _) = bound(&engine, &id);
    for (addr, later) in [
        ("203.0.113.7", 5),
        ("203.0.113.99", 600),
        ("203.0.113.200", 11 * 3_600),
    ] {
        assert_eq!(
            imap(&engine, &id, PASSWORD_OK, client(addr), t1 + later),
            Decision::SecondFactorRequired { mode: Mode::Totp },
            "{addr} after {later} s"
        );
    }
}

/// A bound client that presents another code than the one it bound with
/// (an old one, out of the window) is not trusted: the code is checked,
/// and is wrong.
#[test]
fn a_different_stale_code_does_not_pass_through_a_binding() {
    let engine = engine();
    let id = account("alice@example.com");
    let (totp, t1, c1) = bound(&engine, &id);
    let older = code(&totp, step(t1) - 20);
    assert_ne!(older, c1);
    let decision = imap(
        &engine,
        &id,
        with_code(&older),
        client("203.0.113.7"),
        t1 + 600,
    );
    assert_eq!(refused(&decision), DenyReason::WrongCode);
    // Any well-formed code that is not the bound one: the same.
    let guess = wrong_code(&totp, step(t1 + 900), 7);
    assert_ne!(guess, c1);
    let decision = imap(
        &engine,
        &id,
        with_code(&guess),
        client("203.0.113.7"),
        t1 + 900,
    );
    assert_eq!(refused(&decision), DenyReason::WrongCode);
}

/// Guards the product promise (not a defect): the client that reconnects
/// with its stored, now stale, string is recognised by its device, from
/// its network, for the binding period; another client or network is not.
#[test]
fn the_same_string_from_the_bound_client_is_trusted() {
    let engine = engine();
    let id = account("alice@example.com");
    let (_, t1, c1) = bound(&engine, &id);
    let trusted = trusted_from(t1);
    for (addr, later) in [("203.0.113.7", 5), ("203.0.113.99", 600)] {
        let decision = imap(&engine, &id, with_code(&c1), client(addr), t1 + later);
        assert_eq!(allowed(&decision), trusted, "{addr}");
    }
    let other_network = imap(
        &engine,
        &id,
        with_code(&c1),
        client("198.51.100.7"),
        t1 + 600,
    );
    // Elsewhere the string is the last code used: a replay (not counted).
    assert_eq!(refused(&other_network), DenyReason::Replayed);
    let until = t1 + DevicePolicy::default().binding_period;
    let last = imap(
        &engine,
        &id,
        with_code(&c1),
        client("203.0.113.7"),
        until - 1,
    );
    assert_eq!(allowed(&last), trusted);
    let ended = imap(&engine, &id, with_code(&c1), client("203.0.113.7"), until);
    assert_eq!(refused(&ended), DenyReason::Replayed);
}

/// A new valid code login from the bound client refreshes the binding's
/// code: the older string no longer passes, the newer one does.
#[test]
fn a_new_code_login_replaces_the_bound_string() {
    let engine = engine();
    let id = account("alice@example.com");
    let (totp, t1, c1) = bound(&engine, &id);
    let t2 = unique_time(&totp, t1 + 3_600);
    let c2 = code(&totp, step(t2));
    assert_ne!(c1, c2);
    let decision = imap(&engine, &id, with_code(&c2), client("203.0.113.7"), t2);
    assert_eq!(
        allowed(&decision),
        AllowReason::CodeAccepted { step: step(t2) }
    );
    let old = imap(&engine, &id, with_code(&c1), client("203.0.113.7"), t2 + 60);
    assert_eq!(refused(&old), DenyReason::WrongCode);
    let new = imap(
        &engine,
        &id,
        with_code(&c2),
        client("203.0.113.7"),
        t2 + 120,
    );
    assert_eq!(allowed(&new), trusted_from(t2));
}

/// A locked account trusts no binding: otherwise a locked-out guesser
/// could keep trying codes against the bound one, uncounted. Once the lock
/// ends, the bound string works again.
#[test]
fn a_lockout_suspends_bindings() {
    let engine = engine();
    let id = account("alice@example.com");
    let (totp, t1, c1) = bound(&engine, &id);
    let max = EngineConfig::default().lockout.max_failures;
    let t = t1 + 600;
    for n in 0..max {
        let guess = wrong_code(&totp, step(t), u64::from(n) * 1_000);
        assert_ne!(guess, c1);
        let decision = imap(&engine, &id, with_code(&guess), client("203.0.113.7"), t);
        assert_eq!(refused(&decision), DenyReason::WrongCode, "guess {n}");
    }
    let decision = imap(&engine, &id, with_code(&c1), client("203.0.113.7"), t + 1);
    let DenyReason::Locked { until } = refused(&decision) else {
        panic!("{decision:?}");
    };
    let after = imap(&engine, &id, with_code(&c1), client("203.0.113.7"), until);
    assert_eq!(allowed(&after), trusted_from(t1));
}

/// Guards behaviour: a reset (new phone) ends every binding, the bound
/// string included.
#[test]
fn a_reset_ends_the_binding_of_the_same_string() {
    let engine = engine();
    let id = account("alice@example.com");
    let (_, t1, c1) = bound(&engine, &id);
    engine.reset(&id, t1 + 60).unwrap();
    let decision = imap(
        &engine,
        &id,
        with_code(&c1),
        client("203.0.113.7"),
        t1 + 120,
    );
    assert!(!decision.is_allowed(), "{decision:?}");
}

// ------------------------------------------------- point 6: clients sealed

fn keys() -> EncryptionKeys {
    EncryptionKeys::new(1, [0x42; 32])
}

fn sealed_engine() -> Engine<TestStore> {
    engine_with(EngineConfig::default().with_encryption(keys()))
}

const DEVICE_ID: &str = "DEVICE-ID-Q7ZX";
const DEVICE_TYPE: &str = "DEVICE-TYPE-Q7ZX";
const USER_AGENT: &str = "USER-AGENT-Q7ZX/1.0";
const ADDRESS: &str = "192.0.2.177";
const APP_NAME: &str = "APP-NAME-Q7ZX";

fn phone() -> ClientInfo<'static> {
    ClientInfo::new()
        .with_device_id(Some(DEVICE_ID))
        .with_device_type(Some(DEVICE_TYPE))
        .with_user_agent(Some(USER_AGENT))
        .with_remote_addr(Some(ADDRESS))
}

/// Fills an account's clients record: a device token (with every client
/// field), a binding and an application password.
fn fill_clients(engine: &Engine<TestStore>, id: &AccountId) -> (Totp, u64, String) {
    let totp = enroll(engine, id, NOW - 3_600);
    let phone = phone();
    let request = LoginRequest::new(Protocol::ActiveSync, PASSWORD_OK).with_client(phone);
    let decision = engine.authenticate(id, &request, NOW).unwrap();
    assert!(
        matches!(decision, Decision::DevicePending { .. }),
        "{decision:?}"
    );
    engine.create_app_password(id, APP_NAME, &[], NOW).unwrap();
    let t1 = unique_time(&totp, NOW + 60);
    let c1 = code(&totp, step(t1));
    let bound = LoginRequest::new(Protocol::Imap, with_code(&c1)).with_client(phone);
    assert!(engine.authenticate(id, &bound, t1).unwrap().is_allowed());
    (totp, t1, c1)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn all_records(store: &dyn Store) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .scan(None, 10_000)
        .unwrap()
        .into_iter()
        .map(|(key, record)| (key, record.bytes.to_vec()))
        .collect()
}

fn clients_key(id: &AccountId) -> Vec<u8> {
    let mut key = b"clnt".to_vec();
    key.extend_from_slice(&(id.platform().len() as u16).to_be_bytes());
    key.extend_from_slice(id.platform().as_bytes());
    key.extend_from_slice(id.account().as_bytes());
    key
}

#[test]
fn with_keys_the_clients_record_reveals_no_client_field() {
    let engine = sealed_engine();
    let id = account("alice@example.com");
    fill_clients(&engine, &id);
    let records = all_records(engine.store());
    assert!(
        records.iter().any(|(key, _)| *key == clients_key(&id)),
        "the clients record exists"
    );
    for (key, bytes) in &records {
        for field in [DEVICE_ID, DEVICE_TYPE, USER_AGENT, ADDRESS, APP_NAME] {
            assert!(
                !contains(bytes, field.as_bytes()),
                "{field} in the record under {}",
                String::from_utf8_lossy(key)
            );
        }
    }
    // Case-folded forms neither (the fingerprint normalises).
    for (_, bytes) in &records {
        assert!(!contains(bytes, b"q7zx") && !contains(bytes, b"Q7ZX"));
    }
}

/// Guards behaviour: everything in a sealed clients record still works —
/// the portal lists, the application password opens, the binding trusts
/// its string, maintenance and the record check read it.
#[test]
fn a_sealed_clients_record_works_as_a_plain_one() {
    let engine = sealed_engine();
    let id = account("alice@example.com");
    let (_, t1, c1) = fill_clients(&engine, &id);
    let devices = engine.devices(&id, t1).unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].device_id.as_deref(), Some(DEVICE_ID));
    assert_eq!(devices[0].remote_addr.as_deref(), Some(ADDRESS));
    let apps = engine.app_passwords(&id).unwrap();
    assert_eq!(apps[0].name, APP_NAME);
    let decision = imap(&engine, &id, with_code(&c1), phone(), t1 + 60);
    assert_eq!(allowed(&decision), trusted_from(t1));
    let check = engine.check_records().unwrap();
    assert_eq!((check.unreadable, check.clients), (0, 1), "{check:?}");
    let mut rounds = 0;
    while !engine.maintain(t1 + 120, 100).unwrap().finished {
        rounds += 1;
        assert!(rounds < 10);
    }
    assert_eq!(engine.devices(&id, t1 + 120).unwrap().len(), 1);
}

/// Fail closed: a sealed clients record without its key, or copied under
/// another account, refuses the logins that read it.
#[test]
fn a_sealed_clients_record_does_not_open_without_its_key_or_elsewhere() {
    let engine = sealed_engine();
    let alice = account("alice@example.com");
    let (_, t1, c1) = fill_clients(&engine, &alice);
    let sealed = engine.store().load(&clients_key(&alice)).unwrap().unwrap();

    // Another account of the same store: its own record replaced by a copy
    // of alice's.
    let bob = account("bob@example.com");
    let (_, _, _) = fill_clients(&engine, &bob);
    let current = engine.store().load(&clients_key(&bob)).unwrap().unwrap();
    engine
        .store()
        .compare_and_swap(
            &clients_key(&bob),
            Some(current.version),
            Some(&sealed.bytes),
        )
        .unwrap();
    assert!(matches!(
        engine.app_passwords(&bob),
        Err(Error::Encryption(_))
    ));

    // A clients record sealed under a key this engine does not have (made
    // by another deployment for the same account name).
    let elsewhere =
        engine_with(EngineConfig::default().with_encryption(EncryptionKeys::new(2, [0x43; 32])));
    fill_clients(&elsewhere, &alice);
    let foreign = elsewhere
        .store()
        .load(&clients_key(&alice))
        .unwrap()
        .unwrap();
    let current = engine.store().load(&clients_key(&alice)).unwrap().unwrap();
    engine
        .store()
        .compare_and_swap(
            &clients_key(&alice),
            Some(current.version),
            Some(&foreign.bytes),
        )
        .unwrap();
    assert!(matches!(
        engine.app_passwords(&alice),
        Err(Error::Encryption(_))
    ));
    let request = LoginRequest::new(Protocol::Imap, with_code(&c1)).with_client(phone());
    assert!(matches!(
        engine.authenticate(&alice, &request, t1 + 60),
        Err(Error::Encryption(_))
    ));
}

/// Turning keys on for a store written without them: with sealed records
/// required (the default), a plain clients record is refused until
/// `seal_records` (`mail2fa db seal`) seals it; a plain copy put back over
/// the sealed one later is refused again. Without the requirement (a
/// migration), it is read and sealed by maintenance.
#[test]
fn plain_clients_records_are_refused_until_sealed_when_keys_come() {
    let plain = engine();
    let id = account("alice@example.com");
    fill_clients(&plain, &id);
    let before = plain.store().load(&clients_key(&id)).unwrap().unwrap();
    assert!(contains(&before.bytes, APP_NAME.as_bytes()));

    let copy = |require_sealed: bool| {
        let store = fresh_store();
        for (key, bytes) in all_records(plain.store()) {
            store.compare_and_swap(&key, None, Some(&bytes)).unwrap();
        }
        Engine::new(
            store,
            EngineConfig::default()
                .with_encryption(keys())
                .with_require_sealed(require_sealed),
        )
        .unwrap()
    };

    let sealed = copy(true);
    assert!(matches!(
        sealed.app_passwords(&id),
        Err(mail2fa::Error::Encryption(_))
    ));
    assert!(
        sealed.seal_records().unwrap() >= 2,
        "account and devices records"
    );
    let after = sealed.store().load(&clients_key(&id)).unwrap().unwrap();
    assert!(!contains(&after.bytes, APP_NAME.as_bytes()));
    assert_eq!(sealed.app_passwords(&id).unwrap()[0].name, APP_NAME);
    // Someone who can write the store but has no key puts the plain record
    // back (its bindings and application passwords of their choosing).
    sealed
        .store()
        .compare_and_swap(&clients_key(&id), Some(after.version), Some(&before.bytes))
        .unwrap();
    assert!(matches!(
        sealed.app_passwords(&id),
        Err(mail2fa::Error::Encryption(_))
    ));
    // Nor does maintenance seal the planted record into a trusted one: it
    // stops there, as at any unreadable record, and the record stays
    // refused.
    assert!(matches!(
        sealed.maintain(NOW + 60, 100),
        Err(mail2fa::Error::Encryption(_))
    ));
    assert!(matches!(
        sealed.app_passwords(&id),
        Err(mail2fa::Error::Encryption(_))
    ));

    let migrating = copy(false);
    assert_eq!(migrating.app_passwords(&id).unwrap()[0].name, APP_NAME);
    let mut rounds = 0;
    while !migrating.maintain(NOW + 60, 100).unwrap().finished {
        rounds += 1;
        assert!(rounds < 10);
    }
    let after = migrating.store().load(&clients_key(&id)).unwrap().unwrap();
    assert!(!contains(&after.bytes, APP_NAME.as_bytes()));
    assert_eq!(migrating.app_passwords(&id).unwrap()[0].name, APP_NAME);
}

/// The shortcut an authorized device takes (its clients record decoded
/// without texts, no write) refuses a plain clients record planted under a
/// store whose records must be sealed, as the full path does: of the
/// account's own generation, that record would otherwise let the device in.
#[test]
fn an_authorized_device_is_refused_over_a_planted_plain_clients_record() {
    let store = fresh_store();
    let on = |config: EngineConfig| Engine::new(&*store, config).unwrap();
    let id = account("alice@example.com");
    let outlook = LoginRequest::new(Protocol::Outlook, PASSWORD_OK).with_client(
        ClientInfo::new()
            .with_device_type(Some("WindowsOutlook15"))
            .with_remote_addr(ADDRESS),
    );
    let plain = on(EngineConfig::default());
    plain.enable_platform(PLATFORM, true).unwrap();
    enroll(&plain, &id, NOW - 3_600);
    let Decision::DevicePending { device, .. } = plain.authenticate(&id, &outlook, NOW).unwrap()
    else {
        panic!("a new device is pending");
    };
    plain.activate_device(&id, &device, NOW + 1).unwrap();
    assert!(
        plain
            .authenticate(&id, &outlook, NOW + 2)
            .unwrap()
            .is_allowed()
    );
    let planted = store.load(&clients_key(&id)).unwrap().unwrap().bytes;

    let migrating = EngineConfig::default()
        .with_encryption(keys())
        .with_require_sealed(false);
    assert!(on(migrating).seal_records().unwrap() >= 2);
    let sealed = on(EngineConfig::default().with_encryption(keys()));
    assert!(
        sealed
            .authenticate(&id, &outlook, NOW + 3)
            .unwrap()
            .is_allowed()
    );
    let current = store.load(&clients_key(&id)).unwrap().unwrap();
    store
        .compare_and_swap(&clients_key(&id), Some(current.version), Some(&planted))
        .unwrap();
    assert!(matches!(
        sealed.authenticate(&id, &outlook, NOW + 4),
        Err(Error::Encryption(_))
    ));
}
