//! Several processes sharing one SQLite file present the same valid code at
//! the same moment, trial after trial: exactly one of them gets in each
//! time, never two (security.md, "one-time means one time" — across
//! processes). `cargo test --test sqlite_processes`.
//!
//! The processes are this test binary run again in child mode (the ignored
//! test `child`, started with `--ignored --exact child`), each with its own
//! `SqliteStore` on the file; they fire each trial at the same wall-clock
//! instant.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mail2fa::engine::{AccountId, Decision, DenyReason, Engine, EngineConfig};
use mail2fa::store::SqliteStore;
use mail2fa::{KeyUri, Totp};

const PROCESSES: usize = 8;
const TRIALS: u64 = 60;
/// Milliseconds between two trials' firing instants.
const SLOT_MS: u64 = 25;
const START: u64 = 1_800_000_000;

fn account() -> AccountId {
    AccountId::new("example.com", "alice@example.com").unwrap()
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn engine(path: &str) -> Engine<SqliteStore> {
    Engine::new(SqliteStore::open(path).unwrap(), EngineConfig::default()).unwrap()
}

/// One racing process: for each trial, wait for its instant, log in with
/// that trial's code, print the outcome.
#[test]
#[ignore = "run by processes_racing_one_code_get_in_exactly_once"]
fn child() {
    let var = |name: &str| std::env::var(name).unwrap();
    let engine = engine(&var("M2FA_DB"));
    let uri = var("M2FA_URI");
    let key = KeyUri::parse(&uri).unwrap();
    let totp = Totp::new(key.secret(), key.totp_config().unwrap());
    let go: u64 = var("M2FA_GO_MS").parse().unwrap();
    let id = account();
    for trial in 0..TRIALS {
        let at = go + trial * SLOT_MS;
        let wait = at.saturating_sub(wall_ms());
        std::thread::sleep(Duration::from_millis(wait));
        let now = START + 30 * (trial + 1);
        let code = totp.generate(now).unwrap();
        let outcome = match engine.login(&id, Some(code.as_str()), now) {
            Ok(decision) if decision.is_allowed() => "allowed".to_owned(),
            Ok(Decision::Deny {
                reason: DenyReason::Replayed,
            }) => "replayed".to_owned(),
            Ok(other) => format!("unexpected {other:?}"),
            Err(error) => format!("error {error}"),
        };
        println!("trial {trial} {outcome}");
    }
}

#[test]
fn processes_racing_one_code_get_in_exactly_once() {
    let dir = std::env::temp_dir().join(format!("m2fa-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("state.db");
    let db = path.to_str().unwrap().to_owned();

    // Set-up: 2FA on, the account enrolled with its first code.
    let uri = {
        let engine =
            Engine::new(SqliteStore::create(&db).unwrap(), EngineConfig::default()).unwrap();
        engine.enable_platform("example.com", true).unwrap();
        let uri = engine.enable_account(&account(), START).unwrap();
        let key = KeyUri::parse(&uri).unwrap();
        let totp = Totp::new(key.secret(), key.totp_config().unwrap());
        let first = totp.generate(START).unwrap();
        assert!(
            engine
                .login(&account(), Some(first.as_str()), START)
                .unwrap()
                .is_allowed()
        );
        uri
    };

    let go = wall_ms() + 1_500; // time for every process to start and open
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    "child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("M2FA_DB", &db)
                .env("M2FA_URI", uri.as_str())
                .env("M2FA_GO_MS", go.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut allowed = vec![0u32; TRIALS as usize];
    let mut refused = vec![0u32; TRIALS as usize];
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a child failed: {:?}",
            output.status
        );
        let text = String::from_utf8(output.stdout).unwrap();
        let mut seen = 0;
        // libtest prints "test child ... " before the child's first line.
        for line in text
            .lines()
            .filter_map(|l| l.find("trial ").map(|at| &l[at..]))
        {
            let mut words = line.splitn(3, ' ').skip(1);
            let trial: usize = words.next().unwrap().parse().unwrap();
            match words.next().unwrap() {
                "allowed" => allowed[trial] += 1,
                "replayed" => refused[trial] += 1,
                other => panic!("trial {trial}: {other}"),
            }
            seen += 1;
        }
        assert_eq!(seen, TRIALS, "a child did not run every trial:\n{text}");
    }
    for trial in 0..TRIALS as usize {
        assert_eq!(
            (allowed[trial], refused[trial]),
            (1, PROCESSES as u32 - 1),
            "trial {trial}"
        );
    }
    println!(
        "{PROCESSES} processes x {TRIALS} trials: exactly one success per trial, {} replays refused",
        refused.iter().sum::<u32>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
