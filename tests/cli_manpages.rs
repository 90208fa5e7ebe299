//! What the `mail2fa` tool generates about itself for packagers: the shell
//! completion scripts (`mail2fa completions SHELL`) and the manual pages
//! (`mail2fa generate-man DIR`), which the Debian packages ship.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::cli::*;

/// Commands every generated text must name: the top-level commands and a
/// few nested ones.
const COMMANDS: [&str; 7] = [
    "platform",
    "account",
    "device",
    "app-password",
    "db",
    "config",
    "login",
];

#[test]
fn completion_scripts_name_the_commands() {
    let sandbox = Sandbox::new("completions");
    for (shell, marker) in [
        ("bash", "complete -F _mail2fa"),
        ("zsh", "#compdef mail2fa"),
        ("fish", "complete -c mail2fa"),
    ] {
        let run = sandbox.run(&["completions", shell]).expect(OK);
        assert!(run.stdout.contains(marker), "{shell}: no {marker:?}");
        for command in COMMANDS
            .iter()
            .chain(&["enable", "purge", "recovery-codes"])
        {
            assert!(run.stdout.contains(command), "{shell}: no {command:?}");
        }
        assert!(run.stderr.is_empty(), "{shell}: {}", run.stderr);
    }
    let run = sandbox.run(&["completions", "tcsh"]).expect(USAGE);
    assert!(
        run.stderr.contains("invalid value 'tcsh'"),
        "{}",
        run.stderr
    );
}

#[test]
fn manual_pages_one_per_command() {
    let sandbox = Sandbox::new("manpages");
    let dir = sandbox.path("man");
    std::fs::create_dir(&dir).unwrap();
    let run = sandbox
        .run(&["generate-man", dir.to_str().unwrap()])
        .expect(OK);
    let listed: Vec<&str> = run.stdout.lines().collect();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(listed.len(), files.len(), "{}", run.stdout);
    for file in &files {
        assert!(
            listed
                .iter()
                .any(|line| line.ends_with(&format!("/{file}"))),
            "{file} not listed"
        );
    }
    let main = std::fs::read_to_string(dir.join("mail2fa.1")).unwrap();
    assert!(
        main.starts_with(".ie \\n(.g .ds Aq"),
        "not roff: {main:.80}"
    );
    assert!(main.contains(".TH mail2fa 1"), "{main:.200}");
    for command in COMMANDS {
        // roff escapes each '-'.
        let link = format!("mail2fa-{command}(1)").replace('-', "\\-");
        assert!(main.contains(&link), "mail2fa.1 does not name {link}");
        let page = format!("mail2fa-{command}.1");
        assert!(files.contains(&page), "no {page} in {files:?}");
    }
    for file in &files {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.contains(".SH NAME"), "{file} has no NAME section");
        assert!(
            text.contains(".SH SYNOPSIS\n\\fBmail2fa"),
            "{file} has no synopsis"
        );
    }
    // Each page's synopsis names its command as users type it.
    for (page, typed) in [
        ("mail2fa-account-enable.1", "mail2fa account enable"),
        (
            "mail2fa-account-recovery-codes.1",
            "mail2fa account recovery-codes",
        ),
        (
            "mail2fa-app-password-create.1",
            "mail2fa app-password create",
        ),
        ("mail2fa-db-purge.1", "mail2fa db purge"),
        ("mail2fa-completions.1", "mail2fa completions"),
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        let typed = typed.replace('-', "\\-");
        assert!(
            text.contains(&format!(".SH SYNOPSIS\n\\fB{typed}\\fR")),
            "{page}: no synopsis for {typed:?}"
        );
    }
    // Neither the hidden command nor clap's `help` gets a page.
    assert!(
        !files
            .iter()
            .any(|f| f.contains("generate-man") || f.ends_with("-help.1")),
        "{files:?}"
    );

    let run = sandbox
        .run(&["generate-man", sandbox.path("missing").to_str().unwrap()])
        .expect(REFUSED);
    assert!(
        run.error_line().starts_with("mail2fa: cannot write "),
        "{}",
        run.stderr
    );
}
