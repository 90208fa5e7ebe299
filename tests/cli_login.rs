//! The `mail2fa` operator tool, run as a program: `mail2fa login`, one
//! login as a mail server makes it, on the configuration file's engine —
//! the file's TOTP digits and lockout, the decision and its reason shown,
//! the exit status telling a script, the login string read from standard
//! input and refused when no client would send it (set-up in
//! `tests/support/cli.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;

use support::cli::*;

/// A sandbox whose configuration file asks for 8-digit codes and locks
/// after 3 wrong ones (the library's defaults: 6 and 5), with alice
/// enrolled through it and password+code on IMAP.
fn eight_digits(test: &str) -> (Sandbox, PathBuf, String) {
    let sandbox = Sandbox::new(test);
    let config = sandbox.config_file("mail2fa.toml", &[("digits", "8"), ("max_failures", "3")]);
    sandbox
        .run_with(&config, &["platform", "enable", PLATFORM])
        .expect(OK);
    let uri = sandbox.enroll_with(&config, ALICE);
    sandbox
        .run_with(
            &config,
            &[
                "account",
                "policy",
                PLATFORM,
                ALICE,
                "imap",
                "code-in-login",
            ],
        )
        .expect(OK);
    (sandbox, config, uri)
}

const IMAP: &[&str] = &["--protocol", "imap", "--address", "203.0.113.7", "--json"];

/// The decision's outcome and reason, from the JSON document.
fn said(run: &Run) -> (bool, String, String) {
    let json = run.json();
    (
        json["allowed"].as_bool().unwrap(),
        json["outcome"].as_str().unwrap().to_owned(),
        json["reason"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_login_follows_the_file_and_says_its_decision() {
    let (sandbox, config, uri) = eight_digits("login-sequence");
    let app = authenticator(&uri);
    // The enrollment consumed the step of NOW: later steps from here.
    let at = NOW + 60;
    let code = app.generate(at).unwrap();
    assert_eq!(code.as_str().len(), 8, "the file's digits");
    let typed = format!("pw{}", code.as_str());

    let first = sandbox
        .login_with(&config, at, ALICE, IMAP, typed.as_bytes())
        .expect(OK);
    assert_eq!(
        said(&first),
        (true, "allowed".into(), "code_accepted".into())
    );
    assert_eq!(first.json()["password_checked"], true);
    let replay = sandbox
        .login_with(&config, at, ALICE, IMAP, typed.as_bytes())
        .expect(REFUSED);
    assert_eq!(said(&replay), (false, "refused".into(), "replayed".into()));
    assert_eq!(replay.stderr, "", "the output said why; nothing more");

    // A wrong password: refused, nothing recorded — the next code still works.
    let next = app.generate(at + 30).unwrap();
    let typed = format!("pw{}", next.as_str());
    let mut wrong_pw = IMAP.to_vec();
    wrong_pw.extend(["--password", "wrong"]);
    let refused = sandbox
        .login_with(&config, at + 30, ALICE, &wrong_pw, typed.as_bytes())
        .expect(REFUSED);
    assert_eq!(said(&refused).2, "wrong_password");
    assert_eq!(sandbox.show(ALICE)["failures"], 0);
    let allowed = sandbox
        .login_with(&config, at + 30, ALICE, IMAP, typed.as_bytes())
        .expect(OK);
    assert_eq!(said(&allowed).2, "code_accepted");

    // A six-digit string is not one of this file's codes; three wrong codes
    // lock the account (the file's max_failures, not the default 5).
    let six = &next.as_str()[..6];
    let malformed = sandbox
        .login_with(&config, at + 60, ALICE, IMAP, format!("pw{six}").as_bytes())
        .expect(REFUSED);
    assert_eq!(
        said(&malformed).1,
        "second_factor_required",
        "not split: no 8-digit code"
    );
    let wrong = wrong_code(&app);
    for _ in 0..3 {
        sandbox
            .login_with(
                &config,
                at + 60,
                ALICE,
                IMAP,
                format!("pw{wrong}").as_bytes(),
            )
            .expect(REFUSED);
    }
    let right = app.generate(at + 60).unwrap();
    let locked = sandbox
        .login_with(
            &config,
            at + 60,
            ALICE,
            IMAP,
            format!("pw{}", right.as_str()).as_bytes(),
        )
        .expect(REFUSED);
    assert_eq!(said(&locked).2, "locked");
    assert!(sandbox.show(ALICE)["locked_until"].is_u64());

    // The text form: the decision in words, and what the tool assumed.
    let text = sandbox
        .login_with(
            &config,
            at + 60,
            ALICE,
            &["--protocol", "imap"],
            format!("pw{}\n", right.as_str()).as_bytes(),
        )
        .expect(REFUSED)
        .stdout;
    assert!(
        text.starts_with(
            "alice@example.com on example.com over imap: refused (locked): locked until "
        ),
        "{text}"
    );
    assert!(
        text.contains("The password part was taken as right: mail2fa holds no mailbox passwords."),
        "{text}"
    );
}

#[test]
fn application_passwords_and_accounts_without_2fa() {
    let (sandbox, config, _) = eight_digits("login-app-password");
    let created = sandbox
        .run_with(
            &config,
            &[
                "app-password",
                "create",
                PLATFORM,
                ALICE,
                "--name",
                "phone",
                "--protocol",
                "smtp",
                "--json",
            ],
        )
        .expect(OK)
        .json();
    let password = created["password"].as_str().unwrap().to_owned();
    let smtp = ["--protocol", "smtp", "--json"];
    // The application password is checked by mail2fa, whatever the host's
    // check of the account password says.
    let mut wrong_pw = smtp.to_vec();
    wrong_pw.extend(["--password", "wrong"]);
    let run = sandbox
        .login_with(&config, NOW, ALICE, &wrong_pw, password.as_bytes())
        .expect(OK);
    assert_eq!(said(&run).2, "app_password");
    let run = sandbox
        .login_with(&config, NOW, ALICE, &smtp, b"pw-but-not-the-app-password")
        .expect(REFUSED);
    assert_eq!(said(&run).2, "app_password_required");
    // Not for IMAP: the application password's scope is SMTP.
    let run = sandbox
        .login_with(&config, NOW, ALICE, IMAP, password.as_bytes())
        .expect(REFUSED);
    // (Taken as the account password, which the host said is right.)
    assert_eq!(said(&run).1, "second_factor_required");

    // An account without 2FA: the host's answer decides.
    let bob = "bob@example.com";
    let run = sandbox
        .login_with(&config, NOW, bob, IMAP, b"bobs-password")
        .expect(OK);
    assert_eq!(said(&run).2, "no_second_factor");
    let mut wrong_pw = IMAP.to_vec();
    wrong_pw.extend(["--password", "wrong"]);
    let run = sandbox
        .login_with(&config, NOW, bob, &wrong_pw, b"bobs-password")
        .expect(REFUSED);
    assert_eq!(said(&run).2, "wrong_password");
}

#[test]
fn a_new_device_is_blocked_until_activated() {
    let (sandbox, config, _) = eight_digits("login-device");
    let iphone = [
        "--protocol",
        "activesync",
        "--device-id",
        "ApplF4K3D3V1C3",
        "--device-type",
        "iPhone",
        "--user-agent",
        "Apple-iPhone14C2/2104.74",
        "--json",
    ];
    let run = sandbox
        .login_with(&config, NOW, ALICE, &iphone, b"alice-password")
        .expect(REFUSED);
    let json = run.json();
    assert_eq!(json["outcome"], "device_pending");
    let device = json["device"].as_str().unwrap().to_owned();
    sandbox
        .run_with(&config, &["device", "activate", PLATFORM, ALICE, &device])
        .expect(OK);
    let run = sandbox
        .login_with(&config, NOW, ALICE, &iphone, b"alice-password")
        .expect(OK);
    assert_eq!(said(&run).2, "device_authorized");
    assert_eq!(run.json()["device"], device.as_str());
}

#[test]
fn input_no_client_sends_is_refused_before_anything_is_read() {
    let (sandbox, config, _) = eight_digits("login-input");
    let long = vec![b'a'; 4097];
    let run = sandbox
        .login_with(&config, NOW, ALICE, IMAP, &long)
        .expect(USAGE);
    assert_eq!(
        run.error_line(),
        "mail2fa: the login string is longer than 4096 bytes."
    );
    // 4096 bytes and a line end are the longest accepted.
    let mut longest = vec![b'a'; 4096];
    longest.push(b'\n');
    let run = sandbox
        .login_with(&config, NOW, ALICE, IMAP, &longest)
        .expect(REFUSED);
    assert_eq!(
        said(&run).1,
        "second_factor_required",
        "4096 bytes: no code"
    );
    let run = sandbox
        .login_with(&config, NOW, ALICE, IMAP, b"caf\xe9123456")
        .expect(USAGE);
    assert_eq!(run.error_line(), "mail2fa: the login string is not UTF-8.");
    let run = sandbox
        .login_with(&config, NOW, ALICE, IMAP, b"pw\x00123456")
        .expect(USAGE);
    assert!(
        run.error_line().contains("alice@example.com"),
        "{}",
        run.stderr
    );
    let run = sandbox
        .login_with(
            &config,
            NOW,
            ALICE,
            &["--protocol", "imap", "--address", "not-an-address"],
            b"pw12345678",
        )
        .expect(USAGE);
    assert!(run.error_line().contains("address"), "{}", run.stderr);
    // None of these counted as a wrong code.
    assert_eq!(sandbox.show(ALICE)["failures"], 0);
}
