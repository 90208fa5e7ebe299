//! `mail2fa`: the operator's tool. What a 2FA portal does — platforms,
//! enrollment, suspension, resets, device tokens, application passwords,
//! maintenance — from the command line, on the same database the mail
//! servers use, through the library's public API.

mod cli;
mod commands;
mod configuration;
mod context;
mod database;
mod failure;
mod generate;
mod output;
mod render;
mod warnings;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, PlatformCommand};
use context::Context;
use failure::Failure;

/// Opens the database and runs the command (the methods of [`Context`] in
/// `commands/`).
fn run(cli: Cli) -> Result<(), Failure> {
    // Only turning a platform on may start a new database: a mistyped
    // --db elsewhere must not create an empty one and report "no 2FA".
    let create = matches!(cli.command, Command::Platform(PlatformCommand::Enable(_)));
    let open = || Context::open(&cli.global, create);
    match cli.command {
        Command::Platform(command) => open()?.platform(command),
        Command::Account(command) => open()?.account(command),
        Command::Device(command) => open()?.device(command),
        Command::AppPassword(command) => open()?.app_password(command),
        Command::Db(command) => open()?.db(command),
        // The check reads the file alone, and opens its store its own way.
        Command::Config(command) => commands::config::run(&cli.global, command),
        Command::Login(args) => open()?.login(&args),
        // Neither needs a configuration or a database.
        Command::Completions { shell } => generate::completions(shell),
        Command::GenerateMan { dir } => generate::manpages(&dir),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // An empty message: the output already said why (a refused
            // `login`).
            if !failure.message.is_empty() {
                eprintln!("mail2fa: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}
