//! The `mail2fa` operator tool, run as a program: account management
//! (suspension, unlocking, reset, removal, policies) and platforms (2FA on
//! and off, protocol policies) (set-up in `tests/support/cli.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::KeyUri;
use mail2fa::engine::AccountId;
use serde_json::Value;
use support::cli::*;

#[test]
fn an_account_is_suspended_unlocked_reset_and_removed() {
    let sandbox = Sandbox::with_platform("account-admin");
    let old_uri = sandbox.enroll(ALICE);
    let totp = authenticator(&old_uri);
    assert_eq!(sandbox.show(ALICE)["enrollment"], "confirmed");

    // A lockout after wrong codes, lifted by `unlock`.
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    let wrong = wrong_code(&totp);
    {
        let engine = sandbox.engine();
        for _ in 0..5 {
            assert!(!engine.login(&id, Some(&wrong), NOW).unwrap().is_allowed());
        }
    }
    let locked = sandbox.show(ALICE);
    assert!(locked["locked_until"].as_u64().unwrap() > NOW, "{locked}");
    let unlocked = sandbox
        .run(&["account", "unlock", PLATFORM, ALICE])
        .expect(OK);
    assert_eq!(
        unlocked.stdout,
        "alice@example.com on example.com unlocked.\n"
    );
    let shown = sandbox.show(ALICE);
    assert_eq!(shown["locked_until"], Value::Null);
    assert_eq!(shown["failures"], 0);

    // Suspension for two hours.
    let suspended = sandbox.json(&["account", "suspend", PLATFORM, ALICE, "--hours", "2"]);
    assert_eq!(suspended["suspended_until"], NOW + 7200);
    assert_eq!(sandbox.show(ALICE)["suspended_until"], NOW + 7200);
    let text = sandbox
        .run(&["account", "suspend", PLATFORM, ALICE, "--hours", "1"])
        .expect(OK)
        .stdout;
    assert_eq!(
        text,
        "2FA of alice@example.com on example.com suspended until \
         2027-01-15 09:00:00 UTC; it re-arms by itself.\n"
    );
    for hours in ["721", "two", "-1"] {
        sandbox
            .run(&["account", "suspend", PLATFORM, ALICE, "--hours", hours])
            .expect(USAGE);
    }
    // Zero hours ends the suspension at once.
    let ended = sandbox.json(&["account", "suspend", PLATFORM, ALICE, "--hours", "0"]);
    assert_eq!(ended["suspended_until"], Value::Null);
    assert_eq!(sandbox.show(ALICE)["suspended_until"], Value::Null);
    // Suspended again for what follows.
    sandbox.json(&["account", "suspend", PLATFORM, ALICE, "--hours", "1"]);

    // E-mail codes need an address first.
    let no_contact = sandbox
        .run(&["account", "mode", PLATFORM, ALICE, "email"])
        .expect(REFUSED);
    assert!(
        no_contact.error_line().contains("no destination for codes"),
        "{}",
        no_contact.stderr
    );
    assert_eq!(sandbox.show(ALICE)["mode"], "totp");
    sandbox
        .run(&["account", "contact", PLATFORM, ALICE])
        .expect(USAGE);
    let contact = sandbox.json(&[
        "account",
        "contact",
        PLATFORM,
        ALICE,
        "--email",
        "x@example.net",
    ]);
    assert_eq!(contact["email"], "x@example.net");
    assert_eq!(contact["phone"], Value::Null);
    let mode = sandbox
        .run(&["account", "mode", PLATFORM, ALICE, "email"])
        .expect(OK);
    assert_eq!(
        mode.stdout,
        "alice@example.com on example.com now proves the second factor by code by e-mail.\n"
    );
    let shown = sandbox.show(ALICE);
    assert_eq!(shown["mode"], "email");
    assert_eq!(shown["email"], "x@example.net");
    // Nothing to confirm for e-mail codes, and the tool says why.
    let confirm = sandbox
        .run(&["account", "confirm", PLATFORM, ALICE, "123456"])
        .expect(REFUSED);
    assert!(
        confirm
            .error_line()
            .contains("there is no app enrollment to confirm"),
        "{}",
        confirm.stderr
    );
    assert_eq!(
        sandbox.json(&["account", "mode", PLATFORM, ALICE, "totp"])["mode"],
        "totp"
    );

    // Recovery codes: shown once; replacing them asks first.
    let codes = sandbox.json(&["account", "recovery-codes", PLATFORM, ALICE, "--count", "5"]);
    let codes: Vec<&str> = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 5);
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 5, "{codes:?}");
    assert_eq!(sandbox.show(ALICE)["recovery_codes"], 5);
    let replace = sandbox
        .run(&["account", "recovery-codes", PLATFORM, ALICE, "--count", "5"])
        .expect(REFUSED);
    assert!(
        replace
            .error_line()
            .contains("Replace the 5 unused recovery codes"),
        "{}",
        replace.stderr
    );
    assert_eq!(replace.stdout, "");
    assert_eq!(sandbox.show(ALICE)["recovery_codes"], 5);
    let replaced = sandbox
        .run(&[
            "account",
            "recovery-codes",
            PLATFORM,
            ALICE,
            "--count",
            "3",
            "--yes",
        ])
        .expect(OK)
        .stdout;
    assert!(
        replaced.starts_with("New recovery codes for alice@example.com on example.com"),
        "{replaced}"
    );
    assert_eq!(
        replaced.lines().filter(|l| l.starts_with("    ")).count(),
        3,
        "{replaced}"
    );
    assert_eq!(sandbox.show(ALICE)["recovery_codes"], 3);
    sandbox
        .run(&[
            "account",
            "recovery-codes",
            PLATFORM,
            ALICE,
            "--count",
            "33",
        ])
        .expect(USAGE);

    // Reset: asks first, then a new secret, pending again.
    sandbox
        .run(&["account", "reset", PLATFORM, ALICE])
        .expect(REFUSED);
    assert_eq!(sandbox.show(ALICE)["enrollment"], "confirmed");
    let reset = sandbox
        .run(&["account", "reset", PLATFORM, ALICE, "--yes", "--no-qr"])
        .expect(OK)
        .stdout;
    assert!(
        reset.starts_with("2FA of alice@example.com on example.com reset: a new secret"),
        "{reset}"
    );
    assert!(!reset.contains('█'), "--no-qr: {reset}");
    let new_uri = reset.lines().find(|l| l.starts_with("otpauth://")).unwrap();
    assert_ne!(new_uri, old_uri);
    assert_ne!(
        KeyUri::parse(new_uri).unwrap().secret(),
        KeyUri::parse(&old_uri).unwrap().secret()
    );
    let again = sandbox.json(&["account", "reset", PLATFORM, ALICE, "--yes"]);
    assert_ne!(again["uri"], new_uri);
    assert_eq!(sandbox.show(ALICE)["enrollment"], "pending");

    // Remove: asks first; afterwards the account has no 2FA.
    sandbox
        .run(&["account", "remove", PLATFORM, ALICE])
        .expect(REFUSED);
    sandbox.show(ALICE);
    let removed = sandbox.json(&["account", "remove", PLATFORM, ALICE, "--yes"]);
    assert_eq!(removed["removed"], true);
    let gone = sandbox
        .run(&["account", "show", PLATFORM, ALICE])
        .expect(NOT_FOUND);
    assert!(gone.error_line().contains("not enabled"), "{}", gone.stderr);
    sandbox
        .run(&["account", "remove", PLATFORM, ALICE, "--yes"])
        .expect(NOT_FOUND);
    sandbox
        .run(&["account", "reset", PLATFORM, ALICE, "--yes"])
        .expect(NOT_FOUND);
}

#[test]
fn an_account_policy_overrides_the_platform() {
    let sandbox = Sandbox::with_platform("account-policy");
    sandbox.enroll(ALICE);
    let set = sandbox.json(&["account", "policy", PLATFORM, ALICE, "pop3", "refused"]);
    assert_eq!(set["protocol"], "pop3");
    assert_eq!(set["policy"], "refused");
    let shown = sandbox.show(ALICE);
    let pop3 = find(&shown["policies"], "protocol", "pop3");
    assert_eq!(pop3["policy"], "refused");
    assert_eq!(pop3["set_by"], "account");
    let text = sandbox
        .run(&["account", "show", PLATFORM, ALICE])
        .expect(OK)
        .stdout;
    let line: Vec<&str> = row(&text, "pop3").split_whitespace().collect();
    assert_eq!(line, ["pop3", "refused", "account"], "{text}");

    let back = sandbox
        .run(&["account", "policy", PLATFORM, ALICE, "pop3", "default"])
        .expect(OK);
    assert_eq!(
        back.stdout,
        "pop3 for alice@example.com on example.com: app-password-only (from the platform).\n"
    );
    assert_eq!(
        find(&sandbox.show(ALICE)["policies"], "protocol", "pop3")["set_by"],
        "default"
    );
}

#[test]
fn platform_policies_and_switching_2fa_off() {
    let sandbox = Sandbox::with_platform("platform");
    let shown = sandbox.json(&["platform", "show", PLATFORM]);
    assert_eq!(shown["platform"], PLATFORM);
    assert_eq!(shown["enabled"], true);
    let policies = shown["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 8, "{shown}");
    assert!(policies.iter().all(|p| p["set_by"] == "default"), "{shown}");
    let imap = find(&shown["policies"], "protocol", "imap");
    assert_eq!(imap["policy"], "app-password-only");
    assert_eq!(shown["configured"], true);
    // A platform never configured (a typo, say) is said to be so.
    let typo = sandbox.json(&["platform", "show", "exmaple.com"]);
    assert_eq!(
        (&typo["enabled"], &typo["configured"]),
        (&false.into(), &false.into())
    );
    let text = sandbox
        .run(&["platform", "show", "exmaple.com"])
        .expect(OK)
        .stdout;
    assert!(
        text.starts_with("Platform exmaple.com: 2FA off (never configured)\n"),
        "{text}"
    );

    let set = sandbox
        .run(&["platform", "policy", PLATFORM, "imap", "code-in-login"])
        .expect(OK);
    assert_eq!(set.stdout, "imap on example.com: code-in-login.\n");
    let shown = sandbox.json(&["platform", "show", PLATFORM]);
    let imap = find(&shown["policies"], "protocol", "imap");
    assert_eq!(imap["policy"], "code-in-login");
    assert_eq!(imap["set_by"], "platform");
    let text = sandbox
        .run(&["platform", "show", PLATFORM])
        .expect(OK)
        .stdout;
    assert!(text.starts_with("Platform example.com: 2FA on\n"), "{text}");
    let line: Vec<&str> = row(&text, "imap").split_whitespace().collect();
    assert_eq!(line, ["imap", "code-in-login", "platform"], "{text}");

    // A protocol the servers name themselves joins the list.
    sandbox
        .run(&["platform", "policy", PLATFORM, "managesieve", "refused"])
        .expect(OK);
    let sieve = sandbox.json(&["platform", "show", PLATFORM]);
    let sieve = find(&sieve["policies"], "protocol", "managesieve");
    assert_eq!(sieve["policy"], "refused");
    assert_eq!(sieve["set_by"], "platform");

    // The portal, where 2FA is managed, only takes a code (or nothing).
    let portal = sandbox
        .run(&[
            "platform",
            "policy",
            PLATFORM,
            "portal",
            "device-authorization",
        ])
        .expect(USAGE);
    assert!(
        portal
            .error_line()
            .contains("the portal takes only code-in-login or refused"),
        "{}",
        portal.stderr
    );
    let portal = sandbox.json(&["platform", "show", PLATFORM]);
    assert_eq!(
        find(&portal["policies"], "protocol", "portal")["policy"],
        "code-in-login"
    );
    for (protocol, policy) in [("imap", "sometimes"), ("bad name", "refused")] {
        sandbox
            .run(&["platform", "policy", PLATFORM, protocol, policy])
            .expect(USAGE);
    }

    // Back to the default.
    let default = sandbox
        .run(&["platform", "policy", PLATFORM, "imap", "default"])
        .expect(OK);
    assert_eq!(
        default.stdout,
        "imap on example.com: app-password-only (the default).\n"
    );

    // Turning 2FA off asks first.
    let enabled = sandbox.json(&["account", "enable", PLATFORM, ALICE]);
    let off = sandbox
        .run(&["platform", "disable", PLATFORM])
        .expect(REFUSED);
    assert!(
        off.error_line().contains("Turn 2FA off for example.com?")
            && off.stderr.contains("nothing was changed"),
        "{}",
        off.stderr
    );
    assert_eq!(
        sandbox.json(&["platform", "show", PLATFORM])["enabled"],
        true
    );
    let off = sandbox.json(&["platform", "disable", PLATFORM, "--yes"]);
    assert_eq!(off["enabled"], false);
    assert_eq!(
        sandbox.json(&["platform", "show", PLATFORM])["enabled"],
        false
    );
    let text = sandbox
        .run(&["platform", "show", PLATFORM])
        .expect(OK)
        .stdout;
    assert!(
        text.starts_with("Platform example.com: 2FA off\n"),
        "{text}"
    );

    // With 2FA off, an enrollment cannot be started or confirmed.
    let refused = sandbox
        .run(&["account", "enable", PLATFORM, "bob"])
        .expect(REFUSED);
    assert!(
        refused
            .error_line()
            .contains("not enabled for this platform"),
        "{}",
        refused.stderr
    );
    let code = authenticator(enabled["uri"].as_str().unwrap())
        .generate(NOW)
        .unwrap();
    let refused = sandbox
        .run(&["account", "confirm", PLATFORM, ALICE, code.as_str()])
        .expect(REFUSED);
    assert!(
        refused
            .error_line()
            .contains("not enabled for this platform"),
        "{}",
        refused.stderr
    );
}
