//! The panel API's surface: the OpenAPI document matches the routes, every
//! route answers, tokens are required, every error is JSON with a stable
//! code, bodies are bounded and answers not cached.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use mail2fa_server::api::{MAX_BODY, route_list};
use serde_json::{Value, json};
use support::*;

/// The document's `(METHOD, path)` pairs.
fn documented() -> BTreeSet<(String, String)> {
    let doc: Value = serde_json::from_str(mail2fa_server::api::openapi::DOCUMENT).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut pairs = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            pairs.insert((method.to_uppercase(), path.clone()));
        }
    }
    pairs
}

#[test]
fn the_openapi_document_lists_exactly_the_routes() {
    let routes: BTreeSet<(String, String)> = route_list()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    let documented = documented();
    let missing: Vec<_> = routes.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes not in openapi.json: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "openapi.json paths the service does not answer: {stale:?}"
    );
    assert_eq!(routes.len(), 25);
    // Every path parameter of a route is declared in the document.
    let doc: Value = serde_json::from_str(mail2fa_server::api::openapi::DOCUMENT).unwrap();
    for (method, path) in &routes {
        let operation = &doc["paths"][path][method.to_lowercase()];
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        assert_eq!(declared, in_path, "{method} {path}");
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_route_is_answered_by_its_handler() {
    let service = Service::new("every-route");
    for (method, path) in documented() {
        let concrete = path
            .replace("{platform}", PLATFORM)
            .replace("{account}", ALICE)
            .replace("{protocol}", "imap")
            .replace("{device}", "00112233445566778899aabbccddeeff")
            .replace("{id}", "1");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = matches!(method, Method::POST | Method::PUT).then(|| json!({}));
        let answer = service.call(method.clone(), &concrete, body).await;
        if let Some(code) = answer.json["error"]["code"].as_str() {
            assert!(
                !matches!(code, "no_route" | "method_not_allowed" | "unauthorized"),
                "{method} {concrete}: {}",
                answer.json
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_of_the_configuration_is_required() {
    let service = Service::new("tokens");
    let path = platform_path("");
    let none = service.send(Method::GET, &path, None, None).await;
    let none = none.error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        none.headers[header::WWW_AUTHENTICATE],
        "Bearer realm=\"mail2fa\""
    );
    service
        .send(
            Method::GET,
            &path,
            Some("panel-token-0123456789abcdef012345678X"),
            None,
        )
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    // Not a bearer token: refused the same way.
    let basic = Request::get(&path)
        .header(header::AUTHORIZATION, format!("Basic {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    service
        .raw(basic)
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    // A refused call changes nothing.
    service
        .send(Method::PUT, &path, None, Some(json!({"enabled": true})))
        .await
        .error(StatusCode::UNAUTHORIZED, "unauthorized");
    let shown = service.get(&path).await.expect(StatusCode::OK);
    assert_eq!(shown.json["enabled"], false);
    assert_eq!(shown.json["configured"], false);
    // The document needs no token.
    let doc = service
        .send(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.json["info"]["title"], "mail2fa panel API");

    // Two tokens (two panels): both work.
    let other = "second-panel-token-abcdefghijklmnopqrstuvwxyz";
    let service = Service::with_tokens("tokens-two", &[TOKEN, other]);
    service
        .send(Method::GET, &path, Some(other), None)
        .await
        .expect(StatusCode::OK);
    service
        .send(Method::GET, &path, Some(TOKEN), None)
        .await
        .expect(StatusCode::OK);
    // No token file: every call refused, the message says what to set.
    let closed = Service::with_tokens("tokens-none", &[]);
    let answer = closed.send(Method::GET, &path, Some(TOKEN), None).await;
    let answer = answer.error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        answer.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("api_token_file")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_json_with_a_stable_code() {
    let service = Service::new("errors");
    service
        .get("/api/v1/nothing-here")
        .await
        .error(StatusCode::NOT_FOUND, "no_route");
    service
        .call(Method::PATCH, &platform_path(""), None)
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    // Bodies: not JSON, wrong fields, unknown fields, no content type.
    let path = platform_path("");
    let not_json = Request::put(&path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{enabled: yes"))
        .unwrap();
    service
        .raw(not_json)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_json");
    service
        .put(&path, json!({"enabled": "yes"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_json");
    service
        .put(&path, json!({"enabled": true, "admin": true}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_json");
    let untyped = Request::put(&path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from("{\"enabled\": true}"))
        .unwrap();
    let answer = service
        .raw(untyped)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_json");
    assert!(
        answer.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Content-Type")
    );
    // Too large.
    let big = json!({"enabled": true, "pad": "x".repeat(MAX_BODY)});
    service
        .put(&path, big)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // None of these changed anything.
    assert_eq!(
        service.get(&path).await.expect(StatusCode::OK).json["configured"],
        false
    );
    // Names and values the engine refuses.
    service
        .get("/api/v1/platforms/Example.COM")
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    service
        .get(&account_path("Alice@example.com", ""))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    service
        .put(
            &platform_path("/policies/imap"),
            json!({"policy": "sometimes"}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    service
        .put(
            &platform_path("/policies/no%20such"),
            json!({"policy": "refused"}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_value");
    // Every answer, error or not, is kept out of caches.
    let answer = service.get(&path).await;
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    let answer = service.get("/api/v1/nothing-here").await;
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_fails_is_503_and_nothing_changes() {
    let down = Arc::new(AtomicBool::new(false));
    let service = Service::failing(Arc::clone(&down));
    service.platform_on().await;
    down.store(true, Ordering::SeqCst);
    service
        .get(&platform_path(""))
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    service
        .call(Method::POST, &account_path(ALICE, "/enrollment"), None)
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    down.store(false, Ordering::SeqCst);
    service
        .get(&account_path(ALICE, ""))
        .await
        .error(StatusCode::NOT_FOUND, "not_enrolled");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_with_a_body_refuses_bad_input_and_changes_nothing() {
    let service = Service::new("bad-input");
    service.platform_on().await;
    let _app = service.enroll(ALICE).await;
    let before = snapshot(&service).await;
    let mut with_body = 0;
    for (method, path) in route_list() {
        if !matches!(method, "PUT" | "POST") {
            continue;
        }
        let concrete = path
            .replace("{platform}", PLATFORM)
            .replace("{account}", ALICE)
            .replace("{protocol}", "imap")
            .replace("{device}", "00112233445566778899aabbccddeeff");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        // An unknown field: every body of this API is a closed set of fields.
        let answer = service
            .call(method.clone(), &concrete, Some(json!({"unexpected": true})))
            .await;
        if answer.status == StatusCode::BAD_REQUEST {
            with_body += 1;
            assert_eq!(answer.code(), "invalid_json", "{method} {concrete}");
            // Not JSON at all.
            let raw = Request::builder()
                .method(method.clone())
                .uri(&concrete)
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"oops\""))
                .unwrap();
            service
                .raw(raw)
                .await
                .error(StatusCode::BAD_REQUEST, "invalid_json");
        } else {
            // A call that takes no body ignores one; it is not bad input.
            assert!(
                !answer.status.is_server_error(),
                "{method} {concrete}: {}",
                answer.json
            );
            // Undo what it did (enrollment, reset, unlock, codes): those
            // calls are covered where they are meant to change things.
            continue;
        }
    }
    assert_eq!(with_body, 9, "the routes that take a JSON body");
    // The calls with a body changed nothing. (The bodiless ones ran too:
    // compare only what none of them touches — the platform, and the
    // account's policies, mode, contacts, recovery codes, app passwords.)
    let after = snapshot(&service).await;
    assert_eq!(before.0, after.0, "platform");
    for field in [
        "mode",
        "email",
        "phone",
        "policies",
        "recovery_codes",
        "suspended_until",
    ] {
        assert_eq!(before.1[field], after.1[field], "{field}");
    }
    assert_eq!(before.2, after.2, "application passwords");
}

/// The platform, alice's account and her application passwords, as the API
/// shows them.
async fn snapshot(service: &Service) -> (Value, Value, Value) {
    let platform = service.get(&platform_path("")).await.json;
    let account = service.get(&account_path(ALICE, "")).await.json;
    let passwords = service
        .get(&account_path(ALICE, "/app-passwords"))
        .await
        .json;
    (platform, account, passwords)
}
