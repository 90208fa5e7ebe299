//! The user's side of 2FA: what their authenticator app makes of a
//! provisioning URI and the codes it shows, enrolling as a user does, and a
//! code that is simply wrong.

use mail2fa::Totp;
use mail2fa::engine::{AccountId, AllowReason, Decision, Engine};
use mail2fa::store::Store;

/// What the user's authenticator app makes of a provisioning URI.
pub fn phone(uri: &str) -> Totp {
    Totp::from_uri(uri).unwrap()
}

/// The app's code of time step `step`.
pub fn code(totp: &Totp, step: u64) -> String {
    totp.generate_at_step(step).as_str().to_owned()
}

/// Enables 2FA for `id` at `now` and confirms it with the current step's
/// code, as a user does; returns the app's generator.
pub fn enroll<S: Store>(engine: &Engine<S>, id: &AccountId, now: u64) -> Totp {
    let totp = phone(&engine.enable_account(id, now).unwrap());
    let decision = engine
        .confirm_enrollment(id, &code(&totp, totp.step_at(now).unwrap()), now)
        .unwrap();
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::Enrolled { .. },
                cacheable: false
            }
        ),
        "{decision:?}"
    );
    totp
}

/// A well-formed code that matches no step within 12 of `center`: wrong,
/// and not even diagnosable as clock skew. Other `salt`s give other codes.
pub fn wrong_code(totp: &Totp, center: u64, salt: u64) -> String {
    (salt..)
        .map(|n| format!("{:06}", n % 1_000_000))
        .find(|c| (center - 12..=center + 12).all(|s| totp.generate_at_step(s).as_str() != c))
        .unwrap()
}
