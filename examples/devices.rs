//! Mail clients and 2FA end to end on the in-memory store: an Outlook
//! desktop blocked until the user activates it, the notification to send,
//! IMAP refused until an application password is used, and a webmail-style
//! IMAP login trusted afterwards from the same device — every login one
//! call to `Engine::check_login`, as a mail server makes it.
//!
//! ```text
//! cargo run --example devices
//! ```

use mail2fa::Totp;
use mail2fa::engine::{
    AccountId, ClientInfo, Decision, Engine, EngineConfig, LoginAttempt, Protocol, ProtocolPolicy,
};
use mail2fa::store::MemoryStore;

/// The account password, as the host's own directory checks it.
const PASSWORD: &str = "hunter2";

fn directory(password: &str) -> bool {
    password == PASSWORD
}

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

    // One login as the mail server sees it: protocol, the password field as
    // typed, the client; the server's own password check inside.
    let login = |protocol: Protocol, typed: &str, client: ClientInfo<'_>, at: u64| {
        let attempt = LoginAttempt::new(protocol, typed).with_client(client);
        engine.check_login(&alice, &attempt, at, directory)
    };

    // Outlook with the right password, from a device never seen.
    let outlook = ClientInfo::new()
        .with_device_type("WindowsOutlook15")
        .with_user_agent("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928)")
        .with_remote_addr("198.51.100.20");
    show(
        "outlook, wrong password",
        &login(Protocol::Outlook, "hunter3", outlook, now)?,
    );
    let blocked = login(Protocol::Outlook, PASSWORD, outlook, now)?;
    show("outlook, right password, new device", &blocked);
    if let Some(notification) = blocked.notification() {
        println!(
            "  notify by {:?}: {}",
            notification.channel, notification.text
        );
    }
    now += 60;
    let retry = login(Protocol::Outlook, PASSWORD, outlook, now)?;
    show("outlook retries a minute later", &retry);
    println!("  notification again: {}", retry.notification().is_some());

    // The portal lists the token; the user activates it.
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
        &login(Protocol::Outlook, PASSWORD, outlook, now + 1)?,
    );

    // IMAP takes only application passwords by default.
    let nothing = ClientInfo::new();
    show(
        "imap with the account password",
        &login(Protocol::Imap, PASSWORD, nothing, now)?,
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
        &login(Protocol::Imap, &password, nothing, now)?,
    );
    engine.revoke_app_password(&alice, info.id)?;
    show(
        "imap after the revoke",
        &login(Protocol::Imap, &password, nothing, now)?,
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
    let typed = format!("{PASSWORD}{}", totp.generate(now)?.as_str());
    let thunderbird = ClientInfo::new()
        .with_user_agent("Thunderbird 115.3.1")
        .with_remote_addr("203.0.113.7");
    show(
        "imap, password+code",
        &login(Protocol::Imap, &typed, thunderbird, now)?,
    );
    show(
        "same client, same string, 10 min later",
        &login(Protocol::Imap, &typed, thunderbird, now + 600)?,
    );
    // The client strings and the address are no secret: the password alone
    // never passes through a binding.
    show(
        "same client, password alone",
        &login(Protocol::Imap, PASSWORD, thunderbird, now + 600)?,
    );
    let other = ClientInfo::new()
        .with_user_agent("Thunderbird 115.3.1")
        .with_remote_addr("192.0.2.99");
    show(
        "same string from another network",
        &login(Protocol::Imap, &typed, other, now + 600)?,
    );
    Ok(())
}
