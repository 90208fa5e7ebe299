//! What an operator reads about a platform (`Engine::platform_status`): the
//! 2FA switch and the policy overrides, and refusals of bad names and
//! unreadable records, through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::RecordError;
use mail2fa::engine::{Engine, EngineConfig, PlatformStatus, Protocol, ProtocolPolicy};
use mail2fa::store::Store;
use support::engine::*;
use support::fresh_store;
use support::records::*;

// ------------------------------------------------------------ platform_status

#[test]
fn platform_status_shows_the_switch_and_the_overrides() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();

    // Never configured: off, no overrides, the defaults apply.
    let unknown = engine.platform_status("nowhere.example").unwrap();
    assert_eq!(unknown, PlatformStatus::default());
    assert!(!unknown.enabled);
    assert!(unknown.policies.is_empty());
    for protocol in [
        Protocol::Webmail,
        Protocol::Portal,
        Protocol::ActiveSync,
        Protocol::Outlook,
        Protocol::Imap,
        Protocol::Pop3,
        Protocol::Smtp,
        Protocol::RpcOverHttp,
    ] {
        assert_eq!(unknown.policy(&protocol), protocol.default_policy());
    }
    // Reading created nothing.
    assert!(
        engine
            .store()
            .load(&platform_key("nowhere.example"))
            .unwrap()
            .is_none()
    );

    engine.enable_platform(PLATFORM, true).unwrap();
    let on = engine.platform_status(PLATFORM).unwrap();
    assert!(on.enabled);
    assert!(on.policies.is_empty());

    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let s = engine.platform_status(PLATFORM).unwrap();
    assert!(s.enabled);
    assert_eq!(
        s.policies,
        vec![(Protocol::Imap, ProtocolPolicy::CodeInLogin)]
    );
    assert_eq!(s.policy(&Protocol::Imap), ProtocolPolicy::CodeInLogin);
    assert_ne!(Protocol::Imap.default_policy(), ProtocolPolicy::CodeInLogin);
    assert_eq!(s.policy(&Protocol::Pop3), Protocol::Pop3.default_policy());
    assert_eq!(
        s.policy(&Protocol::ActiveSync),
        Protocol::ActiveSync.default_policy()
    );

    // A host-named protocol.
    let jmap = Protocol::other("jmap").unwrap();
    assert_eq!(s.policy(&jmap), jmap.default_policy());
    engine
        .set_platform_policy(PLATFORM, &jmap, Some(ProtocolPolicy::Refused))
        .unwrap();
    let s = engine.platform_status(PLATFORM).unwrap();
    assert_eq!(s.policy(&jmap), ProtocolPolicy::Refused);
    assert_eq!(s.policies.len(), 2);

    // Turning 2FA off keeps the overrides.
    engine.enable_platform(PLATFORM, false).unwrap();
    let off = engine.platform_status(PLATFORM).unwrap();
    assert!(!off.enabled);
    assert_eq!(off.policies, s.policies);
    assert_eq!(engine.platform_enabled(PLATFORM).unwrap(), off.enabled);

    // Removing the overrides.
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, None)
        .unwrap();
    let s = engine.platform_status(PLATFORM).unwrap();
    assert_eq!(s.policies, vec![(jmap.clone(), ProtocolPolicy::Refused)]);
    assert_eq!(s.policy(&Protocol::Imap), Protocol::Imap.default_policy());
    engine.set_platform_policy(PLATFORM, &jmap, None).unwrap();
    assert!(
        engine
            .platform_status(PLATFORM)
            .unwrap()
            .policies
            .is_empty()
    );

    // A policy on a platform never switched on: the record exists, off.
    engine
        .set_platform_policy(
            "other.example",
            &Protocol::Smtp,
            Some(ProtocolPolicy::Refused),
        )
        .unwrap();
    let s = engine.platform_status("other.example").unwrap();
    assert!(!s.enabled);
    assert_eq!(s.policies, vec![(Protocol::Smtp, ProtocolPolicy::Refused)]);

    // Platforms are separate.
    assert!(
        engine
            .platform_status("nowhere.example")
            .unwrap()
            .policies
            .is_empty()
    );
}

#[test]
fn platform_status_refuses_bad_names_and_unreadable_records() {
    let engine = engine();
    for bad in ["", " example.com", "example.com ", "a:b", "a\nb"] {
        assert!(
            matches!(engine.platform_status(bad), Err(Error::InvalidName { .. })),
            "{bad:?}"
        );
    }
    let long = "x".repeat(257);
    assert!(matches!(
        engine.platform_status(&long),
        Err(Error::InvalidName { .. })
    ));

    // A damaged record is an error, never "off".
    corrupt(engine.store(), &platform_key(PLATFORM));
    assert_eq!(
        engine.platform_status(PLATFORM),
        Err(Error::Record(RecordError::Checksum))
    );
}
