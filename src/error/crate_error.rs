//! The crate's one error type: each concern's error wrapped (base32, URI,
//! names, key files, stored records, the store), beside what the OTP
//! arithmetic, the secrets and the engine refuse themselves.
//!
//! Messages are written for the operator reading a log: they say what was wrong
//! with the input, never echo a secret, a code or a password, and never quote
//! the offending characters of a secret (only their position).

use thiserror::Error;

use super::base32::Base32Error;
use super::key_file::KeyFileError;
use super::name::NameError;
use super::uri::UriError;
use crate::record::RecordError;
use crate::store::error::StoreError;

/// Everything that can go wrong in mail2fa.
///
/// The enum is `#[non_exhaustive]`: later versions add variants (storage,
/// engine) without breaking callers that match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// Number of digits outside 6..=10.
    #[error("a one-time code has 6 to 10 digits, not {0}")]
    InvalidDigits(u32),
    /// TOTP period of zero seconds or above [`crate::MAX_PERIOD`].
    #[error("the TOTP period must be 1 to {} seconds", crate::MAX_PERIOD)]
    InvalidPeriod,
    /// Verification window larger than [`crate::MAX_WINDOW`].
    #[error("the verification window is at most {max} steps, not {requested}")]
    InvalidWindow {
        /// The window asked for.
        requested: u32,
        /// The largest window accepted.
        max: u32,
    },
    /// The time given lies before the TOTP epoch `T0`.
    #[error("time {time} lies before the TOTP epoch T0 = {t0}")]
    TimeBeforeT0 {
        /// Unix time given.
        time: u64,
        /// Configured T0.
        t0: u64,
    },
    /// A counter or time step that does not fit in 64 bits.
    #[error("counter or time step out of the 64-bit range")]
    CounterOutOfRange,
    /// The presented code is not exactly `expected_digits` ASCII digits.
    #[error("a code must be exactly {expected_digits} ASCII digits")]
    MalformedCode {
        /// Digits the credential uses.
        expected_digits: u8,
    },
    /// A secret shorter than [`crate::Secret::MIN_LEN`] bytes.
    #[error("a secret must be at least {min} bytes (RFC 4226 §4), this one has {len}")]
    SecretTooShort {
        /// Length given.
        len: usize,
        /// Minimum accepted.
        min: usize,
    },
    /// A secret longer than [`crate::Secret::MAX_LEN`] bytes.
    #[error("a secret must be at most {max} bytes, this one has {len}")]
    SecretTooLong {
        /// Length given.
        len: usize,
        /// Maximum accepted.
        max: usize,
    },
    /// Malformed base32 text.
    #[error("invalid base32: {0}")]
    Base32(#[from] Base32Error),
    /// Malformed or inconsistent `otpauth://` URI, or label parts that cannot be
    /// put in one.
    #[error("invalid otpauth URI: {0}")]
    Uri(#[from] UriError),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// The text does not fit in a QR code.
    #[error("the text is too long for a QR code")]
    QrTooLong,
    /// A stored record cannot be read (corrupt, unknown version, wrong kind).
    #[error("stored record unreadable: {0}")]
    Record(#[from] RecordError),
    /// The storage backend failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// 2FA is not enabled for the account's platform.
    #[error("two-factor authentication is not enabled for this platform")]
    PlatformDisabled,
    /// The account already has 2FA (pending or enrolled).
    #[error("two-factor authentication is already enabled for this account")]
    AlreadyEnabled,
    /// The account has no 2FA.
    #[error("two-factor authentication is not enabled for this account")]
    NotEnabled,
    /// An engine configuration value out of range, or a bad name.
    #[error("invalid engine configuration: {0}")]
    InvalidConfig(&'static str),
    /// Input refused before any check (NUL byte, over-long).
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// The account's mode needs a destination (e-mail address, phone
    /// number) that is not set, or the mode sends no codes (TOTP).
    #[error("no destination for codes in this verification mode")]
    NoContact,
    /// An encrypted record cannot be opened (no key, unknown key id, wrong
    /// key, damaged), or sealing failed: the login is refused.
    #[error("encryption at rest: {0}")]
    Encryption(&'static str),
    /// No such device token or application password in the account.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A per-account limit (device tokens, application passwords, policy
    /// overrides) is reached.
    #[error("limit reached: {0}")]
    LimitReached(&'static str),
    /// The host's password check could not answer (its directory is down):
    /// the login is refused and nothing is recorded.
    #[error("the host's password check could not answer; the login is refused")]
    PasswordCheckFailed,
    /// An engine call the async façade moved off the runtime did not
    /// finish: the blocking task panicked, or its runtime shut down. The
    /// login is refused; whether a write it had begun committed is not
    /// known (each write is atomic: all of it or none).
    #[error("the engine call did not finish: its blocking task panicked or was cancelled")]
    Interrupted,
    /// Another e-mail/SMS code was issued too recently.
    #[error("a code was sent recently; try again at {retry_at}")]
    RateLimited {
        /// Unix time from which a new code may be issued.
        retry_at: u64,
    },
    /// An encryption key file cannot be used (see
    /// [`crate::engine::EncryptionKeys::from_key_file`]).
    #[error("encryption key file {}: {problem}", path.display())]
    KeyFile {
        /// The file, as given.
        path: std::path::PathBuf,
        /// What is wrong with it.
        problem: KeyFileError,
    },
    /// A platform or account name outside the alphabet of
    /// [`crate::engine::AccountId::new`] (one spelling per account): the
    /// login or change is refused.
    #[error("invalid {what}: {problem}")]
    InvalidName {
        /// `"platform name"` or `"account name"`.
        what: &'static str,
        /// What is wrong with it.
        problem: NameError,
    },
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
