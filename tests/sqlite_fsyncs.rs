//! Many logins in one process, as a long-lived auth process makes them:
//! the program `scripts/count-fsyncs.sh` runs under strace to count the
//! syncs to disk per login once the store is open (one per accepted code,
//! none per replay or read; the automatic checkpoints add theirs). It is
//! ignored in a plain `cargo test`: it needs a database prepared by the
//! script (`M2FA_DB`, `M2FA_URI`, `M2FA_AT`, `M2FA_LOGINS`).
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mail2fa::engine::{AccountId, Decision, DenyReason, Engine, EngineConfig};
use mail2fa::store::SqliteStore;
use mail2fa::{KeyUri, Totp};

#[test]
#[ignore = "run by scripts/count-fsyncs.sh under strace"]
fn logins_in_one_process() {
    let var = |name: &str| std::env::var(name).unwrap();
    let engine = Engine::new(
        SqliteStore::open(var("M2FA_DB")).unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    let key = KeyUri::parse(&var("M2FA_URI")).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    let id = AccountId::new("example.com", "alice@example.com").unwrap();
    let first: u64 = var("M2FA_AT").parse().unwrap();
    let logins: u64 = var("M2FA_LOGINS").parse().unwrap();
    let mut accepted = 0;
    let mut last = first;
    for n in 0..logins {
        let at = first + 30 * n;
        let code = totp.generate(at).unwrap();
        // Once in a while a code equals the next step's: then the engine
        // rightly takes it as that later step, and the next is a replay.
        match engine.login(&id, Some(code.as_str()), at).unwrap() {
            decision if decision.is_allowed() => accepted += 1,
            Decision::Deny {
                reason: DenyReason::Replayed,
            } => {}
            other => panic!("login {n}: {other:?}"),
        }
        last = at;
    }
    let code = totp.generate(last).unwrap();
    for _ in 0..logins {
        assert_eq!(
            engine.login(&id, Some(code.as_str()), last).unwrap(),
            Decision::Deny {
                reason: DenyReason::Replayed
            }
        );
    }
    // A code equal to the next step's (one in a million) is the only way
    // an accepted count falls short.
    assert!(
        accepted + logins / 100 >= logins,
        "accepted {accepted} of {logins}"
    );
    println!("accepted {accepted} of {logins}; replayed {logins}");
}
