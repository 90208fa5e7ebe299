//! The one error type of the crate.
//!
//! Messages are written for the operator reading a log: they say what was wrong
//! with the input, never echo a secret, a code or a password, and never quote
//! the offending characters of a secret (only their position).

use thiserror::Error;

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
    Record(#[from] crate::record::RecordError),
    /// The storage backend failed.
    #[error("storage: {0}")]
    Store(#[from] crate::store::StoreError),
    /// 2FA is not enabled for the account's platform (S1).
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

/// What is wrong with a platform or account name (see
/// [`crate::engine::AccountId::new`]). Positions count bytes from 0; no
/// message quotes the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameError {
    /// Nothing at all.
    #[error("it is empty")]
    Empty,
    /// Longer than the whole name may be.
    #[error("longer than {max} bytes")]
    TooLong {
        /// The most accepted.
        max: usize,
    },
    /// The part before `@` is too long.
    #[error("the part before '@' is longer than {max} bytes")]
    LocalPartTooLong {
        /// The most accepted.
        max: usize,
    },
    /// A label of the domain is too long.
    #[error("a domain label is longer than {max} bytes")]
    LabelTooLong {
        /// The most accepted.
        max: usize,
    },
    /// An upper-case ASCII letter.
    #[error(
        "upper-case letter at byte {position}: names are lower case (let the host lower-case them, e.g. Dovecot's auth_username_format = %Lu)"
    )]
    UpperCase {
        /// Byte offset in the name.
        position: usize,
    },
    /// A byte of a non-ASCII character.
    #[error(
        "non-ASCII character at byte {position}: the host must map internationalized names to one ASCII spelling (domains as Punycode A-labels) before calling"
    )]
    NonAscii {
        /// Byte offset in the name.
        position: usize,
    },
    /// Another character outside the alphabet (white space, `\`, `%`,
    /// `:`, `_` in a domain...).
    #[error(
        "character at byte {position} is not allowed (an account name has a-z, 0-9, '.', '-', '_', '+' and one '@'; a domain or platform a-z, 0-9, '-' and '.')"
    )]
    Character {
        /// Byte offset in the name.
        position: usize,
    },
    /// Punctuation that begins or ends a part or label, or a dot after a dot.
    #[error(
        "misplaced punctuation at byte {position} (every part and domain label begins and ends with a letter or digit; no two dots in a row)"
    )]
    Misplaced {
        /// Byte offset in the name.
        position: usize,
    },
    /// A second `@`, or one with nothing before or after it.
    #[error("'@' at byte {position}: at most one, between a name and a domain")]
    MisplacedAt {
        /// Byte offset in the name.
        position: usize,
    },
}

/// What is wrong with an encryption key file. Lines count from 1. No
/// message holds key material: a bad line is named by its number only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file cannot be opened or read (missing, no permission, I/O error).
    #[error("cannot be read: {}", io_text(*kind, *os_error))]
    Unreadable {
        /// What kind of failure.
        kind: std::io::ErrorKind,
        /// The operating system's error number, when there is one.
        os_error: Option<i32>,
    },
    /// A directory, a device, a pipe... not a regular file.
    #[error("not a regular file")]
    NotRegularFile,
    /// Group or others may read or write it.
    #[error(
        "group or others have access to it (mode {mode:04o}); make it mode 0600 or 0400 \
         (`chmod 600` it)"
    )]
    Permissions {
        /// The file's permission bits.
        mode: u32,
    },
    /// Larger than [`crate::engine::MAX_KEY_FILE_LEN`] bytes.
    #[error("larger than {max} bytes, too large to be a key file")]
    TooLarge {
        /// The largest size accepted.
        max: usize,
    },
    /// A line that is neither blank, nor a `#` comment, nor `ID:KEY`.
    #[error("line {line} is not ID:KEY (a decimal key id, a colon, then 64 hex digits)")]
    MalformedLine {
        /// The line's number.
        line: usize,
    },
    /// A key id already given on an earlier line.
    #[error("line {line} repeats key id {id}")]
    DuplicateId {
        /// The line's number.
        line: usize,
        /// The repeated id.
        id: u32,
    },
    /// Only blank lines and comments.
    #[error("holds no key")]
    NoKey,
    /// It belongs to a user other than the process's effective user and
    /// root: that user could replace the keys.
    #[error(
        "it belongs to user id {owner}, not to this process's user ({uid}) or root; \
         `chown {uid}` it (or run as its owner)"
    )]
    Owner {
        /// The file's owner.
        owner: u32,
        /// The process's effective user id.
        uid: u32,
    },
}

/// An I/O failure as the operating system words it.
fn io_text(kind: std::io::ErrorKind, os_error: Option<i32>) -> String {
    match os_error {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => std::io::Error::from(kind).to_string(),
    }
}

/// What is wrong with a base32 string. Positions count bytes from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Base32Error {
    /// Nothing to decode.
    #[error("the text is empty")]
    Empty,
    /// A byte that is not in the RFC 4648 alphabet, a group separator or padding.
    #[error("character at position {position} is not in the base32 alphabet")]
    InvalidCharacter {
        /// Byte offset in the input.
        position: usize,
    },
    /// A space or hyphen at the start or end, doubled, or next to padding.
    #[error("misplaced group separator at position {position}")]
    MisplacedSeparator {
        /// Byte offset in the input.
        position: usize,
    },
    /// `=` padding in the wrong place or of the wrong amount.
    #[error("invalid padding")]
    InvalidPadding,
    /// A number of symbols that no byte string encodes to.
    #[error("{symbols} symbols cannot encode whole bytes")]
    InvalidLength {
        /// Count of alphabet symbols seen.
        symbols: usize,
    },
    /// The last symbol carries bits beyond the last whole byte that are not
    /// zero (RFC 4648 §3.5): another spelling of a shorter text.
    #[error("the symbol at position {position} has non-zero leftover bits")]
    NonZeroTrailingBits {
        /// Byte offset of the last symbol in the input.
        position: usize,
    },
}

/// What is wrong with an `otpauth://` URI or with the label parts given to
/// build one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UriError {
    /// Longer than [`crate::uri::MAX_URI_LEN`] bytes.
    #[error("longer than the maximum length")]
    TooLong,
    /// Does not start with `otpauth://`.
    #[error("the scheme is not otpauth://")]
    Scheme,
    /// The type is neither `totp` nor `hotp`.
    #[error("the type is neither totp nor hotp")]
    UnknownType,
    /// A `#fragment`, which the format does not have.
    #[error("a fragment is not allowed")]
    Fragment,
    /// A `%` not followed by two hex digits.
    #[error("bad percent-encoding")]
    PercentEncoding,
    /// Decoded text is not UTF-8.
    #[error("decoded text is not valid UTF-8")]
    Utf8,
    /// A NUL or other control character.
    #[error("control characters are not allowed")]
    ControlCharacter,
    /// Empty account name or issuer, one with leading or trailing white
    /// space, or a second colon in the label.
    #[error(
        "the label must be `account` or `issuer:account`, both non-empty, without another colon or surrounding white space"
    )]
    Label,
    /// An issuer or account name longer than [`crate::uri::MAX_LABEL_PART_LEN`] bytes.
    #[error("issuer or account name is too long")]
    LabelTooLong,
    /// Issuer in the label and `issuer=` parameter differ.
    #[error("the issuer in the label and the issuer parameter differ")]
    IssuerMismatch,
    /// An empty `&&` segment or a parameter without `=`.
    #[error("malformed query parameter")]
    MalformedParameter,
    /// A known parameter given twice.
    #[error("parameter `{0}` appears more than once")]
    DuplicateParameter(&'static str),
    /// A required parameter is absent.
    #[error("parameter `{0}` is missing")]
    MissingParameter(&'static str),
    /// A parameter that does not belong to this type (`counter` on TOTP, `period` on HOTP).
    #[error("parameter `{0}` does not belong to this OTP type")]
    UnexpectedParameter(&'static str),
    /// A parameter with a value out of range or of the wrong form.
    #[error("parameter `{0}` has an invalid value")]
    InvalidParameter(&'static str),
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
