//! How often the engine writes what it notes of a client's use: the last time a
//! device was seen (S12–S14 of `docs/behaviour.md`) and the last use of an
//! application password (S16) are written at most once per interval; within it
//! a retry writes nothing, not even a device's new address or app version.
//! Counted with a store that counts its writes. Times and codes are chosen as
//! `support::clients` says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{
    AllowReason, ClientInfo, Credential, DevicePolicy, Engine, EngineConfig, Protocol,
};
use support::clients::*;
use support::engine::*;
use support::enroll;

// ------------------------------------------------------ last-seen coalescing

#[test]
fn last_seen_is_written_at_most_once_per_interval() {
    let seen = DevicePolicy::default().seen_interval;
    let engine = Engine::new(CountingStore::default(), EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    engine.set_contact(&id, None, Some(PHONE)).unwrap();

    let client = |ua, addr| {
        ClientInfo::new()
            .with_device_id("ApplF17XK2QJHG7F")
            .with_device_type("iPhone")
            .with_user_agent(Some(ua))
            .with_remote_addr(Some(addr))
    };
    let first = client("Apple-iPhone14C2/2104.100", "203.0.113.7");
    let (device, _) = pending(with_password(
        &engine,
        &id,
        Protocol::ActiveSync,
        first,
        NOW,
    ));
    let before = engine.devices(&id, NOW).unwrap();

    // A pending device retrying within the interval: nothing is written,
    // not even its new address or its updated app version.
    let roamed = client("Apple-iPhone14C2/2201.3", "198.51.100.99");
    let swaps = engine.store().swaps();
    for t in [NOW + 1, NOW + 100, NOW + seen - 1] {
        let (again, notification) =
            pending(with_password(&engine, &id, Protocol::ActiveSync, roamed, t));
        assert_eq!((again, notification), (device, None));
        assert_eq!(engine.devices(&id, t).unwrap(), before);
    }
    assert_eq!(engine.store().swaps(), swaps, "writes within the interval");

    // After the interval: last seen, address and user agent are updated.
    let t = NOW + seen;
    pending(with_password(&engine, &id, Protocol::ActiveSync, roamed, t));
    assert_eq!(engine.store().swaps(), swaps + 1);
    let token = only_device(&engine, &id, t);
    assert_eq!(token.id, device);
    assert_eq!((token.first_seen, token.last_seen), (NOW, t));
    assert_eq!(token.remote_addr.as_deref(), Some("198.51.100.99"));
    assert_eq!(token.user_agent.as_deref(), Some("Apple-iPhone14C2/2201.3"));
    assert_eq!(token.notified_at, Some(NOW));

    // An ACTIVE device: the first login after activation records it being
    // seen; the next ones within the interval only read.
    engine.activate_device(&id, &device, t + 10).unwrap();
    let active_from = t + seen;
    let swaps = engine.store().swaps();
    let authorized = AllowReason::DeviceAuthorized { device };
    assert_eq!(
        allowed_uncached(&with_password(
            &engine,
            &id,
            Protocol::ActiveSync,
            first,
            active_from
        )),
        authorized
    );
    assert_eq!(engine.store().swaps(), swaps + 1);
    let listed = engine.devices(&id, active_from).unwrap();
    assert_eq!(listed[0].last_seen, active_from);
    let swaps = engine.store().swaps();
    for k in 0..50 {
        let now = active_from + 1 + k * (seen - 2) / 50;
        assert_eq!(
            allowed_uncached(&with_password(
                &engine,
                &id,
                Protocol::ActiveSync,
                first,
                now
            )),
            authorized
        );
    }
    assert_eq!(
        engine.store().swaps(),
        swaps,
        "an authorized device within the interval must not write"
    );
    assert_eq!(engine.devices(&id, active_from + seen - 1).unwrap(), listed);
    // And after it, one write again.
    with_password(
        &engine,
        &id,
        Protocol::ActiveSync,
        first,
        active_from + seen,
    );
    assert_eq!(engine.store().swaps(), swaps + 1);
    assert_eq!(
        only_device(&engine, &id, active_from + seen).last_seen,
        active_from + seen
    );
}

#[test]
fn app_password_last_use_is_written_at_most_once_per_interval() {
    let seen = DevicePolicy::default().seen_interval;
    let engine = Engine::new(CountingStore::default(), EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let (info, password) = engine
        .create_app_password(&id, "Thunderbird", &[], NOW)
        .unwrap();
    let login = |now| {
        engine
            .authenticate(
                &id,
                &request(
                    Protocol::Imap,
                    Credential::AppPassword(&password),
                    ClientInfo::default(),
                ),
                now,
            )
            .unwrap()
    };
    let app = AllowReason::AppPassword { id: info.id };
    let swaps = engine.store().swaps();
    assert_eq!(allowed_uncached(&login(NOW + 1)), app);
    assert_eq!(engine.store().swaps(), swaps + 1, "first use is recorded");
    for t in [NOW + 2, NOW + 100, NOW + seen] {
        assert_eq!(allowed_uncached(&login(t)), app);
    }
    assert_eq!(
        engine.store().swaps(),
        swaps + 1,
        "no write within the interval"
    );
    assert_eq!(
        engine.app_passwords(&id).unwrap()[0].last_used,
        Some(NOW + 1)
    );
    assert_eq!(allowed_uncached(&login(NOW + 1 + seen)), app);
    assert_eq!(engine.store().swaps(), swaps + 2);
    assert_eq!(
        engine.app_passwords(&id).unwrap()[0].last_used,
        Some(NOW + 1 + seen)
    );
}
