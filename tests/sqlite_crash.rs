//! Processes killed with SIGKILL at random points while they log in with
//! fresh codes on a SQLite file: after every kill, a restarted engine
//! refuses every code whose success was reported (success is never
//! reported without the consumption stored), and the database is whole.
//! Stores close without checkpointing the WAL: each victim appends to the
//! WAL that the previous rounds' killed and cleanly closed processes left.
//! `cargo test --test sqlite_crash`.
//!
//! The victim is this test binary run again in child mode (the ignored test
//! `victim`); the seed of the kill delays is printed, and `M2FA_CRASH_SEED`
//! replays a run.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail2fa::engine::{AccountId, Decision, DenyReason, Engine, EngineConfig};
use mail2fa::store::SqliteStore;
use mail2fa::{KeyUri, Totp};

const ROUNDS: u64 = 40;
/// Trials of one round: far more than a victim gets through before it dies.
const TRIALS_PER_ROUND: u64 = 100_000;
const START: u64 = 1_800_000_000;

fn account() -> AccountId {
    AccountId::new("example.com", "alice@example.com").unwrap()
}

fn phone(uri: &str) -> Totp {
    let key = KeyUri::parse(uri).unwrap();
    Totp::new(key.secret(), key.totp_config().unwrap())
}

fn at(trial: u64) -> u64 {
    START + 30 * (trial + 1)
}

/// Logs in with the code of each trial from `M2FA_FIRST` on, and reports
/// each success on stdout once `login` has returned it — until killed.
#[test]
#[ignore = "run by killed_processes_never_report_an_unstored_success"]
fn victim() {
    let var = |name: &str| std::env::var(name).unwrap();
    let engine = Engine::new(
        SqliteStore::open(var("M2FA_DB")).unwrap(),
        EngineConfig::default(),
    )
    .unwrap();
    let totp = phone(&var("M2FA_URI"));
    let first: u64 = var("M2FA_FIRST").parse().unwrap();
    println!("ready");
    for trial in first..first + TRIALS_PER_ROUND {
        let code = totp.generate(at(trial)).unwrap();
        if engine
            .login(&account(), Some(code.as_str()), at(trial))
            .unwrap()
            .is_allowed()
        {
            println!("allowed {trial}");
        }
    }
}

/// xorshift64*: enough to spread kill delays; the seed is printed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[test]
fn killed_processes_never_report_an_unstored_success() {
    let dir = std::env::temp_dir().join(format!("m2fa-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.db");
    let db = path.to_str().unwrap().to_owned();
    let uri = {
        let engine =
            Engine::new(SqliteStore::create(&path).unwrap(), EngineConfig::default()).unwrap();
        engine.enable_platform("example.com", true).unwrap();
        let uri = engine.enable_account(&account(), START).unwrap();
        let first = phone(&uri).generate(START).unwrap();
        assert!(
            engine
                .login(&account(), Some(first.as_str()), START)
                .unwrap()
                .is_allowed()
        );
        uri.to_string()
    };
    let totp = phone(&uri);
    let mut seed = std::env::var("M2FA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64
                | 1
        });
    println!("M2FA_CRASH_SEED={seed}");
    let mut reported_total = 0u64;
    for round in 0..ROUNDS {
        let first = round * TRIALS_PER_ROUND;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "victim",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("M2FA_DB", &db)
            .env("M2FA_URI", &uri)
            .env("M2FA_FIRST", first.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait until it has opened the database, then let it work for a
        // random while (0-40 ms: mid-commit, mid-fsync, between logins...).
        let ready = lines
            .by_ref()
            .find(|l| l.as_ref().is_ok_and(|l| l.ends_with("ready")));
        assert!(ready.is_some(), "round {round}: the victim never started");
        std::thread::sleep(Duration::from_micros(next(&mut seed) % 40_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let reported: Vec<u64> = lines
            .map_while(Result::ok)
            .filter_map(|l| {
                l.find("allowed ")
                    .map(|i| l[i + 8..].trim().parse().unwrap())
            })
            .collect();
        reported_total += reported.len() as u64;

        // A restart: a new engine on the file. Every reported success must
        // be stored: its code is a replay now, never a second success.
        let engine =
            Engine::new(SqliteStore::open(&path).unwrap(), EngineConfig::default()).unwrap();
        for &trial in &reported {
            let code = totp.generate(at(trial)).unwrap();
            let again = engine
                .login(&account(), Some(code.as_str()), at(trial))
                .unwrap();
            assert_eq!(
                again,
                Decision::Deny {
                    reason: DenyReason::Replayed
                },
                "round {round} (seed {seed}): trial {trial} was reported but not stored"
            );
        }
        // Whatever the victim consumed without reporting is consumed too:
        // the last code it may have used, one step on, is a replay or a
        // success — never an error.
        let probe = first + reported.last().map_or(0, |t| t - first + 1);
        let code = totp.generate(at(probe)).unwrap();
        engine
            .login(&account(), Some(code.as_str()), at(probe))
            .unwrap();
        drop(engine);
        // Checked through the store, which (unlike a plain connection)
        // leaves the WAL to the next victim.
        let check = SqliteStore::open(&path).unwrap().check().unwrap();
        assert!(
            check.is_sound(),
            "round {round}: the database is damaged: {check:?}"
        );
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        assert!(
            std::path::Path::new(&wal).exists(),
            "round {round}: the WAL was not kept"
        );
    }
    println!(
        "{ROUNDS} victims killed with SIGKILL; {reported_total} reported successes, all stored"
    );
    assert!(
        reported_total > 0,
        "no victim ever got in: the test tested nothing"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
