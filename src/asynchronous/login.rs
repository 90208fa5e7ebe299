//! What a login carries across to a blocking thread and back: the attempt,
//! owned, and the password part handed to the host's check — both wiped on
//! drop, neither shown by `Debug`.

use zeroize::Zeroizing;

use crate::engine::{ClientInfo, LoginAttempt, Protocol};

/// A [`LoginAttempt`] that owns its fields, so that it can move to a
/// blocking thread: the input is wiped on drop and never shown.
///
/// [`AsyncEngine::check_login`](super::AsyncEngine::check_login) takes
/// anything that converts into it, a [`LoginAttempt`] included.
///
/// ```
/// use mail2fa::asynchronous::OwnedLoginAttempt;
/// use mail2fa::engine::{ClientInfo, LoginAttempt, Protocol};
///
/// let line = String::from("T9D3K!px189145");
/// let client = ClientInfo::new().with_remote_addr("203.0.113.7");
/// let attempt = OwnedLoginAttempt::from(LoginAttempt::new(Protocol::Imap, &line).with_client(client));
/// assert_eq!(attempt.as_attempt().client.remote_addr, Some("203.0.113.7"));
/// assert!(!format!("{attempt:?}").contains("T9D3K"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OwnedLoginAttempt {
    protocol: Protocol,
    input: Zeroizing<String>,
    client: OwnedClientInfo,
}

/// [`ClientInfo`]'s fields, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct OwnedClientInfo {
    device_id: Option<String>,
    device_type: Option<String>,
    user_agent: Option<String>,
    remote_addr: Option<String>,
}

impl OwnedLoginAttempt {
    /// A login over `protocol` with the password field `input` (a `String`
    /// is taken as it is, and wiped with the attempt), from a client the
    /// host knows nothing about.
    pub fn new(protocol: Protocol, input: impl Into<String>) -> Self {
        Self {
            protocol,
            input: Zeroizing::new(input.into()),
            client: OwnedClientInfo::default(),
        }
    }

    /// The same login, from `client` (its fields are copied).
    #[must_use]
    pub fn with_client(mut self, client: ClientInfo<'_>) -> Self {
        let owned = |field: Option<&str>| field.map(str::to_owned);
        self.client = OwnedClientInfo {
            device_id: owned(client.device_id),
            device_type: owned(client.device_type),
            user_agent: owned(client.user_agent),
            remote_addr: owned(client.remote_addr),
        };
        self
    }

    /// The attempt, borrowed, as the blocking API takes it.
    pub fn as_attempt(&self) -> LoginAttempt<'_> {
        LoginAttempt::new(self.protocol.clone(), self.input.as_str()).with_client(ClientInfo {
            device_id: self.client.device_id.as_deref(),
            device_type: self.client.device_type.as_deref(),
            user_agent: self.client.user_agent.as_deref(),
            remote_addr: self.client.remote_addr.as_deref(),
        })
    }

    /// The password field as the client sent it.
    pub(super) fn input(&self) -> &str {
        &self.input
    }
}

impl From<LoginAttempt<'_>> for OwnedLoginAttempt {
    fn from(attempt: LoginAttempt<'_>) -> Self {
        Self::new(attempt.protocol, attempt.input).with_client(attempt.client)
    }
}

impl From<&LoginAttempt<'_>> for OwnedLoginAttempt {
    fn from(attempt: &LoginAttempt<'_>) -> Self {
        Self::new(attempt.protocol.clone(), attempt.input).with_client(attempt.client)
    }
}

/// Shows the protocol and the client, never the input.
impl core::fmt::Debug for OwnedLoginAttempt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OwnedLoginAttempt")
            .field("protocol", &self.protocol)
            .field("input", &"<redacted>")
            .field("client", &self.client)
            .finish()
    }
}

/// The account-password part of a login, handed to the host's password
/// check by [`AsyncEngine::check_login`](super::AsyncEngine::check_login):
/// a copy the check owns (it may carry it into its own async calls), wiped
/// on drop, never shown by `Debug`.
///
/// ```
/// use mail2fa::asynchronous::Password;
///
/// // A host's password check: it owns the copy and may hold it across its
/// // own awaits (a directory's round trip); the copy is wiped when dropped.
/// async fn directory(password: Password) -> Result<bool, std::io::Error> {
///     Ok(password.as_str() == "T9D3K!px")
/// }
/// # let _ = directory;
/// ```
pub struct Password(Zeroizing<String>);

impl Password {
    /// A copy of `password`.
    pub(super) fn copy_of(password: &str) -> Self {
        Self(Zeroizing::new(password.to_owned()))
    }

    /// The password, as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Password {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for Password {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_attempt_gives_back_what_it_was_made_of() {
        let client = ClientInfo {
            device_id: Some("ApplF17XK2QJHG7F"),
            device_type: Some("iPhone"),
            user_agent: Some("Apple-iPhone14C2/2104.100"),
            remote_addr: Some("198.51.100.20"),
        };
        let attempt = LoginAttempt::new(Protocol::ActiveSync, "T9D3K!px").with_client(client);
        let owned = OwnedLoginAttempt::from(&attempt);
        assert_eq!(owned.as_attempt(), attempt);
        assert_eq!(OwnedLoginAttempt::from(attempt.clone()), owned);
    }

    #[test]
    fn secrets_are_never_shown() {
        let owned = OwnedLoginAttempt::new(Protocol::Imap, "T9D3K!px123456");
        assert!(!format!("{owned:?}").contains("T9D3K"));
        let password = Password::copy_of("T9D3K!px");
        assert_eq!(password.as_str(), "T9D3K!px");
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    }
}
