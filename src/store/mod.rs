//! Storage: where 2FA state lives between logins.
//!
//! Every change to a record is an atomic read-modify-write: a [`Store`] only
//! offers [`Store::load`] and [`Store::compare_and_swap`], so two auth
//! processes (or hosts, with a shared backend) can never both consume the
//! same code or both skip a lockout — the second writer's swap fails and it
//! re-reads. Records are opaque bytes to the store (see [`crate::record`] for
//! their encoding), so any backend can hold them.
//!
//! Versions are assigned by the store and are never reused for a key, not
//! even after the record is deleted and created again; a stale reader can
//! therefore never overwrite a newer record (no ABA).

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use zeroize::Zeroizing;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{
    ConnectionPlan, POSTGRES_SCHEMA_VERSION, PostgresCheck, PostgresOptions, PostgresStore,
    redact_connection_string,
};
#[cfg(feature = "sqlite")]
pub use sqlite::{SCHEMA_VERSION, SqliteCheck, SqliteOptions, SqliteStore, Synchronous};

/// A record as loaded: its bytes and the version to compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The store's version of the record.
    pub version: u64,
    /// The record's encoding; it may contain secrets, hence wiped on drop.
    pub bytes: Zeroizing<Vec<u8>>,
}

/// Result of a compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// The write happened; the record now has this version (for a delete,
    /// the version the deletion consumed).
    Stored {
        /// New version.
        version: u64,
    },
    /// The record was not at the expected version: someone else wrote it
    /// first. Nothing was changed; load again and redo the decision.
    Conflict,
}

/// What can go wrong in a storage backend. Every one of these refuses the
/// login (fail closed); none is ever read as "2FA disabled".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (I/O, connection, lock poisoned by a crash...).
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// A read-modify-write kept losing the race and gave up.
    #[error("storage contention: the record kept changing, gave up after {attempts} attempts")]
    Contention {
        /// Attempts made.
        attempts: u32,
    },
    /// A key longer than [`MAX_KEY_LEN`] or a record larger than
    /// [`MAX_RECORD_LEN`].
    #[error("key or record too large for the store")]
    TooLarge,
    /// The store cannot list its records (maintenance needs [`Store::scan`]).
    #[error("this store cannot list its records")]
    Unsupported,
}

/// A record as listed by [`Store::scan`]: its key and its versioned bytes.
pub type ScannedRecord = (Vec<u8>, Versioned);

/// Longest key accepted by the built-in stores, in bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// Largest record accepted by the built-in stores, in bytes.
pub const MAX_RECORD_LEN: usize = 64 * 1024;

/// A place to keep records, with atomic compare-and-swap per key.
///
/// Implementations must be linearizable per key: a `compare_and_swap` that
/// returns [`CasOutcome::Stored`] happened after every write it observed and
/// before every load that sees it. They must be safe to call from many
/// threads at once.
pub trait Store: Send + Sync {
    /// The record under `key`, or `None` if there is none.
    ///
    /// # Errors
    /// [`StoreError`] if the backend cannot answer; callers refuse the login.
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError>;

    /// Replaces the record under `key` with `new` (`None` deletes it), but
    /// only if its current version is `expected` (`None`: only if there is no
    /// record).
    ///
    /// # Errors
    /// [`StoreError`] if the backend fails; then nothing may have been written.
    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError>;

    /// At most `limit` records whose key is after `after` (all when `None`),
    /// in key order — for maintenance, which walks the store in bounded
    /// batches. Stores that cannot list keep the default.
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] by default; backend errors.
    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        let _ = (after, limit);
        Err(StoreError::Unsupported)
    }

    /// Makes what deleted and overwritten records held (old secrets) leave
    /// the backend's files now rather than at some later maintenance: the
    /// engine calls it after removing or resetting an account. A store that
    /// keeps nothing behind keeps the default (nothing to do).
    ///
    /// # Errors
    /// Backend errors (the records themselves are already gone or replaced).
    fn scrub(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A boxed store is a store: hosts choose the backend at run time
/// (`Engine<Box<dyn Store>>`), as the C library does.
impl<T: Store + ?Sized> Store for Box<T> {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        (**self).load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        (**self).compare_and_swap(key, expected, new)
    }

    fn scan(&self, after: Option<&[u8]>, limit: usize) -> Result<Vec<ScannedRecord>, StoreError> {
        (**self).scan(after, limit)
    }

    fn scrub(&self) -> Result<(), StoreError> {
        (**self).scrub()
    }
}

/// The limits every built-in store enforces before a compare-and-swap.
///
/// # Errors
/// [`StoreError::TooLarge`] for a key over [`MAX_KEY_LEN`] or a record
/// over [`MAX_RECORD_LEN`].
pub(crate) fn check_sizes(key: &[u8], new: Option<&[u8]>) -> Result<(), StoreError> {
    if key.len() > MAX_KEY_LEN || new.is_some_and(|b| b.len() > MAX_RECORD_LEN) {
        return Err(StoreError::TooLarge);
    }
    Ok(())
}

/// What a read-modify-write step decided.
#[derive(Debug)]
pub enum Change<T> {
    /// Write these bytes (or delete, with `None`) and return the value.
    Write(Option<Zeroizing<Vec<u8>>>, T),
    /// Change nothing and return the value.
    Keep(T),
}

/// Runs `decide` on the current record and stores its decision atomically,
/// retrying from a fresh read when another writer got there first, at most
/// `max_attempts` times. `decide` must be a pure function of the record (it
/// may run several times); its value is returned only once the write (if
/// any) has been stored.
///
/// # Errors
/// `decide`'s own errors; [`StoreError::Contention`] after `max_attempts`
/// conflicts; backend errors.
pub fn read_modify_write<T, E>(
    store: &dyn Store,
    key: &[u8],
    max_attempts: u32,
    mut decide: impl FnMut(Option<&[u8]>) -> Result<Change<T>, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    for _ in 0..max_attempts {
        let current = store.load(key)?;
        let change = decide(current.as_ref().map(|r| r.bytes.as_slice()))?;
        match change {
            Change::Keep(value) => return Ok(value),
            Change::Write(bytes, value) => {
                let expected = current.as_ref().map(|r| r.version);
                match store.compare_and_swap(key, expected, bytes.as_deref().map(Vec::as_slice))? {
                    CasOutcome::Stored { .. } => return Ok(value),
                    CasOutcome::Conflict => continue,
                }
            }
        }
    }
    Err(StoreError::Contention {
        attempts: max_attempts,
    }
    .into())
}
