//! What is wrong with an `otpauth://` URI.

use thiserror::Error;

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
