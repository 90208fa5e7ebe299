//! Mail clients and 2FA end to end on the in-memory store (S12–S16): an
//! Outlook desktop blocked until the user activates it, the notification
//! to send, IMAP refused until an application password is used, and a
//! webmail-style IMAP login trusted afterwards from the same device.
//!
//! ```text
//! cargo run --example devices
//! ```

use mail2fa::Totp;
use mail2fa::engine::{
    AccountId, ClientInfo, Credential, Decision, Engine, EngineConfig, LoginRequest, Protocol,
    ProtocolPolicy,
};
use mail2fa::store::MemoryStore;

fn show(what: &str, decision: &Decision) {
    let host = match decision {
        Decision::Allow { reason, .. } => format!("{reason:?}"),
        Decision::Deny { reason } => format!("{reason:?}"),
        Decision::DevicePending { device, .. } => format!("device {device} pending"),
        other => format!("{other:?}"),
    };
    println!(
        "{what:<40} -> client: {:?}; host: {host}",
        decision.client_answer()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = EngineConfig::default()
        .with_portal_link("https://mail.example.com/devices?user={account}".to_owned());
    let engine = Engine::new(MemoryStore::new(), config)?;
    let alice = AccountId::new("example.com", "alice@example.com")?;
    let mut now = 1_800_000_000;

    engine.enable_platform("example.com", true)?;
    let uri = engine.enable_account(&alice, now)?;
    let totp = Totp::from_uri(&uri)?; // the phone scans the QR code
    engine.confirm_enrollment(&alice, totp.generate(now)?.as_str(), now)?;
    engine.set_contact(&alice, None, Some("+33 6 12 34 56 78"))?;

    // S12, S13: Outlook with the right password, from a device never seen.
    let outlook = |correct| {
        LoginRequest::new(Protocol::Outlook, Credential::Password { correct }).with_client(
            ClientInfo::new()
                .with_device_type("WindowsOutlook15")
                .with_user_agent(
                    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928)",
                )
                .with_remote_addr("198.51.100.20"),
        )
    };
    show(
        "outlook, wrong password",
        &engine.authenticate(&alice, &outlook(false), now)?,
    );
    let blocked = engine.authenticate(&alice, &outlook(true), now)?;
    show("outlook, right password, new device", &blocked);
    if let Some(notification) = blocked.notification() {
        println!(
            "  notify by {:?}: {}",
            notification.channel, notification.text
        );
    }
    now += 60;
    let retry = engine.authenticate(&alice, &outlook(true), now)?;
    show("outlook retries a minute later", &retry);
    println!("  notification again: {}", retry.notification().is_some());

    // S14: the portal lists the token; the user activates it.
    for token in engine.devices(&alice, now)? {
        println!(
            "  portal: {} {:?} {} {:?} first seen {}",
            token.id,
            token.state,
            token.protocol,
            token.device_type.as_deref().unwrap_or("?"),
            token.first_seen
        );
        engine.activate_device(&alice, &token.id, now)?;
    }
    show(
        "outlook after activation",
        &engine.authenticate(&alice, &outlook(true), now + 1)?,
    );

    // S15, S16: IMAP takes only application passwords by default.
    let imap = |credential| {
        LoginRequest::new(Protocol::Imap, credential).with_client(ClientInfo::default())
    };
    show(
        "imap with the account password",
        &engine.authenticate(&alice, &imap(Credential::Password { correct: true }), now)?,
    );
    let (info, password) =
        engine.create_app_password(&alice, "Thunderbird", &[Protocol::Imap], now)?;
    println!(
        "  application password #{} (shown once): {}",
        info.id,
        password.as_str()
    );
    show(
        "imap with the application password",
        &engine.authenticate(&alice, &imap(Credential::AppPassword(&password)), now)?,
    );
    engine.revoke_app_password(&alice, info.id)?;
    show(
        "imap after the revoke",
        &engine.authenticate(&alice, &imap(Credential::AppPassword(&password)), now)?,
    );

    // Device binding: where IMAP takes a code in the login, the client that
    // logged in with password+code keeps working with that (now stale)
    // string, and only with it.
    engine.set_platform_policy(
        "example.com",
        &Protocol::Imap,
        Some(ProtocolPolicy::CodeInLogin),
    )?;
    now += 30;
    let typed = format!("hunter2{}", totp.generate(now)?.as_str());
    let (password_part, code) = engine.split_login_for(&alice, &Protocol::Imap, &typed, now)?;
    assert_eq!(password_part, "hunter2"); // the host checks this part itself
    let thunderbird = ClientInfo::new()
        .with_user_agent("Thunderbird 115.3.1")
        .with_remote_addr("203.0.113.7");
    let login = |client, at| -> mail2fa::Result<Decision> {
        let request = LoginRequest::new(
            Protocol::Imap,
            Credential::PasswordAndCode {
                correct: true,
                code: code.unwrap_or(""),
            },
        )
        .with_client(client);
        engine.authenticate(&alice, &request, at)
    };
    show("imap, password+code", &login(thunderbird, now)?);
    show(
        "same client, same string, 10 min later",
        &login(thunderbird, now + 600)?,
    );
    // The client strings and the address are no secret: the password alone
    // never passes through a binding.
    let password_alone = LoginRequest::new(Protocol::Imap, Credential::Password { correct: true })
        .with_client(thunderbird);
    show(
        "same client, password alone",
        &engine.authenticate(&alice, &password_alone, now + 600)?,
    );
    let other = ClientInfo::new()
        .with_user_agent("Thunderbird 115.3.1")
        .with_remote_addr("192.0.2.99");
    show(
        "same string from another network",
        &login(other, now + 600)?,
    );
    Ok(())
}
