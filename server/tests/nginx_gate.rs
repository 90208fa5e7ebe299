//! The endpoints for nginx, driven in-process as nginx calls them: the
//! secret, ActiveSync and EWS device tokens through `auth_request`, IMAP,
//! POP3 and SMTP through `auth_http`, and failing closed. (The real nginx
//! in front of them: tests/nginx/e2e.py.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use mail2fa::Totp;
use mail2fa::engine::{AccountId, DeviceState, Engine, EngineConfig, Protocol, ProtocolPolicy};
use mail2fa::store::{SqliteStore, Store};
use mail2fa_server::nginx::Gate;
use mail2fa_server::try_out::PasswordTable;
use mail2fa_server::{App, CheckFuture, Clock, PasswordVerifier};
use tower::ServiceExt;

mod sinks;

const NOW: u64 = 1_800_000_000;
const SECRET: &str = "nginx-secret-0123456789abcdef0123456789";
const PLATFORM: &str = "example.com";
const ALICE: &str = "alice@example.com";
const PASSWORD: &str = "Alice-Secret-1";
const IPHONE: &str = "Apple-iPhone14C2/2006.45";
const OUTLOOK: &str = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";

struct Gated {
    router: Router,
    engine: Engine<SqliteStore>,
    alice: AccountId,
    phone: Totp,
    dir: std::path::PathBuf,
}

impl Drop for Gated {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn gate() -> Gate {
    Gate::default()
        .with_secret(SECRET)
        .with_realm("Example Mail")
        .with_backends(
            Some("127.0.0.1:10143".parse().unwrap()),
            None,
            Some("127.0.0.1:10587".parse().unwrap()),
        )
        .with_master("mail2fa-proxy", "Master-Pass-1")
}

fn service(test: &str, verifier: impl PasswordVerifier, gate: Gate) -> Gated {
    service_delivering(test, verifier, gate, None)
}

/// With `notifications`: `[notifications]` lines for the service's delivery.
fn service_delivering(
    test: &str,
    verifier: impl PasswordVerifier,
    gate: Gate,
    notifications: Option<&str>,
) -> Gated {
    let dir = std::env::temp_dir().join(format!("m2fa-gate-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::create(dir.join("mail2fa.db")).unwrap();
    let engine = Engine::new(Box::new(store) as Box<dyn Store>, EngineConfig::default()).unwrap();
    let mut app = App::new(engine, [], Clock::fixed(NOW))
        .with_password_verifier(verifier)
        .with_trusted_proxies(["127.0.0.1"])
        .with_gate(gate);
    if let Some(lines) = notifications {
        let text = sinks::config_text(&dir, lines);
        let config = mail2fa::config::Config::parse(&text, "test.toml").unwrap();
        app = app.with_delivery(mail2fa_server::deliver::Delivery::from_config(&config).unwrap());
    }
    let engine = Engine::new(
        SqliteStore::open(dir.join("mail2fa.db")).unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    let alice = AccountId::new(PLATFORM, ALICE).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let phone = Totp::from_uri(&engine.enable_account(&alice, NOW - 120).unwrap()).unwrap();
    engine
        .confirm_enrollment(
            &alice,
            phone.generate(NOW - 120).unwrap().as_str(),
            NOW - 120,
        )
        .unwrap();
    Gated {
        router: app.router(),
        engine,
        alice,
        phone,
        dir,
    }
}

fn passwords() -> PasswordTable {
    PasswordTable::new([(ALICE, PASSWORD)])
}

/// Every password check fails (the directory is down).
struct Down;

impl PasswordVerifier for Down {
    fn verify<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: Option<std::net::IpAddr>,
    ) -> CheckFuture<'a> {
        Box::pin(async { Err("the directory does not answer".to_owned()) })
    }
}

fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn send(router: &Router, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).unwrap();
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = router.clone().oneshot(request).await.unwrap();
    (response.status(), response.headers().clone())
}

/// `auth_request` as nginx sends it: the secret, the original URI and
/// method, the client's headers.
async fn http(
    gated: &Gated,
    uri: &str,
    method: &str,
    auth: Option<&str>,
    agent: &str,
) -> (StatusCode, HeaderMap) {
    let mut headers = vec![
        ("x-mail2fa-secret", SECRET),
        ("x-original-uri", uri),
        ("x-original-method", method),
        ("user-agent", agent),
        ("x-forwarded-for", "203.0.113.7"),
    ];
    if let Some(auth) = auth {
        headers.push(("authorization", auth));
    }
    send(&gated.router, "/nginx/auth-request", &headers).await
}

const SYNC: &str = "/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice%40example.com&DeviceId=ApplF17XK2QH&DeviceType=iPhone";

fn devices(gated: &Gated) -> Vec<DeviceState> {
    gated
        .engine
        .devices(&gated.alice, NOW)
        .unwrap()
        .into_iter()
        .map(|d| d.state)
        .collect()
}

#[tokio::test]
async fn without_the_secret_both_endpoints_refuse() {
    let gated = service("secret", passwords(), gate());
    let right = basic(ALICE, PASSWORD);
    for secret in [None, Some("wrong-secret-0123456789abcdef0123456789")] {
        let mut headers = vec![
            ("x-original-uri", SYNC),
            ("authorization", right.as_str()),
            ("auth-method", "plain"),
            ("auth-user", ALICE),
            ("auth-pass", PASSWORD),
            ("auth-protocol", "smtp"),
        ];
        if let Some(secret) = secret {
            headers.push(("x-mail2fa-secret", secret));
        }
        for path in ["/nginx/auth-request", "/nginx/auth-http"] {
            let (status, _) = send(&gated.router, path, &headers).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {secret:?}");
        }
    }
    // A gate without a secret configured refuses even a request with one.
    let open = service("nosecret", passwords(), Gate::default());
    let (status, _) = http(&open, SYNC, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(devices(&open).is_empty());
}

#[tokio::test]
async fn an_activesync_device_is_blocked_until_authorized() {
    let gated = service("activesync", passwords(), gate());
    // No credentials, a wrong password: the Basic challenge, nothing recorded.
    let (status, headers) = http(&gated, SYNC, "POST", None, IPHONE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers["www-authenticate"],
        "Basic realm=\"Example Mail\", charset=\"UTF-8\""
    );
    let wrong = basic(ALICE, "not-the-password");
    let (status, headers) = http(&gated, SYNC, "POST", Some(&wrong), IPHONE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.contains_key("www-authenticate"));
    assert!(devices(&gated).is_empty());

    // The right password from the new phone: 403, one INACTIVE token.
    let right = basic(ALICE, PASSWORD);
    let (status, headers) = http(&gated, SYNC, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!headers.contains_key("x-mail2fa-account"));
    assert_eq!(devices(&gated), [DeviceState::Inactive]);
    let (status, _) = http(&gated, SYNC, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(devices(&gated), [DeviceState::Inactive]);

    // Authorized: through, naming the mailbox for the upstream.
    let device = gated.engine.devices(&gated.alice, NOW).unwrap()[0].id;
    gated
        .engine
        .activate_device(&gated.alice, &device, NOW)
        .unwrap();
    let (status, headers) = http(&gated, SYNC, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-mail2fa-account"], ALICE);
    // The user name in any case.
    let shouted = basic("Alice@Example.COM", PASSWORD);
    let (status, _) = http(&gated, SYNC, "POST", Some(&shouted), IPHONE).await;
    assert_eq!(status, StatusCode::OK);

    // The same phone in the base64 query form: the same device.
    let mut bytes = vec![161u8, 0, 0x09, 0x04, 12];
    bytes.extend(b"ApplF17XK2QH");
    bytes.extend([0, 6]);
    bytes.extend(b"iPhone");
    bytes.extend([8, 17]);
    bytes.extend(b"alice@example.com");
    let encoded = format!(
        "/Microsoft-Server-ActiveSync?{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    let (status, _) = http(&gated, &encoded, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::OK);
    // Its password wrong: the challenge, even from the authorized device.
    let (status, _) = http(&gated, &encoded, "POST", Some(&wrong), IPHONE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Deactivated: blocked again; deleted: a new INACTIVE token.
    gated
        .engine
        .deactivate_device(&gated.alice, &device, NOW)
        .unwrap();
    let (status, _) = http(&gated, SYNC, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    gated
        .engine
        .delete_device(&gated.alice, &device, NOW)
        .unwrap();
    let (status, _) = http(&gated, SYNC, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The same phone makes the same token again: INACTIVE, not active.
    assert_eq!(devices(&gated), [DeviceState::Inactive]);
}

#[tokio::test]
async fn activesync_requests_no_client_sends_are_refused() {
    let gated = service("odd", passwords(), gate());
    let right = basic(ALICE, PASSWORD);
    let wrong = basic(ALICE, "nope");
    for (uri, method, expected) in [
        // Another mailbox's user in the query.
        (
            "/Microsoft-Server-ActiveSync?Cmd=Sync&User=bob&DeviceId=X1&DeviceType=iPhone",
            "POST",
            StatusCode::FORBIDDEN,
        ),
        // A command without a device id.
        (
            "/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice",
            "POST",
            StatusCode::FORBIDDEN,
        ),
        // Not base64, not pairs.
        (
            "/Microsoft-Server-ActiveSync?%%%",
            "POST",
            StatusCode::FORBIDDEN,
        ),
        // Not a path of a mail protocol.
        ("/owa/", "GET", StatusCode::FORBIDDEN),
        // The version probe: the password is enough (no device, no mail).
        ("/Microsoft-Server-ActiveSync", "OPTIONS", StatusCode::OK),
        ("/Autodiscover/Autodiscover.xml", "POST", StatusCode::OK),
    ] {
        let (status, _) = http(&gated, uri, method, Some(&right), IPHONE).await;
        assert_eq!(status, expected, "{method} {uri}");
    }
    // Paths nginx and the upstream could read differently: refused, even
    // where a plain reading would make a probe of them.
    for crooked in [
        "/autodiscover/../Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=NEW1&DeviceType=iPhone",
        "/Autodiscover/%2e%2e/EWS/Exchange.asmx",
        "/EWS/../rpc/rpcproxy.dll",
        "/Autodiscover/Autodiscover.xml?@example.org/mapi/",
    ] {
        for method in ["POST", "OPTIONS"] {
            let (status, _) = http(&gated, crooked, method, Some(&right), IPHONE).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {crooked}");
        }
    }
    // A field twice in the query: refused.
    let twice =
        "/Microsoft-Server-ActiveSync?Cmd=Sync&User=bob&user=alice&DeviceId=X2&DeviceType=iPhone";
    let (status, _) = http(&gated, twice, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The probe with a wrong password: the challenge.
    let (status, _) = http(
        &gated,
        "/Microsoft-Server-ActiveSync",
        "OPTIONS",
        Some(&wrong),
        IPHONE,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // None of it made a device token.
    assert!(devices(&gated).is_empty());
}

#[tokio::test]
async fn outlook_takes_an_application_password_and_blocks_a_new_device() {
    let gated = service("ews", passwords(), gate());
    let (_, app_password) = gated
        .engine
        .create_app_password(&gated.alice, "laptop", &[Protocol::Outlook], NOW)
        .unwrap();
    let ews = "/EWS/Exchange.asmx";
    let right = basic(ALICE, PASSWORD);
    let (status, _) = http(&gated, ews, "POST", Some(&right), OUTLOOK).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(devices(&gated), [DeviceState::Inactive]);
    let app = basic(ALICE, &app_password);
    let (status, headers) = http(&gated, ews, "POST", Some(&app), OUTLOOK).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-mail2fa-account"], ALICE);
    let (status, _) = http(
        &gated,
        "/mapi/emsmdb/?MailboxId=x",
        "POST",
        Some(&app),
        OUTLOOK,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The application password is for Outlook only: not ActiveSync.
    let (status, _) = http(&gated, SYNC, "POST", Some(&app), IPHONE).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Where Outlook must give a code, the password alone gets the same
    // challenge as a wrong one (no hint that it was right).
    gated
        .engine
        .set_account_policy(
            &gated.alice,
            &Protocol::Outlook,
            Some(ProtocolPolicy::CodeInLogin),
        )
        .unwrap();
    let (status, headers) = http(&gated, ews, "POST", Some(&right), OUTLOOK).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.contains_key("www-authenticate"));
    // Where the account's policy refuses Outlook, it is refused.
    gated
        .engine
        .set_account_policy(
            &gated.alice,
            &Protocol::Outlook,
            Some(ProtocolPolicy::Refused),
        )
        .unwrap();
    let (status, _) = http(&gated, ews, "POST", Some(&app), OUTLOOK).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// `auth_http` as nginx's mail proxy sends it.
async fn mail(
    gated: &Gated,
    protocol: &str,
    method: &str,
    user: &str,
    pass: &str,
    attempt: &str,
) -> HeaderMap {
    let (status, headers) = send(
        &gated.router,
        "/nginx/auth-http",
        &[
            ("x-mail2fa-secret", SECRET),
            ("auth-method", method),
            ("auth-user", user),
            ("auth-pass", pass),
            ("auth-protocol", protocol),
            ("auth-login-attempt", attempt),
            ("client-ip", "198.51.100.9"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    headers
}

fn status(headers: &HeaderMap) -> &str {
    headers["auth-status"].to_str().unwrap()
}

#[tokio::test]
async fn the_mail_proxy_gets_the_engines_decision_and_the_backend() {
    let gated = service("mail", passwords(), gate());
    gated
        .engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let code = gated.phone.generate(NOW).unwrap();
    let typed = format!("{PASSWORD}{}", code.as_str());
    // nginx escapes the user and the password.
    let escaped_user = ALICE.replace('@', "%40");
    let ok = mail(&gated, "imap", "plain", &escaped_user, &typed, "1").await;
    assert_eq!(status(&ok), "OK");
    assert_eq!(ok["auth-server"], "127.0.0.1");
    assert_eq!(ok["auth-port"], "10143");
    assert_eq!(ok["auth-user"], "alice@example.com*mail2fa-proxy");
    assert_eq!(ok["auth-pass"], "Master-Pass-1");
    // The same string again: a replay, refused with a wait.
    let again = mail(&gated, "imap", "login", ALICE, &typed, "2").await;
    assert_eq!(status(&again), "Invalid login or password");
    assert_eq!(again["auth-wait"], "3");
    assert!(!again.contains_key("auth-server"));
    assert!(!again.contains_key("auth-error-code"));
    // The password alone where IMAP takes a code: refused.
    let alone = mail(&gated, "imap", "plain", ALICE, PASSWORD, "1").await;
    assert_eq!(status(&alone), "Invalid login or password");

    // A gate without the master login refuses IMAP before the engine
    // spends the code.
    let bare = service(
        "nomaster",
        passwords(),
        Gate::default().with_secret(SECRET).with_backends(
            Some("127.0.0.1:10143".parse().unwrap()),
            None,
            None,
        ),
    );
    bare.engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let next = bare.phone.generate(NOW + 30).unwrap();
    let typed_next = format!("{PASSWORD}{}", next.as_str());
    let answer = mail(&bare, "imap", "plain", ALICE, &typed_next, "1").await;
    assert_eq!(status(&answer), "Temporary server problem, try again later");
    assert!(
        bare.engine
            .account_status(&bare.alice, NOW)
            .unwrap()
            .last_used
            .is_none_or(|t| t < NOW)
    );

    // SMTP: an application password; nginx sends XCLIENT, no master login.
    let (_, app_password) = gated
        .engine
        .create_app_password(&gated.alice, "phone", &[Protocol::Smtp], NOW)
        .unwrap();
    let smtp = mail(
        &gated,
        "smtp",
        "login",
        "Alice@Example.com",
        &app_password,
        "1",
    )
    .await;
    assert_eq!(status(&smtp), "OK");
    assert_eq!(smtp["auth-port"], "10587");
    // XCLIENT names the mailbox as decided on, never the master login.
    assert_eq!(smtp["auth-user"], ALICE);
    assert!(!smtp.contains_key("auth-pass"));
    let refused = mail(&gated, "smtp", "plain", ALICE, "wrong-password", "1").await;
    assert_eq!(status(&refused), "Invalid login or password");
    assert_eq!(refused["auth-error-code"], "535 5.7.8");
    // After ten attempts, no wait: nginx closes the connection.
    let tenth = mail(&gated, "smtp", "plain", ALICE, "wrong-password", "10").await;
    assert!(!tenth.contains_key("auth-wait"));
    // A method that hides the password, a protocol without a backend, an
    // unknown protocol: refused.
    for (protocol, method) in [("smtp", "cram-md5"), ("pop3", "plain"), ("sieve", "plain")] {
        let answer = mail(&gated, protocol, method, ALICE, &app_password, "1").await;
        assert_eq!(
            status(&answer),
            "Invalid login or password",
            "{protocol} {method}"
        );
    }
}

#[tokio::test]
async fn a_password_check_that_does_not_answer_refuses_every_login() {
    let gated = service("down", Down, gate());
    let right = basic(ALICE, PASSWORD);
    let (status, _) = http(&gated, SYNC, "POST", Some(&right), IPHONE).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(devices(&gated).is_empty());
    let code = gated.phone.generate(NOW).unwrap();
    gated
        .engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let typed = format!("{PASSWORD}{}", code.as_str());
    for protocol in ["imap", "smtp"] {
        let answer = mail(&gated, protocol, "plain", ALICE, &typed, "1").await;
        assert_eq!(
            answer["auth-status"],
            "Temporary server problem, try again later"
        );
        assert!(answer.contains_key("auth-wait"));
    }
    let smtp = mail(&gated, "smtp", "plain", ALICE, &typed, "1").await;
    assert_eq!(smtp["auth-error-code"], "451 4.3.0");
}

#[tokio::test]
async fn a_blocked_device_is_told_by_sms_and_by_mail_when_the_sms_fails() {
    use sinks::{SmtpMode, http_sink, smtp_sink};
    use std::time::Duration;
    let (relay, mut mails) = smtp_sink(SmtpMode::Accept).await;
    for (status, by_mail) in [(200, false), (500, true)] {
        let (gateway, mut posts) = http_sink(status, "").await;
        let lines = format!(
            "smtp_relay = \"{relay}\"\nfrom = \"mail2fa@example.com\"\n\
             sms_gateway_url = \"http://{gateway}/send\"\ntimeout_seconds = 5\n"
        );
        let gated = service_delivering(
            &format!("notify{status}"),
            passwords(),
            gate(),
            Some(&lines),
        );
        gated
            .engine
            .set_contact(
                &gated.alice,
                Some("alice.private@example.org"),
                Some("+41790000000"),
            )
            .unwrap();
        let right = basic(ALICE, PASSWORD);
        let (answer, _) = http(&gated, SYNC, "POST", Some(&right), IPHONE).await;
        assert_eq!(answer, StatusCode::FORBIDDEN);
        let posted = tokio::time::timeout(Duration::from_secs(10), posts.recv())
            .await
            .expect("the SMS was tried")
            .unwrap();
        assert_eq!(posted.json()["to"], "+41790000000");
        assert!(posted.json()["text"].as_str().unwrap().contains("iPhone"));
        if by_mail {
            let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv())
                .await
                .expect("the notification went by mail")
                .unwrap();
            assert_eq!(mail.rcpt_to, ["<alice.private@example.org>"]);
            assert!(mail.body().contains("iPhone"), "{}", mail.data);
        } else {
            // Delivered by SMS: no mail (give a failed delivery time to show).
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(mails.try_recv().is_err());
        }
        // Blocked again: told once a day at most.
        let (answer, _) = http(&gated, SYNC, "POST", Some(&right), IPHONE).await;
        assert_eq!(answer, StatusCode::FORBIDDEN);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(posts.try_recv().is_err());
        assert!(mails.try_recv().is_err());
    }
}
