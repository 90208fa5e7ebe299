//! The portal's guards, route by route: every form refuses a missing or
//! foreign anti-forgery token and a session that has not passed the
//! second factor; a session that began with the password alone (2FA
//! suspended) makes no lasting change without a code; `next` never leads
//! off the portal. And the panel API refuses every route without its token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode};
use mail2fa_server::api::route_list;
use serde_json::json;
use support::browser::*;
use support::*;

/// Every POST form of the portal that needs a signed-in session, with
/// fields that would otherwise do something.
fn signed_in_forms(device: &str) -> Vec<(String, Vec<(&'static str, String)>)> {
    let code = ("code", "123456".to_owned());
    vec![
        ("/portal/enroll".into(), vec![]),
        ("/portal/enroll/confirm".into(), vec![code.clone()]),
        ("/portal/enroll/restart".into(), vec![]),
        (
            "/portal/confirm".into(),
            vec![code.clone(), ("next", "/portal/".into())],
        ),
        (
            "/portal/security/mode".into(),
            vec![
                code.clone(),
                ("mode", "email".into()),
                ("email", "a@b.example".into()),
            ],
        ),
        ("/portal/security/recovery-codes".into(), vec![code.clone()]),
        ("/portal/security/reset".into(), vec![code.clone()]),
        ("/portal/security/disable".into(), vec![code.clone()]),
        (format!("/portal/devices/{device}/activate"), vec![]),
        (format!("/portal/devices/{device}/delete"), vec![]),
        (
            "/portal/app-passwords".into(),
            vec![("name", "x".into()), code.clone()],
        ),
        ("/portal/app-passwords/1/revoke".into(), vec![]),
        (
            "/portal/admin/platform".into(),
            vec![("enabled", "false".into())],
        ),
        (
            "/portal/admin/suspend".into(),
            vec![("account", ALICE.into()), ("hours", "1".into())],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_form_refuses_a_foreign_token_and_a_half_signed_in_session() {
    let (service, router) = portal("guards-forms");
    let mut alice = Browser::new(router.clone());
    let app = enroll_alice(&mut alice).await;
    let mut bob = Browser::new(router.clone());
    bob.sign_in("bob@example.com", "bob-Secret-1", None).await;
    let bobs = bob.get("/portal/").await.field("csrf");
    // alice, halfway: the password is in, the code is not.
    let mut halfway = Browser::new(router.clone());
    halfway.sign_in(ALICE, "alice-Secret-1", None).await;
    let device = "00112233445566778899aabbccddeeff";
    for (path, fields) in signed_in_forms(device) {
        // A foreign token: 403, for a signed-in alice.
        let mut with_bobs: Vec<(&str, &str)> = vec![("csrf", &bobs)];
        with_bobs.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        let refused = alice.post(&path, &with_bobs).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.html
        );
        // No token at all: refused too (403, or the form's own 4xx).
        let without: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = alice.post(&path, &without).await;
        assert!(
            refused.status.is_client_error(),
            "{path}: {}",
            refused.status
        );
        // Halfway: sent to sign in, whatever token.
        let sent = halfway.post(&path, &with_bobs).await;
        assert!(
            sent.location
                .as_deref()
                .is_some_and(|l| l.starts_with("/portal/sign-in")),
            "{path}: {:?} {}",
            sent.location,
            sent.status
        );
    }
    // None of it changed anything: 2FA on, the platform on, no failures.
    let engine = service.mail_server();
    let status = engine.account_status(&id(ALICE), NOW).unwrap();
    assert!(engine.platform_enabled(PLATFORM).unwrap());
    assert_eq!((status.failures, status.recovery_codes), (0, 0));
    let code = app.generate(NOW + 30).unwrap();
    assert!(
        engine
            .login(&id(ALICE), Some(code.as_str()), NOW + 30)
            .unwrap()
            .is_allowed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn while_suspended_the_password_alone_makes_no_lasting_change() {
    let (service, router) = portal("guards-suspended");
    let mut owner = Browser::new(router.clone());
    let app = enroll_alice(&mut owner).await;
    let engine = service.mail_server();
    // A device blocked by a login before the suspension.
    let phone = mail2fa::engine::ClientInfo::new()
        .with_device_id("ThiefPhone0001")
        .with_device_type("iPhone")
        .with_remote_addr("198.51.100.66");
    let attempt =
        mail2fa::engine::LoginAttempt::new(mail2fa::engine::Protocol::ActiveSync, "alice-Secret-1")
            .with_client(phone);
    let device = engine
        .check_login(&id(ALICE), &attempt, NOW + 5, |_| true)
        .unwrap()
        .device()
        .unwrap()
        .to_string();
    engine.suspend(&id(ALICE), 24 * 3600, NOW).unwrap();
    // Someone with the password: in, without a code (the suspension).
    let mut thief = Browser::new(router);
    let signed = thief.sign_in(ALICE, "alice-Secret-1", None).await;
    assert_eq!(signed.location.as_deref(), Some("/portal/"));
    let csrf = thief.get("/portal/").await.field("csrf");
    // Recovery codes, application passwords, where codes go: a code is
    // demanded, and a wrong one does nothing.
    for (path, extra) in [
        ("/portal/security/recovery-codes", vec![]),
        ("/portal/app-passwords", vec![("name", "thief")]),
        (
            "/portal/security/mode",
            vec![("mode", "email"), ("email", "thief@evil.example")],
        ),
    ] {
        let mut form = vec![("csrf", csrf.as_str()), ("code", "000000")];
        form.extend(extra);
        let refused = thief.post(path, &form).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            refused.html
        );
    }
    let status = engine.account_status(&id(ALICE), NOW).unwrap();
    assert_eq!((status.recovery_codes, status.email.as_deref()), (0, None));
    assert!(engine.app_passwords(&id(ALICE)).unwrap().is_empty());
    // Authorizing the device blocked earlier asks "confirm it is you".
    let asked = thief
        .post(
            &format!("/portal/devices/{device}/activate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        asked.location,
        Some(format!("/portal/confirm?next=/portal/devices/{device}"))
    );
    let confirm = thief.get(asked.location.as_deref().unwrap()).await;
    let wrong = thief
        .post(
            "/portal/confirm",
            &[
                ("csrf", &confirm.field("csrf")),
                ("code", "000000"),
                ("next", &confirm.field("next")),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let still = engine.devices(&id(ALICE), NOW + 6).unwrap();
    assert_eq!(
        still[0].state,
        mail2fa::engine::DeviceState::Inactive,
        "not authorized"
    );
    // The owner, with the phone's code, can (the code proves it is her).
    let code = app.generate(NOW + 30).unwrap();
    service.clock.set(NOW + 30);
    let done = thief
        .post(
            "/portal/confirm",
            &[
                ("csrf", &confirm.field("csrf")),
                ("code", code.as_str()),
                ("next", &confirm.field("next")),
            ],
        )
        .await;
    assert_eq!(done.location, Some(format!("/portal/devices/{device}")));
    let again = thief
        .post(
            &format!("/portal/devices/{device}/activate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        again.location.as_deref(),
        Some("/portal/devices?done=authorized")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn next_never_leads_off_the_portal() {
    let (_service, router) = portal("guards-next");
    for next in [
        "https://evil.example/",
        "//evil.example/portal/",
        "/portal/\\\\evil.example",
        "/portal/%0d%0aSet-Cookie:x",
        "/portal/\u{1}",
        "/portal/ spaced",
        "javascript:alert(1)",
    ] {
        let mut browser = Browser::new(router.clone());
        let form = browser.get("/portal/sign-in").await;
        let done = browser
            .post(
                "/portal/sign-in",
                &[
                    ("csrf", &form.field("csrf")),
                    ("next", next),
                    ("address", "bob@example.com"),
                    ("password", "bob-Secret-1"),
                ],
            )
            .await;
        let location = done
            .location
            .unwrap_or_else(|| panic!("{next}: {}", done.status));
        assert!(
            location == "/portal/" || location == next && next.starts_with("/portal/%"),
            "{next} -> {location}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_api_route_refuses_a_missing_or_wrong_token() {
    let service = Service::new("guards-api");
    for (method, path) in route_list() {
        if path == "/api/v1/openapi.json" {
            continue;
        }
        let concrete = path
            .replace("{platform}", PLATFORM)
            .replace("{account}", ALICE)
            .replace("{protocol}", "imap")
            .replace("{device}", "00112233445566778899aabbccddeeff")
            .replace("{id}", "1");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = matches!(method, Method::POST | Method::PUT).then(|| json!({}));
        for token in [None, Some("panel-token-0123456789abcdef012345678X")] {
            let answer = service
                .send(method.clone(), &concrete, token, body.clone())
                .await;
            assert_eq!(
                (answer.status, answer.code()),
                (StatusCode::UNAUTHORIZED, "unauthorized"),
                "{method} {concrete} with {token:?}"
            );
        }
    }
}
