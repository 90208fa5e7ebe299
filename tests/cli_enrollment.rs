//! The `mail2fa` operator tool, run as a program: enrollment — the
//! provisioning URI and QR code shown once, confirmation with a code
//! (set-up in `tests/support/cli.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt;

use mail2fa::KeyUri;
use serde_json::Value;
use support::cli::*;

#[test]
fn enrollment_shows_the_uri_and_qr_code_and_is_confirmed_with_a_code() {
    let sandbox = Sandbox::new("enrollment");
    let on = sandbox
        .run(&["platform", "enable", PLATFORM])
        .expect(OK)
        .stdout;
    assert_eq!(on, "2FA is on for example.com.\n");
    assert!(sandbox.db().exists());

    // Human output: the headline, the QR code, the URI, the next step; the
    // SVG written 0600.
    let svg = sandbox.path("alice.svg");
    let enabled = sandbox
        .run(&["account", "enable", PLATFORM, ALICE, "--svg", "alice.svg"])
        .expect(OK)
        .stdout;
    assert!(
        enabled.starts_with(
            "2FA enabled for alice@example.com on example.com, \
             pending until 2027-01-16 08:00:00 UTC."
        ),
        "{enabled}"
    );
    assert!(enabled.contains('█') && enabled.contains('▀'), "{enabled}");
    let uri_line = enabled
        .lines()
        .find(|l| l.starts_with("otpauth://"))
        .expect("the URI");
    assert!(
        uri_line.starts_with("otpauth://totp/example.com:alice@example.com?secret="),
        "{uri_line}"
    );
    KeyUri::parse(uri_line).unwrap();
    assert!(
        enabled.contains("QR code written to alice.svg."),
        "{enabled}"
    );
    assert!(
        enabled.contains("mail2fa account confirm example.com alice@example.com CODE"),
        "{enabled}"
    );
    let written = std::fs::read_to_string(&svg).unwrap();
    assert!(written.starts_with("<?xml"), "{}", &written[..40]);
    let mode = std::fs::metadata(&svg).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    // The SVG is never overwritten.
    let again = sandbox
        .run(&["account", "enable", PLATFORM, "bob", "--svg", "alice.svg"])
        .expect(REFUSED);
    assert!(
        again.error_line().contains("never overwritten"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), written);

    // Not yet confirmed.
    let shown = sandbox.show(ALICE);
    assert_eq!(shown["enrollment"], "pending");
    assert_eq!(shown["enrollment_expires_at"], NOW + 86_400);
    assert_eq!(shown["last_used"], Value::Null);

    // JSON: the URI goes into the app; the app's code confirms.
    let carol = sandbox.json(&["account", "enable", PLATFORM, "carol"]);
    assert_eq!(carol["platform"], PLATFORM);
    assert_eq!(carol["account"], "carol");
    assert_eq!(carol["pending_until"], NOW + 86_400);
    assert_eq!(carol["svg"], Value::Null);
    let totp = authenticator(carol["uri"].as_str().unwrap());

    // A wrong code, then one of the wrong length: refused, with the reason.
    let wrong = wrong_code(&totp);
    let refused = sandbox
        .run(&["account", "confirm", PLATFORM, "carol", &wrong])
        .expect(REFUSED);
    assert_eq!(
        refused.error_line(),
        "mail2fa: carol on example.com: the code was refused (wrong code)."
    );
    let short = sandbox
        .run(&["account", "confirm", PLATFORM, "carol", "12345"])
        .expect(USAGE);
    assert!(
        short.error_line().contains("right number of digits"),
        "{}",
        short.stderr
    );
    let shown = sandbox.show("carol");
    assert_eq!(shown["enrollment"], "pending");
    assert!(shown["failures"].as_u64().unwrap() >= 1, "{shown}");

    let code = totp.generate(NOW).unwrap();
    let confirmed = sandbox
        .run(&["account", "confirm", PLATFORM, "carol", code.as_str()])
        .expect(OK);
    assert_eq!(
        confirmed.stdout,
        "Enrollment of carol on example.com confirmed: 2FA is active.\n"
    );
    let shown = sandbox.show("carol");
    assert_eq!(shown["enrollment"], "confirmed");
    assert_eq!(shown["enrollment_expires_at"], Value::Null);
    assert_eq!(shown["last_used"], NOW);
    assert_eq!(shown["failures"], 0);
    assert_eq!(shown["mode"], "totp");
    assert_eq!(shown["platform_enabled"], true);

    // Human `show` says the same.
    let text = sandbox
        .run(&["account", "show", PLATFORM, "carol"])
        .expect(OK)
        .stdout;
    assert!(text.starts_with("carol on example.com\n"), "{text}");
    assert!(row(&text, "Enrollment").ends_with("confirmed"), "{text}");
    assert!(
        text.contains("Last used       2027-01-15 08:00:00 UTC"),
        "{text}"
    );

    // Confirmed once only; enabled once only.
    let twice = sandbox
        .run(&["account", "confirm", PLATFORM, "carol", code.as_str()])
        .expect(REFUSED);
    assert!(
        twice.error_line().contains("already confirmed"),
        "{}",
        twice.stderr
    );
    let enable_again = sandbox
        .run(&["account", "enable", PLATFORM, "carol"])
        .expect(REFUSED);
    assert!(
        enable_again.error_line().contains("already enabled"),
        "{}",
        enable_again.stderr
    );
}

/// `--svg` refuses an existing file, and must do so before the account is
/// enabled: otherwise the new secret is stored but never shown, and the
/// operator can only reset it.
#[test]
fn a_refused_svg_file_leaves_the_account_without_2fa() {
    let sandbox = Sandbox::with_platform("svg-refused");
    std::fs::write(sandbox.path("taken.svg"), "mine").unwrap();
    sandbox
        .run(&["account", "enable", PLATFORM, "bob", "--svg", "taken.svg"])
        .expect(REFUSED);
    assert_eq!(
        std::fs::read_to_string(sandbox.path("taken.svg")).unwrap(),
        "mine"
    );
    sandbox
        .run(&["account", "show", PLATFORM, "bob"])
        .expect(NOT_FOUND);
}

#[test]
fn an_expired_enrollment_cannot_be_confirmed() {
    let sandbox = Sandbox::with_platform("expired");
    let enabled = sandbox.json(&["account", "enable", PLATFORM, ALICE]);
    let totp = authenticator(enabled["uri"].as_str().unwrap());
    let later = NOW + 86_400;
    let code = totp.generate(later).unwrap();
    let mut command = sandbox.command();
    command
        .arg("--db")
        .arg(sandbox.db())
        .args(["--now", &later.to_string()])
        .args(["account", "confirm", PLATFORM, ALICE, code.as_str()]);
    let run = finish(command).expect(REFUSED);
    assert!(
        run.error_line()
            .contains("the enrollment expired at 2027-01-16 08:00:00 UTC"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_suspension_does_not_stand_in_for_the_confirming_code() {
    // During a suspension a login needs no code; a confirmation still does,
    // and confirms (one atomic step in the engine, not a status read and a
    // login).
    let sandbox = Sandbox::with_platform("suspended-confirm");
    let enabled = sandbox.json(&["account", "enable", PLATFORM, ALICE]);
    let totp = authenticator(enabled["uri"].as_str().unwrap());
    sandbox
        .run(&["account", "suspend", PLATFORM, ALICE, "--hours", "2"])
        .expect(OK);
    let wrong = wrong_code(&totp);
    let refused = sandbox
        .run(&["account", "confirm", PLATFORM, ALICE, &wrong])
        .expect(REFUSED);
    assert!(
        refused.error_line().contains("the code was refused"),
        "{}",
        refused.stderr
    );
    let code = totp.generate(NOW).unwrap();
    let confirmed = sandbox
        .run(&["account", "confirm", PLATFORM, ALICE, code.as_str()])
        .expect(OK);
    assert!(
        confirmed.stdout.contains("confirmed: 2FA is active"),
        "{}",
        confirmed.stdout
    );
}
