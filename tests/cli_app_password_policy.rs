//! The `mail2fa` operator tool, run as a program: it warns about an
//! application password the protocol policy refuses (issue 19, point 5).
//! The guide set `platform policy example.com imap code-in-login`, then
//! created an IMAP application password, and every IMAP login with it was
//! refused (`app_password_not_accepted`) while the tool said nothing. It
//! still creates the password (the operator may change the policy next), and
//! says on standard error — or in the JSON document's `warnings` — which
//! protocols refuse it, under which policy, and the command that changes
//! it. The logins are made through the library, as a mail server does
//! (set-up in `tests/support/cli.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use mail2fa::engine::{
    AccountId, ClientInfo, Credential, Decision, LoginRequest, Protocol, ProtocolPolicy, ReasonCode,
};
use serde_json::{Value, json};
use support::cli::*;

/// `app-password create` with `args` after the account, in text mode.
fn create(sandbox: &Sandbox, args: &[&str]) -> Run {
    let mut all = vec!["app-password", "create", PLATFORM, ALICE];
    all.extend_from_slice(args);
    sandbox.run(&all).expect(OK)
}

/// `app-password create … --json`: the document and standard error.
fn create_json(sandbox: &Sandbox, args: &[&str]) -> (Value, String) {
    let mut all = vec!["app-password", "create", PLATFORM, ALICE];
    all.extend_from_slice(args);
    all.push("--json");
    let run = sandbox.run(&all).expect(OK);
    (run.json(), run.stderr)
}

/// The password a text-mode `create` showed (the indented line).
fn shown_password(run: &Run) -> String {
    run.stdout
        .lines()
        .find(|line| line.starts_with("    "))
        .unwrap_or_else(|| panic!("no password shown: {}", run.stdout))
        .trim()
        .to_owned()
}

/// The commands the warnings on standard error give.
fn fixes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("mail2fa:   to accept application passwords there: "))
        .collect()
}

/// The lines of standard error that start a warning.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.starts_with("mail2fa: warning: "))
        .collect()
}

/// A login on `protocol` with an application password (the host's password
/// check failed on it, as it does), through the library.
fn login(sandbox: &Sandbox, protocol: Protocol, password: &str) -> Decision {
    let request = LoginRequest::new(protocol, Credential::AppPassword(password)).with_client(
        ClientInfo::new()
            .with_user_agent("Thunderbird")
            .with_remote_addr("198.51.100.20"),
    );
    sandbox.login(ALICE, &request)
}

/// The protocols of a JSON `warnings` list.
fn warned(document: &Value) -> Vec<String> {
    document["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings list: {document}"))
        .iter()
        .map(|w| w["protocol"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_guide_s_imap_password_under_code_in_login_is_warned_about_and_the_fix_works() {
    let sandbox = Sandbox::with_platform("guide");
    sandbox.enroll(ALICE);

    // The platform policy itself says what it does to application passwords.
    let set = sandbox
        .run(&["platform", "policy", PLATFORM, "imap", "code-in-login"])
        .expect(OK);
    assert_eq!(set.stdout, "imap on example.com: code-in-login.\n");
    assert_eq!(warnings(&set.stderr).len(), 1, "{}", set.stderr);
    assert!(
        set.stderr.contains(
            "imap is now code-in-login on example.com, which takes no application password"
        ),
        "{}",
        set.stderr
    );

    // The guide's command: created, shown, and warned about on stderr.
    let created = create(&sandbox, &["--name", "Phone", "--protocol", "imap"]);
    assert!(
        created.stdout.starts_with(
            "Application password Phone (id 1) for alice@example.com on example.com, shown once:"
        ),
        "{}",
        created.stdout
    );
    let password = shown_password(&created);
    assert!(!created.stderr.contains(&password), "{}", created.stderr);
    let lines = warnings(&created.stderr);
    assert_eq!(lines.len(), 1, "{}", created.stderr);
    assert_eq!(
        lines[0],
        "mail2fa: warning: application password \"Phone\" of alice@example.com on example.com \
         will be refused on imap: the policy there is code-in-login (set for the platform), \
         which takes no application password."
    );
    let fix = fixes(&created.stderr);
    assert_eq!(
        fix,
        ["mail2fa platform policy example.com imap app-password-only"]
    );

    // The warning is right: the mail server refuses it, for that reason.
    let refused = login(&sandbox, Protocol::Imap, &password);
    assert_eq!(
        refused.reason_code(),
        ReasonCode::AppPasswordNotAccepted,
        "{refused:?}"
    );

    // The command it gives, run as given, lets the password in.
    let words: Vec<&str> = fix[0].split(' ').collect();
    assert_eq!(words[0], "mail2fa");
    let fixed = sandbox.run(&words[1..]).expect(OK);
    assert_eq!(fixed.stderr, "", "app-password-only takes them: no warning");
    let allowed = login(&sandbox, Protocol::Imap, &password);
    assert_eq!(
        allowed.reason_code(),
        ReasonCode::AppPassword,
        "{allowed:?}"
    );

    // Under the policy now in force, the same command says nothing more.
    let quiet = create(&sandbox, &["--name", "Tablet", "--protocol", "imap"]);
    assert_eq!(quiet.stderr, "");
}

#[test]
fn no_warning_where_the_password_is_taken_or_outside_its_scope() {
    let sandbox = Sandbox::with_platform("quiet");
    sandbox.enroll(ALICE);

    // The defaults take application passwords on every protocol that can:
    // nothing to say, with or without a scope.
    for args in [
        &["--name", "imap", "--protocol", "imap"][..],
        &[
            "--name",
            "outlook",
            "--protocol",
            "outlook",
            "--protocol",
            "smtp",
        ][..],
        &["--name", "any"][..],
    ] {
        assert_eq!(create(&sandbox, args).stderr, "", "{args:?}");
    }
    let (document, stderr) = create_json(&sandbox, &["--name", "json", "--protocol", "pop3"]);
    assert_eq!(document["warnings"], json!([]), "{document}");
    assert_eq!(stderr, "");

    // IMAP under code-in-login: a password for SMTP alone is not concerned;
    // one for any protocol is, on IMAP only.
    sandbox
        .run(&["platform", "policy", PLATFORM, "imap", "code-in-login"])
        .expect(OK);
    let smtp = create(&sandbox, &["--name", "smtp", "--protocol", "smtp"]);
    assert_eq!(smtp.stderr, "");
    let (document, _) = create_json(&sandbox, &["--name", "smtp-json", "--protocol", "smtp"]);
    assert_eq!(document["warnings"], json!([]), "{document}");
    let any = create(&sandbox, &["--name", "laptop"]);
    let lines = warnings(&any.stderr);
    assert_eq!(lines.len(), 1, "{}", any.stderr);
    assert!(
        lines[0].contains("will be refused on imap"),
        "{}",
        any.stderr
    );

    // A protocol turned off altogether is no surprise for a password without
    // a scope; one named in the scope is still said.
    sandbox
        .run(&["platform", "policy", PLATFORM, "imap", "app-password-only"])
        .expect(OK);
    sandbox
        .run(&["platform", "policy", PLATFORM, "activesync", "refused"])
        .expect(OK);
    assert_eq!(create(&sandbox, &["--name", "any-2"]).stderr, "");
    let (document, stderr) = create_json(
        &sandbox,
        &[
            "--name",
            "phone",
            "--protocol",
            "activesync",
            "--protocol",
            "imap",
        ],
    );
    assert_eq!(stderr, "", "with --json, nothing on standard error");
    assert_eq!(warned(&document), ["activesync"], "{document}");
    assert_eq!(document["warnings"][0]["policy"], "refused");
}

#[test]
fn json_says_each_refusing_protocol_with_its_policy_and_fix() {
    let sandbox = Sandbox::with_platform("json");
    sandbox.enroll(ALICE);
    sandbox
        .run(&[
            "account",
            "policy",
            PLATFORM,
            ALICE,
            "imap",
            "code-in-login",
        ])
        .expect(OK);
    sandbox
        .run(&["platform", "policy", PLATFORM, "outlook", "code-in-login"])
        .expect(OK);

    let (document, stderr) = create_json(
        &sandbox,
        &[
            "--name",
            "Phone",
            "--protocol",
            "imap",
            "--protocol",
            "outlook",
            "--protocol",
            "webmail",
            "--protocol",
            "smtp",
        ],
    );
    assert_eq!(stderr, "", "with --json, nothing on standard error");
    let password = document["password"].as_str().unwrap().to_owned();
    assert_eq!(document["name"], "Phone");
    let list = &document["warnings"];
    assert_eq!(
        warned(&document),
        ["imap", "outlook", "webmail"],
        "{document}"
    );
    let imap = find(list, "protocol", "imap");
    assert_eq!(imap["policy"], "code-in-login");
    assert_eq!(imap["set_by"], "account");
    assert_eq!(
        imap["fix"],
        "mail2fa account policy example.com alice@example.com imap app-password-only"
    );
    let outlook = find(list, "protocol", "outlook");
    assert_eq!(outlook["policy"], "code-in-login");
    assert_eq!(outlook["set_by"], "platform");
    assert_eq!(
        outlook["fix"],
        "mail2fa platform policy example.com outlook device-authorization"
    );
    // Webmail never takes one, whatever its policy: no command changes that.
    let webmail = find(list, "protocol", "webmail");
    assert_eq!(webmail["policy"], "code-in-login");
    assert_eq!(webmail["set_by"], "default");
    assert_eq!(webmail["fix"], Value::Null);
    assert!(
        webmail["message"]
            .as_str()
            .unwrap()
            .contains("never opens webmail or the portal"),
        "{document}"
    );
    assert!(!list.to_string().contains(&password));

    // Each warning is what a login finds; SMTP, not warned about, takes it.
    for protocol in [Protocol::Imap, Protocol::Outlook] {
        let decision = login(&sandbox, protocol.clone(), &password);
        assert_eq!(
            decision.reason_code(),
            ReasonCode::AppPasswordNotAccepted,
            "{protocol}: {decision:?}"
        );
    }
    assert!(!login(&sandbox, Protocol::Webmail, &password).is_allowed());
    assert!(login(&sandbox, Protocol::Smtp, &password).is_allowed());

    // Every fix given, run as given: the password gets in there.
    for protocol in ["imap", "outlook"] {
        let fix = find(list, "protocol", protocol)["fix"].as_str().unwrap();
        let words: Vec<&str> = fix.split(' ').collect();
        sandbox.run(&words[1..]).expect(OK);
    }
    for protocol in [Protocol::Imap, Protocol::Outlook] {
        let decision = login(&sandbox, protocol.clone(), &password);
        assert_eq!(
            decision.reason_code(),
            ReasonCode::AppPassword,
            "{protocol}: {decision:?}"
        );
    }
}

#[test]
fn an_account_policy_that_shuts_out_its_application_passwords_says_so() {
    let sandbox = Sandbox::with_platform("account-policy");
    sandbox.enroll(ALICE);

    // No application password yet: nothing to warn about.
    let none = sandbox
        .run(&[
            "account",
            "policy",
            PLATFORM,
            ALICE,
            "imap",
            "code-in-login",
        ])
        .expect(OK);
    assert_eq!(none.stderr, "");
    sandbox
        .run(&["account", "policy", PLATFORM, ALICE, "imap", "default"])
        .expect(OK);

    create(&sandbox, &["--name", "Phone", "--protocol", "imap"]);
    create(&sandbox, &["--name", "Laptop"]);
    create(&sandbox, &["--name", "Printer", "--protocol", "smtp"]);

    let set = sandbox
        .run(&[
            "account",
            "policy",
            PLATFORM,
            ALICE,
            "imap",
            "code-in-login",
        ])
        .expect(OK);
    assert_eq!(
        set.stdout,
        "imap for alice@example.com on example.com: code-in-login.\n"
    );
    assert_eq!(
        warnings(&set.stderr),
        [
            "mail2fa: warning: imap is now code-in-login for alice@example.com on example.com, \
          which takes no application password: its 2 application passwords (\"Phone\", \
          \"Laptop\") will be refused there."
        ],
        "{}",
        set.stderr
    );
    assert_eq!(
        fixes(&set.stderr),
        ["mail2fa account policy example.com alice@example.com imap app-password-only"]
    );

    let document = sandbox.json(&[
        "account",
        "policy",
        PLATFORM,
        ALICE,
        "smtp",
        "code-in-login",
    ]);
    assert_eq!(document["policy"], "code-in-login");
    assert_eq!(warned(&document), ["smtp"], "{document}");
    assert_eq!(document["warnings"][0]["set_by"], "account");
    let message = document["warnings"][0]["message"].as_str().unwrap();
    assert!(message.contains("(\"Laptop\", \"Printer\")"), "{message}");

    // Turning a protocol off is what `refused` is for; taking passwords again
    // is nothing to warn about.
    for policy in ["refused", "app-password-only", "default"] {
        let run = sandbox
            .run(&["account", "policy", PLATFORM, ALICE, "pop3", policy])
            .expect(OK);
        assert_eq!(run.stderr, "", "{policy}");
        let document = sandbox.json(&["account", "policy", PLATFORM, ALICE, "pop3", policy]);
        assert_eq!(document["warnings"], json!([]), "{policy}: {document}");
    }
}

/// The tool's warnings and a mail server's logins agree, on every standard
/// protocol under every policy an account can hold: the protocols warned
/// about are exactly those whose login refuses the (valid, in-scope)
/// password, with `app_password_not_accepted` (`protocol_refused` where
/// the policy refuses everything), and the library's rule,
/// `ProtocolPolicy::accepts_app_passwords_on`, says the same.
#[test]
fn the_warnings_the_rule_and_the_logins_agree() {
    let sandbox = Sandbox::with_platform("agree");
    sandbox.enroll(ALICE);
    let id = AccountId::new(PLATFORM, ALICE).unwrap();
    let every: Vec<&str> = Protocol::STANDARD.iter().map(Protocol::name).collect();
    let mut scope = Vec::new();
    for name in &every {
        scope.extend_from_slice(&["--protocol", *name]);
    }

    let policies = [
        None,
        Some(ProtocolPolicy::CodeInLogin),
        Some(ProtocolPolicy::DeviceAuthorization),
        Some(ProtocolPolicy::AppPasswordOnly),
        Some(ProtocolPolicy::Refused),
    ];
    for (n, policy) in policies.into_iter().enumerate() {
        {
            let engine = sandbox.engine();
            for protocol in Protocol::STANDARD {
                // The portal takes no other override than these two.
                let allowed_here = protocol != Protocol::Portal
                    || matches!(
                        policy,
                        None | Some(ProtocolPolicy::CodeInLogin | ProtocolPolicy::Refused)
                    );
                let set = if allowed_here { policy } else { None };
                engine.set_account_policy(&id, &protocol, set).unwrap();
            }
        }
        let name = format!("every-{n}");
        let mut args = vec!["--name", name.as_str()];
        args.extend_from_slice(&scope);
        let (document, _) = create_json(&sandbox, &args);
        let password = document["password"].as_str().unwrap().to_owned();
        let warned = warned(&document);

        let engine = sandbox.engine();
        for protocol in Protocol::STANDARD {
            let in_force = engine.protocol_policy(&id, &protocol).unwrap();
            let rule = in_force.accepts_app_passwords_on(&protocol);
            let decision = login(&sandbox, protocol.clone(), &password);
            let context = format!("{protocol} under {}: {decision:?}", in_force.name());
            assert_eq!(decision.is_allowed(), rule, "{context}");
            assert_eq!(
                warned.iter().any(|w| w == protocol.name()),
                !rule,
                "{context}; warned about {warned:?}"
            );
            if !rule {
                let expected = if in_force == ProtocolPolicy::Refused {
                    ReasonCode::ProtocolRefused
                } else {
                    ReasonCode::AppPasswordNotAccepted
                };
                assert_eq!(decision.reason_code(), expected, "{context}");
                let entry = find(&document["warnings"], "protocol", protocol.name());
                assert_eq!(entry["policy"], in_force.name(), "{context}");
            }
        }
    }
}
