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
//! decisions per second, p50, p99 and the worst call. On SQLite the
//! authorized-device login runs again in 1, 2 and several processes on the
//! same database file, one thread each (`sqlite/processes`): how a mail
//! server's auth workers share one (Dovecot's auth worker processes, a PAM
//! stack in each). Within one process, SQLite's read transactions all take
//! one mutex (the database's shared-memory lock table) and, as the
//! process's count of readers goes to zero and back, an `fcntl` lock; from
//! separate processes they do not wait for each other. Criterion reports
//! means, not tails, hence this harness (`benches/engine.rs` has the
//! criterion figures of the same logins).
//!
//! `MAIL2FA_TEST_POSTGRES=… cargo bench --features postgres --bench stores`
//! (`BENCH_SECONDS`, default 3, is the length of each run; `BENCH_THREADS`,
//! default 8, the larger thread count; `BENCH_STORES=sqlite,postgres` runs only
//! those stores; `BENCH_SQLITE_SYNC=normal` opens
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

/// SQLite as the run opens it: synchronous FULL, or NORMAL with
/// `BENCH_SQLITE_SYNC=normal` (the child processes read it too).
fn sqlite_options() -> mail2fa::store::SqliteOptions {
    let normal = std::env::var("BENCH_SQLITE_SYNC").is_ok_and(|v| v == "normal");
    mail2fa::store::SqliteOptions::default().with_synchronous(if normal {
        mail2fa::store::Synchronous::Normal
    } else {
        mail2fa::store::Synchronous::Full
    })
}

/// The engine every run uses on `store`.
fn bench_engine(store: Box<dyn Store>) -> Engine<Box<dyn Store>> {
    let config = EngineConfig::default().with_device_key(DeviceKey::from_bytes([0x42; 32]));
    Engine::new(store, config).unwrap()
}

/// A child process of the `sqlite/processes` run (`stores --child DB
/// ACCOUNT START SECONDS ROUND`): from START (milliseconds since the Unix
/// epoch, the same for every child) for SECONDS, the authorized-device
/// login of one account on the database file DB, opened as a mail host
/// opens it; prints its calls' latencies in nanoseconds, one per line.
fn child(args: &[String]) {
    let [db, name, start, seconds, round] = args else {
        panic!("usage: stores --child DB ACCOUNT START SECONDS ROUND");
    };
    let store = mail2fa::store::SqliteStore::open_with(db, &sqlite_options()).unwrap();
    let engine = bench_engine(Box::new(store));
    let id = AccountId::new("example.com", name).unwrap();
    let length = Duration::from_secs_f64(seconds.parse().unwrap());
    let mut now = START + 10 + round.parse::<u64>().unwrap() * 100_000_000;
    let mut seen = Vec::with_capacity(500_000);
    let start = std::time::UNIX_EPOCH + Duration::from_millis(start.parse().unwrap());
    if let Ok(wait) = start.duration_since(std::time::SystemTime::now()) {
        std::thread::sleep(wait);
    }
    let until = Instant::now() + length;
    while Instant::now() < until {
        now += 1;
        let call = Instant::now();
        let decision = engine.authenticate(&id, &outlook_login(), now).unwrap();
        seen.push(call.elapsed());
        if !decision.is_allowed() {
            panic!("authorized device refused: {decision:?}");
        }
    }
    let mut out = String::with_capacity(seen.len() * 8);
    for latency in seen {
        out.push_str(&latency.as_nanos().to_string());
        out.push('\n');
    }
    print!("{out}");
}

/// The authorized-device login in `processes` child processes at once, one
/// account each, on the SQLite database `db`; every call's latency. The
/// children start together, a moment after they are spawned (their start-up
/// is not counted), and each runs for `length`.
fn run_processes(
    db: &std::path::Path,
    accounts: &[Account],
    processes: usize,
    length: Duration,
    round: u64,
) -> Vec<Duration> {
    let exe = std::env::current_exe().unwrap();
    let start = std::time::SystemTime::now() + Duration::from_millis(300);
    let start = start
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let children: Vec<_> = accounts[..processes]
        .iter()
        .map(|account| {
            std::process::Command::new(&exe)
                .arg("--child")
                .arg(db)
                .arg(account.id.account())
                .arg(start.to_string())
                .arg(length.as_secs_f64().to_string())
                .arg(round.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut latencies = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a child failed: {:?}",
            output.status
        );
        let text = String::from_utf8(output.stdout).unwrap();
        latencies.extend(
            text.lines()
                .map(|line| Duration::from_nanos(line.parse().unwrap())),
        );
    }
    latencies
}

/// One line of the table: decisions per second over `elapsed`, p50, p99,
/// the worst call.
fn report(
    store: &str,
    login: &str,
    threads: usize,
    mut latencies: Vec<Duration>,
    elapsed: Duration,
) {
    latencies.sort();
    println!(
        "{:<17} {:<18} {:>7} {:>12.0} {:>10} {:>10} {:>10} {:>9}",
        store,
        login,
        threads,
        latencies.len() as f64 / elapsed.as_secs_f64(),
        micros(percentile(&latencies, 0.50)),
        micros(percentile(&latencies, 0.99)),
        micros(*latencies.last().unwrap()),
        latencies.len()
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--child") {
        return child(&args[2..]);
    }
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
            Box::new(
                mail2fa::store::SqliteStore::open_with(
                    dir.join("bench.db"),
                    &sqlite_options().with_create(true),
                )
                .unwrap(),
            ),
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
        "{:<17} {:<18} {:>7} {:>12} {:>10} {:>10} {:>10} {:>9}",
        "store", "login", "threads", "decisions/s", "p50 µs", "p99 µs", "max µs", "calls"
    );
    // `BENCH_STORES=sqlite,postgres`: only those stores.
    let only = std::env::var("BENCH_STORES").ok();
    for (name, store) in backends {
        if only
            .as_deref()
            .is_some_and(|only| !only.split(',').any(|s| s == name))
        {
            continue;
        }
        let engine = bench_engine(store);
        engine.enable_platform("example.com", true).unwrap();
        let accounts: Vec<Account> = (0..*counts.last().unwrap_or(&1))
            .map(|i| prepare(&engine, &format!("user{i}@example.com")))
            .collect();
        let mut round = 0;
        for login in [Login::AuthorizedDevice, Login::Code] {
            for &threads in &counts {
                round += 1;
                let (latencies, elapsed) = run(&engine, &accounts, threads, login, length, round);
                let what = match login {
                    Login::AuthorizedDevice => "authorized_device",
                    Login::Code => "code_login",
                };
                report(name, what, threads, latencies, elapsed);
            }
        }
        if name == "sqlite" {
            for &processes in &counts {
                round += 1;
                let db = dir.join("bench.db");
                let latencies = run_processes(&db, &accounts, processes, length, round);
                let what = "authorized_device";
                report("sqlite/processes", what, processes, latencies, length);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
