//! What is wrong with an encryption key file.

use thiserror::Error;

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
