//! Logins per second and tail latency on each store, side by side in one
//! run: the in-memory store, SQLite (synchronous FULL, the default) and
//! PostgreSQL (when `MAIL2FA_TEST_POSTGRES` names a database, e.g. from
//! `scripts/pg-server.sh start`; a fresh schema is used and dropped).
//!
//! Two logins a mail cluster makes all day:
//! * `authorized_device`: an activated ActiveSync/Outlook device polling
//!   once a second (two loads; the last-seen time written once per 300 s);
//! * `code_login`: a TOTP code (one load, one compare-and-swap: the step is
//!   consumed — on SQLite and PostgreSQL a durable commit).
//!
//! Each runs for a fixed time on 1 thread, 2 and several, every thread its
//! own account; every call's latency is recorded, and the table gives
//! decisions per second, p50, p99 and the worst call. Criterion reports
//! means, not tails, hence this harness (`benches/engine.rs` has the
//! criterion figures of the same logins).
//!
//! `MAIL2FA_TEST_POSTGRES=… cargo bench --features postgres --bench stores`
//! (`BENCH_SECONDS`, default 3, is the length of each run; `BENCH_THREADS`,
//! default 8, the larger thread count; `BENCH_SQLITE_SYNC=normal` opens
//! SQLite with synchronous NORMAL, no sync per commit: the figures of the
//! code path without the disk's sync time, which on a shared disk varies
//! from run to run).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Barrier;
use std::time::{Duration, Instant};

use mail2fa::Totp;
use mail2fa::engine::{
    AccountId, ClientInfo, Credential, Decision, DeviceKey, Engine, EngineConfig, LoginRequest,
    Protocol,
};
use mail2fa::store::{MemoryStore, Store};

const START: u64 = 1_800_000_000;

/// An Outlook login with the right password, from the same client each time.
fn outlook_login() -> LoginRequest<'static> {
    let outlook = ClientInfo::new()
        .with_device_type("WindowsOutlook15")
        .with_user_agent(
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        )
        .with_remote_addr("198.51.100.20");
    LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
        .with_client(outlook)
}

/// One account of one thread: enrolled, with an activated Outlook device.
struct Account {
    id: AccountId,
    totp: Totp,
}

fn prepare(engine: &Engine<Box<dyn Store>>, name: &str) -> Account {
    let id = AccountId::new("example.com", name).unwrap();
    let totp = support::enroll(engine, &id, START);
    let Decision::DevicePending { device, .. } = engine
        .authenticate(&id, &outlook_login(), START + 1)
        .unwrap()
    else {
        panic!("a new device is pending");
    };
    engine.activate_device(&id, &device, START + 2).unwrap();
    assert!(
        engine
            .authenticate(&id, &outlook_login(), START + 3)
            .unwrap()
            .is_allowed()
    );
    Account { id, totp }
}

#[derive(Clone, Copy, PartialEq)]
enum Login {
    AuthorizedDevice,
    Code,
}

/// Runs `login` on `threads` threads for `length`; every call's latency.
fn run(
    engine: &Engine<Box<dyn Store>>,
    accounts: &[Account],
    threads: usize,
    login: Login,
    length: Duration,
    round: u64,
) -> (Vec<Duration>, Duration) {
    let barrier = Barrier::new(threads);
    let started = Instant::now();
    let latencies: Vec<Vec<Duration>> = std::thread::scope(|scope| {
        let handles: Vec<_> = accounts[..threads]
            .iter()
            .map(|account| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let until = Instant::now() + length;
                    let mut seen = Vec::with_capacity(100_000);
                    // Each run starts far beyond the last one's times, so
                    // steps are fresh and devices' last-seen times behave
                    // as for a device polling once a second.
                    let mut now = START + 10 + round * 100_000_000;
                    while Instant::now() < until {
                        let code = match login {
                            Login::Code => {
                                now += 30;
                                Some(account.totp.generate(now).unwrap())
                            }
                            Login::AuthorizedDevice => {
                                now += 1;
                                None
                            }
                        };
                        let call = Instant::now();
                        let decision = match &code {
                            Some(code) => engine.login(&account.id, Some(code.as_str()), now),
                            None => engine.authenticate(&account.id, &outlook_login(), now),
                        }
                        .unwrap();
                        seen.push(call.elapsed());
                        // About once in a million steps a code equals the
                        // next step's; the engine then rightly consumes the
                        // later step. Anything else is a bug.
                        if !decision.is_allowed() && login == Login::AuthorizedDevice {
                            panic!("authorized device refused: {decision:?}");
                        }
                    }
                    seen
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    (latencies.into_iter().flatten().collect(), elapsed)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs it too,
    // briefly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 0.2 } else { 3.0 });
    let many: usize = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let length = Duration::from_secs_f64(seconds);
    // 1 thread, 2 (this machine's cores, say), and many.
    let mut counts = vec![1, 2, many.max(1)];
    counts.sort_unstable();
    counts.dedup();

    let dir = std::env::temp_dir().join(support::unique("m2fa-bench-stores"));
    std::fs::create_dir_all(&dir).unwrap();
    #[cfg_attr(not(feature = "postgres"), allow(unused_mut))]
    let mut backends: Vec<(&str, Box<dyn Store>)> = vec![
        ("memory", Box::new(MemoryStore::new())),
        (
            "sqlite",
            Box::new({
                let normal = std::env::var("BENCH_SQLITE_SYNC").is_ok_and(|v| v == "normal");
                let options = mail2fa::store::SqliteOptions::default()
                    .with_create(true)
                    .with_synchronous(if normal {
                        mail2fa::store::Synchronous::Normal
                    } else {
                        mail2fa::store::Synchronous::Full
                    });
                mail2fa::store::SqliteStore::open_with(dir.join("bench.db"), &options).unwrap()
            }),
        ),
    ];
    #[cfg(feature = "postgres")]
    let schema = support::postgres_url().map(|_| support::PostgresSchema::new());
    #[cfg(feature = "postgres")]
    if let Some(schema) = &schema {
        // The schema is created once, as an administrator does; the store
        // measured opens it as a mail host's login path does.
        drop(mail2fa::store::PostgresStore::create(&schema.url).unwrap());
        let options = mail2fa::store::PostgresOptions::default().with_max_connections(many);
        backends.push((
            "postgres",
            Box::new(mail2fa::store::PostgresStore::open_with(&schema.url, &options).unwrap()),
        ));
    } else {
        println!("(PostgreSQL skipped: MAIL2FA_TEST_POSTGRES is not set)");
    }
    #[cfg(not(feature = "postgres"))]
    println!("(PostgreSQL skipped: built without the postgres feature)");

    println!(
        "{:<10} {:<18} {:>7} {:>12} {:>10} {:>10} {:>10} {:>9}",
        "store", "login", "threads", "decisions/s", "p50 µs", "p99 µs", "max µs", "calls"
    );
    for (name, store) in backends {
        let config = EngineConfig::default().with_device_key(DeviceKey::from_bytes([0x42; 32]));
        let engine = Engine::new(store, config).unwrap();
        engine.enable_platform("example.com", true).unwrap();
        let accounts: Vec<Account> = (0..*counts.last().unwrap_or(&1))
            .map(|i| prepare(&engine, &format!("user{i}@example.com")))
            .collect();
        let mut round = 0;
        for login in [Login::AuthorizedDevice, Login::Code] {
            for &threads in &counts {
                round += 1;
                let (mut latencies, elapsed) =
                    run(&engine, &accounts, threads, login, length, round);
                latencies.sort();
                println!(
                    "{:<10} {:<18} {:>7} {:>12.0} {:>10} {:>10} {:>10} {:>9}",
                    name,
                    match login {
                        Login::AuthorizedDevice => "authorized_device",
                        Login::Code => "code_login",
                    },
                    threads,
                    latencies.len() as f64 / elapsed.as_secs_f64(),
                    micros(percentile(&latencies, 0.50)),
                    micros(percentile(&latencies, 0.99)),
                    micros(*latencies.last().unwrap()),
                    latencies.len()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
