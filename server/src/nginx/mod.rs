//! The endpoints nginx asks before it lets a mail client through:
//!
//! - `GET /nginx/auth-request`, for `auth_request` in front of Exchange
//!   ActiveSync, EWS, MAPI and RPC over HTTP (see [`http`]): the Basic
//!   credentials, the protocol from the original path, the ActiveSync
//!   device from the query, the user agent, the client address;
//! - `GET /nginx/auth-http`, for the mail proxy's `auth_http` (IMAP, POP3,
//!   SMTP; see [`mail`]): nginx's `Auth-*` header protocol, the backend
//!   from `[nginx]`.
//!
//! Both need the secret of `[nginx] secret_file` in `X-Mail2fa-Secret`
//! (nginx adds it; without it a request is refused), check the mailbox
//! password with the deployment's own authentication, and decide with the
//! engine — password+code, application passwords, device tokens,
//! lockout, replay, as each protocol's policy says. Both fail closed: a
//! store or password check that does not answer within [`LIMIT`] refuses
//! the login, and nginx refuses whatever it cannot ask. No password, code
//! or secret is ever logged.

pub mod http;
pub mod mail;

mod activesync;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::get;
use mail2fa::asynchronous::OwnedLoginAttempt;
use mail2fa::config::{Config, ConfigError};
use mail2fa::engine::{AccountId, ClientInfo, Decision, DenyReason, Protocol};
use zeroize::Zeroizing;

use crate::app::{App, Tokens};

/// The longest a decision may take, password check and store included:
/// past it the login is refused (nginx's own timeouts should be longer).
pub const LIMIT: Duration = Duration::from_secs(15);

/// The header carrying the shared secret.
pub const SECRET_HEADER: &str = "x-mail2fa-secret";

/// The endpoints' settings, from `[nginx]`.
#[derive(Clone)]
pub struct Gate {
    secret: Tokens,
    realm: Arc<str>,
    wait: u64,
    imap: Option<SocketAddr>,
    pop3: Option<SocketAddr>,
    smtp: Option<SocketAddr>,
    master: Option<Arc<(String, Zeroizing<String>)>>,
}

impl Default for Gate {
    /// No secret: every request refused.
    fn default() -> Self {
        Self {
            secret: Tokens::default(),
            realm: Arc::from("Mail"),
            wait: 3,
            imap: None,
            pop3: None,
            smtp: None,
            master: None,
        }
    }
}

impl Gate {
    /// The endpoints as `[nginx]` describes them: the secret and the
    /// master password read from their files now.
    ///
    /// # Errors
    /// A secret or password file that cannot be used (the message names
    /// the file and the fix).
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let section = config.nginx();
        let secret = config.nginx_secret()?;
        let master_password = config.nginx_master_password()?;
        let backend = |b: &Option<String>| b.as_deref().and_then(|b| b.parse().ok());
        let mut gate = Self {
            secret: Tokens::default(),
            realm: Arc::from(section.realm.as_str()),
            wait: section.wait_seconds,
            imap: backend(&section.imap_backend),
            pop3: backend(&section.pop3_backend),
            smtp: backend(&section.smtp_backend),
            master: None,
        };
        if let Some(secret) = &secret {
            gate = gate.with_secret(secret);
        }
        if let (Some(user), Some(password)) = (&section.master_user, master_password) {
            gate.master = Some(Arc::new((user.clone(), password)));
        }
        Ok(gate)
    }

    /// The same endpoints, taking `secret` in `X-Mail2fa-Secret`.
    #[must_use]
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.secret = Tokens::new([secret]);
        self
    }

    /// The same endpoints, naming `realm` in the Basic challenge.
    #[must_use]
    pub fn with_realm(mut self, realm: &str) -> Self {
        self.realm = Arc::from(realm);
        self
    }

    /// The same endpoints, telling refused mail clients to wait `seconds`.
    #[must_use]
    pub fn with_wait(mut self, seconds: u64) -> Self {
        self.wait = seconds;
        self
    }

    /// The same endpoints, handing allowed IMAP, POP3 and SMTP logins to
    /// these backends (`None`: that protocol refused).
    #[must_use]
    pub fn with_backends(
        mut self,
        imap: Option<SocketAddr>,
        pop3: Option<SocketAddr>,
        smtp: Option<SocketAddr>,
    ) -> Self {
        (self.imap, self.pop3, self.smtp) = (imap, pop3, smtp);
        self
    }

    /// The same endpoints, logging in to the IMAP and POP3 backends as
    /// `mailbox*user` with `password`.
    #[must_use]
    pub fn with_master(mut self, user: &str, password: &str) -> Self {
        self.master = Some(Arc::new((
            user.to_owned(),
            Zeroizing::new(password.to_owned()),
        )));
        self
    }

    /// One line saying what the endpoints will do, for the service's
    /// start-up log (no secret in it).
    pub fn describe(&self) -> String {
        if self.secret.is_empty() {
            return "endpoints for nginx off (no [nginx] secret_file): every request refused"
                .to_owned();
        }
        let shown = |backend: Option<SocketAddr>| {
            backend.map_or_else(|| "refused".to_owned(), |b| b.to_string())
        };
        format!(
            "endpoints for nginx on: /nginx/auth-request, /nginx/auth-http (IMAP → {}, POP3 → {}, SMTP → {})",
            shown(self.imap),
            shown(self.pop3),
            shown(self.smtp)
        )
    }

    /// Whether the request carries the secret (none configured: never).
    fn admits(&self, headers: &HeaderMap) -> bool {
        let presented = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok());
        match presented {
            Some(secret) => !self.secret.is_empty() && self.secret.accepts(secret),
            None => false,
        }
    }
}

/// The two endpoints.
pub(crate) fn routes() -> axum::Router<App> {
    axum::Router::new()
        .route("/nginx/auth-request", get(http::auth_request))
        .route("/nginx/auth-http", get(mail::auth_http))
}

/// A decision as the endpoints answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Let in.
    Allowed,
    /// The password is right, the device must be authorized first.
    DevicePending,
    /// The account password was right but 2FA wants more than this
    /// protocol can carry here (enrollment).
    PasswordOnly,
    /// Refused.
    Refused,
    /// Refused because the client says nothing that identifies a device,
    /// with the right account password (a probe: see [`http`]).
    Unidentified,
    /// The store or the password check did not answer: refused, "try
    /// later".
    Unavailable,
}

/// One login decided: the account (a mailbox address, its domain the
/// platform), the protocol, what the client typed, what is known of the
/// client. Bounded by [`LIMIT`]; logged (never a secret); a notification
/// the decision carries is delivered in the background.
pub(crate) async fn decide(
    app: &App,
    account: &str,
    protocol: Protocol,
    input: Zeroizing<String>,
    client: ClientInfo<'_>,
    remote: Option<IpAddr>,
) -> (Outcome, &'static str) {
    let platform = account.rsplit_once('@').map_or("", |(_, d)| d);
    let Ok(id) = AccountId::new(platform, account) else {
        log(account, &protocol, remote, "refused", "not_an_account_name");
        return (Outcome::Refused, "not_an_account_name");
    };
    let password_right = Arc::new(AtomicBool::new(false));
    let attempt = OwnedLoginAttempt::new(protocol.clone(), input.as_str()).with_client(client);
    let now = app.clock.now();
    let verifier = Arc::clone(&app.password);
    let right = Arc::clone(&password_right);
    let mailbox = id.account().to_owned();
    let decision = tokio::time::timeout(
        LIMIT,
        app.engine
            .check_login(&id, attempt, now, |password| async move {
                let verdict = verifier.verify(&mailbox, password.as_str(), remote).await;
                right.store(matches!(verdict, Ok(true)), Ordering::SeqCst);
                verdict
            }),
    )
    .await;
    let (outcome, reason) = match decision {
        Err(_) => (Outcome::Unavailable, "timeout"),
        Ok(Err(mail2fa::Error::InvalidInput(_))) => (Outcome::Refused, "invalid_input"),
        Ok(Err(mail2fa::Error::PasswordCheckFailed)) => {
            (Outcome::Unavailable, "password_check_failed")
        }
        Ok(Err(_)) => (Outcome::Unavailable, "store_error"),
        Ok(Ok(decision)) => {
            let reason = decision.reason_code().name();
            let outcome = match &decision {
                Decision::Allow { .. } => Outcome::Allowed,
                Decision::DevicePending { .. } => Outcome::DevicePending,
                Decision::EnrollmentRequired { .. } | Decision::SecondFactorRequired { .. }
                    if password_right.load(Ordering::SeqCst) =>
                {
                    Outcome::PasswordOnly
                }
                Decision::Deny {
                    reason: DenyReason::DeviceUnidentified,
                } if password_right.load(Ordering::SeqCst) => Outcome::Unidentified,
                _ => Outcome::Refused,
            };
            if let Decision::DevicePending {
                notification: Some(notification),
                device,
            } = &decision
            {
                notify(app, &id, *device, notification.clone());
            }
            (outcome, reason)
        }
    };
    let said = match outcome {
        Outcome::Allowed => "allowed",
        Outcome::DevicePending => "device_pending",
        Outcome::PasswordOnly => "second_factor_required",
        Outcome::Refused | Outcome::Unidentified => "refused",
        Outcome::Unavailable => "unavailable",
    };
    log(id.account(), &protocol, remote, said, reason);
    (outcome, reason)
}

/// Delivers a blocked device's notification without holding up the
/// answer; an SMS that fails goes again by e-mail when the account has an
/// address. Failures are logged.
fn notify(
    app: &App,
    id: &AccountId,
    device: mail2fa::engine::DeviceId,
    notification: mail2fa::engine::Notification,
) {
    let app = app.clone();
    let id = id.clone();
    tokio::spawn(async move {
        let failure = match app.delivery.notification(&notification).await {
            Ok(_) => return,
            Err(failure) => failure,
        };
        if matches!(notification.channel, mail2fa::engine::Channel::Sms(_)) {
            let now = app.clock.now();
            let for_fallback = id.clone();
            let fallback = app
                .engine
                .run(move |engine| engine.notification_fallback(&for_fallback, &device, now))
                .await;
            if let Ok(Some(by_mail)) = fallback {
                match app.delivery.notification(&by_mail).await {
                    Ok(_) => return,
                    Err(again) => {
                        eprintln!(
                            "mail2fa-server: the notification for {} was not delivered: \
                             {failure}; by e-mail: {again}",
                            id.account()
                        );
                        return;
                    }
                }
            }
        }
        eprintln!(
            "mail2fa-server: the notification for {} was not delivered: {failure}",
            id.account()
        );
    });
}

/// One log line per decision: protocol, account, client address, outcome
/// and reason.
fn log(account: &str, protocol: &Protocol, from: Option<IpAddr>, outcome: &str, reason: &str) {
    let from = from.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let account: String = account
        .chars()
        .take(128)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    eprintln!(
        "mail2fa-server: nginx {} {account} from {from}: {outcome} {reason}",
        protocol.name()
    );
}
