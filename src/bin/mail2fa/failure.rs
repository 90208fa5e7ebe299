//! Why the tool stops: the exit statuses, and how a library error becomes
//! one (its status and the sentence on standard error).

use mail2fa::Error;
use mail2fa::engine::AccountId;

use crate::render::name_of;

/// Why the tool stops: the exit status and one sentence for stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

// The exit statuses, as the help's `Exit status` list (`cli.rs`) tells them.
pub(crate) const REFUSED: u8 = 1;
pub(crate) const USAGE: u8 = 2;
pub(crate) const NOT_FOUND: u8 = 3;
pub(crate) const DATABASE: u8 = 4;
pub(crate) const KEY: u8 = 5;
pub(crate) const CONFIG: u8 = 6;

pub(crate) fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// The exit status for a library error.
pub(crate) fn exit_code(error: &Error) -> u8 {
    match error {
        Error::NotEnabled | Error::NotFound(_) => NOT_FOUND,
        Error::Store(_) | Error::Record(_) | Error::Random => DATABASE,
        Error::Encryption(_) | Error::KeyFile { .. } => KEY,
        Error::InvalidConfig(_)
        | Error::InvalidName { .. }
        | Error::InvalidInput(_)
        | Error::MalformedCode { .. }
        | Error::InvalidDigits(_)
        | Error::Base32(_)
        | Error::Uri(_) => USAGE,
        _ => REFUSED,
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        fail(exit_code(&error), format!("{}.", describe(&error)))
    }
}

/// The library's message, said for an operator: a value the library calls
/// configuration (a name, a policy) is the operator's input here.
pub(crate) fn describe(error: &Error) -> String {
    match error {
        Error::InvalidConfig(what) => format!("invalid {what}"),
        other => other.to_string(),
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        fail(REFUSED, format!("cannot write the output: {error}."))
    }
}

/// A library error about one account, said with its name.
pub(crate) fn about(id: &AccountId) -> impl Fn(Error) -> Failure + '_ {
    move |error| {
        let code = exit_code(&error);
        fail(code, format!("{}: {}.", name_of(id), describe(&error)))
    }
}
