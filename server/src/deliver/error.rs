//! What can go wrong with delivery: at start-up (the configuration names
//! something that cannot be used) and for one message (the relay or the
//! gateway refused it, or did not answer in time). The messages say what
//! failed; they never quote a code, a token or a message's text.

use mail2fa::config::ConfigError;

/// Why the configuration's delivery settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The SMS gateway's token file cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A relay is set, but no sender.
    #[error(
        "notifications.smtp_relay is set but notifications.from is not: set the sender of \
         e-mail codes and notifications (e.g. from = \"mail2fa@example.com\")"
    )]
    NoSender,
    /// The sender is not an address a mail can carry.
    #[error("notifications.from is not a mail address (local@domain)")]
    BadSender,
    /// The relay is not `HOST:PORT`.
    #[error("notifications.smtp_relay must be HOST:PORT")]
    BadRelay,
    /// The SMS gateway's URL cannot be used.
    #[error("notifications.sms_gateway_url cannot be used: {0}")]
    BadGatewayUrl(&'static str),
    /// TLS cannot be set up (no CA certificates, for instance).
    #[error("cannot set up TLS for {what}: {reason} (is the ca-certificates package installed?)")]
    Tls {
        /// For what: the relay or the gateway.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// Why one message was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// No relay is configured.
    #[error("no SMTP relay is configured: set notifications.smtp_relay and notifications.from")]
    NoRelay,
    /// No SMS gateway is configured.
    #[error("no SMS gateway is configured: set notifications.sms_gateway_url")]
    NoGateway,
    /// The destination is not an e-mail address (or phone number) a
    /// message can go to.
    #[error("the destination is not a valid {0}")]
    BadDestination(&'static str),
    /// The engine named a channel this service does not deliver on.
    #[error("the code's channel is one this service cannot deliver on")]
    UnknownChannel,
    /// The message could not be composed.
    #[error("the message cannot be composed: {0}")]
    Compose(String),
    /// The relay answered with an SMTP error.
    #[error("the SMTP relay {relay} refused the message: {reply}")]
    RelayRefused {
        /// The relay, `HOST:PORT`.
        relay: String,
        /// Its reply (code and text, control characters removed).
        reply: String,
    },
    /// The relay could not be reached, or the conversation broke off.
    #[error("the SMTP relay {relay} cannot be used: {reason}")]
    RelayFailed {
        /// The relay, `HOST:PORT`.
        relay: String,
        /// Why.
        reason: String,
    },
    /// The gateway answered, but not with a 2xx status.
    #[error("the SMS gateway {gateway} answered {status}")]
    GatewayStatus {
        /// The gateway's scheme and host (never its path or query).
        gateway: String,
        /// The status line's code and reason.
        status: String,
    },
    /// The gateway could not be reached, or gave no answer.
    #[error("the SMS gateway {gateway} cannot be reached: {reason}")]
    GatewayFailed {
        /// The gateway's scheme and host.
        gateway: String,
        /// Why.
        reason: String,
    },
    /// No answer within `notifications.timeout_seconds`.
    #[error("{what} did not answer within {seconds} s (notifications.timeout_seconds)")]
    Timeout {
        /// Who: the relay or the gateway.
        what: String,
        /// The bound.
        seconds: u64,
    },
    /// An SMS failed and so did the e-mail sent instead.
    #[error("the SMS failed ({sms}) and so did the e-mail sent instead ({email})")]
    FallbackFailed {
        /// Why the SMS failed.
        sms: Box<DeliveryError>,
        /// Why the e-mail failed.
        email: Box<DeliveryError>,
    },
}

/// Text from a relay or a library, fit for one line of an error message:
/// control characters made spaces, at most 200 characters.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// An error and its sources, `a: b: c`, on one line.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        // Libraries often repeat their source's text in their own.
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    one_line(&text)
}
