//! Logging in with TOTP codes as the engine's S1–S11 scenario suites do
//! (`Engine::login`): enrolling an account at a given time, a code login,
//! times at which every code names one step, and readers of a `Decision`
//! that check each answer looks to the client as it must.
//!
//! Time is always an explicit parameter. Secrets are random, so wherever a
//! test depends on which step a code belongs to, it checks explicitly that
//! the code matches no other step nearby (or picks a time at which the codes
//! around are pairwise distinct) instead of trusting luck.

use mail2fa::engine::{AccountId, AllowReason, ClientAnswer, Decision, DenyReason, Engine, Mode};
use mail2fa::{KeyUri, Totp};

use super::engine::{NOW, PERIOD, account, distinct_time_from_step, engine, step, steps_matching};
use super::stores::TestStore;
use super::user::{code, phone};

pub fn secret_of(uri: &str) -> Vec<u8> {
    KeyUri::parse(uri).unwrap().secret().expose_bytes().to_vec()
}

/// Codes of the first steps: equal for two generators only if their
/// secrets are (up to a 10^-48 chance).
pub fn fingerprint(totp: &Totp) -> String {
    (0..8).map(|s| code(totp, s)).collect()
}

/// The first step boundary at or after `from` around which the codes of the
/// steps within [`MARGIN`](super::engine::MARGIN) are pairwise distinct, so
/// that every code there names exactly one step.
pub fn distinct_time(totp: &Totp, from: u64) -> u64 {
    distinct_time_from_step(totp, step(from))
}

/// The refusal reason; every refusal must look the same to the client.
pub fn refused(decision: &Decision) -> DenyReason {
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
pub fn allowed(decision: &Decision) -> AllowReason {
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
pub fn assert_code_required(decision: &Decision) {
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

pub fn enrollment_uri(decision: &Decision) -> String {
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
pub fn enroll(engine: &Engine<TestStore>, id: &AccountId, now: u64) -> Totp {
    let totp = phone(&engine.enable_account(id, now).unwrap());
    let c = code(&totp, step(now));
    let decision = engine.confirm_enrollment(id, &c, now).unwrap();
    assert_eq!(
        allowed(&decision),
        AllowReason::Enrolled {
            step: accepted_step(&totp, &c, now)
        }
    );
    totp
}

/// The start of most S7–S11 scenarios: alice enrolled at [`NOW`] on a fresh
/// [`engine`], and a time 40 steps later at which every code names one step.
/// Returns the engine, alice, her phone's generator, that time and its step.
pub fn alice_enrolled() -> (Engine<TestStore>, AccountId, Totp, u64, u64) {
    let engine = engine();
    let alice = account("alice@example.com");
    let totp = enroll(&engine, &alice, NOW);
    let t = distinct_time(&totp, NOW + 40 * PERIOD);
    let c = step(t);
    (engine, alice, totp, t, c)
}

/// The step a valid code of `totp` for `now` is accepted as: the highest
/// matching step of the ±1 window (normally `step(now)` itself).
pub fn accepted_step(totp: &Totp, code: &str, now: u64) -> u64 {
    *steps_matching(totp, code, step(now), 1).last().unwrap()
}

pub fn login(engine: &Engine<TestStore>, id: &AccountId, code: &str, now: u64) -> Decision {
    engine.login(id, Some(code), now).unwrap()
}
