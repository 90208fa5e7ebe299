//! Storage: where 2FA state lives between logins.
//!
//! Every change to a record is an atomic read-modify-write: a [`Store`] only
//! offers [`Store::load`] and [`Store::compare_and_swap`], so two auth
//! processes (or hosts, with a shared backend) can never both consume the
//! same code or both skip a lockout — the second writer's swap fails and it
//! re-reads. Records are opaque bytes to the store (the engine's versioned,
//! integrity-checked encoding), so any backend can hold them.
//!
//! Versions are assigned by the store and are never reused for a key, not
//! even after the record is deleted and created again; a stale reader can
//! therefore never overwrite a newer record (no ABA).

mod backend;
pub(crate) mod error;
pub(crate) mod limits;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod read_modify_write;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use backend::{CasOutcome, ScannedRecord, Store, Versioned};
pub(crate) use backend::{Loaded, Sealed};
pub use error::StoreError;
pub use limits::{MAX_KEY_LEN, MAX_RECORD_LEN};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::{
    ConnectionPlan, POSTGRES_SCHEMA_VERSION, PostgresCheck, PostgresOptions, PostgresStore,
    redact_connection_string,
};
pub(crate) use read_modify_write::{Change, read_modify_write, read_modify_write_from};
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::{SCHEMA_VERSION, SqliteCheck, SqliteOptions, SqliteStore, Synchronous};
