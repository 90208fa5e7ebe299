//! The example server as a mail client sees it, over TCP, on SQLite and on
//! PostgreSQL (`MAIL2FA_TEST_POSTGRES`, e.g. from `scripts/pg-server.sh
//! start`; skipped without it unless `MAIL2FA_REQUIRE_POSTGRES=1`):
//! logins decided by mail2fa's async one-call API, and a runtime that keeps
//! running while a login waits for a slow store write.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use mail2fa::Totp;
use mail2fa::engine::{AccountId, Protocol, ProtocolPolicy};
use mail2fa_example_tokio::{Directory, MailServer, StoreConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const DOMAIN: &str = "example.com";
const ALICE: &str = "alice@example.com";
const PASSWORD: &str = "T9D3K!px";
const T0: u64 = 1_800_000_000;

/// A store the tests make, and remove when dropped.
enum Backend {
    Sqlite(PathBuf),
    Postgres { schema: String, url: String },
}

impl Backend {
    fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(unique("m2fa-tokio"));
        std::fs::create_dir_all(&dir).unwrap();
        Self::Sqlite(dir)
    }

    /// A fresh schema in the test database, or `None` (skipped) without one.
    fn postgres() -> Option<Self> {
        let Some(url) = std::env::var("MAIL2FA_TEST_POSTGRES")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert!(
                std::env::var("MAIL2FA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "MAIL2FA_REQUIRE_POSTGRES=1 but MAIL2FA_TEST_POSTGRES is not set"
            );
            eprintln!("SKIPPED: MAIL2FA_TEST_POSTGRES is not set (scripts/pg-server.sh start)");
            return None;
        };
        let schema = unique("m2fa_tokio");
        postgres_admin(&[&format!("CREATE SCHEMA {schema}")]);
        let separator = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
        Some(Self::Postgres { schema, url })
    }

    fn config(&self) -> StoreConfig {
        match self {
            Self::Sqlite(dir) => StoreConfig::Sqlite(dir.join("state.db")),
            Self::Postgres { url, .. } => StoreConfig::Postgres(url.clone()),
        }
    }

    /// Another writer takes the store's write lock — a second SQLite
    /// connection in `BEGIN IMMEDIATE`, a PostgreSQL transaction holding an
    /// exclusive lock on the records table (reads still go through) — and
    /// keeps it until the returned sender says so or is dropped. Returns
    /// once the lock is held.
    fn hold_write_lock(&self) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
        let (held, is_held) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let thread = match self {
            Self::Sqlite(dir) => {
                let path = dir.join("state.db");
                std::thread::spawn(move || {
                    let writer = rusqlite::Connection::open(path).unwrap();
                    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
                    held.send(()).unwrap();
                    let _ = released.recv();
                    writer.execute_batch("COMMIT").unwrap();
                })
            }
            Self::Postgres { schema, .. } => {
                let lock = format!("LOCK TABLE {schema}.m2fa_records IN EXCLUSIVE MODE");
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    let client = runtime.block_on(async {
                        let (client, connection) =
                            tokio_postgres::connect(&plain_url(), tokio_postgres::NoTls)
                                .await
                                .unwrap();
                        tokio::spawn(connection);
                        client.batch_execute("BEGIN").await.unwrap();
                        client.batch_execute(&lock).await.unwrap();
                        client
                    });
                    held.send(()).unwrap();
                    let _ = released.recv();
                    runtime.block_on(client.batch_execute("COMMIT")).unwrap();
                })
            }
        };
        is_held.recv().unwrap();
        (release, thread)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        match self {
            Self::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres { schema, .. } => {
                postgres_admin(&[&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")]);
            }
        }
    }
}

/// The test database without TLS (`MAIL2FA_TEST_POSTGRES_PLAIN`, which
/// `scripts/pg-server.sh` exports with `MAIL2FA_TEST_POSTGRES`).
fn plain_url() -> String {
    std::env::var("MAIL2FA_TEST_POSTGRES_PLAIN")
        .expect("MAIL2FA_TEST_POSTGRES_PLAIN is not set (scripts/pg-server.sh start)")
}

/// Runs `statements` on the test database, on a thread of its own (never
/// on a test's runtime).
fn postgres_admin(statements: &[&str]) {
    let statements: Vec<String> = statements.iter().map(|s| (*s).to_owned()).collect();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&plain_url(), tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            for statement in statements {
                client.batch_execute(&statement).await.unwrap();
            }
        });
    })
    .join()
    .unwrap();
}

fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// One thread for the server, its clients and every other task: a call
/// that blocked it would stop them all.
fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The server on `backend`, listening for IMAP and SMTP on loopback, with
/// alice enrolled (through the façade) on a platform whose IMAP takes
/// password+code strings; her authenticator app; the server's clock.
struct Running {
    server: Arc<MailServer>,
    imap: SocketAddr,
    smtp: SocketAddr,
    clock: Arc<AtomicU64>,
    phone: Totp,
}

async fn start(backend: &Backend) -> Running {
    let clock = Arc::new(AtomicU64::new(T0));
    let directory = Directory::default().with_user(ALICE, PASSWORD);
    let server = MailServer::start(backend.config(), true, directory, {
        let clock = Arc::clone(&clock);
        move || clock.load(Ordering::SeqCst)
    })
    .await
    .unwrap();
    let alice = AccountId::new(DOMAIN, ALICE).unwrap();
    let uri = server
        .gate()
        .run({
            let alice = alice.clone();
            move |engine| {
                engine.enable_platform(DOMAIN, true)?;
                engine.set_platform_policy(
                    DOMAIN,
                    &Protocol::Imap,
                    Some(ProtocolPolicy::CodeInLogin),
                )?;
                engine.enable_account(&alice, T0)
            }
        })
        .await
        .unwrap();
    let phone = Totp::from_uri(&uri).unwrap();
    let first = phone.generate(T0).unwrap();
    let confirmed = server
        .gate()
        .run(move |engine| engine.confirm_enrollment(&alice, first.as_str(), T0))
        .await
        .unwrap();
    assert!(confirmed.is_allowed());
    let mut addresses = Vec::new();
    for protocol in [Protocol::Imap, Protocol::Smtp] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addresses.push(listener.local_addr().unwrap());
        tokio::spawn(Arc::clone(&server).serve(listener, protocol));
    }
    Running {
        server,
        imap: addresses[0],
        smtp: addresses[1],
        clock,
        phone,
    }
}

impl Running {
    /// The password+code string of the app's code at `now`.
    fn with_code(&self, now: u64) -> String {
        format!("{PASSWORD}{}", self.phone.generate(now).unwrap().as_str())
    }
}

/// A client's whole exchange: connect, read the greeting, `a LOGIN`, read
/// the answer's line, `b LOGOUT`.
async fn login(address: SocketAddr, user: &str, input: &str) -> String {
    let stream = TcpStream::connect(address).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let greeting = lines.next_line().await.unwrap().unwrap();
    assert!(greeting.starts_with("* OK"), "{greeting}");
    writer
        .write_all(format!("a LOGIN {user} {input}\r\n").as_bytes())
        .await
        .unwrap();
    let answer = lines.next_line().await.unwrap().unwrap();
    writer.write_all(b"b LOGOUT\r\n").await.unwrap();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("* BYE"));
    answer
}

fn logins_over_tcp(backend: &Backend) {
    current_thread_runtime().block_on(async {
        let running = start(backend).await;
        let alice = AccountId::new(DOMAIN, ALICE).unwrap();
        let (_, app_password) = running
            .server
            .gate()
            .run(move |engine| {
                engine.create_app_password(&alice, "phone", &[Protocol::Smtp], T0 + 10)
            })
            .await
            .unwrap();

        let now = T0 + 60;
        running.clock.store(now, Ordering::SeqCst);
        let typed = running.with_code(now);
        assert_eq!(
            login(running.imap, ALICE, &typed).await,
            "a OK LOGIN completed"
        );
        // The same string again, seconds later: the code is spent.
        running.clock.store(now + 5, Ordering::SeqCst);
        assert_eq!(
            login(running.imap, ALICE, &typed).await,
            "a NO LOGIN failed"
        );
        // A wrong password with the next code.
        running.clock.store(now + 30, Ordering::SeqCst);
        let wrong = format!(
            "T9D3K!pz{}",
            running.phone.generate(now + 30).unwrap().as_str()
        );
        assert_eq!(
            login(running.imap, ALICE, &wrong).await,
            "a NO LOGIN failed"
        );
        // The password alone, where IMAP wants a code.
        assert_eq!(
            login(running.imap, ALICE, PASSWORD).await,
            "a NO LOGIN failed"
        );
        // The application password, on its protocol; not on IMAP.
        assert_eq!(
            login(running.smtp, ALICE, app_password.as_str()).await,
            "a OK LOGIN completed"
        );
        assert_eq!(
            login(running.imap, ALICE, app_password.as_str()).await,
            "a NO LOGIN failed"
        );
    });
}

/// While a code login waits for the store's write lock, which another
/// writer holds, the runtime's other tasks go on: on a `current_thread`
/// runtime, a ticker counts ticks after the login's password check (its
/// last step before the write) and before its answer; the writer lets go
/// only once it has seen them, so the login cannot finish first. Counts
/// and order only, no durations.
fn the_runtime_runs_during_a_slow_write(backend: &Backend) {
    current_thread_runtime().block_on(async {
        let running = start(backend).await;
        let ticks = Arc::new(AtomicU64::new(0));
        let ticker = tokio::spawn({
            let ticks = Arc::clone(&ticks);
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
            }
        });

        let now = T0 + 60;
        running.clock.store(now, Ordering::SeqCst);
        let typed = running.with_code(now);
        let checks_before = running.server.directory().checks();
        let (release, writer) = backend.hold_write_lock();
        let client: JoinHandle<String> = tokio::spawn({
            let imap = running.imap;
            async move { login(imap, ALICE, &typed).await }
        });

        // The password check has answered: what is left is the write.
        while running.server.directory().checks() == checks_before {
            assert!(
                !client.is_finished(),
                "the login ended before its password check"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let at_check = ticks.load(Ordering::SeqCst);
        while ticks.load(Ordering::SeqCst) < at_check + 5 {
            assert!(
                !client.is_finished(),
                "the login ended while the write lock was held"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(!client.is_finished());
        let during = ticks.load(Ordering::SeqCst) - at_check;
        release.send(()).unwrap();

        assert_eq!(client.await.unwrap(), "a OK LOGIN completed");
        assert!(during >= 5, "{during} ticks while the login waited");
        ticker.abort();
        // The writer's thread is joined off the runtime's way: it has
        // committed once the login could write.
        writer.join().unwrap();
    });
}

#[test]
fn logins_over_tcp_on_sqlite() {
    logins_over_tcp(&Backend::sqlite());
}

#[test]
fn logins_over_tcp_on_postgres() {
    if let Some(backend) = Backend::postgres() {
        logins_over_tcp(&backend);
    }
}

#[test]
fn the_runtime_runs_during_a_slow_write_on_sqlite() {
    the_runtime_runs_during_a_slow_write(&Backend::sqlite());
}

#[test]
fn the_runtime_runs_during_a_slow_write_on_postgres() {
    if let Some(backend) = Backend::postgres() {
        the_runtime_runs_during_a_slow_write(&backend);
    }
}
