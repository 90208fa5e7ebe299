//! Generations: removing 2FA revokes every device token and application
//! password of the account, and a reset does so when the policy says so,
//! through the public API. Times and codes are chosen as `support::clients`
//! says.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Decision, DenyReason, DeviceId, DevicePolicy, DeviceState,
    Engine, Protocol,
};
use mail2fa::{Error, Totp};
use support::clients::*;
use support::engine::*;
use support::{TestStore, code, enroll};

// -------------------------------------------------------------- generations

/// An enrolled account with an activated Outlook, a pending phone and an
/// application password; returns the Outlook's device and the password.
fn with_clients(engine: &Engine<TestStore>, id: &AccountId, now: u64) -> (DeviceId, String, Totp) {
    let totp = enroll(engine, id, now - 3_600);
    let (outlook_device, _) = pending(outlook_login(engine, id, now));
    engine
        .activate_device(id, &outlook_device, now + 1)
        .unwrap();
    let phone_client = ClientInfo::new()
        .with_device_id("ApplF17XK2QJHG7F")
        .with_device_type("iPhone");
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
        allowed_uncached(&outlook_login(engine, id, now + 5)),
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
        outlook_login(&engine, &id, NOW + 10),
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
    let (again, notification) = pending(outlook_login(&engine, &id, NOW + 40));
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
        allowed_uncached(&outlook_login(&engine, &id, NOW + 20)),
        AllowReason::DeviceAuthorized { device }
    );
    assert!(with_app_password(&engine, &id, Protocol::Imap, &password, NOW + 20).is_allowed());
    assert_eq!(engine.app_passwords(&id).unwrap().len(), 1);

    // With reset_revokes_clients: all gone in the same change.
    let engine = engine_with(with_devices(
        DevicePolicy::default().with_reset_revokes_clients(true),
    ));
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
    let (again, notification) = pending(outlook_login(&engine, &id, NOW + 30));
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
