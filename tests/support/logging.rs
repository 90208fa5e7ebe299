//! A store that logs every call it gets, to count what a login reads and
//! writes.

use std::sync::{Arc, Mutex};

use mail2fa::store::{CasOutcome, MemoryStore, Store, StoreError, Versioned};

/// One store call: `load` or `swap`, and the kind of record (the key's
/// 4-byte prefix: `acct`, `plat`, `clnt`, ...).
pub type Call = (&'static str, String);

/// A memory store that logs the kind of every call. Clones share the
/// records and the log.
#[derive(Clone, Default)]
pub struct Logging {
    inner: Arc<MemoryStore>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Logging {
    /// The calls logged since the last `take`.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    fn log(&self, op: &'static str, key: &[u8]) {
        let kind = String::from_utf8_lossy(&key[..key.len().min(4)]).into_owned();
        self.calls.lock().unwrap().push((op, kind));
    }
}

impl Store for Logging {
    fn load(&self, key: &[u8]) -> Result<Option<Versioned>, StoreError> {
        self.log("load", key);
        self.inner.load(key)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<u64>,
        new: Option<&[u8]>,
    ) -> Result<CasOutcome, StoreError> {
        self.log("swap", key);
        self.inner.compare_and_swap(key, expected, new)
    }
}
