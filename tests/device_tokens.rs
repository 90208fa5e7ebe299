//! Device tokens, as the engine's acceptance scenarios S12–S14 of
//! `docs/behaviour.md` tell them: a mail client that cannot send a code is
//! blocked, its user notified, and the device activated, deactivated and
//! deleted from the portal; a wrong password from an unknown device records
//! nothing; the cap on pending tokens (deactivated ones count) and their
//! expiry; device policies out of range. All through the public API
//! (`Engine::authenticate` and the portal calls). Times and codes are chosen as
//! `support::clients` says. How often a device's last-seen time is written:
//! `last_seen_writes.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::engine::{
    AllowReason, Channel, ClientInfo, Credential, Decision, DenyReason, DeviceId, DevicePolicy,
    DeviceState, Engine, EngineConfig, Protocol,
};
use support::clients::*;
use support::engine::*;
use support::{code, enroll, fresh_store};

/// `NOW` as the notification text shows it.
const NOW_UTC: &str = "2027-01-15 08:00:00 UTC";

// ------------------------------------------------- S12–S14: device tokens

#[test]
fn outlook_device_is_blocked_notified_activated_deactivated_and_deleted() {
    let engine = engine_with(EngineConfig::default().with_portal_link(PORTAL.to_owned()));
    let id = account("alice+mail@example.com");
    enroll(&engine, &id, NOW - 3_600);
    engine
        .set_contact(&id, Some("alice.private@example.org"), Some(PHONE))
        .unwrap();

    // S12: the right password from an unknown device: blocked, token made.
    let (device, notification) = pending(outlook_login(&engine, &id, NOW));
    // S13: by SMS, since a mobile number is registered.
    let notification = notification.expect("the first block notifies the user");
    assert_eq!(notification.channel, Channel::Sms(PHONE.to_owned()));
    assert_eq!(notification.device, device);
    let text = &notification.text;
    assert!(text.contains(OUTLOOK_TYPE), "{text}");
    assert!(text.contains("(outlook)"), "{text}");
    assert!(text.contains(NOW_UTC), "{text}");
    let link =
        format!("https://mail.example.com/devices?user=alice%2Bmail@example.com&device={device}");
    assert!(text.contains(&link), "{text}");
    assert!(
        notification.subject.contains("alice+mail@example.com"),
        "{}",
        notification.subject
    );

    // S14: the portal lists one INACTIVE token with what the client said.
    let token = only_device(&engine, &id, NOW);
    assert_eq!(token.id, device);
    assert_eq!(token.state, DeviceState::Inactive);
    assert_eq!(token.protocol, Protocol::Outlook);
    assert_eq!(token.device_id, None);
    assert_eq!(token.device_type.as_deref(), Some(OUTLOOK_TYPE));
    assert_eq!(token.user_agent.as_deref(), Some(OUTLOOK_UA));
    assert_eq!(token.remote_addr.as_deref(), Some("198.51.100.20"));
    assert_eq!((token.first_seen, token.last_seen), (NOW, NOW));
    assert_eq!(token.notified_at, Some(NOW));

    // A client retrying every minute does not notify every minute.
    for t in (NOW + 60..NOW + DAY).step_by(3_571) {
        let (again, notification) = pending(outlook_login(&engine, &id, t));
        assert_eq!(again, device);
        assert_eq!(notification, None, "at {t}");
    }
    let (again, notification) = pending(outlook_login(&engine, &id, NOW + DAY - 1));
    assert_eq!((again, notification), (device, None));
    // Once the interval is over, the user is reminded.
    let later = NOW + DAY;
    let (again, notification) = pending(outlook_login(&engine, &id, later));
    assert_eq!(again, device);
    let notification = notification.expect("a new notification after the interval");
    assert_eq!(notification.channel, Channel::Sms(PHONE.to_owned()));
    assert!(
        notification.text.contains("2027-01-16 08:00:00 UTC"),
        "{}",
        notification.text
    );
    // Last seen at the previous retry: not rewritten within the interval.
    let token = only_device(&engine, &id, later);
    assert_eq!(
        (token.first_seen, token.last_seen, token.notified_at),
        (NOW, later - 1, Some(later))
    );
    assert_eq!(engine.devices(&id, later).unwrap().len(), 1);

    // Activated: the device gets in with the password, never cached.
    engine.activate_device(&id, &device, later + 10).unwrap();
    assert_eq!(
        only_device(&engine, &id, later + 10).state,
        DeviceState::Active
    );
    let decision = outlook_login(&engine, &id, later + 20);
    assert_eq!(
        decision,
        Decision::Allow {
            reason: AllowReason::DeviceAuthorized { device },
            cacheable: false
        }
    );
    assert_eq!(decision.device(), Some(device));
    // The same device over another protocol is another device.
    let (other, _) = pending(with_password(
        &engine,
        &id,
        Protocol::ActiveSync,
        outlook(),
        later + 25,
    ));
    assert_ne!(other, device);
    engine.delete_device(&id, &other, later + 26).unwrap();

    // Deactivated: blocked again, without notifying at once.
    engine.deactivate_device(&id, &device, later + 30).unwrap();
    assert_eq!(
        only_device(&engine, &id, later + 30).state,
        DeviceState::Inactive
    );
    let (again, notification) = pending(outlook_login(&engine, &id, later + 40));
    assert_eq!((again, notification), (device, None));

    // Activated again: in again.
    engine.activate_device(&id, &device, later + 50).unwrap();
    assert_eq!(
        allowed_uncached(&outlook_login(&engine, &id, later + 60)),
        AllowReason::DeviceAuthorized { device }
    );

    // Deleted: unknown again; its next login makes a new INACTIVE token and
    // a new notification.
    engine.delete_device(&id, &device, later + 70).unwrap();
    assert!(engine.devices(&id, later + 70).unwrap().is_empty());
    assert!(matches!(
        engine.activate_device(&id, &device, later + 71),
        Err(Error::NotFound(_))
    ));
    let (again, notification) = pending(outlook_login(&engine, &id, later + 80));
    assert_eq!(again, device);
    let notification = notification.expect("a deleted device notifies again");
    assert_eq!(notification.channel, Channel::Sms(PHONE.to_owned()));
    let token = only_device(&engine, &id, later + 80);
    assert_eq!(token.state, DeviceState::Inactive);
    assert_eq!(
        (token.first_seen, token.last_seen),
        (later + 80, later + 80)
    );
}

#[test]
fn wrong_password_from_an_unknown_device_records_nothing() {
    let engine = engine();
    let id = account("bob@example.com");
    let totp = enroll(&engine, &id, NOW - 3_600);
    engine.set_contact(&id, None, Some(PHONE)).unwrap();

    for protocol in [Protocol::Outlook, Protocol::ActiveSync] {
        let decision = engine
            .authenticate(
                &id,
                &request(protocol.clone(), PASSWORD_WRONG, outlook()),
                NOW,
            )
            .unwrap();
        assert_eq!(refused(&decision), DenyReason::WrongPassword);
        // Even with a valid code, a wrong password is a wrong password.
        let c = code(&totp, step(NOW));
        let credential = Credential::PasswordAndCode {
            correct: false,
            code: &c,
        };
        let decision = engine
            .authenticate(&id, &request(protocol, credential, outlook()), NOW)
            .unwrap();
        assert_eq!(refused(&decision), DenyReason::WrongPassword);
    }
    assert!(engine.devices(&id, NOW).unwrap().is_empty());
    // And it is not a failure of the second factor: the code still works.
    assert!(
        engine
            .login(&id, Some(&code(&totp, step(NOW))), NOW)
            .unwrap()
            .is_allowed()
    );
}

// -------------------------------------------------------- the pending cap

#[test]
fn pending_tokens_are_capped_and_expire() {
    let ttl = 7 * DAY;
    let engine = engine_with(with_devices(
        DevicePolicy::default()
            .with_max_pending(3)
            .with_pending_ttl(ttl),
    ));
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let names: Vec<String> = (0..8).map(|n| format!("PHONE-{n}")).collect();
    let phone_client = |n: usize| {
        ClientInfo::new()
            .with_device_id(Some(names[n].as_str()))
            .with_device_type("iPhone")
            .with_user_agent("Apple-iPhone14C2/2104.100")
            .with_remote_addr("203.0.113.7")
    };

    let mut devices = Vec::new();
    for n in 0..3 {
        let (device, notification) = pending(with_password(
            &engine,
            &id,
            Protocol::ActiveSync,
            phone_client(n),
            NOW + n as u64,
        ));
        assert!(notification.is_some());
        assert!(!devices.contains(&device));
        devices.push(device);
    }
    for n in 3..8 {
        let decision = with_password(
            &engine,
            &id,
            Protocol::ActiveSync,
            phone_client(n),
            NOW + 10 + n as u64,
        );
        assert_eq!(refused(&decision), DenyReason::TooManyPendingDevices);
    }
    let listed: Vec<DeviceId> = engine
        .devices(&id, NOW + 20)
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, devices);
    // A known pending device is still answered as such.
    let (again, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::ActiveSync,
        phone_client(1),
        NOW + 30,
    ));
    assert_eq!((again, notification), (devices[1], None));

    // An activated token is no longer pending: room for one more.
    engine.activate_device(&id, &devices[0], NOW + 40).unwrap();
    let (fourth, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::ActiveSync,
        phone_client(3),
        NOW + 50,
    ));
    assert!(notification.is_some());
    assert_eq!(
        refused(&with_password(
            &engine,
            &id,
            Protocol::ActiveSync,
            phone_client(4),
            NOW + 60
        )),
        DenyReason::TooManyPendingDevices
    );
    assert_eq!(engine.devices(&id, NOW + 60).unwrap().len(), 4);

    // Just before the TTL (counted from last seen) they are still listed...
    assert_eq!(engine.devices(&id, NOW + ttl).unwrap().len(), 4);
    assert_eq!(engine.devices(&id, NOW + 1 + ttl).unwrap().len(), 3);
    // ...and once it has passed, the stale pending ones are gone; the
    // active one stays.
    let after = NOW + 50 + ttl;
    let left = engine.devices(&id, after).unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].id, devices[0]);
    assert_eq!(left[0].state, DeviceState::Active);
    assert!(matches!(
        engine.activate_device(&id, &devices[2], after),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        engine.deactivate_device(&id, &fourth, after),
        Err(Error::NotFound(_))
    ));
    // A new device can register again, and an expired one starts over.
    for n in [5, 1] {
        let (device, notification) = pending(with_password(
            &engine,
            &id,
            Protocol::ActiveSync,
            phone_client(n),
            after + 1,
        ));
        assert!(notification.is_some(), "device {n}");
        let token = engine
            .devices(&id, after + 1)
            .unwrap()
            .into_iter()
            .find(|d| d.id == device)
            .unwrap();
        assert_eq!(
            (token.first_seen, token.state),
            (after + 1, DeviceState::Inactive)
        );
    }
    assert_eq!(
        allowed_uncached(&with_password(
            &engine,
            &id,
            Protocol::ActiveSync,
            phone_client(0),
            after + 2
        )),
        AllowReason::DeviceAuthorized { device: devices[0] }
    );
}

#[test]
fn notification_fallback_for_an_expired_token_is_not_found() {
    let ttl = DAY;
    let engine = engine_with(with_devices(DevicePolicy::default().with_pending_ttl(ttl)));
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    engine
        .set_contact(&id, Some("alice.private@example.org"), Some(PHONE))
        .unwrap();
    let (device, _) = pending(outlook_login(&engine, &id, NOW));
    assert!(
        engine
            .notification_fallback(&id, &device, NOW + ttl - 1)
            .unwrap()
            .is_some()
    );
    // The portal no longer lists it and cannot activate it: the fallback
    // must not send the user there about it either.
    assert!(engine.devices(&id, NOW + ttl).unwrap().is_empty());
    assert!(matches!(
        engine.activate_device(&id, &device, NOW + ttl),
        Err(Error::NotFound(_))
    ));
    let fallback = engine.notification_fallback(&id, &device, NOW + ttl);
    assert!(
        matches!(fallback, Err(Error::NotFound(_))),
        "fallback for an expired token: {fallback:?}"
    );
}

#[test]
fn device_policies_out_of_range_are_refused() {
    let base = DevicePolicy::default();
    for devices in [
        base.with_max_pending(0),
        base.with_max_pending(mail2fa::engine::MAX_DEVICES + 1),
        base.with_pending_ttl(0),
        base.with_notify_interval(0),
        base.with_seen_interval(base.pending_ttl),
        base.with_binding_period(mail2fa::engine::MAX_BINDING_PERIOD + 1),
    ] {
        let config = with_devices(devices);
        assert!(
            matches!(
                Engine::new(fresh_store(), config),
                Err(Error::InvalidConfig(_))
            ),
            "{devices:?}"
        );
    }
    let edge = base
        .with_max_pending(mail2fa::engine::MAX_DEVICES)
        .with_seen_interval(base.pending_ttl - 1)
        .with_binding_period(mail2fa::engine::MAX_BINDING_PERIOD);
    assert!(Engine::new(fresh_store(), with_devices(edge)).is_ok());
}

#[test]
fn deactivated_tokens_count_toward_the_pending_cap_without_failing() {
    let engine = engine_with(with_devices(DevicePolicy::default().with_max_pending(1)));
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let phone = |name| {
        ClientInfo::new()
            .with_device_id(Some(name))
            .with_device_type("iPhone")
    };
    let login = |name, at| with_password(&engine, &id, Protocol::ActiveSync, phone(name), at);
    let (a, _) = pending(login("A", NOW));
    engine.activate_device(&id, &a, NOW + 1).unwrap();
    let (b, _) = pending(login("B", NOW + 2));
    // Deactivating A never fails, even above the cap...
    engine.deactivate_device(&id, &a, NOW + 3).unwrap();
    let inactive = engine
        .devices(&id, NOW + 3)
        .unwrap()
        .iter()
        .filter(|d| d.state == DeviceState::Inactive)
        .count();
    assert_eq!(inactive, 2);
    // ...and a new device then waits until a token goes.
    assert_eq!(
        refused(&login("C", NOW + 4)),
        DenyReason::TooManyPendingDevices
    );
    engine.delete_device(&id, &a, NOW + 5).unwrap();
    assert_eq!(
        refused(&login("C", NOW + 6)),
        DenyReason::TooManyPendingDevices
    );
    engine.delete_device(&id, &b, NOW + 7).unwrap();
    pending(login("C", NOW + 8));
}
