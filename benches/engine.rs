//! A full second-factor login on the in-memory store — load the record,
//! decode, verify, consume the step, encode, compare-and-swap — next to the
//! bare `Totp::verify_after` it is built on, in one run; and the mail-client
//! logins of `Engine::authenticate` (group `device_login`) side by side;
//! a password+code login in one `Engine::check_login` call next to the
//! split and `authenticate` it replaces (group `password_code_login`).
//!
//! `cargo bench --bench engine`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mail2fa::engine::{
    AccountId, AllowReason, ClientInfo, Credential, Decision, DeviceKey, Engine, EngineConfig,
    LoginAttempt, LoginRequest, Protocol, ProtocolPolicy,
};
use mail2fa::store::MemoryStore;
use mail2fa::{KeyUri, Totp};

const START: u64 = 1_800_000_000;

fn bench(c: &mut Criterion) {
    let engine = Engine::new(MemoryStore::new(), EngineConfig::default()).unwrap();
    engine.enable_platform("example.com", true).unwrap();
    let id = AccountId::new("example.com", "alice@example.com").unwrap();
    let uri = engine.enable_account(&id, START).unwrap();
    let phone = KeyUri::parse(&uri).unwrap();
    let totp = Totp::new(phone.secret(), phone.totp_config().unwrap());
    // Enroll, then log in once per 30 s step: every iteration presents the
    // next step's code, as a real user would.
    let now = Cell::new(START);
    let first = totp.generate(START).unwrap();
    assert!(
        engine
            .login(&id, Some(first.as_str()), START)
            .unwrap()
            .is_allowed()
    );

    let mut group = c.benchmark_group("second_factor_login");
    group.bench_function("engine_login_memory_store", |b| {
        b.iter_batched(
            || {
                now.set(now.get() + 30);
                (now.get(), totp.generate(now.get()).unwrap())
            },
            // Not asserted per iteration: about one step in a million shares
            // its code with the next one, and the engine then (rightly)
            // consumes the later step, refusing the following login.
            |(at, code)| engine.login(&id, Some(code.as_str()), at).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let last = totp.step_at(START).unwrap();
    let code = totp.generate(START + 30).unwrap();
    group.bench_function("bare_verify_after", |b| {
        b.iter(|| totp.verify_after(black_box(code.as_str()), black_box(START + 30), last))
    });
    group.finish();
}

/// Outlook desktop as a mail server sees it.
fn outlook() -> ClientInfo<'static> {
    ClientInfo::new()
        .with_device_type("WindowsOutlook15")
        .with_user_agent(
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        )
        .with_remote_addr("198.51.100.20")
}

/// An enrolled account (2FA confirmed with a first code) and its phone.
fn enrolled<S: mail2fa::store::Store>(engine: &Engine<S>, name: &str) -> (AccountId, Totp) {
    let id = AccountId::new("example.com", name).unwrap();
    let uri = engine.enable_account(&id, START).unwrap();
    let phone = KeyUri::parse(&uri).unwrap();
    let totp = Totp::new(phone.secret(), phone.totp_config().unwrap());
    let first = totp.generate(START).unwrap();
    assert!(
        engine
            .login(&id, Some(first.as_str()), START)
            .unwrap()
            .is_allowed()
    );
    (id, totp)
}

/// `Engine::authenticate` for the logins a mail server sees most, side by
/// side, each on its own account of one engine (default policies: last-seen
/// and last-used times are written at most once per 300 s).
fn device_login(c: &mut Criterion) {
    let config = EngineConfig::default().with_device_key(DeviceKey::from_bytes([0x42; 32]));
    let engine = Engine::new(MemoryStore::new(), config).unwrap();
    engine.enable_platform("example.com", true).unwrap();

    // An Outlook desktop the user has activated (S12-S14).
    let (alice, _) = enrolled(&engine, "alice@example.com");
    let outlook = LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
        .with_client(outlook());
    let pending = engine.authenticate(&alice, &outlook, START + 1).unwrap();
    let Decision::DevicePending { device, .. } = pending else {
        panic!("first login of a new device: {pending:?}");
    };
    engine.activate_device(&alice, &device, START + 2).unwrap();
    let authorized = Decision::Allow {
        reason: AllowReason::DeviceAuthorized { device },
        cacheable: false,
    };
    assert_eq!(
        engine.authenticate(&alice, &outlook, START + 3).unwrap(),
        authorized
    );

    // An IMAP client with an application password (S16).
    let (bob, _) = enrolled(&engine, "bob@example.com");
    let (app, password) = engine
        .create_app_password(&bob, "Thunderbird", &[Protocol::Imap], START + 1)
        .unwrap();
    let imap = LoginRequest::new(Protocol::Imap, Credential::AppPassword(password.as_str()))
        .with_client(
            ClientInfo::new()
                .with_user_agent("Thunderbird 128.5.0")
                .with_remote_addr("203.0.113.7"),
        );
    let app_allowed = Decision::Allow {
        reason: AllowReason::AppPassword { id: app.id },
        cacheable: false,
    };
    assert_eq!(
        engine.authenticate(&bob, &imap, START + 2).unwrap(),
        app_allowed
    );

    // An account without 2FA: one store miss.
    let dave = AccountId::new("example.com", "dave@example.com").unwrap();
    let no_second_factor = Decision::Allow {
        reason: AllowReason::NoSecondFactor,
        cacheable: true,
    };
    assert_eq!(
        engine.authenticate(&dave, &outlook, START).unwrap(),
        no_second_factor
    );

    // The TOTP path of `second_factor_login`, for comparison.
    let (carol, totp) = enrolled(&engine, "carol@example.com");

    let mut group = c.benchmark_group("device_login");
    // One second per login: the last-seen time is written once in 300
    // iterations, as a device polling every second would cause.
    let now = Cell::new(START + 10);
    group.bench_function("authorized_device", |b| {
        b.iter(|| {
            now.set(now.get() + 1);
            engine.authenticate(&alice, black_box(&outlook), now.get())
        })
    });
    assert_eq!(
        engine.authenticate(&alice, &outlook, now.get()).unwrap(),
        authorized
    );
    let now = Cell::new(START + 10);
    group.bench_function("app_password", |b| {
        b.iter(|| {
            now.set(now.get() + 1);
            engine.authenticate(&bob, black_box(&imap), now.get())
        })
    });
    assert_eq!(
        engine.authenticate(&bob, &imap, now.get()).unwrap(),
        app_allowed
    );
    group.bench_function("no_second_factor", |b| {
        b.iter(|| engine.authenticate(&dave, black_box(&outlook), START))
    });
    let now = Cell::new(START);
    group.bench_function("totp_code_login", |b| {
        b.iter_batched(
            || {
                now.set(now.get() + 30);
                (now.get(), totp.generate(now.get()).unwrap())
            },
            // Not asserted per iteration: see `engine_login_memory_store`.
            |(at, code)| engine.login(&carol, Some(code.as_str()), at).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// The same two logins on each store, side by side: the read path (an
/// authorized device, at a fixed time, so nothing is written — the
/// last-seen time is fresh) and the write path (a TOTP code login: one
/// compare-and-swap, on SQLite one commit). SQLite files live in the
/// system's temporary directory.
fn stores(c: &mut Criterion) {
    use mail2fa::store::{SqliteOptions, SqliteStore, Store, Synchronous};
    let dir = std::env::temp_dir().join(format!("m2fa-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = |name: &str, synchronous| -> Box<dyn Store> {
        let options = SqliteOptions::default()
            .with_create(true)
            .with_synchronous(synchronous);
        Box::new(SqliteStore::open_with(dir.join(name), &options).unwrap())
    };
    let backends: Vec<(&str, Box<dyn Store>)> = vec![
        ("memory", Box::new(MemoryStore::new())),
        ("sqlite_full", sqlite("full.db", Synchronous::Full)),
        ("sqlite_normal", sqlite("normal.db", Synchronous::Normal)),
    ];
    let mut group = c.benchmark_group("store");
    for (name, store) in backends {
        let engine = Engine::new(store, EngineConfig::default()).unwrap();
        engine.enable_platform("example.com", true).unwrap();
        let (alice, totp) = enrolled(&engine, "alice@example.com");
        let outlook = LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
            .with_client(outlook());
        let Decision::DevicePending { device, .. } =
            engine.authenticate(&alice, &outlook, START + 1).unwrap()
        else {
            panic!("a new device is pending");
        };
        engine.activate_device(&alice, &device, START + 2).unwrap();
        let read_at = START + 3;
        assert!(
            engine
                .authenticate(&alice, &outlook, read_at)
                .unwrap()
                .is_allowed()
        );
        group.bench_function(format!("authorized_device/{name}"), |b| {
            b.iter(|| engine.authenticate(&alice, black_box(&outlook), read_at))
        });
        let now = Cell::new(START);
        group.bench_function(format!("totp_code_login/{name}"), |b| {
            b.iter_batched(
                || {
                    now.set(now.get() + 30);
                    (now.get(), totp.generate(now.get()).unwrap())
                },
                |(at, code)| engine.login(&alice, Some(code.as_str()), at).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A password+code string typed into an IMAP client, where IMAP takes a
/// code in the login: one `check_login` call (account and platform read
/// once, the code step compare-and-swapped on that read) next to the split
/// and `authenticate` a host wrote before (account and platform read twice),
/// on memory and on SQLite (synchronous=NORMAL, so the commit's fsync does
/// not hide the reads), each iteration with the next step's code.
fn password_code_login(c: &mut Criterion) {
    use mail2fa::store::{SqliteOptions, SqliteStore, Store, Synchronous};
    let dir = std::env::temp_dir().join(format!("m2fa-bench-one-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let options = SqliteOptions::default()
        .with_create(true)
        .with_synchronous(Synchronous::Normal);
    let backends: Vec<(&str, Box<dyn Store>)> = vec![
        ("memory", Box::new(MemoryStore::new())),
        (
            "sqlite_normal",
            Box::new(SqliteStore::open_with(dir.join("one.db"), &options).unwrap()),
        ),
    ];
    let password_ok = |password: &str| password == "T9D3K!px";
    let mut group = c.benchmark_group("password_code_login");
    for (name, store) in backends {
        let engine = Engine::new(store, EngineConfig::default()).unwrap();
        engine.enable_platform("example.com", true).unwrap();
        engine
            .set_platform_policy(
                "example.com",
                &Protocol::Imap,
                Some(ProtocolPolicy::CodeInLogin),
            )
            .unwrap();
        let (alice, totp) = enrolled(&engine, "alice@example.com");
        let now = Cell::new(START);
        let next = || {
            now.set(now.get() + 30);
            let code = totp.generate(now.get()).unwrap();
            (now.get(), format!("T9D3K!px{}", code.as_str()))
        };
        group.bench_function(format!("check_login/{name}"), |b| {
            b.iter_batched(
                next,
                |(at, typed)| {
                    let attempt = LoginAttempt::new(Protocol::Imap, &typed);
                    engine
                        .check_login(&alice, &attempt, at, password_ok)
                        .unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("split_then_authenticate/{name}"), |b| {
            b.iter_batched(
                next,
                |(at, typed)| {
                    let (password, code) = engine
                        .split_login_for(&alice, &Protocol::Imap, &typed, at)
                        .unwrap();
                    let credential = Credential::PasswordAndCode {
                        correct: password_ok(password),
                        code: code.unwrap(),
                    };
                    let request = LoginRequest::new(Protocol::Imap, credential);
                    engine.authenticate(&alice, &request, at).unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        let (at, typed) = next();
        let attempt = LoginAttempt::new(Protocol::Imap, &typed);
        assert!(
            engine
                .check_login(&alice, &attempt, at, password_ok)
                .unwrap()
                .is_allowed()
        );
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench, device_login, stores, password_code_login);
criterion_main!(benches);
