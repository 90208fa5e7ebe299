//! Acceptance scenarios of the 2FA engine: one or more tests per user story
//! of `docs/product.md` that the engine implements (S1, S2, S4, S5, S7–S11),
//! plus fail-closed reading of corrupt records, all through the public API.
//!
//! Time is always an explicit parameter. Secrets are random, so wherever a
//! test depends on which step a code belongs to, it checks explicitly that
//! the code matches no other step nearby (or picks a time at which the codes
//! around are pairwise distinct) instead of trusting luck.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{
    AccountId, AllowReason, ClientAnswer, Decision, DenyReason, Engine, EngineConfig,
    LockoutPolicy, MAX_LOGIN_INPUT, Mode,
};
use mail2fa::record;
use mail2fa::store::{CasOutcome, Store};
use mail2fa::{Digits, Error, KeyUri, OtpKind, Totp, TotpConfig};
use support::{TestStore, code, fresh_store, phone};

const PLATFORM: &str = "example.com";
const NOW: u64 = 1_800_000_000;
const PERIOD: u64 = 30;
/// Steps each side within which a test makes sure a code identifies its step
/// (wider than the engine's default diagnostic window of 10).
const MARGIN: u64 = 12;

// ------------------------------------------------------------------ helpers

fn step(t: u64) -> u64 {
    t / PERIOD
}

fn start_of(step: u64) -> u64 {
    step * PERIOD
}

/// An engine whose platform [`PLATFORM`] has 2FA on.
fn engine_with(config: EngineConfig) -> Engine<TestStore> {
    let engine = Engine::new(fresh_store(), config).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
}

fn engine() -> Engine<TestStore> {
    engine_with(EngineConfig::default())
}

/// A lockout that never gets in the way of tests about something else.
fn lenient() -> EngineConfig {
    EngineConfig {
        lockout: LockoutPolicy {
            max_failures: 100,
            ..LockoutPolicy::default()
        },
        ..EngineConfig::default()
    }
}

fn account(name: &str) -> AccountId {
    AccountId::new(PLATFORM, name).unwrap()
}

fn secret_of(uri: &str) -> Vec<u8> {
    KeyUri::parse(uri).unwrap().secret().expose_bytes().to_vec()
}

/// Codes of the first steps: equal for two generators only if their
/// secrets are (up to a 10^-48 chance).
fn fingerprint(totp: &Totp) -> String {
    (0..8).map(|s| code(totp, s)).collect()
}

/// Steps within `margin` of `center` whose code is `code`.
fn steps_matching(totp: &Totp, code: &str, center: u64, margin: u64) -> Vec<u64> {
    (center - margin..=center + margin)
        .filter(|&s| totp.generate_at_step(s).as_str() == code)
        .collect()
}

/// A well-formed code that is the code of no step within `margin` of `center`.
fn wrong_code(totp: &Totp, center: u64, margin: u64) -> String {
    let digits = usize::from(totp.config().digits().get());
    (0u64..)
        .map(|n| format!("{n:0digits$}"))
        .find(|c| steps_matching(totp, c, center, margin).is_empty())
        .unwrap()
}

/// The first step boundary at or after `from` around which the codes of the
/// steps within [`MARGIN`] are pairwise distinct, so that every code there
/// names exactly one step.
fn distinct_time(totp: &Totp, from: u64) -> u64 {
    (0..100)
        .map(|k| start_of(step(from) + k * 3 * MARGIN))
        .find(|&t| {
            let c = step(t);
            let mut codes: Vec<String> = (c - MARGIN..=c + MARGIN).map(|s| code(totp, s)).collect();
            codes.sort();
            codes.dedup();
            codes.len() == 2 * MARGIN as usize + 1
        })
        .unwrap()
}

/// The refusal reason; every refusal must look the same to the client.
fn refused(decision: &Decision) -> DenyReason {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::Refused,
        "{decision:?}"
    );
    assert!(!decision.is_allowed());
    match decision {
        Decision::Deny { reason } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The reason of an `Allow`, after checking that it is cacheable only when
/// no second factor applies (never with a one-time code or a time-limited
/// suspension; not even for an account whose platform has 2FA off, since it
/// may be turned on again).
fn allowed(decision: &Decision) -> AllowReason {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::Allowed,
        "{decision:?}"
    );
    assert!(decision.is_allowed());
    match decision {
        Decision::Allow { reason, cacheable } => {
            assert!(
                !*cacheable || matches!(reason, AllowReason::NoSecondFactor),
                "cacheable flag of {reason:?}"
            );
            *reason
        }
        other => panic!("expected an allow, got {other:?}"),
    }
}

/// The answer to a login without a code on an account whose second factor
/// is active: ask for one.
fn assert_code_required(decision: &Decision) {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::SecondFactorRequired,
        "{decision:?}"
    );
    assert!(!decision.is_allowed());
    assert_eq!(
        *decision,
        Decision::SecondFactorRequired { mode: Mode::Totp }
    );
}

fn enrollment_uri(decision: &Decision) -> String {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::EnrollmentRequired,
        "{decision:?}"
    );
    match decision {
        Decision::EnrollmentRequired { uri } => uri.to_string(),
        other => panic!("expected enrollment required, got {other:?}"),
    }
}

/// Enables 2FA for `id` at `now` and confirms it with the code of the
/// current step; returns the phone's generator.
fn enroll(engine: &Engine<TestStore>, id: &AccountId, now: u64) -> Totp {
    let totp = phone(&engine.enable_account(id, now).unwrap());
    let c = code(&totp, step(now));
    let decision = engine.login(id, Some(&c), now).unwrap();
    assert_eq!(
        allowed(&decision),
        AllowReason::Enrolled {
            step: accepted_step(&totp, &c, now)
        }
    );
    totp
}

/// The step a valid code of `totp` for `now` is accepted as: the highest
/// matching step of the ±1 window (normally `step(now)` itself).
fn accepted_step(totp: &Totp, code: &str, now: u64) -> u64 {
    *steps_matching(totp, code, step(now), 1).last().unwrap()
}

fn login(engine: &Engine<TestStore>, id: &AccountId, code: &str, now: u64) -> Decision {
    engine.login(id, Some(code), now).unwrap()
}

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
    let engine = engine_with(EngineConfig {
        issuer: Some("Example Mail".into()),
        ..EngineConfig::default()
    });
    let uri = engine
        .enable_account(&account("alice@example.com"), NOW)
        .unwrap();
    assert_eq!(KeyUri::parse(&uri).unwrap().issuer(), Some("Example Mail"));
    assert!(
        Engine::new(
            fresh_store(),
            EngineConfig {
                issuer: Some(String::new()),
                ..EngineConfig::default()
            }
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

    let wrong = wrong_code(&totp, c, MARGIN);
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
    let engine = engine_with(EngineConfig {
        enrollment_ttl: ttl,
        ..EngineConfig::default()
    });
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
    let wrong = wrong_code(&totp, c, MARGIN);
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
    let engine = engine_with(EngineConfig {
        totp: TotpConfig::default().with_window(2).unwrap(),
        ..lenient()
    });
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
        let engine = engine_with(EngineConfig {
            diagnostic_window: window,
            ..lenient()
        });
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
        login(&engine, &alice, &wrong_code(&totp, step(t), MARGIN), t),
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
    let engine = engine_with(EngineConfig {
        totp: TotpConfig::default().with_digits(Digits::EIGHT),
        ..EngineConfig::default()
    });
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

// --------------------------------------------------------------- S7: lockout

#[test]
fn s7_five_wrong_codes_lock_even_the_right_code() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
    let wrong = wrong_code(&totp, c, MARGIN);

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
    let wrong = wrong_code(&totp, ce, MARGIN);
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
        let wrong = wrong_code(&totp, step(t), MARGIN);
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
        let wrong = wrong_code(&totp, step(t), MARGIN);
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
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
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
        (wrong_code(&totp, c, MARGIN), DenyReason::WrongCode),
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
    let wrong = wrong_code(&totp, step(t), MARGIN);
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
    let engine = engine_with(EngineConfig {
        lockout: LockoutPolicy {
            max_failures: 2,
            first_lock: 10,
            max_lock: 25,
        },
        ..EngineConfig::default()
    });
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let mut t = NOW + 40 * PERIOD;
    let wrong = wrong_code(&totp, step(t), MARGIN);
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
        let wrong = wrong_code(&totp, step(t), MARGIN);
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
    let wrong = wrong_code(&totp, step(t), MARGIN);
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
            EngineConfig {
                lockout: LockoutPolicy {
                    max_failures,
                    first_lock,
                    max_lock,
                },
                ..EngineConfig::default()
            },
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
        LockoutPolicy {
            max_failures: 5,
            first_lock: 60,
            max_lock: 3600
        }
    );
    assert!(matches!(
        Engine::new(
            fresh_store(),
            EngineConfig {
                diagnostic_window: mail2fa::MAX_WINDOW + 1,
                ..EngineConfig::default()
            }
        ),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn s7_unlock_lifts_a_lock_and_its_escalation() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
    let wrong = wrong_code(&totp, c, MARGIN);
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
            &wrong_code(&totp, step(u), MARGIN),
            u,
        ));
    }
    engine.unlock(&alice).unwrap();
    let wrong = wrong_code(&totp, step(u), MARGIN);
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
    let wrong = wrong_code(&totp, step(until), MARGIN);
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
    let wrong = wrong_code(&old, step(t), MARGIN);
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
    let wrong = wrong_code(&new, step(end), MARGIN);
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
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
    let wrong = wrong_code(&totp, c, MARGIN);
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
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
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
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
    let wrong = wrong_code(&totp, c, MARGIN);
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
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
    engine.suspend(&alice, 4 * 3600, t).unwrap();
    let wrong = wrong_code(&totp, c, MARGIN);
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
    let wrong = wrong_code(&totp, step(t), MARGIN);

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

// -------------------------------------------------- fail closed on bad records

fn overwrite(engine: &Engine<TestStore>, id: &AccountId, bytes: &[u8]) {
    let key = id.store_key();
    let current = engine.store().load(&key).unwrap().map(|r| r.version);
    assert!(matches!(
        engine
            .store()
            .compare_and_swap(&key, current, Some(bytes))
            .unwrap(),
        CasOutcome::Stored { .. }
    ));
}

/// Every way of asking about the account refuses with an error.
fn assert_fails_closed(engine: &Engine<TestStore>, id: &AccountId, totp: &Totp, what: &str) {
    let t = NOW + 40 * PERIOD;
    let c = code(totp, step(t));
    for platform_on in [true, false] {
        engine.enable_platform(PLATFORM, platform_on).unwrap();
        assert!(
            matches!(engine.login(id, None, t), Err(Error::Record(_))),
            "{what}: login without code, platform on: {platform_on}"
        );
        assert!(
            matches!(engine.login(id, Some(&c), t), Err(Error::Record(_))),
            "{what}: login with code, platform on: {platform_on}"
        );
        assert!(
            engine.split_login(id, &format!("pw{c}"), t).is_err(),
            "{what}: split"
        );
    }
    engine.enable_platform(PLATFORM, true).unwrap();
    assert!(engine.disable_with_code(id, &c, t).is_err(), "{what}");
    assert!(engine.suspend(id, 3600, t).is_err(), "{what}");
    assert!(engine.unlock(id).is_err(), "{what}");
    assert!(engine.reset(id, t).is_err(), "{what}");
    assert!(engine.remove(id).is_err(), "{what}");
}

#[test]
fn corrupt_record_fails_closed() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let framed_wrong_kind = record::encode(1, &[1]);
    let framed_garbage = record::encode(2, b"not an account");
    let cases: [(&str, &[u8]); 6] = [
        ("garbage", b"garbage"),
        ("empty", b""),
        ("all ones", &[0xff; 96]),
        ("platform record", &framed_wrong_kind),
        ("bad payload", &framed_garbage),
        ("zeros", &[0; 96]),
    ];
    for (what, bytes) in cases {
        overwrite(&engine, &alice, bytes);
        assert_fails_closed(&engine, &alice, &totp, what);
    }
}

#[test]
fn truncated_or_flipped_record_fails_closed() {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let valid = engine
        .store()
        .load(&alice.store_key())
        .unwrap()
        .unwrap()
        .bytes
        .to_vec();
    let len = valid.len();
    for cut in [0, 1, 4, 9, 10, len / 2, len - 16, len - 1] {
        overwrite(&engine, &alice, &valid[..cut]);
        assert_fails_closed(&engine, &alice, &totp, &format!("cut at {cut}"));
    }
    // One flipped bit anywhere: caught by the record check.
    let t = NOW + 40 * PERIOD;
    for i in 0..len {
        let mut flipped = valid.clone();
        flipped[i] ^= 0x10;
        overwrite(&engine, &alice, &flipped);
        assert!(
            engine.login(&alice, None, t).is_err(),
            "bit flipped in byte {i}"
        );
    }
    // The intact record reads again.
    overwrite(&engine, &alice, &valid);
    assert_code_required(&engine.login(&alice, None, t).unwrap());
}
