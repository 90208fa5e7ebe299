//! What an operator or a portal reads about an account
//! (`Engine::account_status`): its life from pending enrollment to
//! confirmed, last use and failure counts, lockout and suspension while they
//! run, contacts, mode and live codes, recovery codes, policies, and that the
//! status never reveals a secret or a code, all through the public API.
//!
//! Time is always an explicit parameter. Wherever a test depends on which
//! step a TOTP code belongs to, it starts at a time around which the codes
//! of nearby steps are pairwise distinct, and its wrong codes match no step
//! nearby.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::RecordError;
use mail2fa::engine::{
    AccountId, AllowReason, ClientAnswer, ClientInfo, Credential, Decision, DenyReason, Engine,
    EngineConfig, Enrollment, LoginRequest, Mode, Protocol, ProtocolPolicy, format_utc,
};
use mail2fa::{Error, KeyUri, Totp};
use support::engine::*;
use support::records::*;
use support::{TestStore, code, phone};

// ------------------------------------------------------------------ helpers

/// The base32 text of the `secret` parameter of a provisioning URI.
fn base32_secret(uri: &str) -> String {
    let (_, rest) = uri.split_once("secret=").expect("a secret parameter");
    let secret = rest.split('&').next().unwrap().to_owned();
    assert!(secret.len() >= 26, "secret {secret:?} too short to be one");
    secret
}

/// A well-formed code that is the code of no step within [`MARGIN`] of the
/// step of `now` (so the engine counts it as simply wrong).
fn wrong_code(totp: &Totp, now: u64) -> String {
    wrong_code_near(totp, step(now), MARGIN)
}

/// The first step boundary at or after `from` around which the codes of the
/// steps within [`MARGIN`] are pairwise distinct.
fn distinct_time(totp: &Totp, from: u64) -> u64 {
    distinct_time_from_step(totp, step(from) + 1)
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

fn webmail_login(code: &str) -> LoginRequest<'_> {
    LoginRequest::new(
        Protocol::Webmail,
        Credential::PasswordAndCode {
            correct: true,
            code,
        },
    )
    .with_client(ClientInfo::default())
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
    let short = engine_with(EngineConfig::default().with_enrollment_ttl(600));
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
    let imap = LoginRequest::new(Protocol::Imap, Credential::AppPassword(&password))
        .with_client(ClientInfo::default());
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
