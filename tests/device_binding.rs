//! Device binding: a code login binds the device and its network for a period,
//! a binding needs a known network, never serves the portal and dies with a
//! reset, and a period of zero turns binding off, all through the public API.
//! Times and codes are chosen as `support::clients` says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Totp;
use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Credential, Decision, DenyReason, DevicePolicy, Engine,
    Mode, Protocol, ProtocolPolicy,
};
use support::clients::*;
use support::engine::*;
use support::{TestStore, code, enroll};

// ------------------------------------------------------------ device binding

#[test]
fn a_code_login_binds_the_device_and_its_network() {
    let binding = DevicePolicy::default().binding_period;
    // The default lockout: replays of the stale string must not count.
    let engine = engine();
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let id = account("alice@example.com");
    let totp = enroll(&engine, &id, NOW - 3_600);

    // The host splits the typed string for IMAP now (and only there).
    assert_eq!(
        engine
            .split_login_for(&id, &Protocol::Imap, "secret123456", NOW)
            .unwrap(),
        ("secret", Some("123456"))
    );
    assert_eq!(
        engine
            .split_login_for(&id, &Protocol::Webmail, "secret123456", NOW)
            .unwrap(),
        ("secret", Some("123456"))
    );
    for protocol in [Protocol::Smtp, Protocol::Pop3, Protocol::ActiveSync] {
        assert_eq!(
            engine
                .split_login_for(&id, &protocol, "secret123456", NOW)
                .unwrap(),
            ("secret123456", None),
            "{protocol}"
        );
    }

    // A time whose code names one step from 12 before to 40 after: the
    // stale string is then a replay within the window, wrong later on.
    let t1 = unique_time_far(&totp, NOW, 12, 40, &[binding]);
    let typed = format!("secret{}", code(&totp, step(t1)));
    let (password, c) = engine
        .split_login_for(&id, &Protocol::Imap, &typed, t1)
        .unwrap();
    assert_eq!(password, "secret");
    let c = c.unwrap();
    let credential = Credential::PasswordAndCode {
        correct: true,
        code: c,
    };
    let client = |ua, addr| {
        ClientInfo::new()
            .with_user_agent(Some(ua))
            .with_remote_addr(Some(addr))
    };
    let imap = |client, now| {
        engine
            .authenticate(&id, &request(Protocol::Imap, credential, client), now)
            .unwrap()
    };
    let home = client("Thunderbird/115.3", "203.0.113.7");
    assert_eq!(
        allowed_uncached(&imap(home, t1)),
        AllowReason::CodeAccepted { step: step(t1) }
    );
    let until = t1 + binding;
    let trusted = AllowReason::DeviceTrusted { until };

    // The same stale string from the same client: trusted by its device.
    for (client, now) in [
        (home, t1 + 5),
        (client("Thunderbird/115.3", "203.0.113.9"), t1 + 600),
        // A version update is the same device.
        (client("Thunderbird/128.0", "203.0.113.200"), t1 + 3_600),
    ] {
        assert_eq!(
            allowed_uncached(&imap(client, now)),
            trusted,
            "{client:?} at {now}"
        );
    }
    // Never with the password alone: the client must hold the string.
    let decision = engine
        .authenticate(&id, &request(Protocol::Imap, PASSWORD_OK, home), t1 + 700)
        .unwrap();
    assert_eq!(
        decision,
        Decision::SecondFactorRequired { mode: Mode::Totp }
    );

    // Another app, another network, or no client information: not trusted;
    // the string is just the last code used, a replay (not a failure).
    let strangers = [
        client("Apple Mail/16.0", "203.0.113.7"),
        client("Thunderbird/115.3", "198.51.100.1"),
        ClientInfo::new().with_remote_addr("203.0.113.7"),
        ClientInfo::default(),
    ];
    for stranger in strangers {
        assert_eq!(
            refused(&imap(stranger, t1 + 5)),
            DenyReason::Replayed,
            "{stranger:?}"
        );
        assert_eq!(
            refused(&imap(stranger, t1 + 600)),
            DenyReason::Replayed,
            "{stranger:?}"
        );
    }
    // The binding ends on its own.
    assert_eq!(allowed_uncached(&imap(home, until - 1)), trusted);
    assert_eq!(refused(&imap(home, until)), DenyReason::Replayed);
    let decision = engine
        .authenticate(&id, &request(Protocol::Imap, PASSWORD_OK, home), until)
        .unwrap();
    assert_eq!(
        decision,
        Decision::SecondFactorRequired { mode: Mode::Totp }
    );
    // None of those replays counted toward the lockout: a fresh code works,
    // and binds the device again.
    let t2 = unique_time(&totp, until + 60, 2, 2);
    let fresh = code(&totp, step(t2));
    let credential = Credential::PasswordAndCode {
        correct: true,
        code: &fresh,
    };
    let decision = engine
        .authenticate(&id, &request(Protocol::Imap, credential, home), t2)
        .unwrap();
    assert_eq!(
        allowed_uncached(&decision),
        AllowReason::CodeAccepted { step: step(t2) }
    );
    let decision = engine
        .authenticate(&id, &request(Protocol::Imap, credential, home), t2 + 60)
        .unwrap();
    assert_eq!(
        allowed_uncached(&decision),
        AllowReason::DeviceTrusted {
            until: t2 + binding
        }
    );
}

#[test]
fn binding_period_zero_turns_binding_off() {
    let engine = engine_with(with_devices(DevicePolicy::default().with_binding_period(0)));
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let id = account("alice@example.com");
    let totp = enroll(&engine, &id, NOW - 3_600);
    let t1 = unique_time(&totp, NOW, 12, 12);
    let c = code(&totp, step(t1));
    let credential = Credential::PasswordAndCode {
        correct: true,
        code: &c,
    };
    let home = ClientInfo::new()
        .with_user_agent("Thunderbird/115.3")
        .with_remote_addr("203.0.113.7");
    let imap = |now| {
        engine
            .authenticate(&id, &request(Protocol::Imap, credential, home), now)
            .unwrap()
    };
    assert_eq!(
        allowed_uncached(&imap(t1)),
        AllowReason::CodeAccepted { step: step(t1) }
    );
    assert_eq!(refused(&imap(t1 + 5)), DenyReason::Replayed);
    let decision = engine
        .authenticate(&id, &request(Protocol::Imap, PASSWORD_OK, home), t1 + 6)
        .unwrap();
    assert_eq!(
        decision,
        Decision::SecondFactorRequired { mode: Mode::Totp }
    );
}

fn code_login(
    engine: &Engine<TestStore>,
    id: &AccountId,
    totp: &Totp,
    protocol: Protocol,
    client: ClientInfo<'_>,
    from: u64,
) -> (u64, String, Decision) {
    let t = unique_time(totp, from, 2, 2);
    let c = code(totp, step(t));
    let decision = with_string(engine, id, protocol, client, &c, t);
    (t, c, decision)
}

/// The password with `code` (a password+code string, split by the host)
/// from `client` over `protocol`.
fn with_string(
    engine: &Engine<TestStore>,
    id: &AccountId,
    protocol: Protocol,
    client: ClientInfo<'_>,
    code: &str,
    now: u64,
) -> Decision {
    let credential = Credential::PasswordAndCode {
        correct: true,
        code,
    };
    engine
        .authenticate(id, &request(protocol, credential, client), now)
        .unwrap()
}

#[test]
fn bindings_need_a_known_network_never_serve_the_portal_and_die_with_a_reset() {
    let engine = engine();
    let id = account("alice@example.com");
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let totp = enroll(&engine, &id, NOW - 3_600);
    let firefox = |addr| {
        ClientInfo::new()
            .with_user_agent(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            )
            .with_remote_addr(addr)
    };
    // The portal: a code login binds nothing; the same string again is a
    // replay, the password alone asks for a code.
    let (t, c, d) = code_login(
        &engine,
        &id,
        &totp,
        Protocol::Portal,
        firefox(Some("203.0.113.7")),
        NOW,
    );
    assert!(d.is_allowed(), "{d:?}");
    let again = with_string(
        &engine,
        &id,
        Protocol::Portal,
        firefox(Some("203.0.113.7")),
        &c,
        t + 60,
    );
    assert_eq!(refused(&again), DenyReason::Replayed);
    let again = with_password(
        &engine,
        &id,
        Protocol::Portal,
        firefox(Some("203.0.113.7")),
        t + 60,
    );
    assert_eq!(again, Decision::SecondFactorRequired { mode: Mode::Totp });
    // No address: no binding.
    let (t, c, d) = code_login(&engine, &id, &totp, Protocol::Imap, firefox(None), t + 120);
    assert!(d.is_allowed(), "{d:?}");
    let again = with_string(&engine, &id, Protocol::Imap, firefox(None), &c, t + 60);
    assert_eq!(refused(&again), DenyReason::Replayed);
    // An IPv4-mapped address is its IPv4 network, not every IPv4 address.
    let (t, c, d) = code_login(
        &engine,
        &id,
        &totp,
        Protocol::Imap,
        firefox(Some("::ffff:203.0.113.7")),
        t + 120,
    );
    assert!(d.is_allowed(), "{d:?}");
    let same = with_string(
        &engine,
        &id,
        Protocol::Imap,
        firefox(Some("203.0.113.99")),
        &c,
        t + 60,
    );
    assert!(
        matches!(
            same,
            Decision::Allow {
                reason: AllowReason::DeviceTrusted { .. },
                ..
            }
        ),
        "{same:?}"
    );
    // The password alone, even from the bound client: a code is asked for.
    let alone = with_password(
        &engine,
        &id,
        Protocol::Imap,
        firefox(Some("203.0.113.99")),
        t + 60,
    );
    assert_eq!(alone, Decision::SecondFactorRequired { mode: Mode::Totp });
    let elsewhere = with_string(
        &engine,
        &id,
        Protocol::Imap,
        firefox(Some("::ffff:198.51.100.9")),
        &c,
        t + 60,
    );
    assert_eq!(refused(&elsewhere), DenyReason::Replayed);
    // A reset (new phone) ends every binding, whatever the device policy.
    engine.reset(&id, t + 90).unwrap();
    let after_reset = with_string(
        &engine,
        &id,
        Protocol::Imap,
        firefox(Some("203.0.113.99")),
        &c,
        t + 100,
    );
    assert!(!after_reset.is_allowed(), "{after_reset:?}");
    let after_reset = with_password(
        &engine,
        &id,
        Protocol::Imap,
        firefox(Some("203.0.113.99")),
        t + 100,
    );
    assert!(
        matches!(after_reset, Decision::EnrollmentRequired { .. }),
        "{after_reset:?}"
    );
}
