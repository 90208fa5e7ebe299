//! What an operator and the user change on an enrolled account, as the engine's
//! acceptance scenarios tell it (stories of `docs/behaviour.md`): S8,
//! suspension; S9, reset to a new secret; S10, removal of 2FA; S11, the user's
//! self-service, which needs a valid code, all through the public API. Times
//! and codes are chosen as `support::logins` says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::engine::{AllowReason, DenyReason};
use mail2fa::store::Store;
use support::engine::*;
use support::logins::*;
use support::{code, phone};

// ------------------------------------------------------------- S8: suspend

#[test]
fn s8_suspension_waives_the_code_until_it_ends_by_itself() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = NOW + 100;
    let until = engine.suspend(&alice, 4 * 3600, t).unwrap();
    assert_eq!(until, t + 4 * 3600);

    for at in [t, t + 3600, until - 1] {
        assert_eq!(
            allowed(&engine.login(&alice, None, at).unwrap()),
            AllowReason::Suspended { until },
            "at {at}"
        );
    }
    // Any code given is not needed.
    assert_eq!(
        allowed(&login(&engine, &alice, "000000", t)),
        AllowReason::Suspended { until }
    );
    // Re-armed with no action.
    assert_code_required(&engine.login(&alice, None, until).unwrap());
    let wrong = wrong_code_near(&totp, step(until), MARGIN);
    assert_eq!(
        refused(&login(&engine, &alice, &wrong, until)),
        DenyReason::WrongCode
    );
    let c = code(&totp, step(until) + 1);
    assert_eq!(
        allowed(&login(&engine, &alice, &c, until)),
        AllowReason::CodeAccepted {
            step: accepted_step(&totp, &c, until)
        }
    );
}

#[test]
fn s8_suspend_needs_2fa() {
    let engine = engine();
    let nobody = account("nobody@example.com");
    assert!(matches!(
        engine.suspend(&nobody, 3600, NOW),
        Err(Error::NotEnabled)
    ));
    // Nothing was created for the account.
    assert_eq!(engine.store().load(&nobody.store_key()).unwrap(), None);
}

// --------------------------------------------------------------- S9: reset

#[test]
fn s9_reset_gives_a_new_secret_and_every_old_code_fails_at_once() {
    let engine = engine();
    let alice = account("alice@example.com");
    let old = enroll(&engine, &alice, NOW);
    let t = NOW + 300 * PERIOD;
    let c = step(t);
    // Codes of the old secret nobody has used yet.
    let unused: Vec<String> = [c - 1, c, c + 1].iter().map(|&s| code(&old, s)).collect();

    // Reset until the new secret's nearby codes do not collide with the old
    // ones (a one-in-thousands event, but then the check would be luck).
    let (uri, new) = (0..10)
        .map(|_| {
            let uri = engine.reset(&alice, t).unwrap().to_string();
            let new = phone(&uri);
            (uri, new)
        })
        .find(|(_, new)| {
            unused
                .iter()
                .all(|u| steps_matching(new, u, c, MARGIN).is_empty())
        })
        .unwrap();
    assert_eq!(secret_of(&uri).len(), 20);
    assert_ne!(fingerprint(&new), fingerprint(&old));

    // Pending again, with the new secret.
    let decision = engine.login(&alice, None, t).unwrap();
    assert_eq!(secret_of(&enrollment_uri(&decision)), secret_of(&uri));
    for u in &unused {
        assert_eq!(
            refused(&login(&engine, &alice, u, t)),
            DenyReason::WrongCode
        );
    }
    let first = code(&new, c);
    assert_eq!(
        allowed(&login(&engine, &alice, &first, t)),
        AllowReason::Enrolled {
            step: accepted_step(&new, &first, t)
        }
    );
    // And after the new enrollment, the old secret's next code still fails.
    let later = t + PERIOD;
    let old_next = code(&old, step(later));
    if steps_matching(&new, &old_next, step(later), MARGIN).is_empty() {
        assert_eq!(
            refused(&login(&engine, &alice, &old_next, later)),
            DenyReason::WrongCode
        );
    }
}

#[test]
fn s9_lockout_survives_a_reset() {
    let engine = engine();
    let alice = account("alice@example.com");
    let old = enroll(&engine, &alice, NOW);
    let t = NOW + 40 * PERIOD;
    let wrong = wrong_code_near(&old, step(t), MARGIN);
    for _ in 0..5 {
        refused(&login(&engine, &alice, &wrong, t));
    }
    let new = phone(&engine.reset(&alice, t).unwrap());
    assert_eq!(
        refused(&login(&engine, &alice, &code(&new, step(t)), t)),
        DenyReason::Locked { until: t + 60 }
    );
    // No fresh quota either: one wrong code after the lock locks again, longer.
    let end = t + 60;
    let wrong = wrong_code_near(&new, step(end), MARGIN);
    assert_eq!(
        refused(&login(&engine, &alice, &wrong, end)),
        DenyReason::WrongCode
    );
    assert_eq!(
        refused(&login(&engine, &alice, &code(&new, step(end)), end)),
        DenyReason::Locked { until: end + 120 }
    );
    let free = end + 120;
    let first = code(&new, step(free));
    assert_eq!(
        allowed(&login(&engine, &alice, &first, free)),
        AllowReason::Enrolled {
            step: accepted_step(&new, &first, free)
        }
    );
}

#[test]
fn s9_reset_needs_2fa() {
    let engine = engine();
    assert!(matches!(
        engine.reset(&account("nobody@example.com"), NOW),
        Err(Error::NotEnabled)
    ));
    // A pending account can be reset (new secret again).
    let pending = account("pending@example.com");
    let first = engine.enable_account(&pending, NOW).unwrap();
    let second = engine.reset(&pending, NOW + 1).unwrap();
    assert_ne!(secret_of(&first), secret_of(&second));
}

// -------------------------------------------------------------- S10: remove

#[test]
fn s10_remove_turns_2fa_off_and_destroys_the_secret() {
    let engine = engine();
    let alice = account("alice@example.com");
    let old = enroll(&engine, &alice, NOW);
    let t = NOW + 20 * PERIOD;
    engine.remove(&alice).unwrap();
    assert_eq!(engine.store().load(&alice.store_key()).unwrap(), None);
    assert_eq!(
        allowed(&engine.login(&alice, None, t).unwrap()),
        AllowReason::NoSecondFactor
    );
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&old, step(t)), t)),
        AllowReason::NoSecondFactor
    );
    assert!(matches!(engine.remove(&alice), Err(Error::NotEnabled)));
    assert!(matches!(
        engine.remove(&account("nobody@example.com")),
        Err(Error::NotEnabled)
    ));

    // Enabling again starts over with a new secret.
    let uri = engine.enable_account(&alice, t).unwrap();
    let new = phone(&uri);
    assert_ne!(fingerprint(&new), fingerprint(&old));
    enrollment_uri(&engine.login(&alice, None, t).unwrap());

    // A pending account can be removed too.
    engine.remove(&alice).unwrap();
    assert_eq!(
        allowed(&engine.login(&alice, None, t).unwrap()),
        AllowReason::NoSecondFactor
    );
}

// ------------------------------------------- S11: self-service needs a code

#[test]
fn s11_disable_with_a_wrong_code_changes_nothing_but_counts() {
    let (engine, alice, totp, t, c) = alice_enrolled();
    let wrong = wrong_code_near(&totp, c, MARGIN);
    assert_eq!(
        refused(&engine.disable_with_code(&alice, &wrong, t).unwrap()),
        DenyReason::WrongCode
    );
    assert_code_required(&engine.login(&alice, None, t).unwrap());
    // The failure counted: four more make five and lock.
    for _ in 0..4 {
        assert_eq!(
            refused(&login(&engine, &alice, &wrong, t)),
            DenyReason::WrongCode
        );
    }
    assert_eq!(
        refused(
            &engine
                .disable_with_code(&alice, &code(&totp, c), t)
                .unwrap()
        ),
        DenyReason::Locked { until: t + 60 }
    );
    assert!(engine.store().load(&alice.store_key()).unwrap().is_some());
}

#[test]
fn s11_disable_with_a_valid_code_removes_2fa() {
    let (engine, alice, totp, t, c) = alice_enrolled();
    // A code already used to log in is consumed and cannot turn 2FA off.
    assert!(matches!(
        allowed(&login(&engine, &alice, &code(&totp, c), t)),
        AllowReason::CodeAccepted { .. }
    ));
    assert_eq!(
        refused(
            &engine
                .disable_with_code(&alice, &code(&totp, c), t)
                .unwrap()
        ),
        DenyReason::Replayed
    );
    assert!(engine.store().load(&alice.store_key()).unwrap().is_some());

    assert_eq!(
        allowed(
            &engine
                .disable_with_code(&alice, &code(&totp, c + 1), t)
                .unwrap()
        ),
        AllowReason::CodeAccepted { step: c + 1 }
    );
    assert_eq!(engine.store().load(&alice.store_key()).unwrap(), None);
    assert_eq!(
        allowed(&engine.login(&alice, None, t).unwrap()),
        AllowReason::NoSecondFactor
    );
    assert!(matches!(
        engine.disable_with_code(&alice, &code(&totp, c + 1), t),
        Err(Error::NotEnabled)
    ));
}

#[test]
fn s11_reset_with_code_needs_a_valid_code_and_consumes_it() {
    let (engine, alice, totp, t, c) = alice_enrolled();
    let wrong = wrong_code_near(&totp, c, MARGIN);
    let (decision, uri) = engine.reset_with_code(&alice, &wrong, t).unwrap();
    assert_eq!(refused(&decision), DenyReason::WrongCode);
    assert!(uri.is_none());
    // Nothing changed: the old secret still logs in.
    assert!(matches!(
        allowed(&login(&engine, &alice, &code(&totp, c - 1), t)),
        AllowReason::CodeAccepted { .. }
    ));
    // A consumed code is refused.
    let (decision, uri) = engine
        .reset_with_code(&alice, &code(&totp, c - 1), t)
        .unwrap();
    assert_eq!(refused(&decision), DenyReason::Replayed);
    assert!(uri.is_none());

    let (decision, uri) = engine.reset_with_code(&alice, &code(&totp, c), t).unwrap();
    assert_eq!(allowed(&decision), AllowReason::CodeAccepted { step: c });
    let uri = uri.unwrap();
    let new = phone(&uri);
    assert_ne!(fingerprint(&new), fingerprint(&totp));
    // Pending with the new secret.
    assert_eq!(
        secret_of(&enrollment_uri(&engine.login(&alice, None, t).unwrap())),
        secret_of(&uri)
    );
    // The code used for the reset cannot be used again.
    let used = code(&totp, c);
    if steps_matching(&new, &used, c, MARGIN).is_empty() {
        assert_eq!(
            refused(&login(&engine, &alice, &used, t)),
            DenyReason::WrongCode
        );
    }
    assert!(matches!(
        engine.reset_with_code(&account("nobody@example.com"), "123456", t),
        Err(Error::NotEnabled)
    ));
}

#[test]
fn s11_suspension_does_not_waive_the_code() {
    let (engine, alice, totp, t, c) = alice_enrolled();
    engine.suspend(&alice, 4 * 3600, t).unwrap();
    let wrong = wrong_code_near(&totp, c, MARGIN);
    assert_eq!(
        refused(&engine.disable_with_code(&alice, &wrong, t).unwrap()),
        DenyReason::WrongCode
    );
    let (decision, uri) = engine.reset_with_code(&alice, &wrong, t).unwrap();
    assert_eq!(refused(&decision), DenyReason::WrongCode);
    assert!(uri.is_none());
    assert!(engine.store().load(&alice.store_key()).unwrap().is_some());

    assert_eq!(
        allowed(
            &engine
                .disable_with_code(&alice, &code(&totp, c), t)
                .unwrap()
        ),
        AllowReason::CodeAccepted { step: c }
    );
    assert_eq!(engine.store().load(&alice.store_key()).unwrap(), None);
}

/// Regression: in ddde732 a wrong code here ended the suspension.
#[test]
fn s11_wrong_self_service_code_keeps_the_suspension() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = NOW + 40 * PERIOD;
    let until = engine.suspend(&alice, 4 * 3600, t).unwrap();
    let wrong = wrong_code_near(&totp, step(t), MARGIN);

    assert_eq!(
        refused(&engine.disable_with_code(&alice, &wrong, t).unwrap()),
        DenyReason::WrongCode
    );
    // "A wrong code changes nothing": the user is still suspended.
    assert_eq!(
        allowed(&engine.login(&alice, None, t + 1).unwrap()),
        AllowReason::Suspended { until }
    );

    let (decision, _) = engine.reset_with_code(&alice, &wrong, t + 2).unwrap();
    assert_eq!(refused(&decision), DenyReason::WrongCode);
    assert_eq!(
        allowed(&engine.login(&alice, None, t + 3).unwrap()),
        AllowReason::Suspended { until }
    );
}
