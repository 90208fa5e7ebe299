//! Wrong codes and the lockout, as the engine's acceptance scenario S7 of
//! `docs/behaviour.md` tells it: which failures count, the lock and its
//! escalation, custom and unsafe policies, a lock that a login without a code
//! does not reveal, and `Engine::unlock`, all through the public API. Times and
//! codes are chosen as `support::logins` says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::engine::{AllowReason, DenyReason, Engine, EngineConfig, LockoutPolicy};
use support::engine::*;
use support::logins::*;
use support::{code, fresh_store, phone};

// --------------------------------------------------------------- S7: lockout

#[test]
fn s7_five_wrong_codes_lock_even_the_right_code() {
    let (engine, alice, totp, t, c) = alice_enrolled();
    let wrong = wrong_code_near(&totp, c, MARGIN);

    let mut wrong_answers = Vec::new();
    for _ in 0..5 {
        let decision = login(&engine, &alice, &wrong, t);
        assert_eq!(refused(&decision), DenyReason::WrongCode);
        wrong_answers.push(decision.client_answer());
    }
    let locked = login(&engine, &alice, &code(&totp, c), t);
    assert_eq!(refused(&locked), DenyReason::Locked { until: t + 60 });
    // No oracle: the client sees exactly what a wrong code gets.
    assert_eq!(locked.client_answer(), wrong_answers[0]);

    // Still locked one second before the end, even for the right code.
    let last = t + 59;
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, step(last)), last)),
        DenyReason::Locked { until: t + 60 }
    );
    // At the end, a valid code gets in and resets everything: a full quota
    // of five and the first lock length again.
    let end = t + 60;
    let ce = step(end);
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&totp, ce), end)),
        AllowReason::CodeAccepted { step: ce }
    );
    let wrong = wrong_code_near(&totp, ce, MARGIN);
    for i in 0..5 {
        assert_eq!(
            refused(&login(&engine, &alice, &wrong, end)),
            DenyReason::WrongCode,
            "attempt {i}"
        );
    }
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, ce + 1), end)),
        DenyReason::Locked { until: end + 60 }
    );
}

#[test]
fn s7_no_fresh_quota_after_a_lock_and_each_lock_is_longer() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let mut t = NOW + 40 * PERIOD;
    for _ in 0..5 {
        let wrong = wrong_code_near(&totp, step(t), MARGIN);
        refused(&login(&engine, &alice, &wrong, t));
    }
    // 60, then doubling, capped at 3600.
    for length in [60u64, 120, 240, 480, 960, 1920, 3600, 3600] {
        let until = t + length;
        assert_eq!(
            refused(&login(&engine, &alice, &code(&totp, step(t)), t)),
            DenyReason::Locked { until },
            "lock of {length} s"
        );
        t = until;
        // The lock is over: one wrong code is evaluated and locks again.
        let wrong = wrong_code_near(&totp, step(t), MARGIN);
        assert_eq!(
            refused(&login(&engine, &alice, &wrong, t)),
            DenyReason::WrongCode
        );
    }
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, step(t)), t)),
        DenyReason::Locked { until: t + 3600 }
    );
}

#[test]
fn s7_every_kind_of_wrong_code_counts() {
    let (engine, alice, totp, t, c) = alice_enrolled();
    assert!(matches!(
        allowed(&login(&engine, &alice, &code(&totp, c), t)),
        AllowReason::CodeAccepted { .. }
    ));
    // Replays are refused but do not count: they repeat a code that worked
    // (mail clients reconnect with the same password+code string).
    for _ in 0..10 {
        assert_eq!(
            refused(&login(&engine, &alice, &code(&totp, c), t)),
            DenyReason::Replayed
        );
    }
    let attempts = [
        ("1234567".to_owned(), DenyReason::MalformedCode),
        ("12a456".to_owned(), DenyReason::MalformedCode),
        (code(&totp, c + 5), DenyReason::ClockSkew { steps: 5 }),
        (wrong_code_near(&totp, c, MARGIN), DenyReason::WrongCode),
        (String::new(), DenyReason::MalformedCode),
    ];
    for (attempt, reason) in &attempts {
        assert_eq!(refused(&login(&engine, &alice, attempt, t)), *reason);
    }
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, c + 1), t)),
        DenyReason::Locked { until: t + 60 }
    );
}

#[test]
fn s7_wrong_codes_during_enrollment_count() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = phone(&engine.enable_account(&alice, NOW).unwrap());
    let t = NOW + 100;
    let wrong = wrong_code_near(&totp, step(t), MARGIN);
    for _ in 0..5 {
        assert_eq!(
            refused(&login(&engine, &alice, &wrong, t)),
            DenyReason::WrongCode
        );
    }
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, step(t)), t)),
        DenyReason::Locked { until: t + 60 }
    );
    let end = t + 60;
    assert!(matches!(
        allowed(&login(&engine, &alice, &code(&totp, step(end)), end)),
        AllowReason::Enrolled { .. }
    ));
}

#[test]
fn s7_custom_policy_is_followed() {
    let engine = engine_with(
        EngineConfig::default().with_lockout(
            LockoutPolicy::default()
                .with_max_failures(2)
                .with_first_lock(10)
                .with_max_lock(25),
        ),
    );
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let mut t = NOW + 40 * PERIOD;
    let wrong = wrong_code_near(&totp, step(t), MARGIN);
    assert_eq!(
        refused(&login(&engine, &alice, &wrong, t)),
        DenyReason::WrongCode
    );
    assert_eq!(
        refused(&login(&engine, &alice, &wrong, t)),
        DenyReason::WrongCode
    );
    for length in [10u64, 20, 25, 25] {
        assert_eq!(
            refused(&login(&engine, &alice, &wrong, t)),
            DenyReason::Locked { until: t + length }
        );
        t += length;
        let wrong = wrong_code_near(&totp, step(t), MARGIN);
        assert_eq!(
            refused(&login(&engine, &alice, &wrong, t)),
            DenyReason::WrongCode
        );
    }
}

#[test]
fn s7_a_login_without_a_code_does_not_reveal_the_lock() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = NOW + 40 * PERIOD;
    let before = engine.login(&alice, None, t).unwrap();
    let wrong = wrong_code_near(&totp, step(t), MARGIN);
    for _ in 0..5 {
        refused(&login(&engine, &alice, &wrong, t));
    }
    // Locked now (the right code is refused as such)...
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, step(t)), t)),
        DenyReason::Locked { until: t + 60 }
    );
    // ...but a client that sends no code must not be able to tell.
    let during = engine.login(&alice, None, t).unwrap();
    assert_eq!(during.client_answer(), before.client_answer());
}

#[test]
fn s7_engine_refuses_unsafe_lockout_policies() {
    let with = |max_failures, first_lock, max_lock| {
        Engine::new(
            fresh_store(),
            EngineConfig::default().with_lockout(
                LockoutPolicy::default()
                    .with_max_failures(max_failures)
                    .with_first_lock(first_lock)
                    .with_max_lock(max_lock),
            ),
        )
    };
    for (max_failures, first_lock, max_lock) in [
        (0, 60, 3600),
        (101, 60, 3600),
        (5, 0, 3600),
        (5, 60, 59),
        (u32::MAX, 60, 3600),
    ] {
        assert!(
            matches!(
                with(max_failures, first_lock, max_lock),
                Err(Error::InvalidConfig(_))
            ),
            "{max_failures} {first_lock} {max_lock}"
        );
    }
    for (max_failures, first_lock, max_lock) in
        [(1, 60, 3600), (100, 60, 3600), (5, 1, 1), (5, 60, 60)]
    {
        assert!(
            with(max_failures, first_lock, max_lock).is_ok(),
            "{max_failures} {first_lock} {max_lock}"
        );
    }
    assert_eq!(
        LockoutPolicy::default(),
        LockoutPolicy::default()
            .with_max_failures(5)
            .with_first_lock(60)
            .with_max_lock(3600)
    );
    assert!(matches!(
        Engine::new(
            fresh_store(),
            EngineConfig::default().with_diagnostic_window(mail2fa::MAX_WINDOW + 1)
        ),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn s7_unlock_lifts_a_lock_and_its_escalation() {
    let (engine, alice, totp, t, c) = alice_enrolled();
    let wrong = wrong_code_near(&totp, c, MARGIN);
    // Two locks deep.
    for _ in 0..5 {
        refused(&login(&engine, &alice, &wrong, t));
    }
    assert_eq!(
        refused(&login(&engine, &alice, &wrong, t + 60)),
        DenyReason::WrongCode
    );
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, c + 2), t + 61)),
        DenyReason::Locked { until: t + 180 }
    );

    engine.unlock(&alice).unwrap();
    let u = t + 61;
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&totp, step(u)), u)),
        AllowReason::CodeAccepted { step: step(u) }
    );
    // Unlock without a valid code also gives a fresh quota and level.
    for _ in 0..5 {
        refused(&login(
            &engine,
            &alice,
            &wrong_code_near(&totp, step(u), MARGIN),
            u,
        ));
    }
    engine.unlock(&alice).unwrap();
    let wrong = wrong_code_near(&totp, step(u), MARGIN);
    for i in 0..5 {
        assert_eq!(
            refused(&login(&engine, &alice, &wrong, u)),
            DenyReason::WrongCode,
            "attempt {i}"
        );
    }
    assert_eq!(
        refused(&login(&engine, &alice, &wrong, u)),
        DenyReason::Locked { until: u + 60 }
    );
    assert!(matches!(
        engine.unlock(&account("nobody@example.com")),
        Err(Error::NotEnabled)
    ));
}
