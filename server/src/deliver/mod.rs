//! Delivery: e-mail codes and device notifications by SMTP to
//! `notifications.smtp_relay`, SMS by an HTTP POST to
//! `notifications.sms_gateway_url`, each bounded by
//! `notifications.timeout_seconds`. The engine only issues codes and
//! composes notifications; this is where they leave the service.
//!
//! An SMS code whose SMS fails (gateway down, refusing, not configured)
//! goes by e-mail instead when the account has an address; the result
//! says which channel carried it. Errors say what failed (relay refused,
//! gateway answered 500, timeout) and never quote the code.
//!
//! ```no_run
//! use mail2fa::config::Config;
//! use mail2fa_server::deliver::Delivery;
//!
//! # async fn send() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::from_file("/etc/mail2fa/mail2fa.toml")?;
//! let delivery = Delivery::from_config(&config)?;
//! delivery
//!     .email("alice@example.com", "Hello", "A test of the relay.")
//!     .await?;
//! # Ok(())
//! # }
//! ```

mod error;
mod sms;
mod smtp;

use std::future::Future;
use std::time::Duration;

use mail2fa::config::Config;
use mail2fa::engine::{AccountId, Channel, IssuedCode, Notification, format_utc};
use zeroize::Zeroizing;

pub use error::{DeliveryError, SetupError};

/// The channel that carried a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    /// E-mail, by the SMTP relay.
    Email,
    /// SMS, by the gateway.
    Sms,
}

impl Used {
    /// `"email"` or `"sms"`, as the API writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }
}

/// How an issued code was delivered.
#[derive(Debug)]
#[non_exhaustive]
pub struct CodeDelivered {
    /// The channel that carried it.
    pub channel: Used,
    /// Whether it went by e-mail because the SMS failed.
    pub fallback: bool,
    /// Why the SMS failed, when it went by e-mail instead.
    pub sms_failure: Option<DeliveryError>,
}

/// The relay, the gateway and the bound on one delivery, from
/// `[notifications]`. The default has neither: every delivery fails with
/// [`DeliveryError::NoRelay`] or [`DeliveryError::NoGateway`].
pub struct Delivery {
    smtp: Option<smtp::Smtp>,
    sms: Option<sms::Gateway>,
    timeout: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            smtp: None,
            sms: None,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Delivery {
    /// Delivery as `[notifications]` describes it: the relay and sender,
    /// the gateway and its token (read now, with the secret-file checks),
    /// the timeout.
    ///
    /// # Errors
    /// A relay without a sender, a sender or gateway URL that cannot be
    /// used, a token file that cannot be used, TLS that cannot be set up
    /// (no CA certificates for an `https://` gateway).
    pub fn from_config(config: &Config) -> Result<Self, SetupError> {
        let section = config.notifications();
        let timeout = Duration::from_secs(section.timeout_seconds.max(1));
        let smtp = match (&section.smtp_relay, &section.from) {
            (Some(relay), Some(from)) => Some(smtp::Smtp::new(relay, from)?),
            (Some(_), None) => return Err(SetupError::NoSender),
            (None, _) => None,
        };
        let sms = match &section.sms_gateway_url {
            Some(url) => Some(sms::Gateway::new(url, config.sms_gateway_token()?)?),
            None => None,
        };
        Ok(Self { smtp, sms, timeout })
    }

    /// Sends an e-mail of `text` to `to` under `subject` (line breaks in
    /// it become spaces).
    ///
    /// # Errors
    /// [`DeliveryError::NoRelay`], [`DeliveryError::BadDestination`], the
    /// relay's refusal or failure, [`DeliveryError::Timeout`].
    pub async fn email(&self, to: &str, subject: &str, text: &str) -> Result<(), DeliveryError> {
        let smtp = self.smtp.as_ref().ok_or(DeliveryError::NoRelay)?;
        let what = format!("the SMTP relay {}", smtp.relay());
        self.bounded(what, smtp.send(to, subject, text)).await
    }

    /// Sends an SMS of `text` to `to`.
    ///
    /// # Errors
    /// [`DeliveryError::NoGateway`], the gateway's non-2xx answer or
    /// failure, [`DeliveryError::Timeout`].
    pub async fn sms(&self, to: &str, text: &str) -> Result<(), DeliveryError> {
        let gateway = self.sms.as_ref().ok_or(DeliveryError::NoGateway)?;
        let what = format!("the SMS gateway {}", gateway.shown());
        self.bounded(what, gateway.send(to, text)).await
    }

    /// Delivers a code [`Engine::issue_code`] issued for `id`, on its
    /// channel; an SMS that fails goes by e-mail to `email` (the account's
    /// address) when there is one.
    ///
    /// # Errors
    /// Why the delivery failed (for an SMS sent again by e-mail,
    /// [`DeliveryError::FallbackFailed`] with both reasons).
    ///
    /// [`Engine::issue_code`]: mail2fa::engine::Engine::issue_code
    pub async fn code(
        &self,
        id: &AccountId,
        issued: &IssuedCode,
        email: Option<&str>,
    ) -> Result<CodeDelivered, DeliveryError> {
        let until = format_utc(issued.expires_at);
        let subject = format!("Your login code for {}", id.account());
        let mail = Zeroizing::new(format!(
            "Your code for the mailbox {account}: {code}\n\n\
             It works once, until {until}.\n\
             If you did not ask for it, someone knows your password: change it.\n",
            account = id.account(),
            code = issued.code.as_str(),
        ));
        match &issued.channel {
            Channel::Email(to) => {
                self.email(to, &subject, &mail).await?;
                Ok(CodeDelivered {
                    channel: Used::Email,
                    fallback: false,
                    sms_failure: None,
                })
            }
            Channel::Sms(to) => {
                let text = Zeroizing::new(format!(
                    "Your code for {account}: {code} (until {until})",
                    account = id.account(),
                    code = issued.code.as_str(),
                ));
                let failure = match self.sms(to, &text).await {
                    Ok(()) => {
                        return Ok(CodeDelivered {
                            channel: Used::Sms,
                            fallback: false,
                            sms_failure: None,
                        });
                    }
                    Err(failure) => failure,
                };
                let Some(address) = email else {
                    return Err(failure);
                };
                match self.email(address, &subject, &mail).await {
                    Ok(()) => Ok(CodeDelivered {
                        channel: Used::Email,
                        fallback: true,
                        sms_failure: Some(failure),
                    }),
                    Err(email) => Err(DeliveryError::FallbackFailed {
                        sms: Box::new(failure),
                        email: Box::new(email),
                    }),
                }
            }
            _ => Err(DeliveryError::UnknownChannel),
        }
    }

    /// Delivers a notification the engine composed (a blocked device) on
    /// its channel: its subject and text by e-mail, its text by SMS.
    ///
    /// # Errors
    /// Why the delivery failed.
    pub async fn notification(&self, notification: &Notification) -> Result<Used, DeliveryError> {
        match &notification.channel {
            Channel::Email(to) => {
                self.email(to, &notification.subject, &notification.text)
                    .await?;
                Ok(Used::Email)
            }
            Channel::Sms(to) => {
                self.sms(to, &notification.text).await?;
                Ok(Used::Sms)
            }
            _ => Err(DeliveryError::UnknownChannel),
        }
    }

    /// `delivery` within the timeout.
    async fn bounded(
        &self,
        what: String,
        delivery: impl Future<Output = Result<(), DeliveryError>>,
    ) -> Result<(), DeliveryError> {
        match tokio::time::timeout(self.timeout, delivery).await {
            Ok(result) => result,
            Err(_) => Err(DeliveryError::Timeout {
                what,
                seconds: self.timeout.as_secs(),
            }),
        }
    }
}
