//! The configuration file: one TOML file (by default
//! [`DEFAULT_PATH`], `/etc/mail2fa/mail2fa.toml`) that says which store
//! every component opens, where the secrets are (by file name only: the
//! encryption key file, the database password file, the device key file)
//! and the engine's policies, so that the mail server, the operator's
//! tool and later components cannot disagree.
//!
//! Durations are whole seconds, in keys ending in `_seconds`. Every key
//! has a default (the engine's own); unknown keys, values of the wrong
//! type and values the engine refuses are errors naming the file, line
//! and column. The commented example with every key and its default is
//! `integrations/mail2fa.toml` in the repository.
//!
//! ```no_run
//! use mail2fa::config::{Config, DEFAULT_PATH};
//!
//! // At start-up: read and check the file, open the store, start the engine.
//! let config = Config::from_file(DEFAULT_PATH)?;
//! let engine = config.open_engine()?;
//! # let _ = engine;
//! # Ok::<(), mail2fa::config::ConfigError>(())
//! ```
//!
//! The files are checked as the key file is: the configuration must not be
//! writable by group or others, the password and device key files not
//! readable by them, and each must belong to the process's effective user
//! or root; the error names the file and the `chmod` or `chown` that fixes
//! it.

mod error;
mod file;
mod location;
mod open;
mod parse;
mod permissions;
mod policies;
mod report;
mod sections;
mod tokens;
mod validate;

pub use error::{ConfigError, Location};
pub use file::Config;
pub use policies::{
    DeliveredCodesSection, DevicesSection, EngineSection, LockoutSection, TotpAlgorithm,
    TotpSection,
};
pub use report::CheckReport;
pub use sections::{
    EncryptionSection, NotificationsSection, PasswordCheckSection, PasswordMethod, PostgresSection,
    ServerSection, SqliteSection, StoreSection, SyncMode,
};
pub use tokens::MIN_API_TOKEN_LEN;

/// Where the components look for the configuration file by default.
pub const DEFAULT_PATH: &str = "/etc/mail2fa/mail2fa.toml";
