//! The notification of a new device, as the engine's acceptance scenario S13
//! of `docs/behaviour.md` tells it: by SMS to the account's phone, by email
//! without one, and the email fallback when an SMS fails, through the public
//! API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::engine::{AccountId, Channel, ClientInfo, DeviceId, Protocol};
use support::clients::*;
use support::engine::*;
use support::enroll;

// ------------------------------------------------------- S13: notifications

#[test]
fn notifications_go_by_email_without_a_phone_and_fall_back_when_sms_fails() {
    let engine = engine();
    let client = ClientInfo::new()
        .with_device_id("ApplF17XK2QJHG7F")
        .with_device_type("iPhone")
        .with_user_agent("Apple-iPhone14C2/2104.100")
        .with_remote_addr("203.0.113.7");
    let notify = |id: &AccountId| {
        pending(with_password(
            &engine,
            id,
            Protocol::ActiveSync,
            client,
            NOW,
        ))
    };

    // No phone: e-mail to the registered address.
    let bob = account("bob@example.com");
    enroll(&engine, &bob, NOW - 3_600);
    engine
        .set_contact(&bob, Some("bob.private@example.org"), None)
        .unwrap();
    let (device, notification) = notify(&bob);
    let notification = notification.unwrap();
    assert_eq!(
        notification.channel,
        Channel::Email("bob.private@example.org".to_owned())
    );
    assert_eq!(notification.device, device);
    assert!(
        notification.text.contains("iPhone"),
        "{}",
        notification.text
    );
    assert!(
        notification.text.contains("activesync"),
        "{}",
        notification.text
    );
    // Without a portal link configured, the text still says where to go.
    assert!(
        notification.text.contains("your account portal"),
        "{}",
        notification.text
    );

    // No contact at all: the mailbox itself, since the name is an address.
    let carol = account("carol@example.com");
    enroll(&engine, &carol, NOW - 3_600);
    let (_, notification) = notify(&carol);
    assert_eq!(
        notification.unwrap().channel,
        Channel::Email("carol@example.com".to_owned())
    );

    // Neither a contact nor an address for a name: nothing to send.
    let dave = account("dave");
    enroll(&engine, &dave, NOW - 3_600);
    let (_, notification) = notify(&dave);
    assert_eq!(notification, None);

    // Phone and e-mail: SMS first; when it fails, the same by e-mail.
    let erin = account("erin@example.com");
    enroll(&engine, &erin, NOW - 3_600);
    engine
        .set_contact(&erin, Some("erin.private@example.org"), Some(PHONE))
        .unwrap();
    let (device, notification) = notify(&erin);
    let sms = notification.unwrap();
    assert_eq!(sms.channel, Channel::Sms(PHONE.to_owned()));
    let mail = engine
        .notification_fallback(&erin, &device, NOW + 5)
        .unwrap()
        .expect("an e-mail destination exists");
    assert_eq!(
        mail.channel,
        Channel::Email("erin.private@example.org".to_owned())
    );
    assert_eq!(mail.device, device);
    assert!(mail.text.contains("iPhone"), "{}", mail.text);
    assert!(mail.text.contains("activesync"), "{}", mail.text);
    assert!(!mail.subject.is_empty());

    // Phone only, but the name is an address: the mailbox itself.
    let frank = account("frank@example.com");
    enroll(&engine, &frank, NOW - 3_600);
    engine.set_contact(&frank, None, Some(PHONE)).unwrap();
    let (device, notification) = notify(&frank);
    assert_eq!(
        notification.unwrap().channel,
        Channel::Sms(PHONE.to_owned())
    );
    let mail = engine
        .notification_fallback(&frank, &device, NOW + 5)
        .unwrap();
    assert_eq!(
        mail.map(|m| m.channel),
        Some(Channel::Email("frank@example.com".to_owned()))
    );

    // Phone only and no address anywhere: no fallback.
    let gina = account("gina");
    enroll(&engine, &gina, NOW - 3_600);
    engine.set_contact(&gina, None, Some(PHONE)).unwrap();
    let (device, notification) = notify(&gina);
    assert_eq!(
        notification.unwrap().channel,
        Channel::Sms(PHONE.to_owned())
    );
    assert_eq!(
        engine
            .notification_fallback(&gina, &device, NOW + 5)
            .unwrap(),
        None
    );

    // An unknown device, or another account's device: not found.
    let unknown = DeviceId::parse(&"0".repeat(32)).unwrap();
    assert!(matches!(
        engine.notification_fallback(&erin, &unknown, NOW + 5),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        engine.notification_fallback(&bob, &device, NOW + 5),
        Err(Error::NotFound(_))
    ));
    // An account without 2FA has no devices.
    assert!(matches!(
        engine.notification_fallback(&account("nobody@example.com"), &unknown, NOW),
        Err(Error::NotEnabled)
    ));
}
