//! Acceptance scenarios of the mail-client side of the engine: device tokens
//! (S12–S14), notifications (S13), per-protocol policy (S15), application
//! passwords (S16), device binding, generations and the audit event, all
//! through the public API (`Engine::authenticate` and the portal calls).
//!
//! Time is always an explicit parameter. Wherever a test depends on which
//! step a TOTP code belongs to, it picks a time at which that code names
//! exactly one step nearby instead of trusting luck.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use mail2fa::engine::{
    AccountId, AllowReason, Channel, ClientAnswer, ClientInfo, Credential, Decision, DenyReason,
    DeviceId, DevicePolicy, DeviceState, DeviceToken, Engine, EngineConfig, LockoutPolicy,
    LoginRequest, MAX_APP_PASSWORDS, MAX_CLIENT_FIELD, MAX_LOGIN_INPUT, Mode, Notification,
    Protocol, ProtocolPolicy,
};
use mail2fa::store::{CasOutcome, MemoryStore, Store, StoreError, Versioned};
use mail2fa::{Error, Totp};
use support::{TestStore, code, enroll, fresh_store};

const PLATFORM: &str = "example.com";
const NOW: u64 = 1_800_000_000;
/// `NOW` as the notification text shows it.
const NOW_UTC: &str = "2027-01-15 08:00:00 UTC";
const PERIOD: u64 = 30;
const DAY: u64 = 86_400;

const OUTLOOK_UA: &str = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928)";
const OUTLOOK_TYPE: &str = "WindowsOutlook15";
const PHONE: &str = "+15555550123";
const PORTAL: &str = "https://mail.example.com/devices?user={account}&device={device}";
/// Shaped like an application password (four groups of five symbols of the
/// alphabet), and matching none: 100 random bits make a collision with a
/// real one impossible in practice.
const WRONG_APP_PASSWORD: &str = "abcde-fghjk-mnpqr-stvwx";

// ------------------------------------------------------------------ helpers

fn step(t: u64) -> u64 {
    t / PERIOD
}

fn engine_with(config: EngineConfig) -> Engine<TestStore> {
    let engine = Engine::new(fresh_store(), config).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
}

fn engine() -> Engine<TestStore> {
    engine_with(EngineConfig::default())
}

/// A lockout that never gets in the way of tests about something else.
fn lenient() -> EngineConfig {
    EngineConfig {
        lockout: LockoutPolicy {
            max_failures: 100,
            ..LockoutPolicy::default()
        },
        ..EngineConfig::default()
    }
}

fn with_devices(devices: DevicePolicy) -> EngineConfig {
    EngineConfig {
        devices,
        ..EngineConfig::default()
    }
}

fn account(name: &str) -> AccountId {
    AccountId::new(PLATFORM, name).unwrap()
}

/// A step boundary at or after `from` whose code names exactly one step
/// from `before` steps earlier to `after` steps later, and matches no step
/// within 12 of the times `far` seconds later.
fn unique_time_far(totp: &Totp, from: u64, before: u64, after: u64, far: &[u64]) -> u64 {
    (0..500)
        .map(|k| (step(from) + k) * PERIOD)
        .find(|&t| {
            let c = code(totp, step(t));
            let near = (step(t) - before..=step(t) + after)
                .filter(|&s| code(totp, s) == c)
                .count();
            let later = far.iter().any(|&d| {
                let center = step(t + d);
                (center - 12..=center + 12).any(|s| code(totp, s) == c)
            });
            near == 1 && !later
        })
        .unwrap()
}

fn unique_time(totp: &Totp, from: u64, before: u64, after: u64) -> u64 {
    unique_time_far(totp, from, before, after, &[])
}

fn outlook() -> ClientInfo<'static> {
    ClientInfo {
        device_id: None,
        device_type: Some(OUTLOOK_TYPE),
        user_agent: Some(OUTLOOK_UA),
        remote_addr: Some("198.51.100.20"),
    }
}

fn request<'a>(
    protocol: Protocol,
    credential: Credential<'a>,
    client: ClientInfo<'a>,
) -> LoginRequest<'a> {
    LoginRequest {
        protocol,
        credential,
        client,
    }
}

const PASSWORD_OK: Credential<'static> = Credential::Password { correct: true };
const PASSWORD_WRONG: Credential<'static> = Credential::Password { correct: false };

/// The account password from `client` over `protocol`.
fn with_password<S: Store>(
    engine: &Engine<S>,
    id: &AccountId,
    protocol: Protocol,
    client: ClientInfo<'_>,
    now: u64,
) -> Decision {
    engine
        .authenticate(id, &request(protocol, PASSWORD_OK, client), now)
        .unwrap()
}

/// An application password over `protocol`, from a client the host knows
/// nothing about.
fn with_app_password(
    engine: &Engine<TestStore>,
    id: &AccountId,
    protocol: Protocol,
    password: &str,
    now: u64,
) -> Decision {
    let credential = Credential::AppPassword(password);
    engine
        .authenticate(
            id,
            &request(protocol, credential, ClientInfo::default()),
            now,
        )
        .unwrap()
}

/// The refusal reason; every refusal must look the same to the client.
fn refused(decision: &Decision) -> DenyReason {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::Refused,
        "{decision:?}"
    );
    assert!(!decision.is_allowed());
    assert!(decision.notification().is_none());
    match decision {
        Decision::Deny { reason } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The reason of an `Allow` that no cache may keep (2FA applies).
fn allowed_uncached(decision: &Decision) -> AllowReason {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::Allowed,
        "{decision:?}"
    );
    match decision {
        Decision::Allow {
            reason,
            cacheable: false,
        } => *reason,
        other => panic!("expected an uncacheable allow, got {other:?}"),
    }
}

/// The device and notification of a `DevicePending`.
fn pending(decision: Decision) -> (DeviceId, Option<Notification>) {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::DevicePending,
        "{decision:?}"
    );
    assert!(!decision.is_allowed());
    let notified = decision.notification().cloned();
    let named = decision.device();
    match decision {
        Decision::DevicePending {
            device,
            notification,
        } => {
            assert_eq!(named, Some(device));
            assert_eq!(notification, notified);
            if let Some(n) = &notification {
                assert_eq!(n.device, device);
            }
            (device, notification)
        }
        other => panic!("expected a pending device, got {other:?}"),
    }
}

fn only_device(engine: &Engine<impl Store>, id: &AccountId, now: u64) -> DeviceToken {
    let devices = engine.devices(id, now).unwrap();
    assert_eq!(devices.len(), 1, "{devices:?}");
    devices.into_iter().next().unwrap()
}

/// A store that counts the writes (compare-and-swap calls) it is asked for.
#[derive(Debug, Default)]
struct CountingStore {
    inner: MemoryStore,
    swaps: AtomicUsize,
}

impl CountingStore {
    fn swaps(&self) -> usize {
        self.swaps.load(Ordering::SeqCst)
    }
}

impl Store for CountingStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.inner.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.swaps.fetch_add(1, Ordering::SeqCst);
        self.inner.compare_and_swap(key, expected, new)
    }
}

// ------------------------------------------------- S12–S14: device tokens

#[test]
fn outlook_device_is_blocked_notified_activated_deactivated_and_deleted() {
    let engine = engine_with(EngineConfig {
        portal_link: Some(PORTAL.to_owned()),
        ..EngineConfig::default()
    });
    let id = account("alice+mail@example.com");
    enroll(&engine, &id, NOW - 3_600);
    engine
        .set_contact(&id, Some("alice.private@example.org"), Some(PHONE))
        .unwrap();

    // S12: the right password from an unknown device: blocked, token made.
    let (device, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        NOW,
    ));
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
        let (again, notification) =
            pending(with_password(&engine, &id, Protocol::Outlook, outlook(), t));
        assert_eq!(again, device);
        assert_eq!(notification, None, "at {t}");
    }
    let (again, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        NOW + DAY - 1,
    ));
    assert_eq!((again, notification), (device, None));
    // Once the interval is over, the user is reminded.
    let later = NOW + DAY;
    let (again, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        later,
    ));
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
    let decision = with_password(&engine, &id, Protocol::Outlook, outlook(), later + 20);
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
    let (again, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        later + 40,
    ));
    assert_eq!((again, notification), (device, None));

    // Activated again: in again.
    engine.activate_device(&id, &device, later + 50).unwrap();
    assert_eq!(
        allowed_uncached(&with_password(
            &engine,
            &id,
            Protocol::Outlook,
            outlook(),
            later + 60
        )),
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
    let (again, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        later + 80,
    ));
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

// ------------------------------------------------------- S13: notifications

#[test]
fn notifications_go_by_email_without_a_phone_and_fall_back_when_sms_fails() {
    let engine = engine();
    let client = ClientInfo {
        device_id: Some("ApplF17XK2QJHG7F"),
        device_type: Some("iPhone"),
        user_agent: Some("Apple-iPhone14C2/2104.100"),
        remote_addr: Some("203.0.113.7"),
    };
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

// -------------------------------------------------------- the pending cap

#[test]
fn pending_tokens_are_capped_and_expire() {
    let ttl = 7 * DAY;
    let engine = engine_with(with_devices(DevicePolicy {
        max_pending: 3,
        pending_ttl: ttl,
        ..DevicePolicy::default()
    }));
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let names: Vec<String> = (0..8).map(|n| format!("PHONE-{n}")).collect();
    let phone_client = |n: usize| ClientInfo {
        device_id: Some(names[n].as_str()),
        device_type: Some("iPhone"),
        user_agent: Some("Apple-iPhone14C2/2104.100"),
        remote_addr: Some("203.0.113.7"),
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
    let engine = engine_with(with_devices(DevicePolicy {
        pending_ttl: ttl,
        ..DevicePolicy::default()
    }));
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    engine
        .set_contact(&id, Some("alice.private@example.org"), Some(PHONE))
        .unwrap();
    let (device, _) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        NOW,
    ));
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

// ------------------------------------------------------ last-seen coalescing

#[test]
fn last_seen_is_written_at_most_once_per_interval() {
    let seen = DevicePolicy::default().seen_interval;
    let engine = Engine::new(CountingStore::default(), EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    engine.set_contact(&id, None, Some(PHONE)).unwrap();

    let client = |ua, addr| ClientInfo {
        device_id: Some("ApplF17XK2QJHG7F"),
        device_type: Some("iPhone"),
        user_agent: Some(ua),
        remote_addr: Some(addr),
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
    let thunderbird = ClientInfo {
        user_agent: Some("Thunderbird/115.3"),
        remote_addr: Some("203.0.113.7"),
        ..ClientInfo::default()
    };
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
            ClientInfo {
                remote_addr: Some("203.0.113.7"),
                ..ClientInfo::default()
            },
            ClientInfo {
                device_id: Some(" "),
                device_type: Some(""),
                user_agent: Some("   "),
                remote_addr: None,
            },
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

// ------------------------------------------------- S16: application passwords

fn assert_app_password_shape(password: &str) {
    let groups: Vec<&str> = password.split('-').collect();
    assert_eq!(groups.len(), 4, "{password}");
    for group in groups {
        assert_eq!(group.len(), 5, "{password}");
        assert!(
            group
                .bytes()
                .all(|b| b"0123456789abcdefghjkmnpqrstvwxyz".contains(&b)),
            "{password}"
        );
    }
}

#[test]
fn app_passwords_are_scoped_listed_and_revoked() {
    let engine = engine();
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);

    let (iphone, iphone_pw) = engine
        .create_app_password(&id, "iPhone", &[Protocol::Imap], NOW)
        .unwrap();
    assert_app_password_shape(&iphone_pw);
    assert_eq!(iphone.name, "iPhone");
    assert_eq!(iphone.scope, vec![Protocol::Imap]);
    assert_eq!((iphone.created, iphone.last_used), (NOW, None));
    assert!(iphone.allows(&Protocol::Imap));
    assert!(!iphone.allows(&Protocol::Smtp));

    let used = AllowReason::AppPassword { id: iphone.id };
    assert_eq!(
        allowed_uncached(&with_app_password(
            &engine,
            &id,
            Protocol::Imap,
            &iphone_pw,
            NOW + 10
        )),
        used
    );
    // Typed from the screen: upper case, spaces for hyphens, or none at all.
    let shouted = iphone_pw.to_uppercase().replace('-', " ");
    let packed = iphone_pw.replace('-', "");
    for typed in [shouted.as_str(), packed.as_str()] {
        assert_eq!(
            allowed_uncached(&with_app_password(
                &engine,
                &id,
                Protocol::Imap,
                typed,
                NOW + 20
            )),
            used,
            "{typed}"
        );
    }
    // Out of its scope, and where application passwords are not taken.
    assert_eq!(
        refused(&with_app_password(
            &engine,
            &id,
            Protocol::Smtp,
            &iphone_pw,
            NOW + 30
        )),
        DenyReason::AppPasswordOutOfScope
    );
    for protocol in [Protocol::Webmail, Protocol::Portal] {
        assert_eq!(
            refused(&with_app_password(
                &engine,
                &id,
                protocol,
                &iphone_pw,
                NOW + 30
            )),
            DenyReason::AppPasswordNotAccepted
        );
    }

    // Unscoped: any protocol that takes application passwords.
    let (laptop, laptop_pw) = engine
        .create_app_password(&id, "Laptop", &[], NOW + 40)
        .unwrap();
    assert_app_password_shape(&laptop_pw);
    assert_ne!(laptop.id, iphone.id);
    assert_ne!(*laptop_pw, *iphone_pw);
    for protocol in [
        Protocol::Pop3,
        Protocol::ActiveSync,
        Protocol::Imap,
        Protocol::Smtp,
        Protocol::Outlook,
        Protocol::RpcOverHttp,
    ] {
        assert_eq!(
            allowed_uncached(&with_app_password(
                &engine,
                &id,
                protocol.clone(),
                &laptop_pw,
                NOW + 50
            )),
            AllowReason::AppPassword { id: laptop.id },
            "{protocol}"
        );
    }
    assert_eq!(
        refused(&with_app_password(
            &engine,
            &id,
            Protocol::Webmail,
            &laptop_pw,
            NOW + 50
        )),
        DenyReason::AppPasswordNotAccepted
    );
    // An application password makes no device token.
    assert!(engine.devices(&id, NOW + 50).unwrap().is_empty());

    // Listed with name, creation and last use; never the password.
    let list = engine.app_passwords(&id).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (
            list[0].id,
            list[0].name.as_str(),
            list[0].created,
            list[0].last_used
        ),
        (iphone.id, "iPhone", NOW, Some(NOW + 10))
    );
    assert_eq!(
        (
            list[1].id,
            list[1].name.as_str(),
            list[1].created,
            list[1].last_used
        ),
        (laptop.id, "Laptop", NOW + 40, Some(NOW + 50))
    );
    let debug = format!("{list:?}");
    assert!(!debug.contains(iphone_pw.as_str()) && !debug.contains(laptop_pw.as_str()));

    // Revoked: refused at once, the other one unaffected.
    engine.revoke_app_password(&id, iphone.id).unwrap();
    assert_eq!(
        refused(&with_app_password(
            &engine,
            &id,
            Protocol::Imap,
            &iphone_pw,
            NOW + 60
        )),
        DenyReason::WrongAppPassword
    );
    assert!(with_app_password(&engine, &id, Protocol::Imap, &laptop_pw, NOW + 60).is_allowed());
    let list = engine.app_passwords(&id).unwrap();
    assert_eq!(
        list.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![laptop.id]
    );
    assert!(matches!(
        engine.revoke_app_password(&id, iphone.id),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        engine.revoke_app_password(&id, 999),
        Err(Error::NotFound(_))
    ));

    // Names are unique (a revoked one's is free again) and bounded.
    assert!(matches!(
        engine.create_app_password(&id, "Laptop", &[], NOW + 70),
        Err(Error::InvalidConfig(_))
    ));
    let long_name = "x".repeat(65);
    for bad in ["", " padded", long_name.as_str(), "tab\there"] {
        assert!(
            matches!(
                engine.create_app_password(&id, bad, &[], NOW + 70),
                Err(Error::InvalidConfig(_))
            ),
            "{bad:?}"
        );
    }
    let (again, _) = engine
        .create_app_password(&id, "iPhone", &[], NOW + 70)
        .unwrap();
    assert_ne!(again.id, iphone.id, "ids are not reused");
    // At most MAX_APP_PASSWORDS.
    for n in engine.app_passwords(&id).unwrap().len()..MAX_APP_PASSWORDS {
        engine
            .create_app_password(&id, &format!("client {n}"), &[], NOW + 80)
            .unwrap();
    }
    assert_eq!(engine.app_passwords(&id).unwrap().len(), MAX_APP_PASSWORDS);
    assert!(matches!(
        engine.create_app_password(&id, "one too many", &[], NOW + 90),
        Err(Error::LimitReached(_))
    ));
    assert!(matches!(
        engine.create_app_password(&account("nobody@example.com"), "x", &[], NOW),
        Err(Error::NotEnabled)
    ));
}

#[test]
fn wrong_app_passwords_and_wrong_passwords_lock_nothing() {
    let policy = LockoutPolicy::default();
    let engine = engine();
    let id = account("alice@example.com");
    let totp = enroll(&engine, &id, NOW - 3_600);
    let (info, password) = engine.create_app_password(&id, "phone", &[], NOW).unwrap();
    let ok = AllowReason::AppPassword { id: info.id };
    // An activated Outlook, and a browser bound by a code login.
    let (device, _) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        NOW,
    ));
    engine.activate_device(&id, &device, NOW + 1).unwrap();
    let browser = ClientInfo {
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        remote_addr: Some("203.0.113.7"),
        ..ClientInfo::default()
    };
    let t0 = unique_time(&totp, NOW + 2, 2, 2);
    let c0 = code(&totp, step(t0));
    let credential = Credential::PasswordAndCode {
        correct: true,
        code: &c0,
    };
    let decision = engine
        .authenticate(&id, &request(Protocol::Webmail, credential, browser), t0)
        .unwrap();
    assert_eq!(
        allowed_uncached(&decision),
        AllowReason::CodeAccepted { step: step(t0) }
    );
    let bound = AllowReason::DeviceTrusted {
        until: t0 + DevicePolicy::default().binding_period,
    };

    // Not shaped like an application password: the host's own wrong
    // password, not counted (the host throttles its passwords).
    for n in 0..3 * policy.max_failures {
        for bogus in ["hunter2", "abcde-fghjk", "abcde-fghjk-mnpqr-stvwu"] {
            assert_eq!(
                refused(&with_app_password(
                    &engine,
                    &id,
                    Protocol::Imap,
                    bogus,
                    NOW + u64::from(n)
                )),
                DenyReason::WrongPassword,
                "{bogus}"
            );
        }
    }
    assert_eq!(
        allowed_uncached(&with_app_password(
            &engine,
            &id,
            Protocol::Imap,
            &password,
            NOW + 20
        )),
        ok
    );

    // Shaped like one, matching none: a guess. Not counted either (issue
    // 14, point 5): an application password has 100 random bits, so
    // counting buys nothing, and a counted guess would cost a synchronous
    // write that tells accounts with 2FA from accounts without. However
    // many guesses, none is ever answered "locked".
    let t = t0 + 100;
    for n in 0..3 * policy.max_failures {
        assert_eq!(
            refused(&with_app_password(
                &engine,
                &id,
                Protocol::Imap,
                WRONG_APP_PASSWORD,
                t + u64::from(n)
            )),
            DenyReason::WrongAppPassword,
            "guess {n}"
        );
    }
    let later = t + 3 * u64::from(policy.max_failures);
    // The right application password still gets in...
    assert_eq!(
        allowed_uncached(&with_app_password(
            &engine,
            &id,
            Protocol::Imap,
            &password,
            later
        )),
        ok
    );
    // ...and so does a valid code: the account's code lockout is untouched.
    let c = code(&totp, step(later));
    assert!(engine.login(&id, Some(&c), later).unwrap().is_allowed());
    // An activated device, and the bound browser with its string, get in.
    assert_eq!(
        allowed_uncached(&with_password(
            &engine,
            &id,
            Protocol::Outlook,
            outlook(),
            later + 1
        )),
        AllowReason::DeviceAuthorized { device }
    );
    assert_eq!(
        allowed_uncached(
            &engine
                .authenticate(
                    &id,
                    &request(Protocol::Webmail, credential, browser),
                    later + 1
                )
                .unwrap()
        ),
        bound
    );
}

#[test]
fn revoked_app_password_is_refused_for_every_login_that_starts_after() {
    const THREADS: usize = 16;
    const ROUNDS: usize = 4;
    const AFTER: u64 = 3_000;
    let engine = engine_with(lenient());
    for round in 0..ROUNDS {
        let id = account(&format!("burst{round}@example.com"));
        enroll(&engine, &id, NOW - 3_600);
        let (info, password) = engine.create_app_password(&id, "phone", &[], NOW).unwrap();
        let seq = AtomicU64::new(0);
        let allowed = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let login = request(
            Protocol::Imap,
            Credential::AppPassword(&password),
            ClientInfo::default(),
        );

        let (cut, logs) = thread::scope(|s| {
            let workers: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        let mut log = Vec::new();
                        while !stop.load(Ordering::SeqCst) {
                            let ticket = seq.fetch_add(1, Ordering::SeqCst);
                            let decision = engine.authenticate(&id, &login, NOW).unwrap();
                            if decision.is_allowed() {
                                allowed.fetch_add(1, Ordering::SeqCst);
                            }
                            log.push((ticket, decision));
                        }
                        log
                    })
                })
                .collect();
            let deadline = Instant::now() + Duration::from_secs(60);
            while allowed.load(Ordering::SeqCst) < 100 && Instant::now() < deadline {
                thread::yield_now();
            }
            engine.revoke_app_password(&id, info.id).unwrap();
            // An RMW: every ticket taken after it is ordered after the revocation.
            let cut = seq.fetch_add(1, Ordering::SeqCst);
            while seq.load(Ordering::SeqCst) < cut + AFTER && Instant::now() < deadline {
                thread::yield_now();
            }
            stop.store(true, Ordering::SeqCst);
            let logs: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
            (cut, logs)
        });

        let mut before_ok = 0;
        let mut after = 0;
        for (ticket, decision) in logs.iter().flatten() {
            if *ticket > cut {
                after += 1;
                let reason = refused(decision);
                assert!(
                    matches!(
                        reason,
                        DenyReason::WrongAppPassword | DenyReason::Locked { .. }
                    ),
                    "ticket {ticket} after the revocation at {cut}: {reason:?}"
                );
            } else if decision.is_allowed() {
                // Before the cut (the cut itself is the main thread's ticket).
                assert_ne!(*ticket, cut);
                assert_eq!(
                    allowed_uncached(decision),
                    AllowReason::AppPassword { id: info.id }
                );
                before_ok += 1;
            }
        }
        assert!(
            before_ok >= 100,
            "round {round}: {before_ok} allowed before"
        );
        assert!(after >= AFTER - 1, "round {round}: {after} attempts after");
    }
}

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
    let client = |ua, addr| ClientInfo {
        user_agent: Some(ua),
        remote_addr: Some(addr),
        ..ClientInfo::default()
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
        ClientInfo {
            remote_addr: Some("203.0.113.7"),
            ..ClientInfo::default()
        },
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
    let engine = engine_with(with_devices(DevicePolicy {
        binding_period: 0,
        ..DevicePolicy::default()
    }));
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
    let home = ClientInfo {
        user_agent: Some("Thunderbird/115.3"),
        remote_addr: Some("203.0.113.7"),
        ..ClientInfo::default()
    };
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

// -------------------------------------------------------------- generations

/// An enrolled account with an activated Outlook, a pending phone and an
/// application password; returns the Outlook's device and the password.
fn with_clients(engine: &Engine<TestStore>, id: &AccountId, now: u64) -> (DeviceId, String, Totp) {
    let totp = enroll(engine, id, now - 3_600);
    let (outlook_device, _) = pending(with_password(engine, id, Protocol::Outlook, outlook(), now));
    engine
        .activate_device(id, &outlook_device, now + 1)
        .unwrap();
    let phone_client = ClientInfo {
        device_id: Some("ApplF17XK2QJHG7F"),
        device_type: Some("iPhone"),
        ..ClientInfo::default()
    };
    pending(with_password(
        engine,
        id,
        Protocol::ActiveSync,
        phone_client,
        now + 2,
    ));
    let (_, password) = engine
        .create_app_password(id, "laptop", &[], now + 3)
        .unwrap();
    assert_eq!(engine.devices(id, now + 4).unwrap().len(), 2);
    assert_eq!(
        allowed_uncached(&with_password(
            engine,
            id,
            Protocol::Outlook,
            outlook(),
            now + 5
        )),
        AllowReason::DeviceAuthorized {
            device: outlook_device
        }
    );
    assert!(with_app_password(engine, id, Protocol::Imap, &password, now + 5).is_allowed());
    (outlook_device, password.to_string(), totp)
}

#[test]
fn removing_2fa_revokes_devices_and_app_passwords() {
    let engine = engine();
    let id = account("alice@example.com");
    let (device, password, _) = with_clients(&engine, &id, NOW);

    engine.remove(&id).unwrap();
    assert!(matches!(
        engine.devices(&id, NOW + 10),
        Err(Error::NotEnabled)
    ));
    assert!(matches!(engine.app_passwords(&id), Err(Error::NotEnabled)));
    // Without 2FA, the host's password check decides alone.
    assert_eq!(
        with_password(&engine, &id, Protocol::Outlook, outlook(), NOW + 10),
        Decision::Allow {
            reason: AllowReason::NoSecondFactor,
            cacheable: true
        }
    );

    // 2FA again: nothing of before survives.
    enroll(&engine, &id, NOW + 20);
    assert!(engine.devices(&id, NOW + 20).unwrap().is_empty());
    assert!(engine.app_passwords(&id).unwrap().is_empty());
    assert_eq!(
        refused(&with_app_password(
            &engine,
            &id,
            Protocol::Imap,
            &password,
            NOW + 30
        )),
        DenyReason::WrongAppPassword
    );
    assert!(matches!(
        engine.activate_device(&id, &device, NOW + 30),
        Err(Error::NotFound(_))
    ));
    let (again, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        NOW + 40,
    ));
    assert_eq!(again, device);
    assert!(notification.is_some(), "a new token notifies again");
    assert_eq!(
        only_device(&engine, &id, NOW + 40).state,
        DeviceState::Inactive
    );
}

#[test]
fn reset_revokes_clients_only_when_the_policy_says_so() {
    // Default: a new phone says nothing about the other clients.
    let engine = engine();
    let id = account("alice@example.com");
    let (device, password, _) = with_clients(&engine, &id, NOW);
    engine.reset(&id, NOW + 10).unwrap();
    let devices = engine.devices(&id, NOW + 10).unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(
        allowed_uncached(&with_password(
            &engine,
            &id,
            Protocol::Outlook,
            outlook(),
            NOW + 20
        )),
        AllowReason::DeviceAuthorized { device }
    );
    assert!(with_app_password(&engine, &id, Protocol::Imap, &password, NOW + 20).is_allowed());
    assert_eq!(engine.app_passwords(&id).unwrap().len(), 1);

    // With reset_revokes_clients: all gone in the same change.
    let engine = engine_with(with_devices(DevicePolicy {
        reset_revokes_clients: true,
        ..DevicePolicy::default()
    }));
    let (device, password, _) = with_clients(&engine, &id, NOW);
    engine.reset(&id, NOW + 10).unwrap();
    assert!(engine.devices(&id, NOW + 10).unwrap().is_empty());
    assert!(engine.app_passwords(&id).unwrap().is_empty());
    assert_eq!(
        refused(&with_app_password(
            &engine,
            &id,
            Protocol::Imap,
            &password,
            NOW + 20
        )),
        DenyReason::WrongAppPassword
    );
    let (again, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::Outlook,
        outlook(),
        NOW + 30,
    ));
    assert_eq!(again, device);
    assert!(notification.is_some());

    // The self-service reset (S11) follows the same policy.
    let bob = account("bob@example.com");
    let (_, password, totp) = with_clients(&engine, &bob, NOW);
    let t = unique_time(&totp, NOW + 60, 2, 2);
    let (decision, uri) = engine
        .reset_with_code(&bob, &code(&totp, step(t)), t)
        .unwrap();
    assert_eq!(
        allowed_uncached(&decision),
        AllowReason::CodeAccepted { step: step(t) }
    );
    assert!(uri.is_some());
    assert!(engine.devices(&bob, t).unwrap().is_empty());
    assert!(engine.app_passwords(&bob).unwrap().is_empty());
    assert_eq!(
        refused(&with_app_password(
            &engine,
            &bob,
            Protocol::Imap,
            &password,
            t + 1
        )),
        DenyReason::WrongAppPassword
    );
}

// -------------------------------------------------------- client input checks

#[test]
fn client_fields_a_client_cannot_honestly_send_are_refused() {
    let engine = engine();
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let long = "x".repeat(MAX_CLIENT_FIELD + 1);
    let longest = "y".repeat(MAX_CLIENT_FIELD);
    let bad_clients = [
        ClientInfo {
            user_agent: Some("Outlook\u{7}16"),
            ..outlook()
        },
        ClientInfo {
            user_agent: Some("Outlook\n16"),
            ..outlook()
        },
        ClientInfo {
            device_type: Some("iPhone\u{0}"),
            ..outlook()
        },
        ClientInfo {
            device_id: Some(&long),
            ..outlook()
        },
        ClientInfo {
            device_type: Some(&long),
            ..outlook()
        },
        ClientInfo {
            user_agent: Some(&long),
            ..outlook()
        },
        ClientInfo {
            remote_addr: Some("mail.example.com"),
            ..outlook()
        },
        ClientInfo {
            remote_addr: Some("203.0.113.7:443"),
            ..outlook()
        },
        ClientInfo {
            remote_addr: Some("203.0.113.256"),
            ..outlook()
        },
        ClientInfo {
            remote_addr: Some(""),
            ..outlook()
        },
    ];
    for client in bad_clients {
        for protocol in [Protocol::Outlook, Protocol::Imap, Protocol::Webmail] {
            for credential in [PASSWORD_OK, PASSWORD_WRONG] {
                let result =
                    engine.authenticate(&id, &request(protocol.clone(), credential, client), NOW);
                assert!(
                    matches!(result, Err(Error::InvalidInput(_))),
                    "{protocol} {client:?}: {result:?}"
                );
            }
        }
        // Also for an account without 2FA: the check comes first.
        let result = engine.authenticate(
            &account("plain@example.com"),
            &request(Protocol::Outlook, PASSWORD_OK, client),
            NOW,
        );
        assert!(matches!(result, Err(Error::InvalidInput(_))), "{client:?}");
    }
    // Credentials no client can send.
    let huge = "a".repeat(MAX_LOGIN_INPUT + 1);
    for credential in [
        Credential::AppPassword(&huge),
        Credential::AppPassword("abcde-fghjk\0mnpqr-stvwx"),
        Credential::PasswordAndCode {
            correct: true,
            code: "123\x00456",
        },
    ] {
        let result =
            engine.authenticate(&id, &request(Protocol::Outlook, credential, outlook()), NOW);
        assert!(matches!(result, Err(Error::InvalidInput(_))), "{result:?}");
    }
    assert!(engine.devices(&id, NOW).unwrap().is_empty());

    // At the limit, and with surrounding white space around an address: fine.
    let ok = ClientInfo {
        device_id: Some(&longest),
        device_type: Some(&longest),
        user_agent: Some(&longest),
        remote_addr: Some(" 2001:db8::1 "),
    };
    let (device, _) = pending(with_password(&engine, &id, Protocol::Outlook, ok, NOW));
    let token = only_device(&engine, &id, NOW);
    assert_eq!(token.id, device);
    assert_eq!(token.user_agent.as_deref(), Some(longest.as_str()));
    assert_eq!(token.remote_addr.as_deref(), Some("2001:db8::1"));
}

// -------------------------------------------------------------------- audit

#[test]
fn audit_events_name_protocol_and_device_but_no_secret() {
    let engine = engine_with(EngineConfig {
        portal_link: Some(PORTAL.to_owned()),
        ..EngineConfig::default()
    });
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let (_, password) = engine.create_app_password(&id, "laptop", &[], NOW).unwrap();

    let decision = with_password(&engine, &id, Protocol::Outlook, outlook(), NOW);
    let device = decision.device().unwrap();
    let event = decision
        .audit_event(&id, NOW)
        .with_protocol(&Protocol::Outlook);
    assert_eq!(event.protocol, Some(Protocol::Outlook));
    assert_eq!(event.device, Some(device));
    assert_eq!(event.answer, ClientAnswer::DevicePending);
    assert!(!event.cacheable);
    let line = event.to_string();
    assert!(line.contains("protocol=outlook"), "{line}");
    assert!(line.contains(&format!("device={device}")), "{line}");
    assert_eq!(device.to_string().len(), 32);
    assert!(
        device
            .to_string()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{device}"
    );
    assert!(line.contains("answer=device-pending"), "{line}");
    assert!(line.contains("account=\"alice@example.com\""), "{line}");

    // An application password, right or wrong: the event never carries it.
    let canonical = password.replace('-', "");
    for (typed, protocol) in [
        (password.as_str(), Protocol::Imap),
        (password.as_str(), Protocol::Webmail),
        (WRONG_APP_PASSWORD, Protocol::Imap),
    ] {
        let decision = with_app_password(&engine, &id, protocol.clone(), typed, NOW + 1);
        let event = decision.audit_event(&id, NOW + 1).with_protocol(&protocol);
        let line = event.to_string();
        assert!(line.contains(&format!("protocol={protocol}")), "{line}");
        let packed = typed.replace('-', "");
        for text in [line, format!("{event:?}"), format!("{decision:?}")] {
            for secret in [typed, canonical.as_str(), packed.as_str()] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }
    let ok = with_app_password(&engine, &id, Protocol::Imap, &password, NOW + 2);
    let line = ok
        .audit_event(&id, NOW + 2)
        .with_protocol(&Protocol::Imap)
        .to_string();
    assert!(line.contains("answer=allowed"), "{line}");
    assert!(line.contains("reason=AppPassword"), "{line}");
    assert!(line.contains("cacheable=false"), "{line}");
    assert!(!line.contains("device="), "{line}");
    let wrong = with_app_password(&engine, &id, Protocol::Imap, WRONG_APP_PASSWORD, NOW + 3);
    let line = wrong.audit_event(&id, NOW + 3).to_string();
    assert!(line.contains("answer=refused"), "{line}");
    assert!(line.contains("reason=WrongAppPassword"), "{line}");
    assert!(!line.contains("protocol="), "{line}");
}

/// A code login over `protocol` from `client` at a time whose code is
/// unambiguous; returns the time, the code and the decision.
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
    let firefox = |addr| ClientInfo {
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        remote_addr: addr,
        ..ClientInfo::default()
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

#[test]
fn credentials_never_show_in_debug_and_client_text_is_tamed_in_notifications() {
    let secret = "abcde-fghjk-mnpqr-stvwx";
    for credential in [
        Credential::AppPassword(secret),
        Credential::PasswordAndCode {
            correct: true,
            code: "424242",
        },
    ] {
        let shown = format!(
            "{:?}",
            request(Protocol::Imap, credential, ClientInfo::default())
        );
        assert!(
            !shown.contains(secret) && !shown.contains("424242"),
            "{shown}"
        );
    }
    let engine = engine();
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let client = ClientInfo {
        device_type: Some("phone.\u{202e} URGENT: log in at https://evil.example/now <b>"),
        user_agent: Some("Evil/1.0"),
        ..ClientInfo::default()
    };
    let (_, notification) = pending(with_password(
        &engine,
        &id,
        Protocol::ActiveSync,
        client,
        NOW,
    ));
    let text = notification.unwrap().text;
    assert!(
        !text.contains('\u{202e}') && !text.contains("https://evil") && !text.contains('<'),
        "{text}"
    );
}

#[test]
fn device_policies_out_of_range_are_refused() {
    let base = DevicePolicy::default();
    for devices in [
        DevicePolicy {
            max_pending: 0,
            ..base
        },
        DevicePolicy {
            max_pending: mail2fa::engine::MAX_DEVICES + 1,
            ..base
        },
        DevicePolicy {
            pending_ttl: 0,
            ..base
        },
        DevicePolicy {
            notify_interval: 0,
            ..base
        },
        DevicePolicy {
            seen_interval: base.pending_ttl,
            ..base
        },
        DevicePolicy {
            binding_period: mail2fa::engine::MAX_BINDING_PERIOD + 1,
            ..base
        },
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
    let edge = DevicePolicy {
        max_pending: mail2fa::engine::MAX_DEVICES,
        seen_interval: base.pending_ttl - 1,
        binding_period: mail2fa::engine::MAX_BINDING_PERIOD,
        ..base
    };
    assert!(Engine::new(fresh_store(), with_devices(edge)).is_ok());
}

#[test]
fn deactivated_tokens_count_toward_the_pending_cap_without_failing() {
    let engine = engine_with(with_devices(DevicePolicy {
        max_pending: 1,
        ..DevicePolicy::default()
    }));
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let phone = |name| ClientInfo {
        device_id: Some(name),
        device_type: Some("iPhone"),
        ..ClientInfo::default()
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
