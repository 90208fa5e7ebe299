//! The portal's password check by a PAM service: the shipped portal stack
//! (`integrations/pam/mail2fa-portal.pam`) with pam_pwdfile on a password
//! file of the test, and stacks of the test's own for the account phase,
//! `PAM_RHOST`, a module that hangs and a module that cannot be loaded.
//! Service files are written in /etc/pam.d under names of this test only
//! and removed after.
//!
//! Needs root, Debian's libpam-pwdfile, libpam-modules (pam_exec) and
//! openssl; says SKIPPED without them, unless MAIL2FA_REQUIRE_E2E=1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod password_support;

use std::net::IpAddr;
use std::path::Path;

use mail2fa::config::{PasswordCheckSection, PasswordMethod};
use mail2fa_server::password::{PasswordCheck, PasswordCheckError};
use password_support::{PamService, WorkDir, crypt_sha512, is_root, missing, pam_module, shipped};

const BOB: &str = "bob@example.com";
const BOB_PASSWORD: &str = "bob-Secret-1";
/// Disabled in the host's password file (a `!` before the hash).
const FRANK: &str = "frank@example.com";
const FRANK_PASSWORD: &str = "frank-Secret-1";

fn checker(service: &str, timeout_seconds: u64) -> PasswordCheck {
    let mut section = PasswordCheckSection::default();
    section.method = PasswordMethod::Pam;
    section.pam_service = service.to_owned();
    section.timeout_seconds = timeout_seconds;
    PasswordCheck::from_config(&section)
}

fn pam_missing() -> bool {
    missing(
        "the PAM password check",
        &[
            ("root", is_root()),
            (
                "pam_pwdfile.so (libpam-pwdfile)",
                pam_module("pam_pwdfile.so"),
            ),
            ("pam_exec.so (libpam-modules)", pam_module("pam_exec.so")),
            (
                "openssl",
                std::process::Command::new("openssl")
                    .arg("version")
                    .output()
                    .is_ok(),
            ),
        ],
    )
    .is_some()
}

/// The host's password file: bob, and frank disabled.
fn pwdfile(work: &WorkDir) -> String {
    let users = format!(
        "{BOB}:{}\n{FRANK}:!{}\n",
        crypt_sha512(BOB_PASSWORD),
        crypt_sha512(FRANK_PASSWORD)
    );
    work.write("users.pwdfile", &users, 0o600)
        .to_str()
        .unwrap()
        .to_owned()
}

fn portal_stack(pwdfile: &str) -> String {
    shipped(
        "integrations/pam/mail2fa-portal.pam",
        &[("/etc/dovecot/mail2fa-pam-users", pwdfile)],
    )
}

#[tokio::test]
async fn the_shipped_portal_stack_checks_the_password() {
    if pam_missing() {
        return;
    }
    let work = WorkDir::new("pw-pam-portal");
    let service = PamService::new("portal", &portal_stack(&pwdfile(&work)));
    let check = checker(&service.name, 10);
    let remote: Option<IpAddr> = Some("192.0.2.20".parse().unwrap());

    assert!(check.check(BOB, BOB_PASSWORD, remote).await.unwrap());
    assert!(check.check(BOB, BOB_PASSWORD, None).await.unwrap());
    for (what, user, password) in [
        ("wrong password", BOB, "bob-Secret-2"),
        ("empty password", BOB, ""),
        ("password and a code", BOB, "bob-Secret-1123456"),
        ("unknown user", "nobody@example.com", BOB_PASSWORD),
        ("disabled user", FRANK, FRANK_PASSWORD),
        ("NUL in the password", BOB, "bob-Secret-1\0x"),
        ("NUL in the user", "bob@example.com\0x", BOB_PASSWORD),
        ("LF in the user", "bob@example.com\n", BOB_PASSWORD),
        ("TAB in the password", BOB, "bob-Secret-1\t"),
    ] {
        let answer = check.check(user, password, remote).await;
        assert!(matches!(answer, Ok(false)), "{what}: {answer:?}");
    }
}

#[tokio::test]
async fn the_account_phase_can_refuse_a_right_password() {
    if pam_missing() {
        return;
    }
    let work = WorkDir::new("pw-pam-account");
    let stack = portal_stack(&pwdfile(&work)).replace(
        "account  required   pam_permit.so",
        "account  required   pam_deny.so",
    );
    let service = PamService::new("account", &stack);
    let answer = checker(&service.name, 10)
        .check(BOB, BOB_PASSWORD, None)
        .await;
    assert!(matches!(answer, Ok(false)), "{answer:?}");
}

#[tokio::test]
async fn the_remote_address_and_user_reach_the_modules_and_the_password_does_not() {
    if pam_missing() {
        return;
    }
    let work = WorkDir::new("pw-pam-rhost");
    let seen = work.path("seen");
    let script = work.write(
        "record.sh",
        &format!(
            "#!/bin/sh\nprintf '%s %s %s\\n' \"$PAM_RHOST\" \"$PAM_USER\" \"$PAM_TYPE\" >> {}\n",
            seen.display()
        ),
        0o700,
    );
    let stack = format!(
        "auth     optional   pam_exec.so {script}\n{}",
        portal_stack(&pwdfile(&work)),
        script = script.display()
    );
    let service = PamService::new("rhost", &stack);
    let check = checker(&service.name, 10);
    let remote: IpAddr = "2001:db8::20".parse().unwrap();
    assert!(check.check(BOB, BOB_PASSWORD, Some(remote)).await.unwrap());
    let text = std::fs::read_to_string(&seen).unwrap();
    assert_eq!(text, format!("2001:db8::20 {BOB} auth\n"));
    assert!(!text.contains(BOB_PASSWORD));
}

#[tokio::test]
async fn a_missing_service_is_an_error_naming_it() {
    let service = format!("m2fa-pwtest-{}-no-such-service", std::process::id());
    assert!(!Path::new("/etc/pam.d").join(&service).exists());
    let error = checker(&service, 5)
        .check(BOB, "secret-pw", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, PasswordCheckError::Unreachable { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains(&service), "{text}");
    assert!(!text.contains("secret-pw"), "{text}");
}

#[tokio::test]
async fn a_module_that_hangs_is_an_error_after_the_timeout() {
    if pam_missing() {
        return;
    }
    let service = PamService::new(
        "hang",
        "auth     required   pam_exec.so /bin/sleep 4\naccount  required   pam_permit.so\n",
    );
    let error = checker(&service.name, 1)
        .check(BOB, "secret-pw", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, PasswordCheckError::TimedOut { seconds: 1, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains(&service.name), "{text}");
    assert!(!text.contains("secret-pw"), "{text}");
}

#[tokio::test]
async fn a_stack_that_cannot_load_its_module_is_an_error() {
    if pam_missing() {
        return;
    }
    let service = PamService::new(
        "broken",
        "auth     required   pam_m2fa_no_such_module.so\naccount  required   pam_permit.so\n",
    );
    let answer = checker(&service.name, 5)
        .check(BOB, "secret-pw", None)
        .await;
    let error = answer.unwrap_err();
    assert!(
        matches!(error, PasswordCheckError::Failed { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains(&service.name), "{text}");
    assert!(!text.contains("secret-pw"), "{text}");
}
