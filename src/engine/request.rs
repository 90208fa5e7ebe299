//! What the host hands the engine for one login of a mail client: the
//! protocol, what the client presented ([`Credential`]) and what is known
//! about the client.

use super::device::ClientInfo;
use super::protocol::Protocol;

/// What the client presented, after the host's own password check.
///
/// Most hosts never build one: [`Engine::check_login`] takes the password
/// field as typed and the host's password check, and builds it inside. A
/// host that checks the password itself — a form with a separate code
/// field — builds one for [`Engine::authenticate`]; when its check fails,
/// it passes the whole input as an [`Credential::AppPassword`] — the engine
/// tells an application password from a wrong password by its shape.
///
/// A whole login of an IMAP client through [`Engine::authenticate`]: the
/// split, the host's password check, the credential, the decision — and an
/// application password, as a phone's mail app sends it over SMTP.
///
/// ```
/// use mail2fa::engine::{
///     AccountId, AllowReason, ClientAnswer, ClientInfo, Credential, Decision, Engine,
///     EngineConfig, LoginRequest, Protocol, ProtocolPolicy,
/// };
/// use mail2fa::store::MemoryStore;
/// use mail2fa::Totp;
///
/// let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
/// let alice = AccountId::new("example.com", "alice@example.com")?;
/// let now = 1_800_000_000;
/// engine.enable_platform("example.com", true)?;
/// // IMAP takes only application passwords by default; this platform lets
/// // IMAP clients type the code after the password instead.
/// let code_in_login = Some(ProtocolPolicy::CodeInLogin);
/// engine.set_platform_policy("example.com", &Protocol::Imap, code_in_login)?;
/// let phone = Totp::from_uri(&engine.enable_account(&alice, now)?)?;
/// engine.confirm_enrollment(&alice, phone.generate(now)?.as_str(), now)?;
///
/// // The host's own password check (its directory, its hashes).
/// let password_ok = |password: &str| password == "T9D3K!px";
///
/// // One login as the host's auth path sees it: protocol and typed input.
/// let login = |protocol: Protocol, input: &str, now: u64| -> mail2fa::Result<Decision> {
///     let (password, code) = engine.split_login_for(&alice, &protocol, input, now)?;
///     let credential = match (password_ok(password), code) {
///         (true, Some(code)) => Credential::PasswordAndCode { correct: true, code },
///         (true, None) => Credential::Password { correct: true },
///         // Not the account password: maybe an application password.
///         (false, _) => Credential::AppPassword(input),
///     };
///     let client = ClientInfo::new()
///         .with_user_agent("Thunderbird/128.3.1")
///         .with_remote_addr("203.0.113.7");
///     engine.authenticate(&alice, &LoginRequest::new(protocol, credential).with_client(client), now)
/// };
///
/// let later = now + 3_600;
/// let typed = format!("T9D3K!px{}", phone.generate(later)?.as_str());
/// assert!(login(Protocol::Imap, &typed, later)?.is_allowed());
/// let wrong = login(Protocol::Imap, "T9D3K!pz123456", later)?;
/// assert_eq!(wrong.client_answer(), ClientAnswer::Refused);
/// assert_eq!(wrong.reason_code().name(), "wrong_password");
///
/// // SMTP takes application passwords (its default policy).
/// let (_, app_password) = engine.create_app_password(&alice, "iphone-mail", &[], now)?;
/// let sent = login(Protocol::Smtp, app_password.as_str(), later)?;
/// assert!(matches!(sent, Decision::Allow { reason: AllowReason::AppPassword { .. }, .. }));
/// # Ok::<(), mail2fa::Error>(())
/// ```
///
/// [`Engine::split_login_for`]: crate::engine::Engine::split_login_for
/// [`Engine::authenticate`]: crate::engine::Engine::authenticate
/// [`Engine::check_login`]: crate::engine::Engine::check_login
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

/// One login, as the host sees it: what [`Engine::authenticate`] decides
/// on ([`Credential`] shows a whole login, from the typed input on).
///
/// ```
/// use mail2fa::engine::{ClientInfo, Credential, LoginRequest, Protocol};
///
/// let outlook = LoginRequest::new(Protocol::Outlook, Credential::Password { correct: true })
///     .with_client(
///         ClientInfo::new()
///             .with_user_agent("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928)")
///             .with_remote_addr("198.51.100.20"),
///     );
/// assert!(outlook.client.is_identifiable());
/// ```
///
/// [`Engine::authenticate`]: crate::engine::Engine::authenticate
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginRequest<'a> {
    /// How the client connects.
    pub protocol: Protocol,
    /// What it presented.
    pub credential: Credential<'a>,
    /// What the host knows about it.
    pub client: ClientInfo<'a>,
}

impl<'a> LoginRequest<'a> {
    /// A login on `protocol` presenting `credential`, from a client the
    /// host knows nothing about ([`LoginRequest::with_client`] adds what
    /// it knows).
    #[must_use]
    pub fn new(protocol: Protocol, credential: Credential<'a>) -> Self {
        Self {
            protocol,
            credential,
            client: ClientInfo::default(),
        }
    }

    /// Sets [`LoginRequest::client`].
    #[must_use]
    pub fn with_client(mut self, client: ClientInfo<'a>) -> Self {
        self.client = client;
        self
    }
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
