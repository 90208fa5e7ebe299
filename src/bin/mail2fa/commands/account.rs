//! `mail2fa account …`: an account's 2FA — suspension, reset, removal,
//! unlocking, mode, contact, recovery codes, protocol policies — and
//! `account show`.

use std::io::Write;

use mail2fa::Error;
use mail2fa::engine::{Enrollment, format_utc};
use zeroize::Zeroizing;

use crate::cli::{AccountArgs, AccountCommand, PolicyArgs};
use crate::context::Context;
use crate::failure::{Failure, REFUSED, USAGE, about, fail};
use crate::output::{Json, Style, Table, clean, print_json};
use crate::render::{
    account_json, mode_name, mode_text, name_of, policies_json, policies_table, policy_name,
    policy_rows,
};
use crate::warnings::warnings_json;

impl Context {
    pub(crate) fn account(&self, command: AccountCommand) -> Result<(), Failure> {
        match command {
            AccountCommand::Enable { account, qr } => {
                let id = Self::id(&account)?;
                self.new_secret(
                    &id,
                    &qr,
                    || {
                        self.engine
                            .enable_account(&id, self.now)
                            .map_err(|e| match e {
                                Error::AlreadyEnabled => fail(
                                    REFUSED,
                                    format!(
                                        "{}: 2FA is already enabled (`mail2fa account reset` \
                                     issues a new secret).",
                                        name_of(&id)
                                    ),
                                ),
                                other => about(&id)(other),
                            })
                    },
                    |until| format!("2FA enabled for {}, pending until {until}.", name_of(&id)),
                )
            }
            AccountCommand::Confirm { account, code } => self.confirm_enrollment(&account, &code),
            AccountCommand::Show(account) => self.show_account(&account),
            AccountCommand::Suspend { account, hours } => {
                let id = Self::id(&account)?;
                let until = self
                    .engine
                    .suspend(&id, hours.saturating_mul(3600), self.now)
                    .map_err(about(&id))?;
                let text = if hours == 0 {
                    format!("2FA of {} is active again (no suspension).", name_of(&id))
                } else {
                    format!(
                        "2FA of {} suspended until {}; it re-arms by itself.",
                        name_of(&id),
                        format_utc(until)
                    )
                };
                let until = (hours > 0).then_some(until);
                self.report(&text, || {
                    account_json(&id, vec![("suspended_until", Json::opt_number(until))])
                })
            }
            AccountCommand::Reset { account, qr } => {
                let id = Self::id(&account)?;
                // Before asking: an account without 2FA has nothing to reset.
                self.engine
                    .account_status(&id, self.now)
                    .map_err(about(&id))?;
                self.confirm(&format!(
                    "Reset 2FA of {}? The authenticator app stops working at once.",
                    name_of(&id)
                ))?;
                self.new_secret(
                    &id,
                    &qr,
                    || self.engine.reset(&id, self.now).map_err(about(&id)),
                    |until| {
                        format!(
                            "2FA of {} reset: a new secret, pending until {until}.",
                            name_of(&id)
                        )
                    },
                )
            }
            AccountCommand::Remove(account) => {
                let id = Self::id(&account)?;
                self.engine
                    .account_status(&id, self.now)
                    .map_err(about(&id))?;
                self.confirm(&format!(
                    "Remove 2FA from {}? Its secret is destroyed and its device tokens and \
                     application passwords are revoked.",
                    name_of(&id)
                ))?;
                self.engine.remove(&id).map_err(about(&id))?;
                self.report(&format!("2FA removed from {}.", name_of(&id)), || {
                    account_json(&id, vec![("removed", Json::Bool(true))])
                })
            }
            AccountCommand::Unlock(account) => {
                let id = Self::id(&account)?;
                self.engine.unlock(&id).map_err(about(&id))?;
                self.report(&format!("{} unlocked.", name_of(&id)), || {
                    account_json(&id, vec![("unlocked", Json::Bool(true))])
                })
            }
            AccountCommand::Mode { account, mode } => {
                let id = Self::id(&account)?;
                self.engine.set_mode(&id, mode.mode()).map_err(about(&id))?;
                self.report(
                    &format!(
                        "{} now proves the second factor by {}.",
                        name_of(&id),
                        mode_text(mode.mode())
                    ),
                    || account_json(&id, vec![("mode", Json::text(mode_name(mode.mode())))]),
                )
            }
            AccountCommand::Contact {
                account,
                email,
                no_email,
                phone,
                no_phone,
            } => {
                let id = Self::id(&account)?;
                if email.is_none() && phone.is_none() && !no_email && !no_phone {
                    return Err(fail(
                        USAGE,
                        "nothing to change: give --email, --phone, --no-email or --no-phone.",
                    ));
                }
                let status = self
                    .engine
                    .account_status(&id, self.now)
                    .map_err(about(&id))?;
                let email = if no_email {
                    None
                } else {
                    email.or(status.email)
                };
                let phone = if no_phone {
                    None
                } else {
                    phone.or(status.phone)
                };
                self.engine
                    .set_contact(&id, email.as_deref(), phone.as_deref())
                    .map_err(about(&id))?;
                self.report(
                    &format!(
                        "Codes for {} go to e-mail {} and mobile {}.",
                        name_of(&id),
                        clean(email.as_deref().unwrap_or("-"), 256),
                        clean(phone.as_deref().unwrap_or("-"), 256)
                    ),
                    || {
                        account_json(
                            &id,
                            vec![
                                ("email", Json::opt_text(email.as_deref())),
                                ("phone", Json::opt_text(phone.as_deref())),
                            ],
                        )
                    },
                )
            }
            AccountCommand::RecoveryCodes { account, count } => {
                let id = Self::id(&account)?;
                let status = self
                    .engine
                    .account_status(&id, self.now)
                    .map_err(about(&id))?;
                if status.recovery_codes > 0 {
                    self.confirm(&format!(
                        "Replace the {} unused recovery codes of {}? They stop working.",
                        status.recovery_codes,
                        name_of(&id)
                    ))?;
                }
                let count = usize::try_from(count).unwrap_or(usize::MAX);
                let codes = self
                    .engine
                    .generate_recovery_codes(&id, count)
                    .map_err(about(&id))?;
                if self.json {
                    let list = codes.iter().map(|c| Json::text(c)).collect();
                    return Ok(print_json(&account_json(
                        &id,
                        vec![("recovery_codes", Json::List(list))],
                    ))?);
                }
                let mut out = Zeroizing::new(format!(
                    "New recovery codes for {} (shown once; each works once):\n\n",
                    name_of(&id)
                ));
                for code in &codes {
                    out.push_str("    ");
                    out.push_str(code);
                    out.push('\n');
                }
                Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
            }
            AccountCommand::Policy { account, policy } => {
                let id = Self::id(&account)?;
                let PolicyArgs { protocol, policy } = policy;
                self.engine
                    .set_account_policy(&id, &protocol, policy.policy())
                    .map_err(about(&id))?;
                let effective = self
                    .engine
                    .protocol_policy(&id, &protocol)
                    .map_err(about(&id))?;
                let warnings = self.account_policy_warnings(&id, &protocol, effective)?;
                self.report(
                    &format!(
                        "{} for {}: {}{}.",
                        protocol.name(),
                        name_of(&id),
                        policy_name(effective),
                        if policy.policy().is_none() {
                            " (from the platform)"
                        } else {
                            ""
                        }
                    ),
                    || {
                        account_json(
                            &id,
                            vec![
                                ("protocol", Json::text(protocol.name())),
                                ("policy", Json::text(policy_name(effective))),
                                warnings_json(&warnings),
                            ],
                        )
                    },
                )?;
                self.warn(&warnings);
                Ok(())
            }
        }
    }

    fn show_account(&self, account: &AccountArgs) -> Result<(), Failure> {
        let id = Self::id(account)?;
        let status = self
            .engine
            .account_status(&id, self.now)
            .map_err(about(&id))?;
        let platform = self.engine.platform_status(id.platform())?;
        let policies = policy_rows(Some(&status), &platform);
        let enrollment = match status.enrollment {
            Enrollment::Confirmed => "confirmed",
            Enrollment::Pending { expires_at } if self.now >= expires_at => "expired",
            Enrollment::Pending { .. } => "pending",
        };
        if self.json {
            return Ok(print_json(&account_json(
                &id,
                vec![
                    ("platform_enabled", Json::Bool(platform.enabled)),
                    ("mode", Json::text(mode_name(status.mode))),
                    ("enrollment", Json::text(enrollment)),
                    (
                        "enrollment_expires_at",
                        Json::opt_number(match status.enrollment {
                            Enrollment::Pending { expires_at } => Some(expires_at),
                            Enrollment::Confirmed => None,
                        }),
                    ),
                    ("suspended_until", Json::opt_number(status.suspended_until)),
                    ("locked_until", Json::opt_number(status.locked_until)),
                    ("failures", Json::Number(u64::from(status.failures))),
                    ("last_used", Json::opt_number(status.last_used)),
                    ("recovery_codes", Json::Number(status.recovery_codes as u64)),
                    ("email", Json::opt_text(status.email.as_deref())),
                    ("phone", Json::opt_text(status.phone.as_deref())),
                    ("code_expires_at", Json::opt_number(status.code_expires_at)),
                    ("policies", policies_json(&policies)),
                ],
            ))?);
        }
        let style = self.style;
        let enrolled = match status.enrollment {
            Enrollment::Confirmed => style.good("confirmed"),
            Enrollment::Pending { expires_at } if self.now >= expires_at => {
                style.bad(&format!("expired at {}", format_utc(expires_at)))
            }
            Enrollment::Pending { expires_at } => {
                style.warn(&format!("pending until {}", format_utc(expires_at)))
            }
        };
        let mut table = Table::new(&["", ""]);
        let mut line = |label: &str, value: String| table.row(vec![label.to_owned(), value]);
        line(
            "Platform 2FA",
            if platform.enabled {
                style.good("on")
            } else {
                style.warn("off")
            },
        );
        line("Mode", mode_text(status.mode).to_owned());
        line("Enrollment", enrolled);
        line(
            "Suspended",
            status.suspended_until.map_or_else(
                || "no".to_owned(),
                |t| style.warn(&format!("until {}", format_utc(t))),
            ),
        );
        line(
            "Locked",
            status.locked_until.map_or_else(
                || "no".to_owned(),
                |t| style.bad(&format!("until {}", format_utc(t))),
            ),
        );
        line("Wrong codes", status.failures.to_string());
        line(
            "Last used",
            status
                .last_used
                .map_or_else(|| "never".to_owned(), format_utc),
        );
        line(
            "Recovery codes",
            format!("{} unused", status.recovery_codes),
        );
        line("E-mail", clean(status.email.as_deref().unwrap_or("-"), 256));
        line("Mobile", clean(status.phone.as_deref().unwrap_or("-"), 256));
        if let Some(at) = status.code_expires_at {
            line("Code sent", format!("live until {}", format_utc(at)));
        }
        let mut out = format!("{}\n", style.bold(&name_of(&id)));
        // The label column without its (empty) header row.
        let body = table.render(Style::new(crate::output::ColorChoice::Never), |_, c| {
            c.to_owned()
        });
        for row in body.lines().skip(1) {
            out.push_str("  ");
            out.push_str(row);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&policies_table(&policies, style));
        Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
    }
}
