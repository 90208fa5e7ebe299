//! Issue 21: one call per login. [`Engine::check_login`] takes what the
//! client typed and the host's password check, and returns the decision:
//! the split, the password check, the credential and the decision inside,
//! each record read at most once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::cell::RefCell;
use std::collections::BTreeMap;

use mail2fa::Error;
use mail2fa::engine::{
    AccountId, AllowReason, ClientAnswer, ClientInfo, Credential, Decision, DenyReason, Engine,
    EngineConfig, LoginAttempt, LoginRequest, PasswordVerdict, Protocol, ProtocolPolicy,
};
use mail2fa::store::Store;
use support::engine::{NOW, PLATFORM, account};
use support::logging::{Call, Logging};
use support::{code, enroll};

const PASSWORD: &str = "T9D3K!px";

fn thunderbird() -> ClientInfo<'static> {
    ClientInfo::new()
        .with_user_agent("Thunderbird/128.3.1")
        .with_remote_addr("203.0.113.7")
}

fn iphone() -> ClientInfo<'static> {
    ClientInfo::new()
        .with_device_id("ApplF17XK2QJHG7F")
        .with_device_type("iPhone")
        .with_user_agent("Apple-iPhone14C2/2104.100")
        .with_remote_addr("198.51.100.20")
}

/// The host's directory: one password for everyone.
fn directory(password: &str) -> bool {
    password == PASSWORD
}

/// Platform on, IMAP taking password+code strings; `alice` enrolled,
/// `bob` without 2FA.
fn setup<S: Store>(engine: &Engine<S>) -> (AccountId, AccountId, mail2fa::Totp) {
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let alice = account("alice@example.com");
    let totp = enroll(engine, &alice, NOW - 600);
    (alice, account("bob@example.com"), totp)
}

/// How many times each kind of record was loaded and swapped.
fn counts(calls: &[Call]) -> BTreeMap<(&'static str, String), usize> {
    let mut counts = BTreeMap::new();
    for call in calls {
        *counts.entry(call.clone()).or_default() += 1;
    }
    counts
}

fn allowed(decision: &Decision) -> AllowReason {
    match decision {
        Decision::Allow { reason, .. } => *reason,
        other => panic!("expected an allowed login, got {other:?}"),
    }
}

fn refused(decision: &Decision) -> DenyReason {
    match decision {
        Decision::Deny { reason } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn every_kind_of_login_reads_each_record_at_most_once() {
    let store = Logging::default();
    let engine = Engine::new(store.clone(), EngineConfig::default()).unwrap();
    let (alice, bob, totp) = setup(&engine);
    let (_, app_password) = engine
        .create_app_password(&alice, "phone", &[], NOW - 500)
        .unwrap();
    let t = NOW;
    let with_code = format!("{PASSWORD}{}", code(&totp, t / 30));
    let next_code = format!("{PASSWORD}{}", code(&totp, t / 30 + 1));
    let wrong_code = format!("{PASSWORD}{}", support::wrong_code(&totp, t / 30, 7));
    let logins: Vec<(&str, &AccountId, Protocol, ClientInfo<'_>, String, u64)> = vec![
        // A code login that binds the client (account, platform, clients).
        (
            "code, binds",
            &alice,
            Protocol::Imap,
            thunderbird(),
            with_code.clone(),
            t,
        ),
        // The same string from the same client: trusted by its binding.
        (
            "bound string",
            &alice,
            Protocol::Imap,
            thunderbird(),
            with_code.clone(),
            t + 60,
        ),
        // A new code from the same client: a code login that rebinds.
        (
            "new code",
            &alice,
            Protocol::Imap,
            thunderbird(),
            next_code,
            t + 60,
        ),
        (
            "wrong code",
            &alice,
            Protocol::Imap,
            ClientInfo::default(),
            wrong_code,
            t + 90,
        ),
        (
            "wrong password",
            &alice,
            Protocol::Imap,
            thunderbird(),
            "T9D3K!pz123456".into(),
            t + 95,
        ),
        (
            "app password",
            &alice,
            Protocol::Smtp,
            iphone(),
            app_password.as_str().into(),
            t + 100,
        ),
        (
            "wrong app password",
            &alice,
            Protocol::Smtp,
            iphone(),
            "abcde-fghjk-mnpqr-stvwx".into(),
            t + 101,
        ),
        (
            "new device",
            &alice,
            Protocol::ActiveSync,
            iphone(),
            PASSWORD.into(),
            t + 110,
        ),
        (
            "known device",
            &alice,
            Protocol::ActiveSync,
            iphone(),
            PASSWORD.into(),
            t + 120,
        ),
        (
            "no 2FA",
            &bob,
            Protocol::Imap,
            thunderbird(),
            PASSWORD.into(),
            t + 130,
        ),
        (
            "no 2FA, wrong password",
            &bob,
            Protocol::Imap,
            thunderbird(),
            "wrong".into(),
            t + 131,
        ),
    ];
    let mut reasons = Vec::new();
    for (what, id, protocol, client, input, now) in logins {
        store.take();
        let attempt = LoginAttempt::new(protocol, &input).with_client(client);
        let decision = engine.check_login(id, &attempt, now, directory).unwrap();
        let counts = counts(&store.take());
        for ((op, kind), n) in &counts {
            assert_eq!(*n, 1, "{what}: {op} of {kind} {n} times ({counts:?})");
        }
        assert!(
            counts.contains_key(&("load", "acct".to_owned())),
            "{what}: {counts:?}"
        );
        let name = match decision {
            Decision::DevicePending { .. } => "device_pending",
            _ => decision.reason_code().name(),
        };
        reasons.push((what, name));
    }
    // The logins did what their names say.
    let expected = [
        ("code, binds", "code_accepted"),
        ("bound string", "device_trusted"),
        ("new code", "code_accepted"),
        ("wrong code", "wrong_code"),
        ("wrong password", "wrong_password"),
        ("app password", "app_password"),
        ("wrong app password", "wrong_app_password"),
        ("new device", "device_pending"),
        ("known device", "device_pending"),
        ("no 2FA", "no_second_factor"),
        ("no 2FA, wrong password", "wrong_password"),
    ];
    assert_eq!(reasons, expected);
}

#[test]
fn one_call_reads_less_than_the_split_and_authenticate_it_replaces() {
    let store = Logging::default();
    let engine = Engine::new(store.clone(), EngineConfig::default()).unwrap();
    let (alice, _, totp) = setup(&engine);
    let loads = |calls: Vec<Call>| calls.iter().filter(|(op, _)| *op == "load").count();

    // The three steps a host wrote before: split, check, authenticate.
    let typed = format!("{PASSWORD}{}", code(&totp, NOW / 30));
    store.take();
    let (password, code_part) = engine
        .split_login_for(&alice, &Protocol::Imap, &typed, NOW)
        .unwrap();
    let credential = Credential::PasswordAndCode {
        correct: directory(password),
        code: code_part.unwrap(),
    };
    let request = LoginRequest::new(Protocol::Imap, credential);
    assert!(
        engine
            .authenticate(&alice, &request, NOW)
            .unwrap()
            .is_allowed()
    );
    let three_steps = loads(store.take());

    let typed = format!("{PASSWORD}{}", code(&totp, NOW / 30 + 1));
    let attempt = LoginAttempt::new(Protocol::Imap, &typed);
    assert!(
        engine
            .check_login(&alice, &attempt, NOW + 30, directory)
            .unwrap()
            .is_allowed()
    );
    let one_call = loads(store.take());
    // Each record read once instead of the account and platform twice (the
    // split's two reads, then authenticate's three). Before the one call,
    // `authenticate` also read the account again for its compare-and-swap.
    assert_eq!((three_steps, one_call), (5, 3));
}

#[test]
fn the_host_checks_only_the_password_part_and_only_once() {
    let engine = support::engine::engine();
    let (alice, bob, totp) = setup(&engine);
    let seen = RefCell::new(Vec::new());
    let check = |password: &str| {
        seen.borrow_mut().push(password.to_owned());
        directory(password)
    };
    let t = NOW;
    let typed = format!("{PASSWORD}{}", code(&totp, t / 30));
    let imap = LoginAttempt::new(Protocol::Imap, &typed);
    assert!(
        engine
            .check_login(&alice, &imap, t, check)
            .unwrap()
            .is_allowed()
    );
    // Without 2FA a password ending in digits stays whole.
    let digits = "hunter2189145";
    let bob_imap = LoginAttempt::new(Protocol::Imap, digits);
    let refused_bob = engine.check_login(&bob, &bob_imap, t, check).unwrap();
    assert_eq!(refused(&refused_bob), DenyReason::WrongPassword);
    // Where the protocol takes no code (ActiveSync: device authorization),
    // nothing is split off either.
    let sync = LoginAttempt::new(Protocol::ActiveSync, &typed).with_client(iphone());
    engine.check_login(&alice, &sync, t + 30, check).unwrap();
    assert_eq!(
        *seen.borrow(),
        [PASSWORD.to_owned(), digits.to_owned(), typed.clone()]
    );
}

#[test]
fn input_no_client_sends_never_reaches_the_password_check_nor_the_store() {
    let store = Logging::default();
    let engine = Engine::new(store.clone(), EngineConfig::default()).unwrap();
    let (alice, _, _) = setup(&engine);
    let long = "a".repeat(mail2fa::engine::MAX_LOGIN_INPUT + 1);
    let bad_client = ClientInfo::new().with_remote_addr("not an address");
    let attempts = [
        LoginAttempt::new(Protocol::Imap, "T9D3K!px\x00123456"),
        LoginAttempt::new(Protocol::Imap, &long),
        LoginAttempt::new(Protocol::Imap, PASSWORD).with_client(bad_client),
    ];
    for attempt in attempts {
        store.take();
        let mut called = false;
        let result = engine.check_login(&alice, &attempt, NOW, |_: &str| {
            called = true;
            true
        });
        assert!(matches!(result, Err(Error::InvalidInput(_))), "{result:?}");
        assert!(!called);
        assert_eq!(store.take(), []);
    }
}

#[test]
fn a_password_check_that_cannot_answer_refuses_and_records_nothing() {
    let store = Logging::default();
    let engine = Engine::new(store.clone(), EngineConfig::default()).unwrap();
    let (alice, _, totp) = setup(&engine);
    let typed = format!("{PASSWORD}{}", code(&totp, NOW / 30));
    let attempt = LoginAttempt::new(Protocol::Imap, &typed).with_client(thunderbird());
    store.take();
    let down =
        |_: &str| -> Result<bool, std::io::Error> { Err(std::io::ErrorKind::TimedOut.into()) };
    let result = engine.check_login(&alice, &attempt, NOW, down);
    assert_eq!(result, Err(Error::PasswordCheckFailed));
    assert!(store.take().iter().all(|(op, _)| *op == "load"));
    // The code was not spent: the same string works once the directory
    // answers again.
    let decision = engine
        .check_login(&alice, &attempt, NOW + 5, directory)
        .unwrap();
    assert!(matches!(
        allowed(&decision),
        AllowReason::CodeAccepted { .. }
    ));
    // An explicit verdict says the same.
    let result = engine.check_login(&alice, &attempt, NOW + 6, |_: &str| {
        PasswordVerdict::Unavailable
    });
    assert_eq!(result, Err(Error::PasswordCheckFailed));
}

#[test]
fn one_call_covers_every_credential_a_mail_client_sends() {
    let engine = support::engine::engine();
    let (alice, bob, totp) = setup(&engine);
    let (_, app_password) = engine
        .create_app_password(&alice, "phone", &[], NOW - 500)
        .unwrap();
    let login = |id: &AccountId, protocol: Protocol, input: &str, now: u64| {
        let attempt = LoginAttempt::new(protocol, input).with_client(thunderbird());
        engine.check_login(id, &attempt, now, directory).unwrap()
    };
    let t = NOW + 3_600;
    // The password alone, where a code is due: the code is asked for.
    let alone = login(&alice, Protocol::Imap, PASSWORD, t);
    assert!(
        matches!(alone, Decision::SecondFactorRequired { .. }),
        "{alone:?}"
    );
    assert!(!alone.is_allowed());
    // An application password on SMTP (the account password check fails).
    let sent = login(&alice, Protocol::Smtp, app_password.as_str(), t);
    assert!(matches!(allowed(&sent), AllowReason::AppPassword { .. }));
    // ... never on webmail.
    let webmail = login(&alice, Protocol::Webmail, app_password.as_str(), t);
    assert_eq!(webmail.client_answer(), ClientAnswer::Refused);
    // A wrong password with the right code: refused, the code not spent.
    let right_code = code(&totp, t / 30);
    let wrong = login(&alice, Protocol::Imap, &format!("nope{right_code}"), t);
    assert_eq!(refused(&wrong), DenyReason::WrongPassword);
    let typed = format!("{PASSWORD}{right_code}");
    assert!(login(&alice, Protocol::Imap, &typed, t + 1).is_allowed());
    // Replayed from elsewhere (no binding for an unknown client): refused.
    let elsewhere = LoginAttempt::new(Protocol::Imap, &typed);
    let replay = engine
        .check_login(&alice, &elsewhere, t + 2, directory)
        .unwrap();
    assert_eq!(refused(&replay), DenyReason::Replayed);
    // Without 2FA the directory decides.
    assert!(matches!(
        allowed(&login(&bob, Protocol::Imap, PASSWORD, t)),
        AllowReason::NoSecondFactor
    ));
}

#[test]
fn wrong_codes_through_one_call_lock_the_account() {
    let engine = support::engine::engine();
    let (alice, _, totp) = setup(&engine);
    let t = NOW + 7_200;
    let attempts = EngineConfig::default().lockout.max_failures;
    for i in 0..attempts {
        let typed = format!(
            "{PASSWORD}{}",
            support::wrong_code(&totp, t / 30, u64::from(i))
        );
        let attempt = LoginAttempt::new(Protocol::Imap, &typed);
        let decision = engine.check_login(&alice, &attempt, t, directory).unwrap();
        assert!(!decision.is_allowed());
    }
    let typed = format!("{PASSWORD}{}", code(&totp, t / 30));
    let attempt = LoginAttempt::new(Protocol::Imap, &typed);
    let locked = engine
        .check_login(&alice, &attempt, t + 1, directory)
        .unwrap();
    assert!(
        matches!(refused(&locked), DenyReason::Locked { .. }),
        "{locked:?}"
    );
}
