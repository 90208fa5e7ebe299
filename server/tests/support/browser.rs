//! A browser for the portal's suites, in-process: the router and its
//! cookies (every one checked for `Secure; HttpOnly; SameSite=Strict;
//! Path=/`), forms posted as browsers post them; a portal on its own store
//! with a password table; enrollment through the pages.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use mail2fa::{KeyUri, Totp};
use mail2fa_server::App;
use mail2fa_server::deliver::Delivery;
use mail2fa_server::try_out::PasswordTable;
use tower::ServiceExt;

use super::*;

pub const ADMIN: &str = "postmaster@example.com";

/// A browser: the portal's router and its cookies.
pub struct Browser {
    pub router: Router,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub html: String,
}

impl Page {
    /// The value of the first hidden `name` field.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {}", self.html))
            + marker.len();
        self.html[at..].split('"').next().unwrap().to_owned()
    }
}

impl Browser {
    pub fn new(router: Router) -> Self {
        Self {
            router,
            cookies: HashMap::new(),
        }
    }

    pub async fn send(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut request = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(header::COOKIE, jar.join("; "));
        }
        let request = match form {
            Some(fields) => {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                    .collect();
                request
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body.join("&")))
            }
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        for cookie in response.headers().get_all(header::SET_COOKIE) {
            let text = cookie.to_str().unwrap();
            for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
                assert!(text.contains(attribute), "{text}");
            }
            let (pair, _) = text.split_once(';').unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            location,
            headers,
            html: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send("POST", path, Some(form)).await
    }

    /// Signs in with the password (and `code`, when asked); returns the
    /// page reached.
    pub async fn sign_in(&mut self, address: &str, password: &str, code: Option<&str>) -> Page {
        let form = self.get("/portal/sign-in").await;
        let csrf = form.field("csrf");
        let answer = self
            .post(
                "/portal/sign-in",
                &[
                    ("csrf", &csrf),
                    ("next", "/portal/"),
                    ("address", address),
                    ("password", password),
                ],
            )
            .await;
        match (answer.location.as_deref(), code) {
            (Some(location), Some(code)) if location.starts_with("/portal/sign-in/code") => {
                let form = self.get(location).await;
                let csrf = form.field("csrf");
                self.post(
                    "/portal/sign-in/code",
                    &[("csrf", &csrf), ("next", "/portal/"), ("code", code)],
                )
                .await
            }
            _ => answer,
        }
    }
}

pub fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A portal on its own store, the platform on, with alice, bob and the
/// administrator in the password table.
pub fn portal(test: &str) -> (Service, Router) {
    portal_with(test, None)
}

/// The same, delivering by `delivery`.
pub fn portal_with(test: &str, delivery: Option<Delivery>) -> (Service, Router) {
    let service = Service::new(test);
    let engine = service.mail_server();
    engine.enable_platform(PLATFORM, true).unwrap();
    let store = mail2fa::store::SqliteStore::open(service.dir.join("mail2fa.db")).unwrap();
    let engine = mail2fa::engine::Engine::new(
        Box::new(store) as Box<dyn mail2fa::store::Store>,
        mail2fa::engine::EngineConfig::default(),
    )
    .unwrap();
    let passwords = PasswordTable::new([
        (ALICE, "alice-Secret-1"),
        ("bob@example.com", "bob-Secret-1"),
        (ADMIN, "admin-Secret-1"),
    ]);
    let mut app = App::new(engine, [TOKEN], service.clock.clone())
        .with_password_verifier(passwords)
        .with_admins([ADMIN]);
    if let Some(delivery) = delivery {
        app = app.with_delivery(delivery);
    }
    let router = app.router();
    (service, router)
}

/// Enrolls alice through the portal; returns her app.
pub async fn enroll_alice(browser: &mut Browser) -> Totp {
    enroll(browser, ALICE, "alice-Secret-1").await
}

/// Enrolls `address` through the portal; returns its app.
pub async fn enroll(browser: &mut Browser, address: &str, password: &str) -> Totp {
    let overview = browser.sign_in(address, password, None).await;
    assert_eq!(overview.location.as_deref(), Some("/portal/"));
    let page = browser.get("/portal/").await;
    assert!(
        page.html.contains("Turn on two-factor authentication"),
        "{}",
        page.html
    );
    let csrf = page.field("csrf");
    let shown = browser.post("/portal/enroll", &[("csrf", &csrf)]).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.html.contains("<svg"), "the QR code inline");
    assert!(!shown.html.contains("<?xml"));
    // The key as text, in groups of four: the app is set up from it.
    let at = shown.html.find("<code class=\"key\">").unwrap() + "<code class=\"key\">".len();
    let key: String = shown.html[at..]
        .split('<')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let uri = format!("otpauth://totp/example.com:{address}?secret={key}&issuer=example.com");
    let app = Totp::new(
        KeyUri::parse(&uri).unwrap().secret(),
        KeyUri::parse(&uri).unwrap().totp_config().unwrap(),
    );
    let code = app.generate(NOW).unwrap();
    let done = browser
        .post(
            "/portal/enroll/confirm",
            &[("csrf", &shown.field("csrf")), ("code", code.as_str())],
        )
        .await;
    assert_eq!(
        done.location.as_deref(),
        Some("/portal/?done=enrolled"),
        "{}",
        done.html
    );
    app
}
