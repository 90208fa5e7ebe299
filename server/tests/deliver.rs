//! Delivery against local sinks: e-mail codes and notifications through an
//! SMTP sink, SMS through an HTTP sink; fallback, refusals, timeouts and
//! injection attempts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sinks;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use mail2fa::config::Config;
use mail2fa::engine::{
    AccountId, ClientInfo, Credential, Engine, EngineConfig, IssuedCode, LoginRequest, Mode,
    Protocol,
};
use mail2fa::store::MemoryStore;
use mail2fa::{KeyUri, Totp};
use mail2fa_server::deliver::{Delivery, DeliveryError, SetupError, Used};
use sinks::*;

const NOW: u64 = 1_800_000_000;
const PHONE: &str = "+41 79 123 45 67";
const GATEWAY_TOKEN: &str = "gw-bearer-token-0123456789";

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mail2fa-deliver-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Delivery from a configuration whose `[notifications]` holds `lines`.
fn delivery(dir: &std::path::Path, lines: &str) -> Delivery {
    let config = Config::parse(&config_text(dir, lines), "test.toml").unwrap();
    Delivery::from_config(&config).unwrap()
}

fn relay_lines(relay: std::net::SocketAddr) -> String {
    format!("smtp_relay = \"{relay}\"\nfrom = \"mail2fa@example.com\"\ntimeout_seconds = 5\n")
}

/// A token file, mode 0600, holding `token`.
fn token_file(dir: &std::path::Path, token: &str) -> PathBuf {
    let file = dir.join("sms-token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    file
}

fn gateway_lines(gateway: std::net::SocketAddr, token: &std::path::Path) -> String {
    format!(
        "sms_gateway_url = \"http://{gateway}/send?key=query-secret\"\n\
         sms_gateway_token_file = {:?}\n",
        token.display().to_string()
    )
}

/// An engine with `alice@example.com` enrolled, in `mode`, with
/// `email` and `phone`.
fn engine_with(
    mode: Mode,
    email: Option<&str>,
    phone: Option<&str>,
) -> (Engine<MemoryStore>, AccountId) {
    let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
    let id = AccountId::new("example.com", "alice@example.com").unwrap();
    engine.enable_platform("example.com", true).unwrap();
    let uri = engine.enable_account(&id, NOW - 3_600).unwrap();
    let key = KeyUri::parse(&uri).unwrap();
    let app = Totp::new(key.secret(), key.totp_config().unwrap());
    let code = app.generate(NOW - 3_600).unwrap();
    engine
        .confirm_enrollment(&id, code.as_str(), NOW - 3_600)
        .unwrap();
    engine.set_contact(&id, email, phone).unwrap();
    engine.set_mode(&id, mode).unwrap();
    (engine, id)
}

fn issue(engine: &Engine<MemoryStore>, id: &AccountId) -> IssuedCode {
    engine.issue_code(id, NOW).unwrap()
}

#[tokio::test]
async fn an_email_code_arrives_with_proper_headers_and_the_code_in_the_body() {
    let dir = scratch("email-code");
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    let delivery = delivery(&dir, &relay_lines(relay));
    let (engine, id) = engine_with(Mode::Email, Some("alice.private@example.org"), None);
    let issued = issue(&engine, &id);

    let delivered = delivery.code(&id, &issued, None).await.unwrap();
    assert_eq!(
        (delivered.channel, delivered.fallback),
        (Used::Email, false)
    );
    assert!(delivered.sms_failure.is_none());

    let mail = mails.recv().await.unwrap();
    assert_eq!(mail.mail_from, "<mail2fa@example.com>");
    assert_eq!(mail.rcpt_to, ["<alice.private@example.org>"]);
    assert_eq!(mail.header("From").unwrap(), "mail2fa@example.com");
    assert_eq!(mail.header("To").unwrap(), "alice.private@example.org");
    assert_eq!(
        mail.header("Subject").unwrap(),
        "Your login code for alice@example.com"
    );
    let date = mail.header("Date").unwrap();
    assert!(date.ends_with("+0000"), "{date}");
    let id_header = mail.header("Message-ID").unwrap();
    assert!(id_header.starts_with('<') && id_header.ends_with('>') && id_header.contains('@'));
    assert_eq!(
        mail.header("Content-Type").unwrap().to_ascii_lowercase(),
        "text/plain; charset=utf-8"
    );
    assert!(
        mail.body().contains(issued.code.as_str()),
        "{}",
        mail.body()
    );
    let until = mail2fa::engine::format_utc(issued.expires_at);
    assert!(mail.body().contains(&until), "{}", mail.body());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_sms_code_is_posted_to_the_gateway_with_the_bearer_token() {
    let dir = scratch("sms-code");
    let (gateway, mut posts) = http_sink(200, "{\"id\": 1}").await;
    let token = token_file(&dir, GATEWAY_TOKEN);
    let delivery = delivery(&dir, &gateway_lines(gateway, &token));
    let (engine, id) = engine_with(Mode::Sms, None, Some(PHONE));
    let issued = issue(&engine, &id);

    let delivered = delivery.code(&id, &issued, None).await.unwrap();
    assert_eq!((delivered.channel, delivered.fallback), (Used::Sms, false));

    let posted = posts.recv().await.unwrap();
    assert_eq!(posted.request_line, "POST /send?key=query-secret HTTP/1.1");
    assert_eq!(
        posted.header("authorization"),
        Some(format!("Bearer {GATEWAY_TOKEN}").as_str())
    );
    assert_eq!(posted.header("content-type"), Some("application/json"));
    let json = posted.json();
    assert_eq!(json["to"], PHONE);
    let text = json["text"].as_str().unwrap();
    assert!(text.contains(issued.code.as_str()), "{text}");
    assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_gateway_without_a_token_file_gets_no_authorization() {
    let dir = scratch("sms-no-token");
    let (gateway, mut posts) = http_sink(202, "").await;
    let delivery = delivery(
        &dir,
        &format!("sms_gateway_url = \"http://{gateway}/sms\"\n"),
    );
    delivery.sms(PHONE, "hello").await.unwrap();
    let posted = posts.recv().await.unwrap();
    assert_eq!(posted.request_line, "POST /sms HTTP/1.1");
    assert_eq!(posted.header("authorization"), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_gateway_answering_500_makes_the_code_go_by_email_and_says_so() {
    let dir = scratch("fallback");
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    // A gateway that echoes what it was sent: its body never reaches a
    // message.
    let (gateway, mut posts) = http_sink(500, "failed to send: Your code for").await;
    let token = token_file(&dir, GATEWAY_TOKEN);
    let delivery = delivery(
        &dir,
        &format!("{}{}", relay_lines(relay), gateway_lines(gateway, &token)),
    );
    let (engine, id) = engine_with(Mode::Sms, Some("alice.private@example.org"), Some(PHONE));
    let issued = issue(&engine, &id);

    let delivered = delivery
        .code(&id, &issued, Some("alice.private@example.org"))
        .await
        .unwrap();
    assert_eq!((delivered.channel, delivered.fallback), (Used::Email, true));
    let failure = delivered.sms_failure.unwrap().to_string();
    assert!(failure.contains("answered 500"), "{failure}");
    assert!(failure.contains(&format!("http://{gateway}")), "{failure}");
    assert!(!failure.contains("query-secret"), "{failure}");
    assert!(!failure.contains("failed to send"), "{failure}");
    assert!(!failure.contains(issued.code.as_str()), "{failure}");
    posts.recv().await.unwrap();
    let mail = mails.recv().await.unwrap();
    assert_eq!(mail.rcpt_to, ["<alice.private@example.org>"]);
    assert!(mail.body().contains(issued.code.as_str()));

    // No address to fall back to: the SMS's failure, without the code.
    let error = delivery.code(&id, &issued, None).await.unwrap_err();
    assert!(
        matches!(error, DeliveryError::GatewayStatus { .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains(issued.code.as_str()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn no_gateway_configured_falls_back_too_and_both_failures_are_named() {
    let dir = scratch("no-gateway");
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    let delivery = delivery(&dir, &relay_lines(relay));
    let (engine, id) = engine_with(Mode::Sms, Some("alice.private@example.org"), Some(PHONE));
    let issued = issue(&engine, &id);
    let delivered = delivery
        .code(&id, &issued, Some("alice.private@example.org"))
        .await
        .unwrap();
    assert_eq!((delivered.channel, delivered.fallback), (Used::Email, true));
    assert!(matches!(
        delivered.sms_failure,
        Some(DeliveryError::NoGateway)
    ));
    mails.recv().await.unwrap();

    // Neither works: both reasons.
    let (refusing, _) = smtp_sink(SmtpMode::RefuseRecipients).await;
    let delivery = self::delivery(&dir, &relay_lines(refusing));
    let error = delivery
        .code(&id, &issued, Some("alice.private@example.org"))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no SMS gateway is configured"), "{error}");
    assert!(error.contains("550"), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn no_relay_configured_is_a_clear_error() {
    let dir = scratch("no-relay");
    let delivery = delivery(&dir, "");
    let error = delivery
        .email("alice@example.com", "Hello", "text")
        .await
        .unwrap_err();
    assert!(matches!(error, DeliveryError::NoRelay), "{error:?}");
    assert!(error.to_string().contains("notifications.smtp_relay"));
    let error = delivery.sms(PHONE, "text").await.unwrap_err();
    assert!(error.to_string().contains("notifications.sms_gateway_url"));
    assert!(matches!(
        Delivery::default().email("a@example.com", "s", "t").await,
        Err(DeliveryError::NoRelay)
    ));

    // A relay without a sender stops the service at start-up.
    let config = Config::parse(
        &config_text(&dir, "smtp_relay = \"127.0.0.1:25\"\n"),
        "test.toml",
    )
    .unwrap();
    let error = Delivery::from_config(&config).err().unwrap();
    assert!(matches!(error, SetupError::NoSender), "{error:?}");
    assert!(error.to_string().contains("notifications.from"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_refusing_relay_is_reported_without_the_code() {
    let dir = scratch("refused");
    let (relay, _) = smtp_sink(SmtpMode::RefuseRecipients).await;
    let delivery = delivery(&dir, &relay_lines(relay));
    let (engine, id) = engine_with(Mode::Email, Some("alice.private@example.org"), None);
    let issued = issue(&engine, &id);
    let error = delivery.code(&id, &issued, None).await.unwrap_err();
    assert!(
        matches!(error, DeliveryError::RelayRefused { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&relay.to_string()), "{message}");
    assert!(message.contains("550"), "{message}");
    assert!(message.contains("relay access denied"), "{message}");
    assert!(!message.contains(issued.code.as_str()), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unreachable_relay_and_a_silent_one_are_reported() {
    let dir = scratch("unreachable");
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let error = delivery(&dir, &relay_lines(closed))
        .email("alice@example.com", "Hello", "text")
        .await
        .unwrap_err();
    assert!(
        matches!(error, DeliveryError::RelayFailed { .. }),
        "{error:?}"
    );

    let (silent, _) = smtp_sink(SmtpMode::Silent).await;
    let lines =
        format!("smtp_relay = \"{silent}\"\nfrom = \"mail2fa@example.com\"\ntimeout_seconds = 1\n");
    let error = delivery(&dir, &lines)
        .email("alice@example.com", "Hello", "text")
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, DeliveryError::Timeout { seconds: 1, .. }),
        "{error:?}"
    );
    assert!(message.contains(&silent.to_string()), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_silent_gateway_times_out() {
    let dir = scratch("gateway-timeout");
    // An SMTP sink in silent mode is a TCP server that never answers.
    let (silent, _) = smtp_sink(SmtpMode::Silent).await;
    let delivery = delivery(
        &dir,
        &format!("sms_gateway_url = \"http://{silent}/send\"\ntimeout_seconds = 1\n"),
    );
    let error = delivery.sms(PHONE, "text").await.unwrap_err();
    assert!(
        matches!(error, DeliveryError::Timeout { seconds: 1, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("did not answer within 1 s"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn line_breaks_in_subjects_texts_and_addresses_add_no_header() {
    let dir = scratch("injection");
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    let delivery = delivery(&dir, &relay_lines(relay));

    let subject = "New device\r\nBcc: evil@example.net\r\nX-Injected: yes";
    let text = "line one\r\n.\r\nMAIL FROM:<evil@example.net>\r\n\r\nX-After: body\nlast";
    delivery
        .email("alice@example.com", subject, text)
        .await
        .unwrap();
    let mail = mails.recv().await.unwrap();
    let names: Vec<String> = mail
        .header_names()
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    assert!(!names.contains(&"bcc".to_owned()), "{}", mail.data);
    assert!(!names.contains(&"x-injected".to_owned()), "{}", mail.data);
    assert_eq!(mail.rcpt_to, ["<alice@example.com>"]);
    // The line breaks became spaces: the subject stays readable text.
    assert_eq!(
        mail.header("Subject").unwrap(),
        "New device  Bcc: evil@example.net  X-Injected: yes"
    );
    // The lone dot did not end the message: the whole text arrived.
    assert!(
        mail.body().contains("MAIL FROM:<evil@example.net>"),
        "{}",
        mail.data
    );
    assert!(mail.body().contains("last"), "{}", mail.data);
    // One message, one recipient: nothing else was sent.
    assert!(mails.try_recv().is_err());

    // An address with a line break is no address.
    let error = delivery
        .email("alice@example.com\r\nBcc: evil@example.net", "Hi", "text")
        .await
        .unwrap_err();
    assert!(
        matches!(error, DeliveryError::BadDestination(_)),
        "{error:?}"
    );

    // The gateway gets JSON: quotes and line breaks stay inside the strings.
    let (gateway, mut posts) = http_sink(200, "").await;
    let delivery = self::delivery(
        &dir,
        &format!("sms_gateway_url = \"http://{gateway}/send\"\n"),
    );
    let to = "+41790000000\r\nX-Evil: 1";
    let text = "a\"}, \"to\": \"+1999\r\nX-Evil: 2";
    delivery.sms(to, text).await.unwrap();
    let posted = posts.recv().await.unwrap();
    assert!(posted.header("x-evil").is_none(), "{posted:?}");
    let json = posted.json();
    assert_eq!(json["to"], to);
    assert_eq!(json["text"], text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_blocked_device_notification_goes_by_email() {
    let dir = scratch("notification");
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    let delivery = delivery(&dir, &relay_lines(relay));
    let (engine, id) = engine_with(Mode::Totp, Some("alice.private@example.org"), None);
    let client = ClientInfo::new()
        .with_device_id("ApplF17XK2QJHG7F")
        .with_device_type("iPhone");
    let request = LoginRequest::new(Protocol::ActiveSync, Credential::Password { correct: true })
        .with_client(client);
    let decision = engine.authenticate(&id, &request, NOW).unwrap();
    let notification = decision.notification().cloned().expect("a notification");

    let used = delivery.notification(&notification).await.unwrap();
    assert_eq!(used, Used::Email);
    let mail = mails.recv().await.unwrap();
    assert_eq!(mail.rcpt_to, ["<alice.private@example.org>"]);
    assert_eq!(mail.header("Subject").unwrap(), notification.subject);
    assert!(mail.body().contains("activesync"), "{}", mail.body());
    assert!(mail.body().contains("iPhone"), "{}", mail.body());
    assert!(mail.header("Date").is_some() && mail.header("Message-ID").is_some());

    // With a phone number: its text by SMS.
    let (gateway, mut posts) = http_sink(200, "").await;
    let delivery = self::delivery(
        &dir,
        &format!("sms_gateway_url = \"http://{gateway}/send\"\n"),
    );
    let (engine, id) = engine_with(Mode::Totp, None, Some(PHONE));
    let decision = engine.authenticate(&id, &request, NOW).unwrap();
    let notification = decision.notification().cloned().expect("a notification");
    assert_eq!(
        delivery.notification(&notification).await.unwrap(),
        Used::Sms
    );
    let json = posts.recv().await.unwrap().json();
    assert_eq!(json["to"], PHONE);
    assert_eq!(json["text"], notification.text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_https_gateway_is_spoken_to_in_tls_only() {
    let dir = scratch("https");
    let (gateway, mut posts) = http_sink(200, "").await;
    let config = Config::parse(
        &config_text(
            &dir,
            &format!("sms_gateway_url = \"https://{gateway}/send\"\n"),
        ),
        "test.toml",
    )
    .unwrap();
    match Delivery::from_config(&config) {
        Ok(delivery) => {
            // A server that does not speak TLS: no request reaches it in
            // plain text.
            let error = delivery.sms(PHONE, "text").await.unwrap_err();
            assert!(
                matches!(error, DeliveryError::GatewayFailed { .. }),
                "{error:?}"
            );
            assert!(posts.try_recv().is_err());
        }
        // A machine without CA certificates: a clear start-up error.
        Err(error) => {
            assert!(matches!(error, SetupError::Tls { .. }), "{error:?}");
            assert!(error.to_string().contains("ca-certificates"), "{error}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// This machine's address on its default route, if it has one.
fn own_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // Connecting a UDP socket sends nothing; it only picks the route.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn a_remote_relay_must_speak_starttls_and_a_loopback_one_is_not_asked() {
    let dir = scratch("starttls");
    // On the loopback address: plain, though STARTTLS is offered.
    let (local, mut mails) = smtp_sink(SmtpMode::OfferStartTls).await;
    delivery(&dir, &relay_lines(local))
        .email("alice@example.com", "Hello", "text")
        .await
        .unwrap();
    let mail = mails.recv().await.unwrap();
    assert!(!mail.starttls);
    assert!(mail.body().contains("text"));

    let Some(ip) = own_address() else {
        assert!(
            std::env::var("MAIL2FA_REQUIRE_E2E").as_deref() != Ok("1"),
            "no address but the loopback one to reach a remote relay on"
        );
        println!("SKIPPED: needs an address besides the loopback one");
        return;
    };
    // On another address: STARTTLS asked for; refused, so nothing is sent
    // in plain text.
    let (remote, mut mails) = smtp_sink_on(&ip.to_string(), SmtpMode::OfferStartTls).await;
    let relay = std::net::SocketAddr::new(ip, remote.port());
    let error = delivery(&dir, &relay_lines(relay))
        .email("alice@example.com", "Hello", "text")
        .await
        .unwrap_err();
    assert!(mails.recv().await.unwrap().starttls);
    assert!(
        matches!(error, DeliveryError::RelayRefused { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("454"), "{error}");
    assert!(mails.try_recv().is_err());
    // A remote relay that does not offer STARTTLS (or an attacker who
    // strips it): nothing is sent in plain text either.
    let (bare, mut mails) = smtp_sink_on(&ip.to_string(), SmtpMode::Accept).await;
    let relay = std::net::SocketAddr::new(ip, bare.port());
    let refused = delivery(&dir, &relay_lines(relay))
        .email("alice@example.com", "Hello", "text")
        .await;
    assert!(refused.is_err(), "sent without TLS");
    assert!(mails.try_recv().is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
