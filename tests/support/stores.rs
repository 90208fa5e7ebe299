//! The store a test suite runs on, chosen by `MAIL2FA_TEST_STORE`:
//! `memory` (the default), `sqlite` (a fresh database file per store) or
//! `postgres` (a fresh schema per store in the database named by
//! `MAIL2FA_TEST_POSTGRES`, e.g. from `scripts/pg-server.sh start`). The
//! engine's scenario suites build every engine on [`fresh_store`], so the
//! same tests prove every backend (`scripts/test-stores.sh`).

#[cfg(feature = "sqlite")]
use std::path::PathBuf;

use mail2fa::store::Store;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use mail2fa::store::{CasOutcome, ScannedRecord, StoreError, Versioned};

#[cfg(feature = "postgres")]
use super::postgres::PostgresSchema;
#[cfg(feature = "sqlite")]
use super::scratch::unique;

/// A store as the suites use it.
pub type TestStore = Box<dyn Store>;

/// The backend named by `MAIL2FA_TEST_STORE`.
pub fn backend() -> String {
    std::env::var("MAIL2FA_TEST_STORE").unwrap_or_else(|_| "memory".into())
}

/// A new, empty store of the selected backend.
pub fn fresh_store() -> TestStore {
    match backend().as_str() {
        "memory" => Box::new(mail2fa::store::MemoryStore::new()),
        #[cfg(feature = "sqlite")]
        "sqlite" => Box::new(SqliteScratch::new()),
        #[cfg(feature = "postgres")]
        "postgres" => Box::new(PostgresScratch::new()),
        other => panic!("MAIL2FA_TEST_STORE={other}: not a backend of this build"),
    }
}

/// A SQLite store in a file of its own, removed with the store.
#[cfg(feature = "sqlite")]
pub struct SqliteScratch {
    store: mail2fa::store::SqliteStore,
    dir: PathBuf,
}

#[cfg(feature = "sqlite")]
impl SqliteScratch {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("m2fa-suite"));
        std::fs::create_dir_all(&dir).unwrap();
        let store = mail2fa::store::SqliteStore::create(dir.join("state.db")).unwrap();
        Self { store, dir }
    }
}

#[cfg(feature = "sqlite")]
impl Drop for SqliteScratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL store in a schema of its own, dropped with the store.
#[cfg(feature = "postgres")]
pub struct PostgresScratch {
    // Declared first: the store's connections close before the schema is
    // dropped.
    store: mail2fa::store::PostgresStore,
    schema: PostgresSchema,
}

#[cfg(feature = "postgres")]
impl PostgresScratch {
    pub fn new() -> Self {
        let schema = PostgresSchema::new();
        // Each scratch schema is set up as an administrator does it.
        let store = mail2fa::store::PostgresStore::create(&schema.url).unwrap();
        Self { store, schema }
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! delegate_store {
    ($type:ty) => {
        impl Store for $type {
            fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
                self.store.load(key)
            }
            fn load_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Versioned>>, StoreError> {
                self.store.load_many(keys)
            }
            fn compare_and_swap(
                &self,
                key: &[u8],
                expected: Option<u64>,
                new: Option<&[u8]>,
            ) -> Result<CasOutcome, StoreError> {
                self.store.compare_and_swap(key, expected, new)
            }
            fn compare_and_swap_relaxed(
                &self,
                key: &[u8],
                expected: Option<u64>,
                new: Option<&[u8]>,
            ) -> Result<CasOutcome, StoreError> {
                self.store.compare_and_swap_relaxed(key, expected, new)
            }
            fn scan(
                &self,
                after: Option<&[u8]>,
                limit: usize,
            ) -> Result<Vec<ScannedRecord>, StoreError> {
                self.store.scan(after, limit)
            }
            fn scrub(&self) -> Result<(), StoreError> {
                self.store.scrub()
            }
        }
    };
}

#[cfg(feature = "sqlite")]
delegate_store!(SqliteScratch);
#[cfg(feature = "postgres")]
delegate_store!(PostgresScratch);
