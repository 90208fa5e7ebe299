//! `mail2fa platform …`: 2FA on and off for a platform, its protocol
//! policies.

use std::io::Write;

use crate::cli::{PlatformCommand, PolicyArgs};
use crate::context::Context;
use crate::failure::Failure;
use crate::output::{Json, clean, print_json};
use crate::render::{policies_json, policies_table, policy_name, policy_rows};
use crate::warnings::warnings_json;

impl Context {
    pub(crate) fn platform(&self, command: PlatformCommand) -> Result<(), Failure> {
        match command {
            PlatformCommand::Enable(args) => {
                self.engine.enable_platform(&args.platform, true)?;
                self.report(
                    &format!("2FA is on for {}.", clean(&args.platform, 256)),
                    || {
                        Json::Object(vec![
                            ("platform", Json::text(&args.platform)),
                            ("enabled", Json::Bool(true)),
                        ])
                    },
                )
            }
            PlatformCommand::Disable(args) => {
                self.confirm(&format!(
                    "Turn 2FA off for {}? Its accounts then log in without a second factor.",
                    clean(&args.platform, 256)
                ))?;
                self.engine.enable_platform(&args.platform, false)?;
                self.report(
                    &format!("2FA is off for {}.", clean(&args.platform, 256)),
                    || {
                        Json::Object(vec![
                            ("platform", Json::text(&args.platform)),
                            ("enabled", Json::Bool(false)),
                        ])
                    },
                )
            }
            PlatformCommand::Show(args) => {
                let status = self.engine.platform_status(&args.platform)?;
                let policies = policy_rows(None, &status);
                if self.json {
                    return Ok(print_json(&Json::Object(vec![
                        ("platform", Json::text(&args.platform)),
                        ("enabled", Json::Bool(status.enabled)),
                        ("configured", Json::Bool(status.configured)),
                        ("policies", policies_json(&policies)),
                    ]))?);
                }
                let on = match (status.enabled, status.configured) {
                    (true, _) => self.style.good("on"),
                    (false, true) => self.style.warn("off"),
                    (false, false) => self.style.warn("off (never configured)"),
                };
                let mut out = format!("Platform {}: 2FA {on}\n\n", clean(&args.platform, 256));
                out.push_str(&policies_table(&policies, self.style));
                Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
            }
            PlatformCommand::Policy { platform, policy } => {
                let PolicyArgs { protocol, policy } = policy;
                self.engine
                    .set_platform_policy(&platform.platform, &protocol, policy.policy())?;
                let effective = self
                    .engine
                    .platform_status(&platform.platform)?
                    .policy(&protocol);
                let warnings =
                    self.platform_policy_warnings(&platform.platform, &protocol, effective);
                self.report(
                    &format!(
                        "{} on {}: {}{}.",
                        protocol.name(),
                        clean(&platform.platform, 256),
                        policy_name(effective),
                        if policy.policy().is_none() {
                            " (the default)"
                        } else {
                            ""
                        }
                    ),
                    || {
                        Json::Object(vec![
                            ("platform", Json::text(&platform.platform)),
                            ("protocol", Json::text(protocol.name())),
                            ("policy", Json::text(policy_name(effective))),
                            warnings_json(&warnings),
                        ])
                    },
                )?;
                self.warn(&warnings);
                Ok(())
            }
        }
    }
}
