//! Real threads racing the engine (security.md, "One-time means one time"
//! and "Throttling"): the same code presented at once is accepted exactly
//! once; parallel wrong codes are evaluated no more than the lockout allows;
//! accounts racing side by side never affect each other.
//!
//! All threads of a round start together on a `Barrier`. Time is fixed per
//! round, so the only thing that varies is the interleaving.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use mail2fa::Totp;
use mail2fa::engine::{
    AccountId, AllowReason, Decision, DenyReason, Engine, EngineConfig, LockoutPolicy, Mode,
};
use support::{TestStore, code, enroll, fresh_store, phone, wrong_code};

const PLATFORM: &str = "example.com";
const NOW: u64 = 1_800_000_000;
const PERIOD: u64 = 30;
const THREADS: usize = 64;
const TRIALS: usize = 200;

fn step(t: u64) -> u64 {
    t / PERIOD
}

fn engine_with(config: EngineConfig) -> Engine<TestStore> {
    let engine = Engine::new(fresh_store(), config).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
}

/// Outcome counters of one round.
#[derive(Default)]
struct Tally {
    allowed: AtomicU32,
    replayed: AtomicU32,
    locked: AtomicU32,
    other: AtomicU32,
}

impl Tally {
    fn record(&self, decision: &Decision) {
        let counter = match decision {
            Decision::Allow {
                reason: AllowReason::CodeAccepted { .. } | AllowReason::Enrolled { .. },
                ..
            } => &self.allowed,
            Decision::Deny {
                reason: DenyReason::Replayed,
            } => &self.replayed,
            Decision::Deny {
                reason: DenyReason::Locked { .. },
            } => &self.locked,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// (allowed, replayed, locked, other)
    fn get(&self) -> (u32, u32, u32, u32) {
        (
            self.allowed.load(Ordering::Relaxed),
            self.replayed.load(Ordering::Relaxed),
            self.locked.load(Ordering::Relaxed),
            self.other.load(Ordering::Relaxed),
        )
    }
}

/// Runs `TRIALS` rounds in which `THREADS` threads, released together, each
/// call `attempt(trial, thread)`; returns one tally per round.
fn rounds(attempt: impl Fn(usize, usize) -> Decision + Sync) -> Vec<Tally> {
    let tallies: Vec<Tally> = (0..TRIALS).map(|_| Tally::default()).collect();
    let barrier = Barrier::new(THREADS);
    thread::scope(|scope| {
        for thread in 0..THREADS {
            let (barrier, tallies, attempt) = (&barrier, &tallies, &attempt);
            scope.spawn(move || {
                for (trial, tally) in tallies.iter().enumerate() {
                    barrier.wait();
                    tally.record(&attempt(trial, thread));
                }
            });
        }
    });
    tallies
}

/// Exactly one thread of each round got in; every other one was refused as
/// a replay. Replays are not failures (they repeat a code that worked), so
/// even the default policy never locks the account here.
fn assert_exactly_one_winner(tallies: &[Tally], contenders: u32) {
    for (trial, tally) in tallies.iter().enumerate() {
        assert_eq!(tally.get().0, 1, "trial {trial}: winners");
        assert_eq!(
            tally.get(),
            (1, contenders - 1, 0, 0),
            "trial {trial}: (allowed, replayed, locked, other)"
        );
    }
}

fn lenient() -> EngineConfig {
    EngineConfig::default().with_lockout(LockoutPolicy::default().with_max_failures(100))
}

fn threads() -> u32 {
    u32::try_from(THREADS).unwrap()
}

fn same_code_per_step(config: EngineConfig) {
    let engine = engine_with(config);
    let alice = AccountId::new(PLATFORM, "alice@example.com").unwrap();
    let totp = enroll(&engine, &alice, NOW);
    // Three steps apart, so each round's window lies wholly after the step
    // consumed in the round before (and any lock of the round before, 60 s,
    // has ended).
    let time_of = |trial: usize| NOW + 3 * PERIOD * (trial as u64 + 1);
    let codes: Vec<String> = (0..TRIALS)
        .map(|trial| code(&totp, step(time_of(trial))))
        .collect();
    let tallies = rounds(|trial, _| {
        engine
            .login(&alice, Some(&codes[trial]), time_of(trial))
            .unwrap()
    });
    assert_exactly_one_winner(&tallies, threads());
}

#[test]
fn same_code_from_64_threads_is_accepted_once_per_step() {
    same_code_per_step(lenient());
}

#[test]
fn same_code_from_64_threads_is_accepted_once_and_replays_never_lock() {
    same_code_per_step(EngineConfig::default());
}

#[test]
fn same_enrollment_code_from_64_threads_enrolls_once() {
    let engine = engine_with(EngineConfig::default());
    let accounts: Vec<(AccountId, String)> = (0..TRIALS)
        .map(|trial| {
            let id = AccountId::new(PLATFORM, &format!("user{trial}@example.com")).unwrap();
            let totp = phone(&engine.enable_account(&id, NOW).unwrap());
            let first = code(&totp, step(NOW + 5));
            (id, first)
        })
        .collect();
    let tallies = rounds(|trial, _| {
        let (id, first) = &accounts[trial];
        engine.login(id, Some(first), NOW + 5).unwrap()
    });
    assert_exactly_one_winner(&tallies, threads());
}

#[test]
fn self_service_and_login_racing_with_one_code_consume_it_once() {
    // Half the threads log in with the code, half try to turn 2FA off with
    // it: exactly one of them may use it.
    let engine = engine_with(EngineConfig::default());
    let accounts: Vec<(AccountId, String)> = (0..TRIALS)
        .map(|trial| {
            let id = AccountId::new(PLATFORM, &format!("user{trial}@example.com")).unwrap();
            let totp = enroll(&engine, &id, NOW);
            (id, code(&totp, step(NOW) + 1))
        })
        .collect();
    let t = NOW + PERIOD;
    let tallies = rounds(|trial, thread| {
        let (id, next) = &accounts[trial];
        if thread % 2 == 0 {
            engine.login(id, Some(next), t).unwrap()
        } else {
            match engine.disable_with_code(id, next, t) {
                Ok(decision) => decision,
                // The winner removed 2FA, or a login won and removal raced
                // with nothing: either way this thread did not use the code.
                Err(mail2fa::Error::NotEnabled) => Decision::Deny {
                    reason: DenyReason::Replayed,
                },
                Err(other) => panic!("{other}"),
            }
        }
    });
    // Logins after a successful disable are let in without a code (counted
    // as "other"): they are not uses of the code.
    for (trial, tally) in tallies.iter().enumerate() {
        assert_eq!(tally.get().0, 1, "trial {trial}: uses of the code");
    }
}

/// 1,000 refused attempts from 50 threads at one fixed time: exactly
/// `max_failures` are evaluated, every other one is refused as locked.
fn hammer_with_wrong_codes(max_failures: u32) {
    const HAMMER_THREADS: usize = 50;
    const PER_THREAD: usize = 20;
    let engine = engine_with(
        EngineConfig::default()
            .with_lockout(LockoutPolicy::default().with_max_failures(max_failures)),
    );
    let alice = AccountId::new(PLATFORM, "alice@example.com").unwrap();
    let totp = enroll(&engine, &alice, NOW);
    let t = NOW + 40 * PERIOD;
    let c = step(t);
    // Every kind of wrong code: plain wrong, skewed, malformed.
    let skewed = code(&totp, c + 5);
    let attempts: Vec<String> = (0..HAMMER_THREADS * PER_THREAD)
        .map(|i| match i % 3 {
            0 => wrong_code(&totp, c, 1000 * i as u64),
            1 => skewed.clone(),
            _ => "12a456".to_owned(),
        })
        .collect();

    let evaluated = AtomicU32::new(0);
    let locked = AtomicU32::new(0);
    let unexpected = AtomicU32::new(0);
    let barrier = Barrier::new(HAMMER_THREADS);
    thread::scope(|scope| {
        for thread in 0..HAMMER_THREADS {
            let (engine, alice, attempts, barrier) = (&engine, &alice, &attempts, &barrier);
            let (evaluated, locked, unexpected) = (&evaluated, &locked, &unexpected);
            scope.spawn(move || {
                barrier.wait();
                for i in 0..PER_THREAD {
                    let attempt = &attempts[i * HAMMER_THREADS + thread];
                    let counter = match engine.login(alice, Some(attempt), t).unwrap() {
                        Decision::Deny {
                            reason:
                                DenyReason::WrongCode
                                | DenyReason::ClockSkew { .. }
                                | DenyReason::MalformedCode,
                        } => evaluated,
                        Decision::Deny {
                            reason: DenyReason::Locked { until },
                        } if until == t + 60 => locked,
                        _ => unexpected,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let total = u32::try_from(HAMMER_THREADS * PER_THREAD).unwrap();
    assert_eq!(
        (
            evaluated.into_inner(),
            locked.into_inner(),
            unexpected.into_inner()
        ),
        (max_failures, total - max_failures, 0),
        "max_failures {max_failures}: (evaluated, locked, unexpected)"
    );
    // The account is still locked for the right code, and free after.
    assert_eq!(
        engine.login(&alice, Some(&code(&totp, c)), t).unwrap(),
        Decision::Deny {
            reason: DenyReason::Locked { until: t + 60 }
        }
    );
    let end = t + 60;
    assert!(
        engine
            .login(&alice, Some(&code(&totp, step(end))), end)
            .unwrap()
            .is_allowed()
    );
}

#[test]
fn wrong_codes_from_50_threads_are_evaluated_only_up_to_the_limit() {
    hammer_with_wrong_codes(LockoutPolicy::default().max_failures);
}

#[test]
fn wrong_codes_from_50_threads_respect_other_limits() {
    for max_failures in [1, 17, 100] {
        hammer_with_wrong_codes(max_failures);
    }
}

#[test]
fn racing_accounts_do_not_interfere() {
    // Eight accounts, eight threads each (so several share a store shard):
    // every account gets exactly one success per round, whatever the others do.
    const ACCOUNTS: usize = 8;
    let engine = engine_with(EngineConfig::default());
    let accounts: Vec<(AccountId, Totp)> = (0..ACCOUNTS)
        .map(|a| {
            let id = AccountId::new(PLATFORM, &format!("user{a}@example.com")).unwrap();
            let totp = enroll(&engine, &id, NOW);
            (id, totp)
        })
        .collect();
    let time_of = |trial: usize| NOW + 3 * PERIOD * (trial as u64 + 1);
    let per_account: Vec<Vec<Tally>> = (0..ACCOUNTS)
        .map(|_| (0..TRIALS).map(|_| Tally::default()).collect())
        .collect();
    let tallies = rounds(|trial, thread| {
        let a = thread % ACCOUNTS;
        let (id, totp) = &accounts[a];
        let t = time_of(trial);
        let decision = engine.login(id, Some(&code(totp, step(t))), t).unwrap();
        per_account[a][trial].record(&decision);
        decision
    });
    let per = u32::try_from(THREADS / ACCOUNTS).unwrap();
    for (a, rounds) in per_account.iter().enumerate() {
        assert_exactly_one_winner(rounds, per);
        assert_eq!(rounds.len(), TRIALS, "account {a}");
    }
    for tally in &tallies {
        assert_eq!(tally.get().0, u32::try_from(ACCOUNTS).unwrap());
    }
}

#[test]
fn a_locked_account_does_not_lock_its_neighbour() {
    // Half the threads lock alice with wrong codes while the other half log
    // bob in, step after step: bob never sees a lock, alice is locked after
    // exactly `max_failures` evaluated failures. (Bob's losing threads are
    // replays, which count too, so the limit is set above them.)
    let engine = engine_with(lenient());
    let alice = AccountId::new(PLATFORM, "alice@example.com").unwrap();
    let bob = AccountId::new(PLATFORM, "bob@example.com").unwrap();
    let alice_totp = enroll(&engine, &alice, NOW);
    let bob_totp = enroll(&engine, &bob, NOW);
    let alice_time = NOW + 40 * PERIOD;
    let wrong = wrong_code(&alice_totp, step(alice_time), 0);
    let time_of = |trial: usize| NOW + 3 * PERIOD * (trial as u64 + 1);
    let alice_evaluated = AtomicU32::new(0);
    let alice_other = AtomicU32::new(0);

    let tallies = rounds(|trial, thread| {
        if thread % 2 == 0 {
            let decision = engine.login(&alice, Some(&wrong), alice_time).unwrap();
            match decision {
                Decision::Deny {
                    reason: DenyReason::WrongCode,
                } => alice_evaluated.fetch_add(1, Ordering::Relaxed),
                Decision::Deny {
                    reason: DenyReason::Locked { .. },
                } => 0,
                _ => alice_other.fetch_add(1, Ordering::Relaxed),
            };
            // Not a bob attempt: tallied as "other".
            Decision::SecondFactorRequired { mode: Mode::Totp }
        } else {
            let t = time_of(trial);
            engine
                .login(&bob, Some(&code(&bob_totp, step(t))), t)
                .unwrap()
        }
    });
    let half = u32::try_from(THREADS / 2).unwrap();
    for (trial, tally) in tallies.iter().enumerate() {
        // `other` holds alice's half.
        assert_eq!(
            tally.get(),
            (1, half - 1, 0, half),
            "trial {trial}: (allowed, replayed, locked, other)"
        );
    }
    assert_eq!(alice_evaluated.into_inner(), 100);
    assert_eq!(alice_other.into_inner(), 0);
    // Bob is not locked; alice is.
    let t = time_of(TRIALS) + PERIOD;
    assert!(
        engine
            .login(&bob, Some(&code(&bob_totp, step(t))), t)
            .unwrap()
            .is_allowed()
    );
    assert!(matches!(
        engine
            .login(
                &alice,
                Some(&code(&alice_totp, step(alice_time))),
                alice_time
            )
            .unwrap(),
        Decision::Deny {
            reason: DenyReason::Locked { .. }
        }
    ));
}
