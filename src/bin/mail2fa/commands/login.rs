//! `mail2fa login`: one login as a mail server makes it, with the
//! configuration's engine, and the decision shown — what an operator runs
//! to see why a user is refused, and what the tests compare with the PAM
//! and Lua modules and a C host given the same configuration file.

use std::io::{BufRead, IsTerminal, Read, Write};

use mail2fa::engine::{
    ClientAnswer, ClientInfo, Decision, LoginAttempt, MAX_LOGIN_INPUT, PasswordVerdict,
};
use zeroize::Zeroizing;

use crate::cli::{LoginArgs, PasswordAnswer};
use crate::context::Context;
use crate::failure::{Failure, REFUSED, USAGE, about, fail};
use crate::output::{Json, print_json};
use crate::render::{account_json, deny_text, name_of};

impl Context {
    pub(crate) fn login(&self, args: &LoginArgs) -> Result<(), Failure> {
        let id = Self::id(&args.account)?;
        let input = read_login_string()?;
        let client = ClientInfo::new()
            .with_remote_addr(args.address.as_deref())
            .with_device_id(args.device_id.as_deref())
            .with_device_type(args.device_type.as_deref())
            .with_user_agent(args.user_agent.as_deref());
        let attempt = LoginAttempt::new(args.protocol.clone(), &input).with_client(client);
        let mut checked = false;
        let decision = self
            .engine
            .check_login(&id, &attempt, self.now, |_password| {
                checked = true;
                match args.password {
                    PasswordAnswer::Right => PasswordVerdict::Correct,
                    PasswordAnswer::Wrong => PasswordVerdict::Wrong,
                }
            })
            .map_err(about(&id))?;
        let outcome = outcome_name(decision.client_answer());
        let reason = decision.reason_code().name();
        let device = decision.device().map(|d| d.to_string());
        if self.json {
            print_json(&account_json(
                &id,
                vec![
                    ("protocol", Json::text(args.protocol.name())),
                    ("allowed", Json::Bool(decision.is_allowed())),
                    ("outcome", Json::text(outcome)),
                    ("reason", Json::text(reason)),
                    ("password_checked", Json::Bool(checked)),
                    ("device", Json::opt_text(device.as_deref())),
                ],
            ))?;
        } else {
            let mut stdout = std::io::stdout().lock();
            writeln!(
                stdout,
                "{} over {}: {outcome} ({reason}){}",
                name_of(&id),
                args.protocol.name(),
                explanation(&decision)
            )?;
            if checked {
                let answer = match args.password {
                    PasswordAnswer::Right => "right",
                    PasswordAnswer::Wrong => "wrong",
                };
                writeln!(
                    stdout,
                    "The password part was taken as {answer}: mail2fa holds no mailbox passwords."
                )?;
            }
        }
        if decision.is_allowed() {
            Ok(())
        } else {
            // Said above; the exit status tells a script.
            Err(fail(REFUSED, ""))
        }
    }
}

/// The login string from standard input: one line, its line end removed,
/// at most [`MAX_LOGIN_INPUT`] bytes (longer input is refused, not cut).
fn read_login_string() -> Result<Zeroizing<String>, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Login string, as the client types it (shown as you type): ");
    }
    // The line end and one byte more than allowed tell an over-long line;
    // room for all of it up front, so no copy is left behind unwiped.
    let limit = MAX_LOGIN_INPUT + 3;
    let mut bytes = Zeroizing::new(Vec::with_capacity(limit));
    stdin
        .lock()
        .take(limit as u64)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| fail(USAGE, format!("cannot read the login string: {e}.")))?;
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    if bytes.len() > MAX_LOGIN_INPUT {
        return Err(fail(
            USAGE,
            format!("the login string is longer than {MAX_LOGIN_INPUT} bytes."),
        ));
    }
    let text =
        std::str::from_utf8(&bytes).map_err(|_| fail(USAGE, "the login string is not UTF-8."))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// The client answer's stable name (as `m2fa_outcome_name` gives it).
fn outcome_name(answer: ClientAnswer) -> &'static str {
    match answer {
        ClientAnswer::Allowed => "allowed",
        ClientAnswer::EnrollmentRequired => "enrollment_required",
        ClientAnswer::SecondFactorRequired => "second_factor_required",
        ClientAnswer::DevicePending => "device_pending",
        _ => "refused",
    }
}

/// What the operator should know beyond the reason's name.
fn explanation(decision: &Decision) -> String {
    match decision {
        Decision::Deny { reason } => format!(": {}.", deny_text(*reason)),
        Decision::DevicePending { device, .. } => {
            format!(": device {device} is blocked until authorized (mail2fa device activate).")
        }
        _ => ".".to_owned(),
    }
}
