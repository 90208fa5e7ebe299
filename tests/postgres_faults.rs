//! PostgreSQL failing under a running engine (the cluster's "fail closed"
//! guarantees on a real server): stopped in the middle of a stream of
//! logins, stopped between a login's read and its compare-and-swap, and
//! frozen (connections open, no answer) behind a proxy.
//!
//! * while the database is gone no login gets in: each one answers an
//!   error (or a refusal), within the store's timeout plus a margin, and
//!   nothing panics;
//! * once it is back, logins work again, with no state lost or reset: a
//!   code consumed before the failure is still refused as a replay, device
//!   tokens and application passwords made before it still work;
//! * a login cut off before its compare-and-swap changes nothing, so its
//!   code works once afterwards, and only once.
//!
//! Stopping needs `MAIL2FA_TEST_PG_CONTROL`, a command prefix taking `stop`
//! and `start` (run as `sh -c "$MAIL2FA_TEST_PG_CONTROL stop"`), e.g.
//! `MAIL2FA_PG_PORT=55433 bash /path/to/scripts/pg-server.sh`; every test
//! needs `MAIL2FA_TEST_POSTGRES`. Without them the tests say SKIPPED and
//! pass, unless `MAIL2FA_REQUIRE_POSTGRES=1`. The tests of this binary take
//! turns (they stop the server); don't run other PostgreSQL tests on the
//! same server at the same time.
//!
//! `cargo test --features postgres --test postgres_faults -- --nocapture`

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use mail2fa::Totp;
use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Credential, Decision, DenyReason, Engine, EngineConfig,
    LoginRequest, Protocol,
};
use mail2fa::store::{CasOutcome, PostgresOptions, PostgresStore, Store, StoreError, Versioned};
use support::{PostgresSchema, phone, postgres_url};

/// The store's bound on connecting, pool waits and each statement (short,
/// but not so short that a loaded machine's debug build misses it).
const TIMEOUT: Duration = Duration::from_secs(2);
/// The store's pool: above the number of worker threads, and all opened
/// before the run, so that no login before the failure waits to connect.
const CONNECTIONS: usize = 8;
/// What a login may take beyond it: a correctness bound, not a benchmark.
/// A login stops at its first failed store call, each bounded by the
/// timeout, but the timeout bounds waiting, not work: a new connection's
/// SCRAM key derivation runs to its end once started. In a debug build
/// that costs about 0.1 s of CPU, and over 1 s each when the pool's 8
/// connections reconnect at once on 2 busy cores (as after a freeze).
const MARGIN: Duration = Duration::from_secs(5);
const T0: u64 = 1_800_000_000;
const PERIOD: u64 = 30;
const PLATFORM: &str = "example.com";
/// Threads logging in on accounts of their own, with a fresh code each time.
const CODE_WORKERS: usize = 4;

/// The tests of this binary stop the server: one at a time.
static SERVER: Mutex<()> = Mutex::new(());

fn take_turn() -> MutexGuard<'static, ()> {
    SERVER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn skip(why: &str) {
    assert!(
        std::env::var("MAIL2FA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
        "MAIL2FA_REQUIRE_POSTGRES=1 but {why}"
    );
    eprintln!("SKIPPED: {why}");
}

/// Stops and starts the server.
struct Control {
    prefix: String,
}

impl Control {
    /// `None` (skipped) without a server or without the control command.
    fn from_env() -> Option<Self> {
        if postgres_url().is_none() {
            skip("MAIL2FA_TEST_POSTGRES is not set (scripts/pg-server.sh start)");
            return None;
        }
        match std::env::var("MAIL2FA_TEST_PG_CONTROL") {
            Ok(prefix) if !prefix.trim().is_empty() => Some(Self { prefix }),
            _ => {
                skip("MAIL2FA_TEST_PG_CONTROL is not set (e.g. 'bash scripts/pg-server.sh')");
                None
            }
        }
    }

    /// Runs `stop` or `start`; returns how long it took.
    fn run(&self, action: &str) -> Duration {
        let started = Instant::now();
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!("{} {action}", self.prefix))
            .stdin(Stdio::null())
            .output()
            .expect("sh runs");
        assert!(
            output.status.success(),
            "{} {action}: {}",
            self.prefix,
            String::from_utf8_lossy(&output.stderr)
        );
        started.elapsed()
    }
}

/// Starts the server again when dropped, even after a failed assertion, so
/// that a failing test never leaves it stopped.
struct RestartOnDrop<'a>(&'a Control);

impl Drop for RestartOnDrop<'_> {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("{} start", self.0.prefix))
            .stdout(Stdio::null())
            .status();
    }
}

fn options() -> PostgresOptions {
    PostgresOptions::default()
        .with_timeout(TIMEOUT)
        .with_max_connections(CONNECTIONS)
}

fn account(name: &str) -> AccountId {
    AccountId::new(PLATFORM, name).unwrap()
}

fn code(totp: &Totp, now: u64) -> String {
    totp.generate(now).unwrap().as_str().to_owned()
}

fn enroll<S: Store>(engine: &Engine<S>, id: &AccountId) -> Totp {
    let totp = phone(&engine.enable_account(id, T0).unwrap());
    let decision = engine.login(id, Some(&code(&totp, T0)), T0).unwrap();
    assert!(decision.is_allowed(), "{decision:?}");
    totp
}

/// A phone on ActiveSync (device authorization by default).
fn phone_client() -> ClientInfo<'static> {
    ClientInfo::new()
        .with_device_id("ApplF17XK2QJHG7F")
        .with_device_type("iPhone")
        .with_user_agent("Apple-iPhone14C2/2104.100")
        .with_remote_addr("203.0.113.7")
}

fn device_login<S: Store>(
    engine: &Engine<S>,
    id: &AccountId,
    now: u64,
) -> mail2fa::Result<Decision> {
    let request = LoginRequest::new(Protocol::ActiveSync, Credential::Password { correct: true })
        .with_client(phone_client());
    engine.authenticate(id, &request, now)
}

fn app_password_login<S: Store>(
    engine: &Engine<S>,
    id: &AccountId,
    password: &str,
    now: u64,
) -> mail2fa::Result<Decision> {
    let request = LoginRequest::new(Protocol::Imap, Credential::AppPassword(password))
        .with_client(ClientInfo::default());
    engine.authenticate(id, &request, now)
}

/// What alice holds before the failure: a consumed code, an activated
/// device token, an application password.
struct Before {
    alice: AccountId,
    totp: Totp,
    consumed_at: u64,
    app_password: String,
}

/// Alice logs in with a code (consumed), activates her phone, makes an
/// application password; each is checked to work.
fn alice_before<S: Store>(engine: &Engine<S>) -> Before {
    let alice = account("alice@example.com");
    let totp = enroll(engine, &alice);
    let consumed_at = T0 + 2 * PERIOD;
    let decision = engine
        .login(&alice, Some(&code(&totp, consumed_at)), consumed_at)
        .unwrap();
    assert!(
        matches!(
            decision,
            Decision::Allow {
                reason: AllowReason::CodeAccepted { .. },
                ..
            }
        ),
        "{decision:?}"
    );
    let device = match device_login(engine, &alice, consumed_at).unwrap() {
        Decision::DevicePending { device, .. } => device,
        other => panic!("expected a pending device, got {other:?}"),
    };
    engine
        .activate_device(&alice, &device, consumed_at)
        .unwrap();
    assert!(
        device_login(engine, &alice, consumed_at)
            .unwrap()
            .is_allowed()
    );
    let (_, password) = engine
        .create_app_password(&alice, "thunderbird", &[], consumed_at)
        .unwrap();
    let password = password.to_string();
    assert!(
        app_password_login(engine, &alice, &password, consumed_at)
            .unwrap()
            .is_allowed()
    );
    Before {
        alice,
        totp,
        consumed_at,
        app_password: password,
    }
}

/// After the failure: alice's consumed code is still a replay, a fresh
/// code works once, her device and application password still work.
fn alice_after<S: Store>(engine: &Engine<S>, before: &Before) {
    let Before {
        alice,
        totp,
        consumed_at,
        app_password,
    } = before;
    assert_eq!(
        engine
            .login(alice, Some(&code(totp, *consumed_at)), *consumed_at)
            .unwrap(),
        Decision::Deny {
            reason: DenyReason::Replayed
        },
        "the code consumed before the failure"
    );
    let fresh = consumed_at + 2 * PERIOD;
    assert!(
        engine
            .login(alice, Some(&code(totp, fresh)), fresh)
            .unwrap()
            .is_allowed(),
        "a fresh code after the failure"
    );
    assert_eq!(
        engine
            .login(alice, Some(&code(totp, fresh)), fresh)
            .unwrap(),
        Decision::Deny {
            reason: DenyReason::Replayed
        }
    );
    assert!(
        matches!(
            device_login(engine, alice, fresh).unwrap(),
            Decision::Allow {
                reason: AllowReason::DeviceAuthorized { .. },
                ..
            }
        ),
        "the device activated before the failure"
    );
    assert!(
        matches!(
            app_password_login(engine, alice, app_password, fresh).unwrap(),
            Decision::Allow {
                reason: AllowReason::AppPassword { .. },
                ..
            }
        ),
        "the application password made before the failure"
    );
}

/// One login made by a worker thread, in time since the run began.
#[derive(Debug)]
struct Call {
    worker: usize,
    start: Duration,
    end: Duration,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    Allowed,
    Refused(DenyReason),
    /// Any other decision (none is expected).
    Other(String),
    Error(String),
}

impl Outcome {
    fn of(result: mail2fa::Result<Decision>) -> Self {
        match result {
            Ok(decision) if decision.is_allowed() => Outcome::Allowed,
            Ok(Decision::Deny { reason }) => Outcome::Refused(reason),
            Ok(other) => Outcome::Other(format!("{other:?}")),
            Err(error) => Outcome::Error(error.to_string()),
        }
    }
}

/// The instants (since the run began) around the failure.
struct Timeline {
    /// The failure was being brought about from here...
    fail_begin: Duration,
    /// ...and had happened here.
    fail_end: Duration,
    /// The repair began here...
    repair_begin: Duration,
    /// ...and was done here.
    repair_end: Duration,
}

/// Opens the pool's connections: `CONNECTIONS` threads reading at once.
fn warm_up<S: Store>(engine: &Engine<S>) {
    let barrier = Barrier::new(CONNECTIONS);
    thread::scope(|scope| {
        for _ in 0..CONNECTIONS {
            scope.spawn(|| {
                barrier.wait();
                for _ in 0..3 {
                    let _ = engine.platform_enabled(PLATFORM);
                }
            });
        }
    });
}

/// Runs `CODE_WORKERS` threads logging in with a fresh code each time, one
/// logging in with alice's device and one with her application password,
/// while `fail` and then `repair` run (with a pause of `outage` between
/// them); returns every call and the timeline.
fn logins_through<S: Store>(
    engine: &Engine<S>,
    workers: &[(AccountId, Totp)],
    before: &Before,
    outage: Duration,
    fail: impl FnOnce(),
    repair: impl FnOnce(),
) -> (Vec<Call>, Timeline) {
    warm_up(engine);
    let base = Instant::now();
    let done = AtomicBool::new(false);
    let calls = Mutex::new(Vec::new());
    let workers_total = workers.len() + 2;
    // Calls each worker has finished.
    let finished: Vec<AtomicU64> = (0..workers_total).map(|_| AtomicU64::new(0)).collect();
    let timeline = thread::scope(|scope| {
        // The workers stop however this scope ends (a failed assertion too).
        let _stop = StopOnDrop(&done);
        for worker in 0..workers_total {
            let (done, calls, finished) = (&done, &calls, &finished);
            scope.spawn(move || {
                let mut mine = Vec::new();
                let mut k = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let start = base.elapsed();
                    let result = match workers.get(worker) {
                        Some((id, totp)) => {
                            // A step after every one used before: a fresh code.
                            let now = T0 + PERIOD * (10 + k);
                            engine.login(id, Some(&code(totp, now)), now)
                        }
                        None if worker == workers.len() => {
                            device_login(engine, &before.alice, before.consumed_at)
                        }
                        None => app_password_login(
                            engine,
                            &before.alice,
                            &before.app_password,
                            before.consumed_at,
                        ),
                    };
                    mine.push(Call {
                        worker,
                        start,
                        end: base.elapsed(),
                        outcome: Outcome::of(result),
                    });
                    finished[worker].fetch_add(1, Ordering::SeqCst);
                    k += 1;
                    thread::sleep(Duration::from_millis(10));
                }
                calls.lock().unwrap().extend(mine);
            });
        }
        // Each phase lasts its time, and until every worker has made a whole
        // call in it (on a loaded machine a call may take long).
        thread::sleep(Duration::from_millis(1500));
        every_worker_called(&finished, &vec![0; workers_total], "before the failure");
        let fail_begin = base.elapsed();
        fail();
        let fail_end = base.elapsed();
        let at_fail = snapshot(&finished);
        thread::sleep(outage);
        every_worker_called(&finished, &at_fail, "during the failure");
        let repair_begin = base.elapsed();
        repair();
        let repair_end = base.elapsed();
        thread::sleep(SETTLE);
        let settled = snapshot(&finished);
        thread::sleep(Duration::from_secs(2));
        every_worker_called(&finished, &settled, "after the repair");
        Timeline {
            fail_begin,
            fail_end,
            repair_begin,
            repair_end,
        }
    });
    let mut calls = calls.into_inner().unwrap();
    calls.sort_by_key(|c| c.start);
    (calls, timeline)
}

/// Sets the flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn snapshot(finished: &[AtomicU64]) -> Vec<u64> {
    finished.iter().map(|f| f.load(Ordering::SeqCst)).collect()
}

/// Waits (a minute at most) until every worker has finished a call that
/// started after `since` was taken: two more calls than then (the one
/// running then may end first).
fn every_worker_called(finished: &[AtomicU64], since: &[u64], phase: &str) {
    let limit = Instant::now() + Duration::from_secs(60);
    while finished
        .iter()
        .zip(since)
        .any(|(f, &s)| f.load(Ordering::SeqCst) < s + 2)
    {
        assert!(
            Instant::now() < limit,
            "a worker made no whole call {phase} in a minute"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// After the repair, logins may still fail (never get in) for this long:
/// every connection is new, and connecting on a loaded machine may miss
/// the timeout once.
const SETTLE: Duration = TIMEOUT;

/// Checks the calls around a failure and prints the figures: before it
/// every login got in; while it lasted none did, and each answered in
/// time; after the repair (and `SETTLE`) every login got in again.
fn check_calls(what: &str, calls: &[Call], timeline: &Timeline, workers: usize) {
    let bound = TIMEOUT + MARGIN;
    let slowest = calls.iter().map(|c| c.end - c.start).max().unwrap();
    for call in calls {
        assert!(
            call.end - call.start < bound,
            "{what}: a login took {:?} (bound {bound:?}): {call:?}",
            call.end - call.start
        );
        if let Outcome::Other(decision) = &call.outcome {
            panic!("{what}: unexpected decision {decision}: {call:?}");
        }
    }
    let before: Vec<&Call> = calls
        .iter()
        .filter(|c| c.end < timeline.fail_begin)
        .collect();
    let during: Vec<&Call> = calls
        .iter()
        .filter(|c| c.start > timeline.fail_end && c.end < timeline.repair_begin)
        .collect();
    let settling: Vec<&Call> = calls
        .iter()
        .filter(|c| c.start > timeline.repair_end && c.start <= timeline.repair_end + SETTLE)
        .collect();
    let after: Vec<&Call> = calls
        .iter()
        .filter(|c| c.start > timeline.repair_end + SETTLE)
        .collect();
    for call in &before {
        assert!(
            matches!(call.outcome, Outcome::Allowed),
            "{what}: before the failure: {call:?}"
        );
    }
    for call in &during {
        assert!(
            matches!(call.outcome, Outcome::Error(_) | Outcome::Refused(_)),
            "{what}: a login got in during the failure: {call:?}"
        );
    }
    for call in &settling {
        assert!(
            matches!(call.outcome, Outcome::Allowed | Outcome::Error(_)),
            "{what}: just after the repair: {call:?}"
        );
    }
    for call in &after {
        assert!(
            matches!(call.outcome, Outcome::Allowed),
            "{what}: after the repair: {call:?}"
        );
    }
    for worker in 0..workers {
        for (phase, calls) in [("before", &before), ("during", &during), ("after", &after)] {
            assert!(
                calls.iter().any(|c| c.worker == worker),
                "{what}: worker {worker} made no call {phase} the failure"
            );
        }
    }
    let errors = during
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Error(_)))
        .count();
    let slowest_during = during.iter().map(|c| c.end - c.start).max().unwrap();
    let sample = during
        .iter()
        .find_map(|c| match &c.outcome {
            Outcome::Error(e) => Some(e.as_str()),
            _ => None,
        })
        .unwrap_or("-");
    let allowed = |calls: &[&Call]| {
        calls
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Allowed))
            .count()
    };
    println!(
        "{what}: {} logins in all (slowest {} ms, bound {} ms); before: {} ({} allowed); \
         during the failure ({} ms): {} logins, {errors} errors, {} refusals, 0 allowed, \
         slowest {} ms; settling ({} ms after the repair): {} ({} allowed); after: {} ({} \
         allowed); failure brought about in {} ms, repaired in {} ms; an error: {sample}",
        calls.len(),
        slowest.as_millis(),
        bound.as_millis(),
        before.len(),
        allowed(&before),
        (timeline.repair_begin - timeline.fail_end).as_millis(),
        during.len(),
        during.len() - errors,
        slowest_during.as_millis(),
        SETTLE.as_millis(),
        settling.len(),
        allowed(&settling),
        after.len(),
        allowed(&after),
        (timeline.fail_end - timeline.fail_begin).as_millis(),
        (timeline.repair_end - timeline.repair_begin).as_millis(),
    );
}

/// Enrolls the code workers' accounts.
fn code_workers<S: Store>(engine: &Engine<S>) -> Vec<(AccountId, Totp)> {
    (0..CODE_WORKERS)
        .map(|i| {
            let id = account(&format!("worker{i}@example.com"));
            let totp = enroll(engine, &id);
            (id, totp)
        })
        .collect()
}

#[test]
fn server_stopped_mid_run_refuses_every_login_in_time_and_loses_nothing() {
    let _turn = take_turn();
    let Some(control) = Control::from_env() else {
        return;
    };
    let started = Instant::now();
    let schema = PostgresSchema::new();
    let _restart = RestartOnDrop(&control);
    drop(PostgresStore::create(&schema.url).unwrap());
    let store = PostgresStore::open_with(&schema.url, &options()).unwrap();
    let engine = Engine::new(store, EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let before = alice_before(&engine);
    let workers = code_workers(&engine);

    let (calls, timeline) = logins_through(
        &engine,
        &workers,
        &before,
        Duration::from_secs(3),
        || {
            control.run("stop");
        },
        || {
            control.run("start");
        },
    );
    check_calls("server stopped", &calls, &timeline, CODE_WORKERS + 2);
    alice_after(&engine, &before);
    println!(
        "server stopped: wall {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A store that stops the server on its first compare-and-swap once
/// armed: the login has read the record and decided, and its write meets
/// a dead server.
struct StopBeforeCas<'a> {
    store: PostgresStore,
    control: &'a Control,
    armed: AtomicBool,
    stopped_in: AtomicU64,
}

impl Store for StopBeforeCas<'_> {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.store.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            let took = self.control.run("stop");
            self.stopped_in
                .store(took.as_millis() as u64, Ordering::SeqCst);
        }
        self.store.compare_and_swap(key, expected, new)
    }
}

#[test]
fn server_stopped_between_read_and_write_fails_closed_and_the_code_works_once() {
    let _turn = take_turn();
    let Some(control) = Control::from_env() else {
        return;
    };
    let started = Instant::now();
    let schema = PostgresSchema::new();
    let _restart = RestartOnDrop(&control);
    drop(PostgresStore::create(&schema.url).unwrap());
    let store = StopBeforeCas {
        store: PostgresStore::open_with(&schema.url, &options()).unwrap(),
        control: &control,
        armed: AtomicBool::new(false),
        stopped_in: AtomicU64::new(0),
    };
    let engine = Engine::new(store, EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let carol = account("carol@example.com");
    let totp = enroll(&engine, &carol);

    let t = T0 + 5 * PERIOD;
    let valid = code(&totp, t);
    engine.store().armed.store(true, Ordering::SeqCst);
    let call = Instant::now();
    let result = engine.login(&carol, Some(&valid), t);
    let took = call.elapsed();
    let stopped_in = Duration::from_millis(engine.store().stopped_in.load(Ordering::SeqCst));
    assert!(
        !engine.store().armed.load(Ordering::SeqCst),
        "the login never reached its compare-and-swap"
    );
    let error = match result {
        Err(mail2fa::Error::Store(error)) => error,
        other => panic!("a login whose write met a stopped server: {other:?}"),
    };
    assert!(
        took.saturating_sub(stopped_in) < TIMEOUT + MARGIN,
        "the failed login took {took:?}, {stopped_in:?} of it stopping the server"
    );
    // Still down: refused with an error again, not let in.
    assert!(engine.login(&carol, Some(&valid), t).is_err());

    control.run("start");
    // The cut-off login wrote nothing: the code works, once.
    let outcomes: Vec<Outcome> = (0..3)
        .map(|_| Outcome::of(engine.login(&carol, Some(&valid), t)))
        .collect();
    assert!(
        matches!(
            outcomes[..],
            [
                Outcome::Allowed,
                Outcome::Refused(DenyReason::Replayed),
                Outcome::Refused(DenyReason::Replayed)
            ]
        ),
        "{outcomes:?}"
    );
    let status = engine.account_status(&carol, t).unwrap();
    assert_eq!((status.last_used, status.failures), (Some(t), 0));
    println!(
        "server stopped before the compare-and-swap: the login failed closed in {} ms \
         ({} ms of it stopping the server): {error}; after the restart the code worked once, \
         then {:?}; wall {:.1} s",
        took.as_millis(),
        stopped_in.as_millis(),
        &outcomes[1..],
        started.elapsed().as_secs_f64()
    );
}

/// A TCP proxy to the server that can freeze: connections stay open but
/// nothing passes either way (a hung server or a network partition).
struct Proxy {
    port: u16,
    frozen: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let (f, d) = (frozen.clone(), done.clone());
        thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(target) else {
                            continue;
                        };
                        for (from, to) in [
                            (client.try_clone().unwrap(), server.try_clone().unwrap()),
                            (server, client),
                        ] {
                            let (f, d) = (f.clone(), d.clone());
                            thread::spawn(move || pump(from, to, &f, &d));
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        Self { port, frozen, done }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.store(frozen, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` until either ends; while frozen, reads nothing,
/// and what a read already under way returns is held until the thaw: a
/// login that starts once `freeze` has returned gets no answer, however
/// few round trips it makes.
fn pump(mut from: TcpStream, mut to: TcpStream, frozen: &AtomicBool, done: &AtomicBool) {
    from.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut buffer = [0u8; 16 * 1024];
    while !done.load(Ordering::Relaxed) {
        if frozen.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(5));
            continue;
        }
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                while frozen.load(Ordering::SeqCst) && !done.load(Ordering::Relaxed) {
                    thread::sleep(Duration::from_millis(5));
                }
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// `url` split around its `host:port` (which it returns resolved), to
/// point it at the proxy; `None` for a string of another form.
fn split_url(url: &str) -> Option<(String, SocketAddr, String)> {
    let at = url.find('@')? + 1;
    let end = at + url[at..].find('/')?;
    let target = url[at..end].to_socket_addrs().ok()?.next()?;
    Some((url[..at].to_owned(), target, url[end..].to_owned()))
}

#[test]
fn server_frozen_mid_run_times_every_login_out_in_time_and_loses_nothing() {
    let _turn = take_turn();
    if postgres_url().is_none() {
        skip("MAIL2FA_TEST_POSTGRES is not set (scripts/pg-server.sh start)");
        return;
    }
    let started = Instant::now();
    let schema = PostgresSchema::new();
    let Some((head, target, tail)) = split_url(&schema.url) else {
        skip("MAIL2FA_TEST_POSTGRES is not a postgres://user@host:port/db URL");
        return;
    };
    drop(PostgresStore::create(&schema.url).unwrap());
    let proxy = Proxy::start(target);
    let url = format!("{head}127.0.0.1:{}{tail}", proxy.port);
    let store = PostgresStore::open_with(&url, &options()).unwrap();
    let engine = Engine::new(store, EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    let before = alice_before(&engine);
    let workers = code_workers(&engine);

    let (calls, timeline) = logins_through(
        &engine,
        &workers,
        &before,
        // Each worker's call that was running when it froze ends within the
        // timeout, and the next one is wholly inside the freeze.
        3 * TIMEOUT,
        || proxy.freeze(true),
        || proxy.freeze(false),
    );
    check_calls("server frozen", &calls, &timeline, CODE_WORKERS + 2);
    // Frozen, a login can only end by running out of time (waiting for an
    // answer, a connection, or a connection of the pool).
    for call in calls
        .iter()
        .filter(|c| c.start > timeline.fail_end && c.end < timeline.repair_begin)
    {
        assert!(
            matches!(&call.outcome, Outcome::Error(e) if e.contains("within") || e.contains("busy for")),
            "a login during the freeze ended otherwise than by its timeout: {call:?}"
        );
    }
    alice_after(&engine, &before);
    println!(
        "server frozen: wall {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
