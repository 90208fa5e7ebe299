//! Issue 14, point 5: does the time of an unauthenticated login tell
//! whether the account has 2FA? Measured through the C ABI (`m2fa_*`, as a
//! mail server calls it) on a SQLite database (synchronous FULL, the
//! default), for an account with 2FA (enrolled, with an application
//! password) and one without, side by side in one run:
//!
//! * `app_password_guess`: IMAP, input shaped like an application password
//!   that matches none (what a host passes when its password check fails);
//! * `codeless_wrong_password`: webmail, the password alone, and the host's
//!   password check failed;
//! * `host_split`: `m2fa_engine_split_login_for` on a password+code string,
//!   which hosts call before their password check.
//!
//! `now` advances by more than the longest lock on every call, so that code
//! that counts guesses (before the fix) writes on every one instead of
//! resting behind a lock.
//!
//! Two sets of figures: criterion's (flat sampling, 2,000 samples per
//! benchmark), and an interleaved run of 2,001 timed calls per case —
//! with/without alternating, so that drift hits both alike — whose medians
//! and ratio are printed at the end.
//!
//! `cargo bench --features capi --bench oracle`
//! (`cargo test --features capi --bench oracle` runs everything once.)
#![allow(
    unsafe_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::ffi::{CStr, CString, c_char};
use std::hint::black_box;
use std::path::PathBuf;
use std::ptr;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use mail2fa::ffi::*;

const START: u64 = 1_800_000_000;
/// More than the longest lock of the default lockout policy (3600 s).
const STEP: u64 = 3_601;
const PLATFORM: &CStr = c"example.com";
const WITH_2FA: &CStr = c"alice@example.com";
const WITHOUT_2FA: &CStr = c"bob@example.com";
const GUESS: &CStr = c"abcde-fghjk-mnpqr-stvwx";
const STRING: &CStr = c"hunter2189145";
/// Calls per case in the interleaved summary.
const SUMMARY_CALLS: usize = 2_001;

fn ok(status: m2fa_status) {
    assert_eq!(status, m2fa_status::M2FA_OK, "{status:?}");
}

/// A C host's engine on a SQLite file of its own, removed on drop.
struct Host {
    engine: *mut m2fa_engine,
    dir: PathBuf,
}

impl Drop for Host {
    fn drop(&mut self) {
        // SAFETY: a live engine, freed once.
        unsafe { m2fa_engine_free(self.engine) };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Host {
    /// A new database (created explicitly), 2FA on for the platform,
    /// `WITH_2FA` enrolled with one application password, `WITHOUT_2FA`
    /// untouched.
    fn new() -> Self {
        let dir = std::env::temp_dir().join(support::unique("m2fa-oracle-bench"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = CString::new(dir.join("state.db").to_str().unwrap()).unwrap();
        let mut config = ptr::null_mut();
        let mut engine = ptr::null_mut();
        // SAFETY: valid pointers and NUL-terminated strings throughout.
        unsafe {
            ok(m2fa_engine_config_new(&mut config));
            ok(m2fa_engine_config_set_sqlite(
                config,
                m2fa_synchronous::M2FA_SYNCHRONOUS_FULL as u32,
                5_000,
                1,
            ));
            ok(m2fa_engine_open(path.as_ptr(), config, &mut engine));
            m2fa_engine_config_free(config);
        }
        let host = Self { engine, dir };
        host.enroll();
        host
    }

    fn enroll(&self) {
        let mut uri = vec![0u8; 512];
        let mut needed = 0;
        // SAFETY: valid pointers, buffers of the lengths given.
        unsafe {
            ok(m2fa_engine_enable_platform(
                self.engine,
                PLATFORM.as_ptr(),
                1,
            ));
            let mut d = ptr::null_mut();
            ok(m2fa_engine_enable_account(
                self.engine,
                PLATFORM.as_ptr(),
                WITH_2FA.as_ptr(),
                START - 600,
                &mut d,
            ));
            ok(m2fa_decision_uri(
                d,
                uri.as_mut_ptr().cast::<c_char>(),
                uri.len(),
                &mut needed,
            ));
            m2fa_decision_free(d);
            let uri = CStr::from_bytes_until_nul(&uri).unwrap().to_str().unwrap();
            let totp = support::phone(uri);
            let code = CString::new(support::code(&totp, (START - 600) / 30)).unwrap();
            let mut d = ptr::null_mut();
            ok(m2fa_engine_login(
                self.engine,
                PLATFORM.as_ptr(),
                WITH_2FA.as_ptr(),
                code.as_ptr(),
                START - 600,
                &mut d,
            ));
            assert_eq!(outcome(d), m2fa_outcome::M2FA_OUTCOME_ALLOWED as u32);
            m2fa_decision_free(d);
            let mut id = 0;
            let mut password = [0 as c_char; M2FA_APP_PASSWORD_SIZE];
            ok(m2fa_engine_app_password_create(
                self.engine,
                PLATFORM.as_ptr(),
                WITH_2FA.as_ptr(),
                c"phone".as_ptr(),
                ptr::null(),
                START - 500,
                &mut id,
                password.as_mut_ptr(),
                password.len(),
                &mut needed,
            ));
        }
    }

    /// One login through `m2fa_engine_authenticate`; the client's answer.
    fn authenticate(&self, account: &CStr, protocol: m2fa_protocol, app: Option<&CStr>, now: u64) {
        let mut login = ptr::null_mut();
        let mut d = ptr::null_mut();
        // SAFETY: valid pointers and strings; the handles are freed once.
        unsafe {
            ok(m2fa_login_new(protocol as u32, ptr::null(), &mut login));
            if let Some(app) = app {
                ok(m2fa_login_set_app_password(login, app.as_ptr()));
            }
            ok(m2fa_engine_authenticate(
                self.engine,
                PLATFORM.as_ptr(),
                account.as_ptr(),
                login,
                now,
                &mut d,
            ));
            assert_eq!(outcome(d), m2fa_outcome::M2FA_OUTCOME_REFUSED as u32);
            m2fa_decision_free(d);
            m2fa_login_free(login);
        }
    }

    fn split(&self, account: &CStr, now: u64) {
        let mut len = 0;
        let mut has_code = 0;
        // SAFETY: valid pointers and strings.
        unsafe {
            ok(m2fa_engine_split_login_for(
                self.engine,
                PLATFORM.as_ptr(),
                account.as_ptr(),
                m2fa_protocol::Webmail as u32,
                ptr::null(),
                STRING.as_ptr(),
                now,
                &mut len,
                &mut has_code,
            ));
        }
        black_box((len, has_code));
    }

    /// Runs `case` once for `account` at `now`.
    fn run(&self, case: Case, account: &CStr, now: u64) {
        match case {
            Case::AppPasswordGuess => {
                self.authenticate(account, m2fa_protocol::Imap, Some(GUESS), now)
            }
            Case::CodelessWrongPassword => {
                self.authenticate(account, m2fa_protocol::Webmail, None, now)
            }
            Case::HostSplit => self.split(account, now),
        }
    }
}

/// The decision's outcome.
///
/// # Safety
/// `d` is a live decision.
unsafe fn outcome(d: *const m2fa_decision) -> u32 {
    let mut outcome = 0;
    // SAFETY: forwarded contract.
    ok(unsafe { m2fa_decision_outcome(d, &mut outcome) });
    outcome
}

#[derive(Clone, Copy)]
enum Case {
    AppPasswordGuess,
    CodelessWrongPassword,
    HostSplit,
}

impl Case {
    const ALL: [Self; 3] = [
        Self::AppPasswordGuess,
        Self::CodelessWrongPassword,
        Self::HostSplit,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::AppPasswordGuess => "app_password_guess",
            Self::CodelessWrongPassword => "codeless_wrong_password",
            Self::HostSplit => "host_split",
        }
    }
}

fn criterion_figures(c: &mut Criterion, host: &Host) {
    let mut now = START;
    for case in Case::ALL {
        let mut group = c.benchmark_group(case.name());
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(2_000)
            .measurement_time(Duration::from_secs(10));
        for (label, account) in [("with_2fa", WITH_2FA), ("without_2fa", WITHOUT_2FA)] {
            group.bench_function(label, |b| {
                b.iter(|| {
                    now += STEP;
                    host.run(case, account, now);
                });
            });
        }
        group.finish();
    }
}

/// The median of `samples`, in nanoseconds.
fn median(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples[samples.len() / 2].as_nanos() as f64
}

fn interleaved_figures(host: &Host, calls: usize) {
    println!();
    println!("interleaved, {calls} calls per case and account, median per call:");
    println!(
        "{:<26} {:>12} {:>12} {:>7}",
        "case", "with 2FA", "without", "ratio"
    );
    let mut now = START + 1_000_000_000;
    for case in Case::ALL {
        let mut with = Vec::with_capacity(calls);
        let mut without = Vec::with_capacity(calls);
        for round in 0..calls {
            now += STEP;
            // Alternate which account goes first.
            let order = if round % 2 == 0 {
                [(WITH_2FA, true), (WITHOUT_2FA, false)]
            } else {
                [(WITHOUT_2FA, false), (WITH_2FA, true)]
            };
            for (account, has_2fa) in order {
                let start = Instant::now();
                host.run(case, account, now);
                let elapsed = start.elapsed();
                if has_2fa {
                    with.push(elapsed);
                } else {
                    without.push(elapsed);
                }
            }
        }
        let (with, without) = (median(&mut with), median(&mut without));
        println!(
            "{:<26} {:>9.1} µs {:>9.1} µs {:>6.2}×",
            case.name(),
            with / 1_000.0,
            without / 1_000.0,
            with / without
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --bench` does not, and
    // then every benchmark runs once.
    let benching = std::env::args().any(|a| a == "--bench");
    let host = Host::new();
    let mut c = Criterion::default().configure_from_args();
    criterion_figures(&mut c, &host);
    interleaved_figures(&host, if benching { SUMMARY_CALLS } else { 11 });
    c.final_summary();
}
