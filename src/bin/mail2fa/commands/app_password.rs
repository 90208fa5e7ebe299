//! `mail2fa app-password …`: application passwords created, listed,
//! revoked.

use std::io::Write;

use mail2fa::engine::format_utc;
use zeroize::Zeroizing;

use crate::cli::AppPasswordCommand;
use crate::context::Context;
use crate::failure::{Failure, NOT_FOUND, REFUSED, about, fail};
use crate::output::{Json, Table, clean, print_json, when};
use crate::render::{account_json, name_of, scope_json, scope_text};
use crate::warnings::warnings_json;

impl Context {
    pub(crate) fn app_password(&self, command: AppPasswordCommand) -> Result<(), Failure> {
        match command {
            AppPasswordCommand::Create {
                account,
                name,
                protocols,
            } => {
                let id = Self::id(&account)?;
                let taken = self
                    .engine
                    .app_passwords(&id)
                    .map_err(about(&id))?
                    .iter()
                    .any(|a| a.name == name);
                if taken {
                    return Err(fail(
                        REFUSED,
                        format!(
                            "{}: an application password named {:?} exists; revoke it or choose \
                             another name.",
                            name_of(&id),
                            clean(&name, 64)
                        ),
                    ));
                }
                // Before the password exists: a failure here loses nothing.
                let warnings = self.app_password_warnings(&id, &name, &protocols)?;
                let (info, password) = self
                    .engine
                    .create_app_password(&id, &name, &protocols, self.now)
                    .map_err(about(&id))?;
                if self.json {
                    return Ok(print_json(&account_json(
                        &id,
                        vec![
                            ("id", Json::Number(u64::from(info.id))),
                            ("name", Json::text(&info.name)),
                            ("password", Json::text(&password)),
                            ("scope", scope_json(&info.scope)),
                            ("created", Json::Number(info.created)),
                            warnings_json(&warnings),
                        ],
                    ))?);
                }
                let out = Zeroizing::new(format!(
                    "Application password {} (id {}) for {}, shown once:\n\n    {}\n\n\
                     Use it in place of the account password, on {}.\n",
                    clean(&info.name, 64),
                    info.id,
                    name_of(&id),
                    password.as_str(),
                    scope_text(&info.scope)
                ));
                std::io::stdout().lock().write_all(out.as_bytes())?;
                self.warn(&warnings);
                Ok(())
            }
            AppPasswordCommand::List(account) => {
                let id = Self::id(&account)?;
                let apps = self.engine.app_passwords(&id).map_err(about(&id))?;
                if self.json {
                    let list = apps
                        .iter()
                        .map(|a| {
                            Json::Object(vec![
                                ("id", Json::Number(u64::from(a.id))),
                                ("name", Json::text(&a.name)),
                                ("scope", scope_json(&a.scope)),
                                ("created", Json::Number(a.created)),
                                ("last_used", Json::opt_number(a.last_used)),
                            ])
                        })
                        .collect();
                    return Ok(print_json(&account_json(
                        &id,
                        vec![("app_passwords", Json::List(list))],
                    ))?);
                }
                if apps.is_empty() {
                    return self.report(
                        &format!("{} has no application passwords.", name_of(&id)),
                        || Json::Null,
                    );
                }
                let mut table = Table::new(&["ID", "NAME", "SCOPE", "CREATED", "LAST USED"]);
                for a in &apps {
                    table.row(vec![
                        a.id.to_string(),
                        clean(&a.name, 32),
                        scope_text(&a.scope),
                        format_utc(a.created),
                        when(a.last_used),
                    ]);
                }
                let out = table.render(self.style, |_, cell| cell.to_owned());
                Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
            }
            AppPasswordCommand::Revoke { account, id: app } => {
                let id = Self::id(&account)?;
                let apps = self.engine.app_passwords(&id).map_err(about(&id))?;
                let Some(info) = apps.iter().find(|a| a.id == app) else {
                    return Err(fail(
                        NOT_FOUND,
                        format!("{}: no application password {app}.", name_of(&id)),
                    ));
                };
                self.confirm(&format!(
                    "Revoke application password {} ({}) of {}? Clients using it are refused at once.",
                    app,
                    clean(&info.name, 64),
                    name_of(&id)
                ))?;
                self.engine
                    .revoke_app_password(&id, app)
                    .map_err(about(&id))?;
                self.report(
                    &format!("Application password {app} of {} revoked.", name_of(&id)),
                    || {
                        account_json(
                            &id,
                            vec![
                                ("id", Json::Number(u64::from(app))),
                                ("revoked", Json::Bool(true)),
                            ],
                        )
                    },
                )
            }
        }
    }
}
