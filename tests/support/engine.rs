//! An engine on the test store ([`fresh_store`]) and the clock the engine
//! suites share: one platform with 2FA on, a fixed `NOW`, 30-second steps,
//! and the searches that make sure a code names exactly the step a test
//! means (secrets are random, so no test trusts luck).

use mail2fa::Totp;
use mail2fa::engine::{AccountId, AccountStatus, Engine, EngineConfig, LockoutPolicy};
use mail2fa::store::Store;

use super::stores::{TestStore, fresh_store};
use super::user::code;

pub const PLATFORM: &str = "example.com";
pub const NOW: u64 = 1_800_000_000;
pub const PERIOD: u64 = 30;
/// Steps each side within which a test makes sure a code identifies its step
/// (wider than the engine's default diagnostic window of 10).
pub const MARGIN: u64 = 12;
/// A day: the default enrollment lifetime.
pub const DAY: u64 = 86_400;

pub fn step(t: u64) -> u64 {
    t / PERIOD
}

pub fn start_of(step: u64) -> u64 {
    step * PERIOD
}

/// An engine whose platform [`PLATFORM`] has 2FA on.
pub fn engine_with(config: EngineConfig) -> Engine<TestStore> {
    let engine = Engine::new(fresh_store(), config).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
}

pub fn engine() -> Engine<TestStore> {
    engine_with(EngineConfig::default())
}

/// A lockout that never gets in the way of tests about something else.
pub fn lenient() -> EngineConfig {
    EngineConfig::default().with_lockout(LockoutPolicy::default().with_max_failures(100))
}

pub fn account(name: &str) -> AccountId {
    AccountId::new(PLATFORM, name).unwrap()
}

/// The status of an account that has one.
pub fn status(engine: &Engine<impl Store>, id: &AccountId, now: u64) -> AccountStatus {
    engine.account_status(id, now).unwrap()
}

/// Steps within `margin` of `center` whose code is `code`.
pub fn steps_matching(totp: &Totp, code: &str, center: u64, margin: u64) -> Vec<u64> {
    (center - margin..=center + margin)
        .filter(|&s| totp.generate_at_step(s).as_str() == code)
        .collect()
}

/// A well-formed code that is the code of no step within `margin` of `center`.
pub fn wrong_code_near(totp: &Totp, center: u64, margin: u64) -> String {
    let digits = usize::from(totp.config().digits().get());
    (0u64..)
        .map(|n| format!("{n:0digits$}"))
        .find(|c| steps_matching(totp, c, center, margin).is_empty())
        .unwrap()
}

/// The first step boundary, trying step `first` and then every `3 * MARGIN`
/// steps on, around which the codes of the steps within [`MARGIN`] are
/// pairwise distinct, so that every code there names exactly one step.
pub fn distinct_time_from_step(totp: &Totp, first: u64) -> u64 {
    (0..100)
        .map(|k| start_of(first + k * 3 * MARGIN))
        .find(|&t| {
            let c = step(t);
            let mut codes: Vec<String> = (c - MARGIN..=c + MARGIN).map(|s| code(totp, s)).collect();
            codes.sort();
            codes.dedup();
            codes.len() == 2 * MARGIN as usize + 1
        })
        .unwrap()
}
