//! What the host hands the engine for one login of a mail client: the
//! protocol, what the client presented ([`Credential`]) and what is known
//! about the client.

use super::device::ClientInfo;
use super::protocol::Protocol;

/// What the client presented, after the host's own password check.
///
/// The host owns the account password. A host that receives a
/// password+code string splits it with [`Engine::split_login_for`] and
/// checks the password part; when its check fails, it passes the whole
/// input as an [`Credential::AppPassword`] — the engine tells an
/// application password from a wrong password by its shape.
///
/// [`Engine::split_login_for`]: crate::engine::Engine::split_login_for
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// The account password alone; `correct` is the host's verdict.
    Password {
        /// Whether the host's password check succeeded.
        correct: bool,
    },
    /// The account password with a one-time code (split off a
    /// password+code string, or asked for separately).
    PasswordAndCode {
        /// Whether the host's check of the password part succeeded.
        correct: bool,
        /// The code.
        code: &'a str,
    },
    /// Something that is not the account password: maybe an application
    /// password.
    AppPassword(&'a str),
}

/// One login, as the host sees it.
///
/// ```
/// use mail2fa::engine::{ClientInfo, Credential, LoginRequest, Protocol};
///
/// let outlook = LoginRequest {
///     protocol: Protocol::Outlook,
///     credential: Credential::Password { correct: true },
///     client: ClientInfo {
///         user_agent: Some("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928)"),
///         remote_addr: Some("198.51.100.20"),
///         ..ClientInfo::default()
///     },
/// };
/// assert!(outlook.client.is_identifiable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest<'a> {
    /// How the client connects.
    pub protocol: Protocol,
    /// What it presented.
    pub credential: Credential<'a>,
    /// What the host knows about it.
    pub client: ClientInfo<'a>,
}

/// Shows the kind and the password verdict, never the code or the
/// application password.
impl core::fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Password { correct } => f
                .debug_struct("Password")
                .field("correct", correct)
                .finish(),
            Self::PasswordAndCode { correct, .. } => f
                .debug_struct("PasswordAndCode")
                .field("correct", correct)
                .finish_non_exhaustive(),
            Self::AppPassword(_) => f.write_str("AppPassword(<redacted>)"),
        }
    }
}

impl Credential<'_> {
    pub(super) fn password_correct(&self) -> bool {
        matches!(
            self,
            Self::Password { correct: true } | Self::PasswordAndCode { correct: true, .. }
        )
    }
}
