//! Two panels at once: racing calls on one account get one winner and a
//! clear answer for the other, never a half-done change — an enrollment
//! confirmed twice, an account enabled twice, a device activated while
//! another panel deletes it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::{Method, StatusCode};
use mail2fa::engine::{ClientInfo, LoginAttempt, Protocol};
use serde_json::json;
use support::*;

const ROUNDS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_panels_confirming_one_enrollment_one_wins() {
    let service = Service::new("race-confirm");
    service.platform_on().await;
    for round in 0..ROUNDS {
        let account = format!("user{round}@example.com");
        let uri = service
            .call(Method::POST, &account_path(&account, "/enrollment"), None)
            .await
            .expect(StatusCode::CREATED)
            .json["uri"]
            .as_str()
            .unwrap()
            .to_owned();
        let code = authenticator(&uri).generate(NOW).unwrap();
        let path = account_path(&account, "/enrollment/confirm");
        let body = json!({"code": code.as_str()});
        let (a, b) = tokio::join!(service.post(&path, body.clone()), service.post(&path, body));
        let mut answers = [a, b];
        answers.sort_by_key(|x| x.status);
        let [winner, loser] = answers;
        assert_eq!(
            winner.status,
            StatusCode::OK,
            "round {round}: {}",
            winner.json
        );
        // The loser came second: confirmed already, or (its code read
        // before the winner's write) the same code again, refused.
        let clear = (loser.status == StatusCode::CONFLICT && loser.code() == "already_confirmed")
            || (loser.status == StatusCode::UNPROCESSABLE_ENTITY
                && loser.json["error"]["reason"] == "replayed");
        assert!(clear, "round {round}: {} {}", loser.status, loser.json);
        assert_eq!(
            service.get(&account_path(&account, "")).await.json["enrollment"],
            "confirmed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_panels_enabling_one_account_one_secret_survives() {
    let service = Service::new("race-enable");
    service.platform_on().await;
    for round in 0..ROUNDS {
        let account = format!("user{round}@example.com");
        let path = account_path(&account, "/enrollment");
        let (a, b) = tokio::join!(
            service.call(Method::POST, &path, None),
            service.call(Method::POST, &path, None)
        );
        let mut answers = [a, b];
        answers.sort_by_key(|x| x.status);
        let [winner, loser] = answers;
        assert_eq!(
            winner.status,
            StatusCode::CREATED,
            "round {round}: {}",
            winner.json
        );
        assert_eq!(
            (loser.status, loser.code()),
            (StatusCode::CONFLICT, "already_enrolled"),
            "round {round}"
        );
        // The winner's secret is the stored one: its code confirms.
        let app = authenticator(winner.json["uri"].as_str().unwrap());
        let code = app.generate(NOW).unwrap();
        service
            .post(
                &account_path(&account, "/enrollment/confirm"),
                json!({"code": code.as_str()}),
            )
            .await
            .expect(StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_activated_while_another_panel_deletes_it() {
    let service = Service::new("race-device");
    service.platform_on().await;
    let server = service.mail_server();
    for round in 0..ROUNDS {
        let account = format!("user{round}@example.com");
        let _app = service.enroll(&account).await;
        let phone = ClientInfo::new()
            .with_device_id("ApplF17XK0LQHG7F")
            .with_device_type("iPhone")
            .with_remote_addr("203.0.113.7");
        let attempt = LoginAttempt::new(Protocol::ActiveSync, "pw").with_client(phone);
        let login = || {
            server
                .check_login(&id(&account), &attempt, NOW + 10, |_| true)
                .unwrap()
        };
        assert!(!login().is_allowed());
        let listed = service.get(&account_path(&account, "/devices")).await.json;
        let device = listed["devices"][0]["id"].as_str().unwrap().to_owned();
        let activate = account_path(&account, &format!("/devices/{device}/activate"));
        let delete = account_path(&account, &format!("/devices/{device}"));
        let (activated, deleted) =
            tokio::join!(service.post(&activate, json!({})), service.delete(&delete));
        assert_eq!(
            deleted.status,
            StatusCode::OK,
            "round {round}: {}",
            deleted.json
        );
        let left = service.get(&account_path(&account, "/devices")).await.json;
        match activated.status {
            // Activated first, then deleted: gone, and blocked again.
            StatusCode::OK => {}
            // Deleted first: the activation found nothing.
            StatusCode::NOT_FOUND => assert_eq!(activated.code(), "not_found"),
            other => panic!(
                "round {round}: activation answered {other}: {}",
                activated.json
            ),
        }
        assert_eq!(
            left["devices"],
            json!([]),
            "round {round}: the deletion holds"
        );
        // Its next login is a new blocked device, not an authorized one.
        assert!(!login().is_allowed(), "round {round}");
    }
}
