//! E-mail/SMS codes (S3, S6) and recovery codes, through the public engine API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::engine::{
    AccountId, AllowReason, Channel, ClientAnswer, Decision, DeliveredCodePolicy, DenyReason,
    Engine, EngineConfig, Mode,
};
use mail2fa::{KeyUri, Totp};
use support::{TestStore, fresh_store};

const NOW: u64 = 1_800_000_000;

fn engine_with(config: EngineConfig) -> Engine<TestStore> {
    let engine = Engine::new(fresh_store(), config).unwrap();
    engine.enable_platform("example.com", true).unwrap();
    engine
}

/// An account enabled (TOTP pending) with both contacts set.
fn account(engine: &Engine<TestStore>) -> AccountId {
    let id = AccountId::new("example.com", "alice@example.com").unwrap();
    engine.enable_account(&id, NOW).unwrap();
    engine
        .set_contact(&id, Some("alice@home.example"), Some("+33612345678"))
        .unwrap();
    id
}

fn login(engine: &Engine<TestStore>, id: &AccountId, code: &str, now: u64) -> Decision {
    engine.login(id, Some(code), now).unwrap()
}

fn reason(decision: &Decision) -> DenyReason {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::Refused,
        "{decision:?}"
    );
    match decision {
        Decision::Deny { reason } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A 6-digit code different from `code`.
fn other_than(code: &str) -> String {
    if code == "000000" { "111111" } else { "000000" }.to_owned()
}

#[test]
fn s3_modes_need_a_destination_and_switch_cleanly() {
    let engine = engine_with(EngineConfig::default());
    let id = AccountId::new("example.com", "bob@example.com").unwrap();
    engine.enable_account(&id, NOW).unwrap();
    assert!(matches!(
        engine.set_mode(&id, Mode::Email),
        Err(Error::NoContact)
    ));
    assert!(matches!(
        engine.set_mode(&id, Mode::Sms),
        Err(Error::NoContact)
    ));
    engine
        .set_contact(&id, Some("bob@home.example"), None)
        .unwrap();
    engine.set_mode(&id, Mode::Email).unwrap();
    assert!(matches!(
        engine.set_mode(&id, Mode::Sms),
        Err(Error::NoContact)
    ));
    // An e-mail account is asked for a code, not for an enrollment.
    assert_eq!(
        engine.login(&id, None, NOW).unwrap(),
        Decision::SecondFactorRequired { mode: Mode::Email }
    );
    // A TOTP account gets no e-mail codes.
    engine.set_mode(&id, Mode::Totp).unwrap();
    assert!(matches!(engine.issue_code(&id, NOW), Err(Error::NoContact)));
    // Bad contacts are refused.
    assert!(matches!(
        engine.set_contact(&id, Some(""), None),
        Err(Error::InvalidConfig(_))
    ));
    assert!(matches!(
        engine.set_contact(&id, Some("a\nb@example.com"), None),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn s6_an_issued_code_works_once_within_its_lifetime() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    engine.set_mode(&id, Mode::Sms).unwrap();
    let issued = engine.issue_code(&id, NOW).unwrap();
    assert_eq!(issued.channel, Channel::Sms("+33612345678".into()));
    assert_eq!(issued.expires_at, NOW + 180);
    assert_eq!(issued.code.len(), 6);
    assert!(issued.code.bytes().all(|b| b.is_ascii_digit()));
    // The code is not in the store in the clear.
    let stored = mail2fa::store::Store::load(engine.store(), &id.store_key())
        .unwrap()
        .unwrap();
    assert!(
        !stored.bytes.windows(6).any(|w| w == issued.code.as_bytes()),
        "code stored in the clear"
    );

    let decision = login(&engine, &id, &issued.code, NOW + 179);
    assert_eq!(
        decision,
        Decision::Allow {
            reason: AllowReason::DeliveredCodeAccepted,
            cacheable: false
        }
    );
    // Used: presented again (say by the client's other connections) it is a
    // replay, refused without counting as a failure — ten of them lock nothing.
    for _ in 0..10 {
        assert_eq!(
            reason(&login(&engine, &id, &issued.code, NOW + 179)),
            DenyReason::Replayed
        );
    }
    // Any other code with none live: no code issued.
    assert_eq!(
        reason(&login(&engine, &id, &other_than(&issued.code), NOW + 179)),
        DenyReason::NoCodeIssued
    );
    let next = engine.issue_code(&id, NOW + 200).unwrap();
    assert!(login(&engine, &id, &next.code, NOW + 200).is_allowed());
}

#[test]
fn a_platform_record_lost_under_an_enrolled_account_is_an_error_not_2fa_off() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    engine.set_mode(&id, Mode::Email).unwrap();
    // A damaged store: the platform record is gone, the account is still there.
    let store = engine.store();
    let platform_key = [b"plat".as_slice(), b"example.com"].concat();
    let version = mail2fa::store::Store::load(store, &platform_key)
        .unwrap()
        .unwrap()
        .version;
    mail2fa::store::Store::compare_and_swap(store, &platform_key, Some(version), None).unwrap();
    assert!(matches!(
        engine.login(&id, None, NOW),
        Err(Error::Record(mail2fa::RecordError::Missing))
    ));
    assert!(engine.split_login(&id, "pw123456", NOW).is_err());
}

#[test]
fn the_contact_a_mode_uses_cannot_be_removed() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    engine.set_mode(&id, Mode::Sms).unwrap();
    assert!(matches!(
        engine.set_contact(&id, Some("alice@home.example"), None),
        Err(Error::NoContact)
    ));
    engine.set_contact(&id, None, Some("+33700000000")).unwrap();
    let issued = engine.issue_code(&id, NOW).unwrap();
    assert_eq!(issued.channel, Channel::Sms("+33700000000".into()));
}

#[test]
fn s6_codes_expire_after_180_seconds() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    engine.set_mode(&id, Mode::Email).unwrap();
    let issued = engine.issue_code(&id, NOW).unwrap();
    assert_eq!(issued.channel, Channel::Email("alice@home.example".into()));
    assert_eq!(
        reason(&login(&engine, &id, &issued.code, NOW + 180)),
        DenyReason::CodeExpired
    );
    // And it stays dead, even if the clock were to go back.
    assert_eq!(
        reason(&login(&engine, &id, &issued.code, NOW + 10)),
        DenyReason::NoCodeIssued
    );
}

#[test]
fn s6_three_wrong_entries_kill_the_code() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    engine.set_mode(&id, Mode::Email).unwrap();
    let issued = engine.issue_code(&id, NOW).unwrap();
    let wrong = other_than(&issued.code);
    for _ in 0..3 {
        assert_eq!(
            reason(&login(&engine, &id, &wrong, NOW + 1)),
            DenyReason::WrongCode
        );
    }
    assert_eq!(
        reason(&login(&engine, &id, &issued.code, NOW + 2)),
        DenyReason::NoCodeIssued
    );
}

#[test]
fn s6_a_new_code_kills_the_old_one_and_resending_is_rate_limited() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    engine.set_mode(&id, Mode::Email).unwrap();
    let first = engine.issue_code(&id, NOW).unwrap();
    match engine.issue_code(&id, NOW + 29) {
        Err(Error::RateLimited { retry_at }) => assert_eq!(retry_at, NOW + 30),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    let second = engine.issue_code(&id, NOW + 30).unwrap();
    if first.code != second.code {
        assert_eq!(
            reason(&login(&engine, &id, &first.code, NOW + 31)),
            DenyReason::WrongCode
        );
    }
    assert!(login(&engine, &id, &second.code, NOW + 32).is_allowed());
}

#[test]
fn s6_every_number_is_configurable() {
    let engine = engine_with(
        EngineConfig::default().with_delivered_codes(
            DeliveredCodePolicy::default()
                .with_digits(8)
                .with_lifetime(60)
                .with_max_wrong(1)
                .with_resend_interval(0),
        ),
    );
    let id = account(&engine);
    engine.set_mode(&id, Mode::Email).unwrap();
    let issued = engine.issue_code(&id, NOW).unwrap();
    assert_eq!(issued.code.len(), 8);
    assert_eq!(issued.expires_at, NOW + 60);
    // No resend interval: a new code at once (the old one dies).
    let issued = engine.issue_code(&id, NOW).unwrap();
    // One wrong entry kills it.
    let wrong = "1".repeat(8);
    if *issued.code != wrong {
        assert_eq!(
            reason(&login(&engine, &id, &wrong, NOW)),
            DenyReason::WrongCode
        );
        assert_eq!(
            reason(&login(&engine, &id, &issued.code, NOW)),
            DenyReason::NoCodeIssued
        );
    }
    // A 6-digit entry for an 8-digit policy is malformed.
    engine.issue_code(&id, NOW).unwrap();
    assert_eq!(
        reason(&login(&engine, &id, "123456", NOW)),
        DenyReason::MalformedCode
    );
    // Out-of-range policies are refused.
    for bad in [
        DeliveredCodePolicy::default().with_digits(5),
        DeliveredCodePolicy::default().with_lifetime(0),
        DeliveredCodePolicy::default().with_max_wrong(0),
    ] {
        let config = EngineConfig::default().with_delivered_codes(bad);
        assert!(matches!(
            Engine::new(fresh_store(), config),
            Err(Error::InvalidConfig(_))
        ));
    }
}

#[test]
fn s6_wrong_delivered_codes_count_toward_the_lockout() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    engine.set_mode(&id, Mode::Email).unwrap();
    for attempt in 0..5 {
        // A fresh code each time (every 30 s), always answered wrongly.
        let issued = engine.issue_code(&id, NOW + 30 * attempt).unwrap();
        let wrong = other_than(&issued.code);
        assert_eq!(
            reason(&login(&engine, &id, &wrong, NOW + 30 * attempt)),
            DenyReason::WrongCode
        );
    }
    let t = NOW + 150;
    let issued = engine.issue_code(&id, t).unwrap();
    assert!(matches!(
        reason(&login(&engine, &id, &issued.code, t)),
        DenyReason::Locked { .. }
    ));
}

#[test]
fn s9_a_reset_kills_the_live_delivered_code() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    engine.set_mode(&id, Mode::Email).unwrap();
    let issued = engine.issue_code(&id, NOW).unwrap();
    engine.reset(&id, NOW + 1).unwrap();
    assert_eq!(
        reason(&login(&engine, &id, &issued.code, NOW + 2)),
        DenyReason::NoCodeIssued
    );
}

#[test]
fn recovery_codes_work_once_each_and_regenerating_replaces_them() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    // Enroll TOTP so the account has a real second factor.
    let uri = engine.reset(&id, NOW).unwrap();
    let key = KeyUri::parse(&uri).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    assert!(login(&engine, &id, totp.generate(NOW).unwrap().as_str(), NOW).is_allowed());

    let codes = engine.generate_recovery_codes(&id, 10).unwrap();
    assert_eq!(codes.len(), 10);
    let distinct: std::collections::HashSet<&str> = codes.iter().map(|c| c.as_str()).collect();
    assert_eq!(distinct.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
    );

    assert_eq!(
        login(&engine, &id, &codes[3], NOW + 1),
        Decision::Allow {
            reason: AllowReason::RecoveryCodeUsed { remaining: 9 },
            cacheable: false
        }
    );
    // Spent.
    assert_eq!(
        reason(&login(&engine, &id, &codes[3], NOW + 2)),
        DenyReason::WrongCode
    );
    assert!(login(&engine, &id, &codes[0], NOW + 3).is_allowed());

    // Regenerating replaces the whole set.
    let fresh = engine.generate_recovery_codes(&id, 2).unwrap();
    assert_eq!(
        reason(&login(&engine, &id, &codes[1], NOW + 4)),
        DenyReason::WrongCode
    );
    assert_eq!(
        login(&engine, &id, &fresh[1], NOW + 5),
        Decision::Allow {
            reason: AllowReason::RecoveryCodeUsed { remaining: 1 },
            cacheable: false
        }
    );
    assert!(matches!(
        engine.generate_recovery_codes(&id, 0),
        Err(Error::InvalidConfig(_))
    ));
    assert!(matches!(
        engine.generate_recovery_codes(&id, 33),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn recovery_codes_are_stored_only_as_tags() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    let codes = engine.generate_recovery_codes(&id, 10).unwrap();
    let stored = mail2fa::store::Store::load(engine.store(), &id.store_key())
        .unwrap()
        .unwrap();
    for code in &codes {
        assert!(
            !stored
                .bytes
                .windows(code.len())
                .any(|w| w == code.as_bytes()),
            "recovery code stored in the clear"
        );
    }
}

#[test]
fn audit_events_name_the_outcome_and_carry_no_secret() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    // Enrollment required: the event must not carry the URI (or its secret).
    let decision = engine.login(&id, None, NOW).unwrap();
    let Decision::EnrollmentRequired { uri } = &decision else {
        panic!("expected enrollment, got {decision:?}")
    };
    let secret = KeyUri::parse(uri).unwrap().secret().to_base32();
    let line = decision.audit_event(&id, NOW).to_string();
    assert!(line.contains("answer=enrollment-required"), "{line}");
    assert!(
        !line.contains(secret.as_str()) && !line.contains("otpauth"),
        "{line}"
    );

    // A delivered code accepted: the code is not in the event.
    engine.set_mode(&id, Mode::Sms).unwrap();
    let issued = engine.issue_code(&id, NOW).unwrap();
    let decision = login(&engine, &id, &issued.code, NOW + 1);
    let event = decision.audit_event(&id, NOW + 1);
    assert_eq!(event.allowed, Some(AllowReason::DeliveredCodeAccepted));
    assert!(!event.cacheable);
    let line = event.to_string();
    assert!(!line.contains(issued.code.as_str()), "{line}");
    assert!(line.contains(r#"account="alice@example.com""#), "{line}");

    // A refusal: the real reason for the log, the uniform answer for the client.
    let decision = login(&engine, &id, "123456", NOW + 2);
    let event = decision.audit_event(&id, NOW + 2);
    assert_eq!(event.answer, ClientAnswer::Refused);
    assert_eq!(event.denied, Some(DenyReason::NoCodeIssued));
    assert!(!event.to_string().contains("123456"));
}

#[test]
fn names_that_no_uri_can_carry_are_refused_before_anything_is_stored() {
    for (platform, account) in [
        ("example.com", "alice:work"),
        ("example.com", " alice"),
        ("example.com", "alice "),
        ("imap:example.com", "alice"),
    ] {
        assert!(
            matches!(
                AccountId::new(platform, account),
                Err(Error::InvalidName { .. })
            ),
            "{platform:?} {account:?}"
        );
    }
    let engine = engine_with(EngineConfig::default());
    assert!(matches!(
        engine.enable_platform("imap:example.com", true),
        Err(Error::InvalidName { .. })
    ));
    // An issuer with ':' and a non-zero T0 (which no URI can carry) are refused.
    for config in [
        EngineConfig::default().with_issuer("Example:Mail".to_owned()),
        EngineConfig::default().with_totp(mail2fa::TotpConfig::default().with_t0(30)),
        EngineConfig::default().with_enrollment_ttl(0),
    ] {
        assert!(matches!(
            Engine::new(fresh_store(), config),
            Err(Error::InvalidConfig(_))
        ));
    }
}

#[test]
fn recovery_codes_forgive_case_and_look_alikes() {
    let engine = engine_with(EngineConfig::default());
    let id = account(&engine);
    let codes = engine.generate_recovery_codes(&id, 3).unwrap();
    // Typed in capitals, with `o`/`l` where the code has `0`/`1`.
    let typed: String = codes[0]
        .chars()
        .map(|c| match c {
            '0' => 'O',
            '1' => 'l',
            other => other.to_ascii_uppercase(),
        })
        .collect();
    assert_eq!(
        login(&engine, &id, &typed, NOW),
        Decision::Allow {
            reason: AllowReason::RecoveryCodeUsed { remaining: 2 },
            cacheable: false
        }
    );
    // Spent, in any spelling.
    assert_eq!(
        reason(&login(&engine, &id, &codes[0], NOW + 1)),
        DenyReason::WrongCode
    );
}
