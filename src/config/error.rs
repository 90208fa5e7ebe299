//! What can be wrong with a configuration: where, and what to do.

use std::path::PathBuf;

use thiserror::Error;

use crate::store::StoreError;

/// A place in a configuration file: `origin:line:column`, both counted
/// from 1 (the column in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// The file's path (or the origin given to [`Config::parse`]).
    ///
    /// [`Config::parse`]: super::Config::parse
    pub origin: String,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

impl core::fmt::Display for Location {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}:{}", self.origin, self.line, self.column)
    }
}

/// Why a configuration cannot be used. The messages name the file (and,
/// for the configuration itself, the line and column) and the fix; they
/// never quote a secret or a connection string.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file the configuration needs (itself, the key file, the password
    /// file, the device key file) cannot be used: unreadable, not a
    /// regular file, too large, empty, or open to others or owned by
    /// another user (the message names the `chmod`/`chown` that fixes it).
    #[error("the {what} {}: {problem}", path.display())]
    File {
        /// Which file: `"configuration file"`, `"key file
        /// (encryption.key_file)"`, ...
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// What is wrong, and the fix.
        problem: String,
    },
    /// The file is not valid TOML, has an unknown key, a value of the
    /// wrong type, or a value the engine or the store refuses.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What is wrong (the key, the rule).
        message: String,
    },
    /// The store named by the configuration cannot be opened or checked.
    #[error("{origin}: the store: {source}")]
    Store {
        /// The configuration file.
        origin: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The engine refused to start on the store (a damaged stored device
    /// key, no randomness).
    #[error("{origin}: the engine: {source}")]
    Engine {
        /// The configuration file.
        origin: String,
        /// The engine's error.
        #[source]
        source: crate::Error,
    },
}
