//! The 2FA engine end to end on the in-memory store: enrollment, a login
//! with a code, the replay refused, lockout after wrong codes.
//!
//! ```text
//! cargo run --example engine_walkthrough
//! ```

use mail2fa::Totp;
use mail2fa::engine::{AccountId, Decision, Engine, EngineConfig};
use mail2fa::store::MemoryStore;

fn show(what: &str, decision: &Decision) {
    println!(
        "{what:<34} -> client: {:?}; host: {decision:?}",
        decision.client_answer()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
    let alice = AccountId::new("example.com", "alice@example.com")?;
    let mut now = 1_800_000_000;

    // S1, S2: platform first, then the account; it is pending until a first code.
    engine.enable_platform("example.com", true)?;
    let uri = engine.enable_account(&alice, now)?;
    println!(
        "provisioning URI (shown once as a QR code): {}",
        uri.as_str()
    );
    show("login, password only", &engine.login(&alice, None, now)?);

    // The phone scans the URI; its first code confirms the enrollment.
    let totp = Totp::from_uri(&uri)?;
    let code = totp.generate(now)?;
    show(
        "confirm enrollment, first code",
        &engine.confirm_enrollment(&alice, code.as_str(), now)?,
    );

    // S4: a login with the next code, then its replay.
    now += 30;
    let code = totp.generate(now)?;
    show(
        "login with a fresh code",
        &engine.login(&alice, Some(code.as_str()), now)?,
    );
    show(
        "same code again (replay)",
        &engine.login(&alice, Some(code.as_str()), now + 5)?,
    );

    // S7: wrong codes until the lock; then even the right code is refused,
    // and the client cannot tell the difference.
    for attempt in 1..=5 {
        let decision = engine.login(&alice, Some("000000"), now + 5)?;
        show(&format!("wrong code #{attempt}"), &decision);
    }
    now += 30;
    let code = totp.generate(now)?;
    show(
        "right code while locked",
        &engine.login(&alice, Some(code.as_str()), now)?,
    );
    Ok(())
}
