//! E-mail by SMTP to the configured relay (lettre): one connection per
//! message, plain text in UTF-8 with From, To, Subject, Date and
//! Message-ID.
//!
//! Transport security: a relay on a loopback address (`localhost`,
//! `127.0.0.0/8`, `::1`) is spoken to in plain text — the message never
//! leaves the machine, and local MTAs commonly offer STARTTLS with a
//! self-signed certificate that would fail verification. Any other relay
//! gets opportunistic STARTTLS (rustls, the system's CA certificates):
//! upgraded whenever the relay offers it, the certificate verified
//! against the relay's host name (a bad certificate fails the delivery),
//! plain text only when the relay offers no STARTTLS.

use std::net::IpAddr;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::error::{DeliveryError, SetupError, chain};

/// The relay and the sender.
pub(super) struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `HOST:PORT`, as configured (for messages).
    relay: String,
    from: Mailbox,
}

impl Smtp {
    /// The relay `HOST:PORT` (an IPv6 host in brackets), sending as
    /// `from`. The caller bounds each delivery as a whole, so the
    /// transport has no timeout of its own.
    pub(super) fn new(relay: &str, from: &str) -> Result<Self, SetupError> {
        let (host, port) = relay.rsplit_once(':').ok_or(SetupError::BadRelay)?;
        let port: u16 = port.parse().map_err(|_| SetupError::BadRelay)?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(SetupError::BadRelay);
        }
        let from: Address = from.parse().map_err(|_| SetupError::BadSender)?;
        let tls = if is_loopback(host) {
            Tls::None
        } else {
            let parameters = TlsParameters::builder(host.to_owned())
                .build_rustls()
                .map_err(|e| SetupError::Tls {
                    what: "the SMTP relay",
                    reason: chain(&e),
                })?;
            // Required, not opportunistic: an attacker on the path who
            // strips STARTTLS must not get e-mail codes in clear.
            Tls::Required(parameters)
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(None)
            .build();
        Ok(Self {
            transport,
            relay: relay.to_owned(),
            from: Mailbox::new(None, from),
        })
    }

    /// The relay, as configured.
    pub(super) fn relay(&self) -> &str {
        &self.relay
    }

    /// Sends `text` to `to` under `subject`.
    pub(super) async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
    ) -> Result<(), DeliveryError> {
        let to: Address = to
            .parse()
            .map_err(|_| DeliveryError::BadDestination("e-mail address"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(header_text(subject))
            .message_id(None)
            .date_now()
            .header(ContentType::TEXT_PLAIN)
            .body(text.to_owned())
            .map_err(|e| DeliveryError::Compose(chain(&e)))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() || error.is_transient() => {
                Err(DeliveryError::RelayRefused {
                    relay: self.relay.clone(),
                    reply: chain(&error),
                })
            }
            Err(error) => Err(DeliveryError::RelayFailed {
                relay: self.relay.clone(),
                reason: chain(&error),
            }),
        }
    }
}

/// Whether the relay is on this machine (an IPv4 loopback address
/// written as IPv6, `::ffff:127.0.0.1`, too).
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// A header's text on one line: whatever an account's data put in it,
/// line breaks and other control characters become spaces, so no header
/// can be added through it.
fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_relays_are_recognised() {
        for host in [
            "localhost",
            "LocalHost",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "mail.example.net",
            "192.0.2.25",
            "2001:db8::25",
            "localhost.example",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn header_text_has_no_line_break() {
        assert_eq!(
            header_text("New device\r\nBcc: x@example.net\n\tfor al"),
            "New device  Bcc: x@example.net  for al"
        );
    }
}
