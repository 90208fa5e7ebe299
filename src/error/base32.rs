//! What is wrong with a base32 string.

use thiserror::Error;

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
