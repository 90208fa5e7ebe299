//! A mail client logging in through `Engine::authenticate`, as the device
//! suites do it (S12–S16 of `docs/behaviour.md`): the clients (an Outlook, a
//! phone), login requests with the password or an application password,
//! readers of the answers (refused, allowed, a pending device), times at
//! which a code names one step, and a store that counts its writes.
//!
//! Time is always an explicit parameter. Wherever a test depends on which
//! step a TOTP code belongs to, it picks a time at which that code names
//! exactly one step nearby instead of trusting luck.

use std::sync::atomic::{AtomicUsize, Ordering};

use mail2fa::Totp;
use mail2fa::engine::{
    AccountId, AllowReason, ClientAnswer, ClientInfo, Credential, Decision, DenyReason, DeviceId,
    DevicePolicy, DeviceToken, Engine, EngineConfig, LoginRequest, Notification, Protocol,
};
use mail2fa::store::{MemoryStore, Store};

use super::engine::{PERIOD, step};
use super::logging::{Watch, Watched};
use super::stores::TestStore;
use super::user::code;

pub const OUTLOOK_UA: &str =
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928)";
pub const OUTLOOK_TYPE: &str = "WindowsOutlook15";
pub const PHONE: &str = "+15555550123";
pub const PORTAL: &str = "https://mail.example.com/devices?user={account}&device={device}";
/// Shaped like an application password (four groups of five symbols of the
/// alphabet), and matching none: 100 random bits make a collision with a
/// real one impossible in practice.
pub const WRONG_APP_PASSWORD: &str = "abcde-fghjk-mnpqr-stvwx";

pub fn with_devices(devices: DevicePolicy) -> EngineConfig {
    EngineConfig::default().with_devices(devices)
}

/// A step boundary at or after `from` whose code names exactly one step
/// from `before` steps earlier to `after` steps later, and matches no step
/// within 12 of the times `far` seconds later.
pub fn unique_time_far(totp: &Totp, from: u64, before: u64, after: u64, far: &[u64]) -> u64 {
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

pub fn unique_time(totp: &Totp, from: u64, before: u64, after: u64) -> u64 {
    unique_time_far(totp, from, before, after, &[])
}

pub fn outlook() -> ClientInfo<'static> {
    ClientInfo::new()
        .with_device_type(Some(OUTLOOK_TYPE))
        .with_user_agent(Some(OUTLOOK_UA))
        .with_remote_addr("198.51.100.20")
}

pub fn request<'a>(
    protocol: Protocol,
    credential: Credential<'a>,
    client: ClientInfo<'a>,
) -> LoginRequest<'a> {
    LoginRequest::new(protocol, credential).with_client(client)
}

pub const PASSWORD_OK: Credential<'static> = Credential::Password { correct: true };
pub const PASSWORD_WRONG: Credential<'static> = Credential::Password { correct: false };

/// The account password from `client` over `protocol`.
pub fn with_password<S: Store>(
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

/// The account password from [`outlook`] over `Protocol::Outlook`: the
/// device login most scenarios start with.
pub fn outlook_login<S: Store>(engine: &Engine<S>, id: &AccountId, now: u64) -> Decision {
    with_password(engine, id, Protocol::Outlook, outlook(), now)
}

/// An application password over `protocol`, from a client the host knows
/// nothing about.
pub fn with_app_password(
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

/// The refusal reason; every refusal must look the same to the client, and
/// no refusal notifies anyone.
pub fn refused(decision: &Decision) -> DenyReason {
    assert!(decision.notification().is_none(), "{decision:?}");
    super::logins::refused(decision)
}

/// The reason of an `Allow` that no cache may keep (2FA applies).
pub fn allowed_uncached(decision: &Decision) -> AllowReason {
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
pub fn pending(decision: Decision) -> (DeviceId, Option<Notification>) {
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

pub fn only_device(engine: &Engine<impl Store>, id: &AccountId, now: u64) -> DeviceToken {
    let devices = engine.devices(id, now).unwrap();
    assert_eq!(devices.len(), 1, "{devices:?}");
    devices.into_iter().next().unwrap()
}

/// A store that counts the writes (compare-and-swap calls) it is asked for.
pub type CountingStore = Watched<MemoryStore, SwapCount>;

/// The writes a [`CountingStore`] was asked for.
#[derive(Debug, Default)]
pub struct SwapCount(AtomicUsize);

impl Watch for SwapCount {
    fn call(&self, op: &'static str, _: &[u8]) {
        if op == "swap" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl CountingStore {
    pub fn swaps(&self) -> usize {
        self.watcher().0.load(Ordering::SeqCst)
    }
}
