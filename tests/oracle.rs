//! Issue 14: no oracle, no free writes, mandatory platforms, and the
//! webmail rule of application passwords.
//!
//! * A login attempt that has not passed the host's password check (a wrong
//!   password, with or without a code, or something that may be an
//!   application password) reads the same kinds of records, writes nothing
//!   and gets the same client answer whether or not the account has 2FA.
//!   The proxy tested here is deterministic: a store that logs every call
//!   (timings belong to `benches/oracle.rs`).
//! * Wrong application passwords are not counted: guesses cost no write and
//!   lock nothing.
//! * On a platform where 2FA is mandatory, absence is never consent.
//! * An application password never opens webmail or the portal, whatever a
//!   policy override says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::engine::{
    AccountId, AllowReason, ClientAnswer, ClientInfo, Credential, Decision, DenyReason,
    EncryptionKeys, Engine, EngineConfig, LoginRequest, MAX_MANDATORY_PLATFORMS, Mode, Protocol,
    ProtocolPolicy,
};
use mail2fa::store::MemoryStore;
use support::logging::{Call, Logging};
use support::{code, enroll};

const PLATFORM: &str = "example.com";
const NOW: u64 = 1_800_000_000;
/// Shaped like an application password, matching none.
const WRONG_APP_PASSWORD: &str = "abcde-fghjk-mnpqr-stvwx";

// ------------------------------------------------------------------ helpers

fn account(name: &str) -> AccountId {
    AccountId::new(PLATFORM, name).unwrap()
}

fn request(protocol: Protocol, credential: Credential<'_>) -> LoginRequest<'_> {
    LoginRequest::new(protocol, credential).with_client(
        ClientInfo::new()
            .with_device_id("ApplDNRXK2QHJ")
            .with_device_type("iPhone")
            .with_user_agent("Apple-iPhone15C2/2105.259")
            .with_remote_addr("198.51.100.20"),
    )
}

fn refused(decision: &Decision) -> DenyReason {
    match decision {
        Decision::Deny { reason } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The protocols a login may use, standard and host-named.
fn protocols() -> Vec<Protocol> {
    let mut all = Protocol::STANDARD.to_vec();
    all.push(Protocol::other("managesieve").unwrap());
    all
}

/// An engine on a logging store with 2FA on for [`PLATFORM`] and three
/// accounts: `alice` (2FA, an application password, an activated device
/// and a binding), `carol` (2FA, nothing else) and `bob` (no 2FA).
fn population(config: EngineConfig) -> (Engine<Logging>, Logging, [AccountId; 3]) {
    let store = Logging::default();
    let engine = Engine::new(store.clone(), config).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let alice = account("alice@example.com");
    let carol = account("carol@example.com");
    let bob = account("bob@example.com");
    let totp = enroll(&engine, &alice, NOW - 600);
    enroll(&engine, &carol, NOW - 600);
    engine
        .create_app_password(&alice, "phone", &[], NOW - 500)
        .unwrap();
    let outlook = request(Protocol::Outlook, Credential::Password { correct: true });
    let device = engine
        .authenticate(&alice, &outlook, NOW - 400)
        .unwrap()
        .device()
        .unwrap();
    engine.activate_device(&alice, &device, NOW - 399).unwrap();
    let c = code(&totp, (NOW - 300) / 30);
    let webmail = request(
        Protocol::Webmail,
        Credential::PasswordAndCode {
            correct: true,
            code: &c,
        },
    );
    assert!(
        engine
            .authenticate(&alice, &webmail, NOW - 300)
            .unwrap()
            .is_allowed()
    );
    store.take();
    (engine, store, [alice, carol, bob])
}

/// The store calls and the answer of one call of `run` for `id`.
fn observe<T>(store: &Logging, id: &AccountId, run: impl Fn(&AccountId) -> T) -> (Vec<Call>, T) {
    store.take();
    let value = run(id);
    (store.take(), value)
}

// ------------------------------------------------------- point 5: no oracle

#[test]
fn unauthenticated_logins_read_alike_write_nothing_and_answer_alike_with_or_without_2fa() {
    unauthenticated_logins_alike(EngineConfig::default());
}

#[test]
fn unauthenticated_logins_alike_with_sealed_records_too() {
    unauthenticated_logins_alike(
        EngineConfig::default().with_encryption(EncryptionKeys::new(1, [0x5a; 32])),
    );
}

fn unauthenticated_logins_alike(config: EngineConfig) {
    let (engine, store, accounts) = population(config);
    let credentials = [
        Credential::AppPassword(WRONG_APP_PASSWORD),
        // Case, spaces and look-alikes forgiven: still shaped like one.
        Credential::AppPassword("ABCDE FGHJK MNPQR STVWX"),
        Credential::AppPassword("hunter2"),
        Credential::AppPassword("hunter2189145"),
        Credential::Password { correct: false },
        Credential::PasswordAndCode {
            correct: false,
            code: "189145",
        },
    ];
    for protocol in protocols() {
        for credential in credentials {
            let mut seen = Vec::new();
            for id in &accounts {
                // Twice: a first guess must not change what the second costs.
                for round in 0..2 {
                    let (calls, decision) = observe(&store, id, |id| {
                        engine
                            .authenticate(id, &request(protocol.clone(), credential), NOW + round)
                            .unwrap()
                    });
                    assert!(
                        calls.iter().all(|(op, _)| *op == "load"),
                        "{protocol} {credential:?} {}: a write: {calls:?}",
                        id.account()
                    );
                    assert_eq!(decision.client_answer(), ClientAnswer::Refused);
                    seen.push((id.account().to_owned(), calls));
                }
            }
            let (first, expected) = &seen[0];
            for (name, calls) in &seen[1..] {
                assert_eq!(
                    calls, expected,
                    "{protocol} {credential:?}: {name} and {first} differ"
                );
            }
        }
    }
}

/// The common login — the right password, an account without 2FA — makes
/// the same reads as every other: the three records a decision may need,
/// asked for in one store call (`Store::load_many`, one round trip on
/// PostgreSQL; tests/round_trips.rs), and no write.
#[test]
fn a_correct_password_without_2fa_reads_once_and_writes_nothing() {
    let (engine, store, [_, _, bob]) = population(EngineConfig::default());
    for protocol in protocols() {
        let (calls, decision) = observe(&store, &bob, |id| {
            engine
                .authenticate(
                    id,
                    &request(protocol.clone(), Credential::Password { correct: true }),
                    NOW,
                )
                .unwrap()
        });
        assert!(decision.is_allowed(), "{protocol}: {decision:?}");
        let kinds = calls.iter().map(|(op, kind)| (*op, kind.as_str()));
        assert!(
            kinds.eq([("load", "acct"), ("load", "plat"), ("load", "clnt")]),
            "{protocol}: {calls:?}"
        );
    }
}

#[test]
fn the_host_split_reads_alike_with_or_without_2fa() {
    let (engine, store, accounts) = population(EngineConfig::default());
    for protocol in protocols() {
        let mut seen = Vec::new();
        for id in &accounts {
            let (calls, split) = observe(&store, id, |id| {
                engine
                    .split_login_for(id, &protocol, "hunter2189145", NOW)
                    .unwrap()
            });
            assert!(calls.iter().all(|(op, _)| *op == "load"), "{calls:?}");
            let _ = split;
            seen.push(calls);
        }
        assert!(
            seen.iter().all(|calls| *calls == seen[0]),
            "{protocol}: {seen:?}"
        );
    }
}

#[test]
fn wrong_app_password_guesses_are_not_counted_and_lock_nothing() {
    let (engine, store, [alice, _, _]) = population(EngineConfig::default());
    let (_, password) = engine
        .create_app_password(&alice, "laptop", &[], NOW)
        .unwrap();
    store.take();
    let guess = request(Protocol::Imap, Credential::AppPassword(WRONG_APP_PASSWORD));
    // Far beyond any lockout: every guess is a plain refusal, none is
    // written down.
    for n in 0..300 {
        let decision = engine.authenticate(&alice, &guess, NOW + n).unwrap();
        assert_eq!(
            refused(&decision),
            DenyReason::WrongAppPassword,
            "guess {n}"
        );
    }
    let calls = store.take();
    assert!(
        calls.iter().all(|(op, _)| *op == "load"),
        "guesses wrote to the store: {:?}",
        calls.iter().filter(|(op, _)| *op == "swap").count()
    );
    // The right one still gets in, and only it writes (its last use).
    let right = request(Protocol::Imap, Credential::AppPassword(&password));
    let decision = engine.authenticate(&alice, &right, NOW + 300).unwrap();
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::AppPassword { .. },
                cacheable: false
            }
        ),
        "{decision:?}"
    );
    assert_eq!(
        store
            .take()
            .iter()
            .filter(|(op, kind)| *op == "swap" && kind == "clnt")
            .count(),
        1
    );
}

// ------------------------------------------- point 6: webmail and app passwords

#[test]
fn an_app_password_never_opens_webmail_whatever_the_override() {
    let (engine, _, [alice, _, _]) = population(EngineConfig::default());
    let (_, password) = engine
        .create_app_password(&alice, "laptop", &[], NOW)
        .unwrap();
    let login = request(Protocol::Webmail, Credential::AppPassword(&password));
    for policy in [
        ProtocolPolicy::DeviceAuthorization,
        ProtocolPolicy::AppPasswordOnly,
    ] {
        engine
            .set_platform_policy(PLATFORM, &Protocol::Webmail, Some(policy))
            .unwrap();
        let decision = engine.authenticate(&alice, &login, NOW + 1).unwrap();
        assert_eq!(
            refused(&decision),
            DenyReason::AppPasswordNotAccepted,
            "platform override {policy:?}"
        );
        engine
            .set_platform_policy(PLATFORM, &Protocol::Webmail, None)
            .unwrap();
        engine
            .set_account_policy(&alice, &Protocol::Webmail, Some(policy))
            .unwrap();
        let decision = engine.authenticate(&alice, &login, NOW + 2).unwrap();
        assert_eq!(
            refused(&decision),
            DenyReason::AppPasswordNotAccepted,
            "account override {policy:?}"
        );
        engine
            .set_account_policy(&alice, &Protocol::Webmail, None)
            .unwrap();
    }
    // Where the policy takes them, the same password works.
    let imap = request(Protocol::Imap, Credential::AppPassword(&password));
    assert!(
        engine
            .authenticate(&alice, &imap, NOW + 3)
            .unwrap()
            .is_allowed()
    );
}

// ------------------------------------------------------- mandatory platforms

fn mandatory() -> EngineConfig {
    EngineConfig::default().with_mandatory_platforms([PLATFORM])
}

#[test]
fn on_a_mandatory_platform_an_account_without_2fa_is_refused_never_allowed() {
    let engine = Engine::new(MemoryStore::new(), mandatory()).unwrap();
    let bob = account("bob@example.com");
    // No platform record, no account record.
    assert_eq!(
        refused(&engine.login(&bob, None, NOW).unwrap()),
        DenyReason::NotEnrolled
    );
    assert_eq!(
        refused(&engine.login(&bob, Some("123456"), NOW).unwrap()),
        DenyReason::NotEnrolled
    );
    for protocol in protocols() {
        for credential in [
            Credential::Password { correct: true },
            Credential::PasswordAndCode {
                correct: true,
                code: "123456",
            },
        ] {
            let decision = engine
                .authenticate(&bob, &request(protocol.clone(), credential), NOW)
                .unwrap();
            assert_eq!(
                refused(&decision),
                DenyReason::NotEnrolled,
                "{protocol} {credential:?}"
            );
        }
        let wrong = request(protocol.clone(), Credential::Password { correct: false });
        assert_eq!(
            refused(&engine.authenticate(&bob, &wrong, NOW).unwrap()),
            DenyReason::WrongPassword
        );
    }
    // The platform record written, switched on: the same.
    engine.enable_platform(PLATFORM, true).unwrap();
    assert_eq!(
        refused(&engine.login(&bob, None, NOW).unwrap()),
        DenyReason::NotEnrolled
    );
    // Another platform is not mandatory: no 2FA there is still no 2FA.
    let other = AccountId::new("other.example", "bob@other.example").unwrap();
    assert!(engine.login(&other, None, NOW).unwrap().is_allowed());
}

#[test]
fn a_mandatory_platform_needs_no_record_and_cannot_be_switched_off() {
    let store = Logging::default();
    let engine = Engine::new(store.clone(), mandatory()).unwrap();
    let alice = account("alice@example.com");
    // Enrollment needs no platform record: the platform is on by definition.
    assert!(engine.platform_enabled(PLATFORM).unwrap());
    let totp = enroll(&engine, &alice, NOW - 600);
    assert!(matches!(
        engine.login(&alice, None, NOW).unwrap(),
        Decision::SecondFactorRequired { mode: Mode::Totp }
    ));
    assert!(matches!(
        engine.enable_platform(PLATFORM, false),
        Err(Error::InvalidConfig(_))
    ));

    // Switched off by an engine that was not told (the operator tool with
    // another configuration, an old version): still on for this one.
    let unaware = Engine::new(store.clone(), EngineConfig::default()).unwrap();
    unaware.enable_platform(PLATFORM, false).unwrap();
    assert!(unaware.login(&alice, None, NOW).unwrap().is_allowed());
    assert!(matches!(
        engine.login(&alice, None, NOW).unwrap(),
        Decision::SecondFactorRequired { mode: Mode::Totp }
    ));
    let password_only = request(Protocol::Webmail, Credential::Password { correct: true });
    assert!(
        !engine
            .authenticate(&alice, &password_only, NOW)
            .unwrap()
            .is_allowed()
    );
    let c = code(&totp, NOW / 30);
    let with_code = request(
        Protocol::Webmail,
        Credential::PasswordAndCode {
            correct: true,
            code: &c,
        },
    );
    assert!(matches!(
        engine.authenticate(&alice, &with_code, NOW).unwrap(),
        Decision::Allow {
            reason: AllowReason::CodeAccepted { .. },
            ..
        }
    ));
    // The string is split for the host, not read as a password.
    assert_eq!(
        engine
            .split_login_for(&alice, &Protocol::Webmail, "hunter2189145", NOW + 30)
            .unwrap(),
        ("hunter2", Some("189145"))
    );
    assert_eq!(
        unaware
            .split_login_for(&alice, &Protocol::Webmail, "hunter2189145", NOW + 30)
            .unwrap(),
        ("hunter2189145", None)
    );
}

#[test]
fn a_mandatory_platform_splits_the_string_of_an_account_not_enrolled() {
    let engine = Engine::new(MemoryStore::new(), mandatory()).unwrap();
    let bob = account("bob@example.com");
    assert_eq!(
        engine
            .split_login_for(&bob, &Protocol::Webmail, "hunter2189145", NOW)
            .unwrap(),
        ("hunter2", Some("189145"))
    );
    // Where the protocol takes no code, the whole input is the password.
    assert_eq!(
        engine
            .split_login_for(&bob, &Protocol::Imap, "hunter2189145", NOW)
            .unwrap(),
        ("hunter2189145", None)
    );
}

#[test]
fn mandatory_platforms_are_checked_when_the_engine_is_made() {
    // Names no platform can have (the alphabet of `AccountId::new`): upper
    // case and a trailing dot too, or the setting would silently do nothing.
    for bad in [
        "",
        " example.com",
        "a:b",
        "tab\there",
        "Example.com",
        "example.com.",
    ] {
        let config = EngineConfig::default().with_mandatory_platforms([bad]);
        assert!(
            matches!(
                Engine::new(MemoryStore::new(), config),
                Err(Error::InvalidName { .. })
            ),
            "{bad:?}"
        );
    }
    let config = EngineConfig::default()
        .with_mandatory_platforms((0..=MAX_MANDATORY_PLATFORMS).map(|n| format!("p{n}.example")));
    assert!(matches!(
        Engine::new(MemoryStore::new(), config),
        Err(Error::InvalidConfig(_))
    ));
}
