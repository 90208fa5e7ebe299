//! What is wrong with a platform or account name.

use thiserror::Error;

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
