//! `POST …/accounts/{account}/codes`: the panel asks for an e-mail or SMS
//! code; the service issues it, delivers it through the configured relay
//! or gateway (local sinks here) and answers where it went, never the code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sinks;
mod support;

use axum::http::{Method, StatusCode};
use mail2fa::config::Config;
use mail2fa::engine::{Engine, EngineConfig, Mode};
use mail2fa::store::{SqliteStore, Store};
use mail2fa_server::deliver::Delivery;
use mail2fa_server::{App, Clock};
use serde_json::json;
use sinks::*;
use support::*;

const PHONE: &str = "+41 79 123 45 67";

/// A service on its own SQLite file whose `[notifications]` holds `lines`.
fn service(test: &str, lines: &str) -> Service {
    let dir = std::env::temp_dir().join(format!("mail2fa-codes-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::create(dir.join("mail2fa.db")).unwrap();
    let engine = Engine::new(Box::new(store) as Box<dyn Store>, EngineConfig::default()).unwrap();
    let config = Config::parse(&config_text(&dir, lines), "test.toml").unwrap();
    let clock = Clock::fixed(NOW);
    let app = App::new(engine, [TOKEN], clock.clone())
        .with_delivery(Delivery::from_config(&config).unwrap());
    Service {
        router: app.router(),
        clock,
        dir,
    }
}

fn relay_lines(relay: std::net::SocketAddr) -> String {
    format!("smtp_relay = \"{relay}\"\nfrom = \"mail2fa@example.com\"\n")
}

/// Enrolls `ALICE` and gives her `contacts` and `mode`.
async fn alice(service: &Service, contacts: serde_json::Value, mode: &str) {
    service.platform_on().await;
    service.enroll(ALICE).await;
    service
        .put(&account_path(ALICE, "/contacts"), contacts)
        .await
        .expect(StatusCode::OK);
    service
        .put(&account_path(ALICE, "/mode"), json!({ "mode": mode }))
        .await
        .expect(StatusCode::OK);
}

async fn ask(service: &Service) -> Answer {
    service
        .call(Method::POST, &account_path(ALICE, "/codes"), None)
        .await
}

/// The digits the message gave as the code.
fn code_in(text: &str) -> String {
    let after = text.split_once(": ").unwrap().1;
    after.chars().take_while(char::is_ascii_digit).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_code_is_issued_and_delivered_and_the_answer_never_holds_it() {
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    let service = service("email", &relay_lines(relay));
    alice(
        &service,
        json!({"email": "alice.private@example.org"}),
        "email",
    )
    .await;

    let answer = ask(&service).await.expect(StatusCode::OK);
    let lifetime = EngineConfig::default().delivered_codes.lifetime;
    assert_eq!(
        answer.json,
        json!({"channel": "email", "expires_at": NOW + lifetime, "fallback": false})
    );
    let mail = mails.recv().await.unwrap();
    assert_eq!(mail.rcpt_to, ["<alice.private@example.org>"]);
    let code = code_in(mail.body());
    assert!(code.len() >= 6, "{}", mail.body());
    assert!(!answer.json.to_string().contains(&code));
    // The account shows the live code's expiry.
    let status = service
        .get(&account_path(ALICE, ""))
        .await
        .expect(StatusCode::OK);
    assert_eq!(status.json["code_expires_at"], NOW + lifetime);

    // Again at once: too soon, nothing sent.
    ask(&service)
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(mails.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sms_code_goes_by_email_when_the_gateway_fails_and_the_answer_says_so() {
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    let (gateway, mut posts) = http_sink(500, "").await;
    let lines = format!(
        "{}sms_gateway_url = \"http://{gateway}/send\"\n",
        relay_lines(relay)
    );
    let service = service("fallback", &lines);
    alice(
        &service,
        json!({"email": "alice.private@example.org", "phone": PHONE}),
        "sms",
    )
    .await;

    let answer = ask(&service).await.expect(StatusCode::OK);
    assert_eq!(answer.json["channel"], "email");
    assert_eq!(answer.json["fallback"], true);
    let posted = posts.recv().await.unwrap();
    assert_eq!(posted.json()["to"], PHONE);
    let mail = mails.recv().await.unwrap();
    assert_eq!(mail.rcpt_to, ["<alice.private@example.org>"]);
    // The same code both ways.
    assert_eq!(
        code_in(mail.body()),
        code_in(posted.json()["text"].as_str().unwrap())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sms_code_through_a_working_gateway_is_an_sms() {
    let (gateway, mut posts) = http_sink(200, "").await;
    let service = service(
        "sms",
        &format!("sms_gateway_url = \"http://{gateway}/send\"\n"),
    );
    alice(&service, json!({"phone": PHONE}), "sms").await;
    let answer = ask(&service).await.expect(StatusCode::OK);
    assert_eq!(answer.json["channel"], "sms");
    assert_eq!(answer.json["fallback"], false);
    assert_eq!(posts.recv().await.unwrap().json()["to"], PHONE);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusing_relay_is_502_delivery_failed() {
    let (relay, _) = smtp_sink(SmtpMode::RefuseRecipients).await;
    let service = service("refused", &relay_lines(relay));
    alice(
        &service,
        json!({"email": "alice.private@example.org"}),
        "email",
    )
    .await;
    let answer = ask(&service)
        .await
        .error(StatusCode::BAD_GATEWAY, "delivery_failed");
    let message = answer.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("refused"), "{message}");
    assert!(message.contains("550"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_relay_configured_is_502_delivery_failed_naming_the_setting() {
    let service = service("no-relay", "");
    alice(
        &service,
        json!({"email": "alice.private@example.org"}),
        "email",
    )
    .await;
    let answer = ask(&service)
        .await
        .error(StatusCode::BAD_GATEWAY, "delivery_failed");
    let message = answer.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("notifications.smtp_relay"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_route_needs_a_token_and_a_reachable_account() {
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    let service = service("refusals", &relay_lines(relay));
    let path = account_path(ALICE, "/codes");
    service
        .send(Method::POST, &path, None, None)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    service
        .send(
            Method::POST,
            &path,
            Some("not-the-token-0123456789abcdef0123456789"),
            None,
        )
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    // A name outside the alphabet.
    service
        .call(Method::POST, &account_path("al%20ice", "/codes"), None)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    service
        .call(Method::GET, &path, None)
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    // No 2FA yet.
    service.platform_on().await;
    ask(&service)
        .await
        .error(StatusCode::NOT_FOUND, "not_enrolled");
    // TOTP: no code to send.
    service.enroll(ALICE).await;
    ask(&service)
        .await
        .error(StatusCode::CONFLICT, "no_contact");
    assert!(mails.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_from_its_configuration_delivers_by_its_notifications_section() {
    use std::os::unix::fs::PermissionsExt;

    let dir = std::env::temp_dir().join(format!("mail2fa-codes-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    drop(SqliteStore::create(dir.join("mail2fa.db")).unwrap());
    let tokens = dir.join("api-tokens");
    std::fs::write(&tokens, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = |notifications: &str| {
        config_text(&dir, notifications).replace(
            "[notifications]",
            &format!(
                "[server]\napi_token_file = {:?}\n[notifications]",
                tokens.display().to_string()
            ),
        )
    };

    // A relay without a sender: the service does not start.
    let config = Config::parse(&text("smtp_relay = \"127.0.0.1:25\"\n"), "t.toml").unwrap();
    let error = App::from_config(&config).err().unwrap();
    assert!(
        matches!(error, mail2fa_server::StartError::Delivery(_)),
        "{error:?}"
    );
    assert!(error.to_string().contains("notifications.from"), "{error}");

    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    let config = Config::parse(&text(&relay_lines(relay)), "t.toml").unwrap();
    let app = App::from_config(&config).unwrap();
    let service = Service {
        router: app.router(),
        clock: Clock::System,
        dir,
    };
    // The service reads the system clock: Alice is enrolled at its time.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let engine = service.mail_server();
    engine.enable_platform(PLATFORM, true).unwrap();
    let app = authenticator(&engine.enable_account(&id(ALICE), now).unwrap());
    let code = app.generate(now).unwrap();
    engine
        .confirm_enrollment(&id(ALICE), code.as_str(), now)
        .unwrap();
    engine
        .set_contact(&id(ALICE), Some("alice.private@example.org"), None)
        .unwrap();
    engine.set_mode(&id(ALICE), Mode::Email).unwrap();
    ask(&service).await.expect(StatusCode::OK);
    let mail = mails.recv().await.unwrap();
    assert_eq!(mail.rcpt_to, ["<alice.private@example.org>"]);
}
