//! What the tool says about itself for packagers: shell completion scripts
//! (`mail2fa completions SHELL`) and manual pages (`mail2fa generate-man
//! DIR`), both generated from the clap definitions of `cli.rs`, so they
//! never fall behind the commands.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell};
use crate::failure::{Failure, REFUSED, fail};

/// Prints the completion script for `shell` on standard output.
pub(crate) fn completions(shell: CompletionShell) -> Result<(), Failure> {
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    // Into memory first: clap_complete panics on a failed write (a closed
    // pipe), where the tool's own error is wanted.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mail2fa", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}

/// Writes `mail2fa.1` and one page per command (`mail2fa-account.1`,
/// `mail2fa-account-enable.1`, ...) into `dir`, and lists them on standard
/// output. Hidden commands (this one) get no page.
pub(crate) fn manpages(dir: &Path) -> Result<(), Failure> {
    // clap's `help` subcommand gets no page: `--help` is on each. Built,
    // every subcommand knows its page name (`mail2fa-account`) and its
    // synopsis as users type it (`mail2fa account enable`).
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut written = Vec::new();
    write_pages(command, dir, &mut written)?;
    let mut out = io::stdout().lock();
    for path in written {
        writeln!(out, "{}", path.display())?;
    }
    Ok(())
}

/// The page of `command`, then one per visible subcommand below it.
fn write_pages(
    command: clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<(), Failure> {
    let page = clap_mangen::Man::new(command.clone());
    let path = page.generate_to(dir).map_err(|error| {
        let file = dir.join(page.get_filename());
        fail(
            REFUSED,
            format!("cannot write {}: {error}.", file.display()),
        )
    })?;
    written.push(path);
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    Ok(())
}
