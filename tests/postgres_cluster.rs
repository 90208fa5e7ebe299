//! The cluster guarantees on a real PostgreSQL (`MAIL2FA_TEST_POSTGRES`,
//! from `scripts/pg-server.sh start`): several mail hosts, each with its own
//! `PostgresStore` (its own pool) on one shared schema.
//!
//! * One-time means one time across hosts: 6 processes present the same
//!   valid TOTP code at the same instant, 60 times (each time a new step):
//!   exactly one gets in each time; the same for e-mail codes and recovery
//!   codes.
//! * Throttling across hosts: bursts of wrong codes from every host at once
//!   are evaluated no more than the lockout policy allows; the right code is
//!   refused while locked, on every host; no fresh quota after the lock.
//!
//! The hosts are this test binary run again in child mode (the ignored test
//! `child`): each opens its store, says it is ready, and once all are, fires
//! its plan of login attempts at the planned wall-clock instants, printing
//! one line per attempt and how many compare-and-swaps it lost. Without the variable the
//! tests say SKIPPED and pass, unless `MAIL2FA_REQUIRE_POSTGRES=1`.
//!
//! `cargo test --features postgres --test postgres_cluster -- --nocapture`

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mail2fa::Totp;
use mail2fa::engine::{
    AccountId, AllowReason, Decision, DenyReason, Engine, EngineConfig, LockoutPolicy, Mode,
};
use mail2fa::store::{CasOutcome, PostgresOptions, PostgresStore, Store, StoreError, Versioned};
use support::{PostgresSchema, code, wrong_code};

/// Mail hosts racing.
const PROCESSES: usize = 6;
/// TOTP race trials, each on a new time step.
const TOTP_TRIALS: u64 = 60;
/// E-mail code and recovery code trials, each on an account of its own.
const CODE_TRIALS: u64 = 20;
/// Milliseconds between two trials' firing instants.
const SLOT_MS: u64 = 100;
/// Wrong codes each host sends in a burst.
const BURST: usize = 20;
const START: u64 = 1_800_000_000;
const PERIOD: u64 = 30;
const PLATFORM: &str = "example.com";

/// The same on every host.
fn config() -> EngineConfig {
    EngineConfig::default().with_lockout(LockoutPolicy::default())
}

/// The tests of this binary take turns: each already runs `PROCESSES`
/// hosts at once.
static TURN: Mutex<()> = Mutex::new(());

fn take_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A host's store, counting the compare-and-swaps it lost: proof that the
/// hosts really raced on the record.
struct Counting {
    store: PostgresStore,
    conflicts: AtomicU64,
}

impl Store for Counting {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.store.load(key)
    }

    fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
        self.store.load_many(keys)
    }

    fn compare_and_swap_relaxed(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        let outcome = self.store.compare_and_swap_relaxed(key, expected, new)?;
        if outcome == CasOutcome::Conflict {
            self.conflicts.fetch_add(1, Ordering::Relaxed);
        }
        Ok(outcome)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        let outcome = self.store.compare_and_swap(key, expected, new)?;
        if outcome == CasOutcome::Conflict {
            self.conflicts.fetch_add(1, Ordering::Relaxed);
        }
        Ok(outcome)
    }
}

/// A host's engine: its own store, its own pool, on the shared schema
/// (opened as a login path does: never creating it).
fn host_engine(url: &str) -> Engine<Counting> {
    let store = Counting {
        store: PostgresStore::open_with(url, &options()).unwrap(),
        conflicts: AtomicU64::new(0),
    };
    Engine::new(store, config()).unwrap()
}

/// The store's time limit is not what these tests are about: generous, so
/// that a loaded machine cannot fail them.
fn options() -> PostgresOptions {
    PostgresOptions::default().with_timeout(Duration::from_secs(30))
}

/// The test's own engine (set-up and checks), which creates the schema as
/// the administrator does.
fn setup_engine(url: &str) -> Engine<PostgresStore> {
    let options = options().with_create(true);
    let store = PostgresStore::open_with(url, &options).unwrap();
    let engine = Engine::new(store, config()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
}

fn account(name: &str) -> AccountId {
    AccountId::new(PLATFORM, name).unwrap()
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Enables 2FA for `name` and confirms it with the code of `now`.
fn enroll(engine: &Engine<PostgresStore>, name: &str, now: u64) -> Totp {
    support::enroll(engine, &account(name), now)
}

/// One login attempt of a plan: fired `offset_ms` after the common start.
struct Attempt {
    offset_ms: u64,
    account: String,
    now: u64,
    code: String,
}

impl Attempt {
    fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}",
            self.offset_ms, self.account, self.now, self.code
        )
    }
}

/// What a host printed for an attempt.
fn label(result: &mail2fa::Result<Decision>) -> String {
    match result {
        Ok(Decision::Allow { reason, .. }) => match reason {
            AllowReason::CodeAccepted { .. } => "allowed:code".into(),
            AllowReason::DeliveredCodeAccepted => "allowed:delivered".into(),
            AllowReason::RecoveryCodeUsed { .. } => "allowed:recovery".into(),
            other => format!("allowed:{other:?}"),
        },
        Ok(Decision::Deny { reason }) => match reason {
            DenyReason::Replayed => "replayed".into(),
            DenyReason::WrongCode => "wrong".into(),
            DenyReason::ClockSkew { .. } => "skew".into(),
            DenyReason::MalformedCode => "malformed".into(),
            DenyReason::Locked { until } => format!("locked:{until}"),
            other => format!("denied:{other:?}"),
        },
        Ok(Decision::SecondFactorRequired { mode }) => format!("required:{mode:?}"),
        Ok(_) => "other".into(),
        Err(error) => format!("error:{error}").replace('\n', " "),
    }
}

/// One mail host: its own store and engine; fires each attempt of the plan
/// at its instant and prints `attempt I MICROS LABEL`, then the number of
/// compare-and-swaps it lost (`conflicts N`).
#[test]
#[ignore = "run by the cluster tests, as one mail host"]
fn child() {
    let Ok(url) = std::env::var("M2FA_PG_URL") else {
        eprintln!("child: only run by the cluster tests");
        return;
    };
    let engine = host_engine(&url);
    // Opens the pool's connection before the race, then waits for the
    // common start, given once every host is ready.
    assert!(engine.platform_enabled(PLATFORM).unwrap());
    println!("ready");
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).unwrap();
    let go: u64 = go.trim().parse().unwrap();
    let plan = std::env::var("M2FA_PLAN").unwrap();
    for (i, line) in plan.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [offset, name, now, code] = fields[..] else {
            panic!("bad plan line {line:?}");
        };
        let at = go + offset.parse::<u64>().unwrap();
        std::thread::sleep(Duration::from_millis(at.saturating_sub(wall_ms())));
        let started = Instant::now();
        let result = engine.login(&account(name), Some(code), now.parse().unwrap());
        let micros = started.elapsed().as_micros();
        println!("attempt {i} {micros} {}", label(&result));
    }
    let conflicts = engine.store().conflicts.load(Ordering::Relaxed);
    println!("conflicts {conflicts}");
}

/// What every host answered to each attempt: `outcomes[attempt][host]`,
/// with the longest login seen (microseconds) and the compare-and-swaps
/// the hosts lost.
struct Race {
    outcomes: Vec<Vec<String>>,
    max_micros: u128,
    conflicts: u64,
}

impl Race {
    /// How many answers to `attempt` have this label.
    fn count(&self, attempt: usize, label: &str) -> usize {
        self.outcomes[attempt]
            .iter()
            .filter(|l| l.as_str() == label)
            .count()
    }

    /// Labels over the attempts in `range`, counted.
    fn tally(&self, range: std::ops::Range<usize>) -> BTreeMap<String, usize> {
        let mut tally = BTreeMap::new();
        for outcomes in &self.outcomes[range] {
            for label in outcomes {
                *tally.entry(label.clone()).or_default() += 1;
            }
        }
        tally
    }
}

/// Runs `plan` on `PROCESSES` hosts at once (all start it at the same
/// wall-clock instant, once every one has connected) and collects their
/// answers.
fn race(url: &str, plan: &[Attempt]) -> Race {
    let text: Vec<String> = plan.iter().map(Attempt::line).collect();
    let mut children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    "child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("M2FA_PG_URL", url)
                .env("M2FA_PLAN", text.join("\n"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            let stdout = BufReader::new(child.stdout.take().unwrap());
            (child, stdout)
        })
        .collect();
    // Every host has opened its store and its first connection...
    for (child, stdout) in &mut children {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let status = child.wait().unwrap();
                panic!("a host ended before it was ready ({status}):\n{seen}");
            }
            seen.push_str(&line);
            if line.trim_end().ends_with("ready") {
                break;
            }
        }
    }
    // ...and all start in 300 ms.
    let go = wall_ms() + 300;
    for (child, _) in &mut children {
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{go}").unwrap();
    }
    let mut outcomes = vec![Vec::with_capacity(PROCESSES); plan.len()];
    let mut max_micros = 0;
    let mut conflicts = 0;
    for (mut child, mut stdout) in children {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "a host failed:\n{text}");
        let mut seen = 0;
        for line in text
            .lines()
            .filter_map(|l| l.find("attempt ").map(|at| &l[at..]))
        {
            let mut words = line.splitn(4, ' ').skip(1);
            let attempt: usize = words.next().unwrap().parse().unwrap();
            let micros: u128 = words.next().unwrap().parse().unwrap();
            outcomes[attempt].push(words.next().unwrap().to_owned());
            max_micros = max_micros.max(micros);
            seen += 1;
        }
        assert_eq!(
            seen,
            plan.len(),
            "a host did not make every attempt:\n{text}"
        );
        let lost = text
            .lines()
            .find_map(|l| l.strip_prefix("conflicts "))
            .expect("a host did not report its conflicts");
        conflicts += lost.parse::<u64>().unwrap();
    }
    Race {
        outcomes,
        max_micros,
        conflicts,
    }
}

#[test]
fn hosts_racing_one_totp_code_get_in_exactly_once_per_step() {
    let _turn = take_turn();
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let started = Instant::now();
    let engine = setup_engine(&schema.url);
    let totp = enroll(&engine, "alice@example.com", START);
    let plan: Vec<Attempt> = (0..TOTP_TRIALS)
        .map(|trial| {
            let now = START + PERIOD * (trial + 1);
            Attempt {
                offset_ms: trial * SLOT_MS,
                account: "alice@example.com".into(),
                now,
                code: code(&totp, now / PERIOD),
            }
        })
        .collect();
    let race = race(&schema.url, &plan);
    for trial in 0..plan.len() {
        assert_eq!(
            (
                race.count(trial, "allowed:code"),
                race.count(trial, "replayed")
            ),
            (1, PROCESSES - 1),
            "trial {trial}: {:?}",
            race.outcomes[trial]
        );
    }
    // Every step was consumed, the last one last.
    let status = engine
        .account_status(&account("alice@example.com"), START + PERIOD * TOTP_TRIALS)
        .unwrap();
    assert_eq!(status.failures, 0);
    assert_eq!(status.locked_until, None);
    assert_eq!(status.last_used, Some(START + PERIOD * TOTP_TRIALS));
    println!(
        "TOTP race: {PROCESSES} hosts x {TOTP_TRIALS} trials: successes per trial 1 (every \
         trial), answers {:?}, compare-and-swaps lost {}, slowest login {} ms, wall {:.1} s",
        race.tally(0..plan.len()),
        race.conflicts,
        race.max_micros / 1000,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn hosts_racing_one_email_code_or_recovery_code_get_in_exactly_once() {
    let _turn = take_turn();
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let started = Instant::now();
    let engine = setup_engine(&schema.url);
    let trials = CODE_TRIALS as usize;
    let mut plan = Vec::new();
    // E-mail codes: one account, one issued code per trial.
    for trial in 0..CODE_TRIALS {
        let name = format!("mail{trial}@example.com");
        let id = account(&name);
        engine.enable_account(&id, START).unwrap();
        engine
            .set_contact(&id, Some("home@example.net"), None)
            .unwrap();
        engine.set_mode(&id, Mode::Email).unwrap();
        let issued = engine.issue_code(&id, START).unwrap();
        plan.push(Attempt {
            offset_ms: trial * SLOT_MS,
            account: name,
            now: START + 10,
            code: issued.code.to_string(),
        });
    }
    // Recovery codes: an enrolled account per trial, with two recovery
    // codes of which the first is raced (the other one stays unused).
    for trial in 0..CODE_TRIALS {
        let name = format!("recovery{trial}@example.com");
        enroll(&engine, &name, START);
        let codes = engine.generate_recovery_codes(&account(&name), 2).unwrap();
        plan.push(Attempt {
            offset_ms: (CODE_TRIALS + trial) * SLOT_MS,
            account: name,
            now: START + 10,
            code: codes[0].to_string(),
        });
    }
    let race = race(&schema.url, &plan);
    for trial in 0..trials {
        assert_eq!(
            (
                race.count(trial, "allowed:delivered"),
                race.count(trial, "replayed")
            ),
            (1, PROCESSES - 1),
            "e-mail trial {trial}: {:?}",
            race.outcomes[trial]
        );
        let status = engine
            .account_status(&account(&format!("mail{trial}@example.com")), START + 10)
            .unwrap();
        // Used: no live code left; replays are not failures.
        assert_eq!((status.code_expires_at, status.failures), (None, 0));
    }
    let mut locked_after = 0;
    for trial in trials..2 * trials {
        // A spent recovery code matches nothing: the losers' attempts are
        // wrong codes (counted toward the lockout), never a second success.
        let allowed = race.count(trial, "allowed:recovery");
        let refused = race.outcomes[trial]
            .iter()
            .filter(|l| *l == "wrong" || l.starts_with("locked:"))
            .count();
        assert_eq!(
            (allowed, refused),
            (1, PROCESSES - 1),
            "recovery trial {}: {:?}",
            trial - trials,
            race.outcomes[trial]
        );
        let status = engine
            .account_status(
                &account(&format!("recovery{}@example.com", trial - trials)),
                START + 10,
            )
            .unwrap();
        assert_eq!(status.recovery_codes, 1);
        if status.locked_until.is_some() {
            locked_after += 1;
        }
    }
    println!(
        "e-mail code race: {PROCESSES} hosts x {CODE_TRIALS} trials: 1 success per trial, \
         answers {:?}; recovery code race: {PROCESSES} hosts x {CODE_TRIALS} trials: 1 success \
         per trial, answers {:?} (accounts locked afterwards by the losers' wrong codes: \
         {locked_after}/{CODE_TRIALS}); compare-and-swaps lost {}, slowest login {} ms, \
         wall {:.1} s",
        race.tally(0..trials),
        race.tally(trials..2 * trials),
        race.conflicts,
        race.max_micros / 1000,
        started.elapsed().as_secs_f64()
    );
}

/// Answers of a burst that evaluated a code (a failure was counted).
fn evaluated(race: &Race) -> usize {
    race.outcomes
        .iter()
        .flatten()
        .filter(|l| matches!(l.as_str(), "wrong" | "skew" | "malformed"))
        .count()
}

/// `BURST` wrong codes of every kind per host, all at `now`, fired at once.
fn burst(totp: &Totp, name: &str, now: u64) -> Vec<Attempt> {
    let center = now / PERIOD;
    let skewed = code(totp, center + 5);
    (0..BURST)
        .map(|i| Attempt {
            offset_ms: 0,
            account: name.into(),
            now,
            code: match i % 3 {
                0 => wrong_code(totp, center, 1000 * i as u64),
                1 => skewed.clone(),
                _ => "12a456".into(),
            },
        })
        .collect()
}

#[test]
fn wrong_codes_from_every_host_at_once_are_evaluated_only_up_to_the_limit() {
    let _turn = take_turn();
    let Some(schema) = PostgresSchema::or_skip() else {
        return;
    };
    let started = Instant::now();
    let engine = setup_engine(&schema.url);
    let name = "bob@example.com";
    let id = account(name);
    let totp = enroll(&engine, name, START);
    let policy = config().lockout;
    let max = policy.max_failures as usize;
    let total = PROCESSES * BURST;

    // A burst at t: exactly `max_failures` evaluated, the rest locked.
    let t = START + 40 * PERIOD;
    let first = race(&schema.url, &burst(&totp, name, t));
    let first_lock = t + policy.first_lock;
    let locked_label = format!("locked:{first_lock}");
    let locked = first
        .outcomes
        .iter()
        .flatten()
        .filter(|l| **l == locked_label)
        .count();
    assert_eq!(
        (evaluated(&first), locked),
        (max, total - max),
        "first burst: {:?}",
        first.tally(0..BURST)
    );
    let status = engine.account_status(&id, t).unwrap();
    assert_eq!(
        (status.locked_until, status.failures),
        (Some(first_lock), policy.max_failures - 1)
    );

    // The right code, from every host, while locked: refused.
    let right = t + 1;
    let plan = [Attempt {
        offset_ms: 0,
        account: name.into(),
        now: right,
        code: code(&totp, right / PERIOD),
    }];
    let refused = race(&schema.url, &plan);
    assert_eq!(
        refused.count(0, &locked_label),
        PROCESSES,
        "{:?}",
        refused.outcomes
    );

    // The lock over, another burst: no fresh quota, one evaluated code
    // locks again, for twice as long.
    let t2 = first_lock + 1;
    let second = race(&schema.url, &burst(&totp, name, t2));
    let second_lock = t2 + 2 * policy.first_lock;
    let second_label = format!("locked:{second_lock}");
    let locked = second
        .outcomes
        .iter()
        .flatten()
        .filter(|l| **l == second_label)
        .count();
    assert_eq!(
        (evaluated(&second), locked),
        (1, total - 1),
        "second burst: {:?}",
        second.tally(0..BURST)
    );
    let status = engine.account_status(&id, t2).unwrap();
    assert_eq!(
        (status.locked_until, status.failures),
        (Some(second_lock), policy.max_failures - 1)
    );

    // The right code works once the lock is over, and resets the count.
    let end = second_lock;
    assert!(
        engine
            .login(&id, Some(&code(&totp, end / PERIOD)), end)
            .unwrap()
            .is_allowed()
    );
    let status = engine.account_status(&id, end).unwrap();
    assert_eq!((status.locked_until, status.failures), (None, 0));
    println!(
        "lockout across {PROCESSES} hosts (max_failures {max}): burst 1: {total} wrong codes, \
         {} evaluated, answers {:?}; right code while locked: {:?}; burst 2 after the lock: \
         {} evaluated, answers {:?}; compare-and-swaps lost {}; slowest login {} ms, \
         wall {:.1} s",
        evaluated(&first),
        first.tally(0..BURST),
        refused.tally(0..1),
        evaluated(&second),
        second.tally(0..BURST),
        first.conflicts + second.conflicts,
        first.max_micros.max(second.max_micros) / 1000,
        started.elapsed().as_secs_f64()
    );
}
