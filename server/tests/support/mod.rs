//! What the panel API's suites share: a service on its own SQLite file
//! (or a failing store), its router driven in-process, a mail server's
//! engine on the same file, an authenticator app.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use mail2fa::engine::{AccountId, Engine, EngineConfig};
use mail2fa::store::{CasOutcome, MemoryStore, SqliteStore, Store, StoreError, Versioned};
use mail2fa::{KeyUri, Totp};
use mail2fa_server::{App, Clock};
use serde_json::Value;
use tower::ServiceExt;

pub mod browser;

/// The fixed "now" of every call: 2027-01-15 08:00:00 UTC.
pub const NOW: u64 = 1_800_000_000;
pub const TOKEN: &str = "panel-token-0123456789abcdef0123456789";
pub const PLATFORM: &str = "example.com";
pub const ALICE: &str = "alice@example.com";

/// One answer: status, headers, the JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Answer {
    /// Asserts the status, showing the body if not.
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "{}", self.json);
        self
    }

    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error: {}", self.json))
    }

    /// Asserts an error answer of `status` and `code`, with a sentence.
    pub fn error(self, status: StatusCode, code: &str) -> Self {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.json);
        assert!(!self.json["error"]["message"].as_str().unwrap().is_empty());
        self
    }
}

/// A service on a SQLite file of its own, at `NOW` on a fixed clock.
pub struct Service {
    pub router: Router,
    pub clock: Clock,
    pub dir: PathBuf,
}

impl Service {
    pub fn new(test: &str) -> Self {
        Self::with_tokens(test, &[TOKEN])
    }

    pub fn with_tokens(test: &str, tokens: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("mail2fa-server-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::create(dir.join("mail2fa.db")).unwrap();
        let engine =
            Engine::new(Box::new(store) as Box<dyn Store>, EngineConfig::default()).unwrap();
        let clock = Clock::fixed(NOW);
        let app = App::new(engine, tokens.iter().copied(), clock.clone());
        Self {
            router: app.router(),
            clock,
            dir,
        }
    }

    /// A service whose store fails every call while `down` is set.
    pub fn failing(down: Arc<AtomicBool>) -> Self {
        let store = Failing {
            inner: MemoryStore::new(),
            down,
        };
        let engine =
            Engine::new(Box::new(store) as Box<dyn Store>, EngineConfig::default()).unwrap();
        let clock = Clock::fixed(NOW);
        let app = App::new(engine, [TOKEN], clock.clone());
        Self {
            router: app.router(),
            clock,
            dir: std::env::temp_dir(),
        }
    }

    /// A mail server's engine on the same file (its own connection).
    pub fn mail_server(&self) -> Engine<SqliteStore> {
        Engine::new(
            SqliteStore::open(self.dir.join("mail2fa.db")).unwrap(),
            EngineConfig::default(),
        )
        .unwrap()
    }

    /// A request with the token, and `body` as JSON when given.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.send(method, path, Some(TOKEN), body).await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        self.raw(request).await
    }

    pub async fn raw(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&bytes)));
        Answer {
            status,
            headers,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Turns 2FA on for `PLATFORM`.
    pub async fn platform_on(&self) {
        self.put(&platform_path(""), serde_json::json!({"enabled": true}))
            .await
            .expect(StatusCode::OK);
    }

    /// Enables `account` and confirms it with the app's code at `NOW`;
    /// returns the app.
    pub async fn enroll(&self, account: &str) -> Totp {
        let uri = self
            .call(Method::POST, &account_path(account, "/enrollment"), None)
            .await
            .expect(StatusCode::CREATED)
            .json["uri"]
            .as_str()
            .unwrap()
            .to_owned();
        let app = authenticator(&uri);
        let code = app.generate(NOW).unwrap();
        self.post(
            &account_path(account, "/enrollment/confirm"),
            serde_json::json!({"code": code.as_str()}),
        )
        .await
        .expect(StatusCode::OK);
        app
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if self.dir != std::env::temp_dir() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn platform_path(rest: &str) -> String {
    format!("/api/v1/platforms/{PLATFORM}{rest}")
}

pub fn account_path(account: &str, rest: &str) -> String {
    format!("/api/v1/platforms/{PLATFORM}/accounts/{account}{rest}")
}

pub fn id(account: &str) -> AccountId {
    AccountId::new(PLATFORM, account).unwrap()
}

/// What an authenticator app makes of a provisioning URI.
pub fn authenticator(uri: &str) -> Totp {
    let key = KeyUri::parse(uri).unwrap();
    Totp::new(key.secret(), key.totp_config().unwrap())
}

/// A store that fails while `down` is set.
struct Failing {
    inner: MemoryStore,
    down: Arc<AtomicBool>,
}

impl Failing {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Backend(
                "the test switched the store off".into(),
            ))
        } else {
            Ok(())
        }
    }
}

impl Store for Failing {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.check()?;
        self.inner.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.check()?;
        self.inner.compare_and_swap(key, expected, new)
    }
}
