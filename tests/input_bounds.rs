//! Input that could switch 2FA off or stretch it beyond use is refused
//! (issue 14, point 6): base32 texts with non-zero leftover bits, unbounded
//! TOTP periods, suspensions and locks without end, contacts that are not
//! addresses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use mail2fa::engine::{
    AccountId, AllowReason, Decision, DeliveredCodePolicy, Engine, EngineConfig, LockoutPolicy,
    MAX_DELIVERED_CODE_SECONDS, MAX_ENROLLMENT_TTL, MAX_LOCK, MAX_SUSPENSION,
};
use mail2fa::store::MemoryStore;
use mail2fa::{Base32Error, Error, KeyUri, MAX_PERIOD, Secret, TotpConfig, UriError};
use support::{code, enroll};

const NOW: u64 = 1_800_000_000;
const PLATFORM: &str = "example.com";

/// One memory store seen by several engines (as processes share a file):
/// an `Arc` of a store is a store.
type Shared = Arc<MemoryStore>;

fn engine_on(store: Shared, config: EngineConfig) -> Engine<Shared> {
    let engine = Engine::new(store, config).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
}

fn alice() -> AccountId {
    AccountId::new(PLATFORM, "alice@example.com").unwrap()
}

fn is_suspended(decision: &Decision) -> bool {
    matches!(
        decision,
        Decision::Allow {
            reason: AllowReason::Suspended { .. },
            ..
        }
    )
}

// ---------------------------------------------------------------- base32

#[test]
fn base32_with_non_zero_leftover_bits_is_refused_everywhere() {
    // 26 symbols = 16 bytes and 2 leftover bits: `A` leaves them zero, `B`
    // sets one. Both used to decode to the same secret.
    let canonical = "JBSWY3DPEHPK3PXPJBSWY3DPEA";
    let other_spelling = "JBSWY3DPEHPK3PXPJBSWY3DPEB";
    assert!(Secret::from_base32(canonical).is_ok());
    assert_eq!(
        Secret::from_base32(other_spelling).unwrap_err(),
        Error::Base32(Base32Error::NonZeroTrailingBits { position: 25 })
    );
    let uri = format!("otpauth://totp/x?secret={other_spelling}");
    assert_eq!(
        KeyUri::parse(&uri).unwrap_err(),
        Error::Base32(Base32Error::NonZeroTrailingBits { position: 25 })
    );
    let message = Secret::from_base32(other_spelling).unwrap_err().to_string();
    assert!(message.contains("position 25"), "{message}");
    assert!(!message.contains("JBSW"), "{message}");
}

// ----------------------------------------------------------- TOTP period

#[test]
fn totp_period_is_bounded_in_uris_and_configs_alike() {
    let s = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let at_max = KeyUri::parse(&format!("otpauth://totp/x?secret={s}&period=300")).unwrap();
    assert_eq!(at_max.totp_config().unwrap().period(), 300);
    for period in ["301", "86400", "18446744073709551615"] {
        assert_eq!(
            KeyUri::parse(&format!("otpauth://totp/x?secret={s}&period={period}")).unwrap_err(),
            Error::Uri(UriError::InvalidParameter("period")),
            "period={period}"
        );
    }
    assert_eq!(MAX_PERIOD, 300);
    assert!(TotpConfig::default().with_period(300).is_ok());
    for period in [0, 301, u64::MAX] {
        assert_eq!(
            TotpConfig::default().with_period(period),
            Err(Error::InvalidPeriod),
            "{period}"
        );
    }
}

// ------------------------------------------------------------ suspension

#[test]
fn a_suspension_longer_than_the_maximum_is_refused_not_shortened() {
    let engine = engine_on(Shared::default(), EngineConfig::default());
    let id = alice();
    let totp = enroll(&engine, &id, NOW);
    for seconds in [u64::MAX, MAX_SUSPENSION + 1] {
        assert!(
            matches!(
                engine.suspend(&id, seconds, NOW),
                Err(Error::InvalidInput(_))
            ),
            "{seconds}"
        );
    }
    // Nothing was suspended: the password alone still does not pass.
    let later = NOW + 90;
    assert_eq!(
        engine.login(&id, None, later).unwrap(),
        Decision::SecondFactorRequired {
            mode: mail2fa::engine::Mode::Totp
        }
    );
    // An end beyond 64-bit time is refused, not saturated into "for ever".
    assert!(matches!(
        engine.suspend(&id, 60, u64::MAX - 10),
        Err(Error::InvalidInput(_))
    ));
    // The maximum itself is fine, and ends.
    let until = engine.suspend(&id, MAX_SUSPENSION, later).unwrap();
    assert_eq!(until, later + MAX_SUSPENSION);
    assert!(is_suspended(&engine.login(&id, None, until - 1).unwrap()));
    let step = totp.step_at(until).unwrap();
    assert!(
        engine
            .login(&id, Some(&code(&totp, step)), until)
            .unwrap()
            .is_allowed()
    );
    assert!(!engine.login(&id, None, until + 1).unwrap().is_allowed());
}

#[test]
fn the_longest_suspension_is_configurable_and_bounded() {
    for bad in [0, MAX_SUSPENSION + 1, u64::MAX] {
        let config = EngineConfig::default().with_max_suspension(bad);
        assert!(
            matches!(
                Engine::new(MemoryStore::new(), config),
                Err(Error::InvalidConfig(_))
            ),
            "{bad}"
        );
    }
    let day = EngineConfig::default().with_max_suspension(86_400);
    let engine = engine_on(Shared::default(), day);
    let id = alice();
    enroll(&engine, &id, NOW);
    assert!(matches!(
        engine.suspend(&id, 86_401, NOW),
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(engine.suspend(&id, 86_400, NOW).unwrap(), NOW + 86_400);
}

#[test]
fn a_stored_suspension_beyond_the_maximum_is_not_honoured() {
    // Written under a long maximum (or by an older version); read under a
    // shorter one: the record claims more than this configuration grants.
    let store = Shared::default();
    let long = engine_on(store.clone(), EngineConfig::default());
    let id = alice();
    enroll(&long, &id, NOW);
    long.suspend(&id, 20 * 86_400, NOW).unwrap();
    let short = engine_on(store, EngineConfig::default().with_max_suspension(86_400));
    assert!(!short.login(&id, None, NOW + 60).unwrap().is_allowed());
    // The status the operator sees agrees with the login.
    let status = short.account_status(&id, NOW + 60).unwrap();
    assert_eq!(status.suspended_until, None);
    // Once the rest of it fits in the maximum, it is honoured.
    assert!(is_suspended(
        &short.login(&id, None, NOW + 19 * 86_400 + 1).unwrap()
    ));
    let status = short.account_status(&id, NOW + 19 * 86_400 + 1).unwrap();
    assert_eq!(status.suspended_until, Some(NOW + 20 * 86_400));
}

// ---------------------------------------------- durations in the config

#[test]
fn engine_config_durations_without_end_are_refused() {
    let lock = |max_lock| {
        EngineConfig::default().with_lockout(
            LockoutPolicy::default()
                .with_max_failures(5)
                .with_first_lock(60)
                .with_max_lock(max_lock),
        )
    };
    let codes = |lifetime, resend_interval| {
        EngineConfig::default().with_delivered_codes(
            DeliveredCodePolicy::default()
                .with_lifetime(lifetime)
                .with_resend_interval(resend_interval),
        )
    };
    let enrollment = |enrollment_ttl| EngineConfig::default().with_enrollment_ttl(enrollment_ttl);
    let period = |seconds| {
        // Built field by field: `with_period` already refuses it.
        TotpConfig::default()
            .with_period(seconds)
            .map(|totp| EngineConfig::default().with_totp(totp))
    };
    assert_eq!(MAX_LOCK, 86_400);
    for config in [
        lock(u64::MAX),
        lock(MAX_LOCK + 1),
        codes(u64::MAX, 30),
        codes(MAX_DELIVERED_CODE_SECONDS + 1, 30),
        codes(180, u64::MAX),
        enrollment(u64::MAX),
        enrollment(MAX_ENROLLMENT_TTL + 1),
    ] {
        assert!(
            matches!(
                Engine::new(MemoryStore::new(), config.clone()),
                Err(Error::InvalidConfig(_))
            ),
            "{config:?}"
        );
    }
    assert!(period(u64::MAX).is_err());
    for config in [
        lock(MAX_LOCK),
        codes(MAX_DELIVERED_CODE_SECONDS, MAX_DELIVERED_CODE_SECONDS),
        enrollment(MAX_ENROLLMENT_TTL),
        period(MAX_PERIOD).unwrap(),
    ] {
        assert!(Engine::new(MemoryStore::new(), config).is_ok());
    }
}

// -------------------------------------------------------------- contacts

#[test]
fn contacts_must_be_an_address_and_an_e164_number() {
    let engine = engine_on(Shared::default(), EngineConfig::default());
    let id = alice();
    enroll(&engine, &id, NOW);
    for email in [
        "not an address",
        "alice",
        "alice@localhost",
        "a@b@example.com",
        "alice@example.com\r\nBcc: eve@example.net",
        "ａlice@example.com",
        "\"alice\"@example.com",
        "alice@[192.0.2.1]",
        "alice,eve@example.com",
    ] {
        assert!(
            matches!(
                engine.set_contact(&id, Some(email), None),
                Err(Error::InvalidConfig(_))
            ),
            "{email:?}"
        );
    }
    for phone in [
        "call me",
        "0612345678",
        "+33-6-12-34-56-78",
        "+1234567",
        "+1234567890123456",
        "+33 6 12 34 56 78;ext=1",
    ] {
        assert!(
            matches!(
                engine.set_contact(&id, None, Some(phone)),
                Err(Error::InvalidConfig(_))
            ),
            "{phone:?}"
        );
    }
    engine
        .set_contact(
            &id,
            Some("alice.private+2fa@home.example"),
            Some("+33 6 12 34 56 78"),
        )
        .unwrap();
    engine.set_contact(&id, None, Some("+33612345678")).unwrap();
}
