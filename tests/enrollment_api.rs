//! `Engine::confirm_enrollment`, the call named for confirming a pending
//! enrollment (S2) with the app's first code: on a pending account it
//! decides and writes exactly what `Engine::login` with that code does
//! (checked against a twin account logging in); on any other account it
//! changes nothing, spends no code and says why. Runs on the backend of
//! `MAIL2FA_TEST_STORE` (`support::stores`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{AccountId, AllowReason, DenyReason, Engine, Enrollment, Mode};
use mail2fa::store::{CasOutcome, Store, Versioned};
use mail2fa::{Error, Totp};
use support::engine::*;
use support::logins::*;
use support::stores::TestStore;
use support::{code, enroll, wrong_code};

/// The account's record as stored, to show that a call changed nothing.
fn record(engine: &Engine<TestStore>, id: &AccountId) -> Option<Versioned> {
    engine.store().load(&id.store_key()).unwrap()
}

/// alice with a pending enrollment made at [`NOW`], her app, and a time
/// within the enrollment's day at which every code names one step.
fn alice_pending(engine: &Engine<TestStore>) -> (AccountId, Totp, u64) {
    let alice = account("alice@example.com");
    let totp = Totp::from_uri(&engine.enable_account(&alice, NOW).unwrap()).unwrap();
    let t = distinct_time(&totp, NOW + 60);
    assert!(t < NOW + DAY);
    (alice, totp, t)
}

/// Two engines on two stores holding the same pending record for alice:
/// one to log in with, one to confirm with.
fn twins() -> (Engine<TestStore>, Engine<TestStore>, AccountId, Totp, u64) {
    let logins = engine();
    let confirms = engine();
    let (alice, totp, t) = alice_pending(&logins);
    let bytes = record(&logins, &alice).unwrap().bytes;
    let outcome = confirms
        .store()
        .compare_and_swap(&alice.store_key(), None, Some(&bytes))
        .unwrap();
    assert!(matches!(outcome, CasOutcome::Stored { .. }), "{outcome:?}");
    (logins, confirms, alice, totp, t)
}

#[test]
fn the_first_code_confirms_and_the_account_is_active() {
    let engine = engine();
    let (alice, totp, t) = alice_pending(&engine);
    assert_eq!(
        status(&engine, &alice, t).enrollment,
        Enrollment::Pending {
            expires_at: NOW + DAY
        }
    );

    let c = code(&totp, step(t));
    let decision = engine.confirm_enrollment(&alice, &c, t).unwrap();
    assert_eq!(allowed(&decision), AllowReason::Enrolled { step: step(t) });
    let active = status(&engine, &alice, t);
    assert_eq!(active.enrollment, Enrollment::Confirmed);
    assert_eq!(active.last_used, Some(t));

    // Active: a login now asks for a code and takes the next one.
    assert_code_required(&engine.login(&alice, None, t).unwrap());
    let next = code(&totp, step(t) + 1);
    assert_eq!(
        allowed(&engine.login(&alice, Some(&next), t + PERIOD).unwrap()),
        AllowReason::CodeAccepted { step: step(t) + 1 }
    );
}

#[test]
fn it_decides_and_writes_what_a_login_with_the_code_does() {
    let (logins, confirms, alice, totp, t) = twins();
    let s = step(t);
    let inputs = [
        "12a456".to_owned(),     // malformed
        wrong_code(&totp, s, 0), // wrong
        code(&totp, s + 5),      // the phone's clock 5 steps ahead
        code(&totp, s),          // right: enrolls
    ];
    for input in &inputs {
        let by_login = logins.login(&alice, Some(input), t).unwrap();
        let by_confirm = confirms.confirm_enrollment(&alice, input, t).unwrap();
        assert_eq!(by_confirm, by_login, "input {input:?}");
        assert_eq!(
            record(&confirms, &alice).unwrap().bytes,
            record(&logins, &alice).unwrap().bytes,
            "record after {input:?}"
        );
    }
    assert_eq!(
        allowed(
            &confirms
                .login(&alice, Some(&code(&totp, s + 1)), t + PERIOD)
                .unwrap()
        ),
        AllowReason::CodeAccepted { step: s + 1 }
    );
}

#[test]
fn wrong_codes_are_refused_and_counted_as_for_a_login() {
    let (logins, confirms, alice, totp, t) = twins();
    let s = step(t);
    for n in 0..5 {
        let wrong = wrong_code(&totp, s, n * 7);
        let by_login = logins.login(&alice, Some(&wrong), t).unwrap();
        let by_confirm = confirms.confirm_enrollment(&alice, &wrong, t).unwrap();
        assert_eq!(refused(&by_confirm), DenyReason::WrongCode);
        assert_eq!(by_confirm, by_login);
        let state = status(&confirms, &alice, t);
        assert_eq!(state.failures, u32::try_from(n + 1).unwrap().min(4));
        assert_eq!(
            state.enrollment,
            Enrollment::Pending {
                expires_at: NOW + DAY
            }
        );
    }
    // The fifth locked the enrollment as it locks a login: the right code
    // is refused without being looked at, and not spent.
    let locked = status(&confirms, &alice, t).locked_until.expect("a lock");
    assert_eq!(status(&logins, &alice, t).locked_until, Some(locked));
    let right = code(&totp, s);
    assert_eq!(
        refused(&confirms.confirm_enrollment(&alice, &right, t).unwrap()),
        DenyReason::Locked { until: locked }
    );
    let after = distinct_time(&totp, locked);
    assert!(after < NOW + DAY);
    assert!(matches!(
        allowed(
            &confirms
                .confirm_enrollment(&alice, &code(&totp, step(after)), after)
                .unwrap()
        ),
        AllowReason::Enrolled { .. }
    ));
}

#[test]
fn the_confirming_code_is_spent() {
    let engine = engine();
    let (alice, totp, t) = alice_pending(&engine);
    let c = code(&totp, step(t));
    assert!(matches!(
        allowed(&engine.confirm_enrollment(&alice, &c, t).unwrap()),
        AllowReason::Enrolled { .. }
    ));
    // Confirming again is not a second chance for the code ...
    assert_eq!(
        engine.confirm_enrollment(&alice, &c, t + 1),
        Err(Error::AlreadyEnabled)
    );
    // ... and a login with it is a replay, not counted.
    assert_eq!(
        refused(&engine.login(&alice, Some(&c), t + 2).unwrap()),
        DenyReason::Replayed
    );
    assert_eq!(status(&engine, &alice, t).failures, 0);
}

#[test]
fn on_an_active_account_it_errs_and_the_code_still_logs_in() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 600);
    let c = code(&totp, step(t));
    let before = record(&engine, &alice);

    assert_eq!(
        engine.confirm_enrollment(&alice, &c, t),
        Err(Error::AlreadyEnabled)
    );
    // A wrong code is not counted either: nothing is looked at.
    let wrong = wrong_code(&totp, step(t), 0);
    assert_eq!(
        engine.confirm_enrollment(&alice, &wrong, t),
        Err(Error::AlreadyEnabled)
    );
    assert_eq!(record(&engine, &alice), before);

    assert_eq!(
        allowed(&engine.login(&alice, Some(&c), t).unwrap()),
        AllowReason::CodeAccepted { step: step(t) }
    );
}

#[test]
fn on_a_suspended_or_locked_active_account_it_errs_and_changes_nothing() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 600);
    engine.suspend(&alice, 3_600, t).unwrap();
    let before = record(&engine, &alice);
    let c = code(&totp, step(t));
    assert_eq!(
        engine.confirm_enrollment(&alice, &c, t),
        Err(Error::AlreadyEnabled)
    );
    assert_eq!(record(&engine, &alice), before);

    engine.suspend(&alice, 0, t).unwrap();
    for n in 0..5 {
        let wrong = wrong_code(&totp, step(t), n * 7);
        refused(&engine.login(&alice, Some(&wrong), t).unwrap());
    }
    assert!(status(&engine, &alice, t).locked_until.is_some());
    let before = record(&engine, &alice);
    assert_eq!(
        engine.confirm_enrollment(&alice, &c, t),
        Err(Error::AlreadyEnabled)
    );
    assert_eq!(record(&engine, &alice), before);
}

#[test]
fn an_expired_enrollment_is_refused_as_a_login_refuses_it() {
    let (logins, confirms, alice, totp, _) = twins();
    let late = distinct_time(&totp, NOW + DAY);
    let c = code(&totp, step(late));
    let before = record(&confirms, &alice);
    let decision = confirms.confirm_enrollment(&alice, &c, late).unwrap();
    assert_eq!(refused(&decision), DenyReason::EnrollmentExpired);
    assert_eq!(decision, logins.login(&alice, Some(&c), late).unwrap());
    // Not counted, not written: enabling the account again starts over.
    assert_eq!(record(&confirms, &alice), before);
    let uri = confirms.enable_account(&alice, late).unwrap();
    let fresh = Totp::from_uri(&uri).unwrap();
    let t = distinct_time(&fresh, late);
    assert!(matches!(
        allowed(
            &confirms
                .confirm_enrollment(&alice, &code(&fresh, step(t)), t)
                .unwrap()
        ),
        AllowReason::Enrolled { .. }
    ));
}

#[test]
fn without_2fa_it_errs_and_stores_nothing() {
    let engine = engine();
    let bob = account("bob@example.com");
    assert_eq!(
        engine.confirm_enrollment(&bob, "123456", NOW),
        Err(Error::NotEnabled)
    );
    assert_eq!(record(&engine, &bob), None);
}

#[test]
fn with_the_platform_off_it_errs_and_the_code_still_confirms_later() {
    let engine = engine();
    let (alice, totp, t) = alice_pending(&engine);
    engine.enable_platform(PLATFORM, false).unwrap();
    let before = record(&engine, &alice);
    let c = code(&totp, step(t));
    assert_eq!(
        engine.confirm_enrollment(&alice, &c, t),
        Err(Error::PlatformDisabled)
    );
    assert_eq!(record(&engine, &alice), before);

    engine.enable_platform(PLATFORM, true).unwrap();
    assert!(matches!(
        allowed(&engine.confirm_enrollment(&alice, &c, t).unwrap()),
        AllowReason::Enrolled { .. }
    ));
}

#[test]
fn an_account_on_email_codes_has_no_enrollment_to_confirm() {
    let engine = engine();
    let (alice, totp, t) = alice_pending(&engine);
    engine
        .set_contact(&alice, Some("alice@mail.example"), None)
        .unwrap();
    engine.set_mode(&alice, Mode::Email).unwrap();
    let before = record(&engine, &alice);
    assert_eq!(
        engine.confirm_enrollment(&alice, &code(&totp, step(t)), t),
        Err(Error::AlreadyEnabled)
    );
    assert_eq!(record(&engine, &alice), before);
}

#[test]
fn a_suspension_does_not_stand_in_for_the_code() {
    // A login of a suspended account passes without a code, and so does
    // not confirm anything; the confirmation checks the code anyway.
    let engine = engine();
    let (alice, totp, t) = alice_pending(&engine);
    let until = engine.suspend(&alice, 3_600, t).unwrap();
    let wrong = wrong_code(&totp, step(t), 0);
    assert_eq!(
        refused(&engine.confirm_enrollment(&alice, &wrong, t).unwrap()),
        DenyReason::WrongCode
    );
    let c = code(&totp, step(t));
    assert_eq!(
        allowed(&engine.confirm_enrollment(&alice, &c, t).unwrap()),
        AllowReason::Enrolled { step: step(t) }
    );
    let state = status(&engine, &alice, t);
    assert_eq!(state.enrollment, Enrollment::Confirmed);
    assert_eq!(state.suspended_until, Some(until));
}

#[test]
fn a_recovery_code_confirms_nothing_and_is_not_spent() {
    let engine = engine();
    let (alice, totp, t) = alice_pending(&engine);
    let recovery = engine.generate_recovery_codes(&alice, 2).unwrap();
    assert_eq!(
        refused(&engine.confirm_enrollment(&alice, &recovery[0], t).unwrap()),
        DenyReason::MalformedCode
    );
    let state = status(&engine, &alice, t);
    assert_eq!(state.recovery_codes, 2);
    assert_eq!(
        state.enrollment,
        Enrollment::Pending {
            expires_at: NOW + DAY
        }
    );
    // Still good where it belongs: in place of a code at a login.
    assert_eq!(
        allowed(&engine.login(&alice, Some(&recovery[0]), t).unwrap()),
        AllowReason::RecoveryCodeUsed { remaining: 1 }
    );
    assert!(matches!(
        allowed(
            &engine
                .confirm_enrollment(&alice, &code(&totp, step(t)), t)
                .unwrap()
        ),
        AllowReason::Enrolled { .. }
    ));
}
