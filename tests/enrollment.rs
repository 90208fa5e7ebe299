//! Turning 2FA on, as the engine's acceptance scenarios tell it (stories of
//! `docs/behaviour.md`): S1, the platform switch before the account's, and S2,
//! enrollment (the provisioning URI and its issuer, confirming with a code, a
//! wrong code, expiry of a pending enrollment, enabling twice), all through the
//! public API. Times and codes are chosen as `support::logins` says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{AccountId, AllowReason, Decision, DenyReason, Engine, EngineConfig};
use mail2fa::store::Store;
use mail2fa::{Digits, Error, KeyUri, OtpKind};
use support::engine::*;
use support::logins::*;
use support::{code, fresh_store, phone};

// --------------------------------------------------- S1: platform, then account

#[test]
fn s1_account_enable_needs_platform_enabled() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();
    let alice = account("alice@example.com");
    assert!(!engine.platform_enabled(PLATFORM).unwrap());
    assert!(matches!(
        engine.enable_account(&alice, NOW),
        Err(Error::PlatformDisabled)
    ));
    // Nothing was recorded for the account.
    assert_eq!(engine.store().load(&alice.store_key()).unwrap(), None);
    engine.enable_platform(PLATFORM, false).unwrap();
    assert!(matches!(
        engine.enable_account(&alice, NOW),
        Err(Error::PlatformDisabled)
    ));

    engine.enable_platform(PLATFORM, true).unwrap();
    assert!(engine.platform_enabled(PLATFORM).unwrap());
    let uri = engine.enable_account(&alice, NOW).unwrap();
    assert!(uri.starts_with("otpauth://totp/"));
    assert!(engine.store().load(&alice.store_key()).unwrap().is_some());

    // The switch is per platform.
    let bob = AccountId::new("other.example", "bob@other.example").unwrap();
    assert!(!engine.platform_enabled("other.example").unwrap());
    assert!(matches!(
        engine.enable_account(&bob, NOW),
        Err(Error::PlatformDisabled)
    ));
}

#[test]
fn s1_platform_turned_off_waives_the_code_and_on_again_requires_it() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 600);
    let c = code(&totp, step(t));
    assert_code_required(&engine.login(&alice, None, t).unwrap());

    engine.enable_platform(PLATFORM, false).unwrap();
    let off = engine.login(&alice, None, t).unwrap();
    assert_eq!(allowed(&off), AllowReason::NoSecondFactor);
    // Not cacheable: 2FA may be turned on again while a cache still holds it.
    assert!(matches!(
        off,
        Decision::Allow {
            cacheable: false,
            ..
        }
    ));
    // A code given anyway is not looked at (and so not consumed).
    assert_eq!(
        allowed(&login(&engine, &alice, &c, t)),
        AllowReason::NoSecondFactor
    );
    assert_eq!(
        engine.split_login(&alice, &format!("pw{c}"), t).unwrap(),
        (format!("pw{c}").as_str(), None)
    );

    // On again: the enrollment was kept, the code is needed again.
    engine.enable_platform(PLATFORM, true).unwrap();
    assert_code_required(&engine.login(&alice, None, t).unwrap());
    assert_eq!(
        allowed(&login(&engine, &alice, &c, t)),
        AllowReason::CodeAccepted { step: step(t) }
    );
}

// ------------------------------------------------------- S2: enrollment

#[test]
fn s2_enable_puts_the_account_in_pending_enrollment_with_a_uri() {
    let engine = engine();
    let alice = account("alice@example.com");
    let uri = engine.enable_account(&alice, NOW).unwrap();
    let key = KeyUri::parse(&uri).unwrap();
    assert!(matches!(key.kind(), OtpKind::Totp { period: PERIOD }));
    assert_eq!(key.secret().len(), 20);
    assert_eq!(key.account(), "alice@example.com");
    assert_eq!(key.issuer(), Some(PLATFORM));
    assert_eq!(key.totp_config().unwrap().digits(), Digits::SIX);
    assert_eq!(key.totp_config().unwrap().period(), PERIOD);

    // The next login (password already checked by the host) is told to enroll
    // and gets the same secret.
    let decision = engine.login(&alice, None, NOW + 10).unwrap();
    let again = enrollment_uri(&decision);
    assert_eq!(secret_of(&again), key.secret().expose_bytes());
    assert!(!decision.is_allowed());

    // A second account gets its own secret.
    let bob_uri = engine
        .enable_account(&account("bob@example.com"), NOW)
        .unwrap();
    assert_ne!(secret_of(&bob_uri), secret_of(&uri));
}

#[test]
fn s2_configured_issuer_is_shown() {
    let engine = engine_with(EngineConfig::default().with_issuer("Example Mail".to_owned()));
    let uri = engine
        .enable_account(&account("alice@example.com"), NOW)
        .unwrap();
    assert_eq!(KeyUri::parse(&uri).unwrap().issuer(), Some("Example Mail"));
    assert!(
        Engine::new(
            fresh_store(),
            EngineConfig::default().with_issuer(String::new())
        )
        .is_err()
    );
}

#[test]
fn s2_valid_code_confirms_enrollment_and_is_consumed() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = phone(&engine.enable_account(&alice, NOW).unwrap());
    let t = distinct_time(&totp, NOW + 45);
    let c = code(&totp, step(t));

    assert_eq!(
        allowed(&login(&engine, &alice, &c, t)),
        AllowReason::Enrolled { step: step(t) }
    );
    // Enrolled: no more enrollment prompt, a code is required.
    assert_code_required(&engine.login(&alice, None, t).unwrap());
    // The confirming code cannot log in again, in its step or the next.
    assert_eq!(
        refused(&login(&engine, &alice, &c, t)),
        DenyReason::Replayed
    );
    assert_eq!(
        refused(&login(&engine, &alice, &c, t + PERIOD)),
        DenyReason::Replayed
    );
    // The next code does.
    assert_eq!(
        allowed(&login(
            &engine,
            &alice,
            &code(&totp, step(t) + 1),
            t + PERIOD
        )),
        AllowReason::CodeAccepted { step: step(t) + 1 }
    );
}

#[test]
fn s2_enrollment_accepts_a_neighbouring_step_and_reports_it() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = phone(&engine.enable_account(&alice, NOW).unwrap());
    let t = distinct_time(&totp, NOW);
    let ahead = code(&totp, step(t) + 1);
    assert_eq!(
        allowed(&login(&engine, &alice, &ahead, t)),
        AllowReason::Enrolled { step: step(t) + 1 }
    );
    // The current step is older than the consumed one now.
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, step(t)), t)),
        DenyReason::Replayed
    );
}

#[test]
fn s2_wrong_code_during_enrollment_is_refused_and_keeps_it_pending() {
    let engine = engine_with(lenient());
    let alice = account("alice@example.com");
    let uri = engine.enable_account(&alice, NOW).unwrap();
    let totp = phone(&uri);
    let t = distinct_time(&totp, NOW + 100);
    let c = step(t);

    let wrong = wrong_code_near(&totp, c, MARGIN);
    assert_eq!(
        refused(&login(&engine, &alice, &wrong, t)),
        DenyReason::WrongCode
    );
    // A phone whose clock is 3 steps ahead: refused, and diagnosed.
    assert_eq!(
        steps_matching(&totp, &code(&totp, c + 3), c, MARGIN),
        [c + 3]
    );
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, c + 3), t)),
        DenyReason::ClockSkew { steps: 3 }
    );
    assert_eq!(
        refused(&login(&engine, &alice, "12345", t)),
        DenyReason::MalformedCode
    );
    // Still pending, with the same secret.
    let decision = engine.login(&alice, None, t).unwrap();
    assert_eq!(secret_of(&enrollment_uri(&decision)), secret_of(&uri));
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&totp, c), t)),
        AllowReason::Enrolled { step: c }
    );
}

#[test]
fn s2_pending_enrollment_expires_after_the_ttl() {
    assert_eq!(EngineConfig::default().enrollment_ttl, 24 * 3600);
    let ttl = 600;
    let engine = engine_with(EngineConfig::default().with_enrollment_ttl(ttl));
    let alice = account("alice@example.com");
    let bob = account("bob@example.com");
    let alice_totp = phone(&engine.enable_account(&alice, NOW).unwrap());
    let bob_totp = phone(&engine.enable_account(&bob, NOW).unwrap());

    // One second before the end: still possible.
    let last_moment = NOW + ttl - 1;
    assert!(matches!(
        allowed(&login(
            &engine,
            &alice,
            &code(&alice_totp, step(last_moment)),
            last_moment
        )),
        AllowReason::Enrolled { .. }
    ));

    // At the end: expired, with or without a (valid) code.
    let end = NOW + ttl;
    assert_eq!(
        refused(&engine.login(&bob, None, end).unwrap()),
        DenyReason::EnrollmentExpired
    );
    assert_eq!(
        refused(&login(&engine, &bob, &code(&bob_totp, step(end)), end)),
        DenyReason::EnrollmentExpired
    );
    assert_eq!(
        refused(&engine.login(&bob, None, end + 10 * ttl).unwrap()),
        DenyReason::EnrollmentExpired
    );
    // An expired enrollment may start over: enabling again issues a new
    // secret (as does an operator's reset), and the old one stays dead.
    let fresh = phone(&engine.enable_account(&bob, end).unwrap());
    assert_ne!(
        fresh.generate_at_step(step(end)).as_str(),
        bob_totp.generate_at_step(step(end)).as_str()
    );
    assert!(matches!(
        allowed(&login(&engine, &bob, &code(&fresh, step(end)), end)),
        AllowReason::Enrolled { .. }
    ));
    let later = end + PERIOD;
    assert!(
        refused(&login(&engine, &bob, &code(&bob_totp, step(later)), later))
            != DenyReason::Replayed
    );
}

#[test]
fn s2_enabling_twice_is_an_error_and_keeps_the_secret() {
    let engine = engine();
    let alice = account("alice@example.com");
    let uri = engine.enable_account(&alice, NOW).unwrap();
    // Pending.
    assert!(matches!(
        engine.enable_account(&alice, NOW + 1),
        Err(Error::AlreadyEnabled)
    ));
    assert_eq!(
        secret_of(&enrollment_uri(
            &engine.login(&alice, None, NOW + 2).unwrap()
        )),
        secret_of(&uri)
    );
    // Enrolled.
    let totp = phone(&uri);
    assert!(matches!(
        allowed(&login(
            &engine,
            &alice,
            &code(&totp, step(NOW + 2)),
            NOW + 2
        )),
        AllowReason::Enrolled { .. }
    ));
    assert!(matches!(
        engine.enable_account(&alice, NOW + 3),
        Err(Error::AlreadyEnabled)
    ));
    let later = NOW + 10 * PERIOD;
    assert!(matches!(
        allowed(&login(&engine, &alice, &code(&totp, step(later)), later)),
        AllowReason::CodeAccepted { .. }
    ));
}
