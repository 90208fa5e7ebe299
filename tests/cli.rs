//! The `mail2fa` operator tool, run as a program: the command line itself —
//! help for every command, exit statuses for unknown accounts and bad
//! names, colours. The set-up every `tests/cli*.rs` suite shares is in
//! `tests/support/cli.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::Decision;
use support::cli::*;

#[test]
fn unknown_accounts_and_bad_names() {
    let sandbox = Sandbox::with_platform("bad-names");
    for command in [
        &["account", "show"][..],
        &["account", "unlock"],
        &["account", "recovery-codes"],
        &["app-password", "list"],
        &["device", "list"],
    ] {
        let mut args = command.to_vec();
        args.extend([PLATFORM, "never@example.com"]);
        let run = sandbox.run(&args).expect(NOT_FOUND);
        assert!(
            run.error_line()
                .starts_with("mail2fa: never@example.com on example.com: "),
            "{}",
            run.stderr
        );
    }
    for (platform, account) in [
        (PLATFORM, "a:b"),
        ("example.com:1", ALICE),
        (PLATFORM, " alice"),
        (PLATFORM, ""),
    ] {
        let run = sandbox
            .run(&["account", "enable", platform, account])
            .expect(USAGE);
        run.error_line();
    }
    let run = sandbox
        .run(&["account", "confirm", PLATFORM, "a:b", "123456"])
        .expect(USAGE);
    assert_eq!(
        run.error_line(),
        "mail2fa: \"a:b\" on \"example.com\" is refused: invalid account name: character at \
         byte 1 is not allowed (an account name has a-z, 0-9, '.', '-', '_', '+' and one '@'; a \
         domain or platform a-z, 0-9, '-' and '.')."
    );
    let run = sandbox.run(&["account", "frobnicate"]).expect(USAGE);
    assert!(
        run.stderr.contains("unrecognized subcommand"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_command_has_help() {
    let sandbox = Sandbox::new("help");
    let commands: &[(&[&str], &str)] = &[
        (&[], "Manage two-factor authentication for mail accounts"),
        (&["platform"], "Turn 2FA on or off for a platform"),
        (&["platform", "enable"], "Turn 2FA on"),
        (&["platform", "disable"], "Turn 2FA off"),
        (&["platform", "show"], "Show whether 2FA is on"),
        (&["platform", "policy"], "Set what 2FA asks of clients"),
        (&["account"], "Enroll, inspect, suspend, reset or remove"),
        (&["account", "enable"], "Enable 2FA"),
        (&["account", "confirm"], "Confirm an enrollment"),
        (&["account", "show"], "Show the account's 2FA state"),
        (
            &["account", "suspend"],
            "without a second factor for a while",
        ),
        (&["account", "reset"], "New secret"),
        (&["account", "remove"], "Remove 2FA"),
        (&["account", "unlock"], "Lift a lockout"),
        (
            &["account", "mode"],
            "how the account proves the second factor",
        ),
        (&["account", "contact"], "where e-mail and SMS codes go"),
        (&["account", "recovery-codes"], "Replace the recovery codes"),
        (&["account", "policy"], "overrides the platform"),
        (&["device"], "List and authorize the devices"),
        (&["device", "list"], "List the mailbox's device tokens"),
        (&["device", "activate"], "Authorize a device"),
        (&["device", "deactivate"], "Block a device again"),
        (&["device", "delete"], "Forget a device"),
        (&["app-password"], "application passwords"),
        (
            &["app-password", "create"],
            "Create an application password",
        ),
        (&["app-password", "list"], "List application passwords"),
        (
            &["app-password", "revoke"],
            "Revoke an application password",
        ),
        (&["db"], "Purge expired state; check the database"),
        (&["db", "purge"], "Remove expired codes"),
        (&["db", "check"], "Check the database file"),
        (
            &["db", "copy"],
            "Copy every record into another, empty database",
        ),
    ];
    for (path, purpose) in commands {
        let mut command = sandbox.command();
        command.args(*path).arg("--help");
        let run = finish(command).expect(OK);
        // Help text is wrapped: compare with white space folded.
        let text = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains(purpose),
            "`mail2fa {} --help` does not say {purpose:?}:\n{}",
            path.join(" "),
            run.stdout
        );
        assert!(text.contains("Usage: mail2fa"), "{}", run.stdout);
        assert_eq!(run.stderr, "", "{path:?}");
    }
    // The top level lists the exit statuses; the clock option stays hidden.
    let mut command = sandbox.command();
    command.arg("--help");
    let top = finish(command).expect(OK).stdout;
    for status in [
        "0  done",
        "3  not found",
        "4  database",
        "5  encryption key",
    ] {
        assert!(top.contains(status), "{top}");
    }
    assert!(!top.contains("--now"), "{top}");
    // No command at all: usage on stderr, status 2.
    finish(sandbox.command()).expect(USAGE);
}

/// Issue 14, point 6: clap shows the values of environment variables in
/// `--help`; MAIL2FA_DB may be a URL with the database password.
#[test]
fn help_never_shows_the_database_url_from_the_environment() {
    let sandbox = Sandbox::new("help-env");
    let url = "postgres://m2fa:Hx7Secret9@db.example/mail2fa";
    for path in [&[][..], &["account", "show"][..], &["db", "check"][..]] {
        let mut command = sandbox.command();
        command.env("MAIL2FA_DB", url).args(path).arg("--help");
        let run = finish(command).expect(OK);
        assert!(run.stdout.contains("MAIL2FA_DB"), "{}", run.stdout);
        assert!(
            !run.stdout.contains("Hx7Secret9"),
            "{path:?}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.contains("db.example"),
            "{path:?}: {}",
            run.stdout
        );
        assert!(!run.stderr.contains("Hx7Secret9"), "{}", run.stderr);
    }
}

#[test]
fn colours_only_when_asked_for_or_on_a_terminal() {
    let sandbox = Sandbox::with_platform("colours");
    sandbox.enroll(ALICE);
    assert!(matches!(
        sandbox.login(ALICE, &iphone("iPhone")),
        Decision::DevicePending { .. }
    ));
    let list = ["device", "list", PLATFORM, ALICE];

    let always = sandbox
        .run(&[&list[..], &["--color", "always"]].concat())
        .expect(OK)
        .stdout;
    assert!(always.contains("\x1b["), "{always:?}");
    assert!(always.contains("\x1b[33mINACTIVE"), "{always:?}");

    // NO_COLOR (set by `command`), `never`, and `auto` when stdout is not a
    // terminal: plain text.
    let plain = sandbox.run(&list).expect(OK).stdout;
    assert!(!plain.contains('\x1b'), "{plain:?}");
    let never = sandbox
        .run(&[&list[..], &["--color", "never"]].concat())
        .expect(OK)
        .stdout;
    assert_eq!(never, plain);
    let mut command = sandbox.command();
    command
        .env_remove("NO_COLOR")
        .arg("--db")
        .arg(sandbox.db())
        .args(["--now", &NOW.to_string()])
        .args(list);
    let auto = finish(command).expect(OK).stdout;
    assert_eq!(auto, plain);

    // Colours never leak into JSON.
    let json = sandbox
        .run(&[&list[..], &["--color", "always", "--json"]].concat())
        .expect(OK);
    assert!(!json.stdout.contains('\x1b'), "{:?}", json.stdout);
    json.json();
    sandbox
        .run(&[&list[..], &["--color", "sometimes"]].concat())
        .expect(USAGE);
}
