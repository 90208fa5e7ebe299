//! Application passwords a protocol policy refuses (issue 19): the tool
//! still does what it was told — the operator may change the policy next —
//! but says on which protocols they will be refused, under which policy,
//! and the command that changes it. Whether a protocol takes them is the
//! engine's own rule, [`ProtocolPolicy::accepts_app_passwords_on`], applied
//! to the policy the engine finds ([`Engine::protocol_policy`]), so the tool
//! and a login cannot disagree.
//!
//! In text mode each warning goes to standard error, after
//! `mail2fa: warning: `; with `--json` it is an entry of the document's
//! `warnings` list instead, and nothing goes to standard error.
//!
//! [`Engine::protocol_policy`]: mail2fa::engine::Engine::protocol_policy

use std::io::Write;

use mail2fa::engine::{AccountId, Protocol, ProtocolPolicy};

use crate::context::Context;
use crate::failure::{Failure, about};
use crate::output::{Json, clean};
use crate::render::{name_of, policy_name, policy_rows, shell_word};

/// One protocol on which application passwords will be refused.
pub(crate) struct Warning {
    protocol: Protocol,
    policy: ProtocolPolicy,
    /// `account`, `platform` or `default`, as `account show` says it.
    set_by: &'static str,
    message: String,
    /// The command that makes the protocol take them, where one can.
    fix: Option<String>,
}

impl Warning {
    fn json(&self) -> Json {
        Json::Object(vec![
            ("protocol", Json::text(self.protocol.name())),
            ("policy", Json::text(policy_name(self.policy))),
            ("set_by", Json::text(self.set_by)),
            ("message", Json::text(&self.message)),
            ("fix", Json::opt_text(self.fix.as_deref())),
        ])
    }
}

/// The `warnings` field of a JSON document.
pub(crate) fn warnings_json(warnings: &[Warning]) -> (&'static str, Json) {
    (
        "warnings",
        Json::List(warnings.iter().map(Warning::json).collect()),
    )
}

/// Whether some policy lets application passwords in on `protocol` (never
/// on webmail or the portal).
fn could_take(protocol: &Protocol) -> bool {
    ProtocolPolicy::AppPasswordOnly.accepts_app_passwords_on(protocol)
}

/// The policy to suggest: the protocol's default where it takes
/// application passwords (IMAP: app-password-only; Outlook:
/// device-authorization), else app-password-only.
fn accepting_policy(protocol: &Protocol) -> ProtocolPolicy {
    let default = protocol.default_policy();
    if default.accepts_app_passwords_on(protocol) {
        default
    } else {
        ProtocolPolicy::AppPasswordOnly
    }
}

fn set_by_text(set_by: &str) -> &'static str {
    match set_by {
        "account" => "set for this account",
        "platform" => "set for the platform",
        _ => "the default",
    }
}

impl Context {
    /// The protocols an application password of `id` limited to `scope`
    /// (empty: any) will be refused on. For a limited one, each protocol of
    /// its scope that refuses it, whatever the reason. For one without a
    /// limit, each protocol that could take application passwords but whose
    /// policy is code-in-login: one turned off altogether (`refused`) is no
    /// surprise, and webmail and the portal never take them.
    pub(crate) fn app_password_warnings(
        &self,
        id: &AccountId,
        name: &str,
        scope: &[Protocol],
    ) -> Result<Vec<Warning>, Failure> {
        let account = self
            .engine
            .account_status(id, self.now)
            .map_err(about(id))?;
        let platform = self.engine.platform_status(id.platform())?;
        let rows = policy_rows(Some(&account), &platform);
        let protocols: Vec<Protocol> = if scope.is_empty() {
            rows.iter()
                .map(|(protocol, _, _)| protocol.clone())
                .filter(could_take)
                .collect()
        } else {
            let mut unique: Vec<Protocol> = Vec::with_capacity(scope.len());
            for protocol in scope {
                if !unique.contains(protocol) {
                    unique.push(protocol.clone());
                }
            }
            unique
        };
        let mut warnings = Vec::new();
        for protocol in protocols {
            let policy = self
                .engine
                .protocol_policy(id, &protocol)
                .map_err(about(id))?;
            if policy.accepts_app_passwords_on(&protocol)
                || (scope.is_empty() && policy == ProtocolPolicy::Refused)
            {
                continue;
            }
            let set_by = rows
                .iter()
                .find(|(p, _, _)| *p == protocol)
                .map_or("default", |&(_, _, set_by)| set_by);
            let name = clean(name, 64);
            let (message, fix) = if could_take(&protocol) {
                let fix = match set_by {
                    "account" => format!(
                        "mail2fa account policy {} {} {} {}",
                        shell_word(id.platform()),
                        shell_word(id.account()),
                        protocol.name(),
                        accepting_policy(&protocol).name()
                    ),
                    _ => format!(
                        "mail2fa platform policy {} {} {}",
                        shell_word(id.platform()),
                        protocol.name(),
                        accepting_policy(&protocol).name()
                    ),
                };
                let message = format!(
                    "application password {name:?} of {} will be refused on {}: the policy \
                     there is {} ({}), which takes no application password.",
                    name_of(id),
                    protocol.name(),
                    policy_name(policy),
                    set_by_text(set_by)
                );
                (message, Some(fix))
            } else {
                let message = format!(
                    "application password {name:?} of {} will be refused on {}: an application \
                     password never opens webmail or the portal (whatever the policy); limit it \
                     to the protocols its client uses (--protocol).",
                    name_of(id),
                    protocol.name(),
                );
                (message, None)
            };
            warnings.push(Warning {
                protocol,
                policy,
                set_by,
                message,
                fix,
            });
        }
        Ok(warnings)
    }

    /// After an account's policy for `protocol` changed: its application
    /// passwords that may be used there and no longer will (under
    /// code-in-login; `refused` turns the protocol off for every
    /// credential, which is what it is for).
    pub(crate) fn account_policy_warnings(
        &self,
        id: &AccountId,
        protocol: &Protocol,
        policy: ProtocolPolicy,
    ) -> Result<Vec<Warning>, Failure> {
        if !could_take(protocol)
            || policy.accepts_app_passwords_on(protocol)
            || policy == ProtocolPolicy::Refused
        {
            return Ok(Vec::new());
        }
        let apps = self.engine.app_passwords(id).map_err(about(id))?;
        let names: Vec<String> = apps
            .iter()
            .filter(|app| app.allows(protocol))
            .map(|app| format!("{:?}", clean(&app.name, 64)))
            .collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let account = self
            .engine
            .account_status(id, self.now)
            .map_err(about(id))?;
        let set_by = if account.policies.iter().any(|(p, _)| p == protocol) {
            "account"
        } else {
            "platform"
        };
        let fix = format!(
            "mail2fa account policy {} {} {} {}",
            shell_word(id.platform()),
            shell_word(id.account()),
            protocol.name(),
            accepting_policy(protocol).name()
        );
        let message = format!(
            "{} is now {} for {}, which takes no application password: {} ({}) will be \
             refused there.",
            protocol.name(),
            policy_name(policy),
            name_of(id),
            if names.len() == 1 {
                "its application password".to_owned()
            } else {
                format!("its {} application passwords", names.len())
            },
            names.join(", ")
        );
        Ok(vec![Warning {
            protocol: protocol.clone(),
            policy,
            set_by,
            message,
            fix: Some(fix),
        }])
    }

    /// After a platform's policy for `protocol` changed to one that takes
    /// no application password (code-in-login): those of its accounts no
    /// longer work there. The tool lists no accounts (the store has no
    /// index of a platform's accounts), so the warning says it in general.
    pub(crate) fn platform_policy_warnings(
        &self,
        platform: &str,
        protocol: &Protocol,
        policy: ProtocolPolicy,
    ) -> Vec<Warning> {
        if !could_take(protocol)
            || policy.accepts_app_passwords_on(protocol)
            || policy == ProtocolPolicy::Refused
        {
            return Vec::new();
        }
        let message = format!(
            "{} is now {} on {}, which takes no application password: the application \
             passwords of its accounts will be refused there (except for an account whose own \
             {} policy takes them).",
            protocol.name(),
            policy_name(policy),
            clean(platform, 256),
            protocol.name()
        );
        let fix = format!(
            "mail2fa platform policy {} {} {}",
            shell_word(platform),
            protocol.name(),
            accepting_policy(protocol).name()
        );
        vec![Warning {
            protocol: protocol.clone(),
            policy,
            set_by: "platform",
            message,
            fix: Some(fix),
        }]
    }

    /// Writes the warnings to standard error (text mode only: with
    /// `--json` they are in the document). A standard error that cannot
    /// be written to does not fail a command that has done its work.
    pub(crate) fn warn(&self, warnings: &[Warning]) {
        if self.json {
            return;
        }
        let mut stderr = std::io::stderr().lock();
        for warning in warnings {
            let _ = writeln!(stderr, "mail2fa: warning: {}", warning.message);
            if let Some(fix) = &warning.fix {
                let _ = writeln!(
                    stderr,
                    "mail2fa:   to accept application passwords there: {fix}"
                );
            }
        }
    }
}
