//! Per-protocol policies, as the engine's acceptance scenario S15 of
//! `docs/behaviour.md` tells them: the defaults, overrides by account over
//! platform over default, every protocol without a second factor, and the
//! portal that takes only codes, through the public API. Times and codes are
//! chosen as `support::clients` says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Credential, Decision, DenyReason, Mode, Protocol,
    ProtocolPolicy,
};
use support::clients::*;
use support::engine::*;
use support::{code, enroll};

// ------------------------------------------------- S15: protocol policies

#[test]
fn default_protocol_policies() {
    let expected = [
        (Protocol::Webmail, ProtocolPolicy::CodeInLogin),
        (Protocol::Portal, ProtocolPolicy::CodeInLogin),
        (Protocol::ActiveSync, ProtocolPolicy::DeviceAuthorization),
        (Protocol::Outlook, ProtocolPolicy::DeviceAuthorization),
        (Protocol::Imap, ProtocolPolicy::AppPasswordOnly),
        (Protocol::Pop3, ProtocolPolicy::AppPasswordOnly),
        (Protocol::Smtp, ProtocolPolicy::AppPasswordOnly),
        (Protocol::RpcOverHttp, ProtocolPolicy::AppPasswordOnly),
        (
            Protocol::other("ManageSieve").unwrap(),
            ProtocolPolicy::AppPasswordOnly,
        ),
    ];
    for (protocol, policy) in &expected {
        assert_eq!(protocol.default_policy(), *policy, "{protocol}");
    }
    assert_eq!(Protocol::STANDARD.len() + 1, expected.len());
    for policy in [
        ProtocolPolicy::DeviceAuthorization,
        ProtocolPolicy::AppPasswordOnly,
    ] {
        assert!(policy.accepts_app_passwords());
    }
    for policy in [ProtocolPolicy::CodeInLogin, ProtocolPolicy::Refused] {
        assert!(!policy.accepts_app_passwords());
    }

    let engine = engine();
    let id = account("alice@example.com");
    let totp = enroll(&engine, &id, NOW - 3_600);
    for (protocol, policy) in &expected {
        assert_eq!(engine.protocol_policy(&id, protocol).unwrap(), *policy);
    }
    let thunderbird = ClientInfo::new()
        .with_user_agent("Thunderbird/115.3")
        .with_remote_addr("203.0.113.7");
    // S15: the legacy protocols refuse the account password.
    for protocol in [
        Protocol::Imap,
        Protocol::Pop3,
        Protocol::Smtp,
        Protocol::RpcOverHttp,
        Protocol::other("managesieve").unwrap(),
    ] {
        let decision = with_password(&engine, &id, protocol.clone(), thunderbird, NOW);
        assert_eq!(
            refused(&decision),
            DenyReason::AppPasswordRequired,
            "{protocol}"
        );
        // A code does not make them take it.
        let c = code(&totp, step(NOW));
        let credential = Credential::PasswordAndCode {
            correct: true,
            code: &c,
        };
        let decision = engine
            .authenticate(
                &id,
                &request(protocol.clone(), credential, thunderbird),
                NOW,
            )
            .unwrap();
        assert_eq!(
            refused(&decision),
            DenyReason::AppPasswordRequired,
            "{protocol}"
        );
    }
    // Webmail and the portal ask for a code, and take a valid one.
    for protocol in [Protocol::Webmail, Protocol::Portal] {
        assert_eq!(
            with_password(&engine, &id, protocol.clone(), ClientInfo::default(), NOW),
            Decision::SecondFactorRequired { mode: Mode::Totp }
        );
    }
    let t = unique_time(&totp, NOW, 2, 2);
    let c = code(&totp, step(t));
    let credential = Credential::PasswordAndCode {
        correct: true,
        code: &c,
    };
    let decision = engine
        .authenticate(
            &id,
            &request(Protocol::Webmail, credential, ClientInfo::default()),
            t,
        )
        .unwrap();
    assert_eq!(
        allowed_uncached(&decision),
        AllowReason::CodeAccepted { step: step(t) }
    );
    // ActiveSync and Outlook need something that identifies the device.
    for protocol in [Protocol::ActiveSync, Protocol::Outlook] {
        for client in [
            ClientInfo::default(),
            ClientInfo::new().with_remote_addr("203.0.113.7"),
            ClientInfo::new()
                .with_device_id(" ")
                .with_device_type("")
                .with_user_agent("   "),
        ] {
            let decision = with_password(&engine, &id, protocol.clone(), client, NOW);
            assert_eq!(
                refused(&decision),
                DenyReason::DeviceUnidentified,
                "{client:?}"
            );
        }
    }
    assert!(engine.devices(&id, NOW).unwrap().is_empty());
}

#[test]
fn protocol_policy_overrides_account_over_platform_over_default() {
    let engine = engine();
    let id = account("alice@example.com");
    let bob = account("bob@example.com");
    enroll(&engine, &id, NOW - 3_600);
    enroll(&engine, &bob, NOW - 3_600);
    let (_, app_password) = engine.create_app_password(&id, "laptop", &[], NOW).unwrap();
    let imap =
        |id: &AccountId| with_password(&engine, id, Protocol::Imap, ClientInfo::default(), NOW);
    let policy = |id: &AccountId| engine.protocol_policy(id, &Protocol::Imap).unwrap();

    assert_eq!(policy(&id), ProtocolPolicy::AppPasswordOnly);
    assert_eq!(refused(&imap(&id)), DenyReason::AppPasswordRequired);

    // Platform override: applies to every account of the platform.
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::Refused))
        .unwrap();
    for who in [&id, &bob] {
        assert_eq!(policy(who), ProtocolPolicy::Refused);
        assert_eq!(refused(&imap(who)), DenyReason::ProtocolRefused);
    }
    // Refused refuses even a valid application password.
    assert_eq!(
        refused(&with_app_password(
            &engine,
            &id,
            Protocol::Imap,
            &app_password,
            NOW
        )),
        DenyReason::ProtocolRefused
    );
    // ...while it still works where the policy takes it.
    assert!(with_app_password(&engine, &id, Protocol::Pop3, &app_password, NOW).is_allowed());

    // Account override: wins over the platform's, for that account only.
    engine
        .set_account_policy(&id, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    assert_eq!(policy(&id), ProtocolPolicy::CodeInLogin);
    assert_eq!(policy(&bob), ProtocolPolicy::Refused);
    assert_eq!(
        imap(&id),
        Decision::SecondFactorRequired { mode: Mode::Totp }
    );
    assert_eq!(refused(&imap(&bob)), DenyReason::ProtocolRefused);
    // CodeInLogin does not take application passwords.
    assert_eq!(
        refused(&with_app_password(
            &engine,
            &id,
            Protocol::Imap,
            &app_password,
            NOW
        )),
        DenyReason::AppPasswordNotAccepted
    );

    engine
        .set_account_policy(
            &id,
            &Protocol::Imap,
            Some(ProtocolPolicy::DeviceAuthorization),
        )
        .unwrap();
    assert_eq!(policy(&id), ProtocolPolicy::DeviceAuthorization);
    assert_eq!(refused(&imap(&id)), DenyReason::DeviceUnidentified);
    assert!(with_app_password(&engine, &id, Protocol::Imap, &app_password, NOW).is_allowed());

    // Cleared: the platform's again; then the default.
    engine
        .set_account_policy(&id, &Protocol::Imap, None)
        .unwrap();
    assert_eq!(policy(&id), ProtocolPolicy::Refused);
    assert_eq!(refused(&imap(&id)), DenyReason::ProtocolRefused);
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, None)
        .unwrap();
    for who in [&id, &bob] {
        assert_eq!(policy(who), ProtocolPolicy::AppPasswordOnly);
        assert_eq!(refused(&imap(who)), DenyReason::AppPasswordRequired);
    }
    // Overrides of one protocol leave the others alone.
    engine
        .set_account_policy(&id, &Protocol::Webmail, Some(ProtocolPolicy::Refused))
        .unwrap();
    assert_eq!(
        refused(&with_password(
            &engine,
            &id,
            Protocol::Webmail,
            ClientInfo::default(),
            NOW
        )),
        DenyReason::ProtocolRefused
    );
    assert_eq!(
        engine.protocol_policy(&id, &Protocol::Portal).unwrap(),
        ProtocolPolicy::CodeInLogin
    );
    // Policies need 2FA on the account.
    let nobody = account("nobody@example.com");
    assert!(matches!(
        engine.set_account_policy(&nobody, &Protocol::Imap, Some(ProtocolPolicy::Refused)),
        Err(Error::NotEnabled)
    ));
    assert!(matches!(
        engine.protocol_policy(&nobody, &Protocol::Imap),
        Err(Error::NotEnabled)
    ));
}

#[test]
fn without_second_factor_every_protocol_takes_the_password() {
    let engine = engine();
    let plain = account("plain@example.com");
    // A platform-wide refusal concerns accounts with 2FA only.
    engine
        .set_platform_policy(PLATFORM, &Protocol::Pop3, Some(ProtocolPolicy::Refused))
        .unwrap();
    let mut protocols = Protocol::STANDARD.to_vec();
    protocols.push(Protocol::other("managesieve").unwrap());
    for protocol in &protocols {
        for client in [ClientInfo::default(), outlook()] {
            let decision = with_password(&engine, &plain, protocol.clone(), client, NOW);
            assert_eq!(
                decision,
                Decision::Allow {
                    reason: AllowReason::NoSecondFactor,
                    cacheable: true
                },
                "{protocol}"
            );
            let decision = engine
                .authenticate(
                    &plain,
                    &request(protocol.clone(), PASSWORD_WRONG, client),
                    NOW,
                )
                .unwrap();
            assert_eq!(refused(&decision), DenyReason::WrongPassword);
        }
    }
    assert!(matches!(
        engine.devices(&plain, NOW),
        Err(Error::NotEnabled)
    ));

    // Platform off: an enrolled account gets in with the password, but no
    // cache may keep that (2FA may be turned on again).
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    engine.enable_platform(PLATFORM, false).unwrap();
    for protocol in &protocols {
        let decision = with_password(&engine, &id, protocol.clone(), outlook(), NOW);
        assert_eq!(
            decision,
            Decision::Allow {
                reason: AllowReason::NoSecondFactor,
                cacheable: false
            },
            "{protocol}"
        );
    }
    assert!(engine.devices(&id, NOW).unwrap().is_empty());
    engine.enable_platform(PLATFORM, true).unwrap();
    assert_eq!(
        refused(&with_password(&engine, &id, Protocol::Imap, outlook(), NOW)),
        DenyReason::AppPasswordRequired
    );
}

#[test]
fn the_portal_takes_only_codes_and_refused_beats_suspension() {
    let engine = engine();
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    for policy in [
        ProtocolPolicy::DeviceAuthorization,
        ProtocolPolicy::AppPasswordOnly,
    ] {
        assert!(matches!(
            engine.set_platform_policy(PLATFORM, &Protocol::Portal, Some(policy)),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(
            engine.set_account_policy(&id, &Protocol::Portal, Some(policy)),
            Err(Error::InvalidConfig(_))
        ));
    }
    engine
        .set_account_policy(&id, &Protocol::Portal, Some(ProtocolPolicy::Refused))
        .unwrap();
    engine.suspend(&id, 3_600, NOW).unwrap();
    let suspended = with_password(
        &engine,
        &id,
        Protocol::Portal,
        ClientInfo::default(),
        NOW + 1,
    );
    assert_eq!(refused(&suspended), DenyReason::ProtocolRefused);
    // Elsewhere the suspension still lets the password in.
    let imap = with_password(&engine, &id, Protocol::Imap, ClientInfo::default(), NOW + 1);
    assert!(imap.is_allowed(), "{imap:?}");
}
