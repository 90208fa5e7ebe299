//! The panel API's calls as a hoster's panel makes them: a platform turned
//! on, an account enrolled (the URI and QR code, confirmed by the app's
//! first code), its status and changes; devices a mail server blocked,
//! authorized and forgotten; application passwords created, used by a
//! mail server, revoked. Bad input changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode};
use mail2fa::engine::{ClientInfo, LoginAttempt, Protocol};
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_platform_is_turned_on_and_its_policies_set() {
    let service = Service::new("platform");
    let path = platform_path("");
    let off = service.get(&path).await.expect(StatusCode::OK).json;
    assert_eq!(
        (off["enabled"].clone(), off["configured"].clone()),
        (json!(false), json!(false))
    );
    let imap = off["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["protocol"] == "imap")
        .unwrap();
    assert_eq!(
        imap,
        &json!({"protocol": "imap", "policy": "app-password-only", "set_by": "default"})
    );

    let on = service
        .put(&path, json!({"enabled": true}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(on.json, json!({"platform": PLATFORM, "enabled": true}));
    let set = service
        .put(
            &platform_path("/policies/imap"),
            json!({"policy": "code-in-login"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        set.json,
        json!({"platform": PLATFORM, "protocol": "imap", "policy": "code-in-login"})
    );
    let shown = service.get(&path).await.expect(StatusCode::OK).json;
    assert_eq!(shown["enabled"], true);
    let imap = shown["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["protocol"] == "imap")
        .unwrap();
    assert_eq!(imap["set_by"], "self");
    assert_eq!(imap["policy"], "code-in-login");
    // A host-named protocol appears once it has a policy.
    service
        .put(
            &platform_path("/policies/sieve"),
            json!({"policy": "refused"}),
        )
        .await
        .expect(StatusCode::OK);
    let shown = service.get(&path).await.json;
    assert!(
        shown["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["protocol"] == "sieve")
    );
    // The portal takes a code or nothing: never a password alone.
    service
        .put(
            &platform_path("/policies/portal"),
            json!({"policy": "device-authorization"}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    let removed = service
        .delete(&platform_path("/policies/imap"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(removed.json["policy"], "app-password-only");
    let off = service
        .put(&path, json!({"enabled": false}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(off.json["enabled"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_is_enrolled_with_its_qr_code_and_a_first_code() {
    let service = Service::new("enroll");
    // 2FA off for the platform: no enrollment.
    service
        .call(Method::POST, &account_path(ALICE, "/enrollment"), None)
        .await
        .error(StatusCode::CONFLICT, "platform_disabled");
    service.platform_on().await;
    service
        .get(&account_path(ALICE, ""))
        .await
        .error(StatusCode::NOT_FOUND, "not_enrolled");

    let enabled = service
        .call(Method::POST, &account_path(ALICE, "/enrollment"), None)
        .await
        .expect(StatusCode::CREATED)
        .json;
    let uri = enabled["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/example.com:alice@example.com?secret="),
        "{uri}"
    );
    let svg = enabled["svg"].as_str().unwrap();
    assert!(
        svg.contains("<svg") && svg.ends_with("</svg>\n") || svg.ends_with("</svg>"),
        "{}",
        &svg[..60]
    );
    assert_eq!(enabled["pending_until"], NOW + 86_400);
    service
        .call(Method::POST, &account_path(ALICE, "/enrollment"), None)
        .await
        .error(StatusCode::CONFLICT, "already_enrolled");
    let pending = service
        .get(&account_path(ALICE, ""))
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(pending["enrollment"], "pending");
    assert_eq!(pending["enrollment_expires_at"], NOW + 86_400);

    // A wrong code: refused with the engine's reason; the right one confirms.
    let app = authenticator(uri);
    let confirm = account_path(ALICE, "/enrollment/confirm");
    let refused = service.post(&confirm, json!({"code": "000000"})).await;
    let refused = if app.generate(NOW).unwrap().as_str() == "000000" {
        refused
    } else {
        refused.error(StatusCode::UNPROCESSABLE_ENTITY, "code_refused")
    };
    assert_eq!(refused.json["error"]["reason"], "wrong_code");
    service
        .post(&confirm, json!({"code": "12"}))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "code_refused");
    let code = app.generate(NOW).unwrap();
    let confirmed = service
        .post(&confirm, json!({"code": code.as_str()}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        confirmed.json,
        json!({"platform": PLATFORM, "account": ALICE, "confirmed": true})
    );
    service
        .post(&confirm, json!({"code": code.as_str()}))
        .await
        .error(StatusCode::CONFLICT, "already_confirmed");
    let shown = service
        .get(&account_path(ALICE, ""))
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(shown["enrollment"], "confirmed");
    assert_eq!(shown["mode"], "totp");
    assert!(
        !shown
            .to_string()
            .contains(&uri[uri.find("secret=").unwrap() + 7..][..16])
    );

    // The mail server, on the same store, takes the app's codes.
    let server = service.mail_server();
    let next = app.generate(NOW + 30).unwrap();
    assert!(
        server
            .login(&id(ALICE), Some(next.as_str()), NOW + 30)
            .unwrap()
            .is_allowed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn account_changes_suspend_unlock_mode_contacts_codes_policies_reset_remove() {
    let service = Service::new("changes");
    service.platform_on().await;
    let app = service.enroll(ALICE).await;
    let path = |rest: &str| account_path(ALICE, rest);

    // Suspend for 2 hours, then end it.
    let suspended = service
        .post(&path("/suspend"), json!({"hours": 2}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(suspended.json["suspended_until"], NOW + 7200);
    assert_eq!(
        service.get(&path("")).await.json["suspended_until"],
        NOW + 7200
    );
    service
        .post(&path("/suspend"), json!({"hours": 24 * 31}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    service
        .post(&path("/suspend"), json!({"hours": u64::MAX}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    let ended = service
        .post(&path("/suspend"), json!({"hours": 0}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(ended.json["suspended_until"], json!(null));

    // Locked by wrong codes at the mail server; unlocked by the panel.
    let server = service.mail_server();
    for _ in 0..5 {
        let _ = server.login(&id(ALICE), Some("999999"), NOW + 60).unwrap();
    }
    assert!(service.get(&path("")).await.json["locked_until"].is_u64());
    service
        .post(&path("/unlock"), json!({}))
        .await
        .expect(StatusCode::OK);
    let shown = service.get(&path("")).await.json;
    assert_eq!(
        (shown["locked_until"].clone(), shown["failures"].clone()),
        (json!(null), json!(0))
    );

    // Mode and contacts: e-mail needs an address first.
    service
        .put(&path("/mode"), json!({"mode": "email"}))
        .await
        .error(StatusCode::CONFLICT, "no_contact");
    service
        .put(&path("/mode"), json!({"mode": "pigeon"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    service
        .put(&path("/contacts"), json!({"email": "not an address"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    let contacts = service
        .put(
            &path("/contacts"),
            json!({"email": "alice@home.example", "phone": "+41 79 555 01 23"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(contacts.json["email"], "alice@home.example");
    service
        .put(&path("/mode"), json!({"mode": "email"}))
        .await
        .expect(StatusCode::OK);
    // The address the mode uses cannot be removed; the phone can.
    service
        .put(&path("/contacts"), json!({"email": null, "phone": null}))
        .await
        .error(StatusCode::CONFLICT, "no_contact");
    service
        .put(&path("/contacts"), json!({"email": "alice@home.example"}))
        .await
        .expect(StatusCode::OK);
    let shown = service.get(&path("")).await.json;
    assert_eq!(
        (shown["mode"].clone(), shown["phone"].clone()),
        (json!("email"), json!(null))
    );
    service
        .put(&path("/mode"), json!({"mode": "totp"}))
        .await
        .expect(StatusCode::OK);

    // Recovery codes, shown once; the count checked.
    let codes = service
        .post(&path("/recovery-codes"), json!({"count": 8}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(codes.json["codes"].as_array().unwrap().len(), 8);
    assert_eq!(service.get(&path("")).await.json["recovery_codes"], 8);
    service
        .post(&path("/recovery-codes"), json!({"count": 0}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");

    // The account's own policy, then back to the platform's.
    let set = service
        .put(&path("/policies/imap"), json!({"policy": "code-in-login"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(set.json["policy"], "code-in-login");
    let shown = service.get(&path("")).await.json;
    let imap = shown["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["protocol"] == "imap")
        .unwrap();
    assert_eq!(imap["set_by"], "self");
    service
        .put(
            &platform_path("/policies/imap"),
            json!({"policy": "device-authorization"}),
        )
        .await
        .expect(StatusCode::OK);
    let back = service
        .delete(&path("/policies/imap"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(back.json["policy"], "device-authorization");
    let shown = service.get(&path("")).await.json;
    let imap = shown["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["protocol"] == "imap")
        .unwrap();
    assert_eq!(imap["set_by"], "platform");

    // Reset: a new secret, pending; the old app's codes stop working.
    let reset = service
        .post(&path("/reset"), json!({}))
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(reset["pending_until"], NOW + 86_400);
    let old = app.generate(NOW + 90).unwrap();
    assert!(
        !server
            .login(&id(ALICE), Some(old.as_str()), NOW + 90)
            .unwrap()
            .is_allowed()
    );

    // Remove: gone; removing again is not_enrolled.
    let removed = service.delete(&path("")).await.expect(StatusCode::OK);
    assert_eq!(removed.json["removed"], true);
    service
        .get(&path(""))
        .await
        .error(StatusCode::NOT_FOUND, "not_enrolled");
    service
        .delete(&path(""))
        .await
        .error(StatusCode::NOT_FOUND, "not_enrolled");
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_blocked_by_a_mail_server_are_authorized_and_forgotten() {
    let service = Service::new("devices");
    service.platform_on().await;
    let _app = service.enroll(ALICE).await;
    let server = service.mail_server();
    let iphone = ClientInfo::new()
        .with_device_id("ApplF17XK0LQHG7F")
        .with_device_type("iPhone")
        .with_user_agent("Apple-iPhone14C2/2101.103 <script>alert(1)</script>")
        .with_remote_addr("203.0.113.7");
    let attempt = LoginAttempt::new(Protocol::ActiveSync, "alice-password").with_client(iphone);
    let login = || {
        server
            .check_login(&id(ALICE), &attempt, NOW + 10, |_| true)
            .unwrap()
    };
    assert!(!login().is_allowed());

    let listed = service
        .get(&account_path(ALICE, "/devices"))
        .await
        .expect(StatusCode::OK)
        .json;
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1);
    let device = devices[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(devices[0]["state"], "inactive");
    assert_eq!(devices[0]["device_type"], "iPhone");
    assert_eq!(devices[0]["protocol"], "activesync");
    // The client's text comes back as data (JSON-escaped by the encoder).
    assert_eq!(
        devices[0]["user_agent"],
        "Apple-iPhone14C2/2101.103 <script>alert(1)</script>"
    );

    let active = service
        .post(
            &account_path(ALICE, &format!("/devices/{device}/activate")),
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(active.json["state"], "active");
    assert!(login().is_allowed());
    service
        .post(
            &account_path(ALICE, &format!("/devices/{device}/deactivate")),
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    assert!(!login().is_allowed());
    let deleted = service
        .delete(&account_path(ALICE, &format!("/devices/{device}")))
        .await
        .expect(StatusCode::OK);
    assert_eq!(deleted.json["state"], "deleted");
    service
        .post(
            &account_path(ALICE, &format!("/devices/{device}/activate")),
            json!({}),
        )
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    service
        .post(&account_path(ALICE, "/devices/xyz/activate"), json!({}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    // An account without 2FA has no devices.
    service
        .get(&account_path("bob@example.com", "/devices"))
        .await
        .error(StatusCode::NOT_FOUND, "not_enrolled");
}

#[tokio::test(flavor = "multi_thread")]
async fn application_passwords_are_shown_once_used_and_revoked() {
    let service = Service::new("app-passwords");
    service.platform_on().await;
    let _app = service.enroll(ALICE).await;
    let path = account_path(ALICE, "/app-passwords");
    let created = service
        .post(
            &path,
            json!({"name": "Thunderbird", "protocols": ["imap", "smtp"]}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json;
    let password = created["password"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Thunderbird");
    assert_eq!(created["protocols"], json!(["imap", "smtp"]));
    let number = created["id"].as_u64().unwrap();

    let server = service.mail_server();
    let imap = LoginAttempt::new(Protocol::Imap, &password);
    assert!(
        server
            .check_login(&id(ALICE), &imap, NOW, |_| false)
            .unwrap()
            .is_allowed()
    );
    let pop3 = LoginAttempt::new(Protocol::Pop3, &password);
    assert!(
        !server
            .check_login(&id(ALICE), &pop3, NOW, |_| false)
            .unwrap()
            .is_allowed()
    );

    let listed = service.get(&path).await.expect(StatusCode::OK).json;
    assert_eq!(listed["app_passwords"].as_array().unwrap().len(), 1);
    assert!(
        !listed.to_string().contains(&password),
        "a list never shows the password"
    );

    service
        .post(&path, json!({"name": "x", "protocols": ["no such"]}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    service
        .post(&path, json!({"name": "n".repeat(65)}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    service
        .post(&path, json!({}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_json");
    assert_eq!(
        service.get(&path).await.json["app_passwords"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let revoked = service
        .delete(&format!("{path}/{number}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(revoked.json["revoked"], true);
    assert!(
        !server
            .check_login(&id(ALICE), &imap, NOW, |_| false)
            .unwrap()
            .is_allowed()
    );
    service
        .delete(&format!("{path}/{number}"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    service
        .delete(&format!("{path}/one"))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
}
