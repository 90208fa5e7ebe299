//! OTP hot-path figures, mail2fa side by side with totp-rs 6.0.0 in one run.
//!
//! `cargo bench --bench otp` — results and machine notes go to BENCHMARKS.md.
//!
//! Both sides get the same 20-byte secret, SHA-1, 6 digits, 30 s, ±1 window.
//! "miss" presents a well-formed wrong code (every window step computed on
//! both sides); "hit" presents the current step's code (totp-rs stops at the
//! first match, mail2fa always computes the whole window). The baseline
//! `sha1_compress` measures one bare SHA-1 compression on this machine, the
//! unit the targets are stated in; `sha1_two_chained` two of them in a
//! chain, the floor for generating one code.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mail2fa::{Secret, Totp, TotpConfig};

const SECRET: &[u8; 20] = b"12345678901234567890";
const NOW: u64 = 1_800_000_015;

fn peer() -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(SECRET.to_vec())
        .build()
        .unwrap()
}

fn ours() -> Totp {
    Totp::new(&Secret::from_bytes(SECRET).unwrap(), TotpConfig::default())
}

/// A well-formed code that matches none of the three window steps.
fn wrong_code(totp: &Totp) -> String {
    let step = totp.step_at(NOW).unwrap();
    let window: Vec<String> = (step - 1..=step + 1)
        .map(|s| totp.generate_at_step(s).as_str().to_owned())
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !window.contains(c))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let mut block = [[0u8; 64]];
    let mut state = [
        0x6745_2301u32,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    c.bench_function("baseline/sha1_compress", |b| {
        b.iter(|| {
            block[0][0] = block[0][0].wrapping_add(1);
            sha1::block_api::compress(black_box(&mut state), black_box(&block));
        })
    });

    // Two compressions in a chain, as in one code (inner, then outer): the
    // floor of `generate` with this SHA-1 implementation.
    let start = state;
    c.bench_function("baseline/sha1_two_chained", |b| {
        b.iter(|| {
            let mut chained = black_box(start);
            sha1::block_api::compress(&mut chained, black_box(&block));
            sha1::block_api::compress(&mut chained, black_box(&block));
            chained
        })
    });

    let mine = ours();
    let theirs = peer();
    let good = mine.generate(NOW).unwrap().as_str().to_owned();
    let bad = wrong_code(&mine);
    // Both sides agree on what is right and wrong before anything is timed.
    assert_eq!(theirs.generate(NOW).to_string(), good);
    assert!(mine.verify(&good, NOW).unwrap().is_some() && theirs.check(&good, NOW).is_some());
    assert!(mine.verify(&bad, NOW).unwrap().is_none() && theirs.check(&bad, NOW).is_none());

    let mut group = c.benchmark_group("verify_pm1_miss");
    group.bench_function("mail2fa", |b| {
        b.iter(|| mine.verify(black_box(&bad), black_box(NOW)))
    });
    group.bench_function("totp-rs", |b| {
        b.iter(|| theirs.check(black_box(&bad), black_box(NOW)))
    });
    group.finish();

    let mut group = c.benchmark_group("verify_pm1_hit");
    group.bench_function("mail2fa", |b| {
        b.iter(|| mine.verify(black_box(&good), black_box(NOW)))
    });
    group.bench_function("totp-rs", |b| {
        b.iter(|| theirs.check(black_box(&good), black_box(NOW)))
    });
    group.finish();

    let mut group = c.benchmark_group("generate");
    group.bench_function("mail2fa", |b| b.iter(|| mine.generate(black_box(NOW))));
    group.bench_function("totp-rs", |b| b.iter(|| theirs.generate(black_box(NOW))));
    group.finish();

    let mut group = c.benchmark_group("key_setup");
    let secret = Secret::from_bytes(SECRET).unwrap();
    group.bench_function("mail2fa", |b| {
        b.iter(|| Totp::new(black_box(&secret), TotpConfig::default()))
    });
    group.bench_function("totp-rs", |b| b.iter(peer));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
