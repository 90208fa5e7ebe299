#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What an operator or a portal reads about accounts and platforms
//! (`Engine::account_status`, `Engine::platform_status`), the walk over the
//! whole store (`Engine::check_records`) and the SQLite file check
//! (`SqliteStore::check`), all through the public API.
//!
//! Time is always an explicit parameter. Wherever a test depends on which
//! step a TOTP code belongs to, it starts at a time around which the codes
//! of nearby steps are pairwise distinct, and its wrong codes match no step
//! nearby.

mod support;

use mail2fa::engine::{
    AccountId, AccountStatus, AllowReason, ClientAnswer, ClientInfo, Credential, Decision,
    DenyReason, EncryptionKeys, Engine, EngineConfig, Enrollment, LoginRequest,
    MAX_LISTED_PROBLEMS, Mode, PlatformStatus, Protocol, ProtocolPolicy, RecordCheck, format_utc,
};
use mail2fa::record::RecordError;
use mail2fa::store::{CasOutcome, MemoryStore, ScannedRecord, Store, StoreError, Versioned};
use mail2fa::{Error, KeyUri, Totp};
use support::{TestStore, code, fresh_store, phone};

const PLATFORM: &str = "example.com";
const NOW: u64 = 1_800_000_000;
const PERIOD: u64 = 30;
/// Steps each side within which the tests make sure a code names one step
/// (wider than the engine's default diagnostic window of 10).
const MARGIN: u64 = 12;
/// The default enrollment lifetime.
const DAY: u64 = 86_400;

// ------------------------------------------------------------------ helpers

fn step(t: u64) -> u64 {
    t / PERIOD
}

fn start_of(step: u64) -> u64 {
    step * PERIOD
}

fn engine_with(config: EngineConfig) -> Engine<TestStore> {
    let engine = Engine::new(fresh_store(), config).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    engine
}

fn engine() -> Engine<TestStore> {
    engine_with(EngineConfig::default())
}

fn account(name: &str) -> AccountId {
    AccountId::new(PLATFORM, name).unwrap()
}

/// The base32 text of the `secret` parameter of a provisioning URI.
fn base32_secret(uri: &str) -> String {
    let (_, rest) = uri.split_once("secret=").expect("a secret parameter");
    let secret = rest.split('&').next().unwrap().to_owned();
    assert!(secret.len() >= 26, "secret {secret:?} too short to be one");
    secret
}

fn steps_matching(totp: &Totp, code: &str, center: u64, margin: u64) -> Vec<u64> {
    (center - margin..=center + margin)
        .filter(|&s| totp.generate_at_step(s).as_str() == code)
        .collect()
}

/// A well-formed code that is the code of no step within [`MARGIN`] of the
/// step of `now` (so the engine counts it as simply wrong).
fn wrong_code(totp: &Totp, now: u64) -> String {
    let digits = usize::from(totp.config().digits().get());
    (0u64..)
        .map(|n| format!("{n:0digits$}"))
        .find(|c| steps_matching(totp, c, step(now), MARGIN).is_empty())
        .unwrap()
}

/// The first step boundary at or after `from` around which the codes of the
/// steps within [`MARGIN`] are pairwise distinct.
fn distinct_time(totp: &Totp, from: u64) -> u64 {
    (0..100)
        .map(|k| start_of(step(from) + 1 + k * 3 * MARGIN))
        .find(|&t| {
            let c = step(t);
            let mut codes: Vec<String> = (c - MARGIN..=c + MARGIN).map(|s| code(totp, s)).collect();
            codes.sort();
            codes.dedup();
            codes.len() == 2 * MARGIN as usize + 1
        })
        .unwrap()
}

fn allowed(decision: &Decision) -> AllowReason {
    match decision {
        Decision::Allow { reason, .. } => *reason,
        other => panic!("expected an allow, got {other:?}"),
    }
}

fn assert_refused(decision: &Decision) {
    assert_eq!(
        decision.client_answer(),
        ClientAnswer::Refused,
        "{decision:?}"
    );
}

/// Enables 2FA for `id` at [`NOW`] and confirms it at a time around which
/// codes are distinct; returns the phone, that time and the URI.
fn enroll(engine: &Engine<TestStore>, id: &AccountId) -> (Totp, u64, String) {
    let uri = engine.enable_account(id, NOW).unwrap().to_string();
    let totp = phone(&uri);
    let t = distinct_time(&totp, NOW);
    assert!(t < NOW + DAY);
    let decision = engine.login(id, Some(&code(&totp, step(t))), t).unwrap();
    assert_eq!(
        allowed(&decision),
        AllowReason::Enrolled { step: step(t) },
        "{decision:?}"
    );
    (totp, t, uri)
}

fn status(engine: &Engine<impl Store>, id: &AccountId, now: u64) -> AccountStatus {
    engine.account_status(id, now).unwrap()
}

/// Every run of ASCII digits in `text`.
fn digit_runs(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty())
        .collect()
}

/// Asserts that the `Debug` form of a status shows neither the secret (as
/// base32 in either case, as hex or as a byte list) nor any of `codes`.
fn assert_reveals_nothing(debug: &str, uri: &str, codes: &[&str]) {
    let secret = base32_secret(uri);
    let lower = debug.to_ascii_lowercase();
    assert!(
        !lower.contains(&secret.to_ascii_lowercase()),
        "secret in {debug}"
    );
    let bytes = KeyUri::parse(uri).unwrap().secret().expose_bytes().to_vec();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!lower.contains(&hex), "secret (hex) in {debug}");
    let list = format!("{bytes:?}");
    assert!(
        !debug.contains(&list[1..list.len() - 1]),
        "secret bytes in {debug}"
    );
    for code in codes {
        if code.bytes().all(|b| b.is_ascii_digit()) {
            // Numeric codes: compared as whole numbers, so that a code that
            // happens to be part of a timestamp is not taken for a leak.
            let trimmed = code.trim_start_matches('0');
            assert!(
                digit_runs(debug)
                    .iter()
                    .all(|run| *run != *code && (trimmed.is_empty() || *run != trimmed)),
                "code {code} in {debug}"
            );
        } else {
            let canonical: String = code
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            assert!(
                !lower.contains(&code.to_ascii_lowercase()),
                "code {code} in {debug}"
            );
            assert!(!lower.contains(&canonical), "code {code} in {debug}");
        }
    }
}

/// Two engines on one store (say, two keys or two configurations).
struct Shared<'a>(&'a dyn Store);

impl Store for Shared<'_> {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.0.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.0.compare_and_swap(key, expected, new)
    }

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        self.0.scan(after, limit)
    }
}

/// A store that cannot list its records (keeps the default `scan`).
struct NoScan(MemoryStore);

impl Store for NoScan {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.0.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.0.compare_and_swap(key, expected, new)
    }
}

/// Flips a bit of the record under `key`, directly in the store.
fn corrupt(store: &dyn Store, key: &[u8]) {
    let record = store.load(key).unwrap().expect("a record to corrupt");
    let mut bytes = record.bytes.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let outcome = store
        .compare_and_swap(key, Some(record.version), Some(&bytes))
        .unwrap();
    assert!(matches!(outcome, CasOutcome::Stored { .. }), "{outcome:?}");
}

/// The store key of an account's devices and application passwords, as the
/// engine builds it (`clnt`, then the account's key after its prefix).
fn clients_key(id: &AccountId) -> Vec<u8> {
    let key = id.store_key();
    assert_eq!(&key[..4], b"acct");
    [b"clnt".as_slice(), &key[4..]].concat()
}

fn platform_key(platform: &str) -> Vec<u8> {
    [b"plat".as_slice(), platform.as_bytes()].concat()
}

fn encrypted(key: [u8; 32]) -> EngineConfig {
    EngineConfig {
        encryption: Some(EncryptionKeys::new(1, key)),
        ..EngineConfig::default()
    }
}

fn webmail_login(code: &str) -> LoginRequest<'_> {
    LoginRequest {
        protocol: Protocol::Webmail,
        credential: Credential::PasswordAndCode {
            correct: true,
            code,
        },
        client: ClientInfo::default(),
    }
}

// ------------------------------------------------------- account_status: life

#[test]
fn a_new_account_is_pending_until_a_valid_code_confirms_it() {
    let engine = engine();
    let id = account("alice@example.com");
    engine.enable_account(&id, NOW).unwrap();

    let pending = status(&engine, &id, NOW);
    assert_eq!(pending.mode, Mode::Totp);
    assert_eq!(
        pending.enrollment,
        Enrollment::Pending {
            expires_at: NOW + DAY
        }
    );
    assert_eq!(pending.suspended_until, None);
    assert_eq!(pending.locked_until, None);
    assert_eq!(pending.failures, 0);
    assert_eq!(pending.last_used, None);
    assert_eq!(pending.recovery_codes, 0);
    assert_eq!(pending.email, None);
    assert_eq!(pending.phone, None);
    assert_eq!(pending.code_expires_at, None);
    assert!(pending.policies.is_empty());
    // Reading changes nothing: the same answer twice, and later too.
    assert_eq!(status(&engine, &id, NOW), pending);
    assert_eq!(status(&engine, &id, NOW + 3600), pending);

    // Past its end it still shows as pending, with the end in the past:
    // a login is refused as expired.
    let expired = status(&engine, &id, NOW + DAY);
    assert_eq!(
        expired.enrollment,
        Enrollment::Pending {
            expires_at: NOW + DAY
        }
    );
    assert_eq!(
        engine.login(&id, None, NOW + DAY).unwrap(),
        Decision::Deny {
            reason: DenyReason::EnrollmentExpired
        }
    );

    // The configured lifetime is what the status shows.
    let short = engine_with(EngineConfig {
        enrollment_ttl: 600,
        ..EngineConfig::default()
    });
    short.enable_account(&id, NOW).unwrap();
    assert_eq!(
        status(&short, &id, NOW).enrollment,
        Enrollment::Pending {
            expires_at: NOW + 600
        }
    );
}

#[test]
fn logins_confirm_record_last_use_and_count_failures() {
    let engine = engine();
    let id = account("alice@example.com");
    let uri = engine.enable_account(&id, NOW).unwrap();
    let totp = phone(&uri);
    let t = distinct_time(&totp, NOW);

    // A wrong code during the enrollment counts, and keeps it pending.
    assert_refused(&engine.login(&id, Some(&wrong_code(&totp, t)), t).unwrap());
    let s = status(&engine, &id, t);
    assert_eq!(s.failures, 1);
    assert_eq!(s.last_used, None);
    assert_eq!(
        s.enrollment,
        Enrollment::Pending {
            expires_at: NOW + DAY
        }
    );
    // A login without a code changes nothing either.
    assert!(matches!(
        engine.login(&id, None, t).unwrap(),
        Decision::EnrollmentRequired { .. }
    ));
    assert_eq!(status(&engine, &id, t), s);

    // The first valid code confirms and is the last use; failures reset.
    let first = t + 5;
    let decision = engine
        .login(&id, Some(&code(&totp, step(t))), first)
        .unwrap();
    assert_eq!(allowed(&decision), AllowReason::Enrolled { step: step(t) });
    let s = status(&engine, &id, first);
    assert_eq!(s.enrollment, Enrollment::Confirmed);
    assert_eq!(s.last_used, Some(first));
    assert_eq!(s.failures, 0);
    assert_eq!(s.mode, Mode::Totp);

    // A later code moves the last use.
    let later = t + 2 * PERIOD + 3;
    let decision = engine
        .login(&id, Some(&code(&totp, step(t) + 2)), later)
        .unwrap();
    assert_eq!(
        allowed(&decision),
        AllowReason::CodeAccepted { step: step(t) + 2 }
    );
    assert_eq!(status(&engine, &id, later).last_used, Some(later));

    // A replay of it is neither a use nor a failure.
    let replay = engine
        .login(&id, Some(&code(&totp, step(t) + 2)), later + 1)
        .unwrap();
    assert_refused(&replay);
    let s = status(&engine, &id, later + 1);
    assert_eq!(s.last_used, Some(later));
    assert_eq!(s.failures, 0);

    // A wrong code counts and leaves the last use alone.
    let wrong_at = t + 3 * PERIOD;
    assert_refused(
        &engine
            .login(&id, Some(&wrong_code(&totp, wrong_at)), wrong_at)
            .unwrap(),
    );
    let s = status(&engine, &id, wrong_at);
    assert_eq!(s.failures, 1);
    assert_eq!(s.last_used, Some(later));
    assert_eq!(s.locked_until, None);
    assert_eq!(s.enrollment, Enrollment::Confirmed);
}

#[test]
fn status_times_render_with_format_utc() {
    let engine = engine();
    let id = account("alice@example.com");
    engine.enable_account(&id, NOW).unwrap();
    let Enrollment::Pending { expires_at } = status(&engine, &id, NOW).enrollment else {
        panic!("expected a pending enrollment");
    };
    assert_eq!(format_utc(NOW), "2027-01-15 08:00:00 UTC");
    assert_eq!(format_utc(expires_at), "2027-01-16 08:00:00 UTC");
    assert_eq!(format_utc(expires_at + 59), "2027-01-16 08:00:59 UTC");
}

#[test]
fn a_lockout_shows_while_it_runs_and_a_valid_code_clears_the_count() {
    let engine = engine();
    let id = account("alice@example.com");
    let (totp, t, _) = enroll(&engine, &id);

    // Five wrong codes (the default policy) lock for 60 seconds.
    let mut at = t + PERIOD;
    for n in 1..=4 {
        assert_refused(&engine.login(&id, Some(&wrong_code(&totp, at)), at).unwrap());
        let s = status(&engine, &id, at);
        assert_eq!(s.failures, n);
        assert_eq!(s.locked_until, None, "after {n} wrong codes");
        at += 1;
    }
    assert_refused(&engine.login(&id, Some(&wrong_code(&totp, at)), at).unwrap());
    let locked_at = at;
    let s = status(&engine, &id, locked_at);
    assert_eq!(s.locked_until, Some(locked_at + 60));
    // The engine's counter, not the number of wrong codes typed: a lock
    // leaves it one short of the limit (no fresh quota when it ends).
    assert_eq!(s.failures, 4, "{s:?}");
    assert_eq!(s.last_used, Some(t));
    assert_eq!(
        status(&engine, &id, locked_at + 59).locked_until,
        Some(locked_at + 60)
    );
    // Even the right code is refused while locked, and is no use.
    let during = locked_at + 30;
    let right = code(&totp, step(during));
    assert_refused(&engine.login(&id, Some(&right), during).unwrap());
    assert_eq!(status(&engine, &id, during).last_used, Some(t));

    // Gone once `now` reaches its end.
    let s = status(&engine, &id, locked_at + 60);
    assert_eq!(s.locked_until, None);
    assert_eq!(status(&engine, &id, locked_at + 6000).locked_until, None);

    // A valid code afterwards resets the count and is the last use.
    let after = start_of(step(locked_at + 60) + 1);
    assert!(step(after) <= step(t) + MARGIN);
    let decision = engine
        .login(&id, Some(&code(&totp, step(after))), after)
        .unwrap();
    assert_eq!(
        allowed(&decision),
        AllowReason::CodeAccepted { step: step(after) }
    );
    let s = status(&engine, &id, after);
    assert_eq!(s.failures, 0);
    assert_eq!(s.locked_until, None);
    assert_eq!(s.last_used, Some(after));

    // An operator's unlock clears a running lock at once.
    let mut at = after + 1;
    for _ in 0..5 {
        assert_refused(&engine.login(&id, Some(&wrong_code(&totp, at)), at).unwrap());
        at += 1;
    }
    assert!(status(&engine, &id, at).locked_until.is_some());
    engine.unlock(&id).unwrap();
    let s = status(&engine, &id, at);
    assert_eq!(s.locked_until, None);
    assert_eq!(s.failures, 0);
}

#[test]
fn a_suspension_shows_until_it_ends() {
    let engine = engine();
    let id = account("alice@example.com");
    let (_, t, _) = enroll(&engine, &id);

    let start = t + 100;
    let until = engine.suspend(&id, 600, start).unwrap();
    assert_eq!(until, start + 600);
    assert_eq!(status(&engine, &id, start).suspended_until, Some(until));
    assert_eq!(status(&engine, &id, until - 1).suspended_until, Some(until));
    // A login during the suspension gets in without a code: not a use.
    assert_eq!(
        allowed(&engine.login(&id, None, start + 1).unwrap()),
        AllowReason::Suspended { until }
    );
    assert_eq!(status(&engine, &id, start + 1).last_used, Some(t));

    assert_eq!(status(&engine, &id, until).suspended_until, None);
    assert_eq!(status(&engine, &id, until + DAY).suspended_until, None);
    // The rest of the status is not affected by the suspension.
    let s = status(&engine, &id, until);
    assert_eq!(s.enrollment, Enrollment::Confirmed);
    assert_eq!(s.locked_until, None);
}

#[test]
fn contacts_mode_and_a_live_code_show() {
    let engine = engine();
    let id = account("alice@example.com");
    let (_, t, _) = enroll(&engine, &id);

    engine
        .set_contact(&id, Some("alice@home.example"), Some("+33612345678"))
        .unwrap();
    let s = status(&engine, &id, t);
    assert_eq!(s.email.as_deref(), Some("alice@home.example"));
    assert_eq!(s.phone.as_deref(), Some("+33612345678"));
    assert_eq!(s.mode, Mode::Totp);

    engine.set_mode(&id, Mode::Email).unwrap();
    let s = status(&engine, &id, t);
    assert_eq!(s.mode, Mode::Email);
    assert_eq!(s.enrollment, Enrollment::Confirmed);
    assert_eq!(s.code_expires_at, None);

    let issued_at = t + 100;
    let issued = engine.issue_code(&id, issued_at).unwrap();
    assert_eq!(issued.expires_at, issued_at + 180);
    assert_eq!(
        status(&engine, &id, issued_at).code_expires_at,
        Some(issued_at + 180)
    );
    assert_eq!(
        status(&engine, &id, issued_at + 179).code_expires_at,
        Some(issued_at + 180)
    );
    // An expired code is not live any more.
    assert_eq!(status(&engine, &id, issued_at + 180).code_expires_at, None);

    // Using it: a use, and no live code any more.
    let used_at = issued_at + 10;
    let decision = engine.login(&id, Some(&issued.code), used_at).unwrap();
    assert_eq!(allowed(&decision), AllowReason::DeliveredCodeAccepted);
    let s = status(&engine, &id, used_at);
    assert_eq!(s.last_used, Some(used_at));
    assert_eq!(s.code_expires_at, None);
    assert_eq!(s.failures, 0);

    // SMS, and removing the e-mail address.
    engine.set_mode(&id, Mode::Sms).unwrap();
    engine.set_contact(&id, None, Some("+33699999999")).unwrap();
    let s = status(&engine, &id, used_at);
    assert_eq!(s.mode, Mode::Sms);
    assert_eq!(s.email, None);
    assert_eq!(s.phone.as_deref(), Some("+33699999999"));
    // Switching the mode kills a live code.
    let second = engine.issue_code(&id, used_at + 60).unwrap();
    assert_eq!(
        status(&engine, &id, used_at + 60).code_expires_at,
        Some(second.expires_at)
    );
    engine.set_mode(&id, Mode::Totp).unwrap();
    assert_eq!(status(&engine, &id, used_at + 60).code_expires_at, None);
}

#[test]
fn an_unconfirmed_account_switched_to_email_counts_as_confirmed() {
    let engine = engine();
    let id = account("bob@example.com");
    engine.enable_account(&id, NOW).unwrap();
    engine
        .set_contact(&id, Some("bob@home.example"), None)
        .unwrap();
    assert!(matches!(
        status(&engine, &id, NOW).enrollment,
        Enrollment::Pending { .. }
    ));
    engine.set_mode(&id, Mode::Email).unwrap();
    let s = status(&engine, &id, NOW);
    assert_eq!(s.mode, Mode::Email);
    assert_eq!(s.enrollment, Enrollment::Confirmed);
    // Which is what a login sees: asked for a code, not for an enrollment.
    assert_eq!(
        engine.login(&id, None, NOW).unwrap(),
        Decision::SecondFactorRequired { mode: Mode::Email }
    );
}

#[test]
fn recovery_codes_are_counted_and_using_one_is_a_use() {
    let engine = engine();
    let id = account("alice@example.com");
    let (_, t, _) = enroll(&engine, &id);

    let codes = engine.generate_recovery_codes(&id, 10).unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(status(&engine, &id, t).recovery_codes, 10);

    let used_at = t + 500;
    let decision = engine.login(&id, Some(&codes[3]), used_at).unwrap();
    assert_eq!(
        allowed(&decision),
        AllowReason::RecoveryCodeUsed { remaining: 9 }
    );
    let s = status(&engine, &id, used_at);
    assert_eq!(s.recovery_codes, 9);
    assert_eq!(s.last_used, Some(used_at));

    // Spent: refused again, counted as a failure, the count stays.
    assert_refused(&engine.login(&id, Some(&codes[3]), used_at + 1).unwrap());
    let s = status(&engine, &id, used_at + 1);
    assert_eq!(s.recovery_codes, 9);
    assert_eq!(s.failures, 1);
    assert_eq!(s.last_used, Some(used_at));

    // A new set replaces the old one.
    engine.generate_recovery_codes(&id, 3).unwrap();
    assert_eq!(status(&engine, &id, used_at).recovery_codes, 3);
}

#[test]
fn codes_through_authenticate_are_uses_application_passwords_are_not() {
    let engine = engine();
    let id = account("alice@example.com");
    let (totp, t, _) = enroll(&engine, &id);

    // A webmail login with a code (the one-call API).
    let at = t + 2 * PERIOD;
    let c = code(&totp, step(at));
    let decision = engine.authenticate(&id, &webmail_login(&c), at).unwrap();
    assert_eq!(
        allowed(&decision),
        AllowReason::CodeAccepted { step: step(at) }
    );
    assert_eq!(status(&engine, &id, at).last_used, Some(at));

    // An application password is no second factor: the account's last use
    // stays (the password's own last use is in its listing).
    let (info, password) = engine
        .create_app_password(&id, "phone", &[], at + 10)
        .unwrap();
    let imap = LoginRequest {
        protocol: Protocol::Imap,
        credential: Credential::AppPassword(&password),
        client: ClientInfo::default(),
    };
    let decision = engine.authenticate(&id, &imap, at + 20).unwrap();
    assert_eq!(allowed(&decision), AllowReason::AppPassword { id: info.id });
    assert_eq!(status(&engine, &id, at + 20).last_used, Some(at));
    assert_eq!(
        engine.app_passwords(&id).unwrap()[0].last_used,
        Some(at + 20)
    );
}

#[test]
fn account_policies_show_as_set() {
    let engine = engine();
    let id = account("alice@example.com");
    engine.enable_account(&id, NOW).unwrap();

    engine
        .set_account_policy(&id, &Protocol::Imap, Some(ProtocolPolicy::Refused))
        .unwrap();
    engine
        .set_account_policy(&id, &Protocol::Pop3, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    assert_eq!(
        status(&engine, &id, NOW).policies,
        vec![
            (Protocol::Imap, ProtocolPolicy::Refused),
            (Protocol::Pop3, ProtocolPolicy::CodeInLogin),
        ]
    );
    // The platform's overrides are not the account's.
    engine
        .set_platform_policy(PLATFORM, &Protocol::Smtp, Some(ProtocolPolicy::Refused))
        .unwrap();
    engine
        .set_account_policy(&id, &Protocol::Imap, None)
        .unwrap();
    assert_eq!(
        status(&engine, &id, NOW).policies,
        vec![(Protocol::Pop3, ProtocolPolicy::CodeInLogin)]
    );
    engine
        .set_account_policy(&id, &Protocol::Pop3, None)
        .unwrap();
    assert!(status(&engine, &id, NOW).policies.is_empty());
}

#[test]
fn an_account_without_2fa_has_no_status() {
    let engine = engine();
    let id = account("alice@example.com");
    assert_eq!(engine.account_status(&id, NOW), Err(Error::NotEnabled));

    let (_, t, _) = enroll(&engine, &id);
    assert!(engine.account_status(&id, t).is_ok());
    engine.remove(&id).unwrap();
    assert_eq!(engine.account_status(&id, t), Err(Error::NotEnabled));
    // Another account on the platform is untouched.
    let bob = account("bob@example.com");
    engine.enable_account(&bob, t).unwrap();
    assert!(engine.account_status(&bob, t).is_ok());
    assert_eq!(engine.account_status(&id, t), Err(Error::NotEnabled));
}

#[test]
fn an_unreadable_account_record_is_an_error_not_a_status() {
    let engine = engine();
    let id = account("alice@example.com");
    engine.enable_account(&id, NOW).unwrap();
    corrupt(engine.store(), &id.store_key());
    assert_eq!(
        engine.account_status(&id, NOW),
        Err(Error::Record(RecordError::Checksum))
    );
}

// -------------------------------------------------- account_status: no secrets

#[test]
fn the_status_never_reveals_secrets_or_codes() {
    let engine = engine();
    let id = account("alice@example.com");
    let uri = engine.enable_account(&id, NOW).unwrap().to_string();
    let totp = phone(&uri);
    let t = distinct_time(&totp, NOW);
    let nearby: Vec<String> = (step(t) - 2..=step(t) + 2)
        .map(|s| code(&totp, s))
        .collect();
    let nearby: Vec<&str> = nearby.iter().map(String::as_str).collect();

    // Pending: the secret is in the record.
    let debug = format!("{:?}", status(&engine, &id, NOW));
    assert_reveals_nothing(&debug, &uri, &nearby);

    // Confirmed, with a consumed step.
    engine.login(&id, Some(nearby[2]), t).unwrap();
    let debug = format!("{:?}", status(&engine, &id, t));
    assert_reveals_nothing(&debug, &uri, &nearby);

    // Recovery codes and a live e-mail code.
    let recovery = engine.generate_recovery_codes(&id, 10).unwrap();
    engine
        .set_contact(&id, Some("alice@home.example"), None)
        .unwrap();
    engine.set_mode(&id, Mode::Email).unwrap();
    let issued = engine.issue_code(&id, t + 1).unwrap();
    let s = status(&engine, &id, t + 1);
    assert_eq!(s.code_expires_at, Some(issued.expires_at));
    let debug = format!("{s:?}");
    let mut codes: Vec<&str> = nearby.clone();
    codes.push(issued.code.as_str());
    codes.extend(recovery.iter().map(|c| c.as_str()));
    assert_reveals_nothing(&debug, &uri, &codes);
    // And the clone the portal might keep says the same.
    assert_eq!(format!("{:?}", s.clone()), debug);
}

// ------------------------------------------------------------ platform_status

#[test]
fn platform_status_shows_the_switch_and_the_overrides() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();

    // Never configured: off, no overrides, the defaults apply.
    let unknown = engine.platform_status("nowhere.example").unwrap();
    assert_eq!(unknown, PlatformStatus::default());
    assert!(!unknown.enabled);
    assert!(unknown.policies.is_empty());
    for protocol in [
        Protocol::Webmail,
        Protocol::Portal,
        Protocol::ActiveSync,
        Protocol::Outlook,
        Protocol::Imap,
        Protocol::Pop3,
        Protocol::Smtp,
        Protocol::RpcOverHttp,
    ] {
        assert_eq!(unknown.policy(&protocol), protocol.default_policy());
    }
    // Reading created nothing.
    assert!(
        engine
            .store()
            .load(&platform_key("nowhere.example"))
            .unwrap()
            .is_none()
    );

    engine.enable_platform(PLATFORM, true).unwrap();
    let on = engine.platform_status(PLATFORM).unwrap();
    assert!(on.enabled);
    assert!(on.policies.is_empty());

    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, Some(ProtocolPolicy::CodeInLogin))
        .unwrap();
    let s = engine.platform_status(PLATFORM).unwrap();
    assert!(s.enabled);
    assert_eq!(
        s.policies,
        vec![(Protocol::Imap, ProtocolPolicy::CodeInLogin)]
    );
    assert_eq!(s.policy(&Protocol::Imap), ProtocolPolicy::CodeInLogin);
    assert_ne!(Protocol::Imap.default_policy(), ProtocolPolicy::CodeInLogin);
    assert_eq!(s.policy(&Protocol::Pop3), Protocol::Pop3.default_policy());
    assert_eq!(
        s.policy(&Protocol::ActiveSync),
        Protocol::ActiveSync.default_policy()
    );

    // A host-named protocol.
    let jmap = Protocol::other("jmap").unwrap();
    assert_eq!(s.policy(&jmap), jmap.default_policy());
    engine
        .set_platform_policy(PLATFORM, &jmap, Some(ProtocolPolicy::Refused))
        .unwrap();
    let s = engine.platform_status(PLATFORM).unwrap();
    assert_eq!(s.policy(&jmap), ProtocolPolicy::Refused);
    assert_eq!(s.policies.len(), 2);

    // Turning 2FA off keeps the overrides.
    engine.enable_platform(PLATFORM, false).unwrap();
    let off = engine.platform_status(PLATFORM).unwrap();
    assert!(!off.enabled);
    assert_eq!(off.policies, s.policies);
    assert_eq!(engine.platform_enabled(PLATFORM).unwrap(), off.enabled);

    // Removing the overrides.
    engine
        .set_platform_policy(PLATFORM, &Protocol::Imap, None)
        .unwrap();
    let s = engine.platform_status(PLATFORM).unwrap();
    assert_eq!(s.policies, vec![(jmap.clone(), ProtocolPolicy::Refused)]);
    assert_eq!(s.policy(&Protocol::Imap), Protocol::Imap.default_policy());
    engine.set_platform_policy(PLATFORM, &jmap, None).unwrap();
    assert!(
        engine
            .platform_status(PLATFORM)
            .unwrap()
            .policies
            .is_empty()
    );

    // A policy on a platform never switched on: the record exists, off.
    engine
        .set_platform_policy(
            "other.example",
            &Protocol::Smtp,
            Some(ProtocolPolicy::Refused),
        )
        .unwrap();
    let s = engine.platform_status("other.example").unwrap();
    assert!(!s.enabled);
    assert_eq!(s.policies, vec![(Protocol::Smtp, ProtocolPolicy::Refused)]);

    // Platforms are separate.
    assert!(
        engine
            .platform_status("nowhere.example")
            .unwrap()
            .policies
            .is_empty()
    );
}

#[test]
fn platform_status_refuses_bad_names_and_unreadable_records() {
    let engine = engine();
    for bad in ["", " example.com", "example.com ", "a:b", "a\nb"] {
        assert!(
            matches!(engine.platform_status(bad), Err(Error::InvalidName { .. })),
            "{bad:?}"
        );
    }
    let long = "x".repeat(257);
    assert!(matches!(
        engine.platform_status(&long),
        Err(Error::InvalidName { .. })
    ));

    // A damaged record is an error, never "off".
    corrupt(engine.store(), &platform_key(PLATFORM));
    assert_eq!(
        engine.platform_status(PLATFORM),
        Err(Error::Record(RecordError::Checksum))
    );
}

// -------------------------------------------------------------- check_records

/// Three platforms (one only through a policy), three accounts (alice with
/// an application password), and the stored device key.
fn populated(engine: &Engine<impl Store>) -> [AccountId; 3] {
    engine.enable_platform(PLATFORM, true).unwrap();
    engine.enable_platform("example.org", true).unwrap();
    engine
        .set_platform_policy(
            "third.example",
            &Protocol::Imap,
            Some(ProtocolPolicy::Refused),
        )
        .unwrap();
    let alice = account("alice@example.com");
    let bob = account("bob@example.com");
    let carol = AccountId::new("example.org", "carol@example.org").unwrap();
    for id in [&alice, &bob, &carol] {
        engine.enable_account(id, NOW).unwrap();
    }
    engine
        .create_app_password(&alice, "phone", &[], NOW)
        .unwrap();
    [alice, bob, carol]
}

#[test]
fn check_records_counts_every_kind_of_record() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();
    // An empty store but for the device key.
    let empty = engine.check_records().unwrap();
    assert_eq!(
        (empty.platforms, empty.accounts, empty.clients, empty.other),
        (0, 0, 0, 1)
    );
    assert_eq!(empty.unreadable, 0);

    populated(&engine);
    let check = engine.check_records().unwrap();
    assert_eq!(check.platforms, 3);
    assert_eq!(check.accounts, 3);
    assert_eq!(check.sealed_accounts, 0);
    assert_eq!(check.clients, 1);
    assert_eq!(check.other, 1);
    assert_eq!(check.unreadable, 0);
    assert!(check.problems.is_empty());
    // Checking changes nothing.
    assert_eq!(engine.check_records().unwrap(), check);

    // With a device key in the configuration, none is stored.
    let keyed = Engine::new(
        fresh_store(),
        EngineConfig {
            device_key: Some(mail2fa::engine::DeviceKey::from_bytes([3; 32])),
            ..EngineConfig::default()
        },
    )
    .unwrap();
    assert_eq!(keyed.check_records().unwrap(), RecordCheck::default());
}

#[test]
fn check_records_names_the_records_it_cannot_read() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();
    let [alice, bob, carol] = populated(&engine);
    let store = engine.store();

    corrupt(store, &bob.store_key());
    let check = engine.check_records().unwrap();
    assert_eq!(check.accounts, 2);
    assert_eq!(check.unreadable, 1);
    assert_eq!(
        check.problems,
        vec![(
            "account example.com/bob@example.com".to_owned(),
            Error::Record(RecordError::Checksum)
        )]
    );
    // Everything else is still counted.
    assert_eq!((check.platforms, check.clients, check.other), (3, 1, 1));
    // The same error a login of bob's gets; the others are fine.
    assert_eq!(
        engine.login(&bob, None, NOW),
        Err(Error::Record(RecordError::Checksum))
    );
    assert!(engine.account_status(&alice, NOW).is_ok());
    assert!(engine.account_status(&carol, NOW).is_ok());

    // One of every kind, and a key the engine never writes: listed in key
    // order (acct < clnt < dkey < plat < zzzz).
    corrupt(store, &clients_key(&alice));
    corrupt(store, &platform_key("example.org"));
    corrupt(store, b"dkey");
    store
        .compare_and_swap(b"zzzz-foreign", None, Some(b"hello"))
        .unwrap();
    let check = engine.check_records().unwrap();
    assert_eq!(check.unreadable, 5);
    assert_eq!(check.accounts, 2);
    assert_eq!(check.platforms, 2);
    assert_eq!(check.clients, 0);
    assert_eq!(check.other, 0);
    let names = problem_names(&check);
    assert_eq!(
        names,
        [
            "account example.com/bob@example.com",
            "devices of example.com/alice@example.com",
            "key dkey",
            "platform example.org",
            "key zzzz-foreign",
        ]
    );
    for (name, error) in &check.problems[..4] {
        assert_eq!(*error, Error::Record(RecordError::Checksum), "{name}");
    }
    assert!(
        matches!(check.problems[4].1, Error::InvalidInput(_)),
        "{:?}",
        check.problems[4]
    );
}

#[test]
fn check_records_walks_past_a_batch_and_caps_the_list() {
    let engine = Engine::new(fresh_store(), EngineConfig::default()).unwrap();
    populated(&engine);
    // More unreadable records than one batch of 1,000, all before the good
    // ones in key order (`aaaa` < `acct`): those are in the second batch.
    let junk = 1_050;
    for n in 0..junk {
        let key = format!("aaaa{n:05}");
        engine
            .store()
            .compare_and_swap(key.as_bytes(), None, Some(b"junk"))
            .unwrap();
    }
    // And one after everything.
    engine
        .store()
        .compare_and_swap(b"zzzzzzzz", None, Some(b"junk"))
        .unwrap();

    let check = engine.check_records().unwrap();
    assert_eq!(check.unreadable, junk + 1);
    assert_eq!(check.problems.len(), MAX_LISTED_PROBLEMS);
    assert_eq!(check.problems[0].0, "key aaaa00000");
    assert_eq!(
        check.problems[MAX_LISTED_PROBLEMS - 1].0,
        format!("key aaaa{:05}", MAX_LISTED_PROBLEMS - 1)
    );
    assert!(
        check
            .problems
            .iter()
            .all(|(_, error)| matches!(error, Error::InvalidInput(_)))
    );
    assert_eq!(check.platforms, 3);
    assert_eq!(check.accounts, 3);
    assert_eq!(check.clients, 1);
    assert_eq!(check.other, 1);
}

#[test]
fn check_records_with_many_good_records_counts_them_all() {
    let engine = engine();
    // 2,100 accounts: three batches.
    for n in 0..2_100 {
        let id = account(&format!("user{n:04}@example.com"));
        engine.enable_account(&id, NOW).unwrap();
    }
    let check = engine.check_records().unwrap();
    assert_eq!(check.accounts, 2_100);
    assert_eq!(check.platforms, 1);
    assert_eq!(check.other, 1);
    assert_eq!(check.unreadable, 0);
}

#[test]
fn check_records_opens_sealed_accounts_with_the_configured_keys() {
    let store = fresh_store();
    let store = &*store;
    // One account written in clear before encryption was turned on.
    let plain = Engine::new(Shared(store), EngineConfig::default()).unwrap();
    plain.enable_platform(PLATFORM, true).unwrap();
    let dan = account("dan@example.com");
    plain.enable_account(&dan, NOW).unwrap();

    let sealing = Engine::new(Shared(store), encrypted([7; 32])).unwrap();
    let [alice, bob, carol] = populated(&sealing);
    // The plain record is refused as a login would refuse it (encrypted
    // records are required once keys are configured)...
    let check = sealing.check_records().unwrap();
    assert_eq!(check.accounts, 3);
    assert_eq!(check.sealed_accounts, 3);
    assert_eq!(check.clients, 1);
    assert_eq!(check.platforms, 3);
    assert_eq!(check.other, 1);
    assert_eq!(check.unreadable, 1);
    assert_eq!(
        problem_names(&check),
        ["account example.com/dan@example.com"]
    );
    assert!(matches!(check.problems[0].1, Error::Encryption(_)));
    assert!(matches!(
        sealing.suspend(&dan, 60, NOW),
        Err(Error::Encryption(_))
    ));
    // ...until the migration seals it.
    assert_eq!(sealing.seal_records().unwrap(), 1);
    let check = sealing.check_records().unwrap();
    assert_eq!((check.accounts, check.sealed_accounts), (4, 4));
    assert_eq!(check.unreadable, 0);
    // Their statuses read too.
    for id in [&alice, &bob, &carol, &dan] {
        assert!(sealing.account_status(id, NOW).is_ok(), "{id:?}");
    }

    // Another key under the same id: nothing sealed opens (the clients
    // record, sealed too, neither).
    let wrong = Engine::new(Shared(store), encrypted([8; 32])).unwrap();
    let check = wrong.check_records().unwrap();
    assert_eq!(check.accounts, 0);
    assert_eq!(check.sealed_accounts, 0);
    assert_eq!(check.unreadable, 5);
    assert_eq!(check.platforms, 3);
    assert_eq!(check.clients, 0);
    let names = problem_names(&check);
    assert_eq!(
        names,
        [
            "account example.com/alice@example.com",
            "account example.com/bob@example.com",
            "account example.com/dan@example.com",
            "account example.org/carol@example.org",
            "devices of example.com/alice@example.com",
        ]
    );
    for (name, error) in &check.problems {
        assert!(matches!(error, Error::Encryption(_)), "{name}: {error:?}");
    }
    assert!(matches!(
        wrong.account_status(&alice, NOW),
        Err(Error::Encryption(_))
    ));

    // No key at all: the same.
    let keyless = Engine::new(Shared(store), EngineConfig::default()).unwrap();
    let check = keyless.check_records().unwrap();
    assert_eq!(check.unreadable, 5);
    assert!(
        check
            .problems
            .iter()
            .all(|(_, error)| matches!(error, Error::Encryption(_)))
    );

    // The right key kept as an older one still opens them all.
    let rotated = Engine::new(
        Shared(store),
        EngineConfig {
            encryption: Some(
                EncryptionKeys::new(2, [9; 32])
                    .with_previous(1, [7; 32])
                    .unwrap(),
            ),
            ..EngineConfig::default()
        },
    )
    .unwrap();
    let check = rotated.check_records().unwrap();
    assert_eq!((check.accounts, check.sealed_accounts), (4, 4));
    assert_eq!(check.unreadable, 0);
}

#[test]
fn a_sealed_record_moved_under_another_account_is_reported() {
    let engine = Engine::new(fresh_store(), encrypted([7; 32])).unwrap();
    let [alice, bob, _] = populated(&engine);
    let store = engine.store();
    let alices = store.load(&alice.store_key()).unwrap().unwrap();
    let bobs = store.load(&bob.store_key()).unwrap().unwrap();
    store
        .compare_and_swap(&bob.store_key(), Some(bobs.version), Some(&alices.bytes))
        .unwrap();
    let check = engine.check_records().unwrap();
    assert_eq!(check.accounts, 2);
    assert_eq!(check.unreadable, 1);
    assert_eq!(check.problems[0].0, "account example.com/bob@example.com");
    assert!(matches!(check.problems[0].1, Error::Encryption(_)));
}

#[test]
fn check_records_needs_a_store_that_can_list() {
    let engine = Engine::new(NoScan(MemoryStore::new()), EngineConfig::default()).unwrap();
    engine.enable_platform(PLATFORM, true).unwrap();
    assert_eq!(
        engine.check_records(),
        Err(Error::Store(StoreError::Unsupported))
    );
    // The rest of the status API does not need it.
    let id = account("alice@example.com");
    engine.enable_account(&id, NOW).unwrap();
    assert!(engine.account_status(&id, NOW).is_ok());
    assert!(engine.platform_status(PLATFORM).unwrap().enabled);

    // A boxed store lists through its box.
    let backend: Box<dyn Store> = Box::new(MemoryStore::new());
    let boxed = Engine::new(backend, EngineConfig::default()).unwrap();
    boxed.enable_platform(PLATFORM, true).unwrap();
    let check = boxed.check_records().unwrap();
    assert_eq!((check.platforms, check.other), (1, 1));
}

// ------------------------------------------------------------ SqliteStore::check

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use mail2fa::store::{SCHEMA_VERSION, SqliteStore};
    use support::TempDir;

    #[test]
    fn a_fresh_database_is_sound_and_counts_its_records() {
        let dir = TempDir::new("fresh");
        let path = dir.path("state.db");
        let store = SqliteStore::create(&path).unwrap();
        let fresh = store.check().unwrap();
        assert!(fresh.is_sound(), "{fresh:?}");
        assert_eq!(fresh.integrity, vec!["ok".to_owned()]);
        assert_eq!(fresh.schema_version, SCHEMA_VERSION);
        assert_eq!(fresh.records, 0);
        assert!(fresh.size_bytes > 0);

        // The engine stores its device key, then platforms and accounts.
        let engine = Engine::new(store, EngineConfig::default()).unwrap();
        assert_eq!(engine.store().check().unwrap().records, 1);
        engine.enable_platform(PLATFORM, true).unwrap();
        let alice = account("alice@example.com");
        engine.enable_account(&alice, NOW).unwrap();
        let check = engine.store().check().unwrap();
        assert_eq!(check.records, 3);
        assert!(check.is_sound());
        engine
            .create_app_password(&alice, "phone", &[], NOW)
            .unwrap();
        for n in 0..200 {
            engine
                .enable_account(&account(&format!("user{n:03}@example.com")), NOW)
                .unwrap();
        }
        let grown = engine.store().check().unwrap();
        assert_eq!(grown.records, 204);
        assert!(grown.is_sound(), "{grown:?}");
        assert_eq!(grown.schema_version, SCHEMA_VERSION);
        assert!(grown.size_bytes >= fresh.size_bytes);
        assert!(grown.size_bytes > 0);

        // The engine's own walk agrees with SQLite's count.
        let records = engine.check_records().unwrap();
        assert_eq!(
            (
                records.platforms,
                records.accounts,
                records.clients,
                records.other
            ),
            (1, 201, 1, 1)
        );
        let total = records.platforms + records.accounts + records.clients + records.other;
        assert_eq!(total as u64, grown.records);

        // Removing records lowers the count.
        engine.remove(&alice).unwrap();
        assert_eq!(engine.store().check().unwrap().records, 202);

        // A second opening of the file sees the same.
        let again = SqliteStore::open(&path).unwrap();
        let seen = again.check().unwrap();
        assert_eq!(seen.records, 202);
        assert!(seen.is_sound());
    }

    #[test]
    fn check_records_on_sqlite_with_two_keys() {
        let dir = TempDir::new("keys");
        let path = dir.path("state.db");
        let sealing = Engine::new(SqliteStore::create(&path).unwrap(), encrypted([7; 32])).unwrap();
        let [alice, ..] = populated(&sealing);
        let check = sealing.check_records().unwrap();
        assert_eq!((check.accounts, check.sealed_accounts), (3, 3));
        assert_eq!((check.platforms, check.clients, check.other), (3, 1, 1));

        // The same file, another process's engine with another key.
        let wrong = Engine::new(SqliteStore::open(&path).unwrap(), encrypted([8; 32])).unwrap();
        let check = wrong.check_records().unwrap();
        assert_eq!(check.accounts, 0);
        // The sealed clients record does not open either.
        assert_eq!(check.unreadable, 4);
        assert_eq!(
            check.problems[0].0,
            format!("account example.com/{}", alice.account())
        );
        assert!(
            check
                .problems
                .iter()
                .all(|(_, error)| matches!(error, Error::Encryption(_)))
        );

        // A corrupt row, written straight through the store.
        corrupt(sealing.store(), &platform_key("example.org"));
        let check = sealing.check_records().unwrap();
        assert_eq!(check.platforms, 2);
        assert_eq!(check.unreadable, 1);
        assert_eq!(
            check.problems,
            vec![(
                "platform example.org".to_owned(),
                Error::Record(RecordError::Checksum)
            )]
        );
        // SQLite itself finds nothing wrong: the damage is in a record.
        assert!(sealing.store().check().unwrap().is_sound());
    }
}

/// The records a check could not read, by name.
fn problem_names(check: &RecordCheck) -> Vec<&str> {
    check
        .problems
        .iter()
        .map(|(name, _)| name.as_str())
        .collect()
}
