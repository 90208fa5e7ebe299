//! What every command works with: the engine on the open database, the
//! clock, the output choices, and the plumbing they share (asking before
//! destructive actions, printing a sentence or a JSON document, reading an
//! account's name).

use std::io::{BufRead, IsTerminal, Write};

use mail2fa::engine::{AccountId, Engine};

use crate::cli::{AccountArgs, Global};
use crate::configuration;
use crate::database::{self, Database};
use crate::failure::{Failure, REFUSED, USAGE, describe, fail};
use crate::output::{Json, Style, clean, print_json};

/// Everything a command needs.
pub(crate) struct Context {
    pub(crate) engine: Engine<Database>,
    pub(crate) now: u64,
    pub(crate) json: bool,
    pub(crate) yes: bool,
    pub(crate) style: Style,
    /// Encryption keys were given (the configuration's key file or
    /// `--key-file`).
    pub(crate) sealing: bool,
}

impl Context {
    pub(crate) fn open(global: &Global, create: bool) -> Result<Self, Failure> {
        let settings = configuration::resolve(global)?;
        let store = database::open(&settings.location, create, &settings.tuning)?;
        let sealing = settings.engine.encryption.is_some();
        let engine = Engine::new(store, settings.engine)?;
        let now = match global.now {
            Some(now) => now,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| fail(REFUSED, "the system clock is before 1970."))?
                .as_secs(),
        };
        Ok(Self {
            engine,
            now,
            json: global.json,
            yes: global.yes,
            style: Style::new(global.color),
            sealing,
        })
    }

    /// Asks before a destructive action, unless `--yes`; without a terminal
    /// to ask on, refuses.
    pub(crate) fn confirm(&self, question: &str) -> Result<(), Failure> {
        if self.yes {
            return Ok(());
        }
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(fail(
                REFUSED,
                format!("{question} Not confirmed: nothing was changed (add --yes to confirm)."),
            ));
        }
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Ok(())
        } else {
            Err(fail(REFUSED, "cancelled: nothing was changed."))
        }
    }

    /// Prints a sentence (text mode) or a JSON document.
    pub(crate) fn report(&self, text: &str, json: impl FnOnce() -> Json) -> Result<(), Failure> {
        if self.json {
            print_json(&json())?;
        } else {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}")?;
        }
        Ok(())
    }

    pub(crate) fn id(args: &AccountArgs) -> Result<AccountId, Failure> {
        AccountId::new(&args.platform, &args.account).map_err(|error| {
            fail(
                USAGE,
                format!(
                    "{:?} on {:?} is refused: {}.",
                    clean(&args.account, 256),
                    clean(&args.platform, 256),
                    describe(&error)
                ),
            )
        })
    }
}
