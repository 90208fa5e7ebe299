//! `mail2fa config check`: the configuration file read and checked as the
//! mail servers read it, its store opened without being changed, and what
//! a login would use printed.

use std::io::Write;

use mail2fa::config::CheckReport;

use crate::cli::{ConfigCommand, Global};
use crate::configuration::{self, failure};
use crate::failure::{DATABASE, Failure, fail};
use crate::output::{Json, print_json};

/// Runs a `config` command. It needs no engine: the check opens the store
/// itself, never creating or migrating it.
pub(crate) fn run(global: &Global, command: ConfigCommand) -> Result<(), Failure> {
    match command {
        ConfigCommand::Check => check(global),
    }
}

fn check(global: &Global) -> Result<(), Failure> {
    let config = configuration::load_for_check(global)?;
    let report = config.check().map_err(failure)?;
    if global.json {
        print_json(&report_json(&report))?;
    } else {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{report}")?;
    }
    if report.is_sound() {
        Ok(())
    } else {
        Err(fail(
            DATABASE,
            format!(
                "{}: the store's check found {} problem(s) (listed above); \
                 see `mail2fa db check`.",
                report.origin,
                report.problems.len()
            ),
        ))
    }
}

/// The report as one JSON document (never a secret: file names and key
/// ids only).
fn report_json(report: &CheckReport) -> Json {
    let e = &report.engine;
    let number = |n: u64| Json::Number(n);
    let t = e.totp;
    let l = e.lockout;
    let c = e.delivered_codes;
    let d = e.devices;
    Json::Object(vec![
        ("configuration", Json::text(&report.origin)),
        ("sound", Json::Bool(report.is_sound())),
        (
            "store",
            Json::Object(vec![
                ("name", Json::text(&report.store)),
                ("create_allowed", Json::Bool(report.create_allowed)),
                (
                    "schema_version",
                    number(u64::try_from(report.schema_version).unwrap_or(0)),
                ),
                ("records", number(report.records)),
                (
                    "problems",
                    Json::List(report.problems.iter().map(|p| Json::text(p)).collect()),
                ),
            ]),
        ),
        (
            "encryption",
            match &report.encryption {
                Some((path, id)) => Json::Object(vec![
                    ("key_file", Json::text(&path.display().to_string())),
                    ("current_key_id", number(u64::from(*id))),
                    ("require_sealed", Json::Bool(e.require_sealed)),
                ]),
                None => Json::Null,
            },
        ),
        (
            "device_key_file",
            Json::opt_text(
                report
                    .device_key_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .as_deref(),
            ),
        ),
        (
            "totp",
            Json::Object(vec![
                ("algorithm", Json::text(t.algorithm().name())),
                ("digits", number(u64::from(t.digits().get()))),
                ("period_seconds", number(t.period())),
                ("window", number(u64::from(t.window()))),
                ("diagnostic_window", number(u64::from(e.diagnostic_window))),
            ]),
        ),
        (
            "lockout",
            Json::Object(vec![
                ("max_failures", number(u64::from(l.max_failures))),
                ("first_lock_seconds", number(l.first_lock)),
                ("max_lock_seconds", number(l.max_lock)),
            ]),
        ),
        (
            "delivered_codes",
            Json::Object(vec![
                ("digits", number(u64::from(c.digits))),
                ("lifetime_seconds", number(c.lifetime)),
                ("max_wrong", number(u64::from(c.max_wrong))),
                ("resend_interval_seconds", number(c.resend_interval)),
            ]),
        ),
        (
            "devices",
            Json::Object(vec![
                (
                    "max_pending",
                    number(u64::try_from(d.max_pending).unwrap_or(u64::MAX)),
                ),
                ("pending_ttl_seconds", number(d.pending_ttl)),
                ("notify_interval_seconds", number(d.notify_interval)),
                ("seen_interval_seconds", number(d.seen_interval)),
                ("binding_period_seconds", number(d.binding_period)),
                ("reset_revokes_clients", Json::Bool(d.reset_revokes_clients)),
            ]),
        ),
        ("enrollment_ttl_seconds", number(e.enrollment_ttl)),
        ("max_suspension_seconds", number(e.max_suspension)),
        (
            "mandatory_platforms",
            Json::List(
                e.mandatory_platforms
                    .iter()
                    .map(|p| Json::text(p))
                    .collect(),
            ),
        ),
        ("issuer", Json::opt_text(e.issuer.as_deref())),
        ("portal_link", Json::opt_text(e.portal_link.as_deref())),
    ])
}
