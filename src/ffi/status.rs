//! Status codes and their messages.

use crate::enum_table::c_enum_table;
use crate::error::{Error, UriError};

/// What every `m2fa_*` function returns. The numbers are part of the ABI:
/// they never change and are never reused. Groups: 0–99 outcomes, 100–199
/// misuse of the API, 200–299 OTP parameters and codes, 300–399 secrets,
/// 400–499 URIs, 500–599 QR codes, 600–699 storage, 700–799 the engine,
/// 900–999 internal errors.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum m2fa_status {
    /// Success. For verification: the code matched.
    M2FA_OK = 0,
    /// Verification: a well-formed code that does not match. Not an error of
    /// use — the answer "no".
    M2FA_CODE_MISMATCH = 1,
    /// A required pointer argument was NULL.
    M2FA_NULL_ARGUMENT = 100,
    /// A string argument is not valid UTF-8.
    M2FA_INVALID_UTF8 = 101,
    /// The output buffer is too small; `*needed` holds the size required.
    M2FA_BUFFER_TOO_SMALL = 102,
    /// An enumeration argument has a value this version does not know.
    M2FA_UNKNOWN_ENUM_VALUE = 103,
    /// The library was built without the feature this call needs.
    M2FA_UNSUPPORTED = 104,
    /// The call does not apply to this object (e.g. the counter of a TOTP URI).
    M2FA_INVALID_ARGUMENT = 105,
    /// Digits outside 6..=10.
    M2FA_INVALID_DIGITS = 200,
    /// A TOTP period of 0 or above `M2FA_MAX_PERIOD`.
    M2FA_INVALID_PERIOD = 201,
    /// A verification window above `M2FA_MAX_WINDOW`.
    M2FA_INVALID_WINDOW = 202,
    /// The time given lies before the TOTP epoch T0.
    M2FA_TIME_BEFORE_T0 = 203,
    /// A counter or time step outside the 64-bit range.
    M2FA_COUNTER_OUT_OF_RANGE = 204,
    /// The presented code is not exactly the configured number of ASCII digits.
    M2FA_MALFORMED_CODE = 205,
    /// A secret shorter than 16 bytes.
    M2FA_SECRET_TOO_SHORT = 300,
    /// A secret longer than 128 bytes.
    M2FA_SECRET_TOO_LONG = 301,
    /// Malformed base32 text.
    M2FA_INVALID_BASE32 = 302,
    /// The operating system's random number generator failed.
    M2FA_RANDOM_FAILURE = 303,
    /// A malformed `otpauth://` URI.
    M2FA_INVALID_URI = 400,
    /// The issuer in the URI's label and its `issuer` parameter differ.
    M2FA_URI_ISSUER_MISMATCH = 401,
    /// An issuer or account name that cannot be put in a label (empty,
    /// contains `:` or control characters, too long).
    M2FA_INVALID_LABEL = 402,
    /// The text does not fit in a QR code.
    M2FA_QR_TOO_LONG = 500,
    /// The storage backend failed; the login must be refused.
    M2FA_STORAGE_FAILURE = 600,
    /// A stored record is corrupt, of an unknown format version or of the
    /// wrong kind; the login must be refused (it is never read as "no 2FA").
    M2FA_CORRUPT_RECORD = 601,
    /// The record kept changing under concurrent writers; try again.
    M2FA_STORAGE_CONTENTION = 602,
    /// An encrypted record cannot be opened (no key, unknown key id, wrong
    /// key, damaged): refuse the login.
    M2FA_ENCRYPTION_FAILURE = 603,
    /// An encryption key file cannot be used: missing or unreadable, not a
    /// regular file, readable or writable by group or others, over 64 KiB,
    /// a line that is not `ID:KEY`, a key id given twice, or no key.
    M2FA_INVALID_KEY_FILE = 604,
    /// 2FA is not enabled for the account's platform.
    M2FA_PLATFORM_DISABLED = 700,
    /// The account already has 2FA.
    M2FA_ALREADY_ENABLED = 701,
    /// The account has no 2FA (or no confirmed one, for self-service).
    M2FA_NOT_ENABLED = 702,
    /// An engine configuration value, or a name other than a platform or
    /// account name (issuer, application password name...), is invalid.
    M2FA_INVALID_CONFIG = 703,
    /// Input refused outright: login input with a NUL byte or too long, a
    /// suspension longer than the configured maximum.
    M2FA_INVALID_INPUT = 704,
    /// The verification mode needs a destination that is not set.
    M2FA_NO_CONTACT = 705,
    /// A code was issued too recently; `*retry_at` says when to try again.
    M2FA_RATE_LIMITED = 706,
    /// No such device token or application password.
    M2FA_NOT_FOUND = 707,
    /// A per-account limit is reached (device tokens, application
    /// passwords, policy overrides).
    M2FA_LIMIT_REACHED = 708,
    /// A platform or account name outside mail2fa's alphabet (one spelling
    /// per account: lower-case ASCII, see `m2fa_account_name_check`):
    /// refuse the login, never retry with the name as it is.
    M2FA_INVALID_NAME = 709,
    /// The host's password check (the callback of `m2fa_engine_check_login`)
    /// could not answer: the login is refused, nothing recorded.
    M2FA_PASSWORD_CHECK_FAILED = 710,
    /// The configuration file (or a file it names: key file, password
    /// file, device key file) cannot be used: unreadable, open to others
    /// or owned by another user, not valid TOML, an unknown key or a bad
    /// value. `m2fa_engine_open_config_message` says which file, line and
    /// column, and the fix.
    M2FA_INVALID_CONFIG_FILE = 711,
    /// A bug in mail2fa: a Rust panic was caught at the boundary. Please report it.
    M2FA_INTERNAL_PANIC = 900,
}

/// Largest verification window accepted (steps each side / look-ahead).
/// (A literal, so that cbindgen can write it; a test ties it to the crate's.)
pub const M2FA_MAX_WINDOW: u32 = 50;

c_enum_table! {
    impl m2fa_status {
        /// A one-line English description, free of any secret.
        pub fn message(self) -> &'static str;
        M2FA_OK => "success",
        M2FA_CODE_MISMATCH => "the code does not match",
        M2FA_NULL_ARGUMENT => "a required pointer argument was NULL",
        M2FA_INVALID_UTF8 => "a string argument is not valid UTF-8",
        M2FA_BUFFER_TOO_SMALL => "the output buffer is too small",
        M2FA_UNKNOWN_ENUM_VALUE => "unknown enumeration value",
        M2FA_UNSUPPORTED => "this build of mail2fa does not include the feature",
        M2FA_INVALID_ARGUMENT => "the call does not apply to this object",
        M2FA_INVALID_DIGITS => "a one-time code has 6 to 10 digits",
        M2FA_INVALID_PERIOD => "the TOTP period must be 1 to 300 seconds",
        M2FA_INVALID_WINDOW => "the verification window is too large",
        M2FA_TIME_BEFORE_T0 => "the time lies before the TOTP epoch T0",
        M2FA_COUNTER_OUT_OF_RANGE => "counter or time step out of the 64-bit range",
        M2FA_MALFORMED_CODE => "the code is not the expected number of ASCII digits",
        M2FA_SECRET_TOO_SHORT => "a secret must be at least 16 bytes",
        M2FA_SECRET_TOO_LONG => "a secret must be at most 128 bytes",
        M2FA_INVALID_BASE32 => "invalid base32 text",
        M2FA_RANDOM_FAILURE => "the operating system's random number generator failed",
        M2FA_INVALID_URI => "malformed otpauth URI",
        M2FA_URI_ISSUER_MISMATCH => "the issuer in the URI label and the issuer parameter differ",
        M2FA_INVALID_LABEL => "issuer or account name is empty, too long, or contains ':' or control characters",
        M2FA_QR_TOO_LONG => "the text is too long for a QR code",
        M2FA_STORAGE_FAILURE => "the storage backend failed",
        M2FA_CORRUPT_RECORD => "a stored record is corrupt or of an unknown version",
        M2FA_STORAGE_CONTENTION => "the record kept changing under concurrent writers",
        M2FA_ENCRYPTION_FAILURE => "an encrypted record cannot be opened (missing or wrong key)",
        M2FA_INVALID_KEY_FILE => "the encryption key file is unreadable, open to others, too large or malformed",
        M2FA_PLATFORM_DISABLED => "two-factor authentication is off for this platform",
        M2FA_ALREADY_ENABLED => "two-factor authentication is already enabled",
        M2FA_NOT_ENABLED => "two-factor authentication is not enabled",
        M2FA_INVALID_CONFIG => "invalid configuration value or name",
        M2FA_INVALID_INPUT => "input refused (NUL byte, too long or out of range)",
        M2FA_NO_CONTACT => "no destination for codes in this verification mode",
        M2FA_RATE_LIMITED => "a code was sent recently; try again later",
        M2FA_NOT_FOUND => "no such device token or application password",
        M2FA_LIMIT_REACHED => "a per-account limit is reached",
        M2FA_INVALID_NAME => "platform or account name outside mail2fa's alphabet (lower-case ASCII, one spelling per account)",
        M2FA_PASSWORD_CHECK_FAILED => "the host's password check could not answer; the login is refused",
        M2FA_INVALID_CONFIG_FILE => "the configuration file, or a file it names, cannot be used",
        M2FA_INTERNAL_PANIC => "internal error in mail2fa (a bug; please report it)",
    }
}

impl From<Error> for m2fa_status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidDigits(_) => Self::M2FA_INVALID_DIGITS,
            Error::InvalidPeriod => Self::M2FA_INVALID_PERIOD,
            Error::InvalidWindow { .. } => Self::M2FA_INVALID_WINDOW,
            Error::TimeBeforeT0 { .. } => Self::M2FA_TIME_BEFORE_T0,
            Error::CounterOutOfRange => Self::M2FA_COUNTER_OUT_OF_RANGE,
            Error::MalformedCode { .. } => Self::M2FA_MALFORMED_CODE,
            Error::SecretTooShort { .. } => Self::M2FA_SECRET_TOO_SHORT,
            Error::SecretTooLong { .. } => Self::M2FA_SECRET_TOO_LONG,
            Error::Base32(_) => Self::M2FA_INVALID_BASE32,
            Error::Uri(UriError::IssuerMismatch) => Self::M2FA_URI_ISSUER_MISMATCH,
            Error::Uri(UriError::Label | UriError::LabelTooLong) => Self::M2FA_INVALID_LABEL,
            Error::Uri(_) => Self::M2FA_INVALID_URI,
            Error::Random => Self::M2FA_RANDOM_FAILURE,
            Error::QrTooLong => Self::M2FA_QR_TOO_LONG,
            Error::Record(_) => Self::M2FA_CORRUPT_RECORD,
            Error::Store(crate::store::StoreError::Contention { .. }) => {
                Self::M2FA_STORAGE_CONTENTION
            }
            Error::Store(crate::store::StoreError::Unsupported) => Self::M2FA_UNSUPPORTED,
            Error::Store(_) => Self::M2FA_STORAGE_FAILURE,
            Error::PlatformDisabled => Self::M2FA_PLATFORM_DISABLED,
            Error::AlreadyEnabled => Self::M2FA_ALREADY_ENABLED,
            Error::NotEnabled => Self::M2FA_NOT_ENABLED,
            Error::InvalidConfig(_) => Self::M2FA_INVALID_CONFIG,
            Error::InvalidInput(_) => Self::M2FA_INVALID_INPUT,
            Error::NoContact => Self::M2FA_NO_CONTACT,
            Error::RateLimited { .. } => Self::M2FA_RATE_LIMITED,
            Error::NotFound(_) => Self::M2FA_NOT_FOUND,
            Error::LimitReached(_) => Self::M2FA_LIMIT_REACHED,
            Error::Encryption(_) => Self::M2FA_ENCRYPTION_FAILURE,
            Error::KeyFile { .. } => Self::M2FA_INVALID_KEY_FILE,
            Error::InvalidName { .. } => Self::M2FA_INVALID_NAME,
            Error::PasswordCheckFailed => Self::M2FA_PASSWORD_CHECK_FAILED,
            // Only the async façade, which C does not reach, reports it.
            Error::Interrupted => Self::M2FA_INTERNAL_PANIC,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_and_has_a_message() {
        for status in m2fa_status::ALL {
            assert_eq!(m2fa_status::from_u32(status as u32), Some(status));
            assert!(!status.message().is_empty());
        }
        assert_eq!(m2fa_status::from_u32(2), None);
        assert_eq!(m2fa_status::from_u32(u32::MAX), None);
    }

    #[test]
    fn max_window_matches_the_crate() {
        assert_eq!(M2FA_MAX_WINDOW, crate::otp::MAX_WINDOW);
    }
}
