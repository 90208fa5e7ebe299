//! `mail2fa db …`: maintenance — purge, the database check, sealing
//! records with the current key, copying to another database.

use std::io::Write;

use mail2fa::Error;

use crate::cli::DbCommand;
use crate::context::Context;
use crate::database::{self, Location, Tuning};
use crate::failure::{DATABASE, Failure, KEY, fail};
use crate::output::{Json, print_json};
use crate::render::count;

impl Context {
    pub(crate) fn db(&self, command: DbCommand) -> Result<(), Failure> {
        match command {
            DbCommand::Purge => {
                let (mut examined, mut changed) = (0usize, 0usize);
                loop {
                    let batch = self.engine.maintain(self.now, 1000)?;
                    examined += batch.examined;
                    changed += batch.changed;
                    if batch.finished {
                        break;
                    }
                }
                self.report(
                    &format!("Purged: {examined} records examined, {changed} tidied or removed."),
                    || {
                        Json::Object(vec![
                            ("examined", Json::Number(examined as u64)),
                            ("changed", Json::Number(changed as u64)),
                        ])
                    },
                )
            }
            DbCommand::Check => self.check(),
            DbCommand::Seal => {
                if !self.sealing {
                    return Err(fail(
                        KEY,
                        "`db seal` needs the encryption keys: give --key-file (or MAIL2FA_KEY_FILE).",
                    ));
                }
                let sealed = self.engine.seal_records()?;
                self.report(
                    &format!(
                        "Sealed {} with the current key.",
                        count(
                            usize::try_from(sealed).unwrap_or(usize::MAX),
                            "account or devices record"
                        )
                    ),
                    || Json::Object(vec![("sealed", Json::Number(sealed))]),
                )
            }
            DbCommand::Copy { to } => {
                let target = database::open(&Location::new(&to), true, &Tuning::default())?;
                let copied = database::copy(self.engine.store(), &target)?;
                self.report(
                    &format!(
                        "Copied {} from {} to {}; read back and compared.",
                        count(
                            usize::try_from(copied.records).unwrap_or(usize::MAX),
                            "record"
                        ),
                        self.engine.store().describe(),
                        target.describe()
                    ),
                    || {
                        Json::Object(vec![
                            ("copied", Json::Number(copied.records)),
                            ("from", Json::text(&self.engine.store().describe())),
                            ("to", Json::text(&target.describe())),
                        ])
                    },
                )
            }
        }
    }

    fn check(&self) -> Result<(), Failure> {
        let checked = self.engine.store().check_store()?;
        let records = self.engine.check_records()?;
        let sound = checked.sound && records.unreadable == 0;
        if self.json {
            let problems = records
                .problems
                .iter()
                .map(|(what, error)| {
                    Json::Object(vec![
                        ("record", Json::text(what)),
                        ("error", Json::text(&error.to_string())),
                    ])
                })
                .collect();
            print_json(&Json::Object(vec![
                ("path", Json::opt_text(checked.path.as_deref())),
                ("postgres", Json::opt_text(checked.target.as_deref())),
                (
                    "schema_version",
                    Json::Number(u64::try_from(checked.schema_version).unwrap_or(0)),
                ),
                ("size_bytes", Json::Number(checked.size_bytes)),
                ("records", Json::Number(checked.records)),
                (
                    "integrity",
                    match &checked.integrity {
                        Some(lines) => Json::List(lines.iter().map(|s| Json::text(s)).collect()),
                        None => Json::Null,
                    },
                ),
                (
                    "server_version",
                    Json::opt_text(checked.server_version.as_deref()),
                ),
                (
                    "synchronous_standby",
                    checked.synchronous_standby.map_or(Json::Null, Json::Bool),
                ),
                ("platforms", Json::Number(records.platforms as u64)),
                ("accounts", Json::Number(records.accounts as u64)),
                (
                    "encrypted_accounts",
                    Json::Number(records.sealed_accounts as u64),
                ),
                ("client_records", Json::Number(records.clients as u64)),
                ("unreadable", Json::Number(records.unreadable as u64)),
                ("problems", Json::List(problems)),
                ("ok", Json::Bool(sound)),
            ]))?;
        } else {
            let style = self.style;
            let mut out = format!(
                "Database     {} (schema {}, {}, {} bytes)\n",
                self.engine.store().describe(),
                checked.schema_version,
                count(
                    usize::try_from(checked.records).unwrap_or(usize::MAX),
                    "record"
                ),
                checked.size_bytes
            );
            out.push_str(&checked.storage_text(style));
            out.push_str(&format!(
                "Readable     {}, {} ({} encrypted), {}\n",
                count(records.platforms, "platform"),
                count(records.accounts, "account"),
                records.sealed_accounts,
                count(records.clients, "device/app-password record")
            ));
            if records.unreadable == 0 {
                out.push_str(&format!("Unreadable   {}\n", style.good("none")));
            } else {
                out.push_str(&format!(
                    "Unreadable   {}\n",
                    style.bad(&records.unreadable.to_string())
                ));
                for (what, error) in &records.problems {
                    out.push_str(&format!("  {what}: {error}\n"));
                }
            }
            std::io::stdout().lock().write_all(out.as_bytes())?;
        }
        if sound {
            return Ok(());
        }
        let keys_only = checked.sound
            && records
                .problems
                .iter()
                .all(|(_, e)| matches!(e, Error::Encryption(_)));
        Err(if keys_only {
            fail(
                KEY,
                format!(
                    "{} cannot be opened with the configured keys.",
                    count(records.unreadable, "record")
                ),
            )
        } else {
            fail(DATABASE, "the database is damaged (see above).")
        })
    }
}
