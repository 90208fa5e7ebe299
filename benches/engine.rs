//! A full second-factor login on the in-memory store — load the record,
//! decode, verify, consume the step, encode, compare-and-swap — next to the
//! bare `Totp::verify_after` it is built on, in one run.
//!
//! `cargo bench --bench engine`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mail2fa::engine::{AccountId, Engine, EngineConfig};
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

criterion_group!(benches, bench);
criterion_main!(benches);
