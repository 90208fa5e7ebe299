//! Property test of the engine's state machine: random sequences of
//! operations on one account (logins with right, wrong, malformed and
//! replayed codes on a moving clock, suspend, unlock, reset), each decision
//! compared with a small model of the stories (S2, S4, S7, S8, S9), and
//! these invariants checked on what the engine answered, independently of
//! the model:
//!
//! * no time step is ever accepted twice for the same secret;
//! * accepted steps strictly increase per secret;
//! * no more than `max_failures` evaluated wrong codes (replays excluded:
//!   they repeat a code that worked and are not counted) in a row without a
//!   lock (the lock is observed right after each failure, on a copy of the
//!   stored record, so observing it changes nothing);
//! * an account known to be locked never gets in with a code.
//!
//! Secrets are random: an operation whose code would be ambiguous (it is also
//! the code of another step nearby) is skipped rather than left to luck.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{HashMap, HashSet};

use mail2fa::engine::{
    AccountId, AllowReason, Decision, DenyReason, Engine, EngineConfig, LockoutPolicy,
};
use mail2fa::store::{MemoryStore, Store};
use mail2fa::{KeyUri, Totp};
use proptest::prelude::*;
use support::{TestStore, fresh_store};

const PLATFORM: &str = "example.com";
const START: u64 = 1_800_000_000;
const PERIOD: u64 = 30;
/// Steps each side within which a presented code must name one step only.
const MARGIN: u64 = 12;

#[derive(Debug, Clone)]
enum Op {
    /// Log in with the code of the current step plus this offset.
    Right(i64),
    /// Log in with a well-formed code derived from the seed.
    Wrong(u32),
    /// Log in with a malformed code.
    Malformed(usize),
    /// Present again a code that was accepted earlier (index, modulo).
    Replay(usize),
    /// Let time pass.
    Advance(u64),
    /// Suspend 2FA for that many seconds.
    Suspend(u64),
    /// An operator lifts the lock.
    Unlock,
    /// New secret, pending enrollment.
    Reset,
}

const MALFORMED: [&str; 5] = ["", "12345", "1234567", "12 456", "abcdef"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (-3i64..=3).prop_map(Op::Right),
        3 => any::<u32>().prop_map(Op::Wrong),
        1 => (0..MALFORMED.len()).prop_map(Op::Malformed),
        2 => any::<usize>().prop_map(Op::Replay),
        4 => (0u64..=120).prop_map(Op::Advance),
        1 => (0u64..=240).prop_map(Op::Suspend),
        1 => Just(Op::Unlock),
        1 => Just(Op::Reset),
    ]
}

fn policy() -> impl Strategy<Value = LockoutPolicy> {
    (1u32..=6, 5u64..=90, 1u64..=8).prop_map(|(max_failures, first_lock, factor)| {
        LockoutPolicy::default()
            .with_max_failures(max_failures)
            .with_first_lock(first_lock)
            .with_max_lock(first_lock * factor)
    })
}

fn phone(uri: &str) -> (Vec<u8>, Totp) {
    let key = KeyUri::parse(uri).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    (key.secret().expose_bytes().to_vec(), totp)
}

/// Steps within [`MARGIN`] of `center` whose code is `code`.
fn steps_matching(totp: &Totp, code: &str, center: u64) -> Vec<u64> {
    (center - MARGIN..=center + MARGIN)
        .filter(|&s| totp.generate_at_step(s).as_str() == code)
        .collect()
}

/// What the stories say the engine answers.
#[derive(Debug)]
enum Expected {
    Suspended(u64),
    Locked(u64),
    Accepted(u64),
    /// Refused after evaluation: one of these reasons.
    Failed(Vec<DenyReason>),
}

/// The account as the stories describe it.
#[derive(Debug)]
struct Model {
    policy: LockoutPolicy,
    diagnostic_window: u64,
    now: u64,
    secret: Vec<u8>,
    totp: Totp,
    pending: bool,
    last_step: Option<u64>,
    failures: u32,
    level: u32,
    locked_until: Option<u64>,
    suspended_until: Option<u64>,
}

impl Model {
    fn step(&self) -> u64 {
        self.now / PERIOD
    }

    fn locked(&self) -> Option<u64> {
        self.locked_until.filter(|&until| self.now < until)
    }

    /// S8; a pending enrollment can be suspended too.
    fn suspended(&self) -> Option<u64> {
        self.suspended_until.filter(|&until| self.now < until)
    }

    fn expect(&self, code: &str, matched: Option<u64>, malformed: bool) -> Expected {
        if let Some(until) = self.suspended() {
            return Expected::Suspended(until);
        }
        if let Some(until) = self.locked() {
            return Expected::Locked(until);
        }
        if malformed {
            return Expected::Failed(vec![DenyReason::MalformedCode]);
        }
        let Some(s) = matched else {
            // The last code used, however old, is a replay (a mail client
            // reconnecting with its stored string), never a failure.
            let last_code = self
                .last_step
                .map(|last| self.totp.generate_at_step(last).as_str().to_owned());
            if last_code.as_deref() == Some(code) {
                return Expected::Failed(vec![DenyReason::Replayed]);
            }
            return Expected::Failed(vec![DenyReason::WrongCode]);
        };
        let offset = i64::try_from(s).unwrap() - i64::try_from(self.step()).unwrap();
        let fresh = self.last_step.is_none_or(|last| s > last);
        let distance = offset.unsigned_abs();
        match (distance, fresh) {
            (0..=1, true) => Expected::Accepted(s),
            (0..=1, false) => Expected::Failed(vec![DenyReason::Replayed]),
            (d, true) if d <= self.diagnostic_window => {
                Expected::Failed(vec![DenyReason::ClockSkew { steps: offset }])
            }
            // Outside the window and already used: whether the engine calls
            // that a replay or a wrong code is not specified.
            (_, false) => Expected::Failed(vec![DenyReason::WrongCode, DenyReason::Replayed]),
            (_, true) => Expected::Failed(vec![DenyReason::WrongCode]),
        }
    }

    fn succeed(&mut self, step: u64) {
        self.pending = false;
        self.last_step = Some(step);
        self.failures = 0;
        self.level = 0;
        self.locked_until = None;
        self.suspended_until = None;
    }

    /// S7: a lock after `max_failures`, each lock twice the one before up to
    /// `max_lock`, and no fresh quota when it ends.
    fn fail(&mut self) {
        self.failures += 1;
        if self.failures >= self.policy.max_failures {
            self.level += 1;
            let length = 2u64
                .checked_pow(self.level - 1)
                .and_then(|factor| self.policy.first_lock.checked_mul(factor))
                .map_or(self.policy.max_lock, |l| l.min(self.policy.max_lock));
            self.locked_until = Some(self.now + length);
            self.failures = self.policy.max_failures - 1;
        }
    }

    fn unlock(&mut self) {
        self.failures = 0;
        self.level = 0;
        self.locked_until = None;
    }

    /// S9: new secret, pending; the lockout (and a running suspension)
    /// survive.
    fn reset(&mut self, uri: &str) {
        (self.secret, self.totp) = phone(uri);
        self.pending = true;
        self.last_step = None;
    }
}

/// The invariants, checked on the engine's answers only.
#[derive(Debug, Default)]
struct Invariants {
    max_failures: u32,
    used: HashSet<(Vec<u8>, u64)>,
    last_accepted: HashMap<Vec<u8>, u64>,
    /// Evaluated wrong codes since the last success, unlock or observed lock.
    streak: u32,
    /// The end of the latest lock observed.
    locked_until: u64,
}

impl Invariants {
    fn observe(
        &mut self,
        secret: &[u8],
        now: u64,
        decision: &Decision,
    ) -> Result<(), TestCaseError> {
        match decision {
            Decision::Allow {
                reason: AllowReason::CodeAccepted { step } | AllowReason::Enrolled { step },
                ..
            } => {
                prop_assert!(
                    now >= self.locked_until,
                    "a code got in at {} during a lock until {}",
                    now,
                    self.locked_until
                );
                prop_assert!(
                    self.used.insert((secret.to_vec(), *step)),
                    "step {} accepted twice",
                    step
                );
                if let Some(previous) = self.last_accepted.insert(secret.to_vec(), *step) {
                    prop_assert!(
                        *step > previous,
                        "step {} accepted after step {}",
                        step,
                        previous
                    );
                }
                self.streak = 0;
            }
            Decision::Deny {
                reason: DenyReason::Locked { until },
            } => {
                self.locked_until = self.locked_until.max(*until);
                self.streak = 0;
            }
            Decision::Deny {
                reason:
                    DenyReason::WrongCode | DenyReason::ClockSkew { .. } | DenyReason::MalformedCode,
            } => {
                self.streak += 1;
                prop_assert!(
                    self.streak <= self.max_failures,
                    "{} wrong codes evaluated in a row without a lock (limit {})",
                    self.streak,
                    self.max_failures
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn unlocked(&mut self) {
        self.streak = 0;
        self.locked_until = 0;
    }
}

/// Whether the account is locked now, asked of a copy of its stored record
/// (so that the question itself counts no failure). The copy is a scratch
/// memory store whatever the backend under test: the record is read from
/// that backend, and a fresh durable store per probe would only add cost.
fn probe(engine: &Engine<TestStore>, config: &EngineConfig, id: &AccountId, now: u64) -> Decision {
    let copy = Engine::new(MemoryStore::new(), config.clone()).unwrap();
    copy.enable_platform(PLATFORM, true).unwrap();
    let record = engine.store().load(&id.store_key()).unwrap().unwrap();
    copy.store()
        .compare_and_swap(&id.store_key(), None, Some(&record.bytes))
        .unwrap();
    copy.login(id, Some("x"), now).unwrap()
}

struct Run {
    config: EngineConfig,
    engine: Engine<TestStore>,
    id: AccountId,
    model: Model,
    invariants: Invariants,
    /// Codes the engine accepted: secret, step, code.
    accepted: Vec<(Vec<u8>, u64, String)>,
}

impl Run {
    fn new(policy: LockoutPolicy, start: u64) -> Self {
        let config = EngineConfig::default().with_lockout(policy);
        let engine = Engine::new(fresh_store(), config.clone()).unwrap();
        engine.enable_platform(PLATFORM, true).unwrap();
        let id = AccountId::new(PLATFORM, "alice@example.com").unwrap();
        let uri = engine.enable_account(&id, start).unwrap();
        let (secret, totp) = phone(&uri);
        let model = Model {
            policy,
            diagnostic_window: u64::from(config.diagnostic_window),
            now: start,
            secret,
            totp,
            pending: true,
            last_step: None,
            failures: 0,
            level: 0,
            locked_until: None,
            suspended_until: None,
        };
        Self {
            config,
            engine,
            id,
            model,
            invariants: Invariants {
                max_failures: policy.max_failures,
                ..Invariants::default()
            },
            accepted: Vec::new(),
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.model.now;
        let c = self.model.step();
        match *op {
            Op::Advance(seconds) => self.model.now += seconds,
            Op::Suspend(seconds) => {
                let until = self.engine.suspend(&self.id, seconds, now).unwrap();
                prop_assert_eq!(until, now + seconds);
                self.model.suspended_until = Some(until);
            }
            Op::Unlock => {
                self.engine.unlock(&self.id).unwrap();
                self.model.unlock();
                self.invariants.unlocked();
            }
            Op::Reset => {
                let uri = self.engine.reset(&self.id, now).unwrap();
                prop_assert_ne!(&phone(&uri).0, &self.model.secret);
                self.model.reset(&uri);
            }
            Op::Right(offset) => {
                let s = c.checked_add_signed(offset).unwrap();
                let code = self.model.totp.generate_at_step(s).as_str().to_owned();
                if steps_matching(&self.model.totp, &code, c) == [s] {
                    self.attempt(&code, Some(s), false)?;
                }
            }
            Op::Wrong(seed) => {
                let code = format!("{:06}", seed % 1_000_000);
                if steps_matching(&self.model.totp, &code, c).is_empty() {
                    self.attempt(&code, None, false)?;
                }
            }
            Op::Malformed(i) => self.attempt(MALFORMED[i], None, true)?,
            Op::Replay(i) => {
                if self.accepted.is_empty() {
                    return Ok(());
                }
                let (secret, s, code) = self.accepted[i % self.accepted.len()].clone();
                let matching = steps_matching(&self.model.totp, &code, c);
                let same_secret = secret == self.model.secret;
                let in_reach = s.abs_diff(c) <= MARGIN;
                let expected_matches: &[u64] = if same_secret && in_reach { &[s] } else { &[] };
                if matching == expected_matches {
                    self.attempt(&code, matching.first().copied(), false)?;
                }
            }
        }
        Ok(())
    }

    fn attempt(
        &mut self,
        code: &str,
        matched: Option<u64>,
        malformed: bool,
    ) -> Result<(), TestCaseError> {
        let now = self.model.now;
        let expected = self.model.expect(code, matched, malformed);
        let decision = self.engine.login(&self.id, Some(code), now).unwrap();
        self.invariants
            .observe(&self.model.secret, now, &decision)?;
        match (&expected, &decision) {
            (Expected::Suspended(until), _) => prop_assert_eq!(
                &decision,
                &Decision::Allow {
                    reason: AllowReason::Suspended { until: *until },
                    cacheable: false
                }
            ),
            (Expected::Locked(until), _) => prop_assert_eq!(
                &decision,
                &Decision::Deny {
                    reason: DenyReason::Locked { until: *until }
                }
            ),
            (Expected::Accepted(step), _) => {
                let reason = if self.model.pending {
                    AllowReason::Enrolled { step: *step }
                } else {
                    AllowReason::CodeAccepted { step: *step }
                };
                prop_assert_eq!(
                    &decision,
                    &Decision::Allow {
                        reason,
                        cacheable: false
                    }
                );
                self.model.succeed(*step);
                self.accepted
                    .push((self.model.secret.clone(), *step, code.to_owned()));
            }
            (Expected::Failed(reasons), Decision::Deny { reason }) => {
                prop_assert!(
                    reasons.contains(reason),
                    "expected one of {:?}, got {:?}",
                    reasons,
                    reason
                );
                // A replay repeats a code that worked: refused, not counted.
                if *reason != DenyReason::Replayed {
                    self.model.fail();
                }
                // Is the account locked now? Ask a copy, and check the model.
                let probed = probe(&self.engine, &self.config, &self.id, now);
                if matches!(
                    probed,
                    Decision::Deny {
                        reason: DenyReason::Locked { .. }
                    }
                ) {
                    self.invariants.observe(&self.model.secret, now, &probed)?;
                }
                match self.model.locked() {
                    Some(until) => prop_assert_eq!(
                        probed,
                        Decision::Deny {
                            reason: DenyReason::Locked { until }
                        }
                    ),
                    None => prop_assert_eq!(
                        probed,
                        Decision::Deny {
                            reason: DenyReason::MalformedCode
                        }
                    ),
                }
            }
            (Expected::Failed(reasons), other) => {
                prop_assert!(false, "expected a refusal {:?}, got {:?}", reasons, other);
            }
        }
        Ok(())
    }
}

/// 512 cases; 64 on PostgreSQL, where every case creates (and drops) a
/// schema of its own and each operation is a round trip to the server.
fn cases() -> ProptestConfig {
    let cases = if support::backend() == "postgres" {
        64
    } else {
        512
    };
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn engine_follows_the_model_and_keeps_its_invariants(
        policy in policy(),
        start_offset in 0u64..PERIOD,
        enroll_first in any::<bool>(),
        ops in prop::collection::vec(op(), 1..=40),
    ) {
        let mut run = Run::new(policy, START + start_offset);
        if enroll_first {
            run.apply(&Op::Right(0))?;
        }
        for op in &ops {
            run.apply(op)?;
        }
    }
}
