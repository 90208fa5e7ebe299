//! What a caller chooses when opening a PostgreSQL store, and what the store
//! reports back without changing anything.

use std::time::Duration;

/// How to open a [`PostgresStore`](crate::store::PostgresStore): the
/// defaults, changed with the `with_*` methods (the struct is
/// `#[non_exhaustive]`).
///
/// ```
/// use mail2fa::store::PostgresOptions;
/// use std::time::Duration;
///
/// let options = PostgresOptions::default()
///     .with_max_connections(8)
///     .with_timeout(Duration::from_secs(2));
/// assert!(!options.create);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// Most connections this store keeps open (default 4). Each mail host
    /// (each auth process) has its own pool; size the server's
    /// `max_connections` for all of them.
    pub max_connections: usize,
    /// Bound on connecting, on waiting for a free connection, and on each
    /// statement (default 5 s). A call that runs out of time fails: the
    /// login is refused.
    pub timeout: Duration,
    /// Create the schema (default `false`). `false`: the database must
    /// hold the mail2fa schema — a database (or `search_path` schema)
    /// without it is an error (what every login path must use; a role
    /// without `CREATE` suffices). `true`, the administrator's act: an
    /// empty database gets the schema, an older one is migrated, a current
    /// one is opened as it is.
    pub create: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_connections: 4,
            timeout: Duration::from_secs(5),
            create: false,
        }
    }
}

impl PostgresOptions {
    /// Sets [`PostgresOptions::max_connections`].
    #[must_use]
    pub fn with_max_connections(mut self, value: usize) -> Self {
        self.max_connections = value;
        self
    }

    /// Sets [`PostgresOptions::timeout`].
    #[must_use]
    pub fn with_timeout(mut self, value: Duration) -> Self {
        self.timeout = value;
        self
    }

    /// Sets [`PostgresOptions::create`] (the administrator's act).
    #[must_use]
    pub fn with_create(mut self, value: bool) -> Self {
        self.create = value;
        self
    }
}

/// What [`PostgresStore::check`](crate::store::PostgresStore::check) found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresCheck {
    /// The schema version of the database
    /// ([`POSTGRES_SCHEMA_VERSION`](crate::store::POSTGRES_SCHEMA_VERSION)).
    pub schema_version: i32,
    /// Records stored.
    pub records: u64,
    /// Size of the records table with its index and TOAST data, in bytes.
    pub size_bytes: u64,
    /// The server's version string (`SHOW server_version`).
    pub server_version: String,
    /// Whether commits wait for a synchronous standby
    /// (`synchronous_standby_names` is set and `synchronous_commit` is
    /// `on`, `remote_write` or `remote_apply`).
    pub synchronous_standby: bool,
}

/// What a connection string asks for
/// ([`PostgresStore::plan`](crate::store::PostgresStore::plan)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionPlan {
    /// `user@host:port/database` (never the password).
    pub target: String,
    /// Whether the connection uses TLS, always with the server's
    /// certificate and name verified (`false`: `sslmode=disable`, or Unix
    /// sockets).
    pub tls: bool,
    /// Whether the password check must use SCRAM channel binding.
    pub channel_binding_required: bool,
}
