//! What a caller chooses when opening a SQLite store, and what its check
//! reports.

use std::time::Duration;

/// How hard a commit tries to reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// Every commit is synced before it returns (the default): nothing
    /// acknowledged is ever lost.
    Full,
    /// Commits are synced at WAL checkpoints only: faster, but a power
    /// failure may lose the last commits (a consumed code may work again).
    Normal,
}

/// How to open a [`SqliteStore`](crate::store::SqliteStore): the defaults,
/// changed with the `with_*` methods (the struct is `#[non_exhaustive]`).
///
/// ```
/// use mail2fa::store::SqliteOptions;
/// use std::time::Duration;
///
/// let options = SqliteOptions::default()
///     .with_busy_timeout(Duration::from_secs(2))
///     .with_max_size(64 << 20);
/// assert!(!options.create);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// Create the database (default `false`). `false`: the file must be an
    /// existing mail2fa database — a missing file, an empty file or one
    /// without the mail2fa schema is an error (what every login path must
    /// use). `true`, the administrator's act: a missing file is created
    /// (mode 0600), and an existing empty file (0 bytes, or a SQLite file
    /// with no tables at all) gets the schema; an existing mail2fa database
    /// is opened as it is.
    pub create: bool,
    /// Durability of commits (default [`Synchronous::Full`]).
    pub synchronous: Synchronous,
    /// How long a writer waits for another process's lock (default 5 s).
    pub busy_timeout: Duration,
    /// Largest size of the database file in bytes (`None`: no limit but
    /// the disk's). Beyond it, writes fail as on a full disk — the login is
    /// refused, nothing is half-written.
    pub max_size: Option<u64>,
    /// How many idle read connections the store keeps for the next loads
    /// (default 8). Loads run on read connections of their own, opened
    /// when none is idle, so threads reading do not wait for each other or
    /// for the writer; beyond this number, a connection is closed when its
    /// load ends. A process with one thread needs one.
    pub idle_readers: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            create: false,
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            max_size: None,
            idle_readers: 8,
        }
    }
}

impl SqliteOptions {
    /// Sets [`SqliteOptions::create`] (the administrator's act).
    #[must_use]
    pub fn with_create(mut self, value: bool) -> Self {
        self.create = value;
        self
    }

    /// Sets [`SqliteOptions::synchronous`].
    #[must_use]
    pub fn with_synchronous(mut self, value: Synchronous) -> Self {
        self.synchronous = value;
        self
    }

    /// Sets [`SqliteOptions::busy_timeout`].
    #[must_use]
    pub fn with_busy_timeout(mut self, value: Duration) -> Self {
        self.busy_timeout = value;
        self
    }

    /// Sets [`SqliteOptions::max_size`] (bytes, or `None` for no limit).
    #[must_use]
    pub fn with_max_size(mut self, value: impl Into<Option<u64>>) -> Self {
        self.max_size = value.into();
        self
    }

    /// Sets [`SqliteOptions::idle_readers`].
    #[must_use]
    pub fn with_idle_readers(mut self, value: usize) -> Self {
        self.idle_readers = value;
        self
    }
}

/// What [`SqliteStore::check`](crate::store::SqliteStore::check) found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteCheck {
    /// The schema version of the file
    /// ([`SCHEMA_VERSION`](crate::store::SCHEMA_VERSION)).
    pub schema_version: i32,
    /// What SQLite's integrity check says: `["ok"]`, or up to 100 problems.
    pub integrity: Vec<String>,
    /// Records stored.
    pub records: u64,
    /// Size of the database (pages in use and free), in bytes.
    pub size_bytes: u64,
}

impl SqliteCheck {
    /// Whether SQLite found nothing wrong.
    pub fn is_sound(&self) -> bool {
        self.integrity.len() == 1 && self.integrity[0] == "ok"
    }
}
