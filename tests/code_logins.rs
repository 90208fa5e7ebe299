//! Logging in with a code, as the engine's acceptance scenarios tell it
//! (stories of `docs/behaviour.md`): S4, the code itself (the window, clock
//! skew, each code accepted once, no older step after a newer one, missing and
//! malformed codes, what may be cached), and S5, the password+code string split
//! by the engine, all through the public API. Times and codes are chosen as
//! `support::logins` says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{
    AccountId, AllowReason, Decision, DenyReason, EngineConfig, MAX_LOGIN_INPUT,
};
use mail2fa::{Digits, Error, KeyUri, TotpConfig};
use support::engine::*;
use support::logins::*;
use support::{code, phone};

// ------------------------------------------------------------ S4: logging in

#[test]
fn s4_codes_one_step_off_are_accepted() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 20 * PERIOD) + 7;
    let c = step(t);
    for s in [c - 1, c, c + 1] {
        assert_eq!(
            allowed(&login(&engine, &alice, &code(&totp, s), t)),
            AllowReason::CodeAccepted { step: s }
        );
    }
}

#[test]
fn s4_codes_two_or_more_steps_off_are_refused_with_the_skew() {
    let engine = engine_with(lenient());
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    // Far enough from the enrollment that even -10 steps is after it.
    let t = distinct_time(&totp, NOW + 40 * PERIOD) + 13;
    let c = step(t);
    for offset in [2i64, -2, 3, -5, 10, -10] {
        let s = c.checked_add_signed(offset).unwrap();
        let skewed = code(&totp, s);
        // Explicitly: the code names this step and no other near `now`.
        assert_eq!(steps_matching(&totp, &skewed, c, MARGIN), [s]);
        assert_eq!(
            refused(&login(&engine, &alice, &skewed, t)),
            DenyReason::ClockSkew { steps: offset },
            "offset {offset}"
        );
    }
    // Beyond the diagnostic window it is just wrong.
    for offset in [11i64, -11] {
        let s = c.checked_add_signed(offset).unwrap();
        assert_eq!(
            refused(&login(&engine, &alice, &code(&totp, s), t)),
            DenyReason::WrongCode,
            "offset {offset}"
        );
    }
    let wrong = wrong_code_near(&totp, c, MARGIN);
    assert_eq!(
        refused(&login(&engine, &alice, &wrong, t)),
        DenyReason::WrongCode
    );
    // None of the refusals consumed anything: the oldest acceptable step
    // still logs in.
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&totp, c - 1), t)),
        AllowReason::CodeAccepted { step: c - 1 }
    );
}

#[test]
fn s4_window_and_diagnostic_window_are_configurable() {
    // Window ±2: two steps off accepted, three refused.
    let engine = engine_with(lenient().with_totp(TotpConfig::default().with_window(2).unwrap()));
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, c + 3), t)),
        DenyReason::ClockSkew { steps: 3 }
    );
    assert_eq!(
        refused(&login(&engine, &alice, &code(&totp, c - 3), t)),
        DenyReason::ClockSkew { steps: -3 }
    );
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&totp, c - 2), t)),
        AllowReason::CodeAccepted { step: c - 2 }
    );
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&totp, c + 2), t)),
        AllowReason::CodeAccepted { step: c + 2 }
    );

    // Diagnostic window 0: no skew diagnosis at all; 3: up to three steps.
    for (window, expect_3, expect_4) in [
        (0, DenyReason::WrongCode, DenyReason::WrongCode),
        (3, DenyReason::ClockSkew { steps: 3 }, DenyReason::WrongCode),
    ] {
        let engine = engine_with(lenient().with_diagnostic_window(window));
        let bob = account("bob@example.com");
        let totp = enroll(&engine, &bob, NOW);
        let t = distinct_time(&totp, NOW + 40 * PERIOD);
        let c = step(t);
        assert_eq!(
            refused(&login(&engine, &bob, &code(&totp, c + 3), t)),
            expect_3
        );
        assert_eq!(
            refused(&login(&engine, &bob, &code(&totp, c + 4), t)),
            expect_4
        );
    }
}

#[test]
fn s4_each_code_is_accepted_once() {
    let engine = engine_with(lenient());
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 20 * PERIOD);
    let c = code(&totp, step(t));
    assert_eq!(
        allowed(&login(&engine, &alice, &c, t)),
        AllowReason::CodeAccepted { step: step(t) }
    );
    // Replayed at once, later in the same step, and in the next step where
    // it would still be inside the window.
    for later in [t, t + 1, t + PERIOD - 1, t + PERIOD, t + 2 * PERIOD - 1] {
        assert_eq!(
            refused(&login(&engine, &alice, &c, later)),
            DenyReason::Replayed,
            "at {later}"
        );
    }
}

#[test]
fn s4_an_older_step_after_a_newer_one_is_refused() {
    let engine = engine_with(lenient());
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 20 * PERIOD);
    let c = step(t);
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&totp, c + 1), t)),
        AllowReason::CodeAccepted { step: c + 1 }
    );
    // Never used, but older than the step just consumed.
    for s in [c, c - 1] {
        assert_eq!(
            refused(&login(&engine, &alice, &code(&totp, s), t)),
            DenyReason::Replayed,
            "step {s}"
        );
    }
    // One step later, the step after the consumed one is fine.
    assert_eq!(
        allowed(&login(&engine, &alice, &code(&totp, c + 2), t + PERIOD)),
        AllowReason::CodeAccepted { step: c + 2 }
    );
}

#[test]
fn s4_missing_code_is_asked_for_and_malformed_codes_are_refused() {
    let engine = engine_with(lenient());
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 20 * PERIOD);
    let c = code(&totp, step(t));
    assert_code_required(&engine.login(&alice, None, t).unwrap());
    let five = &c[..5];
    let seven = format!("{c}0");
    let spaced = format!(" {c}");
    let lettered = format!("{five}a");
    let fullwidth: String = c
        .chars()
        .map(|d| char::from_u32(u32::from(d) - u32::from('0') + 0xFF10).unwrap())
        .collect();
    for malformed in [
        "",
        five,
        seven.as_str(),
        spaced.as_str(),
        lettered.as_str(),
        fullwidth.as_str(),
        "-12345",
        "+12345",
    ] {
        assert_eq!(
            refused(&login(&engine, &alice, malformed, t)),
            DenyReason::MalformedCode,
            "{malformed:?}"
        );
    }
    // The real code was not affected.
    assert_eq!(
        allowed(&login(&engine, &alice, &c, t)),
        AllowReason::CodeAccepted { step: step(t) }
    );
}

#[test]
fn s4_only_answers_without_a_code_are_cacheable() {
    let engine = engine();
    let alice = account("alice@example.com");
    let nobody = account("nobody@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 20 * PERIOD);

    let plain = engine.login(&nobody, None, t).unwrap();
    assert_eq!(
        plain,
        Decision::Allow {
            reason: AllowReason::NoSecondFactor,
            cacheable: true
        }
    );
    let with_code = login(&engine, &alice, &code(&totp, step(t)), t);
    assert_eq!(
        with_code,
        Decision::Allow {
            reason: AllowReason::CodeAccepted { step: step(t) },
            cacheable: false
        }
    );
    // No code: asked for one, nothing to cache either.
    assert_code_required(&engine.login(&alice, None, t).unwrap());
    // Every kind of refusal gives the client the same answer.
    let refusals = [
        login(&engine, &alice, &code(&totp, step(t)), t),
        login(&engine, &alice, &wrong_code_near(&totp, step(t), MARGIN), t),
        login(&engine, &alice, &code(&totp, step(t) + 4), t),
        login(&engine, &alice, "abc", t),
    ];
    let reasons: Vec<DenyReason> = refusals.iter().map(refused).collect();
    assert_eq!(
        reasons,
        [
            DenyReason::Replayed,
            DenyReason::WrongCode,
            DenyReason::ClockSkew { steps: 4 },
            DenyReason::MalformedCode
        ]
    );
}

// ------------------------------------------------------ S5: password+code

#[test]
fn s5_split_for_an_enrolled_account_then_the_code_logs_in() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = NOW + 20 * PERIOD;

    // The story's own example.
    assert_eq!(
        engine.split_login(&alice, "T9D3K!px189145", t).unwrap(),
        ("T9D3K!px", Some("189145"))
    );
    // Exactly the account's six digits, even if the password ends in digits.
    assert_eq!(
        engine.split_login(&alice, "pw12345678", t).unwrap(),
        ("pw12", Some("345678"))
    );
    // Nothing left for a password, or too few digits: no code.
    assert_eq!(
        engine.split_login(&alice, "189145", t).unwrap(),
        ("189145", None)
    );
    assert_eq!(
        engine.split_login(&alice, "T9D3K!px18914", t).unwrap(),
        ("T9D3K!px18914", None)
    );

    let c = code(&totp, step(t));
    let typed = format!("T9D3K!px{c}");
    let (password, split_code) = engine.split_login(&alice, &typed, t).unwrap();
    assert_eq!(password, "T9D3K!px");
    assert_eq!(split_code, Some(c.as_str()));
    assert_eq!(
        allowed(&engine.login(&alice, split_code, t).unwrap()),
        AllowReason::CodeAccepted {
            step: accepted_step(&totp, &c, t)
        }
    );
}

#[test]
fn s5_split_by_the_accounts_digits_with_eight_digit_codes() {
    let engine = engine_with(
        EngineConfig::default().with_totp(TotpConfig::default().with_digits(Digits::EIGHT)),
    );
    let alice = account("alice@example.com");
    let uri = engine.enable_account(&alice, NOW).unwrap();
    assert_eq!(KeyUri::parse(&uri).unwrap().digits(), Digits::EIGHT);
    let totp = phone(&uri);
    assert!(matches!(
        allowed(&login(&engine, &alice, &code(&totp, step(NOW)), NOW)),
        AllowReason::Enrolled { .. }
    ));

    let t = NOW + 20 * PERIOD;
    assert_eq!(
        engine.split_login(&alice, "pw12345678", t).unwrap(),
        ("pw", Some("12345678"))
    );
    // Six trailing digits are not an eight-digit code.
    assert_eq!(
        engine.split_login(&alice, "password123456", t).unwrap(),
        ("password123456", None)
    );
    let c = code(&totp, step(t));
    assert_eq!(c.len(), 8);
    let typed = format!("hunter2{c}");
    let (password, split_code) = engine.split_login(&alice, &typed, t).unwrap();
    assert_eq!((password, split_code), ("hunter2", Some(c.as_str())));
    assert!(matches!(
        allowed(&engine.login(&alice, split_code, t).unwrap()),
        AllowReason::CodeAccepted { .. }
    ));
}

#[test]
fn s5_password_ending_in_digits_stays_whole_without_an_active_second_factor() {
    let engine = engine();
    let t = NOW + 100;
    let typed = "hunter2189145";
    let whole = (typed, None);

    // No 2FA at all.
    let nobody = account("nobody@example.com");
    assert_eq!(engine.split_login(&nobody, typed, t).unwrap(), whole);
    assert_eq!(
        allowed(&engine.login(&nobody, None, t).unwrap()),
        AllowReason::NoSecondFactor
    );

    // Pending enrollment.
    let pending = account("pending@example.com");
    engine.enable_account(&pending, NOW).unwrap();
    assert_eq!(engine.split_login(&pending, typed, t).unwrap(), whole);

    // Enrolled but suspended; split again once the suspension ends.
    let suspended = account("suspended@example.com");
    enroll(&engine, &suspended, NOW);
    let until = engine.suspend(&suspended, 3600, t).unwrap();
    assert_eq!(engine.split_login(&suspended, typed, t).unwrap(), whole);
    assert_eq!(
        engine.split_login(&suspended, typed, until - 1).unwrap(),
        whole
    );
    assert_eq!(
        engine.split_login(&suspended, typed, until).unwrap(),
        ("hunter2", Some("189145"))
    );

    // Enrolled on a platform that has 2FA off.
    engine.enable_platform("other.example", true).unwrap();
    let elsewhere = AccountId::new("other.example", "erin@other.example").unwrap();
    enroll(&engine, &elsewhere, NOW);
    assert_eq!(
        engine.split_login(&elsewhere, typed, t).unwrap(),
        ("hunter2", Some("189145"))
    );
    engine.enable_platform("other.example", false).unwrap();
    assert_eq!(engine.split_login(&elsewhere, typed, t).unwrap(), whole);

    // Removed.
    let removed = account("removed@example.com");
    enroll(&engine, &removed, NOW);
    engine.remove(&removed).unwrap();
    assert_eq!(engine.split_login(&removed, typed, t).unwrap(), whole);
}

#[test]
fn s5_nul_and_over_long_input_are_refused_for_everyone() {
    let engine = engine();
    let enrolled = account("alice@example.com");
    enroll(&engine, &enrolled, NOW);
    let nobody = account("nobody@example.com");
    let t = NOW + 100;
    let too_long = "a".repeat(MAX_LOGIN_INPUT - 6) + "1234567";
    let longest = "a".repeat(MAX_LOGIN_INPUT - 6) + "123456";
    for id in [&enrolled, &nobody] {
        for bad in ["pw\x00123456", "pw123\u{0}456", "\0", too_long.as_str()] {
            assert!(
                matches!(engine.split_login(id, bad, t), Err(Error::InvalidInput(_))),
                "{id:?} {:?}",
                &bad[..bad.len().min(12)]
            );
        }
        assert!(engine.split_login(id, &longest, t).is_ok());
    }
    assert_eq!(
        engine.split_login(&enrolled, &longest, t).unwrap().1,
        Some("123456")
    );
    assert_eq!(engine.split_login(&nobody, &longest, t).unwrap().1, None);
}
