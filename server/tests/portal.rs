//! The portal as a browser uses it, driven in-process: signing in with the
//! mailbox password (a table standing in for the deployment's check) and
//! the second factor, enrollment with the QR code inline, devices,
//! application passwords, recovery codes, turning 2FA off, the
//! administrators' page — and its defences: anti-forgery tokens, cookies,
//! headers, escaped client text, no way elsewhere after sign-in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sinks;
mod support;

use axum::http::StatusCode;
use mail2fa::engine::{ClientInfo, LoginAttempt, Protocol};
use mail2fa_server::deliver::Delivery;
use support::browser::*;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_enroll_and_sign_in_again_with_a_code() {
    let (service, router) = portal("portal-enroll");
    let mut browser = Browser::new(router.clone());
    // Wrong password: the same answer as an unknown address.
    let wrong = browser.sign_in(ALICE, "nope", None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("The address or the password is wrong."));
    let unknown = browser.sign_in("nobody@example.com", "nope", None).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(
        unknown
            .html
            .contains("The address or the password is wrong.")
    );

    let app = enroll_alice(&mut browser).await;
    let overview = browser.get("/portal/?done=enrolled").await;
    assert!(
        overview.html.contains("Two-factor authentication is on."),
        "{}",
        overview.html
    );

    // A new browser: the password alone is not enough any more.
    let mut other = Browser::new(router.clone());
    let step = other.sign_in(ALICE, "alice-Secret-1", None).await;
    assert_eq!(
        step.location.as_deref(),
        Some("/portal/sign-in/code?next=/portal/")
    );
    let halfway = other.cookies["__Host-m2fa_session"].clone();
    let blocked = other.get("/portal/").await;
    assert_eq!(
        blocked.location.as_deref(),
        Some("/portal/sign-in?next=/portal/")
    );
    // The password check counted nothing.
    let engine = service.mail_server();
    assert_eq!(engine.account_status(&id(ALICE), NOW).unwrap().failures, 0);
    // A wrong code: refused, counted.
    let form = other.get("/portal/sign-in/code").await;
    let refused = other
        .post(
            "/portal/sign-in/code",
            &[("csrf", &form.field("csrf")), ("code", "000000")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.html.contains("That code is not right."));
    assert_eq!(engine.account_status(&id(ALICE), NOW).unwrap().failures, 1);
    // The right one: signed in under a new token; the old one is dead.
    service.clock.set(NOW + 30);
    let code = app.generate(NOW + 30).unwrap();
    let form = other.get("/portal/sign-in/code").await;
    let done = other
        .post(
            "/portal/sign-in/code",
            &[("csrf", &form.field("csrf")), ("code", code.as_str())],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/portal/"));
    assert_ne!(other.cookies["__Host-m2fa_session"], halfway);
    assert_eq!(other.get("/portal/").await.status, StatusCode::OK);
    let mut thief = Browser::new(router);
    thief.cookies.insert("__Host-m2fa_session".into(), halfway);
    assert!(
        thief
            .get("/portal/")
            .await
            .location
            .unwrap()
            .starts_with("/portal/sign-in")
    );
    // The same code again, in yet another browser: a replay.
    let mut third = Browser::new(thief.router.clone());
    let replay = third
        .sign_in(ALICE, "alice-Secret-1", Some(code.as_str()))
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(replay.html.contains("That code was used already."));
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_need_their_token_and_pages_their_headers() {
    let (_service, router) = portal("portal-csrf");
    let mut browser = Browser::new(router.clone());
    // The sign-in form without its cookie-bound token: refused.
    let refused = browser
        .post(
            "/portal/sign-in",
            &[
                ("csrf", "forged"),
                ("address", ALICE),
                ("password", "alice-Secret-1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!browser.cookies.contains_key("__Host-m2fa_session"));
    browser.sign_in(ALICE, "alice-Secret-1", None).await;
    let page = browser.get("/portal/").await;
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(page.headers[name], value, "{name}");
    }
    assert!(!page.html.contains("<script"), "no script anywhere");
    // A change without the session's token: refused, nothing changed.
    let forged = browser
        .post("/portal/enroll", &[("csrf", "not-the-token")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        browser
            .get("/portal/")
            .await
            .html
            .contains("Turn on two-factor authentication")
    );
    // Another session's token does not do either.
    let mut bob = Browser::new(router);
    bob.sign_in("bob@example.com", "bob-Secret-1", None).await;
    let bobs = bob.get("/portal/").await.field("csrf");
    assert_eq!(
        browser
            .post("/portal/enroll", &[("csrf", &bobs)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // After sign-in, only portal paths: never another site.
    let mut visitor = Browser::new(bob.router.clone());
    let form = visitor
        .get("/portal/sign-in?next=https://evil.example/")
        .await;
    let done = visitor
        .post(
            "/portal/sign-in",
            &[
                ("csrf", &form.field("csrf")),
                ("next", "//evil.example/"),
                ("address", ALICE),
                ("password", "alice-Secret-1"),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/portal/"));
    // Signing out ends the session in the store.
    let csrf = visitor.get("/portal/").await.field("csrf");
    let cookie = visitor.cookies["__Host-m2fa_session"].clone();
    visitor.post("/portal/sign-out", &[("csrf", &csrf)]).await;
    let mut replayed = Browser::new(visitor.router.clone());
    replayed
        .cookies
        .insert("__Host-m2fa_session".into(), cookie);
    assert!(
        replayed
            .get("/portal/")
            .await
            .location
            .unwrap()
            .starts_with("/portal/sign-in")
    );
    // Unknown portal pages are HTML.
    let missing = visitor.get("/portal/nothing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.html.contains("There is no such page."));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_device_is_authorized_from_the_notification_link_and_text_is_escaped() {
    let (service, router) = portal("portal-devices");
    let mut browser = Browser::new(router.clone());
    let app = enroll_alice(&mut browser).await;
    let server = service.mail_server();
    let phone = ClientInfo::new()
        .with_device_id("ApplF17XK0LQHG7F")
        .with_device_type("iPhone<b>")
        .with_user_agent("<script>alert(1)</script>")
        .with_remote_addr("203.0.113.7");
    let attempt = LoginAttempt::new(Protocol::ActiveSync, "alice-Secret-1").with_client(phone);
    let decision = server
        .check_login(&id(ALICE), &attempt, NOW + 5, |_| true)
        .unwrap();
    let device = decision.device().unwrap().to_string();
    assert!(!decision.is_allowed());

    // The link of the notification, in a browser not signed in.
    let mut phone_browser = Browser::new(router);
    let link = format!("/portal/devices/{device}");
    let to_sign_in = phone_browser.get(&link).await;
    let location = to_sign_in.location.unwrap();
    assert_eq!(location, format!("/portal/sign-in?next={link}"));
    let form = phone_browser.get(&location).await;
    assert_eq!(form.field("next"), link);
    let step = phone_browser
        .post(
            "/portal/sign-in",
            &[
                ("csrf", &form.field("csrf")),
                ("next", &link),
                ("address", ALICE),
                ("password", "alice-Secret-1"),
            ],
        )
        .await;
    let code_page = phone_browser.get(step.location.as_deref().unwrap()).await;
    service.clock.set(NOW + 30);
    let code = app.generate(NOW + 30).unwrap();
    let done = phone_browser
        .post(
            "/portal/sign-in/code",
            &[
                ("csrf", &code_page.field("csrf")),
                ("next", &code_page.field("next")),
                ("code", code.as_str()),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some(link.as_str()));
    let page = phone_browser.get(&link).await;
    assert!(page.html.contains(&format!("id=\"device-{device}\"")));
    assert!(
        page.html
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "escaped"
    );
    assert!(!page.html.contains("<script>") && !page.html.contains("<b>"));
    assert!(page.html.contains("iPhone&#60;b&#62;"));
    // One click: authorized; the next sync gets in.
    let authorized = phone_browser
        .post(
            &format!("/portal/devices/{device}/activate"),
            &[("csrf", &page.field("csrf"))],
        )
        .await;
    assert_eq!(
        authorized.location.as_deref(),
        Some("/portal/devices?done=authorized")
    );
    assert!(
        server
            .check_login(&id(ALICE), &attempt, NOW + 40, |_| true)
            .unwrap()
            .is_allowed()
    );
    // "Not me": deleted, blocked again.
    let page = phone_browser.get("/portal/devices").await;
    phone_browser
        .post(
            &format!("/portal/devices/{device}/delete"),
            &[("csrf", &page.field("csrf"))],
        )
        .await;
    assert!(
        !server
            .check_login(&id(ALICE), &attempt, NOW + 50, |_| true)
            .unwrap()
            .is_allowed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn app_passwords_and_recovery_codes_need_a_code_and_show_once() {
    let (service, router) = portal("portal-app-passwords");
    let mut browser = Browser::new(router);
    let app = enroll_alice(&mut browser).await;
    let page = browser.get("/portal/app-passwords").await;
    let csrf = page.field("csrf");
    let body = |code: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("name".to_owned(), "Phone <mail>".to_owned()),
            ("protocol".to_owned(), "imap".to_owned()),
            ("protocol".to_owned(), "smtp".to_owned()),
            ("code".to_owned(), code.to_owned()),
        ]
    };
    let as_refs = |b: &Vec<(String, String)>| -> Vec<(String, String)> { b.clone() };
    let wrong = as_refs(&body("000000"));
    let wrong: Vec<(&str, &str)> = wrong
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = browser.post("/portal/app-passwords", &wrong).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("That code is not right."));
    let engine = service.mail_server();
    assert!(
        engine.app_passwords(&id(ALICE)).unwrap().is_empty(),
        "nothing made"
    );

    service.clock.set(NOW + 30);
    let code = app.generate(NOW + 30).unwrap();
    let right = as_refs(&body(code.as_str()));
    let right: Vec<(&str, &str)> = right
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let created = browser.post("/portal/app-passwords", &right).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.html);
    let at =
        created.html.find("id=\"new-app-password\">").unwrap() + "id=\"new-app-password\">".len();
    let password = created.html[at..].split('<').next().unwrap().to_owned();
    assert!(created.html.contains("Phone &#60;mail&#62;"));
    let listed = engine.app_passwords(&id(ALICE)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].scope, [Protocol::Imap, Protocol::Smtp]);
    let imap = LoginAttempt::new(Protocol::Imap, &password);
    assert!(
        engine
            .check_login(&id(ALICE), &imap, NOW + 31, |_| false)
            .unwrap()
            .is_allowed()
    );
    let again = browser.get("/portal/app-passwords").await;
    assert!(!again.html.contains(&password), "shown once");
    // Revoked: refused at once.
    let number = listed[0].id.to_string();
    browser
        .post(
            &format!("/portal/app-passwords/{number}/revoke"),
            &[("csrf", &again.field("csrf"))],
        )
        .await;
    assert!(
        !engine
            .check_login(&id(ALICE), &imap, NOW + 32, |_| false)
            .unwrap()
            .is_allowed()
    );

    // Recovery codes: after a code, shown once, and one signs in.
    service.clock.set(NOW + 60);
    let code = app.generate(NOW + 60).unwrap();
    let security = browser.get("/portal/security").await;
    let made = browser
        .post(
            "/portal/security/recovery-codes",
            &[("csrf", &security.field("csrf")), ("code", code.as_str())],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.html);
    let at = made.html.find("id=\"recovery-codes\">").unwrap();
    let first = made.html[at..]
        .split("<code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let mut lost_phone = Browser::new(browser.router.clone());
    let signed = lost_phone
        .sign_in(ALICE, "alice-Secret-1", Some(&first))
        .await;
    assert_eq!(
        signed.location.as_deref(),
        Some("/portal/"),
        "{}",
        signed.html
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn turning_2fa_off_needs_a_valid_code() {
    let (service, router) = portal("portal-disable");
    let mut browser = Browser::new(router);
    let app = enroll_alice(&mut browser).await;
    let page = browser.get("/portal/security").await;
    let refused = browser
        .post(
            "/portal/security/disable",
            &[("csrf", &page.field("csrf")), ("code", "000000")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let engine = service.mail_server();
    assert!(engine.account_status(&id(ALICE), NOW).is_ok(), "still on");
    service.clock.set(NOW + 30);
    let code = app.generate(NOW + 30).unwrap();
    let done = browser
        .post(
            "/portal/security/disable",
            &[("csrf", &page.field("csrf")), ("code", code.as_str())],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/portal/?done=disabled"));
    assert!(engine.account_status(&id(ALICE), NOW + 30).is_err(), "off");
}

#[tokio::test(flavor = "multi_thread")]
async fn administrators_manage_their_platform_and_nobody_else_does() {
    let (service, router) = portal("portal-admin");
    let mut alice = Browser::new(router.clone());
    let _app = enroll_alice(&mut alice).await;
    assert_eq!(
        alice.get("/portal/admin").await.status,
        StatusCode::FORBIDDEN
    );
    // An administrator signed in with the password alone (no 2FA of its
    // own) may raise protection, never lower it.
    let mut admin = Browser::new(router.clone());
    admin.sign_in(ADMIN, "admin-Secret-1", None).await;
    let page = admin.get("/portal/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.field("csrf");
    for (path, form) in [
        ("/portal/admin/platform", vec![("enabled", "false")]),
        (
            "/portal/admin/suspend",
            vec![("account", ALICE), ("hours", "24")],
        ),
        ("/portal/admin/unlock", vec![("account", ALICE)]),
        ("/portal/admin/reset", vec![("account", ALICE)]),
        ("/portal/admin/remove", vec![("account", ALICE)]),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let refused = admin.post(path, &fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(refused.html.contains("Sign in with a code"), "{path}");
    }
    let engine = service.mail_server();
    assert!(engine.platform_enabled(PLATFORM).unwrap());
    assert!(
        engine
            .account_status(&id(ALICE), NOW)
            .unwrap()
            .suspended_until
            .is_none()
    );
    let raised = admin
        .post(
            "/portal/admin/platform",
            &[("csrf", &csrf), ("enabled", "true")],
        )
        .await;
    assert!(
        raised
            .location
            .unwrap()
            .starts_with("/portal/admin?done=admin")
    );
    let admin_app = enroll(&mut admin, ADMIN, "admin-Secret-1").await;
    service.clock.set(NOW + 30);
    let code = admin_app.generate(NOW + 30).unwrap();
    let mut admin = Browser::new(router);
    admin
        .sign_in(ADMIN, "admin-Secret-1", Some(code.as_str()))
        .await;
    let page = admin.get(&format!("/portal/admin?account={ALICE}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Administration of example.com"));
    let csrf = page.field("csrf");
    let done = admin
        .post(
            "/portal/admin/suspend",
            &[("csrf", &csrf), ("account", ALICE), ("hours", "24")],
        )
        .await;
    assert!(
        done.location
            .unwrap()
            .starts_with("/portal/admin?done=admin")
    );
    let engine = service.mail_server();
    assert_eq!(
        engine
            .account_status(&id(ALICE), NOW)
            .unwrap()
            .suspended_until,
        Some(NOW + 30 + 86_400)
    );
    let too_long = admin
        .post(
            "/portal/admin/suspend",
            &[("csrf", &csrf), ("account", ALICE), ("hours", "721")],
        )
        .await;
    assert!(too_long.html.contains("At most 720 hours"));
    // Another platform's accounts are out of reach.
    let other = admin
        .post(
            "/portal/admin/remove",
            &[("csrf", &csrf), ("account", "carol@example.org")],
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    admin
        .post(
            "/portal/admin/remove",
            &[("csrf", &csrf), ("account", ALICE)],
        )
        .await;
    assert!(engine.account_status(&id(ALICE), NOW).is_err());
    // Turned on for bob by the administrator: bob sets up his app at his
    // next sign-in (the administrator never saw a key).
    let turned = admin
        .post(
            "/portal/admin/enable",
            &[("csrf", &csrf), ("account", "bob@example.com")],
        )
        .await;
    assert!(
        turned
            .location
            .unwrap()
            .starts_with("/portal/admin?done=admin")
    );
    let mut bob = Browser::new(admin.router.clone());
    assert_eq!(
        bob.sign_in("bob@example.com", "bob-Secret-1", None)
            .await
            .location
            .as_deref(),
        Some("/portal/")
    );
    let overview = bob.get("/portal/").await;
    assert!(
        overview.html.contains("is being set up for your mailbox"),
        "{}",
        overview.html
    );
    let enroll = bob.get("/portal/enroll").await;
    assert!(!enroll.html.contains("<svg"));
    let shown = bob
        .post("/portal/enroll/restart", &[("csrf", &enroll.field("csrf"))])
        .await;
    assert!(shown.html.contains("<svg"), "{}", shown.html);
    // The platform switch.
    admin
        .post(
            "/portal/admin/platform",
            &[("csrf", &csrf), ("enabled", "false")],
        )
        .await;
    assert!(!engine.platform_enabled(PLATFORM).unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_email_code_is_sent_at_sign_in_and_signs_in_once() {
    let (relay, mut mails) = sinks::smtp_sink(sinks::SmtpMode::Accept).await;
    let dir = std::env::temp_dir().join(format!("mail2fa-portal-mail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = sinks::config_text(
        &dir,
        &format!("smtp_relay = \"{relay}\"\nfrom = \"mail2fa@example.com\"\n"),
    );
    let config = mail2fa::config::Config::parse(&text, "test.toml").unwrap();
    let (service, router) =
        portal_with("portal-mail", Some(Delivery::from_config(&config).unwrap()));
    let mut browser = Browser::new(router.clone());
    let app = enroll_alice(&mut browser).await;
    let security = browser.get("/portal/security").await;
    service.clock.set(NOW + 30);
    let code = app.generate(NOW + 30).unwrap();
    let saved = browser
        .post(
            "/portal/security/mode",
            &[
                ("csrf", &security.field("csrf")),
                ("code", code.as_str()),
                ("mode", "email"),
                ("email", "alice.home@example.org"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(
        saved.location.as_deref(),
        Some("/portal/security?done=mode"),
        "{}",
        saved.html
    );

    // Signing in sends the code; the page says so and offers another.
    let mut other = Browser::new(router);
    let step = other.sign_in(ALICE, "alice-Secret-1", None).await;
    let location = step.location.unwrap();
    assert!(location.ends_with("&sent=1"), "{location}");
    let page = other.get(&location).await;
    assert!(page.html.contains("We sent you a code."));
    assert!(page.html.contains("Send me a code"));
    let mail = tokio::time::timeout(std::time::Duration::from_secs(10), mails.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mail.header("To").as_deref(), Some("alice.home@example.org"));
    let code: String = mail
        .body()
        .split_once(": ")
        .unwrap()
        .1
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    // Asking again at once: refused politely (the resend interval).
    let again = other
        .post(
            "/portal/sign-in/send",
            &[("csrf", &page.field("csrf")), ("next", "/portal/")],
        )
        .await;
    assert!(again.html.contains("wait a little"), "{}", again.html);
    let done = other
        .post(
            "/portal/sign-in/code",
            &[
                ("csrf", &page.field("csrf")),
                ("next", "/portal/"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/portal/"), "{}", done.html);
    // Used once.
    let mut third = Browser::new(other.router.clone());
    let replay = third.sign_in(ALICE, "alice-Secret-1", Some(&code)).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    let _ = service;
    let _ = std::fs::remove_dir_all(&dir);
}
