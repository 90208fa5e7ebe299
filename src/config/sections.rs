//! The sections of the file that are not engine policies: where the store
//! is, the secrets (by file name only), and what later components read.

use std::path::PathBuf;

use serde::Deserialize;

/// `[store]`: the store every component opens. Exactly one of
/// `sqlite_path` and `postgres_connection`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StoreSection {
    /// The SQLite database file (an absolute path).
    pub sqlite_path: Option<PathBuf>,
    /// A PostgreSQL connection string (a `postgres://` URL or a libpq
    /// `key=value` list) without a password: the password comes from
    /// [`PostgresSection::password_file`].
    pub postgres_connection: Option<String>,
    /// Whether opening may create the database (SQLite) or the schema
    /// (PostgreSQL) — the administrator's act (default `false`: a missing
    /// store is an error, never an empty store that answers "no 2FA").
    pub create: bool,
    /// `[store.sqlite]`.
    pub sqlite: SqliteSection,
    /// `[store.postgres]`.
    pub postgres: PostgresSection,
}

/// How commits reach the disk (`[store.sqlite] synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SyncMode {
    /// Every commit synced before it returns (the default).
    #[default]
    Full,
    /// Synced at WAL checkpoints only (a power failure may lose the last
    /// commits).
    Normal,
}

/// `[store.sqlite]`: read when `sqlite_path` is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SqliteSection {
    /// `"full"` (default) or `"normal"`.
    pub synchronous: SyncMode,
    /// How long a writer waits for another process's lock, in seconds
    /// (default 5).
    pub busy_timeout_seconds: u64,
    /// Largest database size in bytes; 0 (the default): no limit but the
    /// disk's.
    pub max_size_bytes: u64,
}

/// `[store.postgres]`: read when `postgres_connection` is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PostgresSection {
    /// Most connections of each process's pool (default 4).
    pub max_connections: usize,
    /// Bound on connecting, waiting for a connection and each statement,
    /// in seconds (default 5).
    pub timeout_seconds: u64,
    /// A file holding the database password (its first line), mode 0600
    /// or 0400, owned by the process's user or root. None: no password
    /// (a Unix socket with peer authentication).
    pub password_file: Option<PathBuf>,
}

/// `[encryption]`: records sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EncryptionSection {
    /// The key file (`ID:KEY` lines, current key first; see
    /// [`EncryptionKeys::from_key_file`](crate::engine::EncryptionKeys::from_key_file)).
    /// None: records in clear (integrity-checked only).
    pub key_file: Option<PathBuf>,
    /// With a key file, refuse records written in clear (default `true`).
    pub require_sealed: bool,
}

/// `[server]`: read by `mail2fa-server` (planned); accepted and checked
/// here so that one file serves every component.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerSection {
    /// Addresses to listen on, `"IP:PORT"` (default none).
    pub listen: Vec<String>,
    /// A file holding the panel API's tokens, one a line (mode 0600).
    pub api_token_file: Option<PathBuf>,
}

/// `[notifications]`: read by `mail2fa-server` (planned), which delivers
/// the engine's notifications by mail.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct NotificationsSection {
    /// The SMTP relay, `"HOST:PORT"`.
    pub smtp_relay: Option<String>,
    /// The sender address of notifications.
    pub from: Option<String>,
}

impl Default for EncryptionSection {
    fn default() -> Self {
        Self {
            key_file: None,
            require_sealed: crate::engine::EngineConfig::default().require_sealed,
        }
    }
}

impl Default for SqliteSection {
    fn default() -> Self {
        // The store's own defaults where the store is built in; the same
        // numbers otherwise (a build without the store never reads them).
        #[cfg(feature = "sqlite")]
        {
            let options = crate::store::SqliteOptions::default();
            Self {
                synchronous: match options.synchronous {
                    crate::store::Synchronous::Normal => SyncMode::Normal,
                    _ => SyncMode::Full,
                },
                busy_timeout_seconds: options.busy_timeout.as_secs(),
                max_size_bytes: options.max_size.unwrap_or(0),
            }
        }
        #[cfg(not(feature = "sqlite"))]
        Self {
            synchronous: SyncMode::Full,
            busy_timeout_seconds: 5,
            max_size_bytes: 0,
        }
    }
}

impl Default for PostgresSection {
    fn default() -> Self {
        #[cfg(feature = "postgres")]
        {
            let options = crate::store::PostgresOptions::default();
            Self {
                max_connections: options.max_connections,
                timeout_seconds: options.timeout.as_secs(),
                password_file: None,
            }
        }
        #[cfg(not(feature = "postgres"))]
        Self {
            max_connections: 4,
            timeout_seconds: 5,
            password_file: None,
        }
    }
}
