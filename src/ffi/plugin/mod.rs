//! PostgreSQL as a plugin: the C library (libmail2fa.so, libmail2fa.a and
//! the modules linked with it) carries no PostgreSQL client; when a
//! PostgreSQL store is asked for (`m2fa_engine_open_postgres`, a
//! configuration file naming `store.postgres_connection`) it loads
//! `libmail2fa-postgres.so`, which holds `PostgresStore` with its client
//! (tokio-postgres, Tokio, rustls) — as Dovecot ships its SQL drivers.
//!
//! * [`abi`]: the table the plugin hands over, the one contract between
//!   the two objects (checked: the same ABI and the same mail2fa version);
//! * `export` (feature `postgres-plugin-export`, built into the plugin by
//!   plugins/postgres): the plugin's entry point, `m2fa_postgres_plugin_v1`;
//! * `locate`, `loader` and `store` (feature `postgres-plugin`, the C
//!   library): where the plugin is looked for and who must control it,
//!   loading it once per process and checking its table, and the
//!   [`Store`](crate::store::Store) over its functions.
//!
//! Rust programs with the `postgres` feature (the operator's tool) link
//! `PostgresStore` directly; where both features are on, the C library's
//! openers use the linked store, and the loader is left to its tests.

// With `postgres` linked in as well, nothing but the tests calls the loader.
#![cfg_attr(feature = "postgres", allow(dead_code, unused_imports))]

pub(crate) mod abi;
#[cfg(feature = "postgres-plugin-export")]
mod export;
#[cfg(all(test, feature = "postgres-plugin"))]
mod fake;
#[cfg(feature = "postgres-plugin")]
mod loader;
#[cfg(feature = "postgres-plugin")]
mod locate;
#[cfg(feature = "postgres-plugin")]
mod store;

#[cfg(feature = "postgres-plugin")]
pub(crate) use loader::PluginError;
#[cfg(feature = "postgres-plugin")]
pub(crate) use store::{OpenError, PostgresOptions, open_postgres, plan_and_redact};
