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
//!   [`CasOutcome::Conflict`](crate::store::CasOutcome::Conflict). No
//!   explicit transaction, no retry loop of its own: the engine's
//!   read-modify-write retries.
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
//! itself (each connection has a current-thread Tokio runtime; outside an
//! async runtime the store starts no threads): a statement costs one round
//! trip and no hand-over to another thread. Inside a Tokio runtime's
//! context — a `spawn_blocking` thread, or a worker thread where a blocking
//! call does not belong — a call runs on a short-lived helper thread that
//! the caller waits for (Tokio cannot start one runtime where another runs,
//! and cannot tell the two places apart), so the store works wherever
//! `SqliteStore` works, and blocks a worker as it does. Async hosts call
//! the engine through `AsyncEngine` (feature `tokio`), which keeps
//! blocking work off the runtime.
//!
//! The timeout bounds waiting (for the network, the server, a pooled
//! connection). Work on the calling thread is not cut short: a new
//! connection's SCRAM password check (a few milliseconds of hashing in a
//! release build) runs to its end once begun.

mod connection;
mod conninfo;
mod failure;
mod options;
mod pool;
mod redact;
mod schema;
mod server;
mod session;
mod store;
mod tls;

pub use options::{ConnectionPlan, PostgresCheck, PostgresOptions};
pub use redact::redact_connection_string;
pub use schema::POSTGRES_SCHEMA_VERSION;
pub use store::PostgresStore;
