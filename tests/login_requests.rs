//! What a mail client's login request may carry and what the host may log
//! of it: client fields a client cannot honestly send are refused, credentials
//! never show in `Debug`, client text is tamed in notifications, and the audit
//! event names protocol and device but no secret, all through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::Error;
use mail2fa::engine::{
    ClientAnswer, ClientInfo, Credential, EngineConfig, MAX_CLIENT_FIELD, MAX_LOGIN_INPUT, Protocol,
};
use support::clients::*;
use support::engine::*;
use support::enroll;

// -------------------------------------------------------- client input checks

#[test]
fn client_fields_a_client_cannot_honestly_send_are_refused() {
    let engine = engine();
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let long = "x".repeat(MAX_CLIENT_FIELD + 1);
    let longest = "y".repeat(MAX_CLIENT_FIELD);
    let bad_clients = [
        outlook().with_user_agent("Outlook\u{7}16"),
        outlook().with_user_agent("Outlook\n16"),
        outlook().with_device_type("iPhone\u{0}"),
        outlook().with_device_id(long.as_str()),
        outlook().with_device_type(long.as_str()),
        outlook().with_user_agent(long.as_str()),
        outlook().with_remote_addr("mail.example.com"),
        outlook().with_remote_addr("203.0.113.7:443"),
        outlook().with_remote_addr("203.0.113.256"),
        outlook().with_remote_addr(""),
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
    let ok = ClientInfo::new()
        .with_device_id(longest.as_str())
        .with_device_type(longest.as_str())
        .with_user_agent(longest.as_str())
        .with_remote_addr(" 2001:db8::1 ");
    let (device, _) = pending(with_password(&engine, &id, Protocol::Outlook, ok, NOW));
    let token = only_device(&engine, &id, NOW);
    assert_eq!(token.id, device);
    assert_eq!(token.user_agent.as_deref(), Some(longest.as_str()));
    assert_eq!(token.remote_addr.as_deref(), Some("2001:db8::1"));
}

// -------------------------------------------------------------------- audit

#[test]
fn audit_events_name_protocol_and_device_but_no_secret() {
    let engine = engine_with(EngineConfig::default().with_portal_link(PORTAL.to_owned()));
    let id = account("alice@example.com");
    enroll(&engine, &id, NOW - 3_600);
    let (_, password) = engine.create_app_password(&id, "laptop", &[], NOW).unwrap();

    let decision = outlook_login(&engine, &id, NOW);
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
    let client = ClientInfo::new()
        .with_device_type("phone.\u{202e} URGENT: log in at https://evil.example/now <b>")
        .with_user_agent("Evil/1.0");
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
