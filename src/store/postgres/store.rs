//! The store itself: opening (never creating, unless asked), the
//! compare-and-swap in one statement, loads and scans, each on a pooled
//! connection within the timeout.

use std::time::Instant;

use zeroize::Zeroizing;

use super::connection::Connection;
use super::conninfo::{self, Tls};
use super::failure::{Failed, backend};
use super::options::{ConnectionPlan, PostgresCheck, PostgresOptions};
use super::pool::Pool;
use super::schema;
use super::server::Server;
use super::session::outside_async_context;
use super::tls::tls_connector;
use crate::store::backend::{CasOutcome, ScannedRecord, Store, Versioned};
use crate::store::error::StoreError;
use crate::store::limits::{WithinLimits, compare_and_swap_within_limits};
use crate::store::sql::{in_key_order, to_version};

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
/// let store = PostgresStore::open_with(url, &PostgresOptions::default().with_max_connections(8))?;
/// let engine = Engine::new(store, EngineConfig::default())?;
/// # Ok::<(), mail2fa::Error>(())
/// ```
pub struct PostgresStore {
    server: Server,
    options: PostgresOptions,
    pool: Pool,
}

impl core::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.server.target)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
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
    /// password; [`redact_connection_string`](crate::store::redact_connection_string)
    /// makes a string fit to print. [`PostgresStore::plan`] tells what a
    /// string asks for without connecting.
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
        let target = conninfo::describe(&info.config);
        let store = Self {
            server: Server {
                info,
                tls,
                timeout: options.timeout,
                target,
            },
            options: options.clone(),
            pool: Pool::new(options),
        };
        outside_async_context("open", || {
            schema::prepare(&store.server, store.options.create)
        })?;
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
        &self.server.target
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

    /// Runs `work` on a pooled connection, within the timeout. On any error
    /// or timeout the connection is discarded.
    fn with_connection<T: Send, E: From<StoreError> + Send>(
        &self,
        context: &str,
        work: impl AsyncFnOnce(&Connection) -> Result<T, E> + Send,
    ) -> Result<T, E> {
        outside_async_context(context, || self.with_connection_here(context, work))
    }

    /// [`Self::with_connection`] on this thread, outside any Tokio
    /// runtime's context.
    fn with_connection_here<T, E: From<StoreError>>(
        &self,
        context: &str,
        work: impl AsyncFnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let deadline = Instant::now() + self.options.timeout;
        let mut lease = self.pool.lease(deadline)?;
        let connection = match lease.connection.take() {
            Some(connection) => connection,
            None => match Connection::open(&self.server, deadline) {
                Ok(connection) => connection,
                Err(e) => {
                    self.pool.give_back(None);
                    return Err(e.into());
                }
            },
        };
        match connection.session.run(deadline, work(&connection)) {
            Ok(Ok(value)) => {
                self.pool.give_back(Some(connection));
                Ok(value)
            }
            Ok(Err(e)) => {
                // A refused statement may leave nothing wrong with the
                // connection, but a broken one looks the same: start afresh.
                self.pool.give_back(None);
                drop(connection);
                Err(e)
            }
            Err(stop) => {
                self.pool.give_back(None);
                drop(connection);
                Err(self.server.interrupted(context, stop).into())
            }
        }
    }
}

/// A statement parameter.
type Param<'a> = dyn tokio_postgres::types::ToSql + Sync + 'a;

impl PostgresStore {
    /// The compare-and-swap, in one statement (the key and record are
    /// within the limits: [`compare_and_swap_within_limits!`]).
    fn swap(
        &self,
        WithinLimits { key, expected, new }: WithinLimits<'_>,
    ) -> Result<CasOutcome, StoreError> {
        let expected = match expected.map(i64::try_from) {
            // No record ever has a version beyond i64: it cannot match.
            Some(Err(_)) => return Ok(CasOutcome::Conflict),
            Some(Ok(v)) => Some(v),
            None => None,
        };
        let row = self
            .with_connection("compare-and-swap", async move |c| {
                let row = match (expected, new) {
                    (None, Some(bytes)) => {
                        c.client()
                            .query_opt(&c.statements.insert, &[&key, &bytes])
                            .await
                    }
                    (Some(v), Some(bytes)) => {
                        c.client()
                            .query_opt(&c.statements.update, &[&key as &Param<'_>, &v, &bytes])
                            .await
                    }
                    (Some(v), None) => {
                        c.client()
                            .query_opt(&c.statements.delete, &[&key as &Param<'_>, &v])
                            .await
                    }
                    (None, None) => {
                        c.client()
                            .query_opt(&c.statements.delete_absent, &[&key])
                            .await
                    }
                };
                row.map_err(Failed::from)
            })
            .map_err(|Failed(e)| e)?;
        match row {
            Some(row) => {
                let version: i64 = row.try_get(0).map_err(|e| backend("compare-and-swap", e))?;
                Ok(CasOutcome::Stored {
                    version: to_version("postgres", version)?,
                })
            }
            None => Ok(CasOutcome::Conflict),
        }
    }
}

impl Store for PostgresStore {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        let row = self
            .with_connection("load", async |c| {
                c.client()
                    .query_opt(&c.statements.load, &[&key])
                    .await
                    .map_err(Failed::from)
            })
            .map_err(|Failed(e)| e)?;
        row.map(|row| {
            let version: i64 = row.try_get(0).map_err(|e| backend("load", e))?;
            let bytes: Vec<u8> = row.try_get(1).map_err(|e| backend("load", e))?;
            Ok(Versioned {
                version: to_version("postgres", version)?,
                bytes: Zeroizing::new(bytes),
            })
        })
        .transpose()
    }

    /// One statement, one round trip, however many keys (a login asks for
    /// three: the account, its platform, its clients record), read in one
    /// snapshot.
    fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .with_connection("load", async |c| {
                c.client()
                    .query(&c.statements.load_many, &[&keys])
                    .await
                    .map_err(Failed::from)
            })
            .map_err(|Failed(e)| e)?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let key: Vec<u8> = row.try_get(0).map_err(|e| backend("load", e))?;
            let version: i64 = row.try_get(1).map_err(|e| backend("load", e))?;
            let bytes: Vec<u8> = row.try_get(2).map_err(|e| backend("load", e))?;
            found.push((
                key,
                Versioned {
                    version: to_version("postgres", version)?,
                    bytes: Zeroizing::new(bytes),
                },
            ));
        }
        Ok(in_key_order(keys, &found))
    }

    compare_and_swap_within_limits!();

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .with_connection("scan", async move |c| {
                match after {
                    Some(after) => {
                        c.client()
                            .query(&c.statements.scan_after, &[&after as &Param<'_>, &limit])
                            .await
                    }
                    None => c.client().query(&c.statements.scan_first, &[&limit]).await,
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
                        version: to_version("postgres", version)?,
                        bytes: Zeroizing::new(bytes),
                    },
                ))
            })
            .collect()
    }
}
