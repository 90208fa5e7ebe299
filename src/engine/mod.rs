//! The 2FA engine: platforms, accounts, enrollment, one-time verification
//! and lockout, on top of a [`Store`].
//!
//! The host authenticates the password itself; the engine answers the
//! second-factor question with a [`Decision`]. Every state change is one
//! atomic read-modify-write of the account's record, decided by a pure
//! function of the record and the input, so concurrent logins on any
//! number of threads (or processes and hosts sharing a store) can never both
//! consume a code or both skip a lockout. Time is always a parameter.
//!
//! This release covers what `docs/behaviour.md` describes (the story
//! numbers in code comments refer to it): TOTP, e-mail and SMS codes,
//! recovery codes ([`Engine::login`]), and the mail-client side — protocols,
//! device tokens, notifications, application passwords, device binding — in
//! one call per login ([`Engine::check_login`], with the host's password
//! check; [`Engine::authenticate`] when the host has checked it already); `src/ffi/` exports it to C,
//! one file per C object family.
//!
//! ```
//! use mail2fa::engine::{AccountId, ClientAnswer, Decision, Engine, EngineConfig};
//! use mail2fa::store::MemoryStore;
//! use mail2fa::Totp;
//!
//! let engine = Engine::new(MemoryStore::new(), EngineConfig::default())?;
//! let alice = AccountId::new("example.com", "alice@example.com")?;
//! let now = 1_800_000_000;
//!
//! engine.enable_platform("example.com", true)?;
//! let uri = engine.enable_account(&alice, now)?; // show it as a QR code
//! let totp = Totp::from_uri(&uri)?;                         // what the app scanned
//!
//! let code = totp.generate(now)?;
//! assert!(engine.confirm_enrollment(&alice, code.as_str(), now)?.is_allowed());
//! let next = totp.generate(now + 30)?;
//! assert!(engine.login(&alice, Some(next.as_str()), now + 30)?.is_allowed());
//! // The same code again: refused, and the client cannot tell why.
//! let replay = engine.login(&alice, Some(next.as_str()), now + 31)?;
//! assert_eq!(replay.client_answer(), ClientAnswer::Refused);
//! # Ok::<(), mail2fa::Error>(())
//! ```
//!
//! [`Store`]: crate::store::Store

// The engine's state and what every job shares, then its configuration and
// identifiers; the jobs below add their own `impl Engine` blocks.
mod core;

mod account; // the account and platform records and their encoding
mod account_id; // `AccountId` and the store keys
mod account_name; // the alphabet of platform and account names
mod app_passwords; // application passwords (S16)
mod authenticate; // one decision per mail-client login (S12–S16)
mod binding; // device binding: trusted password+code strings
mod check_login; // one call per login: input and password check in, decision out
mod clients; // the clients record: device tokens, bindings, app passwords
mod codes; // random codes and their salted tags
mod config; // `EngineConfig`, its policies and limits
mod contact; // e-mail and SMS destinations
mod decision; // what a login decision says
mod delivered_codes; // e-mail/SMS codes: mode, issuing, checking (S3, S6)
mod device; // device fingerprints and client information
mod device_tokens; // where device tokens change state (S12–S14)
mod lifecycle; // enable, suspend, reset, remove, unlock (S2, S8–S11)
mod login; // where a code login is decided, lockout (S7)
mod maintain; // expiry of dead state in batches
mod notify; // the message about a blocked device (S13)
mod platform; // the platform switch and mandatory platforms (S1)
mod protocol; // protocols and their default policies
mod protocol_policy; // platform and account policy overrides (S15)
mod recovery; // recovery codes
mod request; // what the host hands in for one login
mod reseal; // sealing a store written in clear
mod seal; // encryption at rest
mod sessions; // portal sign-ins kept in the store
mod split; // password+code strings (S5)
mod status; // what an operator may read; the record check

pub use self::core::Engine;
pub use account::Mode;
pub use account_id::AccountId;
pub use account_name::{MAX_ACCOUNT_NAME_LEN, MAX_LOCAL_PART_LEN, MAX_PLATFORM_NAME_LEN};
#[cfg(feature = "capi")]
pub(crate) use check_login::PreparedLogin;
pub use check_login::{LoginAttempt, PasswordVerdict};
pub use clients::{
    AppPasswordInfo, DeviceState, DeviceToken, MAX_APP_PASSWORDS, MAX_BINDINGS, MAX_DEVICES,
};
pub use config::{
    DeliveredCodePolicy, DevicePolicy, EngineConfig, LockoutPolicy, MAX_BINDING_PERIOD,
    MAX_DELIVERED_CODE_SECONDS, MAX_ENROLLMENT_TTL, MAX_LOCK, MAX_MANDATORY_PLATFORMS,
    MAX_SUSPENSION,
};
pub use contact::{Channel, MAX_EMAIL_LEN};
pub use decision::{AllowReason, AuditEvent, ClientAnswer, Decision, DenyReason, ReasonCode};
pub use delivered_codes::IssuedCode;
pub use device::{ClientInfo, DeviceId, DeviceKey, MAX_CLIENT_FIELD};
pub use maintain::Maintenance;
pub use notify::{Notification, format_utc};
pub use protocol::{MAX_PROTOCOL_NAME, Protocol, ProtocolCode, ProtocolName, ProtocolPolicy};
pub use request::{Credential, LoginRequest};
pub use seal::{EncryptionKeys, MAX_KEY_FILE_LEN};
pub use sessions::{MAX_SESSION_AGE, MAX_SESSION_IDLE, PortalSession, SessionStage, SessionToken};
pub use split::{MAX_LOGIN_INPUT, split_password_and_code};
pub use status::{AccountStatus, Enrollment, MAX_LISTED_PROBLEMS, PlatformStatus, RecordCheck};
