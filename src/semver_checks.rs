//! The public surface's promises, checked by the compiler: each block below
//! is a doctest, compiled as another crate would be, that must fail with the
//! error it names. A type that may grow (`#[non_exhaustive]`) cannot be
//! written as a literal (E0639) or matched without a wildcard arm (E0004)
//! outside this crate, and plumbing is not reachable (E0603). Dropping the
//! attribute, or making the plumbing public again, makes its doctest
//! compile, and fail. The README's "Stability and semver" section states
//! the policy.

#[cfg(doctest)]
/// Structs that may grow are built with `default()`/`new()` and `with_*`.
///
/// ```compile_fail,E0639
/// use mail2fa::engine::EngineConfig;
/// let _ = EngineConfig { issuer: None, ..EngineConfig::default() };
/// ```
///
/// ```compile_fail,E0639
/// use mail2fa::engine::LockoutPolicy;
/// let _ = LockoutPolicy { max_failures: 3, first_lock: 60, max_lock: 3600 };
/// ```
///
/// ```compile_fail,E0639
/// use mail2fa::engine::DeliveredCodePolicy;
/// let _ = DeliveredCodePolicy { digits: 6, lifetime: 180, max_wrong: 3, resend_interval: 30 };
/// ```
///
/// ```compile_fail,E0639
/// use mail2fa::engine::DevicePolicy;
/// let _ = DevicePolicy { max_pending: 3, ..DevicePolicy::default() };
/// ```
///
/// ```compile_fail,E0639
/// use mail2fa::engine::ClientInfo;
/// let _ = ClientInfo { device_id: None, device_type: None, user_agent: None, remote_addr: None };
/// ```
///
/// ```compile_fail,E0639
/// use mail2fa::engine::{ClientInfo, Credential, LoginRequest, Protocol};
/// let _ = LoginRequest {
///     protocol: Protocol::Imap,
///     credential: Credential::Password { correct: true },
///     client: ClientInfo::new(),
/// };
/// ```
///
/// ```compile_fail,E0639
/// use mail2fa::engine::{ClientInfo, LoginAttempt, Protocol};
/// let _ = LoginAttempt { protocol: Protocol::Imap, input: "pw", client: ClientInfo::new() };
/// ```
///
/// ```compile_fail,E0639
/// use mail2fa::engine::{Channel, IssuedCode};
/// let _ = IssuedCode { code: Default::default(), channel: Channel::Sms(String::new()), expires_at: 0 };
/// ```
struct GrowingStructs;

#[cfg(doctest)]
/// Enums that may grow need a wildcard arm.
///
/// ```compile_fail,E0004
/// use mail2fa::engine::Mode;
/// fn name(mode: Mode) -> &'static str {
///     match mode {
///         Mode::Totp => "totp",
///         Mode::Email => "email",
///         Mode::Sms => "sms",
///     }
/// }
/// ```
///
/// ```compile_fail,E0004
/// use mail2fa::engine::Channel;
/// fn to(channel: &Channel) -> &str {
///     match channel {
///         Channel::Email(address) => address,
///         Channel::Sms(number) => number,
///     }
/// }
/// ```
///
/// ```compile_fail,E0004
/// use mail2fa::engine::ProtocolPolicy;
/// fn strict(policy: ProtocolPolicy) -> bool {
///     match policy {
///         ProtocolPolicy::CodeInLogin => false,
///         ProtocolPolicy::DeviceAuthorization => true,
///         ProtocolPolicy::AppPasswordOnly => true,
///         ProtocolPolicy::Refused => true,
///     }
/// }
/// ```
///
/// ```compile_fail,E0004
/// use mail2fa::engine::ProtocolCode;
/// fn interactive(code: ProtocolCode) -> bool {
///     match code {
///         ProtocolCode::Webmail | ProtocolCode::Portal => true,
///         ProtocolCode::Activesync | ProtocolCode::Outlook | ProtocolCode::Imap => false,
///         ProtocolCode::Pop3 | ProtocolCode::Smtp | ProtocolCode::RpcOverHttp => false,
///         ProtocolCode::Other => false,
///     }
/// }
/// ```
///
/// ```compile_fail,E0004
/// use mail2fa::engine::Credential;
/// fn has_code(credential: Credential<'_>) -> bool {
///     match credential {
///         Credential::Password { .. } => false,
///         Credential::PasswordAndCode { .. } => true,
///         Credential::AppPassword(_) => false,
///     }
/// }
/// ```
///
/// ```compile_fail,E0004
/// use mail2fa::engine::ReasonCode;
/// fn known(reason: ReasonCode) -> bool {
///     match reason {
///         ReasonCode::None => true,
///         ReasonCode::NoSecondFactor => true,
///         ReasonCode::CodeAccepted => true,
///         ReasonCode::Suspended => true,
///         ReasonCode::Enrolled => true,
///         ReasonCode::DeliveredCodeAccepted => true,
///         ReasonCode::RecoveryCodeUsed => true,
///         ReasonCode::DeviceAuthorized => true,
///         ReasonCode::DeviceTrusted => true,
///         ReasonCode::AppPassword => true,
///         ReasonCode::MalformedCode => true,
///         ReasonCode::WrongCode => true,
///         ReasonCode::ClockSkew => true,
///         ReasonCode::Replayed => true,
///         ReasonCode::Locked => true,
///         ReasonCode::EnrollmentExpired => true,
///         ReasonCode::CodeExpired => true,
///         ReasonCode::NoCodeIssued => true,
///         ReasonCode::WrongPassword => true,
///         ReasonCode::ProtocolRefused => true,
///         ReasonCode::AppPasswordRequired => true,
///         ReasonCode::AppPasswordNotAccepted => true,
///         ReasonCode::AppPasswordOutOfScope => true,
///         ReasonCode::WrongAppPassword => true,
///         ReasonCode::DeviceUnidentified => true,
///         ReasonCode::TooManyPendingDevices => true,
///         ReasonCode::NotEnrolled => true,
///     }
/// }
/// ```
struct GrowingEnums;

#[cfg(doctest)]
/// The engine's read-modify-write loop is the crate's own.
///
/// ```compile_fail,E0603
/// use mail2fa::store::read_modify_write;
/// ```
///
/// ```compile_fail,E0603
/// use mail2fa::store::Change;
/// ```
///
/// Only the crate's own stores vouch for their records' integrity
/// (`Store::load_login_vouched`), and only the engine tells a store that a
/// record is one it has just encoded (`Store::compare_and_swap_encoded`):
/// their argument's type cannot be named or made elsewhere, so no other
/// crate can override or call them.
///
/// ```compile_fail,E0603
/// use mail2fa::store::Sealed;
/// ```
struct Plumbing;

#[cfg(all(doctest, feature = "sqlite"))]
/// The SQLite store's options and durability levels may grow.
///
/// ```compile_fail,E0639
/// use mail2fa::store::SqliteOptions;
/// let _ = SqliteOptions { create: true, ..SqliteOptions::default() };
/// ```
///
/// ```compile_fail,E0004
/// use mail2fa::store::Synchronous;
/// fn durable(synchronous: Synchronous) -> bool {
///     match synchronous {
///         Synchronous::Full => true,
///         Synchronous::Normal => false,
///     }
/// }
/// ```
struct SqliteSurface;

#[cfg(all(doctest, feature = "postgres"))]
/// The PostgreSQL store's options may grow.
///
/// ```compile_fail,E0639
/// use mail2fa::store::PostgresOptions;
/// let _ = PostgresOptions { create: true, ..PostgresOptions::default() };
/// ```
struct PostgresSurface;
