//! The portal's first factor: the mailbox password, checked by the
//! deployment's own authentication as `[password_check]` chooses it —
//! Dovecot's authentication socket (`dovecot.rs`) or a PAM service
//! (`pam.rs`).
//!
//! The answer is the password's only: the second factor is the engine's
//! (protocol `portal`), asked by the portal afterwards. So the deployment
//! must answer the portal with the password alone, without mail2fa — for
//! Dovecot, the shipped Lua passdb checks only the password for service
//! `portal`, and the shipped PAM passdb asks PAM for the service
//! `mail2fa-portal` (`integrations/pam/mail2fa-portal.pam`, the host's
//! password module and no mail2fa line); for PAM, `pam_service` names that
//! same file. A check that went through mail2fa would demand a code the
//! portal asks for later, and a wrong one would count against the account.
//!
//! A password-only "yes" must never stand for another service: Dovecot's
//! auth cache stays off (`auth_cache_size = 0`, as the shipped snippets
//! have it; its key is the user name, so a cached portal answer would let
//! the password alone into IMAP), and only the portal and Dovecot's own
//! processes may reach the socket the portal uses (a client there names
//! its service).
//!
//! ```no_run
//! use mail2fa::config::Config;
//! use mail2fa_server::password::PasswordCheck;
//!
//! # async fn sign_in() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::from_file("/etc/mail2fa/mail2fa.toml")?;
//! let check = PasswordCheck::from_config(config.password_check());
//! let right = check.check("alice@example.com", "secret", None).await?;
//! # let _ = right;
//! # Ok(())
//! # }
//! ```

mod dovecot;
mod pam;

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use mail2fa::config::{PasswordCheckSection, PasswordMethod};

use self::dovecot::DovecotAuth;
use self::pam::PamAuth;

/// A password check by the deployment's authentication, built from
/// `[password_check]`. Checks may run concurrently; clones share the
/// connections kept to Dovecot (a few, each used by one check at a time).
/// PAM runs one transaction per check on a blocking thread.
#[derive(Debug, Clone)]
pub struct PasswordCheck {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Dovecot(DovecotAuth),
    Pam(PamAuth),
}

impl PasswordCheck {
    /// The check `section` describes (`method`, with its socket or PAM
    /// service, and `timeout_seconds` bounding each check). Nothing is
    /// opened here: a missing socket or service shows at the first check.
    pub fn from_config(section: &PasswordCheckSection) -> Self {
        // Validation keeps it above 0; a hand-made section of 0 still
        // gets a bound.
        let timeout = Duration::from_secs(section.timeout_seconds.max(1));
        let backend = match section.method {
            PasswordMethod::Pam => Backend::Pam(PamAuth::new(&section.pam_service, timeout)),
            // Dovecot, and any method a later configuration adds.
            _ => Backend::Dovecot(DovecotAuth::new(&section.dovecot_socket, timeout)),
        };
        Self { backend }
    }

    /// Whether `password` is `user`'s mailbox password. `remote` is the
    /// browser's address, passed on (Dovecot's `rip`, PAM's `PAM_RHOST`)
    /// for the deployment's logs and throttling.
    ///
    /// `Ok(false)`: a wrong password, an unknown or disabled user, a
    /// Dovecot "yes" for another name than `user` (a passdb that rewrites
    /// names: the portal must ask with the name as the deployment spells
    /// it) — and what no mailbox password can be: an empty user name, a NUL in the
    /// user name or the password (PLAIN and PAM cannot carry it), more
    /// than 4096 bytes in either.
    ///
    /// # Errors
    /// The check could not be made, so nothing is known about the password:
    /// the socket or service is missing or refuses, the answer is not the
    /// protocol's, the deployment reports a temporary failure, or no answer
    /// came within `timeout_seconds`. The error names the socket or the
    /// service, never the user's password.
    pub async fn check(
        &self,
        user: &str,
        password: &str,
        remote: Option<IpAddr>,
    ) -> Result<bool, PasswordCheckError> {
        if !acceptable(user, password) {
            return Ok(false);
        }
        match &self.backend {
            Backend::Dovecot(dovecot) => dovecot.check(user, password, remote).await,
            Backend::Pam(pam) => pam.check(user, password, remote).await,
        }
    }
}

/// Longest user name or password sent to a check (bytes).
pub(crate) const MAX_INPUT: usize = 4096;

/// What can be a mailbox login at all; anything else is refused before it
/// reaches the deployment.
fn acceptable(user: &str, password: &str) -> bool {
    !user.is_empty()
        && user.len() <= MAX_INPUT
        && password.len() <= MAX_INPUT
        && !user.contains('\0')
        && !password.contains('\0')
}

/// Which authentication a [`PasswordCheckError`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authority {
    /// Dovecot's authentication socket, at this path.
    Dovecot(std::path::PathBuf),
    /// This PAM service.
    Pam(String),
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dovecot(path) => write!(f, "Dovecot's authentication socket {}", path.display()),
            Self::Pam(service) => write!(f, "PAM service {service}"),
        }
    }
}

/// A password check that could not be made. Its text names the socket or
/// service and says what went wrong; it never holds the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordCheckError {
    /// The socket or service could not be reached or opened.
    #[error("{authority}: cannot be reached: {reason}")]
    Unreachable {
        /// The socket or service.
        authority: Authority,
        /// What failed (from the system, or the missing file).
        reason: String,
    },
    /// The answer was not the protocol's.
    #[error("{authority}: protocol error: {problem}")]
    Protocol {
        /// The socket.
        authority: Authority,
        /// What was wrong with the answer.
        problem: String,
    },
    /// The deployment could not decide (Dovecot's temporary failure, a PAM
    /// system or module error).
    #[error("{authority}: could not check the password: {problem}")]
    Failed {
        /// The socket or service.
        authority: Authority,
        /// What it reported.
        problem: String,
    },
    /// No answer within `timeout_seconds`.
    #[error("{authority}: no answer within {seconds} s")]
    TimedOut {
        /// The socket or service.
        authority: Authority,
        /// The bound.
        seconds: u64,
    },
}

/// The portal's check: the sign-in asks the deployment through this.
impl crate::app::PasswordVerifier for PasswordCheck {
    fn verify<'a>(
        &'a self,
        account: &'a str,
        password: &'a str,
        remote: Option<IpAddr>,
    ) -> crate::app::CheckFuture<'a> {
        Box::pin(async move {
            self.check(account, password, remote)
                .await
                .map_err(|e| e.to_string())
        })
    }
}
