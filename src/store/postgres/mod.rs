//! The shared store for mail clusters: PostgreSQL.
//!
//! Every mail host of a cluster opens the same database; a code consumed on
//! one host is dead on all the others as soon as the consuming login is
//! answered, because the consuming write has committed before it is.
//!
//! * **Compare-and-swap in one statement**: an `UPDATE … WHERE key = $1 AND
//!   version = $2`, an `INSERT … ON CONFLICT DO NOTHING` or a `DELETE …
//!   WHERE version = $2`, each taking its new version from a sequence
//!   (never reused, so no ABA across deletes). PostgreSQL re-checks the
//!   `WHERE` of an `UPDATE`/`DELETE` against the row a concurrent
//!   transaction committed, so of two hosts racing on the same version
//!   exactly one matches; the other sees no row and gets
//!   [`CasOutcome::Conflict`]. No explicit transaction, no retry loop of
//!   its own: the engine's read-modify-write retries.
//! * **Bounded time**: connecting, waiting for a pooled connection and every
//!   statement are bounded by [`PostgresOptions::timeout`] on our side
//!   (`statement_timeout` and `lock_timeout` on the server's as well). A
//!   call that runs out of time fails, its connection is thrown away, and
//!   the login is refused: PostgreSQL down means nobody gets in, never
//!   "2FA off".
//! * **Pool**: at most [`PostgresOptions::max_connections`] connections per
//!   store, opened on demand, shared by every thread; a broken connection
//!   is dropped and replaced by the next call.
//! * **Creation is an administrative act**: [`PostgresStore::open`] (and
//!   `create: false`, the default of [`PostgresOptions`]) only opens an
//!   existing mail2fa schema. A database (or the `search_path` schema)
//!   without the mail2fa tables — a fresh database, tables dropped, the
//!   wrong schema named — is refused: a login path must never build a
//!   fresh, empty store that answers "no 2FA" for everyone. Only
//!   [`PostgresStore::create`] (`create: true`; the operator tool's
//!   `mail2fa platform enable` and `mail2fa db copy --to`) builds the
//!   schema, in the connection's `search_path` schema, under an advisory
//!   lock (so hosts set up together build it once), and migrates an older
//!   one. Every opener checks it: a database of a newer schema, or tables
//!   that are not mail2fa's, are refused.
//! * **TLS and authentication** come from the connection string, in
//!   libpq's forms (see [`PostgresStore::open`]). Over TCP, TLS with a
//!   verified certificate is the default and never falls back to plain
//!   text; plain only where the string says `sslmode=disable` (and over
//!   Unix sockets). With TLS and a password, SCRAM channel binding is
//!   required.
//!
//! The calls block the calling thread, which drives its connection's I/O
//! itself (each connection has a current-thread Tokio runtime; the store
//! starts no threads): a statement costs one round trip and no hand-over
//! to another thread. An async Rust host calls the engine from
//! `spawn_blocking`; a call made on a Tokio worker thread fails with a
//! clear error instead of stalling the runtime.
//!
//! The timeout bounds waiting (for the network, the server, a pooled
//! connection). Work on the calling thread is not cut short: a new
//! connection's SCRAM password check (a few milliseconds of hashing in a
//! release build) runs to its end once begun.

mod conninfo;
mod redact;

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls, Statement};
use zeroize::Zeroizing;

use super::{CasOutcome, ScannedRecord, Store, StoreError, Versioned};
use conninfo::{ConnInfo, Tls};
pub use redact::redact_connection_string;

/// The schema this version of mail2fa writes and reads
/// (`m2fa_meta.schema_version`).
pub const POSTGRES_SCHEMA_VERSION: i32 = 1;

/// Key of the advisory lock taken while creating or migrating the schema
/// ("M2FA").
const SCHEMA_LOCK: i64 = 0x4d32_4641;

/// Statements that create schema version 1 (in one transaction).
const SCHEMA_V1: &str = "
CREATE TABLE m2fa_meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    application text NOT NULL CHECK (application = 'mail2fa'),
    schema_version integer NOT NULL
);
CREATE SEQUENCE m2fa_versions AS bigint MINVALUE 1 NO CYCLE;
CREATE TABLE m2fa_records (
    key bytea PRIMARY KEY,
    version bigint NOT NULL,
    bytes bytea NOT NULL
) WITH (fillfactor = 80);
INSERT INTO m2fa_meta (application, schema_version) VALUES ('mail2fa', 1);
";

/// Migrations: entry `i` takes the schema from version `i + 1` to `i + 2`.
/// Empty while version 1 is the only one.
const MIGRATIONS: &[&str] = &[];

/// How to open a [`PostgresStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// What [`PostgresStore::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresCheck {
    /// The schema version of the database ([`POSTGRES_SCHEMA_VERSION`]).
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

/// What a connection string asks for ([`PostgresStore::plan`]).
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

/// A [`Store`] in a PostgreSQL database, shared by the hosts of a cluster.
///
/// ```no_run
/// use mail2fa::engine::{Engine, EngineConfig};
/// use mail2fa::store::{PostgresOptions, PostgresStore};
///
/// let url = "postgres://mail2fa@db.example.net/mail2fa?sslrootcert=/etc/mail2fa/ca.pem";
/// // Creating the schema is the administrator's act, done once...
/// drop(PostgresStore::create(url)?);
/// // ...every mail host's login path opens it, and never creates one.
/// let store = PostgresStore::open_with(
///     url,
///     &PostgresOptions { max_connections: 8, ..PostgresOptions::default() },
/// )?;
/// let engine = Engine::new(store, EngineConfig::default())?;
/// # Ok::<(), mail2fa::Error>(())
/// ```
pub struct PostgresStore {
    info: ConnInfo,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    options: PostgresOptions,
    pool: Pool,
    /// `user@host:port/db`, for messages.
    target: String,
}

impl core::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The future that does a connection's I/O.
type Driver = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

/// One connection to the server, with a current-thread runtime of its own:
/// the thread that waits for a statement drives the connection's I/O
/// itself, so no other thread has to be woken on the way there and back.
struct Session {
    /// `None` only while being dropped.
    runtime: Option<tokio::runtime::Runtime>,
    /// `None` once the connection has ended. Only the thread holding the
    /// session locks it (never contended).
    driver: Mutex<Option<Driver>>,
    client: Client,
}

/// Why [`Session::run`] stopped before its work was done.
enum Interrupted {
    TimedOut,
    Closed,
}

impl Session {
    /// Runs `work` while driving the connection, until it is done or
    /// `deadline` passes or the connection ends.
    fn run<T>(&self, deadline: Instant, work: impl Future<Output = T>) -> Result<T, Interrupted> {
        let runtime = self.runtime.as_ref().ok_or(Interrupted::Closed)?;
        let mut driver = self.driver.lock().map_err(|_| Interrupted::Closed)?;
        runtime.block_on(async {
            // The timer is made here, inside the runtime it needs.
            let mut work = pin!(tokio::time::timeout_at(deadline.into(), work));
            poll_fn(|cx| {
                if let Poll::Ready(done) = work.as_mut().poll(cx) {
                    return Poll::Ready(done.map_err(|_| Interrupted::TimedOut));
                }
                let ended = match driver.as_mut() {
                    Some(io) => io.as_mut().poll(cx).is_ready(),
                    None => true,
                };
                if ended {
                    *driver = None;
                    // What the connection delivered before it ended.
                    return match work.as_mut().poll(cx) {
                        Poll::Ready(done) => Poll::Ready(done.map_err(|_| Interrupted::TimedOut)),
                        Poll::Pending => Poll::Ready(Err(Interrupted::Closed)),
                    };
                }
                Poll::Pending
            })
            .await
        })
    }

    fn is_closed(&self) -> bool {
        self.client.is_closed() || self.driver.lock().map_or(true, |d| d.is_none())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Never blocks, and is allowed inside an async context too. Outside
        // a transaction the server takes the closed socket quietly.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A pooled connection: a session with the statements prepared.
struct Connection {
    session: Session,
    load: Statement,
    insert: Statement,
    update: Statement,
    delete: Statement,
    delete_absent: Statement,
    scan_first: Statement,
    scan_after: Statement,
}

impl Connection {
    fn client(&self) -> &Client {
        &self.session.client
    }
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Connection>,
    /// Connections open or being opened (idle ones included).
    open: usize,
}

#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    freed: Condvar,
}

/// A connection taken from the pool; returned by [`PostgresStore::give_back`].
struct Lease {
    connection: Option<Connection>,
}

fn backend(context: &str, error: impl core::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres: {context}: {error}"))
}

/// A tokio-postgres error with the server's message when there is one
/// (`Display` of the error alone says only "db error"), else the error
/// and its causes ("error connecting to server: Connection refused").
fn describe_error(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}: {}", db.code().code(), db.message());
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}

impl PostgresStore {
    /// Opens a store on the existing mail2fa schema of the database named by
    /// `connection_string`, with the default options. Never creates
    /// anything: this is the opener of login paths ([`PostgresStore::create`]
    /// sets a database up).
    ///
    /// The string takes libpq's forms, `postgres://user:password@host:port/db?…`
    /// or `host=… dbname=… user=…`, with libpq's settings as tokio-postgres
    /// reads them (`host` may be a Unix socket directory; several hosts with
    /// `target_session_attrs=read-write` find the primary). The network
    /// must not be able to turn 2FA off, so the TLS defaults are stricter
    /// than libpq's:
    /// * over TCP, TLS is always used and the server's certificate and name
    ///   are always verified (libpq's `verify-full`), with no `sslmode` and
    ///   under `prefer`, `require`, `verify-ca` and `verify-full` alike: a
    ///   server that does not offer TLS gets no password, and the open
    ///   fails. Plain TCP only where the string says `sslmode=disable`;
    ///   `sslmode=allow` is refused;
    /// * over Unix sockets (a `host` starting with `/`) no TLS, as with
    ///   libpq; a string may not mix sockets and TCP hosts unless it says
    ///   `sslmode=disable`;
    /// * `sslrootcert`: a PEM file of the certificates to trust (default:
    ///   the system's);
    /// * with TLS and a password, SCRAM channel binding is required
    ///   (`channel_binding=require`: a server that asks for a cleartext or
    ///   MD5 password, or for SCRAM without the binding, is refused). Say
    ///   `channel_binding=prefer` for a server or pooler that cannot do
    ///   SCRAM-SHA-256-PLUS (its certificate is still verified); an explicit
    ///   `channel_binding=` is always honoured.
    ///
    /// Client certificates are not supported. Messages never repeat the
    /// password; [`redact_connection_string`] makes a string fit to print.
    /// [`PostgresStore::plan`] tells what a string asks for without
    /// connecting.
    ///
    /// # Errors
    /// [`StoreError::Backend`]: a bad connection string, an unreachable
    /// server, a server without TLS (unless `sslmode=disable`), a
    /// certificate that does not verify, failed authentication, a database
    /// without the mail2fa schema (the message names the fix), one that is
    /// not mail2fa's or of an older or newer schema.
    pub fn open(connection_string: &str) -> Result<Self, StoreError> {
        Self::open_with(connection_string, &PostgresOptions::default())
    }

    /// Creates the mail2fa schema in the database named by
    /// `connection_string` (in its `search_path` schema) if it has none,
    /// migrates an older one, and opens it — the administrator's act of
    /// setting up a store (the operator tool's `mail2fa platform enable`).
    /// Hosts set up together build the schema once. Never call it from a
    /// login path: there a database without the schema must refuse logins,
    /// not become an empty store that answers "no 2FA". The role needs
    /// `CREATE` on the schema.
    ///
    /// # Errors
    /// As [`PostgresStore::open`], except for a database without the
    /// schema or of an older one.
    pub fn create(connection_string: &str) -> Result<Self, StoreError> {
        Self::open_with(
            connection_string,
            &PostgresOptions {
                create: true,
                ..PostgresOptions::default()
            },
        )
    }

    /// Opens a store with `options`; see [`PostgresStore::open`].
    ///
    /// # Errors
    /// As [`PostgresStore::open`]; with `create: true`, a database without
    /// the schema or of an older one is not an error;
    /// [`StoreError::Backend`] for a pool of 0 connections or a zero
    /// timeout.
    pub fn open_with(
        connection_string: &str,
        options: &PostgresOptions,
    ) -> Result<Self, StoreError> {
        if options.max_connections == 0 || options.timeout.is_zero() {
            return Err(backend(
                "options",
                "max_connections and timeout must be above zero",
            ));
        }
        let mut info = conninfo::parse(connection_string).map_err(|e| backend("open", e))?;
        if info.config.get_application_name().is_none() {
            info.config.application_name("mail2fa");
        }
        if info.config.get_connect_timeout().is_none() {
            info.config.connect_timeout(options.timeout);
        }
        let tls = match &info.tls {
            Tls::Off => None,
            Tls::Verified { roots } => Some(tls_connector(roots.as_deref())?),
        };
        refuse_inside_async("open")?;
        let target = conninfo::describe(&info.config);
        let store = Self {
            info,
            tls,
            options: options.clone(),
            pool: Pool::default(),
            target,
        };
        store.prepare_schema()?;
        Ok(store)
    }

    /// What `connection_string` asks for, as [`PostgresStore::open`] would
    /// read it, without connecting: where to, and how the connection is
    /// protected.
    ///
    /// ```
    /// use mail2fa::store::PostgresStore;
    ///
    /// let plan = PostgresStore::plan("postgres://m:secret@db.example/mail2fa")?;
    /// assert!(plan.tls && plan.channel_binding_required);
    /// assert_eq!(plan.target, "m@db.example:5432/mail2fa");
    /// let plan = PostgresStore::plan("host=/run/postgresql user=m")?;
    /// assert!(!plan.tls);
    /// # Ok::<(), mail2fa::store::StoreError>(())
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Backend`]: a connection string that
    /// [`PostgresStore::open`] refuses before connecting (the message never
    /// repeats a value of the string).
    pub fn plan(connection_string: &str) -> Result<ConnectionPlan, StoreError> {
        let info = conninfo::parse(connection_string).map_err(|e| backend("open", e))?;
        Ok(ConnectionPlan {
            target: conninfo::describe(&info.config),
            tls: matches!(info.tls, Tls::Verified { .. }),
            channel_binding_required: info.config.get_channel_binding()
                == tokio_postgres::config::ChannelBinding::Require,
        })
    }

    /// `user@host:port/database` of this store (never the password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Reads the schema version, the number of records and the table's size.
    /// Writes nothing.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if the server cannot answer.
    pub fn check(&self) -> Result<PostgresCheck, StoreError> {
        self.with_connection("check", async |c| -> Result<_, Failed> {
            let row = c
                .client()
                .query_one(
                    "SELECT (SELECT schema_version FROM m2fa_meta), \
                            (SELECT count(*) FROM m2fa_records), \
                            pg_total_relation_size('m2fa_records'::regclass), \
                            current_setting('server_version'), \
                            current_setting('synchronous_standby_names') <> '' AND \
                            current_setting('synchronous_commit') IN ('on', 'remote_write', 'remote_apply')",
                    &[],
                )
                .await?;
            Ok(PostgresCheck {
                schema_version: row.try_get(0)?,
                records: u64::try_from(row.try_get::<_, i64>(1)?).unwrap_or(0),
                size_bytes: u64::try_from(row.try_get::<_, i64>(2)?).unwrap_or(0),
                server_version: row.try_get(3)?,
                synchronous_standby: row.try_get(4)?,
            })
        })
        .map_err(|Failed(e)| e)
    }

    /// Creates the schema if allowed and needed, migrates an older one,
    /// and refuses a newer or foreign one.
    fn prepare_schema(&self) -> Result<(), StoreError> {
        let create = self.options.create;
        let deadline = Instant::now() + self.options.timeout;
        // A connection of its own: the pooled ones prepare statements on
        // tables that may not exist yet.
        let session = self.session(deadline)?;
        let found = session
            .run(deadline, ensure_schema(&session.client, create))
            .unwrap_or_else(|stop| Err(SchemaError::Store(self.interrupted("schema", stop))));
        match found {
            Ok(Some(POSTGRES_SCHEMA_VERSION)) => Ok(()),
            Ok(Some(other)) if other > POSTGRES_SCHEMA_VERSION => Err(backend(
                "schema",
                format!("version {other}, this library reads {POSTGRES_SCHEMA_VERSION}"),
            )),
            Ok(Some(other)) => Err(backend(
                "schema",
                format!(
                    "version {other} needs migrating to {POSTGRES_SCHEMA_VERSION}; a login never \
                     migrates it (run `mail2fa platform enable` once, or PostgresStore::create)"
                ),
            )),
            Ok(None) => Err(backend(
                "schema",
                format!(
                    "no mail2fa schema in {} (in its search_path schema), and a login never \
                     creates one: restore the database, check the search_path, or create the \
                     schema once with `mail2fa platform enable` (PostgresStore::create)",
                    self.target
                ),
            )),
            Err(SchemaError::Foreign) => Err(backend(
                "schema",
                "m2fa_records exists but is not mail2fa's (no m2fa_meta)",
            )),
            Err(SchemaError::Store(e)) => Err(e),
        }
    }

    /// Runs `work` on a pooled connection, within the timeout. On any error
    /// or timeout the connection is discarded.
    fn with_connection<T, E>(
        &self,
        context: &str,
        work: impl AsyncFnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        refuse_inside_async(context)?;
        let deadline = Instant::now() + self.options.timeout;
        let mut lease = self.lease(deadline)?;
        let connection = match lease.connection.take() {
            Some(connection) => connection,
            None => match self.connect(deadline) {
                Ok(connection) => connection,
                Err(e) => {
                    self.give_back(None);
                    return Err(e.into());
                }
            },
        };
        match connection.session.run(deadline, work(&connection)) {
            Ok(Ok(value)) => {
                self.give_back(Some(connection));
                Ok(value)
            }
            Ok(Err(e)) => {
                // A refused statement may leave nothing wrong with the
                // connection, but a broken one looks the same: start afresh.
                self.give_back(None);
                drop(connection);
                Err(e)
            }
            Err(stop) => {
                self.give_back(None);
                drop(connection);
                Err(self.interrupted(context, stop).into())
            }
        }
    }

    fn interrupted(&self, context: &str, stop: Interrupted) -> StoreError {
        match stop {
            Interrupted::TimedOut => backend(
                context,
                format!(
                    "no answer from {} within {:?}",
                    self.target, self.options.timeout
                ),
            ),
            Interrupted::Closed => backend(
                context,
                format!("the connection to {} was closed", self.target),
            ),
        }
    }

    fn pool(&self) -> Result<MutexGuard<'_, PoolState>, StoreError> {
        self.pool
            .state
            .lock()
            .map_err(|_| backend("pool", "lock poisoned"))
    }

    /// An idle connection, or the right to open one, waiting until
    /// `deadline` at most.
    fn lease(&self, deadline: Instant) -> Result<Lease, StoreError> {
        let mut state = self.pool()?;
        loop {
            while let Some(connection) = state.idle.pop() {
                if connection.session.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Lease {
                    connection: Some(connection),
                });
            }
            if state.open < self.options.max_connections {
                state.open += 1;
                return Ok(Lease { connection: None });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(backend(
                    "pool",
                    format!(
                        "all {} connections busy for {:?}",
                        self.options.max_connections, self.options.timeout
                    ),
                ));
            }
            state = self
                .pool
                .freed
                .wait_timeout(state, left)
                .map_err(|_| backend("pool", "lock poisoned"))?
                .0;
        }
    }

    /// Returns a connection to the pool (`None`: it was lost or discarded).
    fn give_back(&self, connection: Option<Connection>) {
        if let Ok(mut state) = self.pool.state.lock() {
            match connection {
                Some(connection) if !connection.session.is_closed() => state.idle.push(connection),
                _ => state.open = state.open.saturating_sub(1),
            }
        }
        self.pool.freed.notify_one();
    }

    /// Opens one connection with the session's time limits, by `deadline`.
    fn session(&self, deadline: Instant) -> Result<Session, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| backend("starting a runtime", e))?;
        let connected = runtime.block_on(async {
            let connecting = async {
                Ok::<(Client, Driver), tokio_postgres::Error>(match &self.tls {
                    None => {
                        let (client, io) = self.info.config.connect(NoTls).await?;
                        (client, Box::pin(io))
                    }
                    Some(tls) => {
                        let (client, io) = self.info.config.connect(tls.clone()).await?;
                        (client, Box::pin(io))
                    }
                })
            };
            tokio::time::timeout_at(deadline.into(), connecting).await
        });
        let (client, driver) = match connected {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Err(self.connect_error(&e)),
            Err(_) => {
                return Err(backend(
                    "connect",
                    format!(
                        "no connection to {} within {:?}",
                        self.target, self.options.timeout
                    ),
                ));
            }
        };
        let session = Session {
            runtime: Some(runtime),
            driver: Mutex::new(Some(driver)),
            client,
        };
        let millis = self.options.timeout.as_millis();
        let settings = format!(
            "SET statement_timeout = {millis}; SET lock_timeout = {millis}; \
             SET idle_in_transaction_session_timeout = {millis}"
        );
        session
            .run(deadline, session.client.batch_execute(&settings))
            .map_err(|stop| self.interrupted("session settings", stop))?
            .map_err(|e| backend("session settings", describe_error(&e)))?;
        Ok(session)
    }

    /// A pooled connection: a session with the statements prepared.
    fn connect(&self, deadline: Instant) -> Result<Connection, StoreError> {
        let session = self.session(deadline)?;
        let client = &session.client;
        let statements = session
            .run(deadline, async {
                Ok::<_, tokio_postgres::Error>([
                    client
                        .prepare("SELECT version, bytes FROM m2fa_records WHERE key = $1")
                        .await?,
                    client
                        .prepare(
                            "INSERT INTO m2fa_records (key, version, bytes) \
                             VALUES ($1, nextval('m2fa_versions'), $2) \
                             ON CONFLICT (key) DO NOTHING RETURNING version",
                        )
                        .await?,
                    client
                        .prepare(
                            "UPDATE m2fa_records SET version = nextval('m2fa_versions'), \
                             bytes = $3 WHERE key = $1 AND version = $2 RETURNING version",
                        )
                        .await?,
                    client
                        .prepare(
                            "DELETE FROM m2fa_records WHERE key = $1 AND version = $2 \
                             RETURNING nextval('m2fa_versions')",
                        )
                        .await?,
                    client
                        .prepare(
                            "SELECT nextval('m2fa_versions') \
                             WHERE NOT EXISTS (SELECT 1 FROM m2fa_records WHERE key = $1)",
                        )
                        .await?,
                    client
                        .prepare(
                            "SELECT key, version, bytes FROM m2fa_records ORDER BY key LIMIT $1",
                        )
                        .await?,
                    client
                        .prepare(
                            "SELECT key, version, bytes FROM m2fa_records WHERE key > $1 \
                             ORDER BY key LIMIT $2",
                        )
                        .await?,
                ])
            })
            .map_err(|stop| self.interrupted("preparing statements", stop))?
            .map_err(|e| backend("preparing statements", describe_error(&e)))?;
        let [
            load,
            insert,
            update,
            delete,
            delete_absent,
            scan_first,
            scan_after,
        ] = statements;
        Ok(Connection {
            session,
            load,
            insert,
            update,
            delete,
            delete_absent,
            scan_first,
            scan_after,
        })
    }

    fn connect_error(&self, error: &tokio_postgres::Error) -> StoreError {
        let mut text = describe_error(error);
        // The two refusals our defaults add to libpq's: say what they mean.
        if text.contains("server does not support TLS") {
            text.push_str(
                " (over TCP mail2fa requires verified TLS, unless the connection string \
                 says sslmode=disable)",
            );
        } else if text.contains("channel binding") {
            text.push_str(
                " (SCRAM channel binding is required: mail2fa's default with a password \
                 over TLS, or channel_binding=require; channel_binding=prefer accepts a \
                 server or pooler without it)",
            );
        }
        backend(&format!("connecting to {}", self.target), text)
    }
}

/// Blocking on the store's runtime from inside another Tokio runtime would
/// panic (or stall it): refuse with a clear error instead.
fn refuse_inside_async(context: &str) -> Result<(), StoreError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(backend(
            context,
            "called on an async runtime's thread; call mail2fa from spawn_blocking",
        ));
    }
    Ok(())
}

fn tls_connector(
    roots: Option<&std::path::Path>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    let mut store = rustls::RootCertStore::empty();
    match roots {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|e| backend(&format!("sslrootcert {}", path.display()), e))?;
            for certificate in certificates {
                let certificate = certificate
                    .map_err(|e| backend(&format!("sslrootcert {}", path.display()), e))?;
                store
                    .add(certificate)
                    .map_err(|e| backend(&format!("sslrootcert {}", path.display()), e))?;
            }
            if store.is_empty() {
                return Err(backend(
                    &format!("sslrootcert {}", path.display()),
                    "no certificate in the file",
                ));
            }
        }
        None => {
            // Unreadable system certificates only matter if TLS is used;
            // then the handshake fails (closed) with "unknown issuer".
            for certificate in rustls_native_certs::load_native_certs().certs {
                let _ = store.add(certificate);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| backend("TLS", e))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Reads the schema version; with `create`, creates or migrates the schema
/// under the advisory lock, in one transaction.
async fn ensure_schema(client: &Client, create: bool) -> Result<Option<i32>, SchemaError> {
    // The usual case, without a lock: the schema is there and current.
    if let Ok(Some(POSTGRES_SCHEMA_VERSION)) = schema_version(client).await {
        return Ok(Some(POSTGRES_SCHEMA_VERSION));
    }
    // Anything else is decided under the lock: another host may be creating
    // or migrating the schema at this moment, and a look at the catalog
    // taken while it commits can see part of it (one table, not the other).
    // The lock is taken before the transaction begins: beginning it makes
    // this session read the catalog as the last holder committed it (its
    // cached "no such table" answers are dropped). A session lock, released
    // below or when this connection closes, as it does right after.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK])
        .await?;
    client.batch_execute("BEGIN").await?;
    let result = async {
        let version = schema_version(client).await?;
        if !create {
            return Ok(version);
        }
        match version {
            None => client.batch_execute(SCHEMA_V1).await?,
            Some(v) if (1..POSTGRES_SCHEMA_VERSION).contains(&v) => {
                for step in &MIGRATIONS[usize::try_from(v - 1).unwrap_or(0)..] {
                    client.batch_execute(step).await?;
                }
                client
                    .execute(
                        "UPDATE m2fa_meta SET schema_version = $1",
                        &[&POSTGRES_SCHEMA_VERSION],
                    )
                    .await?;
            }
            Some(_) => {}
        }
        schema_version(client).await
    }
    .await;
    match result {
        Ok(version) => {
            client.batch_execute("COMMIT").await?;
            client
                .execute("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK])
                .await?;
            Ok(version)
        }
        Err(e) => {
            // The connection is dropped on error anyway (which
            // rolls back); be explicit while it is alive.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// Why the schema could not be read.
enum SchemaError {
    /// `m2fa_records` without `m2fa_meta`.
    Foreign,
    Store(StoreError),
}

impl From<StoreError> for SchemaError {
    fn from(error: StoreError) -> Self {
        SchemaError::Store(error)
    }
}

impl From<tokio_postgres::Error> for SchemaError {
    fn from(error: tokio_postgres::Error) -> Self {
        SchemaError::Store(backend("schema", describe_error(&error)))
    }
}

/// The schema version in the search path: `None` for no mail2fa tables.
async fn schema_version(client: &Client) -> Result<Option<i32>, SchemaError> {
    let row = client
        .query_one(
            "SELECT to_regclass('m2fa_meta') IS NOT NULL, to_regclass('m2fa_records') IS NOT NULL",
            &[],
        )
        .await?;
    let (meta, records): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
    match (meta, records) {
        (false, false) => Ok(None),
        (false, true) => Err(SchemaError::Foreign),
        (true, _) => {
            let row = client
                .query_opt(
                    "SELECT schema_version FROM m2fa_meta WHERE application = 'mail2fa'",
                    &[],
                )
                .await?;
            match row {
                Some(row) => Ok(Some(row.try_get(0)?)),
                None => Err(SchemaError::Foreign),
            }
        }
    }
}

/// A statement parameter.
type Param<'a> = dyn tokio_postgres::types::ToSql + Sync + 'a;

/// A store error for a failed statement.
struct Failed(StoreError);

impl From<StoreError> for Failed {
    fn from(error: StoreError) -> Self {
        Failed(error)
    }
}

impl From<tokio_postgres::Error> for Failed {
    fn from(error: tokio_postgres::Error) -> Self {
        Failed(backend("statement", describe_error(&error)))
    }
}

fn to_version(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| backend("record", "negative version"))
}

impl Store for PostgresStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        let row = self
            .with_connection("load", async |c| {
                c.client()
                    .query_opt(&c.load, &[&key])
                    .await
                    .map_err(Failed::from)
            })
            .map_err(|Failed(e)| e)?;
        row.map(|row| {
            let version: i64 = row.try_get(0).map_err(|e| backend("load", e))?;
            let bytes: Vec<u8> = row.try_get(1).map_err(|e| backend("load", e))?;
            Ok(Versioned {
                version: to_version(version)?,
                bytes: Zeroizing::new(bytes),
            })
        })
        .transpose()
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        crate::store::check_sizes(key, new)?;
        let expected = match expected.map(i64::try_from) {
            // No record ever has a version beyond i64: it cannot match.
            Some(Err(_)) => return Ok(CasOutcome::Conflict),
            Some(Ok(v)) => Some(v),
            None => None,
        };
        let row = self
            .with_connection("compare-and-swap", async move |c| {
                let row = match (expected, new) {
                    (None, Some(bytes)) => c.client().query_opt(&c.insert, &[&key, &bytes]).await,
                    (Some(v), Some(bytes)) => {
                        c.client()
                            .query_opt(&c.update, &[&key as &Param<'_>, &v, &bytes])
                            .await
                    }
                    (Some(v), None) => {
                        c.client()
                            .query_opt(&c.delete, &[&key as &Param<'_>, &v])
                            .await
                    }
                    (None, None) => c.client().query_opt(&c.delete_absent, &[&key]).await,
                };
                row.map_err(Failed::from)
            })
            .map_err(|Failed(e)| e)?;
        match row {
            Some(row) => {
                let version: i64 = row.try_get(0).map_err(|e| backend("compare-and-swap", e))?;
                Ok(CasOutcome::Stored {
                    version: to_version(version)?,
                })
            }
            None => Ok(CasOutcome::Conflict),
        }
    }

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .with_connection("scan", async move |c| {
                match after {
                    Some(after) => {
                        c.client()
                            .query(&c.scan_after, &[&after as &Param<'_>, &limit])
                            .await
                    }
                    None => c.client().query(&c.scan_first, &[&limit]).await,
                }
                .map_err(Failed::from)
            })
            .map_err(|Failed(e)| e)?;
        rows.into_iter()
            .map(|row| {
                let key: Vec<u8> = row.try_get(0).map_err(|e| backend("scan", e))?;
                let version: i64 = row.try_get(1).map_err(|e| backend("scan", e))?;
                let bytes: Vec<u8> = row.try_get(2).map_err(|e| backend("scan", e))?;
                Ok((
                    key,
                    Versioned {
                        version: to_version(version)?,
                        bytes: Zeroizing::new(bytes),
                    },
                ))
            })
            .collect()
    }
}
