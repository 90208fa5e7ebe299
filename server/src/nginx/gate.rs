//! [`Gate`]: the settings of the endpoints for nginx, from `[nginx]`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use mail2fa::config::{Config, ConfigError};
use zeroize::Zeroizing;

use crate::app::Tokens;

/// The longest a decision may take, password check and store included:
/// past it the login is refused (nginx's own timeouts should be longer).
pub const LIMIT: Duration = Duration::from_secs(15);

/// The header carrying the shared secret.
pub const SECRET_HEADER: &str = "x-mail2fa-secret";

/// The endpoints' settings, from `[nginx]` ([`Gate::from_config`]) or
/// built (for a service embedded in another program, or a test):
///
/// ```
/// use mail2fa_server::nginx::Gate;
///
/// let gate = Gate::default()
///     .with_secret("the-secret-nginx-sends-0123456789abcdef")
///     .with_backends(
///         Some("127.0.0.1:10143".parse()?),
///         None,
///         Some("127.0.0.1:10587".parse()?),
///     )
///     .with_master("mail2fa-proxy", "the-master-password-0123456789abcdef");
/// let said = gate.describe();
/// assert!(said.contains("IMAP → 127.0.0.1:10143, POP3 → refused"));
/// assert!(!said.contains("the-secret") && !said.contains("the-master-password"));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Clone)]
pub struct Gate {
    pub(super) secret: Tokens,
    pub(super) realm: Arc<str>,
    pub(super) wait: u64,
    pub(super) imap: Option<SocketAddr>,
    pub(super) pop3: Option<SocketAddr>,
    pub(super) smtp: Option<SocketAddr>,
    pub(super) master: Option<Arc<(String, Zeroizing<String>)>>,
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
            realm: Arc::from(if valid_realm(&section.realm) {
                section.realm.as_str()
            } else {
                "Mail"
            }),
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
            gate = gate.with_master(user, &password);
        }
        Ok(gate)
    }

    /// The same endpoints, taking `secret` in `X-Mail2fa-Secret`.
    #[must_use]
    pub fn with_secret(mut self, secret: &str) -> Self {
        self.secret = Tokens::new([secret]);
        self
    }

    /// The same endpoints, naming `realm` in the Basic challenge: 1 to 64
    /// printable ASCII characters or spaces, without `"` or `\` (as
    /// `[nginx] realm`; another is ignored).
    #[must_use]
    pub fn with_realm(mut self, realm: &str) -> Self {
        if valid_realm(realm) {
            self.realm = Arc::from(realm);
        }
        self
    }

    /// The same endpoints, telling refused mail clients to wait `seconds`
    /// (at most 60, as `[nginx] wait_seconds`).
    #[must_use]
    pub fn with_wait(mut self, seconds: u64) -> Self {
        self.wait = seconds.min(60);
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
    /// `mailbox*user` with `password` (a user of letters, digits, `-`, `_`
    /// and `.`, a password of printable ASCII, as `[nginx]` takes them;
    /// others are ignored, and IMAP and POP3 are then refused).
    #[must_use]
    pub fn with_master(mut self, user: &str, password: &str) -> Self {
        let user_ok = !user.is_empty()
            && user.len() <= 64
            && user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        let password_ok = !password.is_empty() && password.bytes().all(|b| b.is_ascii_graphic());
        if user_ok && password_ok {
            self.master = Some(Arc::new((
                user.to_owned(),
                Zeroizing::new(password.to_owned()),
            )));
        }
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
    pub(super) fn admits(&self, headers: &HeaderMap) -> bool {
        let presented = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok());
        match presented {
            Some(secret) => !self.secret.is_empty() && self.secret.accepts(secret),
            None => false,
        }
    }
}

/// A realm a quoted header parameter can carry.
fn valid_realm(realm: &str) -> bool {
    !realm.is_empty()
        && realm.len() <= 64
        && realm
            .chars()
            .all(|c| (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ')
}
