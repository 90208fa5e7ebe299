//! Requests per second and latency (p50, p99) of mail2fa-server, driven
//! in-process (the router, no sockets) by concurrent clients on the
//! multi-threaded runtime: a panel API read (an account's status), an API
//! write (a suspension, one compare-and-swap), and a portal sign-in with
//! the second factor (the form, the password, the code: three requests, a
//! session written, promoted, a code consumed), and the endpoints for
//! nginx: `auth_request` for an authorized ActiveSync device (the steady
//! state of a phone's sync) and `auth_http` for an IMAP password+code
//! login (a code consumed) — on SQLite (synchronous
//! FULL, the default) and, with `MAIL2FA_TEST_POSTGRES`, on PostgreSQL.
//!
//! `cargo bench -p mail2fa-server --bench service 2>/dev/null` (each
//! decision of the endpoints for nginx is logged on standard error; figures in
//! BENCHMARKS.md); `cargo test -p mail2fa-server --benches` runs it briefly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use mail2fa::engine::{AccountId, Engine, EngineConfig, Protocol, ProtocolPolicy};
use mail2fa::store::{PostgresStore, SqliteStore, Store};
use mail2fa::{KeyUri, Totp};
use mail2fa_server::nginx::Gate;
use mail2fa_server::try_out::PasswordTable;
use mail2fa_server::{App, Clock};
use tower::ServiceExt;

const NOW: u64 = 1_800_000_000;
const TOKEN: &str = "bench-token-0123456789abcdef0123456789";
const PASSWORD: &str = "bench-Secret-1";
const SECRET: &str = "bench-nginx-secret-0123456789abcdef0123";
const IPHONE: &str = "Apple-iPhone14C2/2006.45";

struct Setup {
    router: Router,
    apps: Vec<Totp>,
    accounts: Vec<String>,
}

fn account(n: usize) -> String {
    format!("user{n}@example.com")
}

async fn send(
    router: &Router,
    request: Request<Body>,
) -> (StatusCode, Option<String>, Vec<String>, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        location,
        cookies,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap() + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// `accounts` enrolled accounts on `store`, the platform on.
async fn setup(store: Box<dyn Store>, accounts: usize) -> Setup {
    let engine = Engine::new(store, EngineConfig::default()).unwrap();
    engine.enable_platform("example.com", true).unwrap();
    engine
        .set_platform_policy(
            "example.com",
            &Protocol::Imap,
            Some(ProtocolPolicy::CodeInLogin),
        )
        .unwrap();
    let mut apps = Vec::new();
    let names: Vec<String> = (0..accounts).map(account).collect();
    for name in &names {
        let id = AccountId::new("example.com", name).unwrap();
        let _ = engine.remove(&id);
        let uri = engine.enable_account(&id, NOW - 60).unwrap();
        let key = KeyUri::parse(&uri).unwrap();
        let app = Totp::new(key.secret(), key.totp_config().unwrap());
        let code = app.generate(NOW - 60).unwrap();
        assert!(
            engine
                .confirm_enrollment(&id, code.as_str(), NOW - 60)
                .unwrap()
                .is_allowed()
        );
        apps.push(app);
    }
    let table = PasswordTable::new(names.iter().map(|n| (n.as_str(), PASSWORD)));
    let gate = Gate::default()
        .with_secret(SECRET)
        .with_backends(Some("127.0.0.1:10143".parse().unwrap()), None, None)
        .with_master("mail2fa-proxy", "bench-master-1");
    let app = App::new(engine, [TOKEN], Clock::fixed(NOW))
        .with_password_verifier(table)
        .with_gate(gate);
    Setup {
        router: app.router(),
        apps,
        accounts: names,
    }
}

/// The `auth_request` subrequest of `account`'s iPhone syncing.
fn sync_request(account: &str) -> Request<Body> {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{account}:{PASSWORD}"));
    Request::get("/nginx/auth-request")
        .header("x-mail2fa-secret", SECRET)
        .header(
            "x-original-uri",
            format!(
                "/Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=PHONE{account}&DeviceType=iPhone"
            ),
        )
        .header("x-original-method", "POST")
        .header(header::USER_AGENT, IPHONE)
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::empty())
        .unwrap()
}

/// Each account's iPhone: blocked once, then authorized through the API.
async fn authorize_phones(s: &Setup) {
    for account in &s.accounts {
        assert_eq!(
            send(&s.router, sync_request(account)).await.0,
            StatusCode::FORBIDDEN
        );
        let base = format!("/api/v1/platforms/example.com/accounts/{account}/devices");
        let list = Request::get(&base)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let (_, _, _, body) = send(&s.router, list).await;
        let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
        let device = listed["devices"][0]["id"].as_str().unwrap().to_owned();
        let activate = Request::post(format!("{base}/{device}/activate"))
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&s.router, activate).await.0, StatusCode::OK);
        assert_eq!(
            send(&s.router, sync_request(account)).await.0,
            StatusCode::OK
        );
    }
}

/// Runs `total` operations on `clients` concurrent tasks; `op(i)` does
/// operation `i`. Prints ops/s and the latency percentiles.
async fn measure<F, Fut>(label: &str, clients: usize, total: usize, op: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (op, next) = (Arc::clone(&op), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return times;
                }
                let t = Instant::now();
                op(i).await;
                times.push(t.elapsed());
            }
        }));
    }
    let mut times: Vec<Duration> = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{label:<44} {:>8.0}/s   p50 {:>7.0} µs   p99 {:>7.0} µs   ({total} on {clients} clients)",
        total as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
    );
}

async fn run(store_name: &str, make: impl Fn() -> Box<dyn Store>, quick: bool) {
    let (accounts, reads, clients) = if quick { (8, 40, 4) } else { (2000, 20_000, 8) };
    let setup = Arc::new(setup(make(), accounts).await);

    let s = Arc::clone(&setup);
    measure(
        &format!("{store_name}: API read (account status)"),
        clients,
        reads,
        move |i| {
            let s = Arc::clone(&s);
            async move {
                let path = format!(
                    "/api/v1/platforms/example.com/accounts/{}",
                    s.accounts[i % s.accounts.len()]
                );
                let request = Request::get(path)
                    .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                    .body(Body::empty())
                    .unwrap();
                assert_eq!(send(&s.router, request).await.0, StatusCode::OK);
            }
        },
    )
    .await;

    let s = Arc::clone(&setup);
    let writes = reads / 4;
    measure(
        &format!("{store_name}: API write (suspend 0 h, one swap)"),
        clients,
        writes,
        move |i| {
            let s = Arc::clone(&s);
            async move {
                let path = format!(
                    "/api/v1/platforms/example.com/accounts/{}/suspend",
                    s.accounts[i % s.accounts.len()]
                );
                let request = Request::post(path)
                    .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{\"hours\": 0}"))
                    .unwrap();
                assert_eq!(send(&s.router, request).await.0, StatusCode::OK);
            }
        },
    )
    .await;

    // Each account signs in once (a code is used once).
    let s = Arc::clone(&setup);
    measure(
        &format!("{store_name}: portal sign-in (password + code)"),
        clients,
        accounts,
        move |i| {
            let s = Arc::clone(&s);
            async move {
                let (_, _, cookies, html) = send(
                    &s.router,
                    Request::get("/portal/sign-in").body(Body::empty()).unwrap(),
                )
                .await;
                let form = format!(
                    "csrf={}&next=%2Fportal%2F&address={}&password={PASSWORD}",
                    field(&html, "csrf"),
                    s.accounts[i].replace('@', "%40")
                );
                let request = Request::post("/portal/sign-in")
                    .header(header::COOKIE, cookies.join("; "))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                    .unwrap();
                let (_, location, cookies, _) = send(&s.router, request).await;
                assert!(location.unwrap().starts_with("/portal/sign-in/code"));
                let session = cookies
                    .iter()
                    .find(|c| c.starts_with("__Host-m2fa_session="))
                    .unwrap()
                    .clone();
                let request = Request::get("/portal/sign-in/code")
                    .header(header::COOKIE, &session)
                    .body(Body::empty())
                    .unwrap();
                let (_, _, _, html) = send(&s.router, request).await;
                let code = s.apps[i].generate(NOW).unwrap();
                let form = format!(
                    "csrf={}&next=%2Fportal%2F&code={}",
                    field(&html, "csrf"),
                    code.as_str()
                );
                let request = Request::post("/portal/sign-in/code")
                    .header(header::COOKIE, &session)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                    .unwrap();
                let (_, location, _, _) = send(&s.router, request).await;
                assert_eq!(location.as_deref(), Some("/portal/"));
            }
        },
    )
    .await;

    authorize_phones(&setup).await;
    let s = Arc::clone(&setup);
    measure(
        &format!("{store_name}: nginx auth_request (authorized phone)"),
        clients,
        reads,
        move |i| {
            let s = Arc::clone(&s);
            async move {
                let request = sync_request(&s.accounts[i % s.accounts.len()]);
                assert_eq!(send(&s.router, request).await.0, StatusCode::OK);
            }
        },
    )
    .await;

    // Each account's next code, once, over IMAP through the mail proxy.
    let s = Arc::clone(&setup);
    measure(
        &format!("{store_name}: nginx auth_http (IMAP password + code)"),
        clients,
        accounts,
        move |i| {
            let s = Arc::clone(&s);
            async move {
                let code = s.apps[i].generate(NOW + 30).unwrap();
                let request = Request::get("/nginx/auth-http")
                    .header("x-mail2fa-secret", SECRET)
                    .header("auth-method", "plain")
                    .header("auth-user", s.accounts[i].replace('@', "%40"))
                    .header("auth-pass", format!("{PASSWORD}{}", code.as_str()))
                    .header("auth-protocol", "imap")
                    .header("auth-login-attempt", "1")
                    .header("client-ip", "203.0.113.7")
                    .body(Body::empty())
                    .unwrap();
                let response = s.router.clone().oneshot(request).await.unwrap();
                assert_eq!(response.headers()["auth-status"], "OK");
            }
        },
    )
    .await;

    // The store may be shared (PostgreSQL in test-all.sh): the platform's
    // IMAP policy back to its default, as the bench found it.
    let request = Request::delete("/api/v1/platforms/example.com/policies/imap")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert!(send(&setup.router, request).await.0.is_success());
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs it briefly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("m2fa-bench-service-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("service.db");
    runtime.block_on(run(
        "SQLite",
        || Box::new(SqliteStore::create(&db).unwrap()) as Box<dyn Store>,
        quick,
    ));
    match std::env::var("MAIL2FA_TEST_POSTGRES") {
        Ok(url) => runtime.block_on(run(
            "PostgreSQL",
            || Box::new(PostgresStore::create(&url).unwrap()) as Box<dyn Store>,
            quick,
        )),
        Err(_) => println!("PostgreSQL: skipped (MAIL2FA_TEST_POSTGRES is not set)"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
